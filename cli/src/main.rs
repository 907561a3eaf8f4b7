//! `healthtwin`: the command line. Wires cohorts, models, the engine and reports together.
//! Only this crate prints, reads flags, shows progress bars and decides exit codes
//! (0 success, 1 failure while running, 2 bad input or usage).

mod args;
mod bench;
mod common;
mod compare;
mod import;
mod risk;
mod run;
mod trial;
mod twin;

use std::process::ExitCode;

use args::{BenchCommand, BenchWorkload, Cli, CohortCommand, Command, TrialCommand};
use clap::Parser;
use common::{with_threads, InputError};

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
            workload: Some(BenchWorkload::Topp(args)),
            ..
        }) => bench::topp(&args),
        Command::Bench(args) => bench::bench(&args.population),
        Command::Trial(TrialCommand::Dpp(args)) => {
            with_threads(args.threads, || trial::dpp(&args)).and_then(|r| r)
        }
        Command::Risk(args) => risk::risk(&args),
        Command::Compare(args) => compare::compare(&args),
        Command::Twin(cmd) => twin::twin(&cmd),
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
