//! OMOP CDM v5.4 input: a folder of CSV tables with the CDM's lower-case column names:
//! `person.csv` (required), `death.csv`, `observation_period.csv`, `measurement.csv`,
//! `condition_occurrence.csv`, `drug_exposure.csv` (each optional).
//!
//! Codes: `measurement_concept_id` and `condition_concept_id` through the map's
//! `omop_measurement` / `omop_condition` rows; when the concept is not in the map, the
//! source value is tried as JLAC10 (17 characters), LOINC (`digits-digit`) or ICD-10 (letter
//! and two digits). Drugs by `drug_source_value` as YJ (12 characters) or ATC; RxNorm
//! `drug_concept_id`s need the OMOP vocabulary, which is not embedded.
//!
//! Must never: read a column it does not need (names, addresses, free-text notes, location
//! and provider ids are not in these tables' read list).

use std::io::Read;
use std::path::{Path, PathBuf};

use engine::Sex;

use super::codes::{Mapping, System};
use super::csvutil::{field, number, CsvTable};
use super::date;
use super::{At, Format, ImportError, Importer, InputName, Val};

/// The tables read, in order (person first so every later row finds its person).
pub const TABLES: [&str; 6] = [
    "person",
    "death",
    "observation_period",
    "measurement",
    "condition_occurrence",
    "drug_exposure",
];

fn find_table(dir: &Path, name: &str) -> Option<PathBuf> {
    let rd = std::fs::read_dir(dir).ok()?;
    for e in rd.flatten() {
        let f = e.file_name();
        let f = f.to_string_lossy().to_ascii_lowercase();
        if f == format!("{name}.csv") {
            return Some(e.path());
        }
    }
    None
}

/// Reads an OMOP folder; `position` names it (`omop input #position (table)`).
pub fn read_dir(imp: &mut Importer, dir: &Path, position: u32) -> Result<(), ImportError> {
    let folder = InputName::new(Format::Omop, position);
    if find_table(dir, "person").is_none() {
        return Err(ImportError::Input(format!(
            "{folder}: no person.csv (an OMOP CDM folder needs at least the person table)"
        )));
    }
    for t in TABLES {
        if let Some(path) = find_table(dir, t) {
            let name = folder.with_part(t);
            let input = imp.add_input(name, super::file_len(&path));
            let table = CsvTable::open(&path, &name.to_string())?;
            read_table(imp, t, table, input)?;
        }
    }
    Ok(())
}

/// One table from any reader (tests, fuzzing).
pub fn read_table<R: Read>(
    imp: &mut Importer,
    table_name: &str,
    mut t: CsvTable<R>,
    input: usize,
) -> Result<(), ImportError> {
    let label = imp.input_name(input).to_string();
    let cols = Cols::new(&t, table_name, &label)?;
    let mut mappings = Vec::new();
    t.for_each_record(imp, input, table_name, |imp, at, rec| {
        row(imp, at, table_name, &cols, rec, &mut mappings)
    })
}

struct Cols {
    person_id: usize,
    c: std::collections::HashMap<&'static str, usize>,
}

impl Cols {
    fn new<R: Read>(t: &CsvTable<R>, table: &str, label: &str) -> Result<Cols, ImportError> {
        let person_id = t.require(label, &["person_id"])?[0];
        let wanted: &[&'static str] = match table {
            "person" => &[
                "gender_concept_id",
                "gender_source_value",
                "year_of_birth",
                "month_of_birth",
                "day_of_birth",
                "birth_datetime",
            ],
            "death" => &["death_date", "death_datetime"],
            "observation_period" => &[
                "observation_period_start_date",
                "observation_period_end_date",
            ],
            "measurement" => &[
                "measurement_concept_id",
                "measurement_date",
                "measurement_datetime",
                "value_as_number",
                "unit_concept_id",
                "unit_source_value",
                "measurement_source_value",
            ],
            "condition_occurrence" => &[
                "condition_concept_id",
                "condition_start_date",
                "condition_source_value",
            ],
            "drug_exposure" => &[
                "drug_concept_id",
                "drug_exposure_start_date",
                "drug_exposure_end_date",
                "drug_source_value",
            ],
            _ => &[],
        };
        let required: &[&str] = match table {
            "person" => &["year_of_birth"],
            "death" => &["death_date"],
            "observation_period" => &[
                "observation_period_start_date",
                "observation_period_end_date",
            ],
            "measurement" => &["measurement_date", "value_as_number"],
            "condition_occurrence" => &["condition_start_date"],
            "drug_exposure" => &["drug_exposure_start_date"],
            _ => &[],
        };
        t.require(label, required)?;
        let mut c = std::collections::HashMap::new();
        for w in wanted {
            if let Some(i) = t.col(w) {
                c.insert(*w, i);
            }
        }
        Ok(Cols { person_id, c })
    }
    fn get<'a>(&self, rec: &'a csv::StringRecord, name: &str) -> Option<&'a str> {
        field(rec, self.c.get(name).copied())
    }
}

/// Well-known UCUM unit concepts (OMOP `unit_concept_id`); other units need
/// `unit_source_value`.
fn unit_concept(id: &str) -> &'static str {
    match id {
        "8840" => "mg/dL",
        "8753" => "mmol/L",
        "8554" => "%",
        "8876" => "mm[Hg]",
        _ => "",
    }
}

fn looks_jlac10(s: &str) -> bool {
    s.len() == 17 && s.chars().all(|c| c.is_ascii_alphanumeric())
}
fn looks_loinc(s: &str) -> bool {
    let mut p = s.splitn(2, '-');
    matches!((p.next(), p.next()), (Some(a), Some(b)) if !a.is_empty() && a.len() <= 7 && a.chars().all(|c| c.is_ascii_digit()) && b.len() == 1 && b.chars().all(|c| c.is_ascii_digit()))
}
fn looks_icd10(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 3 && b[0].is_ascii_alphabetic() && b[1].is_ascii_digit() && b[2].is_ascii_digit()
}
fn looks_yj(s: &str) -> bool {
    s.len() == 12
        && s.as_bytes()[0].is_ascii_digit()
        && s.chars().all(|c| c.is_ascii_alphanumeric())
}
fn looks_atc(s: &str) -> bool {
    let b = s.as_bytes();
    (3..=7).contains(&b.len())
        && b[0].is_ascii_alphabetic()
        && b[1].is_ascii_digit()
        && b[2].is_ascii_digit()
}

fn row(
    imp: &mut Importer,
    at: At,
    table: &str,
    cols: &Cols,
    rec: &csv::StringRecord,
    mappings: &mut Vec<Mapping>,
) -> Result<(), ImportError> {
    let Some(raw_id) = field(rec, Some(cols.person_id)) else {
        return imp.error(at, "person_id", "missing_subject", "no person_id", None);
    };
    let person = imp.person(raw_id);
    let bad_date = |imp: &mut Importer, f: &str| {
        imp.error(
            at,
            f,
            "bad_date",
            format!("`{f}` is not a date"),
            Some(person),
        )
    };
    match table {
        "person" => {
            let sex = match cols.get(rec, "gender_concept_id") {
                Some("8507") => Some(Sex::Male),
                Some("8532") => Some(Sex::Female),
                _ => cols.get(rec, "gender_source_value").and_then(Sex::parse),
            };
            let birth = if let Some(b) = cols.get(rec, "birth_datetime") {
                date::birth_day(b)
            } else {
                let y = cols.get(rec, "year_of_birth");
                let m = cols.get(rec, "month_of_birth");
                let d = cols.get(rec, "day_of_birth");
                match (y, m, d) {
                    (Some(y), Some(m), Some(d)) => date::birth_day(&format!("{y}-{m:0>2}-{d:0>2}")),
                    (Some(y), Some(m), None) => date::birth_day(&format!("{y}-{m:0>2}")),
                    (Some(y), _, _) => date::birth_day(y),
                    _ => None,
                }
            };
            if birth.is_none() {
                return bad_date(imp, "year_of_birth");
            }
            imp.demographics(at, person, Format::Omop, sex, birth, None)?;
            imp.mark_mapped();
        }
        "death" => {
            let d = cols
                .get(rec, "death_datetime")
                .or(cols.get(rec, "death_date"))
                .and_then(date::parse);
            let Some(d) = d else {
                return bad_date(imp, "death_date");
            };
            imp.demographics(at, person, Format::Omop, None, None, Some(d.day))?;
            imp.mark_mapped();
        }
        "observation_period" => {
            let s = cols
                .get(rec, "observation_period_start_date")
                .and_then(date::parse);
            let e = cols
                .get(rec, "observation_period_end_date")
                .and_then(date::parse);
            match (s, e) {
                (Some(s), Some(e)) => {
                    imp.observation_period(person, s.day, e.day);
                    imp.mark_mapped();
                }
                _ => return bad_date(imp, "observation_period_start_date"),
            }
        }
        "measurement" => {
            let concept = cols.get(rec, "measurement_concept_id").unwrap_or("0");
            imp.lookup_into(System::OmopMeasurement, concept, mappings);
            if mappings.is_empty() {
                let src = cols.get(rec, "measurement_source_value").unwrap_or("");
                if looks_jlac10(src) {
                    imp.lookup_into(System::Jlac10, src, mappings);
                } else if looks_loinc(src) {
                    imp.lookup_into(System::Loinc, src, mappings);
                }
            }
            if mappings.is_empty() {
                return imp.unmapped(at, "omop_measurement", concept);
            }
            let when = cols
                .get(rec, "measurement_datetime")
                .or(cols.get(rec, "measurement_date"))
                .map(date::parse);
            let when = match when {
                Some(Some(w)) => Some(w),
                Some(None) => return bad_date(imp, "measurement_date"),
                None => None,
            };
            let unit = cols
                .get(rec, "unit_source_value")
                .unwrap_or_else(|| unit_concept(cols.get(rec, "unit_concept_id").unwrap_or("")));
            let val = match cols.get(rec, "value_as_number") {
                None => Val::Missing,
                Some(s) => match number(Some(s)) {
                    Some(v) => Val::Num(v),
                    None => {
                        return imp.error(
                            at,
                            "value_as_number",
                            "bad_number",
                            "value_as_number is not a number",
                            Some(person),
                        )
                    }
                },
            };
            let ms = std::mem::take(mappings);
            let out = imp.apply(at, Format::Omop, person, &ms, val, unit, when, None);
            *mappings = ms;
            out?;
        }
        "condition_occurrence" => {
            let src = cols.get(rec, "condition_source_value").unwrap_or("");
            mappings.clear();
            if looks_icd10(src) {
                imp.lookup_into(System::Icd10, src, mappings);
            }
            let concept = cols.get(rec, "condition_concept_id").unwrap_or("0");
            if mappings.is_empty() {
                imp.lookup_into(System::OmopCondition, concept, mappings);
            }
            if mappings.is_empty() {
                return if looks_icd10(src) {
                    imp.unmapped(at, "icd10", src)
                } else {
                    imp.unmapped(at, "omop_condition", concept)
                };
            }
            let Some(when) = cols.get(rec, "condition_start_date").and_then(date::parse) else {
                return bad_date(imp, "condition_start_date");
            };
            let ms = std::mem::take(mappings);
            let out = imp.apply(
                at,
                Format::Omop,
                person,
                &ms,
                Val::Missing,
                "",
                Some(when),
                None,
            );
            *mappings = ms;
            out?;
        }
        "drug_exposure" => {
            let src = cols.get(rec, "drug_source_value").unwrap_or("");
            mappings.clear();
            if looks_yj(src) {
                imp.lookup_into(System::Yj, src, mappings);
            } else if looks_atc(src) {
                imp.lookup_into(System::Atc, src, mappings);
            }
            if mappings.is_empty() {
                return if src.is_empty() {
                    imp.unmapped(
                        at,
                        "omop_drug",
                        cols.get(rec, "drug_concept_id").unwrap_or(""),
                    )
                } else {
                    let system = if looks_yj(src) {
                        "yj"
                    } else if looks_atc(src) {
                        "atc"
                    } else {
                        "drug_source_value"
                    };
                    imp.unmapped(at, system, src)
                };
            }
            let Some(start) = cols
                .get(rec, "drug_exposure_start_date")
                .and_then(date::parse)
            else {
                return bad_date(imp, "drug_exposure_start_date");
            };
            let end = cols
                .get(rec, "drug_exposure_end_date")
                .and_then(date::parse);
            let ms = std::mem::take(mappings);
            let out = imp.apply(
                at,
                Format::Omop,
                person,
                &ms,
                Val::Missing,
                "",
                Some(start),
                end,
            );
            *mappings = ms;
            out?;
        }
        _ => imp.mark_ignored(),
    }
    Ok(())
}
