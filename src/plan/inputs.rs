//! The figures a plan reads, each from one row of one results file of the run, with its
//! source ([`Input`]), or what is missing and from which file ([`Missing`]). Reading goes
//! through the results schema only.

use std::io;

use serde::{Deserialize, Serialize};

use super::{Client, PlanError};
use crate::claims::ClaimSet;
use crate::net::Transport;
use crate::results::schema::ResultFile;
use crate::results::schema::http::{HttpProtocol, HttpResults, NodeRow, SplitLoad};
use crate::results::schema::revoke::{RevokeResults, StrategyResult, TrialClock};
use crate::results::schema::size::{Entry, SizeResults};
use crate::results::schema::summary::{SummaryRow, parse_summary_csv};
use crate::results::schema::validate::{Operation, ValidateResults};
use crate::results::{Artifact, Meta, ResultsError, RunDir};
use crate::scheme::spec::{Family, SchemeId, StoreKind};

/// One figure of the run a plan used: its value, unit, file and the row it is read from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Input {
    /// What the figure is (`server CPU per request`).
    pub figure: String,
    /// Its value.
    pub value: f64,
    /// Its unit (`ns`, `B`, `ops`…).
    pub unit: String,
    /// The results file (`http.json`).
    pub file: String,
    /// The row or field it was read from.
    pub from: String,
}

/// A figure a plan needs that the run does not have.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Missing {
    /// The figure.
    pub figure: String,
    /// The file that would hold it.
    pub file: String,
}

impl std::fmt::Display for Missing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} missing from {}", self.figure, self.file)
    }
}

fn missing(figure: impl Into<String>, file: &str) -> Missing {
    Missing {
        figure: figure.into(),
        file: file.to_owned(),
    }
}

fn file<T: ResultFile>() -> String {
    format!("{}.json", T::FILE)
}

/// The files of a run, owned (what the command line reads; the report hands its own
/// loaded files to [`Inputs`] instead).
#[derive(Debug, Clone)]
pub struct RunFiles {
    /// The run folder's name.
    pub run: String,
    /// `meta.json`.
    pub meta: Meta,
    /// `size.json`, when the run has it.
    pub size: Option<SizeResults>,
    /// `validate.json`.
    pub validate: Option<ValidateResults>,
    /// `revoke.json`.
    pub revoke: Option<RevokeResults>,
    /// `http.json`.
    pub http: Option<HttpResults>,
    /// Whether the run has a `browser.json` (the browser workload's file; its bytes per
    /// request are read from `summary.csv`).
    pub has_browser: bool,
    /// The browser workload's rows of `summary.csv` (workload `browser`).
    pub browser_rows: Vec<SummaryRow>,
}

impl RunFiles {
    /// Reads the run in `dir`: `meta.json` must be there; a results file the run lacks is
    /// `None`, one that does not parse is an error naming it.
    pub fn load(dir: &RunDir) -> Result<RunFiles, PlanError> {
        let meta: Meta = match dir.read_json(&Artifact::Meta) {
            Ok(m) => m,
            Err(ResultsError::Io { error, .. }) if error.kind() == io::ErrorKind::NotFound => {
                return Err(PlanError::NotARun {
                    dir: dir.root().display().to_string(),
                });
            }
            Err(e) => return Err(PlanError::Read(e)),
        };
        fn opt<T: ResultFile>(dir: &RunDir) -> Result<Option<T>, PlanError> {
            let artifact = Artifact::Workload(T::FILE);
            if !dir.path(&artifact).exists() {
                return Ok(None);
            }
            dir.read_json(&artifact).map(Some).map_err(PlanError::Read)
        }
        let summary = dir.path(&Artifact::SummaryCsv);
        let browser_rows = match std::fs::read_to_string(&summary) {
            Ok(text) => parse_summary_csv(&text)
                .map_err(|reason| {
                    PlanError::Read(ResultsError::Corrupt {
                        path: summary.clone(),
                        reason,
                    })
                })?
                .into_iter()
                .filter(|r| r.workload == BROWSER)
                .collect(),
            Err(_) => Vec::new(),
        };
        let run = dir.root().file_name().map_or_else(
            || dir.root().display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        // `latest` is a link: name the run it points at.
        let run = match std::fs::read_link(dir.root()) {
            Ok(target) => target
                .file_name()
                .map_or(run, |n| n.to_string_lossy().into_owned()),
            Err(_) => run,
        };
        Ok(RunFiles {
            run,
            meta,
            size: opt(dir)?,
            validate: opt(dir)?,
            revoke: opt(dir)?,
            http: opt(dir)?,
            has_browser: dir.path(&Artifact::Workload(BROWSER)).exists(),
            browser_rows,
        })
    }

    /// The figures, borrowed.
    pub fn inputs(&self) -> Inputs<'_> {
        Inputs {
            run: self.run.clone(),
            size: self.size.as_ref(),
            validate: self.validate.as_ref(),
            revoke: self.revoke.as_ref(),
            http: self.http.as_ref(),
            has_browser: self.has_browser,
            browser_rows: &self.browser_rows,
        }
    }
}

/// The browser workload's name (its file `browser.json`, its `summary.csv` rows).
pub const BROWSER: &str = "browser";

/// The run's files a plan reads, borrowed.
#[derive(Debug, Clone)]
pub struct Inputs<'a> {
    /// The run folder's name.
    pub run: String,
    /// `size.json`.
    pub size: Option<&'a SizeResults>,
    /// `validate.json`.
    pub validate: Option<&'a ValidateResults>,
    /// `revoke.json`.
    pub revoke: Option<&'a RevokeResults>,
    /// `http.json`.
    pub http: Option<&'a HttpResults>,
    /// Whether the run has a `browser.json`.
    pub has_browser: bool,
    /// The browser workload's `summary.csv` rows.
    pub browser_rows: &'a [SummaryRow],
}

/// A node's CPU per request for a scheme, from one http row or one site.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeCpu {
    /// Process CPU per request, ns.
    pub cpu_per_request_ns: f64,
    /// The token scheme's part of it, ns.
    pub token_cpu_per_request_ns: f64,
    /// The stack floor (`GET /floor`, no credential) at the same rate, ns.
    pub floor_cpu_per_request_ns: Option<f64>,
    /// The offered rate per node it was measured at, req/s.
    pub rate_per_node: f64,
    /// The figures, with their sources.
    pub inputs: Vec<Input>,
}

/// The store's work per request, from a site over the store.
#[derive(Debug, Clone, PartialEq)]
pub struct StoreWork {
    /// Store operations per HTTP request.
    pub ops_per_request: f64,
    /// The store server's CPU per operation, ns.
    pub cpu_per_op_ns: f64,
    /// The figures, with their sources.
    pub inputs: Vec<Input>,
}

/// A scheme's bytes on the wire for one client and protocol.
#[derive(Debug, Clone, PartialEq)]
pub struct WireBytes {
    /// `http1.1`, `h2c`, `h2`, or for Chromium `first` / `repeated`.
    pub protocol: String,
    /// Bytes the client sends per request (whole request, the flow averaged).
    pub request_bytes: Option<f64>,
    /// Bytes of the credential per request.
    pub credential_bytes: Option<f64>,
    /// The figures, with their sources.
    pub inputs: Vec<Input>,
}

/// One revocation strategy of the scheme's family, as `revoke.json` measured it.
#[derive(Debug, Clone, PartialEq)]
pub struct Revocation {
    /// The strategy's name.
    pub strategy: String,
    /// How long a revoked token is still accepted, ns: the p99 of the wall-clock trials,
    /// or the strategy's window (the token's lifetime) for one that waits for expiry.
    pub window_ns: f64,
    /// What the strategy adds to each validate, ns (0 when not measurable).
    pub added_cost_ns: f64,
    /// The figure, with its source.
    pub input: Input,
}

impl Inputs<'_> {
    /// Every scheme the run measured anything of, in report order: those of `http.json`
    /// (single servers and sites) and `size.json` (a scheme without http figures is then listed as one that cannot be
    /// planned, never dropped).
    pub fn schemes(&self) -> Vec<SchemeId> {
        let mut out: Vec<SchemeId> = Vec::new();
        let http = self.http.into_iter().flat_map(|h| {
            h.rows
                .iter()
                .map(|r| r.scheme)
                .chain(h.nodes.iter().map(|n| n.scheme))
        });
        let size = self
            .size
            .into_iter()
            .flat_map(|s| s.rows.iter().map(|r| r.scheme));
        for id in http.chain(size) {
            if !out.contains(&id) {
                out.push(id);
            }
        }
        out.sort_by_key(|id| id.order());
        out
    }

    /// The node's CPU per request for `id` with `transport` over `protocol`: the single
    /// server's row at the common rate (the server's CPU split token / password / rest),
    /// its stack floor from the row's split or else from the sites; without a valid row,
    /// every site of the scheme with that transport and protocol whose figures are its own,
    /// pooled (CPU ÷ requests over all of them: a site's step is short, and pooling uses
    /// every request the run counted).
    pub fn node_cpu(
        &self,
        id: SchemeId,
        transport: Transport,
        protocol: HttpProtocol,
        rtt_ms: f64,
    ) -> Result<NodeCpu, Missing> {
        let what = format!(
            "server CPU per request ({id} {transport} {})",
            protocol.name()
        );
        let Some(http) = self.http else {
            return Err(missing(what, "http.json"));
        };
        let f = file::<HttpResults>();
        let sites: Vec<&NodeRow> = http
            .nodes
            .iter()
            .filter(|n| {
                n.scheme == id
                    && n.transport == transport
                    && n.protocol == protocol
                    && n.generator_ruled_out()
                    && n.common.cpu_per_request_ns().is_some()
            })
            .collect();
        let sites = nearest_rtt(sites, rtt_ms);
        let pooled = pool_sites(&sites, &f);
        let row = http
            .rows
            .iter()
            .filter(|r| {
                r.scheme == id
                    && r.transport == transport
                    && r.protocol == protocol
                    && r.common.step.valid
                    && r.common.server.requests > 0
            })
            .min_by_key(|r| r.backend.map(|b| b.name()));
        let Some(r) = row else {
            if let Some(p) = pooled {
                return Ok(p);
            }
            let lagged = http
                .rows
                .iter()
                .any(|r| r.scheme == id && r.transport == transport && r.protocol == protocol);
            let what = if lagged {
                format!(
                    "a valid server CPU per request ({id} {transport} {}; the generator lagged in its step at the common rate)",
                    protocol.name()
                )
            } else {
                what
            };
            return Err(missing(what, &f));
        };
        let d = &r.common.server;
        let from = format!("rows: {}, common rate", r.label());
        let mut inputs = vec![
            input(
                "server CPU per request",
                d.cpu_per_request_ns,
                "ns",
                &f,
                &from,
            ),
            input(
                "token CPU per request",
                d.token_cpu_per_request_ns,
                "ns",
                &f,
                &from,
            ),
            input(
                "offered rate per node",
                r.common.step.offered_rate,
                "req/s",
                &f,
                &from,
            ),
        ];
        let split = r
            .split_at(SplitLoad::Common)
            .filter(|p| p.floor.server.requests > 0)
            .map(|p| p.floor.server.cpu_per_request_ns);
        let floor = match (split, &pooled) {
            (Some(fl), _) => {
                inputs.push(input(
                    "stack floor CPU per request",
                    fl,
                    "ns",
                    &f,
                    &format!("rows: {}, split at the common rate, GET /floor", r.label()),
                ));
                Some(fl)
            }
            (None, Some(p)) => {
                inputs.extend(
                    p.inputs
                        .iter()
                        .filter(|i| i.figure.contains("floor"))
                        .cloned(),
                );
                p.floor_cpu_per_request_ns
            }
            (None, None) => None,
        };
        Ok(NodeCpu {
            cpu_per_request_ns: d.cpu_per_request_ns,
            token_cpu_per_request_ns: d.token_cpu_per_request_ns,
            floor_cpu_per_request_ns: floor,
            rate_per_node: r.common.step.offered_rate,
            inputs,
        })
    }

    /// What the credential adds to a request's p50 with the store at no distance: on the
    /// sites of `id` at RTT 0 whose figures are their own, the flow's p50 less the p50 of
    /// `GET /floor` at the same rate (the token's CPU, the store's own loopback round trip
    /// and service time, queueing at that rate), weighted by the steps' requests.
    pub fn zero_distance_added(
        &self,
        id: SchemeId,
        transport: Transport,
        protocol: HttpProtocol,
    ) -> Option<Input> {
        let f = file::<HttpResults>();
        let (mut sum, mut requests) = (0.0, 0.0);
        let mut from = Vec::new();
        for n in self.http.into_iter().flat_map(|h| &h.nodes) {
            let Some(floor) = &n.floor else { continue };
            if n.scheme != id
                || n.transport != transport
                || n.protocol != protocol
                || n.rtt_ms != 0.0
                || !n.generator_ruled_out()
                || !floor.step.valid
                || n.common.step.requests == 0
            {
                continue;
            }
            let diff = n.common.step.latency.median_ns - floor.step.latency.median_ns;
            let req = n.common.step.requests as f64;
            sum += diff * req;
            requests += req;
            from.push(format!("{} ({})", n.label(), crate::units::ns(diff)));
        }
        (requests > 0.0).then(|| {
            input(
                "p50 added at no store distance (flow − floor)",
                sum / requests,
                "ns",
                &f,
                &format!("nodes, weighted by requests: {}", from.join("; ")),
            )
        })
    }

    /// The store's operations per request and CPU per operation for `id` when the store
    /// serves `rate` requests/s: every site of the scheme over its store whose figures are
    /// its own, at the round trip nearest `rtt_ms`. Operations per request are pooled
    /// (operations ÷ requests over all of them: the whole flow, a lookup per validate,
    /// writes at login and logout, anything else its flow does, amortised per request).
    /// The store's CPU is not proportional to its operations (a server that wakes for
    /// fewer commands per wake-up spends more per command at a low rate), so where the
    /// sites ran at rates at least 1.3× apart, the store's CPU per second is fitted as
    /// `fixed + per-op × ops/s` (least squares over the sites, both terms ≥ 0) and read at
    /// the store's rate of operations; else the CPU per operation is pooled
    /// (store CPU ÷ operations).
    pub fn store_work(&self, id: SchemeId, rtt_ms: f64, rate: f64) -> Result<StoreWork, Missing> {
        let f = file::<HttpResults>();
        let (mut ops, mut cpu, mut requests) = (0.0, 0.0, 0.0);
        let mut inputs = Vec::new();
        // (ops/s, store CPU ns/s) per site.
        let mut points: Vec<(f64, f64)> = Vec::new();
        let sites: Vec<&NodeRow> = self
            .http
            .into_iter()
            .flat_map(|h| &h.nodes)
            .filter(|n| n.scheme == id && n.generator_ruled_out() && n.store_load.is_some())
            .collect();
        for n in nearest_rtt(sites, rtt_ms) {
            let Some(load) = n.store_load.as_ref() else {
                continue;
            };
            let req: u64 = n.common.per_node.iter().flatten().map(|d| d.requests).sum();
            if req == 0 || !(load.ops_per_request > 0.0 && load.cpu_per_op_ns >= 0.0) {
                continue;
            }
            let from = format!(
                "nodes: {}, store at the common rate, {req} requests",
                n.label()
            );
            inputs.push(input(
                "store operations per request",
                load.ops_per_request,
                "ops",
                &f,
                &from,
            ));
            inputs.push(input(
                "store CPU per operation",
                load.cpu_per_op_ns,
                "ns",
                &f,
                &from,
            ));
            inputs.push(input(
                "store operations per second",
                load.ops_per_sec,
                "ops/s",
                &f,
                &from,
            ));
            let o = load.ops_per_request * req as f64;
            ops += o;
            cpu += o * load.cpu_per_op_ns;
            requests += req as f64;
            if load.ops_per_sec > 0.0 && load.ops_per_sec.is_finite() {
                points.push((load.ops_per_sec, load.ops_per_sec * load.cpu_per_op_ns));
            }
        }
        if ops <= 0.0 {
            return Err(missing(
                format!("store operations per request ({id}: a site of nodes over the store)"),
                &f,
            ));
        }
        let ops_per_request = ops / requests;
        let pooled = cpu / ops;
        let at = rate * ops_per_request;
        let cpu_per_op_ns = match RateModel::fit(&points) {
            Some(m) => {
                // Within the rates the sites ran at, never beyond: two noisy points
                // extrapolated to ten times their rate would promise a cheaper store than
                // any site measured.
                let (lo, hi) = m.range;
                let read_at = at.clamp(lo, hi);
                let per_op = m.cpu_per_op_ns(read_at);
                inputs.push(input(
                    &format!(
                        "store CPU per operation at {} ops/s{} (fitted: {} of CPU per second + {} per operation, over {} sites)",
                        crate::units::count(read_at),
                        if read_at == at { "" } else { ", the sites' nearest rate" },
                        crate::units::ns(m.fixed_ns_per_sec),
                        crate::units::ns(m.per_op_ns),
                        points.len()
                    ),
                    per_op,
                    "ns",
                    &f,
                    "nodes: the sites above, store CPU per second against operations per second",
                ));
                per_op
            }
            None => pooled,
        };
        Ok(StoreWork {
            ops_per_request,
            cpu_per_op_ns,
            inputs,
        })
    }

    /// The store server's CPU per validate (`validate.json`), beside the site's figure.
    pub fn store_cpu_per_validate(&self, id: SchemeId, claims: ClaimSet) -> Option<Input> {
        let v = self.validate?;
        let row = v
            .rows
            .iter()
            .find(|r| r.scheme == id && r.operation == Operation::Validate && r.claims == claims)?;
        let ns = row.server_cpu_ns_per_op?;
        Some(input(
            "store CPU per validate (one client, one lookup at a time)",
            ns,
            "ns",
            &file::<ValidateResults>(),
            &format!("{id} validate, {claims} claims, server_cpu_ns_per_op"),
        ))
    }

    /// Bytes one session takes in `id`'s store (a hybrid's: one refresh family per live
    /// login): the larger of the store's own per-record figure and its growth over N
    /// inserts divided by N (the growth counts the expiry table and hash-table growth; the
    /// record figure, what the store says a key costs).
    pub fn bytes_per_session(&self, id: SchemeId, claims: ClaimSet) -> Result<Input, Missing> {
        let f = file::<SizeResults>();
        let entry = Entry::of(id);
        let what = format!("store bytes per {} ({id}, {claims} claims)", entry.name());
        let Some(size) = self.size else {
            return Err(missing(what, &f));
        };
        let row = size
            .memory
            .iter()
            .filter(|m| {
                m.entry == entry
                    && m.claims == claims
                    && m.bytes_per_entry.is_finite()
                    && m.bytes_per_entry > 0.0
                    && m.scheme.parse::<SchemeId>().is_ok_and(|s| s == id)
            })
            .max_by(|a, b| a.bytes_per_entry.total_cmp(&b.bytes_per_entry));
        let Some(m) = row else {
            return Err(missing(what, &f));
        };
        Ok(input(
            "store bytes per session",
            m.bytes_per_entry,
            "B",
            &f,
            &format!(
                "memory: {id}, {} entries, {}",
                m.entries,
                m.method.as_deref().unwrap_or("counting allocator")
            ),
        ))
    }

    /// The bytes of `id` on the wire for `client` and `transport`: per protocol of the
    /// client, the whole request (`http.json`) and the credential's header (`size.json`, on
    /// HTTP/1.1 where it travels in full on every request); for Chromium, the browser
    /// workload's bytes per request, first and repeated.
    pub fn wire_bytes(
        &self,
        id: SchemeId,
        client: Client,
        transport: Transport,
        claims: ClaimSet,
    ) -> Result<Vec<WireBytes>, Missing> {
        if client == Client::Chromium {
            return self.browser_bytes(id, transport, claims);
        }
        let hf = file::<HttpResults>();
        let sf = file::<SizeResults>();
        let header = self
            .size
            .and_then(|s| s.rows.iter().find(|r| r.scheme == id && r.claims == claims))
            .map(|r| match transport {
                Transport::Cookie => (r.cookie_header_bytes as f64, "Cookie"),
                Transport::Bearer => (r.authorization_header_bytes as f64, "Authorization"),
            });
        let mut out = Vec::new();
        for &protocol in client.protocols() {
            let row = self.http.and_then(|h| {
                h.rows
                    .iter()
                    .filter(|r| {
                        r.scheme == id
                            && r.transport == transport
                            && r.protocol == protocol
                            && r.common.step.ok > 0
                    })
                    .min_by_key(|r| r.backend.map(|b| b.name()))
            });
            // The single server's row, else a site's (the same requests, spread over nodes).
            let measured = match row {
                Some(r) => Some((
                    r.common.step.bytes_sent_per_request,
                    format!("rows: {}, common rate", r.label()),
                )),
                None => self.http.and_then(|h| {
                    h.nodes
                        .iter()
                        .find(|n| {
                            n.scheme == id
                                && n.transport == transport
                                && n.protocol == protocol
                                && n.common.step.ok > 0
                        })
                        .map(|n| {
                            (
                                n.common.step.bytes_sent_per_request,
                                format!("nodes: {}, common rate", n.label()),
                            )
                        })
                }),
            };
            let Some((request, from)) = measured else {
                return Err(missing(
                    format!("bytes per request ({id} {transport} {})", protocol.name()),
                    &hf,
                ));
            };
            let mut inputs = vec![input(
                &format!("request bytes sent ({})", protocol.name()),
                request,
                "B",
                &hf,
                &from,
            )];
            let credential = if protocol == HttpProtocol::Http1 {
                let Some((bytes, name)) = header else {
                    return Err(missing(
                        format!("{transport} header bytes ({id}, {claims} claims)"),
                        &sf,
                    ));
                };
                inputs.push(input(
                    &format!("{name}: header line"),
                    bytes,
                    "B",
                    &sf,
                    &format!("rows: {id}, {claims} claims"),
                ));
                Some(bytes)
            } else {
                None
            };
            out.push(WireBytes {
                protocol: protocol.name().to_owned(),
                request_bytes: Some(request),
                credential_bytes: credential,
                inputs,
            });
        }
        Ok(out)
    }

    /// Chromium's bytes per request from the browser workload's `summary.csv` rows
    /// (`bytes_per_request`, params `client=chromium,header=…,claims=…,first_or_repeated=…`).
    fn browser_bytes(
        &self,
        id: SchemeId,
        transport: Transport,
        claims: ClaimSet,
    ) -> Result<Vec<WireBytes>, Missing> {
        let header = match transport {
            Transport::Cookie => "cookie",
            Transport::Bearer => "authorization",
        };
        let mut out = Vec::new();
        for when in ["first", "repeated"] {
            let row = self.browser_rows.iter().find(|r| {
                let p = params(&r.param);
                r.metric == "bytes_per_request"
                    && p.get("client").is_some_and(|c| *c == "chromium")
                    && p.get("header")
                        .is_some_and(|h| h.eq_ignore_ascii_case(header))
                    && p.get("claims").is_none_or(|c| *c == claims.name())
                    && p.get("first_or_repeated").is_some_and(|f| *f == when)
                    && (r.scheme.parse::<SchemeId>().is_ok_and(|s| s == id)
                        || p.get("token")
                            .is_some_and(|t| t.parse::<SchemeId>().is_ok_and(|s| s == id)))
            });
            let Some(r) = row else {
                return Err(missing(
                    format!("Chromium bytes per request ({id}, {header}, {claims} claims, {when})"),
                    "browser.json (summary.csv rows of workload browser)",
                ));
            };
            out.push(WireBytes {
                protocol: format!("h2 {when}"),
                // The request's whole header section on the wire (HPACK-compressed), with
                // the credential in it.
                request_bytes: Some(r.value),
                credential_bytes: None,
                inputs: vec![input(
                    &format!("Chromium request header bytes ({when})"),
                    r.value,
                    "B",
                    "summary.csv",
                    &format!("browser {} {}", r.scheme, r.param),
                )],
            });
        }
        Ok(out)
    }

    /// Every revocation strategy of `id`'s family that `revoke.json` measured and that
    /// `store` can hold: with a networked store, the strategies on a server of its kind;
    /// with an embedded one, the in-process strategies; without a store (a
    /// self-contained token), every strategy of the family (a denylist may live anywhere).
    pub fn revocations(
        &self,
        id: SchemeId,
        store: Option<StoreKind>,
    ) -> Result<Vec<Revocation>, Missing> {
        let f = file::<RevokeResults>();
        let Some(r) = self.revoke else {
            return Err(missing(
                format!("revocation windows ({} strategies)", id.family()),
                &f,
            ));
        };
        let family: Family = id.family();
        let hybrid = family == Family::Hybrid;
        let mut out: Vec<Revocation> = Vec::new();
        // A hybrid: its own row's window (a logout revokes the family at once; the access
        // token lives to its exp without a denylist), then the JWT denylists, which its
        // access tokens can use.
        if let Some(h) = r.hybrid.iter().find(|h| hybrid && h.scheme == id) {
            let window_ns = h.revocation_window_s * 1e9;
            if window_ns.is_finite() && window_ns >= 0.0 {
                let strategy = format!("access-{}", h.access_revocation);
                out.push(Revocation {
                    input: input(
                        &format!("revocation window of {strategy} (the family is revoked at once; the access token lives on)"),
                        window_ns,
                        "ns",
                        &f,
                        &format!("hybrid: {id}, revocation_window_s"),
                    ),
                    strategy,
                    window_ns,
                    added_cost_ns: 0.0,
                });
            }
        }
        let strategies = if hybrid { Family::Jwt } else { family };
        out.extend(
            r.strategies
                .iter()
                .filter(|s| s.family == strategies && !(hybrid && s.strategy.is_expiry_only()))
                .filter(|s| match store {
                    Some(kind) if s.strategy.is_remote() => s.strategy.runs_on(kind),
                    Some(kind) => !kind.is_remote(),
                    None => true,
                })
                .filter_map(|s| revocation(s, &f))
                .map(|mut x| {
                    if hybrid {
                        x.strategy = format!("{} on the access token", x.strategy);
                    }
                    x
                }),
        );
        if out.is_empty() {
            return Err(missing(
                format!("revocation windows ({family} strategies)"),
                &f,
            ));
        }
        Ok(out)
    }
}

fn revocation(s: &StrategyResult, f: &str) -> Option<Revocation> {
    let (window_ns, what) = if s.clock == TrialClock::Virtual || s.strategy.is_expiry_only() {
        let w = s.window_ms.map(|w| w * 1e6).unwrap_or(s.latency.median_ns);
        (w, "window (the token's lifetime)")
    } else if s.latency.samples > 0 {
        (s.latency.p99_ns, "p99 of the trials")
    } else {
        return None;
    };
    (window_ns.is_finite() && window_ns >= 0.0).then(|| Revocation {
        strategy: s.strategy.name().to_owned(),
        window_ns,
        added_cost_ns: s.added_ns(),
        input: input(
            &format!("revocation window of {}", s.strategy),
            window_ns,
            "ns",
            f,
            &format!("strategies: {}, {what}", s.strategy),
        ),
    })
}

/// A store's CPU per second as a fixed part plus a part per operation, fitted over sites
/// run at different rates.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateModel {
    /// CPU per second whatever the rate, ns/s.
    pub fixed_ns_per_sec: f64,
    /// CPU per operation beyond it, ns.
    pub per_op_ns: f64,
    /// The lowest and highest operations/s fitted over: the model is read within them.
    pub range: (f64, f64),
}

impl RateModel {
    /// Least squares over `(ops/s, CPU ns/s)` points, or `None` when they cannot support a
    /// fit: fewer than two, rates less than 1.3× apart, or a fit with a negative term
    /// (noise larger than the effect).
    pub fn fit(points: &[(f64, f64)]) -> Option<RateModel> {
        let (lo, hi) = points
            .iter()
            .fold((f64::INFINITY, 0.0f64), |(lo, hi), &(x, _)| {
                (lo.min(x), hi.max(x))
            });
        let finite = points.iter().all(|p| p.0.is_finite() && p.1.is_finite());
        if points.len() < 2 || !finite || hi < lo * 1.3 {
            return None;
        }
        let n = points.len() as f64;
        let mx = points.iter().map(|p| p.0).sum::<f64>() / n;
        let my = points.iter().map(|p| p.1).sum::<f64>() / n;
        let sxx: f64 = points.iter().map(|p| (p.0 - mx).powi(2)).sum();
        let sxy: f64 = points.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
        let per_op_ns = sxy / sxx;
        let fixed_ns_per_sec = my - per_op_ns * mx;
        (per_op_ns > 0.0 && fixed_ns_per_sec >= 0.0 && per_op_ns.is_finite()).then_some(RateModel {
            fixed_ns_per_sec,
            per_op_ns,
            range: (lo, hi),
        })
    }

    /// CPU per operation at `ops_per_sec`.
    pub fn cpu_per_op_ns(&self, ops_per_sec: f64) -> f64 {
        if ops_per_sec > 0.0 {
            self.per_op_ns + self.fixed_ns_per_sec / ops_per_sec
        } else {
            self.per_op_ns
        }
    }
}

/// The sites at the round trip nearest `rtt_ms` (all of them when several share it): how
/// commands reach the store, and so its CPU per operation, changes with the distance.
fn nearest_rtt(sites: Vec<&NodeRow>, rtt_ms: f64) -> Vec<&NodeRow> {
    let best = sites
        .iter()
        .map(|n| (n.rtt_ms - rtt_ms).abs())
        .fold(f64::INFINITY, f64::min);
    sites
        .into_iter()
        .filter(|n| (n.rtt_ms - rtt_ms).abs() == best)
        .collect()
}

/// Every site's node CPU pooled: CPU ÷ requests over all of them (and the token's part,
/// and the floor's); `None` without a site.
fn pool_sites(sites: &[&NodeRow], f: &str) -> Option<NodeCpu> {
    let (mut cpu, mut token, mut requests, mut rates) = (0.0, 0.0, 0u64, 0.0);
    let (mut floor_cpu, mut floor_requests) = (0.0, 0u64);
    let mut inputs = Vec::new();
    for n in sites {
        let from = format!("nodes: {}, common rate", n.label());
        let mut req = 0u64;
        for d in n.common.per_node.iter().flatten() {
            cpu += d.process_cpu_ns as f64;
            token += d.token_cpu_per_request_ns * d.requests as f64;
            req += d.requests;
        }
        requests += req;
        rates += n.common.step.offered_rate / n.nodes.max(1) as f64 * req as f64;
        if let Some(c) = n.common.cpu_per_request_ns() {
            inputs.push(input(
                &format!("server CPU per request ({req} requests)"),
                c,
                "ns",
                f,
                &from,
            ));
        }
        if let Some(fl) = &n.floor {
            for d in fl.per_node.iter().flatten() {
                floor_cpu += d.process_cpu_ns as f64;
                floor_requests += d.requests;
            }
            if let Some(c) = fl.cpu_per_request_ns() {
                inputs.push(input(
                    "stack floor CPU per request",
                    c,
                    "ns",
                    f,
                    &format!("nodes: {}, GET /floor", n.label()),
                ));
            }
        }
    }
    if requests == 0 {
        return None;
    }
    let token = token / requests as f64;
    inputs.push(input(
        "token CPU per request (sites pooled)",
        token,
        "ns",
        f,
        "nodes: the sites above, weighted by their requests",
    ));
    Some(NodeCpu {
        cpu_per_request_ns: cpu / requests as f64,
        token_cpu_per_request_ns: token,
        floor_cpu_per_request_ns: (floor_requests > 0).then(|| floor_cpu / floor_requests as f64),
        rate_per_node: rates / requests as f64,
        inputs,
    })
}

fn input(figure: &str, value: f64, unit: &str, file: &str, from: &str) -> Input {
    Input {
        figure: figure.to_owned(),
        value,
        unit: unit.to_owned(),
        file: file.to_owned(),
        from: from.to_owned(),
    }
}

/// `k=v` pairs of a `summary.csv` param.
fn params(param: &str) -> std::collections::BTreeMap<&str, &str> {
    param
        .split(',')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.trim(), v.trim()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::RateModel;

    #[test]
    fn a_store_with_a_fixed_cost_per_second_is_fitted_and_read_at_the_scenario_rate() {
        // 2 ms of CPU per second whatever the rate, 10 µs per operation.
        let cpu = |x: f64| 2e6 + 10e3 * x;
        let points = [
            (1000.0, cpu(1000.0)),
            (2000.0, cpu(2000.0)),
            (4000.0, cpu(4000.0)),
        ];
        let m = RateModel::fit(&points).unwrap();
        assert!((m.fixed_ns_per_sec - 2e6).abs() < 1.0, "{m:?}");
        assert!((m.per_op_ns - 10e3).abs() < 1e-3, "{m:?}");
        assert_eq!(m.range, (1000.0, 4000.0), "read within the rates fitted");
        // Per operation: 12 µs at 1 k ops/s, 10.2 µs at 10 k.
        assert!((m.cpu_per_op_ns(1000.0) - 12e3).abs() < 1e-3);
        assert!((m.cpu_per_op_ns(10_000.0) - 10.2e3).abs() < 1e-3);
    }

    #[test]
    fn no_fit_from_one_rate_close_rates_or_a_negative_term() {
        assert_eq!(RateModel::fit(&[(1000.0, 1e7)]), None, "one point");
        assert_eq!(
            RateModel::fit(&[(1000.0, 1e7), (1200.0, 1.3e7)]),
            None,
            "rates under 1.3x apart"
        );
        // CPU per operation rising with the rate: the fixed part would be negative.
        assert_eq!(RateModel::fit(&[(1000.0, 1e7), (3000.0, 4e7)]), None);
        // CPU falling as the rate rises: the per-operation part would be negative.
        assert_eq!(RateModel::fit(&[(1000.0, 4e7), (3000.0, 1e7)]), None);
        assert_eq!(RateModel::fit(&[]), None);
    }
}
