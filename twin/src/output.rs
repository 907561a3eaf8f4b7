//! A twin's tables (docs/twin.md, "Outputs"): absolute risks by outcome, horizon and arm;
//! predictive bands of the trajectories; onset-time distributions; counterfactual gains in
//! life-years and QALYs; severity; the history against the twin's fit; and the same as one
//! JSON document. The cli writes each table as CSV and Parquet.
//!
//! Must never: hold a name or identifier (people appear as their pseudonym or label).

use engine::math::DetMath;
use report::{Table, Values};
use serde_json::{json, Value};

use crate::forecast::{kind_label, ArmForecast, Outcome};
use crate::person::Quantity;
use crate::Twin;

/// Horizons (years) at which absolute risks are reported.
pub const HORIZONS: [f64; 3] = [1.0, 5.0, 10.0];
/// Quantiles of the predictive bands.
pub const BAND_PROBS: [f64; 5] = [0.05, 0.25, 0.5, 0.75, 0.95];

/// A cell of a table under construction.
#[derive(Clone, Debug)]
pub enum V {
    T(String),
    F(f64),
    I(i64),
}

/// Builds a table row by row.
pub struct Builder {
    name: String,
    cols: Vec<(String, Values)>,
}

impl Builder {
    /// `spec`: column names with a kind letter: `t` text, `f` float, `i` integer.
    pub fn new(name: &str, spec: &[(&str, char)]) -> Builder {
        Builder {
            name: name.to_string(),
            cols: spec
                .iter()
                .map(|(n, k)| {
                    let v = match k {
                        't' => Values::Text(Vec::new()),
                        'i' => Values::Int(Vec::new()),
                        _ => Values::Float(Vec::new()),
                    };
                    (n.to_string(), v)
                })
                .collect(),
        }
    }

    pub fn row(&mut self, cells: Vec<V>) {
        for ((_, col), cell) in self.cols.iter_mut().zip(cells) {
            match (col, cell) {
                (Values::Text(v), V::T(s)) => v.push(Some(s)),
                (Values::Float(v), V::F(x)) => v.push(x.is_finite().then_some(x)),
                (Values::Float(v), V::I(x)) => v.push(Some(x as f64)),
                (Values::Int(v), V::I(x)) => v.push(x),
                (Values::Text(v), _) => v.push(None),
                (Values::Float(v), _) => v.push(None),
                (Values::Int(v), _) => v.push(0),
                (Values::Bool(v), _) => v.push(false),
            }
        }
    }

    pub fn build(self) -> Table {
        let mut t = Table::new(self.name);
        for (n, v) in self.cols {
            t.push(n, v);
        }
        t
    }
}

fn risks_by(arm: &ArmForecast, years: u32) -> Vec<(Outcome, f64, f64)> {
    let mut v = Vec::new();
    for o in Outcome::ALL {
        for h in HORIZONS.into_iter().chain([f64::from(years)]) {
            if h <= f64::from(years) && !v.iter().any(|&(oo, hh, _)| oo == o && hh == h) {
                v.push((o, h, arm.risk(o, h)));
            }
        }
    }
    v
}

/// `risks`: one row per arm, outcome and horizon: the absolute risk, the absolute risk
/// reduction against usual care and its Monte Carlo standard error (paired).
pub fn risks_table(t: &Twin) -> Table {
    let mut b = Builder::new(
        "risks",
        &[
            ("pseudo_id", 't'),
            ("arm", 't'),
            ("outcome", 't'),
            ("horizon_years", 'f'),
            ("risk", 'f'),
            ("absolute_risk_reduction", 'f'),
            ("arr_standard_error", 'f'),
            ("futures", 'i'),
        ],
    );
    let fc = &t.forecast;
    let base = &fc.arms[0];
    for arm in &fc.arms {
        for (o, h, r) in risks_by(arm, fc.years) {
            let (arr, se) = paired_difference(base, arm, o, h);
            b.row(vec![
                V::T(t.person.label.clone()),
                V::T(arm.counterfactual.name.clone()),
                V::T(o.name().into()),
                V::F(h),
                V::F(r),
                V::F(arr),
                V::F(se),
                V::I(fc.futures as i64),
            ]);
        }
    }
    b.build()
}

/// Risk difference (usual care − arm) of `o` by `h` over the same copies, and its standard
/// error from the paired per-copy differences.
pub fn paired_difference(base: &ArmForecast, arm: &ArmForecast, o: Outcome, h: f64) -> (f64, f64) {
    let i = o as usize;
    let d: Vec<f64> = base
        .copies
        .iter()
        .zip(&arm.copies)
        .filter(|(a, _)| !a.event_years[i].is_nan())
        .map(|(a, b)| {
            f64::from(u8::from(a.event_years[i] <= h + 1e-9))
                - f64::from(u8::from(b.event_years[i] <= h + 1e-9))
        })
        .collect();
    if d.is_empty() {
        return (f64::NAN, f64::NAN);
    }
    let n = d.len() as f64;
    let mean = d.iter().sum::<f64>() / n;
    let var = d.iter().map(|x| (x - mean).powf_det(2.0)).sum::<f64>() / (n - 1.0).max(1.0);
    (mean, (var / n).sqrt())
}

/// `trajectories`: per arm, quantity and year, the predictive band of the simulated values
/// (the copies alive; no measurement error).
pub fn trajectories_table(t: &Twin) -> Table {
    let mut b = Builder::new(
        "trajectories",
        &[
            ("pseudo_id", 't'),
            ("arm", 't'),
            ("quantity", 't'),
            ("years_from_index", 'i'),
            ("alive_share", 'f'),
            ("p05", 'f'),
            ("p25", 'f'),
            ("p50", 'f'),
            ("p75", 'f'),
            ("p95", 'f'),
        ],
    );
    for arm in &t.forecast.arms {
        for q in Quantity::ALL {
            for y in 0..=t.forecast.years as usize {
                let band = arm.band(q, y, &BAND_PROBS);
                let alive = arm
                    .copies
                    .iter()
                    .filter(|c| c.values.get(y).is_some_and(|v| v[0].is_finite()))
                    .count() as f64
                    / arm.copies.len().max(1) as f64;
                let mut row = vec![
                    V::T(t.person.label.clone()),
                    V::T(arm.counterfactual.name.clone()),
                    V::T(q.name().into()),
                    V::I(y as i64),
                    V::F(alive),
                ];
                row.extend(band.into_iter().map(V::F));
                b.row(row);
            }
        }
    }
    b.build()
}

/// `counterfactuals`: per arm, mean life-years and discounted QALYs over the horizon and the
/// gains against usual care.
pub fn counterfactuals_table(t: &Twin) -> Table {
    let mut b = Builder::new(
        "counterfactuals",
        &[
            ("pseudo_id", 't'),
            ("arm", 't'),
            ("interventions", 'i'),
            ("life_years", 'f'),
            ("qalys_discounted", 'f'),
            ("life_years_gained", 'f'),
            ("qalys_gained", 'f'),
        ],
    );
    let base = &t.forecast.arms[0];
    for arm in &t.forecast.arms {
        b.row(vec![
            V::T(t.person.label.clone()),
            V::T(arm.counterfactual.name.clone()),
            V::I(arm.counterfactual.kinds.len() as i64),
            V::F(arm.life_years),
            V::F(arm.qalys),
            V::F(arm.life_years - base.life_years),
            V::F(arm.qalys - base.qalys),
        ]);
    }
    b.build()
}

/// `onsets`: per arm and outcome, the share with the event within the horizon and the
/// quartiles of the time to it among them.
pub fn onsets_table(t: &Twin) -> Table {
    let mut b = Builder::new(
        "onsets",
        &[
            ("pseudo_id", 't'),
            ("arm", 't'),
            ("outcome", 't'),
            ("share_with_event", 'f'),
            ("years_p25", 'f'),
            ("years_p50", 'f'),
            ("years_p75", 'f'),
        ],
    );
    for arm in &t.forecast.arms {
        for o in Outcome::ALL {
            let times = arm.event_times(o);
            let q = |p| crate::stats::quantile_sorted(&times, p);
            b.row(vec![
                V::T(t.person.label.clone()),
                V::T(arm.counterfactual.name.clone()),
                V::T(o.name().into()),
                V::F(arm.risk(o, f64::from(t.forecast.years))),
                V::F(q(0.25)),
                V::F(q(0.5)),
                V::F(q(0.75)),
            ]);
        }
    }
    b.build()
}

/// `fit`: every reading to the index date against the twin's fitted value and 90% band.
pub fn fit_table(t: &Twin) -> Table {
    let mut b = Builder::new(
        "fit",
        &[
            ("pseudo_id", 't'),
            ("quantity", 't'),
            ("years_from_index", 'f'),
            ("observed", 'f'),
            ("fitted", 'f'),
            ("lo90", 'f'),
            ("hi90", 'f'),
        ],
    );
    for s in &t.posterior.fit {
        b.row(vec![
            V::T(t.person.label.clone()),
            V::T(s.quantity.name().into()),
            V::F(s.t_years),
            V::F(s.observed),
            V::F(s.mean),
            V::F(s.lo90),
            V::F(s.hi90),
        ]);
    }
    b.build()
}

/// Severity: HbA1c at diagnosis (quartiles among copies diagnosed in the run) and the
/// distribution of the highest care level reached.
pub fn severity(arm: &ArmForecast) -> (Vec<f64>, [f64; 8]) {
    let mut a: Vec<f64> = arm
        .copies
        .iter()
        .map(|c| f64::from(c.hba1c_at_diagnosis))
        .filter(|x| x.is_finite())
        .collect();
    a.sort_by(f64::total_cmp);
    let q = [0.25, 0.5, 0.75]
        .iter()
        .map(|&p| crate::stats::quantile_sorted(&a, p))
        .collect();
    let mut levels = [0.0; 8];
    for c in &arm.copies {
        levels[usize::from(c.max_care_level.min(7))] += 1.0 / arm.copies.len().max(1) as f64;
    }
    (q, levels)
}

/// Everything as one JSON document (`twin.json`).
pub fn summary_json(t: &Twin) -> Value {
    let fc = &t.forecast;
    let arms: Vec<Value> = fc
        .arms
        .iter()
        .map(|a| {
            let risks: Vec<Value> = risks_by(a, fc.years)
                .into_iter()
                .map(|(o, h, r)| json!({"outcome": o.name(), "horizon_years": h, "risk": finite(r)}))
                .collect();
            let (hba1c_dx, levels) = severity(a);
            json!({
                "arm": a.counterfactual.name,
                "interventions": a.counterfactual.kinds.iter().map(|k| json!({"kind": k.name(), "label_en": kind_label(*k, false)})).collect::<Vec<_>>(),
                "life_years": finite(a.life_years),
                "qalys_discounted": finite(a.qalys),
                "risks": risks,
                "hba1c_at_diagnosis_quartiles": hba1c_dx.iter().map(|x| finite(*x)).collect::<Vec<_>>(),
                "highest_care_level_shares": levels.iter().map(|x| finite(*x)).collect::<Vec<_>>(),
            })
        })
        .collect();
    let g = t.posterior.glycaemia.as_ref();
    json!({
        "pseudo_id": t.person.label,
        "sex": t.person.sex.name(),
        "age_years": t.person.age_years,
        "futures": fc.futures,
        "years": fc.years,
        "personalisation": {
            "glycaemia_particles_ess": g.map(|g| finite(g.ess)),
            "glycaemic_progressor_probability": g.map(|g| finite(g.weights.iter().zip(&g.at_index).filter(|(_, a)| a.traits.efficiency_drift != 0.0).map(|(w, _)| w).sum())),
            "sbp_level_slope_fluct": t.posterior.sbp.map(|p| p.mean.to_vec()),
            "ldl_level_slope_fluct": t.posterior.ldl.map(|p| p.mean.to_vec()),
            "bmi_slope": t.posterior.bmi.map(|p| p.mean[1]),
            "frailty_exposure": t.posterior.fr_exposure,
            "adherence_dm_cvd": t.posterior.adherence.map(|(a, b)| vec![a, b]),
            "seconds": t.personalise_seconds,
        },
        "simulation_seconds": fc.seconds,
        "arms": arms,
    })
}

fn finite(x: f64) -> Value {
    if x.is_finite() {
        json!(x)
    } else {
        Value::Null
    }
}
