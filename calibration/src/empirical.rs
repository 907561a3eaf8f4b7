//! Empirical targets from an imported cohort (`healthtwin cohort import` outputs:
//! `cohort.parquet` and `history.parquet`): what the data supports, with its uncertainty
//! from the data. Per cell (sex × baseline age band, and for changes × baseline band of the
//! measure) the data gives sufficient statistics: people, sum and sum of squares of each
//! person's change per year (HbA1c, SBP, BMI, LDL from the index date to the last value in
//! follow-up), and first events with person-years (diagnosed diabetes, first CVD event, MI,
//! stroke, heart failure, treatment starts). The same cells summarise a site for federated
//! calibration ([`crate::federated`]); targets are made from (possibly merged) cells.
//!
//! What the import does not carry (Kihon Checklist answers, long-term-care certification)
//! cannot be a target here; the importer's measures are listed in docs/data.md.
//!
//! Must never: keep or write a row-level value, an identifier or a pseudonym: only counts
//! and sums per cell leave this module.

use std::collections::BTreeMap;
use std::path::Path;

use engine::{Baseline, Covariates, Sex};

use crate::output::ParquetColumns;
use crate::targets::{RawTarget, SexSel, Target, TargetKind};
use crate::CalibrationError;

pub use crate::targets::Flag;

/// The statistic of a cell.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CellStat {
    /// Change per year of a continuous covariate, by baseline band (in 0.01 units of the
    /// measure, to keep the key exact).
    Change {
        covariate: String,
        band_lo: i64,
        band_hi: i64,
    },
    /// First events of a flag.
    Event { flag: String },
}

/// The key of a cell.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CellKey {
    pub stat: CellStat,
    pub sex: u8,
    pub age_lo: u32,
    pub age_hi: u32,
}

/// Sufficient statistics of a cell.
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub struct CellSums {
    /// People in the cell (with follow-up).
    pub n: u64,
    /// Σ and Σ² of each person's change per year (changes), 0 for events.
    pub sum: f64,
    pub sumsq: f64,
    /// First events and person-years (events).
    pub events: u64,
    pub person_years: f64,
}

impl CellSums {
    pub fn add(&mut self, o: &CellSums) {
        self.n += o.n;
        self.sum += o.sum;
        self.sumsq += o.sumsq;
        self.events += o.events;
        self.person_years += o.person_years;
    }
}

/// Cells of a cohort (or a site, or several sites merged).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Summary {
    pub cells: BTreeMap<CellKey, CellSums>,
    /// Follow-up horizon in years (the calibration simulates this long).
    pub horizon_years: u32,
}

/// Which cells a cohort is summarised into.
#[derive(Clone, Debug)]
pub struct CellPlan {
    pub age_bands: Vec<[u32; 2]>,
    /// (covariate, band edges); bands are [e₀, e₁), [e₁, e₂), …
    pub changes: Vec<(String, Vec<f64>)>,
    pub events: Vec<Flag>,
    pub horizon_years: u32,
    /// Follow-up shorter than this (years) gives no change value.
    pub min_followup_years: f64,
}

impl Default for CellPlan {
    fn default() -> Self {
        // [A] bands: NHNS-style ages; HbA1c normal / prediabetes (JDS 5.6, 6.5); SBP below,
        // high-normal, hypertensive (JSH 2019 130 / 140); BMI normal / overweight / obese
        // (JASSO 25); LDL below / above the JAS screening level 140.
        CellPlan {
            age_bands: vec![[40, 54], [55, 64], [65, 74], [75, 110]],
            changes: vec![
                ("hba1c_pct".into(), vec![3.0, 5.6, 6.5, 20.0]),
                ("sbp_mmhg".into(), vec![60.0, 130.0, 140.0, 260.0]),
                ("bmi_kg_m2".into(), vec![10.0, 25.0, 30.0, 70.0]),
                ("ldl_mg_dl".into(), vec![10.0, 140.0, 500.0]),
            ],
            events: [
                "dx_diabetes",
                "cvd_first_event",
                "rx_glucose_lowering",
                "rx_antihypertensive",
                "rx_lipid_lowering",
            ]
            .iter()
            .filter_map(|n| Flag::parse(n))
            .collect(),
            horizon_years: 3,
            min_followup_years: 0.5,
        }
    }
}

/// One person of an imported cohort, with what the summaries need.
#[derive(Clone, Debug)]
pub struct CohortPerson {
    pub baseline: Baseline,
    /// Days from the index date to the last dated record (the end of follow-up).
    pub last_record_days: i64,
    /// Which continuous covariates were imputed at baseline (`Covariates::CONTINUOUS` order).
    pub imputed: [bool; 11],
}

/// An imported cohort: its people and, per person, the history rows the summaries read.
#[derive(Clone, Debug, Default)]
pub struct Cohort {
    pub people: Vec<CohortPerson>,
    /// Per person: (measure, days from the index date, value), sorted by measure then day.
    pub history: Vec<Vec<(String, i64, f64)>>,
}

/// Reads `cohort.parquet` and `history.parquet` of a `cohort import` output folder.
pub fn read_cohort(dir: &Path) -> Result<Cohort, CalibrationError> {
    let cohort_path = dir.join("cohort.parquet");
    let people = cohort::file::read(&cohort_path).map_err(|e| CalibrationError::Input {
        file: cohort_path.display().to_string(),
        message: e.to_string(),
    })?;
    let cols = ParquetColumns::read(&cohort_path)?;
    let last = cols.ints("last_record_days")?;
    let mut imputed = vec![[false; 11]; people.len()];
    for (k, name) in Covariates::CONTINUOUS.iter().enumerate() {
        if let Ok(flags) = cols.bools(&format!("imputed_{name}")) {
            for (i, f) in flags.iter().enumerate() {
                if let Some(row) = imputed.get_mut(i) {
                    row[k] = *f;
                }
            }
        }
    }
    let people: Vec<CohortPerson> = people
        .into_iter()
        .zip(last)
        .zip(imputed)
        .map(|((baseline, last_record_days), imputed)| CohortPerson {
            baseline,
            last_record_days,
            imputed,
        })
        .collect();
    let history_path = dir.join("history.parquet");
    let h = ParquetColumns::read(&history_path)?;
    let ids = h.ints("patient_id")?;
    let measures = h.texts("measure")?;
    let days = h.ints("days_from_index")?;
    let values = h.floats("value")?;
    let mut history = vec![Vec::new(); people.len()];
    for (row, (((id, m), d), v)) in ids.iter().zip(measures).zip(days).zip(values).enumerate() {
        let slot = usize::try_from(*id)
            .ok()
            .and_then(|i| history.get_mut(i))
            .ok_or_else(|| CalibrationError::Input {
                file: history_path.display().to_string(),
                message: format!(
                    "row {}: column patient_id names no person of cohort.parquet",
                    row + 1
                ),
            })?;
        slot.push((m, d, v));
    }
    for h in &mut history {
        h.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(&b.1)));
    }
    Ok(Cohort { people, history })
}

const DAYS_PER_YEAR: f64 = 365.25;

fn age_band(plan: &CellPlan, age: f64) -> Option<[u32; 2]> {
    plan.age_bands
        .iter()
        .copied()
        .find(|[lo, hi]| age >= f64::from(*lo) && age < f64::from(*hi) + 1.0)
}

fn centi(x: f64) -> i64 {
    (x * 100.0).round() as i64
}

/// Summarises a cohort's people into the plan's cells.
pub fn summarise(cohort: &Cohort, plan: &CellPlan) -> Summary {
    let mut cells: BTreeMap<CellKey, CellSums> = BTreeMap::new();
    let horizon_days = f64::from(plan.horizon_years) * DAYS_PER_YEAR;
    for (person, history) in cohort.people.iter().zip(&cohort.history) {
        let b = &person.baseline;
        let Some([age_lo, age_hi]) = age_band(plan, b.age_years) else {
            continue;
        };
        let end = (person.last_record_days as f64).min(horizon_days);
        if end <= 0.0 {
            continue;
        }
        let key = |stat: CellStat| CellKey {
            stat,
            sex: b.sex as u8,
            age_lo,
            age_hi,
        };
        for (covariate, edges) in &plan.changes {
            let Some(k) = Covariates::CONTINUOUS.iter().position(|c| c == covariate) else {
                continue;
            };
            if person.imputed[k] {
                continue;
            }
            let v0 = b.covariates.continuous()[k];
            let Some(band) = edges.windows(2).find(|w| v0 >= w[0] && v0 < w[1]) else {
                continue;
            };
            let last = history
                .iter()
                .rfind(|(m, d, _)| m == covariate && *d > 0 && (*d as f64) <= end);
            let Some(&(_, day, v)) = last else { continue };
            let years = day as f64 / DAYS_PER_YEAR;
            if years < plan.min_followup_years {
                continue;
            }
            let change = (v - v0) / years;
            let c = cells
                .entry(key(CellStat::Change {
                    covariate: covariate.clone(),
                    band_lo: centi(band[0]),
                    band_hi: centi(band[1]),
                }))
                .or_default();
            c.n += 1;
            c.sum += change;
            c.sumsq += change * change;
            c.person_years += years;
        }
        for &flag in &plan.events {
            if flag.on(&b.covariates) {
                continue;
            }
            let first = history
                .iter()
                .filter(|(m, d, v)| flag.matches(m) && *d > 0 && *v > 0.0)
                .map(|(_, d, _)| *d as f64)
                .reduce(f64::min);
            let c = cells
                .entry(key(CellStat::Event {
                    flag: flag.name().to_string(),
                }))
                .or_default();
            c.n += 1;
            match first.filter(|&d| d <= end) {
                Some(d) => {
                    c.events += 1;
                    c.person_years += d / DAYS_PER_YEAR;
                }
                None => c.person_years += end / DAYS_PER_YEAR,
            }
        }
    }
    Summary {
        cells,
        horizon_years: plan.horizon_years,
    }
}

impl Summary {
    /// Adds another summary's cells (sites of one federated calibration).
    pub fn merge(&mut self, other: &Summary) {
        for (k, v) in &other.cells {
            self.cells.entry(k.clone()).or_default().add(v);
        }
    }

    /// Targets from the cells with at least `min_n` people (and, for rates, a person-year):
    /// change per year = mean with its standard error from the sums of squares; event rate
    /// = events / person-years × 1,000 with a Poisson standard error (½ event when none).
    pub fn targets(&self, min_n: u64, source: &str) -> Vec<Target> {
        let mut out = Vec::new();
        for (k, c) in &self.cells {
            if c.n < min_n.max(2) {
                continue;
            }
            let sex = if k.sex == Sex::Male as u8 {
                SexSel::Male
            } else {
                SexSel::Female
            };
            let (statistic, metric, value, se, band, tag) = match &k.stat {
                CellStat::Change {
                    covariate,
                    band_lo,
                    band_hi,
                } => {
                    let n = c.n as f64;
                    let mean = c.sum / n;
                    let var = ((c.sumsq - c.sum * c.sum / n) / (n - 1.0)).max(0.0);
                    let se = (var / n).sqrt().max(1e-6);
                    let (lo, hi) = (*band_lo as f64 / 100.0, *band_hi as f64 / 100.0);
                    (
                        "change_per_year",
                        covariate.clone(),
                        mean,
                        se,
                        Some([lo, hi]),
                        format!("{covariate}_{lo}_{hi}"),
                    )
                }
                CellStat::Event { flag } => {
                    if c.person_years <= 0.0 {
                        continue;
                    }
                    let rate = 1000.0 * c.events as f64 / c.person_years;
                    let se = 1000.0 * (c.events as f64).max(0.5).sqrt() / c.person_years;
                    ("event_rate", flag.clone(), rate, se, None, flag.clone())
                }
            };
            let raw = RawTarget {
                name: format!(
                    "{statistic}_{tag}_{}_{}_{}",
                    sex.label(),
                    k.age_lo,
                    k.age_hi
                ),
                statistic: statistic.into(),
                metric: Some(metric),
                sex,
                ages: Some([k.age_lo, k.age_hi]),
                years: None,
                value,
                se: Some(se),
                ci: None,
                source: format!("{source}: {} people, cell sums", c.n),
                weight: 1.0,
                kind: TargetKind::Empirical,
                note: None,
                denominator: None,
                scale: None,
                from: None,
                to: None,
                exclude_facility: None,
                exclude_certified: None,
                measure: None,
                at_least: None,
                band,
            };
            if let Ok(t) = raw.resolve(source) {
                out.push(t);
            }
        }
        out
    }
}

/// A simulated EMR cohort in the `cohort import` layout, made by the model itself: the
/// people's baseline as `cohort.parquet` (with `last_record_days`: death or the end of
/// follow-up; nothing imputed) and, as `history.parquet`, yearly HbA1c, FPG, SBP, BMI and
/// LDL values (at the start of each follow-up year) and the first occurrence of each flag
/// (mid-year of the year it appears). One study run with `seed`; for demonstrations and
/// tests of cohort and federated calibration.
pub fn simulated_emr(
    model: &models::HealthModel,
    people: &[Baseline],
    years: u32,
    seed: u64,
) -> Result<(::report::Table, ::report::Table), CalibrationError> {
    use ::report::{Table, Values};
    let study = study::Study {
        arms: vec![study::Arm {
            name: "truth".into(),
            model: model.clone(),
        }],
        population: people.to_vec(),
        allocation: study::Allocation::Paired,
        settings: study::Settings {
            seed,
            years,
            step_months: 1,
            replicates: 1,
            streams: study::Streams::Common,
            chunk_size: 1024,
            trace_patients: people.len() as u64,
        },
        draws: Vec::new(),
    };
    const MEASURES: [(&str, &str); 5] = [
        ("hba1c_pct", "%"),
        ("fpg_mg_dl", "mg/dL"),
        ("sbp_mmhg", "mm[Hg]"),
        ("bmi_kg_m2", "kg/m2"),
        ("ldl_mg_dl", "mg/dL"),
    ];
    let flags: Vec<(Flag, &str)> = Flag::NAMES
        .iter()
        .filter(|n| **n != "cvd_first_event")
        .filter_map(|n| Flag::parse(n).map(|f| (f, *n)))
        .collect();
    let mut last_days = vec![0i64; people.len()];
    let mut rows: Vec<(i64, &str, f64, &str, i64, f64)> = Vec::new();
    study::run(&study, &(), |ctx, run| {
        let mut by_person = run.trace.chunk_by(|a, b| a.patient == b.patient);
        let mut trace_of = vec![None; people.len()];
        for rows in by_person.by_ref() {
            trace_of[rows[0].patient as usize] = Some(rows);
        }
        for p in ctx.patients {
            let id = p.id() as usize;
            let end = p.death.map(|d| d.time_years).unwrap_or(f64::from(years));
            last_days[id] = (end * DAYS_PER_YEAR).floor() as i64;
            let traced = trace_of[id].unwrap_or(&[]);
            let state = |y: u32| -> Option<&engine::Covariates> {
                if y >= years {
                    p.alive().then_some(&p.now)
                } else {
                    traced
                        .iter()
                        .find(|r| r.year == y)
                        .map(|r| &r.patient_state.now)
                }
            };
            let mut seen: Vec<bool> = flags
                .iter()
                .map(|(f, _)| f.on(&p.baseline.covariates))
                .collect();
            for y in 1..=years {
                let day = (f64::from(y) * DAYS_PER_YEAR).round() as i64;
                let age = p.baseline.age_years + f64::from(y);
                let now = state(y).or_else(|| {
                    // Died during year y: the state at death shows the events before it.
                    (p.death.is_some() && f64::from(y - 1) < end).then_some(&p.now)
                });
                let Some(c) = now else { break };
                if state(y).is_some() {
                    let v = c.continuous();
                    for (name, unit) in MEASURES {
                        let k = Covariates::CONTINUOUS
                            .iter()
                            .position(|x| *x == name)
                            .expect("a covariate");
                        rows.push((id as i64, name, v[k], unit, day, age));
                    }
                }
                let mid = ((f64::from(y) - 0.5) * DAYS_PER_YEAR).round() as i64;
                for (k, (f, name)) in flags.iter().enumerate() {
                    if !seen[k] && f.on(c) {
                        seen[k] = true;
                        rows.push((id as i64, name, 1.0, "event", mid, age - 0.5));
                    }
                }
                if state(y).is_none() {
                    break;
                }
            }
        }
        Ok::<_, CalibrationError>(())
    })?;
    rows.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(b.1)).then(a.4.cmp(&b.4)));
    let pseudo = |id: u64| format!("sim-{seed}-{id}");
    let mut cohort = ::report::outputs::cohort_table(people, &pseudo);
    let n = people.len();
    cohort.push(
        "index_date",
        Values::Text(vec![Some("2024-04-01".into()); n]),
    );
    cohort.push("first_record_days", Values::Int(vec![0; n]));
    cohort.push("last_record_days", Values::Int(last_days));
    let mut counts = vec![0i64; n];
    for r in &rows {
        counts[r.0 as usize] += 1;
    }
    cohort.push("history_rows", Values::Int(counts));
    cohort.push("sources", Values::Text(vec![Some("simulated".into()); n]));
    for name in Covariates::CONTINUOUS.iter().chain(["smoker"].iter()) {
        cohort.push(format!("imputed_{name}"), Values::Bool(vec![false; n]));
    }
    let mut h = Table::new("history");
    h.push(
        "patient_id",
        Values::Int(rows.iter().map(|r| r.0).collect()),
    );
    h.push(
        "pseudo_id",
        Values::Text(rows.iter().map(|r| Some(pseudo(r.0 as u64))).collect()),
    );
    h.push(
        "measure",
        Values::Text(rows.iter().map(|r| Some(r.1.to_string())).collect()),
    );
    h.push(
        "value",
        Values::Float(rows.iter().map(|r| Some(r.2)).collect()),
    );
    h.push(
        "unit",
        Values::Text(rows.iter().map(|r| Some(r.3.to_string())).collect()),
    );
    h.push(
        "days_from_index",
        Values::Int(rows.iter().map(|r| r.4).collect()),
    );
    h.push("minute_of_day", Values::Int(vec![0; rows.len()]));
    h.push(
        "age_years",
        Values::Float(rows.iter().map(|r| Some(r.5)).collect()),
    );
    h.push(
        "source",
        Values::Text(vec![Some("simulated".into()); rows.len()]),
    );
    Ok((cohort, h))
}
