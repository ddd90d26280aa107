//! Sites of several nodes in the report: `summary.csv`'s rows for sites, split points, faults
//! and end-to-end revocation (names and params are contracts), the http and revoke sections'
//! tables and rules, rows 2, 3 and 5 judged from the sites, and generator-limited rows left
//! out of every verdict and the bottom line.

use std::path::Path;

use tokenbench::net::placement::Placement;
use tokenbench::report::sections::bottom_line;
use tokenbench::report::verdicts::{self, Verdict};
use tokenbench::report::{self, Run};
use tokenbench::results::RunDir;
use tokenbench::results::schema::ResultFile;
use tokenbench::results::schema::http::{HttpResults, Limit, SplitLoad, StoreLoad};
use tokenbench::results::schema::summary::SummaryRow;

use super::fixture::{Fixture, revoke, size, validate};
use super::http::fixture;

/// The value of `metric` on the line of `summary.csv` with exactly `param`.
fn value(rows: &[SummaryRow], param: &str, metric: &str) -> Option<f64> {
    rows.iter()
        .find(|r| r.param == param && r.metric == metric)
        .map(|r| r.value)
}

fn section<'a>(md: &'a str, heading: &str) -> &'a str {
    let at = md.find(heading).unwrap_or_else(|| panic!("no {heading}"));
    let rest = &md[at..];
    &rest[..rest[3..].find("\n## ").map_or(rest.len(), |e| e + 3)]
}

#[test]
fn summary_csv_has_each_sites_figures_under_its_nodes_and_rtt() {
    let h = fixture();
    let rows = h.summary_rows();
    for n in &h.nodes {
        let param = format!(
            "scheme={},transport=cookie,protocol=http1.1,nodes={},rtt={}",
            n.scheme,
            n.nodes,
            if n.rtt_ms == 0.0 { "0ms" } else { "2ms" }
        );
        let v = |m: &str| value(&rows, &param, m);
        assert_eq!(v("max_rate"), n.max_rate, "{param}");
        assert_eq!(
            v("max_rate_per_server_core"),
            n.max_rate.map(|m| m / n.nodes as f64),
            "{param}: one core per node on 4 cores"
        );
        assert_eq!(v("p50"), Some(n.common.step.latency.median_ns));
        assert_eq!(v("p99"), Some(n.common.step.latency.p99_ns));
        assert_eq!(v("server_cpu_per_request"), n.common.cpu_per_request_ns());
        assert_eq!(v("stack_floor_cpu_per_request"), Some(60e3));
        assert_eq!(
            v("generator_limited"),
            Some(if n.limited_by == Limit::Generator {
                1.0
            } else {
                0.0
            })
        );
        match &n.store_load {
            Some(s) => {
                assert_eq!(v("store_cpu_per_op"), Some(s.cpu_per_op_ns));
                assert_eq!(v("store_ops_per_request"), Some(s.ops_per_request));
                assert_eq!(v("store_ops_per_sec"), Some(s.ops_per_sec));
                assert_eq!(v("store_headroom_rate"), Some(s.headroom_rate));
            }
            None => {
                for m in [
                    "store_cpu_per_op",
                    "store_headroom_rate",
                    "store_ops_per_sec",
                ] {
                    assert_eq!(v(m), None, "{param} {m}");
                }
            }
        }
    }
    // A half-millisecond round trip is written as the revoke rows write it.
    let mut h = fixture();
    h.nodes[0].rtt_ms = 0.5;
    let rows = h.summary_rows();
    assert!(
        value(
            &rows,
            "scheme=session-redis,transport=cookie,protocol=http1.1,nodes=1,rtt=0.5ms",
            "max_rate"
        )
        .is_some()
    );
}

#[test]
fn summary_csv_has_each_split_point_and_fault() {
    let h = fixture();
    let rows = h.summary_rows();
    let mut seen = 0;
    for r in &h.rows {
        for p in &r.split {
            let param = format!(
                "scheme={},transport={},protocol={},load={}",
                r.scheme,
                r.transport,
                r.protocol.name(),
                match p.load {
                    SplitLoad::Common => "common",
                    SplitLoad::NearCapacity => "near-capacity",
                }
            );
            assert_eq!(
                value(&rows, &param, "stack_floor_cpu_per_request"),
                Some(p.floor.server.cpu_per_request_ns)
            );
            assert_eq!(
                value(&rows, &param, "outside_token_over_floor"),
                p.outside_token_over_floor()
            );
            seen += 1;
        }
    }
    assert_eq!(seen, 4);
    // 82 µs less 2 µs of token over a 60 µs floor.
    assert_eq!(
        value(
            &rows,
            "scheme=session-memory,transport=cookie,protocol=http1.1,load=common",
            "outside_token_over_floor"
        ),
        Some(80.0 / 60.0)
    );
    let f = "fault=store-cut,scheme=session-redis,nodes=2";
    assert_eq!(value(&rows, f, "fault_ok_after"), Some(0.0));
    assert_eq!(value(&rows, f, "fault_refused_after"), Some(300.0));
    assert_eq!(value(&rows, f, "fault_accepted_unverified"), Some(0.0));
    // End to end, in revoke.json's rows.
    let r = revoke();
    let rows = r.summary_rows();
    let p = "strategy=jwt-denylist-central,nodes=2,rtt=2ms";
    assert_eq!(value(&rows, p, "revocation_p99"), Some(10.0));
    assert_eq!(value(&rows, p, "revocation_p50"), Some(9.0));
    assert_eq!(value(&rows, p, "revocation_failed_trials"), Some(0.0));
    assert_eq!(value(&rows, p, "revocation_in_process_p99"), Some(0.2));
}

#[test]
fn the_http_section_shows_placement_split_sites_store_and_faults() {
    let md = Fixture::all().write().report_md();
    let s = section(&md, "## HTTP");
    for needle in [
        "- Single servers: generator on core 0, node 0 on core 1. Nothing shares a core.",
        "- 2 nodes with the store: generator on core 0, node 0 on core 1, node 1 on core 2, 2 \
         server cores. **Oversubscribed**: the store server and the latency proxy are not pinned",
        "- 2 nodes without a store: generator on core 0, node 0 on core 1, node 1 on core 2, 2 \
         server cores. Nothing shares a core.",
        // The split, with the rule per row: 80 µs over 60 µs fails, 38 µs over 32 µs passes.
        "Rule: the authenticated route's CPU outside the token (server CPU per `GET /me` − token) ≤ 1.3 × the floor",
        "| session-memory | cookie | http1.1 | common | 1.50 k | 60.0 µs | 82.0 µs | 2.00 µs | 10.0 µs | 70.0 µs | ×1.33 | **fail** |",
        "| session-memory | cookie | http1.1 | near-capacity | 6.40 k | 32.0 µs | 40.0 µs | 2.00 µs | 0 ns | 38.0 µs | ×1.19 | **pass** |",
        "| jwt-ES256 | cookie | http1.1 | near-capacity | 2.40 k | 45.0 µs | 150 µs | 100 µs | 0 ns | 50.0 µs | ×1.11 | **pass** |",
        // Sites: max rate, per node, per server core, latency, CPU against the floor.
        "| session-redis | cookie | http1.1 | 2 | 0ms | 6.00 k | 3.00 k | 3.00 k | objective |",
        "| session-redis | cookie | http1.1 | 1 | 2ms (measured 2.04 ms) | 3.00 k | 3.00 k | 3.00 k | objective | 2.30 ms | 9.20 ms | 90.0 µs | 60.0 µs | ×1.50 | **no** |",
        "| jwt-HS256 | cookie | http1.1 | 2 | 2ms (measured 2.04 ms) | 9.00 k | 4.50 k | 4.50 k | generator |",
        "**cannot tell**: the generator lagged: p99 pacer lag 4.00 ms > 2.00 ms",
        // The store: headroom 1 s ÷ (5 µs × 2) and shards.
        "| session-redis | 1 | 0ms | redis | 3.00 k | 2.00 | 5.00 µs | 10.0 µs | 100 k | 0.10 (1) / 1.00 (1) / 10.00 (10) |",
        "| Fault | Scheme | Nodes | OK after | Refused after | Unreachable after | Accepted unverified | Fails closed? | Outcome |",
        "| store-cut | session-redis | 2 | 0 | 300 | 0 | 0 | **yes** | fail closed: every session request refused (503) |",
    ] {
        assert!(s.contains(needle), "lacks {needle:?} in:\n{s}");
    }
    // On 2 cores, two nodes share the one core left: said plainly.
    let f = Fixture::all().write();
    let mut h = fixture();
    for n in &mut h.nodes {
        n.placement = Placement::plan(&[0, 1], 1, n.nodes, 1);
    }
    f.put(&h);
    let md = f.report_md();
    assert!(
        md.contains(
            "2 nodes with the store: generator on core 0, node 0 on core 1, node 1 on core 1, 1 \
             server core. **Oversubscribed**: 2 server node(s) of 1 core(s) each share 1 core(s)"
        ),
        "{md}"
    );
    // Per server core: the 2 nodes' 6.00 k over their one shared core.
    assert!(
        md.contains("| session-redis | cookie | http1.1 | 2 | 0ms | 6.00 k | 3.00 k | 6.00 k |"),
        "{md}"
    );
}

#[test]
fn sections_degrade_without_sites_and_the_reference_run_renders() {
    let f = Fixture::all().write();
    let mut h = fixture();
    h.nodes.clear();
    h.faults.clear();
    h.placement = None;
    h.rows.iter_mut().for_each(|r| {
        r.split.clear();
        r.server_cores = None;
    });
    f.put(&h);
    let mut r = revoke();
    r.end_to_end.clear();
    f.put(&r);
    let md = f.report_md();
    let s = section(&md, "## HTTP");
    assert!(s.contains("Single servers: not pinned"), "{s}");
    assert!(s.contains("| unpinned |"), "{s}");
    for absent in [
        "### Several nodes",
        "### The central store",
        "### Faults",
        "### A request against",
    ] {
        assert!(!md.contains(absent), "{absent}");
    }
    assert!(!md.contains("### End to end over HTTP"));
    // The committed reference run renders, with its sites when its http.json has them.
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("results/reference");
    let has_sites = std::fs::read_to_string(root.join("http.json"))
        .map(|s| s.contains("\"measured_rtt_ms\""))
        .unwrap_or(false);
    let run = Run::load(&RunDir::open(root).unwrap(), None).unwrap();
    let out = report::render(&run).unwrap();
    assert!(out.markdown.contains("## HTTP"), "{}", out.markdown);
    assert_eq!(out.markdown.contains("### Several nodes"), has_sites);
}

#[test]
fn row_2_gets_a_networked_verdict_per_rtt() {
    let v = validate();
    let h = fixture();
    // q = session ÷ JWT max rate: 4.00 k ÷ 5.00 k and 6.00 k ÷ 9.00 k at 0 ms, 3.00 k ÷ 5.00 k
    // at 2 ms (the lagging 2-node JWT site left out): contradicted at both.
    let j = verdicts::cpu::judge_with_http(None, None, Some(&h));
    assert_eq!(j.verdict, Verdict::Contradicted, "{}", j.because);
    for part in [
        "RTT 0ms: contradicted (1 node: session-redis 4.00 k req/s",
        "q ×0.80 contradicted; 2 nodes: session-redis 6.00 k req/s",
        "RTT 2ms: contradicted (1 node: session-redis 3.00 k req/s (p50 2.30 ms, p99 9.20 ms, \
         90.0 µs + 10.0 µs store CPU) vs jwt-HS256 5.00 k req/s",
        "left out (generator, cannot tell): jwt-HS256 cookie http1.1, 2 nodes, RTT 2ms",
    ] {
        assert!(j.because.contains(part), "lacks {part:?}: {}", j.because);
    }
    assert!(!j.because.contains("9.00 k req/s (p50 2.30 ms"));
    // Sessions four times faster: confirmed at every RTT.
    let mut fast = fixture();
    fast.nodes
        .iter_mut()
        .filter(|n| n.scheme.capabilities().store_lookup)
        .for_each(|n| n.max_rate = n.max_rate.map(|m| m * 4.0));
    let j = verdicts::cpu::judge_with_http(None, None, Some(&fast));
    assert_eq!(j.verdict, Verdict::Confirmed, "{}", j.because);
    // Beside the in-process verdict (nuanced): nuanced, both printed.
    let j = verdicts::cpu::judge_with_http(Some(&v), None, Some(&h));
    assert_eq!(j.verdict, Verdict::Nuanced);
    assert!(
        j.because.starts_with("in process: nuanced: "),
        "{}",
        j.because
    );
    // Without sites: exactly today's verdict.
    let mut none = fixture();
    none.nodes.clear();
    assert_eq!(
        verdicts::cpu::judge_with_http(Some(&v), None, Some(&none)),
        verdicts::cpu::judge_on(Some(&v), None)
    );
    // The table's row 2 reads http.json.
    let rows = verdicts::rows(&Fixture::all().write().run());
    assert!(rows[1].evidence.contains(&"http"));
    assert!(
        rows[1].cells[1].ends_with(
            "; site of 1 node: RTT 0ms 5.00 k req/s p99 1.20 ms, RTT 2ms 5.00 k req/s p99 9.20 ms"
        ),
        "{}",
        rows[1].cells[1]
    );
}

#[test]
fn row_3_reads_the_store_headroom_and_requests_as_nodes_grow() {
    let s = size();
    let h = fixture();
    // Sessions need 10 µs of store CPU per request, JWT sites none: confirmed; node growth
    // on a layout where the store shares cores is evidence only.
    let j = verdicts::scalability::judge_with_http(None, Some(&s), Some(&h));
    assert_eq!(j.verdict, Verdict::Confirmed, "{}", j.because);
    for part in [
        "central store (confirmed): sessions session-redis store CPU 10.0 µs per request, \
         headroom 100 k req/s per store core (4 sites)",
        "self-contained sites need no store work",
        "session-redis RTT 0ms 1→2 nodes G ×1.50 (oversubscribed)",
        "(evidence only:",
    ] {
        assert!(j.because.contains(part), "lacks {part:?}: {}", j.because);
    }
    // A JWT site doing as much store work per request as a session: contradicted.
    let mut heavy = fixture();
    heavy.nodes[2].store_load = Some(StoreLoad {
        ops_per_sec: 3000.0,
        ops_per_request: 2.0,
        cpu_per_op_ns: 5000.0,
        headroom_rate: 100_000.0,
    });
    let j = verdicts::scalability::judge_with_http(None, Some(&s), Some(&heavy));
    assert_eq!(j.verdict, Verdict::Contradicted, "{}", j.because);
    // On cores enough for everything, growth enters: sessions G 1.50 against JWTs 1.80 is
    // within the margin (nuanced), sessions G 1.10 is not (confirmed).
    let mut wide = fixture();
    let cores: Vec<usize> = (0..8).collect();
    wide.nodes
        .iter_mut()
        .for_each(|n| n.placement = Placement::plan(&cores, 1, n.nodes, 1));
    let j = verdicts::scalability::judge_with_http(None, Some(&s), Some(&wide));
    assert_eq!(j.verdict, Verdict::Nuanced, "{}", j.because);
    wide.nodes
        .iter_mut()
        .filter(|n| n.scheme.capabilities().store_lookup && n.nodes == 2)
        .for_each(|n| n.max_rate = Some(4400.0 * if n.rtt_ms > 0.0 { 0.75 } else { 1.0 }));
    let j = verdicts::scalability::judge_with_http(None, Some(&s), Some(&wide));
    assert_eq!(j.verdict, Verdict::Confirmed, "{}", j.because);
    assert!(j.because.contains("G ×1.10"), "{}", j.because);
}

#[test]
fn row_5_and_the_revoke_section_use_the_end_to_end_trials() {
    // jwt-denylist-central end to end: 4 ms against session-central's 3 ms at 0 ms, 10 ms
    // against 9 ms at 2 ms: fast, so nuanced.
    let r = revoke();
    let j = verdicts::revocation::judge(Some(&r));
    assert_eq!(j.verdict, Verdict::Nuanced, "{}", j.because);
    assert!(
        j.because.contains(
            "end to end over HTTP: session-central 2 nodes RTT 0ms p99 3.00 ms, 2 nodes RTT 2ms \
             p99 9.00 ms; jwt-denylist-central 2 nodes RTT 0ms: p99 4.00 ms (×1.33 \
             session-central's 3.00 ms)"
        ),
        "{}",
        j.because
    );
    assert!(j.because.contains("fast denylists: jwt-denylist-central"));
    // Slow end to end at one RTT: not fast; end to end decides, so confirmed even though
    // jwt-denylist-pushed is fast in process.
    let mut slow = revoke();
    slow.end_to_end
        .iter_mut()
        .filter(|e| e.strategy == "jwt-denylist-central" && e.rtt_ms > 0.0)
        .for_each(|e| e.latency.p99_ns = 100e6);
    let j = verdicts::revocation::judge(Some(&slow));
    assert_eq!(j.verdict, Verdict::Confirmed, "{}", j.because);
    // Failed trials are not fast either.
    let mut failed = revoke();
    failed
        .end_to_end
        .iter_mut()
        .filter(|e| e.strategy == "jwt-denylist-central")
        .for_each(|e| e.failed = 1);
    assert_eq!(
        verdicts::revocation::judge(Some(&failed)).verdict,
        Verdict::Confirmed
    );
    // The section's table, beside the in-process p99, and no warning while they agree.
    let md = Fixture::all().write().report_md();
    let s = section(&md, "## Revoke");
    assert!(
        s.contains("| jwt-denylist-central | jwt-HS256 | 2 | 2ms | redis | none | 20 | 0 | 9.00 ms | 10.0 ms | 11.0 ms | 200 µs |"),
        "{s}"
    );
    assert!(
        s.contains("| session-cache | session-redis | 2 | 0ms | redis | 250 ms | 20 | 0 | 190 ms | 252 ms | 277 ms | 245 ms |"),
        "{s}"
    );
    assert!(!s.contains("**Warning**"), "{s}");
    // The per-node cache 600 ms end to end against 245 ms in process: more than its 250 ms
    // window + 25 ms + 4 × 0 ms allows.
    let f = Fixture::all().write();
    let mut r = revoke();
    r.end_to_end[1].latency.p99_ns = 600e6;
    f.put(&r);
    let md = f.report_md();
    assert!(
        md.contains(
            "**Warning**: session-cache on 2 nodes at RTT 0ms: end to end p99 600 ms and in \
             process p99 245 ms lie 355 ms apart, more than the 275 ms its window allows."
        ),
        "{md}"
    );
    assert!(
        f.check_lines().iter().any(|l| l.starts_with(
            "**warning**: revoke session-cache end to end (2 nodes, RTT 0ms): p99 600 ms lies 355 ms"
        )),
        "{:?}",
        f.check_lines()
    );
}

#[test]
fn a_fault_accepting_unchecked_credentials_is_a_warning() {
    let f = Fixture::all().write();
    let mut h = fixture();
    h.faults[1].accepted_unverified = 3;
    f.put(&h);
    let md = f.report_md();
    assert!(
        md.contains("| store-cut | session-redis | 2 | 0 | 300 | 0 | 3 | **no** |"),
        "{md}"
    );
    assert!(
        f.check_lines().iter().any(|l| l.contains(
            "http fault store-cut on session-redis (2 nodes): 3 authenticated requests answered 200"
        )),
        "{:?}",
        f.check_lines()
    );
    // A recorded headroom its own definition does not give is a warning too.
    let mut h = fixture();
    h.nodes[0].store_load.as_mut().unwrap().headroom_rate = 50_000.0;
    f.put(&h);
    assert!(
        f.check_lines().iter().any(|l| l.contains(
            "recorded store headroom 50.0 k req/s, but 1 s ÷ (5.00 µs × 2.00 ops) = 100 k req/s"
        )),
        "{:?}",
        f.check_lines()
    );
}

#[test]
fn generator_limited_rows_and_sites_are_left_out_of_every_verdict_and_the_bottom_line() {
    let judged = |h: &HttpResults| {
        let f = Fixture::all().write();
        f.put(h);
        let run = f.run();
        let checks = report::checks::checks(&run);
        let rows: Vec<_> = verdicts::rows(&run)
            .into_iter()
            .map(|r| (r.cells, r.judgement))
            .collect();
        (rows, bottom_line::sentences(&run, &checks))
    };
    let base = fixture();
    // Whatever a lagging row or site measured, no verdict and no bottom line changes.
    let mut wild = fixture();
    for r in wild
        .rows
        .iter_mut()
        .filter(|r| r.limited_by == Limit::Generator)
    {
        r.max_rate = Some(1e9);
        r.common.step.bytes_sent_per_request = 1.0;
        r.common.server.token_cpu_per_request_ns = 1.0;
    }
    for n in wild.nodes.iter_mut().filter(|n| !n.generator_ruled_out()) {
        n.max_rate = Some(1e9);
        n.store_load = Some(StoreLoad {
            ops_per_sec: 1e9,
            ops_per_request: 100.0,
            cpu_per_op_ns: 1.0,
            headroom_rate: 1e7,
        });
    }
    assert_eq!(judged(&base), judged(&wild));
    // The same rows, judged: the verdicts do change.
    for r in wild.rows.iter_mut() {
        r.limited_by = Limit::Objective;
    }
    for n in wild.nodes.iter_mut() {
        n.limited_by = Limit::Objective;
        n.common.step.valid = true;
    }
    assert_ne!(judged(&base), judged(&wild));
    // The bottom line names what it left out.
    let (_, sentences) = judged(&base);
    assert!(
        sentences
            .iter()
            .any(|s| s.contains("; cannot tell (the generator lagged)")
                || s.contains(
                    "left out (generator, cannot tell): jwt-HS256 cookie http1.1, 2 nodes, RTT 2ms"
                )),
        "{sentences:?}"
    );
}

#[test]
fn a_run_where_every_row_lagged_says_so_and_keeps_no_empty_sentence() {
    let f = Fixture::all().write();
    let mut h = fixture();
    h.nodes.clear();
    h.rows
        .iter_mut()
        .for_each(|r| r.limited_by = Limit::Generator);
    f.put(&h);
    let run = f.run();
    let checks = report::checks::checks(&run);
    let lines = bottom_line::sentences(&run, &checks);
    assert!(
        lines.iter().any(|l| l.ends_with(
            "one server process (cookie, http1.1): no row the server's own; cannot tell (the \
             generator lagged): session-memory, jwt-HS256, jwt-ES256."
        )),
        "{lines:?}"
    );
    for l in &lines {
        assert!(
            !l.contains(": ;") && !l.contains(": .") && !l.contains(": ,"),
            "{l}"
        );
    }
    assert!(!lines.iter().any(|l| l.starts_with("Bytes a client sends")));
    assert!(!lines.iter().any(|l| l.starts_with("Over HTTP (")));
}
