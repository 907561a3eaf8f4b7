//! Unit conversions shared by the importers (`cohort`) and the models (`models`): one place
//! for every factor, with its derivation. [D] = derived from molar masses; [V] = read in the
//! named source; exact = by definition of the unit. (Metric prefixes — g → kg, mm → cm —
//! are written where they are used.)
//!
//! Canonical units of the patient state ([`crate::Covariates`]): glucose and cholesterol in
//! mg/dL, HbA1c in % (NGSP/DCCT), creatinine in mg/dL, blood pressure in mmHg, BMI in kg/m².

/// mg/dL of glucose per mmol/L [D] (C6H12O6, 180.16 g/mol).
pub const GLUCOSE_MG_DL_PER_MMOL_L: f64 = 18.016;

/// mg/dL of cholesterol (total, HDL, LDL, non-HDL) per mmol/L [D] (C27H46O): 1 mmol/L ×
/// 386.65 g/mol / 10 = 38.665 mg/dL, rounded as the guidelines and PREVENT (0.02586 ≈ 1/38.67) round it
/// [V Khan 2024 supplement].
pub const CHOLESTEROL_MG_DL_PER_MMOL_L: f64 = 38.67;

/// mg/dL of triglyceride per mmol/L [D] (as triolein, 885.7 g/mol).
pub const TRIGLYCERIDE_MG_DL_PER_MMOL_L: f64 = 88.57;

/// µmol/L of creatinine per mg/dL [D] (C4H7N3O, 113.12 g/mol).
pub const CREATININE_UMOL_L_PER_MG_DL: f64 = 88.42;

/// kg per pound (exact, by definition).
pub const KG_PER_LB: f64 = 0.453_592_37;

/// cm per inch (exact, by definition).
pub const CM_PER_IN: f64 = 2.54;

/// km/h per m/s (exact: 3600 s/h ÷ 1000 m/km).
pub const KM_H_PER_M_S: f64 = 3.6;

/// m/s per mile per hour (exact: the international mile is 1609.344 m; ÷ 3600 s/h).
pub const M_S_PER_MI_H: f64 = 0.447_04;

/// Cholesterol mmol/L → mg/dL.
#[inline]
pub fn cholesterol_mg_dl(mmol_l: f64) -> f64 {
    mmol_l * CHOLESTEROL_MG_DL_PER_MMOL_L
}

/// Cholesterol mg/dL → mmol/L.
#[inline]
pub fn cholesterol_mmol_l(mg_dl: f64) -> f64 {
    mg_dl / CHOLESTEROL_MG_DL_PER_MMOL_L
}

/// Glucose mmol/L → mg/dL.
#[inline]
pub fn glucose_mg_dl(mmol_l: f64) -> f64 {
    mmol_l * GLUCOSE_MG_DL_PER_MMOL_L
}

/// HbA1c JDS (%) → NGSP (%): NGSP = 1.02 × JDS + 0.25 [V] (Japan Diabetes Society 2012
/// conversion, as published with the MHLW 特定健診 change to NGSP; JDS + 0.4 is its rounding).
#[inline]
pub fn hba1c_jds_to_ngsp(jds_pct: f64) -> f64 {
    1.02 * jds_pct + 0.25
}

/// HbA1c IFCC (mmol/mol) → NGSP (%): NGSP = 0.09148 × IFCC + 2.152 [V] (NGSP/IFCC master
/// equation, ngsp.org "IFCC Standardization of HbA1c"; Hoelzel et al., Clin Chem 2004;50:166).
#[inline]
pub fn hba1c_ifcc_to_ngsp(ifcc_mmol_mol: f64) -> f64 {
    0.09148 * ifcc_mmol_mol + 2.152
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn published_anchor_values() {
        // JDS 6.1 % (the old JDS diabetes cut-off) ↔ NGSP 6.5 % (JDS 2012).
        assert!((hba1c_jds_to_ngsp(6.1) - 6.472).abs() < 1e-12);
        // IFCC 48 mmol/mol ≈ NGSP 6.5 %.
        assert!((hba1c_ifcc_to_ngsp(48.0) - 6.543).abs() < 1e-3);
        // 5.0 mmol/L total cholesterol ≈ 193 mg/dL; 7.0 mmol/L glucose ≈ 126 mg/dL.
        assert!((cholesterol_mg_dl(5.0) - 193.35).abs() < 1e-9);
        assert!((glucose_mg_dl(7.0) - 126.112).abs() < 1e-9);
        assert!((cholesterol_mmol_l(cholesterol_mg_dl(4.2)) - 4.2).abs() < 1e-12);
    }
}
