//! What every command shares: input errors (exit code 2), the thread pool, output folders,
//! model parameters by name, progress bars and the process's peak memory.

use std::fs;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use models::mortality::LifeTable;
use models::HealthModel;
use study::Progress;

/// Errors caused by what the user supplied (exit code 2), as opposed to failures while running.
#[derive(Debug)]
pub struct InputError(pub String);

impl std::fmt::Display for InputError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}
impl std::error::Error for InputError {}

pub fn input_error(msg: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(InputError(msg.into()))
}

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
