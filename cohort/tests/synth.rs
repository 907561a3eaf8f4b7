//! The synthetic Japanese cohort: people depend only on (seed, id), and the population
//! reproduces its published tables (age-sex structure, marginals, correlations, ranges).
#![allow(clippy::disallowed_methods)] // the platform libm as a reference (clippy.toml)

use cohort::japan;
use cohort::{Generator, SyntheticSpec};
use engine::{Baseline, Conditions, Sex, Treatments};

fn cohort(n: u64, seed: u64) -> Vec<Baseline> {
    Generator::new(SyntheticSpec {
        n,
        seed,
        ..Default::default()
    })
    .unwrap()
    .generate()
}

#[test]
fn people_depend_only_on_seed_and_id() {
    let small = cohort(100, 3);
    let large = cohort(1000, 3);
    assert_eq!(small[..], large[..100]);
    assert_ne!(cohort(100, 4)[..], small[..]);
}

#[test]
fn age_sex_structure_matches_the_population_table() {
    // The default cohort covers 40-89: the groups from 40 on.
    let people = cohort(100_000, 1);
    let first = (40 - japan::POPULATION_FIRST_AGE) as usize / 5;
    let total: f64 = japan::POPULATION_2022_THOUSANDS
        .iter()
        .flat_map(|row| &row[first..])
        .sum();
    for sex in Sex::ALL {
        for (g, thousands) in japan::POPULATION_2022_THOUSANDS[sex.index()][first..]
            .iter()
            .enumerate()
        {
            let lo = 40.0 + 5.0 * g as f64;
            let n = people
                .iter()
                .filter(|p| p.sex == sex && p.age_years >= lo && p.age_years < lo + 5.0)
                .count();
            let expected = thousands / total;
            let got = n as f64 / people.len() as f64;
            // Binomial SE is below 1e-3 for these shares: 4 SE.
            assert!(
                (got - expected).abs() < 4e-3,
                "{sex:?} {lo}: {got} vs {expected}"
            );
        }
    }
}

#[test]
fn marginals_match_their_tables() {
    let people = cohort(200_000, 2);
    let band = |p: &&Baseline| p.sex == Sex::Male && p.age_years >= 50.0 && p.age_years < 60.0;
    let men50: Vec<&Baseline> = people.iter().filter(band).collect();
    let n = men50.len() as f64;
    let mean = |f: &dyn Fn(&Baseline) -> f64| men50.iter().map(|p| f(p)).sum::<f64>() / n;
    // Interpolation between midpoints 45/55/65 averages out over the band only roughly,
    // so compare with the band-55 table value within a tolerance of a few percent.
    let sbp = mean(&|p| p.covariates.sbp_mmhg);
    assert!((sbp - 131.7).abs() < 2.0, "SBP {sbp}");
    let bmi = mean(&|p| p.covariates.bmi_kg_m2);
    assert!((bmi - 23.70).abs() < 0.3, "BMI {bmi}");
    let smoke = mean(&|p| p.covariates.smoker as u8 as f64);
    // 31.8 % current smokers (NHNS 2019, men 50-59).
    let expected_smoking = japan::SMOKING.pct[0][1] / 100.0;
    assert!((smoke - expected_smoking).abs() < 0.02, "smoking {smoke}");
    let rx = mean(&|p| {
        p.covariates
            .treatments
            .contains(Treatments::ANTIHYPERTENSIVE) as u8 as f64
    });
    assert!((rx - 0.178).abs() < 0.03, "antihypertensive {rx}");
    // Strongly suspected diabetes = HbA1c >= 6.5 or on treatment.
    let dm = mean(&|p| {
        (p.covariates.hba1c_pct >= 6.5
            || p.covariates
                .treatments
                .contains(Treatments::GLUCOSE_LOWERING)) as u8 as f64
    });
    assert!((dm - 0.125).abs() < 0.02, "diabetes {dm}");
}

#[test]
fn correlations_survive_the_copula() {
    let people = cohort(100_000, 5);
    let pairs: Vec<(f64, f64)> = people
        .iter()
        .map(|p| (p.covariates.sbp_mmhg, p.covariates.dbp_mmhg))
        .collect();
    let r = pearson(&pairs);
    // Latent 0.55; age structure adds some shared trend. Must be clearly positive.
    assert!(r > 0.45 && r < 0.7, "r(SBP, DBP) = {r}");
    let treated: Vec<f64> = people
        .iter()
        .filter(|p| {
            p.covariates
                .treatments
                .contains(Treatments::ANTIHYPERTENSIVE)
        })
        .map(|p| p.covariates.sbp_mmhg)
        .collect();
    let untreated: Vec<f64> = people
        .iter()
        .filter(|p| {
            !p.covariates
                .treatments
                .contains(Treatments::ANTIHYPERTENSIVE)
        })
        .map(|p| p.covariates.sbp_mmhg)
        .collect();
    let m = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    let gap = m(&treated) - m(&untreated);
    assert!(gap > 10.0 && gap < 30.0, "treated - untreated SBP {gap}");
}

#[test]
fn values_stay_in_plausible_ranges() {
    for p in cohort(20_000, 9) {
        let c = p.covariates;
        assert!((40.0..90.0).contains(&p.age_years));
        assert!(c.dbp_mmhg < c.sbp_mmhg);
        assert!(c.ldl_mg_dl < c.tc_mg_dl);
        assert!((0.0..=0.7).contains(&c.frailty_index));
        assert!(
            c.conditions.contains(Conditions::DIABETES)
                || !c.treatments.contains(Treatments::GLUCOSE_LOWERING)
        );
        assert!(c.continuous().iter().all(|v| v.is_finite()));
    }
}

#[test]
fn bad_specs_are_refused() {
    assert!(Generator::new(SyntheticSpec {
        age_min: 19,
        ..Default::default()
    })
    .is_err());
    assert!(Generator::new(SyntheticSpec {
        age_min: 70,
        age_max: 60,
        ..Default::default()
    })
    .is_err());
    assert!(Generator::new(SyntheticSpec {
        n: 0,
        ..Default::default()
    })
    .is_err());
}

fn pearson(xy: &[(f64, f64)]) -> f64 {
    let n = xy.len() as f64;
    let (mx, my) = (
        xy.iter().map(|p| p.0).sum::<f64>() / n,
        xy.iter().map(|p| p.1).sum::<f64>() / n,
    );
    let cov: f64 = xy.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    let vx: f64 = xy.iter().map(|p| (p.0 - mx).powi(2)).sum();
    let vy: f64 = xy.iter().map(|p| (p.1 - my).powi(2)).sum();
    cov / (vx * vy).sqrt()
}

#[test]
fn ages_from_20_follow_the_young_tables_and_leave_40_plus_unchanged() {
    let young = Generator::new(SyntheticSpec {
        n: 40_000,
        seed: 5,
        age_min: 20,
        age_max: 39,
    })
    .unwrap()
    .generate();
    assert!(young.iter().all(|p| (20.0..40.0).contains(&p.age_years)));
    // Men in their twenties: BMI near the NHNS 2017-derived 22.9, diabetes rare.
    let men20: Vec<&Baseline> = young
        .iter()
        .filter(|p| p.sex == Sex::Male && p.age_years < 30.0)
        .collect();
    let n = men20.len() as f64;
    let bmi = men20.iter().map(|p| p.covariates.bmi_kg_m2).sum::<f64>() / n;
    assert!((bmi - 23.0).abs() < 0.4, "{bmi}");
    let dm = men20
        .iter()
        .filter(|p| p.covariates.hba1c_pct >= 6.5)
        .count() as f64
        / n;
    assert!(dm < 0.02, "{dm}");
    // A person aged 40+ draws the same values as before the young tables existed: the
    // covariates at 40 come from the 40-49 column alone.
    let m = japan::SBP;
    for age in [40.0, 42.5, 45.0, 60.0] {
        assert_eq!(m.at(0, age).0, japan::at_age(&m.mean[0], age));
    }
}
