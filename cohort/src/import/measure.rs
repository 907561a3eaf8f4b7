//! What the importer keeps: measures (continuous, one canonical unit each, named with it)
//! and flags (smoking, diagnoses, histories, treatments), with plausible ranges.
//!
//! Must never: hold a range for a baseline covariate that differs from
//! `crate::file::PLAUSIBLE`, or the cohort file it writes could be refused by its own reader.

use engine::{Conditions, Treatments};

use crate::file::PLAUSIBLE;

macro_rules! measures {
    ($($variant:ident = $name:literal, $lo:expr, $hi:expr;)*) => {
        /// A measured quantity (lab value, vital sign, body measure, activity) in its canonical
        /// unit (the unit is in the name).
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[repr(u8)]
        pub enum ClinicalMeasure { $($variant),* }
        impl ClinicalMeasure {
            pub const ALL: &'static [ClinicalMeasure] = &[$(ClinicalMeasure::$variant),*];
            pub const fn name(self) -> &'static str {
                match self { $(ClinicalMeasure::$variant => $name),* }
            }
            /// Plausible range in the canonical unit (inclusive).
            pub fn plausible(self) -> (f64, f64) {
                match self { $(ClinicalMeasure::$variant => plausible_range($name, $lo, $hi)),* }
            }
        }
    };
}

// The ranges of baseline covariates are read from `file::PLAUSIBLE` (the numbers here are
// used only for measures that are not covariates). Other ranges: [A], wide physiological
// bounds meant to catch unit and typing errors, not to judge clinical plausibility.
measures! {
    BmiKgM2 = "bmi_kg_m2", 0.0, 0.0;
    WeightKg = "weight_kg", 20.0, 300.0;
    HeightCm = "height_cm", 100.0, 230.0;
    WaistCm = "waist_cm", 40.0, 200.0;
    FpgMgDl = "fpg_mg_dl", 0.0, 0.0;
    GlucoseCasualMgDl = "glucose_casual_mg_dl", 30.0, 700.0;
    Hba1cPct = "hba1c_pct", 0.0, 0.0;
    Hba1cJdsPct = "hba1c_jds_pct", 3.0, 20.0;
    SbpMmhg = "sbp_mmhg", 0.0, 0.0;
    DbpMmhg = "dbp_mmhg", 0.0, 0.0;
    TcMgDl = "tc_mg_dl", 0.0, 0.0;
    HdlMgDl = "hdl_mg_dl", 0.0, 0.0;
    LdlMgDl = "ldl_mg_dl", 0.0, 0.0;
    TgMgDl = "tg_mg_dl", 10.0, 3000.0;
    CreatinineMgDl = "creatinine_mg_dl", 0.1, 20.0;
    EgfrMlMin = "egfr_ml_min", 0.0, 0.0;
    HeartRateBpm = "heart_rate_bpm", 20.0, 250.0;
    StepsPerDay = "steps_per_day", 0.0, 0.0;
    WalkingSpeedMS = "walking_speed_m_s", 0.1, 3.0;
    FrailtyIndex = "frailty_index", 0.0, 0.0;
}

fn plausible_range(name: &str, lo: f64, hi: f64) -> (f64, f64) {
    PLAUSIBLE
        .iter()
        .find(|p| p.0 == name)
        .map(|p| (p.1, p.2))
        .unwrap_or((lo, hi))
}

impl ClinicalMeasure {
    pub fn parse(s: &str) -> Option<ClinicalMeasure> {
        ClinicalMeasure::ALL.iter().copied().find(|m| m.name() == s)
    }
    pub fn from_index(i: u8) -> Option<ClinicalMeasure> {
        ClinicalMeasure::ALL.get(usize::from(i)).copied()
    }
    pub fn is_plausible(self, v: f64) -> bool {
        let (lo, hi) = self.plausible();
        v.is_finite() && v >= lo && v <= hi
    }
    /// The measure a value is stored as (JDS HbA1c is converted to NGSP on the way in).
    pub fn stored(self) -> ClinicalMeasure {
        match self {
            ClinicalMeasure::Hba1cJdsPct => ClinicalMeasure::Hba1cPct,
            m => m,
        }
    }
    /// The canonical unit, as written in outputs.
    pub fn unit(self) -> &'static str {
        match self {
            ClinicalMeasure::BmiKgM2 => "kg/m2",
            ClinicalMeasure::WeightKg => "kg",
            ClinicalMeasure::HeightCm | ClinicalMeasure::WaistCm => "cm",
            ClinicalMeasure::FpgMgDl
            | ClinicalMeasure::GlucoseCasualMgDl
            | ClinicalMeasure::TcMgDl
            | ClinicalMeasure::HdlMgDl
            | ClinicalMeasure::LdlMgDl
            | ClinicalMeasure::TgMgDl
            | ClinicalMeasure::CreatinineMgDl => "mg/dL",
            ClinicalMeasure::Hba1cPct | ClinicalMeasure::Hba1cJdsPct => "%",
            ClinicalMeasure::SbpMmhg | ClinicalMeasure::DbpMmhg => "mmHg",
            ClinicalMeasure::EgfrMlMin => "mL/min/1.73m2",
            ClinicalMeasure::HeartRateBpm => "/min",
            ClinicalMeasure::StepsPerDay => "/d",
            ClinicalMeasure::WalkingSpeedMS => "m/s",
            ClinicalMeasure::FrailtyIndex => "1",
        }
    }
}

macro_rules! flags {
    ($($variant:ident = $name:literal;)*) => {
        /// A yes/no fact about a person: smoking, a diagnosis, a history, a treatment.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[repr(u8)]
        pub enum Flag { $($variant),* }
        impl Flag {
            pub const ALL: &'static [Flag] = &[$(Flag::$variant),*];
            pub const fn name(self) -> &'static str {
                match self { $(Flag::$variant => $name),* }
            }
        }
    };
}

flags! {
    Smoker = "smoker";
    DxDiabetes = "dx_diabetes";
    DxHypertension = "dx_hypertension";
    DxDyslipidaemia = "dx_dyslipidaemia";
    HxMyocardialInfarction = "hx_myocardial_infarction";
    HxStroke = "hx_stroke";
    HxHeartFailure = "hx_heart_failure";
    RxGlucoseLowering = "rx_glucose_lowering";
    RxAntihypertensive = "rx_antihypertensive";
    RxLipidLowering = "rx_lipid_lowering";
}

impl Flag {
    pub fn parse(s: &str) -> Option<Flag> {
        Flag::ALL.iter().copied().find(|f| f.name() == s)
    }
    pub fn from_index(i: u8) -> Option<Flag> {
        Flag::ALL.get(usize::from(i)).copied()
    }
    /// A diagnosis or history: true once recorded on or before the index date.
    pub fn is_condition(self) -> bool {
        self.condition().is_some()
    }
    pub fn is_treatment(self) -> bool {
        self.treatment().is_some()
    }
    pub fn condition(self) -> Option<Conditions> {
        Some(match self {
            Flag::DxDiabetes => Conditions::DIABETES,
            Flag::DxHypertension => Conditions::HYPERTENSION,
            Flag::DxDyslipidaemia => Conditions::DYSLIPIDAEMIA,
            Flag::HxMyocardialInfarction => Conditions::MI,
            Flag::HxStroke => Conditions::STROKE,
            Flag::HxHeartFailure => Conditions::HEART_FAILURE,
            _ => return None,
        })
    }
    pub fn treatment(self) -> Option<Treatments> {
        Some(match self {
            Flag::RxGlucoseLowering => Treatments::GLUCOSE_LOWERING,
            Flag::RxAntihypertensive => Treatments::ANTIHYPERTENSIVE,
            Flag::RxLipidLowering => Treatments::LIPID_LOWERING,
            _ => return None,
        })
    }
}
