//! One covariate filter for who a scenario's population holds (on baseline values) and who
//! a programme may enrol (on current simulated values): ranges of the continuous covariates
//! with the plausible bounds a range may give ([`BOUNDS`]), sex, smoking, and diagnoses
//! required or excluded.
//!
//! Must never: read model state beyond sex, age and the covariates (a programme's
//! conditions on disease states are the eligibility's own), or accept a filter whose ranges
//! are not numbers in order.

use engine::patient::{Conditions, Covariates, Sex};

/// An inclusive range `[lo, hi]`; either end may be open.
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub struct Range {
    pub lo: Option<f64>,
    pub hi: Option<f64>,
}

impl Range {
    #[inline]
    pub fn contains(&self, x: f64) -> bool {
        self.lo.is_none_or(|lo| x >= lo) && self.hi.is_none_or(|hi| x <= hi)
    }
}

/// A covariate a filter may bound: its name (the key in scenario files and errors, with the
/// unit) and the plausible bounds of a range on it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Bound {
    pub key: &'static str,
    pub lowest: f64,
    pub highest: f64,
}

/// The plausible bounds of each filtered covariate, in [`CovariateFilter::ranges`] order:
/// beyond them a bound is a typing or unit error, not a population. [A] (ranges of values
/// seen in adults, wide enough for any clinical cut-off).
pub const BOUNDS: [Bound; 7] = [
    Bound {
        key: "age",
        lowest: 0.0,
        highest: 120.0,
    },
    Bound {
        key: "bmi_kg_m2",
        lowest: 10.0,
        highest: 80.0,
    },
    Bound {
        key: "fpg_mg_dl",
        lowest: 30.0,
        highest: 600.0,
    },
    Bound {
        key: "hba1c_pct",
        lowest: 3.0,
        highest: 20.0,
    },
    Bound {
        key: "sbp_mmhg",
        lowest: 60.0,
        highest: 260.0,
    },
    Bound {
        key: "ldl_mg_dl",
        lowest: 10.0,
        highest: 400.0,
    },
    Bound {
        key: "frailty_index",
        lowest: 0.0,
        highest: 1.0,
    },
];

/// Who passes: every condition must hold; an open range or `None` is no condition.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct CovariateFilter {
    pub age: Range,
    pub bmi_kg_m2: Range,
    pub fpg_mg_dl: Range,
    pub hba1c_pct: Range,
    pub sbp_mmhg: Range,
    pub ldl_mg_dl: Range,
    pub frailty_index: Range,
    pub sex: Option<Sex>,
    pub smoker: Option<bool>,
    /// Diagnoses every person passing has.
    pub with: Conditions,
    /// Diagnoses no person passing has.
    pub without: Conditions,
}

/// A filter that cannot be applied: the key of the offending entry (`ldl_mg_dl.min`,
/// `without`) and why.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("`{key}`: {message}")]
pub struct FilterError {
    pub key: String,
    pub message: String,
}

impl CovariateFilter {
    pub fn is_empty(&self) -> bool {
        *self == CovariateFilter::default()
    }

    /// Whether a person of `sex` and age `age_years` with covariates `c` passes.
    #[inline]
    pub fn accepts(&self, sex: Sex, age_years: f64, c: &Covariates) -> bool {
        self.age.contains(age_years)
            && self.bmi_kg_m2.contains(c.bmi_kg_m2)
            && self.fpg_mg_dl.contains(c.fpg_mg_dl)
            && self.hba1c_pct.contains(c.hba1c_pct)
            && self.sbp_mmhg.contains(c.sbp_mmhg)
            && self.ldl_mg_dl.contains(c.ldl_mg_dl)
            && self.frailty_index.contains(c.frailty_index)
            && self.sex.is_none_or(|s| s == sex)
            && self.smoker.is_none_or(|s| s == c.smoker)
            && c.conditions.contains(self.with)
            && c.conditions.0 & self.without.0 == 0
    }

    /// The ranges, in [`BOUNDS`] order.
    pub fn ranges(&self) -> [&Range; 7] {
        [
            &self.age,
            &self.bmi_kg_m2,
            &self.fpg_mg_dl,
            &self.hba1c_pct,
            &self.sbp_mmhg,
            &self.ldl_mg_dl,
            &self.frailty_index,
        ]
    }

    /// The ranges, in [`BOUNDS`] order, to set.
    pub fn ranges_mut(&mut self) -> [&mut Range; 7] {
        [
            &mut self.age,
            &mut self.bmi_kg_m2,
            &mut self.fpg_mg_dl,
            &mut self.hba1c_pct,
            &mut self.sbp_mmhg,
            &mut self.ldl_mg_dl,
            &mut self.frailty_index,
        ]
    }

    /// Checks that the filter can be applied: every bound a finite number, no range with its
    /// minimum above its maximum, no diagnosis both required and excluded.
    pub fn check(&self) -> Result<(), FilterError> {
        self.check_ranges(|_, v| (!v.is_finite()).then(|| format!("{v} is not a finite number")))?;
        self.check_diagnoses()
    }

    /// [`Self::check`], and every bound within its covariate's plausible bounds
    /// ([`BOUNDS`]), which is what a scenario file may give.
    pub fn check_plausible(&self) -> Result<(), FilterError> {
        self.check_ranges(|b, v| {
            (!(v >= b.lowest && v <= b.highest)).then(|| {
                format!(
                    "{v} is outside the plausible range [{}, {}]",
                    b.lowest, b.highest
                )
            })
        })?;
        self.check_diagnoses()
    }

    /// Each range in [`BOUNDS`] order: its ends by `bad_end` (a message for a bad value),
    /// then their order.
    fn check_ranges(
        &self,
        bad_end: impl Fn(&Bound, f64) -> Option<String>,
    ) -> Result<(), FilterError> {
        for (b, r) in BOUNDS.iter().zip(self.ranges()) {
            for (end, v) in [("min", r.lo), ("max", r.hi)] {
                if let Some(message) = v.and_then(|v| bad_end(b, v)) {
                    return Err(FilterError {
                        key: format!("{}.{end}", b.key),
                        message,
                    });
                }
            }
            if let (Some(lo), Some(hi)) = (r.lo, r.hi) {
                if lo > hi {
                    return Err(FilterError {
                        key: b.key.to_string(),
                        message: format!("min {lo} is above max {hi}"),
                    });
                }
            }
        }
        Ok(())
    }

    fn check_diagnoses(&self) -> Result<(), FilterError> {
        if self.with.0 & self.without.0 != 0 {
            return Err(FilterError {
                key: "without".into(),
                message: "a diagnosis is both required (`with`) and excluded (`without`): \
                          nobody can pass"
                    .into(),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_name_the_ranges_in_order() {
        let mut f = CovariateFilter::default();
        for (i, r) in f.ranges_mut().into_iter().enumerate() {
            r.lo = Some(i as f64);
        }
        assert_eq!(f.ldl_mg_dl.lo, Some(5.0));
        assert_eq!(BOUNDS[5].key, "ldl_mg_dl");
        assert_eq!(f.ranges()[6].lo, Some(6.0));
    }

    #[test]
    fn checks_name_the_offending_entry() {
        let mut f = CovariateFilter::default();
        assert!(f.is_empty() && f.check_plausible().is_ok());
        f.sbp_mmhg = Range {
            lo: Some(150.0),
            hi: Some(140.0),
        };
        assert_eq!(f.check().unwrap_err().key, "sbp_mmhg");
        f.sbp_mmhg.lo = Some(f64::NAN);
        assert_eq!(f.check().unwrap_err().key, "sbp_mmhg.min");
        f.sbp_mmhg = Range {
            lo: None,
            hi: Some(900.0),
        };
        assert!(f.check().is_ok());
        let e = f.check_plausible().unwrap_err();
        assert_eq!(e.key, "sbp_mmhg.max");
        assert!(
            e.message.contains("plausible range [60, 260]"),
            "{}",
            e.message
        );
        f.sbp_mmhg = Range::default();
        f.with = Conditions::DIABETES;
        f.without = Conditions::DIABETES;
        assert_eq!(f.check().unwrap_err().key, "without");
    }

    #[test]
    fn a_person_passes_when_every_condition_holds() {
        let c = Covariates::from_parts(
            [
                24.0, 110.0, 6.0, 150.0, 90.0, 200.0, 50.0, 130.0, 70.0, 6000.0, 0.1,
            ],
            true,
            Conditions::HYPERTENSION,
            Default::default(),
        );
        let mut f = CovariateFilter {
            sbp_mmhg: Range {
                lo: Some(140.0),
                hi: None,
            },
            smoker: Some(true),
            with: Conditions::HYPERTENSION,
            ..Default::default()
        };
        assert!(f.accepts(Sex::Male, 60.0, &c));
        f.sex = Some(Sex::Female);
        assert!(!f.accepts(Sex::Male, 60.0, &c));
        f.sex = None;
        f.without = Conditions::DIABETES;
        assert!(f.accepts(Sex::Male, 60.0, &c));
        f.frailty_index.hi = Some(0.05);
        assert!(!f.accepts(Sex::Male, 60.0, &c));
    }
}
