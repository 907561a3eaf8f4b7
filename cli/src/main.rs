//! `healthtwin`: the command line. Wires cohorts, models, the engine and reports together.
//! Only this crate prints, reads flags, shows progress bars and decides exit codes
//! (0 success, 1 failure while running, 2 bad input or usage).

mod args;
mod bench;
mod calibrate;
mod calibrate_rounds;
mod checkpoint;
mod common;
mod compare;
mod flags;
mod import;
mod memory;
mod plan;
mod run;
mod shard;
mod slurm;
mod trial;
mod twin;

use std::process::ExitCode;

use args::{BenchCommand, BenchWorkload, Cli, CohortCommand, Command};
use clap::Parser;
use common::{with_threads, InputError};

/// `healthtwin merge`: checks the shard folders, then merges them with their command's writer.
fn merge(args: &args::MergeArgs) -> anyhow::Result<()> {
    let set = shard::check_set(&args.shards)?;
    for d in &args.shards {
        if d == &args.out {
            return Err(common::input_error(format!(
                "--out {}: is one of the shard folders; choose another",
                args.out.display()
            )));
        }
    }
    match set.identity.get("command").and_then(|c| c.as_str()) {
        Some("run") => run::merge(&set, &args.out, args.quiet),
        Some("compare") => compare::merge(&set, &args.out, args.quiet),
        Some("twin --cohort") => twin::merge(&set, &args.out, args.quiet),
        Some("plan") => plan::merge(&set, &args.out, args.quiet),
        Some("trial") => trial::merge(&set, &args.out, args.quiet),
        _ => Err(common::input_error(format!(
            "{}: a shard of an unknown command",
            set.folders[0].display()
        ))),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run(args) => run::run(&args),
        Command::Cohort(CohortCommand::Synth(args)) => run::synth(&args),
        Command::Cohort(CohortCommand::Import(args)) => import::import(&args),
        Command::Bench(BenchCommand {
            workload: Some(BenchWorkload::Import(args)),
            ..
        }) => import::bench(&args),
        Command::Bench(BenchCommand {
            workload: Some(BenchWorkload::Merge(args)),
            ..
        }) => bench::merge(&args),
        Command::Bench(BenchCommand {
            workload: Some(BenchWorkload::Topp(args)),
            ..
        }) => bench::topp(&args),
        Command::Bench(args) => bench::bench(&args.population),
        Command::Trial(args) => with_threads(args.threads, || trial::trial(&args)).and_then(|r| r),
        Command::Risk(args) => healthtwin::risk_table(&args).map(|table| print!("{table}")),
        Command::Compare(args) => compare::compare(&args),
        Command::Calibrate(args) => calibrate::calibrate(&args),
        Command::Plan(args) => plan::plan(&args),
        Command::Twin(cmd) => twin::twin(&cmd),
        Command::Merge(args) => with_threads(args.threads, || merge(&args)).and_then(|r| r),
        Command::Slurm(args) => slurm::slurm(&args),
        Command::Metrics => {
            print!("{}", run::metrics_markdown());
            Ok(())
        }
        Command::Params => {
            print!("{}", run::params_markdown());
            Ok(())
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            if e.downcast_ref::<InputError>().is_some() {
                ExitCode::from(2)
            } else {
                ExitCode::from(1)
            }
        }
    }
}
