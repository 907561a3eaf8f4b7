//! Truth tests of background mortality through the engine's step loop.

use engine::{
    init_patients, simulate, Baseline, Conditions, Covariates, RunKey, RunSettings, Sex, Treatments,
};
use models::mortality::LifeTable;
use models::HealthModel;

fn cohort(n: u64, sex: Sex, age: f64) -> Vec<Baseline> {
    let c = Covariates {
        bmi_kg_m2: 23.0,
        fpg_mg_dl: 95.0,
        hba1c_pct: 5.6,
        sbp_mmhg: 130.0,
        dbp_mmhg: 80.0,
        tc_mg_dl: 200.0,
        hdl_mg_dl: 60.0,
        ldl_mg_dl: 120.0,
        egfr_ml_min: 75.0,
        steps_per_day: 6000.0,
        frailty_index: 0.12,
        smoker: false,
        conditions: Conditions::default(),
        treatments: Treatments::default(),
    };
    (0..n)
        .map(|id| Baseline {
            id,
            sex,
            age_years: age,
            covariates: c,
        })
        .collect()
}

fn death_times(model: &HealthModel, people: &[Baseline], seed: u64, years: u32) -> Vec<f64> {
    let settings = RunSettings {
        years,
        step_months: 1,
        chunk_size: 4096,
        trace_patients: 0,
    };
    let run = RunKey { seed, replicate: 0 };
    let mut patients = init_patients(model, run, people);
    simulate(model, &settings, run, &mut patients, &|_| {});
    // Anyone still alive is censored at the horizon (none are, at 60 years from 65).
    patients
        .iter()
        .map(|p| p.death.map(|d| d.time_years).unwrap_or(f64::from(years)))
        .collect()
}

#[test]
fn simulated_life_expectancy_at_65_matches_the_life_table() {
    // The cohort here is a single covariate profile without diabetes or CVD history, which
    // (rightly) lives longer than the life table's mixed population once diabetes, frailty and
    // cardiovascular events carry excess mortality; the diabetes and frailty-index hazard
    // ratios are set to 1 and cardiovascular deaths are switched off (their population rate
    // then stays inside the background) to test the background method alone.
    let mut model = HealthModel::new(LifeTable::mhlw_2024());
    for name in [
        "dm.mortality.hr_male",
        "dm.mortality.hr_female",
        "fr.mortality.hr_per_0.01_fi",
    ] {
        model.set_param(name, 1.0).unwrap();
    }
    model.set_param("cvd.mortality.explicit", 0.0).unwrap();
    // MHLW 2024 abridged life table: e65 = 19.47 (men), 24.38 (women). 40,000 people give a
    // standard error of about 0.05 years; the tolerance of the issue is 0.2.
    for (sex, e65) in [(Sex::Male, 19.47), (Sex::Female, 24.38)] {
        let times = death_times(&model, &cohort(40_000, sex, 65.0), 11, 60);
        let mean = times.iter().sum::<f64>() / times.len() as f64;
        eprintln!("{sex:?}: simulated e65 {mean:.3}, life table {e65}");
        assert!(
            (mean - e65).abs() < 0.2,
            "{sex:?}: simulated e65 {mean:.3} vs life table {e65}"
        );
    }
}

#[test]
fn lower_hazard_never_shortens_a_life_under_common_random_numbers() {
    // Same seed = same draws per (patient, step): with a lower hazard each person dies no
    // earlier than before. With independent streams this fails for about half the people.
    let people = cohort(5_000, Sex::Female, 70.0);
    let base = HealthModel::new(LifeTable::mhlw_2024());
    let mut better = base.clone();
    better
        .set_param("mortality.background.hazard_ratio", 0.7)
        .unwrap();
    let a = death_times(&base, &people, 3, 40);
    let b = death_times(&better, &people, 3, 40);
    assert!(
        a.iter().zip(&b).all(|(x, y)| y >= x),
        "a life got shorter with a lower hazard"
    );
    assert!(a.iter().zip(&b).filter(|(x, y)| y > x).count() > 2_500);
    let independent = death_times(&better, &people, 4, 40);
    let shorter = a.iter().zip(&independent).filter(|(x, y)| y < x).count();
    assert!(
        shorter > 1_000,
        "independent streams should not be coupled ({shorter} shorter)"
    );
}

#[test]
fn results_do_not_depend_on_chunk_size_or_thread_count() {
    let model = HealthModel::new(LifeTable::mhlw_2024());
    let people = cohort(3_000, Sex::Male, 60.0);
    let run = RunKey {
        seed: 5,
        replicate: 2,
    };
    let go = |chunk: usize, threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            let settings = RunSettings {
                years: 20,
                step_months: 1,
                chunk_size: chunk,
                trace_patients: 10,
            };
            let mut patients = init_patients(&model, run, &people);
            let out = simulate(&model, &settings, run, &mut patients, &|_| {});
            let deaths: Vec<Option<(u64, u8)>> = patients
                .iter()
                .map(|p| p.death.map(|d| (d.time_years.to_bits(), d.cause)))
                .collect();
            (out.aggregate, deaths, out.trace.len())
        })
    };
    let reference = go(1024, 1);
    for (chunk, threads) in [(1, 2), (37, 7), (5000, 3)] {
        let other = go(chunk, threads);
        assert_eq!(
            reference.0, other.0,
            "aggregates differ at chunk {chunk}, {threads} threads"
        );
        assert_eq!(reference.1, other.1);
        assert_eq!(reference.2, other.2);
    }
}
