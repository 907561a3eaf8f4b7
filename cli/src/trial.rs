//! `healthtwin trial FILE.toml`: a virtual trial from a trial file (docs/trials.md);
//! `healthtwin trial dpp` runs the library's DPP file (`scenarios/trials/dpp.toml`).

use std::path::Path;
use std::time::Instant;

use report::plot::{write_chart, Chart, Series};
use report::table::{write_csv, write_parquet, Table, Values};
use scenarios::Source;
use serde::{Deserialize, Serialize};
use study::trial::{self, Design, TrialResults, BASELINE_VARIABLES, MEASURES};
use study::Allocation;

use crate::args::TrialArgs;
use crate::checkpoint;
use crate::common::{input_error, output_dir, DisclosureManifest, Provenance, StudyBar};
use crate::memory::{self, Footprint};
use crate::shard;
use crate::shard::InputFile;

/// The tables `trial` writes (each as .csv and .parquet), besides one Kaplan-Meier chart per
/// outcome (`km_<outcome>.png`/`.svg`) and manifest.json.
pub const TRIAL_TABLES: [&str; 5] = [
    "trial_recruitment",
    "trial_baseline",
    "trial_results",
    "trial_replicates",
    "trial_events",
];

/// `trial`'s manifest.json (written last).
#[derive(Serialize)]
struct TrialManifest {
    healthtwin_version: &'static str,
    git_commit: &'static str,
    trial: String,
    trial_file: String,
    seed: u64,
    replicates: u32,
    screened: usize,
    enrolled: usize,
    parameters: Vec<String>,
    threads: usize,
    wall_time_seconds: f64,
    files: Vec<String>,
    disclosure: DisclosureManifest,
}

/// The library's DPP trial, embedded so `trial dpp` runs from any folder.
pub const DPP: &str = include_str!("../../scenarios/trials/dpp.toml");

/// DPP's published incidence per 100 person-years (Knowler 2002 NEJM 346:393 [V]): the
/// calibration target of the metformin and lifestyle mechanisms, printed beside the result.
const DPP_TARGETS: [(&str, f64); 3] = [("placebo", 11.0), ("metformin", 7.8), ("lifestyle", 4.8)];

/// What makes a trial's outputs what they are: its file (or the embedded DPP file) and
/// cohort file with their hashes, and every flag that changes results. The identity of
/// `trial` shards.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
struct TrialIdentity {
    command: String,
    /// `None` for the embedded `dpp`.
    file: Option<InputFile>,
    cohort: Option<InputFile>,
    screened: Option<u64>,
    replicates: Option<u32>,
    seed: Option<u64>,
    set: Vec<String>,
}

/// A trial resolved from its identity: the file, the design, where its people come from.
struct Prepared {
    spec: scenarios::TrialSpec,
    design: Design,
    provenance: Provenance,
    is_dpp: bool,
    /// `--set` as given (the manifest's `parameters`).
    design_parameters: Vec<String>,
    /// The trial file as given on the command line.
    file_label: String,
}

/// Loads the trial file (from where the shards found it when `absolute`, checked against
/// its hash) and builds its design.
fn prepare(id: &TrialIdentity, absolute: bool) -> anyhow::Result<Prepared> {
    let is_dpp = id.file.is_none();
    let mut spec = match &id.file {
        None => scenarios::parse_trial(DPP, Path::new("scenarios/trials/dpp.toml")),
        Some(f) if absolute => {
            for g in std::iter::once(f).chain(&id.cohort) {
                if !g.unchanged() {
                    return Err(input_error(format!(
                        "merge: {} has changed since the shards ran (its SHA-256 differs)",
                        g.given
                    )));
                }
            }
            scenarios::load_trial(Path::new(&f.absolute))
        }
        Some(f) => scenarios::load_trial(Path::new(&f.given)),
    }
    .map_err(|e| input_error(e.to_string()))?;
    if let Some(r) = id.replicates {
        spec.replicates = r;
    }
    if let Some(s) = id.seed {
        spec.seed = s;
    }
    let mut model = spec.model();
    for kv in &id.set {
        let (k, v) = kv
            .split_once('=')
            .ok_or_else(|| input_error(format!("--set {kv}: expected NAME=VALUE")))?;
        let v: f64 = v
            .trim()
            .parse()
            .map_err(|_| input_error(format!("--set {kv}: `{v}` is not a number")))?;
        model
            .set_param(k.trim(), v)
            .map_err(|e| input_error(format!("--set {kv}: {e}")))?;
    }
    let design = Design {
        name: spec.name.clone(),
        model,
        eligibility: spec.eligibility.clone(),
        recruitment: spec.recruitment,
        allocation: match &spec.randomised {
            None => Allocation::Paired,
            Some(w) => Allocation::Randomised { weights: w.clone() },
        },
        arms: spec.arms.clone(),
        follow_up: spec.follow_up,
        ascertainment: spec.ascertainment,
        outcomes: spec.outcomes.clone(),
        seed: spec.seed,
        replicates: spec.replicates,
        step_months: spec.step_months,
    };
    // Person-level times to event and Kaplan-Meier steps of real people would be published
    // without disclosure control: trials run on synthetic people (or cohort files marked
    // synthetic) only, until those outputs are controlled.
    let provenance = match &spec.population.source {
        Source::CohortFile { path } => Provenance::cohort_file(path, None, false)?,
        _ => Provenance::synthetic(None)?,
    };
    if provenance.real_people() {
        return Err(input_error(format!(
            "{}: population.file holds real people's data; trial outputs (person-level times to \
             event, Kaplan-Meier steps) are not yet disclosure-controlled, so trials run on \
             synthetic populations only",
            spec.file.display()
        )));
    }
    Ok(Prepared {
        spec,
        design,
        provenance,
        is_dpp,
        design_parameters: id.set.clone(),
        file_label: id
            .file
            .as_ref()
            .map(|f| f.given.clone())
            .unwrap_or_default(),
    })
}

/// The screening of a prepared trial: the candidates made or read, the eligible enrolled.
fn screen(p: &Prepared, screened: Option<u64>, quiet: bool) -> anyhow::Result<trial::Screening> {
    let t0 = Instant::now();
    let candidates = p
        .spec
        .population
        .people(&p.spec.file, screened)
        .map_err(|e| input_error(e.to_string()))?;
    let screening =
        trial::screen(&p.design, &candidates).map_err(|e| input_error(e.to_string()))?;
    if !quiet {
        eprintln!(
            "{}: screened {}, eligible {}, consented {}, enrolled {} ({:.1} s)",
            p.spec.name,
            screening.screened,
            screening.eligible,
            screening.consented,
            screening.enrolled.len(),
            t0.elapsed().as_secs_f64()
        );
    }
    if screening.enrolled.is_empty() {
        return Err(input_error(format!(
            "{}: nobody eligible among {} screened; screen more people (--screened) or widen \
             the eligibility",
            p.spec.file.display(),
            screening.screened
        )));
    }
    Ok(screening)
}

/// The files a trial writes (besides manifest.json).
fn own_files(spec: &scenarios::TrialSpec) -> Vec<String> {
    let mut own: Vec<String> = TRIAL_TABLES
        .iter()
        .flat_map(|t| [format!("{t}.csv"), format!("{t}.parquet")])
        .collect();
    for o in &spec.outcomes {
        own.push(format!("km_{}.png", o.name));
        own.push(format!("km_{}.svg", o.name));
    }
    own
}

pub fn trial(args: &TrialArgs) -> anyhow::Result<()> {
    let is_dpp = args.file == Path::new("dpp");
    let checkpointed = args.checkpoint || args.resume;
    // The identity's files are hashed when it is kept (a shard's manifest, a checkpoint).
    let identified = args.shard.is_some() || checkpointed;
    let id = TrialIdentity {
        command: "trial".into(),
        file: if is_dpp {
            None
        } else {
            // Loaded (and its errors reported) by `prepare`; hashed for shards and
            // checkpoints.
            match identified {
                true if args.file.is_file() => Some(InputFile::of(&args.file)?),
                _ => Some(InputFile {
                    given: args.file.display().to_string(),
                    absolute: String::new(),
                    sha256: String::new(),
                }),
            }
        },
        cohort: None,
        screened: args.screened,
        replicates: args.replicates,
        seed: args.seed,
        set: args.set.clone(),
    };
    let mut id = id;
    let p = prepare(&id, false)?;
    if let (Source::CohortFile { path }, true) = (&p.spec.population.source, identified) {
        id.cohort = Some(InputFile::of(path)?);
    }
    if let Source::Synthetic { n, .. } = &p.spec.population.source {
        memory::check(&Footprint {
            size_flag: "--screened",
            people: args.screened.unwrap_or(*n),
            bytes_per_person: memory::SCREENED_PERSON_BYTES,
            other_bytes: memory::FIXED_BYTES,
            threads: rayon::current_num_threads(),
        })?;
    }
    let design = &p.design;
    let (range, own) = match args.shard {
        Some(s) => {
            if s.count > design.replicates {
                return Err(input_error(format!(
                    "--shard {}/{}: the trial has {} replicate(s), and a shard holds whole \
                     replicates (randomisation and analysis are per replicate): use at most {} \
                     shards (docs/shards.md)",
                    s.index, s.count, design.replicates, design.replicates
                )));
            }
            let r = s.range(u64::from(design.replicates));
            (
                r.start as u32..r.end as u32,
                vec![shard::PARTIALS.to_string()],
            )
        }
        None => (0..design.replicates, own_files(&p.spec)),
    };
    let own_refs: Vec<&str> = own.iter().map(String::as_str).collect();
    // Locked and writable before the trial runs.
    let out = output_dir(&args.out, &own_refs)?;
    let t0 = Instant::now();
    let screening = screen(&p, args.screened, false)?;
    let screen_seconds = t0.elapsed().as_secs_f64();
    let per_run = screening.enrolled.len() as u64 * u64::from(design.years());
    let runs = u64::from(range.end - range.start) * design.arms.len() as u64;
    let bar = StudyBar::new(per_run * runs, args.quiet);
    let t1 = Instant::now();
    let (runs, ck) = if checkpointed {
        let (runs, ck) = run_checkpointed(
            args,
            &id,
            design,
            &screening,
            out.path(),
            &bar,
            range.clone(),
        )?;
        (runs, Some(ck))
    } else {
        (
            trial::run_replicates(design, &screening, range.clone(), &bar)?,
            None,
        )
    };
    bar.finish();
    let run_seconds = t1.elapsed().as_secs_f64();
    if let Some(s) = args.shard {
        let mut e = shard::Enc::default();
        e.u64(runs.len() as u64);
        for rep in &runs {
            for run in rep {
                encode_run(&mut e, run);
            }
        }
        let sha = e.write(out.path())?;
        let seconds: Vec<f64> = (0..design.arms.len())
            .map(|a| runs.iter().map(|r| r[a].seconds).sum())
            .collect();
        shard::commit_shard(
            out,
            s,
            shard::Split::Draws,
            u64::from(range.start)..u64::from(range.end),
            serde_json::to_value(&id)?,
            sha,
            seconds,
            rayon::current_num_threads(),
            t0,
        )?;
        if let Some(ck) = ck {
            ck.remove()?;
        }
        eprintln!(
            "shard {}/{}: replicates {}..{} in {:.1} s; files in {} (merge with `healthtwin merge`)",
            s.index,
            s.count,
            range.start,
            range.end,
            t0.elapsed().as_secs_f64(),
            args.out.display()
        );
        return Ok(());
    }
    let results = trial::results_of(design, runs);
    write_trial(&p, &screening, &results, out, own, t0, true)?;
    // The outputs are complete.
    if let Some(ck) = ck {
        ck.remove()?;
    }
    eprintln!(
        "timing: screening {screen_seconds:.2} s, simulation and analysis {run_seconds:.2} s \
         ({} people x {} arms x {} replicates, {} months), total {:.2} s; files in {}",
        screening.enrolled.len(),
        design.arms.len(),
        design.replicates,
        design.follow_up.months,
        t0.elapsed().as_secs_f64(),
        args.out.display()
    );
    Ok(())
}

/// Runs replicates `reps` of the trial one by one with a checkpoint into `out` after each
/// (`--checkpoint`, `--resume`; every arm's run of the replicate, exactly, as a shard's
/// records): the replicates the checkpoint holds are not run again, and every run is then
/// read from the checkpoint, so a resumed trial analyses exactly the runs of an
/// uninterrupted one. The caller removes the checkpoint once the outputs are complete.
fn run_checkpointed(
    args: &TrialArgs,
    id: &TrialIdentity,
    design: &Design,
    screening: &trial::Screening,
    out: &Path,
    bar: &StudyBar,
    reps: std::ops::Range<u32>,
) -> anyhow::Result<(Vec<Vec<trial::ArmRun>>, checkpoint::Checkpoint)> {
    let key = serde_json::json!({ "trial": id, "shard": args.shard });
    let (ck, done) = checkpoint::Checkpoint::open_replicates(
        out,
        &key,
        args.resume,
        reps.clone(),
        "replicates",
        args.quiet,
    )?;
    let arms = design.arms.len();
    for r in reps.clone() {
        if done.contains(&r) {
            continue;
        }
        let runs = trial::run_replicates(design, screening, r..r + 1, bar)?;
        let mut e = shard::Enc::default();
        e.u64(u64::from(r));
        for run in runs.iter().flatten() {
            encode_run(&mut e, run);
        }
        ck.save_records(r, e)?;
    }
    let mut runs = Vec::with_capacity(reps.len());
    for r in reps {
        let mut d = ck.records(r)?;
        if d.u64()? != u64::from(r) {
            return Err(d.bad());
        }
        runs.push(
            (0..arms)
                .map(|_| decode_run(&mut d))
                .collect::<anyhow::Result<Vec<_>>>()?,
        );
        d.finish()?;
    }
    Ok((runs, ck))
}

fn encode_run(e: &mut shard::Enc, r: &trial::ArmRun) {
    e.u64(r.ids.len() as u64);
    for id in &r.ids {
        e.u64(*id);
    }
    e.u64(r.times.len() as u64);
    for t in &r.times {
        e.f32(*t);
    }
    e.u64(r.events.len() as u64);
    for x in &r.events {
        e.bool(*x);
    }
    e.f64(r.achieved_sbp_mmhg);
    e.f64(r.bp_drugs);
    e.f64(r.seconds);
}

fn decode_run(d: &mut shard::Dec) -> anyhow::Result<trial::ArmRun> {
    let n = d.len(8)?;
    let ids = (0..n).map(|_| d.u64()).collect::<anyhow::Result<_>>()?;
    let n = d.len(4)?;
    let times = (0..n).map(|_| d.f32()).collect::<anyhow::Result<_>>()?;
    let n = d.len(1)?;
    let events = (0..n).map(|_| d.bool()).collect::<anyhow::Result<_>>()?;
    Ok(trial::ArmRun {
        ids,
        times,
        events,
        achieved_sbp_mmhg: d.f64()?,
        bp_drugs: d.f64()?,
        seconds: d.f64()?,
    })
}

/// `healthtwin merge` of `trial` shards: the trial file loaded again (checked against its
/// hash) and its people screened again, every replicate's runs from its shard, then the
/// trial's one analysis and writer.
pub fn merge(set: &shard::ShardSet, out_path: &Path, quiet: bool) -> anyhow::Result<()> {
    let t0 = Instant::now();
    let id: TrialIdentity = serde_json::from_value(set.identity.clone())
        .map_err(|e| input_error(format!("merge: the shards' trial is not readable: {e}")))?;
    let p = prepare(&id, true)?;
    let own = own_files(&p.spec);
    let own_refs: Vec<&str> = own.iter().map(String::as_str).collect();
    let out = output_dir(out_path, &own_refs)?;
    let screening = screen(&p, id.screened, true)?;
    let arms = p.design.arms.len();
    let mut runs = Vec::with_capacity(p.design.replicates as usize);
    let mut at = 0;
    for (dir, m) in set.folders.iter().zip(&set.manifests) {
        let mut d = shard::Dec::open(dir)?;
        let n = d.len(arms)?;
        if m.shard.first != at || m.shard.end - m.shard.first != n as u64 {
            return Err(d.bad());
        }
        at = m.shard.end;
        for _ in 0..n {
            runs.push(
                (0..arms)
                    .map(|_| decode_run(&mut d))
                    .collect::<anyhow::Result<Vec<_>>>()?,
            );
        }
        d.finish()?;
    }
    if at != u64::from(p.design.replicates) {
        return Err(input_error(format!(
            "merge: the shards hold {at} of the trial's {} replicates",
            p.design.replicates
        )));
    }
    let results = trial::results_of(&p.design, runs);
    write_trial(&p, &screening, &results, out, own, t0, !quiet)?;
    if !quiet {
        println!("Files in {}", out_path.display());
    }
    Ok(())
}

/// A trial's tables, charts, manifest and terminal summary: the one writer of `trial` and
/// of its merge.
fn write_trial(
    p: &Prepared,
    screening: &trial::Screening,
    results: &TrialResults,
    out: report::OutputDir,
    own: Vec<String>,
    t0: Instant,
    print: bool,
) -> anyhow::Result<()> {
    let design = &p.design;
    if print {
        print_summary(design, results, p.is_dpp);
    }
    write_outputs(out.path(), design, screening, results)?;
    let manifest = TrialManifest {
        healthtwin_version: env!("CARGO_PKG_VERSION"),
        git_commit: env!("HEALTHTWIN_GIT_COMMIT"),
        trial: design.name.clone(),
        trial_file: if p.is_dpp {
            "scenarios/trials/dpp.toml (embedded)".to_string()
        } else {
            p.file_label.clone()
        },
        seed: design.seed,
        replicates: design.replicates,
        screened: screening.screened,
        enrolled: screening.enrolled.len(),
        parameters: p.design_parameters.clone(),
        threads: rayon::current_num_threads(),
        wall_time_seconds: t0.elapsed().as_secs_f64(),
        files: own,
        disclosure: p.provenance.policy.record(0).into(),
    };
    out.commit(serde_json::to_string_pretty(&manifest)?.as_bytes())?;
    Ok(())
}

/// Per outcome and arm: mean over replicates with the 2.5/97.5 percentiles.
fn summary(results: &TrialResults, o: usize, a: usize) -> Vec<(f64, f64, f64)> {
    (0..MEASURES.len())
        .map(|m| {
            let mut v: Vec<f64> = results
                .replicates
                .iter()
                .map(|rep| rep[o][a].measures()[m])
                .collect();
            trial::mean_interval(&mut v)
        })
        .collect()
}

fn print_summary(design: &Design, results: &TrialResults, is_dpp: bool) {
    println!(
        "Trial {}: {} replicate(s); mean over replicates (95% interval over replicates).",
        design.name, design.replicates
    );
    let idx = |name: &str| MEASURES.iter().position(|m| *m == name).unwrap_or(0);
    for (o, name) in results.outcomes.iter().enumerate() {
        println!("\noutcome {name}");
        println!(
            "{:<14} {:>8} {:>22} {:>24} {:>24} {:>10} {:>8}",
            "arm", "events", "per 100 PY", "KM cum. inc. %", "hazard ratio", "RRR %", "NNT"
        );
        for (a, arm) in results.arms.iter().enumerate() {
            let s = summary(results, o, a);
            let f = |m: &str| {
                let (x, lo, hi) = s[idx(m)];
                if x.is_finite() {
                    format!("{x:.2} ({lo:.2}-{hi:.2})")
                } else {
                    "-".to_string()
                }
            };
            let one = |m: &str| {
                let x = s[idx(m)].0;
                if x.is_finite() {
                    format!("{x:.1}")
                } else {
                    "-".to_string()
                }
            };
            println!(
                "{:<14} {:>8} {:>22} {:>24} {:>24} {:>10} {:>8}",
                arm,
                one("events"),
                f("rate_per_100py"),
                f("km_cumulative_incidence_pct"),
                f("hazard_ratio"),
                one("rrr_pct"),
                one("nnt"),
            );
        }
    }
    if design
        .arms
        .iter()
        .flat_map(|a| &a.programmes)
        .any(|p| p.kind == models::interventions::Kind::BpTreatToTarget)
    {
        println!("\nachieved SBP at the end of follow-up (survivors), mean drugs:");
        for (a, arm) in results.arms.iter().enumerate() {
            let mut sbp: Vec<f64> = results
                .runs
                .iter()
                .map(|r| r[a].achieved_sbp_mmhg)
                .collect();
            let mut drugs: Vec<f64> = results.runs.iter().map(|r| r[a].bp_drugs).collect();
            let (s, _, _) = trial::mean_interval(&mut sbp);
            let (d, _, _) = trial::mean_interval(&mut drugs);
            println!("  {arm:<14} {s:.1} mmHg, {d:.2} drugs");
        }
    }
    if is_dpp {
        let targets: Vec<String> = DPP_TARGETS
            .iter()
            .map(|(arm, rate)| format!("{arm} {rate}"))
            .collect();
        println!(
            "\nDPP (Knowler 2002 NEJM 346:393), incidence per 100 PY: {}; RRR metformin 31%, \
             lifestyle 58%.",
            targets.join(", ")
        );
    }
}

fn text(v: Vec<String>) -> Values {
    Values::Text(v.into_iter().map(Some).collect())
}

fn floats(v: Vec<f64>) -> Values {
    Values::Float(v.into_iter().map(|x| x.is_finite().then_some(x)).collect())
}

fn write_both(table: &Table, out: &Path, stem: &str) -> anyhow::Result<()> {
    write_csv(table, &out.join(format!("{stem}.csv")))?;
    write_parquet(table, &out.join(format!("{stem}.parquet")))?;
    Ok(())
}

fn write_outputs(
    out: &Path,
    design: &Design,
    screening: &trial::Screening,
    results: &TrialResults,
) -> anyhow::Result<()> {
    // Recruitment.
    let mut t = Table::new("trial_recruitment");
    let n_arm: Vec<f64> = (0..design.arms.len())
        .map(|a| {
            results
                .runs
                .first()
                .map_or(f64::NAN, |r| r[a].ids.len() as f64)
        })
        .collect();
    let mut names = vec![
        "screened".to_string(),
        "eligible".into(),
        "consented".into(),
        "enrolled".into(),
    ];
    let mut values = vec![
        screening.screened as f64,
        screening.eligible as f64,
        screening.consented as f64,
        screening.enrolled.len() as f64,
    ];
    for (a, arm) in design.arms.iter().enumerate() {
        names.push(format!("arm_{}_replicate_0", arm.name));
        values.push(n_arm[a]);
    }
    t.push("stage", text(names));
    t.push("people", floats(values));
    write_both(&t, out, "trial_recruitment")?;

    // Baseline table per arm (replicate 0's allocation).
    let settings = study::Settings {
        seed: design.seed,
        ..study::Settings::default()
    };
    let mut t = Table::new("trial_baseline");
    let (mut arm_col, mut var_col, mut mean_col, mut sd_col, mut n_col) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for (a, arm) in design.arms.iter().enumerate() {
        let rows: Vec<&[f64; BASELINE_VARIABLES.len()]> = screening
            .enrolled
            .iter()
            .zip(&screening.baseline)
            .filter(|(b, _)| {
                design
                    .allocation
                    .arm_of(&settings, 0, b.id)
                    .is_none_or(|x| x == a)
            })
            .map(|(_, v)| v)
            .collect();
        for (j, var) in BASELINE_VARIABLES.iter().enumerate() {
            let n = rows.len() as f64;
            let mean = rows.iter().map(|r| r[j]).sum::<f64>() / n;
            let sd = (rows
                .iter()
                .map(|r| (r[j] - mean) * (r[j] - mean))
                .sum::<f64>()
                / (n - 1.0))
                .sqrt();
            arm_col.push(arm.name.clone());
            var_col.push(var.to_string());
            mean_col.push(mean);
            sd_col.push(sd);
            n_col.push(n);
        }
    }
    t.push("arm", text(arm_col));
    t.push("variable", text(var_col));
    t.push("mean", floats(mean_col));
    t.push("sd", floats(sd_col));
    t.push("people", floats(n_col));
    write_both(&t, out, "trial_baseline")?;

    // Results over replicates, and per replicate.
    let mut t = Table::new("trial_results");
    let (mut oc, mut ac, mut mc, mut mean, mut lo, mut hi) = (
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
    );
    for (o, outcome) in results.outcomes.iter().enumerate() {
        for (a, arm) in results.arms.iter().enumerate() {
            for (m, s) in summary(results, o, a).into_iter().enumerate() {
                oc.push(outcome.clone());
                ac.push(arm.clone());
                mc.push(MEASURES[m].to_string());
                mean.push(s.0);
                lo.push(s.1);
                hi.push(s.2);
            }
        }
    }
    t.push("outcome", text(oc));
    t.push("arm", text(ac));
    t.push("measure", text(mc));
    t.push("mean", floats(mean));
    t.push("lo95", floats(lo));
    t.push("hi95", floats(hi));
    write_both(&t, out, "trial_results")?;

    let mut t = Table::new("trial_replicates");
    let mut rep_col = Vec::new();
    let (mut oc, mut ac) = (Vec::new(), Vec::new());
    let mut cols: Vec<Vec<f64>> = vec![Vec::new(); MEASURES.len()];
    for (r, rep) in results.replicates.iter().enumerate() {
        for (o, per_arm) in rep.iter().enumerate() {
            for (a, x) in per_arm.iter().enumerate() {
                rep_col.push(r as i64);
                oc.push(results.outcomes[o].clone());
                ac.push(results.arms[a].clone());
                for (c, v) in cols.iter_mut().zip(x.measures()) {
                    c.push(v);
                }
            }
        }
    }
    t.push("replicate", Values::Int(rep_col));
    t.push("outcome", text(oc));
    t.push("arm", text(ac));
    for (name, c) in MEASURES.iter().zip(cols) {
        t.push(*name, floats(c));
    }
    write_both(&t, out, "trial_replicates")?;

    // Person-level times to event (every replicate, arm and outcome).
    let n_out = results.outcomes.len();
    let mut t = Table::new("trial_events");
    let (mut rc, mut ac, mut pc, mut oc, mut tc, mut ec) = (
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
    );
    for (r, rep) in results.runs.iter().enumerate() {
        for (a, run) in rep.iter().enumerate() {
            for (i, id) in run.ids.iter().enumerate() {
                for o in 0..n_out {
                    rc.push(r as i64);
                    ac.push(results.arms[a].clone());
                    pc.push(*id as i64);
                    oc.push(results.outcomes[o].clone());
                    tc.push(f64::from(run.times[i * n_out + o]));
                    ec.push(run.events[i * n_out + o]);
                }
            }
        }
    }
    t.push("replicate", Values::Int(rc));
    t.push("arm", text(ac));
    t.push("person", Values::Int(pc));
    t.push("outcome", text(oc));
    t.push("time_years", floats(tc));
    t.push("event", Values::Bool(ec));
    write_both(&t, out, "trial_events")?;

    // Kaplan–Meier charts.
    for (o, outcome) in results.outcomes.iter().enumerate() {
        let mut chart = Chart::lines(
            format!(
                "{}: {outcome}, Kaplan-Meier cumulative incidence",
                design.name
            ),
            "years since entry",
            "cumulative incidence (%)",
        );
        for (a, arm) in results.arms.iter().enumerate() {
            let curve = &results.curves[o][a];
            chart.series.push(Series {
                name: arm.clone(),
                points: curve.iter().map(|c| (c.0, c.1)).collect(),
                band: if design.replicates > 1 {
                    curve.iter().map(|c| (c.0, c.2, c.3)).collect()
                } else {
                    Vec::new()
                },
            });
        }
        write_chart(&out.join(format!("km_{outcome}")), &chart)?;
    }
    Ok(())
}
