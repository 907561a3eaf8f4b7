//! Published cardiovascular risk equations: the Japanese ones (Hisayama, Suita, JALS,
//! EPOCH-JAPAN) and the Western ones (Pooled Cohort, Framingham 2008, PREVENT, SCORE2,
//! QRISK3, UKPDS risk engine), each as a pure function of one shared, typed input
//! ([`RiskInput`]) returning a risk as a fraction in [0, 1].
//!
//! Two ways in:
//!
//! - **Direct, for the simulator's hot path**: `japan::hisayama_ascvd_10y(&x)`,
//!   `pooled_cohort::ascvd_10y(&x)`, …: no allocation, no checks. Every input the
//!   equation reads must be finite and plausible; the caller guarantees that (the simulator's
//!   state always is). A NaN in an input the equation reads gives NaN or an arbitrary band,
//!   never a panic.
//! - **Checked, for user input** ([`Equation`]): [`Equation::risk`] refuses inputs the
//!   equation cannot be evaluated on (a needed value missing, an implausible value, a person
//!   the equation is not for) with an [`OutOfRange`] that names the field, and
//!   [`Equation::validity`] lists soft problems ([`Warning`]: outside the age or risk-factor
//!   range the equation was derived in, an assumption made for a missing detail). The CLI
//!   prints both; nothing here prints.
//!
//! Units: cholesterol in mg/dL throughout ([`engine::units`] converts), blood pressure in
//! mmHg, eGFR in mL/min/1.73 m², HbA1c in % (NGSP/DCCT). Numbers that were not measured are
//! `f64::NAN` in [`RiskInput`] ([`RiskInput::new`] starts from that), so a checked call can
//! say which one is missing.
//!
//! Every coefficient sits next to its source (paper, table, and the public code it was read
//! from) in the equation's file; tags: [V] read in a source, [D] derived, [A] assumption.
//!
//! Must never: allocate or panic in the direct functions, print, or do IO.

pub mod framingham;
pub mod japan;
pub mod pooled_cohort;
pub mod prevent;
pub mod qrisk3;
pub mod score2;
pub mod ukpds_engine;

use engine::math::DetMath;
use engine::Sex;
use std::fmt;

/// Ethnic group, in QRISK3's nine categories (Hippisley-Cox 2017, ClinRisk `ethrisk` 1–9).
/// Equations with a coarser grouping map from these: the Pooled Cohort Equations use the
/// African American equations for the two Black groups and the white ones for everyone else
/// (the ACC/AHA 2013 advice for other groups); the UKPDS engine's Afro-Caribbean term
/// applies to the two Black groups.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Ethnicity {
    /// White or not stated (QRISK3 code 1).
    #[default]
    WhiteOrNotStated,
    Indian,
    Pakistani,
    Bangladeshi,
    OtherAsian,
    BlackCaribbean,
    BlackAfrican,
    Chinese,
    Other,
}

impl Ethnicity {
    pub const ALL: [Ethnicity; 9] = [
        Ethnicity::WhiteOrNotStated,
        Ethnicity::Indian,
        Ethnicity::Pakistani,
        Ethnicity::Bangladeshi,
        Ethnicity::OtherAsian,
        Ethnicity::BlackCaribbean,
        Ethnicity::BlackAfrican,
        Ethnicity::Chinese,
        Ethnicity::Other,
    ];

    /// Short name used on the command line and in patient files.
    pub fn name(self) -> &'static str {
        match self {
            Ethnicity::WhiteOrNotStated => "white",
            Ethnicity::Indian => "indian",
            Ethnicity::Pakistani => "pakistani",
            Ethnicity::Bangladeshi => "bangladeshi",
            Ethnicity::OtherAsian => "other-asian",
            Ethnicity::BlackCaribbean => "black-caribbean",
            Ethnicity::BlackAfrican => "black-african",
            Ethnicity::Chinese => "chinese",
            Ethnicity::Other => "other",
        }
    }

    pub fn parse(s: &str) -> Option<Ethnicity> {
        let s = s.trim().to_ascii_lowercase().replace('_', "-");
        if s == "not-stated" {
            return Some(Ethnicity::WhiteOrNotStated);
        }
        Ethnicity::ALL.into_iter().find(|e| e.name() == s)
    }

    /// African American / Afro-Caribbean in the equations that have only that split.
    pub fn is_black(self) -> bool {
        matches!(self, Ethnicity::BlackCaribbean | Ethnicity::BlackAfrican)
    }
}

/// QRISK3's smoking categories (ClinRisk `smoke_cat` 0–4).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SmokingCategory {
    Non,
    Ex,
    /// Fewer than 10 cigarettes a day.
    Light,
    /// 10 to 19 a day.
    Moderate,
    /// 20 or more a day.
    Heavy,
}

/// The inputs only QRISK3 reads. `Default` is "none of these" (and smoking derived from
/// [`RiskInput::smoker`]).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct QriskExtras {
    /// Smoking amount; `None` takes [`RiskInput::smoker`] (current smoker → moderate, with a
    /// warning; otherwise non-smoker).
    pub smoking: Option<SmokingCategory>,
    /// Townsend deprivation score (0 = national average; NaN → 0 with a warning).
    pub townsend: f64,
    /// Standard deviation of at least two systolic readings, mmHg (NaN → 0 with a warning,
    /// as the ClinRisk calculator does when it is not recorded).
    pub sbp_sd_mmhg: f64,
    /// Type 1 diabetes (then [`RiskInput::diabetes`] is not read by QRISK3).
    pub type1_diabetes: bool,
    /// Angina or heart attack in a first-degree relative under 60.
    pub family_history_chd: bool,
    /// Chronic kidney disease stage 3, 4 or 5.
    pub ckd_3_to_5: bool,
    pub migraine: bool,
    pub rheumatoid_arthritis: bool,
    pub systemic_lupus: bool,
    /// Severe mental illness (schizophrenia, bipolar disorder, moderate/severe depression).
    pub severe_mental_illness: bool,
    pub atypical_antipsychotic: bool,
    /// Regular oral corticosteroids.
    pub corticosteroids: bool,
    /// Erectile dysfunction or its treatment (men).
    pub erectile_dysfunction: bool,
}

/// Everything any implemented equation reads about one person. Units are in the names.
/// Continuous values not measured are `f64::NAN` (see the module docs).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RiskInput {
    pub sex: Sex,
    pub age_years: f64,
    pub sbp_mmhg: f64,
    pub dbp_mmhg: f64,
    pub tc_mg_dl: f64,
    pub hdl_mg_dl: f64,
    pub ldl_mg_dl: f64,
    pub bmi_kg_m2: f64,
    /// eGFR, mL/min/1.73 m².
    pub egfr_ml_min: f64,
    /// HbA1c, % (NGSP).
    pub hba1c_pct: f64,
    /// Diabetes (type 2 unless [`QriskExtras::type1_diabetes`]).
    pub diabetes: bool,
    /// Years since diabetes was diagnosed (UKPDS risk engine).
    pub years_since_dm_dx: f64,
    /// Current smoker.
    pub smoker: bool,
    /// On blood-pressure-lowering drugs.
    pub bp_treated: bool,
    /// On a statin.
    pub statin: bool,
    /// Dipstick proteinuria (1+ or more).
    pub proteinuria: bool,
    /// Regular exercise: at least three times a week (the Hisayama definition).
    pub regular_exercise: bool,
    pub atrial_fibrillation: bool,
    pub ethnicity: Ethnicity,
    pub qrisk: QriskExtras,
}

impl RiskInput {
    /// A person of `sex` and `age_years` with every measurement missing (NaN), every
    /// condition and treatment absent, and ethnicity "white or not stated".
    pub fn new(sex: Sex, age_years: f64) -> RiskInput {
        RiskInput {
            sex,
            age_years,
            sbp_mmhg: f64::NAN,
            dbp_mmhg: f64::NAN,
            tc_mg_dl: f64::NAN,
            hdl_mg_dl: f64::NAN,
            ldl_mg_dl: f64::NAN,
            bmi_kg_m2: f64::NAN,
            egfr_ml_min: f64::NAN,
            hba1c_pct: f64::NAN,
            diabetes: false,
            years_since_dm_dx: f64::NAN,
            smoker: false,
            bp_treated: false,
            statin: false,
            proteinuria: false,
            regular_exercise: false,
            atrial_fibrillation: false,
            ethnicity: Ethnicity::WhiteOrNotStated,
            qrisk: QriskExtras {
                townsend: f64::NAN,
                sbp_sd_mmhg: f64::NAN,
                ..QriskExtras::default()
            },
        }
    }

    #[inline]
    pub fn male(&self) -> bool {
        self.sex == Sex::Male
    }

    /// Non-HDL cholesterol, mg/dL.
    #[inline]
    pub fn non_hdl_mg_dl(&self) -> f64 {
        self.tc_mg_dl - self.hdl_mg_dl
    }

    /// Age at diagnosis of diabetes, years.
    #[inline]
    pub fn age_at_dm_dx(&self) -> f64 {
        self.age_years - self.years_since_dm_dx
    }

    /// The value of one continuous field.
    pub fn get(&self, field: Field) -> f64 {
        match field {
            Field::Age => self.age_years,
            Field::Sbp => self.sbp_mmhg,
            Field::Dbp => self.dbp_mmhg,
            Field::Tc => self.tc_mg_dl,
            Field::Hdl => self.hdl_mg_dl,
            Field::Ldl => self.ldl_mg_dl,
            Field::Bmi => self.bmi_kg_m2,
            Field::Egfr => self.egfr_ml_min,
            Field::Hba1c => self.hba1c_pct,
            Field::YearsSinceDmDx => self.years_since_dm_dx,
            Field::AgeAtDmDx => self.age_at_dm_dx(),
            Field::Townsend => self.qrisk.townsend,
            Field::SbpSd => self.qrisk.sbp_sd_mmhg,
        }
    }
}

#[inline]
pub(crate) fn indicator(b: bool) -> f64 {
    if b {
        1.0
    } else {
        0.0
    }
}

/// A continuous input, for error messages and range checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Field {
    Age,
    Sbp,
    Dbp,
    Tc,
    Hdl,
    Ldl,
    Bmi,
    Egfr,
    Hba1c,
    YearsSinceDmDx,
    /// Derived: age minus years since diagnosis.
    AgeAtDmDx,
    Townsend,
    SbpSd,
}

impl Field {
    /// The field's name as in [`RiskInput`] (the patient file uses the same keys).
    pub fn name(self) -> &'static str {
        match self {
            Field::Age => "age_years",
            Field::Sbp => "sbp_mmhg",
            Field::Dbp => "dbp_mmhg",
            Field::Tc => "tc_mg_dl",
            Field::Hdl => "hdl_mg_dl",
            Field::Ldl => "ldl_mg_dl",
            Field::Bmi => "bmi_kg_m2",
            Field::Egfr => "egfr_ml_min",
            Field::Hba1c => "hba1c_pct",
            Field::YearsSinceDmDx => "years_since_dm_dx",
            Field::AgeAtDmDx => "age at diabetes diagnosis",
            Field::Townsend => "townsend",
            Field::SbpSd => "sbp_sd_mmhg",
        }
    }

    /// Values outside this range are taken for entry errors and refused by every equation
    /// [A]: wide enough for any real measurement, narrow enough to catch a unit mix-up
    /// (cholesterol in mmol/L given as mg/dL, HbA1c in mmol/mol given as %).
    pub fn plausible(self) -> (f64, f64) {
        match self {
            Field::Age => (18.0, 110.0),
            Field::Sbp => (60.0, 300.0),
            Field::Dbp => (30.0, 200.0),
            Field::Tc => (50.0, 1000.0),
            Field::Hdl => (5.0, 250.0),
            Field::Ldl => (10.0, 900.0),
            Field::Bmi => (10.0, 80.0),
            Field::Egfr => (1.0, 200.0),
            Field::Hba1c => (3.0, 20.0),
            Field::YearsSinceDmDx => (0.0, 80.0),
            Field::AgeAtDmDx => (0.0, 110.0),
            Field::Townsend => (-10.0, 15.0),
            Field::SbpSd => (0.0, 100.0),
        }
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why an equation cannot be evaluated for this input.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum OutOfRange {
    #[error("needs {field}, which is missing")]
    Missing { field: Field },
    #[error("{field} = {value} is implausible (accepted {lo}–{hi}); check the value and its unit")]
    Implausible {
        field: Field,
        value: f64,
        lo: f64,
        hi: f64,
    },
    #[error("HDL ({hdl} mg/dL) must be below total cholesterol ({tc} mg/dL)")]
    HdlNotBelowTc { tc: f64, hdl: f64 },
    #[error("not applicable: {0}")]
    NotApplicable(&'static str),
}

/// A soft problem: the risk is computed, but should be read with this in mind.
#[derive(Clone, Debug, PartialEq)]
pub enum Warning {
    /// Outside the range the equation was derived (or validated) in: an extrapolation.
    OutsideDerivation {
        field: Field,
        value: f64,
        lo: f64,
        hi: f64,
    },
    /// Something the equation needs was not given and a stated default was used.
    Assumed(&'static str),
    /// A limitation of the equation for this person.
    Caveat(&'static str),
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Warning::OutsideDerivation {
                field,
                value,
                lo,
                hi,
            } => write!(
                f,
                "{field} {value} is outside the derivation range {lo}–{hi}: extrapolated"
            ),
            Warning::Assumed(what) => write!(f, "assumed {what}"),
            Warning::Caveat(what) => f.write_str(what),
        }
    }
}

/// What an equation predicts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// Hisayama: first coronary heart disease or atherothrombotic brain infarction.
    AscvdHisayama,
    /// Pooled Cohort: first non-fatal MI, CHD death, fatal or non-fatal stroke ("hard ASCVD").
    HardAscvd,
    /// Total CVD, fatal or not; the components differ by equation
    /// ([`Equation::outcome_detail`]).
    Cvd,
    /// Death from cardiovascular disease (EPOCH-JAPAN, JALS "all CVD").
    CvdDeath,
    /// SCORE2: cardiovascular death, non-fatal MI, non-fatal stroke.
    FatalNonfatalCvd,
    /// Coronary heart disease (UKPDS 56: fatal or non-fatal MI, sudden death).
    Chd,
    /// Stroke, fatal or not (UKPDS 60).
    Stroke,
}

impl Outcome {
    pub fn describe(self) -> &'static str {
        match self {
            Outcome::AscvdHisayama => "ASCVD (CHD or atherothrombotic brain infarction)",
            Outcome::HardAscvd => "hard ASCVD (MI, CHD death, stroke)",
            Outcome::Cvd => "total CVD",
            Outcome::CvdDeath => "CVD death",
            Outcome::FatalNonfatalCvd => "CVD death, non-fatal MI or stroke",
            Outcome::Chd => "CHD (fatal or non-fatal MI, sudden death)",
            Outcome::Stroke => "stroke (fatal or non-fatal)",
        }
    }
}

/// The risk regions of SCORE2 (SCORE2 working group 2021, by country CVD mortality).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Score2Region {
    Low,
    Moderate,
    High,
    VeryHigh,
}

impl Score2Region {
    pub const ALL: [Score2Region; 4] = [
        Score2Region::Low,
        Score2Region::Moderate,
        Score2Region::High,
        Score2Region::VeryHigh,
    ];
    pub fn name(self) -> &'static str {
        match self {
            Score2Region::Low => "low",
            Score2Region::Moderate => "moderate",
            Score2Region::High => "high",
            Score2Region::VeryHigh => "very-high",
        }
    }
}

/// Every implemented equation. [`Equation::ALL`] lists them in display order (Japanese
/// first).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Equation {
    /// Hisayama ASCVD score, 10 y (Honda 2022).
    Hisayama,
    /// Suita CVD score without ECG, 10 y (Nakai 2020).
    Suita,
    /// JALS CVD-death score without ECG, 5 y (Harada 2019).
    Jals,
    /// EPOCH-JAPAN CVD death, 10 y (Li 2021).
    EpochJapan,
    /// ACC/AHA Pooled Cohort Equations, hard ASCVD, 10 y (Goff 2014).
    PooledCohort,
    /// Framingham general CVD, 10 y (D'Agostino 2008).
    Framingham,
    /// AHA PREVENT base model, total CVD, 10 y (Khan 2024).
    Prevent,
    /// SCORE2, 10 y, recalibrated to a European risk region (SCORE2 WG 2021).
    Score2(Score2Region),
    /// QRISK3-2017, 10 y (Hippisley-Cox 2017).
    Qrisk3,
    /// UKPDS risk engine CHD, 10 y (UKPDS 56, Stevens 2001).
    UkpdsChd,
    /// UKPDS risk engine stroke, 10 y (UKPDS 60, Kothari 2002).
    UkpdsStroke,
}

impl Equation {
    pub const ALL: [Equation; 14] = [
        Equation::Hisayama,
        Equation::Suita,
        Equation::Jals,
        Equation::EpochJapan,
        Equation::PooledCohort,
        Equation::Framingham,
        Equation::Prevent,
        Equation::Score2(Score2Region::Low),
        Equation::Score2(Score2Region::Moderate),
        Equation::Score2(Score2Region::High),
        Equation::Score2(Score2Region::VeryHigh),
        Equation::Qrisk3,
        Equation::UkpdsChd,
        Equation::UkpdsStroke,
    ];

    /// Stable name (command line, outputs).
    pub fn name(self) -> &'static str {
        match self {
            Equation::Hisayama => "hisayama",
            Equation::Suita => "suita",
            Equation::Jals => "jals",
            Equation::EpochJapan => "epoch-japan",
            Equation::PooledCohort => "pce",
            Equation::Framingham => "framingham",
            Equation::Prevent => "prevent",
            Equation::Score2(Score2Region::Low) => "score2-low",
            Equation::Score2(Score2Region::Moderate) => "score2-moderate",
            Equation::Score2(Score2Region::High) => "score2-high",
            Equation::Score2(Score2Region::VeryHigh) => "score2-very-high",
            Equation::Qrisk3 => "qrisk3",
            Equation::UkpdsChd => "ukpds-chd",
            Equation::UkpdsStroke => "ukpds-stroke",
        }
    }

    pub fn parse(s: &str) -> Option<Equation> {
        let s = s.trim().to_ascii_lowercase().replace('_', "-");
        Equation::ALL.into_iter().find(|e| e.name() == s)
    }

    /// Name of the model with its paper.
    pub fn title(self) -> &'static str {
        match self {
            Equation::Hisayama => "Hisayama ASCVD score (Honda 2022)",
            Equation::Suita => "Suita CVD score, no ECG (Nakai 2020)",
            Equation::Jals => "JALS score, no ECG (Harada 2019)",
            Equation::EpochJapan => "EPOCH-JAPAN (Li 2021)",
            Equation::PooledCohort => "Pooled Cohort Equations (Goff 2014)",
            Equation::Framingham => "Framingham general CVD (D'Agostino 2008)",
            Equation::Prevent => "PREVENT base, total CVD (Khan 2024)",
            Equation::Score2(_) => "SCORE2 (SCORE2 WG 2021)",
            Equation::Qrisk3 => "QRISK3-2017 (Hippisley-Cox 2017)",
            Equation::UkpdsChd => "UKPDS risk engine CHD (Stevens 2001)",
            Equation::UkpdsStroke => "UKPDS risk engine stroke (Kothari 2002)",
        }
    }

    /// Where the equation was derived.
    pub fn population(self) -> &'static str {
        match self {
            Equation::Hisayama => "Japan (Hisayama town)",
            Equation::Suita => "Japan (Suita city, urban)",
            Equation::Jals => "Japan (JALS, 20 cohorts)",
            Equation::EpochJapan => "Japan (EPOCH-JAPAN, 8 cohorts)",
            Equation::PooledCohort => "USA",
            Equation::Framingham => "USA",
            Equation::Prevent => "USA",
            Equation::Score2(_) => "Europe",
            Equation::Qrisk3 => "England",
            Equation::UkpdsChd | Equation::UkpdsStroke => "UK (UKPDS, type 2 diabetes)",
        }
    }

    pub fn outcome(self) -> Outcome {
        match self {
            Equation::Hisayama => Outcome::AscvdHisayama,
            Equation::Suita | Equation::Framingham | Equation::Prevent | Equation::Qrisk3 => {
                Outcome::Cvd
            }
            Equation::Jals | Equation::EpochJapan => Outcome::CvdDeath,
            Equation::PooledCohort => Outcome::HardAscvd,
            Equation::Score2(_) => Outcome::FatalNonfatalCvd,
            Equation::UkpdsChd => Outcome::Chd,
            Equation::UkpdsStroke => Outcome::Stroke,
        }
    }

    /// What exactly the equation counts as an event (its paper's definition, short).
    pub fn outcome_detail(self) -> &'static str {
        match self {
            Equation::Hisayama => "first CHD or atherothrombotic brain infarction",
            Equation::Suita => "first stroke or CHD",
            Equation::Jals | Equation::EpochJapan => "death from cardiovascular disease",
            Equation::PooledCohort => "first MI, CHD death or stroke (hard ASCVD)",
            Equation::Framingham => "CHD, stroke, PAD or heart failure",
            Equation::Prevent => "ASCVD or heart failure",
            Equation::Score2(_) => "CVD death, non-fatal MI or non-fatal stroke",
            Equation::Qrisk3 => "CHD, ischaemic stroke or TIA",
            Equation::UkpdsChd => "fatal or non-fatal MI, sudden death",
            Equation::UkpdsStroke => "fatal or non-fatal stroke",
        }
    }

    /// The horizon of the published risk, years.
    pub fn horizon_years(self) -> f64 {
        match self {
            Equation::Jals => 5.0,
            _ => 10.0,
        }
    }

    /// The continuous inputs the equation reads (each must be present and plausible).
    pub fn required(self) -> &'static [Field] {
        use Field::*;
        match self {
            Equation::Hisayama => &[Age, Sbp, Hdl, Ldl],
            Equation::Suita => &[Age, Sbp, Dbp, Tc, Hdl, Ldl],
            Equation::Jals => &[Age, Sbp, Dbp, Hdl, Bmi, Egfr],
            Equation::EpochJapan => &[Age, Sbp],
            Equation::PooledCohort | Equation::Framingham | Equation::Score2(_) => {
                &[Age, Sbp, Tc, Hdl]
            }
            Equation::Prevent => &[Age, Sbp, Tc, Hdl, Egfr],
            Equation::Qrisk3 => &[Age, Sbp, Tc, Hdl, Bmi],
            Equation::UkpdsChd => &[Age, Sbp, Tc, Hdl, Hba1c, YearsSinceDmDx],
            Equation::UkpdsStroke => &[Age, Sbp, Tc, Hdl, YearsSinceDmDx],
        }
    }

    /// The age range the equation was derived in (`None`: no stated range).
    pub fn age_range(self) -> Option<(f64, f64)> {
        Some(match self {
            // Honda 2022: participants aged 40–84 [V abstract].
            Equation::Hisayama => (40.0, 84.0),
            // Nakai 2020 / Jcvrisk: 30–79 [V Jcvrisk man page].
            Equation::Suita => (30.0, 79.0),
            // Harada 2019: 40–89 [V abstract].
            Equation::Jals => (40.0, 89.0),
            // Li 2021: 40–79 [V abstract].
            Equation::EpochJapan => (40.0, 79.0),
            // Goff 2014: 40–79 [V].
            Equation::PooledCohort => (40.0, 79.0),
            // D'Agostino 2008: 30–74 [V].
            Equation::Framingham => (30.0, 74.0),
            // Khan 2024: 30–79 [V abstract; bcjaeger/PooledCohort accepts 30–80].
            Equation::Prevent => (30.0, 79.0),
            // SCORE2 2021: 40–69 (SCORE2-OP covers 70+) [V].
            Equation::Score2(_) => (40.0, 69.0),
            // QRISK3: 25–84 [V cran/QRISK3 refuses other ages].
            Equation::Qrisk3 => (25.0, 84.0),
            // UKPDS: the range applies to age at diagnosis (see ukpds_engine::warnings).
            Equation::UkpdsChd | Equation::UkpdsStroke => return None,
        })
    }

    /// Soft problems: inputs outside the derivation range, assumptions made. Empty when the
    /// person is squarely inside what the equation was built on. Hard problems are
    /// [`Equation::risk`]'s errors.
    pub fn validity(self, x: &RiskInput) -> Vec<Warning> {
        let mut out = Vec::new();
        if let Some((lo, hi)) = self.age_range() {
            push_range(&mut out, Field::Age, x.age_years, lo, hi);
        }
        match self {
            Equation::Hisayama | Equation::Suita | Equation::Jals | Equation::EpochJapan => {
                japan::warnings(self, x, &mut out)
            }
            Equation::PooledCohort => pooled_cohort::warnings(x, &mut out),
            Equation::Framingham => framingham::warnings(x, &mut out),
            Equation::Prevent => prevent::warnings(x, &mut out),
            Equation::Score2(_) => score2::warnings(x, &mut out),
            Equation::Qrisk3 => qrisk3::warnings(x, &mut out),
            Equation::UkpdsChd | Equation::UkpdsStroke => ukpds_engine::warnings(x, &mut out),
        }
        out
    }

    /// Hard checks only: every required input present and plausible, and the person one
    /// the equation is for.
    pub fn check(self, x: &RiskInput) -> Result<(), OutOfRange> {
        let ukpds = matches!(self, Equation::UkpdsChd | Equation::UkpdsStroke);
        if ukpds && !x.diabetes {
            return Err(OutOfRange::NotApplicable(
                "the UKPDS risk engine is for people with type 2 diabetes",
            ));
        }
        if ukpds && x.qrisk.type1_diabetes {
            return Err(OutOfRange::NotApplicable(
                "the UKPDS risk engine is for type 2 diabetes, not type 1",
            ));
        }
        for &field in self.required() {
            let value = x.get(field);
            if value.is_nan() {
                return Err(OutOfRange::Missing { field });
            }
            let (lo, hi) = field.plausible();
            if !(lo..=hi).contains(&value) {
                return Err(OutOfRange::Implausible {
                    field,
                    value,
                    lo,
                    hi,
                });
            }
        }
        let reads = |f: Field| self.required().contains(&f);
        if reads(Field::Tc) && reads(Field::Hdl) && x.hdl_mg_dl >= x.tc_mg_dl {
            return Err(OutOfRange::HdlNotBelowTc {
                tc: x.tc_mg_dl,
                hdl: x.hdl_mg_dl,
            });
        }
        if self.reads_qrisk_extras() {
            for field in [Field::Townsend, Field::SbpSd] {
                let value = x.get(field);
                let (lo, hi) = field.plausible();
                if !value.is_nan() && !(lo..=hi).contains(&value) {
                    return Err(OutOfRange::Implausible {
                        field,
                        value,
                        lo,
                        hi,
                    });
                }
            }
        }
        if ukpds && x.years_since_dm_dx > x.age_years {
            return Err(OutOfRange::NotApplicable(
                "more years since diabetes diagnosis than years of age",
            ));
        }
        Ok(())
    }

    /// Whether the equation reads [`QriskExtras`] (then its two numbers are range-checked).
    fn reads_qrisk_extras(self) -> bool {
        self == Equation::Qrisk3
    }

    /// The risk over [`Equation::horizon_years`], as a fraction, after [`Equation::check`].
    pub fn risk(self, x: &RiskInput) -> Result<f64, OutOfRange> {
        self.check(x)?;
        Ok(self.risk_unchecked(x))
    }

    /// The risk without checks (the direct function of the equation).
    pub fn risk_unchecked(self, x: &RiskInput) -> f64 {
        match self {
            Equation::Hisayama => japan::hisayama_ascvd_10y(x),
            Equation::Suita => japan::suita_cvd_10y(x),
            Equation::Jals => japan::jals_cvd_death_5y(x),
            Equation::EpochJapan => japan::epoch_japan_cvd_death_10y(x),
            Equation::PooledCohort => pooled_cohort::ascvd_10y(x),
            Equation::Framingham => framingham::cvd_10y(x),
            Equation::Prevent => prevent::cvd_10y(x),
            Equation::Score2(region) => score2::cvd_10y(x, region),
            Equation::Qrisk3 => qrisk3::cvd_10y(x),
            Equation::UkpdsChd => ukpds_engine::chd_risk(x, 10.0),
            Equation::UkpdsStroke => ukpds_engine::stroke_risk(x, 10.0),
        }
    }
}

/// Adds a warning if `value` lies outside [lo, hi].
pub(crate) fn push_range(out: &mut Vec<Warning>, field: Field, value: f64, lo: f64, hi: f64) {
    if !value.is_nan() && !(lo..=hi).contains(&value) {
        out.push(Warning::OutsideDerivation {
            field,
            value,
            lo,
            hi,
        });
    }
}

/// 1 − S0^exp(x): the Cox risk with baseline survival `s0` at the horizon and centred linear
/// predictor `x`, computed as −expm1(exp(x)·ln S0) to keep small risks accurate. Always in
/// [0, 1] for finite x.
#[inline]
pub(crate) fn cox_risk(s0: f64, x: f64) -> f64 {
    -(x.exp_det() * s0.ln_det()).exp_m1_det()
}
