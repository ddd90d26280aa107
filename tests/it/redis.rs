//! The Redis store and denylist against a real server.
//!
//! Tests that need a running server use `TOKENBENCH_REDIS_URL` (e.g.
//! `TOKENBENCH_REDIS_URL=redis://127.0.0.1:6379/ cargo test --test redis`); without it they
//! are skipped, with one notice on stderr, or fail when `CI` is set (`crate::common::skip`). With
//! it set, an unreachable server fails them. Every key lives under a random per-store prefix
//! and is deleted by the store's cleanup (run on drop); nothing here flushes a database.
//!
//! The store contract itself (get, put, touch, rename, concurrency) runs on Redis with every
//! other store in `stores`; this file keeps what only Redis does: TTLs, optimistic rename,
//! corrupt values, prefixes and cleanup, the denylist, outages and restarts.
//!
//! Tests that need no shared server always run: fail-closed behaviour against a port where
//! nothing listens, malformed URLs, and a kill-and-restart of a private `redis-server`
//! (skipped the same way when `redis-server` is not on `PATH`).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::common::suite::*;
use crate::common::{Persistence, PrivateServer, now_ms, record, spare_port};
use tokenbench::clock::{ManualClock, SystemClock};
use tokenbench::crypto::CryptoBackend;
use tokenbench::denylist::{Denylist, MemoryDenylist, RedisDenylist};
use tokenbench::scheme::{
    JwtConfig, JwtScheme, RevocationStrategy, SessionConfig, SessionScheme, TokenScheme,
};
use tokenbench::store::{RedisStore, SessionRecord, SessionStore, StoreError};

use crate::common::skip::{self, shared_redis_url as redis_url};

/// A store on the shared server (see `common::skip::connect`).
fn connect(url: &str) -> RedisStore {
    skip::connect(url, None)
}

fn store() -> Option<RedisStore> {
    skip::shared_store()
}

fn redis_session_subject() -> Option<Subject> {
    let url = redis_url()?;
    Some(session_subject(|| connect(&url)))
}

scheme_conformance!(
    optional session_redis,
    CryptoBackend::AwsLc,
    redis_session_subject()
);

/// A raw connection for looking behind the store's back.
fn raw(url: &str) -> redis::Connection {
    redis::Client::open(url)
        .and_then(|c| c.get_connection())
        .expect("raw connection")
}

fn raw_keys(url: &str, prefix: &str) -> Vec<String> {
    let mut conn = raw(url);
    let mut keys = Vec::new();
    let mut cursor = 0u64;
    loop {
        let (next, batch): (u64, Vec<String>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg(format!("{prefix}*"))
            .arg("COUNT")
            .arg(1000)
            .query(&mut conn)
            .expect("SCAN");
        keys.extend(batch);
        if next == 0 {
            return keys;
        }
        cursor = next;
    }
}

fn pttl(url: &str, key: &str) -> i64 {
    redis::cmd("PTTL")
        .arg(key)
        .query(&mut raw(url))
        .expect("PTTL")
}

#[test]
fn ttl_is_the_absolute_deadline_and_touch_keeps_it() {
    let Some(url) = redis_url() else { return };
    let store = connect(&url);
    let mut r = record("ttl");
    r.absolute_deadline_ms = now_ms() + 600_000;
    store.put("t", &r).unwrap();
    let check = |what: &str| {
        let left = pttl(&url, &store.key("t"));
        let expected = i64::try_from(r.absolute_deadline_ms - now_ms()).unwrap();
        assert!(left > 0, "{what}: PTTL {left}");
        assert!(
            (left - expected).abs() < 2_000,
            "{what}: PTTL {left} ms, deadline in {expected} ms"
        );
    };
    check("after put");
    assert!(store.touch("t", now_ms(), now_ms() + 1000).unwrap());
    check("after touch");
    let now = now_ms();
    assert!(
        store
            .view_and_touch("t", now, now + 2000)
            .unwrap()
            .is_some()
    );
    assert_eq!(
        store.get("t").unwrap().unwrap().idle_deadline_ms,
        now + 2000
    );
    check("after a sliding lookup");
    let new_deadline = r.absolute_deadline_ms;
    assert!(store.rename("t", "u", &|_: &mut SessionRecord| {}).unwrap());
    let left = pttl(&url, &store.key("u"));
    let expected = i64::try_from(new_deadline - now_ms()).unwrap();
    assert!(
        (left - expected).abs() < 2_000,
        "after rename: {left} vs {expected}"
    );
    // A deadline already past: Redis drops the record at once.
    let mut dead = record("dead");
    dead.absolute_deadline_ms = now_ms() - 1;
    store.put("d", &dead).unwrap();
    assert_eq!(store.get("d").unwrap(), None);
}

/// `rename` reads, applies the update and writes back; these tests write to the old key from
/// inside the update, i.e. exactly between that read and that write.
#[test]
fn rename_merges_a_touch_made_after_its_read() {
    let Some(store) = store() else { return };
    let calls = AtomicUsize::new(0);
    store.put("old", &record("a")).unwrap();
    let moved = store
        .rename("old", "new", &|r: &mut SessionRecord| {
            if calls.fetch_add(1, Ordering::Relaxed) == 0 {
                assert!(store.touch("old", 777, 888).unwrap());
            }
            r.csrf_token = "n".into();
        })
        .unwrap();
    assert!(moved);
    assert_eq!(calls.into_inner(), 1, "a touch is merged, not retried");
    let new = store.get("new").unwrap().unwrap();
    assert_eq!(
        (
            new.last_seen_ms,
            new.idle_deadline_ms,
            new.csrf_token.as_ref()
        ),
        (777, 888, "n"),
        "the update applied to the touched record"
    );
    assert_eq!(store.get("old").unwrap(), None);

    // A touch field the update sets keeps the update's value; the other one is merged.
    store.put("old", &record("a")).unwrap();
    let calls = AtomicUsize::new(0);
    assert!(
        store
            .rename("old", "newer", &|r: &mut SessionRecord| {
                if calls.fetch_add(1, Ordering::Relaxed) == 0 {
                    assert!(store.touch("old", 777, 888).unwrap());
                }
                r.last_seen_ms = 999;
            })
            .unwrap()
    );
    let newer = store.get("newer").unwrap().unwrap();
    assert_eq!((newer.last_seen_ms, newer.idle_deadline_ms), (999, 888));
}

#[test]
fn rename_rereads_and_reapplies_after_any_other_concurrent_write() {
    let Some(store) = store() else { return };
    store.put("old", &record("a")).unwrap();
    let calls = AtomicUsize::new(0);
    let moved = store
        .rename("old", "new", &|r: &mut SessionRecord| {
            if calls.fetch_add(1, Ordering::Relaxed) == 0 {
                // Not a touch: the claims change under the rename.
                store.put("old", &record("b")).unwrap();
            }
            r.csrf_token = format!("seen {}", r.claims.user_id).into();
        })
        .unwrap();
    assert!(moved);
    assert_eq!(
        calls.into_inner(),
        2,
        "the update ran again on the new value"
    );
    assert_eq!(
        store.get("new").unwrap().unwrap().csrf_token.as_ref(),
        "seen b"
    );

    // A session deleted under the rename is not brought back.
    store.put("old", &record("c")).unwrap();
    assert!(
        !store
            .rename("old", "newer", &|_: &mut SessionRecord| {
                store.delete("old").unwrap();
            })
            .unwrap()
    );
    assert_eq!(store.get("newer").unwrap(), None);
}

#[test]
fn corrupt_records_are_reported_not_panicked_on() {
    let Some(url) = redis_url() else { return };
    let store = connect(&url);
    let mut conn = raw(&url);
    let mut set = |id: &str, value: &[u8]| {
        let _: () = redis::cmd("SET")
            .arg(store.key(id))
            .arg(value)
            .query(&mut conn)
            .unwrap();
    };
    // A JSON record as tokenbench wrote them before the binary format: refused, not read.
    let json = serde_json::to_vec(&record("old")).unwrap();
    set("json", &json);
    set("bad", b"{not json");
    set("short", &[1, 0, 0]);
    let mut truncated = {
        let good = connect(&url);
        good.put("x", &record("t")).unwrap();
        redis::cmd("GET")
            .arg(good.key("x"))
            .query::<Vec<u8>>(&mut raw(&url))
            .unwrap()
    };
    truncated.pop();
    set("truncated", &truncated);
    let _: () = redis::cmd("HSET")
        .arg(store.key("hash"))
        .arg("f")
        .arg("v")
        .query(&mut raw(&url))
        .unwrap();
    let now = now_ms();
    for id in ["json", "bad", "short", "truncated", "hash"] {
        let corrupt = |r: Result<(), StoreError>, what: &str| match r {
            Err(StoreError::Corrupt(why)) => why,
            other => panic!("{what} of {id}: {other:?}"),
        };
        let why = corrupt(store.get(id).map(drop), "get");
        corrupt(store.view(id).map(drop), "view");
        corrupt(
            store.view_and_touch(id, now, now + 1).map(drop),
            "view_and_touch",
        );
        // `touch` rewrites two fixed fields and reads nothing else: it refuses a value
        // without a version-1 header, and leaves a damaged tail for the next read to refuse.
        if id != "truncated" {
            corrupt(store.touch(id, 1, 2).map(drop), "touch");
        }
        corrupt(
            store.rename(id, "x", &|_: &mut SessionRecord| {}).map(drop),
            "rename",
        );
        if id == "json" {
            assert!(why.contains("JSON record of an older tokenbench"), "{why}");
        }
    }
    // A sliding lookup leaves a corrupt value as it was, and a session scheme refuses it.
    let still: Vec<u8> = redis::cmd("GET")
        .arg(store.key("json"))
        .query(&mut raw(&url))
        .unwrap();
    assert_eq!(still, json);
    // The connection survives a server error reply.
    assert_eq!(store.get("missing").unwrap(), None);
    assert_eq!(store.cleanup().unwrap(), 5);
}

#[test]
fn a_corrupt_record_is_a_refused_credential() {
    let Some(url) = redis_url() else { return };
    let scheme = SessionScheme::new(connect(&url), session_config(), Arc::new(SystemClock));
    let token = scheme.issue(&typical()).unwrap();
    let _: () = redis::cmd("SET")
        .arg(scheme.store().key(&token))
        .arg(serde_json::to_vec(&record("old")).unwrap())
        .query(&mut raw(&url))
        .unwrap();
    match scheme.validate(&token) {
        Err(Rejection::StoreUnavailable(why)) => assert!(why.contains("corrupt"), "{why}"),
        other => panic!("a corrupt record gave {other:?}"),
    }
}

#[test]
fn cleanup_and_drop_delete_every_key_of_the_prefix_and_no_other() {
    let Some(url) = redis_url() else { return };
    let a = connect(&url);
    let b = connect(&url);
    assert_ne!(a.prefix(), b.prefix());
    assert!(a.prefix().starts_with("tokenbench:") && a.prefix().ends_with(':'));
    for i in 0..2500 {
        a.put(&format!("s{i}"), &record("a")).unwrap();
    }
    b.put("keep", &record("b")).unwrap();
    assert_eq!(a.len().unwrap(), 2500);
    assert_eq!(a.cleanup().unwrap(), 2500);
    assert!(raw_keys(&url, a.prefix()).is_empty());
    assert_eq!(b.len().unwrap(), 1);
    let prefix = b.prefix().to_owned();
    drop(b);
    assert!(raw_keys(&url, &prefix).is_empty(), "drop cleans up");

    // A chosen prefix with glob characters only matches itself.
    let tag = &a.prefix()["tokenbench:".len()..];
    let star = RedisStore::connect_with_prefix(&url, &format!("tokenbench:{tag}*:")).unwrap();
    let plain = RedisStore::connect_with_prefix(&url, &format!("tokenbench:{tag}x:")).unwrap();
    star.put("1", &record("s")).unwrap();
    plain.put("1", &record("p")).unwrap();
    assert_eq!(star.len().unwrap(), 1);
    assert_eq!(star.cleanup().unwrap(), 1);
    assert_eq!(plain.get("1").unwrap().unwrap().claims.user_id, "p");

    // Sharing a prefix: only the owner cleans up on drop.
    let shared = RedisStore::connect_with_prefix(&url, plain.prefix())
        .unwrap()
        .with_cleanup_on_drop(false);
    drop(shared);
    assert_eq!(plain.len().unwrap(), 1);
    assert!(RedisStore::connect_with_prefix(&url, "").is_err());
}

#[test]
fn introspection_for_the_workloads() {
    let Some(url) = redis_url() else { return };
    let store = connect(&url).with_pool_size(2);
    assert_eq!(store.pool_size(), 2);
    assert!(store.url().starts_with("redis://"), "{}", store.url());
    assert!(
        store
            .server_info("server")
            .unwrap()
            .contains("redis_version")
    );
    assert_eq!(store.memory_usage("absent").unwrap(), None);
    store.put("m", &record("m")).unwrap();
    let bytes = store.memory_usage("m").unwrap().unwrap();
    let stored: Vec<u8> = redis::cmd("GET")
        .arg(store.key("m"))
        .query(&mut raw(&url))
        .unwrap();
    let json_len = serde_json::to_vec(&record("m")).unwrap().len();
    assert!(
        stored.len() * 10 < json_len * 7 && bytes >= stored.len() as u64,
        "{bytes} bytes in Redis for a {}-byte record ({json_len} bytes as JSON)",
        stored.len()
    );
    assert!(format!("{store:?}").contains(store.prefix()));
}

#[test]
fn url_never_shows_the_password() {
    // The password is checked only when connecting, so a lazy store shows the URL offline.
    let store = RedisStore::connect_lazy("redis://user:hunter2@127.0.0.1:1/3").unwrap();
    assert_eq!(store.url(), "redis://user:***@127.0.0.1:1/3");
    assert!(!format!("{store:?}").contains("hunter2"));
}

// ---------------------------------------------------------------------------------------
// The session scheme on Redis.

#[test]
fn rotate_kills_the_old_id_on_redis() {
    let Some(url) = redis_url() else { return };
    let clock = Arc::new(ManualClock::starting_now());
    let s = SessionScheme::new(connect(&url), session_config(), clock.clone());
    let claims = ClaimSet::Large.claims("u-9");
    let old = s.issue(&claims).unwrap();
    let old_csrf = s.csrf_token(&old).unwrap();
    let new = s.rotate(&old).unwrap();
    assert_eq!(s.validate(&old).unwrap_err(), Rejection::UnknownSession);
    assert_eq!(*s.validate(&new).unwrap().claims, claims);
    assert_ne!(s.csrf_token(&new).unwrap(), old_csrf);
    assert!(matches!(
        s.rotate(&old),
        Err(SchemeError::NotRevocable(Rejection::UnknownSession))
    ));
    assert_eq!(s.store().len().unwrap(), 1);
    assert!(
        raw_keys(&url, s.store().prefix())
            .iter()
            .all(|k| k.ends_with(&new))
    );
    // Sliding expiry writes through to Redis.
    clock.advance(Duration::from_secs(20 * 60));
    assert!(s.validate(&new).is_ok());
    clock.advance(Duration::from_secs(20 * 60));
    assert!(s.validate(&new).is_ok(), "idle deadline moved by the touch");
    clock.advance(Duration::from_secs(30 * 60));
    assert_eq!(s.validate(&new).unwrap_err(), Rejection::IdleExpired);
    assert!(
        s.store().is_empty().unwrap(),
        "an expired session is deleted"
    );
}

// ---------------------------------------------------------------------------------------
// The denylist.

fn jwt_with(denylist: Arc<dyn Denylist>) -> JwtScheme {
    tokenbench::crypto::install(CryptoBackend::AwsLc).expect("one backend per test binary");
    JwtScheme::new(
        JwtAlg::HS256,
        JwtConfig::default(),
        RevocationStrategy::CentralDenylist(denylist),
        Arc::new(SystemClock),
    )
    .unwrap()
}

#[test]
fn jwt_central_denylist_on_redis_revokes() {
    let Some(url) = redis_url() else { return };
    let denylist = Arc::new(RedisDenylist::connect(&url).unwrap());
    let jwt = jwt_with(denylist.clone());
    // A second validator node sharing the same denylist through Redis.
    let shared = RedisDenylist::connect_with_prefix(&url, denylist.prefix())
        .unwrap()
        .with_cleanup_on_drop(false);
    let other_node = JwtScheme::with_keys(
        jwt.keys().clone(),
        JwtConfig::default(),
        RevocationStrategy::CentralDenylist(Arc::new(shared)),
        Arc::new(SystemClock),
    );
    let keep = jwt.issue(&typical()).unwrap();
    let gone = jwt.issue(&typical()).unwrap();
    assert!(other_node.validate(&gone).is_ok());
    jwt.revoke(&gone).unwrap();
    assert_eq!(jwt.validate(&gone).unwrap_err(), Rejection::Revoked);
    assert_eq!(other_node.validate(&gone).unwrap_err(), Rejection::Revoked);
    assert!(jwt.validate(&keep).is_ok());
    assert_eq!(denylist.len(), 1);
    assert_eq!(denylist.name(), "redis");

    // The entry expires with the token: Redis TTL at exp, `contains` honours `now`.
    let (jti, exp) = denylist.fetch_all().unwrap().remove(0);
    let left = pttl(&url, &format!("{}{jti}", denylist.prefix()));
    let expected = i64::try_from(exp * 1000).unwrap() - i64::try_from(now_ms()).unwrap();
    assert!(
        left > 0 && (left - expected).abs() < 2_000,
        "{left} vs {expected}"
    );
    assert!(denylist.contains(&jti, exp - 1).unwrap());
    assert!(!denylist.contains(&jti, exp).unwrap());
    assert_eq!(denylist.cleanup().unwrap(), 1);
    assert_eq!(denylist.try_len().unwrap(), 0);
}

#[test]
fn denylist_snapshot_and_fetch_all_copy_every_entry() {
    let Some(url) = redis_url() else { return };
    let denylist = RedisDenylist::connect(&url).unwrap();
    let exp = now_ms() / 1000 + 600;
    for i in 0..1500 {
        denylist.insert(&format!("jti {i}"), exp + i).unwrap();
    }
    let all = denylist.fetch_all().unwrap();
    assert_eq!(all.len(), 1500);
    assert!(all.contains(&("jti 7".to_owned(), exp + 7)));
    let copy = denylist.snapshot().unwrap();
    assert_eq!(copy.len(), 1500);
    assert!(copy.contains("jti 1499", exp).unwrap());
    assert!(!copy.contains("jti 0", exp).unwrap(), "expired at exp");
}

/// Polls `cond` every 5 ms for up to `limit`.
fn eventually(limit: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if cond() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    cond()
}

#[test]
fn denylist_pub_sub_pushes_revocations_to_local_copies() {
    let Some(url) = redis_url() else { return };
    let central = RedisDenylist::connect(&url).unwrap();
    let nodes: Vec<Arc<MemoryDenylist>> = (0..3).map(|_| Arc::new(MemoryDenylist::new())).collect();
    let subs = nodes
        .iter()
        .map(|n| central.subscribe(n.clone()))
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    assert!(subs.iter().all(|s| s.is_connected()));
    let exp = now_ms() / 1000 + 600;
    central.insert("revoked jti", exp).unwrap();
    assert_eq!(
        central.publish("revoked jti", exp).unwrap(),
        3,
        "three subscribers"
    );
    for (i, node) in nodes.iter().enumerate() {
        assert!(
            eventually(Duration::from_secs(2), || node
                .contains("revoked jti", 0)
                .unwrap()),
            "node {i} never heard of the revocation"
        );
    }
    assert!(subs.iter().all(|s| s.received() == 1));
    // Another denylist's channel does not leak in.
    let other = RedisDenylist::connect(&url).unwrap();
    assert_eq!(other.publish("x", exp).unwrap(), 0);
    drop(subs);
    assert_eq!(
        central.publish("late", exp).unwrap(),
        0,
        "stopped subscribers leave"
    );
    assert!(!nodes[0].contains("late", 0).unwrap());
}

// ---------------------------------------------------------------------------------------
// Fail closed, without any server.

#[test]
fn nothing_listening_fails_quickly_and_closed() {
    let url = format!("redis://127.0.0.1:{}/", spare_port());
    let start = Instant::now();
    let err = RedisStore::connect(&url).unwrap_err();
    assert!(matches!(err, StoreError::Unavailable(_)), "{err:?}");
    assert!(err.to_string().contains("127.0.0.1"), "{err}");
    assert!(matches!(
        RedisDenylist::connect(&url).unwrap_err(),
        StoreError::Unavailable(_)
    ));

    // A store created while Redis is down rejects everything it cannot check.
    let clock = Arc::new(ManualClock::starting_now());
    let sessions = SessionScheme::new(
        RedisStore::connect_lazy(&url).unwrap(),
        SessionConfig::default(),
        clock,
    );
    let id = b(&rand_bytes());
    assert!(matches!(
        sessions.validate(&id),
        Err(Rejection::StoreUnavailable(_))
    ));
    assert!(matches!(
        sessions.issue(&typical()),
        Err(SchemeError::Store(StoreError::Unavailable(_)))
    ));
    assert!(matches!(
        sessions.revoke(&id),
        Err(SchemeError::Store(StoreError::Unavailable(_)))
    ));
    assert!(!sessions.verify_csrf(&id, "anything"));

    let denylist = Arc::new(RedisDenylist::connect_lazy(&url).unwrap());
    let jwt = jwt_with(denylist.clone());
    let token = jwt.issue(&typical()).unwrap();
    assert!(matches!(
        jwt.validate(&token),
        Err(Rejection::StoreUnavailable(_))
    ));
    assert!(matches!(jwt.revoke(&token), Err(SchemeError::Store(_))));
    assert!(denylist.try_len().is_err());
    assert_eq!(denylist.len(), 0);
    assert!(denylist.subscribe(Arc::new(MemoryDenylist::new())).is_err());
    drop((sessions, jwt, denylist));
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "took {:?}",
        start.elapsed()
    );
}

#[test]
fn malformed_urls_give_a_clear_error() {
    for url in [
        "notaurl",
        "redis://",
        "",
        "http://127.0.0.1:6379/",
        "redis://127.0.0.1:notaport/",
    ] {
        let start = Instant::now();
        let err = RedisStore::connect(url).unwrap_err();
        assert!(start.elapsed() < Duration::from_secs(1), "{url:?}");
        let text = err.to_string();
        assert!(
            matches!(err, StoreError::Unavailable(_)) && text.contains("invalid Redis URL"),
            "{url:?}: {text}"
        );
        assert!(RedisStore::connect_lazy(url).is_err(), "{url:?}");
        assert!(RedisDenylist::connect(url).is_err(), "{url:?}");
    }
}

// ---------------------------------------------------------------------------------------
// Without Redis.

#[test]
fn a_missing_redis_fails_the_test_on_ci_and_skips_it_elsewhere() {
    let on_ci = std::panic::catch_unwind(|| skip::skip_or_fail("no server for this test", true));
    let message = on_ci.expect_err("on CI a missing Redis fails the test");
    let message = message
        .downcast_ref::<String>()
        .expect("a formatted panic message");
    assert!(
        message.starts_with("no server for this test, and CI is set"),
        "{message}"
    );
    // Locally the test returns, and the notice is printed once per reason.
    assert!(skip::first_time("a reason only this test gives"));
    assert!(!skip::first_time("a reason only this test gives"));
    // CI is "set" when it has a value: `CI=` (empty) is not.
    assert!(skip::is_ci(Some("1".as_ref())));
    assert!(skip::is_ci(Some("true".as_ref())));
    assert!(!skip::is_ci(Some("".as_ref())));
    assert!(!skip::is_ci(None));
    // The panic for an unreachable shared server never shows its password.
    let text = skip::unreachable("redis://u:s3cr3tpw@h:1/", &"refused");
    assert!(
        text.contains("redis://u:***@h:1/") && !text.contains("s3cr3tpw"),
        "{text}"
    );
}

// ---------------------------------------------------------------------------------------
// A private server, killed and restarted.

#[test]
fn validation_fails_closed_while_redis_is_down_and_recovers_after_restart() {
    let Some(server) = PrivateServer::start_or_skip(Persistence::None) else {
        return;
    };
    let url = server.url();
    let clock = Arc::new(ManualClock::starting_now());
    let s = SessionScheme::new(
        RedisStore::connect(&url).unwrap(),
        session_config(),
        clock.clone(),
    );
    let central = RedisDenylist::connect(&url).unwrap();
    let local = Arc::new(MemoryDenylist::new());
    let subscription = central.subscribe(local.clone()).unwrap();
    let token = s.issue(&typical()).unwrap();
    // Use several pooled connections, so that several go stale at once.
    std::thread::scope(|scope| {
        for _ in 0..4 {
            scope.spawn(|| {
                for _ in 0..50 {
                    assert!(s.validate(&token).is_ok());
                }
            });
        }
    });

    let (port, dir) = server.kill();
    let down = Instant::now();
    let mut attempts = 0;
    while down.elapsed() < Duration::from_millis(500) {
        let start = Instant::now();
        match s.validate(&token) {
            Err(Rejection::StoreUnavailable(_)) => {}
            other => panic!("validated {other:?} while Redis was down"),
        }
        assert!(start.elapsed() < Duration::from_secs(5));
        attempts += 1;
    }
    assert!(attempts > 2);
    assert!(
        eventually(Duration::from_secs(2), || !subscription.is_connected()),
        "the subscriber noticed"
    );

    let server = PrivateServer::start(port, dir, Persistence::None);
    // Nothing was persisted: the old session is unknown, never accepted.
    assert_eq!(s.validate(&token).unwrap_err(), Rejection::UnknownSession);
    let fresh = s
        .issue(&typical())
        .expect("the first write after the restart succeeds");
    assert!(s.validate(&fresh).is_ok());
    assert!(s.store().touch(&fresh, 1, 2).unwrap());
    assert_eq!(s.store().len().unwrap(), 1);

    // The subscriber comes back and replays what was stored while it was away.
    let exp = now_ms() / 1000 + 600;
    central.insert("while-away", exp).unwrap();
    assert!(
        eventually(Duration::from_secs(5), || local
            .contains("while-away", 0)
            .unwrap()),
        "replayed after reconnect"
    );
    assert!(subscription.is_connected());
    assert!(subscription.reconnects() >= 1);
    central.publish("pushed", exp).unwrap();
    assert!(eventually(Duration::from_secs(2), || local
        .contains("pushed", 0)
        .unwrap()));
    drop(subscription);
    drop(s);
    drop(central);
    assert!(
        raw_keys(&url, "tokenbench:").is_empty(),
        "everything cleaned up"
    );
    drop(server);
}
