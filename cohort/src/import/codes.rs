//! The code map: which source code means which measure or flag. The map is data
//! (`cohort/data/code_map.csv`, embedded), optionally extended at run time with rows in the
//! same layout (`--codes FILE`), so adding a local lab code or a HOT9 product needs no Rust.
//!
//! Must never: guess a mapping that is not in the map, or report a code that does not have
//! its code system's syntax (see [`shown_code`]), so free text in a code slot cannot leak.

use std::collections::HashMap;

use super::measure::{ClinicalMeasure, Flag};

/// The embedded default map.
pub const DEFAULT_MAP: &str = include_str!("../../data/code_map.csv");

/// A code system after resolving URIs, OMOP columns and CSV prefixes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum System {
    Jlac10,
    Loinc,
    Icd10,
    Yj,
    Hot9,
    Atc,
    OmopMeasurement,
    OmopCondition,
    Snomed,
}

impl System {
    pub const ALL: [System; 9] = [
        System::Jlac10,
        System::Loinc,
        System::Icd10,
        System::Yj,
        System::Hot9,
        System::Atc,
        System::OmopMeasurement,
        System::OmopCondition,
        System::Snomed,
    ];

    pub fn name(self) -> &'static str {
        match self {
            System::Jlac10 => "jlac10",
            System::Loinc => "loinc",
            System::Icd10 => "icd10",
            System::Yj => "yj",
            System::Hot9 => "hot9",
            System::Atc => "atc",
            System::OmopMeasurement => "omop_measurement",
            System::OmopCondition => "omop_condition",
            System::Snomed => "snomed",
        }
    }

    pub fn parse(s: &str) -> Option<System> {
        System::ALL.iter().copied().find(|x| x.name() == s)
    }

    /// A FHIR `coding.system` URI. JLAC10, YJ and HOT9 are accepted in both the OID and the
    /// URL form (JP Core aliases; JP-CLINS accepts only the OID form for JLAC10).
    pub fn from_fhir_uri(uri: &str) -> Option<System> {
        Some(match uri {
            "urn:oid:1.2.392.200119.4.504"
            | "http://medis.or.jp/CodeSystem/master-JLAC10-17digits" => System::Jlac10,
            "http://loinc.org" => System::Loinc,
            "http://jpfhir.jp/fhir/core/mhlw/CodeSystem/ICD10-2013-full"
            | "http://hl7.org/fhir/sid/icd-10"
            | "http://hl7.org/fhir/sid/icd-10-cm" => System::Icd10,
            "http://capstandard.jp/iyaku.info/CodeSystem/YJ-code"
            | "urn:oid:1.2.392.100495.20.1.73"
            | "urn:oid:1.2.392.100495.20.2.73" => System::Yj,
            "http://medis.or.jp/CodeSystem/master-HOT9" | "urn:oid:1.2.392.200119.4.403.1" => {
                System::Hot9
            }
            "http://www.whocc.no/atc" => System::Atc,
            "http://snomed.info/sct" => System::Snomed,
            _ => return None,
        })
    }
}

/// What a code stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    Measure(ClinicalMeasure),
    Flag(Flag),
    /// LOINC 85354-9: read the systolic / diastolic components.
    BpPanel,
    /// A coded answer meaning "smokes" / "does not smoke".
    SmokerAnswer(bool),
    /// Known and deliberately unused.
    Ignore,
}

/// How a coded questionnaire answer becomes a yes/no.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answer {
    /// 特定健診 questionnaire: 1 = はい (yes), 2 = いいえ (no).
    JpYesNo,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Mapping {
    pub target: Target,
    pub answer: Option<Answer>,
}

/// Exact and prefix rows per system.
#[derive(Clone, Debug, Default)]
pub struct CodeMap {
    /// Indexed by `System as usize`; keyed by the normalised code (probed with `&str`).
    exact: [HashMap<String, Vec<Mapping>>; 9],
    prefix: [HashMap<String, Vec<Mapping>>; 9],
    longest_prefix: usize,
}

#[derive(Debug, thiserror::Error)]
#[error("{source_name}, line {line}: {message}")]
pub struct CodeMapError {
    pub source_name: String,
    pub line: usize,
    pub message: String,
}

impl CodeMap {
    /// The embedded map.
    pub fn embedded() -> CodeMap {
        let mut m = CodeMap::default();
        m.extend_from_str(DEFAULT_MAP, "cohort/data/code_map.csv")
            .expect("the embedded code map is valid (tested)");
        m
    }

    /// Adds rows in the map's CSV layout (comments start with `#`; the header row is skipped).
    pub fn extend_from_str(&mut self, text: &str, source_name: &str) -> Result<(), CodeMapError> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        for (i, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') || line.starts_with("system,") {
                continue;
            }
            let err = |message: String| CodeMapError {
                source_name: source_name.to_string(),
                line: i + 1,
                message,
            };
            // The last column (source) may hold commas.
            let cols: Vec<&str> = line.splitn(7, ',').map(str::trim).collect();
            if cols.len() < 4 {
                return Err(err(
                    "expected the columns system,match,code,target[,answer,status,source]".into(),
                ));
            }
            // Errors name the column, never its content: a file given by mistake (a patient
            // list) would otherwise have its first field printed.
            let system = System::parse(cols[0]).ok_or_else(|| {
                err(
                    "column `system`: not a code system of the map (jlac10, loinc, icd10, yj, \
                     hot9, atc, omop_measurement, omop_condition, snomed)"
                        .into(),
                )
            })?;
            let exact = match cols[1] {
                "exact" => true,
                "prefix" => false,
                _ => return Err(err("column `match`: must be exact or prefix".into())),
            };
            let code = normalise_code(system, cols[2]);
            if code.is_empty() {
                return Err(err("column `code`: empty".into()));
            }
            let target = parse_target(cols[3]).ok_or_else(|| {
                err("column `target`: not a measure or flag name (docs/data.md)".into())
            })?;
            let answer = match cols.get(4).copied().unwrap_or("") {
                "" => None,
                "jp_yes_no" => Some(Answer::JpYesNo),
                _ => return Err(err("column `answer`: must be empty or jp_yes_no".into())),
            };
            let mapping = Mapping { target, answer };
            if exact {
                self.exact[system as usize]
                    .entry(code)
                    .or_default()
                    .push(mapping);
            } else {
                self.longest_prefix = self.longest_prefix.max(code.len());
                self.prefix[system as usize]
                    .entry(code)
                    .or_default()
                    .push(mapping);
            }
        }
        Ok(())
    }

    /// Every mapping of a code: its exact rows, then its prefix rows from longest to shortest.
    /// Allocation-free for ASCII codes up to 64 bytes.
    pub fn lookup(&self, system: System, code: &str, out: &mut Vec<Mapping>) {
        out.clear();
        let mut buf = [0u8; 64];
        let norm = normalise_into(system, code, &mut buf);
        let Some(norm) = norm else {
            let owned = normalise_code(system, code);
            self.lookup_normalised(system, &owned, out);
            return;
        };
        self.lookup_normalised(system, norm, out);
    }

    fn lookup_normalised(&self, system: System, code: &str, out: &mut Vec<Mapping>) {
        if let Some(v) = self.exact[system as usize].get(code) {
            out.extend_from_slice(v);
        }
        let prefix = &self.prefix[system as usize];
        if prefix.is_empty() {
            return;
        }
        let max = code.len().min(self.longest_prefix);
        for len in (1..=max).rev() {
            if !code.is_char_boundary(len) {
                continue;
            }
            if let Some(v) = prefix.get(&code[..len]) {
                out.extend_from_slice(v);
            }
        }
    }

    pub fn len(&self) -> usize {
        self.exact
            .iter()
            .chain(self.prefix.iter())
            .flat_map(|m| m.values())
            .map(Vec::len)
            .sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn parse_target(s: &str) -> Option<Target> {
    Some(match s {
        "bp_panel" => Target::BpPanel,
        "ignore" => Target::Ignore,
        "smoker_yes" => Target::SmokerAnswer(true),
        "smoker_no" => Target::SmokerAnswer(false),
        other => {
            if let Some(m) = ClinicalMeasure::parse(other) {
                Target::Measure(m)
            } else {
                Target::Flag(Flag::parse(other)?)
            }
        }
    })
}

/// ICD-10 without dots and in upper case; everything else trimmed.
pub fn normalise_code(system: System, code: &str) -> String {
    let code = code.trim();
    match system {
        System::Icd10 | System::Jlac10 | System::Atc | System::Yj => code
            .chars()
            .filter(|c| *c != '.')
            .map(|c| c.to_ascii_uppercase())
            .collect(),
        _ => code.to_string(),
    }
}

fn normalise_into<'a>(system: System, code: &str, buf: &'a mut [u8; 64]) -> Option<&'a str> {
    let code = code.trim();
    if code.len() > buf.len() || !code.is_ascii() {
        return None;
    }
    let upper = matches!(
        system,
        System::Icd10 | System::Jlac10 | System::Atc | System::Yj
    );
    let mut n = 0;
    for &b in code.as_bytes() {
        if upper && b == b'.' {
            continue;
        }
        buf[n] = if upper { b.to_ascii_uppercase() } else { b };
        n += 1;
    }
    std::str::from_utf8(&buf[..n]).ok()
}

/// An unmapped code as the quality report and errors may show it: normalised, and only if
/// it has the syntax of its code system — with the check digit where the system has one — so
/// a name or free text typed into a code field (`YAMADA-TARO`) can never be shown, however
/// short. `None`: the code is only counted. Systems without a syntax (plain-CSV items, OMOP
/// drug source values, systems not in the map) are never shown.
///
/// | system | shown when |
/// |---|---|
/// | `loinc` | 1–7 digits, `-`, the LOINC (Luhn mod 10) check digit |
/// | `jlac10` | 17 characters: digit, letter, 15 digits (analyte 5 + identification 4 + material 3 + method 3 + result 2) |
/// | `icd10` | letter, digit, digit or letter, up to 4 more digits or letters of which at most 2 letters (dots ignored) |
/// | `yj` | 7 digits, a letter or digit, 4 digits |
/// | `hot9` | 9 digits |
/// | `atc` | a valid ATC level 1–5 code (`C10AA05`) |
/// | `snomed` | 6–18 digits with a valid partition and Verhoeff check digit |
/// | `omop_*` | a concept id: 1–10 digits |
pub fn shown_code(system: &str, code: &str) -> Option<String> {
    let code = code.trim();
    if code.is_empty() {
        return Some("(no code)".to_string());
    }
    let norm = match System::parse(system) {
        Some(s) => normalise_code(s, code),
        None => code.to_string(),
    };
    let ok = match system {
        "loinc" => is_loinc(&norm),
        "jlac10" => is_jlac10(&norm),
        "icd10" => is_icd10(&norm),
        "yj" => is_yj(&norm),
        "hot9" => norm.len() == 9 && all_digits(&norm),
        "atc" => is_atc(&norm),
        "snomed" => is_snomed(&norm),
        "omop_measurement" | "omop_condition" | "omop_drug" => {
            (1..=10).contains(&norm.len()) && all_digits(&norm)
        }
        _ => false,
    };
    ok.then_some(norm)
}

fn all_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// Luhn (mod 10) check digit of a digit string, as LOINC uses it.
fn luhn_check_digit(digits: &str) -> u32 {
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            if i % 2 == 0 {
                let x = 2 * d;
                x / 10 + x % 10
            } else {
                d
            }
        })
        .sum();
    (10 - sum % 10) % 10
}

fn is_loinc(s: &str) -> bool {
    let Some((num, check)) = s.split_once('-') else {
        return false;
    };
    (1..=7).contains(&num.len())
        && all_digits(num)
        && check.len() == 1
        && all_digits(check)
        && luhn_check_digit(num) == u32::from(check.as_bytes()[0] - b'0')
}

fn is_jlac10(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 17
        && b[0].is_ascii_digit()
        && b[1].is_ascii_uppercase()
        && b[2..].iter().all(u8::is_ascii_digit)
}

fn is_icd10(s: &str) -> bool {
    let b = s.as_bytes();
    (3..=7).contains(&b.len())
        && b[0].is_ascii_uppercase()
        && b[1].is_ascii_digit()
        && (b[2].is_ascii_digit() || b[2].is_ascii_uppercase())
        && b[3..]
            .iter()
            .all(|c| c.is_ascii_digit() || c.is_ascii_uppercase())
        && b[3..].iter().filter(|c| c.is_ascii_uppercase()).count() <= 2
}

fn is_yj(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 12
        && b[..7].iter().all(u8::is_ascii_digit)
        && (b[7].is_ascii_digit() || b[7].is_ascii_uppercase())
        && b[8..].iter().all(u8::is_ascii_digit)
}

fn is_atc(s: &str) -> bool {
    // A10 / A10B / A10BA / A10BA02: letter, 2 digits, letter, letter, 2 digits.
    let b = s.as_bytes();
    let shape: [fn(&u8) -> bool; 7] = [
        u8::is_ascii_uppercase,
        u8::is_ascii_digit,
        u8::is_ascii_digit,
        u8::is_ascii_uppercase,
        u8::is_ascii_uppercase,
        u8::is_ascii_digit,
        u8::is_ascii_digit,
    ];
    matches!(b.len(), 1 | 3 | 4 | 5 | 7) && b.iter().zip(shape).all(|(c, f)| f(c))
}

fn is_snomed(s: &str) -> bool {
    if !(6..=18).contains(&s.len()) || !all_digits(s) || s.starts_with('0') {
        return false;
    }
    // The two digits before the check digit are the partition identifier.
    let partition = &s[s.len() - 3..s.len() - 1];
    matches!(partition, "00" | "01" | "02" | "10" | "11" | "12") && verhoeff_valid(s)
}

/// Verhoeff check (SNOMED CT identifiers end in a Verhoeff check digit).
fn verhoeff_valid(digits: &str) -> bool {
    const D: [[u8; 10]; 10] = [
        [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
        [1, 2, 3, 4, 0, 6, 7, 8, 9, 5],
        [2, 3, 4, 0, 1, 7, 8, 9, 5, 6],
        [3, 4, 0, 1, 2, 8, 9, 5, 6, 7],
        [4, 0, 1, 2, 3, 9, 5, 6, 7, 8],
        [5, 9, 8, 7, 6, 0, 4, 3, 2, 1],
        [6, 5, 9, 8, 7, 1, 0, 4, 3, 2],
        [7, 6, 5, 9, 8, 2, 1, 0, 4, 3],
        [8, 7, 6, 5, 9, 3, 2, 1, 0, 4],
        [9, 8, 7, 6, 5, 4, 3, 2, 1, 0],
    ];
    const P: [[u8; 10]; 8] = [
        [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
        [1, 5, 7, 6, 2, 8, 3, 0, 9, 4],
        [5, 8, 0, 3, 7, 9, 6, 1, 4, 2],
        [8, 9, 1, 6, 0, 4, 3, 5, 2, 7],
        [9, 4, 5, 3, 1, 2, 6, 8, 7, 0],
        [4, 2, 8, 6, 5, 7, 3, 9, 0, 1],
        [2, 7, 9, 3, 8, 0, 6, 4, 1, 5],
        [7, 0, 4, 6, 9, 1, 3, 2, 5, 8],
    ];
    let mut c = 0u8;
    for (i, b) in digits.bytes().rev().enumerate() {
        c = D[usize::from(c)][usize::from(P[i % 8][usize::from(b - b'0')])];
    }
    c == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_of_the_embedded_map_has_its_systems_syntax() {
        for line in DEFAULT_MAP.lines() {
            let cols: Vec<&str> = line.splitn(4, ',').collect();
            if line.starts_with('#') || line.starts_with("system,") || cols.len() < 4 {
                continue;
            }
            // Prefix rows are partial codes; only exact rows must pass in full.
            if cols[1] == "exact" {
                assert!(shown_code(cols[0], cols[2]).is_some(), "{line}");
            }
        }
        for (system, code) in [
            ("jlac10", "3D046000001906202"),
            ("jlac10", "3C015161002399949"),
            ("icd10", "E11.9"),
            ("icd10", "I25.2"),
            ("icd10", "S72.001A"),
            ("yj", "3962002F1029"),
            ("atc", "C10AA05"),
            ("atc", "A10"),
            ("hot9", "123456701"),
        ] {
            assert!(shown_code(system, code).is_some(), "{system} {code}");
        }
    }

    #[test]
    fn free_text_in_a_code_field_is_never_shown() {
        for (system, code) in [
            ("loinc", "YAMADA-TARO"),
            ("loinc", "4548-5"), // wrong check digit
            ("loinc", "山田太郎"),
            ("jlac10", "YAMADATAROXXXXXXX"),
            ("jlac10", "ABE00000000000000"),
            ("icd10", "TARO"),
            ("icd10", "E11TARO"),
            ("snomed", "73519001"),
            ("atc", "TARO"),
            ("yj", "YAMADA-TARO1"),
            ("csv_item", "alt_u_l"),
            ("csv_item", "yamada_taro"),
            ("drug_source_value", "アムロジピン 山田"),
            ("(other system)", "4548-4"),
        ] {
            assert_eq!(shown_code(system, code), None, "{system} {code}");
        }
        assert_eq!(shown_code("icd10", "e11.9").as_deref(), Some("E119"));
    }
}
