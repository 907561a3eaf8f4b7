//! Flag groups several commands share (clap), and what they make: the synthetic
//! population's size and ages, and disclosure control. Below every command module.

use clap::Args;
use cohort::synth::{Generator, SyntheticSpec};

use crate::common::input_error;

/// Size of a synthetic population.
#[derive(Args, Clone, Debug)]
pub struct PopulationArgs {
    /// Youngest age (whole years) of the synthetic cohort.
    #[arg(long, default_value_t = 40, value_parser = clap::value_parser!(u32).range(20..=89))]
    pub age_min: u32,
    /// Oldest age (whole years) of the synthetic cohort.
    #[arg(long, default_value_t = 89, value_parser = clap::value_parser!(u32).range(20..=89))]
    pub age_max: u32,
}

/// Disclosure control of published aggregates (docs/outputs.md, "Disclosure control").
#[derive(Args, Clone, Debug, Default)]
pub struct DisclosureArgs {
    /// Withhold every aggregate cell that describes fewer than K people (K >= 3), with
    /// complementary cells so none can be recovered from totals. Default: 10 (Japan's NDB
    /// Open Data minimum) for a cohort file of real people, where it cannot be turned off;
    /// none for synthetic people.
    #[arg(long, value_name = "K", value_parser = clap::value_parser!(u32).range(3..))]
    pub min_cell: Option<u32>,
    /// Publish aggregates of a cohort whose pseudonyms were made with the published demo key
    /// (`cohort import --demo`): reversible by anyone, so for test data only.
    #[arg(long)]
    pub allow_demo_key: bool,
}

/// The synthetic cohort generator of `n` people with `pop`'s ages.
pub fn generator(n: u64, seed: u64, pop: &PopulationArgs) -> anyhow::Result<Generator> {
    if pop.age_min > pop.age_max {
        return Err(input_error(format!(
            "--age-min {} is above --age-max {}",
            pop.age_min, pop.age_max
        )));
    }
    Generator::new(SyntheticSpec {
        n,
        seed,
        age_min: pop.age_min,
        age_max: pop.age_max,
    })
    .map_err(|e| input_error(e.to_string()))
}
