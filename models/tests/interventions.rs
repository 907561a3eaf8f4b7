//! Intervention programmes through the engine's step loop: allocation (capacity, priority,
//! uptake, dropout), common random numbers (a programme that changes nothing changes no
//! result), the cited effect sizes (statin LDL, exercise + nutrition frailty RR), and
//! determinism across thread counts with a capacity-limited programme.

use cohort::{Generator, SyntheticSpec};
use engine::observe::{metric_defs, Aggregator, FIXED_POINT, N_AGE_BANDS};
use engine::{init_patients, simulate, Baseline, Model, Patient, RunKey, RunSettings, Sex};
use models::interventions::{Eligibility, Intervention, Kind, Priority, Range};
use models::mortality::LifeTable;
use models::{HealthModel, PersonState, CAUSES};

fn cohort(n: u64, seed: u64, age_min: u32, age_max: u32) -> Vec<Baseline> {
    Generator::new(SyntheticSpec {
        n,
        seed,
        age_min,
        age_max,
    })
    .unwrap()
    .generate()
}

/// A programme with neutral settings: everyone eligible, random priority, full uptake and
/// adherence, no dropout, no capacity limit, from year 0 for the whole run.
fn programme(name: &str, kind: Kind) -> Intervention {
    Intervention {
        name: name.into(),
        kind,
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
    }
}

fn model(plan: Vec<Intervention>) -> HealthModel {
    let mut m = HealthModel::new(LifeTable::mhlw_2024());
    m.set_interventions(plan).unwrap();
    m
}

struct Run {
    agg: Aggregator,
    patients: Vec<Patient<PersonState>>,
    names: Vec<String>,
}

impl Run {
    /// Sum of a metric's numerator and denominator over sexes and age bands in `year`.
    fn total(&self, name: &str, year: usize) -> (i64, i64) {
        let m = self
            .names
            .iter()
            .position(|n| n == name)
            .unwrap_or_else(|| panic!("no metric {name}"));
        let (mut num, mut den) = (0, 0);
        for sex in Sex::ALL {
            for band in 0..N_AGE_BANDS {
                let a = self.agg.get(year, sex, band, m);
                num += a.num;
                den += a.den;
            }
        }
        (num, den)
    }
}

fn run(model: &HealthModel, people: &[Baseline], seed: u64, years: u32) -> Run {
    let settings = RunSettings {
        seed,
        years,
        step_months: 1,
        chunk_size: 97,
        trace_patients: 0,
    };
    let key = RunKey { seed, replicate: 0 };
    let mut patients = init_patients(model, key, people);
    let out = simulate(model, &settings, key, &mut patients, &|_| {});
    let names = metric_defs(&CAUSES, &model.metrics())
        .into_iter()
        .map(|d| d.name)
        .collect();
    Run {
        agg: out.aggregate,
        patients,
        names,
    }
}

#[test]
fn capacity_is_respected_exactly_every_year() {
    let people = cohort(4000, 11, 40, 89);
    let mut iv = programme("statin_cap", Kind::Statin);
    iv.capacity_per_year = Some(300);
    iv.uptake = 0.6;
    iv.dropout_per_year = 0.3;
    iv.eligibility.age = Range {
        lo: Some(50.0),
        hi: None,
    };
    let r = run(&model(vec![iv]), &people, 5, 6);
    for y in 0..6 {
        let (participants, _) = r.total("ix_statin_cap_participants", y);
        assert!(participants <= 300, "year {y}: {participants} > 300");
        // Enough eligible people are left every year: the places are filled exactly.
        assert_eq!(participants, 300, "year {y}");
    }
    let (enrolled_y0, _) = r.total("ix_statin_cap_enrolments", 0);
    assert_eq!(enrolled_y0, 300);
    // Later years enrol only the places freed by dropout and death.
    let (enrolled_y1, _) = r.total("ix_statin_cap_enrolments", 1);
    assert!(enrolled_y1 > 0 && enrolled_y1 < 300, "{enrolled_y1}");
}
