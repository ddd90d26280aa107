//! The legend strip under each chart: what an entry shows ([`Mark`], with the point
//! [`Marker`]s of line series), how entries wrap into rows, and how they are drawn.

use super::style::{LABEL_PX, text};
use super::{DrawError, DrawResult};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// Legend item positions and the strip's height.
type Layout = (Vec<(i32, i32)>, u32);

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
pub(super) fn legend_layout<DB: DrawingBackend>(
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

pub(super) fn draw_marker<DB: DrawingBackend>(
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

pub(super) fn draw_legend<DB: DrawingBackend>(
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
