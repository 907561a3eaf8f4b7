//! Person files: one person and their history, in TOML (what people write by hand) or JSON,
//! for `healthtwin twin --person FILE` (format: docs/twin.md).
//!
//! Must never: echo a value or free text from the file in an error (errors name the file,
//! the line or visit and the key).

use std::path::Path;

use cohort::import::{date, HistoryItem};
use engine::{Conditions, Covariates, Sex, Treatments};
use serde::Deserialize;

use crate::person::{
    index_covariates, Dated, Drug, Observation, PersonRecord, Quantity, DAYS_PER_YEAR,
    RX_WINDOW_YEARS,
};
use crate::TwinError;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PersonFile {
    /// A pseudonym or label (never a name).
    id: Option<String>,
    sex: String,
    /// Age at the index date (or give `birth_date` and `index_date`).
    age: Option<f64>,
    birth_date: Option<String>,
    index_date: Option<String>,
    smoker: Option<bool>,
    steps_per_day: Option<f64>,
    /// Diagnoses and histories at the index date.
    #[serde(default)]
    conditions: Vec<String>,
    /// Treatments at the index date.
    #[serde(default)]
    treatments: Vec<String>,
    /// Proportion of days covered by prescriptions (0–1).
    pdc: Option<f64>,
    #[serde(default, rename = "visit")]
    visits: Vec<Visit>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Visit {
    /// YYYY-MM-DD (needs the file's `index_date`), or
    date: Option<String>,
    /// years from the index date (negative = before).
    years: Option<f64>,
    hba1c: Option<f64>,
    fpg: Option<f64>,
    sbp: Option<f64>,
    dbp: Option<f64>,
    ldl: Option<f64>,
    hdl: Option<f64>,
    tc: Option<f64>,
    bmi: Option<f64>,
    egfr: Option<f64>,
    /// Frailty index (0–1), or
    fi: Option<f64>,
    /// Kihon Checklist score (0–25), read as FI = score / 32 (the model's FI counts the 25
    /// KCL items among its 32; docs/twin.md).
    kcl: Option<f64>,
    /// Treatments prescribed at this visit.
    #[serde(default)]
    rx: Vec<String>,
}

fn bad(path: &Path, msg: impl Into<String>) -> TwinError {
    TwinError::Input(format!("person file {}: {}", path.display(), msg.into()))
}

/// A parser message with quoted text (which can echo a value) withheld.
fn withhold_values(msg: &str) -> String {
    let mut out = String::new();
    let mut quote: Option<char> = None;
    for c in msg.chars() {
        match quote {
            Some(q) if c == q => {
                out.push('…');
                out.push(c);
                quote = None;
            }
            Some(_) => {}
            None => {
                out.push(c);
                if c == '"' || c == '`' || c == '\'' {
                    quote = Some(c);
                }
            }
        }
    }
    out.lines().next().unwrap_or("").to_string()
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

/// Reads a person file (`.toml` or `.json`).
pub fn read(path: &Path) -> Result<PersonRecord, TwinError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| bad(path, format!("cannot read: {}", e.kind())))?;
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    let file: PersonFile = match ext.as_deref() {
        Some("toml") => toml::from_str(&text).map_err(|e| {
            let at = e
                .span()
                .map(|s| {
                    let (l, c) = line_col(&text, s.start);
                    format!("line {l}, column {c}: ")
                })
                .unwrap_or_default();
            bad(path, format!("{at}{}", withhold_values(e.message())))
        })?,
        Some("json") => serde_json::from_str(&text).map_err(|e| {
            bad(
                path,
                format!(
                    "line {}, column {}: {}",
                    e.line(),
                    e.column(),
                    withhold_values(&e.to_string())
                ),
            )
        })?,
        _ => return Err(bad(path, "use a .toml or .json file")),
    };
    from_file(path, file)
}

fn parse_day(path: &Path, key: &str, s: &str) -> Result<i32, TwinError> {
    date::parse(s)
        .filter(|d| d.precision == date::Precision::Day)
        .map(|d| d.day)
        .ok_or_else(|| bad(path, format!("`{key}`: expected a date YYYY-MM-DD")))
}

fn drug_of(name: &str) -> Option<Drug> {
    match name.trim().to_ascii_lowercase().trim_start_matches("rx_") {
        "glucose_lowering" | "diabetes" => Some(Drug::GlucoseLowering),
        "antihypertensive" | "bp" => Some(Drug::Antihypertensive),
        "lipid_lowering" | "statin" => Some(Drug::LipidLowering),
        _ => None,
    }
}

fn condition_of(name: &str) -> Option<Conditions> {
    let n = name.trim().to_ascii_lowercase();
    let n = n.trim_start_matches("dx_").trim_start_matches("hx_");
    match n {
        "diabetes" => Some(Conditions::DIABETES),
        "hypertension" => Some(Conditions::HYPERTENSION),
        "dyslipidaemia" | "dyslipidemia" => Some(Conditions::DYSLIPIDAEMIA),
        "mi" | "myocardial_infarction" => Some(Conditions::MI),
        "stroke" => Some(Conditions::STROKE),
        "heart_failure" => Some(Conditions::HEART_FAILURE),
        _ => None,
    }
}

fn plausible(name: &str, v: f64) -> bool {
    cohort::file::PLAUSIBLE
        .iter()
        .find(|p| p.0 == name)
        .is_none_or(|p| v.is_finite() && v >= p.1 && v <= p.2)
}

fn from_file(path: &Path, f: PersonFile) -> Result<PersonRecord, TwinError> {
    let sex = Sex::parse(&f.sex).ok_or_else(|| bad(path, "`sex`: expected male or female"))?;
    let index_day = f
        .index_date
        .as_deref()
        .map(|s| parse_day(path, "index_date", s))
        .transpose()?;
    let age = match (f.age, f.birth_date.as_deref(), index_day) {
        (Some(a), _, _) => a,
        (None, Some(b), Some(i)) => {
            f64::from(i - parse_day(path, "birth_date", b)?) / DAYS_PER_YEAR
        }
        _ => return Err(bad(path, "give `age`, or `birth_date` and `index_date`")),
    };
    if !(18.0..=110.0).contains(&age) {
        return Err(bad(path, "`age`: must be 18-110 years at the index date"));
    }
    if let Some(p) = f.pdc {
        if !(0.0..=1.0).contains(&p) {
            return Err(bad(path, "`pdc`: must be between 0 and 1"));
        }
    }
    let label = f.id.clone().unwrap_or_else(|| "person".to_string());
    if label.chars().count() > 64 || label.chars().any(char::is_control) {
        return Err(bad(
            path,
            "`id`: a short label or pseudonym, at most 64 characters",
        ));
    }
    let mut conditions = Conditions::default();
    for c in &f.conditions {
        conditions.insert(condition_of(c).ok_or_else(|| {
            bad(
                path,
                "`conditions`: unknown entry (diabetes, hypertension, dyslipidaemia, mi, stroke, heart_failure)",
            )
        })?);
    }
    let mut treatments = Treatments::default();
    for t in &f.treatments {
        let d = drug_of(t).ok_or_else(|| {
            bad(
                path,
                "`treatments`: unknown entry (glucose_lowering, antihypertensive, lipid_lowering)",
            )
        })?;
        treatments.insert(d.flag());
    }
    let mut observations = Vec::new();
    let mut treatment_records: [Vec<f64>; 3] = Default::default();
    let mut dated = Vec::new();
    // Latest index-window value per continuous covariate (CONTINUOUS order): (t, value).
    let mut latest: [Option<(f64, f64)>; 11] = [None; 11];
    for (i, v) in f.visits.iter().enumerate() {
        let n = i + 1;
        let t = match (&v.date, v.years, index_day) {
            (Some(d), None, Some(idx)) => {
                f64::from(parse_day(path, &format!("visit {n} date"), d)? - idx) / DAYS_PER_YEAR
            }
            (Some(_), None, None) => {
                return Err(bad(
                    path,
                    format!("visit {n}: a `date` needs the file's `index_date`"),
                ))
            }
            (None, Some(y), _) if y.is_finite() => y,
            _ => {
                return Err(bad(
                    path,
                    format!("visit {n}: give exactly one of `date` and `years`"),
                ))
            }
        };
        if !(-80.0..=80.0).contains(&t) {
            return Err(bad(
                path,
                format!("visit {n}: more than 80 years from the index date"),
            ));
        }
        let fi = match (v.fi, v.kcl) {
            (Some(x), None) => Some(x),
            (None, Some(k)) if (0.0..=25.0).contains(&k) => Some(k / 32.0),
            (None, Some(_)) => return Err(bad(path, format!("visit {n}: `kcl` must be 0-25"))),
            (Some(_), Some(_)) => {
                return Err(bad(
                    path,
                    format!("visit {n}: give `fi` or `kcl`, not both"),
                ))
            }
            (None, None) => None,
        };
        let values: [(usize, Option<f64>); 11] = [
            (0, v.bmi),
            (1, v.fpg),
            (2, v.hba1c),
            (3, v.sbp),
            (4, v.dbp),
            (5, v.tc),
            (6, v.hdl),
            (7, v.ldl),
            (8, v.egfr),
            (9, None),
            (10, fi),
        ];
        let minute = ((t * DAYS_PER_YEAR).round() as i32).saturating_mul(1440);
        for (k, x) in values {
            let Some(x) = x else { continue };
            let name = Covariates::CONTINUOUS[k];
            if let Some(item) = HistoryItem::parse(name) {
                dated.push(Dated {
                    minute,
                    item,
                    value: x,
                });
            }
            if !plausible(name, x) {
                return Err(bad(
                    path,
                    format!("visit {n}: `{}` is outside its plausible range", key_of(k)),
                ));
            }
            if (-1.0..=1e-9).contains(&t) && latest[k].is_none_or(|(tl, _)| t >= tl) {
                latest[k] = Some((t, x));
            }
            if let Some(q) = Quantity::parse(name) {
                observations.push(Observation {
                    t_years: t,
                    quantity: q,
                    value: x,
                });
            }
        }
        for r in &v.rx {
            let d = drug_of(r).ok_or_else(|| {
                bad(
                    path,
                    format!("visit {n}: `rx`: unknown entry (glucose_lowering, antihypertensive, lipid_lowering)"),
                )
            })?;
            treatment_records[d as usize].push(t);
            dated.push(Dated {
                minute,
                item: HistoryItem::Flag(d.flag_item()),
                value: 1.0,
            });
            if t <= 1e-9 && -t <= RX_WINDOW_YEARS {
                treatments.insert(d.flag());
            }
        }
    }
    if treatments.contains(Treatments::GLUCOSE_LOWERING) {
        conditions.insert(Conditions::DIABETES);
    }
    if treatments.contains(Treatments::ANTIHYPERTENSIVE) {
        conditions.insert(Conditions::HYPERTENSION);
    }
    if treatments.contains(Treatments::LIPID_LOWERING) {
        conditions.insert(Conditions::DYSLIPIDAEMIA);
    }
    let mut values: [Option<f64>; 11] = std::array::from_fn(|k| latest[k].map(|(_, v)| v));
    if let Some(s) = f.steps_per_day {
        if !plausible("steps_per_day", s) {
            return Err(bad(path, "`steps_per_day` is outside its plausible range"));
        }
        values[9] = Some(s);
    }
    let index = index_covariates(
        sex,
        age,
        values,
        f.smoker.unwrap_or(false),
        conditions,
        treatments,
    );
    observations.sort_by(|a, b| a.t_years.total_cmp(&b.t_years));
    for r in &mut treatment_records {
        r.sort_by(f64::total_cmp);
    }
    Ok(PersonRecord {
        label,
        sex,
        age_years: age,
        index,
        observations,
        treatment_records,
        pdc: f.pdc,
        index_day,
        dated,
    })
}

fn key_of(k: usize) -> &'static str {
    [
        "bmi",
        "fpg",
        "hba1c",
        "sbp",
        "dbp",
        "tc",
        "hdl",
        "ldl",
        "egfr",
        "steps_per_day",
        "fi",
    ][k]
}
