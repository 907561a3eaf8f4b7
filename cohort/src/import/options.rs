//! What an import is asked to do: the index date and its windows, strictness, imputation,
//! the age range and where the spill goes.

use std::path::PathBuf;

/// How missing baseline covariates are filled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Impute {
    /// The Japanese sex- and age-specific mean of the synthetic cohort's tables
    /// (`cohort::japan`); smoking false. Marked in the `imputed_*` columns.
    Mean,
    /// People missing any covariate are excluded (counted).
    None,
}

#[derive(Clone, Debug)]
pub struct ImportOptions {
    /// Days since 1970-01-01 of the index date.
    pub index_day: i32,
    /// Measures, questionnaire answers: latest value in [index − lookback, index].
    pub lookback_days: u32,
    /// Medication records: a dispensing, prescription or statement in
    /// [index − rx_window, index], or a period covering the index date.
    pub rx_window_days: u32,
    /// Steps: mean of daily totals in [index − steps_window, index].
    pub steps_window_days: u32,
    pub strict: bool,
    pub impute: Impute,
    /// Included ages at the index date (inclusive).
    pub age_min: f64,
    pub age_max: f64,
    /// Folder for the spill files (the output folder: same disk, removed at the end).
    pub spill_dir: PathBuf,
    /// Records per in-memory sort run of the history (24 bytes each).
    pub sort_run_records: usize,
    /// Longest NDJSON line read (after decompression); a longer one is refused and skipped
    /// without being held, so a gzip bomb or a file without newlines cannot exhaust memory.
    pub max_line_bytes: usize,
    /// Largest FHIR Bundle (`.json`, after decompression): a Bundle is parsed whole.
    pub max_bundle_bytes: usize,
    /// The import date (days since 1970-01-01, UTC): a record dated more than one day after
    /// it (the allowance covers time zones) is refused as a future date.
    pub today_day: i32,
}

impl ImportOptions {
    /// The last day a record may carry: the import date plus one (time zones).
    pub fn latest_day(&self) -> i32 {
        self.today_day.saturating_add(1)
    }

    pub fn new(index_day: i32, spill_dir: PathBuf) -> ImportOptions {
        ImportOptions {
            index_day,
            lookback_days: 365,
            rx_window_days: 180,
            steps_window_days: 90,
            strict: false,
            impute: Impute::Mean,
            age_min: 0.0,
            age_max: 120.0,
            spill_dir,
            sort_run_records: 4_000_000,
            max_line_bytes: 64 << 20,
            max_bundle_bytes: 1 << 30,
            today_day: super::date::today(),
        }
    }
}
