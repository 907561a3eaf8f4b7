//! Comparison charts (PNG and SVG) with plotters: line charts (cumulative incidence, averted
//! cases by year, acceptability curves) and scatter charts (the cost-effectiveness plane).
//!
//! plotters runs without its default features (font-kit/fontconfig, the `image` crate,
//! chrono): bitmap + SVG backends, line/area/point series, and ab_glyph text with the
//! embedded DejaVu Sans, so a PNG has its labels on any machine. PNGs are encoded with the
//! `png` crate. Building plotters, png, dejavu and ab_glyph from scratch took 40 s here
//! (`cargo build --release -p report`, 2 cores). Every file is written atomically.

use std::path::Path;
use std::sync::Once;

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::table::{write_atomic, ReportError};

const W: u32 = 960;
const H: u32 = 600;

/// One named series of (x, y) points, optionally with an interval band around it.
#[derive(Clone, Debug, Default)]
pub struct Series {
    pub name: String,
    pub points: Vec<(f64, f64)>,
    /// (x, lower, upper): drawn as a light band in the series' colour (empty: none).
    pub band: Vec<(f64, f64, f64)>,
}

/// Which zero lines a chart includes in its range and draws.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum ZeroLines {
    #[default]
    None,
    /// y = 0 only (differences over time).
    Horizontal,
    /// Both axes through the origin (the cost-effectiveness plane).
    Both,
}

/// What a chart shows.
#[derive(Clone, Debug)]
pub struct Chart {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub series: Vec<Series>,
    /// Points (scatter) instead of lines.
    pub scatter: bool,
    /// A labelled vertical reference line (x, label).
    pub vline: Option<(f64, String)>,
    /// A labelled line through the origin with this slope (e.g. willingness to pay).
    pub ray: Option<(f64, String)>,
    /// Zero lines drawn (and kept in range).
    pub zero: ZeroLines,
    /// A fixed y range (probabilities: 0 to 1); `None`: from the data.
    pub y_range: Option<(f64, f64)>,
    /// The x axis is calendar years: ticks labelled as whole years, never `2024.0`.
    pub x_years: bool,
    /// The axes count whole things (people, places): ticks labelled as whole numbers with
    /// thousands separators (`1,950`, never `1950.0`); the x axis too unless it is years.
    pub whole_numbers: bool,
}

impl Chart {
    /// A line chart with no reference lines, zero lines or fixed range.
    pub fn lines(
        title: impl Into<String>,
        x_label: impl Into<String>,
        y_label: impl Into<String>,
    ) -> Self {
        Chart {
            title: title.into(),
            x_label: x_label.into(),
            y_label: y_label.into(),
            series: Vec::new(),
            scatter: false,
            vline: None,
            ray: None,
            zero: ZeroLines::None,
            y_range: None,
            x_years: false,
            whole_numbers: false,
        }
    }
}

static FONT: Once = Once::new();

pub(crate) fn register_font() {
    FONT.call_once(|| {
        // The embedded font parses (it ships with the `dejavu` crate); if it did not, text
        // would be left out of PNGs, never a crash.
        let _ = plotters::style::register_font(
            "sans-serif",
            FontStyle::Normal,
            dejavu::sans::regular(),
        );
    });
}

fn palette(i: usize) -> RGBColor {
    const C: [RGBColor; 8] = [
        RGBColor(0, 0, 0),
        RGBColor(213, 94, 0),
        RGBColor(0, 114, 178),
        RGBColor(0, 158, 115),
        RGBColor(204, 121, 167),
        RGBColor(230, 159, 0),
        RGBColor(86, 180, 233),
        RGBColor(120, 120, 120),
    ];
    C[i % C.len()]
}

fn bounds(chart: &Chart) -> ((f64, f64), (f64, f64)) {
    let pts = chart.series.iter().flat_map(|s| s.points.iter());
    let (mut x0, mut x1, mut y0, mut y1) = (
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::INFINITY,
        f64::NEG_INFINITY,
    );
    let bands = chart
        .series
        .iter()
        .flat_map(|s| s.band.iter())
        .flat_map(|&(x, lo, hi)| [(x, lo), (x, hi)]);
    for (x, y) in pts
        .copied()
        .chain(bands)
        .filter(|(x, y)| x.is_finite() && y.is_finite())
    {
        x0 = x0.min(x);
        x1 = x1.max(x);
        y0 = y0.min(y);
        y1 = y1.max(y);
    }
    if let Some((x, _)) = &chart.vline {
        x0 = x0.min(*x);
        x1 = x1.max(*x);
    }
    if chart.zero == ZeroLines::Both {
        x0 = x0.min(0.0);
        x1 = x1.max(0.0);
    }
    if chart.zero != ZeroLines::None {
        y0 = y0.min(0.0);
        y1 = y1.max(0.0);
    }
    if !x0.is_finite() {
        (x0, x1, y0, y1) = (0.0, 1.0, 0.0, 1.0);
    }
    if let Some((lo, hi)) = chart.y_range {
        // A fixed range is drawn as it is, with a small margin so lines at its ends show.
        let m = (hi - lo) * 0.03;
        let pad_x = if x1 > x0 { (x1 - x0) * 0.05 } else { 1.0 };
        return ((x0 - pad_x, x1 + pad_x), (lo - m, hi + m));
    }
    let pad = |a: f64, b: f64| {
        let d = if b > a {
            (b - a) * 0.05
        } else {
            a.abs().max(1.0) * 0.05
        };
        (a - d, b + d)
    };
    (pad(x0, x1), pad(y0, y1))
}

fn draw<DB: DrawingBackend>(area: DrawingArea<DB, Shift>, chart: &Chart) -> Result<(), String>
where
    DB::ErrorType: 'static,
{
    area.fill(&WHITE).map_err(|e| e.to_string())?;
    let ((x0, x1), (y0, y1)) = bounds(chart);
    let mut ctx = ChartBuilder::on(&area)
        .caption(&chart.title, ("sans-serif", 22))
        .margin(12)
        .x_label_area_size(48)
        .y_label_area_size(90)
        .build_cartesian_2d(x0..x1, y0..y1)
        .map_err(|e| e.to_string())?;
    let year_label = |x: &f64| {
        // Whole years only: a tick between two years gets no label.
        if (x - x.round()).abs() < 1e-6 {
            format!("{}", x.round() as i64)
        } else {
            String::new()
        }
    };
    let mut mesh = ctx.configure_mesh();
    mesh.x_desc(chart.x_label.as_str())
        .y_desc(chart.y_label.as_str())
        .label_style(("sans-serif", 14))
        .light_line_style(RGBColor(235, 235, 235));
    if chart.x_years {
        mesh.x_label_formatter(&year_label);
    }
    let integer_label = |y: &f64| {
        if (y - y.round()).abs() < 1e-6 {
            group_thousands(y.round() as i64)
        } else {
            String::new()
        }
    };
    if chart.whole_numbers {
        mesh.y_label_formatter(&integer_label);
        if !chart.x_years {
            mesh.x_label_formatter(&integer_label);
        }
    }
    mesh.draw().map_err(|e| e.to_string())?;
    if chart.zero != ZeroLines::None {
        let grey = RGBColor(90, 90, 90);
        ctx.draw_series(LineSeries::new([(x0, 0.0), (x1, 0.0)], grey))
            .map_err(|e| e.to_string())?;
    }
    if chart.zero == ZeroLines::Both {
        let grey = RGBColor(90, 90, 90);
        ctx.draw_series(LineSeries::new([(0.0, y0), (0.0, y1)], grey))
            .map_err(|e| e.to_string())?;
    }
    // Interval bands first, under every line.
    for (i, s) in chart.series.iter().enumerate() {
        let band: Vec<(f64, f64, f64)> = s
            .band
            .iter()
            .copied()
            .filter(|(x, lo, hi)| x.is_finite() && lo.is_finite() && hi.is_finite())
            .collect();
        if band.len() < 2 {
            continue;
        }
        let outline: Vec<(f64, f64)> = band
            .iter()
            .map(|&(x, _, hi)| (x, hi))
            .chain(band.iter().rev().map(|&(x, lo, _)| (x, lo)))
            .collect();
        ctx.draw_series(std::iter::once(Polygon::new(
            outline,
            palette(i).mix(0.15).filled(),
        )))
        .map_err(|e| e.to_string())?;
    }
    if let Some((slope, label)) = &chart.ray {
        // The segment of y = slope * x inside the plot.
        let pts: Vec<(f64, f64)> = (0..=200)
            .map(|i| x0 + (x1 - x0) * f64::from(i) / 200.0)
            .map(|x| (x, slope * x))
            .filter(|(_, y)| *y >= y0 && *y <= y1)
            .collect();
        let red = RGBColor(200, 0, 0);
        ctx.draw_series(LineSeries::new(pts, red.stroke_width(1)))
            .map_err(|e| e.to_string())?
            .label(label.as_str())
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 18, y)], red));
    }
    if let Some((x, label)) = &chart.vline {
        let red = RGBColor(200, 0, 0);
        ctx.draw_series(LineSeries::new([(*x, y0), (*x, y1)], red))
            .map_err(|e| e.to_string())?
            .label(label.as_str())
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 18, y)], red));
    }
    for (i, s) in chart.series.iter().enumerate() {
        let c = palette(i);
        let pts = s
            .points
            .iter()
            .copied()
            .filter(|(x, y)| x.is_finite() && y.is_finite());
        let drawn = if chart.scatter {
            ctx.draw_series(pts.map(|p| Circle::new(p, 3, c.filled())))
                .map_err(|e| e.to_string())?
        } else {
            ctx.draw_series(LineSeries::new(pts, c.stroke_width(2)))
                .map_err(|e| e.to_string())?
        };
        drawn
            .label(s.name.as_str())
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 18, y)], c.stroke_width(2)));
    }
    ctx.configure_series_labels()
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .label_font(("sans-serif", 14))
        .draw()
        .map_err(|e| e.to_string())?;
    area.present().map_err(|e| e.to_string())?;
    Ok(())
}

/// `1234567` as `1,234,567`.
fn group_thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 {
        format!("-{out}")
    } else {
        out
    }
}

fn plot_err(path: &Path, message: String) -> ReportError {
    ReportError::Io {
        path: path.display().to_string(),
        message: format!("chart: {message}"),
    }
}

/// The chart as an SVG document (what `<stem>.svg` holds; HTML reports inline it).
pub fn chart_svg(chart: &Chart) -> Result<String, String> {
    register_font();
    let mut svg = String::new();
    draw(
        SVGBackend::with_string(&mut svg, (W, H)).into_drawing_area(),
        chart,
    )?;
    Ok(svg)
}

/// Writes `<stem>.png` and `<stem>.svg` (each atomically).
pub fn write_chart(stem: &Path, chart: &Chart) -> Result<(), ReportError> {
    register_font();
    let png_path = stem.with_extension("png");
    let svg_path = stem.with_extension("svg");

    let svg = chart_svg(chart).map_err(|e| plot_err(&svg_path, e))?;
    write_atomic(&svg_path, svg.as_bytes())?;

    let mut rgb = vec![0u8; (W * H * 3) as usize];
    draw(
        BitMapBackend::with_buffer(&mut rgb, (W, H)).into_drawing_area(),
        chart,
    )
    .map_err(|e| plot_err(&png_path, e))?;
    write_png(&png_path, &rgb, W, H)
}

/// Encodes an 8-bit RGB buffer of `width` × `height` as PNG and writes it atomically.
pub(crate) fn write_png(
    path: &Path,
    rgb: &[u8],
    width: u32,
    height: u32,
) -> Result<(), ReportError> {
    let mut bytes = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut bytes, width, height);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        let mut w = enc
            .write_header()
            .map_err(|e| plot_err(path, e.to_string()))?;
        w.write_image_data(rgb)
            .map_err(|e| plot_err(path, e.to_string()))?;
    }
    write_atomic(path, &bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_png_and_svg_with_labels() {
        let dir = tempfile::tempdir().unwrap();
        let chart = Chart {
            series: vec![
                Series {
                    name: "baseline".into(),
                    points: vec![(0.0, 0.0), (1.0, 2.0), (2.0, 5.0)],
                    band: vec![(0.0, 0.0, 0.0), (1.0, 1.0, 3.0), (2.0, 4.0, 6.0)],
                },
                Series {
                    name: "programme".into(),
                    points: vec![(0.0, 0.0), (1.0, 1.5), (2.0, 4.0)],
                    band: Vec::new(),
                },
            ],
            vline: Some((1.5, "marker".into())),
            ..Chart::lines("Cumulative incidence", "year", "per 1,000")
        };
        let stem = dir.path().join("c");
        write_chart(&stem, &chart).unwrap();
        let svg = std::fs::read_to_string(dir.path().join("c.svg")).unwrap();
        assert!(svg.contains("Cumulative incidence") && svg.contains("programme"));
        let png = std::fs::read(dir.path().join("c.png")).unwrap();
        assert_eq!(&png[1..4], b"PNG");
        // The title is rendered (dark pixels in the caption band), not left blank.
        let decoder = png::Decoder::new(std::io::Cursor::new(png));
        let mut reader = decoder.read_info().unwrap();
        let mut buf = vec![0; reader.output_buffer_size().unwrap()];
        reader.next_frame(&mut buf).unwrap();
        let caption_dark = buf[..(W * 40 * 3) as usize]
            .chunks(3)
            .filter(|p| p[0] < 100 && p[1] < 100 && p[2] < 100)
            .count();
        assert!(
            caption_dark > 50,
            "caption not drawn: {caption_dark} dark pixels"
        );
    }

    #[test]
    fn ranges_follow_the_data_not_the_origin_unless_asked() {
        let mut chart = Chart::lines("averted", "year", "cases");
        chart.series = vec![Series {
            name: "a".into(),
            points: vec![(2024.5, 3.0), (2033.5, 5.0)],
            band: vec![(2024.5, 1.0, 6.0)],
        }];
        // Differences over calendar time: y = 0 is in range, x = 0 is not.
        chart.zero = ZeroLines::Horizontal;
        let ((x0, x1), (y0, y1)) = bounds(&chart);
        assert!(x0 > 2000.0 && x1 < 2040.0, "x range {x0}..{x1}");
        assert!(
            y0 <= 0.0 && y1 >= 6.0,
            "y range {y0}..{y1} keeps zero and the band"
        );
        // The cost-effectiveness plane keeps the origin.
        chart.zero = ZeroLines::Both;
        assert!(bounds(&chart).0 .0 <= 0.0);
        // A probability keeps its whole range even when every value is 0.
        let mut ceac = Chart::lines("ceac", "wtp", "probability");
        ceac.series = vec![Series {
            name: "s".into(),
            points: vec![(0.0, 0.0), (10.0, 0.0)],
            band: Vec::new(),
        }];
        ceac.y_range = Some((0.0, 1.0));
        let (_, (y0, y1)) = bounds(&ceac);
        assert!(y0 < 0.0 && y1 > 1.0 && y1 < 1.1, "{y0}..{y1}");
    }

    #[test]
    fn year_axes_are_labelled_in_whole_years() {
        let dir = tempfile::tempdir().unwrap();
        let mut chart = Chart::lines("Cumulative", "year", "per 1,000");
        chart.series = vec![Series {
            name: "s".into(),
            points: (2024..=2027).map(|y| (f64::from(y), 1.0)).collect(),
            band: Vec::new(),
        }];
        chart.x_years = true;
        write_chart(&dir.path().join("y"), &chart).unwrap();
        let svg = std::fs::read_to_string(dir.path().join("y.svg")).unwrap();
        let labels: Vec<&str> = svg
            .split("<text")
            .skip(1)
            .filter_map(|t| t.split('>').nth(1))
            .map(|t| t.split('<').next().unwrap_or("").trim())
            .collect();
        assert!(labels.contains(&"2025"), "whole-year labels: {labels:?}");
        assert!(
            !labels
                .iter()
                .any(|l| l.starts_with("202") && l.contains('.')),
            "no decimal years: {labels:?}"
        );
    }
}
