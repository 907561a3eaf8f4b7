//! Calibration targets as data: a target file (TOML, or CSV with the same fields as
//! columns) lists statistics defined over the model's outputs, each with the published
//! value, its uncertainty, its source and a weight.
//!
//! ```toml
//! [[target]]
//! name = "t2d_prevalence_men_50_59"
//! statistic = "prevalence"          # prevalence | incidence | mean | ratio | transition |
//!                                   # log_slope | growth | person_share | change_per_year |
//!                                   # event_rate
//! metric = "dm_strongly_suspected"  # a summary metric (`healthtwin metrics`)
//! sex = "male"                      # male | female | all (default)
//! ages = [50, 59]                   # inclusive; whole 5-year bands for summary metrics
//! years = [9, 9]                    # simulation year indices, inclusive
//! value = 12.6
//! se = 1.0                          # or ci = [lo, hi] (a 95% interval)
//! source = "NHNS 2016 …"
//! weight = 1.0                      # default 1
//! ```
//!
//! Must never: compute a statistic (that is [`crate::stats`]) or accept a target without a
//! source and an uncertainty.

use std::collections::HashSet;
use std::path::Path;

use serde::Deserialize;

use crate::CalibrationError;

/// The sexes a target covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum SexSel {
    Male,
    Female,
    #[default]
    All,
}

impl SexSel {
    pub fn covers(self, sex: engine::Sex) -> bool {
        match self {
            SexSel::All => true,
            SexSel::Male => sex == engine::Sex::Male,
            SexSel::Female => sex == engine::Sex::Female,
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            SexSel::Male => "male",
            SexSel::Female => "female",
            SexSel::All => "all",
        }
    }
}

/// J-CHS phenotype states and the summaries of a transition table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    Robust,
    Prefrail,
    Frail,
    /// Any phenotype (the `from` of an overall improved / worsened / same share).
    Any,
    /// A better phenotype at the end (as `to`).
    Improved,
    /// A worse phenotype at the end.
    Worsened,
    /// The same phenotype at the end.
    Same,
    /// The same number of deficits or fewer at the end (Fallah 2011).
    SameOrFewerDeficits,
}

/// A part of the statistic that only some kinds use (the denominator of a ratio).
#[derive(Clone, Debug, PartialEq, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Denominator {
    pub metric: String,
    pub sex: Option<SexSel>,
    pub ages: Option<[u32; 2]>,
    pub years: Option<[u32; 2]>,
}

/// Where a target is checked: a published figure, or a model-consistency term (not data).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum TargetKind {
    #[default]
    Published,
    /// A property the model should have that is not a published number (for example
    /// incidence within an age band that does not drift over calendar time).
    Consistency,
    /// Computed from an imported cohort's history (`calibrate summarize`).
    Empirical,
}

/// One target as written in a file.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTarget {
    pub name: String,
    pub statistic: String,
    #[serde(default)]
    pub metric: Option<String>,
    #[serde(default)]
    pub sex: SexSel,
    #[serde(default)]
    pub ages: Option<[u32; 2]>,
    #[serde(default)]
    pub years: Option<[f64; 2]>,
    pub value: f64,
    #[serde(default)]
    pub se: Option<f64>,
    #[serde(default)]
    pub ci: Option<[f64; 2]>,
    pub source: String,
    #[serde(default = "one")]
    pub weight: f64,
    #[serde(default)]
    pub kind: TargetKind,
    #[serde(default)]
    pub note: Option<String>,
    /// `ratio`: the denominator (fields not given are the numerator's).
    #[serde(default)]
    pub denominator: Option<Denominator>,
    /// `ratio`: a factor applied to the ratio (100 for a share in %).
    #[serde(default)]
    pub scale: Option<f64>,
    /// `transition`: the state at the start and at the end.
    #[serde(default)]
    pub from: Option<State>,
    #[serde(default)]
    pub to: Option<State>,
    /// `transition`, `person_share`: leave out people in a care facility at the start
    /// (community-dwelling samples). Default true for transitions.
    #[serde(default)]
    pub exclude_facility: Option<bool>,
    /// `person_share`: leave out people certified for long-term care.
    #[serde(default)]
    pub exclude_certified: Option<bool>,
    /// `person_share`: the person-level measure (`kcl_score`) and its threshold.
    #[serde(default)]
    pub measure: Option<String>,
    #[serde(default)]
    pub at_least: Option<f64>,
    /// `change_per_year`: the band of the baseline measure, [lo, hi).
    #[serde(default)]
    pub band: Option<[f64; 2]>,
}

fn one() -> f64 {
    1.0
}

/// A statistic over the model's outputs.
#[derive(Clone, Debug, PartialEq)]
pub enum Statistic {
    /// A summary metric pooled over sexes, 5-year bands and years (numerators and
    /// denominators summed, then the metric's own formula: %, mean, per 1,000 PY); `kind`
    /// is what the file called it, checked against the metric.
    Metric {
        cells: Cells,
        kind: engine::MetricKind,
    },
    /// `scale` × numerator / denominator, each a pooled metric.
    Ratio {
        numerator: Cells,
        denominator: Cells,
        scale: f64,
    },
    /// % of the people in `from` at `start` (alive at `end`, not in a facility when
    /// `exclude_facility`) who are in `to` at `end`; a fractional `end` interpolates
    /// between the yearly states around it.
    Transition {
        from: State,
        to: State,
        ages: [u32; 2],
        start: u32,
        end: f64,
        exclude_facility: bool,
    },
    /// Cross-sectional slope of ln(mean metric) on age (band midpoints), %/year.
    LogSlope { cells: Cells },
    /// Longitudinal growth of ln(mean covariate) among the survivors of a baseline age
    /// group, between two years, %/year.
    Growth {
        covariate: String,
        ages: [u32; 2],
        start: u32,
        end: u32,
    },
    /// % of people of `ages` at `year` whose person-level `measure` is ≥ `at_least`.
    PersonShare {
        measure: PersonMeasure,
        at_least: f64,
        sex: SexSel,
        ages: [u32; 2],
        year: u32,
        exclude_certified: bool,
    },
    /// Mean change per year of a covariate from the index date to the end of follow-up,
    /// among people whose baseline value is in `band` (cohort calibration).
    ChangePerYear {
        covariate: String,
        band: [f64; 2],
        sex: SexSel,
        ages: [u32; 2],
    },
    /// First events of a flag after the index date per 1,000 person-years among people
    /// without it at baseline (cohort calibration).
    EventRate {
        flag: Flag,
        sex: SexSel,
        ages: [u32; 2],
    },
}

/// A summary metric over (sex, 5-year bands, years).
#[derive(Clone, Debug, PartialEq)]
pub struct Cells {
    pub metric: String,
    pub sex: SexSel,
    /// First and last 5-year band (engine band indices, 100+ is the last).
    pub bands: [usize; 2],
    pub years: [u32; 2],
}

/// A person-level measure of a `person_share` target.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PersonMeasure {
    KclScore,
}

/// A target ready to use.
#[derive(Clone, Debug, PartialEq)]
pub struct Target {
    pub name: String,
    pub statistic: Statistic,
    pub value: f64,
    /// Standard error of the published value (from its 95% interval when given so).
    pub se: f64,
    /// The published 95% interval, when given (else value ± 1.96 se).
    pub interval: (f64, f64),
    pub source: String,
    pub weight: f64,
    pub kind: TargetKind,
    pub note: Option<String>,
    /// The file it came from.
    pub file: String,
}

impl Target {
    /// A label for tables and charts.
    pub fn label(&self) -> &str {
        &self.name
    }

    /// The last simulation year the target needs (its run must be at least this long + 1).
    pub fn last_year(&self) -> u32 {
        match &self.statistic {
            Statistic::Metric { cells: c, .. } | Statistic::LogSlope { cells: c } => c.years[1],
            Statistic::Ratio {
                numerator,
                denominator,
                ..
            } => numerator.years[1].max(denominator.years[1]),
            Statistic::Transition { end, .. } => end.ceil() as u32,
            Statistic::Growth { end, .. } => *end,
            Statistic::PersonShare { year, .. } => *year,
            Statistic::ChangePerYear { .. } | Statistic::EventRate { .. } => 0,
        }
    }

    /// Whether the statistic needs the people's yearly states (a trace), and from which
    /// baseline age on.
    pub fn traced_from_age(&self) -> Option<f64> {
        match &self.statistic {
            Statistic::Transition { ages, start, .. } => {
                Some(f64::from(ages[0]) - f64::from(*start))
            }
            Statistic::Growth { ages, start, .. } => Some(f64::from(ages[0]) - f64::from(*start)),
            Statistic::PersonShare { ages, year, .. } => {
                Some(f64::from(ages[0]) - f64::from(*year) - 1.0)
            }
            _ => None,
        }
    }
}

/// The 5-year bands covering `ages` (inclusive), which must start and end on band edges.
fn bands_of(name: &str, field: &str, ages: [u32; 2]) -> Result<[usize; 2], String> {
    let [lo, hi] = ages;
    if lo > hi {
        return Err(format!(
            "target `{name}`: {field} = [{lo}, {hi}] is reversed"
        ));
    }
    if lo % 5 != 0 || (hi < 100 && (hi + 1) % 5 != 0) {
        return Err(format!(
            "target `{name}`: {field} = [{lo}, {hi}] must cover whole 5-year bands of the \
             summary (start at a multiple of 5, end one below one; 100 or more = to the oldest)"
        ));
    }
    let last = engine::observe::N_AGE_BANDS - 1;
    Ok([(lo / 5) as usize, ((hi / 5) as usize).min(last)])
}

fn year_pair(name: &str, y: [f64; 2]) -> Result<[u32; 2], String> {
    if y.iter().any(|v| v.fract() != 0.0 || *v < 0.0 || *v > 200.0) || y[0] > y[1] {
        return Err(format!(
            "target `{name}`: years = [{}, {}] must be whole year indices, first ≤ last",
            y[0], y[1]
        ));
    }
    Ok([y[0] as u32, y[1] as u32])
}

impl RawTarget {
    /// Checks the target and builds its statistic. Errors name the target and the field.
    pub fn resolve(self, file: &str) -> Result<Target, String> {
        let name = self.name.clone();
        if name.trim().is_empty() {
            return Err("a target has an empty name".into());
        }
        if self.source.trim().is_empty() {
            return Err(format!(
                "target `{name}`: `source` is empty (every target cites one)"
            ));
        }
        if !self.value.is_finite() {
            return Err(format!("target `{name}`: `value` is not a number"));
        }
        if !(self.weight.is_finite() && self.weight >= 0.0) {
            return Err(format!("target `{name}`: `weight` must be a number ≥ 0"));
        }
        let (se, interval) = match (self.se, self.ci) {
            (Some(se), None) if se.is_finite() && se > 0.0 => {
                (se, (self.value - 1.96 * se, self.value + 1.96 * se))
            }
            (None, Some([lo, hi])) if lo.is_finite() && hi.is_finite() && lo < hi => {
                if !(lo <= self.value && self.value <= hi) {
                    return Err(format!(
                        "target `{name}`: value {} is outside its interval [{lo}, {hi}]",
                        self.value
                    ));
                }
                ((hi - lo) / (2.0 * 1.96), (lo, hi))
            }
            (Some(_), Some(_)) => {
                return Err(format!("target `{name}`: give `se` or `ci`, not both"))
            }
            _ => {
                return Err(format!(
                    "target `{name}`: needs `se` > 0 or `ci` = [lo, hi] with lo < hi (every \
                     target carries its uncertainty)"
                ))
            }
        };
        let need_metric = || {
            self.metric.clone().ok_or_else(|| {
                format!(
                    "target `{name}`: statistic `{}` needs `metric`",
                    self.statistic
                )
            })
        };
        let ages = self.ages.unwrap_or([40, 200]);
        let years = self.years.unwrap_or([0.0, 0.0]);
        let cells = |metric: String| -> Result<Cells, String> {
            Ok(Cells {
                metric,
                sex: self.sex,
                bands: bands_of(&name, "ages", ages)?,
                years: year_pair(&name, years)?,
            })
        };
        let statistic = match self.statistic.as_str() {
            word @ ("prevalence" | "incidence" | "mean") => Statistic::Metric {
                cells: cells(need_metric()?)?,
                kind: match word {
                    "prevalence" => engine::MetricKind::Prevalence,
                    "incidence" => engine::MetricKind::Incidence,
                    _ => engine::MetricKind::Mean,
                },
            },
            "ratio" => {
                let d = self.denominator.clone().ok_or_else(|| {
                    format!("target `{name}`: statistic `ratio` needs a [denominator] table")
                })?;
                let numerator = cells(need_metric()?)?;
                let denominator = Cells {
                    metric: d.metric,
                    sex: d.sex.unwrap_or(self.sex),
                    bands: match d.ages {
                        Some(a) => bands_of(&name, "denominator.ages", a)?,
                        None => numerator.bands,
                    },
                    years: match d.years {
                        Some(y) => year_pair(&name, [f64::from(y[0]), f64::from(y[1])])?,
                        None => numerator.years,
                    },
                };
                let scale = self.scale.unwrap_or(1.0);
                if !(scale.is_finite() && scale > 0.0) {
                    return Err(format!("target `{name}`: `scale` must be > 0"));
                }
                Statistic::Ratio {
                    numerator,
                    denominator,
                    scale,
                }
            }
            "transition" => {
                let from = self
                    .from
                    .ok_or_else(|| format!("target `{name}`: `transition` needs `from`"))?;
                let to = self
                    .to
                    .ok_or_else(|| format!("target `{name}`: `transition` needs `to`"))?;
                if matches!(
                    from,
                    State::Improved | State::Worsened | State::Same | State::SameOrFewerDeficits
                ) {
                    return Err(format!(
                        "target `{name}`: `from` must be robust, prefrail, frail or any"
                    ));
                }
                if to == State::Any {
                    return Err(format!("target `{name}`: `to` cannot be `any`"));
                }
                let [start, end] = years;
                if start.fract() != 0.0 || start < 0.0 || end <= start || end.is_nan() || end > 200.0 {
                    return Err(format!(
                        "target `{name}`: years = [start, end] needs a whole start and end > start"
                    ));
                }
                Statistic::Transition {
                    from,
                    to,
                    ages,
                    start: start as u32,
                    end,
                    exclude_facility: self.exclude_facility.unwrap_or(true),
                }
            }
            "log_slope" => Statistic::LogSlope {
                cells: cells(need_metric()?)?,
            },
            "growth" => {
                let [start, end] = year_pair(&name, years)?;
                if end <= start {
                    return Err(format!("target `{name}`: `growth` needs years [start, end > start]"));
                }
                let covariate = need_metric()?;
                if engine::observe::builtin::covariate(&covariate).is_none() {
                    return Err(format!(
                        "target `{name}`: `growth` needs a continuous covariate as `metric` ({})",
                        engine::Covariates::CONTINUOUS.join(", ")
                    ));
                }
                Statistic::Growth {
                    covariate,
                    ages,
                    start,
                    end,
                }
            }
            "person_share" => {
                let measure = match self.measure.as_deref() {
                    Some("kcl_score") => PersonMeasure::KclScore,
                    other => {
                        return Err(format!(
                            "target `{name}`: `person_share` needs measure = \"kcl_score\" (got {other:?})"
                        ))
                    }
                };
                let at_least = self
                    .at_least
                    .filter(|v| v.is_finite())
                    .ok_or_else(|| format!("target `{name}`: `person_share` needs `at_least`"))?;
                let [year, last] = year_pair(&name, years)?;
                if year != last {
                    return Err(format!("target `{name}`: `person_share` is for one year: years = [y, y]"));
                }
                Statistic::PersonShare {
                    measure,
                    at_least,
                    sex: self.sex,
                    ages,
                    year,
                    exclude_certified: self.exclude_certified.unwrap_or(false),
                }
            }
            "change_per_year" => {
                let covariate = need_metric()?;
                if engine::observe::builtin::covariate(&covariate).is_none() {
                    return Err(format!(
                        "target `{name}`: `change_per_year` needs a continuous covariate as `metric`"
                    ));
                }
                let band = self.band.unwrap_or([f64::NEG_INFINITY, f64::INFINITY]);
                Statistic::ChangePerYear {
                    covariate,
                    band,
                    sex: self.sex,
                    ages,
                }
            }
            "event_rate" => {
                let m = need_metric()?;
                let flag = Flag::parse(&m).ok_or_else(|| {
                    format!(
                        "target `{name}`: `event_rate` needs a flag as `metric` ({})",
                        Flag::NAMES.join(", ")
                    )
                })?;
                Statistic::EventRate {
                    flag,
                    sex: self.sex,
                    ages,
                }
            }
            other => {
                return Err(format!(
                    "target `{name}`: unknown statistic `{other}` (prevalence, incidence, mean, \
                     ratio, transition, log_slope, growth, person_share, change_per_year, event_rate)"
                ))
            }
        };
        Ok(Target {
            name,
            statistic,
            value: self.value,
            se,
            interval,
            source: self.source,
            weight: self.weight,
            kind: self.kind,
            note: self.note,
            file: file.to_string(),
        })
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TargetFile {
    target: Vec<RawTarget>,
}

/// One row of a CSV target file: the TOML fields flattened (`age_lo`, `age_hi`,
/// `year_lo`, `year_hi`, `ci_lo`, `ci_hi`, `denominator_metric`, `band_lo`, `band_hi`).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CsvTarget {
    name: String,
    statistic: String,
    #[serde(default)]
    metric: Option<String>,
    #[serde(default)]
    sex: Option<SexSel>,
    #[serde(default)]
    age_lo: Option<u32>,
    #[serde(default)]
    age_hi: Option<u32>,
    #[serde(default)]
    year_lo: Option<f64>,
    #[serde(default)]
    year_hi: Option<f64>,
    value: f64,
    #[serde(default)]
    se: Option<f64>,
    #[serde(default)]
    ci_lo: Option<f64>,
    #[serde(default)]
    ci_hi: Option<f64>,
    source: String,
    #[serde(default)]
    weight: Option<f64>,
    #[serde(default)]
    kind: Option<TargetKind>,
    #[serde(default)]
    note: Option<String>,
    #[serde(default)]
    denominator_metric: Option<String>,
    #[serde(default)]
    scale: Option<f64>,
    #[serde(default)]
    from: Option<State>,
    #[serde(default)]
    to: Option<State>,
    #[serde(default)]
    measure: Option<String>,
    #[serde(default)]
    at_least: Option<f64>,
    #[serde(default)]
    band_lo: Option<f64>,
    #[serde(default)]
    band_hi: Option<f64>,
}

impl CsvTarget {
    fn raw(self) -> RawTarget {
        let pair = |a: Option<f64>, b: Option<f64>| a.zip(b).map(|(a, b)| [a, b]);
        RawTarget {
            name: self.name,
            statistic: self.statistic,
            metric: self.metric,
            sex: self.sex.unwrap_or_default(),
            ages: self.age_lo.zip(self.age_hi).map(|(a, b)| [a, b]),
            years: pair(self.year_lo, self.year_hi),
            value: self.value,
            se: self.se,
            ci: pair(self.ci_lo, self.ci_hi),
            source: self.source,
            weight: self.weight.unwrap_or(1.0),
            kind: self.kind.unwrap_or_default(),
            note: self.note,
            denominator: self.denominator_metric.map(|metric| Denominator {
                metric,
                ..Default::default()
            }),
            scale: self.scale,
            from: self.from,
            to: self.to,
            exclude_facility: None,
            exclude_certified: None,
            measure: self.measure,
            at_least: self.at_least,
            band: pair(self.band_lo, self.band_hi),
        }
    }
}

/// Reads a target file: CSV when its name ends in `.csv`, else TOML.
pub fn read(path: &Path) -> Result<Vec<Target>, CalibrationError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| CalibrationError::Input {
        file: file.clone(),
        message: format!("cannot read: {e}"),
    })?;
    let is_csv = path
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("csv"));
    let bad = |message: String| CalibrationError::Input {
        file: file.clone(),
        message,
    };
    let raws: Vec<RawTarget> = if is_csv {
        let mut reader = csv::ReaderBuilder::new()
            .trim(csv::Trim::All)
            .comment(Some(b'#'))
            .from_reader(text.as_bytes());
        let mut out = Vec::new();
        for (i, row) in reader.deserialize::<CsvTarget>().enumerate() {
            // csv's errors name the column and position, never echo a whole record.
            let row = row.map_err(|e| bad(format!("record {}: {e}", i + 1)))?;
            out.push(row.raw());
        }
        out
    } else {
        let parsed: TargetFile = toml::from_str(&text).map_err(|e| bad(e.to_string()))?;
        parsed.target
    };
    let mut out = Vec::new();
    for raw in raws {
        out.push(raw.resolve(&file).map_err(bad)?);
    }
    if out.is_empty() {
        return Err(bad("the file has no targets".into()));
    }
    Ok(out)
}

/// Reads several target files; target names must be unique across them.
pub fn read_all(paths: &[impl AsRef<Path>]) -> Result<Vec<Target>, CalibrationError> {
    let mut all: Vec<Target> = Vec::new();
    let mut seen = HashSet::new();
    for p in paths {
        for t in read(p.as_ref())? {
            if !seen.insert(t.name.clone()) {
                return Err(CalibrationError::Input {
                    file: t.file.clone(),
                    message: format!("target `{}` is defined twice", t.name),
                });
            }
            all.push(t);
        }
    }
    Ok(all)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Vec<Target>, String> {
        let f: TargetFile = toml::from_str(text).map_err(|e| e.to_string())?;
        f.target.into_iter().map(|r| r.resolve("t.toml")).collect()
    }

    #[test]
    fn a_prevalence_target_resolves_to_its_bands() {
        let t = parse(
            r#"[[target]]
name = "a"
statistic = "prevalence"
metric = "dm_strongly_suspected"
sex = "male"
ages = [50, 59]
years = [9, 9]
value = 12.6
ci = [10.0, 15.0]
source = "NHNS 2016"
"#,
        )
        .unwrap();
        assert_eq!(
            t[0].statistic,
            Statistic::Metric {
                cells: Cells {
                    metric: "dm_strongly_suspected".into(),
                    sex: SexSel::Male,
                    bands: [10, 11],
                    years: [9, 9],
                },
                kind: engine::MetricKind::Prevalence,
            }
        );
        assert!((t[0].se - 5.0 / 3.92).abs() < 1e-12);
        assert_eq!(t[0].last_year(), 9);
    }

    #[test]
    fn bad_targets_name_the_target_and_the_field() {
        let base = |extra: &str| {
            format!(
                "[[target]]\nname = \"x\"\nstatistic = \"prevalence\"\nmetric = \"m\"\nvalue = 1.0\nsource = \"s\"\n{extra}"
            )
        };
        let e = parse(&base("")).unwrap_err();
        assert!(e.contains("`x`") && e.contains("se"), "{e}");
        let e = parse(&base("se = 1.0\nages = [52, 59]")).unwrap_err();
        assert!(e.contains("5-year"), "{e}");
        let e = parse(&base("ci = [2.0, 3.0]")).unwrap_err();
        assert!(e.contains("outside its interval"), "{e}");
        let e = parse(&base("se = 1.0\nsource2 = 1")).unwrap_err();
        assert!(e.contains("source2"), "{e}");
        let e = parse(
            "[[target]]\nname = \"y\"\nstatistic = \"prevalence\"\nmetric = \"m\"\nvalue = 1.0\nse = 1.0\nsource = \" \"\n",
        )
        .unwrap_err();
        assert!(e.contains("source"), "{e}");
    }

    #[test]
    fn csv_rows_are_the_toml_fields() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.csv");
        std::fs::write(
            &p,
            "name,statistic,metric,sex,age_lo,age_hi,year_lo,year_hi,value,ci_lo,ci_hi,source,denominator_metric,scale\n\
             r,ratio,cvd_stroke_incidence,all,40,200,0,9,3.5,3,4,JPHC,cvd_mi_incidence,\n",
        )
        .unwrap();
        let t = read(&p).unwrap();
        assert!(matches!(t[0].statistic, Statistic::Ratio { scale, .. } if scale == 1.0));
        assert_eq!(t[0].interval, (3.0, 4.0));
    }
}

/// A flag whose first occurrence after the index date is an event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Flag {
    Condition(u16),
    Treatment(u16),
    /// A first myocardial infarction, stroke or heart failure.
    FirstCvd,
}

impl Flag {
    /// Every flag name a target or a history row may use.
    pub const NAMES: [&'static str; 10] = [
        "dx_diabetes",
        "dx_hypertension",
        "dx_dyslipidaemia",
        "hx_myocardial_infarction",
        "hx_stroke",
        "hx_heart_failure",
        "rx_glucose_lowering",
        "rx_antihypertensive",
        "rx_lipid_lowering",
        "cvd_first_event",
    ];

    pub fn parse(name: &str) -> Option<Flag> {
        if name == "cvd_first_event" {
            return Some(Flag::FirstCvd);
        }
        if let Some((f, _)) = engine::Conditions::ALL.iter().find(|(_, n)| *n == name) {
            return Some(Flag::Condition(f.0));
        }
        engine::Treatments::ALL
            .iter()
            .find(|(_, n)| *n == name)
            .map(|(f, _)| Flag::Treatment(f.0))
    }

    pub fn name(self) -> &'static str {
        match self {
            Flag::FirstCvd => "cvd_first_event",
            Flag::Condition(bits) => engine::Conditions::ALL
                .iter()
                .find(|(f, _)| f.0 == bits)
                .map(|(_, n)| *n)
                .unwrap_or("?"),
            Flag::Treatment(bits) => engine::Treatments::ALL
                .iter()
                .find(|(f, _)| f.0 == bits)
                .map(|(_, n)| *n)
                .unwrap_or("?"),
        }
    }

    /// Whether a person's covariates hold the flag.
    pub fn on(self, c: &engine::Covariates) -> bool {
        match self {
            Flag::Condition(bits) => c.conditions.contains(engine::Conditions(bits)),
            Flag::Treatment(bits) => c.treatments.contains(engine::Treatments(bits)),
            Flag::FirstCvd => {
                c.conditions.contains(engine::Conditions::MI)
                    || c.conditions.contains(engine::Conditions::STROKE)
                    || c.conditions.contains(engine::Conditions::HEART_FAILURE)
            }
        }
    }

    /// Whether a history row of `measure` is an occurrence of the flag.
    pub(crate) fn matches(self, measure: &str) -> bool {
        match self {
            Flag::FirstCvd => matches!(
                measure,
                "hx_myocardial_infarction" | "hx_stroke" | "hx_heart_failure"
            ),
            f => f.name() == measure,
        }
    }
}
