//! Outputs: summary tables, patient and trace files, cohort files; CSV and Parquet, each
//! written atomically (temporary file, then rename), into output folders that one command
//! at a time holds ([`OutputDir`]), with disclosure control of every aggregate
//! ([`disclosure`]) and the origin of cohort files ([`provenance`]).
//!
//! Must never: write identifying data (only pseudonymous ids reach this crate), leave a
//! partial file behind, or compute model quantities (it formats what the engine produced).

pub mod disclosure;
pub mod html;
pub mod output_dir;
pub mod outputs;
pub mod plot;
pub mod provenance;
pub mod pyramid;
pub mod table;

pub use output_dir::{OutputDir, OutputError};
pub use table::{
    link_or_copy, parquet_group_rows, write_atomic, write_csv, write_parquet,
    write_parquet_with_metadata, AtomicDir, ParquetGroups, ParquetSink, ReportError, Table, Values,
};
