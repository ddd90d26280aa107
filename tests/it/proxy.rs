//! The latency proxy in front of a real store: every round trip through it takes the round
//! trip it adds, on Redis and on PostgreSQL, and cutting it fails requests closed.

use std::time::Duration;

use tokenbench::net::proxy::LatencyProxy;
use tokenbench::scheme::spec::StoreSpec;

use crate::common::skip;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// Round trips to `store` straight and through a proxy adding `rtt`.
fn through_proxy(store: StoreSpec, rtt: Duration) {
    let addr = store.server_address().expect("a single server");
    let upstream = std::net::ToSocketAddrs::to_socket_addrs(&addr)
        .unwrap()
        .next()
        .unwrap();
    let proxy = LatencyProxy::start("127.0.0.1:0".parse().unwrap(), upstream, rtt).unwrap();
    let direct = store.probe().unwrap().expect("a server store");
    let far = store
        .via(proxy.addr())
        .expect("reachable through the proxy")
        .probe()
        .unwrap()
        .unwrap();
    let straight = median(direct.round_trips(20).unwrap());
    let proxied = median(far.round_trips(20).unwrap());
    assert!(straight < rtt, "{straight:?} straight to the store");
    // Never less than the setting; the upper bound is loose for a busy test machine.
    assert!(proxied >= rtt, "{proxied:?} through a {rtt:?} proxy");
    assert!(
        proxied < rtt * 3 + straight,
        "{proxied:?} through a {rtt:?} proxy"
    );
    // Cut: the next round trip fails (an outage), never hangs.
    proxy.cut();
    let err = far.round_trips(1).unwrap_err();
    assert!(far.is_outage(&err), "{err}");
}

#[test]
fn redis_through_the_proxy_takes_its_round_trip() {
    let Some(url) = skip::shared_redis_url() else {
        return;
    };
    through_proxy(StoreSpec::Redis(url), Duration::from_millis(5));
}

#[test]
fn postgres_through_the_proxy_takes_its_round_trip() {
    let Some(url) = skip::shared_postgres_url() else {
        return;
    };
    through_proxy(StoreSpec::Postgres(url), Duration::from_millis(5));
}
