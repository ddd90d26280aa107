//! The revoke workload on a tiny configuration, and the pieces it is built from: the
//! per-node validation cache and the pushed and polled denylists.
//!
//! Timing assertions are orderings within one run or bounded waits, never absolute times.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use tokenbench::claims::{ClaimSet, Claims};
use tokenbench::clock::{ManualClock, SystemClock};
use tokenbench::denylist::{Denylist, MemoryDenylist, PolledDenylist, PushedDenylist};
use tokenbench::measure::Budget;
use tokenbench::results::schema::ResultFile;
use tokenbench::scheme::spec::Family;
use tokenbench::scheme::{
    CachedScheme, JwtAlg, JwtConfig, JwtScheme, PasetoPurpose, Principal, Rejection,
    RevocationStrategy, SchemeError, SessionConfig, SessionScheme, TokenScheme,
};
use tokenbench::store::MemoryStore;
use tokenbench::workload::revoke::{RevokeParams, RevokeResults, Strategy, TrialClock, run};
use tokenbench::workload::{NoProgress, Settings};

/// Longest any test waits for something that should happen in microseconds.
const PATIENCE: Duration = Duration::from_secs(10);

/// Polls `f` until it holds or `PATIENCE` runs out.
fn eventually(mut f: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + PATIENCE;
    loop {
        if f() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// Drops `value` on another thread and reports whether that finished within `PATIENCE`.
fn drops_in_time<T: Send + 'static>(value: T) -> bool {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        drop(value);
        let _ = tx.send(());
    });
    rx.recv_timeout(PATIENCE).is_ok()
}

struct Tiny {
    settings: Settings,
    revoke: RevokeParams,
}

fn tiny_options() -> Tiny {
    let mut opts = Tiny {
        settings: Settings::defaults(true),
        revoke: RevokeParams::defaults(true),
    };
    opts.revoke.validators = 2;
    opts.revoke.trials = 3;
    opts.settings.budget = Budget {
        warmup: Duration::from_millis(1),
        measure: Duration::from_millis(10),
        batch: Duration::from_micros(20),
    };
    opts.revoke.cache_ttl = Duration::from_millis(50);
    opts.revoke.poll_interval = Duration::from_millis(50);
    opts.settings.seed = 7;
    opts
}

#[test]
fn tiny_run_covers_every_strategy() {
    let opts = tiny_options();
    let results = run(&opts.settings, &opts.revoke, &NoProgress).expect("revoke workload");

    let names: Vec<Strategy> = results.strategies.iter().map(|s| s.strategy).collect();
    assert_eq!(
        names,
        Strategy::ALL.to_vec(),
        "every strategy, in report order"
    );
    assert_eq!(
        (results.validators, results.trials),
        (opts.revoke.validators, opts.revoke.trials)
    );
    assert_eq!(results.jwt_alg, JwtAlg::HS256);
    assert_eq!(results.paseto_purpose, Some(PasetoPurpose::Local));
    assert_eq!(results.cache_ttl_ms, 50.0);
    assert_eq!(results.poll_interval_ms, 50.0);
    for s in &results.strategies {
        assert_eq!(s.errors, 0, "{}: failed trials", s.strategy);
        assert_eq!(s.latencies_ns.len(), opts.revoke.trials, "{}", s.strategy);
        assert_eq!(
            s.latency.samples, opts.revoke.trials as u64,
            "{}",
            s.strategy
        );
        assert!(s.latencies_ns.iter().all(|&l| l >= 0.0), "{}", s.strategy);
        assert!(s.validate_cost.wall.median_ns > 0.0, "{}", s.strategy);
        if s.strategy.baseline() == s.strategy {
            assert_eq!(s.added_cost_ns, 0.0, "{}", s.strategy);
        }
    }

    // Central (and pushed) revocation is immediate at request granularity: its median is far
    // below the windows of the cache and polled strategies.
    let window_ns = 50e6;
    for name in [
        Strategy::SessionCentral,
        Strategy::JwtDenylistCentral,
        Strategy::JwtDenylistPushed,
    ] {
        let s = results.strategy(name).unwrap();
        assert_eq!(s.window_ms, None);
        assert!(
            s.latency.median_ns < window_ns / 2.0,
            "{name}: p50 {} ns against a {window_ns} ns window",
            s.latency.median_ns
        );
    }
    for name in [Strategy::SessionCache, Strategy::JwtDenylistPolled] {
        let s = results.strategy(name).unwrap();
        assert_eq!(s.window_ms, Some(50.0));
        assert_eq!(s.clock, TrialClock::Wall);
    }

    // Expiry only: virtual time, never longer than the lifetime.
    let expiry = results.strategy(Strategy::JwtExpiryOnly).unwrap();
    let lifetime_ns = opts.settings.jwt_lifetime.as_nanos() as f64;
    assert_eq!(expiry.clock, TrialClock::Virtual);
    assert_eq!(expiry.family, Family::Jwt);
    assert_eq!(
        expiry.window_ms,
        Some(opts.settings.jwt_lifetime.as_secs_f64() * 1e3)
    );
    assert!(
        expiry
            .latencies_ns
            .iter()
            .all(|&l| l > 0.0 && l <= lifetime_ns),
        "{:?}",
        expiry.latencies_ns
    );

    let json = serde_json::to_string_pretty(&results).unwrap();
    let back: RevokeResults = serde_json::from_str(&json).unwrap();
    assert_eq!(back, results);

    let rows = results.summary_rows();
    // The added cost's spread for each non-baseline strategy.
    let spreads = results
        .strategies
        .iter()
        .filter(|s| s.added_cost_lo_ns.is_some())
        .count();
    assert_eq!(spreads, 5, "every non-baseline strategy has a spread");
    // PASETO revokes as a JWT does: until `exp`, or through a denylist, each against its
    // own family's baseline.
    let paseto_expiry = results.strategy(Strategy::PasetoExpiryOnly).unwrap();
    assert_eq!(paseto_expiry.family, Family::Paseto);
    assert_eq!(paseto_expiry.clock, TrialClock::Virtual);
    assert!(paseto_expiry.added_cost_lo_ns.is_none(), "a baseline");
    let paseto_denylist = results.strategy(Strategy::PasetoDenylistCentral).unwrap();
    assert_eq!(
        paseto_denylist.strategy.baseline(),
        Strategy::PasetoExpiryOnly
    );
    assert!(paseto_denylist.added_cost_lo_ns.is_some());
    // Five figures per strategy, its window when it has one.
    let windows = results
        .strategies
        .iter()
        .filter(|s| s.window_ms.is_some())
        .count();
    // Seven figures per hybrid (HS256 on each embedded store), two of its family
    // revocation latency, and one per race cell.
    assert_eq!(results.hybrid.len(), 2);
    assert!(
        results
            .hybrid
            .iter()
            .all(|h| h.family_revocation_latency.is_some())
    );
    let hybrid_rows: usize = results.hybrid.iter().map(|h| 9 + h.race.len()).sum();
    assert_eq!(
        rows.len(),
        results.strategies.len() * 5 + windows + 2 * spreads + hybrid_rows
    );
    assert!(rows.iter().all(|r| r.workload == "revoke"));
    let p50 = rows
        .iter()
        .find(|r| r.scheme == "jwt-expiry-only" && r.metric == "latency_p50")
        .unwrap();
    assert_eq!(
        (p50.value, p50.unit.as_str()),
        (expiry.latency.median_ns / 1e6, "ms")
    );
}

#[test]
fn only_selected_families_run() {
    let mut opts = tiny_options();
    opts.revoke.trials = 1;
    opts.settings.families = vec![Family::Session];
    let results = run(&opts.settings, &opts.revoke, &NoProgress).unwrap();
    let names: Vec<Strategy> = results.strategies.iter().map(|s| s.strategy).collect();
    assert_eq!(names, [Strategy::SessionCentral, Strategy::SessionCache]);
    assert!(
        results
            .strategies
            .iter()
            .all(|s| s.family == Family::Session)
    );
}

/// Counts the validations that reach the wrapped scheme.
struct Counting<S> {
    inner: S,
    validations: AtomicU64,
}

impl<S: TokenScheme> TokenScheme for Counting<S> {
    fn name(&self) -> String {
        self.inner.name()
    }
    fn issue(&self, claims: &Claims) -> Result<String, SchemeError> {
        self.inner.issue(claims)
    }
    fn validate(&self, token: &str) -> Result<Principal, Rejection> {
        self.validations.fetch_add(1, Ordering::SeqCst);
        self.inner.validate(token)
    }
    fn revoke(&self, token: &str) -> Result<(), SchemeError> {
        self.inner.revoke(token)
    }
}

fn central_sessions() -> Arc<Counting<SessionScheme<MemoryStore>>> {
    Arc::new(Counting {
        inner: SessionScheme::new(
            MemoryStore::new(),
            SessionConfig::default(),
            Arc::new(SystemClock),
        ),
        validations: AtomicU64::new(0),
    })
}

fn claims() -> Claims {
    ClaimSet::Typical.claims("user-1")
}

#[test]
fn cache_answers_within_its_lifetime_without_asking_the_store() {
    let central = central_sessions();
    let node = CachedScheme::new(
        central.clone(),
        Duration::from_secs(3600),
        Arc::new(SystemClock),
    );
    assert_eq!(node.name(), "session-memory-cache");
    let token = node.issue(&claims()).unwrap();
    assert_eq!(*node.validate(&token).unwrap().claims, claims());
    assert_eq!(central.validations.load(Ordering::SeqCst), 1);
    for _ in 0..10 {
        node.validate(&token).unwrap();
    }
    assert_eq!(central.validations.load(Ordering::SeqCst), 1, "hits");

    // Revoked behind the node's back: the node keeps accepting within T.
    central.revoke(&token).unwrap();
    assert!(central.inner.validate(&token).is_err());
    assert!(node.validate(&token).is_ok());
    // Refusals are never cached.
    assert!(node.validate("not-a-session").is_err());
    assert!(node.validate("not-a-session").is_err());
    assert_eq!(central.validations.load(Ordering::SeqCst), 3);
}

#[test]
fn cache_asks_again_once_its_lifetime_has_passed() {
    let ttl = Duration::from_millis(30);
    let central = central_sessions();
    let node = CachedScheme::new(central.clone(), ttl, Arc::new(SystemClock));
    let token = node.issue(&claims()).unwrap();
    node.validate(&token).unwrap();
    central.revoke(&token).unwrap();
    std::thread::sleep(ttl + Duration::from_millis(5));
    assert_eq!(node.validate(&token), Err(Rejection::UnknownSession));
    assert_eq!(central.validations.load(Ordering::SeqCst), 2);
}

#[test]
fn cache_revoke_evicts_on_its_own_node_only() {
    let central = central_sessions();
    let clock = Arc::new(SystemClock);
    let ttl = Duration::from_secs(3600);
    let a = CachedScheme::new(central.clone(), ttl, clock.clone());
    let b = CachedScheme::new(central.clone(), ttl, clock);
    let token = a.issue(&claims()).unwrap();
    a.validate(&token).unwrap();
    b.validate(&token).unwrap();
    a.revoke(&token).unwrap();
    assert_eq!(a.validate(&token), Err(Rejection::UnknownSession));
    assert!(b.validate(&token).is_ok(), "stale on the other node");
    assert_eq!(a.cached(), 0);
}

#[test]
fn cache_never_serves_a_token_past_its_expiry() {
    let clock = Arc::new(ManualClock::starting_now());
    let jwt = Arc::new(
        JwtScheme::new(
            JwtAlg::HS256,
            JwtConfig::default(),
            RevocationStrategy::None,
            clock.clone(),
        )
        .unwrap(),
    );
    let node = CachedScheme::new(jwt, Duration::from_secs(3600), clock.clone());
    let token = node.issue(&claims()).unwrap();
    node.validate(&token).unwrap();
    clock.advance(JwtConfig::default().lifetime);
    assert_eq!(node.validate(&token), Err(Rejection::Expired));
}

#[test]
fn pushed_revocation_reaches_every_other_node() {
    let nodes = PushedDenylist::cluster(3).unwrap();
    assert!(nodes.iter().all(|n| n.peers() == 2 && n.name() == "pushed"));
    nodes[1].insert("jti-1", u64::MAX).unwrap();
    assert!(nodes[1].contains("jti-1", 0).unwrap(), "local at once");
    for n in &nodes {
        assert!(eventually(|| n.contains("jti-1", 0).unwrap()));
    }
    assert!(!nodes[0].contains("jti-2", 0).unwrap());
    // Entries still expire with their token on every copy.
    nodes[0].insert("jti-3", 100).unwrap();
    assert!(eventually(|| nodes[2].len() == 2));
    assert!(!nodes[2].contains("jti-3", 100).unwrap());
    assert!(nodes[2].contains("jti-3", 99).unwrap());
}

#[test]
fn pushed_nodes_shut_down_cleanly_in_any_order() {
    let mut nodes = PushedDenylist::cluster(3).unwrap();
    let last = nodes.pop().unwrap();
    assert!(drops_in_time(nodes.remove(0)));
    // Pushing to a dropped node is not an error.
    nodes[0].insert("jti", u64::MAX).unwrap();
    assert!(eventually(|| last.contains("jti", 0).unwrap()));
    assert!(drops_in_time(nodes));
    assert!(drops_in_time(last));
}

#[test]
fn pushed_denylist_revokes_jwts_across_nodes() {
    let keys = Arc::new(tokenbench::scheme::jwt::JwtKeys::generate(JwtAlg::HS256).unwrap());
    let nodes: Vec<JwtScheme> = PushedDenylist::cluster(2)
        .unwrap()
        .into_iter()
        .map(|d| {
            JwtScheme::with_keys(
                keys.clone(),
                JwtConfig::default(),
                RevocationStrategy::CentralDenylist(Arc::new(d)),
                Arc::new(SystemClock),
            )
        })
        .collect();
    let token = nodes[0].issue(&claims()).unwrap();
    assert!(nodes[1].validate(&token).is_ok());
    nodes[0].revoke(&token).unwrap();
    assert_eq!(nodes[0].validate(&token), Err(Rejection::Revoked));
    assert!(eventually(
        || nodes[1].validate(&token) == Err(Rejection::Revoked)
    ));
}

#[test]
fn polled_copy_changes_only_when_polled() {
    let central = Arc::new(MemoryDenylist::new());
    central.insert("before", u64::MAX).unwrap();
    // First scheduled poll an hour away: only the copy made at construction exists.
    let hour = Duration::from_secs(3600);
    let node = PolledDenylist::with_phase(central.clone(), hour, hour).unwrap();
    assert_eq!((node.polls(), node.name()), (1, "polled"));
    assert!(node.contains("before", 0).unwrap());

    node.insert("after", u64::MAX).unwrap();
    assert!(
        central.contains("after", 0).unwrap(),
        "insert goes to the central list"
    );
    assert!(
        !node.contains("after", 0).unwrap(),
        "not before the next poll"
    );
    assert_eq!(node.len(), 1);

    node.refresh().unwrap();
    assert_eq!(node.polls(), 2);
    assert!(node.contains("after", 0).unwrap());
    assert!(
        !node.contains("after", u64::MAX).unwrap(),
        "expired entries do not count"
    );
    assert!(drops_in_time(node));
}

#[test]
fn polled_revocation_appears_after_a_poll() {
    let central = Arc::new(MemoryDenylist::new());
    let p = Duration::from_millis(50);
    let nodes: Vec<PolledDenylist> = (0..2)
        .map(|_| PolledDenylist::new(central.clone(), p).unwrap())
        .collect();
    assert!(nodes.iter().all(|n| n.interval() == p));
    let polls_before: Vec<u64> = nodes.iter().map(PolledDenylist::polls).collect();
    nodes[0].insert("jti", u64::MAX).unwrap();
    for (n, before) in nodes.iter().zip(polls_before) {
        assert!(eventually(|| n.contains("jti", 0).unwrap()));
        assert!(n.polls() > before, "seen through a scheduled poll");
    }
    // The pollers keep running on schedule.
    let polls = nodes[1].polls();
    assert!(eventually(|| nodes[1].polls() >= polls + 2));
    assert!(drops_in_time(nodes));
}
