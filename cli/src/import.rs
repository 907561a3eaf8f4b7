//! `healthtwin cohort import` (EMR/PHR → cohort file, history and quality report) and
//! `healthtwin bench import` (FHIR Observation NDJSON throughput). Formats, codes, units and
//! the report: docs/data.md.
//!
//! Must never: print an identifier. Everything printed here is a count, a pseudonym, the
//! output folder the user chose, or a message built by `cohort::import` (which holds no raw
//! identifiers). Inputs are named by their flag and position (`--fhir #2`, `fhir input #3`),
//! never by path: file names of exports often hold a patient number or a name.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::{Args, ValueEnum};
use cohort::import::{
    self, apple, codes::CodeMap, date, fhir, omop, plain, pseudo::Pseudonymiser, ImportError,
    ImportOptions, ImportResult, Importer, Impute,
};
use report::outputs::cohort_table;
use report::{write_atomic, write_parquet_with_metadata, ParquetSink, Table, Values};

use crate::common::{ensure_dir, input_error, peak_rss_bytes};

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum ImputeArg {
    /// Japanese sex- and age-specific mean (marked in `imputed_*` columns).
    Mean,
    /// Exclude people missing any covariate.
    None,
}

#[derive(Args, Debug)]
pub struct ImportArgs {
    /// FHIR R4 input: an NDJSON file (`.ndjson`, `.jsonl`: Bulk Data, one resource per
    /// line), a Bundle (`.json`), either gzip-compressed (`.ndjson.gz`, `.json.gz`), or a
    /// folder of them. Repeatable.
    #[arg(long, value_name = "PATH")]
    pub fhir: Vec<PathBuf>,
    /// OMOP CDM v5.4 folder (person.csv, measurement.csv, …). Repeatable.
    #[arg(long, value_name = "DIR")]
    pub omop: Vec<PathBuf>,
    /// Apple Health export.xml (one person). Repeatable.
    #[arg(long, value_name = "FILE")]
    pub apple: Vec<PathBuf>,
    /// The person id of each --apple file, in order (links it with other inputs). Default: a
    /// keyed hash of the file's content, so distinct files are distinct people (never the
    /// file name).
    #[arg(long, value_name = "ID")]
    pub apple_id: Vec<String>,
    /// Plain CSV folder (persons.csv, records.csv; docs/data.md). Repeatable.
    #[arg(long, value_name = "DIR")]
    pub csv: Vec<PathBuf>,
    /// Index date (YYYY-MM-DD): baseline values are the latest on or before it.
    #[arg(long, value_name = "DATE")]
    pub index_date: String,
    /// Days before the index date in which measures and questionnaire answers count.
    #[arg(long, default_value_t = 365, value_parser = clap::value_parser!(u32).range(1..=36_500))]
    pub lookback_days: u32,
    /// Days before the index date in which a prescription, dispensing or statement means
    /// "on treatment".
    #[arg(long, default_value_t = 180, value_parser = clap::value_parser!(u32).range(1..=36_500))]
    pub rx_window_days: u32,
    /// Days before the index date over which daily steps are averaged.
    #[arg(long, default_value_t = 90, value_parser = clap::value_parser!(u32).range(1..=36_500))]
    pub steps_window_days: u32,
    /// Extra code-map rows (CSV, the layout of cohort/data/code_map.csv).
    #[arg(long, value_name = "FILE")]
    pub codes: Vec<PathBuf>,
    /// File holding the pseudonymisation key (at least 32 bytes). Else the environment
    /// variable HEALTHTWIN_PSEUDONYM_KEY.
    #[arg(long, value_name = "FILE")]
    pub key_file: Option<PathBuf>,
    /// Demo mode: use the PUBLISHED demo key when no key is given. For synthetic and test
    /// data only: its pseudonyms protect nothing.
    #[arg(long)]
    pub demo: bool,
    /// Stop at the first refused record (default: skip it, count it, report it).
    #[arg(long)]
    pub strict: bool,
    /// How missing baseline covariates are filled.
    #[arg(long, value_enum, default_value_t = ImputeArg::Mean)]
    pub impute: ImputeArg,
    /// Youngest included age at the index date.
    #[arg(long, default_value_t = 18.0)]
    pub age_min: f64,
    /// Oldest included age at the index date.
    #[arg(long, default_value_t = 110.0)]
    pub age_max: f64,
    /// Output folder: cohort.parquet, history.parquet, quality.json/.csv/.md.
    #[arg(long, short = 'o', default_value = "out/cohort")]
    pub out: PathBuf,
    /// No summary on the terminal.
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

fn cohort_err(e: ImportError) -> anyhow::Error {
    match e {
        ImportError::Io { .. } => anyhow::Error::new(e),
        other => input_error(other.to_string()),
    }
}

/// Whether a file name is a FHIR input in a folder: `.ndjson`, `.jsonl`, `.json`, each
/// optionally gzip-compressed (`.ndjson.gz`).
fn is_fhir_name(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    let name = name.strip_suffix(".gz").unwrap_or(&name);
    [".ndjson", ".jsonl", ".json"]
        .iter()
        .any(|ext| name.ends_with(ext))
}

/// Files of the `arg`-th --fhir argument: the file itself, or a folder's FHIR files
/// ([`is_fhir_name`]) in name order.
fn fhir_files(p: &Path, arg: usize) -> anyhow::Result<Vec<PathBuf>> {
    if p.is_dir() {
        let mut v: Vec<PathBuf> = fs::read_dir(p)
            .map_err(|e| {
                input_error(format!(
                    "--fhir #{arg}: cannot read the folder: {}",
                    e.kind()
                ))
            })?
            .flatten()
            .map(|e| e.path())
            .filter(|f| {
                f.is_file()
                    && f.file_name()
                        .is_some_and(|n| is_fhir_name(&n.to_string_lossy()))
            })
            .collect();
        v.sort();
        if v.is_empty() {
            return Err(input_error(format!(
                "--fhir #{arg}: the folder has no .ndjson, .jsonl or .json files (or .gz of them)"
            )));
        }
        Ok(v)
    } else if p.is_file() {
        Ok(vec![p.to_path_buf()])
    } else {
        Err(input_error(format!(
            "--fhir #{arg}: no such file or folder"
        )))
    }
}

pub fn import(args: &ImportArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    // Everything the user supplied is checked before anything is written.
    let index = date::parse(&args.index_date)
        .filter(|s| s.precision == date::Precision::Day)
        .ok_or_else(|| {
            input_error(format!(
                "--index-date {}: expected a date YYYY-MM-DD",
                args.index_date
            ))
        })?;
    if index.day > date::today() + 1 {
        return Err(input_error(format!(
            "--index-date {}: after today; the baseline is taken at the index date",
            args.index_date
        )));
    }
    if args.fhir.is_empty() && args.omop.is_empty() && args.apple.is_empty() && args.csv.is_empty()
    {
        return Err(input_error(
            "no input: give --fhir, --omop, --apple or --csv (see docs/data.md)",
        ));
    }
    if !args.apple_id.is_empty() && args.apple_id.len() != args.apple.len() {
        return Err(input_error(format!(
            "{} --apple-id for {} --apple files: give one per file or none",
            args.apple_id.len(),
            args.apple.len()
        )));
    }
    if args.age_min.is_nan() || args.age_max.is_nan() || args.age_min > args.age_max {
        return Err(input_error("--age-min must not exceed --age-max"));
    }
    let env_key = std::env::var_os(import::pseudo::KEY_ENV)
        .map(|v| v.to_string_lossy().into_owned().into_bytes());
    let pseudo =
        Pseudonymiser::from_sources(args.key_file.as_deref(), env_key.as_deref(), args.demo)
            .map_err(|e| input_error(e.to_string()))?;
    if pseudo.is_demo() {
        eprintln!(
            "WARNING: DEMO MODE. Pseudonyms are made with the PUBLISHED demo key and can be \
             recomputed by anyone. Use --demo only for synthetic or test data, never for real \
             patients. Give --key-file or set {} for real data.",
            import::pseudo::KEY_ENV
        );
    }
    let mut codes = CodeMap::embedded();
    for (i, c) in args.codes.iter().enumerate() {
        let name = format!("--codes #{}", i + 1);
        let text = fs::read_to_string(c).map_err(|e| match e.kind() {
            std::io::ErrorKind::InvalidData => input_error(format!("{name}: not UTF-8 text")),
            kind => input_error(format!("{name}: cannot read: {kind}")),
        })?;
        codes
            .extend_from_str(&text, &name)
            .map_err(|e| input_error(e.to_string()))?;
    }
    let mut fhir_inputs = Vec::new();
    for (i, p) in args.fhir.iter().enumerate() {
        fhir_inputs.extend(fhir_files(p, i + 1)?);
    }
    for (flag, dirs) in [("--omop", &args.omop), ("--csv", &args.csv)] {
        for (i, p) in dirs.iter().enumerate() {
            if !p.is_dir() {
                return Err(input_error(format!("{flag} #{}: not a folder", i + 1)));
            }
        }
    }
    for (i, p) in args.apple.iter().enumerate() {
        if !p.is_file() {
            return Err(input_error(format!("--apple #{}: no such file", i + 1)));
        }
    }
    // The folder: locked, checked writable, the earlier import's manifest removed first, then
    // its files and any temporary files of a killed import (docs/data.md, the import folder).
    let folder = ImportFolder::prepare(&args.out)?;

    let mut opts = ImportOptions::new(index.day, args.out.clone());
    opts.lookback_days = args.lookback_days;
    opts.rx_window_days = args.rx_window_days;
    opts.steps_window_days = args.steps_window_days;
    opts.strict = args.strict;
    opts.impute = match args.impute {
        ImputeArg::Mean => Impute::Mean,
        ImputeArg::None => Impute::None,
    };
    opts.age_min = args.age_min;
    opts.age_max = args.age_max;
    let mut imp = Importer::new(opts, codes, pseudo).map_err(cohort_err)?;
    // Inputs are numbered per format from 1 in the order given (a folder's files in name
    // order): the only way errors and the report refer to them.
    for (f, position) in fhir_inputs.iter().zip(1..) {
        fhir::read_file(&mut imp, f, position).map_err(cohort_err)?;
    }
    for (d, position) in args.omop.iter().zip(1..) {
        omop::read_dir(&mut imp, d, position).map_err(cohort_err)?;
    }
    for (i, (f, position)) in args.apple.iter().zip(1..).enumerate() {
        let who = match args.apple_id.get(i) {
            Some(id) => apple::ApplePerson::Id(id),
            None => apple::ApplePerson::Content,
        };
        apple::read_file(&mut imp, f, position, who).map_err(cohort_err)?;
    }
    for (d, position) in args.csv.iter().zip(1..) {
        plain::read_dir(&mut imp, d, position).map_err(cohort_err)?;
    }
    let result = imp.finish().map_err(cohort_err)?;
    if result.people.is_empty() {
        write_quality(&result, &args.out)?;
        return Err(input_error(format!(
            "nobody could be included (see {}/quality.md for why); no cohort file written",
            args.out.display()
        )));
    }
    write_outputs(&result, &args.out)?;
    // Last: the manifest says the folder holds one complete import.
    folder.write_manifest(&result)?;
    if !args.quiet {
        summary(&result, &args.out, started.elapsed().as_secs_f64());
    }
    Ok(())
}

/// The files an import writes, in order; `manifest.json` comes last.
const OUTPUTS: [&str; 5] = [
    "cohort.parquet",
    "history.parquet",
    "quality.json",
    "quality.csv",
    "quality.md",
];
const MANIFEST: &str = "manifest.json";
/// Locked (flock) for the whole import, so two imports into one folder cannot mix. Never
/// removed: removing a lock file lets a third process lock a new file of the same name.
const LOCK: &str = ".healthtwin-import.lock";
/// What an import's manifest says it is (a run's manifest has no `command`).
const COMMAND: &str = "cohort import";

/// The output folder of one import, locked while the import runs.
struct ImportFolder {
    dir: PathBuf,
    _lock: fs::File,
}

impl ImportFolder {
    /// Creates the folder, takes its lock, checks it is writable, refuses a folder holding
    /// another command's output, then removes (in this order) the manifest of an earlier
    /// import, that import's files and temporary files of killed imports. After this, the
    /// folder holds no file of an earlier import: a failed import cannot leave an old cohort
    /// beside a new report.
    fn prepare(dir: &Path) -> anyhow::Result<ImportFolder> {
        let shown = dir.display();
        fs::create_dir_all(dir).map_err(|e| {
            input_error(format!(
                "--out {shown}: cannot create the folder: {}",
                e.kind()
            ))
        })?;
        // Every import creates the lock before writing anything: its presence marks a folder
        // an import wrote into (with an earlier version's report, `quality.json`).
        let import_folder = dir.join(LOCK).exists() || dir.join("quality.json").exists();
        let lock = fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(dir.join(LOCK))
            .map_err(|e| input_error(format!("--out {shown}: not writable: {}", e.kind())))?;
        match try_lock(&lock) {
            Ok(true) => {}
            Ok(false) => {
                return Err(input_error(format!(
                    "--out {shown}: another `healthtwin cohort import` is writing into this \
                     folder; wait for it to finish or choose another folder"
                )))
            }
            Err(e) => {
                return Err(input_error(format!(
                    "--out {shown}: cannot lock the folder ({}): imports into it could mix",
                    e.kind()
                )))
            }
        }
        // Writable: a probe file, before any input is read.
        let probe = dir.join(format!(
            "{}probe-{}.tmp",
            import::TEMP_PREFIX,
            std::process::id()
        ));
        fs::write(&probe, b"probe")
            .and_then(|()| fs::remove_file(&probe))
            .map_err(|e| input_error(format!("--out {shown}: not writable: {}", e.kind())))?;
        let manifest = dir.join(MANIFEST);
        let ours = match fs::read(&manifest) {
            Ok(bytes) => {
                let command = serde_json::from_slice::<serde_json::Value>(&bytes)
                    .ok()
                    .and_then(|v| v.get("command").and_then(|c| c.as_str()).map(String::from));
                if command.as_deref() != Some(COMMAND) {
                    return Err(input_error(format!(
                        "--out {shown}: holds a manifest.json that is not a cohort import's (a \
                         run's output?); choose an empty folder or an earlier import's folder"
                    )));
                }
                true
            }
            Err(_) => false,
        };
        let earlier = OUTPUTS.iter().filter(|f| dir.join(f).exists()).count();
        // Files of our names without any sign of an import (its lock, manifest or report):
        // not ours to delete (a `cohort synth` file, say).
        if earlier > 0 && !ours && !import_folder {
            return Err(input_error(format!(
                "--out {shown}: holds cohort.parquet or history.parquet that are not from a \
                 cohort import; choose another folder"
            )));
        }
        let remove = |name: &str| -> anyhow::Result<()> {
            match fs::remove_file(dir.join(name)) {
                Ok(()) => Ok(()),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
                Err(e) => Err(input_error(format!(
                    "--out {shown}: cannot remove {name} of an earlier import: {}",
                    e.kind()
                ))),
            }
        };
        // First the manifest (durably), so no step below leaves a manifest beside a
        // changed folder.
        remove(MANIFEST)?;
        sync_dir(dir);
        for f in OUTPUTS {
            remove(f)?;
        }
        // Temporary files of imports killed while writing: the spill and sort runs
        // (`.healthtwin-import-…tmp`) and outputs being written (`.cohort.parquet.<pid>.tmp`).
        // Safe under the lock: no other import is writing here.
        if let Ok(entries) = fs::read_dir(dir) {
            for e in entries.flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                if is_import_temp(&name) {
                    remove(&name)?;
                }
            }
        }
        Ok(ImportFolder {
            dir: dir.to_path_buf(),
            _lock: lock,
        })
    }

    /// Writes `manifest.json`, last: what was imported (inputs by kind and position, counts,
    /// the key's fingerprint and whether it was the demo key) and each output's size and
    /// SHA-256, so a reader can check the files are the ones this import wrote.
    fn write_manifest(&self, result: &ImportResult) -> anyhow::Result<()> {
        let q = &result.quality;
        let mut files = Vec::new();
        for name in OUTPUTS {
            let (bytes, sha256) = sha256_file(&self.dir.join(name))?;
            files.push(ManifestFile {
                name,
                bytes,
                sha256,
            });
        }
        let manifest = ImportManifest {
            command: COMMAND,
            complete: true,
            healthtwin_version: env!("CARGO_PKG_VERSION"),
            git_commit: env!("HEALTHTWIN_GIT_COMMIT"),
            index_date: &q.index_date,
            import_date: &q.dates.import_date,
            demo_key: q.pseudonym_key_demo,
            pseudonym_key_fingerprint: &q.pseudonym_key_fingerprint,
            inputs: q
                .inputs
                .iter()
                .map(|i| ManifestInput {
                    input: &i.input,
                    format: &i.format,
                    position: i.position,
                    table: i.table.as_deref(),
                    compressed: i.compressed,
                    bytes: i.bytes,
                    records_read: i.records_read,
                })
                .collect(),
            counts: ManifestCounts {
                records_read: q.inputs.iter().map(|i| i.records_read).sum(),
                records_refused: q.errors.total,
                people_seen: q.persons.seen,
                people_included: q.persons.included,
                history_rows: q.history.rows_written,
            },
            files,
        };
        sync_dir(&self.dir);
        write_atomic(
            &self.dir.join(MANIFEST),
            serde_json::to_string_pretty(&manifest)?.as_bytes(),
        )?;
        sync_dir(&self.dir);
        Ok(())
    }
}

/// An exclusive, non-blocking lock on `file` (flock: released by the kernel when the process
/// ends, however it ends). `Ok(false)`: another process holds it. Not unix: not locked.
fn try_lock(file: &fs::File) -> std::io::Result<bool> {
    #[cfg(unix)]
    {
        use rustix::fs::{flock, FlockOperation};
        match flock(file, FlockOperation::NonBlockingLockExclusive) {
            Ok(()) => Ok(true),
            Err(e) if e == rustix::io::Errno::WOULDBLOCK => Ok(false),
            Err(e) => Err(e.into()),
        }
    }
    #[cfg(not(unix))]
    {
        let _ = file;
        Ok(true)
    }
}

/// A temporary file of an import: the spill and sort runs, or an output being written.
fn is_import_temp(name: &str) -> bool {
    if name.starts_with(import::TEMP_PREFIX) && name.ends_with(".tmp") {
        return true;
    }
    // report::AtomicFile writes `dest` as `.{name}.{pid}.tmp`.
    OUTPUTS.iter().chain([&MANIFEST]).any(|f| {
        name.strip_prefix('.')
            .and_then(|n| n.strip_prefix(f))
            .and_then(|n| n.strip_prefix('.'))
            .and_then(|n| n.strip_suffix(".tmp"))
            .is_some_and(|pid| !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit()))
    })
}

/// Makes renames and removals in a folder durable (best effort: not every platform can
/// sync a folder).
fn sync_dir(dir: &Path) {
    if let Ok(d) = fs::File::open(dir) {
        let _ = d.sync_all();
    }
}

fn sha256_file(path: &Path) -> anyhow::Result<(u64, String)> {
    use sha2::{Digest, Sha256};
    use std::io::Read;
    let mut f = fs::File::open(path)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut bytes = 0u64;
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        bytes += n as u64;
        h.update(&buf[..n]);
    }
    Ok((
        bytes,
        h.finalize().iter().map(|b| format!("{b:02x}")).collect(),
    ))
}

#[derive(serde::Serialize)]
struct ImportManifest<'a> {
    command: &'static str,
    complete: bool,
    healthtwin_version: &'static str,
    git_commit: &'static str,
    index_date: &'a str,
    import_date: &'a str,
    /// The published demo key made the pseudonyms: synthetic or test data only.
    demo_key: bool,
    pseudonym_key_fingerprint: &'a str,
    inputs: Vec<ManifestInput<'a>>,
    counts: ManifestCounts,
    files: Vec<ManifestFile>,
}

#[derive(serde::Serialize)]
struct ManifestInput<'a> {
    input: &'a str,
    format: &'a str,
    position: u32,
    table: Option<&'a str>,
    compressed: bool,
    bytes: u64,
    records_read: u64,
}

#[derive(serde::Serialize)]
struct ManifestCounts {
    records_read: u64,
    records_refused: u64,
    people_seen: u64,
    people_included: u64,
    history_rows: u64,
}

#[derive(serde::Serialize)]
struct ManifestFile {
    name: &'static str,
    bytes: u64,
    sha256: String,
}

fn write_quality(result: &ImportResult, out: &Path) -> anyhow::Result<()> {
    let q = &result.quality;
    write_atomic(&out.join("quality.json"), q.to_json().as_bytes())?;
    write_atomic(&out.join("quality.csv"), q.to_csv().as_bytes())?;
    write_atomic(&out.join("quality.md"), q.to_markdown().as_bytes())?;
    Ok(())
}

/// The baseline table: the `cohort synth` layout (so `run --cohort` reads it) plus the
/// import's own columns.
pub fn baseline_table(result: &ImportResult) -> Table {
    let people: Vec<engine::Baseline> = result.people.iter().map(|p| p.baseline).collect();
    let ids: Vec<String> = result.people.iter().map(|p| p.pseudo_id.clone()).collect();
    let mut t = cohort_table(&people, &|id| ids[id as usize].clone());
    let index = date::format_day(result.index_day());
    t.push(
        "index_date",
        Values::Text(result.people.iter().map(|_| Some(index.clone())).collect()),
    );
    t.push(
        "first_record_days",
        Values::Int(
            result
                .people
                .iter()
                .map(|p| i64::from(p.first_record_days))
                .collect(),
        ),
    );
    t.push(
        "last_record_days",
        Values::Int(
            result
                .people
                .iter()
                .map(|p| i64::from(p.last_record_days))
                .collect(),
        ),
    );
    t.push(
        "history_rows",
        Values::Int(
            result
                .people
                .iter()
                .map(|p| p.history_rows as i64)
                .collect(),
        ),
    );
    t.push(
        "sources",
        Values::Text(
            result
                .people
                .iter()
                .map(|p| Some(p.sources.clone()))
                .collect(),
        ),
    );
    let names: Vec<&str> = engine::Covariates::CONTINUOUS
        .iter()
        .copied()
        .chain(["smoker"])
        .collect();
    for (k, name) in names.iter().enumerate() {
        t.push(
            format!("imputed_{name}"),
            Values::Bool(result.people.iter().map(|p| p.imputed[k]).collect()),
        );
    }
    t
}

fn history_batch(rows: &[import::HistoryRow], ids: &[String]) -> Table {
    let mut t = Table::new("history");
    t.push(
        "patient_id",
        Values::Int(rows.iter().map(|r| r.patient_id as i64).collect()),
    );
    t.push(
        "pseudo_id",
        Values::Text(
            rows.iter()
                .map(|r| ids.get(r.patient_id as usize).cloned())
                .collect(),
        ),
    );
    t.push(
        "measure",
        Values::Text(rows.iter().map(|r| Some(r.measure.to_string())).collect()),
    );
    t.push(
        "value",
        Values::Float(rows.iter().map(|r| Some(r.value)).collect()),
    );
    t.push(
        "unit",
        Values::Text(rows.iter().map(|r| Some(r.unit.to_string())).collect()),
    );
    t.push(
        "days_from_index",
        Values::Int(
            rows.iter()
                .map(|r| i64::from(r.days_from_index()))
                .collect(),
        ),
    );
    t.push(
        "minute_of_day",
        Values::Int(
            rows.iter()
                .map(|r| i64::from(r.minute.rem_euclid(1440)))
                .collect(),
        ),
    );
    t.push(
        "age_years",
        Values::Float(rows.iter().map(|r| Some(r.age_years)).collect()),
    );
    t.push(
        "source",
        Values::Text(rows.iter().map(|r| Some(r.source.to_string())).collect()),
    );
    t
}

/// Rows per history row group: bounds memory for any history length.
const HISTORY_BATCH: usize = 65_536;

/// Key-value metadata of both Parquet files: where the cohort came from and whether its
/// pseudonyms were made with the published demo key (`healthtwin.demo_key = true`: synthetic
/// or test data only; such cohorts are to be refused in published aggregates).
fn parquet_metadata(result: &ImportResult) -> [(&'static str, String); 3] {
    let q = &result.quality;
    [
        ("healthtwin.origin", "imported".to_string()),
        ("healthtwin.demo_key", q.pseudonym_key_demo.to_string()),
        (
            "healthtwin.pseudonym_key_fingerprint",
            q.pseudonym_key_fingerprint.clone(),
        ),
    ]
}

fn write_outputs(result: &ImportResult, out: &Path) -> anyhow::Result<()> {
    let meta = parquet_metadata(result);
    let meta: Vec<(&str, &str)> = meta.iter().map(|(k, v)| (*k, v.as_str())).collect();
    write_parquet_with_metadata(&baseline_table(result), &out.join("cohort.parquet"), &meta)?;
    let ids: Vec<String> = result.people.iter().map(|p| p.pseudo_id.clone()).collect();
    let dest = out.join("history.parquet");
    let mut sink = ParquetSink::create_with_metadata(&dest, &history_batch(&[], &ids), &meta)?;
    let mut batch: Vec<import::HistoryRow> = Vec::with_capacity(HISTORY_BATCH);
    result.for_each_history::<anyhow::Error>(|r| {
        batch.push(r.clone());
        if batch.len() == HISTORY_BATCH {
            sink.write(&history_batch(&batch, &ids))?;
            batch.clear();
        }
        Ok(())
    })?;
    if !batch.is_empty() {
        sink.write(&history_batch(&batch, &ids))?;
    }
    sink.finish()?;
    write_quality(result, out)
}

fn summary(result: &ImportResult, out: &Path, secs: f64) {
    let q = &result.quality;
    let read: u64 = q.inputs.iter().map(|i| i.records_read).sum();
    let mapped: u64 = q.inputs.iter().map(|i| i.mapped).sum();
    let excluded: u64 = q.persons.excluded.values().sum();
    let mut e = std::io::stderr().lock();
    let _ = writeln!(
        e,
        "imported {} people ({} excluded) from {} records ({} mapped, {} unmapped-code occurrences, {} refused) in {:.1} s",
        q.persons.included, excluded, read, mapped, q.unmapped_codes_total, q.errors.total, secs
    );
    let _ = writeln!(
        e,
        "wrote {0}/cohort.parquet, {0}/history.parquet ({1} rows), {0}/quality.md (.json, .csv), {0}/manifest.json",
        out.display(),
        q.history.rows_written
    );
    if q.errors.total > 0 {
        let _ = writeln!(
            e,
            "refused records are listed in {}/quality.md",
            out.display()
        );
    }
}

// ---------------------------------------------------------------------------------------
// bench import

#[derive(Args, Debug)]
pub struct ImportBenchArgs {
    /// Observation lines to generate and import.
    #[arg(long, default_value_t = 2_000_000, value_parser = clap::value_parser!(u64).range(1..=1_000_000_000))]
    pub lines: u64,
    /// Distinct patients the observations refer to.
    #[arg(long, default_value_t = 100_000, value_parser = clap::value_parser!(u64).range(1..=100_000_000))]
    pub patients: u64,
    /// Folder for the generated NDJSON and the spill (removed afterwards).
    #[arg(long, default_value = "target/bench-import")]
    pub dir: PathBuf,
}

/// A realistic JP Core lab/vital Observation line (narrative-free, as Bulk Data exports are).
fn observation_line(i: u64, patients: u64, out: &mut String) {
    use std::fmt::Write as _;
    out.clear();
    let p = i % patients;
    let day = 1 + (i / patients) % 28;
    let month = 1 + (i / (patients * 28)) % 12;
    let (system, code, value, unit) = match i % 6 {
        0 => (
            "urn:oid:1.2.392.200119.4.504",
            "3D046000001906202",
            5.0 + (i % 30) as f64 / 10.0,
            "%",
        ),
        1 => (
            "urn:oid:1.2.392.200119.4.504",
            "3D010000001926101",
            85.0 + (i % 60) as f64,
            "mg/dL",
        ),
        2 => (
            "http://loinc.org",
            "8480-6",
            105.0 + (i % 50) as f64,
            "mm[Hg]",
        ),
        3 => (
            "http://loinc.org",
            "8462-4",
            65.0 + (i % 30) as f64,
            "mm[Hg]",
        ),
        4 => ("http://loinc.org", "29463-7", 50.0 + (i % 40) as f64, "kg"),
        _ => (
            "urn:oid:1.2.392.200119.4.504",
            "3F077000002327101",
            80.0 + (i % 90) as f64,
            "mg/dL",
        ),
    };
    let _ = writeln!(
        out,
        "{{\"resourceType\":\"Observation\",\"id\":\"obs-{i}\",\"meta\":{{\"profile\":[\"http://jpfhir.jp/fhir/core/StructureDefinition/JP_Observation_LabResult\"]}},\
\"status\":\"final\",\"category\":[{{\"coding\":[{{\"system\":\"http://terminology.hl7.org/CodeSystem/observation-category\",\"code\":\"laboratory\"}}]}}],\
\"code\":{{\"coding\":[{{\"system\":\"{system}\",\"code\":\"{code}\",\"display\":\"item\"}}]}},\
\"subject\":{{\"reference\":\"Patient/bench-{p}\"}},\"effectiveDateTime\":\"2023-{month:02}-{day:02}T09:30:00+09:00\",\
\"valueQuantity\":{{\"value\":{value},\"unit\":\"{unit}\",\"system\":\"http://unitsofmeasure.org\",\"code\":\"{unit}\"}}}}"
    );
}

/// Bytes of disk and memory `bench import` needs: the generated NDJSON (`line_bytes` a line
/// at most) and patient file, the import's spill, sort runs and sorted history (18 bytes a
/// line each, all on disk at the merge); the person index and result (about 1 KiB a person)
/// and a sort run (96 MB) in memory.
fn bench_needs(lines: u64, patients: u64, line_bytes: u64) -> (u64, u64) {
    let disk = lines
        .saturating_mul(line_bytes + 3 * 18)
        .saturating_add(patients.saturating_mul(120));
    let memory = patients.saturating_mul(1024).saturating_add(200 << 20);
    (disk, memory)
}

/// Refuses a `bench import` that cannot fit: a clear message instead of a full disk or an
/// out-of-memory kill hours later. `None`: unknown, not checked.
fn check_bench_resources(
    args: &ImportBenchArgs,
    line_bytes: u64,
    disk_free: Option<u64>,
    memory_available: Option<u64>,
) -> Result<(), String> {
    let (disk, memory) = bench_needs(args.lines, args.patients, line_bytes);
    let gb = |b: u64| b as f64 / 1e9;
    if let Some(free) = disk_free.filter(|&f| disk > f / 10 * 9) {
        let per_line = line_bytes + 3 * 18;
        return Err(format!(
            "bench import: --lines {} needs about {:.1} GB of disk in {} (the generated NDJSON \
             and the import's spill), and {:.1} GB are free: give at most --lines {}",
            args.lines,
            gb(disk),
            args.dir.display(),
            gb(free),
            (free / 10 * 9).saturating_sub(args.patients.saturating_mul(120)) / per_line
        ));
    }
    if let Some(avail) = memory_available.filter(|&m| memory > m / 10 * 9) {
        return Err(format!(
            "bench import: --patients {} needs about {:.1} GB of memory, and {:.1} GB are \
             available: give at most --patients {}",
            args.patients,
            gb(memory),
            gb(avail),
            ((avail / 10 * 9).saturating_sub(200 << 20)) / 1024
        ));
    }
    Ok(())
}

/// Free bytes on the file system holding `dir` (unix), else `None`.
fn disk_free(dir: &Path) -> Option<u64> {
    #[cfg(unix)]
    {
        let s = rustix::fs::statvfs(dir).ok()?;
        Some(s.f_bavail.saturating_mul(s.f_frsize))
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        None
    }
}

/// `MemAvailable` of /proc/meminfo (Linux), else `None`.
fn memory_available() -> Option<u64> {
    let text = fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

pub fn bench(args: &ImportBenchArgs) -> anyhow::Result<()> {
    ensure_dir(&args.dir)?;
    let mut longest = String::new();
    observation_line(args.lines - 1, args.patients, &mut longest);
    check_bench_resources(
        args,
        longest.len() as u64,
        disk_free(&args.dir),
        memory_available(),
    )
    .map_err(input_error)?;
    let obs_path = args.dir.join("Observation.ndjson");
    let pat_path = args.dir.join("Patient.ndjson");
    {
        let mut w = std::io::BufWriter::new(fs::File::create(&obs_path)?);
        let mut s = String::new();
        for i in 0..args.lines {
            observation_line(i, args.patients, &mut s);
            w.write_all(s.as_bytes())?;
        }
        w.flush()?;
        let mut w = std::io::BufWriter::new(fs::File::create(&pat_path)?);
        for p in 0..args.patients {
            let sex = if p % 2 == 0 { "male" } else { "female" };
            writeln!(
                w,
                "{{\"resourceType\":\"Patient\",\"id\":\"bench-{p}\",\"gender\":\"{sex}\",\"birthDate\":\"{}-04-01\"}}",
                1940 + p % 40
            )?;
        }
        w.flush()?;
    }
    let bytes = fs::metadata(&obs_path)?.len();
    let index = date::parse("2024-01-01").map(|s| s.day).unwrap_or(0);
    let opts = ImportOptions::new(index, args.dir.clone());
    let mut imp =
        Importer::new(opts, CodeMap::embedded(), Pseudonymiser::demo()).map_err(cohort_err)?;
    fhir::read_ndjson(&mut imp, &pat_path, 1).map_err(cohort_err)?;
    let t0 = Instant::now();
    fhir::read_ndjson(&mut imp, &obs_path, 2).map_err(cohort_err)?;
    let parse_secs = t0.elapsed().as_secs_f64();
    let t1 = Instant::now();
    let result = imp.finish().map_err(cohort_err)?;
    let finish_secs = t1.elapsed().as_secs_f64();
    let rows = result.quality.history.rows_written;
    let mapped = result
        .quality
        .inputs
        .iter()
        .find(|i| i.position == 2)
        .map_or(0, |i| i.mapped);
    drop(result);
    let _ = fs::remove_file(&obs_path);
    let _ = fs::remove_file(&pat_path);
    println!("bench import: FHIR Observation NDJSON, one thread");
    println!("  lines                  {:>12}", args.lines);
    println!("  mapped                 {:>12}", mapped);
    println!("  patients               {:>12}", args.patients);
    println!(
        "  NDJSON size            {:>12.1} MiB",
        bytes as f64 / (1 << 20) as f64
    );
    println!("  parse + accumulate     {:>12.2} s", parse_secs);
    println!(
        "  Observation lines/s    {:>12.0}   (per core; target >= 200,000)",
        args.lines as f64 / parse_secs
    );
    println!(
        "  MB/s                   {:>12.1}",
        bytes as f64 / 1e6 / parse_secs
    );
    println!(
        "  finish (baseline, external sort of {} history rows) {:.2} s",
        rows, finish_secs
    );
    match peak_rss_bytes() {
        Some(b) => println!(
            "  peak RSS               {:>12.1} MiB",
            b as f64 / (1 << 20) as f64
        ),
        None => println!("  peak RSS               unknown (no /proc/self/status)"),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bench_args(lines: u64, patients: u64) -> ImportBenchArgs {
        ImportBenchArgs {
            lines,
            patients,
            dir: PathBuf::from("target/bench-import"),
        }
    }

    /// Issue 17, item 9: `bench import --lines 1000000000` was accepted (about 600 GB of
    /// NDJSON and spill on a disk with tens of GB free).
    #[test]
    fn bench_import_is_bounded_by_disk_and_memory() {
        let mut line = String::new();
        observation_line(999_999_999, 100_000, &mut line);
        let per_line = line.len() as u64;
        let gb = 1_000_000_000;
        let err = check_bench_resources(
            &bench_args(1_000_000_000, 100_000),
            per_line,
            Some(73 * gb),
            Some(22 * gb),
        )
        .unwrap_err();
        assert!(
            err.contains("GB of disk") && err.contains("give at most --lines"),
            "{err}"
        );
        // The suggested bound fits.
        let most: u64 = err.rsplit(' ').next().unwrap().parse().unwrap();
        assert!(check_bench_resources(
            &bench_args(most, 100_000),
            per_line,
            Some(73 * gb),
            Some(22 * gb)
        )
        .is_ok());
        let err = check_bench_resources(
            &bench_args(1_000_000, 100_000_000),
            per_line,
            Some(73 * gb),
            Some(22 * gb),
        )
        .unwrap_err();
        assert!(err.contains("GB of memory"), "{err}");
        // The default run fits a small machine; unknown resources are not checked.
        assert!(check_bench_resources(
            &bench_args(2_000_000, 100_000),
            per_line,
            Some(5 * gb),
            Some(gb)
        )
        .is_ok());
        assert!(
            check_bench_resources(&bench_args(1_000_000_000, 100_000), per_line, None, None)
                .is_ok()
        );
    }
}
