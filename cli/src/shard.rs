//! Shards of one run and their exact merge (`--shard i/n`, `healthtwin merge`; docs/shards.md).
//!
//! A shard is a part of one run: a contiguous range of the cohort's people (`run`, `compare`)
//! or of the PSA draws (`compare --psa`). Every draw is keyed by (seed, replicate, process,
//! person id, step), so a person meets the same luck in any shard, and the aggregates are
//! exact integers, so the shards' aggregates add up to exactly the whole run's. A shard's
//! folder holds:
//!
//! - `partials.bin`: per (replicate, arm) run, the exact aggregate cells (and for
//!   `compare`, the per-person delays of diabetes onset), in the format of [`PartialWriter`];
//! - the person-level files of its people (`run`: `patients/`, `trace.parquet`);
//! - `manifest.json` (last): the run's identity (command, scenario files and their hashes,
//!   seed, parameter hash, cohort, every setting that changes results) and the shard
//!   `i/n` with its range.
//!
//! `healthtwin merge` checks that the folders are one complete set of one run (same
//! identity, every shard once, files unchanged) before it writes anything, adds the
//! partials up and runs the same writing code as the unsharded command.
//!
//! Shard folders hold aggregates before disclosure control: they are intermediate files
//! for the merge, never for publication.

use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;
use engine::observe::Acc;
use engine::Aggregator;
use report::table::AtomicFile;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use study::outcomes::DelaySample;
use study::PartialRun;

use crate::common::input_error;

/// The person-level dataset folder of `run`: one self-contained Parquet file per replicate
/// and block of `run::PATIENT_ROW_GROUP` people (`run::part_name`); read it whole as a
/// dataset (`pl.scan_parquet("patients/*.parquet")`, `pyarrow.dataset`, DuckDB
/// `read_parquet('patients/*.parquet')`). Here, below `run` and `checkpoint`, so both name it
/// without importing each other.
pub const PATIENTS_DIR: &str = "patients";

/// The file of a shard's partial aggregates.
pub const PARTIALS: &str = "partials.bin";
const MAGIC: &[u8; 8] = b"HTPART01";

/// `--shard i/n`: shard `i` (0-based) of `n`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    pub index: u32,
    pub count: u32,
}

/// Parses `i/n` (0 ≤ i < n ≤ 100,000).
pub fn parse_shard(s: &str) -> Result<Shard, String> {
    let bad = || format!("`{s}`: expected i/n with 0 <= i < n (e.g. 0/4 … 3/4)");
    let (i, n) = s.split_once('/').ok_or_else(bad)?;
    let index: u32 = i.trim().parse().map_err(|_| bad())?;
    let count: u32 = n.trim().parse().map_err(|_| bad())?;
    if count == 0 || index >= count || count > 100_000 {
        return Err(bad());
    }
    Ok(Shard { index, count })
}

impl Shard {
    /// This shard's part of `0..total`: contiguous, sizes differing by at most one, the
    /// parts of `0/n … (n-1)/n` in order and together exactly `0..total`.
    pub fn range(&self, total: u64) -> std::ops::Range<u64> {
        let at = |i: u32| (u128::from(total) * u128::from(i) / u128::from(self.count)) as u64;
        at(self.index)..at(self.index + 1)
    }

    /// This shard's part of `0..total` people when the person-level files are cut into
    /// row groups of `block` people (persons `k·block … (k+1)·block`): when there are at
    /// least as many blocks as shards, the parts are whole blocks (the shards' sizes differ
    /// by at most one block), so `merge` copies every row group without decoding it;
    /// otherwise [`Self::range`], and the merge decodes and joins the blocks cut by shards.
    pub fn people_range(&self, total: u64, block: u64) -> std::ops::Range<u64> {
        let blocks = total.div_ceil(block);
        if blocks < u64::from(self.count) {
            return self.range(total);
        }
        let at = |i: u32| {
            let b = (u128::from(blocks) * u128::from(i) / u128::from(self.count)) as u64;
            (b * block).min(total)
        };
        at(self.index)..at(self.index + 1)
    }
}

/// The row groups of person-level files for the people `first..first + len` of a cohort:
/// cut at every multiple of `block` (`first` is 0 unsharded), so that a shard's groups are
/// the unsharded run's, or parts of one of them.
pub fn blocks(first: u64, len: usize, block: u64) -> impl Iterator<Item = std::ops::Range<usize>> {
    let end = first + len as u64;
    let mut at = first;
    std::iter::from_fn(move || {
        (at < end).then(|| {
            let next = ((at / block + 1) * block).min(end);
            let r = (at - first) as usize..(next - first) as usize;
            at = next;
            r
        })
    })
}

/// How a run is split.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Split {
    /// Each shard has a range of the people and every replicate.
    People,
    /// Each shard has a range of the replicates (PSA draws) and every person.
    Draws,
}

/// The `shard` key of a shard's manifest.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ShardRecord {
    pub index: u32,
    pub count: u32,
    pub split: Split,
    /// The range of people (or replicates) of this shard: `first..end`.
    pub first: u64,
    pub end: u64,
}

/// A shard folder's manifest.
#[derive(Serialize, Deserialize)]
pub struct ShardManifest {
    pub healthtwin_version: String,
    pub git_commit: String,
    pub shard: ShardRecord,
    /// What makes shards parts of one run; equal in every shard of it.
    pub identity: serde_json::Value,
    pub identity_sha256: String,
    pub partials_sha256: String,
    pub files: Vec<String>,
    /// The shard's Parquet files (`run`: every part of patients/, trace.parquet), each with its
    /// size and the SHA-256 of its footer (the row groups' sizes, offsets and statistics): a
    /// file replaced by another shard's, or truncated, is refused without reading it whole.
    #[serde(default)]
    pub parquet_footers: Vec<ParquetFooter>,
    /// Simulation seconds per arm (for the merged run's throughput line).
    pub simulation_seconds: Vec<f64>,
    pub threads: usize,
    pub wall_time_seconds: f64,
}

/// A Parquet file of a shard, identified cheaply ([`ShardManifest::parquet_footers`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParquetFooter {
    pub file: String,
    pub bytes: u64,
    pub footer_sha256: String,
}

impl ParquetFooter {
    /// Of the file `name` in `dir`; `None` when it is not a readable Parquet file.
    pub fn of(dir: &Path, name: &str) -> Option<ParquetFooter> {
        use std::io::{Seek, SeekFrom};
        let mut f = File::open(dir.join(name)).ok()?;
        let bytes = f.metadata().ok()?.len();
        if bytes < 12 {
            return None;
        }
        let mut tail = [0u8; 8];
        f.seek(SeekFrom::Start(bytes - 8)).ok()?;
        f.read_exact(&mut tail).ok()?;
        if &tail[4..] != b"PAR1" {
            return None;
        }
        let len = u64::from(u32_at(&tail, 0)) + 8;
        if len > bytes - 4 {
            return None;
        }
        let mut footer = vec![0u8; len as usize];
        f.seek(SeekFrom::Start(bytes - len)).ok()?;
        f.read_exact(&mut footer).ok()?;
        Some(ParquetFooter {
            file: name.to_string(),
            bytes,
            footer_sha256: sha256_hex(&footer),
        })
    }
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The SHA-256 of a file, read in blocks.
pub fn sha256_file(path: &Path) -> anyhow::Result<String> {
    let mut f = File::open(path).with_context(|| format!("{}: cannot open", path.display()))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f
            .read(&mut buf)
            .with_context(|| format!("{}: cannot read", path.display()))?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(h.finalize().iter().map(|b| format!("{b:02x}")).collect())
}

/// A file a command reads: as given, where it is, and its SHA-256 (part of a run's identity,
/// so that `merge` refuses shards of another input and an input changed since they ran).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct InputFile {
    pub given: String,
    pub absolute: String,
    pub sha256: String,
}

impl InputFile {
    /// The file at `path`, hashed now.
    pub fn of(path: &Path) -> anyhow::Result<InputFile> {
        Ok(InputFile {
            given: path.display().to_string(),
            absolute: std::fs::canonicalize(path)
                .unwrap_or_else(|_| path.to_path_buf())
                .display()
                .to_string(),
            sha256: sha256_file(path)?,
        })
    }

    /// Whether the file at its absolute path still has the recorded SHA-256 (not when it
    /// cannot be read).
    pub fn unchanged(&self) -> bool {
        sha256_file(Path::new(&self.absolute)).ok().as_deref() == Some(self.sha256.as_str())
    }
}

/// The identity's hash: of its JSON text (serde_json writes object keys in a fixed order).
pub fn identity_hash(identity: &serde_json::Value) -> String {
    sha256_hex(identity.to_string().as_bytes())
}

/// Writes `partials.bin` (atomically) while hashing it.
pub struct PartialWriter {
    out: BufWriter<HashingFile>,
    guard: AtomicFile,
    path: PathBuf,
}

struct HashingFile {
    file: File,
    hash: Sha256,
}

impl Write for HashingFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.file.write(buf)?;
        self.hash.update(&buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.file.flush()
    }
}

/// One entry of `partials.bin`: run (arm, replicate) of a shard.
///
/// Layout (little-endian): `arm u32, replicate u32, years u32, metrics u32`,
/// then `years × 2 × 21 × metrics` cells of `(num i64, den i64)`, then a byte `1` with
/// `people u64, censored u64` and `people` delays (f64), or a byte `0` without delays.
pub struct Entry {
    pub arm: u32,
    pub replicate: u32,
    pub run: PartialRun,
}

impl PartialWriter {
    pub fn create(path: &Path) -> anyhow::Result<PartialWriter> {
        let (guard, file) = AtomicFile::create(path)?;
        let mut out = BufWriter::with_capacity(
            1 << 20,
            HashingFile {
                file,
                hash: Sha256::new(),
            },
        );
        out.write_all(MAGIC)?;
        Ok(PartialWriter {
            out,
            guard,
            path: path.to_path_buf(),
        })
    }

    pub fn write(&mut self, e: &Entry) -> anyhow::Result<()> {
        let agg = &e.run.aggregate;
        let o = &mut self.out;
        o.write_all(&e.arm.to_le_bytes())?;
        o.write_all(&e.replicate.to_le_bytes())?;
        o.write_all(&(agg.years() as u32).to_le_bytes())?;
        o.write_all(&(agg.metrics() as u32).to_le_bytes())?;
        let mut buf = Vec::with_capacity(agg.cells().len() * 16);
        for c in agg.cells() {
            buf.extend_from_slice(&c.num.to_le_bytes());
            buf.extend_from_slice(&c.den.to_le_bytes());
        }
        o.write_all(&buf)?;
        match &e.run.delays {
            None => o.write_all(&[0])?,
            Some(d) => {
                o.write_all(&[1])?;
                o.write_all(&(d.delays.len() as u64).to_le_bytes())?;
                o.write_all(&(d.censored as u64).to_le_bytes())?;
                let mut buf = Vec::with_capacity(d.delays.len() * 8);
                for x in &d.delays {
                    buf.extend_from_slice(&x.to_le_bytes());
                }
                o.write_all(&buf)?;
            }
        }
        Ok(())
    }

    /// Syncs and renames the file into place; returns its SHA-256.
    pub fn finish(self) -> anyhow::Result<String> {
        let inner = self
            .out
            .into_inner()
            .map_err(|e| anyhow::anyhow!("{}: {}", self.path.display(), e.error()))?;
        inner
            .file
            .sync_all()
            .with_context(|| self.path.display().to_string())?;
        let hash = inner.hash.finalize();
        self.guard.commit()?;
        Ok(hash.iter().map(|b| format!("{b:02x}")).collect())
    }
}

/// Reads `partials.bin` entry by entry.
pub struct PartialReader {
    input: BufReader<File>,
    path: PathBuf,
    /// The next entry's (arm, replicate), read ahead.
    next: Option<(u32, u32)>,
}

impl PartialReader {
    pub fn open(path: &Path) -> anyhow::Result<PartialReader> {
        let file = File::open(path).with_context(|| format!("{}: cannot open", path.display()))?;
        let mut input = BufReader::with_capacity(1 << 20, file);
        let mut magic = [0u8; 8];
        input
            .read_exact(&mut magic)
            .ok()
            .filter(|_| &magic == MAGIC)
            .ok_or_else(|| input_error(format!("{}: not a partials file", path.display())))?;
        let mut r = PartialReader {
            input,
            path: path.to_path_buf(),
            next: None,
        };
        r.advance()?;
        Ok(r)
    }

    fn advance(&mut self) -> anyhow::Result<()> {
        let mut head = [0u8; 8];
        let mut got = 0;
        while got < head.len() {
            let n = self.input.read(&mut head[got..])?;
            if n == 0 {
                break;
            }
            got += n;
        }
        self.next = match got {
            0 => None,
            8 => Some((u32_at(&head, 0), u32_at(&head, 4))),
            _ => return Err(self.truncated()),
        };
        Ok(())
    }

    fn truncated(&self) -> anyhow::Error {
        input_error(format!("{}: truncated", self.path.display()))
    }

    /// The (arm, replicate) of the next entry, if any.
    pub fn peek(&self) -> Option<(u32, u32)> {
        self.next
    }

    /// Reads the next entry.
    pub fn read(&mut self) -> anyhow::Result<Entry> {
        let (arm, replicate) = self.next.ok_or_else(|| self.truncated())?;
        let mut head = [0u8; 8];
        self.input
            .read_exact(&mut head)
            .map_err(|_| self.truncated())?;
        let years = u32_at(&head, 0) as usize;
        let metrics = u32_at(&head, 4) as usize;
        let n = years * 2 * engine::observe::N_AGE_BANDS * metrics;
        let mut buf = vec![0u8; n * 16];
        self.input
            .read_exact(&mut buf)
            .map_err(|_| self.truncated())?;
        let cells: Vec<Acc> = buf
            .chunks_exact(16)
            .map(|c| Acc {
                num: i64::from_le_bytes(c[..8].try_into().expect("8 bytes")),
                den: i64::from_le_bytes(c[8..].try_into().expect("8 bytes")),
            })
            .collect();
        let aggregate =
            Aggregator::from_cells(years, metrics, cells).ok_or_else(|| self.truncated())?;
        let mut flag = [0u8; 1];
        self.input
            .read_exact(&mut flag)
            .map_err(|_| self.truncated())?;
        let delays = if flag[0] == 1 {
            let mut h = [0u8; 16];
            self.input
                .read_exact(&mut h)
                .map_err(|_| self.truncated())?;
            let people = u64::from_le_bytes(h[..8].try_into().expect("8 bytes")) as usize;
            let censored = u64::from_le_bytes(h[8..].try_into().expect("8 bytes")) as usize;
            let mut b = vec![0u8; people * 8];
            self.input
                .read_exact(&mut b)
                .map_err(|_| self.truncated())?;
            Some(DelaySample {
                delays: b
                    .chunks_exact(8)
                    .map(|c| f64::from_le_bytes(c.try_into().expect("8 bytes")))
                    .collect(),
                censored,
            })
        } else {
            None
        };
        self.advance()?;
        Ok(Entry {
            arm,
            replicate,
            run: PartialRun { aggregate, delays },
        })
    }
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().expect("4 bytes"))
}

/// A checked, complete set of shard folders of one run, in shard order.
pub struct ShardSet {
    pub folders: Vec<PathBuf>,
    pub manifests: Vec<ShardManifest>,
    pub identity: serde_json::Value,
    pub split: Split,
}

/// Reads the manifests of `dirs` and checks that they are every shard of one run, once
/// each, with their partials unchanged; names the folder at fault. Writes nothing.
pub fn check_set(dirs: &[PathBuf]) -> anyhow::Result<ShardSet> {
    if dirs.is_empty() {
        return Err(input_error("merge: no shard folders given"));
    }
    let mut manifests: Vec<(PathBuf, ShardManifest)> = Vec::new();
    for d in dirs {
        let path = d.join(report::output_dir::MANIFEST);
        let text = std::fs::read_to_string(&path).map_err(|_| {
            input_error(format!(
                "{}: no manifest.json: not a finished shard folder (did the shard complete?)",
                d.display()
            ))
        })?;
        let m: ShardManifest = serde_json::from_str(&text).map_err(|_| {
            input_error(format!(
                "{}: its manifest.json is not a shard's (run or compare with --shard i/n)",
                d.display()
            ))
        })?;
        if identity_hash(&m.identity) != m.identity_sha256 {
            return Err(input_error(format!(
                "{}: manifest.json was edited (its identity does not match its hash)",
                d.display()
            )));
        }
        manifests.push((d.clone(), m));
    }
    let (first_dir, first) = &manifests[0];
    for (d, m) in &manifests[1..] {
        if m.identity_sha256 != first.identity_sha256 {
            let differ = differing_keys(&first.identity, &m.identity);
            return Err(input_error(format!(
                "{}: a shard of another run than {} (they differ in: {})",
                d.display(),
                first_dir.display(),
                differ.join(", ")
            )));
        }
        if m.shard.count != first.shard.count {
            return Err(input_error(format!(
                "{}: shard {}/{}, but {} is shard {}/{}: a run's shards share one n",
                d.display(),
                m.shard.index,
                m.shard.count,
                first_dir.display(),
                first.shard.index,
                first.shard.count
            )));
        }
    }
    let n = first.shard.count as usize;
    let mut slots: Vec<Option<usize>> = vec![None; n];
    for (k, (d, m)) in manifests.iter().enumerate() {
        let i = m.shard.index as usize;
        if i >= n {
            return Err(input_error(format!(
                "{}: shard index {i} of {n}",
                d.display()
            )));
        }
        if let Some(j) = slots[i] {
            return Err(input_error(format!(
                "{}: shard {i}/{n} given twice (also {})",
                d.display(),
                manifests[j].0.display()
            )));
        }
        slots[i] = Some(k);
    }
    let missing: Vec<String> = (0..n)
        .filter(|&i| slots[i].is_none())
        .map(|i| format!("{i}/{n}"))
        .collect();
    if !missing.is_empty() {
        return Err(input_error(format!(
            "merge: shard(s) {} missing (given {} of {n} shards of the run of {})",
            missing.join(", "),
            manifests.len(),
            first_dir.display()
        )));
    }
    let split = first.shard.split;
    let mut ordered: Vec<(PathBuf, ShardManifest)> = Vec::with_capacity(n);
    let mut by_index: Vec<Option<(PathBuf, ShardManifest)>> =
        manifests.into_iter().map(Some).collect();
    for slot in slots {
        let k = slot.expect("every slot checked");
        ordered.push(by_index[k].take().expect("each folder once"));
    }
    // Unchanged partials (a truncated or replaced file would merge into wrong totals).
    for (d, m) in &ordered {
        let bytes = std::fs::read(d.join(PARTIALS))
            .map_err(|_| input_error(format!("{}: {PARTIALS} is missing", d.display())))?;
        if sha256_hex(&bytes) != m.partials_sha256 {
            return Err(input_error(format!(
                "{}: {PARTIALS} does not match its manifest (changed or truncated)",
                d.display()
            )));
        }
        if m.shard.split != split {
            return Err(input_error(format!("{}: split differs", d.display())));
        }
        for f in &m.parquet_footers {
            if ParquetFooter::of(d, &f.file).as_ref() != Some(f) {
                return Err(input_error(format!(
                    "{}: {} is missing or does not match its manifest (changed, truncated or \
                     another shard's)",
                    d.display(),
                    f.file
                )));
            }
        }
    }
    let identity = ordered[0].1.identity.clone();
    let (folders, manifests) = ordered.into_iter().unzip();
    Ok(ShardSet {
        folders,
        manifests,
        identity,
        split,
    })
}

/// Magic of a `partials.bin` of records ([`Enc`]).
const RECORDS_MAGIC: &[u8; 8] = b"HTRECS01";

/// A shard's partial results that are not aggregates (`trial`'s per-replicate runs,
/// `twin --cohort`'s ranked rows), encoded exactly (floats by their bits, little-endian)
/// into `partials.bin`; read back with [`Dec`].
pub struct Enc(Vec<u8>);

impl Default for Enc {
    fn default() -> Self {
        Enc(RECORDS_MAGIC.to_vec())
    }
}

impl Enc {
    pub fn u64(&mut self, x: u64) {
        self.0.extend_from_slice(&x.to_le_bytes());
    }
    pub fn f64(&mut self, x: f64) {
        self.u64(x.to_bits());
    }
    pub fn f32(&mut self, x: f32) {
        self.0.extend_from_slice(&x.to_bits().to_le_bytes());
    }
    pub fn u8(&mut self, x: u8) {
        self.0.push(x);
    }
    pub fn bool(&mut self, x: bool) {
        self.0.push(u8::from(x));
    }
    pub fn str(&mut self, x: &str) {
        self.u64(x.len() as u64);
        self.0.extend_from_slice(x.as_bytes());
    }
    /// Writes `dir/partials.bin` atomically; returns its SHA-256.
    pub fn write(self, dir: &Path) -> anyhow::Result<String> {
        self.write_file(&dir.join(PARTIALS))
    }
    /// Writes the records to `path` atomically (a checkpoint's replicate); returns their
    /// SHA-256.
    pub fn write_file(self, path: &Path) -> anyhow::Result<String> {
        report::write_atomic(path, &self.0)?;
        Ok(sha256_hex(&self.0))
    }
}

/// Reads the records of a shard folder's `partials.bin` ([`Enc`]).
pub struct Dec {
    bytes: Vec<u8>,
    at: usize,
    /// The file as messages name it (`DIR: partials.bin`, or a checkpoint file's path).
    name: String,
}

impl Dec {
    pub fn open(dir: &Path) -> anyhow::Result<Dec> {
        Dec::read(
            &dir.join(PARTIALS),
            format!("{}: {PARTIALS}", dir.display()),
        )
    }
    /// The records of the file `path` (a checkpoint's replicate, [`Enc::write_file`]).
    pub fn open_file(path: &Path) -> anyhow::Result<Dec> {
        Dec::read(path, path.display().to_string())
    }
    fn read(path: &Path, name: String) -> anyhow::Result<Dec> {
        let bytes = std::fs::read(path).map_err(|_| input_error(format!("{name} is missing")))?;
        if !bytes.starts_with(RECORDS_MAGIC) {
            return Err(input_error(format!("{name} is not a shard's records")));
        }
        Ok(Dec {
            bytes,
            at: RECORDS_MAGIC.len(),
            name,
        })
    }
    fn take(&mut self, n: usize) -> anyhow::Result<&[u8]> {
        if self.bytes.len() - self.at < n {
            return Err(input_error(format!("{} is truncated", self.name)));
        }
        self.at += n;
        Ok(&self.bytes[self.at - n..self.at])
    }
    pub fn u64(&mut self) -> anyhow::Result<u64> {
        Ok(u64::from_le_bytes(
            self.take(8)?.try_into().expect("8 bytes"),
        ))
    }
    pub fn f64(&mut self) -> anyhow::Result<f64> {
        Ok(f64::from_bits(self.u64()?))
    }
    pub fn f32(&mut self) -> anyhow::Result<f32> {
        Ok(f32::from_bits(u32_at(self.take(4)?, 0)))
    }
    pub fn u8(&mut self) -> anyhow::Result<u8> {
        Ok(self.take(1)?[0])
    }
    pub fn bool(&mut self) -> anyhow::Result<bool> {
        Ok(self.u8()? != 0)
    }
    pub fn str(&mut self) -> anyhow::Result<String> {
        let n = self.u64()? as usize;
        let b = self.take(n)?.to_vec();
        String::from_utf8(b).map_err(|_| self.bad())
    }
    /// A count of records that must fit in what is left (at least `min_bytes` each).
    pub fn len(&mut self, min_bytes: usize) -> anyhow::Result<usize> {
        let n = self.u64()? as usize;
        if n.saturating_mul(min_bytes.max(1)) > self.bytes.len() - self.at {
            return Err(self.bad());
        }
        Ok(n)
    }
    /// An error naming the folder: its records are not what the run wrote.
    pub fn bad(&self) -> anyhow::Error {
        input_error(format!("{} does not hold this run's records", self.name))
    }
    /// Checks that every byte was read.
    pub fn finish(&self) -> anyhow::Result<()> {
        if self.at == self.bytes.len() {
            Ok(())
        } else {
            Err(self.bad())
        }
    }
}

/// Writes a shard folder's manifest.json (last) with the run's identity and the shard's
/// range; the shard's files are already in `out`.
#[allow(clippy::too_many_arguments)]
pub fn commit_shard(
    out: report::OutputDir,
    s: Shard,
    split: Split,
    range: std::ops::Range<u64>,
    identity: serde_json::Value,
    partials_sha256: String,
    simulation_seconds: Vec<f64>,
    threads: usize,
    started: std::time::Instant,
) -> anyhow::Result<()> {
    let manifest = ShardManifest {
        healthtwin_version: env!("CARGO_PKG_VERSION").into(),
        git_commit: env!("HEALTHTWIN_GIT_COMMIT").into(),
        shard: ShardRecord {
            index: s.index,
            count: s.count,
            split,
            first: range.start,
            end: range.end,
        },
        identity_sha256: identity_hash(&identity),
        identity,
        partials_sha256,
        files: vec![PARTIALS.into()],
        parquet_footers: Vec::new(),
        simulation_seconds,
        threads,
        wall_time_seconds: started.elapsed().as_secs_f64(),
    };
    out.commit(serde_json::to_string_pretty(&manifest)?.as_bytes())?;
    Ok(())
}

/// The top-level keys in which two identities differ.
fn differing_keys(a: &serde_json::Value, b: &serde_json::Value) -> Vec<String> {
    match (a.as_object(), b.as_object()) {
        (Some(a), Some(b)) => {
            let mut keys: Vec<String> = a
                .keys()
                .chain(b.keys())
                .filter(|k| a.get(*k) != b.get(*k))
                .cloned()
                .collect();
            keys.sort();
            keys.dedup();
            keys
        }
        _ => vec!["command".into()],
    }
}

impl ShardSet {
    /// The merged runs, per arm the replicates in order, from the
    /// shards' partials, read entry by entry: with people split, every shard holds every
    /// run; with draws split, each run is in exactly one shard.
    pub fn merge_partials(
        &self,
        arms: usize,
        replicates: u32,
        mut each: impl FnMut(u32, usize, PartialRun) -> anyhow::Result<()>,
    ) -> anyhow::Result<()> {
        let mut readers = self
            .folders
            .iter()
            .map(|d| PartialReader::open(&d.join(PARTIALS)))
            .collect::<anyhow::Result<Vec<_>>>()?;
        for r in 0..replicates {
            for a in 0..arms as u32 {
                let mut merged: Option<PartialRun> = None;
                let mut from = 0;
                for reader in &mut readers {
                    if reader.peek() == Some((a, r)) {
                        let e = reader.read()?;
                        from += 1;
                        match &mut merged {
                            None => merged = Some(e.run),
                            Some(m) => m.merge(e.run),
                        }
                    }
                }
                let expected = match self.split {
                    Split::People => readers.len(),
                    Split::Draws => 1,
                };
                let Some(run) = merged.filter(|_| from == expected) else {
                    return Err(input_error(format!(
                        "merge: replicate {r} of arm {a} is in {from} shard(s), expected {expected}"
                    )));
                };
                each(r, a as usize, run)?;
            }
        }
        for (reader, d) in readers.iter().zip(&self.folders) {
            if reader.peek().is_some() {
                return Err(input_error(format!(
                    "{}: {PARTIALS} holds runs beyond the run's replicates",
                    d.display()
                )));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Block-aligned ranges cover `0..total` in order, each whole blocks but the last's end;
    /// with fewer blocks than shards, the plain ranges.
    #[test]
    fn people_ranges_are_whole_blocks_when_they_can_be() {
        for (total, count, block) in [(1_000u64, 3u32, 100u64), (1_050, 4, 100), (1_050, 11, 100)] {
            let mut at = 0;
            for index in 0..count {
                let r = Shard { index, count }.people_range(total, block);
                assert_eq!(r.start, at);
                assert!(!r.is_empty());
                if total.div_ceil(block) >= u64::from(count) {
                    assert!(r.start.is_multiple_of(block));
                    assert!(r.end.is_multiple_of(block) || r.end == total);
                } else {
                    assert_eq!(r, Shard { index, count }.range(total));
                }
                at = r.end;
            }
            assert_eq!(at, total);
        }
    }

    /// A shard's row groups are the unsharded run's blocks, or the parts of one in it.
    #[test]
    fn blocks_cut_at_multiples_of_the_block() {
        let cut = |first, len| blocks(first, len, 100).collect::<Vec<_>>();
        assert_eq!(cut(0, 250), vec![0..100, 100..200, 200..250]);
        assert_eq!(cut(150, 200), vec![0..50, 50..150, 150..200]);
        assert_eq!(cut(200, 100), vec![0..100]);
        assert!(cut(7, 0).is_empty());
    }
}
