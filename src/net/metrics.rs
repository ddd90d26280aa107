//! The JSON body of the server's `GET /metrics`, versioned: the server writes it, the http
//! workload and the tests read it, and the results schema derives per-request figures
//! from two of them (`MetricsDelta::between`). How the server fills it: HTTP.md.

use serde::{Deserialize, Serialize};

/// Version of the `/metrics` JSON. 2 added `peak_rss_bytes`, `vm_rss_bytes` and
/// `live_sessions` (every field of 1 kept); 3 added `options_requests` and
/// `preflights_refused` (read as 0 from older servers).
pub const METRICS_SCHEMA_VERSION: u32 = 3;

/// Sampled CPU accounting of one kind of call, at one instant.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct CpuCount {
    /// Calls made.
    pub calls: u64,
    /// Calls timed.
    pub sampled: u64,
    /// CPU time of the timed calls, ns (the clock's own cost removed).
    pub sampled_cpu_ns: u64,
}

impl CpuCount {
    /// Estimated CPU of all calls, ns: the sampled mean times the calls.
    pub fn estimated_cpu_ns(&self) -> f64 {
        if self.sampled == 0 {
            0.0
        } else {
            self.sampled_cpu_ns as f64 / self.sampled as f64 * self.calls as f64
        }
    }

    /// Difference `self - earlier`.
    pub fn since(&self, earlier: &CpuCount) -> CpuCount {
        CpuCount {
            calls: self.calls.saturating_sub(earlier.calls),
            sampled: self.sampled.saturating_sub(earlier.sampled),
            sampled_cpu_ns: self.sampled_cpu_ns.saturating_sub(earlier.sampled_cpu_ns),
        }
    }
}

/// The server's figures at one instant: the body of `GET /metrics`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricsSnapshot {
    /// [`METRICS_SCHEMA_VERSION`].
    pub schema_version: u32,
    /// User + system CPU time of the whole server process so far, ns.
    pub process_cpu_ns: u64,
    /// User CPU time, ns.
    pub user_cpu_ns: u64,
    /// System (kernel) CPU time, ns.
    pub system_cpu_ns: u64,
    /// Resident memory now, bytes (0 where unknown).
    pub rss_bytes: u64,
    /// Peak resident memory, bytes, from `getrusage` (`ru_maxrss`): it survives `exec`, so
    /// a server started by a larger process reports that process's peak if it is higher.
    /// Use [`peak_rss_bytes`](Self::peak_rss_bytes) for the server's own.
    pub max_rss_bytes: u64,
    /// This process's own peak resident memory, bytes: `VmHWM` of `/proc/self/status`,
    /// which starts afresh at `exec` (0 where unknown).
    #[serde(default)]
    pub peak_rss_bytes: u64,
    /// This process's resident memory now, bytes: `VmRSS` of `/proc/self/status` (0
    /// where unknown).
    #[serde(default)]
    pub vm_rss_bytes: u64,
    /// Sessions held by the server's store, for a session scheme whose store counts them
    /// cheaply (one in this process); absent otherwise (a networked store, or a
    /// self-contained token, which the server does not keep). Records past their deadline
    /// that the store has not dropped yet are included.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub live_sessions: Option<u64>,
    /// Requests answered, `/metrics` and `/debug/header-bytes` excluded.
    pub requests: u64,
    /// `/metrics` and `/debug/header-bytes` requests answered.
    pub metrics_requests: u64,
    /// Answers by status class, 1xx..5xx.
    pub status_classes: [u64; 5],
    /// Requests shed (503, too many in flight).
    pub shed: u64,
    /// Requests refused with 503 because the store could not be reached (fail closed).
    pub store_unavailable: u64,
    /// Requests past their deadline (408).
    pub timeouts: u64,
    /// `OPTIONS` requests received (CORS preflights among them), answered or refused.
    #[serde(default)]
    pub options_requests: u64,
    /// CORS preflights refused (403: an origin outside `--cors-origin`).
    #[serde(default)]
    pub preflights_refused: u64,
    /// Bytes read from client sockets.
    pub bytes_in: u64,
    /// Bytes written to client sockets.
    pub bytes_out: u64,
    /// Connections accepted.
    pub connections_accepted: u64,
    /// Connections open.
    pub connections_open: u64,
    /// Calls into the token scheme other than `validate`.
    pub token_other: CpuCount,
    /// `validate` calls.
    pub validate: CpuCount,
    /// Password verifications.
    pub password: CpuCount,
    /// Calibrated cost of one warm thread-CPU clock read, ns.
    pub clock_overhead_ns: u64,
}
