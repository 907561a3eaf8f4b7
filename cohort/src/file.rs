//! Reading a cohort file: the layout written by `healthtwin cohort synth` (see
//! docs/outputs.md), as Parquet or as CSV, chosen by the file's extension ([`read`]). Both
//! readers classify columns the same way ([`Column`]) and check every value the same way
//! ([`Row`]), so a file holds the same people in either format.
//!
//! Must never: accept a value outside [`PLAUSIBLE`], or echo a value of a text column or any
//! other text of the file in an error. An error names the file, the place (Parquet: the data
//! row, 1-based; CSV: the line, the header being line 1) and the column.

use std::fs::File;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;

use engine::{Baseline, Conditions, Covariates, Sex, Treatments};
use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::record::Field;

use crate::{CohortError, FilePosition};

/// Plausible range of each continuous column; values outside are refused, not clipped.
pub const PLAUSIBLE: [(&str, f64, f64); 12] = [
    ("age_years", 0.0, 120.0),
    ("bmi_kg_m2", 10.0, 80.0),
    ("fpg_mg_dl", 30.0, 700.0),
    ("hba1c_pct", 3.0, 20.0),
    ("sbp_mmhg", 60.0, 300.0),
    ("dbp_mmhg", 30.0, 200.0),
    ("tc_mg_dl", 50.0, 600.0),
    ("hdl_mg_dl", 5.0, 200.0),
    ("ldl_mg_dl", 5.0, 500.0),
    ("egfr_ml_min", 1.0, 200.0),
    ("steps_per_day", 0.0, 100_000.0),
    ("frailty_index", 0.0, 1.0),
];

/// Reads and validates a cohort file: CSV if its name ends in `.csv` (any case), else
/// Parquet. Patients get dense ids 0..n in file order.
pub fn read(path: &Path) -> Result<Vec<Baseline>, CohortError> {
    let is_csv = path
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("csv"));
    if is_csv {
        read_csv(path)
    } else {
        read_parquet(path)
    }
}

fn err(
    path: &Path,
    at: Option<FilePosition>,
    field: &str,
    message: impl Into<String>,
) -> CohortError {
    CohortError::File {
        path: path.display().to_string(),
        at,
        field: field.to_string(),
        message: message.into(),
    }
}

/// Reads and validates a cohort Parquet file. Patients get dense ids 0..n in file order.
pub fn read_parquet(path: &Path) -> Result<Vec<Baseline>, CohortError> {
    let file = File::open(path).map_err(|e| err(path, None, "-", format!("cannot open: {e}")))?;
    let reader = SerializedFileReader::new(file)
        .map_err(|e| err(path, None, "-", format!("not a readable Parquet file: {e}")))?;
    // The row reader panics on a column chunk whose offset or size is negative (parquet's
    // `ColumnChunkMetaData::byte_range` asserts it); such a file is refused here instead.
    for row_group in reader.metadata().row_groups() {
        for chunk in row_group.columns() {
            let start = chunk
                .dictionary_page_offset()
                .unwrap_or(chunk.data_page_offset());
            if start < 0 || chunk.compressed_size() < 0 {
                return Err(err(
                    path,
                    None,
                    "-",
                    "not a readable Parquet file: a column chunk has a negative offset or size",
                ));
            }
        }
    }
    let schema = reader.metadata().file_metadata().schema_descr();
    let names: Vec<&str> = schema.columns().iter().map(|c| c.name()).collect();
    check_header(path, &names)?;
    // The parquet crate still panics on some damaged pages (found by fuzzing: a dictionary-
    // encoded page in a column chunk without a dictionary page). Only its calls are run under
    // `catch_unwind`, so such a file is an error naming it while a panic of ours still is one.
    // The panic message (the crate's, printed by the panic hook) holds no text of the file.
    let damaged = |at| {
        err(
            path,
            at,
            "-",
            "not a readable Parquet file: its pages are damaged",
        )
    };
    let mut rows = catch_unwind(AssertUnwindSafe(|| reader.get_row_iter(None)))
        .map_err(|_| damaged(None))?
        .map_err(|e| err(path, None, "-", format!("cannot read rows: {e}")))?;
    let mut out = Vec::new();
    for i in 0.. {
        let at = Some(FilePosition::Row(i + 1));
        let Some(row) = catch_unwind(AssertUnwindSafe(|| rows.next())).map_err(|_| damaged(at))?
        else {
            break;
        };
        let row = row.map_err(|e| err(path, at, "-", format!("unreadable row: {e}")))?;
        let mut values = Row::default();
        for (name, field) in row.get_column_iter() {
            let column = Column::of(name);
            values
                .set(column, field)
                .map_err(|message| err(path, at, &column.label(name), message))?;
        }
        out.push(
            values
                .baseline(i as u64)
                .map_err(|(field, message)| err(path, at, field, message))?,
        );
    }
    if out.is_empty() {
        return Err(err(path, None, "-", "the cohort file has no rows"));
    }
    Ok(out)
}

/// Reads and validates a cohort CSV file (header row, RFC 4180 quoting, as `cohort synth`
/// writes it; cells are trimmed). Patients get dense ids 0..n in file order.
pub fn read_csv(path: &Path) -> Result<Vec<Baseline>, CohortError> {
    let file = File::open(path).map_err(|e| err(path, None, "-", format!("cannot open: {e}")))?;
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(file);
    let header = reader
        .byte_headers()
        .map_err(|e| csv_error(path, &e))?
        .clone();
    // A header that is not UTF-8 names no column we read.
    let names: Vec<&str> = header
        .iter()
        .map(|h| std::str::from_utf8(h).unwrap_or(""))
        .collect();
    check_header(path, &names)?;
    let columns: Vec<Column> = names.iter().map(|n| Column::of(n)).collect();
    let mut record = csv::ByteRecord::new();
    let mut out = Vec::new();
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => return Err(csv_error(path, &e)),
        }
        let at = record.position().map(|p| FilePosition::Line(p.line()));
        let mut values = Row::default();
        for ((bytes, &column), name) in record.iter().zip(&columns).zip(&names) {
            if column == Column::Ignored {
                continue;
            }
            let label = column.label(name);
            let text =
                std::str::from_utf8(bytes).map_err(|_| err(path, at, &label, "not valid UTF-8"))?;
            values
                .set(column, &text)
                .map_err(|message| err(path, at, &label, message))?;
        }
        out.push(
            values
                .baseline(out.len() as u64)
                .map_err(|(field, message)| err(path, at, field, message))?,
        );
    }
    if out.is_empty() {
        return Err(err(path, None, "-", "the cohort file has no rows"));
    }
    Ok(out)
}

/// A CSV error in our words: the csv crate's messages are not checked to be free of the
/// file's text.
fn csv_error(path: &Path, e: &csv::Error) -> CohortError {
    let at = e.position().map(|p| FilePosition::Line(p.line()));
    let message = match e.kind() {
        csv::ErrorKind::Io(io) => format!("cannot read: {}", io.kind()),
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!("the line has {len} fields, the header {expected_len}"),
        csv::ErrorKind::Utf8 { .. } => "not valid UTF-8".to_string(),
        _ => "not a readable CSV file".to_string(),
    };
    err(path, at, "-", message)
}

/// Every required column is present, and no column we read appears twice.
fn check_header(path: &Path, names: &[&str]) -> Result<(), CohortError> {
    for required in ["sex", "age_years"]
        .iter()
        .chain(Covariates::CONTINUOUS.iter())
        .chain(["smoker"].iter())
    {
        if !names.contains(required) {
            return Err(err(path, None, required, "required column is missing"));
        }
    }
    for (i, name) in names.iter().enumerate() {
        let column = Column::of(name);
        if column != Column::Ignored && names[..i].contains(name) {
            return Err(err(
                path,
                None,
                &column.label(name),
                "the column appears more than once",
            ));
        }
    }
    Ok(())
}

/// What a column of a cohort file holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Column {
    Sex,
    /// A continuous value: its index in [`PLAUSIBLE`].
    Number(usize),
    Smoker,
    /// Index in `Conditions::ALL`.
    Condition(usize),
    /// Index in `Treatments::ALL`.
    Treatment(usize),
    /// A `dx_`, `hx_` or `rx_` column the model has no use for: checked, not kept.
    OtherFlag,
    /// Anything else (`patient_id`, `pseudo_id`, an import's own columns): not read.
    Ignored,
}

impl Column {
    fn of(name: &str) -> Column {
        if name == "sex" {
            Column::Sex
        } else if let Some(k) = PLAUSIBLE.iter().position(|c| c.0 == name) {
            Column::Number(k)
        } else if name == "smoker" {
            Column::Smoker
        } else if let Some(k) = Conditions::ALL.iter().position(|c| c.1 == name) {
            Column::Condition(k)
        } else if let Some(k) = Treatments::ALL.iter().position(|c| c.1 == name) {
            Column::Treatment(k)
        } else if name.starts_with("dx_") || name.starts_with("hx_") || name.starts_with("rx_") {
            Column::OtherFlag
        } else {
            Column::Ignored
        }
    }

    /// The column's name for an error: ours, or the file's if it is a plain column name.
    fn label(self, name: &str) -> String {
        let plain =
            name.len() <= 64 && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        match self {
            Column::Sex => "sex".into(),
            Column::Number(k) => PLAUSIBLE[k].0.into(),
            Column::Smoker => "smoker".into(),
            Column::Condition(k) => Conditions::ALL[k].1.into(),
            Column::Treatment(k) => Treatments::ALL[k].1.into(),
            _ if plain => name.into(),
            _ => "(a column with an unusual name)".into(),
        }
    }
}

/// One cell, as a Parquet field or a CSV text.
trait Cell {
    fn is_missing(&self) -> bool;
    fn text(&self) -> Option<&str>;
    fn number(&self) -> Option<f64>;
    fn boolean(&self) -> Option<bool>;
}

impl Cell for Field {
    fn is_missing(&self) -> bool {
        matches!(self, Field::Null)
    }
    fn text(&self) -> Option<&str> {
        match self {
            Field::Str(s) => Some(s),
            _ => None,
        }
    }
    fn number(&self) -> Option<f64> {
        match *self {
            Field::Double(v) => Some(v),
            Field::Float(v) => Some(f64::from(v)),
            Field::Int(v) => Some(f64::from(v)),
            Field::Long(v) => Some(v as f64),
            Field::Short(v) => Some(f64::from(v)),
            _ => None,
        }
    }
    fn boolean(&self) -> Option<bool> {
        match *self {
            Field::Bool(b) => Some(b),
            Field::Int(0) | Field::Long(0) => Some(false),
            Field::Int(1) | Field::Long(1) => Some(true),
            _ => None,
        }
    }
}

impl Cell for &str {
    fn is_missing(&self) -> bool {
        self.is_empty()
    }
    fn text(&self) -> Option<&str> {
        Some(self)
    }
    fn number(&self) -> Option<f64> {
        self.parse().ok()
    }
    fn boolean(&self) -> Option<bool> {
        if self.eq_ignore_ascii_case("true") || *self == "1" {
            Some(true)
        } else if self.eq_ignore_ascii_case("false") || *self == "0" {
            Some(false)
        } else {
            None
        }
    }
}

/// One person's values as read, cell by cell.
#[derive(Default)]
struct Row {
    sex: Option<Sex>,
    numbers: [Option<f64>; PLAUSIBLE.len()],
    smoker: Option<bool>,
    conditions: Conditions,
    treatments: Treatments,
}

impl Row {
    /// Checks one cell and keeps its value; the error is a message about the cell.
    fn set(&mut self, column: Column, cell: &impl Cell) -> Result<(), String> {
        if column == Column::Ignored {
            return Ok(());
        }
        if cell.is_missing() {
            return Err("value is missing".into());
        }
        let flag = || cell.boolean().ok_or("must be true/false or 0/1");
        match column {
            Column::Sex => {
                let sex = cell.text().and_then(Sex::parse);
                self.sex = Some(sex.ok_or("must be `male` or `female`")?);
            }
            Column::Number(k) => {
                let v = cell.number().ok_or("must be a number")?;
                let (_, lo, hi) = PLAUSIBLE[k];
                if !(v >= lo && v <= hi) {
                    return Err(format!("{v} is outside the plausible range {lo}–{hi}"));
                }
                self.numbers[k] = Some(v);
            }
            Column::Smoker => self.smoker = Some(flag()?),
            Column::Condition(k) => self.conditions.set(Conditions::ALL[k].0, flag()?),
            Column::Treatment(k) => self.treatments.set(Treatments::ALL[k].0, flag()?),
            Column::OtherFlag => {
                flag()?;
            }
            Column::Ignored => {}
        }
        Ok(())
    }

    /// The baseline, or the first required value that is missing (column, message).
    fn baseline(&self, id: u64) -> Result<Baseline, (&'static str, &'static str)> {
        const MISSING: &str = "value is missing";
        let number = |name: &'static str| {
            PLAUSIBLE
                .iter()
                .position(|c| c.0 == name)
                .and_then(|k| self.numbers[k])
                .ok_or((name, MISSING))
        };
        let sex = self.sex.ok_or(("sex", MISSING))?;
        let smoker = self.smoker.ok_or(("smoker", MISSING))?;
        let mut cont = [0.0; 11];
        for (k, name) in Covariates::CONTINUOUS.iter().enumerate() {
            cont[k] = number(name)?;
        }
        let covariates = Covariates::from_parts(cont, smoker, self.conditions, self.treatments);
        Ok(Baseline {
            id,
            sex,
            age_years: number("age_years")?,
            covariates,
        })
    }
}
