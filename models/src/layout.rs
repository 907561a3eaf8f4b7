//! The model's metric list, laid out once from the metrics each module declares: every
//! module records through its own [`MetricBlock`], so no module's index is an offset summed
//! by hand from the sizes of the modules before it.
//!
//! Must never: change while a run uses it (an index recorded in a step must name the same
//! metric in the output).

use engine::observe::MetricDef;

/// Where one module's metrics sit in the model's metric list: the module's metric `i` is
/// the model's metric `base + i`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MetricBlock {
    base: usize,
    len: usize,
}

impl MetricBlock {
    /// The model's index of the module's metric `metric`.
    #[inline]
    pub fn at(self, metric: usize) -> usize {
        debug_assert!(
            metric < self.len,
            "metric {metric} of a block of {}",
            self.len
        );
        self.base + metric
    }

    /// The model's index of the module's first metric.
    #[inline]
    pub fn base(self) -> usize {
        self.base
    }

    pub fn len(self) -> usize {
        self.len
    }

    pub fn is_empty(self) -> bool {
        self.len == 0
    }
}

/// A model's metric list, built by appending each module's declared metrics in output order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MetricLayout {
    defs: Vec<MetricDef>,
}

impl MetricLayout {
    /// Appends a module's metrics (in the module's own index order) and returns where they
    /// are.
    pub fn add(&mut self, defs: Vec<MetricDef>) -> MetricBlock {
        let block = MetricBlock {
            base: self.defs.len(),
            len: defs.len(),
        };
        self.defs.extend(defs);
        block
    }

    /// The block of a module that is the whole model (a module run or tested alone).
    pub fn alone(defs: Vec<MetricDef>) -> MetricBlock {
        MetricLayout::default().add(defs)
    }

    /// Every metric, in output order.
    pub fn defs(&self) -> &[MetricDef] {
        &self.defs
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use engine::observe::MetricKind;

    #[test]
    fn blocks_follow_each_other_in_registration_order() {
        let def = |n: &str| MetricDef::new(n, MetricKind::Mean, "");
        let mut layout = MetricLayout::default();
        let a = layout.add(vec![def("a0"), def("a1")]);
        let none = layout.add(Vec::new());
        let b = layout.add(vec![def("b0")]);
        assert_eq!((a.at(1), b.at(0)), (1, 2));
        assert!(none.is_empty() && none.base() == 2);
        let names: Vec<&str> = layout.defs().iter().map(|d| d.name.as_str()).collect();
        assert_eq!(names, ["a0", "a1", "b0"]);
    }
}
