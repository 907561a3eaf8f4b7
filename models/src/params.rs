//! Named model parameters: every number a model uses that a calibration may move, addressable
//! by a dotted name (`mortality.background.hazard_ratio`), with its unit and its source.
//! An optimiser or ABC sampler sets a vector of them by name; a per-patient twin overrides
//! them the same way.

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
