//! AHA PREVENT base model, 10-year total CVD (Khan SS et al., Circulation 2024;149:430–449,
//! supplement Table S12A) [V: bcjaeger/PooledCohort `R/prevent.R` and its coefficient
//! tables; diabetes_cvd.md §1.3]. Outcome: ASCVD or heart failure. Race-free; derived in
//! 3.3 million US adults aged 30–79.
//!
//! A logistic model: risk = 1/(1 + e^−x), with the transforms
//! a = (age − 55)/10, nonHDL = 0.02586·(TC − HDL) − 3.5 (mmol/L), hdl = (0.02586·HDL − 1.3)/0.3,
//! sbpL = (min(SBP, 110) − 110)/20, sbpH = (max(SBP, 110) − 130)/20,
//! egfrL = (60 − min(eGFR, 60))/15, egfrH = (90 − max(eGFR, 60))/15.
//! BMI enters only the heart-failure model, so not here.

use super::{indicator, push_range, Field, RiskInput, Warning};
use engine::math::DetMath;

/// Table S12A total-CVD coefficients for one sex [V].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PreventCoefficients {
    pub constant: f64,
    pub age: f64,
    pub non_hdl: f64,
    pub hdl: f64,
    pub sbp_low: f64,
    pub sbp_high: f64,
    pub diabetes: f64,
    pub smoker: f64,
    pub egfr_low: f64,
    pub egfr_high: f64,
    pub bp_treated: f64,
    pub statin: f64,
    pub bp_treated_x_sbp_high: f64,
    pub statin_x_non_hdl: f64,
    pub age_x_non_hdl: f64,
    pub age_x_hdl: f64,
    pub age_x_sbp_high: f64,
    pub age_x_diabetes: f64,
    pub age_x_smoker: f64,
    pub age_x_egfr_low: f64,
}

pub const WOMEN: PreventCoefficients = PreventCoefficients {
    constant: -3.307728,
    age: 0.7939329,
    non_hdl: 0.0305239,
    hdl: -0.1606857,
    sbp_low: -0.2394003,
    sbp_high: 0.3600781,
    diabetes: 0.8667604,
    smoker: 0.5360739,
    egfr_low: 0.6045917,
    egfr_high: 0.0433769,
    bp_treated: 0.3151672,
    statin: -0.1477655,
    bp_treated_x_sbp_high: -0.0663612,
    statin_x_non_hdl: 0.1197879,
    age_x_non_hdl: -0.0819715,
    age_x_hdl: 0.0306769,
    age_x_sbp_high: -0.0946348,
    age_x_diabetes: -0.27057,
    age_x_smoker: -0.078715,
    age_x_egfr_low: -0.1637806,
};

pub const MEN: PreventCoefficients = PreventCoefficients {
    constant: -3.031168,
    age: 0.7688528,
    non_hdl: 0.0736174,
    hdl: -0.0954431,
    sbp_low: -0.4347345,
    sbp_high: 0.3362658,
    diabetes: 0.7692857,
    smoker: 0.4386871,
    egfr_low: 0.5378979,
    egfr_high: 0.0164827,
    bp_treated: 0.288879,
    statin: -0.1337349,
    bp_treated_x_sbp_high: -0.0475924,
    statin_x_non_hdl: 0.150273,
    age_x_non_hdl: -0.0517874,
    age_x_hdl: 0.0191169,
    age_x_sbp_high: -0.1049477,
    age_x_diabetes: -0.2251948,
    age_x_smoker: -0.0895067,
    age_x_egfr_low: -0.1543702,
};

/// mmol/L per mg/dL as PREVENT writes it (1/38.67) [V].
const MMOL_PER_MG: f64 = 0.02586;

/// The log-odds of 10-year total CVD.
#[inline]
pub fn log_odds(x: &RiskInput) -> f64 {
    let c = if x.male() { &MEN } else { &WOMEN };
    let a = (x.age_years - 55.0) / 10.0;
    let non_hdl = MMOL_PER_MG * (x.tc_mg_dl - x.hdl_mg_dl) - 3.5;
    let hdl = (MMOL_PER_MG * x.hdl_mg_dl - 1.3) / 0.3;
    let sbp_low = (x.sbp_mmhg.min(110.0) - 110.0) / 20.0;
    let sbp_high = (x.sbp_mmhg.max(110.0) - 130.0) / 20.0;
    let egfr_low = (60.0 - x.egfr_ml_min.min(60.0)) / 15.0;
    let egfr_high = (90.0 - x.egfr_ml_min.max(60.0)) / 15.0;
    let dm = indicator(x.diabetes);
    let smk = indicator(x.smoker);
    let bp_rx = indicator(x.bp_treated);
    let statin = indicator(x.statin);
    c.constant
        + c.age * a
        + c.non_hdl * non_hdl
        + c.hdl * hdl
        + c.sbp_low * sbp_low
        + c.sbp_high * sbp_high
        + c.diabetes * dm
        + c.smoker * smk
        + c.egfr_low * egfr_low
        + c.egfr_high * egfr_high
        + c.bp_treated * bp_rx
        + c.statin * statin
        + c.bp_treated_x_sbp_high * bp_rx * sbp_high
        + c.statin_x_non_hdl * statin * non_hdl
        + c.age_x_non_hdl * a * non_hdl
        + c.age_x_hdl * a * hdl
        + c.age_x_sbp_high * a * sbp_high
        + c.age_x_diabetes * a * dm
        + c.age_x_smoker * a * smk
        + c.age_x_egfr_low * a * egfr_low
}

/// PREVENT base 10-year total CVD risk (fraction).
#[inline]
pub fn cvd_10y(x: &RiskInput) -> f64 {
    1.0 / (1.0 + (-log_odds(x)).exp_det())
}

/// PREVENT's accepted ranges: TC 130–320, HDL 20–100 mg/dL, SBP 90–200 mmHg, eGFR 15–140
/// [V bcjaeger/PooledCohort `R/prevent.R` input bounds, which follow the PREVENT calculator].
pub(super) fn warnings(x: &RiskInput, out: &mut Vec<Warning>) {
    push_range(out, Field::Tc, x.tc_mg_dl, 130.0, 320.0);
    push_range(out, Field::Hdl, x.hdl_mg_dl, 20.0, 100.0);
    push_range(out, Field::Sbp, x.sbp_mmhg, 90.0, 200.0);
    push_range(out, Field::Egfr, x.egfr_ml_min, 15.0, 140.0);
}
