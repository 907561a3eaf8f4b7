//! The mortality of frailty: the person's FI hazard ratio (Kojima 2018) and the reference
//! population's expected ratio by age, which the background divides out.
//!
//! Must never: count an excess the life table already holds (docs/model.md).

use engine::math::ExpDet;
use engine::Patient;

use super::{Frailty, HasFrailty, TABLE_AGES};

impl Frailty {
    #[inline]
    pub(super) fn fi_hazard_ratio(&self, count: u32) -> f64 {
        (self.ln_hr_per_deficit * f64::from(count)).exp_det()
    }

    /// Mortality hazard ratio of the person's FI (HR per 0.01 FI, Kojima 2018).
    #[inline]
    pub fn hazard_ratio<S: HasFrailty>(&self, p: &Patient<S>) -> f64 {
        p.state.fr().hazard_ratio
    }

    /// Expected FI hazard ratio of the reference population at `age`: dividing the
    /// background by it keeps the population's all-cause mortality at the life table's.
    #[inline]
    pub fn population_hazard_ratio(&self, age: f64) -> f64 {
        let x = age.clamp(0.0, (TABLE_AGES - 1) as f64);
        let i = engine::math::floor_index(x, TABLE_AGES - 2);
        let w = x - i as f64;
        self.population_hr[i] * (1.0 - w) + self.population_hr[i + 1] * w
    }
}
