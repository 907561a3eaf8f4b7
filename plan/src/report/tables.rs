//! The plan's tables, CSV and Parquet (docs/planning.md, "Files"): every value on the town's
//! scale, people counts through the disclosure rule (a hidden cell is empty and flagged).

use std::path::Path;

use engine::observe::age_band_label;
use report::{write_csv, write_parquet, ReportError, Table, Values};
use study::outcomes::Interval;

use super::{PlanReport, DERIVED, Q};
use crate::disclosure;
use crate::fiscal;
use crate::measures::{self as ms, Unit};
use crate::{Plan, Role};

fn fin(x: f64) -> Option<f64> {
    x.is_finite().then_some(x)
}

/// Rows of a long table: text keys, then value columns.
#[derive(Default)]
struct Long {
    text: Vec<(String, Vec<Option<String>>)>,
    ints: Vec<(String, Vec<i64>)>,
    mean: Vec<Option<f64>>,
    lo: Vec<Option<f64>>,
    hi: Vec<Option<f64>>,
    suppressed: Vec<bool>,
}

impl Long {
    fn new(text: &[&str], ints: &[&str]) -> Long {
        Long {
            text: text.iter().map(|n| (n.to_string(), Vec::new())).collect(),
            ints: ints.iter().map(|n| (n.to_string(), Vec::new())).collect(),
            ..Long::default()
        }
    }

    /// One row; for a people count, `hidden` empties the mean and interval, and bounds below
    /// the threshold are left empty.
    fn push(
        &mut self,
        text: &[&str],
        ints: &[i64],
        iv: Interval,
        people: bool,
        hidden: bool,
        k: u64,
    ) {
        for (col, v) in self.text.iter_mut().zip(text) {
            col.1.push(Some(v.to_string()));
        }
        for (col, v) in self.ints.iter_mut().zip(ints) {
            col.1.push(*v);
        }
        let shown = |x: f64| {
            if hidden || (people && disclosure::below(x, k)) {
                None
            } else {
                fin(x)
            }
        };
        self.mean.push(shown(iv.mean));
        self.lo.push(shown(iv.lo));
        self.hi.push(shown(iv.hi));
        self.suppressed.push(hidden);
    }

    fn table(self, name: &str) -> Table {
        let mut t = Table::new(name);
        for (n, v) in self.text {
            t.push(n, Values::Text(v));
        }
        for (n, v) in self.ints {
            t.push(n, Values::Int(v));
        }
        t.push("mean", Values::Float(self.mean));
        t.push("lo95", Values::Float(self.lo));
        t.push("hi95", Values::Float(self.hi));
        t.push("suppressed", Values::Bool(self.suppressed));
        t
    }
}

/// Writes every table into `out`; returns the file names.
pub fn write_tables(r: &PlanReport, out: &Path) -> Result<Vec<String>, ReportError> {
    let mut files = Vec::new();
    let mut save = |t: &Table, stem: &str| -> Result<(), ReportError> {
        write_csv(t, &out.join(format!("{stem}.csv")))?;
        write_parquet(t, &out.join(format!("{stem}.parquet")))?;
        files.push(format!("{stem}.csv"));
        files.push(format!("{stem}.parquet"));
        Ok(())
    };
    save(&by_year(r), "plan_by_year")?;
    save(&by_age(r), "plan_by_age")?;
    save(&options(r), "plan_options")?;
    if !r.points.is_empty() {
        save(&sweep(r), "plan_sweep")?;
    }
    save(&residents(r.plan, r.k), "plan_residents")?;
    if !r.plan.local.matched.is_empty() {
        save(&local(r.plan), "plan_local")?;
    }
    Ok(files)
}

fn arm_role(plan: &Plan, arm: usize) -> String {
    plan.arms[arm]
        .roles
        .iter()
        .map(|role| match role {
            Role::Baseline => "baseline".to_string(),
            Role::Option(i) => format!("option:{}", plan.file.options[*i].name),
            Role::Sweep { programme, blocks } => format!(
                "sweep:{}:{blocks}",
                plan.file.programmes[*programme].spec.name
            ),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Per arm, level and difference, fiscal year and quantity (ages 65+).
fn by_year(r: &PlanReport) -> Table {
    let plan = r.plan;
    let mut t = Long::new(
        &[
            "arm",
            "roles",
            "comparison",
            "fiscal_year_label",
            "measure",
            "unit",
        ],
        &["year_index", "fiscal_year", "insurance_period"],
    );
    let years = plan.file.years as usize;
    for arm in 0..plan.arms.len() {
        let roles = arm_role(plan, arm);
        for diff in [false, true] {
            if diff && arm == r.base {
                continue;
            }
            let comparison = if diff {
                "difference_vs_baseline"
            } else {
                "level"
            };
            for y in 0..years {
                let fy = plan.fiscal_year(y);
                let hidden = r.hidden_row(arm, diff, y);
                let label = fiscal::label(fy, report::html::Lang::En);
                let ints = [y as i64, fy, fiscal::period(fy)];
                for (m, def) in r.measures.iter().enumerate() {
                    let iv = r.year_iv(arm, diff, y, Q::M(m));
                    let people = def.unit == Unit::People;
                    t.push(
                        &[
                            &plan.arms[arm].name,
                            &roles,
                            comparison,
                            &label,
                            &def.name,
                            def.unit.name(),
                        ],
                        &ints,
                        iv,
                        people,
                        hidden[m],
                        r.k,
                    );
                }
                for (q, name, _, _) in DERIVED {
                    let iv = r.year_iv(arm, diff, y, q);
                    t.push(
                        &[
                            &plan.arms[arm].name,
                            &roles,
                            comparison,
                            &label,
                            name,
                            Unit::Yen.name(),
                        ],
                        &ints,
                        iv,
                        false,
                        false,
                        r.k,
                    );
                }
            }
        }
    }
    t.table("plan_by_year")
}

/// Baseline and options, per fiscal year and age band (65-69 … 90+): the census and new
/// certifications.
fn by_age(r: &PlanReport) -> Table {
    let plan = r.plan;
    let mut t = Long::new(
        &["arm", "age_band", "measure", "unit"],
        &["year_index", "fiscal_year"],
    );
    let mut arms = vec![r.base];
    arms.extend(r.options.iter().map(|o| o.arm));
    arms.dedup();
    let wanted: Vec<usize> = (0..ms::PROGRAMMES)
        .filter(|&m| r.measures[m].unit == Unit::People)
        .collect();
    for &arm in &arms {
        for y in 0..plan.file.years as usize {
            for (label, bands) in Plan::table_bands() {
                let hidden = r.hidden_band_row(arm, y, &bands);
                for &m in &wanted {
                    let iv = Interval::of(
                        &r.values(arm, false, |x| bands.iter().map(|&b| x.get(y, b, m)).sum()),
                    );
                    t.push(
                        &[&plan.arms[arm].name, &label, &r.measures[m].name, "people"],
                        &[y as i64, plan.fiscal_year(y)],
                        iv,
                        true,
                        hidden[m],
                        r.k,
                    );
                }
            }
        }
    }
    t.table("plan_by_age")
}

/// Per option, whole horizon: places, reach, what it averts and costs.
fn options(r: &PlanReport) -> Table {
    let mut t = Long::new(&["option", "measure", "unit"], &[]);
    for o in &r.options {
        let name = &r.plan.file.options[o.option].name;
        let mut row = |measure: &str, unit: &str, iv: Interval, people: bool| {
            let hidden = people && r.hidden_alone(iv);
            t.push(&[name, measure, unit], &[], iv, people, hidden, r.k);
        };
        let exact = |x: f64| Interval {
            mean: x,
            lo: f64::NAN,
            hi: f64::NAN,
        };
        for (k, places, reached) in &o.reached {
            let p = &r.plan.file.programmes[*k].spec.name;
            row(
                &format!("places_{p}"),
                "places per year",
                exact(*places as f64),
                false,
            );
            row(&format!("reached_{p}"), "people", *reached, true);
        }
        row(
            "certifications_averted",
            "people",
            o.certifications_averted,
            true,
        );
        row("frailty_onsets_averted", "people", o.frailty_averted, true);
        row("deaths_averted", "people", o.deaths_averted, true);
        row(
            "care_months_averted",
            "person-months",
            o.care_months_averted,
            false,
        );
        row(
            "ltc_cost_change_yen",
            "yen (undiscounted)",
            o.ltc_change,
            false,
        );
        row(
            "ltc_benefit_insurer_change_yen",
            "yen (undiscounted)",
            o.ltc_insurer_change,
            false,
        );
        row(
            "medical_cost_change_yen",
            "yen (undiscounted)",
            o.medical_change,
            false,
        );
        row(
            "programme_cost_yen",
            "yen (undiscounted)",
            o.programme_cost,
            false,
        );
        row("net_cost_yen", "yen (undiscounted)", o.net_cost, false);
        // A ratio over a hidden count is hidden with it (the count could be recovered).
        let averted_hidden = r.hidden_alone(o.certifications_averted);
        row(
            "net_cost_per_certification_averted_yen",
            "yen (undiscounted)",
            exact(if averted_hidden {
                f64::NAN
            } else {
                o.cost_per_certification.unwrap_or(f64::NAN)
            }),
            false,
        );
        row(
            "net_cost_discounted_yen",
            "yen (discounted)",
            o.net_cost_discounted,
            false,
        );
        row(
            "qalys_gained_discounted",
            "QALYs (discounted)",
            o.qalys_gained_discounted,
            false,
        );
        row(
            "net_cost_per_qaly_yen",
            "yen per QALY (discounted)",
            exact(o.cost_per_qaly.unwrap_or(f64::NAN)),
            false,
        );
    }
    t.table("plan_options")
}

/// The capacity sweep: each point against the baseline and its last block alone, with the
/// funding order.
fn sweep(r: &PlanReport) -> Table {
    let mut t = Table::new("plan_sweep");
    let mut programme = Vec::new();
    let mut blocks = Vec::new();
    let mut places = Vec::new();
    let mut cols: Vec<(&str, Vec<Option<f64>>)> = [
        "certifications_averted",
        "certifications_averted_lo95",
        "certifications_averted_hi95",
        "reached",
        "frailty_onsets_averted",
        "care_months_averted",
        "net_cost_yen",
        "marginal_certifications_averted",
        "marginal_certifications_averted_lo95",
        "marginal_certifications_averted_hi95",
        "marginal_net_cost_yen",
        "marginal_programme_spending_yen_per_year",
        "marginal_net_cost_per_certification_averted_yen",
        "marginal_certifications_averted_per_million_yen",
        "funding_order",
        "cumulative_programme_spending_yen_per_year",
        "cumulative_certifications_averted",
    ]
    .iter()
    .map(|n| (*n, Vec::new()))
    .collect();
    let mut suppressed = Vec::new();
    for (i, p) in r.points.iter().enumerate() {
        programme.push(Some(r.plan.file.programmes[p.programme].spec.name.clone()));
        blocks.push(i64::from(p.blocks));
        places.push(p.places as i64);
        let people = |x: f64| (!disclosure::below(x, r.k)).then_some(x).and_then(fin);
        let hide_a = r.hidden_alone(p.averted);
        let hide_m = r.hidden_alone(p.marginal_averted);
        let hide_r = r.hidden_alone(p.reached);
        let step = r.order.iter().position(|s| s.point == i);
        let v = [
            (!hide_a).then(|| people(p.averted.mean)).flatten(),
            (!hide_a).then(|| people(p.averted.lo)).flatten(),
            (!hide_a).then(|| people(p.averted.hi)).flatten(),
            (!hide_r).then(|| people(p.reached.mean)).flatten(),
            (!r.hidden_alone(p.frailty_averted))
                .then(|| people(p.frailty_averted.mean))
                .flatten(),
            fin(p.care_months_averted.mean),
            fin(p.net_cost.mean),
            (!hide_m).then(|| people(p.marginal_averted.mean)).flatten(),
            (!hide_m).then(|| people(p.marginal_averted.lo)).flatten(),
            (!hide_m).then(|| people(p.marginal_averted.hi)).flatten(),
            fin(p.marginal_net_cost.mean),
            fin(p.marginal_spending_per_year),
            (!hide_m)
                .then_some(p.marginal_cost_per_averted)
                .flatten()
                .and_then(fin),
            (!hide_m)
                .then_some(p.marginal_averted_per_million_yen)
                .flatten()
                .and_then(fin),
            step.map(|s| s as f64 + 1.0),
            step.map(|s| r.order[s].cumulative_spending_per_year),
            step.and_then(|s| people(r.order[s].cumulative_averted)),
        ];
        for (c, x) in cols.iter_mut().zip(v) {
            c.1.push(x);
        }
        suppressed.push(hide_a || hide_m || hide_r);
    }
    t.push("programme", Values::Text(programme));
    t.push("blocks", Values::Int(blocks));
    t.push("places", Values::Int(places));
    for (n, v) in cols {
        t.push(n, Values::Float(v));
    }
    t.push("suppressed", Values::Bool(suppressed));
    t
}

/// The town's residents by sex and band (the input, as used), and the people simulated.
fn residents(plan: &Plan, k: u64) -> Table {
    let mut t = Table::new("plan_residents");
    let (mut sex, mut band, mut count, mut simulated, mut filled, mut hidden) = (
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
    );
    for b in crate::town::FIRST_BAND..engine::observe::N_AGE_BANDS {
        let row = [
            Some(plan.town.counts[0][b]),
            Some(plan.town.counts[1][b]),
            Some(plan.town.counts[0][b] + plan.town.counts[1][b]),
        ];
        let h = disclosure::suppress(&row, &[(2, vec![0, 1])], k);
        for (s, name) in ["male", "female"].iter().enumerate() {
            sex.push(Some(name.to_string()));
            band.push(Some(age_band_label(b)));
            count.push((!h[s]).then_some(row[s].unwrap_or(0.0)).and_then(fin));
            let n = plan
                .strata
                .iter()
                .find(|st| st.band == b && st.sex.index() == s)
                .map_or(0, |st| st.n);
            simulated.push(n as i64);
            filled.push(plan.town.filled.contains(&b));
            hidden.push(h[s]);
        }
    }
    t.push("sex", Values::Text(sex));
    t.push("age_band", Values::Text(band));
    t.push("residents", Values::Float(count));
    t.push("simulated", Values::Int(simulated));
    t.push("from_national_structure", Values::Bool(filled));
    t.push("suppressed", Values::Bool(hidden));
    t
}

/// Local prevalences: target, national, fitted, adjustment.
fn local(plan: &Plan) -> Table {
    let mut t = Table::new("plan_local");
    let m = &plan.local.matched;
    t.push(
        "measure",
        Values::Text(m.iter().map(|x| Some(x.what.to_string())).collect()),
    );
    for (name, f) in [
        (
            "target",
            (|x: &crate::local::Matched| x.target) as fn(&crate::local::Matched) -> f64,
        ),
        ("national", |x| x.national),
        ("fitted", |x| x.fitted),
        ("adjustment", |x| x.adjustment),
    ] {
        t.push(name, Values::Float(m.iter().map(|x| fin(f(x))).collect()));
    }
    t
}
