//! Intervention programmes through the engine's step loop: allocation (capacity, priority,
//! uptake, dropout), common random numbers (a programme that changes nothing changes no
//! result), the cited effect sizes (statin LDL, exercise + nutrition frailty RR), and
//! determinism across thread counts with a capacity-limited programme.
#![allow(clippy::disallowed_methods)] // the platform libm as a reference (clippy.toml)

use cohort::{Generator, SyntheticSpec};
use engine::observe::{metric_defs, Aggregator, N_AGE_BANDS};
use engine::{init_patients, simulate, Baseline, Model, Patient, RunKey, RunSettings, Sex};
use models::filter::Range;
use models::interventions::{Eligibility, Intervention, Kind, Mechanism, Priority};
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
        mechanism: Mechanism::default_for(kind),
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
    iv.eligibility.covariates.age = Range {
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

#[test]
fn validation_names_the_intervention_and_the_field() {
    let mut m = HealthModel::new(LifeTable::mhlw_2024());
    let mut bad = programme("salon", Kind::CommunitySalon);
    bad.uptake = 1.5;
    let e = m.set_interventions(vec![bad]).unwrap_err();
    assert_eq!(
        (e.intervention.as_str(), e.field.as_str()),
        ("salon", "uptake")
    );
    assert!(e.to_string().contains("salon") && e.to_string().contains("uptake"));
    let mut bad = programme("bp", Kind::Antihypertensive);
    bad.start_year = 3;
    bad.stop_year = Some(3);
    assert_eq!(
        m.set_interventions(vec![bad]).unwrap_err().field,
        "stop_year"
    );
    let dup = vec![
        programme("a", Kind::Statin),
        programme("a", Kind::Metformin),
    ];
    assert_eq!(m.set_interventions(dup).unwrap_err().field, "name");
    // An eligibility range is named by the key a scenario file gives it.
    let mut bad = programme("lipids", Kind::Statin);
    bad.eligibility.covariates.ldl_mg_dl = Range {
        lo: Some(160.0),
        hi: Some(140.0),
    };
    assert_eq!(
        m.set_interventions(vec![bad]).unwrap_err().field,
        "eligibility.ldl_mg_dl"
    );
    for (field, f) in [
        (
            "adherence",
            (|i: &mut Intervention| i.adherence = -0.1) as fn(&mut Intervention),
        ),
        ("dropout_per_year", |i| i.dropout_per_year = f64::NAN),
        ("effect_scale", |i| i.effect_scale = -1.0),
        ("cost_per_participant_year_yen", |i| {
            i.cost_per_participant_year_yen = -5.0
        }),
    ] {
        let mut iv = programme("x", Kind::Statin);
        f(&mut iv);
        assert_eq!(m.set_interventions(vec![iv]).unwrap_err().field, field);
    }
    let nine = (0..9)
        .map(|i| programme(&format!("p{i}"), Kind::Statin))
        .collect();
    assert!(m.set_interventions(nine).is_err());
    // A failed call leaves the model without programmes; a valid one is accepted.
    assert!(m.programmes().is_empty());
    m.set_interventions(vec![programme("ok", Kind::Statin)])
        .unwrap();
    assert_eq!(m.programmes().len(), 1);
}

#[test]
fn priority_order_is_honoured() {
    let people = cohort(3000, 21, 40, 89);
    let cap = 200usize;
    // Oldest first.
    let mut iv = programme("by_age", Kind::Statin);
    iv.priority = Priority::Age;
    iv.capacity_per_year = Some(cap as u64);
    iv.effect_scale = 0.0;
    let r = run(&model(vec![iv]), &people, 3, 1);
    let bit = |p: &Patient<PersonState>| p.state.ix.ever & 1 == 1;
    let enrolled: Vec<f64> = people
        .iter()
        .zip(&r.patients)
        .filter(|(_, p)| bit(p))
        .map(|(b, _)| b.age_years)
        .collect();
    let others_max = people
        .iter()
        .zip(&r.patients)
        .filter(|(_, p)| !bit(p))
        .map(|(b, _)| b.age_years)
        .fold(f64::MIN, f64::max);
    assert_eq!(enrolled.len(), cap);
    let enrolled_min = enrolled.iter().copied().fold(f64::MAX, f64::min);
    assert!(enrolled_min >= others_max, "{enrolled_min} < {others_max}");

    // Highest predicted cardiovascular risk first (the model's own hazards at the start).
    let mut iv = programme("by_cvd", Kind::Statin);
    iv.priority = Priority::CardiovascularRisk;
    iv.capacity_per_year = Some(cap as u64);
    iv.effect_scale = 0.0;
    let m = model(vec![iv]);
    let r = run(&m, &people, 3, 1);
    let key = RunKey {
        seed: 3,
        replicate: 0,
    };
    let start = init_patients(&m, key, &people);
    let risk = |p: &Patient<PersonState>| -> f64 {
        m.cvd().hazards(p, &models::cvd::DmLink::of(p)).iter().sum()
    };
    let (mut lo_in, mut hi_out) = (f64::MAX, f64::MIN);
    for (s, p) in start.iter().zip(&r.patients) {
        if bit(p) {
            lo_in = lo_in.min(risk(s));
        } else {
            hi_out = hi_out.max(risk(s));
        }
    }
    assert!(lo_in >= hi_out, "{lo_in} < {hi_out}");
}

#[test]
fn uptake_share_matches_uptake() {
    let people = cohort(6000, 31, 40, 89);
    let mut iv = programme("walk", Kind::IntensiveLifestyle);
    iv.uptake = 0.3;
    iv.effect_scale = 0.0;
    let r = run(&model(vec![iv]), &people, 8, 1);
    let (enrolled, _) = r.total("ix_walk_enrolments", 0);
    let n = people.len() as f64;
    let share = enrolled as f64 / n;
    // 99.9% binomial interval.
    let half = 3.29 * (0.3f64 * 0.7 / n).sqrt();
    assert!((share - 0.3).abs() < half, "{share}");
    // The census share is the same people.
    let (num, den) = r.total("ix_walk_participants", 0);
    assert_eq!((num, den), (enrolled, people.len() as i64));
}

#[test]
fn dropout_hazard_is_recovered() {
    // Young people (few deaths) and a programme that changes nothing (participation is
    // independent of survival): the share still enrolled after y years is exp(-d y).
    let people = cohort(8000, 41, 40, 49);
    let d = 0.5;
    let mut iv = programme("leave", Kind::Statin);
    iv.dropout_per_year = d;
    iv.effect_scale = 0.0;
    let r = run(&model(vec![iv]), &people, 9, 4);
    for y in 1..4 {
        let (num, den) = r.total("ix_leave_participants", y);
        let share = num as f64 / den as f64;
        let expected = (-d * y as f64).exp();
        let se = (expected * (1.0 - expected) / den as f64).sqrt();
        assert!(
            (share - expected).abs() < 4.0 * se,
            "year {y}: {share} vs {expected}"
        );
        let hazard = -share.ln() / y as f64;
        assert!((hazard - d).abs() < 0.05, "year {y}: hazard {hazard}");
    }
}

/// Every metric common to both runs, every year, sex and band, and every person's fate.
fn assert_identical(a: &Run, b: &Run) {
    let common = a.names.len().min(b.names.len());
    assert_eq!(a.names[..common], b.names[..common]);
    for y in 0..a.agg.years() {
        for sex in Sex::ALL {
            for band in 0..N_AGE_BANDS {
                for m in 0..common {
                    // Programme metrics (empty without programmes) are not model results.
                    if a.names[m].starts_with("ix_") || a.names[m] == "programme_cost_kyen" {
                        continue;
                    }
                    assert_eq!(
                        a.agg.get(y, sex, band, m),
                        b.agg.get(y, sex, band, m),
                        "{} year {y}",
                        a.names[m]
                    );
                }
            }
        }
    }
    for (p, q) in a.patients.iter().zip(&b.patients) {
        assert_eq!(p.death, q.death);
        assert_eq!(p.now, q.now);
    }
}

#[test]
fn a_programme_that_changes_nothing_changes_no_result() {
    let people = cohort(1500, 51, 40, 89);
    let none = run(&model(vec![]), &people, 12, 5);
    // Uptake 0: nobody enrols.
    let plan: Vec<Intervention> = Kind::ALL
        .iter()
        .enumerate()
        .take(8)
        .map(|(i, k)| {
            let mut iv = programme(&format!("k{i}"), *k);
            iv.uptake = 0.0;
            iv
        })
        .collect();
    let r = run(&model(plan), &people, 12, 5);
    assert_identical(&none, &r);
    // Everyone enrolled, effect scale 0, no cost: every kind, in two plans (at most 8 each).
    for chunk in Kind::ALL.chunks(5) {
        let plan: Vec<Intervention> = chunk
            .iter()
            .enumerate()
            .map(|(i, k)| {
                let mut iv = programme(&format!("z{i}"), *k);
                iv.effect_scale = 0.0;
                iv.dropout_per_year = 0.3;
                iv
            })
            .collect();
        let r = run(&model(plan), &people, 12, 5);
        let (enrolled, _) = r.total("ix_z0_enrolments", 0);
        assert!(enrolled > 1000);
        assert_identical(&none, &r);
    }
    // The check can fail: a programme with an effect changes results.
    let r = run(&model(vec![programme("s", Kind::Statin)]), &people, 12, 5);
    let (a, _) = none.total("ldl_mg_dl", 1);
    let (b, _) = r.total("ldl_mg_dl", 1);
    assert!(b < a);
}

#[test]
fn statin_lowers_ldl_by_the_cited_share() {
    // CTT / Law 2003 as the model's statin: LDL −40% of the untreated level at full
    // adherence (cvd.rx.statin.ldl_reduction), scaled by the person's drug adherence and the
    // programme's strength.
    let people = cohort(2000, 61, 40, 89);
    for scale in [1.0, 0.5] {
        let mut iv = programme("statin", Kind::Statin);
        iv.effect_scale = scale;
        let m = model(vec![iv]);
        let r = run(&m, &people, 4, 1);
        let share = m.params().get("cvd.rx.statin.ldl_reduction").unwrap();
        assert_eq!(share, 0.40);
        let mut n = 0;
        for p in r.patients.iter().filter(|p| p.alive()) {
            if p.state.ix.owns & 1 == 0 {
                continue;
            }
            let natural = p.state.cvd.natural_ldl();
            let lowered = 1.0 - p.now.ldl_mg_dl / natural;
            if p.now.ldl_mg_dl > 20.0 {
                let expected = share * scale * p.state.cvd.adherence;
                assert!((lowered - expected).abs() < 1e-9, "{lowered} vs {expected}");
                n += 1;
            }
        }
        assert!(n > 1000, "{n}");
    }
}

/// Share frail (J-CHS ≥ 3 criteria) among survivors after `years`, of a cohort of prefrail
/// people 65–89, with and without an exercise + nutrition programme (same people, same
/// random numbers).
fn exercise_rr(years: u32) -> (f64, f64, usize) {
    let all = cohort(60_000, 171, 65, 89);
    let base = model(vec![]);
    let key = RunKey {
        seed: 16,
        replicate: 0,
    };
    let start = init_patients(&base, key, &all);
    let people: Vec<Baseline> = all
        .iter()
        .zip(&start)
        .filter(|(_, p)| (1..=2).contains(&p.state.fr.jchs_count()) && !p.state.fr.certified())
        .map(|(b, _)| *b)
        .collect();
    let frail = |r: &Run| {
        let alive: Vec<_> = r.patients.iter().filter(|p| p.alive()).collect();
        alive
            .iter()
            .filter(|p| p.state.fr.jchs_count() >= 3)
            .count() as f64
            / alive.len() as f64
    };
    let control = run(&base, &people, 16, years);
    let treated = run(
        &model(vec![programme("exnut", Kind::ExerciseNutrition)]),
        &people,
        16,
        years,
    );
    (frail(&treated), frail(&control), people.len())
}

#[test]
fn exercise_nutrition_reproduces_the_macdonald_2020_frailty_rr() {
    let (t, c, n) = exercise_rr(1);
    let rr = t / c;
    eprintln!(
        "exercise + nutrition, 1 year, n = {n} prefrail 65-89: frail {t:.4} vs {c:.4}, RR {rr:.3}"
    );
    // Macdonald 2020: RR 0.62 (95% CI 0.48–0.79). The programme's rate multipliers were
    // calibrated on another cohort (cohort seed 71, run seed 6: RR 0.621); this one is new.
    assert!((0.48..=0.79).contains(&rr), "RR {rr}");
}

#[test]
fn results_are_identical_for_one_and_two_threads_with_a_capacity_limited_programme() {
    let people = cohort(3000, 81, 40, 89);
    let mut iv = programme("bp", Kind::Antihypertensive);
    iv.priority = Priority::CardiovascularRisk;
    iv.capacity_per_year = Some(150);
    iv.uptake = 0.7;
    iv.dropout_per_year = 0.2;
    iv.cost_per_participant_year_yen = 30_000.0;
    let mut salon = programme("salon", Kind::CommunitySalon);
    salon.capacity_per_year = Some(100);
    salon.eligibility.covariates.age = Range {
        lo: Some(65.0),
        hi: None,
    };
    let m = model(vec![iv, salon]);
    let go = |threads: usize| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| run(&m, &people, 13, 4))
    };
    let (a, b) = (go(1), go(2));
    assert_eq!(a.agg, b.agg);
    for (p, q) in a.patients.iter().zip(&b.patients) {
        // Debug text: NaN fields (no event yet) compare unequal as floats.
        assert_eq!(format!("{:?}", p.state), format!("{:?}", q.state));
        assert_eq!(p.death, q.death);
    }
    let (cost, _) = a.total("programme_cost_kyen", 1);
    assert!(cost > 0);
}
