//! The Japanese risk equations: Hisayama ASCVD, Suita CVD (no ECG), JALS (no ECG) and
//! EPOCH-JAPAN CVD death.
//!
//! Coefficients and point tables were read from the CRAN package **Jcvrisk** 0.1.0 (MIT;
//! github cran/Jcvrisk, `R/01_Hisayama.R`, `R/03_suita_woECG.R` at commit 37ea7c3,
//! `R/14_JALS_CVD_woECG.R`, `R/06_EPOCH_CVD.R`), which implements the published scores; the
//! papers' abstracts were read for the outcomes and age ranges [V]. Three places where this
//! file departs from that port on purpose, because the port's R conditions leave gaps for
//! non-integer readings or order its tests so that the lower category wins:
//!
//! 1. **Suita blood pressure** is the higher of the SBP and DBP categories with no gaps
//!    (≥160 or ≥100; ≥140 or ≥90; ≥120 or ≥80; else optimal). The port tests
//!    `sbp >= 120 & sbp < 139` and `dbp >= 80 & dbp < 89`, so SBP 139.0 with DBP < 80 scores
//!    −4 (optimal) there; it scores 0 here. Integer readings other than 139 and 89 agree.
//! 2. **Suita age < 30** scores 0 (the 30–39 band), as the port's documentation says; its
//!    code falls through to 29 points. Ages ≥ 80 take the 75–79 band in both.
//! 3. **JALS blood pressure** is also the higher of the two categories: the port tests the
//!    lower bands first, so SBP 135 with DBP 95 scores as 130–139 there (3 points untreated)
//!    and as 90–99 here (4 points); the port also leaves SBP in (129, 130) and (139, 140)
//!    without a category. The 2014 JSH guideline the score is built on classifies by the
//!    higher category.
//!
//! Outside the derivation age range each function extrapolates as the port does (the
//! nearest age band; the formula as is for EPOCH-JAPAN); [`super::Equation::validity`]
//! warns about it.

use super::{cox_risk, indicator, Equation, RiskInput, Warning};
use engine::math::DetMath;

// ---------------------------------------------------------------------------------------
// Hisayama ASCVD (Honda T et al., J Atheroscler Thromb 2022;29:345–361, doi
// 10.5551/jat.61960): the simplified score and its risk function [V Jcvrisk R/01_Hisayama.R].
// Outcome: first coronary heart disease or atherothrombotic brain infarction; 2,454 residents
// aged 40–84, 24 years of follow-up [V abstract].
// ---------------------------------------------------------------------------------------

/// Baseline 10-year survival of the Hisayama score [V].
pub const HISAYAMA_S0: f64 = 0.9696;
/// Log-hazard per score point [V].
pub const HISAYAMA_PER_POINT: f64 = 0.144;
/// Centring constant of the score's linear predictor [V].
pub const HISAYAMA_CENTRE: f64 = 2.4767;

/// The Hisayama ASCVD score (0–34 points, age included).
#[inline]
pub fn hisayama_points(x: &RiskInput) -> i32 {
    let sex = if x.male() { 7 } else { 0 };
    let sbp = band(x.sbp_mmhg, &[120.0, 130.0, 140.0, 160.0], &[0, 1, 2, 3, 4]);
    let hdl = band(x.hdl_mg_dl, &[40.0, 60.0], &[2, 1, 0]);
    let ldl = band(x.ldl_mg_dl, &[120.0, 140.0, 160.0], &[0, 1, 2, 3]);
    let age = band(x.age_years, &[50.0, 60.0, 70.0, 80.0], &[0, 5, 11, 16, 20]);
    sex + sbp
        + hdl
        + ldl
        + age
        + if x.proteinuria { 4 } else { 0 }
        + if x.diabetes { 3 } else { 0 }
        + if x.smoker { 2 } else { 0 }
        + if x.regular_exercise { 0 } else { 2 }
}

/// 10-year risk of a first ASCVD event from a Hisayama score:
/// 1 − 0.9696^exp(0.144·score − 2.4767).
#[inline]
pub fn hisayama_risk_from_points(points: i32) -> f64 {
    cox_risk(
        HISAYAMA_S0,
        HISAYAMA_PER_POINT * f64::from(points) - HISAYAMA_CENTRE,
    )
}

/// Hisayama 10-year ASCVD risk (fraction).
#[inline]
pub fn hisayama_ascvd_10y(x: &RiskInput) -> f64 {
    hisayama_risk_from_points(hisayama_points(x))
}

// ---------------------------------------------------------------------------------------
// Suita CVD score without ECG (Nakai M et al., J Atheroscler Thromb 2020;27:1160–1175, doi
// 10.5551/jat.48843) [V Jcvrisk R/03_suita_woECG.R, commit 37ea7c3, where the 4 points go to
// men; the first commit gave them to women]. Outcome: first stroke or CHD, 10 years; ages
// 30–79 [V Jcvrisk man page].
// ---------------------------------------------------------------------------------------

/// The Suita CVD score without ECG.
#[inline]
pub fn suita_points(x: &RiskInput) -> i32 {
    let age = band(
        x.age_years,
        &[40.0, 50.0, 60.0, 65.0, 70.0, 75.0],
        &[0, 8, 14, 18, 22, 26, 29],
    );
    let sex = if x.male() { 4 } else { 0 };
    let bp = if x.sbp_mmhg >= 160.0 || x.dbp_mmhg >= 100.0 {
        6
    } else if x.sbp_mmhg >= 140.0 || x.dbp_mmhg >= 90.0 {
        3
    } else if x.sbp_mmhg >= 120.0 || x.dbp_mmhg >= 80.0 {
        0
    } else {
        -4
    };
    let hdl = band(x.hdl_mg_dl, &[40.0, 60.0], &[0, -2, -4]);
    let lipids = if x.non_hdl_mg_dl() >= 170.0 || x.ldl_mg_dl >= 140.0 {
        2
    } else {
        0
    };
    age + sex
        + bp
        + hdl
        + lipids
        + if x.proteinuria { 2 } else { 0 }
        + if x.diabetes { 7 } else { 0 }
        + if x.smoker { 4 } else { 0 }
}

/// 10-year CVD risk for a Suita score: the published risk categories (≤0: 1 %, 1–20: 2 %,
/// 21–25: 6 %, 26–30: 9 %, 31–35: 14 %, ≥36: 25 %) [V]. A step function: the score gives
/// a category, not a continuous risk.
#[inline]
pub fn suita_risk_from_points(points: i32) -> f64 {
    match points {
        i32::MIN..=0 => 0.01,
        1..=20 => 0.02,
        21..=25 => 0.06,
        26..=30 => 0.09,
        31..=35 => 0.14,
        _ => 0.25,
    }
}

/// Suita 10-year CVD risk without ECG (fraction).
#[inline]
pub fn suita_cvd_10y(x: &RiskInput) -> f64 {
    suita_risk_from_points(suita_points(x))
}

// ---------------------------------------------------------------------------------------
// JALS score without ECG (Harada A et al., Hypertens Res 2019;42:567–579, doi
// 10.1038/s41440-019-0220-z) [V Jcvrisk R/14_JALS_CVD_woECG.R]. Outcome: death from all
// cardiovascular disease within 5 years [V abstract]; 67,969 people aged 40–89.
// ---------------------------------------------------------------------------------------

/// Blood-pressure category of the 2014 JSH guideline as JALS groups it (0 = SBP < 130 and
/// DBP < 80, 1 = 130–139 or 80–89, 2 = 140–159 or 90–99, 3 = 160–179 or 100–109,
/// 4 = ≥ 180 or ≥ 110): the higher of the SBP and DBP categories.
#[inline]
fn jals_bp_category(sbp: f64, dbp: f64) -> usize {
    let s = band(sbp, &[130.0, 140.0, 160.0, 180.0], &[0, 1, 2, 3, 4]);
    let d = band(dbp, &[80.0, 90.0, 100.0, 110.0], &[0, 1, 2, 3, 4]);
    s.max(d) as usize
}

/// JALS blood-pressure points by category, untreated and treated [V]. Treated grade II and
/// III hypertension score lower than untreated, as the paper reports.
const JALS_BP_UNTREATED: [i32; 5] = [0, 3, 4, 10, 13];
const JALS_BP_TREATED: [i32; 5] = [7, 5, 6, 8, 5];

/// The JALS score without ECG, clipped to 0–60 as the table is.
#[inline]
pub fn jals_points(x: &RiskInput) -> i32 {
    let bmi = band(x.bmi_kg_m2, &[18.5, 25.0], &[6, 0, -1]);
    let hdl = band(x.hdl_mg_dl, &[40.0, 60.0], &[3, -1, 0]);
    let bp_table = if x.bp_treated {
        &JALS_BP_TREATED
    } else {
        &JALS_BP_UNTREATED
    };
    let bp = bp_table[jals_bp_category(x.sbp_mmhg, x.dbp_mmhg)];
    let egfr = band(x.egfr_ml_min, &[45.0, 60.0, 90.0], &[11, 2, 0, 1]);
    let total = bmi
        + hdl
        + bp
        + egfr
        + if x.diabetes { 4 } else { 0 }
        + if x.male() { 6 } else { 0 }
        + if x.smoker { 9 } else { 0 };
    total.clamp(0, 60)
}

/// 5-year absolute risk (%) of CVD death by JALS score 0–60, one row per age decade
/// 40–49 … 80–89 [V Jcvrisk R/14_JALS_CVD_woECG.R]. (3.14 and 6.28 are table entries,
/// not π and τ.)
#[rustfmt::skip]
#[allow(clippy::approx_constant)]
pub const JALS_RISK_PCT: [[f64; 61]; 5] = [
    [0.07, 0.07, 0.08, 0.08, 0.09, 0.09, 0.10, 0.11, 0.11, 0.12,
     0.13, 0.14, 0.15, 0.16, 0.17, 0.19, 0.20, 0.21, 0.23, 0.25,
     0.26, 0.28, 0.30, 0.32, 0.35, 0.37, 0.40, 0.43, 0.46, 0.49,
     0.52, 0.56, 0.60, 0.65, 0.69, 0.74, 0.79, 0.85, 0.91, 0.98,
     1.05, 1.12, 1.20, 1.29, 1.38, 1.48, 1.58, 1.70, 1.82, 1.94,
     2.08, 2.23, 2.39, 2.56, 2.74, 2.93, 3.14, 3.36, 3.60, 3.85, 4.12],
    [0.10, 0.11, 0.11, 0.12, 0.13, 0.14, 0.15, 0.16, 0.17, 0.19,
     0.20, 0.21, 0.23, 0.25, 0.26, 0.28, 0.30, 0.32, 0.35, 0.37,
     0.40, 0.43, 0.46, 0.49, 0.53, 0.56, 0.60, 0.65, 0.69, 0.74,
     0.80, 0.85, 0.91, 0.98, 1.05, 1.12, 1.21, 1.29, 1.38, 1.48,
     1.59, 1.70, 1.82, 1.95, 2.09, 2.24, 2.40, 2.57, 2.75, 2.94,
     3.15, 3.37, 3.61, 3.86, 4.13, 4.42, 4.73, 5.07, 5.42, 5.80, 6.20],
    [0.20, 0.22, 0.23, 0.25, 0.27, 0.29, 0.31, 0.33, 0.35, 0.38,
     0.40, 0.43, 0.46, 0.50, 0.53, 0.57, 0.61, 0.66, 0.70, 0.75,
     0.81, 0.86, 0.93, 0.99, 1.06, 1.14, 1.22, 1.31, 1.40, 1.50,
     1.61, 1.72, 1.84, 1.98, 2.12, 2.27, 2.43, 2.60, 2.78, 2.98,
     3.19, 3.41, 3.66, 3.91, 4.19, 4.48, 4.79, 5.13, 5.49, 5.87,
     6.28, 6.71, 7.18, 7.67, 8.20, 8.76, 9.36, 10.00, 10.67, 11.40, 12.16],
    [0.75, 0.80, 0.86, 0.92, 0.99, 1.06, 1.13, 1.21, 1.30, 1.39,
     1.49, 1.60, 1.71, 1.83, 1.96, 2.10, 2.25, 2.41, 2.58, 2.77,
     2.96, 3.17, 3.39, 3.63, 3.89, 4.16, 4.45, 4.77, 5.10, 5.45,
     5.83, 6.24, 6.67, 7.13, 7.63, 8.15, 8.71, 9.30, 9.94, 10.61,
     11.33, 12.09, 12.90, 13.76, 14.67, 15.64, 16.66, 17.74, 18.89, 20.10,
     21.37, 22.72, 24.14, 25.63, 27.19, 28.83, 30.55, 32.34, 34.21, 36.16, 38.18],
    [3.13, 3.36, 3.59, 3.84, 4.11, 4.40, 4.71, 5.04, 5.39, 5.77,
     6.17, 6.60, 7.05, 7.54, 8.06, 8.61, 9.20, 9.83, 10.50, 11.21,
     11.96, 12.76, 13.61, 14.51, 15.47, 16.49, 17.56, 18.69, 19.89, 21.16,
     22.49, 23.89, 25.37, 26.92, 28.55, 30.25, 32.03, 33.89, 35.83, 37.84,
     39.92, 42.08, 44.31, 46.60, 48.95, 51.35, 53.80, 56.30, 58.82, 61.36,
     63.91, 66.45, 68.98, 71.48, 73.94, 76.33, 78.66, 80.90, 83.04, 85.07, 86.97],
];

/// 5-year CVD-death risk (fraction) for an age and a JALS score (clipped to 0–60). Ages
/// below 40 use the 40–49 row and 90+ the 80–89 row, as the port does.
#[inline]
pub fn jals_risk_from_points(age_years: f64, points: i32) -> f64 {
    let decade = band(age_years, &[50.0, 60.0, 70.0, 80.0], &[0, 1, 2, 3, 4]) as usize;
    JALS_RISK_PCT[decade][points.clamp(0, 60) as usize] / 100.0
}

/// JALS 5-year risk of CVD death without ECG (fraction).
#[inline]
pub fn jals_cvd_death_5y(x: &RiskInput) -> f64 {
    jals_risk_from_points(x.age_years, jals_points(x))
}

// ---------------------------------------------------------------------------------------
// EPOCH-JAPAN CVD death (Li Y et al., J Atheroscler Thromb 2021;28:816–825, doi
// 10.5551/jat.58958): Cox model, 44,869 people aged 40–79 from 8 cohorts [V abstract];
// coefficients, means and S0 [V Jcvrisk R/06_EPOCH_CVD.R].
// ---------------------------------------------------------------------------------------

/// EPOCH-JAPAN CVD-death coefficients and centring values [V].
pub mod epoch {
    pub const LN_AGE: f64 = 45.54988;
    pub const SMOKER: f64 = 10.64932;
    pub const MALE: f64 = 0.30093;
    pub const LN_SBP: f64 = 33.30729;
    pub const DIABETES: f64 = 0.49413;
    pub const PROTEINURIA: f64 = 0.62120;
    pub const LN_AGE_X_LN_SBP: f64 = -7.54461;
    pub const LN_AGE_X_SMOKER: f64 = -2.41998;
    /// Cohort means the linear predictor is centred on.
    pub const MEAN_AGE: f64 = 57.0;
    pub const MEAN_SBP: f64 = 131.1;
    pub const MEAN_MALE: f64 = 0.480;
    pub const MEAN_DIABETES: f64 = 0.046;
    pub const MEAN_PROTEINURIA: f64 = 0.028;
    pub const MEAN_SMOKER: f64 = 0.267;
    /// 10-year baseline survival at the means.
    pub const S0: f64 = 0.9942;
}

#[inline]
fn epoch_linear_predictor(
    ln_age: f64,
    ln_sbp: f64,
    smoker: f64,
    male: f64,
    diabetes: f64,
    proteinuria: f64,
) -> f64 {
    use epoch::*;
    LN_AGE * ln_age
        + SMOKER * smoker
        + MALE * male
        + LN_SBP * ln_sbp
        + DIABETES * diabetes
        + PROTEINURIA * proteinuria
        + LN_AGE_X_LN_SBP * ln_age * ln_sbp
        + LN_AGE_X_SMOKER * ln_age * smoker
}

/// EPOCH-JAPAN 10-year risk of CVD death (fraction).
#[inline]
pub fn epoch_japan_cvd_death_10y(x: &RiskInput) -> f64 {
    use epoch::*;
    let person = epoch_linear_predictor(
        x.age_years.ln_det(),
        x.sbp_mmhg.ln_det(),
        indicator(x.smoker),
        indicator(x.male()),
        indicator(x.diabetes),
        indicator(x.proteinuria),
    );
    let mean = epoch_linear_predictor(
        MEAN_AGE.ln_det(),
        MEAN_SBP.ln_det(),
        MEAN_SMOKER,
        MEAN_MALE,
        MEAN_DIABETES,
        MEAN_PROTEINURIA,
    );
    cox_risk(S0, person - mean)
}

// ---------------------------------------------------------------------------------------

/// Points for `value` by band: `values[i]` for the i-th interval of `cuts` (each interval
/// closed below, open above: `value < cuts[0]` → values[0], …, `value ≥ last cut` → last).
/// `values.len()` must be `cuts.len() + 1`. NaN falls in the first band.
#[inline]
fn band(value: f64, cuts: &[f64], values: &[i32]) -> i32 {
    debug_assert_eq!(values.len(), cuts.len() + 1);
    let i = cuts.iter().take_while(|&&c| value >= c).count();
    values[i]
}

/// Soft problems specific to the Japanese equations (the age range is checked by the
/// caller).
pub(super) fn warnings(eq: Equation, x: &RiskInput, out: &mut Vec<Warning>) {
    if eq == Equation::Suita && x.bp_treated {
        // The Suita score has no treatment term: a treated person's measured pressure is
        // scored as is.
        out.push(Warning::Caveat(
            "the Suita score has no treatment term: treated blood pressure scored as measured",
        ));
    }
}
