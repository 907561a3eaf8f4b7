//! Named model parameters: every number a model uses that a calibration may move, addressable
//! by a dotted name (`mortality.background.hazard_ratio`), with its unit and its source.
//! An optimiser or ABC sampler sets a vector of them by name; a per-patient twin overrides
//! them the same way.

use engine::math::DetMath;
use std::fmt::Write;

#[derive(Clone, Debug, PartialEq)]
pub struct Param {
    pub name: &'static str,
    pub value: f64,
    pub unit: &'static str,
    /// Citation (paper, year, table) or the reason it is not a published number.
    pub source: &'static str,
    /// Values outside this range are rejected when set.
    pub range: (f64, f64),
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ParamError {
    #[error("unknown parameter `{name}`")]
    Unknown { name: String },
    #[error("parameter `{name}` = {value} is outside its valid range [{lo}, {hi}]")]
    OutOfRange {
        name: String,
        value: f64,
        lo: f64,
        hi: f64,
    },
}

/// A set of named parameters with get/set by name.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct ParamSet {
    params: Vec<Param>,
}

impl ParamSet {
    pub fn new(params: Vec<Param>) -> Self {
        ParamSet { params }
    }
    pub fn iter(&self) -> impl Iterator<Item = &Param> {
        self.params.iter()
    }
    pub fn get(&self, name: &str) -> Result<f64, ParamError> {
        self.params
            .iter()
            .find(|p| p.name == name)
            .map(|p| p.value)
            .ok_or_else(|| ParamError::Unknown {
                name: name.to_string(),
            })
    }
    pub fn set(&mut self, name: &str, value: f64) -> Result<(), ParamError> {
        let p = self
            .params
            .iter_mut()
            .find(|p| p.name == name)
            .ok_or_else(|| ParamError::Unknown {
                name: name.to_string(),
            })?;
        if !(value >= p.range.0 && value <= p.range.1) {
            return Err(ParamError::OutOfRange {
                name: name.to_string(),
                value,
                lo: p.range.0,
                hi: p.range.1,
            });
        }
        p.value = value;
        Ok(())
    }
    /// Canonical text (one `name=value` line each, in order, values in shortest round-trip
    /// form) for hashing into the run manifest.
    pub fn canonical(&self) -> String {
        let mut s = String::new();
        for p in &self.params {
            let _ = writeln!(s, "{}={:?}", p.name, p.value);
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set() -> ParamSet {
        ParamSet::new(vec![Param {
            name: "a.b",
            value: 1.0,
            unit: "-",
            source: "test",
            range: (0.0, 2.0),
        }])
    }

    #[test]
    fn get_and_set_by_name() {
        let mut s = set();
        s.set("a.b", 1.5).unwrap();
        assert_eq!(s.get("a.b").unwrap(), 1.5);
        assert!(matches!(s.set("a.c", 1.0), Err(ParamError::Unknown { .. })));
        assert!(matches!(
            s.set("a.b", 3.0),
            Err(ParamError::OutOfRange { .. })
        ));
        assert!(matches!(
            s.set("a.b", f64::NAN),
            Err(ParamError::OutOfRange { .. })
        ));
        assert_eq!(s.canonical(), "a.b=1.5\n");
    }
}

/// A parameter's uncertainty, for per-replicate draws (probabilistic sensitivity analysis).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Uncertainty {
    Normal { mean: f64, sd: f64 },
    LogNormal { median: f64, sigma: f64 },
    Uniform { lo: f64, hi: f64 },
}

impl Uncertainty {
    /// The value at standard-normal quantile `z` (uniform on Φ(z) for `Uniform`).
    pub fn at(&self, z: f64, u: f64) -> f64 {
        match *self {
            Uncertainty::Normal { mean, sd } => mean + sd * z,
            Uncertainty::LogNormal { median, sigma } => median * (sigma * z).exp_det(),
            Uncertainty::Uniform { lo, hi } => lo + (hi - lo) * u,
        }
    }
}

/// One parameter to redraw in every replicate.
#[derive(Clone, Debug, PartialEq)]
pub struct ParamDraw {
    pub name: String,
    pub uncertainty: Uncertainty,
}

const PSA: engine::Process = engine::Process::named("models.psa");

impl ParamSet {
    /// A copy with `draws` applied for one replicate. Draw `k` uses the `models.psa` stream of
    /// (seed, replicate) at patient slot `k`, so a replicate's parameters depend only on the
    /// seed, the replicate and the list, and are shared by every scenario of a comparison.
    pub fn drawn(&self, run: engine::RunKey, draws: &[ParamDraw]) -> Result<ParamSet, ParamError> {
        let mut out = self.clone();
        let key = engine::StreamKey::new(run, PSA);
        for (k, d) in draws.iter().enumerate() {
            let mut s = engine::Stream::new(key, k as u64, 0);
            let u = s.uniform();
            let z = engine::math::norm_inv(u);
            out.set(&d.name, d.uncertainty.at(z, u))?;
        }
        Ok(out)
    }
}

#[cfg(test)]
#[allow(clippy::disallowed_methods)] // the platform libm as a reference (clippy.toml)
mod psa_tests {
    use super::*;
    use engine::RunKey;

    #[test]
    fn replicate_draws_are_keyed_by_seed_and_replicate() {
        let base = ParamSet::new(vec![Param {
            name: "x",
            value: 1.0,
            unit: "-",
            source: "test",
            range: (0.0, 10.0),
        }]);
        let draws = [ParamDraw {
            name: "x".into(),
            uncertainty: Uncertainty::LogNormal {
                median: 1.0,
                sigma: 0.2,
            },
        }];
        let at = |seed, replicate| {
            base.drawn(RunKey { seed, replicate }, &draws)
                .unwrap()
                .get("x")
                .unwrap()
        };
        assert_eq!(at(1, 0), at(1, 0));
        assert_ne!(at(1, 0), at(1, 1));
        assert_ne!(at(1, 0), at(2, 0));
        let values: Vec<f64> = (0..2000).map(|r| at(7, r)).collect();
        let mean_log = values.iter().map(|v| v.ln()).sum::<f64>() / values.len() as f64;
        assert!(
            mean_log.abs() < 0.02,
            "median of the draws is off: mean log {mean_log}"
        );
        let bad = [ParamDraw {
            name: "y".into(),
            uncertainty: Uncertainty::Uniform { lo: 0.0, hi: 1.0 },
        }];
        assert!(base
            .drawn(
                RunKey {
                    seed: 1,
                    replicate: 0
                },
                &bad
            )
            .is_err());
    }
}

/// Declares a model's parameter block once: a struct of resolved `f64` fields for the hot
/// loop, the list of named, sourced [`Param`]s with their defaults, and the conversion from a
/// [`ParamSet`] (so calibration, PSA and per-patient twins address every field by name).
macro_rules! param_block {
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            $(
                $(#[$fmeta:meta])*
                $field:ident: $pname:literal = $value:expr, $unit:literal, $range:expr,
                $source:literal;
            )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq)]
        pub struct $name {
            $( $(#[$fmeta])* pub $field: f64, )*
        }

        impl $name {
            /// The named parameters with their published (or calibrated) defaults.
            pub fn params() -> Vec<$crate::params::Param> {
                vec![$(
                    $crate::params::Param {
                        name: $pname,
                        value: $value,
                        unit: $unit,
                        source: $source,
                        range: $range,
                    },
                )*]
            }

            /// Resolves the block from a parameter set holding (at least) its names.
            pub fn from_set(
                set: &$crate::params::ParamSet,
            ) -> Result<Self, $crate::params::ParamError> {
                Ok($name { $( $field: set.get($pname)?, )* })
            }
        }
    };
}
pub(crate) use param_block;
