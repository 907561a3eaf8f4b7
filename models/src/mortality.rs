//! Background mortality from the official life table, built so that disease modules can add
//! cause-specific excess hazards without counting the same deaths twice.
//!
//! The life table's all-cause hazard μ_LT(age, sex) already contains the deaths that disease
//! modules will model explicitly. A module that models cause c contributes, for each person,
//! a hazard μ_c,i(t) and declares the population cause-specific rate m_c(age, sex) that the
//! life table already holds for that cause; the background hazard is then
//! μ_bg = max(μ_LT − Σ_c m_c, 0), and each person's total hazard is μ_bg + Σ_c μ_c,i.
//! With no module declaring a cause (this release), μ_bg = μ_LT exactly. Multiplicative
//! modifiers (frailty, say) must be normalised so their mean at baseline is 1 in each
//! age-sex group. See docs/model.md.

use engine::math::DetMath;
use engine::Sex;

const EMBEDDED_2024: &str = include_str!("../data/mhlw_life_table_2024.csv");

/// Where a life table came from, for error messages.
pub const EMBEDDED_NAME: &str = "embedded MHLW 2024 abridged life table";

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum LifeTableError {
    #[error("{origin}, line {line}: {message}")]
    Malformed {
        origin: String,
        line: usize,
        message: String,
    },
    #[error("{origin}: {message}")]
    Incomplete { origin: String, message: String },
}

/// A period life table by sex and single year of age 0..=last_age (last age open-ended).
#[derive(Clone, Debug, PartialEq)]
pub struct LifeTable {
    /// `qx[sex][age]`: probability of dying between exact ages x and x+1.
    qx: [Vec<f64>; 2],
    /// `ex[sex][age]`: published life expectancy at exact age x.
    ex: [Vec<f64>; 2],
    /// Constant hazard per year by single year of age; the open last age uses 1/e_last.
    hazard: [Vec<f64>; 2],
}

impl LifeTable {
    /// The MHLW 2024 abridged life table (令和6年簡易生命表), embedded.
    pub fn mhlw_2024() -> LifeTable {
        // The embedded file is checked by tests; it cannot be malformed at run time.
        LifeTable::from_csv(EMBEDDED_2024, EMBEDDED_NAME).expect("embedded life table is valid")
    }

    /// Parses `sex,age,qx,lx,ex` rows (header required), ages 0..=last consecutive per sex.
    pub fn from_csv(text: &str, origin: &str) -> Result<LifeTable, LifeTableError> {
        let bad = |line: usize, message: String| LifeTableError::Malformed {
            origin: origin.to_string(),
            line,
            message,
        };
        let mut lines = text.lines().enumerate();
        let header = lines.next().map(|(_, l)| l.trim()).unwrap_or("");
        if header != "sex,age,qx,lx,ex" {
            return Err(bad(
                1,
                format!("expected header `sex,age,qx,lx,ex`, found `{header}`"),
            ));
        }
        let mut qx: [Vec<f64>; 2] = [Vec::new(), Vec::new()];
        let mut ex: [Vec<f64>; 2] = [Vec::new(), Vec::new()];
        for (i, line) in lines {
            let n = i + 1;
            if line.trim().is_empty() {
                continue;
            }
            let f: Vec<&str> = line.split(',').map(str::trim).collect();
            if f.len() != 5 {
                return Err(bad(n, format!("expected 5 fields, found {}", f.len())));
            }
            let sex = Sex::parse(f[0])
                .ok_or_else(|| bad(n, format!("field `sex`: `{}` is not male/female", f[0])))?;
            let age: usize = f[1]
                .parse()
                .map_err(|_| bad(n, format!("field `age`: `{}` is not a whole number", f[1])))?;
            let num = |k: usize, name: &str| -> Result<f64, LifeTableError> {
                f[k].parse::<f64>()
                    .ok()
                    .filter(|v| v.is_finite())
                    .ok_or_else(|| bad(n, format!("field `{name}`: `{}` is not a number", f[k])))
            };
            let q = num(2, "qx")?;
            let e = num(4, "ex")?;
            if !(0.0..=1.0).contains(&q) {
                return Err(bad(n, format!("field `qx`: {q} is not a probability")));
            }
            if e <= 0.0 {
                return Err(bad(n, format!("field `ex`: {e} must be positive")));
            }
            let s = sex.index();
            if age != qx[s].len() {
                return Err(bad(
                    n,
                    format!(
                        "field `age`: expected age {} for {}, found {age}",
                        qx[s].len(),
                        sex.name()
                    ),
                ));
            }
            qx[s].push(q);
            ex[s].push(e);
        }
        if qx[0].is_empty() || qx[0].len() != qx[1].len() {
            return Err(LifeTableError::Incomplete {
                origin: origin.to_string(),
                message: format!(
                    "needs the same ages for both sexes (male {}, female {})",
                    qx[0].len(),
                    qx[1].len()
                ),
            });
        }
        let hazard = [0, 1].map(|s| {
            let last = qx[s].len() - 1;
            (0..=last)
                .map(|x| {
                    if x == last {
                        1.0 / ex[s][last]
                    } else {
                        -(-qx[s][x]).ln_1p_det()
                    }
                })
                .collect::<Vec<f64>>()
        });
        Ok(LifeTable { qx, ex, hazard })
    }

    pub fn last_age(&self) -> usize {
        self.qx[0].len() - 1
    }

    /// All-cause hazard per year at (continuous) `age_years`: constant within each year of
    /// age (μ_x = −ln(1 − q_x)); at and beyond the open last age, 1/e_last, which keeps the
    /// table's mean remaining life there.
    #[inline]
    pub fn hazard(&self, sex: Sex, age_years: f64) -> f64 {
        let h = &self.hazard[sex.index()];
        let x = engine::math::floor_index(age_years, h.len() - 1);
        h[x]
    }

    pub fn qx(&self, sex: Sex, age: usize) -> f64 {
        self.qx[sex.index()][age]
    }

    /// Published life expectancy at exact age `age`.
    pub fn ex(&self, sex: Sex, age: usize) -> f64 {
        self.ex[sex.index()][age]
    }

    /// Life expectancy at exact age `age` recomputed from qx (linear lx within each year of
    /// age, last open interval from the published e_last), as the table itself computes it.
    pub fn life_expectancy(&self, sex: Sex, age: usize) -> f64 {
        let s = sex.index();
        let last = self.last_age();
        let mut l = 1.0;
        let mut total = 0.0;
        for x in age..last {
            let next = l * (1.0 - self.qx[s][x]);
            total += 0.5 * (l + next);
            l = next;
        }
        total + l * self.ex[s][last]
    }

    /// Canonical text of the table for the run's parameter hash.
    pub fn canonical(&self) -> String {
        let mut s = String::new();
        for sex in Sex::ALL {
            for (x, (q, e)) in self.qx[sex.index()]
                .iter()
                .zip(&self.ex[sex.index()])
                .enumerate()
            {
                s.push_str(&format!("{},{x},{q:?},{e:?}\n", sex.name()));
            }
        }
        s
    }
}

#[cfg(test)]
#[allow(clippy::disallowed_methods)] // the platform libm as a reference (clippy.toml)
mod tests {
    use super::*;

    #[test]
    fn embedded_table_reproduces_published_life_expectancy() {
        let t = LifeTable::mhlw_2024();
        assert_eq!(t.last_age(), 105);
        // MHLW 2024 summary: e0 81.09 / 87.13, e65 19.47 / 24.38.
        for (sex, e0, e65) in [(Sex::Male, 81.09, 19.47), (Sex::Female, 87.13, 24.38)] {
            assert!((t.life_expectancy(sex, 0) - e0).abs() < 0.01);
            assert!((t.life_expectancy(sex, 65) - e65).abs() < 0.01);
            assert_eq!(t.ex(sex, 65), e65);
        }
    }

    #[test]
    fn hazard_is_constant_within_a_year_of_age_and_matches_qx() {
        let t = LifeTable::mhlw_2024();
        let h = t.hazard(Sex::Female, 70.2);
        assert_eq!(h, t.hazard(Sex::Female, 70.99));
        assert!((1.0 - (-h).exp() - t.qx(Sex::Female, 70)).abs() < 1e-15);
        assert!((t.hazard(Sex::Male, 130.0) - 1.0 / t.ex(Sex::Male, 105)).abs() < 1e-15);
    }

    #[test]
    fn malformed_tables_name_line_and_field() {
        let err =
            LifeTable::from_csv("sex,age,qx,lx,ex\nmale,0,1.5,100000,80\n", "t.csv").unwrap_err();
        assert_eq!(
            err.to_string(),
            "t.csv, line 2: field `qx`: 1.5 is not a probability"
        );
        let err =
            LifeTable::from_csv("sex,age,qx,lx,ex\nmale,1,0.1,100000,80\n", "t.csv").unwrap_err();
        assert!(err
            .to_string()
            .contains("line 2: field `age`: expected age 0"));
        let err =
            LifeTable::from_csv("sex,age,qx,lx,ex\nman,0,0.1,100000,80\n", "t.csv").unwrap_err();
        assert!(err.to_string().contains("field `sex`"));
        assert!(LifeTable::from_csv("age,qx\n", "t.csv").is_err());
    }
}
