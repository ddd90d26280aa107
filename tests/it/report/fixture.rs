//! The fixture run of the report's tests: hand-made results (round, plausible, made-up
//! numbers; no live timings, no clock) and builders for a run folder holding them, edited
//! as a test needs ([`Fixture`]), and for the rows a test changes (`set_median`, …).

use std::fs;

use tokenbench::claims::ClaimSet;
use tokenbench::measure::Measurement;
use tokenbench::measure::rounds::Rounds;
use tokenbench::measure::stats::Summary;
use tokenbench::report::{self, Run};
use tokenbench::results::meta::CrateVersion;
use tokenbench::results::schema::ResultFile;
use tokenbench::results::schema::browser::BrowserResults;
use tokenbench::results::schema::http::HttpResults;
use tokenbench::results::schema::revoke::{
    EndToEndResult, RevokeResults, Strategy, StrategyResult, TrialClock,
};
use tokenbench::results::schema::scale::{ScalePoint, ScaleResults};
use tokenbench::results::schema::size::{Entry, MemoryRow, SizeResults, SizeRow};
use tokenbench::results::schema::validate::{BudgetCheck, Operation, ValidateResults, ValidateRow};
use tokenbench::results::{Artifact, Meta, RunDir, SCHEMA_VERSION};
use tokenbench::scheme::JwtAlg;
use tokenbench::scheme::spec::SchemeId;

use super::http;

/// The identity of a scheme name (fixtures are written with names).
pub(super) fn id(name: &str) -> SchemeId {
    name.parse().expect("a scheme name")
}

// ---------------------------------------------------------------------------------------
// The fixture.

/// A summary around `median` with round, fixed spreads.
pub(super) fn summary(median: f64) -> Summary {
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
pub(super) const ROUND_FACTORS: [f64; 5] = [0.97, 0.99, 1.0, 1.01, 1.03];

/// Five round medians around `median`.
pub(super) fn rounds_of(median: f64) -> Vec<f64> {
    ROUND_FACTORS.iter().map(|f| f * median).collect()
}

pub(super) fn measurement(median: f64) -> Measurement {
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
pub(super) fn with_cpu(mut m: Measurement, cpu: f64) -> Measurement {
    m.cpu = summary(cpu);
    if let Some(r) = &mut m.rounds {
        r.cpu_ns = rounds_of(cpu);
    }
    m
}

pub(super) fn meta() -> Meta {
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

pub(super) const JWTS: [&str; 4] = ["jwt-HS256", "jwt-RS256", "jwt-ES256", "jwt-EdDSA"];

pub(super) fn size_row(scheme: &str, claims: ClaimSet, token: usize, readable: usize) -> SizeRow {
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

pub(super) const REDIS_MEMORY_METHOD: &str = "redis MEMORY USAGE of 1000 denylist keys (fixture)";

pub(super) fn size() -> SizeResults {
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

pub(super) fn vrow(
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
pub(super) const REDIS: [(Operation, f64, f64, f64); 2] = [
    (Operation::Validate, 30_000.0, 12_000.0, 18_000.0),
    (Operation::ValidateSliding, 42_000.0, 14_000.0, 26_000.0),
];

pub(super) fn validate() -> ValidateResults {
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

pub(super) fn strategy(
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

pub(super) fn revoke() -> RevokeResults {
    RevokeResults {
        schema_version: 1,
        validators: 4,
        trials: 20,
        cache_ttl_ms: 250.0,
        poll_interval_ms: 250.0,
        jwt_lifetime_s: 900.0,
        jwt_alg: JwtAlg::HS256,
        paseto_purpose: None,
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
        end_to_end: end_to_end(),
        hybrid: Vec::new(),
    }
}

/// End-to-end trials of `strategy` on a site of `scheme` (2 nodes, Redis) at `rtt_ms`, p50
/// and p99 in ms, beside the in-process p99 `inside` ns.
pub(super) fn e2e(
    strategy: &str,
    scheme: &str,
    rtt_ms: f64,
    window_ms: Option<f64>,
    (p50, p99): (f64, f64),
    inside: f64,
) -> EndToEndResult {
    EndToEndResult {
        strategy: strategy.into(),
        scheme: id(scheme),
        nodes: 2,
        rtt_ms,
        store: Some("redis".into()),
        window_ms,
        trials: 20,
        failed: 0,
        latency: Summary {
            samples: 20,
            p99_ns: p99 * 1e6,
            p999_ns: p99 * 1e6,
            max_ns: p99 * 1.1e6,
            ..summary(p50 * 1e6)
        },
        latencies_ns: vec![p50 * 0.9e6, p50 * 1e6, p99 * 1e6],
        in_process_p99_ns: Some(inside),
    }
}

/// The fixture's end-to-end trials: every one within its window of the in-process figure.
pub(super) fn end_to_end() -> Vec<EndToEndResult> {
    let mut out = Vec::new();
    for rtt in [0.0, 2.0] {
        let d = 3.0 * rtt;
        out.push(e2e(
            "session-central",
            "session-redis",
            rtt,
            None,
            (2.0 + d, 3.0 + d),
            100e3,
        ));
        out.push(e2e(
            "session-cache",
            "session-redis",
            rtt,
            Some(250.0),
            (190.0, 252.0 + d),
            245e6,
        ));
        out.push(e2e(
            "jwt-denylist-central",
            "jwt-HS256",
            rtt,
            None,
            (3.0 + d, 4.0 + d),
            200e3,
        ));
        out.push(e2e(
            "jwt-denylist-polled",
            "jwt-HS256",
            rtt,
            Some(250.0),
            (180.0, 255.0 + d),
            248e6,
        ));
    }
    out
}

pub(super) fn point(
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

pub(super) fn scale() -> ScaleResults {
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

// ---------------------------------------------------------------------------------------
// A run folder holding the fixture.

/// The fixture's results, edited as a test needs, before they are written as a run folder:
/// `Fixture::all().validate(|v| …).write()`.
pub(super) struct Fixture {
    meta: Meta,
    size: Option<SizeResults>,
    validate: Option<ValidateResults>,
    revoke: Option<RevokeResults>,
    scale: Option<ScaleResults>,
    http: Option<HttpResults>,
    browser: Option<BrowserResults>,
}

impl Fixture {
    /// Every results file of the fixture.
    pub(super) fn all() -> Fixture {
        Fixture {
            meta: meta(),
            size: Some(size()),
            validate: Some(validate()),
            revoke: Some(revoke()),
            scale: Some(scale()),
            http: Some(http::fixture()),
            browser: Some(super::browser::fixture()),
        }
    }

    /// The fixture without the results file named `name` (not measured).
    pub(super) fn without(mut self, name: &str) -> Fixture {
        match name {
            "size" => self.size = None,
            "validate" => self.validate = None,
            "revoke" => self.revoke = None,
            "scale" => self.scale = None,
            "http" => self.http = None,
            "browser" => self.browser = None,
            _ => panic!("no results file {name} in the fixture"),
        }
        self
    }

    /// Only the results files named in `names`.
    pub(super) fn only(names: &[&str]) -> Fixture {
        ["size", "validate", "revoke", "scale", "http", "browser"]
            .into_iter()
            .filter(|n| !names.contains(n))
            .fold(Fixture::all(), Fixture::without)
    }

    /// `meta.json` as `edit` leaves it.
    pub(super) fn meta(mut self, edit: impl FnOnce(&mut Meta)) -> Fixture {
        edit(&mut self.meta);
        self
    }

    /// `size.json` as `edit` leaves it.
    pub(super) fn size(mut self, edit: impl FnOnce(&mut SizeResults)) -> Fixture {
        edit(self.size.as_mut().expect("size.json in the fixture"));
        self
    }

    /// `validate.json` as `edit` leaves it.
    pub(super) fn validate(mut self, edit: impl FnOnce(&mut ValidateResults)) -> Fixture {
        edit(
            self.validate
                .as_mut()
                .expect("validate.json in the fixture"),
        );
        self
    }

    /// `revoke.json` as `edit` leaves it.
    pub(super) fn revoke(mut self, edit: impl FnOnce(&mut RevokeResults)) -> Fixture {
        edit(self.revoke.as_mut().expect("revoke.json in the fixture"));
        self
    }

    /// `http.json` as `edit` leaves it.
    pub(super) fn http(mut self, edit: impl FnOnce(&mut HttpResults)) -> Fixture {
        edit(self.http.as_mut().expect("http.json in the fixture"));
        self
    }

    /// `browser.json` as `edit` leaves it.
    pub(super) fn browser(mut self, edit: impl FnOnce(&mut BrowserResults)) -> Fixture {
        edit(self.browser.as_mut().expect("browser.json in the fixture"));
        self
    }

    /// A finished run folder holding the fixture, in a fresh temporary folder, always
    /// named the same.
    pub(super) fn write(self) -> FixtureRun {
        let tmp = tempfile::tempdir().unwrap();
        let dir = RunDir::create(tmp.path(), "2026-01-01T00-00-00Z", Some("fixture")).unwrap();
        dir.write_json(&Artifact::Meta, &self.meta).unwrap();
        let run = FixtureRun { tmp, dir };
        self.size.inspect(|r| run.put(r));
        self.validate.inspect(|r| run.put(r));
        self.revoke.inspect(|r| run.put(r));
        self.scale.inspect(|r| run.put(r));
        self.http.inspect(|r| run.put(r));
        self.browser.inspect(|r| run.put(r));
        run.dir.finish().unwrap();
        run
    }
}

/// A fixture run folder (removed when dropped).
pub(super) struct FixtureRun {
    /// The temporary folder holding it (and `latest`).
    pub(super) tmp: tempfile::TempDir,
    /// The run folder.
    pub(super) dir: RunDir,
}

impl FixtureRun {
    /// Writes `results` as the run's file of that name, in place of the fixture's.
    pub(super) fn put<T: ResultFile>(&self, results: &T) {
        self.dir
            .write_json(&Artifact::Workload(T::FILE), results)
            .unwrap();
    }

    /// Writes the report (without criterion estimates) and returns `report.md`.
    pub(super) fn report_md(&self) -> String {
        report::write_report_with(&self.dir, None).unwrap();
        self.read(Artifact::ReportMd)
    }

    /// A file of the run, as text.
    pub(super) fn read(&self, artifact: Artifact) -> String {
        read(&self.dir, artifact)
    }

    /// The run as the report loads it.
    pub(super) fn run(&self) -> Run {
        Run::load(&self.dir, None).unwrap()
    }

    /// The self-checks' lines.
    pub(super) fn check_lines(&self) -> Vec<String> {
        report::checks::checks(&self.run())
            .iter()
            .map(|c| c.line())
            .collect()
    }
}

/// A file of the run in `dir`, as text.
pub(super) fn read(dir: &RunDir, artifact: Artifact) -> String {
    fs::read_to_string(dir.path(&artifact)).unwrap()
}

pub(super) fn set_median(
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

pub(super) fn set_ops(c: &mut ScaleResults, jwt: bool, threads: usize, factor: f64) {
    for p in c
        .points
        .iter_mut()
        .filter(|p| p.scheme.capabilities().carries_claims == jwt && p.threads == threads)
    {
        p.ops_per_sec *= factor;
    }
}

/// Marks the typical-claims row of `scheme`/`op` as having had `errors` failed operations.
pub(super) fn set_errors(v: &mut ValidateResults, scheme: &str, op: Operation, errors: u64) {
    for r in v
        .rows
        .iter_mut()
        .filter(|r| r.scheme == scheme && r.operation == op && r.claims == ClaimSet::Typical)
    {
        r.errors = errors;
    }
}

/// Whether `text` prints a negative figure: a minus sign starting a number (dates such as
/// `2026-01-01` and ranges written with an en dash do not count).
pub(super) fn negative_figure(text: &str) -> Option<String> {
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
