//! Where a record came from: its format ([`Format`]) and its place in its file ([`At`]), for
//! errors, the quality report and the `source` column of the history.

use std::fs;
use std::path::Path;

/// Where a record came from, for errors and the quality report.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum Format {
    Fhir = 0,
    Omop = 1,
    Apple = 2,
    Csv = 3,
}

impl Format {
    pub fn name(self) -> &'static str {
        match self {
            Format::Fhir => "fhir",
            Format::Omop => "omop",
            Format::Apple => "apple",
            Format::Csv => "csv",
        }
    }
    pub(super) fn from_index(i: u8) -> Format {
        match i {
            0 => Format::Fhir,
            1 => Format::Omop,
            2 => Format::Apple,
            _ => Format::Csv,
        }
    }
}

/// Where a record sits in its file.
#[derive(Clone, Copy, Debug)]
pub struct At<'a> {
    pub input: usize,
    pub file: &'a str,
    /// `line`, `entry` or `record`.
    pub what: &'static str,
    pub line: u64,
}

/// Size of an input file in bytes, for the quality report (0 if it cannot be read: the
/// reader then reports the error itself).
pub(crate) fn file_len(path: &Path) -> u64 {
    fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}
