//! The node runs: for each store round trip (a [`ChildProxy`] between nodes and store) and
//! each node count K, a site of K `serve` processes per scheme ([`Site`]), loaded through a
//! round-robin spread of virtual users (no sticky sessions). Per site: the highest rate
//! meeting the objective, then, at one common rate for the schemes of that K and RTT, the
//! latency, each node's CPU per request, the store's operations and CPU (its headroom), and
//! the stack floor (`GET /floor`) at the same rate. At the largest K, the end-to-end
//! revocation trials ([`super::revocation`]) and the faults ([`super::faults`]).

use std::path::Path;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::site::{ChildProxy, Site, SiteSpec};
use super::{HINT_SHARE, other};
use crate::http::Revocation;
use crate::load::client::get_json;
use crate::load::search::search;
use crate::load::{Generator, LoadConfig, Mix, Protocol, Target};
use crate::net::Transport;
use crate::net::metrics::MetricsSnapshot;
use crate::net::placement::{Placement, allowed_cores};
use crate::results::schema::http::{
    FaultResult, HttpProtocol, Limit, MetricsDelta, NodeRow, SearchParams, SitePoint, StepResult,
    StoreLoad,
};
use crate::results::schema::revoke::EndToEndResult;
use crate::scheme::JwtAlg;
use crate::scheme::spec::{SchemeSpec, StoreSpec};
use crate::store::ServerProbe;
use crate::workload::{Progress, WorkloadResult};

/// What the node runs do.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SiteParams {
    /// Node counts K.
    pub nodes: Vec<usize>,
    /// Round trips the proxy adds between the nodes and the store (0: no proxy).
    pub rtts: Vec<Duration>,
    /// Worker threads per node (`serve --threads`).
    pub node_threads: usize,
    /// The rate search of each site.
    pub search: SearchParams,
    /// The common rate of a K and RTT: this share of the lowest maximum among its sites.
    pub common_share: f64,
    /// Measured window at the common rate (and of the floor step).
    pub common_window: Duration,
    /// End-to-end revocation trials per strategy.
    pub trials: usize,
    /// The polled denylist's period.
    pub poll_interval: Duration,
    /// The per-node session cache's lifetime.
    pub session_cache: Duration,
    /// Run the faults (a node killed, the store cut).
    pub faults: bool,
    /// Demo accounts per site.
    pub accounts: usize,
    /// Virtual users.
    pub vus: usize,
    /// The refresh step of a hybrid's virtual users (set from the http workload's own,
    /// so a site refreshes as often per request as the single server did; `None`: no
    /// hybrid served).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh: Option<super::RefreshParams>,
}

impl SiteParams {
    /// The short form of a quick run: 1 and 2 nodes, the store at no distance.
    pub fn quick() -> SiteParams {
        SiteParams {
            nodes: vec![1, 2],
            rtts: vec![Duration::ZERO],
            node_threads: 1,
            search: SearchParams {
                start_rate: 1000.0,
                max_rate: 50_000.0,
                growth: 3.0,
                bisect_steps: 1,
                warmup: Duration::from_millis(30),
                window: Duration::from_millis(80),
                ..SearchParams::default()
            },
            common_share: 0.5,
            common_window: Duration::from_millis(150),
            trials: 8,
            poll_interval: Duration::from_millis(100),
            session_cache: Duration::from_millis(100),
            faults: true,
            accounts: 16,
            vus: 16,
            refresh: None,
        }
    }

    /// The full form: 1, 2 and 4 nodes; the store at 0, 0.5 ms (same zone) and 2 ms
    /// (another zone).
    pub fn full() -> SiteParams {
        SiteParams {
            nodes: vec![1, 2, 4],
            rtts: vec![
                Duration::ZERO,
                Duration::from_micros(500),
                Duration::from_millis(2),
            ],
            search: SearchParams {
                start_rate: 1000.0,
                bisect_steps: 2,
                warmup: Duration::from_millis(100),
                window: Duration::from_millis(300),
                ..SearchParams::default()
            },
            common_window: Duration::from_millis(600),
            trials: 20,
            poll_interval: Duration::from_millis(250),
            session_cache: Duration::from_millis(250),
            accounts: 100,
            vus: 32,
            ..SiteParams::quick()
        }
    }
}

/// What the node runs measured.
#[derive(Debug, Default)]
pub struct NodeRuns {
    /// One row per scheme × K × RTT.
    pub rows: Vec<NodeRow>,
    /// End-to-end revocation per strategy and RTT.
    pub end_to_end: Vec<EndToEndResult>,
    /// The faults.
    pub faults: Vec<FaultResult>,
    /// Why some part did not run (no networked store…).
    pub notes: Vec<String>,
}

/// The schemes the node runs serve, from those the http workload serves: the session on
/// `store` (the networked store the site's nodes share), two JWT algorithms, and the
/// hybrid whose refresh families live on `store` (its nodes rotate the same families).
pub fn node_schemes(served: &[SchemeSpec], store: Option<&StoreSpec>) -> Vec<SchemeSpec> {
    let mut out: Vec<SchemeSpec> = served
        .iter()
        .filter(|s| s.store().is_some() && s.store() == store)
        .cloned()
        .collect();
    // An HMAC and an elliptic-curve signature where selected (the cheapest and the common
    // asymmetric choice), else the first two algorithms.
    let jwts: Vec<&SchemeSpec> = served
        .iter()
        .filter(|s| s.alg().is_some() && !s.capabilities().refresh_token)
        .collect();
    let preferred: Vec<&SchemeSpec> = jwts
        .iter()
        .copied()
        .filter(|s| matches!(s.alg(), Some(JwtAlg::HS256 | JwtAlg::ES256)))
        .collect();
    let pick = if preferred.is_empty() {
        jwts
    } else {
        preferred
    };
    out.extend(pick.into_iter().take(2).cloned());
    out.extend(
        served
            .iter()
            .filter(|s| s.refresh_store().is_some() && s.refresh_store() == store)
            .cloned(),
    );
    out
}

/// The site of the node runs serving `spec`: bearer tokens, no denylist, a hybrid's
/// access lifetime as the single servers had it.
fn site_spec(spec: SchemeSpec, p: &SiteParams) -> SiteSpec {
    let mut s = SiteSpec::bearer(spec, Revocation::None, None, p.accounts, p.node_threads);
    s.access_lifetime = p.refresh.map(|r| r.access_lifetime);
    s
}

/// The scheme with its store reached through `via` (the proxy), if it has a networked one.
fn through(spec: &SchemeSpec, via: Option<&StoreSpec>) -> SchemeSpec {
    match (spec, via) {
        (SchemeSpec::Session(_), Some(v)) => SchemeSpec::Session(v.clone()),
        (SchemeSpec::Hybrid(a, _), Some(v)) => SchemeSpec::Hybrid(*a, v.clone()),
        _ => spec.clone(),
    }
}

/// The median of `n` round trips to the store's server through `via`, ms.
fn measured_rtt(via: &StoreSpec) -> Option<f64> {
    let probe = via.probe().ok()??;
    let mut t: Vec<Duration> = probe.round_trips(21).ok()?;
    if t.is_empty() {
        return None;
    }
    t.sort_unstable();
    Some(t[t.len() / 2].as_secs_f64() * 1e3)
}

struct Loaded {
    spec: SchemeSpec,
    site: Site,
    generator: Generator,
    max_rate: Option<f64>,
    limited_by: Limit,
    search: Vec<crate::results::schema::http::SearchStep>,
}

/// Runs the node runs of `schemes` (see [`node_schemes`]) on `store` (the networked store
/// the sessions share; `None`: JWT sites only, at no distance).
pub fn run(
    exe: &Path,
    p: &SiteParams,
    schemes: &[SchemeSpec],
    store: Option<&StoreSpec>,
    mut hints: Vec<(SchemeSpec, f64)>,
    progress: &dyn Progress,
) -> WorkloadResult<NodeRuns> {
    let mut out = NodeRuns::default();
    let cores = allowed_cores().map_err(other)?;
    let probe = match store {
        Some(s) => s.probe().map_err(other)?,
        None => None,
    };
    let max_k = p.nodes.iter().copied().max().unwrap_or(1);
    for (ri, &rtt) in p.rtts.iter().enumerate() {
        let (proxy, via) = match store.and_then(|s| s.server_address().map(|a| (s, a))) {
            Some((s, addr)) if !rtt.is_zero() => {
                let proxy = ChildProxy::start(exe, &addr, rtt, None)?;
                let via = s.via(proxy.addr());
                (Some(proxy), via)
            }
            Some((s, _)) => (None, Some(s.clone())),
            None if !rtt.is_zero() => {
                out.notes.push(format!(
                    "no networked store: the store round trip {} ms was not run (give --store redis://…)",
                    rtt.as_secs_f64() * 1e3
                ));
                continue;
            }
            None => (None, None),
        };
        let measured = match (&proxy, &via) {
            (Some(_), Some(v)) => measured_rtt(v),
            _ => None,
        };
        for &k in &p.nodes {
            let placement = Placement::plan(&cores, 1, k, 1);
            let mut loaded: Vec<Loaded> = Vec::new();
            for spec in schemes {
                let spec = through(spec, via.as_ref());
                progress.step(&format!(
                    "{spec} on {k} node(s), store rtt {} ms: max rate",
                    rtt.as_secs_f64() * 1e3
                ));
                let site = Site::start(exe, &site_spec(spec.clone(), p), &placement.nodes)?;
                let mut g = site_generator(&site, p, &placement, Mix::default())?;
                settle(&mut g, p)?;
                let mut sp = p.search.clone();
                let base = base_id(&spec);
                if let Some((_, max)) = hints.iter().rev().find(|(s, _)| base_id(s) == base) {
                    sp.start_rate = (max * HINT_SHARE).max(p.search.start_rate);
                }
                let s = search(&mut g, &sp, |_| {}).map_err(other)?;
                if let Some(m) = s.max_rate {
                    hints.push((spec.clone(), m));
                }
                loaded.push(Loaded {
                    spec,
                    site,
                    generator: g,
                    max_rate: s.max_rate,
                    limited_by: s.limited_by,
                    search: s.steps,
                });
            }
            let lowest = loaded
                .iter()
                .filter_map(|l| l.max_rate)
                .fold(f64::INFINITY, f64::min);
            let common_rate = if lowest.is_finite() {
                (lowest * p.common_share).max(1.0)
            } else {
                p.search.start_rate / 4.0
            };
            for l in &mut loaded {
                progress.step(&format!("{} on {k} node(s): common rate", l.spec));
                let store_side = l.spec.any_store().is_some();
                let probe = probe.as_deref().filter(|_| store_side);
                let (common, store_load) = site_point(&mut l.generator, common_rate, p, probe)?;
                let mut fg = site_generator(&l.site, p, &placement, Mix::Floor)?;
                let (floor, _) = site_point(&mut fg, common_rate, p, None)?;
                out.rows.push(NodeRow {
                    scheme: l.spec.id(),
                    transport: Transport::Bearer,
                    protocol: HttpProtocol::Http1,
                    nodes: k,
                    rtt_ms: rtt.as_secs_f64() * 1e3,
                    measured_rtt_ms: measured,
                    store: l.spec.any_store().map(|s| s.name().to_owned()),
                    placement: placement.clone(),
                    max_rate: l.max_rate,
                    limited_by: l.limited_by,
                    search: std::mem::take(&mut l.search),
                    common,
                    floor: Some(floor),
                    store_load,
                });
            }
            for l in loaded {
                drop(l.generator);
                l.site.stop()?;
            }
            if k == max_k {
                if let (Some(via), Some(store)) = (&via, store) {
                    progress.step(&format!(
                        "revocation end to end, {k} node(s), store rtt {} ms",
                        rtt.as_secs_f64() * 1e3
                    ));
                    out.end_to_end.extend(super::revocation::run(
                        exe, p, via, store, k, rtt, &placement,
                    )?);
                }
                if p.faults && ri == 0 {
                    progress.step(&format!("faults, {k} node(s)"));
                    let f = super::faults::run(exe, p, schemes, store, k, &placement, &hints)?;
                    out.faults.extend(f);
                }
            }
        }
        drop(proxy);
    }
    Ok(out)
}

/// A site of `k` nodes serving `spec` over `store` at `rtt`, loaded at one fixed `rate`
/// (no search): what `tokenbench plan --check` compares a plan with.
#[derive(Debug, Clone, PartialEq)]
pub struct FixedRate {
    /// The round trip the proxy adds, measured (median of pings through it less the
    /// median straight to the store), ms; `None` at 0.
    pub measured_rtt_ms: Option<f64>,
    /// The same while the flow's steps loaded the site (median of pairs of pings during
    /// them), ms; `None` at 0.
    pub loaded_rtt_ms: Option<f64>,
    /// Where the generator and the nodes ran.
    pub placement: Placement,
    /// Each repeat: the flow, the stack floor at the same rate, and the store's load over
    /// the flow's step.
    pub repeats: Vec<(SitePoint, SitePoint, Option<StoreLoad>)>,
}

/// The site [`fixed_rate`] runs.
#[derive(Debug, Clone)]
pub struct FixedSite {
    /// The scheme every node serves.
    pub spec: SchemeSpec,
    /// The networked store the nodes share (one server).
    pub store: StoreSpec,
    /// Nodes.
    pub nodes: usize,
    /// Round trip the proxy adds between the nodes and the store (0: no proxy).
    pub rtt: Duration,
    /// Offered rate over the site, requests/s.
    pub rate: f64,
    /// Steps of the flow, each followed by a step of the floor.
    pub repeats: usize,
}

/// Runs `site.spec` on `site.nodes` nodes over `site.store` (a proxy adding `site.rtt` in
/// between when not 0) at `site.rate` for `site.repeats` steps of the flow and of `GET
/// /floor`, each of `p.common_window` after `p.search.warmup`. Everything started is
/// stopped, even after a failure.
pub fn fixed_rate(exe: &Path, p: &SiteParams, site: &FixedSite) -> WorkloadResult<FixedRate> {
    let FixedSite {
        spec,
        store,
        nodes: k,
        rtt,
        rate,
        repeats,
    } = site;
    let (k, rtt, rate, repeats) = (*k, *rtt, *rate, *repeats);
    let cores = allowed_cores().map_err(other)?;
    let probe = store.probe().map_err(other)?;
    let addr = store
        .server_address()
        .ok_or_else(|| other("the check needs a single networked store (redis://HOST:PORT)"))?;
    let proxy = if rtt.is_zero() {
        None
    } else {
        Some(ChildProxy::start(exe, &addr, rtt, None)?)
    };
    let via = match &proxy {
        Some(px) => store
            .via(px.addr())
            .ok_or_else(|| other("the store cannot be reached through a proxy"))?,
        None => store.clone(),
    };
    // What the proxy adds: the round trip through it less the one straight to the store.
    let measured = proxy.as_ref().and_then(|_| {
        let through = measured_rtt(&via)?;
        let straight = measured_rtt(store)?;
        Some((through - straight).max(0.0))
    });
    let placement = Placement::plan(&cores, 1, k, 1);
    let site = Site::start(
        exe,
        &site_spec(through(spec, Some(&via)), p),
        &placement.nodes,
    )?;
    let mut g = site_generator(&site, p, &placement, Mix::default())?;
    let mut fg = site_generator(&site, p, &placement, Mix::Floor)?;
    settle(&mut g, p)?;
    let store_side = probe.as_deref().filter(|_| spec.any_store().is_some());
    let mut out = Vec::with_capacity(repeats);
    let mut loaded: Vec<f64> = Vec::new();
    for _ in 0..repeats.max(1) {
        // The proxy's round trip while the site loads it (its threads wait for busy cores):
        // pings through it less pings straight to the store, alternating, during the step.
        let (point, pings) = with_pings(proxy.as_ref().map(|_| (&via, store)), || {
            site_point(&mut g, rate, p, store_side)
        });
        let (me, load) = point?;
        loaded.extend(pings);
        let (floor, _) = site_point(&mut fg, rate, p, None)?;
        out.push((me, floor, load));
    }
    drop(g);
    drop(fg);
    site.stop()?;
    drop(proxy);
    loaded.sort_by(f64::total_cmp);
    Ok(FixedRate {
        measured_rtt_ms: measured,
        loaded_rtt_ms: (!loaded.is_empty()).then(|| loaded[loaded.len() / 2].max(0.0)),
        placement,
        repeats: out,
    })
}

/// Runs `f`, pinging the store through the proxy and straight (`Some((via, store))`)
/// every 25 ms meanwhile (about 80 commands/s, which the store's operation count of the
/// step includes); the differences of each pair, ms.
fn with_pings<T>(pair: Option<(&StoreSpec, &StoreSpec)>, f: impl FnOnce() -> T) -> (T, Vec<f64>) {
    let Some((via, store)) = pair else {
        return (f(), Vec::new());
    };
    let (Ok(Some(through)), Ok(Some(straight))) = (via.probe(), store.probe()) else {
        return (f(), Vec::new());
    };
    let stop = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|scope| {
        let pinger = scope.spawn(|| {
            let mut out = Vec::new();
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let t = through.round_trips(1).ok().and_then(|v| v.first().copied());
                let s = straight
                    .round_trips(1)
                    .ok()
                    .and_then(|v| v.first().copied());
                if let (Some(t), Some(s)) = (t, s) {
                    out.push((t.as_secs_f64() - s.as_secs_f64()) * 1e3);
                }
                // Sparse: each pair is two commands the store counts among the site's.
                std::thread::sleep(Duration::from_millis(25));
            }
            out
        });
        let value = f();
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        (value, pinger.join().unwrap_or_default())
    })
}

/// The scheme without its store's address (hints carry over from one RTT to the next).
fn base_id(spec: &SchemeSpec) -> String {
    spec.id().to_string()
}

/// A generator spreading virtual users over the site's nodes, on the generator's cores.
pub(super) fn site_generator(
    site: &Site,
    p: &SiteParams,
    placement: &Placement,
    mix: Mix,
) -> WorkloadResult<Generator> {
    let targets = site
        .urls()
        .iter()
        .map(|u| Target::parse(u))
        .collect::<Result<Vec<_>, _>>()
        .map_err(other)?;
    let mut cfg = LoadConfig::site(targets, Protocol::Http1, Transport::Bearer);
    cfg.accounts = p.accounts;
    cfg.vus = p.vus;
    cfg.mix = mix;
    cfg.cores = placement.generator.clone();
    if site.refreshes() {
        cfg.refresh_every = p.refresh.map(|r| r.every);
    }
    Generator::new(cfg).map_err(other)
}

/// An unmeasured step fast enough for every virtual user to log in.
pub(super) fn settle(g: &mut Generator, p: &SiteParams) -> WorkloadResult<StepResult> {
    let settle = Duration::from_millis(150);
    let rate = (p.search.start_rate / 4.0).max(4.0 * p.vus as f64 / settle.as_secs_f64());
    g.run_step(rate, Duration::ZERO, settle).map_err(other)
}

/// Every node's `/metrics` now (`None` for a node that does not answer).
fn snapshots(g: &Generator) -> Vec<Option<MetricsSnapshot>> {
    let cfg = g.config();
    (0..cfg.targets().len())
        .map(|i| {
            let node = cfg.for_node(i);
            g.block_on(get_json(&node, "/metrics")).ok()
        })
        .collect()
}

/// One step at `rate` on the site: latency, each node's metrics, and with `probe` the
/// store's operations and CPU over the step.
fn site_point(
    g: &mut Generator,
    rate: f64,
    p: &SiteParams,
    probe: Option<&dyn ServerProbe>,
) -> WorkloadResult<(SitePoint, Option<StoreLoad>)> {
    // A step the generator could not keep is run once more, the second kept.
    let mut tries = 0;
    let (before, store0, step, store1, after) = loop {
        tries += 1;
        let before = snapshots(g);
        let store0 = probe.map(store_reading).transpose()?;
        let step = g
            .run_step(rate, p.search.warmup, p.common_window)
            .map_err(other)?;
        let store1 = probe.map(store_reading).transpose()?;
        let after = snapshots(g);
        if step.valid || tries == 2 {
            break (before, store0, step, store1, after);
        }
    };
    let per_node: Vec<Option<MetricsDelta>> = before
        .iter()
        .zip(&after)
        .map(|(b, a)| match (b, a) {
            (Some(b), Some(a)) => Some(MetricsDelta::between(b, a)),
            _ => None,
        })
        .collect();
    let requests: u64 = per_node.iter().flatten().map(|d| d.requests).sum();
    let store_load = match (store0, store1) {
        (Some((o0, c0, t0)), Some((o1, c1, t1))) => store_load(o0, c0, t0, o1, c1, t1, requests),
        _ => None,
    };
    Ok((SitePoint { step, per_node }, store_load))
}

/// (operations, CPU seconds, when) of the store's server.
fn store_reading(probe: &dyn ServerProbe) -> WorkloadResult<(Option<u64>, Option<f64>, Instant)> {
    let ops = probe.ops().map_err(other)?;
    let cpu = probe.cpu_secs().map_err(other)?;
    Ok((ops, cpu, Instant::now()))
}

/// The store's load over a step from two readings and the requests the nodes served:
/// operations per second and per request, CPU per operation, and the request rate at
/// which this store would spend one whole core (`1e9 / (cpu_per_op_ns × ops_per_request)`).
fn store_load(
    ops0: Option<u64>,
    cpu0: Option<f64>,
    t0: Instant,
    ops1: Option<u64>,
    cpu1: Option<f64>,
    t1: Instant,
    requests: u64,
) -> Option<StoreLoad> {
    let ops = ops1?.checked_sub(ops0?)?;
    let cpu = cpu1? - cpu0?;
    let secs = t1.duration_since(t0).as_secs_f64();
    if ops == 0 || requests == 0 || secs <= 0.0 || cpu < 0.0 {
        return None;
    }
    let cpu_per_op_ns = cpu * 1e9 / ops as f64;
    let ops_per_request = ops as f64 / requests as f64;
    Some(StoreLoad {
        ops_per_sec: ops as f64 / secs,
        ops_per_request,
        cpu_per_op_ns,
        headroom_rate: if cpu_per_op_ns > 0.0 {
            1e9 / (cpu_per_op_ns * ops_per_request)
        } else {
            f64::INFINITY
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_runs_serve_the_hybrid_whose_families_live_on_the_shared_store() {
        let redis = StoreSpec::Redis("redis://127.0.0.1:1/".into());
        let served = vec![
            SchemeSpec::Session(StoreSpec::Memory),
            SchemeSpec::Session(redis.clone()),
            SchemeSpec::Jwt(JwtAlg::HS256),
            SchemeSpec::Jwt(JwtAlg::RS256),
            SchemeSpec::Jwt(JwtAlg::ES256),
            SchemeSpec::Hybrid(JwtAlg::HS256, StoreSpec::Memory),
            SchemeSpec::Hybrid(JwtAlg::HS256, redis.clone()),
        ];
        let names = |store: Option<&StoreSpec>| -> Vec<String> {
            node_schemes(&served, store)
                .iter()
                .map(SchemeSpec::name)
                .collect()
        };
        assert_eq!(
            names(Some(&redis)),
            [
                "session-redis",
                "jwt-HS256",
                "jwt-ES256",
                "hybrid-HS256-redis"
            ]
        );
        // No networked store: nothing the nodes could share families through.
        assert_eq!(names(None), ["jwt-HS256", "jwt-ES256"]);
    }

    #[test]
    fn store_headroom_is_one_core_over_cpu_per_request() {
        let t0 = Instant::now();
        let t1 = t0 + Duration::from_secs(2);
        // 20 000 operations for 10 000 requests, 0.2 s of store CPU: 10 µs per op, 2 ops
        // per request, so one core lasts up to 50 000 req/s.
        let l = store_load(
            Some(100),
            Some(1.0),
            t0,
            Some(20_100),
            Some(1.2),
            t1,
            10_000,
        )
        .unwrap();
        assert!((l.cpu_per_op_ns - 10_000.0).abs() < 1e-6);
        assert!((l.ops_per_request - 2.0).abs() < 1e-9);
        assert!((l.ops_per_sec - 10_000.0).abs() < 1e-6);
        assert!((l.headroom_rate - 50_000.0).abs() < 1e-6);
        // No operation, no request or a store that cannot say: no figure.
        assert!(store_load(Some(5), Some(1.0), t0, Some(5), Some(1.1), t1, 10).is_none());
        assert!(store_load(Some(5), Some(1.0), t0, Some(9), Some(1.1), t1, 0).is_none());
        assert!(store_load(None, Some(1.0), t0, Some(9), Some(1.1), t1, 10).is_none());
    }
}
