//! A frailty index the importer imputed is not the person's value: a person with no FI reading
//! in the look-back before the index date starts each copy from a drawn deficit count (the
//! population's law at their age, conditioned on any older reading), not from the imputed
//! mean; a person read at the index starts every copy from the reading. And a cohort cut at a
//! date keeps the cut day's prescriptions with that day's readings.

use engine::{Conditions, Sex, Treatments};
use models::mortality::LifeTable;
use models::HealthModel;
use twin::person::{index_covariates, mean_covariate, Observation, PersonRecord};
use twin::personalise::{copies, personalise};
use twin::{PersonaliseSettings, Quantity};

const AGE: f64 = 75.0;
const COPIES: usize = 400;

/// A 75-year-old woman with the given FI readings (years from the index, FI); the index FI is
/// the reading at the index when there is one, else the importer's imputed mean.
fn person(fi_readings: &[(f64, f64)]) -> PersonRecord {
    let at_index = fi_readings
        .iter()
        .find(|r| r.0 == 0.0)
        .map(|r| r.1)
        .unwrap_or_else(|| mean_covariate(10, Sex::Female, AGE, false));
    let index = index_covariates(
        Sex::Female,
        AGE,
        [
            Some(23.0),
            Some(98.0),
            Some(5.6),
            Some(130.0),
            Some(78.0),
            Some(210.0),
            Some(60.0),
            Some(120.0),
            Some(70.0),
            Some(4000.0),
            Some(at_index),
        ],
        false,
        Conditions::default(),
        Treatments::default(),
    );
    PersonRecord {
        label: "fi-start".into(),
        sex: Sex::Female,
        age_years: AGE,
        index,
        observations: fi_readings
            .iter()
            .map(|&(t, v)| Observation {
                t_years: t,
                quantity: Quantity::Fi,
                value: v,
            })
            .collect(),
        treatment_records: Default::default(),
        pdc: None,
        index_day: None,
        dated: Vec::new(),
    }
}

/// Mean and SD of the copies' starting FI.
fn start_fi(model: &HealthModel, p: &PersonRecord) -> (f64, f64) {
    let s = PersonaliseSettings {
        particles: 200,
        ..PersonaliseSettings::default()
    };
    let post = personalise(model, p, &s);
    let (baselines, _) = copies(p, &post, COPIES, 0, 7);
    let fi: Vec<f64> = baselines
        .iter()
        .map(|b| b.covariates.frailty_index)
        .collect();
    let n = fi.len() as f64;
    let mean = fi.iter().sum::<f64>() / n;
    let var = fi.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / (n - 1.0);
    (mean, var.sqrt())
}

#[test]
fn an_imputed_index_fi_starts_the_copies_from_a_distribution_not_the_mean() {
    let model = HealthModel::new(LifeTable::mhlw_2024());
    let imputed = mean_covariate(10, Sex::Female, AGE, false);

    // Read at the index: every copy starts from the reading.
    let read = person(&[(0.0, 6.0 / 32.0)]);
    let (m_read, sd_read) = start_fi(&model, &read);
    assert_eq!(sd_read, 0.0, "a reading at the index is the start");
    assert!((m_read - 6.0 / 32.0).abs() < 1e-12);

    // No reading at all: the imputed mean is not a known value; the copies' start spreads
    // as the population's deficit count does at 75 (several deficits of SD), around the
    // model's reference mean, not at one point.
    let none = person(&[]);
    assert_eq!(none.index.frailty_index, imputed);
    let (m_none, sd_none) = start_fi(&model, &none);
    let reference = model.frailty().reference_mean_count_at(AGE) / 32.0;
    assert!(
        sd_none > 1.5 / 32.0,
        "imputed start is a point: SD {sd_none}"
    );
    assert!(
        (m_none - reference).abs() < 0.25 * reference + 1.0 / 32.0,
        "start mean {m_none} vs reference {reference}"
    );

    // An old reading (3 years before, outside the importer's 365-day look-back) conditions
    // the draw: a high old count moves the start up, and it still spreads.
    let old_high = person(&[(-3.0, 14.0 / 32.0)]);
    assert_eq!(old_high.index.frailty_index, imputed);
    let (m_old, sd_old) = start_fi(&model, &old_high);
    assert!(
        m_old > m_none + 2.0 / 32.0,
        "old reading ignored: {m_old} vs {m_none}"
    );
    assert!(
        sd_old > 1.0 / 32.0,
        "conditioned start is a point: {sd_old}"
    );
}

/// A statin record on the day of the cut (dates round to days, so it lies a fraction of a
/// day after the cut instant) belongs to the history, as that visit's readings do: the LDL
/// read on that day is a treated reading.
#[test]
fn a_prescription_on_the_cut_day_stays_in_the_history() {
    use twin::person::Drug;
    let half_day = 0.5 / twin::person::DAYS_PER_YEAR;
    let mut p = person(&[]);
    p.observations = vec![
        Observation {
            t_years: -2.0 + half_day,
            quantity: Quantity::Ldl,
            value: 100.0,
        },
        Observation {
            t_years: -1.0 + half_day,
            quantity: Quantity::Ldl,
            value: 102.0,
        },
    ];
    p.treatment_records[Drug::LipidLowering as usize] = vec![-3.0 + half_day, -2.0 + half_day];
    let cases = twin::validate::cut_people(&[p], 2.0);
    let (hist, future, _) = &cases[0];
    assert_eq!(future.len(), 1);
    assert!(
        hist.treated_at(Drug::LipidLowering, 0.0),
        "the cut-day statin record was dropped"
    );
}
