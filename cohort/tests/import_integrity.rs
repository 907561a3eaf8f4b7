//! Data integrity of an import (issue 17, item 9): records in the future are refused and
//! counted, records after the index date stay out of the baseline and are counted, a death
//! before birth excludes the person, and Apple step sources cannot wrap.

mod common;

use std::io::Cursor;

use cohort::import::csvutil::CsvTable;
use cohort::import::{apple, date, fhir, plain, Format, Importer, InputName};
use common::{assert_accounted, import_with};

fn day(s: &str) -> i32 {
    date::parse(s).unwrap().day
}

fn csv(imp: &mut Importer, which: &'static str, text: &str) {
    let input = imp.add_input(
        InputName::new(Format::Csv, 1).with_part(which),
        text.len() as u64,
    );
    let t = CsvTable::from_reader(Cursor::new(text.as_bytes().to_vec()), which).unwrap();
    plain::read_table(imp, which, t, input).unwrap();
}

#[test]
fn future_dates_are_refused_and_later_ones_kept_out_of_the_baseline() {
    let (r, _d) = import_with(
        |o| o.today_day = day("2025-01-01"),
        |imp| {
            csv(
                imp,
                "persons",
                "person_id,sex,birth_date,death_date\n\
                 p1,male,1950-01-01,\n\
                 p2,female,1960-01-01,1950-01-01\n\
                 p3,female,2099-01-01,\n\
                 p4,male,1950-01-01,2099-05-05\n",
            );
            csv(
                imp,
                "records",
                "person_id,date,item,value,unit\n\
                 p1,2024-02-01,hba1c_pct,6.1,%\n\
                 p1,2024-06-01,hba1c_pct,7.9,%\n\
                 p1,2099-01-01,hba1c_pct,8.8,%\n\
                 p1,2099-01-01,dx_diabetes,1,\n\
                 p1,2025-01-02,sbp_mmhg,120,mmHg\n",
            );
            let ndjson = r#"{"resourceType":"Encounter","subject":{"reference":"Patient/p1"},"period":{"start":"2099-03-01"}}
{"resourceType":"Encounter","subject":{"reference":"Patient/p1"},"period":{"start":"2024-01-01"}}"#;
            let input = imp.add_input(InputName::new(Format::Fhir, 1), 0);
            fhir::read_ndjson_from(imp, Cursor::new(ndjson), input)?;
            let xml = r#"<HealthData><Record type="HKQuantityTypeIdentifierBodyMass" sourceName="s" unit="kg" startDate="2099-01-01 08:00:00 +0900" value="70"/></HealthData>"#;
            let input = imp.add_input(InputName::new(Format::Apple, 1), 0);
            apple::read_from(imp, Cursor::new(xml), input, "p1")
        },
    );
    let r = r.unwrap();
    assert_accounted(&r);
    let q = &r.quality;
    // 2099: the HbA1c, the diagnosis, the encounter, the Apple weight, p3's birth, p4's death.
    assert_eq!(q.dates.refused_in_future, 6, "{:?}", q.errors.first);
    assert_eq!(q.errors.by_kind.get("future_date"), Some(&6));
    assert_eq!(q.dates.import_date, "2025-01-01");
    // 2024-06-01 and 2025-01-02 (the import date plus the one-day allowance) are kept
    // in the history but not in the baseline.
    assert_eq!(q.dates.after_index_date, 2);
    let ex = &q.persons.excluded;
    assert_eq!(ex.get("death date before birth date"), Some(&1), "{ex:?}");
    assert_eq!(
        ex.get("no person record (Patient, person row, Apple Me, persons.csv)"),
        Some(&2),
        "{ex:?}"
    );
    assert_eq!(r.people.len(), 1);
    let p = &r.people[0];
    assert_eq!(p.baseline.covariates.hba1c_pct, 6.1);
    assert!(!p
        .baseline
        .covariates
        .conditions
        .contains(engine::Conditions::DIABETES));
    assert_eq!(p.last_record_days, day("2025-01-02") - day("2024-04-01"));
    assert_eq!(p.first_record_days, day("2024-01-01") - day("2024-04-01"));
    for h in r.history_rows().unwrap() {
        assert!(h.age_years < 76.0, "{h:?}");
    }
}

/// The per-hour maximum over Apple step sources held source indices in 16 bits: source
/// 65,537 became source 1 and their steps were added instead of maximised.
#[test]
fn apple_step_sources_beyond_65536_stay_distinct() {
    let mut xml = String::from(
        r#"<HealthData><Me HKCharacteristicTypeIdentifierDateOfBirth="1950-01-01" HKCharacteristicTypeIdentifierBiologicalSex="HKBiologicalSexMale"/>"#,
    );
    for s in 0..65_537u32 {
        let value = if s == 0 || s == 65_536 { 100 } else { 1 };
        xml.push_str(&format!(
            "<Record type=\"HKQuantityTypeIdentifierStepCount\" sourceName=\"s{s}\" unit=\"count\" startDate=\"2024-03-30 08:00:00 +0900\" value=\"{value}\"/>\n"
        ));
    }
    xml.push_str("</HealthData>");
    let (r, _d) = import_with(
        |_| {},
        |imp| {
            let input = imp.add_input(InputName::new(Format::Apple, 1), xml.len() as u64);
            apple::read_from(imp, Cursor::new(xml.as_bytes()), input, "p1")
        },
    );
    let r = r.unwrap();
    assert_accounted(&r);
    assert_eq!(r.people[0].baseline.covariates.steps_per_day, 100.0);
}
