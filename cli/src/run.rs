//! `healthtwin run` and `healthtwin cohort synth`.

use std::fs;
use std::time::Instant;

use engine::observe::metric_defs;
use engine::summary::summarize;
use engine::{Aggregator, Model};
use models::mortality::LifeTable;
use models::HealthModel;
use report::disclosure::summary::SummaryDisclosure;
use report::outputs::{
    cohort_table, patients_table_with, summary_table_disclosed, trace_table_with, AgePrecision,
};
use report::{
    link_or_copy, parquet_group_rows, provenance, write_csv, write_parquet,
    write_parquet_with_metadata, AtomicDir, OutputDir, ParquetGroups, ParquetSink, Table,
};
use serde::{Deserialize, Serialize};
use study::headline::Headline;
use study::{Arm, Settings, Streams, Study};

use crate::args::{RunArgs, SynthArgs};
use crate::common::{
    input_error, model_with, output_dir, output_file, with_threads, DisclosureManifest, Provenance,
    StudyBar,
};
use crate::flags::generator;
use crate::memory::{self, Footprint};
use crate::{checkpoint, shard};

/// People per file of the `patients/` dataset folder: bounds memory for any cohort size.
/// The files are fixed blocks of the cohort (persons `k·B … (k+1)·B` of each replicate) in a
/// shard as in the whole run, so that `merge` places them by hard link, without copying
/// their bytes ([`shard::blocks`], [`shard::Shard::people_range`]).
pub const PATIENT_ROW_GROUP: usize = 65_536;

pub use crate::shard::PATIENTS_DIR;

/// The file of replicate `replicate`'s people of block `block` (persons
/// `block·65,536 … (block+1)·65,536`) in [`PATIENTS_DIR`]: `part-r0000-b00000.parquet`. The
/// names sort in row order (replicate, then person) up to 10,000 replicates and 100,000
/// blocks (6.5 billion people).
pub fn part_name(replicate: u32, block: u64) -> String {
    format!("part-r{replicate:04}-b{block:05}.parquet")
}

/// The parts of the people `first..first + len` of a cohort: each block's number and its
/// rows (indices from `first`). A shard's parts are the unsharded run's, or pieces of one.
fn parts(first: u64, len: usize) -> impl Iterator<Item = (u64, std::ops::Range<usize>)> {
    let block = PATIENT_ROW_GROUP as u64;
    shard::blocks(first, len, block).map(move |b| ((first + b.start as u64) / block, b))
}

/// `patients/<part>` as named in manifests.
fn part_path(name: &str) -> String {
    format!("{PATIENTS_DIR}/{name}")
}

/// The resolved scenario recorded in the manifest.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct RunDescription {
    pub name: String,
    pub population: Population,
    pub start_year: i64,
    pub years: u32,
    pub step_months: u32,
    pub modules: Vec<String>,
    pub interventions: Vec<String>,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Population {
    Synthetic {
        n: u64,
        seed: u64,
        age_min: u32,
        age_max: u32,
        source: String,
    },
    CohortFile {
        path: String,
        sha256: String,
        /// Withheld when it is below the disclosure threshold.
        n: Option<u64>,
        /// `synthetic`, `imported` or unmarked (report::provenance).
        origin: String,
    },
}

#[derive(Serialize)]
struct RunManifest<'a> {
    healthtwin_version: &'a str,
    git_commit: &'a str,
    seed: u64,
    /// Withheld (null) when it is below the disclosure threshold.
    patients: Option<u64>,
    years: u32,
    step_months: u32,
    replicates: u32,
    threads: usize,
    chunk_size: u64,
    trace_patients: u64,
    scenario: &'a RunDescription,
    parameter_hash_sha256: String,
    wall_time_seconds: f64,
    files: Vec<&'a str>,
    disclosure: DisclosureManifest,
    /// `exact`, or `whole months` for real people (patients/, trace).
    person_level_ages: &'static str,
}

use crate::shard::sha256_hex;

pub fn synth(args: &SynthArgs) -> anyhow::Result<()> {
    let ext = args
        .out
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    if ext != "parquet" && ext != "csv" {
        return Err(input_error(format!(
            "--out {}: the file name must end in .parquet or .csv",
            args.out.display()
        )));
    }
    let generator = generator(args.n, args.seed, &args.population)?;
    memory::check(&Footprint {
        size_flag: "--n",
        people: args.n,
        bytes_per_person: memory::COHORT_FILE_PERSON_BYTES,
        other_bytes: memory::FIXED_BYTES,
        threads: memory::threads(None),
    })?;
    let folder = output_file(&args.out)?;
    let people = generator.generate();
    let seed = args.seed;
    let table = cohort_table(&people, &|id| format!("syn-{seed}-{id}"));
    // The file says it is synthetic (report::provenance): a run of it publishes without
    // disclosure control, and a file without the mark is handled as real people's data.
    if ext == "csv" {
        write_csv(&table, &args.out)?;
        provenance::write_csv_marker(&args.out, &provenance::SYNTHETIC_METADATA)?;
    } else {
        write_parquet_with_metadata(&table, &args.out, &provenance::SYNTHETIC_METADATA)?;
    }
    folder.finish()?;
    eprintln!(
        "wrote {} synthetic people (seed {seed}) to {}",
        people.len(),
        args.out.display()
    );
    Ok(())
}

/// The files `run` writes besides manifest.json (stale ones of an earlier run are removed;
/// `patients.parquet` is what versions before the `patients/` folder wrote).
pub const RUN_FILES: [&str; 6] = [
    "summary.csv",
    "summary.parquet",
    PATIENTS_DIR,
    "patients.parquet",
    "trace.csv",
    "trace.parquet",
];

/// What makes a run's outputs what they are, apart from the simulation itself: recorded in
/// every shard's manifest (two shards belong to one run when theirs are equal), and all
/// `merge` needs to write the outputs of the whole run.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct RunIdentity {
    pub command: String,
    pub seed: u64,
    /// People in the whole run (every shard).
    pub people: u64,
    pub years: u32,
    pub step_months: u32,
    pub replicates: u32,
    pub start_year: i64,
    pub chunk_size: u64,
    pub trace_patients: u64,
    /// `--set NAME=VALUE`, in order.
    pub set: Vec<String>,
    pub scenario: RunDescription,
    pub parameter_hash_sha256: String,
    /// The disclosure policy: real people (a cohort file not marked synthetic) and `--min-cell`.
    pub real_people: bool,
    pub min_cell: Option<u32>,
}

impl RunIdentity {
    fn policy(&self) -> anyhow::Result<report::disclosure::Policy> {
        report::disclosure::Policy::resolve(self.real_people, self.min_cell)
            .map_err(|e| input_error(e.to_string()))
    }
    fn ages(&self) -> AgePrecision {
        if self.real_people {
            AgePrecision::WholeMonths
        } else {
            AgePrecision::Exact
        }
    }
}

/// The files of a `run --shard` folder besides manifest.json.
pub const SHARD_RUN_FILES: [&str; 4] = [
    shard::PARTIALS,
    PATIENTS_DIR,
    "patients.parquet",
    "trace.parquet",
];

pub fn run(args: &RunArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    let model = crate::common::model_with_file(args.params.as_deref(), &args.set)?;
    let metrics = metric_defs(model.causes_of_death(), &model.metrics()).len();
    let footprint = |size_flag, people: u64| Footprint {
        size_flag,
        people: match args.shard {
            Some(s) => {
                let r = s.people_range(people, PATIENT_ROW_GROUP as u64);
                r.end - r.start
            }
            None => people,
        },
        bytes_per_person: memory::SIMULATED_PERSON_BYTES,
        other_bytes: memory::FIXED_BYTES
            + memory::aggregate_bytes(args.years, metrics, u64::from(args.replicates)),
        threads: memory::threads(args.threads),
    };
    let min_cell = args.disclosure.min_cell;
    // Everything the user supplied is checked before anything is written.
    let (cohort, people, population, pseudo_prefix, provenance) = match &args.cohort {
        Some(path) => {
            let provenance =
                Provenance::cohort_file(path, min_cell, args.disclosure.allow_demo_key)?;
            let rows = provenance.cohort_file.as_ref().and_then(|i| i.rows);
            if let Some(rows) = rows {
                memory::check(&footprint("--cohort with rows", rows))?;
            }
            let bytes = fs::read(path)
                .map_err(|e| input_error(format!("{}: cannot read: {e}", path.display())))?;
            let mut people = cohort::file::read(path).map_err(|e| input_error(e.to_string()))?;
            let n = people.len() as u64;
            if rows.is_none() {
                memory::check(&footprint("--cohort with rows", n))?;
            }
            if let Some(s) = args.shard {
                let r = s.people_range(n, PATIENT_ROW_GROUP as u64);
                people.truncate(r.end as usize);
                people.drain(..r.start as usize);
            }
            (
                people,
                n,
                Population::CohortFile {
                    path: path.display().to_string(),
                    sha256: sha256_hex(&bytes),
                    n: provenance.policy.shown(n),
                    origin: provenance.origin().to_string(),
                },
                "cohort".to_string(),
                provenance,
            )
        }
        None => {
            let provenance = Provenance::synthetic(min_cell)?;
            let generator = generator(args.patients, args.seed, &args.population)?;
            memory::check(&footprint("--patients", args.patients))?;
            // A shard makes only its own people (person `id` depends on the seed and id only).
            let people = match args.shard {
                Some(s) => {
                    use rayon::prelude::*;
                    let r = s.people_range(args.patients, PATIENT_ROW_GROUP as u64);
                    with_threads(args.threads, || {
                        r.into_par_iter()
                            .map(|id| generator.person(id))
                            .collect::<Vec<_>>()
                    })?
                }
                None => generator.generate(),
            };
            (
                people,
                args.patients,
                Population::Synthetic {
                    n: args.patients,
                    seed: args.seed,
                    age_min: args.population.age_min,
                    age_max: args.population.age_max,
                    source: "embedded synthetic Japanese cohort (docs/cohort.md)".into(),
                },
                format!("syn-{}", args.seed),
                provenance,
            )
        }
    };
    if args.shard.is_some() && cohort.is_empty() {
        return Err(input_error(format!(
            "--shard {}: more shards than the {people} people",
            args.shard
                .map(|s| format!("{}/{}", s.index, s.count))
                .unwrap_or_default()
        )));
    }
    let scenario = RunDescription {
        name: "baseline".into(),
        population,
        start_year: args.start_year,
        years: args.years,
        step_months: args.step_months,
        modules: models::MODULES.iter().map(|m| m.to_string()).collect(),
        interventions: vec![],
    };
    let param_text = format!("{}{}", model.canonical(), cohort::japan::canonical());
    let identity = RunIdentity {
        command: "run".into(),
        seed: args.seed,
        people,
        years: args.years,
        step_months: args.step_months,
        replicates: args.replicates,
        start_year: args.start_year,
        chunk_size: args.chunk_size,
        trace_patients: args.trace,
        set: args.set.clone(),
        scenario,
        parameter_hash_sha256: sha256_hex(param_text.as_bytes()),
        real_people: provenance.real_people(),
        min_cell,
    };
    // Locked, writable, without a manifest and without stale files of an earlier run.
    let out = match args.shard {
        Some(_) => output_dir(&args.out, &SHARD_RUN_FILES)?,
        None => output_dir(&args.out, &RUN_FILES)?,
    };

    let study = Study {
        arms: vec![Arm {
            name: identity.scenario.name.clone(),
            model,
        }],
        population: cohort,
        settings: Settings {
            seed: args.seed,
            years: args.years,
            step_months: args.step_months,
            replicates: args.replicates,
            streams: Streams::Common,
            chunk_size: args.chunk_size as usize,
            trace_patients: args.trace,
        },
        draws: Vec::new(),
        allocation: study::Allocation::Paired,
    };
    let bar = StudyBar::new(study.total_patient_years(), args.quiet);
    let ages = provenance.ages();
    // The first person of this run's part of the cohort (row groups are cut at blocks).
    let first_person = args.shard.map_or(0, |s| {
        s.people_range(people, PATIENT_ROW_GROUP as u64).start
    });
    let (aggregates, seconds) = if args.checkpoint || args.resume {
        let key = serde_json::json!({ "run": &identity, "shard": args.shard });
        with_threads(args.threads, || {
            execute_checkpointed(
                args,
                &key,
                &study,
                &bar,
                &pseudo_prefix,
                &out,
                ages,
                first_person,
            )
        })??
    } else {
        with_threads(args.threads, || {
            execute(args, &study, &bar, &pseudo_prefix, &out, ages, first_person)
        })??
    };
    bar.finish();
    let threads = with_threads(args.threads, rayon::current_num_threads)?;
    if let Some(s) = args.shard {
        let mut w = shard::PartialWriter::create(&out.join(shard::PARTIALS))?;
        for (r, aggregate) in aggregates.into_iter().enumerate() {
            w.write(&shard::Entry {
                arm: 0,
                replicate: r as u32,
                run: study::PartialRun {
                    aggregate,
                    delays: None,
                },
            })?;
        }
        let partials_sha256 = w.finish()?;
        let range = s.people_range(people, PATIENT_ROW_GROUP as u64);
        let mut files = vec![shard::PARTIALS.to_string(), format!("{PATIENTS_DIR}/")];
        let mut parquet = Vec::new();
        for r in 0..args.replicates {
            for (k, _) in parts(range.start, (range.end - range.start) as usize) {
                parquet.push(part_path(&part_name(r, k)));
            }
        }
        if args.trace > 0 {
            files.push("trace.parquet".into());
            parquet.push("trace.parquet".into());
        }
        let identity = serde_json::to_value(&identity)?;
        let parquet_footers = parquet
            .iter()
            .map(|f| {
                shard::ParquetFooter::of(out.path(), f)
                    .ok_or_else(|| anyhow::anyhow!("{}: not readable", out.join(f).display()))
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        let manifest = shard::ShardManifest {
            healthtwin_version: env!("CARGO_PKG_VERSION").into(),
            git_commit: env!("HEALTHTWIN_GIT_COMMIT").into(),
            shard: shard::ShardRecord {
                index: s.index,
                count: s.count,
                split: shard::Split::People,
                first: range.start,
                end: range.end,
            },
            identity_sha256: shard::identity_hash(&identity),
            identity,
            partials_sha256,
            files,
            parquet_footers,
            simulation_seconds: vec![seconds.iter().sum()],
            threads,
            wall_time_seconds: started.elapsed().as_secs_f64(),
        };
        out.commit(serde_json::to_string_pretty(&manifest)?.as_bytes())?;
        if !args.quiet {
            println!(
                "shard {}/{}: people {}..{} of {people}, {} replicate(s) in {:.1} s; files in {} (merge with `healthtwin merge`)",
                s.index,
                s.count,
                range.start,
                range.end,
                args.replicates,
                started.elapsed().as_secs_f64(),
                args.out.display()
            );
        }
        return Ok(());
    }
    write_run_outputs(
        &identity,
        &aggregates,
        out,
        threads,
        started,
        args.quiet,
        &args.out,
    )
}

/// The whole run's summary, manifest and headline from its aggregates (one per replicate);
/// the person-level files are already in `out`. The one writer of `run` and of its merge.
fn write_run_outputs(
    identity: &RunIdentity,
    aggregates: &[Aggregator],
    out: OutputDir,
    threads: usize,
    started: Instant,
    quiet: bool,
    out_path: &std::path::Path,
) -> anyhow::Result<()> {
    let model = model_with(&identity.set)?;
    let scenario = &identity.scenario;
    let causes = model.causes_of_death();
    let defs = metric_defs(causes, &model.metrics());
    let rows = summarize(aggregates, &defs);
    let policy = identity.policy()?;
    let disclosure = SummaryDisclosure::new(aggregates, &defs, policy);
    let summary = summary_table_disclosed(
        &scenario.name,
        identity.start_year,
        &rows,
        &defs,
        &disclosure,
    );
    write_csv(&summary, &out.join("summary.csv"))?;
    write_parquet(&summary, &out.join("summary.parquet"))?;
    let mut files = vec!["summary.csv", "summary.parquet", "patients/"];
    if identity.trace_patients > 0 {
        files.extend(["trace.csv", "trace.parquet"]);
    }
    let manifest = RunManifest {
        healthtwin_version: env!("CARGO_PKG_VERSION"),
        git_commit: env!("HEALTHTWIN_GIT_COMMIT"),
        seed: identity.seed,
        patients: policy.shown(identity.people),
        years: identity.years,
        step_months: identity.step_months,
        replicates: identity.replicates,
        threads,
        chunk_size: identity.chunk_size,
        trace_patients: identity.trace_patients,
        scenario,
        parameter_hash_sha256: identity.parameter_hash_sha256.clone(),
        wall_time_seconds: started.elapsed().as_secs_f64(),
        files,
        disclosure: policy.record(disclosure.count()).into(),
        person_level_ages: match identity.ages() {
            AgePrecision::Exact => "exact",
            AgePrecision::WholeMonths => "whole months",
        },
    };
    out.commit(serde_json::to_string_pretty(&manifest)?.as_bytes())?;
    if !quiet {
        let headline = Headline {
            aggregates,
            defs: &defs,
            people: identity.people as usize,
            start_year: identity.start_year,
            seed: identity.seed,
            seconds: started.elapsed().as_secs_f64(),
        };
        print!("{}", headline.render_disclosed(&disclosure));
        println!(
            "\nFiles in {}: summary.csv, summary.parquet, patients/*.parquet{}, manifest.json (docs/outputs.md)",
            out_path.display(),
            if identity.trace_patients > 0 {
                ", trace.csv, trace.parquet"
            } else {
                ""
            }
        );
    }
    Ok(())
}

/// Runs the study, writing each replicate's people into `patients/`, a file per block (and
/// the trace);
/// returns each replicate's aggregates and simulation seconds. A shard writes no trace.csv
/// (its merge writes the whole run's).
fn execute(
    args: &RunArgs,
    study: &Study<HealthModel>,
    bar: &StudyBar,
    pseudo_prefix: &str,
    out: &OutputDir,
    ages: AgePrecision,
    first_person: u64,
) -> anyhow::Result<(Vec<Aggregator>, Vec<f64>)> {
    let sharded = args.shard.is_some();
    let causes = study.arms[0].model.causes_of_death();
    let pseudo = |id: u64| format!("{pseudo_prefix}-{id}");
    let patients = AtomicDir::create(&out.join(PATIENTS_DIR))?;
    let mut trace_rows = Vec::new();
    let mut seconds = Vec::new();
    let results = study::run(study, bar, |ctx, run| -> anyhow::Result<Aggregator> {
        seconds.push(ctx.seconds);
        for (k, block) in parts(first_person, ctx.patients.len()) {
            let chunk = &ctx.patients[block];
            let table = patients_table_with(ctx.replicate, chunk, causes, &pseudo, ages);
            write_parquet(&table, &patients.join(&part_name(ctx.replicate, k)))?;
        }
        if args.trace > 0 {
            trace_rows.push(trace_table_with(
                ctx.replicate,
                args.start_year,
                &run.trace,
                ages,
            ));
        }
        Ok(run.aggregate)
    })?;
    patients.commit()?;
    if args.trace > 0 {
        write_trace(out, &trace_rows, !sharded)?;
    }
    Ok((
        results
            .arms
            .into_iter()
            .flat_map(|a| a.replicates)
            .collect(),
        seconds,
    ))
}

/// [`execute`] with a checkpoint after each block of people of each replicate
/// (`--checkpoint`, `--resume`): the blocks the checkpoint holds are not run again; the
/// files are assembled from it. People do not interact in `run` (no programmes), so a block
/// of a replicate runs alone as a study of its people (every draw is keyed by person id),
/// and a replicate's aggregate is the exact sum of its blocks'.
#[allow(clippy::too_many_arguments)]
fn execute_checkpointed(
    args: &RunArgs,
    identity: &serde_json::Value,
    study: &Study<HealthModel>,
    bar: &StudyBar,
    pseudo_prefix: &str,
    out: &OutputDir,
    ages: AgePrecision,
    first_person: u64,
) -> anyhow::Result<(Vec<Aggregator>, Vec<f64>)> {
    let sharded = args.shard.is_some();
    let (ck, done) = checkpoint::Checkpoint::open(out.path(), identity, args.resume)?;
    let causes = study.arms[0].model.causes_of_death();
    let pseudo = |id: u64| format!("{pseudo_prefix}-{id}");
    let blocks: Vec<(u64, std::ops::Range<usize>)> =
        parts(first_person, study.population.len()).collect();
    let total = blocks.len() * args.replicates as usize;
    if !done.is_empty() && !args.quiet {
        eprintln!(
            "resuming: {} of {total} blocks of people done (checkpoint in {})",
            done.len(),
            out.join(checkpoint::DIR).display()
        );
    }
    let mut aggregates = Vec::with_capacity(args.replicates as usize);
    let mut seconds = Vec::with_capacity(args.replicates as usize);
    for r in 0..args.replicates {
        let mut sum: Option<Aggregator> = None;
        let mut spent = 0.0;
        for (i, (k, b)) in blocks.iter().enumerate() {
            let last = i + 1 == blocks.len();
            let aggregate = if done.contains(&(r, *k)) {
                ck.block_aggregate(r, *k)?
            } else {
                let block = Study {
                    arms: study.arms.clone(),
                    population: study.population[b.clone()].to_vec(),
                    settings: study.settings,
                    draws: study.draws.clone(),
                    allocation: study.allocation.clone(),
                };
                let mut kept = None;
                study::run_replicates(&block, r..r + 1, bar, |ctx, run| -> anyhow::Result<()> {
                    let table = patients_table_with(r, ctx.patients, causes, &pseudo, ages);
                    let trace = (args.trace > 0)
                        .then(|| trace_table_with(r, args.start_year, &run.trace, ages));
                    spent += ctx.seconds;
                    ck.save(
                        r,
                        *k,
                        &part_name(r, *k),
                        &table,
                        trace.as_ref(),
                        &run.aggregate,
                        last,
                    )?;
                    kept = Some(run.aggregate);
                    Ok(())
                })?;
                kept.expect("one run of one arm")
            };
            match sum.as_mut() {
                None => sum = Some(aggregate),
                Some(s) => s.merge(&aggregate),
            }
        }
        aggregates.push(sum.expect("at least one block"));
        seconds.push(spent);
    }
    // The outputs, from the checkpoint (its part files are an uninterrupted run's; a
    // replicate's trace is its blocks' in order, as the people are).
    ck.place_patients(&out.join(PATIENTS_DIR))?;
    if args.trace > 0 {
        let mut tables = Vec::with_capacity(args.replicates as usize);
        for r in 0..args.replicates {
            let mut all: Option<Table> = None;
            for (k, _) in &blocks {
                let t = ck.trace_table(r, *k)?;
                match all.as_mut() {
                    None => all = Some(t),
                    Some(a) => a.extend(&t)?,
                }
            }
            tables.push(all.expect("at least one block"));
        }
        write_trace(out, &tables, !sharded)?;
    }
    ck.remove()?;
    Ok((aggregates, seconds))
}

/// trace.parquet (one row group per replicate) and, when `csv`, trace.csv (every replicate).
fn write_trace(out: &OutputDir, per_replicate: &[Table], csv: bool) -> anyhow::Result<()> {
    let mut sink = ParquetSink::create(&out.join("trace.parquet"), &per_replicate[0])?;
    for t in per_replicate {
        sink.write(t)?;
    }
    sink.finish()?;
    if csv {
        let mut all = per_replicate[0].clone();
        for t in &per_replicate[1..] {
            all.extend(t)?;
        }
        write_csv(&all, &out.join("trace.csv"))?;
    }
    Ok(())
}

/// `healthtwin merge` of `run` shards: the whole run's files from its shards' (checked).
pub fn merge(set: &shard::ShardSet, out_path: &std::path::Path, quiet: bool) -> anyhow::Result<()> {
    let started = Instant::now();
    let identity: RunIdentity = serde_json::from_value(set.identity.clone())
        .map_err(|e| input_error(format!("merge: the shards' run is not readable: {e}")))?;
    // Checked before anything is written.
    let parts = patient_parts(set, &identity)?;
    let out = output_dir(out_path, &RUN_FILES)?;
    let mut aggregates = Vec::with_capacity(identity.replicates as usize);
    set.merge_partials(1, identity.replicates, |_, _, run| {
        aggregates.push(run.aggregate);
        Ok(())
    })?;
    merge_patients(&parts, &identity, &out)?;
    if identity.trace_patients > 0 {
        let readers = set
            .folders
            .iter()
            .map(|d| ParquetGroups::open(&d.join("trace.parquet"), "trace"))
            .collect::<Result<Vec<_>, _>>()?;
        let mut per_replicate = Vec::new();
        for r in 0..identity.replicates as usize {
            let mut all: Option<Table> = None;
            for reader in &readers {
                let t = reader.read(r)?;
                match all.as_mut() {
                    None => all = Some(t),
                    Some(a) => a.extend(&t)?,
                }
            }
            per_replicate.push(all.expect("at least one shard"));
        }
        write_trace(&out, &per_replicate, true)?;
    }
    let threads = rayon::current_num_threads();
    write_run_outputs(
        &identity,
        &aggregates,
        out,
        threads,
        started,
        quiet,
        out_path,
    )
}

/// A shard's `patients/` folder, checked for the merge.
struct PatientPart {
    dir: std::path::PathBuf,
    first: u64,
    end: u64,
}

/// The shards' `patients/` folders, each checked to hold the part files its shard writes:
/// every part is in the shard's manifest (so [`shard::check_set`] checked its size and
/// footer) and holds the rows of its block in the shard's range.
fn patient_parts(
    set: &shard::ShardSet,
    identity: &RunIdentity,
) -> anyhow::Result<Vec<PatientPart>> {
    let mut out = Vec::with_capacity(set.folders.len());
    for (d, m) in set.folders.iter().zip(&set.manifests) {
        let (first, end) = (m.shard.first, m.shard.end);
        for r in 0..identity.replicates {
            for (k, b) in parts(first, (end - first) as usize) {
                let name = part_path(&part_name(r, k));
                let listed = m.parquet_footers.iter().any(|f| f.file == name);
                let rows = parquet_group_rows(&d.join(&name)).ok();
                if !listed || rows != Some(vec![b.len()]) {
                    return Err(input_error(format!(
                        "{}: {name}: missing, or not the rows of people {}..{} of replicate                          {r} (a changed or foreign file)",
                        d.display(),
                        first + b.start as u64,
                        first + b.end as u64,
                    )));
                }
            }
        }
        out.push(PatientPart {
            dir: d.join(PATIENTS_DIR),
            first,
            end,
        });
    }
    Ok(out)
}

/// `patients/` of a merge: the unsharded run's part files (one per replicate and block of
/// [`PATIENT_ROW_GROUP`] people). A block inside one shard is that shard's file, placed by
/// hard link (a copy across file systems); a block that shards cut (only when there are
/// fewer blocks than shards) is joined from their parts and encoded again. The folder is
/// filled under a temporary name and renamed into place when complete.
fn merge_patients(
    parts_of: &[PatientPart],
    identity: &RunIdentity,
    out: &OutputDir,
) -> anyhow::Result<()> {
    let dir = AtomicDir::create(&out.join(PATIENTS_DIR))?;
    for r in 0..identity.replicates {
        for (k, b) in parts(0, identity.people as usize) {
            let (lo, hi) = (b.start as u64, b.end as u64);
            let name = part_name(r, k);
            // The shards with people of this block.
            let pieces: Vec<&PatientPart> = parts_of
                .iter()
                .filter(|p| p.first < hi && p.end > lo)
                .collect();
            if let [p] = pieces[..] {
                link_or_copy(&p.dir.join(&name), &dir.join(&name))?;
            } else {
                let mut joined: Option<Table> = None;
                for p in pieces {
                    let t = ParquetGroups::open(&p.dir.join(&name), "patients")?.read(0)?;
                    match joined.as_mut() {
                        None => joined = Some(t),
                        Some(j) => j.extend(&t)?,
                    }
                }
                let t = joined.expect("every block is in some shard");
                write_parquet(&t, &dir.join(&name))?;
            }
        }
    }
    dir.commit()?;
    Ok(())
}

/// Every metric of the coupled model's `summary.csv`, as a Markdown table (docs/outputs.md
/// lists the same; a test checks that none is missing there). Programme metrics
/// (`ix_<name>_…`) exist only in runs with programmes and are described in docs/outputs.md.
pub fn metrics_markdown() -> String {
    use engine::observe::MetricKind;
    let model = HealthModel::new(LifeTable::mhlw_2024());
    let defs = engine::observe::metric_defs(model.causes_of_death(), &model.metrics());
    let mut out = String::from("| metric | kind | meaning |\n|---|---|---|\n");
    for d in defs {
        let kind = match d.kind {
            MetricKind::Prevalence => "prevalence (% of people alive at the census)",
            MetricKind::Mean => "mean",
            MetricKind::Incidence => "rate per 1,000 person-years at risk",
            MetricKind::Total => "count",
            MetricKind::PersonTime => "person-years",
        };
        out.push_str(&format!("| `{}` | {kind} | {} |\n", d.name, d.description));
    }
    out
}

/// Every parameter of the coupled model with its default, unit, accepted range and source,
/// as a Markdown table (`healthtwin params`).
pub fn params_markdown() -> String {
    let model = HealthModel::new(LifeTable::mhlw_2024());
    let mut out = String::from(
        "| parameter | default | unit | accepted range | source |\n|---|---|---|---|---|\n",
    );
    for p in model.params().iter() {
        let source = p.source.split_whitespace().collect::<Vec<_>>().join(" ");
        out.push_str(&format!(
            "| `{}` | {} | {} | {} to {} | {} |\n",
            p.name,
            p.value,
            p.unit,
            p.range.0,
            p.range.1,
            source.replace('|', "/")
        ));
    }
    out
}
