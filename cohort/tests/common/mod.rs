//! Shared helpers of the import tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use cohort::import::{
    codes::CodeMap, date, pseudo::Pseudonymiser, ImportOptions, ImportResult, Importer,
};

pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

pub fn index_day() -> i32 {
    date::parse("2024-04-01").unwrap().day
}

pub fn key() -> Pseudonymiser {
    Pseudonymiser::new(b"test-key-0123456789-0123456789-0123456789").unwrap()
}

/// Runs an import into a fresh spill folder.
pub fn import_with(
    opts: impl FnOnce(&mut ImportOptions),
    feed: impl FnOnce(&mut Importer) -> Result<(), cohort::import::ImportError>,
) -> (
    Result<ImportResult, cohort::import::ImportError>,
    tempfile::TempDir,
) {
    let dir = tempfile::tempdir().unwrap();
    let mut o = ImportOptions::new(index_day(), dir.path().to_path_buf());
    opts(&mut o);
    let mut imp = Importer::new(o, CodeMap::embedded(), key()).unwrap();
    let fed = feed(&mut imp);
    let res = fed.and_then(|()| imp.finish());
    (res, dir)
}

/// A result with its spill folder (the sorted history lives there until dropped).
pub struct Imported {
    pub r: ImportResult,
    _dir: tempfile::TempDir,
}

impl std::ops::Deref for Imported {
    type Target = ImportResult;
    fn deref(&self) -> &ImportResult {
        &self.r
    }
}

pub fn import(
    feed: impl FnOnce(&mut Importer) -> Result<(), cohort::import::ImportError>,
) -> Imported {
    let (r, dir) = import_with(|_| {}, feed);
    let r = r.unwrap();
    // The spill and run files are gone; only the sorted history remains until dropped.
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert!(left.len() <= 1, "temporary files left: {}", left.len());
    Imported { r, _dir: dir }
}

/// Every record is filed under exactly one outcome.
pub fn assert_accounted(r: &ImportResult) {
    for i in &r.quality.inputs {
        assert_eq!(
            i.records_read,
            i.mapped + i.ignored + i.unmapped + i.errors,
            "{}: {:?}",
            i.input,
            i
        );
        assert_eq!(i.records_read, i.kinds.values().sum::<u64>(), "{}", i.input);
    }
    let q = &r.quality;
    assert_eq!(
        q.persons.seen,
        q.persons.included + q.persons.excluded.values().sum::<u64>()
    );
    assert_eq!(q.persons.included as usize, r.people.len());
}
