//! Shared CSV reading for the OMOP and plain-CSV inputs: header lookup by (lower-case) name,
//! byte records so a line in the wrong encoding is one refused record, not a failed file.

use std::collections::HashMap;
use std::fs::File;
use std::io::Read;
use std::path::Path;

use super::{io_err, At, ImportError, Importer};

pub struct CsvTable<R: Read> {
    pub reader: csv::Reader<R>,
    cols: HashMap<String, usize>,
}

impl CsvTable<File> {
    /// Opens a table; `name` names it in errors (never the path).
    pub fn open(path: &Path, name: &str) -> Result<CsvTable<File>, ImportError> {
        let f = File::open(path).map_err(|e| io_err(name, &e))?;
        CsvTable::from_reader(f, name)
    }
}

impl<R: Read> CsvTable<R> {
    /// Reads every record of the table: each is counted as read under `kind`, an unreadable
    /// record or one not in UTF-8 is one per-record error (file and line), and `row` handles
    /// each good record. One record buffer serves the whole table (no allocation per line).
    pub fn for_each_record(
        &mut self,
        imp: &mut Importer,
        input: usize,
        kind: &str,
        mut row: impl FnMut(&mut Importer, At, &csv::StringRecord) -> Result<(), ImportError>,
    ) -> Result<(), ImportError> {
        let mut brec = csv::ByteRecord::new();
        let mut record_no = 1u64;
        loop {
            let ok = self.reader.read_byte_record(&mut brec);
            record_no += 1;
            let line = brec.position().map_or(record_no, |p| p.line());
            let at = At {
                input,
                what: "line",
                line,
            };
            match ok {
                Ok(false) => break,
                Ok(true) => {}
                Err(_) => {
                    imp.read(at, kind);
                    imp.error(at, "-", "malformed_csv", "unreadable CSV record", None)?;
                    imp.end(at);
                    continue;
                }
            }
            imp.read(at, kind);
            match csv::StringRecord::from_byte_record(std::mem::take(&mut brec)) {
                Ok(rec) => {
                    let out = row(imp, at, &rec);
                    imp.end(at);
                    out?;
                    brec = rec.into_byte_record();
                }
                Err(e) => {
                    brec = e.into_byte_record();
                    imp.error(
                        at,
                        "-",
                        "wrong_encoding",
                        "the line is not valid UTF-8",
                        None,
                    )?;
                    imp.end(at);
                }
            }
        }
        Ok(())
    }

    /// A table from any reader; `label` names it in errors (an input's name, never a path).
    pub fn from_reader(r: R, label: &str) -> Result<CsvTable<R>, ImportError> {
        let mut reader = csv::ReaderBuilder::new()
            .flexible(true)
            .has_headers(true)
            .from_reader(r);
        let headers = reader
            .byte_headers()
            .map_err(|_| ImportError::Input(format!("{label}: cannot read the header row")))?
            .clone();
        let mut cols = HashMap::new();
        for (i, h) in headers.iter().enumerate() {
            let h = String::from_utf8_lossy(h);
            let h = h.trim().trim_start_matches('\u{feff}').to_ascii_lowercase();
            cols.entry(h).or_insert(i);
        }
        Ok(CsvTable { reader, cols })
    }

    pub fn col(&self, name: &str) -> Option<usize> {
        self.cols.get(name).copied()
    }

    /// Required columns, or an input error naming the first missing one.
    pub fn require(&self, label: &str, names: &[&str]) -> Result<Vec<usize>, ImportError> {
        names
            .iter()
            .map(|n| {
                self.col(n).ok_or_else(|| {
                    ImportError::Input(format!("{label}: required column `{n}` is missing"))
                })
            })
            .collect()
    }
}

/// A field as trimmed text (`None` if empty or absent). The record must be valid UTF-8.
pub fn field(rec: &csv::StringRecord, i: Option<usize>) -> Option<&str> {
    i.and_then(|i| rec.get(i))
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

pub fn number(s: Option<&str>) -> Option<f64> {
    s.and_then(|s| s.parse::<f64>().ok())
        .filter(|v| v.is_finite())
}

pub fn boolean(s: &str) -> Option<bool> {
    match s.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "y" | "t" => Some(true),
        "0" | "false" | "no" | "n" | "f" => Some(false),
        _ => None,
    }
}
