//! One person: the fixed-size accumulator of what the baseline needs ([`PersonAcc`], filled
//! record by record), who is excluded and why, and the assembly of the baseline at the index
//! date ([`baseline_of`]: latest value in the look-back window, derivations, imputation).
//!
//! Must never: hold a raw identifier (only the keyed pseudonym), or produce a baseline value
//! outside `file::PLAUSIBLE`.

use engine::math::DetMath;
use std::collections::BTreeMap;

use engine::{Baseline, Conditions, Covariates, Sex, Treatments};

use super::measure::{ClinicalMeasure, Flag};
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

    /// Folds a kept value at `minute` (from the index date) into the baseline slots: the
    /// latest value in the look-back window up to the end of the index day (values at the
    /// same minute averaged); steps averaged over their window.
    pub(super) fn observe(
        &mut self,
        m: ClinicalMeasure,
        v: f64,
        minute: i32,
        opts: &ImportOptions,
    ) {
        let lookback = -(opts.lookback_days as i32) * 1440;
        let steps_from = -(opts.steps_window_days as i32) * 1440;
        let day_end = 1440; // the whole index day counts as "on the index date"
        if m == ClinicalMeasure::StepsPerDay {
            if minute >= steps_from && minute < day_end {
                self.steps_sum += v;
                self.steps_days += 1;
            }
        } else if let Some(s) = slot_of(m) {
            // Height is stable in adults: any measurement up to the index date counts.
            let in_window =
                minute < day_end && (m == ClinicalMeasure::HeightCm || minute >= lookback);
            let slot = &mut self.slots[s];
            if in_window {
                if minute > slot.minute {
                    *slot = Slot {
                        minute,
                        sum: v,
                        n: 1,
                    };
                } else if minute == slot.minute {
                    slot.sum += v;
                    slot.n += 1;
                }
            }
        }
    }

    /// Folds a yes/no fact into the baseline: the latest smoking answer in the look-back
    /// window; a diagnosis once recorded on or before the index date (undated: taken as
    /// present); a treatment recorded in its window (`rx_window_days`, or the look-back for
    /// questionnaire answers) or given as a period covering the index date.
    pub(super) fn flag(
        &mut self,
        flag: Flag,
        value: bool,
        minute: Option<i32>,
        end: Option<i32>,
        questionnaire: bool,
        opts: &ImportOptions,
    ) {
        let lookback = -(opts.lookback_days as i32) * 1440;
        let rx_from = -(opts.rx_window_days as i32) * 1440;
        let day_end = 1440;
        match flag {
            Flag::Smoker => {
                if let Some(mi) = minute {
                    if mi >= lookback && mi < day_end && self.smoker.is_none_or(|s| mi >= s.0) {
                        self.smoker = Some((mi, value));
                    }
                }
            }
            f if f.is_condition() => {
                let before = minute.is_none_or(|mi| mi < day_end);
                if value && before {
                    self.conditions.insert(f.condition().unwrap_or_default());
                }
            }
            f => {
                let from = if questionnaire { lookback } else { rx_from };
                let active = match (minute, end) {
                    (Some(s), Some(e)) => s < day_end && (e >= 0 || s >= from),
                    (Some(s), None) => s >= from && s < day_end,
                    (None, Some(e)) => e >= 0 && e < day_end + 1440 * 365 * 100,
                    (None, None) => false,
                };
                if value && active {
                    self.treatments.insert(f.treatment().unwrap_or_default());
                }
            }
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
    let (covariates, imputed, how) = covariates_of(p, sex, age, impute, derived)?;
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

/// The covariates of an accumulator for a person of `sex` aged `age` (derivations counted
/// in `derived`); `None` if one is missing and imputation is off.
fn covariates_of(
    p: &PersonAcc,
    sex: Sex,
    age: f64,
    impute: Impute,
    derived: &mut BTreeMap<String, u64>,
) -> Option<(Covariates, [bool; 12], [Origin; 12])> {
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
    Some((covariates, imputed, how))
}

/// An item of the longitudinal history, as `history.parquet` names it: a measure or a flag
/// (value 1 = yes, 0 = no).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HistoryItem {
    Measure(ClinicalMeasure),
    Flag(Flag),
}

impl HistoryItem {
    /// The item of a `measure` column value, if it is one the importer writes.
    pub fn parse(name: &str) -> Option<HistoryItem> {
        ClinicalMeasure::parse(name)
            .map(HistoryItem::Measure)
            .or_else(|| Flag::parse(name).map(HistoryItem::Flag))
    }
}

/// A person's baseline covariates as of a date other than the index date, from their dated
/// history, by the import's own rules: the latest value in the look-back window on or
/// before the date, derivations (BMI from weight and height, TC by Friedewald, eGFR from
/// creatinine), smoking from the latest answer, a diagnosis once recorded, a treatment
/// recorded within its window, a treatment's diagnosis, and mean imputation of what is
/// missing (at `age_years`, the age at that date). `rows` are (item, minutes from the
/// import's index date, value) as `history.parquet` holds them; `at_minute` is the date in
/// the same minutes (its whole day counts). The history cannot date everything the import
/// saw: undated diagnoses and treatment periods (only their start is a row) are passed as
/// `carried_conditions` / `carried_treatments`, facts known to hold at the date. For
/// validation by cutting a history (twin).
#[allow(clippy::too_many_arguments)]
pub fn covariates_as_of(
    sex: Sex,
    age_years: f64,
    rows: impl IntoIterator<Item = (HistoryItem, i32, f64)>,
    at_minute: i32,
    carried_conditions: Conditions,
    carried_treatments: Treatments,
    opts: &ImportOptions,
) -> Covariates {
    let mut acc = PersonAcc::new([0; 16]);
    acc.sex = Some(sex);
    for (item, minute, value) in rows {
        let m = minute.saturating_sub(at_minute);
        match item {
            HistoryItem::Measure(c) => acc.observe(c, value, m, opts),
            HistoryItem::Flag(f) => acc.flag(f, value > 0.5, Some(m), None, false, opts),
        }
    }
    acc.conditions.insert(carried_conditions);
    acc.treatments.insert(carried_treatments);
    let mut derived = BTreeMap::new();
    // Mean imputation never gives `None`; the fallback keeps the signature total.
    covariates_of(&acc, sex, age_years, Impute::Mean, &mut derived)
        .map(|c| c.0)
        .unwrap_or_else(|| {
            let v = std::array::from_fn(|k| mean_covariate(k, sex, age_years, false));
            Covariates::from_parts(v, false, acc.conditions, acc.treatments)
        })
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
