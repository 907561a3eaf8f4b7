//! Memory before allocation: what a command will hold, estimated from its sizes before it
//! allocates anything large, against what this process may use (the machine's
//! `MemAvailable`, the cgroup limit of a container, `ulimit -v`). Over it, the command stops
//! with exit code 2 and the size that fits, instead of aborting half way (issue 17, item 8).
//!
//! The figures are measured (docs/outputs.md, "Memory"): peak RSS (`VmHWM`) of the
//! release binary at two sizes, 2 threads, fitted as a line:
//!
//! | command | sizes | peak RSS | per person | fixed |
//! |---|---|---|---|---|
//! | `bench --years 2` | 100,000 / 400,000 | 91.0 / 345.1 MiB | 888 B | 6 MiB |
//! | `run -r 1 --years 2` | 100,000 / 400,000 | 127.7 / 383.2 MiB | 893 B | 43 MiB |
//! | `compare baseline combined -r 1 -y 2` | 100,000 / 400,000 | 99.5 / 376.1 MiB | 967 B | 7 MiB |
//! | `trial dpp --years 1` (screened) | 200,000 / 800,000 | 78.5 / 294.8 MiB | 378 B | 6 MiB |
//! | `cohort synth` (Parquet) | 200,000 / 800,000 | 111.7 / 418.7 MiB | 536 B | 9 MiB |
//!
//! and `run --patients 2000`: +0.65 MiB per simulated year (summary table), +64 KiB per
//! replicate-year (one aggregate: 2 sexes × 21 bands × metrics × 16 bytes). The constants
//! below round these up. The address space (`ulimit -v`) also holds each thread's malloc
//! arena and stack: `VmPeak − VmHWM` was 140 MiB with 2 threads at both sizes.
//!
//! `HEALTHTWIN_MEMORY_LIMIT` (bytes, or with a K, M, G suffix: powers of 1024) replaces the
//! detected limit, for tests and for users who want a tighter bound.

use crate::common::input_error;

/// Bytes per simulated person: baseline, patient state and the run's per-person buffers
/// (measured 888-967 B, see the module documentation).
pub const SIMULATED_PERSON_BYTES: u64 = 1_000;
/// Bytes per person screened by `trial dpp` (measured 378 B).
pub const SCREENED_PERSON_BYTES: u64 = 450;
/// Bytes per person of `cohort synth` (measured 536 B).
pub const COHORT_FILE_PERSON_BYTES: u64 = 600;
/// Fixed part: code, model tables, one part file of `patients/` (measured ≤ 43 MiB).
pub const FIXED_BYTES: u64 = 64 << 20;
/// Address space per worker thread beyond its resident memory (malloc arena, stack).
pub const VIRTUAL_BYTES_PER_THREAD: u64 = 66 << 20;
/// Environment variable that replaces the detected memory limit.
pub const LIMIT_ENV: &str = "HEALTHTWIN_MEMORY_LIMIT";

/// What a command will hold.
pub struct Footprint {
    /// The flag or key that sets the size (`--patients`, `population.n`, …).
    pub size_flag: &'static str,
    pub people: u64,
    pub bytes_per_person: u64,
    /// Everything that does not grow with people (aggregates, tables, fixed part).
    pub other_bytes: u64,
    pub threads: usize,
}

impl Footprint {
    pub fn bytes(&self) -> u64 {
        self.people
            .saturating_mul(self.bytes_per_person)
            .saturating_add(self.other_bytes)
    }
}

/// Bytes of the per-replicate aggregates and the summary of a run of `years` with
/// `metrics` metrics over `runs` (replicates × arms).
pub fn aggregate_bytes(years: u32, metrics: usize, runs: u64) -> u64 {
    let per_year = 2 * 21 * metrics as u64 * 16;
    let summary_per_year = 66 * metrics as u64 * 110;
    u64::from(years) * (runs * per_year + summary_per_year)
}

/// Worker threads a command will use (`--threads`, or every core).
pub fn threads(flag: Option<u16>) -> usize {
    flag.map(usize::from).unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    })
}

/// A limit on this process's memory.
#[derive(Clone, Debug, PartialEq)]
struct Limit {
    bytes: u64,
    source: String,
    /// An address-space limit (`ulimit -v`): threads' reservations count too.
    address_space: bool,
}

fn parse_size(text: &str) -> Option<u64> {
    let t = text.trim();
    let (digits, unit) = match t.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => (&t[..i], t[i..].trim()),
        None => (t, ""),
    };
    let n: u64 = digits.parse().ok()?;
    let shift = match unit
        .to_ascii_uppercase()
        .trim_end_matches("IB")
        .trim_end_matches('B')
    {
        "" => 0,
        "K" => 10,
        "M" => 20,
        "G" => 30,
        "T" => 40,
        _ => return None,
    };
    n.checked_mul(1 << shift)
}

fn read(path: &str) -> Option<String> {
    std::fs::read_to_string(path).ok()
}

/// `key: value kB` of a /proc file, in bytes.
fn proc_kb(text: &str, key: &str) -> Option<u64> {
    let line = text.lines().find(|l| l.starts_with(key))?;
    let kb: u64 = line[key.len()..].split_whitespace().next()?.parse().ok()?;
    Some(kb * 1024)
}

/// Every limit that applies to this process now.
fn limits() -> Result<Vec<Limit>, String> {
    if let Ok(text) = std::env::var(LIMIT_ENV) {
        let bytes = parse_size(&text).ok_or_else(|| {
            format!("{LIMIT_ENV}: `{text}` is not a size in bytes (e.g. 2G, 512M, 1000000)")
        })?;
        return Ok(vec![Limit {
            bytes,
            source: LIMIT_ENV.into(),
            address_space: false,
        }]);
    }
    let mut out = Vec::new();
    if let Some(b) = read("/proc/meminfo").and_then(|t| proc_kb(&t, "MemAvailable:")) {
        out.push(Limit {
            bytes: b,
            source: "available memory (MemAvailable)".into(),
            address_space: false,
        });
    }
    // cgroup v2: this process's group, else the root of the mount.
    let group = read("/proc/self/cgroup")
        .and_then(|t| {
            t.lines()
                .find_map(|l| l.strip_prefix("0::").map(|p| p.trim().to_string()))
        })
        .unwrap_or_default();
    let base = format!("/sys/fs/cgroup{}", group.trim_end_matches('/'));
    let v2 = [base.as_str(), "/sys/fs/cgroup"].into_iter().find_map(|b| {
        let max = read(&format!("{b}/memory.max"))?;
        let max: u64 = max.trim().parse().ok()?;
        let current: u64 = read(&format!("{b}/memory.current"))
            .and_then(|c| c.trim().parse().ok())
            .unwrap_or(0);
        Some(max.saturating_sub(current))
    });
    let v1 = || {
        let max: u64 = read("/sys/fs/cgroup/memory/memory.limit_in_bytes")?
            .trim()
            .parse()
            .ok()?;
        // "No limit" is a number near 2^63.
        if max >= 1 << 60 {
            return None;
        }
        let used: u64 = read("/sys/fs/cgroup/memory/memory.usage_in_bytes")
            .and_then(|c| c.trim().parse().ok())
            .unwrap_or(0);
        Some(max.saturating_sub(used))
    };
    if let Some(b) = v2.or_else(v1) {
        out.push(Limit {
            bytes: b,
            source: "the container's memory limit (cgroup memory.max)".into(),
            address_space: false,
        });
    }
    // ulimit -v: the soft limit of the address space, less what is mapped already.
    let address_space = read("/proc/self/limits").and_then(|t| {
        let line = t.lines().find(|l| l.starts_with("Max address space"))?;
        let soft = line["Max address space".len()..]
            .split_whitespace()
            .next()?;
        soft.parse::<u64>().ok()
    });
    if let Some(limit) = address_space {
        let mapped = read("/proc/self/status")
            .and_then(|t| proc_kb(&t, "VmSize:"))
            .unwrap_or(0);
        out.push(Limit {
            bytes: limit.saturating_sub(mapped),
            source: "the address-space limit (ulimit -v)".into(),
            address_space: true,
        });
    }
    Ok(out)
}

fn gib(bytes: u64) -> String {
    format!("{:.2} GiB", bytes as f64 / f64::from(1u32 << 30))
}

/// Stops (exit code 2) when `fp` does not fit in the memory this process may use, naming
/// the tightest limit and the size that would fit under it.
pub fn check(fp: &Footprint) -> anyhow::Result<()> {
    let need = fp.bytes();
    // (people that fit, what the footprint needs under this limit, the limit)
    let tightest = limits()
        .map_err(input_error)?
        .into_iter()
        .map(|limit| {
            let extra = if limit.address_space {
                (fp.threads as u64 + 1) * VIRTUAL_BYTES_PER_THREAD
            } else {
                0
            };
            let room = limit
                .bytes
                .saturating_sub(extra)
                .saturating_sub(fp.other_bytes);
            (
                room / fp.bytes_per_person.max(1),
                need.saturating_add(extra),
                limit,
            )
        })
        .min_by_key(|(fits, _, _)| *fits);
    match tightest {
        Some((0, needed, limit)) if needed > limit.bytes => Err(input_error(format!(
            "{} {}: needs about {} of memory, but {} leaves {}: not even the part that does not \
             grow with people ({}) fits; lower --years or --replicates, or free memory \
             (docs/outputs.md, \"Memory\")",
            fp.size_flag,
            fp.people,
            gib(needed),
            limit.source,
            gib(limit.bytes),
            gib(fp.other_bytes),
        ))),
        Some((fits, needed, limit)) if needed > limit.bytes => Err(input_error(format!(
            "{} {}: needs about {} of memory ({} bytes per person, measured), but {} leaves {}; \
             at most about {fits} people fit (docs/outputs.md, \"Memory\"; {LIMIT_ENV} sets the limit)",
            fp.size_flag,
            fp.people,
            gib(needed),
            fp.bytes_per_person,
            limit.source,
            gib(limit.bytes),
        ))),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_with_binary_suffixes() {
        assert_eq!(parse_size("1000"), Some(1000));
        assert_eq!(parse_size("2G"), Some(2 << 30));
        assert_eq!(parse_size("512M"), Some(512 << 20));
        assert_eq!(parse_size("512MiB"), Some(512 << 20));
        assert_eq!(parse_size("3 kb"), Some(3 << 10));
        assert_eq!(parse_size("lots"), None);
        assert_eq!(parse_size("-1"), None);
    }

    #[test]
    fn proc_values_are_read_in_bytes() {
        let t = "MemTotal:  100 kB\nMemAvailable:   2048 kB\n";
        assert_eq!(proc_kb(t, "MemAvailable:"), Some(2048 * 1024));
        assert_eq!(proc_kb(t, "VmSize:"), None);
    }
}
