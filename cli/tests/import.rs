//! `healthtwin cohort import` end to end: the outputs run, and no identifier from the input
//! appears in any output file or in anything printed.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use parquet::file::reader::{FileReader, SerializedFileReader};

fn healthtwin(args: &[&str], key: Option<&str>) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_healthtwin"));
    c.args(args).env_remove("HEALTHTWIN_PSEUDONYM_KEY");
    if let Some(k) = key {
        c.env("HEALTHTWIN_PSEUDONYM_KEY", k);
    }
    c.output().expect("binary runs")
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../cohort/tests/fixtures")
}

const KEY: &str = "cli-test-key-0123456789abcdef-0123456789abcdef";

/// Every text a Parquet file holds, decoded (the bytes on disk are compressed).
fn parquet_text(path: &Path) -> String {
    let r = SerializedFileReader::new(fs::File::open(path).unwrap()).unwrap();
    let mut s = String::new();
    for row in r.get_row_iter(None).unwrap() {
        let row = row.unwrap();
        for (name, f) in row.get_column_iter() {
            s.push_str(name);
            s.push('=');
            s.push_str(&f.to_string());
            s.push('\n');
        }
    }
    s
}

/// Identifiers, names, addresses and phone numbers written into the fixtures.
const SECRETS: [&str; 26] = [
    "73519001",
    "73519002",
    "73519003",
    "73519004",
    "73519005",
    "73519006",
    "73519007",
    "73519008",
    "73519009",
    "MRN-4471",
    "山田",
    "太郎",
    "佐藤",
    "花子",
    "鈴木",
    "高橋",
    "田中",
    "伊藤",
    "健太",
    "Müller",
    "丸の内",
    "梅田",
    "左京区",
    "03-5555-0199",
    "100-0005",
    "千代田区",
];

fn assert_clean(what: &str, text: &str) {
    for s in SECRETS {
        assert!(!text.contains(s), "`{s}` found in {what}");
    }
}

#[test]
fn no_identifier_reaches_any_output_or_log_and_the_cohort_runs() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("cohort");
    let f = fixtures();
    let o = healthtwin(
        &[
            "cohort",
            "import",
            "--fhir",
            f.join("fhir_ndjson").to_str().unwrap(),
            "--fhir",
            f.join("broken/fhir").to_str().unwrap(),
            "--omop",
            f.join("omop").to_str().unwrap(),
            "--csv",
            f.join("broken/csvdir").to_str().unwrap(),
            "--apple",
            f.join("apple/export.xml").to_str().unwrap(),
            "--apple-id",
            "73519006",
            "--index-date",
            "2024-04-01",
            "--out",
            out.to_str().unwrap(),
        ],
        Some(KEY),
    );
    let stderr = String::from_utf8_lossy(&o.stderr).into_owned();
    let stdout = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(o.status.success(), "{stderr}");
    assert!(stderr.contains("imported"), "{stderr}");
    assert_clean("stderr", &stderr);
    assert_clean("stdout", &stdout);
    let mut files: Vec<String> = fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    assert_eq!(
        files,
        [
            "cohort.parquet",
            "history.parquet",
            "quality.csv",
            "quality.json",
            "quality.md"
        ]
    );
    for name in &files {
        let path = out.join(name);
        let bytes = fs::read(&path).unwrap();
        assert_clean(name, &String::from_utf8_lossy(&bytes));
        if name.ends_with(".parquet") {
            let text = parquet_text(&path);
            assert!(text.contains("pseudo_id=\"p-"), "{name} has pseudonyms");
            assert_clean(name, &text);
        }
    }
    let md = fs::read_to_string(out.join("quality.md")).unwrap();
    assert!(md.contains("malformed_json"));
    // The imported cohort runs.
    let run_out = dir.path().join("run");
    let o = healthtwin(
        &[
            "run",
            "-q",
            "--cohort",
            out.join("cohort.parquet").to_str().unwrap(),
            "--years",
            "3",
            "--replicates",
            "2",
            "--out",
            run_out.to_str().unwrap(),
        ],
        None,
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(run_out.join("manifest.json").exists());
    assert_clean("run stderr", &String::from_utf8_lossy(&o.stderr));

    // --strict: the error names file and line, never the raw id.
    let o = healthtwin(
        &[
            "cohort",
            "import",
            "--strict",
            "--fhir",
            f.join("broken/fhir").to_str().unwrap(),
            "--index-date",
            "2024-04-01",
            "--out",
            dir.path().join("strict").to_str().unwrap(),
        ],
        Some(KEY),
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("Observation.ndjson, line 3"), "{err}");
    assert_clean("strict stderr", &err);
}

#[test]
fn refuses_to_run_without_a_key_unless_in_demo_mode() {
    let dir = tempfile::tempdir().unwrap();
    let csv = fixtures().join("csv");
    let args = |out: &Path| {
        vec![
            "cohort".to_string(),
            "import".into(),
            "--csv".into(),
            csv.to_str().unwrap().into(),
            "--index-date".into(),
            "2024-04-01".into(),
            "--out".into(),
            out.to_str().unwrap().into(),
        ]
    };
    let a = args(&dir.path().join("a"));
    let o = healthtwin(&a.iter().map(String::as_str).collect::<Vec<_>>(), None);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("no pseudonymisation key"));
    assert!(!dir.path().join("a/cohort.parquet").exists());
    let o = healthtwin(
        &a.iter().map(String::as_str).collect::<Vec<_>>(),
        Some("too-short"),
    );
    assert_eq!(o.status.code(), Some(2));
    let mut b = args(&dir.path().join("b"));
    b.push("--demo".into());
    let o = healthtwin(&b.iter().map(String::as_str).collect::<Vec<_>>(), None);
    assert!(o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("WARNING: DEMO MODE"));
    let q = fs::read_to_string(dir.path().join("b/quality.json")).unwrap();
    assert!(q.contains("\"pseudonym_key_demo\": true"));
    // Different keys, different pseudonyms; the same key, the same ones.
    let key_file = dir.path().join("key");
    fs::write(&key_file, KEY).unwrap();
    let mut c = args(&dir.path().join("c"));
    c.extend(["--key-file".to_string(), key_file.to_str().unwrap().into()]);
    assert!(
        healthtwin(&c.iter().map(String::as_str).collect::<Vec<_>>(), None)
            .status
            .success()
    );
    let d = args(&dir.path().join("d"));
    assert!(
        healthtwin(&d.iter().map(String::as_str).collect::<Vec<_>>(), Some(KEY))
            .status
            .success()
    );
    let ids = |p: &str| parquet_text(&dir.path().join(p).join("cohort.parquet"));
    assert_eq!(ids("c"), ids("d"));
    assert_ne!(ids("b"), ids("c"));
}
