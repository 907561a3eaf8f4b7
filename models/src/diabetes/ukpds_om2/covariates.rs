//! The OM2 covariates: what the equations read ([`Om2Covariates`], in the paper's units and
//! scaling, ESM Table 2), the covariates as they enter Xβ ([`Covariate`], with their names in
//! the ESM tables and the coefficient file) and the spline pieces derived from them.
//!
//! Must never allocate, panic, do IO or draw random numbers: everything here is a pure
//! function of its arguments.

/// One covariate as it enters the equations, in the paper's units and scaling (ESM Table 2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Covariate {
    /// Age at diagnosis of diabetes, years (`AGE.DIAG`).
    AgeAtDiagnosis,
    /// Current age, years (`CURR.AGE`); only in the logistic death equations.
    CurrentAge,
    /// Duration of diabetes, years (`YEAR`); only in death in the year of a first event.
    DiabetesDuration,
    /// 1 for women (`FEMALE`).
    Female,
    /// 1 for Afro-Caribbean ethnicity (`AFRO`).
    AfroCaribbean,
    /// 1 for Asian-Indian ethnicity (`INDIAN`).
    AsianIndian,
    /// 1 for a current smoker (`SMOKER`).
    Smoker,
    /// 1 for atrial fibrillation (`ATFIB`, Minnesota codes 831 and 833).
    AtrialFibrillation,
    /// 1 for peripheral vascular disease (`PVD`: intermittent claudication or ABPI < 0.9).
    Pvd,
    /// 1 for micro- or macroalbuminuria, urine albumin ≥ 50 mg/L (`MMALB`).
    Albuminuria,
    /// HbA1c, % (DCCT).
    Hba1c,
    /// Systolic blood pressure, mmHg / 10 (`SBP`).
    Sbp,
    /// LDL cholesterol, mmol/L × 10 (`LDL`).
    Ldl,
    /// The part of LDL above 3.5 mmol/L, × 10: `max(LDL − 3.5, 0)·10` (`LDL35more`; see the `ukpds_om2`
    /// module docs on why this is continuous).
    LdlSplineAbove3p5,
    /// HDL cholesterol, mmol/L × 10 (`HDL`).
    Hdl,
    /// Body-mass index, kg/m² (`BMI`).
    Bmi,
    /// 1 for BMI < 18.5 kg/m² (`BMI1`; reference 18.5 ≤ BMI < 25).
    BmiUnderweight,
    /// 1 for BMI ≥ 25 kg/m² (`BMI3`; reference 18.5 ≤ BMI < 25).
    BmiOverweight,
    /// eGFR (MDRD), ml/min/1.73 m² / 10, linear (`eGFR`; IHD only).
    Egfr,
    /// `min(eGFR, 60)/10` (`eGFR60less`; see the `ukpds_om2` module docs).
    EgfrSplineBelow60,
    /// `max(eGFR − 60, 0)/10` (`eGFR60more`; see the `ukpds_om2` module docs).
    EgfrSplineAbove60,
    /// Heart rate, beats/min / 10 (`HEART.R`).
    HeartRate,
    /// White blood cell count, 10⁹/L (= 10⁶/mL) (`WBC`).
    Wbc,
    /// Haemoglobin, g/dL (`HAEM`).
    Haemoglobin,
    /// 1 for a history of amputation before this year (`AMP.HIST`).
    AmputationHistory,
    /// 1 for a history of blindness in one eye before this year (`BLIND.HIST`).
    BlindnessHistory,
    /// 1 for a history of congestive heart failure (`CHF.HIST`).
    ChfHistory,
    /// 1 for a history of ischaemic heart disease (`IHD.HIST`).
    IhdHistory,
    /// 1 for a history of myocardial infarction (`MI.HIST`).
    MiHistory,
    /// 1 for a history of stroke (`STROKE.HIST`).
    StrokeHistory,
    /// 1 for a history of diabetic foot ulcer (`ULCER.HIST`).
    UlcerHistory,
    /// 1 for a history of renal failure / ESRD (`RENAL.HIST`).
    EsrdHistory,
    /// 1 if a first amputation happened this year (`AMP1.EVENT`).
    FirstAmputationEvent,
    /// 1 if a second amputation happened this year (`AMP2.EVENT`).
    SecondAmputationEvent,
    /// 1 if IHD was diagnosed this year (`IHD.EVENT`).
    IhdEvent,
    /// 1 if an MI happened this year (`MI.EVENT`).
    MiEvent,
    /// 1 if renal failure started this year (`RENAL.EVENT`).
    EsrdEvent,
    /// 1 if a stroke happened this year (`STROKE.EVENT`).
    StrokeEvent,
}

/// Everything the OM2 equations read, in the paper's units and scaling (ESM Table 2).
///
/// Continuous risk factors are stored already scaled as the equations use them (the field
/// name says how); the spline pieces and BMI categories are derived from them in one place
/// ([`Covariate::value`]), so they cannot disagree with the value they come from. Current
/// age is age at diagnosis plus duration, as in the ports (`CURR.AGE = AGE.DIAG + YEAR`).
///
/// `Default` is all zeros and `false`: a convenient base for struct-update syntax, not a
/// typical patient.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Om2Covariates {
    /// Age at diagnosis of diabetes, years.
    pub age_at_diagnosis_years: f64,
    /// Years since diagnosis: the Weibull time axis. Negative values are treated as 0.
    pub diabetes_duration_years: f64,
    pub female: bool,
    pub afro_caribbean: bool,
    pub asian_indian: bool,
    pub smoker: bool,
    pub atrial_fibrillation: bool,
    pub pvd: bool,
    /// Urine albumin ≥ 50 mg/L.
    pub albuminuria: bool,
    pub hba1c_pct: f64,
    /// Systolic blood pressure in mmHg, divided by 10 (139 mmHg → 13.9).
    pub sbp_mmhg_div10: f64,
    /// LDL cholesterol in mmol/L, multiplied by 10 (3.0 mmol/L → 30).
    pub ldl_mmol_l_x10: f64,
    /// HDL cholesterol in mmol/L, multiplied by 10 (1.1 mmol/L → 11).
    pub hdl_mmol_l_x10: f64,
    pub bmi_kg_m2: f64,
    /// eGFR (MDRD) in ml/min/1.73 m², divided by 10 (70 → 7.0).
    pub egfr_div10: f64,
    /// Heart rate in beats/min, divided by 10 (79 → 7.9).
    pub heart_rate_bpm_div10: f64,
    /// White blood cell count, 10⁹/L.
    pub wbc_10e9_per_l: f64,
    pub haemoglobin_g_dl: f64,
    /// Histories: an event in an earlier year (not the current one).
    pub amputation_history: bool,
    pub blindness_history: bool,
    pub chf_history: bool,
    pub ihd_history: bool,
    pub mi_history: bool,
    pub stroke_history: bool,
    pub ulcer_history: bool,
    pub esrd_history: bool,
    /// Events in the current year; only the two logistic death equations read these.
    pub first_amputation_event: bool,
    pub second_amputation_event: bool,
    pub ihd_event: bool,
    pub mi_event: bool,
    pub esrd_event: bool,
    pub stroke_event: bool,
}

impl Om2Covariates {
    /// Current age in years: age at diagnosis plus diabetes duration (the Gompertz time axis).
    pub fn current_age_years(&self) -> f64 {
        self.age_at_diagnosis_years + self.diabetes_duration_years
    }
}

/// The eGFR spline piece below the knot: `min(eGFR, 60)/10`, from eGFR/10.
/// NaN stays NaN (so a missing value cannot pass as "normal").
pub fn egfr_spline_below_60(egfr_div10: f64) -> f64 {
    if egfr_div10 > 6.0 {
        6.0
    } else {
        egfr_div10
    }
}

/// The eGFR spline piece above the knot: `max(eGFR − 60, 0)/10`, from eGFR/10.
pub fn egfr_spline_above_60(egfr_div10: f64) -> f64 {
    if egfr_div10 < 6.0 {
        0.0
    } else {
        egfr_div10 - 6.0
    }
}

/// The LDL spline piece above the knot: `max(LDL − 3.5, 0)·10`, from LDL·10.
pub fn ldl_spline_above_3p5(ldl_mmol_l_x10: f64) -> f64 {
    if ldl_mmol_l_x10 < 35.0 {
        0.0
    } else {
        ldl_mmol_l_x10 - 35.0
    }
}

fn indicator(b: bool) -> f64 {
    if b {
        1.0
    } else {
        0.0
    }
}

impl Covariate {
    /// Every covariate, in declaration order (`Covariate::ALL[x as usize] == x`).
    pub const ALL: [Covariate; 38] = [
        Covariate::AgeAtDiagnosis,
        Covariate::CurrentAge,
        Covariate::DiabetesDuration,
        Covariate::Female,
        Covariate::AfroCaribbean,
        Covariate::AsianIndian,
        Covariate::Smoker,
        Covariate::AtrialFibrillation,
        Covariate::Pvd,
        Covariate::Albuminuria,
        Covariate::Hba1c,
        Covariate::Sbp,
        Covariate::Ldl,
        Covariate::LdlSplineAbove3p5,
        Covariate::Hdl,
        Covariate::Bmi,
        Covariate::BmiUnderweight,
        Covariate::BmiOverweight,
        Covariate::Egfr,
        Covariate::EgfrSplineBelow60,
        Covariate::EgfrSplineAbove60,
        Covariate::HeartRate,
        Covariate::Wbc,
        Covariate::Haemoglobin,
        Covariate::AmputationHistory,
        Covariate::BlindnessHistory,
        Covariate::ChfHistory,
        Covariate::IhdHistory,
        Covariate::MiHistory,
        Covariate::StrokeHistory,
        Covariate::UlcerHistory,
        Covariate::EsrdHistory,
        Covariate::FirstAmputationEvent,
        Covariate::SecondAmputationEvent,
        Covariate::IhdEvent,
        Covariate::MiEvent,
        Covariate::EsrdEvent,
        Covariate::StrokeEvent,
    ];

    /// The covariate's name in the ESM tables, the COMPAR-EU port and the coefficient file
    /// (`models/data/ukpds_om2_coefficients.csv`), e.g. `AGE.DIAG`, `eGFR60less`.
    pub const fn name(self) -> &'static str {
        match self {
            Covariate::AgeAtDiagnosis => "AGE.DIAG",
            Covariate::CurrentAge => "CURR.AGE",
            Covariate::DiabetesDuration => "YEAR",
            Covariate::Female => "FEMALE",
            Covariate::AfroCaribbean => "AFRO",
            Covariate::AsianIndian => "INDIAN",
            Covariate::Smoker => "SMOKER",
            Covariate::AtrialFibrillation => "ATFIB",
            Covariate::Pvd => "PVD",
            Covariate::Albuminuria => "MMALB",
            Covariate::Hba1c => "HbA1c",
            Covariate::Sbp => "SBP",
            Covariate::Ldl => "LDL",
            Covariate::LdlSplineAbove3p5 => "LDL35more",
            Covariate::Hdl => "HDL",
            Covariate::Bmi => "BMI",
            Covariate::BmiUnderweight => "BMI1",
            Covariate::BmiOverweight => "BMI3",
            Covariate::Egfr => "eGFR",
            Covariate::EgfrSplineBelow60 => "eGFR60less",
            Covariate::EgfrSplineAbove60 => "eGFR60more",
            Covariate::HeartRate => "HEART.R",
            Covariate::Wbc => "WBC",
            Covariate::Haemoglobin => "HAEM",
            Covariate::AmputationHistory => "AMP.HIST",
            Covariate::BlindnessHistory => "BLIND.HIST",
            Covariate::ChfHistory => "CHF.HIST",
            Covariate::IhdHistory => "IHD.HIST",
            Covariate::MiHistory => "MI.HIST",
            Covariate::StrokeHistory => "STROKE.HIST",
            Covariate::UlcerHistory => "ULCER.HIST",
            Covariate::EsrdHistory => "RENAL.HIST",
            Covariate::FirstAmputationEvent => "AMP1.EVENT",
            Covariate::SecondAmputationEvent => "AMP2.EVENT",
            Covariate::IhdEvent => "IHD.EVENT",
            Covariate::MiEvent => "MI.EVENT",
            Covariate::EsrdEvent => "RENAL.EVENT",
            Covariate::StrokeEvent => "STROKE.EVENT",
        }
    }

    /// The covariate's value for one patient, as it enters Xβ.
    pub fn value(self, c: &Om2Covariates) -> f64 {
        match self {
            Covariate::AgeAtDiagnosis => c.age_at_diagnosis_years,
            Covariate::CurrentAge => c.current_age_years(),
            Covariate::DiabetesDuration => c.diabetes_duration_years,
            Covariate::Female => indicator(c.female),
            Covariate::AfroCaribbean => indicator(c.afro_caribbean),
            Covariate::AsianIndian => indicator(c.asian_indian),
            Covariate::Smoker => indicator(c.smoker),
            Covariate::AtrialFibrillation => indicator(c.atrial_fibrillation),
            Covariate::Pvd => indicator(c.pvd),
            Covariate::Albuminuria => indicator(c.albuminuria),
            Covariate::Hba1c => c.hba1c_pct,
            Covariate::Sbp => c.sbp_mmhg_div10,
            Covariate::Ldl => c.ldl_mmol_l_x10,
            Covariate::LdlSplineAbove3p5 => ldl_spline_above_3p5(c.ldl_mmol_l_x10),
            Covariate::Hdl => c.hdl_mmol_l_x10,
            Covariate::Bmi => c.bmi_kg_m2,
            Covariate::BmiUnderweight => indicator(c.bmi_kg_m2 < 18.5),
            Covariate::BmiOverweight => indicator(c.bmi_kg_m2 >= 25.0),
            Covariate::Egfr => c.egfr_div10,
            Covariate::EgfrSplineBelow60 => egfr_spline_below_60(c.egfr_div10),
            Covariate::EgfrSplineAbove60 => egfr_spline_above_60(c.egfr_div10),
            Covariate::HeartRate => c.heart_rate_bpm_div10,
            Covariate::Wbc => c.wbc_10e9_per_l,
            Covariate::Haemoglobin => c.haemoglobin_g_dl,
            Covariate::AmputationHistory => indicator(c.amputation_history),
            Covariate::BlindnessHistory => indicator(c.blindness_history),
            Covariate::ChfHistory => indicator(c.chf_history),
            Covariate::IhdHistory => indicator(c.ihd_history),
            Covariate::MiHistory => indicator(c.mi_history),
            Covariate::StrokeHistory => indicator(c.stroke_history),
            Covariate::UlcerHistory => indicator(c.ulcer_history),
            Covariate::EsrdHistory => indicator(c.esrd_history),
            Covariate::FirstAmputationEvent => indicator(c.first_amputation_event),
            Covariate::SecondAmputationEvent => indicator(c.second_amputation_event),
            Covariate::IhdEvent => indicator(c.ihd_event),
            Covariate::MiEvent => indicator(c.mi_event),
            Covariate::EsrdEvent => indicator(c.esrd_event),
            Covariate::StrokeEvent => indicator(c.stroke_event),
        }
    }
}
