//! Revocation end to end: on a site of K nodes, a user logs in on one node, every node
//! accepts the credential, the user logs out on one node, and every node is asked
//! `GET /me` until each answers 401. The latency is the time from the logout's answer to
//! the last node's first 401, per trial, for each strategy a site can revoke with:
//!
//! | strategy | site |
//! |---|---|
//! | `session-central` | sessions in the shared store |
//! | `session-cache` | the same, with a per-node cache of lookups (`--session-cache`) |
//! | `jwt-denylist-central` | JWT, denylist in the shared store, looked up per request |
//! | `jwt-denylist-pushed` | JWT, a denylist copy per node fed by Redis pub/sub |
//! | `jwt-denylist-polled` | JWT, a denylist copy per node copied every `--poll-interval` |
//!
//! A trial fails when the credential is not accepted everywhere before the logout, the
//! logout is refused, or some node still accepts it after the strategy's window + 2 s.

use std::path::Path;
use std::time::{Duration, Instant};

use super::nodes::SiteParams;
use super::other;
use super::probe::{Nodes, Reply};
use super::site::{Site, SiteSpec};
use crate::http::Revocation;
use crate::measure::stats::Summary;
use crate::net::placement::Placement;
use crate::results::schema::revoke::EndToEndResult;
use crate::scheme::JwtAlg;
use crate::scheme::spec::{SchemeSpec, StoreKind, StoreSpec};
use crate::workload::WorkloadResult;

/// One strategy's site.
struct Strategy {
    name: &'static str,
    spec: SiteSpec,
    window: Option<Duration>,
}

fn strategies(p: &SiteParams, via: &StoreSpec, users: usize) -> Vec<Strategy> {
    let site = |scheme: SchemeSpec, revocation: Revocation, store: Option<StoreSpec>| {
        SiteSpec::bearer(scheme, revocation, store, users, p.node_threads)
    };
    let session = SchemeSpec::Session(via.clone());
    let jwt = SchemeSpec::Jwt(JwtAlg::HS256);
    let mut out = vec![
        Strategy {
            name: "session-central",
            spec: site(session.clone(), Revocation::None, None),
            window: None,
        },
        Strategy {
            name: "session-cache",
            spec: SiteSpec {
                session_cache: Some(p.session_cache),
                ..site(session, Revocation::None, None)
            },
            window: Some(p.session_cache),
        },
        Strategy {
            name: "jwt-denylist-central",
            spec: site(jwt.clone(), Revocation::Denylist, Some(via.clone())),
            window: None,
        },
    ];
    // The copies per node are fed by Redis (pub/sub, or a periodic copy).
    if via.kind() == StoreKind::Redis {
        out.push(Strategy {
            name: "jwt-denylist-pushed",
            spec: site(jwt.clone(), Revocation::Pushed, Some(via.clone())),
            window: None,
        });
        out.push(Strategy {
            name: "jwt-denylist-polled",
            spec: SiteSpec {
                poll_interval: Some(p.poll_interval),
                ..site(jwt, Revocation::Polled, Some(via.clone()))
            },
            window: Some(p.poll_interval),
        });
    }
    out
}

/// Runs every strategy's trials on sites of `k` nodes whose store is `via` (the store
/// behind the proxy adding `rtt`; `store` is the same store, direct).
pub fn run(
    exe: &Path,
    p: &SiteParams,
    via: &StoreSpec,
    store: &StoreSpec,
    k: usize,
    rtt: Duration,
    placement: &Placement,
) -> WorkloadResult<Vec<EndToEndResult>> {
    let users = p.trials.max(1) + 2;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(other)?;
    let mut out = Vec::new();
    for s in strategies(p, via, users) {
        let site = Site::start(exe, &s.spec, &placement.nodes)?;
        let mut nodes = Nodes::new(&site.urls()).map_err(other)?;
        let bound = s.window.unwrap_or(Duration::ZERO) + Duration::from_secs(2);
        let mut latencies = Vec::with_capacity(p.trials);
        let mut failed = 0;
        for t in 0..p.trials {
            match runtime.block_on(trial(&mut nodes, t, bound)) {
                Ok(d) => latencies.push(d.as_nanos() as f64),
                Err(_) => failed += 1,
            }
        }
        site.stop()?;
        out.push(EndToEndResult {
            strategy: s.name.to_owned(),
            scheme: s.spec.scheme.id(),
            nodes: k,
            rtt_ms: rtt.as_secs_f64() * 1e3,
            store: Some(store.name().to_owned()),
            window_ms: s.window.map(|w| w.as_secs_f64() * 1e3),
            trials: p.trials,
            failed,
            latency: Summary::from_samples(&latencies).unwrap_or(Summary::EMPTY),
            latencies_ns: latencies,
            in_process_p99_ns: None,
        });
    }
    Ok(out)
}

/// One trial as user `t`: log in on node `t % K`, check every node accepts, log out on
/// node `(t + 1) % K`, then ask every node until each refuses. Back-to-back requests for
/// the first 20 ms (a central lookup converges at once), then one round per millisecond.
async fn trial(nodes: &mut Nodes, t: usize, bound: Duration) -> Result<Duration, String> {
    let k = nodes.len();
    let token = nodes.login(t % k, t).await?;
    for i in 0..k {
        if nodes.me(i, &token).await != Reply::Status(hyper::StatusCode::OK) {
            return Err(format!("node {i} refused the fresh credential"));
        }
    }
    match nodes.logout((t + 1) % k, &token).await {
        Reply::Status(s) if s.is_success() => {}
        other => return Err(format!("logout answered {other:?}")),
    }
    let t0 = Instant::now();
    let mut refused: Vec<Option<Duration>> = vec![None; k];
    while refused.iter().any(Option::is_none) {
        if t0.elapsed() > bound {
            return Err("some node still accepts the credential".into());
        }
        for (i, r) in refused.iter_mut().enumerate() {
            if r.is_none()
                && nodes.me(i, &token).await == Reply::Status(hyper::StatusCode::UNAUTHORIZED)
            {
                *r = Some(t0.elapsed());
            }
        }
        if t0.elapsed() > Duration::from_millis(20) {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }
    Ok(refused.into_iter().flatten().max().unwrap_or_default())
}
