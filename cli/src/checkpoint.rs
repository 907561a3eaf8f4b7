//! Checkpoints of `run`, `compare`, `trial` and `plan` (`--checkpoint`, `--resume`;
//! docs/shards.md): a run that is killed (`kill -9`, a node lost, a Slurm requeue)
//! continues from its last finished block of people (`compare`, `trial`, `plan`: replicate
//! or PSA draw; `compare` also a scenario's run, or a saved year of it) and writes exactly
//! the bytes of an uninterrupted run.
//!
//! A replicate runs block by block (the blocks of 65,536 people of `patients/`). After each
//! block the run writes into `OUT/checkpoint/`: the block's people
//! (`patients/part-rR-bK.parquet`, the very part file of the output's `patients/`), its
//! trace (`trace-rR-bK.parquet`), then `block-rR-bK.bin` (its exact aggregates, as a
//! shard's partials), each atomically; `block-rR-bK.bin` last, so a block counts as done
//! only when all of its files are complete. `identity.json` is the run's identity (as a
//! shard's): `--resume` refuses a checkpoint of other settings. People do not interact in
//! `run` and every draw is keyed by person, so a block is simulated alone, the blocks that
//! are not done are simply run again, and a replicate's aggregates are the exact sum of its
//! blocks'; the outputs are then assembled from the checkpoint's files (the part files by
//! hard link into `OUT/patients/`, before the checkpoint is removed).
//!
//! Granularity is one block of one replicate (of a shard, when sharded): 65,536 people, for
//! 30 years about 3 seconds on two cores (1M people take about 40 s), the work a kill can
//! lose.
//!
//! `compare` checkpoints after each replicate (or PSA draw) of all its arms: `runs-rR.bin`
//! holds every arm's exact aggregates and per-person onset delays (a shard's partials, one
//! entry per arm), written atomically. Its people interact through capacity-limited
//! programmes, so a replicate is not cut into blocks; the outputs are assembled from the
//! checkpoint's runs as a merge assembles its shards'. Inside a replicate ([`YearCheckpoint`])
//! each finished scenario run (of a region) is kept (`run-rR-gG-aA.bin`: its partial run,
//! and the reference's onset ages), and the run in progress saves its latest year
//! (`year-rR-gG-aA.bin`: every person's state, exactly, through serde and postcard, with the
//! aggregates and trace of the years done) at a year boundary once `--checkpoint-every`
//! seconds have passed since the last save; `--resume` skips the finished runs and starts
//! the run in progress from its saved year (the same bits: the engine does not fuse the
//! next year's allocation pass into a saved year). Year files carry the binary's git
//! commit and the run's identity and are refused by another build or run.
//!
//! `trial` and `plan` checkpoint per replicate (`plan --psa`: draw) the same way, in the
//! format of their shards' partials: `plan` every arm's exact aggregates
//! ([`Checkpoint::save_runs`]), `trial` every arm's exact runs as a trial shard's records
//! ([`Checkpoint::save_records`], `shard::Enc`). A trial's replicate is analysed as a whole
//! (randomisation, Kaplan-Meier, Cox) and a plan's residents share the programmes' places
//! within a run, so neither is cut into blocks of people. Inside a replicate, `plan` keeps
//! `compare`'s year checkpoints ([`YearCheckpoint`] through [`PlanYears`], the same files
//! with region 0): each finished arm's run (its exact aggregate: a plan reduces each run
//! alone, so nothing across arms is needed) and the latest year of the arm in progress.
//! `--resume` refuses a checkpoint of other settings, naming the settings that differ.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use report::{
    link_or_copy, write_atomic, write_parquet, AtomicDir, ParquetGroups, ParquetSink, Table,
};
use study::PartialRun;

use crate::common::input_error;
use crate::shard::{Entry, PartialReader, PartialWriter};

pub const DIR: &str = "checkpoint";
const IDENTITY: &str = "identity.json";

/// The checkpoint folder of a run into `out`.
pub struct Checkpoint {
    dir: PathBuf,
}

/// `block-r0000-b00000.bin`: the aggregates of block `block` of replicate `replicate`.
fn block_file(replicate: u32, block: u64) -> String {
    format!("block-r{replicate:04}-b{block:05}.bin")
}

/// `runs-r0000.bin`: every arm's runs of replicate (or PSA draw) `replicate` of `compare`.
fn runs_file(replicate: u32) -> String {
    format!("runs-r{replicate:04}.bin")
}

/// The replicate of a `runs-r….bin` name.
fn parse_runs_file(name: &str) -> Option<u32> {
    name.strip_prefix("runs-r")?
        .strip_suffix(".bin")?
        .parse()
        .ok()
}

/// The (replicate, block) of a `block-r…-b….bin` name.
fn parse_block_file(name: &str) -> Option<(u32, u64)> {
    let rest = name.strip_prefix("block-r")?.strip_suffix(".bin")?;
    let (r, b) = rest.split_once("-b")?;
    Some((r.parse().ok()?, b.parse().ok()?))
}

/// What differs between a checkpoint's identity `old` and the run's `new`: the settings
/// (paths of keys, as `trial.seed`), or another command's checkpoint.
pub fn differences(old: &serde_json::Value, new: &serde_json::Value) -> String {
    fn walk(a: &serde_json::Value, b: &serde_json::Value, at: &str, out: &mut Vec<String>) {
        let (Some(x), Some(y)) = (a.as_object(), b.as_object()) else {
            out.push(at.to_string());
            return;
        };
        let mut keys: Vec<&String> = x.keys().chain(y.keys()).collect();
        keys.sort();
        keys.dedup();
        for k in keys {
            let (u, v) = (x.get(k.as_str()), y.get(k.as_str()));
            if u == v {
                continue;
            }
            let path = if at.is_empty() {
                k.clone()
            } else {
                format!("{at}.{k}")
            };
            match (u, v) {
                (Some(u), Some(v)) if u.is_object() && v.is_object() => walk(u, v, &path, out),
                _ => out.push(path),
            }
        }
    }
    let same_keys = match (old.as_object(), new.as_object()) {
        (Some(a), Some(b)) => a.keys().eq(b.keys()),
        _ => false,
    };
    if !same_keys {
        return "another command's, or unreadable".into();
    }
    let mut out = Vec::new();
    walk(old, new, "", &mut out);
    format!("other settings: {}", out.join(", "))
}

/// Tests kill a run here (docs/shards.md): after replicate (or PSA draw) `replicate`'s
/// checkpoint, when `HEALTHTWIN_TEST_ABORT_AFTER_REPLICATE` names it.
fn abort_after_replicate(replicate: u32) {
    if std::env::var("HEALTHTWIN_TEST_ABORT_AFTER_REPLICATE")
        .ok()
        .and_then(|v| v.parse().ok())
        == Some(replicate)
    {
        std::process::abort();
    }
}

impl Checkpoint {
    /// Opens the checkpoint of the run `identity` in `out`: with `resume`, keeps the
    /// blocks (replicate, block number) an earlier run of the same identity finished
    /// (refuses a checkpoint of another run); otherwise starts empty.
    pub fn open(
        out: &Path,
        identity: &serde_json::Value,
        resume: bool,
    ) -> anyhow::Result<(Checkpoint, BTreeSet<(u32, u64)>)> {
        let dir = out.join(DIR);
        let text = serde_json::to_string_pretty(identity)?;
        let mut done = BTreeSet::new();
        if resume && dir.join(IDENTITY).exists() {
            let old: serde_json::Value = fs::read_to_string(dir.join(IDENTITY))
                .ok()
                .and_then(|t| serde_json::from_str(&t).ok())
                .unwrap_or(serde_json::Value::Null);
            if &old != identity {
                return Err(input_error(format!(
                    "--resume: {} holds a checkpoint of another run ({}); run without \
                     --resume to start over",
                    dir.display(),
                    differences(&old, identity)
                )));
            }
            let entries =
                fs::read_dir(&dir).map_err(|e| anyhow::anyhow!("{}: {e}", dir.display()))?;
            for entry in entries {
                let entry = entry.map_err(|e| anyhow::anyhow!("{}: {e}", dir.display()))?;
                if let Some(b) = entry.file_name().to_str().and_then(parse_block_file) {
                    done.insert(b);
                }
            }
        } else {
            match fs::remove_dir_all(&dir) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(anyhow::anyhow!("{}: {e}", dir.display())),
            }
            fs::create_dir_all(&dir).map_err(|e| anyhow::anyhow!("{}: {e}", dir.display()))?;
            write_atomic(&dir.join(IDENTITY), text.as_bytes())?;
        }
        Ok((Checkpoint { dir }, done))
    }

    /// The folder of the finished replicates' part files.
    fn patients(&self) -> PathBuf {
        self.dir.join(crate::shard::PATIENTS_DIR)
    }

    fn trace(&self, replicate: u32, block: u64) -> PathBuf {
        self.dir
            .join(format!("trace-r{replicate:04}-b{block:05}.parquet"))
    }

    /// Writes a block's tables (`patients`: its part file, named `part`; its trace) and
    /// then its aggregates, which mark it done. `last`: the replicate's last block.
    #[allow(clippy::too_many_arguments)]
    pub fn save(
        &self,
        replicate: u32,
        block: u64,
        part: &str,
        patients: &Table,
        trace: Option<&Table>,
        aggregate: &engine::Aggregator,
        last: bool,
    ) -> anyhow::Result<()> {
        let dir = self.patients();
        fs::create_dir_all(&dir).map_err(|e| anyhow::anyhow!("{}: {e}", dir.display()))?;
        write_parquet(patients, &dir.join(part))?;
        if let Some(t) = trace {
            let mut sink = ParquetSink::create(&self.trace(replicate, block), t)?;
            sink.write(t)?;
            sink.finish()?;
        }
        let mut w = PartialWriter::create(&self.dir.join(block_file(replicate, block)))?;
        w.write(&Entry {
            arm: 0,
            replicate,
            run: PartialRun {
                aggregate: aggregate.clone(),
                delays: None,
            },
        })?;
        w.finish()?;
        // Tests kill the run here (docs/shards.md): after block `R/K`'s checkpoint, or after
        // replicate R's last block's.
        let env = |name| std::env::var(name).ok();
        if env("HEALTHTWIN_TEST_ABORT_AFTER_BLOCK") == Some(format!("{replicate}/{block}"))
            || (last
                && env("HEALTHTWIN_TEST_ABORT_AFTER_REPLICATE").and_then(|v| v.parse().ok())
                    == Some(replicate))
        {
            std::process::abort();
        }
        Ok(())
    }

    /// The replicates of `compare` whose runs the checkpoint holds (none when it was
    /// opened without `resume`).
    pub fn replicates_done(&self) -> anyhow::Result<BTreeSet<u32>> {
        let mut done = BTreeSet::new();
        let entries =
            fs::read_dir(&self.dir).map_err(|e| anyhow::anyhow!("{}: {e}", self.dir.display()))?;
        for entry in entries {
            let entry = entry.map_err(|e| anyhow::anyhow!("{}: {e}", self.dir.display()))?;
            if let Some(r) = entry.file_name().to_str().and_then(parse_runs_file) {
                done.insert(r);
            }
        }
        Ok(done)
    }

    /// Writes replicate `replicate`'s runs of every arm of a comparison (arm by arm, as a
    /// shard's partials: exact aggregates and onset delays), atomically: the replicate is
    /// done once the file exists.
    pub fn save_runs(&self, replicate: u32, runs: Vec<PartialRun>) -> anyhow::Result<()> {
        let mut w = PartialWriter::create(&self.dir.join(runs_file(replicate)))?;
        for (arm, run) in runs.into_iter().enumerate() {
            w.write(&Entry {
                arm: arm as u32,
                replicate,
                run,
            })?;
        }
        w.finish()?;
        abort_after_replicate(replicate);
        Ok(())
    }

    /// Opens the checkpoint of `trial` or `plan` (per replicate) for replicates `reps`:
    /// with the replicates of `reps` it holds (none without `resume`), said on the
    /// terminal (`what`: "replicates", "PSA draws") unless `quiet`.
    pub fn open_replicates(
        out: &Path,
        identity: &serde_json::Value,
        resume: bool,
        reps: std::ops::Range<u32>,
        what: &str,
        quiet: bool,
    ) -> anyhow::Result<(Checkpoint, BTreeSet<u32>)> {
        let (ck, _) = Checkpoint::open(out, identity, resume)?;
        let done: BTreeSet<u32> = ck
            .replicates_done()?
            .into_iter()
            .filter(|r| reps.contains(r))
            .collect();
        if !done.is_empty() && !quiet {
            eprintln!(
                "resuming: {} of {} {what} done (checkpoint in {})",
                done.len(),
                reps.len(),
                ck.dir.display()
            );
        }
        Ok((ck, done))
    }

    /// Writes replicate `replicate`'s exact records (`trial`'s runs of every arm, as a
    /// shard's records), atomically: the replicate is done once the file exists.
    pub fn save_records(&self, replicate: u32, records: crate::shard::Enc) -> anyhow::Result<()> {
        records.write_file(&self.dir.join(runs_file(replicate)))?;
        abort_after_replicate(replicate);
        Ok(())
    }

    /// The records of a finished replicate ([`Self::save_records`]).
    pub fn records(&self, replicate: u32) -> anyhow::Result<crate::shard::Dec> {
        crate::shard::Dec::open_file(&self.dir.join(runs_file(replicate)))
    }

    /// The runs of every one of `arms` arms of a finished replicate of a comparison.
    pub fn runs(&self, replicate: u32, arms: usize) -> anyhow::Result<Vec<PartialRun>> {
        let path = self.dir.join(runs_file(replicate));
        let mut reader = PartialReader::open(&path)?;
        let mut runs = Vec::with_capacity(arms);
        for a in 0..arms {
            let e = reader.read()?;
            if e.arm as usize != a || e.replicate != replicate {
                return Err(anyhow::anyhow!(
                    "{}: holds arm {} of replicate {} where arm {a} of replicate {replicate} \
                     was expected",
                    path.display(),
                    e.arm,
                    e.replicate
                ));
            }
            runs.push(e.run);
        }
        Ok(runs)
    }

    /// The aggregates of a finished block.
    pub fn block_aggregate(
        &self,
        replicate: u32,
        block: u64,
    ) -> anyhow::Result<engine::Aggregator> {
        let mut reader = PartialReader::open(&self.dir.join(block_file(replicate, block)))?;
        Ok(reader.read()?.run.aggregate)
    }

    /// Places every finished replicate's part files into the folder `dest` (hard links,
    /// or copies across file systems), which appears whole; the checkpoint keeps its own
    /// names until [`Self::remove`], so a kill in between loses nothing.
    pub fn place_patients(&self, dest: &Path) -> anyhow::Result<()> {
        let to = AtomicDir::create(dest)?;
        let from = self.patients();
        if from.exists() {
            let entries =
                fs::read_dir(&from).map_err(|e| anyhow::anyhow!("{}: {e}", from.display()))?;
            for entry in entries {
                let entry = entry.map_err(|e| anyhow::anyhow!("{}: {e}", from.display()))?;
                let name = entry.file_name();
                let Some(name) = name.to_str() else { continue };
                // Part files only (not the writer's temporaries of a killed run).
                if name.starts_with("part-") && name.ends_with(".parquet") {
                    link_or_copy(&entry.path(), &to.join(name))?;
                }
            }
        }
        to.commit()?;
        Ok(())
    }

    /// The trace table of block `block` of replicate `replicate`.
    pub fn trace_table(&self, replicate: u32, block: u64) -> anyhow::Result<Table> {
        Ok(ParquetGroups::open(&self.trace(replicate, block), "trace")?.read(0)?)
    }

    /// Removes the checkpoint (the run's outputs are complete).
    pub fn remove(self) -> anyhow::Result<()> {
        fs::remove_dir_all(&self.dir).map_err(|e| anyhow::anyhow!("{}: {e}", self.dir.display()))
    }
}

// ---- Year checkpoints inside a replicate of `compare` and `plan` ---------------------------

use engine::observe::Acc;
use engine::run::{YearHook, YearStart};
use engine::{Aggregator, Patient};
use models::PersonState;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use study::{CheckpointedRun, CompareCheckpoint, CompareError, RunAt};

/// Magic of a finished run's file and of a year's file.
const RUN_MAGIC: &[u8; 8] = b"HTARUN01";
const YEAR_MAGIC: &[u8; 8] = b"HTYEAR01";
/// People per encoded piece of a year file (encoded and decoded in parallel).
const PIECE: usize = 4096;

/// `run-r0000-g0000-a00.bin`: the finished run of arm `a` in region `g` of replicate `r`.
fn arm_run_file(at: RunAt) -> String {
    format!(
        "run-r{:04}-g{:04}-a{:02}.bin",
        at.replicate, at.region, at.arm
    )
}

/// `year-r0000-g0000-a00.bin`: the latest saved year of that run while it runs.
fn year_file(at: RunAt) -> String {
    format!(
        "year-r{:04}-g{:04}-a{:02}.bin",
        at.replicate, at.region, at.arm
    )
}

/// Who wrote a checkpoint file, and of which run: refused by another build or run.
#[derive(Serialize, Deserialize, PartialEq, Debug)]
struct Stamp {
    git_commit: String,
    identity_sha256: String,
    replicate: u32,
    region: u64,
    arm: u64,
}

/// An aggregate's shape and cells (exact integers).
#[derive(Serialize, Deserialize)]
struct Cells {
    years: u32,
    metrics: u32,
    cells: Vec<(i64, i64)>,
}

impl Cells {
    fn of(a: &Aggregator) -> Cells {
        Cells {
            years: a.years() as u32,
            metrics: a.metrics() as u32,
            cells: a.cells().iter().map(|c| (c.num, c.den)).collect(),
        }
    }
    fn aggregate(self) -> Option<Aggregator> {
        let cells = self
            .cells
            .into_iter()
            .map(|(num, den)| Acc { num, den })
            .collect();
        Aggregator::from_cells(self.years as usize, self.metrics as usize, cells)
    }
}

/// A finished run's file.
#[derive(Serialize, Deserialize)]
struct ArmRunFile {
    stamp: Stamp,
    aggregate: Cells,
    /// Onset delays and how many are censored.
    delays: Option<(Vec<f64>, u64)>,
    reference_onsets: Option<Vec<Option<f32>>>,
}

/// The head of a year's file; `people` patients follow in pieces of [`PIECE`], each a
/// length (u64, little-endian) and the postcard encoding of its people.
#[derive(Serialize, Deserialize)]
struct YearHead {
    stamp: Stamp,
    years_done: u32,
    people: u64,
    aggregate: Cells,
    /// Trace rows per year done: (patient, year, state).
    trace: Vec<Vec<(u64, u32, Patient<PersonState>)>>,
}

/// `compare`'s (and, through [`PlanYears`], `plan`'s) checkpoint inside its replicates
/// (docs/shards.md): each finished run of an
/// arm (in a region) in `run-….bin`, and the latest year of the run in progress in
/// `year-….bin` (every person's state at the end of that year, the aggregates and trace
/// so far), written at a year boundary once at least `every` has passed since the last
/// save; removed once the run is finished.
pub struct YearCheckpoint {
    dir: PathBuf,
    identity_sha256: String,
    every: std::time::Duration,
    last_save: std::time::Instant,
    /// When the year before the one asked about started (its length predicts the next's).
    year_started: Option<std::time::Instant>,
    /// The run in progress ([`CompareCheckpoint::start_run`]).
    current: Option<RunAt>,
}

/// A checkpoint error for the runner: the message is the cli's error (an input error stays
/// one: exit code 2).
fn ck_error(e: anyhow::Error) -> CompareError {
    CompareError::Checkpoint(match e.downcast::<crate::common::InputError>() {
        Ok(input) => Box::new(input),
        Err(e) => e.into(),
    })
}

/// The cli's error from a comparison's (an input error unless it is the checkpoint's own).
pub fn compare_error(e: CompareError) -> anyhow::Error {
    match e {
        CompareError::Checkpoint(b) => match b.downcast::<crate::common::InputError>() {
            Ok(input) => anyhow::Error::new(*input),
            Err(b) => anyhow::anyhow!("{b}"),
        },
        e => input_error(e.to_string()),
    }
}

impl YearCheckpoint {
    /// The year checkpoints of `ck` (of the run `identity`), saved at most every `every`.
    pub fn new(
        ck: &Checkpoint,
        identity: &serde_json::Value,
        every: std::time::Duration,
    ) -> YearCheckpoint {
        YearCheckpoint {
            dir: ck.dir.clone(),
            identity_sha256: crate::shard::identity_hash(identity),
            every,
            last_save: std::time::Instant::now(),
            year_started: None,
            current: None,
        }
    }

    fn stamp(&self, at: RunAt) -> Stamp {
        Stamp {
            git_commit: env!("HEALTHTWIN_GIT_COMMIT").into(),
            identity_sha256: self.identity_sha256.clone(),
            replicate: at.replicate,
            region: at.region as u64,
            arm: at.arm as u64,
        }
    }

    /// Refuses a file of another build or run.
    fn check(&self, path: &Path, stamp: &Stamp, at: RunAt) -> anyhow::Result<()> {
        let want = self.stamp(at);
        if stamp.git_commit != want.git_commit {
            return Err(input_error(format!(
                "--resume: {} was written by another build of healthtwin (commit {}; this \
                 is {}), whose results may differ; run without --resume to start over",
                path.display(),
                stamp.git_commit,
                want.git_commit
            )));
        }
        if *stamp != want {
            return Err(input_error(format!(
                "--resume: {} holds a checkpoint of another run; run without --resume to \
                 start over",
                path.display()
            )));
        }
        Ok(())
    }

    /// Tests kill a run here (docs/shards.md): after the checkpoint of the end of year `Y`
    /// of arm `A` in replicate `R`, when `HEALTHTWIN_TEST_ABORT_AFTER_YEAR` is `R/A/Y`.
    fn abort_after_year(at: RunAt, year: u32) {
        if std::env::var("HEALTHTWIN_TEST_ABORT_AFTER_YEAR").ok()
            == Some(format!("{}/{}/{year}", at.replicate, at.arm))
        {
            std::process::abort();
        }
    }

    fn finished(&self, at: RunAt) -> anyhow::Result<Option<CheckpointedRun>> {
        let path = self.dir.join(arm_run_file(at));
        let bytes = match fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(anyhow::anyhow!("{}: {e}", path.display())),
        };
        let bad = || input_error(format!("{}: not a checkpoint of this run", path.display()));
        let body = bytes.strip_prefix(RUN_MAGIC).ok_or_else(bad)?;
        let f: ArmRunFile = postcard::from_bytes(body).map_err(|_| bad())?;
        self.check(&path, &f.stamp, at)?;
        Ok(Some(CheckpointedRun {
            run: study::PartialRun {
                aggregate: f.aggregate.aggregate().ok_or_else(bad)?,
                delays: f
                    .delays
                    .map(|(delays, censored)| study::outcomes::DelaySample {
                        delays,
                        censored: censored as usize,
                    }),
            },
            reference_onsets: f.reference_onsets,
        }))
    }

    /// Saves a finished run: its aggregate, onset delays (compare) and the reference's
    /// onsets (compare's arm 0).
    fn save_finished(
        &mut self,
        at: RunAt,
        aggregate: &Aggregator,
        delays: Option<&study::outcomes::DelaySample>,
        reference_onsets: Option<&study::outcomes::OnsetAges>,
    ) -> anyhow::Result<()> {
        let f = ArmRunFile {
            stamp: self.stamp(at),
            aggregate: Cells::of(aggregate),
            delays: delays.map(|d| (d.delays.clone(), d.censored as u64)),
            reference_onsets: reference_onsets.cloned(),
        };
        let mut bytes = RUN_MAGIC.to_vec();
        postcard::to_io(&f, &mut bytes)?;
        write_atomic(&self.dir.join(arm_run_file(at)), &bytes)?;
        // The run's last year is no longer needed.
        remove_if_there(&self.dir.join(year_file(at)))?;
        self.last_save = std::time::Instant::now();
        self.year_started = None;
        Ok(())
    }

    fn start(
        &mut self,
        at: RunAt,
        patients: &mut [Patient<PersonState>],
    ) -> anyhow::Result<Option<YearStart<Patient<PersonState>>>> {
        use std::io::Read;
        self.current = Some(at);
        self.year_started = None;
        let path = self.dir.join(year_file(at));
        let file = match fs::File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(anyhow::anyhow!("{}: {e}", path.display())),
        };
        let bad = || input_error(format!("{}: not a checkpoint of this run", path.display()));
        let mut input = std::io::BufReader::with_capacity(1 << 20, file);
        let block = |input: &mut std::io::BufReader<fs::File>| -> anyhow::Result<Vec<u8>> {
            let mut n = [0u8; 8];
            input.read_exact(&mut n).map_err(|_| bad())?;
            let n = u64::from_le_bytes(n);
            let mut b = Vec::new();
            input
                .by_ref()
                .take(n)
                .read_to_end(&mut b)
                .map_err(|_| bad())?;
            if b.len() as u64 != n {
                return Err(bad());
            }
            Ok(b)
        };
        let mut magic = [0u8; 8];
        input.read_exact(&mut magic).map_err(|_| bad())?;
        if &magic != YEAR_MAGIC {
            return Err(bad());
        }
        let head: YearHead = postcard::from_bytes(&block(&mut input)?).map_err(|_| bad())?;
        self.check(&path, &head.stamp, at)?;
        if head.people != patients.len() as u64 {
            return Err(bad());
        }
        for piece in patients.chunks_mut(PIECE) {
            let bytes = block(&mut input)?;
            let mut rest = &bytes[..];
            for p in piece.iter_mut() {
                let (q, r): (Patient<PersonState>, _) =
                    postcard::take_from_bytes(rest).map_err(|_| bad())?;
                if q.id() != p.id() {
                    return Err(bad());
                }
                *p = q;
                rest = r;
            }
            if !rest.is_empty() {
                return Err(bad());
            }
        }
        let aggregate = head.aggregate.aggregate().ok_or_else(bad)?;
        let trace = head
            .trace
            .into_iter()
            .map(|rows| {
                rows.into_iter()
                    .map(|(patient, year, patient_state)| engine::run::Traced {
                        patient,
                        year,
                        patient_state,
                    })
                    .collect()
            })
            .collect();
        Ok(Some(YearStart {
            years_done: head.years_done,
            aggregate,
            trace,
        }))
    }

    fn save_year(
        &mut self,
        at: &YearStart<Patient<PersonState>>,
        patients: &[Patient<PersonState>],
    ) -> anyhow::Result<()> {
        use std::io::Write;
        let run = self.current.expect("a run in progress");
        let path = self.dir.join(year_file(run));
        let head = YearHead {
            stamp: self.stamp(run),
            years_done: at.years_done,
            people: patients.len() as u64,
            aggregate: Cells::of(&at.aggregate),
            trace: at
                .trace
                .iter()
                .map(|rows| {
                    rows.iter()
                        .map(|r| (r.patient, r.year, r.patient_state.clone()))
                        .collect()
                })
                .collect(),
        };
        let (guard, file) = report::table::AtomicFile::create(&path)?;
        let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
        let io = |e: std::io::Error| anyhow::anyhow!("{}: {e}", path.display());
        let block = |out: &mut std::io::BufWriter<fs::File>, b: &[u8]| {
            out.write_all(&(b.len() as u64).to_le_bytes())
                .and_then(|_| out.write_all(b))
                .map_err(io)
        };
        out.write_all(YEAR_MAGIC).map_err(io)?;
        block(&mut out, &postcard::to_stdvec(&head)?)?;
        // Pieces encoded in parallel, 16 at a time (memory bounded by them: about 50 MB).
        for group in patients.chunks(PIECE * 16) {
            let pieces: Vec<Vec<u8>> = group
                .par_chunks(PIECE)
                .map(|piece| {
                    let mut b = Vec::with_capacity(piece.len() * 512);
                    for p in piece {
                        b = postcard::to_extend(p, b).expect("encoding into memory");
                    }
                    b
                })
                .collect();
            for b in &pieces {
                block(&mut out, b)?;
            }
        }
        let file = out
            .into_inner()
            .map_err(|e| anyhow::anyhow!("{}: {}", path.display(), e.error()))?;
        file.sync_all().map_err(io)?;
        guard.commit()?;
        self.last_save = std::time::Instant::now();
        Self::abort_after_year(run, at.years_done - 1);
        Ok(())
    }

    /// Removes the finished runs' and years' files of replicate `replicate` (its runs are
    /// in `runs-r….bin` now).
    pub fn replicate_done(&mut self, replicate: u32) -> anyhow::Result<()> {
        let prefix = [
            format!("run-r{replicate:04}-"),
            format!("year-r{replicate:04}-"),
        ];
        let entries =
            fs::read_dir(&self.dir).map_err(|e| anyhow::anyhow!("{}: {e}", self.dir.display()))?;
        for entry in entries {
            let entry = entry.map_err(|e| anyhow::anyhow!("{}: {e}", self.dir.display()))?;
            let name = entry.file_name();
            if name
                .to_str()
                .is_some_and(|n| prefix.iter().any(|p| n.starts_with(p.as_str())))
            {
                remove_if_there(&entry.path())?;
            }
        }
        self.last_save = std::time::Instant::now();
        Ok(())
    }
}

fn remove_if_there(path: &Path) -> anyhow::Result<()> {
    match fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(anyhow::anyhow!("{}: {e}", path.display())),
    }
}

impl YearHook<PersonState, Patient<PersonState>> for YearCheckpoint {
    type Error = CompareError;
    /// Saves after year `year` when at least `every` will have passed since the last save
    /// by its end (the year before's length predicts this one's).
    fn save_after(&mut self, _year: u32) -> bool {
        let now = std::time::Instant::now();
        let last_year = self
            .year_started
            .map_or(std::time::Duration::ZERO, |t| now - t);
        self.year_started = Some(now);
        now - self.last_save + last_year >= self.every
    }
    fn save(
        &mut self,
        at: &YearStart<Patient<PersonState>>,
        patients: &[Patient<PersonState>],
    ) -> Result<(), CompareError> {
        self.save_year(at, patients).map_err(ck_error)
    }
}

impl CompareCheckpoint for YearCheckpoint {
    fn finished_run(&mut self, at: RunAt) -> Result<Option<CheckpointedRun>, CompareError> {
        let run = self.finished(at).map_err(ck_error)?;
        if let Some(r) = &run {
            // The reference's run keeps its people's onsets (the other arms' delays).
            if at.arm == 0 && r.reference_onsets.is_none() {
                let path = self.dir.join(arm_run_file(at));
                return Err(ck_error(input_error(format!(
                    "{}: not a checkpoint of this run",
                    path.display()
                ))));
            }
        }
        Ok(run)
    }
    fn start_run(
        &mut self,
        at: RunAt,
        patients: &mut [Patient<PersonState>],
    ) -> Result<Option<YearStart<Patient<PersonState>>>, CompareError> {
        self.start(at, patients).map_err(ck_error)
    }
    fn save_run(&mut self, at: RunAt, run: &CheckpointedRun) -> Result<(), CompareError> {
        self.save_finished(
            at,
            &run.run.aggregate,
            run.run.delays.as_ref(),
            run.reference_onsets.as_ref(),
        )
        .map_err(ck_error)
    }
}

/// `plan`'s checkpoint inside its replicates: the same files as `compare`'s (region 0),
/// a finished run being its exact aggregate (a plan's reduction of a run needs nothing of
/// the other arms').
pub struct PlanYears<'a>(pub &'a mut YearCheckpoint);

impl PlanYears<'_> {
    fn at(replicate: u32, arm: usize) -> RunAt {
        RunAt {
            replicate,
            region: 0,
            arm,
        }
    }
}

impl YearHook<PersonState, Patient<PersonState>> for PlanYears<'_> {
    type Error = CompareError;
    fn save_after(&mut self, year: u32) -> bool {
        self.0.save_after(year)
    }
    fn save(
        &mut self,
        at: &YearStart<Patient<PersonState>>,
        patients: &[Patient<PersonState>],
    ) -> Result<(), CompareError> {
        self.0.save(at, patients)
    }
}

impl study::RunCheckpoint<PersonState, Patient<PersonState>, Aggregator, CompareError>
    for PlanYears<'_>
{
    fn finished_run(
        &mut self,
        replicate: u32,
        arm: usize,
    ) -> Result<Option<Aggregator>, CompareError> {
        let at = Self::at(replicate, arm);
        let run = self.0.finished(at).map_err(ck_error)?;
        match run {
            Some(r) if r.run.delays.is_some() || r.reference_onsets.is_some() => {
                Err(ck_error(input_error(format!(
                    "{}: not a checkpoint of this run",
                    self.0.dir.join(arm_run_file(at)).display()
                ))))
            }
            r => Ok(r.map(|r| r.run.aggregate)),
        }
    }
    fn start_run(
        &mut self,
        replicate: u32,
        arm: usize,
        patients: &mut [Patient<PersonState>],
    ) -> Result<Option<YearStart<Patient<PersonState>>>, CompareError> {
        self.0
            .start(Self::at(replicate, arm), patients)
            .map_err(ck_error)
    }
    fn save_run(
        &mut self,
        replicate: u32,
        arm: usize,
        aggregate: &Aggregator,
    ) -> Result<(), CompareError> {
        self.0
            .save_finished(Self::at(replicate, arm), aggregate, None, None)
            .map_err(ck_error)
    }
}
