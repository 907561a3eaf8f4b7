//! Allocation-free explicit Runge–Kutta integration for non-stiff systems integrated in the
//! per-patient hot loop: Dormand–Prince 5(4) with the standard error control.
//!
//! Dormand JR, Prince PJ. A family of embedded Runge-Kutta formulae. J Comput Appl Math
//! 1980;6:19–26; step-size control as in Hairer, Nørsett & Wanner, Solving Ordinary
//! Differential Equations I (2nd ed.), §II.4. Unlike [`crate::ode::Dopri5`] (the
//! ode_solvers crate, which allocates per call), this keeps everything on the stack and can
//! carry the step size from one call to the next, so integrating a month at a time costs
//! little more than integrating the whole horizon at once.

use crate::detmath::DetMath;
use crate::ode::{IntegrationStats, Integrator, OdeError, OdeSystem};

/// Dormand–Prince 5(4), allocation-free.
#[derive(Clone, Copy, Debug)]
pub struct Rk45 {
    pub rtol: f64,
    pub atol: f64,
    pub max_steps: u32,
}

impl Default for Rk45 {
    fn default() -> Self {
        Rk45 {
            rtol: 1e-6,
            atol: 1e-9,
            max_steps: 100_000,
        }
    }
}

const C2: f64 = 1.0 / 5.0;
const C3: f64 = 3.0 / 10.0;
const C4: f64 = 4.0 / 5.0;
const C5: f64 = 8.0 / 9.0;
const A21: f64 = 1.0 / 5.0;
const A31: f64 = 3.0 / 40.0;
const A32: f64 = 9.0 / 40.0;
const A41: f64 = 44.0 / 45.0;
const A42: f64 = -56.0 / 15.0;
const A43: f64 = 32.0 / 9.0;
const A51: f64 = 19372.0 / 6561.0;
const A52: f64 = -25360.0 / 2187.0;
const A53: f64 = 64448.0 / 6561.0;
const A54: f64 = -212.0 / 729.0;
const A61: f64 = 9017.0 / 3168.0;
const A62: f64 = -355.0 / 33.0;
const A63: f64 = 46732.0 / 5247.0;
const A64: f64 = 49.0 / 176.0;
const A65: f64 = -5103.0 / 18656.0;
const A71: f64 = 35.0 / 384.0;
const A73: f64 = 500.0 / 1113.0;
const A74: f64 = 125.0 / 192.0;
const A75: f64 = -2187.0 / 6784.0;
const A76: f64 = 11.0 / 84.0;
// Error coefficients: 5th-order weights minus the embedded 4th-order weights.
const E1: f64 = 71.0 / 57600.0;
const E3: f64 = -71.0 / 16695.0;
const E4: f64 = 71.0 / 1920.0;
const E5: f64 = -17253.0 / 339200.0;
const E6: f64 = 22.0 / 525.0;
const E7: f64 = -1.0 / 40.0;

impl Rk45 {
    /// Advances `y` from `t0` to `t1`. `h` carries the step size between calls: pass 0 the
    /// first time (an initial step is then estimated) and the value it returns next time.
    pub fn integrate_carrying<const N: usize, S: OdeSystem<N>>(
        &self,
        sys: &S,
        t0: f64,
        t1: f64,
        y: &mut [f64; N],
        h: &mut f64,
    ) -> Result<IntegrationStats, OdeError> {
        let mut stats = IntegrationStats::default();
        let span = t1 - t0;
        if span == 0.0 {
            return Ok(stats);
        }
        let dir = span.signum();
        let mut t = t0;
        let mut k1 = [0.0; N];
        sys.rhs(t, y, &mut k1);
        stats.rhs_evaluations += 1;
        let mut step = if *h > 0.0 {
            h.min(span.abs())
        } else {
            self.initial_step(sys, t, y, &k1, span.abs(), &mut stats)
        };
        let (mut k2, mut k3, mut k4, mut k5, mut k6, mut k7) =
            ([0.0; N], [0.0; N], [0.0; N], [0.0; N], [0.0; N], [0.0; N]);
        let mut yt = [0.0; N];
        let mut ynew = [0.0; N];
        let mut last_ok_step = step;
        loop {
            if stats.accepted_steps + stats.rejected_steps >= self.max_steps {
                return Err(OdeError::TooManySteps {
                    t,
                    max_steps: self.max_steps,
                });
            }
            let remaining = (t1 - t) * dir;
            let last = step >= remaining * (1.0 - 1e-12);
            let hs = if last { remaining } else { step } * dir;
            for i in 0..N {
                yt[i] = y[i] + hs * A21 * k1[i];
            }
            sys.rhs(t + C2 * hs, &yt, &mut k2);
            for i in 0..N {
                yt[i] = y[i] + hs * (A31 * k1[i] + A32 * k2[i]);
            }
            sys.rhs(t + C3 * hs, &yt, &mut k3);
            for i in 0..N {
                yt[i] = y[i] + hs * (A41 * k1[i] + A42 * k2[i] + A43 * k3[i]);
            }
            sys.rhs(t + C4 * hs, &yt, &mut k4);
            for i in 0..N {
                yt[i] = y[i] + hs * (A51 * k1[i] + A52 * k2[i] + A53 * k3[i] + A54 * k4[i]);
            }
            sys.rhs(t + C5 * hs, &yt, &mut k5);
            for i in 0..N {
                yt[i] = y[i]
                    + hs * (A61 * k1[i] + A62 * k2[i] + A63 * k3[i] + A64 * k4[i] + A65 * k5[i]);
            }
            sys.rhs(t + hs, &yt, &mut k6);
            for i in 0..N {
                ynew[i] = y[i]
                    + hs * (A71 * k1[i] + A73 * k3[i] + A74 * k4[i] + A75 * k5[i] + A76 * k6[i]);
            }
            sys.rhs(t + hs, &ynew, &mut k7);
            stats.rhs_evaluations += 6;
            let mut err = 0.0f64;
            for i in 0..N {
                let e = hs
                    * (E1 * k1[i] + E3 * k3[i] + E4 * k4[i] + E5 * k5[i] + E6 * k6[i] + E7 * k7[i]);
                let sc = self.atol + self.rtol * y[i].abs().max(ynew[i].abs());
                err += (e / sc) * (e / sc);
            }
            let err = (err / N as f64).sqrt();
            if !err.is_finite() {
                return Err(OdeError::NotFinite { t });
            }
            let factor = if err == 0.0 {
                5.0
            } else {
                (0.9 * err.powf_det(-0.2)).clamp(0.2, 5.0)
            };
            if err <= 1.0 {
                stats.accepted_steps += 1;
                *y = ynew;
                k1 = k7;
                if last {
                    // Carry the step the controller would take next, not the truncated one.
                    *h = (step * factor).max(last_ok_step.min(step));
                    return Ok(stats);
                }
                t += hs;
                last_ok_step = step;
                step *= factor;
            } else {
                stats.rejected_steps += 1;
                step *= factor.min(1.0);
                if step < 1e-14 * span.abs() {
                    return Err(OdeError::StepSizeUnderflow { t });
                }
            }
        }
    }

    /// Hairer–Wanner's starting-step heuristic (HNW I, §II.4).
    fn initial_step<const N: usize, S: OdeSystem<N>>(
        &self,
        sys: &S,
        t: f64,
        y: &[f64; N],
        f0: &[f64; N],
        span: f64,
        stats: &mut IntegrationStats,
    ) -> f64 {
        let (mut d0, mut d1) = (0.0, 0.0);
        for i in 0..N {
            let sc = self.atol + self.rtol * y[i].abs();
            let (a, b) = (y[i] / sc, f0[i] / sc);
            d0 += a * a;
            d1 += b * b;
        }
        let (d0, d1) = ((d0 / N as f64).sqrt(), (d1 / N as f64).sqrt());
        let h0 = if d0 < 1e-5 || d1 < 1e-5 {
            1e-6
        } else {
            0.01 * d0 / d1
        }
        .min(span);
        let mut y1 = [0.0; N];
        for i in 0..N {
            y1[i] = y[i] + h0 * f0[i];
        }
        let mut f1 = [0.0; N];
        sys.rhs(t + h0, &y1, &mut f1);
        stats.rhs_evaluations += 1;
        let mut d2 = 0.0;
        for i in 0..N {
            let sc = self.atol + self.rtol * y[i].abs();
            let a = (f1[i] - f0[i]) / sc;
            d2 += a * a;
        }
        let d2 = (d2 / N as f64).sqrt() / h0;
        let h1 = if d1.max(d2) <= 1e-15 {
            (h0 * 1e-3).max(1e-6)
        } else {
            (0.01 / d1.max(d2)).powf_det(0.2)
        };
        (100.0 * h0).min(h1).min(span)
    }
}

impl<const N: usize> Integrator<N> for Rk45 {
    fn integrate<S: OdeSystem<N>>(
        &self,
        system: &S,
        t0: f64,
        t1: f64,
        y: &mut [f64; N],
    ) -> Result<IntegrationStats, OdeError> {
        let mut h = 0.0;
        self.integrate_carrying(system, t0, t1, y, &mut h)
    }
}

#[cfg(test)]
#[allow(clippy::disallowed_methods)] // the platform libm as a reference (clippy.toml)
mod tests {
    use super::*;

    struct Logistic;
    impl OdeSystem<1> for Logistic {
        fn rhs(&self, _t: f64, y: &[f64; 1], dy: &mut [f64; 1]) {
            dy[0] = 0.7 * y[0] * (1.0 - y[0] / 10.0);
        }
    }
    struct Oscillator;
    impl OdeSystem<2> for Oscillator {
        fn rhs(&self, _t: f64, y: &[f64; 2], dy: &mut [f64; 2]) {
            dy[0] = y[1];
            dy[1] = -y[0];
        }
    }
    /// y' = cos(t) y: y = exp(sin t).
    struct NonAutonomous;
    impl OdeSystem<1> for NonAutonomous {
        fn rhs(&self, t: f64, y: &[f64; 1], dy: &mut [f64; 1]) {
            dy[0] = t.cos() * y[0];
        }
    }

    #[test]
    fn matches_analytic_solutions() {
        let rk = Rk45 {
            rtol: 1e-10,
            atol: 1e-12,
            ..Rk45::default()
        };
        let mut y = [0.5];
        rk.integrate(&Logistic, 0.0, 12.0, &mut y).unwrap();
        let exact = 10.0 / (1.0 + 19.0 * (-0.7f64 * 12.0).exp());
        assert!((y[0] - exact).abs() < 1e-8, "{} vs {exact}", y[0]);
        let mut y = [1.0];
        rk.integrate(&NonAutonomous, 0.0, 20.0, &mut y).unwrap();
        assert!((y[0] - 20f64.sin().exp()).abs() < 1e-8);
    }

    #[test]
    fn integrating_in_pieces_with_a_carried_step_agrees() {
        let rk = Rk45 {
            rtol: 1e-10,
            atol: 1e-12,
            ..Rk45::default()
        };
        let mut y = [1.0, 0.0];
        let mut h = 0.0;
        let mut evals = 0;
        for i in 0..100 {
            let t0 = i as f64 * 0.1;
            evals += rk
                .integrate_carrying(&Oscillator, t0, t0 + 0.1, &mut y, &mut h)
                .unwrap()
                .rhs_evaluations;
        }
        assert!((y[0] - 10f64.cos()).abs() < 1e-8 && (y[1] + 10f64.sin()).abs() < 1e-8);
        assert!(h > 0.0 && evals < 100 * 30, "{evals} evaluations");
    }

    #[test]
    fn error_shrinks_with_tolerance() {
        let err = |rtol: f64| {
            let rk = Rk45 {
                rtol,
                atol: rtol * 1e-3,
                ..Rk45::default()
            };
            let mut y = [1.0, 0.0];
            rk.integrate(&Oscillator, 0.0, 30.0, &mut y).unwrap();
            (y[0] - 30f64.cos()).abs()
        };
        let (coarse, fine) = (err(1e-4), err(1e-9));
        assert!(fine < coarse / 100.0, "{coarse} {fine}");
    }

    #[test]
    fn a_stiff_problem_reports_too_many_steps_instead_of_hanging() {
        struct Stiff;
        impl OdeSystem<1> for Stiff {
            fn rhs(&self, t: f64, y: &[f64; 1], dy: &mut [f64; 1]) {
                dy[0] = -1e7 * (y[0] - t.cos());
            }
        }
        let rk = Rk45 {
            max_steps: 1000,
            ..Rk45::default()
        };
        let mut y = [1.0];
        assert!(matches!(
            rk.integrate(&Stiff, 0.0, 100.0, &mut y),
            Err(OdeError::TooManySteps { .. })
        ));
    }
}
