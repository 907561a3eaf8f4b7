//! Summaries across replicates: one value per replicate for each cell, reduced to a mean and
//! an empirical 95% interval (2.5th and 97.5th percentiles, linear interpolation).

use crate::observe::{cell_value, Acc, Aggregator, MetricDef, N_AGE_BANDS};
use crate::patient::Sex;

/// Which sexes a summary row covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SexLevel {
    One(Sex),
    All,
}

impl SexLevel {
    pub fn label(self) -> &'static str {
        match self {
            SexLevel::One(s) => s.name(),
            SexLevel::All => "all",
        }
    }
}

/// Which age bands a summary row covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BandLevel {
    One(usize),
    All,
}

/// One published row: a metric in one (year, sex, age band) with its spread over replicates.
#[derive(Clone, Debug, PartialEq)]
pub struct SummaryRow {
    pub year: u32,
    pub sex: SexLevel,
    pub band: BandLevel,
    pub metric: usize,
    pub mean: f64,
    pub lo95: f64,
    pub hi95: f64,
    pub sd: f64,
    /// Replicates in which the value is defined (non-empty denominator).
    pub replicates: u32,
}

/// Sum of the cells covered by (sex level, band level) for one year and metric.
pub fn collapse(
    agg: &Aggregator,
    year: usize,
    sex: SexLevel,
    band: BandLevel,
    metric: usize,
) -> Acc {
    let sexes: &[Sex] = match sex {
        SexLevel::One(Sex::Male) => &[Sex::Male],
        SexLevel::One(Sex::Female) => &[Sex::Female],
        SexLevel::All => &Sex::ALL,
    };
    let mut out = Acc::default();
    for &s in sexes {
        let bands = match band {
            BandLevel::One(b) => b..b + 1,
            BandLevel::All => 0..N_AGE_BANDS,
        };
        for b in bands {
            let a = agg.get(year, s, b, metric);
            out.num += a.num;
            out.den += a.den;
        }
    }
    out
}

/// Empirical quantile with linear interpolation (R type 7) of sorted values.
pub fn quantile_sorted(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let h = (sorted.len() - 1) as f64 * q;
    let lo = h.floor() as usize;
    let hi = h.ceil() as usize;
    sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
}

/// Mean, 95% interval and SD of one value over replicates (NaN-free input).
pub fn describe(values: &mut [f64]) -> (f64, f64, f64, f64) {
    values.sort_by(f64::total_cmp);
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let sd = if values.len() > 1 {
        (values.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / (n - 1.0)).sqrt()
    } else {
        0.0
    };
    (
        mean,
        quantile_sorted(values, 0.025),
        quantile_sorted(values, 0.975),
        sd,
    )
}

/// All rows for all (year, sex incl. all, band incl. all, metric) with data, in a fixed order.
/// Cells empty in every replicate (no one in that age band) are left out.
pub fn summarize(replicates: &[Aggregator], defs: &[MetricDef]) -> Vec<SummaryRow> {
    let Some(first) = replicates.first() else {
        return Vec::new();
    };
    let sex_levels = [
        SexLevel::All,
        SexLevel::One(Sex::Male),
        SexLevel::One(Sex::Female),
    ];
    let band_levels: Vec<BandLevel> = std::iter::once(BandLevel::All)
        .chain((0..N_AGE_BANDS).map(BandLevel::One))
        .collect();
    let mut rows = Vec::new();
    let mut values = Vec::with_capacity(replicates.len());
    for year in 0..first.years() {
        for &sex in &sex_levels {
            for &band in &band_levels {
                // Skip bands nobody lived in during the year in any replicate.
                let lived = replicates.iter().any(|a| {
                    collapse(a, year, sex, band, crate::observe::builtin::PERSON_YEARS).num > 0
                });
                if !lived {
                    continue;
                }
                for (m, def) in defs.iter().enumerate() {
                    values.clear();
                    values.extend(
                        replicates
                            .iter()
                            .filter_map(|a| cell_value(def.kind, collapse(a, year, sex, band, m))),
                    );
                    if values.is_empty() {
                        continue;
                    }
                    let n = values.len() as u32;
                    let (mean, lo95, hi95, sd) = describe(&mut values);
                    rows.push(SummaryRow {
                        year: year as u32,
                        sex,
                        band,
                        metric: m,
                        mean,
                        lo95,
                        hi95,
                        sd,
                        replicates: n,
                    });
                }
            }
        }
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_follow_type_7() {
        let v = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(quantile_sorted(&v, 0.0), 1.0);
        assert_eq!(quantile_sorted(&v, 1.0), 4.0);
        assert!((quantile_sorted(&v, 0.5) - 2.5).abs() < 1e-15);
        assert!((quantile_sorted(&v, 0.025) - 1.075).abs() < 1e-12);
    }
}
