//! Charts (e) `scale_throughput` and (f) `scale_percentiles`: `validate` under load.

use super::canvas::{self, LineChart, Marker, Series};
use super::{Figure, Kind};
use crate::crypto::CryptoBackend;
use crate::results::schema::scale::{ScalePoint, ScaleResults};
use crate::scheme::spec::SchemeId;
use crate::units;

/// A line of the scale charts: scheme, backend and working set.
type Key = (SchemeId, Option<CryptoBackend>, Option<usize>);

fn key(p: &ScalePoint) -> Key {
    (p.scheme, p.backend, p.sessions)
}

/// The lines in order of first appearance, with their style.
fn lines(r: &ScaleResults) -> Vec<(Key, Series)> {
    let mut backends: Vec<CryptoBackend> = Vec::new();
    let mut sets: Vec<usize> = Vec::new();
    let mut keys: Vec<Key> = Vec::new();
    for p in &r.points {
        if let Some(b) = p.backend
            && !backends.contains(&b)
        {
            backends.push(b);
        }
        if let Some(n) = p.sessions
            && !sets.contains(&n)
        {
            sets.push(n);
        }
        if !keys.contains(&key(p)) {
            keys.push(key(p));
        }
    }
    sets.sort_unstable();
    keys.into_iter()
        .map(|k @ (scheme, backend, sessions)| {
            let mut label = scheme.to_string();
            if let (Some(b), true) = (backend, backends.len() > 1) {
                label.push_str(&format!(" ({b})"));
            }
            if let Some(n) = sessions {
                label.push_str(&format!(", {} sessions", units::count_tick(n as f64)));
            }
            let marker = sessions
                .and_then(|n| sets.iter().position(|&x| x == n))
                .map_or(Marker::Circle, |i| Marker::ALL[i % Marker::ALL.len()]);
            let series = Series {
                label,
                color: canvas::scheme_color(scheme),
                dashed: backend.is_some_and(|b| backends.first() != Some(&b)),
                marker,
                points: Vec::new(),
            };
            (k, series)
        })
        .collect()
}

/// Operations per second against threads, one line per scheme, backend and working set;
/// `None` without points.
pub fn throughput(r: &ScaleResults) -> Option<Figure> {
    if r.points.is_empty() {
        return None;
    }
    let mut threads: Vec<usize> = r.points.iter().map(|p| p.threads).collect();
    threads.sort_unstable();
    threads.dedup();
    let series = lines(r)
        .into_iter()
        .map(|(k, mut s)| {
            let mut pts: Vec<(f64, f64)> = r
                .points
                .iter()
                .filter(|p| key(p) == k)
                .map(|p| (p.threads as f64, p.ops_per_sec))
                .collect();
            pts.sort_by(|a, b| a.0.total_cmp(&b.0));
            s.points = pts;
            s
        })
        .collect();
    let chart = LineChart {
        title: format!("Throughput of validate as threads grow ({} cores)", r.cores),
        x_desc: "validating threads".into(),
        y_desc: "validations per second (log scale)".into(),
        y_fmt: units::count_tick,
        x_ticks: threads.iter().map(|&t| (t as f64, t.to_string())).collect(),
        series,
    };
    Some(Figure::new(
        "scale_throughput",
        format!(
            "Validations per second, all threads together, against the number of validating threads on {} \
             cores; one line per scheme, crypto backend and working set of live sessions (markers). {} ms per \
             point. Log scale.",
            r.cores, r.duration_per_point_ms
        ),
        Kind::Line(chart),
    ))
}

/// The percentiles drawn, with their labels.
const PERCENTILES: [&str; 4] = ["p50", "p90", "p99", "p99.9"];

/// Latency p50, p90, p99 and p99.9 at the highest thread count, one line per scheme,
/// backend and working set; `None` without points.
pub fn percentiles(r: &ScaleResults) -> Option<Figure> {
    let top = r.points.iter().map(|p| p.threads).max()?;
    let series = lines(r)
        .into_iter()
        .filter_map(|(k, mut s)| {
            let p = r.points.iter().find(|p| key(p) == k && p.threads == top)?;
            let l = &p.latency;
            s.points = [l.median_ns, l.p90_ns, l.p99_ns, l.p999_ns]
                .into_iter()
                .enumerate()
                .map(|(i, v)| (i as f64, v))
                .collect();
            Some(s)
        })
        .collect();
    let chart = LineChart {
        title: format!("Latency percentiles of validate at {top} threads"),
        x_desc: "percentile".into(),
        y_desc: "latency per request (log scale)".into(),
        y_fmt: units::ns_tick,
        x_ticks: PERCENTILES
            .iter()
            .enumerate()
            .map(|(i, l)| (i as f64, (*l).to_owned()))
            .collect(),
        series,
    };
    Some(Figure::new(
        "scale_percentiles",
        format!(
            "Latency percentiles of one `validate` with {top} threads validating at once, one line per scheme, \
             crypto backend and working set. Latencies are means over short batches (the batch size is in \
             scale.json), so cheap operations' tails are smoothed. Log scale."
        ),
        Kind::Line(chart),
    ))
}
