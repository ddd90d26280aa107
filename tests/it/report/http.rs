//! The http workload in the report: the fixture `http.json` (round, made-up numbers: three
//! schemes × cookie, bearer × HTTP/1.1, h2c) and what the report makes of it: the section's
//! tables and rules, the generator check, the four charts, a missing and a corrupt
//! `http.json`, and seed rows 1 and 3 with and without it.

use std::collections::BTreeMap;
use std::fs;
use std::time::Duration;

use super::fixture::{Fixture, id, scale, size};
use tokenbench::load::search::SearchParams;
use tokenbench::measure::stats::Summary;
use tokenbench::net::placement::Placement;
use tokenbench::plot;
use tokenbench::report;
use tokenbench::report::verdicts::{self, Verdict};
use tokenbench::results::schema::ResultFile;
use tokenbench::results::schema::http::{
    CommonPoint, FaultResult, HttpProtocol, HttpResults, HttpRow, Limit, MetricsDelta, NodeRow,
    SearchStep, SitePoint, SplitLoad, SplitPoint, StepResult, StoreLoad, Transport,
};
use tokenbench::results::{Artifact, RunDir};

/// The fixture's p99 objective.
const OBJECTIVE: Duration = Duration::from_millis(10);
/// The fixture's common offered rate, req/s.
const COMMON_RATE: f64 = 1500.0;

fn latency(median: f64) -> Summary {
    Summary {
        samples: 1000,
        min_ns: median * 0.5,
        median_ns: median,
        p90_ns: median * 2.0,
        p99_ns: median * 4.0,
        p999_ns: median * 8.0,
        max_ns: median * 10.0,
        mean_ns: median * 1.2,
        median_ci95_ns: [median * 0.95, median * 1.05],
    }
}

/// A step at `rate` answering `answered` req/s with median latency `p50`, bytes per request
/// `(sent, received)`.
fn step(rate: f64, answered: f64, p50: f64, bytes: (f64, f64)) -> StepResult {
    let requests = (rate * 0.2) as u64;
    StepResult {
        offered_rate: rate,
        window_s: 0.2,
        requests,
        ok: requests,
        errors: 0,
        error_kinds: BTreeMap::new(),
        kinds: BTreeMap::from([("Me".to_owned(), requests)]),
        achieved_rate: answered,
        latency: latency(p50),
        latency_histogram: String::new(),
        lag: latency(20_000.0),
        late_share: 0.01,
        generator_cores: 0.25,
        generator_threads: 1,
        bytes_sent_per_request: bytes.0,
        bytes_received_per_request: bytes.1,
        valid: true,
        invalid_reason: None,
        nodes: Vec::new(),
    }
}

/// The search up to `max`: rates double from 1000 while they pass, then one bisection.
fn search(max: f64, bytes: (f64, f64)) -> Vec<SearchStep> {
    let objective = OBJECTIVE.as_nanos() as f64;
    let mut rates: Vec<f64> = Vec::new();
    let mut r = 1000.0;
    while r <= max {
        rates.push(r);
        r *= 2.0;
    }
    rates.push(r);
    if !rates.contains(&max) {
        rates.push(max);
    }
    rates
        .into_iter()
        .map(|rate| {
            let pass = rate <= max;
            // p99 = 4 × p50: a quarter of the objective at the max rate when passing.
            let p50 = if pass {
                objective / 16.0 * rate / max
            } else {
                objective
            };
            let answered = rate.min(max * 1.1);
            SearchStep {
                step: step(rate, answered, p50, bytes),
                pass,
            }
        })
        .collect()
}

struct Spec {
    scheme: &'static str,
    transport: Transport,
    protocol: HttpProtocol,
    max: f64,
    /// Token, password and rest CPU per request, µs.
    cpu_us: (f64, f64, f64),
    bytes: (f64, f64),
}

fn row(s: Spec) -> HttpRow {
    let (token, password, rest) = (s.cpu_us.0 * 1e3, s.cpu_us.1 * 1e3, s.cpu_us.2 * 1e3);
    let cpu = token + password + rest;
    let requests = 300;
    let caps = id(s.scheme).capabilities();
    HttpRow {
        scheme: id(s.scheme),
        backend: caps
            .per_crypto_backend
            .then(|| "aws-lc-rs".parse().expect("a backend name")),
        transport: s.transport,
        protocol: s.protocol,
        logout: if caps.revocable_by_delete {
            "revoked"
        } else {
            "expiry-only"
        }
        .into(),
        max_rate: Some(s.max),
        limited_by: Limit::Objective,
        search: search(s.max, s.bytes),
        common: CommonPoint {
            step: step(COMMON_RATE, COMMON_RATE, 400_000.0 + cpu, s.bytes),
            server: MetricsDelta {
                requests,
                process_cpu_ns: (cpu * requests as f64) as u64,
                cpu_per_request_ns: cpu,
                token_cpu_per_request_ns: token,
                validate_cpu_per_request_ns: token * 0.9,
                password_cpu_per_request_ns: password,
                rest_cpu_per_request_ns: rest,
                bytes_in_per_request: s.bytes.0,
                bytes_out_per_request: s.bytes.1,
                shed: 0,
                store_unavailable: 0,
                server_errors: 0,
            },
        },
        server_max_rss_bytes: 64 << 20,
        split: Vec::new(),
        server_cores: Some(vec![1]),
    }
}

/// The server's figures over a step: `requests` answered at `cpu_us` (token, password,
/// rest) per request.
fn delta(requests: u64, cpu_us: (f64, f64, f64)) -> MetricsDelta {
    let (token, password, rest) = (cpu_us.0 * 1e3, cpu_us.1 * 1e3, cpu_us.2 * 1e3);
    let cpu = token + password + rest;
    MetricsDelta {
        requests,
        process_cpu_ns: (cpu * requests as f64) as u64,
        cpu_per_request_ns: cpu,
        token_cpu_per_request_ns: token,
        validate_cpu_per_request_ns: token * 0.9,
        password_cpu_per_request_ns: password,
        rest_cpu_per_request_ns: rest,
        bytes_in_per_request: 100.0,
        bytes_out_per_request: 200.0,
        shed: 0,
        store_unavailable: 0,
        server_errors: 0,
    }
}

/// A split point at `rate`: `GET /me` at `me` µs (token, password, rest), the floor at
/// `floor` µs.
fn split(load: SplitLoad, rate: f64, me: (f64, f64, f64), floor: f64) -> SplitPoint {
    let point = |cpu| CommonPoint {
        step: step(rate, rate, 300_000.0, (100.0, 200.0)),
        server: delta(300, cpu),
    };
    SplitPoint {
        load,
        offered_rate: rate,
        me: point(me),
        floor: point((0.0, 0.0, floor)),
    }
}

/// The fixture's machine: 4 cores, the generator on core 0.
pub(super) const CORES: [usize; 4] = [0, 1, 2, 3];

/// A site of `nodes` nodes of `scheme` (cookie, HTTP/1.1) at `rtt_ms`: max rate `max`,
/// `cpu_us` of node CPU per request, the floor at 60 µs, and for a session the store at
/// 2 operations per request of 5 µs each (headroom 100 k req/s).
pub(super) fn site(scheme: &str, nodes: usize, rtt_ms: f64, max: f64, cpu_us: f64) -> NodeRow {
    let session = id(scheme).capabilities().store_lookup;
    let per_node = |cpu: f64| {
        (0..nodes)
            .map(|_| Some(delta(300 / nodes as u64, (0.0, 0.0, cpu))))
            .collect()
    };
    NodeRow {
        scheme: id(scheme),
        transport: Transport::Cookie,
        protocol: HttpProtocol::Http1,
        nodes,
        rtt_ms,
        measured_rtt_ms: (rtt_ms > 0.0).then_some(rtt_ms * 1.02),
        store: session.then(|| "redis".to_owned()),
        placement: Placement::plan(&CORES, 1, nodes, 1),
        max_rate: Some(max),
        limited_by: Limit::Objective,
        search: search(max, (100.0, 200.0)),
        common: SitePoint {
            step: step(
                COMMON_RATE,
                COMMON_RATE,
                300_000.0 + 1000.0 * rtt_ms * 1e3,
                (100.0, 200.0),
            ),
            per_node: per_node(cpu_us),
        },
        floor: Some(SitePoint {
            step: step(COMMON_RATE, COMMON_RATE, 250_000.0, (80.0, 150.0)),
            per_node: per_node(60.0),
        }),
        store_load: session.then_some(StoreLoad {
            ops_per_sec: COMMON_RATE * 2.0,
            ops_per_request: 2.0,
            cpu_per_op_ns: 5000.0,
            headroom_rate: 100_000.0,
        }),
    }
}

/// The fixture's sites: session-redis and jwt-HS256 on 1 and 2 nodes at RTT 0 and 2 ms; the
/// JWT site of 2 nodes at 2 ms stopped on a lagging generator.
pub(super) fn sites() -> Vec<NodeRow> {
    let mut out = Vec::new();
    for rtt in [0.0, 2.0] {
        let slower = if rtt > 0.0 { 0.75 } else { 1.0 };
        out.push(site("session-redis", 1, rtt, 4000.0 * slower, 90.0));
        out.push(site("session-redis", 2, rtt, 6000.0 * slower, 95.0));
        out.push(site("jwt-HS256", 1, rtt, 5000.0, 80.0));
        out.push(site("jwt-HS256", 2, rtt, 9000.0, 82.0));
    }
    let lagging = out.last_mut().expect("sites");
    lagging.limited_by = Limit::Generator;
    lagging.common.step.valid = false;
    lagging.common.step.invalid_reason =
        Some("the generator lagged: p99 pacer lag 4.00 ms > 2.00 ms".into());
    out
}

/// The fixture's faults: a node killed, the store cut under sessions and under JWTs.
pub(super) fn faults() -> Vec<FaultResult> {
    let fault =
        |fault: &str, scheme: &str, ok: u64, refused: u64, gone: u64, outcome: &str| FaultResult {
            fault: fault.into(),
            scheme: id(scheme),
            nodes: 2,
            ok_after: ok,
            refused_after: refused,
            unreachable_after: gone,
            accepted_unverified: 0,
            outcome: outcome.into(),
        };
    vec![
        fault(
            "node-killed",
            "session-redis",
            280,
            0,
            20,
            "the other node kept serving; 20 requests to the killed node failed",
        ),
        fault(
            "store-cut",
            "session-redis",
            0,
            300,
            0,
            "fail closed: every session request refused (503)",
        ),
        fault("store-cut", "jwt-HS256", 300, 0, 0, "JWT requests went on"),
    ]
}

/// The fixture `http.json`.
pub(super) fn fixture() -> HttpResults {
    use HttpProtocol::{H2c, Http1};
    use Transport::{Bearer, Cookie};
    // (scheme, max rate HTTP/1.1, h2c, token µs, bytes in (cookie, bearer) HTTP/1.1, h2c).
    let schemes = [
        (
            "session-memory",
            [8000.0, 8000.0],
            2.0,
            [114.0, 105.0],
            [54.0, 50.0],
        ),
        (
            "jwt-HS256",
            [6000.0, 6000.0],
            15.0,
            [538.0, 528.0],
            [394.0, 390.0],
        ),
        (
            "jwt-ES256",
            [3000.0, 3000.0],
            100.0,
            [579.0, 570.0],
            [427.0, 423.0],
        ),
    ];
    let mut rows = Vec::new();
    for (scheme, max, token, in1, in2) in schemes {
        for (t, transport) in [Cookie, Bearer].into_iter().enumerate() {
            let out = if transport == Cookie { 285.0 } else { 242.0 };
            for (p, protocol) in [Http1, H2c].into_iter().enumerate() {
                rows.push(row(Spec {
                    scheme,
                    transport,
                    protocol,
                    max: max[p],
                    cpu_us: (token, 10.0, if p == 0 { 70.0 } else { 80.0 }),
                    bytes: ([in1, in2][p][t], if p == 0 { out } else { out / 2.0 }),
                }));
            }
        }
    }
    // One row whose search stopped on a step where the generator lagged.
    let last = rows.last_mut().expect("rows");
    last.limited_by = Limit::Generator;
    if let Some(s) = last.search.iter_mut().find(|s| !s.pass) {
        s.step.valid = false;
        s.step.invalid_reason =
            Some("the generator lagged: p99 pacer lag 3.00 ms > 2.00 ms".into());
    }
    // Two rows split against the stack floor: at the common rate the CPU outside the token
    // is above 1.3 × the floor (82 - 2 = 80 µs over 60 µs; 190 - 100 = 90 µs over 60 µs),
    // near capacity below it.
    for (scheme, me_common, me_near, floor_near) in [
        ("session-memory", (2.0, 10.0, 70.0), (2.0, 0.0, 38.0), 32.0),
        ("jwt-ES256", (100.0, 10.0, 80.0), (100.0, 0.0, 50.0), 45.0),
    ] {
        let r = rows
            .iter_mut()
            .find(|r| r.scheme == id(scheme) && r.transport == Cookie && r.protocol == Http1)
            .expect("a row to split");
        let near = r.max_rate.unwrap_or(0.0) * 0.8;
        r.split = vec![
            split(SplitLoad::Common, COMMON_RATE, me_common, 60.0),
            split(SplitLoad::NearCapacity, near, me_near, floor_near),
        ];
    }
    let search = SearchParams {
        start_rate: 1000.0,
        max_rate: 50_000.0,
        growth: 2.0,
        bisect_steps: 1,
        p99_objective: OBJECTIVE,
        max_error_rate: 0.001,
        warmup: Duration::from_millis(50),
        window: Duration::from_millis(200),
    };
    HttpResults {
        schema_version: HttpResults::VERSION,
        cores: 4,
        params: serde_json::json!({
            "quick": true,
            "vus": 16,
            "reads_per_write": 4,
            "writes_per_session": 20,
            "search": search,
        }),
        common_rate: COMMON_RATE,
        rows,
        placement: Some(Placement::plan(&CORES, 1, 1, 1)),
        nodes: sites(),
        faults: faults(),
        end_to_end: Vec::new(),
        jwt_lifetime_s: 900.0,
        notes: Vec::new(),
    }
}

fn http_section(md: &str) -> &str {
    let at = md.find("## HTTP").expect("no HTTP section");
    let rest = &md[at..];
    &rest[..rest[3..].find("\n## ").map_or(rest.len(), |e| e + 3)]
}

#[test]
fn the_http_section_shows_the_rule_and_the_figures_of_the_run() {
    let md = Fixture::all().write().report_md();
    let section = http_section(&md);
    for needle in [
        "## HTTP: the Superb Site under load",
        // The objective and the rest of the search rule, from the recorded parameters.
        "p99 latency, counted from each request's intended send time, at most 10.0 ms",
        "at most 0.1% of the step's requests failed",
        "at least 90% of the offered rate",
        "then bisects between the last pass and the first failure (1 step)",
        "16 virtual users",
        "20 rounds of 4 `GET /me`",
        "1.50 k req/s",
        // Max rate, latency at the common rate, errors.
        "| session-memory | cookie | http1.1 | 8.00 k | 8.00 k (1 core) | objective | 482 µs | 1.93 ms | 3.86 ms | 1.50 k | 0 of 300 |",
        "| jwt-ES256 | bearer | h2c | 3.00 k | 3.00 k (1 core) | generator |",
        // CPU split and the token's share (100 / 190), bytes in / out.
        "| jwt-ES256 | cookie | h2c | 190 µs | 100 µs | 10.0 µs | 80.0 µs | 53% | 427 B / 143 B | expiry-only |",
        "| session-memory | cookie | http1.1 | 82.0 µs | 2.00 µs | 10.0 µs | 70.0 µs | 2.4% | 114 B / 285 B | revoked |",
        // HTTP/2 against HTTP/1.1.
        "### HTTP/1.1 against HTTP/2",
        "| session-memory | cookie | h2c | 8.00 k (×1.00) | 92.0 µs (×1.12) | 54 B (×0.47) | 143 B (×0.50) |",
        // The generator check, both ways.
        "### Is the load generator the bottleneck?",
        "| session-memory | cookie | http1.1 | 0.25 cores (1 worker thread) | 80.0 µs | 1.0% | 0 of 5 | **no** |",
        "**cannot tell**: the search stopped on a lagging step",
        "1 of 12 rows cannot rule the generator out",
        "![HTTP: answered rate against offered rate](charts/http_throughput.svg)",
        "![HTTP: p99 latency against offered rate](charts/http_p99.svg)",
        "charts/http_cpu.svg",
        "charts/http_bytes.svg",
    ] {
        assert!(section.contains(needle), "lacks {needle:?} in:\n{section}");
    }
    assert!(!section.contains("**Warning**"), "{section}");
}

#[test]
fn parts_above_their_whole_are_a_warning_and_an_invalid_common_step_cannot_tell() {
    let f = Fixture::all().write();
    let mut h = fixture();
    h.rows[0].common.server.token_cpu_per_request_ns = 1e6;
    h.rows[1].common.step.valid = false;
    h.rows[1].common.step.invalid_reason = Some("the generator lagged: fixture".into());
    f.put(&h);
    let md = f.report_md();
    let section = http_section(&md);
    assert!(
        section.contains(
            "**Warning**: the sampled token and password CPU exceed the process CPU for session-memory cookie http1.1;"
        ),
        "{section}"
    );
    assert!(
        section.contains("| session-memory | cookie | h2c | 0.25 cores (1 worker thread) | 80.0 µs | 1.0% | 0 of 5 | **cannot tell**: the generator lagged: fixture |"),
        "{section}"
    );
    assert!(section.contains("2 of 12 rows cannot rule"), "{section}");
}

#[test]
fn a_missing_http_json_is_not_measured_and_leaves_rows_1_and_3_as_before() {
    let f = Fixture::all().without("http").without("browser").write();
    let written = report::write_report_with(&f.dir, None).unwrap();
    // Eight charts of the other workloads (two files each), report.md and report.html.
    assert_eq!(written.len(), 18, "{written:?}");
    let md = f.read(Artifact::ReportMd);
    assert!(
        http_section(&md).contains("**not measured in this run**: no `http.json`."),
        "{}",
        http_section(&md)
    );
    assert!(
        !md.contains("http_cpu") && !md.contains("socket, cookie"),
        "{md}"
    );
    let run = f.run();
    assert!(run.get::<HttpResults>().is_none());
    let rows = verdicts::rows(&run);
    // Rows 1 and 3 as the report prints them without http.json (no HTTP figure in them).
    assert_eq!(
        rows[0].cells,
        [
            "`Cookie:` 34 / 34 / 34 B (minimal / typical / large)",
            "`Cookie:` 312 / 472 / 1732 B (minimal / typical / large)",
            "`Cookie:` 612 / 772 / 2032 B (minimal / typical / large)",
            "`Cookie:` 362 / 512 / 1772 B (minimal / typical / large)",
            "`Cookie:` 362 / 512 / 1772 B (minimal / typical / large)",
        ]
    );
    assert_eq!(rows[0].judgement.verdict, Verdict::Confirmed);
    assert_eq!(
        rows[0].judgement.because,
        "`Cookie:` header bytes, minimal: self-contained 312 B–612 B vs session 34 B (×9.18 to \
         ×18.0); typical: self-contained 472 B–772 B vs session 34 B (×13.9 to ×22.7); large: \
         self-contained 1732 B–2032 B vs session 34 B (×50.9 to ×59.8)"
    );
    assert_eq!(
        rows[2].cells,
        [
            "S ×3.33 (1 k), ×2.91 (100 k); 1200 B per session",
            "S ×3.64; 0 B per issued token",
            "S ×3.64",
            "S ×3.71",
            "S ×3.67",
        ]
    );
    assert_eq!(rows[2].judgement.verdict, Verdict::Nuanced);
    assert_eq!(
        rows[2].judgement.because,
        "S from 1 to 8 threads on 4 cores: sessions ×2.91–×3.33, self-contained ×3.64–×3.71; no \
         thread count between 1 and the 4 cores was measured, so S includes run-queue wait at 8 \
         threads; server heap 1200 B–1200 B per session, 0 B per self-contained token issued"
    );
}

fn corrupt(dir: &RunDir, bytes: &[u8]) -> String {
    fs::write(dir.path(&Artifact::Workload(HttpResults::FILE)), bytes).unwrap();
    let _ = fs::remove_file(dir.path(&Artifact::ReportMd));
    let msg = report::write_report_with(dir, None)
        .unwrap_err()
        .to_string();
    assert!(!dir.path(&Artifact::ReportMd).exists());
    msg
}

#[test]
fn a_corrupt_http_json_is_an_error_naming_the_file() {
    let f = Fixture::all().write();
    let dir = &f.dir;
    let msg = corrupt(dir, b"{ \"rows\": [");
    assert!(
        msg.contains("http.json") && msg.contains("not a valid"),
        "{msg}"
    );
    // The wrong shape, and a row missing its common point, are named too.
    assert!(corrupt(dir, b"{\"rows\": 3}").contains("http.json"));
    let mut v = serde_json::to_value(fixture()).unwrap();
    v["rows"][0].as_object_mut().unwrap().remove("common");
    let msg = corrupt(dir, v.to_string().as_bytes());
    assert!(msg.contains("http.json"), "{msg}");
}

#[test]
fn row_1_adds_the_socket_bytes_and_turns_nuanced_when_a_jwt_sends_no_more() {
    let run = Fixture::all().without("browser").write().run();
    let rows = verdicts::rows(&run);
    assert_eq!(
        rows[0].cells[0],
        "`Cookie:` 34 / 34 / 34 B (minimal / typical / large); socket, cookie: http1.1 114 / 285 B, h2c 54 / 143 B per request (in / out)"
    );
    let j = &rows[0].judgement;
    assert_eq!(j.verdict, Verdict::Confirmed, "{}", j.because);
    assert!(
        j.because.ends_with(
            "bytes sent per request on the socket, cookie http1.1: self-contained 538 B–579 B vs \
             session 114 B; cookie h2c: self-contained 394 B–427 B vs session 54 B; bearer http1.1: \
             self-contained 528 B–570 B vs session 105 B; bearer h2c: self-contained 390 B–390 B vs \
             session 50 B"
        ),
        "{}",
        j.because
    );
    assert!(rows[0].rule.contains("With `http.json`"));
    // A JWT that sends no more than a session on one protocol: nuanced.
    let mut h = fixture();
    for r in h
        .rows
        .iter_mut()
        .filter(|r| r.scheme.capabilities().carries_claims && r.protocol == HttpProtocol::H2c)
    {
        r.common.step.bytes_sent_per_request = 54.0;
    }
    let s = size();
    let j = verdicts::bandwidth::judge_with_http(Some(&s), Some(&h));
    assert_eq!(j.verdict, Verdict::Nuanced, "{}", j.because);
    // Without http.json, and with rows that answered nothing, the header rule alone.
    assert_eq!(
        verdicts::bandwidth::judge_with_http(Some(&s), None),
        verdicts::bandwidth::judge(Some(&s))
    );
    h.rows.iter_mut().for_each(|r| r.common.step.ok = 0);
    assert_eq!(
        verdicts::bandwidth::judge_with_http(Some(&s), Some(&h)),
        verdicts::bandwidth::judge(Some(&s))
    );
}

#[test]
fn row_3_shows_the_http_max_rates_as_evidence_without_changing_the_verdict() {
    let rows = verdicts::rows(&Fixture::all().write().run());
    assert_eq!(
        rows[2].cells[0],
        "S ×3.33 (1 k), ×2.91 (100 k); 1200 B per session; HTTP max http1.1 8.00 k / 8.00 k, h2c 8.00 k / 8.00 k req/s (cookie / bearer)"
    );
    // jwt-RS256 was not served over HTTP: its cell is as before.
    assert_eq!(rows[2].cells[2], "S ×3.64");
    let j = &rows[2].judgement;
    assert_eq!(j.verdict, Verdict::Nuanced);
    // jwt-ES256 bearer h2c (3.00 k) stopped on a lagging generator: left out.
    assert!(
        j.because.contains(
            "; HTTP max rate (p99 ≤ 10.0 ms), one server process on 4 cores, evidence only: sessions \
             8.00 k–8.00 k req/s, self-contained 3.00 k–6.00 k req/s;"
        ),
        "{}",
        j.because
    );
    // Whatever the single servers' rates, without sites the verdict is the scale workload's.
    let (c, s) = (scale(), size());
    let mut h = fixture();
    h.nodes.clear();
    for r in h.rows.iter_mut() {
        r.max_rate = Some(if r.scheme.capabilities().carries_claims {
            100.0
        } else {
            1e6
        });
    }
    assert_eq!(
        verdicts::scalability::judge_with_http(Some(&c), Some(&s), Some(&h)).verdict,
        verdicts::scalability::judge(Some(&c), Some(&s)).verdict
    );
    assert_eq!(
        verdicts::scalability::judge_with_http(Some(&c), Some(&s), None),
        verdicts::scalability::judge(Some(&c), Some(&s))
    );
}

#[test]
fn degenerate_http_figures_still_render_and_empty_results_draw_nothing() {
    let mut h = fixture();
    for (i, r) in h.rows.iter_mut().enumerate() {
        let bad = [0.0, -5.0, f64::NAN, f64::INFINITY, 1e15][i % 5];
        r.common.server.token_cpu_per_request_ns = bad;
        r.common.server.rest_cpu_per_request_ns = bad;
        r.common.step.bytes_sent_per_request = bad;
        r.max_rate = None;
        for s in &mut r.search {
            s.step.latency.p99_ns = bad;
            s.step.achieved_rate = bad;
        }
    }
    h.rows[0].search.clear();
    h.params = serde_json::json!({});
    let figures = plot::http::figures(&h);
    assert_eq!(figures.len(), 4);
    for f in &figures {
        let out = f.render().unwrap_or_else(|e| panic!("{e}"));
        assert!(out.png.starts_with(b"\x89PNG"), "{}", f.name);
    }
    // No search step anywhere: no rate charts; no rows: nothing at all.
    h.rows.iter_mut().for_each(|r| r.search.clear());
    let names: Vec<String> = plot::http::figures(&h)
        .into_iter()
        .map(|f| f.name)
        .collect();
    assert_eq!(names, ["http_cpu", "http_bytes"]);
    h.rows.clear();
    assert!(plot::http::figures(&h).is_empty());
    // Without recorded parameters the section still says what max rate means.
    let f = Fixture::all().write();
    let mut h = fixture();
    h.params = serde_json::json!({});
    f.put(&h);
    let md = f.report_md();
    assert!(
        http_section(&md).contains("does not record the search's parameters"),
        "{md}"
    );
}

#[test]
fn the_bottom_line_gives_the_token_share_rates_and_bytes_over_http_only_when_measured() {
    let md = Fixture::all().write().report_md();
    let bottom = &md[md.find("## Bottom line").unwrap()..];
    let bottom = &bottom[..bottom[3..].find("\n## ").map_or(bottom.len(), |i| i + 3)];
    assert!(
        bottom.contains("Over HTTP (cookie, http1.1, every scheme at 1.50 k req/s), the token's share of the server's CPU per request: 2.4% for session-memory (2.00 µs of 82.0 µs), 16% for jwt-HS256"),
        "{bottom}"
    );
    assert!(bottom.contains("for session-memory ("), "{bottom}");
    assert!(
        bottom.contains("Highest rate meeting the objective (p99 ≤ 10.0 ms), one server process (cookie, http1.1): session-memory 8.00 k req/s, jwt-HS256 6.00 k req/s, jwt-ES256 3.00 k req/s."),
        "{bottom}"
    );
    assert!(
        bottom.contains("Bytes our load generator's client (hyper, which never puts `cookie` or `authorization` in HPACK's table) sends per request on the socket with cookies, the whole flow averaged: http1.1: session-memory 114 B, jwt-HS256 538 B, jwt-ES256 579 B; h2c: session-memory 54 B"),
        "{bottom}"
    );

    let md = Fixture::all().without("http").write().report_md();
    assert!(md.contains("## Bottom line"));
    assert!(!md.contains("Over HTTP ("), "{md}");
}
