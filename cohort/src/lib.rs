//! Cohorts: the embedded synthetic Japanese population ([`synth`], with its published inputs
//! in [`japan`]), cohort files ([`file`]) and the EMR/PHR importers ([`import`]: FHIR R4,
//! OMOP CDM, Apple Health, plain CSV). Produces engine `Baseline`s, validated.
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
    #[error("{path}{}: column `{field}`: {message}", row.map(|r| format!(", row {r}")).unwrap_or_default())]
    File {
        path: String,
        row: Option<usize>,
        field: String,
        message: String,
    },
}
