//! The values of one record: [`Importer::apply`] resolves a code's mappings against the
//! source value, [`Importer::measure`] converts and checks the unit of a measured value, and
//! [`Importer::flag`] records a yes/no fact. What is kept updates the person's accumulator
//! (the baseline slot, if in its window) and is appended to the spill.
//!
//! Must never: keep a value outside its measure's plausible range, or echo a raw value or
//! free text in an error (codes pass through `codes::shown_code`, units through
//! `units::shown_unit`, values are never repeated).

use super::codes::{self, Mapping, System, Target};
use super::measure::{ClinicalMeasure, Flag};
use super::spill::SpillRecord;
use super::spill::FLAG_CODE_BASE;
use super::units::{self, Converted};
use super::{date, At, Format, ImportError, Importer};

/// A source value handed to [`Importer::apply`].
#[derive(Clone, Copy, Debug)]
pub enum Val<'a> {
    Num(f64),
    /// A coded answer (`1`, a SNOMED code, …) with its system if known.
    Code(Option<System>, &'a str),
    Bool(bool),
    Missing,
}

impl Importer {
    /// A measured value. Converts the unit, checks plausibility (refusing or correcting),
    /// updates the baseline slot and appends the value to the history. Returns whether the
    /// value was kept.
    #[allow(clippy::too_many_arguments)]
    pub fn measure(
        &mut self,
        at: At,
        format: Format,
        person: u32,
        m: ClinicalMeasure,
        value: f64,
        unit: &str,
        when: date::Stamp,
    ) -> Result<bool, ImportError> {
        if !self.check_date(at, "date", when.day, Some(person))? {
            return Ok(false);
        }
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
                    "(none)"
                } else {
                    units::shown_unit(&ubuf).unwrap_or("(not shown)")
                };
                *self
                    .tally
                    .corrected
                    .entry((m.name(), declared, assumed))
                    .or_insert(0) += 1;
                value
            }
            Converted::UnknownUnit => {
                let u = units::shown_unit(&ubuf);
                *self
                    .tally
                    .unknown_units
                    .entry((m.name(), u.unwrap_or("(not shown)")))
                    .or_insert(0) += 1;
                self.unit_buf = ubuf;
                let message = match u {
                    Some(u) => format!("{}: unit `{u}` is not one this measure accepts", m.name()),
                    None => format!(
                        "{}: the unit is not one this measure accepts (not shown: not a known unit)",
                        m.name()
                    ),
                };
                self.error(at, "unit", "unknown_unit", message, Some(person))?;
                return Ok(false);
            }
            Converted::Implausible { canonical } => {
                self.tally.implausible(stored.name(), canonical);
                self.unit_buf = ubuf;
                let (lo, hi) = stored.plausible();
                // The value is not repeated: a number field can hold a patient number.
                self.error(
                    at,
                    "value",
                    "implausible_value",
                    format!(
                        "{}: outside the plausible range {lo}–{hi} in every accepted unit",
                        stored.name(),
                    ),
                    Some(person),
                )?;
                return Ok(false);
            }
        };
        self.unit_buf = ubuf;
        if m == ClinicalMeasure::Hba1cJdsPct {
            self.q.hba1c_jds_converted += 1;
        }
        self.keep(format, person, stored, v, when);
        self.rec.mapped = true;
        Ok(true)
    }

    /// A converted, plausible value.
    fn keep(&mut self, format: Format, person: u32, m: ClinicalMeasure, v: f64, when: date::Stamp) {
        let minute = self.minute(when);
        if minute >= 1440 {
            self.q.dates.after_index_date += 1;
        }
        {
            let acc = &mut self.people[person as usize];
            acc.sources |= 1 << format as u8;
            acc.observe(m, v, minute, &self.opts);
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
        let day_end = 1440;
        let acc = &mut self.people[person as usize];
        acc.sources |= 1 << format as u8;
        acc.flag(flag, value, minute, end, questionnaire, &self.opts);
        if minute.is_none() && value && flag.is_condition() {
            *self
                .q
                .derived
                .entry("undated_condition_taken_as_present".into())
                .or_insert(0) += 1;
        }
        if let Some(mi) = minute {
            if mi >= day_end {
                self.q.dates.after_index_date += 1;
            }
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
        if let Some(w) = when {
            if !self.check_date(at, "date", w.day, Some(person))? {
                return Ok(());
            }
        }
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
}
