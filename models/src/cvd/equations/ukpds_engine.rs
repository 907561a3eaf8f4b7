//! UKPDS risk engine: risk of a first coronary heart disease event (UKPDS 56: Stevens RJ et
//! al., Clin Sci 2001;101:671–679) and of a first stroke (UKPDS 60: Kothari V et al.,
//! Stroke 2002;33:1776–1781) in people with type 2 diabetes without prior CVD [V: gmp26/UKPDS
//! `src/org/understandinguncertainty/UKPDS/model/UKPDSParameters.as`; diabetes_cvd.md §1.7].
//!
//! Both are proportional-hazards models whose hazard grows geometrically with time since
//! diagnosis: q·d^τ per year in year τ after diagnosis, with q a product of the person's
//! risk factors (age at diagnosis, sex, ethnicity, smoking, HbA1c, SBP, lipid ratio, AF).
//! The risk of an event within T years for someone D years after diagnosis is
//!
//! ```text
//! R(T) = 1 − exp(−q·d^D·(1 − d^T)/(1 − d))
//! ```
//!
//! i.e. the sum of the annual hazards q·d^(D+k) for k = 0 … T − 1: the engine treats the
//! hazard as constant within each year of the forecast (`cvd::hazard::UkpdsGeometric`
//! gives those annual hazards to the simulator).
//!
//! Disagreement between sources: the stroke model's age-at-diagnosis ratio is 1.092 per year
//! in the risk engine's spreadsheet (used here) and 1.145 in gmp26's reading of the paper
//! (1.145 is also the duration ratio d, which makes a transcription slip likely) [V both in
//! the gmp26 source comment; the paper was not read]. Japanese patients: the engine
//! over-predicts CHD (observed/predicted 0.30) and stroke (0.72) in JDCS/J-EDIT (Tanaka
//! 2013, Diabetes Care 36:1193) [V abstract]; the simulator applies its own recalibration.

use super::{indicator, push_range, Field, RiskInput, Warning};
use engine::math::DetMath;

/// UKPDS 56 CHD coefficients (hazard ratios) [V].
pub mod chd {
    pub const Q0: f64 = 0.0112;
    /// Per year of age at diagnosis above 55.
    pub const AGE_AT_DX: f64 = 1.059;
    pub const FEMALE: f64 = 0.525;
    pub const AFRO_CARIBBEAN: f64 = 0.390;
    pub const SMOKER: f64 = 1.350;
    /// Per 1 % HbA1c above 6.72.
    pub const HBA1C: f64 = 1.183;
    /// Per 10 mmHg SBP above 135.7.
    pub const SBP_PER_10: f64 = 1.088;
    /// Per unit of ln(TC/HDL) above 1.59.
    pub const LN_LIPID_RATIO: f64 = 3.845;
    /// Hazard ratio per year since diagnosis.
    pub const D: f64 = 1.078;
}

/// UKPDS 60 stroke coefficients (hazard ratios) [V].
pub mod stroke {
    pub const Q0: f64 = 0.00186;
    pub const AGE_AT_DX: f64 = 1.092;
    pub const FEMALE: f64 = 0.700;
    pub const SMOKER: f64 = 1.547;
    pub const ATRIAL_FIBRILLATION: f64 = 8.554;
    /// Per 10 mmHg SBP above 135.5.
    pub const SBP_PER_10: f64 = 1.122;
    /// Per unit of TC/HDL above 5.11.
    pub const LIPID_RATIO: f64 = 1.138;
    pub const D: f64 = 1.145;
}

/// CHD: the hazard per year at diagnosis, q.
#[inline]
pub fn chd_q(x: &RiskInput) -> f64 {
    use chd::*;
    let ratio = x.tc_mg_dl / x.hdl_mg_dl;
    Q0 * AGE_AT_DX.powf_det(x.age_at_dm_dx() - 55.0)
        * FEMALE.powf_det(indicator(!x.male()))
        * AFRO_CARIBBEAN.powf_det(indicator(x.ethnicity.is_black()))
        * SMOKER.powf_det(indicator(x.smoker))
        * HBA1C.powf_det(x.hba1c_pct - 6.72)
        * SBP_PER_10.powf_det((x.sbp_mmhg - 135.7) / 10.0)
        * LN_LIPID_RATIO.powf_det(ratio.ln_det() - 1.59)
}

/// Stroke: the hazard per year at diagnosis, q.
#[inline]
pub fn stroke_q(x: &RiskInput) -> f64 {
    use stroke::*;
    let ratio = x.tc_mg_dl / x.hdl_mg_dl;
    Q0 * AGE_AT_DX.powf_det(x.age_at_dm_dx() - 55.0)
        * FEMALE.powf_det(indicator(!x.male()))
        * SMOKER.powf_det(indicator(x.smoker))
        * ATRIAL_FIBRILLATION.powf_det(indicator(x.atrial_fibrillation))
        * SBP_PER_10.powf_det((x.sbp_mmhg - 135.5) / 10.0)
        * LIPID_RATIO.powf_det(ratio - 5.11)
}

/// Cumulative hazard over `horizon` years starting `duration` years after diagnosis:
/// Σ_{k<T} q·d^(D+k) = q·d^D·(1 − d^T)/(1 − d) (the engine's formula; for non-integer T it
/// is the formula as published, not a sum).
#[inline]
pub fn cumulative_hazard(q: f64, d: f64, duration: f64, horizon: f64) -> f64 {
    q * d.powf_det(duration) * (d.powf_det(horizon) - 1.0) / (d - 1.0)
}

/// Risk of a first CHD event within `horizon_years` (fraction).
#[inline]
pub fn chd_risk(x: &RiskInput, horizon_years: f64) -> f64 {
    let h = cumulative_hazard(chd_q(x), chd::D, x.years_since_dm_dx, horizon_years);
    -(-h).exp_m1_det()
}

/// Risk of a first stroke within `horizon_years` (fraction).
#[inline]
pub fn stroke_risk(x: &RiskInput, horizon_years: f64) -> f64 {
    let h = cumulative_hazard(stroke_q(x), stroke::D, x.years_since_dm_dx, horizon_years);
    -(-h).exp_m1_det()
}

/// UKPDS recruited newly diagnosed patients aged 25–65 [A: UKPDS design, from memory], so
/// an age at diagnosis outside that is an extrapolation; HbA1c and SBP far from the UKPDS
/// range get a warning too [A: limits from memory, HbA1c 4–16 %, SBP 90–250 mmHg].
pub(super) fn warnings(x: &RiskInput, out: &mut Vec<Warning>) {
    push_range(out, Field::AgeAtDmDx, x.age_at_dm_dx(), 25.0, 65.0);
    push_range(out, Field::Hba1c, x.hba1c_pct, 4.0, 16.0);
    push_range(out, Field::Sbp, x.sbp_mmhg, 90.0, 250.0);
}
