//! Charts (b) `validate_cost` and (c) `jwt_breakdown`: what a request costs the server.

use plotters::style::RGBColor;

use super::canvas::{self, HBar, HBarChart, HRow, LegendItem, Mark};
use super::{Figure, Kind};
use crate::claims::ClaimSet;
use crate::crypto::CryptoBackend;
use crate::results::schema::validate::{Operation, ValidateResults, ValidateRow};
use crate::scheme::spec::SchemeId;
use crate::units;

/// `scheme` or `scheme (backend)` when the results hold more than one JWT backend.
pub(crate) fn row_label(r: &ValidateRow, several_backends: bool) -> String {
    match (&r.backend, several_backends) {
        (Some(b), true) => format!("{} ({b})", r.scheme),
        _ => r.scheme.to_string(),
    }
}

/// True when JWT rows were measured on more than one crypto backend.
pub(crate) fn several_backends(v: &ValidateResults) -> bool {
    let mut seen: Vec<CryptoBackend> = Vec::new();
    for b in v.rows.iter().filter_map(|r| r.backend) {
        if !seen.contains(&b) {
            seen.push(b);
        }
    }
    seen.len() > 1
}

fn bar(r: &ValidateRow, color: RGBColor) -> HBar {
    HBar {
        whisker: Some(r.measurement.wall.p99_ns),
        ..HBar::new(r.measurement.median(), color)
    }
}

/// Validate median (bar) and p99 (whisker) per scheme, typical claims, with the sliding
/// session variant and the reference floors; `None` without validate rows.
pub fn cost(v: &ValidateResults) -> Option<Figure> {
    let several = several_backends(v);
    let typical = |op: Operation| {
        v.rows
            .iter()
            .filter(move |r| r.operation == op && r.claims == ClaimSet::Typical)
    };
    let mut rows: Vec<HRow> = Vec::new();
    for r in typical(Operation::Validate) {
        rows.push(HRow {
            label: row_label(r, several),
            bars: vec![bar(r, canvas::scheme_color(r.scheme))],
        });
        // The sliding-expiry variant right under its store.
        if let Some(s) = v.find(
            r.scheme,
            Operation::ValidateSliding,
            ClaimSet::Typical,
            r.backend,
        ) {
            rows.push(HRow {
                label: format!("{} sliding expiry", r.scheme),
                bars: vec![bar(s, canvas::scheme_color(r.scheme))],
            });
        }
    }
    if rows.is_empty() {
        return None;
    }
    for (op, name) in [
        (Operation::RefMapGet, "bare DashMap get"),
        (Operation::RefJwtDecode, "bare jsonwebtoken::decode HS256"),
        (Operation::RefHmacSha256, "bare HMAC-SHA256"),
    ] {
        rows.extend(typical(op).map(|r| HRow {
            label: match (&r.backend, several) {
                (Some(b), true) => format!("{name} ({b})"),
                _ => name.to_owned(),
            },
            bars: vec![bar(r, canvas::REFERENCE)],
        }));
    }
    let chart = HBarChart {
        title: "Cost of validating one valid token (typical claims)".into(),
        x_desc: "wall time per request (log scale)".into(),
        x_fmt: units::ns_tick,
        rows,
        rules: Vec::new(),
        legend: vec![
            LegendItem::new(
                Mark::Fill(canvas::REFERENCE),
                "median (bar; grey: reference floor)",
            ),
            LegendItem::new(Mark::Whisker, "99th percentile"),
        ],
    };
    Some(Figure::new(
        "validate_cost",
        "Median wall time of one `validate` (bar) and its 99th percentile (whisker) per scheme, typical \
         claims; grey bars are the floors measured in the same run. Log scale.",
        Kind::HBar(chart),
    ))
}

/// Colours of the breakdown parts and of the whole.
const PARTS: [(Operation, &str, RGBColor); 4] = [
    (
        Operation::JwtHeaderDecode,
        "header decode",
        RGBColor(0x8c, 0xc5, 0xe3),
    ),
    (
        Operation::JwtClaimsDecode,
        "claims decode + parse",
        RGBColor(0x59, 0xa1, 0x4f),
    ),
    (
        Operation::JwtSignatureCheck,
        "signature check",
        RGBColor(0xe1, 0x57, 0x59),
    ),
    (
        Operation::Validate,
        "whole validate",
        RGBColor(0x50, 0x50, 0x50),
    ),
];

/// Header decode, claims decode, signature check (each paired with its whole, as
/// [`ValidateResults::breakdown`] gives them, the figures of the table and `summary.csv`)
/// and the whole validate per JWT algorithm and backend; `None` when no breakdown was
/// measured.
pub fn jwt_breakdown(v: &ValidateResults) -> Option<Figure> {
    let several = several_backends(v);
    let mut keys: Vec<(SchemeId, Option<CryptoBackend>)> = Vec::new();
    for r in v
        .rows
        .iter()
        .filter(|r| r.operation == Operation::JwtSignatureCheck)
    {
        let k = (r.scheme, r.backend);
        if !keys.contains(&k) {
            keys.push(k);
        }
    }
    if keys.is_empty() {
        return None;
    }
    let rows = keys
        .iter()
        .map(|&(scheme, backend)| {
            let breakdown = v.breakdown(scheme, backend);
            let bars = PARTS
                .iter()
                .filter_map(|(op, _, color)| {
                    let value = match (&breakdown, op) {
                        (Some(b), Operation::Validate) => Some(b.whole),
                        (Some(b), op) => b.part(*op).map(|p| p.median),
                        (None, _) => None,
                    };
                    value.map(|x| HBar::new(x, *color))
                })
                .collect();
            HRow {
                label: match (backend, several) {
                    (Some(b), true) => format!("{scheme} ({b})"),
                    _ => scheme.to_string(),
                },
                bars,
            }
        })
        .collect();
    let chart = HBarChart {
        title: "Where a JWT validation spends its time (typical claims)".into(),
        x_desc: "median wall time (log scale)".into(),
        x_fmt: units::ns_tick,
        rows,
        rules: Vec::new(),
        legend: PARTS
            .iter()
            .map(|(_, name, color)| LegendItem::new(Mark::Fill(*color), *name))
            .collect(),
    };
    Some(Figure::new(
        "jwt_breakdown",
        "Cost of each step of a JWT validation, per algorithm and crypto backend, beside the whole \
         `validate`: each step is its median per-round share of the whole, times the whole's median \
         (both measured in the same rounds), as in the table and `summary.csv`. Log scale.",
        Kind::HBar(chart),
    ))
}
