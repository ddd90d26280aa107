//! Real sockets: one smoke test per protocol, 431 on the wire, the generator, the `serve`
//! child, the http workload, overload and a Redis that dies.

use super::*;

/// A server on its own runtime (the generator builds its own).
struct Live {
    _rt: tokio::runtime::Runtime,
    url: String,
    app: Arc<App>,
}

fn live(c: ServerConfig, tls: bool) -> Live {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let app = App::new(c).unwrap();
    let server = rt
        .block_on(tokenbench::http::serve::start(
            app.clone(),
            "127.0.0.1:0".parse().unwrap(),
            tls,
        ))
        .unwrap();
    let url = server.url();
    std::mem::forget(server); // Runs until the runtime is dropped with the test.
    Live { _rt: rt, url, app }
}

fn load_config(l: &Live, protocol: Protocol, transport: Transport) -> LoadConfig {
    let mut c = LoadConfig::new(Target::parse(&l.url).unwrap(), protocol, transport);
    c.insecure = true;
    c.accounts = 3;
    c.vus = 4;
    c.connections = 2;
    c.mix = Mix::Flow {
        reads_per_write: 2,
        writes_per_session: 2,
    };
    c
}

fn smoke(protocol: Protocol, tls: bool) {
    let l = live(
        config(
            SchemeSpec::Session(StoreSpec::Memory),
            Transport::Cookie,
            Revocation::None,
        ),
        tls,
    );
    assert!(l.url.starts_with(if tls { "https://" } else { "http://" }));
    let mut g = Generator::new(load_config(&l, protocol, Transport::Cookie)).unwrap();
    let s = g
        .run_step(
            100.0,
            Duration::from_millis(100),
            Duration::from_millis(500),
        )
        .unwrap();
    assert!(s.requests > 20, "{s:?}");
    assert_eq!(s.errors, 0, "{:?}", s.error_kinds);
    for kind in ["LoginPage", "Login", "Me", "Note", "Logout"] {
        assert!(
            s.kinds.contains_key(kind),
            "{kind} missing from {:?}",
            s.kinds
        );
    }
    assert!(s.bytes_sent_per_request > 0.0 && s.bytes_received_per_request > 0.0);
    let m = l.app.metrics().snapshot();
    assert!(m.requests >= s.requests && m.bytes_in > 0 && m.bytes_out > 0);
    assert!(m.validate.calls > 0 && m.password.calls > 0);
    assert_eq!(m.status_classes[4], 0);
}

/// A small load against a hybrid serve refreshes (once every `refresh_every` requests of
/// a user), over cookies and bearer, and gets no errors; the server counts the refreshes
/// as `POST /token/refresh` answered 200.
fn hybrid_load_refreshes(transport: Transport) {
    let l = live(
        config(
            SchemeSpec::Hybrid(JwtAlg::HS256, StoreSpec::Memory),
            transport,
            Revocation::None,
        ),
        false,
    );
    let mut c = load_config(&l, Protocol::Http1, transport);
    c.mix = Mix::Flow {
        reads_per_write: 3,
        writes_per_session: 4,
    };
    c.refresh_every = Some(3);
    let mut g = Generator::new(c).unwrap();
    let s = g
        .run_step(
            150.0,
            Duration::from_millis(100),
            Duration::from_millis(600),
        )
        .unwrap();
    assert_eq!(s.errors, 0, "{:?}", s.error_kinds);
    let refreshes = s.kinds.get("Refresh").copied().unwrap_or(0);
    let me = s.kinds.get("Me").copied().unwrap_or(0);
    assert!(refreshes > 0, "no refresh in {:?}", s.kinds);
    assert!(refreshes < me, "a refresh every 3 requests: {:?}", s.kinds);
    let m = l.app.metrics().snapshot();
    assert_eq!(
        m.status_classes[4], 0,
        "no 4xx: every refresh token was live"
    );
}

#[test]
fn a_load_on_the_hybrid_refreshes_over_cookies() {
    hybrid_load_refreshes(Transport::Cookie);
}

#[test]
fn a_load_on_the_hybrid_refreshes_over_bearer() {
    hybrid_load_refreshes(Transport::Bearer);
}

#[test]
fn socket_smoke_http1() {
    smoke(Protocol::Http1, false);
}

#[test]
fn socket_smoke_h2c() {
    smoke(Protocol::H2, false);
}

#[test]
fn socket_smoke_h2_over_tls() {
    smoke(Protocol::H2, true);
}

#[test]
fn oversized_headers_get_431_on_the_socket() {
    let l = live(
        config(
            SchemeSpec::Jwt(JwtAlg::HS256),
            Transport::Bearer,
            Revocation::None,
        ),
        false,
    );
    let addr = l.url.trim_start_matches("http://").to_owned();
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(&addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let pad = "x".repeat(40 * 1024);
    let _ = write!(
        s,
        "GET /me HTTP/1.1\r\nHost: {addr}\r\nX-Pad: {pad}\r\n\r\n"
    );
    let mut buf = [0u8; 64];
    let n = s.read(&mut buf).unwrap_or(0);
    let head = String::from_utf8_lossy(&buf[..n]).to_string();
    assert!(head.starts_with("HTTP/1.1 431"), "{head:?}");
}

#[test]
fn bearer_load_with_the_me_only_mix_and_the_search() {
    let l = live(
        config(
            SchemeSpec::Jwt(JwtAlg::ES256),
            Transport::Bearer,
            Revocation::None,
        ),
        false,
    );
    let mut c = load_config(&l, Protocol::Http1, Transport::Bearer);
    c.mix = Mix::MeOnly;
    let mut g = Generator::new(c).unwrap();
    let params = tokenbench::load::SearchParams {
        start_rate: 50.0,
        max_rate: 200.0,
        bisect_steps: 1,
        warmup: Duration::from_millis(50),
        window: Duration::from_millis(200),
        p99_objective: Duration::from_secs(2),
        ..Default::default()
    };
    let mut seen = 0;
    let r = tokenbench::load::search::search(&mut g, &params, |_| seen += 1).unwrap();
    assert_eq!(seen, r.steps.len());
    assert!(!r.steps.is_empty());
    assert!(r.steps.iter().all(|s| s.step.errors == 0), "{:?}", r.steps);
    assert!(r.steps.iter().any(|s| s.step.kinds.contains_key("Me")));
}

#[test]
fn the_generator_refuses_other_hosts() {
    for bad in [
        "http://10.0.0.1:80",
        "http://192.168.1.10:8080",
        "https://example.com",
        "http://1.1.1.1",
    ] {
        assert!(
            matches!(Target::parse(bad), Err(LoadError::NotLoopback(_))),
            "{bad}"
        );
    }
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_tokenbench"))
        .args(["load", "--target", "http://192.168.0.1:80", "--rate", "10"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("loopback"));
}

#[test]
fn serve_prints_its_address_and_refuses_public_listens() {
    let exe = std::path::Path::new(env!("CARGO_BIN_EXE_tokenbench"));
    let args: Vec<String> = [
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--users",
        "2",
        "--scheme",
        "jwt",
        "--alg",
        "EdDSA",
    ]
    .map(String::from)
    .to_vec();
    let mut child = tokenbench::http::child::ChildServer::spawn(exe, &args).unwrap();
    assert!(child.url().starts_with("http://127.0.0.1:"));
    let cfg = LoadConfig::new(
        Target::parse(child.url()).unwrap(),
        Protocol::Http1,
        Transport::Bearer,
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let m: tokenbench::net::metrics::MetricsSnapshot = rt
        .block_on(tokenbench::load::client::get_json(&cfg, "/metrics"))
        .unwrap();
    assert_eq!(
        m.schema_version,
        tokenbench::net::metrics::METRICS_SCHEMA_VERSION
    );
    assert!(
        m.peak_rss_bytes > 0 && m.peak_rss_bytes < 1 << 30,
        "the child's own peak: {m:?}"
    );
    child.stop();
    assert!(!child.is_running());
    let out = std::process::Command::new(exe)
        .args(["serve", "--listen", "0.0.0.0:0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = std::process::Command::new(exe)
        .args(["serve", "--transport", "pigeon"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn the_http_workload_has_every_row_and_summary_metric() {
    use tokenbench::workload::http::{HttpParams, HttpProtocol, HttpResults, run};
    let mut p = HttpParams::quick();
    p.schemes = vec![
        SchemeSpec::Session(StoreSpec::Memory),
        SchemeSpec::Jwt(JwtAlg::HS256),
    ];
    p.accounts = 4;
    p.vus = 4;
    p.search.start_rate = 100.0;
    p.search.max_rate = 400.0;
    p.search.p99_objective = Duration::from_secs(1);
    p.server_exe = Some(env!("CARGO_BIN_EXE_tokenbench").into());
    let r = run(&p, &tokenbench::workload::NoProgress).unwrap();
    assert_eq!(r.rows.len(), 2 * 2 * 2);
    assert!(r.rows.iter().any(|x| x.protocol == HttpProtocol::H2c));
    for row in &r.rows {
        assert!(row.common.step.requests > 0, "{row:?}");
        assert!(row.common.server.requests > 0);
        assert!(row.common.server.cpu_per_request_ns > 0.0);
        assert!(
            row.common.server.token_cpu_per_request_ns
                <= row.common.server.cpu_per_request_ns * 1.5
        );
        assert_eq!(
            row.logout,
            if row.scheme.capabilities().carries_claims {
                "expiry-only"
            } else {
                "revoked"
            }
        );
    }
    let rows = tokenbench::results::schema::ResultFile::summary_rows(&r);
    for metric in [
        "max_rate",
        "p50",
        "p99",
        "server_cpu_per_request",
        "token_cpu_per_request",
        "bytes_in_per_request",
        "bytes_out_per_request",
    ] {
        assert!(
            rows.iter()
                .any(|x| x.metric == metric && x.workload == "http"),
            "{metric}"
        );
    }
    assert!(rows.iter().all(|x| x.param.starts_with("scheme=")
        && x.param.contains(",transport=")
        && x.param.contains(",protocol=")));
    let back: HttpResults = serde_json::from_slice(&serde_json::to_vec(&r).unwrap()).unwrap();
    assert_eq!(
        back.schema_version,
        <HttpResults as tokenbench::results::schema::ResultFile>::VERSION
    );
    assert_eq!(back.rows.len(), r.rows.len());
}

#[test]
fn overload_is_shed_with_503_and_nothing_else_fails() {
    let mut c = config(
        SchemeSpec::Session(StoreSpec::Memory),
        Transport::Cookie,
        Revocation::None,
    );
    c.limits.max_inflight = 1;
    c.password = PasswordParams {
        memory_kib: 2048,
        iterations: 2,
        parallelism: 1,
    };
    let l = live(c, false);
    let mut lc = load_config(&l, Protocol::H2, Transport::Cookie);
    lc.vus = 32;
    lc.mix = Mix::Flow {
        reads_per_write: 1,
        writes_per_session: 1,
    };
    let mut g = Generator::new(lc).unwrap();
    let s = g
        .run_step(
            3000.0,
            Duration::from_millis(50),
            Duration::from_millis(500),
        )
        .unwrap();
    let m = l.app.metrics().snapshot();
    assert!(m.shed > 0, "nothing was shed: {s:?}");
    assert_eq!(
        m.status_classes[4], m.shed,
        "the only 5xx answers are shed requests"
    );
    assert!(
        s.error_kinds.keys().all(|k| k == "503"),
        "{:?}",
        s.error_kinds
    );
    // The server still answers.
    let mut g2 = Generator::new(load_config(&l, Protocol::Http1, Transport::Cookie)).unwrap();
    let calm = g2
        .run_step(20.0, Duration::from_millis(50), Duration::from_millis(300))
        .unwrap();
    assert!(calm.ok > 0);
}

#[test]
fn a_dead_redis_gets_503_never_200_and_the_server_recovers() {
    use crate::common::{Persistence, PrivateServer, spare_port};
    if !PrivateServer::available() {
        eprintln!("skipped: redis-server not found");
        return;
    }
    let redis = PrivateServer::start(
        spare_port(),
        tempfile::tempdir().unwrap(),
        Persistence::None,
    );
    let c = config(
        SchemeSpec::Session(StoreSpec::Redis(redis.url())),
        Transport::Cookie,
        Revocation::None,
    );
    let l = live(c, false);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let app = l.app.clone();
    let mut b = Browser::default();
    rt.block_on(async {
        let csrf = b.login_page_csrf(&app).await;
        assert_eq!(
            b.login(&app, "user-1", "password-1", &csrf).await.status,
            StatusCode::SEE_OTHER
        );
        assert_eq!(b.get(&app, "/me").await.status, StatusCode::OK);
    });
    // Load on the socket while Redis dies.
    let mut g = Generator::new(load_config(&l, Protocol::Http1, Transport::Cookie)).unwrap();
    let killer = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(300));
        redis.kill()
    });
    let s = g
        .run_step(100.0, Duration::from_millis(50), Duration::from_millis(900))
        .unwrap();
    let (port, dir) = killer.join().unwrap();
    eprintln!(
        "redis killed during load: {} requests, {} ok, errors {:?}",
        s.requests, s.ok, s.error_kinds
    );
    assert!(s.errors > 0);
    assert!(
        s.error_kinds
            .keys()
            .all(|k| ["503", "401", "403"].contains(&k.as_str())),
        "{:?}",
        s.error_kinds
    );
    let m = l.app.metrics().snapshot();
    assert!(m.store_unavailable > 0);
    assert_eq!(
        m.status_classes[4], m.store_unavailable,
        "no 5xx but fail-closed 503s"
    );
    rt.block_on(async {
        let me = b.get(&app, "/me").await;
        assert_eq!(
            me.status,
            StatusCode::SERVICE_UNAVAILABLE,
            "never 200 without the store"
        );
        assert_eq!(b.get(&app, "/health").await.status, StatusCode::OK);
    });
    // Redis is back (empty): the old session is gone, a new login works.
    let _redis = PrivateServer::start(port, dir, Persistence::None);
    rt.block_on(async {
        let mut ok = false;
        for _ in 0..50 {
            if b.get(&app, "/me").await.status == StatusCode::UNAUTHORIZED {
                ok = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(ok, "the server did not reconnect to Redis");
        let mut fresh = Browser::default();
        let csrf = fresh.login_page_csrf(&app).await;
        assert_eq!(
            fresh
                .login(&app, "user-2", "password-2", &csrf)
                .await
                .status,
            StatusCode::SEE_OTHER
        );
        assert_eq!(fresh.get(&app, "/me").await.status, StatusCode::OK);
    });
}
