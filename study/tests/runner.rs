//! The study runner: one loop, common random numbers by construction, results independent
//! of the thread count, bad studies refused before anything runs.

use cohort::{Generator, SyntheticSpec};
use engine::Aggregator;
use models::mortality::LifeTable;
use models::HealthModel;
use study::{run, run_aggregates, Arm, Settings, Streams, Study, StudyError};

fn study(arms: usize, streams: Streams) -> Study<HealthModel> {
    let population = Generator::new(SyntheticSpec {
        n: 400,
        seed: 5,
        age_min: 40,
        age_max: 89,
    })
    .unwrap()
    .generate();
    let model = HealthModel::new(LifeTable::mhlw_2024());
    Study {
        arms: (0..arms)
            .map(|i| Arm {
                name: format!("arm{i}"),
                model: model.clone(),
            })
            .collect(),
        population,
        settings: Settings {
            seed: 9,
            years: 3,
            replicates: 2,
            streams,
            ..Settings::default()
        },
        draws: Vec::new(),
        allocation: study::Allocation::Paired,
    }
}

fn on_threads<T: Send>(n: usize, f: impl FnOnce() -> T + Send) -> T {
    rayon::ThreadPoolBuilder::new()
        .num_threads(n)
        .build()
        .unwrap()
        .install(f)
}

fn same(a: &Aggregator, b: &Aggregator) -> bool {
    (0..a.years()).all(|y| {
        engine::Sex::ALL.iter().all(|&s| {
            (0..engine::observe::N_AGE_BANDS)
                .all(|band| (0..a.metrics()).all(|m| a.get(y, s, band, m) == b.get(y, s, band, m)))
        })
    })
}

#[test]
fn results_do_not_depend_on_the_thread_count() {
    let s = study(1, Streams::Common);
    let one = on_threads(1, || run_aggregates(&s, &()).unwrap());
    let two = on_threads(2, || run_aggregates(&s, &()).unwrap());
    for (a, b) in one.arms[0].replicates.iter().zip(&two.arms[0].replicates) {
        assert!(same(a, b));
    }
    // Replicates differ from each other (other draws).
    assert!(!same(
        &one.arms[0].replicates[0],
        &one.arms[0].replicates[1]
    ));
}

#[test]
fn identical_arms_are_identical_under_common_random_numbers_only() {
    let crn = run_aggregates(&study(2, Streams::Common), &()).unwrap();
    let ind = run_aggregates(&study(2, Streams::Independent), &()).unwrap();
    for r in 0..2 {
        assert!(same(&crn.arms[0].replicates[r], &crn.arms[1].replicates[r]));
        assert!(!same(
            &ind.arms[0].replicates[r],
            &ind.arms[1].replicates[r]
        ));
    }
    // The first arm keeps its key under independent streams: it equals the CRN run.
    assert!(same(&crn.arms[0].replicates[0], &ind.arms[0].replicates[0]));
}

#[test]
fn the_reference_arm_runs_first_in_every_replicate() {
    let s = study(3, Streams::Common);
    let mut order = Vec::new();
    run(&s, &(), |ctx, _| {
        order.push((ctx.replicate, ctx.arm));
        Ok::<_, StudyError>(())
    })
    .unwrap();
    assert_eq!(order, [(0, 0), (0, 1), (0, 2), (1, 0), (1, 1), (1, 2)]);
}

#[test]
fn bad_studies_are_refused_before_anything_runs() {
    let mut s = study(1, Streams::Common);
    s.settings.step_months = 12;
    assert!(matches!(
        run_aggregates(&s, &()),
        Err(StudyError::Step { step: 12, .. })
    ));
    let mut s = study(1, Streams::Common);
    s.population.clear();
    assert!(matches!(run_aggregates(&s, &()), Err(StudyError::NoPeople)));
    let mut s = study(0, Streams::Common);
    s.settings.replicates = 1;
    assert!(matches!(run_aggregates(&s, &()), Err(StudyError::NoArms)));
    // An error of the reducer stops the study.
    let s = study(2, Streams::Common);
    let mut calls = 0;
    let r = run(&s, &(), |_, _| {
        calls += 1;
        Err::<(), _>(StudyError::Empty)
    });
    assert!(r.is_err() && calls == 1);
}
