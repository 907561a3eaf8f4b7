//! Where people come from besides person files: an imported cohort folder (`cohort
//! import` output: `cohort.parquet`, `history.parquet`; docs/data.md), or FHIR R4 input run
//! through `cohort::import` in memory (pseudonymised on the way in).
//!
//! Memory: the cohort folder is read person by person in the history's (patient_id) order,
//! so `--cohort` holds one batch of people, never the whole history.
//!
//! Must never: print or return a raw identifier or a value of a text column.

use std::collections::HashMap;
use std::fs::File;
use std::path::{Path, PathBuf};

use cohort::import::{
    self, codes::CodeMap, fhir, pseudo::Pseudonymiser, HistoryItem, ImportOptions, Importer,
};
use engine::Baseline;
use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::record::Field;

use crate::person::{Dated, Drug, Observation, PersonRecord, Quantity, DAYS_PER_YEAR};
use crate::TwinError;

fn file_err(path: &Path, row: Option<usize>, msg: impl Into<String>) -> TwinError {
    let at = row.map(|r| format!(", row {r}")).unwrap_or_default();
    TwinError::Input(format!("{}{at}: {}", path.display(), msg.into()))
}

/// One person's history rows from `history.parquet`, as read.
#[derive(Default)]
struct RawHistory {
    observations: Vec<Observation>,
    treatments: [Vec<f64>; 3],
    dated: Vec<Dated>,
}

impl RawHistory {
    /// One row: `minute` from the index date (`days * 1440 + minute_of_day`).
    fn add(&mut self, measure: &str, value: f64, days: i64, minute: i64) {
        if let (Some(item), Ok(minute)) = (HistoryItem::parse(measure), i32::try_from(minute)) {
            if value.is_finite() {
                self.dated.push(Dated {
                    minute,
                    item,
                    value,
                });
            }
        }
        let t = days as f64 / DAYS_PER_YEAR;
        if let Some(q) = Quantity::parse(measure) {
            if value.is_finite() {
                self.observations.push(Observation {
                    t_years: t,
                    quantity: q,
                    value,
                });
            }
        } else if let Some(d) = Drug::ALL.into_iter().find(|d| d.name() == measure) {
            if value > 0.5 {
                self.treatments[d as usize].push(t);
            }
        }
    }

    fn into_person(mut self, label: String, b: &Baseline, index_day: Option<i32>) -> PersonRecord {
        self.observations
            .sort_by(|a, c| a.t_years.total_cmp(&c.t_years));
        for r in &mut self.treatments {
            r.sort_by(f64::total_cmp);
        }
        PersonRecord {
            label,
            sex: b.sex,
            age_years: b.age_years,
            index: b.covariates,
            observations: self.observations,
            treatment_records: self.treatments,
            pdc: None,
            index_day,
            dated: self.dated,
        }
    }
}

/// An imported cohort folder: the people of `cohort.parquet` and, if present, their
/// `history.parquet`.
pub struct CohortFolder {
    pub dir: PathBuf,
    pub people: Vec<Baseline>,
    /// Pseudonyms by row (`p-` + hex; a synthetic cohort's rows get `row-<n>`).
    pub pseudonyms: Vec<String>,
    pub index_day: Option<i32>,
    history: Option<PathBuf>,
}

impl CohortFolder {
    pub fn open(dir: &Path) -> Result<CohortFolder, TwinError> {
        let cohort_path = dir.join("cohort.parquet");
        if !cohort_path.is_file() {
            return Err(TwinError::Input(format!(
                "{}: no cohort.parquet (give the folder `healthtwin cohort import --out` wrote)",
                dir.display()
            )));
        }
        let people =
            cohort::file::read(&cohort_path).map_err(|e| TwinError::Input(e.to_string()))?;
        let (pseudonyms, index_day) = read_ids(&cohort_path, people.len())?;
        let history = dir.join("history.parquet");
        Ok(CohortFolder {
            dir: dir.to_path_buf(),
            people,
            pseudonyms,
            index_day,
            history: history.is_file().then_some(history),
        })
    }

    /// The row of a pseudonym.
    pub fn find(&self, pseudonym: &str) -> Option<usize> {
        self.pseudonyms.iter().position(|p| p == pseudonym)
    }

    /// Calls `f` with batches of at most `batch` people (rows `first..`), each with their
    /// history, in row order. `only` restricts to one row.
    pub fn for_each_batch(
        &self,
        batch: usize,
        only: Option<usize>,
        mut f: impl FnMut(Vec<PersonRecord>) -> Result<(), TwinError>,
    ) -> Result<(), TwinError> {
        let batch = batch.max(1);
        let n = self.people.len();
        let wanted = |row: usize| only.is_none_or(|o| o == row);
        // History rows are sorted by patient_id (the cohort row): stream them alongside.
        let mut hist: HashMap<usize, RawHistory> = HashMap::new();
        let mut pending: Vec<PersonRecord> = Vec::new();
        let mut next_row = 0usize;
        let flush_until = |row_limit: usize,
                           hist: &mut HashMap<usize, RawHistory>,
                           pending: &mut Vec<PersonRecord>,
                           next_row: &mut usize,
                           f: &mut dyn FnMut(Vec<PersonRecord>) -> Result<(), TwinError>|
         -> Result<(), TwinError> {
            while *next_row < row_limit.min(n) {
                let r = *next_row;
                *next_row += 1;
                if !wanted(r) {
                    hist.remove(&r);
                    continue;
                }
                let h = hist.remove(&r).unwrap_or_default();
                pending.push(h.into_person(
                    self.pseudonyms[r].clone(),
                    &self.people[r],
                    self.index_day,
                ));
                if pending.len() == batch {
                    f(std::mem::take(pending))?;
                }
            }
            Ok(())
        };
        if let Some(path) = &self.history {
            let file = File::open(path)
                .map_err(|e| file_err(path, None, format!("cannot open: {}", e.kind())))?;
            let reader = SerializedFileReader::new(file)
                .map_err(|_| file_err(path, None, "not a readable Parquet file"))?;
            let rows = reader
                .get_row_iter(None)
                .map_err(|_| file_err(path, None, "cannot read rows"))?;
            for (i, row) in rows.enumerate() {
                let row = row.map_err(|_| file_err(path, Some(i + 1), "unreadable row"))?;
                let (mut pid, mut measure, mut value, mut days) = (None, None, None, None);
                let mut minute_of_day = 0i64;
                for (name, field) in row.get_column_iter() {
                    match (name.as_str(), field) {
                        ("patient_id", Field::Long(v)) => pid = Some(*v),
                        ("patient_id", Field::Int(v)) => pid = Some(i64::from(*v)),
                        ("measure", Field::Str(s)) => measure = Some(s.clone()),
                        ("value", Field::Double(v)) => value = Some(*v),
                        ("value", Field::Float(v)) => value = Some(f64::from(*v)),
                        ("days_from_index", Field::Long(v)) => days = Some(*v),
                        ("days_from_index", Field::Int(v)) => days = Some(i64::from(*v)),
                        ("minute_of_day", Field::Long(v)) => minute_of_day = *v,
                        ("minute_of_day", Field::Int(v)) => minute_of_day = i64::from(*v),
                        _ => {}
                    }
                }
                let (Some(pid), Some(measure), Some(value), Some(days)) =
                    (pid, measure, value, days)
                else {
                    return Err(file_err(
                        path,
                        Some(i + 1),
                        "needs patient_id, measure, value and days_from_index",
                    ));
                };
                let r = usize::try_from(pid)
                    .ok()
                    .filter(|&r| r < n)
                    .ok_or_else(|| {
                        file_err(
                            path,
                            Some(i + 1),
                            "patient_id is not a row of cohort.parquet",
                        )
                    })?;
                if r < next_row {
                    return Err(file_err(
                        path,
                        Some(i + 1),
                        "rows are not sorted by patient_id",
                    ));
                }
                // Everyone before this patient is complete.
                flush_until(r, &mut hist, &mut pending, &mut next_row, &mut f)?;
                if wanted(r) {
                    let minute = days.saturating_mul(1440).saturating_add(minute_of_day);
                    hist.entry(r)
                        .or_default()
                        .add(&measure, value, days, minute);
                }
            }
        }
        flush_until(n, &mut hist, &mut pending, &mut next_row, &mut f)?;
        if !pending.is_empty() {
            f(pending)?;
        }
        Ok(())
    }
}

/// Pseudonyms and the index date from `cohort.parquet` (optional columns).
fn read_ids(path: &Path, n: usize) -> Result<(Vec<String>, Option<i32>), TwinError> {
    let file =
        File::open(path).map_err(|e| file_err(path, None, format!("cannot open: {}", e.kind())))?;
    let reader = SerializedFileReader::new(file)
        .map_err(|_| file_err(path, None, "not a readable Parquet file"))?;
    let rows = reader
        .get_row_iter(None)
        .map_err(|_| file_err(path, None, "cannot read rows"))?;
    let mut ids = Vec::with_capacity(n);
    let mut index_day = None;
    for (i, row) in rows.enumerate() {
        let row = row.map_err(|_| file_err(path, Some(i + 1), "unreadable row"))?;
        let mut id = None;
        for (name, field) in row.get_column_iter() {
            match (name.as_str(), field) {
                ("pseudo_id", Field::Str(s)) if is_pseudonym(s) => id = Some(s.clone()),
                ("index_date", Field::Str(s)) if index_day.is_none() => {
                    index_day = import::date::parse(s).map(|d| d.day);
                }
                _ => {}
            }
        }
        ids.push(id.unwrap_or_else(|| format!("row-{}", i + 1)));
    }
    Ok((ids, index_day))
}

/// A pseudonym as `cohort import` writes them (`p-` + 32 hex digits), or a short label of
/// letters, digits and `-_.`; anything else is not shown.
pub fn is_pseudonym(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// People from FHIR R4 input (NDJSON or Bundles), imported in memory with the cohort
/// importer at `index_day` (days since 1970-01-01) and pseudonymised with `pseudo`.
pub fn from_fhir(
    inputs: &[PathBuf],
    index_day: i32,
    pseudo: Pseudonymiser,
    spill_dir: &Path,
) -> Result<Vec<PersonRecord>, TwinError> {
    let opts = ImportOptions::new(index_day, spill_dir.to_path_buf());
    let mut imp = Importer::new(opts, CodeMap::embedded(), pseudo)
        .map_err(|e| TwinError::Input(e.to_string()))?;
    for (i, f) in inputs.iter().enumerate() {
        // Inputs are named by position in errors, never by path (a file name can be the
        // person's).
        let position = i as u32 + 1;
        let bundle = f
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| e.eq_ignore_ascii_case("json"));
        if bundle {
            fhir::read_bundle(&mut imp, f, position)
        } else {
            fhir::read_ndjson(&mut imp, f, position)
        }
        .map_err(|e| TwinError::Input(e.to_string()))?;
    }
    let result = imp.finish().map_err(|e| TwinError::Input(e.to_string()))?;
    if result.people.is_empty() {
        return Err(TwinError::Input(
            "the FHIR input holds nobody who could be included (a Patient with sex and birth date, alive at the index date)".into(),
        ));
    }
    let mut hist: Vec<RawHistory> = (0..result.people.len())
        .map(|_| RawHistory::default())
        .collect();
    result.for_each_history::<TwinError>(|r| {
        if let Some(h) = hist.get_mut(r.patient_id as usize) {
            h.add(
                r.measure,
                r.value,
                i64::from(r.days_from_index()),
                i64::from(r.minute),
            );
        }
        Ok(())
    })?;
    Ok(result
        .people
        .iter()
        .zip(hist)
        .map(|(p, h)| h.into_person(p.pseudo_id.clone(), &p.baseline, Some(index_day)))
        .collect())
}

impl From<import::ImportError> for TwinError {
    fn from(e: import::ImportError) -> Self {
        TwinError::Input(e.to_string())
    }
}
