//! Where a cohort file's people come from, as the file itself says: the key-value metadata
//! of a Parquet file's footer, or for a CSV file (which has nowhere to carry metadata) a
//! marker file beside it, `<file>.healthtwin`, that also holds the SHA-256 of the CSV's
//! bytes, so a marker describes only the exact file it was written with.
//!
//! Keys: [`ORIGIN_KEY`] (`synthetic` from `healthtwin cohort synth`, `imported` from
//! `healthtwin cohort import`) and [`DEMO_KEY_KEY`] (`true` when the importer's pseudonyms
//! were made with the published demo key, so anyone can reverse them).
//!
//! Must never: treat a file as synthetic without its marker. A file without one (any other
//! Parquet or CSV file, or a CSV whose marker does not match its bytes) is [`Origin::Unmarked`]
//! and is handled as real people's data.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use parquet::file::reader::{FileReader, SerializedFileReader};
use sha2::{Digest, Sha256};

use crate::table::{write_atomic, ReportError};

/// Metadata key: where the people of a cohort file come from.
pub const ORIGIN_KEY: &str = "healthtwin.origin";
/// Metadata key: `true` when the pseudonyms were made with the published demo key.
pub const DEMO_KEY_KEY: &str = "healthtwin.demo_key";
/// [`ORIGIN_KEY`] of `healthtwin cohort synth`.
pub const SYNTHETIC: &str = "synthetic";
/// [`ORIGIN_KEY`] of `healthtwin cohort import`.
pub const IMPORTED: &str = "imported";
/// Key of a CSV marker that holds the SHA-256 of the CSV's bytes.
const SHA256_KEY: &str = "sha256";

/// Where a cohort file's people come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// Marked `synthetic`: describes no real person.
    Synthetic,
    /// Marked `imported`: real people's data.
    Imported,
    /// No (valid) marker: handled as real people's data.
    Unmarked,
}

impl Origin {
    /// Whether the file must be handled as describing real people.
    pub fn is_real(self) -> bool {
        self != Origin::Synthetic
    }

    pub fn name(self) -> &'static str {
        match self {
            Origin::Synthetic => "synthetic",
            Origin::Imported => "imported",
            Origin::Unmarked => "unmarked (handled as real data)",
        }
    }
}

/// What a cohort file says about itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CohortFileInfo {
    pub origin: Origin,
    /// Pseudonyms made with the published demo key (reversible by anyone).
    pub demo_key: bool,
    /// Rows, when the file's footer says (Parquet); `None` for CSV.
    pub rows: Option<u64>,
    /// A CSV marker exists but was written for other bytes (the CSV changed since).
    pub stale_marker: bool,
}

/// The marker file of a CSV cohort file: `<file>.healthtwin`.
pub fn marker_path(csv: &Path) -> PathBuf {
    let mut name = csv
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    name.push(".healthtwin");
    csv.with_file_name(name)
}

fn is_csv(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("csv"))
}

fn classify(pairs: &[(String, String)]) -> (Origin, bool) {
    let get = |k: &str| {
        pairs
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.as_str())
    };
    let origin = match get(ORIGIN_KEY) {
        Some(SYNTHETIC) => Origin::Synthetic,
        Some(IMPORTED) => Origin::Imported,
        _ => Origin::Unmarked,
    };
    (origin, get(DEMO_KEY_KEY) == Some("true"))
}

/// What `path` (a cohort file: CSV by extension, else Parquet) says about itself. Never
/// fails: a file that cannot be read is unmarked (the cohort reader reports why).
pub fn read(path: &Path) -> CohortFileInfo {
    let unmarked = CohortFileInfo {
        origin: Origin::Unmarked,
        demo_key: false,
        rows: None,
        stale_marker: false,
    };
    if is_csv(path) {
        let Ok(text) = std::fs::read_to_string(marker_path(path)) else {
            return unmarked;
        };
        let pairs: Vec<(String, String)> = text
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
            .collect();
        let recorded = pairs
            .iter()
            .find(|(k, _)| k == SHA256_KEY)
            .map(|(_, v)| v.clone());
        match (recorded, sha256_file(path)) {
            (Some(r), Ok(actual)) if r == actual => {
                let (origin, demo_key) = classify(&pairs);
                CohortFileInfo {
                    origin,
                    demo_key,
                    ..unmarked
                }
            }
            _ => CohortFileInfo {
                stale_marker: true,
                ..unmarked
            },
        }
    } else {
        let Ok(file) = File::open(path) else {
            return unmarked;
        };
        let Ok(reader) = SerializedFileReader::new(file) else {
            return unmarked;
        };
        let meta = reader.metadata().file_metadata();
        let pairs: Vec<(String, String)> = meta
            .key_value_metadata()
            .map(|kv| {
                kv.iter()
                    .map(|p| (p.key.clone(), p.value.clone().unwrap_or_default()))
                    .collect()
            })
            .unwrap_or_default();
        let (origin, demo_key) = classify(&pairs);
        CohortFileInfo {
            origin,
            demo_key,
            rows: u64::try_from(meta.num_rows()).ok(),
            stale_marker: false,
        }
    }
}

/// The Parquet metadata of a synthetic cohort file.
pub const SYNTHETIC_METADATA: [(&str, &str); 1] = [(ORIGIN_KEY, SYNTHETIC)];

/// Writes the marker of the CSV cohort file `csv` (which must be complete): `metadata` as
/// `key=value` lines and the SHA-256 of the CSV's bytes.
pub fn write_csv_marker(csv: &Path, metadata: &[(&str, &str)]) -> Result<(), ReportError> {
    let digest = sha256_file(csv).map_err(|e| ReportError::Io {
        path: csv.display().to_string(),
        message: e.to_string(),
    })?;
    let mut text = String::new();
    for (k, v) in metadata {
        text.push_str(&format!("{k}={v}\n"));
    }
    text.push_str(&format!("{SHA256_KEY}={digest}\n"));
    write_atomic(&marker_path(csv), text.as_bytes())
}

fn sha256_file(path: &Path) -> std::io::Result<String> {
    let mut file = File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::{write_csv, write_parquet, write_parquet_with_metadata, Table, Values};

    fn table() -> Table {
        let mut t = Table::new("t");
        t.push("id", Values::Int(vec![1, 2, 3]));
        t
    }

    #[test]
    fn parquet_origin_comes_from_its_footer() {
        let dir = tempfile::tempdir().unwrap();
        let marked = dir.path().join("s.parquet");
        write_parquet_with_metadata(&table(), &marked, &SYNTHETIC_METADATA).unwrap();
        let info = read(&marked);
        assert_eq!(info.origin, Origin::Synthetic);
        assert_eq!(info.rows, Some(3));
        let demo = dir.path().join("d.parquet");
        write_parquet_with_metadata(
            &table(),
            &demo,
            &[(ORIGIN_KEY, IMPORTED), (DEMO_KEY_KEY, "true")],
        )
        .unwrap();
        let info = read(&demo);
        assert!(info.origin.is_real() && info.demo_key);
        let plain = dir.path().join("p.parquet");
        write_parquet(&table(), &plain).unwrap();
        assert_eq!(read(&plain).origin, Origin::Unmarked);
        assert_eq!(
            read(&dir.path().join("missing.parquet")).origin,
            Origin::Unmarked
        );
    }

    #[test]
    fn a_csv_marker_describes_only_the_bytes_it_was_written_with() {
        let dir = tempfile::tempdir().unwrap();
        let csv = dir.path().join("people.csv");
        write_csv(&table(), &csv).unwrap();
        assert_eq!(read(&csv).origin, Origin::Unmarked);
        write_csv_marker(&csv, &SYNTHETIC_METADATA).unwrap();
        assert_eq!(read(&csv).origin, Origin::Synthetic);
        // Real rows written over the synthetic file: the marker no longer applies.
        std::fs::write(&csv, "id\n1\n2\n").unwrap();
        let info = read(&csv);
        assert_eq!(info.origin, Origin::Unmarked);
        assert!(info.stale_marker);
    }
}
