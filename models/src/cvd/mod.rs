//! Cardiovascular disease: per-person risk-factor trajectories (SBP/DBP, LDL/HDL/total
//! cholesterol, BMI, smoking), check-ups and treatment (antihypertensives, statins) acting
//! mechanistically on the risk factors, and events (myocardial infarction, ischaemic and
//! haemorrhagic stroke, heart failure) with case fatality, recurrence and excess mortality
//! after an event.
//!
//! Hazards come from published equations ([`equations`]): the Hisayama ASCVD score for people
//! without diabetes, the UKPDS Outcomes Model 2 with the JJ-engine recalibration for people
//! with diabetes. Both are evaluated on the *untreated* (natural) risk factors; treatment then
//! multiplies the hazards by the trial relative risks for the mmHg and mmol/L it lowers
//! (Ettehad 2016, CTT 2005/2010). Equation risks become annual hazards with [`hazard`], are
//! computed once a year (at the person's check-up month) or when an event changes the person,
//! and are cached in the state with an exponential clock to the next event (drawn at each
//! refresh, valid because the hazard is constant until the next refresh), so an ordinary
//! month costs a subtraction and no draw. docs/model.md explains every choice; every number
//! is in [`params`] with its source.
//!
//! Couplings: reads the diabetes state ([`DmLink`]: onset, HbA1c, albuminuria, complications,
//! check-up month) and eGFR, steps and BMI from `Patient::now`; writes SBP, DBP, TC, HDL, LDL,
//! BMI, smoking, the `MI`, `STROKE`, `HEART_FAILURE`, `HYPERTENSION`, `DYSLIPIDAEMIA` flags and
//! the `ANTIHYPERTENSIVE`, `LIPID_LOWERING` treatments (the frailty model reads the event flags).
//!
//! Files by concern: [`state`] (the per-person part, `HasCvd`, the diabetes link), `init`
//! (the state at entry), `risk_factors` (yearly trajectories and what they write into
//! `Patient::now`), `treatment` (drug effects, the check-up, treatment verbs),
//! `event_hazards` (a person's hazards from the equations, and the event clock), `events`
//! (events, case fatality, death hazards), `metrics` (metric indices, definitions, census).
//!
//! Must never: allocate or do IO in the step functions, or draw random numbers except through
//! the engine's keyed streams (processes named `cvd.*`).

pub mod equations;
mod event_hazards;
mod events;
pub mod hazard;
mod init;
mod metrics;
pub mod params;
mod risk_factors;
pub mod state;
mod treatment;

pub use init::CvdTraits;
pub use metrics::{metric, metric_defs};
pub use state::*;

use engine::math::norm_inv;
use engine::rng::Process;

use crate::layout::MetricBlock;
use params::CvdParams;

const INIT: Process = Process::named("cvd.init");
const TRAJECTORY: Process = Process::named("cvd.trajectory");
const CHECKUP: Process = Process::named("cvd.checkup");
const EVENTS: Process = Process::named("cvd.events");
/// The exponential clock to the next event, redrawn whenever the hazards are recomputed.
const CLOCK: Process = Process::named("cvd.event_clock");
const CLOCK_AFTER_EVENT: Process = Process::named("cvd.event_clock_after_event");
/// The clock redrawn when an intervention programme changes a treatment.
const CLOCK_AFTER_TREATMENT: Process = Process::named("cvd.event_clock_after_treatment");

/// The cardiovascular model: resolved parameters and derived constants.
#[derive(Clone, Debug)]
pub struct Cvd {
    pub p: CvdParams,
    /// Where the cardiovascular metrics sit in the model's metric list.
    metrics: MetricBlock,
    /// Attendance thresholds Φ⁻¹(p) of the check-up: men, women, 75+.
    att_threshold: [f64; 3],
}

impl Cvd {
    pub fn new(p: CvdParams, metrics: MetricBlock) -> Cvd {
        let thr = |q: f64| norm_inv(q.clamp(1e-9, 1.0 - 1e-9));
        Cvd {
            att_threshold: [
                thr(p.checkup_male),
                thr(p.checkup_female),
                thr(p.checkup_75plus),
            ],
            p,
            metrics,
        }
    }

    #[inline]
    fn m(&self, i: usize) -> usize {
        self.metrics.at(i)
    }
}
