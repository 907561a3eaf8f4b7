//! One person: the fixed-size accumulator of what the baseline needs ([`PersonAcc`], filled
//! record by record), who is excluded and why, and the assembly of the baseline at the index
//! date ([`baseline_of`]: latest value in the look-back window, derivations, imputation).
//!
//! Must never: hold a raw identifier (only the keyed pseudonym), or produce a baseline value
//! outside `file::PLAUSIBLE`.

use engine::math::DetMath;
use std::collections::BTreeMap;

use engine::{Baseline, Conditions, Covariates, Sex, Treatments};

use super::measure::ClinicalMeasure;
use super::{ImportOptions, Impute};
use crate::japan;

/// The baseline slots: the latest value on or before the index date in the look-back window.
const SLOTS: [ClinicalMeasure; 14] = [
    ClinicalMeasure::BmiKgM2,
    ClinicalMeasure::WeightKg,
    ClinicalMeasure::HeightCm,
    ClinicalMeasure::FpgMgDl,
    ClinicalMeasure::Hba1cPct,
    ClinicalMeasure::SbpMmhg,
    ClinicalMeasure::DbpMmhg,
    ClinicalMeasure::TcMgDl,
    ClinicalMeasure::HdlMgDl,
    ClinicalMeasure::LdlMgDl,
    ClinicalMeasure::TgMgDl,
    ClinicalMeasure::CreatinineMgDl,
    ClinicalMeasure::EgfrMlMin,
    ClinicalMeasure::FrailtyIndex,
];

pub(super) fn slot_of(m: ClinicalMeasure) -> Option<usize> {
    SLOTS.iter().position(|s| *s == m)
}

const NONE_MINUTE: i32 = i32::MIN;

#[derive(Clone, Copy, Debug)]
pub(super) struct Slot {
    pub(super) minute: i32,
    pub(super) sum: f64,
    pub(super) n: u32,
}

impl Slot {
    const EMPTY: Slot = Slot {
        minute: NONE_MINUTE,
        sum: 0.0,
        n: 0,
    };
    fn value(&self) -> Option<f64> {
        (self.n > 0).then(|| self.sum / f64::from(self.n))
    }
}

/// What the baseline needs of one person: fixed size, whatever the number of records.
#[derive(Clone, Debug)]
pub(super) struct PersonAcc {
    pub(super) pseudonym: [u8; 16],
    pub(super) sex: Option<Sex>,
    pub(super) birth_day: Option<i32>,
    pub(super) death_day: Option<i32>,
    pub(super) has_demographics: bool,
    pub(super) opt_out: bool,
    /// `None`: no observation-period data; `Some(covers the index date)`.
    pub(super) observed_at_index: Option<bool>,
    pub(super) slots: [Slot; SLOTS.len()],
    pub(super) steps_sum: f64,
    pub(super) steps_days: u32,
    pub(super) smoker: Option<(i32, bool)>,
    pub(super) conditions: Conditions,
    pub(super) treatments: Treatments,
    pub(super) first_minute: i32,
    pub(super) last_minute: i32,
    pub(super) sources: u8,
}

impl PersonAcc {
    pub(super) fn new(pseudonym: [u8; 16]) -> PersonAcc {
        PersonAcc {
            pseudonym,
            sex: None,
            birth_day: None,
            death_day: None,
            has_demographics: false,
            opt_out: false,
            observed_at_index: None,
            slots: [Slot::EMPTY; SLOTS.len()],
            steps_sum: 0.0,
            steps_days: 0,
            smoker: None,
            conditions: Conditions::default(),
            treatments: Treatments::default(),
            first_minute: i32::MAX,
            last_minute: i32::MIN,
            sources: 0,
        }
    }

    /// Why this person cannot be in the cohort, if they cannot (first reason that applies).
    pub(super) fn exclusion(&self, opts: &ImportOptions) -> Option<&'static str> {
        let index_day = opts.index_day;
        if self.opt_out {
            Some("research opt-out (Consent deny or CSV flag)")
        } else if !self.has_demographics {
            Some("no person record (Patient, person row, Apple Me, persons.csv)")
        } else if self.sex.is_none() {
            Some("sex not recorded as male or female")
        } else if self.birth_day.is_none() {
            Some("birth date missing")
        } else if self
            .death_day
            .zip(self.birth_day)
            .is_some_and(|(d, b)| d < b)
        {
            Some("death date before birth date")
        } else if self.death_day.is_some_and(|d| d <= index_day) {
            Some("died on or before the index date")
        } else if self.observed_at_index == Some(false) {
            Some("no observation period covers the index date (OMOP)")
        } else {
            let age = age_years(self.birth_day.unwrap_or(index_day), index_day);
            if !(opts.age_min..=opts.age_max).contains(&age) || !(0.0..=120.0).contains(&age) {
                Some("age at the index date outside the selected range")
            } else {
                None
            }
        }
    }
}

/// One imported person, ready for the cohort file.
#[derive(Clone, Debug, PartialEq)]
pub struct ImportedPerson {
    pub pseudo_id: String,
    /// `id` is the dense row index (people are ordered by pseudonym).
    pub baseline: Baseline,
    /// Per baseline covariate (`Covariates::CONTINUOUS` order, then smoker): imputed?
    pub imputed: [bool; 12],
    /// Days from the index date to the first and last dated record of any kind.
    pub first_record_days: i32,
    pub last_record_days: i32,
    /// Formats that contributed (`fhir+apple`).
    pub sources: String,
    pub history_rows: u64,
}

pub(super) fn age_years(birth_day: i32, day: i32) -> f64 {
    f64::from(day - birth_day) / 365.2425
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Origin {
    Measured,
    Derived,
    Imputed,
}

/// Baseline values of one person, with where each came from. `None` if a covariate is
/// missing and imputation is off.
pub(super) fn baseline_of(
    p: &PersonAcc,
    index_day: i32,
    impute: Impute,
    derived: &mut BTreeMap<String, u64>,
) -> Option<(Baseline, [bool; 12], [Origin; 12])> {
    let sex = p.sex?;
    let age = age_years(p.birth_day?, index_day);
    let slot = |m: ClinicalMeasure| slot_of(m).and_then(|s| p.slots[s].value());
    let mut count = |k: &str| *derived.entry(k.to_string()).or_insert(0) += 1;
    let plausible = |m: ClinicalMeasure, v: f64| m.is_plausible(v).then_some(v);

    let mut conditions = p.conditions;
    let treatments = p.treatments;
    // A treatment implies its diagnosis (as in the synthetic cohort).
    for (rx, dx, name) in [
        (
            Treatments::GLUCOSE_LOWERING,
            Conditions::DIABETES,
            "dx_diabetes_from_treatment",
        ),
        (
            Treatments::ANTIHYPERTENSIVE,
            Conditions::HYPERTENSION,
            "dx_hypertension_from_treatment",
        ),
        (
            Treatments::LIPID_LOWERING,
            Conditions::DYSLIPIDAEMIA,
            "dx_dyslipidaemia_from_treatment",
        ),
    ] {
        if treatments.contains(rx) && !conditions.contains(dx) {
            conditions.insert(dx);
            count(name);
        }
    }

    let mut how = [Origin::Measured; 12];
    let mut vals: [Option<f64>; 11] = [None; 11];
    // bmi
    vals[0] = slot(ClinicalMeasure::BmiKgM2);
    if vals[0].is_none() {
        if let (Some(w), Some(h)) = (
            slot(ClinicalMeasure::WeightKg),
            slot(ClinicalMeasure::HeightCm),
        ) {
            vals[0] = plausible(ClinicalMeasure::BmiKgM2, w / ((h / 100.0) * (h / 100.0)));
            if vals[0].is_some() {
                how[0] = Origin::Derived;
                count("bmi_from_weight_and_height");
            }
        }
    }
    vals[1] = slot(ClinicalMeasure::FpgMgDl);
    vals[2] = slot(ClinicalMeasure::Hba1cPct);
    vals[3] = slot(ClinicalMeasure::SbpMmhg);
    vals[4] = slot(ClinicalMeasure::DbpMmhg);
    vals[5] = slot(ClinicalMeasure::TcMgDl);
    vals[6] = slot(ClinicalMeasure::HdlMgDl);
    vals[7] = slot(ClinicalMeasure::LdlMgDl);
    if vals[5].is_none() {
        // Friedewald (LDL = TC − HDL − TG/5, mg/dL, valid for TG < 400) solved for TC.
        if let (Some(ldl), Some(hdl), Some(tg)) = (vals[7], vals[6], slot(ClinicalMeasure::TgMgDl))
        {
            if tg < 400.0 {
                vals[5] = plausible(ClinicalMeasure::TcMgDl, ldl + hdl + tg / 5.0);
                if vals[5].is_some() {
                    how[5] = Origin::Derived;
                    count("tc_from_ldl_hdl_tg_friedewald");
                }
            }
        }
    }
    vals[8] = slot(ClinicalMeasure::EgfrMlMin);
    if vals[8].is_none() {
        // Japanese eGFR (Matsuo et al., Am J Kidney Dis 2009;53:982, equation 4):
        // 194 × Cr^−1.094 × age^−0.287 (× 0.739 if female), mL/min/1.73 m² [V].
        if let Some(cr) = slot(ClinicalMeasure::CreatinineMgDl) {
            if age >= 18.0 {
                let f = if sex == Sex::Female { 0.739 } else { 1.0 };
                vals[8] = plausible(
                    ClinicalMeasure::EgfrMlMin,
                    194.0 * cr.powf_det(-1.094) * age.powf_det(-0.287) * f,
                );
                if vals[8].is_some() {
                    how[8] = Origin::Derived;
                    count("egfr_from_creatinine_matsuo_2009");
                }
            }
        }
    }
    vals[9] = (p.steps_days > 0).then(|| p.steps_sum / f64::from(p.steps_days));
    // Only the plain CSV carries a frailty index.
    vals[10] = slot(ClinicalMeasure::FrailtyIndex);
    let smoker = p.smoker.map(|s| s.1);

    let mut imputed = [false; 12];
    let diabetic = conditions.contains(Conditions::DIABETES);
    let mut cont = [0.0; 11];
    for k in 0..11 {
        match vals[k] {
            Some(v) => cont[k] = v,
            None => {
                if impute == Impute::None {
                    return None;
                }
                imputed[k] = true;
                how[k] = Origin::Imputed;
                cont[k] = mean_covariate(k, sex, age, diabetic);
            }
        }
    }
    let smoker = match smoker {
        Some(s) => s,
        None => {
            if impute == Impute::None {
                return None;
            }
            imputed[11] = true;
            how[11] = Origin::Imputed;
            false
        }
    };
    let covariates = Covariates::from_parts(cont, smoker, conditions, treatments);
    Some((
        Baseline {
            id: 0,
            sex,
            age_years: age,
            covariates,
        },
        imputed,
        how,
    ))
}

/// The imputation value of continuous covariate `k` (`Covariates::CONTINUOUS` order): the
/// synthetic cohort's sex- and age-specific mean (`cohort::japan`, with its sources; the
/// diabetic values when `diabetic`), within the plausible bounds of a cohort file.
pub fn mean_covariate(k: usize, sex: Sex, age: f64, diabetic: bool) -> f64 {
    let s = sex.index();
    let m = |marg: &japan::Marginal| japan::at_age(&marg.mean[s], age);
    let v = match k {
        0 => m(&japan::BMI),
        1 => {
            if diabetic {
                japan::ADAG_SLOPE * japan::HBA1C_DIABETIC_MEAN + japan::ADAG_INTERCEPT
            } else {
                m(&japan::FPG_NON_DIABETIC)
            }
        }
        2 => {
            if diabetic {
                japan::HBA1C_DIABETIC_MEAN
            } else {
                m(&japan::HBA1C_NON_DIABETIC)
            }
        }
        3 => m(&japan::SBP),
        4 => m(&japan::DBP),
        5 => m(&japan::TC),
        6 => m(&japan::HDL),
        7 => m(&japan::LDL),
        8 => m(&japan::EGFR),
        9 => m(&japan::STEPS),
        _ => m(&japan::FRAILTY_INDEX),
    };
    let name = Covariates::CONTINUOUS[k];
    let (lo, hi) = crate::file::PLAUSIBLE
        .iter()
        .find(|p| p.0 == name)
        .map(|p| (p.1, p.2))
        .unwrap_or((f64::MIN, f64::MAX));
    v.clamp(lo, hi)
}
