//! healthtwin's disease models: one module per process, each a set of pure functions of
//! patient state and named, sourced parameters; the engine owns time, randomness and
//! parallelism. This release holds background mortality (the MHLW 2024 life table), type 2
//! diabetes ([`diabetes`]), cardiovascular disease ([`cvd`]) and frailty with long-term care
//! ([`frailty`]), intervention programmes ([`interventions`]) and health economics
//! ([`economics`]), coupled in [`HealthModel`] ([`coupled`]). Each module's functions are
//! generic over the part of the person's state they use (`HasDm`, `HasCvd`, `HasFrailty`,
//! `HasProgrammes`, `HasEcon`); only [`coupled`] names the whole state.
//!
//! Must never: do IO at run time (data is embedded), print, or draw random numbers except
//! through the engine's keyed streams.

pub mod coupled;
pub mod cvd;
pub mod diabetes;
pub mod economics;
pub mod filter;
pub mod frailty;
pub mod interventions;
pub mod layout;
pub mod mortality;
pub mod params;
pub mod trial;

pub use coupled::{HealthModel, PersonState, PersonalTraits, CAUSES, MODULES, STEP_MONTHS};
