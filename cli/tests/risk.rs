//! End-to-end tests of `healthtwin risk`: patient files in, published numbers out.

use std::fs;
use std::process::{Command, Output};

fn healthtwin(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_healthtwin"))
        .args(args)
        .output()
        .expect("binary runs")
}

fn stdout(o: &Output) -> String {
    assert!(
        o.status.success(),
        "exit {:?}: {}",
        o.status.code(),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout.clone()).unwrap()
}

/// The risk (%) printed on `equation`'s row.
fn risk_pct(out: &str, equation: &str) -> f64 {
    let line = out
        .lines()
        .find(|l| l.split_whitespace().next() == Some(equation))
        .unwrap_or_else(|| panic!("no row for {equation} in\n{out}"));
    let before_pct = line
        .trim_end()
        .strip_suffix('%')
        .unwrap_or_else(|| panic!("no risk on row {line:?}"));
    before_pct
        .split_whitespace()
        .last()
        .unwrap()
        .parse()
        .unwrap()
}

/// The lines under `equation`'s row that start with `!` (its warnings).
fn warnings(out: &str, equation: &str) -> Vec<String> {
    out.lines()
        .skip_while(|l| l.split_whitespace().next() != Some(equation))
        .skip(1)
        .take_while(|l| l.trim_start().starts_with('!'))
        .map(|l| l.trim().to_string())
        .collect()
}

#[test]
fn toml_patient_file_reproduces_published_risks() {
    let dir = tempfile::tempdir().unwrap();
    // Goff 2014's example man (white, 55, TC 213, HDL 50, SBP 120 untreated): PCE 5.38 %
    // (published rounded 5.4); Framingham at SBP 120 is not published, so the TOML also
    // carries the Hisayama vector of the notes: score 16 → 2.56 %.
    let file = dir.path().join("man.toml");
    fs::write(
        &file,
        "# Goff 2014 Table A example\n\
         sex = \"male\"\n\
         age = 55\n\
         sbp = 120\n\
         dbp = 75\n\
         tc = 213\n\
         hdl = \"50 mg/dL\"\n\
         ldl = 130\n\
         ethnicity = \"white\"\n\
         regular_exercise = true\n",
    )
    .unwrap();
    let o = healthtwin(&[
        "risk",
        "--patient",
        file.to_str().unwrap(),
        "--equation",
        "pce",
        "--equation",
        "hisayama",
    ]);
    let out = stdout(&o);
    assert!((risk_pct(&out, "pce") - 5.38).abs() <= 0.005, "{out}");
    // SBP 120 scores 1 point, not 2: the notes' vector had SBP 130 → 16 points; here 15.
    // Flags override the file, so give SBP 130 to land on the published vector.
    let o = healthtwin(&[
        "risk",
        "--patient",
        file.to_str().unwrap(),
        "--sbp",
        "130",
        "--equation",
        "hisayama",
    ]);
    let out = stdout(&o);
    assert!((risk_pct(&out, "hisayama") - 2.56).abs() <= 0.005, "{out}");
    assert!(warnings(&out, "hisayama").is_empty(), "{out}");
}

#[test]
fn json_patient_file_in_mmol_gives_score2() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("woman.json");
    // SCORE2's example: 50 y, smoker, SBP 140, TC 5.5, HDL 1.3 mmol/L → 4.22 % (low risk
    // region), 13.70 % (very high).
    fs::write(
        &file,
        r#"{"sex": "female", "age": 50, "sbp": 140, "tc": 5.5, "hdl": 1.3,
            "units": "mmol/L", "smoker": true}"#,
    )
    .unwrap();
    let out = stdout(&healthtwin(&[
        "risk",
        "--patient",
        file.to_str().unwrap(),
        "--all",
    ]));
    assert!(
        (risk_pct(&out, "score2-low") - 4.22).abs() <= 0.005,
        "{out}"
    );
    assert!(
        (risk_pct(&out, "score2-very-high") - 13.70).abs() <= 0.005,
        "{out}"
    );
    // The same person from flags alone, cholesterol with its unit on the value.
    let flags = stdout(&healthtwin(&[
        "risk",
        "--sex",
        "female",
        "--age",
        "50",
        "--sbp",
        "140",
        "--tc",
        "5.5mmol/L",
        "--hdl",
        "1.3 mmol/L",
        "--smoker",
        "--equation",
        "score2-low",
    ]));
    assert_eq!(risk_pct(&flags, "score2-low"), risk_pct(&out, "score2-low"));
    // --all lists what it cannot compute, with the reason, and still succeeds.
    assert!(
        out.lines()
            .any(|l| l.starts_with("prevent") && l.contains("skipped: needs egfr_ml_min (--egfr)")),
        "{out}"
    );
    assert!(
        out.lines()
            .any(|l| l.starts_with("ukpds-chd") && l.contains("skipped: not applicable")),
        "{out}"
    );
}

#[test]
fn out_of_range_ages_are_flagged_and_bad_input_refused() {
    // 85 is outside the PCE's 40–79: computed, with a warning on its row.
    let out = stdout(&healthtwin(&[
        "risk",
        "--sex",
        "male",
        "--age",
        "85",
        "--sbp",
        "130",
        "--tc",
        "200",
        "--hdl",
        "50",
        "--ethnicity",
        "white",
        "--equation",
        "pce",
    ]));
    let w = warnings(&out, "pce");
    assert!(
        w.iter()
            .any(|w| w.contains("age_years 85 is outside the derivation range 40–79")),
        "{out}"
    );
    // A named equation that cannot be evaluated is an error (exit 2), not a number.
    let refused = [
        (
            vec![
                "risk",
                "--sex",
                "male",
                "--age",
                "60",
                "--sbp",
                "130",
                "--equation",
                "pce",
            ],
            "needs tc_mg_dl (--tc)",
        ),
        (
            vec![
                "risk",
                "--sex",
                "male",
                "--age",
                "60",
                "--sbp",
                "130",
                "--tc",
                "200",
                "--hdl",
                "50",
                "--hba1c",
                "7",
                "--years-since-dm-dx",
                "3",
                "--equation",
                "ukpds-chd",
            ],
            "type 2 diabetes",
        ),
        // Cholesterol in mmol/L typed without a unit.
        (
            vec!["risk", "--sex", "male", "--age", "60", "--tc", "5.2"],
            "--units mmol",
        ),
        (vec!["risk", "--age", "60"], "sex is required"),
        (
            vec![
                "risk",
                "--sex",
                "male",
                "--age",
                "60",
                "--equation",
                "qrisk4",
            ],
            "unknown equation `qrisk4`",
        ),
    ];
    for (args, expect) in refused {
        let o = healthtwin(&args);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(expect), "{args:?}: {err}");
        assert!(o.stdout.is_empty(), "{args:?} printed a result");
    }
    // Unknown keys in a patient file are refused with the line.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("typo.toml");
    fs::write(&file, "sex = \"male\"\nage = 60\nsystolic = 130\n").unwrap();
    let o = healthtwin(&["risk", "--patient", file.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("--patient file, line 3") && err.contains("systolic"),
        "{err}"
    );
}

#[test]
fn ukpds_om2_reproduces_the_esm_worked_chf_example() {
    // Hayes 2013 (UKPDS 82) ESM worked CHF example, as reproduced by the COMPAR-EU port:
    // man of 70, diabetes for 8 years, LDL 3.0 mmol/L, BMI 32, eGFR 50, albuminuria, an
    // earlier amputation: annual probability 0.02673152.
    let out = stdout(&healthtwin(&[
        "risk",
        "--equation",
        "ukpds-om2-chf",
        "--sex",
        "male",
        "--age",
        "70",
        "--years-since-dm-dx",
        "8",
        "--ldl",
        "3.0mmol/L",
        "--bmi",
        "32",
        "--egfr",
        "50",
        "--albuminuria",
        "--history",
        "amputation",
    ]));
    assert!(
        (risk_pct(&out, "ukpds-om2-chf") - 2.6732).abs() < 5e-4,
        "{out}"
    );
    // A missing input is an input error (exit 2) naming the flag.
    let o = healthtwin(&[
        "risk",
        "--equation",
        "ukpds-om2-blindness",
        "--sex",
        "male",
        "--age",
        "70",
        "--years-since-dm-dx",
        "8",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--hba1c"));
}
