//! Checkpoints of `run` (`--checkpoint`, `--resume`; docs/shards.md): a run that is killed
//! (`kill -9`, a node lost, a Slurm requeue) continues from its last finished block of
//! people and writes exactly the bytes of an uninterrupted run.
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

/// The (replicate, block) of a `block-r…-b….bin` name.
fn parse_block_file(name: &str) -> Option<(u32, u64)> {
    let rest = name.strip_prefix("block-r")?.strip_suffix(".bin")?;
    let (r, b) = rest.split_once("-b")?;
    Some((r.parse().ok()?, b.parse().ok()?))
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
                    "--resume: {} holds a checkpoint of another run (other settings); \
                     run without --resume to start over",
                    dir.display()
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
        self.dir.join(crate::run::PATIENTS_DIR)
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
