//! The plain CSV layout (docs/data.md), for data in no standard format: a folder with
//!
//! - `persons.csv`: `person_id, sex, birth_date` and optionally `death_date`,
//!   `research_opt_out` (1/true/yes excludes the person);
//! - `records.csv`: `person_id, date, item, value, unit` and optionally `end_date`, where
//!   `item` is a measure name (`hba1c_pct`, `hba1c_jds_pct`, `fpg_mg_dl`, `weight_kg`, …,
//!   `frailty_index`), a flag name (`smoker`, `dx_*`, `hx_*`, `rx_*`) or a code written
//!   `system|code` (`jlac10|3D046000001906202`, `loinc|4548-4`, `icd10|E11.9`,
//!   `yj|3962002F1029`, `atc|C10AA05`, `hot9|…`).
//!
//! Must never: read a column other than the ones named here.

use std::io::Read;
use std::path::Path;

use engine::Sex;

use super::codes::{Mapping, System, Target};
use super::csvutil::{boolean, field, number, CsvTable};
use super::date;
use super::measure::{ClinicalMeasure, Flag};
use super::{At, Format, ImportError, Importer, InputName, Val};

/// Reads a plain-CSV folder (`persons.csv` required, `records.csv` optional); `position`
/// names it (`csv input #position (persons)`).
pub fn read_dir(imp: &mut Importer, dir: &Path, position: u32) -> Result<(), ImportError> {
    let folder = InputName::new(Format::Csv, position);
    let persons = dir.join("persons.csv");
    if !persons.is_file() {
        return Err(ImportError::Input(format!(
            "{folder}: no persons.csv (see docs/data.md, plain CSV)"
        )));
    }
    for (which, path) in [("persons", persons), ("records", dir.join("records.csv"))] {
        if !path.is_file() {
            continue;
        }
        let name = folder.with_part(which);
        let input = imp.add_input(name, super::file_len(&path));
        let t = CsvTable::open(&path, &name.to_string())?;
        read_table(imp, which, t, input)?;
    }
    Ok(())
}

/// `persons` or `records` from any reader (tests, fuzzing).
pub fn read_table<R: Read>(
    imp: &mut Importer,
    which: &str,
    mut t: CsvTable<R>,
    input: usize,
) -> Result<(), ImportError> {
    let label = imp.input_name(input).to_string();
    let cols = if which == "persons" {
        t.require(&label, &["person_id", "sex", "birth_date"])?
    } else {
        t.require(&label, &["person_id", "date", "item", "value"])?
    };
    let unit_col = t.col("unit");
    let end_col = t.col("end_date");
    let death_col = t.col("death_date");
    let opt_col = t.col("research_opt_out");
    let mut mappings: Vec<Mapping> = Vec::new();
    t.for_each_record(imp, input, which, |imp, at, rec| {
        if which == "persons" {
            person_row(imp, at, rec, &cols, death_col, opt_col)
        } else {
            record_row(imp, at, rec, &cols, unit_col, end_col, &mut mappings)
        }
    })
}

fn person_row(
    imp: &mut Importer,
    at: At,
    rec: &csv::StringRecord,
    cols: &[usize],
    death_col: Option<usize>,
    opt_col: Option<usize>,
) -> Result<(), ImportError> {
    let Some(raw) = field(rec, Some(cols[0])) else {
        return imp.error(at, "person_id", "missing_subject", "no person_id", None);
    };
    let person = imp.person(raw);
    let sex = field(rec, Some(cols[1])).and_then(Sex::parse);
    let birth = match field(rec, Some(cols[2])) {
        Some(b) => match date::birth_day(b) {
            Some(d) => Some(d),
            None => {
                return imp.error(
                    at,
                    "birth_date",
                    "bad_date",
                    "birth_date is not a date",
                    Some(person),
                )
            }
        },
        None => None,
    };
    let death = match field(rec, death_col) {
        Some(d) => match date::parse(d) {
            Some(s) => Some(s.day),
            None => {
                return imp.error(
                    at,
                    "death_date",
                    "bad_date",
                    "death_date is not a date",
                    Some(person),
                )
            }
        },
        None => None,
    };
    if let Some(o) = field(rec, opt_col) {
        match boolean(o) {
            Some(true) => imp.opt_out(person),
            Some(false) => {}
            None => {
                return imp.error(
                    at,
                    "research_opt_out",
                    "bad_flag",
                    "research_opt_out must be 1/0, true/false or yes/no",
                    Some(person),
                )
            }
        }
    }
    imp.demographics(at, person, Format::Csv, sex, birth, death)?;
    imp.mark_mapped();
    Ok(())
}

fn record_row(
    imp: &mut Importer,
    at: At,
    rec: &csv::StringRecord,
    cols: &[usize],
    unit_col: Option<usize>,
    end_col: Option<usize>,
    mappings: &mut Vec<Mapping>,
) -> Result<(), ImportError> {
    let Some(raw) = field(rec, Some(cols[0])) else {
        return imp.error(at, "person_id", "missing_subject", "no person_id", None);
    };
    let person = imp.person(raw);
    let Some(item) = field(rec, Some(cols[2])) else {
        return imp.error(at, "item", "missing_code", "no item", Some(person));
    };
    mappings.clear();
    if let Some(m) = ClinicalMeasure::parse(item) {
        mappings.push(Mapping {
            target: Target::Measure(m),
            answer: None,
        });
    } else if let Some(f) = Flag::parse(item) {
        mappings.push(Mapping {
            target: Target::Flag(f),
            answer: None,
        });
    } else if let Some((sys, code)) = item.split_once(['|', ':']) {
        let Some(system) = System::parse(sys.trim().to_ascii_lowercase().as_str()) else {
            return imp.unmapped(at, "(other system)", code);
        };
        imp.lookup_into(system, code, mappings);
        if mappings.is_empty() {
            return imp.unmapped(at, system.name(), code);
        }
    } else {
        return imp.unmapped(at, "csv_item", item);
    }
    let when = match field(rec, Some(cols[1])).map(date::parse) {
        Some(Some(w)) => Some(w),
        Some(None) => return imp.error(at, "date", "bad_date", "date is not a date", Some(person)),
        None => None,
    };
    let end = match field(rec, end_col).map(date::parse) {
        Some(Some(w)) => Some(w),
        Some(None) => {
            return imp.error(
                at,
                "end_date",
                "bad_date",
                "end_date is not a date",
                Some(person),
            )
        }
        None => None,
    };
    let raw_val = field(rec, Some(cols[3]));
    let is_flag = mappings.iter().all(|m| matches!(m.target, Target::Flag(_)));
    let val = match raw_val {
        None => Val::Missing,
        Some(s) if is_flag && mappings.iter().all(|m| m.answer.is_none()) => match boolean(s) {
            Some(b) => Val::Bool(b),
            None => Val::Code(None, s),
        },
        Some(s) => match number(Some(s)) {
            Some(v) => Val::Num(v),
            None => Val::Code(None, s),
        },
    };
    if !is_flag && !matches!(val, Val::Num(_)) {
        return imp.error(
            at,
            "value",
            "bad_number",
            "value is not a number",
            Some(person),
        );
    }
    let unit = field(rec, unit_col).unwrap_or("");
    let ms = std::mem::take(mappings);
    let out = imp.apply(at, Format::Csv, person, &ms, val, unit, when, end);
    *mappings = ms;
    out
}
