//! Forecast validation (docs/validation.md, "Personal twins"): synthetic people with hidden
//! true parameters, simulated by the model itself, observed with measurement error at
//! yearly check-ups (each attended with a given probability) for k years, personalised on
//! that history and forecast H years; the forecasts are scored against what the hidden truth
//! then did: coverage of the central 50% and 90% predictive intervals of each quantity's
//! next readings, CRPS, and the C-statistic and Brier score of 5-year T2D onset risk. The
//! same people are forecast by the population model from their index-date readings alone
//! (what `healthtwin run --cohort` would do) for comparison.
//!
//! Two truths: `TwinPrior`, hidden parameters drawn from the twin's own prior (the person
//! slopes and glycaemic drift too: the easy, well-specified case), and `PopulationModel`,
//! people with no slopes and no drift (the population model as it is): the twin's prior is
//! then misspecified (it allows trends these people do not have).
//!
//! Also: imported cohorts cut at a date ([`validate_cut`]): personalise on the history
//! before the cut, score the readings after it.
//!
//! Must never: score a reading that the personalisation saw.

use cohort::import::measure::Flag;
use cohort::import::HistoryItem;
use engine::math::DetMath;
use engine::rng::{Process, Stream, StreamKey};
use engine::{Conditions, RunKey, Treatments};
use models::cvd::CvdTraits;
use models::diabetes::DmTraits;
use models::{HealthModel, PersonalTraits};
use rayon::prelude::*;

use crate::forecast::{run_copies, CopyPath, Counterfactual, ForecastSettings, Outcome};
use crate::person::{Drug, Observation, PersonRecord, Quantity};
use crate::personalise::{self, copies, personalise, PersonaliseSettings, Posterior};
use crate::stats::{brier, c_statistic, crps_sorted};
use crate::TwinError;

/// A validation case: the person cut at the index date, the readings after it, and whether
/// T2D began within 5 years (None: present at the index date).
pub type Case = (PersonRecord, Vec<Observation>, Option<bool>);

const TRUTH: Process = Process::named("twin.validation.truth");
const NOISE: Process = Process::named("twin.validation.noise");
const ATTEND: Process = Process::named("twin.validation.attendance");

/// Who the synthetic people are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Truth {
    /// Hidden parameters from the twin's prior (person slopes and glycaemic drift included).
    TwinPrior,
    /// The population model as it is (no person slopes, no drift).
    PopulationModel,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ValidationSettings {
    pub people: usize,
    pub history_years: u32,
    pub horizon_years: u32,
    pub futures: usize,
    pub particles: usize,
    pub seed: u64,
    pub truth: Truth,
    /// Probability of attending each yearly check-up of the history (the index visit is
    /// always attended).
    pub attendance: f64,
}

impl Default for ValidationSettings {
    fn default() -> Self {
        ValidationSettings {
            people: 1000,
            history_years: 5,
            horizon_years: 5,
            futures: 200,
            particles: 600,
            seed: 1,
            truth: Truth::TwinPrior,
            attendance: 0.8,
        }
    }
}

/// Scores of one quantity.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct QuantityScore {
    pub readings: usize,
    pub in50: usize,
    pub in90: usize,
    pub crps_sum: f64,
}

impl QuantityScore {
    pub fn coverage50(&self) -> f64 {
        self.in50 as f64 / self.readings.max(1) as f64
    }
    pub fn coverage90(&self) -> f64 {
        self.in90 as f64 / self.readings.max(1) as f64
    }
    pub fn crps(&self) -> f64 {
        self.crps_sum / self.readings.max(1) as f64
    }
}

/// Scores of one forecasting method.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Scores {
    pub quantities: Vec<(Quantity, QuantityScore)>,
    /// 5-year T2D onset: predicted risks and outcomes of the people at risk.
    pub t2d_risk: Vec<f64>,
    pub t2d_event: Vec<bool>,
}

impl Scores {
    pub fn c_statistic(&self) -> f64 {
        c_statistic(&self.t2d_risk, &self.t2d_event)
    }
    pub fn brier(&self) -> f64 {
        brier(&self.t2d_risk, &self.t2d_event)
    }
    fn add(&mut self, q: Quantity, s: QuantityScore) {
        match self.quantities.iter_mut().find(|x| x.0 == q) {
            Some(x) => {
                x.1.readings += s.readings;
                x.1.in50 += s.in50;
                x.1.in90 += s.in90;
                x.1.crps_sum += s.crps_sum;
            }
            None => self.quantities.push((q, s)),
        }
    }
    fn merge(&mut self, o: Scores) {
        for (q, s) in o.quantities {
            self.add(q, s);
        }
        self.t2d_risk.extend(o.t2d_risk);
        self.t2d_event.extend(o.t2d_event);
    }
}

/// Personalised and population-only scores on the same people.
#[derive(Clone, Debug, Default)]
pub struct Validation {
    pub personalised: Scores,
    pub population: Scores,
    pub people: usize,
}

/// A reading with measurement error, as the twin's likelihood assumes it.
pub fn noisy(model: &HealthModel, q: Quantity, truth: f64, z: f64) -> f64 {
    let dm = &model.diabetes().p;
    match q {
        Quantity::Fpg => truth * (dm.fpg_cv * z).exp_det(),
        Quantity::Hba1c => truth + dm.hba1c_cv * truth * z,
        Quantity::Sbp => truth + model.cvd().p.sbp_measure_sd * z,
        Quantity::Ldl => truth * (1.0 + model.cvd().p.ldl_measure_cv * z),
        Quantity::Bmi => truth + personalise::BMI_READING_SD * z,
        Quantity::Fi => truth,
    }
}

/// The synthetic truth: people simulated from `history_years` before their index date to
/// `horizon_years` after, observed at yearly check-ups with measurement error. Returns, per
/// person alive at the index date: the record cut at the index (history and index values),
/// the noisy readings after it, and whether T2D began within 5 years of the index (None if
/// present at the index).
pub fn synthetic_truth(
    model: &HealthModel,
    s: &ValidationSettings,
) -> Result<Vec<Case>, TwinError> {
    let k = s.history_years;
    let years = k + s.horizon_years;
    // People at their first visit: 45–74 years old so they are 50–79 at the index date.
    let gen = cohort::synth::Generator::new(cohort::synth::SyntheticSpec {
        n: s.people as u64,
        seed: s.seed,
        age_min: 45,
        age_max: 74,
    })
    .map_err(|e| TwinError::Input(e.to_string()))?;
    let pop = gen.generate();
    let run = RunKey {
        seed: s.seed,
        replicate: 0,
    };
    let traits: Vec<PersonalTraits> = match s.truth {
        Truth::PopulationModel => vec![PersonalTraits::default(); pop.len()],
        Truth::TwinPrior => pop
            .iter()
            .map(|b| {
                let mut z = Stream::new(StreamKey::new(run, TRUTH), b.id, 0);
                let (u, zd) = (z.uniform(), z.std_normal());
                let drift = model.diabetes().progressor_drift_at_entry(
                    b.sex.index(),
                    b.age_years,
                    b.covariates.fpg_mg_dl,
                    u,
                    zd,
                );
                PersonalTraits {
                    dm: Some(DmTraits {
                        efficiency_drift: drift,
                        ..DmTraits::default()
                    }),
                    cvd: Some(CvdTraits {
                        sbp_slope: personalise::SBP_SLOPE_SD * z.std_normal(),
                        ldl_slope: personalise::LDL_SLOPE_SD * z.std_normal(),
                        bmi_slope: personalise::BMI_SLOPE_SD * z.std_normal(),
                        ..CvdTraits::default()
                    }),
                    fr: None,
                }
            })
            .collect(),
    };
    let fs = ForecastSettings {
        futures: 1,
        years,
        seed: s.seed ^ 0x5eed,
        step_months: 1,
    };
    let runs = run_copies(
        model,
        pop.clone(),
        traits,
        &[Counterfactual::usual_care()],
        &fs,
    )?;
    let paths: &[CopyPath] = &runs[0].0;
    let mut out = Vec::new();
    let qi = |q: Quantity| Quantity::ALL.iter().position(|x| *x == q).unwrap_or(0);
    for (b, path) in pop.iter().zip(paths) {
        // Alive at the index date.
        if !path
            .values
            .get(k as usize)
            .is_some_and(|v| v[0].is_finite())
        {
            continue;
        }
        let mut noise = Stream::new(StreamKey::new(run, NOISE), b.id, 0);
        let mut attend = Stream::new(StreamKey::new(run, ATTEND), b.id, 0);
        let mut obs = Vec::new();
        let mut future = Vec::new();
        for y in 0..=years as usize {
            let Some(v) = path.values.get(y) else { break };
            if !v[0].is_finite() {
                break;
            }
            let t = y as f64 - f64::from(k);
            let attended = y == k as usize || attend.uniform() < s.attendance;
            for q in Quantity::ALL {
                let z = noise.std_normal();
                let truth = f64::from(v[qi(q)]);
                if q == Quantity::Fi && b.age_years + (y as f64) < 60.0 {
                    continue;
                }
                let o = Observation {
                    t_years: t,
                    quantity: q,
                    value: noisy(model, q, truth, z),
                };
                if t <= 0.0 {
                    if attended {
                        obs.push(o);
                    }
                } else {
                    future.push(o);
                }
            }
        }
        // The index covariates: the index visit's readings, the rest from the baseline
        // (diagnoses and treatments as the truth had them at the start of the history).
        let mut index = b.covariates;
        for o in obs.iter().filter(|o| o.t_years == 0.0) {
            crate::person::set_quantity(&mut index, o.quantity, o.value);
        }
        let onset_at_index = path.event_years[Outcome::T2d as usize];
        let t2d5 = if onset_at_index.is_nan() || onset_at_index <= f64::from(k) {
            None
        } else {
            Some(onset_at_index <= f64::from(k) + 5.0)
        };
        // Prescriptions as the truth had them at each yearly census of the history.
        let mut treatment_records: [Vec<f64>; 3] = Default::default();
        for y in 0..=k as usize {
            let on = Treatments(path.treatments[y]);
            for d in Drug::ALL {
                if on.contains(d.flag()) {
                    treatment_records[d as usize].push(y as f64 - f64::from(k));
                }
            }
        }
        index.treatments = Treatments(path.treatments[k as usize]);
        if index.treatments.contains(Treatments::GLUCOSE_LOWERING) {
            index.conditions.insert(Conditions::DIABETES);
        }
        let person = PersonRecord {
            label: format!("synthetic-{}", b.id),
            sex: b.sex,
            age_years: b.age_years + f64::from(k),
            index,
            observations: obs,
            treatment_records,
            pdc: None,
            index_day: None,
            dated: Vec::new(),
        };
        out.push((person, future, t2d5));
    }
    Ok(out)
}

/// Scores forecasts of `people` (with `post` per person, or population-only) against the
/// readings after the index date, at whole years 1..=H.
fn score(
    model: &HealthModel,
    people: &[Case],
    posts: &[Posterior],
    s: &ValidationSettings,
) -> Result<Scores, TwinError> {
    let k = s.futures;
    let mut pop = Vec::new();
    let mut traits = Vec::new();
    for (i, ((p, _, _), post)) in people.iter().zip(posts).enumerate() {
        let (b, t) = copies(p, post, k, (i * k) as u64, s.seed);
        pop.extend(b);
        traits.extend(t);
    }
    let fs = ForecastSettings {
        futures: k,
        years: s.horizon_years.max(5),
        seed: s.seed.wrapping_add(17),
        step_months: 1,
    };
    let runs = run_copies(model, pop, traits, &[Counterfactual::usual_care()], &fs)?;
    let paths = &runs[0].0;
    let run = RunKey {
        seed: s.seed.wrapping_add(99),
        replicate: 0,
    };
    let per: Vec<Scores> = people
        .par_iter()
        .enumerate()
        .map(|(i, (_, future, t2d5))| {
            let mine = &paths[i * k..(i + 1) * k];
            let mut sc = Scores::default();
            for o in future {
                let y = o.t_years.round() as usize;
                if y == 0 || y > s.horizon_years as usize {
                    continue;
                }
                let qi = Quantity::ALL
                    .iter()
                    .position(|x| *x == o.quantity)
                    .unwrap_or(0);
                let mut noise =
                    Stream::new(StreamKey::new(run, NOISE), (i * 64 + qi * 8 + y) as u64, 0);
                // The frailty index is a count over 32: readings and forecasts are spread
                // uniformly within their count (a randomised PIT), so ties at the interval
                // ends do not inflate coverage.
                let discrete = o.quantity == Quantity::Fi;
                let jitter = |u: f64| if discrete { (u - 0.5) / 32.0 } else { 0.0 };
                let mut ens: Vec<f64> = mine
                    .iter()
                    .filter_map(|c| c.values.get(y).map(|v| f64::from(v[qi])))
                    .filter(|v| v.is_finite())
                    .map(|v| {
                        noisy(model, o.quantity, v, noise.std_normal()) + jitter(noise.uniform())
                    })
                    .collect();
                let observed = o.value + jitter(noise.uniform());
                if ens.len() < 10 {
                    continue;
                }
                ens.sort_by(f64::total_cmp);
                let q = |p: f64| crate::stats::quantile_sorted(&ens, p);
                let inside = |lo: f64, hi: f64| observed >= lo && observed <= hi;
                sc.add(
                    o.quantity,
                    QuantityScore {
                        readings: 1,
                        in50: usize::from(inside(q(0.25), q(0.75))),
                        in90: usize::from(inside(q(0.05), q(0.95))),
                        crps_sum: crps_sorted(&ens, observed),
                    },
                );
            }
            if let Some(event) = t2d5 {
                // Copies that already have diabetes at the index date (their readings put
                // them over the threshold) predict it as present: counted as onsets.
                let r = mine
                    .iter()
                    .filter(|c| {
                        let e = c.event_years[Outcome::T2d as usize];
                        e.is_nan() || e <= 5.0
                    })
                    .count() as f64
                    / k as f64;
                sc.t2d_risk.push(r);
                sc.t2d_event.push(*event);
            }
            sc
        })
        .collect();
    let mut all = Scores::default();
    for p in per {
        all.merge(p);
    }
    Ok(all)
}

/// Runs the synthetic validation: personalised against population-only.
pub fn validate(model: &HealthModel, s: &ValidationSettings) -> Result<Validation, TwinError> {
    let people = synthetic_truth(model, s)?;
    validate_people(model, &people, s)
}

/// Scores personalised and population-only forecasts of prepared people.
pub fn validate_people(
    model: &HealthModel,
    people: &[Case],
    s: &ValidationSettings,
) -> Result<Validation, TwinError> {
    let ps = PersonaliseSettings {
        particles: s.particles,
        seed: s.seed,
        scores: false,
        one_step: false,
    };
    let mut v = Validation {
        people: people.len(),
        ..Validation::default()
    };
    for chunk in people.chunks(250) {
        let posts: Vec<Posterior> = chunk
            .par_iter()
            .map(|(p, _, _)| personalise(model, p, &ps))
            .collect();
        v.personalised.merge(score(model, chunk, &posts, s)?);
        let none: Vec<Posterior> = chunk.iter().map(|_| Posterior::population_only()).collect();
        v.population.merge(score(model, chunk, &none, s)?);
    }
    Ok(v)
}

/// People of an imported cohort cut `cut_years` before the index date: the history before
/// the cut, the readings after it (up to the index date) to score, and T2D by 5 years after
/// the cut from the readings (HbA1c ≥ 6.5% or FPG ≥ 126 mg/dL), a glucose-lowering
/// prescription or a dated diabetes diagnosis; people without a reading on both sides are
/// left out. Every index covariate is as of the cut ([`PersonRecord::cut_at`]): nothing
/// recorded after it reaches the forecast.
pub fn cut_people(people: &[PersonRecord], cut_years: f64) -> Vec<Case> {
    people
        .iter()
        .filter_map(|p| {
            // Readings within a day of the cut count as before it (dates round to days).
            let day = crate::person::CUT_TOLERANCE_DAYS / crate::person::DAYS_PER_YEAR;
            let c = p.cut_at(-cut_years);
            let future: Vec<Observation> = c
                .observations
                .iter()
                .filter(|o| o.t_years > day)
                .copied()
                .collect();
            let mut hist = c.clone();
            hist.observations.retain(|o| o.t_years <= day);
            for o in &mut hist.observations {
                o.t_years = o.t_years.min(0.0);
            }
            // Prescription records on the cut's day count as before it too, like the readings
            // of that visit (otherwise a treated reading at the cut is read as untreated).
            for r in &mut hist.treatment_records {
                r.retain(|t| *t <= day);
                for t in r.iter_mut() {
                    *t = t.min(0.0);
                }
            }
            // `cut_at` makes the rows' minutes relative to the cut's day.
            hist.dated.retain(|r| r.minute < 1440);
            if hist.observations.is_empty() || future.is_empty() {
                return None;
            }
            let diabetic_at_cut = hist.diagnosed_diabetes()
                || hist.index.hba1c_pct >= 6.5
                || hist.index.fpg_mg_dl >= 126.0;
            let t2d = (!diabetic_at_cut).then(|| {
                future.iter().any(|o| {
                    o.t_years <= 5.0
                        && ((o.quantity == Quantity::Hba1c && o.value >= 6.5)
                            || (o.quantity == Quantity::Fpg && o.value >= 126.0))
                }) || c.treatment_records[Drug::GlucoseLowering as usize]
                    .iter()
                    .any(|t| *t > 0.0 && *t <= 5.0)
                    || c.dated.iter().any(|r| {
                        r.item == HistoryItem::Flag(Flag::DxDiabetes)
                            && r.value > 0.5
                            && r.minute >= 1440
                            && f64::from(r.minute) / 1440.0 <= 5.0 * crate::person::DAYS_PER_YEAR
                    })
            });
            Some((hist, future, t2d))
        })
        .collect()
}
