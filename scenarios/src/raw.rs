//! The scenario file as written (serde, unknown keys refused) and its validation into a
//! [`Scenario`](crate::Scenario). Semantic errors are located by key path ([`crate::Ctx::err`]).

use engine::math::DetMath;
use std::collections::{BTreeMap, HashSet};
use std::path::Path;

use engine::{Conditions, Sex};
use models::filter::{CovariateFilter, Range};
use models::interventions::{Eligibility, FrailtyComponents, Intervention, Kind, Mechanism};
use models::mortality::LifeTable;
use models::params::{ParamDraw, Uncertainty};
use models::HealthModel;
use serde::Deserialize;

use crate::{
    kind_names, one_of, Ctx, Distribution, Population, Scenario, ScenarioError, ScenarioProgramme,
    Source, DEFAULT_DISCOUNT_RATE, DIAGNOSES, FRAILTY_STATES, PRIORITIES,
};

type R<T> = Result<T, ScenarioError>;

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawScenario {
    name: String,
    #[serde(default)]
    description: String,
    years: Option<i64>,
    step_months: Option<i64>,
    replicates: Option<i64>,
    seed: Option<u64>,
    start_year: Option<i64>,
    discount_rate: Option<f64>,
    population: Option<RawPopulation>,
    #[serde(default)]
    parameters: BTreeMap<String, f64>,
    #[serde(default)]
    intervention: Vec<RawIntervention>,
    #[serde(default)]
    uncertainty: BTreeMap<String, RawUncertainty>,
    #[serde(default)]
    region: Vec<RawRegion>,
}

/// `[[region]]`: a municipality of the population with its own programme places.
#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRegion {
    name: String,
    people: i64,
    #[serde(default)]
    capacity_per_year: BTreeMap<String, i64>,
}

#[derive(Deserialize, Debug, Default, Clone, Copy)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRange {
    pub(crate) min: Option<f64>,
    pub(crate) max: Option<f64>,
}

#[derive(Deserialize, Debug, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawPopulation {
    source: Option<String>,
    n: Option<i64>,
    seed: Option<u64>,
    age_min: Option<i64>,
    age_max: Option<i64>,
    file: Option<String>,
    represents: Option<f64>,
    max_screened: Option<i64>,
    #[serde(default)]
    filter: RawFilter,
}

#[derive(Deserialize, Debug, Default)]
#[serde(deny_unknown_fields)]
struct RawFilter {
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
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawIntervention {
    name: String,
    #[serde(rename = "type")]
    kind: String,
    priority: Option<String>,
    uptake: Option<f64>,
    adherence: Option<f64>,
    dropout_per_year: Option<f64>,
    start_year: Option<i64>,
    stop_year: Option<i64>,
    duration_years: Option<f64>,
    pub(crate) capacity_per_year: Option<i64>,
    cost_per_participant_year_yen: Option<f64>,
    cost_source: Option<String>,
    effect_scale: Option<f64>,
    weight_loss_pct: Option<f64>,
    nadir_months: Option<f64>,
    regain_pct_per_year: Option<f64>,
    extra_steps_per_day: Option<f64>,
    target_sbp_mmhg: Option<f64>,
    visit_months: Option<i64>,
    max_drugs: Option<i64>,
    components: Option<Vec<String>>,
    #[serde(default)]
    eligibility: RawEligibility,
}

/// The mechanism keys and the kinds each applies to.
const MECHANISM_KEYS: [(&str, &[Kind]); 8] = [
    ("weight_loss_pct", &[Kind::IntensiveLifestyle, Kind::Diet]),
    ("nadir_months", &[Kind::IntensiveLifestyle, Kind::Diet]),
    (
        "regain_pct_per_year",
        &[Kind::IntensiveLifestyle, Kind::Diet],
    ),
    (
        "extra_steps_per_day",
        &[
            Kind::IntensiveLifestyle,
            Kind::Exercise,
            Kind::Diet,
            Kind::ExerciseNutrition,
        ],
    ),
    ("target_sbp_mmhg", &[Kind::BpTreatToTarget]),
    ("visit_months", &[Kind::BpTreatToTarget]),
    ("max_drugs", &[Kind::BpTreatToTarget]),
    ("components", &[Kind::ExerciseNutrition]),
];

/// Frailty programme components as written.
const COMPONENTS: [&str; 3] = ["exercise", "nutrition", "social"];

/// The programme's mechanism: its kind's defaults with the keys the file sets (each checked
/// to apply to the kind).
fn mechanism(ctx: &Ctx, key: &str, kind: Kind, r: &RawIntervention) -> R<Mechanism> {
    let k = |s: &str| format!("{key}.{s}");
    let given = [
        r.weight_loss_pct.is_some(),
        r.nadir_months.is_some(),
        r.regain_pct_per_year.is_some(),
        r.extra_steps_per_day.is_some(),
        r.target_sbp_mmhg.is_some(),
        r.visit_months.is_some(),
        r.max_drugs.is_some(),
        r.components.is_some(),
    ];
    for ((name, kinds), set) in MECHANISM_KEYS.iter().zip(given) {
        if set && !kinds.contains(&kind) {
            let valid: Vec<&str> = kinds.iter().map(|k| k.name()).collect();
            return Err(ctx.err(
                &k(name),
                format!(
                    "does not apply to type = \"{}\" (only to {})",
                    kind.name(),
                    one_of(&valid)
                ),
            ));
        }
    }
    let mut m = Mechanism::default_for(kind);
    m.weight_loss_pct = num_in(
        ctx,
        &k("weight_loss_pct"),
        r.weight_loss_pct,
        m.weight_loss_pct,
        0.0,
        50.0,
    )?;
    m.nadir_months = num_in(
        ctx,
        &k("nadir_months"),
        r.nadir_months,
        m.nadir_months,
        1.0,
        60.0,
    )?;
    m.regain_pct_per_year = num_in(
        ctx,
        &k("regain_pct_per_year"),
        r.regain_pct_per_year,
        m.regain_pct_per_year,
        0.0,
        50.0,
    )?;
    m.extra_steps_per_day = num_in(
        ctx,
        &k("extra_steps_per_day"),
        r.extra_steps_per_day,
        m.extra_steps_per_day,
        0.0,
        20_000.0,
    )?;
    m.target_sbp_mmhg = num_in(
        ctx,
        &k("target_sbp_mmhg"),
        r.target_sbp_mmhg,
        m.target_sbp_mmhg,
        90.0,
        200.0,
    )?;
    m.visit_months = int_in(
        ctx,
        &k("visit_months"),
        r.visit_months,
        i64::from(m.visit_months),
        1,
        24,
    )? as u32;
    m.max_drugs = int_in(
        ctx,
        &k("max_drugs"),
        r.max_drugs,
        i64::from(m.max_drugs),
        1,
        5,
    )? as u8;
    if let Some(list) = &r.components {
        let mut c = FrailtyComponents {
            exercise: false,
            nutrition: false,
            social: false,
        };
        for (i, name) in list.iter().enumerate() {
            match name.as_str() {
                "exercise" => c.exercise = true,
                "nutrition" => c.nutrition = true,
                "social" => c.social = true,
                other => {
                    return Err(ctx.err(
                        &format!("{}[{i}]", k("components")),
                        format!(
                            "unknown component `{other}`; valid: {}",
                            one_of(&COMPONENTS)
                        ),
                    ))
                }
            }
        }
        if !(c.exercise || c.nutrition || c.social) {
            return Err(ctx.err(&k("components"), "name at least one component"));
        }
        m.components = c;
    }
    Ok(m)
}

/// A programme's eligibility as written: the keys of [`RawFilter`] (one covariate filter,
/// on current simulated values) and conditions on the disease states.
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
    #[serde(default)]
    frailty_states: Vec<String>,
    has_diabetes: Option<bool>,
    diagnosed_diabetes: Option<bool>,
    hypertension: Option<bool>,
    cvd_history: Option<bool>,
    ltc_certified: Option<bool>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawUncertainty {
    dist: String,
    mean: Option<f64>,
    sd: Option<f64>,
    median: Option<f64>,
    sigma: Option<f64>,
    ci95: Option<[f64; 2]>,
    lo: Option<f64>,
    hi: Option<f64>,
    pub(crate) source: String,
}

const DISTS: [&str; 3] = ["normal", "lognormal", "uniform"];

pub(crate) fn int_in(
    ctx: &Ctx,
    key: &str,
    v: Option<i64>,
    default: i64,
    lo: i64,
    hi: i64,
) -> R<i64> {
    let v = v.unwrap_or(default);
    if v < lo || v > hi {
        return Err(ctx.err(key, format!("{v} is outside [{lo}, {hi}]")));
    }
    Ok(v)
}

pub(crate) fn num_in(
    ctx: &Ctx,
    key: &str,
    v: Option<f64>,
    default: f64,
    lo: f64,
    hi: f64,
) -> R<f64> {
    let v = v.unwrap_or(default);
    if !(v >= lo && v <= hi) {
        return Err(ctx.err(key, format!("{v} is outside [{lo}, {hi}]")));
    }
    Ok(v)
}

/// A population filter's or a programme eligibility's covariate conditions as written, in
/// [`CovariateFilter`] terms (ranges in [`models::filter::BOUNDS`] order).
pub(crate) struct RawCovariates<'a> {
    pub(crate) ranges: [Option<RawRange>; 7],
    pub(crate) sex: Option<&'a str>,
    pub(crate) smoker: Option<bool>,
    pub(crate) with: &'a [String],
    pub(crate) without: &'a [String],
}

/// The covariate filter under key `prefix`, checked against the plausible bounds
/// ([`CovariateFilter::check_plausible`]); errors name the key.
pub(crate) fn covariate_filter(ctx: &Ctx, prefix: &str, raw: RawCovariates) -> R<CovariateFilter> {
    let k = |s: &str| format!("{prefix}.{s}");
    let mut f = CovariateFilter::default();
    for (range, r) in f.ranges_mut().into_iter().zip(raw.ranges) {
        if let Some(r) = r {
            *range = Range {
                lo: r.min,
                hi: r.max,
            };
        }
    }
    f.sex = match raw.sex {
        None => None,
        Some("male") => Some(Sex::Male),
        Some("female") => Some(Sex::Female),
        Some(other) => {
            return Err(ctx.err(
                &k("sex"),
                format!(
                    "unknown sex `{other}`; valid: {}",
                    one_of(&["male", "female"])
                ),
            ))
        }
    };
    f.smoker = raw.smoker;
    f.with = diagnoses(ctx, &k("with"), raw.with)?;
    f.without = diagnoses(ctx, &k("without"), raw.without)?;
    f.check_plausible()
        .map_err(|e| ctx.err(&k(&e.key), e.message))?;
    Ok(f)
}

fn diagnoses(ctx: &Ctx, key: &str, names: &[String]) -> R<Conditions> {
    let mut c = Conditions::default();
    for (i, n) in names.iter().enumerate() {
        let Some((_, f)) = DIAGNOSES.iter().find(|(d, _)| d == n) else {
            let valid: Vec<&str> = DIAGNOSES.iter().map(|d| d.0).collect();
            return Err(ctx.err(
                &format!("{key}[{i}]"),
                format!("unknown diagnosis `{n}`; valid: {}", one_of(&valid)),
            ));
        };
        c.insert(*f);
    }
    Ok(c)
}

impl RawScenario {
    pub(crate) fn validate(self, ctx: &Ctx, path: &Path) -> R<Scenario> {
        if self.name.trim().is_empty() {
            return Err(ctx.err("name", "must not be empty"));
        }
        if self.name.len() > 64
            || !self
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            return Err(ctx.err(
                "name",
                "use at most 64 letters, digits, `_` or `-` (it names output rows and files)",
            ));
        }
        let years = int_in(ctx, "years", self.years, 30, 1, 100)? as u32;
        let step_months = int_in(ctx, "step_months", self.step_months, 1, 1, 12)? as u32;
        if !models::STEP_MONTHS.contains(&step_months) {
            return Err(ctx.err(
                "step_months",
                format!(
                    "{step_months}: the model is validated for steps of 1 or 3 months only (its \
                     diabetes physiology steps monthly or quarterly; other steps mistime onsets)"
                ),
            ));
        }
        let replicates = int_in(ctx, "replicates", self.replicates, 10, 1, 10_000)? as u32;
        let start_year = int_in(ctx, "start_year", self.start_year, 2024, 1900, 2200)?;
        let discount_rate = num_in(
            ctx,
            "discount_rate",
            self.discount_rate,
            DEFAULT_DISCOUNT_RATE,
            0.0,
            0.2,
        )?;
        let population = population(ctx, path, self.population.unwrap_or_default())?;

        // Parameter overrides: names and ranges checked against the model.
        let mut model = HealthModel::new(LifeTable::mhlw_2024());
        let mut parameters = Vec::new();
        for (name, v) in &self.parameters {
            model
                .set_param(name, *v)
                .map_err(|e| ctx.err(&format!("parameters.{name}"), e.to_string()))?;
            parameters.push((name.clone(), *v));
        }

        let mut programmes = Vec::new();
        let mut names = HashSet::new();
        for (i, r) in self.intervention.into_iter().enumerate() {
            let key = format!("intervention[{i}]");
            let p = programme(ctx, &key, r, years)?;
            if !names.insert(p.spec.name.clone()) {
                return Err(ctx.err(
                    &format!("{key}.name"),
                    format!("duplicate intervention name `{}`", p.spec.name),
                ));
            }
            programmes.push(p);
        }

        // The model's own checks of the programmes (located at the offending key).
        let specs: Vec<Intervention> = programmes.iter().map(|p| p.spec.clone()).collect();
        model.clone().set_interventions(specs).map_err(|e| {
            let i = programmes
                .iter()
                .position(|p| p.spec.name == e.intervention)
                .unwrap_or(0);
            ctx.err(&format!("intervention[{i}].{}", e.field), e.message)
        })?;

        let uncertainty = uncertainty(ctx, &model, self.uncertainty)?;
        let regions = regions(ctx, &population, &programmes, self.region)?;

        Ok(Scenario {
            file: path.to_path_buf(),
            name: self.name,
            description: self.description,
            population,
            years,
            step_months,
            replicates,
            seed: self.seed.unwrap_or(1),
            start_year,
            discount_rate,
            parameters,
            programmes,
            uncertainty,
            regions,
        })
    }
}

/// The `[[region]]` tables: consecutive parts of the synthetic population, their people
/// adding up to `population.n`; every capacity-limited programme has places in every
/// region, adding up to its `capacity_per_year`.
fn regions(
    ctx: &Ctx,
    population: &crate::Population,
    programmes: &[crate::ScenarioProgramme],
    raw: Vec<RawRegion>,
) -> R<Vec<crate::Region>> {
    if raw.is_empty() {
        return Ok(Vec::new());
    }
    let crate::Source::Synthetic { n, .. } = population.source else {
        return Err(ctx.err(
            "region",
            "regions need the synthetic population (population.n people, split by region)",
        ));
    };
    let mut out: Vec<crate::Region> = Vec::new();
    let mut first = 0u64;
    for (i, r) in raw.into_iter().enumerate() {
        let key = format!("region[{i}]");
        if r.name.trim().is_empty() || out.iter().any(|o| o.name == r.name) {
            return Err(ctx.err(&format!("{key}.name"), "empty or used twice"));
        }
        if r.people < 1 {
            return Err(ctx.err(&format!("{key}.people"), "must be at least 1"));
        }
        for (name, &places) in &r.capacity_per_year {
            let limited = programmes
                .iter()
                .any(|p| &p.spec.name == name && p.spec.capacity_per_year.is_some());
            if !limited {
                return Err(ctx.err(
                    &format!("{key}.capacity_per_year.{name}"),
                    "no intervention of this name has capacity_per_year",
                ));
            }
            if places < 0 {
                return Err(ctx.err(
                    &format!("{key}.capacity_per_year.{name}"),
                    "must be 0 or more",
                ));
            }
        }
        let people = r.people as u64;
        out.push(crate::Region {
            name: r.name,
            people: first..first + people,
            capacity_per_year: r
                .capacity_per_year
                .into_iter()
                .map(|(k, v)| (k, v as u64))
                .collect(),
        });
        first += people;
    }
    if first != n {
        return Err(ctx.err(
            "region",
            format!("the regions' people add up to {first}, not population.n = {n}"),
        ));
    }
    for p in programmes {
        let Some(total) = p.spec.capacity_per_year else {
            continue;
        };
        let mut sum = 0;
        for (i, r) in out.iter().enumerate() {
            let Some(&c) = r.capacity_per_year.get(&p.spec.name) else {
                return Err(ctx.err(
                    &format!("region[{i}].capacity_per_year"),
                    format!("no places for `{}` (every capacity-limited programme needs the places of every region)", p.spec.name),
                ));
            };
            sum += c;
        }
        if sum != total {
            return Err(ctx.err(
                "region",
                format!(
                    "the regions' places of `{}` add up to {sum}, not its capacity_per_year = {total}",
                    p.spec.name
                ),
            ));
        }
    }
    Ok(out)
}

/// The `[uncertainty]` tables, each checked against `model`'s parameter of that name.
pub(crate) fn uncertainty(
    ctx: &Ctx,
    model: &HealthModel,
    tables: BTreeMap<String, RawUncertainty>,
) -> R<Vec<Distribution>> {
    let mut out = Vec::new();
    for (name, u) in tables {
        let key = format!("uncertainty.{name}");
        let d = distribution(ctx, &key, &u)?;
        // The parameter must exist and accept the distribution out to 3.5 SD either
        // side (a draw beyond its valid range stops the run with the parameter named).
        model
            .params()
            .get(&name)
            .map_err(|e| ctx.err(&key, e.to_string()))?;
        let mut probe = model.params().clone();
        for (z, u) in [(-3.5, 0.0), (0.0, 0.5), (3.5, 1.0)] {
            probe
                .set(&name, d.at(z, u))
                .map_err(|e| ctx.err(&key, format!("{e} (checked at 3.5 SD)")))?;
        }
        out.push(Distribution {
            draw: ParamDraw {
                name,
                uncertainty: d,
            },
            source: u.source,
        });
    }
    Ok(out)
}

pub(crate) fn population(ctx: &Ctx, path: &Path, p: RawPopulation) -> R<Population> {
    let source = p.source.as_deref().unwrap_or("synthetic");
    let source = match source {
        "synthetic" => {
            if p.file.is_some() {
                return Err(ctx.err(
                    "population.file",
                    "a file is read only with source = \"cohort\"",
                ));
            }
            let age_min = int_in(ctx, "population.age_min", p.age_min, 40, 20, 89)? as u32;
            let age_max = int_in(ctx, "population.age_max", p.age_max, 89, 20, 89)? as u32;
            if age_min > age_max {
                return Err(ctx.err(
                    "population.age_max",
                    format!("age_max {age_max} is below age_min {age_min}"),
                ));
            }
            Source::Synthetic {
                n: int_in(ctx, "population.n", p.n, 20_000, 1, 100_000_000)? as u64,
                seed: p.seed.unwrap_or(1),
                age_min,
                age_max,
            }
        }
        "cohort" => {
            for (k, set) in [
                ("n", p.n.is_some()),
                ("seed", p.seed.is_some()),
                ("age_min", p.age_min.is_some()),
                ("age_max", p.age_max.is_some()),
            ] {
                if set {
                    return Err(ctx.err(
                        &format!("population.{k}"),
                        "applies to source = \"synthetic\" only (filter a cohort file with \
                         [population.filter])",
                    ));
                }
            }
            let Some(file) = p.file else {
                return Err(ctx.err(
                    "population.source",
                    "source = \"cohort\" needs file = \"path/to/cohort.parquet\"",
                ));
            };
            let rel = Path::new(&file);
            let full = if rel.is_absolute() {
                rel.to_path_buf()
            } else {
                path.parent().unwrap_or(Path::new("")).join(rel)
            };
            Source::CohortFile { path: full }
        }
        other => {
            return Err(ctx.err(
                "population.source",
                format!(
                    "unknown source `{other}`; valid: {}",
                    one_of(&["synthetic", "cohort"])
                ),
            ))
        }
    };
    let represents = match p.represents {
        None => None,
        Some(r) if (1.0..=2e8).contains(&r) => Some(r),
        Some(r) => {
            return Err(ctx.err(
                "population.represents",
                format!("{r} is not a population size in [1, 2e8]"),
            ))
        }
    };
    let f = p.filter;
    let filter = covariate_filter(
        ctx,
        "population.filter",
        RawCovariates {
            ranges: [
                f.age,
                f.bmi_kg_m2,
                f.fpg_mg_dl,
                f.hba1c_pct,
                f.sbp_mmhg,
                f.ldl_mg_dl,
                f.frailty_index,
            ],
            sex: f.sex.as_deref(),
            smoker: f.smoker,
            with: &f.with,
            without: &f.without,
        },
    )?;
    let default_screen = match &source {
        Source::Synthetic { n, .. } => n.saturating_mul(100).max(10_000),
        Source::CohortFile { .. } => 0,
    };
    let max_screened = match p.max_screened {
        None => default_screen,
        Some(v) if v >= 1 => v as u64,
        Some(v) => {
            return Err(ctx.err(
                "population.max_screened",
                format!("{v} is not a positive count"),
            ))
        }
    };
    Ok(Population {
        source,
        filter,
        max_screened,
        represents,
    })
}

pub(crate) fn programme(
    ctx: &Ctx,
    key: &str,
    r: RawIntervention,
    years: u32,
) -> R<ScenarioProgramme> {
    let k = |s: &str| format!("{key}.{s}");
    let name = r.name.trim().to_string();
    if name.is_empty()
        || name.len() > 48
        || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    {
        return Err(ctx.err(
            &k("name"),
            "use 1-48 letters, digits or `_` (it names the ix_<name>_* metrics)",
        ));
    }
    let Some(kind) = Kind::from_name(&r.kind) else {
        return Err(ctx.err(
            &k("type"),
            format!(
                "unknown intervention type `{}`; valid: {}",
                r.kind,
                one_of(&kind_names())
            ),
        ));
    };
    let priority = match r.priority.as_deref() {
        None => models::interventions::Priority::Random,
        Some(p) => match PRIORITIES.iter().find(|(n, _)| *n == p) {
            Some((_, v)) => *v,
            None => {
                let valid: Vec<&str> = PRIORITIES.iter().map(|x| x.0).collect();
                return Err(ctx.err(
                    &k("priority"),
                    format!("unknown priority `{p}`; valid: {}", one_of(&valid)),
                ));
            }
        },
    };
    let uptake = num_in(ctx, &k("uptake"), r.uptake, 1.0, 0.0, 1.0)?;
    let adherence = num_in(ctx, &k("adherence"), r.adherence, 1.0, 0.0, 1.0)?;
    let dropout_per_year = num_in(
        ctx,
        &k("dropout_per_year"),
        r.dropout_per_year,
        0.0,
        0.0,
        10.0,
    )?;
    let start_year = int_in(ctx, &k("start_year"), r.start_year, 0, 0, 100)?;
    if start_year >= i64::from(years) {
        return Err(ctx.err(
            &k("start_year"),
            format!("year {start_year} is not within the {years}-year horizon (years 0..{years})"),
        ));
    }
    let stop_year = match r.stop_year {
        None => None,
        Some(s) if s <= start_year => {
            return Err(ctx.err(
                &k("stop_year"),
                format!("stop_year {s} is not after start_year {start_year}"),
            ))
        }
        Some(s) if s > 200 => return Err(ctx.err(&k("stop_year"), format!("{s} is above 200"))),
        Some(s) => Some(s as u32),
    };
    let duration_years = match r.duration_years {
        None => None,
        Some(d) if d > 0.0 && d <= 100.0 => Some(d),
        Some(d) => {
            return Err(ctx.err(
                &k("duration_years"),
                format!("{d} is not a duration in (0, 100] years"),
            ))
        }
    };
    let capacity_per_year = match r.capacity_per_year {
        None => None,
        Some(c) if c < 0 => {
            return Err(ctx.err(
                &k("capacity_per_year"),
                format!("capacity {c} is below zero"),
            ))
        }
        Some(c) => Some(c as u64),
    };
    let cost = num_in(
        ctx,
        &k("cost_per_participant_year_yen"),
        r.cost_per_participant_year_yen,
        0.0,
        0.0,
        1e9,
    )?;
    let cost_source = r.cost_source.clone().unwrap_or_default();
    if cost > 0.0 && cost_source.trim().is_empty() {
        return Err(ctx.err(
            &k("cost_source"),
            "a cost needs its source (paper, table, or why it is an assumption)",
        ));
    }
    let effect_scale = num_in(ctx, &k("effect_scale"), r.effect_scale, 1.0, 0.0, 5.0)?;
    let mechanism = mechanism(ctx, key, kind, &r)?;
    let e = r.eligibility;
    let ek = |s: &str| format!("{key}.eligibility.{s}");
    let mut frailty_states = Vec::new();
    for (i, s) in e.frailty_states.iter().enumerate() {
        match FRAILTY_STATES.iter().find(|(n, _)| n == s) {
            Some((_, v)) => frailty_states.push(*v),
            None => {
                let valid: Vec<&str> = FRAILTY_STATES.iter().map(|x| x.0).collect();
                return Err(ctx.err(
                    &format!("{}[{i}]", ek("frailty_states")),
                    format!("unknown frailty state `{s}`; valid: {}", one_of(&valid)),
                ));
            }
        }
    }
    let covariates = covariate_filter(
        ctx,
        &format!("{key}.eligibility"),
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
    let eligibility = Eligibility {
        covariates,
        frailty_states,
        has_diabetes: e.has_diabetes,
        diagnosed_diabetes: e.diagnosed_diabetes,
        hypertension: e.hypertension,
        cvd_history: e.cvd_history,
        ltc_certified: e.ltc_certified,
    };
    if e.has_diabetes == Some(false) && e.diagnosed_diabetes == Some(true) {
        return Err(ctx.err(
            &ek("diagnosed_diabetes"),
            "diagnosed_diabetes = true with has_diabetes = false: nobody is eligible",
        ));
    }
    Ok(ScenarioProgramme {
        spec: Intervention {
            name,
            kind,
            eligibility,
            priority,
            uptake,
            adherence,
            dropout_per_year,
            start_year: start_year as u32,
            stop_year,
            duration_years,
            capacity_per_year,
            cost_per_participant_year_yen: cost,
            effect_scale,
            mechanism,
        },
        cost_source,
    })
}

pub(crate) fn distribution(ctx: &Ctx, key: &str, u: &RawUncertainty) -> R<Uncertainty> {
    let k = |s: &str| format!("{key}.{s}");
    if u.source.trim().is_empty() {
        return Err(ctx.err(&k("source"), "a distribution needs its source"));
    }
    let allowed: &[&str] = match u.dist.as_str() {
        "normal" => &["mean", "sd"],
        "lognormal" => &["median", "sigma", "ci95"],
        "uniform" => &["lo", "hi"],
        other => {
            return Err(ctx.err(
                &k("dist"),
                format!("unknown distribution `{other}`; valid: {}", one_of(&DISTS)),
            ))
        }
    };
    let given = [
        ("mean", u.mean.is_some()),
        ("sd", u.sd.is_some()),
        ("median", u.median.is_some()),
        ("sigma", u.sigma.is_some()),
        ("ci95", u.ci95.is_some()),
        ("lo", u.lo.is_some()),
        ("hi", u.hi.is_some()),
    ];
    for (name, set) in given {
        if set && !allowed.contains(&name) {
            return Err(ctx.err(
                &k(name),
                format!(
                    "`{name}` does not apply to dist = \"{}\" (it takes {})",
                    u.dist,
                    one_of(allowed)
                ),
            ));
        }
    }
    let finite = |name: &str, v: Option<f64>| -> R<f64> {
        match v {
            Some(x) if x.is_finite() => Ok(x),
            Some(x) => Err(ctx.err(&k(name), format!("{x} is not a finite number"))),
            None => Err(ctx.err(key, format!("dist = \"{}\" needs `{name}`", u.dist))),
        }
    };
    Ok(match u.dist.as_str() {
        "normal" => {
            let sd = finite("sd", u.sd)?;
            if sd <= 0.0 {
                return Err(ctx.err(&k("sd"), "must be above zero"));
            }
            Uncertainty::Normal {
                mean: finite("mean", u.mean)?,
                sd,
            }
        }
        "lognormal" => {
            let median = finite("median", u.median)?;
            if median <= 0.0 {
                return Err(ctx.err(&k("median"), "must be above zero"));
            }
            // sigma directly, or from a published 95% interval: (ln hi - ln lo) / (2 x 1.96).
            let sigma = match (u.sigma, u.ci95) {
                (Some(_), Some(_)) => {
                    return Err(ctx.err(&k("ci95"), "give either sigma or ci95, not both"))
                }
                (Some(s), None) => s,
                (None, Some([lo, hi])) => {
                    if !(lo > 0.0 && lo < median && median < hi && hi.is_finite()) {
                        return Err(ctx.err(
                            &k("ci95"),
                            format!("[{lo}, {hi}] must satisfy 0 < lo < median ({median}) < hi"),
                        ));
                    }
                    (hi.ln_det() - lo.ln_det()) / (2.0 * 1.959_963_984_540_054)
                }
                (None, None) => {
                    return Err(ctx.err(key, "dist = \"lognormal\" needs `sigma` or `ci95`"))
                }
            };
            if !(sigma > 0.0 && sigma <= 5.0) {
                return Err(ctx.err(key, format!("sigma {sigma} is outside (0, 5]")));
            }
            Uncertainty::LogNormal { median, sigma }
        }
        _ => {
            let lo = finite("lo", u.lo)?;
            let hi = finite("hi", u.hi)?;
            if lo >= hi {
                return Err(ctx.err(&k("hi"), format!("hi {hi} is not above lo {lo}")));
            }
            Uncertainty::Uniform { lo, hi }
        }
    })
}
