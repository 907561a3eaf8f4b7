//! The cardiovascular model through the engine's step loop: invariants (finite states,
//! probabilities in [0, 1]), common-random-number monotonicity in blood pressure, the trial
//! effects of treatment on the hazards, fatal events ending lives as cardiovascular deaths, and
//! case fatality against the registries.
#![allow(clippy::disallowed_methods)] // the platform libm as a reference (clippy.toml)

use engine::{
    init_patients, simulate, Baseline, Conditions, Covariates, Patient, RunKey, RunSettings, Sex,
    Treatments,
};
use models::cvd::{DmLink, HAEMORRHAGIC_STROKE, HEART_FAILURE, ISCHAEMIC_STROKE, MI, N_EVENTS};
use models::mortality::LifeTable;
use models::{HealthModel, PersonState, CAUSES};
use proptest::prelude::*;

fn covariates(sbp: f64, ldl: f64, smoker: bool) -> Covariates {
    Covariates {
        bmi_kg_m2: 23.0,
        fpg_mg_dl: 95.0,
        hba1c_pct: 5.6,
        sbp_mmhg: sbp,
        dbp_mmhg: (sbp * 0.6).min(sbp - 15.0),
        tc_mg_dl: ldl + 55.0 + 25.0,
        hdl_mg_dl: 55.0,
        ldl_mg_dl: ldl,
        egfr_ml_min: 75.0,
        steps_per_day: 6000.0,
        frailty_index: 0.12,
        smoker,
        conditions: Conditions::default(),
        treatments: Treatments::default(),
    }
}

fn run(
    model: &HealthModel,
    people: &[Baseline],
    seed: u64,
    years: u32,
) -> Vec<Patient<PersonState>> {
    let settings = RunSettings {
        years,
        step_months: 1,
        chunk_size: 512,
        trace_patients: 0,
    };
    let run = RunKey { seed, replicate: 0 };
    let mut patients = init_patients(model, run, people);
    simulate(model, &settings, run, &mut patients, &|_| {});
    patients
}

fn cardiovascular_cause() -> u8 {
    CAUSES.iter().position(|c| *c == "cardiovascular").unwrap() as u8
}

#[test]
fn higher_blood_pressure_never_delays_the_first_event_under_common_random_numbers() {
    // Blood-pressure treatment is switched off: starting a drug would lower the hazard of the
    // person with the higher reading below the other's, which is the treatment working, not
    // a monotonicity failure. Everything else (diabetes, statins, smoking) runs as usual and
    // sees the same draws in both arms.
    let mut model = HealthModel::new(LifeTable::mhlw_2024());
    for name in [
        "cvd.care.start_bp_after_checkup",
        "cvd.care.start_bp_in_care",
    ] {
        model.set_param(name, 0.0).unwrap();
    }
    let people = |extra: f64| -> Vec<Baseline> {
        (0..4000u64)
            .map(|id| {
                let sex = if id % 2 == 0 { Sex::Male } else { Sex::Female };
                let age = 45.0 + (id % 40) as f64;
                let mut c = covariates(
                    118.0 + (id % 7) as f64 * 6.0 + extra,
                    110.0 + (id % 5) as f64 * 15.0,
                    id % 3 == 0,
                );
                if id % 9 == 0 {
                    // Some people with diabetes, so the UKPDS OM2 branch is exercised too.
                    c.hba1c_pct = 7.5;
                    c.fpg_mg_dl = 160.0;
                    c.conditions.insert(Conditions::DIABETES);
                }
                Baseline {
                    id,
                    sex,
                    age_years: age,
                    covariates: c,
                }
            })
            .collect()
    };
    let first = |ps: &[Patient<PersonState>]| -> Vec<f64> {
        ps.iter()
            .map(|p| {
                let a = p.state.cvd.first_event_age;
                if a.is_nan() {
                    f64::INFINITY
                } else {
                    a
                }
            })
            .collect()
    };
    let low = first(&run(&model, &people(0.0), 7, 20));
    let high = first(&run(&model, &people(20.0), 7, 20));
    let mut earlier = 0;
    for (i, (l, h)) in low.iter().zip(&high).enumerate() {
        assert!(
            h <= l,
            "person {i}: first event at {h} with SBP +20, at {l} without"
        );
        if h < l {
            earlier += 1;
        }
    }
    let with_event = low.iter().filter(|a| a.is_finite()).count();
    eprintln!("first events: {with_event} of 4000 at base SBP; {earlier} earlier with +20 mmHg");
    // The comparison has power: many first events come earlier with the higher pressure.
    assert!(earlier > 100, "only {earlier} earlier first events");
}

#[test]
fn treatment_lowers_the_hazards_by_the_trial_relative_risks() {
    let model = HealthModel::new(LifeTable::mhlw_2024());
    let cvd = model.cvd();
    let b = Baseline {
        id: 1,
        sex: Sex::Male,
        age_years: 62.0,
        covariates: covariates(150.0, 160.0, false),
    };
    let run = RunKey {
        seed: 1,
        replicate: 0,
    };
    let state = engine::Model::init(&model, run, &b);
    let mut p = Patient {
        baseline: b,
        age_years: b.age_years,
        now: b.covariates,
        death: None,
        hazard_left: f64::INFINITY,
        state,
    };
    p.state.cvd.adherence = 1.0;
    let link = DmLink::default();
    let untreated = cvd.hazards(&p, &link);
    p.state.cvd.statin = true;
    let statin = cvd.hazards(&p, &link);
    let ldl_nat = p.state.cvd.natural_ldl();
    let mmol = engine::units::cholesterol_mmol_l(0.40 * ldl_nat);
    let close = |a: f64, b: f64| (a - b).abs() <= 1e-12 * b.abs().max(1e-300);
    assert!(close(statin[MI], untreated[MI] * 0.77f64.powf(mmol)));
    assert!(close(
        statin[ISCHAEMIC_STROKE],
        untreated[ISCHAEMIC_STROKE] * 0.83f64.powf(mmol)
    ));
    assert!(close(
        statin[HAEMORRHAGIC_STROKE],
        untreated[HAEMORRHAGIC_STROKE]
    ));
    assert!(close(statin[HEART_FAILURE], untreated[HEART_FAILURE]));
    p.state.cvd.statin = false;
    p.state.cvd.bp_drugs = 2;
    let bp = cvd.hazards(&p, &link);
    let sbp_nat = p.state.cvd.natural_sbp();
    // Law 2003: 9.1 mmHg per drug at 154 mmHg, 1.0 more per 10 mmHg above.
    let dsbp = 2.0 * (9.1 + 0.1 * (sbp_nat - 154.0));
    assert!(close(bp[MI], untreated[MI] * 0.83f64.powf(dsbp / 10.0)));
    assert!(close(
        bp[ISCHAEMIC_STROKE],
        untreated[ISCHAEMIC_STROKE] * 0.73f64.powf(dsbp / 10.0)
    ));
    assert!(close(
        bp[HEART_FAILURE],
        untreated[HEART_FAILURE] * 0.72f64.powf(dsbp / 10.0)
    ));
    // The Japanese recalibration of UKPDS OM2 for people with diabetes: 0.30 × CHD.
    let mut dm = model.clone();
    dm.set_param("cvd.om2.recalibration_chd", 0.6).unwrap();
    let link = DmLink {
        onset_age: Some(55.0),
        hba1c_pct: 7.5,
        ..DmLink::default()
    };
    let a = model.cvd().hazards(&p, &link)[MI];
    let b2 = dm.cvd().hazards(&p, &link)[MI];
    assert!(close(b2, 2.0 * a));
}

#[test]
fn fatal_events_are_cardiovascular_deaths_and_survivors_carry_the_flags() {
    let model = HealthModel::new(LifeTable::mhlw_2024());
    let people: Vec<Baseline> = (0..3000u64)
        .map(|id| Baseline {
            id,
            sex: if id % 2 == 0 { Sex::Male } else { Sex::Female },
            age_years: 70.0 + (id % 15) as f64,
            covariates: covariates(165.0, 170.0, id % 2 == 0),
        })
        .collect();
    let ps = run(&model, &people, 3, 15);
    let cv = cardiovascular_cause();
    let (mut fatal, mut survivors) = (0, 0);
    for p in &ps {
        let st = &p.state.cvd;
        if st.fatal {
            fatal += 1;
            let d = p.death.expect("a fatal event ends the life");
            assert_eq!(d.cause, cv);
            // Death within the step of the event (the first-event age is at the step start).
            assert!(st.first_event_age.is_finite());
        } else if st.any_history() {
            survivors += 1;
            assert_eq!(p.now.conditions.contains(Conditions::MI), st.mi_count > 0);
            assert_eq!(
                p.now.conditions.contains(Conditions::STROKE),
                st.stroke_history()
            );
            assert_eq!(
                p.now.conditions.contains(Conditions::HEART_FAILURE),
                st.heart_failure
            );
        }
    }
    eprintln!("{fatal} fatal events, {survivors} survivors with a history");
    assert!(fatal > 50 && survivors > 200);
}

fn baseline_strategy() -> impl Strategy<Value = Baseline> {
    (
        (40.0..95.0f64, any::<bool>(), 80.0..220.0f64, 40.0..260.0f64),
        (
            15.0..45.0f64,
            20.0..130.0f64,
            5.0..130.0f64,
            500.0..15000.0f64,
        ),
        (4.5..12.0f64, any::<u8>()),
    )
        .prop_map(|(a, b, c)| {
            let flags = c.1;
            let mut cov = covariates(a.2, a.3, flags & 1 != 0);
            cov.bmi_kg_m2 = b.0;
            cov.hdl_mg_dl = b.1;
            cov.tc_mg_dl = a.3 + b.1 + 20.0;
            cov.egfr_ml_min = b.2;
            cov.steps_per_day = b.3;
            cov.hba1c_pct = c.0;
            cov.fpg_mg_dl = 28.7 * c.0 - 46.7;
            cov.treatments
                .set(Treatments::ANTIHYPERTENSIVE, flags & 2 != 0);
            cov.treatments
                .set(Treatments::LIPID_LOWERING, flags & 4 != 0);
            cov.conditions.set(Conditions::MI, flags & 8 != 0);
            cov.conditions.set(Conditions::STROKE, flags & 16 != 0);
            cov.conditions
                .set(Conditions::HEART_FAILURE, flags & 32 != 0);
            cov.conditions.set(Conditions::DIABETES, c.0 >= 6.5);
            Baseline {
                id: u64::from(flags),
                sex: if a.1 { Sex::Male } else { Sex::Female },
                age_years: a.0,
                covariates: cov,
            }
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn states_stay_finite_and_probabilities_in_0_1(people in prop::collection::vec(baseline_strategy(), 8)) {
        let model = HealthModel::new(LifeTable::mhlw_2024());
        let people: Vec<Baseline> = people
            .into_iter()
            .enumerate()
            .map(|(i, mut b)| { b.id = i as u64; b })
            .collect();
        let ps = run(&model, &people, 11, 12);
        for p in &ps {
            let st = &p.state.cvd;
            for v in p.now.continuous() {
                prop_assert!(v.is_finite(), "covariate {v}");
            }
            prop_assert!(p.now.sbp_mmhg > p.now.dbp_mmhg);
            prop_assert!(st.event_clock >= 0.0, "event clock {}", st.event_clock);
            let step = models::cvd::hazard::step_probability(st.hazard.iter().sum(), 1.0 / 12.0);
            prop_assert!((0.0..=1.0).contains(&step), "step probability {step}");
            for h in st.hazard {
                prop_assert!(h.is_finite() && h >= 0.0, "hazard {h}");
            }
            for v in [st.sbp_level, st.sbp_fluct, st.dbp_level, st.ldl_level, st.ldl_fluct, st.hdl, st.bmi_drift] {
                prop_assert!(v.is_finite());
            }
            prop_assert!(st.bp_drugs <= 3);
            let link = DmLink::of(p);
            let h = model.cvd().hazards(p, &link);
            prop_assert_eq!(h.len(), N_EVENTS);
            for e in 0..N_EVENTS {
                let cf = model.cvd().case_fatality(e, p.sex(), p.age_years);
                prop_assert!((0.0..=1.0).contains(&cf));
            }
        }
    }
}

#[test]
fn case_fatality_is_the_registry_value_at_the_reference_age_and_rises_with_age() {
    let m = HealthModel::new(LifeTable::mhlw_2024());
    let m = m.cvd();
    assert!((m.case_fatality(MI, Sex::Male, 70.0) - 0.343).abs() < 1e-12);
    assert!((m.case_fatality(MI, Sex::Female, 70.0) - 0.433).abs() < 1e-12);
    assert!((m.case_fatality(ISCHAEMIC_STROKE, Sex::Male, 70.0) - 0.097).abs() < 1e-12);
    for e in 0..N_EVENTS {
        let mut prev = 0.0;
        for age in (40..=100).step_by(5) {
            let cf = m.case_fatality(e, Sex::Female, f64::from(age));
            assert!(cf > prev && cf < 1.0);
            prev = cf;
        }
    }
}
