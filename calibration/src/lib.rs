//! Calibration of healthtwin's population parameters: targets as data ([`targets`]),
//! parameters with priors ([`priors`]), simulations of parameter sets on the study runner
//! with common random numbers ([`simulate`], statistics from each run in [`stats`]), the
//! distance to the targets ([`distance`]), ABC-SMC for a posterior sample ([`abc`]) and
//! Nelder–Mead for a quick point fit ([`optim`]); empirical targets from an imported
//! cohort's history ([`empirical`]) and their federated form, aggregate site summaries with
//! small cells suppressed ([`federated`]); validation metrics of predicted risk
//! ([`validation`]); the outputs: posterior file, parameter file, report ([`output`],
//! [`report`]).
//!
//! Must never: print, read flags, run a year or replicate loop of its own (every simulation
//! is a `study::Study` run by `study::run`), or draw from anything but keyed streams.

pub mod abc;
pub mod distance;
pub mod empirical;
pub mod federated;
pub mod optim;
pub mod output;
pub mod priors;
pub mod report;
pub mod simulate;
pub mod stats;
pub mod targets;
pub mod validation;

/// Why a calibration cannot run or its inputs are unusable.
#[derive(Debug, thiserror::Error)]
pub enum CalibrationError {
    /// A user-supplied file is unusable (the message names the record and the field).
    #[error("{file}: {message}")]
    Input { file: String, message: String },
    /// The calibration as asked cannot run (targets and model disagree, empty population).
    #[error("{0}")]
    Setup(String),
    #[error(transparent)]
    Report(#[from] ::report::ReportError),
}
