//! Workload `revoke`: how long a revoked token keeps being accepted, and what each way of
//! revoking costs on every request.
//!
//! K validator nodes (threads, `Options::validators`) validate the same token continuously;
//! at t0 node 0 revokes it. The revocation latency of a trial is the time from t0 until the
//! **last** node rejects the token. Every strategy runs `Options::trials` trials, each with a
//! fresh token:
//!
//! | strategy | nodes | window |
//! |---|---|---|
//! | `session-central` | one [`SessionScheme`] on a [`MemoryStore`], looked up on every request | none |
//! | `session-cache` | a [`CachedScheme`] of lifetime T per node in front of that scheme | T = `cache_ttl` |
//! | `jwt-expiry-only` | JWTs that cannot be revoked: accepted until `exp` (virtual clock) | the lifetime |
//! | `jwt-denylist-central` | one [`MemoryDenylist`] shared by all nodes | none |
//! | `jwt-denylist-pushed` | a [`PushedDenylist`] copy per node, revocations pushed over channels | none |
//! | `jwt-denylist-polled` | a [`PolledDenylist`] copy per node, refreshed from a central list every P | P = `poll_interval` |
//!
//! With a Redis store selected (`--store redis://...`), four more strategies put the shared
//! state on that server, each node with its own connection pool, as separate servers would:
//!
//! | strategy | nodes | window |
//! |---|---|---|
//! | `session-central-redis` | a [`SessionScheme`] per node on its own [`RedisStore`], all under one key prefix | none |
//! | `jwt-denylist-central-redis` | a [`RedisDenylist`] per node, all under one prefix, looked up on every request | none |
//! | `jwt-denylist-pushed-redis` | a local [`MemoryDenylist`] per node fed by Redis pub/sub; a revocation is stored (`SET`) and published | none |
//! | `jwt-denylist-polled-redis` | a [`PolledDenylist`] copy per node of a [`RedisDenylist`], replaced every P by [`RedisDenylist::fetch_all`] | P = `poll_interval` |
//!
//! They fail closed: a node whose lookup cannot reach Redis refuses with
//! [`Rejection::StoreUnavailable`]; a pushed copy refuses while its subscription is down
//! (it may be missing revocations); a polled copy refuses while its last poll failed (or,
//! should its poller stall, once it is older than 2 P + 5 s). A trial during which Redis is
//! unreachable fails and is counted in `errors`; the workload then waits for Redis (see
//! [`super::remote`]) and carries on, or ends with an error naming the server if it does
//! not come back.
//!
//! How a trial runs (wall-clock strategies):
//! - Each node validates, then sleeps [`REQUEST_GAP`] (the OS rounds it up to some tens of
//!   microseconds), so the nodes stay off the CPU between requests and background threads
//!   (pollers, push receivers) are not starved on small machines. Latencies below about
//!   0.1 ms are therefore at the resolution of the request rate, not of the strategy.
//! - t0 is taken just before `revoke`, and only once every node has accepted the token at
//!   least once. Each node records the [`Instant`] of its first rejection; a rejection
//!   before t0, or of an unexpected kind, makes the trial an error.
//! - Windowed strategies sample their whole window with independent per-node phases, as
//!   nodes of a real fleet have: with a cache, node i starts validating after a seeded
//!   delay uniform in [0, T) (so its entry is filled then) and the token is revoked T after
//!   the trial began, when every entry has a uniformly distributed remaining life; with
//!   polling, each node's poller has a seeded phase uniform in [0, P), and the token is
//!   revoked after a seeded sleep uniform in [0, P) once the nodes are warm. Either way the
//!   latency is the maximum over K nodes of a uniform delay in the window, so it grows
//!   toward the window as K grows.
//! - Strategies with a window run their trials in rounds of [`CONCURRENT_TRIALS`], each
//!   trial with its own token, its own per-node phases and its own revocation time: the
//!   trials are as independent as sequential ones (the pollers' phases are fixed per
//!   cluster either way), and the run waits out one window per round instead of one per
//!   trial. A node validates the round's tokens in turn, so it sees a revocation up to
//!   `CONCURRENT_TRIALS` validations later than alone: microseconds, against a window of
//!   a second. Strategies without a window run one trial per round, so their latencies
//!   (tens of microseconds) are not stretched.
//! - Every wait is bounded (10 × window + 5 s): a trial that does not converge is counted
//!   in `errors`, and after [`MAX_CONSECUTIVE_ERRORS`] rounds in a row with a failed trial
//!   the strategy's remaining trials are counted as errors too, so a broken strategy cannot
//!   hang the run.
//!
//! `jwt-expiry-only` runs on a [`ManualClock`] shared by the nodes: the token is issued at
//! virtual time t, revocation is attempted (and refused) at t + u with u seeded and uniform
//! in the lifetime, then the clock advances in 1 s steps, every node validating at each step,
//! until all reject. Its latency is virtual time (`clock: "virtual"`).
//!
//! All JWT strategies use HS256, the cheapest verification, so that the strategy's own cost
//! stands out, with one key shared by all nodes.
//!
//! The per-request cost of each strategy is the wall time of validating a valid token on one
//! of its nodes, on one thread, measured once every strategy's trials are over and no
//! validator runs: [`COST_ROUNDS`] short rounds interleave the strategies, and each keeps
//! its round with the lowest median (see `validate_costs` for why). `added_cost_ns` is its
//! median minus that of the family's baseline (`session-central`, `jwt-expiry-only`); for
//! the cache it is usually negative, since a hit skips the store (and its sliding-expiry
//! write). Differences of tens of nanoseconds are within the noise of a shared machine.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rand::RngExt;
use rand::rngs::StdRng;
use serde::{Deserialize, Serialize};

use super::remote::{Remote, check_valid, selected_redis};
use super::{Family, Options, Progress, SummaryRow, WorkloadError, WorkloadResult, claims};
use crate::claims::ClaimSet;
use crate::clock::{Clock, ManualClock, SystemClock};
use crate::denylist::{Denylist, MemoryDenylist, PolledDenylist, PushedDenylist, RedisDenylist};
use crate::measure::{Budget, Measurement, measure};
use crate::scheme::jwt::JwtKeys;
use crate::scheme::{
    CachedScheme, JwtAlg, JwtScheme, Rejection, RevocationStrategy, SchemeError, SessionConfig,
    SessionScheme, TokenScheme,
};
use crate::stats::Summary;
use crate::store::{MemoryStore, RedisStore, StoreError, StoreResult};

/// Pause of each validator node between two requests.
pub const REQUEST_GAP: Duration = Duration::from_micros(20);

/// Rounds with a failed trial in a row after which a strategy's remaining trials are given up.
pub const MAX_CONSECUTIVE_ERRORS: u64 = 3;

/// Trials run at once, each with its own token, by a strategy with a staleness window.
pub const CONCURRENT_TRIALS: usize = 10;

/// Interleaved rounds in which every strategy's `validate` cost is measured; the best counts.
pub const COST_ROUNDS: u32 = 5;

/// Random stream of the cost phase, after the strategies' own streams.
const COST_STREAM: u64 = 0x100;

/// Virtual time between two rounds of validation in `jwt-expiry-only`.
const VIRTUAL_STEP: Duration = Duration::from_secs(1);

/// The JWT algorithm of every JWT strategy.
const JWT_ALG: JwtAlg = JwtAlg::HS256;

/// Random stream of this workload (`Options::rng`); each strategy adds its index.
const RNG_STREAM: u64 = 0x7265_766f_6b65_0000;

/// Pause after a failed trial of a Redis strategy, beyond its window: time for subscribers
/// to subscribe again after Redis came back.
const REDIS_SETTLE: Duration = Duration::from_millis(250);

/// Connections of each Redis node's pool: one validator thread, plus node 0's coordinator.
const REDIS_NODE_POOL: usize = 2;

/// Results of the revoke workload: the on-disk schema of `revoke.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RevokeResults {
    /// Validator nodes (threads) per strategy.
    pub validators: usize,
    /// Trials requested per strategy.
    pub trials: usize,
    /// Per-node cache lifetime T of `session-cache`, in milliseconds.
    pub cache_ttl_ms: f64,
    /// Polling period P of `jwt-denylist-polled` (and `jwt-denylist-polled-redis`), in milliseconds.
    pub poll_interval_ms: f64,
    /// JWT lifetime (`exp - iat`), in seconds.
    pub jwt_lifetime_s: f64,
    /// Signature algorithm of every JWT strategy.
    pub jwt_alg: String,
    /// One entry per strategy run, sessions first.
    pub strategies: Vec<StrategyResult>,
}

/// Revocation latency and per-request cost of one strategy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StrategyResult {
    /// Strategy name, e.g. `session-cache` or `jwt-denylist-pushed`.
    pub strategy: String,
    /// Token family: `session` or `jwt`.
    pub family: String,
    /// Clock the latencies are measured on: `wall` (real time) or `virtual` (simulated time).
    pub clock: String,
    /// The strategy's staleness window in milliseconds (cache lifetime T, polling period P,
    /// or the JWT lifetime), or `None` when it has none.
    pub window_ms: Option<f64>,
    /// Summary of the revocation latencies, in nanoseconds.
    pub latency: Summary,
    /// Raw revocation latencies in nanoseconds, one per successful trial, in trial order.
    pub latencies_ns: Vec<f64>,
    /// Cost of one `validate` of a valid token under this strategy, on one thread: the best
    /// (lowest median) of `COST_ROUNDS` short rounds interleaved with the other strategies.
    pub validate_cost: Measurement,
    /// Median wall time of `validate_cost` minus that of the family baseline
    /// (`session-central` or `jwt-expiry-only`), in nanoseconds; 0 for the baselines.
    pub added_cost_ns: f64,
    /// Trials that failed (did not converge in time, rejected too early or for the wrong
    /// reason, or could not start).
    pub errors: u64,
}

impl RevokeResults {
    /// One line per strategy with failed trials (e.g. Redis unreachable during a trial), for
    /// the end of a run; empty when none failed.
    pub fn error_notes(&self) -> Vec<String> {
        self.strategies
            .iter()
            .filter(|s| s.errors > 0)
            .map(|s| {
                format!(
                    "revoke {}: {} of {} trials failed",
                    s.strategy, s.errors, self.trials
                )
            })
            .collect()
    }

    /// Headline figures for `summary.csv`: latency p50 / p99 / max in milliseconds and the
    /// added per-request cost in nanoseconds, per strategy.
    pub fn summary_rows(&self) -> Vec<SummaryRow> {
        let mut rows = Vec::new();
        for s in &self.strategies {
            let param = match s.window_ms {
                Some(w) => format!("clock={} window={}", s.clock, fmt_ms(w)),
                None => format!("clock={}", s.clock),
            };
            let row = |metric: &str, value: f64, unit: &str| {
                SummaryRow::new("revoke", &s.strategy, "", &param, metric, value, unit)
            };
            rows.push(row("latency_p50", s.latency.median_ns / 1e6, "ms"));
            rows.push(row("latency_p99", s.latency.p99_ns / 1e6, "ms"));
            rows.push(row("latency_max", s.latency.max_ns / 1e6, "ms"));
            rows.push(row("added_cost", s.added_cost_ns, "ns"));
        }
        rows
    }

    /// The result of strategy `name`, if it was run.
    pub fn strategy(&self, name: &str) -> Option<&StrategyResult> {
        self.strategies.iter().find(|s| s.strategy == name)
    }
}

/// `250ms`, `1s`, `900s`: a window for humans.
fn fmt_ms(ms: f64) -> String {
    if ms >= 1000.0 && (ms / 1000.0).fract() == 0.0 {
        format!("{}s", ms / 1000.0)
    } else {
        format!("{ms}ms")
    }
}

/// The six ways of revoking, in report order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Strategy {
    /// Sessions in one central store, looked up on every request.
    SessionCentral,
    /// Sessions behind a per-node cache of lifetime T.
    SessionCache,
    /// JWTs without revocation: valid until `exp`.
    JwtExpiryOnly,
    /// JWTs checked against one shared denylist on every request.
    JwtDenylistCentral,
    /// JWTs checked against per-node denylist copies kept in sync by push.
    JwtDenylistPushed,
    /// JWTs checked against per-node denylist copies refreshed by polling every P.
    JwtDenylistPolled,
    /// Sessions in Redis, looked up on every request by every node.
    SessionCentralRedis,
    /// JWTs checked against one denylist in Redis on every request.
    JwtDenylistCentralRedis,
    /// JWTs checked against per-node copies fed by Redis pub/sub.
    JwtDenylistPushedRedis,
    /// JWTs checked against per-node copies refreshed from Redis every P.
    JwtDenylistPolledRedis,
}

impl Strategy {
    /// The in-process strategies, in report order: run whatever the stores (see [`Strategy::EVERY`]).
    pub const ALL: [Strategy; 6] = [
        Strategy::SessionCentral,
        Strategy::SessionCache,
        Strategy::JwtExpiryOnly,
        Strategy::JwtDenylistCentral,
        Strategy::JwtDenylistPushed,
        Strategy::JwtDenylistPolled,
    ];

    /// The strategies whose shared state is on a Redis server, in report order; run when
    /// a Redis store is selected.
    pub const REDIS: [Strategy; 4] = [
        Strategy::SessionCentralRedis,
        Strategy::JwtDenylistCentralRedis,
        Strategy::JwtDenylistPushedRedis,
        Strategy::JwtDenylistPolledRedis,
    ];

    /// Every strategy, in-process and Redis, in report order (sessions first).
    pub const EVERY: [Strategy; 10] = [
        Strategy::SessionCentral,
        Strategy::SessionCache,
        Strategy::SessionCentralRedis,
        Strategy::JwtExpiryOnly,
        Strategy::JwtDenylistCentral,
        Strategy::JwtDenylistPushed,
        Strategy::JwtDenylistPolled,
        Strategy::JwtDenylistCentralRedis,
        Strategy::JwtDenylistPushedRedis,
        Strategy::JwtDenylistPolledRedis,
    ];

    /// True when the strategy's shared state is on a Redis server.
    pub fn is_redis(self) -> bool {
        Strategy::REDIS.contains(&self)
    }

    /// Name in results.
    pub fn name(self) -> &'static str {
        match self {
            Strategy::SessionCentral => "session-central",
            Strategy::SessionCache => "session-cache",
            Strategy::JwtExpiryOnly => "jwt-expiry-only",
            Strategy::JwtDenylistCentral => "jwt-denylist-central",
            Strategy::JwtDenylistPushed => "jwt-denylist-pushed",
            Strategy::JwtDenylistPolled => "jwt-denylist-polled",
            Strategy::SessionCentralRedis => "session-central-redis",
            Strategy::JwtDenylistCentralRedis => "jwt-denylist-central-redis",
            Strategy::JwtDenylistPushedRedis => "jwt-denylist-pushed-redis",
            Strategy::JwtDenylistPolledRedis => "jwt-denylist-polled-redis",
        }
    }

    /// Token family.
    pub fn family(self) -> Family {
        match self {
            Strategy::SessionCentral | Strategy::SessionCache | Strategy::SessionCentralRedis => {
                Family::Session
            }
            _ => Family::Jwt,
        }
    }

    /// The strategy whose per-request cost the others of its family are compared with.
    pub fn baseline(self) -> Strategy {
        match self.family() {
            Family::Session => Strategy::SessionCentral,
            Family::Jwt => Strategy::JwtExpiryOnly,
        }
    }

    /// The refusal a node must give once the revocation has reached it.
    fn expected(self, r: &Rejection) -> bool {
        match self {
            Strategy::SessionCentral | Strategy::SessionCache | Strategy::SessionCentralRedis => {
                *r == Rejection::UnknownSession
            }
            Strategy::JwtExpiryOnly => *r == Rejection::Expired,
            _ => *r == Rejection::Revoked,
        }
    }
}

/// Runs every selected strategy: `opts.trials` revocations each, plus the per-request cost.
pub fn run(opts: &Options, progress: &dyn Progress) -> WorkloadResult<RevokeResults> {
    let redis = selected_redis(opts);
    let strategies: Vec<Strategy> = Strategy::EVERY
        .into_iter()
        .filter(|s| opts.families.contains(&s.family()) && (redis.is_some() || !s.is_redis()))
        .collect();
    let k = opts.validators.max(1);
    let keys = if strategies.iter().any(|s| s.family() == Family::Jwt) {
        Some(Arc::new(JwtKeys::generate(JWT_ALG)?))
    } else {
        None
    };

    progress.start("revoke", strategies.len() as u64);
    let mut ran = Vec::with_capacity(strategies.len());
    for (index, &strategy) in strategies.iter().enumerate() {
        let mut rng = opts.rng(RNG_STREAM + index as u64);
        ran.push(match (strategy, &keys) {
            (Strategy::JwtExpiryOnly, Some(keys)) => run_expiry_only(opts, keys, k, &mut rng),
            (_, keys) => {
                let remote = match (strategy.is_redis(), redis) {
                    (true, Some(url)) => Remote::for_url(url),
                    _ => Remote::none(),
                };
                let cluster = remote
                    .retry(&format!("revoke {}: connecting", strategy.name()), || {
                        Cluster::build(strategy, opts, keys.as_ref(), redis, k, &mut rng)
                    })?;
                run_wall(strategy, &cluster, opts, &remote, &mut rng)?
            }
        });
        progress.step(strategy.name());
    }
    let probes: Vec<&dyn TokenScheme> = ran.iter().map(|r| r.probe.as_ref()).collect();
    let cost_remote = match redis {
        Some(url) if ran.iter().any(|r| r.strategy.is_redis()) => Remote::for_url(url),
        _ => Remote::none(),
    };
    let costs = cost_remote.retry("revoke: measuring validate costs", || {
        validate_costs(&probes, opts, &mut opts.rng(RNG_STREAM + COST_STREAM))
    })?;
    progress.finish();

    let medians: Vec<(Strategy, f64)> = ran
        .iter()
        .zip(&costs)
        .map(|(r, c)| (r.strategy, c.wall.median_ns))
        .collect();
    let median = |s: Strategy| medians.iter().find(|(x, _)| *x == s).map(|(_, m)| *m);
    let results = ran
        .into_iter()
        .zip(costs)
        .map(|(r, cost)| {
            // Against the family baseline; a strategy without one (not run) adds nothing.
            let added = median(r.strategy.baseline()).map_or(0.0, |b| cost.wall.median_ns - b);
            StrategyResult {
                strategy: r.strategy.name().into(),
                family: match r.strategy.family() {
                    Family::Session => "session",
                    Family::Jwt => "jwt",
                }
                .into(),
                clock: r.clock.into(),
                window_ms: r.window.map(|w| w.as_secs_f64() * 1e3),
                latency: Summary::from_samples(&r.latencies_ns).unwrap_or(Summary::EMPTY),
                latencies_ns: r.latencies_ns,
                validate_cost: cost,
                added_cost_ns: added,
                errors: r.errors,
            }
        })
        .collect();

    Ok(RevokeResults {
        validators: k,
        trials: opts.trials,
        cache_ttl_ms: opts.cache_ttl.as_secs_f64() * 1e3,
        poll_interval_ms: opts.poll_interval.as_secs_f64() * 1e3,
        jwt_lifetime_s: opts.jwt_lifetime.as_secs_f64(),
        jwt_alg: JWT_ALG.name().to_owned(),
        strategies: results,
    })
}

/// A uniform draw in [0, window).
fn uniform(rng: &mut StdRng, window: Duration) -> Duration {
    let nanos = u64::try_from(window.as_nanos()).unwrap_or(u64::MAX);
    if nanos == 0 {
        Duration::ZERO
    } else {
        Duration::from_nanos(rng.random_range(0..nanos))
    }
}

/// What the trials of one strategy left: latencies, failures, and a node to measure.
struct Ran {
    strategy: Strategy,
    /// `wall` or `virtual`.
    clock: &'static str,
    window: Option<Duration>,
    latencies_ns: Vec<f64>,
    errors: u64,
    /// A node of this strategy, on the system clock, whose `validate` cost is measured.
    probe: Arc<dyn TokenScheme>,
}

/// Per-request `validate` cost of a fresh valid token on each node of `probes`, measured
/// in [`COST_ROUNDS`] interleaved rounds of an equal share of the budget each (the starting
/// node rotating), keeping for each node the round with the lowest median. On a shared
/// machine the cost of the same code jumps between levels for hundreds of milliseconds at
/// a time (a busy sibling hyperthread, frequency changes): one long measurement per
/// strategy would compare strategies measured at different levels, while the best of
/// several short interleaved rounds compares every strategy at its least disturbed.
fn validate_costs(
    probes: &[&dyn TokenScheme],
    opts: &Options,
    rng: &mut StdRng,
) -> WorkloadResult<Vec<Measurement>> {
    let tokens = probes
        .iter()
        .map(|node| {
            let token = node.issue(&claims(ClaimSet::Typical, rng))?;
            check_valid(*node, &token)?;
            Ok(token)
        })
        .collect::<WorkloadResult<Vec<_>>>()?;
    let budget = Budget {
        warmup: opts.budget.warmup / COST_ROUNDS,
        measure: opts.budget.measure / COST_ROUNDS,
        batch: opts.budget.batch,
    };
    let n = probes.len();
    let mut rounds: Vec<Vec<Measurement>> = vec![Vec::new(); n];
    for round in 0..COST_ROUNDS as usize {
        for j in 0..n {
            let i = (j + round) % n;
            let (node, token) = (probes[i], tokens[i].as_str());
            rounds[i].push(measure(budget, || node.validate(token)));
        }
    }
    for (node, token) in probes.iter().zip(&tokens) {
        // Still valid: the figures are the cost of accepting, not of refusing.
        check_valid(*node, token)?;
    }
    Ok(rounds
        .into_iter()
        .filter_map(|ms| {
            ms.into_iter()
                .min_by(|a, b| a.wall.median_ns.total_cmp(&b.wall.median_ns))
        })
        .collect())
}

fn broken(strategy: Strategy, what: impl Into<String>) -> WorkloadError {
    WorkloadError::Broken {
        scheme: strategy.name().into(),
        what: what.into(),
    }
}

/// The validator nodes of one wall-clock strategy.
struct Cluster {
    /// One scheme per node; node 0 also issues and revokes.
    nodes: Vec<Arc<dyn TokenScheme>>,
    /// The staleness window, if the strategy has one.
    window: Option<Duration>,
    /// Node i starts validating a trial's token after a delay uniform in [0, stagger).
    stagger: Option<Duration>,
    /// Once warm, sleep uniform in [0, phase) before revoking.
    phase: Option<Duration>,
}

impl Cluster {
    fn build(
        strategy: Strategy,
        opts: &Options,
        keys: Option<&Arc<JwtKeys>>,
        redis: Option<&str>,
        k: usize,
        rng: &mut StdRng,
    ) -> WorkloadResult<Cluster> {
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let session = || -> Arc<dyn TokenScheme> {
            Arc::new(SessionScheme::new(
                MemoryStore::new(),
                SessionConfig::default(),
                clock.clone(),
            ))
        };
        let jwt = |revocation: RevocationStrategy| -> WorkloadResult<Arc<dyn TokenScheme>> {
            let keys = keys.ok_or_else(|| broken(strategy, "no JWT keys"))?;
            Ok(Arc::new(JwtScheme::with_keys(
                keys.clone(),
                opts.jwt_config(),
                revocation,
                clock.clone(),
            )))
        };
        let spawn_err = |e: std::io::Error| broken(strategy, format!("cannot start thread: {e}"));
        let plain = |nodes| Cluster {
            nodes,
            window: None,
            stagger: None,
            phase: None,
        };
        Ok(match strategy {
            Strategy::SessionCentral => plain(vec![session(); k]),
            Strategy::SessionCache => {
                let central = session();
                let ttl = opts.cache_ttl;
                Cluster {
                    nodes: (0..k)
                        .map(|_| {
                            Arc::new(CachedScheme::new(central.clone(), ttl, clock.clone()))
                                as Arc<dyn TokenScheme>
                        })
                        .collect(),
                    window: Some(ttl),
                    stagger: Some(ttl),
                    phase: None,
                }
            }
            Strategy::JwtDenylistCentral => {
                let node = jwt(RevocationStrategy::CentralDenylist(Arc::new(
                    MemoryDenylist::new(),
                )))?;
                plain(vec![node; k])
            }
            Strategy::JwtDenylistPushed => plain(
                PushedDenylist::cluster(k)
                    .map_err(spawn_err)?
                    .into_iter()
                    .map(|d| jwt(RevocationStrategy::CentralDenylist(Arc::new(d))))
                    .collect::<WorkloadResult<_>>()?,
            ),
            Strategy::JwtDenylistPolled => {
                let central = Arc::new(MemoryDenylist::new());
                let p = opts.poll_interval;
                let mut nodes = Vec::with_capacity(k);
                for _ in 0..k {
                    let first = uniform(rng, p);
                    let d =
                        PolledDenylist::with_phase(central.clone(), p, first).map_err(spawn_err)?;
                    nodes.push(jwt(RevocationStrategy::CentralDenylist(Arc::new(d)))?);
                }
                Cluster {
                    nodes,
                    window: Some(p),
                    stagger: None,
                    phase: Some(p),
                }
            }
            Strategy::JwtExpiryOnly => {
                return Err(broken(
                    strategy,
                    "runs on the virtual clock, not as a cluster",
                ));
            }
            Strategy::SessionCentralRedis
            | Strategy::JwtDenylistCentralRedis
            | Strategy::JwtDenylistPushedRedis
            | Strategy::JwtDenylistPolledRedis => {
                let url = redis.ok_or_else(|| broken(strategy, "no Redis store selected"))?;
                return redis_cluster(strategy, opts, url, k, &jwt, rng);
            }
        })
    }
}

/// The nodes of a Redis strategy: node 0 owns the key prefix (and deletes it when dropped),
/// the others connect to the same prefix with pools of their own.
fn redis_cluster(
    strategy: Strategy,
    opts: &Options,
    url: &str,
    k: usize,
    jwt: &dyn Fn(RevocationStrategy) -> WorkloadResult<Arc<dyn TokenScheme>>,
    rng: &mut StdRng,
) -> WorkloadResult<Cluster> {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let plain = |nodes| Cluster {
        nodes,
        window: None,
        stagger: None,
        phase: None,
    };
    // Denylists for k nodes sharing one prefix; the first cleans it up.
    let denylists = || -> WorkloadResult<Vec<RedisDenylist>> {
        let first = RedisDenylist::connect(url)?;
        let prefix = first.prefix().to_owned();
        let mut out = vec![first];
        for _ in 1..k {
            out.push(RedisDenylist::connect_with_prefix(url, &prefix)?.with_cleanup_on_drop(false));
        }
        Ok(out)
    };
    Ok(match strategy {
        Strategy::SessionCentralRedis => {
            let first = RedisStore::connect(url)?.with_pool_size(REDIS_NODE_POOL);
            let prefix = first.prefix().to_owned();
            let mut stores = vec![first];
            for _ in 1..k {
                stores.push(
                    RedisStore::connect_with_prefix(url, &prefix)?
                        .with_pool_size(REDIS_NODE_POOL)
                        .with_cleanup_on_drop(false),
                );
            }
            plain(
                stores
                    .into_iter()
                    .map(|store| {
                        Arc::new(SessionScheme::new(
                            store,
                            SessionConfig::default(),
                            clock.clone(),
                        )) as Arc<dyn TokenScheme>
                    })
                    .collect(),
            )
        }
        Strategy::JwtDenylistCentralRedis => plain(
            denylists()?
                .into_iter()
                .map(|d| jwt(RevocationStrategy::CentralDenylist(Arc::new(d))))
                .collect::<WorkloadResult<_>>()?,
        ),
        Strategy::JwtDenylistPushedRedis => {
            let mut nodes = Vec::with_capacity(k);
            for central in denylists()? {
                let local = Arc::new(MemoryDenylist::new());
                let subscription = central.subscribe(local.clone())?;
                let node = RedisPushed {
                    subscription,
                    connected: |s| s.is_connected(),
                    central,
                    local,
                };
                nodes.push(jwt(RevocationStrategy::CentralDenylist(Arc::new(node)))?);
            }
            plain(nodes)
        }
        Strategy::JwtDenylistPolledRedis => {
            let p = opts.poll_interval;
            let mut nodes = Vec::with_capacity(k);
            for central in denylists()? {
                let first = uniform(rng, p);
                let node = PolledDenylist::with_phase(Arc::new(central), p, first)
                    .map_err(|e| broken(strategy, format!("cannot start poller: {e}")))?;
                // The first copy must be there before any trial.
                node.refresh()?;
                nodes.push(jwt(RevocationStrategy::CentralDenylist(Arc::new(node)))?);
            }
            Cluster {
                nodes,
                window: Some(p),
                stagger: None,
                phase: Some(p),
            }
        }
        _ => return Err(broken(strategy, "not a Redis strategy")),
    })
}

/// One node's copy of a denylist pushed through Redis pub/sub: a revocation is stored in
/// Redis (for late and reconnecting subscribers), applied locally and published; every
/// node's subscription applies it to that node's copy. Lookups read the local copy only,
/// and fail closed while the subscription is down (the copy may be missing revocations).
struct RedisPushed<S> {
    /// The node's subscription (`Subscription`, stopped when dropped).
    subscription: S,
    /// Whether `subscription` is receiving right now.
    connected: fn(&S) -> bool,
    central: RedisDenylist,
    local: Arc<MemoryDenylist>,
}

impl<S: Send + Sync + 'static> Denylist for RedisPushed<S> {
    fn name(&self) -> &'static str {
        "pushed-redis"
    }

    fn insert(&self, jti: &str, expires_at_secs: u64) -> StoreResult<()> {
        self.central.insert(jti, expires_at_secs)?;
        self.local.insert(jti, expires_at_secs)?;
        self.central.publish(jti, expires_at_secs)?;
        Ok(())
    }

    fn contains(&self, jti: &str, now_secs: u64) -> StoreResult<bool> {
        if !(self.connected)(&self.subscription) {
            return Err(StoreError::Unavailable(format!(
                "redis {}: not subscribed to {}, the local denylist copy may be stale",
                self.central.url(),
                self.central.channel()
            )));
        }
        self.local.contains(jti, now_secs)
    }

    fn len(&self) -> usize {
        self.local.len()
    }
}

/// One revocation trial as the validator nodes see it: its token, and what each node saw.
struct Trial {
    token: String,
    /// When each node starts validating.
    starts: Vec<Instant>,
    /// Each node's first acceptance.
    first_ok: Vec<OnceLock<Instant>>,
    /// Each node's first refusal, and why.
    first_reject: Vec<OnceLock<(Instant, Rejection)>>,
}

impl Trial {
    fn warm(&self) -> bool {
        self.first_ok.iter().all(|c| c.get().is_some())
    }

    fn any_rejected(&self) -> Option<&Rejection> {
        self.first_reject
            .iter()
            .find_map(|c| c.get().map(|(_, r)| r))
    }

    fn rejected(&self) -> usize {
        self.first_reject
            .iter()
            .filter(|c| c.get().is_some())
            .count()
    }

    /// The latency once revoked at `t0`: until the last node refused, for the expected
    /// reason, none before `t0`.
    fn latency(&self, strategy: Strategy, t0: Instant) -> Result<f64, String> {
        let mut last = t0;
        for cell in &self.first_reject {
            let (at, r) = cell.get().ok_or("a node's refusal vanished")?;
            if *at < t0 {
                return Err(format!("refused before revocation: {r}"));
            }
            if !strategy.expected(r) {
                return Err(format!("refused for the wrong reason: {r}"));
            }
            last = last.max(*at);
        }
        Ok((last - t0).as_nanos() as f64)
    }
}

/// Trials that run at the same time on the same nodes, each with its own token.
struct Round {
    trials: Vec<Trial>,
    /// Set by the coordinator when the round is over (or abandoned).
    stop: AtomicBool,
}

/// What the coordinator posts for the nodes.
#[derive(Default)]
struct BoardState {
    generation: u64,
    round: Option<Arc<Round>>,
    shutdown: bool,
}

#[derive(Default)]
struct Board {
    state: Mutex<BoardState>,
    changed: Condvar,
}

impl Board {
    fn lock(&self) -> MutexGuard<'_, BoardState> {
        // The state is plain data that stays consistent even if a holder panicked.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn post(&self, round: Arc<Round>) {
        let mut s = self.lock();
        s.generation += 1;
        s.round = Some(round);
        self.changed.notify_all();
    }

    fn shut_down(&self) {
        self.lock().shutdown = true;
        self.changed.notify_all();
    }

    /// Blocks until a round newer than `seen` is posted; `None` on shutdown.
    fn next(&self, seen: &mut u64) -> Option<Arc<Round>> {
        let mut s = self.lock();
        loop {
            if s.shutdown {
                return None;
            }
            if s.generation != *seen
                && let Some(r) = &s.round
            {
                *seen = s.generation;
                return Some(r.clone());
            }
            s = self.changed.wait(s).unwrap_or_else(|e| e.into_inner());
        }
    }
}

/// A validator node: for each posted round, validates every token whose start has come,
/// in turn, until each is refused.
fn validator(i: usize, node: &dyn TokenScheme, board: &Board) {
    let mut seen = 0;
    while let Some(round) = board.next(&mut seen) {
        let mut pending: Vec<&Trial> = round.trials.iter().collect();
        while !pending.is_empty() && !round.stop.load(Ordering::SeqCst) {
            let now = Instant::now();
            let mut validated = false;
            pending.retain(|trial| {
                if now < trial.starts[i] {
                    return true;
                }
                validated = true;
                match node.validate(&trial.token) {
                    Ok(_) => {
                        if trial.first_ok[i].get().is_none() {
                            let _ = trial.first_ok[i].set(Instant::now());
                        }
                        true
                    }
                    Err(r) => {
                        let _ = trial.first_reject[i].set((Instant::now(), r));
                        false
                    }
                }
            });
            if validated {
                std::thread::sleep(REQUEST_GAP);
            } else if let Some(next) = pending.iter().map(|t| t.starts[i]).min() {
                // Short naps so an abandoned round releases the node quickly.
                let wait = next.saturating_duration_since(now);
                std::thread::sleep(wait.min(Duration::from_millis(2)));
            }
        }
    }
}

/// Polls `done` until it holds or `deadline` passes; true when it held.
fn wait_until(deadline: Instant, mut done: impl FnMut() -> bool) -> bool {
    loop {
        if done() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_micros(200));
    }
}

fn sleep_until(at: Instant) {
    let now = Instant::now();
    if at > now {
        std::thread::sleep(at - now);
    }
}

/// Trials per round of `cluster`: [`CONCURRENT_TRIALS`] when it has a staleness window
/// (so the rounds overlap their waits), else one.
fn round_size(cluster: &Cluster) -> usize {
    if cluster.window.is_some() {
        CONCURRENT_TRIALS
    } else {
        1
    }
}

/// Runs the trials of a wall-clock strategy on its cluster's nodes, in rounds.
fn run_wall(
    strategy: Strategy,
    cluster: &Cluster,
    opts: &Options,
    remote: &Remote,
    rng: &mut StdRng,
) -> WorkloadResult<Ran> {
    let k = cluster.nodes.len();
    let board = Arc::new(Board::default());
    let (exited_tx, exited_rx) = mpsc::channel::<usize>();
    let mut handles: Vec<Option<JoinHandle<()>>> = Vec::with_capacity(k);
    let mut spawn_error = None;
    for (i, node) in cluster.nodes.iter().enumerate() {
        let (node, board, exited) = (node.clone(), board.clone(), exited_tx.clone());
        let spawned = std::thread::Builder::new()
            .name(format!("revoke-node-{i}"))
            .spawn(move || {
                validator(i, node.as_ref(), &board);
                let _ = exited.send(i);
            });
        match spawned {
            Ok(h) => handles.push(Some(h)),
            Err(e) => {
                spawn_error = Some(broken(strategy, format!("cannot start node {i}: {e}")));
                break;
            }
        }
    }

    let window = cluster.window.unwrap_or(Duration::ZERO);
    let bound = window * 10 + Duration::from_secs(5);
    let mut latencies = Vec::with_capacity(opts.trials);
    let mut errors = 0u64;
    let mut fatal = None;
    if spawn_error.is_none() {
        let (mut done, mut failed_rounds) = (0, 0u64);
        while done < opts.trials {
            if failed_rounds >= MAX_CONSECUTIVE_ERRORS {
                errors += (opts.trials - done) as u64;
                break;
            }
            let m = round_size(cluster).min(opts.trials - done);
            done += m;
            let mut why = None;
            for outcome in wall_round(strategy, cluster, &board, bound, m, rng) {
                match outcome {
                    Ok(ns) => latencies.push(ns),
                    Err(e) => {
                        errors += 1;
                        why.get_or_insert(e);
                    }
                }
            }
            let Some(why) = why else {
                failed_rounds = 0;
                continue;
            };
            failed_rounds += 1;
            if remote.is_remote() {
                // A server that went away: wait for it, then carry on with the trials.
                if !remote.reachable() {
                    match remote.ensure_back(&format!("revoke {}", strategy.name()), &why) {
                        Ok(()) => failed_rounds = 0,
                        Err(e) => {
                            fatal = Some(e);
                            break;
                        }
                    }
                }
                // Subscribers dial again every 100 ms and pollers refresh within P:
                // give them that long before the next round.
                std::thread::sleep(window + REDIS_SETTLE);
            }
        }
    }

    // Stop the nodes; one that does not exit in time is left detached and counted.
    board.shut_down();
    let deadline = Instant::now() + bound;
    let mut exited = 0;
    while exited < handles.len() {
        let left = deadline.saturating_duration_since(Instant::now());
        match exited_rx.recv_timeout(left) {
            Ok(i) => {
                if let Some(h) = handles[i].take() {
                    let _ = h.join();
                }
                exited += 1;
            }
            Err(_) => {
                errors += (handles.len() - exited) as u64;
                break;
            }
        }
    }
    if let Some(e) = spawn_error.or(fatal) {
        return Err(e);
    }

    Ok(Ran {
        strategy,
        clock: "wall",
        window: cluster.window,
        latencies_ns: latencies,
        errors,
        probe: cluster.nodes[0].clone(),
    })
}

/// One round of `m` wall-clock trials: fresh tokens, nodes warm, each token revoked on
/// node 0 at its own time, then waiting for every node to refuse each. Returns each
/// trial's latency in nanoseconds, or why it failed.
fn wall_round(
    strategy: Strategy,
    cluster: &Cluster,
    board: &Board,
    bound: Duration,
    m: usize,
    rng: &mut StdRng,
) -> Vec<Result<f64, String>> {
    let k = cluster.nodes.len();
    let issuer = cluster.nodes[0].as_ref();
    let mut tokens = Vec::with_capacity(m);
    for _ in 0..m {
        match issuer.issue(&claims(ClaimSet::Typical, rng)) {
            Ok(t) => tokens.push(t),
            Err(e) => return vec![Err(format!("issue: {e}")); m],
        }
    }
    let started = Instant::now();
    let trials = tokens
        .into_iter()
        .map(|token| Trial {
            token,
            starts: (0..k)
                .map(|_| started + cluster.stagger.map_or(Duration::ZERO, |w| uniform(rng, w)))
                .collect(),
            first_ok: (0..k).map(|_| OnceLock::new()).collect(),
            first_reject: (0..k).map(|_| OnceLock::new()).collect(),
        })
        .collect();
    let round = Arc::new(Round {
        trials,
        stop: AtomicBool::new(false),
    });
    board.post(round.clone());
    let outcome = drive(strategy, cluster, &round, started, bound, rng);
    round.stop.store(true, Ordering::SeqCst);
    outcome
}

fn drive(
    strategy: Strategy,
    cluster: &Cluster,
    round: &Round,
    started: Instant,
    bound: Duration,
    rng: &mut StdRng,
) -> Vec<Result<f64, String>> {
    let k = cluster.nodes.len();
    let trials = &round.trials;
    let settled = wait_until(started + bound, || {
        trials
            .iter()
            .all(|t| t.warm() || t.any_rejected().is_some())
    });
    // With staggered starts every node's cache entry has a uniform remaining life at
    // `started + stagger`; otherwise sample the phase against the pollers by sleeping.
    let warm_at = Instant::now();
    let mut plan: Vec<(Instant, usize)> = (0..trials.len())
        .map(|j| {
            let at = match (cluster.stagger, cluster.phase) {
                (Some(w), _) => started + w,
                (None, Some(p)) => warm_at + uniform(rng, p),
                (None, None) => warm_at,
            };
            (at, j)
        })
        .collect();
    plan.sort();

    let mut t0s: Vec<Result<Instant, String>> = vec![Err(String::new()); trials.len()];
    for (at, j) in plan {
        let trial = &trials[j];
        t0s[j] = if let Some(r) = trial.any_rejected() {
            Err(format!("refused before revocation: {r}"))
        } else if !settled && !trial.warm() {
            Err(format!("nodes not warm within {bound:?}"))
        } else {
            sleep_until(at);
            let t0 = Instant::now();
            match cluster.nodes[0].revoke(&trial.token) {
                Ok(()) => Ok(t0),
                Err(e) => Err(format!("revoke: {e}")),
            }
        };
    }
    let last_t0 = t0s
        .iter()
        .filter_map(|t| t.as_ref().ok())
        .max()
        .copied()
        .unwrap_or_else(Instant::now);
    wait_until(last_t0 + bound, || {
        trials
            .iter()
            .zip(&t0s)
            .all(|(t, t0)| t0.is_err() || t.rejected() == k)
    });
    trials
        .iter()
        .zip(t0s)
        .map(|(trial, t0)| {
            let t0 = t0?;
            if trial.rejected() < k {
                return Err(format!(
                    "{} of {k} nodes refused within {bound:?}",
                    trial.rejected()
                ));
            }
            trial.latency(strategy, t0)
        })
        .collect()
}

/// `jwt-expiry-only` on a virtual clock: the window is the token's remaining lifetime.
fn run_expiry_only(opts: &Options, keys: &Arc<JwtKeys>, k: usize, rng: &mut StdRng) -> Ran {
    let config = opts.jwt_config();

    let clock = Arc::new(ManualClock::starting_now());
    let nodes: Vec<JwtScheme> = (0..k)
        .map(|_| {
            JwtScheme::with_keys(
                keys.clone(),
                config.clone(),
                RevocationStrategy::None,
                clock.clone(),
            )
        })
        .collect();
    // `exp` is `iat` plus whole seconds.
    let lifetime = Duration::from_secs(config.lifetime.as_secs());
    let max_steps = lifetime.as_secs().saturating_add(2);

    let mut latencies = Vec::with_capacity(opts.trials);
    let mut errors = 0u64;
    let mut in_a_row = 0u64;
    for done in 0..opts.trials {
        if in_a_row >= MAX_CONSECUTIVE_ERRORS {
            errors += (opts.trials - done) as u64;
            break;
        }
        match virtual_trial(&nodes, &clock, lifetime, max_steps, rng) {
            Ok(ns) => {
                latencies.push(ns);
                in_a_row = 0;
            }
            Err(_) => {
                errors += 1;
                in_a_row += 1;
            }
        }
    }

    Ran {
        strategy: Strategy::JwtExpiryOnly,
        clock: "virtual",
        window: Some(lifetime),
        latencies_ns: latencies,
        errors,
        // The cost is measured on the system clock, like every other strategy's.
        probe: Arc::new(JwtScheme::with_keys(
            keys.clone(),
            config,
            RevocationStrategy::None,
            Arc::new(SystemClock),
        )),
    }
}

fn virtual_trial(
    nodes: &[JwtScheme],
    clock: &ManualClock,
    lifetime: Duration,
    max_steps: u64,
    rng: &mut StdRng,
) -> Result<f64, String> {
    // Issue on a whole second, so `iat` is exactly the virtual issue time.
    clock.set(Duration::from_secs(clock.now_secs().saturating_add(1)));
    let token = nodes[0]
        .issue(&claims(ClaimSet::Typical, rng))
        .map_err(|e| format!("issue: {e}"))?;
    for node in nodes {
        node.validate(&token)
            .map_err(|r| format!("refused at issue: {r}"))?;
    }
    clock.advance(uniform(rng, lifetime));
    match nodes[0].revoke(&token) {
        Err(SchemeError::RevocationUnsupported) => {}
        other => return Err(format!("revoke should be impossible, got {other:?}")),
    }
    let t0 = clock.now();
    let mut refused: Vec<Option<Duration>> = vec![None; nodes.len()];
    for _ in 0..max_steps {
        clock.advance(VIRTUAL_STEP);
        for (node, cell) in nodes.iter().zip(refused.iter_mut()) {
            if cell.is_none() {
                match node.validate(&token) {
                    Ok(_) => {}
                    Err(Rejection::Expired) => *cell = Some(clock.now()),
                    Err(r) => return Err(format!("refused for the wrong reason: {r}")),
                }
            }
        }
        if refused.iter().all(Option::is_some) {
            let last = refused.iter().flatten().max().copied().unwrap_or(t0);
            return Ok((last - t0).as_nanos() as f64);
        }
    }
    Err(format!("still accepted {max_steps} virtual seconds later"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workload::NoProgress;

    #[test]
    fn windowed_trials_run_in_rounds_with_a_partial_last_one() {
        let mut opts = Options::defaults(true);
        opts.families = vec![Family::Session];
        opts.validators = 2;
        // One full round and a partial one.
        opts.trials = CONCURRENT_TRIALS + 2;
        opts.cache_ttl = Duration::from_millis(30);
        opts.budget = Budget {
            warmup: Duration::from_millis(1),
            measure: Duration::from_millis(5),
            batch: Duration::from_micros(20),
        };
        let r = run(&opts, &NoProgress).unwrap();
        for name in ["session-central", "session-cache"] {
            let s = r.strategy(name).unwrap();
            assert_eq!(s.errors, 0, "{name}");
            assert_eq!(s.latencies_ns.len(), opts.trials, "{name}");
        }
        // Each trial of a round has its own token and phases: not one figure repeated.
        let cache = &r.strategy("session-cache").unwrap().latencies_ns;
        assert!(cache.iter().any(|l| *l != cache[0]), "{cache:?}");
    }
}
