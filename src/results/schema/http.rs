//! `http.json`: the Superb Site under load, per scheme × transport × protocol: the highest
//! rate meeting the p99 objective, the figures at one common offered rate, the server's
//! CPU per request (the token's part and the rest), bytes per request each way.
//!
//! Every type written to the file lives here, including the load generator's step
//! ([`StepResult`]), the rate search ([`SearchParams`], [`SearchStep`], [`Limit`]) and the
//! server's figures over a step ([`MetricsDelta`]): `load` and the http workload produce
//! them, readers of results need nothing else.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{ResultFile, SummaryRow};
use crate::crypto::CryptoBackend;
use crate::measure::stats::Summary;
use crate::net::metrics::MetricsSnapshot;
use crate::scheme::spec::SchemeId;

pub use crate::net::Transport;

/// How a row's requests travel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum HttpProtocol {
    /// HTTP/1.1 keep-alive, plain TCP.
    #[serde(rename = "http1.1")]
    Http1,
    /// HTTP/2 without TLS, by prior knowledge.
    #[serde(rename = "h2c")]
    H2c,
    /// HTTP/2 over TLS (ALPN `h2`), as browsers speak it.
    #[serde(rename = "h2")]
    H2Tls,
}

impl HttpProtocol {
    /// Name in results.
    pub fn name(self) -> &'static str {
        match self {
            HttpProtocol::Http1 => "http1.1",
            HttpProtocol::H2c => "h2c",
            HttpProtocol::H2Tls => "h2",
        }
    }

    /// Whether the server must speak TLS.
    pub fn tls(self) -> bool {
        self == HttpProtocol::H2Tls
    }
}

/// The figures at the common rate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CommonPoint {
    /// What the generator saw.
    pub step: StepResult,
    /// What the server counted over the step.
    pub server: MetricsDelta,
}

/// One scheme × transport × protocol.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HttpRow {
    /// The scheme.
    pub scheme: SchemeId,
    /// jsonwebtoken crypto backend of the server for JWT rows.
    pub backend: Option<CryptoBackend>,
    /// Cookie or bearer.
    pub transport: Transport,
    /// HTTP version.
    pub protocol: HttpProtocol,
    /// What logout did to the credential: `revoked` or `expiry-only` (a JWT without a
    /// denylist stays valid until `exp`).
    pub logout: String,
    /// Highest rate meeting the p99 objective, requests/s.
    pub max_rate: Option<f64>,
    /// What bounded the maximum.
    pub limited_by: Limit,
    /// Every step of the search.
    pub search: Vec<SearchStep>,
    /// The figures at the common rate.
    pub common: CommonPoint,
    /// Peak resident memory of the server process, bytes.
    pub server_max_rss_bytes: u64,
}

/// Everything the http workload measured: `http.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HttpResults {
    /// [`ResultFile::VERSION`] of the file.
    pub schema_version: u32,
    /// Logical cores of the machine (server and generator share them).
    pub cores: usize,
    /// The workload's parameters as run (`workload::http::HttpParams`).
    pub params: serde_json::Value,
    /// The common offered rate, requests/s.
    pub common_rate: f64,
    /// One row per scheme × transport × protocol.
    pub rows: Vec<HttpRow>,
}

impl ResultFile for HttpResults {
    const FILE: &'static str = "http";
    const VERSION: u32 = 1;

    /// `summary.csv` rows: workload `http`, param `scheme=…,transport=…,protocol=…`.
    fn summary_rows(&self) -> Vec<SummaryRow> {
        let mut out = Vec::new();
        for r in &self.rows {
            let param = format!(
                "scheme={},transport={},protocol={}",
                r.scheme,
                r.transport,
                r.protocol.name()
            );
            let row = |metric: &str, value: f64, unit: &str| {
                SummaryRow::new("http", r.scheme, r.backend, &param, metric, value, unit)
            };
            if let Some(m) = r.max_rate {
                out.push(row("max_rate", m, "req/s"));
            }
            let (s, d) = (&r.common.step, &r.common.server);
            out.push(row("p50", s.latency.median_ns, "ns"));
            out.push(row("p99", s.latency.p99_ns, "ns"));
            out.push(row("server_cpu_per_request", d.cpu_per_request_ns, "ns"));
            out.push(row(
                "token_cpu_per_request",
                d.token_cpu_per_request_ns,
                "ns",
            ));
            out.push(row("bytes_in_per_request", s.bytes_sent_per_request, "B"));
            out.push(row(
                "bytes_out_per_request",
                s.bytes_received_per_request,
                "B",
            ));
        }
        out
    }

    /// One line per row whose common-rate step had failed requests.
    fn error_notes(&self) -> Vec<String> {
        self.rows
            .iter()
            .filter(|r| r.common.step.errors > 0)
            .map(|r| {
                format!(
                    "http {} {} {}: {} of {} requests failed at {:.0} req/s ({:?})",
                    r.scheme,
                    r.transport,
                    r.protocol.name(),
                    r.common.step.errors,
                    r.common.step.requests,
                    r.common.step.offered_rate,
                    r.common.step.error_kinds
                )
            })
            .collect()
    }
}

impl HttpResults {
    /// The rate search as run (objective, error share, steps), read back from
    /// [`params`](Self::params); `None` when the file does not hold it.
    pub fn search_params(&self) -> Option<SearchParams> {
        serde_json::from_value(self.params.get("search")?.clone()).ok()
    }

    /// A whole-number parameter of the run (`vus`, `reads_per_write`...), when present.
    pub fn param_u64(&self, name: &str) -> Option<u64> {
        self.params.get(name)?.as_u64()
    }
}

impl HttpRow {
    /// `scheme transport protocol`, the row's name in reports and charts.
    pub fn label(&self) -> String {
        format!(
            "{} {} {}",
            self.scheme,
            self.transport,
            self.protocol.name()
        )
    }

    /// The token's share of the server's CPU per request at the common rate (token CPU ÷
    /// process CPU); `None` when no CPU was counted.
    pub fn token_share(&self) -> Option<f64> {
        let d = &self.common.server;
        (d.cpu_per_request_ns > 0.0 && d.requests > 0)
            .then(|| d.token_cpu_per_request_ns / d.cpu_per_request_ns)
    }
}

/// What one fixed-rate step of the load generator measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepResult {
    /// Offered rate, requests per second.
    pub offered_rate: f64,
    /// Length of the measured window, s (after the warm-up).
    pub window_s: f64,
    /// Requests due in the window.
    pub requests: u64,
    /// Requests due in the window that were answered as expected.
    pub ok: u64,
    /// Requests due in the window that failed (wrong status, timeout, connection error).
    pub errors: u64,
    /// Failures by kind (`503`, `timeout`, `connection`...).
    pub error_kinds: BTreeMap<String, u64>,
    /// Requests of each kind due in the window.
    pub kinds: BTreeMap<String, u64>,
    /// Expected answers to the window's requests per second, from the window's start to the
    /// last of them (at least the window).
    pub achieved_rate: f64,
    /// Latency from the intended send time, ns (all requests due in the window).
    pub latency: Summary,
    /// The latency HdrHistogram (ns; V2 deflate, base64).
    pub latency_histogram: String,
    /// How late the pacer woke users that were waiting for their send time, ns: the
    /// generator's own delay.
    pub lag: Summary,
    /// Share of sends that found their user still busy with the previous answer (the
    /// server was slower than the schedule; their latency includes the wait).
    pub late_share: f64,
    /// CPU used by the generator's process over the whole step, in cores (1.0 = one core
    /// busy all the time).
    pub generator_cores: f64,
    /// Worker threads of the generator.
    pub generator_threads: usize,
    /// Bytes the generator sent per answered request (whole step).
    pub bytes_sent_per_request: f64,
    /// Bytes the generator received per answered request (whole step).
    pub bytes_received_per_request: f64,
    /// False when the generator lagged (p99 lag above the limit): the latencies would be
    /// its own, so the step cannot count as passing.
    pub valid: bool,
    /// Why the step is invalid, if it is.
    pub invalid_reason: Option<String>,
}

impl StepResult {
    /// Share of requests in the window that failed.
    pub fn error_rate(&self) -> f64 {
        if self.requests == 0 {
            0.0
        } else {
            self.errors as f64 / self.requests as f64
        }
    }
}

/// How the generator searches the highest rate meeting a p99 objective.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchParams {
    /// First rate tried, requests/s.
    pub start_rate: f64,
    /// Never offer more than this, requests/s.
    pub max_rate: f64,
    /// Factor between two rates while they pass.
    pub growth: f64,
    /// Bisection steps after the first failure.
    pub bisect_steps: u32,
    /// p99 objective.
    pub p99_objective: Duration,
    /// Largest share of failed requests a passing step may have.
    pub max_error_rate: f64,
    /// Warm-up of each step (not measured).
    pub warmup: Duration,
    /// Measured window of each step.
    pub window: Duration,
}

impl Default for SearchParams {
    fn default() -> Self {
        SearchParams {
            start_rate: 500.0,
            max_rate: 200_000.0,
            growth: 2.0,
            bisect_steps: 3,
            p99_objective: Duration::from_millis(10),
            max_error_rate: 0.001,
            warmup: Duration::from_millis(250),
            window: Duration::from_secs(1),
        }
    }
}

/// Why the search stopped where it did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Limit {
    /// A higher rate missed the objective (p99, errors or throughput).
    Objective,
    /// A higher rate could not be judged: the generator lagged.
    Generator,
    /// The search reached `max_rate`.
    Cap,
}

/// One step of the search and its verdict.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchStep {
    /// The step's figures.
    pub step: StepResult,
    /// Whether it met the objective.
    pub pass: bool,
}

/// Per-request figures of the server over an interval between two `/metrics` snapshots.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricsDelta {
    /// Requests answered in the interval.
    pub requests: u64,
    /// Server process CPU in the interval, ns.
    pub process_cpu_ns: u64,
    /// Process CPU per request, ns.
    pub cpu_per_request_ns: f64,
    /// CPU inside the token scheme per request (every call: validate, issue, revoke,
    /// CSRF lookups), ns.
    pub token_cpu_per_request_ns: f64,
    /// CPU inside `validate` per request, ns.
    pub validate_cpu_per_request_ns: f64,
    /// CPU verifying passwords per request, ns.
    pub password_cpu_per_request_ns: f64,
    /// The rest of the stack (HTTP, TLS, routing, kernel): process CPU less token and
    /// password CPU, per request, ns; never below zero.
    pub rest_cpu_per_request_ns: f64,
    /// Bytes read per request.
    pub bytes_in_per_request: f64,
    /// Bytes written per request.
    pub bytes_out_per_request: f64,
    /// Requests shed (503) in the interval.
    pub shed: u64,
    /// Requests refused because the store was unreachable.
    pub store_unavailable: u64,
    /// 5xx answers in the interval (shed and unavailable included).
    pub server_errors: u64,
}

impl MetricsDelta {
    /// Per-request figures between the snapshots `earlier` and `later`.
    pub fn between(earlier: &MetricsSnapshot, later: &MetricsSnapshot) -> MetricsDelta {
        let requests = later.requests.saturating_sub(earlier.requests);
        let per = |x: f64| {
            if requests == 0 {
                0.0
            } else {
                x / requests as f64
            }
        };
        let cpu = later.process_cpu_ns.saturating_sub(earlier.process_cpu_ns);
        let validate = later.validate.since(&earlier.validate).estimated_cpu_ns();
        let token = validate
            + later
                .token_other
                .since(&earlier.token_other)
                .estimated_cpu_ns();
        let password = later.password.since(&earlier.password).estimated_cpu_ns();
        MetricsDelta {
            requests,
            process_cpu_ns: cpu,
            cpu_per_request_ns: per(cpu as f64),
            token_cpu_per_request_ns: per(token),
            validate_cpu_per_request_ns: per(validate),
            password_cpu_per_request_ns: per(password),
            rest_cpu_per_request_ns: per((cpu as f64 - token - password).max(0.0)),
            bytes_in_per_request: per(later.bytes_in.saturating_sub(earlier.bytes_in) as f64),
            bytes_out_per_request: per(later.bytes_out.saturating_sub(earlier.bytes_out) as f64),
            shed: later.shed.saturating_sub(earlier.shed),
            store_unavailable: later
                .store_unavailable
                .saturating_sub(earlier.store_unavailable),
            server_errors: later.status_classes[4].saturating_sub(earlier.status_classes[4]),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::metrics::{CpuCount, METRICS_SCHEMA_VERSION};

    fn snapshot(requests: u64, cpu_ns: u64, token_calls: u64, token_ns: u64) -> MetricsSnapshot {
        MetricsSnapshot {
            schema_version: METRICS_SCHEMA_VERSION,
            process_cpu_ns: cpu_ns,
            user_cpu_ns: cpu_ns,
            system_cpu_ns: 0,
            rss_bytes: 0,
            max_rss_bytes: 0,
            peak_rss_bytes: 0,
            vm_rss_bytes: 0,
            live_sessions: None,
            requests,
            metrics_requests: 0,
            status_classes: [0, requests, 0, 0, 1],
            shed: 0,
            store_unavailable: 0,
            timeouts: 0,
            bytes_in: 100 * requests,
            bytes_out: 0,
            connections_accepted: 1,
            connections_open: 1,
            token_other: CpuCount {
                calls: token_calls,
                sampled: token_calls / 8,
                sampled_cpu_ns: token_ns,
            },
            validate: CpuCount::default(),
            password: CpuCount::default(),
            clock_overhead_ns: 0,
        }
    }

    #[test]
    fn deltas_divide_by_the_requests_between_two_snapshots() {
        let (a, b) = (snapshot(10, 1_000, 8, 100), snapshot(14, 5_000, 24, 300));
        let d = MetricsDelta::between(&a, &b);
        assert_eq!(d.requests, 4);
        assert_eq!(d.cpu_per_request_ns, 1_000.0);
        // 16 calls, 2 of them sampled for 200 ns: 1600 ns over 4 requests.
        assert_eq!(d.token_cpu_per_request_ns, 400.0);
        assert_eq!(d.rest_cpu_per_request_ns, 600.0);
        assert_eq!(d.bytes_in_per_request, 100.0);
        assert_eq!(d.server_errors, 0);
        let idle = MetricsDelta::between(&b, &b);
        assert_eq!((idle.requests, idle.cpu_per_request_ns), (0, 0.0));
    }
}
