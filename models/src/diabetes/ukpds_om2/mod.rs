//! The event and mortality equations of the UKPDS Outcomes Model 2, as pure functions.
//!
//! Hayes AJ, Leal J, Gray AM, Holman RR, Clarke PM. UKPDS Outcomes Model 2: a new version of
//! a model to simulate lifetime health outcomes of patients with type 2 diabetes mellitus
//! using data from the 30 year United Kingdom Prospective Diabetes Study: UKPDS 82.
//! Diabetologia 2013;56:1925–1933, doi 10.1007/s00125-013-2940-y. The coefficients are in
//! its electronic supplementary material (ESM): Table 2 defines the covariates, Table 4
//! holds the macrovascular equations (CHF, IHD, MI, stroke), Table 5 the microvascular ones
//! (blindness, ulcer, amputation, renal failure) and Table 6 the four mortality equations.
//!
//! Each equation is data ([`Om2Equation`]: a functional form, λ, ρ or φ, and a list of
//! (covariate, β) terms) evaluated against one typed record ([`Om2Covariates`]) that holds
//! every input in the paper's units and scaling. The forms, with η = λ + Xβ:
//!
//! ```text
//! Weibull      H(t) = exp(η)·t^ρ                  t = diabetes duration (years)
//! Exponential  H(t) = exp(η)·t                    (Weibull with ρ = 1)
//! Gompertz     H(a) = φ⁻¹·exp(η)·(exp(φ·a) − 1)   a = current age (years)
//! annual P = 1 − exp(H(x) − H(x + 1))
//! Logistic     annual P = 1 / (1 + exp(−η))       (ulcer; death in a year with an event)
//! ```
//!
//! The Gompertz time axis is current age, as both public ports use (a Gompertz in duration
//! would put the hazard of death at diagnosis near exp(−10.9) per year).
//!
//! # Where the coefficients come from
//!
//! The coefficients are data: `models/data/ukpds_om2_coefficients.csv`, one row per λ, ρ, φ
//! or β, embedded and parsed at compile time into the constants below (`coefficients.rs`:
//! the callers and the hot path see the same flat `const` equations as when the numbers were
//! code). The ESM itself was not available: every number was read from the COMPAR-EU port
//! and compared with a second, independent transcription (awinn1); the file's header and
//! `models/data/README.md` give the source of each table, the one number on which the two
//! disagree (first amputation with prior ulcer, λ: −0.811 kept, −0.881 in awinn1), a
//! coefficient an older port revision had differently, and the port defects not copied. The
//! test `coefficients_match_the_second_transcription` (`models/tests/ukpds_om2.rs`) repeats
//! the comparison.
//!
//! # Where this code departs from the ports: the eGFR and LDL splines
//!
//! The eGFR spline (knot at 60 ml/min/1.73 m²) and the LDL spline (knot at 3.5 mmol/L).
//! ESM Table 2 (as quoted in COMPAR-EU's readme) calls both a *continuous* spline: "HR per
//! 10 ml/min/1.73 m² increase if < 60", "HR per 0.1 mmol/L increase in LDL if > 3.5".
//! COMPAR-EU codes the pieces as `eGFR/10 if eGFR < 60 else 0`, `eGFR/10 if eGFR ≥ 60 else 0`
//! and `LDL·10 if LDL ≥ 3.5 else 0`, which jump at the knot; awinn1 documents indicators;
//! the Python port joyceho/cvdm copies COMPAR-EU's eGFR coding. This file uses the
//! continuous linear spline (Stata `mkspline`): `min(eGFR, 60)/10`, `max(eGFR − 60, 0)/10`
//! and `max(LDL − 3.5, 0)·10` ([`egfr_spline_below_60`], [`egfr_spline_above_60`],
//! [`ldl_spline_above_3p5`]). Why: with the ports' coding the renal-failure equation
//! (λ = +3.549, β = −1.031 below and −0.487 above the knot) gives a patient at eGFR 59 a
//! hazard 24 times *lower* than at eGFR 60 and lower than at eGFR 100, and gives a typical
//! UKPDS man (age at diagnosis 52, BMI 28, eGFR 75, no albuminuria) 10 renal failures per
//! 1000 person-years; with the continuous spline he gets 0.4, the order UKPDS 64 (Adler
//! 2003) reports (under 1 % with raised creatinine or renal replacement 10 years after
//! diagnosis; quoted from memory), and the hazard falls monotonically with eGFR. Likewise
//! the ports' LDL coding multiplies a woman's first-MI hazard by 3.4 the moment her LDL
//! reaches 3.5 mmol/L, and for COMPAR-EU's own validation patient (eGFR 70) their eGFR
//! coding gives the woman a first-MI risk of 2.6 % a year, 11 times the man's, which that
//! port's author flagged as doubtful; the continuous spline gives 0.48 %. The two codings
//! agree whenever eGFR < 60 and LDL < 3.5 mmol/L, which covers the ESM's own worked CHF
//! example (eGFR 50). For eGFR ≥ 60 they differ by a constant factor: CHF ×0.27, first
//! stroke ×0.32, a woman's first MI ×0.19, renal failure ×0.038 (ours vs port); the tests
//! (`models/tests/ukpds_om2.rs`) show the published COMPAR-EU numbers are reproduced exactly
//! once the port's coding is swapped back in. Unverified against the ESM text itself: check
//! before relying on it.
//!
//! # Must never
//!
//! Allocate, panic, do IO or draw random numbers. Every function here is a pure function of
//! its arguments; time, randomness and the choice of which equation applies in a year
//! (first vs subsequent event, which mortality equation) belong to the caller.

mod coefficients;
mod covariates;

pub use covariates::{
    egfr_spline_above_60, egfr_spline_below_60, ldl_spline_above_3p5, Covariate, Om2Covariates,
};

/// How an equation turns its linear predictor into a probability.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Form {
    /// Proportional-hazards Weibull in diabetes duration: H(t) = exp(η)·t^ρ.
    Weibull { rho: f64 },
    /// Exponential (a Weibull with ρ = 1): H(t) = exp(η)·t, a constant hazard exp(η).
    Exponential,
    /// Proportional-hazards Gompertz in current age: H(a) = φ⁻¹·exp(η)·(exp(φ·a) − 1).
    Gompertz { phi: f64 },
    /// Logistic regression for the probability of the event within the year.
    Logistic,
}

/// One OM2 equation: its form, intercept λ and (covariate, β) terms, with its source.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Om2Equation {
    /// Stable identifier, `ukpds_om2.<event>`.
    pub name: &'static str,
    pub form: Form,
    /// λ: the intercept on the log-hazard (or log-odds) scale.
    pub lambda: f64,
    pub terms: &'static [(Covariate, f64)],
    /// Table and transcriptions the numbers were read from.
    pub source: &'static str,
}

impl Om2Equation {
    /// β of `covariate` in this equation (0 if the equation does not use it).
    pub fn coefficient(&self, covariate: Covariate) -> f64 {
        self.terms
            .iter()
            .find(|(c, _)| *c == covariate)
            .map_or(0.0, |&(_, beta)| beta)
    }
}

use coefficients::{equation, Id};
use engine::math::DetMath;

// The seventeen equations. Their numbers are data (models/data/ukpds_om2_coefficients.csv,
// read at compile time by `coefficients`); these constants are what callers name.

/// First congestive heart failure (CHF happens once; afterwards it is history).
pub const CHF: Om2Equation = equation(Id::Chf);

/// Ischaemic heart disease (happens once).
pub const IHD: Om2Equation = equation(Id::Ihd);

/// First myocardial infarction, men.
pub const MI_FIRST_MALE: Om2Equation = equation(Id::MiFirstMale);

/// First myocardial infarction, women.
pub const MI_FIRST_FEMALE: Om2Equation = equation(Id::MiFirstFemale);

/// Second (subsequent) myocardial infarction, both sexes.
pub const MI_SUBSEQUENT: Om2Equation = equation(Id::MiSubsequent);

/// First stroke.
pub const STROKE_FIRST: Om2Equation = equation(Id::StrokeFirst);

/// Second (subsequent) stroke.
pub const STROKE_SUBSEQUENT: Om2Equation = equation(Id::StrokeSubsequent);

/// Blindness in one eye (happens once).
pub const BLINDNESS: Om2Equation = equation(Id::Blindness);

/// Diabetic foot ulcer: a logistic model of the annual probability.
pub const ULCER: Om2Equation = equation(Id::Ulcer);

/// First amputation, no prior ulcer.
pub const AMPUTATION_FIRST_NO_ULCER: Om2Equation = equation(Id::AmputationFirstNoUlcer);

/// First amputation after a prior ulcer. λ is disputed between the ports
/// (`models/data/README.md`, disagreement 1).
pub const AMPUTATION_FIRST_WITH_ULCER: Om2Equation = equation(Id::AmputationFirstWithUlcer);

/// Second (subsequent) amputation.
pub const AMPUTATION_SUBSEQUENT: Om2Equation = equation(Id::AmputationSubsequent);

/// Renal failure (ESRD: dialysis, transplant or eGFR < 15; happens once).
pub const RENAL_FAILURE: Om2Equation = equation(Id::RenalFailure);

/// Death in a year with no history of any complication and no event this year.
pub const DEATH_NO_HISTORY: Om2Equation = equation(Id::DeathNoHistory);

/// Death in a year with a history of a complication but no event this year.
pub const DEATH_HISTORY_NO_EVENT: Om2Equation = equation(Id::DeathHistoryNoEvent);

/// Death in the year of a first event (no earlier history): logistic.
pub const DEATH_FIRST_EVENT_YEAR: Om2Equation = equation(Id::DeathFirstEventYear);

/// Death in the year of an event when there is an earlier history: logistic.
pub const DEATH_SUBSEQUENT_EVENT_YEAR: Om2Equation = equation(Id::DeathSubsequentEventYear);

/// All seventeen equations, events first, then mortality.
pub const ALL_EQUATIONS: [&Om2Equation; 17] = [
    &CHF,
    &IHD,
    &MI_FIRST_MALE,
    &MI_FIRST_FEMALE,
    &MI_SUBSEQUENT,
    &STROKE_FIRST,
    &STROKE_SUBSEQUENT,
    &BLINDNESS,
    &ULCER,
    &AMPUTATION_FIRST_NO_ULCER,
    &AMPUTATION_FIRST_WITH_ULCER,
    &AMPUTATION_SUBSEQUENT,
    &RENAL_FAILURE,
    &DEATH_NO_HISTORY,
    &DEATH_HISTORY_NO_EVENT,
    &DEATH_FIRST_EVENT_YEAR,
    &DEATH_SUBSEQUENT_EVENT_YEAR,
];

/// The first-MI equation for a sex.
pub fn mi_first_equation(female: bool) -> &'static Om2Equation {
    if female {
        &MI_FIRST_FEMALE
    } else {
        &MI_FIRST_MALE
    }
}

/// The first-amputation equation: it depends on whether an ulcer came first.
pub fn amputation_first_equation(ulcer_history: bool) -> &'static Om2Equation {
    if ulcer_history {
        &AMPUTATION_FIRST_WITH_ULCER
    } else {
        &AMPUTATION_FIRST_NO_ULCER
    }
}

/// Which of the four mortality equations applies this year.
///
/// `any_history`: any complication in an earlier year (COMPAR-EU counts all eight
/// histories, blindness and ulcer included). `fatal_event_this_year`: any event this year
/// other than blindness or ulcer (CHF counts, although no death equation has a CHF term).
/// That split follows the COMPAR-EU port; the ESM wording was not checked.
pub fn death_equation(any_history: bool, fatal_event_this_year: bool) -> &'static Om2Equation {
    match (any_history, fatal_event_this_year) {
        (false, false) => &DEATH_NO_HISTORY,
        (true, false) => &DEATH_HISTORY_NO_EVENT,
        (false, true) => &DEATH_FIRST_EVENT_YEAR,
        (true, true) => &DEATH_SUBSEQUENT_EVENT_YEAR,
    }
}

/// Xβ: the sum of β·x over the equation's terms, *excluding* λ (the ESM's and the ports'
/// convention: the hazard is exp(λ + Xβ)).
pub fn linear_predictor(eq: &Om2Equation, c: &Om2Covariates) -> f64 {
    eq.terms
        .iter()
        .map(|&(covariate, beta)| beta * covariate.value(c))
        .sum()
}

/// The probability of the event within the coming year (the OM2 annual cycle):
/// 1 − exp(H(x) − H(x + 1)) with x the duration (Weibull, exponential) or the current age
/// (Gompertz); the fitted logistic probability for logistic equations.
///
/// Always in [0, 1]. Inputs that make η undefined (a NaN covariate, or overflowing ones
/// that sum to ∞ − ∞) give 1 rather than NaN, so a bad input shows up as an implausible
/// event count instead of silently disappearing; η = ±∞ gives 1 or 0.
pub fn annual_probability(eq: &Om2Equation, c: &Om2Covariates) -> f64 {
    probability_for(eq, linear_predictor(eq, c), c, 1.0)
}

/// The probability of the event within `dt_years` from now, for sub-annual steps:
/// 1 − exp(H(x) − H(x + dt)) for the time-to-event forms (exact, with covariates held
/// constant over the interval), and 1 − (1 − p)^dt for logistic equations, whose annual
/// probability p is spread over the year at a constant rate. `dt_years ≤ 0` gives 0.
/// Consecutive intervals compose: P[0, a + b] = 1 − (1 − P[0, a])·(1 − P[a, a + b]).
pub fn interval_probability(eq: &Om2Equation, c: &Om2Covariates, dt_years: f64) -> f64 {
    probability_for(eq, linear_predictor(eq, c), c, dt_years)
}

/// The instantaneous hazard per year at the patient's current time, h = dH/dx:
///
/// - Weibull: ρ·exp(η)·t^(ρ−1) at t = duration (0 at t = 0 when ρ > 1);
/// - exponential: exp(η);
/// - Gompertz: exp(η)·exp(φ·age) at the current age;
/// - logistic: the constant rate −ln(1 − p) = ln(1 + exp(η)) that yields the annual
///   probability p over one year. The ESM fits these as probabilities, not hazards, so this
///   is a conversion, not a published hazard.
///
/// For a step of length dt, h at the step's midpoint times dt approximates the step's
/// cumulative hazard; [`interval_probability`] gives the exact step probability. Always
/// ≥ 0; an undefined η (see [`annual_probability`]) gives +∞.
pub fn hazard_rate(eq: &Om2Equation, c: &Om2Covariates) -> f64 {
    let eta = eq.lambda + linear_predictor(eq, c);
    let h = match eq.form {
        Form::Exponential => eta.exp_det(),
        Form::Weibull { rho } => {
            let t = duration(c);
            if t > 0.0 {
                (rho.ln_det() + eta + (rho - 1.0) * t.ln_det()).exp_det()
            } else if t.is_nan() {
                f64::NAN
            } else if rho > 1.0 {
                0.0
            } else if rho < 1.0 {
                f64::INFINITY
            } else {
                eta.exp_det()
            }
        }
        Form::Gompertz { phi } => (eta + phi * c.current_age_years()).exp_det(),
        Form::Logistic => softplus(eta),
    };
    if h.is_nan() {
        f64::INFINITY
    } else {
        h.max(0.0)
    }
}

/// The Weibull time axis: duration, with negative values treated as diagnosis (NaN kept).
fn duration(c: &Om2Covariates) -> f64 {
    let t = c.diabetes_duration_years;
    if t < 0.0 {
        0.0
    } else {
        t
    }
}

/// ln(1 + exp(x)) without overflow.
fn softplus(x: f64) -> f64 {
    if x > 0.0 {
        x + (-x).exp_det().ln_1p_det()
    } else {
        x.exp_det().ln_1p_det()
    }
}

/// 1 − exp(−ΔH) from ln ΔH; working on the log scale keeps exp(η)·(tiny increment) from
/// turning into 0·∞ at extreme inputs.
fn probability_from_ln_increment(ln_dh: f64) -> f64 {
    -(-ln_dh.exp_det()).exp_m1_det()
}

/// The interval probability for a given Xβ (λ excluded); shared by the public functions
/// and by the tests that swap in the ports' covariate coding.
fn probability_for(eq: &Om2Equation, xb: f64, c: &Om2Covariates, dt_years: f64) -> f64 {
    if dt_years.is_nan() || dt_years <= 0.0 {
        return 0.0;
    }
    let eta = eq.lambda + xb;
    let p = match eq.form {
        Form::Exponential => probability_from_ln_increment(eta + dt_years.ln_det()),
        Form::Weibull { rho } => {
            let t = duration(c);
            // H(t + dt) − H(t) = exp(η)·t^ρ·((1 + dt/t)^ρ − 1), written to stay accurate
            // for t ≫ dt; at diagnosis it is exp(η)·dt^ρ.
            let ln_dh = if t > 0.0 {
                eta + rho * t.ln_det() + (rho * (dt_years / t).ln_1p_det()).exp_m1_det().ln_det()
            } else {
                eta + rho * dt_years.ln_det() + if t.is_nan() { f64::NAN } else { 0.0 }
            };
            probability_from_ln_increment(ln_dh)
        }
        Form::Gompertz { phi } => {
            // H(a + dt) − H(a) = φ⁻¹·exp(η)·exp(φ·a)·(exp(φ·dt) − 1).
            let a = c.current_age_years();
            let ln_dh = eta - phi.ln_det() + phi * a + (phi * dt_years).exp_m1_det().ln_det();
            probability_from_ln_increment(ln_dh)
        }
        Form::Logistic => {
            if dt_years == 1.0 {
                1.0 / (1.0 + (-eta).exp_det())
            } else {
                -(-dt_years * softplus(eta)).exp_m1_det()
            }
        }
    };
    if p.is_nan() {
        1.0
    } else {
        p.clamp(0.0, 1.0)
    }
}
