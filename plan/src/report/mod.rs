//! The planning report: statistics over replicates (levels and paired differences against
//! the baseline, per fiscal year and over the horizon), the tables (CSV and Parquet), the
//! charts (PNG and SVG), the one-page HTML report (Japanese or English) and the terminal
//! summary. Every number is on the town's scale; every people count goes through
//! [`crate::disclosure::suppress`] before it is written or shown.
//!
//! Must never: compute model quantities (it reads [`crate::measures`]), or print.

mod charts;
mod html;
mod tables;
mod text;

use report::html::Lang;
use study::outcomes::{discount, Interval};

use crate::disclosure::{self, Group};
use crate::measures::{self as ms, Measure, RunValues, Unit};
use crate::sweep::{self, Point, Step};
use crate::{Plan, PlanResults, Role};

pub use tables::write_tables;

/// A quantity of the fiscal-year tables: a measure, or a spending split derived from one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Q {
    M(usize),
    /// LTC benefits paid by the insurance.
    LtcInsurer,
    /// The municipality's general-account share of the benefits.
    LtcMunicipal,
    /// The category-1 (65+) premiums' share of the benefits.
    LtcPremium,
    /// LTC + medical + programme spending.
    Spending,
}

/// Derived quantities with their names and labels.
pub const DERIVED: [(Q, &str, &str, &str); 4] = [
    (
        Q::LtcInsurer,
        "ltc_benefit_insurer_yen",
        "介護給付費（保険者負担）",
        "LTC benefits (insurer)",
    ),
    (
        Q::LtcMunicipal,
        "ltc_benefit_municipal_yen",
        "うち市町村一般会計",
        "of which municipal general account",
    ),
    (
        Q::LtcPremium,
        "ltc_benefit_premium_65_yen",
        "うち第1号保険料",
        "of which premiums of residents 65+",
    ),
    (
        Q::Spending,
        "total_spending_yen",
        "介護・医療・事業費の合計",
        "LTC + medical + programme spending",
    ),
];

/// What the options table reports per option over the whole horizon.
#[derive(Clone, Debug)]
pub struct OptionSummary {
    pub option: usize,
    pub arm: usize,
    /// Per programme of the option: (programme, places, people reached over the horizon).
    pub reached: Vec<(usize, u64, Interval)>,
    pub certifications_averted: Interval,
    pub frailty_averted: Interval,
    pub care_months_averted: Interval,
    pub deaths_averted: Interval,
    pub ltc_change: Interval,
    pub ltc_insurer_change: Interval,
    pub medical_change: Interval,
    pub programme_cost: Interval,
    pub net_cost: Interval,
    /// Net cost per certification averted (ratio of means); `None` without a gain.
    pub cost_per_certification: Option<f64>,
    /// Discounted at the plan's rate (the economic summary).
    pub net_cost_discounted: Interval,
    pub qalys_gained_discounted: Interval,
    pub cost_per_qaly: Option<f64>,
}

/// A plan's results, ready to be written and shown.
pub struct PlanReport<'a> {
    pub plan: &'a Plan,
    pub results: &'a PlanResults,
    pub lang: Lang,
    pub measures: Vec<Measure>,
    pub base: usize,
    pub options: Vec<OptionSummary>,
    pub points: Vec<Point>,
    pub order: Vec<Step>,
    pub k: u64,
}

/// Groups of people measures that add up (for complementary suppression).
pub fn groups() -> Vec<Group> {
    vec![
        (ms::RESIDENTS, vec![ms::ROBUST, ms::PREFRAIL, ms::FRAIL]),
        (ms::CERTIFIED, (ms::LEVEL..ms::LEVEL + 7).collect()),
        (
            ms::NEW_CERTIFICATIONS,
            (ms::NEW_LEVEL..ms::NEW_LEVEL + 7).collect(),
        ),
    ]
}

impl<'a> PlanReport<'a> {
    pub fn new(plan: &'a Plan, results: &'a PlanResults, lang: Lang) -> PlanReport<'a> {
        let labels: Vec<(String, String, String)> = plan
            .file
            .programmes
            .iter()
            .map(|p| {
                (
                    p.spec.name.clone(),
                    programme_label(p.spec.kind.name(), Lang::Ja, &p.spec.name),
                    programme_label(p.spec.kind.name(), Lang::En, &p.spec.name),
                )
            })
            .collect();
        let base = plan.arm_of(&Role::Baseline).unwrap_or(0);
        let points = sweep::points(plan, results);
        let order = sweep::expansion_order(&points);
        let mut r = PlanReport {
            plan,
            results,
            lang,
            measures: ms::measures(&labels),
            base,
            options: Vec::new(),
            points,
            order,
            k: plan.threshold,
        };
        r.options = (0..plan.file.options.len())
            .filter_map(|i| r.summarise(i))
            .collect();
        r
    }

    fn runs(&self, arm: usize) -> &[RunValues] {
        &self.results.runs[arm]
    }

    /// The value of `q` in one run and year (ages 65+).
    pub fn value(&self, r: &RunValues, year: usize, q: Q) -> f64 {
        let f = &self.plan.file.finance;
        let ltc = r.year(year, ms::LTC_COST);
        match q {
            Q::M(m) => r.year(year, m),
            Q::LtcInsurer => ltc * f.insurer_share,
            Q::LtcMunicipal => ltc * f.insurer_share * f.municipal_share,
            Q::LtcPremium => ltc * f.insurer_share * f.premium_share,
            Q::Spending => ltc + r.year(year, ms::MEDICAL_COST) + r.year(year, ms::PROGRAMME_COST),
        }
    }

    /// Per-replicate values of `f` in `arm`, or paired differences to the baseline.
    pub fn values(&self, arm: usize, diff: bool, f: impl Fn(&RunValues) -> f64) -> Vec<f64> {
        let base = self.runs(self.base);
        self.runs(arm)
            .iter()
            .zip(base)
            .map(|(r, b)| if diff { f(r) - f(b) } else { f(r) })
            .collect()
    }

    /// Mean and interval of `q` in a fiscal year (level, or difference to the baseline).
    pub fn year_iv(&self, arm: usize, diff: bool, year: usize, q: Q) -> Interval {
        Interval::of(&self.values(arm, diff, |r| self.value(r, year, q)))
    }

    /// Which people measures of one (arm, level or difference, year) row are hidden.
    pub fn hidden_row(&self, arm: usize, diff: bool, year: usize) -> Vec<bool> {
        let row: Vec<Option<f64>> = self
            .measures
            .iter()
            .enumerate()
            .map(|(m, def)| {
                (def.unit == Unit::People).then(|| self.year_iv(arm, diff, year, Q::M(m)).mean)
            })
            .collect();
        disclosure::suppress(&row, &groups(), self.k)
    }

    /// Which people measures of one band's row (level) are hidden: `bands` summed.
    pub fn hidden_band_row(&self, arm: usize, year: usize, bands: &[usize]) -> Vec<bool> {
        let row: Vec<Option<f64>> = self
            .measures
            .iter()
            .enumerate()
            .map(|(m, def)| {
                (def.unit == Unit::People && !def.name.starts_with("reached_")).then(|| {
                    Interval::of(&self.values(arm, false, |r| {
                        bands.iter().map(|&b| r.get(year, b, m)).sum()
                    }))
                    .mean
                })
            })
            .collect();
        disclosure::suppress(&row, &groups(), self.k)
    }

    fn summarise(&self, option: usize) -> Option<OptionSummary> {
        let arm = self.plan.arm_of(&Role::Option(option))?;
        let years = self.plan.file.years as usize;
        let rate = self.plan.file.discount_rate;
        let d = |f: &dyn Fn(&RunValues) -> f64| Interval::of(&self.values(arm, true, f));
        let averted = |m: usize| Interval::of(&self.values(arm, true, |r| -r.total(m)));
        let spending = |r: &RunValues| {
            (0..years)
                .map(|y| self.value(r, y, Q::Spending))
                .sum::<f64>()
        };
        let net_cost = d(&spending);
        let certifications_averted = averted(ms::NEW_CERTIFICATIONS);
        let disc = |r: &RunValues, q: Q| -> f64 {
            (0..years)
                .map(|y| discount(rate, y) * self.value(r, y, q))
                .sum()
        };
        let net_cost_discounted = d(&|r| disc(r, Q::Spending));
        let qalys_gained_discounted = d(&|r| disc(r, Q::M(ms::QALYS)));
        let places = &self.plan.file.options[option].places;
        Some(OptionSummary {
            option,
            arm,
            reached: places
                .iter()
                .map(|&(k, n)| {
                    let m = ms::PROGRAMMES + 2 * k;
                    (k, n, Interval::of(&self.values(arm, false, |r| r.total(m))))
                })
                .collect(),
            frailty_averted: averted(ms::FRAILTY_ONSETS),
            care_months_averted: averted(ms::CARE_MONTHS),
            deaths_averted: averted(ms::DEATHS),
            ltc_change: d(&|r| r.total(ms::LTC_COST)),
            ltc_insurer_change: d(&|r| (0..years).map(|y| self.value(r, y, Q::LtcInsurer)).sum()),
            medical_change: d(&|r| r.total(ms::MEDICAL_COST)),
            programme_cost: Interval::of(&self.values(arm, false, |r| r.total(ms::PROGRAMME_COST))),
            cost_per_certification: (certifications_averted.mean > 0.0)
                .then(|| net_cost.mean / certifications_averted.mean),
            cost_per_qaly: (qalys_gained_discounted.mean > 0.0)
                .then(|| net_cost_discounted.mean / qalys_gained_discounted.mean),
            certifications_averted,
            net_cost,
            net_cost_discounted,
            qalys_gained_discounted,
        })
    }

    /// The label of an option in the report's language.
    pub fn option_label(&self, option: usize) -> &str {
        let o = &self.plan.file.options[option];
        self.lang.pick(&o.label_ja, &o.label_en)
    }

    /// The label of a programme in the report's language.
    pub fn programme_label(&self, k: usize) -> String {
        let p = &self.plan.file.programmes[k].spec;
        programme_label(p.kind.name(), self.lang, &p.name)
    }

    /// A measure's label in the report's language.
    pub fn label(&self, m: usize) -> &str {
        let d = &self.measures[m];
        self.lang.pick(&d.ja, &d.en)
    }

    /// A fiscal year's label.
    pub fn fy(&self, year: usize) -> String {
        crate::fiscal::label(self.plan.fiscal_year(year), self.lang)
    }

    /// A count of people as shown: `*` when hidden, the rounded mean with its interval
    /// (bounds below the threshold as `<k`).
    pub fn people(&self, iv: Interval, hidden: bool, with_interval: bool) -> String {
        if hidden {
            return "*".into();
        }
        let n = |x: f64| {
            if disclosure::below(x, self.k) && x < 0.0 {
                format!(">−{}", self.k)
            } else if disclosure::below(x, self.k) {
                format!("<{}", self.k)
            } else {
                self.lang.number(x, 0)
            }
        };
        if with_interval && iv.lo.is_finite() && iv.hi.is_finite() && iv.hi > iv.lo {
            format!(
                "{} ({})",
                n(iv.mean),
                self.range(n(iv.lo), n(iv.hi), iv.lo < 0.0)
            )
        } else {
            n(iv.mean)
        }
    }

    /// An interval's bounds: `lo–hi`, or `lo〜hi` / `lo to hi` when a bound is negative (a
    /// dash between two minus signs misreads).
    pub fn range(&self, lo: String, hi: String, negative: bool) -> String {
        match (negative, self.lang) {
            (false, _) => format!("{lo}–{hi}"),
            (true, Lang::Ja) => format!("{lo}〜{hi}"),
            (true, Lang::En) => format!("{lo} to {hi}"),
        }
    }

    /// Yen in millions with one decimal (百万円).
    pub fn million_yen(&self, x: f64) -> String {
        self.lang.number(x / 1e6, 1)
    }

    /// An interval of yen in millions.
    pub fn million_yen_iv(&self, iv: Interval) -> String {
        if iv.lo.is_finite() && iv.hi.is_finite() && iv.hi > iv.lo {
            format!(
                "{} ({})",
                self.million_yen(iv.mean),
                self.range(
                    self.million_yen(iv.lo),
                    self.million_yen(iv.hi),
                    iv.lo < 0.0
                )
            )
        } else {
            self.million_yen(iv.mean)
        }
    }

    /// An interval of a quantity that is not a count of people (care-months, QALYs).
    pub fn number_iv(&self, iv: Interval, decimals: usize) -> String {
        format!(
            "{} ({})",
            self.lang.number(iv.mean, decimals),
            self.range(
                self.lang.number(iv.lo, decimals),
                self.lang.number(iv.hi, decimals),
                iv.lo < 0.0
            )
        )
    }

    /// The options' summaries in plan order.
    pub fn summaries(&self) -> &[OptionSummary] {
        &self.options
    }

    /// Whether a people count shown alone (not in a row with others) is hidden.
    pub fn hidden_alone(&self, iv: Interval) -> bool {
        disclosure::suppress(&[Some(iv.mean)], &[], self.k)[0]
    }
}

/// A programme's label: the kind in words (Japanese or English), with the plan's name.
pub fn programme_label(kind: &str, lang: Lang, name: &str) -> String {
    let words = match (kind, lang) {
        ("community_salon", Lang::Ja) => "通いの場",
        ("community_salon", Lang::En) => "community salon",
        ("exercise_nutrition", Lang::Ja) => "運動・栄養教室",
        ("exercise_nutrition", Lang::En) => "exercise and nutrition",
        ("health_check", Lang::Ja) => "健診",
        ("health_check", Lang::En) => "health check-up",
        ("smoking_cessation", Lang::Ja) => "禁煙支援",
        ("smoking_cessation", Lang::En) => "smoking cessation",
        ("intensive_lifestyle", Lang::Ja) => "生活習慣改善",
        ("intensive_lifestyle", Lang::En) => "intensive lifestyle",
        _ => "",
    };
    if words.is_empty() {
        name.to_string()
    } else {
        format!("{words} ({name})")
    }
}
