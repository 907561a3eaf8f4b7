//! Scenario comparisons: scenario files resolved into one [`Study`] (the shared population,
//! horizon, seed and parameter draws), run with common random numbers, reduced per run to
//! [`Outcomes`] and the delay of diabetes onset, ready for the [`crate::report`] of
//! `healthtwin compare`.
//!
//! Must never: print, or read anything but the scenario files and cohort files the plans
//! name.

use std::cell::RefCell;

use engine::observe::metric_defs;
use engine::run::{YearHook, YearStart};
use engine::{Baseline, Model, Patient};
use models::params::ParamDraw;
use models::{HealthModel, PersonState};
use scenarios::{Scenario, ScenarioError};

use engine::Aggregator;

use crate::outcomes::{
    extract, onset_delays, Delay, DelaySample, OnsetAges, Outcomes, Sources, LIFE_YEARS,
};
use crate::posterior::Posterior;
use crate::runner::{self, Arm, Progress, RunCheckpoint, Settings, Streams, Study, StudyError};

/// What the caller may override of the shared scenario (every field optional).
#[derive(Clone, Debug, Default)]
pub struct CompareOptions {
    pub patients: Option<u64>,
    pub years: Option<u32>,
    pub replicates: Option<u32>,
    pub seed: Option<u64>,
    /// Probabilistic sensitivity analysis: K parameter draws from the reference's
    /// `[uncertainty]` table (or from `posterior`), one per replicate.
    pub psa: Option<u32>,
    /// With `psa`: replicate k takes the parameters of one particle of this posterior
    /// sample (drawn by weight, keyed by seed and replicate), in every scenario. The
    /// reference's `[uncertainty]` table then draws only the parameters the posterior lacks.
    pub posterior: Option<Posterior>,
    pub streams: Streams,
    /// Which scenario (0-based) supplies the shared population, horizon, step, seed,
    /// replicates, start year and discount rate.
    pub population_from: usize,
}

/// Why scenarios cannot be compared as asked (every variant is the user's input).
#[derive(Debug, thiserror::Error)]
pub enum CompareError {
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
    #[error("{first} and {second}: two scenarios named `{name}` (names label the outputs)")]
    DuplicateName {
        first: String,
        second: String,
        name: String,
    },
    #[error("--population-from {position}: only {given} scenario file(s) given")]
    PopulationFrom { position: usize, given: usize },
    #[error("--psa: {file} has no [uncertainty] table (docs/scenarios.md) and no posterior file was given")]
    NoUncertainty { file: String },
    #[error("--posterior needs --psa K (the number of draws)")]
    PosteriorWithoutPsa,
    #[error("--psa: `{name}` is in both the posterior and the [uncertainty] table of {file}; remove one")]
    DrawnTwice { name: String, file: String },
    #[error(
        "--psa: {file} has an [uncertainty] table different from the reference's; every \
         scenario must use the same draws (remove it or make it equal)"
    )]
    UncertaintyDiffers { file: String },
    #[error(
        "--psa {draws} runs {draws} replicates (one per draw); --replicates {replicates} disagrees"
    )]
    PsaReplicates { draws: u32, replicates: u32 },
    #[error("--psa: {0}")]
    Study(#[from] StudyError),
    #[error("{file}: {message} (docs/shards.md, regions)")]
    Regions { file: String, message: String },
    /// A checkpoint could not be read or written, or is not this run's (the caller's error).
    #[error("{0}")]
    Checkpoint(Box<dyn std::error::Error + Send + Sync>),
}

/// A finished run of a comparison as a checkpoint keeps it inside a replicate.
#[derive(Clone, Debug, PartialEq)]
pub struct CheckpointedRun {
    pub run: PartialRun,
    /// The reference arm's (arm 0): every person's onset age, which the other arms' onset
    /// delays are against; `None` for the other arms.
    pub reference_onsets: Option<OnsetAges>,
}

/// Which run of a comparison: replicate, region (0 for a population without regions), arm.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RunAt {
    pub replicate: u32,
    pub region: usize,
    pub arm: usize,
}

/// A comparison's checkpoint inside its replicates ([`Comparison::run_replicate_checkpointed`];
/// the cli keeps it in files, docs/shards.md): finished runs of each (replicate, region, arm),
/// and the latest saved year of the run in progress ([`YearHook`], whose run is the one
/// of the last [`Self::start_run`]).
pub trait CompareCheckpoint:
    YearHook<PersonState, Patient<PersonState>, Error = CompareError>
{
    fn finished_run(&mut self, at: RunAt) -> Result<Option<CheckpointedRun>, CompareError>;
    fn start_run(
        &mut self,
        at: RunAt,
        patients: &mut [Patient<PersonState>],
    ) -> Result<Option<YearStart<Patient<PersonState>>>, CompareError>;
    fn save_run(&mut self, at: RunAt, run: &CheckpointedRun) -> Result<(), CompareError>;
}

/// A [`CompareCheckpoint`] as the runner sees it in one region: a finished reference run
/// from the checkpoint gives the reducer its people's onsets.
struct InRegion<'a> {
    checkpoint: &'a mut dyn CompareCheckpoint,
    region: usize,
    reference: &'a RefCell<OnsetAges>,
}

impl InRegion<'_> {
    fn at(&self, replicate: u32, arm: usize) -> RunAt {
        RunAt {
            replicate,
            region: self.region,
            arm,
        }
    }
}

impl YearHook<PersonState, Patient<PersonState>> for InRegion<'_> {
    type Error = CompareError;
    fn save_after(&mut self, year: u32) -> bool {
        self.checkpoint.save_after(year)
    }
    fn save(
        &mut self,
        at: &YearStart<Patient<PersonState>>,
        patients: &[Patient<PersonState>],
    ) -> Result<(), CompareError> {
        self.checkpoint.save(at, patients)
    }
}

impl RunCheckpoint<PersonState, Patient<PersonState>, CheckpointedRun, CompareError>
    for InRegion<'_>
{
    fn finished_run(
        &mut self,
        replicate: u32,
        arm: usize,
    ) -> Result<Option<CheckpointedRun>, CompareError> {
        let run = self.checkpoint.finished_run(self.at(replicate, arm))?;
        if let Some(CheckpointedRun {
            reference_onsets: Some(onsets),
            ..
        }) = &run
        {
            *self.reference.borrow_mut() = onsets.clone();
        }
        Ok(run)
    }
    fn start_run(
        &mut self,
        replicate: u32,
        arm: usize,
        patients: &mut [Patient<PersonState>],
    ) -> Result<Option<YearStart<Patient<PersonState>>>, CompareError> {
        let at = self.at(replicate, arm);
        self.checkpoint.start_run(at, patients)
    }
    fn save_run(
        &mut self,
        replicate: u32,
        arm: usize,
        value: &CheckpointedRun,
    ) -> Result<(), CompareError> {
        let at = self.at(replicate, arm);
        self.checkpoint.save_run(at, value)
    }
}

/// Adds the runs of other people (a region) to `total`.
fn add_runs(total: &mut Option<Vec<(Vec<PartialRun>, f64)>>, runs: Vec<(Vec<PartialRun>, f64)>) {
    match total.as_mut() {
        None => *total = Some(runs),
        Some(t) => {
            for ((acc, acc_s), (runs, s)) in t.iter_mut().zip(runs) {
                *acc_s += s;
                for (a, r) in acc.iter_mut().zip(runs) {
                    a.merge(r);
                }
            }
        }
    }
}

/// Scenarios resolved into one study on one shared population.
pub struct Comparison {
    pub scenarios: Vec<Scenario>,
    /// Position of the scenario that supplied the shared settings.
    pub shared: usize,
    pub study: Study<HealthModel>,
    pub start_year: i64,
    pub discount_rate: f64,
    /// The real population the simulated people stand for (municipal scaling), if any.
    pub represents: Option<f64>,
    /// What the user should know about how the scenarios were combined.
    pub notes: Vec<String>,
    /// Replicate k draws one particle of this sample (PSA from a calibration's posterior).
    pub posterior: Option<Posterior>,
    /// The shared population's regions (`[[region]]`), each simulated as a population of
    /// its own with its own places; empty: one population.
    pub regions: Vec<scenarios::Region>,
}

/// One run (scenario, replicate) of a shard, as it adds up with the other shards' runs of
/// the same scenario and replicate.
#[derive(Clone, Debug, PartialEq)]
pub struct PartialRun {
    pub aggregate: Aggregator,
    /// Per-person onset delays against the reference (`None` for the reference and under
    /// independent streams).
    pub delays: Option<DelaySample>,
}

impl PartialRun {
    /// Adds the same run of other people.
    pub fn merge(&mut self, other: PartialRun) {
        self.aggregate.merge(&other.aggregate);
        match (&mut self.delays, other.delays) {
            (Some(a), Some(b)) => a.merge(b),
            (a @ None, b) => *a = b,
            (Some(_), None) => {}
        }
    }
}

/// One arm's reduced runs, replicate 0 first, and its simulation seconds.
pub type ArmRuns = (Vec<(Outcomes, Option<Delay>)>, f64);

/// Everything kept of one scenario over replicates.
#[derive(Clone, Debug)]
pub struct ScenarioResults {
    pub outcomes: Vec<Outcomes>,
    /// Delay of diabetes onset against the reference, per replicate (`None` for the
    /// reference itself and under independent streams).
    pub delays: Vec<Option<Delay>>,
    /// Measures this scenario's model does not produce.
    pub missing: Vec<usize>,
    /// Wall-clock seconds of simulation.
    pub seconds: f64,
    pub person_years: f64,
}

impl Comparison {
    /// Resolves `scenarios` (the first is the reference of every difference) into a study.
    pub fn new(scenarios: Vec<Scenario>, opts: &CompareOptions) -> Result<Self, CompareError> {
        for (i, p) in scenarios.iter().enumerate() {
            if let Some(q) = scenarios[..i].iter().find(|q| q.name == p.name) {
                return Err(CompareError::DuplicateName {
                    first: q.file.display().to_string(),
                    second: p.file.display().to_string(),
                    name: p.name.clone(),
                });
            }
        }
        let Some(shared) = scenarios.get(opts.population_from).cloned() else {
            return Err(CompareError::PopulationFrom {
                position: opts.population_from + 1,
                given: scenarios.len(),
            });
        };
        let mut notes = Vec::new();
        for p in &scenarios {
            if p.population != shared.population
                || p.years != shared.years
                || p.step_months != shared.step_months
            {
                notes.push(format!(
                    "{}: its population, years or step differ from {}; the shared ones of {} are used (one cohort for all)",
                    p.name, shared.name, shared.name
                ));
            }
        }
        if opts.posterior.is_some() && opts.psa.is_none() {
            return Err(CompareError::PosteriorWithoutPsa);
        }
        let draws: Vec<ParamDraw> = if opts.psa.is_some() {
            let d = scenarios[0].draws();
            if let Some(p) = &opts.posterior {
                if let Some(d) = d.iter().find(|d| p.names().contains(&d.name)) {
                    return Err(CompareError::DrawnTwice {
                        name: d.name.clone(),
                        file: scenarios[0].file.display().to_string(),
                    });
                }
            }
            if d.is_empty() && opts.posterior.is_none() {
                return Err(CompareError::NoUncertainty {
                    file: scenarios[0].file.display().to_string(),
                });
            }
            for p in &scenarios[1..] {
                if !p.uncertainty.is_empty() && p.uncertainty != scenarios[0].uncertainty {
                    return Err(CompareError::UncertaintyDiffers {
                        file: p.file.display().to_string(),
                    });
                }
            }
            d
        } else {
            Vec::new()
        };
        if let (Some(k), Some(r)) = (opts.psa, opts.replicates) {
            if k != r {
                return Err(CompareError::PsaReplicates {
                    draws: k,
                    replicates: r,
                });
            }
        }
        let replicates = opts.psa.or(opts.replicates).unwrap_or(shared.replicates);
        let population = shared.cohort(opts.patients)?;
        let n = population.len() as u64;
        check_regions(&scenarios, &shared, n)?;
        let mut arms = Vec::new();
        for p in &scenarios {
            let mut q = p.clone();
            q.population = shared.population.clone();
            arms.push(Arm {
                name: p.name.clone(),
                model: q.model(n)?,
            });
        }
        let settings = Settings {
            seed: opts.seed.unwrap_or(shared.seed),
            years: opts.years.unwrap_or(shared.years),
            step_months: shared.step_months,
            replicates,
            streams: opts.streams,
            chunk_size: 1024,
            trace_patients: 0,
        };
        Ok(Comparison {
            shared: opts.population_from,
            start_year: shared.start_year,
            discount_rate: shared.discount_rate,
            represents: shared.population.represents,
            study: Study {
                arms,
                population,
                settings,
                draws,
                allocation: crate::runner::Allocation::Paired,
            },
            scenarios,
            notes,
            posterior: opts.posterior.clone(),
            regions: shared.regions.clone(),
        })
    }

    /// A capacity-limited programme whose places are shared by the whole population (no
    /// regions): (scenario file, programme). Such a run couples every person.
    pub fn coupled_programme(&self) -> Option<(String, String)> {
        if !self.regions.is_empty() {
            return None;
        }
        self.scenarios.iter().find_map(|sc| {
            sc.programmes
                .iter()
                .find(|p| p.spec.capacity_per_year.is_some())
                .map(|p| (sc.file.display().to_string(), p.spec.name.clone()))
        })
    }

    /// The comparison in region `k`: the region's people, every scenario with the region's
    /// places (capacities scaled as for the whole population).
    pub fn region(&self, k: usize) -> Result<Comparison, CompareError> {
        let shared = &self.scenarios[self.shared];
        let n = self.study.population.len() as u64;
        let r = &self.regions[k].people;
        let mut arms = Vec::with_capacity(self.scenarios.len());
        for p in &self.scenarios {
            let mut q = if p.regions.is_empty() {
                p.clone()
            } else {
                p.in_region(k)
            };
            q.population = shared.population.clone();
            arms.push(Arm {
                name: p.name.clone(),
                model: q.model(n)?,
            });
        }
        Ok(Comparison {
            scenarios: self.scenarios.clone(),
            shared: self.shared,
            study: Study {
                arms,
                population: self.study.population[r.start as usize..r.end as usize].to_vec(),
                settings: self.study.settings,
                draws: self.study.draws.clone(),
                allocation: crate::runner::Allocation::Paired,
            },
            start_year: self.start_year,
            discount_rate: self.discount_rate,
            represents: self.represents,
            notes: Vec::new(),
            posterior: self.posterior.clone(),
            regions: Vec::new(),
        })
    }

    /// [`Self::run_partial`] of the regions `regions`, each its own population, added up:
    /// per arm the runs of `replicates` and the simulation seconds.
    pub fn run_regions(
        &self,
        progress: &dyn Progress,
        regions: std::ops::Range<usize>,
        replicates: std::ops::Range<u32>,
    ) -> Result<Vec<(Vec<PartialRun>, f64)>, CompareError> {
        let mut total: Option<Vec<(Vec<PartialRun>, f64)>> = None;
        for k in regions {
            add_runs(
                &mut total,
                self.region(k)?.run_partial(progress, replicates.clone())?,
            );
        }
        Ok(total.unwrap_or_default())
    }

    /// Replicate `replicate` of every scenario, as [`Self::run_partial`] (with regions:
    /// [`Self::run_regions`] of `regions`) runs it, with a checkpoint inside the replicate:
    /// the runs it holds finished are not run again, a run in progress starts from its
    /// last saved year, and each run's state is offered to it at year boundaries. The
    /// results are those of the run without a checkpoint.
    pub fn run_replicate_checkpointed(
        &self,
        progress: &dyn Progress,
        regions: std::ops::Range<usize>,
        replicate: u32,
        checkpoint: &mut dyn CompareCheckpoint,
    ) -> Result<Vec<(Vec<PartialRun>, f64)>, CompareError> {
        if self.regions.is_empty() {
            return self.run_checkpointed_in(progress, replicate, 0, checkpoint);
        }
        let mut total: Option<Vec<(Vec<PartialRun>, f64)>> = None;
        for k in regions {
            let runs = self
                .region(k)?
                .run_checkpointed_in(progress, replicate, k, checkpoint)?;
            add_runs(&mut total, runs);
        }
        Ok(total.unwrap_or_default())
    }

    /// [`Self::run_replicate_checkpointed`] of this comparison's one population (region
    /// `region`).
    fn run_checkpointed_in(
        &self,
        progress: &dyn Progress,
        replicate: u32,
        region: usize,
        checkpoint: &mut dyn CompareCheckpoint,
    ) -> Result<Vec<(Vec<PartialRun>, f64)>, CompareError> {
        let reference = RefCell::new(OnsetAges::new());
        let mut in_region = InRegion {
            checkpoint,
            region,
            reference: &reference,
        };
        let runs = self.run_reduced(
            progress,
            replicate..replicate + 1,
            Some(&mut in_region),
            &reference,
            |_, aggregate, delays, onsets| CheckpointedRun {
                run: PartialRun { aggregate, delays },
                reference_onsets: onsets.cloned(),
            },
        )?;
        Ok(runs
            .into_iter()
            .map(|(reps, s)| (reps.into_iter().map(|c| c.run).collect(), s))
            .collect())
    }

    /// The results of every scenario from runs that add up to the whole population's.
    pub fn results_of_partials(&self, runs: Vec<(Vec<PartialRun>, f64)>) -> Vec<ScenarioResults> {
        let runs = runs
            .into_iter()
            .enumerate()
            .map(|(a, (reps, s))| {
                (
                    reps.into_iter()
                        .map(|r| self.reduce_partial(a, r))
                        .collect(),
                    s,
                )
            })
            .collect();
        self.results_of(runs)
    }

    /// The simulated people.
    pub fn population(&self) -> &[Baseline] {
        &self.study.population
    }

    /// Real people per simulated person, when the shared scenario represents a population.
    pub fn scale(&self) -> Option<f64> {
        self.represents
            .map(|r| r / self.study.population.len() as f64)
    }

    /// Runs every scenario on the same people and reduces each run to its outcomes.
    pub fn run(&self, progress: &dyn Progress) -> Result<Vec<ScenarioResults>, CompareError> {
        let sources = self.sources();
        let rate = self.discount_rate;
        let runs = self.run_reduced(
            progress,
            0..self.study.settings.replicates,
            None,
            &RefCell::default(),
            |arm, agg, d, _| {
                (
                    extract(&agg, &sources[arm], rate),
                    d.and_then(DelaySample::delay),
                )
            },
        )?;
        Ok(self.assemble(runs, sources))
    }

    /// Runs replicates `replicates` of every scenario on the study's people (a shard: a
    /// part of the people, or of the PSA draws) and keeps each run's exact aggregates and
    /// per-person onset delays, which add up across shards ([`Self::results_of`]).
    pub fn run_partial(
        &self,
        progress: &dyn Progress,
        replicates: std::ops::Range<u32>,
    ) -> Result<Vec<(Vec<PartialRun>, f64)>, CompareError> {
        self.run_reduced(
            progress,
            replicates,
            None,
            &RefCell::default(),
            |_, aggregate, delays, _| PartialRun { aggregate, delays },
        )
    }

    /// A whole run (every person) of arm `arm` from its merged partial runs, reduced as
    /// [`Self::run`] reduces it.
    pub fn reduce_partial(&self, arm: usize, run: PartialRun) -> (Outcomes, Option<Delay>) {
        let a = &self.study.arms[arm].model;
        let sources = Sources::new(&metric_defs(a.causes_of_death(), &a.metrics()));
        (
            extract(&run.aggregate, &sources, self.discount_rate),
            run.delays.and_then(DelaySample::delay),
        )
    }

    /// The results of every scenario from its runs ([`Self::reduce_partial`]), per arm the
    /// replicates in order and the arm's simulation seconds: what [`Self::run`] returns.
    pub fn results_of(&self, runs: Vec<ArmRuns>) -> Vec<ScenarioResults> {
        self.assemble(runs, self.sources())
    }

    fn sources(&self) -> Vec<Sources> {
        self.study
            .arms
            .iter()
            .map(|a| Sources::new(&metric_defs(a.model.causes_of_death(), &a.model.metrics())))
            .collect()
    }

    /// Runs `replicates` (with `checkpoint`, if any) and reduces each run with
    /// `reduce(arm, aggregate, onset delays, the reference's onsets)` (delays: `None` for
    /// the reference and under independent streams; onsets: the reference's, for it only).
    /// `reference` holds the reference's onsets of the replicate (for the others' delays).
    fn run_reduced<R>(
        &self,
        progress: &dyn Progress,
        replicates: std::ops::Range<u32>,
        checkpoint: Option<
            &mut dyn RunCheckpoint<PersonState, Patient<PersonState>, R, CompareError>,
        >,
        reference: &RefCell<OnsetAges>,
        reduce: impl Fn(usize, Aggregator, Option<DelaySample>, Option<&OnsetAges>) -> R,
    ) -> Result<Vec<(Vec<R>, f64)>, CompareError> {
        let paired = self.study.settings.streams == Streams::Common;
        let study = self.study_ref();
        let model_of = |model: &HealthModel, replicate: u32| {
            let key = study.settings.draw_key(replicate);
            let drawn = model.for_replicate(key, &study.draws)?;
            match &self.posterior {
                Some(p) => p.apply(&drawn, key),
                None => Ok(drawn),
            }
        };
        let reduce_run = |ctx: &runner::RunContext<'_, HealthModel>,
                          out: engine::run::ReplicateOutput<PersonState>| {
            let onsets: OnsetAges = ctx
                .patients
                .iter()
                .map(|p| {
                    p.state
                        .dm
                        .onset_age
                        .filter(|&a| a > p.baseline.age_years)
                        .map(|a| a as f32)
                })
                .collect();
            if ctx.arm == 0 {
                *reference.borrow_mut() = onsets;
                let onsets = reference.borrow();
                return Ok::<_, CompareError>(reduce(0, out.aggregate, None, Some(&onsets)));
            }
            let delays = if !paired {
                // Pairing a person's onsets needs the same draws in both scenarios.
                None
            } else {
                let end: Vec<f32> = ctx.patients.iter().map(|p| p.age_years as f32).collect();
                Some(onset_delays(&reference.borrow(), &onsets, &end))
            };
            Ok(reduce(ctx.arm, out.aggregate, delays, None))
        };
        let results = match checkpoint {
            None => {
                runner::run_drawn_replicates(study, replicates, progress, model_of, reduce_run)?
            }
            Some(ck) => runner::run_drawn_checkpointed(
                study, replicates, progress, model_of, ck, reduce_run,
            )?,
        };
        Ok(results
            .arms
            .into_iter()
            .map(|a| (a.replicates, a.seconds))
            .collect())
    }

    fn assemble(&self, runs: Vec<ArmRuns>, sources: Vec<Sources>) -> Vec<ScenarioResults> {
        runs.into_iter()
            .zip(sources)
            .map(|((reps, seconds), src)| {
                let (outcomes, delays): (Vec<_>, Vec<_>) = reps.into_iter().unzip();
                ScenarioResults {
                    person_years: outcomes
                        .iter()
                        .map(|o: &Outcomes| o.total(LIFE_YEARS))
                        .sum(),
                    outcomes,
                    delays,
                    missing: src.missing,
                    seconds,
                }
            })
            .collect()
    }

    fn study_ref(&self) -> &Study<HealthModel> {
        &self.study
    }
}

/// The regions of a comparison are its shared population's: their people add up to it, and
/// every scenario with capacity-limited programmes gives their places in the same regions.
fn check_regions(scenarios: &[Scenario], shared: &Scenario, n: u64) -> Result<(), CompareError> {
    let err = |s: &Scenario, message: String| CompareError::Regions {
        file: s.file.display().to_string(),
        message,
    };
    if let Some(last) = shared.regions.last() {
        if last.people.end != n {
            return Err(err(
                shared,
                format!(
                    "its regions hold {} people, the run {n} (--patients changes the population; \
                     regions fix it)",
                    last.people.end
                ),
            ));
        }
    }
    for s in scenarios {
        let limited = s
            .programmes
            .iter()
            .find(|p| p.spec.capacity_per_year.is_some());
        if s.regions.is_empty() {
            if let (Some(p), false) = (limited, shared.regions.is_empty()) {
                return Err(err(
                    s,
                    format!(
                        "programme `{}` has places for the whole population, but the population \
                         ({}) is in regions; give each region's places ([[region]])",
                        p.spec.name,
                        shared.file.display()
                    ),
                ));
            }
            continue;
        }
        let same = s.regions.len() == shared.regions.len()
            && s.regions
                .iter()
                .zip(&shared.regions)
                .all(|(a, b)| a.name == b.name && a.people == b.people);
        if !same {
            return Err(err(
                s,
                format!(
                    "its regions (names and people) differ from those of the population's \
                     scenario {}",
                    shared.file.display()
                ),
            ));
        }
    }
    Ok(())
}
