//! What other modules may do to a person's diabetes state (the intervention programmes'
//! mechanisms): start, continue and stop a prevention arm, bring the person to the check-up,
//! measure HbA1c at a visit, step the treatment up. Each verb keeps the state consistent, so
//! no other module writes a diabetes field.
//!
//! Must never: draw (a caller's visit passes its own keyed stream).

use engine::rng::Stream;

use super::{dpp, Diabetes, HasDm, RX_INSULIN};

impl Diabetes {
    /// Starts prevention arm `arm` for the person, who receives `effect_share` of the arm's
    /// metformin effect (1 in the DPP trial; a programme's adherence × effect scale).
    pub fn start_prevention<S: HasDm>(st: &mut S, arm: dpp::Arm, effect_share: f64) {
        let dm = st.dm_mut();
        dm.prevention = arm;
        dm.prevention_scale = effect_share;
    }

    /// Keeps prevention arm `arm` for a person whose diagnosis ended it (a programme
    /// continues its metformin as a drug), at the share set when it started.
    #[inline]
    pub fn continue_prevention<S: HasDm>(st: &mut S, arm: dpp::Arm) {
        st.dm_mut().prevention = arm;
    }

    /// Ends the person's prevention arm.
    pub fn stop_prevention<S: HasDm>(st: &mut S) {
        let dm = st.dm_mut();
        dm.prevention = dpp::Arm::None;
        dm.prevention_scale = 1.0;
    }

    /// The person is told they have diabetes (a trial's ascertainment found it): diagnosed,
    /// usual care from now on; a prevention arm ends as at any diagnosis.
    /// Found by a trial's criteria before the model's own onset (HbA1c 6.5%), the person's
    /// onset is now (`age`): the trial's diagnosis is diabetes by the JDS criteria too.
    pub fn diagnose<S: HasDm>(st: &mut S, age: f64) {
        let dm = st.dm_mut();
        dm.onset_age.get_or_insert(age);
        dm.diagnosed = true;
        dm.prevention = dpp::Arm::None;
    }

    /// Whether a health-check programme brings the person to this year's check-up (the
    /// diabetes screening and the cardiovascular check-up read it).
    pub fn assure_checkup<S: HasDm>(st: &mut S, assured: bool) {
        st.dm_mut().checkup_assured = assured;
    }

    /// HbA1c (%) as measured at a visit: the true value with the model's measurement error,
    /// one normal draw from `s`.
    #[inline]
    pub fn measured_hba1c_pct(&self, hba1c_pct: f64, s: &mut Stream) -> f64 {
        hba1c_pct * (1.0 + self.p.hba1c_cv * s.std_normal())
    }

    /// One step up the treatment ladder (basal insulin starting at its starting dose), or on
    /// insulin an up-titration of the dose, capped at its maximum.
    pub fn step_up_treatment<S: HasDm>(&self, st: &mut S) {
        let prm = &self.p;
        let st = st.dm_mut();
        if st.rx < RX_INSULIN {
            st.rx += 1;
            if st.rx == RX_INSULIN {
                st.insulin_dose = prm.insulin_start;
            }
        } else {
            st.insulin_dose = (st.insulin_dose + prm.insulin_titration).min(prm.insulin_max);
        }
    }
}
