//! The report of a scenario comparison: long tables (CSV and Parquet) of levels and paired
//! differences with intervals over replicates, the economic summary (ICER, quadrant shares,
//! NNT, onset delay), charts (PNG and SVG) and the terminal summary as text.
//!
//! Under disclosure control ([`Report::with_disclosure`]) the tables of one measure are the
//! margins of a year × age-band table whose interior is never shown (by year: all ages;
//! by age: all years; totals: both), one [`Grid`] per measure, shared by every scenario,
//! level and difference; charts, the economic summary and the text leave out what the
//! tables withhold.
//!
//! Must never: compute model quantities (it formats [`crate::compare`]'s outcomes), or
//! print (the caller prints [`Report::text`]).

use std::cell::Cell as Counter;
use std::path::Path;

use engine::observe::age_band_label;
use report::disclosure::{Cell, Grid, Policy, Record};
use report::plot::{write_chart, Chart, Series, ZeroLines};
use report::{write_csv, write_parquet, ReportError, Table, Values};

use crate::compare::{Comparison, ScenarioResults};
use crate::outcomes::{
    self as oc, cost_effect, nnt, prob_cost_effective, Interval, Outcomes, ALL_AGES, MEASURES,
    N_MEASURES,
};

/// Japan's reference value in cost-effectiveness evaluation: ¥5 million per QALY
/// (C2H / Chuikyo price-adjustment system since April 2019; Shiroiwa 2020 Int J Technol
/// Assess Health Care; the 5 million JPY/QALY cut-off is stated in the review of all C2H
/// appraisals, ISPOR/HTAi abstract PP94, 2021) [V].
pub const JAPAN_REFERENCE_WTP_YEN: f64 = 5_000_000.0;
/// Upper end of the acceptability curve, yen per QALY.
const CEAC_MAX_WTP_YEN: f64 = 10_000_000.0;

/// Every file a comparison may write into its folder (besides manifest.json): a later
/// comparison into the same folder removes the ones it does not write again.
pub const FILES: [&str; 24] = [
    "compare_totals.csv",
    "compare_totals.parquet",
    "compare_by_year.csv",
    "compare_by_year.parquet",
    "compare_by_age.csv",
    "compare_by_age.parquet",
    "compare_economics.csv",
    "compare_economics.parquet",
    "compare_replicates.csv",
    "compare_replicates.parquet",
    "cumulative_incidence_t2d.png",
    "cumulative_incidence_t2d.svg",
    "cumulative_incidence_mi.png",
    "cumulative_incidence_mi.svg",
    "cumulative_incidence_ltc.png",
    "cumulative_incidence_ltc.svg",
    "averted_by_year.png",
    "averted_by_year.svg",
    "ce_plane.png",
    "ce_plane.svg",
    "ceac.png",
    "ceac.svg",
    "ceac.csv",
    "ceac.parquet",
];

/// What a comparison withholds (see the module documentation).
struct Withheld {
    /// [year][measure]: rows of compare_by_year.
    by_year: Vec<[bool; N_MEASURES]>,
    /// [band][measure]: rows of compare_by_age.
    by_age: Vec<[bool; N_MEASURES]>,
    /// [measure]: rows of compare_totals and compare_replicates.
    total: [bool; N_MEASURES],
    /// [scenario]: the delay of diabetes onset.
    delay: Vec<bool>,
}

/// Measures that count people or events (their own count is checked, not only the
/// people they describe).
fn counts_events(m: usize) -> bool {
    MEASURES[m].event || m == oc::ENROLMENTS
}

/// At least this many people lived in a cell with `person_years` in one year.
fn people(person_years: f64) -> u64 {
    if person_years > 0.0 {
        person_years.ceil() as u64
    } else {
        0
    }
}

impl Withheld {
    fn new(policy: Policy, results: &[ScenarioResults]) -> Withheld {
        let years = results[0].outcomes[0].years;
        let mut w = Withheld {
            by_year: vec![[false; N_MEASURES]; years],
            by_age: vec![[false; N_MEASURES]; ALL_AGES],
            total: [false; N_MEASURES],
            delay: vec![false; results.len()],
        };
        let all: Vec<&Outcomes> = results.iter().flat_map(|r| &r.outcomes).collect();
        for (s, r) in results.iter().enumerate() {
            w.delay[s] = policy.any_sensitive(r.delays.iter().flatten().map(|d| d.people as u64));
        }
        for m in 0..N_MEASURES {
            let events = counts_events(m);
            // Sensitive when any scenario's replicate counts 0 < n < k people or events.
            let cell = |people_of: &dyn Fn(&Outcomes) -> u64,
                        events_of: &dyn Fn(&Outcomes) -> f64| {
                let mut sensitive = false;
                let mut weight = 0;
                let mut anyone = false;
                for o in &all {
                    let p = people_of(o);
                    let e = if events {
                        events_of(o).max(0.0).round() as u64
                    } else {
                        0
                    };
                    anyone |= p > 0;
                    sensitive |= policy.any_sensitive([p, e]);
                    weight = weight.max(p);
                }
                (sensitive, weight, anyone)
            };
            let mut grid = Grid::new(years, ALL_AGES);
            for y in 0..years {
                for b in 0..ALL_AGES {
                    let (sensitive, _, anyone) =
                        cell(&|o| people(o.person_years[y * oc::BANDS + b]), &|o| {
                            o.get(y, b, m)
                        });
                    grid.set(
                        y,
                        b,
                        if anyone {
                            Cell::Hidden { sensitive }
                        } else {
                            Cell::Known
                        },
                    );
                }
                let (sensitive, weight, _) = cell(
                    &|o| people(o.person_years[y * oc::BANDS + ALL_AGES]),
                    &|o| o.get(y, ALL_AGES, m),
                );
                grid.set(y, ALL_AGES, Cell::Shown { sensitive, weight });
            }
            let most = |o: &Outcomes, b: usize| {
                (0..years)
                    .map(|y| people(o.person_years[y * oc::BANDS + b]))
                    .max()
                    .unwrap_or(0)
            };
            for b in 0..ALL_AGES {
                let (sensitive, weight, anyone) = cell(&|o| most(o, b), &|o| o.total_in(b, m));
                grid.set(
                    years,
                    b,
                    if anyone {
                        Cell::Shown { sensitive, weight }
                    } else {
                        Cell::Known
                    },
                );
            }
            let (sensitive, weight, _) = cell(&|o| most(o, ALL_AGES), &|o| o.total(m));
            grid.set(years, ALL_AGES, Cell::Shown { sensitive, weight });
            let g = grid.suppress();
            for y in 0..years {
                w.by_year[y][m] = g.get(y, ALL_AGES);
            }
            for b in 0..ALL_AGES {
                w.by_age[b][m] = g.get(years, b);
            }
            w.total[m] = g.get(years, ALL_AGES);
        }
        w
    }
}

/// A comparison's results, ready to be written and shown.
pub struct Report<'a> {
    /// Scenario names, the reference first.
    names: Vec<&'a str>,
    results: &'a [ScenarioResults],
    comparison: &'a Comparison,
    start_year: i64,
    scale: Option<f64>,
    /// People simulated (the cohort size).
    people: f64,
    psa: bool,
    policy: Policy,
    withheld: Option<Withheld>,
    /// Cells (rows, or values of an economics row) withheld in the tables written.
    suppressed: Counter<u64>,
}

/// Rows of a long table under construction.
#[derive(Default)]
struct Rows {
    scenario: Vec<Option<String>>,
    comparison: Vec<Option<String>>,
    key: Vec<Option<String>>,
    key_int: Vec<i64>,
    measure: Vec<Option<String>>,
    unit: Vec<Option<String>>,
    mean: Vec<Option<f64>>,
    lo: Vec<Option<f64>>,
    hi: Vec<Option<f64>>,
    scaled: [Vec<Option<f64>>; 3],
    suppressed: Vec<bool>,
}

fn fin(x: f64) -> Option<f64> {
    x.is_finite().then_some(x)
}

impl Rows {
    #[allow(clippy::too_many_arguments)]
    fn push(
        &mut self,
        scenario: &str,
        comparison: &str,
        key: &str,
        key_int: i64,
        m: usize,
        iv: Interval,
        scale: Option<f64>,
        withheld: bool,
    ) {
        let iv = if withheld {
            Interval {
                mean: f64::NAN,
                lo: f64::NAN,
                hi: f64::NAN,
            }
        } else {
            iv
        };
        self.suppressed.push(withheld);
        self.scenario.push(Some(scenario.into()));
        self.comparison.push(Some(comparison.into()));
        self.key.push(Some(key.into()));
        self.key_int.push(key_int);
        self.measure.push(Some(MEASURES[m].name.into()));
        self.unit.push(Some(MEASURES[m].unit.into()));
        self.mean.push(fin(iv.mean));
        self.lo.push(fin(iv.lo));
        self.hi.push(fin(iv.hi));
        for (v, x) in self.scaled.iter_mut().zip([iv.mean, iv.lo, iv.hi]) {
            v.push(scale.and_then(|s| fin(x * s)));
        }
    }

    fn table(
        self,
        name: &str,
        key: &str,
        key_int: Option<&str>,
        scaled: bool,
        disclosed: bool,
    ) -> Table {
        let mut t = Table::new(name);
        t.push("scenario", Values::Text(self.scenario));
        t.push("comparison", Values::Text(self.comparison));
        if !key.is_empty() {
            t.push(key, Values::Text(self.key));
        }
        if let Some(k) = key_int {
            t.push(k, Values::Int(self.key_int));
        }
        t.push("measure", Values::Text(self.measure));
        t.push("unit", Values::Text(self.unit));
        t.push("mean", Values::Float(self.mean));
        t.push("lo95", Values::Float(self.lo));
        t.push("hi95", Values::Float(self.hi));
        if scaled {
            let [a, b, c] = self.scaled;
            t.push("scaled_mean", Values::Float(a));
            t.push("scaled_lo95", Values::Float(b));
            t.push("scaled_hi95", Values::Float(c));
        }
        if disclosed {
            t.push("suppressed", Values::Bool(self.suppressed));
        }
        t
    }
}

impl<'a> Report<'a> {
    pub fn new(comparison: &'a Comparison, results: &'a [ScenarioResults]) -> Self {
        Report {
            names: comparison
                .scenarios
                .iter()
                .map(|p| p.name.as_str())
                .collect(),
            results,
            comparison,
            start_year: comparison.start_year,
            scale: comparison.scale(),
            people: comparison.population().len() as f64,
            psa: !comparison.study.draws.is_empty(),
            policy: Policy::off(),
            withheld: None,
            suppressed: Counter::new(0),
        }
    }

    /// The report under disclosure control `policy` (report::disclosure): cells describing
    /// fewer than `k` people or events are withheld, with complementary cells.
    pub fn with_disclosure(mut self, policy: Policy) -> Self {
        self.policy = policy;
        self.withheld = policy
            .applies()
            .then(|| Withheld::new(policy, self.results));
        self
    }

    /// What the manifest records about disclosure control (after [`Self::write`]).
    pub fn disclosure(&self) -> Record {
        self.policy.record(self.suppressed.get())
    }

    fn by_year_withheld(&self, y: usize, m: usize) -> bool {
        self.withheld.as_ref().is_some_and(|w| w.by_year[y][m])
    }

    fn by_age_withheld(&self, b: usize, m: usize) -> bool {
        self.withheld.as_ref().is_some_and(|w| w.by_age[b][m])
    }

    fn total_withheld(&self, m: usize) -> bool {
        self.withheld.as_ref().is_some_and(|w| w.total[m])
    }

    fn delay_withheld(&self, s: usize) -> bool {
        self.withheld.as_ref().is_some_and(|w| w.delay[s])
    }

    fn count_withheld(&self, n: u64) {
        self.suppressed.set(self.suppressed.get() + n);
    }

    /// Writes every table and chart into `out` (which must exist); returns the file names.
    pub fn write(&self, out: &Path) -> Result<Vec<String>, ReportError> {
        let mut files = self.tables(out)?;
        files.extend(self.charts(out)?);
        Ok(files)
    }

    fn reference(&self) -> &ScenarioResults {
        &self.results[0]
    }

    /// Per-replicate values of `f` for scenario `s`, or its paired difference to the
    /// reference.
    fn values(&self, s: usize, diff: bool, f: impl Fn(&Outcomes) -> f64) -> Vec<f64> {
        let r = &self.results[s];
        r.outcomes
            .iter()
            .enumerate()
            .map(|(i, o)| {
                if diff {
                    f(o) - f(&self.reference().outcomes[i])
                } else {
                    f(o)
                }
            })
            .collect()
    }

    fn comparisons(&self) -> Vec<(usize, bool, String)> {
        let reference = &self.names[0];
        let mut v = Vec::new();
        for s in 0..self.names.len() {
            v.push((s, false, "level".to_string()));
            if s > 0 {
                v.push((s, true, format!("difference_vs_{reference}")));
            }
        }
        v
    }

    fn has(&self, s: usize, m: usize) -> bool {
        !self.results[s].missing.contains(&m) && !self.results[0].missing.contains(&m)
    }

    fn tables(&self, out: &Path) -> Result<Vec<String>, ReportError> {
        let mut files = Vec::new();
        let mut save = |t: &Table, stem: &str| -> Result<(), ReportError> {
            write_csv(t, &out.join(format!("{stem}.csv")))?;
            write_parquet(t, &out.join(format!("{stem}.parquet")))?;
            files.push(format!("{stem}.csv"));
            files.push(format!("{stem}.parquet"));
            Ok(())
        };
        let years = self.results[0].outcomes[0].years;
        // Whole horizon, all ages.
        let mut totals = Rows::default();
        let mut by_year = Rows::default();
        let mut by_age = Rows::default();
        for (s, diff, label) in self.comparisons() {
            let name = &self.names[s];
            for m in (0..N_MEASURES).filter(|&m| self.has(s, m)) {
                let iv = Interval::of(&self.values(s, diff, |o| o.total(m)));
                let w = self.total_withheld(m);
                totals.push(name, &label, "", 0, m, iv, self.scale, w);
                for y in 0..years {
                    let iv = Interval::of(&self.values(s, diff, |o| o.get(y, ALL_AGES, m)));
                    let cal = self.start_year + y as i64;
                    let w = self.by_year_withheld(y, m);
                    by_year.push(name, &label, &y.to_string(), cal, m, iv, self.scale, w);
                }
                for b in 0..ALL_AGES {
                    let lived = self.results[s]
                        .outcomes
                        .iter()
                        .any(|o| (0..years).any(|y| o.person_years[y * oc::BANDS + b] > 0.0));
                    if !lived {
                        continue;
                    }
                    let iv = Interval::of(&self.values(s, diff, |o| o.total_in(b, m)));
                    by_age.push(
                        name,
                        &label,
                        &age_band_label(b),
                        b as i64,
                        m,
                        iv,
                        self.scale,
                        self.by_age_withheld(b, m),
                    );
                }
            }
        }
        let scaled = self.scale.is_some();
        let disclosed = self.withheld.is_some();
        let withheld_rows = [&totals, &by_year, &by_age]
            .iter()
            .map(|r| r.suppressed.iter().filter(|&&w| w).count() as u64)
            .sum();
        self.count_withheld(withheld_rows);
        save(
            &totals.table("compare_totals", "", None, scaled, disclosed),
            "compare_totals",
        )?;
        save(
            &by_year.table(
                "compare_by_year",
                "year_index",
                Some("year"),
                scaled,
                disclosed,
            ),
            "compare_by_year",
        )?;
        save(
            &by_age.table("compare_by_age", "age_band", None, scaled, disclosed),
            "compare_by_age",
        )?;
        save(&self.economics(), "compare_economics")?;
        save(&self.replicate_table(), "compare_replicates")?;
        Ok(files)
    }

    /// The effect measure of the cost-effectiveness analysis: QALYs when the model reports
    /// utilities, else life-years (named in every output).
    fn effect(&self) -> usize {
        if (0..self.names.len()).all(|s| self.has(s, oc::QALYS)) {
            oc::QALYS
        } else {
            oc::LIFE_YEARS
        }
    }

    fn economics(&self) -> Table {
        let e = self.effect();
        let mut t = Table::new("compare_economics");
        let mut cols: Vec<(&str, Vec<Option<f64>>)> = vec![
            ("icer_yen_per_effect", vec![]),
            ("share_ne_costlier_better", vec![]),
            ("share_nw_costlier_worse", vec![]),
            ("share_se_cheaper_better", vec![]),
            ("share_sw_cheaper_worse", vec![]),
            ("nnt_t2d", vec![]),
            ("nnt_cardiovascular", vec![]),
            ("nnt_frailty", vec![]),
            ("nnt_ltc", vec![]),
            ("t2d_onset_delay_median_years", vec![]),
            ("t2d_onset_delay_median_lo95", vec![]),
            ("t2d_onset_delay_median_hi95", vec![]),
            ("t2d_onset_delay_censored_share", vec![]),
        ];
        let mut names = Vec::new();
        let mut effect = Vec::new();
        let mut suppressed = Vec::new();
        for s in 1..self.names.len() {
            names.push(Some(self.names[s].to_string()));
            effect.push(Some(MEASURES[e].name.to_string()));
            let row = self.econ_row(s, e);
            let withheld = self.econ_withheld(s, e);
            for ((c, v), w) in cols.iter_mut().zip(row).zip(withheld) {
                c.1.push(if w { None } else { v.and_then(fin) });
            }
            let n = withheld.iter().filter(|&&w| w).count() as u64;
            self.count_withheld(n);
            suppressed.push(n > 0);
        }
        t.push("scenario", Values::Text(names));
        t.push("effect", Values::Text(effect));
        for (n, v) in cols {
            t.push(n, Values::Float(v));
        }
        if self.withheld.is_some() {
            t.push("suppressed", Values::Bool(suppressed));
        }
        t
    }

    /// Which values of [`Self::econ_row`] are withheld: those computed from a withheld
    /// total, and the onset delay when it describes fewer than `k` people.
    fn econ_withheld(&self, s: usize, e: usize) -> [bool; 13] {
        let t = |ms: &[usize]| ms.iter().any(|&m| self.total_withheld(m));
        let ce = t(&[oc::TOTAL_COST, e]);
        let delay = self.delay_withheld(s);
        [
            ce,
            ce,
            ce,
            ce,
            ce,
            t(&[oc::ENROLMENTS, oc::T2D]),
            t(&[
                oc::ENROLMENTS,
                oc::MI,
                oc::ISCHAEMIC_STROKE,
                oc::HAEMORRHAGIC_STROKE,
            ]),
            t(&[oc::ENROLMENTS, oc::FRAILTY]),
            t(&[oc::ENROLMENTS, oc::LTC]),
            delay,
            delay,
            delay,
            delay,
        ]
    }

    /// ICER, quadrant shares, NNTs and onset delay of scenario `s` (see [`Self::economics`]).
    fn econ_row(&self, s: usize, e: usize) -> [Option<f64>; 13] {
        let dc = self.values(s, true, |o| o.total(oc::TOTAL_COST));
        let de = self.values(s, true, |o| o.total(e));
        let ce = cost_effect(&dc, &de);
        let mean = |f: &dyn Fn(&Outcomes) -> f64| {
            let v = self.values(s, true, f);
            v.iter().sum::<f64>() / v.len().max(1) as f64
        };
        let enrol = self
            .values(s, false, |o| o.total(oc::ENROLMENTS))
            .iter()
            .sum::<f64>()
            / self.results[s].outcomes.len().max(1) as f64;
        let averted = |ms: &[usize]| -mean(&|o: &Outcomes| ms.iter().map(|&m| o.total(m)).sum());
        let delays: Vec<f64> = self.results[s]
            .delays
            .iter()
            .flatten()
            .map(|d| d.median_years)
            .collect();
        let censored: Vec<f64> = self.results[s]
            .delays
            .iter()
            .flatten()
            .map(|d| d.censored_share)
            .collect();
        let di = Interval::of(&delays);
        let has = |m| self.has(s, m);
        [
            ce.icer,
            Some(ce.ne),
            Some(ce.nw),
            Some(ce.se),
            Some(ce.sw),
            nnt(enrol, averted(&[oc::T2D])),
            nnt(
                enrol,
                averted(&[oc::MI, oc::ISCHAEMIC_STROKE, oc::HAEMORRHAGIC_STROKE]),
            ),
            if has(oc::FRAILTY) {
                nnt(enrol, averted(&[oc::FRAILTY]))
            } else {
                None
            },
            nnt(enrol, averted(&[oc::LTC])),
            Some(di.mean),
            Some(di.lo),
            Some(di.hi),
            Some(Interval::of(&censored).mean),
        ]
    }

    fn replicate_table(&self) -> Table {
        let mut rep = Vec::new();
        let mut scen = Vec::new();
        let mut meas = Vec::new();
        let mut val = Vec::new();
        let mut dif = Vec::new();
        let mut suppressed = Vec::new();
        for (s, r) in self.results.iter().enumerate() {
            for (i, o) in r.outcomes.iter().enumerate() {
                for m in (0..N_MEASURES).filter(|&m| self.has(s, m)) {
                    let w = self.total_withheld(m);
                    rep.push(i as i64);
                    scen.push(Some(self.names[s].to_string()));
                    meas.push(Some(MEASURES[m].name.to_string()));
                    val.push(if w { None } else { fin(o.total(m)) });
                    dif.push(if w {
                        None
                    } else {
                        fin(o.total(m) - self.reference().outcomes[i].total(m))
                    });
                    suppressed.push(w);
                }
            }
        }
        self.count_withheld(suppressed.iter().filter(|&&w| w).count() as u64);
        let mut t = Table::new("compare_replicates");
        t.push("replicate", Values::Int(rep));
        t.push("scenario", Values::Text(scen));
        t.push("measure", Values::Text(meas));
        t.push("value", Values::Float(val));
        t.push("difference_vs_reference", Values::Float(dif));
        if self.withheld.is_some() {
            t.push("suppressed", Values::Bool(suppressed));
        }
        t
    }

    fn charts(&self, out: &Path) -> Result<Vec<String>, ReportError> {
        let psa = self.psa;
        let mut files = Vec::new();
        let years = self.results[0].outcomes[0].years;
        let x_year = |y: usize| (self.start_year + y as i64 + 1) as f64;
        // Cumulative incidence: cumulative events per 1,000 people simulated.
        let n0 = self.names.len();
        let cum_charts = [
            (oc::T2D, "cumulative_incidence_t2d", "type 2 diabetes"),
            (oc::MI, "cumulative_incidence_mi", "myocardial infarction"),
            (
                oc::LTC,
                "cumulative_incidence_ltc",
                "long-term-care certification",
            ),
        ];
        let people = self.people;
        for (m, stem, label) in cum_charts {
            if !(0..n0).all(|s| self.has(s, m)) {
                continue;
            }
            // A cumulative curve gives each year away by difference: it stops before the
            // first withheld year (and is left out when that is the first year).
            let shown_years = (0..years)
                .position(|y| self.by_year_withheld(y, m))
                .unwrap_or(years);
            if shown_years == 0 {
                continue;
            }
            let series = (0..n0)
                .map(|s| {
                    // Cumulative events per replicate, then mean and interval per year.
                    let replicates = self.results[s].outcomes.len();
                    let mut acc = vec![0.0; replicates];
                    let mut points = vec![(self.start_year as f64, 0.0)];
                    let mut band = vec![(self.start_year as f64, 0.0, 0.0)];
                    for y in 0..shown_years {
                        let v = self.values(s, false, |o| o.get(y, ALL_AGES, m));
                        for (a, x) in acc.iter_mut().zip(&v) {
                            *a += 1000.0 * x / people;
                        }
                        let iv = Interval::of(&acc);
                        points.push((x_year(y), iv.mean));
                        if replicates > 1 {
                            band.push((x_year(y), iv.lo, iv.hi));
                        }
                    }
                    if replicates < 2 {
                        band.clear();
                    }
                    Series {
                        name: self.names[s].to_string(),
                        points,
                        band,
                    }
                })
                .collect();
            let mut chart = Chart::lines(
                format!("Cumulative {label}: mean and 95% interval over replicates"),
                "year",
                "events per 1,000 people simulated",
            );
            chart.series = series;
            chart.x_years = true;
            write_chart(&out.join(stem), &chart)?;
            files.push(format!("{stem}.png"));
            files.push(format!("{stem}.svg"));
        }
        if n0 < 2 {
            return Ok(files);
        }
        // T2D cases averted by year (reference − scenario), on the represented population's
        // scale when there is one.
        let shown = self.scale.unwrap_or(1.0);
        let series = (1..n0)
            .map(|s| {
                let mut points = Vec::new();
                let mut band = Vec::new();
                for y in (0..years).filter(|&y| !self.by_year_withheld(y, oc::T2D)) {
                    let v: Vec<f64> = self
                        .values(s, true, |o| o.get(y, ALL_AGES, oc::T2D))
                        .into_iter()
                        .map(|d| -d * shown)
                        .collect();
                    let iv = Interval::of(&v);
                    // Events of year y are drawn at its middle.
                    points.push((x_year(y) - 0.5, iv.mean));
                    if v.len() > 1 {
                        band.push((x_year(y) - 0.5, iv.lo, iv.hi));
                    }
                }
                Series {
                    name: format!("{} (T2D)", self.names[s]),
                    points,
                    band,
                }
            })
            .collect();
        let mut chart = Chart::lines(
            format!(
                "T2D cases averted per year vs {}: mean and 95% interval over replicates",
                self.names[0]
            ),
            "year",
            if self.scale.is_some() {
                "cases averted (represented population)"
            } else {
                "cases averted (simulated people)"
            },
        );
        chart.series = series;
        chart.zero = ZeroLines::Horizontal;
        chart.x_years = true;
        if (0..years).any(|y| !self.by_year_withheld(y, oc::T2D)) {
            write_chart(&out.join("averted_by_year"), &chart)?;
            files.extend(["averted_by_year.png".into(), "averted_by_year.svg".into()]);
        }
        // Cost-effectiveness plane (and acceptability): per-replicate totals of cost and
        // effect, left out when those totals are withheld.
        let e = self.effect();
        if self.total_withheld(oc::TOTAL_COST) || self.total_withheld(e) {
            return Ok(files);
        }
        let series = (1..n0)
            .map(|s| Series {
                name: self.names[s].to_string(),
                points: self
                    .values(s, true, |o| o.total(e))
                    .into_iter()
                    .zip(self.values(s, true, |o| o.total(oc::TOTAL_COST) / 1e6))
                    .collect(),
                band: Vec::new(),
            })
            .collect();
        let unit = if e == oc::QALYS { "QALY" } else { "life-year" };
        write_chart(
            &out.join("ce_plane"),
            &Chart {
                title: format!(
                    "Cost-effectiveness plane vs {} (one point per {})",
                    self.names[0],
                    if psa { "PSA draw" } else { "replicate" }
                ),
                x_label: if e == oc::QALYS {
                    "incremental QALYs (discounted)".into()
                } else {
                    "incremental life-years (undiscounted)".into()
                },
                y_label: "incremental cost, million yen (discounted)".into(),
                series,
                scatter: true,
                vline: None,
                ray: Some((
                    JAPAN_REFERENCE_WTP_YEN / 1e6,
                    format!("¥5M per {unit} (Japan's reference value)"),
                )),
                zero: ZeroLines::Both,
                y_range: None,
                x_years: false,
                whole_numbers: false,
            },
        )?;
        files.extend(["ce_plane.png".into(), "ce_plane.svg".into()]);
        if psa {
            let grid: Vec<f64> = (0..=100)
                .map(|i| CEAC_MAX_WTP_YEN * f64::from(i) / 100.0)
                .collect();
            let mut rows = (vec![], vec![], vec![]);
            let series = (1..n0)
                .map(|s| {
                    let dc = self.values(s, true, |o| o.total(oc::TOTAL_COST));
                    let de = self.values(s, true, |o| o.total(e));
                    let pts: Vec<(f64, f64)> = grid
                        .iter()
                        .map(|&w| (w / 1e6, prob_cost_effective(&dc, &de, w)))
                        .collect();
                    for &(w, p) in &pts {
                        rows.0.push(Some(self.names[s].to_string()));
                        rows.1.push(Some(w * 1e6));
                        rows.2.push(fin(p));
                    }
                    Series {
                        name: self.names[s].to_string(),
                        points: pts,
                        band: Vec::new(),
                    }
                })
                .collect();
            write_chart(
                &out.join("ceac"),
                &Chart {
                    title: "Cost-effectiveness acceptability curve".into(),
                    x_label: format!("willingness to pay, million yen per {unit}"),
                    y_label: "probability cost-effective".into(),
                    series,
                    scatter: false,
                    vline: Some((
                        JAPAN_REFERENCE_WTP_YEN / 1e6,
                        "¥5M (Japan's reference value)".into(),
                    )),
                    ray: None,
                    zero: ZeroLines::None,
                    // A probability: the whole range, even when every value is 0 or 1.
                    y_range: Some((0.0, 1.0)),
                    x_years: false,
                    whole_numbers: false,
                },
            )?;
            let mut t = Table::new("ceac");
            t.push("scenario", Values::Text(rows.0));
            t.push("wtp_yen_per_effect", Values::Float(rows.1));
            t.push("probability_cost_effective", Values::Float(rows.2));
            write_csv(&t, &out.join("ceac.csv"))?;
            write_parquet(&t, &out.join("ceac.parquet"))?;
            files.extend(["ceac.png", "ceac.svg", "ceac.csv", "ceac.parquet"].map(String::from));
        }
        Ok(files)
    }

    /// The terminal summary: totals over the horizon with intervals, the economic summary
    /// per scenario, and the throughput (`threads`: the worker threads of the run).
    pub fn text(&self, threads: usize) -> String {
        use std::fmt::Write as _;
        let mut o = String::new();
        macro_rules! p { ($($t:tt)*) => {{ let _ = write!(o, $($t)*); }} }
        macro_rules! pl { ($($t:tt)*) => {{ let _ = writeln!(o, $($t)*); }} }
        let settings = &self.comparison.study.settings;
        let (years, replicates) = (settings.years, settings.replicates);
        let n = match self.policy.shown(self.people as u64) {
            Some(n) => n.to_string(),
            None => format!("fewer than {}", self.policy.threshold().unwrap_or_default()),
        };
        let independent = settings.streams == crate::runner::Streams::Independent;
        let notes = &self.comparison.notes;
        let reference = &self.names[0];
        pl!(
            "healthtwin compare: {} scenario(s), {n} people, {years} years, {replicates} replicate(s), {}{}",
            self.names.len(),
            if independent {
                "independent streams per scenario"
            } else {
                "common random numbers"
            },
            if self.psa {
                ", one parameter draw per replicate (PSA)"
            } else {
                ""
            }
        );
        for note in notes {
            pl!("note: {note}");
        }
        if let Some(k) = self.policy.threshold() {
            pl!("Disclosure control: figures describing fewer than {k} people (or events) are withheld, with complementary cells (docs/outputs.md).");
        }
        // Counts and costs are shown on the scale a reader acts on: the represented
        // population's when the scenario names one, else the simulated people's.
        let shown = self.scale.unwrap_or(1.0);
        match self.scale {
            Some(s) => pl!(
                "Whole horizon, scaled to the represented population ({:.0} people; each simulated person counts {s:.2}); mean (95% interval over replicates). Differences are scenario - {reference}; negative = averted.\n",
                self.people * s
            ),
            None => pl!(
                "Whole horizon, simulated people; mean (95% interval over replicates). Differences are scenario - {reference}; negative = averted.\n"
            ),
        }
        let w = 30;
        p!("{:<28}", "measure");
        for name in &self.names {
            p!(" {:>w$}", name);
        }
        for name in &self.names[1..] {
            p!(" {:>w$}", format!("{name} - {reference}"));
        }
        pl!();
        #[allow(clippy::needless_range_loop)] // `m` also indexes the outcomes
        for m in 0..N_MEASURES {
            if !(0..self.names.len()).all(|s| self.has(s, m)) {
                continue;
            }
            let fmt = |iv: Interval| {
                let k = if MEASURES[m].name.ends_with("_yen") {
                    1e6
                } else {
                    1.0
                };
                let d = if k > 1.0 || (iv.mean * shown).abs() >= 100.0 {
                    0
                } else {
                    1
                };
                let k = k / shown;
                // `+ 0.0` turns -0.0 into 0.0 for display.
                format!(
                    "{:.d$} ({:.d$} to {:.d$})",
                    iv.mean / k + 0.0,
                    iv.lo / k + 0.0,
                    iv.hi / k + 0.0
                )
            };
            let label = if MEASURES[m].name.ends_with("_yen") {
                format!("{} [M yen]", MEASURES[m].name.trim_end_matches("_yen"))
            } else {
                MEASURES[m].name.to_string()
            };
            p!("{label:<28}");
            let withheld = self.total_withheld(m);
            let fmt = |iv: Interval| {
                if withheld {
                    "withheld".to_string()
                } else {
                    fmt(iv)
                }
            };
            for s in 0..self.names.len() {
                p!(
                    " {:>w$}",
                    fmt(Interval::of(&self.values(s, false, |o| o.total(m))))
                );
            }
            for s in 1..self.names.len() {
                p!(
                    " {:>w$}",
                    fmt(Interval::of(&self.values(s, true, |o| o.total(m))))
                );
            }
            pl!();
        }
        let e = self.effect();
        if self.names.len() > 1 {
            pl!();
            for s in 1..self.names.len() {
                let mut r = self.econ_row(s, e);
                let withheld = self.econ_withheld(s, e);
                for (v, w) in r.iter_mut().zip(withheld) {
                    if w {
                        *v = Some(f64::INFINITY);
                    }
                }
                let f = |v: Option<f64>, k: f64, unit: &str| {
                    if v == Some(f64::INFINITY) {
                        return "withheld".to_string();
                    }
                    v.filter(|x| x.is_finite())
                        .map(|x| format!("{:.1}{unit}", x / k))
                        .unwrap_or_else(|| "n/a".into())
                };
                let pct = |v: Option<f64>| {
                    if v == Some(f64::INFINITY) {
                        "withheld".to_string()
                    } else {
                        format!("{:.0}%", 100.0 * v.unwrap_or(f64::NAN))
                    }
                };
                pl!(
                    "{}: ICER {} per {} (ratio of mean differences); replicates NE {} NW {} SE {} SW {}; NNT per T2D case averted {}; per MI/stroke averted {}; median delay of T2D onset {} (95%: {} to {}; {} without onset in the scenario)",
                    self.names[s],
                    f(r[0], 1e6, " M yen"),
                    MEASURES[e].name.trim_end_matches('s'),
                    pct(r[1]),
                    pct(r[2]),
                    pct(r[3]),
                    pct(r[4]),
                    f(r[5], 1.0, ""),
                    f(r[6], 1.0, ""),
                    f(r[9], 1.0, " y"),
                    f(r[10], 1.0, ""),
                    f(r[11], 1.0, ""),
                    if r[12] == Some(f64::INFINITY) {
                        "withheld".to_string()
                    } else {
                        r[12].map(|x| format!("{:.0}%", 100.0 * x)).unwrap_or_else(|| "n/a".into())
                    },
                );
            }
        }
        let missing: Vec<&str> = self.results[0]
            .missing
            .iter()
            .map(|&m| MEASURES[m].name)
            .collect();
        if !missing.is_empty() {
            pl!(
                "\nNot reported (the model of this build does not produce them): {}",
                missing.join(", ")
            );
        }
        pl!("\nThroughput per scenario (simulation only, {threads} thread(s)):");
        for (name, r) in self.names.iter().zip(self.results) {
            if self.total_withheld(oc::LIFE_YEARS) {
                pl!(
                    "  {:<30} {:>12} patient-years in {:>7.1} s",
                    name,
                    "withheld",
                    r.seconds
                );
                continue;
            }
            pl!(
                "  {:<30} {:>12.0} patient-years in {:>7.1} s = {:>10.0} patient-years/s per core",
                name,
                r.person_years,
                r.seconds,
                r.person_years / r.seconds / threads as f64
            );
        }
        o
    }
}
