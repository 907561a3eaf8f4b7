//! The programme part of a person's state, the trait through which the programme functions
//! reach it, and what a person state must hold for programmes to act on it.
//!
//! Must never: hold anything but plain per-person values (the state is copied freely).

use super::MAX_PROGRAMMES;
use crate::cvd::HasCvd;
use crate::diabetes::HasDm;
use crate::frailty::HasFrailty;

/// A month that never comes (no exit scheduled).
pub const NEVER: u16 = u16::MAX;

/// The programme part of a person's state (48 bytes, no allocation).
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct IxState {
    /// Currently enrolled, one bit per programme (plan order).
    pub enrolled: u8,
    /// The programme's mechanism has started acting on the person (set in the first step
    /// after enrolment, cleared when the participant leaves).
    pub started: u8,
    /// The programme changed a treatment or trait the person did not have (a statin, a
    /// blood-pressure drug, metformin, social participation): undone when they leave.
    pub owns: u8,
    /// Ever enrolled: people who left are not offered a place again.
    pub ever: u8,
    /// Month of the run the person enrolled, per programme.
    pub since_month: [u16; MAX_PROGRAMMES],
    /// Month of the run the person leaves (at the start of that month's step), per programme;
    /// [`NEVER`] for a programme the person is not enrolled in, so the earliest exit of all
    /// programmes is one minimum ([`IxState::next_exit`]).
    pub exit_month: [u16; MAX_PROGRAMMES],
    /// What programmes the person left still leave on them, fading from `carry_month`:
    /// weight lost (share of the person's own weight trajectory) and added daily steps.
    /// Regain and relapse are exponential, so a second exit adds to what is left of the
    /// first exactly.
    pub carry_weight: f32,
    pub carry_steps: f32,
    /// Month of the run the carried effects were last updated ([`NEVER`]: nothing carried).
    pub carry_month: u16,
    /// Blood-pressure drugs added by treat-to-target programmes (withdrawn when they end).
    pub bp_added: u8,
}

impl Default for IxState {
    fn default() -> Self {
        IxState {
            enrolled: 0,
            started: 0,
            owns: 0,
            ever: 0,
            since_month: [0; MAX_PROGRAMMES],
            exit_month: [NEVER; MAX_PROGRAMMES],
            carry_weight: 0.0,
            carry_steps: 0.0,
            carry_month: NEVER,
            bp_added: 0,
        }
    }
}

impl IxState {
    #[inline]
    pub fn is_enrolled(&self, k: usize) -> bool {
        self.enrolled >> k & 1 == 1
    }

    /// The earliest month at which the person leaves a programme ([`NEVER`] if none).
    #[inline]
    pub fn next_exit(&self) -> u16 {
        self.exit_month.iter().fold(NEVER, |m, &e| m.min(e))
    }

    /// Whether a programme the person left still acts (weight regain, activity relapse).
    #[inline]
    pub fn carries(&self) -> bool {
        self.carry_month != NEVER
    }

    /// The person leaves programme `k` (bit `bit`).
    #[inline]
    pub fn leave(&mut self, k: usize, bit: u8) {
        self.enrolled &= !bit;
        self.exit_month[k] = NEVER;
    }
}

/// A person state that holds a programme part (see [`crate::diabetes::HasDm`] for the
/// pattern).
pub trait HasProgrammes {
    fn ix(&self) -> &IxState;
    fn ix_mut(&mut self) -> &mut IxState;
}

impl HasProgrammes for IxState {
    #[inline]
    fn ix(&self) -> &IxState {
        self
    }
    #[inline]
    fn ix_mut(&mut self) -> &mut IxState {
        self
    }
}

/// A person state programmes can act on: its programme part and the disease parts whose
/// inputs the mechanisms change (through the disease modules' verbs) and whose state
/// eligibility and priority read.
pub trait Participant: HasProgrammes + HasDm + HasCvd + HasFrailty {}

impl<T: HasProgrammes + HasDm + HasCvd + HasFrailty> Participant for T {}
