//! The command line's flags and subcommands (clap). The commands' own flags live beside
//! them (`compare::CompareArgs`, `plan::PlanArgs`, `risk::RiskArgs`, `import::ImportArgs`); this module holds
//! the rest and the tree that joins them.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

pub use crate::flags::{DisclosureArgs, PopulationArgs};
use crate::{calibrate, compare, import, plan, twin};
use healthtwin::risk;

#[derive(Parser)]
#[command(name = "healthtwin", version, about = "Digital-twin disease progression simulator for Japan's ageing population", long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Simulate a cohort (the embedded synthetic Japanese cohort unless --cohort is given)
    /// and write summary, patient and trace files.
    Run(RunArgs),
    /// Create cohorts: the synthetic Japanese cohort, or one imported from EMR/PHR data.
    #[command(subcommand)]
    Cohort(CohortCommand),
    /// Measure throughput (patient-years per second per core) and peak memory.
    ///
    /// Without a subcommand: the population model. `bench topp`: the ODE solver on the
    /// Topp (2000) glucose / insulin / beta-cell model.
    Bench(BenchCommand),
    /// Virtual trials from a trial file (docs/trials.md): eligibility, recruitment,
    /// allocation, arms, follow-up, ascertainment, outcomes; Kaplan-Meier, Cox hazard ratios,
    /// rates, RRR, NNT. `trial dpp` runs the library's Diabetes Prevention Program.
    Trial(TrialArgs),
    /// One person's published cardiovascular risk (10-year, or the equation's horizon)
    /// under any implemented equation, Japanese and Western, side by side.
    Risk(Box<risk::RiskArgs>),
    /// Compare scenario files (TOML, docs/scenarios.md) on the same people with common
    /// random numbers: paired differences with 95% intervals, costs, QALYs, ICER, NNT,
    /// charts; `--psa K` for probabilistic sensitivity analysis.
    Compare(Box<compare::CompareArgs>),
    /// Calibrate parameters to targets (ABC-SMC posterior, Nelder–Mead point fit) from
    /// target files, an imported cohort's history or sites' aggregate summaries
    /// (docs/calibration.md); `summarize`, `validate` and `synth-cohort` as subcommands.
    Calibrate(Box<calibrate::CalibrateCommand>),
    /// A town's frailty-prevention plan (docs/planning.md): its residents (register counts
    /// or a scaled structure), programme options and a capacity sweep on the same people,
    /// per fiscal year on the town's scale: care demand by level, frailty, budget, what each
    /// option averts and costs; a one-page HTML report (Japanese, or --lang en).
    Plan(Box<plan::PlanArgs>),
    /// A person's digital twin: personalised to their own history (a person file, a
    /// pseudonym of an imported cohort, or FHIR input), forecast with counterfactual
    /// interventions, the clinician's report (HTML), FHIR RiskAssessments, alerts;
    /// `--cohort DIR` alone: risk stratification; `twin validate`, `twin bench`.
    Twin(Box<twin::TwinCommand>),
    /// Merge the folders of every shard of one `run`, `compare`, `trial`, `plan` or
    /// `twin --cohort` (`--shard i/n`) into the outputs of the unsharded run, byte for byte (docs/shards.md). Checks first that the
    /// folders are one complete set of one run; writes nothing otherwise.
    Merge(MergeArgs),
    /// Write Slurm job scripts that run `run …`, `compare …`, `trial …`, `plan …` or
    /// `twin --cohort …` as a job array over N shards
    /// and merge them when all succeeded (afterok); resources from the memory model and a
    /// measured throughput (docs/shards.md).
    Slurm(Box<SlurmArgs>),
    /// List every metric of `summary.csv` (name, kind, meaning) as a Markdown table.
    Metrics,
    /// List every model parameter (name, default, unit, accepted range, source) as a
    /// Markdown table: the names `--set`, scenario `[parameters]` and PSA address.
    Params,
}

#[derive(Args, Debug)]
pub struct MergeArgs {
    /// The shard folders (any order).
    #[arg(required = true, num_args = 1..)]
    pub shards: Vec<PathBuf>,
    /// Output folder of the merged run.
    #[arg(long, short = 'o')]
    pub out: PathBuf,
    /// Worker threads (default: all cores). Results do not depend on it.
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub threads: Option<u16>,
    /// No summary on the terminal.
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

#[derive(Args, Debug)]
pub struct TrialArgs {
    /// The trial file (TOML, docs/trials.md), or `dpp` for the library's Diabetes
    /// Prevention Program (scenarios/trials/dpp.toml).
    pub file: PathBuf,
    /// People screened: replaces the file's `population.n` (synthetic cohort).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=100_000_000))]
    pub screened: Option<u64>,
    /// Replicates: replaces the file's `replicates`.
    #[arg(long, short = 'r', value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub replicates: Option<u32>,
    /// Seed: replaces the file's `seed`.
    #[arg(long, short = 's')]
    pub seed: Option<u64>,
    /// Output folder (trial_*.csv/.parquet, km_*.png/.svg).
    #[arg(long, short = 'o', default_value = "out/trial")]
    pub out: PathBuf,
    /// Set a model parameter by name (repeatable).
    #[arg(long = "set", value_name = "NAME=VALUE")]
    pub set: Vec<String>,
    /// Worker threads (default: all cores). Results do not depend on it.
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub threads: Option<u16>,
    /// No progress bar.
    #[arg(long, short = 'q')]
    pub quiet: bool,
    /// Run shard I of N (0-based): a contiguous range of the replicates, written as a
    /// partial folder for `healthtwin merge` (docs/shards.md).
    #[arg(long, value_name = "I/N", value_parser = crate::shard::parse_shard)]
    pub shard: Option<crate::shard::Shard>,
    /// Write a checkpoint after each replicate into OUT/checkpoint, so that `--resume` can
    /// continue a killed trial (docs/shards.md).
    #[arg(long)]
    pub checkpoint: bool,
    /// Continue the trial whose checkpoint is in OUT (same flags), or start it when there
    /// is none; the outputs are the bytes of an uninterrupted run. Implies --checkpoint.
    #[arg(long)]
    pub resume: bool,
}

#[derive(Subcommand)]
pub enum CohortCommand {
    /// Generate the embedded synthetic Japanese cohort and save it (Parquet, or CSV by extension).
    Synth(SynthArgs),
    /// Import EMR/PHR data (FHIR R4, OMOP CDM, Apple Health, plain CSV) into a pseudonymised
    /// cohort file, a measurement history and a data-quality report (docs/data.md).
    Import(Box<import::ImportArgs>),
}

#[derive(Args, Debug)]
pub struct RunArgs {
    /// Number of synthetic patients (ignored with --cohort).
    #[arg(long, short = 'n', default_value_t = 20_000, allow_negative_numbers = true, value_parser = clap::value_parser!(u64).range(1..=100_000_000))]
    pub patients: u64,
    /// Years to simulate.
    #[arg(long, short = 'y', default_value_t = 30, allow_negative_numbers = true, value_parser = clap::value_parser!(u32).range(1..=100))]
    pub years: u32,
    /// Master seed: same seed, same results, on any machine and thread count.
    #[arg(long, short = 's', default_value_t = 1)]
    pub seed: u64,
    /// Monte Carlo replicates (same people, independent outcome draws).
    #[arg(long, short = 'r', default_value_t = 10, allow_negative_numbers = true, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub replicates: u32,
    /// Step length in months: 1 or 3 (the steps the model is validated for).
    #[arg(long, default_value_t = 1, value_parser = parse_step_months)]
    pub step_months: u32,
    /// Calendar year of the start of the simulation.
    #[arg(long, default_value_t = 2024, value_parser = clap::value_parser!(i64).range(1900..=2200))]
    pub start_year: i64,
    /// Run a saved cohort file: Parquet or CSV (by extension), as `healthtwin cohort synth`
    /// or `healthtwin cohort import` write them.
    #[arg(long)]
    pub cohort: Option<PathBuf>,
    #[command(flatten)]
    pub population: PopulationArgs,
    /// Record yearly trajectories of the first K patients (trace.csv, trace.parquet).
    #[arg(long, default_value_t = 0)]
    pub trace: u64,
    /// Output folder.
    #[arg(long, short = 'o', default_value = "out/run")]
    pub out: PathBuf,
    /// Worker threads (default: all cores). Results do not depend on it.
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub threads: Option<u16>,
    /// Patients per work unit. Results do not depend on it.
    #[arg(long, default_value_t = 1024, value_parser = clap::value_parser!(u64).range(1..=100_000_000))]
    pub chunk_size: u64,
    /// No progress bar and no summary on the terminal.
    #[arg(long, short = 'q')]
    pub quiet: bool,
    /// Set a model parameter by name (repeatable), e.g. `--set dm.capacity.headroom=2.5`.
    /// `healthtwin params` lists every name with its unit, range and source (docs/parameters.md).
    #[arg(long = "set", value_name = "NAME=VALUE")]
    pub set: Vec<String>,
    /// A parameter file: a scenario file's `[parameters]` (e.g. the `calibrated.toml` of
    /// `healthtwin calibrate`), applied before `--set`.
    #[arg(long)]
    pub params: Option<PathBuf>,
    #[command(flatten)]
    pub disclosure: DisclosureArgs,
    /// Run shard I of N (0-based; I in 0..N): the people of one contiguous range of the
    /// cohort, written as a partial folder for `healthtwin merge` (docs/shards.md).
    #[arg(long, value_name = "I/N", value_parser = crate::shard::parse_shard)]
    pub shard: Option<crate::shard::Shard>,
    /// Write a checkpoint after each block of 65,536 people of each replicate into
    /// OUT/checkpoint, so that `--resume` can continue a killed run (docs/shards.md).
    #[arg(long)]
    pub checkpoint: bool,
    /// Continue the run whose checkpoint is in OUT (same flags), or start it when there is
    /// none; the outputs are the bytes of an uninterrupted run. Implies --checkpoint.
    #[arg(long)]
    pub resume: bool,
}

#[derive(Args, Debug)]
pub struct SynthArgs {
    /// Number of people.
    #[arg(long, short = 'n', default_value_t = 10_000, allow_negative_numbers = true, value_parser = clap::value_parser!(u64).range(1..=100_000_000))]
    pub n: u64,
    #[arg(long, short = 's', default_value_t = 1)]
    pub seed: u64,
    #[command(flatten)]
    pub population: PopulationArgs,
    /// Output file: `.parquet` or `.csv`.
    #[arg(long, short = 'o')]
    pub out: PathBuf,
}

/// `bench` with an optional workload; without one it runs the population benchmark with
/// the flags of [`BenchArgs`], so `healthtwin bench --patients N` keeps working.
#[derive(Args, Debug)]
#[command(args_conflicts_with_subcommands = true)]
pub struct BenchCommand {
    #[command(subcommand)]
    pub workload: Option<BenchWorkload>,
    #[command(flatten)]
    pub population: BenchArgs,
}

#[derive(Subcommand, Debug)]
pub enum BenchWorkload {
    /// Solve the full three-state Topp (2000) model for N patients with declining insulin
    /// sensitivity (stiff Rosenbrock integrator, rtol 1e-6, atol 1e-9).
    Topp(ToppBenchArgs),
    /// Import a generated FHIR Observation NDJSON: lines per second per core, peak memory.
    Import(import::ImportBenchArgs),
    /// Time `healthtwin merge` of N `run` shard folders of about M people each (made first,
    /// or reused when DIR already holds them): docs/shards.md.
    Merge(MergeBenchArgs),
}

#[derive(Args, Debug)]
pub struct MergeBenchArgs {
    /// Number of shard folders.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub shards: u32,
    /// People per shard (the whole run has shards × people).
    #[arg(long, default_value_t = 100_000, value_parser = clap::value_parser!(u64).range(1..=100_000_000))]
    pub people: u64,
    /// Years the shards simulate (the merge's work is the people's rows, not the years).
    #[arg(long, short = 'y', default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=100))]
    pub years: u32,
    /// Replicates (each adds one row per person to patients/).
    #[arg(long, short = 'r', default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub replicates: u32,
    /// Working folder: `DIR/shards/<i>` (kept and reused by a later bench of the same
    /// sizes) and `DIR/merged` (replaced).
    #[arg(long)]
    pub dir: PathBuf,
    /// Worker threads of the shard runs and of the merge.
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub threads: Option<u16>,
}

#[derive(Args, Debug)]
pub struct ToppBenchArgs {
    /// Patients (each one ODE solve over the whole horizon).
    #[arg(long, short = 'n', default_value_t = 20_000, allow_negative_numbers = true, value_parser = clap::value_parser!(u64).range(1..=100_000_000))]
    pub patients: u64,
    /// Years simulated.
    #[arg(long, short = 'y', default_value_t = 30, allow_negative_numbers = true, value_parser = clap::value_parser!(u32).range(1..=100))]
    pub years: u32,
    /// Worker threads (default: all cores). Results do not depend on it.
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub threads: Option<u16>,
    /// Seed of the per-patient parameter draws.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

#[derive(Args, Debug)]
pub struct BenchArgs {
    /// Synthetic patients.
    #[arg(long, short = 'n', default_value_t = 200_000, allow_negative_numbers = true, value_parser = clap::value_parser!(u64).range(1..=100_000_000))]
    pub patients: u64,
    /// Years simulated.
    #[arg(long, short = 'y', default_value_t = 30, allow_negative_numbers = true, value_parser = clap::value_parser!(u32).range(1..=100))]
    pub years: u32,
    #[arg(long, default_value_t = 1, value_parser = parse_step_months)]
    pub step_months: u32,
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub threads: Option<u16>,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

fn parse_step_months(s: &str) -> Result<u32, String> {
    match s.parse::<u32>() {
        Ok(m) if models::STEP_MONTHS.contains(&m) => Ok(m),
        _ => Err(format!(
            "`{s}`: the model is validated for steps of 1 or 3 months only (its diabetes \
             physiology steps monthly or quarterly; other steps mistime onsets, docs/model.md)"
        )),
    }
}

/// `healthtwin slurm` (docs/shards.md).
#[derive(Args, Debug)]
pub struct SlurmArgs {
    /// Number of shards (array tasks).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub shards: u32,
    /// Cores per shard (`--cpus-per-task`; the shard's `--threads`).
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub cpus: u16,
    /// Folder of the job scripts, the shard folders (`shards/<i>`) and the logs.
    #[arg(long)]
    pub jobs: PathBuf,
    /// Slurm partition (default: the cluster's default).
    #[arg(long)]
    pub partition: Option<String>,
    /// Slurm account, if the cluster needs one.
    #[arg(long)]
    pub account: Option<String>,
    /// Measured throughput of one core (patient-years per second) the time request is
    /// derived from: `healthtwin bench` on a node of the cluster (docs/validation.md).
    #[arg(long, default_value_t = 250_000.0)]
    pub patient_years_per_core_second: f64,
    /// At most this many array tasks run at once (`--array=…%K`).
    #[arg(long)]
    pub max_running: Option<u32>,
    /// The command to shard: `run …`, `compare …`, `trial …`, `plan …` or `twin --cohort …`,
    /// with its --out (the merged result).
    #[arg(last = true, required = true, num_args = 1..)]
    pub command: Vec<String>,
}
