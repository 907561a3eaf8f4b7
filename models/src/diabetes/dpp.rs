//! The Diabetes Prevention Program's arms as mechanisms (weight, activity, metformin): the
//! numbers the lifestyle and metformin programmes use. The trial itself is a trial file
//! (`scenarios/trials/dpp.toml`, run by `healthtwin trial dpp` on the coupled model).
//!
//! Knowler WC et al. (DPP Research Group). Reduction in the incidence of type 2 diabetes
//! with lifestyle intervention or metformin. N Engl J Med 2002;346:393–403. Design: DPP
//! Research Group, Diabetes Care 1999;22:623–634; baseline: Diabetes Care 2000;23:1619.
//!
//! Must never: draw.

/// A prevention arm as it acts on one person.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
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
