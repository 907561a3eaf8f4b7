//! healthtwin's glucose physiology: the Topp (2000) model with a human time scale and
//! limited adaptive capacity, reduced to its slow variables.
//!
//! **Fast pair.** Glucose and insulin relax in minutes to hours (insulin clearance
//! k = 432/day, a time constant of 3.3 minutes), β-cell mass over months to years. The
//! fast pair is replaced by its quasi-steady state ([`ToppParams::qss_glucose`]): fasting
//! glucose G is the unique root of `R0 = (EG0 + SI·I)·G`, `I = β·σ·G²/((α+G²)·k)`. The
//! test `reduced_model_tracks_the_full_model` solves the full model (G and I as ODE states)
//! at tight tolerance and bounds the difference.
//!
//! **Slow variables** (time in days):
//!
//! ```text
//! dβ/dt = s·(−d0 + r1·ε·φ(β, K)·G − r2·G²)·β          φ(β, K) = 1 / (1 + (β/K)^n)
//! dK/dt = −K·(κ/365)·(1 + γ·max(0, G − G_ref)/G_ref)
//! dA/dt = (A_eq(G) − A)/τ_A                              A_eq = (G + Δ + 46.7)/28.7 + h
//! ```
//!
//! * `s` is the human time scale of β-cell turnover. Topp's d0, r1 and r2 were fitted to
//!   rodent data (β-cells turning over in weeks); adult human β-cells turn over far more
//!   slowly (Ha & Sherman 2016 put β-cell mass on a time scale of years). Scaling all three
//!   rates by `s` keeps every equilibrium of Topp's model (they depend only on ratios).
//! * `φ` is **limited adaptive capacity**: replication saturates as the mass approaches a
//!   person-specific capacity K (the pancreatic reserve of De Gaetano et al. 2008), so a
//!   slow fall in insulin sensitivity is compensated only until the mass nears K; then
//!   fasting glucose rises, and once `r1·ε·φ < 2·√(r2·d0)` the compensated state vanishes
//!   (a saddle-node) and glucotoxicity takes β down. K itself declines slowly with age,
//!   faster when glucose is high. In Topp's original model (φ ≡ 1) β grows without bound
//!   and slow insulin resistance never produces diabetes.
//! * `ε` is the person's intrinsic replication efficiency: it sets the glucose the person
//!   holds with ample capacity (the set point, 100 mg/dL at ε = 1 as in Topp).
//! * HbA1c `A` is a first-order lag of mean glucose through the ADAG relation
//!   (eAG = 28.7·A1c − 46.7, Nathan 2008); mean glucose is fasting glucose plus Δ, and `h`
//!   is the person's glycation offset (people differ in HbA1c at equal mean glucose).
//!
//! Inputs (insulin sensitivity, glucose production, treatment) are held constant within a
//! step. The production step is one exponential midpoint step per model step
//! ([`Physiology::step_slow`]); [`Reduced`] is the same system as an [`OdeSystem`] for
//! adaptive integrators (tests, reference solutions). The reduced system is not stiff: its
//! fastest rate is 1/τ_A.

use engine::math::DetMath;
use std::cell::Cell;

use engine::ode::OdeSystem;

use super::topp::ToppParams;

/// Constants of the physiology (values and sources live in [`super::params`]).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Physiology {
    pub topp: ToppParams,
    /// Human time scale of β-cell turnover relative to Topp's rodent rates.
    pub time_scale: f64,
    /// Hill exponent n of the capacity limit.
    pub hill: f64,
    /// Loss of capacity per year at normal glucose (κ).
    pub capacity_loss: f64,
    /// Extra capacity loss per unit of relative glucose excess above `g_ref` (γ).
    pub glucotoxicity: f64,
    /// Reference glucose of the glucotoxic capacity loss (mg/dL).
    pub g_ref: f64,
    /// HbA1c lag time constant (days).
    pub tau_hba1c_days: f64,
    /// Mean glucose minus fasting glucose (mg/dL).
    pub mean_minus_fasting: f64,
}

/// ADAG (Nathan 2008 Diabetes Care 31:1473): estimated average glucose (mg/dL) =
/// 28.7 × HbA1c (%) − 46.7.
pub const ADAG_SLOPE: f64 = 28.7;
pub const ADAG_INTERCEPT: f64 = -46.7;

/// Estimated average glucose (mg/dL) from HbA1c (%), ADAG.
#[inline]
pub fn eag_from_hba1c(hba1c_pct: f64) -> f64 {
    ADAG_SLOPE * hba1c_pct + ADAG_INTERCEPT
}

/// HbA1c (%) whose ADAG average glucose is `g` (mg/dL).
#[inline]
pub fn hba1c_from_eag(g: f64) -> f64 {
    (g - ADAG_INTERCEPT) / ADAG_SLOPE
}

/// Per-person, per-step inputs of the slow dynamics (constant within a step).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Inputs {
    /// Insulin sensitivity (mL/μU/day).
    pub si: f64,
    /// Glucose production (mg/dL/day), after treatment.
    pub r0: f64,
    /// Insulin secretion multiplier (secretagogues; 1 = none).
    pub secretion: f64,
    /// Exogenous insulin (μU/mL equivalent; 0 = none).
    pub insulin_extra: f64,
    /// Intrinsic replication efficiency ε.
    pub efficiency: f64,
    /// Glycation offset h (HbA1c %-points).
    pub glycation: f64,
}

/// Constants of one step length: the weights of the exact HbA1c lag, e^{−h/τ} and
/// (1 − e^{−h/τ})/(h/τ), and the capacity decay at normal glucose (G ≤ `g_ref`, where the
/// loss rate is κ alone) over half the step and the whole step.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StepWeights {
    pub decay: f64,
    pub mean_weight: f64,
    pub capacity_half: f64,
    pub capacity_full: f64,
}

/// What one step of the slow dynamics returns besides the new state.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SlowStep {
    /// Fasting glucose at the end of the step (mg/dL).
    pub fpg_mg_dl: f64,
    /// Endogenous fasting insulin at the end of the step (μU/mL).
    pub insulin_uu_ml: f64,
    /// β's relaxation rate at the start of the step (1/day).
    pub relaxation: f64,
}

/// Slow state indices.
pub const BETA: usize = 0;
pub const CAPACITY: usize = 1;
pub const HBA1C: usize = 2;

impl Physiology {
    /// Capacity factor φ(β, K).
    #[inline]
    pub fn capacity_factor(&self, beta: f64, capacity: f64) -> f64 {
        if capacity <= 0.0 {
            return 0.0;
        }
        let r = beta.max(0.0) / capacity;
        // The default Hill exponent is 4: two multiplications instead of a `powf`.
        let u = if self.hill == 4.0 {
            let r2 = r * r;
            r2 * r2
        } else {
            r.powf_det(self.hill)
        };
        1.0 / (1.0 + u)
    }

    /// Net β-cell growth per unit mass (1/day) at glucose `g`.
    #[inline]
    pub fn beta_growth(&self, eps: f64, beta: f64, capacity: f64, g: f64) -> f64 {
        let t = &self.topp;
        self.time_scale
            * (-t.d0 + t.r1 * eps * self.capacity_factor(beta, capacity) * g - t.r2 * g * g)
    }

    /// How fast β-cell mass relaxes towards its quasi-equilibrium (1/day): |∂r/∂ln β| of
    /// the net growth rate r at mass `beta`, with glucose `g` following β through the QSS
    /// (`slope` = dG/dβ, [`ToppParams::qss_glucose_slope`]). The exponential midpoint step
    /// is accurate while this rate times the step is small; near the capacity limit the Hill
    /// factor makes it steep (the equilibrium is held tightly) and long steps lose accuracy.
    #[inline]
    pub fn beta_relaxation_rate(
        &self,
        eps: f64,
        beta: f64,
        capacity: f64,
        g: f64,
        slope: f64,
    ) -> f64 {
        let t = &self.topp;
        let beta = beta.max(0.0);
        let phi = self.capacity_factor(beta, capacity);
        // β·∂φ/∂β = −n·u·φ² with u = (β/K)^n, and 1/φ − 1 = u.
        let dphi = if phi > 0.0 {
            -self.hill * (1.0 / phi - 1.0) * phi * phi
        } else {
            0.0
        };
        let dg = slope * beta;
        (self.time_scale * (t.r1 * eps * (dphi * g + phi * dg) - 2.0 * t.r2 * g * dg)).abs()
    }

    /// Capacity loss per unit capacity (1/day) at glucose `g`.
    #[inline]
    pub fn capacity_decline(&self, g: f64) -> f64 {
        let excess = ((g - self.g_ref) / self.g_ref).max(0.0);
        self.capacity_loss / 365.0 * (1.0 + self.glucotoxicity * excess)
    }

    /// Steady-state HbA1c for fasting glucose `g` and glycation offset `h`.
    #[inline]
    pub fn hba1c_target(&self, g: f64, h: f64) -> f64 {
        hba1c_from_eag(g + self.mean_minus_fasting) + h
    }

    /// The replication efficiency ε at which a person with mass `beta`, capacity `capacity`
    /// and fasting glucose `g` has net β-cell growth `growth` (1/day): 0 = stationary.
    pub fn efficiency_for(&self, beta: f64, capacity: f64, g: f64, growth: f64) -> f64 {
        let t = &self.topp;
        (t.d0 + t.r2 * g * g + growth / self.time_scale)
            / (t.r1 * self.capacity_factor(beta, capacity) * g)
    }

    /// The β-cell mass that gives fasting glucose `g` under `inp` (inverting the QSS);
    /// `None` when insulin sensitivity and production cannot produce `g` with any mass
    /// (g above what production alone gives, or exogenous insulin already below it).
    pub fn beta_for_glucose(&self, inp: &Inputs, g: f64) -> Option<f64> {
        let t = &self.topp;
        let insulin = (inp.r0 / g - t.eg0) / inp.si - inp.insulin_extra;
        (insulin > 0.0).then(|| t.k * insulin / (inp.secretion * t.secretion(g)))
    }

    /// Advances the slow state `y` = (β, K, A) over `dt_days` with the inputs held constant;
    /// `g` is a guess of the QSS glucose at the start. Returns fasting glucose and insulin at
    /// the end. Allocation-free; two QSS solves.
    ///
    /// * β and K obey dX/dt = r(G)·X with G moving on the time scale of β itself (months to
    ///   years): X·exp(r·Δt) is exact for constant r, and taking r at the midpoint (β and K
    ///   advanced half a step with the starting rates, the midpoint glucose from the
    ///   first-order QSS predictor G + dG/dβ·Δβ, whose O(Δβ²) error enters at second order)
    ///   makes this exponential midpoint rule second order.
    /// * HbA1c: the linear lag dA/dt = (A_eq(G) − A)/τ solved exactly for G moving linearly
    ///   from the start to the end glucose.
    ///
    /// The test `reduced_model_tracks_the_full_model` bounds the difference from the full
    /// five-state model solved stiffly at tight tolerance. One step costs two QSS solves,
    /// against ~20 for an adaptive Runge–Kutta integration of the same system.
    #[inline]
    pub fn step_slow(&self, inp: &Inputs, y: &mut [f64; 3], g: f64, dt_days: f64) -> (f64, f64) {
        let s = self.step_slow_with(inp, y, g, dt_days, self.step_weights(dt_days));
        (s.fpg_mg_dl, s.insulin_uu_ml)
    }

    /// [`Self::step_slow`] with the HbA1c lag weights of `dt_days` precomputed (they depend
    /// only on the step length: the population model keeps them for 1–3 months), returning
    /// also β's relaxation rate at the start of the step ([`Self::beta_relaxation_rate`]),
    /// which sets the next step's length.
    #[inline]
    pub fn step_slow_with(
        &self,
        inp: &Inputs,
        y: &mut [f64; 3],
        g: f64,
        dt_days: f64,
        lag: StepWeights,
    ) -> SlowStep {
        let h = dt_days;
        let beta0 = y[BETA].max(0.0);
        let cap0 = y[CAPACITY].max(0.0);
        let g0 = self.fasting(inp, beta0, g).0;
        let eps = inp.efficiency;
        let slope =
            self.topp
                .qss_glucose_slope(inp.si, beta0, inp.secretion, inp.insulin_extra, g0);
        let beta_h = beta0 * (self.beta_growth(eps, beta0, cap0, g0) * 0.5 * h).exp_det();
        // At normal glucose the capacity decays at κ alone: the step's constant.
        let cap_h = cap0
            * if g0 <= self.g_ref {
                lag.capacity_half
            } else {
                (-self.capacity_decline(g0) * 0.5 * h).exp_det()
            };
        let g_h = g0 + slope * (beta_h - beta0);
        let beta1 = beta0 * (self.beta_growth(eps, beta_h, cap_h, g_h) * h).exp_det();
        let (g1, i1) = self.fasting(inp, beta1, g0 + slope * (beta1 - beta0));
        y[BETA] = beta1;
        y[CAPACITY] = cap0
            * if g_h <= self.g_ref {
                lag.capacity_full
            } else {
                (-self.capacity_decline(g_h) * h).exp_det()
            };
        y[HBA1C] = self.hba1c_lag(y[HBA1C], g0, g1, inp.glycation, lag);
        SlowStep {
            fpg_mg_dl: g1,
            insulin_uu_ml: i1,
            relaxation: self.beta_relaxation_rate(eps, beta0, cap0, g0, slope),
        }
    }

    /// The constants of a step of `h` days.
    pub fn step_weights(&self, h: f64) -> StepWeights {
        let x = h / self.tau_hba1c_days;
        let decay = (-x).exp_det();
        // (1 − e^{−x})/x, with its limit 1 as x → 0.
        let mean_weight = if x > 1e-8 { (1.0 - decay) / x } else { 1.0 };
        // The same expressions as in `step_slow_with`, so the constants are bit-identical
        // to computing them there.
        let normal = self.capacity_decline(self.g_ref);
        StepWeights {
            decay,
            mean_weight,
            capacity_half: (-normal * 0.5 * h).exp_det(),
            capacity_full: (-normal * h).exp_det(),
        }
    }

    /// HbA1c after a step of the lag dA/dt = (A_eq(G) − A)/τ with G moving linearly from
    /// `g0` to `g1` (exact: A_eq is linear in G).
    #[inline]
    fn hba1c_lag(&self, hba1c_pct: f64, g0: f64, g1: f64, glycation: f64, lag: StepWeights) -> f64 {
        let (e0, e1) = (
            self.hba1c_target(g0, glycation),
            self.hba1c_target(g1, glycation),
        );
        e1 + (hba1c_pct - e0) * lag.decay - (e1 - e0) * lag.mean_weight
    }

    /// Fasting glucose and endogenous fasting insulin for mass `beta` under `inp`.
    #[inline]
    pub fn fasting(&self, inp: &Inputs, beta: f64, guess: f64) -> (f64, f64) {
        let t = &self.topp;
        let g = t.qss_glucose(
            inp.r0,
            inp.si,
            beta,
            inp.secretion,
            inp.insulin_extra,
            guess,
        );
        (g, inp.secretion * beta.max(0.0) * t.secretion(g) / t.k)
    }
}

/// The reduced (slow) system for one person over one step.
pub struct Reduced<'a> {
    pub phys: &'a Physiology,
    pub inputs: Inputs,
    /// Warm start for the QSS solve (the last glucose found).
    pub glucose_guess: Cell<f64>,
}

impl OdeSystem<3> for Reduced<'_> {
    #[inline]
    fn rhs(&self, _t: f64, y: &[f64; 3], dy: &mut [f64; 3]) {
        let p = self.phys;
        let beta = y[BETA].max(0.0);
        let (g, _) = p.fasting(&self.inputs, beta, self.glucose_guess.get());
        self.glucose_guess.set(g);
        dy[BETA] = p.beta_growth(self.inputs.efficiency, beta, y[CAPACITY], g) * beta;
        dy[CAPACITY] = -p.capacity_decline(g) * y[CAPACITY].max(0.0);
        dy[HBA1C] = (p.hba1c_target(g, self.inputs.glycation) - y[HBA1C]) / p.tau_hba1c_days;
    }
}

/// The same model with glucose and insulin as ODE states (stiff: for reference solutions
/// and the test of the reduction). State: G, I, β, K, A.
pub struct Full<'a> {
    pub phys: &'a Physiology,
    pub inputs: Inputs,
}

impl OdeSystem<5> for Full<'_> {
    fn rhs(&self, _t: f64, y: &[f64; 5], dy: &mut [f64; 5]) {
        let p = self.phys;
        let t = &p.topp;
        let inp = &self.inputs;
        let (g, i, beta, cap) = (y[0], y[1], y[2].max(0.0), y[3]);
        dy[0] = inp.r0 - (t.eg0 + inp.si * (i + inp.insulin_extra)) * g;
        dy[1] = inp.secretion * beta * t.secretion(g) - t.k * i;
        dy[2] = p.beta_growth(inp.efficiency, beta, cap, g) * beta;
        dy[3] = -p.capacity_decline(g) * cap.max(0.0);
        dy[4] = (p.hba1c_target(g, inp.glycation) - y[4]) / p.tau_hba1c_days;
    }
}
