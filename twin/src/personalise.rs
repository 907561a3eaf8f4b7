//! Personalisation: a person's latent parameters inferred from their whole history by
//! Bayesian updating, with the population model as the prior (docs/twin.md).
//!
//! The posterior factorises into independent blocks, because the model draws the blocks'
//! latent parameters independently at entry and each block's readings depend only on its
//! own parameters (given the observed covariates):
//!
//! - **glycaemia** (β-cell mass and capacity, insulin sensitivity, glucose production):
//!   importance sampling. M prior particles are the model's own entry state of the person at
//!   their first glucose reading (`Diabetes::init`, so the prior is exactly the population
//!   model's draws of insulin sensitivity, glucose production and capacity, with the first
//!   readings' measurement error drawn too); each particle's reduced Topp physiology is
//!   advanced month by month through the history (the observed BMI and treatment at each
//!   time), predicting fasting glucose and HbA1c at every later reading; weights are the
//!   measurement-error likelihood (`dm.measure.fpg_cv`, `dm.measure.hba1c_cv`, plus the
//!   particle's own response to the model's within-person insulin-sensitivity fluctuation).
//!   The weighted particles at the index date are the posterior of the slow state there.
//! - **blood pressure** and **LDL**: the model's persistent level + yearly AR(1)
//!   fluctuation + reading error, with a person slope added (prior SD [A], docs/twin.md);
//!   linear-Gaussian, so the posterior of (level, slope, current fluctuation) is exact.
//!   Treated readings are turned back into untreated ones with the model's drug effects.
//! - **BMI**: level + person slope + reading error, linear-Gaussian (each copy starts from
//!   a draw of the usual BMI at the index date, not the index reading).
//! - **frailty**: the deficit count's exposure (the model's gamma-Poisson prior, shape
//!   `fr.deficits.heterogeneity_shape`) updated through the whole count history with a
//!   thinning-plus-immigration kernel; posterior mean, as the model uses at entry. When no
//!   FI reading lies in the importer's look-back before the index the index FI was imputed
//!   and is not the person's: each copy draws its starting count instead ([`FrStart`]).
//! - **adherence**: a proportion of days covered ≥ 0.8 means adherent (the models'
//!   dichotomy: 0.95 of the effect, else `*.care.adherence_low`).
//!
//! A block with no reading on or before the index date keeps the population model's own
//! entry draws. A person with one visit gets the twin's prior conditioned on that visit:
//! unlike a population run, which takes the index readings as exact, the twin reads them
//! with their measurement error and shrinks them towards the population (docs/twin.md).
//!
//! The same weights, taken sequentially, give each reading's one-step-ahead predictive
//! distribution from the readings before it (alerts).
//!
//! Must never: step time for a forecast (forecasts run through `study::run`); the history
//! replay here is the reduced physiology evaluated at past dates, for the likelihood only.

use engine::math::DetMath;
use engine::rng::{Process, Stream, StreamKey};
use engine::{Baseline, Conditions, RunKey, Treatments};
use models::cvd::params::{self as cvdp, at_age};
use models::cvd::CvdTraits;
use models::diabetes::{DmState, DmTraits, HasDm, FPG_DIABETES, HBA1C_DIABETES, RX_DPP4};
use models::frailty::FrTraits;
use models::{HealthModel, PersonalTraits};
use rayon::prelude::*;

use crate::person::{Drug, PersonRecord, Quantity};
use crate::stats::{self, cholesky, forward_solve, norm_cdf};

const FIRST_READING_NOISE: Process = Process::named("twin.first_reading_noise");
const COPY_DRAWS: Process = Process::named("twin.copy_draws");
const RESAMPLE: Process = Process::named("twin.resample");

/// Prior SD of a person's own yearly slope of the untreated SBP level beyond the
/// population's age drift: [A] 0.7 mmHg/y (the population drift is 0.3–0.9 mmHg/y by age,
/// NHNS; individual slopes of the same order are assumed; docs/twin.md lists the effect).
pub const SBP_SLOPE_SD: f64 = 0.7;
/// [A] 1.5 mg/dL/y for the untreated LDL level.
pub const LDL_SLOPE_SD: f64 = 1.5;
/// [A] 0.15 kg/m² per year for BMI (about 0.4 kg/y at 165 cm).
pub const BMI_SLOPE_SD: f64 = 0.15;
/// [A] SD of one BMI reading around the usual level: scale and day-to-day weight
/// fluctuation of ~1.3 kg at 165 cm.
pub const BMI_READING_SD: f64 = 0.5;
/// [A] Between-person SD of BMI for the level's prior (NHNS SD 3–3.7 kg/m² by age and sex).
pub const BMI_LEVEL_SD: f64 = 3.5;
/// [A] Mean repair rate of present deficits for the frailty kernel: 0.2 × J-CHS + 0.8 ×
/// other items (the J-CHS share of a typical count), from `fr.deficits.repair_*_at_70`.
pub const JCHS_SHARE_OF_DEFICITS: f64 = 0.2;
/// Most readings per quantity a linear-Gaussian block uses (the latest).
const MAX_READINGS: usize = 60;

/// How much effort personalisation spends.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PersonaliseSettings {
    /// Prior particles of the glycaemic block.
    pub particles: usize,
    pub seed: u64,
    /// Score the readings up to the index date against the fit (`Posterior::fit`: the
    /// report's fit chart and `fit.csv`). Off where only the forecast is needed
    /// (stratification, validation): the weighted-mixture quantiles were most of the
    /// personalisation's time.
    pub scores: bool,
    /// Score every reading against its one-step-ahead prediction from the readings before
    /// it (`Posterior::one_step`: only the alerts read them). Off unless alerts are asked
    /// for: as many mixture quantiles as the fit, and the frailty count's kernel sums.
    pub one_step: bool,
}

impl Default for PersonaliseSettings {
    fn default() -> Self {
        PersonaliseSettings {
            particles: 2000,
            seed: 1,
            scores: true,
            one_step: true,
        }
    }
}

/// One reading scored against the twin's one-step-ahead predictive distribution (from the
/// readings before it), or fitted with all readings to the index date.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Scored {
    pub quantity: Quantity,
    pub t_years: f64,
    pub observed: f64,
    /// Predictive mean and 5th/95th percentiles of the reading (measurement error included).
    pub mean: f64,
    pub lo90: f64,
    pub hi90: f64,
    /// Predictive CDF at the observed value (probability integral transform).
    pub pit: f64,
}

impl Scored {
    /// Two-sided predictive p-value.
    pub fn p_two_sided(&self) -> f64 {
        2.0 * self.pit.min(1.0 - self.pit)
    }
}

/// Glycaemic particles at the index date.
#[derive(Clone, Debug)]
pub struct GlycaemicPosterior {
    /// Normalised weights of the particles (readings to the index date).
    pub weights: Vec<f64>,
    /// Each particle's slow state and readings at the index date.
    pub at_index: Vec<GlycaemicParticle>,
    pub ess: f64,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GlycaemicParticle {
    pub traits: DmTraits,
    pub fpg_mg_dl: f64,
    pub hba1c_pct: f64,
}

/// A linear-Gaussian block's posterior over (level at the index date, slope per year,
/// current fluctuation).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GaussPosterior {
    pub mean: [f64; 3],
    /// Lower Cholesky factor of the covariance (row-major 3 × 3).
    pub chol: [f64; 9],
}

impl GaussPosterior {
    fn draw(&self, z: [f64; 3]) -> [f64; 3] {
        let l = &self.chol;
        [
            self.mean[0] + l[0] * z[0],
            self.mean[1] + l[3] * z[0] + l[4] * z[1],
            self.mean[2] + l[6] * z[0] + l[7] * z[1] + l[8] * z[2],
        ]
    }
    /// Posterior SD of component `i`.
    pub fn sd(&self, i: usize) -> f64 {
        let l = &self.chol;
        (0..=i)
            .map(|k| l[i * 3 + k].powf_det(2.0))
            .sum::<f64>()
            .sqrt()
    }
}

/// Everything personalisation found about one person.
#[derive(Clone, Debug)]
pub struct Posterior {
    pub glycaemia: Option<GlycaemicPosterior>,
    pub sbp: Option<GaussPosterior>,
    pub ldl: Option<GaussPosterior>,
    pub bmi: Option<GaussPosterior>,
    /// Posterior mean of the frailty exposure.
    pub fr_exposure: Option<f64>,
    /// The index FI had no reading behind it (none in the importer's look-back, so it was
    /// imputed): each copy draws its starting deficit count from this distribution instead.
    pub fr_start: Option<FrStart>,
    /// Drug adherence from the proportion of days covered.
    pub adherence: Option<(f64, f64)>,
    /// Readings to the index date against the twin's fit (all readings to the index).
    pub fit: Vec<Scored>,
    /// Every reading after the first of its block against the one-step-ahead predictive.
    pub one_step: Vec<Scored>,
}

/// The distribution of a person's deficit count at the index date when no FI reading stands
/// behind the index value (it was imputed): the frailty block's own model of the count,
/// exposure e ~ the posterior given the FI readings before the index (the Gamma(k, k)
/// prior when there are none), and the count given e the kernel from the last reading
/// (thinning plus immigration) or, with no reading, Poisson(e × the reference mean count at
/// the person's age).
#[derive(Clone, Debug)]
pub struct FrStart {
    /// Exposure grid and the cumulative posterior weights over it.
    grid: Vec<f64>,
    cdf: Vec<f64>,
    /// Log posterior weights over the grid (for the exposure given a drawn count).
    logw: Vec<f64>,
    /// Reference mean count at the index date.
    mean_index: f64,
    /// The last reading before the index: survival probability to the index, its count,
    /// and the reference mean count at its time.
    last: Option<(f64, u32, f64)>,
    /// With a last reading, the posterior mean exposure given each starting count `n`
    /// (index `n`), computed once for the person rather than once per copy; empty without.
    exposure_given: Vec<f64>,
}

impl FrStart {
    fn new(
        grid: Vec<f64>,
        cdf: Vec<f64>,
        logw: Vec<f64>,
        mean_index: f64,
        last: Option<(f64, u32, f64)>,
    ) -> FrStart {
        let mut start = FrStart {
            grid,
            cdf,
            logw,
            mean_index,
            last,
            exposure_given: Vec::new(),
        };
        if start.last.is_some() {
            start.exposure_given = (0..=frailty_items())
                .map(|n| {
                    let lw: Vec<f64> = start
                        .grid
                        .iter()
                        .zip(&start.logw)
                        .map(|(&e, l)| l + start.logpmf(n, e))
                        .collect();
                    let w = normalised(&lw);
                    start.grid.iter().zip(&w).map(|(e, w)| e * w).sum()
                })
                .collect();
        }
        start
    }

    /// Probability of `n` deficits at the index given exposure `e`.
    fn logpmf(&self, n: u32, e: f64) -> f64 {
        match self.last {
            None => poisson_logpmf(n, (e * self.mean_index).max(0.01)),
            Some((beta, n0, mean0)) => {
                let imm = (e * (self.mean_index - beta * mean0)).max(0.01);
                thinning_logpmf(n, n0, beta, imm)
            }
        }
    }

    /// One copy's starting (FI, exposure) from two uniforms: the exposure drawn from its
    /// posterior, the count from its law given that exposure. The exposure returned is the
    /// posterior mean given the readings and the drawn count (as the model's entry state
    /// takes it); `None` when there is no earlier reading, so the model's own entry rule
    /// (the posterior mean given the count alone) applies.
    pub fn draw(&self, u_exposure: f64, u_count: f64) -> (f64, Option<f64>) {
        let i = self
            .cdf
            .iter()
            .position(|&c| c >= u_exposure)
            .unwrap_or(self.grid.len() - 1);
        let e = self.grid[i];
        let n_max = frailty_items();
        let mut acc = 0.0;
        let mut n = n_max;
        for m in 0..=n_max {
            acc += self.logpmf(m, e).exp_det();
            if acc >= u_count {
                n = m;
                break;
            }
        }
        let fi = f64::from(n) / f64::from(n_max);
        let exposure = self.last.map(|_| self.exposure_given[n as usize]);
        (fi, exposure)
    }

    /// Mean and SD of the starting deficit count (over the exposure's posterior).
    pub fn count_mean_sd(&self) -> (f64, f64) {
        let w: Vec<f64> = self
            .cdf
            .iter()
            .scan(0.0, |prev, &c| {
                let x = c - *prev;
                *prev = c;
                Some(x)
            })
            .collect();
        let (mut m1, mut m2) = (0.0, 0.0);
        for (&e, w) in self.grid.iter().zip(&w) {
            for n in 0..=frailty_items() {
                let p = w * self.logpmf(n, e).exp_det();
                m1 += p * f64::from(n);
                m2 += p * f64::from(n) * f64::from(n);
            }
        }
        (m1, (m2 - m1 * m1).max(0.0).sqrt())
    }
}

fn frailty_items() -> u32 {
    models::frailty::items::N
}

/// The importer's default look-back for index values (`cohort import`, 365 days), in years.
pub const INDEX_LOOKBACK_YEARS: f64 = 365.0 / crate::person::DAYS_PER_YEAR;

/// The glycaemic block's prior particles replayed through the history.
struct Replay {
    /// Reading times and kinds used for weights: (time, quantity, observed).
    readings: Vec<(f64, Quantity, f64)>,
    /// Per particle: predicted value of each reading and its SD (model + measurement).
    pred: Vec<Vec<(f64, f64)>>,
    /// Per particle: state at the index date (if the history reaches it).
    at_index: Vec<Option<GlycaemicParticle>>,
    /// Per particle: log population density of its true first-visit readings (the
    /// proposal draws them around the readings with the measurement error, so this is
    /// the importance weight that shrinks them towards the population, as the prior does).
    log_prior: Vec<f64>,
}

/// Infers the person's latent parameters (see the module documentation).
pub fn personalise(
    model: &HealthModel,
    person: &PersonRecord,
    s: &PersonaliseSettings,
) -> Posterior {
    let mut fit = Vec::new();
    let mut one_step = Vec::new();
    let glycaemia = glycaemic_block(model, person, s, &mut fit, &mut one_step);
    let cvd = model.cvd();
    let adherence_cvd = mean_adherence(cvd.p.adherent_share, cvd.p.adherence_low);
    let sex = person.sex.index();
    let age0 = person.age_years;
    let sbp = gauss_block(
        person,
        Quantity::Sbp,
        GaussSpec {
            prior_mean: at_age(&cvdp::SBP_NATURAL[sex], age0),
            drift: &|t| {
                at_age(&cvdp::SBP_NATURAL[sex], age0 + t) - at_age(&cvdp::SBP_NATURAL[sex], age0)
            },
            level_sd: (at_age(&cvdp::SBP_SD[sex], age0).powf_det(2.0)
                - cvd.p.sbp_fluct_sd.powf_det(2.0))
            .max(25.0)
            .sqrt(),
            slope_sd: SBP_SLOPE_SD,
            fluct_sd: cvd.p.sbp_fluct_sd,
            autocorr: cvd.p.fluct_autocorr,
            reading_sd: &|_| cvd.p.sbp_measure_sd,
            natural: &|t, y| {
                if person.treated_at(Drug::Antihypertensive, t) {
                    cvd.untreated_sbp(y, adherence_cvd)
                } else {
                    y
                }
            },
            treated: &|t, y| {
                if person.treated_at(Drug::Antihypertensive, t) {
                    y - cvd.bp_lowering(y, 90.0, 1, adherence_cvd).0
                } else {
                    y
                }
            },
        },
        &mut fit,
        &mut one_step,
        s.one_step,
    );
    let ldl = gauss_block(
        person,
        Quantity::Ldl,
        GaussSpec {
            prior_mean: at_age(&cvdp::LDL_NATURAL[sex], age0),
            drift: &|t| {
                at_age(&cvdp::LDL_NATURAL[sex], age0 + t) - at_age(&cvdp::LDL_NATURAL[sex], age0)
            },
            level_sd: (cvdp::LDL_SD.powf_det(2.0) - cvd.p.ldl_fluct_sd.powf_det(2.0))
                .max(25.0)
                .sqrt(),
            slope_sd: LDL_SLOPE_SD,
            fluct_sd: cvd.p.ldl_fluct_sd,
            autocorr: cvd.p.fluct_autocorr,
            reading_sd: &|y| cvd.p.ldl_measure_cv * y.max(20.0),
            natural: &|t, y| {
                if person.treated_at(Drug::LipidLowering, t) {
                    y / (1.0 - cvd.p.statin_ldl * adherence_cvd)
                } else {
                    y
                }
            },
            treated: &|t, y| {
                if person.treated_at(Drug::LipidLowering, t) {
                    y * (1.0 - cvd.p.statin_ldl * adherence_cvd)
                } else {
                    y
                }
            },
        },
        &mut fit,
        &mut one_step,
        s.one_step,
    );
    let bmi = gauss_block(
        person,
        Quantity::Bmi,
        GaussSpec {
            prior_mean: at_age(&cvdp::BMI_MEAN[sex], age0),
            drift: &|t| at_age(&cvdp::BMI_MEAN[sex], age0 + t) - at_age(&cvdp::BMI_MEAN[sex], age0),
            level_sd: BMI_LEVEL_SD,
            slope_sd: BMI_SLOPE_SD,
            fluct_sd: 0.0,
            autocorr: 0.0,
            reading_sd: &|_| BMI_READING_SD,
            natural: &|_, y| y,
            treated: &|_, y| y,
        },
        &mut fit,
        &mut one_step,
        s.one_step,
    );
    let (fr_exposure, fr_start) = frailty_block(model, person, s.one_step, &mut fit, &mut one_step);
    let adherence = person.pdc.map(|pdc| {
        let dm = &model.diabetes().p;
        (
            if pdc >= 0.8 { 0.95 } else { dm.adherence_low },
            if pdc >= 0.8 {
                0.95
            } else {
                cvd.p.adherence_low
            },
        )
    });
    fit.sort_by(|a, b| {
        (a.quantity, a.t_years)
            .partial_cmp(&(b.quantity, b.t_years))
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    one_step.sort_by(|a, b| a.t_years.total_cmp(&b.t_years));
    Posterior {
        glycaemia,
        sbp,
        ldl,
        bmi,
        fr_exposure,
        fr_start,
        adherence,
        fit,
        one_step,
    }
}

fn mean_adherence(share: f64, low: f64) -> f64 {
    share * 0.95 + (1.0 - share) * low
}

// ----------------------------------------------------------------------------------------
// Glycaemia: importance sampling over the model's own entry draws.

fn glycaemic_block(
    model: &HealthModel,
    person: &PersonRecord,
    s: &PersonaliseSettings,
    fit: &mut Vec<Scored>,
    one_step: &mut Vec<Scored>,
) -> Option<GlycaemicPosterior> {
    let obs: Vec<(f64, Quantity, f64)> = person
        .observations
        .iter()
        .filter(|o| matches!(o.quantity, Quantity::Fpg | Quantity::Hba1c))
        .map(|o| (o.t_years, o.quantity, o.value))
        .collect();
    let first = obs.first()?.0;
    // No reading on or before the index date: the population model's own entry draws.
    if first > 1e-9 {
        return None;
    }
    let replay = replay(model, person, &obs, first, s);
    // Sequential log-weights over the readings in time order, from the first readings'
    // population prior.
    let mut logw = replay.log_prior.clone();
    let mut j = 0;
    let n = replay.readings.len();
    while j < n {
        // All readings at the same time are scored from the same (earlier) weights.
        let t = replay.readings[j].0;
        let mut k = j;
        while k < n && replay.readings[k].0 == t {
            k += 1;
        }
        let w = normalised(&logw);
        for r in (j..k).filter(|_| s.one_step) {
            let (t, q, y) = replay.readings[r];
            let preds: Vec<(f64, f64)> = replay.pred.iter().map(|p| p[r]).collect();
            one_step.push(mixture_score(q, t, y, &preds, &w));
        }
        for r in j..k {
            let y = replay.readings[r].2;
            for (lw, p) in logw.iter_mut().zip(&replay.pred) {
                let (mu, sd) = p[r];
                *lw += log_normal_pdf(y, mu, sd);
            }
        }
        j = k;
    }
    // The posterior at the index date uses the readings on or before it.
    let mut logw_index = replay.log_prior.clone();
    for (r, &(t, _, y)) in replay.readings.iter().enumerate() {
        if t <= 1e-9 {
            for (lw, p) in logw_index.iter_mut().zip(&replay.pred) {
                let (mu, sd) = p[r];
                *lw += log_normal_pdf(y, mu, sd);
            }
        }
    }
    let weights = normalised(&logw_index);
    for (r, &(t, q, y)) in replay.readings.iter().enumerate() {
        if t <= 1e-9 && s.scores {
            let preds: Vec<(f64, f64)> = replay.pred.iter().map(|p| p[r]).collect();
            fit.push(mixture_score(q, t, y, &preds, &weights));
        }
    }
    let at_index: Vec<GlycaemicParticle> = replay
        .at_index
        .iter()
        .map(|p| {
            p.unwrap_or(GlycaemicParticle {
                traits: DmTraits::default(),
                fpg_mg_dl: person.index.fpg_mg_dl,
                hba1c_pct: person.index.hba1c_pct,
            })
        })
        .collect();
    Some(GlycaemicPosterior {
        ess: stats::ess(&weights),
        weights,
        at_index,
    })
}

fn log_normal_pdf(y: f64, mu: f64, sd: f64) -> f64 {
    let z = (y - mu) / sd;
    -0.5 * z * z - sd.ln_det()
}

fn normalised(logw: &[f64]) -> Vec<f64> {
    let max = logw.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let mut w: Vec<f64> = logw.iter().map(|l| (l - max).exp_det()).collect();
    let s: f64 = w.iter().sum();
    for x in &mut w {
        *x /= s;
    }
    w
}

/// A reading scored against a weighted mixture of normals.
fn mixture_score(q: Quantity, t: f64, y: f64, preds: &[(f64, f64)], w: &[f64]) -> Scored {
    let pit: f64 = preds
        .iter()
        .zip(w)
        .map(|(&(mu, sd), w)| w * norm_cdf((y - mu) / sd))
        .sum();
    let mean: f64 = preds.iter().zip(w).map(|(&(mu, _), w)| w * mu).sum();
    Scored {
        quantity: q,
        t_years: t,
        observed: y,
        mean,
        lo90: mixture_quantile(preds, w, 0.05),
        hi90: mixture_quantile(preds, w, 0.95),
        pit: pit.clamp(0.0, 1.0),
    }
}

/// Quantile of a weighted normal mixture by bisection.
///
/// Each step compares the mixture's CDF at the midpoint, summed in particle order, with
/// `q`; [`mixture_cdf`] gives exactly that sum with less work, and the bisection stops once
/// the midpoint is an end already compared (nothing changes after that), so the result is
/// the one of 60 plain steps, bit for bit.
pub(crate) fn mixture_quantile(preds: &[(f64, f64)], w: &[f64], q: f64) -> f64 {
    let (mut lo, mut hi) = preds.iter().zip(w).filter(|(_, &w)| w > 0.0).fold(
        (f64::INFINITY, f64::NEG_INFINITY),
        |(lo, hi), (&(mu, sd), _)| (lo.min(mu - 6.0 * sd), hi.max(mu + 6.0 * sd)),
    );
    if !lo.is_finite() {
        return f64::NAN;
    }
    // The skipping in `mixture_cdf` needs every term's normal CDF to be a number in [0, 1]
    // and no negative weight.
    let regular = preds
        .iter()
        .all(|&(mu, sd)| mu.is_finite() && sd.is_finite() && sd > 0.0)
        && !w.iter().any(|&x| x < 0.0);
    let (mut lo_seen, mut hi_seen) = (false, false);
    for _ in 0..60 {
        let mid = 0.5 * (lo + hi);
        // At an end already compared, the comparison and so every later step repeats.
        if (mid.to_bits() == lo.to_bits() && lo_seen) || (mid.to_bits() == hi.to_bits() && hi_seen)
        {
            break;
        }
        let below = if regular {
            mixture_cdf(preds, w, mid) < q
        } else {
            let cdf: f64 = preds
                .iter()
                .zip(w)
                .map(|(&(mu, sd), w)| w * norm_cdf((mid - mu) / sd))
                .sum();
            cdf < q
        };
        if below {
            lo = mid;
            lo_seen = true;
        } else {
            hi = mid;
            hi_seen = true;
        }
    }
    0.5 * (lo + hi)
}

/// The weighted mixture's CDF at `x` as the sum `Σ w·Φ((x − μ)/σ)` in particle order gives
/// it, bit for bit, without evaluating the terms that cannot change the running sum: a term
/// is at most its weight (Φ ≤ 1, every μ and σ finite, σ > 0), and a non-negative term
/// below half the gap from a positive running sum to the next number leaves it unchanged
/// (round to nearest). Importance weights span many orders of magnitude, so most terms of
/// a degenerate posterior are skipped.
fn mixture_cdf(preds: &[(f64, f64)], w: &[f64], x: f64) -> f64 {
    // A positive running sum s lies in [2^k, 2^(k+1)); the gap above it is 2^(k−52), so
    // s·2^−54 < 2^(k−53) is below half the gap (and rounding cannot take it past 2^(k−53),
    // itself a number). A sum of ±0 skips nothing (no weight is below 0).
    const QUARTER_ULP: f64 = 1.0 / (1u64 << 54) as f64;
    let mut sum = -0.0;
    let mut skip_below = 0.0;
    for (&(mu, sd), &wi) in preds.iter().zip(w) {
        if wi < skip_below {
            continue;
        }
        sum += wi * norm_cdf((x - mu) / sd);
        skip_below = sum * QUARTER_ULP;
    }
    sum
}

/// The glycaemic readings of `person` (sorted by time), first-visit values and times, and
/// each prior particle replayed through them.
fn replay(
    model: &HealthModel,
    person: &PersonRecord,
    obs: &[(f64, Quantity, f64)],
    first: f64,
    s: &PersonaliseSettings,
) -> Replay {
    let dm = model.diabetes();
    let p = &dm.p;
    // First-visit readings (within 6 months of the first one); the other quantity from
    // ADAG if only one was measured.
    let near = |q: Quantity| {
        obs.iter()
            .filter(|o| o.1 == q && o.0 - first <= 0.5)
            .map(|o| o.2)
            .next()
    };
    let fpg1 = near(Quantity::Fpg);
    let a1c1 = near(Quantity::Hba1c);
    let (fpg1, a1c1) = match (fpg1, a1c1) {
        (Some(f), Some(a)) => (f, a),
        (Some(f), None) => (
            f,
            models::diabetes::physiology::hba1c_from_eag(f + p.mean_minus_fasting),
        ),
        (None, Some(a)) => (
            models::diabetes::physiology::eag_from_hba1c(a) - p.mean_minus_fasting,
            a,
        ),
        (None, None) => (person.index.fpg_mg_dl, person.index.hba1c_pct),
    };
    // The first visit's readings set the entry state; every later reading is a datum.
    let used_for_entry = |t: f64, q: Quantity| {
        t - first <= 0.5
            && ((q == Quantity::Fpg && near(Quantity::Fpg).is_some())
                || (q == Quantity::Hba1c && near(Quantity::Hba1c).is_some()))
            && obs.iter().find(|o| o.1 == q).map(|o| o.0) == Some(t)
    };
    let readings: Vec<(f64, Quantity, f64)> = obs
        .iter()
        .copied()
        .filter(|&(t, q, _)| !used_for_entry(t, q))
        .collect();
    let t_end = readings.last().map_or(0.0, |r| r.0).max(0.0);
    let bmi_points: Vec<(f64, f64)> = person
        .observations
        .iter()
        .filter(|o| o.quantity == Quantity::Bmi)
        .map(|o| (o.t_years, o.value))
        .collect();
    let bmi_at = |t: f64| bmi_path(&bmi_points, person.index.bmi_kg_m2, t);
    let targets: Vec<f64> = readings.iter().map(|r| r.0).collect();
    let m = s.particles.max(16);
    let run = RunKey {
        seed: s.seed,
        replicate: 0,
    };
    let noise_key = StreamKey::new(run, FIRST_READING_NOISE);
    // The population's distribution of true first readings (cohort::japan, the synthetic
    // cohort's inputs with their sources): non-diabetic by age and sex; with diabetes at
    // the first visit the diabetic HbA1c and a wide FPG.
    let age1 = person.age_years + first;
    let diabetic1 = person.treated_at(Drug::GlucoseLowering, first)
        || a1c1 >= HBA1C_DIABETES
        || fpg1 >= FPG_DIABETES;
    let (mu_a, sd_a, mu_f, sd_f) = if diabetic1 {
        let a = cohort::japan::HBA1C_DIABETIC_MEAN;
        (
            a,
            cohort::japan::HBA1C_DIABETIC_SD,
            models::diabetes::physiology::eag_from_hba1c(a) - p.mean_minus_fasting,
            cohort::japan::FPG_DIABETIC_SD,
        )
    } else {
        let sx = person.sex.index();
        let m = |g: &cohort::japan::Marginal| {
            (
                cohort::japan::at_age(&g.mean[sx], age1),
                cohort::japan::at_age(&g.sd[sx], age1),
            )
        };
        let (ma, sa) = m(&cohort::japan::HBA1C_NON_DIABETIC);
        let (mf, sf) = m(&cohort::japan::FPG_NON_DIABETIC);
        (ma, sa, mf, sf)
    };
    type Replayed = (Vec<(f64, f64)>, Option<GlycaemicParticle>, f64);
    let results: Vec<Replayed> = (0..m)
        .into_par_iter()
        .map(|i| {
            let mut z = Stream::new(noise_key, i as u64, 0);
            let fpg_true = fpg1 * (p.fpg_cv * z.std_normal()).exp_det();
            let a1c_true = a1c1 + p.hba1c_cv * a1c1 * z.std_normal();
            let log_prior =
                log_normal_pdf(fpg_true, mu_f, sd_f) + log_normal_pdf(a1c_true, mu_a, sd_a);
            let mut cov = person.index;
            cov.fpg_mg_dl = fpg_true.clamp(50.0, 400.0);
            cov.hba1c_pct = a1c_true.clamp(3.5, 15.0);
            cov.bmi_kg_m2 = bmi_at(first);
            let treated = person.treated_at(Drug::GlucoseLowering, first);
            cov.treatments.set(Treatments::GLUCOSE_LOWERING, treated);
            cov.conditions.set(Conditions::DIABETES, treated);
            let b = Baseline {
                id: i as u64,
                sex: person.sex,
                age_years: age1,
                covariates: cov,
            };
            let mut st: DmState = dm.init_mean_fluctuation(run, &b);
            // The person's own drift of ε (spike and slab: a glycaemic progressor or not) is
            // the population model's prior, drawn by `Diabetes::init` above
            // (`Diabetes::progressor_drift`, the `dm.beta.progressor_*` parameters): without
            // it a steadily rising HbA1c could only be noise; with the spike at 0 a flat
            // history shrinks back to the population model (docs/twin.md).
            let drift = st.efficiency_drift;
            let mut hba1c = cov.hba1c_pct;
            let mut t = first;
            let mut preds = Vec::with_capacity(readings.len());
            let mut at_index = None;
            // Process noise from the model's insulin-sensitivity fluctuation: the glucose
            // response to one SD of it at entry, on top of the measurement CVs.
            let (proc_f, proc_a) = {
                let inp = dm.inputs(st.dm(), age1, &cov);
                let mut up = inp;
                up.si *= p.si_fluctuation_sd.exp_det();
                let g_up = dm.phys.fasting(&up, st.beta, st.fpg_mg_dl).0;
                let dg = (g_up - st.fpg_mg_dl).abs();
                (
                    (1.0 + dg / st.fpg_mg_dl.max(1.0)).ln_det(),
                    dg / models::diabetes::physiology::ADAG_SLOPE,
                )
            };
            let mut next = 0usize;
            let step = 1.0 / 12.0;
            // The HbA1c lag weights of the last step length: a function of the length only,
            // so they are the bits `step_slow` would compute, and most steps repeat the
            // length before them (a month, to the last bit about 4 steps in 5).
            let month_days: f64 = step * 365.25;
            let mut last = (month_days.to_bits(), dm.phys.step_weights(month_days));
            loop {
                // Record what is due at the current time.
                while next < targets.len() && targets[next] <= t + 1e-9 {
                    let q = readings[next].1;
                    let pred = match q {
                        Quantity::Fpg => {
                            let sd = (p.fpg_cv.powf_det(2.0) + proc_f.powf_det(2.0)).sqrt();
                            // Normal on the log scale, mapped to a normal with that CV.
                            (st.fpg_mg_dl, st.fpg_mg_dl * sd)
                        }
                        _ => {
                            let sd =
                                ((p.hba1c_cv * hba1c).powf_det(2.0) + proc_a.powf_det(2.0)).sqrt();
                            (hba1c, sd)
                        }
                    };
                    preds.push(pred);
                    next += 1;
                }
                if at_index.is_none() && t >= -1e-9 {
                    at_index = Some(GlycaemicParticle {
                        traits: DmTraits {
                            beta: st.beta,
                            capacity: st.capacity,
                            efficiency: st.efficiency,
                            efficiency_drift: drift,
                            si_person: st.si_person,
                            r0: st.r0,
                            glycation: st.glycation,
                            onset_age: st.onset_age.unwrap_or(f64::NAN),
                            adherence: f64::NAN,
                        },
                        fpg_mg_dl: st.fpg_mg_dl,
                        hba1c_pct: hba1c,
                    });
                }
                if t >= t_end - 1e-9 && next >= targets.len() {
                    break;
                }
                // Step to the next month, reading or the index date, whichever is first.
                let mut t1 = t + step;
                if next < targets.len() {
                    t1 = t1.min(targets[next]);
                }
                if t < 0.0 {
                    t1 = t1.min(0.0);
                }
                let dt = (t1 - t).max(1e-6);
                let age = person.age_years + t;
                let mut c = cov;
                c.bmi_kg_m2 = bmi_at(t + 0.5 * dt);
                if !st.diagnosed && person.treated_at(Drug::GlucoseLowering, t) {
                    st.diagnosed = true;
                    st.rx = st.rx.max(RX_DPP4);
                }
                let inp = dm.inputs(&st, age, &c);
                let mut y = [st.beta, st.capacity, hba1c];
                let dt_days = dt * 365.25;
                let lag = if dt_days.to_bits() == last.0 {
                    last.1
                } else {
                    last = (dt_days.to_bits(), dm.phys.step_weights(dt_days));
                    last.1
                };
                let g = dm
                    .phys
                    .step_slow_with(&inp, &mut y, st.fpg_mg_dl, dt_days, lag)
                    .fpg_mg_dl;
                st.beta = y[0].max(0.0);
                st.capacity = y[1].max(0.0);
                hba1c = y[2];
                let d = if st.onset_age.is_none() { drift } else { 0.0 };
                st.efficiency *= (-(p.efficiency_loss + d) * dt).exp_det();
                st.fpg_mg_dl = g;
                t = t1;
                if st.onset_age.is_none() && (hba1c >= HBA1C_DIABETES || g >= FPG_DIABETES) {
                    st.onset_age = Some(person.age_years + t);
                }
            }
            (preds, at_index, log_prior)
        })
        .collect();
    let mut pred = Vec::with_capacity(m);
    let mut at_index = Vec::with_capacity(m);
    let mut log_prior = Vec::with_capacity(m);
    for (p, a, l) in results {
        pred.push(p);
        at_index.push(a);
        log_prior.push(l);
    }
    Replay {
        readings,
        pred,
        at_index,
        log_prior,
    }
}

/// BMI at time `t` (years from the index): linear between the readings, the nearest
/// reading beyond them, the index BMI without any.
fn bmi_path(pts: &[(f64, f64)], index_bmi: f64, t: f64) -> f64 {
    if pts.is_empty() {
        return index_bmi;
    }
    if t <= pts[0].0 {
        return pts[0].1;
    }
    for w in pts.windows(2) {
        if t <= w[1].0 {
            let f = (t - w[0].0) / (w[1].0 - w[0].0).max(1e-9);
            return w[0].1 + f * (w[1].1 - w[0].1);
        }
    }
    pts[pts.len() - 1].1
}

// ----------------------------------------------------------------------------------------
// Linear-Gaussian blocks: level + slope + AR(1) fluctuation + reading error.

struct GaussSpec<'a> {
    prior_mean: f64,
    /// Population drift of the level from the index date to time t.
    drift: &'a dyn Fn(f64) -> f64,
    level_sd: f64,
    slope_sd: f64,
    fluct_sd: f64,
    /// Correlation of the fluctuation over one year.
    autocorr: f64,
    reading_sd: &'a dyn Fn(f64) -> f64,
    /// A reading at time t turned into the untreated value.
    natural: &'a dyn Fn(f64, f64) -> f64,
    /// An untreated value at time t turned into the reading under that time's treatment.
    treated: &'a dyn Fn(f64, f64) -> f64,
}

fn gauss_block(
    person: &PersonRecord,
    q: Quantity,
    spec: GaussSpec<'_>,
    fit: &mut Vec<Scored>,
    one_step: &mut Vec<Scored>,
    one_step_wanted: bool,
) -> Option<GaussPosterior> {
    let mut obs: Vec<(f64, f64, f64)> = person
        .observations
        .iter()
        .filter(|o| o.quantity == q)
        .map(|o| (o.t_years, (spec.natural)(o.t_years, o.value), o.value))
        .collect();
    if obs.len() > MAX_READINGS {
        obs.drain(..obs.len() - MAX_READINGS);
    }
    let before: Vec<(f64, f64, f64)> = obs.iter().copied().filter(|o| o.0 <= 1e-9).collect();
    if obs.len() >= 2 && one_step_wanted {
        // One-step-ahead predictive of every reading after the first.
        let all: Vec<(f64, f64)> = obs.iter().map(|o| (o.0, o.1)).collect();
        if let Some(steps) = sequential_predictive(&spec, &all) {
            for (i, (mu, sd)) in steps.into_iter().enumerate().skip(1) {
                let (t, nat, raw) = obs[i];
                // Scored on the untreated scale, reported on the reading's own scale.
                let shift = raw - nat;
                one_step.push(Scored {
                    quantity: q,
                    t_years: t,
                    observed: raw,
                    mean: (spec.treated)(t, mu),
                    lo90: (spec.treated)(t, mu - 1.645 * sd)
                        .min((spec.treated)(t, mu + 1.645 * sd)),
                    hi90: (spec.treated)(t, mu + 1.645 * sd)
                        .max((spec.treated)(t, mu - 1.645 * sd)),
                    pit: norm_cdf((nat - mu) / sd),
                });
                let _ = shift;
            }
        }
    }
    // No reading on or before the index date: the model's own split at entry.
    if before.is_empty() {
        return None;
    }
    let pts: Vec<(f64, f64)> = before.iter().map(|o| (o.0, o.1)).collect();
    let post = posterior_of(&spec, &pts)?;
    // The fit: each reading's posterior mean of level + slope·t + fluctuation, with the
    // reading error, on the reading's own scale.
    for &(t, _, raw) in &before {
        let (mu, var) = fitted_at(&spec, &pts, t)?;
        let sd = (var + (spec.reading_sd)(mu).powf_det(2.0)).sqrt();
        fit.push(Scored {
            quantity: q,
            t_years: t,
            observed: raw,
            mean: (spec.treated)(t, mu),
            lo90: (spec.treated)(t, mu - 1.645 * sd),
            hi90: (spec.treated)(t, mu + 1.645 * sd),
            pit: norm_cdf(((spec.natural)(t, raw) - mu) / sd),
        });
    }
    Some(post)
}

/// Prior covariance of the latent values at times a and b (level + slope·t + fluctuation).
fn latent_cov(spec: &GaussSpec<'_>, a: f64, b: f64) -> f64 {
    let ar = if spec.fluct_sd > 0.0 {
        spec.fluct_sd.powf_det(2.0) * spec.autocorr.max(1e-9).powf_det((a - b).abs())
    } else {
        0.0
    };
    spec.level_sd.powf_det(2.0) + spec.slope_sd.powf_det(2.0) * a * b + ar
}

fn prior_mean_at(spec: &GaussSpec<'_>, t: f64) -> f64 {
    spec.prior_mean + (spec.drift)(t)
}

/// Covariance matrix of readings at `pts` (with reading error), Cholesky-factored, and the
/// whitened residuals.
fn factor(spec: &GaussSpec<'_>, pts: &[(f64, f64)]) -> Option<(Vec<f64>, Vec<f64>)> {
    let n = pts.len();
    let mut c = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..n {
            c[i * n + j] = latent_cov(spec, pts[i].0, pts[j].0);
        }
        c[i * n + i] += (spec.reading_sd)(pts[i].1).powf_det(2.0);
    }
    if !cholesky(&mut c, n) {
        return None;
    }
    let mut w: Vec<f64> = pts
        .iter()
        .map(|&(t, y)| y - prior_mean_at(spec, t))
        .collect();
    forward_solve(&c, n, &mut w);
    Some((c, w))
}

/// One-step-ahead predictive mean and SD (reading error included) of each reading given
/// the ones before it: the Cholesky factor's rows are exactly these innovations.
fn sequential_predictive(spec: &GaussSpec<'_>, pts: &[(f64, f64)]) -> Option<Vec<(f64, f64)>> {
    let (l, w) = factor(spec, pts)?;
    let n = pts.len();
    Some(
        (0..n)
            .map(|i| {
                let mut mu = prior_mean_at(spec, pts[i].0);
                for k in 0..i {
                    mu += l[i * n + k] * w[k];
                }
                (mu, l[i * n + i])
            })
            .collect(),
    )
}

/// Posterior mean and variance of the latent value at time `t` given `pts`.
fn fitted_at(spec: &GaussSpec<'_>, pts: &[(f64, f64)], t: f64) -> Option<(f64, f64)> {
    let (l, w) = factor(spec, pts)?;
    let n = pts.len();
    let mut k: Vec<f64> = pts.iter().map(|&(ti, _)| latent_cov(spec, t, ti)).collect();
    forward_solve(&l, n, &mut k);
    let mean = prior_mean_at(spec, t) + k.iter().zip(&w).map(|(a, b)| a * b).sum::<f64>();
    let var = latent_cov(spec, t, t) - k.iter().map(|a| a * a).sum::<f64>();
    Some((mean, var.max(0.0)))
}

/// Posterior of (level at 0, slope, fluctuation at 0).
fn posterior_of(spec: &GaussSpec<'_>, pts: &[(f64, f64)]) -> Option<GaussPosterior> {
    let (l, w) = factor(spec, pts)?;
    let n = pts.len();
    let ar = |t: f64| {
        if spec.fluct_sd > 0.0 {
            spec.fluct_sd.powf_det(2.0) * spec.autocorr.max(1e-9).powf_det(t.abs())
        } else {
            0.0
        }
    };
    // Cross-covariances of each latent with the readings, whitened.
    let cross: [Vec<f64>; 3] = [
        pts.iter().map(|_| spec.level_sd.powf_det(2.0)).collect(),
        pts.iter()
            .map(|&(t, _)| spec.slope_sd.powf_det(2.0) * t)
            .collect(),
        pts.iter().map(|&(t, _)| ar(t)).collect(),
    ];
    let prior_var = [
        spec.level_sd.powf_det(2.0),
        spec.slope_sd.powf_det(2.0),
        if spec.fluct_sd > 0.0 {
            spec.fluct_sd.powf_det(2.0)
        } else {
            0.0
        },
    ];
    let prior_mean = [spec.prior_mean, 0.0, 0.0];
    let white: Vec<Vec<f64>> = cross
        .iter()
        .map(|c| {
            let mut v = c.clone();
            forward_solve(&l, n, &mut v);
            v
        })
        .collect();
    let dot = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(x, y)| x * y).sum::<f64>();
    let mut mean = [0.0; 3];
    let mut cov = [0.0; 9];
    for i in 0..3 {
        mean[i] = prior_mean[i] + dot(&white[i], &w);
        for j in 0..3 {
            let prior = if i == j { prior_var[i] } else { 0.0 };
            cov[i * 3 + j] = prior - dot(&white[i], &white[j]);
        }
    }
    // A zero-variance component (no fluctuation in the BMI block) gets a tiny jitter.
    for i in 0..3 {
        cov[i * 3 + i] = cov[i * 3 + i].max(1e-12);
    }
    let mut chol = cov;
    if !cholesky(&mut chol, 3) {
        return None;
    }
    Some(GaussPosterior { mean, chol })
}

// ----------------------------------------------------------------------------------------
// Frailty: exposure through the count history.

fn frailty_block(
    model: &HealthModel,
    person: &PersonRecord,
    one_step_wanted: bool,
    fit: &mut Vec<Scored>,
    one_step: &mut Vec<Scored>,
) -> (Option<f64>, Option<FrStart>) {
    let fr = model.frailty();
    let counts: Vec<(f64, u32)> = person
        .observations
        .iter()
        .filter(|o| o.quantity == Quantity::Fi)
        .map(|o| (o.t_years, (o.value * 32.0).round().clamp(0.0, 32.0) as u32))
        .collect();
    let k = fr.p.heterogeneity_shape;
    let rho = JCHS_SHARE_OF_DEFICITS * fr.p.repair_jchs
        + (1.0 - JCHS_SHARE_OF_DEFICITS) * fr.p.repair_other;
    let mean_at = |t: f64| fr.reference_mean_count_at(person.age_years + t).max(0.05);
    // No FI reading in the importer's look-back before the index: the index FI is an
    // imputed mean, not the person's value; the copies draw their start instead.
    let imputed = person
        .latest(Quantity::Fi, 0.0, INDEX_LOOKBACK_YEARS + 1e-6)
        .is_none();
    // Grid over the exposure with the Gamma(k, k) prior.
    let grid: Vec<f64> = (0..240)
        .map(|i| (-3.0 + 6.0 * f64::from(i) / 239.0).exp_det())
        .collect();
    let mut logp: Vec<f64> = grid
        .iter()
        .map(|&e| (k - 1.0) * e.ln_det() - k * e + e.ln_det()) // × e for the log-spaced grid
        .collect();
    for (j, &(t, n)) in counts.iter().enumerate() {
        let lik: Vec<f64> = grid
            .iter()
            .map(|&e| {
                if j == 0 {
                    poisson_logpmf(n, e * mean_at(t))
                } else {
                    let (t0, n0) = counts[j - 1];
                    let beta = (-rho * (t - t0).max(0.0)).exp_det();
                    let imm = (e * (mean_at(t) - beta * mean_at(t0))).max(0.01);
                    thinning_logpmf(n, n0, beta, imm)
                }
            })
            .collect();
        if j > 0 && one_step_wanted {
            // One-step predictive: P(count ≤ n) under the current posterior.
            let w = normalised(&logp);
            let (t0, n0) = counts[j - 1];
            let beta = (-rho * (t - t0).max(0.0)).exp_det();
            let cdf_at = |m: i64| -> f64 {
                if m < 0 {
                    return 0.0;
                }
                grid.iter()
                    .zip(&w)
                    .map(|(&e, w)| {
                        let imm = (e * (mean_at(t) - beta * mean_at(t0))).max(0.01);
                        (0..=m as u32)
                            .map(|x| thinning_logpmf(x, n0, beta, imm).exp_det())
                            .sum::<f64>()
                            * w
                    })
                    .sum()
            };
            let below = cdf_at(i64::from(n) - 1);
            let upto = cdf_at(i64::from(n));
            // Mid-p PIT of a discrete reading.
            let pit = 0.5 * (below + upto);
            let quant = |q: f64| -> f64 {
                (0..=32i64).find(|&m| cdf_at(m) >= q).unwrap_or(32) as f64 / 32.0
            };
            let mean: f64 = grid
                .iter()
                .zip(&w)
                .map(|(&e, w)| {
                    w * (beta * f64::from(n0) + (e * (mean_at(t) - beta * mean_at(t0))).max(0.01))
                })
                .sum::<f64>()
                / 32.0;
            one_step.push(Scored {
                quantity: Quantity::Fi,
                t_years: t,
                observed: f64::from(n) / 32.0,
                mean,
                lo90: quant(0.05),
                hi90: quant(0.95),
                pit,
            });
        }
        if t <= 1e-9 {
            for (l, x) in logp.iter_mut().zip(lik) {
                *l += x;
            }
        }
    }
    let start = imputed.then(|| {
        let w = normalised(&logp);
        let cdf: Vec<f64> = w
            .iter()
            .scan(0.0, |acc, &x| {
                *acc += x;
                Some(*acc)
            })
            .collect();
        let last = counts
            .iter()
            .filter(|c| c.0 <= 1e-9)
            .max_by(|a, b| a.0.total_cmp(&b.0))
            .map(|&(t0, n0)| ((-rho * (-t0).max(0.0)).exp_det(), n0, mean_at(t0)));
        FrStart::new(grid.clone(), cdf, logp.clone(), mean_at(0.0), last)
    });
    if !counts.iter().any(|c| c.0 <= 1e-9) {
        return (None, start);
    }
    let w = normalised(&logp);
    let mean_e: f64 = grid.iter().zip(&w).map(|(e, w)| e * w).sum();
    for &(t, n) in counts.iter().filter(|c| c.0 <= 1e-9) {
        let m = mean_e * mean_at(t) / 32.0;
        fit.push(Scored {
            quantity: Quantity::Fi,
            t_years: t,
            observed: f64::from(n) / 32.0,
            mean: m,
            lo90: (m - 1.645 * (m / 32.0).sqrt()).max(0.0),
            hi90: m + 1.645 * (m / 32.0).sqrt(),
            pit: 0.5,
        });
    }
    (Some(mean_e), start)
}

/// ln n!, from a table of the same left-to-right sums for n < 64 (the frailty kernel asks
/// for it millions of times per person).
fn ln_factorial(n: u32) -> f64 {
    static TABLE: std::sync::OnceLock<[f64; 64]> = std::sync::OnceLock::new();
    let sum = |n: u32| -> f64 { (1..=n).map(|i| f64::from(i).ln_det()).sum() };
    match TABLE
        .get_or_init(|| std::array::from_fn(|i| sum(i as u32)))
        .get(n as usize)
    {
        Some(v) => *v,
        None => sum(n),
    }
}

fn poisson_logpmf(n: u32, lambda: f64) -> f64 {
    let l = lambda.max(1e-12);
    f64::from(n) * l.ln_det() - l - ln_factorial(n)
}

/// log P(N = n) for N = Binomial(n0, beta) + Poisson(imm).
fn thinning_logpmf(n: u32, n0: u32, beta: f64, imm: f64) -> f64 {
    let mut p = 0.0;
    for s in 0..=n.min(n0) {
        let lb = ln_factorial(n0) - ln_factorial(s) - ln_factorial(n0 - s)
            + f64::from(s) * beta.max(1e-300).ln_det()
            + f64::from(n0 - s) * (1.0 - beta).max(1e-300).ln_det();
        p += (lb + poisson_logpmf(n - s, imm)).exp_det();
    }
    p.max(1e-300).ln_det()
}

// ----------------------------------------------------------------------------------------
// Copies for the forecast.

/// K copies of the person for a forecast: their baselines (ids 0..K) and traits, each
/// copy's glycaemic state resampled from the posterior particles and its Gaussian blocks
/// drawn from their posteriors (keyed draws). `first_id` offsets the ids (cohort batches).
pub fn copies(
    person: &PersonRecord,
    post: &Posterior,
    k: usize,
    first_id: u64,
    seed: u64,
) -> (Vec<Baseline>, Vec<PersonalTraits>) {
    let run = RunKey { seed, replicate: 0 };
    let resample_u = Stream::new(StreamKey::new(run, RESAMPLE), first_id, 0).uniform();
    let picks = post
        .glycaemia
        .as_ref()
        .map(|g| stats::systematic_resample(&g.weights, k, resample_u));
    let draws_key = StreamKey::new(run, COPY_DRAWS);
    let mut baselines = Vec::with_capacity(k);
    let mut traits = Vec::with_capacity(k);
    for c in 0..k {
        let id = first_id + c as u64;
        let mut b = person.baseline(id);
        let mut t = PersonalTraits::default();
        if let (Some(g), Some(picks)) = (&post.glycaemia, &picks) {
            let part = &g.at_index[picks[c]];
            if part.traits.beta.is_finite() {
                b.covariates.fpg_mg_dl = part.fpg_mg_dl;
                b.covariates.hba1c_pct = part.hba1c_pct;
                t.dm = Some(part.traits);
            }
        }
        let mut z = Stream::new(draws_key, id, 0);
        let mut cvd = CvdTraits::default();
        let mut any_cvd = false;
        if let Some(sbp) = &post.sbp {
            let [lvl, slope, fl] = sbp.draw([z.std_normal(), z.std_normal(), z.std_normal()]);
            cvd.sbp_level = lvl;
            cvd.sbp_slope = slope;
            cvd.sbp_fluct = fl;
            any_cvd = true;
        }
        if let Some(ldl) = &post.ldl {
            let [lvl, slope, fl] = ldl.draw([z.std_normal(), z.std_normal(), z.std_normal()]);
            cvd.ldl_level = lvl;
            cvd.ldl_slope = slope;
            cvd.ldl_fluct = fl;
            any_cvd = true;
        }
        if let Some(bmi) = &post.bmi {
            // The usual BMI at the index date (the reading less its error) and the slope.
            let [level, slope, _] = bmi.draw([z.std_normal(), z.std_normal(), z.std_normal()]);
            b.covariates.bmi_kg_m2 = level.clamp(12.0, 70.0);
            cvd.bmi_slope = slope;
            any_cvd = true;
        }
        if let Some((dm_adh, cvd_adh)) = post.adherence {
            cvd.adherence = cvd_adh;
            any_cvd = true;
            let mut d = t.dm.unwrap_or_default();
            d.adherence = dm_adh;
            t.dm = Some(d);
        }
        if any_cvd {
            t.cvd = Some(cvd);
        }
        if let Some(e) = post.fr_exposure {
            t.fr = Some(FrTraits { exposure: e });
        }
        if let Some(start) = &post.fr_start {
            // Drawn last from the copy's stream, so no other draw moves.
            let (fi, exposure) = start.draw(z.uniform(), z.uniform());
            b.covariates.frailty_index = fi;
            t.fr = exposure.map(|exposure| FrTraits { exposure });
        }
        baselines.push(b);
        traits.push(t);
    }
    (baselines, traits)
}

#[cfg(test)]
mod tests {
    use super::{mixture_quantile, norm_cdf};

    /// The plain bisection: 60 steps, every CDF summed over every term.
    fn plain_quantile(preds: &[(f64, f64)], w: &[f64], q: f64) -> f64 {
        let cdf = |x: f64| -> f64 {
            preds
                .iter()
                .zip(w)
                .map(|(&(mu, sd), w)| w * norm_cdf((x - mu) / sd))
                .sum()
        };
        let (mut lo, mut hi) = preds.iter().zip(w).filter(|(_, &w)| w > 0.0).fold(
            (f64::INFINITY, f64::NEG_INFINITY),
            |(lo, hi), (&(mu, sd), _)| (lo.min(mu - 6.0 * sd), hi.max(mu + 6.0 * sd)),
        );
        if !lo.is_finite() {
            return f64::NAN;
        }
        for _ in 0..60 {
            let mid = 0.5 * (lo + hi);
            if cdf(mid) < q {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        0.5 * (lo + hi)
    }

    #[test]
    fn the_mixture_quantile_is_the_plain_bisections_bit_for_bit() {
        use engine::math::ExpDet;
        use engine::rng::{Process, RunKey, Stream, StreamKey};
        let key = StreamKey::new(
            RunKey {
                seed: 3,
                replicate: 0,
            },
            Process::named("test"),
        );
        for case in 0..60u64 {
            let mut s = Stream::new(key, case, 0);
            let n = 1 + (case as usize * 37) % 700;
            // Log-weights from flat to very degenerate (spread up to 2,000 nats), some
            // exactly zero weights, means and SDs on an HbA1c-like and an FPG-like scale.
            let spread = [0.1, 5.0, 50.0, 400.0, 2000.0][case as usize % 5];
            let scale = if case % 2 == 0 { 6.0 } else { 110.0 };
            let mut preds = Vec::with_capacity(n);
            let mut logw = Vec::with_capacity(n);
            for _ in 0..n {
                let mu = scale * (1.0 + 0.2 * s.std_normal());
                let sd = scale * 0.03 * (0.3 * s.std_normal()).exp_det();
                preds.push((mu, sd));
                logw.push(-spread * s.uniform());
            }
            let max = logw.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let mut w: Vec<f64> = logw.iter().map(|l| (l - max).exp_det()).collect();
            let total: f64 = w.iter().sum();
            w.iter_mut().for_each(|x| *x /= total);
            if case % 3 == 0 {
                w[n / 2] = 0.0;
            }
            for q in [0.05, 0.5, 0.95, 1e-9] {
                let (a, b) = (
                    mixture_quantile(&preds, &w, q),
                    plain_quantile(&preds, &w, q),
                );
                assert_eq!(a.to_bits(), b.to_bits(), "case {case}, q {q}: {a} vs {b}");
            }
        }
        // Irregular terms (a zero SD) take the plain sum.
        let preds = [(5.0, 0.0), (5.5, 0.2), (6.0, 0.3)];
        let w = [0.2, 0.5, 0.3];
        assert_eq!(
            mixture_quantile(&preds, &w, 0.5).to_bits(),
            plain_quantile(&preds, &w, 0.5).to_bits()
        );
    }
}
