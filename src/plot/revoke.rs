//! Chart (d), `revoke_latency`: how long a revoked token keeps being accepted.

use super::canvas::{self, HBar, HBarChart, HRow, LegendItem, Mark, Rule};
use super::{Figure, Kind};
use crate::results::schema::revoke::{RevokeResults, TrialClock};
use crate::units;

/// Latency p50 (bar), p99 (whisker) and max (dot) per strategy, each strategy's window
/// (tick) and the JWT lifetime (dashed line); `None` when no strategy ran.
pub fn latency(r: &RevokeResults) -> Option<Figure> {
    if r.strategies.is_empty() {
        return None;
    }
    let rows = r
        .strategies
        .iter()
        .map(|s| {
            let mut label = s.strategy.to_string();
            if s.clock == TrialClock::Virtual {
                label.push_str(" (virtual clock)");
            }
            if s.latency.samples == 0 {
                label.push_str(" (no trial succeeded)");
            }
            let bar = if s.latency.samples == 0 {
                HBar {
                    tick: s.window_ms.map(|w| w * 1e6),
                    ..HBar::new(0.0, canvas::strategy_color(s.strategy))
                }
            } else {
                HBar {
                    whisker: Some(s.latency.p99_ns),
                    dot: Some(s.latency.max_ns),
                    tick: s.window_ms.map(|w| w * 1e6),
                    ..HBar::new(s.latency.median_ns, canvas::strategy_color(s.strategy))
                }
            };
            HRow {
                label,
                bars: vec![bar],
            }
        })
        .collect();
    let lifetime_ns = r.jwt_lifetime_s * 1e9;
    let chart = HBarChart {
        title: format!(
            "Time until every one of {} validators rejects a revoked token",
            r.validators
        ),
        x_desc: "revocation latency (log scale)".into(),
        x_fmt: units::ns_tick,
        rows,
        rules: vec![Rule {
            value: lifetime_ns,
            color: canvas::SOFT_LIMIT,
            dashed: true,
            label: format!("JWT lifetime {}", units::ns_tick(lifetime_ns)),
        }],
        legend: vec![
            LegendItem::new(Mark::Fill(canvas::REFERENCE), "median"),
            LegendItem::new(Mark::Whisker, "p99"),
            LegendItem::new(Mark::Dot, "max"),
            LegendItem::new(
                Mark::Tick,
                "staleness window (cache T, poll P, JWT lifetime)",
            ),
            LegendItem::new(
                Mark::Line {
                    color: canvas::SOFT_LIMIT,
                    dashed: true,
                    marker: None,
                },
                "JWT lifetime",
            ),
        ],
    };
    Some(Figure::new(
        "revoke_latency",
        format!(
            "Per strategy, over its trials: median (bar), p99 (whisker) and maximum (dot) of the time from \
             `revoke` until the last of {} validator nodes rejects the token; ticks mark each strategy's \
             staleness window, the dashed line the JWT lifetime ({}). `jwt-expiry-only` runs on a virtual \
             clock. Log scale.",
            r.validators,
            units::ns(lifetime_ns)
        ),
        Kind::HBar(chart),
    ))
}
