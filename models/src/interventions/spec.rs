//! The typed description of an intervention programme: what the scenario layer
//! (`scenarios/`, from TOML) hands to the model. Plain data, validated before a run; the
//! mechanisms that act on the model live beside it in this module.
//!
//! Times are in simulation years from the start of the run (year index 0 = the first
//! simulated year). Capacities are in *simulated* people: the scenario layer scales a
//! municipality's real places by (simulated population / represented population).

use crate::filter::CovariateFilter;

/// What the programme does. Every kind acts through model inputs or parameters with a
/// cited effect size; none edits an outcome directly.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    /// Intensive lifestyle programme (weight loss ≥ 7 %, 150 min/week activity): the DPP
    /// lifestyle mechanism (weight, insulin sensitivity, steps).
    IntensiveLifestyle,
    /// Exercise + nutrition programme for older people: frailty deficit acquisition and
    /// repair (Macdonald 2020 meta-analysis).
    ExerciseNutrition,
    /// Community salon participation (kayoi-no-ba): social participation.
    CommunitySalon,
    /// Metformin for prevention (people without diabetes) or first-line therapy.
    Metformin,
    /// Statin: LDL lowered by a proportion (CTT).
    Statin,
    /// Antihypertensive: SBP lowered in mmHg (Law 2003 / Ettehad 2016).
    Antihypertensive,
    /// Glucose-lowering intensification for diagnosed diabetes (lower HbA1c target).
    GlucoseIntensification,
    /// Annual health check-up attendance and follow-up: detection of diabetes,
    /// hypertension and dyslipidaemia, then treatment start.
    HealthCheck,
    /// Smoking-cessation support: higher quit rate for current smokers.
    SmokingCessation,
}

impl Kind {
    pub const ALL: [Kind; 9] = [
        Kind::IntensiveLifestyle,
        Kind::ExerciseNutrition,
        Kind::CommunitySalon,
        Kind::Metformin,
        Kind::Statin,
        Kind::Antihypertensive,
        Kind::GlucoseIntensification,
        Kind::HealthCheck,
        Kind::SmokingCessation,
    ];

    /// The name used in scenario files.
    pub fn name(self) -> &'static str {
        match self {
            Kind::IntensiveLifestyle => "intensive_lifestyle",
            Kind::ExerciseNutrition => "exercise_nutrition",
            Kind::CommunitySalon => "community_salon",
            Kind::Metformin => "metformin",
            Kind::Statin => "statin",
            Kind::Antihypertensive => "antihypertensive",
            Kind::GlucoseIntensification => "glucose_intensification",
            Kind::HealthCheck => "health_check",
            Kind::SmokingCessation => "smoking_cessation",
        }
    }

    pub fn from_name(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.name() == s)
    }
}

/// J-CHS phenotype states (for eligibility).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FrailtyState {
    Robust,
    Prefrail,
    Frail,
}

/// Who may be offered a place, judged on the person's state at the start of each year
/// (eligibility that needs a measurement uses the person's current simulated value).
/// `None` means "no condition".
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Eligibility {
    /// Conditions on sex, age and the current covariates: the same filter a scenario's
    /// population uses on baseline values.
    pub covariates: CovariateFilter,
    /// Any of these phenotype states (empty: any state).
    pub frailty_states: Vec<FrailtyState>,
    pub has_diabetes: Option<bool>,
    pub diagnosed_diabetes: Option<bool>,
    pub hypertension: Option<bool>,
    pub cvd_history: Option<bool>,
    pub ltc_certified: Option<bool>,
}

/// Who gets a place first when eligible people outnumber places.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Priority {
    /// A keyed lottery (reproducible, independent of patient order).
    Random,
    /// Highest predicted 10-year cardiovascular risk first.
    CardiovascularRisk,
    /// Highest predicted diabetes risk first (highest fasting glucose / HbA1c).
    DiabetesRisk,
    /// Highest frailty index first.
    FrailtyIndex,
    /// Oldest first.
    Age,
}

/// One programme of a scenario.
#[derive(Clone, Debug, PartialEq)]
pub struct Intervention {
    /// Unique within the scenario; used in outputs.
    pub name: String,
    pub kind: Kind,
    pub eligibility: Eligibility,
    pub priority: Priority,
    /// Probability that an eligible person offered a place takes it up.
    pub uptake: f64,
    /// Share of the programme's effect a participant receives (1 = as in the trial).
    pub adherence: f64,
    /// Participants leaving per year (exponential dropout), in [0, ∞).
    pub dropout_per_year: f64,
    /// First year (index) places are offered; enrolment stops at `stop_year` (exclusive).
    pub start_year: u32,
    pub stop_year: Option<u32>,
    /// How long one participant stays enrolled, years (`None`: until dropout, death or stop).
    pub duration_years: Option<f64>,
    /// Places per year in simulated people (`None`: unlimited).
    pub capacity_per_year: Option<u64>,
    /// Programme cost per participant-year, yen (undiscounted).
    pub cost_per_participant_year_yen: f64,
    /// Multiplies the cited effect size (1 = as published); for sensitivity analyses.
    pub effect_scale: f64,
}
