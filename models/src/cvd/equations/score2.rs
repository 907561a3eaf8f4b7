//! SCORE2: 10-year risk of cardiovascular death, non-fatal MI or non-fatal stroke in
//! apparently healthy people aged 40–69 in Europe (SCORE2 working group and ESC
//! Cardiovascular risk collaboration, Eur Heart J 2021;42:2439–2454, supplementary tables:
//! sex-specific coefficients and baseline survival, and the recalibration scales per risk
//! region) [V: the coefficient object found by the search `const coefficients = {Male:
//! [0.3742…` and Keyoniq-techdev/nova_condition_risk_calculators `score2/`; diabetes_cvd.md
//! §1.4; every β and S0, diabetes terms included, agree with a second transcription labelled
//! "SCORE2 paper Supplementary methods Table 2 (Log SHR)" in a Python port (adacvd)]. The
//! worked examples exercise neither diabetes term. There is no recalibration for Japan.
//!
//! x = Σβ·[cage = (age − 60)/5, smoker, csbp = (SBP − 120)/20, diabetes, ctc = TC − 6,
//! chdl = (HDL − 1.3)/0.5 (mmol/L), cage·smoker, cage·csbp, cage·ctc, cage·chdl, cage·DM];
//! uncalibrated = 1 − S0^exp(x); calibrated = 1 − exp(−exp(s1 + s2·ln(−ln(1 − uncal)))).

use super::{indicator, push_range, Field, RiskInput, Score2Region, Warning};
use engine::math::DetMath;
use engine::units::{cholesterol_mg_dl, cholesterol_mmol_l};

/// Coefficients in the order of the module docs, and the baseline survival [V].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Score2Coefficients {
    pub beta: [f64; 11],
    pub s0: f64,
    /// (scale1, scale2) for the low, moderate, high and very-high risk regions.
    pub recalibration: [(f64, f64); 4],
}

pub const MEN: Score2Coefficients = Score2Coefficients {
    beta: [
        0.3742, 0.6012, 0.2777, 0.6457, 0.1458, -0.2698, -0.0755, -0.0255, -0.0281, 0.0426, -0.0983,
    ],
    s0: 0.9605,
    recalibration: [
        (-0.5699, 0.7476),
        (-0.1565, 0.8009),
        (0.3207, 0.9360),
        (0.5836, 0.8294),
    ],
};

pub const WOMEN: Score2Coefficients = Score2Coefficients {
    beta: [
        0.4648, 0.7744, 0.3131, 0.8096, 0.1002, -0.2606, -0.1088, -0.0277, -0.0226, 0.0613, -0.1272,
    ],
    s0: 0.9776,
    recalibration: [
        (-0.7380, 0.7019),
        (-0.3143, 0.7701),
        (0.5710, 0.9369),
        (0.9412, 0.8329),
    ],
};

fn region_index(region: Score2Region) -> usize {
    match region {
        Score2Region::Low => 0,
        Score2Region::Moderate => 1,
        Score2Region::High => 2,
        Score2Region::VeryHigh => 3,
    }
}

/// The linear predictor x of the module docs.
#[inline]
pub fn linear_predictor(x: &RiskInput) -> f64 {
    let c = if x.male() { &MEN } else { &WOMEN };
    let cage = (x.age_years - 60.0) / 5.0;
    let smk = indicator(x.smoker);
    let csbp = (x.sbp_mmhg - 120.0) / 20.0;
    let dm = indicator(x.diabetes);
    let ctc = cholesterol_mmol_l(x.tc_mg_dl) - 6.0;
    let chdl = (cholesterol_mmol_l(x.hdl_mg_dl) - 1.3) / 0.5;
    let terms = [
        cage,
        smk,
        csbp,
        dm,
        ctc,
        chdl,
        cage * smk,
        cage * csbp,
        cage * ctc,
        cage * chdl,
        cage * dm,
    ];
    terms.iter().zip(c.beta.iter()).map(|(t, b)| t * b).sum()
}

/// The uncalibrated 10-year risk 1 − S0^exp(x) (the derivation cohorts' average).
#[inline]
pub fn uncalibrated_10y(x: &RiskInput) -> f64 {
    let c = if x.male() { &MEN } else { &WOMEN };
    super::cox_risk(c.s0, linear_predictor(x))
}

/// SCORE2 10-year risk (fraction), recalibrated to `region`.
#[inline]
pub fn cvd_10y(x: &RiskInput, region: Score2Region) -> f64 {
    let c = if x.male() { &MEN } else { &WOMEN };
    let (s1, s2) = c.recalibration[region_index(region)];
    // ln(−ln(1 − uncal)) = ln(exp(x)·(−ln S0)) = x + ln(−ln S0), exactly.
    let cloglog = linear_predictor(x) + (-c.s0.ln_det()).ln_det();
    -(-(s1 + s2 * cloglog).exp_det()).exp_m1_det()
}

/// SCORE2's eligibility: no diabetes (SCORE2-Diabetes is a separate model), and the
/// derivation ranges of SBP and cholesterol [A: ESC calculator limits, SBP 100–200 mmHg,
/// TC 3–10 and HDL 0.5–3 mmol/L, not re-checked].
pub(super) fn warnings(x: &RiskInput, out: &mut Vec<Warning>) {
    if x.diabetes {
        out.push(Warning::Caveat(
            "SCORE2 is for people without diabetes (the ESC uses SCORE2-Diabetes); its diabetes term applied",
        ));
    }
    push_range(out, Field::Sbp, x.sbp_mmhg, 100.0, 200.0);
    push_range(
        out,
        Field::Tc,
        x.tc_mg_dl,
        cholesterol_mg_dl(3.0),
        cholesterol_mg_dl(10.0),
    );
    push_range(
        out,
        Field::Hdl,
        x.hdl_mg_dl,
        cholesterol_mg_dl(0.5),
        cholesterol_mg_dl(3.0),
    );
}
