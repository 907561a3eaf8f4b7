//! Experiments as a library. Everything healthtwin runs (a population projection, a
//! comparison of scenarios, a virtual trial, a benchmark, and what comes next: calibration
//! particles, personal twins, municipal plans, shards) is a [`Study`]: arms (named models) on
//! one population, over replicates, with one seed, one layout in time, common random numbers
//! or independent streams, and optional parameter draws. [`runner::run`] is the only
//! replicate × arm loop; front-ends (the `healthtwin` binary, notebooks through it, tests)
//! build a study, run it with a progress callback and read typed results.
//!
//! - [`runner`]: the study, its settings and the loop;
//! - [`compare`]: scenario files resolved into one study, reduced to outcomes per run;
//! - [`outcomes`]: the comparison arithmetic (events, QALYs, discounted costs, paired
//!   intervals, ICER, acceptability, NNT, onset delay);
//! - [`report`]: a comparison's tables, charts and terminal text;
//! - [`trial`]: virtual trials on the runner (the DPP);
//! - [`posterior`]: a calibration's weighted particles and keyed joint draws from them (PSA
//!   from a posterior).
//!
//! Must never: read flags (no clap), print, or decide exit codes; results never depend on the
//! thread count.

pub mod compare;
pub mod headline;
pub mod outcomes;
pub mod posterior;
pub mod report;
pub mod runner;
pub mod survival;
pub mod trial;

pub use compare::{
    CheckpointedRun, CompareCheckpoint, CompareError, CompareOptions, Comparison, PartialRun,
    RunAt, ScenarioResults,
};
pub use runner::{
    run, run_aggregates, run_drawn, run_drawn_checkpointed, run_drawn_replicates, run_replicates,
    run_traced, Allocation, Arm, ArmResults, Progress, RunCheckpoint, RunContext, Settings,
    Streams, Study, StudyError, StudyModel, StudyResults,
};
