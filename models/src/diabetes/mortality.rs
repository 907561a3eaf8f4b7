//! The mortality of diabetes: a person's hazard ratio (JPHC, with complications) and the
//! population's expected ratio, which the background divides out.
//!
//! Must never: count an excess the life table already holds (docs/model.md).

use engine::math::ExpDet;
use engine::Patient;

use super::{params, Diabetes, HasDm, MICRO};

impl Diabetes {
    /// Mortality hazard ratio of the person relative to someone without diabetes.
    #[inline]
    pub fn hazard_ratio<S: HasDm>(&self, p: &Patient<S>) -> f64 {
        let st = p.state.dm();
        if !st.has_diabetes() {
            return 1.0;
        }
        let prm = &self.p;
        let hr = if p.sex().index() == 0 {
            prm.hr_dm_male
        } else {
            prm.hr_dm_female
        };
        let mut lhr = 0.0;
        if st.esrd {
            lhr += prm.lhr_esrd;
        }
        if st.amputations > 0 {
            lhr += prm.lhr_amputation;
        }
        if st.albuminuria >= MICRO {
            lhr += prm.lhr_albuminuria;
        }
        hr * lhr.exp_det()
    }

    /// Expected diabetes hazard ratio in the population the life table describes (NHNS 2016
    /// prevalence): dividing by it keeps the population's all-cause mortality at the life
    /// table's (docs/model.md, "excess hazards without double counting").
    #[inline]
    pub fn population_hazard_ratio(&self, sex: usize, age: f64) -> f64 {
        let hr = if sex == 0 {
            self.p.hr_dm_male
        } else {
            self.p.hr_dm_female
        };
        1.0 + params::nhns_prevalence(sex, age) * (hr - 1.0)
    }
}
