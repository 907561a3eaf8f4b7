//! `healthtwin slurm`: job scripts that run a `run`, `compare`, `trial`, `plan` or
//! `twin --cohort` as a Slurm job array over its shards, then merge them in a job that starts only when every shard succeeded
//! (`afterok`); a `calibrate` (ABC-SMC) as a chain of such arrays, one per round of
//! candidates, each merge submitting the next round ([`calibrate`]). Resource requests come from the memory model of `memory.rs` and a measured
//! throughput (docs/shards.md, docs/validation.md), with a margin.
//!
//! Writes into `--jobs DIR`: `shards.sbatch` (the array: shard `$SLURM_ARRAY_TASK_ID` of N
//! into `DIR/shards/<i>`, `--resume` so a requeued task continues from its checkpoint),
//! `merge.sbatch`, and `submit.sh` (submits both, the merge depending on the array).
//!
//! Must never: submit anything itself (the user runs `submit.sh`), or change what the
//! sharded command computes.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use clap::Parser;
use scenarios::Source;

use crate::args::{Cli, Command, SlurmArgs};
use crate::common::input_error;
use crate::memory;

/// What one shard will do: people and patient-years (for memory and time).
struct Size {
    people_per_shard: u64,
    patient_years_per_shard: f64,
    years: u32,
    runs_per_shard: u64,
    metrics: usize,
}

fn size(args: &SlurmArgs, cli: &Cli) -> anyhow::Result<Size> {
    let n = u64::from(args.shards);
    match &cli.command {
        Command::Run(r) => {
            let people = match &r.cohort {
                Some(path) => report::provenance::read(path).rows.ok_or_else(|| {
                    input_error(format!(
                        "{}: the number of people is not known without reading the file; \
                         write it as Parquet (cohort import, cohort synth)",
                        path.display()
                    ))
                })?,
                None => r.patients,
            };
            let per = people.div_ceil(n);
            Ok(Size {
                people_per_shard: per,
                patient_years_per_shard: per as f64 * f64::from(r.years) * f64::from(r.replicates),
                years: r.years,
                runs_per_shard: u64::from(r.replicates),
                metrics: 200,
            })
        }
        Command::Compare(c) => {
            let first = c
                .scenarios
                .get(c.population_from as usize - 1)
                .ok_or_else(|| input_error("--population-from: no such scenario"))?;
            let s = scenarios::load(first).map_err(|e| input_error(e.to_string()))?;
            let people = people_of(&s.population.source, c.patients)?;
            let years = c.years.unwrap_or(s.years);
            let replicates = u64::from(c.psa.or(c.replicates).unwrap_or(s.replicates));
            let arms = c.scenarios.len() as u64;
            let (per_people, per_reps) = if c.psa.is_some() {
                (people, replicates.div_ceil(n))
            } else if !s.regions.is_empty() {
                // Whole regions a shard: the largest shard's people.
                let r = s.regions.len() as u64;
                let largest = (0..n)
                    .map(|i| {
                        let (a, b) = ((r * i / n) as usize, (r * (i + 1) / n) as usize);
                        s.regions[a..b]
                            .iter()
                            .map(|g| g.people.end - g.people.start)
                            .sum::<u64>()
                    })
                    .max()
                    .unwrap_or(people);
                (largest, replicates)
            } else {
                (people.div_ceil(n), replicates)
            };
            Ok(Size {
                people_per_shard: per_people,
                patient_years_per_shard: per_people as f64
                    * f64::from(years)
                    * (per_reps * arms) as f64,
                years,
                runs_per_shard: per_reps * arms,
                metrics: 200,
            })
        }
        Command::Trial(t) => {
            let spec = if t.file == Path::new("dpp") {
                scenarios::parse_trial(crate::trial::DPP, Path::new("scenarios/trials/dpp.toml"))
            } else {
                scenarios::load_trial(&t.file)
            }
            .map_err(|e| input_error(e.to_string()))?;
            let people = people_of(&spec.population.source, t.screened)?;
            let replicates = t.replicates.unwrap_or(spec.replicates);
            let reps = by_replicate(args.shards, replicates)?;
            let years = spec.follow_up.months.div_ceil(12).max(1);
            let arms = spec.arms.len() as u64;
            // Every candidate is screened in every shard; at most all of them enrolled.
            Ok(Size {
                people_per_shard: people * memory::SCREENED_PERSON_BYTES
                    / memory::SIMULATED_PERSON_BYTES
                    + people,
                patient_years_per_shard: people as f64 * f64::from(years) * (reps * arms) as f64,
                years,
                runs_per_shard: reps * arms,
                metrics: 200,
            })
        }
        Command::Plan(p) => {
            let file = scenarios::plan::load(&p.plan).map_err(|e| input_error(e.to_string()))?;
            let opts = p.options();
            // The plan itself (its residents and arms): what each shard builds.
            let plan = plan::Plan::new(file, &opts).map_err(|e| input_error(e.to_string()))?;
            let settings = &plan.study.settings;
            let reps = by_replicate(args.shards, settings.replicates)?;
            let people = plan.people().len() as u64;
            let arms = plan.study.arms.len() as u64;
            Ok(Size {
                people_per_shard: people,
                patient_years_per_shard: people as f64
                    * f64::from(settings.years)
                    * (reps * arms) as f64,
                years: settings.years,
                runs_per_shard: reps * arms,
                metrics: 200,
            })
        }
        Command::Twin(t) => {
            let a = &t.args;
            let (Some(dir), None, None) = (&a.cohort, &a.pseudonym, &t.action) else {
                return Err(input_error(
                    "healthtwin slurm: of `twin`, only the stratification of a cohort \
                     (`twin --cohort DIR`) shards",
                ));
            };
            let people = report::provenance::read(&dir.join("cohort.parquet"))
                .rows
                .ok_or_else(|| {
                    input_error(format!("{}/cohort.parquet: rows unknown", dir.display()))
                })?;
            let batch = a.batch.max(1) as u64;
            let batches = people.div_ceil(batch);
            if u64::from(args.shards) > batches {
                return Err(input_error(format!(
                    "--shards {}: the cohort's {people} people are {batches} batch(es) of \
                     --batch {batch}, and a shard holds whole batches: use at most {batches} \
                     shards",
                    args.shards
                )));
            }
            let per = batches.div_ceil(n) * batch;
            // Every copy of a batch is simulated at once in each arm (usual care and up to
            // six interventions), 10 years or more.
            let copies = batch * u64::from(a.futures.unwrap_or(32));
            let arms = 7;
            let years = a.years.max(10);
            Ok(Size {
                people_per_shard: people + copies * arms,
                patient_years_per_shard: (per * u64::from(a.futures.unwrap_or(32)) * arms) as f64
                    * f64::from(years),
                years,
                runs_per_shard: per.div_ceil(batch) * arms,
                metrics: 200,
            })
        }
        _ => Err(input_error(
            "healthtwin slurm: only `run …`, `compare …`, `trial …`, `plan …` and \
             `twin --cohort …` shard (docs/shards.md)",
        )),
    }
}

/// The people of a scenario's population: `given` (a `--patients`/`--screened` flag), the
/// synthetic size, or the rows of its cohort file.
fn people_of(source: &Source, given: Option<u64>) -> anyhow::Result<u64> {
    match (source, given) {
        (_, Some(p)) => Ok(p),
        (Source::Synthetic { n, .. }, None) => Ok(*n),
        (Source::CohortFile { path }, None) => report::provenance::read(path)
            .rows
            .ok_or_else(|| input_error(format!("{}: rows unknown", path.display()))),
    }
}

/// Replicates per shard of a command that shards by replicate; more shards than
/// replicates is refused.
fn by_replicate(shards: u32, replicates: u32) -> anyhow::Result<u64> {
    if shards > replicates {
        return Err(input_error(format!(
            "--shards {shards}: the command has {replicates} replicate(s), and a shard holds \
             whole replicates: use at most {replicates} shards"
        )));
    }
    Ok(u64::from(replicates.div_ceil(shards)))
}

/// The command's arguments without its --out (returned separately) and --threads/--quiet.
fn split_out(command: &[String]) -> anyhow::Result<(Vec<String>, String)> {
    let mut rest = Vec::new();
    let mut out = None;
    let mut it = command.iter();
    while let Some(a) = it.next() {
        if a == "--out" || a == "-o" {
            out = it.next().cloned();
        } else if let Some(v) = a.strip_prefix("--out=") {
            out = Some(v.to_string());
        } else if a == "--threads" {
            it.next();
        } else if a.starts_with("--threads=") || a == "-q" || a == "--quiet" {
        } else if a == "--shard" || a.starts_with("--shard=") {
            return Err(input_error(
                "healthtwin slurm: the command must not have --shard (the array sets it)",
            ));
        } else {
            rest.push(a.clone());
        }
    }
    let out = out.ok_or_else(|| {
        input_error("healthtwin slurm: the command needs --out (where the merged run goes)")
    })?;
    Ok((rest, out))
}

fn quote(s: &str) -> String {
    if !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./=:,+@%".contains(&b))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

fn hms(seconds: f64) -> String {
    let s = seconds.ceil().max(60.0) as u64;
    format!("{:02}:{:02}:{:02}", s / 3600, (s / 60) % 60, s % 60)
}

fn absolute(p: &Path) -> anyhow::Result<PathBuf> {
    std::path::absolute(p).map_err(|e| input_error(format!("{}: {e}", p.display())))
}

pub fn slurm(args: &SlurmArgs) -> anyhow::Result<()> {
    let mut argv = vec!["healthtwin".to_string()];
    argv.extend(args.command.iter().cloned());
    let cli = Cli::try_parse_from(&argv)
        .map_err(|e| input_error(format!("the command after --: {e}")))?;
    if let Command::Calibrate(c) = &cli.command {
        return calibrate(args, c);
    }
    let size = size(args, &cli)?;
    let (rest, out) = split_out(&args.command)?;
    // `run`, `compare`, `trial` and `plan` checkpoint (docs/shards.md): a requeued task
    // continues from its checkpoint (unless the command already says --resume).
    let resume = matches!(
        cli.command,
        Command::Run(_) | Command::Compare(_) | Command::Trial(_) | Command::Plan(_)
    ) && !rest.iter().any(|a| a == "--resume");
    let jobs = absolute(&args.jobs)?;
    let out = absolute(Path::new(&out))?;
    let bin = std::env::current_exe()?;
    let n = args.shards;

    // Memory: the model of memory.rs for one shard, plus half again (fragmentation, the
    // allocator's per-thread arenas), rounded up to 64 MiB.
    let bytes = size.people_per_shard * memory::SIMULATED_PERSON_BYTES
        + memory::FIXED_BYTES
        + memory::aggregate_bytes(size.years, size.metrics, size.runs_per_shard)
        + u64::from(args.cpus) * memory::VIRTUAL_BYTES_PER_THREAD;
    let mem_mb = (bytes * 3 / 2).div_ceil(64 << 20) * 64;
    // Time: the patient-years at the measured rate, three times over (slower nodes, file
    // systems), plus 10 minutes of start-up and writing.
    let seconds = size.patient_years_per_shard
        / (args.patient_years_per_core_second * f64::from(args.cpus))
        * 3.0
        + 600.0;
    let merge_mem_mb = 2048;

    let Parts { head, cmd, array } = parts(args, &jobs, &rest)?;
    let shards = format!(
        "#!/bin/bash
# healthtwin shards as a Slurm job array (written by `healthtwin slurm`; docs/shards.md).
# One task per shard; per shard: {people} people, {py:.3e} patient-years.
#SBATCH --job-name=healthtwin-shards
#SBATCH --array={array}
#SBATCH --cpus-per-task={cpus}
#SBATCH --mem={mem_mb}M
#SBATCH --time={time}
#SBATCH --requeue
#SBATCH --open-mode=append
#SBATCH --output={logs}/shard-%a.out
{head}set -euo pipefail
i=${{SLURM_ARRAY_TASK_ID:?run this script with sbatch}}
exec {bin} {cmd} --shard \"$i/{n}\" --out {shards_dir}/\"$i\" --threads {cpus} --quiet{resume}
",
        people = size.people_per_shard,
        py = size.patient_years_per_shard,
        cpus = args.cpus,
        time = hms(seconds),
        logs = quote(&jobs.join("logs").display().to_string()),
        bin = quote(&bin.display().to_string()),
        cmd = cmd.join(" "),
        shards_dir = quote(&jobs.join("shards").display().to_string()),
        resume = if resume { " --resume" } else { "" },
    );
    let shard_dirs: Vec<String> = (0..n)
        .map(|i| {
            quote(
                &jobs
                    .join("shards")
                    .join(i.to_string())
                    .display()
                    .to_string(),
            )
        })
        .collect();
    let merge = format!(
        "#!/bin/bash
# Merge of the shards into the unsharded run's outputs (submitted by submit.sh with
# --dependency=afterok on the array, so it starts only when every shard succeeded).
#SBATCH --job-name=healthtwin-merge
#SBATCH --cpus-per-task=1
#SBATCH --mem={merge_mem_mb}M
#SBATCH --time=01:00:00
#SBATCH --output={logs}/merge.out
{head}set -euo pipefail
exec {bin} merge {dirs} --out {out} --threads 1
",
        logs = quote(&jobs.join("logs").display().to_string()),
        bin = quote(&bin.display().to_string()),
        dirs = shard_dirs.join(" "),
        out = quote(&out.display().to_string()),
    );
    let submit = submit_script(
        &jobs,
        "the shard array and the merge that waits for it (afterok)",
    )?;
    write_script(&jobs.join("shards.sbatch"), &shards)?;
    write_script(&jobs.join("merge.sbatch"), &merge)?;
    write_script(&jobs.join("submit.sh"), &submit)?;
    eprintln!(
        "wrote {0}/shards.sbatch ({n} tasks of {1} cores, {mem_mb} MiB, {2} each), {0}/merge.sbatch and {0}/submit.sh; run {0}/submit.sh to submit",
        jobs.display(),
        args.cpus,
        hms(seconds)
    );
    Ok(())
}

/// A calibration's ABC-SMC rounds on Slurm (docs/shards.md, "Sharding a calibration"):
/// `shards.sbatch` is one round (an array of `calibrate … --shard i/N`), `merge.sbatch`
/// merges it (`--merge-round`, afterok) and, until the calibration is complete
/// (OUT/manifest.json), submits the next round and its merge; `submit.sh` submits the
/// first. Every task of every round writes into OUT/checkpoint: OUT must be on a file
/// system the nodes share.
fn calibrate(args: &SlurmArgs, c: &crate::calibrate::CalibrateCommand) -> anyhow::Result<()> {
    let fit = &c.fit;
    if c.action.is_some() {
        return Err(input_error(
            "healthtwin slurm: of `calibrate`, only the fit (ABC-SMC) shards",
        ));
    }
    if fit.method != crate::calibrate::Method::Abc {
        return Err(input_error(
            "healthtwin slurm: a calibration shards its ABC-SMC candidates (--method abc); \
             Nelder–Mead evaluates one point after another",
        ));
    }
    let (rest, out) = split_out(&args.command)?;
    if rest
        .iter()
        .any(|a| matches!(a.as_str(), "--merge-round" | "--checkpoint" | "--resume"))
    {
        return Err(input_error(
            "healthtwin slurm: the calibration must not have --merge-round, --checkpoint or \
             --resume (the scripts run its rounds)",
        ));
    }
    let jobs = absolute(&args.jobs)?;
    let out = absolute(Path::new(&out))?;
    let bin = std::env::current_exe()?;
    let n = args.shards;
    // A round is at most 4 × particles candidates (+ the defaults in round 0), cut into N.
    let people = match (&fit.cohort, &fit.cohort_dir) {
        (Some(path), _) => report::provenance::read(path).rows.unwrap_or(fit.patients),
        (None, Some(dir)) => report::provenance::read(&dir.join("cohort.parquet"))
            .rows
            .unwrap_or(fit.patients),
        (None, None) => fit.patients,
    };
    let candidates = (4 * fit.particles + 1).div_ceil(u64::from(n));
    let years = fit.years.unwrap_or(10);
    // Memory: the simulated population (shared by the task's simulations), each thread's
    // simulation in chunks of 1,024 people, the fixed part; half again, in 64 MiB.
    let bytes = people * memory::SIMULATED_PERSON_BYTES
        + 1024 * memory::SIMULATED_PERSON_BYTES * u64::from(args.cpus)
        + memory::FIXED_BYTES
        + u64::from(args.cpus) * memory::VIRTUAL_BYTES_PER_THREAD;
    let mem_mb = (bytes * 3 / 2).div_ceil(64 << 20) * 64;
    let patient_years = (candidates * people) as f64 * f64::from(years);
    let seconds =
        patient_years / (args.patient_years_per_core_second * f64::from(args.cpus)) * 3.0 + 600.0;
    let Parts { head, cmd, array } = parts(args, &jobs, &rest)?;
    let logs = quote(&jobs.join("logs").display().to_string());
    let bin = quote(&bin.display().to_string());
    let out_q = quote(&out.display().to_string());
    let jobs_q = quote(&jobs.display().to_string());
    let cmd = cmd.join(" ");
    let shards = format!(
        "#!/bin/bash
# One round of a healthtwin calibration's ABC-SMC candidates as a Slurm job array (written
# by `healthtwin slurm`; docs/shards.md). Per task: at most {candidates} simulations of
# {people} people × {years} years.
#SBATCH --job-name=healthtwin-calibrate
#SBATCH --array={array}
#SBATCH --cpus-per-task={cpus}
#SBATCH --mem={mem_mb}M
#SBATCH --time={time}
#SBATCH --requeue
#SBATCH --open-mode=append
#SBATCH --output={logs}/shard-%A-%a.out
{head}set -euo pipefail
i=${{SLURM_ARRAY_TASK_ID:?run this script with sbatch}}
exec {bin} {cmd} --shard \"$i/{n}\" --out {out_q} --threads {cpus} --quiet
",
        cpus = args.cpus,
        time = hms(seconds),
    );
    let merge = format!(
        "#!/bin/bash
# Merges a round of the calibration (afterok on its array) and, until the calibration is
# complete ({out_q}/manifest.json), submits the next round and its merge.
#SBATCH --job-name=healthtwin-calibrate-merge
#SBATCH --cpus-per-task=1
#SBATCH --mem=2048M
#SBATCH --time=01:00:00
#SBATCH --output={logs}/merge-%j.out
{head}set -euo pipefail
{bin} {cmd} --merge-round --out {out_q} --threads 1
if [ ! -f {out_q}/manifest.json ]; then
  exec {jobs_q}/submit.sh
fi
"
    );
    let submit = submit_script(
        &jobs,
        "one round of the calibration (the shard array) and its merge (afterok), which\n# submits the next round in turn",
    )?;
    write_script(&jobs.join("shards.sbatch"), &shards)?;
    write_script(&jobs.join("merge.sbatch"), &merge)?;
    write_script(&jobs.join("submit.sh"), &submit)?;
    eprintln!(
        "wrote {0}/shards.sbatch (one round: {n} tasks of {1} cores, {mem_mb} MiB, {2} each), \
         {0}/merge.sbatch (merges a round, submits the next until {3}/manifest.json exists) \
         and {0}/submit.sh; run {0}/submit.sh to submit the first round",
        jobs.display(),
        args.cpus,
        hms(seconds),
        out.display()
    );
    Ok(())
}

/// What every job script of a command shares: the `#SBATCH` lines of `--partition` and
/// `--account`, the command quoted, the array's range (with `--max-running`).
struct Parts {
    head: String,
    cmd: Vec<String>,
    array: String,
}

/// The shared parts of the scripts; makes `JOBS/logs`.
fn parts(args: &SlurmArgs, jobs: &Path, rest: &[String]) -> anyhow::Result<Parts> {
    std::fs::create_dir_all(jobs.join("logs"))
        .map_err(|e| input_error(format!("{}: {e}", jobs.display())))?;
    let mut head = String::new();
    if let Some(p) = &args.partition {
        let _ = writeln!(head, "#SBATCH --partition={}", quote(p));
    }
    if let Some(a) = &args.account {
        let _ = writeln!(head, "#SBATCH --account={}", quote(a));
    }
    let n = args.shards;
    let array = match args.max_running {
        Some(k) => format!("0-{}%{k}", n - 1),
        None => format!("0-{}", n - 1),
    };
    Ok(Parts {
        head,
        cmd: rest.iter().map(|a| quote(a)).collect(),
        array,
    })
}

/// `submit.sh`: submits `shards.sbatch`, then `merge.sbatch` with afterok on it, from the
/// folder `healthtwin slurm` was run in; prints both job ids.
fn submit_script(jobs: &Path, what: &str) -> anyhow::Result<String> {
    Ok(format!(
        "#!/bin/bash
# Submits {what}. Prints both job ids.
set -euo pipefail
cd {cwd}
array=$(sbatch --parsable {jobs}/shards.sbatch)
array=${{array%%;*}}
merge=$(sbatch --parsable --dependency=afterok:$array {jobs}/merge.sbatch)
merge=${{merge%%;*}}
echo \"$array $merge\"
",
        jobs = quote(&jobs.display().to_string()),
        cwd = quote(&submit_dir()?.display().to_string()),
    ))
}

/// Where the jobs run: the folder `healthtwin slurm` was run from (Slurm's default working
/// directory is the submitting one, and submit.sh submits from here), so relative paths in
/// the command mean what they meant when it was typed.
fn submit_dir() -> anyhow::Result<PathBuf> {
    std::env::current_dir().map_err(|e| input_error(format!("the current folder: {e}")))
}

fn write_script(path: &Path, text: &str) -> anyhow::Result<()> {
    report::write_atomic(path, text.as_bytes())?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))?;
    }
    Ok(())
}
