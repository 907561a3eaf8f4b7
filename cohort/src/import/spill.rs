//! The spill: every kept value as a fixed-size record on disk, in arrival order, then an
//! external sort (runs of `sort_run_records` records sorted in memory, merged from disk)
//! into the de-duplicated history, so memory stays O(people) whatever the number of records.
//! Temporary files are removed when done or dropped.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fs::{self, File};
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use super::measure::{ClinicalMeasure, Flag};
use super::quality::HistoryStats;
use super::{io_err, ImportError};

/// One kept value: the person (accumulator index while spilling, output row once sorted),
/// the measure or flag (`history::code_name`), the [`super::Format`] it came from, minutes
/// from the index date and the value in its canonical unit. 18 bytes on disk.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct SpillRecord {
    pub(super) person: u32,
    pub(super) code: u8,
    pub(super) source: u8,
    pub(super) minute: i32,
    pub(super) value: f64,
}

impl SpillRecord {
    pub(super) const BYTES: usize = 18;
    fn encode(&self, out: &mut [u8; Self::BYTES]) {
        out[0..4].copy_from_slice(&self.person.to_le_bytes());
        out[4] = self.code;
        out[5] = self.source;
        out[6..10].copy_from_slice(&self.minute.to_le_bytes());
        out[10..18].copy_from_slice(&self.value.to_le_bytes());
    }
    pub(super) fn decode(b: &[u8; Self::BYTES]) -> SpillRecord {
        SpillRecord {
            person: u32::from_le_bytes([b[0], b[1], b[2], b[3]]),
            code: b[4],
            source: b[5],
            minute: i32::from_le_bytes([b[6], b[7], b[8], b[9]]),
            value: f64::from_le_bytes([b[10], b[11], b[12], b[13], b[14], b[15], b[16], b[17]]),
        }
    }
    /// Sort key: person row, measure, time, value, source.
    fn key(&self) -> (u32, u8, i32, u64, u8) {
        (
            self.person,
            self.code,
            self.minute,
            order_bits(self.value),
            self.source,
        )
    }
    fn same_reading(&self, o: &SpillRecord) -> bool {
        self.person == o.person
            && self.code == o.code
            && self.minute == o.minute
            && self.value.to_bits() == o.value.to_bits()
    }
}

/// f64 → u64 preserving order (for sorting finite values).
fn order_bits(v: f64) -> u64 {
    let b = v.to_bits();
    if b >> 63 == 1 {
        !b
    } else {
        b | (1 << 63)
    }
}

/// How I/O errors name the spill, run and history files (never by path).
pub(super) const TEMP: &str = "a temporary file of the import in the output folder";

/// The prefix of every temporary file of an import: a later import into the same folder
/// removes those a killed one left behind (see `temp_name`).
pub const TEMP_PREFIX: &str = ".healthtwin-import-";

/// Temporary files removed on drop.
struct TempFiles(Vec<PathBuf>);

impl Drop for TempFiles {
    fn drop(&mut self) {
        for p in &self.0 {
            let _ = fs::remove_file(p);
        }
    }
}

pub(super) struct Spill {
    dir: PathBuf,
    path: PathBuf,
    w: Option<BufWriter<File>>,
    records: u64,
    files: TempFiles,
    io_error: Option<io::Error>,
}

fn temp_name(dir: &Path, what: &str, n: usize) -> PathBuf {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let c = COUNTER.fetch_add(1, Ordering::Relaxed);
    dir.join(format!(
        "{TEMP_PREFIX}{}-{c}-{what}-{n}.tmp",
        std::process::id()
    ))
}

impl Spill {
    pub(super) fn create(dir: &Path) -> Result<Spill, ImportError> {
        fs::create_dir_all(dir).map_err(|e| io_err(TEMP, &e))?;
        let path = temp_name(dir, "spill", 0);
        let f = File::create(&path).map_err(|e| io_err(TEMP, &e))?;
        Ok(Spill {
            dir: dir.to_path_buf(),
            files: TempFiles(vec![path.clone()]),
            path,
            w: Some(BufWriter::with_capacity(1 << 20, f)),
            records: 0,
            io_error: None,
        })
    }

    pub(super) fn push(&mut self, r: SpillRecord) {
        if self.io_error.is_some() {
            return;
        }
        let mut b = [0u8; SpillRecord::BYTES];
        r.encode(&mut b);
        if let Some(w) = self.w.as_mut() {
            if let Err(e) = w.write_all(&b) {
                self.io_error = Some(e);
            }
        }
        self.records += 1;
    }

    pub(super) fn flush(&mut self) -> Result<(), ImportError> {
        if let Some(e) = self.io_error.take() {
            return Err(io_err(TEMP, &e));
        }
        if let Some(mut w) = self.w.take() {
            w.flush().map_err(|e| io_err(TEMP, &e))?;
        }
        Ok(())
    }

    /// Rewrites person indices as output rows (dropping excluded people), sorts in runs of
    /// `run` records, merges the runs and drops exact duplicates.
    pub(super) fn sort(
        &mut self,
        rank: &[u32],
        run: usize,
        stats: &mut HistoryStats,
    ) -> Result<SortedHistory, ImportError> {
        let run = run.max(1);
        let file = File::open(&self.path).map_err(|e| io_err(TEMP, &e))?;
        let mut r = BufReader::with_capacity(1 << 20, file);
        let mut runs: Vec<PathBuf> = Vec::new();
        let mut buf: Vec<SpillRecord> = Vec::with_capacity(run.min(1 << 20));
        let mut b = [0u8; SpillRecord::BYTES];
        let mut eof = false;
        while !eof {
            buf.clear();
            while buf.len() < run {
                match r.read_exact(&mut b) {
                    Ok(()) => {
                        let mut rec = SpillRecord::decode(&b);
                        let row = rank.get(rec.person as usize).copied().unwrap_or(u32::MAX);
                        if row == u32::MAX {
                            stats.rows_of_excluded_people += 1;
                            continue;
                        }
                        rec.person = row;
                        buf.push(rec);
                    }
                    Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
                        eof = true;
                        break;
                    }
                    Err(e) => return Err(io_err(TEMP, &e)),
                }
            }
            if buf.is_empty() {
                break;
            }
            buf.sort_unstable_by_key(SpillRecord::key);
            let p = temp_name(&self.dir, "run", runs.len());
            self.files.0.push(p.clone());
            let f = File::create(&p).map_err(|e| io_err(TEMP, &e))?;
            let mut w = BufWriter::with_capacity(1 << 20, f);
            for rec in &buf {
                rec.encode(&mut b);
                w.write_all(&b).map_err(|e| io_err(TEMP, &e))?;
            }
            w.flush().map_err(|e| io_err(TEMP, &e))?;
            runs.push(p);
        }
        drop(buf);
        // Merge.
        let out_path = temp_name(&self.dir, "history", 0);
        let f = File::create(&out_path).map_err(|e| io_err(TEMP, &e))?;
        let mut w = BufWriter::with_capacity(1 << 20, f);
        let mut readers: Vec<BufReader<File>> = Vec::with_capacity(runs.len());
        for p in &runs {
            let f = File::open(p).map_err(|e| io_err(TEMP, &e))?;
            readers.push(BufReader::with_capacity(1 << 16, f));
        }
        let mut heap = BinaryHeap::new();
        let next = |i: usize,
                    readers: &mut Vec<BufReader<File>>|
         -> Result<Option<SpillRecord>, ImportError> {
            let mut b = [0u8; SpillRecord::BYTES];
            match readers[i].read_exact(&mut b) {
                Ok(()) => Ok(Some(SpillRecord::decode(&b))),
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => Ok(None),
                Err(e) => Err(io_err(TEMP, &e)),
            }
        };
        for i in 0..readers.len() {
            if let Some(rec) = next(i, &mut readers)? {
                heap.push(Reverse((rec.key(), i, HeapRec(rec))));
            }
        }
        let mut last: Option<SpillRecord> = None;
        let mut per_person: Vec<u64> = Vec::new();
        while let Some(Reverse((_, i, HeapRec(rec)))) = heap.pop() {
            if let Some(n) = next(i, &mut readers)? {
                heap.push(Reverse((n.key(), i, HeapRec(n))));
            }
            if last.is_some_and(|l| l.same_reading(&rec)) {
                stats.duplicates_dropped += 1;
                *stats
                    .duplicates_by_measure
                    .entry(code_name(rec.code).0.to_string())
                    .or_insert(0) += 1;
                continue;
            }
            rec.encode(&mut b);
            w.write_all(&b).map_err(|e| io_err(TEMP, &e))?;
            stats.rows_written += 1;
            let p = rec.person as usize;
            if per_person.len() <= p {
                per_person.resize(p + 1, 0);
            }
            per_person[p] += 1;
            last = Some(rec);
        }
        w.flush().map_err(|e| io_err(TEMP, &e))?;
        // Runs and the raw spill are no longer needed.
        for p in runs.iter().chain(std::iter::once(&self.path)) {
            let _ = fs::remove_file(p);
        }
        Ok(SortedHistory {
            path: Some(out_path.clone()),
            per_person,
            _files: TempFiles(vec![out_path]),
        })
    }
}

/// Heap payload (ordering is carried by the key beside it).
#[derive(Clone, Copy, Debug)]
struct HeapRec(SpillRecord);
impl PartialEq for HeapRec {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}
impl Eq for HeapRec {}
impl PartialOrd for HeapRec {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for HeapRec {
    fn cmp(&self, _: &Self) -> std::cmp::Ordering {
        std::cmp::Ordering::Equal
    }
}

pub(super) struct SortedHistory {
    pub(super) path: Option<PathBuf>,
    pub(super) per_person: Vec<u64>,
    _files: TempFiles,
}

pub(super) fn code_name(code: u8) -> (&'static str, &'static str) {
    if code >= FLAG_CODE_BASE {
        let f = Flag::from_index(code - FLAG_CODE_BASE).unwrap_or(Flag::Smoker);
        (f.name(), "event")
    } else {
        let m = ClinicalMeasure::from_index(code).unwrap_or(ClinicalMeasure::BmiKgM2);
        (m.name(), m.unit())
    }
}

/// A measure kept in the history: by stored measure index, or a flag event (100 + flag).
pub(super) const FLAG_CODE_BASE: u8 = 100;
