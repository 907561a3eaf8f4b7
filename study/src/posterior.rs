//! A posterior sample of model parameters: weighted particles (what `healthtwin calibrate`
//! writes) and keyed joint draws from it. Replicate k of a probabilistic sensitivity
//! analysis takes particle k by weight with a draw keyed by (seed, replicate) only, so every
//! scenario of a comparison uses the same particle in replicate k, the draw depends on
//! nothing but the seed, and the parameters of a particle stay together (their posterior
//! correlation is kept, unlike independent per-parameter draws).
//!
//! Must never: read files (the calibration crate reads and writes posterior files) or draw
//! from anything but the keyed stream `study.posterior`.

use engine::{Process, RunKey, Stream, StreamKey};
use models::params::ParamError;
use models::HealthModel;

const POSTERIOR: Process = Process::named("study.posterior");

/// Why a posterior sample is unusable.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum PosteriorError {
    #[error("a posterior needs at least one particle and one parameter")]
    Empty,
    #[error("particle {particle} has {got} values for {expected} parameters")]
    Shape {
        particle: usize,
        got: usize,
        expected: usize,
    },
    #[error("particle {particle}: weight {weight} is not a finite number >= 0")]
    Weight { particle: usize, weight: f64 },
    #[error("particle {particle}: `{name}` = {value} is not finite")]
    Value {
        particle: usize,
        name: String,
        value: f64,
    },
    #[error("the particles' weights sum to zero")]
    ZeroWeight,
    #[error("parameter `{name}` appears twice")]
    Duplicate { name: String },
}

/// Weighted particles over named parameters.
#[derive(Clone, Debug, PartialEq)]
pub struct Posterior {
    names: Vec<String>,
    particles: Vec<Vec<f64>>,
    /// Normalised weights (sum 1).
    weights: Vec<f64>,
    /// Cumulative normalised weights, for the draw.
    cumulative: Vec<f64>,
}

impl Posterior {
    /// Checks the sample (shape, finite values, weights ≥ 0 with a positive sum) and
    /// normalises the weights.
    pub fn new(
        names: Vec<String>,
        particles: Vec<Vec<f64>>,
        weights: Vec<f64>,
    ) -> Result<Posterior, PosteriorError> {
        if names.is_empty() || particles.is_empty() {
            return Err(PosteriorError::Empty);
        }
        for (i, n) in names.iter().enumerate() {
            if names[..i].contains(n) {
                return Err(PosteriorError::Duplicate { name: n.clone() });
            }
        }
        if weights.len() != particles.len() {
            return Err(PosteriorError::Shape {
                particle: weights.len().min(particles.len()),
                got: weights.len(),
                expected: particles.len(),
            });
        }
        for (i, (p, &w)) in particles.iter().zip(&weights).enumerate() {
            if p.len() != names.len() {
                return Err(PosteriorError::Shape {
                    particle: i,
                    got: p.len(),
                    expected: names.len(),
                });
            }
            if !(w.is_finite() && w >= 0.0) {
                return Err(PosteriorError::Weight {
                    particle: i,
                    weight: w,
                });
            }
            if let Some(j) = p.iter().position(|v| !v.is_finite()) {
                return Err(PosteriorError::Value {
                    particle: i,
                    name: names[j].clone(),
                    value: p[j],
                });
            }
        }
        let total: f64 = weights.iter().sum();
        if total <= 0.0 {
            return Err(PosteriorError::ZeroWeight);
        }
        let weights: Vec<f64> = weights.iter().map(|w| w / total).collect();
        let mut acc = 0.0;
        let cumulative = weights
            .iter()
            .map(|w| {
                acc += w;
                acc
            })
            .collect();
        Ok(Posterior {
            names,
            particles,
            weights,
            cumulative,
        })
    }

    pub fn names(&self) -> &[String] {
        &self.names
    }
    pub fn particles(&self) -> &[Vec<f64>] {
        &self.particles
    }
    /// Normalised weights (sum 1).
    pub fn weights(&self) -> &[f64] {
        &self.weights
    }
    pub fn len(&self) -> usize {
        self.particles.len()
    }
    pub fn is_empty(&self) -> bool {
        self.particles.is_empty()
    }

    /// The particle drawn for `key` (seed, replicate), with probability its weight.
    pub fn draw(&self, key: RunKey) -> usize {
        let u = Stream::new(StreamKey::new(key, POSTERIOR), 0, 0).uniform();
        // The last particle with a positive weight takes any rounding slack at the top.
        let last = self
            .weights
            .iter()
            .rposition(|&w| w > 0.0)
            .unwrap_or(self.len() - 1);
        self.cumulative
            .iter()
            .position(|&c| u < c)
            .unwrap_or(last)
            .min(last)
    }

    /// The named values of particle `i`.
    pub fn values(&self, i: usize) -> Vec<(&str, f64)> {
        self.names
            .iter()
            .map(String::as_str)
            .zip(self.particles[i].iter().copied())
            .collect()
    }

    /// Weighted mean of each parameter (a point summary of the sample).
    pub fn mean(&self) -> Vec<f64> {
        (0..self.names.len())
            .map(|j| {
                self.particles
                    .iter()
                    .zip(&self.weights)
                    .map(|(p, w)| w * p[j])
                    .sum()
            })
            .collect()
    }

    /// `model` with the parameters of the particle drawn for `key`.
    pub fn apply(&self, model: &HealthModel, key: RunKey) -> Result<HealthModel, ParamError> {
        let mut out = model.clone();
        out.set_params(&self.values(self.draw(key)))?;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(weights: Vec<f64>) -> Posterior {
        let particles = (0..weights.len()).map(|i| vec![i as f64]).collect();
        Posterior::new(vec!["x".into()], particles, weights).unwrap()
    }

    #[test]
    fn draws_follow_the_weights_and_the_key() {
        let p = sample(vec![1.0, 0.0, 3.0]);
        let key = |replicate| RunKey { seed: 5, replicate };
        assert_eq!(p.draw(key(7)), p.draw(key(7)));
        let mut counts = [0usize; 3];
        for r in 0..4000 {
            counts[p.draw(key(r))] += 1;
        }
        assert_eq!(counts[1], 0, "a particle of weight 0 is never drawn");
        let share = counts[2] as f64 / 4000.0;
        assert!(
            (share - 0.75).abs() < 0.03,
            "share of the heavy particle {share}"
        );
        // Another seed gives other draws.
        let other: Vec<usize> = (0..50)
            .map(|r| {
                p.draw(RunKey {
                    seed: 6,
                    replicate: r,
                })
            })
            .collect();
        let same: Vec<usize> = (0..50).map(|r| p.draw(key(r))).collect();
        assert_ne!(other, same);
    }

    #[test]
    fn bad_samples_are_refused() {
        let one = || vec![vec![1.0]];
        assert_eq!(
            Posterior::new(vec![], one(), vec![1.0]),
            Err(PosteriorError::Empty)
        );
        assert!(matches!(
            Posterior::new(vec!["x".into()], one(), vec![-1.0]),
            Err(PosteriorError::Weight { .. })
        ));
        assert_eq!(
            Posterior::new(vec!["x".into()], one(), vec![0.0]),
            Err(PosteriorError::ZeroWeight)
        );
        assert!(matches!(
            Posterior::new(vec!["x".into()], vec![vec![f64::NAN]], vec![1.0]),
            Err(PosteriorError::Value { .. })
        ));
        assert!(matches!(
            Posterior::new(
                vec!["x".into(), "x".into()],
                vec![vec![1.0, 2.0]],
                vec![1.0]
            ),
            Err(PosteriorError::Duplicate { .. })
        ));
        assert!(matches!(
            Posterior::new(vec!["x".into(), "y".into()], one(), vec![1.0]),
            Err(PosteriorError::Shape { .. })
        ));
    }

    #[test]
    fn the_drawn_particle_reaches_the_model() {
        let names = vec![
            "cvd.hf.factor".to_string(),
            "dm.capacity.headroom".to_string(),
        ];
        let p =
            Posterior::new(names, vec![vec![0.3, 3.0], vec![0.5, 5.0]], vec![1.0, 1.0]).unwrap();
        let base = HealthModel::new(models::mortality::LifeTable::mhlw_2024());
        for r in 0..8 {
            let key = RunKey {
                seed: 1,
                replicate: r,
            };
            let m = p.apply(&base, key).unwrap();
            let i = p.draw(key);
            assert_eq!(
                m.params().get("cvd.hf.factor").unwrap(),
                p.particles()[i][0]
            );
            assert_eq!(
                m.params().get("dm.capacity.headroom").unwrap(),
                p.particles()[i][1]
            );
        }
    }
}
