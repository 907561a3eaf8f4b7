//! Observers: streaming, exact aggregation of what the step loop reports.
//!
//! Cells are (year × sex × 5-year age band × metric), each holding a numerator and a
//! denominator as integers (continuous values in fixed point, 1e-6 units). Integer sums are
//! associative, so the totals are bit-identical whatever the chunk size, the thread count or
//! the order in which partial aggregates are merged, and a run split into shards merges into
//! exactly the totals of one big run. Memory is O(years × bands × metrics), never O(patients).

use crate::patient::{Conditions, Covariates, Patient, Sex, Treatments};

/// Fixed-point scale of continuous values and person-time.
pub const FIXED_POINT: f64 = 1e6;

#[inline]
pub fn to_fixed(x: f64) -> i64 {
    crate::math::round_to_i64(x * FIXED_POINT)
}

/// 5-year age bands 0-4, 5-9, ..., 95-99, 100+.
pub const N_AGE_BANDS: usize = 21;

/// The band of `age_years` (negative and NaN ages in the first band).
///
/// Whole years divided in integers: the same band as truncating `age / 5.0` (division is
/// correctly rounded and monotone, and `5n / 5.0` is exactly `n`, so the quotient never
/// rounds up to a multiple of 5 it has not reached), without a floating-point division.
#[inline]
pub fn age_band(age_years: f64) -> usize {
    crate::math::floor_index(age_years, 5 * (N_AGE_BANDS - 1)) / 5
}

pub fn age_band_label(band: usize) -> String {
    if band + 1 >= N_AGE_BANDS {
        format!("{}+", band * 5)
    } else {
        format!("{}-{}", band * 5, band * 5 + 4)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MetricKind {
    /// Share of people alive at the yearly census who have a property.
    Prevalence,
    /// Mean of a value over people alive at the yearly census.
    Mean,
    /// Events per person-time at risk.
    Incidence,
    /// A plain count (people alive at the census).
    Total,
    /// Person-years lived.
    PersonTime,
}

#[derive(Clone, Debug, PartialEq)]
pub struct MetricDef {
    pub name: String,
    pub kind: MetricKind,
    pub description: String,
}

impl MetricDef {
    pub fn new(name: impl Into<String>, kind: MetricKind, description: impl Into<String>) -> Self {
        MetricDef {
            name: name.into(),
            kind,
            description: description.into(),
        }
    }
}

/// Numerator and denominator of one cell.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Acc {
    pub num: i64,
    pub den: i64,
}

/// Indices of the engine's own metrics; a model's metrics follow them.
pub mod builtin {
    pub const POPULATION: usize = 0;
    pub const PERSON_YEARS: usize = 1;
    pub const DEATHS: usize = 2;
    pub const AGE: usize = 3;
    /// The 11 continuous covariates, in `Covariates::CONTINUOUS` order; one of them by
    /// name with [`covariate`].
    pub const COVARIATES: usize = 4;

    /// The mean metric of the continuous covariate `name` (`"sbp_mmhg"`, `"frailty_index"`,
    /// …, as in `Covariates::CONTINUOUS`), if there is one.
    pub fn covariate(name: &str) -> Option<usize> {
        crate::patient::Covariates::CONTINUOUS
            .iter()
            .position(|c| *c == name)
            .map(|i| COVARIATES + i)
    }
    pub const SMOKER: usize = COVARIATES + 11;
    pub const CONDITIONS: usize = SMOKER + 1;
    pub const TREATMENTS: usize = CONDITIONS + 6;
    /// Deaths by cause, in the model's cause order.
    pub const DEATHS_BY_CAUSE: usize = TREATMENTS + 3;
}

/// The engine's metrics followed by the model's, as one list (the output's metric order).
pub fn metric_defs(causes: &[&str], model: &[MetricDef]) -> Vec<MetricDef> {
    use MetricKind::*;
    let mut defs = vec![
        MetricDef::new("population", Total, "people alive at the start of the year"),
        MetricDef::new("person_years", PersonTime, "person-years lived in the year"),
        MetricDef::new("deaths", Incidence, "deaths from any cause"),
        MetricDef::new("age", Mean, "age in years at the start of the year"),
    ];
    for name in Covariates::CONTINUOUS {
        defs.push(MetricDef::new(
            name,
            Mean,
            format!("{name} at the start of the year"),
        ));
    }
    defs.push(MetricDef::new("smoker", Prevalence, "current smokers"));
    let flags = Conditions::ALL
        .iter()
        .map(|(_, n)| n)
        .chain(Treatments::ALL.iter().map(|(_, n)| n));
    for name in flags {
        defs.push(MetricDef::new(
            *name,
            Prevalence,
            format!("{name} at the start of the year"),
        ));
    }
    for cause in causes {
        defs.push(MetricDef::new(
            format!("deaths_{cause}"),
            Incidence,
            format!("deaths from {cause}"),
        ));
    }
    defs.extend(model.iter().cloned());
    defs
}

/// Aggregates of one simulation year, or of all years when `years > 1`.
#[derive(Clone, Debug, PartialEq)]
pub struct Aggregator {
    years: usize,
    metrics: usize,
    cells: Vec<Acc>,
}

impl Aggregator {
    pub fn new(years: usize, metrics: usize) -> Self {
        Aggregator {
            years,
            metrics,
            cells: vec![Acc::default(); years * 2 * N_AGE_BANDS * metrics],
        }
    }

    /// An aggregator of `years` × `metrics` from its cells (in [`Self::cells`] order), or
    /// `None` when their number does not fit.
    pub fn from_cells(years: usize, metrics: usize, cells: Vec<Acc>) -> Option<Self> {
        (cells.len() == years * 2 * N_AGE_BANDS * metrics).then_some(Aggregator {
            years,
            metrics,
            cells,
        })
    }

    /// Every cell, year-major, then sex, age band and metric (what a shard saves).
    pub fn cells(&self) -> &[Acc] {
        &self.cells
    }

    pub fn years(&self) -> usize {
        self.years
    }
    pub fn metrics(&self) -> usize {
        self.metrics
    }

    #[inline]
    pub fn cell_base(&self, year: usize, sex: Sex, band: usize) -> usize {
        ((year * 2 + sex.index()) * N_AGE_BANDS + band) * self.metrics
    }

    #[inline]
    pub fn cells_mut(&mut self, base: usize) -> &mut [Acc] {
        &mut self.cells[base..base + self.metrics]
    }

    pub fn get(&self, year: usize, sex: Sex, band: usize, metric: usize) -> Acc {
        self.cells[self.cell_base(year, sex, band) + metric]
    }

    /// Adds `other` in place (exact, so merge order never matters).
    pub fn merge(&mut self, other: &Aggregator) {
        assert_eq!(
            self.cells.len(),
            other.cells.len(),
            "aggregators of different shapes"
        );
        for (a, b) in self.cells.iter_mut().zip(&other.cells) {
            a.num += b.num;
            a.den += b.den;
        }
    }

    /// Adds a one-year aggregator into year `year` of this one.
    pub fn merge_year(&mut self, year: usize, one_year: &Aggregator) {
        assert_eq!(one_year.years, 1);
        assert_eq!(one_year.metrics, self.metrics);
        let n = 2 * N_AGE_BANDS * self.metrics;
        let dst = &mut self.cells[year * n..(year + 1) * n];
        for (a, b) in dst.iter_mut().zip(&one_year.cells) {
            a.num += b.num;
            a.den += b.den;
        }
    }

    /// The census of one living person at the start of a year: the engine's metrics.
    #[inline]
    pub fn census<S>(&mut self, year: usize, p: &Patient<S>) -> usize {
        let base = self.cell_base(year, p.sex(), age_band(p.age_years));
        let c = self.cells_mut(base);
        c[builtin::POPULATION].num += 1;
        mean(&mut c[builtin::AGE], p.age_years);
        for (i, v) in p.now.continuous().into_iter().enumerate() {
            mean(&mut c[builtin::COVARIATES + i], v);
        }
        flag(&mut c[builtin::SMOKER], p.now.smoker);
        for (i, (f, _)) in Conditions::ALL.iter().enumerate() {
            flag(
                &mut c[builtin::CONDITIONS + i],
                p.now.conditions.contains(*f),
            );
        }
        for (i, (f, _)) in Treatments::ALL.iter().enumerate() {
            flag(
                &mut c[builtin::TREATMENTS + i],
                p.now.treatments.contains(*f),
            );
        }
        base
    }
}

#[inline]
fn mean(a: &mut Acc, v: f64) {
    a.num += to_fixed(v);
    a.den += 1;
}

#[inline]
fn flag(a: &mut Acc, on: bool) {
    a.num += on as i64;
    a.den += 1;
}

/// A length of time in years with its fixed-point value ([`to_fixed`]), converted once.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FixedYears {
    years: f64,
    fixed: i64,
}

impl FixedYears {
    #[inline]
    pub fn new(years: f64) -> Self {
        FixedYears {
            years,
            fixed: to_fixed(years),
        }
    }
    #[inline]
    pub fn years(self) -> f64 {
        self.years
    }
    #[inline]
    pub fn fixed(self) -> i64 {
        self.fixed
    }
}

/// What a model's phases use to report to the aggregator for the current step's cell.
pub struct Recorder<'a> {
    /// The cell's model metrics (the engine's own come before them).
    cells: &'a mut [Acc],
    /// The last person-time converted to fixed point (most calls pass the step length).
    last: FixedYears,
}

impl<'a> Recorder<'a> {
    /// A recorder of the model's metrics, which start at index `offset` of `cells`.
    pub fn new(cells: &'a mut [Acc], offset: usize) -> Self {
        Self::with_step(cells, offset, FixedYears::new(0.0))
    }
    /// A recorder whose conversion of `step` (the step length) is already made: the loop
    /// converts it once per run instead of once per person-step.
    #[inline]
    pub fn with_step(cells: &'a mut [Acc], offset: usize, step: FixedYears) -> Self {
        Recorder {
            cells: &mut cells[offset..],
            last: step,
        }
    }
    /// `years` in fixed point (the last conversion, reused while `years` repeats).
    #[inline]
    fn fixed(&mut self, years: f64) -> i64 {
        if years != self.last.years {
            self.last = FixedYears::new(years);
        }
        self.last.fixed
    }
    /// Person-time at risk (years) in several of the model's incidence metrics at once:
    /// the `N` metrics from `first` as one block, so a phase that records many of them
    /// pays one conversion and one bounds check.
    #[inline]
    pub fn at_risk_block<const N: usize>(&mut self, first: usize, years: f64) -> AtRisk<'_, N> {
        let fixed = self.fixed(years);
        let cells = (&mut self.cells[first..first + N])
            .try_into()
            .expect("a block of N cells");
        AtRisk { cells, fixed }
    }
    /// One event of the model's incidence metric `metric` (index into the model's metrics).
    #[inline]
    pub fn event(&mut self, metric: usize) {
        self.cells[metric].num += 1;
    }
    /// Person-time at risk when `on`.
    #[inline]
    pub fn at_risk_if(&mut self, metric: usize, years: f64, on: bool) {
        if on {
            self.at_risk(metric, years);
        }
    }
    /// Person-time at risk (years) for the model's incidence metric `metric`.
    #[inline]
    pub fn at_risk(&mut self, metric: usize, years: f64) {
        let fixed = self.fixed(years);
        self.cells[metric].den += fixed;
    }
    /// At the census: a prevalence flag of the model's metric `metric`.
    #[inline]
    pub fn flag(&mut self, metric: usize, on: bool) {
        flag(&mut self.cells[metric], on);
    }
    /// At the census: a value of the model's mean metric `metric`.
    #[inline]
    pub fn value(&mut self, metric: usize, v: f64) {
        mean(&mut self.cells[metric], v);
    }
}

/// The person-time of one step in a block of a model's incidence metrics
/// ([`Recorder::at_risk_block`]; metric indices relative to the block's first).
pub struct AtRisk<'b, const N: usize> {
    cells: &'b mut [Acc; N],
    fixed: i64,
}

impl<const N: usize> AtRisk<'_, N> {
    /// At risk in metric `metric` of the block.
    #[inline]
    pub fn add(&mut self, metric: usize) {
        self.cells[metric].den += self.fixed;
    }
    /// At risk in metric `metric` of the block when `on` (without a branch).
    #[inline]
    pub fn add_if(&mut self, metric: usize, on: bool) {
        self.cells[metric].den += self.fixed * i64::from(on);
    }
}

/// The value of a cell as published: a share in %, a mean, a rate per 1,000 person-years,
/// or a total. `None` where the denominator is empty.
pub fn cell_value(kind: MetricKind, a: Acc) -> Option<f64> {
    match kind {
        MetricKind::Prevalence => (a.den > 0).then(|| 100.0 * a.num as f64 / a.den as f64),
        MetricKind::Mean => (a.den > 0).then(|| a.num as f64 / a.den as f64 / FIXED_POINT),
        MetricKind::Incidence => {
            (a.den > 0).then(|| 1000.0 * a.num as f64 / (a.den as f64 / FIXED_POINT))
        }
        MetricKind::Total => Some(a.num as f64),
        MetricKind::PersonTime => Some(a.num as f64 / FIXED_POINT),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The integer band is the band of the floating-point division it replaced, also just
    /// below and at every band boundary and for out-of-range ages.
    #[test]
    fn age_band_matches_the_division() {
        let by_division = |x: f64| ((x.max(0.0) / 5.0) as usize).min(N_AGE_BANDS - 1);
        let mut ages = vec![
            -1.0,
            -0.0,
            0.0,
            f64::MIN_POSITIVE,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            1e300,
        ];
        for k in 1..=120u32 {
            let edge = f64::from(k) * 5.0;
            let mut below = edge;
            let mut above = edge;
            for _ in 0..4 {
                below = f64::from_bits(below.to_bits() - 1);
                above = f64::from_bits(above.to_bits() + 1);
                ages.extend([below, above]);
            }
            ages.push(edge);
        }
        for i in 0..200_000u32 {
            ages.push(f64::from(i) * 0.000_61 + f64::from(i % 13) * 1e-9);
        }
        for x in ages {
            assert_eq!(age_band(x), by_division(x), "age {x:e}");
        }
    }
}
