//! `healthtwin run` and `healthtwin cohort synth`.

use std::fs;
use std::time::Instant;

use anyhow::Context;
use cohort::{Generator, SyntheticSpec};
use engine::observe::metric_defs;
use engine::summary::summarize;
use engine::{Aggregator, Model};
use models::mortality::LifeTable;
use models::HealthModel;
use report::outputs::{cohort_table, patients_table, summary_table, trace_table};
use report::{write_atomic, write_csv, write_parquet, ParquetSink};
use serde::Serialize;
use sha2::{Digest, Sha256};
use study::headline::Headline;
use study::{Arm, Settings, Streams, Study};

use crate::args::{PopulationArgs, RunArgs, SynthArgs};
use crate::common::{ensure_dir, input_error, with_threads, StudyBar};

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
        n: u64,
    },
}

#[derive(Serialize)]
struct RunManifest<'a> {
    healthtwin_version: &'a str,
    git_commit: &'a str,
    seed: u64,
    patients: u64,
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
    let people = generator.generate();
    if let Some(parent) = args.out.parent().filter(|p| !p.as_os_str().is_empty()) {
        ensure_dir(parent)?;
    }
    let seed = args.seed;
    let table = cohort_table(&people, &|id| format!("syn-{seed}-{id}"));
    if ext == "csv" {
        write_csv(&table, &args.out)?;
    } else {
        write_parquet(&table, &args.out)?;
    }
    eprintln!(
        "wrote {} synthetic people (seed {seed}) to {}",
        people.len(),
        args.out.display()
    );
    Ok(())
}

pub fn run(args: &RunArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    let model = crate::calibrate::model_with_file(args.params.as_deref(), &args.set)?;
    // Everything the user supplied is checked before anything is written.
    let (cohort, population, pseudo_prefix) = match &args.cohort {
        Some(path) => {
            let bytes = fs::read(path)
                .map_err(|e| input_error(format!("{}: cannot read: {e}", path.display())))?;
            let people = cohort::file::read(path).map_err(|e| input_error(e.to_string()))?;
            let n = people.len() as u64;
            (
                people,
                Population::CohortFile {
                    path: path.display().to_string(),
                    sha256: sha256_hex(&bytes),
                    n,
                },
                "cohort".to_string(),
            )
        }
        None => {
            let generator = generator(args.patients, args.seed, &args.population)?;
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
    ensure_dir(&args.out)?;
    // A folder without manifest.json holds no complete run: remove a stale one first.
    let manifest_path = args.out.join("manifest.json");
    if manifest_path.exists() {
        fs::remove_file(&manifest_path)
            .with_context(|| format!("cannot replace {}", manifest_path.display()))?;
    }

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
    };
    let bar = StudyBar::new(study.total_patient_years(), args.quiet);
    let aggregates = with_threads(args.threads, || execute(args, &study, &bar, &pseudo_prefix))??;
    bar.finish();
    let threads = with_threads(args.threads, rayon::current_num_threads)?;
    let model = &study.arms[0].model;

    let causes = model.causes_of_death();
    let defs = metric_defs(causes, &model.metrics());
    let rows = summarize(&aggregates, &defs);
    let summary = summary_table(&scenario.name, args.start_year, &rows, &defs);
    write_csv(&summary, &args.out.join("summary.csv"))?;
    write_parquet(&summary, &args.out.join("summary.parquet"))?;
    let mut files = vec!["summary.csv", "summary.parquet", "patients.parquet"];
    if args.trace > 0 {
        files.extend(["trace.csv", "trace.parquet"]);
    }
    let param_text = format!("{}{}", model.canonical(), cohort::japan::canonical());
    let manifest = RunManifest {
        healthtwin_version: env!("CARGO_PKG_VERSION"),
        git_commit: env!("HEALTHTWIN_GIT_COMMIT"),
        seed: args.seed,
        patients: study.population.len() as u64,
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
    };
    write_atomic(
        &manifest_path,
        serde_json::to_string_pretty(&manifest)?.as_bytes(),
    )?;
    if !args.quiet {
        let headline = Headline {
            aggregates: &aggregates,
            defs: &defs,
            people: study.population.len(),
            start_year: args.start_year,
            seed: args.seed,
            seconds: started.elapsed().as_secs_f64(),
        };
        print!("{}", headline.render());
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
) -> anyhow::Result<Vec<Aggregator>> {
    let causes = study.arms[0].model.causes_of_death();
    let pseudo = |id: u64| format!("{pseudo_prefix}-{id}");
    let mut patients_sink: Option<ParquetSink> = None;
    let mut trace_rows = Vec::new();
    let results = study::run(study, bar, |ctx, out| -> anyhow::Result<Aggregator> {
        for chunk in ctx.patients.chunks(PATIENT_ROW_GROUP) {
            let table = patients_table(ctx.replicate, chunk, causes, &pseudo);
            match patients_sink.as_mut() {
                Some(sink) => sink.write(&table)?,
                None => {
                    let mut sink = ParquetSink::create(&args.out.join("patients.parquet"), &table)?;
                    sink.write(&table)?;
                    patients_sink = Some(sink);
                }
            }
        }
        if args.trace > 0 {
            trace_rows.push(trace_table(ctx.replicate, args.start_year, &out.trace));
        }
        Ok(out.aggregate)
    })?;
    if let Some(sink) = patients_sink {
        sink.finish()?;
    }
    if args.trace > 0 {
        let mut sink = ParquetSink::create(&args.out.join("trace.parquet"), &trace_rows[0])?;
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
        write_csv(&all, &args.out.join("trace.csv"))?;
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
