//! Per-person traits of personal twins: what a person's own history tells about the
//! latent parameters each module otherwise draws from the population at entry (β-cell
//! capacity and insulin sensitivity, blood-pressure and LDL levels and slopes, BMI slope,
//! frailty exposure, adherence). The `twin` crate infers them (Bayesian updating with the
//! population model as the prior) and hands one set per copy of the person to
//! [`HealthModel::set_personal_traits`]; each module applies its part through its own
//! `personalise` verb after its usual `init`, so every random stream is read as for anyone
//! else and arms keep common random numbers.
//!
//! Must never: hold anything but plain per-person values, or change a person whose id has
//! no traits.

use super::HealthModel;
use crate::cvd::CvdTraits;
use crate::diabetes::DmTraits;
use crate::frailty::FrTraits;

/// One person's traits, by module (`None`: that module's population draws).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct PersonalTraits {
    pub dm: Option<DmTraits>,
    pub cvd: Option<CvdTraits>,
    pub fr: Option<FrTraits>,
}

impl HealthModel {
    #[inline]
    pub(super) fn personal_traits_of(&self, id: u64) -> Option<&PersonalTraits> {
        self.personal
            .as_deref()
            .and_then(|t| usize::try_from(id).ok().and_then(|i| t.get(i)))
    }
}
