//! The plan's charts: the town's pyramid, care demand by level, frailty, certifications by
//! option, and the capacity sweep. Built in a language: the HTML report inlines them in its
//! own; the files beside it are SVG in the report's language and PNG in English (PNG text
//! is drawn with the embedded DejaVu Sans, which has no Japanese glyphs).

use std::path::Path;

use report::html::Lang;
use report::plot::{write_chart, Chart, Series, ZeroLines};
use report::pyramid::{write_pyramid, Pyramid};
use report::ReportError;

use super::{PlanReport, Q};
use crate::disclosure;
use crate::measures as ms;

/// Every chart of the report in `lang`, with its file stem.
pub struct Charts {
    pub pyramid: Pyramid,
    pub care_demand: Chart,
    pub frailty: Chart,
    pub certified_by_option: Chart,
    pub averted_by_option: Chart,
    pub sweep: Option<Chart>,
}

/// A people series hides points below the disclosure threshold.
fn people_points(r: &PlanReport, pts: Vec<(f64, f64)>) -> Vec<(f64, f64)> {
    pts.into_iter()
        .map(|(x, y)| {
            if disclosure::below(y, r.k) {
                (x, f64::NAN)
            } else {
                (x, y)
            }
        })
        .collect()
}

/// A people series over fiscal years: `value(run, year)` per replicate (a level, or a
/// difference to the baseline when `diff`), times `sign`. A year whose mean is below the
/// disclosure threshold has no point and no band; bounds below it are left out too.
fn series_of(
    r: &PlanReport,
    name: String,
    arm: usize,
    diff: bool,
    sign: f64,
    value: impl Fn(&crate::measures::RunValues, usize) -> f64,
) -> Series {
    let years = r.plan.file.years as usize;
    let mut points = Vec::new();
    let mut band = Vec::new();
    for y in 0..years {
        let x = r.plan.fiscal_year(y) as f64;
        let iv = study::outcomes::Interval::of(&r.values(arm, diff, |run| sign * value(run, y)));
        points.push((x, iv.mean));
        if !disclosure::below(iv.mean, r.k)
            && !disclosure::below(iv.lo, r.k)
            && !disclosure::below(iv.hi, r.k)
        {
            band.push((x, iv.lo, iv.hi));
        }
    }
    Series {
        name,
        points: people_points(r, points),
        band,
    }
}

fn series(r: &PlanReport, name: String, arm: usize, diff: bool, q: Q, sign: f64) -> Series {
    series_of(r, name, arm, diff, sign, |run, y| r.value(run, y, q))
}

impl PlanReport<'_> {
    /// The charts in `lang`.
    pub fn charts(&self, lang: Lang) -> Charts {
        let l = |ja: &str, en: &str| lang.pick(ja, en).to_string();
        let plan = self.plan;
        let fy_axis = l("年度（4月〜翌3月）", "fiscal year (April to March)");
        let people = l("人", "people");

        // The town's residents, as given (40+ or 65+), disclosure applied per band.
        let mut pyramid = Pyramid {
            // The English title leaves the town's name out: PNG text has Latin glyphs only.
            title: l(
                &format!(
                    "{}の男女・年齢別人口（{}当初）",
                    plan.file.town_name,
                    crate::fiscal::label(plan.file.start_fiscal_year, Lang::Ja)
                ),
                &format!(
                    "Residents by sex and age, start of {}",
                    crate::fiscal::label(plan.file.start_fiscal_year, Lang::En)
                ),
            ),
            x_label: people.clone(),
            left_name: l("男性", "men"),
            right_name: l("女性", "women"),
            ..Pyramid::default()
        };
        for b in plan.town.first_band..engine::observe::N_AGE_BANDS {
            let (m, f) = (plan.town.counts[0][b], plan.town.counts[1][b]);
            let h =
                disclosure::suppress(&[Some(m), Some(f), Some(m + f)], &[(2, vec![0, 1])], self.k);
            pyramid.bands.push(engine::observe::age_band_label(b));
            pyramid.left.push((!h[0]).then_some(m));
            pyramid.right.push((!h[1]).then_some(f));
        }

        let base = self.base;
        let mut care_demand = Chart::lines(
            l(
                "要介護度別の認定者数の見通し（現状のまま）",
                "Certified residents by care level, baseline",
            ),
            fy_axis.clone(),
            people.clone(),
        );
        care_demand.x_years = true;
        care_demand.whole_numbers = true;
        let levels = if lang == Lang::Ja {
            ms::LEVELS_JA
        } else {
            ms::LEVELS_EN
        };
        for (k, name) in levels.iter().enumerate() {
            care_demand.series.push(series(
                self,
                name.to_string(),
                base,
                false,
                Q::M(ms::LEVEL + k),
                1.0,
            ));
        }
        care_demand.series.push(series(
            self,
            l("施設入所者", "in a care facility"),
            base,
            false,
            Q::M(ms::FACILITY),
            1.0,
        ));

        let mut frailty = Chart::lines(
            l(
                "フレイルの状態別人数（65歳以上、現状のまま）",
                "Residents 65+ by frailty state, baseline",
            ),
            fy_axis.clone(),
            people.clone(),
        );
        frailty.x_years = true;
        frailty.whole_numbers = true;
        for (m, ja, en) in [
            (ms::ROBUST, "健常", "robust"),
            (ms::PREFRAIL, "プレフレイル", "prefrail"),
            (ms::FRAIL, "フレイル", "frail"),
        ] {
            frailty
                .series
                .push(series(self, l(ja, en), base, false, Q::M(m), 1.0));
        }
        for o in &self.options {
            let label = self.plan.file.options[o.option].clone();
            frailty.series.push(series(
                self,
                format!(
                    "{}: {}",
                    l("フレイル", "frail"),
                    lang.pick(&label.label_ja, &label.label_en)
                ),
                o.arm,
                false,
                Q::M(ms::FRAIL),
                1.0,
            ));
        }

        let mut certified_by_option = Chart::lines(
            l(
                "要支援・要介護認定者数（選択肢別）",
                "Certified residents by option",
            ),
            fy_axis.clone(),
            people.clone(),
        );
        certified_by_option.x_years = true;
        certified_by_option.whole_numbers = true;
        certified_by_option.series.push(series(
            self,
            l("現状のまま", "baseline"),
            base,
            false,
            Q::M(ms::CERTIFIED),
            1.0,
        ));
        let mut averted_by_option = Chart::lines(
            l(
                "新規認定の抑制数（累計、現状との差）",
                "New certifications averted, cumulative",
            ),
            fy_axis.clone(),
            people.clone(),
        );
        averted_by_option.x_years = true;
        averted_by_option.whole_numbers = true;
        averted_by_option.zero = ZeroLines::Horizontal;
        for o in &self.options {
            let label = &self.plan.file.options[o.option];
            let name = lang.pick(&label.label_ja, &label.label_en).to_string();
            certified_by_option.series.push(series(
                self,
                name.clone(),
                o.arm,
                false,
                Q::M(ms::CERTIFIED),
                1.0,
            ));
            averted_by_option
                .series
                .push(series_of(self, name, o.arm, true, -1.0, |run, y| {
                    run.sum(0..y + 1, ms::NEW_CERTIFICATIONS)
                }));
        }

        let sweep = (!self.points.is_empty()).then(|| {
            let mut c = Chart::lines(
                l(
                    &format!(
                        "定員と新規認定の抑制数（{}年間、事業ごと単独）",
                        plan.file.years
                    ),
                    &format!(
                        "Places and certifications averted over {} years, each programme alone",
                        plan.file.years
                    ),
                ),
                l("年間の定員（人）", "places per year"),
                l("新規認定の抑制数（人）", "certifications averted"),
            );
            c.zero = ZeroLines::Horizontal;
            c.whole_numbers = true;
            let mut programmes: Vec<usize> = self.points.iter().map(|p| p.programme).collect();
            programmes.dedup();
            for k in programmes {
                let pts: Vec<&crate::sweep::Point> =
                    self.points.iter().filter(|p| p.programme == k).collect();
                let mut points = vec![(0.0, 0.0)];
                let mut band = vec![(0.0, 0.0, 0.0)];
                for p in pts {
                    points.push((p.places as f64, p.averted.mean));
                    if !disclosure::below(p.averted.lo, self.k)
                        && !disclosure::below(p.averted.hi, self.k)
                    {
                        band.push((p.places as f64, p.averted.lo, p.averted.hi));
                    }
                }
                let p = &plan.file.programmes[k].spec;
                c.series.push(Series {
                    name: super::programme_label(p.kind.name(), lang, &p.name),
                    points: people_points(self, points),
                    band,
                });
            }
            c
        });
        Charts {
            pyramid,
            care_demand,
            frailty,
            certified_by_option,
            averted_by_option,
            sweep,
        }
    }

    /// Writes every chart beside the report: SVG in the report's language, PNG in English.
    pub fn write_charts(&self, out: &Path) -> Result<Vec<String>, ReportError> {
        let mut files = Vec::new();
        let local = self.charts(self.lang);
        let english = self.charts(Lang::En);
        let pairs: Vec<(&str, Option<&Chart>, Option<&Chart>)> = vec![
            (
                "plan_care_demand",
                Some(&local.care_demand),
                Some(&english.care_demand),
            ),
            ("plan_frailty", Some(&local.frailty), Some(&english.frailty)),
            (
                "plan_certified_by_option",
                Some(&local.certified_by_option),
                Some(&english.certified_by_option),
            ),
            (
                "plan_averted_by_option",
                Some(&local.averted_by_option),
                Some(&english.averted_by_option),
            ),
            ("plan_sweep", local.sweep.as_ref(), english.sweep.as_ref()),
        ];
        for (stem, chart, chart_en) in pairs {
            let (Some(chart), Some(chart_en)) = (chart, chart_en) else {
                continue;
            };
            write_chart(&out.join(stem), chart_en)?;
            // The SVG in the report's language replaces the English one.
            let svg = report::plot::chart_svg(chart).map_err(|message| ReportError::Io {
                path: out.join(format!("{stem}.svg")).display().to_string(),
                message,
            })?;
            report::write_atomic(&out.join(format!("{stem}.svg")), svg.as_bytes())?;
            files.push(format!("{stem}.png"));
            files.push(format!("{stem}.svg"));
        }
        write_pyramid(&out.join("plan_pyramid"), &english.pyramid)?;
        let svg =
            report::pyramid::pyramid_svg(&local.pyramid).map_err(|message| ReportError::Io {
                path: out.join("plan_pyramid.svg").display().to_string(),
                message,
            })?;
        report::write_atomic(&out.join("plan_pyramid.svg"), svg.as_bytes())?;
        files.push("plan_pyramid.png".into());
        files.push("plan_pyramid.svg".into());
        Ok(files)
    }
}
