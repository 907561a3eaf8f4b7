pub mod equations;
pub mod hazard;
