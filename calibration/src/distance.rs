//! The distance between simulated and published targets: the weighted root-mean-square
//! z-score, sqrt(Σ wᵢ zᵢ² / Σ wᵢ) with zᵢ = (simulatedᵢ − publishedᵢ) / seᵢ. A distance of 1
//! means the targets are missed by one standard error on average; a target the run could
//! not compute (an empty denominator) makes the distance infinite.
//!
//! Must never: weigh a target by anything but its file's weight and uncertainty.

use crate::targets::Target;

#[derive(Clone, Debug)]
pub struct Distance {
    value: Vec<f64>,
    se: Vec<f64>,
    weight: Vec<f64>,
}

impl Distance {
    pub fn new(targets: &[Target]) -> Distance {
        Distance {
            value: targets.iter().map(|t| t.value).collect(),
            se: targets.iter().map(|t| t.se).collect(),
            weight: targets.iter().map(|t| t.weight).collect(),
        }
    }

    /// zᵢ of each target (NaN where the statistic is undefined).
    pub fn z(&self, stats: &[f64]) -> Vec<f64> {
        stats
            .iter()
            .zip(&self.value)
            .zip(&self.se)
            .map(|((s, v), se)| (s - v) / se)
            .collect()
    }

    pub fn of(&self, stats: &[f64]) -> f64 {
        let (mut num, mut den) = (0.0, 0.0);
        for (z, w) in self.z(stats).into_iter().zip(&self.weight) {
            if *w == 0.0 {
                continue;
            }
            if !z.is_finite() {
                return f64::INFINITY;
            }
            num += w * z * z;
            den += w;
        }
        if den == 0.0 {
            0.0
        } else {
            (num / den).sqrt()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::targets::{RawTarget, SexSel, TargetKind};

    fn target(value: f64, se: f64, weight: f64) -> Target {
        RawTarget {
            name: format!("t{value}"),
            statistic: "prevalence".into(),
            metric: Some("m".into()),
            sex: SexSel::All,
            ages: None,
            years: None,
            value,
            se: Some(se),
            ci: None,
            source: "s".into(),
            weight,
            kind: TargetKind::Published,
            note: None,
            denominator: None,
            scale: None,
            from: None,
            to: None,
            exclude_facility: None,
            exclude_certified: None,
            measure: None,
            at_least: None,
            band: None,
        }
        .resolve("f")
        .unwrap()
    }

    #[test]
    fn distance_is_the_weighted_rms_z() {
        let d = Distance::new(&[target(10.0, 2.0, 1.0), target(5.0, 1.0, 3.0)]);
        // z = 1 and 2: sqrt((1 + 3·4) / 4).
        assert!((d.of(&[12.0, 7.0]) - (13.0f64 / 4.0).sqrt()).abs() < 1e-12);
        assert_eq!(d.of(&[10.0, 5.0]), 0.0);
        assert_eq!(d.of(&[f64::NAN, 5.0]), f64::INFINITY);
        let zero_weight = Distance::new(&[target(10.0, 2.0, 0.0), target(5.0, 1.0, 1.0)]);
        assert_eq!(zero_weight.of(&[f64::NAN, 6.0]), 1.0);
    }
}
