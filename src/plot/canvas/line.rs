//! Lines on a log y axis over labelled x positions ([`LineChart`]), each series solid or
//! dashed with a point marker; the legend is made from the series.

use super::legend::{LegendItem, Mark, Marker, draw_legend, draw_marker};
use super::style::{GRID, LABEL_PX, text};
use super::{DrawResult, clamp, frame, log_bounds, log_y_chart};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// One line of a line chart.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Series {
    pub label: String,
    pub color: RGBColor,
    pub dashed: bool,
    pub marker: Marker,
    pub points: Vec<(f64, f64)>,
}

/// Lines on a log y axis over labelled x positions.
#[derive(Debug, Clone)]
pub(crate) struct LineChart {
    pub title: String,
    pub x_desc: String,
    pub y_desc: String,
    pub y_fmt: fn(f64) -> String,
    /// Tick positions on the x axis and their labels.
    pub x_ticks: Vec<(f64, String)>,
    pub series: Vec<Series>,
}

impl LineChart {
    fn legend(&self) -> Vec<LegendItem> {
        self.series
            .iter()
            .map(|s| {
                LegendItem::new(
                    Mark::Line {
                        color: s.color,
                        dashed: s.dashed,
                        marker: Some(s.marker),
                    },
                    s.label.clone(),
                )
            })
            .collect()
    }

    pub(crate) fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let legend = self.legend();
        let (plot, legend_area) = frame(root, &self.title, &legend)?;
        let (lo, hi) = log_bounds(
            self.series
                .iter()
                .flat_map(|s| s.points.iter().map(|p| p.1)),
        )
        .unwrap_or((1.0, 10.0));
        let xs = self
            .x_ticks
            .iter()
            .map(|t| t.0)
            .chain(
                self.series
                    .iter()
                    .flat_map(|s| s.points.iter().map(|p| p.0)),
            )
            .filter(|x| x.is_finite());
        let (x_min, x_max) = xs.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), x| {
            (a.min(x), b.max(x))
        });
        let (x_min, x_max) = if x_min.is_finite() {
            (x_min, x_max)
        } else {
            (0.0, 1.0)
        };
        let pad = ((x_max - x_min) * 0.08).max(0.4);
        let mut chart = log_y_chart(
            &plot,
            24,
            (x_min - pad)..(x_max + pad),
            (lo, hi),
            (&self.x_desc, &self.y_desc),
            self.y_fmt,
        )?;
        for (x, label) in &self.x_ticks {
            chart.draw_series(std::iter::once(PathElement::new(
                vec![(*x, lo), (*x, hi)],
                GRID.stroke_width(1),
            )))?;
            let (px, py) = chart.backend_coord(&(*x, lo));
            root.draw(&PathElement::new(
                vec![(px, py), (px, py + 5)],
                BLACK.stroke_width(1),
            ))?;
            root.draw_text(
                label,
                &text(LABEL_PX).pos(Pos::new(HPos::Center, VPos::Top)),
                (px, py + 8),
            )?;
        }
        for s in &self.series {
            let pts: Vec<(f64, f64)> = s
                .points
                .iter()
                .filter(|p| p.0.is_finite() && p.1.is_finite() && p.1 > 0.0)
                .map(|&(x, y)| (x, clamp(y, lo, hi)))
                .collect();
            let style = s.color.stroke_width(2);
            if s.dashed {
                chart.draw_series(DashedLineSeries::new(pts.clone(), 7, 4, style))?;
            } else {
                chart.draw_series(LineSeries::new(pts.clone(), style))?;
            }
            for p in &pts {
                let at = chart.backend_coord(p);
                draw_marker(root, at, s.marker, s.color)?;
            }
        }
        draw_legend(&legend_area, &legend)
    }
}
