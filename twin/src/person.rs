//! One person as the twin sees them: sex, age and covariates at the index date, and the
//! dated history of the quantities the twin personalises on (HbA1c, fasting glucose, SBP,
//! LDL, BMI, frailty index) with the dated treatment and diagnosis events that change how
//! a reading is read (a treated SBP is not an untreated one).
//!
//! Times are years from the index date (negative = before). Observations after the index
//! date are kept: alerts score them and validation forecasts them; personalisation uses
//! only those on or before the index date.
//!
//! Must never: hold a name or a raw identifier (a person's label is a pseudonym or a label
//! the user chose for the file).

use cohort::import::{covariates_as_of, HistoryItem, ImportOptions};
use engine::{Baseline, Conditions, Covariates, Sex, Treatments};

/// Days per year for converting dated records (the Gregorian mean year).
pub const DAYS_PER_YEAR: f64 = 365.2425;

/// The quantities a twin is fitted to and forecasts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Quantity {
    Hba1c,
    Fpg,
    Sbp,
    Ldl,
    Bmi,
    Fi,
}

impl Quantity {
    pub const ALL: [Quantity; 6] = [
        Quantity::Hba1c,
        Quantity::Fpg,
        Quantity::Sbp,
        Quantity::Ldl,
        Quantity::Bmi,
        Quantity::Fi,
    ];

    /// Column name (the canonical unit is in it), as `cohort import` names the measure.
    pub fn name(self) -> &'static str {
        match self {
            Quantity::Hba1c => "hba1c_pct",
            Quantity::Fpg => "fpg_mg_dl",
            Quantity::Sbp => "sbp_mmhg",
            Quantity::Ldl => "ldl_mg_dl",
            Quantity::Bmi => "bmi_kg_m2",
            Quantity::Fi => "frailty_index",
        }
    }

    pub fn parse(s: &str) -> Option<Quantity> {
        Quantity::ALL.into_iter().find(|q| q.name() == s)
    }

    pub fn unit(self) -> &'static str {
        match self {
            Quantity::Hba1c => "%",
            Quantity::Fpg | Quantity::Ldl => "mg/dL",
            Quantity::Sbp => "mmHg",
            Quantity::Bmi => "kg/m2",
            Quantity::Fi => "1",
        }
    }

    /// Short label for charts and tables.
    pub fn label(self, ja: bool) -> &'static str {
        match (self, ja) {
            (Quantity::Hba1c, _) => "HbA1c (%)",
            (Quantity::Fpg, true) => "空腹時血糖 (mg/dL)",
            (Quantity::Fpg, false) => "Fasting glucose (mg/dL)",
            (Quantity::Sbp, true) => "収縮期血圧 (mmHg)",
            (Quantity::Sbp, false) => "Systolic BP (mmHg)",
            (Quantity::Ldl, true) => "LDLコレステロール (mg/dL)",
            (Quantity::Ldl, false) => "LDL cholesterol (mg/dL)",
            (Quantity::Bmi, _) => "BMI (kg/m²)",
            (Quantity::Fi, true) => "フレイル指数",
            (Quantity::Fi, false) => "Frailty index",
        }
    }

    /// Decimals shown for a value.
    pub fn decimals(self) -> usize {
        match self {
            Quantity::Hba1c | Quantity::Bmi => 1,
            Quantity::Fi => 3,
            _ => 0,
        }
    }

    /// The quantity's current value in a person's covariates.
    pub fn of(self, c: &Covariates) -> f64 {
        match self {
            Quantity::Hba1c => c.hba1c_pct,
            Quantity::Fpg => c.fpg_mg_dl,
            Quantity::Sbp => c.sbp_mmhg,
            Quantity::Ldl => c.ldl_mg_dl,
            Quantity::Bmi => c.bmi_kg_m2,
            Quantity::Fi => c.frailty_index,
        }
    }

    /// LOINC code of the observation (FHIR output; JP Core recommends JLAC10 for lab
    /// results and accepts LOINC: `cohort/data/code_map.csv` maps both on the way in).
    pub fn loinc(self) -> (&'static str, &'static str) {
        match self {
            Quantity::Hba1c => ("4548-4", "Hemoglobin A1c/Hemoglobin.total in Blood"),
            Quantity::Fpg => ("1558-6", "Fasting glucose [Mass/volume] in Serum or Plasma"),
            Quantity::Sbp => ("8480-6", "Systolic blood pressure"),
            Quantity::Ldl => (
                "13457-7",
                "Cholesterol in LDL [Mass/volume] in Serum or Plasma by calculation",
            ),
            Quantity::Bmi => ("39156-5", "Body mass index (BMI) [Ratio]"),
            Quantity::Fi => ("frailty-index", "Frailty index (deficit count / 32)"),
        }
    }
}

/// Treatments whose dated records change how readings are read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Drug {
    GlucoseLowering = 0,
    Antihypertensive = 1,
    LipidLowering = 2,
}

impl Drug {
    pub const ALL: [Drug; 3] = [
        Drug::GlucoseLowering,
        Drug::Antihypertensive,
        Drug::LipidLowering,
    ];
    pub fn flag(self) -> Treatments {
        match self {
            Drug::GlucoseLowering => Treatments::GLUCOSE_LOWERING,
            Drug::Antihypertensive => Treatments::ANTIHYPERTENSIVE,
            Drug::LipidLowering => Treatments::LIPID_LOWERING,
        }
    }
    /// The importer's flag of the drug class.
    pub fn flag_item(self) -> cohort::import::measure::Flag {
        use cohort::import::measure::Flag;
        match self {
            Drug::GlucoseLowering => Flag::RxGlucoseLowering,
            Drug::Antihypertensive => Flag::RxAntihypertensive,
            Drug::LipidLowering => Flag::RxLipidLowering,
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            Drug::GlucoseLowering => "rx_glucose_lowering",
            Drug::Antihypertensive => "rx_antihypertensive",
            Drug::LipidLowering => "rx_lipid_lowering",
        }
    }
}

/// How long after a dated prescription record a person counts as treated (the cohort
/// importer's default `--rx-window-days`, 180 days).
pub const RX_WINDOW_YEARS: f64 = 180.0 / DAYS_PER_YEAR;

/// One dated value.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Observation {
    /// Years from the index date (negative = before).
    pub t_years: f64,
    pub quantity: Quantity,
    pub value: f64,
}

/// One dated history row as imported: every measure and flag `cohort import` keeps (not
/// only the six quantities), so the index covariates can be rebuilt as of another date
/// ([`PersonRecord::cut_at`]).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Dated {
    /// Minutes from the index date (negative = before).
    pub minute: i32,
    pub item: HistoryItem,
    /// In the measure's canonical unit; flags 1 (yes) or 0 (no).
    pub value: f64,
}

/// Readings within this many days after a cut date count as on or before it (dates round
/// to days).
pub const CUT_TOLERANCE_DAYS: f64 = 1.5;

/// One person: who, the index-date covariates, and the history.
#[derive(Clone, Debug, PartialEq)]
pub struct PersonRecord {
    /// A pseudonym (imported cohorts) or the label of a person file: never a name.
    pub label: String,
    pub sex: Sex,
    /// Age at the index date.
    pub age_years: f64,
    /// Covariates at the index date (latest values, imputed where missing).
    pub index: Covariates,
    /// Every dated value, sorted by time.
    pub observations: Vec<Observation>,
    /// Times (years from the index) of each treatment's dated records.
    pub treatment_records: [Vec<f64>; 3],
    /// Proportion of days covered by prescriptions (adherence), when known.
    pub pdc: Option<f64>,
    /// Index date as days since 1970-01-01, when known (dates in FHIR output).
    pub index_day: Option<i32>,
    /// Every dated row of the history (imported cohorts, FHIR input and person files; empty
    /// for people made in memory), for rebuilding the covariates at a cut.
    pub dated: Vec<Dated>,
}

impl PersonRecord {
    /// The person at entry, as the engine takes them (`id` = the copy's key).
    pub fn baseline(&self, id: u64) -> Baseline {
        Baseline {
            id,
            sex: self.sex,
            age_years: self.age_years,
            covariates: self.index,
        }
    }

    /// Observations on or before `t` (years from the index).
    pub fn history_until(&self, t: f64) -> impl Iterator<Item = &Observation> {
        self.observations.iter().filter(move |o| o.t_years <= t)
    }

    /// Whether the person was on `drug` at time `t`: a dated record in the preceding
    /// [`RX_WINDOW_YEARS`], or, at or after the index date, the index-date treatment.
    pub fn treated_at(&self, drug: Drug, t: f64) -> bool {
        let recs = &self.treatment_records[drug as usize];
        if recs
            .iter()
            .any(|&r| r <= t + 1e-9 && t - r <= RX_WINDOW_YEARS)
        {
            return true;
        }
        let undated = recs.is_empty() && self.index.treatments.contains(drug.flag());
        undated && t >= -RX_WINDOW_YEARS
    }

    /// The same person with the history cut at `t` (years from the index): the index moves
    /// to `t`, ages and times shift, and every index covariate becomes what `cohort import`
    /// would have made of the history up to that date ([`covariates_as_of`]: latest value
    /// in the look-back window, derivations, smoking, diagnoses and treatments recorded by
    /// then, the importer's imputation for what is missing at that age). Rows dated up to
    /// [`CUT_TOLERANCE_DAYS`] after `t` count as before it. Facts the history cannot date
    /// hold at the cut too: a diagnosis at the index with no dated row (undated in the
    /// source), a treatment at the index no dated row explains (a prescription period,
    /// whose start is its only row) if it has no row after the cut, and the smoking status
    /// if no row dates it. For validation on imported histories; the import's default
    /// windows are used (365-day look-back, 180-day prescription window, 90 days of steps).
    pub fn cut_at(&self, t: f64) -> PersonRecord {
        let shift = |x: f64| x - t;
        let observations: Vec<Observation> = self
            .observations
            .iter()
            .map(|o| Observation {
                t_years: shift(o.t_years),
                ..*o
            })
            .collect();
        let treatment_records = std::array::from_fn(|d| {
            self.treatment_records[d]
                .iter()
                .map(|&x| shift(x))
                .collect()
        });
        let age = self.age_years + t;
        let at_day = (t * DAYS_PER_YEAR + CUT_TOLERANCE_DAYS).floor() as i32;
        let at_minute = at_day.saturating_mul(1440);
        let opts = ImportOptions::new(0, std::path::PathBuf::new());
        let rows = || self.dated.iter().map(|d| (d.item, d.minute, d.value));
        // What the dated rows explain at the index date; the rest was undated.
        let at_index = covariates_as_of(
            self.sex,
            self.age_years,
            rows(),
            0,
            Conditions::default(),
            Treatments::default(),
            &opts,
        );
        let mut carried_rx = Treatments::default();
        for d in Drug::ALL {
            let unexplained =
                self.index.treatments.contains(d.flag()) && !at_index.treatments.contains(d.flag());
            let started_by_cut = !self.dated.iter().any(|r| {
                r.item == HistoryItem::Flag(d.flag_item()) && r.minute >= at_minute + 1440
            });
            if unexplained && started_by_cut {
                carried_rx.insert(d.flag());
            }
        }
        let explained = covariates_as_of(
            self.sex,
            self.age_years,
            rows(),
            0,
            Conditions::default(),
            self.index.treatments,
            &opts,
        );
        let carried_dx = Conditions(self.index.conditions.0 & !explained.conditions.0);
        let mut index = covariates_as_of(
            self.sex,
            age,
            rows(),
            at_minute,
            carried_dx,
            carried_rx,
            &opts,
        );
        let smoking_dated = self
            .dated
            .iter()
            .any(|r| r.item == HistoryItem::Flag(cohort::import::measure::Flag::Smoker));
        if !smoking_dated {
            index.smoker = self.index.smoker;
        }
        PersonRecord {
            label: self.label.clone(),
            sex: self.sex,
            age_years: age,
            index,
            observations,
            treatment_records,
            pdc: self.pdc,
            index_day: self
                .index_day
                .map(|d| d + (t * DAYS_PER_YEAR).round() as i32),
            dated: self
                .dated
                .iter()
                .map(|r| Dated {
                    minute: r.minute.saturating_sub(at_minute),
                    ..*r
                })
                .collect(),
        }
    }

    /// The latest value of `q` on or before `t`, no older than `lookback` years.
    pub fn latest(&self, q: Quantity, t: f64, lookback: f64) -> Option<f64> {
        self.observations
            .iter()
            .filter(|o| o.quantity == q && o.t_years <= t + 1e-9 && t - o.t_years <= lookback)
            .max_by(|a, b| a.t_years.total_cmp(&b.t_years))
            .map(|o| o.value)
    }

    /// Whether diabetes is known at the index date (diagnosis or treatment).
    pub fn diagnosed_diabetes(&self) -> bool {
        self.index.conditions.contains(Conditions::DIABETES)
            || self.index.treatments.contains(Treatments::GLUCOSE_LOWERING)
    }
}

/// Writes `v` into the covariate of `q`.
pub fn set_quantity(c: &mut Covariates, q: Quantity, v: f64) {
    match q {
        Quantity::Hba1c => c.hba1c_pct = v,
        Quantity::Fpg => c.fpg_mg_dl = v,
        Quantity::Sbp => c.sbp_mmhg = v,
        Quantity::Ldl => c.ldl_mg_dl = v,
        Quantity::Bmi => c.bmi_kg_m2 = v,
        Quantity::Fi => c.frailty_index = v,
    }
}

/// The imputation value of continuous covariate `k`, as `cohort import --impute mean` uses.
pub use cohort::import::mean_covariate;

/// Index-date covariates from the latest values (`values[k]` in `Covariates::CONTINUOUS`
/// order, `None` when missing: imputed with [`mean_covariate`]).
pub fn index_covariates(
    sex: Sex,
    age: f64,
    values: [Option<f64>; 11],
    smoker: bool,
    conditions: Conditions,
    treatments: Treatments,
) -> Covariates {
    let diabetic = conditions.contains(Conditions::DIABETES)
        || treatments.contains(Treatments::GLUCOSE_LOWERING);
    let v: [f64; 11] =
        std::array::from_fn(|k| values[k].unwrap_or_else(|| mean_covariate(k, sex, age, diabetic)));
    Covariates::from_parts(v, smoker, conditions, treatments)
}

#[cfg(test)]
mod tests {
    use super::*;
    use cohort::import::measure::{ClinicalMeasure as M, Flag};

    fn row(day: i32, item: HistoryItem, value: f64) -> Dated {
        Dated {
            minute: day * 1440,
            item,
            value,
        }
    }

    /// A person whose risk factors, smoking, diagnoses and treatment all change in the two
    /// years before the index date; cut 2 years before it, none of the later facts may
    /// remain.
    fn changing_person() -> PersonRecord {
        let m = HistoryItem::Measure;
        let f = HistoryItem::Flag;
        let dated = vec![
            // Earlier: within a year before the cut (day −730).
            row(-900, m(M::Hba1cPct), 5.6),
            row(-900, m(M::DbpMmhg), 70.0),
            row(-900, m(M::TcMgDl), 180.0),
            row(-900, m(M::HdlMgDl), 62.0),
            row(-900, m(M::EgfrMlMin), 85.0),
            row(-900, m(M::WeightKg), 60.0),
            row(-900, m(M::HeightCm), 170.0),
            row(-900, f(Flag::Smoker), 0.0),
            // Later: between the cut and the index date.
            row(-200, f(Flag::DxDiabetes), 1.0),
            row(-100, f(Flag::HxMyocardialInfarction), 1.0),
            row(-60, f(Flag::RxGlucoseLowering), 1.0),
            row(-30, m(M::Hba1cPct), 7.4),
            row(-30, m(M::DbpMmhg), 95.0),
            row(-30, m(M::TcMgDl), 260.0),
            row(-30, m(M::HdlMgDl), 38.0),
            row(-30, m(M::EgfrMlMin), 48.0),
            row(-30, m(M::BmiKgM2), 27.0),
            row(-30, f(Flag::Smoker), 1.0),
        ];
        let conditions = Conditions(
            Conditions::DIABETES.0 | Conditions::MI.0 | Conditions::STROKE.0, // stroke undated
        );
        let index = index_covariates(
            Sex::Male,
            60.0,
            [
                Some(27.0),
                None,
                Some(7.4),
                None,
                Some(95.0),
                Some(260.0),
                Some(38.0),
                None,
                Some(48.0),
                None,
                None,
            ],
            true,
            conditions,
            Treatments::GLUCOSE_LOWERING,
        );
        PersonRecord {
            label: "cut-test".into(),
            sex: Sex::Male,
            age_years: 60.0,
            index,
            observations: vec![
                Observation {
                    t_years: -900.0 / DAYS_PER_YEAR,
                    quantity: Quantity::Hba1c,
                    value: 5.6,
                },
                Observation {
                    t_years: -30.0 / DAYS_PER_YEAR,
                    quantity: Quantity::Hba1c,
                    value: 7.4,
                },
            ],
            treatment_records: [vec![-60.0 / DAYS_PER_YEAR], Vec::new(), Vec::new()],
            pdc: None,
            index_day: None,
            dated,
        }
    }

    #[test]
    fn cutting_a_history_leaves_no_later_value_diagnosis_or_treatment() {
        let p = changing_person();
        let c = p.cut_at(-2.0).index;
        assert_eq!(c.hba1c_pct, 5.6);
        assert_eq!((c.dbp_mmhg, c.tc_mg_dl, c.hdl_mg_dl), (70.0, 180.0, 62.0));
        assert_eq!(c.egfr_ml_min, 85.0);
        // BMI derived from weight and height, as the importer does.
        assert!((c.bmi_kg_m2 - 60.0 / (1.7 * 1.7)).abs() < 1e-9);
        assert!(!c.smoker, "a later smoking answer leaked");
        assert!(
            !c.conditions.contains(Conditions::DIABETES),
            "later diagnosis"
        );
        assert!(!c.conditions.contains(Conditions::MI), "later MI");
        assert!(!c.treatments.contains(Treatments::GLUCOSE_LOWERING));
        // Undated in the source: holds at the cut as it does at the index.
        assert!(c.conditions.contains(Conditions::STROKE));
        // Missing by the cut: the importer's imputation at the age then (58).
        let age = 60.0 - 2.0;
        assert_eq!(c.sbp_mmhg, mean_covariate(3, Sex::Male, age, false));
        assert_eq!(c.ldl_mg_dl, mean_covariate(7, Sex::Male, age, false));
        assert_eq!(c.fpg_mg_dl, mean_covariate(1, Sex::Male, age, false));
    }

    #[test]
    fn a_cut_at_the_index_date_rebuilds_the_index_covariates() {
        let p = changing_person();
        let c = p.cut_at(0.0).index;
        assert_eq!(c, p.index);
    }
}
