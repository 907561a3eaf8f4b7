//! The terminal summary of a plan (English, like every terminal output of healthtwin):
//! the town, the baseline's care demand and budget per fiscal year, the options against the
//! baseline, the order of expansion, and the throughput. Every number on the town's scale,
//! people counts through the disclosure rule.

use std::fmt::Write as _;

use report::html::Lang;

use super::{PlanReport, Q};
use crate::fiscal;
use crate::measures as ms;

impl PlanReport<'_> {
    /// The summary as text (`threads`: the worker threads, for the throughput line).
    pub fn text(&self, threads: usize) -> String {
        let p = self.plan;
        let f = &p.file;
        let en = Lang::En;
        let mut o = String::new();
        let last = self.plan.file.years as usize - 1;
        let _ = writeln!(
            o,
            "healthtwin plan: {} ({}), {} to {} (insurance periods {} to {}), {} replicates, seed {}",
            f.town_name_en,
            f.name,
            fiscal::label(f.start_fiscal_year, en),
            fiscal::label(p.fiscal_year(last), en),
            fiscal::period(f.start_fiscal_year),
            fiscal::period(p.fiscal_year(last)),
            p.study.settings.replicates,
            p.study.settings.seed
        );
        let simulated: f64 = p.strata.iter().map(|s| s.residents).sum();
        let _ = writeln!(
            o,
            "Residents 65+ on 1 April {}: {}; simulated: {} residents aged {}+ as {} people (each stands for {:.3})",
            f.start_fiscal_year,
            en.number(p.residents_65(), 0),
            en.number(simulated, 0),
            p.first_band * 5,
            en.number(p.people().len() as f64, 0),
            p.weight
        );
        for n in &p.notes {
            let _ = writeln!(o, "note: {}", n.en);
        }
        for m in &p.local.matched {
            let _ = writeln!(
                o,
                "local {}: target {:.3}, national inputs {:.3}, fitted {:.3} (adjustment {:.3})",
                m.what, m.target, m.national, m.fitted, m.adjustment
            );
        }
        let _ = writeln!(
            o,
            "\nBaseline, residents 65+ (town scale; mean, 95% interval over replicates in the certified column; counts on 1 April, new certifications and money during the year; million yen, undiscounted)"
        );
        let _ = writeln!(
            o,
            "  {:<8} {:>8} {:>7} {:>22} {:>8} {:>8} {:>9} {:>9} {:>9} {:>9}",
            "FY",
            "65+",
            "frail",
            "certified",
            "care1-5",
            "facility",
            "new cert",
            "LTC cost",
            "benefits",
            "medical"
        );
        for y in 0..=last {
            let h = self.hidden_row(self.base, false, y);
            let c = |m: usize, iv: bool| {
                self.people(self.year_iv(self.base, false, y, Q::M(m)), h[m], iv)
            };
            let care: f64 = (2..7)
                .map(|k| self.year_iv(self.base, false, y, Q::M(ms::LEVEL + k)).mean)
                .sum();
            let care_hidden = (2..7).any(|k| h[ms::LEVEL + k]);
            let _ = writeln!(
                o,
                "  {:<8} {:>8} {:>7} {:>22} {:>8} {:>8} {:>9} {:>9} {:>9} {:>9}",
                fiscal::label(p.fiscal_year(y), en),
                c(ms::RESIDENTS, false),
                c(ms::FRAIL, false),
                c(ms::CERTIFIED, true),
                self.people(
                    study::outcomes::Interval::of(&[care]),
                    care_hidden || self.hidden_alone(study::outcomes::Interval::of(&[care])),
                    false
                ),
                c(ms::FACILITY, false),
                c(ms::NEW_CERTIFICATIONS, false),
                self.million_yen(self.year_iv(self.base, false, y, Q::M(ms::LTC_COST)).mean),
                self.million_yen(self.year_iv(self.base, false, y, Q::LtcInsurer).mean),
                self.million_yen(
                    self.year_iv(self.base, false, y, Q::M(ms::MEDICAL_COST))
                        .mean
                ),
            );
        }
        let _ = writeln!(
            o,
            "\nOptions against the baseline over {} years (undiscounted; million yen; net cost = programme + change in LTC cost + change in medical spending)",
            last + 1
        );
        for s in &self.options {
            let name = &f.options[s.option].name;
            let places: Vec<String> = s
                .reached
                .iter()
                .map(|(k, n, r)| {
                    format!(
                        "{} {} places, {} reached",
                        f.programmes[*k].spec.name,
                        en.number(*n as f64, 0),
                        self.people(*r, self.hidden_alone(*r), false)
                    )
                })
                .collect();
            let _ = writeln!(o, "  {name}: {}", places.join("; "));
            let _ = writeln!(
                o,
                "    certifications averted {}, frailty onsets averted {}, care-months averted {}",
                self.people(
                    s.certifications_averted,
                    self.hidden_alone(s.certifications_averted),
                    true
                ),
                self.people(
                    s.frailty_averted,
                    self.hidden_alone(s.frailty_averted),
                    true
                ),
                en.number(s.care_months_averted.mean, 0)
            );
            let _ = writeln!(
                o,
                "    programme {}, LTC cost {}, medical {}, net cost {}, per certification averted {}",
                self.million_yen(s.programme_cost.mean),
                self.million_yen_iv(s.ltc_change),
                self.million_yen(s.medical_change.mean),
                self.million_yen_iv(s.net_cost),
                if self.hidden_alone(s.certifications_averted) {
                    "*".into()
                } else {
                    s.cost_per_certification
                        .map_or("-".into(), |c| self.million_yen(c))
                }
            );
            let _ = writeln!(
                o,
                "    discounted at {:.0}%: net cost {}, QALYs gained {:.1}, net cost per QALY {}",
                f.discount_rate * 100.0,
                self.million_yen(s.net_cost_discounted.mean),
                s.qalys_gained_discounted.mean,
                s.cost_per_qaly.map_or("-".into(), |c| self.million_yen(c))
            );
        }
        if !self.order.is_empty() {
            let _ = writeln!(
                o,
                "\nWhich block of places to fund first within a programme budget (each programme alone; most certifications averted per million yen of programme spending first)"
            );
            for (i, s) in self.order.iter().enumerate() {
                let pt = &self.points[s.point];
                let hidden = self.hidden_alone(pt.marginal_averted);
                let _ = writeln!(
                    o,
                    "  {:>2}. {} to {} places: {} averted per million yen, net cost {} million yen per certification averted; programme spending {} million yen a year in all",
                    i + 1,
                    f.programmes[pt.programme].spec.name,
                    en.number(pt.places as f64, 0),
                    if hidden { "*".into() } else { pt.marginal_averted_per_million_yen
                        .map_or("-".into(), |c| en.number(c, 2)) },
                    if hidden { "*".into() } else { pt.marginal_cost_per_averted
                        .map_or("-".into(), |c| self.million_yen(c)) },
                    self.million_yen(s.cumulative_spending_per_year)
                );
            }
        }
        let secs: f64 = self.results.seconds.iter().sum();
        let _ = writeln!(
            o,
            "\n{} arms x {} replicates x {} years of {} people: {} patient-years in {:.1} s on {threads} thread(s) ({} patient-years/s per thread)",
            p.arms.len(),
            p.study.settings.replicates,
            last + 1,
            en.number(p.people().len() as f64, 0),
            en.number(self.results.person_years, 0),
            secs,
            en.number(self.results.person_years / secs.max(1e-9) / threads.max(1) as f64, 0)
        );
        o
    }
}
