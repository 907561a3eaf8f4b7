//! The import's building blocks through their public API: the code map, unit conversion
//! and plausibility, dates, measures and pseudonyms. (Whole imports: `import_formats.rs`,
//! `import_fuzz.rs`.)

mod codes {
    use cohort::import::codes::{shown_code, CodeMap, System, Target};
    use cohort::import::measure::{ClinicalMeasure, Flag};

    #[test]
    fn embedded_map_parses_and_resolves_both_jlac10_forms_and_prefixes() {
        let map = CodeMap::embedded();
        assert!(map.len() > 100);
        let mut out = Vec::new();
        map.lookup(System::Jlac10, "3D046000001906202", &mut out);
        assert_eq!(out[0].target, Target::Measure(ClinicalMeasure::Hba1cPct));
        map.lookup(System::Jlac10, "3D045000001906202", &mut out);
        assert_eq!(out[0].target, Target::Measure(ClinicalMeasure::Hba1cJdsPct));
        map.lookup(System::Jlac10, "3D010129901926101", &mut out);
        assert_eq!(
            out[0].target,
            Target::Measure(ClinicalMeasure::GlucoseCasualMgDl)
        );
        // Reason-text creatinine code is not a value.
        map.lookup(System::Jlac10, "3C015161002399949", &mut out);
        assert!(out.is_empty());
        assert_eq!(
            System::from_fhir_uri("urn:oid:1.2.392.200119.4.504"),
            System::from_fhir_uri("http://medis.or.jp/CodeSystem/master-JLAC10-17digits")
        );
        // ICD-10 with and without the dot; I11.0 is both hypertension and heart failure.
        map.lookup(System::Icd10, "I11.0", &mut out);
        let targets: Vec<Target> = out.iter().map(|m| m.target).collect();
        assert!(targets.contains(&Target::Flag(Flag::HxHeartFailure)));
        assert!(targets.contains(&Target::Flag(Flag::DxHypertension)));
        map.lookup(System::Icd10, "e119", &mut out);
        assert_eq!(out[0].target, Target::Flag(Flag::DxDiabetes));
        map.lookup(System::Yj, "3962002F1029", &mut out);
        assert_eq!(out[0].target, Target::Flag(Flag::RxGlucoseLowering));
        map.lookup(System::Loinc, "99999-9", &mut out);
        assert!(out.is_empty());
    }

    #[test]
    fn extra_rows_extend_the_map_and_bad_rows_name_their_line() {
        let mut map = CodeMap::embedded();
        map.extend_from_str(
            "# local codes\nhot9,exact,123456701,rx_lipid_lowering,,[A],local\n",
            "extra.csv",
        )
        .unwrap();
        let mut out = Vec::new();
        map.lookup(System::Hot9, "123456701", &mut out);
        assert_eq!(out[0].target, Target::Flag(Flag::RxLipidLowering));
        let e = map
            .extend_from_str("\nloinc,exact,1-1,not_a_target\n", "extra.csv")
            .unwrap_err();
        assert_eq!(e.line, 2);
        assert!(e.to_string().contains("column `target`"), "{e}");
        // A patient list given by mistake: the line and column, never the field.
        let e = map
            .extend_from_str(
                "person_id,name,x,y
73519001,山田太郎,a,b
",
                "--codes #1",
            )
            .unwrap_err();
        assert_eq!(e.line, 1);
        let text = e.to_string();
        assert!(
            text.contains("--codes #1, line 1: column `system`"),
            "{text}"
        );
        assert!(
            !text.contains("person_id") && !text.contains("73519001"),
            "{text}"
        );
    }

    #[test]
    fn only_codes_with_their_systems_syntax_are_shown() {
        assert_eq!(shown_code("loinc", "4548-4").as_deref(), Some("4548-4"));
        assert_eq!(shown_code("loinc", "山田 太郎"), None);
        assert_eq!(shown_code("loinc", "YAMADA-TARO"), None);
        assert_eq!(shown_code("loinc", &"9".repeat(41)), None);
        assert_eq!(
            shown_code("snomed", "77176002").as_deref(),
            Some("77176002")
        );
        assert_eq!(shown_code("snomed", "77176003"), None);
    }
}

mod units {
    use cohort::import::measure::ClinicalMeasure;
    use cohort::import::units::{convert, normalise_unit, Converted};
    use engine::units::hba1c_jds_to_ngsp;

    fn norm(u: &str) -> String {
        let mut s = String::new();
        normalise_unit(u, &mut s);
        s
    }

    #[test]
    fn published_conversions() {
        assert_eq!(
            convert(ClinicalMeasure::FpgMgDl, 5.5, &norm("mmol/L")),
            Converted::Ok(5.5 * 18.016)
        );
        assert_eq!(
            convert(ClinicalMeasure::WeightKg, 150.0, &norm("[lb_av]")),
            Converted::Ok(150.0 * 0.453_592_37)
        );
        assert_eq!(
            convert(ClinicalMeasure::SbpMmhg, 128.0, &norm("mm[Hg]")),
            Converted::Ok(128.0)
        );
        assert_eq!(
            convert(ClinicalMeasure::EgfrMlMin, 71.0, &norm("mL/min/{1.73_m2}")),
            Converted::Ok(71.0)
        );
        assert_eq!(
            convert(ClinicalMeasure::Hba1cJdsPct, 6.1, "%"),
            Converted::Ok(hba1c_jds_to_ngsp(6.1))
        );
    }

    #[test]
    fn wrong_units_are_detected_by_plausibility() {
        // A mmol/L glucose labelled mg/dL.
        match convert(ClinicalMeasure::FpgMgDl, 5.6, "mg/dl") {
            Converted::Corrected { value, assumed } => {
                assert_eq!(assumed, "mmol/l");
                assert!((value - 100.89).abs() < 0.01);
            }
            other => panic!("{other:?}"),
        }
        // A cholesterol without a unit, in mmol/L.
        assert!(matches!(
            convert(ClinicalMeasure::LdlMgDl, 3.1, ""),
            Converted::Corrected { .. }
        ));
        // Plausible in the declared unit: never second-guessed.
        assert_eq!(
            convert(ClinicalMeasure::WeightKg, 154.0, "kg"),
            Converted::Ok(154.0)
        );
        // Impossible in every unit.
        assert!(matches!(
            convert(ClinicalMeasure::SbpMmhg, 1200.0, "mmhg"),
            Converted::Implausible { .. }
        ));
        assert_eq!(
            convert(ClinicalMeasure::SbpMmhg, 120.0, "kpa"),
            Converted::UnknownUnit
        );
        assert!(matches!(
            convert(ClinicalMeasure::HeartRateBpm, f64::NAN, ""),
            Converted::Implausible { .. }
        ));
    }
}

mod date {
    use cohort::import::date::{
        birth_day, civil_from_days, days_from_civil, format_day, parse, Precision,
    };

    #[test]
    fn round_trip_and_formats() {
        for day in [-800_000, -1, 0, 1, 19_000, 20_000, 2_000_000] {
            let (y, m, d) = civil_from_days(day);
            assert_eq!(days_from_civil(y, m, d), day);
        }
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(format_day(days_from_civil(2024, 2, 29)), "2024-02-29");
        let a = parse("2023-04-01T08:30:00+09:00").unwrap();
        let b = parse("2023-04-01 08:30:00 +0900").unwrap();
        let c = parse("2023/04/01").unwrap();
        assert_eq!(a, b);
        assert_eq!(a.day, c.day);
        assert_eq!(a.minute, 510);
        assert_eq!(parse("20230401").unwrap().day, c.day);
        assert_eq!(parse("1950").unwrap().precision, Precision::Year);
        for bad in [
            "",
            "2023-02-30",
            "2023-13-01",
            "abc",
            "2023-04-01T25:00",
            "-2023",
            "2023-04-01Tx",
        ] {
            assert!(parse(bad).is_none(), "{bad}");
        }
        assert_eq!(birth_day("1950").unwrap(), days_from_civil(1950, 7, 1));
        assert_eq!(birth_day("1950-03").unwrap(), days_from_civil(1950, 3, 15));
    }
}

mod measure {
    use cohort::file::PLAUSIBLE;
    use cohort::import::measure::{ClinicalMeasure, Flag};
    use engine::{Conditions, Treatments};

    #[test]
    fn covariate_ranges_are_the_cohort_readers_ranges() {
        for (name, lo, hi) in PLAUSIBLE {
            if let Some(m) = ClinicalMeasure::parse(name) {
                assert_eq!(m.plausible(), (lo, hi), "{name}");
            }
        }
        assert_eq!(ClinicalMeasure::Hba1cPct.plausible(), (3.0, 20.0));
        assert_eq!(ClinicalMeasure::WeightKg.plausible(), (20.0, 300.0));
        // Flag names are the cohort file's column names.
        for (_, name) in Conditions::ALL {
            assert!(Flag::parse(name).is_some(), "{name}");
        }
        for (_, name) in Treatments::ALL {
            assert!(Flag::parse(name).is_some(), "{name}");
        }
    }
}

mod pseudo {
    use cohort::import::pseudo::{pseudonym_text, KeyError, Pseudonymiser};

    #[test]
    fn keyed_stable_and_refuses_weak_keys() {
        let a = Pseudonymiser::new(&[7u8; 32]).unwrap();
        let b = Pseudonymiser::new(&[8u8; 32]).unwrap();
        assert_eq!(a.pseudonym("12345"), a.pseudonym(" 12345 "));
        assert_ne!(a.pseudonym("12345"), a.pseudonym("12346"));
        assert_ne!(a.pseudonym("12345"), b.pseudonym("12345"));
        assert_ne!(a.fingerprint(), b.fingerprint());
        assert!(matches!(
            Pseudonymiser::new(b"short"),
            Err(KeyError::TooShort(5))
        ));
        assert!(matches!(
            Pseudonymiser::from_sources(None, None, false),
            Err(KeyError::Missing)
        ));
        assert!(Pseudonymiser::from_sources(None, None, true)
            .unwrap()
            .is_demo());
        let text = pseudonym_text(&a.pseudonym("12345"));
        assert_eq!(text.len(), 34);
        assert!(!text.contains("12345"));
    }
}
