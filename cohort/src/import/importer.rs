//! The [`Importer`]: input registration, per-record bookkeeping (every record is filed as
//! error, mapped, unmapped or ignored), refusals, the person index (raw id → keyed pseudonym
//! → accumulator) and person-level facts (demographics, opt-out, observation period,
//! contacts). Values of a record: `record.rs`; the end of an import: `finish.rs`.

use std::collections::HashMap;

use engine::Sex;

use super::codes::{self, CodeMap, Mapping, System};
use super::person::PersonAcc;
use super::pseudo::{self, Pseudonymiser};
use super::quality::{
    DateStats, ErrorStats, InputStats, Quality, ShownCode, Tally, MAX_ERRORS_LISTED,
};
use super::spill::Spill;
use super::{date, At, Format, ImportError, ImportOptions, Impute, InputName, RecordError};

/// The importer: feed it records from any number of inputs, then [`Importer::finish`].
pub struct Importer {
    pub opts: ImportOptions,
    pub(super) codes: CodeMap,
    pub(super) pseudo: Pseudonymiser,
    pub(super) index: HashMap<[u8; 16], u32>,
    pub(super) people: Vec<PersonAcc>,
    pub(super) spill: Spill,
    pub(super) q: Quality,
    pub(super) tally: Tally,
    pub(super) unit_buf: String,
    pub(super) rec: RecordOutcome,
}

/// How the record being read will be filed by [`Importer::end`] (an error wins, then mapped,
/// then unmapped; else ignored).
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct RecordOutcome {
    pub(super) error: bool,
    pub(super) mapped: bool,
    pub(super) unmapped: bool,
    pub(super) ignored: bool,
}

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
            dates: DateStats {
                import_date: date::format_day(opts.today_day),
                ..DateStats::default()
            },
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

    /// Registers an input (a file, or one table of a folder); returns its index for
    /// [`At::input`]. Errors and the report name it by `name` only (never by its path).
    pub fn add_input(&mut self, name: InputName, bytes: u64) -> usize {
        self.q.inputs.push(InputStats {
            input: name.to_string(),
            format: name.format.name().to_string(),
            position: name.position,
            table: name.part.map(str::to_string),
            bytes,
            ..InputStats::default()
        });
        self.q.inputs.len() - 1
    }

    /// Records how an Apple export's person is identified (`--apple-id`, or a keyed hash of
    /// its content) and counts an export identical to one already read (the same person).
    pub fn apple_person_from(&mut self, input: usize, by_content: bool, raw_id: &str) {
        if let Some(s) = self.q.inputs.get_mut(input) {
            s.person_id_from = Some(
                if by_content {
                    "content hash"
                } else {
                    "--apple-id"
                }
                .into(),
            );
        }
        if by_content && self.index.contains_key(&self.pseudo.pseudonym(raw_id)) {
            self.q.persons.apple_identical_copies += 1;
        }
    }

    /// Marks an input as gzip-compressed (for the report).
    pub fn set_compressed(&mut self, input: usize, compressed: bool) {
        if let Some(s) = self.q.inputs.get_mut(input) {
            s.compressed = compressed;
        }
    }

    /// The name of a registered input (`fhir input #2`), for errors that stop an import.
    pub fn input_name(&self, input: usize) -> &str {
        self.q
            .inputs
            .get(input)
            .map_or("input", |i| i.input.as_str())
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

    /// A code with no row in the map. In `--strict` mode this refuses the record. `system`
    /// is a fixed name (`loinc`, `csv_item`, `(other system)`); the code is reported only if
    /// it has the system's syntax ([`codes::shown_code`]), else only counted.
    pub fn unmapped(
        &mut self,
        at: At,
        system: &'static str,
        code: &str,
    ) -> Result<(), ImportError> {
        let shown = codes::shown_code(system, code);
        if self.opts.strict {
            let message = match &shown {
                Some(c) => format!("{system} code `{c}` is not in the code map"),
                None => format!(
                    "a {system} code is not in the code map (not shown: it does not have the \
                     code system's syntax)"
                ),
            };
            return self.error(at, "code", "unmapped_code", message, None);
        }
        self.rec.unmapped = true;
        let key = match shown {
            Some(c) => ShownCode::Code(c),
            None => {
                use std::hash::{Hash, Hasher};
                // In memory only, to count distinct codes that are not shown.
                let mut h = std::hash::DefaultHasher::new();
                code.trim().hash(&mut h);
                ShownCode::Hidden(h.finish())
            }
        };
        *self.tally.unmapped.entry((system, key)).or_insert(0) += 1;
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
            input: self.input_name(at.input).to_string(),
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

    /// Refuses a record dated in the future (more than a day after the import date: a typing
    /// or export error, which would otherwise give ages of 140 in the history and push
    /// `last_record_days` past today). Returns whether the date is usable.
    pub fn check_date(
        &mut self,
        at: At,
        field: &str,
        day: i32,
        person: Option<u32>,
    ) -> Result<bool, ImportError> {
        if day <= self.opts.latest_day() {
            return Ok(true);
        }
        self.q.dates.refused_in_future += 1;
        self.error(
            at,
            field,
            "future_date",
            "the date is after the import date",
            person,
        )?;
        Ok(false)
    }

    /// Sex, birth and death from a person record. A value differing from one already read
    /// keeps the first and is counted as a conflict. A birth or death date in the future
    /// refuses the record.
    #[allow(clippy::too_many_arguments)]
    pub fn demographics(
        &mut self,
        at: At,
        person: u32,
        format: Format,
        sex: Option<Sex>,
        birth_day: Option<i32>,
        death_day: Option<i32>,
    ) -> Result<(), ImportError> {
        for (field, day) in [("birth date", birth_day), ("death date", death_day)] {
            if let Some(d) = day {
                if !self.check_date(at, field, d, Some(person))? {
                    return Ok(());
                }
            }
        }
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
        Ok(())
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

    /// A dated contact (encounter) with no value: extends the person's record span. The
    /// caller has checked the date ([`Importer::check_date`]).
    pub fn contact(&mut self, person: u32, format: Format, when: date::Stamp) {
        self.people[person as usize].sources |= 1 << format as u8;
        let m = self.minute(when);
        self.touch(person, m);
    }

    pub(super) fn minute(&self, when: date::Stamp) -> i32 {
        (when.day - self.opts.index_day) * 1440 + i32::from(when.minute)
    }

    pub(super) fn touch(&mut self, person: u32, minute: i32) {
        let acc = &mut self.people[person as usize];
        acc.first_minute = acc.first_minute.min(minute);
        acc.last_minute = acc.last_minute.max(minute);
    }

    /// Looks a code up into a caller's buffer (allocation-free on the hot path).
    pub fn lookup_into(&self, system: System, code: &str, out: &mut Vec<Mapping>) {
        self.codes.lookup(system, code, out);
    }
}
