//! Units: every value is converted to its measure's canonical unit, and checked against the
//! measure's plausible range. A value that is implausible in its declared (or missing) unit
//! but plausible in exactly one other accepted unit of the measure is taken in that unit and
//! counted as a unit correction (a mmol/L glucose labelled mg/dL, a cholesterol in mmol/L
//! without a unit). Anything else implausible is refused and counted.
//!
//! Conversion factors ([D] = derived from molar masses; [V] = read in the named source):
//! - glucose: 1 mmol/L = 18.016 mg/dL [D] (C6H12O6, 180.16 g/mol)
//! - cholesterol (total, HDL, LDL): 1 mmol/L = 38.67 mg/dL [D] (C27H46O, 386.65 g/mol)
//! - triglyceride: 1 mmol/L = 88.57 mg/dL [D] (as triolein, 885.7 g/mol)
//! - creatinine: 1 mg/dL = 88.42 µmol/L [D] (113.12 g/mol)
//! - HbA1c IFCC → NGSP: NGSP % = 0.09148 × IFCC mmol/mol + 2.152 [V] (NGSP/IFCC master
//!   equation, ngsp.org "IFCC Standardization of HbA1c"; Hoelzel et al., Clin Chem 2004;50:166)
//! - HbA1c JDS → NGSP: NGSP % = 1.02 × JDS % + 0.25 [V] (Japan Diabetes Society 2012
//!   conversion, as published with the MHLW 特定健診 change to NGSP; JDS + 0.4 is its rounding)
//! - mass: 1 lb = 0.45359237 kg (exact); length: 1 in = 2.54 cm (exact); speed: 1 km/h = 1/3.6 m/s
//!
//! Must never: silently accept a value outside the plausible range, or guess between two
//! plausible readings.

use super::measure::Measure;

/// HbA1c JDS (%) → NGSP (%), JDS 2012.
pub fn hba1c_jds_to_ngsp(jds_pct: f64) -> f64 {
    1.02 * jds_pct + 0.25
}

/// HbA1c IFCC (mmol/mol) → NGSP (%), NGSP/IFCC master equation.
pub fn hba1c_ifcc_to_ngsp(ifcc_mmol_mol: f64) -> f64 {
    0.09148 * ifcc_mmol_mol + 2.152
}

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

const GLUCOSE: &[UnitDef] = &[unit!("mg/dl", same), unit!("mmol/l", |v| v * 18.016)];
const CHOLESTEROL: &[UnitDef] = &[unit!("mg/dl", same), unit!("mmol/l", |v| v * 38.67)];
const TRIGLYCERIDE: &[UnitDef] = &[unit!("mg/dl", same), unit!("mmol/l", |v| v * 88.57)];
const CREATININE: &[UnitDef] = &[unit!("mg/dl", same), unit!("umol/l", |v| v / 88.42)];
const HBA1C: &[UnitDef] = &[unit!("%", same), unit!("mmol/mol", hba1c_ifcc_to_ngsp)];
const HBA1C_JDS: &[UnitDef] = &[unit!("%", hba1c_jds_to_ngsp)];
const MASS: &[UnitDef] = &[
    unit!("kg", same),
    unit!("lb", |v| v * 0.453_592_37),
    unit!("g", |v| v / 1000.0),
];
const LENGTH: &[UnitDef] = &[
    unit!("cm", same),
    unit!("m", |v| v * 100.0),
    unit!("in", |v| v * 2.54),
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
    unit!("km/h", |v| v / 3.6),
    unit!("mi/h", |v| v * 0.44704),
];
const EGFR: &[UnitDef] = &[unit!("ml/min/1.73m2", same)];
const FRACTION: &[UnitDef] = &[unit!("1", same), unit!("score", same)];

/// The accepted units of a measure; the first is the canonical one.
pub fn units(m: Measure) -> &'static [UnitDef] {
    match m {
        Measure::FpgMgDl | Measure::GlucoseCasualMgDl => GLUCOSE,
        Measure::TcMgDl | Measure::HdlMgDl | Measure::LdlMgDl => CHOLESTEROL,
        Measure::TgMgDl => TRIGLYCERIDE,
        Measure::CreatinineMgDl => CREATININE,
        Measure::Hba1cPct => HBA1C,
        Measure::Hba1cJdsPct => HBA1C_JDS,
        Measure::WeightKg => MASS,
        Measure::HeightCm | Measure::WaistCm => LENGTH,
        Measure::BmiKgM2 => BMI,
        Measure::SbpMmhg | Measure::DbpMmhg => PRESSURE,
        Measure::HeartRateBpm => RATE,
        Measure::StepsPerDay => STEPS,
        Measure::WalkingSpeedMS => SPEED,
        Measure::EgfrMlMin => EGFR,
        Measure::FrailtyIndex => FRACTION,
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
pub fn convert(m: Measure, value: f64, unit_norm: &str) -> Converted {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(u: &str) -> String {
        let mut s = String::new();
        normalise_unit(u, &mut s);
        s
    }

    #[test]
    fn published_conversions() {
        // JDS 6.1 % (the old JDS diabetes cut-off) ↔ NGSP 6.5 % (JDS 2012).
        assert!((hba1c_jds_to_ngsp(6.1) - 6.472).abs() < 1e-12);
        // IFCC 48 mmol/mol ≈ NGSP 6.5 %.
        assert!((hba1c_ifcc_to_ngsp(48.0) - 6.543).abs() < 1e-3);
        assert_eq!(
            convert(Measure::FpgMgDl, 5.5, &norm("mmol/L")),
            Converted::Ok(5.5 * 18.016)
        );
        assert_eq!(
            convert(Measure::WeightKg, 150.0, &norm("[lb_av]")),
            Converted::Ok(150.0 * 0.453_592_37)
        );
        assert_eq!(
            convert(Measure::SbpMmhg, 128.0, &norm("mm[Hg]")),
            Converted::Ok(128.0)
        );
        assert_eq!(
            convert(Measure::EgfrMlMin, 71.0, &norm("mL/min/{1.73_m2}")),
            Converted::Ok(71.0)
        );
        assert_eq!(
            convert(Measure::Hba1cJdsPct, 6.1, "%"),
            Converted::Ok(hba1c_jds_to_ngsp(6.1))
        );
    }

    #[test]
    fn wrong_units_are_detected_by_plausibility() {
        // A mmol/L glucose labelled mg/dL.
        match convert(Measure::FpgMgDl, 5.6, "mg/dl") {
            Converted::Corrected { value, assumed } => {
                assert_eq!(assumed, "mmol/l");
                assert!((value - 100.89).abs() < 0.01);
            }
            other => panic!("{other:?}"),
        }
        // A cholesterol without a unit, in mmol/L.
        assert!(matches!(
            convert(Measure::LdlMgDl, 3.1, ""),
            Converted::Corrected { .. }
        ));
        // Plausible in the declared unit: never second-guessed.
        assert_eq!(
            convert(Measure::WeightKg, 154.0, "kg"),
            Converted::Ok(154.0)
        );
        // Impossible in every unit.
        assert!(matches!(
            convert(Measure::SbpMmhg, 1200.0, "mmhg"),
            Converted::Implausible { .. }
        ));
        assert_eq!(
            convert(Measure::SbpMmhg, 120.0, "kpa"),
            Converted::UnknownUnit
        );
        assert!(matches!(
            convert(Measure::HeartRateBpm, f64::NAN, ""),
            Converted::Implausible { .. }
        ));
    }
}
