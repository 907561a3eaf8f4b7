//! Long-term care (kaigo): the care-need score and its level, certification (a hazard spent
//! from the person's LTC clock, drawn as at baseline at the 65th birthday), level changes,
//! institutionalisation, and the monthly cost.
//!
//! Must never: draw outside the step of a transition (or the 65th birthday).

use engine::math::ExpDet;
use engine::observe::Recorder;
use engine::{Patient, StepCtx};

use super::{detail, level, logistic, metric, FrState, Frailty, HasFrailty, LTC};

impl Frailty {
    /// Care-need score: deficit count plus the person's persistent effect.
    #[inline]
    pub fn need_score(&self, st: &FrState) -> f64 {
        f64::from(st.count()) + self.p.score_sd * st.need_z
    }

    /// Certification level (1–7) for a care-need score.
    #[inline]
    pub fn level_for_score(&self, score: f64) -> u8 {
        1 + self
            .level_thresholds
            .iter()
            .filter(|&&t| score >= t)
            .count() as u8
    }

    /// Log-odds of being certified at entry at `age` for a care-need score of 0 (the
    /// national calibration plus the local shift `fr.ltc.local_log_odds`); a person's
    /// probability is logistic(this + `fr.ltc.certification_per_deficit` × score). Municipal
    /// plans read it to set the shift to a town's own rate.
    pub fn init_certification_logit(&self, age: f64) -> f64 {
        let a = (age.max(0.0).floor() as usize).min(self.init_cert_logit.len() - 1);
        self.init_cert_logit[a]
    }

    pub fn level_thresholds(&self) -> &[f64; 6] {
        &self.level_thresholds
    }

    /// Monthly LTC cost (yen) of a level.
    pub fn monthly_cost_yen(&self, ltc: u8) -> f64 {
        self.cost_kyen_per_year[ltc.min(level::CARE5) as usize] * 1000.0 / 12.0
    }

    /// Certification, level changes and institutionalisation over one step, and its cost.
    /// Certification and institutionalisation are hazards spent from the person's LTC clock;
    /// a draw is made only in the step of a transition (and at the 65th birthday).
    pub(super) fn long_term_care<S: HasFrailty>(
        &self,
        ctx: &StepCtx,
        p: &mut Patient<S>,
        rec: &mut Recorder,
    ) {
        let dt = ctx.dt_years;
        let m = self.metrics;
        let age = p.age_years;
        let id = p.id();
        let st = p.state.fr_mut();
        if st.ltc == level::NONE {
            if age >= 65.0 {
                // The need score only where it is used (not before 65 without care).
                let score = self.need_score(st);
                rec.at_risk(m.at(metric::LTC_CERTIFICATION), dt);
                if let Some(d) = self.detail {
                    let mut r = rec.at_risk_block::<7>(d.at(detail::NEW_LEVEL), dt);
                    for k in 0..7 {
                        r.add(k);
                    }
                }
                // Turning 65 (entry into category-1 insurance): the certification already
                // present at 65 (category-2 certification and need that predates it) is
                // drawn as at baseline; afterwards, the hazard.
                let certify = if age - dt < 65.0 {
                    let p0 = logistic(self.init_cert_logit[65] + self.p.cert_per_deficit * score);
                    ctx.stream(LTC, id).uniform() < p0
                } else {
                    if score != st.cert_score || st.cert_base != st.cert_base_key {
                        st.cert_h = st.cert_base * (self.p.cert_per_deficit * score).exp_det();
                        st.cert_score = score;
                        st.cert_base_key = st.cert_base;
                    }
                    engine::rng::spend_clock(&mut st.ltc_clock, st.cert_h * dt, || {
                        ctx.stream(LTC, id)
                    })
                };
                if certify {
                    st.ltc = self.level_for_score(score);
                    rec.event(m.at(metric::LTC_CERTIFICATION));
                    if let Some(d) = self.detail {
                        rec.event(d.at(detail::NEW_LEVEL + usize::from(st.ltc - 1)));
                    }
                }
            }
        } else {
            st.ltc = self.level_for_score(self.need_score(st));
            if !st.institution && st.ltc >= level::CARE1 {
                let h = self.inst_rate[(st.ltc - level::CARE1) as usize];
                if engine::rng::spend_clock(&mut st.ltc_clock, h * dt, || ctx.stream(LTC, id)) {
                    st.institution = true;
                }
            }
        }
        rec.value(
            m.at(metric::LTC_COST),
            self.cost_kyen_per_year[st.ltc as usize],
        );
        if let Some(d) = self.detail {
            rec.value(
                d.at(detail::CERTIFIED_TIME),
                if st.certified() { 1.0 } else { 0.0 },
            );
        }
    }
}
