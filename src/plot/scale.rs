//! Charts (e) `scale_throughput` and (f) `scale_percentiles`: `validate` under load, as
//! small multiples so that a dozen lines stay readable: the session stores in the charts of
//! those names, the schemes that need no store lookup in `scale_throughput_jwt` and
//! `scale_percentiles_jwt` (one chart when the run has one kind only). Thread counts above
//! the cores are labelled as run-queue wait: there they measure queueing, not scaling.

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

/// Which lines a chart draws: every one, the session stores', or the others'.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Part {
    All,
    Sessions,
    SelfContained,
}

impl Part {
    fn holds(self, p: &ScalePoint) -> bool {
        match self {
            Part::All => true,
            Part::Sessions => p.scheme.capabilities().store_lookup,
            Part::SelfContained => !p.scheme.capabilities().store_lookup,
        }
    }

    /// The charts of `r`: `(part, name suffix, title words)`.
    fn of(r: &ScaleResults, name: &'static str) -> Vec<(Part, String, &'static str)> {
        let sessions = r
            .points
            .iter()
            .any(|p| p.scheme.capabilities().store_lookup);
        let others = r
            .points
            .iter()
            .any(|p| !p.scheme.capabilities().store_lookup);
        if sessions && others {
            vec![
                (Part::Sessions, name.to_owned(), "session stores"),
                (
                    Part::SelfContained,
                    format!("{name}_jwt"),
                    "self-contained tokens",
                ),
            ]
        } else {
            vec![(Part::All, name.to_owned(), "")]
        }
    }
}

/// `4` for a thread count the cores can run at once, `4 (queue)` above them.
fn thread_tick(threads: usize, cores: usize) -> String {
    if threads > cores {
        format!("{threads} (queue)")
    } else {
        threads.to_string()
    }
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

/// Operations per second against threads, one line per scheme, backend and working set, one
/// chart per family; empty without points.
pub fn throughput(r: &ScaleResults) -> Vec<Figure> {
    Part::of(r, "scale_throughput")
        .into_iter()
        .filter_map(|(part, name, what)| throughput_of(r, part, &name, what))
        .collect()
}

fn throughput_of(r: &ScaleResults, part: Part, name: &str, what: &str) -> Option<Figure> {
    let points: Vec<&ScalePoint> = r.points.iter().filter(|p| part.holds(p)).collect();
    if points.is_empty() {
        return None;
    }
    let mut threads: Vec<usize> = points.iter().map(|p| p.threads).collect();
    threads.sort_unstable();
    threads.dedup();
    let series = lines(r)
        .into_iter()
        .filter(|(k, _)| points.iter().any(|p| key(p) == *k))
        .map(|(k, mut s)| {
            let mut pts: Vec<(f64, f64)> = points
                .iter()
                .filter(|p| key(p) == k)
                .map(|p| (p.threads as f64, p.ops_per_sec))
                .collect();
            pts.sort_by(|a, b| a.0.total_cmp(&b.0));
            s.points = pts;
            s
        })
        .collect();
    let of = if what.is_empty() {
        String::new()
    } else {
        format!(", {what}")
    };
    let chart = LineChart {
        title: format!(
            "Throughput of validate as threads grow ({} cores{of})",
            r.cores
        ),
        x_desc: "validating threads ((queue): more threads than cores)".into(),
        y_desc: "validations per second (log scale)".into(),
        y_fmt: units::count_tick,
        x_ticks: threads
            .iter()
            .map(|&t| (t as f64, thread_tick(t, r.cores)))
            .collect(),
        series,
    };
    let oversubscribed = threads.iter().any(|&t| t > r.cores);
    Some(Figure::new(
        name,
        format!(
            "Validations per second{of}, all threads together, against the number of validating threads \
             on {} cores; one line per scheme, crypto backend and working set of live sessions \
             (markers). {} ms per point. {}Log scale.",
            r.cores,
            r.duration_per_point_ms,
            if oversubscribed {
                "Points marked (queue) run more threads than cores: they measure run-queue wait \
                 (oversubscribed), not scaling. "
            } else {
                ""
            }
        ),
        Kind::Line(chart),
    ))
}

/// The percentiles drawn, with their labels.
const PERCENTILES: [&str; 4] = ["p50", "p90", "p99", "p99.9"];

/// Latency p50, p90, p99 and p99.9 at the highest thread count, one line per scheme,
/// backend and working set, one chart per family; empty without points.
pub fn percentiles(r: &ScaleResults) -> Vec<Figure> {
    Part::of(r, "scale_percentiles")
        .into_iter()
        .filter_map(|(part, name, what)| percentiles_of(r, part, &name, what))
        .collect()
}

fn percentiles_of(r: &ScaleResults, part: Part, name: &str, what: &str) -> Option<Figure> {
    let top = r
        .points
        .iter()
        .filter(|p| part.holds(p))
        .map(|p| p.threads)
        .max()?;
    let series = lines(r)
        .into_iter()
        .filter_map(|(k, mut s)| {
            let p = r
                .points
                .iter()
                .find(|p| part.holds(p) && key(p) == k && p.threads == top)?;
            let l = &p.latency;
            s.points = [l.median_ns, l.p90_ns, l.p99_ns, l.p999_ns]
                .into_iter()
                .enumerate()
                .map(|(i, v)| (i as f64, v))
                .collect();
            Some(s)
        })
        .collect();
    let of = if what.is_empty() {
        String::new()
    } else {
        format!(", {what}")
    };
    let queue = top > r.cores;
    let chart = LineChart {
        title: format!(
            "Latency percentiles of validate at {top} threads{}{of}",
            if queue { " (queue)" } else { "" }
        ),
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
        name,
        format!(
            "Latency percentiles of one `validate` with {top} threads validating at once{of}, one line \
             per scheme, crypto backend and working set. {}Latencies are means over short batches (the \
             batch size is in scale.json), so cheap operations' tails are smoothed. Log scale.",
            if queue {
                format!(
                    "{top} threads on {} cores is oversubscribed: the tail is mostly run-queue wait. ",
                    r.cores
                )
            } else {
                String::new()
            }
        ),
        Kind::Line(chart),
    ))
}
