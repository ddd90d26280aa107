//! The node runs (`http --nodes K --store-rtt R`): sites of K `serve` processes over the
//! shared Redis, directly and through the latency proxy, with the end-to-end revocation
//! trials and the faults; and that nothing is left running afterwards, even when the run
//! itself is killed.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use tokenbench::load::SearchParams;
use tokenbench::scheme::JwtAlg;
use tokenbench::scheme::spec::{SchemeSpec, StoreSpec};
use tokenbench::workload::NoProgress;
use tokenbench::workload::http::nodes::{self, SiteParams};

use crate::common::skip::shared_redis_url;

fn exe() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_tokenbench"))
}

/// The processes whose parent is `pid` (zombies left out).
fn children_of(pid: u32) -> Vec<u32> {
    let mut out = Vec::new();
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return out;
    };
    for e in dir.flatten() {
        let Ok(child) = e.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{child}/stat")) else {
            continue;
        };
        // The fields after the command name: state, ppid…
        let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) else {
            continue;
        };
        let mut f = rest.split_whitespace();
        let (state, ppid) = (f.next(), f.next().and_then(|p| p.parse::<u32>().ok()));
        if ppid == Some(pid) && state != Some("Z") {
            out.push(child);
        }
    }
    out
}

fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| {
            s.rsplit_once(')')
                .map(|(_, r)| r.split_whitespace().next() != Some("Z"))
        })
        .unwrap_or(false)
}

fn tiny() -> SiteParams {
    SiteParams {
        nodes: vec![2],
        rtts: vec![Duration::ZERO, Duration::from_millis(1)],
        search: SearchParams {
            start_rate: 200.0,
            max_rate: 400.0,
            growth: 2.0,
            bisect_steps: 0,
            warmup: Duration::from_millis(20),
            window: Duration::from_millis(80),
            p99_objective: Duration::from_millis(200),
            ..SearchParams::default()
        },
        common_window: Duration::from_millis(100),
        trials: 2,
        accounts: 8,
        vus: 4,
        ..SiteParams::quick()
    }
}

#[test]
fn node_runs_fill_every_row_and_leave_nothing_running() {
    let Some(url) = shared_redis_url() else {
        return;
    };
    let store = StoreSpec::Redis(url.clone());
    let schemes = [
        SchemeSpec::Session(store.clone()),
        SchemeSpec::Jwt(JwtAlg::HS256),
    ];
    let runs = nodes::run(
        exe(),
        &tiny(),
        &schemes,
        Some(&store),
        Vec::new(),
        &NoProgress,
    )
    .unwrap();

    // A row per scheme × RTT; the requests spread over both nodes.
    assert_eq!(runs.rows.len(), 4, "{:?}", runs.notes);
    for r in &runs.rows {
        assert_eq!(r.nodes, 2);
        let spread = &r.common.step.nodes;
        assert_eq!(spread.len(), 2, "{}: per-node counts", r.scheme);
        assert!(
            spread.iter().all(|n| n.ok > 0),
            "{}: a node served nothing: {spread:?}",
            r.scheme
        );
        assert!(r.common.per_node.iter().all(Option::is_some));
        assert!(
            r.floor
                .as_ref()
                .is_some_and(|f| f.cpu_per_request_ns().is_some())
        );
        let session = r.scheme.to_string().starts_with("session");
        // Only the session's requests reach the store: its load and headroom are measured.
        assert_eq!(r.store_load.is_some(), session, "{}", r.scheme);
        if let Some(l) = &r.store_load {
            assert!(l.ops_per_request >= 1.0, "{l:?}");
            assert!(
                l.headroom_rate.is_finite() && l.headroom_rate > 0.0,
                "{l:?}"
            );
        }
        // Through the proxy the store's round trip is measured, at least the one added.
        if r.rtt_ms > 0.0 {
            let m = r.measured_rtt_ms.expect("the proxy's round trip");
            assert!(m >= 0.9, "measured {m} ms through a 1 ms proxy");
        }
    }

    // Every strategy converged, on both RTTs.
    let strategies: Vec<&str> = runs
        .end_to_end
        .iter()
        .map(|e| e.strategy.as_str())
        .collect();
    for s in [
        "session-central",
        "session-cache",
        "jwt-denylist-central",
        "jwt-denylist-pushed",
        "jwt-denylist-polled",
    ] {
        assert_eq!(strategies.iter().filter(|x| **x == s).count(), 2, "{s}");
    }
    for e in &runs.end_to_end {
        assert_eq!(e.failed, 0, "{} at {} ms", e.strategy, e.rtt_ms);
        assert_eq!(e.latencies_ns.len(), e.trials);
    }

    // Faults: the surviving node serves; the store cut fails closed for what needs it.
    let fault = |name: &str| {
        runs.faults
            .iter()
            .find(|f| f.fault == name)
            .unwrap_or_else(|| panic!("no {name} in {:?}", runs.faults))
    };
    let killed = fault("node-killed");
    assert!(
        killed.ok_after > 0 && killed.unreachable_after > 0,
        "{killed:?}"
    );
    for name in ["store-cut/session", "store-cut/jwt-denylist-central"] {
        let f = fault(name);
        assert_eq!(f.accepted_unverified, 0, "{f:?}");
        assert_eq!(f.ok_after, 0, "{f:?}");
        assert!(f.refused_after > 0, "{f:?}");
    }
    assert!(fault("store-cut/jwt").ok_after > 0);

    // Nothing left: no child process, no record of the sites in Redis.
    let deadline = Instant::now() + Duration::from_secs(5);
    while !children_of(std::process::id()).is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(children_of(std::process::id()), Vec::<u32>::new());
    let mut conn = redis::Client::open(url.as_str())
        .unwrap()
        .get_connection()
        .unwrap();
    let pattern = format!("tokenbench:site:tb{}n*", std::process::id());
    let left: Vec<String> = redis::cmd("KEYS").arg(&pattern).query(&mut conn).unwrap();
    assert!(left.is_empty(), "records left: {left:?}");
}

#[test]
fn a_killed_run_leaves_no_server_or_proxy_behind() {
    let Some(url) = shared_redis_url() else {
        return;
    };
    let out = tempfile::tempdir().unwrap();
    let mut run = Command::new(exe())
        .args([
            "http",
            "--quick",
            "--schemes",
            "session,jwt",
            "--algs",
            "HS256",
            "--stores",
            &url,
            "--nodes",
            "2",
            "--store-rtt",
            "1ms",
            "--http-transports",
            "bearer",
            "--http-protocols",
            "http1.1",
            "--out",
        ])
        .arg(out.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Wait until it runs a site of two nodes and a proxy (four children or more), or at
    // least the single-row server; collect them.
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut seen: Vec<u32> = Vec::new();
    while Instant::now() < deadline && seen.len() < 3 {
        for c in children_of(run.id()) {
            if !seen.contains(&c) {
                seen.push(c);
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(!seen.is_empty(), "the run started no server");
    run.kill().unwrap();
    run.wait().unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    while seen.iter().any(|&p| alive(p)) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    let left: Vec<u32> = seen.into_iter().filter(|&p| alive(p)).collect();
    assert!(
        left.is_empty(),
        "still running after the run was killed: {left:?}"
    );
}
