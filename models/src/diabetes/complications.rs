//! Complications of diabetes: albuminuria stages and eGFR decline (UKPDS 64, scaled by HbA1c
//! as in JDCS), and the microvascular events of the UKPDS Outcomes Model 2 (blindness, foot
//! ulcer, amputation, renal failure).
//!
//! Must never: draw except from the kidney clock and the quarter's complications stream.

use engine::math::ExpDet;
use engine::observe::Recorder;
use engine::patient::Conditions;
use engine::{Patient, StepCtx};

use super::{metric, ukpds_om2, Diabetes, HasDm, COMPLICATIONS, KIDNEY, MACRO, MICRO, NORMO};

impl Diabetes {
    /// Albuminuria stage transitions (UKPDS 64, scaled by HbA1c as in JDCS) and eGFR decline.
    pub(super) fn kidney<S: HasDm>(&self, ctx: &StepCtx, p: &mut Patient<S>, rec: &mut Recorder) {
        let prm = &self.p;
        let dt = ctx.dt_years;
        let id = p.baseline.id;
        let st = p.state.dm_mut();
        let mut slope = prm.egfr_decline;
        if st.has_diabetes() {
            slope += prm.egfr_decline_dm;
            let m = (prm.albuminuria_per_hba1c * (p.now.hba1c_pct - 8.0))
                .exp_det()
                .clamp(0.1, 10.0);
            let rate = match st.albuminuria {
                NORMO => prm.normo_to_micro * m,
                MICRO => {
                    rec.at_risk(self.metrics.at(metric::MACRO_INC), dt);
                    prm.micro_to_macro * m
                }
                _ => 0.0,
            };
            // The budget of the next stage's transition is keyed by that stage.
            let stage = st.albuminuria + 1;
            let next = || ctx.stream_at(KIDNEY, id, u32::from(stage));
            if rate > 0.0 && engine::rng::spend_clock(&mut st.kidney_clock, rate * dt, next) {
                st.albuminuria = stage;
                if stage == MACRO {
                    rec.event(self.metrics.at(metric::MACRO_INC));
                }
            }
            slope += match st.albuminuria {
                MICRO => prm.egfr_decline_micro,
                MACRO => prm.egfr_decline_micro + prm.egfr_decline_macro,
                _ => 0.0,
            };
        }
        let floor: f64 = if st.esrd { 3.0 } else { 15.0 };
        p.now.egfr_ml_min = (p.now.egfr_ml_min - slope * dt).max(floor.min(p.now.egfr_ml_min));
    }

    /// The UKPDS OM2 covariates of a person with diabetes now. OM2's time axis is years since
    /// diagnosis; healthtwin knows the true onset, which it uses (complications start
    /// accruing from onset, whether or not diabetes has been diagnosed).
    pub fn om2_covariates<S: HasDm>(&self, p: &Patient<S>) -> ukpds_om2::Om2Covariates {
        let st = p.state.dm();
        let c = &p.now;
        let onset = st.onset_age.unwrap_or(p.age_years);
        ukpds_om2::Om2Covariates {
            age_at_diagnosis_years: onset,
            diabetes_duration_years: (p.age_years - onset).max(0.0),
            female: p.sex().index() == 1,
            smoker: c.smoker,
            albuminuria: st.albuminuria >= MICRO,
            hba1c_pct: c.hba1c_pct,
            sbp_mmhg_div10: c.sbp_mmhg / 10.0,
            ldl_mmol_l_x10: engine::units::cholesterol_mmol_l(c.ldl_mg_dl) * 10.0,
            hdl_mmol_l_x10: engine::units::cholesterol_mmol_l(c.hdl_mg_dl) * 10.0,
            bmi_kg_m2: c.bmi_kg_m2,
            egfr_div10: c.egfr_ml_min / 10.0,
            heart_rate_bpm_div10: self.p.om2_heart_rate / 10.0,
            wbc_10e9_per_l: self.p.om2_wbc,
            haemoglobin_g_dl: self.p.om2_haemoglobin,
            amputation_history: st.amputations > 0,
            blindness_history: st.blind,
            chf_history: c.conditions.contains(Conditions::HEART_FAILURE),
            ihd_history: c.conditions.contains(Conditions::MI),
            mi_history: c.conditions.contains(Conditions::MI),
            stroke_history: c.conditions.contains(Conditions::STROKE),
            ulcer_history: st.ulcer,
            esrd_history: st.esrd,
            ..Default::default()
        }
    }

    /// Microvascular complications over one step, from the UKPDS Outcomes Model 2
    /// equations (Hayes 2013; [`ukpds_om2`]): blindness, first foot ulcer, amputation (first,
    /// then a second) and renal failure. OM2 is used rather than Japanese equations because
    /// no Japanese cohort publishes event equations for these outcomes; JDCS incidence is
    /// kept as validation (docs/validation.md).
    ///
    /// OM2 is an annual-cycle model of slowly moving risks: its probabilities are evaluated at
    /// the end of each calendar quarter of the run, over the quarter (or the part of it since
    /// onset), while person-time at risk accrues every step.
    pub(super) fn complications<S: HasDm>(
        &self,
        ctx: &StepCtx,
        p: &mut Patient<S>,
        rec: &mut Recorder,
    ) {
        use ukpds_om2 as om2;
        let st = p.state.dm();
        let dt = ctx.dt_years;
        rec.at_risk_if(self.metrics.at(metric::BLINDNESS_INC), dt, !st.blind);
        rec.at_risk_if(self.metrics.at(metric::ULCER_INC), dt, !st.ulcer);
        rec.at_risk_if(
            self.metrics.at(metric::AMPUTATION_INC),
            dt,
            st.amputations < 2,
        );
        rec.at_risk_if(self.metrics.at(metric::ESRD_INC), dt, !st.esrd);
        let end = ctx.end_month();
        if !end.is_multiple_of(3) {
            return;
        }
        let since_onset = p.age_years + dt - st.onset_age.unwrap_or(p.age_years);
        let dt = dt.max(0.25).min(since_onset);
        if dt <= 0.0 {
            return;
        }
        let c = self.om2_covariates(p);
        let mut s = ctx.stream(COMPLICATIONS, p.baseline.id);
        let (u_blind, u_ulcer, u_amp, u_esrd) =
            (s.uniform(), s.uniform(), s.uniform(), s.uniform());
        let st = p.state.dm_mut();
        if !st.blind && u_blind < om2::interval_probability(&om2::BLINDNESS, &c, dt) {
            st.blind = true;
            rec.event(self.metrics.at(metric::BLINDNESS_INC));
        }
        if !st.ulcer && u_ulcer < om2::interval_probability(&om2::ULCER, &c, dt) {
            st.ulcer = true;
            rec.event(self.metrics.at(metric::ULCER_INC));
        }
        if st.amputations < 2 {
            let eq = if st.amputations == 0 {
                om2::amputation_first_equation(c.ulcer_history)
            } else {
                &om2::AMPUTATION_SUBSEQUENT
            };
            if u_amp < om2::interval_probability(eq, &c, dt) {
                st.amputations += 1;
                rec.event(self.metrics.at(metric::AMPUTATION_INC));
            }
        }
        if !st.esrd && u_esrd < om2::interval_probability(&om2::RENAL_FAILURE, &c, dt) {
            st.esrd = true;
            rec.event(self.metrics.at(metric::ESRD_INC));
            // Renal failure: eGFR below 15 (CKD stage 5).
            p.now.egfr_ml_min = p.now.egfr_ml_min.min(10.0);
        }
    }
}
