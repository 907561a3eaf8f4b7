//! Converting a published fixed-horizon risk into the per-step event probabilities the
//! simulator draws against (docs/model.md, "Risk equations and hazard conversion").
//!
//! The assumption throughout: **between two updates of a person's risk factors the hazard
//! is piecewise constant** (constant over each step; over a whole update interval unless the
//! equation's own time shape says otherwise). Then
//!
//! - a risk R over H years corresponds to the constant hazard h = −ln(1 − R)/H per year
//!   ([`constant_hazard`]), and a step of dt years has event probability
//!   1 − exp(−h·dt) ([`step_probability`]); compounding H/dt such steps gives back R exactly
//!   ([`step_probability_from_risk`] does it in one call: 1 − (1 − R)^(dt/H));
//! - equations with a known baseline time shape get time-varying hazards instead:
//!   the UKPDS risk engine's annual hazard grows geometrically with years since diagnosis
//!   ([`UkpdsGeometric`]: q·d^(D+k) in the k-th year ahead, so the sum over years reproduces
//!   its R(T) = 1 − exp(−q·d^D·(1 − d^T)/(1 − d)) exactly), and the UKPDS Outcomes Model 2's
//!   Weibull and Gompertz equations give the exact probability over any interval
//!   ([`om2_step_probability`]: 1 − exp(H(t) − H(t + dt)) with t advanced step by step).
//!
//! **Ageing inside a fixed-horizon risk.** An equation's 10-year risk at age a covers ages a
//! to a + 10, so its constant hazard is the *average* hazard over that window, roughly the
//! hazard at a + 5. A simulator that re-evaluates the equation every year at the current age
//! and uses that constant hazard therefore runs about five years "old": for a hazard that
//! grows by a factor e^g per year of age it overstates the current hazard by the factor
//! (e^(gH) − 1)/(gH) (×1.53 at g = 0.08, a doubling every 8.7 years, H = 10). [`midpoint_age`] removes most of
//! this: evaluate the equation at age a − H/2 (other risk factors as now); for a
//! Gompertz-in-age hazard the error is then sinh(gH/2)/(gH/2) − 1 (+2.7 % at g = 0.08).
//! The tests show both numbers.
//!
//! Must never: allocate, panic or draw random numbers. Every function is a pure function of
//! its arguments; the caller decides when to refresh the hazard (once a year or when a risk
//! factor changes) and caches it.

use crate::diabetes::ukpds_om2::{interval_probability, Form, Om2Covariates, Om2Equation};
use engine::math::DetMath;

/// The constant hazard per year that yields risk `risk` over `horizon_years`:
/// h = −ln(1 − R)/H. R = 1 gives +∞; R ≤ 0 gives 0.
#[inline]
pub fn constant_hazard(risk: f64, horizon_years: f64) -> f64 {
    if risk <= 0.0 {
        0.0
    } else {
        -(-risk).ln_1p_det() / horizon_years
    }
}

/// The age at which to evaluate a fixed-horizon equation so that its constant hazard
/// estimates the hazard at `age_years` rather than the average over the next
/// `horizon_years`: the window's midpoint then falls on the current age (module docs).
/// Ages below an equation's derivation range are extrapolations, as they are for any caller.
#[inline]
pub fn midpoint_age(age_years: f64, horizon_years: f64) -> f64 {
    age_years - 0.5 * horizon_years
}

/// The probability of an event within a step of `dt_years` at a constant hazard
/// `hazard_per_year`: 1 − exp(−h·dt).
#[inline]
pub fn step_probability(hazard_per_year: f64, dt_years: f64) -> f64 {
    -(-hazard_per_year * dt_years).exp_m1_det()
}

/// The per-step probability that, compounded over the horizon, reproduces `risk`:
/// 1 − (1 − R)^(dt/H), i.e. [`step_probability`] of [`constant_hazard`].
#[inline]
pub fn step_probability_from_risk(risk: f64, horizon_years: f64, dt_years: f64) -> f64 {
    step_probability(constant_hazard(risk, horizon_years), dt_years)
}

/// The cumulative probability of an event over consecutive steps with per-step
/// probabilities `p`: 1 − Π(1 − pᵢ). (For tests and summaries; the simulator draws each step.)
pub fn cumulative_probability(p: impl IntoIterator<Item = f64>) -> f64 {
    // Σ ln(1 − pᵢ) keeps tiny per-step probabilities accurate.
    let log_survival: f64 = p.into_iter().map(|pi| (-pi).ln_1p_det()).sum();
    -log_survival.exp_m1_det()
}

/// A UKPDS-risk-engine hazard: q·d^τ at τ whole years after diagnosis, constant within
/// each year of the forecast (the engine's R(T) sums these annual hazards).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct UkpdsGeometric {
    /// The hazard per year at diagnosis for this person's risk factors.
    pub q: f64,
    /// The hazard ratio per year since diagnosis.
    pub d: f64,
    /// Years since diagnosis at the time the forecast starts.
    pub years_since_dx: f64,
}

impl UkpdsGeometric {
    /// UKPDS 56 CHD for a person.
    pub fn chd(x: &crate::cvd::equations::RiskInput) -> Self {
        use crate::cvd::equations::ukpds_engine as e;
        UkpdsGeometric {
            q: e::chd_q(x),
            d: e::chd::D,
            years_since_dx: x.years_since_dm_dx,
        }
    }

    /// UKPDS 60 stroke for a person.
    pub fn stroke(x: &crate::cvd::equations::RiskInput) -> Self {
        use crate::cvd::equations::ukpds_engine as e;
        UkpdsGeometric {
            q: e::stroke_q(x),
            d: e::stroke::D,
            years_since_dx: x.years_since_dm_dx,
        }
    }

    /// The hazard per year in force `years_ahead` years into the forecast: q·d^(D + k) with
    /// k = ⌊years_ahead⌋. A simulator that refreshes the person once a year calls this with
    /// `years_ahead = 0` and the current D.
    #[inline]
    pub fn hazard(&self, years_ahead: f64) -> f64 {
        self.q
            * self
                .d
                .powf_det(self.years_since_dx + years_ahead.max(0.0).floor())
    }

    /// Risk over `horizon_years` (whole years): the engine's R(T).
    #[inline]
    pub fn risk(&self, horizon_years: f64) -> f64 {
        let h = crate::cvd::equations::ukpds_engine::cumulative_hazard(
            self.q,
            self.d,
            self.years_since_dx,
            horizon_years,
        );
        -(-h).exp_m1_det()
    }
}

/// The probability of an OM2 event in a step of `dt_years` starting `elapsed_years` after
/// the covariates `c` were recorded (risk factors held): for the Weibull and Gompertz
/// equations, 1 − exp(H(t) − H(t + dt)) with duration and age advanced by `elapsed_years`,
/// so the steps of a year compound exactly to the annual probability; for the logistic
/// equations (ulcer, death in an event year), whose fitted probability belongs to the year
/// as recorded, 1 − (1 − p)^dt with p that year's probability.
#[inline]
pub fn om2_step_probability(
    eq: &Om2Equation,
    c: &Om2Covariates,
    elapsed_years: f64,
    dt_years: f64,
) -> f64 {
    if eq.form == Form::Logistic {
        return interval_probability(eq, c, dt_years);
    }
    let shifted = Om2Covariates {
        diabetes_duration_years: c.diabetes_duration_years + elapsed_years,
        ..*c
    };
    interval_probability(eq, &shifted, dt_years)
}
