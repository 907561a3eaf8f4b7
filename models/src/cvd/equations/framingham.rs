//! Framingham general cardiovascular disease, 10-year risk (D'Agostino RB Sr et al.,
//! Circulation 2008;117:743–753, Table 2 and the baseline survival in its text) [V:
//! pharmaverse admiral `compute_framingham` code (its documentation prints 2.99881 for the
//! men's treated-SBP coefficient; the code and the paper use 1.99881) and vcastro/CVrisk;
//! diabetes_cvd.md §1.2]. Outcome: CHD, cerebrovascular events, peripheral artery disease,
//! heart failure.
//!
//! risk = 1 − S0^exp(Σβx − mean), x = ln age, ln TC, ln HDL, ln SBP (treated or untreated),
//! smoker, diabetes.

use super::{cox_risk, indicator, push_range, Field, RiskInput, Warning};
use engine::math::DetMath;

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FraminghamCoefficients {
    pub ln_age: f64,
    pub ln_tc: f64,
    pub ln_hdl: f64,
    pub ln_sbp_untreated: f64,
    pub ln_sbp_treated: f64,
    pub smoker: f64,
    pub diabetes: f64,
    pub mean: f64,
    pub s0: f64,
}

pub const WOMEN: FraminghamCoefficients = FraminghamCoefficients {
    ln_age: 2.32888,
    ln_tc: 1.20904,
    ln_hdl: -0.70833,
    ln_sbp_untreated: 2.76157,
    ln_sbp_treated: 2.82263,
    smoker: 0.52873,
    diabetes: 0.69154,
    mean: 26.1931,
    s0: 0.95012,
};

pub const MEN: FraminghamCoefficients = FraminghamCoefficients {
    ln_age: 3.06117,
    ln_tc: 1.12370,
    ln_hdl: -0.93263,
    ln_sbp_untreated: 1.93303,
    ln_sbp_treated: 1.99881,
    smoker: 0.65451,
    diabetes: 0.57367,
    mean: 23.9802,
    s0: 0.88936,
};

/// Framingham 2008 10-year general CVD risk (fraction).
#[inline]
pub fn cvd_10y(x: &RiskInput) -> f64 {
    let c = if x.male() { &MEN } else { &WOMEN };
    let b_sbp = if x.bp_treated {
        c.ln_sbp_treated
    } else {
        c.ln_sbp_untreated
    };
    let lp = c.ln_age * x.age_years.ln_det()
        + c.ln_tc * x.tc_mg_dl.ln_det()
        + c.ln_hdl * x.hdl_mg_dl.ln_det()
        + b_sbp * x.sbp_mmhg.ln_det()
        + c.smoker * indicator(x.smoker)
        + c.diabetes * indicator(x.diabetes);
    cox_risk(c.s0, lp - c.mean)
}

/// The paper states no accepted ranges; these are the Framingham Heart Study online
/// calculator's limits (TC 100–405, HDL 10–100 mg/dL, SBP 90–200 mmHg) [A: from memory,
/// not re-checked].
pub(super) fn warnings(x: &RiskInput, out: &mut Vec<Warning>) {
    push_range(out, Field::Tc, x.tc_mg_dl, 100.0, 405.0);
    push_range(out, Field::Hdl, x.hdl_mg_dl, 10.0, 100.0);
    push_range(out, Field::Sbp, x.sbp_mmhg, 90.0, 200.0);
}
