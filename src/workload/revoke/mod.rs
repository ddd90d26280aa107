//! Workload `revoke`: how long a revoked token keeps being accepted by K validator nodes
//! (threads), and what each way of revoking costs per request.
//!
//! Per [`Strategy`] (session central store or per-node cache; a self-contained token valid
//! until `exp` or checked against a central, pushed or polled denylist; the same on a Redis
//! or PostgreSQL server when one is selected), every trial issues a fresh token, node 0
//! revokes it at t0, and the latency is the time until the **last** node refuses it.
//! Windowed strategies (cache, polling) sample their window with independent per-node
//! phases and run their trials in rounds of [`CONCURRENT_TRIALS`]; expiry-only runs on a
//! virtual clock. Every wait is bounded, a failed trial is counted, never hidden, and a
//! server outage is waited out (see [`super::outage`]). The per-request cost of every
//! strategy is measured afterwards in the same [`COST_ROUNDS`] interleaved rounds, against
//! its family's baseline. README.md ("How revoke measures") has the strategy table and
//! the trial procedure in full.
//!
//! Parts: `nodes` (the live nodes a strategy builds), `trials` (wall-clock trials in
//! rounds), `expiry` (the virtual-clock trials) and `cost` (per-request cost rounds).

mod cost;
mod expiry;
pub mod hybrid;
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
pub const CONCURRENT_TRIALS: usize = 20;

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
        settings: &Settings,
        p: &RevokeParams,
        progress: &dyn Progress,
    ) -> WorkloadResult<RevokeResults> {
        run(settings, p, progress)
    }
}

/// Runs every selected strategy: `p.trials` revocations each, plus the per-request cost.
pub fn run(
    settings: &Settings,
    p: &RevokeParams,
    progress: &dyn Progress,
) -> WorkloadResult<RevokeResults> {
    // The server each strategy on one runs on: the first selected store that can hold it.
    let server = |s: Strategy| first_store(settings, |kind| s.runs_on(kind));
    let strategies: Vec<Strategy> = Strategy::EVERY
        .into_iter()
        .filter(|s| {
            settings.families.contains(&s.family()) && (!s.is_remote() || server(*s).is_some())
        })
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
        let mut rng = settings.rng(RNG_STREAM + index as u64);
        let keys = keys_of(strategy);
        ran.push(match (strategy.is_expiry_only(), keys) {
            (true, Some(keys)) => run_expiry_only(strategy, settings, p, keys, k, &mut rng),
            (_, keys) => {
                let store = server(strategy);
                let remote = match store {
                    Some(store) => Remote::for_store(store)?,
                    None => Remote::none(),
                };
                let nodes = remote
                    .retry(&format!("revoke {}: connecting", strategy.name()), || {
                        Nodes::build(strategy, settings, p, keys, store, k, &mut rng)
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
        validate_costs(
            &probes,
            settings,
            &mut settings.rng(RNG_STREAM + COST_STREAM),
        )
    })?;
    progress.finish();
    let hybrid = hybrid::run(settings, p, progress)?;

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
        jwt_lifetime_s: settings.jwt_lifetime.as_secs_f64(),
        jwt_alg: JWT_ALG,
        paseto_purpose: keys_of(Strategy::PasetoExpiryOnly).map(|_| PASETO_PURPOSE),
        strategies: results,
        end_to_end: Vec::new(),
        hybrid,
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
        let mut settings = Settings::defaults(true);
        settings.families = vec![Family::Session];
        let mut p = RevokeParams::defaults(true);
        p.validators = 2;
        // One full round and a partial one.
        p.trials = CONCURRENT_TRIALS + 2;
        p.cache_ttl = Duration::from_millis(30);
        settings.budget = Budget {
            warmup: Duration::from_millis(1),
            measure: Duration::from_millis(5),
            batch: Duration::from_micros(20),
        };
        let r = run(&settings, &p, &NoProgress).unwrap();
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
