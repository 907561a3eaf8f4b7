//! Validation of predicted risk on a cohort with follow-up: observed / expected ratio,
//! C-statistic (area under the ROC curve, ties counted half), Brier score and calibration
//! by decile of predicted risk, overall and by sex, age band and region where the data has
//! one — the accuracy and bias report health-data platforms are asked to publish.
//!
//! Predicted risk of a person = the share of `replicates` simulations of that person (the
//! model's twin of them, common settings, one seed) in which the event happens within the
//! horizon. Observed = the event in the person's follow-up (imported history, or a
//! simulated cohort's own outcome).
//!
//! Must never: use an observed outcome to make a prediction.

use engine::math::DetMath;
use engine::{Baseline, Sex};
use models::HealthModel;
use study::{Arm, Settings, Streams, Study};

use crate::empirical::{Cohort, Flag};
use crate::CalibrationError;

/// One person's predicted risk and observed outcome.
#[derive(Clone, Debug, PartialEq)]
pub struct Prediction {
    pub risk: f64,
    pub observed: bool,
    pub sex: Sex,
    pub age: f64,
    pub region: Option<String>,
}

/// One decile of predicted risk.
#[derive(Clone, Debug, PartialEq)]
pub struct Decile {
    pub decile: usize,
    pub n: usize,
    pub mean_predicted: f64,
    pub observed_rate: f64,
}

/// The metrics of a group of predictions.
#[derive(Clone, Debug, PartialEq)]
pub struct Metrics {
    pub group: String,
    pub n: usize,
    pub observed: usize,
    pub expected: f64,
    /// Observed / expected events.
    pub oe: f64,
    pub c_statistic: f64,
    pub brier: f64,
    pub deciles: Vec<Decile>,
}

/// Area under the ROC curve: the probability that a random person with the event has a
/// higher predicted risk than a random person without (ties count ½). NaN without both.
pub fn c_statistic(preds: &[Prediction]) -> f64 {
    let mut v: Vec<(f64, bool)> = preds.iter().map(|p| (p.risk, p.observed)).collect();
    v.sort_by(|a, b| a.0.total_cmp(&b.0));
    let pos = v.iter().filter(|x| x.1).count() as f64;
    let neg = v.len() as f64 - pos;
    if pos == 0.0 || neg == 0.0 {
        return f64::NAN;
    }
    // Mann–Whitney: sum of the positives' mid-ranks.
    let mut rank_sum = 0.0;
    let mut i = 0;
    while i < v.len() {
        let mut j = i;
        while j + 1 < v.len() && v[j + 1].0 == v[i].0 {
            j += 1;
        }
        let mid = (i + j) as f64 / 2.0 + 1.0;
        rank_sum += mid * v[i..=j].iter().filter(|x| x.1).count() as f64;
        i = j + 1;
    }
    (rank_sum - pos * (pos + 1.0) / 2.0) / (pos * neg)
}

/// The metrics of `preds` (`group` labels them).
pub fn metrics(group: &str, preds: &[Prediction]) -> Metrics {
    let n = preds.len();
    let observed = preds.iter().filter(|p| p.observed).count();
    let expected: f64 = preds.iter().map(|p| p.risk).sum();
    let brier = if n == 0 {
        f64::NAN
    } else {
        preds
            .iter()
            .map(|p| (p.risk - f64::from(u8::from(p.observed))).powf_det(2.0))
            .sum::<f64>()
            / n as f64
    };
    // Deciles of predicted risk (sorted, ties broken by position: equal sizes ±1).
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| preds[a].risk.total_cmp(&preds[b].risk).then(a.cmp(&b)));
    let mut deciles = Vec::new();
    if n >= 10 {
        for d in 0..10 {
            let part = &order[d * n / 10..(d + 1) * n / 10];
            let m = part.len() as f64;
            deciles.push(Decile {
                decile: d + 1,
                n: part.len(),
                mean_predicted: part.iter().map(|&i| preds[i].risk).sum::<f64>() / m,
                observed_rate: part.iter().filter(|&&i| preds[i].observed).count() as f64 / m,
            });
        }
    }
    Metrics {
        group: group.to_string(),
        n,
        observed,
        expected,
        oe: if expected > 0.0 {
            observed as f64 / expected
        } else {
            f64::NAN
        },
        c_statistic: c_statistic(preds),
        brier,
        deciles,
    }
}

/// Age bands of the report (at baseline).
pub const AGE_BANDS: [(u32, u32); 4] = [(40, 54), (55, 64), (65, 74), (75, 110)];

/// Metrics overall, by sex, by age band and by region (when any prediction has one).
pub fn report(preds: &[Prediction]) -> Vec<Metrics> {
    let mut out = vec![metrics("all", preds)];
    for s in Sex::ALL {
        let g: Vec<Prediction> = preds.iter().filter(|p| p.sex == s).cloned().collect();
        out.push(metrics(&format!("sex={}", s.name()), &g));
    }
    for (lo, hi) in AGE_BANDS {
        let g: Vec<Prediction> = preds
            .iter()
            .filter(|p| p.age >= f64::from(lo) && p.age < f64::from(hi) + 1.0)
            .cloned()
            .collect();
        out.push(metrics(&format!("age={lo}-{hi}"), &g));
    }
    let mut regions: Vec<&String> = preds.iter().filter_map(|p| p.region.as_ref()).collect();
    regions.sort();
    regions.dedup();
    for r in regions {
        let g: Vec<Prediction> = preds
            .iter()
            .filter(|p| p.region.as_ref() == Some(r))
            .cloned()
            .collect();
        out.push(metrics(&format!("region={r}"), &g));
    }
    out
}

/// Each person's simulated risk of a first `flag` event within `years` (share of
/// `replicates` runs, one study on the study runner); people with the flag at baseline get
/// `None`. With one replicate and another seed, this is a simulated cohort's observed
/// outcome (0 or 1).
pub fn simulated_risk(
    model: &HealthModel,
    people: &[Baseline],
    flag: Flag,
    years: u32,
    replicates: u32,
    seed: u64,
) -> Result<Vec<Option<f64>>, CalibrationError> {
    let study = Study {
        arms: vec![Arm {
            name: "prediction".into(),
            model: model.clone(),
        }],
        population: people.to_vec(),
        allocation: study::Allocation::Paired,
        settings: Settings {
            seed,
            years,
            step_months: 1,
            replicates,
            streams: Streams::Common,
            chunk_size: 1024,
            trace_patients: 0,
        },
        draws: Vec::new(),
    };
    let mut hits = vec![0u32; people.len()];
    study::run(&study, &(), |ctx, _| {
        for p in ctx.patients {
            if !flag.on(&p.baseline.covariates) && flag.on(&p.now) {
                hits[p.id() as usize] += 1;
            }
        }
        Ok::<_, CalibrationError>(())
    })?;
    Ok(people
        .iter()
        .zip(hits)
        .map(|(b, h)| (!flag.on(&b.covariates)).then(|| f64::from(h) / f64::from(replicates)))
        .collect())
}

/// Observed first events of `flag` within `years` in an imported cohort: `Some(event)` for
/// people without the flag at baseline who were followed for the whole horizon or had the
/// event before their follow-up ended; `None` for the rest (censored or not at risk).
pub fn observed_events(cohort: &Cohort, flag: Flag, years: u32) -> Vec<Option<bool>> {
    // Whole days: a follow-up recorded to the last day of the horizon is complete.
    let horizon = (f64::from(years) * 365.25).floor();
    cohort
        .people
        .iter()
        .zip(&cohort.history)
        .map(|(p, h)| {
            if flag.on(&p.baseline.covariates) {
                return None;
            }
            let first = h
                .iter()
                .filter(|(m, d, v)| flag_matches(flag, m) && *d > 0 && *v > 0.0)
                .map(|(_, d, _)| *d as f64)
                .reduce(f64::min);
            let end = p.last_record_days as f64;
            match first {
                Some(d) if d <= horizon && d <= end => Some(true),
                _ if end >= horizon => Some(false),
                _ => None,
            }
        })
        .collect()
}

fn flag_matches(flag: Flag, measure: &str) -> bool {
    match flag {
        Flag::FirstCvd => matches!(
            measure,
            "hx_myocardial_infarction" | "hx_stroke" | "hx_heart_failure"
        ),
        f => f.name() == measure,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(risk: f64, observed: bool) -> Prediction {
        Prediction {
            risk,
            observed,
            sex: Sex::Male,
            age: 60.0,
            region: None,
        }
    }

    #[test]
    fn c_statistic_counts_pairs_and_ties() {
        // Perfect separation, reversed, and all tied.
        assert_eq!(c_statistic(&[p(0.1, false), p(0.9, true)]), 1.0);
        assert_eq!(c_statistic(&[p(0.9, false), p(0.1, true)]), 0.0);
        assert_eq!(c_statistic(&[p(0.5, false), p(0.5, true)]), 0.5);
        // 2 positives × 2 negatives: pairs (0.8>0.2, 0.8>0.6, 0.4>0.2, 0.4<0.6) = 3/4.
        let v = [p(0.2, false), p(0.6, false), p(0.4, true), p(0.8, true)];
        assert!((c_statistic(&v) - 0.75).abs() < 1e-12);
    }

    #[test]
    fn observed_events_count_complete_follow_up_and_events_before_censoring() {
        use crate::empirical::{Cohort, CohortPerson};
        let b = cohort::Generator::new(cohort::SyntheticSpec {
            n: 1,
            seed: 1,
            age_min: 50,
            age_max: 50,
        })
        .unwrap()
        .generate()[0];
        let person = |last| CohortPerson {
            baseline: engine::Baseline {
                covariates: engine::Covariates {
                    treatments: engine::Treatments::default(),
                    ..b.covariates
                },
                ..b
            },
            last_record_days: last,
            imputed: [false; 11],
        };
        let event = vec![("rx_antihypertensive".to_string(), 400i64, 1.0)];
        let cohort = Cohort {
            people: vec![person(1095), person(700), person(700), person(3000)],
            history: vec![
                vec![],
                vec![],
                event.clone(),
                vec![("rx_antihypertensive".to_string(), 1200, 1.0)],
            ],
        };
        let flag = Flag::parse("rx_antihypertensive").unwrap();
        // Followed to the last whole day of 3 years: complete; censored at 700 days: unknown;
        // an event at day 400: observed; an event after the horizon: none within it.
        assert_eq!(
            observed_events(&cohort, flag, 3),
            vec![Some(false), None, Some(true), Some(false)]
        );
    }

    #[test]
    fn oe_brier_and_deciles() {
        let preds: Vec<Prediction> = (0..100)
            .map(|i| p(f64::from(i) / 100.0, i % 2 == 0))
            .collect();
        let m = metrics("all", &preds);
        assert_eq!(m.observed, 50);
        assert!((m.expected - 49.5).abs() < 1e-9);
        assert!((m.oe - 50.0 / 49.5).abs() < 1e-12);
        assert_eq!(m.deciles.len(), 10);
        assert!(m.deciles.iter().all(|d| d.n == 10));
        assert!((m.deciles[9].mean_predicted - 0.945).abs() < 1e-9);
        let brier: f64 = preds
            .iter()
            .map(|x| (x.risk - f64::from(u8::from(x.observed))).powf_det(2.0))
            .sum::<f64>()
            / 100.0;
        assert!((m.brier - brier).abs() < 1e-12);
    }
}
