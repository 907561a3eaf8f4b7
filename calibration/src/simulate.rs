//! Simulating a parameter set: one `study::Study` per particle (and per site when sites
//! carry offsets), run by `study::run`, on the same people with the same seed (common
//! random numbers: differences between particles are parameter effects, not noise), the
//! targets computed by the run's reducer from its aggregates and traced states.
//!
//! Particles run in parallel (rayon over particles, each run also parallel over its
//! people); every result depends only on the parameters and the seed, never on the thread
//! count or the order in which particles finish.
//!
//! Must never: loop over years or replicates itself (study::run is the only loop).

use engine::math::DetMath;
use std::sync::atomic::{AtomicU64, Ordering};

use engine::observe::metric_defs;
use engine::{Baseline, MetricDef, Model};
use models::HealthModel;
use rayon::prelude::*;
use study::{Arm, Settings, Streams, Study};

use crate::priors::{Parameter, Prior};
use crate::stats::{self, Resolved, RunView};
use crate::targets::{Statistic, Target};
use crate::CalibrationError;

/// Targets simulated with one set of parameter values: all of them, or one site's (whose
/// parameters carry that site's offsets).
#[derive(Clone, Debug)]
pub struct Group {
    pub name: String,
    /// Positions of the group's targets in the target list.
    pub targets: Vec<usize>,
    /// (shared parameter, its offset's position in the parameter vector).
    pub offsets: Vec<(usize, usize)>,
}

/// How the simulations of a calibration are laid out.
#[derive(Clone, Copy, Debug)]
pub struct SimSettings {
    pub seed: u64,
    pub step_months: u32,
    /// Years simulated; `None`: what the targets need (their last year + 1).
    pub years: Option<u32>,
    pub chunk_size: usize,
}

impl Default for SimSettings {
    fn default() -> Self {
        SimSettings {
            seed: 1,
            step_months: 1,
            years: None,
            chunk_size: 1024,
        }
    }
}

/// Runs parameter sets and returns the targets' simulated values.
pub struct Simulator {
    base: HealthModel,
    population: Vec<Baseline>,
    settings: Settings,
    /// Every calibrated parameter, shared ones first, then the sites' offsets.
    pub parameters: Vec<Parameter>,
    /// How many of `parameters` are shared model parameters (the rest are offsets).
    pub shared: usize,
    pub groups: Vec<Group>,
    resolved: Vec<Resolved>,
    pub defs: Vec<MetricDef>,
    /// Simulations run so far (every call of [`Simulator::evaluate`] counts its groups).
    runs: AtomicU64,
    /// Patient-years simulated so far.
    patient_years: AtomicU64,
}

impl Simulator {
    /// Prepares the simulations of `targets` on `population` with `base`'s other
    /// parameters. People are renumbered so that those whose yearly states some target
    /// needs come first (they are traced; the rest are not kept per year).
    pub fn new(
        base: HealthModel,
        mut population: Vec<Baseline>,
        targets: &[Target],
        parameters: Vec<Parameter>,
        groups: Vec<Group>,
        sim: SimSettings,
    ) -> Result<Simulator, CalibrationError> {
        if population.is_empty() {
            return Err(CalibrationError::Setup(
                "the simulated population is empty".into(),
            ));
        }
        if !models::STEP_MONTHS.contains(&sim.step_months) {
            return Err(CalibrationError::Setup(format!(
                "step of {} months: the model is validated for {:?}",
                sim.step_months,
                models::STEP_MONTHS
            )));
        }
        let defs = metric_defs(base.causes_of_death(), &base.metrics());
        let resolved = stats::resolve(targets, &defs).map_err(CalibrationError::Setup)?;
        let needed = targets.iter().map(|t| t.last_year() + 1).max().unwrap_or(1);
        let years = sim.years.unwrap_or(needed).max(1);
        if years < needed {
            return Err(CalibrationError::Setup(format!(
                "--years {years}: the targets need {needed} simulated years"
            )));
        }
        // Cohort follow-up targets need every person's yearly states; others only those
        // old enough at baseline.
        let cohort = targets.iter().any(|t| {
            matches!(
                t.statistic,
                Statistic::ChangePerYear { .. } | Statistic::EventRate { .. }
            )
        });
        let from_age = if cohort {
            Some(f64::NEG_INFINITY)
        } else {
            targets
                .iter()
                .filter_map(Target::traced_from_age)
                .reduce(f64::min)
        };
        let traced = match from_age {
            None => 0,
            Some(a) => {
                // A stable partition: the traced people first, each part in cohort order.
                let (mut first, rest): (Vec<_>, Vec<_>) =
                    population.iter().partition(|b| b.age_years >= a);
                let n = first.len();
                first.extend(rest);
                population = first;
                n
            }
        };
        for (i, b) in population.iter_mut().enumerate() {
            b.id = i as u64;
        }
        let settings = Settings {
            seed: sim.seed,
            years,
            step_months: sim.step_months,
            replicates: 1,
            streams: Streams::Common,
            chunk_size: sim.chunk_size.max(1),
            trace_patients: traced as u64,
        };
        let shared = parameters.len();
        let mut all = parameters;
        let mut groups = if groups.is_empty() {
            vec![Group {
                name: "all".into(),
                targets: (0..targets.len()).collect(),
                offsets: Vec::new(),
            }]
        } else {
            groups
        };
        // Offsets for every site group of a multi-site calibration whose parameters carry
        // `site_offset_sd`.
        if groups.len() > 1 {
            for g in &mut groups {
                for i in 0..shared {
                    if let Some(sd) = all[i].site_offset_sd {
                        let p = &all[i];
                        let offset = Parameter {
                            name: format!("{}@{}", p.name, g.name),
                            prior: Prior::Normal { mean: 0.0, sd },
                            range: (-5.0 * sd, 5.0 * sd),
                            default: 0.0,
                            source: format!(
                                "site offset of {} at {}: log-multiplier ~ normal(0, {sd})",
                                p.name, g.name
                            ),
                            site_offset_sd: None,
                        };
                        g.offsets.push((i, all.len()));
                        all.push(offset);
                    }
                }
            }
        }
        Ok(Simulator {
            base,
            population,
            settings,
            parameters: all,
            shared,
            groups,
            resolved,
            defs,
            runs: AtomicU64::new(0),
            patient_years: AtomicU64::new(0),
        })
    }

    pub fn years(&self) -> u32 {
        self.settings.years
    }
    pub fn people(&self) -> usize {
        self.population.len()
    }
    pub fn seed(&self) -> u64 {
        self.settings.seed
    }
    /// Simulations run so far.
    pub fn runs(&self) -> u64 {
        self.runs.load(Ordering::Relaxed)
    }
    /// Patient-years simulated so far.
    pub fn patient_years(&self) -> u64 {
        self.patient_years.load(Ordering::Relaxed)
    }

    /// The model parameters of `group` for the parameter vector `theta` (shared values with
    /// the group's offsets applied, kept inside the accepted ranges).
    pub fn group_values(&self, group: &Group, theta: &[f64]) -> Vec<(String, f64)> {
        let mut out: Vec<(String, f64)> = self.parameters[..self.shared]
            .iter()
            .zip(theta)
            .map(|(p, &v)| (p.name.clone(), v))
            .collect();
        for &(i, o) in &group.offsets {
            let (lo, hi) = self.parameters[i].range;
            out[i].1 = (out[i].1 * theta[o].exp_det()).clamp(lo, hi);
        }
        out
    }

    /// The targets' simulated values for `theta` (one value per target, NaN where its
    /// denominator was empty). `theta` holds one value per entry of `parameters`.
    pub fn evaluate(&self, theta: &[f64]) -> Result<Vec<f64>, CalibrationError> {
        let n_targets = self.resolved.len();
        let mut out = vec![f64::NAN; n_targets];
        for g in &self.groups {
            let values = self.group_values(g, theta);
            let named: Vec<(&str, f64)> = values.iter().map(|(n, v)| (n.as_str(), *v)).collect();
            let mut model = self.base.clone();
            model
                .set_params(&named)
                .map_err(|e| CalibrationError::Setup(e.to_string()))?;
            let study = Study {
                arms: vec![Arm {
                    name: g.name.clone(),
                    model,
                }],
                population: self.population.clone(),
                allocation: study::Allocation::Paired,
                settings: self.settings,
                draws: Vec::new(),
            };
            let years = self.settings.years;
            let resolved = &self.resolved;
            let results = study::run(&study, &(), |ctx, run| {
                let view = RunView {
                    aggregate: &run.aggregate,
                    trace: &run.trace,
                    patients: ctx.patients,
                    years,
                };
                Ok::<_, CalibrationError>(
                    g.targets
                        .iter()
                        .map(|&t| (t, view.value(&resolved[t])))
                        .collect::<Vec<_>>(),
                )
            })?;
            for (t, v) in results
                .arms
                .into_iter()
                .flat_map(|a| a.replicates)
                .flatten()
            {
                out[t] = v;
            }
            self.runs.fetch_add(1, Ordering::Relaxed);
            self.patient_years.fetch_add(
                self.population.len() as u64 * u64::from(years),
                Ordering::Relaxed,
            );
        }
        Ok(out)
    }

    /// [`Simulator::evaluate`] for many parameter vectors, in parallel; results in input
    /// order.
    pub fn evaluate_all(&self, thetas: &[Vec<f64>]) -> Result<Vec<Vec<f64>>, CalibrationError> {
        thetas.par_iter().map(|t| self.evaluate(t)).collect()
    }

    /// The parameters' model defaults (offsets 0): the "before" of a calibration.
    pub fn defaults(&self) -> Vec<f64> {
        self.parameters.iter().map(|p| p.default).collect()
    }
}

impl From<study::StudyError> for CalibrationError {
    fn from(e: study::StudyError) -> Self {
        CalibrationError::Setup(e.to_string())
    }
}
