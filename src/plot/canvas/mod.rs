//! The chart shapes every figure is made of, one file each ([`hbar`], [`vbar`], [`line`](mod@line),
//! [`stack`]), the legend strip ([`legend`]) and the look ([`style`]). This file holds
//! what they share: the frame (background, title, legend strip) and the log axis.

mod hbar;
mod legend;
mod line;
mod stack;
mod style;
mod vbar;

pub(crate) use hbar::{HBar, HBarChart, HRow, Rule};
pub(crate) use legend::{LegendItem, Mark, Marker};
pub(crate) use line::{LineChart, Series};
pub(crate) use stack::{Segment, StackChart, StackRow};
pub(crate) use style::{LIMIT, REFERENCE, SOFT_LIMIT, scheme_color, strategy_color};
pub(crate) use vbar::{HLine, VBar, VBarChart};

use std::ops::Range;

use legend::legend_layout;
use plotters::chart::MeshStyle;
use plotters::coord::Shift;
use plotters::coord::ranged1d::{Ranged, ValueFormatter};
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use style::{DESC_PX, GRID, LABEL_PX, TITLE_PX, text};

/// Error of drawing on backend `DB`.
pub(crate) type DrawError<DB> = DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>;
/// Result of drawing on backend `DB`.
pub(crate) type DrawResult<DB> = Result<(), DrawError<DB>>;

/// The plot area and the legend area of a chart.
type Areas<DB> = (DrawingArea<DB, Shift>, DrawingArea<DB, Shift>);
/// Coordinates of a chart with a linear x axis and a log y axis.
type LogY = Cartesian2d<RangedCoordf64, LogCoord<f64>>;

/// Fills `root`, draws the title, and splits off the legend strip: returns the plot area
/// and the legend area.
fn frame<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    legend: &[LegendItem],
) -> Result<Areas<DB>, DrawError<DB>> {
    root.fill(&WHITE)?;
    let body = root.titled(title, text(TITLE_PX))?;
    let (_, h) = body.dim_in_pixel();
    let (_, lh) = legend_layout(&body, legend)?;
    let lh = lh.min(h / 2);
    Ok(body.split_vertically(h - lh))
}

/// Bounds of a log axis around the positive finite values: whole decades.
pub(crate) fn log_bounds(values: impl IntoIterator<Item = f64>) -> Option<(f64, f64)> {
    let (mut lo, mut hi) = (f64::INFINITY, 0.0f64);
    for v in values {
        if v.is_finite() && v > 0.0 {
            lo = lo.min(v);
            hi = hi.max(v);
        }
    }
    if hi <= 0.0 {
        return None;
    }
    let lo = 10f64.powf((lo / 1.2).log10().floor());
    let mut hi = 10f64.powf((hi * 1.2).log10().ceil());
    if hi <= lo {
        hi = lo * 10.0;
    }
    Some((lo, hi))
}

/// The number of decades between `lo` and `hi` (at least one).
fn decades(lo: f64, hi: f64) -> usize {
    ((hi / lo).log10().round() as usize).max(1)
}

/// A value clamped into a log axis (zero and negatives sit on its left edge).
fn clamp(v: f64, lo: f64, hi: f64) -> f64 {
    if v.is_finite() { v.clamp(lo, hi) } else { lo }
}

/// The look of every chart's mesh, after its axis-specific settings: axis descriptions and
/// labels in the chart font, a light grid at the major ticks only.
fn house_style<'m, 'a, 'b, X, Y, XT, YT, DB>(
    mesh: &'m mut MeshStyle<'a, 'b, X, Y, DB>,
) -> &'m mut MeshStyle<'a, 'b, X, Y, DB>
where
    X: Ranged<ValueType = XT> + ValueFormatter<XT>,
    Y: Ranged<ValueType = YT> + ValueFormatter<YT>,
    DB: DrawingBackend,
{
    mesh.axis_desc_style(text(DESC_PX))
        .label_style(text(LABEL_PX))
        .bold_line_style(GRID.stroke_width(1))
        .light_line_style(WHITE.stroke_width(0))
}

/// A chart on `plot` with a linear x axis over `x`, whose labels the caller draws, and a
/// log y axis over `lo..hi` labelled at each decade by `y_fmt`; its mesh drawn.
fn log_y_chart<'a, DB: DrawingBackend>(
    plot: &'a DrawingArea<DB, Shift>,
    margin_right: u32,
    x: Range<f64>,
    (lo, hi): (f64, f64),
    (x_desc, y_desc): (&str, &str),
    y_fmt: fn(f64) -> String,
) -> Result<ChartContext<'a, DB, LogY>, DrawError<DB>> {
    let mut chart = ChartBuilder::on(plot)
        .margin(8)
        .margin_right(margin_right)
        .x_label_area_size(56)
        .y_label_area_size(84)
        .build_cartesian_2d(x, (lo..hi).log_scale())?;
    house_style(
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(0)
            .y_labels(decades(lo, hi) + 1)
            .y_label_formatter(&|v| y_fmt(*v))
            .x_desc(x_desc)
            .y_desc(y_desc),
    )
    .draw()?;
    Ok(chart)
}
