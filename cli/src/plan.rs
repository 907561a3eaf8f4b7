//! `healthtwin plan PLAN.toml`: a town's frailty-prevention plan (docs/planning.md): the
//! town's residents, the options and the capacity sweep on the same residents with common
//! random numbers, reported per fiscal year on the town's scale (terminal, CSV/Parquet,
//! charts, and a one-page HTML report in Japanese or English).

use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::Args;
use plan::report::{write_tables, PlanReport};
use plan::{Plan, PlanError, PlanOptions};
use report::html::Lang;
use report::write_atomic;
use serde::{Deserialize, Serialize};

use crate::checkpoint;
use crate::common::{input_error, output_dir, with_threads, StudyBar};
use crate::shard;
use crate::shard::InputFile;

#[derive(Args, Debug)]
pub struct PlanArgs {
    /// The plan file (TOML, docs/planning.md): the town, local prevalences, programmes,
    /// options, capacity sweep, horizon.
    pub plan: PathBuf,
    /// The resident register's counts by sex and 5-year age band (CSV: sex,age_band,count;
    /// 40+ or 65+), replacing the plan's [town] structure.
    #[arg(long)]
    pub residents: Option<PathBuf>,
    /// Language of the HTML report: ja (default) or en.
    #[arg(long, default_value = "ja", value_parser = parse_lang)]
    pub lang: Lang,
    /// Output folder.
    #[arg(long, short = 'o', default_value = "out/plan")]
    pub out: PathBuf,
    /// Replicates (default: the plan's `replicates`).
    #[arg(long, short = 'r', value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub replicates: Option<u32>,
    /// Years (default: the plan's `years`, 9 = three insurance periods).
    #[arg(long, short = 'y', value_parser = clap::value_parser!(u32).range(1..=40))]
    pub years: Option<u32>,
    /// Master seed (default: the plan's `seed`).
    #[arg(long, short = 's')]
    pub seed: Option<u64>,
    /// Parameter uncertainty: K draws from the plan's [uncertainty] table, one per
    /// replicate (K replicates).
    #[arg(long, value_parser = clap::value_parser!(u32).range(2..=10_000))]
    pub psa: Option<u32>,
    /// Most people simulated (a larger town is simulated as a weighted sample).
    #[arg(long, value_parser = clap::value_parser!(u64).range(100..=10_000_000))]
    pub sample: Option<u64>,
    /// Disclosure threshold: cells counting fewer people are suppressed (default: the
    /// plan's, 10).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=1000))]
    pub threshold: Option<u64>,
    /// Worker threads (default: all cores). Results do not depend on it.
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub threads: Option<u16>,
    /// No progress bar and no summary on the terminal.
    #[arg(long, short = 'q')]
    pub quiet: bool,
    /// Run shard I of N (0-based): a contiguous range of the replicates, written as a
    /// partial folder for `healthtwin merge` (docs/shards.md).
    #[arg(long, value_name = "I/N", value_parser = crate::shard::parse_shard)]
    pub shard: Option<shard::Shard>,
    /// Write a checkpoint after each replicate (or PSA draw) into OUT/checkpoint, and inside
    /// it after each arm's run and at simulated years (--checkpoint-every), so that
    /// `--resume` can continue a killed plan (docs/shards.md).
    #[arg(long)]
    pub checkpoint: bool,
    /// Continue the plan whose checkpoint is in OUT (same flags), or start it when there is
    /// none; the outputs are the bytes of an uninterrupted run. Implies --checkpoint.
    #[arg(long)]
    pub resume: bool,
    /// With --checkpoint: inside a replicate, save the arm's run in progress at the end of
    /// a simulated year once at least this many seconds have passed since the last save
    /// (0: every year). Does not change results.
    #[arg(long, value_name = "SECONDS", default_value_t = 60)]
    pub checkpoint_every: u64,
}

fn parse_lang(s: &str) -> Result<Lang, String> {
    Lang::parse(s).ok_or_else(|| format!("`{s}`: the report speaks ja or en"))
}

#[derive(Serialize)]
struct PlanManifest<'a> {
    healthtwin_version: &'a str,
    git_commit: &'a str,
    plan: String,
    plan_sha256: String,
    residents_file: Option<String>,
    residents_sha256: Option<String>,
    town_name: String,
    start_fiscal_year: i64,
    years: u32,
    replicates: u32,
    seed: u64,
    step_months: u32,
    psa_draws: Option<u32>,
    psa_parameters: Vec<String>,
    people_simulated: usize,
    residents_simulated: f64,
    residents_per_person: f64,
    first_age_simulated: usize,
    disclosure_threshold: u64,
    future: String,
    local: Vec<ManifestLocal>,
    arms: Vec<ManifestArm>,
    notes: Vec<String>,
    language: &'static str,
    threads: usize,
    patient_years: f64,
    wall_time_seconds: f64,
    files: Vec<String>,
}

#[derive(Serialize)]
struct ManifestLocal {
    measure: &'static str,
    target: f64,
    national: f64,
    fitted: f64,
    adjustment: f64,
}

#[derive(Serialize)]
struct ManifestArm {
    name: String,
    places: Vec<(String, u64)>,
    simulated_places: Vec<(String, u64)>,
    seconds: f64,
}

/// A plan error as the command reports it: the user's input (exit 2) or a failure (1).
fn plan_error(e: PlanError) -> anyhow::Error {
    if e.is_input() {
        input_error(e.to_string())
    } else {
        anyhow::Error::new(e)
    }
}

/// What makes a plan's outputs what they are: its files with their hashes and every flag
/// that changes results. The identity of `plan` shards.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
struct PlanIdentity {
    command: String,
    plan: InputFile,
    /// The register or scaled-structure CSV and the projection, as the plan reads them.
    inputs: Vec<InputFile>,
    residents: Option<String>,
    lang: String,
    replicates: Option<u32>,
    years: Option<u32>,
    seed: Option<u64>,
    psa: Option<u32>,
    sample: Option<u64>,
    threshold: Option<u64>,
}

impl PlanIdentity {
    fn of(args: &PlanArgs, plan: &Plan) -> anyhow::Result<PlanIdentity> {
        let mut inputs = Vec::new();
        if let Some(p) = plan_residents(plan) {
            inputs.push(InputFile::of(&p)?);
        }
        if let scenarios::plan::Future::Projection(p) = &plan.file.future {
            inputs.push(InputFile::of(p)?);
        }
        Ok(PlanIdentity {
            command: "plan".into(),
            plan: InputFile::of(&args.plan)?,
            inputs,
            residents: args.residents.as_ref().map(|p| p.display().to_string()),
            lang: args.lang.code().into(),
            replicates: args.replicates,
            years: args.years,
            seed: args.seed,
            psa: args.psa,
            sample: args.sample,
            threshold: args.threshold,
        })
    }

    fn options(&self) -> PlanOptions {
        PlanOptions {
            residents: self.residents.as_ref().map(PathBuf::from),
            replicates: self.replicates,
            years: self.years,
            seed: self.seed,
            psa: self.psa,
            sample: self.sample,
            threshold: self.threshold,
        }
    }
}

fn plan_residents(plan: &Plan) -> Option<PathBuf> {
    match &plan.file.structure {
        scenarios::plan::Structure::Residents(p) => Some(p.clone()),
        scenarios::plan::Structure::Scaled { path, .. } => Some(path.clone()),
        scenarios::plan::Structure::National { .. } => None,
    }
}

/// Takes the output folder as every command does (`report::OutputDir`): locked against a
/// second writer, its stale manifest removed first (a folder without one holds no complete
/// plan), and the temporaries of a killed run's atomic writers removed. The guard holds the
/// lock until the plan's manifest is written.
fn begin_output(out: &Path) -> anyhow::Result<(report::OutputDir, PathBuf)> {
    let guard = output_dir(out, &[])?;
    Ok((guard, out.join("manifest.json")))
}

impl PlanArgs {
    /// The plan's options from the flags.
    pub fn options(&self) -> PlanOptions {
        PlanOptions {
            residents: self.residents.clone(),
            replicates: self.replicates,
            years: self.years,
            seed: self.seed,
            psa: self.psa,
            sample: self.sample,
            threshold: self.threshold,
        }
    }
}

pub fn plan(args: &PlanArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    let file = scenarios::plan::load(&args.plan).map_err(|e| input_error(e.to_string()))?;
    let opts = args.options();
    // Everything the user gave is read and checked before anything is written.
    let plan = with_threads(args.threads, || Plan::new(file, &opts))?.map_err(plan_error)?;
    let id = PlanIdentity::of(args, &plan)?;
    if let Some(s) = args.shard {
        return plan_shard(args, s, &id, &plan, started);
    }
    let (_out, manifest_path) = begin_output(&args.out)?;
    let bar = StudyBar::new(plan.study.total_patient_years(), args.quiet);
    let mut ck = None;
    let results = if args.checkpoint || args.resume {
        let reps = 0..plan.study.settings.replicates;
        let (runs, c) = with_threads(args.threads, || {
            run_checkpointed(args, &id, &plan, &args.out, &bar, reps)
        })??;
        ck = Some(c);
        // Each run reduced from its exact aggregate, as a merge reduces its shards'.
        let sources = plan.sources().map_err(plan_error)?;
        Plan::assemble(
            runs.into_iter()
                .enumerate()
                .map(|(a, (aggregates, seconds))| {
                    let values = aggregates
                        .iter()
                        .map(|g| plan.reduce(&sources, a, g))
                        .collect();
                    (values, seconds)
                })
                .collect(),
        )
    } else {
        with_threads(args.threads, || plan.run(&bar))?.map_err(plan_error)?
    };
    bar.finish();
    let threads = with_threads(args.threads, rayon::current_num_threads)?;
    write_plan(
        &id,
        &plan,
        &results,
        &args.out,
        &manifest_path,
        threads,
        started,
        args.quiet,
    )?;
    // The outputs are complete.
    match ck {
        Some(c) => c.remove(),
        None => Ok(()),
    }
}

/// Per arm: its exact aggregates of some replicates, in order, and its simulation seconds.
type ArmAggregates = Vec<(Vec<engine::Aggregator>, f64)>;

/// Runs replicates `reps` of the plan one by one with a checkpoint into `out` after each
/// (`--checkpoint`, `--resume`; every arm's exact aggregate, as a shard's partials) and
/// inside each (every finished arm's run, and the run in progress at year boundaries,
/// `--checkpoint-every`: `compare`'s [`checkpoint::YearCheckpoint`]): the replicates and
/// runs the checkpoint holds are not run again, a run in progress starts from its last
/// saved year, and every run is then read from the checkpoint, so a resumed plan reduces
/// exactly the runs of an uninterrupted one. Simulation seconds count only what is run
/// now. The caller removes the checkpoint once the outputs are complete.
fn run_checkpointed(
    args: &PlanArgs,
    id: &PlanIdentity,
    plan: &Plan,
    out: &Path,
    bar: &StudyBar,
    reps: std::ops::Range<u32>,
) -> anyhow::Result<(ArmAggregates, checkpoint::Checkpoint)> {
    let key = serde_json::json!({ "plan": id, "shard": args.shard });
    let what = if args.psa.is_some() {
        "PSA draws"
    } else {
        "replicates"
    };
    let (ck, done) = checkpoint::Checkpoint::open_replicates(
        out,
        &key,
        args.resume,
        reps.clone(),
        what,
        args.quiet,
    )?;
    let mut years = checkpoint::YearCheckpoint::new(
        &ck,
        &key,
        std::time::Duration::from_secs(args.checkpoint_every),
    );
    let arms = plan.study.arms.len();
    let mut seconds = vec![0.0; arms];
    for r in reps.clone() {
        if done.contains(&r) {
            continue;
        }
        let runs = plan
            .run_replicate_checkpointed(bar, r, &mut checkpoint::PlanYears(&mut years))
            .map_err(|e| match e {
                study::CompareError::Study(e) => plan_error(PlanError::Study(e)),
                e => checkpoint::compare_error(e),
            })?;
        let mut per_arm = Vec::with_capacity(arms);
        for (a, (aggregates, s)) in runs.into_iter().enumerate() {
            seconds[a] += s;
            per_arm.push(study::PartialRun {
                aggregate: aggregates
                    .into_iter()
                    .next()
                    .expect("one run per replicate"),
                delays: None,
            });
        }
        ck.save_runs(r, per_arm)?;
        years.replicate_done(r)?;
    }
    let mut runs: ArmAggregates = seconds
        .into_iter()
        .map(|s| (Vec::with_capacity(reps.len()), s))
        .collect();
    for r in reps {
        for (acc, run) in runs.iter_mut().zip(ck.runs(r, arms)?) {
            acc.0.push(run.aggregate);
        }
    }
    Ok((runs, ck))
}

/// One shard of a plan: a contiguous range of its replicates (each replicate's runs are
/// independent of the others'; the residents are coupled within a run by the places).
fn plan_shard(
    args: &PlanArgs,
    s: shard::Shard,
    id: &PlanIdentity,
    plan: &Plan,
    started: Instant,
) -> anyhow::Result<()> {
    let replicates = plan.study.settings.replicates;
    if s.count > replicates {
        return Err(input_error(format!(
            "--shard {}/{}: the plan has {replicates} replicate(s), and a shard holds whole \
             replicates (the residents share the programmes' places within a run, so a part of \
             them cannot be simulated alone): use at most {replicates} shards (docs/shards.md)",
            s.index, s.count
        )));
    }
    let r = s.range(u64::from(replicates));
    let reps = r.start as u32..r.end as u32;
    let out = output_dir(&args.out, &[shard::PARTIALS])?;
    let total = plan.people().len() as u64
        * u64::from(plan.study.settings.years)
        * u64::from(reps.end - reps.start)
        * plan.study.arms.len() as u64;
    let bar = StudyBar::new(total, args.quiet);
    let (runs, ck) = if args.checkpoint || args.resume {
        // A shard's folder checkpoints its replicates as a whole plan's does.
        let (runs, ck) = with_threads(args.threads, || {
            run_checkpointed(args, id, plan, out.path(), &bar, reps.clone())
        })??;
        (runs, Some(ck))
    } else {
        let runs = with_threads(args.threads, || plan.run_partial(&bar, reps.clone()))?
            .map_err(plan_error)?;
        (runs, None)
    };
    bar.finish();
    let threads = with_threads(args.threads, rayon::current_num_threads)?;
    let simulation_seconds: Vec<f64> = runs.iter().map(|r| r.1).collect();
    let mut w = shard::PartialWriter::create(&out.join(shard::PARTIALS))?;
    let mut per_arm: Vec<_> = runs.into_iter().map(|(v, _)| v.into_iter()).collect();
    for rep in reps.clone() {
        for (a, it) in per_arm.iter_mut().enumerate() {
            let aggregate = it.next().expect("one run per replicate");
            w.write(&shard::Entry {
                arm: a as u32,
                replicate: rep,
                run: study::PartialRun {
                    aggregate,
                    delays: None,
                },
            })?;
        }
    }
    let sha = w.finish()?;
    shard::commit_shard(
        out,
        s,
        shard::Split::Draws,
        r.clone(),
        serde_json::to_value(id)?,
        sha,
        simulation_seconds,
        threads,
        started,
    )?;
    if let Some(ck) = ck {
        ck.remove()?;
    }
    if !args.quiet {
        println!(
            "shard {}/{}: replicates {}..{} in {:.1} s; files in {} (merge with `healthtwin merge`)",
            s.index,
            s.count,
            r.start,
            r.end,
            started.elapsed().as_secs_f64(),
            args.out.display()
        );
    }
    Ok(())
}

/// `healthtwin merge` of `plan` shards: the plan is built again from its files (checked
/// against their hashes), each run reduced from its shard's exact aggregate, then the plan's
/// one writer.
pub fn merge(set: &shard::ShardSet, out: &Path, quiet: bool) -> anyhow::Result<()> {
    let started = Instant::now();
    let id: PlanIdentity = serde_json::from_value(set.identity.clone())
        .map_err(|e| input_error(format!("merge: the shards' plan is not readable: {e}")))?;
    for f in std::iter::once(&id.plan).chain(&id.inputs) {
        if !f.unchanged() {
            return Err(input_error(format!(
                "merge: {} has changed since the shards ran (its SHA-256 differs)",
                f.given
            )));
        }
    }
    let file = scenarios::plan::load(Path::new(&id.plan.absolute))
        .map_err(|e| input_error(e.to_string()))?;
    let mut opts = id.options();
    if opts.residents.is_some() {
        opts.residents = id.inputs.first().map(|f| PathBuf::from(&f.absolute));
    }
    let mut plan = Plan::new(file, &opts).map_err(plan_error)?;
    // Named as the shards named them (the outputs show these paths).
    plan.file.file = PathBuf::from(&id.plan.given);
    let mut given = id.inputs.iter().map(|f| PathBuf::from(&f.given));
    match &mut plan.file.structure {
        scenarios::plan::Structure::Residents(p)
        | scenarios::plan::Structure::Scaled { path: p, .. } => {
            *p = given.next().unwrap_or_default();
        }
        scenarios::plan::Structure::National { .. } => {}
    }
    if let scenarios::plan::Future::Projection(p) = &mut plan.file.future {
        *p = given.next().unwrap_or_default();
    }
    let sources = plan.sources().map_err(plan_error)?;
    let arms = plan.study.arms.len();
    let replicates = plan.study.settings.replicates;
    let (_out, manifest_path) = begin_output(out)?;
    let mut runs: Vec<(Vec<_>, f64)> = (0..arms)
        .map(|_| (Vec::with_capacity(replicates as usize), 0.0))
        .collect();
    set.merge_partials(arms, replicates, |_, a, run| {
        runs[a].0.push(plan.reduce(&sources, a, &run.aggregate));
        Ok(())
    })?;
    for m in &set.manifests {
        for (r, s) in runs.iter_mut().zip(&m.simulation_seconds) {
            r.1 += s;
        }
    }
    let results = Plan::assemble(runs);
    let threads = rayon::current_num_threads();
    write_plan(
        &id,
        &plan,
        &results,
        out,
        &manifest_path,
        threads,
        started,
        quiet,
    )
}

/// A plan's tables, charts, report, manifest and terminal text: the one writer of `plan`
/// and of its merge.
#[allow(clippy::too_many_arguments)]
fn write_plan(
    id: &PlanIdentity,
    plan: &Plan,
    results: &plan::PlanResults,
    out: &Path,
    manifest_path: &Path,
    threads: usize,
    started: Instant,
    quiet: bool,
) -> anyhow::Result<()> {
    let lang = Lang::parse(&id.lang).unwrap_or(Lang::Ja);
    let report = PlanReport::new(plan, results, lang);
    let mut files = write_tables(&report, out)?;
    files.extend(report.write_charts(out)?);
    files.push(report.write_html(out)?);

    let names = |places: &[(usize, u64)]| -> Vec<(String, u64)> {
        places
            .iter()
            .map(|&(k, n)| (plan.programme_names[k].clone(), n))
            .collect()
    };
    let residents_file = plan_residents(plan);
    let manifest = PlanManifest {
        healthtwin_version: env!("CARGO_PKG_VERSION"),
        git_commit: env!("HEALTHTWIN_GIT_COMMIT"),
        plan: id.plan.given.clone(),
        plan_sha256: id.plan.sha256.clone(),
        residents_sha256: residents_file
            .as_ref()
            .and_then(|_| id.inputs.first().map(|f| f.sha256.clone())),
        residents_file: residents_file.map(|p| p.display().to_string()),
        town_name: plan.file.town_name.clone(),
        start_fiscal_year: plan.file.start_fiscal_year,
        years: plan.study.settings.years,
        replicates: plan.study.settings.replicates,
        seed: plan.study.settings.seed,
        step_months: plan.study.settings.step_months,
        psa_draws: id.psa,
        psa_parameters: plan.study.draws.iter().map(|d| d.name.clone()).collect(),
        people_simulated: plan.people().len(),
        residents_simulated: plan.strata.iter().map(|s| s.residents).sum(),
        residents_per_person: plan.weight,
        first_age_simulated: plan.first_band * 5,
        disclosure_threshold: plan.threshold,
        future: match &plan.file.future {
            scenarios::plan::Future::Closed => "closed cohort".into(),
            scenarios::plan::Future::Projection(p) => format!("projection {}", p.display()),
        },
        local: plan
            .local
            .matched
            .iter()
            .map(|m| ManifestLocal {
                measure: m.what,
                target: m.target,
                national: m.national,
                fitted: m.fitted,
                adjustment: m.adjustment,
            })
            .collect(),
        arms: plan
            .arms
            .iter()
            .zip(&results.seconds)
            .map(|(a, s)| ManifestArm {
                name: a.name.clone(),
                places: names(&a.places),
                simulated_places: names(&a.simulated_places),
                seconds: *s,
            })
            .collect(),
        notes: plan.notes.iter().map(|n| n.en.clone()).collect(),
        language: lang.code(),
        threads,
        patient_years: results.person_years,
        wall_time_seconds: started.elapsed().as_secs_f64(),
        files: files.clone(),
    };
    write_atomic(
        manifest_path,
        serde_json::to_string_pretty(&manifest)?.as_bytes(),
    )?;
    if !quiet {
        // The terminal speaks English, whatever the report's language.
        print!("{}", PlanReport::new(plan, results, Lang::En).text(threads));
        println!("Report: {}", out.join("plan_report.html").display());
    }
    Ok(())
}
