//! Cohort import from EMR and PHR data: FHIR R4 (Bulk NDJSON and Bundles, JP Core codes),
//! OMOP CDM v5.4 CSV, Apple Health `export.xml` and a documented plain CSV (docs/data.md).
//!
//! Data flow: a format module ([`fhir`], [`omop`], [`apple`], [`plain`]) streams records and
//! hands each to the [`Importer`], which pseudonymises the person ([`pseudo`]), maps the code
//! ([`codes`]), converts and checks the unit ([`units`]), keeps what the baseline needs in a
//! fixed-size per-person accumulator and appends the value to an on-disk spill of fixed
//! 20-byte records. [`Importer::finish`] picks baseline values at the index date, derives and
//! imputes, sorts the spill externally (bounded memory) into the history and fills the
//! quality report ([`quality`]).
//!
//! Memory: O(people) — about 400 bytes per person plus the hash index — and O(1) in the
//! number of records: each record is parsed, folded into its person's accumulator and
//! spilled; the history is sorted in runs of `sort_run_records` records (24 bytes each in
//! memory) and merged from disk.
//!
//! Must never: keep or print a raw identifier (only pseudonyms leave the [`Importer`]), drop
//! a record without counting it, write a baseline value outside `file::PLAUSIBLE`, or panic
//! on any input.

pub mod apple;
pub mod codes;
pub mod csvutil;
pub mod date;
pub mod fhir;
pub mod measure;
pub mod omop;
pub mod plain;
pub mod pseudo;
pub mod quality;
pub mod units;

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, HashMap};
use std::fs::{self, File};
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use engine::{Baseline, Conditions, Covariates, Sex, Treatments};

use crate::japan;
use codes::{CodeMap, Mapping, System, Target};
use measure::{Flag, Measure};
use pseudo::Pseudonymiser;
use quality::{ErrorStats, FieldStats, InputStats, Quality, Tally, MAX_ERRORS_LISTED};
use units::Converted;

/// Where a record came from, for errors and the quality report.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum Format {
    Fhir = 0,
    Omop = 1,
    Apple = 2,
    Csv = 3,
}

impl Format {
    pub fn name(self) -> &'static str {
        match self {
            Format::Fhir => "fhir",
            Format::Omop => "omop",
            Format::Apple => "apple",
            Format::Csv => "csv",
        }
    }
    fn from_index(i: u8) -> Format {
        match i {
            0 => Format::Fhir,
            1 => Format::Omop,
            2 => Format::Apple,
            _ => Format::Csv,
        }
    }
}

/// How missing baseline covariates are filled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Impute {
    /// The Japanese sex- and age-specific mean of the synthetic cohort's tables
    /// (`cohort::japan`); smoking false. Marked in the `imputed_*` columns.
    Mean,
    /// People missing any covariate are excluded (counted).
    None,
}

#[derive(Clone, Debug)]
pub struct ImportOptions {
    /// Days since 1970-01-01 of the index date.
    pub index_day: i32,
    /// Measures, questionnaire answers: latest value in [index − lookback, index].
    pub lookback_days: u32,
    /// Medication records: a dispensing, prescription or statement in
    /// [index − rx_window, index], or a period covering the index date.
    pub rx_window_days: u32,
    /// Steps: mean of daily totals in [index − steps_window, index].
    pub steps_window_days: u32,
    pub strict: bool,
    pub impute: Impute,
    /// Included ages at the index date (inclusive).
    pub age_min: f64,
    pub age_max: f64,
    /// Folder for the spill files (the output folder: same disk, removed at the end).
    pub spill_dir: PathBuf,
    /// Records per in-memory sort run of the history (24 bytes each).
    pub sort_run_records: usize,
}

impl ImportOptions {
    pub fn new(index_day: i32, spill_dir: PathBuf) -> ImportOptions {
        ImportOptions {
            index_day,
            lookback_days: 365,
            rx_window_days: 180,
            steps_window_days: 90,
            strict: false,
            impute: Impute::Mean,
            age_min: 0.0,
            age_max: 120.0,
            spill_dir,
            sort_run_records: 4_000_000,
        }
    }
}

/// One refused record. Names the file, line (or record number) and field; identifies the
/// person by pseudonym only.
#[derive(Clone, Debug, PartialEq)]
pub struct RecordError {
    pub file: String,
    /// `line` (NDJSON, CSV, XML), `entry` (FHIR Bundle) or `record`.
    pub what: &'static str,
    pub line: u64,
    pub field: String,
    pub kind: &'static str,
    pub message: String,
    pub pseudonym: Option<String>,
}

impl std::fmt::Display for RecordError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}, {} {}: `{}`: {}",
            self.file, self.what, self.line, self.field, self.message
        )?;
        if let Some(p) = &self.pseudonym {
            write!(f, " (person {p})")?;
        }
        Ok(())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// `--strict`: the first refused record.
    #[error("{0} [--strict stops at the first refused record]")]
    Strict(Box<RecordError>),
    #[error("{path}: {message}")]
    Io { path: String, message: String },
    #[error("{0}")]
    Input(String),
}

pub(crate) fn io_err(path: &Path, e: &io::Error) -> ImportError {
    ImportError::Io {
        path: path.display().to_string(),
        message: e.kind().to_string(),
    }
}

/// Where a record sits in its file.
#[derive(Clone, Copy, Debug)]
pub struct At<'a> {
    pub input: usize,
    pub file: &'a str,
    /// `line`, `entry` or `record`.
    pub what: &'static str,
    pub line: u64,
}

/// The baseline slots: the latest value on or before the index date in the look-back window.
const SLOTS: [Measure; 14] = [
    Measure::BmiKgM2,
    Measure::WeightKg,
    Measure::HeightCm,
    Measure::FpgMgDl,
    Measure::Hba1cPct,
    Measure::SbpMmhg,
    Measure::DbpMmhg,
    Measure::TcMgDl,
    Measure::HdlMgDl,
    Measure::LdlMgDl,
    Measure::TgMgDl,
    Measure::CreatinineMgDl,
    Measure::EgfrMlMin,
    Measure::FrailtyIndex,
];

fn slot_of(m: Measure) -> Option<usize> {
    SLOTS.iter().position(|s| *s == m)
}

const NONE_MINUTE: i32 = i32::MIN;

#[derive(Clone, Copy, Debug)]
struct Slot {
    minute: i32,
    sum: f64,
    n: u32,
}

impl Slot {
    const EMPTY: Slot = Slot {
        minute: NONE_MINUTE,
        sum: 0.0,
        n: 0,
    };
    fn value(&self) -> Option<f64> {
        (self.n > 0).then(|| self.sum / f64::from(self.n))
    }
}

/// What the baseline needs of one person: fixed size, whatever the number of records.
#[derive(Clone, Debug)]
struct PersonAcc {
    pseudonym: [u8; 16],
    sex: Option<Sex>,
    birth_day: Option<i32>,
    death_day: Option<i32>,
    has_demographics: bool,
    opt_out: bool,
    /// `None`: no observation-period data; `Some(covers the index date)`.
    observed_at_index: Option<bool>,
    slots: [Slot; SLOTS.len()],
    steps_sum: f64,
    steps_days: u32,
    smoker: Option<(i32, bool)>,
    conditions: Conditions,
    treatments: Treatments,
    first_minute: i32,
    last_minute: i32,
    sources: u8,
}

impl PersonAcc {
    fn new(pseudonym: [u8; 16]) -> PersonAcc {
        PersonAcc {
            pseudonym,
            sex: None,
            birth_day: None,
            death_day: None,
            has_demographics: false,
            opt_out: false,
            observed_at_index: None,
            slots: [Slot::EMPTY; SLOTS.len()],
            steps_sum: 0.0,
            steps_days: 0,
            smoker: None,
            conditions: Conditions::default(),
            treatments: Treatments::default(),
            first_minute: i32::MAX,
            last_minute: i32::MIN,
            sources: 0,
        }
    }
}

/// One imported person, ready for the cohort file.
#[derive(Clone, Debug, PartialEq)]
pub struct ImportedPerson {
    pub pseudo_id: String,
    /// `id` is the dense row index (people are ordered by pseudonym).
    pub baseline: Baseline,
    /// Per baseline covariate (`Covariates::CONTINUOUS` order, then smoker): imputed?
    pub imputed: [bool; 12],
    /// Days from the index date to the first and last dated record of any kind.
    pub first_record_days: i32,
    pub last_record_days: i32,
    /// Formats that contributed (`fhir+apple`).
    pub sources: String,
    pub history_rows: u64,
}

/// One row of the longitudinal history.
#[derive(Clone, Debug, PartialEq)]
pub struct HistoryRow {
    pub patient_id: u64,
    pub measure: &'static str,
    pub unit: &'static str,
    /// Minutes from the index date (local wall-clock time; 0:00 when no time was given).
    pub minute: i32,
    pub age_years: f64,
    pub value: f64,
    pub source: &'static str,
}

impl HistoryRow {
    pub fn days_from_index(&self) -> i32 {
        self.minute.div_euclid(1440)
    }
}

/// The importer: feed it records from any number of inputs, then [`Importer::finish`].
pub struct Importer {
    pub opts: ImportOptions,
    codes: CodeMap,
    pseudo: Pseudonymiser,
    index: HashMap<[u8; 16], u32>,
    people: Vec<PersonAcc>,
    spill: Spill,
    q: Quality,
    tally: Tally,
    unit_buf: String,
    rec: RecordOutcome,
}

#[derive(Clone, Copy, Debug, Default)]
struct RecordOutcome {
    error: bool,
    mapped: bool,
    unmapped: bool,
    ignored: bool,
}

/// A source value handed to [`Importer::apply`].
#[derive(Clone, Copy, Debug)]
pub enum Val<'a> {
    Num(f64),
    /// A coded answer (`1`, a SNOMED code, …) with its system if known.
    Code(Option<System>, &'a str),
    Bool(bool),
    Missing,
}

/// A measure kept in the history: by stored measure index, or a flag event (100 + flag).
const FLAG_CODE_BASE: u8 = 100;

impl Importer {
    pub fn new(
        opts: ImportOptions,
        codes: CodeMap,
        pseudo: Pseudonymiser,
    ) -> Result<Importer, ImportError> {
        let spill = Spill::create(&opts.spill_dir)?;
        let q = Quality {
            healthtwin_version: env!("CARGO_PKG_VERSION").to_string(),
            index_date: date::format_day(opts.index_day),
            lookback_days: opts.lookback_days,
            rx_window_days: opts.rx_window_days,
            steps_window_days: opts.steps_window_days,
            strict: opts.strict,
            imputation: match opts.impute {
                Impute::Mean => "Japanese sex- and age-specific mean".into(),
                Impute::None => "none (people missing a covariate are excluded)".into(),
            },
            pseudonym_key_demo: pseudo.is_demo(),
            pseudonym_key_fingerprint: pseudo.fingerprint().to_string(),
            ..Quality::default()
        };
        Ok(Importer {
            opts,
            codes,
            pseudo,
            index: HashMap::new(),
            people: Vec::new(),
            spill,
            q,
            tally: Tally::default(),
            unit_buf: String::new(),
            rec: RecordOutcome::default(),
        })
    }

    pub fn codes(&self) -> &CodeMap {
        &self.codes
    }

    /// Registers an input file; returns its index for [`At::input`].
    pub fn add_input(&mut self, format: Format, file: &str, bytes: u64) -> usize {
        self.q.inputs.push(InputStats {
            format: format.name().to_string(),
            file: file.to_string(),
            bytes,
            ..InputStats::default()
        });
        self.q.inputs.len() - 1
    }

    pub fn input_stats(&self, input: usize) -> &InputStats {
        &self.q.inputs[input]
    }

    fn stats(&mut self, at: At) -> &mut InputStats {
        &mut self.q.inputs[at.input]
    }

    /// Starts one record read, of a kind (resource type, table, record type). Every
    /// record must be closed with [`Importer::end`], which files it under exactly one of
    /// error, mapped, unmapped or ignored.
    pub fn read(&mut self, at: At, kind: &str) {
        self.rec = RecordOutcome::default();
        let s = self.stats(at);
        s.records_read += 1;
        if let Some(n) = s.kinds.get_mut(kind) {
            *n += 1;
        } else {
            s.kinds.insert(kind.to_string(), 1);
        }
    }

    /// Closes the current record.
    pub fn end(&mut self, at: At) {
        let r = std::mem::take(&mut self.rec);
        let s = self.stats(at);
        if r.error {
            s.errors += 1;
        } else if r.mapped {
            s.mapped += 1;
        } else if r.unmapped {
            s.unmapped += 1;
        } else {
            s.ignored += 1;
        }
    }

    /// Marks the current record as used.
    pub fn mark_mapped(&mut self) {
        self.rec.mapped = true;
    }

    /// Marks the current record as deliberately unused (also the default at [`Importer::end`]).
    pub fn mark_ignored(&mut self) {
        self.rec.ignored = true;
    }

    /// A code with no row in the map. In `--strict` mode this refuses the record.
    pub fn unmapped(&mut self, at: At, system: &str, code: &str) -> Result<(), ImportError> {
        if self.opts.strict {
            return self.error(
                at,
                "code",
                "unmapped_code",
                format!(
                    "{system} code `{}` is not in the code map",
                    codes::safe_code(code)
                ),
                None,
            );
        }
        self.rec.unmapped = true;
        let key = (system.to_string(), codes::safe_code(code));
        *self.tally.unmapped.entry(key).or_insert(0) += 1;
        Ok(())
    }

    /// A refused record: an error in `--strict` mode, else counted and listed.
    pub fn error(
        &mut self,
        at: At,
        field: &str,
        kind: &'static str,
        message: impl Into<String>,
        person: Option<u32>,
    ) -> Result<(), ImportError> {
        let e = RecordError {
            file: at.file.to_string(),
            what: at.what,
            line: at.line,
            field: field.to_string(),
            kind,
            message: message.into(),
            pseudonym: person.map(|p| pseudo::pseudonym_text(&self.people[p as usize].pseudonym)),
        };
        if self.opts.strict {
            return Err(ImportError::Strict(Box::new(e)));
        }
        self.rec.error = true;
        let errs: &mut ErrorStats = &mut self.q.errors;
        errs.total += 1;
        *errs.by_kind.entry(kind.to_string()).or_insert(0) += 1;
        if errs.first.len() < MAX_ERRORS_LISTED {
            errs.first.push(e.to_string());
        }
        Ok(())
    }

    /// The person behind a raw identifier (created on first sight). The raw id is hashed
    /// at once and never stored.
    pub fn person(&mut self, raw_id: &str) -> u32 {
        let p = self.pseudo.pseudonym(raw_id);
        if let Some(&i) = self.index.get(&p) {
            return i;
        }
        let i = self.people.len() as u32;
        self.people.push(PersonAcc::new(p));
        self.index.insert(p, i);
        i
    }

    pub fn pseudonym_of(&self, person: u32) -> String {
        pseudo::pseudonym_text(&self.people[person as usize].pseudonym)
    }

    /// Sex, birth and death from a person record. A value differing from one already read
    /// keeps the first and is counted as a conflict.
    pub fn demographics(
        &mut self,
        person: u32,
        format: Format,
        sex: Option<Sex>,
        birth_day: Option<i32>,
        death_day: Option<i32>,
    ) {
        let acc = &mut self.people[person as usize];
        acc.has_demographics = true;
        acc.sources |= 1 << format as u8;
        let mut conflict = false;
        if let Some(s) = sex {
            match acc.sex {
                None => acc.sex = Some(s),
                Some(old) if old != s => conflict = true,
                _ => {}
            }
        }
        if let Some(b) = birth_day {
            match acc.birth_day {
                None => acc.birth_day = Some(b),
                // Partial dates of the same person differ by their mid-point imputation.
                Some(old) if (old - b).abs() > 200 => conflict = true,
                _ => {}
            }
        }
        if let Some(d) = death_day {
            acc.death_day = Some(acc.death_day.map_or(d, |x| x.min(d)));
        }
        if conflict {
            self.q.persons.demographic_conflicts += 1;
        }
    }

    /// A research opt-out (FHIR Consent deny, CSV flag).
    pub fn opt_out(&mut self, person: u32) {
        self.people[person as usize].opt_out = true;
    }

    /// An observation period (OMOP): the person counts as observed at the index date if any
    /// period covers it.
    pub fn observation_period(&mut self, person: u32, start_day: i32, end_day: i32) {
        let covers = start_day <= self.opts.index_day && self.opts.index_day <= end_day;
        let acc = &mut self.people[person as usize];
        acc.observed_at_index = Some(acc.observed_at_index.unwrap_or(false) || covers);
    }

    /// A dated contact (encounter) with no value: extends the person's record span.
    pub fn contact(&mut self, person: u32, format: Format, when: date::Stamp) {
        self.people[person as usize].sources |= 1 << format as u8;
        let m = self.minute(when);
        self.touch(person, m);
    }

    fn minute(&self, when: date::Stamp) -> i32 {
        (when.day - self.opts.index_day) * 1440 + i32::from(when.minute)
    }

    fn touch(&mut self, person: u32, minute: i32) {
        let acc = &mut self.people[person as usize];
        acc.first_minute = acc.first_minute.min(minute);
        acc.last_minute = acc.last_minute.max(minute);
    }

    /// Looks a code up into a caller's buffer (allocation-free on the hot path).
    pub fn lookup_into(&self, system: System, code: &str, out: &mut Vec<Mapping>) {
        self.codes.lookup(system, code, out);
    }

    /// A measured value. Converts the unit, checks plausibility (refusing or correcting),
    /// updates the baseline slot and appends the value to the history. Returns whether the
    /// value was kept.
    #[allow(clippy::too_many_arguments)]
    pub fn measure(
        &mut self,
        at: At,
        format: Format,
        person: u32,
        m: Measure,
        value: f64,
        unit: &str,
        when: date::Stamp,
    ) -> Result<bool, ImportError> {
        let mut ubuf = std::mem::take(&mut self.unit_buf);
        units::normalise_unit(unit, &mut ubuf);
        let conv = units::convert(m, value, &ubuf);
        let stored = m.stored();
        let v = match conv {
            Converted::Ok(v) => {
                if ubuf.is_empty() {
                    *self
                        .q
                        .units_missing_assumed_canonical
                        .entry(m.name().to_string())
                        .or_insert(0) += 1;
                }
                v
            }
            Converted::Corrected { value, assumed } => {
                let declared = if ubuf.is_empty() {
                    "(none)".to_string()
                } else {
                    codes::safe_code(&ubuf)
                };
                *self
                    .tally
                    .corrected
                    .entry((m.name(), declared, assumed))
                    .or_insert(0) += 1;
                value
            }
            Converted::UnknownUnit => {
                let u = codes::safe_code(&ubuf);
                *self
                    .tally
                    .unknown_units
                    .entry((m.name(), u.clone()))
                    .or_insert(0) += 1;
                self.unit_buf = ubuf;
                self.error(
                    at,
                    "unit",
                    "unknown_unit",
                    format!("{}: unit `{u}` is not one this measure accepts", m.name()),
                    Some(person),
                )?;
                return Ok(false);
            }
            Converted::Implausible { canonical } => {
                self.tally.implausible(stored.name(), canonical);
                self.unit_buf = ubuf;
                let (lo, hi) = stored.plausible();
                self.error(
                    at,
                    "value",
                    "implausible_value",
                    format!(
                        "{}: {} is outside the plausible range {lo}–{hi} in every accepted unit",
                        stored.name(),
                        round3(canonical)
                    ),
                    Some(person),
                )?;
                return Ok(false);
            }
        };
        self.unit_buf = ubuf;
        if m == Measure::Hba1cJdsPct {
            self.q.hba1c_jds_converted += 1;
        }
        self.keep(format, person, stored, v, when);
        self.rec.mapped = true;
        Ok(true)
    }

    /// A converted, plausible value.
    fn keep(&mut self, format: Format, person: u32, m: Measure, v: f64, when: date::Stamp) {
        let minute = self.minute(when);
        let index = 0i32;
        let lookback = -(self.opts.lookback_days as i32) * 1440;
        let steps_from = -(self.opts.steps_window_days as i32) * 1440;
        let day_end = 1440; // the whole index day counts as "on the index date"
        {
            let acc = &mut self.people[person as usize];
            acc.sources |= 1 << format as u8;
            if m == Measure::StepsPerDay {
                if minute >= steps_from && minute < index + day_end {
                    acc.steps_sum += v;
                    acc.steps_days += 1;
                }
            } else if let Some(s) = slot_of(m) {
                // Height is stable in adults: any measurement up to the index date counts.
                let in_window =
                    minute < index + day_end && (m == Measure::HeightCm || minute >= lookback);
                let slot = &mut acc.slots[s];
                if in_window {
                    if minute > slot.minute {
                        *slot = Slot {
                            minute,
                            sum: v,
                            n: 1,
                        };
                    } else if minute == slot.minute {
                        slot.sum += v;
                        slot.n += 1;
                    }
                }
            }
        }
        self.touch(person, minute);
        self.spill.push(SpillRecord {
            person,
            code: m as u8,
            source: format as u8,
            minute,
            value: v,
        });
    }

    /// A yes/no fact at a time (questionnaire answer, smoking status, diagnosis, treatment).
    /// `period_end`: for treatments given as a period, its end (inclusive).
    #[allow(clippy::too_many_arguments)]
    pub fn flag(
        &mut self,
        _at: At,
        format: Format,
        person: u32,
        flag: Flag,
        value: bool,
        when: Option<date::Stamp>,
        period_end: Option<date::Stamp>,
        questionnaire: bool,
    ) {
        let minute = when.map(|w| self.minute(w));
        let end = period_end.map(|w| self.minute(w));
        let lookback = -(self.opts.lookback_days as i32) * 1440;
        let rx_from = -(self.opts.rx_window_days as i32) * 1440;
        let day_end = 1440;
        let acc = &mut self.people[person as usize];
        acc.sources |= 1 << format as u8;
        match flag {
            Flag::Smoker => {
                if let Some(mi) = minute {
                    if mi >= lookback && mi < day_end && acc.smoker.is_none_or(|s| mi >= s.0) {
                        acc.smoker = Some((mi, value));
                    }
                }
            }
            f if f.is_condition() => {
                // Undated diagnoses are taken as present (counted).
                let before = minute.is_none_or(|mi| mi < day_end);
                if value && before {
                    acc.conditions.insert(f.condition().unwrap_or_default());
                }
                if minute.is_none() && value {
                    *self
                        .q
                        .derived
                        .entry("undated_condition_taken_as_present".into())
                        .or_insert(0) += 1;
                }
            }
            f => {
                let from = if questionnaire { lookback } else { rx_from };
                let active = match (minute, end) {
                    (Some(s), Some(e)) => s < day_end && (e >= 0 || s >= from),
                    (Some(s), None) => s >= from && s < day_end,
                    (None, Some(e)) => e >= 0 && e < day_end + 1440 * 365 * 100,
                    (None, None) => false,
                };
                if value && active {
                    acc.treatments.insert(f.treatment().unwrap_or_default());
                }
            }
        }
        if let Some(mi) = minute {
            self.touch(person, mi);
            self.spill.push(SpillRecord {
                person,
                code: FLAG_CODE_BASE + flag as u8,
                source: format as u8,
                minute: mi,
                value: if value { 1.0 } else { 0.0 },
            });
        }
        self.rec.mapped = true;
    }

    /// Applies every mapping of a code to a value: measures are converted and kept, flags
    /// set, `ignore` rows mark the record as ignored. Errors name `field`.
    #[allow(clippy::too_many_arguments)]
    pub fn apply(
        &mut self,
        at: At,
        format: Format,
        person: u32,
        mappings: &[Mapping],
        val: Val,
        unit: &str,
        when: Option<date::Stamp>,
        end: Option<date::Stamp>,
    ) -> Result<(), ImportError> {
        for m in mappings {
            match m.target {
                Target::Ignore => self.rec.ignored = true,
                Target::Measure(measure) => {
                    let Some(w) = when else {
                        self.error(
                            at,
                            "date",
                            "missing_date",
                            format!("{}: no date", measure.name()),
                            Some(person),
                        )?;
                        continue;
                    };
                    let v = match val {
                        Val::Num(v) => v,
                        Val::Code(_, s) => match s.trim().parse::<f64>() {
                            Ok(v) => v,
                            Err(_) => {
                                self.error(
                                    at,
                                    "value",
                                    "bad_number",
                                    format!("{}: the value is not a number", measure.name()),
                                    Some(person),
                                )?;
                                continue;
                            }
                        },
                        _ => {
                            self.error(
                                at,
                                "value",
                                "missing_value",
                                format!("{}: no numeric value", measure.name()),
                                Some(person),
                            )?;
                            continue;
                        }
                    };
                    self.measure(at, format, person, measure, v, unit, w)?;
                }
                Target::Flag(flag) => {
                    let value = match (m.answer, val) {
                        (Some(codes::Answer::JpYesNo), v) => {
                            let n = match v {
                                Val::Num(x) => Some(x),
                                Val::Code(_, s) => s.trim().parse::<f64>().ok(),
                                _ => None,
                            };
                            match n {
                                Some(1.0) => true,
                                Some(2.0) => false,
                                _ => {
                                    self.error(
                                        at,
                                        "value",
                                        "bad_answer",
                                        format!(
                                            "{}: answer must be 1 (yes) or 2 (no)",
                                            flag.name()
                                        ),
                                        Some(person),
                                    )?;
                                    continue;
                                }
                            }
                        }
                        (None, Val::Bool(b)) => b,
                        (None, Val::Num(x)) if flag != Flag::Smoker => x != 0.0,
                        (None, Val::Code(sys, code)) if flag == Flag::Smoker => {
                            let mut out = Vec::new();
                            self.codes
                                .lookup(sys.unwrap_or(System::Snomed), code, &mut out);
                            match out.iter().find_map(|m| match m.target {
                                Target::SmokerAnswer(b) => Some(b),
                                _ => None,
                            }) {
                                Some(b) => b,
                                None => {
                                    self.unmapped(at, sys.unwrap_or(System::Snomed).name(), code)?;
                                    continue;
                                }
                            }
                        }
                        (None, Val::Num(x)) => x != 0.0,
                        (None, Val::Missing) if flag != Flag::Smoker => true,
                        (None, Val::Code(..)) if flag != Flag::Smoker => true,
                        _ => {
                            self.error(
                                at,
                                "value",
                                "missing_value",
                                format!("{}: no usable value", flag.name()),
                                Some(person),
                            )?;
                            continue;
                        }
                    };
                    if flag == Flag::Smoker && when.is_none() {
                        self.error(at, "date", "missing_date", "smoker: no date", Some(person))?;
                        continue;
                    }
                    self.flag(
                        at,
                        format,
                        person,
                        flag,
                        value,
                        when,
                        end,
                        m.answer.is_some(),
                    );
                }
                Target::BpPanel | Target::SmokerAnswer(_) => {
                    self.error(
                        at,
                        "code",
                        "bad_code_use",
                        "a panel or answer code used as a value",
                        Some(person),
                    )?;
                }
            }
        }
        Ok(())
    }

    /// Picks baselines, derives, imputes, sorts and de-duplicates the history.
    pub fn finish(mut self) -> Result<ImportResult, ImportError> {
        self.spill.flush()?;
        let mut q = std::mem::take(&mut self.q);
        q.persons.seen = self.people.len() as u64;
        let mut order: Vec<u32> = Vec::new();
        let mut excluded = BTreeMap::<String, u64>::new();
        let mut exclude = |reason: &str| *excluded.entry(reason.to_string()).or_insert(0) += 1;
        let index_day = self.opts.index_day;
        for (i, p) in self.people.iter().enumerate() {
            let reason = if p.opt_out {
                Some("research opt-out (Consent deny or CSV flag)")
            } else if !p.has_demographics {
                Some("no person record (Patient, person row, Apple Me, persons.csv)")
            } else if p.sex.is_none() {
                Some("sex not recorded as male or female")
            } else if p.birth_day.is_none() {
                Some("birth date missing")
            } else if p.death_day.is_some_and(|d| d <= index_day) {
                Some("died on or before the index date")
            } else if p.observed_at_index == Some(false) {
                Some("no observation period covers the index date (OMOP)")
            } else {
                let age = age_years(p.birth_day.unwrap_or(index_day), index_day);
                if !(self.opts.age_min..=self.opts.age_max).contains(&age)
                    || !(0.0..=120.0).contains(&age)
                {
                    Some("age at the index date outside the selected range")
                } else {
                    None
                }
            };
            match reason {
                Some(r) => exclude(r),
                None => order.push(i as u32),
            }
        }
        order.sort_by_key(|&i| self.people[i as usize].pseudonym);

        let mut people = Vec::with_capacity(order.len());
        let mut field_stats: Vec<FieldStats> = Covariates::CONTINUOUS
            .iter()
            .chain(["smoker"].iter())
            .map(|f| FieldStats {
                field: f.to_string(),
                ..FieldStats::default()
            })
            .collect();
        let mut rank: Vec<u32> = vec![u32::MAX; self.people.len()];
        let mut derived = std::mem::take(&mut q.derived);
        let mut kept = Vec::with_capacity(order.len());
        for &i in &order {
            let p = &self.people[i as usize];
            match baseline_of(p, index_day, self.opts.impute, &mut derived) {
                Some((b, imputed, how)) => kept.push((i, b, imputed, how)),
                None => exclude("a covariate is missing (--impute none)"),
            }
        }
        for (row, (i, mut b, imputed, how)) in kept.into_iter().enumerate() {
            let p = &self.people[i as usize];
            rank[i as usize] = row as u32;
            b.id = row as u64;
            for (k, fs) in field_stats.iter_mut().enumerate() {
                match how[k] {
                    Origin::Measured => fs.measured += 1,
                    Origin::Derived => fs.derived += 1,
                    Origin::Imputed => fs.imputed += 1,
                }
            }
            let mut sources = Vec::new();
            for f in [Format::Fhir, Format::Omop, Format::Apple, Format::Csv] {
                if p.sources & (1 << f as u8) != 0 {
                    sources.push(f.name());
                }
            }
            people.push(ImportedPerson {
                pseudo_id: pseudo::pseudonym_text(&p.pseudonym),
                baseline: b,
                imputed,
                first_record_days: if p.first_minute == i32::MAX {
                    0
                } else {
                    p.first_minute.div_euclid(1440)
                },
                last_record_days: if p.last_minute == i32::MIN {
                    0
                } else {
                    p.last_minute.div_euclid(1440)
                },
                sources: sources.join("+"),
                history_rows: 0,
            });
        }
        let n = people.len() as f64;
        for fs in &mut field_stats {
            fs.missing_pct = if n > 0.0 {
                100.0 * fs.imputed as f64 / n
            } else {
                0.0
            };
        }
        q.persons.included = people.len() as u64;
        q.persons.excluded = excluded;
        q.missingness = field_stats;
        q.derived = derived;
        self.tally.finish(&mut q);

        // History: external sort by (row, measure, minute, value), exact duplicates dropped.
        let births: Vec<i32> = order
            .iter()
            .filter(|&&i| rank[i as usize] != u32::MAX)
            .map(|&i| self.people[i as usize].birth_day.unwrap_or(index_day))
            .collect();
        let sorted = self
            .spill
            .sort(&rank, self.opts.sort_run_records, &mut q.history)?;
        for (row, count) in sorted.per_person.iter().enumerate() {
            if let Some(p) = people.get_mut(row) {
                p.history_rows = *count;
            }
        }
        Ok(ImportResult {
            people,
            quality: q,
            history: sorted,
            births,
            index_day,
        })
    }
}

fn round3(v: f64) -> f64 {
    (v * 1000.0).round() / 1000.0
}

fn age_years(birth_day: i32, day: i32) -> f64 {
    f64::from(day - birth_day) / 365.2425
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Origin {
    Measured,
    Derived,
    Imputed,
}

/// Baseline values of one person, with where each came from. `None` if a covariate is
/// missing and imputation is off.
fn baseline_of(
    p: &PersonAcc,
    index_day: i32,
    impute: Impute,
    derived: &mut BTreeMap<String, u64>,
) -> Option<(Baseline, [bool; 12], [Origin; 12])> {
    let sex = p.sex?;
    let age = age_years(p.birth_day?, index_day);
    let slot = |m: Measure| slot_of(m).and_then(|s| p.slots[s].value());
    let mut count = |k: &str| *derived.entry(k.to_string()).or_insert(0) += 1;
    let plausible = |m: Measure, v: f64| m.is_plausible(v).then_some(v);

    let mut conditions = p.conditions;
    let treatments = p.treatments;
    // A treatment implies its diagnosis (as in the synthetic cohort).
    for (rx, dx, name) in [
        (
            Treatments::GLUCOSE_LOWERING,
            Conditions::DIABETES,
            "dx_diabetes_from_treatment",
        ),
        (
            Treatments::ANTIHYPERTENSIVE,
            Conditions::HYPERTENSION,
            "dx_hypertension_from_treatment",
        ),
        (
            Treatments::LIPID_LOWERING,
            Conditions::DYSLIPIDAEMIA,
            "dx_dyslipidaemia_from_treatment",
        ),
    ] {
        if treatments.contains(rx) && !conditions.contains(dx) {
            conditions.insert(dx);
            count(name);
        }
    }

    let mut how = [Origin::Measured; 12];
    let mut vals: [Option<f64>; 11] = [None; 11];
    // bmi
    vals[0] = slot(Measure::BmiKgM2);
    if vals[0].is_none() {
        if let (Some(w), Some(h)) = (slot(Measure::WeightKg), slot(Measure::HeightCm)) {
            vals[0] = plausible(Measure::BmiKgM2, w / (h / 100.0).powi(2));
            if vals[0].is_some() {
                how[0] = Origin::Derived;
                count("bmi_from_weight_and_height");
            }
        }
    }
    vals[1] = slot(Measure::FpgMgDl);
    vals[2] = slot(Measure::Hba1cPct);
    vals[3] = slot(Measure::SbpMmhg);
    vals[4] = slot(Measure::DbpMmhg);
    vals[5] = slot(Measure::TcMgDl);
    vals[6] = slot(Measure::HdlMgDl);
    vals[7] = slot(Measure::LdlMgDl);
    if vals[5].is_none() {
        // Friedewald (LDL = TC − HDL − TG/5, mg/dL, valid for TG < 400) solved for TC.
        if let (Some(ldl), Some(hdl), Some(tg)) = (vals[7], vals[6], slot(Measure::TgMgDl)) {
            if tg < 400.0 {
                vals[5] = plausible(Measure::TcMgDl, ldl + hdl + tg / 5.0);
                if vals[5].is_some() {
                    how[5] = Origin::Derived;
                    count("tc_from_ldl_hdl_tg_friedewald");
                }
            }
        }
    }
    vals[8] = slot(Measure::EgfrMlMin);
    if vals[8].is_none() {
        // Japanese eGFR (Matsuo et al., Am J Kidney Dis 2009;53:982, equation 4):
        // 194 × Cr^−1.094 × age^−0.287 (× 0.739 if female), mL/min/1.73 m² [V].
        if let Some(cr) = slot(Measure::CreatinineMgDl) {
            if age >= 18.0 {
                let f = if sex == Sex::Female { 0.739 } else { 1.0 };
                vals[8] = plausible(
                    Measure::EgfrMlMin,
                    194.0 * cr.powf(-1.094) * age.powf(-0.287) * f,
                );
                if vals[8].is_some() {
                    how[8] = Origin::Derived;
                    count("egfr_from_creatinine_matsuo_2009");
                }
            }
        }
    }
    vals[9] = (p.steps_days > 0).then(|| p.steps_sum / f64::from(p.steps_days));
    // Only the plain CSV carries a frailty index.
    vals[10] = slot(Measure::FrailtyIndex);
    let smoker = p.smoker.map(|s| s.1);

    let mut imputed = [false; 12];
    let diabetic = conditions.contains(Conditions::DIABETES);
    let mut cont = [0.0; 11];
    for k in 0..11 {
        match vals[k] {
            Some(v) => cont[k] = v,
            None => {
                if impute == Impute::None {
                    return None;
                }
                imputed[k] = true;
                how[k] = Origin::Imputed;
                cont[k] = mean_at(k, sex, age, diabetic);
            }
        }
    }
    let smoker = match smoker {
        Some(s) => s,
        None => {
            if impute == Impute::None {
                return None;
            }
            imputed[11] = true;
            how[11] = Origin::Imputed;
            false
        }
    };
    let covariates = Covariates::from_parts(cont, smoker, conditions, treatments);
    Some((
        Baseline {
            id: 0,
            sex,
            age_years: age,
            covariates,
        },
        imputed,
        how,
    ))
}

/// The imputation value of continuous covariate `k` (`Covariates::CONTINUOUS` order): the
/// synthetic cohort's sex- and age-specific mean (`cohort::japan`, with its sources).
fn mean_at(k: usize, sex: Sex, age: f64, diabetic: bool) -> f64 {
    let s = sex.index();
    let m = |marg: &japan::Marginal| japan::at_age(&marg.mean[s], age);
    let v = match k {
        0 => m(&japan::BMI),
        1 => {
            if diabetic {
                japan::ADAG_SLOPE * japan::HBA1C_DIABETIC_MEAN + japan::ADAG_INTERCEPT
            } else {
                m(&japan::FPG_NON_DIABETIC)
            }
        }
        2 => {
            if diabetic {
                japan::HBA1C_DIABETIC_MEAN
            } else {
                m(&japan::HBA1C_NON_DIABETIC)
            }
        }
        3 => m(&japan::SBP),
        4 => m(&japan::DBP),
        5 => m(&japan::TC),
        6 => m(&japan::HDL),
        7 => m(&japan::LDL),
        8 => m(&japan::EGFR),
        9 => m(&japan::STEPS),
        _ => m(&japan::FRAILTY_INDEX),
    };
    let name = Covariates::CONTINUOUS[k];
    let (lo, hi) = crate::file::PLAUSIBLE
        .iter()
        .find(|p| p.0 == name)
        .map(|p| (p.1, p.2))
        .unwrap_or((f64::MIN, f64::MAX));
    v.clamp(lo, hi)
}

/// The result of an import: people in pseudonym order, the quality report and the sorted,
/// de-duplicated history (on disk until read).
pub struct ImportResult {
    pub people: Vec<ImportedPerson>,
    pub quality: Quality,
    history: SortedHistory,
    births: Vec<i32>,
    index_day: i32,
}

impl ImportResult {
    /// Streams the history in (patient, measure, time) order.
    pub fn for_each_history<E: From<ImportError>>(
        &self,
        mut f: impl FnMut(&HistoryRow) -> Result<(), E>,
    ) -> Result<(), E> {
        let Some(path) = &self.history.path else {
            return Ok(());
        };
        let file = File::open(path).map_err(|e| E::from(io_err(path, &e)))?;
        let mut r = BufReader::with_capacity(1 << 20, file);
        let mut buf = [0u8; SpillRecord::BYTES];
        loop {
            match r.read_exact(&mut buf) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => break,
                Err(e) => return Err(E::from(io_err(path, &e))),
            }
            let rec = SpillRecord::decode(&buf);
            let (measure, unit) = code_name(rec.code);
            let birth = self.births.get(rec.person as usize).copied().unwrap_or(0);
            let day = f64::from(self.index_day) + f64::from(rec.minute) / 1440.0;
            let row = HistoryRow {
                patient_id: u64::from(rec.person),
                measure,
                unit,
                minute: rec.minute,
                age_years: (day - f64::from(birth)) / 365.2425,
                value: rec.value,
                source: Format::from_index(rec.source).name(),
            };
            f(&row)?;
        }
        Ok(())
    }

    /// The whole history in memory (tests and small cohorts).
    pub fn history_rows(&self) -> Result<Vec<HistoryRow>, ImportError> {
        let mut v = Vec::new();
        self.for_each_history::<ImportError>(|r| {
            v.push(r.clone());
            Ok(())
        })?;
        Ok(v)
    }

    pub fn index_day(&self) -> i32 {
        self.index_day
    }
}

fn code_name(code: u8) -> (&'static str, &'static str) {
    if code >= FLAG_CODE_BASE {
        let f = Flag::from_index(code - FLAG_CODE_BASE).unwrap_or(Flag::Smoker);
        (f.name(), "event")
    } else {
        let m = Measure::from_index(code).unwrap_or(Measure::BmiKgM2);
        (m.name(), m.unit())
    }
}

// ---------------------------------------------------------------------------------------
// The spill: fixed-size records on disk, sorted at the end in bounded memory.

#[derive(Clone, Copy, Debug, PartialEq)]
struct SpillRecord {
    person: u32,
    code: u8,
    source: u8,
    minute: i32,
    value: f64,
}

impl SpillRecord {
    const BYTES: usize = 18;
    fn encode(&self, out: &mut [u8; Self::BYTES]) {
        out[0..4].copy_from_slice(&self.person.to_le_bytes());
        out[4] = self.code;
        out[5] = self.source;
        out[6..10].copy_from_slice(&self.minute.to_le_bytes());
        out[10..18].copy_from_slice(&self.value.to_le_bytes());
    }
    fn decode(b: &[u8; Self::BYTES]) -> SpillRecord {
        SpillRecord {
            person: u32::from_le_bytes([b[0], b[1], b[2], b[3]]),
            code: b[4],
            source: b[5],
            minute: i32::from_le_bytes([b[6], b[7], b[8], b[9]]),
            value: f64::from_le_bytes([b[10], b[11], b[12], b[13], b[14], b[15], b[16], b[17]]),
        }
    }
    /// Sort key: person row, measure, time, value, source.
    fn key(&self) -> (u32, u8, i32, u64, u8) {
        (
            self.person,
            self.code,
            self.minute,
            order_bits(self.value),
            self.source,
        )
    }
    fn same_reading(&self, o: &SpillRecord) -> bool {
        self.person == o.person
            && self.code == o.code
            && self.minute == o.minute
            && self.value.to_bits() == o.value.to_bits()
    }
}

/// f64 → u64 preserving order (for sorting finite values).
fn order_bits(v: f64) -> u64 {
    let b = v.to_bits();
    if b >> 63 == 1 {
        !b
    } else {
        b | (1 << 63)
    }
}

/// Temporary files removed on drop.
struct TempFiles(Vec<PathBuf>);

impl Drop for TempFiles {
    fn drop(&mut self) {
        for p in &self.0 {
            let _ = fs::remove_file(p);
        }
    }
}

struct Spill {
    dir: PathBuf,
    path: PathBuf,
    w: Option<BufWriter<File>>,
    records: u64,
    files: TempFiles,
    io_error: Option<io::Error>,
}

fn temp_name(dir: &Path, what: &str, n: usize) -> PathBuf {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let c = COUNTER.fetch_add(1, Ordering::Relaxed);
    dir.join(format!(
        ".healthtwin-import-{}-{c}-{what}-{n}.tmp",
        std::process::id()
    ))
}

impl Spill {
    fn create(dir: &Path) -> Result<Spill, ImportError> {
        fs::create_dir_all(dir).map_err(|e| io_err(dir, &e))?;
        let path = temp_name(dir, "spill", 0);
        let f = File::create(&path).map_err(|e| io_err(&path, &e))?;
        Ok(Spill {
            dir: dir.to_path_buf(),
            files: TempFiles(vec![path.clone()]),
            path,
            w: Some(BufWriter::with_capacity(1 << 20, f)),
            records: 0,
            io_error: None,
        })
    }

    fn push(&mut self, r: SpillRecord) {
        if self.io_error.is_some() {
            return;
        }
        let mut b = [0u8; SpillRecord::BYTES];
        r.encode(&mut b);
        if let Some(w) = self.w.as_mut() {
            if let Err(e) = w.write_all(&b) {
                self.io_error = Some(e);
            }
        }
        self.records += 1;
    }

    fn flush(&mut self) -> Result<(), ImportError> {
        if let Some(e) = self.io_error.take() {
            return Err(io_err(&self.path, &e));
        }
        if let Some(mut w) = self.w.take() {
            w.flush().map_err(|e| io_err(&self.path, &e))?;
        }
        Ok(())
    }

    /// Rewrites person indices as output rows (dropping excluded people), sorts in runs of
    /// `run` records, merges the runs and drops exact duplicates.
    fn sort(
        &mut self,
        rank: &[u32],
        run: usize,
        stats: &mut quality::HistoryStats,
    ) -> Result<SortedHistory, ImportError> {
        let run = run.max(1);
        let file = File::open(&self.path).map_err(|e| io_err(&self.path, &e))?;
        let mut r = BufReader::with_capacity(1 << 20, file);
        let mut runs: Vec<PathBuf> = Vec::new();
        let mut buf: Vec<SpillRecord> = Vec::with_capacity(run.min(1 << 20));
        let mut b = [0u8; SpillRecord::BYTES];
        let mut eof = false;
        while !eof {
            buf.clear();
            while buf.len() < run {
                match r.read_exact(&mut b) {
                    Ok(()) => {
                        let mut rec = SpillRecord::decode(&b);
                        let row = rank.get(rec.person as usize).copied().unwrap_or(u32::MAX);
                        if row == u32::MAX {
                            stats.rows_of_excluded_people += 1;
                            continue;
                        }
                        rec.person = row;
                        buf.push(rec);
                    }
                    Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
                        eof = true;
                        break;
                    }
                    Err(e) => return Err(io_err(&self.path, &e)),
                }
            }
            if buf.is_empty() {
                break;
            }
            buf.sort_unstable_by_key(SpillRecord::key);
            let p = temp_name(&self.dir, "run", runs.len());
            self.files.0.push(p.clone());
            let f = File::create(&p).map_err(|e| io_err(&p, &e))?;
            let mut w = BufWriter::with_capacity(1 << 20, f);
            for rec in &buf {
                rec.encode(&mut b);
                w.write_all(&b).map_err(|e| io_err(&p, &e))?;
            }
            w.flush().map_err(|e| io_err(&p, &e))?;
            runs.push(p);
        }
        drop(buf);
        // Merge.
        let out_path = temp_name(&self.dir, "history", 0);
        let f = File::create(&out_path).map_err(|e| io_err(&out_path, &e))?;
        let mut w = BufWriter::with_capacity(1 << 20, f);
        let mut readers: Vec<BufReader<File>> = Vec::with_capacity(runs.len());
        for p in &runs {
            let f = File::open(p).map_err(|e| io_err(p, &e))?;
            readers.push(BufReader::with_capacity(1 << 16, f));
        }
        let mut heap = BinaryHeap::new();
        let next = |i: usize,
                    readers: &mut Vec<BufReader<File>>|
         -> Result<Option<SpillRecord>, ImportError> {
            let mut b = [0u8; SpillRecord::BYTES];
            match readers[i].read_exact(&mut b) {
                Ok(()) => Ok(Some(SpillRecord::decode(&b))),
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => Ok(None),
                Err(e) => Err(io_err(&runs[i], &e)),
            }
        };
        for i in 0..readers.len() {
            if let Some(rec) = next(i, &mut readers)? {
                heap.push(Reverse((rec.key(), i, HeapRec(rec))));
            }
        }
        let mut last: Option<SpillRecord> = None;
        let mut per_person: Vec<u64> = Vec::new();
        while let Some(Reverse((_, i, HeapRec(rec)))) = heap.pop() {
            if let Some(n) = next(i, &mut readers)? {
                heap.push(Reverse((n.key(), i, HeapRec(n))));
            }
            if last.is_some_and(|l| l.same_reading(&rec)) {
                stats.duplicates_dropped += 1;
                *stats
                    .duplicates_by_measure
                    .entry(code_name(rec.code).0.to_string())
                    .or_insert(0) += 1;
                continue;
            }
            rec.encode(&mut b);
            w.write_all(&b).map_err(|e| io_err(&out_path, &e))?;
            stats.rows_written += 1;
            let p = rec.person as usize;
            if per_person.len() <= p {
                per_person.resize(p + 1, 0);
            }
            per_person[p] += 1;
            last = Some(rec);
        }
        w.flush().map_err(|e| io_err(&out_path, &e))?;
        // Runs and the raw spill are no longer needed.
        for p in runs.iter().chain(std::iter::once(&self.path)) {
            let _ = fs::remove_file(p);
        }
        Ok(SortedHistory {
            path: Some(out_path.clone()),
            per_person,
            _files: TempFiles(vec![out_path]),
        })
    }
}

/// Heap payload (ordering is carried by the key beside it).
#[derive(Clone, Copy, Debug)]
struct HeapRec(SpillRecord);
impl PartialEq for HeapRec {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}
impl Eq for HeapRec {}
impl PartialOrd for HeapRec {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for HeapRec {
    fn cmp(&self, _: &Self) -> std::cmp::Ordering {
        std::cmp::Ordering::Equal
    }
}

struct SortedHistory {
    path: Option<PathBuf>,
    per_person: Vec<u64>,
    _files: TempFiles,
}

/// Reads a whole small text input (CSV, code map) with a clear error.
pub(crate) fn file_len(path: &Path) -> u64 {
    fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}
