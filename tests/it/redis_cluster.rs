//! The Redis store, denylist and workloads on a Redis Cluster (`redis+cluster://` URLs).
//!
//! Each test starts its own private three-node cluster (primaries only) on spare ports with
//! `redis-server --cluster-enabled yes` and `redis-cli --cluster create`, and kills it at the
//! end; nothing touches the shared server. The tests are skipped, with one notice on stderr,
//! only when `redis-server` or `redis-cli` is not on `PATH`, and fail then when `CI` is set
//! (`crate::common::skip`).

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::common::{PrivateCluster, record, tiny_options};
use tokenbench::claims::ClaimSet;
use tokenbench::clock::{Clock, ManualClock};
use tokenbench::denylist::{Denylist, MemoryDenylist, RedisDenylist};
use tokenbench::results::schema::revoke::RevokeResults;
use tokenbench::scheme::spec::Family;
use tokenbench::scheme::{Rejection, SessionConfig, SessionScheme, TokenScheme};
use tokenbench::store::{
    RedisProbe, RedisStore, ServerProbe, SessionRecord, SessionStore, StoreError,
};
use tokenbench::workload::validate::{Operation, ValidateResults};
use tokenbench::workload::{NoProgress, revoke, scale, size, validate};

/// A fresh cluster, or `None` (skip, see `crate::common::skip`) when the tools are missing.
/// Tests that kill nodes need one of their own; the others could share
/// (`PrivateCluster::shared_or_skip`), but these are few and each checks keys per node.
fn cluster() -> Option<PrivateCluster> {
    PrivateCluster::start_or_skip(3)
}

/// The contract itself runs on a cluster in `stores` (`store_redis_cluster`); this checks
/// what only a cluster has: keys spread over every node, and len, cleanup and rename across
/// them.
#[test]
fn keys_spread_over_every_node_and_len_cleanup_and_rename_see_them_all() {
    let Some(cluster) = cluster() else { return };
    let store = RedisStore::connect(&cluster.url()).expect("connect to the cluster");
    assert!(
        store.url().starts_with("redis+cluster://127.0.0.1:"),
        "{}",
        store.url()
    );
    let n = 300;
    for i in 0..n {
        store
            .put(&format!("s{i}"), &record(&format!("u{i}")))
            .unwrap();
    }
    let per_node = cluster.keys_per_node();
    assert!(per_node.iter().all(|&k| k > 0), "{per_node:?}");
    assert_eq!(per_node.iter().sum::<u64>(), n);
    assert_eq!(store.len().unwrap(), n as usize);

    // Most pairs of keys hash to slots on different nodes.
    for i in 0..50 {
        let (old, new) = (format!("s{i}"), format!("moved{i}"));
        let moved = store
            .rename(&old, &new, &|r: &mut SessionRecord| {
                r.csrf_token = "new".into()
            })
            .unwrap();
        assert!(moved, "{old}");
        assert_eq!(store.get(&old).unwrap(), None, "{old} still alive");
        let r = store.get(&new).unwrap().expect("moved record");
        assert_eq!(
            (r.csrf_token.as_ref(), r.claims.user_id.as_str()),
            ("new", format!("u{i}").as_str())
        );
    }
    assert_eq!(cluster.keys_per_node().iter().sum::<u64>(), n);
    assert_eq!(store.cleanup().unwrap(), n as usize);
    assert_eq!(cluster.keys_per_node().iter().sum::<u64>(), 0);
}

#[test]
fn sessions_and_denylists_work_on_a_cluster() {
    let Some(cluster) = cluster() else { return };
    let url = cluster.url();
    let clock = Arc::new(ManualClock::starting_now());
    let config = SessionConfig {
        sliding: true,
        ..SessionConfig::default()
    };
    let scheme = SessionScheme::new(RedisStore::connect(&url).unwrap(), config, clock.clone());
    let token = scheme.issue(&ClaimSet::Typical.claims("alice")).unwrap();
    assert_eq!(scheme.validate(&token).unwrap().claims.user_id, "alice");
    let rotated = scheme.rotate(&token).unwrap();
    assert_eq!(
        scheme.validate(&token).unwrap_err(),
        Rejection::UnknownSession,
        "the old ID dies on rotate"
    );
    assert!(scheme.validate(&rotated).is_ok());
    scheme.revoke(&rotated).unwrap();
    assert_eq!(
        scheme.validate(&rotated).unwrap_err(),
        Rejection::UnknownSession
    );

    // Central denylist, and fetch_all over every node.
    let denylist = RedisDenylist::connect(&url).unwrap();
    let exp = clock.now_secs() + 3600;
    for i in 0..60 {
        denylist.insert(&format!("jti-{i}"), exp).unwrap();
    }
    assert!(denylist.contains("jti-3", clock.now_secs()).unwrap());
    assert!(!denylist.contains("jti-x", clock.now_secs()).unwrap());
    let all = denylist.fetch_all().unwrap();
    assert_eq!(all.len(), 60);
    assert_eq!(denylist.len(), 60);

    // Pushed denylist: a publish reaches a subscriber on the first node whichever node
    // the publish went to.
    let local = Arc::new(MemoryDenylist::new());
    let subscription = denylist.subscribe(local.clone()).unwrap();
    denylist.insert("pushed", exp).unwrap();
    denylist.publish("pushed", exp).unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    while !local.contains("pushed", clock.now_secs()).unwrap() {
        assert!(Instant::now() < deadline, "the publication never arrived");
        std::thread::sleep(Duration::from_millis(10));
    }
    subscription.stop();
    assert_eq!(denylist.cleanup().unwrap(), 61);
}

#[test]
fn server_figures_are_summed_over_every_primary() {
    let Some(cluster) = cluster() else { return };
    let store = RedisStore::connect(&cluster.url())
        .unwrap()
        .with_cleanup_on_drop(false);
    let text = store.server_info("server").unwrap();
    assert_eq!(text.matches("redis_version:").count(), 3, "{text}");
    let memory = |url: &str| {
        let probe = RedisProbe::new(url).unwrap();
        probe.memory_bytes().unwrap().unwrap()
    };
    let total = memory(&cluster.url());
    let each: u64 = cluster.node_urls().iter().map(|u| memory(u)).sum();
    // The same three allocators read a moment apart: equal within a few percent.
    let ratio = total as f64 / each as f64;
    assert!((0.9..1.1).contains(&ratio), "{total} against {each}");
    let probe = RedisProbe::new(&cluster.url()).unwrap();
    assert_eq!(probe.server(), "Redis Cluster");
    assert!(probe.cpu_secs().unwrap().unwrap() > 0.0);
    // Commands over every primary: our 100 lookups, plus the probe's own INFO reads.
    let ops_before = probe.ops().unwrap().expect("INFO stats counts");
    for i in 0..100 {
        store.get(&format!("no-such-session-{i}")).unwrap();
    }
    let ops = probe.ops().unwrap().unwrap() - ops_before;
    assert!((100..=110).contains(&ops), "{ops} commands for 100 lookups");
}

#[test]
fn a_dead_node_fails_closed_and_never_accepts() {
    let Some(mut cluster) = cluster() else { return };
    let url = cluster.url();
    let clock = Arc::new(ManualClock::starting_now());
    let scheme = SessionScheme::new(
        RedisStore::connect(&url).unwrap(),
        SessionConfig::default(),
        clock,
    );
    let tokens: Vec<String> = (0..60)
        .map(|i| {
            scheme
                .issue(&ClaimSet::Minimal.claims(&format!("u{i}")))
                .unwrap()
        })
        .collect();
    cluster.kill_node(2);
    let started = Instant::now();
    let (mut accepted, mut unavailable) = (0, 0);
    for t in &tokens {
        match scheme.validate(t) {
            Ok(_) => accepted += 1,
            Err(Rejection::StoreUnavailable(_)) => unavailable += 1,
            Err(other) => panic!("a live session refused for {other:?}"),
        }
    }
    // Sessions on the live nodes still validate; those on the dead one are refused as
    // unavailable, never accepted and never called unknown.
    assert!(unavailable > 0, "no session was on the killed node");
    assert!(accepted > 0, "sessions on live nodes were refused too");
    assert_eq!(accepted + unavailable, tokens.len());
    assert!(
        started.elapsed() < Duration::from_secs(120),
        "failing closed took {:?}",
        started.elapsed()
    );
    // A store cannot be opened on a cluster whose every node is gone.
    drop(cluster);
    match RedisStore::connect(&url) {
        Err(StoreError::Unavailable(why)) => assert!(why.contains("redis+cluster://"), "{why}"),
        other => panic!("expected unavailable, got {other:?}"),
    }
}

#[test]
fn every_workload_runs_on_a_cluster_and_leaves_no_key() {
    let Some(cluster) = cluster() else { return };
    let mut opts = tiny_options(&cluster.url());
    opts.settings.families = vec![Family::Session, Family::Jwt];
    let name = "session-redis-cluster";

    let s = size::run(&opts.settings, &opts.size, &NoProgress).expect("size workload");
    let usage = s
        .memory
        .iter()
        .find(|m| m.scheme == name)
        .expect("a cluster memory row");
    assert!(usage.bytes_per_entry > 300.0, "{usage:?}");

    let v: ValidateResults =
        validate::run(&opts.settings, &opts.validate, &NoProgress).expect("validate workload");
    let row = v
        .find(
            crate::common::id(name),
            Operation::Validate,
            ClaimSet::Typical,
            None,
        )
        .expect("a cluster validate row");
    assert_eq!(row.errors, 0, "{row:?}");
    assert!(row.server_cpu_ns_per_op.is_some_and(|ns| ns >= 0.0));

    let sc = scale::run(&opts.settings, &opts.scale, &NoProgress).expect("scale workload");
    let points: Vec<_> = sc.points.iter().filter(|p| p.scheme == name).collect();
    assert_eq!(points.len(), 2, "one point per thread count");
    assert!(points.iter().all(|p| p.errors == 0 && p.ops > 0));

    let r: RevokeResults =
        revoke::run(&opts.settings, &opts.revoke, &NoProgress).expect("revoke workload");
    for s in r.strategies.iter().filter(|s| s.strategy.is_redis()) {
        assert_eq!(s.errors, 0, "{}: failed trials", s.strategy);
        assert_eq!(s.latencies_ns.len(), opts.revoke.trials, "{}", s.strategy);
    }
    assert!(
        r.strategy(tokenbench::workload::revoke::Strategy::SessionCentralRedis)
            .is_some()
    );

    assert_eq!(
        cluster.keys_per_node().iter().sum::<u64>(),
        0,
        "keys left behind"
    );
}
