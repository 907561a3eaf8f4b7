//! The town's residents by sex and 5-year age band: read from the resident register's counts
//! (CSV), or Japan's structure (or a given one) scaled to a population size; bands the plan
//! needs but the file lacks are filled from the national structure, said in a note.
//!
//! Bands are the engine's (`engine::observe::age_band`): index 8 = 40-44 … 18 = 90-94,
//! 19 = 95-99, 20 = 100+. A file's open band 90+ is split over 90-94, 95-99 and 100+ in the
//! national proportions of each sex.
//!
//! Must never: echo a value of the input file in an error (errors name the file, the line
//! and the column only), or accept a count it cannot use.

use std::path::Path;

use engine::observe::N_AGE_BANDS;
use engine::Sex;

use crate::PlanError;

/// First band a plan reads (40-44).
pub const FIRST_BAND: usize = 8;
/// The 90-94 band (90+ is split from here).
pub const BAND_90: usize = 18;

/// Japan's population on 2022-10-01 by sex (male, female) and 5-year band 90-94, 95-99,
/// 100+, thousands: 総務省統計局 人口推計, reprinted by IPSS 人口統計資料集2024 表2-2 [V]
/// (shared/science/japan_population.md §1). Bands 40-89 are `cohort::japan::POPULATION_2022_THOUSANDS` (from its 5th band: it starts at 20).
pub const POPULATION_90_PLUS_THOUSANDS: [[f64; 3]; 2] =
    [[560.0, 111.0, 10.0], [1429.0, 449.0, 77.0]];
/// The same table's total of all ages by sex, thousands [V].
pub const POPULATION_ALL_AGES_THOUSANDS: [f64; 2] = [60_758.0, 64_189.0];

/// Japan's population by sex and band (thousands), bands 40-44 … 100+ (0 below 40).
pub fn national() -> [[f64; N_AGE_BANDS]; 2] {
    let mut out = [[0.0; N_AGE_BANDS]; 2];
    for (s, row) in out.iter_mut().enumerate() {
        // The table starts at 20-24 (band 4); a town is its residents 40+.
        for (i, v) in cohort::japan::POPULATION_2022_THOUSANDS[s]
            .iter()
            .enumerate()
            .skip(FIRST_BAND - 4)
        {
            row[4 + i] = *v;
        }
        for (i, v) in POPULATION_90_PLUS_THOUSANDS[s].iter().enumerate() {
            row[BAND_90 + i] = *v;
        }
    }
    out
}

/// Where the counts come from.
#[derive(Clone, Debug, PartialEq)]
pub enum Origin {
    Register,
    National { population: f64 },
    Scaled { population: f64, all_ages: bool },
}

/// The residents of a town by sex and band.
#[derive(Clone, Debug, PartialEq)]
pub struct Town {
    /// `[male, female][band]`, residents (0 below 40 and in bands not given).
    pub counts: [[f64; N_AGE_BANDS]; 2],
    pub origin: Origin,
    /// Bands filled from the national structure because the file starts above them.
    pub filled: Vec<usize>,
    /// The first band the input covered.
    pub first_band: usize,
}

impl Town {
    /// Japan's structure scaled to `population` residents of all ages.
    pub fn national(population: f64) -> Town {
        let nat = national();
        let total: f64 = POPULATION_ALL_AGES_THOUSANDS.iter().sum();
        let mut counts = [[0.0; N_AGE_BANDS]; 2];
        for s in 0..2 {
            for b in FIRST_BAND..N_AGE_BANDS {
                counts[s][b] = nat[s][b] / total * population;
            }
        }
        Town {
            counts,
            origin: Origin::National { population },
            filled: Vec::new(),
            first_band: FIRST_BAND,
        }
    }

    /// The resident register's counts (CSV: `sex,age_band,count`).
    pub fn read_register(path: &Path) -> Result<Town, PlanError> {
        let f = read_counts(path, false)?;
        Ok(Town {
            counts: f.counts,
            origin: Origin::Register,
            filled: Vec::new(),
            first_band: f.first_band,
        })
    }

    /// A structure file scaled to `population` residents: of all ages (the file's `total`
    /// rows give the denominator) or of the bands listed.
    pub fn read_scaled(path: &Path, population: f64, all_ages: bool) -> Result<Town, PlanError> {
        let f = read_counts(path, all_ages)?;
        let denominator = if all_ages {
            f.total.ok_or_else(|| PlanError::Input {
                file: path.display().to_string(),
                line: 0,
                message: "population_covers = \"all_ages\" needs rows with age_band = total \
                          (the structure's residents of all ages)"
                    .into(),
            })?
        } else {
            f.counts.iter().flatten().sum()
        };
        if denominator <= 0.0 {
            return Err(PlanError::Input {
                file: path.display().to_string(),
                line: 0,
                message: "the structure's counts sum to zero".into(),
            });
        }
        let mut counts = f.counts;
        for v in counts.iter_mut().flatten() {
            *v *= population / denominator;
        }
        Ok(Town {
            counts,
            origin: Origin::Scaled {
                population,
                all_ages,
            },
            filled: Vec::new(),
            first_band: f.first_band,
        })
    }

    /// Residents of `sex` in `band`.
    pub fn count(&self, sex: Sex, band: usize) -> f64 {
        self.counts[sex.index()][band]
    }

    /// Residents in the bands from `band` up (both sexes).
    pub fn from_band(&self, band: usize) -> f64 {
        self.counts
            .iter()
            .map(|row| row[band..].iter().sum::<f64>())
            .sum()
    }

    /// Fills the bands from `need` below the file's first band from the national structure,
    /// scaled by sex to the first band given (a register of 65+ lacks the people who turn 65
    /// during the plan). Returns whether anything was filled.
    pub fn fill_below(&mut self, need: usize) -> bool {
        if need >= self.first_band {
            return false;
        }
        let nat = national();
        let first = self.first_band;
        for (row, nat) in self.counts.iter_mut().zip(&nat) {
            let ratio = row[first] / nat[first];
            for (c, n) in row[need..first].iter_mut().zip(&nat[need..first]) {
                *c = n * ratio;
            }
        }
        self.filled = (need..self.first_band).collect();
        self.first_band = need;
        true
    }
}

/// A counts file as read.
struct Counts {
    counts: [[f64; N_AGE_BANDS]; 2],
    first_band: usize,
    total: Option<f64>,
}

/// A band label: `40-44` (also `40〜44`, `40～44`), the open bands `90+` / `100+` (also
/// `90以上`, `90-`), or `total` (also `all`, `総数`, `計`). Returns the first band and how
/// many engine bands it covers (open 90+: 3), or `None` for a total.
pub(crate) fn parse_band(s: &str) -> Result<Option<(usize, usize)>, ()> {
    let t = s.trim();
    if ["total", "all", "総数", "計", "合計"].contains(&t.to_ascii_lowercase().as_str()) {
        return Ok(None);
    }
    let num = |x: &str| x.trim().parse::<u32>().map_err(|_| ());
    let open = t
        .strip_suffix('+')
        .or_else(|| t.strip_suffix("以上"))
        .or_else(|| t.strip_suffix("歳以上"))
        .or_else(|| t.strip_suffix('-'));
    if let Some(a) = open {
        let a = num(a.trim_end_matches('歳'))?;
        return match a {
            90 => Ok(Some((BAND_90, 3))),
            100 => Ok(Some((20, 1))),
            _ => Err(()),
        };
    }
    let t = t.replace(['〜', '～', '~'], "-").replace('歳', "");
    let (a, b) = t.split_once('-').ok_or(())?;
    let (a, b) = (num(a)?, num(b)?);
    if a % 5 != 0 || b != a + 4 || !(40..=95).contains(&a) {
        return Err(());
    }
    Ok(Some(((a / 5) as usize, 1)))
}

pub(crate) fn parse_sex(s: &str) -> Option<Option<Sex>> {
    match s.trim().to_ascii_lowercase().as_str() {
        "male" | "m" | "男" | "男性" => Some(Some(Sex::Male)),
        "female" | "f" | "女" | "女性" => Some(Some(Sex::Female)),
        "total" | "both" | "all" | "計" | "総数" | "男女計" => Some(None),
        _ => None,
    }
}

fn read_counts(path: &Path, totals_allowed: bool) -> Result<Counts, PlanError> {
    let file = path.display().to_string();
    let err = |line: u64, message: String| PlanError::Input {
        file: file.clone(),
        line,
        message,
    };
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(false)
        .trim(csv::Trim::All)
        .from_path(path)
        .map_err(|e| err(0, format!("cannot read: {}", csv_reason(&e))))?;
    let headers = rdr
        .headers()
        .map_err(|e| err(1, format!("cannot read the header: {}", csv_reason(&e))))?
        .clone();
    let col = |names: &[&str]| {
        headers.iter().position(|h| {
            let h = h.trim_start_matches('\u{feff}').to_ascii_lowercase();
            names.contains(&h.as_str())
        })
    };
    let (Some(c_sex), Some(c_band), Some(c_count)) = (
        col(&["sex", "性別"]),
        col(&["age_band", "age", "年齢", "年齢階級"]),
        col(&["count", "population", "人数", "人口"]),
    ) else {
        return Err(err(
            1,
            "expected the columns sex, age_band, count (sex: male/female; age_band: 40-44 … \
             85-89, 90+ or 90-94, 95-99, 100+; count: residents)"
                .into(),
        ));
    };
    let mut counts = [[f64::NAN; N_AGE_BANDS]; 2];
    let mut total = None::<f64>;
    let mut rows = 0usize;
    for (i, rec) in rdr.records().enumerate() {
        let line = i as u64 + 2;
        let rec = rec.map_err(|e| err(line, format!("malformed row: {}", csv_reason(&e))))?;
        let field = |c: usize| rec.get(c).unwrap_or("");
        let sex = parse_sex(field(c_sex)).ok_or_else(|| {
            err(
                line,
                "column `sex`: expected male or female (or total with age_band total)".into(),
            )
        })?;
        let band = parse_band(field(c_band)).map_err(|()| {
            err(
                line,
                "column `age_band`: expected a 5-year band from 40-44 to 95-99, 90+ or 100+, or \
                 total"
                    .into(),
            )
        })?;
        let count: f64 = field(c_count)
            .replace(',', "")
            .parse()
            .ok()
            .filter(|x: &f64| x.is_finite() && *x >= 0.0 && *x <= 1e9)
            .ok_or_else(|| {
                err(
                    line,
                    "column `count`: expected a number of residents, 0 to 1,000,000,000".into(),
                )
            })?;
        rows += 1;
        match (sex, band) {
            (_, None) => {
                if !totals_allowed {
                    return Err(err(
                        line,
                        "a total row: only a structure scaled with population_covers = \
                         \"all_ages\" takes one (a register lists its bands)"
                            .into(),
                    ));
                }
                *total.get_or_insert(0.0) += count;
            }
            (None, Some(_)) => {
                return Err(err(
                    line,
                    "column `sex`: total applies to the total row only; give male and female \
                     per band"
                        .into(),
                ))
            }
            (Some(sex), Some((band, span))) => {
                if !put_band(&mut counts[sex.index()], sex, band, span, count) {
                    return Err(err(line, "this sex and age band is given twice".into()));
                }
            }
        }
    }
    if rows == 0 {
        return Err(err(0, "no rows".into()));
    }
    // The bands given: the same for both sexes, contiguous up to 100+.
    let given = |s: usize| -> Vec<usize> {
        (0..N_AGE_BANDS)
            .filter(|&b| !counts[s][b].is_nan())
            .collect()
    };
    let (m, f) = (given(0), given(1));
    if m.is_empty() || m != f {
        return Err(err(
            0,
            "male and female must list the same age bands (each band once per sex)".into(),
        ));
    }
    let first = m[0];
    if m != (first..N_AGE_BANDS).collect::<Vec<_>>() {
        return Err(err(
            0,
            "the age bands must run without gaps from the first one to the open band (90+, or \
             90-94, 95-99 and 100+)"
                .into(),
        ));
    }
    if first > 13 {
        return Err(err(
            0,
            "the bands must start at 65-69 or younger (40+ or 65+ residents)".into(),
        ));
    }
    for row in counts.iter_mut() {
        for v in row.iter_mut() {
            if v.is_nan() {
                *v = 0.0;
            }
        }
    }
    Ok(Counts {
        counts,
        first_band: first,
        total,
    })
}

/// A CSV error's reason without the record it came from (never echo input data).
pub(crate) fn csv_reason(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::Io(io) => io.to_string(),
        csv::ErrorKind::Utf8 { .. } => "not UTF-8 text".into(),
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!("{len} fields where the header has {expected_len}"),
        _ => "not a CSV file".into(),
    }
}

/// Puts `count` residents of `sex` into `row[band..band + span]`, a band of 90+ split in the
/// national proportions of that sex; `false` (nothing written) if a cell of it is already
/// given.
pub(crate) fn put_band(
    row: &mut [f64; N_AGE_BANDS],
    sex: Sex,
    band: usize,
    span: usize,
    count: f64,
) -> bool {
    if row[band..band + span].iter().any(|v| !v.is_nan()) {
        return false;
    }
    if span == 1 {
        row[band] = count;
    } else {
        let nat = POPULATION_90_PLUS_THOUSANDS[sex.index()];
        let sum: f64 = nat.iter().sum();
        for (k, n) in nat.iter().enumerate() {
            row[band + k] = count * n / sum;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(text: &str) -> tempfile::NamedTempFile {
        use std::io::Write;
        let mut f = tempfile::Builder::new().suffix(".csv").tempfile().unwrap();
        f.write_all(text.as_bytes()).unwrap();
        f
    }

    fn register(bands: &[&str]) -> String {
        let mut s = String::from("sex,age_band,count\n");
        for sex in ["male", "female"] {
            for (i, b) in bands.iter().enumerate() {
                s.push_str(&format!("{sex},{b},{}\n", 100 + i));
            }
        }
        s
    }

    #[test]
    fn a_register_of_65_plus_with_an_open_band_is_read_and_split() {
        let f = write(&register(&[
            "65-69", "70-74", "75-79", "80-84", "85-89", "90+",
        ]));
        let t = Town::read_register(f.path()).unwrap();
        assert_eq!(t.first_band, 13);
        assert_eq!(t.count(Sex::Male, 13), 100.0);
        let ninety: f64 = (18..21).map(|b| t.count(Sex::Female, b)).sum();
        assert!((ninety - 105.0).abs() < 1e-9);
        assert!(t.count(Sex::Female, 18) > t.count(Sex::Female, 19));
        assert_eq!(
            t.from_band(13),
            2.0 * (100.0 + 101.0 + 102.0 + 103.0 + 104.0 + 105.0)
        );
    }

    #[test]
    fn filling_young_bands_follows_the_national_ratios() {
        let f = write(&register(&[
            "65-69", "70-74", "75-79", "80-84", "85-89", "90+",
        ]));
        let mut t = Town::read_register(f.path()).unwrap();
        assert!(t.fill_below(11));
        assert_eq!(t.filled, vec![11, 12]);
        let nat = national();
        let want = 100.0 * nat[0][12] / nat[0][13];
        assert!((t.count(Sex::Male, 12) - want).abs() < 1e-9);
        assert!(!t.fill_below(12));
    }

    #[test]
    fn bad_files_name_the_line_without_echoing_the_value() {
        let f = write("sex,age_band,count\nmale,65-69,12\nfemale,65-69,secret-name\n");
        let e = Town::read_register(f.path()).unwrap_err().to_string();
        assert!(e.contains(":3:") && e.contains("count"), "{e}");
        assert!(!e.contains("secret"), "{e}");
        let f = write("sex,age_band,count\nmale,65-68,12\n");
        let e = Town::read_register(f.path()).unwrap_err().to_string();
        assert!(e.contains(":2:") && e.contains("age_band"), "{e}");
        let f = write("sex,age_band,count\nmale,65-69,12\nfemale,70-74,3\n");
        let e = Town::read_register(f.path()).unwrap_err().to_string();
        assert!(e.contains("same age bands"), "{e}");
        let f = write("gender,band,n\nmale,65-69,1\n");
        assert!(Town::read_register(f.path()).is_err());
    }

    #[test]
    fn the_national_structure_has_the_national_shares() {
        let t = Town::national(124_947.0);
        // Thousands become people one to one.
        assert!((t.count(Sex::Female, 17) - 2525.0).abs() < 1e-6);
        // The published 65+ total (36,237 thousand); the bands, each rounded to thousands,
        // sum to 36,233.
        assert!(
            (t.from_band(13) - 36_237.0).abs() < 10.0,
            "{}",
            t.from_band(13)
        );
    }
}
