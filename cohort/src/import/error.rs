//! Import errors: one refused record ([`RecordError`]: file, line, field, pseudonym, never
//! a raw value), and what stops an import ([`ImportError`]).

use std::io;
use std::path::Path;

/// One refused record. Names the file, line (or record number) and field; identifies the
/// person by pseudonym only.
#[derive(Clone, Debug, PartialEq)]
pub struct RecordError {
    pub file: String,
    /// `line` (NDJSON, CSV, XML), `entry` (FHIR Bundle) or `record`.
    pub what: &'static str,
    pub line: u64,
    pub field: String,
    pub kind: &'static str,
    pub message: String,
    pub pseudonym: Option<String>,
}

impl std::fmt::Display for RecordError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}, {} {}: `{}`: {}",
            self.file, self.what, self.line, self.field, self.message
        )?;
        if let Some(p) = &self.pseudonym {
            write!(f, " (person {p})")?;
        }
        Ok(())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// `--strict`: the first refused record.
    #[error("{0} [--strict stops at the first refused record]")]
    Strict(Box<RecordError>),
    #[error("{path}: {message}")]
    Io { path: String, message: String },
    #[error("{0}")]
    Input(String),
}

pub(crate) fn io_err(path: &Path, e: &io::Error) -> ImportError {
    ImportError::Io {
        path: path.display().to_string(),
        message: e.kind().to_string(),
    }
}
