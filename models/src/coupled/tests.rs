//! Tests of the coupled model that need its internals: parameter draws reach the phases,
//! and the programme allocation's two orders (one pass; programme by programme) and its two
//! places (the engine's per-person preparation; the allocation's own pass) agree.

use cohort::{Generator, SyntheticSpec};
use engine::{init_patients, simulate, RunKey, RunSettings};

use super::{HealthModel, PersonState};
use crate::filter::Range;
use crate::interventions::{Eligibility, Intervention, Kind, Mechanism, Priority};
use crate::mortality::LifeTable;
use crate::params::{ParamDraw, Uncertainty};

#[test]
fn a_replicate_model_carries_its_drawn_parameters() {
    let base = HealthModel::new(LifeTable::mhlw_2024());
    let run = RunKey {
        seed: 3,
        replicate: 4,
    };
    assert_eq!(
        base.for_replicate(run, &[]).unwrap().params(),
        base.params()
    );
    let draws = [ParamDraw {
        name: "mortality.background.hazard_ratio".into(),
        uncertainty: Uncertainty::Uniform { lo: 0.5, hi: 1.5 },
    }];
    let drawn = base.for_replicate(run, &draws).unwrap();
    let hr = drawn
        .params()
        .get("mortality.background.hazard_ratio")
        .unwrap();
    assert!((0.5..1.5).contains(&hr) && hr != 1.0);
    // The drawn value is what the mortality phase uses.
    assert_eq!(drawn.background_hr, hr);
    assert_eq!(
        base.for_replicate(run, &draws).unwrap().params(),
        drawn.params()
    );
}

fn programme(name: &str, kind: Kind, priority: Priority, capacity: Option<u64>) -> Intervention {
    Intervention {
        name: name.into(),
        kind,
        eligibility: Eligibility::default(),
        priority,
        uptake: 0.6,
        adherence: 0.8,
        dropout_per_year: 0.3,
        start_year: 0,
        stop_year: Some(5),
        duration_years: Some(2.0),
        capacity_per_year: capacity,
        cost_per_participant_year_yen: 0.0,
        effect_scale: 1.0,
        mechanism: Mechanism::default_for(kind),
    }
}

/// The one-pass allocation is the programme-by-programme allocation: the same people
/// enrolled, with the same draws, for a plan of limited and unlimited programmes of
/// every priority (ties included: frailty counts), over years in which programmes run,
/// fill, lose participants and stop.
#[test]
fn one_pass_allocation_equals_programme_by_programme() {
    let mut older = programme("salon", Kind::CommunitySalon, Priority::Random, Some(150));
    older.eligibility.covariates.age = Range {
        lo: Some(65.0),
        hi: None,
    };
    let plan = vec![
        programme(
            "bp",
            Kind::Antihypertensive,
            Priority::CardiovascularRisk,
            Some(200),
        ),
        programme("statin", Kind::Statin, Priority::CardiovascularRisk, None),
        older,
        programme(
            "exercise",
            Kind::ExerciseNutrition,
            Priority::FrailtyIndex,
            Some(120),
        ),
        programme("check", Kind::HealthCheck, Priority::Random, None),
        programme(
            "lifestyle",
            Kind::IntensiveLifestyle,
            Priority::DiabetesRisk,
            Some(90),
        ),
    ];
    let mut m = HealthModel::new(LifeTable::mhlw_2024());
    m.set_interventions(plan).unwrap();
    assert!(m.programmes.one_pass());
    let people = Generator::new(SyntheticSpec {
        n: 3000,
        seed: 5,
        age_min: 40,
        age_max: 89,
    })
    .unwrap()
    .generate();
    let run = RunKey {
        seed: 9,
        replicate: 0,
    };
    let mut a = init_patients(&m, run, &people);
    let settings = RunSettings {
        years: 2,
        step_months: 1,
        chunk_size: 256,
        trace_patients: 0,
    };
    simulate(&m, &settings, run, &mut a, &|_| {});
    let mut b = a.clone();
    let enrolled = |ps: &[engine::Patient<PersonState>]| {
        ps.iter()
            .filter(|p| p.alive())
            .map(|p| p.state.ix.enrolled.count_ones())
            .sum::<u32>()
    };
    let mut seen = Vec::new();
    for year in 2..7 {
        m.programmes.start_of_year(&m.cvd, run, year, &mut a, None);
        m.programmes.allocate_in_order(&m.cvd, run, year, &mut b);
        for (p, q) in a.iter().zip(&b) {
            // Debug text: NaN fields (no event yet) compare unequal as floats.
            assert_eq!(
                format!("{:?}", p.state),
                format!("{:?}", q.state),
                "year {year}"
            );
        }
        seen.push(enrolled(&a));
    }
    // Programmes ran (participants) and stopped at year 5 (nobody living enrolled).
    assert!(seen[0] > 300, "{seen:?}");
    assert_eq!(seen[4], 0, "{seen:?}");
}

/// The allocation's per-person pass made by the engine at the end of each person's year
/// (`Model::prepare`) gives the run of the allocation's own pass at the start of the
/// year: the same people, states and aggregates, with limited programmes that fill.
#[test]
fn allocation_prepared_in_the_engine_changes_nothing() {
    let mut salon = programme("salon", Kind::CommunitySalon, Priority::Random, Some(100));
    salon.eligibility.covariates.age = Range {
        lo: Some(65.0),
        hi: None,
    };
    salon.stop_year = None;
    let mut bp = programme(
        "bp",
        Kind::Antihypertensive,
        Priority::CardiovascularRisk,
        Some(80),
    );
    bp.stop_year = None;
    let mut statin = programme("statin", Kind::Statin, Priority::Random, None);
    statin.stop_year = None;
    let plan = vec![bp, statin, salon];
    let mut m = HealthModel::new(LifeTable::mhlw_2024());
    m.set_interventions(plan).unwrap();
    assert!(m.programmes.prepares());
    let people = Generator::new(SyntheticSpec {
        n: 2000,
        seed: 11,
        age_min: 40,
        age_max: 89,
    })
    .unwrap()
    .generate();
    let run = RunKey {
        seed: 4,
        replicate: 1,
    };
    let settings = RunSettings {
        years: 4,
        step_months: 1,
        chunk_size: 64,
        trace_patients: 0,
    };
    let mut a = init_patients(&m, run, &people);
    let out_a = simulate(&m, &settings, run, &mut a, &|_| {});
    let mut own = m.clone();
    own.programmes.prepare_in_engine = false;
    assert!(!own.programmes.prepares());
    let mut b = init_patients(&own, run, &people);
    let out_b = simulate(&own, &settings, run, &mut b, &|_| {});
    assert_eq!(out_a.aggregate, out_b.aggregate);
    for (p, q) in a.iter().zip(&b) {
        assert_eq!(format!("{:?}", p.state), format!("{:?}", q.state));
    }
    let ever = a.iter().filter(|p| p.state.ix.ever != 0).count();
    assert!(ever > 300, "{ever}");
}
