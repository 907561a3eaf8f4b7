//! healthtwin's disease models: one module per process, each a set of pure functions of
//! patient state and named, sourced parameters; the engine owns time, randomness and
//! parallelism. This release holds background mortality (the MHLW 2024 life table); the
//! diabetes, cardiovascular and frailty modules plug into [`HealthModel`] the same way.
//!
//! Must never: do IO at run time (data is embedded), print, or draw random numbers except
//! through the engine's keyed streams.

pub mod mortality;
pub mod params;

use engine::{Baseline, Model, Patient, RunKey, StepCtx, MAX_CAUSES};
use mortality::LifeTable;
use params::{Param, ParamSet};

/// The coupled model run by `healthtwin run`.
#[derive(Clone, Debug)]
pub struct HealthModel {
    life_table: LifeTable,
    params: ParamSet,
    background_hr: f64,
}

/// Causes of death, in output order.
pub const CAUSES: [&str; 1] = ["background"];

impl HealthModel {
    pub fn new(life_table: LifeTable) -> Self {
        let params = ParamSet::new(vec![Param {
            name: "mortality.background.hazard_ratio",
            value: 1.0,
            unit: "ratio",
            source: "calibration handle, not a published number: 1 = the MHLW 2024 life table as published",
            range: (0.0, 10.0),
        }]);
        HealthModel {
            life_table,
            background_hr: 1.0,
            params,
        }
    }

    pub fn params(&self) -> &ParamSet {
        &self.params
    }

    /// Sets a named parameter (calibration, PSA draws, per-patient twins use this).
    pub fn set_param(&mut self, name: &str, value: f64) -> Result<(), params::ParamError> {
        self.params.set(name, value)?;
        self.background_hr = self.params.get("mortality.background.hazard_ratio")?;
        Ok(())
    }

    /// The model of one replicate: `draws` redrawn from their uncertainty (the hook for
    /// probabilistic sensitivity analysis; an empty list keeps every parameter fixed).
    pub fn for_replicate(
        &self,
        run: RunKey,
        draws: &[params::ParamDraw],
    ) -> Result<HealthModel, params::ParamError> {
        let drawn = self.params.drawn(run, draws)?;
        let mut out = self.clone();
        for d in draws {
            out.set_param(&d.name, drawn.get(&d.name)?)?;
        }
        Ok(out)
    }

    pub fn life_table(&self) -> &LifeTable {
        &self.life_table
    }

    /// Canonical text of everything the model's results depend on (for the parameter hash).
    pub fn canonical(&self) -> String {
        format!("{}{}", self.params.canonical(), self.life_table.canonical())
    }
}

impl Model for HealthModel {
    type State = ();

    fn causes_of_death(&self) -> &[&'static str] {
        &CAUSES
    }

    fn init(&self, _run: RunKey, _baseline: &Baseline) -> Self::State {}

    #[inline]
    fn mortality_hazards(&self, ctx: &StepCtx, p: &Patient<()>, hazards: &mut [f64; MAX_CAUSES]) {
        // Age at the middle of the step selects the life-table row.
        let age = p.age_years + 0.5 * ctx.dt_years;
        hazards[0] = self.background_hr * self.life_table.hazard(p.sex(), age);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use params::{ParamDraw, Uncertainty};

    #[test]
    fn a_replicate_model_carries_its_drawn_parameters() {
        let base = HealthModel::new(LifeTable::mhlw_2024());
        let run = RunKey {
            seed: 3,
            replicate: 4,
        };
        assert_eq!(
            base.for_replicate(run, &[]).unwrap().params(),
            base.params()
        );
        let draws = [ParamDraw {
            name: "mortality.background.hazard_ratio".into(),
            uncertainty: Uncertainty::Uniform { lo: 0.5, hi: 1.5 },
        }];
        let drawn = base.for_replicate(run, &draws).unwrap();
        let hr = drawn
            .params()
            .get("mortality.background.hazard_ratio")
            .unwrap();
        assert!((0.5..1.5).contains(&hr) && hr != 1.0);
        // The drawn value is what the mortality phase uses.
        assert_eq!(drawn.background_hr, hr);
        assert_eq!(
            base.for_replicate(run, &draws).unwrap().params(),
            drawn.params()
        );
    }
}
