//! Reading a cohort file (Parquet, the layout written by `healthtwin cohort synth`; see
//! docs/outputs.md). Every value is checked; an error names the file, the data row
//! (1-based) and the column, and never echoes an identifier.

use std::collections::HashMap;
use std::fs::File;
use std::path::Path;

use engine::{Baseline, Conditions, Covariates, Sex, Treatments};
use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::record::Field;

use crate::CohortError;

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

fn err(path: &Path, row: Option<usize>, field: &str, message: impl Into<String>) -> CohortError {
    CohortError::File {
        path: path.display().to_string(),
        row,
        field: field.to_string(),
        message: message.into(),
    }
}

/// Reads and validates a cohort Parquet file. Patients get dense ids 0..n in file order.
pub fn read_parquet(path: &Path) -> Result<Vec<Baseline>, CohortError> {
    let file = File::open(path).map_err(|e| err(path, None, "-", format!("cannot open: {e}")))?;
    let reader = SerializedFileReader::new(file)
        .map_err(|e| err(path, None, "-", format!("not a readable Parquet file: {e}")))?;
    let schema = reader.metadata().file_metadata().schema_descr();
    let present: Vec<String> = schema
        .columns()
        .iter()
        .map(|c| c.name().to_string())
        .collect();
    for required in ["sex", "age_years"]
        .iter()
        .chain(Covariates::CONTINUOUS.iter())
        .chain(["smoker"].iter())
    {
        if !present.iter().any(|p| p == required) {
            return Err(err(path, None, required, "required column is missing"));
        }
    }
    let rows = reader
        .get_row_iter(None)
        .map_err(|e| err(path, None, "-", format!("cannot read rows: {e}")))?;
    let mut out = Vec::new();
    let mut values: HashMap<&str, f64> = HashMap::new();
    for (i, row) in rows.enumerate() {
        let n = i + 1;
        let row = row.map_err(|e| err(path, Some(n), "-", format!("unreadable row: {e}")))?;
        values.clear();
        let mut sex = None;
        let mut flags: HashMap<String, bool> = HashMap::new();
        for (name, field) in row.get_column_iter() {
            let name = name.as_str();
            if name == "sex" {
                let s = match field {
                    Field::Str(s) => Sex::parse(s),
                    _ => None,
                };
                sex =
                    Some(s.ok_or_else(|| err(path, Some(n), "sex", "must be `male` or `female`"))?);
            } else if let Some((col, lo, hi)) = PLAUSIBLE.iter().find(|c| c.0 == name) {
                let v =
                    number(field).ok_or_else(|| err(path, Some(n), name, "must be a number"))?;
                if !(v >= *lo && v <= *hi) {
                    return Err(err(
                        path,
                        Some(n),
                        name,
                        format!("{v} is outside the plausible range {lo}–{hi}"),
                    ));
                }
                values.insert(col, v);
            } else if name == "smoker"
                || name.starts_with("dx_")
                || name.starts_with("hx_")
                || name.starts_with("rx_")
            {
                let b = boolean(field)
                    .ok_or_else(|| err(path, Some(n), name, "must be true/false or 0/1"))?;
                flags.insert(name.to_string(), b);
            }
        }
        let get = |k: &str| {
            values
                .get(k)
                .copied()
                .ok_or_else(|| err(path, Some(n), k, "value is missing"))
        };
        let sex = sex.ok_or_else(|| err(path, Some(n), "sex", "value is missing"))?;
        let mut conditions = Conditions::default();
        for (f, name) in Conditions::ALL {
            conditions.set(*f, flags.get(*name).copied().unwrap_or(false));
        }
        let mut treatments = Treatments::default();
        for (f, name) in Treatments::ALL {
            treatments.set(*f, flags.get(*name).copied().unwrap_or(false));
        }
        let smoker = *flags
            .get("smoker")
            .ok_or_else(|| err(path, Some(n), "smoker", "value is missing"))?;
        let mut cont = [0.0; 11];
        for (k, name) in Covariates::CONTINUOUS.iter().enumerate() {
            cont[k] = get(name)?;
        }
        let covariates = Covariates::from_parts(cont, smoker, conditions, treatments);
        out.push(Baseline {
            id: i as u64,
            sex,
            age_years: get("age_years")?,
            covariates,
        });
    }
    if out.is_empty() {
        return Err(err(path, None, "-", "the cohort file has no rows"));
    }
    Ok(out)
}

fn number(f: &Field) -> Option<f64> {
    match *f {
        Field::Double(v) => Some(v),
        Field::Float(v) => Some(f64::from(v)),
        Field::Int(v) => Some(f64::from(v)),
        Field::Long(v) => Some(v as f64),
        Field::Short(v) => Some(f64::from(v)),
        _ => None,
    }
}

fn boolean(f: &Field) -> Option<bool> {
    match *f {
        Field::Bool(b) => Some(b),
        Field::Int(0) | Field::Long(0) => Some(false),
        Field::Int(1) | Field::Long(1) => Some(true),
        _ => None,
    }
}
