//! `healthtwin compare A.toml B.toml …`: every scenario on the same people with common
//! random numbers (the same `RunKey` per replicate; every draw is keyed by (seed, replicate,
//! process, patient, step)), paired differences against the first, charts, and PSA.

use std::fs;
use std::path::{Path, PathBuf};

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use anyhow::Context;
use clap::Args;
use engine::observe::{age_band_label, metric_defs};
use engine::{init_patients_into, simulate, Baseline, Model, RunKey, RunSettings};
use models::params::ParamDraw;
use models::HealthModel;
use report::plot::{write_chart, Chart, Series};
use report::{write_atomic, write_csv, write_parquet, Table, Values};
use scenarios::outcomes::{
    self as oc, cost_effect, extract, nnt, onset_delay, prob_cost_effective, Interval, OnsetAges,
    Outcomes, Sources, ALL_AGES, MEASURES, N_MEASURES,
};
use scenarios::Plan;
use serde::Serialize;

use crate::{input_error, with_threads};

/// Japan's reference value in cost-effectiveness evaluation: ¥5 million per QALY
/// (C2H / Chuikyo price-adjustment system since April 2019; Shiroiwa 2020 Int J Technol
/// Assess Health Care; the 5 million JPY/QALY cut-off is stated in the review of all C2H
/// appraisals, ISPOR/HTAi abstract PP94, 2021) [V].
pub const JAPAN_REFERENCE_WTP_YEN: f64 = 5_000_000.0;
/// Upper end of the acceptability curve, yen per QALY.
const CEAC_MAX_WTP_YEN: f64 = 10_000_000.0;
/// Seed offset between scenarios under `--independent` (any large odd constant).
const INDEPENDENT_SEED_STRIDE: u64 = 0x9E37_79B9_7F4A_7C15;

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
}

/// Everything kept per scenario over replicates (aggregates only, plus onset delays).
struct Results {
    outcomes: Vec<Outcomes>,
    delays: Vec<Option<oc::Delay>>,
    missing: Vec<usize>,
    seconds: f64,
    person_years: f64,
}

#[derive(Serialize)]
struct Manifest<'a> {
    healthtwin_version: &'a str,
    git_commit: &'a str,
    scenarios: Vec<ManifestScenario>,
    shared_from: String,
    patients: u64,
    years: u32,
    step_months: u32,
    replicates: u32,
    seed: u64,
    common_random_numbers: bool,
    psa_draws: Option<u32>,
    psa_parameters: Vec<String>,
    discount_rate: f64,
    represents: Option<f64>,
    threads: usize,
    wall_time_seconds: f64,
    notes: Vec<String>,
    files: Vec<String>,
}

#[derive(Serialize)]
struct ManifestScenario {
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
    let mut plans = Vec::new();
    for p in &args.scenarios {
        plans.push(scenarios::load(p).map_err(|e| input_error(e.to_string()))?);
    }
    for (i, p) in plans.iter().enumerate() {
        if let Some(q) = plans[..i].iter().find(|q| q.name == p.name) {
            return Err(input_error(format!(
                "{} and {}: two scenarios named `{}` (names label the outputs)",
                q.file.display(),
                p.file.display(),
                p.name
            )));
        }
    }
    let shared_ix = args.population_from as usize - 1;
    let Some(shared) = plans.get(shared_ix).cloned() else {
        return Err(input_error(format!(
            "--population-from {}: only {} scenario file(s) given",
            args.population_from,
            plans.len()
        )));
    };
    let mut notes = Vec::new();
    for p in &plans {
        if p.population != shared.population
            || p.years != shared.years
            || p.step_months != shared.step_months
        {
            notes.push(format!(
                "{}: its population, years or step differ from {}; the shared ones of {} are used (one cohort for all)",
                p.name, shared.name, shared.name
            ));
        }
    }
    let years = args.years.unwrap_or(shared.years);
    let seed = args.seed.unwrap_or(shared.seed);
    let draws: Vec<ParamDraw> = if args.psa.is_some() {
        let d = plans[0].draws();
        if d.is_empty() {
            return Err(input_error(format!(
                "--psa: {} has no [uncertainty] table (docs/scenarios.md)",
                plans[0].file.display()
            )));
        }
        for p in &plans[1..] {
            if !p.uncertainty.is_empty() && p.uncertainty != plans[0].uncertainty {
                return Err(input_error(format!(
                    "--psa: {} has an [uncertainty] table different from the reference's; \
                     every scenario must use the same draws (remove it or make it equal)",
                    p.file.display()
                )));
            }
        }
        d
    } else {
        Vec::new()
    };
    let replicates = args.psa.or(args.replicates).unwrap_or(shared.replicates);
    if let (Some(k), Some(r)) = (args.psa, args.replicates) {
        if k != r {
            return Err(input_error(format!(
                "--psa {k} runs {k} replicates (one per draw); --replicates {r} disagrees"
            )));
        }
    }

    let cohort = with_threads(args.threads, || shared.cohort(args.patients))?
        .map_err(|e| input_error(e.to_string()))?;
    let n = cohort.len() as u64;
    let mut models = Vec::new();
    for p in &plans {
        let mut q = p.clone();
        q.population = shared.population.clone();
        models.push(q.model(n).map_err(|e| input_error(e.to_string()))?);
    }
    crate::run::ensure_dir(&args.out)?;
    let manifest_path = args.out.join("manifest.json");
    if manifest_path.exists() {
        fs::remove_file(&manifest_path)
            .with_context(|| format!("cannot replace {}", manifest_path.display()))?;
    }
    let settings = RunSettings {
        seed,
        years,
        step_months: shared.step_months,
        chunk_size: 1024,
        trace_patients: 0,
    };
    let results = with_threads(args.threads, || {
        execute(
            args,
            &plans,
            &models,
            &cohort,
            &settings,
            replicates,
            &draws,
            shared.discount_rate,
        )
    })??;
    let threads = with_threads(args.threads, rayon::current_num_threads)?;

    let scale = shared.population.represents.map(|r| r / n as f64);
    let mut files = Vec::new();
    let ctx = Report {
        plans: &plans,
        results: &results,
        start_year: shared.start_year,
        scale,
        out: &args.out,
        people: n as f64,
    };
    files.extend(ctx.tables()?);
    files.extend(ctx.charts(args.psa.is_some())?);

    let manifest = Manifest {
        healthtwin_version: env!("CARGO_PKG_VERSION"),
        git_commit: env!("HEALTHTWIN_GIT_COMMIT"),
        scenarios: plans
            .iter()
            .zip(&results)
            .map(|(p, r)| ManifestScenario {
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
        shared_from: shared.name.clone(),
        patients: n,
        years,
        step_months: shared.step_months,
        replicates,
        seed,
        common_random_numbers: !args.independent,
        psa_draws: args.psa,
        psa_parameters: draws.iter().map(|d| d.name.clone()).collect(),
        discount_rate: shared.discount_rate,
        represents: shared.population.represents,
        threads,
        wall_time_seconds: started.elapsed().as_secs_f64(),
        notes: notes.clone(),
        files: files.clone(),
    };
    write_atomic(
        &manifest_path,
        serde_json::to_string_pretty(&manifest)?.as_bytes(),
    )?;
    if !args.quiet {
        ctx.print(n, years, replicates, threads, args, &notes);
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn execute(
    args: &CompareArgs,
    plans: &[Plan],
    models: &[HealthModel],
    cohort: &[Baseline],
    settings: &RunSettings,
    replicates: u32,
    draws: &[ParamDraw],
    discount_rate: f64,
) -> anyhow::Result<Vec<Results>> {
    let total = cohort.len() as u64
        * u64::from(settings.years)
        * u64::from(replicates)
        * plans.len() as u64;
    let bar = crate::run::patient_years_bar(total, args.quiet);
    let done = AtomicU64::new(0);
    let progress = |k: usize| {
        let d = done.fetch_add(k as u64, Ordering::Relaxed) + k as u64;
        bar.set_position(d);
    };
    let mut results: Vec<Results> = models
        .iter()
        .map(|m| {
            let defs = metric_defs(m.causes_of_death(), &m.metrics());
            Results {
                outcomes: Vec::new(),
                delays: Vec::new(),
                missing: Sources::new(&defs).missing,
                seconds: 0.0,
                person_years: 0.0,
            }
        })
        .collect();
    let sources: Vec<Sources> = models
        .iter()
        .map(|m| Sources::new(&metric_defs(m.causes_of_death(), &m.metrics())))
        .collect();
    let mut reference_onsets: OnsetAges = Vec::new();
    // One population buffer for every scenario and replicate.
    let mut patients = Vec::new();
    for replicate in 0..replicates {
        for (s, model) in models.iter().enumerate() {
            bar.set_message(format!(
                "replicate {}/{replicates}, {}",
                replicate + 1,
                plans[s].name
            ));
            let t0 = Instant::now();
            let run = RunKey {
                seed: if args.independent {
                    settings
                        .seed
                        .wrapping_add(INDEPENDENT_SEED_STRIDE.wrapping_mul(s as u64))
                } else {
                    settings.seed
                },
                replicate,
            };
            // PSA: the draws depend on (seed, replicate) only, so under common random
            // numbers every scenario of replicate k gets parameter draw k.
            let draw_key = RunKey {
                seed: settings.seed,
                replicate,
            };
            let model = model
                .for_replicate(draw_key, draws)
                .map_err(|e| input_error(format!("--psa: {e}")))?;
            init_patients_into(&model, run, cohort, &mut patients);
            let out = simulate(&model, settings, run, &mut patients, &progress);
            let outcome = extract(&out.aggregate, &sources[s], discount_rate);
            let onsets: OnsetAges = patients
                .iter()
                .map(|p| {
                    p.state
                        .dm
                        .onset_age
                        .filter(|&a| a > p.baseline.age_years)
                        .map(|a| a as f32)
                })
                .collect();
            let r = &mut results[s];
            if s == 0 {
                reference_onsets = onsets;
                r.delays.push(None);
            } else if args.independent {
                // Pairing a person's onsets needs the same draws in both scenarios.
                r.delays.push(None);
            } else {
                let end: Vec<f32> = patients.iter().map(|p| p.age_years as f32).collect();
                r.delays.push(onset_delay(&reference_onsets, &onsets, &end));
            }
            r.person_years += outcome.total(oc::LIFE_YEARS);
            r.outcomes.push(outcome);
            r.seconds += t0.elapsed().as_secs_f64();
        }
    }
    bar.finish_and_clear();
    Ok(results)
}

struct Report<'a> {
    plans: &'a [Plan],
    results: &'a [Results],
    start_year: i64,
    scale: Option<f64>,
    out: &'a Path,
    /// People simulated (the cohort size).
    people: f64,
}

/// Rows of a long table under construction.
#[derive(Default)]
struct Rows {
    scenario: Vec<Option<String>>,
    comparison: Vec<Option<String>>,
    key: Vec<Option<String>>,
    key_int: Vec<i64>,
    measure: Vec<Option<String>>,
    unit: Vec<Option<String>>,
    mean: Vec<Option<f64>>,
    lo: Vec<Option<f64>>,
    hi: Vec<Option<f64>>,
    scaled: [Vec<Option<f64>>; 3],
}

fn fin(x: f64) -> Option<f64> {
    x.is_finite().then_some(x)
}

impl Rows {
    #[allow(clippy::too_many_arguments)]
    fn push(
        &mut self,
        scenario: &str,
        comparison: &str,
        key: &str,
        key_int: i64,
        m: usize,
        iv: Interval,
        scale: Option<f64>,
    ) {
        self.scenario.push(Some(scenario.into()));
        self.comparison.push(Some(comparison.into()));
        self.key.push(Some(key.into()));
        self.key_int.push(key_int);
        self.measure.push(Some(MEASURES[m].name.into()));
        self.unit.push(Some(MEASURES[m].unit.into()));
        self.mean.push(fin(iv.mean));
        self.lo.push(fin(iv.lo));
        self.hi.push(fin(iv.hi));
        for (v, x) in self.scaled.iter_mut().zip([iv.mean, iv.lo, iv.hi]) {
            v.push(scale.and_then(|s| fin(x * s)));
        }
    }

    fn table(self, name: &str, key: &str, key_int: Option<&str>, scaled: bool) -> Table {
        let mut t = Table::new(name);
        t.push("scenario", Values::Text(self.scenario));
        t.push("comparison", Values::Text(self.comparison));
        if !key.is_empty() {
            t.push(key, Values::Text(self.key));
        }
        if let Some(k) = key_int {
            t.push(k, Values::Int(self.key_int));
        }
        t.push("measure", Values::Text(self.measure));
        t.push("unit", Values::Text(self.unit));
        t.push("mean", Values::Float(self.mean));
        t.push("lo95", Values::Float(self.lo));
        t.push("hi95", Values::Float(self.hi));
        if scaled {
            let [a, b, c] = self.scaled;
            t.push("scaled_mean", Values::Float(a));
            t.push("scaled_lo95", Values::Float(b));
            t.push("scaled_hi95", Values::Float(c));
        }
        t
    }
}

impl Report<'_> {
    fn reference(&self) -> &Results {
        &self.results[0]
    }

    /// Per-replicate values of `f` for scenario `s`, or its paired difference to the
    /// reference.
    fn values(&self, s: usize, diff: bool, f: impl Fn(&Outcomes) -> f64) -> Vec<f64> {
        let r = &self.results[s];
        r.outcomes
            .iter()
            .enumerate()
            .map(|(i, o)| {
                if diff {
                    f(o) - f(&self.reference().outcomes[i])
                } else {
                    f(o)
                }
            })
            .collect()
    }

    fn comparisons(&self) -> Vec<(usize, bool, String)> {
        let reference = &self.plans[0].name;
        let mut v = Vec::new();
        for s in 0..self.plans.len() {
            v.push((s, false, "level".to_string()));
            if s > 0 {
                v.push((s, true, format!("difference_vs_{reference}")));
            }
        }
        v
    }

    fn has(&self, s: usize, m: usize) -> bool {
        !self.results[s].missing.contains(&m) && !self.results[0].missing.contains(&m)
    }

    fn tables(&self) -> anyhow::Result<Vec<String>> {
        let mut files = Vec::new();
        let mut save = |t: &Table, stem: &str| -> anyhow::Result<()> {
            write_csv(t, &self.out.join(format!("{stem}.csv")))?;
            write_parquet(t, &self.out.join(format!("{stem}.parquet")))?;
            files.push(format!("{stem}.csv"));
            files.push(format!("{stem}.parquet"));
            Ok(())
        };
        let years = self.results[0].outcomes[0].years;
        // Whole horizon, all ages.
        let mut totals = Rows::default();
        let mut by_year = Rows::default();
        let mut by_age = Rows::default();
        for (s, diff, label) in self.comparisons() {
            let name = &self.plans[s].name;
            for m in (0..N_MEASURES).filter(|&m| self.has(s, m)) {
                let iv = Interval::of(&self.values(s, diff, |o| o.total(m)));
                totals.push(name, &label, "", 0, m, iv, self.scale);
                for y in 0..years {
                    let iv = Interval::of(&self.values(s, diff, |o| o.get(y, ALL_AGES, m)));
                    let cal = self.start_year + y as i64;
                    by_year.push(name, &label, &y.to_string(), cal, m, iv, self.scale);
                }
                for b in 0..ALL_AGES {
                    let lived = self.results[s]
                        .outcomes
                        .iter()
                        .any(|o| (0..years).any(|y| o.person_years[y * oc::BANDS + b] > 0.0));
                    if !lived {
                        continue;
                    }
                    let iv = Interval::of(&self.values(s, diff, |o| o.total_in(b, m)));
                    by_age.push(
                        name,
                        &label,
                        &age_band_label(b),
                        b as i64,
                        m,
                        iv,
                        self.scale,
                    );
                }
            }
        }
        let scaled = self.scale.is_some();
        save(
            &totals.table("compare_totals", "", None, scaled),
            "compare_totals",
        )?;
        save(
            &by_year.table("compare_by_year", "year_index", Some("year"), scaled),
            "compare_by_year",
        )?;
        save(
            &by_age.table("compare_by_age", "age_band", None, scaled),
            "compare_by_age",
        )?;
        save(&self.economics(), "compare_economics")?;
        save(&self.replicate_table(), "compare_replicates")?;
        Ok(files)
    }

    /// The effect measure of the cost-effectiveness analysis: QALYs when the model reports
    /// utilities, else life-years (named in every output).
    fn effect(&self) -> usize {
        if (0..self.plans.len()).all(|s| self.has(s, oc::QALYS)) {
            oc::QALYS
        } else {
            oc::LIFE_YEARS
        }
    }

    fn economics(&self) -> Table {
        let e = self.effect();
        let mut t = Table::new("compare_economics");
        let mut cols: Vec<(&str, Vec<Option<f64>>)> = vec![
            ("icer_yen_per_effect", vec![]),
            ("share_ne_costlier_better", vec![]),
            ("share_nw_costlier_worse", vec![]),
            ("share_se_cheaper_better", vec![]),
            ("share_sw_cheaper_worse", vec![]),
            ("nnt_t2d", vec![]),
            ("nnt_cardiovascular", vec![]),
            ("nnt_frailty", vec![]),
            ("nnt_ltc", vec![]),
            ("t2d_onset_delay_median_years", vec![]),
            ("t2d_onset_delay_median_lo95", vec![]),
            ("t2d_onset_delay_median_hi95", vec![]),
            ("t2d_onset_delay_censored_share", vec![]),
        ];
        let mut names = Vec::new();
        let mut effect = Vec::new();
        for s in 1..self.plans.len() {
            names.push(Some(self.plans[s].name.clone()));
            effect.push(Some(MEASURES[e].name.to_string()));
            let row = self.econ_row(s, e);
            for (c, v) in cols.iter_mut().zip(row) {
                c.1.push(v.and_then(fin));
            }
        }
        t.push("scenario", Values::Text(names));
        t.push("effect", Values::Text(effect));
        for (n, v) in cols {
            t.push(n, Values::Float(v));
        }
        t
    }

    /// ICER, quadrant shares, NNTs and onset delay of scenario `s` (see [`Self::economics`]).
    fn econ_row(&self, s: usize, e: usize) -> [Option<f64>; 13] {
        let dc = self.values(s, true, |o| o.total(oc::TOTAL_COST));
        let de = self.values(s, true, |o| o.total(e));
        let ce = cost_effect(&dc, &de);
        let mean = |f: &dyn Fn(&Outcomes) -> f64| {
            let v = self.values(s, true, f);
            v.iter().sum::<f64>() / v.len().max(1) as f64
        };
        let enrol = self
            .values(s, false, |o| o.total(oc::ENROLMENTS))
            .iter()
            .sum::<f64>()
            / self.results[s].outcomes.len().max(1) as f64;
        let averted = |ms: &[usize]| -mean(&|o: &Outcomes| ms.iter().map(|&m| o.total(m)).sum());
        let delays: Vec<f64> = self.results[s]
            .delays
            .iter()
            .flatten()
            .map(|d| d.median_years)
            .collect();
        let censored: Vec<f64> = self.results[s]
            .delays
            .iter()
            .flatten()
            .map(|d| d.censored_share)
            .collect();
        let di = Interval::of(&delays);
        let has = |m| self.has(s, m);
        [
            ce.icer,
            Some(ce.ne),
            Some(ce.nw),
            Some(ce.se),
            Some(ce.sw),
            nnt(enrol, averted(&[oc::T2D])),
            nnt(
                enrol,
                averted(&[oc::MI, oc::ISCHAEMIC_STROKE, oc::HAEMORRHAGIC_STROKE]),
            ),
            if has(oc::FRAILTY) {
                nnt(enrol, averted(&[oc::FRAILTY]))
            } else {
                None
            },
            nnt(enrol, averted(&[oc::LTC])),
            Some(di.mean),
            Some(di.lo),
            Some(di.hi),
            Some(Interval::of(&censored).mean),
        ]
    }

    fn replicate_table(&self) -> Table {
        let mut rep = Vec::new();
        let mut scen = Vec::new();
        let mut meas = Vec::new();
        let mut val = Vec::new();
        let mut dif = Vec::new();
        for (s, r) in self.results.iter().enumerate() {
            for (i, o) in r.outcomes.iter().enumerate() {
                for m in (0..N_MEASURES).filter(|&m| self.has(s, m)) {
                    rep.push(i as i64);
                    scen.push(Some(self.plans[s].name.clone()));
                    meas.push(Some(MEASURES[m].name.to_string()));
                    val.push(fin(o.total(m)));
                    dif.push(fin(o.total(m) - self.reference().outcomes[i].total(m)));
                }
            }
        }
        let mut t = Table::new("compare_replicates");
        t.push("replicate", Values::Int(rep));
        t.push("scenario", Values::Text(scen));
        t.push("measure", Values::Text(meas));
        t.push("value", Values::Float(val));
        t.push("difference_vs_reference", Values::Float(dif));
        t
    }

    fn charts(&self, psa: bool) -> anyhow::Result<Vec<String>> {
        let mut files = Vec::new();
        let years = self.results[0].outcomes[0].years;
        let x_year = |y: usize| (self.start_year + y as i64 + 1) as f64;
        // Cumulative incidence: cumulative events per 1,000 people simulated.
        let n0 = self.plans.len();
        let cum_charts = [
            (oc::T2D, "cumulative_incidence_t2d", "type 2 diabetes"),
            (oc::MI, "cumulative_incidence_mi", "myocardial infarction"),
            (
                oc::LTC,
                "cumulative_incidence_ltc",
                "long-term-care certification",
            ),
        ];
        let people = self.people;
        for (m, stem, label) in cum_charts {
            if !(0..n0).all(|s| self.has(s, m)) {
                continue;
            }
            let series = (0..n0)
                .map(|s| {
                    let mut acc = 0.0;
                    let mut pts = vec![(self.start_year as f64, 0.0)];
                    for y in 0..years {
                        let v = self.values(s, false, |o| o.get(y, ALL_AGES, m));
                        acc += v.iter().sum::<f64>() / v.len() as f64;
                        pts.push((x_year(y), 1000.0 * acc / people));
                    }
                    Series {
                        name: self.plans[s].name.clone(),
                        points: pts,
                    }
                })
                .collect();
            write_chart(
                &self.out.join(stem),
                &Chart {
                    title: format!("Cumulative {label} (mean over replicates)"),
                    x_label: "year".into(),
                    y_label: "events per 1,000 people simulated".into(),
                    series,
                    scatter: false,
                    vline: None,
                    ray: None,
                    zero_axes: false,
                },
            )?;
            files.push(format!("{stem}.png"));
            files.push(format!("{stem}.svg"));
        }
        if n0 < 2 {
            return Ok(files);
        }
        // Averted cases by year (reference − scenario), T2D and all events.
        let series = (1..n0)
            .map(|s| Series {
                name: format!("{} (T2D)", self.plans[s].name),
                points: (0..years)
                    .map(|y| {
                        let v = self.values(s, true, |o| o.get(y, ALL_AGES, oc::T2D));
                        (x_year(y) - 0.5, -v.iter().sum::<f64>() / v.len() as f64)
                    })
                    .collect(),
            })
            .collect();
        write_chart(
            &self.out.join("averted_by_year"),
            &Chart {
                title: format!("T2D cases averted per year vs {}", self.plans[0].name),
                x_label: "year".into(),
                y_label: "cases averted (simulated people)".into(),
                series,
                scatter: false,
                vline: None,
                ray: None,
                zero_axes: true,
            },
        )?;
        files.extend(["averted_by_year.png".into(), "averted_by_year.svg".into()]);
        // Cost-effectiveness plane.
        let e = self.effect();
        let series = (1..n0)
            .map(|s| Series {
                name: self.plans[s].name.clone(),
                points: self
                    .values(s, true, |o| o.total(e))
                    .into_iter()
                    .zip(self.values(s, true, |o| o.total(oc::TOTAL_COST) / 1e6))
                    .collect(),
            })
            .collect();
        let unit = if e == oc::QALYS { "QALY" } else { "life-year" };
        write_chart(
            &self.out.join("ce_plane"),
            &Chart {
                title: format!(
                    "Cost-effectiveness plane vs {} (one point per {})",
                    self.plans[0].name,
                    if psa { "PSA draw" } else { "replicate" }
                ),
                x_label: if e == oc::QALYS {
                    "incremental QALYs (discounted)".into()
                } else {
                    "incremental life-years (undiscounted)".into()
                },
                y_label: "incremental cost, million yen (discounted)".into(),
                series,
                scatter: true,
                vline: None,
                ray: Some((
                    JAPAN_REFERENCE_WTP_YEN / 1e6,
                    format!("¥5M per {unit} (Japan's reference value)"),
                )),
                zero_axes: true,
            },
        )?;
        files.extend(["ce_plane.png".into(), "ce_plane.svg".into()]);
        if psa {
            let grid: Vec<f64> = (0..=100)
                .map(|i| CEAC_MAX_WTP_YEN * f64::from(i) / 100.0)
                .collect();
            let mut rows = (vec![], vec![], vec![]);
            let series = (1..n0)
                .map(|s| {
                    let dc = self.values(s, true, |o| o.total(oc::TOTAL_COST));
                    let de = self.values(s, true, |o| o.total(e));
                    let pts: Vec<(f64, f64)> = grid
                        .iter()
                        .map(|&w| (w / 1e6, prob_cost_effective(&dc, &de, w)))
                        .collect();
                    for &(w, p) in &pts {
                        rows.0.push(Some(self.plans[s].name.clone()));
                        rows.1.push(Some(w * 1e6));
                        rows.2.push(fin(p));
                    }
                    Series {
                        name: self.plans[s].name.clone(),
                        points: pts,
                    }
                })
                .collect();
            write_chart(
                &self.out.join("ceac"),
                &Chart {
                    title: "Cost-effectiveness acceptability curve".into(),
                    x_label: format!("willingness to pay, million yen per {unit}"),
                    y_label: "probability cost-effective".into(),
                    series,
                    scatter: false,
                    vline: Some((
                        JAPAN_REFERENCE_WTP_YEN / 1e6,
                        "¥5M (Japan's reference value)".into(),
                    )),
                    ray: None,
                    zero_axes: false,
                },
            )?;
            let mut t = Table::new("ceac");
            t.push("scenario", Values::Text(rows.0));
            t.push("wtp_yen_per_effect", Values::Float(rows.1));
            t.push("probability_cost_effective", Values::Float(rows.2));
            write_csv(&t, &self.out.join("ceac.csv"))?;
            write_parquet(&t, &self.out.join("ceac.parquet"))?;
            files.extend(["ceac.png", "ceac.svg", "ceac.csv", "ceac.parquet"].map(String::from));
        }
        Ok(files)
    }

    fn print(
        &self,
        n: u64,
        years: u32,
        replicates: u32,
        threads: usize,
        args: &CompareArgs,
        notes: &[String],
    ) {
        let reference = &self.plans[0].name;
        println!(
            "healthtwin compare: {} scenario(s), {n} people, {years} years, {replicates} replicate(s), {}{}",
            self.plans.len(),
            if args.independent {
                "independent streams per scenario"
            } else {
                "common random numbers"
            },
            if args.psa.is_some() {
                ", one parameter draw per replicate (PSA)"
            } else {
                ""
            }
        );
        for note in notes {
            println!("note: {note}");
        }
        println!(
            "Whole horizon, simulated people; mean (95% interval over replicates). Differences are scenario - {reference}; negative = averted.{}\n",
            self.scale
                .map(|s| format!(" Scaled to the represented population: x{s:.2}."))
                .unwrap_or_default()
        );
        let w = 30;
        print!("{:<28}", "measure");
        for p in self.plans {
            print!(" {:>w$}", p.name);
        }
        for p in &self.plans[1..] {
            print!(" {:>w$}", format!("{} - {reference}", p.name));
        }
        println!();
        #[allow(clippy::needless_range_loop)] // `m` also indexes the outcomes
        for m in 0..N_MEASURES {
            if !(0..self.plans.len()).all(|s| self.has(s, m)) {
                continue;
            }
            let fmt = |iv: Interval| {
                let k = if MEASURES[m].name.ends_with("_yen") {
                    1e6
                } else {
                    1.0
                };
                let d = if k > 1.0 || iv.mean.abs() >= 100.0 {
                    0
                } else {
                    1
                };
                // `+ 0.0` turns -0.0 into 0.0 for display.
                format!(
                    "{:.d$} ({:.d$} to {:.d$})",
                    iv.mean / k + 0.0,
                    iv.lo / k + 0.0,
                    iv.hi / k + 0.0
                )
            };
            let label = if MEASURES[m].name.ends_with("_yen") {
                format!("{} [M yen]", MEASURES[m].name.trim_end_matches("_yen"))
            } else {
                MEASURES[m].name.to_string()
            };
            print!("{label:<28}");
            for s in 0..self.plans.len() {
                print!(
                    " {:>w$}",
                    fmt(Interval::of(&self.values(s, false, |o| o.total(m))))
                );
            }
            for s in 1..self.plans.len() {
                print!(
                    " {:>w$}",
                    fmt(Interval::of(&self.values(s, true, |o| o.total(m))))
                );
            }
            println!();
        }
        let e = self.effect();
        if self.plans.len() > 1 {
            println!();
            for s in 1..self.plans.len() {
                let r = self.econ_row(s, e);
                let f = |v: Option<f64>, k: f64, unit: &str| {
                    v.filter(|x| x.is_finite())
                        .map(|x| format!("{:.1}{unit}", x / k))
                        .unwrap_or_else(|| "n/a".into())
                };
                println!(
                    "{}: ICER {} per {} (ratio of mean differences); replicates NE {:.0}% NW {:.0}% SE {:.0}% SW {:.0}%; NNT per T2D case averted {}; per MI/stroke averted {}; median delay of T2D onset {} (95%: {} to {}; {} without onset in the scenario)",
                    self.plans[s].name,
                    f(r[0], 1e6, " M yen"),
                    MEASURES[e].name.trim_end_matches('s'),
                    100.0 * r[1].unwrap_or(f64::NAN),
                    100.0 * r[2].unwrap_or(f64::NAN),
                    100.0 * r[3].unwrap_or(f64::NAN),
                    100.0 * r[4].unwrap_or(f64::NAN),
                    f(r[5], 1.0, ""),
                    f(r[6], 1.0, ""),
                    f(r[9], 1.0, " y"),
                    f(r[10], 1.0, ""),
                    f(r[11], 1.0, ""),
                    r[12].map(|x| format!("{:.0}%", 100.0 * x)).unwrap_or_else(|| "n/a".into()),
                );
            }
        }
        let missing: Vec<&str> = self.results[0]
            .missing
            .iter()
            .map(|&m| MEASURES[m].name)
            .collect();
        if !missing.is_empty() {
            println!(
                "\nNot reported (the model of this build does not produce them): {}",
                missing.join(", ")
            );
        }
        println!("\nThroughput per scenario (simulation only, {threads} thread(s)):");
        for (p, r) in self.plans.iter().zip(self.results) {
            println!(
                "  {:<30} {:>12.0} patient-years in {:>7.1} s = {:>10.0} patient-years/s per core",
                p.name,
                r.person_years,
                r.seconds,
                r.person_years / r.seconds / threads as f64
            );
        }
        println!("Files in {}", self.out.display());
    }
}
