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

#[test]
fn setting_parameters_at_once_equals_setting_them_one_by_one() {
    let values = [
        ("dm.capacity.headroom", 3.5),
        ("fr.deficits.acquisition_per_year", 0.6),
        ("fr.ltc.level_spread", 1.1),
        ("cvd.hf.factor", 0.4),
        ("mortality.background.hazard_ratio", 1.2),
    ];
    let mut one_by_one = HealthModel::new(LifeTable::mhlw_2024());
    for (n, v) in values {
        one_by_one.set_param(n, v).unwrap();
    }
    let mut at_once = HealthModel::new(LifeTable::mhlw_2024());
    at_once.set_params(&values).unwrap();
    assert_eq!(at_once.params(), one_by_one.params());
    assert_eq!(at_once.canonical(), one_by_one.canonical());
    assert_eq!(at_once.background_hr, 1.2);
    assert_eq!(
        format!("{:?}", at_once.frailty),
        format!("{:?}", one_by_one.frailty)
    );
    assert_eq!(
        format!("{:?}", at_once.diabetes),
        format!("{:?}", one_by_one.diabetes)
    );
    // A refused value leaves the model as it was.
    let before = at_once.params().clone();
    assert!(at_once
        .set_params(&[("cvd.hf.factor", 0.5), ("dm.capacity.headroom", -1.0)])
        .is_err());
    assert_eq!(at_once.params(), &before);
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

/// A checkpoint in memory: every year's state, as `simulate_from` hands it over.
type SavedYear = (
    engine::run::YearStart<engine::Patient<PersonState>>,
    Vec<engine::Patient<PersonState>>,
);
struct Saved(Vec<SavedYear>);

impl engine::run::YearHook<PersonState, engine::Patient<PersonState>> for Saved {
    type Error = ();
    fn save_after(&mut self, _year: u32) -> bool {
        true
    }
    fn save(
        &mut self,
        at: &engine::run::YearStart<engine::Patient<PersonState>>,
        patients: &[engine::Patient<PersonState>],
    ) -> Result<(), ()> {
        self.0.push((at.clone(), patients.to_vec()));
        Ok(())
    }
}

/// Debug text of a run's outputs (NaN fields, no event yet, compare unequal as floats).
fn bits(
    out: &engine::run::ReplicateOutput<PersonState>,
    patients: &[engine::Patient<PersonState>],
) -> (engine::Aggregator, String, String) {
    (
        out.aggregate.clone(),
        format!("{:?}", out.trace),
        format!("{patients:?}"),
    )
}

/// Year checkpoints (`engine::run::simulate_from`): a run saved at every year boundary,
/// which then allocates each year's capacity-limited places in its own pass instead of the
/// engine's fused per-person preparation, is the uninterrupted run bit for bit; and a run
/// resumed from each saved year (its people's states restored from the saved copy) ends
/// with the same aggregates, trace and states.
#[test]
fn runs_saved_at_and_resumed_from_every_year_are_the_uninterrupted_run() {
    let mut salon = programme("salon", Kind::CommunitySalon, Priority::Random, Some(100));
    salon.eligibility.covariates.age = Range {
        lo: Some(65.0),
        hi: None,
    };
    salon.stop_year = None;
    let mut ex = programme(
        "exercise",
        Kind::ExerciseNutrition,
        Priority::FrailtyIndex,
        Some(60),
    );
    ex.stop_year = None;
    let mut m = HealthModel::new(LifeTable::mhlw_2024());
    m.set_interventions(vec![salon, ex]).unwrap();
    assert!(m.programmes.prepares());
    let people = Generator::new(SyntheticSpec {
        n: 1500,
        seed: 5,
        age_min: 50,
        age_max: 89,
    })
    .unwrap()
    .generate();
    let run = RunKey {
        seed: 8,
        replicate: 2,
    };
    let settings = RunSettings {
        years: 5,
        step_months: 1,
        chunk_size: 64,
        trace_patients: 20,
    };
    let mut a = init_patients(&m, run, &people);
    let whole = simulate(&m, &settings, run, &mut a, &|_| {});
    let want = bits(&whole, &a);
    let mut b = init_patients(&m, run, &people);
    let mut saved = Saved(Vec::new());
    let out = engine::run::simulate_from(
        &m,
        &settings,
        run,
        &mut b,
        &|_| {},
        &engine::run::WholePatient,
        None,
        Some(&mut saved),
    )
    .unwrap();
    assert_eq!(bits(&out, &b), want, "saved at every year");
    assert_eq!(saved.0.len(), 4, "years 1-4 end before the last");
    for (at, patients) in saved.0 {
        let years_done = at.years_done;
        let mut c = init_patients(&m, run, &people);
        for (to, from) in c.iter_mut().zip(&patients) {
            *to = from.clone();
        }
        let out = engine::run::simulate_from(
            &m,
            &settings,
            run,
            &mut c,
            &|_| {},
            &engine::run::WholePatient,
            Some(at),
            None::<&mut engine::run::NoHook>,
        )
        .unwrap();
        assert_eq!(bits(&out, &c), want, "resumed after {years_done} years");
    }
    let ever = a.iter().filter(|p| p.state.ix.ever != 0).count();
    assert!(ever > 100, "{ever}");
}
