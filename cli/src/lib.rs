//! The library side of the `healthtwin` binary: what is parsed here is also reached by the
//! fuzz targets (`fuzz/`), which cannot link a binary. Holds the input-error type that
//! decides exit code 2 and the `risk` subcommand (its patient-file parser and table).
//! Everything else stays in the binary (`main.rs`).
//!
//! Must never: print; the binary decides what reaches the terminal.

pub mod risk;
pub mod risk_om2;

/// Errors caused by what the user supplied (exit code 2), as opposed to failures while running.
#[derive(Debug)]
pub struct InputError(pub String);

impl std::fmt::Display for InputError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}
impl std::error::Error for InputError {}

pub fn input_error(msg: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(InputError(msg.into()))
}
