//! A projected population (IPSS 地域別将来推計人口 layout: residents by year, sex and 5-year
//! band, usually every five years) read from CSV and interpolated linearly to each fiscal
//! year of the plan; a plan with a projection reweights every year's results to it, cell by
//! cell (docs/planning.md, "Future population").
//!
//! Must never: echo a value of the input file in an error, or extrapolate beyond the years
//! given.

use std::collections::BTreeMap;
use std::path::Path;

use engine::observe::N_AGE_BANDS;

use crate::town::{csv_reason, parse_band, parse_sex, put_band};
use crate::PlanError;

/// Residents by calendar year, `[sex][band]` (NaN: band not projected).
#[derive(Clone, Debug, PartialEq)]
pub struct Projection {
    pub years: BTreeMap<i64, [[f64; N_AGE_BANDS]; 2]>,
}

impl Projection {
    pub fn read(path: &Path) -> Result<Projection, PlanError> {
        let file = path.display().to_string();
        let err = |line: u64, message: String| PlanError::Input {
            file: file.clone(),
            line,
            message,
        };
        let mut rdr = csv::ReaderBuilder::new()
            .trim(csv::Trim::All)
            .from_path(path)
            .map_err(|e| err(0, format!("cannot read: {}", csv_reason(&e))))?;
        let headers = rdr
            .headers()
            .map_err(|e| err(1, format!("cannot read the header: {}", csv_reason(&e))))?
            .clone();
        let col = |names: &[&str]| {
            headers.iter().position(|h| {
                names.contains(
                    &h.trim_start_matches('\u{feff}')
                        .to_ascii_lowercase()
                        .as_str(),
                )
            })
        };
        let (Some(c_year), Some(c_sex), Some(c_band), Some(c_count)) = (
            col(&["year", "年"]),
            col(&["sex", "性別"]),
            col(&["age_band", "age", "年齢", "年齢階級"]),
            col(&["count", "population", "人数", "人口"]),
        ) else {
            return Err(err(
                1,
                "expected the columns year, sex, age_band, count".into(),
            ));
        };
        let mut years: BTreeMap<i64, [[f64; N_AGE_BANDS]; 2]> = BTreeMap::new();
        for (i, rec) in rdr.records().enumerate() {
            let line = i as u64 + 2;
            let rec = rec.map_err(|e| err(line, format!("malformed row: {}", csv_reason(&e))))?;
            let field = |c: usize| rec.get(c).unwrap_or("");
            let year: i64 = field(c_year)
                .parse()
                .ok()
                .filter(|y| (2000..=2100).contains(y))
                .ok_or_else(|| err(line, "column `year`: expected a year 2000-2100".into()))?;
            let Some(Some(sex)) = parse_sex(field(c_sex)) else {
                return Err(err(line, "column `sex`: expected male or female".into()));
            };
            let Ok(Some((band, span))) = parse_band(field(c_band)) else {
                return Err(err(
                    line,
                    "column `age_band`: expected a 5-year band from 40-44 to 95-99, 90+ or 100+"
                        .into(),
                ));
            };
            let count: f64 = field(c_count)
                .replace(',', "")
                .parse()
                .ok()
                .filter(|x: &f64| x.is_finite() && *x >= 0.0 && *x <= 1e9)
                .ok_or_else(|| {
                    err(
                        line,
                        "column `count`: expected a number of residents".into(),
                    )
                })?;
            let row = &mut years.entry(year).or_insert([[f64::NAN; N_AGE_BANDS]; 2])[sex.index()];
            if !put_band(row, sex, band, span, count) {
                return Err(err(line, "this year, sex and band is given twice".into()));
            }
        }
        if years.is_empty() {
            return Err(err(0, "no rows".into()));
        }
        Ok(Projection { years })
    }

    /// The projected residents of calendar year `year`, interpolated linearly between the
    /// years given (a band missing in either neighbour stays NaN); `None` outside them.
    pub fn at(&self, year: i64) -> Option<[[f64; N_AGE_BANDS]; 2]> {
        if let Some(v) = self.years.get(&year) {
            return Some(*v);
        }
        let (y0, a) = self.years.range(..year).next_back()?;
        let (y1, b) = self.years.range(year..).next()?;
        let w = (year - y0) as f64 / (y1 - y0) as f64;
        let mut out = [[f64::NAN; N_AGE_BANDS]; 2];
        for s in 0..2 {
            for k in 0..N_AGE_BANDS {
                out[s][k] = a[s][k] * (1.0 - w) + b[s][k] * w;
            }
        }
        Some(out)
    }

    /// First and last year given.
    pub fn span(&self) -> (i64, i64) {
        (
            *self.years.keys().next().unwrap_or(&0),
            *self.years.keys().next_back().unwrap_or(&0),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn years_between_are_interpolated_and_outside_refused() {
        use std::io::Write;
        let mut f = tempfile::Builder::new().suffix(".csv").tempfile().unwrap();
        writeln!(f, "year,sex,age_band,count").unwrap();
        for (y, n) in [(2025, 100.0), (2030, 150.0)] {
            for s in ["male", "female"] {
                writeln!(f, "{y},{s},65-69,{n}").unwrap();
                writeln!(f, "{y},{s},90+,{n}").unwrap();
            }
        }
        let p = Projection::read(f.path()).unwrap();
        let mid = p.at(2027).unwrap();
        assert!((mid[0][13] - 120.0).abs() < 1e-9);
        assert!(mid[0][12].is_nan());
        let ninety: f64 = (18..21).map(|b| mid[1][b]).sum();
        assert!((ninety - 120.0).abs() < 1e-9);
        assert!(p.at(2024).is_none() && p.at(2031).is_none());
        assert_eq!(p.span(), (2025, 2030));
    }
}
