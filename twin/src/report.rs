//! The clinician's report: one self-contained HTML page (inline SVG charts, no network, a
//! Content-Security-Policy that forbids any fetch: `report::html`) in Japanese or English,
//! and the charts as PNG + SVG. It shows the person's observed history against the twin's
//! fit, the forecast bands, absolute risks with and without each intervention (as bars in a
//! table), life-years and QALYs gained, the onset-time distribution, severity, any alerts,
//! and a plain-language summary. People appear only as their pseudonym.
//!
//! PNG charts are labelled in English whatever the language: they are drawn with the
//! embedded DejaVu Sans, which has no Japanese glyphs; the HTML page's inline SVG is drawn
//! by the browser with the reader's Japanese fonts.
//!
//! Must never: show a name or identifier, or reference anything outside the file.

use std::path::Path;

use report::html::{Cell, HtmlTable, Lang, Page};
use report::plot::{write_chart, Chart, Series};
use report::ReportError;

use crate::alerts::Alert;
use crate::forecast::{kind_label, ArmForecast, Outcome};
use crate::output::{paired_difference, severity};
use crate::person::{Quantity, DAYS_PER_YEAR};
use crate::Twin;

/// Outcomes in the risk table, in order.
const REPORTED: [Outcome; 9] = [
    Outcome::T2d,
    Outcome::Mi,
    Outcome::IschaemicStroke,
    Outcome::HaemorrhagicStroke,
    Outcome::HeartFailure,
    Outcome::Frailty,
    Outcome::Care,
    Outcome::Care35,
    Outcome::Death,
];

fn pct(lang: Lang, x: f64) -> String {
    if x.is_finite() {
        format!("{}%", lang.number(100.0 * x, 1))
    } else {
        lang.pick("該当なし", "n/a").to_string()
    }
}

/// A risk as a bar of block characters (20 = 100%) and the number.
fn bar(lang: Lang, x: f64) -> String {
    if !x.is_finite() {
        return pct(lang, x);
    }
    let eighths = (x.clamp(0.0, 1.0) * 20.0 * 8.0).round() as usize;
    let mut s = "█".repeat(eighths / 8);
    const PART: [&str; 8] = ["", "▏", "▎", "▍", "▌", "▋", "▊", "▉"];
    s.push_str(PART[eighths % 8]);
    format!("{s} {}", pct(lang, x))
}

fn arm_label(a: &ArmForecast, ja: bool) -> String {
    if a.counterfactual.kinds.is_empty() {
        return if ja {
            "通常診療（介入なし）".into()
        } else {
            "Usual care (no intervention)".into()
        };
    }
    a.counterfactual
        .kinds
        .iter()
        .map(|k| kind_label(*k, ja))
        .collect::<Vec<_>>()
        .join(" + ")
}

/// The x value of a time (years from the index): a calendar year when the index date is
/// known.
fn x_of(t: &Twin, years: f64) -> f64 {
    match t.person.index_day {
        Some(d) => {
            let (y, m, dd) = cohort::import::date::civil_from_days(d);
            f64::from(y) + (f64::from(m) - 1.0) / 12.0 + (f64::from(dd) - 1.0) / 365.0 + years
        }
        None => years,
    }
}

/// The chart of one quantity: readings, the twin's fit, the forecast under usual care and
/// under the best arm, with 90% bands.
fn quantity_chart(t: &Twin, q: Quantity, best: Option<&ArmForecast>, ja: bool) -> Chart {
    let title = if ja {
        format!("{}：記録とツインの予測", q.label(true))
    } else {
        format!("{}: record and twin forecast", q.label(false))
    };
    let x_label = match (t.person.index_day.is_some(), ja) {
        (true, true) => "年",
        (true, false) => "year",
        (false, true) => "基準日からの年数",
        (false, false) => "years from the index date",
    };
    let mut c = Chart::lines(title, x_label, q.label(ja));
    c.x_years = t.person.index_day.is_some();
    let obs: Vec<(f64, f64)> = t
        .person
        .observations
        .iter()
        .filter(|o| o.quantity == q && o.t_years <= 1e-9)
        .map(|o| (x_of(t, o.t_years), o.value))
        .collect();
    c.series.push(Series {
        name: if ja {
            "記録".into()
        } else {
            "recorded".into()
        },
        points: obs,
        band: Vec::new(),
    });
    let fit: Vec<_> = t.posterior.fit.iter().filter(|s| s.quantity == q).collect();
    if !fit.is_empty() {
        c.series.push(Series {
            name: if ja {
                "ツインの当てはめ (90%)".into()
            } else {
                "twin fit (90%)".into()
            },
            points: fit.iter().map(|s| (x_of(t, s.t_years), s.mean)).collect(),
            band: fit
                .iter()
                .map(|s| (x_of(t, s.t_years), s.lo90, s.hi90))
                .collect(),
        });
    }
    let mut arms = vec![&t.forecast.arms[0]];
    arms.extend(best);
    for a in arms {
        let mut points = Vec::new();
        let mut band = Vec::new();
        for y in 0..=t.forecast.years as usize {
            let b = a.band(q, y, &[0.05, 0.5, 0.95]);
            if b.iter().all(|x| x.is_finite()) {
                points.push((x_of(t, y as f64), b[1]));
                band.push((x_of(t, y as f64), b[0], b[2]));
            }
        }
        let name = if a.counterfactual.kinds.is_empty() {
            if ja {
                "予測：通常診療 (90%)".to_string()
            } else {
                "forecast: usual care (90%)".to_string()
            }
        } else if ja {
            // The legend box is sized with DejaVu Sans metrics, narrower than the browser's
            // Japanese glyphs: a long name overflows it, so the caption names the arm.
            "予測：最良の介入".to_string()
        } else if a.counterfactual.kinds.len() > 1 {
            // A combination's full name overflows the legend box: the caption names it.
            "forecast: best combination (90%)".to_string()
        } else {
            format!("forecast: {} (90%)", arm_label(a, false))
        };
        c.series.push(Series { name, points, band });
    }
    c
}

/// Cumulative risk over time of the main outcomes under usual care.
fn onset_chart(t: &Twin, ja: bool) -> Chart {
    let mut c = Chart::lines(
        if ja {
            "発症までの時間（通常診療）"
        } else {
            "Time to onset (usual care)"
        },
        if ja {
            "基準日からの年数"
        } else {
            "years from the index date"
        },
        if ja {
            "累積リスク (%)"
        } else {
            "cumulative risk (%)"
        },
    );
    c.y_range = Some((0.0, 100.0));
    let a = &t.forecast.arms[0];
    for o in [
        Outcome::T2d,
        Outcome::Mi,
        Outcome::IschaemicStroke,
        Outcome::HeartFailure,
        Outcome::Care,
        Outcome::Death,
    ] {
        if !a.risk(o, 0.0).is_finite() {
            continue;
        }
        c.series.push(Series {
            name: o.label(ja).into(),
            points: (0..=t.forecast.years)
                .map(|y| (f64::from(y), 100.0 * a.risk(o, f64::from(y))))
                .collect(),
            band: Vec::new(),
        });
    }
    c
}

/// The arm with the most QALYs gained (not usual care), if any gains.
pub fn best_arm(t: &Twin) -> Option<&ArmForecast> {
    let base = t.forecast.arms[0].qalys;
    t.forecast.arms[1..]
        .iter()
        .filter(|a| a.qalys > base)
        .max_by(|a, b| a.qalys.total_cmp(&b.qalys))
}

/// Quantities with readings or worth showing.
fn shown_quantities(t: &Twin) -> Vec<Quantity> {
    Quantity::ALL
        .into_iter()
        .filter(|&q| {
            q != Quantity::Fi
                || t.person.age_years >= 60.0
                || t.person
                    .observations
                    .iter()
                    .any(|o| o.quantity == Quantity::Fi)
        })
        .collect()
}

/// Builds the page.
pub fn page(t: &Twin, alerts: &[Alert], lang: Lang) -> Result<Page, ReportError> {
    let ja = lang == Lang::Ja;
    let p = &t.person;
    let fc = &t.forecast;
    let base = &fc.arms[0];
    let date = p
        .index_day
        .map(cohort::import::date::format_day)
        .unwrap_or_else(|| lang.pick("未指定", "not given").to_string());
    let sex = match (p.sex, ja) {
        (engine::Sex::Male, true) => "男性",
        (engine::Sex::Female, true) => "女性",
        (s, false) => s.name(),
    };
    let mut page = Page::new(
        lang,
        lang.pick(
            "個人デジタルツイン：リスクと介入効果の予測",
            "Personal digital twin: risks and what interventions change",
        ),
        if ja {
            format!(
                "仮名ID {}　{}　{}歳　基準日 {}　{}通りの将来を{}年間シミュレーション",
                p.label,
                sex,
                lang.number(p.age_years, 0),
                date,
                lang.number(fc.futures as f64, 0),
                fc.years
            )
        } else {
            format!(
                "Pseudonym {}, {}, {} years, index date {}; {} simulated futures over {} years",
                p.label,
                sex,
                lang.number(p.age_years, 0),
                date,
                lang.number(fc.futures as f64, 0),
                fc.years
            )
        },
    );
    // Plain-language summary.
    let h10 = 10f64.min(f64::from(fc.years));
    let mut top: Vec<(Outcome, f64)> = [
        Outcome::T2d,
        Outcome::Mi,
        Outcome::IschaemicStroke,
        Outcome::HeartFailure,
        Outcome::Care,
    ]
    .into_iter()
    .map(|o| (o, base.risk(o, h10)))
    .filter(|x| x.1.is_finite())
    .collect();
    top.sort_by(|a, b| b.1.total_cmp(&a.1));
    page.heading(lang.pick("まとめ", "Summary"));
    let risks_text: Vec<String> = top
        .iter()
        .take(3)
        .map(|(o, r)| format!("{} {}", o.label(ja), pct(lang, *r)))
        .collect();
    let mut summary = if ja {
        format!(
            "今の治療のまま過ごした場合、{}年以内のリスクは {} と推計されます。",
            lang.number(h10, 0),
            risks_text.join("、")
        )
    } else {
        format!(
            "If care continues as now, the estimated risks within {} years are: {}.",
            lang.number(h10, 0),
            risks_text.join(", ")
        )
    };
    if let Some(b) = best_arm(t) {
        // The outcome this arm lowers most among those listed (the largest risk need not
        // move: a summary saying "lowers it by 0.0 points" reads as an error).
        let (reduced, arr) = top
            .iter()
            .map(|x| (x.0, paired_difference(base, b, x.0, h10).0))
            .fold(None::<(Outcome, f64)>, |m, c| match m {
                Some(m) if m.1 >= c.1 => Some(m),
                _ => Some(c),
            })
            .unwrap_or((Outcome::Death, 0.0));
        summary.push_str(&if ja {
            format!(
                "最も効果が大きいと推計される介入は「{}」で、{}のリスクを {} ポイント下げ、生活の質で調整した余命 (QALY) を {} 年延ばします。",
                arm_label(b, true),
                reduced.label(true),
                lang.number(100.0 * arr, 1),
                lang.number(b.qalys - base.qalys, 2)
            )
        } else {
            format!(
                " The intervention estimated to help most is {}: it lowers the risk of {} by {} percentage points and adds {} quality-adjusted life-years.",
                arm_label(b, false),
                reduced.label(false).to_lowercase(),
                lang.number(100.0 * arr, 1),
                lang.number(b.qalys - base.qalys, 2)
            )
        });
    }
    page.paragraph(summary);
    if !alerts.is_empty() {
        page.paragraph(if ja {
            format!(
                "記録の中に、ツインの予測から外れた値が {} 件あります（下の「アラート」）。",
                alerts.len()
            )
        } else {
            format!(
                "{} readings departed from the twin's forecast (see Alerts below).",
                alerts.len()
            )
        });
    }
    page.figures(
        [
            Outcome::T2d,
            Outcome::Mi,
            Outcome::IschaemicStroke,
            Outcome::HeartFailure,
            Outcome::Care,
            Outcome::Death,
        ]
        .into_iter()
        .map(|o| {
            (
                pct(lang, base.risk(o, h10)),
                if ja {
                    format!("{}（{}年以内）", o.label(true), lang.number(h10, 0))
                } else {
                    format!("{} within {} y", o.label(false), lang.number(h10, 0))
                },
            )
        })
        .collect(),
    );
    // Risks with and without each intervention.
    page.heading(lang.pick(
        "介入の有無によるリスク",
        "Risks with and without each intervention",
    ));
    for h in [5f64, 10.0] {
        if h > f64::from(fc.years) {
            continue;
        }
        let mut header = vec![lang.pick("", "").to_string()];
        header[0] = if ja {
            format!("{}年以内のリスク", h)
        } else {
            format!("Risk within {h} years")
        };
        let outcomes: Vec<Outcome> = REPORTED
            .into_iter()
            .filter(|o| base.risk(*o, h).is_finite())
            .take(6)
            .collect();
        header.extend(outcomes.iter().map(|o| o.label(ja).to_string()));
        let rows = fc
            .arms
            .iter()
            .map(|a| {
                let mut r: Vec<Cell> = vec![arm_label(a, ja).into()];
                r.extend(
                    outcomes
                        .iter()
                        .map(|o| Cell::Text(bar(lang, a.risk(*o, h)))),
                );
                r
            })
            .collect();
        page.table(HtmlTable {
            caption: if ja {
                format!("{}年以内の絶対リスク（棒：20マス=100%）", h)
            } else {
                format!("Absolute risk within {h} years (bar: 20 blocks = 100%)")
            },
            header,
            rows,
            numeric: false,
        });
    }
    // Gains.
    let mut rows = Vec::new();
    for a in &fc.arms[1..] {
        let (arr_t2d, _) = paired_difference(base, a, Outcome::T2d, h10);
        let (arr_mi, _) = paired_difference(base, a, Outcome::Mi, h10);
        let (arr_is, _) = paired_difference(base, a, Outcome::IschaemicStroke, h10);
        let (arr_care, _) = paired_difference(base, a, Outcome::Care, h10);
        let pts = |x: f64| {
            if x.is_finite() {
                lang.number(100.0 * x, 1)
            } else {
                lang.pick("該当なし", "n/a").to_string()
            }
        };
        rows.push(vec![
            Cell::Text(arm_label(a, ja)),
            pts(arr_t2d).into(),
            pts(arr_mi).into(),
            pts(arr_is).into(),
            pts(arr_care).into(),
            lang.number(a.life_years - base.life_years, 2).into(),
            lang.number(a.qalys - base.qalys, 2).into(),
        ]);
    }
    if !rows.is_empty() {
        page.table(HtmlTable {
            caption: if ja { format!("{}年以内の絶対リスク減少（ポイント）と{}年間の余命・QALYの増加", lang.number(h10, 0), fc.years) } else { format!("Absolute risk reduction within {} years (percentage points) and life-years and QALYs gained over {} years", lang.number(h10, 0), fc.years) },
            header: if ja {
                vec!["介入".into(), "糖尿病".into(), "心筋梗塞".into(), "脳梗塞".into(), "要介護認定".into(), "余命（年）".into(), "QALY（割引2%）".into()]
            } else {
                vec!["Intervention".into(), "T2D".into(), "MI".into(), "Ischaemic stroke".into(), "Care certification".into(), "Life-years".into(), "QALYs (2% discount)".into()]
            },
            rows,
            numeric: true,
        });
    }
    page.note(lang.pick(
        "介入は基準日に開始し、臨床試験と同じ効果で続けた場合の推計です（同じ将来を共通乱数で比較）。「該当なし」は基準日にすでにある状態です。",
        "Interventions are assumed to start at the index date and to work as in their trials; each is compared on the same simulated futures (common random numbers). n/a: already present at the index date.",
    ));
    // History and forecast.
    page.heading(lang.pick("記録とツインの予測", "Record and twin forecast"));
    let best = best_arm(t);
    let mut caption = lang
        .pick(
            "帯は90%予測区間。記録はこの方の実測値、当てはめはツインが記録から推定した値。",
            "Bands are 90% predictive intervals. Recorded: this person's readings; fit: what the twin infers from them.",
        )
        .to_string();
    if let Some(a) = best {
        if ja {
            caption.push_str(&format!(
                "最良の介入（QALYの増加が最大）：{}。",
                arm_label(a, true)
            ));
        } else if a.counterfactual.kinds.len() > 1 {
            caption.push_str(&format!(" Best combination: {}.", arm_label(a, false)));
        }
    }
    for q in shown_quantities(t) {
        let chart = quantity_chart(t, q, best, ja);
        page.chart(&chart, &caption)?;
    }
    page.heading(lang.pick("発症までの時間と重症度", "Time to onset and severity"));
    page.chart(
        &onset_chart(t, ja),
        lang.pick("通常診療での累積リスク", "Cumulative risk under usual care"),
    )?;
    let (hba1c_dx, levels) = severity(base);
    let mut sev = Vec::new();
    if hba1c_dx.iter().all(|x| x.is_finite()) {
        sev.push(if ja {
            format!(
                "糖尿病と診断される時のHbA1c：中央値 {}%（四分位 {}–{}%）",
                lang.number(hba1c_dx[1], 1),
                lang.number(hba1c_dx[0], 1),
                lang.number(hba1c_dx[2], 1)
            )
        } else {
            format!(
                "HbA1c at diabetes diagnosis: median {}% (IQR {}–{}%)",
                lang.number(hba1c_dx[1], 1),
                lang.number(hba1c_dx[0], 1),
                lang.number(hba1c_dx[2], 1)
            )
        });
    }
    let names_ja = [
        "認定なし",
        "要支援1",
        "要支援2",
        "要介護1",
        "要介護2",
        "要介護3",
        "要介護4",
        "要介護5",
    ];
    let names_en = [
        "none",
        "support 1",
        "support 2",
        "care 1",
        "care 2",
        "care 3",
        "care 4",
        "care 5",
    ];
    let dist: Vec<String> = levels
        .iter()
        .enumerate()
        .filter(|(_, s)| **s > 0.0)
        .map(|(i, s)| {
            format!(
                "{} {}",
                if ja { names_ja[i] } else { names_en[i] },
                pct(lang, *s)
            )
        })
        .collect();
    sev.push(if ja {
        format!("{}年間で最も重い要介護度：{}", fc.years, dist.join("、"))
    } else {
        format!(
            "Highest care level reached in {} years: {}",
            fc.years,
            dist.join(", ")
        )
    });
    page.list(sev);
    if !alerts.is_empty() {
        page.heading(lang.pick("アラート", "Alerts"));
        let rows = alerts
            .iter()
            .map(|a| {
                let s = &a.reading;
                let d = s.quantity.decimals();
                vec![
                    Cell::Text(match p.index_day {
                        Some(day) => cohort::import::date::format_day(
                            day + (s.t_years * DAYS_PER_YEAR).round() as i32,
                        ),
                        None => format!("{:+.1}", s.t_years),
                    }),
                    Cell::Text(s.quantity.label(ja).into()),
                    Cell::Text(format!("{:.d$}", s.observed)),
                    Cell::Text(format!("{:.d$}–{:.d$}", s.lo90, s.hi90)),
                    Cell::Text(format!("{:.4}", s.p_two_sided())),
                    Cell::Text(if ja {
                        a.action_ja.into()
                    } else {
                        a.action_en.into()
                    }),
                ]
            })
            .collect();
        page.table(HtmlTable {
            caption: lang
                .pick(
                    "ツインの1ステップ先予測から外れた記録",
                    "Readings outside the twin's one-step-ahead forecast",
                )
                .into(),
            header: if ja {
                vec![
                    "日付".into(),
                    "項目".into(),
                    "実測値".into(),
                    "予測90%区間".into(),
                    "予測p値".into(),
                    "推奨".into(),
                ]
            } else {
                vec![
                    "Date".into(),
                    "Quantity".into(),
                    "Reading".into(),
                    "Expected 90% band".into(),
                    "Predictive p".into(),
                    "Suggested action".into(),
                ]
            },
            rows,
            numeric: false,
        });
    }
    page.heading(lang.pick("この推計について", "About these estimates"));
    page.note(if ja {
        format!(
            "この方の記録（{}件）から、集団モデルを事前分布としたベイズ更新で個人のパラメータ（β細胞の予備能とインスリン感受性、血糖の変化傾向、血圧・LDL・BMIの水準と傾き、フレイルの進みやすさ）を推定し、{}通りの将来を計算しました。数値はシミュレーションによる推計で、診断ではありません。",
            p.observations.iter().filter(|o| o.t_years <= 1e-9).count(),
            lang.number(fc.futures as f64, 0)
        )
    } else {
        format!(
            "From this person's {} readings, the twin inferred their own parameters (beta-cell reserve and insulin sensitivity, glycaemic trend, blood pressure, LDL and BMI level and slope, frailty propensity) by Bayesian updating with the population model as the prior, then simulated {} futures. Figures are simulation estimates, not a diagnosis.",
            p.observations.iter().filter(|o| o.t_years <= 1e-9).count(),
            lang.number(fc.futures as f64, 0)
        )
    });
    Ok(page)
}

/// Writes `report.html` and the charts (`chart_<quantity>.png/.svg`, `chart_onset`).
pub fn write(t: &Twin, alerts: &[Alert], lang: Lang, dir: &Path) -> Result<(), ReportError> {
    page(t, alerts, lang)?.write(&dir.join("report.html"))?;
    let best = best_arm(t);
    for q in shown_quantities(t) {
        write_chart(
            &dir.join(format!("chart_{}", q.name())),
            &quantity_chart(t, q, best, false),
        )?;
    }
    write_chart(&dir.join("chart_onset"), &onset_chart(t, false))
}
