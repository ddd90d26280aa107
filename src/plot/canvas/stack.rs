//! Horizontal stacked bars on a linear x axis from zero ([`StackChart`]): one labelled lane
//! per category, its parts laid end to end, so a bar's length is the whole and each part's
//! length its share. A log axis would misdraw parts, hence the linear one.

use super::legend::{LegendItem, draw_legend};
use super::style::{LABEL_PX, text};
use super::{DrawResult, frame, house_style};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// One part of a stacked bar.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Segment {
    pub value: f64,
    pub color: RGBColor,
}

/// One category (labelled lane) of a stacked bar chart.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct StackRow {
    pub label: String,
    pub segments: Vec<Segment>,
}

/// Horizontal stacked bars on a linear axis, categories top to bottom.
#[derive(Debug, Clone)]
pub(crate) struct StackChart {
    pub title: String,
    pub x_desc: String,
    pub x_fmt: fn(f64) -> String,
    pub rows: Vec<StackRow>,
    pub legend: Vec<LegendItem>,
}

/// A part's length: zero for a negative or non-finite value (never drawn backwards).
fn length(v: f64) -> f64 {
    if v.is_finite() && v > 0.0 { v } else { 0.0 }
}

impl StackChart {
    pub(crate) fn height(&self) -> u32 {
        (220 + self.rows.len() as u32 * 26).clamp(360, 1100)
    }

    pub(crate) fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let (plot, legend_area) = frame(root, &self.title, &self.legend)?;
        let total = self
            .rows
            .iter()
            .map(|r| r.segments.iter().map(|s| length(s.value)).sum::<f64>())
            .fold(0.0f64, f64::max);
        let hi = if total > 0.0 { total * 1.08 } else { 1.0 };
        let label_style = text(LABEL_PX);
        let mut label_w = 40u32;
        for r in &self.rows {
            label_w = label_w.max(plot.estimate_text_size(&r.label, &label_style)?.0 + 16);
        }
        let n = self.rows.len().max(1) as f64;
        let fmt = self.x_fmt;
        let mut chart = ChartBuilder::on(&plot)
            .margin(8)
            .margin_right(28)
            .x_label_area_size(52)
            .y_label_area_size(label_w)
            .build_cartesian_2d(0f64..hi, 0f64..n)?;
        house_style(
            chart
                .configure_mesh()
                .disable_y_mesh()
                .y_labels(0)
                .x_labels(8)
                .x_label_formatter(&|v| fmt(*v))
                .x_desc(self.x_desc.as_str()),
        )
        .draw()?;
        for (i, row) in self.rows.iter().enumerate() {
            let top = n - i as f64;
            let (y0, y1) = (top - 0.15, top - 0.85);
            let mut from = 0.0;
            for s in &row.segments {
                let to = from + length(s.value);
                if to > from {
                    chart.draw_series(std::iter::once(Rectangle::new(
                        [(from, y0), (to, y1)],
                        s.color.filled(),
                    )))?;
                }
                from = to;
            }
            let (x, y) = chart.backend_coord(&(0.0, top - 0.5));
            root.draw_text(
                &row.label,
                &label_style.pos(Pos::new(HPos::Right, VPos::Center)),
                (x - 8, y),
            )?;
        }
        draw_legend(&legend_area, &self.legend)
    }
}
