//! Intervention programmes: the typed specification ([`spec`]) a scenario hands to the
//! model. Enrolment, capacity allocation and the mechanisms are added beside it.

pub mod spec;

pub use spec::*;
