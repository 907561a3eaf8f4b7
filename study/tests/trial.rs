//! Virtual trials on the study runner: paired arms share people and luck (identical arms give
//! identical results, hazard ratio exactly 1), randomised allocation splits one pool afresh
//! in every replicate, eligibility selects on model quantities at entry, and a lifestyle arm
//! prevents diabetes found by the trial's own ascertainment.

use cohort::{Generator, SyntheticSpec};
use engine::Baseline;
use models::filter::Range;
use models::interventions::{Eligibility as ProgrammeEligibility, Intervention, Kind};
use models::interventions::{Mechanism, Priority};
use models::mortality::LifeTable;
use models::trial::{Ascertainment, Eligibility, Quantity};
use models::HealthModel;
use study::trial::{self, Design, EventKind, FollowUp, OutcomeDef, Recruitment, TrialArm};
use study::Allocation;

fn people(n: u64) -> Vec<Baseline> {
    Generator::new(SyntheticSpec {
        n,
        seed: 3,
        age_min: 40,
        age_max: 79,
    })
    .unwrap()
    .generate()
}

fn lifestyle() -> Intervention {
    Intervention {
        name: "lifestyle".into(),
        kind: Kind::IntensiveLifestyle,
        eligibility: ProgrammeEligibility::default(),
        priority: Priority::Random,
        uptake: 1.0,
        adherence: 1.0,
        dropout_per_year: 0.0,
        start_year: 0,
        stop_year: None,
        duration_years: None,
        capacity_per_year: None,
        cost_per_participant_year_yen: 0.0,
        effect_scale: 1.0,
        mechanism: Mechanism::default_for(Kind::IntensiveLifestyle),
    }
}

fn design(arms: Vec<TrialArm>, allocation: Allocation, eligibility: Eligibility) -> Design {
    Design {
        name: "test".into(),
        model: HealthModel::new(LifeTable::mhlw_2024()),
        eligibility,
        recruitment: Recruitment::default(),
        allocation,
        arms,
        follow_up: FollowUp {
            months: 30,
            min_months: None,
        },
        ascertainment: Ascertainment::default(),
        outcomes: vec![
            OutcomeDef {
                name: "t2d".into(),
                events: vec![EventKind::T2d],
            },
            OutcomeDef {
                name: "mace".into(),
                events: vec![
                    EventKind::Mi,
                    EventKind::Stroke,
                    EventKind::HeartFailure,
                    EventKind::CardiovascularDeath,
                ],
            },
        ],
        seed: 7,
        replicates: 2,
        step_months: 1,
    }
}

fn arm(name: &str, programmes: Vec<Intervention>) -> TrialArm {
    TrialArm {
        name: name.into(),
        programmes,
    }
}

#[test]
fn identical_paired_arms_give_identical_results() {
    let d = design(
        vec![arm("a", vec![]), arm("b", vec![])],
        Allocation::Paired,
        Eligibility::default(),
    );
    let s = trial::screen(&d, &people(1500)).unwrap();
    assert_eq!(s.enrolled.len(), 1500);
    let r = trial::run(&d, &s, &()).unwrap();
    for rep in &r.replicates {
        for per_arm in rep {
            assert_eq!(per_arm[0].events, per_arm[1].events);
            assert_eq!(per_arm[0].person_years, per_arm[1].person_years);
            assert!((per_arm[1].hr - 1.0).abs() < 1e-12, "{:?}", per_arm[1]);
        }
    }
    // Replicates differ (other luck after entry), people at entry do not.
    assert_eq!(r.runs[0][0].ids, r.runs[1][0].ids);
    assert_ne!(r.runs[0][0].times, r.runs[1][0].times);
}

#[test]
fn randomised_allocation_splits_one_pool_afresh_per_replicate() {
    let d = design(
        vec![arm("control", vec![]), arm("lifestyle", vec![lifestyle()])],
        Allocation::Randomised {
            weights: vec![1, 1],
        },
        Eligibility::default(),
    );
    let s = trial::screen(&d, &people(2000)).unwrap();
    let r = trial::run(&d, &s, &()).unwrap();
    for rep in &r.runs {
        let (a, b) = (rep[0].ids.len(), rep[1].ids.len());
        assert_eq!(a + b, 2000);
        // Binomial(2000, 1/2): SD 22.
        assert!((a as i64 - 1000).abs() < 110, "{a} {b}");
        // Nobody is in both arms.
        assert!(rep[0].ids.iter().all(|id| !rep[1].ids.contains(id)));
    }
    assert_ne!(r.runs[0][0].ids, r.runs[1][0].ids);
}

#[test]
fn eligibility_selects_on_the_two_hour_glucose_and_lifestyle_prevents_trial_diabetes() {
    let e = Eligibility {
        has_diabetes: Some(false),
        ranges: vec![(
            Quantity::Glucose2h,
            Range {
                lo: Some(140.0),
                hi: Some(199.0),
            },
        )],
        ..Eligibility::default()
    };
    let d = design(
        vec![arm("control", vec![]), arm("lifestyle", vec![lifestyle()])],
        Allocation::Paired,
        e,
    );
    let s = trial::screen(&d, &people(12000)).unwrap();
    assert!(
        s.eligible > 500 && s.eligible < s.screened,
        "{}",
        s.eligible
    );
    // Everyone enrolled has IGT (the baseline table's `igt` column).
    let igt = trial::BASELINE_VARIABLES
        .iter()
        .position(|v| *v == "igt")
        .unwrap();
    assert!(s.baseline.iter().all(|row| row[igt] == 1.0));
    let r = trial::run(&d, &s, &()).unwrap();
    for rep in &r.replicates {
        let t2d = &rep[0];
        assert!(t2d[1].events < t2d[0].events, "{t2d:?}");
        assert!(t2d[1].hr < 1.0 && t2d[1].rrr_pct > 0.0);
    }
}
