//! The three chart shapes every figure is made of, drawn on any plotters backend:
//! horizontal bars on a log axis ([`HBarChart`]), vertical grouped bars on a log axis
//! ([`VBarChart`]) and lines on a log axis ([`LineChart`]); plus the palette, the legend
//! strip under each chart, and category labels drawn by hand so long scheme names stay
//! readable.

use crate::results::schema::revoke::Strategy;
use crate::scheme::JwtAlg;
use crate::scheme::spec::{SchemeId, StoreKind};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// Error of drawing on backend `DB`.
pub(crate) type DrawError<DB> = DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>;
/// Result of drawing on backend `DB`.
pub(crate) type DrawResult<DB> = Result<(), DrawError<DB>>;
/// Legend item positions and the strip's height.
type Layout = (Vec<(i32, i32)>, u32);
/// The plot area and the legend area of a chart.
type Areas<DB> = (DrawingArea<DB, Shift>, DrawingArea<DB, Shift>);

/// Font family of every text.
const FONT: &str = "sans-serif";
/// Chart title size, px.
const TITLE_PX: f64 = 21.0;
/// Axis description size, px.
const DESC_PX: f64 = 16.0;
/// Tick, category and legend label size, px.
const LABEL_PX: f64 = 14.0;

pub(crate) fn text(px: f64) -> TextStyle<'static> {
    (FONT, px).into_font().color(&BLACK)
}

/// Colour of a scheme (Tableau 10), the same in every chart.
pub(crate) fn scheme_color(id: SchemeId) -> RGBColor {
    match id {
        SchemeId::Session(StoreKind::Memory) => BLUE,
        SchemeId::Session(StoreKind::RwLock) => TEAL,
        SchemeId::Jwt(JwtAlg::HS256) => ORANGE,
        SchemeId::Jwt(JwtAlg::RS256) => RED,
        SchemeId::Jwt(JwtAlg::ES256) => GREEN,
        SchemeId::Jwt(JwtAlg::EdDSA) => PURPLE,
        other => other_color(&other.to_string()),
    }
}

/// Colour of a revocation strategy, the same in every chart: each family's baseline and
/// its first alternatives take the colours of the schemes they run on.
pub(crate) fn strategy_color(s: Strategy) -> RGBColor {
    match s {
        Strategy::SessionCentral => BLUE,
        Strategy::SessionCache => TEAL,
        Strategy::JwtExpiryOnly => ORANGE,
        Strategy::JwtDenylistCentral => RED,
        Strategy::JwtDenylistPushed => GREEN,
        Strategy::JwtDenylistPolled => PURPLE,
        other => other_color(other.name()),
    }
}

const BLUE: RGBColor = RGBColor(0x4e, 0x79, 0xa7);
const TEAL: RGBColor = RGBColor(0x76, 0xb7, 0xb2);
const ORANGE: RGBColor = RGBColor(0xf2, 0x8e, 0x2b);
const RED: RGBColor = RGBColor(0xe1, 0x57, 0x59);
const GREEN: RGBColor = RGBColor(0x59, 0xa1, 0x4f);
const PURPLE: RGBColor = RGBColor(0xb0, 0x7a, 0xa1);

/// One of the remaining Tableau colours, chosen by a hash of `name`.
fn other_color(name: &str) -> RGBColor {
    const OTHERS: [RGBColor; 4] = [
        RGBColor(0xed, 0xc9, 0x48),
        RGBColor(0x9c, 0x75, 0x5f),
        RGBColor(0xff, 0x9d, 0xa7),
        RGBColor(0x79, 0x70, 0x6e),
    ];
    let h = name
        .bytes()
        .fold(0usize, |h, b| h.wrapping_mul(31) + b as usize);
    OTHERS[h % OTHERS.len()]
}

/// Grey of reference bars.
pub(crate) const REFERENCE: RGBColor = RGBColor(0xa0, 0xa0, 0xa0);
/// Red of hard limits.
pub(crate) const LIMIT: RGBColor = RGBColor(0xc0, 0x1c, 0x28);
/// Dark orange of soft limits.
pub(crate) const SOFT_LIMIT: RGBColor = RGBColor(0xd9, 0x6c, 0x00);
const GRID: RGBColor = RGBColor(0xe4, 0xe4, 0xe4);

/// A point marker of a line series.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Marker {
    Circle,
    Triangle,
    Square,
    Cross,
}

impl Marker {
    /// Markers in the order series variants use them.
    pub(crate) const ALL: [Marker; 4] = [
        Marker::Circle,
        Marker::Triangle,
        Marker::Square,
        Marker::Cross,
    ];
}

/// What a legend entry shows beside its text.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Mark {
    /// A filled box.
    Fill(RGBColor),
    /// A line, solid or dashed, with an optional marker.
    Line {
        color: RGBColor,
        dashed: bool,
        marker: Option<Marker>,
    },
    /// A black whisker with an end cap.
    Whisker,
    /// A black dot.
    Dot,
    /// A short thick vertical bar.
    Tick,
    /// A short black horizontal bar across a box.
    Level,
}

/// One legend entry.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct LegendItem {
    pub mark: Mark,
    pub label: String,
}

impl LegendItem {
    pub(crate) fn new(mark: Mark, label: impl Into<String>) -> LegendItem {
        LegendItem {
            mark,
            label: label.into(),
        }
    }
}

const SWATCH_W: i32 = 26;
const LEGEND_ROW_H: i32 = 22;

/// Legend entries laid out left to right, wrapping: `(x, y)` offsets per item and the
/// height of the strip.
fn legend_layout<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    items: &[LegendItem],
) -> Result<Layout, DrawError<DB>> {
    let (w, _) = area.dim_in_pixel();
    let style = text(LABEL_PX);
    let (mut x, mut y) = (12i32, 6i32);
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        let (tw, _) = area.estimate_text_size(&item.label, &style)?;
        let iw = SWATCH_W + 6 + tw as i32 + 20;
        if x > 12 && x + iw > w as i32 - 8 {
            x = 12;
            y += LEGEND_ROW_H;
        }
        out.push((x, y));
        x += iw;
    }
    let h = if items.is_empty() {
        0
    } else {
        (y + LEGEND_ROW_H + 4) as u32
    };
    Ok((out, h))
}

fn draw_marker<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    at: (i32, i32),
    marker: Marker,
    color: RGBColor,
) -> DrawResult<DB> {
    let style = color.filled();
    match marker {
        Marker::Circle => area.draw(&Circle::new(at, 4, style)),
        Marker::Triangle => area.draw(&TriangleMarker::new(at, 5, style)),
        Marker::Square => area.draw(&Rectangle::new(
            [(at.0 - 4, at.1 - 4), (at.0 + 4, at.1 + 4)],
            style,
        )),
        Marker::Cross => area.draw(&Cross::new(at, 4, color.stroke_width(2))),
    }
}

fn draw_legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    items: &[LegendItem],
) -> DrawResult<DB> {
    let (pos, _) = legend_layout(area, items)?;
    let style = text(LABEL_PX).pos(Pos::new(HPos::Left, VPos::Center));
    for (item, &(x, y)) in items.iter().zip(&pos) {
        let cy = y + LEGEND_ROW_H / 2;
        match &item.mark {
            Mark::Fill(c) => area.draw(&Rectangle::new(
                [(x, cy - 6), (x + SWATCH_W, cy + 6)],
                c.filled(),
            ))?,
            Mark::Line {
                color,
                dashed,
                marker,
            } => {
                let stroke = color.stroke_width(2);
                if *dashed {
                    for s in (0..SWATCH_W).step_by(8) {
                        area.draw(&PathElement::new(
                            vec![(x + s, cy), (x + (s + 5).min(SWATCH_W), cy)],
                            stroke,
                        ))?;
                    }
                } else {
                    area.draw(&PathElement::new(vec![(x, cy), (x + SWATCH_W, cy)], stroke))?;
                }
                if let Some(m) = marker {
                    draw_marker(area, (x + SWATCH_W / 2, cy), *m, *color)?;
                }
            }
            Mark::Whisker => {
                area.draw(&PathElement::new(
                    vec![(x, cy), (x + SWATCH_W, cy)],
                    BLACK.stroke_width(2),
                ))?;
                area.draw(&PathElement::new(
                    vec![(x + SWATCH_W, cy - 5), (x + SWATCH_W, cy + 5)],
                    BLACK.stroke_width(2),
                ))?;
            }
            Mark::Dot => area.draw(&Circle::new((x + SWATCH_W / 2, cy), 4, BLACK.filled()))?,
            Mark::Tick => area.draw(&Rectangle::new(
                [
                    (x + SWATCH_W / 2 - 2, cy - 8),
                    (x + SWATCH_W / 2 + 2, cy + 8),
                ],
                BLACK.filled(),
            ))?,
            Mark::Level => {
                area.draw(&Rectangle::new(
                    [(x, cy - 6), (x + SWATCH_W, cy + 6)],
                    RGBColor(0xcc, 0xcc, 0xcc).filled(),
                ))?;
                area.draw(&PathElement::new(
                    vec![(x, cy), (x + SWATCH_W, cy)],
                    BLACK.stroke_width(3),
                ))?;
            }
        }
        area.draw_text(&item.label, &style, (x + SWATCH_W + 6, cy))?;
    }
    Ok(())
}

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

fn decades(lo: f64, hi: f64) -> usize {
    ((hi / lo).log10().round() as usize).max(1)
}

/// A value clamped into a log axis (zero and negatives sit on its left edge).
fn clamp(v: f64, lo: f64, hi: f64) -> f64 {
    if v.is_finite() { v.clamp(lo, hi) } else { lo }
}

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
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(0)
            .x_labels(decades(lo, hi) + 1)
            .x_label_formatter(&|v| fmt(*v))
            .x_desc(self.x_desc.as_str())
            .axis_desc_style(text(DESC_PX))
            .label_style(text(LABEL_PX))
            .bold_line_style(GRID.stroke_width(1))
            .light_line_style(WHITE.stroke_width(0))
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
        let fmt = self.y_fmt;
        let mut chart = ChartBuilder::on(&plot)
            .margin(8)
            .margin_right(20)
            .x_label_area_size(56)
            .y_label_area_size(84)
            .build_cartesian_2d(0f64..n, (lo..hi).log_scale())?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(0)
            .y_labels(decades(lo, hi) + 1)
            .y_label_formatter(&|v| fmt(*v))
            .x_desc(self.x_desc.as_str())
            .y_desc(self.y_desc.as_str())
            .axis_desc_style(text(DESC_PX))
            .label_style(text(LABEL_PX))
            .bold_line_style(GRID.stroke_width(1))
            .light_line_style(WHITE.stroke_width(0))
            .draw()?;
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
        let fmt = self.y_fmt;
        let mut chart = ChartBuilder::on(&plot)
            .margin(8)
            .margin_right(24)
            .x_label_area_size(56)
            .y_label_area_size(84)
            .build_cartesian_2d((x_min - pad)..(x_max + pad), (lo..hi).log_scale())?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(0)
            .y_labels(decades(lo, hi) + 1)
            .y_label_formatter(&|v| fmt(*v))
            .x_desc(self.x_desc.as_str())
            .y_desc(self.y_desc.as_str())
            .axis_desc_style(text(DESC_PX))
            .label_style(text(LABEL_PX))
            .bold_line_style(GRID.stroke_width(1))
            .light_line_style(WHITE.stroke_width(0))
            .draw()?;
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
