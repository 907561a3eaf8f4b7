//! The end of an import: [`Importer::finish`] decides who is included (and counts why not),
//! assembles each included person's baseline in pseudonym order, fills the quality report's
//! person and field sections and sorts the history; the [`ImportResult`] holds it all.

use std::collections::BTreeMap;

use engine::Covariates;

use super::person::{baseline_of, ImportedPerson, Origin};
use super::quality::{FieldStats, Quality};
use super::spill::SortedHistory;
use super::{pseudo, Format, ImportError, Importer};

/// The result of an import: people in pseudonym order, the quality report and the sorted,
/// de-duplicated history (on disk until read).
pub struct ImportResult {
    pub people: Vec<ImportedPerson>,
    pub quality: Quality,
    pub(super) history: SortedHistory,
    /// Birth day of each included person (by row), for the history's `age_years`.
    pub(super) births: Vec<i32>,
    pub(super) index_day: i32,
}

impl ImportResult {
    pub fn index_day(&self) -> i32 {
        self.index_day
    }
}

impl Importer {
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
            match p.exclusion(&self.opts) {
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
