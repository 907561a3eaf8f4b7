//! The longitudinal history: its rows ([`HistoryRow`]), the one-byte code of a measure or a
//! flag event in the spill, and reading the sorted history back as rows, in
//! (patient, measure, time) order, one record at a time.

use std::fs::File;
use std::io::{self, BufReader, Read};

use super::spill::{code_name, SpillRecord};
use super::{io_err, Format, ImportError, ImportResult};

/// One row of the longitudinal history.
#[derive(Clone, Debug, PartialEq)]
pub struct HistoryRow {
    pub patient_id: u64,
    pub measure: &'static str,
    pub unit: &'static str,
    /// Minutes from the index date (local wall-clock time; 0:00 when no time was given).
    pub minute: i32,
    pub age_years: f64,
    pub value: f64,
    pub source: &'static str,
}

impl HistoryRow {
    pub fn days_from_index(&self) -> i32 {
        self.minute.div_euclid(1440)
    }
}

impl ImportResult {
    /// Streams the history in (patient, measure, time) order.
    pub fn for_each_history<E: From<ImportError>>(
        &self,
        mut f: impl FnMut(&HistoryRow) -> Result<(), E>,
    ) -> Result<(), E> {
        let Some(path) = &self.history.path else {
            return Ok(());
        };
        let file = File::open(path).map_err(|e| E::from(io_err(super::spill::TEMP, &e)))?;
        let mut r = BufReader::with_capacity(1 << 20, file);
        let mut buf = [0u8; SpillRecord::BYTES];
        loop {
            match r.read_exact(&mut buf) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => break,
                Err(e) => return Err(E::from(io_err(super::spill::TEMP, &e))),
            }
            let rec = SpillRecord::decode(&buf);
            let (measure, unit) = code_name(rec.code);
            let birth = self.births.get(rec.person as usize).copied().unwrap_or(0);
            let day = f64::from(self.index_day) + f64::from(rec.minute) / 1440.0;
            let row = HistoryRow {
                patient_id: u64::from(rec.person),
                measure,
                unit,
                minute: rec.minute,
                age_years: (day - f64::from(birth)) / 365.2425,
                value: rec.value,
                source: Format::from_index(rec.source).name(),
            };
            f(&row)?;
        }
        Ok(())
    }

    /// The whole history in memory (tests and small cohorts).
    pub fn history_rows(&self) -> Result<Vec<HistoryRow>, ImportError> {
        let mut v = Vec::new();
        self.for_each_history::<ImportError>(|r| {
            v.push(r.clone());
            Ok(())
        })?;
        Ok(v)
    }
}
