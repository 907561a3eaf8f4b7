//! `healthtwin twin`: one person's digital twin (a person file, a pseudonym of an imported
//! cohort, or FHIR input) — personalised, forecast with counterfactuals, the clinician's
//! report, FHIR RiskAssessments, alerts; `--cohort DIR` without `--pseudonym`: risk
//! stratification of the whole cohort; `twin validate`: forecast validation; `twin bench`:
//! the performance benchmarks (docs/twin.md).
//!
//! Must never: print a name or identifier (pseudonyms and file labels only).

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;
use clap::{Args, Subcommand, ValueEnum};
use cohort::import::{date, pseudo::Pseudonymiser};
use models::interventions::Kind;
use report::html::Lang;
use report::{write_atomic, write_csv, write_parquet, Table};
use twin::alerts::{alerts, Alert, AlertRule};
use twin::forecast::Outcome;
use twin::output::{self, Builder, V};
use twin::sources::CohortFolder;
use twin::stratify::{self, StratifySettings, TrialFilter};
use twin::validate::{self, Truth, ValidationSettings};
use twin::{
    CounterfactualPlan, ForecastSettings, PersonRecord, PersonaliseSettings, TwinError,
    TwinSettings,
};

use crate::common::{ensure_dir, input_error, model_with, output_dir, with_threads};
use crate::shard;
use serde::{Deserialize, Serialize};

#[derive(Args, Debug)]
#[command(args_conflicts_with_subcommands = true)]
pub struct TwinCommand {
    #[command(subcommand)]
    pub action: Option<TwinAction>,
    #[command(flatten)]
    pub args: TwinArgs,
}

#[derive(Subcommand, Debug)]
pub enum TwinAction {
    /// Forecast validation: synthetic people with hidden true parameters (or an imported
    /// cohort cut at a date), personalised against population-only forecasts.
    Validate(ValidateArgs),
    /// Benchmarks: one person (1,000 futures × 30 years, 6 counterfactuals) and a cohort.
    Bench(TwinBenchArgs),
}

#[derive(Args, Debug)]
pub struct TwinArgs {
    /// A person file (TOML or JSON with a history: docs/twin.md).
    #[arg(long, value_name = "FILE")]
    pub person: Option<PathBuf>,
    /// An imported cohort folder (`cohort import --out`): with --pseudonym, that person's
    /// twin; without, risk stratification of everyone.
    #[arg(long, value_name = "DIR")]
    pub cohort: Option<PathBuf>,
    /// The pseudonym (`pseudo_id`) of one person of --cohort.
    #[arg(long)]
    pub pseudonym: Option<String>,
    /// FHIR R4 input of one patient (a Bundle `.json` or NDJSON); needs --index-date and a
    /// pseudonymisation key (--key-file, HEALTHTWIN_PSEUDONYM_KEY, or --demo).
    #[arg(long, value_name = "PATH")]
    pub fhir: Vec<PathBuf>,
    /// Index date of FHIR input (YYYY-MM-DD).
    #[arg(long, value_name = "DATE")]
    pub index_date: Option<String>,
    #[arg(long, value_name = "FILE")]
    pub key_file: Option<PathBuf>,
    /// Use the published demo key for FHIR input (synthetic and test data only).
    #[arg(long)]
    pub demo: bool,
    /// Simulated futures of the person (K copies).
    #[arg(long, short = 'k', value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub futures: Option<u32>,
    /// Years to forecast (1–30).
    #[arg(long, short = 'y', default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..=30))]
    pub years: u32,
    #[arg(long, short = 's', default_value_t = 1)]
    pub seed: u64,
    /// Prior particles of the glycaemic block.
    #[arg(long, default_value_t = 2000, value_parser = clap::value_parser!(u32).range(16..=1_000_000))]
    pub particles: u32,
    /// Interventions to compare, comma-separated (default: those applicable to the person;
    /// kinds as in scenario files: intensive_lifestyle, metformin, statin, antihypertensive,
    /// smoking_cessation, exercise_nutrition, community_salon, glucose_intensification,
    /// health_check).
    #[arg(long, value_delimiter = ',')]
    pub interventions: Vec<String>,
    /// Usual care only.
    #[arg(long)]
    pub no_counterfactuals: bool,
    /// No personalisation: the population model from the index-date values.
    #[arg(long)]
    pub population_only: bool,
    /// Report language.
    #[arg(long, default_value = "ja")]
    pub lang: String,
    /// Score every reading against the twin's one-step-ahead forecast and write alerts.
    #[arg(long)]
    pub alerts: bool,
    /// Two-sided predictive p-value below which one reading alerts.
    #[arg(long, default_value_t = 0.01)]
    pub alert_p: f64,
    /// Readings in a row beyond the tail that make a sustained drift (0: off).
    #[arg(long, default_value_t = 3)]
    pub drift_run: usize,
    /// Tail probability of each reading of a drift run.
    #[arg(long, default_value_t = 0.10)]
    pub drift_tail: f64,
    /// Only readings from this many years before the index date alert (default: all).
    #[arg(long)]
    pub alerts_since_years: Option<f64>,
    /// Cohort mode: people per study run.
    #[arg(long, default_value_t = 256)]
    pub batch: usize,
    /// Cohort mode: rank by OUTCOME:YEARS (e.g. t2d:10, mi:5, care_any:10).
    #[arg(long, default_value = "t2d:10")]
    pub rank_by: String,
    /// Cohort mode: trial eligibility OUTCOME:YEARS:MIN[:MAX] by predicted risk.
    #[arg(long)]
    pub trial: Option<String>,
    /// Cohort mode: aggregate cells of fewer people are suppressed.
    #[arg(long, default_value_t = 10)]
    pub disclosure_threshold: usize,
    /// Set a model parameter by name (repeatable).
    #[arg(long = "set", value_name = "NAME=VALUE")]
    pub set: Vec<String>,
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub threads: Option<u16>,
    /// Output folder.
    #[arg(long, short = 'o', default_value = "out/twin")]
    pub out: PathBuf,
    #[arg(long, short = 'q')]
    pub quiet: bool,
    /// Cohort mode: run shard I of N (0-based), a contiguous range of whole batches of the
    /// cohort's people, written as a partial folder for `healthtwin merge` (docs/shards.md).
    #[arg(long, value_name = "I/N", value_parser = crate::shard::parse_shard)]
    pub shard: Option<crate::shard::Shard>,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum TruthArg {
    /// Hidden parameters from the twin's prior (person slopes and drift included).
    TwinPrior,
    /// The population model as it is (the twin's prior is then misspecified).
    Population,
}

#[derive(Args, Debug)]
pub struct ValidateArgs {
    #[arg(long, default_value_t = 1000)]
    pub people: usize,
    #[arg(long, default_value_t = 5)]
    pub history_years: u32,
    #[arg(long, default_value_t = 5)]
    pub horizon: u32,
    #[arg(long, default_value_t = 200)]
    pub futures: usize,
    #[arg(long, default_value_t = 600)]
    pub particles: usize,
    #[arg(long, value_enum, default_value_t = TruthArg::TwinPrior)]
    pub truth: TruthArg,
    /// Probability of attending each yearly check-up of the history.
    #[arg(long, default_value_t = 0.8)]
    pub attendance: f64,
    /// Validate on an imported cohort instead, cut --cut-years before its index date.
    #[arg(long, value_name = "DIR")]
    pub cohort: Option<PathBuf>,
    #[arg(long, default_value_t = 5.0)]
    pub cut_years: f64,
    /// Write the synthetic people's records as a plain-CSV import input (persons.csv,
    /// records.csv; index date 2024-04-01) to DIR, for `cohort import --csv`.
    #[arg(long, value_name = "DIR")]
    pub write_csv: Option<PathBuf>,
    #[arg(long, short = 's', default_value_t = 1)]
    pub seed: u64,
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub threads: Option<u16>,
    /// Output folder (validation.csv, validation.json).
    #[arg(long, short = 'o', default_value = "out/twin-validation")]
    pub out: PathBuf,
}

#[derive(Args, Debug)]
pub struct TwinBenchArgs {
    #[arg(long, default_value_t = 1000)]
    pub futures: usize,
    #[arg(long, default_value_t = 30)]
    pub years: u32,
    /// Repeats of the one-person benchmark (the median is reported).
    #[arg(long, default_value_t = 3)]
    pub repeats: usize,
    /// Step length in months (1 or 3, as `run`).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=3))]
    pub step_months: u32,
    #[arg(long, default_value_t = 2000)]
    pub particles: usize,
    /// Also score every reading against its one-step prediction, as `twin --alerts` does
    /// (the default is `twin --person`'s work: the fit for the report, no alert scoring).
    #[arg(long)]
    pub alerts: bool,
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub threads: Option<u16>,
}

fn twin_err(e: TwinError) -> anyhow::Error {
    match e {
        TwinError::Input(m) => input_error(m),
        other => anyhow::Error::new(other),
    }
}

fn parse_kinds(names: &[String]) -> anyhow::Result<Vec<Kind>> {
    names
        .iter()
        .filter(|n| !n.trim().is_empty())
        .map(|n| {
            Kind::from_name(n.trim()).ok_or_else(|| {
                input_error(format!(
                    "--interventions: unknown intervention `{}` (one of {})",
                    n.trim(),
                    Kind::ALL
                        .iter()
                        .map(|k| k.name())
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            })
        })
        .collect()
}

fn parse_outcome_years(flag: &str, s: &str) -> anyhow::Result<(Outcome, u32, Vec<f64>)> {
    let parts: Vec<&str> = s.split(':').collect();
    let bad = || {
        input_error(format!(
            "{flag} {s}: expected OUTCOME:YEARS[:...] with OUTCOME one of {}",
            Outcome::ALL
                .iter()
                .map(|o| o.name())
                .collect::<Vec<_>>()
                .join(", ")
        ))
    };
    if parts.len() < 2 {
        return Err(bad());
    }
    let o = Outcome::parse(parts[0]).ok_or_else(bad)?;
    let y: u32 = parts[1].parse().map_err(|_| bad())?;
    if !(1..=30).contains(&y) {
        return Err(input_error(format!("{flag} {s}: YEARS must be 1-30")));
    }
    let rest: Vec<f64> = parts[2..]
        .iter()
        .map(|p| p.parse::<f64>().map_err(|_| bad()))
        .collect::<Result<_, _>>()?;
    Ok((o, y, rest))
}

fn write_table(t: &Table, dir: &Path, stem: &str) -> anyhow::Result<()> {
    write_csv(t, &dir.join(format!("{stem}.csv")))?;
    write_parquet(t, &dir.join(format!("{stem}.parquet")))?;
    Ok(())
}

/// Removes a stale manifest first: a folder without one holds no complete output.
fn begin_output(dir: &Path) -> anyhow::Result<PathBuf> {
    ensure_dir(dir)?;
    let m = dir.join("manifest.json");
    if m.exists() {
        fs::remove_file(&m).with_context(|| format!("cannot replace {}", m.display()))?;
    }
    Ok(m)
}

pub fn twin(cmd: &TwinCommand) -> anyhow::Result<()> {
    match &cmd.action {
        Some(TwinAction::Validate(v)) => with_threads(v.threads, || validate_cmd(v))?,
        Some(TwinAction::Bench(b)) => with_threads(b.threads, || bench(b))?,
        None => with_threads(cmd.args.threads, || run(&cmd.args))?,
    }
}

fn run(a: &TwinArgs) -> anyhow::Result<()> {
    let lang = Lang::parse(&a.lang)
        .ok_or_else(|| input_error(format!("--lang {}: use ja or en", a.lang)))?;
    let sources = usize::from(a.person.is_some())
        + usize::from(a.cohort.is_some())
        + usize::from(!a.fhir.is_empty());
    if sources != 1 {
        return Err(input_error(
            "give exactly one of --person FILE, --cohort DIR or --fhir PATH",
        ));
    }
    if a.pseudonym.is_some() && a.cohort.is_none() {
        return Err(input_error("--pseudonym needs --cohort DIR"));
    }
    if !(a.alert_p > 0.0 && a.alert_p < 1.0 && a.drift_tail > 0.0 && a.drift_tail < 0.5) {
        return Err(input_error(
            "--alert-p must be in (0, 1) and --drift-tail in (0, 0.5)",
        ));
    }
    let model = model_with(&a.set)?;
    let kinds = parse_kinds(&a.interventions)?;
    if let (Some(dir), None) = (&a.cohort, &a.pseudonym) {
        return stratify_cmd(a, dir, &model);
    }
    if a.shard.is_some() {
        return Err(input_error(
            "--shard: only the stratification of a cohort (--cohort DIR without --pseudonym) \
             shards",
        ));
    }
    let person: PersonRecord = if let Some(f) = &a.person {
        twin::person_file::read(f).map_err(twin_err)?
    } else if let Some(dir) = &a.cohort {
        let folder = CohortFolder::open(dir).map_err(twin_err)?;
        let ps = a.pseudonym.as_deref().unwrap_or_default();
        let row = folder.find(ps).ok_or_else(|| {
            input_error(format!(
                "--pseudonym: no such pseudonym in {}/cohort.parquet",
                dir.display()
            ))
        })?;
        let mut found = None;
        folder
            .for_each_batch(1, Some(row), |mut v| {
                found = v.pop();
                Ok(())
            })
            .map_err(twin_err)?;
        found.ok_or_else(|| input_error("the person could not be read"))?
    } else {
        let idx = a
            .index_date
            .as_deref()
            .ok_or_else(|| input_error("--fhir needs --index-date YYYY-MM-DD"))?;
        let day = date::parse(idx)
            .filter(|d| d.precision == date::Precision::Day)
            .ok_or_else(|| input_error(format!("--index-date {idx}: expected YYYY-MM-DD")))?
            .day;
        let env_key = std::env::var_os(cohort::import::pseudo::KEY_ENV)
            .map(|v| v.to_string_lossy().into_owned().into_bytes());
        let pseudo = Pseudonymiser::from_sources(a.key_file.as_deref(), env_key.as_deref(), a.demo)
            .map_err(|e| input_error(e.to_string()))?;
        if pseudo.is_demo() {
            eprintln!("WARNING: DEMO MODE: pseudonyms made with the PUBLISHED demo key; for synthetic or test data only.");
        }
        let spill = std::env::temp_dir().join(format!("healthtwin-twin-{}", std::process::id()));
        fs::create_dir_all(&spill).with_context(|| format!("cannot create {}", spill.display()))?;
        let people = twin::sources::from_fhir(&a.fhir, day, pseudo, &spill);
        let _ = fs::remove_dir_all(&spill);
        let mut people = people.map_err(twin_err)?;
        if people.len() != 1 {
            return Err(input_error(format!(
                "--fhir holds {} people: give one patient (or import them with `cohort import` and use --cohort)",
                people.len()
            )));
        }
        people.remove(0)
    };
    let plan = if a.no_counterfactuals {
        CounterfactualPlan::None
    } else if kinds.is_empty() {
        CounterfactualPlan::Default
    } else {
        CounterfactualPlan::Singles(kinds)
    };
    let s = TwinSettings {
        personalise: PersonaliseSettings {
            particles: a.particles as usize,
            seed: a.seed,
            scores: true,
            // The one-step predictions are read by the alerts only.
            one_step: a.alerts,
        },
        forecast: ForecastSettings {
            futures: a.futures.unwrap_or(1000) as usize,
            years: a.years,
            seed: a.seed,
            step_months: 1,
        },
        counterfactuals: plan,
        population_only: a.population_only,
    };
    let started = Instant::now();
    let t = twin::run_twin(&model, &person, &s).map_err(twin_err)?;
    let rule = AlertRule {
        p_threshold: a.alert_p,
        drift_run: a.drift_run,
        drift_tail: a.drift_tail,
        since_years: a.alerts_since_years.map_or(f64::NEG_INFINITY, |y| -y),
    };
    let found: Vec<Alert> = if a.alerts {
        alerts(&t.posterior.one_step, &rule)
    } else {
        Vec::new()
    };
    let manifest = begin_output(&a.out)?;
    write_table(&output::risks_table(&t), &a.out, "risks")?;
    write_table(&output::trajectories_table(&t), &a.out, "trajectories")?;
    write_table(
        &output::counterfactuals_table(&t),
        &a.out,
        "counterfactuals",
    )?;
    write_table(&output::onsets_table(&t), &a.out, "onsets")?;
    write_table(&output::fit_table(&t), &a.out, "fit")?;
    write_atomic(
        &a.out.join("twin.json"),
        serde_json::to_string_pretty(&output::summary_json(&t))?.as_bytes(),
    )?;
    twin::report::write(&t, &found, lang, &a.out)?;
    let fhir_dir = a.out.join("fhir");
    ensure_dir(&fhir_dir)?;
    let resources = twin::fhir::resources(&t, &found);
    write_atomic(
        &fhir_dir.join("resources.ndjson"),
        twin::fhir::ndjson(&resources).as_bytes(),
    )?;
    write_atomic(
        &fhir_dir.join("bundle.json"),
        serde_json::to_string_pretty(&twin::fhir::bundle(&resources))?.as_bytes(),
    )?;
    if a.alerts {
        let table = alerts_table(&t.person, &found);
        write_table(&table, &a.out, "alerts")?;
        let mut nd = String::new();
        for al in &found {
            nd.push_str(&alert_json(&t.person, al).to_string());
            nd.push('\n');
        }
        write_atomic(&a.out.join("alerts.ndjson"), nd.as_bytes())?;
    }
    let g = t.posterior.glycaemia.as_ref();
    let m = serde_json::json!({
        "command": "twin",
        "version": env!("CARGO_PKG_VERSION"),
        "pseudo_id": t.person.label,
        "seed": a.seed,
        "futures": t.forecast.futures,
        "years": t.forecast.years,
        "particles": a.particles,
        "population_only": a.population_only,
        "arms": t.forecast.arms.iter().map(|x| x.counterfactual.name.clone()).collect::<Vec<_>>(),
        "glycaemia_ess": g.map(|g| g.ess),
        "alerts": found.len(),
        "parameter_hash_sha256": parameter_hash(&model),
        "seconds": started.elapsed().as_secs_f64(),
        "files": ["report.html", "risks.csv", "trajectories.csv", "counterfactuals.csv", "onsets.csv", "fit.csv", "twin.json", "fhir/resources.ndjson", "fhir/bundle.json"],
    });
    write_atomic(&manifest, serde_json::to_string_pretty(&m)?.as_bytes())?;
    if !a.quiet {
        let base = &t.forecast.arms[0];
        eprintln!(
            "twin of {} ({} futures × {} years, {} arms) in {:.2} s",
            t.person.label,
            t.forecast.futures,
            t.forecast.years,
            t.forecast.arms.len(),
            started.elapsed().as_secs_f64()
        );
        for o in [
            Outcome::T2d,
            Outcome::Mi,
            Outcome::IschaemicStroke,
            Outcome::HeartFailure,
            Outcome::Care,
            Outcome::Death,
        ] {
            let r = |h| base.risk(o, h);
            eprintln!(
                "  {:<30} 1 y {:>6}  5 y {:>6}  10 y {:>6}",
                o.label(false),
                pct(r(1.0)),
                pct(r(5.0)),
                pct(r(10.0))
            );
        }
        if a.alerts {
            eprintln!("  alerts: {}", found.len());
        }
        eprintln!("wrote {}/report.html, risks.csv, trajectories.csv, counterfactuals.csv, fhir/ (docs/twin.md)", a.out.display());
    }
    Ok(())
}

/// SHA-256 of everything the model's results depend on (as `run` records it).
fn parameter_hash(model: &models::HealthModel) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(model.canonical().as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn pct(x: f64) -> String {
    if x.is_finite() {
        format!("{:.1}%", 100.0 * x)
    } else {
        "n/a".into()
    }
}

fn alerts_table(p: &PersonRecord, found: &[Alert]) -> Table {
    let mut b = Builder::new(
        "alerts",
        &[
            ("pseudo_id", 't'),
            ("date", 't'),
            ("years_from_index", 'f'),
            ("quantity", 't'),
            ("observed", 'f'),
            ("expected_mean", 'f'),
            ("expected_lo90", 'f'),
            ("expected_hi90", 'f'),
            ("p_two_sided", 'f'),
            ("kind", 't'),
            ("direction", 't'),
            ("suggested_action", 't'),
        ],
    );
    for a in found {
        let s = &a.reading;
        b.row(vec![
            V::T(p.label.clone()),
            p.index_day
                .map(|d| {
                    V::T(date::format_day(
                        d + (s.t_years * twin::person::DAYS_PER_YEAR).round() as i32,
                    ))
                })
                .unwrap_or(V::F(f64::NAN)),
            V::F(s.t_years),
            V::T(s.quantity.name().into()),
            V::F(s.observed),
            V::F(s.mean),
            V::F(s.lo90),
            V::F(s.hi90),
            V::F(s.p_two_sided()),
            V::T(a.kind.name().into()),
            V::T(if a.high { "high" } else { "low" }.into()),
            V::T(a.action_en.into()),
        ]);
    }
    b.build()
}

fn alert_json(p: &PersonRecord, a: &Alert) -> serde_json::Value {
    let s = &a.reading;
    serde_json::json!({
        "pseudo_id": p.label,
        "date": p.index_day.map(|d| date::format_day(d + (s.t_years * twin::person::DAYS_PER_YEAR).round() as i32)),
        "years_from_index": s.t_years,
        "quantity": s.quantity.name(),
        "observed": s.observed,
        "expected": {"mean": s.mean, "lo90": s.lo90, "hi90": s.hi90},
        "p_two_sided": s.p_two_sided(),
        "kind": a.kind.name(),
        "direction": if a.high { "high" } else { "low" },
        "suggested_action": a.action_en,
        "suggested_action_ja": a.action_ja,
    })
}

/// What makes a stratification's outputs what they are: the cohort (its files' SHA-256 when
/// sharded) and every flag that changes results. The identity of `twin --cohort` shards.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
struct StratifyIdentity {
    command: String,
    cohort: String,
    cohort_sha256: Option<String>,
    history_sha256: Option<String>,
    seed: u64,
    futures: Option<u32>,
    years: u32,
    particles: u32,
    interventions: Vec<String>,
    rank_by: String,
    trial: Option<String>,
    disclosure_threshold: usize,
    set: Vec<String>,
    batch: usize,
}

const STRATIFY_COMMAND: &str = "twin --cohort";

impl StratifyIdentity {
    /// Of the flags `a`; with `hashes`, the SHA-256 of the cohort's files too.
    fn of(a: &TwinArgs, dir: &Path, hashes: bool) -> anyhow::Result<StratifyIdentity> {
        let hash = |name: &str| -> anyhow::Result<Option<String>> {
            let p = dir.join(name);
            if !hashes || !p.is_file() {
                return Ok(None);
            }
            Ok(Some(crate::shard::sha256_file(&p)?))
        };
        Ok(StratifyIdentity {
            command: STRATIFY_COMMAND.into(),
            cohort: fs::canonicalize(dir)
                .unwrap_or_else(|_| dir.to_path_buf())
                .display()
                .to_string(),
            cohort_sha256: hash("cohort.parquet")?,
            history_sha256: hash("history.parquet")?,
            seed: a.seed,
            futures: a.futures,
            years: a.years,
            particles: a.particles,
            interventions: a.interventions.clone(),
            rank_by: a.rank_by.clone(),
            trial: a.trial.clone(),
            disclosure_threshold: a.disclosure_threshold,
            set: a.set.clone(),
            batch: a.batch.max(1),
        })
    }

    /// The stratification's settings.
    fn settings(&self) -> anyhow::Result<StratifySettings> {
        let kinds = parse_kinds(&self.interventions)?;
        let (o, y, _) = parse_outcome_years("--rank-by", &self.rank_by)?;
        let trial = match &self.trial {
            Some(t) => {
                let (to, ty, r) = parse_outcome_years("--trial", t)?;
                let min = *r.first().ok_or_else(|| {
                    input_error(format!("--trial {t}: give OUTCOME:YEARS:MIN[:MAX]"))
                })?;
                let max = r.get(1).copied().unwrap_or(1.0);
                if !(0.0..=1.0).contains(&min) || !(min..=1.0).contains(&max) {
                    return Err(input_error(format!(
                        "--trial {t}: MIN and MAX are risks in [0, 1], MIN ≤ MAX"
                    )));
                }
                Some(TrialFilter {
                    outcome: to,
                    horizon: ty,
                    min,
                    max,
                })
            }
            None => None,
        };
        let interventions = if kinds.is_empty() {
            vec![
                Kind::IntensiveLifestyle,
                Kind::Metformin,
                Kind::Statin,
                Kind::Antihypertensive,
                Kind::SmokingCessation,
                Kind::ExerciseNutrition,
            ]
        } else {
            kinds
        };
        Ok(StratifySettings {
            personalise: PersonaliseSettings {
                particles: (self.particles as usize).min(250),
                seed: self.seed,
                scores: false,
                one_step: false,
            },
            forecast: ForecastSettings {
                futures: self.futures.unwrap_or(32) as usize,
                years: y.max(10).min(self.years.max(y)),
                seed: self.seed,
                step_months: 1,
            },
            interventions,
            batch: self.batch,
            rank_by: (o, y),
            trial,
        })
    }
}

fn stratify_cmd(a: &TwinArgs, dir: &Path, model: &models::HealthModel) -> anyhow::Result<()> {
    let started = Instant::now();
    let folder = CohortFolder::open(dir).map_err(twin_err)?;
    let id = StratifyIdentity::of(a, dir, a.shard.is_some())?;
    let s = id.settings()?;
    let n = folder.people.len();
    // Whole batches: a person's futures are keyed by their place in the batch.
    let batches = n.div_ceil(s.batch);
    let (range, shard_out) = match a.shard {
        None => (0..batches, None),
        Some(sh) => {
            if sh.count as usize > batches {
                return Err(input_error(format!(
                    "--shard {}/{}: the cohort's {n} people are {batches} batch(es) of --batch \
                     {}, and a shard holds whole batches (a person's futures are keyed by their \
                     place in the batch): use at most {batches} shards, or a smaller --batch \
                     (docs/shards.md)",
                    sh.index, sh.count, s.batch
                )));
            }
            let r = sh.range(batches as u64);
            let out = output_dir(&a.out, &[shard::PARTIALS])?;
            (r.start as usize..r.end as usize, Some((sh, out)))
        }
    };
    let manifest = match shard_out {
        None => Some(begin_output(&a.out)?),
        Some(_) => None,
    };
    let span = (range.start * s.batch)..(range.end * s.batch).min(n);
    let mut rows = Vec::with_capacity(span.len());
    let mut done = 0usize;
    let mut k = 0usize;
    folder
        .for_each_batch(s.batch, None, |people| {
            let this = k;
            k += 1;
            if !range.contains(&this) {
                return Ok(());
            }
            let r = stratify::batch(model, &people, &s)?;
            done += people.len();
            if !a.quiet {
                eprint!(
                    "\r{done}/{} people ({:.0} s)",
                    span.len(),
                    started.elapsed().as_secs_f64()
                );
            }
            rows.extend(r);
            Ok(())
        })
        .map_err(twin_err)?;
    if !a.quiet {
        eprintln!();
    }
    let Some((sh, out)) = shard_out else {
        let manifest = manifest.expect("unsharded");
        return write_stratified(&id, &s, model, rows, &a.out, &manifest, started, a.quiet);
    };
    let mut e = shard::Enc::default();
    e.u64(rows.len() as u64);
    for r in &rows {
        encode_ranked(&mut e, r);
    }
    let sha = e.write(out.path())?;
    let threads = rayon::current_num_threads();
    shard::commit_shard(
        out,
        sh,
        shard::Split::People,
        span.start as u64..span.end as u64,
        serde_json::to_value(&id)?,
        sha,
        vec![started.elapsed().as_secs_f64()],
        threads,
        started,
    )?;
    if !a.quiet {
        println!(
            "shard {}/{}: people {}..{} of {n} in {:.1} s; files in {} (merge with `healthtwin merge`)",
            sh.index,
            sh.count,
            span.start,
            span.end,
            started.elapsed().as_secs_f64(),
            a.out.display()
        );
    }
    Ok(())
}

fn encode_ranked(e: &mut shard::Enc, r: &stratify::Ranked) {
    e.str(&r.label);
    e.u8(r.sex as u8);
    e.f64(r.age_years);
    for v in [&r.risks, &r.averted_per_1000] {
        e.u64(v.len() as u64);
        for x in v.iter().flatten() {
            e.f64(*x);
        }
    }
    e.f64(r.rank_risk);
    e.u64(r.rank_at_risk as u64);
    e.bool(r.eligible);
    e.u8(match r.t2d_at_index {
        None => 0,
        Some(stratify::T2dAtIndex::Diagnosed) => 1,
        Some(stratify::T2dAtIndex::ReadingsAtDiabetesLevel) => 2,
    });
}

fn decode_ranked(d: &mut shard::Dec) -> anyhow::Result<stratify::Ranked> {
    let label = d.str()?;
    let sex = match d.u8()? {
        0 => engine::Sex::Male,
        1 => engine::Sex::Female,
        _ => return Err(d.bad()),
    };
    let age_years = d.f64()?;
    let mut lists: [Vec<[f64; 3]>; 2] = Default::default();
    for l in &mut lists {
        let n = d.len(24)?;
        for _ in 0..n {
            l.push([d.f64()?, d.f64()?, d.f64()?]);
        }
    }
    let [risks, averted_per_1000] = lists;
    Ok(stratify::Ranked {
        label,
        sex,
        age_years,
        risks,
        averted_per_1000,
        rank_risk: d.f64()?,
        rank_at_risk: d.u64()? as usize,
        eligible: d.bool()?,
        t2d_at_index: match d.u8()? {
            0 => None,
            1 => Some(stratify::T2dAtIndex::Diagnosed),
            2 => Some(stratify::T2dAtIndex::ReadingsAtDiabetesLevel),
            _ => return Err(d.bad()),
        },
    })
}

/// `healthtwin merge` of `twin --cohort` shards: the ranked rows of every shard in cohort
/// order, then the stratification's one writer (ranking, disclosure control, manifest).
pub fn merge(set: &shard::ShardSet, out: &Path, quiet: bool) -> anyhow::Result<()> {
    let started = Instant::now();
    let id: StratifyIdentity = serde_json::from_value(set.identity.clone()).map_err(|e| {
        input_error(format!(
            "merge: the shards' stratification is not readable: {e}"
        ))
    })?;
    let s = id.settings()?;
    let model = model_with(&id.set)?;
    let mut rows = Vec::new();
    let mut at = 0;
    for (dir, m) in set.folders.iter().zip(&set.manifests) {
        let mut d = shard::Dec::open(dir)?;
        let n = d.len(1)?;
        if m.shard.first != at || m.shard.end - m.shard.first != n as u64 {
            return Err(d.bad());
        }
        at = m.shard.end;
        for _ in 0..n {
            rows.push(decode_ranked(&mut d)?);
        }
        d.finish()?;
    }
    let manifest = begin_output(out)?;
    write_stratified(&id, &s, &model, rows, out, &manifest, started, quiet)
}

/// The files of a stratification from its rows in cohort order: the one writer of
/// `twin --cohort` and of its merge.
#[allow(clippy::too_many_arguments)]
fn write_stratified(
    id: &StratifyIdentity,
    s: &StratifySettings,
    model: &models::HealthModel,
    mut rows: Vec<stratify::Ranked>,
    out: &Path,
    manifest: &Path,
    started: Instant,
    quiet: bool,
) -> anyhow::Result<()> {
    stratify::rank(&mut rows);
    let table = stratify::ranked_table(&rows, s);
    write_table(&table, out, "ranked")?;
    if s.trial.is_some() {
        let eligible: Vec<_> = rows.iter().filter(|r| r.eligible).cloned().collect();
        write_csv(
            &stratify::ranked_table(&eligible, s),
            &out.join("eligible.csv"),
        )?;
    }
    let (agg, suppressed) = stratify::aggregates_table(&rows, s, id.disclosure_threshold);
    write_table(&agg, out, "aggregates")?;
    let m = serde_json::json!({
        "command": STRATIFY_COMMAND,
        "version": env!("CARGO_PKG_VERSION"),
        "people": rows.len(),
        "futures_per_person": s.forecast.futures,
        "years": s.forecast.years,
        "interventions": s.interventions.iter().map(|k| k.name()).collect::<Vec<_>>(),
        "rank_by": id.rank_by,
        "trial": id.trial,
        "trial_eligible": rows.iter().filter(|r| r.eligible).count(),
        "disclosure_threshold": id.disclosure_threshold,
        "suppressed_cells": suppressed,
        "parameter_hash_sha256": parameter_hash(model),
        "seconds": started.elapsed().as_secs_f64(),
    });
    write_atomic(manifest, serde_json::to_string_pretty(&m)?.as_bytes())?;
    if !quiet {
        eprintln!(
            "ranked {} people by {} in {:.1} s; wrote {}/ranked.csv, aggregates.csv{}",
            rows.len(),
            id.rank_by,
            started.elapsed().as_secs_f64(),
            out.display(),
            if s.trial.is_some() {
                ", eligible.csv"
            } else {
                ""
            }
        );
    }
    Ok(())
}

fn validate_cmd(v: &ValidateArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    let model = model_with(&[])?;
    let s = ValidationSettings {
        people: v.people,
        history_years: v.history_years,
        horizon_years: v.horizon,
        futures: v.futures,
        particles: v.particles,
        seed: v.seed,
        truth: match v.truth {
            TruthArg::TwinPrior => Truth::TwinPrior,
            TruthArg::Population => Truth::PopulationModel,
        },
        attendance: v.attendance,
    };
    if let Some(dir) = &v.write_csv {
        let people = validate::synthetic_truth(&model, &s).map_err(twin_err)?;
        write_import_csv(dir, &people)?;
        eprintln!(
            "wrote {} synthetic people to {}/persons.csv and records.csv",
            people.len(),
            dir.display()
        );
        return Ok(());
    }
    let (result, label) = if let Some(dir) = &v.cohort {
        let folder = CohortFolder::open(dir).map_err(twin_err)?;
        let mut all = Vec::new();
        folder
            .for_each_batch(4096, None, |b| {
                all.extend(b);
                Ok(())
            })
            .map_err(twin_err)?;
        let people = validate::cut_people(&all, v.cut_years);
        (
            validate::validate_people(&model, &people, &s).map_err(twin_err)?,
            format!("cohort cut {} y before its index date", v.cut_years),
        )
    } else {
        (
            validate::validate(&model, &s).map_err(twin_err)?,
            format!("synthetic, truth = {:?}", v.truth),
        )
    };
    ensure_dir(&v.out)?;
    let mut b = Builder::new(
        "validation",
        &[
            ("method", 't'),
            ("quantity", 't'),
            ("readings", 'i'),
            ("coverage50", 'f'),
            ("coverage90", 'f'),
            ("crps", 'f'),
        ],
    );
    let mut json_rows = Vec::new();
    for (name, sc) in [
        ("personalised", &result.personalised),
        ("population_only", &result.population),
    ] {
        for (q, x) in &sc.quantities {
            b.row(vec![
                V::T(name.into()),
                V::T(q.name().into()),
                V::I(x.readings as i64),
                V::F(x.coverage50()),
                V::F(x.coverage90()),
                V::F(x.crps()),
            ]);
            json_rows.push(serde_json::json!({"method": name, "quantity": q.name(), "readings": x.readings, "coverage50": x.coverage50(), "coverage90": x.coverage90(), "crps": x.crps()}));
        }
        b.row(vec![
            V::T(name.into()),
            V::T("t2d_5y_c_statistic".into()),
            V::I(sc.t2d_event.len() as i64),
            V::F(f64::NAN),
            V::F(f64::NAN),
            V::F(sc.c_statistic()),
        ]);
        b.row(vec![
            V::T(name.into()),
            V::T("t2d_5y_brier".into()),
            V::I(sc.t2d_event.len() as i64),
            V::F(f64::NAN),
            V::F(f64::NAN),
            V::F(sc.brier()),
        ]);
    }
    write_csv(&b.build(), &v.out.join("validation.csv"))?;
    let summary = serde_json::json!({
        "setting": label,
        "people": result.people,
        "history_years": v.history_years,
        "horizon_years": v.horizon,
        "futures": v.futures,
        "particles": v.particles,
        "seed": v.seed,
        "rows": json_rows,
        "t2d_5y": {
            "events": result.personalised.t2d_event.iter().filter(|e| **e).count(),
            "at_risk": result.personalised.t2d_event.len(),
            "personalised": {"c_statistic": result.personalised.c_statistic(), "brier": result.personalised.brier(), "mean_risk": mean(&result.personalised.t2d_risk)},
            "population_only": {"c_statistic": result.population.c_statistic(), "brier": result.population.brier(), "mean_risk": mean(&result.population.t2d_risk)},
        },
        "seconds": started.elapsed().as_secs_f64(),
    });
    write_atomic(
        &v.out.join("validation.json"),
        serde_json::to_string_pretty(&summary)?.as_bytes(),
    )?;
    println!(
        "forecast validation ({label}), {} people, {:.0} s",
        result.people,
        started.elapsed().as_secs_f64()
    );
    println!(
        "{:<16} {:<15} {:>8} {:>7} {:>7} {:>9}",
        "method", "quantity", "readings", "cov50", "cov90", "CRPS"
    );
    for (name, sc) in [
        ("personalised", &result.personalised),
        ("population_only", &result.population),
    ] {
        for (q, x) in &sc.quantities {
            println!(
                "{:<16} {:<15} {:>8} {:>6.1}% {:>6.1}% {:>9.4}",
                name,
                q.name(),
                x.readings,
                100.0 * x.coverage50(),
                100.0 * x.coverage90(),
                x.crps()
            );
        }
        println!(
            "{:<16} T2D 5 y: C {:.3}, Brier {:.4}, mean risk {:.3}, observed {:.3} ({} at risk)",
            name,
            sc.c_statistic(),
            sc.brier(),
            mean(&sc.t2d_risk),
            sc.t2d_event.iter().filter(|e| **e).count() as f64 / sc.t2d_event.len().max(1) as f64,
            sc.t2d_event.len()
        );
    }
    Ok(())
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len().max(1) as f64
}

/// The synthetic people as a plain-CSV import input (docs/data.md): index date 2024-04-01.
fn write_import_csv(dir: &Path, people: &[twin::validate::Case]) -> anyhow::Result<()> {
    use std::fmt::Write as _;
    ensure_dir(dir)?;
    let index = date::days_from_civil(2024, 4, 1);
    let mut persons = String::from("person_id,sex,birth_date\n");
    let mut records = String::from("person_id,date,item,value,unit\n");
    for (p, future, _) in people {
        let id = &p.label;
        let birth = index - (p.age_years * twin::person::DAYS_PER_YEAR).round() as i32;
        let _ = writeln!(persons, "{id},{},{}", p.sex.name(), date::format_day(birth));
        for o in p.observations.iter().chain(future) {
            let day = index + (o.t_years * twin::person::DAYS_PER_YEAR).round() as i32;
            let _ = writeln!(
                records,
                "{id},{},{},{:.4},{}",
                date::format_day(day),
                o.quantity.name(),
                o.value,
                o.quantity.unit()
            );
        }
        let c = &p.index;
        let day = date::format_day(index);
        for (item, v, unit) in [
            ("dbp_mmhg", c.dbp_mmhg, "mmHg"),
            ("hdl_mg_dl", c.hdl_mg_dl, "mg/dL"),
            ("tc_mg_dl", c.tc_mg_dl, "mg/dL"),
            ("egfr_ml_min", c.egfr_ml_min, "mL/min/1.73m2"),
            ("steps_per_day", c.steps_per_day, "/d"),
        ] {
            let _ = writeln!(records, "{id},{day},{item},{v:.2},{unit}");
        }
        let _ = writeln!(records, "{id},{day},smoker,{},", u8::from(c.smoker));
        for d in twin::person::Drug::ALL {
            for t in &p.treatment_records[d as usize] {
                let dd = index + (t * twin::person::DAYS_PER_YEAR).round() as i32;
                let _ = writeln!(records, "{id},{},{},1,", date::format_day(dd), d.name());
            }
        }
    }
    write_atomic(&dir.join("persons.csv"), persons.as_bytes())?;
    write_atomic(&dir.join("records.csv"), records.as_bytes())?;
    Ok(())
}

/// A demo person for the benchmark: 55-year-old man, yearly readings over 5 years.
fn bench_person() -> PersonRecord {
    let mut obs = Vec::new();
    let hba1c = [5.4, 5.5, 5.6, 5.75, 5.9, 6.0];
    let fpg = [95.0, 97.0, 100.0, 103.0, 105.0, 108.0];
    for i in 0..6 {
        let t = i as f64 - 5.0;
        for (q, v) in [
            (twin::Quantity::Hba1c, hba1c[i]),
            (twin::Quantity::Fpg, fpg[i]),
            (twin::Quantity::Sbp, 128.0 + i as f64),
            (twin::Quantity::Ldl, 135.0),
            (twin::Quantity::Bmi, 25.0 + 0.1 * i as f64),
        ] {
            obs.push(twin::person::Observation {
                t_years: t,
                quantity: q,
                value: v,
            });
        }
    }
    let index = twin::person::index_covariates(
        engine::Sex::Male,
        55.0,
        [
            Some(25.5),
            Some(108.0),
            Some(6.0),
            Some(133.0),
            None,
            None,
            None,
            Some(135.0),
            None,
            Some(6000.0),
            None,
        ],
        true,
        engine::Conditions::default(),
        engine::Treatments::default(),
    );
    PersonRecord {
        label: "bench".into(),
        sex: engine::Sex::Male,
        age_years: 55.0,
        index,
        observations: obs,
        treatment_records: Default::default(),
        pdc: None,
        index_day: None,
        dated: Vec::new(),
    }
}

fn bench(b: &TwinBenchArgs) -> anyhow::Result<()> {
    let model = model_with(&[])?;
    let person = bench_person();
    // Six counterfactuals: five interventions alone and all five together.
    let singles = [
        Kind::IntensiveLifestyle,
        Kind::Metformin,
        Kind::Statin,
        Kind::Antihypertensive,
        Kind::SmokingCessation,
    ];
    let mut arms: Vec<Vec<Kind>> = singles.iter().map(|k| vec![*k]).collect();
    arms.push(singles.to_vec());
    let s = TwinSettings {
        personalise: PersonaliseSettings {
            particles: b.particles,
            seed: 1,
            scores: true,
            one_step: b.alerts,
        },
        forecast: ForecastSettings {
            futures: b.futures,
            years: b.years,
            seed: 1,
            step_months: b.step_months,
        },
        counterfactuals: CounterfactualPlan::Exactly(arms),
        population_only: false,
    };
    // Warm-up (model construction and the frailty tables are not part of a twin).
    let _ = twin::run_twin(&model, &person, &s).map_err(twin_err)?;
    let mut times = Vec::new();
    for _ in 0..b.repeats.max(1) {
        let t0 = Instant::now();
        let t = twin::run_twin(&model, &person, &s).map_err(twin_err)?;
        let total = t0.elapsed().as_secs_f64();
        times.push((total, t.personalise_seconds, t.forecast.seconds));
    }
    times.sort_by(|a, c| a.0.total_cmp(&c.0));
    let (total, pers, sim) = times[times.len() / 2];
    println!(
        "one person: personalise{} + {} futures × {} years × 7 arms (usual care + 6 counterfactuals) on {} thread(s): median {:.3} s (personalisation {:.3} s, simulation {:.3} s; runs {})",
        if b.alerts { " with alert scoring" } else { "" },
        b.futures,
        b.years,
        rayon::current_num_threads(),
        total,
        pers,
        sim,
        times.iter().map(|t| format!("{:.3}", t.0)).collect::<Vec<_>>().join(", ")
    );
    Ok(())
}
