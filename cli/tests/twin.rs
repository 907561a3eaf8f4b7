//! `healthtwin twin`: outputs from the README's commands, FHIR validated by a maintained R4
//! validator, the report rendered headless, alerts, stratification with disclosure control,
//! and input errors.

use std::path::{Path, PathBuf};
use std::process::Command;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_healthtwin"))
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn persons(name: &str) -> PathBuf {
    repo().join("twin/persons").join(name)
}

fn run_ok(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "command failed: {text}");
    text
}

/// The Python interpreter with `fhir.resources` 6.1.0 (FHIR R4 4.0.1): `HEALTHTWIN_FHIR_PYTHON`,
/// else `target/fhir-venv/bin/python` (.ci/run creates it).
fn fhir_python() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("HEALTHTWIN_FHIR_PYTHON") {
        return Some(PathBuf::from(p));
    }
    let p = repo().join("target/fhir-venv/bin/python");
    p.exists().then_some(p)
}

fn validate_fhir(files: &[PathBuf]) {
    let Some(py) = fhir_python() else {
        assert!(
            std::env::var_os("HEALTHTWIN_REQUIRE_FHIR_VALIDATOR").is_none_or(|v| v == "0"),
            "HEALTHTWIN_REQUIRE_FHIR_VALIDATOR is set but no validator venv was found"
        );
        eprintln!("skipped: no FHIR validator (python venv with fhir.resources 6.1.0); CI runs it");
        return;
    };
    let out = Command::new(py)
        .arg(repo().join("twin/tests/fhir/validate_r4.py"))
        .args(files)
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "FHIR R4 validation failed:\n{text}");
    assert!(text.contains(" 0 invalid"), "{text}");
}

#[test]
fn a_person_file_gives_the_report_tables_and_valid_fhir() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("rising");
    run_ok(
        bin()
            .args(["twin", "--person"])
            .arg(persons("rising.toml"))
            .args([
                "-k",
                "200",
                "-y",
                "10",
                "--alerts",
                "--threads",
                "2",
                "--out",
            ])
            .arg(&out),
    );
    for f in [
        "report.html",
        "risks.csv",
        "risks.parquet",
        "trajectories.csv",
        "counterfactuals.csv",
        "onsets.csv",
        "fit.csv",
        "twin.json",
        "alerts.csv",
        "alerts.ndjson",
        "fhir/resources.ndjson",
        "fhir/bundle.json",
        "chart_hba1c_pct.png",
        "chart_hba1c_pct.svg",
        "manifest.json",
    ] {
        assert!(out.join(f).exists(), "{f} missing");
    }
    let risks = std::fs::read_to_string(out.join("risks.csv")).unwrap();
    assert!(
        risks.lines().any(|l| l.contains(",usual_care,t2d,10,")),
        "{risks}"
    );
    // Counterfactual arms exist and QALYs are finite.
    let cf = std::fs::read_to_string(out.join("counterfactuals.csv")).unwrap();
    assert!(cf.lines().count() >= 3 && cf.contains("metformin"), "{cf}");
    // SBP 136/84 and LDL 138 mg/dL, untreated, no diagnosis: below the model's treatment
    // thresholds, so neither drug is offered (forecast::applicable).
    assert!(
        !cf.contains("statin") && !cf.contains("antihypertensive"),
        "{cf}"
    );
    // The report shows the pseudonym, never anything else identifying; it is offline.
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains("demo-rising"));
    let outside = html.replace("http://www.w3.org/2000/svg", "");
    for bad in ["http://", "https://", "<script", "src=\"", "<link"] {
        assert!(!outside.contains(bad), "the report references {bad}");
    }
    let nd = std::fs::read_to_string(out.join("fhir/resources.ndjson")).unwrap();
    assert!(
        nd.contains("\"resourceType\":\"RiskAssessment\"") && nd.contains("probabilityDecimal")
    );
    assert!(
        nd.contains("counterfactual-intervention"),
        "counterfactual predictions"
    );
    validate_fhir(&[
        out.join("fhir/resources.ndjson"),
        out.join("fhir/bundle.json"),
    ]);
}

#[test]
fn alerts_flag_readings_outside_the_twins_forecast() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("jump");
    run_ok(
        bin()
            .args(["twin", "--person"])
            .arg(persons("jump.toml"))
            .args([
                "-k",
                "100",
                "-y",
                "5",
                "--alerts",
                "--no-counterfactuals",
                "--out",
            ])
            .arg(&out),
    );
    let alerts = std::fs::read_to_string(out.join("alerts.csv")).unwrap();
    let hba1c: Vec<&str> = alerts
        .lines()
        .filter(|l| l.contains(",hba1c_pct,"))
        .collect();
    assert_eq!(hba1c.len(), 1, "{alerts}");
    assert!(
        hba1c[0].contains(",high,") && hba1c[0].contains("2024-05-28"),
        "{alerts}"
    );
    // The stable years before raise no glycaemic alert.
    assert!(!alerts
        .lines()
        .any(|l| l.contains("fpg_mg_dl") && !l.contains("2024-05-28")));
    let nd = std::fs::read_to_string(out.join("fhir/resources.ndjson")).unwrap();
    assert!(nd.contains("\"resourceType\":\"Flag\"") && nd.contains("flag-detail"));
    validate_fhir(&[
        out.join("fhir/resources.ndjson"),
        out.join("fhir/bundle.json"),
    ]);
}

#[test]
fn the_report_renders_in_a_headless_browser_in_both_languages() {
    let dir = tempfile::tempdir().unwrap();
    for lang in ["ja", "en"] {
        let out = dir.path().join(lang);
        run_ok(
            bin()
                .args(["twin", "--person"])
                .arg(persons("flat.toml"))
                .args(["-k", "100", "-y", "10", "--lang", lang, "--out"])
                .arg(&out),
        );
        let png = out.join("screenshot.png");
        match report::html::screenshot(&out.join("report.html"), &png, 1200, 2400) {
            Ok(()) => {
                let ink = report::html::ink_share(&png).unwrap();
                assert!(ink > 0.01, "{lang}: the screenshot is blank ({ink:.4})");
            }
            Err(e) if !report::html::browser_required() => {
                eprintln!("skipped: no headless Chromium ({e}); CI runs this test");
                return;
            }
            Err(e) => panic!("headless Chromium failed: {e}"),
        }
        let html = std::fs::read_to_string(out.join("report.html")).unwrap();
        let expect = if lang == "ja" { "まとめ" } else { "Summary" };
        assert!(html.contains(expect));
    }
}

#[test]
fn fhir_input_of_one_patient_goes_through_the_importer() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("fhir");
    run_ok(
        bin()
            .args(["twin", "--fhir"])
            .arg(persons("fhir_patient.json"))
            .args([
                "--index-date",
                "2024-06-01",
                "--demo",
                "-k",
                "100",
                "-y",
                "5",
                "--no-counterfactuals",
                "--lang",
                "en",
                "--out",
            ])
            .arg(&out),
    );
    let fit = std::fs::read_to_string(out.join("fit.csv")).unwrap();
    // Three HbA1c readings: the first sets the entry state, the two later ones are fitted;
    // people are pseudonymised (never the FHIR Patient.id).
    assert_eq!(
        fit.lines().filter(|l| l.contains("hba1c_pct")).count(),
        2,
        "{fit}"
    );
    assert!(fit.lines().nth(1).unwrap().starts_with("p-"), "{fit}");
    for f in [
        "fit.csv",
        "risks.csv",
        "report.html",
        "fhir/resources.ndjson",
        "twin.json",
    ] {
        let text = std::fs::read_to_string(out.join(f)).unwrap();
        assert!(!text.contains("demo-001"), "{f} holds the raw Patient.id");
    }
}

#[test]
fn a_cohort_is_stratified_and_small_cells_are_suppressed() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("csv");
    run_ok(
        bin()
            .args(["twin", "validate", "--people", "120", "--write-csv"])
            .arg(&csv),
    );
    let cohort = dir.path().join("cohort");
    run_ok(
        bin()
            .args(["cohort", "import", "--csv"])
            .arg(&csv)
            .args(["--index-date", "2024-04-01", "--demo", "-q", "--out"])
            .arg(&cohort),
    );
    let out = dir.path().join("ranked");
    run_ok(
        bin()
            .args(["twin", "--cohort"])
            .arg(&cohort)
            .args([
                "-k",
                "16",
                "--particles",
                "200",
                "--batch",
                "40",
                "--trial",
                "t2d:5:0.05:0.6",
                "--out",
            ])
            .arg(&out),
    );
    let ranked = std::fs::read_to_string(out.join("ranked.csv")).unwrap();
    let lines: Vec<&str> = ranked.lines().collect();
    assert!(lines.len() > 50, "{} rows", lines.len());
    let header: Vec<&str> = lines[0].split(',').collect();
    let col = header
        .iter()
        .position(|h| h.starts_with("rank_risk_"))
        .unwrap();
    let risks: Vec<f64> = lines[1..]
        .iter()
        .filter_map(|l| l.split(',').nth(col).and_then(|v| v.parse().ok()))
        .collect();
    assert!(
        risks.windows(2).all(|w| w[0] >= w[1]),
        "ranked by predicted risk"
    );
    assert!(header
        .iter()
        .any(|h| h.starts_with("averted_per_1000_statin_cvd")));
    assert!(out.join("eligible.csv").exists());
    // Aggregates: every published count is at least the threshold.
    let agg = std::fs::read_to_string(out.join("aggregates.csv")).unwrap();
    for l in agg.lines().skip(1) {
        let people = l.split(',').nth(3).unwrap();
        if !people.is_empty() {
            assert!(people.parse::<f64>().unwrap() >= 10.0, "{l}");
        }
    }
    // One person of the imported cohort by pseudonym.
    let pseudo = lines[1].split(',').nth(1).unwrap().to_string();
    let one = dir.path().join("one");
    run_ok(
        bin()
            .args(["twin", "--cohort"])
            .arg(&cohort)
            .args([
                "--pseudonym",
                &pseudo,
                "-k",
                "50",
                "-y",
                "5",
                "--no-counterfactuals",
                "--out",
            ])
            .arg(&one),
    );
    assert!(std::fs::read_to_string(one.join("fit.csv"))
        .unwrap()
        .contains(&pseudo));
}

#[test]
fn bad_person_files_exit_2_naming_the_key_not_the_value() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("bad.toml");
    std::fs::write(
        &f,
        "id = \"x\"\nsex = \"male\"\nage = 50\n[[visit]]\nyears = -1\nhba1c = 45.5\n",
    )
    .unwrap();
    let out = bin()
        .args(["twin", "--person"])
        .arg(&f)
        .args(["--out"])
        .arg(dir.path().join("o"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("visit 1") && err.contains("hba1c"), "{err}");
    assert!(!err.contains("45.5"), "{err}");
    std::fs::write(
        &f,
        "id = \"x\"\nsex = \"male\"\nage = 50\nsecret_name = \"Taro Yamada\"\n",
    )
    .unwrap();
    let out = bin()
        .args(["twin", "--person"])
        .arg(&f)
        .args(["--out"])
        .arg(dir.path().join("o"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("line 4") && !err.contains("Taro"), "{err}");
}
