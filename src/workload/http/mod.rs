//! Workload http: the Superb Site under load. For every scheme × transport (cookie,
//! bearer) × protocol (HTTP/1.1, h2c, HTTP/2 over TLS), a `tokenbench serve` child process
//! serves the login flow and the open-loop generator ([`crate::load`]) drives it:
//!
//! 1. the highest offered rate whose p99 meets the objective (steps up, then bisects);
//! 2. then, at one common offered rate for every row (a share of the lowest maximum, or
//!    fixed), p50/p99/p99.9, errors, and from the server's own `/metrics` before and after
//!    the step: server CPU per request (getrusage of the child, so the generator's CPU is
//!    not in it), the token's part of it (sampled thread CPU inside the scheme), password
//!    hashing, and the rest of the stack; plus bytes per request on the socket each way.
//!
//! 3. the node runs ([`nodes`]): sites of K `serve` processes over a shared store at a
//!    distance, end-to-end revocation and faults.
//!
//! Every server is pinned to cores of its own, apart from the generator's
//! ([`crate::net::placement`]). Its results file, [`HttpResults`], is `http.json`
//! ([`crate::results::schema::http`]).

pub mod faults;
pub mod nodes;
pub mod probe;
pub mod revocation;
pub mod site;

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

pub use crate::results::schema::http::{CommonPoint, HttpProtocol, HttpResults, HttpRow};

use super::{Progress, Settings, Workload, WorkloadError, WorkloadResult};
use crate::http::child::{ChildServer, serve_args};
use crate::http::{LogoutOutcome, Revocation};
use crate::load::client::get_json;
use crate::load::search::search;
use crate::load::{Generator, LoadConfig, Mix, Protocol, Target};
use crate::net::Transport;
use crate::net::metrics::MetricsSnapshot;
use crate::net::placement::Placement;
use crate::results::schema::ResultFile;
use crate::results::schema::http::{
    Limit, MetricsDelta, SearchParams, SearchStep, SplitLoad, SplitPoint,
};
use crate::scheme::JwtAlg;
use crate::scheme::spec::{SchemeSpec, StoreSpec};
use nodes::SiteParams;

/// What the http workload runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HttpParams {
    /// The quick variant.
    pub quick: bool,
    /// Schemes served.
    pub schemes: Vec<SchemeSpec>,
    /// Transports.
    pub transports: Vec<Transport>,
    /// Protocols.
    pub protocols: Vec<HttpProtocol>,
    /// What logout does to a self-contained token (sessions are always deleted).
    pub revocation: Revocation,
    /// Demo accounts on each server.
    pub accounts: usize,
    /// Concurrent virtual users.
    pub vus: usize,
    /// HTTP/2 connections the virtual users share.
    pub h2_connections: usize,
    /// `GET /me` per `POST /api/notes`.
    pub reads_per_write: u32,
    /// Writes between login and logout.
    pub writes_per_session: u32,
    /// The rate search (objective, steps, windows).
    pub search: SearchParams,
    /// The common offered rate; `None`: [`common_fraction`](Self::common_fraction) of the
    /// lowest maximum rate.
    pub common_rate: Option<f64>,
    /// Share of the lowest maximum rate used as the common rate.
    pub common_fraction: f64,
    /// Measured window at the common rate.
    pub common_window: Duration,
    /// "Near capacity": this share of a row's own maximum rate (the stack floor split).
    pub capacity_share: f64,
    /// Generator worker threads.
    pub generator_threads: usize,
    /// An unmeasured step before each row's search, fast enough for four requests per
    /// virtual user, so every one has logged in (a login costs milliseconds of argon2id, and a
    /// burst of them would fail the first step).
    pub settle: Duration,
    /// The node runs (sites of several nodes over a store at a distance).
    pub sites: SiteParams,
    /// Run them.
    pub node_runs: bool,
    /// How the hybrid's virtual users refresh; `None` when no scheme served has refresh
    /// tokens (set by the run from the schemes served).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh: Option<RefreshParams>,
    /// The `tokenbench` executable to start as the server (default: this executable).
    #[serde(skip)]
    pub server_exe: Option<PathBuf>,
}

impl HttpParams {
    /// The quick variant: session on memory, JWT HS256 and ES256, both transports,
    /// HTTP/1.1 and h2c, short steps (about 25 s on two cores).
    pub fn quick() -> HttpParams {
        HttpParams {
            quick: true,
            schemes: vec![
                SchemeSpec::Session(StoreSpec::Memory),
                SchemeSpec::Jwt(JwtAlg::HS256),
                SchemeSpec::Jwt(JwtAlg::ES256),
            ],
            transports: Transport::ALL.to_vec(),
            protocols: vec![HttpProtocol::Http1, HttpProtocol::H2c],
            revocation: Revocation::None,
            accounts: 20,
            vus: 16,
            h2_connections: 2,
            reads_per_write: 4,
            writes_per_session: 20,
            search: SearchParams {
                start_rate: 2000.0,
                max_rate: 50_000.0,
                growth: 3.0,
                bisect_steps: 1,
                warmup: Duration::from_millis(30),
                window: Duration::from_millis(80),
                ..SearchParams::default()
            },
            common_rate: None,
            common_fraction: 0.5,
            common_window: Duration::from_millis(150),
            capacity_share: 0.8,
            generator_threads: 1,
            settle: Duration::from_millis(100),
            sites: SiteParams::quick(),
            node_runs: true,
            refresh: None,
            server_exe: None,
        }
    }

    /// The full variant: session on memory and rwlock, every JWT algorithm, both
    /// transports, HTTP/1.1, h2c and HTTP/2 over TLS.
    pub fn full() -> HttpParams {
        let mut schemes = vec![
            SchemeSpec::Session(StoreSpec::Memory),
            SchemeSpec::Session(StoreSpec::RwLock),
        ];
        schemes.extend(JwtAlg::ALL.map(SchemeSpec::Jwt));
        HttpParams {
            quick: false,
            schemes,
            protocols: vec![HttpProtocol::Http1, HttpProtocol::H2c, HttpProtocol::H2Tls],
            accounts: 1000,
            vus: 32,
            h2_connections: 4,
            writes_per_session: 50,
            search: SearchParams {
                start_rate: 1000.0,
                bisect_steps: 2,
                warmup: Duration::from_millis(100),
                window: Duration::from_millis(400),
                ..SearchParams::default()
            },
            common_window: Duration::from_secs(1),
            // Fixed, so a noisy lowest maximum cannot drag every row to a rate where idle
            // wake-ups dominate the CPU per request.
            common_rate: Some(2000.0),
            settle: Duration::from_millis(300),
            sites: SiteParams::full(),
            ..HttpParams::quick()
        }
    }
}

/// The refresh step of a hybrid's virtual users (recorded in `http.json`'s params).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RefreshParams {
    /// Requests per user per second (`--requests-per-user`, shared with the revoke
    /// workload's amortised refresh).
    pub requests_per_user: f64,
    /// The hybrid's access lifetime the servers are started with (`--access-lifetime`).
    pub access_lifetime: Duration,
    /// Requests of a virtual user between two `POST /token/refresh`:
    /// `access_lifetime × requests_per_user` ([`crate::load::refresh_every`]).
    pub every: u32,
}

impl RefreshParams {
    /// The refresh step of `settings` when one of `schemes` has refresh tokens; `None`
    /// otherwise.
    pub fn for_schemes(schemes: &[SchemeSpec], settings: &Settings) -> Option<RefreshParams> {
        schemes
            .iter()
            .any(|s| s.capabilities().refresh_token)
            .then(|| RefreshParams::new(settings.access_lifetime, settings.requests_per_user))
    }

    /// For `access_lifetime` at `requests_per_user`.
    pub fn new(access_lifetime: Duration, requests_per_user: f64) -> RefreshParams {
        RefreshParams {
            requests_per_user,
            access_lifetime,
            every: crate::load::refresh_every(access_lifetime, requests_per_user),
        }
    }
}

/// The generator's protocol for a row's.
fn load_protocol(p: HttpProtocol) -> Protocol {
    match p {
        HttpProtocol::Http1 => Protocol::Http1,
        HttpProtocol::H2c | HttpProtocol::H2Tls => Protocol::H2,
    }
}

/// The http workload.
pub struct Http;

/// Flags of `tokenbench http` (and of `run`'s http part).
#[derive(Debug, Clone, clap::Args)]
pub struct HttpArgs {
    /// HTTP versions: http1.1, h2c, h2 (over TLS) (default all three; quick: http1.1,h2c).
    #[arg(long = "http-protocols", value_delimiter = ',', value_parser = parse_protocol)]
    pub protocols: Option<Vec<HttpProtocol>>,
    /// Credential transports: cookie, bearer (default both).
    #[arg(long = "http-transports", value_delimiter = ',', value_parser = parse_transport)]
    pub transports: Option<Vec<Transport>>,
    /// The common offered rate, req/s (default 2000; quick: half the lowest maximum).
    #[arg(long = "http-rate", value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub rate: Option<u64>,
    /// The p99 objective of the rate search, e.g. 10ms.
    #[arg(long = "http-p99", value_parser = crate::units::parse_duration)]
    pub p99: Option<Duration>,
    /// Node counts of the node runs, e.g. 1,2,4 (default 1,2,4; quick: 1,2); 0 skips them.
    #[arg(long, value_delimiter = ',', value_parser = clap::value_parser!(u64).range(0..=16))]
    pub nodes: Option<Vec<u64>>,
    /// Round trips between the nodes and the store, e.g. 0,0.5ms,2ms (default those three;
    /// quick: 0). A networked store (--store redis://… or postgres://…) is needed beyond 0.
    #[arg(long = "store-rtt", value_delimiter = ',', value_parser = crate::units::parse_rtt)]
    pub store_rtt: Option<Vec<Duration>>,
    /// Measured window of each site's step at its common rate and of its floor step, e.g.
    /// 2s (default 600ms; quick: 150ms): longer counts more requests (the figures a plan
    /// reads: `tokenbench plan`, scripts/plan-check.sh).
    #[arg(long = "site-window", value_parser = crate::units::parse_duration)]
    pub site_window: Option<Duration>,
}

fn parse_protocol(s: &str) -> Result<HttpProtocol, String> {
    [HttpProtocol::Http1, HttpProtocol::H2c, HttpProtocol::H2Tls]
        .into_iter()
        .find(|p| p.name().eq_ignore_ascii_case(s))
        .ok_or_else(|| format!("unknown HTTP protocol '{s}' (expected http1.1, h2c or h2)"))
}

fn parse_transport(s: &str) -> Result<Transport, String> {
    s.parse()
}

impl Workload for Http {
    const ABOUT: &'static str =
        "The Superb Site under open-loop load: max rate, latency, CPU and bytes per request";
    type Args = HttpArgs;
    type Params = HttpParams;
    type Results = HttpResults;

    fn params(a: &HttpArgs, quick: bool) -> HttpParams {
        let mut p = if quick {
            HttpParams::quick()
        } else {
            HttpParams::full()
        };
        if let Some(v) = &a.protocols {
            p.protocols = v.clone();
        }
        if let Some(v) = &a.transports {
            p.transports = v.clone();
        }
        if let Some(r) = a.rate {
            p.common_rate = Some(r as f64);
        }
        if let Some(d) = a.p99 {
            p.search.p99_objective = d;
        }
        if let Some(w) = a.site_window {
            p.sites.common_window = w;
        }
        if let Some(n) = &a.nodes {
            let mut n: Vec<usize> = n.iter().map(|&k| k as usize).filter(|&k| k > 0).collect();
            n.sort_unstable();
            n.dedup();
            p.node_runs = !n.is_empty();
            p.sites.nodes = n;
        }
        if let Some(r) = &a.store_rtt {
            let mut r = r.clone();
            r.sort_unstable();
            r.dedup();
            p.sites.rtts = r;
        }
        p
    }

    fn run(
        settings: &Settings,
        p: &HttpParams,
        progress: &dyn Progress,
    ) -> WorkloadResult<HttpResults> {
        let mut p = p.clone();
        p.schemes = served(settings, p.quick);
        p.refresh = RefreshParams::for_schemes(&p.schemes, settings);
        // The node runs' schemes and their refresh step, known before anything runs so that
        // http.json's params record what the sites did.
        let store = settings
            .stores
            .iter()
            .find(|s| s.server_address().is_some())
            .cloned();
        let schemes = nodes::node_schemes(&settings.schemes(), store.as_ref());
        if p.node_runs {
            p.sites.refresh = RefreshParams::for_schemes(&schemes, settings);
        }
        let mut results = run(&p, progress)?;
        if p.node_runs {
            let exe = match &p.server_exe {
                Some(e) => e.clone(),
                None => std::env::current_exe().map_err(other)?,
            };
            progress.start("http nodes", 0);
            // Each site's search starts near what one server of the scheme reached (bearer,
            // HTTP/1.1, as the sites are served), when the generator did not limit it.
            let hints: Vec<(SchemeSpec, f64)> = results
                .rows
                .iter()
                .filter(|r| r.transport == Transport::Bearer && r.protocol == HttpProtocol::Http1)
                .filter(|r| r.generator_ruled_out())
                .filter_map(|r| {
                    let spec = p.schemes.iter().find(|s| s.id() == r.scheme)?;
                    Some((spec.clone(), r.max_rate?))
                })
                .collect();
            let runs = nodes::run(&exe, &p.sites, &schemes, store.as_ref(), hints, progress)?;
            progress.finish();
            results.placement = runs.rows.first().map(|r| r.placement.clone());
            results.nodes = runs.rows;
            results.end_to_end = runs.end_to_end;
            results.faults = runs.faults;
            results.notes = runs.notes;
        }
        Ok(results)
    }
}

/// The schemes the http workload serves: those selected; in a quick run (each row is a
/// server and a rate search) only the embedded store among the stores and HS256 and ES256
/// among the JWT algorithms, every other family whole, unless that leaves none. The hybrid
/// is served too (the quick run: hybrid-HS256-memory); its virtual users refresh once every
/// [`RefreshParams::every`] requests.
pub fn served(settings: &Settings, quick: bool) -> Vec<SchemeSpec> {
    let all: Vec<SchemeSpec> = settings.schemes();
    if !quick {
        return all;
    }
    let few: Vec<SchemeSpec> = all
        .iter()
        .filter(|spec| {
            spec.store().is_none_or(|store| *store == StoreSpec::Memory)
                && spec
                    .refresh_store()
                    .is_none_or(|store| *store == StoreSpec::Memory)
                && spec
                    .alg()
                    .is_none_or(|alg| matches!(alg, JwtAlg::HS256 | JwtAlg::ES256))
        })
        .cloned()
        .collect();
    if few.is_empty() { all } else { few }
}

/// Where a search starts, as a share of the maximum the scheme's previous row found.
pub(crate) const HINT_SHARE: f64 = 0.6;

fn other(e: impl std::fmt::Display) -> WorkloadError {
    WorkloadError::Other(format!("http workload: {e}"))
}

struct Row {
    spec: SchemeSpec,
    transport: Transport,
    protocol: HttpProtocol,
    generator: Generator,
    found: Option<(Option<f64>, Limit, Vec<SearchStep>)>,
}

/// Runs the http workload.
pub fn run(params: &HttpParams, progress: &dyn Progress) -> WorkloadResult<HttpResults> {
    let exe = match &params.server_exe {
        Some(p) => p.clone(),
        None => std::env::current_exe().map_err(other)?,
    };
    // The generator on a core of its own, the server on the others (with as many worker
    // threads as it has cores), so a search ends on the server's limit, not the generator's.
    let cores = crate::net::placement::allowed_cores().map_err(other)?;
    let placement = Placement::plan(&cores, 1, 1, cores.len().saturating_sub(1).max(1));
    let server_cores = placement.nodes.first().cloned().unwrap_or_default();
    let mut servers: Vec<ChildServer> = Vec::new();
    let mut rows: Vec<Row> = Vec::new();
    for spec in &params.schemes {
        for &transport in &params.transports {
            for tls in [false, true] {
                let protocols: Vec<HttpProtocol> = params
                    .protocols
                    .iter()
                    .copied()
                    .filter(|p| p.tls() == tls)
                    .collect();
                if protocols.is_empty() {
                    continue;
                }
                let mut args = serve_args(spec, transport, params.revocation, params.accounts, tls);
                args.extend(["--threads".into(), server_cores.len().max(1).to_string()]);
                if let (true, Some(r)) = (spec.capabilities().refresh_token, &params.refresh) {
                    let ms = r.access_lifetime.as_millis();
                    args.extend(["--access-lifetime".into(), format!("{ms}ms")]);
                }
                servers
                    .push(ChildServer::spawn_on(&exe, &args, Some(&server_cores)).map_err(other)?);
                let server = servers.len() - 1;
                for protocol in protocols {
                    let target = Target::parse(servers[server].url()).map_err(other)?;
                    let mut cfg = LoadConfig::new(target, load_protocol(protocol), transport);
                    cfg.insecure = true;
                    cfg.accounts = params.accounts;
                    cfg.vus = params.vus;
                    cfg.connections = params.h2_connections;
                    cfg.threads = params.generator_threads;
                    cfg.cores = placement.generator.clone();
                    cfg.mix = Mix::Flow {
                        reads_per_write: params.reads_per_write,
                        writes_per_session: params.writes_per_session,
                    };
                    if spec.capabilities().refresh_token {
                        cfg.refresh_every = params.refresh.map(|r| r.every);
                    }
                    rows.push(Row {
                        spec: spec.clone(),
                        transport,
                        protocol,
                        generator: Generator::new(cfg).map_err(other)?,
                        found: None,
                    });
                }
            }
        }
    }
    progress.start("http", 2 * rows.len() as u64);
    // The rows of one scheme differ by transport and protocol only: each search after the
    // scheme's first starts a little below the maximum its previous row found, instead of
    // stepping up from the start rate again. The search still needs a passing and a
    // failing step and bisects between them; only the steps far below are skipped.
    let mut hints: Vec<(SchemeSpec, f64)> = Vec::new();
    for r in &mut rows {
        progress.step(&format!(
            "{} {} {}: max rate",
            r.spec,
            r.transport,
            r.protocol.name()
        ));
        // Enough for every user to get through GET and POST /login and a first read.
        let settle_rate = (params.search.start_rate / 4.0)
            .max(4.0 * params.vus as f64 / params.settle.as_secs_f64().max(0.01));
        r.generator
            .run_step(settle_rate, Duration::ZERO, params.settle)
            .map_err(other)?;
        let mut search_params = params.search.clone();
        if let Some((_, max)) = hints.iter().rev().find(|(spec, _)| *spec == r.spec) {
            search_params.start_rate = (max * HINT_SHARE).max(params.search.start_rate);
        }
        let s = search(&mut r.generator, &search_params, |_| {}).map_err(other)?;
        if let Some(max) = s.max_rate {
            hints.push((r.spec.clone(), max));
        }
        r.found = Some((s.max_rate, s.limited_by, s.steps));
    }
    let lowest = rows
        .iter()
        .filter_map(|r| r.found.as_ref().and_then(|f| f.0))
        .fold(f64::INFINITY, f64::min);
    let common_rate = params.common_rate.unwrap_or(if lowest.is_finite() {
        (lowest * params.common_fraction).max(1.0)
    } else {
        params.search.start_rate / 4.0
    });
    let mut out = Vec::with_capacity(rows.len());
    let mut split_done: Vec<SchemeSpec> = Vec::new();
    for r in rows {
        progress.step(&format!(
            "{} {} {}: common rate",
            r.spec,
            r.transport,
            r.protocol.name()
        ));
        let mut g = r.generator;
        let metrics_cfg = g.config().clone();
        let CommonPoint {
            step,
            server: delta,
        } = measured_step(&mut g, &metrics_cfg, common_rate, params)?;
        let after: MetricsSnapshot = g
            .block_on(get_json(&metrics_cfg, "/metrics"))
            .map_err(other)?;
        drop(g);
        let (max_rate, limited_by, search) =
            r.found.unwrap_or((None, Limit::Objective, Vec::new()));
        // The stack floor beside the credential, on each scheme's first row: GET /me and
        // GET /floor at the common rate and near the row's own capacity.
        let split = if split_done.contains(&r.spec) {
            Vec::new()
        } else {
            split_done.push(r.spec.clone());
            progress.step(&format!("{} {}: stack floor", r.spec, r.transport));
            let mut loads = vec![(SplitLoad::Common, common_rate)];
            if let Some(m) = max_rate.filter(|_| limited_by != Limit::Generator) {
                loads.push((SplitLoad::NearCapacity, m * params.capacity_share));
            }
            split_points(&metrics_cfg, params, &loads)?
        };
        let logout = LogoutOutcome::of(r.spec.capabilities(), params.revocation);
        out.push(HttpRow {
            scheme: r.spec.id(),
            // The server is a child `tokenbench serve` on the default backend.
            backend: r
                .spec
                .capabilities()
                .per_crypto_backend
                .then_some(crate::crypto::CryptoBackend::AwsLc),
            transport: r.transport,
            protocol: r.protocol,
            logout: logout.name().into(),
            max_rate,
            limited_by,
            search,
            common: CommonPoint {
                server: delta,
                step,
            },
            server_max_rss_bytes: if after.peak_rss_bytes > 0 {
                after.peak_rss_bytes
            } else {
                after.max_rss_bytes
            },
            split,
            server_cores: Some(server_cores.clone()),
        });
    }
    progress.finish();
    for mut s in servers {
        s.stop();
    }
    Ok(HttpResults {
        schema_version: <HttpResults as ResultFile>::VERSION,
        cores: std::thread::available_parallelism().map_or(1, usize::from),
        params: serde_json::to_value(params).map_err(other)?,
        common_rate,
        rows: out,
        placement: Some(placement),
        nodes: Vec::new(),
        faults: Vec::new(),
        end_to_end: Vec::new(),
        jwt_lifetime_s: 0.0,
        notes: Vec::new(),
    })
}

/// `GET /me` and `GET /floor` on the server of `cfg` at each `(load, rate)`: one
/// generator each (the `/me` one logs its users in first), the server's metrics around
/// every step.
fn split_points(
    cfg: &LoadConfig,
    params: &HttpParams,
    loads: &[(SplitLoad, f64)],
) -> WorkloadResult<Vec<SplitPoint>> {
    let generator = |mix: Mix| {
        let mut c = cfg.clone();
        c.mix = mix;
        Generator::new(c).map_err(other)
    };
    let mut me = generator(Mix::MeOnly)?;
    let mut floor = generator(Mix::Floor)?;
    let settle_rate = 4.0 * params.vus as f64 / params.settle.as_secs_f64().max(0.01);
    me.run_step(settle_rate, Duration::ZERO, params.settle)
        .map_err(other)?;
    let point = |g: &mut Generator, rate: f64| -> WorkloadResult<CommonPoint> {
        measured_step(g, cfg, rate, params)
    };
    let mut out = Vec::new();
    for &(load, rate) in loads {
        // Interleaved: the route with the credential, then the floor, at the same rate.
        let m = point(&mut me, rate)?;
        let f = point(&mut floor, rate)?;
        out.push(SplitPoint {
            load,
            offered_rate: rate,
            me: m,
            floor: f,
        });
    }
    Ok(out)
}

/// One step at `rate` with the server's `/metrics` around it. A step the generator could not
/// keep (a neighbour's burst on a shared machine) is run once more, and the second kept,
/// as the search does.
fn measured_step(
    g: &mut Generator,
    cfg: &LoadConfig,
    rate: f64,
    params: &HttpParams,
) -> WorkloadResult<CommonPoint> {
    let mut last = None;
    for _ in 0..2 {
        let before: MetricsSnapshot = g.block_on(get_json(cfg, "/metrics")).map_err(other)?;
        let step = g
            .run_step(rate, params.search.warmup, params.common_window)
            .map_err(other)?;
        let after: MetricsSnapshot = g.block_on(get_json(cfg, "/metrics")).map_err(other)?;
        let valid = step.valid;
        last = Some(CommonPoint {
            server: MetricsDelta::between(&before, &after),
            step,
        });
        if valid {
            break;
        }
    }
    last.ok_or_else(|| other("no step ran"))
}
