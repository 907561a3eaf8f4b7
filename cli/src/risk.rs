//! `healthtwin risk`: one person's published cardiovascular risk under any implemented
//! equation (models::cvd::equations), from flags and/or a TOML or JSON patient file.
//!
//! Two stages, as everywhere in the CLI: the raw inputs (file keys and flags, both
//! [`PatientSpec`]) are parsed, merged (flags win) and validated into a typed
//! [`RiskInput`] — units converted, every number finite and plausible, errors naming the
//! field and where it came from — and only then are equations evaluated. An equation the
//! person's inputs do not support is skipped with its reason (`--all`) or refused
//! (`--equation`), never given a number silently.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Result;
use clap::Args;
use engine::{units, Sex};
use models::cvd::equations::{Equation, Ethnicity, Field, RiskInput, SmokingCategory, Warning};
use serde::Deserialize;

use crate::input_error;

#[derive(Args, Debug, Default)]
pub struct RiskArgs {
    /// Patient file, TOML (`.toml`) or JSON (`.json`), with the flags' names as keys
    /// (underscores for dashes), e.g. `sex = "male"`, `age = 55`, `tc = "5.5 mmol/L"`.
    /// Flags given as well override the file.
    #[arg(long, value_name = "FILE")]
    pub patient: Option<PathBuf>,
    /// Equation to evaluate (repeatable): hisayama, suita, jals, epoch-japan, pce,
    /// framingham, prevent, score2-low, score2-moderate, score2-high, score2-very-high,
    /// qrisk3, ukpds-chd, ukpds-stroke; and the simulator's own UKPDS Outcomes Model 2
    /// equations (1-year risk, people with diabetes): ukpds-om2-chf, -ihd, -mi, -stroke,
    /// -blindness, -ulcer, -amputation, -renal-failure, -death.
    #[arg(long, value_name = "NAME", conflicts_with = "all")]
    pub equation: Vec<String>,
    /// Every equation side by side; ones the inputs do not support are listed with the
    /// reason. The default when no --equation is given.
    #[arg(long)]
    pub all: bool,
    #[command(flatten)]
    pub spec: PatientFlags,
    #[command(flatten)]
    pub om2: Om2Flags,
}

/// OM2-only inputs.
#[derive(Args, Debug, Default)]
pub struct Om2Flags {
    /// UKPDS OM2: peripheral vascular disease.
    #[arg(long, num_args = 0..=1, default_missing_value = "true")]
    pub pvd: Option<bool>,
    /// UKPDS OM2: urine albumin ≥ 50 mg/L (micro- or macroalbuminuria).
    #[arg(long, num_args = 0..=1, default_missing_value = "true")]
    pub albuminuria: Option<bool>,
    /// UKPDS OM2: heart rate, beats/min.
    #[arg(long)]
    pub heart_rate: Option<f64>,
    /// UKPDS OM2: white blood cell count, 10⁹/L.
    #[arg(long)]
    pub wbc: Option<f64>,
    /// UKPDS OM2: haemoglobin, g/dL.
    #[arg(long)]
    pub haemoglobin: Option<f64>,
    /// UKPDS OM2: an earlier event (repeatable): amputation, blindness, chf, ihd, mi,
    /// stroke, ulcer, renal-failure.
    #[arg(long, value_name = "EVENT")]
    pub history: Vec<String>,
}

/// The person, as flags. Every value is optional here; what an equation needs is checked
/// when it is evaluated.
#[derive(Args, Debug, Default)]
pub struct PatientFlags {
    /// male or female.
    #[arg(long)]
    pub sex: Option<String>,
    /// Age, years.
    #[arg(long)]
    pub age: Option<f64>,
    /// Systolic blood pressure, mmHg.
    #[arg(long)]
    pub sbp: Option<f64>,
    /// Diastolic blood pressure, mmHg.
    #[arg(long)]
    pub dbp: Option<f64>,
    /// Total cholesterol, e.g. `213`, `213mg/dL` or `5.5mmol/L` (a bare number is in --units).
    #[arg(long, allow_hyphen_values = true)]
    pub tc: Option<String>,
    /// HDL cholesterol (units as --tc).
    #[arg(long, allow_hyphen_values = true)]
    pub hdl: Option<String>,
    /// LDL cholesterol (units as --tc).
    #[arg(long, allow_hyphen_values = true)]
    pub ldl: Option<String>,
    /// Unit of cholesterol values given without one: mg (mg/dL, the default) or mmol (mmol/L).
    #[arg(long)]
    pub units: Option<String>,
    /// Body-mass index, kg/m².
    #[arg(long)]
    pub bmi: Option<f64>,
    /// eGFR, mL/min/1.73 m².
    #[arg(long)]
    pub egfr: Option<f64>,
    /// HbA1c, `7.0` or `7.0%` (NGSP) or `53mmol/mol` (IFCC).
    #[arg(long, allow_hyphen_values = true)]
    pub hba1c: Option<String>,
    /// Diabetes (`--diabetes` or `--diabetes=false`).
    #[arg(long, num_args = 0..=1, default_missing_value = "true")]
    pub diabetes: Option<bool>,
    /// Years since diabetes was diagnosed (UKPDS risk engine).
    #[arg(long)]
    pub years_since_dm_dx: Option<f64>,
    /// Current smoker.
    #[arg(long, num_args = 0..=1, default_missing_value = "true")]
    pub smoker: Option<bool>,
    /// QRISK3 smoking amount: non, ex, light (<10/day), moderate (10–19), heavy (20+).
    #[arg(long)]
    pub smoking: Option<String>,
    /// On blood-pressure-lowering drugs.
    #[arg(long, num_args = 0..=1, default_missing_value = "true")]
    pub bp_treated: Option<bool>,
    /// On a statin.
    #[arg(long, num_args = 0..=1, default_missing_value = "true")]
    pub statin: Option<bool>,
    /// Dipstick proteinuria (1+ or more).
    #[arg(long, num_args = 0..=1, default_missing_value = "true")]
    pub proteinuria: Option<bool>,
    /// Exercises at least three times a week (Hisayama).
    #[arg(long, num_args = 0..=1, default_missing_value = "true")]
    pub regular_exercise: Option<bool>,
    /// Atrial fibrillation.
    #[arg(long, num_args = 0..=1, default_missing_value = "true")]
    pub af: Option<bool>,
    /// Ethnic group (QRISK3's categories): white (or not stated), indian, pakistani,
    /// bangladeshi, other-asian, black-caribbean, black-african, chinese, other.
    #[arg(long)]
    pub ethnicity: Option<String>,
    /// QRISK3: Townsend deprivation score (0 = English average).
    #[arg(long, allow_hyphen_values = true)]
    pub townsend: Option<f64>,
    /// QRISK3: standard deviation of repeated SBP readings, mmHg.
    #[arg(long)]
    pub sbp_sd: Option<f64>,
    /// QRISK3: type 1 (not type 2) diabetes.
    #[arg(long, num_args = 0..=1, default_missing_value = "true")]
    pub type1_diabetes: Option<bool>,
    /// QRISK3: angina or heart attack in a first-degree relative under 60.
    #[arg(long, num_args = 0..=1, default_missing_value = "true")]
    pub family_history_chd: Option<bool>,
    /// QRISK3: chronic kidney disease stage 3–5.
    #[arg(long, num_args = 0..=1, default_missing_value = "true")]
    pub ckd: Option<bool>,
    /// QRISK3: migraine.
    #[arg(long, num_args = 0..=1, default_missing_value = "true")]
    pub migraine: Option<bool>,
    /// QRISK3: rheumatoid arthritis.
    #[arg(long, num_args = 0..=1, default_missing_value = "true")]
    pub rheumatoid_arthritis: Option<bool>,
    /// QRISK3: systemic lupus erythematosus.
    #[arg(long, num_args = 0..=1, default_missing_value = "true")]
    pub sle: Option<bool>,
    /// QRISK3: severe mental illness.
    #[arg(long, num_args = 0..=1, default_missing_value = "true")]
    pub severe_mental_illness: Option<bool>,
    /// QRISK3: on atypical antipsychotics.
    #[arg(long, num_args = 0..=1, default_missing_value = "true")]
    pub atypical_antipsychotic: Option<bool>,
    /// QRISK3: on regular oral corticosteroids.
    #[arg(long, num_args = 0..=1, default_missing_value = "true")]
    pub corticosteroids: Option<bool>,
    /// QRISK3: erectile dysfunction or its treatment.
    #[arg(long, num_args = 0..=1, default_missing_value = "true")]
    pub erectile_dysfunction: Option<bool>,
}

/// A number, or a number with its unit as text (`"5.5 mmol/L"`).
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(untagged)]
pub enum Quantity {
    Number(f64),
    Text(String),
}

/// The patient file: the flags' names as keys, every key optional, no others allowed.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PatientSpec {
    pub sex: Option<String>,
    pub age: Option<f64>,
    pub sbp: Option<f64>,
    pub dbp: Option<f64>,
    pub tc: Option<Quantity>,
    pub hdl: Option<Quantity>,
    pub ldl: Option<Quantity>,
    pub units: Option<String>,
    pub bmi: Option<f64>,
    pub egfr: Option<f64>,
    pub hba1c: Option<Quantity>,
    pub diabetes: Option<bool>,
    pub years_since_dm_dx: Option<f64>,
    pub smoker: Option<bool>,
    pub smoking: Option<String>,
    pub bp_treated: Option<bool>,
    pub statin: Option<bool>,
    pub proteinuria: Option<bool>,
    pub regular_exercise: Option<bool>,
    pub af: Option<bool>,
    pub ethnicity: Option<String>,
    pub townsend: Option<f64>,
    pub sbp_sd: Option<f64>,
    pub type1_diabetes: Option<bool>,
    pub family_history_chd: Option<bool>,
    pub ckd: Option<bool>,
    pub migraine: Option<bool>,
    pub rheumatoid_arthritis: Option<bool>,
    pub sle: Option<bool>,
    pub severe_mental_illness: Option<bool>,
    pub atypical_antipsychotic: Option<bool>,
    pub corticosteroids: Option<bool>,
    pub erectile_dysfunction: Option<bool>,
}

impl PatientFlags {
    pub(crate) fn to_spec(&self) -> PatientSpec {
        let text = |v: &Option<String>| v.clone().map(Quantity::Text);
        PatientSpec {
            sex: self.sex.clone(),
            age: self.age,
            sbp: self.sbp,
            dbp: self.dbp,
            tc: text(&self.tc),
            hdl: text(&self.hdl),
            ldl: text(&self.ldl),
            units: self.units.clone(),
            bmi: self.bmi,
            egfr: self.egfr,
            hba1c: text(&self.hba1c),
            diabetes: self.diabetes,
            years_since_dm_dx: self.years_since_dm_dx,
            smoker: self.smoker,
            smoking: self.smoking.clone(),
            bp_treated: self.bp_treated,
            statin: self.statin,
            proteinuria: self.proteinuria,
            regular_exercise: self.regular_exercise,
            af: self.af,
            ethnicity: self.ethnicity.clone(),
            townsend: self.townsend,
            sbp_sd: self.sbp_sd,
            type1_diabetes: self.type1_diabetes,
            family_history_chd: self.family_history_chd,
            ckd: self.ckd,
            migraine: self.migraine,
            rheumatoid_arthritis: self.rheumatoid_arthritis,
            sle: self.sle,
            severe_mental_illness: self.severe_mental_illness,
            atypical_antipsychotic: self.atypical_antipsychotic,
            corticosteroids: self.corticosteroids,
            erectile_dysfunction: self.erectile_dysfunction,
        }
    }
}

impl PatientSpec {
    /// `self` with every key `over` sets replaced by `over`'s value.
    pub(crate) fn overridden_by(self, over: PatientSpec) -> PatientSpec {
        macro_rules! pick {
            ($($f:ident),*) => { PatientSpec { $($f: over.$f.or(self.$f)),* } };
        }
        pick!(
            sex,
            age,
            sbp,
            dbp,
            tc,
            hdl,
            ldl,
            units,
            bmi,
            egfr,
            hba1c,
            diabetes,
            years_since_dm_dx,
            smoker,
            smoking,
            bp_treated,
            statin,
            proteinuria,
            regular_exercise,
            af,
            ethnicity,
            townsend,
            sbp_sd,
            type1_diabetes,
            family_history_chd,
            ckd,
            migraine,
            rheumatoid_arthritis,
            sle,
            severe_mental_illness,
            atypical_antipsychotic,
            corticosteroids,
            erectile_dysfunction
        )
    }
}

/// The keys of a patient file with what each holds, for errors (the fields of
/// [`PatientSpec`]; `patient_keys_are_the_spec_fields` keeps them in step).
const PATIENT_KEYS: [(&str, &str); 33] = [
    ("sex", TEXT),
    ("age", NUMBER),
    ("sbp", NUMBER),
    ("dbp", NUMBER),
    ("tc", QUANTITY),
    ("hdl", QUANTITY),
    ("ldl", QUANTITY),
    ("units", TEXT),
    ("bmi", NUMBER),
    ("egfr", NUMBER),
    ("hba1c", QUANTITY),
    ("diabetes", BOOL),
    ("years_since_dm_dx", NUMBER),
    ("smoker", BOOL),
    ("smoking", TEXT),
    ("bp_treated", BOOL),
    ("statin", BOOL),
    ("proteinuria", BOOL),
    ("regular_exercise", BOOL),
    ("af", BOOL),
    ("ethnicity", TEXT),
    ("townsend", NUMBER),
    ("sbp_sd", NUMBER),
    ("type1_diabetes", BOOL),
    ("family_history_chd", BOOL),
    ("ckd", BOOL),
    ("migraine", BOOL),
    ("rheumatoid_arthritis", BOOL),
    ("sle", BOOL),
    ("severe_mental_illness", BOOL),
    ("atypical_antipsychotic", BOOL),
    ("corticosteroids", BOOL),
    ("erectile_dysfunction", BOOL),
];
const TEXT: &str = "text in quotes";
const NUMBER: &str = "a number";
const QUANTITY: &str = "a number, or a number and its unit in quotes (\"5.5 mmol/L\")";
const BOOL: &str = "true or false";

/// A patient-file error: the line and the key, never a value (a file may hold a name or a
/// patient number where a number was expected, and parsers quote what they could not read).
fn file_error(line: Option<usize>, what: &str) -> anyhow::Error {
    match line {
        Some(l) => input_error(format!("--patient file, line {l}: {what}")),
        None => input_error(format!("--patient file: {what}")),
    }
}

/// 1-based line of a byte offset.
fn line_of(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    text.as_bytes()[..end]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// How a key is named in an error: ours by name, an unknown one only if it has the shape of
/// a key (a name typed as a key is not repeated).
fn key_problem(key: &str) -> String {
    match PATIENT_KEYS.iter().find(|k| k.0 == key) {
        Some((k, holds)) => format!("`{k}` must be {holds}"),
        None => {
            let shown = key.len() <= 40
                && key
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
            let names: Vec<&str> = PATIENT_KEYS.iter().map(|k| k.0).collect();
            format!(
                "unknown key{} (the keys are the flags' names with underscores: {})",
                if shown {
                    format!(" `{key}`")
                } else {
                    String::new()
                },
                names.join(", ")
            )
        }
    }
}

/// The first key (in file order) whose value does not fit, from a parse that failed.
/// `keys`: (key, line, does the key alone parse).
fn first_bad_key(mut keys: Vec<(String, usize, bool)>) -> Option<(String, usize)> {
    keys.sort_by_key(|k| k.1);
    keys.into_iter().find(|k| !k.2).map(|k| (k.0, k.1))
}

fn parse_toml(text: &str) -> Result<PatientSpec> {
    let typed_error = match toml::from_str::<PatientSpec>(text) {
        Ok(spec) => return Ok(spec),
        Err(e) => e,
    };
    let doc = match toml::de::DeTable::parse(text) {
        Ok(d) => d,
        Err(e) => {
            return Err(file_error(
                e.span().map(|s| line_of(text, s.start)),
                "not valid TOML (text values need quotes: sex = \"male\")",
            ))
        }
    };
    let table: toml::Table = toml::from_str(text).unwrap_or_default();
    let keys = doc
        .get_ref()
        .iter()
        .map(|(k, _)| {
            let name = k.get_ref().to_string();
            let line = line_of(text, k.span().start);
            let mut one = toml::Table::new();
            if let Some(v) = table.get(&name) {
                one.insert(name.clone(), v.clone());
            }
            let ok = PATIENT_KEYS.iter().any(|p| p.0 == name)
                && toml::Value::Table(one).try_into::<PatientSpec>().is_ok();
            (name, line, ok)
        })
        .collect();
    Err(match first_bad_key(keys) {
        Some((key, line)) => file_error(Some(line), &key_problem(&key)),
        None => file_error(
            typed_error.span().map(|s| line_of(text, s.start)),
            "not a patient file (the keys are the flags' names)",
        ),
    })
}

fn parse_json(text: &str) -> Result<PatientSpec> {
    use serde_json::error::Category;
    let typed_error = match serde_json::from_str::<PatientSpec>(text) {
        Ok(spec) => return Ok(spec),
        Err(e) => e,
    };
    if matches!(typed_error.classify(), Category::Syntax | Category::Eof) {
        return Err(file_error(
            Some(typed_error.line()),
            &format!("not valid JSON (column {})", typed_error.column()),
        ));
    }
    let Ok(serde_json::Value::Object(map)) = serde_json::from_str::<serde_json::Value>(text) else {
        return Err(file_error(
            Some(typed_error.line()),
            "the file must hold one JSON object of keys",
        ));
    };
    let keys = map
        .iter()
        .map(|(k, v)| {
            // JSON values carry no position: the key's first quoted occurrence gives the line.
            let line = text
                .find(&format!("\"{k}\""))
                .map_or(typed_error.line(), |at| line_of(text, at));
            let mut one = serde_json::Map::new();
            one.insert(k.clone(), v.clone());
            let ok = PATIENT_KEYS.iter().any(|p| p.0 == k)
                && serde_json::from_value::<PatientSpec>(serde_json::Value::Object(one)).is_ok();
            (k.clone(), line, ok)
        })
        .collect();
    Err(match first_bad_key(keys) {
        Some((key, line)) => file_error(Some(line), &key_problem(&key)),
        None => file_error(
            Some(typed_error.line()),
            "not a patient file (the keys are the flags' names)",
        ),
    })
}

/// Reads a patient file. Errors name the file (as `--patient file`: its name can be the
/// person's), the line and the key, never a value.
pub fn read_patient_file(path: &Path) -> Result<PatientSpec> {
    let text = std::fs::read_to_string(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::InvalidData => file_error(None, "not UTF-8 text"),
        kind => file_error(None, &format!("cannot read it: {kind}")),
    })?;
    parse_patient(&text, path)
}

/// Parses patient-file text, TOML or JSON by `path`'s extension (the fuzz targets call this
/// without a file). Errors as [`read_patient_file`]'s.
pub fn parse_patient(text: &str, path: &Path) -> Result<PatientSpec> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    match ext.as_deref() {
        Some("toml") => parse_toml(text),
        Some("json") => parse_json(text),
        _ => Err(file_error(None, "use a .toml or .json file")),
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum CholesterolUnit {
    MgDl,
    MmolL,
}

fn parse_cholesterol_unit(s: &str) -> Option<CholesterolUnit> {
    match s.trim().to_ascii_lowercase().replace(' ', "").as_str() {
        "mg" | "mg/dl" | "mgdl" => Some(CholesterolUnit::MgDl),
        "mmol" | "mmol/l" | "mmoll" => Some(CholesterolUnit::MmolL),
        _ => None,
    }
}

/// Splits `"5.5 mmol/L"` into (5.5, "mmol/L"); a bare number has an empty unit.
fn split_quantity(text: &str) -> Option<(f64, &str)> {
    let t = text.trim();
    let end = t
        .find(|c: char| !(c.is_ascii_digit() || matches!(c, '.' | '-' | '+' | 'e' | 'E')))
        .unwrap_or(t.len());
    // "e" could start a unit; only treat it as an exponent if a number parses.
    let (num, unit) = t.split_at(end);
    num.parse::<f64>().ok().map(|v| (v, unit.trim()))
}

/// Where a value came from, for messages.
fn origin(key: &str) -> String {
    format!("`{key}` (--{})", key.replace('_', "-"))
}

fn finite(key: &str, v: f64) -> Result<f64> {
    if v.is_finite() {
        Ok(v)
    } else {
        Err(input_error(format!(
            "{} must be a finite number",
            origin(key)
        )))
    }
}

/// Cholesterol in mg/dL from a quantity, with `default_unit` for bare numbers.
fn cholesterol_mg_dl(key: &str, q: &Quantity, default_unit: CholesterolUnit) -> Result<f64> {
    let (value, unit) = match q {
        Quantity::Number(v) => (*v, default_unit),
        Quantity::Text(t) => {
            let (v, u) = split_quantity(t).ok_or_else(|| {
                input_error(format!(
                    "{} is not a number with an optional unit",
                    origin(key)
                ))
            })?;
            let unit = if u.is_empty() {
                default_unit
            } else {
                parse_cholesterol_unit(u).ok_or_else(|| {
                    input_error(format!(
                        "{}: unknown unit (use mg/dL or mmol/L)",
                        origin(key)
                    ))
                })?
            };
            (v, unit)
        }
    };
    let value = finite(key, value)?;
    Ok(match unit {
        CholesterolUnit::MgDl => value,
        CholesterolUnit::MmolL => units::cholesterol_mg_dl(value),
    })
}

/// HbA1c in % (NGSP) from `7.0`, `"7.0%"` or `"53 mmol/mol"` (IFCC; NGSP = 0.09148·IFCC +
/// 2.152, the IFCC–NGSP master equation, Hoelzel 2004 Clin Chem 50:166).
fn hba1c_pct(q: &Quantity) -> Result<f64> {
    let key = "hba1c";
    match q {
        Quantity::Number(v) => finite(key, *v),
        Quantity::Text(t) => {
            let (v, u) = split_quantity(t).ok_or_else(|| {
                input_error(format!(
                    "{} is not a number with an optional unit",
                    origin(key)
                ))
            })?;
            let v = finite(key, v)?;
            match u.to_ascii_lowercase().replace(' ', "").as_str() {
                "" | "%" => Ok(v),
                "mmol/mol" => Ok(units::hba1c_ifcc_to_ngsp(v)),
                _ => Err(input_error(format!(
                    "{}: unknown unit (use % or mmol/mol)",
                    origin(key)
                ))),
            }
        }
    }
}

fn parse_smoking(s: &str) -> Option<SmokingCategory> {
    match s.trim().to_ascii_lowercase().as_str() {
        "non" | "never" | "no" | "non-smoker" => Some(SmokingCategory::Non),
        "ex" | "former" | "ex-smoker" => Some(SmokingCategory::Ex),
        "light" => Some(SmokingCategory::Light),
        "moderate" => Some(SmokingCategory::Moderate),
        "heavy" => Some(SmokingCategory::Heavy),
        _ => None,
    }
}

/// What the user supplied, validated: the equation input and notes on conversions.
pub struct Patient {
    pub input: RiskInput,
    /// Whether a value was given (so the output can say what was assumed).
    pub regular_exercise_given: bool,
    pub ethnicity_given: bool,
}

/// Validates a merged spec into a [`RiskInput`] (stage two).
pub fn to_risk_input(spec: &PatientSpec) -> Result<Patient> {
    let sex_text = spec.sex.as_deref().ok_or_else(|| {
        input_error(
            "the person's sex is required (--sex male|female, or `sex` in the patient file)",
        )
    })?;
    let sex = Sex::parse(sex_text)
        .ok_or_else(|| input_error(format!("{} is not male or female", origin("sex"))))?;
    let age = spec.age.ok_or_else(|| {
        input_error("the person's age is required (--age, or `age` in the patient file)")
    })?;
    let mut x = RiskInput::new(sex, finite("age", age)?);
    let unit = match spec.units.as_deref() {
        None => CholesterolUnit::MgDl,
        Some(u) => parse_cholesterol_unit(u)
            .ok_or_else(|| input_error(format!("{} is not mg or mmol", origin("units"))))?,
    };
    let number = |key: &str, v: Option<f64>| -> Result<f64> {
        match v {
            Some(v) => finite(key, v),
            None => Ok(f64::NAN),
        }
    };
    let chol = |key: &str, q: &Option<Quantity>| -> Result<f64> {
        match q {
            Some(q) => cholesterol_mg_dl(key, q, unit),
            None => Ok(f64::NAN),
        }
    };
    x.sbp_mmhg = number("sbp", spec.sbp)?;
    x.dbp_mmhg = number("dbp", spec.dbp)?;
    x.tc_mg_dl = chol("tc", &spec.tc)?;
    x.hdl_mg_dl = chol("hdl", &spec.hdl)?;
    x.ldl_mg_dl = chol("ldl", &spec.ldl)?;
    x.bmi_kg_m2 = number("bmi", spec.bmi)?;
    x.egfr_ml_min = number("egfr", spec.egfr)?;
    x.hba1c_pct = match &spec.hba1c {
        Some(q) => hba1c_pct(q)?,
        None => f64::NAN,
    };
    x.years_since_dm_dx = number("years_since_dm_dx", spec.years_since_dm_dx)?;
    x.diabetes = spec.diabetes.unwrap_or(false);
    x.bp_treated = spec.bp_treated.unwrap_or(false);
    x.statin = spec.statin.unwrap_or(false);
    x.proteinuria = spec.proteinuria.unwrap_or(false);
    x.regular_exercise = spec.regular_exercise.unwrap_or(false);
    x.atrial_fibrillation = spec.af.unwrap_or(false);
    if let Some(e) = &spec.ethnicity {
        x.ethnicity = Ethnicity::parse(e).ok_or_else(|| {
            let names: Vec<_> = Ethnicity::ALL.iter().map(|e| e.name()).collect();
            input_error(format!(
                "{} is not one of {}",
                origin("ethnicity"),
                names.join(", ")
            ))
        })?;
    }
    let smoking = match &spec.smoking {
        Some(s) => Some(parse_smoking(s).ok_or_else(|| {
            input_error(format!(
                "{} is not non, ex, light, moderate or heavy",
                origin("smoking")
            ))
        })?),
        None => None,
    };
    let current = matches!(
        smoking,
        Some(SmokingCategory::Light | SmokingCategory::Moderate | SmokingCategory::Heavy)
    );
    x.smoker = match (spec.smoker, smoking) {
        (Some(s), Some(_)) if s != current => {
            return Err(input_error(format!(
                "{} contradicts {}",
                origin("smoker"),
                origin("smoking")
            )))
        }
        (Some(s), _) => s,
        (None, _) => current,
    };
    let q = &mut x.qrisk;
    q.smoking = smoking;
    q.townsend = number("townsend", spec.townsend)?;
    q.sbp_sd_mmhg = number("sbp_sd", spec.sbp_sd)?;
    q.type1_diabetes = spec.type1_diabetes.unwrap_or(false);
    if q.type1_diabetes {
        x.diabetes = true;
    }
    q.family_history_chd = spec.family_history_chd.unwrap_or(false);
    q.ckd_3_to_5 = spec.ckd.unwrap_or(false);
    q.migraine = spec.migraine.unwrap_or(false);
    q.rheumatoid_arthritis = spec.rheumatoid_arthritis.unwrap_or(false);
    q.systemic_lupus = spec.sle.unwrap_or(false);
    q.severe_mental_illness = spec.severe_mental_illness.unwrap_or(false);
    q.atypical_antipsychotic = spec.atypical_antipsychotic.unwrap_or(false);
    q.corticosteroids = spec.corticosteroids.unwrap_or(false);
    q.erectile_dysfunction = spec.erectile_dysfunction.unwrap_or(false);
    // Implausible values are input errors for every equation (a unit mix-up, a typo).
    let keys = [
        (Field::Age, "age"),
        (Field::Sbp, "sbp"),
        (Field::Dbp, "dbp"),
        (Field::Tc, "tc"),
        (Field::Hdl, "hdl"),
        (Field::Ldl, "ldl"),
        (Field::Bmi, "bmi"),
        (Field::Egfr, "egfr"),
        (Field::Hba1c, "hba1c"),
        (Field::YearsSinceDmDx, "years_since_dm_dx"),
        (Field::Townsend, "townsend"),
        (Field::SbpSd, "sbp_sd"),
    ];
    for (field, key) in keys {
        let v = x.get(field);
        let (lo, hi) = field.plausible();
        if !v.is_nan() && !(lo..=hi).contains(&v) {
            let unit_hint = match field {
                Field::Tc | Field::Hdl | Field::Ldl => {
                    " (read as mg/dL; for mmol/L write e.g. `5.5mmol/L` or use --units mmol)"
                        .to_string()
                }
                _ => String::new(),
            };
            // The value is not repeated (errors never echo what the user's file holds).
            return Err(input_error(format!(
                "{} is implausible (accepted {lo}–{hi}){unit_hint}",
                origin(key)
            )));
        }
    }
    Ok(Patient {
        input: x,
        regular_exercise_given: spec.regular_exercise.is_some(),
        ethnicity_given: spec.ethnicity.is_some(),
    })
}

/// One equation's result for the table.
struct Row {
    equation: Equation,
    result: std::result::Result<f64, String>,
    warnings: Vec<String>,
}

fn evaluate(eq: Equation, p: &Patient) -> Row {
    let x = &p.input;
    match eq.risk(x) {
        Ok(r) => {
            let mut warnings: Vec<String> = eq.validity(x).iter().map(Warning::to_string).collect();
            if eq == Equation::Hisayama && !p.regular_exercise_given {
                warnings.push(
                    "assumed no regular exercise (+2 points): pass --regular-exercise if ≥3×/week"
                        .into(),
                );
            }
            // The two equations with several ethnic groups and none for Japanese people.
            if !p.ethnicity_given && eq == Equation::PooledCohort {
                warnings.push(
                    "ethnicity not given: the white/other equations used (none for Japanese people)".into(),
                );
            }
            if !p.ethnicity_given && eq == Equation::Qrisk3 {
                warnings.push(
                    "ethnicity not given: 'white or not stated' used (QRISK3 has no Japanese group)".into(),
                );
            }
            Row {
                equation: eq,
                result: Ok(r),
                warnings,
            }
        }
        Err(e) => Row {
            equation: eq,
            result: Err(flag_hint(&e.to_string())),
            warnings: Vec::new(),
        },
    }
}

/// Adds the flag name to a message that names a `RiskInput` field.
fn flag_hint(msg: &str) -> String {
    let flags = [
        ("age_years", "--age"),
        ("sbp_mmhg", "--sbp"),
        ("dbp_mmhg", "--dbp"),
        ("tc_mg_dl", "--tc"),
        ("hdl_mg_dl", "--hdl"),
        ("ldl_mg_dl", "--ldl"),
        ("bmi_kg_m2", "--bmi"),
        ("egfr_ml_min", "--egfr"),
        ("hba1c_pct", "--hba1c"),
        ("years_since_dm_dx", "--years-since-dm-dx"),
    ];
    for (field, flag) in flags {
        if msg.contains(&format!("needs {field},")) {
            return msg.replace(
                &format!("needs {field},"),
                &format!("needs {field} ({flag}),"),
            );
        }
    }
    msg.to_string()
}

fn describe_input(x: &RiskInput) -> String {
    let mut s = format!("{}, {} y", x.sex.name(), x.age_years);
    let mut add = |label: &str, v: f64, unit: &str| {
        if !v.is_nan() {
            let _ = write!(s, ", {label} {v:.1}{unit}");
        }
    };
    add("SBP", x.sbp_mmhg, " mmHg");
    add("DBP", x.dbp_mmhg, " mmHg");
    for (label, v) in [
        ("TC", x.tc_mg_dl),
        ("HDL", x.hdl_mg_dl),
        ("LDL", x.ldl_mg_dl),
    ] {
        if !v.is_nan() {
            let _ = write!(
                s,
                ", {label} {v:.1} mg/dL ({:.2} mmol/L)",
                units::cholesterol_mmol_l(v)
            );
        }
    }
    let mut add = |label: &str, v: f64, unit: &str| {
        if !v.is_nan() {
            let _ = write!(s, ", {label} {v:.1}{unit}");
        }
    };
    add("BMI", x.bmi_kg_m2, "");
    add("eGFR", x.egfr_ml_min, "");
    add("HbA1c", x.hba1c_pct, " %");
    let flags = [
        (x.diabetes, "diabetes"),
        (x.smoker, "smoker"),
        (x.bp_treated, "BP treated"),
        (x.statin, "statin"),
        (x.proteinuria, "proteinuria"),
        (x.regular_exercise, "regular exercise"),
        (x.atrial_fibrillation, "AF"),
    ];
    for (on, label) in flags {
        if on {
            let _ = write!(s, ", {label}");
        }
    }
    s
}

/// Renders the table (also used by the tests).
fn render(p: &Patient, rows: &[Row]) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "person: {}", describe_input(&p.input));
    let _ = writeln!(
        out,
        "{:<17} {:<30} {:<52} {:>5} {:>8}",
        "equation", "derived in", "outcome", "years", "risk"
    );
    let mut qrisk_shown = false;
    for row in rows {
        let eq = row.equation;
        match &row.result {
            Ok(r) => {
                let _ = writeln!(
                    out,
                    "{:<17} {:<30} {:<52} {:>5} {:>6.2} %",
                    eq.name(),
                    eq.population(),
                    eq.outcome_detail(),
                    eq.horizon_years(),
                    100.0 * r
                );
                for w in &row.warnings {
                    let _ = writeln!(out, "{:<17} ! {w}", "");
                }
                qrisk_shown |= eq == Equation::Qrisk3;
            }
            Err(reason) => {
                let _ = writeln!(out, "{:<17} skipped: {reason}", eq.name());
            }
        }
    }
    if qrisk_shown {
        let _ = writeln!(
            out,
            "QRISK3: an independent implementation of ClinRisk's open-source QRISK3-2017 algorithm, \
             not the official calculator (https://qrisk.org)."
        );
    }
    out
}

/// Validates a person and evaluates the named equations (all of them if none is named) into
/// the printed table.
pub fn assess(spec: &PatientSpec, equation_names: &[String]) -> Result<String> {
    let patient = to_risk_input(spec)?;
    let equations: Vec<Equation> = if equation_names.is_empty() {
        Equation::ALL.to_vec()
    } else {
        equation_names
            .iter()
            .map(|name| {
                Equation::parse(name).ok_or_else(|| {
                    let names: Vec<_> = Equation::ALL.iter().map(|e| e.name()).collect();
                    input_error(format!(
                        "unknown equation `{name}`; known: {}",
                        names.join(", ")
                    ))
                })
            })
            .collect::<Result<_>>()?
    };
    let rows: Vec<Row> = equations.iter().map(|&eq| evaluate(eq, &patient)).collect();
    // A named equation that cannot be evaluated is an error, not a table line.
    if !equation_names.is_empty() {
        if let Some((eq, reason)) = rows
            .iter()
            .find_map(|r| r.result.as_ref().err().map(|e| (r.equation, e)))
        {
            return Err(input_error(format!("{}: {reason}", eq.name())));
        }
    }
    Ok(render(&patient, &rows))
}

#[cfg(test)]
mod tests {
    #[test]
    fn patient_keys_are_the_spec_fields() {
        // serde's unknown-field error lists every field of the spec.
        let e = toml::from_str::<PatientSpec>("not_a_key = 1").unwrap_err();
        let msg = e.message().to_string();
        let listed: Vec<&str> = msg.split('`').skip(3).step_by(2).collect();
        let ours: Vec<&str> = PATIENT_KEYS.iter().map(|k| k.0).collect();
        assert_eq!(listed, ours, "{msg}");
    }

    #[test]
    fn patient_file_errors_name_line_and_key_never_the_value() {
        let check = |text: &str, json: bool, expect: &str| {
            let e = if json {
                parse_json(text)
            } else {
                parse_toml(text)
            }
            .unwrap_err()
            .to_string();
            assert!(e.contains(expect), "{e}");
            for secret in ["山田", "MRN-12345", "73519001", "TARO"] {
                assert!(!e.contains(secret), "{secret} in {e}");
            }
        };
        check(
            "sex = \"male\"\nname = 山田太郎 MRN-12345\n",
            false,
            "line 2: not valid TOML",
        );
        check(
            "sex = \"male\"\nsbp = \"73519001\"\n",
            false,
            "line 2: `sbp` must be a number",
        );
        check(
            "sex = \"male\"\nname = \"山田太郎\"\n",
            false,
            "line 2: unknown key `name`",
        );
        check("\"山田太郎\" = 1\n", false, "line 1: unknown key (");
        check(
            "sex = \"male\"\n[MRN-12345]\nx = 1\n",
            false,
            "line 2: unknown key (",
        );
        check(
            "{\"sex\": \"male\",\n \"age\": \"山田太郎 MRN-12345\"}",
            true,
            "line 2: `age` must be a number",
        );
        check(
            "{\"sex\": \"male\",\n \"age\": 山田}",
            true,
            "line 2: not valid JSON",
        );
        check("[\"73519001\"]", true, "one JSON object");
        check("{\"name\": \"TARO\"}", true, "line 1: unknown key `name`");
    }

    use super::*;

    #[test]
    fn quantities_parse_with_and_without_units() {
        let mg = CholesterolUnit::MgDl;
        let q = |s: &str| Quantity::Text(s.into());
        assert_eq!(cholesterol_mg_dl("tc", &q("213"), mg).unwrap(), 213.0);
        assert_eq!(cholesterol_mg_dl("tc", &q("213mg/dL"), mg).unwrap(), 213.0);
        let mmol = cholesterol_mg_dl("tc", &q("5.5 mmol/L"), mg).unwrap();
        assert!((mmol - units::cholesterol_mg_dl(5.5)).abs() < 1e-12);
        let bare = cholesterol_mg_dl("tc", &Quantity::Number(5.5), CholesterolUnit::MmolL).unwrap();
        assert_eq!(bare, mmol);
        assert!(cholesterol_mg_dl("tc", &q("5.5 mmol/mol"), mg).is_err());
        assert!(cholesterol_mg_dl("tc", &q("abc"), mg).is_err());
        assert!((hba1c_pct(&q("53 mmol/mol")).unwrap() - 7.00044).abs() < 1e-9);
        assert_eq!(hba1c_pct(&q("7.1%")).unwrap(), 7.1);
    }

    #[test]
    fn flags_override_the_file_and_implausible_values_are_refused() {
        let file = PatientSpec {
            sex: Some("male".into()),
            age: Some(60.0),
            smoker: Some(true),
            tc: Some(Quantity::Number(5.2)),
            units: Some("mmol".into()),
            ..PatientSpec::default()
        };
        let flags = PatientSpec {
            smoker: Some(false),
            ..PatientSpec::default()
        };
        let merged = file.clone().overridden_by(flags);
        let p = to_risk_input(&merged).unwrap();
        assert!(!p.input.smoker);
        assert!((p.input.tc_mg_dl - units::cholesterol_mg_dl(5.2)).abs() < 1e-9);
        // The same number read as mg/dL is an entry error.
        let mg = PatientSpec {
            units: None,
            ..file
        };
        let err = to_risk_input(&mg).err().unwrap().to_string();
        assert!(err.contains("`tc`") && err.contains("implausible"), "{err}");
    }
}
