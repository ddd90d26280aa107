//! The capacity planner (`tokenbench::plan`) on the report's hand-made fixture run: its
//! arithmetic figure by figure, the schemes it cannot plan (named with the figure and the
//! file), the ranking, its JSON and a snapshot of its terminal table.

use tokenbench::claims::ClaimSet;
use tokenbench::net::Transport;
use tokenbench::plan::{self, Plan, PlanError, RunFiles, Scenario, SchemePlan};
use tokenbench::results::schema::http::HttpProtocol;
use tokenbench::results::schema::size::{Entry, MemoryRow};
use tokenbench::scheme::spec::SchemeId;

use super::fixture::{Fixture, FixtureRun, id, size_row};
use super::http::site;

/// The fixture with a session-redis site (2 nodes, bearer, RTT 0.5 ms: 120 µs of node CPU
/// per request, 2 store operations per request at 5 µs each, 100 B sent per request) and
/// its session's sizes (a record of 300 B by MEMORY USAGE, 400 B by the server's growth).
fn fixture() -> Fixture {
    Fixture::all()
        .http(|h| {
            let mut s = site("session-redis", 2, 0.5, 6000.0, 120.0);
            s.transport = Transport::Bearer;
            h.nodes.push(s);
        })
        .size(|s| {
            s.rows
                .push(size_row("session-redis", ClaimSet::Typical, 22, 0));
            for (bytes, method) in [
                (300.0, "redis MEMORY USAGE"),
                (400.0, "redis INFO used_memory delta"),
            ] {
                s.memory.push(MemoryRow {
                    scheme: "session-redis".into(),
                    entry: Entry::Session,
                    claims: ClaimSet::Typical,
                    entries: 10_000,
                    heap_bytes: (bytes * 10_000.0) as i64,
                    allocations: 0,
                    bytes_per_entry: bytes,
                    method: Some(method.into()),
                });
            }
        })
}

fn plan_of(run: &FixtureRun, s: &Scenario) -> Result<Plan, PlanError> {
    let files = RunFiles::load(&run.dir)?;
    plan::plan(&files.inputs(), s)
}

fn scheme<'a>(p: &'a Plan, name: &str) -> &'a SchemePlan {
    p.schemes
        .iter()
        .find(|s| s.scheme == id(name))
        .unwrap_or_else(|| panic!("{name} in the plan"))
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * b.abs().max(1.0)
}

#[test]
fn each_figure_is_its_input_times_the_scenario() {
    let run = fixture().write();
    let p = plan_of(&run, &Scenario::report_default()).unwrap();
    assert_eq!(p.schema_version, plan::PLAN_VERSION);
    assert_eq!(p.run, "2026-01-01T00-00-00Z-fixture");

    // jwt-HS256: the single server's row (95 µs per request, 15 µs of it the token's).
    let hs = scheme(&p, "jwt-HS256");
    let n = hs.node.as_ref().unwrap();
    assert!(close(n.request_cores, 10_000.0 * 95e-6), "{n:?}");
    assert!(close(n.token_cores, 10_000.0 * 15e-6));
    assert!(close(n.request_cores_per_node, 2_500.0 * 95e-6));
    assert!(hs.store_cpu.is_none() && hs.memory.is_none());
    let bw = &hs.bandwidth[0];
    // The Authorization header line (size.json: token + 22 B) on every HTTP/1.1 request.
    let header = 482.0;
    assert_eq!(bw.credential_bytes, Some(header));
    assert!(close(
        bw.credential_bits_per_s.unwrap(),
        header * 10_000.0 * 8.0
    ));
    let l = hs.latency.as_ref().unwrap();
    assert_eq!((l.round_trips, l.added_ns), (0.0, 15_000.0));
    assert_eq!(hs.total_cores, Some(n.request_cores));

    // session-redis: the site, its store and its memory.
    let sr = scheme(&p, "session-redis");
    assert!(sr.complete(), "{:?}", sr.missing);
    let n = sr.node.as_ref().unwrap();
    assert!(close(n.request_cores, 10_000.0 * 120e-6));
    let c = sr.store_cpu.as_ref().unwrap();
    assert!(close(c.ops_per_sec, 20_000.0));
    assert!(close(c.cores, 20_000.0 * 5e-6));
    assert_eq!(c.primaries, Some(1));
    let m = sr.memory.as_ref().unwrap();
    // The larger of the two measured figures, times 1 M sessions, × 1.5 × 2 × 2.
    assert_eq!(m.bytes_per_session, 400.0);
    assert!(close(m.data_bytes, 400.0 * 1e6));
    assert!(close(m.total_bytes, 400.0 * 1e6 * 1.5 * 2.0 * 2.0));
    let l = sr.latency.as_ref().unwrap();
    assert_eq!(l.round_trips, 1.0);
    assert!(close(l.added_ns, 0.5e6));
    assert!(close(sr.total_cores.unwrap(), 1.2 + 0.1));
    assert!(close(
        sr.bandwidth[0].request_bits_per_s.unwrap(),
        100.0 * 10_000.0 * 8.0
    ));

    // Every input names its file.
    for s in &p.schemes {
        for i in &s.inputs {
            assert!(i.file.ends_with(".json"), "{i:?}");
        }
    }
}

#[test]
fn the_ranking_follows_total_cores_and_the_scenario() {
    let run = fixture().write();
    let p = plan_of(&run, &Scenario::report_default()).unwrap();
    let ranked: Vec<(Option<usize>, SchemeId)> =
        p.ranking.iter().map(|r| (r.rank, r.scheme)).collect();
    assert_eq!(ranked[0], (Some(1), id("jwt-HS256")));
    assert_eq!(ranked[1], (Some(2), id("session-redis")));
    assert_eq!(ranked[2], (Some(3), id("jwt-ES256")));
    // Four nodes cannot share an embedded store.
    let mem = p
        .ranking
        .iter()
        .find(|r| r.scheme == id("session-memory"))
        .unwrap();
    assert_eq!(mem.rank, None);
    assert!(mem.reason.contains("share no session"), "{}", mem.reason);
    // One node can, and it is the cheapest.
    let one = Scenario {
        nodes: 1,
        ..Scenario::report_default()
    };
    let p = plan_of(&run, &one).unwrap();
    assert_eq!(p.ranking[0].scheme, id("session-memory"));
    // A revocation requirement: the session on Redis has no measured strategy on Redis in
    // the fixture, so it cannot be planned, and says which figure is missing from where.
    let strict = Scenario {
        revocation_within_ms: Some(100.0),
        ..Scenario::report_default()
    };
    let p = plan_of(&run, &strict).unwrap();
    let sr = scheme(&p, "session-redis");
    assert!(!sr.complete());
    assert!(
        sr.cannot_plan()
            .starts_with("cannot plan: revocation windows")
            && sr.cannot_plan().contains("revoke.json"),
        "{}",
        sr.cannot_plan()
    );
    assert_eq!(scheme(&p, "jwt-HS256").meets_revocation, Some(true));
    // Within 100 µs, no JWT strategy of the fixture (the fastest 200 µs) is enough.
    let stricter = Scenario {
        revocation_within_ms: Some(0.1),
        ..Scenario::report_default()
    };
    let p = plan_of(&run, &stricter).unwrap();
    assert_eq!(scheme(&p, "jwt-HS256").meets_revocation, Some(false));
    assert!(
        p.ranking
            .iter()
            .all(|r| r.rank.is_none() || r.scheme == id("session-memory"))
    );
}

#[test]
fn a_missing_figure_is_named_never_made_up() {
    // Without the session's bytes in the store, its plan names the figure and the file.
    let run = fixture()
        .size(|s| s.memory.retain(|m| m.scheme != "session-redis"))
        .write();
    let p = plan_of(&run, &Scenario::report_default()).unwrap();
    let sr = scheme(&p, "session-redis");
    assert!(sr.memory.is_none());
    assert_eq!(
        sr.cannot_plan(),
        "cannot plan: store bytes per session (session-redis, typical claims) missing from size.json"
    );
    assert!(
        p.ranking
            .iter()
            .any(|r| r.scheme == id("session-redis") && r.rank.is_none())
    );
    // Without http.json nothing can be planned: an error, not a table of guesses.
    let run = fixture().without("http").write();
    let e = plan_of(&run, &Scenario::report_default())
        .unwrap_err()
        .to_string();
    assert!(e.contains("http.json"), "{e}");
    // Chromium's bytes need the browser workload's figures.
    let run = fixture().write();
    let chromium = Scenario {
        client: plan::Client::Chromium,
        ..Scenario::report_default()
    };
    let e = plan_of(&run, &chromium).unwrap_err().to_string();
    assert!(
        e.contains("browser.json") && e.contains("--client chromium"),
        "{e}"
    );
    // A nonsensical scenario is refused by the library too.
    let zero = Scenario {
        rate: 0.0,
        ..Scenario::report_default()
    };
    assert!(plan_of(&run, &zero).is_err());
}

#[test]
fn the_plan_round_trips_through_json_and_its_table_matches_its_snapshot() {
    let run = fixture().write();
    let p = plan_of(&run, &Scenario::report_default()).unwrap();
    let json = serde_json::to_string(&p).unwrap();
    assert_eq!(serde_json::from_str::<Plan>(&json).unwrap(), p);
    let text = plan::terminal(&p);
    insta::with_settings!({
        snapshot_path => "../../fixtures/report",
        prepend_module_to_snapshot => false,
    }, {
        insta::assert_snapshot!("plan_terminal", text);
    });
}

/// `plan --check` on a small site: every figure is predicted from the run (the fixture's
/// figures, never the check's own) and measured.
#[test]
fn the_check_predicts_from_the_run_and_measures_the_site() {
    let Some(url) = crate::common::skip::shared_redis_url() else {
        return;
    };
    let run = fixture().write();
    let store = tokenbench::scheme::spec::StoreSpec::Redis(url.clone());
    let scenario = Scenario {
        rate: 400.0,
        sessions: 2_000.0,
        nodes: 2,
        store_rtt_ms: 0.5,
        ..Scenario::report_default()
    };
    let cfg = tokenbench::run::check::CheckConfig {
        exe: env!("CARGO_BIN_EXE_tokenbench").into(),
        run: run.dir.clone(),
        scenario,
        store,
        window: std::time::Duration::from_millis(300),
        repeats: 1,
    };
    struct Quiet;
    impl tokenbench::workload::Progress for Quiet {
        fn start(&self, _: &str, _: u64) {}
        fn step(&self, _: &str) {}
        fn finish(&self) {}
    }
    let report = tokenbench::run::check::check(&cfg, &Quiet).unwrap();
    assert_eq!(report.rows.len(), 6, "{report:?}");
    // The predictions are the fixture's figures times the scenario.
    let predicted = |what: &str| {
        report
            .rows
            .iter()
            .find(|r| r.figure.starts_with(what))
            .unwrap_or_else(|| panic!("{what}"))
            .predicted
    };
    assert_eq!(predicted("server CPU per request"), 120_000.0);
    assert!(close(predicted("store operations/s"), 800.0));
    assert!(close(
        predicted("store memory"),
        400.0 * 2_000.0 / (1u64 << 20) as f64
    ));
    // The plan was given the round trip measured through the proxy.
    assert!(report.measured_rtt_ms.is_some_and(|r| r >= 0.4));
    for r in &report.rows {
        assert!(r.measured.is_finite() && r.ratio.is_finite(), "{r:?}");
    }
    assert!(report.table().lines().count() == 8, "{}", report.table());
}

/// `--client chromium` reads the browser workload's bytes per request (`summary.csv`), first
/// and repeated, and names what is missing for a scheme it did not measure.
#[test]
fn chromium_bytes_come_from_the_browser_rows() {
    // A browser speaks HTTP/2 over TLS: the server's CPU comes from an h2 row.
    let run = fixture()
        .http(|h| {
            let mut r = h
                .rows
                .iter()
                .find(|r| {
                    r.scheme == id("jwt-HS256")
                        && r.transport == Transport::Cookie
                        && r.protocol == HttpProtocol::Http1
                })
                .expect("a jwt-HS256 cookie row")
                .clone();
            r.protocol = HttpProtocol::H2Tls;
            h.rows.push(r);
        })
        .write();
    let rows = [("first", 612.0), ("repeated", 45.0)]
        .map(|(when, bytes)| {
            tokenbench::results::schema::SummaryRow::new(
                "browser",
                "jwt-HS256",
                None,
                &format!(
                    "client=chromium,header=cookie,token=jwt-HS256,claims=typical,first_or_repeated={when}"
                ),
                "bytes_per_request",
                bytes,
                "bytes",
            )
        })
        .to_vec();
    std::fs::write(
        run.dir.path(&tokenbench::results::Artifact::SummaryCsv),
        tokenbench::results::schema::summary::summary_csv(&rows),
    )
    .unwrap();
    let chromium = Scenario {
        client: plan::Client::Chromium,
        transport: Transport::Cookie,
        ..Scenario::report_default()
    };
    let p = plan_of(&run, &chromium).unwrap();
    let hs = scheme(&p, "jwt-HS256");
    let bytes: Vec<(String, Option<f64>)> = hs
        .bandwidth
        .iter()
        .map(|b| (b.protocol.clone(), b.request_bits_per_s))
        .collect();
    assert_eq!(
        bytes,
        [
            ("h2 first".to_owned(), Some(612.0 * 10_000.0 * 8.0)),
            ("h2 repeated".to_owned(), Some(45.0 * 10_000.0 * 8.0)),
        ]
    );
    let es = scheme(&p, "jwt-ES256");
    assert!(
        es.cannot_plan()
            .contains("Chromium bytes per request (jwt-ES256"),
        "{}",
        es.cannot_plan()
    );
}
