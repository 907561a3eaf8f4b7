//! Cohorts: the embedded synthetic Japanese population ([`synth`], with its published inputs
//! in [`japan`]), cohort files ([`file`]: Parquet or CSV) and the EMR/PHR importers
//! ([`import`]: FHIR R4, OMOP CDM, Apple Health, plain CSV). Produces engine `Baseline`s,
//! validated.
//!
//! Must never: print or log identifiers, accept a value it has not range-checked, or let a
//! generated person depend on anything but (seed, id).

pub mod file;
pub mod import;
pub mod japan;
pub mod synth;

pub use synth::{Generator, SyntheticSpec};

#[derive(Debug, thiserror::Error)]
pub enum CohortError {
    #[error("invalid cohort specification: {0}")]
    Spec(String),
    #[error("{path}{}: column `{field}`: {message}", at.map(|a| format!(", {a}")).unwrap_or_default())]
    File {
        path: String,
        at: Option<FilePosition>,
        field: String,
        message: String,
    },
}

/// Where in a cohort file a problem is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FilePosition {
    /// A data row of a Parquet file, 1-based.
    Row(usize),
    /// A line of a CSV file, 1-based (the header is line 1).
    Line(u64),
}

impl std::fmt::Display for FilePosition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FilePosition::Row(n) => write!(f, "row {n}"),
            FilePosition::Line(n) => write!(f, "line {n}"),
        }
    }
}
