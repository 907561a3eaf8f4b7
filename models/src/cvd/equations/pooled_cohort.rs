//! ACC/AHA Pooled Cohort Equations: 10-year risk of a first hard ASCVD event (non-fatal
//! MI, CHD death, fatal or non-fatal stroke). Goff DC Jr et al., 2013 ACC/AHA Guideline on
//! the Assessment of Cardiovascular Risk, Circulation 2014;129(25 Suppl 2):S49–S73, Table A
//! (coefficients, mean linear predictors, baseline survival) [V: transcribed in
//! bcjaeger/PooledCohort and the PooledCohort-style R code found by `white_men_mean_val <-
//! 61.18`; diabetes_cvd.md §1.1].
//!
//! risk = 1 − S0^exp(Σβx − mean), x = ln age, (ln age)², ln TC, ln age·ln TC, ln HDL,
//! ln age·ln HDL, ln SBP (treated or untreated), ln age·ln SBP, smoker, ln age·smoker,
//! diabetes. Four equations: white / African American × women / men. People of other
//! groups use the white equations, as the guideline advises.

use super::{cox_risk, indicator, push_range, Field, RiskInput, Warning};
use engine::math::DetMath;

/// One sex × race equation of Goff 2014 Table A [V].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PceCoefficients {
    pub ln_age: f64,
    pub ln_age_sq: f64,
    pub ln_tc: f64,
    pub ln_age_ln_tc: f64,
    pub ln_hdl: f64,
    pub ln_age_ln_hdl: f64,
    pub ln_sbp_treated: f64,
    pub ln_age_ln_sbp_treated: f64,
    pub ln_sbp_untreated: f64,
    pub ln_age_ln_sbp_untreated: f64,
    pub smoker: f64,
    pub ln_age_smoker: f64,
    pub diabetes: f64,
    /// Mean Σβx of the derivation sample.
    pub mean: f64,
    /// 10-year baseline survival.
    pub s0: f64,
}

pub const WHITE_WOMEN: PceCoefficients = PceCoefficients {
    ln_age: -29.799,
    ln_age_sq: 4.884,
    ln_tc: 13.540,
    ln_age_ln_tc: -3.114,
    ln_hdl: -13.578,
    ln_age_ln_hdl: 3.149,
    ln_sbp_treated: 2.019,
    ln_age_ln_sbp_treated: 0.0,
    ln_sbp_untreated: 1.957,
    ln_age_ln_sbp_untreated: 0.0,
    smoker: 7.574,
    ln_age_smoker: -1.665,
    diabetes: 0.661,
    mean: -29.18,
    s0: 0.9665,
};

pub const AFRICAN_AMERICAN_WOMEN: PceCoefficients = PceCoefficients {
    ln_age: 17.114,
    ln_age_sq: 0.0,
    ln_tc: 0.940,
    ln_age_ln_tc: 0.0,
    ln_hdl: -18.920,
    ln_age_ln_hdl: 4.475,
    ln_sbp_treated: 29.291,
    ln_age_ln_sbp_treated: -6.432,
    ln_sbp_untreated: 27.820,
    ln_age_ln_sbp_untreated: -6.087,
    smoker: 0.691,
    ln_age_smoker: 0.0,
    diabetes: 0.874,
    mean: 86.61,
    s0: 0.9533,
};

pub const WHITE_MEN: PceCoefficients = PceCoefficients {
    ln_age: 12.344,
    ln_age_sq: 0.0,
    ln_tc: 11.853,
    ln_age_ln_tc: -2.664,
    ln_hdl: -7.990,
    ln_age_ln_hdl: 1.769,
    ln_sbp_treated: 1.797,
    ln_age_ln_sbp_treated: 0.0,
    ln_sbp_untreated: 1.764,
    ln_age_ln_sbp_untreated: 0.0,
    smoker: 7.837,
    ln_age_smoker: -1.795,
    diabetes: 0.658,
    mean: 61.18,
    s0: 0.9144,
};

pub const AFRICAN_AMERICAN_MEN: PceCoefficients = PceCoefficients {
    ln_age: 2.469,
    ln_age_sq: 0.0,
    ln_tc: 0.302,
    ln_age_ln_tc: 0.0,
    ln_hdl: -0.307,
    ln_age_ln_hdl: 0.0,
    ln_sbp_treated: 1.916,
    ln_age_ln_sbp_treated: 0.0,
    ln_sbp_untreated: 1.809,
    ln_age_ln_sbp_untreated: 0.0,
    smoker: 0.549,
    ln_age_smoker: 0.0,
    diabetes: 0.645,
    mean: 19.54,
    s0: 0.8954,
};

/// The equation for a person: African American equations for the two Black groups, white
/// ones otherwise.
#[inline]
pub fn coefficients(x: &RiskInput) -> &'static PceCoefficients {
    match (x.male(), x.ethnicity.is_black()) {
        (false, false) => &WHITE_WOMEN,
        (false, true) => &AFRICAN_AMERICAN_WOMEN,
        (true, false) => &WHITE_MEN,
        (true, true) => &AFRICAN_AMERICAN_MEN,
    }
}

/// Σβx (not centred) for one equation.
#[inline]
pub fn linear_predictor(c: &PceCoefficients, x: &RiskInput) -> f64 {
    let ln_age = x.age_years.ln_det();
    let ln_tc = x.tc_mg_dl.ln_det();
    let ln_hdl = x.hdl_mg_dl.ln_det();
    let ln_sbp = x.sbp_mmhg.ln_det();
    let smoker = indicator(x.smoker);
    let (b_sbp, b_age_sbp) = if x.bp_treated {
        (c.ln_sbp_treated, c.ln_age_ln_sbp_treated)
    } else {
        (c.ln_sbp_untreated, c.ln_age_ln_sbp_untreated)
    };
    c.ln_age * ln_age
        + c.ln_age_sq * ln_age * ln_age
        + c.ln_tc * ln_tc
        + c.ln_age_ln_tc * ln_age * ln_tc
        + c.ln_hdl * ln_hdl
        + c.ln_age_ln_hdl * ln_age * ln_hdl
        + b_sbp * ln_sbp
        + b_age_sbp * ln_age * ln_sbp
        + c.smoker * smoker
        + c.ln_age_smoker * ln_age * smoker
        + c.diabetes * indicator(x.diabetes)
}

/// Pooled Cohort 10-year hard ASCVD risk (fraction).
#[inline]
pub fn ascvd_10y(x: &RiskInput) -> f64 {
    let c = coefficients(x);
    cox_risk(c.s0, linear_predictor(c, x) - c.mean)
}

/// The guideline's accepted ranges: TC 130–320, HDL 20–100 mg/dL, SBP 90–200 mmHg [V Goff
/// 2014, as enforced by the ACC/AHA calculator and bcjaeger/PooledCohort].
pub(super) fn warnings(x: &RiskInput, out: &mut Vec<Warning>) {
    push_range(out, Field::Tc, x.tc_mg_dl, 130.0, 320.0);
    push_range(out, Field::Hdl, x.hdl_mg_dl, 20.0, 100.0);
    push_range(out, Field::Sbp, x.sbp_mmhg, 90.0, 200.0);
    if !x.ethnicity.is_black() && x.ethnicity != super::Ethnicity::WhiteOrNotStated {
        out.push(Warning::Caveat(
            "white equations used for a group other than white or African American (guideline advice; may misestimate)",
        ));
    }
}
