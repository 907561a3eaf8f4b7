//! How a participant's model inputs change: every programme acts through an input or a
//! parameter of the disease models, scaled by its strength s = adherence × effect_scale,
//! never on an outcome. Effects start in the first step after enrolment and stop in the
//! step the participant leaves (drugs the programme started are withdrawn, weight and
//! activity return to the person's own trajectory; treatment steps added by glucose
//! intensification stay, as usual care continues them). Sources and tags in docs/model.md,
//! "Interventions and health economics".
//!
//! Must never: write a disease module's state itself: every change goes through the
//! module's verbs (`Diabetes::start_prevention`, `Cvd::start_statin`,
//! `Frailty::set_social_participation`, …), which keep that module's state consistent.

use engine::observe::Recorder;
use engine::rng::Stream;
use engine::{Patient, StepCtx};

use super::programmes::metric;
use super::{Kind, Participant, ProgrammeSet, ValidatedProgramme};
use crate::cvd::{Cvd, DmLink};
use crate::diabetes::{dpp, Diabetes};
use crate::frailty::Frailty;

/// Yearly decisions for a participant (in `start_of_year`): attendance of the health
/// check-up and of the community salon, each with probability min(s, 1) this year.
pub(super) fn yearly<S: Participant>(pr: &ValidatedProgramme, k: usize, st: &mut S, mut s: Stream) {
    if pr.strength <= 0.0 {
        return;
    }
    // Only the kinds with a yearly decision draw (the draw of the others would be unused).
    let mut attends = || s.uniform() < pr.strength.min(1.0);
    let bit = 1u8 << k;
    match pr.spec.kind {
        Kind::HealthCheck => Diabetes::assure_checkup(st, attends()),
        // A person already taking part in community groups gains nothing; the programme
        // owns the participation it creates.
        Kind::CommunitySalon if !st.fr().social || st.ix().owns & bit != 0 => {
            let attends = attends();
            Frailty::set_social_participation(st, attends);
            let ix = st.ix_mut();
            if attends {
                ix.owns |= bit;
            } else {
                ix.owns &= !bit;
            }
        }
        _ => {}
    }
}

impl ProgrammeSet {
    /// Risk-factor phase, before the cardiovascular trajectories: participants who leave
    /// this step, programmes that start acting, and the visits of glucose intensification.
    /// Called only for people with an enrolled or started programme.
    pub fn before_risk_factors<S: Participant>(
        &self,
        ctx: &StepCtx,
        p: &mut Patient<S>,
        cvd: &Cvd,
        dm: &Diabetes,
        rec: &mut Recorder,
    ) {
        let month = engine::math::round_to_i64(ctx.t_years * 12.0) as u32;
        // Most participant-months change nothing: no start or stop pending, no exit due, no
        // programme acting monthly. The loop below would do nothing; skip it.
        let ix = p.state.ix();
        if ix.enrolled == ix.started
            && ix.started & self.monthly_mask == 0
            && u32::from(ix.next_exit()) > month
        {
            return;
        }
        let mut treatment_changed = false;
        for (k, pr) in self.programmes.iter().enumerate() {
            let bit = 1u8 << k;
            let ix = *p.state.ix();
            if ix.enrolled & bit != 0 && ix.started & bit == 0 {
                p.state.ix_mut().started |= bit;
                rec.event(self.metric(k, metric::ENROLMENTS));
                treatment_changed |= start(pr, k, p);
            }
            let ix = p.state.ix_mut();
            if ix.enrolled & bit != 0 && u32::from(ix.exit_month[k]) <= month {
                ix.leave(k, bit);
            }
            if ix.started & bit != 0 && ix.enrolled & bit == 0 {
                ix.started &= !bit;
                treatment_changed |= stop(pr, k, p);
                continue;
            }
            if ix.started & bit == 0 || pr.strength <= 0.0 {
                continue;
            }
            match pr.spec.kind {
                // The diagnosis pathway ends a prevention arm: the programme keeps it.
                Kind::Metformin => Diabetes::continue_prevention(&mut p.state, dpp::Arm::Metformin),
                Kind::GlucoseIntensification => intensify(pr, ctx, p, dm),
                _ => {}
            }
        }
        if treatment_changed {
            cvd.treatment_changed(ctx, p, &DmLink::of(p));
        }
    }

    /// Risk-factor phase, after the cardiovascular trajectories moved BMI by the age drift:
    /// weight and activity of the lifestyle and metformin programmes, set each step from the
    /// person's own trajectory (baseline + drift), so effects never accumulate.
    pub fn after_risk_factors<S: Participant>(&self, ctx: &StepCtx, p: &mut Patient<S>) {
        let ix = *p.state.ix();
        if ix.started & self.weight_mask == 0 {
            return;
        }
        let mut weight = 1.0;
        let mut extra_steps = 0.0;
        let month = engine::math::round_to_i64(ctx.t_years * 12.0) as u32;
        let mut any = false;
        for (k, pr) in self.programmes.iter().enumerate() {
            if ix.started >> k & 1 == 0 || pr.strength <= 0.0 {
                continue;
            }
            // Years in the programme at the end of this step.
            let t = (f64::from(month.saturating_sub(u32::from(ix.since_month[k]))) / 12.0)
                + ctx.dt_years;
            match pr.spec.kind {
                Kind::IntensiveLifestyle => {
                    weight *=
                        1.0 - pr.strength.min(1.0 / 0.07 * 0.99) * dpp::lifestyle_weight_loss(t);
                    extra_steps += pr.strength * dpp::LIFESTYLE_EXTRA_STEPS;
                    any = true;
                }
                Kind::Metformin => {
                    // DPP weight change without diabetes; weight neutral as a diabetes drug.
                    if !p.state.dm().diagnosed {
                        weight *= 1.0
                            - pr.strength.min(1.0 / 0.022 * 0.99)
                                * dpp::METFORMIN_WEIGHT_LOSS
                                * (t / 0.5).min(1.0);
                    }
                    any = true;
                }
                _ => {}
            }
        }
        if any {
            let b = p.baseline.covariates;
            p.now.bmi_kg_m2 = (b.bmi_kg_m2 + p.state.cvd().bmi_drift).clamp(12.0, 70.0) * weight;
            p.now.steps_per_day = b.steps_per_day + extra_steps;
        }
    }
}

/// The programme starts acting; returns whether a cardiovascular treatment changed.
fn start<S: Participant>(pr: &ValidatedProgramme, k: usize, p: &mut Patient<S>) -> bool {
    let s = pr.strength;
    if s <= 0.0 {
        return false;
    }
    let bit = 1u8 << k;
    let st = &mut p.state;
    let owned = match pr.spec.kind {
        Kind::Metformin => {
            Diabetes::start_prevention(st, dpp::Arm::Metformin, s);
            return false;
        }
        Kind::Statin => Cvd::start_statin(st, s as f32),
        // One more standard-dose drug at strength s: the effective number of drugs goes from
        // d to d + s (Cvd::bp_lowering is linear in the number of drugs).
        Kind::Antihypertensive => Cvd::add_bp_drug(st, s as f32),
        Kind::SmokingCessation => {
            Cvd::set_quit_rate_factor(st, (1.0 + s * (pr.fx.cessation_quit_rr - 1.0)) as f32);
            return false;
        }
        Kind::ExerciseNutrition => {
            Frailty::set_deficit_rate_factors(
                st,
                (1.0 - s.min(1.0) * (1.0 - pr.fx.exercise_acquisition)) as f32,
                (1.0 + s * (1.0 / pr.fx.exercise_acquisition - 1.0)) as f32,
            );
            return false;
        }
        _ => return false,
    };
    // The statin or drug the programme started is its own, withdrawn when the person leaves.
    if owned {
        st.ix_mut().owns |= bit;
    }
    owned
}

/// The participant leaves: effects stop. Returns whether a cardiovascular treatment changed.
fn stop<S: Participant>(pr: &ValidatedProgramme, k: usize, p: &mut Patient<S>) -> bool {
    let bit = 1u8 << k;
    let ix = p.state.ix_mut();
    let owned = ix.owns & bit != 0;
    ix.owns &= !bit;
    if pr.strength <= 0.0 {
        return false;
    }
    let st = &mut p.state;
    match pr.spec.kind {
        Kind::IntensiveLifestyle | Kind::Metformin => {
            if pr.spec.kind == Kind::Metformin {
                Diabetes::stop_prevention(st);
            }
            let b = p.baseline.covariates;
            p.now.bmi_kg_m2 = (b.bmi_kg_m2 + p.state.cvd().bmi_drift).clamp(12.0, 70.0);
            p.now.steps_per_day = b.steps_per_day;
            false
        }
        Kind::Statin if owned => {
            Cvd::stop_statin(st);
            true
        }
        Kind::Antihypertensive if owned => {
            Cvd::remove_bp_drug(st);
            true
        }
        Kind::SmokingCessation => {
            Cvd::set_quit_rate_factor(st, 1.0);
            false
        }
        Kind::ExerciseNutrition => {
            Frailty::set_deficit_rate_factors(st, 1.0, 1.0);
            false
        }
        Kind::HealthCheck => {
            Diabetes::assure_checkup(st, false);
            false
        }
        Kind::CommunitySalon if owned => {
            Frailty::set_social_participation(st, false);
            false
        }
        _ => false,
    }
}

/// Glucose intensification: a treat-to-target visit every quarter for people with
/// diagnosed diabetes; above the intensive target, the next step of the model's treatment
/// ladder (or an insulin titration) with probability min(s, 1) (no clinical inertia at full
/// strength). HbA1c is measured with the model's HbA1c error.
fn intensify<S: Participant>(
    pr: &ValidatedProgramme,
    ctx: &StepCtx,
    p: &mut Patient<S>,
    dm: &Diabetes,
) {
    let months = (engine::math::round_to_i64(ctx.dt_years * 12.0) as u32).max(1);
    if !p.state.dm().diagnosed || (ctx.step * months) % 3 >= months {
        return;
    }
    let mut s = ctx.stream(pr.visit, p.id());
    let measured_hba1c_pct = dm.measured_hba1c_pct(p.now.hba1c_pct, &mut s);
    if measured_hba1c_pct < pr.fx.intensive_hba1c_target || s.uniform() >= pr.strength.min(1.0) {
        return;
    }
    dm.step_up_treatment(&mut p.state);
}
