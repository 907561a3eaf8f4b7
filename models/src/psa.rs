//! Parameter uncertainty for probabilistic sensitivity analysis: the parameters redrawn in
//! every replicate of `healthtwin compare --psa`, each with the distribution implied by its
//! published 95% confidence interval.
//!
//! Ratios (hazard ratios, relative risks) are log-normal: median = the point estimate,
//! σ = (ln hi − ln lo) / (2 × 1.96). Only parameters whose source gives an interval are here;
//! calibrated parameters ([C]) and assumptions ([A]) carry no published interval and stay
//! fixed (their uncertainty is structural: see docs/validation.md).

use crate::params::{ParamDraw, Uncertainty};

/// σ of a log-normal whose 95% interval is (`lo`, `hi`).
fn log_sigma(lo: f64, hi: f64) -> f64 {
    (hi.ln() - lo.ln()) / (2.0 * 1.959_963_984_540_054)
}

fn ratio(name: &str, median: f64, lo: f64, hi: f64) -> ParamDraw {
    ParamDraw {
        name: name.to_string(),
        uncertainty: Uncertainty::LogNormal {
            median,
            sigma: log_sigma(lo, hi),
        },
    }
}

/// The default PSA draws, with sources (the same as the parameters' own).
pub fn default_draws() -> Vec<ParamDraw> {
    vec![
        // Kojima 2018 Age Ageing 47:193: 1.039 (1.033-1.044) per 0.01 FI.
        ratio("fr.mortality.hr_per_0.01_fi", 1.039, 1.033, 1.044),
        // Ettehad 2016 Lancet 387:957, per 10 mmHg SBP lowering.
        ratio("cvd.effect.rr_chd_per_10_mmhg", 0.83, 0.78, 0.88),
        ratio("cvd.effect.rr_stroke_per_10_mmhg", 0.73, 0.68, 0.77),
        ratio("cvd.effect.rr_hf_per_10_mmhg", 0.72, 0.67, 0.78),
        // CTT 2005 Lancet 366:1267, per 1.0 mmol/L LDL lowering.
        ratio("cvd.effect.rr_chd_per_mmol", 0.77, 0.74, 0.80),
        ratio("cvd.effect.rr_ischaemic_stroke_per_mmol", 0.83, 0.78, 0.88),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mortality::LifeTable;
    use crate::HealthModel;

    #[test]
    fn every_draw_names_a_parameter_and_centres_on_its_default() {
        let m = HealthModel::new(LifeTable::mhlw_2024());
        for d in default_draws() {
            let v = m.params().get(&d.name).expect("known parameter");
            match d.uncertainty {
                Uncertainty::LogNormal { median, sigma } => {
                    assert_eq!(median, v, "{}", d.name);
                    assert!(sigma > 0.0 && sigma < 0.1, "{}: {sigma}", d.name);
                }
                other => panic!("{}: {other:?}", d.name),
            }
        }
    }

    #[test]
    fn the_interval_is_reproduced() {
        // 2.5th and 97.5th percentiles of the log-normal equal the published bounds.
        let s = log_sigma(0.78, 0.88);
        let median = (0.78f64 * 0.88).sqrt();
        assert!((median * (-1.959_963_984_540_054 * s).exp() - 0.78).abs() < 1e-12);
        assert!((median * (1.959_963_984_540_054 * s).exp() - 0.88).abs() < 1e-12);
    }
}
