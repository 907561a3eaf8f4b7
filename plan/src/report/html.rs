//! The planning report as one self-contained HTML page (report::html): the town's pyramid,
//! care demand by level, frailty, the options side by side, the budget by fiscal year, the
//! capacity sweep, and the assumptions with their sources; Japanese by default, English with
//! `--lang en`. People counts go through the disclosure rule (hidden cells show `*`).

use std::path::Path;

use report::html::{Cell, HtmlTable, Lang, Page};
use report::ReportError;
use scenarios::plan::{Future, Structure};
use study::outcomes::Interval;

use super::{PlanReport, Q};
use crate::disclosure;
use crate::fiscal;
use crate::measures as ms;
use crate::town::Origin;
use crate::Plan;

impl PlanReport<'_> {
    /// A ratio over a count of people (cost per certification averted, averted per yen): `*`
    /// when the count is hidden (it could be recovered from the ratio), `—` without a value.
    fn ratio_cell(&self, count: Interval, ratio: Option<f64>, f: impl Fn(f64) -> String) -> Cell {
        match (self.hidden_alone(count), ratio) {
            (true, _) => Cell::Suppressed,
            (false, Some(r)) => Cell::Text(f(r)),
            (false, None) => Cell::Text("—".into()),
        }
    }

    fn t<'s>(&self, ja: &'s str, en: &'s str) -> &'s str {
        self.lang.pick(ja, en)
    }

    /// A people cell of a row whose hidden cells are `hidden`.
    fn people_cell(&self, iv: Interval, hidden: bool, with_interval: bool) -> Cell {
        if hidden {
            Cell::Suppressed
        } else {
            Cell::Text(self.people(iv, false, with_interval))
        }
    }

    fn years(&self) -> usize {
        self.plan.file.years as usize
    }

    /// Writes the report as `<out>/plan_report.html`.
    pub fn write_html(&self, out: &Path) -> Result<String, ReportError> {
        let page = self.page()?;
        let name = "plan_report.html";
        page.write(&out.join(name))?;
        Ok(name.to_string())
    }

    /// The whole page.
    pub fn page(&self) -> Result<Page, ReportError> {
        let plan = self.plan;
        let lang = self.lang;
        let f = &plan.file;
        let first = f.start_fiscal_year;
        let last = plan.fiscal_year(self.years() - 1);
        let title = match lang {
            Lang::Ja => format!("{}の介護予防計画シミュレーション", f.town_name),
            Lang::En => format!("Frailty-prevention plan: {}", f.town_name_en),
        };
        let subtitle = match lang {
            Lang::Ja => format!(
                "{}〜{}（{}〜{}）・{}年間・{}回の反復シミュレーション",
                fiscal::label(first, lang),
                fiscal::label(last, lang),
                fiscal::period_label(first, lang),
                fiscal::period_label(last, lang),
                self.years(),
                self.plan.study.settings.replicates
            ),
            Lang::En => format!(
                "{} to {} (insurance periods {} to {}), {} years, {} simulation replicates",
                fiscal::label(first, lang),
                fiscal::label(last, lang),
                fiscal::period(first),
                fiscal::period(last),
                self.years(),
                self.plan.study.settings.replicates
            ),
        };
        let mut page = Page::new(lang, title, subtitle);
        let charts = self.charts(lang);
        self.key_figures(&mut page);

        page.heading(self.t("町の人口", "The town's residents"));
        page.paragraph(self.origin_text());
        page.pyramid(
            &charts.pyramid,
            self.t(
                "図1 男女・年齢別人口（少人数のセルは * で秘匿）",
                "Figure 1. Residents by sex and age (small cells hidden as *)",
            ),
        )?;
        page.table(self.residents_table());

        page.heading(self.t("介護需要の見通し（現状のまま）", "Care demand, baseline"));
        page.paragraph(self.t(
            "新たな事業を行わない場合（現状のまま）の、要介護度別の認定者数、施設入所者数、新規認定者数です。各年度4月1日時点の人数（新規認定は年度中の人数）、95%区間つき。",
            "Without a new programme (baseline): certified residents by care level, residents in a care facility, and new certifications. Counts on 1 April of each fiscal year (new certifications: during the year), with 95% intervals.",
        ));
        page.chart(
            &charts.care_demand,
            self.t(
                "図2 要介護度別の認定者数（帯は95%区間）",
                "Figure 2. Certified residents by care level (bands: 95% intervals)",
            ),
        )?;
        page.table(self.care_table());
        page.table(self.new_certifications_table());

        page.heading(self.t("フレイルの見通し", "Frailty"));
        page.chart(
            &charts.frailty,
            self.t(
                "図3 65歳以上のフレイルの状態（J-CHS基準）と、選択肢ごとのフレイル人数",
                "Figure 3. Residents 65+ by frailty state (J-CHS) and frail residents under each option",
            ),
        )?;
        page.table(self.frailty_table());

        page.heading(self.t("選択肢の比較", "The options side by side"));
        page.paragraph(self.t(
            "各選択肢と現状との差（同じ住民・同じ乱数で比較）。計画期間の合計、割引なし。純費用 = 事業費 + 介護費用額の増減 + 医療費の増減（負の値は節減）。",
            "Each option against the baseline (the same residents and random numbers). Totals over the plan, undiscounted. Net cost = programme spending + change in LTC cost + change in medical spending (negative: a saving).",
        ));
        page.table(self.options_table());
        page.chart(
            &charts.certified_by_option,
            self.t(
                "図4 認定者数（選択肢別）",
                "Figure 4. Certified residents by option",
            ),
        )?;
        page.chart(
            &charts.averted_by_option,
            self.t(
                "図5 新規認定の抑制数の累計（各年度末まで、帯は95%区間、10人未満の点は非表示）",
                "Figure 5. New certifications averted, cumulative to the end of each fiscal year (bands: 95% intervals; points under 10 people hidden)",
            ),
        )?;
        page.subheading(self.t("経済評価（割引あり）", "Economic summary (discounted)"));
        page.table(self.economics_table());

        page.heading(self.t("年度別の予算", "Budget by fiscal year"));
        page.paragraph(self.t(
            "金額は百万円、割引なし（予算と同じ年度の金額）。介護費用額は利用者負担を含む総額、介護給付費はそのうち保険者が負担する額です。",
            "Million yen, undiscounted (as budgeted). LTC cost is the total including the users' co-payment; LTC benefits are the part the insurance pays.",
        ));
        page.table(self.budget_table());
        page.table(self.options_budget_table());

        if let Some(sweep) = &charts.sweep {
            page.heading(self.t("定員の感度分析", "Capacity sweep"));
            page.paragraph(self.t(
                "事業ごとに定員を一定数（ブロック）ずつ増やしたときの効果です。各事業は単独で評価しています（組み合わせの効果は「選択肢の比較」）。限界値は、そのブロックを追加したことによる増分です。",
                "Each programme's places raised block by block, each programme alone (what programmes do together is in the options). The marginal value is what the last block adds.",
            ));
            page.chart(
                sweep,
                self.t(
                    "図6 定員と新規認定の抑制数（帯は95%区間）",
                    "Figure 6. Places and certifications averted (bands: 95% intervals)",
                ),
            )?;
            page.table(self.sweep_table());
            page.subheading(self.t(
                "予算の範囲でどの事業から拡充するか",
                "Which programme to expand first within a budget",
            ));
            page.paragraph(self.t(
                "事業費100万円あたりの新規認定の抑制数が大きいブロックから順に採用します（各事業のブロックは小さい定員から順に。抑制のないブロックで、その事業の拡充は止めます）。累計の事業費が予算に収まるところまでが、その予算での拡充の順序です。推計には反復によるばらつきがあります（表9の区間）。",
                "Blocks are funded in order of the most certifications averted per million yen of programme spending (each programme's blocks in order; a block that averts none ends that programme's expansion). Fund down the list until the cumulative programme spending reaches the budget. The estimates carry simulation noise (the intervals of Table 9).",
            ));
            page.table(self.order_table());
        }

        page.heading(self.t("前提条件と出典", "Assumptions and sources"));
        page.list(self.assumptions());
        if !plan.local.matched.is_empty() {
            page.table(self.local_table());
        }
        page.heading(self.t("計算の詳細", "How it was computed"));
        page.list(self.details());
        Ok(page)
    }

    fn key_figures(&self, page: &mut Page) {
        let base = self.base;
        let last = self.years() - 1;
        let mut figs = Vec::new();
        let res65 = Interval::of(&[self.plan.residents_65()]);
        figs.push((
            self.people(res65, self.hidden_alone(res65), false),
            self.t(
                "65歳以上人口（初年度当初）",
                "residents 65+ (start of the plan)",
            )
            .to_string(),
        ));
        for (y, ja, en) in [
            (0, "認定者数（初年度）", "certified, first year"),
            (last, "認定者数（最終年度）", "certified, last year"),
        ] {
            let iv = self.year_iv(base, false, y, Q::M(ms::CERTIFIED));
            let hidden = self.hidden_row(base, false, y)[ms::CERTIFIED];
            figs.push((
                self.people(iv, hidden, false),
                format!("{} {}", self.t(ja, en), self.fy(y)),
            ));
        }
        for o in &self.options {
            figs.push((
                self.people(
                    o.certifications_averted,
                    self.hidden_alone(o.certifications_averted),
                    false,
                ),
                format!(
                    "{}: {}",
                    self.option_label(o.option),
                    self.t(
                        "新規認定の抑制数（計画期間計）",
                        "certifications averted over the plan"
                    )
                ),
            ));
        }
        page.heading(self.t("要点", "Key figures"));
        page.figures(figs);
        let c0 = self.year_iv(base, false, 0, Q::M(ms::CERTIFIED));
        let c1 = self.year_iv(base, false, last, Q::M(ms::CERTIFIED));
        let (h0, h1) = (
            self.hidden_row(base, false, 0)[ms::CERTIFIED],
            self.hidden_row(base, false, last)[ms::CERTIFIED],
        );
        page.paragraph(match self.lang {
            Lang::Ja => format!(
                "現状のまま推移すると、要支援・要介護認定者（65歳以上）は{}当初の{}人から{}当初には{}人になる見込みです。",
                self.fy(0),
                self.people(c0, h0, false),
                self.fy(last),
                self.people(c1, h1, true)
            ),
            Lang::En => format!(
                "Without a new programme, residents 65+ certified for long-term care go from {} at the start of {} to {} at the start of {}.",
                self.people(c0, h0, false),
                self.fy(0),
                self.people(c1, h1, true),
                self.fy(last)
            ),
        });
        for o in &self.options {
            let cost = match (
                o.cost_per_certification,
                self.hidden_alone(o.certifications_averted),
            ) {
                (_, true) => "*".to_string(),
                (Some(c), false) => format!(
                    "{}{}",
                    self.million_yen(c),
                    self.t("百万円", " million yen")
                ),
                (None, false) => self.t("—（抑制なし）", "— (none averted)").to_string(),
            };
            page.paragraph(match self.lang {
                Lang::Ja => format!(
                    "「{}」は{}年間で新規認定を{}人抑制し、事業費は{}百万円、純費用は{}百万円（新規認定1件あたり{}）と推計されます。",
                    self.option_label(o.option),
                    self.years(),
                    self.people(o.certifications_averted, self.hidden_alone(o.certifications_averted), true),
                    self.million_yen(o.programme_cost.mean),
                    self.million_yen_iv(o.net_cost),
                    cost
                ),
                Lang::En => format!(
                    "\"{}\" averts {} new certifications over {} years; programme spending {} million yen, net cost {} million yen ({} per certification averted).",
                    self.option_label(o.option),
                    self.people(o.certifications_averted, self.hidden_alone(o.certifications_averted), true),
                    self.years(),
                    self.million_yen(o.programme_cost.mean),
                    self.million_yen_iv(o.net_cost),
                    cost
                ),
            });
        }
        page.note(self.t(
            "括弧内は95%区間（シミュレーションの反復による幅）。人数は町の規模に換算した値です。純費用の負の値は節減を表します。",
            "Ranges in parentheses are 95% intervals over simulation replicates. Every count is on the town's scale. A negative net cost is a saving.",
        ));
    }

    fn origin_text(&self) -> String {
        let p = self.plan;
        let fy = fiscal::label(p.file.start_fiscal_year, self.lang);
        match (&p.town.origin, self.lang) {
            (Origin::Register, Lang::Ja) => format!("住民基本台帳の男女・5歳階級別人口（入力ファイル）を{fy}当初（4月1日）の人口としています。"),
            (Origin::Register, Lang::En) => format!("The resident register's counts by sex and 5-year band (input file), taken as the population on 1 April of {fy}."),
            (Origin::National { population }, Lang::Ja) => format!(
                "全国の男女・年齢構成（2022年10月1日人口推計、IPSS人口統計資料集2024 表2-2）を総人口{}人の町に当てはめた人口です（{fy}当初）。",
                self.lang.number(*population, 0)
            ),
            (Origin::National { population }, Lang::En) => format!(
                "Japan's structure by sex and age (population estimates of 1 October 2022, IPSS 人口統計資料集2024 table 2-2) scaled to a town of {} residents of all ages (start of {fy}).",
                self.lang.number(*population, 0)
            ),
            (Origin::Scaled { population, .. }, Lang::Ja) => format!("入力された年齢構成を{}人に換算した人口です（{fy}当初）。", self.lang.number(*population, 0)),
            (Origin::Scaled { population, .. }, Lang::En) => format!("The given age structure scaled to {} residents (start of {fy}).", self.lang.number(*population, 0)),
        }
    }

    fn residents_table(&self) -> HtmlTable {
        let p = self.plan;
        let mut rows = Vec::new();
        for b in p.town.first_band..engine::observe::N_AGE_BANDS {
            let (m, f) = (p.town.counts[0][b], p.town.counts[1][b]);
            let row = [Some(m), Some(f), Some(m + f)];
            let h = disclosure::suppress(&row, &[(2, vec![0, 1])], self.k);
            let mut label = engine::observe::age_band_label(b);
            if p.town.filled.contains(&b) {
                label.push_str(self.t("（全国構成から補完）", " (from the national structure)"));
            }
            let mut cells = vec![Cell::Text(label)];
            for (i, v) in [m, f, m + f].iter().enumerate() {
                cells.push(self.people_cell(Interval::of(&[*v]), h[i], false));
            }
            rows.push(cells);
        }
        HtmlTable {
            caption: self
                .t("表1 男女・年齢別人口", "Table 1. Residents by sex and age")
                .into(),
            header: vec![
                self.t("年齢", "age").into(),
                self.t("男性", "men").into(),
                self.t("女性", "women").into(),
                self.t("計", "total").into(),
            ],
            rows,
            numeric: true,
        }
    }

    /// A per-fiscal-year table of people measures of the baseline.
    fn fy_people_table(&self, caption: &str, measures: &[usize]) -> HtmlTable {
        let mut header = vec![self.t("年度", "fiscal year").to_string()];
        header.extend(measures.iter().map(|&m| self.label(m).to_string()));
        let rows = (0..self.years())
            .map(|y| {
                let hidden = self.hidden_row(self.base, false, y);
                let mut cells = vec![Cell::Text(self.fy(y))];
                for &m in measures {
                    let iv = self.year_iv(self.base, false, y, Q::M(m));
                    cells.push(self.people_cell(
                        iv,
                        hidden[m],
                        m == measures[0] || m == ms::CERTIFIED || m == ms::NEW_CERTIFICATIONS,
                    ));
                }
                cells
            })
            .collect();
        HtmlTable {
            caption: caption.into(),
            header,
            rows,
            numeric: true,
        }
    }

    fn care_table(&self) -> HtmlTable {
        let mut m = vec![ms::CERTIFIED];
        m.extend(ms::LEVEL..ms::LEVEL + 7);
        m.push(ms::FACILITY);
        self.fy_people_table(
            self.t(
                "表2 要介護度別の認定者数（各年度4月1日、65歳以上、現状のまま）",
                "Table 2. Certified residents 65+ by care level on 1 April, baseline",
            ),
            &m,
        )
    }

    fn new_certifications_table(&self) -> HtmlTable {
        let mut m = vec![ms::NEW_CERTIFICATIONS];
        m.extend(ms::NEW_LEVEL..ms::NEW_LEVEL + 7);
        let mut t = self.fy_people_table(
            self.t(
                "表3 新規認定者数（年度中、認定時の要介護度別、現状のまま）",
                "Table 3. New certifications during the year by level at certification, baseline",
            ),
            &m,
        );
        // Short headers: the level names.
        for (h, k) in t.header.iter_mut().skip(2).zip(0..7) {
            *h = self
                .lang
                .pick(ms::LEVELS_JA[k], ms::LEVELS_EN[k])
                .to_string();
        }
        t
    }

    fn frailty_table(&self) -> HtmlTable {
        self.fy_people_table(
            self.t(
                "表4 65歳以上人口とフレイルの状態（各年度4月1日、現状のまま）",
                "Table 4. Residents 65+ by frailty state on 1 April, baseline",
            ),
            &[
                ms::RESIDENTS,
                ms::ROBUST,
                ms::PREFRAIL,
                ms::FRAIL,
                ms::FRAILTY_ONSETS,
                ms::DEATHS,
            ],
        )
    }

    fn options_table(&self) -> HtmlTable {
        let mut header = vec![self.t("項目", "measure").to_string()];
        header.extend(
            self.options
                .iter()
                .map(|o| self.option_label(o.option).to_string()),
        );
        let mut rows: Vec<Vec<Cell>> = Vec::new();
        let n = self.plan.file.programmes.len();
        for k in 0..n {
            if !self
                .options
                .iter()
                .any(|o| o.reached.iter().any(|r| r.0 == k))
            {
                continue;
            }
            let mut places = vec![Cell::Text(format!(
                "{}: {}",
                self.t("定員（年間）", "places per year"),
                self.programme_label(k)
            ))];
            let mut reached = vec![Cell::Text(format!(
                "{}: {}",
                self.t("参加者数（計画期間計）", "people reached over the plan"),
                self.programme_label(k)
            ))];
            for o in &self.options {
                match o.reached.iter().find(|r| r.0 == k) {
                    Some((_, p, iv)) => {
                        places.push(Cell::Text(self.lang.number(*p as f64, 0)));
                        reached.push(self.people_cell(*iv, self.hidden_alone(*iv), true));
                    }
                    None => {
                        places.push(Cell::Text("—".into()));
                        reached.push(Cell::Text("—".into()));
                    }
                }
            }
            rows.push(places);
            rows.push(reached);
        }
        type Getter = fn(&super::OptionSummary) -> Interval;
        let people: [(&str, &str, Getter); 3] = [
            ("新規認定の抑制数", "certifications averted", |o| {
                o.certifications_averted
            }),
            (
                "フレイル新規発生の抑制数",
                "frailty onsets averted",
                |o| o.frailty_averted,
            ),
            ("死亡の減少数", "deaths averted", |o| o.deaths_averted),
        ];
        for (ja, en, g) in people {
            let mut row = vec![Cell::Text(self.t(ja, en).into())];
            for o in &self.options {
                let iv = g(o);
                row.push(self.people_cell(iv, self.hidden_alone(iv), true));
            }
            rows.push(row);
        }
        let mut row = vec![Cell::Text(
            self.t("要介護等の人月の減少", "care-months averted").into(),
        )];
        for o in &self.options {
            row.push(Cell::Text(self.number_iv(o.care_months_averted, 0)));
        }
        rows.push(row);
        let money: [(&str, &str, Getter); 5] = [
            (
                "事業費（百万円）",
                "programme spending (million yen)",
                |o| o.programme_cost,
            ),
            (
                "介護費用額の増減（百万円）",
                "change in LTC cost (million yen)",
                |o| o.ltc_change,
            ),
            (
                "うち介護給付費（百万円）",
                "of which LTC benefits (million yen)",
                |o| o.ltc_insurer_change,
            ),
            (
                "医療費の増減（百万円）",
                "change in medical spending (million yen)",
                |o| o.medical_change,
            ),
            ("純費用（百万円）", "net cost (million yen)", |o| {
                o.net_cost
            }),
        ];
        for (ja, en, g) in money {
            let mut row = vec![Cell::Text(self.t(ja, en).into())];
            for o in &self.options {
                row.push(Cell::Text(self.million_yen_iv(g(o))));
            }
            rows.push(row);
        }
        let mut row = vec![Cell::Text(
            self.t(
                "新規認定1件抑制あたり純費用（百万円）",
                "net cost per certification averted (million yen)",
            )
            .into(),
        )];
        for o in &self.options {
            row.push(
                self.ratio_cell(o.certifications_averted, o.cost_per_certification, |c| {
                    self.million_yen(c)
                }),
            );
        }
        rows.push(row);
        HtmlTable {
            caption: format!(
                "{}（{}〜{}、{}）",
                self.t("表5 選択肢の比較", "Table 5. Options against the baseline"),
                self.fy(0),
                self.fy(self.years() - 1),
                self.t("割引なし", "undiscounted")
            ),
            header,
            rows,
            numeric: true,
        }
    }

    fn economics_table(&self) -> HtmlTable {
        let rate = self.plan.file.discount_rate;
        let mut rows = Vec::new();
        for o in &self.options {
            rows.push(vec![
                Cell::Text(self.option_label(o.option).into()),
                Cell::Text(self.million_yen_iv(o.net_cost_discounted)),
                Cell::Text(self.number_iv(o.qalys_gained_discounted, 1)),
                Cell::Text(o.cost_per_qaly.map_or("—".into(), |c| self.million_yen(c))),
            ]);
        }
        HtmlTable {
            caption: match self.lang {
                Lang::Ja => format!("表6 経済評価（年{:.0}%で割引、年央）", rate * 100.0),
                Lang::En => format!(
                    "Table 6. Economic summary (discounted at {:.0}% a year, mid-year)",
                    rate * 100.0
                ),
            },
            header: vec![
                self.t("選択肢", "option").into(),
                self.t("純費用（百万円）", "net cost (million yen)").into(),
                self.t("QALY増加", "QALYs gained").into(),
                self.t(
                    "1QALYあたり純費用（百万円）",
                    "net cost per QALY (million yen)",
                )
                .into(),
            ],
            rows,
            numeric: true,
        }
    }

    fn budget_table(&self) -> HtmlTable {
        let qs = [
            Q::M(ms::LTC_COST),
            Q::LtcInsurer,
            Q::LtcMunicipal,
            Q::LtcPremium,
            Q::M(ms::MEDICAL_COST),
        ];
        let rows = (0..self.years())
            .map(|y| {
                let mut cells = vec![Cell::Text(format!(
                    "{} ({})",
                    self.fy(y),
                    fiscal::period_label(self.plan.fiscal_year(y), self.lang)
                ))];
                for q in qs {
                    cells.push(Cell::Text(
                        self.million_yen(self.year_iv(self.base, false, y, q).mean),
                    ));
                }
                cells
            })
            .collect();
        let f = &self.plan.file.finance;
        HtmlTable {
            caption: self.t("表7 介護・医療の支出（現状のまま、65歳以上、百万円）", "Table 7. Long-term-care and medical spending, baseline, residents 65+ (million yen)").into(),
            header: vec![
                self.t("年度", "fiscal year").into(),
                self.t("介護費用額", "LTC cost").into(),
                format!("{} ({:.1}%)", self.t("介護給付費", "LTC benefits"), f.insurer_share * 100.0),
                format!("{} ({:.1}%)", self.t("うち市町村一般会計", "municipal general account"), f.municipal_share * 100.0),
                format!("{} ({:.0}%)", self.t("うち第1号保険料", "premiums 65+"), f.premium_share * 100.0),
                self.t("医療費", "medical").into(),
            ],
            rows,
            numeric: true,
        }
    }

    fn options_budget_table(&self) -> HtmlTable {
        let mut header = vec![self.t("年度", "fiscal year").to_string()];
        for o in &self.options {
            let l = self.option_label(o.option);
            header.push(format!("{l}: {}", self.t("事業費", "programme")));
            header.push(format!(
                "{l}: {}",
                self.t("介護給付費の増減", "Δ LTC benefits")
            ));
            header.push(format!("{l}: {}", self.t("純費用", "net")));
        }
        let rows = (0..self.years())
            .map(|y| {
                let mut cells = vec![Cell::Text(self.fy(y))];
                for o in &self.options {
                    cells.push(Cell::Text(self.million_yen(
                        self.year_iv(o.arm, false, y, Q::M(ms::PROGRAMME_COST)).mean,
                    )));
                    cells.push(Cell::Text(
                        self.million_yen(self.year_iv(o.arm, true, y, Q::LtcInsurer).mean),
                    ));
                    cells.push(Cell::Text(
                        self.million_yen(self.year_iv(o.arm, true, y, Q::Spending).mean),
                    ));
                }
                cells
            })
            .collect();
        HtmlTable {
            caption: self.t(
                "表8 選択肢ごとの年度別収支（現状との差、百万円、負の値は節減）",
                "Table 8. Options by fiscal year against the baseline (million yen; negative: a saving)",
            )
            .into(),
            header,
            rows,
            numeric: true,
        }
    }

    fn sweep_table(&self) -> HtmlTable {
        let rows = self
            .points
            .iter()
            .map(|p| {
                vec![
                    Cell::Text(self.programme_label(p.programme)),
                    Cell::Text(self.lang.number(p.places as f64, 0)),
                    self.people_cell(p.reached, self.hidden_alone(p.reached), false),
                    self.people_cell(p.averted, self.hidden_alone(p.averted), true),
                    self.people_cell(
                        p.marginal_averted,
                        self.hidden_alone(p.marginal_averted),
                        true,
                    ),
                    Cell::Text(self.million_yen(p.marginal_spending_per_year)),
                    self.ratio_cell(
                        p.marginal_averted,
                        p.marginal_averted_per_million_yen,
                        |c| self.lang.number(c, 2),
                    ),
                    self.ratio_cell(p.marginal_averted, p.marginal_cost_per_averted, |c| {
                        self.million_yen(c)
                    }),
                ]
            })
            .collect();
        HtmlTable {
            caption: format!(
                "{} ({}{})",
                self.t("表9 定員の感度分析", "Table 9. Capacity sweep"),
                self.years(),
                self.t("年間の合計", "-year totals")
            ),
            header: vec![
                self.t("事業", "programme").into(),
                self.t("年間の定員", "places per year").into(),
                self.t("参加者数", "people reached").into(),
                self.t("新規認定の抑制数", "certifications averted").into(),
                self.t("うち最後のブロック", "by the last block").into(),
                self.t(
                    "最後のブロックの事業費（百万円/年）",
                    "last block's programme spending (million yen a year)",
                )
                .into(),
                self.t(
                    "事業費100万円あたり抑制数",
                    "averted per million yen of programme spending",
                )
                .into(),
                self.t(
                    "最後のブロックの1件あたり純費用（百万円）",
                    "last block's net cost per certification averted (million yen)",
                )
                .into(),
            ],
            rows,
            numeric: true,
        }
    }

    fn order_table(&self) -> HtmlTable {
        let rows = self
            .order
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let p = &self.points[s.point];
                let cum = Interval::of(&[s.cumulative_averted]);
                vec![
                    Cell::Text(format!("{}", i + 1)),
                    Cell::Text(self.programme_label(p.programme)),
                    Cell::Text(self.lang.number(p.places as f64, 0)),
                    self.ratio_cell(
                        p.marginal_averted,
                        p.marginal_averted_per_million_yen,
                        |c| self.lang.number(c, 2),
                    ),
                    self.ratio_cell(p.marginal_averted, p.marginal_cost_per_averted, |c| {
                        self.million_yen(c)
                    }),
                    Cell::Text(self.million_yen(s.cumulative_spending_per_year)),
                    self.people_cell(cum, self.hidden_alone(cum), false),
                ]
            })
            .collect();
        HtmlTable {
            caption: self
                .t("表10 拡充の順序", "Table 10. Order of expansion")
                .into(),
            header: vec![
                self.t("順位", "step").into(),
                self.t("事業", "programme").into(),
                self.t("定員（この段階の後）", "places after this step")
                    .into(),
                self.t(
                    "事業費100万円あたり抑制数",
                    "averted per million yen of programme spending",
                )
                .into(),
                self.t(
                    "1件あたり純費用（百万円）",
                    "net cost per certification averted (million yen)",
                )
                .into(),
                self.t(
                    "累計事業費（百万円/年）",
                    "cumulative programme spending (million yen a year)",
                )
                .into(),
                self.t("累計の新規認定抑制数", "cumulative certifications averted")
                    .into(),
            ],
            rows,
            numeric: true,
        }
    }

    fn local_table(&self) -> HtmlTable {
        let name = |w: &str| -> &str {
            match w {
                "diabetes_prevalence" => {
                    self.t("糖尿病の有病率（40〜74歳）", "diabetes prevalence, 40-74")
                }
                "frailty_prevalence" => self.t(
                    "フレイルの割合（未認定の65歳以上）",
                    "frail share, uncertified 65+",
                ),
                "certification_rate" => self.t("認定率（65歳以上）", "certification rate, 65+"),
                _ => self.t(
                    "要介護1〜5の割合（認定者中）",
                    "share of care levels 1-5 among the certified",
                ),
            }
        };
        let pct = |x: f64| format!("{}%", self.lang.number(x * 100.0, 1));
        let rows = self
            .plan
            .local
            .matched
            .iter()
            .map(|m| {
                vec![
                    Cell::Text(name(m.what).into()),
                    Cell::Text(pct(m.target)),
                    Cell::Text(pct(m.national)),
                    Cell::Text(pct(m.fitted)),
                    Cell::Text(self.lang.number(m.adjustment, 3)),
                ]
            })
            .collect();
        HtmlTable {
            caption: self
                .t(
                    "表11 地域の値の反映（初年度当初）",
                    "Table 11. Local prevalences at the start of the plan",
                )
                .into(),
            header: vec![
                self.t("項目", "measure").into(),
                self.t("地域の値", "local").into(),
                self.t("全国の値のまま", "national inputs").into(),
                self.t("反映後", "after the adjustment").into(),
                self.t("調整量", "adjustment").into(),
            ],
            rows,
            numeric: true,
        }
    }

    fn assumptions(&self) -> Vec<String> {
        let p: &Plan = self.plan;
        let f = &p.file;
        let ja = self.lang == Lang::Ja;
        let mut v = Vec::new();
        v.push(if ja {
            format!("年度: シミュレーションの第t年 = {}+t年度（4月〜翌3月）。{}当初（4月1日）の住民から始めます。介護保険事業計画の期は3年度ごと（第10期 = 令和9〜11年度）。", f.start_fiscal_year, fiscal::label(f.start_fiscal_year, self.lang))
        } else {
            format!("Fiscal years: simulated year t is fiscal year {} + t (April to March); the residents are those of 1 April {}. Insurance periods are three fiscal years (period 10 = FY2027-2029).", f.start_fiscal_year, f.start_fiscal_year)
        });
        v.push(match (&f.future, ja) {
            (Future::Closed, true) => format!("将来の人口（既定）: 現在の住民の閉じたコホート。転入・転出は含めず、死亡はモデル（令和6年簡易生命表）によります。計画期間中に65歳になる人（現在{}歳以上）も現在の住民として含めます。65歳以上の9年間の変化は現在の住民の加齢と死亡でほぼ決まり、住民基本台帳だけで計算できるため既定としています。", p.first_band * 5),
            (Future::Closed, false) => format!("Future population (default): a closed cohort of today's residents, with no migration; deaths follow the model (MHLW 2024 life table). Residents who turn 65 during the plan (aged {}+ today) are included. It is the default because over nine years the 65+ population is mostly today's residents ageing and dying, and it needs only the resident register.", p.first_band * 5),
            (Future::Projection(_), true) => "将来の人口: 入力された将来推計人口（社人研 地域別将来推計人口の形式）に、年度・男女・5歳階級ごとに重みを合わせています（転入者も同じ年齢・性別の住民と同じ率と仮定）。".into(),
            (Future::Projection(_), false) => "Future population: every year's results are reweighted, cell by cell (year, sex, 5-year band), to the given projection (IPSS 地域別将来推計人口 layout); people moving in are assumed to have the rates of residents of their age and sex.".into(),
        });
        v.push(if ja {
            format!("シミュレーション対象: {}歳以上の住民{}人を{}人で表しています（1人あたり{}人）。健康状態・危険因子は全国の分布に基づく合成人口（docs/cohort.md）から、各住民の年齢で生成しています。90歳以上の人口は全国の90〜94/95〜99/100歳以上の比で分け、フレイル指数は85歳を超えると年3.5%増加すると仮定しています（モデルの基準集団と同じ）（Mitnitski & Rockwood 2016）。", p.first_band * 5, self.lang.number(p.strata.iter().map(|s| s.residents).sum::<f64>(), 0), self.lang.number(p.people().len() as f64, 0), self.lang.number(p.weight, 3))
        } else {
            format!("Simulated: {} residents aged {}+ as {} simulated people (each stands for {}). Health and risk factors come from the synthetic Japanese cohort (docs/cohort.md), drawn at each resident's age. 90+ is split by Japan's 90-94/95-99/100+ shares; the frailty index grows 3.5% a year above 85 (Mitnitski & Rockwood 2016), as in the model's reference population.", self.lang.number(p.strata.iter().map(|s| s.residents).sum::<f64>(), 0), p.first_band * 5, self.lang.number(p.people().len() as f64, 0), self.lang.number(p.weight, 3))
        });
        v.push(self.t(
            "モデル: フレイルは32項目の欠損の蓄積（基本チェックリスト25項目、J-CHS基準）。要介護認定は年齢別認定率（2020年9月、厚生労働省）と要介護度の構成（令和4年度介護保険事業状況報告）に校正。施設入所は要介護度別の施設サービス受給者の割合（介護給付費等実態統計 令和4年5月）に校正。介護費用は要介護度別の受給者1人あたり費用（令和5年4月審査分）。詳細は docs/model.md と docs/validation.md。",
            "Model: frailty is 32-item deficit accumulation (the 25 Kihon Checklist items, J-CHS criteria). Certification is calibrated to MHLW certification rates by age (September 2020) and the level mix (FY2022 介護保険事業状況報告); entry to a care facility to the facility-service share by level (介護給付費等実態統計, May 2022); LTC costs per level from the April 2023 claims. Details: docs/model.md, docs/validation.md.",
        ).into());
        v.push(self.t(
            "新規認定者数は認定時の要介護度で数えます。施設入所者数は各年度4月1日に介護保険施設に入所している人数です。要介護等の人月は認定を受けている人の月数の合計です。40〜64歳（第2号被保険者）の認定は含みません。",
            "New certifications are counted at their level at certification. Facility residents are those in a care facility on 1 April. Care-months are the months lived while certified. Certification of people aged 40-64 (category-2 insured) is not modelled.",
        ).into());
        let fin = &f.finance;
        v.push(if ja {
            format!("費用の負担: 介護給付費 = 介護費用額 × {:.1}%（令和4年度の給付費10兆5,100億円 ÷ 費用額11兆3,778億円、介護保険事業状況報告）。市町村一般会計 = 給付費の{:.1}%（介護保険法第124条）、第1号保険料 = 給付費の{:.0}%（第9期）。医療費・介護費は令和の単価のまま（報酬改定・物価は含めません）。", fin.insurer_share * 100.0, fin.municipal_share * 100.0, fin.premium_share * 100.0)
        } else {
            format!("Who pays: LTC benefits = LTC cost × {:.1}% (FY2022 benefits ¥10.51 trillion over total cost ¥11.38 trillion, 介護保険事業状況報告); municipal general account = {:.1}% of benefits (介護保険法 art. 124); premiums of residents 65+ = {:.0}% of benefits (9th period). Unit costs stay at today's prices (no fee revisions or inflation).", fin.insurer_share * 100.0, fin.municipal_share * 100.0, fin.premium_share * 100.0)
        });
        for (k, pr) in f.programmes.iter().enumerate() {
            let s = &pr.spec;
            let effect = match (s.kind.name(), ja) {
                ("community_salon", true) => "効果: 社会参加（通いの場）を通じて、要介護認定のハザード比0.82（AGES、Takahashi 2019 BMJ Open）とフレイル欠損の獲得の低下",
                ("community_salon", false) => "effect: social participation, certification hazard ratio 0.82 (AGES, Takahashi 2019 BMJ Open) and slower deficit acquisition",
                ("exercise_nutrition", true) => "効果: フレイルの相対リスク0.62（Macdonald 2020 メタ解析）に校正した欠損の獲得・回復の変化",
                ("exercise_nutrition", false) => "effect: deficit acquisition and repair calibrated to a frailty risk ratio of 0.62 (Macdonald 2020 meta-analysis)",
                (_, true) => "効果: docs/scenarios.md を参照",
                (_, false) => "effect: see docs/scenarios.md",
            };
            let cost = if pr.cost_source.is_empty() {
                String::new()
            } else {
                format!(" [{}]", pr.cost_source)
            };
            v.push(if ja {
                format!("事業「{}」: 参加率{:.0}%、効果の発現{:.0}%、年間脱落{:.0}%、1人年あたり費用{}円{}。{}。", self.programme_label(k), s.uptake * 100.0, s.adherence * 100.0, s.dropout_per_year * 100.0, self.lang.number(s.cost_per_participant_year_yen, 0), cost, effect)
            } else {
                format!("Programme \"{}\": uptake {:.0}%, adherence {:.0}%, dropout {:.0}% a year, {} yen per participant-year{}; {}.", self.programme_label(k), s.uptake * 100.0, s.adherence * 100.0, s.dropout_per_year * 100.0, self.lang.number(s.cost_per_participant_year_yen, 0), cost, effect)
            });
        }
        if !f.local.is_empty() {
            v.push(if ja {
                format!("地域の値（出典: {}）は、糖尿病はオッズ比による標本の傾け、フレイルはフレイル指数による標本の傾け、認定率は認定の対数オッズの一律の移動、要介護1〜5の割合は要介護度の境界の一律の移動で反映しています（表11）。", f.local.source)
            } else {
                format!("Local prevalences (source: {}) enter as documented adjustments: diabetes by an odds-ratio tilt of the sample, frailty by a tilt on the frailty index, the certification rate by one shift of the certification log-odds, the care-level share by one shift of the level thresholds (Table 11).", f.local.source)
            });
        }
        if let Structure::Residents(_) = &f.structure {
            v.push(self.t("住民数は入力ファイルの値です（ファイル名・個人情報は表示しません）。", "Resident counts are the input file's (no file name or personal data is shown).").into());
        }
        v.push(self.t(
            "既知の限界（docs/validation.md）: モデルのフレイルの悪化は公表値より速く（3.9年間で悪化39%、公表29%）、開始時のフレイルは75歳以上で公表値より少ないため、現状のままのフレイル人数の増加は過大になりがちです。要介護度の構成は年とともに要介護3〜4に寄ります。選択肢どうしの差は同じ住民・同じ乱数で比べているため、この影響を受けにくくなります。",
            "Known limitations (docs/validation.md): the model's frailty worsens faster than published (39% worsened over 3.9 years against 29%) and starts below the published prevalence at 75+, so the baseline's rise in frail residents tends to be too steep; the care-level mix drifts towards care levels 3-4 over the years. Differences between options are paired (the same residents and random numbers) and less affected.",
        ).into());
        v.push(if ja {
            format!("区間: 95%区間は{}回の反復（同じ住民、異なる乱数）の2.5〜97.5パーセンタイルで、シミュレーションのばらつきを表します（--psa でパラメータの不確実性も含めます）。選択肢は同じ乱数で比較しています（共通乱数法）。", p.study.settings.replicates)
        } else {
            format!("Intervals: 95% intervals are the 2.5th-97.5th percentiles over {} replicates (the same residents, other random draws): simulation noise (--psa adds parameter uncertainty). Options are compared with common random numbers.", p.study.settings.replicates)
        });
        v.push(if ja {
            format!("割引: 年度別の表と予算は割引なし。経済評価のみ年{:.0}%で割引（中医協の費用対効果評価ガイドライン、Shiroiwa 2017）。", f.discount_rate * 100.0)
        } else {
            format!("Discounting: fiscal-year tables and budgets are undiscounted; only the economic summary is discounted at {:.0}% a year (the Japanese C2H guideline, Shiroiwa 2017).", f.discount_rate * 100.0)
        });
        v.push(if ja {
            format!("秘匿: 人数を表すセルは、{}人未満（1〜{}人）を * で秘匿し、合計から逆算できないよう補完秘匿しています。区間の端が{}人未満のときは「<{}」と表示します。", self.k, self.k - 1, self.k, self.k)
        } else {
            format!("Disclosure control: a cell counting 1 to {} people is hidden as *, with complementary suppression so it cannot be recovered from a total; interval bounds below {} show as <{}.", self.k - 1, self.k, self.k)
        });
        v
    }

    fn details(&self) -> Vec<String> {
        let p = self.plan;
        let s = &p.study.settings;
        let mut v = vec![
            if self.lang == Lang::Ja {
                format!("シミュレーション: {}人 × {}通り（現状・選択肢・感度分析）× {}回 × {}年、1か月刻み、シード{}。", self.lang.number(p.people().len() as f64, 0), p.arms.len(), s.replicates, s.years, s.seed)
            } else {
                format!("Simulation: {} people × {} arms (baseline, options, sweep points) × {} replicates × {} years, monthly steps, seed {}.", self.lang.number(p.people().len() as f64, 0), p.arms.len(), s.replicates, s.years, s.seed)
            },
            self.t("表とグラフのデータ: plan_by_year.csv / plan_by_age.csv / plan_options.csv / plan_sweep.csv / plan_residents.csv（同名の .parquet も）。", "Data of every table and chart: plan_by_year.csv, plan_by_age.csv, plan_options.csv, plan_sweep.csv, plan_residents.csv (and .parquet).").into(),
        ];
        for n in &p.notes {
            v.push(format!(
                "{}: {}",
                self.t("注", "note"),
                self.lang.pick(&n.ja, &n.en)
            ));
        }
        v
    }
}
