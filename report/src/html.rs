//! One-page HTML reports that open offline: a [`Page`] of headings, paragraphs, key figures,
//! tables and inline SVG charts, rendered to one self-contained file (styles inline, charts
//! as inline `<svg>`, no scripts, no fonts or images fetched: a Content-Security-Policy
//! forbids any network request). Reports speak Japanese or English ([`Lang`]); the text is
//! the caller's, chosen with [`Lang::pick`].
//!
//! Must never: reference anything outside the file, or insert caller text unescaped (every
//! string goes through [`escape`]; only SVG produced by [`crate::plot`] and
//! [`crate::pyramid`] is inserted as markup).

use std::fmt::Write as _;
use std::path::Path;

use crate::plot::{chart_svg, Chart};
use crate::pyramid::{pyramid_svg, Pyramid};
use crate::table::{write_atomic, ReportError};

/// The language of a report.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Lang {
    /// Japanese (the default of clinician and municipal reports).
    #[default]
    Ja,
    En,
}

impl Lang {
    /// `ja` or `en` (case-insensitive), as `--lang` takes it.
    pub fn parse(s: &str) -> Option<Lang> {
        match s.to_ascii_lowercase().as_str() {
            "ja" | "jp" | "japanese" | "日本語" => Some(Lang::Ja),
            "en" | "english" => Some(Lang::En),
            _ => None,
        }
    }

    /// The BCP 47 code for the `lang` attribute.
    pub fn code(self) -> &'static str {
        match self {
            Lang::Ja => "ja",
            Lang::En => "en",
        }
    }

    /// The Japanese or the English text.
    pub fn pick<'a>(self, ja: &'a str, en: &'a str) -> &'a str {
        match self {
            Lang::Ja => ja,
            Lang::En => en,
        }
    }

    /// A number with thousands separators (both languages group by three digits in
    /// administrative documents) and `decimals` decimals.
    pub fn number(self, x: f64, decimals: usize) -> String {
        if !x.is_finite() {
            return self.pick("—", "—").to_string();
        }
        let s = format!("{:.decimals$}", x.abs() + 0.0);
        let (int, frac) = s.split_once('.').map_or((s.as_str(), ""), |(a, b)| (a, b));
        let mut grouped = String::new();
        for (i, c) in int.chars().enumerate() {
            if i > 0 && (int.len() - i) % 3 == 0 {
                grouped.push(',');
            }
            grouped.push(c);
        }
        let sign = if x < 0.0 && s.chars().any(|c| c.is_ascii_digit() && c != '0') {
            "−"
        } else {
            ""
        };
        if frac.is_empty() {
            format!("{sign}{grouped}")
        } else {
            format!("{sign}{grouped}.{frac}")
        }
    }
}

/// Escapes text for HTML element content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A table: a header row and body rows of text cells (already formatted). Cells that were
/// suppressed for disclosure control are passed as [`Cell::Suppressed`].
#[derive(Clone, Debug, Default)]
pub struct HtmlTable {
    pub caption: String,
    pub header: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
    /// Right-align every column but the first (numbers).
    pub numeric: bool,
}

/// One table cell.
#[derive(Clone, Debug, PartialEq)]
pub enum Cell {
    Text(String),
    /// Hidden for disclosure control (fewer people than the threshold, or complementary).
    Suppressed,
}

impl From<String> for Cell {
    fn from(s: String) -> Self {
        Cell::Text(s)
    }
}

impl From<&str> for Cell {
    fn from(s: &str) -> Self {
        Cell::Text(s.to_string())
    }
}

#[derive(Clone, Debug)]
enum Block {
    Heading(u8, String),
    Paragraph(String),
    Note(String),
    Figures(Vec<(String, String)>),
    Table(HtmlTable),
    Svg { svg: String, caption: String },
    List(Vec<String>),
}

/// A one-page report under construction.
#[derive(Clone, Debug)]
pub struct Page {
    lang: Lang,
    title: String,
    subtitle: String,
    blocks: Vec<Block>,
}

const STYLE: &str = "
body{font-family:'Noto Sans CJK JP','Hiragino Sans','Yu Gothic','Meiryo',system-ui,sans-serif;margin:0;color:#1d1d1f;background:#fff;line-height:1.55}
main{max-width:1040px;margin:0 auto;padding:24px 28px 48px}
h1{font-size:1.6rem;margin:0 0 4px}
.sub{color:#555;margin:0 0 20px}
h2{font-size:1.2rem;margin:28px 0 8px;padding-bottom:4px;border-bottom:2px solid #0072b2}
h3{font-size:1.05rem;margin:18px 0 6px}
p{margin:6px 0}
.note{color:#555;font-size:.9rem;background:#f5f7fa;border-left:3px solid #999;padding:6px 10px}
.figures{display:flex;flex-wrap:wrap;gap:12px;margin:10px 0}
.fig{border:1px solid #d0d7de;border-radius:6px;padding:8px 14px;min-width:150px}
.fig .v{font-size:1.35rem;font-weight:600}
.fig .k{color:#555;font-size:.85rem}
table{border-collapse:collapse;margin:8px 0 14px;font-size:.9rem}
caption{text-align:left;font-weight:600;padding:4px 0}
th,td{border:1px solid #d0d7de;padding:3px 8px}
th{background:#f0f3f6}
td.n{text-align:right;font-variant-numeric:tabular-nums}
td.s{text-align:center;color:#888}
figure{margin:10px 0}
figure svg{max-width:100%;height:auto}
figcaption{color:#555;font-size:.85rem}
footer{margin-top:32px;color:#777;font-size:.8rem}
@media print{main{padding:0}h2{break-after:avoid}figure,table{break-inside:avoid}}
";

impl Page {
    pub fn new(lang: Lang, title: impl Into<String>, subtitle: impl Into<String>) -> Self {
        Page {
            lang,
            title: title.into(),
            subtitle: subtitle.into(),
            blocks: Vec::new(),
        }
    }

    pub fn lang(&self) -> Lang {
        self.lang
    }

    pub fn heading(&mut self, text: impl Into<String>) -> &mut Self {
        self.blocks.push(Block::Heading(2, text.into()));
        self
    }

    pub fn subheading(&mut self, text: impl Into<String>) -> &mut Self {
        self.blocks.push(Block::Heading(3, text.into()));
        self
    }

    pub fn paragraph(&mut self, text: impl Into<String>) -> &mut Self {
        self.blocks.push(Block::Paragraph(text.into()));
        self
    }

    /// A side note (assumptions, sources, what an interval means).
    pub fn note(&mut self, text: impl Into<String>) -> &mut Self {
        self.blocks.push(Block::Note(text.into()));
        self
    }

    pub fn list(&mut self, items: Vec<String>) -> &mut Self {
        self.blocks.push(Block::List(items));
        self
    }

    /// Key figures shown as boxes: (value, label).
    pub fn figures(&mut self, figures: Vec<(String, String)>) -> &mut Self {
        self.blocks.push(Block::Figures(figures));
        self
    }

    pub fn table(&mut self, table: HtmlTable) -> &mut Self {
        self.blocks.push(Block::Table(table));
        self
    }

    /// A chart drawn inline as SVG.
    pub fn chart(
        &mut self,
        chart: &Chart,
        caption: impl Into<String>,
    ) -> Result<&mut Self, ReportError> {
        let svg = chart_svg(chart).map_err(|message| ReportError::Io {
            path: "<inline chart>".into(),
            message,
        })?;
        self.blocks.push(Block::Svg {
            svg: strip_xml_declaration(&svg),
            caption: caption.into(),
        });
        Ok(self)
    }

    /// A population pyramid drawn inline as SVG.
    pub fn pyramid(
        &mut self,
        pyramid: &Pyramid,
        caption: impl Into<String>,
    ) -> Result<&mut Self, ReportError> {
        let svg = pyramid_svg(pyramid).map_err(|message| ReportError::Io {
            path: "<inline chart>".into(),
            message,
        })?;
        self.blocks.push(Block::Svg {
            svg: strip_xml_declaration(&svg),
            caption: caption.into(),
        });
        Ok(self)
    }

    /// The whole page as one HTML document.
    pub fn render(&self) -> String {
        let mut o = String::new();
        let _ = write!(
            o,
            "<!DOCTYPE html>\n<html lang=\"{}\">\n<head>\n<meta charset=\"utf-8\">\n\
             <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">\n\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
             <title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<main>\n<h1>{}</h1>\n<p class=\"sub\">{}</p>\n",
            self.lang.code(),
            escape(&self.title),
            escape(&self.title),
            escape(&self.subtitle)
        );
        for b in &self.blocks {
            match b {
                Block::Heading(level, t) => {
                    let _ = writeln!(o, "<h{level}>{}</h{level}>", escape(t));
                }
                Block::Paragraph(t) => {
                    let _ = writeln!(o, "<p>{}</p>", escape(t));
                }
                Block::Note(t) => {
                    let _ = writeln!(o, "<p class=\"note\">{}</p>", escape(t));
                }
                Block::List(items) => {
                    o.push_str("<ul>\n");
                    for i in items {
                        let _ = writeln!(o, "<li>{}</li>", escape(i));
                    }
                    o.push_str("</ul>\n");
                }
                Block::Figures(f) => {
                    o.push_str("<div class=\"figures\">\n");
                    for (v, k) in f {
                        let _ = writeln!(
                            o,
                            "<div class=\"fig\"><div class=\"v\">{}</div><div class=\"k\">{}</div></div>",
                            escape(v),
                            escape(k)
                        );
                    }
                    o.push_str("</div>\n");
                }
                Block::Table(t) => render_table(&mut o, t, self.lang),
                Block::Svg { svg, caption } => {
                    let _ = writeln!(
                        o,
                        "<figure>\n{svg}\n<figcaption>{}</figcaption>\n</figure>",
                        escape(caption)
                    );
                }
            }
        }
        let _ = writeln!(
            o,
            "<footer>{}</footer>\n</main>\n</body>\n</html>",
            escape(self.lang.pick(
                "healthtwin が作成したレポートです。すべてシミュレーションによる推計値です。",
                "Made by healthtwin. Every figure is a simulation estimate."
            ))
        );
        o
    }

    /// Writes the page atomically.
    pub fn write(&self, path: &Path) -> Result<(), ReportError> {
        write_atomic(path, self.render().as_bytes())
    }
}

fn render_table(o: &mut String, t: &HtmlTable, lang: Lang) {
    o.push_str("<table>\n");
    if !t.caption.is_empty() {
        let _ = writeln!(o, "<caption>{}</caption>", escape(&t.caption));
    }
    o.push_str("<thead><tr>");
    for h in &t.header {
        let _ = write!(o, "<th>{}</th>", escape(h));
    }
    o.push_str("</tr></thead>\n<tbody>\n");
    let hidden = lang.pick("秘匿", "suppressed");
    for row in &t.rows {
        o.push_str("<tr>");
        for (i, c) in row.iter().enumerate() {
            let class = if t.numeric && i > 0 {
                " class=\"n\""
            } else {
                ""
            };
            match c {
                Cell::Text(s) => {
                    let _ = write!(o, "<td{class}>{}</td>", escape(s));
                }
                Cell::Suppressed => {
                    let _ = write!(o, "<td class=\"s\" title=\"{hidden}\">*</td>");
                }
            }
        }
        o.push_str("</tr>\n");
    }
    o.push_str("</tbody>\n</table>\n");
    if t.rows.iter().flatten().any(|c| *c == Cell::Suppressed) {
        let _ = writeln!(
            o,
            "<p class=\"note\">{}</p>",
            escape(lang.pick(
                "* 人数が少ないため、個人が特定されないよう秘匿しています（他のセルから計算できないよう補完秘匿も行っています）。",
                "* Suppressed: too few people to publish (and cells that would let it be recovered)."
            ))
        );
    }
}

fn strip_xml_declaration(svg: &str) -> String {
    match svg.find("<svg") {
        Some(i) => svg[i..].to_string(),
        None => svg.to_string(),
    }
}

/// Renders `html` to a PNG screenshot with headless Chromium (`chromium` on the PATH, as
/// Debian packages it), for tests and for looking at a report. Returns an error when
/// Chromium is missing or fails; the caller decides whether that fails a test.
pub fn screenshot(html: &Path, png: &Path, width: u32, height: u32) -> std::io::Result<()> {
    let profile = tempfile_dir()?;
    let status = std::process::Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("--window-size={width},{height}"))
        .arg(format!("--screenshot={}", png.display()))
        .arg(format!("file://{}", html.canonicalize()?.display()))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status();
    let _ = std::fs::remove_dir_all(&profile);
    match status {
        Ok(s) if s.success() && png.exists() => Ok(()),
        Ok(s) => Err(std::io::Error::other(format!("chromium exited with {s}"))),
        Err(e) => Err(e),
    }
}

/// Share of pixels of a PNG (8-bit RGB or RGBA) that are not near-white: a blank render is
/// about 0. For tests of rendered reports.
pub fn ink_share(png: &Path) -> std::io::Result<f64> {
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(png)?));
    let mut reader = decoder.read_info().map_err(std::io::Error::other)?;
    let mut buf = vec![0; reader.output_buffer_size().unwrap_or(0)];
    let info = reader.next_frame(&mut buf).map_err(std::io::Error::other)?;
    let channels = match info.color_type {
        png::ColorType::Rgb => 3,
        png::ColorType::Rgba => 4,
        other => {
            return Err(std::io::Error::other(format!(
                "unexpected colour type {other:?}"
            )))
        }
    };
    let pixels = &buf[..info.buffer_size()];
    let total = pixels.len() / channels;
    let ink = pixels
        .chunks(channels)
        .filter(|p| p[..3].iter().any(|&c| c < 200))
        .count();
    Ok(ink as f64 / total.max(1) as f64)
}

/// Whether browser tests must run: `HEALTHTWIN_REQUIRE_BROWSER=1` (CI sets it, after
/// installing Chromium) makes a missing Chromium a failure; otherwise tests that need it
/// are skipped with a message.
pub fn browser_required() -> bool {
    std::env::var_os("HEALTHTWIN_REQUIRE_BROWSER").is_some_and(|v| v != "0")
}

fn tempfile_dir() -> std::io::Result<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!(
        "healthtwin-chromium-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos())
    ));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plot::Series;

    #[test]
    fn escapes_text_and_keeps_the_page_offline() {
        let mut page = Page::new(Lang::Ja, "<b>町</b>の計画", "2026年");
        page.paragraph("a & b < c").table(HtmlTable {
            caption: "表".into(),
            header: vec!["年".into(), "人数".into()],
            rows: vec![
                vec!["2025".into(), "1,234".into()],
                vec!["2026".into(), Cell::Suppressed],
            ],
            numeric: true,
        });
        let mut chart = Chart::lines("推移", "年", "人");
        chart.series = vec![Series {
            name: "A".into(),
            points: vec![(2025.0, 1.0), (2026.0, 2.0)],
            band: Vec::new(),
        }];
        chart.x_years = true;
        page.chart(&chart, "図1").unwrap();
        let html = page.render();
        assert!(html.contains("&lt;b&gt;町&lt;/b&gt;の計画"));
        assert!(html.contains("a &amp; b &lt; c"));
        assert!(html.contains("<svg") && html.contains("</svg>"));
        assert!(html.contains("補完秘匿"), "a suppressed cell is explained");
        assert!(html.starts_with("<!DOCTYPE html>\n<html lang=\"ja\">"));
        // Nothing is fetched: no external URLs, no scripts.
        for bad in ["http://", "https://", "<script", "src=\"", "<link"] {
            let outside_svg_namespace = html.replace("http://www.w3.org/2000/svg", "");
            assert!(!outside_svg_namespace.contains(bad), "page contains {bad}");
        }
    }

    #[test]
    fn a_report_renders_in_a_headless_browser() {
        let dir = tempfile::tempdir().unwrap();
        let keep = std::env::var_os("HEALTHTWIN_KEEP_SCREENSHOT");
        let mut page = Page::new(Lang::Ja, "介護予防計画", "人口 30,000 人の町");
        page.figures(vec![("1,234".into(), "要介護認定者".into())])
            .paragraph("日本語の本文と English text。");
        let mut chart = Chart::lines("要介護認定者の推移", "年度", "人");
        chart.series = vec![Series {
            name: "基準".into(),
            points: (2025..2035)
                .map(|y| (f64::from(y), f64::from(y - 2000)))
                .collect(),
            band: Vec::new(),
        }];
        chart.x_years = true;
        page.chart(&chart, "図1").unwrap();
        let html = dir.path().join("r.html");
        page.write(&html).unwrap();
        let png = dir.path().join("r.png");
        match screenshot(&html, &png, 1100, 900) {
            Ok(()) => {
                let ink = ink_share(&png).unwrap();
                if let Some(k) = keep {
                    std::fs::copy(&png, k).unwrap();
                }
                assert!(
                    ink > 0.01,
                    "the screenshot is blank ({ink:.4} of pixels inked)"
                );
            }
            Err(e) if !browser_required() => {
                eprintln!("skipped: no headless Chromium ({e}); CI runs this test");
            }
            Err(e) => panic!("headless Chromium failed: {e}"),
        }
    }

    #[test]
    fn numbers_are_grouped() {
        assert_eq!(Lang::En.number(1234567.891, 1), "1,234,567.9");
        assert_eq!(Lang::Ja.number(-30000.0, 0), "−30,000");
        assert_eq!(Lang::Ja.number(-0.0001, 0), "0");
        assert_eq!(Lang::En.number(999.0, 0), "999");
        assert_eq!(Lang::parse("EN"), Some(Lang::En));
        assert_eq!(Lang::parse("fr"), None);
    }
}
