//! Forecasts: K copies of one person (ids 0..K-1, each with its own keyed draws and its own
//! posterior particle) run as K patients of one `study::Study`, one arm per counterfactual,
//! all arms on the same copies with common random numbers (`study::Streams::Common`), so
//! each intervention's effect is a paired difference on the same futures.
//!
//! From each run: trajectories of HbA1c, fasting glucose, SBP, LDL, BMI and the frailty
//! index (yearly census of the copies alive), event times (true T2D onset and death exactly;
//! MI, stroke types, heart failure, frailty and care certification to the year: the census
//! that first shows them, or the death that ends a life), severity (HbA1c at diagnosis,
//! care level), life-years and discounted QALYs from the run's exact aggregates.
//!
//! Must never: loop over time itself (the study runner is the only loop), or let results
//! depend on the thread count.

use std::sync::Arc;

use engine::observe::metric_defs;
use engine::run::{ReplicateOutput, Trace};
use engine::{Baseline, Model, Patient};
use models::frailty::kcl::Phenotype;
use models::frailty::level;
use models::interventions::{Eligibility, Intervention, Kind, Mechanism, Priority};
use models::{HealthModel, PersonState, PersonalTraits};
use study::outcomes::{self, Sources};
use study::{Arm, RunContext, Settings, Streams, Study, StudyError};

use crate::person::Quantity;
use crate::stats::quantile_sorted;

/// Japan's reference-case discount rate (C2H guideline, Shiroiwa 2017; as `compare`).
pub const DISCOUNT_RATE: f64 = 0.02;

/// Outcomes whose risk the twin reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Outcome {
    T2d,
    Mi,
    IschaemicStroke,
    HaemorrhagicStroke,
    HeartFailure,
    Frailty,
    Care,
    CareSupport,
    Care12,
    Care35,
    Death,
}

impl Outcome {
    pub const ALL: [Outcome; 11] = [
        Outcome::T2d,
        Outcome::Mi,
        Outcome::IschaemicStroke,
        Outcome::HaemorrhagicStroke,
        Outcome::HeartFailure,
        Outcome::Frailty,
        Outcome::Care,
        Outcome::CareSupport,
        Outcome::Care12,
        Outcome::Care35,
        Outcome::Death,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Outcome::T2d => "t2d",
            Outcome::Mi => "mi",
            Outcome::IschaemicStroke => "ischaemic_stroke",
            Outcome::HaemorrhagicStroke => "haemorrhagic_stroke",
            Outcome::HeartFailure => "heart_failure",
            Outcome::Frailty => "frailty",
            Outcome::Care => "care_any",
            Outcome::CareSupport => "care_support_1_2",
            Outcome::Care12 => "care_level_1_2",
            Outcome::Care35 => "care_level_3_5",
            Outcome::Death => "death",
        }
    }

    pub fn parse(s: &str) -> Option<Outcome> {
        Outcome::ALL.into_iter().find(|o| o.name() == s)
    }

    pub fn label(self, ja: bool) -> &'static str {
        match (self, ja) {
            (Outcome::T2d, true) => "2型糖尿病の発症",
            (Outcome::T2d, false) => "Type 2 diabetes onset",
            (Outcome::Mi, true) => "心筋梗塞",
            (Outcome::Mi, false) => "Myocardial infarction",
            (Outcome::IschaemicStroke, true) => "脳梗塞",
            (Outcome::IschaemicStroke, false) => "Ischaemic stroke",
            (Outcome::HaemorrhagicStroke, true) => "脳出血",
            (Outcome::HaemorrhagicStroke, false) => "Haemorrhagic stroke",
            (Outcome::HeartFailure, true) => "心不全",
            (Outcome::HeartFailure, false) => "Heart failure",
            (Outcome::Frailty, true) => "フレイル (J-CHS)",
            (Outcome::Frailty, false) => "Frailty (J-CHS)",
            (Outcome::Care, true) => "要支援・要介護認定",
            (Outcome::Care, false) => "Long-term care certification",
            (Outcome::CareSupport, true) => "要支援1〜2以上",
            (Outcome::CareSupport, false) => "Support level 1-2 or higher",
            (Outcome::Care12, true) => "要介護1〜2以上",
            (Outcome::Care12, false) => "Care level 1-2 or higher",
            (Outcome::Care35, true) => "要介護3〜5",
            (Outcome::Care35, false) => "Care level 3-5",
            (Outcome::Death, true) => "死亡",
            (Outcome::Death, false) => "Death",
        }
    }

    /// SNOMED CT concept of the outcome (FHIR `RiskAssessment.prediction.outcome`).
    pub fn snomed(self) -> (&'static str, &'static str) {
        match self {
            Outcome::T2d => ("44054006", "Diabetes mellitus type 2"),
            Outcome::Mi => ("22298006", "Myocardial infarction"),
            Outcome::IschaemicStroke => ("422504002", "Ischemic stroke"),
            Outcome::HaemorrhagicStroke => ("274100004", "Cerebral hemorrhage"),
            Outcome::HeartFailure => ("84114007", "Heart failure"),
            Outcome::Frailty => ("248279007", "Frailty"),
            Outcome::Care | Outcome::CareSupport | Outcome::Care12 | Outcome::Care35 => (
                "virtual-care-certification",
                "Long-term care certification (kaigo nintei)",
            ),
            Outcome::Death => ("419620001", "Death"),
        }
    }
}

/// An arm of the forecast: no intervention, or programmes started at the index date.
#[derive(Clone, Debug, PartialEq)]
pub struct Counterfactual {
    /// `usual_care`, an intervention name, or names joined by `+`.
    pub name: String,
    pub kinds: Vec<Kind>,
}

impl Counterfactual {
    pub fn usual_care() -> Self {
        Counterfactual {
            name: "usual_care".into(),
            kinds: Vec::new(),
        }
    }
    pub fn of(kinds: Vec<Kind>) -> Self {
        let name = kinds.iter().map(|k| k.name()).collect::<Vec<_>>().join("+");
        Counterfactual { name, kinds }
    }
}

/// The label of an intervention kind.
pub fn kind_label(k: Kind, ja: bool) -> &'static str {
    match (k, ja) {
        (Kind::IntensiveLifestyle, true) => "生活習慣改善 (減量・運動)",
        (Kind::IntensiveLifestyle, false) => "Intensive lifestyle (weight, activity)",
        (Kind::ExerciseNutrition, true) => "運動・栄養プログラム",
        (Kind::ExerciseNutrition, false) => "Exercise and nutrition programme",
        (Kind::CommunitySalon, true) => "通いの場 (社会参加)",
        (Kind::CommunitySalon, false) => "Community salon (social participation)",
        (Kind::Metformin, true) => "メトホルミン",
        (Kind::Metformin, false) => "Metformin",
        (Kind::Statin, true) => "スタチン",
        (Kind::Statin, false) => "Statin",
        (Kind::Antihypertensive, true) => "降圧薬",
        (Kind::Antihypertensive, false) => "Antihypertensive",
        (Kind::GlucoseIntensification, true) => "血糖管理の強化",
        (Kind::GlucoseIntensification, false) => "Glucose-lowering intensification",
        (Kind::HealthCheck, true) => "毎年の健診受診",
        (Kind::HealthCheck, false) => "Annual health check",
        (Kind::SmokingCessation, true) => "禁煙支援",
        (Kind::SmokingCessation, false) => "Smoking-cessation support",
        (Kind::Diet, true) => "食事療法 (減量)",
        (Kind::Diet, false) => "Diet (weight loss)",
        (Kind::Exercise, true) => "運動療法 (身体活動)",
        (Kind::Exercise, false) => "Exercise (physical activity)",
        (Kind::BpTreatToTarget, true) => "目標血圧までの降圧治療",
        (Kind::BpTreatToTarget, false) => "Blood pressure treated to target",
    }
}

/// The programme of a counterfactual: started at the index date for the person, taken up,
/// the trial effect (adherence 1 = the cited effect size), no dropout, no capacity limit.
pub fn programme(k: Kind) -> Intervention {
    Intervention {
        name: k.name().to_string(),
        kind: k,
        eligibility: Eligibility::default(),
        priority: Priority::Random,
        uptake: 1.0,
        adherence: 1.0,
        dropout_per_year: 0.0,
        start_year: 0,
        stop_year: None,
        duration_years: None,
        capacity_per_year: None,
        cost_per_participant_year_yen: 0.0,
        effect_scale: 1.0,
        mechanism: Mechanism::default_for(k),
    }
}

/// Interventions that apply to a person at the index date (the default counterfactuals, and
/// the interventions whose benefit the ranked list reports): lifestyle for BMI ≥ 23 (the WHO
/// expert consultation's Asian overweight cut-off, Lancet 2004;363:157 [M]) without
/// diagnosed diabetes; metformin without it; glucose intensification with it; an
/// antihypertensive for people not on one whose readings are above the model's own
/// treatment threshold (`cvd.care.bp_threshold_sbp`, DBP 90: `CvdParams::high_bp`, the care
/// path's rule) or with diagnosed hypertension; a statin for people not on one whose LDL is
/// at or above the model's threshold (`cvd.care.ldl_threshold`, or
/// `cvd.care.ldl_threshold_diabetes` with diabetes: `CvdParams::ldl_threshold_for`) or with
/// diagnosed dyslipidaemia; smoking cessation for smokers; exercise and nutrition and salons
/// from 65.
pub fn applicable(model: &HealthModel, b: &Baseline) -> Vec<Kind> {
    use engine::{Conditions, Treatments};
    let c = &b.covariates;
    let cvd = &model.cvd().p;
    let dm = c.conditions.contains(Conditions::DIABETES)
        || c.treatments.contains(Treatments::GLUCOSE_LOWERING);
    let mut v = Vec::new();
    if !dm && c.bmi_kg_m2 >= 23.0 {
        v.push(Kind::IntensiveLifestyle);
    }
    if !dm {
        v.push(Kind::Metformin);
    }
    if dm {
        v.push(Kind::GlucoseIntensification);
    }
    if !c.treatments.contains(Treatments::LIPID_LOWERING)
        && (c.ldl_mg_dl >= cvd.ldl_threshold_for(dm)
            || c.conditions.contains(Conditions::DYSLIPIDAEMIA))
    {
        v.push(Kind::Statin);
    }
    if !c.treatments.contains(Treatments::ANTIHYPERTENSIVE)
        && (cvd.high_bp(c.sbp_mmhg, c.dbp_mmhg) || c.conditions.contains(Conditions::HYPERTENSION))
    {
        v.push(Kind::Antihypertensive);
    }
    if c.smoker {
        v.push(Kind::SmokingCessation);
    }
    if b.age_years >= 65.0 {
        v.push(Kind::ExerciseNutrition);
        v.push(Kind::CommunitySalon);
    }
    v
}

/// How a forecast is run.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ForecastSettings {
    pub futures: usize,
    pub years: u32,
    pub seed: u64,
    pub step_months: u32,
}

impl Default for ForecastSettings {
    fn default() -> Self {
        ForecastSettings {
            futures: 1000,
            years: 30,
            seed: 1,
            step_months: 1,
        }
    }
}

/// What one copy went through in one arm.
#[derive(Clone, Debug, PartialEq)]
pub struct CopyPath {
    /// Per outcome: years from the index date to the event (+∞ none within the horizon;
    /// NaN: already present at the index date, not at risk).
    pub event_years: [f64; 11],
    /// Per census year 0..=years: the quantities (NaN once dead), in [`Quantity::ALL`] order.
    pub values: Vec<[f32; 6]>,
    /// Per census year: the treatments (`engine::Treatments` bits).
    pub treatments: Vec<u16>,
    /// HbA1c at the first census after diagnosis (NaN if not diagnosed in the run).
    pub hba1c_at_diagnosis: f32,
    /// Highest care level reached (0 none, 1–7 support 1 … care 5).
    pub max_care_level: u8,
}

/// One arm's forecast over the K copies.
#[derive(Clone, Debug)]
pub struct ArmForecast {
    pub counterfactual: Counterfactual,
    pub copies: Vec<CopyPath>,
    /// Mean life-years and discounted QALYs per copy over the horizon.
    pub life_years: f64,
    pub qalys: f64,
}

impl ArmForecast {
    /// Absolute risk of `o` by `h` years (share of all copies; NaN if the person already
    /// had it at the index date).
    pub fn risk(&self, o: Outcome, h: f64) -> f64 {
        let i = o as usize;
        let at_risk = self
            .copies
            .iter()
            .filter(|c| !c.event_years[i].is_nan())
            .count();
        if at_risk == 0 {
            return f64::NAN;
        }
        let events = self
            .copies
            .iter()
            .filter(|c| c.event_years[i] <= h + 1e-9)
            .count();
        events as f64 / at_risk as f64
    }

    /// Quantiles of quantity `q` at census year `y` over the copies alive.
    pub fn band(&self, q: Quantity, y: usize, probs: &[f64]) -> Vec<f64> {
        let qi = Quantity::ALL.iter().position(|x| *x == q).unwrap_or(0);
        let mut v: Vec<f64> = self
            .copies
            .iter()
            .filter_map(|c| c.values.get(y).map(|r| f64::from(r[qi])))
            .filter(|x| x.is_finite())
            .collect();
        v.sort_by(f64::total_cmp);
        probs.iter().map(|&p| quantile_sorted(&v, p)).collect()
    }

    /// Event times of `o` within the horizon (for onset-time distributions).
    pub fn event_times(&self, o: Outcome) -> Vec<f64> {
        let mut v: Vec<f64> = self
            .copies
            .iter()
            .map(|c| c.event_years[o as usize])
            .filter(|t| t.is_finite())
            .collect();
        v.sort_by(f64::total_cmp);
        v
    }
}

/// A forecast: the usual-care arm first, then each counterfactual.
#[derive(Clone, Debug)]
pub struct Forecast {
    pub years: u32,
    pub futures: usize,
    pub arms: Vec<ArmForecast>,
    /// Wall-clock seconds of simulation.
    pub seconds: f64,
}

impl Forecast {
    pub fn arm(&self, name: &str) -> Option<&ArmForecast> {
        self.arms.iter().find(|a| a.counterfactual.name == name)
    }
}

/// Why a forecast cannot run.
#[derive(Debug, thiserror::Error)]
pub enum ForecastError {
    #[error(transparent)]
    Study(#[from] StudyError),
    #[error("intervention {0}: {1}")]
    Intervention(String, String),
}

/// Runs `arms` on copies of people: `groups` holds, per person, the range of copy ids
/// (contiguous, in population order). Returns per person, per arm, the copies' paths.
pub fn run_copies(
    model: &HealthModel,
    population: Vec<Baseline>,
    traits: Vec<PersonalTraits>,
    arms: &[Counterfactual],
    s: &ForecastSettings,
) -> Result<Vec<(Vec<CopyPath>, outcomes::Outcomes)>, ForecastError> {
    run_copies_selected(model, population, traits, arms, s, None)
}

/// [`run_copies`] where copy `i` runs only in the arms of `masks[i]` (bit `a`: arm `a`;
/// `None`: every arm). Each arm returns the paths of its copies only, in population order;
/// a copy's path is the one it has when every copy runs in every arm (the programmes have
/// no capacity limit, so copies do not interact), and the arm's aggregates are over its
/// copies.
pub fn run_copies_selected(
    model: &HealthModel,
    population: Vec<Baseline>,
    traits: Vec<PersonalTraits>,
    arms: &[Counterfactual],
    s: &ForecastSettings,
    masks: Option<Vec<u64>>,
) -> Result<Vec<(Vec<CopyPath>, outcomes::Outcomes)>, ForecastError> {
    let traits: Arc<[PersonalTraits]> = traits.into();
    let mut study_arms = Vec::with_capacity(arms.len());
    for cf in arms {
        let mut m = model.clone();
        m.set_personal_traits(traits.clone());
        m.set_interventions(cf.kinds.iter().map(|&k| programme(k)).collect())
            .map_err(|e| ForecastError::Intervention(cf.name.clone(), e.to_string()))?;
        study_arms.push(Arm {
            name: cf.name.clone(),
            model: m,
        });
    }
    let n = population.len() as u64;
    // The copies an arm runs (all of them when every copy runs in every arm).
    let per_arm: Vec<usize> = (0..arms.len())
        .map(|a| {
            masks.as_ref().map_or(n as usize, |m| {
                m.iter().filter(|&&x| x >> a & 1 == 1).count()
            })
        })
        .collect();
    let largest = per_arm.iter().copied().max().unwrap_or(0);
    let study = Study {
        arms: study_arms,
        population,
        allocation: match masks {
            Some(masks) => study::Allocation::Selected { masks },
            None => study::Allocation::Paired,
        },
        settings: Settings {
            seed: s.seed,
            years: s.years,
            step_months: s.step_months,
            replicates: 1,
            streams: Streams::Common,
            // Two chunks per thread at least 256 copies each: each chunk of a year starts an
            // aggregator (zeroed, one per metric), so small chunks cost more than they
            // balance. Results do not depend on the chunk size.
            chunk_size: largest.div_ceil(2 * rayon::current_num_threads()).max(256),
            trace_patients: n,
        },
        draws: Vec::new(),
    };
    let years = s.years as usize;
    let results = study::run_traced(
        &study,
        &(),
        &CensusTrace,
        |ctx: &RunContext<'_, HealthModel>, out| Ok::<_, ForecastError>(reduce(ctx, out, years)),
    )?;
    Ok(results
        .arms
        .into_iter()
        .map(|a| a.replicates.into_iter().next().expect("one replicate"))
        .collect())
}

/// What a forecast reads of a copy at each yearly census (instead of the whole person).
#[derive(Clone, Copy, Debug)]
struct Census {
    values: [f32; 6],
    treatments: u16,
    /// The care level (`fr.ltc`).
    ltc: u8,
    /// Conditions present: the bits below ([`MI`] …).
    flags: u8,
}

const MI: u8 = 1;
const ISCHAEMIC_STROKE: u8 = 2;
const HAEMORRHAGIC_STROKE: u8 = 4;
const HEART_FAILURE: u8 = 8;
const FRAIL: u8 = 16;
const DIAGNOSED: u8 = 32;
const ONSET: u8 = 64;

/// The trace of a forecast: [`Census`] rows.
struct CensusTrace;

impl Trace<PersonState> for CensusTrace {
    type Row = Census;
    #[inline]
    fn row(&self, p: &Patient<PersonState>) -> Census {
        Census::of(p)
    }
}

impl Census {
    fn of(p: &Patient<PersonState>) -> Census {
        let s = &p.state;
        let mut flags = 0;
        for (bit, on) in [
            (MI, s.cvd.mi_count > 0),
            (ISCHAEMIC_STROKE, s.cvd.ischaemic_stroke),
            (HAEMORRHAGIC_STROKE, s.cvd.haemorrhagic_stroke),
            (HEART_FAILURE, s.cvd.heart_failure),
            (FRAIL, s.fr.phenotype() == Phenotype::Frail),
            (DIAGNOSED, s.dm.diagnosed),
            (ONSET, s.dm.onset_age.is_some()),
        ] {
            if on {
                flags |= bit;
            }
        }
        Census {
            values: values_of(p),
            treatments: p.now.treatments.0,
            ltc: s.fr.ltc,
            flags,
        }
    }
    fn has(&self, bit: u8) -> bool {
        self.flags & bit != 0
    }
}

fn reduce(
    ctx: &RunContext<'_, HealthModel>,
    out: ReplicateOutput<PersonState, Census>,
    years: usize,
) -> (Vec<CopyPath>, outcomes::Outcomes) {
    let defs = metric_defs(ctx.model.causes_of_death(), &ctx.model.metrics());
    let agg = outcomes::extract(&out.aggregate, &Sources::new(&defs), DISCOUNT_RATE);
    let n = ctx.patients.len();
    let mut paths: Vec<CopyPath> = (0..n)
        .map(|_| CopyPath {
            event_years: [f64::INFINITY; 11],
            values: vec![[f32::NAN; 6]; years + 1],
            treatments: vec![0; years + 1],
            hba1c_at_diagnosis: f32::NAN,
            max_care_level: 0,
        })
        .collect();
    let mut seen_diag = vec![false; n];
    // The census rows, in (patient, year) order: year 0 is the state at entry. The run's
    // copies are in population order (ids ascending), so one cursor finds each row's copy.
    let mut i = 0;
    for row in &out.trace {
        while i < n && ctx.patients[i].id() < row.patient {
            i += 1;
        }
        if i >= n || ctx.patients[i].id() != row.patient {
            continue;
        }
        let y = row.year as usize;
        let c = &row.patient_state;
        let path = &mut paths[i];
        if y == 0 {
            mark_prevalent(path, c);
            seen_diag[i] = c.has(DIAGNOSED);
        }
        observe(path, c, y as f64, &mut seen_diag[i]);
        path.values[y] = c.values;
        path.treatments[y] = c.treatments;
    }
    // The end of the run: survivors at the horizon, the dead at their death.
    for (i, p) in ctx.patients.iter().enumerate() {
        let path = &mut paths[i];
        let c = Census::of(p);
        match p.death {
            Some(d) => {
                observe(path, &c, d.time_years, &mut seen_diag[i]);
                path.event_years[Outcome::Death as usize] = d.time_years;
            }
            None => {
                observe(path, &c, years as f64, &mut seen_diag[i]);
                path.values[years] = c.values;
                path.treatments[years] = c.treatments;
            }
        }
        // T2D onset is exact (the physiology's age at onset).
        if !path.event_years[Outcome::T2d as usize].is_nan() {
            path.event_years[Outcome::T2d as usize] = match p.state.dm.onset_age {
                Some(a) => a - p.baseline.age_years,
                None => f64::INFINITY,
            };
        }
    }
    (paths, agg)
}

fn values_of(p: &Patient<PersonState>) -> [f32; 6] {
    let c = &p.now;
    [
        c.hba1c_pct as f32,
        c.fpg_mg_dl as f32,
        c.sbp_mmhg as f32,
        c.ldl_mg_dl as f32,
        c.bmi_kg_m2 as f32,
        c.frailty_index as f32,
    ]
}

/// Conditions present at entry: not at risk (NaN).
fn mark_prevalent(path: &mut CopyPath, c: &Census) {
    let mut set = |o: Outcome, present: bool| {
        if present {
            path.event_years[o as usize] = f64::NAN;
        }
    };
    set(Outcome::T2d, c.has(ONSET));
    set(Outcome::Mi, c.has(MI));
    set(Outcome::IschaemicStroke, c.has(ISCHAEMIC_STROKE));
    set(Outcome::HaemorrhagicStroke, c.has(HAEMORRHAGIC_STROKE));
    set(Outcome::HeartFailure, c.has(HEART_FAILURE));
    set(Outcome::Frailty, c.has(FRAIL));
    set(Outcome::Care, c.ltc != level::NONE);
    set(Outcome::CareSupport, c.ltc != level::NONE);
    set(Outcome::Care12, c.ltc >= level::CARE1);
    set(Outcome::Care35, c.ltc >= level::CARE1 + 2);
}

/// Records events first visible in the census `c` at time `t` (years from the index).
fn observe(path: &mut CopyPath, c: &Census, t: f64, seen_diag: &mut bool) {
    let mut hit = |o: Outcome, present: bool| {
        let e = &mut path.event_years[o as usize];
        if present && e.is_infinite() {
            *e = t;
        }
    };
    hit(Outcome::Mi, c.has(MI));
    hit(Outcome::IschaemicStroke, c.has(ISCHAEMIC_STROKE));
    hit(Outcome::HaemorrhagicStroke, c.has(HAEMORRHAGIC_STROKE));
    hit(Outcome::HeartFailure, c.has(HEART_FAILURE));
    hit(Outcome::Frailty, c.has(FRAIL));
    hit(Outcome::Care, c.ltc != level::NONE);
    hit(Outcome::CareSupport, c.ltc != level::NONE);
    hit(Outcome::Care12, c.ltc >= level::CARE1);
    hit(Outcome::Care35, c.ltc >= level::CARE1 + 2);
    path.max_care_level = path.max_care_level.max(c.ltc);
    if c.has(DIAGNOSED) && !*seen_diag {
        *seen_diag = true;
        path.hba1c_at_diagnosis = c.values[0];
    }
}

/// Forecasts one person's copies under usual care and each counterfactual.
pub fn forecast(
    model: &HealthModel,
    population: Vec<Baseline>,
    traits: Vec<PersonalTraits>,
    arms: &[Counterfactual],
    s: &ForecastSettings,
) -> Result<Forecast, ForecastError> {
    let k = population.len();
    let t0 = std::time::Instant::now();
    let runs = run_copies(model, population, traits, arms, s)?;
    let seconds = t0.elapsed().as_secs_f64();
    let arms = arms
        .iter()
        .zip(runs)
        .map(|(cf, (copies, agg))| ArmForecast {
            counterfactual: cf.clone(),
            life_years: agg.total(outcomes::LIFE_YEARS) / k as f64,
            qalys: agg.total(outcomes::QALYS) / k as f64,
            copies,
        })
        .collect();
    Ok(Forecast {
        years: s.years,
        futures: k,
        arms,
        seconds,
    })
}
