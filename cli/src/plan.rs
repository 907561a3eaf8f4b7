//! `healthtwin plan PLAN.toml`: a town's frailty-prevention plan (docs/planning.md): the
//! town's residents, the options and the capacity sweep on the same residents with common
//! random numbers, reported per fiscal year on the town's scale (terminal, CSV/Parquet,
//! charts, and a one-page HTML report in Japanese or English).

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;
use clap::Args;
use plan::report::{write_tables, PlanReport};
use plan::{Plan, PlanError, PlanOptions};
use report::html::Lang;
use report::write_atomic;
use serde::Serialize;

use crate::common::{ensure_dir, input_error, with_threads, StudyBar};

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
    language: &'a str,
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

/// A plan error as the command reports it: the user's input (exit 2) or a failure (1).
fn plan_error(e: PlanError) -> anyhow::Error {
    if e.is_input() {
        input_error(e.to_string())
    } else {
        anyhow::Error::new(e)
    }
}

pub fn plan(args: &PlanArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    let file = scenarios::plan::load(&args.plan).map_err(|e| input_error(e.to_string()))?;
    let opts = PlanOptions {
        residents: args.residents.clone(),
        replicates: args.replicates,
        years: args.years,
        seed: args.seed,
        psa: args.psa,
        sample: args.sample,
        threshold: args.threshold,
    };
    // Everything the user gave is read and checked before anything is written.
    let plan = with_threads(args.threads, || Plan::new(file, &opts))?.map_err(plan_error)?;
    ensure_dir(&args.out)?;
    let manifest_path = args.out.join("manifest.json");
    if manifest_path.exists() {
        fs::remove_file(&manifest_path)
            .with_context(|| format!("cannot replace {}", manifest_path.display()))?;
    }
    let bar = StudyBar::new(plan.study.total_patient_years(), args.quiet);
    let results = with_threads(args.threads, || plan.run(&bar))?.map_err(plan_error)?;
    bar.finish();
    let threads = with_threads(args.threads, rayon::current_num_threads)?;

    let report = PlanReport::new(&plan, &results, args.lang);
    let mut files = write_tables(&report, &args.out)?;
    files.extend(report.write_charts(&args.out)?);
    files.push(report.write_html(&args.out)?);

    let names = |places: &[(usize, u64)]| -> Vec<(String, u64)> {
        places
            .iter()
            .map(|&(k, n)| (plan.programme_names[k].clone(), n))
            .collect()
    };
    let residents_file = match &plan.file.structure {
        scenarios::plan::Structure::Residents(p) => Some(p.clone()),
        scenarios::plan::Structure::Scaled { path, .. } => Some(path.clone()),
        scenarios::plan::Structure::National { .. } => None,
    };
    let manifest = PlanManifest {
        healthtwin_version: env!("CARGO_PKG_VERSION"),
        git_commit: env!("HEALTHTWIN_GIT_COMMIT"),
        plan: args.plan.display().to_string(),
        plan_sha256: sha256_file(&args.plan),
        residents_sha256: residents_file.as_deref().map(sha256_file),
        residents_file: residents_file.map(|p| p.display().to_string()),
        town_name: plan.file.town_name.clone(),
        start_fiscal_year: plan.file.start_fiscal_year,
        years: plan.study.settings.years,
        replicates: plan.study.settings.replicates,
        seed: plan.study.settings.seed,
        step_months: plan.study.settings.step_months,
        psa_draws: args.psa,
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
        language: args.lang.code(),
        threads,
        patient_years: results.person_years,
        wall_time_seconds: started.elapsed().as_secs_f64(),
        files: files.clone(),
    };
    write_atomic(
        &manifest_path,
        serde_json::to_string_pretty(&manifest)?.as_bytes(),
    )?;
    if !args.quiet {
        // The terminal speaks English, whatever the report's language.
        print!(
            "{}",
            PlanReport::new(&plan, &results, Lang::En).text(threads)
        );
        println!("Report: {}", args.out.join("plan_report.html").display());
    }
    Ok(())
}
