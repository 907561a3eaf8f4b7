//! The output tables of a run (documented column by column in docs/outputs.md).

use engine::observe::age_band_label;
use engine::summary::{BandLevel, SummaryRow};
use engine::{Baseline, Conditions, Covariates, MetricDef, Patient, Treatments};

use crate::disclosure::summary::SummaryDisclosure;
use crate::table::{Table, Values};

/// How precisely person-level files give ages and times.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum AgePrecision {
    /// As simulated (synthetic people).
    #[default]
    Exact,
    /// Whole months, rounded down (real people: an exact age gives away the birth date).
    WholeMonths,
}

impl AgePrecision {
    /// `years` at this precision.
    pub fn years(self, years: f64) -> f64 {
        match self {
            AgePrecision::Exact => years,
            AgePrecision::WholeMonths => (years * 12.0).floor() / 12.0,
        }
    }
}

/// `summary.csv` / `summary.parquet`: long format, one row per
/// (scenario, year, sex, age band, metric).
pub fn summary_table(
    scenario: &str,
    start_year: i64,
    rows: &[SummaryRow],
    defs: &[MetricDef],
) -> Table {
    summary_table_disclosed(scenario, start_year, rows, defs, &SummaryDisclosure::none())
}

/// [`summary_table`] under disclosure control: withheld rows keep their keys and
/// `replicates` but have empty `mean`, `lo95`, `hi95` and `sd`, and a `suppressed` column
/// (true for them) is added; without control the table is [`summary_table`]'s.
pub fn summary_table_disclosed(
    scenario: &str,
    start_year: i64,
    rows: &[SummaryRow],
    defs: &[MetricDef],
    disclosure: &SummaryDisclosure,
) -> Table {
    let withheld: Vec<bool> = rows.iter().map(|r| disclosure.row_withheld(r)).collect();
    let mut t = Table::new("summary");
    let text =
        |f: &dyn Fn(&SummaryRow) -> String| Values::Text(rows.iter().map(|r| Some(f(r))).collect());
    let float = |f: &dyn Fn(&SummaryRow) -> f64| {
        Values::Float(
            rows.iter()
                .zip(&withheld)
                .map(|(r, &w)| (!w).then(|| f(r)))
                .collect(),
        )
    };
    t.push("scenario", text(&|_| scenario.to_string()));
    t.push(
        "year",
        Values::Int(
            rows.iter()
                .map(|r| start_year + i64::from(r.year))
                .collect(),
        ),
    );
    t.push(
        "year_index",
        Values::Int(rows.iter().map(|r| i64::from(r.year)).collect()),
    );
    t.push("sex", text(&|r| r.sex.label().to_string()));
    t.push(
        "age_band",
        text(&|r| match r.band {
            BandLevel::All => "all".to_string(),
            BandLevel::One(b) => age_band_label(b),
        }),
    );
    t.push("metric", text(&|r| defs[r.metric].name.clone()));
    t.push("mean", float(&|r| r.mean));
    t.push("lo95", float(&|r| r.lo95));
    t.push("hi95", float(&|r| r.hi95));
    t.push("sd", float(&|r| r.sd));
    t.push(
        "replicates",
        Values::Int(rows.iter().map(|r| i64::from(r.replicates)).collect()),
    );
    if disclosure.policy().applies() {
        t.push("suppressed", Values::Bool(withheld));
    }
    t
}

fn push_baseline_columns<'a>(
    t: &mut Table,
    people: impl Iterator<Item = &'a Baseline> + Clone,
    ages: AgePrecision,
) {
    t.push(
        "sex",
        Values::Text(
            people
                .clone()
                .map(|b| Some(b.sex.name().to_string()))
                .collect(),
        ),
    );
    t.push(
        "age_years",
        Values::Float(
            people
                .clone()
                .map(|b| Some(ages.years(b.age_years)))
                .collect(),
        ),
    );
    push_covariate_columns(t, people.map(|b| &b.covariates));
}

/// The covariate, smoking, condition and treatment columns, in `Covariates` order.
fn push_covariate_columns<'a>(t: &mut Table, cov: impl Iterator<Item = &'a Covariates> + Clone) {
    for (k, name) in Covariates::CONTINUOUS.iter().enumerate() {
        t.push(
            *name,
            Values::Float(cov.clone().map(|c| Some(c.continuous()[k])).collect()),
        );
    }
    t.push(
        "smoker",
        Values::Bool(cov.clone().map(|c| c.smoker).collect()),
    );
    for (f, name) in Conditions::ALL {
        t.push(
            *name,
            Values::Bool(cov.clone().map(|c| c.conditions.contains(*f)).collect()),
        );
    }
    for (f, name) in Treatments::ALL {
        t.push(
            *name,
            Values::Bool(cov.clone().map(|c| c.treatments.contains(*f)).collect()),
        );
    }
}

/// A cohort file (`healthtwin cohort synth`): one row per person, baseline covariates.
pub fn cohort_table(people: &[Baseline], pseudo_id: &dyn Fn(u64) -> String) -> Table {
    let mut t = Table::new("cohort");
    t.push(
        "patient_id",
        Values::Int(people.iter().map(|b| b.id as i64).collect()),
    );
    t.push(
        "pseudo_id",
        Values::Text(people.iter().map(|b| Some(pseudo_id(b.id))).collect()),
    );
    push_baseline_columns(&mut t, people.iter(), AgePrecision::Exact);
    t
}

/// `patients/` rows of one replicate (a block of it, one part file): baseline and outcomes.
pub fn patients_table<S>(
    replicate: u32,
    patients: &[Patient<S>],
    causes: &[&str],
    pseudo_id: &dyn Fn(u64) -> String,
) -> Table {
    patients_table_with(replicate, patients, causes, pseudo_id, AgePrecision::Exact)
}

/// [`patients_table`] with ages and times at `ages` precision (real people: whole months).
pub fn patients_table_with<S>(
    replicate: u32,
    patients: &[Patient<S>],
    causes: &[&str],
    pseudo_id: &dyn Fn(u64) -> String,
    ages: AgePrecision,
) -> Table {
    let mut t = Table::new("patients");
    t.push(
        "replicate",
        Values::Int(vec![i64::from(replicate); patients.len()]),
    );
    t.push(
        "patient_id",
        Values::Int(patients.iter().map(|p| p.id() as i64).collect()),
    );
    t.push(
        "pseudo_id",
        Values::Text(patients.iter().map(|p| Some(pseudo_id(p.id()))).collect()),
    );
    push_baseline_columns(&mut t, patients.iter().map(|p| &p.baseline), ages);
    t.push(
        "death_time_years",
        Values::Float(
            patients
                .iter()
                .map(|p| p.death.map(|d| ages.years(d.time_years)))
                .collect(),
        ),
    );
    t.push(
        "death_age_years",
        Values::Float(
            patients
                .iter()
                .map(|p| p.death.map(|_| ages.years(p.age_years)))
                .collect(),
        ),
    );
    t.push(
        "death_cause",
        Values::Text(
            patients
                .iter()
                .map(|p| p.death.map(|d| causes[d.cause as usize].to_string()))
                .collect(),
        ),
    );
    t.push(
        "age_at_end_years",
        Values::Float(
            patients
                .iter()
                .map(|p| Some(ages.years(p.age_years)))
                .collect(),
        ),
    );
    t
}

/// `trace.parquet` / `trace.csv`: the state of traced patients at each yearly census.
pub fn trace_table<S>(replicate: u32, start_year: i64, rows: &[engine::run::TraceRow<S>]) -> Table {
    trace_table_with(replicate, start_year, rows, AgePrecision::Exact)
}

/// [`trace_table`] with ages at `ages` precision (real people: whole months).
pub fn trace_table_with<S>(
    replicate: u32,
    start_year: i64,
    rows: &[engine::run::TraceRow<S>],
    ages: AgePrecision,
) -> Table {
    let mut t = Table::new("trace");
    t.push(
        "replicate",
        Values::Int(vec![i64::from(replicate); rows.len()]),
    );
    t.push(
        "patient_id",
        Values::Int(rows.iter().map(|r| r.patient as i64).collect()),
    );
    t.push(
        "year",
        Values::Int(
            rows.iter()
                .map(|r| start_year + i64::from(r.year))
                .collect(),
        ),
    );
    t.push(
        "age_years",
        Values::Float(
            rows.iter()
                .map(|r| Some(ages.years(r.patient_state.age_years)))
                .collect(),
        ),
    );
    push_covariate_columns(&mut t, rows.iter().map(|r| &r.patient_state.now));
    t
}
