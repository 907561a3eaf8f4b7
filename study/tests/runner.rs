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

/// An uncapped lifestyle programme everyone takes up at the start.
fn lifestyle() -> models::interventions::Intervention {
    use models::interventions::{Eligibility, Intervention, Kind, Mechanism, Priority};
    let k = Kind::IntensiveLifestyle;
    Intervention {
        name: k.name().to_string(),
        kind: k,
        eligibility: Eligibility::default(),
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
        mechanism: Mechanism::default_for(k),
    }
}

/// Each person's final state in each run, by id (Debug text: the whole state).
fn finals(s: &Study<HealthModel>) -> Vec<Vec<(u64, String)>> {
    let r = run(s, &(), |ctx, _| {
        Ok::<_, StudyError>(
            ctx.patients
                .iter()
                .map(|p| (p.id(), format!("{p:?}")))
                .collect::<Vec<_>>(),
        )
    })
    .unwrap();
    r.arms.into_iter().flat_map(|a| a.replicates).collect()
}

#[test]
fn a_selected_person_has_their_paired_path_in_each_of_their_arms() {
    let mut s = study(2, Streams::Common);
    s.settings.replicates = 1;
    s.arms[1]
        .model
        .set_interventions(vec![lifestyle()])
        .unwrap();
    let paired = finals(&s);
    // Arm 0: everyone; arm 1: every third person.
    s.allocation = study::Allocation::Selected {
        masks: (0..s.population.len())
            .map(|i| if i % 3 == 0 { 0b11 } else { 0b01 })
            .collect(),
    };
    let selected = finals(&s);
    assert_eq!(selected[0], paired[0]);
    let want: Vec<_> = paired[1]
        .iter()
        .enumerate()
        .filter(|(i, _)| i % 3 == 0)
        .map(|(_, x)| x.clone())
        .collect();
    assert_eq!(selected[1], want);
    assert_ne!(paired[0], paired[1], "the programme changes paths");
    // One mask per person.
    s.allocation = study::Allocation::Selected { masks: vec![1; 3] };
    assert!(matches!(
        run_aggregates(&s, &()),
        Err(StudyError::Masks { masks: 3, .. })
    ));
}

/// The age of a traced person at each census.
struct Age;
impl engine::run::Trace<models::PersonState> for Age {
    type Row = f64;
    fn row(&self, p: &engine::Patient<models::PersonState>) -> f64 {
        p.age_years
    }
}

#[test]
fn a_trace_of_a_few_fields_reads_the_whole_persons_trace() {
    let mut s = study(1, Streams::Common);
    s.settings.replicates = 1;
    s.settings.trace_patients = 50;
    let whole = run(&s, &(), |_, out| {
        Ok::<_, StudyError>(
            out.trace
                .iter()
                .map(|r| (r.patient, r.year, r.patient_state.age_years))
                .collect::<Vec<_>>(),
        )
    })
    .unwrap();
    let ages = study::run_traced(&s, &(), &Age, |_, out| {
        Ok::<_, StudyError>(
            out.trace
                .iter()
                .map(|r| (r.patient, r.year, r.patient_state))
                .collect::<Vec<_>>(),
        )
    })
    .unwrap();
    assert!(!ages.arms[0].replicates[0].is_empty());
    assert_eq!(whole.arms[0].replicates, ages.arms[0].replicates);
}
