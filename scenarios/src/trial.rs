//! Trial files (`docs/trials.md`): TOML parsed with unknown keys refused and validated into a
//! typed [`TrialSpec`]: the people screened (the scenario `[population]` schema),
//! eligibility on any baseline quantity the model holds, recruitment, allocation, arms
//! (each a list of programmes in the scenario `[[intervention]]` schema), follow-up in
//! months, ascertainment and outcomes. Errors name the file, key path and line:column.
//!
//! Must never: panic on user input, or accept a trial the model cannot run.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use models::cvd::equations::Equation;
use models::filter::Range;
use models::frailty::level;
use models::mortality::LifeTable;
use models::trial::{
    Ascertainment, Eligibility, EventKind, FollowUp, GlucoseCategory, OutcomeDef, Quantity,
    Recruitment, TrialArm,
};
use models::HealthModel;
use serde::Deserialize;

use crate::locate::Locator;
use crate::raw::{
    covariate_filter, int_in, num_in, population, programme, RawCovariates, RawIntervention,
    RawPopulation, RawRange,
};
use crate::{one_of, Ctx, Population, ScenarioError, FRAILTY_STATES};

type R<T> = Result<T, ScenarioError>;

/// A validated trial file.
#[derive(Clone, Debug)]
pub struct TrialSpec {
    pub file: PathBuf,
    pub name: String,
    pub description: String,
    /// The people screened.
    pub population: Population,
    pub parameters: Vec<(String, f64)>,
    pub eligibility: Eligibility,
    pub recruitment: Recruitment,
    /// `None`: paired (every arm on every person); `Some(weights)`: individually randomised.
    pub randomised: Option<Vec<u32>>,
    pub arms: Vec<TrialArm>,
    pub follow_up: FollowUp,
    pub ascertainment: Ascertainment,
    pub outcomes: Vec<OutcomeDef>,
    pub seed: u64,
    pub replicates: u32,
    pub step_months: u32,
}

impl TrialSpec {
    /// The model with the trial's parameter overrides (programmes and ascertainment are set
    /// per arm by the study).
    pub fn model(&self) -> HealthModel {
        let mut model = HealthModel::new(LifeTable::mhlw_2024());
        for (name, v) in &self.parameters {
            model
                .set_param(name, *v)
                .expect("parameters were checked when the file was read");
        }
        model
    }
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct RawTrial {
    name: String,
    #[serde(default)]
    description: String,
    seed: Option<u64>,
    replicates: Option<i64>,
    step_months: Option<i64>,
    follow_up_months: Option<i64>,
    follow_up_min_months: Option<i64>,
    population: Option<RawPopulation>,
    #[serde(default)]
    parameters: BTreeMap<String, f64>,
    #[serde(default)]
    eligibility: RawEligibility,
    #[serde(default)]
    recruitment: RawRecruitment,
    #[serde(default)]
    allocation: RawAllocation,
    #[serde(default)]
    arm: Vec<RawArm>,
    #[serde(default)]
    ascertainment: RawAscertainment,
    #[serde(default)]
    outcome: Vec<RawOutcome>,
}

#[derive(Deserialize, Debug, Default)]
#[serde(deny_unknown_fields)]
struct RawEligibility {
    age: Option<RawRange>,
    bmi_kg_m2: Option<RawRange>,
    fpg_mg_dl: Option<RawRange>,
    hba1c_pct: Option<RawRange>,
    sbp_mmhg: Option<RawRange>,
    ldl_mg_dl: Option<RawRange>,
    frailty_index: Option<RawRange>,
    sex: Option<String>,
    smoker: Option<bool>,
    #[serde(default)]
    with: Vec<String>,
    #[serde(default)]
    without: Vec<String>,
    glucose_2h_mg_dl: Option<RawRange>,
    dbp_mmhg: Option<RawRange>,
    hdl_mg_dl: Option<RawRange>,
    egfr_ml_min: Option<RawRange>,
    kcl_score: Option<RawRange>,
    diabetes_duration_years: Option<RawRange>,
    #[serde(default)]
    glucose_categories: Vec<String>,
    #[serde(default)]
    frailty_states: Vec<String>,
    #[serde(default)]
    care_levels: Vec<String>,
    has_diabetes: Option<bool>,
    diagnosed_diabetes: Option<bool>,
    hypertension: Option<bool>,
    cvd_history: Option<bool>,
    risk: Option<RawRisk>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct RawRisk {
    equation: String,
    min_pct: Option<f64>,
    max_pct: Option<f64>,
}

#[derive(Deserialize, Debug, Default)]
#[serde(deny_unknown_fields)]
struct RawRecruitment {
    target: Option<i64>,
    consent: Option<f64>,
}

#[derive(Deserialize, Debug, Default)]
#[serde(deny_unknown_fields)]
struct RawAllocation {
    design: Option<String>,
    ratio: Option<Vec<i64>>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct RawArm {
    name: String,
    #[serde(default)]
    intervention: Vec<RawIntervention>,
}

#[derive(Deserialize, Debug, Default)]
#[serde(deny_unknown_fields)]
struct RawAscertainment {
    fpg_every_months: Option<i64>,
    ogtt_every_months: Option<i64>,
    hba1c_every_months: Option<i64>,
    confirm: Option<bool>,
    diagnose: Option<bool>,
    frailty_every_months: Option<i64>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct RawOutcome {
    name: String,
    events: Vec<String>,
}

/// Care levels as written: `none`, then the seven certified levels.
const CARE_LEVELS: [&str; 8] = [
    "none", "support1", "support2", "care1", "care2", "care3", "care4", "care5",
];

/// Reads and validates a trial file.
pub fn load_trial(path: &Path) -> R<TrialSpec> {
    parse_trial(&crate::read_text(path)?, path)
}

/// Parses and validates trial text; `path` names it in errors and anchors relative paths.
pub fn parse_trial(text: &str, path: &Path) -> R<TrialSpec> {
    let ctx = Ctx {
        file: path.display().to_string(),
        text,
        loc: Locator::new(text),
    };
    let raw: RawTrial = toml::from_str(text).map_err(|e| ctx.toml_error(&e))?;
    raw.validate(&ctx, path)
}

fn safe_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 48
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

fn range(r: Option<RawRange>) -> Option<Range> {
    r.map(|r| Range {
        lo: r.min,
        hi: r.max,
    })
}

impl RawTrial {
    fn validate(self, ctx: &Ctx, path: &Path) -> R<TrialSpec> {
        if !safe_name(self.name.trim()) {
            return Err(ctx.err(
                "name",
                "use 1-48 letters, digits, `_` or `-` (it names output files)",
            ));
        }
        let replicates = int_in(ctx, "replicates", self.replicates, 10, 1, 10_000)? as u32;
        let step_months = int_in(ctx, "step_months", self.step_months, 1, 1, 12)? as u32;
        if !models::STEP_MONTHS.contains(&step_months) {
            return Err(ctx.err(
                "step_months",
                format!("{step_months}: the model is validated for steps of 1 or 3 months only"),
            ));
        }
        let Some(months) = self.follow_up_months else {
            return Err(ctx.err("name", "a trial needs follow_up_months"));
        };
        let months = int_in(ctx, "follow_up_months", Some(months), 0, 1, 1200)? as u32;
        let min_months = match self.follow_up_min_months {
            None => None,
            Some(m) => Some(int_in(
                ctx,
                "follow_up_min_months",
                Some(m),
                0,
                0,
                i64::from(months) - 1,
            )? as u32),
        };
        let years = months.div_ceil(12);
        let population = population(ctx, path, self.population.unwrap_or_default())?;

        let mut model = HealthModel::new(LifeTable::mhlw_2024());
        let mut parameters = Vec::new();
        for (name, v) in &self.parameters {
            model
                .set_param(name, *v)
                .map_err(|e| ctx.err(&format!("parameters.{name}"), e.to_string()))?;
            parameters.push((name.clone(), *v));
        }

        let eligibility = eligibility(ctx, self.eligibility)?;

        let r = self.recruitment;
        let target = match r.target {
            None => None,
            Some(t) => {
                Some(int_in(ctx, "recruitment.target", Some(t), 0, 1, 100_000_000)? as usize)
            }
        };
        let consent = num_in(ctx, "recruitment.consent", r.consent, 1.0, 0.0, 1.0)?;
        if consent <= 0.0 {
            return Err(ctx.err(
                "recruitment.consent",
                "must be above 0 (nobody would enrol)",
            ));
        }

        if self.arm.is_empty() {
            return Err(ctx.err("name", "a trial needs at least one [[arm]]"));
        }
        let mut arms = Vec::new();
        let mut arm_names = HashSet::new();
        for (a, raw_arm) in self.arm.into_iter().enumerate() {
            let key = format!("arm[{a}]");
            let name = raw_arm.name.trim().to_string();
            if !safe_name(&name) {
                return Err(ctx.err(
                    &format!("{key}.name"),
                    "use 1-48 letters, digits, `_` or `-` (it names output rows)",
                ));
            }
            if !arm_names.insert(name.clone()) {
                return Err(ctx.err(&format!("{key}.name"), format!("duplicate arm `{name}`")));
            }
            let mut programmes = Vec::new();
            for (i, iv) in raw_arm.intervention.into_iter().enumerate() {
                let p = programme(ctx, &format!("{key}.intervention[{i}]"), iv, years)?;
                programmes.push(p.spec);
            }
            model
                .clone()
                .set_interventions(programmes.clone())
                .map_err(|e| {
                    let i = programmes
                        .iter()
                        .position(|p| p.name == e.intervention)
                        .unwrap_or(0);
                    ctx.err(&format!("{key}.intervention[{i}].{}", e.field), e.message)
                })?;
            arms.push(TrialArm { name, programmes });
        }

        let randomised = match self.allocation.design.as_deref().unwrap_or("paired") {
            "paired" => {
                if self.allocation.ratio.is_some() {
                    return Err(ctx.err(
                        "allocation.ratio",
                        "a ratio applies to design = \"randomised\" only",
                    ));
                }
                None
            }
            "randomised" => {
                let ratio = self.allocation.ratio.unwrap_or_else(|| vec![1; arms.len()]);
                if ratio.len() != arms.len() || ratio.iter().any(|&w| !(1..=1000).contains(&w)) {
                    return Err(ctx.err(
                        "allocation.ratio",
                        format!(
                            "give one weight in [1, 1000] per arm ({} arms), got {ratio:?}",
                            arms.len()
                        ),
                    ));
                }
                Some(ratio.into_iter().map(|w| w as u32).collect())
            }
            other => {
                return Err(ctx.err(
                    "allocation.design",
                    format!(
                        "unknown design `{other}`; valid: {}",
                        one_of(&["paired", "randomised"])
                    ),
                ))
            }
        };

        let a = self.ascertainment;
        let every = |key: &str, v: Option<i64>, default: u32| -> R<u32> {
            Ok(int_in(
                ctx,
                &format!("ascertainment.{key}"),
                v,
                i64::from(default),
                0,
                120,
            )? as u32)
        };
        let d = Ascertainment::default();
        let ascertainment = Ascertainment {
            fpg_every_months: every("fpg_every_months", a.fpg_every_months, d.fpg_every_months)?,
            ogtt_every_months: every(
                "ogtt_every_months",
                a.ogtt_every_months,
                d.ogtt_every_months,
            )?,
            hba1c_every_months: every(
                "hba1c_every_months",
                a.hba1c_every_months,
                d.hba1c_every_months,
            )?,
            confirm: a.confirm.unwrap_or(d.confirm),
            diagnose: a.diagnose.unwrap_or(d.diagnose),
            frailty_every_months: every(
                "frailty_every_months",
                a.frailty_every_months,
                d.frailty_every_months,
            )?,
        };

        if self.outcome.is_empty() {
            return Err(ctx.err("name", "a trial needs at least one [[outcome]]"));
        }
        let mut outcomes = Vec::new();
        let mut outcome_names = HashSet::new();
        for (i, o) in self.outcome.into_iter().enumerate() {
            let key = format!("outcome[{i}]");
            let name = o.name.trim().to_string();
            if !safe_name(&name) {
                return Err(ctx.err(
                    &format!("{key}.name"),
                    "use 1-48 letters, digits, `_` or `-` (it names output files)",
                ));
            }
            if !outcome_names.insert(name.clone()) {
                return Err(ctx.err(
                    &format!("{key}.name"),
                    format!("duplicate outcome `{name}`"),
                ));
            }
            if o.events.is_empty() {
                return Err(ctx.err(&format!("{key}.events"), "name at least one event"));
            }
            let mut events = Vec::new();
            for (j, e) in o.events.iter().enumerate() {
                match EventKind::from_name(e) {
                    Some(k) => events.push(k),
                    None => {
                        let valid: Vec<&str> = EventKind::ALL.iter().map(|k| k.name()).collect();
                        return Err(ctx.err(
                            &format!("{key}.events[{j}]"),
                            format!("unknown event `{e}`; valid: {}", one_of(&valid)),
                        ));
                    }
                }
            }
            outcomes.push(OutcomeDef { name, events });
        }

        Ok(TrialSpec {
            file: path.to_path_buf(),
            name: self.name.trim().to_string(),
            description: self.description,
            population,
            parameters,
            eligibility,
            recruitment: Recruitment { target, consent },
            randomised,
            arms,
            follow_up: FollowUp { months, min_months },
            ascertainment,
            outcomes,
            seed: self.seed.unwrap_or(1),
            replicates,
            step_months,
        })
    }
}

fn eligibility(ctx: &Ctx, e: RawEligibility) -> R<Eligibility> {
    let covariates = covariate_filter(
        ctx,
        "eligibility",
        RawCovariates {
            ranges: [
                e.age,
                e.bmi_kg_m2,
                e.fpg_mg_dl,
                e.hba1c_pct,
                e.sbp_mmhg,
                e.ldl_mg_dl,
                e.frailty_index,
            ],
            sex: e.sex.as_deref(),
            smoker: e.smoker,
            with: &e.with,
            without: &e.without,
        },
    )?;
    let mut ranges = Vec::new();
    for (key, q, r, lo, hi) in [
        (
            "glucose_2h_mg_dl",
            Quantity::Glucose2h,
            e.glucose_2h_mg_dl,
            20.0,
            800.0,
        ),
        ("dbp_mmhg", Quantity::DbpMmhg, e.dbp_mmhg, 30.0, 160.0),
        ("hdl_mg_dl", Quantity::HdlMgDl, e.hdl_mg_dl, 5.0, 200.0),
        (
            "egfr_ml_min",
            Quantity::EgfrMlMin,
            e.egfr_ml_min,
            1.0,
            200.0,
        ),
        ("kcl_score", Quantity::KclScore, e.kcl_score, 0.0, 25.0),
        (
            "diabetes_duration_years",
            Quantity::DiabetesDurationYears,
            e.diabetes_duration_years,
            0.0,
            80.0,
        ),
    ] {
        if let Some(r) = range(r) {
            check_range(ctx, &format!("eligibility.{key}"), r, lo, hi)?;
            ranges.push((q, r));
        }
    }
    if let Some(risk) = e.risk {
        let Some(eq) = Equation::parse(&risk.equation) else {
            let valid: Vec<&str> = Equation::ALL.iter().map(|q| q.name()).collect();
            return Err(ctx.err(
                "eligibility.risk.equation",
                format!(
                    "unknown equation `{}`; valid: {}",
                    risk.equation,
                    one_of(&valid)
                ),
            ));
        };
        let r = Range {
            lo: risk.min_pct.map(|v| v / 100.0),
            hi: risk.max_pct.map(|v| v / 100.0),
        };
        check_range(ctx, "eligibility.risk", r, 0.0, 1.0).map_err(|e| ScenarioError {
            message: format!("{} (min_pct and max_pct are percentages, 0-100)", e.message),
            ..e
        })?;
        ranges.push((Quantity::Risk(eq), r));
    }
    let mut glucose_categories = Vec::new();
    for (i, s) in e.glucose_categories.iter().enumerate() {
        match GlucoseCategory::ALL.iter().find(|c| c.name() == s) {
            Some(c) => glucose_categories.push(*c),
            None => {
                let valid: Vec<&str> = GlucoseCategory::ALL.iter().map(|c| c.name()).collect();
                return Err(ctx.err(
                    &format!("eligibility.glucose_categories[{i}]"),
                    format!("unknown category `{s}`; valid: {}", one_of(&valid)),
                ));
            }
        }
    }
    let mut frailty_states = Vec::new();
    for (i, s) in e.frailty_states.iter().enumerate() {
        match FRAILTY_STATES.iter().find(|(n, _)| n == s) {
            Some((_, v)) => frailty_states.push(*v),
            None => {
                let valid: Vec<&str> = FRAILTY_STATES.iter().map(|x| x.0).collect();
                return Err(ctx.err(
                    &format!("eligibility.frailty_states[{i}]"),
                    format!("unknown frailty state `{s}`; valid: {}", one_of(&valid)),
                ));
            }
        }
    }
    let mut care_levels = Vec::new();
    for (i, s) in e.care_levels.iter().enumerate() {
        match CARE_LEVELS.iter().position(|n| n == s) {
            Some(l) => care_levels.push(l as u8),
            None => {
                return Err(ctx.err(
                    &format!("eligibility.care_levels[{i}]"),
                    format!("unknown care level `{s}`; valid: {}", one_of(&CARE_LEVELS)),
                ))
            }
        }
    }
    debug_assert_eq!(CARE_LEVELS.len(), 1 + usize::from(level::CARE5));
    Ok(Eligibility {
        covariates,
        ranges,
        glucose_categories,
        frailty_states,
        care_levels,
        has_diabetes: e.has_diabetes,
        diagnosed_diabetes: e.diagnosed_diabetes,
        hypertension: e.hypertension,
        cvd_history: e.cvd_history,
    })
}

fn check_range(ctx: &Ctx, key: &str, r: Range, lo: f64, hi: f64) -> R<()> {
    for (name, v) in [("min", r.lo), ("max", r.hi)] {
        if let Some(v) = v {
            if !(v.is_finite() && v >= lo && v <= hi) {
                return Err(ctx.err(
                    &format!("{key}.{name}"),
                    format!("{v} is outside the plausible [{lo}, {hi}]"),
                ));
            }
        }
    }
    if let (Some(a), Some(b)) = (r.lo, r.hi) {
        if a > b {
            return Err(ctx.err(key, format!("min {a} is above max {b}")));
        }
    }
    Ok(())
}
