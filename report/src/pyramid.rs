//! Population pyramids (PNG and SVG): horizontal bars by age band, men to the left and women
//! to the right of a shared axis, with the same fonts and file conventions as [`crate::plot`].
//! A bar hidden by disclosure control is drawn as a `*` at the axis, never as its value.

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::table::{write_atomic, ReportError};

const W: u32 = 960;
const H: u32 = 640;

/// What a pyramid shows: bands from the youngest (bottom) to the oldest (top).
#[derive(Clone, Debug, Default)]
pub struct Pyramid {
    pub title: String,
    pub x_label: String,
    pub left_name: String,
    pub right_name: String,
    pub bands: Vec<String>,
    /// One value per band (`None`: suppressed).
    pub left: Vec<Option<f64>>,
    pub right: Vec<Option<f64>>,
}

const LEFT: RGBColor = RGBColor(0, 114, 178);
const RIGHT: RGBColor = RGBColor(213, 94, 0);

fn draw<DB: DrawingBackend>(area: DrawingArea<DB, Shift>, p: &Pyramid) -> Result<(), String>
where
    DB::ErrorType: 'static,
{
    area.fill(&WHITE).map_err(|e| e.to_string())?;
    let max = p
        .left
        .iter()
        .chain(&p.right)
        .flatten()
        .copied()
        .filter(|v| v.is_finite())
        .fold(0.0f64, f64::max)
        .max(1.0)
        * 1.08;
    let n = p.bands.len().max(1) as f64;
    let mut ctx = ChartBuilder::on(&area)
        .caption(&p.title, ("sans-serif", 22))
        .margin(12)
        .x_label_area_size(48)
        .y_label_area_size(70)
        .build_cartesian_2d(-max..max, 0.0..n)
        .map_err(|e| e.to_string())?;
    let abs_label = |x: &f64| {
        let v = x.abs();
        if v >= 10_000.0 {
            format!("{:.0}k", v / 1000.0)
        } else {
            format!("{v:.0}")
        }
    };
    let bands = p.bands.clone();
    let band_label = move |y: &f64| {
        let i = (y - 0.5).round();
        if (y - 0.5 - i).abs() < 1e-6 && i >= 0.0 {
            bands.get(i as usize).cloned().unwrap_or_default()
        } else {
            String::new()
        }
    };
    ctx.configure_mesh()
        .x_desc(p.x_label.as_str())
        .x_label_formatter(&abs_label)
        .y_labels(p.bands.len() * 2 + 1)
        .y_label_formatter(&band_label)
        .disable_y_mesh()
        .label_style(("sans-serif", 14))
        .light_line_style(RGBColor(235, 235, 235))
        .draw()
        .map_err(|e| e.to_string())?;
    let star = TextStyle::from(("sans-serif", 16).into_font())
        .color(&RGBColor(90, 90, 90))
        .pos(Pos::new(HPos::Center, VPos::Center));
    for (side, values, colour) in [(-1.0, &p.left, LEFT), (1.0, &p.right, RIGHT)] {
        for (i, v) in values.iter().enumerate() {
            let y = i as f64;
            match v {
                Some(v) if v.is_finite() => {
                    ctx.draw_series(std::iter::once(Rectangle::new(
                        [(0.0, y + 0.1), (side * v, y + 0.9)],
                        colour.mix(0.85).filled(),
                    )))
                    .map_err(|e| e.to_string())?;
                }
                _ => {
                    ctx.draw_series(std::iter::once(Text::new(
                        "*",
                        (side * max * 0.03, y + 0.5),
                        star.clone(),
                    )))
                    .map_err(|e| e.to_string())?;
                }
            }
        }
    }
    ctx.draw_series(LineSeries::new([(0.0, 0.0), (0.0, n)], BLACK))
        .map_err(|e| e.to_string())?;
    for (name, colour) in [(&p.left_name, LEFT), (&p.right_name, RIGHT)] {
        ctx.draw_series(std::iter::once(Rectangle::new(
            [(0.0, 0.0), (0.0, 0.0)],
            colour.filled(),
        )))
        .map_err(|e| e.to_string())?
        .label(name.as_str())
        .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 14, y + 5)], colour.filled()));
    }
    ctx.configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .label_font(("sans-serif", 14))
        .draw()
        .map_err(|e| e.to_string())?;
    area.present().map_err(|e| e.to_string())?;
    Ok(())
}

/// The pyramid as an SVG document (HTML reports inline it).
pub fn pyramid_svg(p: &Pyramid) -> Result<String, String> {
    crate::plot::register_font();
    let mut svg = String::new();
    draw(
        SVGBackend::with_string(&mut svg, (W, H)).into_drawing_area(),
        p,
    )?;
    Ok(svg)
}

/// Writes `<stem>.png` and `<stem>.svg` (each atomically).
pub fn write_pyramid(stem: &Path, p: &Pyramid) -> Result<(), ReportError> {
    crate::plot::register_font();
    let err = |path: &Path, message: String| ReportError::Io {
        path: path.display().to_string(),
        message: format!("chart: {message}"),
    };
    let png_path = stem.with_extension("png");
    let svg_path = stem.with_extension("svg");
    let svg = pyramid_svg(p).map_err(|e| err(&svg_path, e))?;
    write_atomic(&svg_path, svg.as_bytes())?;
    let mut rgb = vec![0u8; (W * H * 3) as usize];
    draw(
        BitMapBackend::with_buffer(&mut rgb, (W, H)).into_drawing_area(),
        p,
    )
    .map_err(|e| err(&png_path, e))?;
    crate::plot::write_png(&png_path, &rgb, W, H)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_and_hidden_bands_are_drawn() {
        let dir = tempfile::tempdir().unwrap();
        let p = Pyramid {
            title: "Residents".into(),
            x_label: "residents".into(),
            left_name: "men".into(),
            right_name: "women".into(),
            bands: vec!["65-69".into(), "70-74".into(), "100+".into()],
            left: vec![Some(900.0), Some(800.0), None],
            right: vec![Some(950.0), Some(870.0), Some(12.0)],
        };
        write_pyramid(&dir.path().join("p"), &p).unwrap();
        let svg = std::fs::read_to_string(dir.path().join("p.svg")).unwrap();
        assert!(svg.contains("65-69") && svg.contains("100+") && svg.contains("women"));
        assert!(svg.contains(">\n*\n</text>"), "a suppressed bar shows as *");
        assert!(svg.matches("<rect").count() >= 5);
        let png = std::fs::read(dir.path().join("p.png")).unwrap();
        assert_eq!(&png[1..4], b"PNG");
    }
}
