//! `scale.json`: throughput and latency percentiles per scheme, thread count and working set,
//! and each line's scaling ratio ([`ScaleResults::scaling`], computed here once for
//! `summary.csv` and the report).

use serde::{Deserialize, Serialize};

use super::{ResultFile, SummaryRow};
use crate::crypto::CryptoBackend;
use crate::measure::stats::Summary;
use crate::scheme::spec::SchemeId;

/// One point: a scheme at a thread count and working set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScalePoint {
    /// The scheme.
    pub scheme: SchemeId,
    /// jsonwebtoken crypto backend for JWT points.
    pub backend: Option<CryptoBackend>,
    /// Validating threads.
    pub threads: usize,
    /// Live sessions in the store; `None` for JWTs.
    pub sessions: Option<usize>,
    /// Distinct tokens drawn from.
    pub token_pool: usize,
    /// Operations completed.
    pub ops: u64,
    /// Wall time of the point, seconds.
    pub duration_s: f64,
    /// Throughput, operations per second (all threads).
    pub ops_per_sec: f64,
    /// Per-operation latency (batch means), ns.
    pub latency: Summary,
    /// HdrHistogram of per-operation latency in ns (V2 deflate, base64).
    pub latency_histogram: String,
    /// Operations per latency batch.
    pub batch_size: u64,
    /// Validations that failed: zero unless a remote store was unreachable (those lookups are
    /// refused, fail closed, and counted here).
    pub errors: u64,
}

/// Everything the scale workload measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScaleResults {
    /// [`ResultFile::VERSION`] of the file (0: written before per-file versions).
    #[serde(default)]
    pub schema_version: u32,
    /// Logical cores of the machine.
    pub cores: usize,
    /// Measuring time per point, ms.
    pub duration_per_point_ms: f64,
    /// Session expiry mode while scaling (lookups only; sliding adds a write).
    pub session_sliding: bool,
    /// All points, including the other crypto backend's when it was run.
    pub points: Vec<ScalePoint>,
}

/// Scaling ratio of one line of the scale workload (scheme, backend, working set).
#[derive(Debug, Clone, PartialEq)]
pub struct Scaling {
    /// The scheme.
    pub scheme: SchemeId,
    /// Crypto backend, for schemes measured per backend.
    pub backend: Option<CryptoBackend>,
    /// Working set (sessions).
    pub sessions: Option<usize>,
    /// ops/s at the fewest threads.
    pub low_ops: f64,
    /// ops/s at the most threads.
    pub high_ops: f64,
}

impl Scaling {
    /// S = `high_ops / low_ops`.
    pub fn ratio(&self) -> f64 {
        self.high_ops / self.low_ops
    }
}

impl ScaleResults {
    /// The thread counts S is taken between: the fewest, and the most up to the machine's
    /// cores (the most of all when none lies between); threads beyond the cores measure
    /// run-queue wait, not scaling.
    pub fn thread_span(&self) -> Option<(usize, usize)> {
        let lo = self.points.iter().map(|p| p.threads).min()?;
        let within = self
            .points
            .iter()
            .map(|p| p.threads)
            .filter(|&t| t > lo && t <= self.cores)
            .max();
        let hi = within.or_else(|| self.points.iter().map(|p| p.threads).max())?;
        (hi > lo).then_some((lo, hi))
    }

    /// The fewest threads and the most up to the cores ([`thread_span`](Self::thread_span)),
    /// and each line's scaling between them.
    pub fn scaling(&self) -> Option<(usize, usize, Vec<Scaling>)> {
        let (lo, hi) = self.thread_span()?;
        let mut out: Vec<Scaling> = Vec::new();
        for p in self.points.iter().filter(|p| p.threads == lo) {
            let high = self.points.iter().find(|q| {
                q.threads == hi
                    && q.scheme == p.scheme
                    && q.backend == p.backend
                    && q.sessions == p.sessions
            });
            if let Some(q) = high
                && p.ops_per_sec > 0.0
            {
                out.push(Scaling {
                    scheme: p.scheme,
                    backend: p.backend,
                    sessions: p.sessions,
                    low_ops: p.ops_per_sec,
                    high_ops: q.ops_per_sec,
                });
            }
        }
        Some((lo, hi, out))
    }
}

impl ResultFile for ScaleResults {
    const FILE: &'static str = "scale";
    const VERSION: u32 = 1;

    /// Adds another process's points (the second crypto backend).
    fn merge(&mut self, other: ScaleResults) {
        self.points.extend(other.points);
    }

    /// One line per point where validations failed (e.g. refused because Redis was
    /// unreachable: fail closed), for the end of a run; empty when none did.
    fn error_notes(&self) -> Vec<String> {
        self.points
            .iter()
            .filter(|p| p.errors > 0)
            .map(|p| {
                format!(
                    "scale {} at {} threads{}: {} of {} validations failed (refused, fail closed)",
                    p.scheme,
                    p.threads,
                    p.sessions
                        .map_or(String::new(), |n| format!(", {n} sessions")),
                    p.errors,
                    p.ops
                )
            })
            .collect()
    }
    /// Headline rows for `summary.csv`: per point ops/s and latency percentiles; per line
    /// its scaling ratio S (`scaling_ratio`, param `<fewest>t-<most>t[/<sessions>]`).
    fn summary_rows(&self) -> Vec<SummaryRow> {
        let mut out: Vec<SummaryRow> = self
            .points
            .iter()
            .flat_map(|p| {
                let param = match p.sessions {
                    Some(n) => format!("{}t/{n}", p.threads),
                    None => format!("{}t", p.threads),
                };
                let b = p.backend;
                [
                    SummaryRow::new(
                        "scale",
                        p.scheme,
                        b,
                        &param,
                        "ops_per_sec",
                        p.ops_per_sec,
                        "ops/s",
                    ),
                    SummaryRow::new(
                        "scale",
                        p.scheme,
                        b,
                        &param,
                        "latency_p50",
                        p.latency.median_ns,
                        "ns",
                    ),
                    SummaryRow::new(
                        "scale",
                        p.scheme,
                        b,
                        &param,
                        "latency_p90",
                        p.latency.p90_ns,
                        "ns",
                    ),
                    SummaryRow::new(
                        "scale",
                        p.scheme,
                        b,
                        &param,
                        "latency_p99",
                        p.latency.p99_ns,
                        "ns",
                    ),
                    SummaryRow::new(
                        "scale",
                        p.scheme,
                        b,
                        &param,
                        "latency_p999",
                        p.latency.p999_ns,
                        "ns",
                    ),
                ]
            })
            .collect();
        if let Some((lo, hi, lines)) = self.scaling() {
            for l in lines {
                let param = match l.sessions {
                    Some(n) => format!("{lo}t-{hi}t/{n}"),
                    None => format!("{lo}t-{hi}t"),
                };
                out.push(SummaryRow::new(
                    "scale",
                    l.scheme,
                    l.backend,
                    &param,
                    "scaling_ratio",
                    l.ratio(),
                    "ratio",
                ));
            }
        }
        out
    }
}
