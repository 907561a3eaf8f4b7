//! Onset, diagnosis and treatment: true onset by the JDS criteria, diagnosis at the annual
//! check-up, in routine care or from symptoms, the treatment ladder at visits, severe
//! hypoglycaemia; then the kidney and complications of the step.
//!
//! Must never: draw outside a step where a route to diagnosis, a visit or an event is open.

use engine::math::rate_to_probability;
use engine::observe::Recorder;
use engine::patient::{Conditions, Treatments};
use engine::rng::Stream;
use engine::{Patient, StepCtx};

use super::{dpp, metric, Diabetes, HasDm, CARE, CHECKUP, FPG_DIABETES};
use super::{HBA1C_DIABETES, HYPO, RX_DPP4, RX_INSULIN, RX_NONE};

impl Diabetes {
    /// Fasting glucose (mg/dL) and HbA1c (%) as measured at a visit, from their true values.
    pub(super) fn measure(&self, s: &mut Stream, fpg_mg_dl: f64, hba1c_pct: f64) -> (f64, f64) {
        let measured_fpg_mg_dl = fpg_mg_dl * (1.0 + self.p.fpg_cv * s.std_normal());
        (measured_fpg_mg_dl, self.measured_hba1c_pct(hba1c_pct, s))
    }

    pub(super) fn screen_positive(fpg_mg_dl: f64, hba1c_pct: f64) -> bool {
        fpg_mg_dl >= FPG_DIABETES || hba1c_pct >= HBA1C_DIABETES
    }

    /// Onset, diagnosis, treatment, complications and hypoglycaemia over one step.
    pub fn events<S: HasDm>(&self, ctx: &StepCtx, p: &mut Patient<S>, rec: &mut Recorder) {
        let prm = &self.p;
        let dt = ctx.dt_years;
        let id = p.id();
        let age = p.age_years;
        let female = p.sex().index() == 1;

        // True onset.
        if !p.state.dm().has_diabetes() {
            rec.at_risk(self.metrics.at(metric::INCIDENCE), dt);
            // Chronic hyperglycaemia: HbA1c ≥ 6.5%, or a two-month mean fasting glucose
            // ≥ 126 mg/dL (read from the HbA1c lag without the person's glycation offset; a
            // single day's glucose is not diabetes).
            let hba1c_pct = p.now.hba1c_pct;
            if hba1c_pct >= HBA1C_DIABETES || hba1c_pct - p.state.dm().glycation >= HBA1C_DIABETES {
                p.state.dm_mut().onset_age = Some(age + dt);
                rec.event(self.metrics.at(metric::INCIDENCE));
            }
        }

        // Month of the year this step covers: [m0, m0 + months).
        let months = engine::math::round_to_i64(dt * 12.0) as u32;
        let m0 = (ctx.step * months) % 12;
        let checkup_now = (u32::from(p.state.dm().checkup_month) + 12 - m0) % 12 < months.max(1);

        // Diagnosis.
        let screened = checkup_now && age >= 40.0;
        let in_care = p.now.treatments.contains(Treatments::ANTIHYPERTENSIVE)
            || p.now.treatments.contains(Treatments::LIPID_LOWERING);
        let symptomatic = p.now.hba1c_pct >= 9.0;
        if p.state.dm().has_diabetes() && !p.state.dm().diagnosed {
            rec.at_risk(self.metrics.at(metric::DIAGNOSES), dt);
        }
        // The draws are made only in a step where a route to diagnosis is open.
        if p.state.dm().has_diabetes()
            && !p.state.dm().diagnosed
            && (screened || in_care || symptomatic)
        {
            let mut s = ctx.stream(CHECKUP, id);
            let (u_attend, u_follow, u_clinic, u_sympt) =
                (s.std_normal(), s.uniform(), s.uniform(), s.uniform());
            let (measured_fpg, measured_hba1c) =
                self.measure(&mut s, p.state.dm().fpg_mg_dl, p.now.hba1c_pct);
            let mut diagnose = false;
            if screened {
                let pr = if age >= 75.0 {
                    prm.checkup_75plus
                } else if female {
                    prm.checkup_female
                } else {
                    prm.checkup_male
                };
                let rho = prm.checkup_persistence.sqrt();
                let z = rho * p.state.dm().checkup_z + (1.0 - rho * rho).sqrt() * u_attend;
                let attends = z < engine::math::norm_inv(pr.clamp(1e-9, 1.0 - 1e-9))
                    || p.state.dm().checkup_assured;
                if attends && Self::screen_positive(measured_fpg, measured_hba1c) {
                    let visit = if measured_hba1c >= 8.0 {
                        prm.followup_8_plus
                    } else if measured_hba1c >= 7.0 {
                        prm.followup_7_to_8
                    } else {
                        prm.followup_below_7
                    };
                    diagnose = u_follow < visit;
                }
            }
            if !diagnose && in_care && u_clinic < rate_to_probability(prm.clinical_testing, dt) {
                diagnose = Self::screen_positive(measured_fpg, measured_hba1c);
            }
            if !diagnose && symptomatic {
                diagnose = u_sympt < rate_to_probability(prm.symptomatic, dt);
            }
            if diagnose {
                rec.event(self.metrics.at(metric::DIAGNOSES));
                p.state.dm_mut().diagnosed = true;
                p.state.dm_mut().prevention = dpp::Arm::None;
                if s.uniform() < prm.treat_at_diagnosis {
                    p.state.dm_mut().rx = RX_DPP4;
                }
            }
        }

        // Treatment: quarterly visits for people treated; a yearly review of the untreated.
        // Measurements and decisions are drawn only at visits.
        let st = p.state.dm_mut();
        let visit = if st.rx == RX_NONE {
            checkup_now
        } else {
            (ctx.step * months) % 3 < months.max(1)
        };
        if st.diagnosed && visit {
            let mut s = ctx.stream(CARE, id);
            let (_, measured_hba1c) = self.measure(&mut s, st.fpg_mg_dl, p.now.hba1c_pct);
            let u = s.uniform();
            if st.rx == RX_NONE {
                if measured_hba1c >= prm.target_hba1c + 1.0 && u < prm.treat_at_diagnosis {
                    st.rx = RX_DPP4;
                }
            } else if measured_hba1c >= prm.target_hba1c
                && u < prm.intensify_per_visit
                // Oral agents above target; insulin only a point above it (JDS practice of
                // starting insulin when oral agents clearly fail); on insulin, titration.
                && (st.rx + 1 != RX_INSULIN || measured_hba1c >= prm.target_hba1c + 1.0)
            {
                self.step_up_treatment(st);
            }
        }
        p.now
            .conditions
            .set(Conditions::DIABETES, p.state.dm().diagnosed);
        p.now
            .treatments
            .set(Treatments::GLUCOSE_LOWERING, p.state.dm().rx > RX_NONE);

        // Severe hypoglycaemia (treated people).
        if p.state.dm().rx > RX_NONE {
            rec.at_risk(self.metrics.at(metric::HYPO_INC), dt);
            let rate = if p.state.dm().rx >= RX_INSULIN {
                prm.hypo_insulin
            } else {
                prm.hypo_oral
            };
            // At most one event per step, as the per-step probability had it; the budget
            // restarts at the event.
            let next = || ctx.stream_at(HYPO, id, ctx.step + 1);
            if engine::rng::spend_clock(&mut p.state.dm_mut().hypo_clock, rate * dt, next) {
                rec.event(self.metrics.at(metric::HYPO_INC));
            }
        }

        self.kidney(ctx, p, rec);
        if p.state.dm().has_diabetes() {
            self.complications(ctx, p, rec);
        }
    }
}
