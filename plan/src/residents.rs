//! The simulated residents: a stratified sample of the town by sex and 5-year band, drawn
//! with the synthetic generator at each resident's age (`cohort::Generator::person_at`),
//! every simulated person standing for the same number of residents (1 when the town is no
//! larger than the sample), optionally tilted towards a local prevalence.
//!
//! Tilts (docs/planning.md, "Local prevalences"): candidates of a stratum are drawn in a
//! fixed keyed order and accepted with a probability proportional to a weight (capped at 1,
//! [`Sampler::sample`]), the first `n_s` accepted fill the stratum. Weight ω for a candidate with diabetes (HbA1c ≥ 6.5% or
//! glucose-lowering treatment, the NHNS definition) and 1 without multiplies the odds of
//! diabetes by ω in every stratum; weight exp(θ · FI) among residents 65+ moves the frailty
//! index distribution, so the model's frailty at entry meets a local survey.
//!
//! Must never: let a person depend on anything but (seed, stratum, candidate), or give two
//! people the same id (ids are dense, 0..n, in stratum order: the engine keys draws by them).

use engine::observe::N_AGE_BANDS;
use engine::rng::{Process, Stream, StreamKey};
use engine::{Baseline, RunKey, Sex, Treatments};

use crate::town::{Town, BAND_90};
use crate::PlanError;

const RESIDENTS: Process = Process::named("plan.residents");

/// Shares of the national 90-94, 95-99 and 100+ population within 90+ are the town file's
/// split; within a band, ages are uniform (as in the synthetic cohort). 100+ is taken as
/// 100-104 [A: 0.07% of 65+ residents; the life table ends at 105].
const OPEN_BAND_WIDTH: f64 = 5.0;

/// What tilts the sample (1 and 0: none).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Tilt {
    /// Odds ratio of diabetes against the national odds, in every stratum.
    pub diabetes_odds_ratio: f64,
    /// Exponential tilt of the frailty index among residents 65+.
    pub frailty_theta: f64,
}

impl Default for Tilt {
    fn default() -> Self {
        Tilt {
            diabetes_odds_ratio: 1.0,
            frailty_theta: 0.0,
        }
    }
}

/// Whether a baseline person has diabetes by the NHNS "strongly suspected" definition.
pub fn has_diabetes(b: &Baseline) -> bool {
    b.covariates.hba1c_pct >= 6.5
        || b.covariates
            .treatments
            .contains(Treatments::GLUCOSE_LOWERING)
}

/// One stratum of the sample.
#[derive(Clone, Debug, PartialEq)]
pub struct Stratum {
    pub sex: Sex,
    pub band: usize,
    /// Residents of the town in it.
    pub residents: f64,
    /// People simulated.
    pub n: u64,
}

/// The strata and their sizes: every band from `first_band`, both sexes; the sample size
/// `min(residents, sample)` split by largest remainder.
pub fn strata(town: &Town, first_band: usize, sample: u64) -> Vec<Stratum> {
    let mut out = Vec::new();
    for sex in Sex::ALL {
        for band in first_band..N_AGE_BANDS {
            out.push(Stratum {
                sex,
                band,
                residents: town.count(sex, band),
                n: 0,
            });
        }
    }
    let total: f64 = out.iter().map(|s| s.residents).sum();
    let n = (total.round() as u64).clamp(1, sample.max(1));
    let exact: Vec<f64> = out.iter().map(|s| s.residents / total * n as f64).collect();
    let mut given = 0u64;
    for (s, x) in out.iter_mut().zip(&exact) {
        s.n = x.floor() as u64;
        given += s.n;
    }
    // Largest remainders first (ties: stratum order), until n is reached.
    let mut order: Vec<usize> = (0..out.len()).collect();
    order.sort_by(|&a, &b| {
        let (ra, rb) = (exact[a] - exact[a].floor(), exact[b] - exact[b].floor());
        rb.total_cmp(&ra).then(a.cmp(&b))
    });
    for &i in order.iter().take((n - given) as usize) {
        out[i].n += 1;
    }
    out
}

/// Candidates of one stratum, generated lazily and kept (a tilt re-reads them).
struct Pool {
    people: Vec<(Baseline, f64)>,
    next: u64,
}

/// The sampler: the strata, the generator and each stratum's candidates.
pub struct Sampler {
    pub strata: Vec<Stratum>,
    generator: cohort::Generator,
    key: StreamKey,
    pools: Vec<Pool>,
}

/// Most candidates drawn per person of a stratum (a tilt that rejects more is refused).
const MAX_CANDIDATES_PER_PERSON: u64 = 500;

impl Sampler {
    pub fn new(strata: Vec<Stratum>, seed: u64) -> Result<Sampler, PlanError> {
        let generator = cohort::Generator::new(cohort::SyntheticSpec {
            n: 1,
            seed,
            age_min: 40,
            age_max: 89,
        })
        .map_err(|e| PlanError::Spec(e.to_string()))?;
        let key = StreamKey::new(RunKey { seed, replicate: 0 }, RESIDENTS);
        let pools = strata
            .iter()
            .map(|_| Pool {
                people: Vec::new(),
                next: 0,
            })
            .collect();
        Ok(Sampler {
            strata,
            generator,
            key,
            pools,
        })
    }

    /// Candidate `c` of stratum `s`: a person of the stratum's sex at an age drawn within
    /// its band, and the uniform of its acceptance.
    fn candidate(&self, s: usize, c: u64) -> (Baseline, f64) {
        let st = &self.strata[s];
        let id = (s as u64) << 40 | c;
        let mut u = Stream::new(self.key, id, 0);
        let (u_age, u_accept) = (u.uniform(), u.uniform());
        let start = (st.band * 5) as f64;
        let width = if st.band + 1 >= N_AGE_BANDS {
            OPEN_BAND_WIDTH
        } else {
            5.0
        };
        let age = start + u_age * width;
        (self.generator.person_at(id, st.sex, age), u_accept)
    }

    /// Makes sure stratum `s` has at least `n` candidates.
    fn fill_pool(&mut self, s: usize, n: usize) {
        while self.pools[s].people.len() < n {
            let c = self.pools[s].next;
            let cand = self.candidate(s, c);
            self.pools[s].people.push(cand);
            self.pools[s].next += 1;
        }
    }

    /// The sample under `tilt`, ids 0..n in stratum order.
    ///
    /// A candidate's weight is `diabetes_odds_ratio` if it has diabetes (else 1) times
    /// exp(θ · FI) at 65+; it is accepted with probability min(1, weight / w_max), w_max the
    /// largest weight among the stratum's first max(64, 2n) candidates (so the acceptance
    /// stays high whatever the tilt; the cap touches only the rare candidates above them).
    pub fn sample(&mut self, tilt: Tilt) -> Result<Vec<Baseline>, PlanError> {
        let mut out = Vec::with_capacity(self.strata.iter().map(|s| s.n as usize).sum());
        for s in 0..self.strata.len() {
            let (n, band) = (self.strata[s].n, self.strata[s].band);
            let theta = if band >= 13 { tilt.frailty_theta } else { 0.0 };
            let weight = |b: &Baseline| {
                let dm = if has_diabetes(b) {
                    tilt.diabetes_odds_ratio
                } else {
                    1.0
                };
                dm * engine::math::exp(theta * b.covariates.frailty_index)
            };
            let reference = (2 * n as usize).max(64);
            self.fill_pool(s, reference);
            let w_max = self.pools[s].people[..reference]
                .iter()
                .map(|(b, _)| weight(b))
                .fold(f64::MIN_POSITIVE, f64::max);
            let mut accepted = 0u64;
            let mut i = 0usize;
            while accepted < n {
                if i == self.pools[s].people.len() {
                    if self.pools[s].next >= MAX_CANDIDATES_PER_PERSON * n.max(1) {
                        return Err(PlanError::Spec(format!(
                            "the local prevalences need a sample too far from the national \
                             one: fewer than 1 in {MAX_CANDIDATES_PER_PERSON} synthetic people \
                             of the {} {} band are accepted; check [local]",
                            if self.strata[s].sex == Sex::Male {
                                "male"
                            } else {
                                "female"
                            },
                            engine::observe::age_band_label(band)
                        )));
                    }
                    self.fill_pool(s, i + 1);
                }
                let (b, u) = self.pools[s].people[i];
                i += 1;
                if u < weight(&b) / w_max {
                    let mut b = b;
                    b.id = out.len() as u64;
                    out.push(b);
                    accepted += 1;
                }
            }
        }
        Ok(out)
    }
}

/// Whether a band is within 90+ (for tables that show 90+ as one band).
pub fn in_90_plus(band: usize) -> bool {
    band >= BAND_90
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strata_sum_to_the_sample_and_follow_the_town() {
        let town = Town::national(30_000.0);
        let st = strata(&town, 11, 20_000);
        let n: u64 = st.iter().map(|s| s.n).sum();
        let residents: f64 = st.iter().map(|s| s.residents).sum();
        assert_eq!(
            n,
            residents.round() as u64,
            "a small town is simulated one to one"
        );
        for s in &st {
            assert!((s.n as f64 - s.residents).abs() < 1.0, "{s:?}");
        }
        let st = strata(&town, 11, 5_000);
        assert_eq!(st.iter().map(|s| s.n).sum::<u64>(), 5_000);
    }

    #[test]
    fn a_sample_is_reproducible_dense_and_in_its_bands() {
        let town = Town::national(3_000.0);
        let st = strata(&town, 11, 20_000);
        let mut a = Sampler::new(st.clone(), 7).unwrap();
        let mut b = Sampler::new(st.clone(), 7).unwrap();
        let (x, y) = (
            a.sample(Tilt::default()).unwrap(),
            b.sample(Tilt::default()).unwrap(),
        );
        assert_eq!(x, y);
        for (i, p) in x.iter().enumerate() {
            assert_eq!(p.id, i as u64);
            assert!(p.age_years >= 55.0 && p.age_years < 105.0);
        }
        let old = x.iter().filter(|p| p.age_years >= 90.0).count() as u64;
        let want: u64 = st.iter().filter(|s| s.band >= 18).map(|s| s.n).sum();
        assert_eq!(old, want);
    }

    #[test]
    fn tilts_move_the_prevalences_they_target() {
        let town = Town::national(6_000.0);
        let st = strata(&town, 13, 20_000);
        let mut s = Sampler::new(st, 3).unwrap();
        let share =
            |v: &[Baseline]| v.iter().filter(|b| has_diabetes(b)).count() as f64 / v.len() as f64;
        let mean_fi = |v: &[Baseline]| {
            v.iter().map(|b| b.covariates.frailty_index).sum::<f64>() / v.len() as f64
        };
        let base = s.sample(Tilt::default()).unwrap();
        let more = s
            .sample(Tilt {
                diabetes_odds_ratio: 2.0,
                frailty_theta: 5.0,
            })
            .unwrap();
        let odds = |p: f64| p / (1.0 - p);
        let or = odds(share(&more)) / odds(share(&base));
        assert!((1.6..2.5).contains(&or), "odds ratio {or}");
        assert!(mean_fi(&more) > mean_fi(&base) * 1.05);
        assert_eq!(base.len(), more.len());
    }
}
