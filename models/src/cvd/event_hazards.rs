//! Hazards of the four events for a person now: Hisayama ASCVD without diabetes, UKPDS OM2
//! with the JJ recalibration with it, on untreated risk factors, times the trial relative
//! risks of the person's treatment; cached with an exponential clock to the next event.
//!
//! Must never: draw except the clock of a refresh (one exponential from the given process).

use engine::math::DetMath;
use engine::rng::Process;
use engine::units::cholesterol_mmol_l;
use engine::{Patient, Sex, StepCtx};

use super::equations::{japan, RiskInput};
use super::{hazard, Cvd, DmLink, HasCvd, FATAL_HAZARD, HAEMORRHAGIC_STROKE, HEART_FAILURE};
use super::{ISCHAEMIC_STROKE, MI, N_EVENTS, SMOKER};
use crate::diabetes::ukpds_om2 as om2;

impl Cvd {
    /// Annual hazards of the four events for the person now, before the step-probability
    /// conversion (exposed for tests and the calibration scripts).
    pub fn hazards<S: HasCvd>(&self, p: &Patient<S>, link: &DmLink) -> [f64; N_EVENTS] {
        let prm = &self.p;
        let st = p.state.cvd();
        let age = p.age_years;
        let sbp_nat = st.natural_sbp();
        let dbp_nat = st.dbp_level + prm.dbp_per_sbp * st.sbp_fluct;
        let ldl_nat = st.natural_ldl();
        let (dsbp, _) = self.bp_lowering(sbp_nat, dbp_nat, st.bp_drugs, st.bp_adherence());
        let dldl = cholesterol_mmol_l(self.ldl_lowering(ldl_nat, st.statin, st.statin_adherence()));
        // Trial relative risks of the person's treatment (Ettehad 2016; CTT).
        // x^0 = 1^y = 1 exactly (IEEE 754 pow), so untreated people skip the pow.
        let pow = |x: f64, y: f64| {
            if y == 0.0 || x == 1.0 {
                1.0
            } else {
                x.powf_det(y)
            }
        };
        let rr = |per10: f64, per_mmol: f64, dsbp: f64, dldl: f64| {
            pow(per10, dsbp / 10.0) * pow(per_mmol, dldl)
        };
        let rr_mi = rr(prm.rr_sbp_chd, prm.rr_ldl_chd, dsbp, dldl);
        let rr_is = rr(prm.rr_sbp_stroke, prm.rr_ldl_stroke, dsbp, dldl);
        let rr_hs = rr(prm.rr_sbp_stroke, 1.0, dsbp, dldl);
        let rr_hf = rr(prm.rr_sbp_hf, 1.0, dsbp, dldl);
        let hs_odds = prm.hs_share / (1.0 - prm.hs_share);
        let mut h = [0.0; N_EVENTS];
        if let Some(onset) = link.onset_age {
            // UKPDS OM2 (its own first/subsequent equations carry recurrence), recalibrated
            // to Japanese type 2 diabetes with the JJ engine's observed/predicted ratios.
            let c = om2::Om2Covariates {
                age_at_diagnosis_years: onset,
                diabetes_duration_years: (age - onset).max(0.0),
                female: p.sex() == Sex::Female,
                smoker: st.smoking == SMOKER,
                albuminuria: link.albuminuria,
                hba1c_pct: link.hba1c_pct,
                sbp_mmhg_div10: sbp_nat / 10.0,
                ldl_mmol_l_x10: cholesterol_mmol_l(ldl_nat) * 10.0,
                hdl_mmol_l_x10: cholesterol_mmol_l(st.hdl) * 10.0,
                bmi_kg_m2: p.now.bmi_kg_m2,
                egfr_div10: p.now.egfr_ml_min / 10.0,
                heart_rate_bpm_div10: prm.om2_heart_rate / 10.0,
                wbc_10e9_per_l: prm.om2_wbc,
                amputation_history: link.amputation,
                blindness_history: link.blind,
                chf_history: st.heart_failure,
                ihd_history: st.mi_count > 0,
                mi_history: st.mi_count > 0,
                stroke_history: st.stroke_history(),
                ulcer_history: link.ulcer,
                esrd_history: link.esrd,
                ..Default::default()
            };
            let annual = |eq: &om2::Om2Equation| {
                hazard::constant_hazard(hazard::om2_step_probability(eq, &c, 0.0, 1.0), 1.0)
            };
            let mi_eq = if st.mi_count > 0 {
                &om2::MI_SUBSEQUENT
            } else {
                om2::mi_first_equation(c.female)
            };
            let stroke_eq = if st.stroke_history() {
                &om2::STROKE_SUBSEQUENT
            } else {
                &om2::STROKE_FIRST
            };
            let stroke = annual(stroke_eq) * prm.recal_stroke;
            h[MI] = annual(mi_eq) * prm.recal_chd * rr_mi;
            h[ISCHAEMIC_STROKE] = stroke * (1.0 - prm.hs_share) * rr_is;
            h[HAEMORRHAGIC_STROKE] = stroke * prm.hs_share * rr_hs;
            h[HEART_FAILURE] = if st.heart_failure {
                0.0
            } else {
                annual(&om2::CHF) * prm.recal_hf * rr_hf
            };
        } else {
            // Hisayama ASCVD (CHD or atherothrombotic infarction), split into the four events.
            // Evaluated at the midpoint age so its 10-year constant hazard estimates today's
            // hazard, not the average over the next ten years (hazard::midpoint_age).
            let mut x = RiskInput::new(p.sex(), hazard::midpoint_age(age, 10.0));
            x.sbp_mmhg = sbp_nat;
            x.dbp_mmhg = dbp_nat;
            x.hdl_mg_dl = st.hdl;
            x.ldl_mg_dl = ldl_nat;
            x.smoker = st.smoking == SMOKER;
            x.proteinuria = st.proteinuria;
            x.regular_exercise = p.now.steps_per_day >= prm.exercise_steps;
            let base = hazard::constant_hazard(japan::hisayama_ascvd_10y(&x), 10.0);
            let mut mi = prm.chd_share * base;
            let stroke_sex = if p.sex() == Sex::Female {
                prm.female_stroke
            } else {
                1.0
            };
            let mut is = prm.is_factor * stroke_sex * base;
            let mut hf = prm.hf_factor * base;
            if st.stroke_history() {
                mi *= prm.hr_mi_after_stroke;
            }
            if st.mi_count > 0 {
                is *= prm.hr_stroke_after_mi;
                hf *= prm.hr_hf_after_mi;
            }
            let mut hs = is * hs_odds * rr_hs;
            mi *= rr_mi;
            is *= rr_is;
            hf *= rr_hf;
            // Recurrence after an event, as observed under Japanese usual care, scaled by the
            // person's treatment relative to that care; never below the first-event hazard.
            let typical =
                |per10: f64, per_mmol: f64| rr(per10, per_mmol, prm.typical_dsbp, prm.typical_dldl);
            if st.mi_count > 0 {
                mi = mi.max(prm.rec_mi * rr_mi / typical(prm.rr_sbp_chd, prm.rr_ldl_chd));
            }
            if st.stroke_history() {
                let rate = if st.ischaemic_stroke {
                    prm.rec_after_is
                } else {
                    prm.rec_after_hs
                };
                is = is.max(
                    rate * (1.0 - prm.hs_share) * rr_is
                        / typical(prm.rr_sbp_stroke, prm.rr_ldl_stroke),
                );
                hs = hs.max(rate * prm.hs_share * rr_hs / typical(prm.rr_sbp_stroke, 1.0));
            }
            h[MI] = mi;
            h[ISCHAEMIC_STROKE] = is;
            h[HAEMORRHAGIC_STROKE] = hs;
            h[HEART_FAILURE] = if st.heart_failure { 0.0 } else { hf };
        }
        for v in h.iter_mut() {
            if !v.is_finite() || *v < 0.0 {
                *v = if v.is_nan() || *v < 0.0 {
                    0.0
                } else {
                    FATAL_HAZARD
                };
            }
        }
        h
    }

    /// Recomputes and caches the person's hazards, and draws the time to the next event at
    /// them (an exponential with the total hazard, from `clock`'s draw for this step).
    pub(super) fn refresh<S: HasCvd>(
        &self,
        ctx: &StepCtx,
        p: &mut Patient<S>,
        link: &DmLink,
        clock: Process,
    ) {
        let h = self.hazards(p, link);
        let total: f64 = h.iter().sum();
        let id = p.id();
        let st = p.state.cvd_mut();
        st.hazard = h;
        st.event_clock = if total > 0.0 {
            ctx.stream(clock, id).exp1() / total
        } else {
            f64::INFINITY
        };
        st.refreshed = true;
    }
}
