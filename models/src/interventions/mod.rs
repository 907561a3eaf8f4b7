//! Intervention programmes: the typed specification ([`spec`]) a scenario hands to the
//! model, its validation into a [`ProgrammeSet`] (`programmes`), the yearly allocation of
//! places among eligible people ([`ProgrammeSet::start_of_year`], `allocation`) and the
//! mechanisms by which a participant's model inputs change ([`mechanisms`]); the per-person
//! part ([`IxState`]) and what a person state must hold for programmes to act on it
//! ([`Participant`]) are in `state`.
//!
//! Allocation (docs/model.md, "Interventions and health economics"): at the start of each
//! year, over the whole population (in parallel where no person's outcome depends on
//! another's; the result never depends on thread count), participants whose time is up leave
//! (duration, programme stop); each remaining participant draws the year's exponential
//! dropout time; then the eligible people who never took part are ranked by the programme's
//! priority (ties and `Random` broken by a keyed lottery) and offered the free places in rank
//! order (sequentially); each offer is accepted with probability `uptake`. Without a
//! capacity every candidate is offered a place, in one parallel pass. `capacity_per_year` counts
//! **concurrent places**: participants at the start of the year never exceed it.
//!
//! Must never: draw except through keyed streams of its own processes (named after the
//! programme, so adding or removing a programme shifts no other draw), allocate in the step
//! functions, change a person's state while the programme's strength (adherence × effect
//! scale) is zero, or write a disease module's state other than through that module's verbs.

mod allocation;
pub mod effects;
pub mod mechanisms;
mod programmes;
pub mod spec;
mod state;

pub use allocation::YearPrep;
pub use programmes::{metric, InterventionError, ProgrammeSet, ValidatedProgramme};
pub use spec::*;
pub use state::{HasProgrammes, IxState, Participant, NEVER};

/// Most programmes one scenario may run (the per-person state holds one bit per programme
/// in a `u8` and two `u16` months per programme).
pub const MAX_PROGRAMMES: usize = 8;
