//! Disclosure control of `healthtwin run`'s summary: for every (year, metric), the
//! sex × age-band table with its margins (sex ∈ {male, female, all} × band ∈ {0-4 … 100+,
//! all}) is one [`Grid`]; margins are sums of counts, so a withheld cell is protected within
//! its own table. Years are published separately (no horizon totals in the summary).
//!
//! What a cell describes, per replicate (docs/outputs.md, "Disclosure control"):
//! - `population` (count): the people alive at the census;
//! - `person_years`: the people who lived in the cell during the year, at least
//!   max(people at the census, ⌈person-years⌉);
//! - prevalences and means: the people measured, the metric's denominator (for values
//!   recorded every step, whose denominator counts person-steps, the people who lived in
//!   the cell);
//! - rates: the people at risk, at least ⌈person-years at risk⌉, and the events.
//!
//! A cell is sensitive when any of its counts is above 0 and below `k` in any replicate.

use engine::observe::{builtin, MetricDef, MetricKind, N_AGE_BANDS};
use engine::summary::{collapse, BandLevel, SexLevel, SummaryRow};
use engine::{Aggregator, Sex};

use super::{people_from_person_years, Cell, Grid, Policy};

/// Sex levels in grid order: male, female, then the margin (all).
const SEX_ROWS: [SexLevel; 3] = [
    SexLevel::One(Sex::Male),
    SexLevel::One(Sex::Female),
    SexLevel::All,
];

fn sex_row(s: SexLevel) -> usize {
    match s {
        SexLevel::One(Sex::Male) => 0,
        SexLevel::One(Sex::Female) => 1,
        SexLevel::All => 2,
    }
}

fn band_col(b: BandLevel) -> usize {
    match b {
        BandLevel::One(b) => b,
        BandLevel::All => N_AGE_BANDS,
    }
}

fn band_level(col: usize) -> BandLevel {
    if col == N_AGE_BANDS {
        BandLevel::All
    } else {
        BandLevel::One(col)
    }
}

/// Which cells of a run's summary are withheld.
#[derive(Clone, Debug, PartialEq)]
pub struct SummaryDisclosure {
    policy: Policy,
    years: usize,
    metrics: usize,
    /// (year, sex row, band col, metric), row-major.
    withheld: Vec<bool>,
    count: u64,
}

const CELLS: usize = 3 * (N_AGE_BANDS + 1);

impl SummaryDisclosure {
    /// Nothing withheld (the policy is off).
    pub fn none() -> SummaryDisclosure {
        SummaryDisclosure {
            policy: Policy::off(),
            years: 0,
            metrics: 0,
            withheld: Vec::new(),
            count: 0,
        }
    }

    /// The cells of the summary of `replicates` (one aggregate per replicate) to withhold
    /// under `policy`.
    pub fn new(replicates: &[Aggregator], defs: &[MetricDef], policy: Policy) -> SummaryDisclosure {
        let Some(first) = replicates.first().filter(|_| policy.applies()) else {
            return SummaryDisclosure {
                policy,
                ..SummaryDisclosure::none()
            };
        };
        let years = first.years();
        let metrics = defs.len();
        let mut withheld = vec![false; years * CELLS * metrics];
        let mut count = 0;
        for year in 0..years {
            // Per (cell, replicate): people at the census, and a lower bound of the people
            // who lived in the cell.
            let mut census = vec![0u64; CELLS * replicates.len()];
            let mut lived = vec![0u64; CELLS * replicates.len()];
            for (r, agg) in replicates.iter().enumerate() {
                for (row, &sex) in SEX_ROWS.iter().enumerate() {
                    for col in 0..=N_AGE_BANDS {
                        let band = band_level(col);
                        let pop = collapse(agg, year, sex, band, builtin::POPULATION)
                            .num
                            .max(0) as u64;
                        let py = collapse(agg, year, sex, band, builtin::PERSON_YEARS).num;
                        let i = (row * (N_AGE_BANDS + 1) + col) * replicates.len() + r;
                        census[i] = pop;
                        lived[i] = pop.max(people_from_person_years(py, 1.0));
                    }
                }
            }
            for (m, def) in defs.iter().enumerate() {
                let mut grid = Grid::new(2, N_AGE_BANDS);
                for (row, &sex) in SEX_ROWS.iter().enumerate() {
                    for col in 0..=N_AGE_BANDS {
                        let band = band_level(col);
                        let base = (row * (N_AGE_BANDS + 1) + col) * replicates.len();
                        let mut sensitive = false;
                        let mut weight = 0u64;
                        let mut published = false;
                        for (r, agg) in replicates.iter().enumerate() {
                            let lived_here = lived[base + r];
                            let acc = collapse(agg, year, sex, band, m);
                            // Rows exist where someone lived and the value is defined
                            // (engine::summary::summarize).
                            if engine::observe::cell_value(def.kind, acc).is_some() {
                                published = true;
                            }
                            let counts: [u64; 2] = match def.kind {
                                MetricKind::Total => [acc.num.max(0) as u64, 0],
                                MetricKind::PersonTime => [lived_here, 0],
                                MetricKind::Prevalence | MetricKind::Mean => {
                                    [(acc.den.max(0) as u64).min(lived_here), 0]
                                }
                                MetricKind::Incidence => [
                                    people_from_person_years(acc.den, 1.0),
                                    acc.num.max(0) as u64,
                                ],
                            };
                            sensitive |= policy.any_sensitive(counts);
                            weight = weight.max(counts[0]);
                        }
                        let anyone = (0..replicates.len())
                            .any(|r| lived[base + r] > 0 || census[base + r] > 0);
                        let cell = if anyone && published {
                            Cell::Shown { sensitive, weight }
                        } else {
                            Cell::Known
                        };
                        grid.set(row, col, cell);
                    }
                }
                let w = grid.suppress();
                for row in 0..3 {
                    for col in 0..=N_AGE_BANDS {
                        if w.get(row, col) {
                            withheld
                                [((year * CELLS) + row * (N_AGE_BANDS + 1) + col) * metrics + m] =
                                true;
                            count += 1;
                        }
                    }
                }
            }
        }
        SummaryDisclosure {
            policy,
            years,
            metrics,
            withheld,
            count,
        }
    }

    pub fn policy(&self) -> Policy {
        self.policy
    }

    /// Whether the cell (year, sex, band, metric) is withheld.
    pub fn withheld(&self, year: usize, sex: SexLevel, band: BandLevel, metric: usize) -> bool {
        if year >= self.years || metric >= self.metrics {
            return false;
        }
        let cell = sex_row(sex) * (N_AGE_BANDS + 1) + band_col(band);
        self.withheld[(year * CELLS + cell) * self.metrics + metric]
    }

    /// Whether the summary row is withheld.
    pub fn row_withheld(&self, row: &SummaryRow) -> bool {
        self.withheld(row.year as usize, row.sex, row.band, row.metric)
    }

    /// Cells withheld.
    pub fn count(&self) -> u64 {
        self.count
    }
}
