//! Outputs: summary tables, patient and trace files, cohort files; CSV and Parquet, each
//! written atomically (temporary file, then rename).
//!
//! Must never: write identifying data (only pseudonymous ids reach this crate), leave a
//! partial file behind, or compute model quantities (it formats what the engine produced).

pub mod html;
pub mod outputs;
pub mod plot;
pub mod pyramid;
pub mod table;

pub use table::{
    write_atomic, write_csv, write_parquet, write_parquet_with_metadata, ParquetSink, ReportError,
    Table, Values,
};
