//! The code map: which source code means which measure or flag. The map is data
//! (`cohort/data/code_map.csv`, embedded), optionally extended at run time with rows in the
//! same layout (`--codes FILE`), so adding a local lab code or a HOT9 product needs no Rust.
//!
//! Must never: guess a mapping that is not in the map, or report a code longer or stranger
//! than a code (see [`safe_code`]) so a free-text field in a code slot cannot leak.

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
#[error("code map {source_name}, line {line}: {message}")]
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
                    "expected system,match,code,target[,answer,status,source]".into(),
                ));
            }
            let system = System::parse(cols[0])
                .ok_or_else(|| err(format!("unknown system `{}`", cols[0])))?;
            let exact = match cols[1] {
                "exact" => true,
                "prefix" => false,
                other => return Err(err(format!("match must be exact or prefix, not `{other}`"))),
            };
            let code = normalise_code(system, cols[2]);
            if code.is_empty() {
                return Err(err("empty code".into()));
            }
            let target = parse_target(cols[3])
                .ok_or_else(|| err(format!("unknown target `{}`", cols[3])))?;
            let answer = match cols.get(4).copied().unwrap_or("") {
                "" => None,
                "jp_yes_no" => Some(Answer::JpYesNo),
                other => return Err(err(format!("unknown answer kind `{other}`"))),
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

/// A code as it may appear in the quality report: at most 40 characters from a conservative
/// alphabet. Anything else (a name typed into a code field, free text) is replaced.
pub fn safe_code(code: &str) -> String {
    let code = code.trim();
    let ok = !code.is_empty()
        && code.len() <= 40
        && code
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ':' | '/' | '|'));
    if ok {
        code.to_string()
    } else {
        "<not a code: withheld>".to_string()
    }
}
