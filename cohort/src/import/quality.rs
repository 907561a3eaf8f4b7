//! The data-quality report of one import: what was read, mapped, refused, corrected,
//! excluded and imputed, per input and per field, as JSON, CSV and Markdown.
//!
//! Every input record ends in exactly one of: mapped, ignored (known but unused, or a
//! resource type the cohort does not need), unmapped (no code in the map), error. The totals
//! are checked in tests, so nothing is dropped without being counted here.
//!
//! Must never: hold an identifier, a name, free text or a raw value that could be one: codes
//! are shown only with their code system's syntax (`codes::shown_code`), units only if known
//! (`units::shown_unit`), record types only from fixed lists, implausible values to two
//! significant digits; inputs are named by position, errors carry pseudonyms and lines.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;

use serde::Serialize;

/// Counts of one input (a file, or one table of an OMOP or plain-CSV folder).
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct InputStats {
    /// `fhir input #2`, `omop input #1 (measurement.csv)`: the format and the position
    /// among the inputs of that format, in the order given. Never a path or a file name.
    pub input: String,
    pub format: String,
    pub position: u32,
    /// The table of a folder input (from the format's fixed list of table names).
    pub table: Option<String>,
    /// Gzip-compressed (`bytes` is then the compressed size).
    pub compressed: bool,
    pub bytes: u64,
    pub records_read: u64,
    pub mapped: u64,
    pub ignored: u64,
    pub unmapped: u64,
    pub errors: u64,
    /// FHIR resource types, OMOP tables or Apple record types seen, with counts.
    pub kinds: BTreeMap<String, u64>,
    /// Apple exports: how the person is identified, `--apple-id` or `content hash` (a keyed
    /// hash of the file's content: distinct files are distinct people).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub person_id_from: Option<String>,
}

#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct CodeCount {
    pub system: String,
    pub code: String,
    pub count: u64,
}

/// Unmapped codes of one system that are not shown, because they do not have the code
/// system's syntax (free text, a name, a local code): counted only.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct CodesNotShown {
    pub system: String,
    pub distinct: u64,
    pub count: u64,
}

/// An unmapped code as tallied: shown (it has its system's syntax) or an in-memory hash
/// (to count distinct codes without keeping them).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ShownCode {
    Code(String),
    Hidden(u64),
}

#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct UnitCorrection {
    pub measure: String,
    pub declared: String,
    pub assumed: String,
    pub count: u64,
}

#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct UnknownUnit {
    pub measure: String,
    pub unit: String,
    pub count: u64,
}

#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct Implausible {
    pub measure: String,
    pub count: u64,
    /// Smallest and largest refused value, in the canonical unit, to two significant digits.
    pub min: f64,
    pub max: f64,
}

/// Missingness of one baseline field among included people.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct FieldStats {
    pub field: String,
    /// Measured in the look-back window.
    pub measured: u64,
    /// Computed from other measures (BMI from weight and height, TC by Friedewald, eGFR by
    /// the Japanese equation, a diagnosis implied by its treatment).
    pub derived: u64,
    /// Neither: filled with the Japanese sex- and age-specific mean (or `false`).
    pub imputed: u64,
    pub missing_pct: f64,
}

#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct PersonStats {
    /// Distinct pseudonyms met in any record.
    pub seen: u64,
    pub included: u64,
    /// Reason → count. Every seen person is included or in exactly one reason.
    pub excluded: BTreeMap<String, u64>,
    /// Sex or birth date differing between sources (the first one read is kept).
    pub demographic_conflicts: u64,
    /// Apple exports without `--apple-id` byte-identical to one read before: the same person.
    pub apple_identical_copies: u64,
}

#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct HistoryStats {
    pub rows_written: u64,
    pub duplicates_dropped: u64,
    /// Duplicates by measure.
    pub duplicates_by_measure: BTreeMap<String, u64>,
    pub rows_of_excluded_people: u64,
}

/// Dates: records in the future are refused everywhere; records after the index date are
/// kept in the history but never used for the baseline.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct DateStats {
    /// The import date (UTC). Records dated more than a day after it are refused.
    pub import_date: String,
    /// Records refused for a date after the import date (also `errors.by_kind.future_date`).
    pub refused_in_future: u64,
    /// Values and flags dated after the index date: in the history, not in the baseline.
    pub after_index_date: u64,
}

#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct ErrorStats {
    pub total: u64,
    pub by_kind: BTreeMap<String, u64>,
    /// The first errors in full (file, line, field, pseudonym; never a raw identifier).
    pub first: Vec<String>,
}

#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct Quality {
    pub healthtwin_version: String,
    pub index_date: String,
    pub lookback_days: u32,
    pub rx_window_days: u32,
    pub steps_window_days: u32,
    pub strict: bool,
    pub imputation: String,
    pub pseudonym_key_demo: bool,
    pub pseudonym_key_fingerprint: String,
    pub inputs: Vec<InputStats>,
    pub persons: PersonStats,
    pub unmapped_codes_distinct: u64,
    pub unmapped_codes_total: u64,
    /// The most frequent unmapped codes (up to 200) that have their code system's syntax.
    pub unmapped_codes: Vec<CodeCount>,
    /// Per system, unmapped codes without the system's syntax: counted, never shown.
    pub unmapped_codes_not_shown: Vec<CodesNotShown>,
    pub unit_corrections: Vec<UnitCorrection>,
    pub unknown_units: Vec<UnknownUnit>,
    /// Values without a unit taken in the canonical unit (plausible there).
    pub units_missing_assumed_canonical: BTreeMap<String, u64>,
    pub implausible_values: Vec<Implausible>,
    pub hba1c_jds_converted: u64,
    pub derived: BTreeMap<String, u64>,
    pub missingness: Vec<FieldStats>,
    pub dates: DateStats,
    pub history: HistoryStats,
    pub errors: ErrorStats,
}

pub const MAX_ERRORS_LISTED: usize = 100;
pub const MAX_CODES_LISTED: usize = 200;

/// Accumulators that become the sorted lists of [`Quality`] at the end.
#[derive(Debug, Default)]
pub struct Tally {
    pub unmapped: HashMap<(&'static str, ShownCode), u64>,
    pub corrected: HashMap<(&'static str, &'static str, &'static str), u64>,
    pub unknown_units: HashMap<(&'static str, &'static str), u64>,
    pub implausible: HashMap<&'static str, (u64, f64, f64)>,
}

impl Tally {
    pub fn implausible(&mut self, measure: &'static str, v: f64) {
        let e = self
            .implausible
            .entry(measure)
            .or_insert((0, f64::INFINITY, f64::NEG_INFINITY));
        e.0 += 1;
        if v.is_finite() {
            e.1 = e.1.min(v);
            e.2 = e.2.max(v);
        }
    }

    /// Moves the tallies into the report, sorted (count descending, then name).
    pub fn finish(self, q: &mut Quality) {
        q.unmapped_codes_distinct = self.unmapped.len() as u64;
        q.unmapped_codes_total = self.unmapped.values().sum();
        let mut codes: Vec<CodeCount> = Vec::new();
        let mut hidden: BTreeMap<&str, CodesNotShown> = BTreeMap::new();
        for ((system, code), count) in self.unmapped {
            match code {
                ShownCode::Code(code) => codes.push(CodeCount {
                    system: system.to_string(),
                    code,
                    count,
                }),
                ShownCode::Hidden(_) => {
                    let h = hidden.entry(system).or_insert_with(|| CodesNotShown {
                        system: system.to_string(),
                        ..CodesNotShown::default()
                    });
                    h.distinct += 1;
                    h.count += count;
                }
            }
        }
        q.unmapped_codes_not_shown = hidden.into_values().collect();
        codes.sort_by(|a, b| {
            b.count
                .cmp(&a.count)
                .then_with(|| (&a.system, &a.code).cmp(&(&b.system, &b.code)))
        });
        codes.truncate(MAX_CODES_LISTED);
        q.unmapped_codes = codes;
        let mut corr: Vec<UnitCorrection> = self
            .corrected
            .into_iter()
            .map(|((m, declared, assumed), count)| UnitCorrection {
                measure: m.to_string(),
                declared: declared.to_string(),
                assumed: assumed.to_string(),
                count,
            })
            .collect();
        corr.sort_by(|a, b| {
            (&a.measure, &a.declared, &a.assumed).cmp(&(&b.measure, &b.declared, &b.assumed))
        });
        q.unit_corrections = corr;
        let mut unk: Vec<UnknownUnit> = self
            .unknown_units
            .into_iter()
            .map(|((m, unit), count)| UnknownUnit {
                measure: m.to_string(),
                unit: unit.to_string(),
                count,
            })
            .collect();
        unk.sort_by(|a, b| (&a.measure, &a.unit).cmp(&(&b.measure, &b.unit)));
        q.unknown_units = unk;
        let mut imp: Vec<Implausible> = self
            .implausible
            .into_iter()
            .map(|(m, (count, min, max))| Implausible {
                measure: m.to_string(),
                count,
                min: two_significant_digits(min),
                max: two_significant_digits(max),
            })
            .collect();
        imp.sort_by(|a, b| a.measure.cmp(&b.measure));
        q.implausible_values = imp;
    }
}

impl Quality {
    /// Pretty JSON (NaN written as null).
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
    }

    /// Long CSV: `section,key,subkey,value`, one number per row.
    pub fn to_csv(&self) -> String {
        let mut rows: Vec<[String; 4]> = Vec::new();
        let mut push = |a: &str, b: &str, c: &str, v: String| {
            rows.push([a.to_string(), b.to_string(), c.to_string(), v]);
        };
        push("run", "index_date", "", self.index_date.clone());
        push("run", "lookback_days", "", self.lookback_days.to_string());
        push("run", "rx_window_days", "", self.rx_window_days.to_string());
        push(
            "run",
            "steps_window_days",
            "",
            self.steps_window_days.to_string(),
        );
        push("run", "strict", "", self.strict.to_string());
        push("run", "imputation", "", self.imputation.clone());
        push(
            "run",
            "pseudonym_key_demo",
            "",
            self.pseudonym_key_demo.to_string(),
        );
        push(
            "run",
            "pseudonym_key_fingerprint",
            "",
            self.pseudonym_key_fingerprint.clone(),
        );
        for i in &self.inputs {
            let key = &i.input;
            push("input", key, "bytes", i.bytes.to_string());
            push("input", key, "records_read", i.records_read.to_string());
            push("input", key, "mapped", i.mapped.to_string());
            push("input", key, "ignored", i.ignored.to_string());
            push("input", key, "unmapped", i.unmapped.to_string());
            push("input", key, "errors", i.errors.to_string());
            for (k, n) in &i.kinds {
                push("input_kind", key, k, n.to_string());
            }
            if let Some(p) = &i.person_id_from {
                push("input", key, "person_id_from", p.clone());
            }
        }
        push("persons", "seen", "", self.persons.seen.to_string());
        push("persons", "included", "", self.persons.included.to_string());
        push(
            "persons",
            "demographic_conflicts",
            "",
            self.persons.demographic_conflicts.to_string(),
        );
        push(
            "persons",
            "apple_identical_copies",
            "",
            self.persons.apple_identical_copies.to_string(),
        );
        for (k, n) in &self.persons.excluded {
            push("persons", "excluded", k, n.to_string());
        }
        push(
            "unmapped_codes",
            "distinct",
            "",
            self.unmapped_codes_distinct.to_string(),
        );
        push(
            "unmapped_codes",
            "total",
            "",
            self.unmapped_codes_total.to_string(),
        );
        for c in &self.unmapped_codes {
            push("unmapped_code", &c.system, &c.code, c.count.to_string());
        }
        for c in &self.unmapped_codes_not_shown {
            push(
                "unmapped_codes_not_shown",
                &c.system,
                "distinct",
                c.distinct.to_string(),
            );
            push(
                "unmapped_codes_not_shown",
                &c.system,
                "count",
                c.count.to_string(),
            );
        }
        for c in &self.unit_corrections {
            push(
                "unit_correction",
                &c.measure,
                &format!("{} -> {}", c.declared, c.assumed),
                c.count.to_string(),
            );
        }
        for u in &self.unknown_units {
            push("unknown_unit", &u.measure, &u.unit, u.count.to_string());
        }
        for (m, n) in &self.units_missing_assumed_canonical {
            push("unit_missing_assumed_canonical", m, "", n.to_string());
        }
        for i in &self.implausible_values {
            push("implausible", &i.measure, "count", i.count.to_string());
            push("implausible", &i.measure, "min", fmt_num(i.min));
            push("implausible", &i.measure, "max", fmt_num(i.max));
        }
        push(
            "conversion",
            "hba1c_jds_to_ngsp",
            "",
            self.hba1c_jds_converted.to_string(),
        );
        for (k, n) in &self.derived {
            push("derived", k, "", n.to_string());
        }
        for f in &self.missingness {
            push("missingness", &f.field, "measured", f.measured.to_string());
            push("missingness", &f.field, "derived", f.derived.to_string());
            push("missingness", &f.field, "imputed", f.imputed.to_string());
            push(
                "missingness",
                &f.field,
                "missing_pct",
                fmt_num(f.missing_pct),
            );
        }
        push("dates", "import_date", "", self.dates.import_date.clone());
        push(
            "dates",
            "refused_in_future",
            "",
            self.dates.refused_in_future.to_string(),
        );
        push(
            "dates",
            "after_index_date",
            "",
            self.dates.after_index_date.to_string(),
        );
        push(
            "history",
            "rows_written",
            "",
            self.history.rows_written.to_string(),
        );
        push(
            "history",
            "duplicates_dropped",
            "",
            self.history.duplicates_dropped.to_string(),
        );
        for (m, n) in &self.history.duplicates_by_measure {
            push("history", "duplicates", m, n.to_string());
        }
        push(
            "history",
            "rows_of_excluded_people",
            "",
            self.history.rows_of_excluded_people.to_string(),
        );
        push("errors", "total", "", self.errors.total.to_string());
        for (k, n) in &self.errors.by_kind {
            push("errors", "by_kind", k, n.to_string());
        }
        let mut out = String::from("section,key,subkey,value\n");
        for r in rows {
            let cells: Vec<String> = r.iter().map(|c| csv_cell(c)).collect();
            out.push_str(&cells.join(","));
            out.push('\n');
        }
        out
    }

    /// A readable summary with the same numbers.
    pub fn to_markdown(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "# Cohort import: data-quality report\n");
        let _ = writeln!(
            s,
            "Index date {}, look-back {} days (treatments {} days, steps {} days), {} mode, imputation: {}.",
            self.index_date,
            self.lookback_days,
            self.rx_window_days,
            self.steps_window_days,
            if self.strict { "strict" } else { "default (skip, count, report)" },
            self.imputation
        );
        if self.pseudonym_key_demo {
            let _ = writeln!(
                s,
                "\n**DEMO KEY: pseudonyms were made with the published demo key and protect nothing. \
                 Never use this output for real data.**"
            );
        } else {
            let _ = writeln!(
                s,
                "\nPseudonym key fingerprint: `{}` (same fingerprint = same key).",
                self.pseudonym_key_fingerprint
            );
        }
        let _ = writeln!(s, "\n## Inputs\n");
        let _ = writeln!(
            s,
            "Inputs are named by format and position (the order given on the command line, a \
             FHIR folder's files in name order), never by file name.\n"
        );
        let _ = writeln!(
            s,
            "| input | bytes | read | mapped | ignored | unmapped | errors |\n|---|---:|---:|---:|---:|---:|---:|"
        );
        for i in &self.inputs {
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {} | {} | {} |",
                md(&i.input),
                i.bytes,
                i.records_read,
                i.mapped,
                i.ignored,
                i.unmapped,
                i.errors
            );
        }
        let apple: Vec<&InputStats> = self
            .inputs
            .iter()
            .filter(|i| i.person_id_from.is_some())
            .collect();
        if !apple.is_empty() {
            let by_content = apple
                .iter()
                .filter(|i| i.person_id_from.as_deref() == Some("content hash"))
                .count();
            let _ = writeln!(
                s,
                "\nApple Health exports: one person per file; {} identified by --apple-id, {} by a \
                 keyed hash of the file's content (distinct files are distinct people; a \
                 byte-identical copy is the same person: {} such copies).",
                apple.len() - by_content,
                by_content,
                self.persons.apple_identical_copies
            );
        }
        let _ = writeln!(s, "\n## People\n");
        let _ = writeln!(
            s,
            "{} seen, {} included; {} with sex or birth date differing between sources.\n",
            self.persons.seen, self.persons.included, self.persons.demographic_conflicts
        );
        if !self.persons.excluded.is_empty() {
            let _ = writeln!(s, "| excluded because | people |\n|---|---:|");
            for (k, n) in &self.persons.excluded {
                let _ = writeln!(s, "| {} | {} |", k, n);
            }
        }
        let _ = writeln!(s, "\n## Baseline fields\n");
        let _ = writeln!(
            s,
            "| field | measured | derived | imputed | missing % |\n|---|---:|---:|---:|---:|"
        );
        for f in &self.missingness {
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {:.1} |",
                f.field, f.measured, f.derived, f.imputed, f.missing_pct
            );
        }
        if !self.derived.is_empty() {
            let _ = writeln!(s, "\nDerived values:");
            for (k, n) in &self.derived {
                let _ = writeln!(s, "- {k}: {n}");
            }
        }
        let _ = writeln!(
            s,
            "\nHbA1c converted from JDS to NGSP (NGSP = 1.02 × JDS + 0.25): {}.",
            self.hba1c_jds_converted
        );
        let _ = writeln!(s, "\n## Codes and units\n");
        let _ = writeln!(
            s,
            "{} unmapped code occurrences, {} distinct.\n",
            self.unmapped_codes_total, self.unmapped_codes_distinct
        );
        if !self.unmapped_codes.is_empty() {
            let _ = writeln!(s, "| system | code | count |\n|---|---|---:|");
            for c in self.unmapped_codes.iter().take(50) {
                let _ = writeln!(s, "| {} | {} | {} |", c.system, md(&c.code), c.count);
            }
        }
        if !self.unmapped_codes_not_shown.is_empty() {
            let _ = writeln!(
                s,
                "\nNot shown: codes without their code system's syntax (free text, names, local \
                 codes), or of a system without one (plain-CSV items, OMOP drug source values, \
                 systems not in the map):\n\n| system | distinct | count |\n|---|---:|---:|"
            );
            for c in &self.unmapped_codes_not_shown {
                let _ = writeln!(s, "| {} | {} | {} |", c.system, c.distinct, c.count);
            }
        }
        if !self.unit_corrections.is_empty() {
            let _ = writeln!(
                s,
                "\nValues implausible in their declared unit, taken in another (wrong-unit detection):\n\n| measure | declared | taken as | count |\n|---|---|---|---:|"
            );
            for c in &self.unit_corrections {
                let _ = writeln!(
                    s,
                    "| {} | {} | {} | {} |",
                    c.measure,
                    md(&c.declared),
                    c.assumed,
                    c.count
                );
            }
        }
        if !self.unknown_units.is_empty() {
            let _ = writeln!(
                s,
                "\nUnknown units (values refused):\n\n| measure | unit | count |\n|---|---|---:|"
            );
            for u in &self.unknown_units {
                let _ = writeln!(s, "| {} | {} | {} |", u.measure, md(&u.unit), u.count);
            }
        }
        if !self.units_missing_assumed_canonical.is_empty() {
            let _ = writeln!(s, "\nValues without a unit, taken in the canonical unit:");
            for (m, n) in &self.units_missing_assumed_canonical {
                let _ = writeln!(s, "- {m}: {n}");
            }
        }
        if !self.implausible_values.is_empty() {
            let _ = writeln!(
                s,
                "\nImplausible values (refused):\n\n| measure | count | min | max |\n|---|---:|---:|---:|"
            );
            for i in &self.implausible_values {
                let _ = writeln!(
                    s,
                    "| {} | {} | {} | {} |",
                    i.measure,
                    i.count,
                    fmt_num(i.min),
                    fmt_num(i.max)
                );
            }
        }
        let _ = writeln!(s, "\n## Dates\n");
        let _ = writeln!(
            s,
            "Import date {}: {} records dated after it refused (future dates). {} values dated \
             after the index date kept in the history, not used for the baseline.",
            self.dates.import_date, self.dates.refused_in_future, self.dates.after_index_date
        );
        let _ = writeln!(s, "\n## History\n");
        let _ = writeln!(
            s,
            "{} rows written; {} exact duplicates dropped; {} rows of excluded people not written.",
            self.history.rows_written,
            self.history.duplicates_dropped,
            self.history.rows_of_excluded_people
        );
        for (m, n) in &self.history.duplicates_by_measure {
            let _ = writeln!(s, "- duplicates of {m}: {n}");
        }
        let _ = writeln!(s, "\n## Errors\n");
        let _ = writeln!(s, "{} records refused.", self.errors.total);
        for (k, n) in &self.errors.by_kind {
            let _ = writeln!(s, "- {k}: {n}");
        }
        if !self.errors.first.is_empty() {
            let _ = writeln!(s, "\nFirst {}:\n", self.errors.first.len());
            for e in &self.errors.first {
                let _ = writeln!(s, "- {}", md(e));
            }
        }
        s
    }
}

/// A refused value to two significant digits (NaN if not finite): shows the magnitude of a
/// unit error without repeating a number that could be a patient number typed into a value
/// field (73519001 → 74000000).
fn two_significant_digits(v: f64) -> f64 {
    if !v.is_finite() {
        return f64::NAN;
    }
    if v == 0.0 {
        return 0.0;
    }
    // Rust formats floats exactly (no platform libm), so the same bits on every machine.
    format!("{v:.1e}").parse().unwrap_or(f64::NAN)
}

fn fmt_num(v: f64) -> String {
    if v.is_finite() {
        let r = (v * 1000.0).round() / 1000.0;
        format!("{r}")
    } else {
        String::new()
    }
}

fn csv_cell(c: &str) -> String {
    if c.contains([',', '"', '\n']) {
        format!("\"{}\"", c.replace('"', "\"\""))
    } else {
        c.to_string()
    }
}

fn md(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}
