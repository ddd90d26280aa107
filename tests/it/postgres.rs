//! PostgreSQL as a session store, against the shared server (`TOKENBENCH_POSTGRES_URL`,
//! skipped without it, failed on CI: `common::skip`), beyond the store contract
//! (`it::stores`) and the conformance suite (`it::conformance`): expiry enforced by the
//! server's clock, a table per store and nothing else touched, corrupt rows refused, the
//! server's CPU and memory, fail closed while the server is away (through a TCP proxy that
//! is cut, so the shared server never stops), and every workload with `session-postgres`
//! rows. Nothing here needs a server to check that an unreachable one fails fast and
//! closed, without its password.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokenbench::claims::ClaimSet;
use tokenbench::clock::SystemClock;
use tokenbench::results::schema::revoke::Strategy;
use tokenbench::results::schema::validate::Operation;
use tokenbench::scheme::spec::{Family, SchemeSpec, StoreSpec};
use tokenbench::scheme::{Rejection, SessionConfig, SessionScheme, TokenScheme};
use tokenbench::store::{
    POSTGRES_DEFAULT_USER, PostgresProbe, PostgresStore, ServerProbe, SessionStore, StoreError,
};
use tokenbench::workload::{NoProgress, revoke, scale, size, validate};

use crate::common::skip::{self, shared_postgres_url as url};
use crate::common::{id, now_ms, record, spare_port, tiny_options};

/// A client of the shared server, for looking behind the store's back.
fn raw(url: &str) -> postgres::Client {
    let mut config: postgres::Config = url.parse().expect("a PostgreSQL URL");
    if config.get_user().is_none() {
        config.user(POSTGRES_DEFAULT_USER);
    }
    config
        .connect(postgres::NoTls)
        .unwrap_or_else(|e| panic!("{}", skip::unreachable_postgres(url, &e)))
}

/// Whether table `table` exists.
fn table_exists(client: &mut postgres::Client, table: &str) -> bool {
    client
        .query_one("SELECT to_regclass($1) IS NOT NULL", &[&table])
        .unwrap()
        .get(0)
}

/// Rows of `table`, expired ones included.
fn rows(client: &mut postgres::Client, table: &str) -> i64 {
    client
        .query_one(&format!("SELECT count(*) FROM \"{table}\""), &[])
        .unwrap()
        .get(0)
}

#[test]
fn a_record_past_its_deadline_by_the_server_clock_is_never_returned() {
    let Some(url) = url() else { return };
    let store = skip::connect_postgres(&url);
    let mut client = raw(&url);
    let mut old = record("a");
    old.absolute_deadline_ms = now_ms() - 1_000;
    store.put("old", &old).unwrap();
    store.put("live", &record("b")).unwrap();
    assert_eq!(rows(&mut client, store.table()), 2, "both rows are there");
    // Every statement treats the past one as absent; the scheme's clock has no say here.
    assert_eq!(store.get("old").unwrap(), None);
    assert_eq!(store.view("old").unwrap(), None);
    assert!(!store.touch("old", 1, 2).unwrap());
    assert_eq!(store.view_and_touch("old", 1, 2).unwrap(), None);
    assert_eq!(store.len().unwrap(), 1);
    assert_eq!(store.record_bytes("old").unwrap(), None);
    // The sweep deletes it, and only it.
    assert_eq!(store.sweep().unwrap(), 1);
    assert_eq!(rows(&mut client, store.table()), 1);
    // A rename or delete of an expired ID answers "no such session" and removes it.
    store.put("old", &old).unwrap();
    assert!(!store.rename("old", "new", &|_: &mut _| {}).unwrap());
    assert_eq!(store.get("new").unwrap(), None);
    store.put("old", &old).unwrap();
    assert!(!store.delete("old").unwrap());
    assert_eq!(rows(&mut client, store.table()), 1);
    // The deadline columns follow the record on every write.
    let deadlines = |client: &mut postgres::Client, id: &str| -> (i64, i64) {
        let row = client
            .query_one(
                &format!(
                    "SELECT idle_deadline_ms, absolute_deadline_ms FROM \"{}\" WHERE id = $1",
                    store.table()
                ),
                &[&id],
            )
            .unwrap();
        (row.get(0), row.get(1))
    };
    let live = store.get("live").unwrap().unwrap();
    assert!(store.touch("live", 20, 30).unwrap());
    assert_eq!(
        deadlines(&mut client, "live"),
        (30, live.absolute_deadline_ms as i64)
    );
    assert!(store.record_bytes("live").unwrap().unwrap() > 100);
}

#[test]
fn each_store_has_its_own_table_and_drops_only_it() {
    let Some(url) = url() else { return };
    let mut client = raw(&url);
    let a = skip::connect_postgres(&url);
    let b = skip::connect_postgres(&url);
    assert_ne!(a.table(), b.table());
    a.put("x", &record("a")).unwrap();
    assert_eq!(
        b.get("x").unwrap(),
        None,
        "another store's records are not seen"
    );
    // A store joining a's table shares its records, and leaves the table when dropped.
    let joined = PostgresStore::connect_with_table(&url, a.table())
        .unwrap()
        .with_cleanup_on_drop(false);
    assert_eq!(joined.get("x").unwrap().unwrap().claims.user_id, "a");
    drop(joined);
    assert!(table_exists(&mut client, a.table()));
    let (ta, tb) = (a.table().to_owned(), b.table().to_owned());
    drop(a);
    assert!(!table_exists(&mut client, &ta), "dropped with its store");
    assert!(
        table_exists(&mut client, &tb),
        "the other store's table stays"
    );
    drop(b);
    assert!(!table_exists(&mut client, &tb));
}

#[test]
fn corrupt_rows_are_refused_never_accepted_or_panicked_on() {
    let Some(url) = url() else { return };
    let scheme = SessionScheme::new(
        skip::connect_postgres(&url),
        SessionConfig::default(),
        Arc::new(SystemClock),
    );
    let token = scheme.issue(&ClaimSet::Typical.claims("u")).unwrap();
    assert!(scheme.validate(&token).is_ok());
    let mut client = raw(&url);
    for garbage in [&b"{\"json\":1}"[..], b"", &[1u8; 40], &[2u8; 40]] {
        client
            .execute(
                &format!(
                    "UPDATE \"{}\" SET record = $2 WHERE id = $1",
                    scheme.store().table()
                ),
                &[&token, &garbage],
            )
            .unwrap();
        assert!(matches!(
            scheme.store().get(&token),
            Err(StoreError::Corrupt(_))
        ));
        assert!(
            matches!(scheme.validate(&token), Err(Rejection::StoreUnavailable(_))),
            "{garbage:?}"
        );
        if garbage.len() < 33 {
            assert!(
                !scheme.store().touch(&token, 1, 2).unwrap(),
                "never written into"
            );
        }
    }
}

#[test]
fn an_unreachable_server_fails_fast_and_closed_without_its_password() {
    let url = format!("postgres://alice:hunter2@127.0.0.1:{}/db", spare_port());
    let started = Instant::now();
    let err = PostgresStore::connect(&url).unwrap_err();
    assert!(matches!(err, StoreError::Unavailable(_)), "{err}");
    let text = err.to_string();
    assert!(text.contains("postgres://alice:***@127.0.0.1:"), "{text}");
    assert!(!text.contains("hunter2"), "{text}");
    let probe = PostgresProbe::new(&url).unwrap();
    let err = probe.ping(Duration::from_millis(300)).unwrap_err();
    assert!(probe.is_outage(&err) && !err.to_string().contains("hunter2"));
    assert!(!format!("{probe:?}").contains("hunter2"));
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn the_probe_reads_the_cpu_and_memory_of_a_server_on_this_machine() {
    let Some(url) = url() else { return };
    let probe = PostgresProbe::new(&url).unwrap();
    probe.ping(Duration::from_secs(2)).unwrap();
    assert_eq!(probe.server(), "PostgreSQL");
    assert!(
        probe.address().starts_with("postgres://"),
        "{}",
        probe.address()
    );
    let store = skip::connect_postgres(&url);
    store.put("x", &record("a")).unwrap();
    let before = probe
        .cpu_secs()
        .unwrap()
        .expect("the server runs on this machine");
    for _ in 0..2_000 {
        store.get("x").unwrap();
    }
    let after = probe.cpu_secs().unwrap().unwrap();
    assert!(after > before, "{before} s then {after} s");
    assert!(probe.memory_bytes().unwrap().unwrap() > 0);
}

// ---------------------------------------------------------------------------------------
// The server goes away (a proxy in front of it is cut) and comes back.

/// A TCP proxy to the shared server that can be cut (every connection closed, new ones
/// closed at once) and restored; stopped on drop.
struct Proxy {
    port: u16,
    up: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
    open: Arc<Mutex<Vec<TcpStream>>>,
}

impl Proxy {
    fn start(upstream: (String, u16)) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let proxy = Proxy {
            port,
            up: Arc::new(AtomicBool::new(true)),
            stop: Arc::new(AtomicBool::new(false)),
            open: Arc::new(Mutex::new(Vec::new())),
        };
        let (up, stop, open) = (proxy.up.clone(), proxy.stop.clone(), proxy.open.clone());
        std::thread::spawn(move || {
            while !stop.load(Ordering::Acquire) {
                let Ok((client, _)) = listener.accept() else {
                    std::thread::sleep(Duration::from_millis(5));
                    continue;
                };
                let _ = client.set_nonblocking(false);
                if !up.load(Ordering::Acquire) {
                    continue; // dropped: closed at once
                }
                let Ok(server) = TcpStream::connect((upstream.0.as_str(), upstream.1)) else {
                    continue;
                };
                let mut open = open.lock().unwrap();
                for (from, to) in [(&client, &server), (&server, &client)] {
                    let (mut from, mut to) = (from.try_clone().unwrap(), to.try_clone().unwrap());
                    std::thread::spawn(move || {
                        let mut buf = [0u8; 16 * 1024];
                        while let Ok(n) = from.read(&mut buf) {
                            if n == 0 || to.write_all(&buf[..n]).is_err() {
                                break;
                            }
                        }
                        let _ = to.shutdown(Shutdown::Both);
                    });
                }
                open.push(client);
                open.push(server);
            }
        });
        proxy
    }

    /// Closes every connection and refuses new ones.
    fn cut(&self) {
        self.up.store(false, Ordering::Release);
        for s in self.open.lock().unwrap().drain(..) {
            let _ = s.shutdown(Shutdown::Both);
        }
    }

    fn restore(&self) {
        self.up.store(true, Ordering::Release);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        self.cut();
    }
}

/// `url` with its host and port replaced by the proxy's.
fn through(url: &str, proxy: &Proxy) -> String {
    let config: postgres::Config = url.parse().unwrap();
    let user = config.get_user().unwrap_or(POSTGRES_DEFAULT_USER);
    let password = config
        .get_password()
        .map(|p| format!(":{}", String::from_utf8_lossy(p)))
        .unwrap_or_default();
    let db = config.get_dbname().unwrap_or(user);
    format!("postgres://{user}{password}@127.0.0.1:{}/{db}", proxy.port)
}

#[test]
fn sessions_are_refused_while_the_server_is_away_and_accepted_once_it_is_back() {
    let Some(url) = url() else { return };
    let config: postgres::Config = url.parse().unwrap();
    let port = config.get_ports().first().copied().unwrap_or(5432);
    let postgres::config::Host::Tcp(host) = &config.get_hosts()[0] else {
        panic!("the test needs {url:?} on TCP, to put a proxy in front of it")
    };
    let proxy = Proxy::start((host.clone(), port));
    let proxied = through(&url, &proxy);
    let scheme = SessionScheme::new(
        PostgresStore::connect(&proxied).unwrap(),
        SessionConfig {
            sliding: true,
            ..SessionConfig::default()
        },
        Arc::new(SystemClock),
    );
    let token = scheme.issue(&ClaimSet::Typical.claims("u")).unwrap();
    scheme.validate(&token).unwrap();
    proxy.cut();
    for _ in 0..3 {
        let started = Instant::now();
        match scheme.validate(&token) {
            Err(Rejection::StoreUnavailable(why)) => assert!(why.contains("postgres"), "{why}"),
            other => panic!("while the server is away: {other:?}"),
        }
        assert!(started.elapsed() < Duration::from_secs(5));
    }
    assert!(scheme.issue(&ClaimSet::Typical.claims("v")).is_err());
    proxy.restore();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match scheme.validate(&token) {
            Ok(p) => {
                assert_eq!(p.claims.user_id, "u");
                break;
            }
            Err(Rejection::StoreUnavailable(_)) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(50));
            }
            other => panic!("once the server is back: {other:?}"),
        }
    }
    // Revoked through the proxy, refused as unknown: the store works again.
    scheme.revoke(&token).unwrap();
    assert_eq!(
        scheme.validate(&token).unwrap_err(),
        Rejection::UnknownSession
    );
}

// ---------------------------------------------------------------------------------------
// Every workload.

/// Settings for tiny workloads over the embedded store and PostgreSQL.
fn tiny(url: &str) -> crate::common::Tiny {
    let mut t = tiny_options("redis://unused");
    t.settings.stores = vec![StoreSpec::Memory, StoreSpec::Postgres(url.to_owned())];
    t
}

#[test]
fn size_reads_postgres_bytes_per_session_from_the_server() {
    let Some(url) = url() else { return };
    let t = tiny(&url);
    let r = size::run(&t.settings, &t.size, &NoProgress).unwrap();
    let row = r
        .rows
        .iter()
        .find(|x| x.scheme == "session-postgres" && x.claims == ClaimSet::Typical)
        .expect("a size row");
    assert_eq!(row.token_bytes, 22);
    let memory: Vec<_> = r
        .memory
        .iter()
        .filter(|m| m.scheme == "session-postgres")
        .collect();
    assert_eq!(memory.len(), 2, "{memory:?}");
    let method = |m: &tokenbench::results::schema::size::MemoryRow| m.method.clone().unwrap();
    assert!(method(memory[0]).contains("pg_column_size"), "{memory:?}");
    assert!(method(memory[1]).contains("pg_database_size"), "{memory:?}");
    // A typical binary record is about 200 bytes, plus the row's header and columns.
    assert!(
        (200.0..2_000.0).contains(&memory[0].bytes_per_entry),
        "{memory:?}"
    );
    assert_eq!(memory[1].entries, t.size.memory_sessions);
}

#[test]
fn validate_measures_postgres_with_its_server_cpu() {
    let Some(url) = url() else { return };
    let t = tiny(&url);
    let r = validate::run(&t.settings, &t.validate, &NoProgress).unwrap();
    for op in [
        Operation::Validate,
        Operation::ValidateSliding,
        Operation::Issue,
    ] {
        let row = r
            .find(id("session-postgres"), op, ClaimSet::Typical, None)
            .unwrap_or_else(|| panic!("no session-postgres {op:?} row"));
        assert_eq!(row.errors, 0, "{row:?}");
        let server = row
            .server_cpu_ns_per_op
            .expect("the server runs on this machine");
        assert!(server.is_finite() && server >= 0.0, "{server}");
    }
    for op in [Operation::RejectUnknown, Operation::RejectRevoked] {
        let row = r
            .find(id("session-postgres"), op, ClaimSet::Typical, None)
            .expect("rejection rows");
        assert_eq!(row.errors, 0);
    }
}

#[test]
fn scale_and_revoke_run_on_postgres() {
    let Some(url) = url() else { return };
    let mut t = tiny(&url);
    let r = scale::run(&t.settings, &t.scale, &NoProgress).unwrap();
    let points: Vec<_> = r
        .points
        .iter()
        .filter(|p| p.scheme == "session-postgres")
        .collect();
    assert_eq!(points.len(), t.scale.threads.len());
    for p in points {
        assert_eq!(p.errors, 0, "{p:?}");
        assert!(p.ops > 0 && p.ops_per_sec > 0.0);
    }
    t.settings.families = vec![Family::Session, Family::Jwt];
    let r = revoke::run(&t.settings, &t.revoke, &NoProgress).unwrap();
    let names: Vec<Strategy> = r.strategies.iter().map(|s| s.strategy).collect();
    assert!(
        names.contains(&Strategy::SessionCentralPostgres),
        "{names:?}"
    );
    assert!(
        !names.iter().any(|s| s.is_redis()),
        "no Redis selected: {names:?}"
    );
    let pg = r.strategy(Strategy::SessionCentralPostgres).unwrap();
    assert_eq!(pg.errors, 0);
    assert_eq!(pg.latencies_ns.len(), t.revoke.trials);
    assert_eq!(pg.family, Family::Session);
}

#[test]
fn the_http_workload_serves_sessions_from_postgres() {
    use tokenbench::http::Transport;
    use tokenbench::workload::http::{HttpParams, HttpProtocol, run};
    let Some(url) = url() else { return };
    let mut p = HttpParams::quick();
    p.schemes = vec![SchemeSpec::Session(StoreSpec::Postgres(url))];
    p.transports = vec![Transport::Cookie];
    p.protocols = vec![HttpProtocol::Http1];
    p.accounts = 4;
    p.vus = 4;
    p.search.start_rate = 100.0;
    p.search.max_rate = 200.0;
    p.search.p99_objective = Duration::from_secs(1);
    p.server_exe = Some(env!("CARGO_BIN_EXE_tokenbench").into());
    let r = run(&p, &NoProgress).unwrap();
    assert_eq!(r.rows.len(), 1);
    let row = &r.rows[0];
    assert_eq!(row.scheme, id("session-postgres"));
    assert!(row.common.step.requests > 0, "{row:?}");
    assert!(row.common.server.requests > 0);
    assert_eq!(row.logout, "revoked");
}
