//! Federated calibration: each site summarises its own import into aggregate cells
//! (`healthtwin calibrate summarize`), writes only counts, sums and sums of squares per
//! cell with every cell under the disclosure threshold suppressed, and a coordinator fits
//! one parameter set (or a shared set plus per-site offsets) to several sites' files.
//! No row, identifier, pseudonym or date leaves a site; a cell is written only if it has
//! at least `threshold` people and, for events, no event count between 1 and
//! `threshold − 1`.
//!
//! Must never: write a cell under the threshold, or read a summary file that holds one.

use std::path::Path;

use serde::Deserialize;

use crate::empirical::{CellKey, CellStat, CellSums, Summary};
use crate::CalibrationError;

/// The default disclosure threshold: cells of fewer than 10 people are suppressed ([A]: the
/// common minimum cell size of official statistics, e.g. the NDB open data's rule of
/// suppressing counts under 10).
pub const DEFAULT_THRESHOLD: u64 = 10;

/// A site's summary as written: cells that pass the threshold, and how many did not.
#[derive(Clone, Debug, PartialEq)]
pub struct SiteSummary {
    pub site: String,
    pub threshold: u64,
    pub summary: Summary,
    pub suppressed: usize,
}

/// Whether a cell may leave the site.
pub fn disclosable(c: &CellSums, threshold: u64) -> bool {
    c.n >= threshold && (c.events == 0 || c.events >= threshold)
}

/// Suppresses every cell under the threshold.
pub fn suppress(site: &str, summary: &Summary, threshold: u64) -> SiteSummary {
    let mut kept = Summary {
        cells: Default::default(),
        horizon_years: summary.horizon_years,
    };
    let mut suppressed = 0;
    for (k, c) in &summary.cells {
        if disclosable(c, threshold) {
            kept.cells.insert(k.clone(), *c);
        } else {
            suppressed += 1;
        }
    }
    SiteSummary {
        site: site.to_string(),
        threshold,
        summary: kept,
        suppressed,
    }
}

const HEADER: &str = "site,horizon_years,threshold,statistic,measure,band_lo,band_hi,sex,age_lo,age_hi,n,sum,sumsq,events,person_years";

fn site_ok(site: &str) -> bool {
    !site.is_empty()
        && site.len() <= 40
        && site
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

impl SiteSummary {
    /// The summary file's text (CSV, one row per disclosed cell; numbers in shortest
    /// round-trip form).
    pub fn to_csv(&self) -> String {
        let mut s = String::from(HEADER);
        s.push('\n');
        for (k, c) in &self.summary.cells {
            let (statistic, measure, lo, hi) = match &k.stat {
                CellStat::Change {
                    covariate,
                    band_lo,
                    band_hi,
                } => (
                    "change_per_year",
                    covariate.as_str(),
                    format!("{:?}", *band_lo as f64 / 100.0),
                    format!("{:?}", *band_hi as f64 / 100.0),
                ),
                CellStat::Event { flag } => {
                    ("event_rate", flag.as_str(), String::new(), String::new())
                }
            };
            let sex = if k.sex == 0 { "male" } else { "female" };
            s.push_str(&format!(
                "{},{},{},{statistic},{measure},{lo},{hi},{sex},{},{},{},{:?},{:?},{},{:?}\n",
                self.site,
                self.summary.horizon_years,
                self.threshold,
                k.age_lo,
                k.age_hi,
                c.n,
                c.sum,
                c.sumsq,
                c.events,
                c.person_years
            ));
        }
        s
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Row {
    site: String,
    horizon_years: u32,
    threshold: u64,
    statistic: String,
    measure: String,
    band_lo: Option<f64>,
    band_hi: Option<f64>,
    sex: String,
    age_lo: u32,
    age_hi: u32,
    n: u64,
    sum: f64,
    sumsq: f64,
    events: u64,
    person_years: f64,
}

/// Reads a site summary file; refuses one that holds a cell under its threshold or mixes
/// sites or horizons. Errors name the file, the record and the field.
pub fn read(path: &Path) -> Result<SiteSummary, CalibrationError> {
    let file = path.display().to_string();
    let bad = |message: String| CalibrationError::Input {
        file: file.clone(),
        message,
    };
    let text = std::fs::read_to_string(path).map_err(|e| bad(format!("cannot read: {e}")))?;
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let mut out: Option<SiteSummary> = None;
    for (i, row) in reader.deserialize::<Row>().enumerate() {
        let rec = i + 1;
        let row = row.map_err(|e| bad(format!("record {rec}: {e}")))?;
        if !site_ok(&row.site) {
            return Err(bad(format!(
                "record {rec}, field site: a site name is 1-40 letters, digits, `_` or `-`"
            )));
        }
        let s = out.get_or_insert_with(|| SiteSummary {
            site: row.site.clone(),
            threshold: row.threshold,
            summary: Summary {
                cells: Default::default(),
                horizon_years: row.horizon_years,
            },
            suppressed: 0,
        });
        if row.site != s.site
            || row.threshold != s.threshold
            || row.horizon_years != s.summary.horizon_years
        {
            return Err(bad(format!(
                "record {rec}: site, threshold and horizon_years must be the same on every row"
            )));
        }
        let sums = CellSums {
            n: row.n,
            sum: row.sum,
            sumsq: row.sumsq,
            events: row.events,
            person_years: row.person_years,
        };
        if row.threshold < 2 {
            return Err(bad(format!(
                "record {rec}, field threshold: must be at least 2"
            )));
        }
        if !disclosable(&sums, row.threshold) {
            return Err(bad(format!(
                "record {rec}, fields n/events: a cell under the disclosure threshold {} (refused: \
                 summaries must suppress such cells)",
                row.threshold
            )));
        }
        if ![row.sum, row.sumsq, row.person_years]
            .iter()
            .all(|v| v.is_finite())
            || row.person_years < 0.0
            || row.sumsq < 0.0
        {
            return Err(bad(format!(
                "record {rec}: sum, sumsq and person_years must be finite (≥ 0 for the last two)"
            )));
        }
        let sex = match row.sex.as_str() {
            "male" => 0,
            "female" => 1,
            _ => return Err(bad(format!("record {rec}, field sex: male or female"))),
        };
        let stat = match row.statistic.as_str() {
            "change_per_year" => {
                if engine::observe::builtin::covariate(&row.measure).is_none() {
                    return Err(bad(format!(
                        "record {rec}, field measure: not a continuous covariate"
                    )));
                }
                let (Some(lo), Some(hi)) = (row.band_lo, row.band_hi) else {
                    return Err(bad(format!(
                        "record {rec}: band_lo and band_hi are needed for a change"
                    )));
                };
                CellStat::Change {
                    covariate: row.measure,
                    band_lo: (lo * 100.0).round() as i64,
                    band_hi: (hi * 100.0).round() as i64,
                }
            }
            "event_rate" => {
                if crate::empirical::Flag::parse(&row.measure).is_none() {
                    return Err(bad(format!(
                        "record {rec}, field measure: not an event flag"
                    )));
                }
                CellStat::Event { flag: row.measure }
            }
            _ => {
                return Err(bad(format!(
                    "record {rec}, field statistic: change_per_year or event_rate"
                )))
            }
        };
        let key = CellKey {
            stat,
            sex,
            age_lo: row.age_lo,
            age_hi: row.age_hi,
        };
        if s.summary.cells.insert(key, sums).is_some() {
            return Err(bad(format!("record {rec}: the same cell appears twice")));
        }
    }
    out.ok_or_else(|| bad("the summary has no cells".into()))
}

/// Merges several sites' summaries (their cells added); horizons must agree.
pub fn merge(sites: &[SiteSummary]) -> Result<Summary, CalibrationError> {
    let mut out = Summary::default();
    for (i, s) in sites.iter().enumerate() {
        if i > 0 && s.summary.horizon_years != out.horizon_years {
            return Err(CalibrationError::Setup(format!(
                "site {}: horizon {} years, other sites {} (summarise every site with the same --years)",
                s.site, s.summary.horizon_years, out.horizon_years
            )));
        }
        out.horizon_years = s.summary.horizon_years;
        out.merge(&s.summary);
    }
    Ok(out)
}
