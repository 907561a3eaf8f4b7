//! Virtual trials on the study runner. The Diabetes Prevention Program (Knowler 2002 NEJM
//! 346:393): eligible people in three arms (placebo, metformin, lifestyle) on the same
//! people with common random numbers, DPP's semi-annual confirmed fasting glucose as the
//! outcome ([`models::diabetes::dpp::DppTrial`]).

use engine::observe::{FIXED_POINT, N_AGE_BANDS};
use engine::{Baseline, RunKey, Sex};
use models::diabetes::dpp::{Arm as DppArm, DppTrial, TrialHost};
use models::params::{ParamDraw, ParamError};
use models::HealthModel;

use crate::runner::{self, Arm, Progress, Settings, Study, StudyError, StudyModel};

/// The DPP arms, placebo (the reference) first.
pub const DPP_ARMS: [DppArm; 3] = [DppArm::Placebo, DppArm::Metformin, DppArm::Lifestyle];

impl<M: TrialHost + StudyModel> StudyModel for DppTrial<M> {
    fn for_replicate(&self, key: RunKey, draws: &[ParamDraw]) -> Result<Self, ParamError> {
        Ok(DppTrial {
            model: self.model.for_replicate(key, draws)?,
            arm: self.arm,
        })
    }
    fn step_months(&self) -> &'static [u32] {
        self.model.step_months()
    }
}

/// One arm's result.
#[derive(Clone, Debug, PartialEq)]
pub struct DppArmResult {
    pub arm: DppArm,
    pub participants: usize,
    pub cases: i64,
    pub person_years: f64,
    /// Cases per 100 person-years.
    pub incidence_per_100py: f64,
    /// Share with confirmed diabetes by the end of each follow-up year (%).
    pub cumulative_pct: Vec<f64>,
}

/// Runs the three DPP arms on `participants` (one replicate, monthly steps).
pub fn dpp(
    model: &HealthModel,
    participants: Vec<Baseline>,
    seed: u64,
    years: u32,
    progress: &dyn Progress,
) -> Result<Vec<DppArmResult>, StudyError> {
    let n = participants.len();
    let study = Study {
        arms: DPP_ARMS
            .iter()
            .map(|&arm| Arm {
                name: arm.name().to_string(),
                model: DppTrial {
                    model: model.clone(),
                    arm,
                },
            })
            .collect(),
        population: participants,
        settings: Settings {
            seed,
            years,
            step_months: 1,
            replicates: 1,
            chunk_size: 256,
            ..Settings::default()
        },
        draws: Vec::new(),
    };
    let results = runner::run(&study, progress, |ctx, out| {
        let agg = &out.aggregate;
        // The trial's one metric is its last: confirmed diabetes per person-year.
        let metric = agg.metrics() - 1;
        let (mut cases, mut fixed_pt) = (0i64, 0i64);
        let mut cumulative_pct = Vec::new();
        for y in 0..agg.years() {
            for sex in Sex::ALL {
                for band in 0..N_AGE_BANDS {
                    let a = agg.get(y, sex, band, metric);
                    cases += a.num;
                    fixed_pt += a.den;
                }
            }
            cumulative_pct.push(100.0 * cases as f64 / n as f64);
        }
        let person_years = fixed_pt as f64 / FIXED_POINT;
        Ok::<_, StudyError>(DppArmResult {
            arm: DPP_ARMS[ctx.arm],
            participants: n,
            cases,
            person_years,
            incidence_per_100py: 100.0 * cases as f64 / person_years,
            cumulative_pct,
        })
    })?;
    Ok(results
        .arms
        .into_iter()
        .flat_map(|a| a.replicates)
        .collect())
}
