//! End-to-end tests of what a person can open (issue 17): disclosure control of every
//! aggregate of real people's data, person-level files without exact ages, demo-key cohorts
//! refused, output folders that are never mixed (one writer, stale and temporary files
//! removed, complete only with manifest.json) and sizes refused before they are allocated.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_healthtwin"));
    c.env_remove("HEALTHTWIN_MEMORY_LIMIT");
    c
}

fn healthtwin(args: &[&str]) -> Output {
    bin().args(args).output().expect("binary runs")
}

fn ok(o: &Output) {
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
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

/// The contents of a file, or of every file under a folder (`patients/`), by name.
fn contents(p: &Path) -> Vec<(String, Vec<u8>)> {
    if !p.is_dir() {
        return vec![(String::new(), fs::read(p).unwrap())];
    }
    let mut v = Vec::new();
    for name in files(p) {
        for (sub, bytes) in contents(&p.join(&name)) {
            v.push((format!("{name}/{sub}"), bytes));
        }
    }
    v
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A CSV table as rows of column → value.
fn csv_rows(path: &Path) -> Vec<HashMap<String, String>> {
    let text = fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    let header: Vec<String> = lines.next().unwrap().split(',').map(String::from).collect();
    lines
        .map(|l| {
            header
                .iter()
                .cloned()
                .zip(l.split(',').map(String::from))
                .collect()
        })
        .collect()
}

/// A cohort of `n` synthetic people saved as CSV without its synthetic marker: to
/// healthtwin, real people's data.
fn real_csv_cohort(dir: &Path, n: u64) -> PathBuf {
    let path = dir.join(format!("people{n}.csv"));
    ok(&healthtwin(&[
        "cohort",
        "synth",
        "--n",
        &n.to_string(),
        "--seed",
        "5",
        "--out",
        s(&path),
    ]));
    let marker = dir.join(format!("people{n}.csv.healthtwin"));
    assert!(marker.exists(), "cohort synth marks its CSV as synthetic");
    fs::remove_file(marker).unwrap();
    path
}

/// A cohort Parquet file of `n` people with `metadata` in its footer.
fn parquet_cohort(path: &Path, n: usize, metadata: &[(&str, &str)]) {
    use parquet::data_type::{BoolType, ByteArray, ByteArrayType, DoubleType};
    use parquet::file::metadata::KeyValue;
    use parquet::file::properties::WriterProperties;
    use parquet::file::writer::SerializedFileWriter;
    use parquet::schema::parser::parse_message_type;
    use std::sync::Arc;
    let numeric = [
        ("age_years", 55.0),
        ("bmi_kg_m2", 23.0),
        ("fpg_mg_dl", 95.0),
        ("hba1c_pct", 5.6),
        ("sbp_mmhg", 130.0),
        ("dbp_mmhg", 80.0),
        ("tc_mg_dl", 200.0),
        ("hdl_mg_dl", 60.0),
        ("ldl_mg_dl", 120.0),
        ("egfr_ml_min", 75.0),
        ("steps_per_day", 6000.0),
        ("frailty_index", 0.1),
    ];
    let mut schema = String::from("message cohort { required binary sex (UTF8); ");
    for (name, _) in numeric {
        schema.push_str(&format!("required double {name}; "));
    }
    schema.push_str("required boolean smoker; }");
    let kv = metadata
        .iter()
        .map(|(k, v)| KeyValue::new(k.to_string(), v.to_string()))
        .collect();
    let props = WriterProperties::builder()
        .set_key_value_metadata(Some(kv))
        .build();
    let mut w = SerializedFileWriter::new(
        fs::File::create(path).unwrap(),
        Arc::new(parse_message_type(&schema).unwrap()),
        Arc::new(props),
    )
    .unwrap();
    let mut rg = w.next_row_group().unwrap();
    let mut col = rg.next_column().unwrap().unwrap();
    let sexes: Vec<ByteArray> = (0..n)
        .map(|i| ByteArray::from(if i % 2 == 0 { "male" } else { "female" }))
        .collect();
    col.typed::<ByteArrayType>()
        .write_batch(&sexes, None, None)
        .unwrap();
    col.close().unwrap();
    for (name, base) in numeric {
        let mut col = rg.next_column().unwrap().unwrap();
        let values: Vec<f64> = (0..n)
            .map(|i| {
                if name == "age_years" {
                    base + (i % 30) as f64
                } else {
                    base
                }
            })
            .collect();
        col.typed::<DoubleType>()
            .write_batch(&values, None, None)
            .unwrap();
        col.close().unwrap();
    }
    let mut col = rg.next_column().unwrap().unwrap();
    col.typed::<BoolType>()
        .write_batch(&vec![false; n], None, None)
        .unwrap();
    col.close().unwrap();
    rg.close().unwrap();
    w.close().unwrap();
}

fn manifest(dir: &Path) -> serde_json::Value {
    serde_json::from_slice(&fs::read(dir.join("manifest.json")).unwrap()).unwrap()
}

/// Every row is withheld, or publishes a count of nobody (a value of 0).
fn assert_nothing_under_k(table: &Path, value_columns: &[&str]) {
    for row in csv_rows(table) {
        if row["suppressed"] == "true" {
            for c in value_columns {
                assert_eq!(
                    row[*c],
                    "",
                    "{}: withheld row shows {c}: {row:?}",
                    table.display()
                );
            }
            continue;
        }
        for c in value_columns {
            let v = &row[*c];
            assert!(
                v.is_empty() || v.parse::<f64>().unwrap() == 0.0,
                "{}: a cell of fewer than 10 people is shown: {row:?}",
                table.display()
            );
        }
    }
}

#[test]
fn four_real_people_publish_no_cell_under_k() {
    let dir = tempfile::tempdir().unwrap();
    let cohort = real_csv_cohort(dir.path(), 4);
    let out = dir.path().join("run");
    let o = healthtwin(&[
        "run",
        "--cohort",
        s(&cohort),
        "--years",
        "4",
        "--replicates",
        "3",
        "--trace",
        "2",
        "--out",
        s(&out),
    ]);
    ok(&o);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.contains("fewer than 10 people"), "{stdout}");
    assert!(!stdout.contains(" 4 people"), "{stdout}");
    assert_nothing_under_k(&out.join("summary.csv"), &["mean", "lo95", "hi95", "sd"]);
    let m = manifest(&out);
    assert_eq!(m["patients"], serde_json::Value::Null);
    assert_eq!(m["scenario"]["population"]["n"], serde_json::Value::Null);
    assert_eq!(m["disclosure"]["min_cell"], 10);
    assert_eq!(m["disclosure"]["applied"], true);
    assert!(m["disclosure"]["suppressed_cells"].as_u64().unwrap() > 100);

    // The same people compared under two scenarios: every table, chart and figure.
    for name in ["a", "b"] {
        fs::write(
            dir.path().join(format!("{name}.toml")),
            format!(
                "name = \"{name}\"\nyears = 4\nreplicates = 3\n[population]\nsource = \"cohort\"\nfile = \"people4.csv\"\n"
            ),
        )
        .unwrap();
    }
    let cmp = dir.path().join("cmp");
    let o = healthtwin(&[
        "compare",
        s(&dir.path().join("a.toml")),
        s(&dir.path().join("b.toml")),
        "-o",
        s(&cmp),
    ]);
    ok(&o);
    for t in ["compare_totals", "compare_by_year", "compare_by_age"] {
        assert_nothing_under_k(&cmp.join(format!("{t}.csv")), &["mean", "lo95", "hi95"]);
    }
    assert_nothing_under_k(
        &cmp.join("compare_replicates.csv"),
        &["value", "difference_vs_reference"],
    );
    for row in csv_rows(&cmp.join("compare_economics.csv")) {
        for (k, v) in &row {
            if !["scenario", "effect", "suppressed"].contains(&k.as_str()) {
                assert!(v.is_empty(), "economics shows {k} = {v}");
            }
        }
    }
    let written = files(&cmp);
    assert!(
        !written
            .iter()
            .any(|f| f.ends_with(".png") || f.ends_with(".svg")),
        "charts of withheld values: {written:?}"
    );
    let m = manifest(&cmp);
    assert_eq!(m["patients"], serde_json::Value::Null);
    assert_eq!(m["disclosure"]["applied"], true);
}

/// The people `cohort import` makes of the plain-CSV fixtures (3 people) are real data
/// whether or not the importer marks its file: nothing under k is published.
#[test]
fn an_imported_cohort_publishes_no_cell_under_k() {
    let dir = tempfile::tempdir().unwrap();
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../cohort/tests/fixtures/csv");
    let imported = dir.path().join("imported");
    ok(&bin()
        .args([
            "cohort",
            "import",
            "--csv",
            s(&fixtures),
            "--index-date",
            "2024-04-01",
        ])
        .args(["--out", s(&imported)])
        .env(
            "HEALTHTWIN_PSEUDONYM_KEY",
            "outputs-test-key-0123456789abcdef-0123456789",
        )
        .output()
        .unwrap());
    let out = dir.path().join("run");
    let cohort = imported.join("cohort.parquet");
    ok(&healthtwin(&[
        "run",
        "-q",
        "--cohort",
        s(&cohort),
        "--years",
        "3",
        "--out",
        s(&out),
    ]));
    assert_nothing_under_k(&out.join("summary.csv"), &["mean", "lo95", "hi95", "sd"]);
    let m = manifest(&out);
    assert_eq!(m["disclosure"]["min_cell"], 10);
    assert_eq!(m["person_level_ages"], "whole months");
}

/// In every line of a published table (the cells a margin adds up, and the margin) either
/// nothing is withheld or at least two cells are: no withheld value is the margin less the
/// other cells.
fn assert_lines_hold_two(lines: HashMap<String, Vec<bool>>) {
    for (line, withheld) in lines {
        let n = withheld.iter().filter(|&&w| w).count();
        assert!(
            n != 1,
            "line {line}: one withheld cell, recoverable by subtraction"
        );
    }
}

#[test]
fn no_withheld_value_is_recoverable_from_published_margins() {
    let dir = tempfile::tempdir().unwrap();
    let cohort = real_csv_cohort(dir.path(), 300);
    let out = dir.path().join("run");
    ok(&healthtwin(&[
        "run",
        "-q",
        "--cohort",
        s(&cohort),
        "--years",
        "3",
        "--replicates",
        "2",
        "--out",
        s(&out),
    ]));
    let rows = csv_rows(&out.join("summary.csv"));
    let withheld = rows.iter().filter(|r| r["suppressed"] == "true").count();
    assert!(
        withheld > 0 && withheld < rows.len(),
        "{withheld} of {}",
        rows.len()
    );
    // Lines of the sex × band table of each (year, metric): a band's three sexes (male +
    // female = all), and a sex's bands with their total.
    let mut lines: HashMap<String, Vec<bool>> = HashMap::new();
    for r in &rows {
        let w = r["suppressed"] == "true";
        let key = format!("{}/{}", r["year"], r["metric"]);
        lines
            .entry(format!("{key}/band {}", r["age_band"]))
            .or_default()
            .push(w);
        lines
            .entry(format!("{key}/sex {}", r["sex"]))
            .or_default()
            .push(w);
    }
    assert_lines_hold_two(lines);

    // A comparison: by-year rows and by-age rows each add up to the total.
    for name in ["a", "b"] {
        fs::write(
            dir.path().join(format!("{name}.toml")),
            format!(
                "name = \"{name}\"\nyears = 4\nreplicates = 2\n[population]\nsource = \"cohort\"\nfile = \"people300.csv\"\n"
            ),
        )
        .unwrap();
    }
    let cmp = dir.path().join("cmp");
    ok(&healthtwin(&[
        "compare",
        "-q",
        s(&dir.path().join("a.toml")),
        s(&dir.path().join("b.toml")),
        "-o",
        s(&cmp),
    ]));
    let mut lines: HashMap<String, Vec<bool>> = HashMap::new();
    let key = |r: &HashMap<String, String>| {
        format!("{}/{}/{}", r["scenario"], r["comparison"], r["measure"])
    };
    for (table, what) in [("compare_by_year", "years"), ("compare_by_age", "bands")] {
        for r in csv_rows(&cmp.join(format!("{table}.csv"))) {
            lines
                .entry(format!("{}/{what}", key(&r)))
                .or_default()
                .push(r["suppressed"] == "true");
        }
    }
    let mut any = false;
    for r in csv_rows(&cmp.join("compare_totals.csv")) {
        let w = r["suppressed"] == "true";
        any |= w;
        for what in ["years", "bands"] {
            lines
                .entry(format!("{}/{what}", key(&r)))
                .or_default()
                .push(w);
        }
    }
    let by_age = csv_rows(&cmp.join("compare_by_age.csv"));
    assert!(by_age.iter().any(|r| r["suppressed"] == "true") || any);
    assert_lines_hold_two(lines);
}

#[test]
fn demo_key_cohorts_need_allow_demo_key() {
    let dir = tempfile::tempdir().unwrap();
    let cohort = dir.path().join("demo.parquet");
    parquet_cohort(
        &cohort,
        40,
        &[
            ("healthtwin.origin", "imported"),
            ("healthtwin.demo_key", "true"),
        ],
    );
    let out = dir.path().join("out");
    let o = healthtwin(&[
        "run",
        "-q",
        "--cohort",
        s(&cohort),
        "--years",
        "2",
        "--out",
        s(&out),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("demo key"), "{}", stderr(&o));
    assert!(stderr(&o).contains("--allow-demo-key"), "{}", stderr(&o));
    assert!(!out.exists(), "nothing is written for a refused cohort");
    fs::write(
        dir.path().join("a.toml"),
        "name = \"a\"\nyears = 2\nreplicates = 1\n[population]\nsource = \"cohort\"\nfile = \"demo.parquet\"\n",
    )
    .unwrap();
    let o = healthtwin(&[
        "compare",
        "-q",
        s(&dir.path().join("a.toml")),
        "-o",
        s(&out),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("demo key"));
    // Allowed explicitly: published under disclosure control like any real data.
    let o = healthtwin(&[
        "run",
        "-q",
        "--cohort",
        s(&cohort),
        "--years",
        "2",
        "--allow-demo-key",
        "--out",
        s(&out),
    ]);
    ok(&o);
    assert_eq!(manifest(&out)["disclosure"]["min_cell"], 10);
    assert_eq!(
        manifest(&out)["scenario"]["population"]["origin"],
        "imported"
    );
}

#[test]
fn control_is_on_for_real_people_and_on_request_for_synthetic_ones() {
    let dir = tempfile::tempdir().unwrap();
    let run = |extra: &[&str], out: &Path| {
        let mut args = vec!["run", "-q", "--patients", "500", "--years", "2", "-r", "2"];
        args.extend_from_slice(extra);
        args.extend(["--out", s(out)]);
        healthtwin(&args)
    };
    // Synthetic people: the summary as before, no `suppressed` column.
    let plain = dir.path().join("plain");
    ok(&run(&[], &plain));
    let header = fs::read_to_string(plain.join("summary.csv")).unwrap();
    assert!(header.starts_with(
        "scenario,year,year_index,sex,age_band,metric,mean,lo95,hi95,sd,replicates\n"
    ));
    let m = manifest(&plain);
    assert_eq!(m["disclosure"]["applied"], false);
    assert_eq!(m["disclosure"]["min_cell"], serde_json::Value::Null);
    assert_eq!(m["disclosure"]["suppressed_cells"], 0);
    // On request.
    let asked = dir.path().join("asked");
    ok(&run(&["--min-cell", "10"], &asked));
    assert!(csv_rows(&asked.join("summary.csv"))
        .iter()
        .any(|r| r["suppressed"] == "true"));
    assert_eq!(manifest(&asked)["disclosure"]["min_cell"], 10);
    // Never below 3.
    let o = run(&["--min-cell", "2"], &dir.path().join("low"));
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--min-cell"));
    // A real cohort: 10 by default, 3 at the lowest.
    let cohort = real_csv_cohort(dir.path(), 50);
    for (k, expect) in [(None, 10), (Some("3"), 3)] {
        let out = dir.path().join(format!("real{expect}"));
        let mut args = vec!["run", "-q", "--cohort", s(&cohort), "--years", "2"];
        if let Some(k) = k {
            args.extend(["--min-cell", k]);
        }
        args.extend(["--out", s(&out)]);
        ok(&healthtwin(&args));
        assert_eq!(manifest(&out)["disclosure"]["min_cell"], expect);
        assert_eq!(manifest(&out)["disclosure"]["applied"], true);
    }
}

/// Every float of the Parquet file's columns `columns`.
/// The values of `columns` in a Parquet file, or in every file of a dataset folder
/// (`patients/`, in name order).
fn parquet_floats(path: &Path, columns: &[&str]) -> Vec<f64> {
    use parquet::file::reader::{FileReader, SerializedFileReader};
    use parquet::record::Field;
    if path.is_dir() {
        return files(path)
            .iter()
            .flat_map(|f| parquet_floats(&path.join(f), columns))
            .collect();
    }
    let r = SerializedFileReader::new(fs::File::open(path).unwrap()).unwrap();
    let mut out = Vec::new();
    for row in r.get_row_iter(None).unwrap() {
        for (name, field) in row.unwrap().get_column_iter() {
            if let (true, Field::Double(x)) = (columns.contains(&name.as_str()), field) {
                out.push(*x);
            }
        }
    }
    out
}

#[test]
fn person_level_files_of_real_people_give_ages_in_whole_months() {
    let dir = tempfile::tempdir().unwrap();
    let ages = [
        "age_years",
        "death_time_years",
        "death_age_years",
        "age_at_end_years",
    ];
    let whole_months = |v: &[f64]| {
        v.iter()
            .all(|x| ((x * 12.0) - (x * 12.0).round()).abs() < 1e-9)
    };
    let cohort = real_csv_cohort(dir.path(), 200);
    let out = dir.path().join("real");
    ok(&healthtwin(&[
        "run",
        "-q",
        "--cohort",
        s(&cohort),
        "--years",
        "5",
        "--trace",
        "20",
        "--out",
        s(&out),
    ]));
    let v = parquet_floats(&out.join("patients"), &ages);
    assert!(v.len() > 200 && whole_months(&v));
    let t = parquet_floats(&out.join("trace.parquet"), &["age_years"]);
    assert!(!t.is_empty() && whole_months(&t));
    assert_eq!(manifest(&out)["person_level_ages"], "whole months");
    // Synthetic people keep exact ages.
    let syn = dir.path().join("syn");
    ok(&healthtwin(&[
        "run",
        "-q",
        "--patients",
        "200",
        "--years",
        "5",
        "--out",
        s(&syn),
    ]));
    assert!(!whole_months(&parquet_floats(&syn.join("patients"), &ages)));
}

const RUN_FILES: [&str; 4] = [
    "manifest.json",
    "patients",
    "summary.csv",
    "summary.parquet",
];

/// Starts `healthtwin run` in the background.
fn spawn_run(args: &[&str]) -> Child {
    bin()
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn has_temporary(dir: &Path) -> bool {
    files(dir).iter().any(|f| f.starts_with(".healthtwin-tmp-"))
}

#[test]
fn two_runs_into_one_folder_one_fails_and_one_complete_run_remains() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("shared");
    let first_args = [
        "run",
        "-q",
        "--patients",
        "6000",
        "--years",
        "6",
        "-r",
        "8",
        "--seed",
        "1",
        "--out",
    ];
    let mut first = spawn_run(&[&first_args[..], &[s(&out)]].concat());
    // The first run holds the folder once it fills patients/ (under a temporary name).
    let mut waited = 0;
    while !has_temporary(&out) {
        assert!(
            first.try_wait().unwrap().is_none(),
            "the first run ended early"
        );
        std::thread::sleep(Duration::from_millis(20));
        waited += 1;
        assert!(waited < 30_000, "the first run never started writing");
    }
    let second = healthtwin(&[
        "run",
        "-q",
        "--patients",
        "100",
        "--years",
        "1",
        "--seed",
        "2",
        "--out",
        s(&out),
    ]);
    assert_eq!(second.status.code(), Some(2), "{}", stderr(&second));
    assert!(
        stderr(&second).contains("another healthtwin command is writing into this folder"),
        "{}",
        stderr(&second)
    );
    let status = first.wait().unwrap();
    assert!(status.success());
    // One complete run, the first's: the files of the same run made alone, byte for byte.
    assert_eq!(files(&out), RUN_FILES);
    assert_eq!(manifest(&out)["seed"], 1);
    let alone = dir.path().join("alone");
    ok(&healthtwin(&[&first_args[..], &[s(&alone)]].concat()));
    for f in ["summary.csv", "summary.parquet", "patients"] {
        assert!(
            contents(&out.join(f)) == contents(&alone.join(f)),
            "{f} mixed"
        );
    }
}

#[test]
fn a_rerun_after_kill_9_at_any_point_leaves_a_clean_folder() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let rerun = [
        "run",
        "-q",
        "--patients",
        "300",
        "--years",
        "2",
        "-r",
        "2",
        "--seed",
        "3",
        "--out",
    ];
    let clean = dir.path().join("clean");
    ok(&healthtwin(&[&rerun[..], &[s(&clean)]].concat()));
    // Kill points spread over a run's life, from a fixed seed (splitmix64): before the lock,
    // during replicates, while files are written.
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    for _ in 0..6 {
        x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = x;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        let delay_ms = (z ^ (z >> 31)) % 1500;
        let mut victim = spawn_run(&[
            "run",
            "-q",
            "--patients",
            "3000",
            "--years",
            "4",
            "-r",
            "3",
            "--trace",
            "5",
            "--out",
            s(&out),
        ]);
        std::thread::sleep(Duration::from_millis(delay_ms));
        victim.kill().unwrap(); // SIGKILL
        victim.wait().unwrap();
        // Whatever the point, the folder holds no manifest or a complete run.
        if out.join("manifest.json").exists() {
            for f in &manifest(&out)["files"].as_array().unwrap()[..] {
                assert!(out.join(f.as_str().unwrap()).exists(), "{f} missing");
            }
        }
        ok(&healthtwin(&[&rerun[..], &[s(&out)]].concat()));
        assert_eq!(files(&out), RUN_FILES, "after a kill at {delay_ms} ms");
        for f in ["summary.csv", "patients"] {
            assert!(contents(&out.join(f)) == contents(&clean.join(f)));
        }
    }
}

#[test]
fn stale_files_of_an_earlier_run_go_and_foreign_files_stay() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let o = s(&out);
    ok(&healthtwin(&[
        "run",
        "-q",
        "--patients",
        "200",
        "--years",
        "2",
        "--trace",
        "3",
        "--out",
        o,
    ]));
    assert!(out.join("trace.csv").exists());
    fs::write(out.join("notes.txt"), "mine").unwrap();
    fs::write(out.join(".healthtwin-tmp-999999-summary.csv"), "debris").unwrap();
    // A killed run's half-filled dataset folder, and the single file of earlier versions.
    fs::create_dir(out.join(".healthtwin-tmp-999999-patients")).unwrap();
    fs::write(
        out.join(".healthtwin-tmp-999999-patients/x.parquet"),
        "debris",
    )
    .unwrap();
    fs::write(out.join("patients.parquet"), "old").unwrap();
    ok(&healthtwin(&[
        "run",
        "-q",
        "--patients",
        "200",
        "--years",
        "2",
        "--out",
        o,
    ]));
    let mut expect: Vec<&str> = RUN_FILES.to_vec();
    expect.push("notes.txt");
    expect.sort();
    assert_eq!(files(&out), expect);
    assert!(manifest(&out)["files"]
        .as_array()
        .unwrap()
        .iter()
        .all(|f| f != "trace.csv"));
    // trial dpp and compare keep their folders the same way (manifest.json last).
    let t = dir.path().join("trial");
    ok(&healthtwin(&[
        "trial",
        "dpp",
        "--screened",
        "3000",
        "-r",
        "1",
        "--out",
        s(&t),
    ]));
    // Exactly the files the manifest lists, and the manifest.
    let mut listed: Vec<String> = manifest(&t)["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap().to_string())
        .collect();
    listed.push("manifest.json".to_string());
    listed.sort();
    assert_eq!(files(&t), listed);
    assert!(listed.contains(&"trial_results.csv".to_string()));
    assert_eq!(manifest(&t)["disclosure"]["applied"], false);
}

#[test]
fn unwritable_output_folders_are_refused_before_any_work() {
    let dir = tempfile::tempdir().unwrap();
    let blocker = dir.path().join("a-file");
    fs::write(&blocker, "").unwrap();
    let under = blocker.join("out");
    let library = |n: &str| {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../scenarios/library")
            .join(n)
    };
    let baseline = library("baseline.toml");
    for args in [
        vec![
            "run",
            "-q",
            "--patients",
            "100",
            "--years",
            "1",
            "--out",
            s(&under),
        ],
        vec![
            "run",
            "-q",
            "--patients",
            "100",
            "--years",
            "1",
            "--out",
            s(&blocker),
        ],
        vec![
            "compare",
            "-q",
            s(&baseline),
            "-n",
            "100",
            "-y",
            "1",
            "-r",
            "1",
            "-o",
            s(&under),
        ],
        vec!["trial", "dpp", "--screened", "1000", "--out", s(&under)],
    ] {
        let o = healthtwin(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(
            stderr(&o).contains("cannot be created or written"),
            "{args:?}: {}",
            stderr(&o)
        );
    }
    let o = healthtwin(&[
        "cohort",
        "synth",
        "--n",
        "10",
        "--out",
        s(&under.join("c.csv")),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
}

#[test]
fn sizes_that_do_not_fit_are_refused_with_the_size_that_fits() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let limited = |args: &[&str]| {
        bin()
            .args(args)
            .env("HEALTHTWIN_MEMORY_LIMIT", "120M")
            .output()
            .unwrap()
    };
    let o = limited(&[
        "run",
        "--patients",
        "100000000",
        "-y",
        "1",
        "-r",
        "1",
        "--out",
        s(&out),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("--patients 100000000") && err.contains("HEALTHTWIN_MEMORY_LIMIT"));
    let fits: u64 = err
        .split("at most about ")
        .nth(1)
        .and_then(|t| t.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no size that fits: {err}"));
    assert!(fits > 1000 && fits < 120 << 20, "{fits}");
    assert!(!out.exists(), "nothing written");
    // The size it names runs.
    let n = fits.to_string();
    let o = limited(&[
        "run",
        "-q",
        "--patients",
        &n,
        "-y",
        "1",
        "-r",
        "1",
        "--out",
        s(&out),
    ]);
    ok(&o);
    // Every command that takes a size.
    let baseline = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/library/baseline.toml");
    for args in [
        vec!["compare", s(&baseline), "-n", "100000000", "-o", s(&out)],
        vec!["trial", "dpp", "--screened", "100000000", "--out", s(&out)],
        vec![
            "cohort",
            "synth",
            "--n",
            "100000000",
            "--out",
            s(&out.join("c.parquet")),
        ],
        vec!["bench", "--patients", "100000000"],
    ] {
        let o = limited(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(
            stderr(&o).contains("at most about"),
            "{args:?}: {}",
            stderr(&o)
        );
    }
    let o = bin()
        .args(["run", "--patients", "10", "--out", s(&out)])
        .env("HEALTHTWIN_MEMORY_LIMIT", "lots")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
}

/// Under `ulimit -v` (prlimit --as), a size that would abort is refused with exit code 2,
/// and a run that fits still runs.
#[test]
fn an_address_space_limit_is_respected() {
    if Command::new("prlimit").arg("--version").output().is_err() {
        eprintln!("prlimit not available: skipped");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let under_limit = |args: &[&str]| {
        Command::new("prlimit")
            .arg("--as=1500000000")
            .arg(env!("CARGO_BIN_EXE_healthtwin"))
            .args(args)
            .env_remove("HEALTHTWIN_MEMORY_LIMIT")
            .output()
            .unwrap()
    };
    let o = under_limit(&["run", "--patients", "100000000", "--out", s(&out)]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("ulimit -v"), "{}", stderr(&o));
    ok(&under_limit(&[
        "run",
        "-q",
        "--patients",
        "2000",
        "--years",
        "2",
        "--out",
        s(&out),
    ]));
}
