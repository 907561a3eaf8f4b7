//! Property-based fuzzing of every import parser: arbitrary bytes and mutated fixtures
//! (truncated, bytes overwritten, bytes inserted) must never panic, and every record read
//! must be accounted for. CI runs 256 cases per parser (about a second in all); a longer
//! session: `PROPTEST_CASES=20000 cargo test --release -p cohort --test import_fuzz`.
//! Coverage-guided fuzzing of the same parsers, driven through files as the CLI drives them,
//! lives in `fuzz/` (docs/validation.md, Fuzzing).

mod common;

use std::io::Cursor;

use cohort::import::{
    apple, csvutil::CsvTable, fhir, omop, plain, Format, ImportResult, InputName,
};
use common::{assert_accounted, fixtures, import_with};
use proptest::prelude::*;

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(256)
}

/// A fixture with one of: a truncation, an overwritten range, inserted bytes.
fn mutated(base: Vec<u8>) -> impl Strategy<Value = Vec<u8>> {
    let n = base.len().max(1);
    (
        0usize..3,
        0..n,
        0usize..64,
        proptest::collection::vec(any::<u8>(), 0..64),
    )
        .prop_map(move |(kind, at, len, bytes)| {
            let mut v = base.clone();
            let at = at.min(v.len());
            match kind {
                0 => v.truncate(at),
                1 => {
                    for (i, b) in bytes.iter().enumerate().take(len) {
                        if let Some(x) = v.get_mut(at + i) {
                            *x = *b;
                        }
                    }
                }
                _ => {
                    let tail = v.split_off(at);
                    v.extend_from_slice(&bytes);
                    v.extend_from_slice(&tail);
                }
            }
            v
        })
}

fn input(bytes: Vec<u8>) -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..512),
        mutated(bytes),
    ]
}

fn check(r: Result<ImportResult, cohort::import::ImportError>) {
    match r {
        Ok(r) => {
            assert_accounted(&r);
            r.history_rows().unwrap();
        }
        // Only input-level errors (a CSV without its header) may stop a default import.
        Err(cohort::import::ImportError::Input(_)) => {}
        Err(e) => panic!("{e}"),
    }
}

fn read(path: &str) -> Vec<u8> {
    std::fs::read(fixtures().join(path)).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn fhir_ndjson_never_panics(bytes in input(read("fhir_ndjson/Observation.ndjson"))) {
        let (r, _d) = import_with(|_| {}, |imp| {
            let i = imp.add_input(InputName::new(Format::Fhir, 1), bytes.len() as u64);
            fhir::read_ndjson_from(imp, Cursor::new(&bytes), i)
        });
        check(r);
    }

    #[test]
    fn fhir_bundle_never_panics(bytes in input(read("fhir_bundle/bundle.json"))) {
        let (r, _d) = import_with(|_| {}, |imp| {
            let i = imp.add_input(InputName::new(Format::Fhir, 1), bytes.len() as u64);
            fhir::read_bundle_bytes(imp, &bytes, i)
        });
        check(r);
    }

    #[test]
    fn omop_tables_never_panic(bytes in input(read("omop/measurement.csv")), table in 0usize..6) {
        let name = omop::TABLES[table];
        let (r, _d) = import_with(|_| {}, |imp| {
            let i = imp.add_input(InputName::new(Format::Omop, 1), bytes.len() as u64);
            let t = CsvTable::from_reader(Cursor::new(&bytes), "fuzz.csv")?;
            omop::read_table(imp, name, t, i)
        });
        check(r);
    }

    #[test]
    fn plain_csv_never_panics(bytes in input(read("csv/records.csv")), persons in any::<bool>()) {
        let which = if persons { "persons" } else { "records" };
        let (r, _d) = import_with(|_| {}, |imp| {
            let i = imp.add_input(InputName::new(Format::Csv, 1), bytes.len() as u64);
            let t = CsvTable::from_reader(Cursor::new(&bytes), "fuzz.csv")?;
            plain::read_table(imp, which, t, i)
        });
        check(r);
    }

    #[test]
    fn apple_xml_never_panics(bytes in input(read("apple/export.xml"))) {
        let (r, _d) = import_with(|_| {}, |imp| {
            let i = imp.add_input(InputName::new(Format::Apple, 1), bytes.len() as u64);
            apple::read_from(imp, Cursor::new(&bytes), i, "fuzz-person")
        });
        check(r);
    }
}
