//! Target statistics computed from one run: the exact aggregates (summary metrics pooled by
//! summing numerators and denominators over sexes, 5-year bands and years), the yearly
//! states of the traced people (transitions, longitudinal growth, person-level shares) and
//! the final states (cohort follow-up).
//!
//! Must never: run a simulation or keep anything but what one run's statistics need.

use engine::math::DetMath;
use engine::observe::{cell_value, Acc, MetricDef, MetricKind};
use engine::run::TraceRow;
use engine::{Aggregator, Patient, Sex};
use models::frailty::kcl::Phenotype;
use models::PersonState;

use crate::empirical::Flag;
use crate::targets::{Cells, PersonMeasure, SexSel, State, Statistic, Target};

/// A statistic with its metric names resolved to indices, checked against the model.
#[derive(Clone, Debug)]
pub struct Resolved {
    pub statistic: Statistic,
    metrics: Vec<(usize, MetricKind)>,
}

/// Resolves the targets' metric names against `defs` (the run's metric list); errors name
/// the target and the metric.
pub fn resolve(targets: &[Target], defs: &[MetricDef]) -> Result<Vec<Resolved>, String> {
    let find = |t: &Target, name: &str| -> Result<(usize, MetricKind), String> {
        defs.iter()
            .position(|d| d.name == name)
            .map(|i| (i, defs[i].kind))
            .ok_or_else(|| {
                format!(
                    "target `{}`: no summary metric `{name}` (see `healthtwin metrics`)",
                    t.name
                )
            })
    };
    let mut out = Vec::new();
    for t in targets {
        let metrics = match &t.statistic {
            Statistic::Metric { cells, kind } => {
                let (i, actual) = find(t, &cells.metric)?;
                if actual != *kind {
                    return Err(format!(
                        "target `{}`: metric `{}` is not a {} (see `healthtwin metrics` for its kind)",
                        t.name,
                        cells.metric,
                        kind_word(*kind)
                    ));
                }
                vec![(i, actual)]
            }
            Statistic::Ratio {
                numerator,
                denominator,
                ..
            } => vec![find(t, &numerator.metric)?, find(t, &denominator.metric)?],
            Statistic::LogSlope { cells } => {
                let m = find(t, &cells.metric)?;
                if m.1 != MetricKind::Mean {
                    return Err(format!(
                        "target `{}`: log_slope needs a mean metric, `{}` is not",
                        t.name, cells.metric
                    ));
                }
                vec![m]
            }
            _ => Vec::new(),
        };
        out.push(Resolved {
            statistic: t.statistic.clone(),
            metrics,
        });
    }
    Ok(out)
}

fn kind_word(kind: MetricKind) -> &'static str {
    match kind {
        MetricKind::Prevalence => "prevalence",
        MetricKind::Mean => "mean",
        MetricKind::Incidence => "incidence",
        MetricKind::Total => "count",
        MetricKind::PersonTime => "person-time",
    }
}

/// What one run leaves for the statistics.
pub struct RunView<'a> {
    pub aggregate: &'a Aggregator,
    /// Yearly states (at the start of each year) of the traced people, sorted by (patient,
    /// year).
    pub trace: &'a [TraceRow<PersonState>],
    /// Every person's state at the end of the run (at death for the dead).
    pub patients: &'a [Patient<PersonState>],
    /// Years simulated.
    pub years: u32,
}

fn sexes(sel: SexSel) -> &'static [Sex] {
    match sel {
        SexSel::Male => &[Sex::Male],
        SexSel::Female => &[Sex::Female],
        SexSel::All => &Sex::ALL,
    }
}

fn in_ages(age: f64, ages: [u32; 2]) -> bool {
    age >= f64::from(ages[0]) && age < f64::from(ages[1]) + 1.0
}

impl RunView<'_> {
    fn pooled(&self, c: &Cells, metric: usize) -> Acc {
        let mut acc = Acc::default();
        for y in c.years[0]..=c.years[1] {
            if y as usize >= self.aggregate.years() {
                continue;
            }
            for &s in sexes(c.sex) {
                for b in c.bands[0]..=c.bands[1] {
                    let a = self.aggregate.get(y as usize, s, b, metric);
                    acc.num += a.num;
                    acc.den += a.den;
                }
            }
        }
        acc
    }

    fn cells_value(&self, c: &Cells, (metric, kind): (usize, MetricKind)) -> f64 {
        cell_value(kind, self.pooled(c, metric)).unwrap_or(f64::NAN)
    }

    /// The statistic's value in this run (NaN where its denominator is empty).
    pub fn value(&self, r: &Resolved) -> f64 {
        match &r.statistic {
            Statistic::Metric { cells, .. } => self.cells_value(cells, r.metrics[0]),
            Statistic::Ratio {
                numerator,
                denominator,
                scale,
            } => {
                let n = self.cells_value(numerator, r.metrics[0]);
                let d = self.cells_value(denominator, r.metrics[1]);
                if d == 0.0 {
                    f64::NAN
                } else {
                    scale * n / d
                }
            }
            Statistic::LogSlope { cells } => {
                let mut pts = Vec::new();
                for b in cells.bands[0]..=cells.bands[1] {
                    let one = Cells {
                        bands: [b, b],
                        ..cells.clone()
                    };
                    let v = self.cells_value(&one, r.metrics[0]);
                    if v > 0.0 {
                        pts.push((5.0 * b as f64 + 2.5, v.ln_det()));
                    }
                }
                100.0 * slope(&pts)
            }
            Statistic::Transition {
                from,
                to,
                ages,
                start,
                end,
                exclude_facility,
            } => {
                let lo = end.floor() as u32;
                let hi = end.ceil() as u32;
                let at = |e: u32| self.transition(*from, *to, *ages, *start, e, *exclude_facility);
                if lo == hi {
                    at(lo)
                } else {
                    let w = end - f64::from(lo);
                    (1.0 - w) * at(lo) + w * at(hi)
                }
            }
            Statistic::Growth {
                covariate,
                ages,
                start,
                end,
            } => {
                let idx = covariate_index(covariate);
                let (mut a, mut b, mut n) = (0.0, 0.0, 0.0);
                self.pairs(*start, *end, |p0, p1| {
                    if in_ages(p0.age_years, *ages) {
                        a += p0.now.continuous()[idx];
                        b += p1.now.continuous()[idx];
                        n += 1.0;
                    }
                });
                if n == 0.0 || a <= 0.0 || b <= 0.0 {
                    f64::NAN
                } else {
                    100.0 * (b / a).ln_det() / f64::from(end - start)
                }
            }
            Statistic::PersonShare {
                measure,
                at_least,
                sex,
                ages,
                year,
                exclude_certified,
            } => {
                let (mut hit, mut n) = (0u64, 0u64);
                self.each_at(*year, |p| {
                    if !sex.covers(p.sex()) || !in_ages(p.age_years, *ages) {
                        return;
                    }
                    if *exclude_certified && p.state.fr.certified() {
                        return;
                    }
                    let v = match measure {
                        PersonMeasure::KclScore => f64::from(p.state.fr.kcl_total()),
                    };
                    n += 1;
                    hit += u64::from(v >= *at_least);
                });
                if n == 0 {
                    f64::NAN
                } else {
                    100.0 * hit as f64 / n as f64
                }
            }
            Statistic::ChangePerYear {
                covariate,
                band,
                sex,
                ages,
            } => {
                let idx = covariate_index(covariate);
                let years = f64::from(self.years);
                let (mut sum, mut n) = (0.0, 0.0);
                for p in self.patients {
                    let b = &p.baseline;
                    let v0 = b.covariates.continuous()[idx];
                    let counted = p.alive()
                        && sex.covers(b.sex)
                        && in_ages(b.age_years, *ages)
                        && v0 >= band[0]
                        && v0 < band[1];
                    if !counted {
                        continue;
                    }
                    sum += (p.now.continuous()[idx] - v0) / years;
                    n += 1.0;
                }
                if n == 0.0 {
                    f64::NAN
                } else {
                    sum / n
                }
            }
            Statistic::EventRate { flag, sex, ages } => {
                let (events, years) = self.event_rate(*flag, *sex, *ages);
                if years > 0.0 {
                    1000.0 * events / years
                } else {
                    f64::NAN
                }
            }
        }
    }

    /// The traced rows of one person (the trace is sorted by patient, then year).
    fn rows_by_patient(&self) -> impl Iterator<Item = &[TraceRow<PersonState>]> {
        self.trace.chunk_by(|a, b| a.patient == b.patient)
    }

    /// The state of a traced person at the start of `year` (`year == years`: the end of the
    /// run), if alive then.
    fn state_at<'s>(
        &'s self,
        rows: &'s [TraceRow<PersonState>],
        year: u32,
    ) -> Option<&'s Patient<PersonState>> {
        if year >= self.years {
            let id = rows.first()?.patient as usize;
            return self.patients.get(id).filter(|p| p.alive());
        }
        rows.iter()
            .find(|r| r.year == year)
            .map(|r| &r.patient_state)
    }

    /// Every traced person alive at both `start` and `end`: (state at start, state at end).
    fn pairs(
        &self,
        start: u32,
        end: u32,
        mut f: impl FnMut(&Patient<PersonState>, &Patient<PersonState>),
    ) {
        for rows in self.rows_by_patient() {
            if let (Some(a), Some(b)) = (self.state_at(rows, start), self.state_at(rows, end)) {
                f(a, b);
            }
        }
    }

    /// Every traced person alive at the start of `year`.
    fn each_at(&self, year: u32, mut f: impl FnMut(&Patient<PersonState>)) {
        for rows in self.rows_by_patient() {
            if let Some(p) = self.state_at(rows, year) {
                f(p);
            }
        }
    }

    fn transition(
        &self,
        from: State,
        to: State,
        ages: [u32; 2],
        start: u32,
        end: u32,
        exclude_facility: bool,
    ) -> f64 {
        let rank = |p: Phenotype| match p {
            Phenotype::Robust => 0,
            Phenotype::Prefrail => 1,
            Phenotype::Frail => 2,
        };
        let (mut hit, mut n) = (0u64, 0u64);
        self.pairs(start, end, |a, b| {
            if !in_ages(a.age_years, ages) || (exclude_facility && a.state.fr.institution) {
                return;
            }
            let pa = a.state.fr.phenotype();
            let pb = b.state.fr.phenotype();
            let from_ok = match from {
                State::Robust => pa == Phenotype::Robust,
                State::Prefrail => pa == Phenotype::Prefrail,
                State::Frail => pa == Phenotype::Frail,
                _ => true,
            };
            if !from_ok {
                return;
            }
            let to_ok = match to {
                State::Robust => pb == Phenotype::Robust,
                State::Prefrail => pb == Phenotype::Prefrail,
                State::Frail => pb == Phenotype::Frail,
                State::Improved => rank(pb) < rank(pa),
                State::Worsened => rank(pb) > rank(pa),
                State::Same => rank(pb) == rank(pa),
                State::SameOrFewerDeficits => b.state.fr.count() <= a.state.fr.count(),
                State::Any => true,
            };
            n += 1;
            hit += u64::from(to_ok);
        });
        if n == 0 {
            f64::NAN
        } else {
            100.0 * hit as f64 / n as f64
        }
    }

    /// First events of `flag` after the start among people without it at baseline: (events,
    /// person-years). An event's time is the middle of the year in which the yearly states
    /// (or the final state) first show it; people are followed to death or the end.
    fn event_rate(&self, flag: Flag, sex: SexSel, ages: [u32; 2]) -> (f64, f64) {
        let (mut events, mut years) = (0.0, 0.0);
        for rows in self.rows_by_patient() {
            let Some(first) = rows.first() else { continue };
            let p0 = &first.patient_state;
            let b = &p0.baseline;
            if !sex.covers(b.sex) || !in_ages(b.age_years, ages) || flag.on(&b.covariates) {
                continue;
            }
            let Some(last) = self.patients.get(first.patient as usize) else {
                continue;
            };
            let end = last
                .death
                .map(|d| d.time_years)
                .unwrap_or(f64::from(self.years));
            let mut event_year = None;
            for y in 1..=self.years {
                match rows.iter().find(|r| r.year == y) {
                    Some(r) => {
                        if flag.on(&r.patient_state.now) {
                            event_year = Some(y);
                            break;
                        }
                    }
                    None => {
                        // Dead before the start of year y, or y is the end of the run: the
                        // final state (at death or the end) tells whether the event came.
                        if flag.on(&last.now) {
                            event_year = Some(y);
                        }
                        break;
                    }
                }
            }
            match event_year {
                Some(y) => {
                    events += 1.0;
                    years += (f64::from(y) - 0.5).min(end);
                }
                None => years += end,
            }
        }
        (events, years)
    }
}

fn covariate_index(name: &str) -> usize {
    engine::Covariates::CONTINUOUS
        .iter()
        .position(|c| *c == name)
        .expect("checked when the target was read")
}

/// Least-squares slope of y on x.
pub fn slope(points: &[(f64, f64)]) -> f64 {
    if points.len() < 2 {
        return f64::NAN;
    }
    let n = points.len() as f64;
    let mx = points.iter().map(|p| p.0).sum::<f64>() / n;
    let my = points.iter().map(|p| p.1).sum::<f64>() / n;
    let sxy: f64 = points.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    let sxx: f64 = points.iter().map(|p| (p.0 - mx).powf_det(2.0)).sum();
    sxy / sxx
}
