//! The one replicate × arm loop of healthtwin.
//!
//! A [`Study`] is arms (a name and a model each) run on one population, over replicates, with
//! one seed and one layout in time. [`run`] runs every (replicate, arm) pair, replicates
//! outer and arms inner, so within a replicate the first arm (the reference of every
//! comparison) has run before the others; after each run it hands the run's context, final
//! patient states and aggregates to a reducer, and collects what the reducer returns, so a
//! caller keeps per run only what it needs (an [`Aggregator`], a comparison's outcomes, a
//! trial's counts): memory stays bounded by the population, never by replicates × arms.
//!
//! Randomness: every draw of the engine is keyed by (seed, replicate, process, patient,
//! step). Under [`Streams::Common`] every arm of a replicate uses the same key, so the same
//! person meets the same luck in every arm (common random numbers) and differences between
//! arms are the arms' effects. [`Streams::Independent`] gives every arm its own seed, to
//! measure what common random numbers buy. Parameter draws of a probabilistic sensitivity
//! analysis are keyed by (seed, replicate) only: replicate k uses draw k in every arm.
//!
//! Must never: print, read flags or files, or let results depend on the thread count.

use std::time::Instant;

use engine::run::{simulate_from, ReplicateOutput, Trace, WholePatient, YearHook, YearStart};
use engine::{init_patients_into, Aggregator, Baseline, Model, Patient, RunKey};
use models::params::{ParamDraw, ParamError};
use models::HealthModel;

/// Seed offset between arms under [`Streams::Independent`] (any large odd constant).
pub const INDEPENDENT_SEED_STRIDE: u64 = 0x9E37_79B9_7F4A_7C15;

/// How the arms of one replicate draw their random numbers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Streams {
    /// The same key in every arm: paired comparisons (the default).
    #[default]
    Common,
    /// A seed of its own per arm: independent samples.
    Independent,
}

/// The layout of a study in time and Monte Carlo effort. `seed` is the one seed of the
/// study: the engine's [`RunKey`] of every run is derived from it here and nowhere else.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Settings {
    pub seed: u64,
    pub years: u32,
    /// Step length in months; must divide 12.
    pub step_months: u32,
    pub replicates: u32,
    pub streams: Streams,
    /// Patients per work unit: scheduling only, never results.
    pub chunk_size: usize,
    /// Record yearly trajectories of patients with `id < trace_patients`.
    pub trace_patients: u64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            seed: 1,
            years: 30,
            step_months: 1,
            replicates: 1,
            streams: Streams::Common,
            chunk_size: 1024,
            trace_patients: 0,
        }
    }
}

impl Settings {
    /// The engine's key of `arm` in `replicate`.
    pub fn run_key(&self, arm: usize, replicate: u32) -> RunKey {
        let seed = match self.streams {
            Streams::Common => self.seed,
            Streams::Independent => self
                .seed
                .wrapping_add(INDEPENDENT_SEED_STRIDE.wrapping_mul(arm as u64)),
        };
        RunKey { seed, replicate }
    }

    /// The key of the parameter draws of `replicate` (the same in every arm).
    pub fn draw_key(&self, replicate: u32) -> RunKey {
        RunKey {
            seed: self.seed,
            replicate,
        }
    }

    fn engine(&self) -> engine::RunSettings {
        engine::RunSettings {
            years: self.years,
            step_months: self.step_months,
            chunk_size: self.chunk_size.max(1),
            trace_patients: self.trace_patients,
        }
    }
}

/// A model a study can run: the engine's [`Model`], plus how it is redrawn for one
/// replicate of a probabilistic sensitivity analysis.
pub trait StudyModel: Model + Sized {
    /// The model of one replicate, with `draws` redrawn from their distributions keyed by
    /// `key` (an empty list keeps every parameter).
    fn for_replicate(&self, key: RunKey, draws: &[ParamDraw]) -> Result<Self, ParamError>;
    /// The step lengths (months) the model is validated for.
    fn step_months(&self) -> &'static [u32] {
        &[1, 2, 3, 4, 6, 12]
    }
}

impl StudyModel for HealthModel {
    fn for_replicate(&self, key: RunKey, draws: &[ParamDraw]) -> Result<Self, ParamError> {
        HealthModel::for_replicate(self, key, draws)
    }
    fn step_months(&self) -> &'static [u32] {
        &models::STEP_MONTHS
    }
}

/// One arm: a named model (a scenario, a trial arm).
#[derive(Clone, Debug)]
pub struct Arm<M> {
    pub name: String,
    pub model: M,
}

/// How a study's people are divided among its arms.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub enum Allocation {
    /// Every arm runs on every person (paired: common random numbers make differences the
    /// arms' effects).
    #[default]
    Paired,
    /// Each person is in one arm, drawn per replicate with these weights (one per arm) by a
    /// draw keyed by (seed, replicate, person): one pool split afresh in every replicate, so
    /// replicates carry the sampling variability of an individually randomised trial.
    Randomised { weights: Vec<u32> },
    /// Each person runs in the arms of their mask (`masks[i]` for the population's person
    /// `i`; bit `a` set: arm `a`, so at most 64 arms), with common random numbers as when
    /// paired: an arm that does not concern a person skips them. A person's path in an arm
    /// is the one they have when paired as long as no programme of the arm has a capacity
    /// limit (the only coupling between people).
    Selected { masks: Vec<u64> },
}

/// The keyed allocation draw.
const ALLOCATION: engine::rng::Process = engine::rng::Process::named("study.allocation");

impl Allocation {
    /// The arm of person `id` in `replicate` (always `Some(arm)` when paired: every arm).
    pub fn arm_of(&self, settings: &Settings, replicate: u32, id: u64) -> Option<usize> {
        match self {
            Allocation::Paired | Allocation::Selected { .. } => None,
            Allocation::Randomised { weights } => {
                let total: u64 = weights.iter().map(|&w| u64::from(w)).sum();
                let key = engine::rng::StreamKey::new(settings.draw_key(replicate), ALLOCATION);
                let u = engine::rng::Stream::new(key, id, 0).uniform() * total as f64;
                let mut acc = 0.0;
                for (a, &w) in weights.iter().enumerate() {
                    acc += f64::from(w);
                    if u < acc {
                        return Some(a);
                    }
                }
                Some(weights.len() - 1)
            }
        }
    }
}

/// An experiment: arms on one population over replicates (see the module documentation).
#[derive(Clone, Debug)]
pub struct Study<M> {
    pub arms: Vec<Arm<M>>,
    /// The simulated people (ids are the keys of their draws).
    pub population: Vec<Baseline>,
    pub settings: Settings,
    /// Parameters redrawn per replicate (probabilistic sensitivity analysis); empty: none.
    pub draws: Vec<ParamDraw>,
    /// Who runs in which arm.
    pub allocation: Allocation,
}

/// Why a study cannot run.
#[derive(Debug, thiserror::Error)]
pub enum StudyError {
    #[error("a study needs at least one arm")]
    NoArms,
    #[error("a study needs at least one person")]
    NoPeople,
    #[error("a study needs at least one replicate and one year")]
    Empty,
    #[error("step of {step} months: the model of arm `{arm}` is validated for steps of {supported:?} months")]
    Step {
        step: u32,
        arm: String,
        supported: &'static [u32],
    },
    #[error("randomised allocation needs one positive weight per arm ({arms} arms, weights {weights:?})")]
    Weights { arms: usize, weights: Vec<u32> },
    #[error("selected allocation needs one mask per person ({people} people, {masks} masks) and at most 64 arms ({arms})")]
    Masks {
        people: usize,
        masks: usize,
        arms: usize,
    },
    #[error("trial: {0}")]
    Trial(String),
    #[error("parameter draw for replicate {replicate}: {source}")]
    Draw {
        replicate: u32,
        #[source]
        source: ParamError,
    },
}

/// Where a run is, handed to the reducer with its results.
pub struct RunContext<'a, M: Model> {
    /// Position of the arm in [`Study::arms`].
    pub arm: usize,
    pub arm_name: &'a str,
    pub replicate: u32,
    /// The engine's key of this run.
    pub key: RunKey,
    /// The model of this run (with this replicate's parameter draws).
    pub model: &'a M,
    /// Every person's state at the end of the run (the dead keep their state at death).
    pub patients: &'a [Patient<M::State>],
    /// Wall-clock seconds of the simulation alone.
    pub seconds: f64,
}

/// Progress of a study, for a progress bar. Every method defaults to doing nothing.
pub trait Progress: Sync {
    /// A run starts (`replicate` is 0-based).
    fn run_started(&self, _arm: &str, _replicate: u32, _replicates: u32) {}
    /// `patient_years` more patient-years are done (called from worker threads).
    fn advanced(&self, _patient_years: u64) {}
}

/// No progress reporting.
impl Progress for () {}

/// What a study returns: per arm, the reducer's value of each replicate, in order.
#[derive(Clone, Debug)]
pub struct StudyResults<R> {
    pub arms: Vec<ArmResults<R>>,
}

#[derive(Clone, Debug)]
pub struct ArmResults<R> {
    pub name: String,
    /// One value per replicate, replicate 0 first.
    pub replicates: Vec<R>,
    /// Wall-clock seconds of simulation over all replicates.
    pub seconds: f64,
}

impl<M: StudyModel> Study<M> {
    /// Patient-years a progress bar counts towards (people × years × replicates × arms; the
    /// dead stop counting, so a bar ends a little short of it).
    pub fn total_patient_years(&self) -> u64 {
        self.population.len() as u64
            * u64::from(self.settings.years)
            * u64::from(self.settings.replicates)
            * self.arms.len() as u64
    }

    fn check(&self) -> Result<(), StudyError> {
        let s = &self.settings;
        if self.arms.is_empty() {
            return Err(StudyError::NoArms);
        }
        if self.population.is_empty() {
            return Err(StudyError::NoPeople);
        }
        if s.replicates == 0 || s.years == 0 {
            return Err(StudyError::Empty);
        }
        if let Allocation::Randomised { weights } = &self.allocation {
            if weights.len() != self.arms.len() || weights.contains(&0) {
                return Err(StudyError::Weights {
                    arms: self.arms.len(),
                    weights: weights.clone(),
                });
            }
        }
        if let Allocation::Selected { masks } = &self.allocation {
            if masks.len() != self.population.len() || self.arms.len() > 64 {
                return Err(StudyError::Masks {
                    people: self.population.len(),
                    masks: masks.len(),
                    arms: self.arms.len(),
                });
            }
        }
        for arm in &self.arms {
            let supported = arm.model.step_months();
            if !supported.contains(&s.step_months) {
                return Err(StudyError::Step {
                    step: s.step_months,
                    arm: arm.name.clone(),
                    supported,
                });
            }
        }
        Ok(())
    }
}

/// Runs every (replicate, arm) of `study` (replicates outer, arms inner) and returns, per
/// arm, what `reduce` made of each run. `reduce` may keep state across calls (it sees the
/// reference arm of a replicate before the others); an error from it stops the study.
pub fn run<M, R, E>(
    study: &Study<M>,
    progress: &dyn Progress,
    reduce: impl FnMut(&RunContext<'_, M>, ReplicateOutput<M::State>) -> Result<R, E>,
) -> Result<StudyResults<R>, E>
where
    M: StudyModel,
    E: From<StudyError>,
{
    run_replicates(study, 0..study.settings.replicates, progress, reduce)
}

/// [`run`] over the replicates `replicates` only (a subset of `0..settings.replicates`, for
/// a shard of a probabilistic sensitivity analysis that splits the draws): each replicate
/// is keyed exactly as in the whole study, so its results are the whole study's.
pub fn run_replicates<M, R, E>(
    study: &Study<M>,
    replicates: std::ops::Range<u32>,
    progress: &dyn Progress,
    reduce: impl FnMut(&RunContext<'_, M>, ReplicateOutput<M::State>) -> Result<R, E>,
) -> Result<StudyResults<R>, E>
where
    M: StudyModel,
    E: From<StudyError>,
{
    let key = |replicate| study.settings.draw_key(replicate);
    run_drawn_replicates(
        study,
        replicates,
        progress,
        |arm: &M, replicate| arm.for_replicate(key(replicate), &study.draws),
        reduce,
    )
}

/// [`run`] with the model of each (arm, replicate) made by `model_of` from the arm's model
/// instead of by [`Study::draws`]: a posterior sample's joint draw per replicate
/// (`compare --psa` with a posterior file, [`crate::posterior`]). `model_of` must depend
/// only on the arm's model and the replicate (never on call order), so results stay a
/// function of the seed.
pub fn run_drawn<M, R, E>(
    study: &Study<M>,
    progress: &dyn Progress,
    model_of: impl Fn(&M, u32) -> Result<M, ParamError>,
    reduce: impl FnMut(&RunContext<'_, M>, ReplicateOutput<M::State>) -> Result<R, E>,
) -> Result<StudyResults<R>, E>
where
    M: StudyModel,
    E: From<StudyError>,
{
    run_drawn_replicates(
        study,
        0..study.settings.replicates,
        progress,
        model_of,
        reduce,
    )
}

/// [`run_drawn`] over the replicates `replicates` only (see [`run_replicates`]).
pub fn run_drawn_replicates<M, R, E>(
    study: &Study<M>,
    replicates: std::ops::Range<u32>,
    progress: &dyn Progress,
    model_of: impl Fn(&M, u32) -> Result<M, ParamError>,
    reduce: impl FnMut(&RunContext<'_, M>, ReplicateOutput<M::State>) -> Result<R, E>,
) -> Result<StudyResults<R>, E>
where
    M: StudyModel,
    E: From<StudyError>,
{
    run_inner(
        study,
        replicates,
        progress,
        model_of,
        &WholePatient,
        None,
        reduce,
    )
}

/// Checkpoints inside a study's runs (`compare --checkpoint`, docs/shards.md): a run the
/// checkpoint holds finished is not simulated again (its reduced value comes from the
/// checkpoint), a run in progress starts from its last saved year, and the engine offers
/// the checkpoint each run's state at year boundaries ([`YearHook`]). `R` is what the
/// reducer makes of a run; `Row` the trace's rows.
pub trait RunCheckpoint<S, Row, R, E>: YearHook<S, Row, Error = E> {
    /// The reduced value of run (`replicate`, `arm`) if the checkpoint holds it finished.
    fn finished_run(&mut self, replicate: u32, arm: usize) -> Result<Option<R>, E>;
    /// Run (`replicate`, `arm`) starts, its fresh people in `patients`: the year the
    /// checkpoint saved of it, if any, with the people's states of then put into
    /// `patients`.
    fn start_run(
        &mut self,
        replicate: u32,
        arm: usize,
        patients: &mut [Patient<S>],
    ) -> Result<Option<YearStart<Row>>, E>;
    /// Run (`replicate`, `arm`) is finished and reduced to `value`.
    fn save_run(&mut self, replicate: u32, arm: usize, value: &R) -> Result<(), E>;
}

/// [`run_drawn_replicates`] with a checkpoint inside its runs ([`RunCheckpoint`]): the
/// results are those of [`run_drawn_replicates`] (a finished run's value is the
/// checkpoint's; its simulation seconds count as 0).
pub fn run_drawn_checkpointed<M, R, E>(
    study: &Study<M>,
    replicates: std::ops::Range<u32>,
    progress: &dyn Progress,
    model_of: impl Fn(&M, u32) -> Result<M, ParamError>,
    checkpoint: &mut dyn RunCheckpoint<M::State, Patient<M::State>, R, E>,
    reduce: impl FnMut(&RunContext<'_, M>, ReplicateOutput<M::State>) -> Result<R, E>,
) -> Result<StudyResults<R>, E>
where
    M: StudyModel,
    E: From<StudyError>,
{
    run_inner(
        study,
        replicates,
        progress,
        model_of,
        &WholePatient,
        Some(checkpoint),
        reduce,
    )
}

/// [`run`] with the trace (`Settings::trace_patients`) keeping what `trace` makes of each
/// traced person at each census instead of the whole person (a caller that reads a few
/// fields of the trace saves a large copy per person-year). Nothing else changes.
pub fn run_traced<M, T, R, E>(
    study: &Study<M>,
    progress: &dyn Progress,
    trace: &T,
    reduce: impl FnMut(&RunContext<'_, M>, ReplicateOutput<M::State, T::Row>) -> Result<R, E>,
) -> Result<StudyResults<R>, E>
where
    M: StudyModel,
    T: Trace<M::State>,
    E: From<StudyError>,
{
    let key = |replicate| study.settings.draw_key(replicate);
    run_inner(
        study,
        0..study.settings.replicates,
        progress,
        |arm: &M, replicate| arm.for_replicate(key(replicate), &study.draws),
        trace,
        None,
        reduce,
    )
}

/// The loop itself (every public `run…` comes here).
fn run_inner<M, T, R, E>(
    study: &Study<M>,
    replicates: std::ops::Range<u32>,
    progress: &dyn Progress,
    model_of: impl Fn(&M, u32) -> Result<M, ParamError>,
    trace: &T,
    mut checkpoint: Option<&mut dyn RunCheckpoint<M::State, T::Row, R, E>>,
    mut reduce: impl FnMut(&RunContext<'_, M>, ReplicateOutput<M::State, T::Row>) -> Result<R, E>,
) -> Result<StudyResults<R>, E>
where
    M: StudyModel,
    T: Trace<M::State>,
    E: From<StudyError>,
{
    study.check()?;
    let s = &study.settings;
    if replicates.end > s.replicates || replicates.is_empty() {
        return Err(StudyError::Empty.into());
    }
    let mut results = StudyResults {
        arms: study
            .arms
            .iter()
            .map(|a| ArmResults {
                name: a.name.clone(),
                replicates: Vec::with_capacity(replicates.len()),
                seconds: 0.0,
            })
            .collect(),
    };
    let advanced = |n: usize| progress.advanced(n as u64);
    // One population buffer for every arm and replicate.
    let mut patients = Vec::new();
    for replicate in replicates {
        for (a, arm) in study.arms.iter().enumerate() {
            if let Some(ck) = checkpoint.as_deref_mut() {
                if let Some(value) = ck.finished_run(replicate, a)? {
                    results.arms[a].replicates.push(value);
                    continue;
                }
            }
            progress.run_started(&arm.name, replicate, s.replicates);
            let key = s.run_key(a, replicate);
            let model = model_of(&arm.model, replicate)
                .map_err(|source| StudyError::Draw { replicate, source })?;
            let t0 = Instant::now();
            let members;
            let population = match study.allocation {
                Allocation::Paired => &study.population[..],
                Allocation::Randomised { .. } => {
                    members = study
                        .population
                        .iter()
                        .filter(|b| study.allocation.arm_of(s, replicate, b.id) == Some(a))
                        .copied()
                        .collect::<Vec<_>>();
                    &members[..]
                }
                Allocation::Selected { ref masks } => {
                    members = study
                        .population
                        .iter()
                        .zip(masks)
                        .filter(|(_, m)| *m >> a & 1 == 1)
                        .map(|(b, _)| *b)
                        .collect::<Vec<_>>();
                    &members[..]
                }
            };
            init_patients_into(&model, key, population, &mut patients);
            let start = match checkpoint.as_deref_mut() {
                Some(ck) => ck.start_run(replicate, a, &mut patients)?,
                None => None,
            };
            let out = simulate_from(
                &model,
                &s.engine(),
                key,
                &mut patients,
                &advanced,
                trace,
                start,
                checkpoint.as_deref_mut(),
            )?;
            let seconds = t0.elapsed().as_secs_f64();
            let ctx = RunContext {
                arm: a,
                arm_name: &arm.name,
                replicate,
                key,
                model: &model,
                patients: &patients,
                seconds,
            };
            let value = reduce(&ctx, out)?;
            if let Some(ck) = checkpoint.as_deref_mut() {
                ck.save_run(replicate, a, &value)?;
            }
            let r = &mut results.arms[a];
            r.replicates.push(value);
            r.seconds += seconds;
        }
    }
    Ok(results)
}

/// [`run`] keeping each run's aggregates (the summary tables of `healthtwin run`).
pub fn run_aggregates<M: StudyModel>(
    study: &Study<M>,
    progress: &dyn Progress,
) -> Result<StudyResults<Aggregator>, StudyError> {
    run(study, progress, |_, out| Ok(out.aggregate))
}
