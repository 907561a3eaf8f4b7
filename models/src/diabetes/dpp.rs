//! The Diabetes Prevention Program as a virtual trial: eligibility, the three arms as
//! mechanisms (weight, activity, metformin), semi-annual fasting glucose with confirmation.
//!
//! Knowler WC et al. (DPP Research Group). Reduction in the incidence of type 2 diabetes
//! with lifestyle intervention or metformin. N Engl J Med 2002;346:393–403. Design: DPP
//! Research Group, Diabetes Care 1999;22:623–634; baseline: Diabetes Care 2000;23:1619.
//!
//! The trial runs inside a coupled model ([`TrialHost`]: its state at entry, its mortality
//! and its diabetes model), which it names only through that trait.
//!
//! Must never: draw outside its own ascertainment stream and the host's keyed streams.

/// A prevention arm as it acts on one person.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Arm {
    #[default]
    None,
    Placebo,
    Metformin,
    Lifestyle,
}

/// Metformin 850 mg twice daily: share of prescribed pills taken (DPP: ≥80% of pills in
/// 72% of the metformin arm [M]); used as the effect multiplier of the trial drug.
pub const METFORMIN_ADHERENCE: f64 = 0.72;

/// Lifestyle arm: weight loss as a share of baseline weight (goal ≥ 7%; mean −5.6 kg at 2.8 y
/// from 94 kg, ≈ 6% [M]): full 7% by 6 months, easing to 5% by year 3 (DPP weight curve [M]).
pub fn lifestyle_weight_loss(t_years: f64) -> f64 {
    if t_years <= 0.5 {
        0.07 * t_years / 0.5
    } else if t_years <= 3.0 {
        0.07 - 0.02 * (t_years - 0.5) / 2.5
    } else {
        0.05
    }
}

/// Lifestyle arm: extra daily steps. Goal ≥ 150 min/week of moderate activity ≈ 2,100
/// steps/day at ~100 steps/min [D], met by 74% at 24 weeks [M] → +1,550 on average.
pub const LIFESTYLE_EXTRA_STEPS: f64 = 1550.0;

/// Metformin arm: mean weight change −2.1 kg of 94 kg [M] ≈ −2.2%.
pub const METFORMIN_WEIGHT_LOSS: f64 = 0.022;

/// Applies a person's prevention arm to their current weight and activity (risk-factor
/// phase). Weight (as BMI) and steps are set from baseline, so arms never accumulate.
pub fn apply_arm<S: super::HasDm>(ctx: &engine::StepCtx, p: &mut engine::Patient<S>) {
    let t = ctx.t_years + ctx.dt_years;
    let b = p.baseline.covariates;
    match p.state.dm().prevention {
        Arm::Lifestyle => {
            p.now.bmi_kg_m2 = b.bmi_kg_m2 * (1.0 - lifestyle_weight_loss(t));
            p.now.steps_per_day = b.steps_per_day + LIFESTYLE_EXTRA_STEPS;
        }
        Arm::Metformin => {
            p.now.bmi_kg_m2 = b.bmi_kg_m2 * (1.0 - METFORMIN_WEIGHT_LOSS * (t / 0.5).min(1.0));
        }
        Arm::None | Arm::Placebo => {}
    }
}

use engine::observe::{MetricDef, MetricKind, Recorder};
use engine::patient::Conditions;
use engine::rng::Process;
use engine::{Baseline, Model, Patient, RunKey, StepCtx, MAX_CAUSES};

use super::{Diabetes, HasDm, FPG_DIABETES, HBA1C_DIABETES};

const ASCERTAIN: Process = Process::named("dpp.ascertainment");

/// DPP eligibility applied to a baseline person: no diabetes (not diagnosed or treated,
/// HbA1c < 6.5%), fasting glucose 95–125 mg/dL, BMI ≥ 22 kg/m² (the DPP threshold for
/// Asian Americans; ≥ 24 otherwise), age ≥ 25 (DPP Research Group, Diabetes Care
/// 2000;23:1619 [V]). DPP also required impaired glucose tolerance on an OGTT, which
/// healthtwin does not model (no 2-hour glucose).
pub fn eligible(b: &Baseline) -> bool {
    let c = &b.covariates;
    b.age_years >= 25.0
        && !c.conditions.contains(Conditions::DIABETES)
        && !c
            .treatments
            .contains(engine::patient::Treatments::GLUCOSE_LOWERING)
        && c.hba1c_pct < HBA1C_DIABETES
        && (95.0..FPG_DIABETES).contains(&c.fpg_mg_dl)
        && c.bmi_kg_m2 >= 22.0
}

/// A coupled model the trial runs in: it gives the participants' state at entry and their
/// mortality, and its diabetes model steps their physiology; the trial replaces its other
/// phases.
pub trait TrialHost: Model<State: HasDm> {
    fn diabetes(&self) -> &Diabetes;
}

/// The trial as an engine model: the full healthtwin physiology with the arm applied to
/// every participant, and DPP's outcome ascertainment in place of the usual care pathway:
/// fasting glucose every 6 months, diabetes when it is ≥ 126 mg/dL and a repeat test
/// confirms it (DPP design, Diabetes Care 1999;22:623 [V criteria; schedule M]).
/// The trial owns its copy of the host model, so a replicate of a probabilistic sensitivity
/// analysis can carry its own parameter draws.
#[derive(Clone, Debug)]
pub struct DppTrial<M> {
    pub model: M,
    pub arm: Arm,
}

/// The one metric of the trial: confirmed diabetes per person-year of follow-up.
pub const TRIAL_INCIDENCE: usize = 0;

impl<M: TrialHost> Model for DppTrial<M> {
    type State = M::State;
    type YearPrep = ();

    fn causes_of_death(&self) -> &[&'static str] {
        self.model.causes_of_death()
    }

    fn metrics(&self) -> Vec<MetricDef> {
        vec![MetricDef::new(
            "dpp_incidence",
            MetricKind::Incidence,
            "confirmed diabetes (FPG >= 126 twice) per 1,000 person-years of follow-up",
        )]
    }

    fn init(&self, run: RunKey, b: &Baseline) -> M::State {
        let mut st = self.model.init(run, b);
        st.dm_mut().prevention = self.arm;
        st
    }

    fn risk_factors(&self, ctx: &StepCtx, p: &mut Patient<M::State>, _rec: &mut Recorder) {
        apply_arm(ctx, p);
    }

    fn physiology(&self, ctx: &StepCtx, p: &mut Patient<M::State>, _rec: &mut Recorder) {
        self.model.diabetes().physiology(ctx, p);
    }

    fn events(&self, ctx: &StepCtx, p: &mut Patient<M::State>, rec: &mut Recorder) {
        let st = p.state.dm_mut();
        if st.diagnosed {
            return;
        }
        rec.at_risk(TRIAL_INCIDENCE, ctx.dt_years);
        // A visit at the end of every sixth month.
        let month_end = ((ctx.t_years + ctx.dt_years) * 12.0).round() as i64;
        if month_end % 6 != 0 {
            return;
        }
        let cv = self.model.diabetes().p.fpg_cv;
        let mut s = ctx.stream(ASCERTAIN, p.baseline.id);
        let first = st.fpg_mg_dl * (1.0 + cv * s.std_normal());
        let repeat = st.fpg_mg_dl * (1.0 + cv * s.std_normal());
        if first >= FPG_DIABETES && repeat >= FPG_DIABETES {
            st.diagnosed = true;
            st.prevention = Arm::None;
            rec.event(TRIAL_INCIDENCE);
        }
    }

    fn mortality_hazards(
        &self,
        ctx: &StepCtx,
        p: &Patient<M::State>,
        hazards: &mut [f64; MAX_CAUSES],
    ) {
        self.model.mortality_hazards(ctx, p, hazards);
    }
}

impl Arm {
    pub fn name(self) -> &'static str {
        match self {
            Arm::None => "none",
            Arm::Placebo => "placebo",
            Arm::Metformin => "metformin",
            Arm::Lifestyle => "lifestyle",
        }
    }
}
