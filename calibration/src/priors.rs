//! The parameters a calibration moves: named model parameters (`healthtwin params`) with a
//! prior each, from a parameter file:
//!
//! ```toml
//! [[parameter]]
//! name = "dm.capacity.headroom"
//! prior = "uniform"           # uniform | log_normal | beta | normal
//! lo = 2.0                    # uniform, beta (scaled to [lo, hi]); default: the accepted range
//! hi = 8.0
//! source = "docs/parameters.md: [C] …"
//!
//! [[parameter]]
//! name = "cvd.hf.factor"
//! prior = "log_normal"
//! median = 0.34
//! sigma = 0.3                 # or ci = [lo, hi], a 95% interval
//! source = "…"
//! ```
//!
//! Every prior is truncated to the parameter's accepted range. Samplers and optimisers work
//! on the unit cube through each prior's CDF ([`Prior::quantile`], [`Prior::cdf`]).
//!
//! Must never: accept a name the model does not have.

pub use engine::math::norm_cdf;
use engine::math::DetMath;
use std::path::Path;

use models::params::ParamSet;
use serde::Deserialize;

use crate::CalibrationError;

/// A prior distribution (before truncation to the accepted range).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Prior {
    Uniform {
        lo: f64,
        hi: f64,
    },
    LogNormal {
        median: f64,
        sigma: f64,
    },
    /// Beta(a, b) scaled to [lo, hi].
    Beta {
        a: f64,
        b: f64,
        lo: f64,
        hi: f64,
    },
    Normal {
        mean: f64,
        sd: f64,
    },
}

/// A parameter to calibrate.
#[derive(Clone, Debug, PartialEq)]
pub struct Parameter {
    pub name: String,
    pub prior: Prior,
    /// The accepted range of the model parameter (the prior is truncated to it).
    pub range: (f64, f64),
    /// The model's default (the "before" of a calibration).
    pub default: f64,
    pub source: String,
    /// Per-site offsets (federated calibration with offsets): SD of the log offset.
    pub site_offset_sd: Option<f64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawParameter {
    name: String,
    prior: String,
    #[serde(default)]
    lo: Option<f64>,
    #[serde(default)]
    hi: Option<f64>,
    #[serde(default)]
    median: Option<f64>,
    #[serde(default)]
    sigma: Option<f64>,
    #[serde(default)]
    ci: Option<[f64; 2]>,
    #[serde(default)]
    a: Option<f64>,
    #[serde(default)]
    b: Option<f64>,
    #[serde(default)]
    mean: Option<f64>,
    #[serde(default)]
    sd: Option<f64>,
    source: String,
    #[serde(default)]
    site_offset_sd: Option<f64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ParameterFile {
    parameter: Vec<RawParameter>,
}

/// ln Γ(x) (Lanczos, g = 7, 9 terms), x > 0.
fn ln_gamma(x: f64) -> f64 {
    const G: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x <= 0.0 {
        return f64::NAN;
    }
    if x < 0.5 {
        // Γ(x) = Γ(x + 1) / x (no reflection: sin is not in engine::detmath).
        return ln_gamma(x + 1.0) - x.ln_det();
    }
    let x = x - 1.0;
    let mut a = G[0];
    let t = x + 7.5;
    for (i, g) in G.iter().enumerate().skip(1) {
        a += g / (x + i as f64);
    }
    0.5 * (2.0 * std::f64::consts::PI).ln_det() + (x + 0.5) * t.ln_det() - t + a.ln_det()
}

/// Regularised incomplete beta I_x(a, b) (continued fraction, Numerical Recipes' betacf).
fn beta_cdf(x: f64, a: f64, b: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let front =
        (ln_gamma(a + b) - ln_gamma(a) - ln_gamma(b) + a * x.ln_det() + b * (1.0 - x).ln_det())
            .exp_det();
    let cf = |x: f64, a: f64, b: f64| {
        let (qab, qap, qam) = (a + b, a + 1.0, a - 1.0);
        let tiny = 1e-300;
        let mut c = 1.0;
        let mut d = 1.0 - qab * x / qap;
        if d.abs() < tiny {
            d = tiny;
        }
        d = 1.0 / d;
        let mut h = d;
        for m in 1..300 {
            let m = f64::from(m);
            let m2 = 2.0 * m;
            let aa = m * (b - m) * x / ((qam + m2) * (a + m2));
            d = 1.0 + aa * d;
            if d.abs() < tiny {
                d = tiny;
            }
            c = 1.0 + aa / c;
            if c.abs() < tiny {
                c = tiny;
            }
            d = 1.0 / d;
            h *= d * c;
            let aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
            d = 1.0 + aa * d;
            if d.abs() < tiny {
                d = tiny;
            }
            c = 1.0 + aa / c;
            if c.abs() < tiny {
                c = tiny;
            }
            d = 1.0 / d;
            let del = d * c;
            h *= del;
            if (del - 1.0).abs() < 1e-14 {
                break;
            }
        }
        h
    };
    if x < (a + 1.0) / (a + b + 2.0) {
        front * cf(x, a, b) / a
    } else {
        1.0 - front * cf(1.0 - x, b, a) / b
    }
}

impl Prior {
    /// The untruncated CDF at `x`.
    fn raw_cdf(&self, x: f64) -> f64 {
        match *self {
            Prior::Uniform { lo, hi } => ((x - lo) / (hi - lo)).clamp(0.0, 1.0),
            Prior::LogNormal { median, sigma } => {
                if x <= 0.0 {
                    0.0
                } else {
                    norm_cdf((x / median).ln_det() / sigma)
                }
            }
            Prior::Beta { a, b, lo, hi } => beta_cdf((x - lo) / (hi - lo), a, b),
            Prior::Normal { mean, sd } => norm_cdf((x - mean) / sd),
        }
    }

    /// The untruncated density at `x` (up to no constant: exact).
    fn raw_pdf(&self, x: f64) -> f64 {
        match *self {
            Prior::Uniform { lo, hi } => {
                if (lo..=hi).contains(&x) {
                    1.0 / (hi - lo)
                } else {
                    0.0
                }
            }
            Prior::LogNormal { median, sigma } => {
                if x <= 0.0 {
                    0.0
                } else {
                    let z = (x / median).ln_det() / sigma;
                    (-0.5 * z * z).exp_det() / (x * sigma * (2.0 * std::f64::consts::PI).sqrt())
                }
            }
            Prior::Beta { a, b, lo, hi } => {
                let u = (x - lo) / (hi - lo);
                if !(0.0..=1.0).contains(&u) {
                    return 0.0;
                }
                let ln = (a - 1.0) * u.ln_det() + (b - 1.0) * (1.0 - u).ln_det() + ln_gamma(a + b)
                    - ln_gamma(a)
                    - ln_gamma(b);
                ln.exp_det() / (hi - lo)
            }
            Prior::Normal { mean, sd } => {
                let z = (x - mean) / sd;
                (-0.5 * z * z).exp_det() / (sd * (2.0 * std::f64::consts::PI).sqrt())
            }
        }
    }
}

impl Parameter {
    fn cdf_bounds(&self) -> (f64, f64) {
        (
            self.prior.raw_cdf(self.range.0),
            self.prior.raw_cdf(self.range.1),
        )
    }

    /// The prior CDF truncated to the accepted range, in [0, 1].
    pub fn cdf(&self, x: f64) -> f64 {
        let (a, b) = self.cdf_bounds();
        ((self.prior.raw_cdf(x) - a) / (b - a)).clamp(0.0, 1.0)
    }

    /// The prior density truncated to the accepted range.
    pub fn pdf(&self, x: f64) -> f64 {
        if x < self.range.0 || x > self.range.1 {
            return 0.0;
        }
        let (a, b) = self.cdf_bounds();
        self.prior.raw_pdf(x) / (b - a)
    }

    /// The value at prior quantile `u` ∈ [0, 1] (bisection on the CDF: exact to 1e-12 of the
    /// range, monotone, the same on every machine).
    pub fn quantile(&self, u: f64) -> f64 {
        let u = u.clamp(0.0, 1.0);
        let (mut lo, mut hi) = self.support();
        for _ in 0..200 {
            let mid = 0.5 * (lo + hi);
            if self.cdf(mid) < u {
                lo = mid;
            } else {
                hi = mid;
            }
            if hi - lo <= 1e-12 * (1.0 + hi.abs()) {
                break;
            }
        }
        0.5 * (lo + hi)
    }

    /// The interval that holds all the prior mass inside the accepted range.
    pub fn support(&self) -> (f64, f64) {
        let (mut lo, mut hi) = self.range;
        match self.prior {
            Prior::Uniform { lo: a, hi: b } | Prior::Beta { lo: a, hi: b, .. } => {
                lo = lo.max(a);
                hi = hi.min(b);
            }
            Prior::LogNormal { median, sigma } => {
                lo = lo.max(median * (-9.0 * sigma).exp_det());
                hi = hi.min(median * (9.0 * sigma).exp_det());
            }
            Prior::Normal { mean, sd } => {
                lo = lo.max(mean - 9.0 * sd);
                hi = hi.min(mean + 9.0 * sd);
            }
        }
        (lo, hi)
    }

    /// A short description of the prior for reports.
    pub fn describe(&self) -> String {
        match self.prior {
            Prior::Uniform { lo, hi } => format!("uniform({lo}, {hi})"),
            Prior::LogNormal { median, sigma } => format!("log-normal(median {median}, σ {sigma})"),
            Prior::Beta { a, b, lo, hi } => format!("beta({a}, {b}) on [{lo}, {hi}]"),
            Prior::Normal { mean, sd } => format!("normal({mean}, {sd})"),
        }
    }
}

impl RawParameter {
    fn resolve(self, set: &ParamSet) -> Result<Parameter, String> {
        let name = self.name.clone();
        let p = set
            .iter()
            .find(|p| p.name == name)
            .ok_or_else(|| format!("parameter `{name}`: unknown (see `healthtwin params`)"))?;
        if self.source.trim().is_empty() {
            return Err(format!(
                "parameter `{name}`: `source` is empty (say where the prior comes from)"
            ));
        }
        let range = p.range;
        let lo = self.lo.unwrap_or(range.0);
        let hi = self.hi.unwrap_or(range.1);
        let finite = |v: f64| v.is_finite();
        let prior = match self.prior.as_str() {
            "uniform" => Prior::Uniform { lo, hi },
            "beta" => Prior::Beta {
                a: self.a.ok_or_else(|| format!("parameter `{name}`: beta needs `a`"))?,
                b: self.b.ok_or_else(|| format!("parameter `{name}`: beta needs `b`"))?,
                lo,
                hi,
            },
            "log_normal" => match (self.median, self.sigma, self.ci) {
                (Some(median), Some(sigma), None) => Prior::LogNormal { median, sigma },
                (None, None, Some([a, b])) if a > 0.0 && b > a => Prior::LogNormal {
                    median: (a * b).sqrt(),
                    sigma: (b / a).ln_det() / (2.0 * 1.96),
                },
                _ => {
                    return Err(format!(
                        "parameter `{name}`: log_normal needs `median` and `sigma`, or `ci` = [lo, hi] with 0 < lo < hi"
                    ))
                }
            },
            "normal" => match (self.mean, self.sd, self.ci) {
                (Some(mean), Some(sd), None) => Prior::Normal { mean, sd },
                (None, None, Some([a, b])) if b > a => Prior::Normal {
                    mean: 0.5 * (a + b),
                    sd: (b - a) / (2.0 * 1.96),
                },
                _ => {
                    return Err(format!(
                        "parameter `{name}`: normal needs `mean` and `sd`, or `ci` = [lo, hi]"
                    ))
                }
            },
            other => {
                return Err(format!(
                    "parameter `{name}`: unknown prior `{other}` (uniform, log_normal, beta, normal)"
                ))
            }
        };
        let ok = match prior {
            Prior::Uniform { lo, hi } => finite(lo) && finite(hi) && lo < hi,
            Prior::Beta { a, b, lo, hi } => {
                finite(lo) && finite(hi) && lo < hi && a > 0.0 && b > 0.0
            }
            Prior::LogNormal { median, sigma } => median > 0.0 && sigma > 0.0 && finite(median),
            Prior::Normal { mean, sd } => finite(mean) && sd > 0.0,
        };
        if !ok {
            return Err(format!(
                "parameter `{name}`: the prior {:?} is not a proper distribution",
                prior
            ));
        }
        let out = Parameter {
            name: name.clone(),
            prior,
            range,
            default: p.value,
            source: self.source,
            site_offset_sd: self.site_offset_sd,
        };
        let (a, b) = out.cdf_bounds();
        if b - a <= 1e-9 || (b - a).is_nan() {
            return Err(format!(
                "parameter `{name}`: the prior puts no mass inside the accepted range [{}, {}]",
                range.0, range.1
            ));
        }
        if let Some(sd) = out.site_offset_sd {
            if !(sd.is_finite() && sd > 0.0) {
                return Err(format!("parameter `{name}`: `site_offset_sd` must be > 0"));
            }
        }
        Ok(out)
    }
}

/// Reads a parameter file against the model's parameter set.
pub fn read(path: &Path, set: &ParamSet) -> Result<Vec<Parameter>, CalibrationError> {
    let file = path.display().to_string();
    let bad = |message: String| CalibrationError::Input {
        file: file.clone(),
        message,
    };
    let text = std::fs::read_to_string(path).map_err(|e| bad(format!("cannot read: {e}")))?;
    parse(&text, set).map_err(bad)
}

/// Parses a parameter file's text.
pub fn parse(text: &str, set: &ParamSet) -> Result<Vec<Parameter>, String> {
    let f: ParameterFile = toml::from_str(text).map_err(|e| e.to_string())?;
    let mut out: Vec<Parameter> = Vec::new();
    for raw in f.parameter {
        let p = raw.resolve(set)?;
        if out.iter().any(|q| q.name == p.name) {
            return Err(format!("parameter `{}` is listed twice", p.name));
        }
        out.push(p);
    }
    if out.is_empty() {
        return Err("the file lists no parameters".into());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn param(prior: Prior, range: (f64, f64)) -> Parameter {
        Parameter {
            name: "x".into(),
            prior,
            range,
            default: 1.0,
            source: "s".into(),
            site_offset_sd: None,
        }
    }

    #[test]
    fn quantile_inverts_the_truncated_cdf() {
        for (prior, range) in [
            (Prior::Uniform { lo: 1.0, hi: 3.0 }, (0.0, 10.0)),
            (
                Prior::LogNormal {
                    median: 0.5,
                    sigma: 0.4,
                },
                (0.0, 1.0),
            ),
            (
                Prior::Beta {
                    a: 2.0,
                    b: 5.0,
                    lo: 0.0,
                    hi: 2.0,
                },
                (0.0, 2.0),
            ),
            (Prior::Normal { mean: 0.0, sd: 1.0 }, (-1.0, 5.0)),
        ] {
            let p = param(prior, range);
            for u in [0.01, 0.2, 0.5, 0.77, 0.99] {
                let x = p.quantile(u);
                assert!(x >= range.0 && x <= range.1);
                assert!((p.cdf(x) - u).abs() < 1e-7, "{prior:?} u {u} x {x}");
            }
            // The density integrates to 1 over the support (midpoint rule).
            let (a, b) = p.support();
            let n = 20_000;
            let h = (b - a) / n as f64;
            let total: f64 = (0..n).map(|i| p.pdf(a + (i as f64 + 0.5) * h) * h).sum();
            assert!((total - 1.0).abs() < 2e-3, "{prior:?}: {total}");
        }
    }

    #[test]
    fn norm_cdf_and_beta_cdf_know_their_values() {
        assert!((norm_cdf(1.96) - 0.975).abs() < 1e-4);
        assert!((norm_cdf(0.0) - 0.5).abs() < 1e-7);
        // Beta(2, 2) at 0.25: 3x² − 2x³.
        assert!((beta_cdf(0.25, 2.0, 2.0) - (3.0 * 0.0625 - 2.0 * 0.015625)).abs() < 1e-10);
    }

    #[test]
    fn files_name_the_bad_parameter() {
        let set = models::HealthModel::new(models::mortality::LifeTable::mhlw_2024())
            .params()
            .clone();
        let ok = parse(
            "[[parameter]]\nname = \"cvd.hf.factor\"\nprior = \"log_normal\"\nci = [0.2, 0.6]\nsource = \"s\"\n",
            &set,
        )
        .unwrap();
        assert_eq!(ok[0].default, 0.34);
        let e = parse(
            "[[parameter]]\nname = \"no.such\"\nprior = \"uniform\"\nsource = \"s\"\n",
            &set,
        )
        .unwrap_err();
        assert!(e.contains("no.such") && e.contains("unknown"), "{e}");
        let e = parse(
            "[[parameter]]\nname = \"cvd.hf.factor\"\nprior = \"uniform\"\nlo = 20.0\nhi = 30.0\nsource = \"s\"\n",
            &set,
        )
        .unwrap_err();
        assert!(e.contains("no mass"), "{e}");
    }
}
