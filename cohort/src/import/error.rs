//! Import errors: one refused record ([`RecordError`]: input, line, field, pseudonym, never
//! a raw value), and what stops an import ([`ImportError`]).

use std::io;

/// One refused record. Names the input (format and position, never its path), the line (or
/// Bundle entry) and the field; identifies the person by pseudonym only.
#[derive(Clone, Debug, PartialEq)]
pub struct RecordError {
    /// `fhir input #2` (see [`super::InputName`]).
    pub input: String,
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
            self.input, self.what, self.line, self.field, self.message
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
    /// Reading an input or writing a temporary file failed. `what` is an input's name
    /// (`fhir input #2`) or a description, never a path.
    #[error("{what}: {message}")]
    Io { what: String, message: String },
    #[error("{0}")]
    Input(String),
}

/// An I/O error on `what` (an [`super::InputName`] or a description): the error's kind only,
/// as the OS message can repeat the path.
pub(crate) fn io_err(what: impl std::fmt::Display, e: &io::Error) -> ImportError {
    ImportError::Io {
        what: what.to_string(),
        message: e.kind().to_string(),
    }
}
