//! The four workloads with the Redis store, on tiny configurations.
//!
//! Tests on the shared server run when `TOKENBENCH_REDIS_URL` is set (e.g.
//! `TOKENBENCH_REDIS_URL=redis://127.0.0.1:6379/ cargo test --test redis_workloads`); otherwise
//! they are skipped with one notice on stderr, or fail when `CI` is set (`crate::common::skip`).
//! They work in a database of that server
//! that is empty when they start (never flushed), so that "no key left behind" can be checked
//! without knowing the workloads' random prefixes.
//!
//! Tests of failure start a private `redis-server` on a spare port, kill it, and sometimes
//! start it again on the same port (with an append-only file, so the sessions survive). They
//! are skipped (failed on CI) only when `redis-server` is not on `PATH`.

use crate::common::id;
use tokenbench::results::schema::ResultFile;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use crate::common::{Persistence, PrivateServer, tiny_options};
use tokenbench::claims::{ClaimSet, Claims};
use tokenbench::clock::CoarseClock;
use tokenbench::measure::Budget;
use tokenbench::results::schema::scale::ScaleResults;
use tokenbench::results::schema::size::SizeResults;
use tokenbench::scheme::spec::{Family, StoreSpec};
use tokenbench::scheme::{
    Principal, Rejection, SchemeError, SessionConfig, SessionScheme, TokenScheme,
};
use tokenbench::store::RedisStore;
use tokenbench::workload::outage::RECOVERY_WAIT;
use tokenbench::workload::revoke::{RevokeResults, Strategy};
use tokenbench::workload::validate::{Operation, ValidateResults};
use tokenbench::workload::{NoProgress, revoke, scale, size, validate};

use crate::common::skip::{self, shared_redis_url};

// ---------------------------------------------------------------------------------------
// The shared server.

/// A database of the shared server for one test, with the keys it held at the start (0
/// unless someone else uses it), so that "no key left behind" is checked without knowing
/// the workloads' random prefixes. Tests running at the same time use different databases.
struct Db {
    url: String,
    before: u64,
}

impl Db {
    /// Database `db` of the shared server; `None` (skip, see `crate::common::skip`) when the
    /// variable is not set. Panics when it is set but the server is unreachable.
    fn take(db: u8) -> Option<Db> {
        let url = shared_redis_url()?;
        // redis://[auth@]host:port[/db] -> the same server, database `db`.
        let base = match url.find("://").map(|i| i + 3) {
            Some(i) => match url[i..].find('/') {
                Some(j) => url[..i + j].to_owned(),
                None => url.clone(),
            },
            None => panic!("{}", skip::unreachable(&url, &"not a redis:// URL")),
        };
        let url = format!("{base}/{db}");
        let before = dbsize(&url);
        Some(Db { url, before })
    }

    /// Keys added since [`take`](Self::take) (0 when everything was cleaned up).
    fn left(&self) -> i64 {
        dbsize(&self.url) as i64 - self.before as i64
    }
}

fn dbsize(url: &str) -> u64 {
    let mut conn = redis::Client::open(url)
        .and_then(|c| c.get_connection_with_timeout(Duration::from_secs(2)))
        .unwrap_or_else(|e| panic!("{}", skip::unreachable(url, &e)));
    redis::cmd("DBSIZE").query(&mut conn).expect("DBSIZE")
}

fn round_trip<T: serde::Serialize + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug>(
    r: &T,
) {
    let back: T = serde_json::from_str(&serde_json::to_string(r).expect("serializable"))
        .expect("parses back");
    assert!(&back == r, "JSON round trip changed the results");
}

#[test]
fn size_reads_a_hybrids_refresh_families_from_the_server() {
    let Some(db) = Db::take(15) else { return };
    let mut opts = tiny_options(&db.url);
    opts.settings.families = vec![Family::Hybrid];
    let r: SizeResults = size::run(&opts.settings, &opts.size, &NoProgress).expect("size workload");
    let rows: Vec<_> = r
        .memory
        .iter()
        .filter(|m| m.scheme == "hybrid-HS256-redis")
        .collect();
    assert_eq!(rows.len(), 2, "MEMORY USAGE and INFO rows: {rows:?}");
    for m in &rows {
        assert_eq!(
            m.entry,
            tokenbench::results::schema::size::Entry::RefreshFamily
        );
    }
    // A family holds the login's record and two secrets: more than a session's record.
    assert!(
        rows[0]
            .method
            .as_deref()
            .is_some_and(|m| m.contains("MEMORY USAGE"))
            && (250.0..10_000.0).contains(&rows[0].bytes_per_entry),
        "{rows:?}"
    );
    round_trip(&r);
}

#[test]
fn size_reads_redis_memory_per_session_from_the_server() {
    let Some(db) = Db::take(15) else { return };
    let mut opts = tiny_options(&db.url);
    opts.settings.families = vec![Family::Session, Family::Jwt];
    let r: SizeResults = size::run(&opts.settings, &opts.size, &NoProgress).expect("size workload");
    for set in ClaimSet::ALL {
        let row = r
            .rows
            .iter()
            .find(|x| x.scheme == "session-redis" && x.claims == set)
            .expect("a size row per claim set");
        assert_eq!(row.token_bytes, 22);
        assert_eq!(row.readable_payload_bytes, 0);
    }
    let redis: Vec<_> = r
        .memory
        .iter()
        .filter(|m| m.scheme == "session-redis")
        .collect();
    assert_eq!(redis.len(), 2, "MEMORY USAGE and INFO rows: {redis:?}");
    let usage = redis[0];
    assert!(
        usage
            .method
            .as_deref()
            .is_some_and(|m| m.contains("MEMORY USAGE"))
    );
    assert_eq!(
        usage.entry,
        tokenbench::results::schema::size::Entry::Session
    );
    assert_eq!(usage.entries, 200);
    // A typical record is about 200 bytes (binary) plus Redis's per-key overhead.
    assert!(
        (200.0..10_000.0).contains(&usage.bytes_per_entry),
        "{usage:?}"
    );
    assert!(
        redis[1]
            .method
            .as_deref()
            .is_some_and(|m| m.contains("used_memory"))
    );
    let denylist = r
        .memory
        .iter()
        .find(|m| m.scheme == "jwt-HS256+denylist-redis")
        .expect("a Redis denylist row");
    assert!(denylist.bytes_per_entry > 22.0, "{denylist:?}");
    assert!(r.memory_method.contains("networked stores"));
    round_trip(&r);
    assert_eq!(db.left(), 0, "keys left behind");
}

#[test]
fn validate_measures_round_trips_client_cpu_and_server_cpu() {
    let Some(db) = Db::take(14) else { return };
    let opts = tiny_options(&db.url);
    let r: ValidateResults =
        validate::run(&opts.settings, &opts.validate, &NoProgress).expect("validate workload");
    for op in [
        Operation::Validate,
        Operation::ValidateSliding,
        Operation::Issue,
    ] {
        for set in ClaimSet::ALL {
            let row = r
                .find(id("session-redis"), op, set, None)
                .unwrap_or_else(|| panic!("no session-redis {op:?} {set:?} row"));
            assert_eq!(row.errors, 0, "{row:?}");
            let server = row.server_cpu_ns_per_op.expect("server CPU measured");
            assert!(server.is_finite() && server >= 0.0, "{server}");
            assert!(row.measurement.cpu.median_ns > 0.0);
        }
    }
    for op in [Operation::RejectUnknown, Operation::RejectRevoked] {
        let row = r
            .find(id("session-redis"), op, ClaimSet::Typical, None)
            .expect("rejection rows");
        assert_eq!(row.errors, 0);
    }
    // In-process rows have no server side.
    let memory = r
        .find(
            id("session-memory"),
            Operation::Validate,
            ClaimSet::Typical,
            None,
        )
        .expect("memory row");
    assert_eq!(memory.server_cpu_ns_per_op, None);
    // A Redis row is measured and carries the server's CPU (which one is dearer is the
    // benchmark's answer, not a test's).
    let redis = r
        .find(
            id("session-redis"),
            Operation::Validate,
            ClaimSet::Typical,
            None,
        )
        .unwrap();
    assert!(redis.measurement.wall.median_ns > 0.0);
    assert!(
        r.summary_rows()
            .iter()
            .any(|x| x.scheme == "session-redis" && x.metric == "validate_server_cpu")
    );
    round_trip(&r);
    assert_eq!(db.left(), 0, "keys left behind");
}

#[test]
fn scale_runs_redis_points_on_a_shared_pool() {
    let Some(db) = Db::take(13) else { return };
    let opts = tiny_options(&db.url);
    let r: ScaleResults =
        scale::run(&opts.settings, &opts.scale, &NoProgress).expect("scale workload");
    let redis: Vec<_> = r
        .points
        .iter()
        .filter(|p| p.scheme == "session-redis")
        .collect();
    assert_eq!(redis.len(), 2, "one point per thread count");
    for p in redis {
        assert_eq!(p.errors, 0, "{p:?}");
        assert_eq!(p.sessions, Some(50));
        assert!(p.ops > 0 && p.ops_per_sec > 0.0);
    }
    round_trip(&r);
    assert_eq!(db.left(), 0, "keys left behind");
}

#[test]
fn revoke_runs_every_redis_strategy() {
    let Some(db) = Db::take(12) else { return };
    let mut opts = tiny_options(&db.url);
    opts.settings.families = vec![Family::Session, Family::Jwt];
    let r: RevokeResults =
        revoke::run(&opts.settings, &opts.revoke, &NoProgress).expect("revoke workload");
    let names: Vec<Strategy> = r.strategies.iter().map(|s| s.strategy).collect();
    let expected: Vec<Strategy> = Strategy::EVERY
        .into_iter()
        .filter(|s| !s.is_remote() || s.is_redis())
        .filter(|s| opts.settings.families.contains(&s.family()))
        .collect();
    assert_eq!(
        names, expected,
        "every in-process and Redis strategy, sessions first"
    );
    for s in &r.strategies {
        assert_eq!(s.errors, 0, "{}: failed trials", s.strategy);
        assert_eq!(s.latencies_ns.len(), opts.revoke.trials, "{}", s.strategy);
    }
    let central = r
        .strategy(tokenbench::workload::revoke::Strategy::SessionCentralRedis)
        .unwrap();
    assert_eq!(central.family, Family::Session);
    assert_eq!(central.window_ms, None);
    // An added cost is a figure or "no measurable cost" (0), never negative.
    assert!(central.added_cost_ns >= 0.0, "{central:?}");
    let polled = r
        .strategy(tokenbench::workload::revoke::Strategy::JwtDenylistPolledRedis)
        .unwrap();
    assert_eq!(polled.window_ms, Some(50.0));
    round_trip(&r);
    assert_eq!(db.left(), 0, "keys left behind");
}

// ---------------------------------------------------------------------------------------
// A private server, killed (and sometimes restarted).

/// A session scheme on Redis that notes when each accepted `validate` started, and every
/// refusal.
struct Watched {
    inner: SessionScheme<RedisStore>,
    accepted: Mutex<Vec<Instant>>,
    refused: Mutex<Vec<Rejection>>,
}

impl TokenScheme for Watched {
    fn name(&self) -> String {
        self.inner.name()
    }

    fn issue(&self, claims: &Claims) -> Result<String, SchemeError> {
        self.inner.issue(claims)
    }

    fn validate(&self, token: &str) -> Result<Principal, Rejection> {
        let started = Instant::now();
        let r = self.inner.validate(token);
        match &r {
            Ok(_) => self.accepted.lock().unwrap().push(started),
            Err(e) => self.refused.lock().unwrap().push(e.clone()),
        }
        r
    }

    fn revoke(&self, token: &str) -> Result<(), SchemeError> {
        self.inner.revoke(token)
    }
}

#[test]
fn scale_point_never_accepts_while_redis_is_down_and_recovers() {
    let Some(server) = PrivateServer::start_or_skip(Persistence::AppendOnly) else {
        return;
    };
    let url = server.url();
    let scheme = Arc::new(Watched {
        inner: SessionScheme::new(
            RedisStore::connect(&url).expect("connect"),
            SessionConfig {
                sliding: false,
                ..SessionConfig::default()
            },
            Arc::new(CoarseClock),
        ),
        accepted: Mutex::new(Vec::new()),
        refused: Mutex::new(Vec::new()),
    });
    let tokens: Vec<String> = (0..50)
        .map(|i| {
            scheme
                .issue(&ClaimSet::Typical.claims(&format!("user-{i}")))
                .expect("issue")
        })
        .collect();
    let mut opts = crate::common::Tiny::quick();
    opts.scale.scale_duration = Duration::from_millis(1500);

    // Kill the server a little into the point, start it again 400 ms later.
    let (window_tx, window_rx) = mpsc::channel();
    let killer = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(300));
        let (port, dir) = server.kill();
        let killed = Instant::now();
        std::thread::sleep(Duration::from_millis(400));
        let restarting = Instant::now();
        let server = PrivateServer::start(port, dir, Persistence::AppendOnly);
        window_tx.send((killed, restarting)).expect("send");
        server
    });
    let p = scale::run_point(
        id("session-redis"),
        scheme.clone(),
        Arc::new(tokens.clone()),
        2,
        &opts.settings,
        opts.scale.scale_duration,
    )
    .expect("a point survives a dead server");
    let server = killer.join().expect("killer thread");
    let (killed, restarting) = window_rx.recv().expect("window");

    let accepted = scheme.accepted.lock().unwrap().clone();
    let refused = scheme.refused.lock().unwrap().clone();
    assert!(p.errors > 0, "the outage was counted: {p:?}");
    assert_eq!(p.errors as usize, refused.len());
    assert!(
        refused
            .iter()
            .all(|r| matches!(r, Rejection::StoreUnavailable(_))),
        "refused only because the store was unreachable: {:?}",
        refused
            .iter()
            .find(|r| !matches!(r, Rejection::StoreUnavailable(_)))
    );
    let during = accepted
        .iter()
        .filter(|t| **t > killed && **t < restarting)
        .count();
    assert_eq!(during, 0, "validations accepted while Redis was down");
    assert!(
        accepted.iter().any(|t| *t > restarting),
        "accepted again once Redis was back (the pool dialed again)"
    );
    assert!(accepted.iter().any(|t| *t < killed));
    drop(scheme);
    assert_eq!(server.keys(), 0, "cleaned up after the restart");
}

#[test]
fn scale_workload_counts_an_outage_and_carries_on() {
    let Some(server) = PrivateServer::start_or_skip(Persistence::AppendOnly) else {
        return;
    };
    let url = server.url();
    let mut opts = crate::common::Tiny::quick();
    opts.settings.stores = vec![StoreSpec::Redis(url)];
    opts.settings.families = vec![Family::Session];
    opts.scale.threads = vec![1, 2];
    opts.scale.sessions = vec![30];
    opts.scale.scale_duration = Duration::from_millis(1500);

    // Once the working set is in, kill the server during the first point; start it again.
    let killer = std::thread::spawn(move || {
        let deadline = Instant::now() + Duration::from_secs(30);
        while server.keys() < 30 {
            assert!(Instant::now() < deadline, "the working set never arrived");
            std::thread::sleep(Duration::from_millis(5));
        }
        std::thread::sleep(Duration::from_millis(400));
        let (port, dir) = server.kill();
        std::thread::sleep(Duration::from_millis(300));
        PrivateServer::start(port, dir, Persistence::AppendOnly)
    });
    let r = scale::run(&opts.settings, &opts.scale, &NoProgress).expect("the run recovers");
    let server = killer.join().expect("killer thread");
    let errors: u64 = r.points.iter().map(|p| p.errors).sum();
    let ops: u64 = r.points.iter().map(|p| p.ops).sum();
    assert_eq!(r.points.len(), 2);
    assert!(errors > 0, "the outage was counted: {:?}", r.points);
    assert!(errors < ops, "and the run carried on once Redis was back");
    round_trip(&r);
    assert_eq!(server.keys(), 0, "cleaned up");
}

#[test]
fn workload_gives_up_with_a_clear_error_when_redis_never_comes_back() {
    let Some(server) = PrivateServer::start_or_skip(Persistence::AppendOnly) else {
        return;
    };
    let url = server.url();
    let mut opts = crate::common::Tiny::quick();
    opts.settings.stores = vec![StoreSpec::Redis(url.clone())];
    opts.settings.families = vec![Family::Session];
    opts.validate.live_sessions = 20;

    let finished = Arc::new(AtomicBool::new(false));
    let (tx, rx) = mpsc::channel();
    let done = finished.clone();
    let worker = std::thread::spawn(move || {
        let r = validate::run(&opts.settings, &opts.validate, &NoProgress);
        done.store(true, Ordering::SeqCst);
        let _ = tx.send(r);
    });
    // Kill it once the first working set is in, and leave it dead.
    let deadline = Instant::now() + Duration::from_secs(30);
    while server.keys() < 20 {
        assert!(Instant::now() < deadline, "the working set never arrived");
        std::thread::sleep(Duration::from_millis(5));
    }
    let killed = Instant::now();
    drop(server.kill());
    let r = rx
        .recv_timeout(RECOVERY_WAIT * 4 + Duration::from_secs(30))
        .expect("the workload ends instead of hanging");
    worker.join().expect("no panic");
    assert!(finished.load(Ordering::SeqCst));
    let err = r.expect_err("Redis never came back: the workload must fail");
    let msg = err.to_string();
    assert!(
        msg.contains("Redis at") && msg.contains(&format!("127.0.0.1:{}", url_port(&url))),
        "the error names the server: {msg}"
    );
    assert!(
        killed.elapsed() >= RECOVERY_WAIT,
        "it waited for the server before giving up"
    );
}

fn url_port(url: &str) -> &str {
    url.trim_start_matches("redis://127.0.0.1:")
        .trim_end_matches('/')
}

#[test]
fn revoke_counts_failed_trials_during_an_outage_and_carries_on() {
    let Some(server) = PrivateServer::start_or_skip(Persistence::AppendOnly) else {
        return;
    };
    let mut opts = crate::common::Tiny::quick();
    opts.settings.stores = vec![StoreSpec::Redis(server.url())];
    opts.settings.families = vec![Family::Jwt];
    opts.revoke.validators = 2;
    opts.revoke.trials = 60;
    opts.revoke.poll_interval = Duration::from_millis(50);
    opts.settings.budget = Budget {
        warmup: Duration::from_millis(2),
        measure: Duration::from_millis(20),
        batch: Duration::from_micros(50),
    };

    // Kill the server while the pushed-Redis nodes are subscribed; start it again.
    let killer = std::thread::spawn(move || {
        let deadline = Instant::now() + Duration::from_secs(60);
        while subscribers(&server) == 0 {
            assert!(Instant::now() < deadline, "no subscriber ever appeared");
            std::thread::sleep(Duration::from_millis(2));
        }
        std::thread::sleep(Duration::from_millis(10));
        let (port, dir) = server.kill();
        std::thread::sleep(Duration::from_millis(300));
        PrivateServer::start(port, dir, Persistence::AppendOnly)
    });
    let r = revoke::run(&opts.settings, &opts.revoke, &NoProgress).expect("the run recovers");
    let server = killer.join().expect("killer thread");
    let pushed = r
        .strategy(tokenbench::workload::revoke::Strategy::JwtDenylistPushedRedis)
        .expect("ran");
    assert!(pushed.errors > 0, "the outage was counted: {pushed:?}");
    assert!(
        pushed.latencies_ns.len() + pushed.errors as usize == opts.revoke.trials
            && !pushed.latencies_ns.is_empty(),
        "the strategy carried on after the restart: {pushed:?}"
    );
    let polled = r
        .strategy(tokenbench::workload::revoke::Strategy::JwtDenylistPolledRedis)
        .expect("ran");
    assert_eq!(polled.errors, 0, "later strategies are unaffected");
    round_trip(&r);
    assert_eq!(server.keys(), 0, "cleaned up");
}

/// Clients of `server` subscribed to a channel right now.
fn subscribers(server: &PrivateServer) -> usize {
    redis::Client::open(server.url())
        .and_then(|c| c.get_connection_with_timeout(Duration::from_millis(200)))
        .and_then(|mut c| redis::cmd("CLIENT").arg("LIST").query::<String>(&mut c))
        .map(|list| list.lines().filter(|l| l.contains("cmd=subscribe")).count())
        .unwrap_or(0)
}
