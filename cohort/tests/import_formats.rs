//! Fixtures with the same content in FHIR NDJSON, a FHIR Bundle, OMOP CSV and plain CSV
//! (and Apple Health vs plain CSV) import into the same cohort and history; broken inputs
//! are refused record by record, counted and reported.
#![allow(clippy::disallowed_methods)] // the platform libm as a reference (clippy.toml)

mod common;

use std::fs;

use cohort::import::apple::ApplePerson;
use cohort::import::{apple, fhir, omop, plain, HistoryRow, ImportError, ImportResult, Importer};
use common::{assert_accounted, fixtures, import, import_with};
use engine::{Conditions, Sex, Treatments};

fn read_fhir_dir(imp: &mut Importer, dir: &str) -> Result<(), ImportError> {
    let mut files: Vec<_> = fs::read_dir(fixtures().join(dir))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    for (f, position) in files.iter().zip(1..) {
        if f.extension().is_some_and(|e| e == "json") {
            fhir::read_bundle(imp, f, position)?;
        } else {
            fhir::read_ndjson(imp, f, position)?;
        }
    }
    Ok(())
}

/// A comparable cohort: rounded values, no `sources`.
fn cohort_view(r: &ImportResult, with_smoking: bool) -> Vec<String> {
    r.people
        .iter()
        .map(|p| {
            let c = &p.baseline.covariates;
            let cont: Vec<String> = c.continuous().iter().map(|v| format!("{v:.9}")).collect();
            let mut imputed = p.imputed.to_vec();
            if !with_smoking {
                imputed.pop();
            }
            format!(
                "{} {:?} {:.9} {} smoker={} c={} t={} imputed={:?} first={} last={}",
                p.pseudo_id,
                p.baseline.sex,
                p.baseline.age_years,
                cont.join(","),
                if with_smoking {
                    c.smoker.to_string()
                } else {
                    "-".into()
                },
                c.conditions.0,
                c.treatments.0,
                imputed,
                p.first_record_days,
                p.last_record_days
            )
        })
        .collect()
}

fn history_view(r: &ImportResult, with_smoking: bool) -> Vec<String> {
    r.history_rows()
        .unwrap()
        .into_iter()
        .filter(|h: &HistoryRow| with_smoking || h.measure != "smoker")
        .map(|h| {
            format!(
                "{} {} {} {:.9} {} {:.6}",
                h.patient_id, h.measure, h.minute, h.value, h.unit, h.age_years
            )
        })
        .collect()
}

fn person<'a>(r: &'a ImportResult, raw: &str) -> &'a cohort::import::ImportedPerson {
    let p = common::key().pseudonym(raw);
    let text = cohort::import::pseudo::pseudonym_text(&p);
    r.people
        .iter()
        .find(|x| x.pseudo_id == text)
        .unwrap_or_else(|| panic!("person {raw} not included"))
}

#[test]
fn same_content_gives_the_same_cohort_in_every_format() {
    let ndjson = import(|imp| read_fhir_dir(imp, "fhir_ndjson"));
    let bundle = import(|imp| read_fhir_dir(imp, "fhir_bundle"));
    let omop = import(|imp| omop::read_dir(imp, &fixtures().join("omop"), 1));
    let csv = import(|imp| plain::read_dir(imp, &fixtures().join("csv"), 1));
    for r in [&*ndjson, &*bundle, &*omop, &*csv] {
        assert_accounted(r);
        assert_eq!(r.people.len(), 3, "{:?}", r.quality.persons);
        assert_eq!(r.quality.errors.total, 0, "{:?}", r.quality.errors.first);
    }
    assert_eq!(cohort_view(&ndjson, true), cohort_view(&bundle, true));
    assert_eq!(cohort_view(&ndjson, true), cohort_view(&csv, true));
    assert_eq!(history_view(&ndjson, true), history_view(&bundle, true));
    assert_eq!(history_view(&ndjson, true), history_view(&csv, true));
    // OMOP's minimal tables carry no smoking status.
    assert_eq!(cohort_view(&ndjson, false), cohort_view(&omop, false));
    assert_eq!(history_view(&ndjson, false), history_view(&omop, false));

    // The shared content, checked against the conversions by hand.
    let a = person(&ndjson, "73519001");
    let c = a.baseline.covariates;
    assert_eq!(a.baseline.sex, Sex::Male);
    assert!((c.ldl_mg_dl - 3.62 * 38.67).abs() < 1e-9);
    // TC by Friedewald: LDL + HDL + TG/5.
    assert!((c.tc_mg_dl - (3.62 * 38.67 + 48.0 + 160.0 / 5.0)).abs() < 1e-9);
    assert_eq!((c.sbp_mmhg, c.dbp_mmhg, c.hba1c_pct), (148.0, 92.0, 7.2));
    assert!(c.smoker);
    assert!(c.conditions.contains(Conditions::DIABETES));
    assert!(c.conditions.contains(Conditions::HYPERTENSION));
    assert!(c.treatments.contains(Treatments::GLUCOSE_LOWERING));
    assert!(a.imputed[9] && a.imputed[10] && !a.imputed[2]);
    let age = (cohort::import::date::parse("2024-04-01").unwrap().day
        - cohort::import::date::parse("1958-05-12").unwrap().day) as f64
        / 365.2425;
    assert!((a.baseline.age_years - age).abs() < 1e-12);

    let b = person(&ndjson, "73519002");
    let c = b.baseline.covariates;
    assert!((c.hba1c_pct - engine::units::hba1c_jds_to_ngsp(6.1)).abs() < 1e-12);
    assert!((c.fpg_mg_dl - 5.9 * 18.016).abs() < 1e-9);
    assert!((c.bmi_kg_m2 - 52.3 / (1.51f64 * 1.51)).abs() < 1e-9);
    let age = b.baseline.age_years;
    let egfr = 194.0 * 0.78f64.powf(-1.094) * age.powf(-0.287) * 0.739;
    assert!((c.egfr_ml_min - egfr).abs() < 1e-9);
    assert!(!c.smoker && !b.imputed[11]);
    assert!(c.conditions.contains(Conditions::STROKE));
    assert!(c.treatments.contains(Treatments::LIPID_LOWERING));
    // Amlodipine prescribed 11 months before the index date: outside the 180-day window.
    assert!(!c.treatments.contains(Treatments::ANTIHYPERTENSIVE));
    assert_eq!(ndjson.quality.hba1c_jds_converted, 1);

    // Two readings at the same time are averaged.
    let e = person(&ndjson, "73519005");
    assert_eq!(e.baseline.covariates.sbp_mmhg, 136.0);
    assert!(e
        .baseline
        .covariates
        .conditions
        .contains(Conditions::HEART_FAILURE));
    assert!(e.imputed[0] && e.imputed[1]);

    // Opt-out and death before the index date exclude, and are counted.
    let ex = &ndjson.quality.persons.excluded;
    assert_eq!(
        ex.get("research opt-out (Consent deny or CSV flag)"),
        Some(&1)
    );
    assert_eq!(ex.get("died on or before the index date"), Some(&1));
    assert_eq!(csv.quality.persons.excluded.values().sum::<u64>(), 2);
    // People are ordered by pseudonym and numbered densely.
    let ids: Vec<&String> = ndjson.people.iter().map(|p| &p.pseudo_id).collect();
    let mut sorted = ids.clone();
    sorted.sort();
    assert_eq!(ids, sorted);
    assert!(ndjson
        .people
        .iter()
        .enumerate()
        .all(|(i, p)| p.baseline.id == i as u64));
}

#[test]
fn apple_health_export_matches_its_plain_csv_equivalent() {
    let apple = import(|imp| {
        apple::read_file(
            imp,
            &fixtures().join("apple/export.xml"),
            1,
            ApplePerson::Id("73519006"),
        )
    });
    let csv = import(|imp| plain::read_dir(imp, &fixtures().join("csv_apple"), 1));
    assert_accounted(&apple);
    assert_eq!(
        apple.quality.errors.total, 0,
        "{:?}",
        apple.quality.errors.first
    );
    assert_eq!(apple.people.len(), 1);
    let view = |r: &ImportResult| -> Vec<String> {
        r.history_rows()
            .unwrap()
            .into_iter()
            .map(|h| format!("{} {} {:.9}", h.measure, h.minute, h.value))
            .collect()
    };
    assert_eq!(view(&apple), view(&csv));
    assert_eq!(cohort_view(&apple, true), cohort_view(&csv, true));
    let p = &apple.people[0];
    let c = p.baseline.covariates;
    // iPhone and Watch overlap: per hour the larger source, so 2100 + 1500 + 3000 and 4500.
    assert_eq!(c.steps_per_day, (6600.0 + 4500.0) / 2.0);
    assert_eq!(c.bmi_kg_m2, 24.3);
    assert_eq!((c.sbp_mmhg, c.dbp_mmhg), (132.0, 84.0));
    let weight: Vec<f64> = apple
        .history_rows()
        .unwrap()
        .iter()
        .filter(|h| h.measure == "weight_kg")
        .map(|h| h.value)
        .collect();
    assert_eq!(weight, vec![60.5, 132.0 * 0.453_592_37]);
    // The BP reading inside its Correlation and alone is one reading.
    let sbp = apple
        .history_rows()
        .unwrap()
        .iter()
        .filter(|h| h.measure == "sbp_mmhg")
        .count();
    assert_eq!(sbp, 1);
}

#[test]
fn broken_fhir_lines_are_refused_one_by_one_and_counted() {
    let r = import(|imp| read_fhir_dir(imp, "broken/fhir"));
    assert_accounted(&r);
    let q = &r.quality;
    let kinds = &q.errors.by_kind;
    for k in [
        "malformed_json",
        "missing_subject",
        "implausible_value",
        "wrong_encoding",
        "unknown_unit",
        "bad_date",
    ] {
        assert_eq!(kinds.get(k), Some(&1), "{k}: {kinds:?}");
    }
    let msgs = q.errors.first.join("\n");
    assert!(
        msgs.contains("fhir input #1, line 3: `-`: truncated JSON"),
        "{msgs}"
    );
    assert!(
        msgs.contains("line 6: `value`: sbp_mmhg: outside the plausible range"),
        "{msgs}"
    );
    assert!(
        !msgs.contains("1200"),
        "the refused value is not repeated: {msgs}"
    );
    assert!(msgs.contains("line 7"), "{msgs}");
    for secret in ["伊藤", "73519007", "73519008", "Müller", "MRN-4471"] {
        assert!(!msgs.contains(secret), "{secret} in {msgs}");
        assert!(!q.to_json().contains(secret), "{secret} in the report");
    }
    let unmapped: Vec<(String, String)> = q
        .unmapped_codes
        .iter()
        .map(|c| (c.system.clone(), c.code.clone()))
        .collect();
    assert_eq!(unmapped, [("loinc".to_string(), "1742-6".to_string())]);
    // A name in a LOINC code field is counted, never shown.
    assert_eq!(q.unmapped_codes_not_shown.len(), 1);
    assert_eq!(q.unmapped_codes_not_shown[0].system, "loinc");
    assert_eq!(q.unmapped_codes_not_shown[0].count, 1);
    assert_eq!(q.unmapped_codes_distinct, 2);
    assert_eq!(q.unit_corrections.len(), 1);
    assert_eq!(q.unit_corrections[0].measure, "fpg_mg_dl");
    assert_eq!(q.unit_corrections[0].assumed, "mmol/l");
    assert_eq!(q.history.duplicates_dropped, 1);
    assert_eq!(q.history.duplicates_by_measure.get("hba1c_pct"), Some(&1));
    let input = &q.inputs[0];
    assert_eq!(input.records_read, 14);
    assert_eq!(input.ignored, 2); // entered-in-error, AllergyIntolerance
    assert_eq!(input.unmapped, 2);
    assert_eq!(input.errors, 6);
    // The corrected glucose is used: 5.4 mmol/L.
    let p = &r.people[0];
    assert!((p.baseline.covariates.fpg_mg_dl - 5.4 * 18.016).abs() < 1e-9);
}

#[test]
fn strict_mode_stops_at_the_first_refused_record() {
    let (r, _dir) = import_with(|o| o.strict = true, |imp| read_fhir_dir(imp, "broken/fhir"));
    match r {
        Err(ImportError::Strict(e)) => {
            assert_eq!(e.line, 3);
            assert_eq!(e.kind, "malformed_json");
            assert!(!e.to_string().contains("73519007"));
        }
        Err(e) => panic!("{e}"),
        Ok(_) => panic!("strict mode accepted a malformed line"),
    }
    // The clean fixtures pass in strict mode.
    let (r, _dir) = import_with(
        |o| o.strict = true,
        |imp| plain::read_dir(imp, &fixtures().join("csv"), 1),
    );
    assert!(r.is_ok());
}

#[test]
fn truncated_xml_keeps_what_was_read_and_reports_the_rest() {
    let r = import(|imp| {
        apple::read_file(
            imp,
            &fixtures().join("broken/export_truncated.xml"),
            1,
            ApplePerson::Id("73519006"),
        )
    });
    assert_accounted(&r);
    assert_eq!(r.quality.errors.by_kind.get("xml_error"), Some(&1));
    assert!(r.quality.errors.first[0].contains("apple input #1, line 2"));
    assert_eq!(r.people.len(), 1);
    // The steps before the cut are kept (the BMI record after it is not).
    assert_eq!(r.people[0].baseline.covariates.steps_per_day, 5550.0);
    assert!(r.people[0].imputed[0]);
}

#[test]
fn broken_plain_csv_rows_are_refused_one_by_one() {
    let r = import(|imp| plain::read_dir(imp, &fixtures().join("broken/csvdir"), 1));
    assert_accounted(&r);
    let k = &r.quality.errors.by_kind;
    assert_eq!(k.get("bad_date"), Some(&2), "{k:?}"); // birth 1951-31-31, record date
    assert_eq!(k.get("bad_number"), Some(&1), "{k:?}");
    assert_eq!(k.get("missing_subject"), Some(&1), "{k:?}");
    assert_eq!(k.get("wrong_encoding"), Some(&1), "{k:?}");
    assert_eq!(k.get("bad_flag"), Some(&1), "{k:?}");
    // A plain-CSV item has no code syntax: counted, not shown.
    assert!(r.quality.unmapped_codes.is_empty());
    assert_eq!(r.quality.unmapped_codes_not_shown[0].system, "csv_item");
    assert_eq!(
        r.quality
            .persons
            .excluded
            .get("sex not recorded as male or female"),
        Some(&1)
    );
    assert_eq!(r.people.len(), 1);
    assert_eq!(r.people[0].baseline.covariates.sbp_mmhg, 126.0);
}

#[test]
fn small_sort_runs_give_the_same_history() {
    let big = import(|imp| read_fhir_dir(imp, "fhir_ndjson"));
    let (small, _d) = import_with(
        |o| o.sort_run_records = 3,
        |imp| read_fhir_dir(imp, "fhir_ndjson"),
    );
    let small = small.unwrap();
    assert_eq!(history_view(&big, true), history_view(&small, true));
    assert!(big.quality.history.rows_written > 20);
}

#[test]
fn imputation_off_excludes_people_with_gaps() {
    let (r, _d) = import_with(
        |o| o.impute = cohort::import::Impute::None,
        |imp| plain::read_dir(imp, &fixtures().join("csv"), 1),
    );
    let r = r.unwrap();
    assert_accounted(&r);
    assert!(r.people.is_empty());
    assert_eq!(
        r.quality
            .persons
            .excluded
            .get("a covariate is missing (--impute none)"),
        Some(&3)
    );
}

/// A Bundle nested `depth` times in Bundle entries around one Patient, as one NDJSON line.
fn nested_bundle(depth: usize) -> String {
    let open = r#"{"resourceType":"Bundle","entry":[{"resource":"#;
    let patient = r#"{"resourceType":"Patient","id":"nested-1","gender":"male"}"#;
    format!("{}{patient}{}", open.repeat(depth), "}]}".repeat(depth))
}

/// Found while writing the fuzz targets (`fuzz/`; the fuzzers' inputs are too short to reach
/// it): each Bundle in a Bundle entry was parsed and read by a recursive call, so deep
/// nesting overflowed the stack (and re-parsed the rest of the line at every level).
/// Nesting beyond 8 levels is one refused record.
#[test]
fn deeply_nested_bundles_are_refused_not_a_stack_overflow() {
    let line = nested_bundle(50_000);
    let r = import(|imp| {
        let name = cohort::import::InputName::new(cohort::import::Format::Fhir, 1);
        let i = imp.add_input(name, line.len() as u64);
        fhir::read_ndjson_from(imp, std::io::Cursor::new(line.as_bytes()), i)
    });
    assert_accounted(&r);
    let q = &r.quality;
    assert_eq!(
        q.errors.by_kind.get("nested_bundle"),
        Some(&1),
        "{:?}",
        q.errors
    );
    assert!(
        q.errors.first[0]
            .starts_with("fhir input #1, entry 1: `entry`: a Bundle nested more than 8"),
        "{:?}",
        q.errors.first
    );
    // A shallow nesting is read as before: the Patient is found.
    let r = import(|imp| {
        let line = nested_bundle(3);
        let name = cohort::import::InputName::new(cohort::import::Format::Fhir, 1);
        let i = imp.add_input(name, line.len() as u64);
        fhir::read_ndjson_from(imp, std::io::Cursor::new(line.as_bytes()), i)
    });
    assert_eq!(r.quality.persons.seen, 1);
    assert_eq!(r.quality.errors.total, 0);
}
