//! Scenario files: TOML (`docs/scenarios.md`) parsed with unknown keys refused and
//! validated into a typed [`Scenario`]: population, horizon, step, replicates, seed, discount
//! rate, named-parameter overrides, interventions and the parameter distributions of a
//! probabilistic sensitivity analysis.
//!
//! Must never: panic on user input, or accept a value it cannot run. Every error names the
//! file, the key path and the line:column ([`ScenarioError`]).

pub mod locate;
pub mod plan;
mod raw;
pub mod trial;

pub use trial::{load_trial, parse_trial, TrialSpec};

use std::fmt;
use std::path::{Path, PathBuf};

use engine::{Baseline, Conditions};
use models::filter::CovariateFilter;
use models::interventions::{FrailtyState, Intervention, Kind, Priority};
use models::mortality::LifeTable;
use models::params::ParamDraw;
use models::HealthModel;

use locate::{line_col, Locator};

/// Japan's reference case for cost-effectiveness analysis discounts costs and outcomes at
/// 2% per year: Shiroiwa T et al., "Development of an official guideline for the economic
/// evaluation of drugs/medical devices in Japan", Value in Health 2017;20(3):372-378 (the
/// C2H/Chuikyo guideline) [V].
pub const DEFAULT_DISCOUNT_RATE: f64 = 0.02;

/// An error in a scenario file, with where it is.
#[derive(Clone, Debug, PartialEq)]
pub struct ScenarioError {
    pub file: String,
    /// 1-based; 0 when the error concerns the file as a whole.
    pub line: usize,
    pub column: usize,
    /// Dotted key path (`intervention[1].uptake`); empty when unknown.
    pub key: String,
    pub message: String,
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if self.line > 0 {
            write!(f, ":{}:{}", self.line, self.column)?;
        }
        if !self.key.is_empty() {
            write!(f, ": `{}`", self.key)?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for ScenarioError {}

/// Where the simulated people come from.
#[derive(Clone, Debug, PartialEq)]
pub enum Source {
    /// The embedded synthetic Japanese cohort (docs/cohort.md).
    Synthetic {
        n: u64,
        seed: u64,
        age_min: u32,
        age_max: u32,
    },
    /// A cohort file (Parquet, `healthtwin cohort synth` / `cohort import` layout).
    CohortFile { path: PathBuf },
}

#[derive(Clone, Debug, PartialEq)]
pub struct Population {
    pub source: Source,
    /// Who of the generated or read people is simulated, on baseline values.
    pub filter: CovariateFilter,
    /// Most people screened to find `n` who pass the filter (synthetic only).
    pub max_screened: u64,
    /// The real population the simulated people stand for (municipal scaling).
    pub represents: Option<f64>,
}

/// One programme: the model's typed intervention plus what only the scenario layer needs.
#[derive(Clone, Debug, PartialEq)]
pub struct ScenarioProgramme {
    /// `capacity_per_year` here is in places of the represented population when
    /// [`Population::represents`] is set (scaled by [`Scenario::interventions`]), else in
    /// simulated people.
    pub spec: Intervention,
    /// Where the cost per participant-year comes from.
    pub cost_source: String,
}

/// One parameter of a probabilistic sensitivity analysis.
#[derive(Clone, Debug, PartialEq)]
pub struct Distribution {
    pub draw: ParamDraw,
    pub source: String,
}

/// A validated scenario.
#[derive(Clone, Debug, PartialEq)]
pub struct Scenario {
    pub file: PathBuf,
    pub name: String,
    pub description: String,
    pub population: Population,
    pub years: u32,
    pub step_months: u32,
    pub replicates: u32,
    pub seed: u64,
    pub start_year: i64,
    pub discount_rate: f64,
    /// Named-parameter overrides, in file order.
    pub parameters: Vec<(String, f64)>,
    pub programmes: Vec<ScenarioProgramme>,
    pub uncertainty: Vec<Distribution>,
    /// `[[region]]`: municipalities, each a consecutive part of the people with its own
    /// places of the capacity-limited programmes (empty: one population, places shared).
    pub regions: Vec<Region>,
}

/// A municipality of a scenario's population with its own programme places: its people are
/// simulated as a population of their own (places allocated among them only), so a run of
/// several regions is exactly the sum of its regions' runs, and shards by region
/// (docs/shards.md).
#[derive(Clone, Debug, PartialEq)]
pub struct Region {
    pub name: String,
    /// Its people: positions in the scenario's population.
    pub people: std::ops::Range<u64>,
    /// Places a year per capacity-limited programme (as `capacity_per_year`: of the
    /// represented population when `represents` is set).
    pub capacity_per_year: std::collections::BTreeMap<String, u64>,
}

/// Reads and validates a scenario file.
pub fn load(path: &Path) -> Result<Scenario, ScenarioError> {
    parse(&read_text(path)?, path)
}

/// Reads a TOML file as UTF-8 text (scenario, plan and trial files); errors name the file,
/// and the line and column of the first byte that is not UTF-8.
pub(crate) fn read_text(path: &Path) -> Result<String, ScenarioError> {
    let file = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| ScenarioError {
        file: file.clone(),
        line: 0,
        column: 0,
        key: String::new(),
        message: format!("cannot read: {e}"),
    })?;
    String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let (line, column) = line_col(std::str::from_utf8(&e.as_bytes()[..at]).unwrap_or(""), at);
        ScenarioError {
            file,
            line,
            column,
            key: String::new(),
            message: "not UTF-8 text".into(),
        }
    })
}

/// Parses and validates scenario text; `path` names it in errors and anchors relative
/// cohort paths.
pub fn parse(text: &str, path: &Path) -> Result<Scenario, ScenarioError> {
    let ctx = Ctx {
        file: path.display().to_string(),
        text,
        loc: Locator::new(text),
    };
    let raw: raw::RawScenario = toml::from_str(text).map_err(|e| ctx.toml_error(&e))?;
    raw.validate(&ctx, path)
}

/// Error construction for one file.
pub(crate) struct Ctx<'a> {
    pub(crate) file: String,
    pub(crate) text: &'a str,
    pub(crate) loc: Locator,
}

impl Ctx<'_> {
    pub(crate) fn err(&self, key: &str, message: impl Into<String>) -> ScenarioError {
        let (line, column) = self
            .loc
            .span_of(key)
            .map_or((0, 0), |s| line_col(self.text, s.start));
        ScenarioError {
            file: self.file.clone(),
            line,
            column,
            key: key.to_string(),
            message: message.into(),
        }
    }

    pub(crate) fn toml_error(&self, e: &toml::de::Error) -> ScenarioError {
        let (line, column, key) = match e.span() {
            Some(s) => {
                let (l, c) = line_col(self.text, s.start);
                let key = self.loc.path_at(self.text, s.start).unwrap_or_default();
                (l, c, key)
            }
            None => (0, 0, String::new()),
        };
        ScenarioError {
            file: self.file.clone(),
            line,
            column,
            key,
            message: e.message().trim().to_string(),
        }
    }
}

impl Scenario {
    /// The model with this scenario's parameter overrides and programmes, capacities scaled
    /// to `simulated` people (see [`Scenario::interventions`]).
    pub fn model(&self, simulated: u64) -> Result<HealthModel, ScenarioError> {
        let file = self.file.display().to_string();
        let mut model = HealthModel::new(LifeTable::mhlw_2024());
        for (name, v) in &self.parameters {
            model.set_param(name, *v).map_err(|e| ScenarioError {
                file: file.clone(),
                line: 0,
                column: 0,
                key: format!("parameters.{name}"),
                message: e.to_string(),
            })?;
        }
        model
            .set_interventions(self.interventions(simulated))
            .map_err(|e| {
                let i = self
                    .programmes
                    .iter()
                    .position(|p| p.spec.name == e.intervention)
                    .unwrap_or(0);
                ScenarioError {
                    file,
                    line: 0,
                    column: 0,
                    key: format!("intervention[{i}].{}", e.field),
                    message: e.message,
                }
            })?;
        Ok(model)
    }

    /// The programmes as the model takes them, capacities scaled from the represented
    /// population to `simulated` people (at least one place when the real capacity is
    /// positive, so a small test run keeps the programme).
    pub fn interventions(&self, simulated: u64) -> Vec<Intervention> {
        self.programmes
            .iter()
            .map(|p| {
                let mut s = p.spec.clone();
                if let (Some(cap), Some(real)) = (s.capacity_per_year, self.population.represents) {
                    let scaled = (cap as f64 * simulated as f64 / real).round() as u64;
                    s.capacity_per_year = Some(if cap > 0 { scaled.max(1) } else { 0 });
                }
                s
            })
            .collect()
    }

    /// The scenario in region `k`: its programmes with the region's places, no regions.
    pub fn in_region(&self, k: usize) -> Scenario {
        let mut s = self.clone();
        let region = &self.regions[k];
        for p in &mut s.programmes {
            if p.spec.capacity_per_year.is_some() {
                p.spec.capacity_per_year = region.capacity_per_year.get(&p.spec.name).copied();
            }
        }
        s.regions.clear();
        s
    }

    /// The PSA draws (empty without an `[uncertainty]` table).
    pub fn draws(&self) -> Vec<ParamDraw> {
        self.uncertainty.iter().map(|d| d.draw.clone()).collect()
    }

    /// Simulated people per real person (`represents` / n), 1 without `represents`.
    pub fn scale(&self, simulated: u64) -> f64 {
        match self.population.represents {
            Some(r) if simulated > 0 => r / simulated as f64,
            _ => 1.0,
        }
    }

    /// The simulated people: the synthetic cohort screened through the filter until `n`
    /// pass (ids renumbered densely, so draws stay keyed by position), or the cohort file
    /// filtered. `n_override` replaces the synthetic `n`.
    pub fn cohort(&self, n_override: Option<u64>) -> Result<Vec<Baseline>, ScenarioError> {
        self.population.people(&self.file, n_override)
    }
}

impl Population {
    /// The people of this population (see [`Scenario::cohort`]); `file` names the scenario
    /// or trial file in errors.
    pub fn people(
        &self,
        file: &Path,
        n_override: Option<u64>,
    ) -> Result<Vec<Baseline>, ScenarioError> {
        let population = self;
        let file = file.display().to_string();
        let err = |key: &str, message: String| ScenarioError {
            file: file.clone(),
            line: 0,
            column: 0,
            key: key.to_string(),
            message,
        };
        let filter = &population.filter;
        let mut people = match &population.source {
            Source::Synthetic {
                n,
                seed,
                age_min,
                age_max,
            } => {
                let n = n_override.unwrap_or(*n);
                let gen = cohort::Generator::new(cohort::SyntheticSpec {
                    n,
                    seed: *seed,
                    age_min: *age_min,
                    age_max: *age_max,
                })
                .map_err(|e| err("population", e.to_string()))?;
                if filter.is_empty() {
                    gen.generate()
                } else {
                    let mut out = Vec::with_capacity(n as usize);
                    let mut id = 0u64;
                    while (out.len() as u64) < n {
                        if id >= population.max_screened {
                            return Err(err(
                                "population.filter",
                                format!(
                                    "only {} of {} screened synthetic people pass the filter \
                                     (wanted {n}); widen the filter or raise \
                                     population.max_screened",
                                    out.len(),
                                    id
                                ),
                            ));
                        }
                        let b = gen.person(id);
                        if filter.accepts(b.sex, b.age_years, &b.covariates) {
                            out.push(b);
                        }
                        id += 1;
                    }
                    out
                }
            }
            Source::CohortFile { path } => {
                let all =
                    cohort::file::read(path).map_err(|e| err("population.file", e.to_string()))?;
                let kept: Vec<Baseline> = all
                    .into_iter()
                    .filter(|b| filter.accepts(b.sex, b.age_years, &b.covariates))
                    .collect();
                if kept.is_empty() {
                    return Err(err(
                        "population.filter",
                        format!("nobody in {} passes the filter", path.display()),
                    ));
                }
                kept
            }
        };
        for (i, b) in people.iter_mut().enumerate() {
            b.id = i as u64;
        }
        Ok(people)
    }
}

/// Valid values of an enumerated key, for error messages.
pub(crate) fn one_of(names: &[&str]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

pub(crate) fn kind_names() -> Vec<&'static str> {
    Kind::ALL.iter().map(|k| k.name()).collect()
}

pub(crate) const PRIORITIES: [(&str, Priority); 5] = [
    ("random", Priority::Random),
    ("cardiovascular_risk", Priority::CardiovascularRisk),
    ("diabetes_risk", Priority::DiabetesRisk),
    ("frailty_index", Priority::FrailtyIndex),
    ("age", Priority::Age),
];

pub(crate) const FRAILTY_STATES: [(&str, FrailtyState); 3] = [
    ("robust", FrailtyState::Robust),
    ("prefrail", FrailtyState::Prefrail),
    ("frail", FrailtyState::Frail),
];

/// Diagnosis names in scenario files: the condition flags without their prefix.
pub(crate) const DIAGNOSES: [(&str, Conditions); 6] = [
    ("diabetes", Conditions::DIABETES),
    ("hypertension", Conditions::HYPERTENSION),
    ("dyslipidaemia", Conditions::DYSLIPIDAEMIA),
    ("myocardial_infarction", Conditions::MI),
    ("stroke", Conditions::STROKE),
    ("heart_failure", Conditions::HEART_FAILURE),
];
