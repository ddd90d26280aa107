//! The generator's own limit: a slow server makes every lane late, which is the server's
//! latency and never pacer lag, so the step stays valid (pinned or not); `cores` pins the
//! generator and refuses a core this process may not use.

use super::*;

use std::convert::Infallible;

use hyper::body::Bytes;

/// An HTTP/1.1 server on its own runtime answering every request `200` after `delay`.
fn slow_server(delay: Duration) -> (tokio::runtime::Runtime, String) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap();
    rt.spawn(async move {
        while let Ok((s, _)) = listener.accept().await {
            tokio::spawn(async move {
                let svc = hyper::service::service_fn(move |_req| async move {
                    tokio::time::sleep(delay).await;
                    Ok::<_, Infallible>(hyper::Response::new(http_body_util::Full::new(
                        Bytes::new(),
                    )))
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(s), svc)
                    .await;
            });
        }
    });
    (rt, format!("http://{addr}"))
}

#[test]
fn a_slow_server_makes_lanes_late_but_the_step_stays_valid() {
    let (_rt, url) = slow_server(Duration::from_millis(20));
    let last = *tokenbench::net::placement::allowed_cores()
        .unwrap()
        .last()
        .unwrap();
    for cores in [Vec::new(), vec![last]] {
        let mut c = LoadConfig::new(
            Target::parse(&url).unwrap(),
            Protocol::Http1,
            Transport::Cookie,
        );
        c.vus = 4;
        c.cores = cores.clone();
        // Lanes fall hundreds of ms behind here: were that lateness counted as the pacer's
        // lag, p99 lag would be far above 10 ms. (10 ms, not the 2 ms default: the whole
        // suite runs beside this test and may delay a wake-up by a few ms.)
        c.max_lag = Duration::from_millis(10);
        let mut g = Generator::new(c).unwrap();
        // 4 users that each wait 20 ms per answer manage 200 requests/s: 400 are offered.
        let s = g
            .run_step(400.0, Duration::from_millis(50), Duration::from_millis(300))
            .unwrap();
        assert!(s.late_share > 0.5, "{cores:?}: {s:?}");
        assert!(s.achieved_rate < 0.75 * s.offered_rate, "{cores:?}: {s:?}");
        assert!(s.latency.median_ns > 20e6, "{cores:?}: {s:?}");
        assert!(s.valid, "{cores:?}: {:?}", s.invalid_reason);
    }
}

#[test]
fn the_generator_refuses_a_core_it_may_not_use() {
    let mut c = LoadConfig::new(
        Target::parse("http://127.0.0.1:9").unwrap(),
        Protocol::Http1,
        Transport::Cookie,
    );
    c.cores = vec![100_000];
    assert!(matches!(Generator::new(c), Err(LoadError::Config(_))));
    // On the command line: a bad option, exit status 2.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_tokenbench"))
        .args(["load", "--target", "http://127.0.0.1:9", "--rate", "10"])
        .args(["--cores", "1000"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("core 1000"));
}
