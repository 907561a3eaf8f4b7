//! Tables of the reference population, a pure function of the parameters: the expected FI
//! hazard ratio and mean deficit count by age, the baseline certification log-odds, the
//! care-level thresholds. Built once per parameter set and process (~0.25 s) and cached.
//!
//! Must never: hold anything that is not a pure function of the parameters (a cached copy
//! must equal a fresh build bit for bit: `cached_tables_are_the_built_tables`).

use engine::math::DetMath;

use super::{items, logistic, params, Frailty, TABLE_AGES};

/// What [`Frailty::build_tables`] computes from the parameters.
#[derive(Clone)]
struct Tables {
    population_hr: Vec<f64>,
    init_cert_logit: Vec<f64>,
    level_thresholds: [f64; 6],
    mean_count_by_age: Vec<f64>,
}

/// Tables of the last few parameter sets (key: the parameters' `Debug` text, exact for
/// every f64).
static TABLES: std::sync::Mutex<Vec<(String, Tables)>> = std::sync::Mutex::new(Vec::new());
const TABLES_KEPT: usize = 8;

fn cached_tables(key: &str) -> Option<Tables> {
    let cache = TABLES.lock().ok()?;
    cache.iter().find(|(k, _)| k == key).map(|(_, t)| t.clone())
}

fn store_tables(key: String, t: Tables) {
    if let Ok(mut cache) = TABLES.lock() {
        if cache.len() >= TABLES_KEPT {
            cache.remove(0);
        }
        cache.push((key, t));
    }
}

pub(super) const REFERENCE_POINTS: usize = 121;
const MEAN_COUNT_STEPS_PER_YEAR: usize = 100;

/// Standard-normal grid for the reference-population integrals: midpoints on [−6, 6].
pub(super) fn normal_grid(points: usize) -> impl Iterator<Item = (f64, f64)> {
    let h = 12.0 / points as f64;
    let norm = (2.0 * std::f64::consts::PI).sqrt();
    (0..points).map(move |i| {
        let x = -6.0 + (i as f64 + 0.5) * h;
        (x, h * (-0.5 * x * x).exp_det() / norm)
    })
}

/// Log-normal with the given mean and SD: (μ, σ) of its log.
fn lognormal(mean: f64, sd: f64) -> (f64, f64) {
    let cv = sd / mean;
    let s2 = (1.0 + cv * cv).ln_det();
    (mean.ln_det() - 0.5 * s2, s2.sqrt())
}

impl Frailty {
    /// Sets the tables of the model's parameters: from the cache, or built and cached. They
    /// depend on the parameters only (and cost ~0.25 s): built once per parameter set and
    /// process, then copied (every scenario of a comparison, every replicate of a run
    /// without frailty draws).
    pub(super) fn load_tables(&mut self) {
        let key = format!("{:?}", self.p);
        match cached_tables(&key) {
            Some(t) => self.set_tables(t),
            None => {
                self.build_tables();
                store_tables(key, self.tables());
            }
        }
    }

    fn tables(&self) -> Tables {
        Tables {
            population_hr: self.population_hr.clone(),
            init_cert_logit: self.init_cert_logit.clone(),
            level_thresholds: self.level_thresholds,
            mean_count_by_age: self.mean_count_by_age.clone(),
        }
    }

    fn set_tables(&mut self, t: Tables) {
        self.population_hr = t.population_hr;
        self.init_cert_logit = t.init_cert_logit;
        self.level_thresholds = t.level_thresholds;
        self.mean_count_by_age = t.mean_count_by_age;
    }

    /// The reference population's deficit-count distribution at `age` on a grid: (count as a
    /// real number, weight), capped at the ceiling.
    fn reference_counts(&self, age: f64) -> impl Iterator<Item = (f64, f64)> + '_ {
        let (m, s) = params::reference_fi(age);
        let (mu, sigma) = lognormal(m, s);
        let cap = f64::from(self.n_max);
        self.reference_grid.iter().map(move |&(x, w)| {
            (
                ((mu + sigma * x).exp_det() * f64::from(items::N)).min(cap),
                w,
            )
        })
    }

    pub(super) fn build_tables(&mut self) {
        self.mean_count_by_age = (0..=(TABLE_AGES - 1) * MEAN_COUNT_STEPS_PER_YEAR)
            .map(|i| self.reference_mean_count(i as f64 / MEAN_COUNT_STEPS_PER_YEAR as f64))
            .collect();
        // Expected FI hazard ratio by age in the reference population.
        self.population_hr = (0..TABLE_AGES)
            .map(|a| {
                self.reference_counts(a as f64)
                    .map(|(n, w)| w * (self.ln_hr_per_deficit * n).exp_det())
                    .sum()
            })
            .collect();
        // Baseline certification: logit P = a(age) + β·score, with a(age) such that the
        // reference population's mean equals the MHLW rate at that age.
        let beta = self.p.cert_per_deficit;
        let sd = self.p.score_sd;
        let z_grid: Vec<(f64, f64)> = normal_grid(25).collect();
        self.init_cert_logit = (0..TABLE_AGES)
            .map(|a| {
                let target = params::certification_rate(a as f64);
                if target <= 0.0 {
                    return f64::NEG_INFINITY;
                }
                let counts: Vec<(f64, f64)> = self.reference_counts(a as f64).collect();
                let mean_at = |icpt: f64| -> f64 {
                    let mut s = 0.0;
                    for &(n, wn) in &counts {
                        for &(z, wz) in &z_grid {
                            s += wn * wz * logistic(icpt + beta * (n + sd * z));
                        }
                    }
                    s
                };
                let (mut lo, mut hi) = (-40.0, 20.0);
                for _ in 0..50 {
                    let mid = 0.5 * (lo + hi);
                    if mean_at(mid) < target {
                        lo = mid;
                    } else {
                        hi = mid;
                    }
                }
                0.5 * (lo + hi)
            })
            .collect();
        // Level thresholds: the score distribution of the certified reference population
        // (bands weighted by the MHLW certified counts) cut at the MHLW level mix.
        let mut pool: Vec<(f64, f64)> = Vec::new();
        for (b, &mid) in params::CERTIFICATION_MIDPOINTS.iter().enumerate() {
            let start = pool.len();
            let icpt = self.init_cert_logit[mid as usize];
            for (n, wn) in self.reference_counts(mid) {
                for &(z, wz) in &z_grid {
                    let s = n + sd * z;
                    pool.push((s, wn * wz * logistic(icpt + beta * s)));
                }
            }
            let mass: f64 = pool[start..].iter().map(|x| x.1).sum();
            let scale = params::CERTIFIED_MILLIONS[b] / mass.max(1e-300);
            for x in &mut pool[start..] {
                x.1 *= scale;
            }
        }
        pool.sort_by(|a, b| a.0.total_cmp(&b.0));
        let total: f64 = pool.iter().map(|x| x.1).sum();
        let level_total: f64 = params::LEVEL_COUNTS.iter().sum();
        let mut cum_target = 0.0;
        let mut raw = [0.0; 6];
        let mut acc = 0.0;
        let mut it = pool.iter();
        for (k, t) in raw.iter_mut().enumerate() {
            cum_target += params::LEVEL_COUNTS[k] / level_total * total;
            let mut last = f64::NEG_INFINITY;
            while acc < cum_target {
                match it.next() {
                    Some(&(s, w)) => {
                        acc += w;
                        last = s;
                    }
                    None => break,
                }
            }
            *t = last;
        }
        // The calibrated spread of the levels above support 1.
        for (t, r) in self.level_thresholds.iter_mut().zip(raw) {
            *t = raw[0] + (r - raw[0]) * self.p.level_spread;
        }
    }

    /// Mean deficit count of the reference population at `age`.
    fn reference_mean_count(&self, age: f64) -> f64 {
        self.reference_counts(age).map(|(n, w)| n * w).sum()
    }

    /// [`Self::reference_mean_count`] interpolated in the table built at construction.
    #[inline]
    pub(super) fn reference_mean_count_fast(&self, age: f64) -> f64 {
        let t = &self.mean_count_by_age;
        let x = age.clamp(0.0, (TABLE_AGES - 1) as f64) * MEAN_COUNT_STEPS_PER_YEAR as f64;
        let i = engine::math::floor_index(x, t.len() - 2);
        let w = x - i as f64;
        t[i] * (1.0 - w) + t[i + 1] * w
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frailty::metric_defs;
    use crate::frailty::params::FrailtyParams;
    use crate::layout::MetricLayout;

    /// A model built from cached tables has the tables a fresh build gives, bit for bit;
    /// another parameter set gets its own.
    #[test]
    fn cached_tables_are_the_built_tables() {
        let params = crate::params::ParamSet::new(FrailtyParams::params());
        let p = FrailtyParams::from_set(&params).unwrap();
        let alone = || MetricLayout::alone(metric_defs());
        let mut after_others = MetricLayout::default();
        after_others.add(crate::diabetes::metric_defs());
        let a = Frailty::new(p, alone());
        let b = Frailty::new(p, after_others.add(metric_defs()));
        let mut fresh = Frailty::new(p, alone());
        fresh.build_tables();
        let bits = |f: &Frailty| {
            let t = f.tables();
            let mut v: Vec<u64> = Vec::new();
            for x in [
                &t.population_hr,
                &t.init_cert_logit,
                &t.mean_count_by_age,
                &t.level_thresholds.to_vec(),
            ] {
                v.extend(x.iter().map(|y| y.to_bits()));
            }
            v
        };
        assert_eq!(bits(&a), bits(&fresh));
        assert_eq!(bits(&b), bits(&fresh));
        let mut q = p;
        q.cert_per_deficit *= 1.1;
        let c = Frailty::new(q, alone());
        assert_ne!(bits(&c), bits(&fresh));
        let mut fresh_q = Frailty::new(q, alone());
        fresh_q.build_tables();
        assert_eq!(bits(&c), bits(&fresh_q));
    }

    /// The interpolated reference mean used for every person's initial exposure stays close
    /// to the integral it replaces, at ages on and between the table's points.
    #[test]
    fn mean_count_table_matches_the_integral() {
        let params = crate::params::ParamSet::new(FrailtyParams::params());
        let f = Frailty::new(
            FrailtyParams::from_set(&params).unwrap(),
            MetricLayout::alone(metric_defs()),
        );
        let mut worst = 0.0f64;
        for i in 0..24_000 {
            let age = i as f64 * 0.005 + 0.0013 * (i % 7) as f64;
            let (exact, fast) = (
                f.reference_mean_count(age),
                f.reference_mean_count_fast(age),
            );
            worst = worst.max((fast - exact).abs() / exact.max(1e-9));
        }
        assert!(worst < 1e-5, "worst relative difference {worst:e}");
    }
}
