//! Programmes end the way they do in people: for every programme kind, ending it never
//! produces more cumulative cases of what it prevents than never having run it, beyond Monte
//! Carlo noise, over the 10 years after exit (issue 18: a lifestyle programme that ended
//! returned weight and activity to the person's own trajectory in one step, and more
//! diabetes cases arrived in the following year than the programme had deferred).
//!
//! Each kind runs for 3 years on everyone eligible, then 10 years follow; the reference is
//! the same people with no programme and the same keyed draws (common random numbers), so
//! the difference is paired person by person: with b people who have the outcome only with
//! the programme and c only without it, b − c has standard deviation √(b + c) under no
//! effect (McNemar), and the test refuses b − c > 3 √(b + c).

use cohort::{Generator, SyntheticSpec};
use engine::{init_patients, simulate, Baseline, Patient, RunKey, RunSettings};
use models::interventions::{Eligibility, Intervention, Kind, Mechanism, Priority};
use models::mortality::LifeTable;
use models::{HealthModel, PersonState};

const PROGRAMME_YEARS: f64 = 3.0;
const AFTER_EXIT_YEARS: u32 = 10;

/// What a kind prevents, read from a person's state at the end of the run (the dead keep
/// their state at death).
#[derive(Clone, Copy, Debug)]
enum Outcome {
    /// Diabetes onset during the run.
    Diabetes,
    /// A first MI, stroke or heart failure during the run.
    Cardiovascular,
    /// Long-term-care certification during the run.
    Certification,
}

fn outcome_of(kind: Kind) -> Outcome {
    match kind {
        Kind::IntensiveLifestyle | Kind::Diet | Kind::Exercise | Kind::Metformin => {
            Outcome::Diabetes
        }
        Kind::ExerciseNutrition | Kind::CommunitySalon => Outcome::Certification,
        Kind::Statin
        | Kind::Antihypertensive
        | Kind::BpTreatToTarget
        | Kind::GlucoseIntensification
        | Kind::HealthCheck
        | Kind::SmokingCessation => Outcome::Cardiovascular,
    }
}

fn has(outcome: Outcome, p: &Patient<PersonState>) -> bool {
    let st = &p.state;
    match outcome {
        Outcome::Diabetes => st.dm.onset_age.is_some_and(|a| a > p.baseline.age_years),
        Outcome::Cardiovascular => st.cvd.first_event_age.is_finite(),
        Outcome::Certification => st.fr.certified(),
    }
}

fn programme(kind: Kind) -> Intervention {
    let mut eligibility = Eligibility::default();
    match kind {
        Kind::IntensiveLifestyle | Kind::Diet | Kind::Exercise | Kind::Metformin => {
            eligibility.has_diabetes = Some(false);
        }
        Kind::GlucoseIntensification => eligibility.diagnosed_diabetes = Some(true),
        Kind::ExerciseNutrition | Kind::CommunitySalon => eligibility.ltc_certified = Some(false),
        Kind::BpTreatToTarget | Kind::Antihypertensive => eligibility.hypertension = Some(true),
        _ => {}
    }
    Intervention {
        name: kind.name().into(),
        kind,
        eligibility,
        priority: Priority::Random,
        uptake: 1.0,
        adherence: 1.0,
        dropout_per_year: 0.0,
        start_year: 0,
        stop_year: None,
        duration_years: Some(PROGRAMME_YEARS),
        capacity_per_year: None,
        cost_per_participant_year_yen: 0.0,
        effect_scale: 1.0,
        mechanism: Mechanism::default_for(kind),
    }
}

fn run(model: &HealthModel, people: &[Baseline]) -> Vec<Patient<PersonState>> {
    let settings = RunSettings {
        years: PROGRAMME_YEARS as u32 + AFTER_EXIT_YEARS,
        step_months: 1,
        chunk_size: 256,
        trace_patients: 0,
    };
    let key = RunKey {
        seed: 18,
        replicate: 0,
    };
    let mut patients = init_patients(model, key, people);
    simulate(model, &settings, key, &mut patients, &|_| {});
    patients
}

#[test]
fn ending_a_programme_never_causes_more_of_what_it_prevents_than_never_running_it() {
    let people = Generator::new(SyntheticSpec {
        n: 4000,
        seed: 18,
        age_min: 45,
        age_max: 79,
    })
    .unwrap()
    .generate();
    let reference = run(&HealthModel::new(LifeTable::mhlw_2024()), &people);
    let mut report = Vec::new();
    let mut failures = Vec::new();
    for kind in Kind::ALL {
        let mut model = HealthModel::new(LifeTable::mhlw_2024());
        model.set_interventions(vec![programme(kind)]).unwrap();
        let with = run(&model, &people);
        let outcome = outcome_of(kind);
        let (mut only_with, mut only_without) = (0i64, 0i64);
        for (a, b) in with.iter().zip(&reference) {
            match (has(outcome, a), has(outcome, b)) {
                (true, false) => only_with += 1,
                (false, true) => only_without += 1,
                _ => {}
            }
        }
        let excess = only_with - only_without;
        let noise = ((only_with + only_without) as f64).sqrt();
        report.push(format!(
            "{:<24} {outcome:?}: +{only_with} -{only_without} (excess {excess}, sd {noise:.1})",
            kind.name()
        ));
        if excess as f64 > 3.0 * noise.max(1.0) {
            failures.push(kind.name());
        }
    }
    let report = report.join("\n");
    eprintln!("{report}");
    assert!(
        failures.is_empty(),
        "more cases after the programme than without it: {failures:?}\n{report}"
    );
}

/// The weight a lifestyle participant carries after leaving fades: a month after exit most of
/// the loss is still there (no step back to the own trajectory), and it decays towards it.
#[test]
fn weight_is_regained_gradually_after_a_lifestyle_programme() {
    let people: Vec<Baseline> = Generator::new(SyntheticSpec {
        n: 400,
        seed: 3,
        age_min: 45,
        age_max: 64,
    })
    .unwrap()
    .generate();
    let mut model = HealthModel::new(LifeTable::mhlw_2024());
    model
        .set_interventions(vec![programme(Kind::IntensiveLifestyle)])
        .unwrap();
    let reference = HealthModel::new(LifeTable::mhlw_2024());
    // BMI ratio programme / reference (same people, same draws) at the end of years 3..8.
    let mut ratios = Vec::new();
    for years in [3u32, 4, 6, 9] {
        let settings = RunSettings {
            years,
            step_months: 1,
            chunk_size: 64,
            trace_patients: 0,
        };
        let key = RunKey {
            seed: 4,
            replicate: 0,
        };
        let mean_ratio = |m: &HealthModel| {
            let mut ps = init_patients(m, key, &people);
            simulate(m, &settings, key, &mut ps, &|_| {});
            ps
        };
        let (a, b) = (mean_ratio(&model), mean_ratio(&reference));
        let (mut sum, mut n) = (0.0, 0.0);
        for (x, y) in a.iter().zip(&b) {
            if x.alive() && y.alive() && x.state.ix.ever != 0 {
                sum += x.now.bmi_kg_m2 / y.now.bmi_kg_m2;
                n += 1.0;
            }
        }
        ratios.push(sum / n);
    }
    // Loss at exit ≈ 5% (7% at 6 months, 0.8 points a year regained while enrolled).
    let loss: Vec<f64> = ratios.iter().map(|r| 1.0 - r).collect();
    assert!((loss[0] - 0.05).abs() < 0.005, "{loss:?}");
    // One year after exit: e^(−1/2.82) = 70% of it left; three years: 34%; six: 12%.
    assert!((loss[1] / loss[0] - 0.70).abs() < 0.05, "{loss:?}");
    assert!((loss[2] / loss[0] - 0.34).abs() < 0.05, "{loss:?}");
    assert!(loss[3] > 0.0 && loss[3] < loss[2], "{loss:?}");
}
