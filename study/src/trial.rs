//! Virtual trials on the study runner: a [`Design`] (eligibility on the people's state at
//! entry, recruitment, allocation, arms as programme plans, follow-up, ascertainment,
//! outcomes) is screened ([`screen`]) and run ([`run`]) through [`crate::runner::run`], the
//! one replicate × arm loop, with the coupled model recording each person's first-event
//! months ([`models::trial`]); each run is reduced to person-level times to event, then
//! analysed per replicate (events, person-years, rates, Kaplan–Meier cumulative incidence
//! with Greenwood intervals, Cox hazard ratios, rate ratios, RRR, NNT) and summarised over
//! replicates ([`TrialResults`]).
//!
//! The trial's people are the same people in every replicate: their state at entry (the
//! model's initialisation, latent physiology included) is drawn once, with replicate 0's
//! key, so the person screened is the person followed ([`TrialModel`]); replicates differ in
//! everything that happens after entry and, under randomised allocation, in who is in which
//! arm. Paired allocation runs every arm on every person (common random numbers).
//!
//! Must never: print, read files, or keep more than O(people × outcomes) per run.

use engine::observe::{MetricDef, Recorder};
use engine::rng::{Process, Stream, StreamKey};
use engine::{Baseline, Model, Patient, RunKey, StepCtx, MAX_CAUSES};
use models::interventions::{InterventionError, YearPrep};
use models::params::{ParamDraw, ParamError};
use models::trial::{event, Ascertainment, Eligibility, GlucoseCategory};
pub use models::trial::{EventKind, FollowUp, OutcomeDef, Recruitment, TrialArm};
use models::{HealthModel, PersonState};
use rayon::prelude::*;

use crate::runner::{self, Allocation, Arm, Progress, Settings, Study, StudyError, StudyModel};
use crate::survival::{self, Observation, Ties};

/// A trial, validated.
#[derive(Clone, Debug)]
pub struct Design {
    pub name: String,
    /// The model with the trial's parameter overrides (no programmes, no trial set yet).
    pub model: HealthModel,
    pub eligibility: Eligibility,
    pub recruitment: Recruitment,
    /// Paired (every arm on every person) or randomised (weights, one per arm).
    pub allocation: Allocation,
    /// The first arm is the reference of every comparison.
    pub arms: Vec<TrialArm>,
    pub follow_up: FollowUp,
    pub ascertainment: Ascertainment,
    pub outcomes: Vec<OutcomeDef>,
    pub seed: u64,
    pub replicates: u32,
    pub step_months: u32,
}

impl Design {
    /// Whole years simulated: enough to cover the longest follow-up.
    pub fn years(&self) -> u32 {
        self.follow_up.months.div_ceil(12).max(1)
    }

    /// The model of arm `a`: the trial's model with the arm's programmes and the trial's
    /// ascertainment.
    pub fn arm_model(&self, a: usize) -> Result<TrialModel, InterventionError> {
        let mut m = self.model.clone();
        m.set_interventions(self.arms[a].programmes.clone())?;
        m.set_trial(Some(self.ascertainment));
        Ok(TrialModel { model: m })
    }
}

/// The coupled model as a trial runs it: every phase the coupled model's, except that the
/// state at entry is drawn with replicate 0's key in every replicate (the person screened is
/// the person followed; see the module documentation).
#[derive(Clone, Debug)]
pub struct TrialModel {
    pub model: HealthModel,
}

impl TrialModel {
    fn entry_key(run: RunKey) -> RunKey {
        RunKey {
            seed: run.seed,
            replicate: 0,
        }
    }
}

impl Model for TrialModel {
    type State = PersonState;
    type YearPrep = YearPrep;
    fn causes_of_death(&self) -> &[&'static str] {
        self.model.causes_of_death()
    }
    fn metrics(&self) -> Vec<MetricDef> {
        self.model.metrics()
    }
    fn init(&self, run: RunKey, b: &Baseline) -> PersonState {
        self.model.init(Self::entry_key(run), b)
    }
    #[inline]
    fn risk_factors(&self, ctx: &StepCtx, p: &mut Patient<PersonState>, rec: &mut Recorder) {
        self.model.risk_factors(ctx, p, rec)
    }
    #[inline]
    fn physiology(&self, ctx: &StepCtx, p: &mut Patient<PersonState>, rec: &mut Recorder) {
        self.model.physiology(ctx, p, rec)
    }
    #[inline]
    fn events(&self, ctx: &StepCtx, p: &mut Patient<PersonState>, rec: &mut Recorder) {
        self.model.events(ctx, p, rec)
    }
    #[inline]
    fn accounting(&self, ctx: &StepCtx, p: &mut Patient<PersonState>, rec: &mut Recorder) {
        self.model.accounting(ctx, p, rec)
    }
    #[inline]
    fn mortality_hazards(
        &self,
        ctx: &StepCtx,
        p: &Patient<PersonState>,
        hazards: &mut [f64; MAX_CAUSES],
    ) {
        self.model.mortality_hazards(ctx, p, hazards)
    }
    fn census(&self, p: &Patient<PersonState>, rec: &mut Recorder) {
        self.model.census(p, rec)
    }
    fn start_of_year(
        &self,
        run: RunKey,
        year: u32,
        patients: &mut [Patient<PersonState>],
        prepared: Option<YearPrep>,
    ) {
        self.model.start_of_year(run, year, patients, prepared)
    }
    fn prepares(&self) -> bool {
        self.model.prepares()
    }
    fn prepare(
        &self,
        run: RunKey,
        year: u32,
        index: usize,
        p: &mut Patient<PersonState>,
        acc: &mut YearPrep,
    ) {
        self.model.prepare(run, year, index, p, acc)
    }
    fn merge_prep(&self, into: &mut YearPrep, other: YearPrep) {
        self.model.merge_prep(into, other)
    }
}

impl StudyModel for TrialModel {
    fn for_replicate(&self, key: RunKey, draws: &[ParamDraw]) -> Result<Self, ParamError> {
        Ok(TrialModel {
            model: self.model.for_replicate(key, draws)?,
        })
    }
    fn step_months(&self) -> &'static [u32] {
        &models::STEP_MONTHS
    }
}

const CONSENT: Process = Process::named("trial.consent");
const FOLLOW_UP: Process = Process::named("trial.follow_up");

/// Baseline characteristics reported per arm (name, value of a person at entry).
pub const BASELINE_VARIABLES: [&str; 14] = [
    "age_years",
    "female",
    "bmi_kg_m2",
    "fpg_mg_dl",
    "glucose_2h_mg_dl",
    "igt",
    "hba1c_pct",
    "sbp_mmhg",
    "ldl_mg_dl",
    "egfr_ml_min",
    "current_smoker",
    "diabetes",
    "frailty_index",
    "frail_or_prefrail",
];

/// Who was screened, found eligible and enrolled, and the enrolled people's values at entry
/// (one row per person, [`BASELINE_VARIABLES`] order).
#[derive(Clone, Debug)]
pub struct Screening {
    pub screened: usize,
    pub eligible: usize,
    pub consented: usize,
    pub enrolled: Vec<Baseline>,
    pub baseline: Vec<[f64; BASELINE_VARIABLES.len()]>,
}

/// Screens `candidates` (their state at entry from the reference arm's model) and enrols the
/// eligible people who consent, up to the target.
pub fn screen(design: &Design, candidates: &[Baseline]) -> Result<Screening, InterventionError> {
    let model = design.arm_model(0)?;
    let key = RunKey {
        seed: design.seed,
        replicate: 0,
    };
    let dm = model.model.diabetes();
    let rows: Vec<(bool, bool, Baseline, [f64; BASELINE_VARIABLES.len()])> = candidates
        .par_iter()
        .map(|b| {
            let p = Patient {
                baseline: *b,
                age_years: b.age_years,
                now: b.covariates,
                death: None,
                hazard_left: f64::INFINITY,
                state: model.init(key, b),
            };
            let eligible = design.eligibility.accepts(dm, &p);
            if !eligible {
                return (false, false, *b, [0.0; BASELINE_VARIABLES.len()]);
            }
            let consent = Stream::new(StreamKey::new(key, CONSENT), b.id, 0).uniform()
                < design.recruitment.consent;
            let st = &p.state;
            let g2 = dm.glucose_2h_mg_dl(&st.dm, p.age_years, &p.now);
            let c = &b.covariates;
            let flag = |x: bool| f64::from(u8::from(x));
            let igt = matches!(
                GlucoseCategory::of(st.dm.fpg_mg_dl, g2),
                GlucoseCategory::Igt | GlucoseCategory::IfgIgt
            );
            let values = [
                b.age_years,
                flag(b.sex.index() == 1),
                c.bmi_kg_m2,
                st.dm.fpg_mg_dl,
                g2,
                flag(igt),
                c.hba1c_pct,
                c.sbp_mmhg,
                c.ldl_mg_dl,
                c.egfr_ml_min,
                flag(c.smoker),
                flag(st.dm.has_diabetes()),
                st.fr.fi(),
                flag(st.fr.phenotype() != models::frailty::kcl::Phenotype::Robust),
            ];
            (true, consent, *b, values)
        })
        .collect();
    let eligible = rows.iter().filter(|r| r.0).count();
    let consented = rows.iter().filter(|r| r.1).count();
    let target = design.recruitment.target.unwrap_or(usize::MAX);
    let (enrolled, baseline) = rows
        .into_iter()
        .filter(|r| r.1)
        .take(target)
        .map(|r| (r.2, r.3))
        .unzip();
    Ok(Screening {
        screened: candidates.len(),
        eligible,
        consented,
        enrolled,
        baseline,
    })
}

/// One run reduced to what the analysis needs: per person, each outcome's time (years from
/// entry) and whether it ended in the event; and the arm's achieved SBP and blood-pressure
/// drugs among survivors at the end of follow-up.
#[derive(Clone, Debug, Default)]
pub struct ArmRun {
    pub ids: Vec<u64>,
    /// `ids.len() × outcomes`, row-major.
    pub times: Vec<f32>,
    pub events: Vec<bool>,
    pub achieved_sbp_mmhg: f64,
    pub bp_drugs: f64,
    pub seconds: f64,
}

/// Per outcome and arm in one replicate.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ArmOutcome {
    pub people: usize,
    pub events: usize,
    pub person_years: f64,
    /// Events per 100 person-years.
    pub rate_per_100py: f64,
    /// Kaplan–Meier cumulative incidence at the end of follow-up (%), with its 95% interval.
    pub km_pct: f64,
    pub km_lo_pct: f64,
    pub km_hi_pct: f64,
    /// Against the reference arm (NaN for the reference): Cox hazard ratio with its 95%
    /// Wald interval, rate ratio, relative risk reduction (1 − rate ratio, %), absolute risk
    /// reduction (KM at the end of follow-up, percentage points: > 0 means fewer events in
    /// this arm) and the number needed to treat for one event more or fewer (1 / |ARR|; for
    /// a harm or for a good outcome such as improvement, read the sign of the ARR).
    pub hr: f64,
    pub hr_lo: f64,
    pub hr_hi: f64,
    pub rate_ratio: f64,
    pub rrr_pct: f64,
    pub arr_pct: f64,
    pub nnt: f64,
}

/// A trial's results: screening, every replicate's analysis, the runs' person-level times
/// (replicate-major, arm-minor), mean Kaplan–Meier curves for plots.
#[derive(Clone, Debug)]
pub struct TrialResults {
    pub arms: Vec<String>,
    pub outcomes: Vec<String>,
    /// `[replicate][outcome][arm]`.
    pub replicates: Vec<Vec<Vec<ArmOutcome>>>,
    /// `[replicate][arm]`.
    pub runs: Vec<Vec<ArmRun>>,
    /// `[outcome][arm]`: cumulative incidence (%) on a monthly grid, mean over replicates
    /// and its 2.5/97.5 percentiles.
    pub curves: Vec<Vec<Curve>>,
    pub follow_up_years: f64,
    pub simulated_seconds: f64,
}

/// A mean Kaplan–Meier curve: (years, mean %, 2.5th percentile, 97.5th percentile) per month.
pub type Curve = Vec<(f64, f64, f64, f64)>;

/// Runs the trial on the screening's enrolled people.
pub fn run(
    design: &Design,
    screening: &Screening,
    progress: &dyn Progress,
) -> Result<TrialResults, StudyError> {
    let runs = run_replicates(design, screening, 0..design.replicates, progress)?;
    Ok(results_of(design, runs))
}

/// The runs of replicates `replicates` only (a shard of the replicates), `[replicate][arm]`:
/// each replicate is keyed (randomisation included) exactly as in the whole trial, so its
/// runs are the whole trial's, and [`results_of`] of every replicate's runs is [`run`].
pub fn run_replicates(
    design: &Design,
    screening: &Screening,
    replicates: std::ops::Range<u32>,
    progress: &dyn Progress,
) -> Result<Vec<Vec<ArmRun>>, StudyError> {
    let arms = design
        .arms
        .iter()
        .enumerate()
        .map(|(a, arm)| {
            Ok(Arm {
                name: arm.name.clone(),
                model: design
                    .arm_model(a)
                    .map_err(|e| StudyError::Trial(e.to_string()))?,
            })
        })
        .collect::<Result<Vec<_>, StudyError>>()?;
    let study = Study {
        arms,
        population: screening.enrolled.clone(),
        settings: Settings {
            seed: design.seed,
            years: design.years(),
            step_months: design.step_months,
            replicates: design.replicates,
            chunk_size: 256,
            ..Settings::default()
        },
        draws: Vec::new(),
        allocation: design.allocation.clone(),
    };
    let n_out = design.outcomes.len();
    let fu = design.follow_up;
    let step_years = f64::from(design.step_months) / 12.0;
    let follow_key = StreamKey::new(
        RunKey {
            seed: design.seed,
            replicate: 0,
        },
        FOLLOW_UP,
    );
    let results = runner::run_replicates(&study, replicates.clone(), progress, |ctx, _out| {
        let n = ctx.patients.len();
        let mut run = ArmRun {
            ids: Vec::with_capacity(n),
            times: Vec::with_capacity(n * n_out),
            events: Vec::with_capacity(n * n_out),
            seconds: ctx.seconds,
            ..ArmRun::default()
        };
        let (mut sbp, mut drugs, mut alive) = (0.0, 0.0, 0.0);
        for p in ctx.patients {
            let censor_months = match fu.min_months {
                Some(lo) => {
                    let u = Stream::new(follow_key, p.id(), 0).uniform();
                    f64::from(lo) + u * f64::from(fu.months - lo)
                }
                None => f64::from(fu.months),
            };
            let end = censor_months / 12.0;
            run.ids.push(p.id());
            for o in &design.outcomes {
                let (t, e) = time_to_event(p, &o.events, end, step_years);
                run.times.push(t as f32);
                run.events.push(e);
            }
            if p.alive() {
                sbp += p.now.sbp_mmhg;
                drugs += f64::from(p.state.cvd.bp_drugs);
                alive += 1.0;
            }
        }
        run.achieved_sbp_mmhg = sbp / alive;
        run.bp_drugs = drugs / alive;
        Ok::<_, StudyError>(run)
    })?;
    let n_arms = design.arms.len();
    let reps = replicates.len();
    let mut runs: Vec<Vec<ArmRun>> = (0..reps).map(|_| Vec::with_capacity(n_arms)).collect();
    for arm in results.arms {
        for (r, v) in arm.replicates.into_iter().enumerate() {
            runs[r].push(v);
        }
    }
    Ok(runs)
}

/// A trial's analysis from every replicate's runs (`[replicate][arm]`, replicate 0 first):
/// each replicate analysed alone, then the curves over replicates.
pub fn results_of(design: &Design, runs: Vec<Vec<ArmRun>>) -> TrialResults {
    let n_out = design.outcomes.len();
    let n_arms = design.arms.len();
    let fu = design.follow_up;
    let simulated_seconds = runs.iter().flatten().map(|r| r.seconds).sum();
    let follow_up_years = f64::from(fu.months) / 12.0;
    let replicates: Vec<Vec<Vec<ArmOutcome>>> = runs
        .par_iter()
        .map(|rep| {
            (0..n_out)
                .map(|o| analyse(rep, o, n_out, follow_up_years))
                .collect()
        })
        .collect();
    let curves = (0..n_out)
        .map(|o| {
            (0..n_arms)
                .map(|a| mean_curve(&runs, a, o, n_out, fu.months))
                .collect()
        })
        .collect();
    TrialResults {
        arms: design.arms.iter().map(|a| a.name.clone()).collect(),
        outcomes: design.outcomes.iter().map(|o| o.name.clone()).collect(),
        replicates,
        runs,
        curves,
        follow_up_years,
        simulated_seconds,
    }
}

/// Years from entry to the first of `events` (the event) or to censoring (death from another
/// cause, the end of follow-up `end_years`).
/// Recorded months are the ends of the steps that held the events (`step_years` long): an
/// event recorded in the step of a death happened before it.
fn time_to_event(
    p: &Patient<PersonState>,
    events: &[EventKind],
    end_years: f64,
    step_years: f64,
) -> (f64, bool) {
    let rec = &p.state.trial;
    let month = |i: usize| {
        let m = rec.month[i];
        if m == models::trial::NEVER {
            f64::INFINITY
        } else {
            f64::from(m) / 12.0
        }
    };
    let death = p.death.map(|d| (d.time_years, d.cause));
    let cv_cause = models::CAUSES
        .iter()
        .position(|c| *c == "cardiovascular")
        .unwrap_or(usize::MAX) as u8;
    let mut first = f64::INFINITY;
    for e in events {
        let t = match e {
            EventKind::T2d => month(event::T2D),
            EventKind::T2dOnset => month(event::T2D_ONSET),
            EventKind::Mi => month(event::MI),
            EventKind::IschaemicStroke => month(event::ISCHAEMIC_STROKE),
            EventKind::HaemorrhagicStroke => month(event::HAEMORRHAGIC_STROKE),
            EventKind::Stroke => {
                month(event::ISCHAEMIC_STROKE).min(month(event::HAEMORRHAGIC_STROKE))
            }
            EventKind::HeartFailure => month(event::HEART_FAILURE),
            EventKind::CardiovascularDeath => match death {
                Some((t, c)) if c == cv_cause => t,
                _ => f64::INFINITY,
            },
            EventKind::Death => death.map_or(f64::INFINITY, |d| d.0),
            EventKind::FrailtyImproved => month(event::FRAILTY_IMPROVED),
            EventKind::FrailtyWorse => month(event::FRAILTY_WORSE),
            EventKind::CareCertification => month(event::CERTIFICATION),
        };
        first = first.min(t);
    }
    // Death ends follow-up (an event only for outcomes that count it, found above).
    let death_time = death.map_or(f64::INFINITY, |d| d.0);
    let counts_death = events.iter().any(|e| e.is_death());
    if first <= end_years + 1e-9 && (counts_death || first - step_years < death_time) {
        (first.min(death_time), true)
    } else {
        (end_years.min(death_time), false)
    }
}

fn observations(run: &ArmRun, o: usize, n_out: usize) -> Vec<Observation> {
    (0..run.ids.len())
        .map(|i| Observation {
            time: f64::from(run.times[i * n_out + o]),
            event: run.events[i * n_out + o],
        })
        .collect()
}

/// One replicate's analysis of outcome `o`, per arm (the first is the reference).
fn analyse(rep: &[ArmRun], o: usize, n_out: usize, end_years: f64) -> Vec<ArmOutcome> {
    let obs: Vec<Vec<Observation>> = rep.iter().map(|r| observations(r, o, n_out)).collect();
    let base: Vec<ArmOutcome> = obs
        .iter()
        .map(|ob| {
            let events = ob.iter().filter(|x| x.event).count();
            let person_years: f64 = ob.iter().map(|x| x.time).sum();
            let km = survival::kaplan_meier(ob);
            let (ci, lo, hi) = survival::cumulative_incidence(&km, end_years);
            ArmOutcome {
                people: ob.len(),
                events,
                person_years,
                rate_per_100py: 100.0 * events as f64 / person_years,
                km_pct: 100.0 * ci,
                km_lo_pct: 100.0 * lo,
                km_hi_pct: 100.0 * hi,
                hr: f64::NAN,
                hr_lo: f64::NAN,
                hr_hi: f64::NAN,
                rate_ratio: f64::NAN,
                rrr_pct: f64::NAN,
                arr_pct: f64::NAN,
                nnt: f64::NAN,
            }
        })
        .collect();
    let reference = base[0];
    base.iter()
        .enumerate()
        .map(|(a, r)| {
            if a == 0 {
                return *r;
            }
            let mut data = obs[0].clone();
            data.extend_from_slice(&obs[a]);
            let x: Vec<Vec<f64>> = (0..data.len())
                .map(|i| vec![f64::from(u8::from(i >= obs[0].len()))])
                .collect();
            let fit = survival::cox(&data, &x, Ties::Efron);
            let (hr, hr_lo, hr_hi) = fit.hazard_ratio(0);
            let rate_ratio = r.rate_per_100py / reference.rate_per_100py;
            let arr_pct = reference.km_pct - r.km_pct;
            ArmOutcome {
                hr,
                hr_lo,
                hr_hi,
                rate_ratio,
                rrr_pct: 100.0 * (1.0 - rate_ratio),
                arr_pct,
                nnt: if arr_pct > 0.0 {
                    100.0 / arr_pct
                } else {
                    f64::NAN
                },
                ..*r
            }
        })
        .collect()
}

/// Mean Kaplan–Meier cumulative incidence (%) over replicates on a monthly grid, with the
/// 2.5/97.5 percentiles over replicates.
fn mean_curve(runs: &[Vec<ArmRun>], a: usize, o: usize, n_out: usize, months: u32) -> Curve {
    let kms: Vec<Vec<survival::KmStep>> = runs
        .iter()
        .map(|rep| survival::kaplan_meier(&observations(&rep[a], o, n_out)))
        .collect();
    (0..=months)
        .map(|m| {
            let t = f64::from(m) / 12.0;
            let mut v: Vec<f64> = kms
                .iter()
                .map(|km| 100.0 * survival::cumulative_incidence(km, t).0)
                .collect();
            let (mean, lo, hi) = mean_interval(&mut v);
            (t, mean, lo, hi)
        })
        .collect()
}

/// Mean and the 2.5/97.5 percentiles (linear interpolation) of `v` (sorted in place); NaNs
/// are left out.
pub fn mean_interval(v: &mut Vec<f64>) -> (f64, f64, f64) {
    v.retain(|x| x.is_finite());
    if v.is_empty() {
        return (f64::NAN, f64::NAN, f64::NAN);
    }
    v.sort_by(f64::total_cmp);
    let mean = v.iter().sum::<f64>() / v.len() as f64;
    let q = |p: f64| {
        let h = p * (v.len() - 1) as f64;
        let (i, f) = (h.floor() as usize, h - h.floor());
        v[i] + f * (v[(i + 1).min(v.len() - 1)] - v[i])
    };
    (mean, q(0.025), q(0.975))
}

/// The measures of [`ArmOutcome`] by name, for tables.
pub const MEASURES: [&str; 14] = [
    "events",
    "person_years",
    "rate_per_100py",
    "km_cumulative_incidence_pct",
    "km_lo95_pct",
    "km_hi95_pct",
    "hazard_ratio",
    "hr_lo95",
    "hr_hi95",
    "rate_ratio",
    "rrr_pct",
    "arr_pct",
    "nnt",
    "people",
];

impl ArmOutcome {
    pub fn measures(&self) -> [f64; MEASURES.len()] {
        [
            self.events as f64,
            self.person_years,
            self.rate_per_100py,
            self.km_pct,
            self.km_lo_pct,
            self.km_hi_pct,
            self.hr,
            self.hr_lo,
            self.hr_hi,
            self.rate_ratio,
            self.rrr_pct,
            self.arr_pct,
            self.nnt,
            self.people as f64,
        ]
    }
}
