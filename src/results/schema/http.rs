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

use super::revoke::{EndToEndResult, RevokeResults};
use super::{Contribution, ResultFile, SummaryRow};
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
    /// Peak resident memory of the server process, bytes: its own `VmHWM` (files of
    /// version 1 hold `ru_maxrss`, which a child inherits from the run that spawned it).
    pub server_max_rss_bytes: u64,
    /// A request's server CPU split against the stack floor, at the common rate and near
    /// the row's capacity (absent in version 1 files and for rows not split).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub split: Vec<SplitPoint>,
    /// The server's cores (absent in version 1 files: unpinned).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_cores: Option<Vec<usize>>,
}

/// Where a row's split was taken: its offered rate and what that rate was.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SplitLoad {
    /// The common offered rate of every row.
    Common,
    /// A share of the row's own maximum rate.
    NearCapacity,
}

impl SplitLoad {
    /// Name in results and in `summary.csv` params: `common`, `near-capacity`.
    pub fn name(self) -> &'static str {
        match self {
            SplitLoad::Common => "common",
            SplitLoad::NearCapacity => "near-capacity",
        }
    }
}

/// `GET /me` (a credential, validated) and `GET /floor` (the same route without one) on the
/// same server at the same offered rate: the stack's cost per request, and what the token
/// adds to it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SplitPoint {
    /// Which load this is.
    pub load: SplitLoad,
    /// Offered rate of both steps, requests/s.
    pub offered_rate: f64,
    /// `GET /me` only, after one login per virtual user.
    pub me: CommonPoint,
    /// `GET /floor` only.
    pub floor: CommonPoint,
}

/// The target of [`SplitPoint::outside_token_over_floor`]: an authenticated route's CPU
/// outside the token is at most this many times the stack floor's.
pub const OUTSIDE_TOKEN_TARGET: f64 = 1.3;

impl SplitPoint {
    /// Server CPU per `GET /me` outside the token, over the floor's CPU per request: the
    /// stack overhead an authenticated route adds beside the credential (target ≤
    /// [`OUTSIDE_TOKEN_TARGET`]).
    pub fn outside_token_over_floor(&self) -> Option<f64> {
        let floor = self.floor.server.cpu_per_request_ns;
        let outside = self.me.server.cpu_per_request_ns - self.me.server.token_cpu_per_request_ns;
        (floor > 0.0 && self.me.server.requests > 0 && self.floor.server.requests > 0)
            .then(|| outside.max(0.0) / floor)
    }
}

/// One site of K nodes (`tokenbench serve` processes on their own loopback addresses)
/// over one store at one added round trip, for one scheme.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NodeRow {
    /// The scheme every node serves.
    pub scheme: SchemeId,
    /// Cookie or bearer.
    pub transport: Transport,
    /// HTTP version.
    pub protocol: HttpProtocol,
    /// Nodes of the site.
    pub nodes: usize,
    /// Round trip the latency proxy adds between the nodes and the store, ms (0: none).
    pub rtt_ms: f64,
    /// The proxy's added round trip as measured through it (median of pings through the
    /// proxy less the median straight to the store), ms; `None` without a proxy.
    pub measured_rtt_ms: Option<f64>,
    /// The central store's kind (`redis`, `postgres`…), `None` for a scheme without one.
    pub store: Option<String>,
    /// Cores of the generator and of each node, and what shares one.
    pub placement: crate::net::placement::Placement,
    /// Highest rate meeting the p99 objective over the whole site, requests/s.
    pub max_rate: Option<f64>,
    /// What bounded it.
    pub limited_by: Limit,
    /// Every step of the search.
    pub search: Vec<SearchStep>,
    /// The site at its common rate: the generator's step and each node's figures.
    pub common: SitePoint,
    /// `GET /floor` over the site at the same rate.
    pub floor: Option<SitePoint>,
    /// The store's server at the common rate, when it can be read.
    pub store_load: Option<StoreLoad>,
}

/// A site under one step: the generator's view and each node's own figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SitePoint {
    /// The generator's step (all nodes together).
    pub step: StepResult,
    /// Each node's figures over the step, in node order; `None` for a node that did not
    /// answer `/metrics` (stopped).
    pub per_node: Vec<Option<MetricsDelta>>,
}

impl SitePoint {
    /// Server CPU per request over every node that answered, ns.
    pub fn cpu_per_request_ns(&self) -> Option<f64> {
        let (cpu, req) = self
            .per_node
            .iter()
            .flatten()
            .fold((0u64, 0u64), |(c, r), d| {
                (c + d.process_cpu_ns, r + d.requests)
            });
        (req > 0).then(|| cpu as f64 / req as f64)
    }
}

impl NodeRow {
    /// `scheme transport protocol, K node(s), RTT R`, the site's name in reports.
    pub fn label(&self) -> String {
        format!(
            "{} {} {}, {} node{}, RTT {}",
            self.scheme,
            self.transport,
            self.protocol.name(),
            self.nodes,
            if self.nodes == 1 { "" } else { "s" },
            self.rtt()
        )
    }

    /// The added round trip as `summary.csv` params write it: `0ms`, `0.5ms`, `2ms`.
    pub fn rtt(&self) -> String {
        crate::units::window_ms(self.rtt_ms)
    }

    /// `scheme=…,transport=…,protocol=…,nodes=K,rtt=R`, the site's param in `summary.csv`.
    pub fn param(&self) -> String {
        format!(
            "scheme={},transport={},protocol={},nodes={},rtt={}",
            self.scheme,
            self.transport,
            self.protocol.name(),
            self.nodes,
            self.rtt()
        )
    }

    /// Whether the site's figures are its own: the search did not stop on a lagging
    /// generator and the common step was valid (as [`HttpRow::generator_ruled_out`]).
    pub fn generator_ruled_out(&self) -> bool {
        self.limited_by != Limit::Generator && self.common.step.valid
    }

    /// Whether anything of the site shared a core: the placement says so, or the store
    /// server and the latency proxy (not pinned) had no cores left beside the generator's
    /// and the nodes'. Adding nodes to such a layout adds no capacity.
    pub fn shares_cores(&self) -> bool {
        let p = &self.placement;
        p.is_oversubscribed()
            || (self.store.is_some() && p.generator.len() + p.server_cores() + 2 > p.cores.len())
    }

    /// The max rate over every distinct server core of the site, requests/s per core.
    pub fn max_rate_per_server_core(&self) -> Option<f64> {
        let cores = self.placement.server_cores();
        self.max_rate
            .filter(|_| cores > 0)
            .map(|m| m / cores as f64)
    }

    /// The max rate per node, requests/s.
    pub fn max_rate_per_node(&self) -> Option<f64> {
        self.max_rate
            .filter(|_| self.nodes > 0)
            .map(|m| m / self.nodes as f64)
    }

    /// The nodes' CPU per `GET /floor` at the common rate, ns.
    pub fn floor_cpu_per_request_ns(&self) -> Option<f64> {
        self.floor.as_ref()?.cpu_per_request_ns()
    }

    /// The store server's CPU per HTTP request at the common rate, ns (CPU per operation ×
    /// operations per request); `None` without a store reading.
    pub fn store_cpu_per_request_ns(&self) -> Option<f64> {
        self.store_load
            .as_ref()
            .map(|s| s.cpu_per_op_ns * s.ops_per_request)
    }

    /// CPU per request of the nodes and of the store together, ns.
    pub fn total_cpu_per_request_ns(&self) -> Option<f64> {
        Some(self.common.cpu_per_request_ns()? + self.store_cpu_per_request_ns().unwrap_or(0.0))
    }

    /// Its `summary.csv` rows (see [`HttpResults`]'s).
    fn summary_rows(&self) -> Vec<SummaryRow> {
        let param = self.param();
        let row = |metric: &str, value: f64, unit: &str| {
            SummaryRow::new("http", self.scheme, None, &param, metric, value, unit)
        };
        let mut out = Vec::new();
        if let Some(m) = self.max_rate {
            out.push(row("max_rate", m, "req/s"));
        }
        if let Some(m) = self.max_rate_per_node() {
            out.push(row("max_rate_per_node", m, "req/s"));
        }
        if let Some(m) = self.max_rate_per_server_core() {
            out.push(row("max_rate_per_server_core", m, "req/s"));
        }
        out.push(row(
            "generator_limited",
            f64::from(u8::from(!self.generator_ruled_out())),
            "flag",
        ));
        if let Some(m) = self.measured_rtt_ms {
            out.push(row("measured_rtt", m, "ms"));
        }
        let lat = &self.common.step.latency;
        out.push(row("p50", lat.median_ns, "ns"));
        out.push(row("p99", lat.p99_ns, "ns"));
        if let Some(c) = self.common.cpu_per_request_ns() {
            out.push(row("server_cpu_per_request", c, "ns"));
        }
        if let Some(f) = self.floor_cpu_per_request_ns() {
            out.push(row("stack_floor_cpu_per_request", f, "ns"));
        }
        if let Some(s) = &self.store_load {
            out.push(row("store_cpu_per_op", s.cpu_per_op_ns, "ns"));
            out.push(row("store_ops_per_request", s.ops_per_request, "ops"));
            out.push(row("store_ops_per_sec", s.ops_per_sec, "ops/s"));
            out.push(row("store_headroom_rate", s.headroom_rate, "req/s"));
        }
        if let Some(c) = self.store_cpu_per_request_ns() {
            out.push(row("store_cpu_per_request", c, "ns"));
        }
        out
    }
}

/// What the central store's server did while a site was loaded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoreLoad {
    /// Store operations per second over the step.
    pub ops_per_sec: f64,
    /// Store operations per HTTP request answered.
    pub ops_per_request: f64,
    /// The store server's CPU per operation, ns (its background CPU subtracted).
    pub cpu_per_op_ns: f64,
    /// The request rate at which this store would fill one core:
    /// 1 s ÷ (`cpu_per_op_ns` × `ops_per_request`), requests/s.
    pub headroom_rate: f64,
}

impl StoreLoad {
    /// The headroom rate as its definition computes it from the measured figures:
    /// 1 s ÷ (`cpu_per_op_ns` × `ops_per_request`); `None` when either is not positive
    /// (no store work per request: no limit from the store).
    pub fn headroom_from_cpu(&self) -> Option<f64> {
        let per_request = self.cpu_per_op_ns * self.ops_per_request;
        (per_request > 0.0 && per_request.is_finite()).then(|| 1e9 / per_request)
    }

    /// Store cores (or Redis Cluster primaries, one core each) a request `rate` needs.
    pub fn shards_for(&self, rate: f64) -> f64 {
        if self.headroom_rate > 0.0 {
            (rate / self.headroom_rate).max(0.0)
        } else {
            f64::INFINITY
        }
    }
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
    /// Where the generator and the single servers ran (absent in version 1 files).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub placement: Option<crate::net::placement::Placement>,
    /// Sites of K nodes over a central store at each added round trip (absent in version
    /// 1 files and when no node run was asked for).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub nodes: Vec<NodeRow>,
    /// Faults injected into a site and what the site did (absent when none was run).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub faults: Vec<FaultResult>,
    /// Revocation measured end to end on the sites: not part of `http.json`, it is
    /// written into `revoke.json` ([`ResultFile::contributions`]).
    #[serde(skip)]
    pub end_to_end: Vec<EndToEndResult>,
    /// The JWT lifetime the sites issued with, seconds (for a `revoke.json` made here).
    #[serde(skip)]
    pub jwt_lifetime_s: f64,
    /// What the node runs could not do, and why (no networked store…).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// A fault injected into a running site, and how the site answered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FaultResult {
    /// `node-killed` or `store-cut`.
    pub fault: String,
    /// The scheme the site served.
    pub scheme: SchemeId,
    /// Nodes of the site.
    pub nodes: usize,
    /// Requests answered 2xx/3xx after the fault.
    pub ok_after: u64,
    /// Requests refused after the fault (4xx/5xx: fail closed).
    pub refused_after: u64,
    /// Requests that failed to reach a node after the fault (connection errors).
    pub unreachable_after: u64,
    /// Authenticated requests answered 200 while the credential could not be checked
    /// (must be 0: fail closed).
    pub accepted_unverified: u64,
    /// What the run concluded, in words.
    pub outcome: String,
}

impl ResultFile for HttpResults {
    const FILE: &'static str = "http";
    /// 2: servers pinned (`placement`, `server_cores`), their own peak memory, the split
    /// against the stack floor (`split`), sites of several nodes (`nodes`), `faults`.
    const VERSION: u32 = 2;

    /// `summary.csv` rows, workload `http`. Per row, param `scheme=…,transport=…,protocol=…`:
    /// the max rate (with `generator_limited` 1 when the search stopped on a lagging
    /// generator, so the rate is not the server's), the figures at the common rate; per
    /// split point, the same param with `,load=common|near-capacity`; per site,
    /// `…,nodes=K,rtt=R` (R as the revoke rows write it, `0ms`, `0.5ms`, `2ms`); per fault,
    /// `fault=…,scheme=…,nodes=…`.
    fn summary_rows(&self) -> Vec<SummaryRow> {
        let mut out = Vec::new();
        for r in &self.rows {
            let param = r.param();
            let row = |metric: &str, value: f64, unit: &str| {
                SummaryRow::new("http", r.scheme, r.backend, &param, metric, value, unit)
            };
            if let Some(m) = r.max_rate {
                out.push(row("max_rate", m, "req/s"));
            }
            if let Some(m) = r.max_rate_per_server_core() {
                out.push(row("max_rate_per_server_core", m, "req/s"));
            }
            out.push(row(
                "generator_limited",
                f64::from(u8::from(!r.generator_ruled_out())),
                "flag",
            ));
            let (s, d) = (&r.common.step, &r.common.server);
            out.push(row("p50", s.latency.median_ns, "ns"));
            out.push(row("p99", s.latency.p99_ns, "ns"));
            out.push(row("p999", s.latency.p999_ns, "ns"));
            out.push(row("answered_rate", s.achieved_rate, "req/s"));
            out.push(row("server_cpu_per_request", d.cpu_per_request_ns, "ns"));
            out.push(row(
                "token_cpu_per_request",
                d.token_cpu_per_request_ns,
                "ns",
            ));
            out.push(row(
                "password_cpu_per_request",
                d.password_cpu_per_request_ns,
                "ns",
            ));
            out.push(row("rest_cpu_per_request", d.rest_cpu_per_request_ns, "ns"));
            if let Some(share) = r.token_share() {
                out.push(row("token_share", share, "ratio"));
            }
            out.push(row("bytes_in_per_request", s.bytes_sent_per_request, "B"));
            out.push(row(
                "bytes_out_per_request",
                s.bytes_received_per_request,
                "B",
            ));
            out.push(row("generator_cpu", s.generator_cores, "cores"));
            if s.lag.samples > 0 {
                out.push(row("pacer_lag_p99", s.lag.p99_ns, "ns"));
            }
            out.push(row("late_share", s.late_share, "ratio"));
            for p in &r.split {
                let param = format!("{param},load={}", p.load.name());
                let row = |metric: &str, value: f64, unit: &str| {
                    SummaryRow::new("http", r.scheme, r.backend, &param, metric, value, unit)
                };
                let (me, floor) = (&p.me.server, &p.floor.server);
                out.push(row("offered_rate", p.offered_rate, "req/s"));
                out.push(row(
                    "stack_floor_cpu_per_request",
                    floor.cpu_per_request_ns,
                    "ns",
                ));
                out.push(row("server_cpu_per_request", me.cpu_per_request_ns, "ns"));
                out.push(row(
                    "token_cpu_per_request",
                    me.token_cpu_per_request_ns,
                    "ns",
                ));
                out.push(row(
                    "password_cpu_per_request",
                    me.password_cpu_per_request_ns,
                    "ns",
                ));
                out.push(row(
                    "rest_cpu_per_request",
                    me.rest_cpu_per_request_ns,
                    "ns",
                ));
                if let Some(x) = p.outside_token_over_floor() {
                    out.push(row("outside_token_over_floor", x, "ratio"));
                }
            }
        }
        for n in &self.nodes {
            out.extend(n.summary_rows());
        }
        for f in &self.faults {
            let param = format!("fault={},scheme={},nodes={}", f.fault, f.scheme, f.nodes);
            let row = |metric: &str, value: u64| {
                SummaryRow::new(
                    "http",
                    f.scheme,
                    None,
                    &param,
                    metric,
                    value as f64,
                    "requests",
                )
            };
            out.push(row("fault_ok_after", f.ok_after));
            out.push(row("fault_refused_after", f.refused_after));
            out.push(row("fault_unreachable_after", f.unreachable_after));
            out.push(row("fault_accepted_unverified", f.accepted_unverified));
        }
        out
    }

    /// The end-to-end revocation trials of the sites, for `revoke.json`.
    fn contributions(&self) -> Vec<Contribution> {
        if self.end_to_end.is_empty() {
            return Vec::new();
        }
        let mine = RevokeResults {
            end_to_end: self.end_to_end.clone(),
            ..RevokeResults::empty(self.jwt_lifetime_s)
        };
        let (Ok(value), Ok(empty)) = (
            serde_json::to_value(&self.end_to_end),
            serde_json::to_value(RevokeResults::empty(self.jwt_lifetime_s)),
        ) else {
            // Plain data always serializes; should it not, nothing is claimed.
            return Vec::new();
        };
        vec![Contribution {
            file: RevokeResults::FILE,
            member: "end_to_end",
            value,
            empty,
            rows: mine.summary_rows(),
        }]
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
            .chain(self.nodes.iter().filter(|n| n.common.step.errors > 0).map(|n| {
                format!(
                    "http site {} on {} node(s), store rtt {} ms: {} of {} requests failed ({:?})",
                    n.scheme,
                    n.nodes,
                    n.rtt_ms,
                    n.common.step.errors,
                    n.common.step.requests,
                    n.common.step.error_kinds
                )
            }))
            .chain(self.notes.iter().map(|n| format!("http: {n}")))
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

    /// `scheme=…,transport=…,protocol=…`, the row's param in `summary.csv`.
    pub fn param(&self) -> String {
        format!(
            "scheme={},transport={},protocol={}",
            self.scheme,
            self.transport,
            self.protocol.name()
        )
    }

    /// Whether the row's figures are the server's: its search did not stop on a step where
    /// the generator lagged, and its step at the common rate was valid. A row where this
    /// fails "cannot tell" and is left out of every verdict.
    pub fn generator_ruled_out(&self) -> bool {
        self.limited_by != Limit::Generator && self.common.step.valid
    }

    /// The max rate over the server's pinned cores, requests/s per core; `None` when the
    /// server was not pinned or no rate passed.
    pub fn max_rate_per_server_core(&self) -> Option<f64> {
        let cores = self.server_cores.as_ref().map_or(0, Vec::len);
        self.max_rate
            .filter(|_| cores > 0)
            .map(|m| m / cores as f64)
    }

    /// The split point taken at `load`, when measured.
    pub fn split_at(&self, load: SplitLoad) -> Option<&SplitPoint> {
        self.split.iter().find(|p| p.load == load)
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
    /// Per node of a site, in node order (empty for one server).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub nodes: Vec<NodeCounts>,
}

/// What one node of a site answered in a step's window.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NodeCounts {
    /// The node's URL.
    pub url: String,
    /// Requests sent to it in the window.
    pub requests: u64,
    /// Of which answered as expected.
    pub ok: u64,
    /// Of which failed.
    pub errors: u64,
    /// Failures by kind (status code, `connection`, `timeout`…).
    pub error_kinds: BTreeMap<String, u64>,
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
            options_requests: 0,
            preflights_refused: 0,
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
