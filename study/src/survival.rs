//! Survival analysis of a trial's person-level times to event: Kaplan–Meier with Greenwood's
//! variance, and the Cox proportional-hazards model (partial likelihood with Efron's or
//! Breslow's handling of ties, Newton–Raphson, standard errors from the observed
//! information), the way R's `survival` package computes them (Therneau & Grambsch 2000,
//! Modeling Survival Data, ch. 3).
//!
//! Must never: panic on data (an empty or event-free sample gives NaN estimates), or
//! allocate per iteration beyond the fit's own buffers.

use engine::math::DetMath;

/// One person's observation: time (any unit) and whether it ends in the event (else
/// censored).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Observation {
    pub time: f64,
    pub event: bool,
}

/// The Kaplan–Meier estimate at one distinct event time.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct KmStep {
    pub time: f64,
    pub at_risk: usize,
    pub events: usize,
    pub survival: f64,
    /// Greenwood's sum Σ d / (n (n − d)) up to this time: var(S) = S² × this.
    pub greenwood: f64,
}

/// Kaplan–Meier steps at each distinct event time, in time order (events before censorings
/// at a tied time, as usual).
pub fn kaplan_meier(obs: &[Observation]) -> Vec<KmStep> {
    let mut sorted: Vec<Observation> = obs.iter().copied().filter(|o| o.time.is_finite()).collect();
    sorted.sort_by(|a, b| a.time.total_cmp(&b.time).then(b.event.cmp(&a.event)));
    let mut steps = Vec::new();
    let mut at_risk = sorted.len();
    let (mut s, mut gw) = (1.0, 0.0);
    let mut i = 0;
    while i < sorted.len() {
        let t = sorted[i].time;
        let (mut d, mut c) = (0, 0);
        while i < sorted.len() && sorted[i].time == t {
            if sorted[i].event {
                d += 1;
            } else {
                c += 1;
            }
            i += 1;
        }
        if d > 0 {
            let n = at_risk as f64;
            let df = d as f64;
            s *= 1.0 - df / n;
            if n > df {
                gw += df / (n * (n - df));
            }
            steps.push(KmStep {
                time: t,
                at_risk,
                events: d,
                survival: s,
                greenwood: gw,
            });
        }
        at_risk -= d + c;
    }
    steps
}

/// Cumulative incidence 1 − S(t) of a Kaplan–Meier curve at `t`, with its 95% interval from
/// Greenwood's variance on the log(−log S) scale (R's `conf.type = "log-log"`; the interval
/// stays in [0, 1]). NaN for an empty curve; (0, 0, 0) before the first event.
pub fn cumulative_incidence(steps: &[KmStep], t: f64) -> (f64, f64, f64) {
    let Some(k) = steps.iter().rposition(|s| s.time <= t) else {
        return (0.0, 0.0, 0.0);
    };
    let st = steps[k];
    let s = st.survival;
    if s <= 0.0 {
        return (1.0, 1.0, 1.0);
    }
    let ln_s = s.ln_det();
    let se = st.greenwood.sqrt() / ln_s.abs();
    let z = 1.959_963_984_540_054;
    // S^exp(±z se) (log-log interval), then incidence.
    let lo_s = s.powf_det((z * se).exp_det());
    let hi_s = s.powf_det((-z * se).exp_det());
    (1.0 - s, 1.0 - hi_s, 1.0 - lo_s)
}

/// How tied event times enter the partial likelihood.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ties {
    Efron,
    Breslow,
}

/// A Cox fit: coefficients, their standard errors (from the inverse observed information
/// at the estimate), the partial log-likelihood at zero and at the estimate, and the
/// Newton–Raphson iterations used.
#[derive(Clone, Debug, PartialEq)]
pub struct CoxFit {
    pub beta: Vec<f64>,
    pub se: Vec<f64>,
    pub loglik_null: f64,
    pub loglik: f64,
    pub iterations: u32,
    pub converged: bool,
}

impl CoxFit {
    /// Hazard ratio of covariate `j` with its 95% Wald interval.
    pub fn hazard_ratio(&self, j: usize) -> (f64, f64, f64) {
        let z = 1.959_963_984_540_054;
        let (b, se) = (self.beta[j], self.se[j]);
        (b.exp_det(), (b - z * se).exp_det(), (b + z * se).exp_det())
    }
}

/// Fits the Cox model h(t | x) = h0(t) exp(β'x) to `obs` with covariate rows `x` (one row
/// of `p` values per observation). Newton–Raphson from β = 0 with step halving, until the
/// log-likelihood changes by less than 1e-9 relative (at most 30 iterations).
pub fn cox(obs: &[Observation], x: &[Vec<f64>], ties: Ties) -> CoxFit {
    let p = x.first().map_or(0, Vec::len);
    let mut order: Vec<usize> = (0..obs.len())
        .filter(|&i| obs[i].time.is_finite())
        .collect();
    // Descending time: risk sets accumulate as we go.
    order.sort_by(|&a, &b| obs[b].time.total_cmp(&obs[a].time));
    let eval = |beta: &[f64], grad: &mut Vec<f64>, info: &mut Vec<f64>| -> f64 {
        grad.clear();
        grad.resize(p, 0.0);
        info.clear();
        info.resize(p * p, 0.0);
        let mut loglik = 0.0;
        // Running sums over the risk set: Σ w, Σ w x, Σ w x x'.
        let mut s0 = 0.0;
        let mut s1 = vec![0.0; p];
        let mut s2 = vec![0.0; p * p];
        // Sums over the tied events of one time.
        let mut d0;
        let mut d1 = vec![0.0; p];
        let mut d2 = vec![0.0; p * p];
        let mut xsum = vec![0.0; p];
        let mut a = vec![0.0; p];
        let mut i = 0;
        while i < order.len() {
            let t = obs[order[i]].time;
            d0 = 0.0;
            d1.iter_mut().for_each(|v| *v = 0.0);
            d2.iter_mut().for_each(|v| *v = 0.0);
            xsum.iter_mut().for_each(|v| *v = 0.0);
            let mut deaths = 0usize;
            let mut eta_sum = 0.0;
            while i < order.len() && obs[order[i]].time == t {
                let k = order[i];
                let xi = &x[k];
                let eta: f64 = xi.iter().zip(beta).map(|(a, b)| a * b).sum();
                let w = eta.exp_det();
                s0 += w;
                for r in 0..p {
                    s1[r] += w * xi[r];
                    for c in 0..p {
                        s2[r * p + c] += w * xi[r] * xi[c];
                    }
                }
                if obs[k].event {
                    deaths += 1;
                    eta_sum += eta;
                    d0 += w;
                    for r in 0..p {
                        d1[r] += w * xi[r];
                        xsum[r] += xi[r];
                        for c in 0..p {
                            d2[r * p + c] += w * xi[r] * xi[c];
                        }
                    }
                }
                i += 1;
            }
            if deaths == 0 {
                continue;
            }
            loglik += eta_sum;
            for r in 0..p {
                grad[r] += xsum[r];
            }
            let m = deaths as f64;
            for j in 0..deaths {
                // Efron: the tied deaths leave the denominator a share j/m at a time.
                let f = match ties {
                    Ties::Efron => j as f64 / m,
                    Ties::Breslow => 0.0,
                };
                let den = s0 - f * d0;
                loglik -= den.ln_det();
                for r in 0..p {
                    a[r] = (s1[r] - f * d1[r]) / den;
                    grad[r] -= a[r];
                }
                for r in 0..p {
                    for c in 0..p {
                        info[r * p + c] += (s2[r * p + c] - f * d2[r * p + c]) / den - a[r] * a[c];
                    }
                }
            }
        }
        loglik
    };
    let mut beta = vec![0.0; p];
    let (mut grad, mut info) = (Vec::new(), Vec::new());
    let loglik_null = eval(&beta, &mut grad, &mut info);
    let mut loglik = loglik_null;
    let mut iterations = 0;
    let mut converged = false;
    while iterations < 30 && loglik.is_finite() {
        iterations += 1;
        let Some(step) = solve(&info, &grad, p) else {
            break;
        };
        let mut scale = 1.0;
        let mut next = beta.clone();
        let (mut g2, mut i2) = (Vec::new(), Vec::new());
        let mut ll;
        loop {
            for r in 0..p {
                next[r] = beta[r] + scale * step[r];
            }
            ll = eval(&next, &mut g2, &mut i2);
            if ll.is_finite() && ll >= loglik - 1e-12 || scale < 1e-6 {
                break;
            }
            scale *= 0.5;
        }
        let change = (ll - loglik).abs();
        beta = next;
        grad = g2;
        info = i2;
        loglik = ll;
        if change <= 1e-9 * loglik.abs().max(1.0) {
            converged = true;
            break;
        }
    }
    let se = invert(&info, p)
        .map(|inv| (0..p).map(|j| inv[j * p + j].max(0.0).sqrt()).collect())
        .unwrap_or_else(|| vec![f64::NAN; p]);
    CoxFit {
        beta,
        se,
        loglik_null,
        loglik,
        iterations,
        converged,
    }
}

/// Solves A v = b for a symmetric positive-definite `p × p` A (Cholesky); `None` if A is not.
fn solve(a: &[f64], b: &[f64], p: usize) -> Option<Vec<f64>> {
    let l = cholesky(a, p)?;
    let mut y = vec![0.0; p];
    for i in 0..p {
        let s: f64 = (0..i).map(|k| l[i * p + k] * y[k]).sum();
        y[i] = (b[i] - s) / l[i * p + i];
    }
    let mut v = vec![0.0; p];
    for i in (0..p).rev() {
        let s: f64 = (i + 1..p).map(|k| l[k * p + i] * v[k]).sum();
        v[i] = (y[i] - s) / l[i * p + i];
    }
    Some(v)
}

fn cholesky(a: &[f64], p: usize) -> Option<Vec<f64>> {
    let mut l = vec![0.0; p * p];
    for i in 0..p {
        for j in 0..=i {
            let s: f64 = (0..j).map(|k| l[i * p + k] * l[j * p + k]).sum();
            if i == j {
                let d = a[i * p + i] - s;
                if d.is_nan() || d <= 0.0 {
                    return None;
                }
                l[i * p + i] = d.sqrt();
            } else {
                l[i * p + j] = (a[i * p + j] - s) / l[j * p + j];
            }
        }
    }
    Some(l)
}

fn invert(a: &[f64], p: usize) -> Option<Vec<f64>> {
    let mut inv = vec![0.0; p * p];
    for j in 0..p {
        let mut e = vec![0.0; p];
        e[j] = 1.0;
        let col = solve(a, &e, p)?;
        for i in 0..p {
            inv[i * p + j] = col[i];
        }
    }
    Some(inv)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn o(time: f64, event: bool) -> Observation {
        Observation { time, event }
    }

    /// The `aml` data of R's survival package (acute myelogenous leukaemia, Miller 1981):
    /// maintained chemotherapy (x = 0) and not (x = 1); `+` = censored.
    fn aml() -> (Vec<Observation>, Vec<Vec<f64>>) {
        let maintained = "9 13 13+ 18 23 28+ 31 34 45+ 48 161+";
        let nonmaintained = "5 5 8 8 12 16+ 23 27 30 33 43 45";
        let mut obs = Vec::new();
        let mut x = Vec::new();
        for (group, s) in [(0.0, maintained), (1.0, nonmaintained)] {
            for t in s.split(' ') {
                let censored = t.ends_with('+');
                obs.push(o(t.trim_end_matches('+').parse().unwrap(), !censored));
                x.push(vec![group]);
            }
        }
        (obs, x)
    }

    #[test]
    fn cox_reproduces_the_survival_package_on_aml() {
        // coxph(Surv(time, status) ~ x, data = aml) (Efron ties): coef 0.9155, se 0.5119,
        // likelihood-ratio test 3.38 on 1 df (the survival package's documented example
        // output, reproduced in several course notes [V]).
        let (obs, x) = aml();
        let fit = cox(&obs, &x, Ties::Efron);
        assert!(fit.converged);
        assert!((fit.beta[0] - 0.9155).abs() < 5e-5, "{:?}", fit);
        assert!((fit.se[0] - 0.5119).abs() < 5e-5, "{:?}", fit);
        let lr = 2.0 * (fit.loglik - fit.loglik_null);
        assert!((lr - 3.38).abs() < 0.005, "{lr}");
        let (hr, lo, hi) = fit.hazard_ratio(0);
        assert!((hr - 2.4981).abs() < 5e-4 && lo < hr && hi > hr);
        // Breslow differs with ties (two tied pairs at 5 and 8, one across groups at 23).
        let breslow = cox(&obs, &x, Ties::Breslow);
        assert!(breslow.converged && (breslow.beta[0] - fit.beta[0]).abs() > 1e-4);
    }

    #[test]
    fn cox_with_two_covariates_recovers_a_simulated_hazard_ratio() {
        // Exponential times with log-hazards 0.7 x1 − 0.4 x2, no censoring, 4,000 people:
        // the estimates lie within 3 standard errors of the truth.
        let n = 4000;
        let mut obs = Vec::new();
        let mut x = Vec::new();
        let mut u = 0.5f64;
        for i in 0..n {
            // A simple deterministic sequence of uniforms (golden-ratio rotation).
            u = (u + 0.618_033_988_749_895) % 1.0;
            let x1 = (i % 2) as f64;
            let x2 = ((i / 2) % 3) as f64;
            let rate = (0.7 * x1 - 0.4 * x2).exp_det();
            obs.push(o(-(1.0 - u).ln_det() / rate, true));
            x.push(vec![x1, x2]);
        }
        let fit = cox(&obs, &x, Ties::Efron);
        assert!((fit.beta[0] - 0.7).abs() < 3.0 * fit.se[0], "{fit:?}");
        assert!((fit.beta[1] + 0.4).abs() < 3.0 * fit.se[1], "{fit:?}");
    }

    #[test]
    fn kaplan_meier_matches_a_hand_computed_example() {
        // Times 1, 2, 2, 3+, 4, 5+ (six people):
        // t=1: n 6, d 1 → S = 5/6; t=2: n 5, d 2 → S = 5/6 × 3/5 = 1/2;
        // t=4: n 2 (3+ left), d 1 → S = 1/4.
        // Greenwood: 1/(6·5) + 2/(5·3) + 1/(2·1) = 0.0333 + 0.1333 + 0.5 = 0.6667.
        let obs = [
            o(1.0, true),
            o(2.0, true),
            o(2.0, true),
            o(3.0, false),
            o(4.0, true),
            o(5.0, false),
        ];
        let km = kaplan_meier(&obs);
        let s: Vec<f64> = km.iter().map(|k| k.survival).collect();
        assert_eq!(km.len(), 3);
        assert!((s[0] - 5.0 / 6.0).abs() < 1e-12);
        assert!((s[1] - 0.5).abs() < 1e-12);
        assert!((s[2] - 0.25).abs() < 1e-12);
        assert_eq!((km[2].at_risk, km[2].events), (2, 1));
        assert!((km[2].greenwood - (1.0 / 30.0 + 2.0 / 15.0 + 0.5)).abs() < 1e-12);
        let (ci, lo, hi) = cumulative_incidence(&km, 4.5);
        assert!((ci - 0.75).abs() < 1e-12 && lo < ci && ci < hi && hi <= 1.0);
        // Between events the curve is flat; before the first, zero.
        assert_eq!(cumulative_incidence(&km, 2.5).0, 0.5);
        assert_eq!(cumulative_incidence(&km, 0.5), (0.0, 0.0, 0.0));
    }
}
