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
    /// to `t`, ages and times shift, the index covariates become the latest values on or
    /// before it (within a year; the old index values otherwise). For validation on
    /// imported histories.
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
        let mut out = PersonRecord {
            label: self.label.clone(),
            sex: self.sex,
            age_years: self.age_years + t,
            index: self.index,
            observations,
            treatment_records,
            pdc: self.pdc,
            index_day: self
                .index_day
                .map(|d| d + (t * DAYS_PER_YEAR).round() as i32),
        };
        for q in Quantity::ALL {
            if let Some(v) = out.latest(q, 0.0, 1.0) {
                set_quantity(&mut out.index, q, v);
            }
        }
        for d in Drug::ALL {
            let on = out.treatment_records[d as usize]
                .iter()
                .any(|&r| r <= 1e-9 && -r <= RX_WINDOW_YEARS);
            out.index.treatments.set(d.flag(), on);
        }
        out
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
