//! Cohort import from EMR and PHR data: FHIR R4 (Bulk NDJSON and Bundles, JP Core codes),
//! OMOP CDM v5.4 CSV, Apple Health `export.xml` and a documented plain CSV (docs/data.md).
//!
//! Data flow: a format module ([`fhir`], [`omop`], [`apple`], [`plain`]) streams records and
//! hands each to the [`Importer`], which pseudonymises the person ([`pseudo`]), maps the code
//! ([`codes`]), converts and checks the unit ([`units`]), keeps what the baseline needs in a
//! fixed-size per-person accumulator and appends the value to an on-disk spill of fixed
//! 18-byte records. [`Importer::finish`] picks baseline values at the index date, derives and
//! imputes, sorts the spill externally (bounded memory) into the history and fills the
//! quality report ([`quality`]).
//!
//! The driver, one concern per file: `options` (what an import is asked to do), `source`
//! (where a record came from), `error`, `importer` (bookkeeping of inputs, records and
//! people), `record` (the values of one record), `person` (the per-person accumulator and
//! the baseline at the index date), `finish` (inclusion, baselines, quality → [`ImportResult`]),
//! `spill` (the on-disk external sort) and `history` (reading the sorted history back).
//!
//! Memory: O(people) — about 400 bytes per person plus the hash index — and O(1) in the
//! number of records: each record is parsed, folded into its person's accumulator and
//! spilled; the history is sorted in runs of `sort_run_records` records (24 bytes each in
//! memory) and merged from disk.
//!
//! Must never: keep or print a raw identifier (only pseudonyms leave the [`Importer`]), name
//! an input by its path or file name (inputs are `fhir input #2`: [`InputName`]), drop
//! a record without counting it, write a baseline value outside `file::PLAUSIBLE`, or panic
//! on any input.

pub mod apple;
pub mod codes;
pub mod csvutil;
pub mod date;
pub mod fhir;
pub mod measure;
pub mod omop;
pub mod plain;
pub mod pseudo;
pub mod quality;
pub mod units;

mod error;
mod finish;
mod history;
mod importer;
mod options;
mod person;
mod record;
mod source;
mod spill;

pub(crate) use error::io_err;
pub use error::{ImportError, RecordError};
pub use finish::ImportResult;
pub use history::HistoryRow;
pub use importer::Importer;
pub use options::{ImportOptions, Impute};
pub use person::{covariates_as_of, mean_covariate, HistoryItem, ImportedPerson};
pub use record::Val;
pub(crate) use source::file_len;
pub use source::{At, Format, InputName};
pub use spill::TEMP_PREFIX;
