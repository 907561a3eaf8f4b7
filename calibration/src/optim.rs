//! A quick point fit: argmin's Nelder–Mead simplex on the squared distance, in the unit
//! cube of prior quantiles (every point a valid parameter set), starting from the model's
//! defaults (or a given point). Each cost is one simulation with common random numbers, so
//! the objective is a deterministic function of the parameters and the simplex does not
//! chase noise.
//!
//! Must never: evaluate a point outside the parameters' accepted ranges.

use std::sync::Mutex;

use argmin::core::{CostFunction, Error as ArgminError, Executor, State};
use argmin::solver::neldermead::NelderMead;

use crate::distance::Distance;
use crate::simulate::Simulator;
use crate::CalibrationError;

/// Settings of a Nelder–Mead fit.
#[derive(Clone, Copy, Debug)]
pub struct NmOptions {
    pub max_iterations: u64,
    /// Stop when the simplex's cost values have this standard deviation or less.
    pub sd_tolerance: f64,
    /// Edge of the initial simplex in prior-quantile units.
    pub initial_step: f64,
}

impl Default for NmOptions {
    fn default() -> Self {
        NmOptions {
            max_iterations: 200,
            sd_tolerance: 1e-4,
            initial_step: 0.1,
        }
    }
}

/// What a point fit returns.
#[derive(Clone, Debug)]
pub struct PointFit {
    pub theta: Vec<f64>,
    pub stats: Vec<f64>,
    pub distance: f64,
    pub evaluations: usize,
    pub iterations: u64,
    pub stopped: String,
    /// Distance of the best point after each evaluation (the report's trace).
    pub trace: Vec<f64>,
}

/// The best point so far: (cost, parameter values, simulated targets).
type Best = Option<(f64, Vec<f64>, Vec<f64>)>;

struct Objective<'a> {
    sim: &'a Simulator,
    distance: &'a Distance,
    trace: &'a Mutex<Vec<f64>>,
    best: &'a Mutex<Best>,
}

impl Objective<'_> {
    fn theta(&self, u: &[f64]) -> Vec<f64> {
        self.sim
            .parameters
            .iter()
            .zip(u)
            .map(|(p, &x)| p.quantile(x.clamp(1e-9, 1.0 - 1e-9)))
            .collect()
    }
}

impl CostFunction for Objective<'_> {
    type Param = Vec<f64>;
    type Output = f64;

    fn cost(&self, u: &Vec<f64>) -> Result<f64, ArgminError> {
        let theta = self.theta(u);
        let stats = self.sim.evaluate(&theta)?;
        let d = self.distance.of(&stats);
        // Points outside the cube cost more the further out they are (the simplex comes
        // back); inside, the squared distance.
        let outside: f64 = u.iter().map(|x| (x - x.clamp(0.0, 1.0)).abs()).sum();
        let cost = if d.is_finite() { d * d } else { 1e12 } + 1e3 * outside;
        let mut best = self.best.lock().expect("not poisoned");
        if best.as_ref().is_none_or(|b| cost < b.0) {
            *best = Some((cost, theta, stats));
        }
        let b = best.as_ref().map(|b| b.0.sqrt()).unwrap_or(f64::INFINITY);
        self.trace.lock().expect("not poisoned").push(b);
        Ok(cost)
    }
}

/// Fits the simulator's parameters by Nelder–Mead from `start` (parameter values; `None`:
/// the model defaults).
pub fn fit(
    sim: &Simulator,
    distance: &Distance,
    start: Option<&[f64]>,
    opts: &NmOptions,
) -> Result<PointFit, CalibrationError> {
    let defaults = sim.defaults();
    let start = start.unwrap_or(&defaults);
    let u0: Vec<f64> = sim
        .parameters
        .iter()
        .zip(start)
        .map(|(p, &x)| p.cdf(x).clamp(0.02, 0.98))
        .collect();
    let d = u0.len();
    let mut simplex = vec![u0.clone()];
    for i in 0..d {
        let mut v = u0.clone();
        // Step inwards when the step would leave the cube.
        v[i] = if v[i] + opts.initial_step <= 1.0 {
            v[i] + opts.initial_step
        } else {
            v[i] - opts.initial_step
        };
        simplex.push(v);
    }
    let trace = Mutex::new(Vec::new());
    let best = Mutex::new(None);
    let objective = Objective {
        sim,
        distance,
        trace: &trace,
        best: &best,
    };
    let solver = NelderMead::new(simplex)
        .with_sd_tolerance(opts.sd_tolerance)
        .map_err(|e| CalibrationError::Setup(e.to_string()))?;
    let result = Executor::new(objective, solver)
        .configure(|s| s.max_iters(opts.max_iterations))
        .timer(false)
        .run()
        .map_err(|e| match e.downcast::<CalibrationError>() {
            Ok(c) => c,
            Err(e) => CalibrationError::Setup(format!("Nelder-Mead: {e}")),
        })?;
    let state = result.state();
    let iterations = state.get_iter();
    let stopped = state
        .get_termination_reason()
        .map(|r| r.text().to_string())
        .unwrap_or_else(|| "stopped".into());
    let trace = trace.into_inner().expect("not poisoned");
    let (cost, theta, stats) = best
        .into_inner()
        .expect("not poisoned")
        .ok_or_else(|| CalibrationError::Setup("Nelder-Mead evaluated no point".into()))?;
    Ok(PointFit {
        theta,
        distance: cost.sqrt(),
        stats,
        evaluations: trace.len(),
        iterations,
        stopped,
        trace,
    })
}
