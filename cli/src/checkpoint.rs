//! Checkpoints of `run` (`--checkpoint`, `--resume`; docs/shards.md): a run that is killed
//! (`kill -9`, a node lost, a Slurm requeue) continues from its last finished replicate and
//! writes exactly the bytes of an uninterrupted run.
//!
//! After each replicate, the run writes into `OUT/checkpoint/`: the replicate's people
//! (`patients/part-rR-bK.parquet`, the very part files of the output's `patients/`), its
//! trace (`trace-R.parquet`), then `replicate-R.bin` (its exact aggregates, as a shard's partials),
//! each atomically; `replicate-R.bin` last, so a replicate counts as done only when all of
//! its files are complete. `identity.json` is the run's identity (as a shard's): `--resume`
//! refuses a checkpoint of other settings. Replicates are independent (each starts from the
//! baseline cohort with its own key), so the replicates after the last one done are simply
//! run again; the outputs are then assembled from the checkpoint's files (the part files
//! by hard link into `OUT/patients/`, before the checkpoint is removed).
//!
//! Granularity is one replicate (of a shard, when sharded): a replicate of a 1-million-
//! person shard over 30 years is about a minute on two cores, the work a kill can lose.

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

/// What a checkpoint holds of one finished replicate.
pub struct Done {
    pub aggregate: engine::Aggregator,
}

impl Checkpoint {
    /// Opens the checkpoint of the run `identity` in `out`: with `resume`, keeps the
    /// replicates an earlier run of the same identity finished (in order from 0; refuses a
    /// checkpoint of another run); otherwise starts empty.
    pub fn open(
        out: &Path,
        identity: &serde_json::Value,
        resume: bool,
    ) -> anyhow::Result<(Checkpoint, Vec<Done>)> {
        let dir = out.join(DIR);
        let text = serde_json::to_string_pretty(identity)?;
        let mut done = Vec::new();
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
            loop {
                let r = done.len() as u32;
                let path = dir.join(format!("replicate-{r}.bin"));
                if !path.exists() {
                    break;
                }
                let mut reader = PartialReader::open(&path)?;
                let e = reader.read()?;
                done.push(Done {
                    aggregate: e.run.aggregate,
                });
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

    pub fn trace(&self, replicate: u32) -> PathBuf {
        self.dir.join(format!("trace-{replicate}.parquet"))
    }

    /// Writes the replicate's tables (`patients`: its part files, named) and then its
    /// aggregates, which mark it done.
    pub fn save(
        &self,
        replicate: u32,
        patients: &[(String, Table)],
        trace: Option<&Table>,
        aggregate: engine::Aggregator,
    ) -> anyhow::Result<()> {
        let dir = self.patients();
        fs::create_dir_all(&dir).map_err(|e| anyhow::anyhow!("{}: {e}", dir.display()))?;
        for (name, t) in patients {
            write_parquet(t, &dir.join(name))?;
        }
        if let Some(t) = trace {
            let mut sink = ParquetSink::create(&self.trace(replicate), t)?;
            sink.write(t)?;
            sink.finish()?;
        }
        let mut w = PartialWriter::create(&self.dir.join(format!("replicate-{replicate}.bin")))?;
        w.write(&Entry {
            arm: 0,
            replicate,
            run: PartialRun {
                aggregate,
                delays: None,
            },
        })?;
        w.finish()?;
        // Tests kill the run here (docs/shards.md): after the k-th replicate's checkpoint.
        if std::env::var("HEALTHTWIN_TEST_ABORT_AFTER_REPLICATE")
            .ok()
            .and_then(|v| v.parse::<u32>().ok())
            == Some(replicate)
        {
            std::process::abort();
        }
        Ok(())
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

    /// Replicate `replicate`'s trace table.
    pub fn trace_table(&self, replicate: u32) -> anyhow::Result<Table> {
        Ok(ParquetGroups::open(&self.trace(replicate), "trace")?.read(0)?)
    }

    /// Removes the checkpoint (the run's outputs are complete).
    pub fn remove(self) -> anyhow::Result<()> {
        fs::remove_dir_all(&self.dir).map_err(|e| anyhow::anyhow!("{}: {e}", self.dir.display()))
    }
}
