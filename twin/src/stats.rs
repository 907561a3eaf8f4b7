//! Small numerical pieces the twin needs: the normal CDF, weighted quantiles, a dense
//! Cholesky factorisation for the linear-Gaussian blocks, systematic resampling, and the
//! forecast scores (CRPS, Brier, C-statistic).
//!
//! Must never: allocate in a per-particle loop (callers pass buffers where it matters).

pub use engine::math::norm_cdf;
use engine::math::DetMath;

/// Standard normal density.
pub fn norm_pdf(x: f64) -> f64 {
    (-0.5 * x * x).exp_det() / (2.0 * std::f64::consts::PI).sqrt()
}

/// Quantile `q` of `values` with `weights` (sorted internally; weights need not sum to 1).
pub fn weighted_quantile(values: &[f64], weights: &[f64], q: f64) -> f64 {
    let mut idx: Vec<usize> = (0..values.len())
        .filter(|&i| values[i].is_finite())
        .collect();
    if idx.is_empty() {
        return f64::NAN;
    }
    idx.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
    let total: f64 = idx.iter().map(|&i| weights[i]).sum();
    let target = q * total;
    let mut acc = 0.0;
    for &i in &idx {
        acc += weights[i];
        if acc >= target {
            return values[i];
        }
    }
    values[*idx.last().unwrap_or(&0)]
}

/// Quantile `q` (type 7) of sorted, finite `v`.
pub fn quantile_sorted(v: &[f64], q: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    let h = (v.len() - 1) as f64 * q.clamp(0.0, 1.0);
    let i = h.floor() as usize;
    let j = (i + 1).min(v.len() - 1);
    v[i] + (h - i as f64) * (v[j] - v[i])
}

/// Lower Cholesky factor of the symmetric positive-definite `a` (n × n, row-major), in
/// place; `false` if it is not positive definite.
pub fn cholesky(a: &mut [f64], n: usize) -> bool {
    for j in 0..n {
        let mut d = a[j * n + j];
        for k in 0..j {
            d -= a[j * n + k] * a[j * n + k];
        }
        if d <= 0.0 || !d.is_finite() {
            return false;
        }
        let d = d.sqrt();
        a[j * n + j] = d;
        for i in j + 1..n {
            let mut s = a[i * n + j];
            for k in 0..j {
                s -= a[i * n + k] * a[j * n + k];
            }
            a[i * n + j] = s / d;
        }
        for k in j + 1..n {
            a[j * n + k] = 0.0;
        }
    }
    true
}

/// Solves L x = b for lower-triangular `l` (n × n), in place.
pub fn forward_solve(l: &[f64], n: usize, b: &mut [f64]) {
    for i in 0..n {
        let mut s = b[i];
        for k in 0..i {
            s -= l[i * n + k] * b[k];
        }
        b[i] = s / l[i * n + i];
    }
}

/// Systematic resampling: `k` indices drawn from normalised `weights` with one uniform `u`.
pub fn systematic_resample(weights: &[f64], k: usize, u: f64) -> Vec<usize> {
    let total: f64 = weights.iter().sum();
    let mut out = Vec::with_capacity(k);
    if total <= 0.0 || weights.is_empty() {
        return out;
    }
    let step = total / k as f64;
    let mut target = u * step;
    let mut acc = weights[0];
    let mut i = 0;
    for _ in 0..k {
        while acc < target && i + 1 < weights.len() {
            i += 1;
            acc += weights[i];
        }
        out.push(i);
        target += step;
    }
    out
}

/// Effective sample size of normalised or unnormalised weights.
pub fn ess(weights: &[f64]) -> f64 {
    let s: f64 = weights.iter().sum();
    let s2: f64 = weights.iter().map(|w| w * w).sum();
    if s2 > 0.0 {
        s * s / s2
    } else {
        0.0
    }
}

/// Continuous ranked probability score of observation `y` against an ensemble `x` (sorted,
/// equal weights): E|X − y| − ½E|X − X'| (Gneiting & Raftery 2007, eq. 20), computed in
/// O(n) from the sorted sample.
pub fn crps_sorted(x: &[f64], y: f64) -> f64 {
    let n = x.len();
    if n == 0 {
        return f64::NAN;
    }
    let nf = n as f64;
    let e1: f64 = x.iter().map(|v| (v - y).abs()).sum::<f64>() / nf;
    // ½E|X − X'| = (1/n²) Σ_i (2i − n + 1) x_(i) for sorted x (0-based i).
    let e2: f64 = x
        .iter()
        .enumerate()
        .map(|(i, v)| (2.0 * i as f64 - nf + 1.0) * v)
        .sum::<f64>()
        / (nf * nf);
    e1 - e2
}

/// Harrell's C-statistic of risks `p` for binary outcomes `y` (ties in risk count ½).
pub fn c_statistic(p: &[f64], y: &[bool]) -> f64 {
    let mut idx: Vec<usize> = (0..p.len()).collect();
    idx.sort_by(|&a, &b| p[a].total_cmp(&p[b]));
    // Rank-sum (Mann–Whitney) with average ranks for ties.
    let mut ranks = vec![0.0; p.len()];
    let mut i = 0;
    while i < idx.len() {
        let mut j = i;
        while j + 1 < idx.len() && p[idx[j + 1]] == p[idx[i]] {
            j += 1;
        }
        let r = (i + j) as f64 / 2.0 + 1.0;
        for k in i..=j {
            ranks[idx[k]] = r;
        }
        i = j + 1;
    }
    let n1 = y.iter().filter(|&&b| b).count() as f64;
    let n0 = y.len() as f64 - n1;
    if n1 == 0.0 || n0 == 0.0 {
        return f64::NAN;
    }
    let r1: f64 = ranks
        .iter()
        .zip(y)
        .filter(|(_, &b)| b)
        .map(|(r, _)| r)
        .sum();
    (r1 - n1 * (n1 + 1.0) / 2.0) / (n1 * n0)
}

/// Brier score of risks `p` for binary outcomes `y`.
pub fn brier(p: &[f64], y: &[bool]) -> f64 {
    if p.is_empty() {
        return f64::NAN;
    }
    p.iter()
        .zip(y)
        .map(|(p, &y)| (p - f64::from(u8::from(y))).powf_det(2.0))
        .sum::<f64>()
        / p.len() as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normal_cdf_matches_known_values() {
        for (x, want) in [
            (0.0, 0.5),
            (1.959_963_985, 0.975),
            (-2.575_829_3, 0.005),
            (1.0, 0.841_344_746),
        ] {
            assert!((norm_cdf(x) - want).abs() < 2e-7, "{x}");
        }
    }

    #[test]
    fn crps_of_a_point_ensemble_is_the_absolute_error() {
        assert!((crps_sorted(&[2.0; 10], 5.0) - 3.0).abs() < 1e-12);
        // For a uniform ensemble on [0,1] and y = 0.5: 1/4 − 1/6 = 1/12 as n → ∞.
        let x: Vec<f64> = (0..10_000).map(|i| (i as f64 + 0.5) / 10_000.0).collect();
        assert!((crps_sorted(&x, 0.5) - 1.0 / 12.0).abs() < 1e-4);
    }

    #[test]
    fn c_statistic_orders_and_ties() {
        assert_eq!(
            c_statistic(&[0.1, 0.2, 0.3, 0.4], &[false, false, true, true]),
            1.0
        );
        assert_eq!(
            c_statistic(&[0.4, 0.3, 0.2, 0.1], &[false, false, true, true]),
            0.0
        );
        assert_eq!(c_statistic(&[0.5; 4], &[false, true, false, true]), 0.5);
    }

    #[test]
    fn cholesky_solves() {
        let mut a = vec![4.0, 2.0, 2.0, 3.0];
        assert!(cholesky(&mut a, 2));
        let mut b = vec![2.0, 1.0];
        forward_solve(&a, 2, &mut b);
        assert!((a[0] - 2.0).abs() < 1e-12 && (a[3] - 2f64.sqrt()).abs() < 1e-12);
        assert!((b[0] - 1.0).abs() < 1e-12 && b[1].abs() < 1e-12);
        assert!(!cholesky(&mut [1.0, 2.0, 2.0, 1.0], 2));
    }

    #[test]
    fn resampling_follows_the_weights() {
        let idx = systematic_resample(&[0.0, 3.0, 1.0], 4, 0.5);
        assert_eq!(idx, vec![1, 1, 1, 2]);
        assert!((ess(&[1.0, 1.0, 1.0, 1.0]) - 4.0).abs() < 1e-12);
    }
}
