//! Vertical bars in labelled groups on a log y axis ([`VBarChart`]), each bar with an
//! optional level mark, and dashed horizontal lines (limits) across.

use super::legend::{LegendItem, draw_legend};
use super::style::{LABEL_PX, text};
use super::{DrawResult, clamp, frame, log_bounds, log_y_chart};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// One bar of a vertical grouped bar chart.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct VBar {
    pub value: f64,
    pub color: RGBColor,
    /// A black level mark inside the bar (e.g. the token inside its header).
    pub level: Option<f64>,
}

/// A horizontal line across a vertical bar chart.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct HLine {
    pub value: f64,
    pub color: RGBColor,
    pub label: String,
}

/// Vertical bars in labelled groups on a log y axis.
#[derive(Debug, Clone)]
pub(crate) struct VBarChart {
    pub title: String,
    pub x_desc: String,
    pub y_desc: String,
    pub y_fmt: fn(f64) -> String,
    pub groups: Vec<(String, Vec<VBar>)>,
    pub lines: Vec<HLine>,
    pub legend: Vec<LegendItem>,
}

impl VBarChart {
    pub(crate) fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let (plot, legend_area) = frame(root, &self.title, &self.legend)?;
        let values = self
            .groups
            .iter()
            .flat_map(|(_, bars)| bars.iter().flat_map(|b| [Some(b.value), b.level]))
            .flatten()
            .chain(self.lines.iter().map(|l| l.value));
        let (lo, hi) = log_bounds(values).unwrap_or((1.0, 10.0));
        let n = self.groups.len().max(1) as f64;
        let mut chart = log_y_chart(
            &plot,
            20,
            0f64..n,
            (lo, hi),
            (&self.x_desc, &self.y_desc),
            self.y_fmt,
        )?;
        for (g, (label, bars)) in self.groups.iter().enumerate() {
            let k = bars.len().max(1) as f64;
            let width = 0.8 / k;
            for (j, b) in bars.iter().enumerate() {
                let x0 = g as f64 + 0.1 + width * j as f64 + width * 0.06;
                let x1 = g as f64 + 0.1 + width * (j as f64 + 1.0) - width * 0.06;
                if b.value.is_finite() && b.value > 0.0 {
                    chart.draw_series(std::iter::once(Rectangle::new(
                        [(x0, lo), (x1, clamp(b.value, lo, hi))],
                        b.color.filled(),
                    )))?;
                }
                if let Some(l) = b.level.filter(|l| l.is_finite() && *l > 0.0) {
                    let l = clamp(l, lo, hi);
                    chart.draw_series(std::iter::once(PathElement::new(
                        vec![(x0, l), (x1, l)],
                        BLACK.stroke_width(3),
                    )))?;
                }
            }
            let (x, y) = chart.backend_coord(&(g as f64 + 0.5, lo));
            root.draw_text(
                label,
                &text(LABEL_PX + 1.0).pos(Pos::new(HPos::Center, VPos::Top)),
                (x, y + 8),
            )?;
        }
        for line in &self.lines {
            let v = clamp(line.value, lo, hi);
            chart.draw_series(DashedLineSeries::new(
                vec![(0.0, v), (n, v)],
                8,
                5,
                line.color.stroke_width(2),
            ))?;
            let (x, y) = chart.backend_coord(&(0.0, v));
            root.draw_text(
                &line.label,
                &text(LABEL_PX - 1.0)
                    .color(&line.color)
                    .pos(Pos::new(HPos::Left, VPos::Bottom)),
                (x + 6, y - 3),
            )?;
        }
        draw_legend(&legend_area, &self.legend)
    }
}
