//! Chart (a), `size_headers`: what each token costs on the wire.

use super::canvas::{self, HLine, LegendItem, Mark, VBar, VBarChart};
use super::{Figure, Kind};
use crate::claims::ClaimSet;
use crate::results::schema::size::SizeResults;
use crate::scheme::spec::SchemeId;
use crate::units;

/// Bars of `Cookie:` header bytes per claim set and scheme, the token inside each bar,
/// and the cookie and header limits; `None` when the results hold no rows.
pub fn header_bytes(r: &SizeResults) -> Option<Figure> {
    if r.rows.is_empty() {
        return None;
    }
    let mut schemes: Vec<SchemeId> = Vec::new();
    for row in &r.rows {
        if !schemes.contains(&row.scheme) {
            schemes.push(row.scheme);
        }
    }
    let groups = ClaimSet::ALL
        .into_iter()
        .filter(|set| r.rows.iter().any(|x| x.claims == *set))
        .map(|set| {
            let bars = schemes
                .iter()
                .map(|s| {
                    let row = r.rows.iter().find(|x| x.claims == set && x.scheme == *s);
                    VBar {
                        value: row.map_or(0.0, |x| x.cookie_header_bytes as f64),
                        color: canvas::scheme_color(*s),
                        level: row.map(|x| x.token_bytes as f64),
                    }
                })
                .collect();
            (set.name().to_owned(), bars)
        })
        .collect();
    let mut legend: Vec<LegendItem> = schemes
        .iter()
        .map(|s| LegendItem::new(Mark::Fill(canvas::scheme_color(*s)), s.to_string()))
        .collect();
    legend.push(LegendItem::new(Mark::Level, "token alone"));
    let cookie = r.cookie_limit_bytes as f64;
    let header = r.header_limit_bytes as f64;
    let chart = VBarChart {
        title: "Cookie: request header bytes per scheme and claim set".into(),
        x_desc: "claim set".into(),
        y_desc: "bytes (log scale)".into(),
        y_fmt: units::count_tick,
        groups,
        lines: vec![
            HLine {
                value: header,
                color: canvas::SOFT_LIMIT,
                label: format!("header line limit {} (8 KiB)", units::bytes(header)),
            },
            HLine {
                value: cookie,
                color: canvas::LIMIT,
                label: format!("cookie limit {} (RFC 6265)", units::bytes(cookie)),
            },
        ],
        legend,
    };
    Some(Figure::new(
        "size_headers",
        format!(
            "Bars: bytes of the `Cookie: {}=<token>` request header per scheme and claim set; black mark: \
             the token alone; dashed lines: the {}-byte cookie limit and the {}-byte header limit. Log scale.",
            r.cookie_name, r.cookie_limit_bytes, r.header_limit_bytes
        ),
        Kind::VBar(chart),
    ))
}
