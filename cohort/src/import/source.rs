//! Where a record came from: its format ([`Format`]), its input ([`InputName`]: the format
//! and the input's position, never a path) and its place in that input ([`At`]), for
//! errors, the quality report and the `source` column of the history.
//!
//! Must never: name an input by its path or file name. File names are chosen by whoever
//! exported the data and often hold a patient number or a name (`山田太郎_73519001.ndjson`,
//! `73519001.xml`), so an input is `fhir input #2` and an OMOP table `omop input #1
//! (measurement.csv)`, with the table name from a fixed list.

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

/// How an input is named in errors and in the report: `fhir input #2`, `omop input #1
/// (measurement.csv)`. The position is 1-based among the inputs of its format, in the order
/// given (a FHIR folder's files in name order); `part` is a table of a folder input and is a
/// `'static` name from the reader's fixed list, so no text from the data or the file system
/// can reach it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InputName {
    pub format: Format,
    pub position: u32,
    pub part: Option<&'static str>,
}

impl InputName {
    pub fn new(format: Format, position: u32) -> InputName {
        InputName {
            format,
            position,
            part: None,
        }
    }
    pub fn with_part(self, part: &'static str) -> InputName {
        InputName {
            part: Some(part),
            ..self
        }
    }
}

impl std::fmt::Display for InputName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} input #{}", self.format.name(), self.position)?;
        if let Some(p) = self.part {
            write!(f, " ({p})")?;
        }
        Ok(())
    }
}

/// Where a record sits in its input.
#[derive(Clone, Copy, Debug)]
pub struct At {
    /// The index [`super::Importer::add_input`] returned.
    pub input: usize,
    /// `line`, `entry` or `record`.
    pub what: &'static str,
    pub line: u64,
}

/// Size of an input file in bytes, for the quality report (0 if it cannot be read: the
/// reader then reports the error itself).
pub(crate) fn file_len(path: &Path) -> u64 {
    fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}
