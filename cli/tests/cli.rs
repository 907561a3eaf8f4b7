//! End-to-end tests of the `healthtwin` binary.

use std::fs;
use std::path::Path;
use std::process::{Command, Output};

fn healthtwin(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_healthtwin"))
        .args(args)
        .output()
        .expect("binary runs")
}

fn files(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .map(|d| {
            d.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

const DETERMINISTIC: [&str; 5] = [
    "summary.csv",
    "summary.parquet",
    "patients/part-r0000-b00000.parquet",
    "trace.csv",
    "trace.parquet",
];

#[test]
fn output_files_are_identical_for_any_thread_count_and_chunk_size() {
    let dir = tempfile::tempdir().unwrap();
    let mut outputs = Vec::new();
    for (threads, chunk) in [("1", "1024"), ("2", "1024"), ("7", "1024"), ("2", "13")] {
        let out = dir.path().join(format!("t{threads}c{chunk}"));
        let o = healthtwin(&[
            "run",
            "-q",
            "--patients",
            "3000",
            "--years",
            "8",
            "--replicates",
            "3",
            "--trace",
            "5",
            "--threads",
            threads,
            "--chunk-size",
            chunk,
            "--out",
            out.to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        outputs.push(out);
    }
    // Every part of patients/ (one per replicate here: 3,000 people are one block).
    assert_eq!(
        files(&outputs[0].join("patients")),
        [
            "part-r0000-b00000.parquet",
            "part-r0001-b00000.parquet",
            "part-r0002-b00000.parquet"
        ]
    );
    let parts = [
        "patients/part-r0001-b00000.parquet",
        "patients/part-r0002-b00000.parquet",
    ];
    for name in DETERMINISTIC.into_iter().chain(parts) {
        let reference = fs::read(outputs[0].join(name)).unwrap();
        assert!(!reference.is_empty());
        for other in &outputs[1..] {
            assert!(
                reference == fs::read(other.join(name)).unwrap(),
                "{name} differs in {}",
                other.display()
            );
        }
    }
}

#[test]
fn run_writes_every_documented_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let o = healthtwin(&[
        "run",
        "--patients",
        "2000",
        "--years",
        "5",
        "--seed",
        "1",
        "--replicates",
        "2",
        "--trace",
        "3",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        stdout.contains("deaths per 1,000 PY")
            && stdout.contains("T2D prevalence")
            && stdout.contains("QALYs"),
        "summary printed: {stdout}"
    );
    assert_eq!(
        files(&out),
        [
            "manifest.json",
            "patients",
            "summary.csv",
            "summary.parquet",
            "trace.csv",
            "trace.parquet"
        ]
    );
    let manifest: serde_json::Value =
        serde_json::from_slice(&fs::read(out.join("manifest.json")).unwrap()).unwrap();
    for key in [
        "healthtwin_version",
        "git_commit",
        "seed",
        "patients",
        "years",
        "replicates",
        "threads",
        "scenario",
        "parameter_hash_sha256",
        "wall_time_seconds",
    ] {
        assert!(manifest.get(key).is_some(), "manifest lacks {key}");
    }
    // Every module of the coupled model is named (diabetes, cardiovascular, frailty and
    // long-term care, economics, background mortality).
    let modules = manifest["scenario"]["modules"].as_array().unwrap();
    for m in [
        "background_mortality",
        "type_2_diabetes",
        "cardiovascular_disease",
        "frailty_and_long_term_care",
        "health_economics",
    ] {
        assert!(
            modules.iter().any(|x| x.as_str().unwrap().starts_with(m)),
            "manifest lacks module {m}: {modules:?}"
        );
    }
    let summary = fs::read_to_string(out.join("summary.csv")).unwrap();
    assert!(summary.starts_with(
        "scenario,year,year_index,sex,age_band,metric,mean,lo95,hi95,sd,replicates\n"
    ));
    // Both `all` levels exist, and every (year, sex, band) has the population metric.
    assert!(summary.contains("baseline,2024,0,all,all,population,2000,"));
    assert!(summary.contains(",female,60-64,deaths,"));
    // 5 years x 2 replicates: the trace has 3 patients x up to 5 censuses x 2 replicates rows.
    let trace_rows = fs::read_to_string(out.join("trace.csv"))
        .unwrap()
        .lines()
        .count()
        - 1;
    assert!((20..=30).contains(&trace_rows), "{trace_rows} trace rows");
}

#[test]
fn a_saved_cohort_runs_to_the_same_results_as_the_generated_one() {
    let dir = tempfile::tempdir().unwrap();
    let cohort = dir.path().join("cohort.parquet");
    let o = healthtwin(&[
        "cohort",
        "synth",
        "--n",
        "1500",
        "--seed",
        "9",
        "--out",
        cohort.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let a = dir.path().join("a");
    let b = dir.path().join("b");
    let common = ["--years", "6", "--seed", "9", "--replicates", "2", "-q"];
    let o = healthtwin(
        &[
            &["run", "--patients", "1500", "--out", a.to_str().unwrap()][..],
            &common,
        ]
        .concat(),
    );
    assert!(o.status.success());
    let o = healthtwin(
        &[
            &[
                "run",
                "--cohort",
                cohort.to_str().unwrap(),
                "--out",
                b.to_str().unwrap(),
            ][..],
            &common,
        ]
        .concat(),
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(fs::read(a.join("summary.csv")).unwrap() == fs::read(b.join("summary.csv")).unwrap());
}

fn assert_refused(args: &[&str], out: &Path, expect: &str) {
    let o = healthtwin(args);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "exit code for {args:?}: {err}");
    assert!(
        err.contains(expect),
        "{args:?}: error `{err}` does not mention `{expect}`"
    );
    assert!(
        files(out).is_empty(),
        "{args:?} left files behind: {:?}",
        files(out)
    );
}

#[test]
fn bad_input_gets_a_clear_error_and_no_output() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let o = out.to_str().unwrap();
    // Only the steps the model is validated for: 12-month steps would mistime onsets.
    for step in ["5", "12", "2"] {
        assert_refused(
            &["run", "--step-months", step, "--out", o],
            &out,
            "steps of 1 or 3 months",
        );
    }
    assert_refused(&["run", "--patients", "-5", "--out", o], &out, "--patients");
    assert_refused(&["run", "--patients", "0", "--out", o], &out, "--patients");
    assert_refused(&["run", "--years", "1000", "--out", o], &out, "--years");
    assert_refused(&["run", "--age-min", "19", "--out", o], &out, "--age-min");
    assert_refused(
        &["run", "--age-min", "80", "--age-max", "60", "--out", o],
        &out,
        "--age-min 80 is above --age-max 60",
    );
    assert_refused(&["run", "--frobnicate", "--out", o], &out, "--frobnicate");

    let garbage = dir.path().join("garbage.parquet");
    fs::write(&garbage, b"this is not parquet").unwrap();
    assert_refused(
        &["run", "--cohort", garbage.to_str().unwrap(), "--out", o],
        &out,
        "garbage.parquet",
    );
    let missing = dir.path().join("missing.parquet");
    assert_refused(
        &["run", "--cohort", missing.to_str().unwrap(), "--out", o],
        &out,
        "missing.parquet",
    );
    assert_refused(
        &[
            "cohort",
            "synth",
            "--out",
            dir.path().join("c.txt").to_str().unwrap(),
        ],
        &out,
        ".parquet or .csv",
    );
}

#[test]
fn implausible_cohort_values_name_the_row_and_column() {
    use parquet::data_type::{ByteArray, ByteArrayType, DoubleType};
    use parquet::file::properties::WriterProperties;
    use parquet::file::writer::SerializedFileWriter;
    use parquet::schema::parser::parse_message_type;
    use std::sync::Arc;

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.parquet");
    // A cohort whose second person has a systolic pressure of 900 mmHg.
    let numeric = [
        "age_years",
        "bmi_kg_m2",
        "fpg_mg_dl",
        "hba1c_pct",
        "sbp_mmhg",
        "dbp_mmhg",
        "tc_mg_dl",
        "hdl_mg_dl",
        "ldl_mg_dl",
        "egfr_ml_min",
        "steps_per_day",
        "frailty_index",
    ];
    let ok = [
        60.0, 23.0, 95.0, 5.6, 130.0, 80.0, 200.0, 60.0, 120.0, 75.0, 6000.0, 0.1,
    ];
    let mut schema = String::from("message cohort { required binary sex (UTF8); ");
    for n in numeric {
        schema.push_str(&format!("required double {n}; "));
    }
    schema.push_str("required boolean smoker; }");
    let schema = Arc::new(parse_message_type(&schema).unwrap());
    let mut w = SerializedFileWriter::new(
        fs::File::create(&path).unwrap(),
        schema,
        Arc::new(WriterProperties::builder().build()),
    )
    .unwrap();
    let mut rg = w.next_row_group().unwrap();
    let mut col = rg.next_column().unwrap().unwrap();
    col.typed::<ByteArrayType>()
        .write_batch(
            &[ByteArray::from("male"), ByteArray::from("female")],
            None,
            None,
        )
        .unwrap();
    col.close().unwrap();
    for (k, n) in numeric.iter().enumerate() {
        let mut col = rg.next_column().unwrap().unwrap();
        let second = if *n == "sbp_mmhg" { 900.0 } else { ok[k] };
        col.typed::<DoubleType>()
            .write_batch(&[ok[k], second], None, None)
            .unwrap();
        col.close().unwrap();
    }
    let mut col = rg.next_column().unwrap().unwrap();
    col.typed::<parquet::data_type::BoolType>()
        .write_batch(&[false, true], None, None)
        .unwrap();
    col.close().unwrap();
    rg.close().unwrap();
    w.close().unwrap();

    let out = dir.path().join("out");
    assert_refused(
        &[
            "run",
            "--cohort",
            path.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ],
        &out,
        "bad.parquet, row 2: column `sbp_mmhg`: 900 is outside the plausible range",
    );
}

#[test]
fn a_synthetic_cohort_saved_as_csv_or_parquet_runs_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let mut summaries = Vec::new();
    for ext in ["csv", "parquet"] {
        let file = dir.path().join(format!("people.{ext}"));
        let o = healthtwin(&[
            "cohort",
            "synth",
            "--n",
            "300",
            "--seed",
            "4",
            "--out",
            file.to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let out = dir.path().join(format!("run_{ext}"));
        let o = healthtwin(&[
            "run",
            "-q",
            "--cohort",
            file.to_str().unwrap(),
            "--years",
            "3",
            "--replicates",
            "1",
            "--out",
            out.to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        summaries.push(fs::read(out.join("summary.csv")).unwrap());
    }
    assert!(
        summaries[0] == summaries[1],
        "CSV and Parquet cohorts differ"
    );
}
