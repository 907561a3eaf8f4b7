//! The embedded synthetic Japanese cohort: adults (40–89 by default) with the national
//! age/sex structure and correlated covariates from published Japanese distributions
//! (see [`crate::japan`] for every number and its source).
//!
//! Person `id` is a pure function of `(seed, id)`: the first 1,000 people of a cohort of
//! 10,000 are the 1,000 people of a cohort of 1,000 with the same seed, and generation
//! order or thread count never matters.

use engine::math::norm_inv;
use engine::{
    Baseline, Conditions, Covariates, Process, RunKey, Sex, Stream, StreamKey, Treatments,
};
use nalgebra::DMatrix;
use rayon::prelude::*;

use crate::japan::{self, at_age, Marginal, Share, N_LATENT};
use crate::CohortError;

const SYNTH: Process = Process::named("cohort.synthetic");

/// What to generate.
#[derive(Clone, Debug, PartialEq)]
pub struct SyntheticSpec {
    pub n: u64,
    pub seed: u64,
    /// Youngest and oldest age in whole years (inclusive), within 40–89.
    pub age_min: u32,
    pub age_max: u32,
}

impl Default for SyntheticSpec {
    fn default() -> Self {
        SyntheticSpec {
            n: 10_000,
            seed: 1,
            age_min: 40,
            age_max: 89,
        }
    }
}

/// A validated generator: the copula's Cholesky factor and the age/sex distribution.
pub struct Generator {
    spec: SyntheticSpec,
    chol: [[f64; N_LATENT]; N_LATENT],
    /// Cumulative weights over (sex, single year of age) cells.
    cells: Vec<(Sex, u32, f64)>,
    key: StreamKey,
}

impl Generator {
    pub fn new(spec: SyntheticSpec) -> Result<Generator, CohortError> {
        let first = japan::POPULATION_FIRST_AGE;
        let last = first + 5 * japan::POPULATION_2022_THOUSANDS[0].len() as u32 - 1;
        if spec.age_min < first || spec.age_max > last || spec.age_min > spec.age_max {
            return Err(CohortError::Spec(format!(
                "ages {}–{} are outside the embedded population tables ({first}–{last}); \
                 choose --age-min and --age-max within them",
                spec.age_min, spec.age_max
            )));
        }
        if spec.n == 0 {
            return Err(CohortError::Spec(
                "the cohort needs at least one person (--n / --patients)".into(),
            ));
        }
        let chol = cholesky(&correlation_matrix())?;
        let mut cells = Vec::new();
        let mut cum = 0.0;
        for sex in Sex::ALL {
            for age in spec.age_min..=spec.age_max {
                // People are spread evenly over the five single years of each 5-year group.
                let group = ((age - first) / 5) as usize;
                cum += japan::POPULATION_2022_THOUSANDS[sex.index()][group] / 5.0;
                cells.push((sex, age, cum));
            }
        }
        let key = StreamKey::new(
            RunKey {
                seed: spec.seed,
                replicate: 0,
            },
            SYNTH,
        );
        Ok(Generator {
            spec,
            chol,
            cells,
            key,
        })
    }

    pub fn spec(&self) -> &SyntheticSpec {
        &self.spec
    }

    /// The whole cohort, in id order.
    pub fn generate(&self) -> Vec<Baseline> {
        (0..self.spec.n)
            .into_par_iter()
            .map(|id| self.person(id))
            .collect()
    }

    /// Person `id`.
    pub fn person(&self, id: u64) -> Baseline {
        let mut s = Stream::new(self.key, id, 0);
        let total = self.cells.last().map(|c| c.2).unwrap_or(1.0);
        let target = s.uniform() * total;
        let i = self
            .cells
            .partition_point(|c| c.2 < target)
            .min(self.cells.len() - 1);
        let (sex, whole_age, _) = self.cells[i];
        let age = f64::from(whole_age) + s.uniform();

        let mut e = [0.0; N_LATENT];
        for v in e.iter_mut() {
            *v = s.std_normal();
        }
        let mut z = [0.0; N_LATENT];
        for (r, zr) in z.iter_mut().enumerate() {
            *zr = (0..=r).map(|c| self.chol[r][c] * e[c]).sum();
        }
        let u_dx = s.uniform();
        let u_rx_dm = s.uniform();
        let u_stroke = s.uniform();
        let u_mi = s.uniform();

        let normal = |m: &Marginal, zi: f64| {
            at_age(&m.mean[sex.index()], age) + at_age(&m.sd[sex.index()], age) * zi
        };
        let lognormal = |m: &Marginal, zi: f64| {
            let mean = at_age(&m.mean[sex.index()], age);
            let sd = at_age(&m.sd[sex.index()], age);
            let s2 = (1.0 + (sd / mean).powi(2)).ln();
            (mean.ln() - 0.5 * s2 + s2.sqrt() * zi).exp()
        };
        let share = |t: &Share| at_age(&t.pct[sex.index()], age) / 100.0;
        let above = |zi: f64, p: f64| zi > norm_inv(1.0 - p);

        let diabetic = above(z[13], share(&japan::DIABETES));
        let (hba1c, fpg) = if diabetic {
            let a = (japan::HBA1C_DIABETIC_MEAN + japan::HBA1C_DIABETIC_SD * z[3]).clamp(5.0, 15.0);
            let f = japan::ADAG_SLOPE * a + japan::ADAG_INTERCEPT - japan::MEAN_MINUS_FASTING
                + japan::FPG_DIABETIC_SD * z[14];
            (a, f.clamp(70.0, 450.0))
        } else {
            let r = japan::HBA1C_FPG_CORRELATION;
            let a = normal(&japan::HBA1C_NON_DIABETIC, z[3]).clamp(4.0, 6.49);
            let f = normal(
                &japan::FPG_NON_DIABETIC,
                r * z[3] + (1.0 - r * r).sqrt() * z[14],
            );
            (a, f.clamp(60.0, 125.0))
        };
        let sbp = normal(&japan::SBP, z[1]).clamp(80.0, 250.0);
        let dbp = normal(&japan::DBP, z[2]).clamp(40.0, 150.0).min(sbp - 10.0);
        let tc = normal(&japan::TC, z[4]).clamp(100.0, 400.0);
        let hdl = normal(&japan::HDL, z[5]).clamp(20.0, 130.0);
        let ldl = normal(&japan::LDL, z[6])
            .clamp(30.0, 300.0)
            .min(tc - hdl - 5.0)
            .max(20.0);

        let mut conditions = Conditions::default();
        let mut treatments = Treatments::default();
        let dx_dm = diabetic && u_dx < japan::DIABETES_DIAGNOSED_PCT / 100.0;
        conditions.set(Conditions::DIABETES, dx_dm);
        treatments.set(
            Treatments::GLUCOSE_LOWERING,
            dx_dm && u_rx_dm < share(&japan::DIABETES_TREATED),
        );
        let rx_ht = above(z[11], share(&japan::ANTIHYPERTENSIVE));
        treatments.set(Treatments::ANTIHYPERTENSIVE, rx_ht);
        conditions.set(Conditions::HYPERTENSION, rx_ht);
        let rx_ll = above(z[12], share(&japan::LIPID_LOWERING));
        treatments.set(Treatments::LIPID_LOWERING, rx_ll);
        conditions.set(Conditions::DYSLIPIDAEMIA, rx_ll);
        conditions.set(Conditions::STROKE, u_stroke < share(&japan::HX_STROKE));
        conditions.set(Conditions::MI, u_mi < share(&japan::HX_MI));

        Baseline {
            id,
            sex,
            age_years: age,
            covariates: Covariates {
                bmi_kg_m2: lognormal(&japan::BMI, z[0]).clamp(13.0, 60.0),
                fpg_mg_dl: fpg,
                hba1c_pct: hba1c,
                sbp_mmhg: sbp,
                dbp_mmhg: dbp,
                tc_mg_dl: tc,
                hdl_mg_dl: hdl,
                ldl_mg_dl: ldl,
                egfr_ml_min: normal(&japan::EGFR, z[7]).clamp(5.0, 150.0),
                steps_per_day: lognormal(&japan::STEPS, z[8]).clamp(100.0, 40_000.0),
                frailty_index: lognormal(&japan::FRAILTY_INDEX, z[9]).clamp(0.0, japan::FI_CEILING),
                smoker: above(z[10], share(&japan::SMOKING)),
                conditions,
                treatments,
            },
        }
    }
}

/// The copula's latent correlation matrix from [`japan::CORRELATIONS`].
pub fn correlation_matrix() -> DMatrix<f64> {
    let mut m = DMatrix::<f64>::identity(N_LATENT, N_LATENT);
    for &(a, b, r, _) in japan::CORRELATIONS {
        m[(a, b)] = r;
        m[(b, a)] = r;
    }
    m
}

fn cholesky(m: &DMatrix<f64>) -> Result<[[f64; N_LATENT]; N_LATENT], CohortError> {
    let l = m
        .clone()
        .cholesky()
        .ok_or_else(|| {
            CohortError::Spec("the copula correlation matrix is not positive definite".into())
        })?
        .l();
    let mut out = [[0.0; N_LATENT]; N_LATENT];
    for (r, row) in out.iter_mut().enumerate() {
        for (c, v) in row.iter_mut().enumerate() {
            *v = l[(r, c)];
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cohort(n: u64, seed: u64) -> Vec<Baseline> {
        Generator::new(SyntheticSpec {
            n,
            seed,
            ..Default::default()
        })
        .unwrap()
        .generate()
    }

    #[test]
    fn people_depend_only_on_seed_and_id() {
        let small = cohort(100, 3);
        let large = cohort(1000, 3);
        assert_eq!(small[..], large[..100]);
        assert_ne!(cohort(100, 4)[..], small[..]);
    }

    #[test]
    fn age_sex_structure_matches_the_population_table() {
        let people = cohort(100_000, 1);
        let total: f64 = japan::POPULATION_2022_THOUSANDS.iter().flatten().sum();
        for sex in Sex::ALL {
            for (g, thousands) in japan::POPULATION_2022_THOUSANDS[sex.index()]
                .iter()
                .enumerate()
            {
                let lo = 40.0 + 5.0 * g as f64;
                let n = people
                    .iter()
                    .filter(|p| p.sex == sex && p.age_years >= lo && p.age_years < lo + 5.0)
                    .count();
                let expected = thousands / total;
                let got = n as f64 / people.len() as f64;
                // Binomial SE is below 1e-3 for these shares: 4 SE.
                assert!(
                    (got - expected).abs() < 4e-3,
                    "{sex:?} {lo}: {got} vs {expected}"
                );
            }
        }
    }

    #[test]
    fn marginals_match_their_tables() {
        let people = cohort(200_000, 2);
        let band = |p: &&Baseline| p.sex == Sex::Male && p.age_years >= 50.0 && p.age_years < 60.0;
        let men50: Vec<&Baseline> = people.iter().filter(band).collect();
        let n = men50.len() as f64;
        let mean = |f: &dyn Fn(&Baseline) -> f64| men50.iter().map(|p| f(p)).sum::<f64>() / n;
        // Interpolation between midpoints 45/55/65 averages out over the band only roughly,
        // so compare with the band-55 table value within a tolerance of a few percent.
        let sbp = mean(&|p| p.covariates.sbp_mmhg);
        assert!((sbp - 131.7).abs() < 2.0, "SBP {sbp}");
        let bmi = mean(&|p| p.covariates.bmi_kg_m2);
        assert!((bmi - 23.70).abs() < 0.3, "BMI {bmi}");
        let smoke = mean(&|p| p.covariates.smoker as u8 as f64);
        // 31.8 % current smokers (NHNS 2019, men 50-59).
        let expected_smoking = japan::SMOKING.pct[0][1] / 100.0;
        assert!((smoke - expected_smoking).abs() < 0.02, "smoking {smoke}");
        let rx = mean(&|p| {
            p.covariates
                .treatments
                .contains(Treatments::ANTIHYPERTENSIVE) as u8 as f64
        });
        assert!((rx - 0.178).abs() < 0.03, "antihypertensive {rx}");
        // Strongly suspected diabetes = HbA1c >= 6.5 or on treatment.
        let dm = mean(&|p| {
            (p.covariates.hba1c_pct >= 6.5
                || p.covariates
                    .treatments
                    .contains(Treatments::GLUCOSE_LOWERING)) as u8 as f64
        });
        assert!((dm - 0.125).abs() < 0.02, "diabetes {dm}");
    }

    #[test]
    fn correlations_survive_the_copula() {
        let people = cohort(100_000, 5);
        let pairs: Vec<(f64, f64)> = people
            .iter()
            .map(|p| (p.covariates.sbp_mmhg, p.covariates.dbp_mmhg))
            .collect();
        let r = pearson(&pairs);
        // Latent 0.55; age structure adds some shared trend. Must be clearly positive.
        assert!(r > 0.45 && r < 0.7, "r(SBP, DBP) = {r}");
        let treated: Vec<f64> = people
            .iter()
            .filter(|p| {
                p.covariates
                    .treatments
                    .contains(Treatments::ANTIHYPERTENSIVE)
            })
            .map(|p| p.covariates.sbp_mmhg)
            .collect();
        let untreated: Vec<f64> = people
            .iter()
            .filter(|p| {
                !p.covariates
                    .treatments
                    .contains(Treatments::ANTIHYPERTENSIVE)
            })
            .map(|p| p.covariates.sbp_mmhg)
            .collect();
        let m = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
        let gap = m(&treated) - m(&untreated);
        assert!(gap > 10.0 && gap < 30.0, "treated - untreated SBP {gap}");
    }

    #[test]
    fn values_stay_in_plausible_ranges() {
        for p in cohort(20_000, 9) {
            let c = p.covariates;
            assert!((40.0..90.0).contains(&p.age_years));
            assert!(c.dbp_mmhg < c.sbp_mmhg);
            assert!(c.ldl_mg_dl < c.tc_mg_dl);
            assert!((0.0..=0.7).contains(&c.frailty_index));
            assert!(
                c.conditions.contains(Conditions::DIABETES)
                    || !c.treatments.contains(Treatments::GLUCOSE_LOWERING)
            );
            assert!(c.continuous().iter().all(|v| v.is_finite()));
        }
    }

    #[test]
    fn bad_specs_are_refused() {
        assert!(Generator::new(SyntheticSpec {
            age_min: 20,
            ..Default::default()
        })
        .is_err());
        assert!(Generator::new(SyntheticSpec {
            age_min: 70,
            age_max: 60,
            ..Default::default()
        })
        .is_err());
        assert!(Generator::new(SyntheticSpec {
            n: 0,
            ..Default::default()
        })
        .is_err());
    }

    fn pearson(xy: &[(f64, f64)]) -> f64 {
        let n = xy.len() as f64;
        let (mx, my) = (
            xy.iter().map(|p| p.0).sum::<f64>() / n,
            xy.iter().map(|p| p.1).sum::<f64>() / n,
        );
        let cov: f64 = xy.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
        let vx: f64 = xy.iter().map(|p| (p.0 - mx).powi(2)).sum();
        let vy: f64 = xy.iter().map(|p| (p.1 - my).powi(2)).sum();
        cov / (vx * vy).sqrt()
    }
}
