//! `healthtwin compare A.toml B.toml …`: every scenario on the same people with common
//! random numbers (the same `RunKey` per replicate; every draw is keyed by (seed, replicate,
//! process, patient, step)), paired differences against the first, charts, and PSA.

use std::fs;
use std::path::{Path, PathBuf};

use std::time::Instant;

use clap::Args;
use scenarios::Source;
use serde::{Deserialize, Serialize};
use study::outcomes::MEASURES;
use study::report::Report;
use study::{CompareOptions, Comparison, Streams};

use crate::checkpoint;
use crate::common::{
    input_error, output_dir, with_threads, DisclosureManifest, Provenance, StudyBar,
};
use crate::flags::DisclosureArgs;
use crate::memory::{self, Footprint};
use crate::shard::{self, Shard};

#[derive(Args, Debug)]
pub struct CompareArgs {
    /// Scenario files (TOML, docs/scenarios.md). The first is the reference of every
    /// difference.
    #[arg(required = true, num_args = 1..)]
    pub scenarios: Vec<PathBuf>,
    /// Output folder.
    #[arg(long, short = 'o', default_value = "out/compare")]
    pub out: PathBuf,
    /// Replicates (default: the shared scenario's `replicates`).
    #[arg(long, short = 'r', value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub replicates: Option<u32>,
    /// Simulated people (default: the shared scenario's `population.n`).
    #[arg(long, short = 'n', value_parser = clap::value_parser!(u64).range(1..=100_000_000))]
    pub patients: Option<u64>,
    /// Years (default: the shared scenario's `years`).
    #[arg(long, short = 'y', value_parser = clap::value_parser!(u32).range(1..=100))]
    pub years: Option<u32>,
    /// Probabilistic sensitivity analysis: K parameter draws from the reference's
    /// `[uncertainty]` table; replicate k uses draw k in every scenario (K replicates).
    #[arg(long, value_parser = clap::value_parser!(u32).range(2..=10_000))]
    pub psa: Option<u32>,
    /// With --psa K: replicate k takes the parameters of one particle of this posterior
    /// (`posterior.parquet` of `healthtwin calibrate`), drawn by weight and keyed by
    /// (seed, k), in every scenario.
    #[arg(long)]
    pub posterior: Option<PathBuf>,
    /// Master seed (default: the shared scenario's `seed`).
    #[arg(long, short = 's')]
    pub seed: Option<u64>,
    /// Give every scenario its own seed (independent streams instead of common random
    /// numbers), to measure what common random numbers buy.
    #[arg(long)]
    pub independent: bool,
    /// Which scenario (1-based position) supplies the shared population, horizon, step,
    /// seed, replicates, start year and discount rate.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=1000))]
    pub population_from: u64,
    /// Worker threads (default: all cores). Results do not depend on it.
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub threads: Option<u16>,
    /// No progress bar and no table on the terminal.
    #[arg(long, short = 'q')]
    pub quiet: bool,
    #[command(flatten)]
    pub disclosure: DisclosureArgs,
    /// Run shard I of N (0-based): a contiguous range of the people, or with --psa a range
    /// of the draws, written as a partial folder for `healthtwin merge` (docs/shards.md).
    /// Scenarios with capacity-limited programmes shard only by draw.
    #[arg(long, value_name = "I/N", value_parser = crate::shard::parse_shard)]
    pub shard: Option<Shard>,
    /// Write a checkpoint after each replicate (or PSA draw) of every scenario, after each
    /// scenario's run, and inside a run at year boundaries (--checkpoint-every) into
    /// OUT/checkpoint, so that `--resume` can continue a killed comparison (docs/shards.md).
    #[arg(long)]
    pub checkpoint: bool,
    /// Continue the comparison whose checkpoint is in OUT (same flags), or start it when
    /// there is none; the outputs are the bytes of an uninterrupted run. Implies
    /// --checkpoint.
    #[arg(long)]
    pub resume: bool,
    /// With --checkpoint: inside a replicate, save the run of the scenario in progress at
    /// the end of a simulated year once at least this many seconds have passed since the
    /// last save (0: every year). Does not change results.
    #[arg(long, value_name = "SECONDS", default_value_t = 60)]
    pub checkpoint_every: u64,
}

/// Per arm: its runs of some replicates, in order, and its simulation seconds.
type ArmPartials = Vec<(Vec<study::PartialRun>, f64)>;

/// Runs replicates `reps` with `run_one(r, year_checkpoint)` (every arm's runs of replicate
/// `r`), with a checkpoint after each (`--checkpoint`, `--resume`) and inside each (every
/// finished arm, and the arm in progress at year boundaries, `--checkpoint-every`): the
/// replicates and arms the checkpoint holds are not run again, an arm in progress starts
/// from its last saved year, and every run is then read from the checkpoint, so a resumed
/// comparison adds up exactly the runs of an uninterrupted one. Simulation seconds count
/// only what is run now. The checkpoint is removed by the caller once the outputs are
/// complete.
fn run_checkpointed(
    args: &CompareArgs,
    identity: &CompareIdentity,
    out: &Path,
    arms: usize,
    reps: std::ops::Range<u32>,
    run_one: impl Fn(u32, &mut checkpoint::YearCheckpoint) -> anyhow::Result<ArmPartials>,
) -> anyhow::Result<(ArmPartials, checkpoint::Checkpoint)> {
    let key = serde_json::json!({ "compare": identity, "shard": args.shard });
    let (ck, _) = checkpoint::Checkpoint::open(out, &key, args.resume)?;
    let mut years = checkpoint::YearCheckpoint::new(
        &ck,
        &key,
        std::time::Duration::from_secs(args.checkpoint_every),
    );
    let done = ck.replicates_done()?;
    let total = reps.len();
    let finished = reps.clone().filter(|r| done.contains(r)).count();
    if finished > 0 && !args.quiet {
        eprintln!(
            "resuming: {finished} of {total} {} done (checkpoint in {})",
            if args.psa.is_some() {
                "PSA draws"
            } else {
                "replicates"
            },
            out.join(checkpoint::DIR).display()
        );
    }
    let mut seconds = vec![0.0; arms];
    for r in reps.clone() {
        if done.contains(&r) {
            continue;
        }
        let runs = run_one(r, &mut years)?;
        let mut per_arm = Vec::with_capacity(arms);
        for (a, (reps, s)) in runs.into_iter().enumerate() {
            seconds[a] += s;
            per_arm.push(reps.into_iter().next().expect("one run per replicate"));
        }
        ck.save_runs(r, per_arm)?;
        years.replicate_done(r)?;
    }
    let mut runs: ArmPartials = seconds
        .into_iter()
        .map(|s| (Vec::with_capacity(total), s))
        .collect();
    for r in reps {
        for (acc, run) in runs.iter_mut().zip(ck.runs(r, arms)?) {
            acc.0.push(run);
        }
    }
    Ok((runs, ck))
}

/// What makes a comparison's outputs what they are (see `run::RunIdentity`): the scenario
/// files with their hashes and every option that changes results.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
struct CompareIdentity {
    command: String,
    scenarios: Vec<ScenarioFile>,
    patients: Option<u64>,
    years: Option<u32>,
    replicates: Option<u32>,
    psa: Option<u32>,
    seed: Option<u64>,
    independent: bool,
    population_from: u64,
    min_cell: Option<u32>,
    allow_demo_key: bool,
    /// `--posterior`: the calibration's posterior file (PSA draws of its particles).
    #[serde(default)]
    posterior: Option<ScenarioFile>,
}

/// A scenario file as given on the command line, where it is, and its SHA-256.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
struct ScenarioFile {
    given: String,
    absolute: String,
    sha256: String,
}

#[derive(Serialize)]
struct CompareManifest<'a> {
    healthtwin_version: &'a str,
    git_commit: &'a str,
    scenarios: Vec<CompareManifestScenario>,
    shared_from: String,
    /// Withheld (null) when it is below the disclosure threshold.
    patients: Option<u64>,
    /// Where the people come from: `synthetic`, or the cohort file's origin.
    population_origin: &'static str,
    years: u32,
    step_months: u32,
    replicates: u32,
    seed: u64,
    common_random_numbers: bool,
    psa_draws: Option<u32>,
    psa_parameters: Vec<String>,
    psa_posterior: Option<String>,
    discount_rate: f64,
    represents: Option<f64>,
    threads: usize,
    wall_time_seconds: f64,
    notes: Vec<String>,
    files: Vec<String>,
    disclosure: DisclosureManifest,
}

#[derive(Serialize)]
struct CompareManifestScenario {
    name: String,
    file: String,
    sha256: String,
    interventions: Vec<String>,
    parameters: Vec<(String, f64)>,
    missing_measures: Vec<&'static str>,
}

fn sha256_file(path: &Path) -> String {
    use sha2::{Digest, Sha256};
    fs::read(path)
        .map(|b| {
            Sha256::digest(&b)
                .iter()
                .map(|x| format!("{x:02x}"))
                .collect()
        })
        .unwrap_or_default()
}

impl CompareIdentity {
    fn of(args: &CompareArgs) -> anyhow::Result<CompareIdentity> {
        let file = |p: &PathBuf| {
            // An unreadable file is reported by its loader, with its usual message.
            let absolute = std::path::absolute(p).unwrap_or_else(|_| p.clone());
            ScenarioFile {
                given: p.display().to_string(),
                absolute: absolute.display().to_string(),
                sha256: sha256_file(p),
            }
        };
        let scenarios = args.scenarios.iter().map(file).collect();
        Ok(CompareIdentity {
            command: "compare".into(),
            scenarios,
            patients: args.patients,
            years: args.years,
            replicates: args.replicates,
            psa: args.psa,
            seed: args.seed,
            independent: args.independent,
            population_from: args.population_from,
            min_cell: args.disclosure.min_cell,
            allow_demo_key: args.disclosure.allow_demo_key,
            posterior: args.posterior.as_ref().map(file),
        })
    }
}

/// The comparison resolved from its identity: scenario files loaded from `path` and named
/// by the path given on the command line; the population's provenance.
fn prepare(
    id: &CompareIdentity,
    load_absolute: bool,
    threads: Option<u16>,
    shard: Option<Shard>,
) -> anyhow::Result<(Comparison, Provenance)> {
    let mut scenarios = Vec::new();
    for f in &id.scenarios {
        let mut s = if load_absolute {
            let p = PathBuf::from(&f.absolute);
            if sha256_file(&p) != f.sha256 {
                return Err(input_error(format!(
                    "{}: changed since the shards ran (its SHA-256 differs); run the shards again",
                    f.given
                )));
            }
            scenarios::load(&p).map_err(|e| input_error(e.to_string()))?
        } else {
            scenarios::load(Path::new(&f.given)).map_err(|e| input_error(e.to_string()))?
        };
        s.file = PathBuf::from(&f.given);
        scenarios.push(s);
    }
    let posterior = match &id.posterior {
        Some(f) => {
            let p = if load_absolute {
                let p = PathBuf::from(&f.absolute);
                if sha256_file(&p) != f.sha256 {
                    return Err(input_error(format!(
                        "{}: changed since the shards ran (its SHA-256 differs); run the shards \
                         again",
                        f.given
                    )));
                }
                p
            } else {
                PathBuf::from(&f.given)
            };
            Some(calibration::output::read_posterior(&p).map_err(|e| input_error(e.to_string()))?)
        }
        None => None,
    };
    let opts = CompareOptions {
        posterior,
        patients: id.patients,
        years: id.years,
        replicates: id.replicates,
        seed: id.seed,
        psa: id.psa,
        streams: if id.independent {
            Streams::Independent
        } else {
            Streams::Common
        },
        population_from: id.population_from as usize - 1,
    };
    // The shared population decides disclosure control and the memory needed, before any
    // person is generated or read.
    let provenance = match scenarios
        .get(opts.population_from)
        .map(|p| &p.population.source)
    {
        Some(Source::CohortFile { path }) => {
            Provenance::cohort_file(path, id.min_cell, id.allow_demo_key)?
        }
        _ => Provenance::synthetic(id.min_cell)?,
    };
    if let Some(shared) = scenarios.get(opts.population_from) {
        let (size_flag, people) = match &shared.population.source {
            Source::Synthetic { n, .. } => match id.patients {
                Some(p) => ("--patients", Some(p)),
                None => ("population.n", Some(*n)),
            },
            Source::CohortFile { .. } => (
                "population.file with rows",
                provenance.cohort_file.as_ref().and_then(|i| i.rows),
            ),
        };
        if let Some(people) = people {
            let years = id.years.unwrap_or(shared.years);
            let mut replicates = u64::from(id.psa.or(id.replicates).unwrap_or(shared.replicates));
            if let (Some(s), true) = (shard, id.psa.is_some()) {
                let r = s.range(replicates);
                replicates = r.end - r.start;
            }
            // Outcomes per run: years × 22 bands × (15 measures + person-years) × 8 bytes.
            let per_run = u64::from(years) * 22 * 16 * 8;
            memory::check(&Footprint {
                size_flag,
                people,
                bytes_per_person: memory::SIMULATED_PERSON_BYTES,
                other_bytes: memory::FIXED_BYTES + replicates * scenarios.len() as u64 * per_run,
                threads: memory::threads(threads),
            })?;
        }
    }
    let comparison = with_threads(threads, || Comparison::new(scenarios, &opts))?
        .map_err(|e| input_error(e.to_string()))?;
    Ok((comparison, provenance))
}

pub fn compare(args: &CompareArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    let identity = CompareIdentity::of(args)?;
    let (mut comparison, provenance) = prepare(&identity, false, args.threads, args.shard)?;
    if let Some(s) = args.shard {
        return compare_shard(args, s, &identity, &mut comparison, started);
    }
    // Locked, writable, without a manifest and without stale files of an earlier run.
    let out = output_dir(&args.out, &study::report::FILES)?;
    let bar = StudyBar::new(comparison.study.total_patient_years(), args.quiet);
    let mut ck = None;
    // The only failures of a comparison's run are parameter draws outside their ranges.
    let results = if args.checkpoint || args.resume {
        let all = 0..comparison.regions.len();
        let reps = 0..comparison.study.settings.replicates;
        let (runs, c) = with_threads(args.threads, || {
            run_checkpointed(
                args,
                &identity,
                out.path(),
                comparison.study.arms.len(),
                reps,
                |r, years| {
                    comparison
                        .run_replicate_checkpointed(&bar, all.clone(), r, years)
                        .map_err(checkpoint::compare_error)
                },
            )
        })??;
        ck = Some(c);
        comparison.results_of_partials(runs)
    } else if comparison.regions.is_empty() {
        with_threads(args.threads, || comparison.run(&bar))?
            .map_err(|e| input_error(e.to_string()))?
    } else {
        // Each region a population of its own, their runs added up (as its shards' merge).
        let all = 0..comparison.regions.len();
        let reps = 0..comparison.study.settings.replicates;
        let runs = with_threads(args.threads, || comparison.run_regions(&bar, all, reps))?
            .map_err(|e| input_error(e.to_string()))?;
        comparison.results_of_partials(runs)
    };
    bar.finish();
    let threads = with_threads(args.threads, rayon::current_num_threads)?;
    write_outputs(
        &identity,
        &comparison,
        &results,
        &provenance,
        out,
        threads,
        started,
        args.quiet,
        &args.out,
    )?;
    // The outputs are complete.
    match ck {
        Some(c) => c.remove(),
        None => Ok(()),
    }
}

/// One shard of a comparison: its people (or its PSA draws) into a partial folder.
fn compare_shard(
    args: &CompareArgs,
    s: Shard,
    identity: &CompareIdentity,
    comparison: &mut Comparison,
    started: Instant,
) -> anyhow::Result<()> {
    let replicates = comparison.study.settings.replicates;
    let n_regions = comparison.regions.len();
    // The regions this shard simulates (all of them when it has every person).
    let mut regions = 0..n_regions;
    let (split, range, reps) = if args.psa.is_some() {
        let r = s.range(u64::from(replicates));
        (shard::Split::Draws, r.clone(), r.start as u32..r.end as u32)
    } else if n_regions > 0 {
        // Whole regions: each reproduces its own places exactly.
        let r = s.range(n_regions as u64);
        if s.count as usize > n_regions {
            return Err(input_error(format!(
                "--shard {}/{}: the population is in {n_regions} regions with their own places, \
                 and a shard holds whole regions: use at most {n_regions} shards (docs/shards.md)",
                s.index, s.count
            )));
        }
        regions = r.start as usize..r.end as usize;
        let people = comparison.regions[regions.start].people.start
            ..comparison.regions[regions.end - 1].people.end;
        (shard::Split::People, people, 0..replicates)
    } else {
        // Capacity-limited programmes allocate places over the whole population each
        // year: a part of the people alone cannot reproduce who gets one.
        if let Some((file, programme)) = comparison.coupled_programme() {
            return Err(input_error(format!(
                "--shard: {file}: programme `{programme}` has capacity_per_year for the whole \
                 population, which couples people (places are allocated over everyone each \
                 year), so a shard of the people cannot reproduce it; give the population \
                 regions with their own places ([[region]]) to shard by region, run it \
                 unsharded, or shard a PSA (--psa K) by draw (docs/shards.md)"
            )));
        }
        let n = comparison.study.population.len() as u64;
        let r = s.range(n);
        let people: Vec<_> = comparison.study.population[r.start as usize..r.end as usize].to_vec();
        comparison.study.population = people;
        (shard::Split::People, r, 0..replicates)
    };
    if range.is_empty() {
        return Err(input_error(format!(
            "--shard {}/{}: more shards than {}",
            s.index,
            s.count,
            match split {
                shard::Split::People => "people",
                shard::Split::Draws => "PSA draws",
            }
        )));
    }
    let out = output_dir(&args.out, &[shard::PARTIALS])?;
    let people = match split {
        shard::Split::People => range.end - range.start,
        shard::Split::Draws => comparison.study.population.len() as u64,
    };
    let total = people
        * u64::from(comparison.study.settings.years)
        * (reps.end - reps.start) as u64
        * comparison.study.arms.len() as u64;
    let bar = StudyBar::new(total, args.quiet);
    let run_reps = |reps: std::ops::Range<u32>| {
        if n_regions > 0 {
            comparison.run_regions(&bar, regions.clone(), reps)
        } else {
            comparison.run_partial(&bar, reps)
        }
        .map_err(|e| input_error(e.to_string()))
    };
    let (runs, ck) = if args.checkpoint || args.resume {
        // A shard's folder checkpoints as a whole comparison's does.
        let arms = comparison.study.arms.len();
        let (runs, ck) = with_threads(args.threads, || {
            run_checkpointed(
                args,
                identity,
                out.path(),
                arms,
                reps.clone(),
                |r, years| {
                    comparison
                        .run_replicate_checkpointed(&bar, regions.clone(), r, years)
                        .map_err(checkpoint::compare_error)
                },
            )
        })??;
        (runs, Some(ck))
    } else {
        (
            with_threads(args.threads, || run_reps(reps.clone()))??,
            None,
        )
    };
    bar.finish();
    let threads = with_threads(args.threads, rayon::current_num_threads)?;
    let mut w = shard::PartialWriter::create(&out.join(shard::PARTIALS))?;
    let simulation_seconds: Vec<f64> = runs.iter().map(|r| r.1).collect();
    let mut per_arm: Vec<_> = runs.into_iter().map(|(reps, _)| reps.into_iter()).collect();
    for r in reps.clone() {
        for (a, it) in per_arm.iter_mut().enumerate() {
            let run = it.next().expect("one run per replicate");
            w.write(&shard::Entry {
                arm: a as u32,
                replicate: r,
                run,
            })?;
        }
    }
    let partials_sha256 = w.finish()?;
    let identity = serde_json::to_value(identity)?;
    let manifest = shard::ShardManifest {
        healthtwin_version: env!("CARGO_PKG_VERSION").into(),
        git_commit: env!("HEALTHTWIN_GIT_COMMIT").into(),
        shard: shard::ShardRecord {
            index: s.index,
            count: s.count,
            split,
            first: range.start,
            end: range.end,
        },
        identity_sha256: shard::identity_hash(&identity),
        identity,
        partials_sha256,
        files: vec![shard::PARTIALS.into()],
        parquet_footers: Vec::new(),
        simulation_seconds,
        threads,
        wall_time_seconds: started.elapsed().as_secs_f64(),
    };
    out.commit(serde_json::to_string_pretty(&manifest)?.as_bytes())?;
    if let Some(ck) = ck {
        ck.remove()?;
    }
    if !args.quiet {
        println!(
            "shard {}/{}: {} {}..{} in {:.1} s; files in {} (merge with `healthtwin merge`)",
            s.index,
            s.count,
            match split {
                shard::Split::People => "people",
                shard::Split::Draws => "PSA draws",
            },
            range.start,
            range.end,
            started.elapsed().as_secs_f64(),
            args.out.display()
        );
    }
    Ok(())
}

/// `healthtwin merge` of `compare` shards: the comparison's files from its shards' partials.
pub fn merge(set: &shard::ShardSet, out_path: &Path, quiet: bool) -> anyhow::Result<()> {
    let started = Instant::now();
    let identity: CompareIdentity = serde_json::from_value(set.identity.clone()).map_err(|e| {
        input_error(format!(
            "merge: the shards' comparison is not readable: {e}"
        ))
    })?;
    let (comparison, provenance) = prepare(&identity, true, None, None)?;
    let arms = comparison.study.arms.len();
    let replicates = comparison.study.settings.replicates;
    let out = output_dir(out_path, &study::report::FILES)?;
    let mut runs: Vec<(Vec<_>, f64)> = (0..arms)
        .map(|_| (Vec::with_capacity(replicates as usize), 0.0))
        .collect();
    set.merge_partials(arms, replicates, |_, a, run| {
        runs[a].0.push(comparison.reduce_partial(a, run));
        Ok(())
    })?;
    for m in &set.manifests {
        for (r, s) in runs.iter_mut().zip(&m.simulation_seconds) {
            r.1 += s;
        }
    }
    let results = comparison.results_of(runs);
    let threads = rayon::current_num_threads();
    write_outputs(
        &identity,
        &comparison,
        &results,
        &provenance,
        out,
        threads,
        started,
        quiet,
        out_path,
    )
}

/// The comparison's tables, charts, manifest and terminal text: the one writer of
/// `compare` and of its merge.
#[allow(clippy::too_many_arguments)]
fn write_outputs(
    identity: &CompareIdentity,
    comparison: &Comparison,
    results: &[study::ScenarioResults],
    provenance: &Provenance,
    out: report::OutputDir,
    threads: usize,
    started: Instant,
    quiet: bool,
    out_path: &Path,
) -> anyhow::Result<()> {
    let policy = provenance.policy;
    let report = Report::new(comparison, results).with_disclosure(policy);
    let files = report.write(out.path())?;
    let settings = &comparison.study.settings;
    let manifest = CompareManifest {
        healthtwin_version: env!("CARGO_PKG_VERSION"),
        git_commit: env!("HEALTHTWIN_GIT_COMMIT"),
        scenarios: comparison
            .scenarios
            .iter()
            .zip(results)
            .zip(&identity.scenarios)
            .map(|((p, r), f)| CompareManifestScenario {
                name: p.name.clone(),
                file: p.file.display().to_string(),
                sha256: f.sha256.clone(),
                interventions: p
                    .programmes
                    .iter()
                    .map(|x| format!("{} ({})", x.spec.name, x.spec.kind.name()))
                    .collect(),
                parameters: p.parameters.clone(),
                missing_measures: r.missing.iter().map(|&m| MEASURES[m].name).collect(),
            })
            .collect(),
        shared_from: comparison.scenarios[comparison.shared].name.clone(),
        patients: policy.shown(comparison.population().len() as u64),
        population_origin: provenance.origin(),
        years: settings.years,
        step_months: settings.step_months,
        replicates: settings.replicates,
        seed: settings.seed,
        common_random_numbers: settings.streams == Streams::Common,
        psa_draws: identity.psa,
        psa_parameters: comparison
            .study
            .draws
            .iter()
            .map(|d| d.name.clone())
            .chain(
                comparison
                    .posterior
                    .iter()
                    .flat_map(|p| p.names().iter().cloned()),
            )
            .collect(),
        psa_posterior: identity.posterior.as_ref().map(|p| p.given.clone()),
        discount_rate: comparison.discount_rate,
        represents: comparison.represents,
        threads,
        wall_time_seconds: started.elapsed().as_secs_f64(),
        notes: comparison.notes.clone(),
        files: files.clone(),
        disclosure: report.disclosure().into(),
    };
    out.commit(serde_json::to_string_pretty(&manifest)?.as_bytes())?;
    if !quiet {
        print!("{}", report.text(threads));
        println!("Files in {}", out_path.display());
    }
    Ok(())
}
