//! Workload `revoke`: how long a revoked token keeps being accepted, and what each way of
//! revoking costs on every request.
//!
//! K validator nodes (threads, `Settings::validators`) validate the same token continuously;
//! at t0 node 0 revokes it. The revocation latency of a trial is the time from t0 until the
//! **last** node rejects the token. Every strategy runs `Settings::trials` trials, each with a
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
//! With a PostgreSQL store selected (`--store postgres://...`), one more:
//!
//! | strategy | nodes | window |
//! |---|---|---|
//! | `session-central-postgres` | a [`SessionScheme`] per node on its own [`PostgresStore`] pool, all in one table | none |
//!
//! They fail closed: a node whose lookup cannot reach its server refuses with
//! [`Rejection::StoreUnavailable`]; a pushed copy refuses while its subscription is down
//! (it may be missing revocations); a polled copy refuses while its last poll failed (or,
//! should its poller stall, once it is older than 2 P + 5 s). A trial during which the
//! server is unreachable fails and is counted in `errors`; the workload then waits for it
//! (see [`super::outage`]) and carries on, or ends with an error naming the server if it
//! does not come back.
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
//! validator runs, every strategy in the same [`COST_ROUNDS`] interleaved rounds.
//! `added_cost_ns` is its median minus that of the family's baseline (`session-central`,
//! `jwt-expiry-only`), with the smallest and largest per-round difference beside it; a
//! difference whose spread reaches zero is recorded as 0 (no measurable cost), and one
//! below zero in every round is a saving (the cache: a hit skips the store).
//!
//! [`SessionScheme`]: crate::scheme::SessionScheme
//! [`CachedScheme`]: crate::scheme::CachedScheme
//! [`MemoryStore`]: crate::store::MemoryStore
//! [`RedisStore`]: crate::store::RedisStore
//! [`PostgresStore`]: crate::store::PostgresStore
//! [`MemoryDenylist`]: crate::denylist::MemoryDenylist
//! [`PushedDenylist`]: crate::denylist::PushedDenylist
//! [`PolledDenylist`]: crate::denylist::PolledDenylist
//! [`RedisDenylist`]: crate::denylist::RedisDenylist
//! [`RedisDenylist::fetch_all`]: crate::denylist::RedisDenylist::fetch_all
//! [`Instant`]: std::time::Instant
//! [`ManualClock`]: crate::clock::ManualClock
//!
//! The module's parts: [`Strategy`] (the strategies, as data), `nodes` (the live validator
//! nodes a strategy builds), `trials` (wall-clock trials in rounds), `expiry` (the
//! virtual-clock trials of `jwt-expiry-only`) and `cost` (per-request cost rounds).

mod cost;
mod expiry;
mod nodes;

mod trials;

pub use crate::results::schema::revoke::Strategy;

pub use crate::results::schema::revoke::{RevokeResults, StrategyResult, TrialClock};
use std::sync::Arc;
use std::time::Duration;

use rand::RngExt;
use rand::rngs::StdRng;

use cost::{added_cost, validate_costs};
use expiry::run_expiry_only;
use nodes::Nodes;
use trials::run_wall;

use super::outage::{Remote, first_store};
use super::{Progress, Settings, Workload, WorkloadError, WorkloadResult};
use crate::measure::Measurement;
use crate::measure::stats::Summary;
use crate::results::schema::ResultFile;
use crate::scheme::Rejection;
use crate::scheme::spec::{Family, SchemeKeys, SchemeSpec};
use crate::scheme::{JwtAlg, PasetoPurpose, TokenScheme};
use crate::units::parse_duration;

/// Pause of each validator node between two requests.
pub const REQUEST_GAP: Duration = Duration::from_micros(20);

/// Rounds with a failed trial in a row after which a strategy's remaining trials are given up.
pub const MAX_CONSECUTIVE_ERRORS: u64 = 3;

/// Trials run at once, each with its own token, by a strategy with a staleness window.
pub const CONCURRENT_TRIALS: usize = 10;

/// Interleaved rounds in which every strategy's `validate` cost is measured.
pub const COST_ROUNDS: u32 = 5;

/// Random stream of the cost phase, after the strategies' own streams.
const COST_STREAM: u64 = 0x100;

/// Virtual time between two rounds of validation in `jwt-expiry-only`.
const VIRTUAL_STEP: Duration = Duration::from_secs(1);

/// The JWT algorithm of every JWT strategy.
const JWT_ALG: JwtAlg = JwtAlg::HS256;

/// The PASETO purpose of every PASETO strategy: like HS256, the one with the cheapest
/// verification (a MAC, no signature), so the strategy's own cost stands out.
const PASETO_PURPOSE: PasetoPurpose = PasetoPurpose::Local;

/// Random stream of this workload (`Settings::rng`); each strategy adds its index.
const RNG_STREAM: u64 = 0x7265_766f_6b65_0000;

/// Pause after a failed trial of a strategy on a server, beyond its window: time for
/// subscribers to subscribe again after the server came back.
const REMOTE_SETTLE: Duration = Duration::from_millis(250);

/// Connections of each node's pool on a server: one validator thread, plus node 0's
/// coordinator.
const NODE_POOL: usize = 2;

/// The revoke workload.
pub struct Revoke;

/// Flags of `tokenbench revoke`.
#[derive(Debug, Clone, clap::Args)]
pub struct RevokeArgs {
    /// Validator nodes (threads) per strategy (default 4).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=64))]
    pub validators: Option<u64>,
    /// Revocation trials per strategy (default 200; quick: 20).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub trials: Option<u64>,
    /// Per-node session cache lifetime, e.g. 1s, 250ms (default 1s; quick: 250ms).
    #[arg(long, value_parser = parse_duration)]
    pub cache_ttl: Option<Duration>,
    /// Denylist polling period (default 1s; quick: 250ms).
    #[arg(long, value_parser = parse_duration)]
    pub poll_interval: Option<Duration>,
}

/// Parameters of the revoke workload.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RevokeParams {
    /// Validator nodes per strategy.
    pub validators: usize,
    /// Revocation trials per strategy.
    pub trials: usize,
    /// Per-node session cache lifetime T.
    pub cache_ttl: Duration,
    /// Denylist polling period P.
    pub poll_interval: Duration,
}

impl RevokeParams {
    /// The defaults of a quick or a full run. Quick runs shorten the real-time windows so
    /// 20 trials fit the 60 s budget; the windows are recorded in the results and the
    /// report scales by them.
    pub fn defaults(quick: bool) -> Self {
        let window = if quick {
            Duration::from_millis(250)
        } else {
            Duration::from_secs(1)
        };
        Self {
            validators: 4,
            trials: if quick { 20 } else { 200 },
            cache_ttl: window,
            poll_interval: window,
        }
    }
}

impl Workload for Revoke {
    const ABOUT: &'static str = "Time until every validator rejects a revoked token";
    type Args = RevokeArgs;
    type Params = RevokeParams;
    type Results = RevokeResults;

    fn params(a: &RevokeArgs, quick: bool) -> RevokeParams {
        let d = RevokeParams::defaults(quick);
        RevokeParams {
            validators: a.validators.map_or(d.validators, |v| v as usize),
            trials: a.trials.map_or(d.trials, |t| t as usize),
            cache_ttl: a.cache_ttl.unwrap_or(d.cache_ttl),
            poll_interval: a.poll_interval.unwrap_or(d.poll_interval),
        }
    }

    fn run(
        s: &Settings,
        p: &RevokeParams,
        progress: &dyn Progress,
    ) -> WorkloadResult<RevokeResults> {
        run(s, p, progress)
    }
}

/// Runs every selected strategy: `p.trials` revocations each, plus the per-request cost.
pub fn run(
    opts: &Settings,
    p: &RevokeParams,
    progress: &dyn Progress,
) -> WorkloadResult<RevokeResults> {
    // The server each strategy on one runs on: the first selected store that can hold it.
    let server = |s: Strategy| first_store(opts, |kind| s.runs_on(kind));
    let strategies: Vec<Strategy> = Strategy::EVERY
        .into_iter()
        .filter(|s| opts.families.contains(&s.family()) && (!s.is_remote() || server(*s).is_some()))
        .collect();
    let k = p.validators.max(1);
    // One issuer per self-contained family, its keys shared by every node of its strategies.
    let mut keys: Vec<(Family, SchemeKeys)> = Vec::new();
    for (family, spec) in [
        (Family::Jwt, SchemeSpec::Jwt(JWT_ALG)),
        (Family::Paseto, SchemeSpec::Paseto(PASETO_PURPOSE)),
    ] {
        if strategies.iter().any(|s| s.family() == family)
            && let Some(k) = SchemeKeys::generate(&spec)?
        {
            keys.push((family, k));
        }
    }
    let keys_of = |s: Strategy| keys.iter().find(|(f, _)| *f == s.family()).map(|(_, k)| k);

    progress.start("revoke", strategies.len() as u64);
    let mut ran = Vec::with_capacity(strategies.len());
    for (index, &strategy) in strategies.iter().enumerate() {
        let mut rng = opts.rng(RNG_STREAM + index as u64);
        let keys = keys_of(strategy);
        ran.push(match (strategy.is_expiry_only(), keys) {
            (true, Some(keys)) => run_expiry_only(strategy, opts, p, keys, k, &mut rng),
            (_, keys) => {
                let store = server(strategy);
                let remote = match store {
                    Some(store) => Remote::for_store(store)?,
                    None => Remote::none(),
                };
                let nodes = remote
                    .retry(&format!("revoke {}: connecting", strategy.name()), || {
                        Nodes::build(strategy, opts, p, keys, store, k, &mut rng)
                    })?;
                run_wall(strategy, &nodes, p, &remote, &mut rng)?
            }
        });
        progress.step(strategy.name());
    }
    let probes: Vec<&dyn TokenScheme> = ran.iter().map(|r| r.probe.as_ref()).collect();
    // An outage of any server a strategy ran on is waited out before measuring again.
    let mut remotes = Vec::new();
    for store in ran.iter().filter_map(|r| server(r.strategy)) {
        if !remotes.iter().any(|(s, _)| s == &store) {
            remotes.push((store, Remote::for_store(store)?));
        }
    }
    let costs = retry_on_each(&remotes, "revoke: measuring validate costs", &mut || {
        validate_costs(&probes, opts, &mut opts.rng(RNG_STREAM + COST_STREAM))
    })?;
    progress.finish();

    let baselines: Vec<(Strategy, Measurement)> = ran
        .iter()
        .zip(&costs)
        .map(|(r, c)| (r.strategy, c.clone()))
        .collect();
    let baseline = |s: Strategy| baselines.iter().find(|(x, _)| *x == s).map(|(_, m)| m);
    let results = ran
        .into_iter()
        .zip(costs)
        .map(|(r, cost)| {
            // Against the family baseline; a strategy without one (not run) adds nothing.
            let (added, spread) = match baseline(r.strategy.baseline()) {
                Some(b) if r.strategy.baseline() != r.strategy => added_cost(&cost, b),
                _ => (0.0, None),
            };
            StrategyResult {
                strategy: r.strategy,
                family: r.strategy.family(),
                clock: r.clock,
                window_ms: r.window.map(|w| w.as_secs_f64() * 1e3),
                latency: Summary::from_samples(&r.latencies_ns).unwrap_or(Summary::EMPTY),
                latencies_ns: r.latencies_ns,
                validate_cost: cost,
                added_cost_ns: added,
                added_cost_lo_ns: spread.map(|s| s.lo),
                added_cost_hi_ns: spread.map(|s| s.hi),
                errors: r.errors,
            }
        })
        .collect();

    Ok(RevokeResults {
        schema_version: <RevokeResults as ResultFile>::VERSION,
        validators: k,
        trials: p.trials,
        cache_ttl_ms: p.cache_ttl.as_secs_f64() * 1e3,
        poll_interval_ms: p.poll_interval.as_secs_f64() * 1e3,
        jwt_lifetime_s: opts.jwt_lifetime.as_secs_f64(),
        jwt_alg: JWT_ALG,
        paseto_purpose: keys_of(Strategy::PasetoExpiryOnly).map(|_| PASETO_PURPOSE),
        strategies: results,
    })
}

/// Runs `f`, waiting out an outage of any of `remotes` (as [`Remote::retry`] does for one).
fn retry_on_each<T>(
    remotes: &[(&super::StoreSpec, Remote)],
    during: &str,
    f: &mut dyn FnMut() -> WorkloadResult<T>,
) -> WorkloadResult<T> {
    match remotes.split_first() {
        None => f(),
        Some(((_, first), rest)) => first.retry(during, || retry_on_each(rest, during, &mut *f)),
    }
}

/// The refusal a node of `strategy` must give once the revocation has reached it: a
/// session is deleted (unknown, whichever store held it), a self-contained token expires or
/// is denylisted.
fn expected(strategy: Strategy, r: &Rejection) -> bool {
    if strategy.family() == Family::Session {
        *r == Rejection::UnknownSession
    } else if strategy.is_expiry_only() {
        *r == Rejection::Expired
    } else {
        *r == Rejection::Revoked
    }
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
    clock: TrialClock,
    window: Option<Duration>,
    latencies_ns: Vec<f64>,
    errors: u64,
    /// A node of this strategy, on the system clock, whose `validate` cost is measured.
    probe: Arc<dyn TokenScheme>,
}

fn broken(strategy: Strategy, what: impl Into<String>) -> WorkloadError {
    WorkloadError::Broken {
        scheme: strategy.name().into(),
        what: what.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::measure::Budget;
    use crate::workload::NoProgress;

    #[test]
    fn windowed_trials_run_in_rounds_with_a_partial_last_one() {
        let mut opts = Settings::defaults(true);
        opts.families = vec![Family::Session];
        let mut p = RevokeParams::defaults(true);
        p.validators = 2;
        // One full round and a partial one.
        p.trials = CONCURRENT_TRIALS + 2;
        p.cache_ttl = Duration::from_millis(30);
        opts.budget = Budget {
            warmup: Duration::from_millis(1),
            measure: Duration::from_millis(5),
            batch: Duration::from_micros(20),
        };
        let r = run(&opts, &p, &NoProgress).unwrap();
        for name in [Strategy::SessionCentral, Strategy::SessionCache] {
            let s = r.strategy(name).unwrap();
            assert_eq!(s.errors, 0, "{name}");
            assert_eq!(s.latencies_ns.len(), p.trials, "{name}");
        }
        // Each trial of a round has its own token and phases: not one figure repeated.
        let cache = &r.strategy(Strategy::SessionCache).unwrap().latencies_ns;
        assert!(cache.iter().any(|l| *l != cache[0]), "{cache:?}");
    }
}
