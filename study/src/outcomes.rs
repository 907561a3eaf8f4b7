//! What a comparison reports, computed from a replicate's exact aggregates: event counts,
//! deaths, life-years, QALYs and discounted costs, by year and 5-year age band; paired
//! differences, intervals, ICERs, NNTs and the delay of diabetes onset.
//!
//! Memory: one [`Outcomes`] per (replicate, scenario) is years × 22 bands × [`N_MEASURES`]
//! numbers; people enter only through their onset ages ([`onset_delay`]).

use engine::math::DetMath;
use engine::observe::{MetricDef, MetricKind, FIXED_POINT, N_AGE_BANDS};
use engine::summary::{collapse, quantile_sorted, BandLevel, SexLevel};
use engine::Aggregator;

/// A reported quantity: its name, unit, and whether it is a health event (for "averted").
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Measure {
    pub name: &'static str,
    pub unit: &'static str,
    pub event: bool,
}

pub const T2D: usize = 0;
pub const MI: usize = 1;
pub const ISCHAEMIC_STROKE: usize = 2;
pub const HAEMORRHAGIC_STROKE: usize = 3;
pub const HEART_FAILURE: usize = 4;
pub const FRAILTY: usize = 5;
pub const LTC: usize = 6;
pub const DEATHS: usize = 7;
pub const LIFE_YEARS: usize = 8;
pub const QALYS: usize = 9;
pub const MEDICAL_COST: usize = 10;
pub const LTC_COST: usize = 11;
pub const PROGRAMME_COST: usize = 12;
pub const TOTAL_COST: usize = 13;
pub const ENROLMENTS: usize = 14;
pub const N_MEASURES: usize = 15;

pub const MEASURES: [Measure; N_MEASURES] = [
    m("t2d_cases", "people", true),
    m("mi_events", "events", true),
    m("ischaemic_stroke_events", "events", true),
    m("haemorrhagic_stroke_events", "events", true),
    m("heart_failure_cases", "people", true),
    m("frailty_onsets", "people", true),
    m("ltc_certifications", "people", true),
    m("deaths", "people", true),
    m("life_years", "years (undiscounted)", false),
    m("qalys", "QALYs (discounted)", false),
    m("medical_cost_yen", "yen (discounted)", false),
    m("ltc_cost_yen", "yen (discounted)", false),
    m("programme_cost_yen", "yen (discounted)", false),
    m("total_cost_yen", "yen (discounted)", false),
    m("programme_enrolments", "enrolments", false),
];

const fn m(name: &'static str, unit: &'static str, event: bool) -> Measure {
    Measure { name, unit, event }
}

/// Source metric of each event measure (an incidence metric: its numerator counts events).
const EVENT_METRICS: [(usize, &str); 7] = [
    (T2D, "dm_incidence"),
    (MI, "cvd_mi_incidence"),
    (ISCHAEMIC_STROKE, "cvd_ischaemic_stroke_incidence"),
    (HAEMORRHAGIC_STROKE, "cvd_haemorrhagic_stroke_incidence"),
    (HEART_FAILURE, "cvd_hf_incidence"),
    (FRAILTY, "fr_frail_incidence"),
    (LTC, "ltc_certification_incidence"),
];

/// Per-person-year metrics recorded over person-time (mean per step × person-years).
const RATE_METRICS: [(usize, &str, f64); 4] = [
    (QALYS, "qaly_weight", 1.0),
    (MEDICAL_COST, "medical_cost_kyen", 1000.0),
    (LTC_COST, "ltc_cost_kyen", 1000.0),
    (PROGRAMME_COST, "programme_cost_kyen", 1000.0),
];

/// The summary metrics measure `m` is computed from (their cells hold what its totals
/// add up), by name; empty for programme enrolments (one metric per programme).
pub fn source_metrics(m: usize) -> Vec<&'static str> {
    let mut out: Vec<&'static str> = EVENT_METRICS
        .iter()
        .filter(|(x, _)| *x == m)
        .map(|(_, name)| *name)
        .collect();
    match m {
        DEATHS => out.push("deaths"),
        LIFE_YEARS => out.push("person_years"),
        TOTAL_COST => {
            out.extend(["medical_cost_kyen", "ltc_cost_kyen", "programme_cost_kyen"]);
            out.push("person_years");
        }
        _ => {}
    }
    if let Some((_, name, _)) = RATE_METRICS.iter().find(|(x, _, _)| *x == m) {
        out.extend([*name, "person_years"]);
    }
    out
}

/// Where each measure comes from in one scenario's metric list (resolved once).
#[derive(Clone, Debug)]
pub struct Sources {
    events: Vec<(usize, usize)>,
    rates: Vec<(usize, usize, f64)>,
    enrolments: Vec<usize>,
    person_years: usize,
    deaths: usize,
    /// Measures this model does not produce (reported as missing, never as zero).
    pub missing: Vec<usize>,
}

impl Sources {
    pub fn new(defs: &[MetricDef]) -> Sources {
        let find = |name: &str| defs.iter().position(|d| d.name == name);
        let mut missing = Vec::new();
        let mut events = Vec::new();
        for (m, name) in EVENT_METRICS {
            match find(name) {
                Some(i) if defs[i].kind == MetricKind::Incidence => events.push((m, i)),
                _ => missing.push(m),
            }
        }
        let mut rates = Vec::new();
        for (m, name, scale) in RATE_METRICS {
            match find(name) {
                Some(i) if defs[i].kind == MetricKind::Mean => rates.push((m, i, scale)),
                _ => missing.push(m),
            }
        }
        let enrolments = defs
            .iter()
            .enumerate()
            .filter(|(_, d)| d.name.starts_with("ix_") && d.name.ends_with("_enrolments"))
            .map(|(i, _)| i)
            .collect();
        Sources {
            events,
            rates,
            enrolments,
            person_years: engine::observe::builtin::PERSON_YEARS,
            deaths: engine::observe::builtin::DEATHS,
            missing,
        }
    }
}

/// Number of band slots: the 21 five-year bands and "all ages" (last).
pub const BANDS: usize = N_AGE_BANDS + 1;
pub const ALL_AGES: usize = N_AGE_BANDS;

/// One replicate of one scenario: values[year][band][measure].
#[derive(Clone, Debug, PartialEq)]
pub struct Outcomes {
    pub years: usize,
    values: Vec<f64>,
    /// Person-years per (year, band), to leave out empty bands.
    pub person_years: Vec<f64>,
}

impl Outcomes {
    #[inline]
    fn idx(&self, year: usize, band: usize, m: usize) -> usize {
        (year * BANDS + band) * N_MEASURES + m
    }
    pub fn get(&self, year: usize, band: usize, m: usize) -> f64 {
        self.values[self.idx(year, band, m)]
    }
    /// Whole-horizon total of a measure (all ages).
    pub fn total(&self, m: usize) -> f64 {
        (0..self.years).map(|y| self.get(y, ALL_AGES, m)).sum()
    }
    /// Whole-horizon total in one band slot.
    pub fn total_in(&self, band: usize, m: usize) -> f64 {
        (0..self.years).map(|y| self.get(y, band, m)).sum()
    }
}

/// Discount factor of year index `t` (mid-year convention): 1 / (1 + r)^(t + 0.5).
pub fn discount(rate: f64, year: usize) -> f64 {
    (1.0 + rate).powf_det(-(year as f64 + 0.5))
}

/// The outcomes of one replicate's aggregate.
pub fn extract(agg: &Aggregator, src: &Sources, rate: f64) -> Outcomes {
    let years = agg.years();
    let mut out = Outcomes {
        years,
        values: vec![0.0; years * BANDS * N_MEASURES],
        person_years: vec![0.0; years * BANDS],
    };
    for year in 0..years {
        let d = discount(rate, year);
        for slot in 0..BANDS {
            let band = if slot == ALL_AGES {
                BandLevel::All
            } else {
                BandLevel::One(slot)
            };
            let cell = |metric| collapse(agg, year, SexLevel::All, band, metric);
            let py = cell(src.person_years).num as f64 / FIXED_POINT;
            out.person_years[year * BANDS + slot] = py;
            let base = out.idx(year, slot, 0);
            let v = &mut out.values[base..base + N_MEASURES];
            v[LIFE_YEARS] = py;
            v[DEATHS] = cell(src.deaths).num as f64;
            for &(m, metric) in &src.events {
                v[m] = cell(metric).num as f64;
            }
            for &(m, metric, scale) in &src.rates {
                let a = cell(metric);
                // Mean value per recorded step, times the person-years lived.
                let per_py = if a.den > 0 {
                    a.num as f64 / a.den as f64 / FIXED_POINT
                } else {
                    0.0
                };
                v[m] = per_py * py * scale * d;
            }
            v[TOTAL_COST] = v[MEDICAL_COST] + v[LTC_COST] + v[PROGRAMME_COST];
            v[ENROLMENTS] = src
                .enrolments
                .iter()
                .map(|&i| cell(i).num as f64)
                .sum::<f64>();
        }
    }
    out
}

/// Mean and 95% interval (2.5th, 97.5th percentiles, type 7) of values over replicates.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Interval {
    pub mean: f64,
    pub lo: f64,
    pub hi: f64,
}

impl Interval {
    pub fn of(values: &[f64]) -> Interval {
        let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
        if v.is_empty() {
            return Interval {
                mean: f64::NAN,
                lo: f64::NAN,
                hi: f64::NAN,
            };
        }
        v.sort_by(f64::total_cmp);
        Interval {
            mean: v.iter().sum::<f64>() / v.len() as f64,
            lo: quantile_sorted(&v, 0.025),
            hi: quantile_sorted(&v, 0.975),
        }
    }
    pub fn width(&self) -> f64 {
        self.hi - self.lo
    }
}

/// Cost-effectiveness of a scenario against the reference over replicates (or PSA draws):
/// `d_cost[r]`, `d_effect[r]` are per-replicate differences (scenario − reference).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CostEffect {
    /// Ratio of mean differences (yen per unit of effect); `None` when the mean effect
    /// difference is zero.
    pub icer: Option<f64>,
    /// Shares of replicates: more costly & more effective (NE), more costly & less
    /// effective (NW, dominated), less costly & more effective (SE, dominant), less costly
    /// & less effective (SW). Ties (a zero difference) count in neither half-plane's
    /// "more" side: zero cost is "less costly", zero effect is "less effective".
    pub ne: f64,
    pub nw: f64,
    pub se: f64,
    pub sw: f64,
}

pub fn cost_effect(d_cost: &[f64], d_effect: &[f64]) -> CostEffect {
    let n = d_cost.len().min(d_effect.len()).max(1) as f64;
    let mc = d_cost.iter().sum::<f64>() / n;
    let me = d_effect.iter().sum::<f64>() / n;
    let mut q = [0.0; 4];
    for (&c, &e) in d_cost.iter().zip(d_effect) {
        let i = match (c > 0.0, e > 0.0) {
            (true, true) => 0,
            (true, false) => 1,
            (false, true) => 2,
            (false, false) => 3,
        };
        q[i] += 1.0 / n;
    }
    CostEffect {
        icer: (me != 0.0).then(|| mc / me),
        ne: q[0],
        nw: q[1],
        se: q[2],
        sw: q[3],
    }
}

/// Probability that the scenario is cost-effective at willingness to pay `wtp` (yen per
/// unit of effect): the share of replicates with positive net monetary benefit
/// `wtp × Δeffect − Δcost`.
pub fn prob_cost_effective(d_cost: &[f64], d_effect: &[f64], wtp: f64) -> f64 {
    let n = d_cost.len().min(d_effect.len());
    if n == 0 {
        return f64::NAN;
    }
    let good = d_cost
        .iter()
        .zip(d_effect)
        .filter(|(&c, &e)| wtp * e - c > 0.0)
        .count();
    good as f64 / n as f64
}

/// Number needed to treat: enrolments per event averted; `None` unless both are positive.
pub fn nnt(enrolments: f64, averted: f64) -> Option<f64> {
    (enrolments > 0.0 && averted > 0.0).then(|| enrolments / averted)
}

/// Onset of diabetes during the run, per person: `Some(age)` at onset, `None` without one
/// (prevalent cases at baseline are `None`: they cannot be delayed).
pub type OnsetAges = Vec<Option<f32>>;

/// Delay of diabetes onset for the people who develop it in the reference.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Delay {
    /// Median over those people of (onset age in the scenario − in the reference), years;
    /// a person without onset in the scenario counts with their age at the end of
    /// follow-up (death or horizon) in place of the onset age: a lower bound.
    pub median_years: f64,
    pub mean_years: f64,
    /// Share of those people without onset in the scenario within follow-up (censored).
    pub censored_share: f64,
    pub people: usize,
}

/// The per-person onset delays a [`Delay`] is made of, before they are summarised: a
/// shard's people contribute theirs, and the delays of all shards together make the
/// [`Delay`] of the whole run exactly ([`DelaySample::merge`], [`DelaySample::delay`]).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DelaySample {
    /// One delay (years) per person with an onset in the reference, in any order.
    pub delays: Vec<f64>,
    /// How many of them have no onset in the scenario (censored).
    pub censored: usize,
}

impl DelaySample {
    /// Adds the people of `other` (disjoint from these).
    pub fn merge(&mut self, other: DelaySample) {
        self.delays.extend(other.delays);
        self.censored += other.censored;
    }

    /// The summary; `None` without anyone with an onset in the reference. The delays are
    /// sorted first, so the result depends only on the set of people, not their order.
    pub fn delay(mut self) -> Option<Delay> {
        if self.delays.is_empty() {
            return None;
        }
        let d = &mut self.delays;
        let people = d.len();
        d.sort_by(f64::total_cmp);
        Some(Delay {
            median_years: quantile_sorted(d, 0.5),
            mean_years: d.iter().sum::<f64>() / people as f64,
            censored_share: self.censored as f64 / people as f64,
            people,
        })
    }
}

/// Pairs reference and scenario onsets of the same people (`end_age`: each person's age
/// at death or at the end of the horizon in the scenario).
pub fn onset_delay(reference: &OnsetAges, scenario: &OnsetAges, end_age: &[f32]) -> Option<Delay> {
    onset_delays(reference, scenario, end_age).delay()
}

/// The per-person delays of [`onset_delay`], unsummarised.
pub fn onset_delays(reference: &OnsetAges, scenario: &OnsetAges, end_age: &[f32]) -> DelaySample {
    let mut d = Vec::new();
    let mut censored = 0usize;
    for ((r, s), end) in reference.iter().zip(scenario).zip(end_age) {
        let Some(r) = r else { continue };
        let delay = match s {
            Some(s) => f64::from(*s) - f64::from(*r),
            None => {
                censored += 1;
                f64::from(*end) - f64::from(*r)
            }
        };
        d.push(delay);
    }
    DelaySample {
        delays: d,
        censored,
    }
}

#[cfg(test)]
#[allow(clippy::disallowed_methods)] // the platform libm as a reference (clippy.toml)
mod tests {
    use super::*;

    #[test]
    fn discounting_is_mid_year() {
        assert!((discount(0.02, 0) - 1.02f64.powf(-0.5)).abs() < 1e-15);
        assert!((discount(0.0, 7) - 1.0).abs() < 1e-15);
        assert!(discount(0.02, 10) < discount(0.02, 9));
    }

    #[test]
    fn quadrants_icer_and_ceac() {
        let dc = [100.0, 200.0, -50.0, 10.0];
        let de = [1.0, 2.0, 0.5, -0.1];
        let ce = cost_effect(&dc, &de);
        assert_eq!((ce.ne, ce.nw, ce.se, ce.sw), (0.5, 0.25, 0.25, 0.0));
        let icer = ce.icer.unwrap();
        assert!((icer - (260.0 / 4.0) / (3.4 / 4.0)).abs() < 1e-9);
        assert_eq!(prob_cost_effective(&dc, &de, 0.0), 0.25);
        assert_eq!(prob_cost_effective(&dc, &de, 1e6), 0.75);
        assert_eq!(nnt(100.0, 4.0), Some(25.0));
        assert_eq!(nnt(100.0, 0.0), None);
    }

    #[test]
    fn onset_delay_pairs_people_and_censors() {
        let r = vec![Some(50.0), Some(60.0), None, Some(70.0)];
        let s = vec![Some(52.0), None, Some(55.0), Some(70.0)];
        let end = vec![80.0, 65.0, 90.0, 85.0];
        let d = onset_delay(&r, &s, &end).unwrap();
        assert_eq!(d.people, 3);
        // delays 2, 5 (censored at 65), 0 -> median 2
        assert!((d.median_years - 2.0).abs() < 1e-9);
        assert!((d.censored_share - 1.0 / 3.0).abs() < 1e-12);
        assert!(onset_delay(&vec![None], &vec![Some(1.0)], &[2.0]).is_none());
    }
}
