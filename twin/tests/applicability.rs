//! Interventions are offered only where they apply, and onset risks of a condition present at
//! the index date are not reported as risks.

use engine::{Conditions, Sex, Treatments};
use models::interventions::Kind;
use models::mortality::LifeTable;
use models::HealthModel;
use twin::forecast::{applicable, Outcome};
use twin::person::{index_covariates, PersonRecord};
use twin::stratify::{self, StratifySettings, T2dAtIndex};
use twin::{ForecastSettings, PersonaliseSettings};

/// A 60-year-old man with the given SBP and LDL, conditions and treatments.
fn person(
    label: &str,
    sbp: f64,
    ldl: f64,
    hba1c: f64,
    conditions: Conditions,
    treatments: Treatments,
) -> PersonRecord {
    let index = index_covariates(
        Sex::Male,
        60.0,
        [
            Some(24.0),
            Some(100.0),
            Some(hba1c),
            Some(sbp),
            Some(80.0),
            Some(200.0),
            Some(55.0),
            Some(ldl),
            Some(80.0),
            Some(6000.0),
            Some(0.1),
        ],
        false,
        conditions,
        treatments,
    );
    PersonRecord {
        label: label.into(),
        sex: Sex::Male,
        age_years: 60.0,
        index,
        observations: Vec::new(),
        treatment_records: Default::default(),
        pdc: None,
        index_day: None,
        dated: Vec::new(),
    }
}

fn none() -> (Conditions, Treatments) {
    (Conditions::default(), Treatments::default())
}

#[test]
fn an_antihypertensive_and_a_statin_are_offered_only_where_they_apply() {
    let model = HealthModel::new(LifeTable::mhlw_2024());
    let offers = |p: &PersonRecord| applicable(&model, &p.baseline(0));
    let (c0, t0) = none();
    let bp_thr = model.cvd().p.bp_threshold;
    let normal = person("a", bp_thr - 15.0, 110.0, 5.6, c0, t0);
    assert!(!offers(&normal).contains(&Kind::Antihypertensive));
    assert!(!offers(&normal).contains(&Kind::Statin));
    let high = person("b", bp_thr + 10.0, 160.0, 5.6, c0, t0);
    assert!(offers(&high).contains(&Kind::Antihypertensive));
    assert!(offers(&high).contains(&Kind::Statin));
    // Already treated: not offered again.
    let treated = person(
        "c",
        bp_thr + 10.0,
        160.0,
        5.6,
        Conditions(Conditions::HYPERTENSION.0 | Conditions::DYSLIPIDAEMIA.0),
        Treatments(Treatments::ANTIHYPERTENSIVE.0 | Treatments::LIPID_LOWERING.0),
    );
    assert!(!offers(&treated).contains(&Kind::Antihypertensive));
    assert!(!offers(&treated).contains(&Kind::Statin));
    // Diagnosed hypertension, untreated, with a normal reading: offered.
    let dx = person("d", bp_thr - 15.0, 110.0, 5.6, Conditions::HYPERTENSION, t0);
    assert!(offers(&dx).contains(&Kind::Antihypertensive));
    // With diabetes the LDL threshold is the lower one (cvd.care.ldl_threshold_diabetes).
    let ldl = (model.cvd().p.ldl_threshold_dm + model.cvd().p.ldl_threshold) / 2.0;
    assert!(!offers(&person("e", 120.0, ldl, 5.6, c0, t0)).contains(&Kind::Statin));
    assert!(
        offers(&person("f", 120.0, ldl, 7.0, Conditions::DIABETES, t0)).contains(&Kind::Statin)
    );
}

#[test]
fn people_with_diabetes_at_the_index_get_no_onset_risk_or_prevention_benefit_and_rank_last() {
    let model = HealthModel::new(LifeTable::mhlw_2024());
    let (c0, t0) = none();
    let people = vec![
        person(
            "diagnosed",
            150.0,
            160.0,
            6.2,
            Conditions::DIABETES,
            Treatments::GLUCOSE_LOWERING,
        ),
        person("undiagnosed-high", 150.0, 160.0, 6.8, c0, t0),
        person("at-risk", 150.0, 160.0, 6.0, c0, t0),
    ];
    let s = StratifySettings {
        personalise: PersonaliseSettings {
            particles: 100,
            seed: 1,
            scores: false,
            one_step: false,
        },
        forecast: ForecastSettings {
            futures: 16,
            years: 10,
            seed: 1,
            step_months: 1,
        },
        interventions: vec![Kind::Metformin, Kind::Antihypertensive],
        batch: 8,
        rank_by: (Outcome::T2d, 10),
        trial: Some(stratify::TrialFilter {
            outcome: Outcome::T2d,
            horizon: 10,
            min: 0.0,
            max: 1.0,
        }),
    };
    let mut rows = stratify::batch(&model, &people, &s).unwrap();
    let t2d = stratify::LISTED
        .iter()
        .position(|o| *o == Outcome::T2d)
        .unwrap();
    for (r, want) in rows.iter().zip([
        Some(T2dAtIndex::Diagnosed),
        Some(T2dAtIndex::ReadingsAtDiabetesLevel),
        None,
    ]) {
        assert_eq!(r.t2d_at_index, want, "{}", r.label);
        let prevalent = want.is_some();
        assert_eq!(r.risks[t2d].iter().all(|x| x.is_nan()), prevalent);
        assert_eq!(r.rank_risk.is_nan(), prevalent);
        assert_eq!(r.eligible, !prevalent);
        // T2D prevention benefit (metformin's T2D column) only for the person at risk.
        assert_eq!(r.averted_per_1000[0][0].is_nan(), prevalent);
        // Other outcomes stay reported.
        assert!(r.risks.iter().any(|x| x.iter().all(|v| v.is_finite())));
    }
    // Metformin does not apply with diagnosed diabetes: no benefit of any kind.
    assert!(rows[0].averted_per_1000[0].iter().all(|x| x.is_nan()));
    // The antihypertensive applies to all three (SBP 150, untreated).
    assert!(rows.iter().all(|r| r.averted_per_1000[1][1].is_finite()));
    stratify::rank(&mut rows);
    assert_eq!(rows[0].label, "at-risk");
}
