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
    /// lifestyle mechanism, weight and activity together ([`Mechanism`]).
    IntensiveLifestyle,
    /// Diet only: the weight trajectory of [`Mechanism`] without added activity.
    Diet,
    /// Exercise only: added daily steps without a weight target.
    Exercise,
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
    /// Blood-pressure treat-to-target: a visit every [`Mechanism::visit_months`]; above the
    /// target SBP, one more standard-dose drug, up to [`Mechanism::max_drugs`].
    BpTreatToTarget,
    /// Glucose-lowering intensification for diagnosed diabetes (lower HbA1c target).
    GlucoseIntensification,
    /// Annual health check-up attendance and follow-up: detection of diabetes,
    /// hypertension and dyslipidaemia, then treatment start.
    HealthCheck,
    /// Smoking-cessation support: higher quit rate for current smokers.
    SmokingCessation,
}

impl Kind {
    pub const ALL: [Kind; 12] = [
        Kind::IntensiveLifestyle,
        Kind::Diet,
        Kind::Exercise,
        Kind::ExerciseNutrition,
        Kind::CommunitySalon,
        Kind::Metformin,
        Kind::Statin,
        Kind::Antihypertensive,
        Kind::BpTreatToTarget,
        Kind::GlucoseIntensification,
        Kind::HealthCheck,
        Kind::SmokingCessation,
    ];

    /// The name used in scenario files.
    pub fn name(self) -> &'static str {
        match self {
            Kind::IntensiveLifestyle => "intensive_lifestyle",
            Kind::Diet => "diet",
            Kind::Exercise => "exercise",
            Kind::ExerciseNutrition => "exercise_nutrition",
            Kind::CommunitySalon => "community_salon",
            Kind::Metformin => "metformin",
            Kind::Statin => "statin",
            Kind::Antihypertensive => "antihypertensive",
            Kind::BpTreatToTarget => "bp_treat_to_target",
            Kind::GlucoseIntensification => "glucose_intensification",
            Kind::HealthCheck => "health_check",
            Kind::SmokingCessation => "smoking_cessation",
        }
    }

    pub fn from_name(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.name() == s)
    }

    /// Whether the kind sets weight (lifestyle, diet; metformin's small DPP weight change).
    pub fn moves_weight(self) -> bool {
        matches!(
            self,
            Kind::IntensiveLifestyle | Kind::Diet | Kind::Metformin
        )
    }

    /// Whether the kind may add daily steps ([`Mechanism::extra_steps_per_day`]).
    pub fn moves_activity(self) -> bool {
        matches!(
            self,
            Kind::IntensiveLifestyle | Kind::Exercise | Kind::Diet | Kind::ExerciseNutrition
        )
    }
}

impl Intervention {
    /// Whether the programme sets the participant's weight or daily steps each step.
    pub fn sets_weight_or_activity(&self) -> bool {
        let m = &self.mechanism;
        self.kind == Kind::Metformin
            || (self.kind.moves_weight() && m.weight_loss_pct > 0.0)
            || (self.kind.moves_activity() && m.extra_steps_per_day > 0.0)
    }
}

/// The components of an exercise-and-nutrition (frailty) programme, as the frailty model
/// allows: resistance exercise and nutrition act on deficit acquisition and repair (together
/// as in Macdonald 2020; alone each at its share, `ix.exercise_nutrition.*_share`), social
/// participation as a community salon does, and added daily steps through the frailty and
/// diabetes models' activity input.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FrailtyComponents {
    pub exercise: bool,
    pub nutrition: bool,
    pub social: bool,
}

impl Default for FrailtyComponents {
    fn default() -> Self {
        FrailtyComponents {
            exercise: true,
            nutrition: true,
            social: false,
        }
    }
}

/// How a programme acts, beyond its kind: the weight trajectory of a lifestyle or diet
/// programme, the activity of a lifestyle or exercise programme, the target of a
/// blood-pressure treat-to-target programme, the components of a frailty programme. Every
/// kind reads only its own keys; the defaults are the DPP's and usual practice's.
///
/// Weight: the loss grows linearly to `weight_loss_pct` at `nadir_months`, then eases back by
/// `regain_pct_per_year` while the person stays enrolled (never below zero); after the
/// person leaves, what is still lost is regained exponentially with the time constant
/// `ix.weight.regain_years` (a named, cited parameter), and added steps fade with
/// `ix.activity.relapse_years`: no effect ends in one step.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Mechanism {
    /// Weight lost at the nadir, % of the starting weight (DPP goal 7%).
    pub weight_loss_pct: f64,
    /// Months from enrolment to the nadir.
    pub nadir_months: f64,
    /// Regain while enrolled after the nadir, percentage points of the starting weight per
    /// year.
    pub regain_pct_per_year: f64,
    /// Added daily steps (lifestyle, exercise, a frailty programme with `steps`).
    pub extra_steps_per_day: f64,
    /// Blood-pressure treat-to-target: target SBP (mmHg; a drug is added at a visit whose
    /// measured SBP is at or above it).
    pub target_sbp_mmhg: f64,
    /// Months between treat-to-target visits.
    pub visit_months: u32,
    /// Most standard-dose blood-pressure drugs a person takes under the programme.
    pub max_drugs: u8,
    /// Frailty programme components.
    pub components: FrailtyComponents,
}

/// DPP lifestyle arm: weight loss goal ≥ 7% (DPP Research Group, Diabetes Care
/// 2002;25:2165 [V goal]); the mean loss was about 7% at 6 months and 5% at 3 years
/// (Knowler 2002 [M curve]) → 0.8 points a year regained while enrolled.
pub const DPP_WEIGHT_LOSS_PCT: f64 = 7.0;
pub const DPP_NADIR_MONTHS: f64 = 6.0;
pub const DPP_REGAIN_PCT_PER_YEAR: f64 = 0.8;

impl Mechanism {
    /// The defaults of `kind`: the DPP's weight curve and steps for lifestyle (diet: its
    /// weight curve; exercise: its steps), a target SBP of 140 mmHg with quarterly visits and
    /// up to three drugs (JSH 2019 office target for most adults under 75 is < 130 [M]; 140
    /// is the threshold of treatment), exercise + nutrition for a frailty programme.
    pub fn default_for(kind: Kind) -> Mechanism {
        let (weight, steps) = match kind {
            Kind::IntensiveLifestyle => (
                DPP_WEIGHT_LOSS_PCT,
                crate::diabetes::dpp::LIFESTYLE_EXTRA_STEPS,
            ),
            Kind::Diet => (DPP_WEIGHT_LOSS_PCT, 0.0),
            Kind::Exercise => (0.0, crate::diabetes::dpp::LIFESTYLE_EXTRA_STEPS),
            _ => (0.0, 0.0),
        };
        Mechanism {
            weight_loss_pct: weight,
            nadir_months: DPP_NADIR_MONTHS,
            regain_pct_per_year: if weight > 0.0 {
                DPP_REGAIN_PCT_PER_YEAR
            } else {
                0.0
            },
            extra_steps_per_day: steps,
            target_sbp_mmhg: 140.0,
            visit_months: 3,
            max_drugs: 3,
            components: FrailtyComponents::default(),
        }
    }

    /// Weight lost (share of the starting weight) `t_years` after enrolment while enrolled.
    #[inline]
    pub fn enrolled_weight_loss(&self, t_years: f64) -> f64 {
        let nadir = self.nadir_months / 12.0;
        let peak = self.weight_loss_pct / 100.0;
        if t_years <= nadir {
            peak * t_years / nadir.max(1e-9)
        } else {
            (peak - self.regain_pct_per_year / 100.0 * (t_years - nadir)).max(0.0)
        }
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
    /// How the programme acts (weight trajectory, steps, blood-pressure target, frailty
    /// components): [`Mechanism::default_for`] its kind unless the scenario says otherwise.
    pub mechanism: Mechanism,
}
