//! One fixed-rate step: every virtual user sends on its own evenly spaced schedule (user
//! `l` of `L` at `t0 + (l + i·L) / rate`), waits for the answer, and records the latency
//! from the intended send time. Virtual users and their connections live on between
//! steps, so the request mix is the steady one (not a burst of logins every step).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;

use super::client::{ByteCount, Sender, connect};
use super::pacer::Pacer;
use super::vu::{Kind, Vu};
use super::{LoadConfig, LoadError, Protocol};
use crate::measure::stats::{Summary, encode_histogram, histogram};
use crate::net::placement::{allowed_cores, pin};
use crate::net::usage::process_usage;
pub use crate::results::schema::http::{NodeCounts, StepResult};

/// Largest latency the histograms hold, ns (a minute).
const MAX_NS: u64 = 60_000_000_000;

struct Lane {
    vu: Vu,
    /// One connection per node of the site (one for a single server).
    senders: Vec<Option<Sender>>,
    /// Requests this lane has sent, so the next goes to node `(lane + sent) % nodes`.
    sent: u64,
}

#[derive(Default)]
struct LaneStats {
    latency: Option<Histogram<u64>>,
    lag: Option<Histogram<u64>>,
    requests: u64,
    ok: u64,
    errors: BTreeMap<String, u64>,
    kinds: BTreeMap<Kind, u64>,
    /// Per node: requests, ok, errors by kind.
    nodes: Vec<(u64, u64, BTreeMap<String, u64>)>,
    late: u64,
    sends: u64,
    answered: u64,
    /// When the last request due in the window was answered.
    last_done: Option<Instant>,
}

/// A load generator for one target: its runtime, pacer, virtual users and connections.
pub struct Generator {
    cfg: Arc<LoadConfig>,
    /// The configuration aimed at each node alone (connections, request URIs).
    per_node: Arc<Vec<LoadConfig>>,
    runtime: tokio::runtime::Runtime,
    pacer: Arc<Pacer>,
    lanes: Vec<Lane>,
    /// HTTP/2 connections, per node.
    h2: Vec<Vec<Sender>>,
    bytes: Arc<ByteCount>,
}

impl std::fmt::Debug for Generator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Generator")
            .field("target", &self.cfg.target.url)
            .finish()
    }
}

impl Generator {
    /// A generator for `cfg` (no connection is opened yet).
    pub fn new(cfg: LoadConfig) -> Result<Generator, LoadError> {
        if cfg.vus == 0 || cfg.accounts == 0 {
            return Err(LoadError::Config(
                "--vus and --accounts must be at least 1".into(),
            ));
        }
        let mut builder = tokio::runtime::Builder::new_multi_thread();
        builder.worker_threads(cfg.threads.max(1)).enable_all();
        if !cfg.cores.is_empty() {
            let allowed = allowed_cores().unwrap_or_default();
            if let Some(c) = cfg.cores.iter().find(|c| !allowed.contains(c)) {
                return Err(LoadError::Config(format!(
                    "core {c} is not one this process may run on ({allowed:?})"
                )));
            }
            // Every thread of the runtime; the pacer pins its own.
            let cores = cfg.cores.clone();
            builder.on_thread_start(move || {
                let _ = pin(0, &cores);
            });
        }
        let runtime = builder
            .build()
            .map_err(|e| LoadError::Runtime(format!("starting the generator runtime: {e}")))?;
        let pacer = Arc::new(Pacer::start(&cfg.cores)?);
        let nodes = cfg.targets().len();
        let per_node: Vec<LoadConfig> = (0..nodes).map(|i| cfg.for_node(i)).collect();
        let lanes = (0..cfg.vus)
            .map(|l| {
                let mut vu = Vu::new(l, cfg.vus);
                vu.restart_for(&cfg);
                vu.stagger(&cfg, l, cfg.vus);
                Lane {
                    vu,
                    senders: (0..nodes).map(|_| None).collect(),
                    sent: 0,
                }
            })
            .collect();
        Ok(Generator {
            cfg: Arc::new(cfg),
            per_node: Arc::new(per_node),
            runtime,
            pacer,
            lanes,
            h2: Vec::new(),
            bytes: Arc::new(ByteCount::default()),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &LoadConfig {
        &self.cfg
    }

    /// Runs `f` on the generator's runtime (e.g. to read the server's `/metrics`).
    pub fn block_on<F: std::future::Future>(&self, f: F) -> F::Output {
        self.runtime.block_on(f)
    }

    /// Offers `rate` requests per second for `warmup + window`, measuring the window.
    pub fn run_step(
        &mut self,
        rate: f64,
        warmup: Duration,
        window: Duration,
    ) -> Result<StepResult, LoadError> {
        if !(rate.is_finite() && rate > 0.0) {
            return Err(LoadError::Config(format!("rate {rate} must be above zero")));
        }
        let cfg = self.cfg.clone();
        let per_node = self.per_node.clone();
        let pacer = self.pacer.clone();
        let bytes = self.bytes.clone();
        let mut lanes = std::mem::take(&mut self.lanes);
        let mut h2 = std::mem::take(&mut self.h2);
        let out = self.runtime.block_on(async {
            prepare(&cfg, &per_node, &bytes, &mut lanes, &mut h2).await?;
            let n = lanes.len();
            let cpu0 = process_usage().cpu_ns();
            let (sent0, recv0) = (load(&bytes.sent), load(&bytes.received));
            let wall0 = Instant::now();
            let t0 = wall0 + Duration::from_millis(2);
            let start = t0 + warmup;
            let end = start + window;
            let mut tasks = tokio::task::JoinSet::new();
            for (l, lane) in lanes.drain(..).enumerate() {
                let sched = Schedule {
                    t0,
                    start,
                    end,
                    rate,
                    lane: l,
                    lanes: n,
                };
                tasks.spawn(run_lane(
                    cfg.clone(),
                    per_node.clone(),
                    pacer.clone(),
                    bytes.clone(),
                    lane,
                    sched,
                ));
            }
            let mut stats = Vec::with_capacity(n);
            while let Some(r) = tasks.join_next().await {
                let (lane, s) =
                    r.map_err(|e| LoadError::Runtime(format!("a virtual user failed: {e}")))?;
                lanes.push(lane);
                stats.push(s);
            }
            let wall = wall0.elapsed().as_secs_f64();
            let cpu = process_usage().cpu_ns().saturating_sub(cpu0) as f64 / 1e9;
            let sent = load(&bytes.sent) - sent0;
            let recv = load(&bytes.received) - recv0;
            Ok::<_, LoadError>(summarize(
                &cfg,
                &per_node,
                rate,
                window,
                start,
                stats,
                cpu / wall,
                sent,
                recv,
            ))
        });
        self.lanes = lanes;
        self.h2 = h2;
        // Lanes are pushed back in completion order; keep them sorted by user for stability.
        out
    }
}

fn load(a: &std::sync::atomic::AtomicU64) -> u64 {
    a.load(std::sync::atomic::Ordering::Relaxed)
}

/// Opens the connections the lanes lack, to every node (before the schedule starts).
async fn prepare(
    cfg: &Arc<LoadConfig>,
    per_node: &[LoadConfig],
    bytes: &Arc<ByteCount>,
    lanes: &mut [Lane],
    h2: &mut Vec<Vec<Sender>>,
) -> Result<(), LoadError> {
    // One server that cannot be reached is an error; a node of a site that cannot (one
    // that died) is the step's to count: its requests fail to connect.
    let site = per_node.len() > 1;
    match cfg.protocol {
        Protocol::H2 => {
            h2.resize_with(per_node.len(), Vec::new);
            for (node, conns) in per_node.iter().zip(h2.iter_mut()) {
                conns.retain(|s| s.is_h2() && !s.is_closed());
                while conns.len() < cfg.connections.max(1) {
                    match connect(node, bytes.clone()).await {
                        Ok(c) => conns.push(c),
                        Err(_) if site => break,
                        Err(e) => return Err(e),
                    }
                }
            }
            for (i, lane) in lanes.iter_mut().enumerate() {
                for (k, conns) in h2.iter().enumerate() {
                    let alive = lane.senders[k].as_ref().is_some_and(|s| !s.is_closed());
                    if !alive && !conns.is_empty() {
                        lane.senders[k] = conns[i % conns.len()].share();
                    }
                }
            }
        }
        Protocol::Http1 => {
            let mut set = tokio::task::JoinSet::new();
            for (i, lane) in lanes.iter().enumerate() {
                for (k, node) in per_node.iter().enumerate() {
                    let alive = lane.senders[k].as_ref().is_some_and(|s| !s.is_closed());
                    if !alive {
                        let (node, bytes) = (node.clone(), bytes.clone());
                        set.spawn(async move { (i, k, connect(&node, bytes).await) });
                    }
                }
            }
            while let Some(r) = set.join_next().await {
                let (i, k, s) = r.map_err(|e| LoadError::Runtime(e.to_string()))?;
                match s {
                    Ok(s) => lanes[i].senders[k] = Some(s),
                    Err(_) if site => {}
                    Err(e) => return Err(e),
                }
            }
        }
    }
    Ok(())
}

#[derive(Clone, Copy)]
struct Schedule {
    t0: Instant,
    start: Instant,
    end: Instant,
    rate: f64,
    lane: usize,
    lanes: usize,
}

async fn run_lane(
    cfg: Arc<LoadConfig>,
    per_node: Arc<Vec<LoadConfig>>,
    pacer: Arc<Pacer>,
    bytes: Arc<ByteCount>,
    mut lane: Lane,
    s: Schedule,
) -> (Lane, LaneStats) {
    let mut st = LaneStats {
        latency: Some(histogram(MAX_NS)),
        lag: Some(histogram(MAX_NS)),
        nodes: vec![(0, 0, BTreeMap::new()); per_node.len()],
        ..LaneStats::default()
    };
    for i in 0u64.. {
        let slot = (s.lane as f64 + i as f64 * s.lanes as f64) / s.rate;
        let intended = s.t0 + Duration::from_secs_f64(slot);
        if intended >= s.end {
            break;
        }
        let now = Instant::now();
        if now < intended {
            pacer.sleep_until(intended).await;
            let lag = Instant::now().saturating_duration_since(intended);
            if let Some(h) = st.lag.as_mut() {
                let _ = h.record(ns(lag).max(1));
            }
        } else if i > 0 {
            st.late += 1;
        }
        st.sends += 1;
        let in_window = intended >= s.start;
        let kind = lane.vu.next_kind();
        let node = ((s.lane as u64 + lane.sent) % per_node.len().max(1) as u64) as usize;
        lane.sent += 1;
        let outcome = exchange(&cfg, &per_node[node], &bytes, &mut lane, node, kind).await;
        let done = Instant::now();
        let latency = done.saturating_duration_since(intended);
        if in_window {
            st.last_done = Some(st.last_done.map_or(done, |d| d.max(done)));
            st.requests += 1;
            st.nodes[node].0 += 1;
            *st.kinds.entry(kind).or_default() += 1;
            if let Some(h) = st.latency.as_mut() {
                let _ = h.record(ns(latency).clamp(1, MAX_NS));
            }
        }
        match outcome {
            Ok(()) => {
                st.answered += 1;
                if in_window {
                    st.ok += 1;
                    st.nodes[node].1 += 1;
                }
            }
            Err(kind) => {
                if in_window {
                    *st.nodes[node].2.entry(kind.clone()).or_default() += 1;
                    *st.errors.entry(kind).or_default() += 1;
                }
                lane.vu.restart_for(&cfg);
            }
        }
    }
    (lane, st)
}

/// One request to node `k` (`node` is the configuration aimed at it) and its answer;
/// `Err` is the error kind.
async fn exchange(
    cfg: &LoadConfig,
    node: &LoadConfig,
    bytes: &Arc<ByteCount>,
    lane: &mut Lane,
    k: usize,
    kind: Kind,
) -> Result<(), String> {
    if lane.senders[k].is_none() {
        lane.senders[k] = Some(
            connect(node, bytes.clone())
                .await
                .map_err(|_| "connect".to_owned())?,
        );
    }
    let Some(sender) = lane.senders[k].as_mut() else {
        return Err("connect".into());
    };
    let req = lane.vu.request(node, sender.is_h2());
    match tokio::time::timeout(cfg.request_timeout, sender.send(req)).await {
        Ok(Ok(answer)) => {
            let status = answer.status;
            lane.vu
                .answer(cfg, kind, &answer)
                .map_err(|_| status.as_u16().to_string())
        }
        Ok(Err(_)) => {
            lane.senders[k] = None;
            Err("connection".into())
        }
        Err(_) => {
            lane.senders[k] = None;
            Err("timeout".into())
        }
    }
}

fn ns(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

#[allow(clippy::too_many_arguments)]
fn summarize(
    cfg: &LoadConfig,
    per_node: &[LoadConfig],
    rate: f64,
    window: Duration,
    start: Instant,
    stats: Vec<LaneStats>,
    cores: f64,
    sent: u64,
    received: u64,
) -> StepResult {
    let mut latency = histogram(MAX_NS);
    let mut lag = histogram(MAX_NS);
    let mut r = StepResult {
        offered_rate: rate,
        window_s: window.as_secs_f64(),
        requests: 0,
        ok: 0,
        errors: 0,
        error_kinds: BTreeMap::new(),
        kinds: BTreeMap::new(),
        achieved_rate: 0.0,
        latency: Summary::EMPTY,
        latency_histogram: String::new(),
        lag: Summary::EMPTY,
        late_share: 0.0,
        generator_cores: cores,
        generator_threads: cfg.threads,
        bytes_sent_per_request: 0.0,
        bytes_received_per_request: 0.0,
        valid: true,
        invalid_reason: None,
        nodes: Vec::new(),
    };
    let mut nodes: Vec<NodeCounts> = per_node
        .iter()
        .map(|n| NodeCounts {
            url: n.target.url.clone(),
            ..NodeCounts::default()
        })
        .collect();
    let (mut late, mut sends, mut answered) = (0u64, 0u64, 0u64);
    let mut last_done = start + window;
    for s in stats {
        if let Some(h) = &s.latency {
            let _ = latency.add(h);
        }
        if let Some(h) = &s.lag {
            let _ = lag.add(h);
        }
        r.requests += s.requests;
        r.ok += s.ok;
        for (k, v) in s.errors {
            r.errors += v;
            *r.error_kinds.entry(k).or_default() += v;
        }
        for (k, v) in s.kinds {
            *r.kinds.entry(format!("{k:?}")).or_default() += v;
        }
        for (n, (requests, ok, errors)) in nodes.iter_mut().zip(s.nodes) {
            n.requests += requests;
            n.ok += ok;
            for (k, v) in errors {
                n.errors += v;
                *n.error_kinds.entry(k).or_default() += v;
            }
        }
        if let Some(d) = s.last_done {
            last_done = last_done.max(d);
        }
        late += s.late;
        sends += s.sends;
        answered += s.answered;
    }
    // Over the window, or until its last request was answered if that came later (an
    // overloaded server answers the window's requests long after it).
    r.achieved_rate = r.ok as f64
        / last_done
            .saturating_duration_since(start)
            .as_secs_f64()
            .max(1e-9);
    if nodes.len() > 1 {
        r.nodes = nodes;
    }
    r.latency = Summary::from_histogram(&latency, 1.0).unwrap_or(Summary::EMPTY);
    r.latency_histogram = encode_histogram(&latency);
    r.lag = Summary::from_histogram(&lag, 1.0).unwrap_or(Summary::EMPTY);
    r.late_share = if sends == 0 {
        0.0
    } else {
        late as f64 / sends as f64
    };
    if answered > 0 {
        r.bytes_sent_per_request = sent as f64 / answered as f64;
        r.bytes_received_per_request = received as f64 / answered as f64;
    }
    if let Some(why) = generator_limit(cfg, &r) {
        r.valid = false;
        r.invalid_reason = Some(why);
    }
    r
}

/// Share of its pinned cores above which the generator counts as saturated.
pub const MAX_BUSY_SHARE: f64 = 0.9;

/// Why a step measured the generator rather than the server, if it did: its pacer lagged
/// (p99 beyond [`LoadConfig::max_lag`]: sends left late because the generator could not
/// keep its schedule), or, when pinned, it kept its cores more than [`MAX_BUSY_SHARE`]
/// busy (then it also reads answers late, which lag does not show). A slow server does
/// not trip either: a lane whose answer comes after its next send time sends at once,
/// counted late but never as lag, and the generator idles while it waits.
pub fn generator_limit(cfg: &LoadConfig, r: &StepResult) -> Option<String> {
    let limit = ns(cfg.max_lag) as f64;
    if r.lag.samples > 0 && r.lag.p99_ns > limit {
        return Some(format!(
            "the generator lagged: p99 pacer lag {:.2} ms > {:.2} ms",
            r.lag.p99_ns / 1e6,
            limit / 1e6
        ));
    }
    if !cfg.cores.is_empty() {
        let capacity = cfg.cores.len().min(cfg.threads.max(1)) as f64;
        if r.generator_cores > MAX_BUSY_SHARE * capacity {
            return Some(format!(
                "the generator was saturated: {:.2} of its {capacity} pinned core(s) busy",
                r.generator_cores
            ));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::{Protocol, Target};
    use crate::net::Transport;

    fn step(cfg: &LoadConfig, lag_p99: Duration, cores: f64) -> StepResult {
        let start = Instant::now();
        let mut r = summarize(
            cfg,
            std::slice::from_ref(cfg),
            1000.0,
            Duration::from_secs(1),
            start,
            Vec::new(),
            cores,
            0,
            0,
        );
        r.lag.samples = 100;
        r.lag.p99_ns = ns(lag_p99) as f64;
        r
    }

    #[test]
    fn a_lagging_or_saturated_generator_makes_a_step_invalid() {
        let target = Target::parse("http://127.0.0.1:1").unwrap();
        let mut cfg = LoadConfig::new(target, Protocol::Http1, Transport::Cookie);
        let ms = Duration::from_millis;
        // Kept its schedule, half a core busy: the server's step.
        assert_eq!(generator_limit(&cfg, &step(&cfg, ms(1), 0.5)), None);
        // Lagged beyond max_lag, pinned or not.
        let why = generator_limit(&cfg, &step(&cfg, ms(3), 0.5)).unwrap();
        assert!(why.contains("lagged"), "{why}");
        // Every send late (no lag sample) but its one core busy: only a pinned generator
        // knows its capacity, and is then the limit.
        assert_eq!(generator_limit(&cfg, &step(&cfg, ms(0), 0.97)), None);
        cfg.cores = vec![0];
        let why = generator_limit(&cfg, &step(&cfg, ms(0), 0.97)).unwrap();
        assert!(why.contains("saturated"), "{why}");
        assert_eq!(generator_limit(&cfg, &step(&cfg, ms(1), 0.5)), None);
        // Two workers on two pinned cores: one busy core is half their capacity.
        cfg.cores = vec![0, 1];
        cfg.threads = 2;
        assert_eq!(generator_limit(&cfg, &step(&cfg, ms(0), 0.97)), None);
        assert!(generator_limit(&cfg, &step(&cfg, ms(0), 1.9)).is_some());
    }
}
