//! Local prevalences that differ from national ones, applied as documented adjustments
//! (docs/planning.md, "Local prevalences"), never silently: each is matched at entry (the
//! residents' state on 1 April of the first fiscal year, replicate 0) and reported beside
//! its target and the national value.
//!
//! - diabetes (share with HbA1c ≥ 6.5% or treated among residents 40-74): the odds of
//!   diabetes in every stratum times one odds ratio, the town's odds over the national odds
//!   at 40-74 on the town's structure (a tilt of the sample, [`crate::residents`]);
//! - frailty (share frail among uncertified residents 65+, J-CHS or Kihon Checklist): an
//!   exponential tilt of the sample's frailty index among residents 65+, solved by bisection;
//! - certification rate (share certified among residents 65+): one shift of the
//!   certification log-odds at entry and of its log-hazard afterwards
//!   (`fr.ltc.local_log_odds`), solved on the expected share;
//! - care-level share (要介護1-5 among the certified 65+): one shift of the care-level
//!   thresholds (`fr.ltc.local_level_shift`), solved on the expected share.
//!
//! Must never: change the national model when no local number is given (every adjustment
//! is then exactly zero).

use engine::{Baseline, RunKey};
use models::frailty::kcl::Phenotype;
use models::HealthModel;
use scenarios::plan::{FrailtyMeasure, LocalInputs};

use crate::residents::{has_diabetes, strata, Sampler, Tilt};
use crate::town::Town;
use crate::PlanError;

/// One local number and how it was met.
#[derive(Clone, Debug, PartialEq)]
pub struct Matched {
    /// Measure key (`diabetes_prevalence`, `frailty_prevalence`, `certification_rate`,
    /// `care_level_share`).
    pub what: &'static str,
    pub target: f64,
    /// The value with national inputs (same town structure).
    pub national: f64,
    /// The value after the adjustment (at entry, replicate 0).
    pub fitted: f64,
    /// The adjustment: odds ratio, tilt, log-odds shift or threshold shift.
    pub adjustment: f64,
}

/// The fitted adjustments.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LocalFit {
    pub tilt: Tilt,
    pub cert_log_odds: f64,
    pub level_shift: f64,
    pub matched: Vec<Matched>,
}

/// State at entry of the residents 65+ under `model` (run key `key`): (frail by `measure`,
/// certified, care level ≥ care 1, the care-need score, the baseline logit of
/// certification).
struct Entry {
    frail: bool,
    certified: bool,
    care: bool,
    score: f64,
    logit0: f64,
}

fn entries(
    model: &HealthModel,
    key: RunKey,
    people: &[Baseline],
    measure: FrailtyMeasure,
) -> Vec<Entry> {
    let fr = model.frailty();
    people
        .iter()
        .filter(|b| b.age_years >= 65.0)
        .map(|b| {
            let st = fr.init(key, b);
            let score = fr.need_score(&st);
            Entry {
                frail: match measure {
                    FrailtyMeasure::Jchs => st.phenotype() == Phenotype::Frail,
                    FrailtyMeasure::Kcl => st.kcl_total() >= 8,
                },
                certified: st.certified(),
                care: st.ltc >= models::frailty::level::CARE1,
                score,
                logit0: fr.init_certification_logit(b.age_years) + fr.p.cert_per_deficit * score,
            }
        })
        .collect()
}

fn frail_share(e: &[Entry]) -> f64 {
    let un: Vec<&Entry> = e.iter().filter(|x| !x.certified).collect();
    un.iter().filter(|x| x.frail).count() as f64 / un.len().max(1) as f64
}

fn certified_share(e: &[Entry]) -> f64 {
    e.iter().filter(|x| x.certified).count() as f64 / e.len().max(1) as f64
}

fn care_share(e: &[Entry]) -> f64 {
    let c = e.iter().filter(|x| x.certified).count();
    e.iter().filter(|x| x.certified && x.care).count() as f64 / c.max(1) as f64
}

fn logistic(x: f64) -> f64 {
    1.0 / (1.0 + engine::math::exp(-x))
}

/// Bisection of an increasing `f` for `f(x) = target` on [lo, hi].
fn solve(
    mut lo: f64,
    mut hi: f64,
    target: f64,
    f: impl Fn(f64) -> Result<f64, PlanError>,
) -> Result<f64, PlanError> {
    for _ in 0..40 {
        let mid = 0.5 * (lo + hi);
        if f(mid)? < target {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    Ok(0.5 * (lo + hi))
}

/// The diabetes share among residents 40-74 of the town's structure (the national one
/// where the town gives no 40-64 counts) with national inputs, from 20,000 synthetic people.
fn national_diabetes_40_74(town: &Town, seed: u64) -> Result<f64, PlanError> {
    let source = if town.first_band <= 8 && town.filled.is_empty() {
        town.clone()
    } else {
        Town::national(100_000.0)
    };
    let mut st = strata(&source, 8, 1_000_000);
    st.retain(|s| s.band <= 14);
    let total: f64 = st.iter().map(|s| s.residents).sum();
    for s in &mut st {
        s.n = (s.residents / total * 20_000.0).round() as u64;
    }
    let people = Sampler::new(st, seed ^ 0x5EED_D1AB)?.sample(Tilt::default())?;
    Ok(people.iter().filter(|b| has_diabetes(b)).count() as f64 / people.len().max(1) as f64)
}

/// The frailty tilt θ for which the frail share among the uncertified 65+ (under `model`)
/// is `target`: bracketed by doubling from ±1, then bisected.
fn fit_theta(
    sampler: &mut Sampler,
    tilt: Tilt,
    model: &HealthModel,
    key: RunKey,
    measure: FrailtyMeasure,
    target: f64,
) -> Result<f64, PlanError> {
    let mut share_at = |theta: f64| -> Result<f64, PlanError> {
        let people = sampler.sample(Tilt {
            frailty_theta: theta,
            ..tilt
        })?;
        Ok(frail_share(&entries(model, key, &people, measure)))
    };
    let now = share_at(0.0)?;
    let up = target > now;
    let (mut lo, mut hi) = if up { (0.0, 1.0) } else { (-1.0, 0.0) };
    loop {
        let bound = if up { hi } else { lo };
        match share_at(bound) {
            Ok(x) if (up && x >= target) || (!up && x <= target) => break,
            Ok(_) if bound.abs() < 32.0 => {
                if up {
                    lo = hi;
                    hi *= 2.0;
                } else {
                    hi = lo;
                    lo *= 2.0;
                }
            }
            _ => {
                return Err(PlanError::Spec(format!(
                    "local.frailty_prevalence {target}: the residents' frailty cannot be moved \
                     that far from the national {now:.3}"
                )))
            }
        }
    }
    for _ in 0..30 {
        let mid = 0.5 * (lo + hi);
        if share_at(mid)? < target {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    Ok(0.5 * (lo + hi))
}

/// The shift of the certification log-odds for which the expected certified share of `e`
/// (entries under the national certification) is `target`.
fn fit_delta(e: &[Entry], target: f64) -> Result<f64, PlanError> {
    let expected = |d: f64| -> Result<f64, PlanError> {
        Ok(e.iter().map(|x| logistic(x.logit0 + d)).sum::<f64>() / e.len().max(1) as f64)
    };
    if expected(5.0)? < target || expected(-5.0)? > target {
        return Err(PlanError::Spec(format!(
            "local.certification_rate {target}: out of reach of the model's certification (the \
             range reached is {:.3}-{:.3})",
            expected(-5.0)?,
            expected(5.0)?
        )));
    }
    solve(-5.0, 5.0, target, expected)
}

/// The model with the certification shifts `d` and `s`.
fn shifted(model: &HealthModel, d: f64, s: f64) -> Result<HealthModel, PlanError> {
    let mut m = model.clone();
    m.set_param("fr.ltc.local_log_odds", d)
        .and_then(|_| m.set_param("fr.ltc.local_level_shift", s))
        .map_err(|e| PlanError::Spec(format!("[local]: {e}")))?;
    Ok(m)
}

/// Fits the adjustments of `local` for `sampler`'s strata under `model` (with the plan's
/// parameters), keyed as replicate 0 of the plan's study (`key`). Returns the fit and the
/// sample under it. Frailty and certification interact (a certified person leaves the
/// uncertified pool the frailty share is measured in): with both given, they are fitted in
/// turn three times.
pub fn fit(
    local: &LocalInputs,
    town: &Town,
    sampler: &mut Sampler,
    model: &HealthModel,
    key: RunKey,
    seed: u64,
) -> Result<(LocalFit, Vec<Baseline>), PlanError> {
    let mut fit = LocalFit::default();
    let mut tilt = Tilt::default();
    let measure = local.frailty.map_or(FrailtyMeasure::Jchs, |f| f.0);
    let national_people = sampler.sample(tilt)?;
    let national = entries(model, key, &national_people, measure);

    let mut dm_match = None;
    if let Some(target) = local.diabetes_prevalence {
        let p = national_diabetes_40_74(town, seed)?;
        let odds = |x: f64| x / (1.0 - x);
        tilt.diabetes_odds_ratio = odds(target) / odds(p);
        dm_match = Some((target, p));
    }
    let rounds = if local.frailty.is_some() && local.certification_rate.is_some() {
        3
    } else {
        1
    };
    let mut people = national_people.clone();
    let mut current = model.clone();
    for _ in 0..rounds {
        if let Some((_, target)) = local.frailty {
            tilt.frailty_theta = fit_theta(sampler, tilt, &current, key, measure, target)?;
        }
        people = sampler.sample(tilt)?;
        if let Some(target) = local.certification_rate {
            // Scores and baseline logits under the national certification.
            fit.cert_log_odds = fit_delta(&entries(model, key, &people, measure), target)?;
            current = shifted(model, fit.cert_log_odds, 0.0)?;
        }
    }
    fit.tilt = tilt;
    let e = entries(model, key, &people, measure);
    if let Some(target) = local.care_level_share {
        let t1 = model.frailty().level_thresholds()[1];
        let d = fit.cert_log_odds;
        let share = |s: f64| -> Result<f64, PlanError> {
            let (mut all, mut care) = (0.0, 0.0);
            for x in &e {
                let p = logistic(x.logit0 + d);
                all += p;
                if x.score >= t1 - s {
                    care += p;
                }
            }
            Ok(care / all.max(1e-300))
        };
        if share(10.0)? < target || share(-10.0)? > target {
            return Err(PlanError::Spec(format!(
                "local.care_level_share {target}: out of reach (the range reached is \
                 {:.3}-{:.3})",
                share(-10.0)?,
                share(10.0)?
            )));
        }
        fit.level_shift = solve(-10.0, 10.0, target, share)?;
    }

    // What was met, at entry with the fitted model (replicate 0).
    let after = entries(
        &shifted(model, fit.cert_log_odds, fit.level_shift)?,
        key,
        &people,
        measure,
    );
    if let Some((target, p)) = dm_match {
        // The odds ratio the sample reached (the acceptance cap can hold it back), measured
        // on the simulated ages below 75, applied to the national share at 40-74.
        let share = |v: &[Baseline]| {
            let s: Vec<&Baseline> = v.iter().filter(|b| b.age_years < 75.0).collect();
            s.iter().filter(|b| has_diabetes(b)).count() as f64 / s.len().max(1) as f64
        };
        let odds = |x: f64| x / (1.0 - x);
        let reached = odds(share(&people)) / odds(share(&national_people));
        let adjusted = {
            let o = odds(p) * reached;
            o / (1.0 + o)
        };
        fit.matched.push(Matched {
            what: "diabetes_prevalence",
            target,
            national: p,
            fitted: adjusted,
            adjustment: tilt.diabetes_odds_ratio,
        });
    }
    if let Some((_, target)) = local.frailty {
        fit.matched.push(Matched {
            what: "frailty_prevalence",
            target,
            national: frail_share(&national),
            fitted: frail_share(&after),
            adjustment: tilt.frailty_theta,
        });
    }
    if let Some(target) = local.certification_rate {
        fit.matched.push(Matched {
            what: "certification_rate",
            target,
            national: certified_share(&national),
            fitted: certified_share(&after),
            adjustment: fit.cert_log_odds,
        });
    }
    if let Some(target) = local.care_level_share {
        fit.matched.push(Matched {
            what: "care_level_share",
            target,
            national: care_share(&national),
            fitted: care_share(&after),
            adjustment: fit.level_shift,
        });
    }
    Ok((fit, people))
}

/// The model's state at entry of the 65+ residents, for reports: (certified share, care
/// share among certified, frail share among uncertified by J-CHS).
pub fn entry_shares(model: &HealthModel, key: RunKey, people: &[Baseline]) -> (f64, f64, f64) {
    let e = entries(model, key, people, FrailtyMeasure::Jchs);
    (certified_share(&e), care_share(&e), frail_share(&e))
}
