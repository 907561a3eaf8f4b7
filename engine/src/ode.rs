//! ODE integration behind a small trait, so each model picks its integrator: ode_solvers'
//! Dopri5 for smooth non-stiff dynamics, a stiff or analytic path where the dynamics call
//! for one. A model's right-hand side is a pure function of (t, y, its parameters).

use nalgebra::SVector;
use ode_solvers::dop_shared::IntegrationError;

/// dy/dt = f(t, y) with `N` state variables.
pub trait OdeSystem<const N: usize> {
    fn rhs(&self, t: f64, y: &[f64; N], dy: &mut [f64; N]);
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct IntegrationStats {
    pub rhs_evaluations: u32,
    pub accepted_steps: u32,
    pub rejected_steps: u32,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum OdeError {
    #[error("integration stopped at t = {t}: more than {max_steps} steps needed")]
    TooManySteps { t: f64, max_steps: u32 },
    #[error("integration stopped at t = {t}: step size underflow")]
    StepSizeUnderflow { t: f64 },
    #[error("integration stopped at t = {t}: the problem became stiff (use a stiff integrator)")]
    Stiff { t: f64 },
    #[error("state is not finite at t = {t}")]
    NotFinite { t: f64 },
}

/// Advances `y` from `t0` to `t1` in place.
pub trait Integrator<const N: usize> {
    fn integrate<S: OdeSystem<N>>(
        &self,
        system: &S,
        t0: f64,
        t1: f64,
        y: &mut [f64; N],
    ) -> Result<IntegrationStats, OdeError>;
}

/// Dormand–Prince 5(4) with adaptive steps, from the ode_solvers crate.
///
/// ode_solvers allocates its stage and output vectors on every call; that is fine for
/// reference solutions and slow dynamics integrated once per step, but a model whose hot
/// loop integrates every step should use an allocation-free integrator instead. Its step
/// control calls the platform's `powf` (last bit machine-dependent), so simulation code uses
/// [`crate::rk::Rk45`] or [`crate::stiff::Rodas4`], which use [`crate::detmath`].
#[derive(Clone, Copy, Debug)]
pub struct Dopri5 {
    pub rtol: f64,
    pub atol: f64,
}

impl Default for Dopri5 {
    fn default() -> Self {
        Dopri5 {
            rtol: 1e-6,
            atol: 1e-9,
        }
    }
}

struct Adapter<'a, S>(&'a S);

impl<const N: usize, S: OdeSystem<N>> ode_solvers::System<f64, SVector<f64, N>> for Adapter<'_, S> {
    fn system(&self, t: f64, y: &SVector<f64, N>, dy: &mut SVector<f64, N>) {
        let mut out = [0.0; N];
        self.0.rhs(t, &y.data.0[0], &mut out);
        dy.copy_from_slice(&out);
    }
}

impl<const N: usize> Integrator<N> for Dopri5 {
    fn integrate<S: OdeSystem<N>>(
        &self,
        system: &S,
        t0: f64,
        t1: f64,
        y: &mut [f64; N],
    ) -> Result<IntegrationStats, OdeError> {
        if t1 == t0 {
            return Ok(IntegrationStats::default());
        }
        let y0 = SVector::<f64, N>::from_column_slice(y);
        let mut solver =
            ode_solvers::Dopri5::new(Adapter(system), t0, t1, t1 - t0, y0, self.rtol, self.atol);
        // Sparse output: the last stored point is the accepted step that lands on t1.
        solver.set_output(ode_solvers::OutputType::Sparse);
        let stats = solver.integrate().map_err(|e| match e {
            IntegrationError::MaxNumStepReached { x, n_step } => OdeError::TooManySteps {
                t: x,
                max_steps: n_step,
            },
            IntegrationError::StepSizeUnderflow { x } => OdeError::StepSizeUnderflow { t: x },
            IntegrationError::StiffnessDetected { x } => OdeError::Stiff { t: x },
        })?;
        let last = solver.y_out().last().ok_or(OdeError::NotFinite { t: t0 })?;
        if last.iter().any(|v| !v.is_finite()) {
            return Err(OdeError::NotFinite { t: t1 });
        }
        y.copy_from_slice(last.as_slice());
        Ok(IntegrationStats {
            rhs_evaluations: stats.num_eval,
            accepted_steps: stats.accepted_steps,
            rejected_steps: stats.rejected_steps,
        })
    }
}

#[cfg(test)]
#[allow(clippy::disallowed_methods)] // the platform libm as a reference (clippy.toml)
mod tests {
    use super::*;

    /// Logistic growth y' = r y (1 - y/K): y(t) = K / (1 + (K/y0 - 1) e^{-rt}).
    struct Logistic {
        r: f64,
        k: f64,
    }
    impl OdeSystem<1> for Logistic {
        fn rhs(&self, _t: f64, y: &[f64; 1], dy: &mut [f64; 1]) {
            dy[0] = self.r * y[0] * (1.0 - y[0] / self.k);
        }
    }

    /// Harmonic oscillator: energy is conserved and the solution is (cos t, -sin t).
    struct Oscillator;
    impl OdeSystem<2> for Oscillator {
        fn rhs(&self, _t: f64, y: &[f64; 2], dy: &mut [f64; 2]) {
            dy[0] = y[1];
            dy[1] = -y[0];
        }
    }

    #[test]
    fn dopri5_matches_analytic_logistic() {
        let sys = Logistic { r: 0.7, k: 10.0 };
        let mut y = [0.5];
        let solver = Dopri5 {
            rtol: 1e-10,
            atol: 1e-12,
        };
        solver.integrate(&sys, 0.0, 12.0, &mut y).unwrap();
        let exact = 10.0 / (1.0 + (10.0 / 0.5 - 1.0) * (-0.7f64 * 12.0).exp());
        assert!((y[0] - exact).abs() < 1e-8, "{} vs {exact}", y[0]);
    }

    #[test]
    fn dopri5_matches_analytic_oscillator_in_pieces() {
        // Integrating in 100 pieces (as the step loop does) must agree with the exact solution.
        let solver = Dopri5 {
            rtol: 1e-10,
            atol: 1e-12,
        };
        let mut y = [1.0, 0.0];
        for i in 0..100 {
            let t0 = i as f64 * 0.1;
            solver.integrate(&Oscillator, t0, t0 + 0.1, &mut y).unwrap();
        }
        assert!((y[0] - 10f64.cos()).abs() < 1e-7 && (y[1] + 10f64.sin()).abs() < 1e-7);
    }
}
