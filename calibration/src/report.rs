//! The calibration report: one self-contained HTML page (inline SVG, no script, no network)
//! with each target against its simulated value before and after calibration, the
//! posterior marginals with their priors, pairwise plots of the particles, and the
//! tolerance and acceptance of each generation; plus PNG and SVG charts of the targets and
//! the generations through `report::plot`.
//!
//! Must never: compute a model quantity (it draws what the calibration produced).

use engine::math::DetMath;
use std::fmt::Write;
use std::path::Path;

use ::report::plot::{write_chart, Chart, Series};

use crate::abc::Generation;
use crate::priors::Parameter;
use crate::targets::Target;
use crate::CalibrationError;

/// A simulated value of each target: a point and, when known, a 95% band.
#[derive(Clone, Debug, Default)]
pub struct Simulated {
    pub label: String,
    pub point: Vec<f64>,
    pub band: Option<Vec<(f64, f64)>>,
}

/// What the report shows.
pub struct ReportInput<'a> {
    pub title: String,
    pub command: String,
    pub targets: &'a [Target],
    pub parameters: &'a [Parameter],
    pub before: Simulated,
    pub after: Simulated,
    pub distance_before: f64,
    pub distance_after: f64,
    /// Posterior particles (parameter values) and weights, when ABC ran.
    pub posterior: Option<(&'a [Vec<f64>], &'a [f64])>,
    /// The point estimate's parameter values.
    pub point: &'a [f64],
    pub generations: &'a [Generation],
    /// Best distance after each Nelder–Mead evaluation, when it ran.
    pub nm_trace: Option<&'a [f64]>,
    pub notes: Vec<String>,
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn fmt(v: f64) -> String {
    if !v.is_finite() {
        return "–".into();
    }
    let a = v.abs();
    if a >= 1000.0 {
        format!("{v:.0}")
    } else if a >= 100.0 {
        format!("{v:.1}")
    } else if a >= 1.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.4}")
    }
}

/// Weighted quantile of values.
fn wquantile(values: &[f64], weights: &[f64], q: f64) -> f64 {
    let mut v: Vec<(f64, f64)> = values
        .iter()
        .copied()
        .zip(weights.iter().copied())
        .filter(|(x, _)| x.is_finite())
        .collect();
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(|a, b| a.0.total_cmp(&b.0));
    let total: f64 = v.iter().map(|x| x.1).sum();
    let mut acc = 0.0;
    for (x, w) in &v {
        acc += w / total;
        if acc >= q {
            return *x;
        }
    }
    v[v.len() - 1].0
}

/// Posterior (or prior) predictive: weighted mean and 95% interval of each target's
/// simulated value over particles.
pub fn predictive(stats: &[Vec<f64>], weights: &[f64], label: &str) -> Simulated {
    let n_targets = stats.first().map(|s| s.len()).unwrap_or(0);
    let mut point = Vec::new();
    let mut band = Vec::new();
    for t in 0..n_targets {
        let col: Vec<f64> = stats.iter().map(|s| s[t]).collect();
        let (mut num, mut den) = (0.0, 0.0);
        for (v, w) in col.iter().zip(weights) {
            if v.is_finite() {
                num += v * w;
                den += w;
            }
        }
        point.push(if den > 0.0 { num / den } else { f64::NAN });
        band.push((
            wquantile(&col, weights, 0.025),
            wquantile(&col, weights, 0.975),
        ));
    }
    Simulated {
        label: label.to_string(),
        point,
        band: Some(band),
    }
}

const BLUE: &str = "#0072b2";
const GREY: &str = "#888888";
const ORANGE: &str = "#d55e00";

/// Targets in z units (0 = the published value, ±1.96 its 95% interval): one row each,
/// before (grey) and after (blue), with their bands.
fn svg_targets(input: &ReportInput) -> String {
    let rows = input.targets.len();
    let (w, row_h, left, right) = (960.0, 22.0, 330.0, 40.0);
    let h = 50.0 + row_h * rows as f64 + 30.0;
    let z = |t: &Target, v: f64| (v - t.value) / t.se;
    let mut lo: f64 = -3.0;
    let mut hi: f64 = 3.0;
    for (i, t) in input.targets.iter().enumerate() {
        for s in [&input.before, &input.after] {
            let v = z(t, s.point[i]);
            if v.is_finite() {
                lo = lo.min(v);
                hi = hi.max(v);
            }
        }
    }
    let lo = lo.max(-30.0).floor();
    let hi = hi.min(30.0).ceil();
    let x = |v: f64| left + (v.clamp(lo, hi) - lo) / (hi - lo) * (w - left - right);
    let mut s = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" font-family="sans-serif" font-size="11" role="img" aria-label="targets before and after calibration">"#
    );
    let _ = write!(
        s,
        r##"<rect x="{}" y="40" width="{}" height="{}" fill="#eeeeee"/>"##,
        x(-1.96),
        x(1.96) - x(-1.96),
        row_h * rows as f64
    );
    let step = ((hi - lo) / 10.0).ceil().max(1.0);
    let mut tick = (lo / step).ceil() * step;
    while tick <= hi {
        let _ = write!(
            s,
            r##"<line x1="{0}" y1="40" x2="{0}" y2="{1}" stroke="#dddddd"/><text x="{0}" y="{2}" text-anchor="middle">{3}</text>"##,
            x(tick),
            40.0 + row_h * rows as f64,
            55.0 + row_h * rows as f64,
            tick
        );
        tick += step;
    }
    let _ = write!(
        s,
        r#"<line x1="{0}" y1="40" x2="{0}" y2="{1}" stroke="black"/><text x="{2}" y="20" font-size="12">(simulated − published) / SE: 0 is the published value, the shaded band its 95% interval; grey = before, blue = after</text><text x="{2}" y="{3}" text-anchor="middle">z</text>"#,
        x(0.0),
        40.0 + row_h * rows as f64,
        left,
        70.0 + row_h * rows as f64
    );
    for (i, t) in input.targets.iter().enumerate() {
        let y = 40.0 + row_h * (i as f64 + 0.5);
        let _ = write!(
            s,
            r#"<text x="{}" y="{}" text-anchor="end">{}</text>"#,
            left - 8.0,
            y + 4.0,
            esc(&t.name)
        );
        for (sim, colour, dy) in [(&input.before, GREY, -4.0), (&input.after, BLUE, 4.0)] {
            if let Some(band) = &sim.band {
                let (a, b) = band[i];
                let (a, b) = (z(t, a), z(t, b));
                if a.is_finite() && b.is_finite() {
                    let _ = write!(
                        s,
                        r#"<line x1="{}" y1="{2}" x2="{}" y2="{2}" stroke="{colour}" stroke-width="2"/>"#,
                        x(a),
                        x(b),
                        y + dy
                    );
                }
            }
            let v = z(t, sim.point[i]);
            if v.is_finite() {
                let _ = write!(
                    s,
                    r#"<circle cx="{}" cy="{}" r="4" fill="{colour}"><title>{}: {}</title></circle>"#,
                    x(v),
                    y + dy,
                    esc(&sim.label),
                    fmt(sim.point[i])
                );
            }
        }
    }
    s.push_str("</svg>");
    s
}

/// A weighted histogram of one parameter with its prior density, the default (orange) and
/// the point estimate (blue).
fn svg_marginal(p: &Parameter, values: &[f64], weights: &[f64], point: f64) -> String {
    let (w, h, pad) = (300.0, 180.0, 30.0);
    let (lo, hi) = p.support();
    let bins = 20;
    let mut counts = vec![0.0; bins];
    for (v, wt) in values.iter().zip(weights) {
        let b = (((v - lo) / (hi - lo)) * bins as f64).floor();
        if b.is_finite() {
            counts[(b.max(0.0) as usize).min(bins - 1)] += wt;
        }
    }
    let width = (hi - lo) / bins as f64;
    let dens: Vec<f64> = counts.iter().map(|c| c / width).collect();
    let prior: Vec<f64> = (0..=60)
        .map(|i| p.pdf(lo + (hi - lo) * f64::from(i) / 60.0))
        .collect();
    let ymax = dens
        .iter()
        .chain(&prior)
        .copied()
        .filter(|v| v.is_finite())
        .fold(1e-12, f64::max);
    let x = |v: f64| pad + (v - lo) / (hi - lo) * (w - 2.0 * pad);
    let y = |d: f64| h - pad - d / ymax * (h - 2.0 * pad);
    let mut s = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" font-family="sans-serif" font-size="10">"#
    );
    let _ = write!(
        s,
        r#"<text x="{pad}" y="14" font-size="11">{}</text>"#,
        esc(&p.name)
    );
    for (i, d) in dens.iter().enumerate() {
        let x0 = x(lo + width * i as f64);
        let _ = write!(
            s,
            r#"<rect x="{x0}" y="{}" width="{}" height="{}" fill="{BLUE}" fill-opacity="0.45"/>"#,
            y(*d),
            (x(lo + width) - x(lo)).max(0.5),
            (h - pad - y(*d)).max(0.0)
        );
    }
    let path: Vec<String> = prior
        .iter()
        .enumerate()
        .map(|(i, d)| format!("{:.2},{:.2}", x(lo + (hi - lo) * i as f64 / 60.0), y(*d)))
        .collect();
    let _ = write!(
        s,
        r#"<polyline points="{}" fill="none" stroke="black" stroke-dasharray="4 3"/>"#,
        path.join(" ")
    );
    for (v, colour) in [(p.default, ORANGE), (point, BLUE)] {
        if v >= lo && v <= hi {
            let _ = write!(
                s,
                r#"<line x1="{0}" y1="{1}" x2="{0}" y2="{2}" stroke="{colour}" stroke-width="2"/>"#,
                x(v),
                pad,
                h - pad
            );
        }
    }
    let _ = write!(
        s,
        r#"<line x1="{pad}" y1="{0}" x2="{1}" y2="{0}" stroke="black"/><text x="{pad}" y="{2}">{3}</text><text x="{1}" y="{2}" text-anchor="end">{4}</text></svg>"#,
        h - pad,
        w - pad,
        h - 12.0,
        fmt(lo),
        fmt(hi)
    );
    s
}

/// Pairwise scatter of the particles (lower triangle), point size by weight.
fn svg_pairs(params: &[Parameter], particles: &[Vec<f64>], weights: &[f64]) -> String {
    let d = params.len().min(10);
    let cell = 110.0;
    let size = 40.0 + cell * d as f64;
    let mut s = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}" viewBox="0 0 {size} {size}" font-family="sans-serif" font-size="9">"#
    );
    let wmax = weights.iter().copied().fold(1e-300, f64::max);
    for i in 0..d {
        for j in 0..d {
            let (x0, y0) = (40.0 + cell * j as f64, cell * i as f64);
            if j > i {
                continue;
            }
            let _ = write!(
                s,
                r##"<rect x="{x0}" y="{y0}" width="{}" height="{}" fill="none" stroke="#cccccc"/>"##,
                cell - 4.0,
                cell - 4.0
            );
            if i == j {
                let _ = write!(
                    s,
                    r#"<text x="{}" y="{}" text-anchor="middle">{}</text>"#,
                    x0 + cell / 2.0 - 2.0,
                    y0 + cell / 2.0,
                    esc(params[i].name.rsplit('.').next().unwrap_or(&params[i].name))
                );
                continue;
            }
            let (ax, bx) = params[j].support();
            let (ay, by) = params[i].support();
            for (p, w) in particles.iter().zip(weights) {
                let px = x0 + 3.0 + (p[j] - ax) / (bx - ax) * (cell - 10.0);
                let py = y0 + cell - 7.0 - (p[i] - ay) / (by - ay) * (cell - 10.0);
                let _ = write!(
                    s,
                    r#"<circle cx="{px:.1}" cy="{py:.1}" r="{:.2}" fill="{BLUE}" fill-opacity="0.5"/>"#,
                    0.8 + 2.2 * (w / wmax).sqrt()
                );
            }
        }
    }
    s.push_str("</svg>");
    s
}

/// Tolerance (log scale) and acceptance by generation.
fn svg_generations(g: &[Generation]) -> String {
    let (w, h, pad) = (640.0, 240.0, 45.0);
    let tols: Vec<f64> = g
        .iter()
        .map(|x| x.tolerance)
        .filter(|t| t.is_finite())
        .collect();
    let (tmin, tmax) = tols
        .iter()
        .fold((f64::INFINITY, 0.0f64), |a, &t| (a.0.min(t), a.1.max(t)));
    let (lmin, lmax) = (tmin.max(1e-6).ln_det(), tmax.max(1e-6).ln_det() + 1e-9);
    let n = g.len().max(2) as f64 - 1.0;
    let x = |i: usize| pad + i as f64 / n * (w - 2.0 * pad);
    let yt = |t: f64| h - pad - (t.ln_det() - lmin) / (lmax - lmin).max(1e-9) * (h - 2.0 * pad);
    let ya = |a: f64| h - pad - a * (h - 2.0 * pad);
    let mut s = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" font-family="sans-serif" font-size="10"><text x="{pad}" y="16" font-size="11">tolerance (blue, log scale, {} to {}) and acceptance rate (orange, 0 to 1) by generation</text>"#,
        fmt(tmin),
        fmt(tmax)
    );
    let tol_pts: Vec<String> = g
        .iter()
        .enumerate()
        .filter(|(_, x)| x.tolerance.is_finite())
        .map(|(i, q)| format!("{:.1},{:.1}", x(i), yt(q.tolerance)))
        .collect();
    let acc_pts: Vec<String> = g
        .iter()
        .enumerate()
        .map(|(i, q)| format!("{:.1},{:.1}", x(i), ya(q.acceptance)))
        .collect();
    let _ = write!(
        s,
        r#"<polyline points="{}" fill="none" stroke="{BLUE}" stroke-width="2"/><polyline points="{}" fill="none" stroke="{ORANGE}" stroke-width="2"/>"#,
        tol_pts.join(" "),
        acc_pts.join(" ")
    );
    for (i, _) in g.iter().enumerate() {
        let _ = write!(
            s,
            r#"<text x="{}" y="{}" text-anchor="middle">{i}</text>"#,
            x(i),
            h - pad + 14.0
        );
    }
    let _ = write!(
        s,
        r#"<line x1="{pad}" y1="{0}" x2="{1}" y2="{0}" stroke="black"/><text x="{2}" y="{3}" text-anchor="middle">generation</text></svg>"#,
        h - pad,
        w - pad,
        w / 2.0,
        h - 8.0
    );
    s
}

/// The report's HTML.
pub fn html(input: &ReportInput) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title><style>body{{font-family:sans-serif;max-width:1100px;margin:2em auto;color:#222}}table{{border-collapse:collapse;font-size:13px}}td,th{{border-bottom:1px solid #ddd;padding:3px 8px;text-align:right}}td:first-child,th:first-child{{text-align:left}}.miss{{color:#b00}}.grid{{display:flex;flex-wrap:wrap;gap:8px}}code{{font-size:12px}}</style></head><body>",
        esc(&input.title)
    );
    let _ = writeln!(
        s,
        "<h1>{}</h1>\n<p><code>{}</code></p>\n<p>Distance (weighted RMS z-score over the {} targets with weight &gt; 0, of {}): before {}, after {}.</p>",
        esc(&input.title),
        esc(&input.command),
        input.targets.iter().filter(|t| t.weight > 0.0).count(),
        input.targets.len(),
        fmt(input.distance_before),
        fmt(input.distance_after)
    );
    if !input.notes.is_empty() {
        s.push_str("<ul>");
        for n in &input.notes {
            let _ = write!(s, "<li>{}</li>", esc(n));
        }
        s.push_str("</ul>\n");
    }
    s.push_str("<h2>Targets before and after</h2>\n");
    s.push_str(&svg_targets(input));
    let _ = writeln!(
        s,
        "\n<table><tr><th>target</th><th>published</th><th>95% interval</th><th>{} </th><th>{}</th><th>z before</th><th>z after</th><th>source</th></tr>",
        esc(&input.before.label),
        esc(&input.after.label)
    );
    let cell = |sim: &Simulated, i: usize| match &sim.band {
        Some(b) => format!("{} ({}–{})", fmt(sim.point[i]), fmt(b[i].0), fmt(b[i].1)),
        None => fmt(sim.point[i]),
    };
    for (i, t) in input.targets.iter().enumerate() {
        let zb = (input.before.point[i] - t.value) / t.se;
        let za = (input.after.point[i] - t.value) / t.se;
        let inside = |v: f64| v >= t.interval.0 && v <= t.interval.1;
        let class = if inside(input.after.point[i]) {
            ""
        } else {
            " class=\"miss\""
        };
        let _ = writeln!(
            s,
            "<tr{class}><td>{}</td><td>{}</td><td>{}–{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td style=\"text-align:left;font-size:11px\">{}</td></tr>",
            esc(&t.name),
            fmt(t.value),
            fmt(t.interval.0),
            fmt(t.interval.1),
            cell(&input.before, i),
            cell(&input.after, i),
            fmt(zb),
            fmt(za),
            esc(&t.source)
        );
    }
    s.push_str(
        "</table>\n<p>Red rows: the calibrated value is outside the published 95% interval.</p>\n",
    );
    s.push_str("<h2>Parameters</h2>\n<table><tr><th>parameter</th><th>prior</th><th>default</th><th>point estimate</th><th>posterior mean</th><th>posterior 95%</th><th>source of the prior</th></tr>\n");
    for (j, p) in input.parameters.iter().enumerate() {
        let (mean, lo, hi) = match input.posterior {
            Some((parts, w)) => {
                let col: Vec<f64> = parts.iter().map(|x| x[j]).collect();
                let m: f64 =
                    col.iter().zip(w).map(|(a, b)| a * b).sum::<f64>() / w.iter().sum::<f64>();
                (m, wquantile(&col, w, 0.025), wquantile(&col, w, 0.975))
            }
            None => (f64::NAN, f64::NAN, f64::NAN),
        };
        let _ = writeln!(
            s,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}–{}</td><td style=\"text-align:left;font-size:11px\">{}</td></tr>",
            esc(&p.name),
            esc(&p.describe()),
            fmt(p.default),
            fmt(input.point.get(j).copied().unwrap_or(f64::NAN)),
            fmt(mean),
            fmt(lo),
            fmt(hi),
            esc(&p.source)
        );
    }
    s.push_str("</table>\n");
    if let Some((parts, w)) = input.posterior {
        s.push_str("<h2>Posterior marginals</h2>\n<p>Bars: weighted posterior; dashed: prior density; orange: model default; blue line: point estimate.</p>\n<div class=\"grid\">");
        for (j, p) in input.parameters.iter().enumerate() {
            let col: Vec<f64> = parts.iter().map(|x| x[j]).collect();
            s.push_str(&svg_marginal(
                p,
                &col,
                w,
                input.point.get(j).copied().unwrap_or(f64::NAN),
            ));
        }
        s.push_str("</div>\n<h2>Pairwise posterior</h2>\n");
        s.push_str(&svg_pairs(input.parameters, parts, w));
        s.push('\n');
    }
    if !input.generations.is_empty() {
        s.push_str("<h2>Tolerance and acceptance per generation</h2>\n");
        s.push_str(&svg_generations(input.generations));
        s.push_str("\n<table><tr><th>generation</th><th>tolerance</th><th>simulated</th><th>accepted</th><th>acceptance</th><th>ESS</th><th>seconds</th></tr>\n");
        for g in input.generations {
            let _ = writeln!(
                s,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                g.index,
                fmt(g.tolerance),
                g.simulated,
                g.accepted,
                fmt(g.acceptance),
                fmt(g.ess),
                fmt(g.seconds)
            );
        }
        s.push_str("</table>\n");
    }
    if let Some(trace) = input.nm_trace {
        let _ = writeln!(
            s,
            "<h2>Nelder–Mead</h2><p>{} evaluations; best distance {} → {}.</p>",
            trace.len(),
            fmt(trace.first().copied().unwrap_or(f64::NAN)),
            fmt(trace.last().copied().unwrap_or(f64::NAN))
        );
    }
    s.push_str("</body></html>\n");
    s
}

/// PNG and SVG charts beside the HTML: `targets_z` (z-scores before and after by target)
/// and, when ABC ran, `generations` (tolerance and acceptance).
pub fn charts(dir: &Path, input: &ReportInput) -> Result<Vec<String>, CalibrationError> {
    let mut files = Vec::new();
    let mut chart = Chart::lines(
        "Targets: (simulated - published) / SE",
        "target (order of the target files)",
        "z",
    );
    chart.scatter = true;
    for sim in [&input.before, &input.after] {
        chart.series.push(Series {
            name: sim.label.clone(),
            points: input
                .targets
                .iter()
                .enumerate()
                .map(|(i, t)| ((i + 1) as f64, (sim.point[i] - t.value) / t.se))
                .filter(|p| p.1.is_finite())
                .collect(),
            band: Vec::new(),
        });
    }
    chart.zero = ::report::plot::ZeroLines::Horizontal;
    write_chart(&dir.join("targets_z"), &chart)?;
    files.extend(["targets_z.png".to_string(), "targets_z.svg".to_string()]);
    if input.generations.len() > 1 {
        let mut g = Chart::lines(
            "ABC-SMC by generation",
            "generation",
            "tolerance / acceptance",
        );
        g.series.push(Series {
            name: "tolerance (RMS z)".into(),
            points: input
                .generations
                .iter()
                .filter(|x| x.tolerance.is_finite())
                .map(|x| (x.index as f64, x.tolerance))
                .collect(),
            band: Vec::new(),
        });
        g.series.push(Series {
            name: "acceptance rate".into(),
            points: input
                .generations
                .iter()
                .map(|x| (x.index as f64, x.acceptance))
                .collect(),
            band: Vec::new(),
        });
        write_chart(&dir.join("generations"), &g)?;
        files.extend(["generations.png".to_string(), "generations.svg".to_string()]);
    }
    Ok(files)
}
