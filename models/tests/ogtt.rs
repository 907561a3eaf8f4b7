//! The 2-hour glucose of a 75-g OGTT as a model quantity: calibrated to the mean 2-hour
//! glucose of Japanese people 40-55 without known glucose intolerance (Circ J 2009;73:1062:
//! men 136.0, women 119.8 mg/dL; IGT 24.1% and 16.7%), and monotone in the physiology.

use cohort::{Generator, SyntheticSpec};
use engine::{init_patients, Patient, RunKey};
use models::mortality::LifeTable;
use models::trial::GlucoseCategory;
use models::{HealthModel, PersonState};

fn people(model: &HealthModel) -> Vec<Patient<PersonState>> {
    let cohort = Generator::new(SyntheticSpec {
        n: 6000,
        seed: 9,
        age_min: 40,
        age_max: 55,
    })
    .unwrap()
    .generate();
    init_patients(
        model,
        RunKey {
            seed: 9,
            replicate: 0,
        },
        &cohort,
    )
}

/// Mean 2-hour glucose and IGT share by sex (men, women) among people not known to have
/// diabetes (not diagnosed), as the Circ J 2009 study selected them.
fn by_sex(model: &HealthModel) -> [(f64, f64); 2] {
    let mut acc = [(0.0, 0.0, 0.0); 2];
    for p in people(model) {
        if p.state.dm.diagnosed {
            continue;
        }
        let g2 = model
            .diabetes()
            .glucose_2h_mg_dl(&p.state.dm, p.age_years, &p.now);
        let a = &mut acc[p.sex().index()];
        a.0 += g2;
        a.1 += f64::from(matches!(
            GlucoseCategory::of(p.state.dm.fpg_mg_dl, g2),
            GlucoseCategory::Igt | GlucoseCategory::IfgIgt
        ) as u8);
        a.2 += 1.0;
    }
    acc.map(|(g, igt, n)| (g / n, igt / n))
}

#[test]
fn two_hour_glucose_matches_japanese_workers_40_to_55() {
    let model = HealthModel::new(LifeTable::mhlw_2024());
    let [(men, igt_m), (women, igt_w)] = by_sex(&model);
    eprintln!("2-h glucose men {men:.1} women {women:.1}; IGT men {igt_m:.3} women {igt_w:.3}");
    // Calibration target (the load): the mean over both sexes within 5 mg/dL of the study's
    // (weighted as the study: 914 men, 228 women).
    let study = (914.0 * 136.0 + 228.0 * 119.8) / 1142.0;
    let model_mean = (914.0 * men + 228.0 * women) / 1142.0;
    assert!((model_mean - study).abs() < 5.0, "{model_mean} vs {study}");
    // Not fitted: men above women, and IGT in the published 15-25% range of Japanese
    // population surveys (Ojika island, Nihon Koshu Eisei Zasshi 1992;39:907) give or take.
    assert!(men > women, "{men} {women}");
    assert!((0.08..0.35).contains(&igt_m) && (0.05..0.35).contains(&igt_w));
}

#[test]
#[ignore = "calibration helper: prints the 2-hour glucose for a range of loads"]
fn print_two_hour_glucose_by_load() {
    for load in [150.0, 200.0, 250.0, 300.0, 340.0, 400.0, 500.0] {
        let mut model = HealthModel::new(LifeTable::mhlw_2024());
        model.set_param("dm.ogtt.load_mg_dl", load).unwrap();
        let r = by_sex(&model);
        eprintln!("load {load}: {r:?}");
    }
}

#[test]
fn two_hour_glucose_rises_with_lower_insulin_sensitivity_and_load() {
    let model = HealthModel::new(LifeTable::mhlw_2024());
    let ps = people(&model);
    let p = &ps[0];
    let dm = model.diabetes();
    let base = dm.glucose_2h_mg_dl(&p.state.dm, p.age_years, &p.now);
    let mut heavier = p.now;
    heavier.bmi_kg_m2 += 4.0;
    let worse = dm.glucose_2h_mg_dl(&p.state.dm, p.age_years, &heavier);
    assert!(worse > base, "{worse} {base}");
    let mut less_beta = p.state.dm;
    less_beta.beta *= 0.7;
    assert!(dm.glucose_2h_mg_dl(&less_beta, p.age_years, &p.now) > base);
    assert!(base > p.state.dm.fpg_mg_dl * 0.7 && base < 400.0, "{base}");
}
