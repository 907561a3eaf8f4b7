//! Personal digital twins (docs/twin.md): one person's latent parameters inferred from
//! their own EMR/PHR history with the population model as the prior ([`personalise`]), K
//! simulated futures with counterfactual interventions on the same futures ([`forecast`],
//! through `study::run`), the clinician's report ([`report`]), FHIR R4 RiskAssessment and
//! Flag resources ([`fhir`]), anomaly alerts ([`alerts`]), risk stratification of a cohort
//! ([`stratify`]) and forecast validation ([`validate`]).
//!
//! Data flow: a person ([`person::PersonRecord`], from a person file, an imported cohort
//! folder or FHIR input: [`person_file`], [`sources`]) → [`personalise::personalise`] →
//! [`personalise::copies`] (K baselines + per-copy traits) → [`forecast::forecast`] →
//! outputs.
//!
//! Must never: print, read flags, or decide exit codes (the cli does); show a name or raw
//! identifier (people are pseudonyms or file labels); loop over simulated time outside
//! `study::run` (the history replay in `personalise` evaluates the reduced physiology at
//! past dates for the likelihood only).

pub mod alerts;
pub mod fhir;
pub mod forecast;
pub mod output;
pub mod person;
pub mod person_file;
pub mod personalise;
pub mod report;
pub mod sources;
pub mod stats;
pub mod stratify;
pub mod validate;

use models::interventions::Kind;
use models::HealthModel;

pub use forecast::{Counterfactual, Forecast, ForecastSettings, Outcome};
pub use person::{PersonRecord, Quantity};
pub use personalise::{PersonaliseSettings, Posterior};

/// Errors of the twin library.
#[derive(Debug, thiserror::Error)]
pub enum TwinError {
    /// Bad user input (exit code 2 in the cli): the message names the file and field.
    #[error("{0}")]
    Input(String),
    #[error(transparent)]
    Forecast(#[from] forecast::ForecastError),
    #[error(transparent)]
    Report(#[from] ::report::ReportError),
}

/// Which counterfactuals a twin runs.
#[derive(Clone, Debug, PartialEq)]
pub enum CounterfactualPlan {
    /// Each applicable intervention alone ([`forecast::applicable`]), then the best pair and
    /// all beneficial ones together (by QALYs gained alone).
    Default,
    /// These interventions alone, then the best pair and all beneficial ones together.
    Singles(Vec<Kind>),
    /// Exactly these arms (each a set of interventions), no combinations added.
    Exactly(Vec<Vec<Kind>>),
    /// Usual care only.
    None,
}

/// Everything a twin run needs besides the person.
#[derive(Clone, Debug, PartialEq)]
pub struct TwinSettings {
    pub personalise: PersonaliseSettings,
    pub forecast: ForecastSettings,
    pub counterfactuals: CounterfactualPlan,
    /// Skip personalisation (the population model from the index-date values alone).
    pub population_only: bool,
}

impl Default for TwinSettings {
    fn default() -> Self {
        TwinSettings {
            personalise: PersonaliseSettings::default(),
            forecast: ForecastSettings::default(),
            counterfactuals: CounterfactualPlan::Default,
            population_only: false,
        }
    }
}

/// One person's twin: the posterior and the forecast.
#[derive(Clone, Debug)]
pub struct Twin {
    pub person: PersonRecord,
    pub posterior: Posterior,
    pub forecast: Forecast,
    /// Seconds spent personalising and forecasting.
    pub personalise_seconds: f64,
}

/// Personalises `person` and forecasts their futures with counterfactuals.
pub fn run_twin(
    model: &HealthModel,
    person: &PersonRecord,
    s: &TwinSettings,
) -> Result<Twin, TwinError> {
    let t0 = std::time::Instant::now();
    let posterior = if s.population_only {
        Posterior::population_only()
    } else {
        personalise::personalise(model, person, &s.personalise)
    };
    let personalise_seconds = t0.elapsed().as_secs_f64();
    let k = s.forecast.futures.max(1);
    let (pop, traits) = personalise::copies(person, &posterior, k, 0, s.forecast.seed);
    let singles: Vec<Kind> = match &s.counterfactuals {
        CounterfactualPlan::Default => forecast::applicable(model, &person.baseline(0)),
        CounterfactualPlan::Singles(v) => v.clone(),
        CounterfactualPlan::Exactly(_) | CounterfactualPlan::None => Vec::new(),
    };
    let mut arms = vec![Counterfactual::usual_care()];
    match &s.counterfactuals {
        CounterfactualPlan::Exactly(sets) => {
            arms.extend(sets.iter().map(|v| Counterfactual::of(v.clone())))
        }
        _ => arms.extend(singles.iter().map(|&k| Counterfactual::of(vec![k]))),
    }
    let mut fc = forecast::forecast(model, pop.clone(), traits.clone(), &arms, &s.forecast)?;
    // Combinations: the best pair and all beneficial interventions together, on the same
    // copies and keys (common random numbers across the two studies).
    if singles.len() >= 2 {
        let base = fc.arms[0].qalys;
        let mut gains: Vec<(Kind, f64)> = singles
            .iter()
            .zip(&fc.arms[1..])
            .map(|(&k, a)| (k, a.qalys - base))
            .collect();
        gains.sort_by(|a, b| b.1.total_cmp(&a.1));
        let beneficial: Vec<Kind> = gains.iter().filter(|g| g.1 > 0.0).map(|g| g.0).collect();
        let mut combos = Vec::new();
        if beneficial.len() >= 2 {
            combos.push(Counterfactual::of(beneficial[..2].to_vec()));
        }
        if beneficial.len() >= 3 {
            combos.push(Counterfactual::of(beneficial.clone()));
        }
        if !combos.is_empty() {
            let more = forecast::forecast(model, pop, traits, &combos, &s.forecast)?;
            fc.seconds += more.seconds;
            fc.arms.extend(more.arms);
        }
    }
    Ok(Twin {
        person: person.clone(),
        posterior,
        forecast: fc,
        personalise_seconds,
    })
}

impl Posterior {
    /// No personalisation: every block keeps the population model's draws.
    pub fn population_only() -> Posterior {
        Posterior {
            glycaemia: None,
            sbp: None,
            ldl: None,
            bmi: None,
            fr_exposure: None,
            fr_start: None,
            adherence: None,
            fit: Vec::new(),
            one_step: Vec::new(),
        }
    }
}
