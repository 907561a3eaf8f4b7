//! healthtwin's Monte Carlo engine.
//!
//! Owns simulated time (the step loop in [`run`]), randomness ([`rng`]: counter-based,
//! keyed by seed, replicate, process, patient and step), parallelism (rayon over patient
//! chunks), ODE integration behind a trait ([`ode`]) and streaming aggregation ([`observe`]).
//! Disease models plug in through [`run::Model`].
//!
//! Must never: do IO, depend on polars or clap, hold global random state, or let results
//! depend on the thread count or chunk size.

pub mod detmath;
pub mod math;
pub mod observe;
pub mod ode;
pub mod patient;
pub mod rk;
pub mod rng;
pub mod run;
pub mod stiff;
pub mod summary;
pub mod units;

pub use observe::{Aggregator, MetricDef, MetricKind, Recorder};
pub use patient::{Baseline, Conditions, Covariates, Death, Patient, Sex, Treatments};
pub use rng::{Process, RunKey, Stream, StreamKey};
pub use run::{
    init_patients, init_patients_into, simulate, Model, RunSettings, StepCtx, MAX_CAUSES,
};
