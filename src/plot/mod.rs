//! Charts of a run, drawn with plotters from the result structs alone (never from live
//! timings): one file per results file choosing what to draw ([`size`], [`validate`],
//! [`revoke`], [`scale`], [`http`]; [`wire`] for the browser workload's bytes per
//! client), `canvas` drawing it. Each chart is a [`Figure`],
//! rendered as SVG text and PNG bytes ([`Rendered`]); the report writes the files.
//!
//! Text needs a system `sans-serif` font (fontconfig); without one, rendering fails with a
//! [`PlotError`] naming the chart, never a panic.

mod canvas;
pub mod http;
pub mod revoke;
pub mod scale;
pub mod size;
pub mod validate;
pub mod wire;

use std::panic::{AssertUnwindSafe, catch_unwind};

use plotters::coord::Shift;
use plotters::prelude::*;

use canvas::{DrawResult, HBarChart, LineChart, StackChart, VBarChart};

/// Width of every chart, px: readable as is on an 800-px-wide page.
pub const WIDTH: u32 = 800;
/// Height of line and grouped-bar charts, px (horizontal bar charts grow with their rows).
pub const HEIGHT: u32 = 520;

/// A chart that could not be drawn.
#[derive(Debug, thiserror::Error)]
#[error("chart {chart} ({format}): {reason}")]
pub struct PlotError {
    /// Name of the chart (file stem).
    pub chart: String,
    /// `svg` or `png`.
    pub format: &'static str,
    /// What went wrong.
    pub reason: String,
}

/// A chart drawn in both formats.
#[derive(Debug, Clone, PartialEq)]
pub struct Rendered {
    /// File stem, e.g. `validate_cost`.
    pub name: String,
    /// Title drawn on the chart.
    pub title: String,
    /// What the chart shows, one sentence for the report.
    pub caption: String,
    /// The SVG document.
    pub svg: String,
    /// The PNG file.
    pub png: Vec<u8>,
}

/// One chart, before rendering: its name and its drawing.
#[derive(Debug, Clone)]
pub struct Figure {
    /// File stem.
    pub name: String,
    /// One sentence saying what is drawn and how to read it.
    pub caption: String,
    kind: Kind,
}

#[derive(Debug, Clone)]
enum Kind {
    HBar(HBarChart),
    VBar(VBarChart),
    Line(LineChart),
    Stack(StackChart),
}

impl Figure {
    fn new(name: &str, caption: impl Into<String>, kind: Kind) -> Figure {
        Figure {
            name: name.to_owned(),
            caption: caption.into(),
            kind,
        }
    }

    /// The title drawn on the chart.
    pub fn title(&self) -> &str {
        match &self.kind {
            Kind::HBar(c) => &c.title,
            Kind::VBar(c) => &c.title,
            Kind::Line(c) => &c.title,
            Kind::Stack(c) => &c.title,
        }
    }

    /// Size in pixels.
    pub fn size(&self) -> (u32, u32) {
        match &self.kind {
            Kind::HBar(c) => (WIDTH, c.height()),
            Kind::VBar(_) => (WIDTH, HEIGHT),
            // Room for a legend of three entries per row under the plot.
            Kind::Line(c) => (WIDTH, HEIGHT + 22 * (c.series.len() as u32).div_ceil(3)),
            Kind::Stack(c) => (WIDTH, c.height()),
        }
    }

    /// Every value the chart draws from the results: bars, whiskers, dots, ticks, levels,
    /// the y of line points, stacked segments; not its limit lines and rules. Each should
    /// be a figure of `summary.csv`, as the tests check.
    pub fn values(&self) -> Vec<f64> {
        match &self.kind {
            Kind::HBar(c) => c
                .rows
                .iter()
                .flat_map(|r| &r.bars)
                .flat_map(|b| [Some(b.value), b.whisker, b.dot, b.tick])
                .flatten()
                .collect(),
            Kind::VBar(c) => c
                .groups
                .iter()
                .flat_map(|g| &g.1)
                .flat_map(|b| [Some(b.value), b.level])
                .flatten()
                .collect(),
            Kind::Line(c) => c
                .series
                .iter()
                .flat_map(|s| s.points.iter().map(|p| p.1))
                .collect(),
            Kind::Stack(c) => c
                .rows
                .iter()
                .flat_map(|r| r.segments.iter().map(|s| s.value))
                .collect(),
        }
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        match &self.kind {
            Kind::HBar(c) => c.draw(root),
            Kind::VBar(c) => c.draw(root),
            Kind::Line(c) => c.draw(root),
            Kind::Stack(c) => c.draw(root),
        }
    }

    /// Draws the figure as SVG and as PNG.
    pub fn render(&self) -> Result<Rendered, PlotError> {
        Ok(Rendered {
            name: self.name.clone(),
            title: self.title().to_owned(),
            caption: self.caption.clone(),
            svg: self.render_svg()?,
            png: self.render_png()?,
        })
    }

    fn error(&self, format: &'static str, reason: impl Into<String>) -> PlotError {
        PlotError {
            chart: self.name.clone(),
            format,
            reason: reason.into(),
        }
    }

    /// Runs `f`, turning a panic inside plotters into an error naming the chart.
    fn guarded<T>(
        &self,
        format: &'static str,
        f: impl FnOnce() -> Result<T, String>,
    ) -> Result<T, PlotError> {
        match catch_unwind(AssertUnwindSafe(f)) {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(reason)) => Err(self.error(format, font_hint(reason))),
            Err(panic) => {
                let what = panic
                    .downcast_ref::<&str>()
                    .map(|s| (*s).to_owned())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "unknown panic".to_owned());
                Err(self.error(format, format!("plotters panicked: {what}")))
            }
        }
    }

    /// The SVG document.
    pub fn render_svg(&self) -> Result<String, PlotError> {
        self.guarded("svg", || {
            let mut svg = String::new();
            {
                let root = SVGBackend::with_string(&mut svg, self.size()).into_drawing_area();
                self.draw(&root).map_err(|e| e.to_string())?;
                root.present().map_err(|e| e.to_string())?;
            }
            Ok(svg)
        })
    }

    /// The PNG file: drawn into an RGB buffer, encoded by the `png` crate.
    pub fn render_png(&self) -> Result<Vec<u8>, PlotError> {
        self.guarded("png", || {
            let (w, h) = self.size();
            let mut rgb = vec![0u8; w as usize * h as usize * 3];
            {
                let root = BitMapBackend::with_buffer(&mut rgb, (w, h)).into_drawing_area();
                self.draw(&root).map_err(|e| e.to_string())?;
                root.present().map_err(|e| e.to_string())?;
            }
            let mut out = Vec::new();
            let mut encoder = png::Encoder::new(&mut out, w, h);
            encoder.set_color(png::ColorType::Rgb);
            encoder.set_depth(png::BitDepth::Eight);
            let mut writer = encoder
                .write_header()
                .map_err(|e| format!("PNG header: {e}"))?;
            writer
                .write_image_data(&rgb)
                .map_err(|e| format!("PNG data: {e}"))?;
            writer.finish().map_err(|e| format!("PNG: {e}"))?;
            Ok(out)
        })
    }
}

/// Adds what to do when the error is a missing font.
fn font_hint(reason: String) -> String {
    if reason.to_ascii_lowercase().contains("font") {
        format!(
            "{reason} (chart text needs a system sans-serif font found by fontconfig, e.g. the fonts-dejavu-core package)"
        )
    } else {
        reason
    }
}
