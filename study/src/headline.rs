//! The headline of a population run as text: the population and its risk factors, the
//! diseases simulated (diabetes, cardiovascular events, frailty, long-term care) by year, and
//! whole-horizon totals of events, deaths, life-years, QALYs and costs, every figure with its
//! unit and its interval over Monte Carlo replicates.
//!
//! Under disclosure control ([`Headline::render_disclosed`]) every figure withheld from the
//! summary is withheld here too, and so is a whole-horizon total that would give one away
//! (exactly one of its years withheld) or that counts fewer than `k` events or people.
//!
//! Must never: print (the caller does), or compute anything the aggregates do not hold.

use std::fmt::Write as _;

use engine::observe::{builtin, cell_value, MetricDef};
use engine::summary::{collapse, describe, BandLevel, SexLevel};
use engine::{Aggregator, Sex};
use report::disclosure::summary::SummaryDisclosure;

use crate::outcomes::{extract, source_metrics, Interval, Outcomes, Sources, MEASURES};

/// What a withheld figure shows.
pub const WITHHELD: &str = "withheld";

/// What the headline needs besides the aggregates.
pub struct Headline<'a> {
    /// One aggregate per replicate.
    pub aggregates: &'a [Aggregator],
    pub defs: &'a [MetricDef],
    pub people: usize,
    pub start_year: i64,
    pub seed: u64,
    pub seconds: f64,
}

/// (mean, lo, hi) of a metric over replicates in one year (NaN where undefined; +∞ where
/// withheld, shown as [`WITHHELD`]).
fn value(
    h: &Headline,
    d: &SummaryDisclosure,
    year: usize,
    sex: SexLevel,
    metric: Option<usize>,
) -> (f64, f64, f64) {
    let Some(metric) = metric else {
        return (f64::NAN, f64::NAN, f64::NAN);
    };
    if d.withheld(year, sex, BandLevel::All, metric) {
        return (f64::INFINITY, f64::INFINITY, f64::INFINITY);
    }
    let mut v: Vec<f64> = h
        .aggregates
        .iter()
        .filter_map(|a| {
            cell_value(
                h.defs[metric].kind,
                collapse(a, year, sex, BandLevel::All, metric),
            )
        })
        .collect();
    if v.is_empty() {
        return (f64::NAN, f64::NAN, f64::NAN);
    }
    let (m, lo, hi, _) = describe(&mut v);
    (m, lo, hi)
}

fn num(x: f64, decimals: usize) -> String {
    if x.is_finite() {
        format!("{:.decimals$}", x + 0.0)
    } else if x == f64::INFINITY {
        WITHHELD.into()
    } else {
        "n/a".into()
    }
}

fn with_interval((m, lo, hi): (f64, f64, f64), decimals: usize) -> String {
    if !m.is_finite() {
        return num(m, decimals);
    }
    if lo == hi {
        // One replicate (or no spread at all): the value alone.
        return num(m, decimals);
    }
    format!(
        "{} ({}–{})",
        num(m, decimals),
        num(lo, decimals),
        num(hi, decimals)
    )
}

impl Headline<'_> {
    fn metric(&self, name: &str) -> Option<usize> {
        self.defs.iter().position(|d| d.name == name)
    }

    /// The headline text (ends with a newline).
    pub fn render(&self) -> String {
        self.render_disclosed(&SummaryDisclosure::none())
    }

    /// Whether the whole-horizon total of measure `m` is withheld: it counts fewer than `k`
    /// events (or people) in some replicate, or exactly one of its years is withheld in the
    /// summary (the total less the shown years would give that year away).
    fn total_withheld(&self, d: &SummaryDisclosure, outcomes: &[Outcomes], m: usize) -> bool {
        let policy = d.policy();
        if !policy.applies() {
            return false;
        }
        let years = self.aggregates.first().map_or(0, |a| a.years());
        let people = self.aggregates.iter().map(|a| {
            (0..years)
                .map(|y| {
                    collapse(a, y, SexLevel::All, BandLevel::All, builtin::POPULATION)
                        .num
                        .max(0) as u64
                })
                .max()
                .unwrap_or(0)
        });
        if policy.any_sensitive(people) {
            return true;
        }
        if MEASURES[m].event
            && policy.any_sensitive(outcomes.iter().map(|o| o.total(m).max(0.0).round() as u64))
        {
            return true;
        }
        let sources: Vec<usize> = source_metrics(m)
            .iter()
            .filter_map(|name| self.metric(name))
            .collect();
        let withheld_years = (0..years)
            .filter(|&y| {
                sources
                    .iter()
                    .any(|&s| d.withheld(y, SexLevel::All, BandLevel::All, s))
            })
            .count();
        withheld_years == 1
    }

    /// The headline with every figure withheld that `d` withholds from the summary (and
    /// the totals that would give one away).
    pub fn render_disclosed(&self, d: &SummaryDisclosure) -> String {
        let mut o = String::new();
        let years = self.aggregates.first().map_or(0, |a| a.years());
        let replicates = self.aggregates.len();
        let people = match d.policy().shown(self.people as u64) {
            Some(n) => n.to_string(),
            None => format!("fewer than {}", d.policy().threshold().unwrap_or_default()),
        };
        let _ = writeln!(
            o,
            "healthtwin run: {people} people, {years} years from {}, {replicates} replicate(s), seed {} ({:.1} s)",
            self.start_year, self.seed, self.seconds
        );
        if let Some(k) = d.policy().threshold() {
            let _ = writeln!(
                o,
                "Disclosure control: figures describing fewer than {k} people (or events) are {WITHHELD}, with complementary cells (docs/outputs.md)."
            );
        }
        if replicates > 1 {
            let _ = writeln!(
                o,
                "Figures are means over {replicates} Monte Carlo replicates (the same people, other random draws); \
                 ranges in parentheses are the 2.5th–97.5th percentiles over replicates: Monte Carlo \
                 noise, not parameter uncertainty (`compare --psa` adds that). All ages, both sexes."
            );
        } else {
            let _ = writeln!(
                o,
                "One replicate: no interval (run --replicates 10 or more for Monte Carlo intervals). All ages, both sexes."
            );
        }
        if years == 0 {
            return o;
        }
        let shown: Vec<usize> = (0..years)
            .filter(|y| y % 5 == 0 || *y == years - 1)
            .collect();
        let all = SexLevel::All;
        let year_label = |y: usize| (self.start_year + y as i64).to_string();
        let v = |y, name: &str| value(self, d, y, all, self.metric(name));

        let _ = writeln!(
            o,
            "\nPopulation and risk factors (at the start of each year; deaths during it)"
        );
        let _ = writeln!(
            o,
            "{:>6} {:>9} {:>9} {:>24} {:>10} {:>10} {:>8}",
            "year", "alive", "mean age", "deaths per 1,000 PY", "SBP mmHg", "BMI kg/m²", "smokers"
        );
        for &y in &shown {
            let _ = writeln!(
                o,
                "{:>6} {:>9} {:>9} {:>24} {:>10} {:>10} {:>8}",
                year_label(y),
                num(v(y, "population").0, 0),
                num(v(y, "age").0, 1),
                with_interval(v(y, "deaths"), 1),
                num(v(y, "sbp_mmhg").0, 1),
                num(v(y, "bmi_kg_m2").0, 1),
                match v(y, "smoker").0 {
                    x if x == f64::INFINITY => WITHHELD.to_string(),
                    x => format!("{}%", num(x, 1)),
                },
            );
        }

        let _ = writeln!(
            o,
            "\nDiseases simulated (prevalence: % of people alive at the start of the year; incidence: per 1,000 person-years at risk)"
        );
        let _ = writeln!(
            o,
            "{:>6} {:>17} {:>17} {:>11} {:>11} {:>11} {:>11} {:>14}",
            "year",
            "T2D prevalence %",
            "T2D onsets /1,000",
            "MI /1,000",
            "stroke /1k",
            "HF /1,000",
            "frail %",
            "LTC certified %"
        );
        for &y in &shown {
            let _ = writeln!(
                o,
                "{:>6} {:>17} {:>17} {:>11} {:>11} {:>11} {:>11} {:>14}",
                year_label(y),
                num(v(y, "dm_strongly_suspected").0, 1),
                num(v(y, "dm_incidence").0, 1),
                num(v(y, "cvd_mi_incidence").0, 2),
                num(v(y, "cvd_stroke_incidence").0, 2),
                num(v(y, "cvd_hf_incidence").0, 2),
                num(v(y, "fr_frail").0, 1),
                num(v(y, "ltc_certified").0, 1),
            );
        }
        let _ = writeln!(
            o,
            "T2D prevalence: HbA1c ≥ 6.5% or on treatment (the NHNS \"strongly suspected\" definition); \
             onsets: true onsets (JDS criteria); MI and stroke: first or recurrent; HF: first; \
             frail: J-CHS 3+ of 5; LTC: certified at any level (support 1 – care 5)."
        );

        // Whole-horizon totals: the comparison arithmetic, undiscounted.
        let sources = Sources::new(self.defs);
        let outcomes: Vec<Outcomes> = self
            .aggregates
            .iter()
            .map(|a| extract(a, &sources, 0.0))
            .collect();
        let everyone = if d.policy().shown(self.people as u64).is_some() {
            format!("all {people} people")
        } else {
            format!("all people ({people})")
        };
        let _ = writeln!(
            o,
            "\nOver the {years} years, {everyone} simulated (undiscounted)"
        );
        for (m, measure) in MEASURES.iter().enumerate() {
            if sources.missing.contains(&m) || measure.name == "programme_enrolments" {
                continue;
            }
            if measure.name == "programme_cost_yen" {
                continue;
            }
            let mut iv = Interval::of(&outcomes.iter().map(|x| x.total(m)).collect::<Vec<_>>());
            if self.total_withheld(d, &outcomes, m) {
                iv = Interval {
                    mean: f64::INFINITY,
                    lo: f64::INFINITY,
                    hi: f64::INFINITY,
                };
            }
            let (label, unit, k) = match measure.name {
                "t2d_cases" => ("type 2 diabetes onsets", "people", 1.0),
                "mi_events" => ("myocardial infarctions", "events", 1.0),
                "ischaemic_stroke_events" => ("ischaemic strokes", "events", 1.0),
                "haemorrhagic_stroke_events" => ("haemorrhagic strokes", "events", 1.0),
                "heart_failure_cases" => ("heart failure (first)", "people", 1.0),
                "frailty_onsets" => ("frailty onsets (J-CHS)", "people", 1.0),
                "ltc_certifications" => ("LTC certifications (65+)", "people", 1.0),
                "deaths" => ("deaths", "people", 1.0),
                "life_years" => ("life-years", "years", 1.0),
                "qalys" => ("QALYs", "quality-adjusted life-years", 1.0),
                "medical_cost_yen" => ("medical cost", "million yen", 1e6),
                "ltc_cost_yen" => ("long-term-care cost", "million yen", 1e6),
                "total_cost_yen" => ("total cost", "million yen", 1e6),
                name => (name, measure.unit, 1.0),
            };
            let decimals = if k > 1.0 || iv.mean.abs() >= 100.0 {
                0
            } else {
                1
            };
            let _ = writeln!(
                o,
                "  {label:<28} {:>28} {unit}",
                with_interval((iv.mean / k, iv.lo / k, iv.hi / k), decimals)
            );
        }

        let last = years - 1;
        let _ = writeln!(o);
        for sex in Sex::ALL {
            let lvl = SexLevel::One(sex);
            let deaths = value(self, d, last, lvl, self.metric("deaths"));
            let pop0 = value(self, d, 0, lvl, self.metric("population")).0;
            let popn = value(self, d, last, lvl, self.metric("population")).0;
            let _ = writeln!(
                o,
                "{:<7} alive at start {:>8}, at start of final year {:>8}; deaths in final year {} per 1,000 PY",
                sex.name(),
                num(pop0, 0),
                num(popn, 0),
                with_interval(deaths, 1)
            );
        }
        o
    }
}
