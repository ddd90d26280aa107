//! Charts (g) `http_throughput`, (h) `http_p99`, (i) `http_cpu` and (j) `http_bytes`: the
//! Superb Site under load, one line or bar per scheme × transport × protocol of `http.json`.
//!
//! Lines take the scheme's colour; the marker is the protocol (circle HTTP/1.1, triangle
//! h2c, square HTTP/2 over TLS) and bearer rows are dashed, cookie rows solid.

use super::canvas::{
    self, HBar, HBarChart, HRow, LegendItem, LineChart, Mark, Marker, Segment, Series, StackChart,
    StackRow,
};
use super::{Figure, Kind};
use crate::results::schema::http::{HttpProtocol, HttpResults, HttpRow, StepResult, Transport};
use crate::scheme::spec::SchemeId;
use crate::units;
use plotters::style::RGBColor;

/// Colour of the password (argon2id) part of a request's CPU.
const PASSWORD: RGBColor = RGBColor(0xed, 0xc9, 0x48);
/// Colour of the rest of the stack (HTTP, TLS, routing, kernel).
const REST: RGBColor = RGBColor(0xc8, 0xc8, 0xc8);

/// Every http chart the results allow, in report order.
pub fn figures(r: &HttpResults) -> Vec<Figure> {
    [throughput(r), p99(r), cpu(r), bytes(r)]
        .into_iter()
        .flatten()
        .collect()
}

fn marker(p: HttpProtocol) -> Marker {
    match p {
        HttpProtocol::Http1 => Marker::Circle,
        HttpProtocol::H2c => Marker::Triangle,
        HttpProtocol::H2Tls => Marker::Square,
    }
}

/// One line per row, its points `(log10 offered rate, f(step))` over the search's steps,
/// sorted by rate.
fn series(r: &HttpResults, f: fn(&StepResult) -> f64) -> Vec<Series> {
    r.rows
        .iter()
        .map(|row| {
            let mut points: Vec<(f64, f64)> = row
                .search
                .iter()
                .filter(|s| s.step.offered_rate > 0.0)
                .map(|s| (s.step.offered_rate.log10(), f(&s.step)))
                .collect();
            points.sort_by(|a, b| a.0.total_cmp(&b.0));
            Series {
                label: row.label(),
                color: canvas::scheme_color(row.scheme),
                dashed: row.transport == Transport::Bearer,
                marker: marker(row.protocol),
                points,
            }
        })
        .collect()
}

/// Ticks at 1, 2 and 5 × 10^k between the lowest and the highest offered rate, placed on
/// the log10 positions the series use.
fn rate_ticks(r: &HttpResults) -> Vec<(f64, String)> {
    let rates = r
        .rows
        .iter()
        .flat_map(|row| row.search.iter().map(|s| s.step.offered_rate))
        .filter(|x| x.is_finite() && *x > 0.0);
    let (lo, hi) = rates.fold((f64::INFINITY, 0.0f64), |(a, b), x| (a.min(x), b.max(x)));
    if !lo.is_finite() {
        return Vec::new();
    }
    let mut out = Vec::new();
    let mut decade = 10f64.powf(lo.log10().floor());
    // At most 12 decades: the rates come from a bounded search.
    for _ in 0..12 {
        for m in [1.0, 2.0, 5.0] {
            let v = decade * m;
            if v >= lo / 1.5 && v <= hi * 1.5 {
                out.push((v.log10(), units::count_tick(v)));
            }
        }
        decade *= 10.0;
        if decade > hi * 1.5 {
            break;
        }
    }
    out
}

/// True when some row has a search step to draw.
fn has_steps(r: &HttpResults) -> bool {
    r.rows.iter().any(|row| !row.search.is_empty())
}

/// Answered rate against offered rate over every search step, one line per row, with the
/// line where every offered request is answered; `None` without steps.
pub fn throughput(r: &HttpResults) -> Option<Figure> {
    if !has_steps(r) {
        return None;
    }
    let ticks = rate_ticks(r);
    let mut lines = series(r, |s| s.achieved_rate);
    let xs: Vec<f64> = ticks.iter().map(|t| t.0).collect();
    if let (Some(a), Some(b)) = (xs.first(), xs.last()) {
        lines.push(Series {
            label: "answered = offered".into(),
            color: canvas::REFERENCE,
            dashed: true,
            marker: Marker::Cross,
            points: vec![(*a, 10f64.powf(*a)), (*b, 10f64.powf(*b))],
        });
    }
    let chart = LineChart {
        title: "HTTP: answered rate against offered rate".into(),
        x_desc: "offered rate, requests/s (log scale)".into(),
        y_desc: "answered requests/s (log scale)".into(),
        y_fmt: units::count_tick,
        x_ticks: ticks,
        series: lines,
    };
    Some(Figure::new(
        "http_throughput",
        "Each step of each row's rate search: requests answered as expected per second against the rate \
         offered (open loop). A row keeps up while its line follows the grey diagonal. Colour: scheme; \
         marker: protocol (circle HTTP/1.1, triangle h2c, square HTTP/2 over TLS); dashed: bearer, solid: \
         cookie. Log scales.",
        Kind::Line(chart),
    ))
}

/// p99 latency (from the intended send time) against offered rate, with the objective;
/// `None` without steps.
pub fn p99(r: &HttpResults) -> Option<Figure> {
    if !has_steps(r) {
        return None;
    }
    let ticks = rate_ticks(r);
    let mut lines = series(r, |s| s.latency.p99_ns);
    let objective = r.search_params().map(|p| p.p99_objective.as_nanos() as f64);
    if let (Some(o), Some(a), Some(b)) = (objective, ticks.first(), ticks.last()) {
        lines.push(Series {
            label: format!("p99 objective {}", units::ns_tick(o)),
            color: canvas::LIMIT,
            dashed: true,
            marker: Marker::Cross,
            points: vec![(a.0, o), (b.0, o)],
        });
    }
    let chart = LineChart {
        title: "HTTP: p99 latency against offered rate".into(),
        x_desc: "offered rate, requests/s (log scale)".into(),
        y_desc: "p99 from the intended send time (log scale)".into(),
        y_fmt: units::ns_tick,
        x_ticks: ticks,
        series: lines,
    };
    Some(Figure::new(
        "http_p99",
        "Each step of each row's rate search: p99 latency counted from the intended send time (no \
         coordinated omission) against the offered rate; the red dashed line is the objective a step must \
         meet. Colour: scheme; marker: protocol (circle HTTP/1.1, triangle h2c, square HTTP/2 over TLS); \
         dashed: bearer, solid: cookie. Log scales.",
        Kind::Line(chart),
    ))
}

/// The schemes of the rows, in order of first appearance.
fn schemes(r: &HttpResults) -> Vec<SchemeId> {
    let mut out: Vec<SchemeId> = Vec::new();
    for row in &r.rows {
        if !out.contains(&row.scheme) {
            out.push(row.scheme);
        }
    }
    out
}

/// Server CPU per request at the common rate, stacked: the token's part (scheme colour),
/// password hashing, the rest of the stack; `None` without rows.
pub fn cpu(r: &HttpResults) -> Option<Figure> {
    if r.rows.is_empty() {
        return None;
    }
    let rows = r
        .rows
        .iter()
        .map(|row: &HttpRow| {
            let d = &row.common.server;
            StackRow {
                label: row.label(),
                segments: vec![
                    Segment {
                        value: d.token_cpu_per_request_ns,
                        color: canvas::scheme_color(row.scheme),
                    },
                    Segment {
                        value: d.password_cpu_per_request_ns,
                        color: PASSWORD,
                    },
                    Segment {
                        value: d.rest_cpu_per_request_ns,
                        color: REST,
                    },
                ],
            }
        })
        .collect();
    let mut legend: Vec<LegendItem> = schemes(r)
        .into_iter()
        .map(|s| LegendItem::new(Mark::Fill(canvas::scheme_color(s)), format!("token: {s}")))
        .collect();
    legend.push(LegendItem::new(
        Mark::Fill(PASSWORD),
        "password check (argon2id at login)",
    ));
    legend.push(LegendItem::new(
        Mark::Fill(REST),
        "rest of the stack (HTTP, TLS, routing, kernel)",
    ));
    let chart = StackChart {
        title: format!(
            "HTTP: server CPU per request at {} req/s",
            units::count(r.common_rate)
        ),
        x_desc: "server process CPU per request (user + system)".into(),
        x_fmt: units::ns_tick,
        rows,
        legend,
    };
    Some(Figure::new(
        "http_cpu",
        format!(
            "Server process CPU (getrusage) per answered request over the step at the common rate ({} req/s), \
             split into the token's part (every call into the scheme: validate, issue, revoke, CSRF lookups; \
             sampled thread CPU), the password check at login, and the rest of the stack. The bar's length \
             is the whole. Linear scale.",
            units::count(r.common_rate)
        ),
        Kind::Stack(chart),
    ))
}

/// Bytes per request on the generator's sockets at the common rate, sent (client → server)
/// and received, per row; `None` without rows.
pub fn bytes(r: &HttpResults) -> Option<Figure> {
    if r.rows.is_empty() {
        return None;
    }
    let rows = r
        .rows
        .iter()
        .map(|row| HRow {
            label: row.label(),
            bars: vec![
                HBar::new(
                    row.common.step.bytes_sent_per_request,
                    canvas::scheme_color(row.scheme),
                ),
                HBar::new(
                    row.common.step.bytes_received_per_request,
                    canvas::REFERENCE,
                ),
            ],
        })
        .collect();
    let mut legend: Vec<LegendItem> = schemes(r)
        .into_iter()
        .map(|s| {
            LegendItem::new(
                Mark::Fill(canvas::scheme_color(s)),
                format!("{s}: client → server"),
            )
        })
        .collect();
    legend.push(LegendItem::new(
        Mark::Fill(canvas::REFERENCE),
        "server → client",
    ));
    let chart = HBarChart {
        title: "HTTP: bytes per request on the socket".into(),
        x_desc: "bytes per answered request (log scale)".into(),
        x_fmt: units::count_tick,
        rows,
        rules: Vec::new(),
        legend,
    };
    Some(Figure::new(
        "http_bytes",
        format!(
            "Bytes the load generator wrote (coloured) and read (grey) on its sockets per answered request at \
             the common rate ({} req/s), the whole flow mix (login, reads, writes, logout) averaged; below \
             TLS for HTTP/2 over TLS. HTTP/2 compresses headers (HPACK). Log scale.",
            units::count(r.common_rate)
        ),
        Kind::HBar(chart),
    ))
}
