//! Treatment: what blood-pressure drugs and statins lower (Law 2003), the annual check-up
//! and routine care that start or step up treatment, and the verbs through which an
//! intervention programme changes a person's treatment.
//!
//! Must never: change a treatment without [`Cvd::treatment_changed`] following, so the
//! current risk factors and the cached hazards always match the treatment.

use engine::observe::Recorder;
use engine::{Patient, StepCtx};

use super::{metric, Cvd, DmLink, HasCvd, CHECKUP, CLOCK_AFTER_TREATMENT};

impl Cvd {
    /// SBP and DBP lowering (mmHg) of `drugs` standard-dose drugs at adherence `adherence`,
    /// from untreated levels: Law 2003, additive per drug, larger from higher pressures.
    #[inline]
    pub fn bp_lowering(&self, sbp_nat: f64, dbp_nat: f64, drugs: u8, adherence: f64) -> (f64, f64) {
        let p = &self.p;
        let n = f64::from(drugs) * adherence;
        let per_s =
            (p.bp_drug_sbp + p.bp_drug_sbp_slope * (sbp_nat - p.bp_ref_sbp) / 10.0).max(0.0);
        let per_d =
            (p.bp_drug_dbp + p.bp_drug_dbp_slope * (dbp_nat - p.bp_ref_dbp) / 10.0).max(0.0);
        (n * per_s, n * per_d)
    }

    /// LDL lowering (mg/dL) of a statin at `adherence`: Law 2003, a share of untreated LDL.
    #[inline]
    pub fn ldl_lowering(&self, ldl_nat: f64, statin: bool, adherence: f64) -> f64 {
        if statin {
            ldl_nat * self.p.statin_ldl * adherence
        } else {
            0.0
        }
    }

    /// Untreated SBP from a reading on one drug (the inverse of [`Cvd::bp_lowering`]).
    pub fn untreated_sbp(&self, observed: f64, adherence: f64) -> f64 {
        let p = &self.p;
        let k = p.bp_drug_sbp_slope / 10.0;
        ((observed + adherence * (p.bp_drug_sbp - k * p.bp_ref_sbp)) / (1.0 - k * adherence))
            .max(observed)
    }

    pub(super) fn untreated_dbp(&self, observed: f64, adherence: f64) -> f64 {
        let p = &self.p;
        let k = p.bp_drug_dbp_slope / 10.0;
        ((observed + adherence * (p.bp_drug_dbp - k * p.bp_ref_dbp)) / (1.0 - k * adherence))
            .max(observed)
    }

    /// The annual check-up (特定健診 for ages 40–74, 後期高齢者健診 after) and routine care of
    /// people already seeing a doctor: measured readings above the thresholds may start a
    /// blood-pressure drug or a statin, or add a drug.
    pub(super) fn checkup<S: HasCvd>(
        &self,
        ctx: &StepCtx,
        p: &mut Patient<S>,
        link: &DmLink,
        rec: &mut Recorder,
    ) {
        let prm = &self.p;
        let age = p.age_years;
        let mut s = ctx.stream(CHECKUP, p.id());
        let (z_att, z_bp, z_ldl, u_bp, u_statin) = (
            s.std_normal(),
            s.std_normal(),
            s.std_normal(),
            s.uniform(),
            s.uniform(),
        );
        let st = *p.state.cvd();
        let thr = if age >= 75.0 {
            self.att_threshold[2]
        } else {
            self.att_threshold[p.sex().index()]
        };
        let rho = prm.checkup_persistence.sqrt();
        let attends =
            rho * link.checkup_z + (1.0 - rho * rho).sqrt() * z_att < thr || link.checkup_assured;
        let in_care = link.diagnosed || st.bp_drugs > 0 || st.statin || st.any_history();
        if !attends && !in_care {
            return;
        }
        // Current (treated) readings with measurement error.
        let sbp_nat = st.natural_sbp();
        let dbp_nat = st.dbp_level + prm.dbp_per_sbp * st.sbp_fluct;
        let (ds, dd) = self.bp_lowering(sbp_nat, dbp_nat, st.bp_drugs, st.bp_adherence());
        let sbp = sbp_nat - ds + prm.sbp_measure_sd * z_bp;
        let dbp = dbp_nat - dd + 0.6 * prm.sbp_measure_sd * z_bp;
        let high_bp = prm.high_bp(sbp, dbp);
        let p_start = |checkup: f64, care: f64| {
            1.0 - (1.0 - if attends { checkup } else { 0.0 })
                * (1.0 - if in_care { care } else { 0.0 })
        };
        let stm = p.state.cvd_mut();
        if high_bp {
            if stm.bp_drugs == 0 {
                if u_bp < p_start(prm.start_bp_checkup, prm.start_bp_care) {
                    stm.bp_drugs = 1;
                    rec.event(self.m(metric::BP_STARTS));
                }
            } else if stm.bp_drugs < 3 && u_bp < prm.intensify_bp {
                stm.bp_drugs += 1;
            }
        }
        let ldl_nat = st.natural_ldl();
        let ldl = (ldl_nat - self.ldl_lowering(ldl_nat, st.statin, st.statin_adherence()))
            * (1.0 + prm.ldl_measure_cv * z_ldl);
        let ldl_threshold = prm.ldl_threshold_for(link.diagnosed);
        if !stm.statin
            && ldl >= ldl_threshold
            && u_statin < p_start(prm.start_statin_checkup, prm.start_statin_care)
        {
            stm.statin = true;
            rec.event(self.m(metric::STATIN_STARTS));
        }
    }

    /// An intervention programme changed a treatment (statin, blood-pressure drugs): the
    /// current risk factors and the cached hazards follow now.
    pub fn treatment_changed<S: HasCvd>(&self, ctx: &StepCtx, p: &mut Patient<S>, link: &DmLink) {
        self.apply(p);
        self.refresh(ctx, p, link, CLOCK_AFTER_TREATMENT);
    }
}

/// The verbs through which an intervention programme changes a person's treatment. Each
/// returns whether the treatment changed; the caller then calls [`Cvd::treatment_changed`]
/// once (after all of the step's changes).
impl Cvd {
    /// Starts a statin for a person not on one, giving `effect_share` of its effect (times
    /// the person's adherence); returns whether it started.
    pub fn start_statin<S: HasCvd>(st: &mut S, effect_share: f32) -> bool {
        let st = st.cvd_mut();
        if st.statin {
            return false;
        }
        st.statin = true;
        st.statin_scale = effect_share;
        true
    }

    /// Withdraws the statin.
    pub fn stop_statin<S: HasCvd>(st: &mut S) {
        let st = st.cvd_mut();
        st.statin = false;
        st.statin_scale = 1.0;
    }

    /// Adds one standard-dose blood-pressure drug (up to three) giving `effect_share` of a
    /// drug's effect: the effective number of drugs goes from d to d + share
    /// ([`Cvd::bp_lowering`] is linear in the number of drugs); returns whether it was added.
    pub fn add_bp_drug<S: HasCvd>(st: &mut S, effect_share: f32) -> bool {
        let st = st.cvd_mut();
        if st.bp_drugs >= 3 {
            return false;
        }
        let d = f32::from(st.bp_drugs);
        st.bp_drugs += 1;
        st.bp_scale = (d + effect_share) / (d + 1.0);
        true
    }

    /// Adds one standard-dose blood-pressure drug at full effect if the person takes fewer
    /// than `max_drugs` (a treat-to-target programme's titration); returns whether it was
    /// added.
    pub fn add_bp_drug_up_to<S: HasCvd>(st: &mut S, max_drugs: u8) -> bool {
        let st = st.cvd_mut();
        if st.bp_drugs >= max_drugs {
            return false;
        }
        st.bp_drugs += 1;
        true
    }

    /// Withdraws one blood-pressure drug; the others act at full effect.
    pub fn remove_bp_drug<S: HasCvd>(st: &mut S) {
        let st = st.cvd_mut();
        st.bp_drugs = st.bp_drugs.saturating_sub(1);
        st.bp_scale = 1.0;
    }

    /// Multiplies the yearly quit probability of a smoker by `factor` (1 = usual).
    pub fn set_quit_rate_factor<S: HasCvd>(st: &mut S, factor: f32) {
        st.cvd_mut().quit_factor = factor;
    }
}

#[cfg(test)]
mod tests {
    use super::super::params::CvdParams;
    use super::*;
    use crate::params::ParamSet;

    fn model() -> Cvd {
        Cvd::new(
            CvdParams::from_set(&ParamSet::new(CvdParams::params())).unwrap(),
            crate::layout::MetricLayout::alone(crate::cvd::metric_defs()),
        )
    }

    #[test]
    fn one_drug_lowers_bp_by_law_2003_and_a_statin_ldl_by_40_percent() {
        let m = model();
        // At the reference pretreatment level, full adherence: 9.1 / 5.5 mmHg per drug.
        let (ds, dd) = m.bp_lowering(154.0, 97.0, 1, 1.0);
        assert!((ds - 9.1).abs() < 1e-12 && (dd - 5.5).abs() < 1e-12);
        // 10 mmHg higher: 1.0 / 1.1 mmHg more; drugs add.
        let (ds, dd) = m.bp_lowering(164.0, 107.0, 2, 1.0);
        assert!((ds - 2.0 * 10.1).abs() < 1e-12 && (dd - 2.0 * 6.6).abs() < 1e-12);
        // Adherence scales the effect.
        let (ds, _) = m.bp_lowering(154.0, 97.0, 1, 0.5);
        assert!((ds - 4.55).abs() < 1e-12);
        assert!((m.ldl_lowering(150.0, true, 1.0) - 60.0).abs() < 1e-12);
        assert_eq!(m.ldl_lowering(150.0, false, 1.0), 0.0);
        // Inversion of a treated reading.
        for obs in [120.0, 140.0, 175.0] {
            let nat = m.untreated_sbp(obs, 0.95);
            let (ds, _) = m.bp_lowering(nat, 90.0, 1, 0.95);
            assert!((nat - ds - obs).abs() < 1e-9, "{obs}: {nat} {ds}");
        }
    }
}
