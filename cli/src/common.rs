//! What every command shares: input errors (exit code 2), the thread pool, output folders,
//! where a cohort file comes from and the disclosure policy it implies, model parameters by
//! name, progress bars and the process's peak memory.

use std::fs;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use models::mortality::LifeTable;
use models::HealthModel;
use report::disclosure::{Policy, Record};
use report::provenance::{self, CohortFileInfo};
use report::{OutputDir, OutputError};
use serde::Serialize;
use study::Progress;

// The input-error type lives in the library target (`lib.rs`) so the fuzz targets share it.
pub use healthtwin::{input_error, InputError};

/// Runs `f` on a rayon pool of `threads` threads (or the global pool).
pub fn with_threads<T: Send>(
    threads: Option<u16>,
    f: impl FnOnce() -> T + Send,
) -> anyhow::Result<T> {
    match threads {
        Some(n) => {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(usize::from(n))
                .build()?;
            Ok(pool.install(f))
        }
        None => Ok(f()),
    }
}

pub fn ensure_dir(dir: &Path) -> anyhow::Result<()> {
    fs::create_dir_all(dir)
        .with_context(|| format!("cannot create output folder {}", dir.display()))
}

fn output_error(e: OutputError) -> anyhow::Error {
    if e.is_usage() {
        input_error(e.to_string())
    } else {
        anyhow::Error::new(e)
    }
}

/// Takes the output folder `dir` of a command whose files are `own` (report::OutputDir):
/// locked, writable, without manifest, stale own files and temporaries. A folder another
/// command holds, or one that cannot be written, is the user's to fix (exit code 2).
pub fn output_dir(dir: &Path, own: &[&str]) -> anyhow::Result<OutputDir> {
    OutputDir::create(dir, own).map_err(output_error)
}

/// Takes the folder of the single output file `file` (report::OutputDir::for_file).
pub fn output_file(file: &Path) -> anyhow::Result<OutputDir> {
    OutputDir::for_file(file).map_err(output_error)
}

/// The `disclosure` key of every manifest.
#[derive(Serialize, Clone, Copy, Debug)]
pub struct DisclosureManifest {
    pub min_cell: Option<u32>,
    pub applied: bool,
    pub suppressed_cells: u64,
}

impl From<Record> for DisclosureManifest {
    fn from(r: Record) -> Self {
        DisclosureManifest {
            min_cell: r.min_cell,
            applied: r.applied,
            suppressed_cells: r.suppressed_cells,
        }
    }
}

/// Where a run's people come from, and what that implies for its outputs.
#[derive(Clone, Debug)]
pub struct Provenance {
    /// `None` for the embedded synthetic cohort.
    pub cohort_file: Option<CohortFileInfo>,
    pub policy: Policy,
}

impl Provenance {
    /// The embedded synthetic cohort: control only when `--min-cell` asks for it.
    pub fn synthetic(min_cell: Option<u32>) -> anyhow::Result<Provenance> {
        Ok(Provenance {
            cohort_file: None,
            policy: Policy::resolve(false, min_cell).map_err(|e| input_error(e.to_string()))?,
        })
    }

    /// A cohort file: real people's data unless the file is marked synthetic
    /// (report::provenance); a demo-key cohort only with `allow_demo_key`.
    pub fn cohort_file(
        path: &Path,
        min_cell: Option<u32>,
        allow_demo_key: bool,
    ) -> anyhow::Result<Provenance> {
        let info = provenance::read(path);
        if info.demo_key && !allow_demo_key {
            return Err(input_error(format!(
                "{}: its pseudonyms were made with the published demo key (cohort import --demo), \
                 so anyone can reverse them to the original identifiers; aggregates of it are \
                 not published unless you pass --allow-demo-key (for test data only), or \
                 import again with your own key (--key-file)",
                path.display()
            )));
        }
        if info.stale_marker {
            eprintln!(
                "note: {}: its marker {} was written for other bytes; the file is handled as real people's data",
                path.display(),
                provenance::marker_path(path).display()
            );
        }
        let real = info.origin.is_real();
        Ok(Provenance {
            policy: Policy::resolve(real, min_cell).map_err(|e| input_error(e.to_string()))?,
            cohort_file: Some(info),
        })
    }

    /// Whether the people are real (person-level files then carry ages in whole months).
    pub fn real_people(&self) -> bool {
        self.cohort_file
            .as_ref()
            .is_some_and(|i| i.origin.is_real())
    }

    /// The precision of ages and times in person-level files.
    pub fn ages(&self) -> report::outputs::AgePrecision {
        if self.real_people() {
            report::outputs::AgePrecision::WholeMonths
        } else {
            report::outputs::AgePrecision::Exact
        }
    }

    /// The origin recorded in a manifest.
    pub fn origin(&self) -> &'static str {
        match &self.cohort_file {
            None => "synthetic",
            Some(i) => i.origin.name(),
        }
    }
}

/// The model with `NAME=VALUE` settings applied (errors name the setting).
pub fn model_with(sets: &[String]) -> anyhow::Result<HealthModel> {
    let mut model = HealthModel::new(LifeTable::mhlw_2024());
    for s in sets {
        let (name, value) = s
            .split_once('=')
            .ok_or_else(|| input_error(format!("--set {s}: expected NAME=VALUE")))?;
        let v: f64 = value
            .trim()
            .parse()
            .map_err(|_| input_error(format!("--set {s}: `{}` is not a number", value.trim())))?;
        model
            .set_param(name.trim(), v)
            .map_err(|e| input_error(format!("--set {s}: {e}")))?;
    }
    Ok(model)
}

/// The progress bar of a simulation: patient-years done of `total` (hidden when `quiet`).
pub fn patient_years_bar(total: u64, quiet: bool) -> ProgressBar {
    let bar = if quiet {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(total)
    };
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} {msg} [{bar:40}] {percent}% of {human_len} patient-years, eta {eta}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    bar
}

/// A progress bar of patient-years for a study (hidden when quiet).
pub struct StudyBar {
    bar: ProgressBar,
    done: AtomicU64,
}

impl StudyBar {
    pub fn new(total: u64, quiet: bool) -> Self {
        StudyBar {
            bar: patient_years_bar(total, quiet),
            done: AtomicU64::new(0),
        }
    }

    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

impl Progress for StudyBar {
    fn run_started(&self, arm: &str, replicate: u32, replicates: u32) {
        self.bar
            .set_message(format!("replicate {}/{replicates}, {arm}", replicate + 1));
    }

    fn advanced(&self, patient_years: u64) {
        let d = self.done.fetch_add(patient_years, Ordering::Relaxed) + patient_years;
        self.bar.set_position(d);
    }
}

/// Peak resident set size of this process in bytes (Linux `VmHWM`), if known.
pub fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// The model with a parameter file's `[parameters]` (a scenario file, e.g. a calibration's
/// `calibrated.toml`) and then `--set` values applied (`--set` wins).
pub fn model_with_file(params: Option<&Path>, sets: &[String]) -> anyhow::Result<HealthModel> {
    let mut model = model_with(sets)?;
    if let Some(path) = params {
        let scenario = scenarios::load(path).map_err(|e| input_error(e.to_string()))?;
        let set_names: Vec<&str> = sets
            .iter()
            .filter_map(|s| s.split_once('=').map(|(n, _)| n.trim()))
            .collect();
        let values: Vec<(&str, f64)> = scenario
            .parameters
            .iter()
            .filter(|(n, _)| !set_names.contains(&n.as_str()))
            .map(|(n, v)| (n.as_str(), *v))
            .collect();
        model
            .set_params(&values)
            .map_err(|e| input_error(format!("{}: {e}", path.display())))?;
    }
    Ok(model)
}
