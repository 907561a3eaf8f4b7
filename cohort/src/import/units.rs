//! Units: every value is converted to its measure's canonical unit, and checked against the
//! measure's plausible range. A value that is implausible in its declared (or missing) unit
//! but plausible in exactly one other accepted unit of the measure is taken in that unit and
//! counted as a unit correction (a mmol/L glucose labelled mg/dL, a cholesterol in mmol/L
//! without a unit). Anything else implausible is refused and counted.
//!
//! This module holds the table of accepted units per measure; the conversion factors and
//! their sources are in `engine::units`, the one place for them.
//!
//! Must never: silently accept a value outside the plausible range, or guess between two
//! plausible readings.

use engine::units::{
    cholesterol_mg_dl, glucose_mg_dl, hba1c_ifcc_to_ngsp, hba1c_jds_to_ngsp, CM_PER_IN,
    CREATININE_UMOL_L_PER_MG_DL, KG_PER_LB, KM_H_PER_M_S, M_S_PER_MI_H,
    TRIGLYCERIDE_MG_DL_PER_MMOL_L,
};

use super::measure::ClinicalMeasure;

/// One accepted unit of a measure: value_canonical = factor × value + offset, or a function.
#[derive(Clone, Copy, Debug)]
pub struct UnitDef {
    /// Normalised spelling (see [`normalise_unit`]).
    pub key: &'static str,
    pub convert: fn(f64) -> f64,
}

macro_rules! unit {
    ($key:literal, $f:expr) => {
        UnitDef {
            key: $key,
            convert: $f,
        }
    };
}

fn same(v: f64) -> f64 {
    v
}

const GLUCOSE: &[UnitDef] = &[unit!("mg/dl", same), unit!("mmol/l", glucose_mg_dl)];
const CHOLESTEROL: &[UnitDef] = &[unit!("mg/dl", same), unit!("mmol/l", cholesterol_mg_dl)];
const TRIGLYCERIDE: &[UnitDef] = &[
    unit!("mg/dl", same),
    unit!("mmol/l", |v| v * TRIGLYCERIDE_MG_DL_PER_MMOL_L),
];
const CREATININE: &[UnitDef] = &[
    unit!("mg/dl", same),
    unit!("umol/l", |v| v / CREATININE_UMOL_L_PER_MG_DL),
];
const HBA1C: &[UnitDef] = &[unit!("%", same), unit!("mmol/mol", hba1c_ifcc_to_ngsp)];
const HBA1C_JDS: &[UnitDef] = &[unit!("%", hba1c_jds_to_ngsp)];
const MASS: &[UnitDef] = &[
    unit!("kg", same),
    unit!("lb", |v| v * KG_PER_LB),
    unit!("g", |v| v / 1000.0),
];
const LENGTH: &[UnitDef] = &[
    unit!("cm", same),
    unit!("m", |v| v * 100.0),
    unit!("in", |v| v * CM_PER_IN),
    unit!("mm", |v| v / 10.0),
];
const BMI: &[UnitDef] = &[unit!("kg/m2", same), unit!("count", same)];
const PRESSURE: &[UnitDef] = &[unit!("mmhg", same)];
const RATE: &[UnitDef] = &[
    unit!("/min", same),
    unit!("count/min", same),
    unit!("beats/min", same),
    unit!("bpm", same),
];
const STEPS: &[UnitDef] = &[
    unit!("/d", same),
    unit!("count", same),
    unit!("steps", same),
];
const SPEED: &[UnitDef] = &[
    unit!("m/s", same),
    unit!("km/h", |v| v / KM_H_PER_M_S),
    unit!("mi/h", |v| v * M_S_PER_MI_H),
];
const EGFR: &[UnitDef] = &[unit!("ml/min/1.73m2", same)];
const FRACTION: &[UnitDef] = &[unit!("1", same), unit!("score", same)];

/// The accepted units of a measure; the first is the canonical one.
pub fn units(m: ClinicalMeasure) -> &'static [UnitDef] {
    match m {
        ClinicalMeasure::FpgMgDl | ClinicalMeasure::GlucoseCasualMgDl => GLUCOSE,
        ClinicalMeasure::TcMgDl | ClinicalMeasure::HdlMgDl | ClinicalMeasure::LdlMgDl => {
            CHOLESTEROL
        }
        ClinicalMeasure::TgMgDl => TRIGLYCERIDE,
        ClinicalMeasure::CreatinineMgDl => CREATININE,
        ClinicalMeasure::Hba1cPct => HBA1C,
        ClinicalMeasure::Hba1cJdsPct => HBA1C_JDS,
        ClinicalMeasure::WeightKg => MASS,
        ClinicalMeasure::HeightCm | ClinicalMeasure::WaistCm => LENGTH,
        ClinicalMeasure::BmiKgM2 => BMI,
        ClinicalMeasure::SbpMmhg | ClinicalMeasure::DbpMmhg => PRESSURE,
        ClinicalMeasure::HeartRateBpm => RATE,
        ClinicalMeasure::StepsPerDay => STEPS,
        ClinicalMeasure::WalkingSpeedMS => SPEED,
        ClinicalMeasure::EgfrMlMin => EGFR,
        ClinicalMeasure::FrailtyIndex => FRACTION,
    }
}

/// Lower case, no spaces, UCUM annotations and brackets folded: `mm[Hg]` → `mmhg`,
/// `[lb_av]` → `lb`, `mL/min/{1.73_m2}` → `ml/min/1.73m2`, `{beats}/min` → `beats/min`,
/// `µmol/L` → `umol/l`, `kg/m^2` → `kg/m2`, `km/hr` → `km/h`.
pub fn normalise_unit(unit: &str, out: &mut String) {
    out.clear();
    for c in unit.chars() {
        match c {
            ' ' | '\t' | '[' | ']' | '{' | '}' | '^' | '(' | ')' => {}
            'µ' | 'μ' => out.push('u'),
            '_' => {}
            c => out.extend(c.to_lowercase()),
        }
    }
    let replaced = match out.as_str() {
        "lb_av" | "lbav" | "lbs" | "pound" | "pounds" => "lb",
        "in_i" | "ini" | "inch" | "inches" => "in",
        "km/hr" | "kph" => "km/h",
        "mi/hr" | "mph" => "mi/h",
        "ml/min/1.73m2" | "ml/min/1.73m²" | "ml/min/173m2" | "ml/minbsa" | "ml/min/bsa" => {
            "ml/min/1.73m2"
        }
        "kg/m²" => "kg/m2",
        "steps/d" | "steps/day" | "/24h" | "steps/24h" => "/d",
        "mg/dl" | "mg/100ml" => "mg/dl",
        "beat/min" | "beats/minute" | "{beats}/min" => "beats/min",
        _ => return,
    };
    out.clear();
    out.push_str(replaced);
}

/// The outcome of normalising one value.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Converted {
    /// Plausible in the declared unit (or in the canonical unit when none was declared).
    Ok(f64),
    /// Implausible as declared but plausible in exactly one other accepted unit.
    Corrected { value: f64, assumed: &'static str },
    /// The declared unit is not one the measure accepts.
    UnknownUnit,
    /// Implausible in every accepted unit (or plausible in more than one other).
    Implausible { canonical: f64 },
}

/// Converts `value` given in `unit` (normalised, empty if missing) into `m`'s canonical unit.
pub fn convert(m: ClinicalMeasure, value: f64, unit_norm: &str) -> Converted {
    let defs = units(m);
    let stored = m.stored();
    if !value.is_finite() {
        return Converted::Implausible { canonical: value };
    }
    let declared = if unit_norm.is_empty() {
        Some(&defs[0])
    } else {
        match defs.iter().find(|d| d.key == unit_norm) {
            Some(d) => Some(d),
            None => return Converted::UnknownUnit,
        }
    };
    let first = declared.map(|d| (d.convert)(value));
    if let Some(v) = first {
        if stored.is_plausible(v) {
            return Converted::Ok(v);
        }
    }
    let mut found: Option<(f64, &'static str)> = None;
    let mut n = 0;
    for d in defs {
        if declared.is_some_and(|x| x.key == d.key) {
            continue;
        }
        let v = (d.convert)(value);
        if stored.is_plausible(v) {
            n += 1;
            found = Some((v, d.key));
        }
    }
    match (n, found) {
        (1, Some((value, assumed))) => Converted::Corrected { value, assumed },
        _ => Converted::Implausible {
            canonical: first.unwrap_or(value),
        },
    }
}

/// Other common units (normalised spellings), shown in the report when a measure does not
/// accept them (`kpa` for a blood pressure).
const OTHER_KNOWN_UNITS: &[&str] = &[
    "kpa", "pa", "u/l", "iu/l", "mu/l", "g/dl", "g/l", "mg/l", "ug/l", "ng/ml", "ng/l", "pg/ml",
    "ug/dl", "meq/l", "mol/l", "umol/l", "nmol/l", "pmol/l", "mmol/mol", "mmol/kg", "ml", "l",
    "dl", "ml/min", "s", "min", "h", "d", "wk", "mo", "a", "10*3/ul", "10*6/ul", "10*9/l",
    "10*12/l", "fl", "pg", "oz", "ft", "cel", "degc", "degf", "kcal", "cal", "j", "kj", "%", "1",
    "ratio", "/h", "/s", "km", "mi", "cm/s", "m", "g", "mg", "ug",
];

/// A (normalised) unit as the report and errors may show it: only one accepted by some
/// measure or in a fixed list of common units, so free text typed into a unit field is never
/// shown. `None`: counted only.
pub fn shown_unit(unit_norm: &str) -> Option<&'static str> {
    ClinicalMeasure::ALL
        .iter()
        .flat_map(|m| units(*m).iter().map(|d| d.key))
        .chain(OTHER_KNOWN_UNITS.iter().copied())
        .find(|k| *k == unit_norm)
}
