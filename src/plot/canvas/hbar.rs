//! Horizontal bars on a log x axis ([`HBarChart`]): one labelled lane per category, each
//! bar with an optional whisker, dot and tick, and vertical rules (limits, windows) across.

use super::legend::{LegendItem, draw_legend};
use super::style::{LABEL_PX, text};
use super::{DrawResult, clamp, decades, frame, house_style, log_bounds};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// One bar of a horizontal bar chart.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct HBar {
    /// Length of the bar (e.g. the median).
    pub value: f64,
    pub color: RGBColor,
    /// End of a whisker drawn from the bar's end (e.g. p99).
    pub whisker: Option<f64>,
    /// A dot (e.g. the maximum).
    pub dot: Option<f64>,
    /// A thick tick across the bar's lane (e.g. a staleness window).
    pub tick: Option<f64>,
}

impl HBar {
    pub(crate) fn new(value: f64, color: RGBColor) -> HBar {
        HBar {
            value,
            color,
            whisker: None,
            dot: None,
            tick: None,
        }
    }
}

/// One category (labelled lane) of a horizontal bar chart, holding one or more bars.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct HRow {
    pub label: String,
    pub bars: Vec<HBar>,
}

/// A vertical line across a chart, at a value of its log axis.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Rule {
    pub value: f64,
    pub color: RGBColor,
    pub dashed: bool,
    /// Text written beside the line.
    pub label: String,
}

/// Horizontal bars on a log x axis, categories top to bottom.
#[derive(Debug, Clone)]
pub(crate) struct HBarChart {
    pub title: String,
    pub x_desc: String,
    pub x_fmt: fn(f64) -> String,
    pub rows: Vec<HRow>,
    pub rules: Vec<Rule>,
    pub legend: Vec<LegendItem>,
}

impl HBarChart {
    pub(crate) fn height(&self) -> u32 {
        let lanes: usize = self.rows.iter().map(|r| r.bars.len().max(1)).sum();
        let per = if self.rows.iter().any(|r| r.bars.len() > 1) {
            14
        } else {
            30
        };
        (220 + lanes as u32 * per + self.rows.len() as u32 * 6).clamp(420, 900)
    }

    pub(crate) fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let (plot, legend_area) = frame(root, &self.title, &self.legend)?;
        let values = self.rows.iter().flat_map(|r| {
            r.bars.iter().flat_map(|b| {
                [Some(b.value), b.whisker, b.dot, b.tick]
                    .into_iter()
                    .flatten()
            })
        });
        let (lo, hi) =
            log_bounds(values.chain(self.rules.iter().map(|r| r.value))).unwrap_or((1.0, 10.0));
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
            .build_cartesian_2d((lo..hi).log_scale(), 0f64..n)?;
        house_style(
            chart
                .configure_mesh()
                .disable_y_mesh()
                .y_labels(0)
                .x_labels(decades(lo, hi) + 1)
                .x_label_formatter(&|v| fmt(*v))
                .x_desc(self.x_desc.as_str()),
        )
        .draw()?;
        for (i, row) in self.rows.iter().enumerate() {
            let top = n - i as f64;
            let (y0, y1) = (top - 0.12, top - 0.88);
            let k = row.bars.len().max(1) as f64;
            let lane = (y0 - y1) / k;
            for (j, b) in row.bars.iter().enumerate() {
                let b_top = y0 - lane * j as f64 - lane * 0.08;
                let b_bot = y0 - lane * (j as f64 + 1.0) + lane * 0.08;
                let mid = (b_top + b_bot) / 2.0;
                if b.value.is_finite() && b.value > 0.0 {
                    chart.draw_series(std::iter::once(Rectangle::new(
                        [(lo, b_top), (clamp(b.value, lo, hi), b_bot)],
                        b.color.filled(),
                    )))?;
                }
                if let Some(w) = b.whisker.filter(|w| w.is_finite() && *w > 0.0) {
                    let (from, to) = (clamp(b.value, lo, hi), clamp(w, lo, hi));
                    let cap = (b_top - b_bot) * 0.3;
                    chart.draw_series([
                        PathElement::new(vec![(from, mid), (to, mid)], BLACK.stroke_width(2)),
                        PathElement::new(
                            vec![(to, mid - cap), (to, mid + cap)],
                            BLACK.stroke_width(2),
                        ),
                    ])?;
                }
                if let Some(d) = b.dot.filter(|d| d.is_finite() && *d > 0.0) {
                    chart.draw_series(std::iter::once(Circle::new(
                        (clamp(d, lo, hi), mid),
                        4,
                        BLACK.filled(),
                    )))?;
                }
                if let Some(t) = b.tick.filter(|t| t.is_finite() && *t > 0.0) {
                    let t = clamp(t, lo, hi);
                    let (x, ya) = chart.backend_coord(&(t, y0));
                    let (_, yb) = chart.backend_coord(&(t, y1));
                    root.draw(&Rectangle::new([(x - 2, ya), (x + 2, yb)], BLACK.filled()))?;
                }
            }
            let (x, y) = chart.backend_coord(&(lo, top - 0.5));
            root.draw_text(
                &row.label,
                &label_style.pos(Pos::new(HPos::Right, VPos::Center)),
                (x - 8, y),
            )?;
        }
        for rule in &self.rules {
            let v = clamp(rule.value, lo, hi);
            let style = rule.color.stroke_width(2);
            if rule.dashed {
                chart.draw_series(DashedLineSeries::new(vec![(v, 0.0), (v, n)], 6, 4, style))?;
            } else {
                chart.draw_series(LineSeries::new(vec![(v, 0.0), (v, n)], style))?;
            }
            if !rule.label.is_empty() {
                let (x, y) = chart.backend_coord(&(v, n));
                root.draw_text(
                    &rule.label,
                    &text(LABEL_PX - 1.0)
                        .color(&rule.color)
                        .pos(Pos::new(HPos::Right, VPos::Top)),
                    (x - 4, y + 2),
                )?;
            }
        }
        draw_legend(&legend_area, &self.legend)
    }
}
