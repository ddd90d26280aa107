//! The report, built from a hand-made fixture run (round, plausible, made-up numbers; no
//! live timings, no clock): snapshot of `report.md` and of one chart's SVG, a
//! self-contained HTML page, every chart in both formats, errors that name the file, a run
//! of one workload, and the verdict rules (swapping figures flips a verdict).
//!
//! The http workload's fixture and its tests are in `report/http.rs`.
//!
//! Snapshots live in `tests/fixtures/report/`; after an intended change, rewrite them with
//! `UPDATE_SNAPSHOTS=1 cargo test --test it report::` and review the diff. The SVG snapshot
//! depends on the system font's metrics (plotters lays text out with fontconfig's
//! `sans-serif`), which the project's image fixes.

use std::fs;
use std::path::Path;

use tokenbench::claims::ClaimSet;
use tokenbench::measure::Measurement;
use tokenbench::measure::rounds::Rounds;
use tokenbench::measure::stats::Summary;
use tokenbench::report::verdicts::{self, Verdict};
use tokenbench::report::{self, ReportError, sections};
use tokenbench::results::meta::CrateVersion;
use tokenbench::results::schema::ResultFile;
use tokenbench::results::schema::http::HttpResults;
use tokenbench::results::schema::revoke::{RevokeResults, Strategy, StrategyResult, TrialClock};
use tokenbench::results::schema::scale::{ScalePoint, ScaleResults};
use tokenbench::results::schema::size::{Entry, MemoryRow, SizeResults, SizeRow};
use tokenbench::results::schema::validate::{BudgetCheck, Operation, ValidateResults, ValidateRow};
use tokenbench::results::{Artifact, Meta, RunDir, SCHEMA_VERSION};
use tokenbench::scheme::JwtAlg;
use tokenbench::scheme::spec::SchemeId;

mod http;

/// The identity of a scheme name (fixtures are written with names).
fn id(name: &str) -> SchemeId {
    name.parse().expect("a scheme name")
}

// ---------------------------------------------------------------------------------------
// The fixture.

/// A summary around `median` with round, fixed spreads.
fn summary(median: f64) -> Summary {
    Summary {
        samples: 100,
        min_ns: median * 0.8,
        median_ns: median,
        p90_ns: median * 1.5,
        p99_ns: median * 3.0,
        p999_ns: median * 5.0,
        max_ns: median * 10.0,
        mean_ns: median * 1.1,
        median_ci95_ns: [median * 0.95, median * 1.05],
    }
}

/// Per-round factors of the fixture's round medians: the middle one is 1, so the median
/// of the rounds is the figure given; the spread is ±3%.
const ROUND_FACTORS: [f64; 5] = [0.97, 0.99, 1.0, 1.01, 1.03];

/// Five round medians around `median`.
fn rounds_of(median: f64) -> Vec<f64> {
    ROUND_FACTORS.iter().map(|f| f * median).collect()
}

fn measurement(median: f64) -> Measurement {
    with_cpu(
        Measurement {
            batch_size: 100,
            ops: 100_000,
            wall: summary(median),
            cpu: summary(median * 0.9),
            wall_histogram: String::new(),
            timer_overhead_share: 0.001,
            rounds: Some(Rounds {
                wall_ns: rounds_of(median),
                cpu_ns: Vec::new(),
            }),
        },
        median * 0.9,
    )
}

/// `m` with a thread CPU median of `cpu` (its batches and its rounds).
fn with_cpu(mut m: Measurement, cpu: f64) -> Measurement {
    m.cpu = summary(cpu);
    if let Some(r) = &mut m.rounds {
        r.cpu_ns = rounds_of(cpu);
    }
    m
}

fn meta() -> Meta {
    Meta {
        schema_version: SCHEMA_VERSION,
        tokenbench_version: "0.1.0".into(),
        command_line: ["tokenbench", "run", "--quick", "--out", "results"]
            .map(String::from)
            .to_vec(),
        started_utc: "2026-01-01T00:00:00Z".into(),
        finished_utc: Some("2026-01-01T00:01:30Z".into()),
        quick: true,
        seed: 42,
        cpu_model: "Fixture CPU @ 3.00GHz".into(),
        cores: 4,
        os: "linux x86_64".into(),
        kernel: Some("6.1.0".into()),
        rustc: "rustc 1.89.0 (fixture)".into(),
        profile: "release".into(),
        crate_versions: vec![
            CrateVersion {
                name: "jsonwebtoken".into(),
                version: "11.1.0".into(),
            },
            CrateVersion {
                name: "dashmap".into(),
                version: "6.1.0".into(),
            },
        ],
        git_commit: Some("0123456789abcdef0123456789abcdef01234567".into()),
        settings: None,
        params: Default::default(),
        load: Vec::new(),
        crypto_backend: "aws-lc-rs".into(),
    }
}

const JWTS: [&str; 4] = ["jwt-HS256", "jwt-RS256", "jwt-ES256", "jwt-EdDSA"];

fn size_row(scheme: &str, claims: ClaimSet, token: usize, readable: usize) -> SizeRow {
    let names: Vec<String> = if readable == 0 {
        Vec::new()
    } else {
        ["aud", "exp", "iat", "iss", "jti", "roles", "sub"]
            .map(String::from)
            .to_vec()
    };
    SizeRow {
        scheme: id(scheme),
        claims,
        token_bytes: token,
        cookie_header_bytes: token + 12,
        authorization_header_bytes: token + 22,
        set_cookie_header_bytes: token + 71,
        readable_payload_bytes: readable,
        readable_claims: names,
        random_bits: 128,
        fits_cookie_limit: token + 59 <= 4096,
    }
}

const REDIS_MEMORY_METHOD: &str = "redis MEMORY USAGE of 1000 denylist keys (fixture)";

fn size() -> SizeResults {
    let mut rows = Vec::new();
    for set in ClaimSet::ALL {
        rows.push(size_row("session-memory", set, 22, 0));
    }
    let tokens = [
        [300, 460, 1720],
        [600, 760, 2020],
        [350, 500, 1760],
        [350, 500, 1760],
    ];
    for (scheme, t) in JWTS.iter().zip(tokens) {
        for (i, set) in ClaimSet::ALL.into_iter().enumerate() {
            rows.push(size_row(scheme, set, t[i], [170, 280, 1230][i]));
        }
    }
    let memory = |scheme: &str, entry: Entry, per: f64| MemoryRow {
        scheme: scheme.into(),
        entry,
        claims: ClaimSet::Typical,
        entries: 10_000,
        heap_bytes: (per * 10_000.0) as i64,
        allocations: if per > 0.0 { 170_000 } else { 0 },
        bytes_per_entry: per,
        method: None,
    };
    SizeResults {
        schema_version: 1,
        rows,
        memory: vec![
            memory("session-memory", Entry::Session, 1200.0),
            memory("jwt-HS256", Entry::IssuedJwt, 0.0),
            memory("jwt-HS256+denylist-memory", Entry::DenylistEntry, 80.0),
            // A Redis row says how it was measured; the others fall back to memory_method.
            MemoryRow {
                entries: 1000,
                heap_bytes: 104_000,
                allocations: 0,
                method: Some(REDIS_MEMORY_METHOD.into()),
                ..memory("jwt-HS256+denylist-redis", Entry::DenylistEntry, 104.0)
            },
        ],
        memory_method: "counting global allocator (fixture)".into(),
        cookie_name: "sid".into(),
        cookie_limit_bytes: 4096,
        header_limit_bytes: 8192,
    }
}

fn vrow(
    scheme: &str,
    backend: Option<&str>,
    op: Operation,
    claims: ClaimSet,
    median: f64,
) -> ValidateRow {
    ValidateRow {
        scheme: id(scheme),
        backend: backend.map(|b| b.parse().expect("a backend name")),
        operation: op,
        claims,
        measurement: measurement(median),
        server_cpu_ns_per_op: None,
        errors: 0,
    }
}

/// The fixture's Redis session store, typical claims: (operation, wall median, client CPU
/// median, server CPU per op). Sliding expiry adds a write (40% over the lookup) and costs
/// far more than an HS256 validate, as a network round trip does.
const REDIS: [(Operation, f64, f64, f64); 2] = [
    (Operation::Validate, 30_000.0, 12_000.0, 18_000.0),
    (Operation::ValidateSliding, 42_000.0, 14_000.0, 26_000.0),
];

fn validate() -> ValidateResults {
    use ClaimSet::{Large, Minimal, Typical};
    let mut rows = Vec::new();
    let s = "session-memory";
    for (set, v, i) in [
        (Minimal, 150.0, 1000.0),
        (Typical, 160.0, 2000.0),
        (Large, 170.0, 5000.0),
    ] {
        rows.push(vrow(s, None, Operation::Validate, set, v));
        rows.push(vrow(s, None, Operation::ValidateSliding, set, v + 60.0));
        rows.push(vrow(s, None, Operation::Issue, set, i));
    }
    rows.push(vrow(s, None, Operation::RejectUnknown, Typical, 90.0));
    rows.push(vrow(s, None, Operation::RejectRevoked, Typical, 90.0));
    for (op, wall, client, server) in REDIS {
        let mut row = vrow("session-redis", None, op, Typical, wall);
        row.measurement = with_cpu(row.measurement, client);
        row.server_cpu_ns_per_op = Some(server);
        rows.push(row);
    }
    let aws = Some("aws-lc-rs");
    let costs: [(&str, [f64; 3], f64, f64); 4] = [
        ("jwt-HS256", [6000.0, 7000.0, 20000.0], 4000.0, 1200.0),
        (
            "jwt-RS256",
            [35000.0, 40000.0, 55000.0],
            1_800_000.0,
            30000.0,
        ),
        ("jwt-ES256", [90000.0, 95000.0, 105000.0], 45000.0, 82000.0),
        ("jwt-EdDSA", [60000.0, 65000.0, 80000.0], 30000.0, 53000.0),
    ];
    for (scheme, validate, issue, signature) in costs {
        for (set, v) in ClaimSet::ALL.into_iter().zip(validate) {
            rows.push(vrow(scheme, aws, Operation::Validate, set, v));
            rows.push(vrow(scheme, aws, Operation::Issue, set, issue));
        }
        rows.push(vrow(
            scheme,
            aws,
            Operation::RejectUnknown,
            Typical,
            signature + 2000.0,
        ));
        rows.push(vrow(
            scheme,
            aws,
            Operation::RejectRevoked,
            Typical,
            validate[1],
        ));
        rows.push(vrow(
            scheme,
            aws,
            Operation::JwtHeaderDecode,
            Typical,
            900.0,
        ));
        rows.push(vrow(
            scheme,
            aws,
            Operation::JwtClaimsDecode,
            Typical,
            2500.0,
        ));
        rows.push(vrow(
            scheme,
            aws,
            Operation::JwtSignatureCheck,
            Typical,
            signature,
        ));
    }
    let rc = Some("rust-crypto");
    rows.push(vrow("jwt-HS256", rc, Operation::Validate, Typical, 6500.0));
    rows.push(vrow(
        "jwt-RS256",
        rc,
        Operation::Validate,
        Typical,
        340_000.0,
    ));
    rows.push(vrow(s, None, Operation::RefMapGet, Typical, 50.0));
    rows.push(vrow(
        "jwt-HS256",
        aws,
        Operation::RefJwtDecode,
        Typical,
        6500.0,
    ));
    rows.push(vrow(
        "jwt-HS256",
        aws,
        Operation::RefHmacSha256,
        Typical,
        1200.0,
    ));
    ValidateResults {
        schema_version: 2,
        live_sessions: 1000,
        timer_pair_ns: 30.0,
        rows,
        budget_checks: vec![
            BudgetCheck {
                name: "session-memory validate / bare DashMap get".into(),
                ratio: 3.0,
                ratio_ci95: [2.8, 3.2],
                ratio_lo: Some(2.8),
                ratio_hi: Some(3.2),
                limit: 1.5,
                pass: false,
            },
            BudgetCheck {
                name: "jwt-HS256 validate / bare jsonwebtoken::decode (aws-lc-rs)".into(),
                ratio: 1.05,
                ratio_ci95: [1.0, 1.1],
                ratio_lo: Some(1.0),
                ratio_hi: Some(1.1),
                limit: 1.1,
                pass: true,
            },
        ],
    }
}

fn strategy(
    name: &str,
    clock: &str,
    window_ms: Option<f64>,
    p50: f64,
    p99: f64,
    cost: f64,
    added: f64,
) -> StrategyResult {
    let strategy = Strategy::EVERY
        .into_iter()
        .find(|s| s.name() == name)
        .expect("a strategy name");
    StrategyResult {
        strategy,
        family: strategy.family(),
        clock: match clock {
            "virtual" => TrialClock::Virtual,
            _ => TrialClock::Wall,
        },
        window_ms,
        latency: Summary {
            samples: 20,
            p99_ns: p99,
            p999_ns: p99,
            max_ns: p99 * 1.1,
            ..summary(p50)
        },
        latencies_ns: vec![p50 * 0.9, p50, p99],
        validate_cost: measurement(cost),
        added_cost_ns: added,
        added_cost_lo_ns: (added != 0.0).then_some((added * 0.8).min(added * 1.2)),
        added_cost_hi_ns: (added != 0.0).then_some((added * 0.8).max(added * 1.2)),
        errors: 0,
    }
}

fn revoke() -> RevokeResults {
    RevokeResults {
        schema_version: 1,
        validators: 4,
        trials: 20,
        cache_ttl_ms: 250.0,
        poll_interval_ms: 250.0,
        jwt_lifetime_s: 900.0,
        jwt_alg: JwtAlg::HS256,
        strategies: vec![
            strategy("session-central", "wall", None, 80e3, 100e3, 200.0, 0.0),
            strategy(
                "session-cache",
                "wall",
                Some(250.0),
                190e6,
                245e6,
                150.0,
                -50.0,
            ),
            strategy(
                "jwt-expiry-only",
                "virtual",
                Some(900e3),
                450e9,
                890e9,
                4500.0,
                0.0,
            ),
            strategy(
                "jwt-denylist-central",
                "wall",
                None,
                90e3,
                200e3,
                4580.0,
                80.0,
            ),
            strategy(
                "jwt-denylist-pushed",
                "wall",
                None,
                150e3,
                300e3,
                4620.0,
                120.0,
            ),
            strategy(
                "jwt-denylist-polled",
                "wall",
                Some(250.0),
                180e6,
                248e6,
                4590.0,
                90.0,
            ),
        ],
    }
}

fn point(
    scheme: &str,
    backend: Option<&str>,
    sessions: Option<usize>,
    threads: usize,
    ops: f64,
) -> ScalePoint {
    ScalePoint {
        scheme: id(scheme),
        backend: backend.map(|b| b.parse().expect("a backend name")),
        threads,
        sessions,
        token_pool: sessions.unwrap_or(100),
        ops: (ops * 0.25) as u64,
        duration_s: 0.25,
        ops_per_sec: ops,
        latency: summary(1e9 * threads as f64 / ops),
        latency_histogram: String::new(),
        batch_size: if sessions.is_some() { 12 } else { 1 },
        errors: 0,
    }
}

fn scale() -> ScaleResults {
    let mut points = Vec::new();
    for (n, one, eight) in [(1_000, 2.4e6, 8.0e6), (100_000, 0.55e6, 1.6e6)] {
        points.push(point("session-memory", None, Some(n), 1, one));
        points.push(point("session-memory", None, Some(n), 8, eight));
    }
    for (scheme, one, eight) in [
        ("jwt-HS256", 110e3, 400e3),
        ("jwt-RS256", 22e3, 80e3),
        ("jwt-ES256", 7e3, 26e3),
        ("jwt-EdDSA", 15e3, 55e3),
    ] {
        points.push(point(scheme, Some("aws-lc-rs"), None, 1, one));
        points.push(point(scheme, Some("aws-lc-rs"), None, 8, eight));
    }
    ScaleResults {
        schema_version: 1,
        cores: 4,
        duration_per_point_ms: 250.0,
        session_sliding: false,
        points,
    }
}

/// Which workload files the fixture run holds.
#[derive(Clone, Copy)]
struct Files {
    size: bool,
    validate: bool,
    revoke: bool,
    scale: bool,
    http: bool,
}

const ALL: Files = Files {
    size: true,
    validate: true,
    revoke: true,
    scale: true,
    http: true,
};

/// A finished run of every workload with the fixture's files as `edit` leaves them.
fn edited_run(
    edit: impl FnOnce(&mut Meta, &mut ValidateResults, &mut RevokeResults),
) -> (tempfile::TempDir, RunDir) {
    let (tmp, dir) = fixture_run(ALL);
    let (mut m, mut v, mut r) = (meta(), validate(), revoke());
    edit(&mut m, &mut v, &mut r);
    dir.write_json(&Artifact::Meta, &m).unwrap();
    dir.write_json(&Artifact::Workload(ValidateResults::FILE), &v)
        .unwrap();
    dir.write_json(&Artifact::Workload(RevokeResults::FILE), &r)
        .unwrap();
    (tmp, dir)
}

/// The self-checks' lines of the run in `dir`.
fn check_lines(dir: &RunDir) -> Vec<String> {
    let run = report::Run::load(dir, None).unwrap();
    report::checks::checks(&run)
        .iter()
        .map(|c| c.line())
        .collect()
}

/// Whether `text` prints a negative figure: a minus sign starting a number (dates such as
/// `2026-01-01` and ranges written with an en dash do not count).
fn negative_figure(text: &str) -> Option<String> {
    let b: Vec<char> = text.chars().collect();
    (1..b.len().saturating_sub(1))
        .find(|&i| {
            b[i] == '-'
                && b[i + 1].is_ascii_digit()
                && matches!(b[i - 1], ' ' | '(' | '[' | '|' | ':' | '+' | '\n')
        })
        .map(|i| {
            b[i.saturating_sub(30)..(i + 30).min(b.len())]
                .iter()
                .collect()
        })
}

/// A finished fixture run in a fresh temporary folder, always named the same.
fn fixture_run(files: Files) -> (tempfile::TempDir, RunDir) {
    let base = tempfile::tempdir().unwrap();
    let dir = RunDir::create(base.path(), "2026-01-01T00-00-00Z", Some("fixture")).unwrap();
    dir.write_json(&Artifact::Meta, &meta()).unwrap();
    let workload = |kind| Artifact::Workload(kind);
    if files.size {
        dir.write_json(&workload(SizeResults::FILE), &size())
            .unwrap();
    }
    if files.validate {
        dir.write_json(&workload(ValidateResults::FILE), &validate())
            .unwrap();
    }
    if files.revoke {
        dir.write_json(&workload(RevokeResults::FILE), &revoke())
            .unwrap();
    }
    if files.scale {
        dir.write_json(&workload(ScaleResults::FILE), &scale())
            .unwrap();
    }
    if files.http {
        dir.write_json(&workload(HttpResults::FILE), &http::fixture())
            .unwrap();
    }
    dir.finish().unwrap();
    (base, dir)
}

fn snapshot(name: &str, actual: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/report")
        .join(name);
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, actual).unwrap();
        return;
    }
    let expected = fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; create it with UPDATE_SNAPSHOTS=1 cargo test --test it report::",
            path.display()
        )
    });
    if expected != actual {
        let line = expected
            .lines()
            .zip(actual.lines())
            .position(|(a, b)| a != b)
            .unwrap_or(expected.lines().count().min(actual.lines().count()));
        panic!(
            "{} differs from the snapshot from line {}:\n  expected: {:?}\n  actual:   {:?}\n\
             (UPDATE_SNAPSHOTS=1 cargo test --test it report:: rewrites it)",
            path.display(),
            line + 1,
            expected.lines().nth(line),
            actual.lines().nth(line)
        );
    }
}

fn read(dir: &RunDir, artifact: Artifact) -> String {
    fs::read_to_string(dir.path(&artifact)).unwrap()
}

// ---------------------------------------------------------------------------------------
// The report as a whole.

#[test]
fn report_md_and_a_chart_match_their_snapshots() {
    let (_tmp, dir) = fixture_run(ALL);
    report::write_report_with(&dir, None).unwrap();
    snapshot(
        "report.md",
        &without_folder(&dir, &read(&dir, Artifact::ReportMd)),
    );
    let svg = read(
        &dir,
        Artifact::Chart {
            name: "revoke_latency".into(),
            ext: "svg",
        },
    );
    snapshot("revoke_latency.svg", &svg);
}

#[test]
fn the_report_is_deterministic() {
    let (_a, one) = fixture_run(ALL);
    let (_b, two) = fixture_run(ALL);
    report::write_report_with(&one, None).unwrap();
    report::write_report_with(&two, None).unwrap();
    for artifact in [
        Artifact::ReportMd,
        Artifact::ReportHtml,
        Artifact::Chart {
            name: "scale_throughput".into(),
            ext: "svg",
        },
    ] {
        assert_eq!(
            without_folder(&one, &read(&one, artifact.clone())),
            without_folder(&two, &read(&two, artifact))
        );
    }
}

/// `text` with the run folder's path (a fresh temporary folder each time) written as
/// `<run folder>`.
fn without_folder(dir: &RunDir, text: &str) -> String {
    text.replace(&dir.root().display().to_string(), "<run folder>")
}

#[test]
fn the_reproduce_line_names_the_folder_the_report_was_read_from() {
    let (tmp, dir) = fixture_run(ALL);
    report::write_report_with(&dir, None).unwrap();
    let md = read(&dir, Artifact::ReportMd);
    assert!(
        md.contains(&format!("tokenbench report {}\n", dir.root().display())),
        "{md}"
    );

    // Through the `latest` link: the line names the run itself, not the moving link.
    let latest = tmp.path().join("latest");
    assert!(
        latest.exists(),
        "the fixture run is finished, so latest points at it"
    );
    let via_link = RunDir::open(&latest).unwrap();
    report::write_report_with(&via_link, None).unwrap();
    let md = read(&dir, Artifact::ReportMd);
    assert!(md.contains(&format!("tokenbench report {}\n", dir.root().display())));
    assert!(!md.contains("report path/to/"));
    assert!(!md.contains(&format!("{}\n", latest.display())));
}

#[test]
fn every_chart_is_written_as_svg_and_png() {
    let (_tmp, dir) = fixture_run(ALL);
    let written = report::write_report_with(&dir, None).unwrap();
    let charts = [
        "size_headers",
        "validate_cost",
        "jwt_breakdown",
        "revoke_latency",
        "scale_throughput",
        "scale_throughput_jwt",
        "scale_percentiles",
        "scale_percentiles_jwt",
        "http_throughput",
        "http_p99",
        "http_cpu",
        "http_bytes",
    ];
    for name in charts {
        let svg = dir.path(&Artifact::Chart {
            name: name.into(),
            ext: "svg",
        });
        let png = dir.path(&Artifact::Chart {
            name: name.into(),
            ext: "png",
        });
        assert!(written.contains(&svg) && written.contains(&png), "{name}");
        let text = fs::read_to_string(&svg).unwrap();
        assert!(text.trim_start().starts_with("<svg"), "{name}.svg");
        assert!(text.contains("<text"), "{name}.svg has no text");
        let bytes = fs::read(&png).unwrap();
        assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"), "{name}.png");
        assert!(bytes.len() > 5_000, "{name}.png is nearly empty");
    }
    assert!(written.contains(&dir.path(&Artifact::ReportMd)));
    assert!(written.contains(&dir.path(&Artifact::ReportHtml)));
    assert_eq!(written.len(), charts.len() * 2 + 2, "{written:?}");
    // Every written file is where RunDir says, and no temporary file is left beside them.
    let in_charts = fs::read_dir(dir.path(&Artifact::ChartsDir))
        .unwrap()
        .count();
    assert_eq!(in_charts, charts.len() * 2);
}

#[test]
fn report_html_is_self_contained() {
    let (_tmp, dir) = fixture_run(ALL);
    report::write_report_with(&dir, None).unwrap();
    let html = read(&dir, Artifact::ReportHtml);
    for banned in [
        "src=\"http",
        "src='http",
        "<script",
        "<link",
        "url(http",
        "url(//",
        "@import",
        "<img",
        "<iframe",
    ] {
        assert!(!html.contains(banned), "report.html contains {banned}");
    }
    // Every chart is inline, and the seed table made it in.
    assert_eq!(html.matches("<svg").count(), 12);
    // The claims and rules are collapsible notes under the table.
    assert!(html.contains("<details>\n<summary>Claims and rules, by row number:</summary>"));
    assert!(html.contains("<strong class=\"v-confirmed\">confirmed</strong>"));
    assert!(html.starts_with("<!DOCTYPE html>") && html.trim_end().ends_with("</html>"));
}

#[test]
fn report_md_holds_every_section_and_the_figures_of_the_run() {
    let (_tmp, dir) = fixture_run(ALL);
    report::write_report_with(&dir, None).unwrap();
    let md = read(&dir, Artifact::ReportMd);
    for needle in [
        "## Machine and run",
        "## The comparison table, rebuilt from this run",
        "## Size",
        "## Validate",
        "## Revoke",
        "## Scale",
        "## HTTP",
        "## Security considerations",
        "## Reproduce",
        "tokenbench run --quick --out results",
        "Fixture CPU @ 3.00GHz",
        // Budget checks as measured, the missed one included.
        "| session-memory validate / bare DashMap get | 3.000 | 2.800–3.200 | ≤ 1.5 | **missed** |",
        // The HS256 budget's spread reaches its limit: borderline.
        "| 1.050 | 1.000–1.100 | ≤ 1.1 | pass (borderline) |",
        "![Cookie: request header bytes per scheme and claim set](charts/size_headers.svg)",
    ] {
        assert!(md.contains(needle), "report.md lacks {needle:?}");
    }
    // Seven rows, each with a computed verdict and its rule.
    for n in 1..=7 {
        assert!(md.contains(&format!("\n| {n} | ")), "row {n}");
    }
    assert!(
        !md.contains("not measured"),
        "the full fixture measures everything"
    );
}

#[test]
fn the_central_store_subsection_shows_the_server_cpu_of_the_run() {
    let (_tmp, dir) = fixture_run(ALL);
    report::write_report_with(&dir, None).unwrap();
    let md = read(&dir, Artifact::ReportMd);
    let at = md
        .find("### Central store: embedded vs Redis")
        .expect("no central store subsection");
    let section = &md[at..];
    let section = &section[..section[4..].find("\n### ").map_or(section.len(), |e| e + 4)];
    // The fixture's figures (REDIS; session-memory's CPU is 0.9 × its wall), "—" where an
    // embedded store has no server.
    for line in [
        "|  | session-memory | session-redis |",
        "| validate: wall median | 160 ns | 30.0 µs |",
        "| validate: client CPU median | 144 ns | 12.0 µs |",
        "| validate: server CPU per op | — | 18.0 µs |",
        "| validate, sliding expiry: wall median | 220 ns | 42.0 µs |",
        "| validate, sliding expiry: client CPU median | 198 ns | 14.0 µs |",
        "| validate, sliding expiry: server CPU per op | — | 26.0 µs |",
    ] {
        assert!(section.contains(line), "lacks {line:?} in:\n{section}");
    }
    // JWTs have no central store.
    assert!(!section.contains("jwt-"), "{section}");

    // No row with a server figure: no subsection.
    let mut v = validate();
    v.rows
        .iter_mut()
        .for_each(|r| r.server_cpu_ns_per_op = None);
    dir.write_json(&Artifact::Workload(ValidateResults::FILE), &v)
        .unwrap();
    report::write_report_with(&dir, None).unwrap();
    assert!(!read(&dir, Artifact::ReportMd).contains("Central store"));
}

#[test]
fn the_memory_table_says_how_each_row_was_measured() {
    let (_tmp, dir) = fixture_run(ALL);
    report::write_report_with(&dir, None).unwrap();
    let md = read(&dir, Artifact::ReportMd);
    assert!(
        md.contains("| Scheme | Entry | Claims | Entries | Heap bytes | Per entry | Measured by |"),
        "{md}"
    );
    let row = |scheme: &str| {
        md.lines()
            .find(|l| l.starts_with(&format!("| {scheme} | ")) && l.contains("| typical | "))
            .unwrap_or_else(|| panic!("no memory row for {scheme}"))
            .to_owned()
    };
    // Its own method where the row has one, the section's otherwise.
    assert!(
        row("jwt-HS256+denylist-redis").ends_with(&format!("| {REDIS_MEMORY_METHOD} |")),
        "{}",
        row("jwt-HS256+denylist-redis")
    );
    assert!(
        row("jwt-HS256+denylist-memory").ends_with("| counting global allocator (fixture) |"),
        "{}",
        row("jwt-HS256+denylist-memory")
    );
}

#[test]
fn the_reproduce_line_never_shows_a_password_even_from_an_older_meta_json() {
    let (_tmp, dir) = fixture_run(ALL);
    // Versions before the redaction moved to the store layer wrote what `redact_url` now
    // hides (a second URL in one argument, a user name alone).
    let mut m = meta();
    m.command_line = [
        "tokenbench",
        "run",
        "--stores",
        "memory,redis://alice:s3cr3tpw@h:6390/1,redis+cluster://:s3cr3tpw@a:1,b:2",
        "--store=redis://s3cr3tpw@h",
    ]
    .map(String::from)
    .to_vec();
    dir.write_json(&Artifact::Meta, &m).unwrap();
    report::write_report_with(&dir, None).unwrap();
    for artifact in [Artifact::ReportMd, Artifact::ReportHtml] {
        let text = read(&dir, artifact.clone());
        assert!(!text.contains("s3cr3tpw"), "{artifact:?}");
    }
    assert!(
        read(&dir, Artifact::ReportMd)
            .contains("memory,redis://alice:***@h:6390/1,redis+cluster://:***@a:1,b:2"),
        "the rest of the command line stays"
    );
}

// ---------------------------------------------------------------------------------------
// Missing and broken files.

#[test]
fn a_missing_meta_json_is_an_error_naming_the_file() {
    let (_tmp, dir) = fixture_run(ALL);
    fs::remove_file(dir.path(&Artifact::Meta)).unwrap();
    let err = report::write_report_with(&dir, None).unwrap_err();
    assert!(matches!(err, ReportError::MissingMeta { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(
        msg.contains("meta.json") && msg.contains("missing"),
        "{msg}"
    );
    assert!(!dir.path(&Artifact::ReportMd).exists());
}

#[test]
fn a_corrupt_validate_json_is_an_error_naming_the_file() {
    let (_tmp, dir) = fixture_run(ALL);
    fs::write(
        dir.path(&Artifact::Workload(ValidateResults::FILE)),
        b"{ \"live_sessions\": ",
    )
    .unwrap();
    let err = report::write_report_with(&dir, None).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("validate.json") && msg.contains("not a valid"),
        "{msg}"
    );
    // A file of the wrong shape is named too.
    fs::write(
        dir.path(&Artifact::Workload(ValidateResults::FILE)),
        b"{\"rows\": 3}",
    )
    .unwrap();
    let msg = report::write_report_with(&dir, None)
        .unwrap_err()
        .to_string();
    assert!(msg.contains("validate.json"), "{msg}");
    assert!(!dir.path(&Artifact::ReportMd).exists());
}

#[test]
fn a_corrupt_meta_json_is_an_error_naming_the_file() {
    let (_tmp, dir) = fixture_run(ALL);
    fs::write(dir.path(&Artifact::Meta), b"not json").unwrap();
    let msg = report::write_report_with(&dir, None)
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("meta.json") && msg.contains("not a valid"),
        "{msg}"
    );
}

#[test]
fn a_version_1_run_still_reads_and_a_newer_one_is_refused_by_name() {
    let (_tmp, dir) = fixture_run(ALL);
    // Version 1: the raw sample list instead of the histogram; still readable.
    let path = dir.path(&Artifact::Workload(ValidateResults::FILE));
    let v1 = read(&dir, Artifact::Workload(ValidateResults::FILE)).replace(
        "\"wall_histogram\": \"\"",
        "\"wall_samples_ns\": [1.5, 2.5]",
    );
    assert!(v1.contains("wall_samples_ns"), "fixture changed shape");
    fs::write(&path, v1).unwrap();
    let mut meta = meta();
    meta.schema_version = 1;
    dir.write_json(&Artifact::Meta, &meta).unwrap();
    let run = report::Run::load(&dir, None).unwrap();
    assert!(run.get::<ValidateResults>().is_some());

    meta.schema_version = SCHEMA_VERSION + 1;
    dir.write_json(&Artifact::Meta, &meta).unwrap();
    let err = report::write_report_with(&dir, None).unwrap_err();
    assert!(matches!(err, ReportError::Schema { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(
        msg.contains("meta.json") && msg.contains(&format!("version {}", SCHEMA_VERSION + 1)),
        "{msg}"
    );
}

#[test]
fn a_run_with_only_size_json_reports_the_other_rows_as_not_measured() {
    let (_tmp, dir) = fixture_run(Files {
        size: true,
        validate: false,
        revoke: false,
        scale: false,
        http: false,
    });
    let written = report::write_report_with(&dir, None).unwrap();
    // One chart (two files), report.md and report.html.
    assert_eq!(written.len(), 4, "{written:?}");
    let md = read(&dir, Artifact::ReportMd);
    let rows = tokenbench::report::verdicts::rows(&report::Run::load(&dir, None).unwrap());
    let verdicts: Vec<Verdict> = rows.iter().map(|r| r.judgement.verdict).collect();
    assert_eq!(
        verdicts,
        [
            Verdict::Confirmed,
            Verdict::NotMeasured,
            Verdict::NotMeasured,
            Verdict::Confirmed,
            Verdict::NotMeasured,
            Verdict::NotMeasured,
            Verdict::Nuanced,
        ]
    );
    for name in ["CPU usage", "Scalability", "Revocation", "Expiry"] {
        let line = md
            .lines()
            .find(|l| l.starts_with("| ") && l.contains(&format!(" | {name} | ")))
            .unwrap_or_else(|| panic!("no row {name}"));
        assert!(line.contains("**not measured in this run**"), "{line}");
    }
    for section in ["no `validate.json`", "no `revoke.json`", "no `scale.json`"] {
        assert!(md.contains(section), "{section}");
    }
    // No figure is made up for what was not measured.
    assert!(
        !md.contains(" ns"),
        "a duration appears in a size-only report"
    );
}

// ---------------------------------------------------------------------------------------
// Criterion estimates.

fn write_estimate(root: &Path, group: &str, function: &str, value: &str, median: f64) {
    let dir = root.join(group).join(function).join(value).join("new");
    fs::create_dir_all(&dir).unwrap();
    let est = serde_json::json!({
        "mean": {"point_estimate": median * 1.1, "standard_error": 1.0,
                 "confidence_interval": {"confidence_level": 0.95, "lower_bound": median, "upper_bound": median * 1.2}},
        "median": {"point_estimate": median, "standard_error": 1.0,
                   "confidence_interval": {"confidence_level": 0.95, "lower_bound": median * 0.9, "upper_bound": median * 1.1}},
    });
    fs::write(dir.join("estimates.json"), est.to_string()).unwrap();
    let bench = serde_json::json!({
        "group_id": group, "function_id": function, "value_str": value,
        "full_id": format!("{group}/{function}/{value}"),
    });
    fs::write(dir.join("benchmark.json"), bench.to_string()).unwrap();
}

#[test]
fn criterion_estimates_are_shown_beside_the_cli_figures() {
    let (_tmp, dir) = fixture_run(ALL);
    let crit = tempfile::tempdir().unwrap();
    write_estimate(crit.path(), "validate", "session-memory", "typical", 180.0);
    write_estimate(crit.path(), "validate", "jwt-HS256", "typical", 7700.0);
    // An older estimate and a broken file are not mistaken for current ones.
    let base = crit.path().join("validate/jwt-RS256/typical/base");
    fs::create_dir_all(&base).unwrap();
    fs::write(base.join("estimates.json"), "{}").unwrap();
    let broken = crit.path().join("issue/jwt-ES256/typical/new");
    fs::create_dir_all(&broken).unwrap();
    fs::write(broken.join("estimates.json"), "{ broken").unwrap();

    report::write_report_with(&dir, Some(crit.path())).unwrap();
    let md = read(&dir, Artifact::ReportMd);
    assert!(
        md.contains("| `validate/session-memory/typical` | 160 ns | 180 ns | 198 ns | ×1.12 |"),
        "{md}"
    );
    assert!(md.contains("| `validate/jwt-HS256/typical` | 7.00 µs | 7.70 µs |"));
    assert!(!md.contains("validate/jwt-RS256/typical`"));
    assert!(md.contains("ignored `") && md.contains("estimates.json"));

    // No criterion folder: the report says so and still renders.
    report::write_report_with(&dir, Some(&crit.path().join("absent"))).unwrap();
    assert!(read(&dir, Artifact::ReportMd).contains("No criterion estimate under"));
}

// ---------------------------------------------------------------------------------------
// The verdict rules: the fixture's verdicts, and figures swapped to flip them.

#[test]
fn the_fixture_verdicts() {
    let (s, v, r, c) = (size(), validate(), revoke(), scale());
    assert_eq!(
        verdicts::bandwidth::judge(Some(&s)).verdict,
        Verdict::Confirmed
    );
    // Confirmed against the embedded store, contradicted for HS256 against Redis (whose
    // lookup costs 12 µs here and 18 µs in the server): nuanced, naming each deployment.
    let j = verdicts::cpu::judge(Some(&v));
    assert_eq!(j.verdict, Verdict::Nuanced, "{}", j.because);
    for part in [
        "confirmed for embedded `session-memory`",
        "contradicted for jwt-HS256 aws-lc-rs, jwt-HS256 rust-crypto against networked `session-redis`",
        "session-redis 30.0 µs CPU (12.0 µs client + 18.0 µs server)",
    ] {
        assert!(j.because.contains(part), "{part:?} not in {}", j.because);
    }
    assert_eq!(
        verdicts::scalability::judge(Some(&c), Some(&s)).verdict,
        Verdict::Nuanced
    );
    assert_eq!(
        verdicts::privacy::judge(Some(&s)).verdict,
        Verdict::Confirmed
    );
    assert_eq!(
        verdicts::revocation::judge(Some(&r)).verdict,
        Verdict::Nuanced
    );
    assert_eq!(
        verdicts::expiry::judge(Some(&v)).verdict,
        Verdict::Confirmed
    );
    assert_eq!(
        verdicts::cross_domain::judge(Some(&s)).verdict,
        Verdict::Nuanced
    );
    for row in verdicts::ROWS {
        assert!(!(row.rule)().is_empty(), "rule {}", row.number);
    }
}

#[test]
fn missing_results_are_not_measured_never_guessed() {
    assert_eq!(
        verdicts::bandwidth::judge(None).verdict,
        Verdict::NotMeasured
    );
    assert_eq!(verdicts::cpu::judge(None).verdict, Verdict::NotMeasured);
    assert_eq!(
        verdicts::scalability::judge(None, Some(&size())).verdict,
        Verdict::NotMeasured
    );
    assert_eq!(verdicts::privacy::judge(None).verdict, Verdict::NotMeasured);
    assert_eq!(
        verdicts::revocation::judge(None).verdict,
        Verdict::NotMeasured
    );
    assert_eq!(verdicts::expiry::judge(None).verdict, Verdict::NotMeasured);
    assert_eq!(
        verdicts::cross_domain::judge(None).verdict,
        Verdict::NotMeasured
    );
    // One family only: nothing to compare.
    let mut s = size();
    s.rows.retain(|r| r.scheme.capabilities().carries_claims);
    assert_eq!(
        verdicts::bandwidth::judge(Some(&s)).verdict,
        Verdict::NotMeasured
    );
    // A single thread count: no scaling to compare.
    let mut c = scale();
    c.points.retain(|p| p.threads == 1);
    assert_eq!(
        verdicts::scalability::judge(Some(&c), None).verdict,
        Verdict::NotMeasured
    );
}

#[test]
fn bandwidth_flips_with_the_header_sizes() {
    let mut s = size();
    // One JWT smaller than the session for one claim set: nuanced.
    s.rows
        .iter_mut()
        .filter(|r| r.scheme == "jwt-HS256" && r.claims == ClaimSet::Minimal)
        .for_each(|r| r.cookie_header_bytes = 20);
    assert_eq!(
        verdicts::bandwidth::judge(Some(&s)).verdict,
        Verdict::Nuanced
    );
    // Every JWT no larger than the session: contradicted.
    s.rows
        .iter_mut()
        .filter(|r| r.scheme.capabilities().carries_claims)
        .for_each(|r| r.cookie_header_bytes = 30);
    assert_eq!(
        verdicts::bandwidth::judge(Some(&s)).verdict,
        Verdict::Contradicted
    );
}

fn set_median(
    v: &mut ValidateResults,
    scheme: &str,
    op: Operation,
    backend: Option<&str>,
    ns: f64,
) {
    for r in v.rows.iter_mut().filter(|r| {
        r.scheme == scheme
            && r.operation == op
            && r.claims == ClaimSet::Typical
            && r.backend.map(|b| b.name()) == backend
    }) {
        r.measurement = with_cpu(
            Measurement {
                wall: summary(ns),
                rounds: Some(Rounds {
                    wall_ns: rounds_of(ns),
                    cpu_ns: Vec::new(),
                }),
                ..r.measurement.clone()
            },
            ns * 0.9,
        );
    }
}

#[test]
fn cpu_flips_with_the_validate_medians() {
    // An embedded store only: every JWT at least twice its CPU is confirmed.
    let embedded = || {
        let mut v = validate();
        v.rows.retain(|r| r.scheme != "session-redis");
        v
    };
    let j = verdicts::cpu::judge(Some(&embedded()));
    assert_eq!(j.verdict, Verdict::Confirmed, "{}", j.because);
    // HS256 within the factor of a session lookup: nuanced.
    let mut v = embedded();
    set_median(
        &mut v,
        "jwt-HS256",
        Operation::Validate,
        Some("aws-lc-rs"),
        250.0,
    );
    let j = verdicts::cpu::judge(Some(&v));
    assert_eq!(j.verdict, Verdict::Nuanced, "{}", j.because);
    assert!(
        j.because
            .contains("nuanced for jwt-HS256 aws-lc-rs against embedded `session-memory`"),
        "{}",
        j.because
    );
    // The crypto library matters more than the scheme: nuanced.
    let mut v = embedded();
    set_median(
        &mut v,
        "jwt-RS256",
        Operation::Validate,
        Some("rust-crypto"),
        40_000.0 * 300.0,
    );
    assert_eq!(verdicts::cpu::judge(Some(&v)).verdict, Verdict::Nuanced);
    // Sessions costlier than every JWT: contradicted (swap the session and HS256 figures).
    let mut v = embedded();
    set_median(&mut v, "session-memory", Operation::Validate, None, 1e7);
    assert_eq!(
        verdicts::cpu::judge(Some(&v)).verdict,
        Verdict::Contradicted
    );
    // Redis only, and every JWT cheaper than its lookup's CPU (client + server): contradicted
    // against the networked store, by name.
    let mut v = validate();
    v.rows
        .retain(|r| r.scheme == "session-redis" || r.scheme == "jwt-HS256");
    let j = verdicts::cpu::judge(Some(&v));
    assert_eq!(j.verdict, Verdict::Contradicted, "{}", j.because);
    assert!(
        j.because
            .starts_with("contradicted for networked `session-redis`"),
        "{}",
        j.because
    );
}

fn set_ops(c: &mut ScaleResults, jwt: bool, threads: usize, factor: f64) {
    for p in c
        .points
        .iter_mut()
        .filter(|p| p.scheme.capabilities().carries_claims == jwt && p.threads == threads)
    {
        p.ops_per_sec *= factor;
    }
}

#[test]
fn scalability_flips_with_the_scaling_ratios() {
    let s = size();
    // Sessions barely scale while JWTs do: confirmed.
    let mut c = scale();
    set_ops(&mut c, false, 8, 0.4);
    assert_eq!(
        verdicts::scalability::judge(Some(&c), Some(&s)).verdict,
        Verdict::Confirmed
    );
    // Swapped: JWTs barely scale: contradicted.
    let mut c = scale();
    set_ops(&mut c, true, 8, 0.4);
    assert_eq!(
        verdicts::scalability::judge(Some(&c), Some(&s)).verdict,
        Verdict::Contradicted
    );
    // Sessions scale worse but the server keeps as much per JWT: contradicted.
    let mut c = scale();
    set_ops(&mut c, false, 8, 0.4);
    let mut s2 = size();
    s2.memory
        .iter_mut()
        .filter(|m| m.entry == Entry::IssuedJwt)
        .for_each(|m| m.bytes_per_entry = 5000.0);
    assert_eq!(
        verdicts::scalability::judge(Some(&c), Some(&s2)).verdict,
        Verdict::Contradicted
    );
}

#[test]
fn privacy_flips_with_what_an_outsider_reads() {
    let mut s = size();
    s.rows
        .iter_mut()
        .filter(|r| r.scheme == "session-memory")
        .for_each(|r| r.random_bits = 64);
    assert_eq!(verdicts::privacy::judge(Some(&s)).verdict, Verdict::Nuanced);
    let mut s = size();
    s.rows
        .iter_mut()
        .filter(|r| r.scheme == "session-memory")
        .for_each(|r| r.readable_payload_bytes = 100);
    assert_eq!(
        verdicts::privacy::judge(Some(&s)).verdict,
        Verdict::Contradicted
    );
    let mut s = size();
    s.rows
        .iter_mut()
        .filter(|r| r.scheme.capabilities().carries_claims)
        .for_each(|r| r.readable_payload_bytes = 0);
    assert_eq!(
        verdicts::privacy::judge(Some(&s)).verdict,
        Verdict::Contradicted
    );
}

#[test]
fn revocation_flips_with_the_latencies() {
    // No fast denylist (all slow or costly): confirmed.
    let mut r = revoke();
    for s in r.strategies.iter_mut() {
        match s.strategy.name() {
            "jwt-denylist-central" => s.added_cost_ns = 4000.0,
            "jwt-denylist-pushed" => s.latency.p99_ns = 50e6,
            _ => {}
        }
    }
    assert_eq!(
        verdicts::revocation::judge(Some(&r)).verdict,
        Verdict::Confirmed
    );
    // A fast denylist that failed trials does not count.
    let mut r = revoke();
    for s in r.strategies.iter_mut() {
        match s.strategy.name() {
            "jwt-denylist-central" => s.errors = 2,
            "jwt-denylist-pushed" => s.latency.p99_ns = 50e6,
            _ => {}
        }
    }
    assert_eq!(
        verdicts::revocation::judge(Some(&r)).verdict,
        Verdict::Confirmed
    );
    // Expiry-only as quick as a deleted session: contradicted.
    let mut r = revoke();
    for s in r.strategies.iter_mut() {
        if s.strategy == Strategy::JwtExpiryOnly {
            s.latency.median_ns = 100e3;
        }
    }
    assert_eq!(
        verdicts::revocation::judge(Some(&r)).verdict,
        Verdict::Contradicted
    );
}

#[test]
fn expiry_judges_each_store_against_its_own_lookup() {
    // The fixture's Redis sliding validate (42 µs) costs far more than any JWT validate, yet
    // adds only 40% to its own lookup: confirmed (the old rule called this contradicted).
    let v = validate();
    let j = verdicts::expiry::judge(Some(&v));
    assert_eq!(j.verdict, Verdict::Confirmed, "{}", j.because);
    assert!(
        j.because
            .contains("session-redis +12.0 µs (40%: 30.0 µs → 42.0 µs)"),
        "{}",
        j.because
    );
    // Exactly at the threshold is still cheap.
    let mut v = validate();
    set_median(
        &mut v,
        "session-redis",
        Operation::ValidateSliding,
        None,
        45_000.0,
    );
    assert_eq!(
        verdicts::expiry::judge(Some(&v)).verdict,
        Verdict::Confirmed
    );
    // One store over the threshold: nuanced, naming that store and its share.
    let mut v = validate();
    set_median(
        &mut v,
        "session-memory",
        Operation::ValidateSliding,
        None,
        400.0,
    );
    let j = verdicts::expiry::judge(Some(&v));
    assert_eq!(j.verdict, Verdict::Nuanced, "{}", j.because);
    assert!(
        j.because
            .contains("over 50% of the lookup: session-memory 150%"),
        "{}",
        j.because
    );
    let mut v = validate();
    set_median(
        &mut v,
        "session-redis",
        Operation::ValidateSliding,
        None,
        120_000.0,
    );
    let j = verdicts::expiry::judge(Some(&v));
    assert_eq!(j.verdict, Verdict::Nuanced, "{}", j.because);
    assert!(
        j.because
            .contains("over 50% of the lookup: session-redis 300%"),
        "{}",
        j.because
    );
}

#[test]
fn expiry_is_never_contradicted_by_a_costly_write() {
    // Every sliding validate a thousand times its lookup and dearer than every JWT: the price
    // of server-side expiry is high, which nuances the row and does not contradict it.
    let mut v = validate();
    for r in v
        .rows
        .iter_mut()
        .filter(|r| r.operation == Operation::ValidateSliding)
    {
        let m = r.measurement.median() * 1000.0;
        r.measurement = measurement(m);
    }
    let j = verdicts::expiry::judge(Some(&v));
    assert_eq!(j.verdict, Verdict::Nuanced, "{}", j.because);
    assert!(verdicts::expiry::rule().contains("Never contradicted"));
    assert!(!verdicts::expiry::rule().contains("JWT validate"));
    // A zero lookup gives no share: not counted as cheap, and no panic.
    let mut v = validate();
    set_median(&mut v, "session-memory", Operation::Validate, None, 0.0);
    assert_eq!(verdicts::expiry::judge(Some(&v)).verdict, Verdict::Nuanced);
}

#[test]
fn expiry_names_what_it_could_not_judge() {
    // A store measured without its sliding row is not judged, and says so.
    let mut v = validate();
    v.rows
        .retain(|r| !(r.scheme == "session-redis" && r.operation == Operation::ValidateSliding));
    let j = verdicts::expiry::judge(Some(&v));
    assert_eq!(j.verdict, Verdict::Confirmed, "{}", j.because);
    assert!(
        j.because
            .contains("not measured both ways, so not judged: session-redis"),
        "{}",
        j.because
    );
    assert!(!j.because.contains("session-redis +"), "{}", j.because);
    // No store measured both ways: not measured.
    v.rows.retain(|r| r.operation != Operation::ValidateSliding);
    assert_eq!(
        verdicts::expiry::judge(Some(&v)).verdict,
        Verdict::NotMeasured
    );
    // A sliding validate cheaper than the lookup is noise, named as such, never a negative
    // figure.
    let mut v = validate();
    set_median(
        &mut v,
        "session-memory",
        Operation::ValidateSliding,
        None,
        150.0,
    );
    let j = verdicts::expiry::judge(Some(&v));
    assert_eq!(j.verdict, Verdict::Confirmed, "{}", j.because);
    assert!(
        j.because
            .contains("session-memory no measurable cost (measured 10.0 ns below"),
        "{}",
        j.because
    );
    assert!(!j.because.contains("-10"), "{}", j.because);
}

/// Marks the typical-claims row of `scheme`/`op` as having had `errors` failed operations.
fn set_errors(v: &mut ValidateResults, scheme: &str, op: Operation, errors: u64) {
    for r in v
        .rows
        .iter_mut()
        .filter(|r| r.scheme == scheme && r.operation == op && r.claims == ClaimSet::Typical)
    {
        r.errors = errors;
    }
}

#[test]
fn verdicts_leave_out_rows_with_failed_operations() {
    // A Redis sliding row that timed refusals would make row 6 nuanced; it is left out.
    let mut v = validate();
    set_median(
        &mut v,
        "session-redis",
        Operation::ValidateSliding,
        None,
        1e9,
    );
    let j = verdicts::expiry::judge(Some(&v));
    assert_eq!(j.verdict, Verdict::Nuanced, "{}", j.because);
    set_errors(&mut v, "session-redis", Operation::ValidateSliding, 4);
    let j = verdicts::expiry::judge(Some(&v));
    assert_eq!(j.verdict, Verdict::Confirmed, "{}", j.because);
    assert!(
        j.because.contains("not judged: session-redis")
            && j.because.contains(
                "left out for failed operations: session-redis validate_sliding (4 failed)"
            ),
        "{}",
        j.because
    );
    // A session store with failed operations is left out of the CPU row, by name.
    let mut v = validate();
    set_median(&mut v, "session-memory", Operation::Validate, None, 1e7);
    let j = verdicts::cpu::judge(Some(&v));
    assert!(
        j.because
            .starts_with("contradicted for embedded `session-memory`"),
        "{}",
        j.because
    );
    set_errors(&mut v, "session-memory", Operation::Validate, 2);
    let j = verdicts::cpu::judge(Some(&v));
    assert!(
        !j.because.contains("embedded `session-memory`")
            && j.because.contains("networked `session-redis`")
            && j.because
                .contains("left out for failed operations: session-memory validate (2 failed)"),
        "{}",
        j.because
    );
    // No JWT row without failures: not measured, and saying why.
    for scheme in ["jwt-HS256", "jwt-RS256", "jwt-ES256", "jwt-EdDSA"] {
        set_errors(&mut v, scheme, Operation::Validate, 1);
    }
    let j = verdicts::cpu::judge(Some(&v));
    assert_eq!(j.verdict, Verdict::NotMeasured, "{}", j.because);
    assert!(
        j.because
            .contains("jwt-HS256 aws-lc-rs validate (1 failed)"),
        "{}",
        j.because
    );
}

#[test]
fn the_report_lists_rows_with_failed_operations() {
    let (_tmp, dir) = fixture_run(ALL);
    report::write_report_with(&dir, None).unwrap();
    assert!(!read(&dir, Artifact::ReportMd).contains("Operations failed while measuring"));
    let mut v = validate();
    set_errors(&mut v, "session-redis", Operation::Validate, 3);
    dir.write_json(&Artifact::Workload(ValidateResults::FILE), &v)
        .unwrap();
    report::write_report_with(&dir, None).unwrap();
    let md = read(&dir, Artifact::ReportMd);
    assert!(md.contains("**Operations failed while measuring**"), "{md}");
    assert!(
        md.contains("- session-redis validate (typical claims): 3 of about "),
        "{md}"
    );
}

#[test]
fn cross_domain_flips_with_the_header_limit() {
    let mut s = size();
    s.rows
        .iter_mut()
        .filter(|r| r.scheme == "jwt-RS256" && r.claims == ClaimSet::Large)
        .for_each(|r| r.authorization_header_bytes = 9000);
    let j = verdicts::cross_domain::judge(Some(&s));
    assert_eq!(j.verdict, Verdict::Contradicted);
    assert!(j.because.contains("jwt-RS256 large"), "{}", j.because);
    // Only a JWT fits the limits (session tokens would not): confirmed.
    let mut s = size();
    s.rows
        .iter_mut()
        .filter(|r| r.scheme == "session-memory")
        .for_each(|r| r.authorization_header_bytes = 9000);
    assert_eq!(
        verdicts::cross_domain::judge(Some(&s)).verdict,
        Verdict::Confirmed
    );
}

// ---------------------------------------------------------------------------------------
// The security section cites real tests.

#[test]
fn every_test_cited_by_the_report_exists() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for (file, name) in sections::CITED_TESTS {
        let text = fs::read_to_string(root.join(file)).unwrap();
        assert!(
            text.contains(&format!("fn {name}(")),
            "{file} has no test {name}"
        );
    }
    let (_tmp, dir) = fixture_run(ALL);
    report::write_report_with(&dir, None).unwrap();
    let md = read(&dir, Artifact::ReportMd);
    for (_, name) in sections::CITED_TESTS {
        assert!(
            md.contains(&format!("`{name}`")),
            "report.md does not cite {name}"
        );
    }
}

// ---------------------------------------------------------------------------------------
// Charts never panic.

#[test]
fn degenerate_figures_still_render() {
    use tokenbench::plot;
    // Zero, negative, huge and non-finite figures; a strategy without a successful trial.
    let mut v = validate();
    for (i, r) in v.rows.iter_mut().enumerate() {
        let x = [0.0, -5.0, f64::NAN, f64::INFINITY, 1e15][i % 5];
        r.measurement.wall.median_ns = x;
        r.measurement.rounds = Some(Rounds {
            wall_ns: vec![x; 3],
            cpu_ns: vec![x; 3],
        });
        r.measurement.wall.p99_ns = f64::NAN;
    }
    let mut r = revoke();
    r.strategies[1].latency = Summary {
        samples: 0,
        ..summary(0.0)
    };
    let mut c = scale();
    c.points.iter_mut().for_each(|p| p.ops_per_sec = 0.0);
    let mut s = size();
    s.rows.truncate(1);
    let (_tmp, dir) = fixture_run(ALL);
    let mut run = report::Run::load(&dir, None).unwrap();
    run.insert(s);
    run.insert(v);
    run.insert(r);
    run.insert(c);
    run.remove(HttpResults::FILE);
    let figures = run.figures();
    assert_eq!(figures.len(), 8);
    for f in &figures {
        let out = f.render().unwrap_or_else(|e| panic!("{e}"));
        assert!(out.png.starts_with(b"\x89PNG"), "{}", f.name);
    }
    // Empty results draw nothing rather than an empty frame.
    let empty = ScaleResults {
        points: Vec::new(),
        ..scale()
    };
    assert!(plot::scale::throughput(&empty).is_empty());
    assert!(plot::scale::percentiles(&empty).is_empty());
}

// ---------------------------------------------------------------------------------------
// The bottom line first, and the self-checks, printed.

#[test]
fn the_bottom_line_opens_the_report_the_page_and_the_summary() {
    let (_tmp, dir) = fixture_run(ALL);
    report::write_report_with(&dir, None).unwrap();
    let md = read(&dir, Artifact::ReportMd);
    // Only the title comes before it.
    let first: Vec<&str> = md.lines().filter(|l| !l.is_empty()).take(2).collect();
    assert!(first[0].starts_with("# tokenbench report"), "{first:?}");
    assert_eq!(first[1], "## Bottom line");
    // Its sentences carry the figures that decide: the cost of each JWT against each
    // store with its spread, the central store's server CPU, revocation, bytes.
    let bottom = &md[md.find("## Bottom line").unwrap()..md.find("## About this report").unwrap()];
    for part in [
        "`jwt-HS256` costs 43.8× (43.8–43.8×)",
        "Against `session-redis` (networked: 30.0 µs CPU per request, 12.0 µs in this process + 18.0 µs in the store server",
        "`jwt-HS256` costs 0.21× (0.21–0.21×)",
        "`jwt-expiry-only` median 450 s",
        "`session-cache` p99 245 ms, per request saves 50.0 ns",
        "`jwt-HS256` 472 B, 13.9×",
    ] {
        assert!(bottom.contains(part), "{part:?} not in {bottom}");
    }
    // The machine table is the last section.
    let last = md.lines().rfind(|l| l.starts_with("## "));
    assert_eq!(last, Some("## Machine and run"));
    let html = read(&dir, Artifact::ReportHtml);
    let h2 = html.find("<h2>").unwrap();
    assert!(html[h2..].starts_with("<h2>Bottom line</h2>"));
    assert_eq!(
        html[..h2].matches("<h").filter(|_| true).count(),
        3,
        "head, html, h1 only"
    );
    let summary = report::terminal::summary_of(&dir);
    assert_eq!(summary.lines().find(|l| !l.is_empty()), Some("Bottom line"));
    assert!(summary.contains("self-checks"), "{summary}");
    // The seed table: no claim or rule column (they are numbered notes), claim sets named.
    let head = md.lines().find(|l| l.starts_with("| # | Row |")).unwrap();
    assert!(!head.contains("Rule") && !head.contains("claim"), "{head}");
    assert!(md.contains("\n1. **Bandwidth usage**. Claim: "));
    assert!(md.contains("34 / 34 / 34 B (minimal / typical / large)"));
    assert!(!md.contains("34 / 34 / 34 B |"));
}

#[test]
fn the_report_prints_no_negative_figure() {
    let (_tmp, dir) = fixture_run(ALL);
    report::write_report_with(&dir, None).unwrap();
    let md = read(&dir, Artifact::ReportMd);
    assert_eq!(negative_figure(&md), None);
    assert_eq!(negative_figure(&report::terminal::summary_of(&dir)), None);
    assert_eq!(negative_figure("a -5 ns"), Some("a -5 ns".into()));
    assert_eq!(negative_figure("2026-01-01 and 3–5"), None);
}

#[test]
fn a_breakdown_part_above_its_whole_is_a_warning() {
    let (_tmp, dir) = edited_run(|_, v, _| {
        // EdDSA's signature check above its whole validate (65 µs).
        set_median(
            v,
            "jwt-EdDSA",
            Operation::JwtSignatureCheck,
            Some("aws-lc-rs"),
            70_000.0,
        );
        // HS256: every part below the whole (7 µs), their sum above it.
        set_median(
            v,
            "jwt-HS256",
            Operation::JwtClaimsDecode,
            Some("aws-lc-rs"),
            6_000.0,
        );
    });
    let lines = check_lines(&dir);
    let has = |s: &str| lines.iter().any(|l| l.contains(s));
    assert!(
        has(
            "**warning**: breakdown of jwt-EdDSA aws-lc-rs: the part jwt_signature_check (70.0 µs, paired with its whole per round) is above its whole validate (65.0 µs) in every round"
        ),
        "{lines:?}"
    );
    assert!(
        has(
            "**warning**: breakdown of jwt-HS256 aws-lc-rs: its parts sum to 8.10 µs, above its whole validate (7.00 µs)"
        ),
        "{lines:?}"
    );
    report::write_report_with(&dir, None).unwrap();
    let md = read(&dir, Artifact::ReportMd);
    assert!(
        md.contains("| 8.10 µs **above the whole** | 7.00 µs |"),
        "{md}"
    );
    assert!(report::terminal::summary_of(&dir).contains("breakdown of jwt-EdDSA"));
    // A sum above the whole in some rounds only is within the spread: a note, not a warning.
    let (_tmp, dir) = edited_run(|_, v, _| {
        set_median(
            v,
            "jwt-HS256",
            Operation::JwtClaimsDecode,
            Some("aws-lc-rs"),
            2_650.0,
        );
        for r in v.rows.iter_mut().filter(|r| {
            r.scheme == "jwt-HS256"
                && r.operation == Operation::Validate
                && r.claims == ClaimSet::Typical
                && r.backend.map(|b| b.name()) == Some("aws-lc-rs")
        }) {
            r.measurement = measurement(4_700.0);
            r.measurement.rounds.as_mut().unwrap().wall_ns =
                vec![4_500.0, 4_600.0, 4_700.0, 5_500.0, 6_000.0];
        }
    });
    let lines = check_lines(&dir);
    assert!(
        !lines.iter().any(|l| l.contains("warning**: breakdown")),
        "{lines:?}"
    );
    assert!(
        lines.iter().any(|l| l
            .starts_with("note: breakdown of jwt-HS256 aws-lc-rs: its parts sum to 4.75 µs")
            && l.ends_with("in 2 of 5 rounds")),
        "{lines:?}"
    );
}

#[test]
fn an_added_cost_whose_spread_reaches_zero_is_no_measurable_cost() {
    let (_tmp, dir) = edited_run(|_, _, r| {
        for s in r.strategies.iter_mut() {
            if s.strategy == Strategy::JwtDenylistPushed {
                // A negative difference whose rounds reach zero.
                s.added_cost_ns = -12.0;
                s.added_cost_lo_ns = Some(-30.0);
                s.added_cost_hi_ns = Some(8.0);
            }
            if s.strategy == Strategy::JwtDenylistPolled {
                // An old file: a negative difference without rounds.
                s.added_cost_ns = -7.0;
                s.added_cost_lo_ns = None;
                s.added_cost_hi_ns = None;
            }
        }
    });
    let lines = check_lines(&dir);
    assert!(
        lines.iter().any(|l| l == "note: revoke jwt-denylist-pushed: no measurable cost per request (within ±30.0 ns of jwt-expiry-only), recorded as 0"),
        "{lines:?}"
    );
    report::write_report_with(&dir, None).unwrap();
    let md = read(&dir, Artifact::ReportMd);
    assert!(
        md.contains("| no measurable cost (within ±30.0 ns) |"),
        "{md}"
    );
    assert!(
        md.contains("| no measurable cost (within ±7.00 ns) |"),
        "{md}"
    );
    assert_eq!(negative_figure(&md), None);
    // Counted as nothing against the revocation row's budget, never as a saving.
    let r = report::Run::load(&dir, None).unwrap();
    let pushed = r
        .get::<RevokeResults>()
        .unwrap()
        .strategy(Strategy::JwtDenylistPushed)
        .unwrap();
    assert_eq!(pushed.added_ns(), 0.0);
}

#[test]
fn a_ratio_within_its_spread_of_the_threshold_is_borderline() {
    let (_tmp, dir) = edited_run(|_, v, _| {
        // Sliding expiry at exactly 50% of session-memory's lookup (160 ns → 240 ns), with
        // rounds that reach both sides of the threshold.
        for r in v.rows.iter_mut().filter(|r| {
            r.scheme == "session-memory"
                && r.operation == Operation::ValidateSliding
                && r.claims == ClaimSet::Typical
        }) {
            r.measurement = measurement(240.0);
            r.measurement.rounds.as_mut().unwrap().wall_ns =
                vec![220.0, 235.0, 240.0, 250.0, 260.0];
        }
    });
    let run = report::Run::load(&dir, None).unwrap();
    let j = verdicts::expiry::judge(run.get::<ValidateResults>());
    assert_eq!(j.verdict, Verdict::Confirmed, "{}", j.because);
    let why = j.borderline.expect("borderline");
    assert!(why.contains("session-memory sliding share 50%"), "{why}");
    let lines = check_lines(&dir);
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("**warning**: row 6 (Expiry) is borderline")),
        "{lines:?}"
    );
    report::write_report_with(&dir, None).unwrap();
    let md = read(&dir, Artifact::ReportMd);
    assert!(md.contains("| **confirmed** (borderline) |"), "{md}");
    // The CPU row too: HS256 at twice the embedded store's CPU, rounds on both sides.
    let mut v = validate();
    v.rows.retain(|r| r.scheme != "session-redis");
    for r in v.rows.iter_mut().filter(|r| {
        r.scheme == "jwt-HS256"
            && r.operation == Operation::Validate
            && r.claims == ClaimSet::Typical
    }) {
        r.measurement = with_cpu(measurement(320.0), 288.0);
        r.measurement.rounds.as_mut().unwrap().cpu_ns = vec![270.0, 280.0, 288.0, 295.0, 300.0];
    }
    let j = verdicts::cpu::judge(Some(&v));
    assert!(j.borderline.is_some(), "{}", j.because);
}

#[test]
fn a_busy_machine_or_a_wide_spread_is_a_noise_warning() {
    let (_tmp, dir) = edited_run(|m, v, _| {
        m.load.push(tokenbench::results::meta::WorkloadLoad {
            workload: "validate".into(),
            load1_start: 2.5,
            load1_end: 5.0,
            load1_max: 6.0,
            runnable_mean: 5.0,
            samples: 12,
        });
        let r = v
            .rows
            .iter_mut()
            .find(|r| r.scheme == "jwt-RS256" && r.operation == Operation::Validate)
            .unwrap();
        r.measurement.rounds.as_mut().unwrap().wall_ns = vec![30e3, 35e3, 35e3, 40e3, 60e3];
    });
    let lines = check_lines(&dir);
    assert!(
        lines.iter().any(|l| l.starts_with(
            "**warning**: noise: the 1-minute load average reached 6.00 on 4 cores while validate ran"
        ) && l.contains("rows 2 (CPU) and 6 (Expiry)")),
        "{lines:?}"
    );
    assert!(
        lines.iter().any(|l| l
            .contains("noise: 1 figures have round medians more than ×1.5 apart")
            && l.contains(
                "validate jwt-RS256 aws-lc-rs validate minimal (30.0 µs–60.0 µs, ×2.00)"
            )),
        "{lines:?}"
    );
    // A quiet run says nothing of noise.
    let (_tmp, quiet) = fixture_run(ALL);
    assert!(!check_lines(&quiet).iter().any(|l| l.contains("noise")));
}

#[test]
fn a_breakdown_part_is_paired_with_its_whole_round_by_round() {
    // EdDSA's signature check has the higher median (different rounds were disturbed), but in
    // every round it is 90% of that round's whole: the table prints 90% of the whole.
    let (_tmp, dir) = edited_run(|_, v, _| {
        let whole = [60e3, 61e3, 65e3, 90e3, 95e3];
        let part_rounds: Vec<f64> = whole.iter().map(|x| x * 0.9).collect();
        for r in v.rows.iter_mut().filter(|r| {
            r.scheme == "jwt-EdDSA"
                && r.claims == ClaimSet::Typical
                && r.backend.map(|b| b.name()) == Some("aws-lc-rs")
        }) {
            match r.operation {
                Operation::Validate => {
                    r.measurement.rounds.as_mut().unwrap().wall_ns = whole.to_vec()
                }
                Operation::JwtSignatureCheck => {
                    // Its own median (70.2 µs) is above the whole's (65 µs) once reordered.
                    let mut p = part_rounds.clone();
                    p[2] = 70.2e3;
                    r.measurement.rounds.as_mut().unwrap().wall_ns = p;
                }
                _ => {}
            }
        }
    });
    let run = report::Run::load(&dir, None).unwrap();
    let v = run.get::<ValidateResults>().unwrap();
    let bd = v
        .breakdown(id("jwt-EdDSA"), Some("aws-lc-rs".parse().unwrap()))
        .unwrap();
    let part = bd.part(Operation::JwtSignatureCheck).unwrap();
    assert!(part.median <= 65e3, "{}", part.median);
    assert_eq!(part.share.unwrap().median, 0.9);
    assert!(
        !check_lines(&dir)
            .iter()
            .any(|l| l.contains("breakdown of jwt-EdDSA")),
    );
}
