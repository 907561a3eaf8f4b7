//! The risk-factor phase: once a year, at the person's check-up month, the untreated risk
//! factors move on (age drift, within-person fluctuation, smoking), the check-up may start
//! treatment, and the current (treated) values are written into `Patient::now`.
//!
//! Must never: draw outside the person's check-up step.

use engine::observe::Recorder;
use engine::patient::{Conditions, Treatments};
use engine::{Patient, StepCtx};

use super::params::{self, slope_per_year};
use super::{metric, Cvd, CvdState, DmLink, HasCvd, CLOCK, QUITTER, SMOKER, TRAJECTORY};

impl Cvd {
    /// Writes the person's current (treated) risk factors, flags and treatments into `now`.
    #[inline]
    pub(super) fn apply<S: HasCvd>(&self, p: &mut Patient<S>) {
        let st = *p.state.cvd();
        let sbp_nat = st.natural_sbp();
        let dbp_nat = st.dbp_level + self.p.dbp_per_sbp * st.sbp_fluct;
        let ldl_nat = st.natural_ldl();
        let (ds, dd) = self.bp_lowering(sbp_nat, dbp_nat, st.bp_drugs, st.bp_adherence());
        let ldl = ldl_nat - self.ldl_lowering(ldl_nat, st.statin, st.statin_adherence());
        let now = &mut p.now;
        now.sbp_mmhg = (sbp_nat - ds).clamp(70.0, 260.0);
        now.dbp_mmhg = (dbp_nat - dd).clamp(35.0, 160.0).min(now.sbp_mmhg - 10.0);
        now.ldl_mg_dl = ldl.clamp(20.0, 400.0);
        now.hdl_mg_dl = st.hdl.clamp(15.0, 150.0);
        now.tc_mg_dl = now.ldl_mg_dl + now.hdl_mg_dl + st.tc_rest;
        now.smoker = st.smoking == SMOKER;
        Self::set_flags(&st, &mut now.conditions, &mut now.treatments);
    }

    #[inline]
    fn set_flags(st: &CvdState, conditions: &mut Conditions, treatments: &mut Treatments) {
        treatments.set(Treatments::ANTIHYPERTENSIVE, st.bp_drugs > 0);
        treatments.set(Treatments::LIPID_LOWERING, st.statin);
        if st.bp_drugs > 0 {
            conditions.insert(Conditions::HYPERTENSION);
        }
        if st.statin {
            conditions.insert(Conditions::DYSLIPIDAEMIA);
        }
        conditions.set(Conditions::MI, st.mi_count > 0);
        conditions.set(Conditions::STROKE, st.stroke_history());
        conditions.set(Conditions::HEART_FAILURE, st.heart_failure);
    }

    /// Risk-factor phase: once a year, at the person's check-up month, the risk factors move
    /// on by a year (age drift, fluctuation, smoking), the check-up or routine care may start
    /// or step up treatment, and the hazards are recomputed. Other months only keep BMI at
    /// baseline + drift (a prevention arm may have changed it; see `HealthModel`).
    pub fn risk_factors<S: HasCvd>(
        &self,
        ctx: &StepCtx,
        p: &mut Patient<S>,
        link: &DmLink,
        rec: &mut Recorder,
    ) {
        if Self::checkup_step(ctx, link.checkup_month) {
            self.advance_year(ctx, p, rec);
            self.checkup(ctx, p, link, rec);
            self.apply(p);
            self.refresh(ctx, p, link, CLOCK);
        } else if !p.state.cvd().refreshed {
            self.refresh(ctx, p, link, CLOCK);
        }
    }

    /// Whether the risk-factor phase does anything for this person in this step (its
    /// check-up step, or hazards not yet computed): callers may skip building the
    /// [`DmLink`] otherwise.
    #[inline]
    pub fn risk_factors_due<S: HasCvd>(ctx: &StepCtx, p: &Patient<S>, checkup_month: u8) -> bool {
        Self::checkup_step(ctx, checkup_month) || !p.state.cvd().refreshed
    }

    /// The step holding the person's yearly check-up month (never the first step).
    #[inline]
    fn checkup_step(ctx: &StepCtx, checkup_month: u8) -> bool {
        let months = (engine::math::round_to_i64(ctx.dt_years * 12.0) as u32).max(1);
        let m0 = (ctx.step * months) % 12;
        ctx.step > 0 && (u32::from(checkup_month) + 12 - m0) % 12 < months
    }

    /// One year of age drift and within-person fluctuation, and smoking transitions.
    fn advance_year<S: HasCvd>(&self, ctx: &StepCtx, p: &mut Patient<S>, rec: &mut Recorder) {
        let prm = &self.p;
        let sex = p.sex().index();
        let age = p.age_years;
        let mut s = ctx.stream(TRAJECTORY, p.id());
        let (z_sbp, z_ldl, u_smoke) = (s.std_normal(), s.std_normal(), s.uniform());
        let a = prm.fluct_autocorr;
        let innov = (1.0 - a * a).sqrt();
        let st = p.state.cvd_mut();
        // A personal twin's own slopes add to the population's age drift (0 otherwise).
        st.sbp_level += slope_per_year(&params::SBP_NATURAL[sex], age) + f64::from(st.sbp_slope);
        st.dbp_level += slope_per_year(&params::DBP_NATURAL[sex], age);
        st.ldl_level += slope_per_year(&params::LDL_NATURAL[sex], age) + f64::from(st.ldl_slope);
        st.hdl += slope_per_year(&params::HDL_MEAN[sex], age);
        // BMI moves by the year's drift from wherever it is (so a change made elsewhere, an
        // intervention or a prevention arm, persists); `bmi_drift` keeps the total.
        let bmi_step = slope_per_year(&params::BMI_MEAN[sex], age) + f64::from(st.bmi_slope);
        st.bmi_drift += bmi_step;
        p.now.bmi_kg_m2 = (p.now.bmi_kg_m2 + bmi_step).clamp(12.0, 70.0);
        st.sbp_fluct = a * st.sbp_fluct + prm.sbp_fluct_sd * innov * z_sbp;
        st.ldl_fluct = a * st.ldl_fluct + prm.ldl_fluct_sd * innov * z_ldl;
        match st.smoking {
            SMOKER => {
                rec.at_risk(self.m(metric::QUITS), 1.0);
                if u_smoke < prm.quit * f64::from(st.quit_factor) {
                    st.smoking = QUITTER;
                    st.years_since_quit = 0.0;
                    rec.event(self.m(metric::QUITS));
                }
            }
            QUITTER => {
                st.years_since_quit += 1.0;
                if st.years_since_quit <= prm.relapse_years && u_smoke < prm.relapse {
                    st.smoking = SMOKER;
                }
            }
            _ => {
                if u_smoke < prm.start {
                    st.smoking = SMOKER;
                }
            }
        }
    }
}
