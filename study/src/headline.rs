//! The headline of a population run as text: the population and its risk factors, the
//! diseases simulated (diabetes, cardiovascular events, frailty, long-term care) by year, and
//! whole-horizon totals of events, deaths, life-years, QALYs and costs, every figure with its
//! unit and its interval over Monte Carlo replicates.
//!
//! Must never: print (the caller does), or compute anything the aggregates do not hold.

use std::fmt::Write as _;

use engine::observe::{cell_value, MetricDef};
use engine::summary::{collapse, describe, BandLevel, SexLevel};
use engine::{Aggregator, Sex};

use crate::outcomes::{extract, Interval, Outcomes, Sources, MEASURES};

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

/// (mean, lo, hi) of a metric over replicates in one year (NaN where undefined).
fn value(h: &Headline, year: usize, sex: SexLevel, metric: Option<usize>) -> (f64, f64, f64) {
    let Some(metric) = metric else {
        return (f64::NAN, f64::NAN, f64::NAN);
    };
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
    } else {
        "n/a".into()
    }
}

fn with_interval((m, lo, hi): (f64, f64, f64), decimals: usize) -> String {
    if !m.is_finite() {
        return "n/a".into();
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
        let mut o = String::new();
        let years = self.aggregates.first().map_or(0, |a| a.years());
        let replicates = self.aggregates.len();
        let _ = writeln!(
            o,
            "healthtwin run: {} people, {years} years from {}, {replicates} replicate(s), seed {} ({:.1} s)",
            self.people, self.start_year, self.seed, self.seconds
        );
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
        let v = |y, name: &str| value(self, y, all, self.metric(name));

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
                "{:>6} {:>9} {:>9} {:>24} {:>10} {:>10} {:>7}%",
                year_label(y),
                num(v(y, "population").0, 0),
                num(v(y, "age").0, 1),
                with_interval(v(y, "deaths"), 1),
                num(v(y, "sbp_mmhg").0, 1),
                num(v(y, "bmi_kg_m2").0, 1),
                num(v(y, "smoker").0, 1),
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
        let _ = writeln!(
            o,
            "\nOver the {years} years, all {} people simulated (undiscounted)",
            self.people
        );
        for (m, measure) in MEASURES.iter().enumerate() {
            if sources.missing.contains(&m) || measure.name == "programme_enrolments" {
                continue;
            }
            if measure.name == "programme_cost_yen" {
                continue;
            }
            let iv = Interval::of(&outcomes.iter().map(|x| x.total(m)).collect::<Vec<_>>());
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
            let d = if k > 1.0 || iv.mean.abs() >= 100.0 {
                0
            } else {
                1
            };
            let _ = writeln!(
                o,
                "  {label:<28} {:>28} {unit}",
                with_interval((iv.mean / k, iv.lo / k, iv.hi / k), d)
            );
        }

        let last = years - 1;
        let _ = writeln!(o);
        for sex in Sex::ALL {
            let lvl = SexLevel::One(sex);
            let deaths = value(self, last, lvl, self.metric("deaths"));
            let pop0 = value(self, 0, lvl, self.metric("population")).0;
            let popn = value(self, last, lvl, self.metric("population")).0;
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
