//! Calibration end to end on small populations: ABC-SMC and Nelder–Mead recover a parameter
//! from targets the model itself produced, the posterior does not depend on the thread
//! count, federated calibration from three sites' suppressed summaries reaches the pooled
//! posterior, and validation metrics tell a calibrated prediction from a miscalibrated one.

use calibration::abc::{self, AbcOptions, AbcResult};
use calibration::distance::Distance;
use calibration::empirical::{self, CellPlan, Cohort, CohortPerson, Flag};
use calibration::federated;
use calibration::optim::{self, NmOptions};
use calibration::priors::{self, Parameter};
use calibration::simulate::{SimSettings, Simulator};
use calibration::targets::{RawTarget, SexSel, Target, TargetKind};
use calibration::validation::{self, Prediction};
use cohort::{Generator, SyntheticSpec};
use engine::Baseline;
use models::mortality::LifeTable;
use models::HealthModel;

fn people(n: u64, seed: u64, age_min: u32) -> Vec<Baseline> {
    Generator::new(SyntheticSpec {
        n,
        seed,
        age_min,
        age_max: 89,
    })
    .unwrap()
    .generate()
}

fn model() -> HealthModel {
    HealthModel::new(LifeTable::mhlw_2024())
}

fn param(text: &str) -> Vec<Parameter> {
    priors::parse(text, model().params()).unwrap()
}

fn target(
    name: &str,
    statistic: &str,
    metric: &str,
    ages: [u32; 2],
    years: [f64; 2],
    value: f64,
    se: f64,
) -> Target {
    RawTarget {
        name: name.into(),
        statistic: statistic.into(),
        metric: Some(metric.into()),
        sex: SexSel::All,
        ages: Some(ages),
        years: Some(years),
        value,
        se: Some(se),
        ci: None,
        source: "simulated truth".into(),
        weight: 1.0,
        kind: TargetKind::Published,
        note: None,
        denominator: None,
        scale: None,
        from: None,
        to: None,
        exclude_facility: None,
        exclude_certified: None,
        measure: None,
        at_least: None,
        band: None,
    }
    .resolve("test")
    .unwrap()
}

/// Death rates at 70-89 over three years, made by the model with a background hazard
/// ratio of 1.4 (another seed than the calibration's): the truth to recover.
fn death_targets(pop: &[Baseline], hr: f64) -> Vec<Target> {
    let shape = vec![
        target(
            "deaths_70_79",
            "incidence",
            "deaths",
            [70, 79],
            [0.0, 2.0],
            0.0,
            1.0,
        ),
        target(
            "deaths_80_89",
            "incidence",
            "deaths",
            [80, 89],
            [0.0, 2.0],
            0.0,
            1.0,
        ),
    ];
    let params = param(
        "[[parameter]]\nname = \"mortality.background.hazard_ratio\"\nprior = \"uniform\"\nlo = 0.5\nhi = 2.5\nsource = \"test\"\n",
    );
    let truth = Simulator::new(
        model(),
        pop.to_vec(),
        &shape,
        params,
        Vec::new(),
        SimSettings {
            seed: 99,
            ..SimSettings::default()
        },
    )
    .unwrap();
    let v = truth.evaluate(&[hr]).unwrap();
    shape
        .into_iter()
        .zip(v)
        .map(|(mut t, v)| {
            t.value = v;
            // About the Monte Carlo error of the rate at this size.
            t.se = 0.06 * v;
            t.interval = (v - 1.96 * t.se, v + 1.96 * t.se);
            t
        })
        .collect()
}

fn death_simulator(pop: &[Baseline], targets: &[Target]) -> Simulator {
    Simulator::new(
        model(),
        pop.to_vec(),
        targets,
        param("[[parameter]]\nname = \"mortality.background.hazard_ratio\"\nprior = \"uniform\"\nlo = 0.5\nhi = 2.5\nsource = \"test\"\n"),
        Vec::new(),
        SimSettings::default(),
    )
    .unwrap()
}

fn weighted_mean_sd(r: &AbcResult, j: usize) -> (f64, f64) {
    let m: f64 = r.particles.iter().map(|p| p.weight * p.theta[j]).sum();
    let v: f64 = r
        .particles
        .iter()
        .map(|p| p.weight * (p.theta[j] - m) * (p.theta[j] - m))
        .sum();
    (m, v.sqrt())
}

#[test]
fn abc_recovers_a_known_hazard_ratio_and_is_the_same_for_any_thread_count() {
    let pop = people(1500, 3, 70);
    let targets = death_targets(&pop, 1.4);
    let sim = death_simulator(&pop, &targets);
    let distance = Distance::new(&targets);
    let opts = AbcOptions {
        particles: 24,
        max_generations: 5,
        final_tolerance: 0.5,
        ..AbcOptions::default()
    };
    let run = |threads| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| abc::run(&sim, &distance, &opts, &()).unwrap())
    };
    let one = run(1);
    let two = run(2);
    assert_eq!(
        one.particles, two.particles,
        "the posterior depends on the thread count"
    );
    assert_eq!(one.generations.len(), two.generations.len());
    let (mean, sd) = weighted_mean_sd(&one, 0);
    assert!(
        (mean - 1.4).abs() < 0.25 && sd < 0.35,
        "posterior {mean} ± {sd} misses the true hazard ratio 1.4 (prior uniform 0.5-2.5)"
    );
    // Tolerances fall from generation to generation.
    let tol: Vec<f64> = one.generations.iter().map(|g| g.tolerance).collect();
    assert!(tol.windows(2).all(|w| w[1] < w[0]), "{tol:?}");
}

#[test]
fn nelder_mead_finds_the_hazard_ratio() {
    let pop = people(1500, 3, 70);
    let targets = death_targets(&pop, 0.8);
    let sim = death_simulator(&pop, &targets);
    let fit = optim::fit(
        &sim,
        &Distance::new(&targets),
        None,
        &NmOptions {
            max_iterations: 40,
            ..NmOptions::default()
        },
    )
    .unwrap();
    assert!(
        (fit.theta[0] - 0.8).abs() < 0.12,
        "Nelder-Mead found {} (truth 0.8), distance {}",
        fit.theta[0],
        fit.distance
    );
    assert!(fit.distance < 1.5);
    // The objective is deterministic: the same point gives the same distance.
    let again = sim.evaluate(&fit.theta).unwrap();
    assert_eq!(again, fit.stats);
}

/// A cohort of `people` with a simulated follow-up (the `cohort import` layout in memory).
fn simulated_cohort(pop: &[Baseline], truth: &HealthModel, years: u32, seed: u64) -> Cohort {
    let dir = tempfile::tempdir().unwrap();
    let (c, h) = empirical::simulated_emr(truth, pop, years, seed).unwrap();
    report::write_parquet(&c, &dir.path().join("cohort.parquet")).unwrap();
    report::write_parquet(&h, &dir.path().join("history.parquet")).unwrap();
    empirical::read_cohort(dir.path()).unwrap()
}

fn subset(c: &Cohort, keep: impl Fn(usize) -> bool) -> Cohort {
    let mut out = Cohort::default();
    for (i, (p, h)) in c.people.iter().zip(&c.history).enumerate() {
        if keep(i) {
            out.people.push(CohortPerson {
                baseline: p.baseline,
                last_record_days: p.last_record_days,
                imputed: p.imputed,
            });
            out.history.push(h.clone());
        }
    }
    out
}

const START_BP: &str = "[[parameter]]\nname = \"cvd.care.start_bp_after_checkup\"\nprior = \"uniform\"\nlo = 0.02\nhi = 0.6\nsource = \"test\"\n";

fn cohort_abc(targets: &[Target], pop: Vec<Baseline>) -> AbcResult {
    let sim = Simulator::new(
        model(),
        pop,
        targets,
        param(START_BP),
        Vec::new(),
        SimSettings {
            years: Some(3),
            ..SimSettings::default()
        },
    )
    .unwrap();
    abc::run(
        &sim,
        &Distance::new(targets),
        &AbcOptions {
            particles: 24,
            max_generations: 5,
            final_tolerance: 0.8,
            ..AbcOptions::default()
        },
        &(),
    )
    .unwrap()
}

#[test]
fn federated_calibration_from_three_sites_reaches_the_pooled_posterior() {
    // The truth: blood-pressure treatment starts after a check-up at 0.3 (default 0.1).
    let mut truth = model();
    truth
        .set_param("cvd.care.start_bp_after_checkup", 0.3)
        .unwrap();
    let pop = people(3000, 21, 40);
    let pooled = simulated_cohort(&pop, &truth, 3, 77);
    let plan = CellPlan {
        changes: Vec::new(),
        events: vec![Flag::parse("rx_antihypertensive").unwrap()],
        age_bands: vec![[40, 59], [60, 74], [75, 110]],
        ..CellPlan::default()
    };
    let threshold = 10;

    // Pooled: the cohort's own targets and people.
    let pooled_summary =
        federated::suppress("pooled", &empirical::summarise(&pooled, &plan), threshold);
    let pooled_targets = pooled_summary.summary.targets(threshold, "pooled");
    assert!(
        pooled_targets.len() >= 4,
        "{} pooled targets",
        pooled_targets.len()
    );

    // Three sites: each summarises its own people; only the files travel.
    let dir = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    for s in 0..3 {
        let site = subset(&pooled, |i| i % 3 == s);
        let summary = federated::suppress(
            &format!("site{s}"),
            &empirical::summarise(&site, &plan),
            threshold,
        );
        let path = dir.path().join(format!("site{s}.csv"));
        std::fs::write(&path, summary.to_csv()).unwrap();
        files.push(path);
    }
    let sites: Vec<_> = files.iter().map(|f| federated::read(f).unwrap()).collect();
    for s in &sites {
        assert!(s
            .summary
            .cells
            .values()
            .all(|c| c.n >= threshold && (c.events == 0 || c.events >= threshold)));
    }
    let merged = federated::merge(&sites).unwrap();
    let federated_targets = merged.targets(threshold, "3 sites");
    // The coordinator has no rows: it simulates synthetic people of the same ages.
    let coordinator_people = people(3000, 5, 40);

    let a = cohort_abc(
        &pooled_targets,
        pooled.people.iter().map(|p| p.baseline).collect(),
    );
    let b = cohort_abc(&federated_targets, coordinator_people);
    let (ma, sa) = weighted_mean_sd(&a, 0);
    let (mb, sb) = weighted_mean_sd(&b, 0);
    assert!(
        (ma - mb).abs() < 2.0 * (sa * sa + sb * sb).sqrt().max(0.03),
        "pooled {ma} ± {sa}, federated {mb} ± {sb}"
    );
    for (m, s) in [(ma, sa), (mb, sb)] {
        assert!(
            (m - 0.3).abs() < 3.0 * s.max(0.03),
            "posterior {m} ± {s} misses the truth 0.3"
        );
    }
}

#[test]
fn a_summary_with_a_small_cell_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("s.csv");
    std::fs::write(
        &p,
        "site,horizon_years,threshold,statistic,measure,band_lo,band_hi,sex,age_lo,age_hi,n,sum,sumsq,events,person_years\n\
         a,3,10,event_rate,dx_diabetes,,,male,40,59,12,0,0,3,30.5\n",
    )
    .unwrap();
    let e = federated::read(&p).unwrap_err().to_string();
    assert!(e.contains("record 1") && e.contains("threshold"), "{e}");
}

#[test]
fn validation_tells_a_calibrated_prediction_from_a_miscalibrated_one() {
    let pop = people(3000, 8, 55);
    let flag = Flag::parse("rx_antihypertensive").unwrap();
    let m = model();
    // Observed: one independent run of the same model.
    let observed = validation::simulated_risk(&m, &pop, flag, 3, 1, 1234).unwrap();
    let mut wrong = model();
    wrong
        .set_param("cvd.care.start_bp_after_checkup", 0.4)
        .unwrap();
    let metrics_of = |model: &HealthModel| {
        let risk = validation::simulated_risk(model, &pop, flag, 3, 10, 1).unwrap();
        let preds: Vec<Prediction> = pop
            .iter()
            .zip(&risk)
            .zip(&observed)
            .filter_map(|((b, r), o)| {
                Some(Prediction {
                    risk: (*r)?,
                    observed: (*o)? > 0.5,
                    sex: b.sex,
                    age: b.age_years,
                    region: None,
                })
            })
            .collect();
        validation::report(&preds)
    };
    let good = metrics_of(&m);
    let bad = metrics_of(&wrong);
    assert!(
        (good[0].oe - 1.0).abs() < 0.2,
        "O/E of the true model {}",
        good[0].oe
    );
    assert!(
        bad[0].oe < 0.75,
        "O/E of an over-predicting model {}",
        bad[0].oe
    );
    assert!(good[0].c_statistic > 0.6, "C {}", good[0].c_statistic);
    assert!(good[0].brier < bad[0].brier);
    assert_eq!(good.len(), 1 + 2 + validation::AGE_BANDS.len());
}
