//! A person's frailty state at entry, consistent with their baseline FI, BMI, age and (65+)
//! the MHLW certification rate at their age.
//!
//! Must never: draw except from the person's `fr.init` and clock streams.

use engine::math::ExpDet;
use engine::rng::{Stream, StreamKey};
use engine::{Baseline, RunKey};

use super::deficits::pick;
use super::TABLE_AGES;
use super::{items, level, logistic, params, FrState, Frailty, CLOCKS, CVD_FLAGS, INIT};

impl Frailty {
    /// The frailty state of a person at the start of the run, consistent with their
    /// baseline FI, BMI, age and (65+) the MHLW certification rate at their age.
    pub fn init(&self, run: RunKey, b: &Baseline) -> FrState {
        let p = &self.p;
        let c = &b.covariates;
        let mut s = Stream::new(StreamKey::new(run, INIT), b.id, 0);
        let (u_round, need_z, u_social, u_cert, u_inst) = (
            s.uniform(),
            s.std_normal(),
            s.uniform(),
            s.uniform(),
            s.uniform(),
        );
        let fi = if c.frailty_index.is_finite() {
            c.frailty_index.clamp(0.0, 1.0)
        } else {
            0.0
        };
        // Stochastic rounding keeps the cohort's mean FI.
        let target = ((fi * f64::from(items::N) + u_round).floor() as u32).min(self.n_max);
        let mut deficits: u32 = if c.bmi_kg_m2 < 18.5 {
            1 << items::LOW_BMI
        } else {
            0
        };
        // Which items: the stationary composition of the process (acquisition weight over
        // repair rate per class) at the person's FI.
        let wj = p.init_jchs_factor
            * p.jchs_weight
            * (p.jchs_weight_per_fi * fi + p.jchs_weight_per_year * (b.age_years - 75.0)).exp_det()
            / p.repair_jchs.max(1e-9);
        let wo = 1.0 / p.repair_other.max(1e-9);
        while deficits.count_ones() < target {
            let absent = !deficits;
            match pick(
                absent & items::JCHS_MASK,
                wj,
                absent & items::OTHER_MASK,
                wo,
                s.uniform(),
            ) {
                Some(bit) => deficits |= 1 << bit,
                None => break,
            }
        }
        let n0 = f64::from(deficits.count_ones());
        let k = p.heterogeneity_shape;
        let exposure = (k + n0) / (k + self.reference_mean_count_fast(b.age_years));
        let mut st = FrState {
            deficits,
            exposure,
            need_z,
            social: u_social < p.social_share,
            ltc: level::NONE,
            institution: false,
            cvd_seen: CVD_FLAGS
                .iter()
                .filter(|f| c.conditions.contains(**f))
                .fold(0, |acc, f| acc | f.0),
            cache_year: u32::MAX,
            acquisition: 0.0,
            repair_scale: 1.0,
            jchs_age: 1.0,
            cert_base: 0.0,
            hazard_ratio: 1.0,
            deficit_clock: 0.0,
            ltc_clock: 0.0,
            rates_deficits: 0,
            rates_acquisition: f64::NAN,
            rates_repair_scale: f64::NAN,
            rate_acq: 0.0,
            rate_rep: 0.0,
            cert_score: f64::NAN,
            cert_base_key: f64::NAN,
            cert_h: 0.0,
            acq_factor: 1.0,
            repair_factor: 1.0,
        };
        let mut clocks = Stream::new(StreamKey::new(run, CLOCKS), b.id, 0);
        st.deficit_clock = clocks.exp1();
        st.ltc_clock = clocks.exp1();
        st.hazard_ratio = self.fi_hazard_ratio(st.count());
        if b.age_years >= 65.0 {
            let a = (b.age_years.floor() as usize).min(TABLE_AGES - 1);
            let score = self.need_score(&st);
            if u_cert < logistic(self.init_cert_logit[a] + p.cert_per_deficit * score) {
                st.ltc = self.level_for_score(score);
                st.institution = u_inst < params::FACILITY_SHARE[st.ltc as usize - 1];
            }
        }
        st
    }
}

/// A personal twin's frailty trait at entry (`twin` crate): the stressor exposure inferred
/// from the person's whole frailty-index history (NaN keeps the model's posterior mean
/// given the baseline count).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FrTraits {
    pub exposure: f64,
}

impl Frailty {
    /// Replaces the person's exposure at entry by a twin's. Draws nothing.
    pub fn personalise(&self, st: &mut FrState, t: &FrTraits) {
        if t.exposure.is_finite() && t.exposure > 0.0 {
            st.exposure = t.exposure;
        }
    }

    /// The reference population's mean deficit count at `age` (what a person's exposure is
    /// relative to; interpolated in the table built with the model).
    pub fn reference_mean_count_at(&self, age: f64) -> f64 {
        self.reference_mean_count_fast(age)
    }
}
