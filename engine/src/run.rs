//! The step loop: the only place where simulated time advances.

use rayon::prelude::*;

use crate::observe::{
    age_band, builtin, metric_defs, to_fixed, Aggregator, FixedYears, MetricDef, Recorder,
};
use crate::patient::{Baseline, Death, Patient};
use crate::rng::{Process, RunKey, Stream, StreamKey};

/// Most causes of death a model may name (the hazards are kept in a fixed-size array).
pub const MAX_CAUSES: usize = 8;

const MORTALITY: Process = Process::named("engine.mortality");
/// The Exp(1) mortality budget of each person ([`Patient::hazard_left`]).
const MORTALITY_BUDGET: Process = Process::named("engine.mortality.budget");

/// Where the loop is: passed to every phase.
#[derive(Clone, Copy, Debug)]
pub struct StepCtx {
    pub run: RunKey,
    /// Global step index (0-based) since the start of the run.
    pub step: u32,
    /// Simulation year index (0-based).
    pub year: u32,
    /// Time at the start of the step, years since the start of the run.
    pub t_years: f64,
    pub dt_years: f64,
}

impl StepCtx {
    /// The draws of `process` for patient `patient` at this step.
    #[inline]
    pub fn stream(&self, process: Process, patient: u64) -> Stream {
        Stream::new(StreamKey::new(self.run, process), patient, self.step)
    }

    /// The draws of `process` for patient `patient` keyed by another clock than the step
    /// (a process updated quarterly keys its draws by the quarter, so they do not depend on
    /// the step length or on which step happens to do the update).
    #[inline]
    pub fn stream_at(&self, process: Process, patient: u64, tick: u32) -> Stream {
        Stream::new(StreamKey::new(self.run, process), patient, tick)
    }

    /// Months from the start of the run to the end of this step.
    #[inline]
    pub fn end_month(&self) -> u32 {
        crate::math::round_to_i64((self.t_years + self.dt_years) * 12.0) as u32
    }
}

/// A disease model as the engine sees it: pure functions of patient state and parameters,
/// called in the fixed phase order of [`simulate`]. Every phase defaults to doing nothing.
pub trait Model: Sync {
    /// Per-patient dynamic state owned by the model (disease stages, physiology, ...).
    type State: Clone + Send + Sync;
    /// What the per-person preparation of a year's population-level decisions collects
    /// ([`Model::prepare`]); `()` for a model without such decisions.
    type YearPrep: Send + Default;

    /// Names of the causes of death the model distinguishes (at most [`MAX_CAUSES`]).
    fn causes_of_death(&self) -> &[&'static str];
    /// The model's own metrics (indices used with [`Recorder`]).
    fn metrics(&self) -> Vec<MetricDef> {
        Vec::new()
    }
    fn init(&self, run: RunKey, baseline: &Baseline) -> Self::State;

    fn risk_factors(&self, _ctx: &StepCtx, _p: &mut Patient<Self::State>, _rec: &mut Recorder) {}
    fn physiology(&self, _ctx: &StepCtx, _p: &mut Patient<Self::State>, _rec: &mut Recorder) {}
    fn events(&self, _ctx: &StepCtx, _p: &mut Patient<Self::State>, _rec: &mut Recorder) {}
    /// What the step's outcome is worth, once its events have happened: utilities, costs and
    /// other bookkeeping that reads the state and never changes what happens next.
    fn accounting(&self, _ctx: &StepCtx, _p: &mut Patient<Self::State>, _rec: &mut Recorder) {}
    /// Cause-specific death hazards per year for this step, into `hazards[cause]`.
    fn mortality_hazards(
        &self,
        ctx: &StepCtx,
        p: &Patient<Self::State>,
        hazards: &mut [f64; MAX_CAUSES],
    );
    /// The yearly census of a living person: the model's prevalence and mean metrics.
    fn census(&self, _p: &Patient<Self::State>, _rec: &mut Recorder) {}
    /// Population-level decisions at the start of each year (for example allocating the
    /// year's programme places among eligible people). Called once per year with the whole
    /// population; it may use parallelism inside, but its result must not depend on it.
    ///
    /// `prepared` holds the merged [`Model::prepare`] results of every person alive at the
    /// end of the previous year, when the engine made them (from year 1 on, if
    /// [`Model::prepares`]); `None` otherwise, and the model does that work itself.
    fn start_of_year(
        &self,
        _run: RunKey,
        _year: u32,
        _patients: &mut [Patient<Self::State>],
        _prepared: Option<Self::YearPrep>,
    ) {
    }
    /// Whether the engine should call [`Model::prepare`] (default: no).
    fn prepares(&self) -> bool {
        false
    }
    /// The per-person part of [`Model::start_of_year`] for `year`: the engine calls it for
    /// every person alive after their last step of the year before, while their state is
    /// still in cache, instead of the model making a pass of its own over the population.
    /// `index` is the person's position in the population. The result must depend only on
    /// the person, `run`, `year` and `index`, not on the order of the calls; a person's
    /// preparation may change only that person.
    fn prepare(
        &self,
        _run: RunKey,
        _year: u32,
        _index: usize,
        _p: &mut Patient<Self::State>,
        _acc: &mut Self::YearPrep,
    ) {
    }
    /// Merges two preparations (of disjoint sets of people).
    fn merge_prep(&self, _into: &mut Self::YearPrep, _other: Self::YearPrep) {}
}

/// How a run is laid out in time and work units. `years` and `step_months` change results;
/// `chunk_size` only changes scheduling. The seed and replicate are not here: they are the
/// [`RunKey`] passed to [`simulate`], the one carrier of a run's randomness.
#[derive(Clone, Copy, Debug)]
pub struct RunSettings {
    pub years: u32,
    pub step_months: u32,
    pub chunk_size: usize,
    /// Record yearly trajectories for patients with `id < trace_patients`.
    pub trace_patients: u64,
}

impl RunSettings {
    pub fn steps_per_year(&self) -> u32 {
        12 / self.step_months
    }
    pub fn dt_years(&self) -> f64 {
        f64::from(self.step_months) / 12.0
    }
}

/// One row of a yearly trajectory: what a [`Trace`] keeps of a person at a census.
#[derive(Clone, Debug)]
pub struct Traced<R> {
    pub patient: u64,
    pub year: u32,
    pub patient_state: R,
}

/// One row of a yearly trajectory of whole persons (the default [`Trace`], [`WholePatient`]).
pub type TraceRow<S> = Traced<Patient<S>>;

/// What the yearly trajectory keeps of a traced person at each census (the state before the
/// year's first step, as [`Model::census`] sees it). A caller that reads a few fields keeps
/// only those: a whole person is a large copy per person-year.
pub trait Trace<S>: Sync {
    type Row: Send;
    fn row(&self, p: &Patient<S>) -> Self::Row;
}

/// The whole person (the trace of [`simulate`]).
#[derive(Clone, Copy, Debug, Default)]
pub struct WholePatient;

impl<S: Clone + Send> Trace<S> for WholePatient {
    type Row = Patient<S>;
    #[inline]
    fn row(&self, p: &Patient<S>) -> Patient<S> {
        p.clone()
    }
}

/// What one replicate produces besides the final patient states: the aggregates and the
/// trace rows (of type `R`, whole persons by default) in (patient, year) order.
#[derive(Clone, Debug)]
pub struct ReplicateOutput<S, R = Patient<S>> {
    pub aggregate: Aggregator,
    pub trace: Vec<Traced<R>>,
    state: std::marker::PhantomData<fn() -> S>,
}

/// Fresh patients for a replicate.
pub fn init_patients<M: Model>(
    model: &M,
    run: RunKey,
    cohort: &[Baseline],
) -> Vec<Patient<M::State>> {
    let mut patients = Vec::new();
    init_patients_into(model, run, cohort, &mut patients);
    patients
}

/// [`init_patients`] into `patients`, reusing its memory (a run of several scenarios or
/// replicates then touches fresh memory once, not once per scenario).
pub fn init_patients_into<M: Model>(
    model: &M,
    run: RunKey,
    cohort: &[Baseline],
    patients: &mut Vec<Patient<M::State>>,
) {
    cohort
        .par_iter()
        .map(|b| Patient {
            baseline: *b,
            age_years: b.age_years,
            now: b.covariates,
            death: None,
            hazard_left: Stream::new(StreamKey::new(run, MORTALITY_BUDGET), b.id, 0).exp1(),
            state: model.init(run, b),
        })
        .collect_into_vec(patients);
}

/// Runs one replicate over `patients` (from [`init_patients`]) and returns its aggregates.
///
/// Phase order of every step, for every living patient (the only loop in healthtwin); what
/// each phase does in healthtwin's coupled model (`models::HealthModel`):
///
/// 1. **risk factors** ([`Model::risk_factors`]): the covariates move. At the person's
///    check-up month, a year of blood-pressure, lipid, BMI and smoking trajectory, the
///    check-up and usual care starting or stepping up blood-pressure drugs and statins;
///    intervention programmes starting, stopping and acting on their inputs (drugs, weight,
///    activity); a prevention arm's weight and activity;
/// 2. **physiology** ([`Model::physiology`]): continuous dynamics over the step (the glucose
///    physiology: β-cell mass, capacity, HbA1c and fasting glucose);
/// 3. **disease events** ([`Model::events`]): diabetes onset, diagnosis, treatment ladder,
///    kidney disease and complications; cardiovascular events and their case fatality;
///    frailty deficits and long-term-care certification;
/// 4. **accounting** ([`Model::accounting`]): what the step was worth after its events:
///    utility, medical and programme costs (and first entry into frailty); it changes no
///    later outcome;
/// 5. **mortality** ([`Model::mortality_hazards`]): competing cause-specific hazards (life
///    table net of the causes modelled, excess of diabetes, of frailty, cardiovascular
///    deaths) spend the person's Exp(1) budget of cumulative hazard
///    ([`Patient::hazard_left`]); the step that exhausts it holds the death, at the time it
///    runs out, and one draw picks the cause;
/// 6. **observers**: person-time, deaths and events into the year's aggregate; at the end
///    of a year, the census of the survivors for the next year ([`Model::census`]; the
///    first census is taken before the first step).
///
/// Around the loop: at the start of each year, [`Model::start_of_year`] runs once over the
/// whole population (its result independent of thread count), then patients are processed
/// in parallel chunks, each patient running all steps of the year while it is hot in cache,
/// and then, if the model [`Model::prepares`], its per-person part of the next year's
/// start ([`Model::prepare`]).
pub fn simulate<M: Model>(
    model: &M,
    settings: &RunSettings,
    run: RunKey,
    patients: &mut [Patient<M::State>],
    progress: &(dyn Fn(usize) + Sync),
) -> ReplicateOutput<M::State> {
    simulate_traced(model, settings, run, patients, progress, &WholePatient)
}

/// [`simulate`] keeping of each traced person at each census what `trace` makes of them.
/// Results other than the trace do not depend on `trace`.
pub fn simulate_traced<M: Model, T: Trace<M::State>>(
    model: &M,
    settings: &RunSettings,
    run: RunKey,
    patients: &mut [Patient<M::State>],
    progress: &(dyn Fn(usize) + Sync),
    trace: &T,
) -> ReplicateOutput<M::State, T::Row> {
    match simulate_from(
        model,
        settings,
        run,
        patients,
        progress,
        trace,
        None,
        None::<&mut NoHook>,
    ) {
        Ok(out) => out,
        Err(never) => match never {},
    }
}

/// A replicate at a year boundary: after `years_done` years, before the next year's
/// [`Model::start_of_year`] (what a checkpoint saves and a resumed run starts from, with
/// the patients' states of that moment in the run's slice).
#[derive(Clone, Debug)]
pub struct YearStart<R> {
    pub years_done: u32,
    /// The aggregates of the years done (in the run's shape: later years are zero).
    pub aggregate: Aggregator,
    /// The trace rows of each year done, in year order, each sorted by patient.
    pub trace: Vec<Vec<Traced<R>>>,
}

/// What the step loop hands a checkpoint at year boundaries ([`simulate_from`]).
pub trait YearHook<S, R> {
    type Error;
    /// Whether to save the state after year `year` (0-based): asked before the year runs,
    /// so that a saved year does not fuse the next year's [`Model::prepare`] into its
    /// people's last step (the saved state is the end of the year, before the next year's
    /// allocation, which [`Model::start_of_year`] then makes itself: the same bits).
    fn save_after(&mut self, year: u32) -> bool;
    /// The state after `at.years_done` years (`patients`: every person's state then).
    fn save(&mut self, at: &YearStart<R>, patients: &[Patient<S>]) -> Result<(), Self::Error>;
}

/// No checkpoint.
pub struct NoHook;

impl<S, R> YearHook<S, R> for NoHook {
    type Error = std::convert::Infallible;
    fn save_after(&mut self, _year: u32) -> bool {
        false
    }
    fn save(&mut self, _at: &YearStart<R>, _patients: &[Patient<S>]) -> Result<(), Self::Error> {
        Ok(())
    }
}

/// [`simulate_traced`] starting from `start` (a saved year boundary, the patients' states
/// of that moment already in `patients`; `None`: from year 0) and, with a `hook`, offering
/// it the state at each year boundary ([`YearHook`]). Without either it is
/// [`simulate_traced`]: no extra pass, no copy. Results do not depend on where a run
/// started or which years were saved.
#[allow(clippy::too_many_arguments)]
pub fn simulate_from<M: Model, T: Trace<M::State>, H: YearHook<M::State, T::Row> + ?Sized>(
    model: &M,
    settings: &RunSettings,
    run: RunKey,
    patients: &mut [Patient<M::State>],
    progress: &(dyn Fn(usize) + Sync),
    trace: &T,
    start: Option<YearStart<T::Row>>,
    mut hook: Option<&mut H>,
) -> Result<ReplicateOutput<M::State, T::Row>, H::Error> {
    let causes = model.causes_of_death();
    assert!(
        causes.len() <= MAX_CAUSES,
        "a model may name at most {MAX_CAUSES} causes"
    );
    let model_offset = builtin::DEATHS_BY_CAUSE + causes.len();
    let n_metrics = metric_defs(causes, &model.metrics()).len();
    let years = settings.years as usize;
    // The aggregates and the census rows of each year (each block sorted by patient).
    let mut at = start.unwrap_or_else(|| YearStart {
        years_done: 0,
        aggregate: Aggregator::new(years, n_metrics),
        trace: Vec::new(),
    });
    assert_eq!(
        (at.aggregate.years(), at.aggregate.metrics()),
        (years, n_metrics),
        "a year checkpoint of another run's shape"
    );
    let spy = settings.steps_per_year();
    let dt = settings.dt_years();
    let step_length = FixedYears::new(dt);
    let chunk = settings.chunk_size.max(1);

    let mut prepared: Option<M::YearPrep> = None;
    for year in at.years_done..settings.years {
        model.start_of_year(run, year, patients, prepared.take());
        let save = year + 1 < settings.years && hook.as_mut().is_some_and(|h| h.save_after(year));
        // The next year's per-person preparation, at the end of each person's year (not
        // in a year that is saved: its state is the year's end, before the allocation).
        let prepare_next = model.prepares() && year + 1 < settings.years && !save;
        let (agg, mut rows, prep) = patients
            .par_chunks_mut(chunk)
            .enumerate()
            .fold(
                || {
                    (
                        Aggregator::new(1, n_metrics),
                        Vec::new(),
                        M::YearPrep::default(),
                    )
                },
                |(mut agg, mut rows, mut prep), (c, people)| {
                    let traced = people
                        .iter()
                        .filter(|p| p.id() < settings.trace_patients)
                        .count();
                    rows.reserve(traced);
                    for j in 0..people.len() {
                        // The next person's state comes from memory while this one's year
                        // runs in cache (the census would otherwise wait for it).
                        if let Some(next) = people.get(j + 1) {
                            prefetch(next);
                        }
                        let p = &mut people[j];
                        if !p.alive() {
                            continue;
                        }
                        let base = agg.census(0, p);
                        model.census(p, &mut Recorder::new(agg.cells_mut(base), model_offset));
                        if p.id() < settings.trace_patients {
                            rows.push(Traced {
                                patient: p.id(),
                                year,
                                patient_state: trace.row(p),
                            });
                        }
                        for s in 0..spy {
                            let ctx = StepCtx {
                                run,
                                step: year * spy + s,
                                year,
                                t_years: f64::from(year * spy + s) * dt,
                                dt_years: dt,
                            };
                            step(model, &ctx, step_length, p, &mut agg, model_offset);
                            if !p.alive() {
                                break;
                            }
                        }
                        if prepare_next && p.alive() {
                            model.prepare(run, year + 1, c * chunk + j, p, &mut prep);
                        }
                    }
                    progress(people.len());
                    (agg, rows, prep)
                },
            )
            .reduce(
                || {
                    (
                        Aggregator::new(1, n_metrics),
                        Vec::new(),
                        M::YearPrep::default(),
                    )
                },
                |(mut a, mut ra, mut pa), (b, rb, pb)| {
                    a.merge(&b);
                    ra.extend(rb);
                    model.merge_prep(&mut pa, pb);
                    (a, ra, pa)
                },
            );
        if prepare_next {
            prepared = Some(prep);
        }
        at.aggregate.merge_year(year as usize, &agg);
        rows.sort_by_key(|r| r.patient);
        at.trace.push(rows);
        at.years_done = year + 1;
        if save {
            if let Some(h) = hook.as_mut() {
                h.save(&at, patients)?;
            }
        }
    }
    Ok(ReplicateOutput {
        aggregate: at.aggregate,
        trace: merge_by_patient(at.trace, |r| r.patient),
        state: std::marker::PhantomData,
    })
}

/// Year blocks of census rows (in year order, each sorted by patient, a patient at most
/// once per block) as one list in (patient, year) order. Each row is moved once: sorting
/// the concatenation moved these large rows several times.
fn merge_by_patient<T>(blocks: Vec<Vec<T>>, patient: impl Fn(&T) -> u64) -> Vec<T> {
    let total = blocks.iter().map(Vec::len).sum();
    let mut out = Vec::with_capacity(total);
    let mut heads: Vec<_> = blocks
        .into_iter()
        .map(|b| b.into_iter().peekable())
        .collect();
    // The smallest patient at the blocks' heads, then its rows in year order.
    while let Some(p) = heads
        .iter_mut()
        .filter_map(|h| h.peek().map(&patient))
        .min()
    {
        for h in &mut heads {
            if let Some(r) = h.next_if(|r| patient(r) == p) {
                out.push(r);
            }
        }
    }
    out
}

/// Asks the processor to bring `x` into cache (a hint: no effect on results; a no-op where
/// no stable prefetch instruction is available).
#[inline(always)]
fn prefetch<T>(x: &T) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        let start = (x as *const T).cast::<i8>();
        let mut offset = 0;
        while offset < std::mem::size_of::<T>() {
            // SAFETY: prefetch is a hint that never faults, and the address is inside `x`.
            unsafe { _mm_prefetch::<_MM_HINT_T0>(start.wrapping_add(offset)) };
            offset += 64;
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = x;
}

/// Phases 1–6 for one living patient and one step (`step_length` is `ctx.dt_years`).
#[inline]
fn step<M: Model>(
    model: &M,
    ctx: &StepCtx,
    step_length: FixedYears,
    p: &mut Patient<M::State>,
    agg: &mut Aggregator,
    model_offset: usize,
) {
    let base = agg.cell_base(0, p.sex(), age_band(p.age_years));
    let cells = agg.cells_mut(base);
    {
        let mut rec = Recorder::with_step(cells, model_offset, step_length);
        model.risk_factors(ctx, p, &mut rec);
        model.physiology(ctx, p, &mut rec);
        model.events(ctx, p, &mut rec);
        model.accounting(ctx, p, &mut rec);
    }

    // Mortality: competing risks with constant hazards within the step. The person dies in
    // the step whose cumulative hazard exhausts their budget, at the time it runs out.
    let mut hazards = [0.0; MAX_CAUSES];
    model.mortality_hazards(ctx, p, &mut hazards);
    let total: f64 = hazards.iter().sum();
    let spent = total * ctx.dt_years;
    let died = total > 0.0 && spent >= p.hazard_left;
    let exposure = if died {
        p.hazard_left / total
    } else {
        p.hazard_left -= spent;
        ctx.dt_years
    };

    // Observers.
    let t = if died {
        to_fixed(exposure)
    } else {
        step_length.fixed()
    };
    cells[builtin::PERSON_YEARS].num += t;
    cells[builtin::DEATHS].den += t;
    let n_causes = model.causes_of_death().len();
    for a in &mut cells[builtin::DEATHS_BY_CAUSE..builtin::DEATHS_BY_CAUSE + n_causes] {
        a.den += t;
    }
    if died {
        // The cause, in proportion to the cause-specific hazards (a draw only at death).
        let pick = ctx.stream(MORTALITY, p.id()).uniform() * total;
        let mut cause = 0;
        let mut acc = hazards[0];
        while acc < pick && cause + 1 < n_causes {
            cause += 1;
            acc += hazards[cause];
        }
        cells[builtin::DEATHS].num += 1;
        cells[builtin::DEATHS_BY_CAUSE + cause].num += 1;
        p.death = Some(Death {
            time_years: ctx.t_years + exposure,
            cause: cause as u8,
        });
    }
    p.age_years += exposure;
}

#[cfg(test)]
mod tests {
    use super::merge_by_patient;

    #[test]
    fn year_blocks_merge_into_patient_then_year_order() {
        // (patient, year): patients die (2 after year 0, 0 after year 1), ids not contiguous.
        let blocks: Vec<Vec<(u64, u32)>> = vec![
            vec![(0, 0), (2, 0), (5, 0), (9, 0)],
            vec![(0, 1), (5, 1), (9, 1)],
            vec![(5, 2), (9, 2)],
        ];
        let mut want: Vec<(u64, u32)> = blocks.concat();
        want.sort_by_key(|r| (r.0, r.1));
        assert_eq!(merge_by_patient(blocks, |r| r.0), want);
        assert!(merge_by_patient(Vec::<Vec<(u64, u32)>>::new(), |r| r.0).is_empty());
    }
}
