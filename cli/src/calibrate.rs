//! `healthtwin calibrate`: fit parameters to targets (ABC-SMC posterior and/or Nelder–Mead
//! point fit), summarise a site's cohort into disclosure-safe aggregate targets
//! (`calibrate summarize`), validate predicted risk (`calibrate validate`), and make a
//! simulated EMR cohort with its history for demonstrations and tests (`calibrate
//! synth-cohort`).

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;
use calibration::abc::{self, AbcOptions, AbcProgress, Generation};
use calibration::distance::Distance;
use calibration::empirical::{self, CellPlan, Flag};
use calibration::federated::{self, SiteSummary};
use calibration::optim::{self, NmOptions};
use calibration::output::{self, OutputDir};
use calibration::report::{self as cal_report, ReportInput, Simulated};
use calibration::simulate::{Group, SimSettings, Simulator};
use calibration::targets::{self, Target, TargetKind};
use calibration::validation::{self, Prediction};
use calibration::{priors, CalibrationError};
use clap::{Args, Subcommand, ValueEnum};
use engine::Baseline;
use report::{Table, Values};
use serde::Serialize;

use crate::calibrate_rounds::{self as rounds, Finished, Rounds};
use crate::common::{input_error, model_with, model_with_file, with_threads};
use crate::flags::{generator, PopulationArgs};
use crate::shard::{sha256_file, Shard};

/// `healthtwin calibrate TARGETS… --params FILE`, or one of its subcommands.
#[derive(Args, Debug)]
#[command(args_conflicts_with_subcommands = true)]
pub struct CalibrateCommand {
    #[command(subcommand)]
    pub action: Option<CalibrateAction>,
    #[command(flatten)]
    pub fit: FitArgs,
}

#[derive(Subcommand, Debug)]
pub enum CalibrateAction {
    /// At a site: summarise an imported cohort (`cohort import` output folder) into
    /// aggregate cells (counts, sums, sums of squares), every cell under the disclosure
    /// threshold suppressed; no row, identifier or date is written.
    Summarize(SummarizeArgs),
    /// Validation of predicted risk: observed/expected, C-statistic, Brier score and
    /// calibration by decile, overall and by sex and age band.
    Validate(ValidateArgs),
    /// A simulated EMR cohort (`cohort import` layout: cohort.parquet + history.parquet)
    /// made by the model itself, for demonstrations and tests of cohort calibration.
    SynthCohort(SynthCohortArgs),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Method {
    /// ABC-SMC: a posterior sample (and the best particle as the point estimate).
    Abc,
    /// Nelder–Mead from the defaults: a quick point fit, no posterior.
    NelderMead,
    /// ABC-SMC, then Nelder–Mead from its best particle.
    Both,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Kernel {
    /// Optimal local covariance per particle (Filippi et al. 2013).
    Olcm,
    /// One Gaussian with twice the particles' weighted covariance (Beaumont et al. 2009).
    Global,
}

#[derive(Args, Debug)]
pub struct FitArgs {
    /// Target files (TOML or CSV; `calibration/targets/`).
    pub targets: Vec<PathBuf>,
    /// Parameters to calibrate with their priors (TOML; `calibration/params/`).
    #[arg(long)]
    pub params: Option<PathBuf>,
    /// Site summary files (`calibrate summarize` outputs): their cells become targets.
    #[arg(long, num_args = 1..)]
    pub sites: Vec<PathBuf>,
    /// With --sites: fit a shared parameter set plus per-site offsets for the parameters
    /// that have `site_offset_sd` in the parameter file (else one set for all sites).
    #[arg(long)]
    pub site_offsets: bool,
    /// An imported cohort (`cohort import` output folder): its history gives the targets
    /// and its people are the simulated population.
    #[arg(long)]
    pub cohort_dir: Option<PathBuf>,
    /// Simulate a saved cohort file instead of the synthetic cohort.
    #[arg(long)]
    pub cohort: Option<PathBuf>,
    /// Synthetic people per particle.
    #[arg(long, short = 'n', default_value_t = 20_000, value_parser = clap::value_parser!(u64).range(100..=10_000_000))]
    pub patients: u64,
    #[command(flatten)]
    pub population: PopulationArgs,
    /// Years simulated (default: what the targets need).
    #[arg(long, short = 'y', value_parser = clap::value_parser!(u32).range(1..=100))]
    pub years: Option<u32>,
    /// Seed of the simulations (common random numbers: every particle uses it) and of
    /// the sampler's draws.
    #[arg(long, short = 's', default_value_t = 1)]
    pub seed: u64,
    #[arg(long, value_enum, default_value_t = Method::Abc)]
    pub method: Method,
    /// ABC particles per generation.
    #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u64).range(4..=100_000))]
    pub particles: u64,
    /// Most ABC generations (generation 0 is the prior).
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(2..=100))]
    pub generations: u64,
    /// Stop once a generation is accepted at this distance (weighted RMS z-score).
    #[arg(long, default_value_t = 1.0)]
    pub final_tolerance: f64,
    /// Next tolerance = this quantile of the last generation's distances.
    #[arg(long, default_value_t = 0.5)]
    pub quantile: f64,
    /// Stop when a generation's acceptance rate falls below this.
    #[arg(long, default_value_t = 0.02)]
    pub min_acceptance: f64,
    /// ABC perturbation kernel.
    #[arg(long, value_enum, default_value_t = Kernel::Olcm)]
    pub kernel: Kernel,
    /// Most Nelder–Mead iterations.
    #[arg(long, default_value_t = 150)]
    pub max_iterations: u64,
    /// Step length in months: 1 or 3.
    #[arg(long, default_value_t = 1)]
    pub step_months: u32,
    /// Fixed model parameters (NAME=VALUE, repeatable), applied before calibrating.
    #[arg(long = "set", value_name = "NAME=VALUE")]
    pub set: Vec<String>,
    /// Disclosure threshold for cohort cells used as targets (--cohort-dir).
    #[arg(long, default_value_t = federated::DEFAULT_THRESHOLD)]
    pub threshold: u64,
    /// Output folder.
    #[arg(long, short = 'o', default_value = "out/calibrate")]
    pub out: PathBuf,
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub threads: Option<u16>,
    /// No progress lines on the terminal.
    #[arg(long, short = 'q')]
    pub quiet: bool,
    /// Write the ABC-SMC sampler's state after each round of simulations into
    /// OUT/checkpoint, so that `--resume` can continue a killed calibration (docs/shards.md).
    #[arg(long)]
    pub checkpoint: bool,
    /// Continue the calibration whose checkpoint is in OUT (same flags and inputs), or start
    /// it when there is none, as --checkpoint.
    #[arg(long)]
    pub resume: bool,
    /// Simulate shard I of N (0-based) of the current ABC-SMC round's candidates into
    /// OUT/checkpoint (every shard the same OUT, on a shared file system); then
    /// `--merge-round` goes on to the next round (docs/shards.md, "Sharding a calibration").
    #[arg(long, value_name = "I/N", value_parser = crate::shard::parse_shard, conflicts_with_all = ["merge_round", "checkpoint", "resume"])]
    pub shard: Option<Shard>,
    /// Merge every shard's results of the current round into the sampler's state (in
    /// OUT/checkpoint); after the last round, write the outputs. OUT/manifest.json appears
    /// when the calibration is complete.
    #[arg(long, conflicts_with_all = ["checkpoint", "resume"])]
    pub merge_round: bool,
}

#[derive(Args, Debug)]
pub struct SummarizeArgs {
    /// The site's `cohort import` output folder.
    #[arg(long)]
    pub cohort_dir: PathBuf,
    /// The site's name in the summary (letters, digits, `_`, `-`).
    #[arg(long)]
    pub site: String,
    /// Follow-up horizon in years (every site of a calibration uses the same).
    #[arg(long, short = 'y', default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=30))]
    pub years: u32,
    /// Cells with fewer people (or 1 to threshold − 1 events) are suppressed.
    #[arg(long, default_value_t = federated::DEFAULT_THRESHOLD, value_parser = clap::value_parser!(u64).range(2..=1_000_000))]
    pub threshold: u64,
    /// Output summary file (CSV).
    #[arg(long, short = 'o')]
    pub out: PathBuf,
}

#[derive(Args, Debug)]
pub struct ValidateArgs {
    /// A `cohort import` output folder with follow-up (observed outcomes from its history).
    /// Without it: a simulated cohort whose outcomes are one independent model run.
    #[arg(long)]
    pub cohort_dir: Option<PathBuf>,
    /// Synthetic people (without --cohort-dir).
    #[arg(long, short = 'n', default_value_t = 20_000)]
    pub patients: u64,
    /// The outcome: a first event of this flag (dx_diabetes, cvd_first_event, hx_stroke, …).
    #[arg(long, default_value = "dx_diabetes")]
    pub outcome: String,
    /// Prediction horizon in years.
    #[arg(long, short = 'y', default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=30))]
    pub years: u32,
    /// Simulations per person (predicted risk = share with the event).
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub replicates: u32,
    /// A parameter file (scenario `[parameters]`, e.g. a calibration's calibrated.toml).
    #[arg(long)]
    pub params: Option<PathBuf>,
    #[arg(long = "set", value_name = "NAME=VALUE")]
    pub set: Vec<String>,
    #[arg(long, short = 's', default_value_t = 1)]
    pub seed: u64,
    #[arg(long, short = 'o', default_value = "out/validate")]
    pub out: PathBuf,
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub threads: Option<u16>,
}

#[derive(Args, Debug)]
pub struct SynthCohortArgs {
    #[arg(long, short = 'n', default_value_t = 5_000, value_parser = clap::value_parser!(u64).range(1..=10_000_000))]
    pub patients: u64,
    /// Years of follow-up recorded in the history.
    #[arg(long, short = 'y', default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=30))]
    pub years: u32,
    /// Seed of the cohort and of the simulated follow-up.
    #[arg(long, short = 's', default_value_t = 7)]
    pub seed: u64,
    /// Model parameters of the simulated truth (NAME=VALUE, repeatable).
    #[arg(long = "set", value_name = "NAME=VALUE")]
    pub set: Vec<String>,
    #[command(flatten)]
    pub population: PopulationArgs,
    /// Output folder (cohort.parquet, history.parquet).
    #[arg(long, short = 'o')]
    pub out: PathBuf,
}

/// A calibration error as the command reports it: the user's input (exit 2) or a failure.
pub(crate) fn cal_err(e: CalibrationError) -> anyhow::Error {
    match e {
        CalibrationError::Input { .. } | CalibrationError::Setup(_) => input_error(e.to_string()),
        other => anyhow::Error::new(other),
    }
}

pub fn calibrate(cmd: &CalibrateCommand) -> anyhow::Result<()> {
    match &cmd.action {
        Some(CalibrateAction::Summarize(a)) => summarize(a),
        Some(CalibrateAction::Validate(a)) => with_threads(a.threads, || validate(a))?,
        Some(CalibrateAction::SynthCohort(a)) => synth_cohort(a),
        None => with_threads(cmd.fit.threads, || fit(&cmd.fit))?,
    }
}

struct Progress {
    quiet: bool,
}

impl AbcProgress for Progress {
    fn generation_done(&self, g: &Generation) {
        if !self.quiet {
            eprintln!(
                "generation {:>2}: tolerance {:>8.3}, {:>6} simulated, acceptance {:.3}, ESS {:.0}, {:.1} s",
                g.index, g.tolerance, g.simulated, g.acceptance, g.ess, g.seconds
            );
        }
    }
}

#[derive(Serialize)]
struct Manifest<'a> {
    healthtwin_version: &'a str,
    git_commit: &'a str,
    command: String,
    method: String,
    seed: u64,
    people: usize,
    years: u32,
    step_months: u32,
    target_files: Vec<String>,
    site_files: Vec<String>,
    parameters: Vec<String>,
    targets: usize,
    simulations: u64,
    patient_years: u64,
    wall_time_seconds: f64,
    simulations_per_second: f64,
    patient_years_per_second: f64,
    threads: usize,
    distance_before: f64,
    distance_after: f64,
    abc_kernel: Option<String>,
    abc_stopped: Option<String>,
    abc_reached_final_tolerance: Option<bool>,
    files: Vec<String>,
}

/// What a calibration fits: the simulator, its targets and the distance to them.
struct Setup {
    sim: Simulator,
    distance: Distance,
    all_targets: Vec<Target>,
    notes: Vec<String>,
}

fn setup(args: &FitArgs) -> anyhow::Result<Setup> {
    let base = model_with(&args.set)?;
    // Targets: published files, sites' summaries, or a cohort's own history.
    let mut all_targets: Vec<Target> = if args.targets.is_empty() {
        Vec::new()
    } else {
        targets::read_all(&args.targets).map_err(cal_err)?
    };
    let mut groups: Vec<Group> = Vec::new();
    let mut horizon: Option<u32> = None;
    let mut notes = Vec::new();
    if !args.sites.is_empty() {
        let mut sites: Vec<SiteSummary> = Vec::new();
        for p in &args.sites {
            sites.push(federated::read(p).map_err(cal_err)?);
        }
        for (i, s) in sites.iter().enumerate() {
            if sites[..i].iter().any(|q| q.site == s.site) {
                return Err(input_error(format!(
                    "--sites: two summaries of site `{}`",
                    s.site
                )));
            }
        }
        let merged = federated::merge(&sites).map_err(cal_err)?;
        horizon = Some(merged.horizon_years);
        if args.site_offsets {
            for s in &sites {
                let first = all_targets.len();
                let mut t = s.summary.targets(2, &format!("site {}", s.site));
                for x in &mut t {
                    x.name = format!("{}@{}", x.name, s.site);
                }
                all_targets.extend(t);
                groups.push(Group {
                    name: s.site.clone(),
                    targets: (first..all_targets.len()).collect(),
                    offsets: Vec::new(),
                });
            }
        } else {
            all_targets.extend(merged.targets(2, &format!("{} site summaries", sites.len())));
        }
        notes.push(format!(
            "targets from {} site summaries ({}); cells suppressed at the sites are absent",
            sites.len(),
            sites
                .iter()
                .map(|s| s.site.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    let mut population: Option<Vec<Baseline>> = None;
    if let Some(dir) = &args.cohort_dir {
        let cohort = empirical::read_cohort(dir).map_err(cal_err)?;
        let plan = CellPlan {
            horizon_years: args.years.unwrap_or(3),
            ..CellPlan::default()
        };
        let summary = empirical::summarise(&cohort, &plan);
        let kept = federated::suppress("cohort", &summary, args.threshold);
        horizon = Some(plan.horizon_years);
        all_targets.extend(
            kept.summary
                .targets(args.threshold, &format!("cohort {}", dir.display())),
        );
        notes.push(format!(
            "targets from the cohort's history ({} cells, {} under the threshold {} left out); its {} people are the simulated population",
            kept.summary.cells.len(),
            kept.suppressed,
            args.threshold,
            cohort.people.len()
        ));
        population = Some(cohort.people.into_iter().map(|p| p.baseline).collect());
    }
    if all_targets.is_empty() {
        return Err(input_error(
            "no targets: give target files, --sites summaries or --cohort-dir",
        ));
    }
    let empirical = all_targets.iter().any(|t| t.kind == TargetKind::Empirical);
    if empirical && all_targets.iter().any(|t| t.kind != TargetKind::Empirical) {
        return Err(input_error(
            "published targets and cohort targets need runs of different lengths: calibrate them separately",
        ));
    }
    let params_path = args.params.as_ref().ok_or_else(|| {
        input_error("--params FILE: the parameters to calibrate and their priors")
    })?;
    let parameters = priors::read(params_path, base.params()).map_err(cal_err)?;
    if args.site_offsets && args.sites.is_empty() {
        return Err(input_error("--site-offsets needs --sites"));
    }
    if !(args.final_tolerance >= 0.0 && args.quantile > 0.0 && args.quantile < 1.0) {
        return Err(input_error(
            "--final-tolerance must be ≥ 0 and --quantile in (0, 1)",
        ));
    }
    let population = match population {
        Some(p) => p,
        None => match &args.cohort {
            Some(path) => cohort::file::read(path).map_err(|e| input_error(e.to_string()))?,
            None => generator(args.patients, args.seed, &args.population)?.generate(),
        },
    };
    let sim = Simulator::new(
        base,
        population,
        &all_targets,
        parameters,
        groups,
        SimSettings {
            seed: args.seed,
            step_months: args.step_months,
            years: horizon.or(args.years),
            chunk_size: 1024,
        },
    )
    .map_err(cal_err)?;
    let distance = Distance::new(&all_targets);
    Ok(Setup {
        sim,
        distance,
        all_targets,
        notes,
    })
}

fn abc_options(args: &FitArgs) -> AbcOptions {
    AbcOptions {
        particles: args.particles as usize,
        max_generations: args.generations as usize,
        quantile: args.quantile,
        final_tolerance: args.final_tolerance,
        min_acceptance: args.min_acceptance,
        seed: args.seed,
        kernel: match args.kernel {
            Kernel::Olcm => abc::KernelKind::Olcm,
            Kernel::Global => abc::KernelKind::Global,
        },
    }
}

/// Everything that changes a calibration's result (the identity of its checkpoint and of
/// its shards' rounds): every setting and each input file's SHA-256.
fn identity(args: &FitArgs) -> anyhow::Result<serde_json::Value> {
    let hash = |p: &Path| sha256_file(p);
    let hashes = |ps: &[PathBuf]| {
        ps.iter()
            .map(|p| hash(p))
            .collect::<anyhow::Result<Vec<_>>>()
    };
    let cohort_dir = match &args.cohort_dir {
        Some(d) => Some((
            hash(&d.join("cohort.parquet"))?,
            hash(&d.join("history.parquet"))?,
        )),
        None => None,
    };
    Ok(serde_json::json!({
        "command": "calibrate",
        "targets": hashes(&args.targets)?,
        "params": args.params.as_deref().map(hash).transpose()?,
        "sites": hashes(&args.sites)?,
        "site_offsets": args.site_offsets,
        "cohort_dir": cohort_dir,
        "cohort": args.cohort.as_deref().map(hash).transpose()?,
        "patients": args.patients,
        "age_min": args.population.age_min,
        "age_max": args.population.age_max,
        "years": args.years,
        "seed": args.seed,
        "method": format!("{:?}", args.method),
        "particles": args.particles,
        "generations": args.generations,
        "final_tolerance": args.final_tolerance,
        "quantile": args.quantile,
        "min_acceptance": args.min_acceptance,
        "kernel": format!("{:?}", args.kernel),
        "step_months": args.step_months,
        "set": args.set,
        "threshold": args.threshold,
    }))
}

fn fit(args: &FitArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    let rounds_mode = args.shard.is_some() || args.merge_round || args.checkpoint || args.resume;
    if rounds_mode && args.method != Method::Abc {
        return Err(input_error(
            "--shard, --merge-round, --checkpoint and --resume are for ABC-SMC (--method abc): \
             its rounds of candidates are independent simulations; Nelder–Mead evaluates one \
             point after another (run it unsharded, e.g. from the ABC run's calibrated.toml)",
        ));
    }
    let Setup {
        sim,
        distance,
        all_targets,
        notes,
    } = setup(args)?;
    let quiet = args.quiet;
    let progress = Progress { quiet };
    let out = OutputDir::create(&args.out).map_err(cal_err)?;
    let manifest_path = out.path("manifest.json");
    if rounds_mode {
        let opts = abc_options(args);
        let d = sim.parameters.len();
        let fresh = args.checkpoint && !args.resume;
        let ck = Rounds::open(&args.out, identity(args)?, opts, d, fresh)?;
        let mut state = ck.load()?;
        if !state.is_done() && manifest_path.exists() {
            // Outputs of an earlier calibration: they are replaced when this one ends.
            fs::remove_file(&manifest_path)
                .with_context(|| format!("cannot replace {}", manifest_path.display()))?;
        }
        if let Some(s) = args.shard {
            return match ck.run_shard(&mut state, &sim, s)? {
                None => {
                    if !quiet {
                        eprintln!(
                            "the calibration in {} is complete: nothing to simulate",
                            args.out.display()
                        );
                    }
                    Ok(())
                }
                Some((round, range, simulated)) => {
                    if !quiet {
                        eprintln!(
                            "round {round}: candidates {}..{} of shard {}/{} {}",
                            range.start,
                            range.end,
                            s.index,
                            s.count,
                            if simulated == 0 {
                                "were already simulated"
                            } else {
                                "simulated"
                            }
                        );
                    }
                    Ok(())
                }
            };
        }
        if args.merge_round {
            let round = state.round;
            if let Some(n) = ck.merge_round(&mut state, &sim, &distance, &progress)? {
                if !quiet {
                    eprintln!("round {round}: {n} shard(s) merged");
                }
            }
            if !state.is_done() {
                if !quiet {
                    let next = state.next(&sim)?.map_or(0, |r| r.thetas.len());
                    eprintln!(
                        "next: round {} ({next} candidates); run every shard again, then --merge-round",
                        state.round
                    );
                }
                return Ok(());
            }
        } else {
            if !quiet && state.round > 0 {
                eprintln!(
                    "resuming: {} round(s) done (checkpoint in {})",
                    state.round,
                    args.out.join(rounds::DIR).display()
                );
            }
            while let Some(next) = state.next(&sim)? {
                let t0 = Instant::now();
                let years = sim.patient_years();
                let stats = sim.evaluate_all(&next.thetas).map_err(cal_err)?;
                let years = sim.patient_years() - years;
                state.feed(
                    next,
                    stats,
                    years,
                    t0.elapsed().as_secs_f64(),
                    &distance,
                    &progress,
                )?;
                ck.save(&state)?;
            }
        }
        let finished = state
            .finished()
            .ok_or_else(|| anyhow::anyhow!("the calibration ended without its defaults' run"))?;
        let distance_before = distance.of(&finished.before);
        if !quiet {
            eprintln!("defaults: distance {distance_before:.3}");
        }
        write_fit(
            args,
            &Setup {
                sim,
                distance,
                all_targets,
                notes,
            },
            out,
            finished,
            started,
        )?;
        if !args.merge_round {
            ck.remove()?;
        }
        return Ok(());
    }
    if manifest_path.exists() {
        fs::remove_file(&manifest_path)
            .with_context(|| format!("cannot replace {}", manifest_path.display()))?;
    }
    if !quiet {
        eprintln!(
            "calibrating {} parameters to {} targets: {} people × {} years per simulation, seed {}",
            sim.parameters.len(),
            all_targets.len(),
            sim.people(),
            sim.years(),
            args.seed
        );
    }
    // Before: the model defaults.
    let before_stats = sim.evaluate(&sim.defaults()).map_err(cal_err)?;
    if !quiet {
        eprintln!("defaults: distance {:.3}", distance.of(&before_stats));
    }
    let abc_result = if matches!(args.method, Method::Abc | Method::Both) {
        let r = abc::run(&sim, &distance, &abc_options(args), &progress).map_err(cal_err)?;
        if !quiet {
            eprintln!("ABC-SMC: {}", r.stopped);
        }
        Some(r)
    } else {
        None
    };
    let setup = Setup {
        sim,
        distance,
        all_targets,
        notes,
    };
    write_fit_with(args, &setup, out, before_stats, abc_result, None, started)
}

/// Writes the outputs of a calibration whose ABC-SMC ran in rounds.
fn write_fit(
    args: &FitArgs,
    setup: &Setup,
    out: OutputDir,
    f: Finished,
    started: Instant,
) -> anyhow::Result<()> {
    if !args.quiet {
        eprintln!("ABC-SMC: {}", f.result.stopped);
    }
    write_fit_with(
        args,
        setup,
        out,
        f.before,
        Some(f.result),
        Some((f.simulations, f.patient_years)),
        started,
    )
}

/// Nelder–Mead when asked, then the outputs: the same writer whether the ABC-SMC ran in
/// memory, from a checkpoint or in shards. `work`: (simulations, patient-years) when the
/// simulations ran in rounds (else the simulator's own counts).
fn write_fit_with(
    args: &FitArgs,
    setup: &Setup,
    out: OutputDir,
    before_stats: Vec<f64>,
    abc_result: Option<abc::AbcResult>,
    work: Option<(u64, u64)>,
    started: Instant,
) -> anyhow::Result<()> {
    let Setup {
        sim,
        distance,
        all_targets,
        notes,
    } = setup;
    let mut notes = notes.clone();
    let quiet = args.quiet;
    let manifest_path = out.path("manifest.json");
    let distance_before = distance.of(&before_stats);
    let mut point = (sim.defaults(), before_stats.clone(), distance_before);
    let mut nm = None;
    if let Some(r) = &abc_result {
        if let Some(best) = r
            .particles
            .iter()
            .min_by(|a, b| a.distance.total_cmp(&b.distance))
        {
            point = (best.theta.clone(), best.stats.clone(), best.distance);
        }
    }
    if matches!(args.method, Method::NelderMead | Method::Both) {
        let start = point.0.clone();
        let r = optim::fit(
            sim,
            distance,
            Some(&start),
            &NmOptions {
                max_iterations: args.max_iterations,
                ..NmOptions::default()
            },
        )
        .map_err(cal_err)?;
        if !quiet {
            eprintln!(
                "Nelder-Mead: distance {:.3} after {} evaluations ({})",
                r.distance, r.evaluations, r.stopped
            );
        }
        if r.distance < point.2 {
            point = (r.theta.clone(), r.stats.clone(), r.distance);
        }
        nm = Some(r);
    }

    // Outputs.
    let mut out = out;
    let names: Vec<String> = sim.parameters.iter().map(|p| p.name.clone()).collect();
    let (after, before) = match &abc_result {
        Some(r) => {
            let stats: Vec<Vec<f64>> = r.particles.iter().map(|p| p.stats.clone()).collect();
            let w: Vec<f64> = r.particles.iter().map(|p| p.weight).collect();
            let prior_stats: Vec<Vec<f64>> = r.prior.iter().map(|p| p.stats.clone()).collect();
            let prior_w: Vec<f64> = r.prior.iter().map(|p| p.weight).collect();
            let mut before = cal_report::predictive(
                &prior_stats,
                &prior_w,
                "before: defaults (prior predictive 95%)",
            );
            before.point = before_stats.clone();
            let mut after = cal_report::predictive(
                &stats,
                &w,
                "after: point estimate (posterior predictive 95%)",
            );
            after.point = point.1.clone();
            (after, before)
        }
        None => (
            Simulated {
                label: "after: point estimate".into(),
                point: point.1.clone(),
                band: None,
            },
            Simulated {
                label: "before: defaults".into(),
                point: before_stats.clone(),
                band: None,
            },
        ),
    };
    if let Some(r) = &abc_result {
        let particles: Vec<Vec<f64>> = r.particles.iter().map(|p| p.theta.clone()).collect();
        let weights: Vec<f64> = r.particles.iter().map(|p| p.weight).collect();
        let dists: Vec<f64> = r.particles.iter().map(|p| p.distance).collect();
        // Shared parameters only: offsets are not model parameters (compare --psa reads it).
        let shared = sim.shared;
        let shared_particles: Vec<Vec<f64>> =
            particles.iter().map(|p| p[..shared].to_vec()).collect();
        out.parquet(
            "posterior",
            &output::posterior_table(&names[..shared], &shared_particles, &weights, &dists),
        )
        .map_err(cal_err)?;
        if shared < names.len() {
            out.parquet(
                "posterior_with_offsets",
                &output::posterior_table(&names, &particles, &weights, &dists),
            )
            .map_err(cal_err)?;
        }
        out.table("generations", &generations_table(&r.generations))
            .map_err(cal_err)?;
    }
    let shared_values: Vec<(String, f64)> = names[..sim.shared]
        .iter()
        .cloned()
        .zip(point.0.iter().copied())
        .collect();
    out.bytes(
        "calibrated.toml",
        output::point_scenario(
            "calibrated",
            &format!(
                "point estimate of healthtwin calibrate (distance {:.3})",
                point.2
            ),
            &shared_values,
        )
        .as_bytes(),
    )
    .map_err(cal_err)?;
    out.table("targets", &targets_table(all_targets, &before, &after))
        .map_err(cal_err)?;
    let command = std::env::args().collect::<Vec<_>>().join(" ");
    let particles_theta: Vec<Vec<f64>>;
    let particle_weights: Vec<f64>;
    let posterior = match &abc_result {
        Some(r) => {
            particles_theta = r.particles.iter().map(|p| p.theta.clone()).collect();
            particle_weights = r.particles.iter().map(|p| p.weight).collect();
            Some((particles_theta.as_slice(), particle_weights.as_slice()))
        }
        None => None,
    };
    if let Some(r) = &abc_result {
        notes.push(format!("ABC-SMC: {}", r.stopped));
    }
    let input = ReportInput {
        title: "healthtwin calibration".into(),
        command: command.clone(),
        targets: all_targets,
        parameters: &sim.parameters,
        before,
        after,
        distance_before,
        distance_after: point.2,
        posterior,
        point: &point.0,
        generations: abc_result
            .as_ref()
            .map(|r| r.generations.as_slice())
            .unwrap_or(&[]),
        nm_trace: nm.as_ref().map(|r| r.trace.as_slice()),
        notes,
    };
    out.bytes("report.html", cal_report::html(&input).as_bytes())
        .map_err(cal_err)?;
    for f in cal_report::charts(&out.dir, &input).map_err(cal_err)? {
        out.files.push(f);
    }
    let seconds = started.elapsed().as_secs_f64();
    let threads = rayon::current_num_threads();
    let (runs, patient_years) = work.unwrap_or_else(|| (sim.runs(), sim.patient_years()));
    // The rates: over this process's time, or, when the simulations ran in rounds (resumed,
    // or in shards side by side), over the rounds' simulating times.
    let simulating = match (&work, &abc_result) {
        (Some(_), Some(r)) => r.generations.iter().map(|g| g.seconds).sum::<f64>(),
        _ => seconds,
    };
    let manifest = Manifest {
        healthtwin_version: env!("CARGO_PKG_VERSION"),
        git_commit: env!("HEALTHTWIN_GIT_COMMIT"),
        command,
        method: format!("{:?}", args.method),
        seed: args.seed,
        people: sim.people(),
        years: sim.years(),
        step_months: args.step_months,
        target_files: args
            .targets
            .iter()
            .map(|p| p.display().to_string())
            .collect(),
        site_files: args.sites.iter().map(|p| p.display().to_string()).collect(),
        parameters: names.clone(),
        targets: all_targets.len(),
        simulations: runs,
        patient_years,
        wall_time_seconds: seconds,
        simulations_per_second: runs as f64 / simulating,
        patient_years_per_second: patient_years as f64 / simulating,
        threads,
        distance_before,
        distance_after: point.2,
        abc_kernel: abc_result.as_ref().map(|_| {
            match args.kernel {
                Kernel::Olcm => "olcm",
                Kernel::Global => "global",
            }
            .to_string()
        }),
        abc_stopped: abc_result.as_ref().map(|r| r.stopped.clone()),
        abc_reached_final_tolerance: abc_result.as_ref().map(|r| r.reached_final_tolerance),
        files: out.files.clone(),
    };
    report::write_atomic(
        &manifest_path,
        serde_json::to_string_pretty(&manifest)?.as_bytes(),
    )?;
    if !quiet {
        println!(
            "distance {distance_before:.3} (defaults) → {:.3}; {} simulations in {simulating:.1} s ({:.2} per second, {:.0} patient-years per second, {threads} threads)",
            point.2,
            runs,
            runs as f64 / simulating,
            patient_years as f64 / simulating
        );
        println!(
            "Files in {}: {}, manifest.json",
            args.out.display(),
            out.files.join(", ")
        );
    }
    Ok(())
}

fn generations_table(g: &[Generation]) -> Table {
    let mut t = Table::new("generations");
    t.push(
        "generation",
        Values::Int(g.iter().map(|x| x.index as i64).collect()),
    );
    let f = |v: f64| v.is_finite().then_some(v);
    t.push(
        "tolerance",
        Values::Float(g.iter().map(|x| f(x.tolerance)).collect()),
    );
    t.push(
        "simulated",
        Values::Int(g.iter().map(|x| x.simulated as i64).collect()),
    );
    t.push(
        "accepted",
        Values::Int(g.iter().map(|x| x.accepted as i64).collect()),
    );
    t.push(
        "acceptance",
        Values::Float(g.iter().map(|x| f(x.acceptance)).collect()),
    );
    t.push("ess", Values::Float(g.iter().map(|x| f(x.ess)).collect()));
    t.push(
        "seconds",
        Values::Float(g.iter().map(|x| f(x.seconds)).collect()),
    );
    t
}

fn targets_table(targets: &[Target], before: &Simulated, after: &Simulated) -> Table {
    let f = |v: f64| v.is_finite().then_some(v);
    let mut t = Table::new("targets");
    t.push(
        "target",
        Values::Text(targets.iter().map(|x| Some(x.name.clone())).collect()),
    );
    t.push(
        "kind",
        Values::Text(
            targets
                .iter()
                .map(|x| Some(format!("{:?}", x.kind).to_lowercase()))
                .collect(),
        ),
    );
    t.push(
        "published",
        Values::Float(targets.iter().map(|x| f(x.value)).collect()),
    );
    t.push(
        "lo95",
        Values::Float(targets.iter().map(|x| f(x.interval.0)).collect()),
    );
    t.push(
        "hi95",
        Values::Float(targets.iter().map(|x| f(x.interval.1)).collect()),
    );
    t.push(
        "se",
        Values::Float(targets.iter().map(|x| f(x.se)).collect()),
    );
    t.push(
        "weight",
        Values::Float(targets.iter().map(|x| f(x.weight)).collect()),
    );
    for (sim, prefix) in [(before, "before"), (after, "after")] {
        t.push(
            prefix,
            Values::Float(sim.point.iter().map(|&v| f(v)).collect()),
        );
        let band = sim
            .band
            .clone()
            .unwrap_or_else(|| vec![(f64::NAN, f64::NAN); sim.point.len()]);
        t.push(
            format!("{prefix}_lo95"),
            Values::Float(band.iter().map(|b| f(b.0)).collect()),
        );
        t.push(
            format!("{prefix}_hi95"),
            Values::Float(band.iter().map(|b| f(b.1)).collect()),
        );
    }
    t.push(
        "inside_after",
        Values::Bool(
            targets
                .iter()
                .zip(&after.point)
                .map(|(x, v)| *v >= x.interval.0 && *v <= x.interval.1)
                .collect(),
        ),
    );
    t.push(
        "source",
        Values::Text(targets.iter().map(|x| Some(x.source.clone())).collect()),
    );
    t
}

fn summarize(args: &SummarizeArgs) -> anyhow::Result<()> {
    let cohort = empirical::read_cohort(&args.cohort_dir).map_err(cal_err)?;
    let plan = CellPlan {
        horizon_years: args.years,
        ..CellPlan::default()
    };
    let summary = empirical::summarise(&cohort, &plan);
    let site = federated::suppress(&args.site, &summary, args.threshold);
    let text = site.to_csv();
    // Written only if it reads back under its own rules (site name, no small cell).
    if let Some(parent) = args.out.parent().filter(|p| !p.as_os_str().is_empty()) {
        fs::create_dir_all(parent)?;
    }
    let tmp = tempfile_path(&args.out);
    fs::write(&tmp, &text)?;
    let check = federated::read(&tmp);
    let _ = fs::remove_file(&tmp);
    check.map_err(|e| input_error(format!("--site {}: {e}", args.site)))?;
    report::write_atomic(&args.out, text.as_bytes())?;
    eprintln!(
        "site {}: {} people, {} cells written, {} suppressed (threshold {}), horizon {} years → {}",
        args.site,
        cohort.people.len(),
        site.summary.cells.len(),
        site.suppressed,
        args.threshold,
        args.years,
        args.out.display()
    );
    Ok(())
}

fn tempfile_path(dest: &Path) -> PathBuf {
    let mut name = dest
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    name.push(".check.tmp");
    dest.with_file_name(name)
}

fn validate(args: &ValidateArgs) -> anyhow::Result<()> {
    let flag = Flag::parse(&args.outcome).ok_or_else(|| {
        input_error(format!(
            "--outcome {}: one of {}",
            args.outcome,
            Flag::NAMES.join(", ")
        ))
    })?;
    let model = model_with_file(args.params.as_deref(), &args.set)?;
    let (people, observed, source): (Vec<Baseline>, Vec<Option<bool>>, String) =
        match &args.cohort_dir {
            Some(dir) => {
                let cohort = empirical::read_cohort(dir).map_err(cal_err)?;
                let obs = validation::observed_events(&cohort, flag, args.years);
                let people = cohort.people.iter().map(|p| p.baseline).collect();
                (people, obs, format!("cohort {}", dir.display()))
            }
            None => {
                let people = generator(
                    args.patients,
                    args.seed,
                    &PopulationArgs {
                        age_min: 40,
                        age_max: 89,
                    },
                )?
                .generate();
                // The "observed" cohort: one model run with another seed (an independent draw).
                let truth = validation::simulated_risk(
                    &model,
                    &people,
                    flag,
                    args.years,
                    1,
                    args.seed.wrapping_add(0x5EED),
                )
                .map_err(cal_err)?;
                let obs = truth.into_iter().map(|r| r.map(|v| v > 0.5)).collect();
                (
                    people,
                    obs,
                    format!("simulated cohort of {} people", args.patients),
                )
            }
        };
    let risks = validation::simulated_risk(
        &model,
        &people,
        flag,
        args.years,
        args.replicates,
        args.seed,
    )
    .map_err(cal_err)?;
    let preds: Vec<Prediction> = people
        .iter()
        .zip(&risks)
        .zip(&observed)
        .filter_map(|((b, r), o)| {
            Some(Prediction {
                risk: (*r)?,
                observed: (*o)?,
                sex: b.sex,
                age: b.age_years,
                region: None,
            })
        })
        .collect();
    if preds.is_empty() {
        return Err(input_error(
            "no person at risk with complete follow-up for this outcome and horizon",
        ));
    }
    let groups = validation::report(&preds);
    let mut out = OutputDir::create(&args.out).map_err(cal_err)?;
    let f = |v: f64| v.is_finite().then_some(v);
    let mut t = Table::new("validation");
    t.push(
        "group",
        Values::Text(groups.iter().map(|g| Some(g.group.clone())).collect()),
    );
    t.push(
        "n",
        Values::Int(groups.iter().map(|g| g.n as i64).collect()),
    );
    t.push(
        "observed",
        Values::Int(groups.iter().map(|g| g.observed as i64).collect()),
    );
    t.push(
        "expected",
        Values::Float(groups.iter().map(|g| f(g.expected)).collect()),
    );
    t.push(
        "oe_ratio",
        Values::Float(groups.iter().map(|g| f(g.oe)).collect()),
    );
    t.push(
        "c_statistic",
        Values::Float(groups.iter().map(|g| f(g.c_statistic)).collect()),
    );
    t.push(
        "brier",
        Values::Float(groups.iter().map(|g| f(g.brier)).collect()),
    );
    out.table("validation", &t).map_err(cal_err)?;
    let all = &groups[0];
    let mut d = Table::new("deciles");
    d.push(
        "decile",
        Values::Int(all.deciles.iter().map(|x| x.decile as i64).collect()),
    );
    d.push(
        "n",
        Values::Int(all.deciles.iter().map(|x| x.n as i64).collect()),
    );
    d.push(
        "mean_predicted",
        Values::Float(all.deciles.iter().map(|x| f(x.mean_predicted)).collect()),
    );
    d.push(
        "observed_rate",
        Values::Float(all.deciles.iter().map(|x| f(x.observed_rate)).collect()),
    );
    out.table("deciles", &d).map_err(cal_err)?;
    let mut chart = report::plot::Chart::lines(
        format!(
            "Calibration by decile: {} within {} years ({source})",
            args.outcome, args.years
        ),
        "mean predicted risk",
        "observed share",
    );
    let top = all
        .deciles
        .iter()
        .map(|x| x.mean_predicted.max(x.observed_rate))
        .fold(0.0, f64::max)
        .max(0.01);
    chart.series.push(report::plot::Series {
        name: "perfect calibration".into(),
        points: vec![(0.0, 0.0), (top, top)],
        band: Vec::new(),
    });
    chart.series.push(report::plot::Series {
        name: "deciles".into(),
        points: all
            .deciles
            .iter()
            .map(|x| (x.mean_predicted, x.observed_rate))
            .collect(),
        band: Vec::new(),
    });
    report::plot::write_chart(&out.dir.join("calibration_plot"), &chart)?;
    println!(
        "{} within {} years, {source}: {} people at risk with follow-up, predicted by {} simulations each",
        args.outcome, args.years, preds.len(), args.replicates
    );
    println!(
        "{:<14}{:>8}{:>10}{:>10}{:>8}{:>8}{:>9}",
        "group", "n", "observed", "expected", "O/E", "C", "Brier"
    );
    for g in &groups {
        println!(
            "{:<14}{:>8}{:>10}{:>10.1}{:>8.3}{:>8.3}{:>9.4}",
            g.group, g.n, g.observed, g.expected, g.oe, g.c_statistic, g.brier
        );
    }
    println!("Files in {}: validation.csv/.parquet, deciles.csv/.parquet, calibration_plot.png/.svg (no region: the cohort has none)", args.out.display());
    Ok(())
}

fn synth_cohort(args: &SynthCohortArgs) -> anyhow::Result<()> {
    let model = model_with(&args.set)?;
    let people = generator(args.patients, args.seed, &args.population)?.generate();
    let (cohort_table, history_table) =
        calibration::empirical::simulated_emr(&model, &people, args.years, args.seed)
            .map_err(cal_err)?;
    fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create {}", args.out.display()))?;
    report::write_parquet(&cohort_table, &args.out.join("cohort.parquet"))?;
    report::write_parquet(&history_table, &args.out.join("history.parquet"))?;
    eprintln!(
        "wrote a simulated EMR cohort of {} people with {} years of history ({} rows) to {}",
        people.len(),
        args.years,
        history_table.rows(),
        args.out.display()
    );
    Ok(())
}
