//! `healthtwin compare A.toml B.toml …`: every scenario on the same people with common
//! random numbers (the same `RunKey` per replicate; every draw is keyed by (seed, replicate,
//! process, patient, step)), paired differences against the first, charts, and PSA.

use std::fs;
use std::path::{Path, PathBuf};

use std::time::Instant;

use clap::Args;
use scenarios::Source;
use serde::Serialize;
use study::outcomes::MEASURES;
use study::report::Report;
use study::{CompareOptions, Comparison, Streams};

use crate::args::DisclosureArgs;
use crate::common::{
    input_error, output_dir, with_threads, DisclosureManifest, Provenance, StudyBar,
};
use crate::memory::{self, Footprint};

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

pub fn compare(args: &CompareArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    let mut scenarios = Vec::new();
    for p in &args.scenarios {
        scenarios.push(scenarios::load(p).map_err(|e| input_error(e.to_string()))?);
    }
    let posterior = match &args.posterior {
        Some(p) => {
            Some(calibration::output::read_posterior(p).map_err(|e| input_error(e.to_string()))?)
        }
        None => None,
    };
    let opts = CompareOptions {
        posterior,
        patients: args.patients,
        years: args.years,
        replicates: args.replicates,
        seed: args.seed,
        psa: args.psa,
        streams: if args.independent {
            Streams::Independent
        } else {
            Streams::Common
        },
        population_from: args.population_from as usize - 1,
    };
    // The shared population decides disclosure control and the memory needed, before any
    // person is generated or read.
    let provenance = match scenarios
        .get(opts.population_from)
        .map(|p| &p.population.source)
    {
        Some(Source::CohortFile { path }) => Provenance::cohort_file(
            path,
            args.disclosure.min_cell,
            args.disclosure.allow_demo_key,
        )?,
        _ => Provenance::synthetic(args.disclosure.min_cell)?,
    };
    if let Some(shared) = scenarios.get(opts.population_from) {
        let (size_flag, people) = match &shared.population.source {
            Source::Synthetic { n, .. } => match args.patients {
                Some(p) => ("--patients", Some(p)),
                None => ("population.n", Some(*n)),
            },
            Source::CohortFile { .. } => (
                "population.file with rows",
                provenance.cohort_file.as_ref().and_then(|i| i.rows),
            ),
        };
        if let Some(people) = people {
            let years = args.years.unwrap_or(shared.years);
            let replicates = u64::from(args.psa.or(args.replicates).unwrap_or(shared.replicates));
            // Outcomes per run: years × 22 bands × (15 measures + person-years) × 8 bytes.
            let per_run = u64::from(years) * 22 * 16 * 8;
            memory::check(&Footprint {
                size_flag,
                people,
                bytes_per_person: memory::SIMULATED_PERSON_BYTES,
                other_bytes: memory::FIXED_BYTES + replicates * scenarios.len() as u64 * per_run,
                threads: memory::threads(args.threads),
            })?;
        }
    }
    let comparison = with_threads(args.threads, || Comparison::new(scenarios, &opts))?
        .map_err(|e| input_error(e.to_string()))?;
    // Locked, writable, without a manifest and without stale files of an earlier run.
    let out = output_dir(&args.out, &study::report::FILES)?;
    let bar = StudyBar::new(comparison.study.total_patient_years(), args.quiet);
    // The only failures of a comparison's run are parameter draws outside their ranges.
    let results = with_threads(args.threads, || comparison.run(&bar))?
        .map_err(|e| input_error(e.to_string()))?;
    bar.finish();
    let threads = with_threads(args.threads, rayon::current_num_threads)?;

    let policy = provenance.policy;
    let report = Report::new(&comparison, &results).with_disclosure(policy);
    let files = report.write(out.path())?;
    let settings = &comparison.study.settings;
    let manifest = CompareManifest {
        healthtwin_version: env!("CARGO_PKG_VERSION"),
        git_commit: env!("HEALTHTWIN_GIT_COMMIT"),
        scenarios: comparison
            .scenarios
            .iter()
            .zip(&results)
            .map(|(p, r)| CompareManifestScenario {
                name: p.name.clone(),
                file: p.file.display().to_string(),
                sha256: sha256_file(&p.file),
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
        psa_draws: args.psa,
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
        psa_posterior: args.posterior.as_ref().map(|p| p.display().to_string()),
        discount_rate: comparison.discount_rate,
        represents: comparison.represents,
        threads,
        wall_time_seconds: started.elapsed().as_secs_f64(),
        notes: comparison.notes.clone(),
        files: files.clone(),
        disclosure: report.disclosure().into(),
    };
    out.commit(serde_json::to_string_pretty(&manifest)?.as_bytes())?;
    if !args.quiet {
        print!("{}", report.text(threads));
        println!("Files in {}", args.out.display());
    }
    Ok(())
}
