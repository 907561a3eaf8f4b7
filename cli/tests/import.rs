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
            ".healthtwin-import.lock",
            "cohort.parquet",
            "history.parquet",
            "manifest.json",
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
    assert!(err.contains("fhir input #1, line 3"), "{err}");
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

/// Every output file of an import folder as text (Parquet decoded), with its name.
fn output_texts(out: &Path) -> Vec<(String, String)> {
    let mut v = Vec::new();
    for e in fs::read_dir(out).unwrap() {
        let path = e.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let bytes = fs::read(&path).unwrap();
        v.push((name.clone(), String::from_utf8_lossy(&bytes).into_owned()));
        if name.ends_with(".parquet") {
            v.push((format!("{name} (decoded)"), parquet_text(&path)));
        }
    }
    v
}

fn assert_absent(secrets: &[&str], what: &str, text: &str) {
    for s in secrets {
        assert!(!text.contains(s), "`{s}` found in {what}:\n{text}");
    }
}

/// Runs an import; returns (exit code, stdout + stderr).
fn import_run(args: &[&str]) -> (Option<i32>, String) {
    let mut all = vec!["cohort", "import", "--index-date", "2024-04-01"];
    all.extend_from_slice(args);
    let o = healthtwin(&all, Some(KEY));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    (o.status.code(), text)
}

/// The pseudonyms of a cohort file, in row order.
fn pseudo_ids(cohort: &Path) -> Vec<String> {
    parquet_text(cohort)
        .lines()
        .filter_map(|l| l.strip_prefix("pseudo_id=\""))
        .map(|l| l.trim_end_matches('"').to_string())
        .collect()
}

/// Issue 17, item 1: without --apple-id an Apple export's file name became the person's raw
/// id (so `73519001.xml` got FHIR patient 73519001's pseudonym) and every path was printed.
#[test]
fn file_names_are_never_ids_and_never_printed() {
    let dir = tempfile::tempdir().unwrap();
    let f = fixtures();
    let named = dir.path().join("in");
    fs::create_dir_all(&named).unwrap();
    let fhir = named.join("山田太郎_73519001.ndjson");
    fs::copy(f.join("fhir_ndjson/Patient.ndjson"), &fhir).unwrap();
    let apple = named.join("73519001.xml");
    fs::copy(f.join("apple/export.xml"), &apple).unwrap();
    let broken = named.join("73519001_broken.xml");
    fs::copy(f.join("broken/export_truncated.xml"), &broken).unwrap();
    let secrets = ["73519001", "山田太郎"];

    // The FHIR patient 73519001 alone: its pseudonym.
    let solo = dir.path().join("solo");
    let (code, text) = import_run(&[
        "--fhir",
        fhir.to_str().unwrap(),
        "--out",
        solo.to_str().unwrap(),
    ]);
    assert_eq!(code, Some(0), "{text}");
    assert_absent(&secrets, "output", &text);
    let fhir_ids = pseudo_ids(&solo.join("cohort.parquet"));

    // With the Apple exports, no --apple-id: they are people of their own.
    let out = dir.path().join("out");
    let (code, text) = import_run(&[
        "--fhir",
        fhir.to_str().unwrap(),
        "--apple",
        apple.to_str().unwrap(),
        "--apple",
        broken.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, Some(0), "{text}");
    assert_absent(&secrets, "printed text", &text);
    for (name, t) in output_texts(&out) {
        assert_absent(&secrets, &name, &t);
    }
    let ids = pseudo_ids(&out.join("cohort.parquet"));
    assert_eq!(ids.len(), fhir_ids.len() + 2, "{ids:?}");
    let md = fs::read_to_string(out.join("quality.md")).unwrap();
    assert!(md.contains("apple input #2, line"), "{md}");
    assert!(md.contains("| fhir input #1 |"), "{md}");
    assert!(
        md.contains("2 by a keyed hash of the file's content"),
        "{md}"
    );

    // --strict: the refused record is named by input and line, the person by pseudonym.
    let (code, text) = import_run(&[
        "--strict",
        "--apple",
        broken.to_str().unwrap(),
        "--out",
        dir.path().join("strict").to_str().unwrap(),
    ]);
    assert_eq!(code, Some(2), "{text}");
    assert!(text.contains("apple input #1, line"), "{text}");
    assert!(text.contains("(person p-"), "{text}");
    assert_absent(&secrets, "strict stderr", &text);
    // With --apple-id the export is linked to the FHIR patient, as asked.
    let linked = dir.path().join("linked");
    let (code, text) = import_run(&[
        "--fhir",
        fhir.to_str().unwrap(),
        "--apple",
        apple.to_str().unwrap(),
        "--apple-id",
        "73519001",
        "--out",
        linked.to_str().unwrap(),
    ]);
    assert_eq!(code, Some(0), "{text}");
    assert_eq!(pseudo_ids(&linked.join("cohort.parquet")), fhir_ids);
    assert_absent(&secrets, "printed text", &text);

    // Missing inputs are named by flag and position.
    let (code, text) = import_run(&[
        "--apple",
        named.join("山田太郎_73519001.xml").to_str().unwrap(),
        "--out",
        dir.path().join("missing").to_str().unwrap(),
    ]);
    assert_eq!(code, Some(2), "{text}");
    assert!(text.contains("--apple #1: no such file"), "{text}");
    assert_absent(&secrets, "error", &text);
}

/// Issue 17, item 5: two exports named `export.xml` (the name iOS gives) were merged into
/// one person. Distinct files are distinct people; an identical copy is the same person.
#[test]
fn two_apple_exports_named_export_xml_are_two_people() {
    let dir = tempfile::tempdir().unwrap();
    let original = fs::read_to_string(fixtures().join("apple/export.xml")).unwrap();
    let a = dir.path().join("a/export.xml");
    let b = dir.path().join("b/export.xml");
    let c = dir.path().join("c/export.xml");
    for p in [&a, &b, &c] {
        fs::create_dir_all(p.parent().unwrap()).unwrap();
    }
    fs::write(&a, &original).unwrap();
    fs::write(&b, original.replace("1955-09-09", "1962-02-03")).unwrap();
    fs::write(&c, &original).unwrap();
    let out = dir.path().join("out");
    let (code, text) = import_run(&[
        "--apple",
        a.to_str().unwrap(),
        "--apple",
        b.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("imported 2 people"), "{text}");
    assert_eq!(pseudo_ids(&out.join("cohort.parquet")).len(), 2);
    // The same file again (a copy) is the same person, and the report says so.
    let (code, text) = import_run(&[
        "--apple",
        a.to_str().unwrap(),
        "--apple",
        c.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("imported 1 people"), "{text}");
    let q = fs::read_to_string(out.join("quality.json")).unwrap();
    assert!(q.contains("\"apple_identical_copies\": 1"), "{q}");
    assert!(q.contains("\"person_id_from\": \"content hash\""), "{q}");
    // --apple-id says two files are one person.
    let (code, text) = import_run(&[
        "--apple",
        a.to_str().unwrap(),
        "--apple",
        b.to_str().unwrap(),
        "--apple-id",
        "x1",
        "--apple-id",
        "x1",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("imported 1 people"), "{text}");
}

/// Issue 17, item 2: free text in code, unit, type and value fields was printed in the
/// report when it looked code-like (`YAMADA-TARO`). Codes are shown only with their code
/// system's syntax, units only if known, types only from fixed lists, refused values to two
/// significant digits and never in a message.
#[test]
fn free_text_in_code_unit_type_and_value_fields_is_never_shown() {
    let dir = tempfile::tempdir().unwrap();
    let fhir = dir.path().join("f.ndjson");
    let obs = |code: &str, system: &str, value: &str, unit: &str| {
        format!(
            r#"{{"resourceType":"Observation","status":"final","subject":{{"reference":"Patient/p1"}},"code":{{"coding":[{{"system":"{system}","code":"{code}","display":"YAMADA-TARO"}}]}},"effectiveDateTime":"2024-02-01","valueQuantity":{{"value":{value},"unit":"{unit}"}}}}"#
        )
    };
    let lines = [
        r#"{"resourceType":"Patient","id":"p1","gender":"male","birthDate":"1950-01-01"}"#
            .to_string(),
        obs("YAMADA-TARO", "http://loinc.org", "5", "%"),
        obs("4548-4", "http://hospital.example/YAMADA-TARO", "5", "%"),
        obs("8480-6", "http://loinc.org", "120", "YAMADA"),
        obs("8480-6", "http://loinc.org", "73519001", "mm[Hg]"),
        r#"{"resourceType":"YamadaTaro","id":"x"}"#.to_string(),
        r#"{"resourceType":"Observation","status":"final","subject":{"reference":"Patient/p1"},"code":{"coding":[{"system":"http://loinc.org","code":"72166-2"}]},"effectiveDateTime":"2024-02-01","valueCodeableConcept":{"coding":[{"system":"http://snomed.info/sct","code":"YAMADA-TARO"}]}}"#.to_string(),
    ];
    fs::write(&fhir, lines.join("\n")).unwrap();
    let csv = dir.path().join("csv");
    fs::create_dir_all(&csv).unwrap();
    fs::write(
        csv.join("persons.csv"),
        "person_id,sex,birth_date\np2,female,1950-01-01\n",
    )
    .unwrap();
    fs::write(
        csv.join("records.csv"),
        "person_id,date,item,value,unit\np2,2024-02-01,yamada_taro,1,\np2,2024-02-01,YAMADA|TARO,1,\np2,2024-02-01,loinc|YAMADA-TARO,1,\np2,2024-02-01,weight_kg,60,TARO\n",
    )
    .unwrap();
    let apple = dir.path().join("export.xml");
    fs::write(
        &apple,
        r#"<HealthData><Me HKCharacteristicTypeIdentifierDateOfBirth="1950-01-01" HKCharacteristicTypeIdentifierBiologicalSex="HKBiologicalSexMale"/><Record type="HKQuantityTypeIdentifierYAMADATARO" sourceName="x" unit="count" startDate="2024-02-01 08:00:00 +0900" value="1"/></HealthData>"#,
    )
    .unwrap();
    let out = dir.path().join("out");
    let (code, text) = import_run(&[
        "--fhir",
        fhir.to_str().unwrap(),
        "--csv",
        csv.to_str().unwrap(),
        "--apple",
        apple.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, Some(0), "{text}");
    let secrets = ["YAMADA", "TARO", "yamada", "Taro", "73519001"];
    assert_absent(&secrets, "printed text", &text);
    for (name, t) in output_texts(&out) {
        assert_absent(&secrets, &name, &t);
    }
    let q = fs::read_to_string(out.join("quality.json")).unwrap();
    // Counted, not shown.
    for system in ["loinc", "(other system)", "csv_item", "snomed"] {
        assert!(
            q.contains(&format!("\"system\": \"{system}\"")),
            "{system}: {q}"
        );
    }
    assert!(q.contains("(not an R4 resource type)"), "{q}");
    assert!(q.contains("(other record type)"), "{q}");
    assert!(q.contains("\"max\": 74000000.0"), "{q}");
    // --strict names the field, never the code.
    for input in [
        &["--fhir", fhir.to_str().unwrap()],
        &["--csv", csv.to_str().unwrap()],
    ] {
        let mut args = vec!["--strict", "--out"];
        let strict = dir.path().join("strict");
        args.push(strict.to_str().unwrap());
        args.extend_from_slice(input);
        let (code, text) = import_run(&args);
        assert_eq!(code, Some(2), "{text}");
        assert_absent(&secrets, "strict error", &text);
    }
}

/// Issue 17, item 3: `--codes` given a patient list by mistake printed its first field.
#[test]
fn a_wrong_codes_file_is_refused_by_line_and_column_never_by_content() {
    let dir = tempfile::tempdir().unwrap();
    let wrong = dir.path().join("山田太郎_73519001.csv");
    fs::write(&wrong, "73519001,山田太郎,MRN-12345,x\n").unwrap();
    let (code, text) = import_run(&[
        "--csv",
        fixtures().join("csv").to_str().unwrap(),
        "--codes",
        wrong.to_str().unwrap(),
        "--out",
        dir.path().join("out").to_str().unwrap(),
    ]);
    assert_eq!(code, Some(2), "{text}");
    assert!(
        text.contains("--codes #1, line 1: column `system`"),
        "{text}"
    );
    assert_absent(&["73519001", "山田太郎", "MRN-12345"], "error", &text);
    assert!(!dir.path().join("out/cohort.parquet").exists());
}

/// Issue 17, item 9: an index date in the future would date the baseline (and every age)
/// after today.
#[test]
fn an_index_date_after_today_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let o = healthtwin(
        &[
            "cohort",
            "import",
            "--index-date",
            "2099-01-01",
            "--csv",
            fixtures().join("csv").to_str().unwrap(),
            "--out",
            dir.path().join("out").to_str().unwrap(),
        ],
        Some(KEY),
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("--index-date 2099-01-01: after today"),
        "{err}"
    );
}

fn gzip_to(src: &Path, dest: &Path) {
    use std::io::Write;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(&fs::read(src).unwrap()).unwrap();
    fs::write(dest, e.finish().unwrap()).unwrap();
}

/// Issue 17, item 10: FHIR Bulk Data exports arrive as `.ndjson.gz`. A gzipped fixture
/// imports into the same cohort and history as the plain one; a gzip bomb (a line that
/// decompresses past the 64 MiB line limit) is one refused record.
#[test]
fn gzip_inputs_give_the_same_outputs_and_a_bomb_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let f = fixtures();
    let gz = dir.path().join("gz");
    fs::create_dir_all(&gz).unwrap();
    for e in fs::read_dir(f.join("fhir_ndjson")).unwrap() {
        let p = e.unwrap().path();
        let name = format!("{}.gz", p.file_name().unwrap().to_string_lossy());
        gzip_to(&p, &gz.join(name));
    }
    gzip_to(
        &f.join("fhir_bundle/bundle.json"),
        &dir.path().join("bundle.json.gz"),
    );
    let run = |fhir: &[&Path], out: &str| {
        let out = dir.path().join(out);
        let mut args = vec!["--out".to_string(), out.to_str().unwrap().to_string()];
        for p in fhir {
            args.extend(["--fhir".to_string(), p.to_str().unwrap().to_string()]);
        }
        let (code, text) = import_run(&args.iter().map(String::as_str).collect::<Vec<_>>());
        assert_eq!(code, Some(0), "{text}");
        out
    };
    let plain = run(&[&f.join("fhir_ndjson")], "plain");
    let zipped = run(&[&gz], "zipped");
    let bundle = run(&[&f.join("fhir_bundle/bundle.json")], "bundle");
    let bundle_gz = run(&[&dir.path().join("bundle.json.gz")], "bundle_gz");
    for name in ["cohort.parquet", "history.parquet"] {
        assert_eq!(
            fs::read(plain.join(name)).unwrap(),
            fs::read(zipped.join(name)).unwrap(),
            "{name}"
        );
        assert_eq!(
            fs::read(bundle.join(name)).unwrap(),
            fs::read(bundle_gz.join(name)).unwrap(),
            "{name}"
        );
    }
    let q = fs::read_to_string(zipped.join("quality.json")).unwrap();
    assert!(q.contains("\"compressed\": true"), "{q}");

    // The bomb: 80 MiB of spaces without a newline, about 80 kB compressed.
    let bomb = dir.path().join("bomb.ndjson.gz");
    {
        use std::io::Write;
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(&fs::read(f.join("fhir_ndjson/Patient.ndjson")).unwrap())
            .unwrap();
        let block = vec![b' '; 1 << 20];
        for _ in 0..80 {
            e.write_all(&block).unwrap();
        }
        e.write_all(b"\n").unwrap();
        e.write_all(&fs::read(f.join("fhir_ndjson/Observation.ndjson")).unwrap())
            .unwrap();
        fs::write(&bomb, e.finish().unwrap()).unwrap();
    }
    assert!(fs::metadata(&bomb).unwrap().len() < 1 << 20);
    let out = run(&[&bomb], "bomb");
    let q = fs::read_to_string(out.join("quality.json")).unwrap();
    assert!(q.contains("\"line_too_long\": 1"), "{q}");
    let md = fs::read_to_string(out.join("quality.md")).unwrap();
    assert!(
        md.contains("fhir input #1, line 6: `-`: the line is longer than 64 MiB"),
        "{md}"
    );
    // What came after the bomb was read: the same as the two files without it.
    let two = run(
        &[
            &f.join("fhir_ndjson/Patient.ndjson"),
            &f.join("fhir_ndjson/Observation.ndjson"),
        ],
        "two",
    );
    for name in ["cohort.parquet", "history.parquet"] {
        assert_eq!(
            fs::read(two.join(name)).unwrap(),
            fs::read(out.join(name)).unwrap(),
            "{name}"
        );
    }
}

// ---------------------------------------------------------------------------------------
// Issue 17, item 6: the import folder (manifest written last and removed first, stale and
// temporary files removed, a lock, a writable check, Parquet metadata).

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// If the folder holds a manifest, every file it lists is there with the size and SHA-256
/// it records. Returns whether there was a manifest.
fn manifest_matches(out: &Path) -> bool {
    let Ok(text) = fs::read_to_string(out.join("manifest.json")) else {
        return false;
    };
    let m: serde_json::Value = serde_json::from_str(&text).expect("a complete manifest");
    assert_eq!(m["command"], "cohort import");
    let files = m["files"].as_array().unwrap();
    assert_eq!(files.len(), 5);
    for f in files {
        let name = f["name"].as_str().unwrap();
        let bytes = fs::read(out.join(name)).unwrap_or_else(|_| panic!("{name} missing"));
        assert_eq!(bytes.len() as u64, f["bytes"].as_u64().unwrap(), "{name}");
        assert_eq!(
            sha256_hex(&bytes),
            f["sha256"].as_str().unwrap(),
            "{name} mismatched"
        );
    }
    true
}

fn parquet_metadata(path: &Path) -> Vec<(String, String)> {
    let r = SerializedFileReader::new(fs::File::open(path).unwrap()).unwrap();
    r.metadata()
        .file_metadata()
        .key_value_metadata()
        .map(|kv| {
            kv.iter()
                .map(|k| (k.key.clone(), k.value.clone().unwrap_or_default()))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn the_manifest_is_written_last_and_the_parquet_files_say_where_they_come_from() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let csv = fixtures().join("csv");
    let (code, text) = import_run(&[
        "--csv",
        csv.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, Some(0), "{text}");
    assert!(manifest_matches(&out));
    let m: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(m["demo_key"], false);
    assert_eq!(m["inputs"][0]["input"], "csv input #1 (persons)");
    assert_eq!(m["counts"]["people_included"], 3);
    assert_eq!(m["pseudonym_key_fingerprint"].as_str().unwrap().len(), 16);
    assert!(!fs::read_to_string(out.join("manifest.json"))
        .unwrap()
        .contains(KEY));
    for f in ["cohort.parquet", "history.parquet"] {
        let meta = parquet_metadata(&out.join(f));
        assert!(
            meta.contains(&("healthtwin.origin".into(), "imported".into())),
            "{meta:?}"
        );
        assert!(
            meta.contains(&("healthtwin.demo_key".into(), "false".into())),
            "{meta:?}"
        );
    }
    // A --demo cohort says so in its files.
    let demo = dir.path().join("demo");
    let o = healthtwin(
        &[
            "cohort",
            "import",
            "--demo",
            "--index-date",
            "2024-04-01",
            "--csv",
            csv.to_str().unwrap(),
            "--out",
            demo.to_str().unwrap(),
        ],
        None,
    );
    assert!(o.status.success());
    let meta = parquet_metadata(&demo.join("cohort.parquet"));
    assert!(
        meta.contains(&("healthtwin.demo_key".into(), "true".into())),
        "{meta:?}"
    );
    let m: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(demo.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(m["demo_key"], true);
}

/// A failed import into an earlier import's folder left the old cohort.parquet and
/// history.parquet beside a new quality report about different input.
#[test]
fn a_failed_import_leaves_nothing_of_an_earlier_import() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let f = fixtures();
    let ok = |out: &Path| {
        let (code, text) = import_run(&[
            "--csv",
            f.join("csv").to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ]);
        assert_eq!(code, Some(0), "{text}");
        assert!(manifest_matches(out));
    };
    ok(&out);
    // --strict stops at a broken line: nothing is left, not even the old report.
    let (code, text) = import_run(&[
        "--strict",
        "--fhir",
        f.join("broken/fhir").to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, Some(2), "{text}");
    for name in [
        "manifest.json",
        "cohort.parquet",
        "history.parquet",
        "quality.json",
    ] {
        assert!(!out.join(name).exists(), "{name} left");
    }
    // Nobody included: the new report only, no manifest.
    ok(&out);
    let (code, text) = import_run(&[
        "--csv",
        f.join("csv").to_str().unwrap(),
        "--age-min",
        "100",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, Some(2), "{text}");
    assert!(out.join("quality.md").exists());
    for name in ["manifest.json", "cohort.parquet", "history.parquet"] {
        assert!(!out.join(name).exists(), "{name} left");
    }
}

#[test]
fn another_commands_folder_is_refused_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let csv = fixtures().join("csv");
    // A run's folder: its manifest has no `command`.
    let run = dir.path().join("run");
    fs::create_dir_all(&run).unwrap();
    fs::write(run.join("manifest.json"), "{\"seed\": 1}").unwrap();
    let (code, text) = import_run(&[
        "--csv",
        csv.to_str().unwrap(),
        "--out",
        run.to_str().unwrap(),
    ]);
    assert_eq!(code, Some(2), "{text}");
    assert!(text.contains("not a cohort import's"), "{text}");
    assert_eq!(
        fs::read_to_string(run.join("manifest.json")).unwrap(),
        "{\"seed\": 1}"
    );
    // A synthetic cohort file with no import report beside it.
    let synth = dir.path().join("synth");
    fs::create_dir_all(&synth).unwrap();
    fs::write(synth.join("cohort.parquet"), "x").unwrap();
    let (code, text) = import_run(&[
        "--csv",
        csv.to_str().unwrap(),
        "--out",
        synth.to_str().unwrap(),
    ]);
    assert_eq!(code, Some(2), "{text}");
    assert_eq!(
        fs::read_to_string(synth.join("cohort.parquet")).unwrap(),
        "x"
    );
}

#[cfg(unix)]
#[test]
fn two_imports_into_one_folder_cannot_mix() {
    use rustix::fs::{flock, FlockOperation};
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    fs::create_dir_all(&out).unwrap();
    // Another import holds the folder's lock.
    let lock = fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(out.join(".healthtwin-import.lock"))
        .unwrap();
    flock(&lock, FlockOperation::LockExclusive).unwrap();
    let csv = fixtures().join("csv");
    let (code, text) = import_run(&[
        "--csv",
        csv.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, Some(2), "{text}");
    assert!(
        text.contains("another `healthtwin cohort import` is writing"),
        "{text}"
    );
    assert!(!out.join("quality.json").exists());
    flock(&lock, FlockOperation::Unlock).unwrap();
    let (code, text) = import_run(&[
        "--csv",
        csv.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, Some(0), "{text}");
}

#[test]
fn temporary_files_of_a_killed_import_are_removed_and_an_unwritable_folder_refused() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    fs::create_dir_all(&out).unwrap();
    let orphans = [
        ".healthtwin-import-4242-0-spill-0.tmp",
        ".healthtwin-import-4242-3-run-7.tmp",
        ".cohort.parquet.4242.tmp",
        ".manifest.json.4242.tmp",
    ];
    for o in orphans {
        fs::write(out.join(o), "left by kill -9").unwrap();
    }
    fs::write(out.join("notes.txt"), "the user's").unwrap();
    let csv = fixtures().join("csv");
    let (code, text) = import_run(&[
        "--csv",
        csv.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, Some(0), "{text}");
    for o in orphans {
        assert!(!out.join(o).exists(), "{o} left");
    }
    assert!(out.join("notes.txt").exists());
    // Not writable: refused before any input is read (root can write anywhere: skipped).
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let ro = dir.path().join("ro");
        fs::create_dir_all(&ro).unwrap();
        fs::set_permissions(&ro, fs::Permissions::from_mode(0o555)).unwrap();
        if fs::write(ro.join("probe"), "x").is_err() {
            let (code, text) = import_run(&[
                "--csv",
                csv.to_str().unwrap(),
                "--out",
                ro.to_str().unwrap(),
            ]);
            assert_eq!(code, Some(2), "{text}");
            assert!(text.contains("not writable"), "{text}");
        }
        fs::set_permissions(&ro, fs::Permissions::from_mode(0o755)).unwrap();
    }
}

/// Writes a FHIR NDJSON of `patients` patients and `lines` observations (values depend on
/// `salt`, so two inputs give different outputs).
fn large_fhir(path: &Path, patients: u64, lines: u64, salt: u64) {
    use std::io::Write;
    let mut w = std::io::BufWriter::new(fs::File::create(path).unwrap());
    for p in 0..patients {
        writeln!(
            w,
            r#"{{"resourceType":"Patient","id":"k{p}","gender":"{}","birthDate":"{}-04-01"}}"#,
            if p % 2 == 0 { "male" } else { "female" },
            1940 + p % 40
        )
        .unwrap();
    }
    for i in 0..lines {
        writeln!(
            w,
            r#"{{"resourceType":"Observation","status":"final","subject":{{"reference":"Patient/k{}"}},"code":{{"coding":[{{"system":"http://loinc.org","code":"8480-6"}}]}},"effectiveDateTime":"2023-{:02}-{:02}T09:{:02}:00","valueQuantity":{{"value":{},"unit":"mm[Hg]"}}}}"#,
            i % patients,
            1 + i / patients % 12,
            1 + i / (patients * 12) % 28,
            i % 60,
            100 + (i + salt) % 80
        )
        .unwrap();
    }
    w.flush().unwrap();
}

/// `kill -9` at random points of imports alternating between two inputs into one folder
/// (8 kills of 8 once left a new cohort.parquet beside the old history and report): the
/// folder never holds a manifest whose files do not match it, and the next import cleans up.
#[test]
fn kill_9_never_leaves_a_manifest_with_mismatched_files() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.ndjson");
    let b = dir.path().join("b.ndjson");
    large_fhir(&a, 5_000, 150_000, 0);
    large_fhir(&b, 5_000, 150_000, 7);
    let out = dir.path().join("out");
    let spawn = |input: &Path| {
        Command::new(env!("CARGO_BIN_EXE_healthtwin"))
            .args([
                "cohort",
                "import",
                "-q",
                "--index-date",
                "2024-04-01",
                "--fhir",
                input.to_str().unwrap(),
                "--out",
                out.to_str().unwrap(),
            ])
            .env("HEALTHTWIN_PSEUDONYM_KEY", KEY)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap()
    };
    // A complete import first, and its duration.
    let t0 = std::time::Instant::now();
    assert!(spawn(&a).wait().unwrap().success());
    let full = t0.elapsed();
    assert!(manifest_matches(&out));
    let first = fs::read(out.join("cohort.parquet")).unwrap();
    // Kill at pseudo-random points spread over (and past) a full run.
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut with_manifest = 0;
    for k in 0..10 {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let frac = 0.02 + (seed % 1000) as f64 / 1000.0 * 1.1;
        let mut child = spawn(if k % 2 == 0 { &b } else { &a });
        std::thread::sleep(full.mul_f64(frac));
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
        if manifest_matches(&out) {
            with_manifest += 1;
        }
    }
    // The next import completes and leaves no temporary file.
    assert!(spawn(&b).wait().unwrap().success());
    assert!(manifest_matches(&out));
    assert_ne!(fs::read(out.join("cohort.parquet")).unwrap(), first);
    let temps: Vec<String> = fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(temps.is_empty(), "{temps:?}");
    eprintln!("kills that found a complete import: {with_manifest} of 10");
}

// ---------------------------------------------------------------------------------------
// Issue 17: planted identifiers in every format and in every file name.

/// What the planted inputs add to [`SECRETS`]: names and ids in file and folder names and in
/// free-text, code, unit, type and value fields.
const PLANTED: [&str; 9] = [
    "山田太郎",
    "佐藤花子",
    "YAMADA",
    "TARO",
    "MRN-12345",
    "80012345",
    "高橋恵子",
    "Suzuki",
    "伊藤健太",
];

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for e in fs::read_dir(from).unwrap() {
        let p = e.unwrap().path();
        fs::copy(&p, to.join(p.file_name().unwrap())).unwrap();
    }
}

fn append(path: &Path, text: &str) {
    let mut s = fs::read(path).unwrap();
    if !s.ends_with(b"\n") {
        s.push(b'\n');
    }
    s.extend_from_slice(text.as_bytes());
    fs::write(path, s).unwrap();
}

/// The fixtures, copied under file and folder names holding names and ids, with more of
/// them planted in fields that are read (codes, units, types, values, ids).
fn planted_inputs(root: &Path) -> Vec<String> {
    let f = fixtures();
    let fhir = root.join("山田太郎_73519001");
    fs::create_dir_all(&fhir).unwrap();
    for e in fs::read_dir(f.join("fhir_ndjson")).unwrap() {
        let p = e.unwrap().path();
        let name = format!(
            "山田太郎_73519001_{}",
            p.file_name().unwrap().to_string_lossy()
        );
        fs::copy(&p, fhir.join(name)).unwrap();
    }
    append(
        &fhir.join("山田太郎_73519001_Observation.ndjson"),
        concat!(
            r#"{"resourceType":"Observation","status":"final","subject":{"reference":"Patient/MRN-12345"},"code":{"coding":[{"system":"http://loinc.org","code":"YAMADA-TARO","display":"山田太郎"}]},"effectiveDateTime":"2024-02-01","valueQuantity":{"value":1,"unit":"Suzuki"}}"#,
            "\n",
            r#"{"resourceType":"Observation","status":"final","subject":{"reference":"Patient/73519001"},"code":{"coding":[{"system":"http://loinc.org","code":"8480-6"}]},"effectiveDateTime":"2024-02-01","valueQuantity":{"value":80012345,"unit":"mm[Hg]"}}"#,
            "\n",
            r#"{"resourceType":"佐藤花子","id":"80012345"}"#,
            "\n",
            r#"{"resourceType":"Observation","status":"final","subject":{"reference":"Patient/73519001"},"code":{"coding":[{"system":"http://hospital.example/MRN-12345","code":"TARO"}]},"effectiveDateTime":"2024-02-01","valueQuantity":{"value":1,"unit":"kg"}}"#,
            "\n"
        ),
    );
    let gz = root.join("佐藤花子_73519002.ndjson.gz");
    gzip_to(&fhir.join("山田太郎_73519001_Observation.ndjson"), &gz);
    let bundle = root.join("MRN-12345_高橋恵子.json");
    fs::copy(f.join("fhir_bundle/bundle.json"), &bundle).unwrap();
    let broken = root.join("伊藤健太_73519007.ndjson");
    fs::copy(f.join("broken/fhir/Observation.ndjson"), &broken).unwrap();
    let omop = root.join("Suzuki_80012345_omop");
    copy_dir(&f.join("omop"), &omop);
    append(
        &omop.join("measurement.csv"),
        "99,73519001,0,2024-02-01,,,32817,,5,,,,,,,,YAMADA-TARO,0,TARO,,5,,\n",
    );
    append(
        &omop.join("drug_exposure.csv"),
        "99,73519001,0,2024-02-01,,,,,,,,,,,,,,,,,,,,山田太郎 アムロジピン,,,\n",
    );
    let csv = root.join("佐藤花子_csv");
    copy_dir(&f.join("broken/csvdir"), &csv);
    append(
        &csv.join("records.csv"),
        "73519009,2024-02-01,山田太郎,1,\n73519009,2024-02-01,YAMADA|TARO,1,\n73519009,2024-02-01,weight_kg,60,TARO\n80012345,2099-01-01,weight_kg,60,kg\n",
    );
    let apple = root.join("73519001.xml");
    fs::copy(f.join("apple/export.xml"), &apple).unwrap();
    let apple_broken = root.join("高橋恵子_80012345.xml");
    fs::copy(f.join("broken/export_truncated.xml"), &apple_broken).unwrap();
    let codes = root.join("山田太郎_codes.csv");
    fs::write(
        &codes,
        "system,match,code,target,answer,status,source\nhot9,exact,123456701,rx_lipid_lowering,,[A],local list of 山田太郎\n",
    )
    .unwrap();
    let p = |x: &Path| x.to_str().unwrap().to_string();
    vec![
        "--fhir".into(),
        p(&fhir),
        "--fhir".into(),
        p(&gz),
        "--fhir".into(),
        p(&bundle),
        "--fhir".into(),
        p(&broken),
        "--omop".into(),
        p(&omop),
        "--csv".into(),
        p(&csv),
        "--apple".into(),
        p(&apple),
        "--apple".into(),
        p(&apple_broken),
        "--codes".into(),
        p(&codes),
    ]
}

fn assert_nothing_planted_leaves(what: &str, text: &str) {
    assert_clean(what, text);
    assert_absent(&PLANTED, what, text);
}

#[test]
fn planted_identifiers_in_every_format_and_file_name_never_leave() {
    let dir = tempfile::tempdir().unwrap();
    let inputs = planted_inputs(&dir.path().join("in"));
    let out = dir.path().join("out");
    let check_folder = |label: &str| {
        for (name, text) in output_texts(&out) {
            assert_nothing_planted_leaves(&format!("{label}: {name}"), &text);
        }
        for f in ["cohort.parquet", "history.parquet"] {
            if out.join(f).exists() {
                let meta = format!("{:?}", parquet_metadata(&out.join(f)));
                assert_nothing_planted_leaves(&format!("{label}: {f} metadata"), &meta);
            }
        }
    };
    let run = |label: &str, extra: &[&str], expect: i32| {
        let mut args: Vec<&str> = inputs.iter().map(String::as_str).collect();
        args.extend_from_slice(extra);
        args.extend(["--out", out.to_str().unwrap()]);
        let (code, text) = import_run(&args);
        assert_eq!(code, Some(expect), "{label}: {text}");
        assert_nothing_planted_leaves(&format!("{label}: printed"), &text);
        check_folder(label);
        text
    };
    // Good and broken inputs together, without --apple-id: the exports are people of
    // their own (by content), never named by file.
    let text = run("default", &[], 0);
    assert!(text.contains("refused records are listed"), "{text}");
    let md = fs::read_to_string(out.join("quality.md")).unwrap();
    for expected in [
        "fhir input #9",
        "fhir input #10",
        "omop input #1 (measurement)",
        "csv input #1 (records)",
        "apple input #2, line",
        "future_date",
    ] {
        assert!(md.contains(expected), "{expected}: {md}");
    }
    let q = fs::read_to_string(out.join("quality.json")).unwrap();
    assert!(q.contains("(not an R4 resource type)"), "{q}");
    assert!(manifest_matches(&out));
    // With --apple-id.
    run(
        "--apple-id",
        &["--apple-id", "73519006", "--apple-id", "73519006"],
        0,
    );
    // --strict stops at the first refused record.
    let text = run("--strict", &["--strict"], 2);
    assert!(text.contains("[--strict stops"), "{text}");
    // A missing input whose path holds a name.
    let missing = dir.path().join("in/山田太郎_73519001_missing.xml");
    let text = run("missing", &["--apple", missing.to_str().unwrap()], 2);
    assert!(text.contains("--apple #3: no such file"), "{text}");
}
