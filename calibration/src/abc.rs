//! Approximate Bayesian computation by sequential Monte Carlo (ABC-SMC; Toni et al. 2009,
//! J R Soc Interface 6:187; Beaumont et al. 2009, Biometrika 96:983) with adaptive
//! tolerances (each generation's tolerance is a quantile of the previous generation's
//! distances, Del Moral et al. 2012, Stat Comput 22:1009) and a population of particles.
//!
//! Generation 0 samples the prior and accepts every particle (the prior predictive). Each
//! later generation proposes from the weighted previous particles moved by a Gaussian kernel
//! and accepts a proposal whose distance to the targets is at most the tolerance; weights are
//! prior / kernel mixture. The kernel ([`KernelKind`]) is by default the optimal local
//! covariance matrix (OLCM, Filippi et al. 2013, Stat Appl Genet Mol Biol 12:87): around
//! particle i, Σᵢ = Σₖ ω̃ₖ (θₖ − θᵢ)(θₖ − θᵢ)ᵀ over the previous particles k already inside
//! the new tolerance (weights renormalised over them), which points the moves at the region
//! the next generation accepts; or the global Gaussian kernel with twice the particles'
//! weighted covariance (Beaumont et al. 2009's optimal-for-a-Gaussian choice). The sampler works in probit space: z = Φ⁻¹(prior quantile), where
//! every prior is a standard normal and no proposal falls outside the support (in the unit
//! cube itself most proposals of a 10-parameter kernel would leave it and be wasted). Candidates are numbered; candidate k of generation g draws its random numbers from
//! the keyed stream (seed, g, k), batches of candidates are simulated in parallel and
//! accepted in candidate order, and batch sizes depend only on earlier results: the same
//! seed gives the same posterior for any thread count.
//!
//! Must never: draw from a stateful generator, or let results depend on timing.

use engine::math::DetMath;
use engine::{Process, RunKey, Stream, StreamKey};

use crate::distance::Distance;
use crate::simulate::Simulator;
use crate::CalibrationError;

const PROPOSAL: Process = Process::named("calibration.abc.proposal");

/// Settings of an ABC-SMC run.
#[derive(Clone, Copy, Debug)]
pub struct AbcOptions {
    pub particles: usize,
    pub max_generations: usize,
    /// The quantile of the previous generation's distances used as the next tolerance.
    pub quantile: f64,
    /// Stop once a generation is accepted at this tolerance (distance = RMS z-score).
    pub final_tolerance: f64,
    /// Stop when a generation's acceptance rate falls below this (the tolerance cannot be
    /// lowered further at a reasonable cost).
    pub min_acceptance: f64,
    pub seed: u64,
    pub kernel: KernelKind,
}

/// The perturbation kernel of generations after the first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum KernelKind {
    /// Optimal local covariance matrix per particle (Filippi et al. 2013).
    #[default]
    Olcm,
    /// One Gaussian with twice the particles' weighted covariance (Beaumont et al. 2009).
    Global,
}

impl Default for AbcOptions {
    fn default() -> Self {
        AbcOptions {
            particles: 200,
            max_generations: 12,
            quantile: 0.5,
            final_tolerance: 1.0,
            min_acceptance: 0.02,
            seed: 1,
            kernel: KernelKind::Olcm,
        }
    }
}

/// One particle: its parameter values, their probit prior quantiles, its simulated targets.
#[derive(Clone, Debug, PartialEq)]
pub struct Particle {
    pub theta: Vec<f64>,
    /// Φ⁻¹ of each parameter's prior quantile (standard normal under the prior).
    pub z: Vec<f64>,
    pub stats: Vec<f64>,
    pub distance: f64,
    /// Normalised within its generation.
    pub weight: f64,
}

/// One generation's summary (the report's tolerance and acceptance table).
#[derive(Clone, Debug, PartialEq)]
pub struct Generation {
    pub index: usize,
    pub tolerance: f64,
    pub simulated: usize,
    pub accepted: usize,
    /// Accepted / simulated.
    pub acceptance: f64,
    /// Effective sample size of the weights.
    pub ess: f64,
    pub seconds: f64,
}

/// What an ABC-SMC run returns.
#[derive(Clone, Debug)]
pub struct AbcResult {
    /// The last complete generation's particles (the posterior sample).
    pub particles: Vec<Particle>,
    /// Generation 0's particles (the prior predictive).
    pub prior: Vec<Particle>,
    pub generations: Vec<Generation>,
    /// Why the run stopped.
    pub stopped: String,
    pub reached_final_tolerance: bool,
}

/// What an ABC run reports as it goes.
pub trait AbcProgress: Sync {
    fn generation_done(&self, _g: &Generation) {}
    fn simulated(&self, _n: usize) {}
}
impl AbcProgress for () {}

/// Lower Cholesky factor of a symmetric positive-definite matrix (row-major d×d).
pub fn cholesky(a: &[f64], d: usize) -> Option<Vec<f64>> {
    let mut l = vec![0.0; d * d];
    for i in 0..d {
        for j in 0..=i {
            let mut s = a[i * d + j];
            for k in 0..j {
                s -= l[i * d + k] * l[j * d + k];
            }
            if i == j {
                if s <= 0.0 {
                    return None;
                }
                l[i * d + i] = s.sqrt();
            } else {
                l[i * d + j] = s / l[j * d + j];
            }
        }
    }
    Some(l)
}

/// A Gaussian perturbation kernel N(0, Σ).
struct Kernel {
    d: usize,
    chol: Vec<f64>,
    /// Inverse of Σ (for the density), row-major.
    inv: Vec<f64>,
    /// −½ ln det Σ: kernels of different particles differ, so the constant matters.
    log_norm: f64,
}

impl Kernel {
    /// Σ = 2 × the particles' weighted covariance (the global kernel).
    fn global(particles: &[Particle]) -> Kernel {
        let d = particles[0].z.len();
        let mut mean = vec![0.0; d];
        for p in particles {
            for (m, z) in mean.iter_mut().zip(&p.z) {
                *m += p.weight * z;
            }
        }
        let mut cov = vec![0.0; d * d];
        for p in particles {
            for i in 0..d {
                for j in 0..d {
                    cov[i * d + j] += p.weight * (p.z[i] - mean[i]) * (p.z[j] - mean[j]);
                }
            }
        }
        for v in &mut cov {
            *v *= 2.0;
        }
        Kernel::from_cov(cov, d)
    }

    /// The optimal local covariance around `center`: the weighted second moment of the
    /// particles `near` (those inside the next tolerance, `weights` renormalised over them)
    /// about the centre (Filippi et al. 2013, eq. 9).
    fn local(center: &[f64], near: &[&Particle], total_weight: f64) -> Kernel {
        let d = center.len();
        let mut cov = vec![0.0; d * d];
        for p in near {
            let w = p.weight / total_weight;
            for i in 0..d {
                let a = p.z[i] - center[i];
                for j in 0..=i {
                    cov[i * d + j] += w * a * (p.z[j] - center[j]);
                }
            }
        }
        for i in 0..d {
            for j in 0..i {
                cov[j * d + i] = cov[i * d + j];
            }
        }
        Kernel::from_cov(cov, d)
    }

    fn from_cov(mut cov: Vec<f64>, d: usize) -> Kernel {
        // A floor on the variances keeps the kernel proper when the particles collapse.
        for i in 0..d {
            cov[i * d + i] += 1e-8;
        }
        let chol = cholesky(&cov, d).unwrap_or_else(|| {
            // Not positive definite (rounding): use the diagonal.
            let mut l = vec![0.0; d * d];
            for i in 0..d {
                l[i * d + i] = cov[i * d + i].max(1e-8).sqrt();
            }
            l
        });
        let inv = invert_from_cholesky(&chol, d);
        let log_norm = -(0..d).map(|i| chol[i * d + i].ln_det()).sum::<f64>();
        Kernel {
            d,
            chol,
            inv,
            log_norm,
        }
    }

    /// The kernel density of a move `x` (up to (2π)^(−d/2), common to every kernel).
    fn density(&self, x: &[f64]) -> f64 {
        let d = self.d;
        let mut q = 0.0;
        for i in 0..d {
            for j in 0..d {
                q += x[i] * self.inv[i * d + j] * x[j];
            }
        }
        (self.log_norm - 0.5 * q).exp_det()
    }

    fn perturb(&self, center: &[f64], z: &[f64]) -> Vec<f64> {
        let d = self.d;
        (0..d)
            .map(|i| center[i] + (0..=i).map(|k| self.chol[i * d + k] * z[k]).sum::<f64>())
            .collect()
    }
}

/// The kernels of the next generation: one per particle of `current` (OLCM), or one for all
/// (global; also OLCM's fallback while fewer than d + 1 particles are inside the tolerance,
/// when a local covariance would be singular).
fn kernels(current: &[Particle], tol: f64, kind: KernelKind) -> Vec<Kernel> {
    let d = current[0].z.len();
    let near: Vec<&Particle> = current
        .iter()
        .filter(|p| p.distance <= tol && p.weight > 0.0)
        .collect();
    let total: f64 = near.iter().map(|p| p.weight).sum();
    if kind == KernelKind::Global || near.len() <= d || total <= 0.0 {
        return vec![Kernel::global(current)];
    }
    current
        .iter()
        .map(|p| Kernel::local(&p.z, &near, total))
        .collect()
}

/// Σ⁻¹ from its lower Cholesky factor L (Σ = L Lᵀ).
fn invert_from_cholesky(l: &[f64], d: usize) -> Vec<f64> {
    // L⁻¹ by forward substitution, then Σ⁻¹ = L⁻ᵀ L⁻¹.
    let mut li = vec![0.0; d * d];
    for c in 0..d {
        for i in 0..d {
            let mut s = if i == c { 1.0 } else { 0.0 };
            for k in 0..i {
                s -= l[i * d + k] * li[k * d + c];
            }
            li[i * d + c] = s / l[i * d + i];
        }
    }
    let mut inv = vec![0.0; d * d];
    for i in 0..d {
        for j in 0..d {
            inv[i * d + j] = (0..d).map(|k| li[k * d + i] * li[k * d + j]).sum();
        }
    }
    inv
}

fn ess(particles: &[Particle]) -> f64 {
    1.0 / particles.iter().map(|p| p.weight * p.weight).sum::<f64>()
}

fn quantile(values: &mut [f64], q: f64) -> f64 {
    values.sort_by(f64::total_cmp);
    engine::summary::quantile_sorted(values, q)
}

/// Runs ABC-SMC of `sim`'s parameters against `distance`'s targets, in memory: the
/// [`Sampler`]'s rounds one after the other.
pub fn run(
    sim: &Simulator,
    distance: &Distance,
    opts: &AbcOptions,
    progress: &dyn AbcProgress,
) -> Result<AbcResult, CalibrationError> {
    let mut sampler = Sampler::new(*opts, sim.parameters.len());
    while let Some(round) = sampler.pending(sim)? {
        let t0 = std::time::Instant::now();
        let stats = sim.evaluate_all(&round.thetas)?;
        progress.simulated(stats.len());
        sampler.feed(round, stats, distance, t0.elapsed().as_secs_f64(), progress)?;
    }
    Ok(sampler.finish())
}

/// A generation in progress: the proposals accepted so far and where the candidates are.
#[derive(Clone, Debug, PartialEq)]
pub struct Open {
    pub generation: usize,
    pub tolerance: f64,
    pub accepted: Vec<Particle>,
    /// The next candidate's number.
    pub next: usize,
    pub simulated: usize,
    /// Evaluation seconds so far (the generation's `seconds`).
    pub seconds: f64,
}

/// Where the sampler is.
#[derive(Clone, Debug, PartialEq)]
pub enum Phase {
    /// Generation 0 (the prior) is to be evaluated.
    Prior,
    Generation(Open),
    Done,
}

/// Everything ABC-SMC knows between two rounds of simulations: enough to go on exactly as
/// an uninterrupted run (a checkpoint, or the state a sharded calibration merges each
/// round into; `healthtwin calibrate --shard`, docs/shards.md). The kernels are not kept:
/// they are a deterministic function of `current` and the tolerance.
#[derive(Clone, Debug, PartialEq)]
pub struct SamplerState {
    pub phase: Phase,
    /// Generation 0's particles (empty until it is evaluated).
    pub prior: Vec<Particle>,
    /// The last complete generation's particles.
    pub current: Vec<Particle>,
    pub generations: Vec<Generation>,
    pub accept_estimate: f64,
    pub stopped: String,
    pub reached: bool,
}

/// The candidates of one round: numbered `first…`, of generation `generation`.
#[derive(Clone, Debug)]
pub struct Round {
    pub generation: usize,
    pub first: usize,
    pub z: Vec<Vec<f64>>,
    /// The parameter values of each `z` (what is simulated).
    pub thetas: Vec<Vec<f64>>,
}

/// ABC-SMC as a sequence of rounds: [`Sampler::pending`] gives the candidates to simulate
/// next (a pure function of the state), [`Sampler::feed`] takes their simulated targets.
/// Candidate k of generation g draws from the keyed stream (seed, g, k), a round's size
/// depends only on earlier results, and proposals are accepted in candidate order, so the
/// candidates of a round can be simulated anywhere (threads, shards) and the result is the
/// same bits.
pub struct Sampler {
    opts: AbcOptions,
    d: usize,
    state: SamplerState,
    /// The kernels of the open generation (recomputed after a restore).
    kernels: Option<(usize, Vec<Kernel>)>,
}

impl Sampler {
    pub fn new(opts: AbcOptions, d: usize) -> Sampler {
        Sampler::restore(
            opts,
            d,
            SamplerState {
                phase: Phase::Prior,
                prior: Vec::new(),
                current: Vec::new(),
                generations: Vec::new(),
                accept_estimate: 0.5,
                stopped: format!("{} generations (the most allowed)", opts.max_generations),
                reached: false,
            },
        )
    }

    /// A sampler from a saved state (same options and parameters as when it was saved).
    pub fn restore(opts: AbcOptions, d: usize, state: SamplerState) -> Sampler {
        Sampler {
            opts,
            d,
            state,
            kernels: None,
        }
    }

    pub fn state(&self) -> &SamplerState {
        &self.state
    }

    pub fn is_done(&self) -> bool {
        self.state.phase == Phase::Done
    }

    fn particles(&self) -> usize {
        self.opts.particles.max(2)
    }

    fn stream(&self, g: usize, k: usize) -> Stream {
        Stream::new(
            StreamKey::new(
                RunKey {
                    seed: self.opts.seed,
                    replicate: g as u32,
                },
                PROPOSAL,
            ),
            k as u64,
            0,
        )
    }

    /// The candidates to simulate next, or None when the run is over.
    pub fn pending(&mut self, sim: &Simulator) -> Result<Option<Round>, CalibrationError> {
        let to_theta = |z: &[f64]| -> Vec<f64> {
            sim.parameters
                .iter()
                .zip(z)
                .map(|(p, &x)| p.quantile(crate::priors::norm_cdf(x)))
                .collect()
        };
        let n = self.particles();
        let d = self.d;
        let (generation, first, z) = match &self.state.phase {
            Phase::Done => return Ok(None),
            Phase::Prior => {
                let z: Vec<Vec<f64>> = (0..n)
                    .map(|k| {
                        let mut s = self.stream(0, k);
                        (0..d).map(|_| s.std_normal()).collect()
                    })
                    .collect();
                (0, 0, z)
            }
            Phase::Generation(open) => {
                let g = open.generation;
                if self.kernels.as_ref().map(|k| k.0) != Some(g) {
                    self.kernels = Some((
                        g,
                        kernels(&self.state.current, open.tolerance, self.opts.kernel),
                    ));
                }
                let kernels = &self.kernels.as_ref().expect("just set").1;
                let current = &self.state.current;
                let need = n - open.accepted.len();
                let max_candidates = self.max_candidates();
                let batch = ((need as f64
                    / self.state.accept_estimate.max(self.opts.min_acceptance))
                .ceil() as usize)
                    .clamp(need.max(8), 4 * n)
                    .min(max_candidates - open.next);
                let mut total = 0.0;
                let cumulative: Vec<f64> = current
                    .iter()
                    .map(|p| {
                        total += p.weight;
                        total
                    })
                    .collect();
                let z: Vec<Vec<f64>> = (open.next..open.next + batch)
                    .map(|k| {
                        let mut s = self.stream(g, k);
                        let pick = s.uniform();
                        let j = cumulative
                            .iter()
                            .position(|&c| pick < c)
                            .unwrap_or(current.len() - 1);
                        let e: Vec<f64> = (0..d).map(|_| s.std_normal()).collect();
                        kernels[j.min(kernels.len() - 1)].perturb(&current[j].z, &e)
                    })
                    .collect();
                (g, open.next, z)
            }
        };
        let thetas = z.iter().map(|z| to_theta(z)).collect();
        Ok(Some(Round {
            generation,
            first,
            z,
            thetas,
        }))
    }

    fn max_candidates(&self) -> usize {
        let n = self.particles();
        ((n as f64 / self.opts.min_acceptance.max(1e-3)).ceil() as usize).max(n)
    }

    /// Takes the simulated targets of `round` (the last [`Self::pending`]), in its order,
    /// and `seconds` spent simulating them.
    pub fn feed(
        &mut self,
        round: Round,
        stats: Vec<Vec<f64>>,
        distance: &Distance,
        seconds: f64,
        progress: &dyn AbcProgress,
    ) -> Result<(), CalibrationError> {
        let n = self.particles();
        if stats.len() != round.z.len() {
            return Err(CalibrationError::Setup(format!(
                "round of generation {} from candidate {}: {} results for {} candidates",
                round.generation,
                round.first,
                stats.len(),
                round.z.len()
            )));
        }
        let phase = std::mem::replace(&mut self.state.phase, Phase::Done);
        match phase {
            Phase::Done => {}
            Phase::Prior => {
                self.state.prior = round
                    .z
                    .into_iter()
                    .zip(round.thetas)
                    .zip(stats)
                    .map(|((z, theta), stats)| Particle {
                        distance: distance.of(&stats),
                        theta,
                        z,
                        stats,
                        weight: 1.0 / n as f64,
                    })
                    .collect();
                let g0 = Generation {
                    index: 0,
                    tolerance: f64::INFINITY,
                    simulated: n,
                    accepted: n,
                    acceptance: 1.0,
                    ess: n as f64,
                    seconds,
                };
                progress.generation_done(&g0);
                self.state.generations.push(g0);
                self.state.current = self.state.prior.clone();
                self.open(1)?;
            }
            Phase::Generation(mut open) => {
                let batch = round.z.len();
                let mut batch_accepted = 0usize;
                for ((z, theta), stats) in round.z.into_iter().zip(round.thetas).zip(stats) {
                    let dist = distance.of(&stats);
                    if dist <= open.tolerance && open.accepted.len() < n {
                        batch_accepted += 1;
                        open.accepted.push(Particle {
                            theta,
                            z,
                            stats,
                            distance: dist,
                            weight: 0.0,
                        });
                    }
                }
                self.state.accept_estimate = (batch_accepted as f64 / batch as f64).max(0.01);
                open.next += batch;
                open.simulated += batch;
                open.seconds += seconds;
                if open.accepted.len() < n && open.next < self.max_candidates() {
                    self.state.phase = Phase::Generation(open);
                } else {
                    self.close(open, progress);
                }
            }
        }
        Ok(())
    }

    /// Opens generation `g` (or ends the run at the most generations): its tolerance is
    /// the quantile of the current distances.
    fn open(&mut self, g: usize) -> Result<(), CalibrationError> {
        if g >= self.opts.max_generations.max(1) {
            self.state.phase = Phase::Done;
            return Ok(());
        }
        let mut finite: Vec<f64> = self
            .state
            .current
            .iter()
            .map(|p| p.distance)
            .filter(|x| x.is_finite())
            .collect();
        if finite.is_empty() {
            return Err(CalibrationError::Setup(
                "no particle of the prior gives a finite distance (every simulation left a target empty)".into(),
            ));
        }
        let last_tol = self
            .state
            .generations
            .last()
            .map(|x| x.tolerance)
            .unwrap_or(f64::INFINITY);
        let mut tol = quantile(&mut finite, self.opts.quantile).max(self.opts.final_tolerance);
        if tol >= last_tol {
            // The quantile did not move (many equal distances): shrink a little anyway.
            tol = (0.95 * last_tol).max(self.opts.final_tolerance);
        }
        self.state.phase = Phase::Generation(Open {
            generation: g,
            tolerance: tol,
            accepted: Vec::with_capacity(self.particles()),
            next: 0,
            simulated: 0,
            seconds: 0.0,
        });
        Ok(())
    }

    /// Ends an open generation whose candidates are all in: weights, its summary, and the
    /// next generation or the end of the run.
    fn close(&mut self, open: Open, progress: &dyn AbcProgress) {
        let n = self.particles();
        let g = open.generation;
        let tol = open.tolerance;
        let mut accepted = open.accepted;
        let acceptance = accepted.len() as f64 / open.next.max(1) as f64;
        if accepted.len() < n {
            self.state.stopped = format!(
                "generation {g}: the acceptance rate fell below {} at tolerance {tol:.3} ({} of {} candidates accepted); the previous generation is the posterior",
                self.opts.min_acceptance,
                accepted.len(),
                open.next
            );
            self.state.generations.push(Generation {
                index: g,
                tolerance: tol,
                simulated: open.simulated,
                accepted: accepted.len(),
                acceptance,
                ess: f64::NAN,
                seconds: open.seconds,
            });
            self.state.phase = Phase::Done;
            return;
        }
        let kernels = match self.kernels.take() {
            Some((kg, k)) if kg == g => k,
            _ => kernels(&self.state.current, tol, self.opts.kernel),
        };
        let current = &self.state.current;
        let prior_density = |z: &[f64]| (-0.5 * z.iter().map(|x| x * x).sum::<f64>()).exp_det();
        // Importance weights: prior over the kernel mixture.
        for p in &mut accepted {
            let mix: f64 = current
                .iter()
                .enumerate()
                .map(|(i, q)| {
                    let x: Vec<f64> = p.z.iter().zip(&q.z).map(|(a, b)| a - b).collect();
                    q.weight * kernels[i.min(kernels.len() - 1)].density(&x)
                })
                .sum();
            p.weight = if mix > 0.0 {
                prior_density(&p.z) / mix
            } else {
                0.0
            };
        }
        let total: f64 = accepted.iter().map(|p| p.weight).sum();
        for p in &mut accepted {
            p.weight /= total;
        }
        let gen = Generation {
            index: g,
            tolerance: tol,
            simulated: open.simulated,
            accepted: n,
            acceptance,
            ess: ess(&accepted),
            seconds: open.seconds,
        };
        progress.generation_done(&gen);
        self.state.generations.push(gen);
        self.state.current = accepted;
        self.state.phase = Phase::Done;
        if tol <= self.opts.final_tolerance {
            self.state.reached = true;
            self.state.stopped = format!(
                "final tolerance {} reached at generation {g}",
                self.opts.final_tolerance
            );
        } else if acceptance < self.opts.min_acceptance {
            self.state.stopped = format!(
                "generation {g}: acceptance {acceptance:.3} below {}",
                self.opts.min_acceptance
            );
        } else if let Err(e) = self.open(g + 1) {
            // Not reachable: the current generation's distances are finite (accepted).
            self.state.stopped = e.to_string();
        }
    }

    /// The result of a finished run.
    pub fn finish(self) -> AbcResult {
        AbcResult {
            particles: self.state.current,
            prior: self.state.prior,
            generations: self.state.generations,
            stopped: self.state.stopped,
            reached_final_tolerance: self.state.reached,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cholesky_and_inverse_agree() {
        let a = [4.0, 2.0, 0.6, 2.0, 3.0, 0.4, 0.6, 0.4, 2.0];
        let l = cholesky(&a, 3).unwrap();
        let inv = invert_from_cholesky(&l, 3);
        for i in 0..3 {
            for j in 0..3 {
                let v: f64 = (0..3).map(|k| a[i * 3 + k] * inv[k * 3 + j]).sum();
                assert!((v - f64::from(u8::from(i == j))).abs() < 1e-12);
            }
        }
        assert!(cholesky(&[1.0, 2.0, 2.0, 1.0], 2).is_none());
    }

    fn particle(z: &[f64], weight: f64, distance: f64) -> Particle {
        Particle {
            theta: z.to_vec(),
            z: z.to_vec(),
            stats: Vec::new(),
            distance,
            weight,
        }
    }

    #[test]
    fn olcm_is_the_weighted_second_moment_about_the_centre_of_the_particles_inside() {
        let ps = [
            particle(&[0.0, 0.0], 0.25, 0.5),
            particle(&[1.0, 0.0], 0.25, 0.5),
            particle(&[0.0, 2.0], 0.5, 0.5),
            particle(&[9.0, 9.0], 0.5, 3.0), // outside the tolerance: not in the moment
        ];
        let near: Vec<&Particle> = ps.iter().filter(|p| p.distance <= 1.0).collect();
        let k = Kernel::local(&[0.0, 0.0], &near, 1.0);
        // Σ = 0.25·[1 0; 0 0] + 0.5·[0 0; 0 4] = diag(0.25, 2) (+ the 1e-8 floor).
        let l = &k.chol;
        assert!((l[0] * l[0] - 0.25).abs() < 1e-6 && (l[3] * l[3] - 2.0).abs() < 1e-6);
        assert!(l[2].abs() < 1e-12);
        // Normalised density: at 0, 1/sqrt(det Σ) = 1/sqrt(0.5).
        assert!((k.density(&[0.0, 0.0]) - 0.5f64.sqrt().recip()).abs() < 1e-6);
        // Every particle gets its own kernel; too few inside falls back to one global kernel.
        assert_eq!(kernels(&ps, 1.0, KernelKind::Olcm).len(), 4);
        assert_eq!(kernels(&ps, 0.1, KernelKind::Olcm).len(), 1);
        assert_eq!(kernels(&ps, 1.0, KernelKind::Global).len(), 1);
    }
}
