//! Statistical disclosure control for every aggregate a person can open: cells that describe
//! fewer than `k` people are withheld (primary suppression), and further cells are withheld
//! so that no withheld value can be recovered from the margins the output publishes
//! (complementary suppression).
//!
//! - [`Policy`]: whether control applies and its threshold `k` (`--min-cell`). The default
//!   for real people's data is [`NDB_MIN_CELL`] = 10, the minimum cell size of Japan's NDB
//!   Open Data (MHLW, 「NDBオープンデータ」 publication rules: a count below 10 is not
//!   published and shown as 「‐」; the same threshold as the NDB third-party provision
//!   guideline's rule for published aggregates). Never below [`MIN_CELL_FLOOR`] = 3.
//! - [`Grid`]: one two-way table with margins (rows × columns plus a total row and column,
//!   e.g. sex × age band, or year × age band) and which cells are sensitive; [`Grid::suppress`]
//!   decides what to withhold. Any output with margins maps onto one or more grids (interior
//!   cells it never shows are [`Cell::Hidden`]); [`suppress_line`] is the one-line case
//!   (parts and their total).
//! - [`summary`]: the adapter for `healthtwin run`'s summary (year × sex × band × metric).
//!
//! What a cell "describes" is defined by each adapter (docs/outputs.md, "Disclosure
//! control"); the rule is the same everywhere: a cell is *sensitive* when a count it
//! describes is above 0 and below `k` in any replicate.
//!
//! Must never: withhold nothing when a sensitive cell's value could be computed from the
//! published cells and margins, or change any output when the policy is off.

mod grid;
pub mod summary;

pub use grid::{suppress_line, Cell, Grid, Withheld};

/// Minimum cell size of Japan's NDB Open Data (counts below 10 are not published), the
/// default threshold for real people's data.
pub const NDB_MIN_CELL: u32 = 10;
/// The lowest threshold anyone may set: below 3, a withheld cell and one published
/// neighbour can identify a person by difference too easily.
pub const MIN_CELL_FLOOR: u32 = 3;

/// Why a disclosure policy cannot be set as asked.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DisclosureError {
    #[error("--min-cell {given}: the minimum cell size is at least {MIN_CELL_FLOOR}")]
    BelowFloor { given: u32 },
}

/// Whether disclosure control applies, and its threshold.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Policy {
    min_cell: Option<u32>,
}

impl Policy {
    /// No control (synthetic populations describe no real person).
    pub fn off() -> Policy {
        Policy { min_cell: None }
    }

    /// Cells describing fewer than `k` people are withheld.
    pub fn min_cell(k: u32) -> Result<Policy, DisclosureError> {
        if k < MIN_CELL_FLOOR {
            return Err(DisclosureError::BelowFloor { given: k });
        }
        Ok(Policy { min_cell: Some(k) })
    }

    /// The policy of a population: real people's data get `requested` or
    /// [`NDB_MIN_CELL`] (control cannot be turned off); synthetic people get control only
    /// when `requested`.
    pub fn resolve(real_people: bool, requested: Option<u32>) -> Result<Policy, DisclosureError> {
        match (real_people, requested) {
            (_, Some(k)) => Policy::min_cell(k),
            (true, None) => Policy::min_cell(NDB_MIN_CELL),
            (false, None) => Ok(Policy::off()),
        }
    }

    /// The threshold, when control applies.
    pub fn threshold(&self) -> Option<u32> {
        self.min_cell
    }

    pub fn applies(&self) -> bool {
        self.min_cell.is_some()
    }

    /// Whether a count of people (or events) is sensitive: above 0 and below `k`.
    pub fn sensitive(&self, count: u64) -> bool {
        self.min_cell
            .is_some_and(|k| count > 0 && count < u64::from(k))
    }

    /// Whether any of `counts` is sensitive.
    pub fn any_sensitive(&self, counts: impl IntoIterator<Item = u64>) -> bool {
        self.applies() && counts.into_iter().any(|c| self.sensitive(c))
    }

    /// A count shown to people (a cohort size, a number of participants): `None` when it is
    /// sensitive.
    pub fn shown(&self, count: u64) -> Option<u64> {
        (!self.sensitive(count)).then_some(count)
    }

    /// The record of this policy for a manifest, with the number of cells withheld.
    pub fn record(&self, suppressed_cells: u64) -> Record {
        Record {
            min_cell: self.min_cell,
            applied: self.applies(),
            suppressed_cells,
        }
    }
}

/// What a manifest records about disclosure control (`disclosure` key).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Record {
    /// The threshold `k`, or none when control is off.
    pub min_cell: Option<u32>,
    pub applied: bool,
    /// Cells (table rows, or values of a row) withheld in the outputs.
    pub suppressed_cells: u64,
}

/// A lower bound of the people behind `person_years_fixed` (fixed point, 1e-6 years) of
/// one year: nobody lives more than one year in a year, so at least ⌈person-years⌉ people.
pub fn people_from_person_years(person_years_fixed: i64, per_person_max_years: f64) -> u64 {
    if person_years_fixed <= 0 {
        return 0;
    }
    let years = person_years_fixed as f64 / engine::observe::FIXED_POINT;
    (years / per_person_max_years).ceil() as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_data_cannot_turn_control_off_or_go_below_the_floor() {
        assert_eq!(Policy::resolve(true, None).unwrap().threshold(), Some(10));
        assert_eq!(Policy::resolve(true, Some(5)).unwrap().threshold(), Some(5));
        assert_eq!(
            Policy::resolve(true, Some(2)),
            Err(DisclosureError::BelowFloor { given: 2 })
        );
        assert_eq!(Policy::resolve(false, None).unwrap(), Policy::off());
        assert_eq!(
            Policy::resolve(false, Some(3)).unwrap().threshold(),
            Some(3)
        );
        let p = Policy::min_cell(10).unwrap();
        assert!(!p.sensitive(0) && p.sensitive(1) && p.sensitive(9) && !p.sensitive(10));
        assert!(!Policy::off().sensitive(1));
    }

    #[test]
    fn person_years_bound_people_from_below() {
        assert_eq!(people_from_person_years(0, 1.0), 0);
        assert_eq!(people_from_person_years(1, 1.0), 1);
        assert_eq!(people_from_person_years(9_000_000, 1.0), 9);
        assert_eq!(people_from_person_years(9_000_001, 1.0), 10);
    }
}
