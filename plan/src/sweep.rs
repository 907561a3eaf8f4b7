//! The capacity sweep: each swept programme alone at 1, 2, …, K blocks of places (the
//! baseline is 0 blocks), on the same residents with common random numbers. The marginal
//! value of block k is what k blocks avert minus what k − 1 blocks avert (paired per
//! replicate), and its marginal net cost likewise; blocks are then funded greedily within a
//! programme budget, the most certifications averted per yen of programme spending first,
//! each programme's blocks in order (docs/planning.md, "Capacity sweep"). Programmes are swept one at a time: what two programmes do together is
//! in the options, not in the sweep.
//!
//! Must never: compare runs of different replicates (every difference is paired).

use study::outcomes::Interval;

use crate::measures::{self as ms, RunValues};
use crate::{Plan, PlanResults, Role};

/// Whole-horizon totals (ages 65+) of one run that the sweep compares.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Totals {
    pub certifications: f64,
    pub frailty_onsets: f64,
    pub care_months: f64,
    pub reached: f64,
    pub programme_cost: f64,
    /// LTC + medical + programme spending, undiscounted.
    pub spending: f64,
}

impl Totals {
    pub fn of(r: &RunValues, programme: Option<usize>) -> Totals {
        Totals {
            certifications: r.total(ms::NEW_CERTIFICATIONS),
            frailty_onsets: r.total(ms::FRAILTY_ONSETS),
            care_months: r.total(ms::CARE_MONTHS),
            reached: programme.map_or(0.0, |k| r.total(ms::PROGRAMMES + 2 * k)),
            programme_cost: r.total(ms::PROGRAMME_COST),
            spending: r.total(ms::LTC_COST)
                + r.total(ms::MEDICAL_COST)
                + r.total(ms::PROGRAMME_COST),
        }
    }
}

/// One point of the sweep with its value against the baseline and against the point below.
#[derive(Clone, Debug, PartialEq)]
pub struct Point {
    pub programme: usize,
    pub blocks: u32,
    pub places: u64,
    /// Against the baseline: certifications averted, frailty onsets averted, care-months
    /// averted, people reached, net cost (yen, undiscounted, whole horizon).
    pub averted: Interval,
    pub frailty_averted: Interval,
    pub care_months_averted: Interval,
    pub reached: Interval,
    pub net_cost: Interval,
    /// The last block alone (this point minus the one below).
    pub marginal_averted: Interval,
    pub marginal_net_cost: Interval,
    /// Programme spending added by the last block, yen per year (mean over the horizon).
    pub marginal_spending_per_year: f64,
    /// Net cost per certification averted of the last block (ratio of means); `None` when
    /// it averts none.
    pub marginal_cost_per_averted: Option<f64>,
    /// Certifications averted by the last block per million yen of its programme spending
    /// over the horizon; `None` when it averts none or costs nothing.
    pub marginal_averted_per_million_yen: Option<f64>,
}

fn paired(a: &[RunValues], b: &[RunValues], f: impl Fn(&RunValues) -> f64) -> Vec<f64> {
    a.iter().zip(b).map(|(x, y)| f(x) - f(y)).collect()
}

/// The sweep's points, programme by programme, blocks in order (empty without a sweep).
pub fn points(plan: &Plan, results: &PlanResults) -> Vec<Point> {
    let Some(sw) = &plan.file.sweep else {
        return Vec::new();
    };
    let Some(base) = plan.arm_of(&Role::Baseline) else {
        return Vec::new();
    };
    let base_runs = &results.runs[base];
    let years = plan.file.years.max(1) as f64;
    let mut out = Vec::new();
    for &(k, block) in &sw.blocks {
        let mut below = base_runs;
        for j in 1..=sw.points {
            let Some(arm) = plan.arm_of(&Role::Sweep {
                programme: k,
                blocks: j,
            }) else {
                continue;
            };
            let runs = &results.runs[arm];
            let t = |r: &RunValues| Totals::of(r, Some(k));
            let iv = |a: &[RunValues], b: &[RunValues], f: &dyn Fn(Totals) -> f64| {
                Interval::of(&paired(a, b, |r| f(t(r))))
            };
            let averted = iv(base_runs, runs, &|x| x.certifications);
            let marginal_averted = iv(below, runs, &|x| x.certifications);
            let marginal_net_cost = iv(runs, below, &|x| x.spending);
            let marginal_programme = iv(runs, below, &|x| x.programme_cost).mean;
            let marginal_spending = marginal_programme / years;
            out.push(Point {
                programme: k,
                blocks: j,
                places: u64::from(j) * block,
                averted,
                frailty_averted: iv(base_runs, runs, &|x| x.frailty_onsets),
                care_months_averted: iv(base_runs, runs, &|x| x.care_months),
                reached: Interval::of(&runs.iter().map(|r| t(r).reached).collect::<Vec<_>>()),
                net_cost: iv(runs, base_runs, &|x| x.spending),
                marginal_cost_per_averted: (marginal_averted.mean > 0.0)
                    .then(|| marginal_net_cost.mean / marginal_averted.mean),
                marginal_averted_per_million_yen: (marginal_averted.mean > 0.0
                    && marginal_programme > 0.0)
                    .then(|| marginal_averted.mean / (marginal_programme / 1e6)),
                marginal_averted,
                marginal_net_cost,
                marginal_spending_per_year: marginal_spending,
            });
            below = runs;
        }
    }
    out
}

/// One step of the expansion order.
#[derive(Clone, Debug, PartialEq)]
pub struct Step {
    /// Index into [`points`]' result.
    pub point: usize,
    /// Programme spending per year after this step (all blocks funded so far).
    pub cumulative_spending_per_year: f64,
    /// Certifications averted over the horizon by the blocks funded so far (the sum of
    /// their marginal values; programmes' effects add up only approximately).
    pub cumulative_averted: f64,
}

/// Which block to fund next, greedily within a programme budget: among each programme's
/// next block, the one that averts the most certifications per yen of programme spending;
/// a block that averts none (or costs nothing) ends its programme's list.
pub fn expansion_order(points: &[Point]) -> Vec<Step> {
    let mut programmes: Vec<usize> = points.iter().map(|p| p.programme).collect();
    programmes.dedup();
    let mut next: Vec<usize> = programmes
        .iter()
        .map(|k| points.iter().position(|p| p.programme == *k).unwrap_or(0))
        .collect();
    let mut out = Vec::new();
    let (mut spending, mut averted) = (0.0, 0.0);
    loop {
        let best = programmes
            .iter()
            .zip(&next)
            .filter_map(|(&k, &i)| {
                let p = points.get(i).filter(|p| p.programme == k)?;
                Some((i, p.marginal_averted_per_million_yen?))
            })
            .max_by(|a, b| a.1.total_cmp(&b.1).then(b.0.cmp(&a.0)));
        let Some((i, _)) = best else {
            return out;
        };
        spending += points[i].marginal_spending_per_year;
        averted += points[i].marginal_averted.mean;
        out.push(Step {
            point: i,
            cumulative_spending_per_year: spending,
            cumulative_averted: averted,
        });
        let slot = programmes
            .iter()
            .position(|&k| k == points[i].programme)
            .unwrap_or(0);
        next[slot] += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(programme: usize, blocks: u32, per_million: Option<f64>) -> Point {
        let iv = Interval {
            mean: 1.0,
            lo: 1.0,
            hi: 1.0,
        };
        Point {
            programme,
            blocks,
            places: u64::from(blocks) * 100,
            averted: iv,
            frailty_averted: iv,
            care_months_averted: iv,
            reached: iv,
            net_cost: iv,
            marginal_averted: iv,
            marginal_net_cost: iv,
            marginal_spending_per_year: 10.0,
            marginal_cost_per_averted: per_million.map(|x| 1.0 / x),
            marginal_averted_per_million_yen: per_million,
        }
    }

    #[test]
    fn blocks_are_funded_best_value_first_in_each_programmes_order() {
        let pts = vec![
            point(0, 1, Some(5.0)),
            point(0, 2, Some(0.5)),
            point(0, 3, Some(9.0)),
            point(1, 1, Some(2.0)),
            point(1, 2, None),
            point(1, 3, Some(50.0)),
        ];
        let order: Vec<usize> = expansion_order(&pts).iter().map(|s| s.point).collect();
        // Programme 0's third block is the best value but comes after its second; programme
        // 1 stops at the block that averts nothing.
        assert_eq!(order, vec![0, 3, 1, 2]);
        let steps = expansion_order(&pts);
        assert_eq!(steps.last().unwrap().cumulative_spending_per_year, 40.0);
    }
}
