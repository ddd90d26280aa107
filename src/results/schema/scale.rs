//! `scale.json`: throughput and latency percentiles per scheme, thread count and working set.

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

impl ScaleResults {}

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
    /// Headline rows for `summary.csv`.
    fn summary_rows(&self) -> Vec<SummaryRow> {
        self.points
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
            .collect()
    }
}
