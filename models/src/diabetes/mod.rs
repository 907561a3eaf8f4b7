//! Type 2 diabetes: per-person glucose physiology (Topp 2000 with limited adaptive capacity,
//! [`physiology`]), true onset by the Japan Diabetes Society criteria, diagnosis through
//! annual check-ups (特定健診) and routine care, a treatment ladder driven by HbA1c with
//! adherence, and complications (albuminuria stages, eGFR decline, UKPDS OM2 blindness,
//! ulcer, amputation and renal failure; severe hypoglycaemia).
//!
//! Files by concern: [`state`] (the per-person part and the `HasDm` access trait),
//! `init` (the state at entry), `glycaemia` (inputs and the multi-rate physiology step),
//! `care` (onset, diagnosis, treatment ladder, hypoglycaemia), `complications` (kidney,
//! OM2 microvascular events), `mortality` (hazard ratios), `metrics` (metric indices,
//! definitions, census), `actions` (the verbs other modules use: prevention arms, check-up,
//! treatment step-up);
//! the published pieces: [`physiology`] (reduced Topp model), [`topp`], [`ukpds_om2`],
//! [`params`] (every number with its source), [`dpp`] (the virtual trial).
//!
//! Couplings exported to the other models: HbA1c and fasting glucose in `Patient::now`
//! (`hba1c_pct`, `fpg_mg_dl`: the one stored HbA1c), [`DmState::duration_years`],
//! [`DmState::albuminuria`], the eGFR kept in `Patient::now`, and the complication flags.

mod actions;
mod care;
mod complications;
pub mod dpp;
mod glycaemia;
mod init;
mod metrics;
mod mortality;
pub mod params;
pub mod physiology;
pub mod state;
pub mod topp;
pub mod ukpds_om2;

pub use init::DmTraits;
pub use metrics::{metric, metric_defs};
pub use state::*;

use engine::math::ExpDet;
use engine::rng::Process;

use crate::layout::MetricBlock;
use params::DiabetesParams;
use physiology::{Physiology, StepWeights};
use topp::TOPP_2000;

const INIT: Process = Process::named("dm.init");
const FLUCTUATION: Process = Process::named("dm.si_fluctuation");
const CHECKUP: Process = Process::named("dm.checkup");
const CARE: Process = Process::named("dm.care");
/// The Exp(1) hazard budget of the next severe hypoglycaemia (keyed by the step of the
/// last one; 0 at entry).
const HYPO: Process = Process::named("dm.hypoglycaemia.clock");
/// The Exp(1) hazard budget of the next albuminuria transition (keyed by the stage left).
const KIDNEY: Process = Process::named("dm.kidney.clock");
const COMPLICATIONS: Process = Process::named("dm.complications");

/// Fasting glucose (mg/dL) and HbA1c (%) thresholds of diabetes (Japan Diabetes Society
/// 2010 criteria; the same values are ADA/WHO's).
pub const FPG_DIABETES: f64 = 126.0;
pub const HBA1C_DIABETES: f64 = 6.5;
/// Days in a quarter of a year.
const QUARTER_DAYS: f64 = 365.25 / 4.0;
/// Largest β-cell relaxation over one quarter (rate × quarter,
/// [`Physiology::beta_relaxation_rate`]) for which a person steps quarterly: beyond 1 an
/// explicit second-order step over the quarter is no longer accurate (its error grows like
/// the cube of rate × step), so the person steps monthly. In a 30-year run of the default
/// cohort under 0.1% of person-months are this stiff (a mass held tightly near capacity).
const STIFF_QUARTER: f64 = 1.0;

/// The diabetes model: resolved parameters and the physiology constants.
#[derive(Clone, Debug)]
pub struct Diabetes {
    pub p: DiabetesParams,
    pub phys: Physiology,
    /// Per-step constants that depend only on parameters and the step length, computed once
    /// (each is used only while the parameter it was computed from is unchanged).
    cache: StepConstants,
    /// Where the diabetes metrics sit in the model's metric list.
    metrics: MetricBlock,
}

#[derive(Clone, Copy, Debug)]
struct StepConstants {
    /// τ of the HbA1c lag and κ of the capacity loss the weights were computed for.
    tau_hba1c_days: f64,
    capacity_loss: f64,
    /// Step weights for steps of 1, 2 and 3 months (index = months).
    lag: [StepWeights; 4],
    /// Fluctuation time constant (years) the quarter's OU factors were computed for.
    fluctuation_years: f64,
    /// OU factors over one quarter: a = e^{−0.25/τ} and √(1 − a²).
    ou_quarter: (f64, f64),
}

impl StepConstants {
    fn new(p: &DiabetesParams, phys: &Physiology) -> Self {
        let a = (-0.25 / p.si_fluctuation_years).exp_det();
        StepConstants {
            tau_hba1c_days: phys.tau_hba1c_days,
            capacity_loss: phys.capacity_loss,
            lag: std::array::from_fn(|m| phys.step_weights(m as f64 * (365.25 / 12.0))),
            fluctuation_years: p.si_fluctuation_years,
            ou_quarter: (a, (1.0 - a * a).sqrt()),
        }
    }
}

impl Diabetes {
    pub fn new(p: DiabetesParams, metrics: MetricBlock) -> Self {
        let phys = Physiology {
            topp: TOPP_2000,
            time_scale: p.beta_time_scale,
            hill: p.capacity_hill,
            capacity_loss: p.capacity_loss,
            glucotoxicity: p.capacity_glucotoxicity,
            g_ref: 100.0,
            tau_hba1c_days: p.hba1c_tau_days,
            mean_minus_fasting: p.mean_minus_fasting,
        };
        let cache = StepConstants::new(&p, &phys);
        Diabetes {
            p,
            phys,
            cache,
            metrics,
        }
    }
}
