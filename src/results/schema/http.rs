//! `http.json`: the Superb Site under load, per scheme × transport × protocol: the highest
//! rate meeting the p99 objective, the figures at one common offered rate, the server's
//! CPU per request (the token's part and the rest), bytes per request each way.
//!
//! The step and server figures are the load generator's and the server's own data types
//! ([`StepResult`], [`MetricsDelta`], [`SearchStep`], [`Limit`]), re-exported here so that
//! readers of results need nothing else.

use serde::{Deserialize, Serialize};

use super::{ResultFile, SummaryRow};
use crate::crypto::CryptoBackend;
pub use crate::http::metrics::MetricsDelta;
pub use crate::http::{Revocation, Transport};
pub use crate::load::StepResult;
pub use crate::load::search::{Limit, SearchStep};
use crate::scheme::spec::SchemeId;

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
    pub fn search_params(&self) -> Option<crate::load::search::SearchParams> {
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
