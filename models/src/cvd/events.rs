//! The event phase: at most one event per step when the clock runs out, its type in
//! proportion to the hazards, case fatality, secondary prevention of survivors; and the
//! cardiovascular death hazards of the mortality phase.
//!
//! Must never: draw in a step without an event (the clock decides).

use engine::math::DetMath;
use engine::observe::Recorder;
use engine::{Patient, Sex, StepCtx};

use super::params;
use super::{metric, Cvd, DmLink, HasCvd, CLOCK_AFTER_EVENT, EVENTS, FATAL_HAZARD};
use super::{HAEMORRHAGIC_STROKE, ISCHAEMIC_STROKE, MI, N_EVENTS};

impl Cvd {
    /// Case fatality (death within the step of the event) for an event at `age`.
    pub fn case_fatality(&self, event: usize, sex: Sex, age: f64) -> f64 {
        let prm = &self.p;
        let (at_ref, slope, ref_age) = match event {
            MI => (
                if sex == Sex::Male {
                    prm.cf_mi_male
                } else {
                    prm.cf_mi_female
                },
                prm.cf_age_mi,
                70.0,
            ),
            ISCHAEMIC_STROKE => (prm.cf_is, prm.cf_age_stroke, 70.0),
            HAEMORRHAGIC_STROKE => (prm.cf_hs, prm.cf_age_stroke, 70.0),
            _ => (prm.cf_hf, prm.cf_age_hf, 80.0),
        };
        let at_ref = at_ref.clamp(1e-9, 1.0 - 1e-9);
        let logit = (at_ref / (1.0 - at_ref)).ln_det() + slope * (age - ref_age) / 10.0;
        1.0 / (1.0 + (-logit).exp_det())
    }

    /// Event phase: at most one event per step, when the event clock runs out within it
    /// (probability 1 − e^(−hΔt) per step at total hazard h, as [`super::hazard::step_probability`]);
    /// the type is drawn in proportion to the hazards; fatal events end the person's life in
    /// the mortality phase; survivors carry the history (flags), may start secondary
    /// prevention, and get new hazards and a new clock.
    pub fn events<S: HasCvd>(
        &self,
        ctx: &StepCtx,
        p: &mut Patient<S>,
        link: &DmLink,
        rec: &mut Recorder,
    ) {
        self.events_with(ctx, p, |_| *link, rec);
    }

    /// [`Cvd::events`] with the diabetes link built by `link` only in a step with an event
    /// (most steps have none and need no link).
    #[inline]
    pub fn events_with<S: HasCvd>(
        &self,
        ctx: &StepCtx,
        p: &mut Patient<S>,
        link: impl FnOnce(&Patient<S>) -> DmLink,
        rec: &mut Recorder,
    ) {
        let dt = ctx.dt_years;
        let st = p.state.cvd();
        {
            let mut at_risk = rec.at_risk_block::<{ metric::COUNT }>(self.metrics.base(), dt);
            for m in [
                metric::MI_INC,
                metric::IS_INC,
                metric::HS_INC,
                metric::STROKE_INC,
                metric::ACUTE_DEATHS,
            ] {
                at_risk.add(m);
            }
            at_risk.add_if(metric::HF_INC, !st.heart_failure);
            at_risk.add_if(metric::FIRST_MI, st.mi_count == 0);
            at_risk.add_if(metric::FIRST_STROKE, !st.stroke_history());
            at_risk.add_if(metric::BP_STARTS, st.bp_drugs == 0);
            at_risk.add_if(metric::STATIN_STARTS, !st.statin);
        }
        if st.event_clock > dt {
            p.state.cvd_mut().event_clock -= dt;
            return;
        }
        let mut s = ctx.stream(EVENTS, p.id());
        let u_type = s.uniform();
        let total: f64 = st.hazard.iter().sum();
        let pick = u_type * total;
        let mut event = 0;
        let mut acc = st.hazard[0];
        while acc <= pick && event + 1 < N_EVENTS {
            event += 1;
            acc += st.hazard[event];
        }
        let age = p.age_years;
        let (u_fatal, u_statin, u_bp) = (s.uniform(), s.uniform(), s.uniform());
        let fatal = self.p.explicit >= 0.5 && u_fatal < self.case_fatality(event, p.sex(), age);
        let first = [
            st.mi_count == 0,
            !st.stroke_history(),
            !st.stroke_history(),
            !st.heart_failure,
        ][event];
        match event {
            MI => {
                rec.event(self.m(metric::MI_INC));
                if first {
                    rec.event(self.m(metric::FIRST_MI));
                }
            }
            ISCHAEMIC_STROKE | HAEMORRHAGIC_STROKE => {
                rec.event(self.m(if event == ISCHAEMIC_STROKE {
                    metric::IS_INC
                } else {
                    metric::HS_INC
                }));
                rec.event(self.m(metric::STROKE_INC));
                if first {
                    rec.event(self.m(metric::FIRST_STROKE));
                }
            }
            _ => rec.event(self.m(metric::HF_INC)),
        }
        let prm = &self.p;
        let st = p.state.cvd_mut();
        if st.first_event_age.is_nan() {
            st.first_event_age = age;
        }
        match event {
            MI => st.mi_count = st.mi_count.saturating_add(1),
            ISCHAEMIC_STROKE => st.ischaemic_stroke = true,
            HAEMORRHAGIC_STROKE => st.haemorrhagic_stroke = true,
            _ => st.heart_failure = true,
        }
        if fatal {
            st.fatal = true;
            rec.event(self.m(metric::ACUTE_DEATHS));
            return;
        }
        // Secondary prevention.
        if (event == MI || event == ISCHAEMIC_STROKE)
            && !st.statin
            && u_statin < prm.post_event_statin
        {
            st.statin = true;
            rec.event(self.m(metric::STATIN_STARTS));
        }
        if st.bp_drugs == 0 && u_bp < prm.post_event_bp {
            st.bp_drugs = 1;
            rec.event(self.m(metric::BP_STARTS));
        }
        self.apply(p);
        let link = link(p);
        self.refresh(ctx, p, &link, CLOCK_AFTER_EVENT);
    }

    /// The person's cardiovascular death hazard per year: certain death after a fatal event,
    /// otherwise the excess after past events, (HR − 1) × the population hazard `mu`.
    #[inline]
    pub fn death_hazard<S: HasCvd>(&self, p: &Patient<S>, mu: f64) -> f64 {
        let prm = &self.p;
        if prm.explicit < 0.5 {
            return 0.0;
        }
        let st = p.state.cvd();
        if st.fatal {
            return FATAL_HAZARD;
        }
        let mut hr = 1.0;
        if st.mi_count > 0 {
            hr *= prm.hr_post_mi;
        }
        if st.stroke_history() {
            hr *= prm.hr_post_stroke;
        }
        if st.heart_failure {
            hr *= prm.hr_post_hf;
        }
        (hr - 1.0) * mu
    }

    /// The population's cardiovascular death hazard at `age` implied by the model (a share of
    /// the life-table hazard `mu_lt`, [`params::MODEL_CVD_DEATH_SHARE`]), which the background
    /// hazard leaves out when CVD deaths are explicit (docs/model.md).
    #[inline]
    pub fn population_death_rate(&self, sex: usize, age: f64, mu_lt: f64) -> f64 {
        if self.p.explicit < 0.5 {
            0.0
        } else {
            params::model_cvd_death_share(sex, age) * mu_lt
        }
    }
}
