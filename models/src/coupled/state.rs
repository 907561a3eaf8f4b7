//! Per-person state of the coupled model: one part per module, and the access traits that
//! let each module's functions, generic over those traits, reach their part.
//!
//! Must never: hold anything but plain per-person values (the state is copied freely), or
//! hold a part that no module owns.

use crate::cvd::{CvdState, HasCvd};
use crate::diabetes::{DmState, HasDm};
use crate::economics::{EconState, HasEcon};
use crate::frailty::{FrState, HasFrailty};
use crate::interventions::{HasProgrammes, IxState};
use crate::trial::{HasTrial, TrialRecord};

/// Per-person state of the coupled model: one part per module. Each module's functions are
/// generic over a `Has…` trait, so they also run on their own part alone.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PersonState {
    pub dm: DmState,
    pub fr: FrState,
    pub cvd: CvdState,
    pub ix: IxState,
    pub econ: EconState,
    /// First-event months of a virtual trial (untouched outside trials).
    pub trial: TrialRecord,
}

/// Implements a module's access trait for the part of [`PersonState`] that module owns.
macro_rules! part {
    ($trait:ident, $field:ident: $ty:ty, $get:ident, $get_mut:ident) => {
        impl $trait for PersonState {
            #[inline]
            fn $get(&self) -> &$ty {
                &self.$field
            }
            #[inline]
            fn $get_mut(&mut self) -> &mut $ty {
                &mut self.$field
            }
        }
    };
}

part!(HasDm, dm: DmState, dm, dm_mut);
part!(HasFrailty, fr: FrState, fr, fr_mut);
part!(HasCvd, cvd: CvdState, cvd, cvd_mut);
part!(HasProgrammes, ix: IxState, ix, ix_mut);
part!(HasEcon, econ: EconState, econ, econ_mut);
part!(HasTrial, trial: TrialRecord, trial, trial_mut);
