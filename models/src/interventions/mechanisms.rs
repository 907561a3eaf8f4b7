//! How a participant's model inputs change: every programme acts through an input or a
//! parameter of the disease models, scaled by its strength s = adherence × effect_scale,
//! never on an outcome. Effects start in the first step after enrolment and end when the
//! participant leaves, the way they end in people: drugs the programme started are
//! withdrawn (their effect is gone within days, the physiology's own memory, β-cell mass
//! and the HbA1c lag, carries the rest); weight lost is regained exponentially
//! (`ix.weight.regain_years`, Anderson 2001) and added activity fades
//! (`ix.activity.relapse_years`), so no input returns to the person's own trajectory in one
//! step; treatment steps added by glucose intensification stay, as usual care continues
//! them. Sources and tags in docs/model.md, "Interventions and health economics".
//!
//! Must never: write a disease module's state itself: every change goes through the
//! module's verbs (`Diabetes::start_prevention`, `Cvd::start_statin`,
//! `Frailty::set_social_participation`, …), which keep that module's state consistent.

use engine::math::DetMath;
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
                treatment_changed |= stop(self, pr, k, ctx, p);
                continue;
            }
            if ix.started & bit == 0 || pr.strength <= 0.0 {
                continue;
            }
            match pr.spec.kind {
                // The diagnosis pathway ends a prevention arm: the programme keeps it.
                Kind::Metformin => Diabetes::continue_prevention(&mut p.state, dpp::Arm::Metformin),
                Kind::GlucoseIntensification => intensify(pr, ctx, p, dm),
                Kind::BpTreatToTarget => {
                    treatment_changed |= treat_to_target(pr, k, ctx, p, cvd);
                }
                _ => {}
            }
        }
        if treatment_changed {
            cvd.treatment_changed(ctx, p, &DmLink::of(p));
        }
    }

    /// Risk-factor phase, after the cardiovascular trajectories moved BMI by the age drift:
    /// weight and activity of the lifestyle, diet, exercise and metformin programmes, and
    /// what programmes the person left still carry (fading), set each step from the person's
    /// own trajectory (baseline + drift), so effects never accumulate.
    pub fn after_risk_factors<S: Participant>(&self, ctx: &StepCtx, p: &mut Patient<S>) {
        let ix = *p.state.ix();
        if ix.started & self.weight_mask == 0 && !ix.carries() {
            return;
        }
        let month = engine::math::round_to_i64(ctx.t_years * 12.0) as u32;
        let mut weight = 1.0;
        let mut extra_steps = 0.0;
        if ix.carries() {
            let (w, steps) = self.carried(&ix, month, ctx.dt_years);
            weight = 1.0 - w;
            extra_steps = steps;
            if w < 1e-4 && steps < 1.0 {
                // What is left is below 0.01% of weight and one step a day: done.
                let ix = p.state.ix_mut();
                ix.carry_weight = 0.0;
                ix.carry_steps = 0.0;
                ix.carry_month = super::NEVER;
                weight = 1.0;
                extra_steps = 0.0;
            }
        }
        for (k, pr) in self.programmes.iter().enumerate() {
            if ix.started >> k & 1 == 0 || self.weight_mask >> k & 1 == 0 {
                continue;
            }
            // Years in the programme at the end of this step.
            let t = (f64::from(month.saturating_sub(u32::from(ix.since_month[k]))) / 12.0)
                + ctx.dt_years;
            let (w, steps) = enrolled_effect(pr, t, p.state.dm().diagnosed);
            weight *= 1.0 - w;
            extra_steps += steps;
        }
        let b = p.baseline.covariates;
        p.now.bmi_kg_m2 = (b.bmi_kg_m2 + p.state.cvd().bmi_drift).clamp(12.0, 70.0) * weight;
        p.now.steps_per_day = b.steps_per_day + extra_steps;
    }

    /// Weight share and daily steps still carried at the end of the step that starts at
    /// `month` (exponential regain and relapse since the last exit).
    #[inline]
    fn carried(&self, ix: &super::IxState, month: u32, dt_years: f64) -> (f64, f64) {
        use engine::math::ExpDet;
        let t = f64::from(month.saturating_sub(u32::from(ix.carry_month))) / 12.0 + dt_years;
        // Every programme holds the same effect sizes; one carries only after a programme.
        let Some(fx) = self.programmes.first().map(|pr| &pr.fx) else {
            return (0.0, 0.0);
        };
        (
            f64::from(ix.carry_weight) * (-t / fx.weight_regain_years).exp_det(),
            f64::from(ix.carry_steps) * (-t / fx.activity_relapse_years).exp_det(),
        )
    }
}

/// Weight lost (share) and steps added by programme `pr` `t` years after enrolment, for a
/// participant who is still enrolled.
#[inline]
fn enrolled_effect(pr: &ValidatedProgramme, t: f64, diagnosed: bool) -> (f64, f64) {
    let s = pr.strength;
    let m = &pr.spec.mechanism;
    match pr.spec.kind {
        Kind::IntensiveLifestyle | Kind::Diet | Kind::Exercise | Kind::ExerciseNutrition => (
            (s * m.enrolled_weight_loss(t)).min(0.99),
            s * m.extra_steps_per_day,
        ),
        // DPP weight change without diabetes; weight neutral as a diabetes drug.
        Kind::Metformin if !diagnosed => (
            (s * dpp::METFORMIN_WEIGHT_LOSS * (t / 0.5).min(1.0)).min(0.99),
            0.0,
        ),
        _ => (0.0, 0.0),
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
        // Drugs come at the visits (the first at enrolment).
        Kind::BpTreatToTarget => return false,
        Kind::SmokingCessation => {
            Cvd::set_quit_rate_factor(st, (1.0 + s * (pr.fx.cessation_quit_rr - 1.0)) as f32);
            return false;
        }
        Kind::ExerciseNutrition => {
            let c = pr.spec.mechanism.components;
            let share = match (c.exercise, c.nutrition) {
                (true, true) => 1.0,
                (true, false) => pr.fx.exercise_share,
                (false, true) => 1.0 - pr.fx.exercise_share,
                (false, false) => 0.0,
            };
            if share > 0.0 {
                // The calibrated factor f at full strength; a component keeps the share
                // `share` of its log (f^share), scaled by the strength as before.
                let f = pr.fx.exercise_acquisition.powf_det(share);
                Frailty::set_deficit_rate_factors(
                    st,
                    (1.0 - s.min(1.0) * (1.0 - f)) as f32,
                    (1.0 + s * (1.0 / f - 1.0)) as f32,
                );
            }
            if c.social && !st.fr().social {
                Frailty::set_social_participation(st, true);
                st.ix_mut().owns |= bit;
            }
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

/// The participant leaves programme `k`: its weight loss and added steps at this moment join
/// what the person carries from earlier exits (what is left of those, plus these), to fade
/// from now on.
fn carry_on<S: Participant>(
    set: &ProgrammeSet,
    pr: &ValidatedProgramme,
    k: usize,
    ctx: &StepCtx,
    p: &mut Patient<S>,
) {
    let month = engine::math::round_to_i64(ctx.t_years * 12.0) as u32;
    let ix = *p.state.ix();
    // Years in the programme at the end of the previous step (the last effect it had).
    let t = f64::from(month.saturating_sub(u32::from(ix.since_month[k]))) / 12.0;
    let (w, steps) = enrolled_effect(pr, t, p.state.dm().diagnosed);
    if w <= 0.0 && steps <= 0.0 {
        return;
    }
    let (w0, s0) = if ix.carries() {
        set.carried(&ix, month, 0.0)
    } else {
        (0.0, 0.0)
    };
    let ix = p.state.ix_mut();
    // Losses multiply: what is left after both is (1 − w0)(1 − w).
    ix.carry_weight = (1.0 - (1.0 - w0) * (1.0 - w)) as f32;
    ix.carry_steps = (s0 + steps) as f32;
    ix.carry_month = month.min(u32::from(super::NEVER) - 1) as u16;
}

/// The participant leaves: effects stop (weight and activity fade, see [`carry_on`]).
/// Returns whether a cardiovascular treatment changed.
fn stop<S: Participant>(
    set: &ProgrammeSet,
    pr: &ValidatedProgramme,
    k: usize,
    ctx: &StepCtx,
    p: &mut Patient<S>,
) -> bool {
    let bit = 1u8 << k;
    let ix = p.state.ix_mut();
    let owned = ix.owns & bit != 0;
    ix.owns &= !bit;
    if pr.strength <= 0.0 {
        return false;
    }
    if pr.spec.sets_weight_or_activity() {
        carry_on(set, pr, k, ctx, p);
    }
    let st = &mut p.state;
    match pr.spec.kind {
        Kind::IntensiveLifestyle | Kind::Diet | Kind::Exercise => false,
        Kind::Metformin => {
            Diabetes::stop_prevention(st);
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
            if owned {
                Frailty::set_social_participation(st, false);
            }
            false
        }
        Kind::BpTreatToTarget => {
            let added = std::mem::take(&mut st.ix_mut().bp_added);
            for _ in 0..added {
                Cvd::remove_bp_drug(st);
            }
            added > 0
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

/// A blood-pressure treat-to-target visit (every `visit_months` from enrolment): SBP measured
/// with the check-up's measurement error; at or above the target, one more standard-dose drug
/// (up to `max_drugs` in all) with probability min(s, 1). Returns whether a drug was added.
fn treat_to_target<S: Participant>(
    pr: &ValidatedProgramme,
    k: usize,
    ctx: &StepCtx,
    p: &mut Patient<S>,
    cvd: &Cvd,
) -> bool {
    let m = &pr.spec.mechanism;
    let month = engine::math::round_to_i64(ctx.t_years * 12.0) as u32;
    let since = month.saturating_sub(u32::from(p.state.ix().since_month[k]));
    let months = (engine::math::round_to_i64(ctx.dt_years * 12.0) as u32).max(1);
    if since % m.visit_months.max(1) >= months {
        return false;
    }
    if p.state.cvd().bp_drugs >= m.max_drugs {
        return false;
    }
    let mut s = ctx.stream(pr.visit, p.id());
    let measured = p.now.sbp_mmhg + cvd.p.sbp_measure_sd * s.std_normal();
    if measured < m.target_sbp_mmhg || s.uniform() >= pr.strength.min(1.0) {
        return false;
    }
    if Cvd::add_bp_drug_up_to(&mut p.state, m.max_drugs) {
        p.state.ix_mut().bp_added += 1;
        return true;
    }
    false
}
