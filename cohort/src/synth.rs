//! The embedded synthetic Japanese cohort: adults 20–89 (40–89 by default) with the national
//! age/sex structure and correlated covariates from published Japanese distributions
//! (see [`crate::japan`] for every number and its source).
//!
//! Person `id` is a pure function of `(seed, id)`: the first 1,000 people of a cohort of
//! 10,000 are the 1,000 people of a cohort of 1,000 with the same seed, and generation
//! order or thread count never matters.

use engine::math::DetMath;
use engine::math::{norm_cdf, norm_inv};
use engine::{
    Baseline, Conditions, Covariates, Process, RunKey, Sex, Stream, StreamKey, Treatments,
};
use nalgebra::DMatrix;
use rayon::prelude::*;

use crate::japan::{self, Marginal, Share, N_LATENT};
use crate::CohortError;

/// The diagnostic thresholds that bound the glucose of people without diabetes (JDS:
/// HbA1c 6.5%, fasting plasma glucose 126 mg/dL).
const HBA1C_DIABETES: f64 = 6.5;
const FPG_DIABETES: f64 = 126.0;

const SYNTH: Process = Process::named("cohort.synthetic");

/// What to generate.
#[derive(Clone, Debug, PartialEq)]
pub struct SyntheticSpec {
    pub n: u64,
    pub seed: u64,
    /// Youngest and oldest age in whole years (inclusive), within 20–89.
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
        self.covariates_at(id, sex, age, s, 1.0)
    }

    /// Person `id` with a given sex and age (a stratified sample of a municipality's
    /// residents): the covariates [`Self::person`] draws, at this age, for ages 40-104 (the
    /// generator's own age range does not apply). Every marginal is flat beyond its last band
    /// midpoint (85), as in [`Self::person`], except the frailty index: its mean and SD grow
    /// by [`japan::FI_GROWTH_ABOVE_85`] per year above 85, as the frailty model's reference
    /// population does (whose certification rates by age the model is calibrated to).
    pub fn person_at(&self, id: u64, sex: Sex, age: f64) -> Baseline {
        let mut s = Stream::new(self.key, id, 0);
        // The two draws of sex and age in `person`: the covariate draws keep their places.
        let _ = (s.uniform(), s.uniform());
        self.covariates_at(id, sex, age, s, japan::fi_growth_above_85(age))
    }

    /// The covariates of person `id` of `sex` at `age`, from the rest of the person's stream;
    /// the frailty index is multiplied by `fi_factor`.
    fn covariates_at(
        &self,
        id: u64,
        sex: Sex,
        age: f64,
        mut s: Stream,
        fi_factor: f64,
    ) -> Baseline {
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
            let (mean, sd) = m.at(sex.index(), age);
            mean + sd * zi
        };
        let lognormal = |m: &Marginal, zi: f64| {
            let (mean, sd) = m.at(sex.index(), age);
            let cv = sd / mean;
            let s2 = (1.0 + cv * cv).ln_det();
            (mean.ln_det() - 0.5 * s2 + s2.sqrt() * zi).exp_det()
        };
        let share = |t: &Share| t.at(sex.index(), age) / 100.0;
        let above = |zi: f64, p: f64| zi > norm_inv(1.0 - p);

        let diabetic = above(z[13], share(&japan::DIABETES));
        let (hba1c, fpg) = if diabetic {
            let a = (japan::HBA1C_DIABETIC_MEAN + japan::HBA1C_DIABETIC_SD * z[3]).clamp(5.0, 15.0);
            let f = japan::ADAG_SLOPE * a + japan::ADAG_INTERCEPT - japan::MEAN_MINUS_FASTING
                + japan::FPG_DIABETIC_SD * z[14];
            (a, f.clamp(70.0, 450.0))
        } else {
            // People without diabetes have HbA1c < 6.5% and fasting glucose < 126 mg/dL:
            // each marginal is a normal truncated at that bound (not clamped onto it, which
            // piled ~1% of them on the threshold, all converting in the first year).
            let below = |m: &Marginal, zi: f64, bound: f64| {
                let (mean, sd) = m.at(sex.index(), age);
                let zt = norm_inv(norm_cdf(zi) * norm_cdf((bound - mean) / sd));
                mean + sd * zt
            };
            let r = japan::HBA1C_FPG_CORRELATION;
            let a = below(&japan::HBA1C_NON_DIABETIC, z[3], HBA1C_DIABETES).clamp(4.0, 6.49);
            let f = below(
                &japan::FPG_NON_DIABETIC,
                r * z[3] + (1.0 - r * r).sqrt() * z[14],
                FPG_DIABETES,
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
                frailty_index: (lognormal(&japan::FRAILTY_INDEX, z[9]) * fi_factor)
                    .clamp(0.0, japan::FI_CEILING),
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
