//! `healthtwin run` and `healthtwin cohort synth`.

use std::fs;
use std::time::Instant;

use cohort::{Generator, SyntheticSpec};
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
    provenance, write_csv, write_parquet, write_parquet_with_metadata, OutputDir, ParquetSink,
};
use serde::Serialize;
use sha2::{Digest, Sha256};
use study::headline::Headline;
use study::{Arm, Settings, Streams, Study};

use crate::args::{PopulationArgs, RunArgs, SynthArgs};
use crate::common::{
    input_error, output_dir, output_file, with_threads, DisclosureManifest, Provenance, StudyBar,
};
use crate::memory::{self, Footprint};

/// Rows per Parquet row group of patients.parquet: bounds memory for any cohort size.
const PATIENT_ROW_GROUP: usize = 65_536;

/// The resolved scenario recorded in the manifest.
#[derive(Serialize, Clone, Debug)]
pub struct RunDescription {
    pub name: String,
    pub population: Population,
    pub start_year: i64,
    pub years: u32,
    pub step_months: u32,
    pub modules: Vec<String>,
    pub interventions: Vec<String>,
}

#[derive(Serialize, Clone, Debug)]
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
        origin: &'static str,
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
    /// `exact`, or `whole months` for real people (patients.parquet, trace).
    person_level_ages: &'static str,
}

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

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

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

/// The files `run` writes besides manifest.json (stale ones of an earlier run are removed).
pub const RUN_FILES: [&str; 5] = [
    "summary.csv",
    "summary.parquet",
    "patients.parquet",
    "trace.csv",
    "trace.parquet",
];

pub fn run(args: &RunArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    let model = crate::calibrate::model_with_file(args.params.as_deref(), &args.set)?;
    let metrics = metric_defs(model.causes_of_death(), &model.metrics()).len();
    let footprint = |size_flag, people| Footprint {
        size_flag,
        people,
        bytes_per_person: memory::SIMULATED_PERSON_BYTES,
        other_bytes: memory::FIXED_BYTES
            + memory::aggregate_bytes(args.years, metrics, u64::from(args.replicates)),
        threads: memory::threads(args.threads),
    };
    let min_cell = args.disclosure.min_cell;
    // Everything the user supplied is checked before anything is written.
    let (cohort, population, pseudo_prefix, provenance) = match &args.cohort {
        Some(path) => {
            let provenance =
                Provenance::cohort_file(path, min_cell, args.disclosure.allow_demo_key)?;
            let rows = provenance.cohort_file.as_ref().and_then(|i| i.rows);
            if let Some(rows) = rows {
                memory::check(&footprint("--cohort with rows", rows))?;
            }
            let bytes = fs::read(path)
                .map_err(|e| input_error(format!("{}: cannot read: {e}", path.display())))?;
            let people = cohort::file::read(path).map_err(|e| input_error(e.to_string()))?;
            let n = people.len() as u64;
            if rows.is_none() {
                memory::check(&footprint("--cohort with rows", n))?;
            }
            (
                people,
                Population::CohortFile {
                    path: path.display().to_string(),
                    sha256: sha256_hex(&bytes),
                    n: provenance.policy.shown(n),
                    origin: provenance.origin(),
                },
                "cohort".to_string(),
                provenance,
            )
        }
        None => {
            let provenance = Provenance::synthetic(min_cell)?;
            let generator = generator(args.patients, args.seed, &args.population)?;
            memory::check(&footprint("--patients", args.patients))?;
            let people = generator.generate();
            (
                people,
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
    let scenario = RunDescription {
        name: "baseline".into(),
        population,
        start_year: args.start_year,
        years: args.years,
        step_months: args.step_months,
        modules: models::MODULES.iter().map(|m| m.to_string()).collect(),
        interventions: vec![],
    };
    // Locked, writable, without a manifest and without stale files of an earlier run.
    let out = output_dir(&args.out, &RUN_FILES)?;

    let study = Study {
        arms: vec![Arm {
            name: scenario.name.clone(),
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
    let aggregates = with_threads(args.threads, || {
        execute(args, &study, &bar, &pseudo_prefix, &out, ages)
    })??;
    bar.finish();
    let threads = with_threads(args.threads, rayon::current_num_threads)?;
    let model = &study.arms[0].model;

    let causes = model.causes_of_death();
    let defs = metric_defs(causes, &model.metrics());
    let rows = summarize(&aggregates, &defs);
    let policy = provenance.policy;
    let disclosure = SummaryDisclosure::new(&aggregates, &defs, policy);
    let summary =
        summary_table_disclosed(&scenario.name, args.start_year, &rows, &defs, &disclosure);
    write_csv(&summary, &out.join("summary.csv"))?;
    write_parquet(&summary, &out.join("summary.parquet"))?;
    let mut files = vec!["summary.csv", "summary.parquet", "patients.parquet"];
    if args.trace > 0 {
        files.extend(["trace.csv", "trace.parquet"]);
    }
    let param_text = format!("{}{}", model.canonical(), cohort::japan::canonical());
    let people = study.population.len() as u64;
    let manifest = RunManifest {
        healthtwin_version: env!("CARGO_PKG_VERSION"),
        git_commit: env!("HEALTHTWIN_GIT_COMMIT"),
        seed: args.seed,
        patients: policy.shown(people),
        years: args.years,
        step_months: args.step_months,
        replicates: args.replicates,
        threads,
        chunk_size: args.chunk_size,
        trace_patients: args.trace,
        scenario: &scenario,
        parameter_hash_sha256: sha256_hex(param_text.as_bytes()),
        wall_time_seconds: started.elapsed().as_secs_f64(),
        files,
        disclosure: policy.record(disclosure.count()).into(),
        person_level_ages: match ages {
            AgePrecision::Exact => "exact",
            AgePrecision::WholeMonths => "whole months",
        },
    };
    out.commit(serde_json::to_string_pretty(&manifest)?.as_bytes())?;
    if !args.quiet {
        let headline = Headline {
            aggregates: &aggregates,
            defs: &defs,
            people: study.population.len(),
            start_year: args.start_year,
            seed: args.seed,
            seconds: started.elapsed().as_secs_f64(),
        };
        print!("{}", headline.render_disclosed(&disclosure));
        println!(
            "\nFiles in {}: summary.csv, summary.parquet, patients.parquet{}, manifest.json (docs/outputs.md)",
            args.out.display(),
            if args.trace > 0 {
                ", trace.csv, trace.parquet"
            } else {
                ""
            }
        );
    }
    Ok(())
}

/// Runs the study, streaming each replicate's people into patients.parquet (and the trace);
/// returns each replicate's aggregates.
fn execute(
    args: &RunArgs,
    study: &Study<HealthModel>,
    bar: &StudyBar,
    pseudo_prefix: &str,
    out: &OutputDir,
    ages: AgePrecision,
) -> anyhow::Result<Vec<Aggregator>> {
    let causes = study.arms[0].model.causes_of_death();
    let pseudo = |id: u64| format!("{pseudo_prefix}-{id}");
    let mut patients_sink: Option<ParquetSink> = None;
    let mut trace_rows = Vec::new();
    let results = study::run(study, bar, |ctx, run| -> anyhow::Result<Aggregator> {
        for chunk in ctx.patients.chunks(PATIENT_ROW_GROUP) {
            let table = patients_table_with(ctx.replicate, chunk, causes, &pseudo, ages);
            match patients_sink.as_mut() {
                Some(sink) => sink.write(&table)?,
                None => {
                    let mut sink = ParquetSink::create(&out.join("patients.parquet"), &table)?;
                    sink.write(&table)?;
                    patients_sink = Some(sink);
                }
            }
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
    if let Some(sink) = patients_sink {
        sink.finish()?;
    }
    if args.trace > 0 {
        let mut sink = ParquetSink::create(&out.join("trace.parquet"), &trace_rows[0])?;
        for t in &trace_rows {
            sink.write(t)?;
        }
        sink.finish()?;
        let mut all = trace_rows[0].clone();
        for t in &trace_rows[1..] {
            for ((_, a), (_, b)) in all.columns.iter_mut().zip(&t.columns) {
                append(a, b);
            }
        }
        write_csv(&all, &out.join("trace.csv"))?;
    }
    Ok(results
        .arms
        .into_iter()
        .flat_map(|a| a.replicates)
        .collect())
}

fn append(a: &mut report::Values, b: &report::Values) {
    use report::Values::*;
    match (a, b) {
        (Int(a), Int(b)) => a.extend_from_slice(b),
        (Float(a), Float(b)) => a.extend_from_slice(b),
        (Text(a), Text(b)) => a.extend_from_slice(b),
        (Bool(a), Bool(b)) => a.extend_from_slice(b),
        _ => unreachable!("trace tables of one run share their columns"),
    }
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
