//! Stiff ODE integration: the Rosenbrock method RODAS4 on fixed-size arrays.
//!
//! A stiff system (one with time scales far apart, like insulin clearance in minutes beside
//! β-cell turnover in years) makes an explicit method such as Dopri5 take steps bounded by
//! stability, not accuracy. A Rosenbrock method solves one linear system per stage with
//! the matrix `I/(hγ) − J` and so takes steps sized by accuracy alone.
//!
//! The method is RODAS (Hairer & Wanner, *Solving Ordinary Differential Equations II*,
//! 2nd ed., Springer 1996, §IV.7 and §VI.4; coefficients from their Fortran code
//! `rodas.f`, subroutine `RODCOE` with `METH = 1`, the same as Julia's `Rodas4`): six
//! stages, order 4 with an embedded order-3 solution, L-stable and stiffly accurate (both
//! the solution and the embedded solution are stage values, so the stiff components are
//! damped exactly like implicit Euler). Step-size
//! control is theirs: mixed relative/absolute tolerance in the RMS norm, step ratio in
//! [0.2, 6] with safety 0.9 and Gustafsson's predictive controller; the initial step is
//! their `HINIT` heuristic (Hairer, Nørsett & Wanner, *Solving ODEs I*, §II.4).
//!
//! Everything lives in `[f64; N]` and `[[f64; N]; N]` on the stack, the N×N matrix is
//! factorised in place by LU with partial pivoting, and nothing is allocated on the heap:
//! a model may call [`Rodas4::integrate_stiff`] inside its per-patient hot loop
//! (`engine/tests/stiff_no_alloc.rs` checks this with a counting allocator).
//!
//! Must never allocate, print or hold state between calls.

use std::cell::Cell;

use crate::detmath::DetMath;
use crate::ode::{IntegrationStats, Integrator, OdeError, OdeSystem};

/// A system with a Jacobian, for the stiff integrator.
pub trait StiffSystem<const N: usize>: OdeSystem<N> {
    /// The Jacobian ∂f/∂y at (t, y): `j[row][col] = ∂f_row/∂y_col`.
    fn jacobian(&self, t: f64, y: &[f64; N], j: &mut [[f64; N]; N]);

    /// ∂f/∂t at (t, y), needed by Rosenbrock methods for non-autonomous systems.
    ///
    /// The default is the one-sided forward difference of `rhs` in `t` with increment
    /// `sqrt(ε · max(1e-5, |t|))` (as in Hairer & Wanner's `rodas.f`); it costs two
    /// evaluations of `rhs` per step and is accurate to about `sqrt(ε)`, which is enough
    /// because the term enters each stage multiplied by the step size. An autonomous
    /// system should override it to fill zeros, and a non-autonomous one with a known
    /// derivative should supply it.
    fn time_derivative(&self, t: f64, y: &[f64; N], dfdt: &mut [f64; N]) {
        let dt = (f64::EPSILON * t.abs().max(1e-5)).sqrt();
        let mut f0 = [0.0; N];
        self.rhs(t, y, &mut f0);
        self.rhs(t + dt, y, dfdt);
        // The increment actually represented in floating point.
        let dt = (t + dt) - t;
        for (d, f) in dfdt.iter_mut().zip(&f0) {
            *d = (*d - f) / dt;
        }
    }
}

/// RODAS4: an adaptive, L-stable, stiffly accurate Rosenbrock method of order 4(3)
/// (see the module documentation for its source). Allocation-free.
#[derive(Clone, Copy, Debug)]
pub struct Rodas4 {
    /// Relative tolerance.
    pub rtol: f64,
    /// Absolute tolerance, in the units of the state. `atol + rtol·|y_i|` must be
    /// positive for every component, or no step is ever accepted.
    pub atol: f64,
    /// Step attempts (accepted and rejected) allowed in one call.
    pub max_steps: u32,
    /// Largest step magnitude; the whole interval when infinite.
    pub max_step: f64,
    /// First step magnitude; chosen by Hairer's heuristic when `None`.
    pub initial_step: Option<f64>,
}

impl Default for Rodas4 {
    fn default() -> Self {
        Rodas4 {
            rtol: 1e-6,
            atol: 1e-9,
            max_steps: 100_000,
            max_step: f64::INFINITY,
            initial_step: None,
        }
    }
}

// RODAS coefficients (Hairer & Wanner, rodas.f, RODCOE METH = 1), in the transformed form
// that avoids matrix-vector products: stage i solves
//   (I/(hγ) − J) k_i = f(t + c_i h, y + Σ_j a_ij k_j) + Σ_j (c_ij/h) k_j + h d_i ∂f/∂t.
// Stage 5's argument plus k5 is the embedded order-3 solution; adding k6 gives the order-4
// solution, so k6 is the local error estimate.
const GAMMA: f64 = 0.25;
const C2: f64 = 0.386;
const C3: f64 = 0.21;
const C4: f64 = 0.63;
const D1: f64 = 0.25;
const D2: f64 = -0.1043;
const D3: f64 = 0.1035;
const D4: f64 = -0.362_000_000_000_002_3e-1;
const A21: f64 = 0.1544e1;
const A31: f64 = 0.946_678_528_081_582_6;
const A32: f64 = 0.255_701_169_898_328_4;
const A41: f64 = 0.331_482_518_706_852_1e1;
const A42: f64 = 0.289_612_401_597_220_1e1;
const A43: f64 = 0.998_641_913_997_781_7;
const A51: f64 = 0.122_122_450_922_664_1e1;
const A52: f64 = 0.601_913_448_128_862_9e1;
const A53: f64 = 0.125_370_833_293_208_7e2;
const A54: f64 = -0.687_886_036_105_895;
const C21: f64 = -0.56688e1;
const C31: f64 = -0.243_009_335_683_387_5e1;
const C32: f64 = -0.206_359_915_709_191_5;
const C41: f64 = -0.107_352_905_815_137_5;
const C42: f64 = -0.959_456_225_102_335_5e1;
const C43: f64 = -0.204_702_861_480_961_6e2;
const C51: f64 = 0.749_644_331_396_764_7e1;
const C52: f64 = -0.102_468_043_146_435_2e2;
const C53: f64 = -0.339_999_035_281_990_5e2;
const C54: f64 = 0.117_089_089_320_616e2;
const C61: f64 = 0.808_324_679_592_152_2e1;
const C62: f64 = -0.798_113_298_806_489_3e1;
const C63: f64 = -0.315_215_943_287_437_1e2;
const C64: f64 = 0.163_193_054_312_313_6e2;
const C65: f64 = -0.605_881_823_883_405_4e1;

/// Order of the solution, for the initial-step heuristic.
const ORDER: i32 = 4;
/// Step-size controller (rodas.f defaults): safety factor and bounds of h_new/h_old.
const SAFETY: f64 = 0.9;
const FAC_MIN: f64 = 0.2;
const FAC_MAX: f64 = 6.0;
/// Consecutive singular iteration matrices tolerated (each halves the step) before giving up.
const MAX_SINGULAR: u32 = 5;

/// One attempted step from (t, y): the new state and the scaled RMS error estimate.
struct Attempt<const N: usize> {
    y_new: [f64; N],
    /// ‖local error / (atol + rtol·max(|y|, |y_new|))‖_rms; infinite if anything overflowed.
    err: f64,
}

impl Rodas4 {
    /// Advances `y` from `t0` to `t1` (either direction) using the system's Jacobian and
    /// time derivative. Returns the step counts; `rhs_evaluations` counts the integrator's
    /// own calls of `rhs` (five per attempted step, one per accepted step, one or two at
    /// the start), not those inside `jacobian` or `time_derivative`. The Jacobian and
    /// ∂f/∂t are evaluated once per accepted step, at its start, and reused after a
    /// rejection.
    ///
    /// On error `y` is left at the last accepted state.
    pub fn integrate_stiff<const N: usize, S: StiffSystem<N>>(
        &self,
        system: &S,
        t0: f64,
        t1: f64,
        y: &mut [f64; N],
    ) -> Result<IntegrationStats, OdeError> {
        let mut stats = IntegrationStats::default();
        if t1 == t0 {
            return Ok(stats);
        }
        if !(t0.is_finite() && t1.is_finite()) || y.iter().any(|v| !v.is_finite()) {
            return Err(OdeError::NotFinite { t: t0 });
        }
        let dir = if t1 > t0 { 1.0 } else { -1.0 };
        let h_max = self.max_step.min((t1 - t0).abs());

        let mut t = t0;
        let mut f0 = [0.0; N];
        system.rhs(t, y, &mut f0);
        stats.rhs_evaluations += 1;
        if f0.iter().any(|v| !v.is_finite()) {
            return Err(OdeError::NotFinite { t });
        }
        let mut h = match self.initial_step {
            Some(h0) if h0 > 0.0 => h0.min(h_max),
            _ => self.initial_step_size(system, t, y, &f0, dir, h_max, &mut stats),
        } * dir;

        let mut jac = [[0.0; N]; N];
        let mut dfdt = [0.0; N];
        let mut attempts = 0u32;
        let mut rejected_last = false;
        // Gustafsson's predictive controller remembers the last accepted step and error.
        let mut h_acc = 0.0;
        let mut err_acc = 0.0;
        loop {
            system.jacobian(t, y, &mut jac);
            system.time_derivative(t, y, &mut dfdt);
            if jac.iter().flatten().chain(&dfdt).any(|v| !v.is_finite()) {
                return Err(OdeError::NotFinite { t });
            }
            let mut singular = 0u32;
            // Attempts from (t, y); the Jacobian is reused after a rejection.
            loop {
                if attempts >= self.max_steps {
                    return Err(OdeError::TooManySteps {
                        t,
                        max_steps: self.max_steps,
                    });
                }
                if 0.1 * h.abs() <= t.abs() * f64::EPSILON || h == 0.0 {
                    return Err(OdeError::StepSizeUnderflow { t });
                }
                let last = (t + 1.0001 * h - t1) * dir >= 0.0;
                if last {
                    h = t1 - t;
                }
                attempts += 1;
                let Some(attempt) = self.attempt(system, t, y, &f0, &jac, &dfdt, h) else {
                    // Singular iteration matrix: a smaller step makes I/(hγ) dominate J.
                    singular += 1;
                    if singular > MAX_SINGULAR {
                        return Err(OdeError::StepSizeUnderflow { t });
                    }
                    h *= 0.5;
                    rejected_last = true;
                    continue;
                };
                stats.rhs_evaluations += 5;
                let err = attempt.err;
                // h_new = h / fac with fac = err^(1/4) / safety, the ratio kept in [0.2, 6].
                let mut fac = (err.sqrt().sqrt() / SAFETY).clamp(1.0 / FAC_MAX, 1.0 / FAC_MIN);
                if err <= 1.0 {
                    if stats.accepted_steps > 0 {
                        let fac_pred = (h_acc / h) * (err * err / err_acc).sqrt().sqrt() / SAFETY;
                        fac = fac.max(fac_pred.clamp(1.0 / FAC_MAX, 1.0 / FAC_MIN));
                    }
                    h_acc = h;
                    err_acc = err.max(1e-2);
                    stats.accepted_steps += 1;
                    t = if last { t1 } else { t + h };
                    *y = attempt.y_new;
                    if last {
                        return Ok(stats);
                    }
                    system.rhs(t, y, &mut f0);
                    stats.rhs_evaluations += 1;
                    if f0.iter().any(|v| !v.is_finite()) {
                        return Err(OdeError::NotFinite { t });
                    }
                    let mut h_new = (h / fac).abs().min(h_max);
                    if rejected_last {
                        h_new = h_new.min(h.abs());
                    }
                    rejected_last = false;
                    h = h_new * dir;
                    break;
                }
                stats.rejected_steps += 1;
                rejected_last = true;
                h /= fac;
            }
        }
    }

    /// One RODAS step of size `h` from (t, y) with f0 = f(t, y), Jacobian `jac` and
    /// ∂f/∂t `dfdt`. `None` if the iteration matrix is singular. Five calls of `rhs`.
    #[allow(clippy::too_many_arguments)]
    #[inline]
    fn attempt<const N: usize, S: OdeSystem<N>>(
        &self,
        system: &S,
        t: f64,
        y: &[f64; N],
        f0: &[f64; N],
        jac: &[[f64; N]; N],
        dfdt: &[f64; N],
        h: f64,
    ) -> Option<Attempt<N>> {
        // E = I/(hγ) − J, factorised in place.
        let mut e = [[0.0; N]; N];
        let diag = 1.0 / (h * GAMMA);
        for r in 0..N {
            for c in 0..N {
                e[r][c] = -jac[r][c];
            }
            e[r][r] += diag;
        }
        let lu = Lu::factor(e)?;
        let inv_h = 1.0 / h;
        let mut arg = [0.0; N];
        let mut f = [0.0; N];

        let mut k1 = [0.0; N];
        for i in 0..N {
            k1[i] = f0[i] + h * D1 * dfdt[i];
        }
        lu.solve(&mut k1);

        for i in 0..N {
            arg[i] = y[i] + A21 * k1[i];
        }
        system.rhs(t + C2 * h, &arg, &mut f);
        let mut k2 = [0.0; N];
        for i in 0..N {
            k2[i] = f[i] + inv_h * C21 * k1[i] + h * D2 * dfdt[i];
        }
        lu.solve(&mut k2);

        for i in 0..N {
            arg[i] = y[i] + A31 * k1[i] + A32 * k2[i];
        }
        system.rhs(t + C3 * h, &arg, &mut f);
        let mut k3 = [0.0; N];
        for i in 0..N {
            k3[i] = f[i] + inv_h * (C31 * k1[i] + C32 * k2[i]) + h * D3 * dfdt[i];
        }
        lu.solve(&mut k3);

        for i in 0..N {
            arg[i] = y[i] + A41 * k1[i] + A42 * k2[i] + A43 * k3[i];
        }
        system.rhs(t + C4 * h, &arg, &mut f);
        let mut k4 = [0.0; N];
        for i in 0..N {
            k4[i] = f[i] + inv_h * (C41 * k1[i] + C42 * k2[i] + C43 * k3[i]) + h * D4 * dfdt[i];
        }
        lu.solve(&mut k4);

        for i in 0..N {
            arg[i] = y[i] + A51 * k1[i] + A52 * k2[i] + A53 * k3[i] + A54 * k4[i];
        }
        system.rhs(t + h, &arg, &mut f);
        let mut k5 = [0.0; N];
        for i in 0..N {
            k5[i] = f[i] + inv_h * (C51 * k1[i] + C52 * k2[i] + C53 * k3[i] + C54 * k4[i]);
        }
        lu.solve(&mut k5);

        // The embedded (order 3) solution, itself a stage argument (stiff accuracy).
        for i in 0..N {
            arg[i] += k5[i];
        }
        system.rhs(t + h, &arg, &mut f);
        let mut k6 = [0.0; N];
        for i in 0..N {
            k6[i] = f[i]
                + inv_h * (C61 * k1[i] + C62 * k2[i] + C63 * k3[i] + C64 * k4[i] + C65 * k5[i]);
        }
        lu.solve(&mut k6);

        let mut y_new = [0.0; N];
        let mut sum = 0.0;
        for i in 0..N {
            y_new[i] = arg[i] + k6[i];
            let scale = self.atol + self.rtol * y[i].abs().max(y_new[i].abs());
            let r = k6[i] / scale;
            sum += r * r;
        }
        let err = (sum / N as f64).sqrt();
        let finite = err.is_finite() && y_new.iter().all(|v| v.is_finite());
        Some(Attempt {
            y_new,
            err: if finite { err } else { f64::INFINITY },
        })
    }

    /// Hairer's initial step (HINIT): h0 from ‖y‖/‖f‖, then h1 from an estimate of the second
    /// derivative by one explicit Euler step, so that h1^p · ‖y''‖ ≈ 0.01. One call of `rhs`.
    #[allow(clippy::too_many_arguments)]
    fn initial_step_size<const N: usize, S: OdeSystem<N>>(
        &self,
        system: &S,
        t: f64,
        y: &[f64; N],
        f0: &[f64; N],
        dir: f64,
        h_max: f64,
        stats: &mut IntegrationStats,
    ) -> f64 {
        let (mut dnf, mut dny) = (0.0, 0.0);
        for i in 0..N {
            let scale = self.atol + self.rtol * y[i].abs();
            let (a, b) = (f0[i] / scale, y[i] / scale);
            dnf += a * a;
            dny += b * b;
        }
        let mut h = if dnf <= 1e-10 || dny <= 1e-10 {
            1e-6
        } else {
            0.01 * (dny / dnf).sqrt()
        };
        h = h.min(h_max);
        let mut y1 = [0.0; N];
        for i in 0..N {
            y1[i] = y[i] + h * dir * f0[i];
        }
        let mut f1 = [0.0; N];
        system.rhs(t + h * dir, &y1, &mut f1);
        stats.rhs_evaluations += 1;
        let mut der2 = 0.0;
        for i in 0..N {
            let scale = self.atol + self.rtol * y[i].abs();
            let a = (f1[i] - f0[i]) / scale;
            der2 += a * a;
        }
        let der2 = der2.sqrt() / h;
        let der12 = der2.max(dnf.sqrt());
        let h1 = if !der12.is_finite() {
            h * 1e-3
        } else if der12 <= 1e-15 {
            (h * 1e-3).max(1e-6)
        } else {
            (0.01 / der12).powf_det(1.0 / f64::from(ORDER))
        };
        (100.0 * h).min(h1).min(h_max)
    }
}

/// A plain [`OdeSystem`] with its Jacobian and time derivative by forward differences,
/// counting every call of `rhs` it makes.
struct FiniteDifferences<'a, S> {
    system: &'a S,
    rhs_calls: Cell<u32>,
}

impl<const N: usize, S: OdeSystem<N>> OdeSystem<N> for FiniteDifferences<'_, S> {
    #[inline]
    fn rhs(&self, t: f64, y: &[f64; N], dy: &mut [f64; N]) {
        self.rhs_calls.set(self.rhs_calls.get().saturating_add(1));
        self.system.rhs(t, y, dy);
    }
}

impl<const N: usize, S: OdeSystem<N>> StiffSystem<N> for FiniteDifferences<'_, S> {
    /// Column c from the increment `sqrt(ε · max(1e-5, |y_c|))` (rodas.f's choice).
    fn jacobian(&self, t: f64, y: &[f64; N], j: &mut [[f64; N]; N]) {
        let mut f0 = [0.0; N];
        self.rhs(t, y, &mut f0);
        let mut yp = *y;
        let mut fp = [0.0; N];
        for c in 0..N {
            let delta = (f64::EPSILON * y[c].abs().max(1e-5)).sqrt();
            yp[c] = y[c] + delta;
            let delta = yp[c] - y[c];
            self.rhs(t, &yp, &mut fp);
            for r in 0..N {
                j[r][c] = (fp[r] - f0[r]) / delta;
            }
            yp[c] = y[c];
        }
    }
}

/// Any [`OdeSystem`] through the common trait, with the Jacobian and ∂f/∂t by forward
/// differences (N + 3 extra calls of `rhs` per step, all counted in `rhs_evaluations`).
/// A system with an analytic Jacobian should implement [`StiffSystem`] and call
/// [`Rodas4::integrate_stiff`].
impl<const N: usize> Integrator<N> for Rodas4 {
    fn integrate<S: OdeSystem<N>>(
        &self,
        system: &S,
        t0: f64,
        t1: f64,
        y: &mut [f64; N],
    ) -> Result<IntegrationStats, OdeError> {
        let fd = FiniteDifferences {
            system,
            rhs_calls: Cell::new(0),
        };
        let mut stats = self.integrate_stiff(&fd, t0, t1, y)?;
        stats.rhs_evaluations = fd.rhs_calls.get();
        Ok(stats)
    }
}

/// An LU factorisation with partial pivoting of an N×N matrix, P·A = L·U, on the stack.
struct Lu<const N: usize> {
    /// L below the diagonal (unit diagonal implied), U on and above it.
    factors: [[f64; N]; N],
    /// 1 / U[i][i], so that solving multiplies instead of dividing.
    inv_diag: [f64; N],
    /// Row i of P·A is row `perm[i]` of A.
    perm: [usize; N],
}

impl<const N: usize> Lu<N> {
    /// Factorises `a` in place (Doolittle, partial pivoting by rows). `None` if a pivot is
    /// zero or not finite: the matrix is singular to working precision.
    #[inline]
    fn factor(mut a: [[f64; N]; N]) -> Option<Self> {
        let mut perm = [0usize; N];
        for (i, p) in perm.iter_mut().enumerate() {
            *p = i;
        }
        let mut inv_diag = [0.0; N];
        for k in 0..N {
            let mut p = k;
            let mut max = a[k][k].abs();
            for (i, row) in a.iter().enumerate().skip(k + 1) {
                if row[k].abs() > max {
                    max = row[k].abs();
                    p = i;
                }
            }
            if max == 0.0 || !max.is_finite() {
                return None;
            }
            a.swap(k, p);
            perm.swap(k, p);
            let pivot_row = a[k];
            let inv = 1.0 / pivot_row[k];
            inv_diag[k] = inv;
            for row in a.iter_mut().skip(k + 1) {
                let m = row[k] * inv;
                row[k] = m;
                for c in k + 1..N {
                    row[c] -= m * pivot_row[c];
                }
            }
        }
        Some(Lu {
            factors: a,
            inv_diag,
            perm,
        })
    }

    /// Solves A·x = b, overwriting b with x.
    // Index loops keep the textbook substitution order (and its rounding).
    #[allow(clippy::needless_range_loop)]
    #[inline]
    fn solve(&self, b: &mut [f64; N]) {
        let mut x = [0.0; N];
        for i in 0..N {
            let mut s = b[self.perm[i]];
            for j in 0..i {
                s -= self.factors[i][j] * x[j];
            }
            x[i] = s;
        }
        for i in (0..N).rev() {
            let mut s = x[i];
            for j in i + 1..N {
                s -= self.factors[i][j] * x[j];
            }
            x[i] = s * self.inv_diag[i];
        }
        *b = x;
    }
}

#[cfg(test)]
#[allow(clippy::disallowed_methods)] // the platform libm as a reference (clippy.toml)
mod tests {
    use super::*;

    fn rodas(rtol: f64, atol: f64) -> Rodas4 {
        Rodas4 {
            rtol,
            atol,
            ..Rodas4::default()
        }
    }

    /// |a − b| within `rel` of |b| (or of 1 when |b| < 1).
    fn check(got: f64, want: f64, rel: f64) {
        assert!(
            (got - want).abs() <= rel * want.abs().max(1.0),
            "{got:e} vs {want:e} (tolerance {rel:e})"
        );
    }

    /// y' = λ y.
    struct Linear1(f64);
    impl OdeSystem<1> for Linear1 {
        fn rhs(&self, _t: f64, y: &[f64; 1], dy: &mut [f64; 1]) {
            dy[0] = self.0 * y[0];
        }
    }
    impl StiffSystem<1> for Linear1 {
        fn jacobian(&self, _t: f64, _y: &[f64; 1], j: &mut [[f64; 1]; 1]) {
            j[0][0] = self.0;
        }
        fn time_derivative(&self, _t: f64, _y: &[f64; 1], dfdt: &mut [f64; 1]) {
            dfdt[0] = 0.0;
        }
    }

    /// y' = A y with eigenvalues −1 and −1000: y = (2e^{−t} − e^{−1000t}, −e^{−t} + e^{−1000t})
    /// from y(0) = (1, 0).
    struct Stiff2;
    const STIFF2: [[f64; 2]; 2] = [[998.0, 1998.0], [-999.0, -1999.0]];
    impl OdeSystem<2> for Stiff2 {
        fn rhs(&self, _t: f64, y: &[f64; 2], dy: &mut [f64; 2]) {
            for r in 0..2 {
                dy[r] = STIFF2[r][0] * y[0] + STIFF2[r][1] * y[1];
            }
        }
    }
    impl StiffSystem<2> for Stiff2 {
        fn jacobian(&self, _t: f64, _y: &[f64; 2], j: &mut [[f64; 2]; 2]) {
            *j = STIFF2;
        }
        fn time_derivative(&self, _t: f64, _y: &[f64; 2], dfdt: &mut [f64; 2]) {
            *dfdt = [0.0; 2];
        }
    }

    /// Robertson's chemical kinetics (Hairer & Wanner II, §IV.1).
    struct Robertson;
    impl OdeSystem<3> for Robertson {
        fn rhs(&self, _t: f64, y: &[f64; 3], dy: &mut [f64; 3]) {
            let a = 0.04 * y[0];
            let b = 1e4 * y[1] * y[2];
            let c = 3e7 * y[1] * y[1];
            *dy = [-a + b, a - b - c, c];
        }
    }
    impl StiffSystem<3> for Robertson {
        fn jacobian(&self, _t: f64, y: &[f64; 3], j: &mut [[f64; 3]; 3]) {
            *j = [
                [-0.04, 1e4 * y[2], 1e4 * y[1]],
                [0.04, -1e4 * y[2] - 6e7 * y[1], -1e4 * y[1]],
                [0.0, 6e7 * y[1], 0.0],
            ];
        }
        fn time_derivative(&self, _t: f64, _y: &[f64; 3], dfdt: &mut [f64; 3]) {
            *dfdt = [0.0; 3];
        }
    }

    /// Van der Pol: y1' = y2, y2' = μ (1 − y1²) y2 − y1 (relaxation period ≈ (3 − 2 ln 2) μ).
    struct VanDerPol(f64);
    impl OdeSystem<2> for VanDerPol {
        fn rhs(&self, _t: f64, y: &[f64; 2], dy: &mut [f64; 2]) {
            *dy = [y[1], self.0 * (1.0 - y[0] * y[0]) * y[1] - y[0]];
        }
    }
    impl StiffSystem<2> for VanDerPol {
        fn jacobian(&self, _t: f64, y: &[f64; 2], j: &mut [[f64; 2]; 2]) {
            *j = [
                [0.0, 1.0],
                [
                    -2.0 * self.0 * y[0] * y[1] - 1.0,
                    self.0 * (1.0 - y[0] * y[0]),
                ],
            ];
        }
        fn time_derivative(&self, _t: f64, _y: &[f64; 2], dfdt: &mut [f64; 2]) {
            *dfdt = [0.0; 2];
        }
    }

    /// Prothero–Robinson: y' = λ (y − g(t)) + g'(t) with g = sin, exact y = sin t from
    /// y(0) = 0. Stiff for large |λ|, and the error is all in how ∂f/∂t is handled.
    struct ProtheroRobinson {
        lambda: f64,
        analytic_dfdt: bool,
    }
    impl OdeSystem<1> for ProtheroRobinson {
        fn rhs(&self, t: f64, y: &[f64; 1], dy: &mut [f64; 1]) {
            dy[0] = self.lambda * (y[0] - t.sin()) + t.cos();
        }
    }
    impl StiffSystem<1> for ProtheroRobinson {
        fn jacobian(&self, _t: f64, _y: &[f64; 1], j: &mut [[f64; 1]; 1]) {
            j[0][0] = self.lambda;
        }
        fn time_derivative(&self, t: f64, y: &[f64; 1], dfdt: &mut [f64; 1]) {
            if self.analytic_dfdt {
                dfdt[0] = -self.lambda * t.cos() - t.sin();
            } else {
                // The trait's default, reached through a system without an override.
                struct Plain<'a>(&'a ProtheroRobinson);
                impl OdeSystem<1> for Plain<'_> {
                    fn rhs(&self, t: f64, y: &[f64; 1], dy: &mut [f64; 1]) {
                        self.0.rhs(t, y, dy);
                    }
                }
                impl StiffSystem<1> for Plain<'_> {
                    fn jacobian(&self, t: f64, y: &[f64; 1], j: &mut [[f64; 1]; 1]) {
                        self.0.jacobian(t, y, j);
                    }
                }
                Plain(self).time_derivative(t, y, dfdt);
            }
        }
    }

    /// y' = −2 t y: y = exp(−t²) from y(0) = 1 (non-autonomous, non-stiff).
    struct Gaussian;
    impl OdeSystem<1> for Gaussian {
        fn rhs(&self, t: f64, y: &[f64; 1], dy: &mut [f64; 1]) {
            dy[0] = -2.0 * t * y[0];
        }
    }
    impl StiffSystem<1> for Gaussian {
        fn jacobian(&self, t: f64, _y: &[f64; 1], j: &mut [[f64; 1]; 1]) {
            j[0][0] = -2.0 * t;
        }
        fn time_derivative(&self, _t: f64, y: &[f64; 1], dfdt: &mut [f64; 1]) {
            dfdt[0] = -2.0 * y[0];
        }
    }

    #[test]
    fn lu_solves_a_system_that_needs_pivoting() {
        // a[0][0] = 0 forces a row swap.
        let a = [[0.0, 2.0, 1.0], [1.0, 1.0, 1.0], [4.0, -1.0, 3.0]];
        let x = [1.5, -2.0, 0.25];
        let mut b = [0.0; 3];
        for r in 0..3 {
            b[r] = (0..3).map(|c| a[r][c] * x[c]).sum();
        }
        let lu = Lu::factor(a).unwrap();
        lu.solve(&mut b);
        for i in 0..3 {
            check(b[i], x[i], 1e-14);
        }
        assert!(Lu::factor([[1.0, 2.0], [2.0, 4.0]]).is_none());
    }

    #[test]
    fn linear_test_equation_non_stiff_and_stiff() {
        for (lambda, t1) in [(-1.0, 5.0), (0.5, 4.0), (-1e6, 1.0)] {
            let mut y = [1.0];
            let s = rodas(1e-8, 1e-12)
                .integrate_stiff(&Linear1(lambda), 0.0, t1, &mut y)
                .unwrap();
            let exact = (lambda * t1).exp();
            assert!(
                (y[0] - exact).abs() <= 1e-6 * exact + 1e-11,
                "λ = {lambda}: {} vs {exact}",
                y[0]
            );
            // Steps are set by accuracy (resolving the transient down to atol), not by
            // stability: an explicit method would need |λ|·t1/3 ≈ 300,000.
            assert!(s.accepted_steps < 600, "λ = {lambda}: {s:?}");
        }
    }

    #[test]
    fn integrates_backwards_in_time() {
        let mut y = [(-3.0f64).exp()];
        rodas(1e-9, 1e-14)
            .integrate_stiff(&Linear1(-1.0), 3.0, 0.0, &mut y)
            .unwrap();
        check(y[0], 1.0, 1e-7);
    }

    #[test]
    fn stiff_linear_two_by_two_matches_exact_solution() {
        let exact = |t: f64| {
            let (slow, fast) = ((-t).exp(), (-1000.0 * t).exp());
            [2.0 * slow - fast, -slow + fast]
        };
        // In pieces, as a step loop calls it, including inside the fast transient.
        let solver = rodas(1e-7, 1e-10);
        let mut y = [1.0, 0.0];
        let mut total = IntegrationStats::default();
        let times = [0.0, 1e-3, 5e-3, 0.1, 1.0, 3.0, 10.0];
        for w in times.windows(2) {
            let s = solver.integrate_stiff(&Stiff2, w[0], w[1], &mut y).unwrap();
            total.accepted_steps += s.accepted_steps;
            let want = exact(w[1]);
            for i in 0..2 {
                assert!(
                    (y[i] - want[i]).abs() <= 1e-5 * want[i].abs() + 1e-9,
                    "t = {}: {y:?} vs {want:?}",
                    w[1]
                );
            }
        }
        // An explicit method would need > 10 / (2.8/1000) ≈ 3,600 steps for stability alone.
        assert!(total.accepted_steps < 300, "{total:?}");
    }

    /// Reference at t = 40 from Hairer & Wanner's test set (ROBER), also obtained here with
    /// SciPy Radau at rtol 1e-12 / atol 1e-16.
    #[test]
    fn robertson_at_t40_matches_reference() {
        let want = [0.715_827_068_7, 9.185_534_764e-6, 0.284_163_745_7];
        let mut y = [1.0, 0.0, 0.0];
        let s = rodas(1e-10, 1e-14)
            .integrate_stiff(&Robertson, 0.0, 40.0, &mut y)
            .unwrap();
        check(y[0], want[0], 1e-9);
        assert!((y[1] - want[1]).abs() <= 1e-9 * want[1], "{y:?}");
        check(y[2], want[2], 1e-9);
        assert!(
            (y.iter().sum::<f64>() - 1.0).abs() < 1e-12,
            "mass not conserved"
        );
        assert!(s.accepted_steps < 5000, "{s:?}");

        // The same through the common trait with finite-difference Jacobians, at the
        // default tolerances.
        let mut y = [1.0, 0.0, 0.0];
        let s = Integrator::integrate(&Rodas4::default(), &Robertson, 0.0, 40.0, &mut y).unwrap();
        check(y[0], want[0], 1e-5);
        assert!((y[1] - want[1]).abs() <= 1e-4 * want[1], "{y:?}");
        check(y[2], want[2], 1e-5);
        assert!(s.rhs_evaluations > 6 * s.accepted_steps, "{s:?}");
    }

    #[test]
    fn robertson_over_eleven_decades() {
        // The classic hard horizon: t = 4e10, where y1 and y2 have almost vanished.
        let mut y = [1.0, 0.0, 0.0];
        let solver = Rodas4 {
            rtol: 1e-6,
            atol: 1e-12,
            ..Rodas4::default()
        };
        let s = solver
            .integrate_stiff(&Robertson, 0.0, 4e10, &mut y)
            .unwrap();
        assert!(y.iter().all(|v| *v > -1e-10), "{y:?}");
        assert!((y.iter().sum::<f64>() - 1.0).abs() < 1e-9);
        assert!(y[2] > 0.9999 && y[0] < 1e-4, "{y:?}");
        assert!(s.accepted_steps < 2000, "{s:?}");
    }

    #[test]
    fn van_der_pol_mu_1000_needs_few_steps() {
        let sys = VanDerPol(1000.0);
        let solver = Rodas4 {
            rtol: 1e-6,
            atol: 1e-6,
            max_steps: 20_000,
            ..Rodas4::default()
        };
        let mut y = [2.0, 0.0];
        let mut max_abs = 0.0f64;
        let mut total = 0;
        // Two relaxation periods (each ≈ (3 − 2 ln 2) μ ≈ 1,614), checked every 100.
        for i in 0..30 {
            let t0 = 100.0 * i as f64;
            let s = solver
                .integrate_stiff(&sys, t0, t0 + 100.0, &mut y)
                .unwrap();
            total += s.accepted_steps + s.rejected_steps;
            max_abs = max_abs.max(y[0].abs());
        }
        assert!(
            max_abs < 2.01 && max_abs > 1.5,
            "limit cycle amplitude {max_abs}"
        );
        assert!(total < 5_000, "{total} steps");
        // The limit cycle crosses y1 = 0 four times in 3,000: y1 changes sign between.
        let mut y = [2.0, 0.0];
        let mut crossings = 0;
        let mut prev = y[0];
        for i in 0..300 {
            let t0 = 10.0 * i as f64;
            solver.integrate_stiff(&sys, t0, t0 + 10.0, &mut y).unwrap();
            if y[0].signum() != prev.signum() {
                crossings += 1;
            }
            prev = y[0];
        }
        assert_eq!(crossings, 3, "sign changes of y1 over [0, 3000]");
    }

    #[test]
    fn max_steps_is_reported() {
        let solver = Rodas4 {
            max_steps: 5,
            ..Rodas4::default()
        };
        let mut y = [2.0, 0.0];
        let err = solver
            .integrate_stiff(&VanDerPol(1000.0), 0.0, 3000.0, &mut y)
            .unwrap_err();
        assert!(
            matches!(err, OdeError::TooManySteps { max_steps: 5, .. }),
            "{err:?}"
        );
    }

    #[test]
    fn non_finite_state_is_an_error() {
        let mut y = [f64::NAN];
        let err = Rodas4::default()
            .integrate_stiff(&Linear1(-1.0), 0.0, 1.0, &mut y)
            .unwrap_err();
        assert_eq!(err, OdeError::NotFinite { t: 0.0 });
        // Finite-time blow-up y' = y², y(0) = 1: the step size collapses before t = 1.
        struct Blowup;
        impl OdeSystem<1> for Blowup {
            fn rhs(&self, _t: f64, y: &[f64; 1], dy: &mut [f64; 1]) {
                dy[0] = y[0] * y[0];
            }
        }
        let mut y = [1.0];
        let err = Integrator::integrate(&Rodas4::default(), &Blowup, 0.0, 2.0, &mut y).unwrap_err();
        assert!(
            matches!(
                err,
                OdeError::StepSizeUnderflow { t } | OdeError::NotFinite { t } | OdeError::TooManySteps { t, .. } if t < 1.0 + 1e-6
            ),
            "{err:?}"
        );
    }

    /// The error at the end falls with the tolerance, roughly in proportion.
    #[test]
    fn error_shrinks_with_tolerance() {
        let mut errors = Vec::new();
        for tol in [1e-4, 1e-6, 1e-8, 1e-10] {
            let mut y = [1.0];
            rodas(tol, tol * 1e-3)
                .integrate_stiff(&Gaussian, 0.0, 3.0, &mut y)
                .unwrap();
            let err = (y[0] - (-9.0f64).exp()).abs() / (-9.0f64).exp();
            errors.push(err);
        }
        for w in errors.windows(2) {
            assert!(w[1] < w[0] / 10.0, "{errors:?}");
        }
        assert!(errors[3] < 1e-8, "{errors:?}");
    }

    /// Local error of one step is O(h^5) (order 4) and the embedded estimate O(h^4):
    /// halving h divides them by about 32 and 16. Checks every coefficient at once.
    #[test]
    fn one_step_has_order_four_and_the_estimate_order_three() {
        let solver = rodas(1.0, 1.0);
        let sys = Gaussian;
        let (t, y) = (0.3, [(-0.09f64).exp()]);
        let exact = |t: f64| (-t * t).exp();
        let mut local = Vec::new();
        let mut estimate = Vec::new();
        for h in [0.04, 0.02, 0.01, 0.005] {
            let mut f0 = [0.0];
            sys.rhs(t, &y, &mut f0);
            let (mut jac, mut dfdt) = ([[0.0]], [0.0]);
            sys.jacobian(t, &y, &mut jac);
            sys.time_derivative(t, &y, &mut dfdt);
            let a = solver.attempt(&sys, t, &y, &f0, &jac, &dfdt, h).unwrap();
            local.push((a.y_new[0] - exact(t + h)).abs());
            // With atol = rtol = 1, err ≈ |k6| / (1 + |y|).
            estimate.push(a.err);
        }
        for w in local.windows(2) {
            let ratio = w[0] / w[1];
            assert!((26.0..40.0).contains(&ratio), "local errors {local:?}");
        }
        for w in estimate.windows(2) {
            let ratio = w[0] / w[1];
            assert!((12.0..20.0).contains(&ratio), "estimates {estimate:?}");
        }
    }

    #[test]
    fn non_autonomous_prothero_robinson_with_analytic_and_default_dfdt() {
        for analytic_dfdt in [true, false] {
            let sys = ProtheroRobinson {
                lambda: -1e5,
                analytic_dfdt,
            };
            let mut y = [0.0];
            let s = rodas(1e-7, 1e-10)
                .integrate_stiff(&sys, 0.0, 10.0, &mut y)
                .unwrap();
            assert!(
                (y[0] - 10f64.sin()).abs() < 1e-6,
                "analytic ∂f/∂t {analytic_dfdt}: {} vs {}",
                y[0],
                10f64.sin()
            );
            assert!(s.accepted_steps < 400, "{s:?}");
        }
    }

    #[test]
    fn non_autonomous_gaussian_matches_exact_solution() {
        let mut y = [1.0];
        rodas(1e-9, 1e-14)
            .integrate_stiff(&Gaussian, 0.0, 2.0, &mut y)
            .unwrap();
        check(y[0], (-4.0f64).exp(), 1e-7);
    }

    #[test]
    fn integrator_trait_matches_analytic_jacobian() {
        let (mut a, mut b) = ([1.0, 0.0], [1.0, 0.0]);
        let solver = rodas(1e-8, 1e-12);
        solver.integrate_stiff(&Stiff2, 0.0, 2.0, &mut a).unwrap();
        Integrator::integrate(&solver, &Stiff2, 0.0, 2.0, &mut b).unwrap();
        for i in 0..2 {
            check(a[i], b[i], 1e-7);
        }
    }

    #[test]
    fn zero_length_interval_is_a_no_op() {
        let mut y = [3.0];
        let s = Rodas4::default()
            .integrate_stiff(&Linear1(-1.0), 1.0, 1.0, &mut y)
            .unwrap();
        assert_eq!((y, s), ([3.0], IntegrationStats::default()));
    }
}
