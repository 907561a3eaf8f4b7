//! Frailty and long-term care: a frailty index built from 32 named deficit items that are
//! acquired and repaired stochastically (Mitnitski-type deficit accumulation), the J-CHS
//! phenotype and the Kihon Checklist read from those items, long-term-care (kaigo)
//! certification with its seven levels, institutionalisation and monthly cost, and the
//! frailty hazard ratio on mortality.
//!
//! Design (docs/model.md, "Frailty"): a person's state is the set of deficits present, a bit
//! mask over [`items`]; the FI is their count over 32. New deficits arrive at rate
//! λ·(1 − n/n_max) (λ = stressor intensity times the drivers: diabetes and its complications,
//! cardiovascular history, steps, BMI, social participation; n_max = the 0.7 ceiling) and
//! each present deficit is repaired at a rate that falls 4.5% per year of age (N = λW with
//! the recovery time W doubling every 15.4 years). Which item is acquired is drawn among the
//! absent ones; J-CHS criteria weigh more as the FI grows. The 25 Kihon Checklist items and
//! the 5 J-CHS criteria are items of the mask, so screening answers enter and leave exactly
//! ([`kcl`]).
//!
//! Couplings read: [`HasDm`](crate::diabetes::HasDm) (true onset, duration, blindness, amputation, renal failure),
//! `Conditions::{MI, STROKE, HEART_FAILURE}` (new flags are acute events), steps and BMI from
//! `Patient::now`. Exported: `Patient::now.frailty_index`, [`FrState`].
//!
//! Files by concern: [`state`] (deficit items, LTC levels, the per-person part and
//! `HasFrailty`), `tables` (reference-population tables, built once per parameter set and
//! cached), `init` (the state at entry), `deficits` (the deficit process, its drivers and
//! the verbs programmes use), `ltc` (long-term care), `mortality` (hazard ratios),
//! `metrics` (metric indices, definitions, census); [`kcl`] (Kihon Checklist, J-CHS).
//!
//!
//! Per person-month the module draws one Philox block (two uniforms) and does a few
//! multiplications and one or two `exp`; slow terms are refreshed once a year or when the
//! deficits change. It never allocates.

mod deficits;
mod init;
pub mod kcl;
mod ltc;
mod metrics;
mod mortality;
pub mod params;
pub mod state;
mod tables;

pub use init::FrTraits;
pub use metrics::{detail, detail_metric_defs, metric, metric_defs};
pub use state::*;

use engine::math::DetMath;
use engine::patient::Conditions;
use engine::rng::Process;

use crate::layout::MetricBlock;
use params::FrailtyParams;
use tables::{normal_grid, REFERENCE_POINTS};

const INIT: Process = Process::named("fr.init");
const DEFICITS: Process = Process::named("fr.deficits");
const ACUTE: Process = Process::named("fr.acute_events");
/// Long-term-care transitions (certification, institutionalisation) at the steps they occur.
const LTC: Process = Process::named("fr.ltc");
/// The initial Exp(1) budgets of the two event clocks.
const CLOCKS: Process = Process::named("fr.clocks");

const CVD_FLAGS: [Conditions; 3] = [
    Conditions::MI,
    Conditions::STROKE,
    Conditions::HEART_FAILURE,
];

/// Ages 0–120 of the tables by single year of age.
const TABLE_AGES: usize = 121;

/// The frailty model: resolved parameters and the tables derived from them.
#[derive(Clone, Debug)]
pub struct Frailty {
    pub p: FrailtyParams,
    /// Where the frailty metrics sit in the model's metric list.
    metrics: MetricBlock,
    /// Where the optional detail metrics sit ([`detail`]); `None`: not recorded.
    detail: Option<MetricBlock>,
    n_max: u32,
    ln_hr_per_deficit: f64,
    /// Expected FI hazard ratio of the reference population by single year of age 0–120.
    population_hr: Vec<f64>,
    /// Baseline certification log-odds at score 0 by single year of age 0–120.
    init_cert_logit: Vec<f64>,
    /// Care-need score thresholds between the seven levels.
    level_thresholds: [f64; 6],
    cost_kyen_per_year: [f64; 8],
    inst_rate: [f64; 5],
    /// `normal_grid(REFERENCE_POINTS)`, computed once (every person's initial state
    /// integrates over it).
    reference_grid: Vec<(f64, f64)>,
    /// The reference population's mean deficit count by age on a grid of
    /// 1/`MEAN_COUNT_STEPS_PER_YEAR` years, 0–120 (linear interpolation between points
    /// differs from the integral by at most 3.5e-6 relative, at the kinks of the reference
    /// profile: test `mean_count_table_matches_the_integral`; the integral costs 121
    /// exponentials, and every person's initial state needs it).
    mean_count_by_age: Vec<f64>,
}

#[inline]
fn logistic(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp_det())
}

impl Frailty {
    pub fn new(p: FrailtyParams, metrics: MetricBlock) -> Self {
        let n_max = (p.ceiling * f64::from(items::N)).floor() as u32;
        let ln_hr_per_deficit = p.hr_per_001.ln_det() * 100.0 / f64::from(items::N);
        let mut f = Frailty {
            p,
            metrics,
            detail: None,
            n_max,
            ln_hr_per_deficit,
            population_hr: Vec::new(),
            init_cert_logit: Vec::new(),
            level_thresholds: [0.0; 6],
            cost_kyen_per_year: [
                0.0,
                p.cost_support1,
                p.cost_support2,
                p.cost_care1,
                p.cost_care2,
                p.cost_care3,
                p.cost_care4,
                p.cost_care5,
            ]
            .map(|yen_per_month| yen_per_month * 12.0 / 1000.0),
            inst_rate: [
                p.inst_care1,
                p.inst_care2,
                p.inst_care3,
                p.inst_care4,
                p.inst_care5,
            ],
            reference_grid: normal_grid(REFERENCE_POINTS).collect(),
            mean_count_by_age: Vec::new(),
        };
        f.load_tables();
        f
    }

    /// Records the detail metrics ([`detail`]) in `block` from now on.
    pub fn set_detail_metrics(&mut self, block: Option<MetricBlock>) {
        self.detail = block;
    }
}
