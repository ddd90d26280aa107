//! Chart `wire_bytes`: the header bytes a request carries on the wire per HTTP client,
//! first request and repeated, from [`WireRow`]s (part of `browser.json`). One lane per
//! client × header × token over HTTP/2, for one claim set (typical when measured); two
//! bars per lane: the first request (the token's colour) and the highest repeated one
//! (grey). HTTP/1.1 reference rows are in the table, not here.

use super::canvas::{self, HBar, HBarChart, HRow, LegendItem, Mark};
use super::{Figure, Kind};
use crate::claims::ClaimSet;
use crate::results::schema::wire::{RequestOrder, WireCell, WireProtocol, WireRow, cells};
use crate::units;

/// The claim set the chart shows: typical when the rows have it, else the first they have.
pub fn chart_claims(rows: &[WireRow]) -> Option<ClaimSet> {
    if rows.iter().any(|r| r.claims == ClaimSet::Typical) {
        Some(ClaimSet::Typical)
    } else {
        rows.iter().map(|r| r.claims).min()
    }
}

/// The HTTP/2 cells the chart draws, in its order.
pub fn charted(rows: &[WireRow]) -> Vec<WireCell> {
    let Some(set) = chart_claims(rows) else {
        return Vec::new();
    };
    cells(rows)
        .into_iter()
        .filter(|c| c.protocol == WireProtocol::H2 && c.claims == set)
        .collect()
}

/// The chart, or `None` without HTTP/2 rows.
pub fn bytes(rows: &[WireRow]) -> Option<Figure> {
    let drawn = charted(rows);
    let set = chart_claims(rows)?;
    if drawn.is_empty() {
        return None;
    }
    let lanes = drawn
        .iter()
        .map(|c| {
            let mut bars = vec![HBar::new(
                c.bytes(RequestOrder::First) as f64,
                canvas::scheme_color(c.token),
            )];
            if c.repeated.is_some() {
                bars.push(HBar::new(
                    c.bytes(RequestOrder::Repeated) as f64,
                    canvas::REFERENCE,
                ));
            }
            HRow {
                label: format!("{} · {} · {}", c.client, c.header, c.token),
                bars,
            }
        })
        .collect();
    let mut tokens: Vec<_> = drawn.iter().map(|c| c.token).collect();
    tokens.sort();
    tokens.dedup();
    let mut legend: Vec<LegendItem> = tokens
        .into_iter()
        .map(|t| {
            LegendItem::new(
                Mark::Fill(canvas::scheme_color(t)),
                format!("{t}: first request"),
            )
        })
        .collect();
    legend.push(LegendItem::new(
        Mark::Fill(canvas::REFERENCE),
        "repeated request (highest)",
    ));
    let chart = HBarChart {
        title: "HTTP/2: header bytes per request, per client".into(),
        x_desc: "bytes of the request's HEADERS frames (log scale)".into(),
        x_fmt: units::count_tick,
        rows: lanes,
        rules: Vec::new(),
        legend,
    };
    Some(Figure::new(
        "wire_bytes",
        format!(
            "What the server received per `GET /me` on one HTTP/2 connection over TLS, {} claims: \
             the request's HEADERS and CONTINUATION frames whole (HPACK block, priority and padding \
             fields, 9-byte frame headers), the first request (coloured) and the highest of the \
             repeated ones (grey), which carry the same credential header again. A client that \
             puts the header in HPACK's dynamic table sends it as an index the second time. Log \
             scale.",
            set.name()
        ),
        Kind::HBar(chart),
    ))
}
