//! Every file a calibration writes and reads back, in one place: the posterior (Parquet,
//! one row per particle with its weight), the point estimate as a scenario file that `run
//! --params` and `compare` accept, the targets' before/after table, the generations table,
//! site summaries; and the Parquet column reader used for posterior and cohort files.
//!
//! Writes go through `report::write_csv` / `write_parquet` / `write_atomic` (a temporary
//! file renamed when complete); when the output folder type of the report crate lands, only
//! [`OutputDir`] changes.
//!
//! Must never: write row-level cohort data or an identifier.

use std::fs::File;
use std::path::{Path, PathBuf};

use ::report::{write_atomic, write_csv, write_parquet, Table, Values};
use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::record::Field;
use study::posterior::Posterior;

use crate::CalibrationError;

/// An output folder: the files written so far, in order (the manifest lists them).
pub struct OutputDir {
    pub dir: PathBuf,
    pub files: Vec<String>,
}

impl OutputDir {
    pub fn create(dir: &Path) -> Result<OutputDir, CalibrationError> {
        std::fs::create_dir_all(dir).map_err(|e| CalibrationError::Input {
            file: dir.display().to_string(),
            message: format!("cannot create the output folder: {e}"),
        })?;
        Ok(OutputDir {
            dir: dir.to_path_buf(),
            files: Vec::new(),
        })
    }

    /// A table as `<stem>.csv` and `<stem>.parquet`.
    pub fn table(&mut self, stem: &str, t: &Table) -> Result<(), CalibrationError> {
        write_csv(t, &self.dir.join(format!("{stem}.csv")))?;
        write_parquet(t, &self.dir.join(format!("{stem}.parquet")))?;
        self.files.push(format!("{stem}.csv"));
        self.files.push(format!("{stem}.parquet"));
        Ok(())
    }

    /// A table as `<stem>.parquet` only.
    pub fn parquet(&mut self, stem: &str, t: &Table) -> Result<(), CalibrationError> {
        write_parquet(t, &self.dir.join(format!("{stem}.parquet")))?;
        self.files.push(format!("{stem}.parquet"));
        Ok(())
    }

    pub fn bytes(&mut self, name: &str, bytes: &[u8]) -> Result<(), CalibrationError> {
        write_atomic(&self.dir.join(name), bytes)?;
        self.files.push(name.to_string());
        Ok(())
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }
}

/// The posterior table: `particle`, `weight`, `distance`, one column per parameter.
pub fn posterior_table(
    names: &[String],
    particles: &[Vec<f64>],
    weights: &[f64],
    distances: &[f64],
) -> Table {
    let mut t = Table::new("posterior");
    t.push(
        "particle",
        Values::Int((0..particles.len() as i64).collect()),
    );
    t.push(
        "weight",
        Values::Float(weights.iter().map(|&w| Some(w)).collect()),
    );
    t.push(
        "distance",
        Values::Float(distances.iter().map(|&d| Some(d)).collect()),
    );
    for (j, n) in names.iter().enumerate() {
        t.push(
            n.clone(),
            Values::Float(particles.iter().map(|p| Some(p[j])).collect()),
        );
    }
    t
}

/// Columns of a Parquet file read into memory by name (small files: posteriors, cohorts).
pub struct ParquetColumns {
    path: String,
    names: Vec<String>,
    rows: Vec<Vec<Field>>,
}

impl ParquetColumns {
    pub fn read(path: &Path) -> Result<ParquetColumns, CalibrationError> {
        let file_name = path.display().to_string();
        let bad = |message: String| CalibrationError::Input {
            file: file_name.clone(),
            message,
        };
        let file = File::open(path).map_err(|e| bad(format!("cannot open: {e}")))?;
        let reader = SerializedFileReader::new(file)
            .map_err(|e| bad(format!("not a readable Parquet file: {e}")))?;
        let names: Vec<String> = reader
            .metadata()
            .file_metadata()
            .schema_descr()
            .columns()
            .iter()
            .map(|c| c.name().to_string())
            .collect();
        let mut rows = Vec::new();
        for (i, row) in reader
            .get_row_iter(None)
            .map_err(|e| bad(format!("cannot read rows: {e}")))?
            .enumerate()
        {
            let row = row.map_err(|e| bad(format!("row {}: unreadable: {e}", i + 1)))?;
            rows.push(row.get_column_iter().map(|(_, f)| f.clone()).collect());
        }
        Ok(ParquetColumns {
            path: file_name,
            names,
            rows,
        })
    }

    pub fn names(&self) -> &[String] {
        &self.names
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    fn column(&self, name: &str) -> Result<usize, CalibrationError> {
        self.names
            .iter()
            .position(|n| n == name)
            .ok_or_else(|| CalibrationError::Input {
                file: self.path.clone(),
                message: format!("no column `{name}`"),
            })
    }

    fn each<T>(
        &self,
        name: &str,
        what: &str,
        f: impl Fn(&Field) -> Option<T>,
    ) -> Result<Vec<T>, CalibrationError> {
        let c = self.column(name)?;
        self.rows
            .iter()
            .enumerate()
            .map(|(i, r)| {
                f(&r[c]).ok_or_else(|| CalibrationError::Input {
                    file: self.path.clone(),
                    message: format!("row {}, column {name}: not {what}", i + 1),
                })
            })
            .collect()
    }

    pub fn floats(&self, name: &str) -> Result<Vec<f64>, CalibrationError> {
        self.each(name, "a number", |f| match *f {
            Field::Double(v) => Some(v),
            Field::Float(v) => Some(f64::from(v)),
            Field::Long(v) => Some(v as f64),
            Field::Int(v) => Some(f64::from(v)),
            _ => None,
        })
    }

    pub fn ints(&self, name: &str) -> Result<Vec<i64>, CalibrationError> {
        self.each(name, "an integer", |f| match *f {
            Field::Long(v) => Some(v),
            Field::Int(v) => Some(i64::from(v)),
            Field::Short(v) => Some(i64::from(v)),
            _ => None,
        })
    }

    pub fn bools(&self, name: &str) -> Result<Vec<bool>, CalibrationError> {
        self.each(name, "true/false", |f| match *f {
            Field::Bool(b) => Some(b),
            _ => None,
        })
    }

    pub fn texts(&self, name: &str) -> Result<Vec<String>, CalibrationError> {
        self.each(name, "text", |f| match f {
            Field::Str(s) => Some(s.clone()),
            _ => None,
        })
    }
}

/// Columns of a posterior file that are not parameters.
const POSTERIOR_META: [&str; 3] = ["particle", "weight", "distance"];

/// Reads a posterior file (`posterior.parquet` as `healthtwin calibrate` writes it).
pub fn read_posterior(path: &Path) -> Result<Posterior, CalibrationError> {
    let cols = ParquetColumns::read(path)?;
    let weights = cols.floats("weight")?;
    let names: Vec<String> = cols
        .names()
        .iter()
        .filter(|n| !POSTERIOR_META.contains(&n.as_str()))
        .cloned()
        .collect();
    let mut by_param = Vec::new();
    for n in &names {
        by_param.push(cols.floats(n)?);
    }
    let particles: Vec<Vec<f64>> = (0..weights.len())
        .map(|i| by_param.iter().map(|c| c[i]).collect())
        .collect();
    Posterior::new(names, particles, weights).map_err(|e| CalibrationError::Input {
        file: path.display().to_string(),
        message: e.to_string(),
    })
}

/// The point estimate as a scenario file: `compare` runs it as a scenario and `run
/// --params` applies its `[parameters]`.
pub fn point_scenario(name: &str, description: &str, values: &[(String, f64)]) -> String {
    let mut s = format!(
        "# Written by `healthtwin calibrate`: the point estimate of the calibrated parameters.\n\
         # Use: healthtwin run --params THIS_FILE, or as a scenario in healthtwin compare.\n\
         name = \"{name}\"\ndescription = \"{}\"\n\n[parameters]\n",
        description.replace('"', "'")
    );
    for (n, v) in values {
        s.push_str(&format!("\"{n}\" = {v:?}\n"));
    }
    s
}
