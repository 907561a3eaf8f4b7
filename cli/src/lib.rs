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

/// `healthtwin risk`: the table to print (the UKPDS OM2 equations from `risk_om2`, every other
/// equation from `risk`).
pub fn risk_table(args: &risk::RiskArgs) -> anyhow::Result<String> {
    let from_file = match &args.patient {
        Some(path) => risk::read_patient_file(path)?,
        None => risk::PatientSpec::default(),
    };
    let spec = from_file.overridden_by(args.spec.to_spec());
    let (om2, others): (Vec<String>, Vec<String>) = args
        .equation
        .iter()
        .cloned()
        .partition(|n| risk_om2::is_om2(n));
    let mut out = String::new();
    if !om2.is_empty() {
        let patient = risk::to_risk_input(&spec)?;
        let c = risk_om2::covariates(&patient, &args.om2)?;
        out += &risk_om2::render(&om2, &c)?;
        if others.is_empty() {
            return Ok(out);
        }
    }
    out += &risk::assess(&spec, &others)?;
    Ok(out)
}
