//! Gzip-compressed FHIR inputs (issue 17, item 10): `.ndjson.gz` and `.json.gz` read as a
//! stream give what the plain files give; a line or Bundle too large after decompression
//! (a gzip bomb) is refused without being held; a corrupt stream is one refused record.

mod common;

use std::io::Write;

use cohort::import::fhir;
use common::{assert_accounted, fixtures, import_with};
use flate2::write::GzEncoder;
use flate2::Compression;

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), Compression::default());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

#[test]
fn a_line_longer_than_the_limit_is_refused_and_the_next_one_read() {
    let dir = tempfile::tempdir().unwrap();
    let patient =
        br#"{"resourceType":"Patient","id":"p1","gender":"male","birthDate":"1950-01-01"}"#;
    let mut text = Vec::new();
    text.extend_from_slice(patient);
    text.push(b'\n');
    // A bomb: 8 MiB without a newline compresses to a few kB.
    text.extend(std::iter::repeat_n(b' ', 8 << 20));
    text.push(b'\n');
    text.extend_from_slice(br#"{"resourceType":"Observation","status":"final","subject":{"reference":"Patient/p1"},"code":{"coding":[{"system":"http://loinc.org","code":"4548-4"}]},"effectiveDateTime":"2024-02-01","valueQuantity":{"value":6.4,"unit":"%"}}"#);
    let gz = gzip(&text);
    assert!(gz.len() < 100_000);
    let path = dir.path().join("x.ndjson.gz");
    std::fs::write(&path, &gz).unwrap();
    let (r, _d) = import_with(
        |o| o.max_line_bytes = 1 << 20,
        |imp| fhir::read_file(imp, &path, 1),
    );
    let r = r.unwrap();
    assert_accounted(&r);
    let q = &r.quality;
    assert!(q.inputs[0].compressed);
    assert_eq!(q.errors.by_kind.get("line_too_long"), Some(&1), "{q:?}");
    assert!(
        q.errors.first[0].starts_with("fhir input #1, line 2:"),
        "{:?}",
        q.errors.first
    );
    assert_eq!(r.people[0].baseline.covariates.hba1c_pct, 6.4);
    assert_eq!(q.inputs[0].records_read, 3);
}

#[test]
fn a_bundle_larger_than_the_limit_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut bundle = br#"{"resourceType":"Bundle","entry":[]}"#.to_vec();
    bundle.extend(std::iter::repeat_n(b' ', 4 << 20));
    let path = dir.path().join("b.json.gz");
    std::fs::write(&path, gzip(&bundle)).unwrap();
    let (r, _d) = import_with(
        |o| o.max_bundle_bytes = 1 << 20,
        |imp| fhir::read_file(imp, &path, 1),
    );
    let r = r.unwrap();
    assert_accounted(&r);
    assert_eq!(
        r.quality.errors.by_kind.get("bundle_too_large"),
        Some(&1),
        "{:?}",
        r.quality.errors
    );
}

#[test]
fn a_truncated_gzip_stream_keeps_what_came_before() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read(fixtures().join("fhir_ndjson/Patient.ndjson")).unwrap();
    let mut many = Vec::new();
    for _ in 0..200 {
        many.extend_from_slice(&text);
    }
    let gz = gzip(&many);
    let path = dir.path().join("p.ndjson.gz");
    std::fs::write(&path, &gz[..gz.len() / 2]).unwrap();
    let (r, _d) = import_with(|_| {}, |imp| fhir::read_file(imp, &path, 1));
    let r = r.unwrap();
    assert_accounted(&r);
    let q = &r.quality;
    assert_eq!(q.errors.by_kind.get("bad_compression"), Some(&1), "{q:?}");
    assert!(q.inputs[0].mapped > 100, "{:?}", q.inputs[0]);
    let plain = dir.path().join("p.ndjson");
    std::fs::write(&plain, &text).unwrap();
    let (all, _d) = import_with(|_| {}, |imp| fhir::read_file(imp, &plain, 1));
    assert_eq!(r.people, all.unwrap().people);
}
