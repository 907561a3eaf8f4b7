//! Risk stratification of a cohort: every person personalised and forecast (K futures
//! each, all copies of a batch of people in one study, one arm per intervention, common
//! random numbers), then a ranked list of predicted risks and predicted benefit per
//! intervention (events averted per 1,000 treated), a trial-eligibility filter by predicted
//! risk, and aggregate counts by risk band with small cells suppressed.
//!
//! Memory: one batch of people and their copies at a time.
//!
//! Must never: publish an aggregate cell of fewer people than the disclosure threshold, or
//! hold a name or raw identifier.

use models::interventions::Kind;
use models::HealthModel;
use rayon::prelude::*;

use crate::forecast::{
    applicable, run_copies_selected, CopyPath, Counterfactual, ForecastSettings, Outcome,
};
use crate::output::{Builder, V};
use crate::person::PersonRecord;
use crate::personalise::{copies, personalise, PersonaliseSettings};
use crate::TwinError;

/// Outcomes in the ranked list (risks at 1, 5 and 10 years).
pub const LISTED: [Outcome; 8] = [
    Outcome::T2d,
    Outcome::Mi,
    Outcome::IschaemicStroke,
    Outcome::HaemorrhagicStroke,
    Outcome::HeartFailure,
    Outcome::Frailty,
    Outcome::Care,
    Outcome::Death,
];
pub const LIST_HORIZONS: [u32; 3] = [1, 5, 10];

/// What benefit is counted in: the outcome groups of the averted-events columns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Benefit {
    T2d,
    /// MI or stroke (either type).
    Cvd,
    Care,
}

impl Benefit {
    pub const ALL: [Benefit; 3] = [Benefit::T2d, Benefit::Cvd, Benefit::Care];
    pub fn name(self) -> &'static str {
        match self {
            Benefit::T2d => "t2d",
            Benefit::Cvd => "cvd",
            Benefit::Care => "care",
        }
    }
    /// Whether a copy had the event by `h`; `None` if not at risk.
    fn event(self, c: &CopyPath, h: f64) -> Option<bool> {
        let e = |o: Outcome| c.event_years[o as usize];
        match self {
            Benefit::T2d => (!e(Outcome::T2d).is_nan()).then(|| e(Outcome::T2d) <= h),
            Benefit::Care => (!e(Outcome::Care).is_nan()).then(|| e(Outcome::Care) <= h),
            Benefit::Cvd => {
                let ts = [
                    e(Outcome::Mi),
                    e(Outcome::IschaemicStroke),
                    e(Outcome::HaemorrhagicStroke),
                ];
                Some(ts.iter().any(|t| *t <= h))
            }
        }
    }
}

/// A trial-eligibility rule: predicted risk of an outcome by a horizon within [min, max].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TrialFilter {
    pub outcome: Outcome,
    pub horizon: u32,
    pub min: f64,
    pub max: f64,
}

/// How a stratification runs.
#[derive(Clone, Debug, PartialEq)]
pub struct StratifySettings {
    pub personalise: PersonaliseSettings,
    pub forecast: ForecastSettings,
    pub interventions: Vec<Kind>,
    /// People per study run.
    pub batch: usize,
    pub rank_by: (Outcome, u32),
    pub trial: Option<TrialFilter>,
}

/// Type 2 diabetes already present at the index date: its onset risk does not apply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum T2dAtIndex {
    /// Diagnosed or on glucose-lowering treatment.
    Diagnosed,
    /// Undiagnosed, but the index HbA1c or fasting glucose is at the diabetes level (the
    /// model's own definition, `models::diabetes::HBA1C_DIABETES` / `FPG_DIABETES`).
    ReadingsAtDiabetesLevel,
}

impl T2dAtIndex {
    pub fn of(p: &PersonRecord) -> Option<T2dAtIndex> {
        if p.diagnosed_diabetes() {
            Some(T2dAtIndex::Diagnosed)
        } else if p.index.hba1c_pct >= models::diabetes::HBA1C_DIABETES
            || p.index.fpg_mg_dl >= models::diabetes::FPG_DIABETES
        {
            Some(T2dAtIndex::ReadingsAtDiabetesLevel)
        } else {
            None
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            T2dAtIndex::Diagnosed => "diagnosed",
            T2dAtIndex::ReadingsAtDiabetesLevel => "readings_at_diabetes_level",
        }
    }
}

/// One person's row of the ranked list.
#[derive(Clone, Debug, PartialEq)]
pub struct Ranked {
    pub label: String,
    pub sex: engine::Sex,
    pub age_years: f64,
    /// `risks[o][h]` for [`LISTED`] × [`LIST_HORIZONS`] (NaN: not at risk).
    pub risks: Vec<[f64; 3]>,
    /// Events averted per 1,000 treated by the horizon of `rank_by`, per intervention and
    /// [`Benefit`].
    pub averted_per_1000: Vec<[f64; 3]>,
    pub rank_risk: f64,
    /// Copies at risk of the ranking outcome (the denominator of `rank_risk`).
    pub rank_at_risk: usize,
    pub eligible: bool,
    /// T2D present at the index date: T2D risks, T2D benefit and ranking by T2D are NaN.
    pub t2d_at_index: Option<T2dAtIndex>,
}

/// Forecasts one batch of people.
pub fn batch(
    model: &HealthModel,
    people: &[PersonRecord],
    s: &StratifySettings,
) -> Result<Vec<Ranked>, TwinError> {
    let k = s.forecast.futures.max(1);
    let posts: Vec<_> = people
        .par_iter()
        .map(|p| personalise(model, p, &s.personalise))
        .collect();
    let mut pop = Vec::with_capacity(people.len() * k);
    let mut traits = Vec::with_capacity(people.len() * k);
    for (i, (p, post)) in people.iter().zip(&posts).enumerate() {
        let (b, t) = copies(p, post, k, (i * k) as u64, s.forecast.seed);
        pop.extend(b);
        traits.extend(t);
    }
    let mut arms = vec![Counterfactual::usual_care()];
    arms.extend(
        s.interventions
            .iter()
            .map(|&kd| Counterfactual::of(vec![kd])),
    );
    // A person's copies run in usual care and in the arms of the interventions that apply
    // to them: the benefit of the others is not reported (empty), so their runs were
    // thrown away. The copies do not interact (no capacity limit), so each copy's path is
    // the one it has when every copy runs in every arm.
    let offered: Vec<Vec<Kind>> = people
        .iter()
        .map(|p| applicable(model, &p.baseline(0)))
        .collect();
    // (A mask has a bit per arm: with more than 64 arms, every copy runs in every arm.)
    let select = arms.len() <= 64;
    let runs_in =
        |i: usize, a: usize| a == 0 || !select || offered[i].contains(&s.interventions[a - 1]);
    let masks = select.then(|| {
        let mut masks = Vec::with_capacity(people.len() * k);
        for i in 0..people.len() {
            let m = (0..arms.len())
                .filter(|&a| runs_in(i, a))
                .fold(0u64, |m, a| m | 1 << a);
            masks.extend(std::iter::repeat_n(m, k));
        }
        masks
    });
    let runs = run_copies_selected(model, pop, traits, &arms, &s.forecast, masks)?;
    let h_rank = f64::from(s.rank_by.1);
    let mut out = Vec::with_capacity(people.len());
    // Per arm, where the next person's copies start among the arm's copies.
    let mut next = vec![0usize; arms.len()];
    let mut starts = vec![usize::MAX; arms.len()];
    for (i, p) in people.iter().enumerate() {
        let offered = &offered[i];
        for a in 0..arms.len() {
            starts[a] = usize::MAX;
            if runs_in(i, a) {
                starts[a] = next[a];
                next[a] += k;
            }
        }
        let slice = |a: usize| &runs[a].0[starts[a]..starts[a] + k];
        let base = slice(0);
        let t2d_at_index = T2dAtIndex::of(p);
        let applies = |o: Outcome| !(o == Outcome::T2d && t2d_at_index.is_some());
        let at_risk = |o: Outcome| {
            if !applies(o) {
                return 0;
            }
            base.iter()
                .filter(|c| !c.event_years[o as usize].is_nan())
                .count()
        };
        let risk = |copies: &[CopyPath], o: Outcome, h: f64| {
            if !applies(o) {
                return f64::NAN;
            }
            let at = copies
                .iter()
                .filter(|c| !c.event_years[o as usize].is_nan())
                .count();
            if at == 0 {
                return f64::NAN;
            }
            copies
                .iter()
                .filter(|c| c.event_years[o as usize] <= h + 1e-9)
                .count() as f64
                / at as f64
        };
        let risks: Vec<[f64; 3]> = LISTED
            .iter()
            .map(|&o| LIST_HORIZONS.map(|h| risk(base, o, f64::from(h))))
            .collect();
        let averted = (1..arms.len())
            .map(|a| {
                let kind = s.interventions[a - 1];
                Benefit::ALL.map(|b| {
                    if !offered.contains(&kind) || (b == Benefit::T2d && t2d_at_index.is_some()) {
                        return f64::NAN;
                    }
                    let (mut n, mut d) = (0usize, 0i64);
                    for (c0, c1) in base.iter().zip(slice(a)) {
                        if let (Some(e0), Some(e1)) = (b.event(c0, h_rank), b.event(c1, h_rank)) {
                            n += 1;
                            d += i64::from(e0) - i64::from(e1);
                        }
                    }
                    if n == 0 {
                        f64::NAN
                    } else {
                        1000.0 * d as f64 / n as f64
                    }
                })
            })
            .collect();
        let rank_risk = risk(base, s.rank_by.0, h_rank);
        let eligible = s.trial.is_some_and(|f| {
            let r = risk(base, f.outcome, f64::from(f.horizon));
            r.is_finite() && r >= f.min && r <= f.max
        });
        out.push(Ranked {
            label: p.label.clone(),
            sex: p.sex,
            age_years: p.age_years,
            risks,
            averted_per_1000: averted,
            rank_risk,
            rank_at_risk: at_risk(s.rank_by.0),
            eligible,
            t2d_at_index,
        });
    }
    Ok(out)
}

impl Ranked {
    /// Monte Carlo standard error of the ranking risk: √(r(1 − r)/n) over the n copies at
    /// risk (the copies are independent draws of the person's predictive distribution).
    pub fn rank_risk_mc_se(&self) -> f64 {
        if self.rank_at_risk == 0 || !self.rank_risk.is_finite() {
            return f64::NAN;
        }
        (self.rank_risk * (1.0 - self.rank_risk) / self.rank_at_risk as f64).sqrt()
    }
}

/// Sorts by the ranking risk (highest first; not at risk last), then pseudonym.
pub fn rank(rows: &mut [Ranked]) {
    rows.sort_by(|a, b| {
        let ka = if a.rank_risk.is_finite() {
            a.rank_risk
        } else {
            -1.0
        };
        let kb = if b.rank_risk.is_finite() {
            b.rank_risk
        } else {
            -1.0
        };
        kb.total_cmp(&ka).then_with(|| a.label.cmp(&b.label))
    });
}

/// The ranked list as a table.
pub fn ranked_table(rows: &[Ranked], s: &StratifySettings) -> report::Table {
    let mut spec: Vec<(String, char)> = vec![
        ("rank".into(), 'i'),
        ("pseudo_id".into(), 't'),
        ("sex".into(), 't'),
        ("age_years".into(), 'f'),
        (
            format!("rank_risk_{}_{}y", s.rank_by.0.name(), s.rank_by.1),
            'f',
        ),
        (format!("copies_at_risk_{}", s.rank_by.0.name()), 'i'),
        ("rank_risk_mc_se".into(), 'f'),
        ("trial_eligible".into(), 'i'),
        ("t2d_at_index".into(), 't'),
    ];
    for o in LISTED {
        for h in LIST_HORIZONS {
            spec.push((format!("risk_{}_{}y", o.name(), h), 'f'));
        }
    }
    for k in &s.interventions {
        for b in Benefit::ALL {
            spec.push((
                format!(
                    "averted_per_1000_{}_{}_{}y",
                    k.name(),
                    b.name(),
                    s.rank_by.1
                ),
                'f',
            ));
        }
    }
    let spec_ref: Vec<(&str, char)> = spec.iter().map(|(n, c)| (n.as_str(), *c)).collect();
    let mut b = Builder::new("ranked", &spec_ref);
    for (i, r) in rows.iter().enumerate() {
        let mut row = vec![
            V::I(i as i64 + 1),
            V::T(r.label.clone()),
            V::T(r.sex.name().into()),
            V::F((r.age_years * 10.0).round() / 10.0),
            V::F(r.rank_risk),
            V::I(r.rank_at_risk as i64),
            V::F(r.rank_risk_mc_se()),
            V::I(i64::from(r.eligible)),
            V::T(r.t2d_at_index.map_or("", |t| t.name()).into()),
        ];
        for rk in &r.risks {
            row.extend(rk.iter().map(|x| V::F(*x)));
        }
        for a in &r.averted_per_1000 {
            row.extend(a.iter().map(|x| V::F(*x)));
        }
        b.row(row);
    }
    b.build()
}

/// Risk bands of the aggregate table (upper bounds).
pub const BANDS: [f64; 6] = [0.05, 0.10, 0.20, 0.30, 0.50, 1.0001];

/// Aggregate counts by sex, 10-year age group and band of the ranking risk, with mean
/// averted events per intervention; cells of fewer than `threshold` people suppressed
/// (count and means left empty), and, where one cell of a row (sex × age group) is
/// suppressed, the next smallest too (so no suppressed count follows from the row total).
pub fn aggregates_table(
    rows: &[Ranked],
    s: &StratifySettings,
    threshold: usize,
) -> (report::Table, usize) {
    let age_group = |a: f64| ((a / 10.0).floor() as i64 * 10).clamp(10, 100);
    let band_of = |r: f64| BANDS.iter().position(|&b| r < b).unwrap_or(BANDS.len() - 1);
    use std::collections::BTreeMap;
    // Per cell: people, and per intervention the sum of benefits and the people it applies to.
    type Cell = (usize, Vec<f64>, Vec<usize>);
    let mut cells: BTreeMap<(String, i64, usize), Cell> = BTreeMap::new();
    let n_iv = s.interventions.len();
    for r in rows.iter().filter(|r| r.rank_risk.is_finite()) {
        let key = (
            r.sex.name().to_string(),
            age_group(r.age_years),
            band_of(r.rank_risk),
        );
        let e = cells
            .entry(key)
            .or_insert_with(|| (0, vec![0.0; n_iv], vec![0; n_iv]));
        e.0 += 1;
        for (i, a) in r.averted_per_1000.iter().enumerate() {
            // The benefit in the ranking outcome's group (T2D for t2d, else CVD or care).
            let pick = match s.rank_by.0 {
                Outcome::T2d => a[0],
                Outcome::Care
                | Outcome::CareSupport
                | Outcome::Care12
                | Outcome::Care35
                | Outcome::Frailty => a[2],
                _ => a[1],
            };
            if pick.is_finite() {
                e.1[i] += pick;
                e.2[i] += 1;
            }
        }
    }
    // Primary suppression, then complementary suppression within each sex × age row.
    let mut suppressed: std::collections::BTreeSet<(String, i64, usize)> = cells
        .iter()
        .filter(|(_, v)| v.0 < threshold)
        .map(|(k, _)| k.clone())
        .collect();
    let rows_keys: std::collections::BTreeSet<(String, i64)> =
        cells.keys().map(|k| (k.0.clone(), k.1)).collect();
    for (sex, age) in rows_keys {
        let in_row: Vec<&(String, i64, usize)> =
            cells.keys().filter(|k| k.0 == sex && k.1 == age).collect();
        let n_sup = in_row.iter().filter(|k| suppressed.contains(**k)).count();
        if n_sup == 1 {
            if let Some(next) = in_row
                .iter()
                .filter(|k| !suppressed.contains(**k))
                .min_by_key(|k| cells[**k].0)
            {
                suppressed.insert((**next).clone());
            }
        }
    }
    let mut spec: Vec<(String, char)> = vec![
        ("sex".into(), 't'),
        ("age_group".into(), 't'),
        (
            format!("risk_band_{}_{}y", s.rank_by.0.name(), s.rank_by.1),
            't',
        ),
        ("people".into(), 'f'),
    ];
    for k in &s.interventions {
        spec.push((format!("mean_averted_per_1000_{}", k.name()), 'f'));
    }
    let spec_ref: Vec<(&str, char)> = spec.iter().map(|(n, c)| (n.as_str(), *c)).collect();
    let mut b = Builder::new("aggregates", &spec_ref);
    for (key, (n, sums, applied)) in &cells {
        let hide = suppressed.contains(key);
        let lo = if key.2 == 0 { 0.0 } else { BANDS[key.2 - 1] };
        let hi = BANDS[key.2].min(1.0);
        let mut row = vec![
            V::T(key.0.clone()),
            V::T(format!("{}-{}", key.1, key.1 + 9)),
            V::T(format!("{:.0}-{:.0}%", 100.0 * lo, 100.0 * hi)),
            if hide {
                V::F(f64::NAN)
            } else {
                V::F(*n as f64)
            },
        ];
        // The mean over the people the intervention applies to, shown only if they are at
        // least the threshold too.
        for (s, m) in sums.iter().zip(applied) {
            row.push(if hide || *m < threshold {
                V::F(f64::NAN)
            } else {
                V::F(s / *m as f64)
            });
        }
        b.row(row);
    }
    (b.build(), suppressed.len())
}
