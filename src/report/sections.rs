//! The report's sections, built from a [`Run`] and its drawn charts: the run and machine,
//! the seed table, one section per workload (chart and tables), the security
//! considerations with the tests that show each mitigation, and how to reproduce.

use super::Run;
use super::document::{Block, Document};
use super::seed::{self, Verdict};
use crate::claims::ClaimSet;
use crate::crypto::CryptoBackend;
use crate::measure::stats::Summary;
use crate::plot::Rendered;
use crate::results::schema::revoke::Strategy;
use crate::results::schema::validate::{Operation, ValidateResults, ValidateRow};
use crate::scheme::spec::{SchemeId, StoreKind};
use crate::units;

/// The tests the security section cites, with the file that holds each: `tests/it/report.rs`
/// checks that every one exists.
pub const CITED_TESTS: [(&str, &str); 16] = [
    (
        "tests/it/sessions.rs",
        "set_cookie_is_httponly_secure_samesite_hostonly",
    ),
    (
        "tests/it/sessions.rs",
        "rotate_kills_the_old_id_and_keeps_the_claims",
    ),
    (
        "tests/it/sessions.rs",
        "fixation_attack_fails_after_login_rotation",
    ),
    ("tests/it/sessions.rs", "csrf_token_is_bound_to_its_session"),
    ("tests/common/suite.rs", "rejects_alg_none_in_any_casing"),
    (
        "tests/common/suite.rs",
        "rejects_hs256_signed_with_the_public_key",
    ),
    (
        "tests/common/suite.rs",
        "expiry_boundary_accepts_just_before_and_rejects_at_and_after",
    ),
    (
        "tests/it/jwt.rs",
        "exp_equal_to_now_is_expired_at_zero_leeway",
    ),
    (
        "tests/it/jwt.rs",
        "the_payload_is_readable_by_anyone_holding_the_token",
    ),
    (
        "tests/common/suite.rs",
        "header_problems_are_reported_before_signature_and_claims",
    ),
    (
        "tests/common/suite.rs",
        "crit_in_the_header_is_refused_in_every_form",
    ),
    (
        "tests/common/suite.rs",
        "nbf_ahead_of_the_clock_is_not_yet_valid_and_nbf_now_is_accepted",
    ),
    (
        "tests/common/suite.rs",
        "lifetime_longer_than_the_issuer_gives_is_refused",
    ),
    (
        "tests/common/suite.rs",
        "a_second_spelling_of_a_valid_token_is_refused",
    ),
    (
        "tests/it/jwt.rs",
        "a_node_cache_keyed_by_identity_evicts_a_malleable_twin_on_revoke",
    ),
    (
        "tests/it/sessions.rs",
        "cookie_tossing_a_second_session_cookie_is_refused",
    ),
];

const NOT_MEASURED: &str = "**not measured in this run**";

/// The revoke strategies the others' added cost is measured against.
const BASELINES: [Strategy; 2] = [Strategy::SessionCentral, Strategy::JwtExpiryOnly];

fn threads(n: usize) -> String {
    if n == 1 {
        "1 thread".to_owned()
    } else {
        format!("{n} threads")
    }
}

fn bold_verdict(v: Verdict) -> String {
    format!("**{}**", v.label())
}

fn chart(doc: &mut Document, charts: &[Rendered], name: &str) {
    if let Some(c) = charts.iter().find(|c| c.name == name) {
        doc.blocks.push(Block::Chart {
            name: c.name.clone(),
            title: c.title.clone(),
            caption: c.caption.clone(),
            svg: c.svg.clone(),
        });
    }
}

/// The whole report.
pub fn document(run: &Run, charts: &[Rendered]) -> Document {
    let mut doc = Document::default();
    intro(&mut doc, run);
    machine(&mut doc, run);
    seed_table(&mut doc, run);
    size(&mut doc, run, charts);
    validate(&mut doc, run, charts);
    revoke(&mut doc, run, charts);
    scale(&mut doc, run, charts);
    security(&mut doc);
    reproduce(&mut doc, run);
    doc
}

fn intro(doc: &mut Document, run: &Run) {
    doc.heading(
        1,
        format!("tokenbench report: run of {}", run.meta.started_utc),
    );
    let present: Vec<String> = [
        ("size.json", run.size.is_some()),
        ("validate.json", run.validate.is_some()),
        ("revoke.json", run.revoke.is_some()),
        ("scale.json", run.scale.is_some()),
    ]
    .iter()
    .map(|(f, p)| {
        if *p {
            format!("`{f}`")
        } else {
            format!("`{f}` (absent: not measured)")
        }
    })
    .collect();
    doc.para(format!(
        "Opaque session tokens against signed JWTs. Every figure below is read from this run's files \
         (`meta.json`, {}); every verdict is computed from those figures by the rule printed beside it. \
         Nothing is measured again and nothing is typed in by hand.",
        present.join(", ")
    ));
    let mut warnings = Vec::new();
    if run.meta.quick {
        warnings.push(
            "This was a `--quick` run: short measuring budgets and shortened revocation windows. Its \
             figures show orders of magnitude, not fine differences."
                .to_owned(),
        );
    }
    if run.meta.profile != "release" {
        warnings.push(format!(
            "Built with the `{}` profile: timings are not comparable with release builds.",
            run.meta.profile
        ));
    }
    // meta.json gets its finish time once every workload is on disk; the INCOMPLETE marker
    // goes later, possibly after this report, so only a missing finish time means a cut run.
    if run.meta.finished_utc.is_none() {
        warnings.push(format!(
            "The run did not finish (`meta.json` has no finish time{}): some workloads may be missing.",
            if run.incomplete {
                ", and its INCOMPLETE marker is present"
            } else {
                ""
            }
        ));
    }
    doc.bullets(warnings);
}

fn machine(doc: &mut Document, run: &Run) {
    let m = &run.meta;
    doc.heading(2, "Machine and run");
    let versions: Vec<String> = m
        .crate_versions
        .iter()
        .map(|c| format!("{} {}", c.name, c.version))
        .collect();
    let rows = vec![
        ("tokenbench", m.tokenbench_version.clone()),
        ("started (UTC)", m.started_utc.clone()),
        (
            "finished (UTC)",
            m.finished_utc
                .clone()
                .unwrap_or_else(|| "did not finish".into()),
        ),
        ("quick run", if m.quick { "yes" } else { "no" }.into()),
        ("seed", m.seed.to_string()),
        ("CPU", m.cpu_model.clone()),
        ("logical cores", m.cores.to_string()),
        ("OS", m.os.clone()),
        (
            "kernel",
            m.kernel.clone().unwrap_or_else(|| "unknown".into()),
        ),
        ("compiler", m.rustc.clone()),
        ("build profile", m.profile.clone()),
        (
            "JWT crypto backend (main process)",
            m.crypto_backend.clone(),
        ),
        (
            "git commit",
            m.git_commit.clone().unwrap_or_else(|| "unknown".into()),
        ),
        ("measured crates", versions.join(", ")),
    ];
    doc.table(
        &["", ""],
        rows.into_iter()
            .map(|(k, v)| vec![k.to_owned(), v])
            .collect(),
    );
}

fn seed_table(doc: &mut Document, run: &Run) {
    doc.heading(2, "The comparison table, rebuilt from this run");
    let cols = seed::columns(run);
    let rows = seed::rows(run);
    let session = cols.iter().find(|c| c.is_session());
    doc.para(format!(
        "One row per row of the seed article's table: the article's claim in our words, what this run \
         measured for {} and for each JWT algorithm (typical claims unless stated; JWT figures on the \
         `{}` crypto backend unless another is named), the verdict computed from those figures, and the \
         rule that computed it.",
        session.map_or_else(
            || "sessions (none measured)".to_owned(),
            |s| format!("sessions (`{s}`)")
        ),
        run.meta.crypto_backend
    ));
    let names: Vec<String> = cols.iter().map(SchemeId::to_string).collect();
    let mut head: Vec<&str> = vec!["#", "Row", "Article's claim"];
    head.extend(names.iter().map(String::as_str));
    head.extend(["Verdict", "Rule"]);
    let table_rows = rows
        .iter()
        .map(|r| {
            let mut cells = vec![r.number.to_string(), r.name.to_owned(), r.claim.to_owned()];
            cells.extend(r.cells.iter().cloned());
            cells.push(bold_verdict(r.judgement.verdict));
            cells.push(r.rule.clone());
            cells
        })
        .collect();
    doc.table(&head, table_rows);
    doc.heading(3, "What decided each verdict");
    doc.bullets(
        rows.iter()
            .map(|r| {
                format!(
                    "Row {}, {}: {}. {}.",
                    r.number,
                    r.name,
                    bold_verdict(r.judgement.verdict),
                    r.judgement.because
                )
            })
            .collect(),
    );
}

fn size(doc: &mut Document, run: &Run, charts: &[Rendered]) {
    doc.heading(2, "Size: bytes on the wire and on the server");
    let Some(s) = &run.size else {
        doc.para(format!("{NOT_MEASURED}: no `size.json`."));
        return;
    };
    chart(doc, charts, "size_headers");
    doc.table(
        &[
            "Scheme",
            "Claims",
            "Token",
            "`Cookie:`",
            "`Authorization:`",
            "`Set-Cookie:`",
            "Readable without a key",
            "Random bits",
            "Cookie within limit",
        ],
        s.rows
            .iter()
            .map(|r| {
                vec![
                    r.scheme.to_string(),
                    r.claims.name().to_owned(),
                    units::bytes(r.token_bytes as f64),
                    units::bytes(r.cookie_header_bytes as f64),
                    units::bytes(r.authorization_header_bytes as f64),
                    units::bytes(r.set_cookie_header_bytes as f64),
                    if r.readable_claims.is_empty() {
                        units::bytes(r.readable_payload_bytes as f64)
                    } else {
                        format!(
                            "{}: {}",
                            units::bytes(r.readable_payload_bytes as f64),
                            r.readable_claims.join(", ")
                        )
                    },
                    r.random_bits.to_string(),
                    if r.fits_cookie_limit { "yes" } else { "no" }.to_owned(),
                ]
            })
            .collect(),
    );
    let per_million: Vec<String> = s
        .rows
        .iter()
        .filter(|r| r.claims == ClaimSet::Typical)
        .map(|r| {
            // bytes per request × 10^6 requests = that many megabytes.
            format!("{} {} MB", r.scheme, r.cookie_header_bytes)
        })
        .collect();
    if !per_million.is_empty() {
        doc.para(format!(
            "Per million requests, typical claims, the `Cookie:` header alone carries: {}.",
            per_million.join(", ")
        ));
    }
    doc.para(format!(
        "Limits drawn on the chart: a cookie (name, value and attributes) of up to {} B must be supported \
         by browsers (RFC 6265 §6.1); {} B is a common default limit for one request header line.",
        s.cookie_limit_bytes, s.header_limit_bytes
    ));
    if s.memory.is_empty() {
        doc.para(format!(
            "Server memory per session: {NOT_MEASURED} ({}).",
            s.memory_method
        ));
    } else {
        doc.para(format!(
            "Server heap per entry, measured by: {}.",
            s.memory_method
        ));
        doc.table(
            &[
                "Scheme",
                "Entry",
                "Claims",
                "Entries",
                "Heap bytes",
                "Per entry",
                "Measured by",
            ],
            s.memory
                .iter()
                .map(|m| {
                    vec![
                        m.scheme.to_string(),
                        m.entry.to_string(),
                        m.claims.name().to_owned(),
                        m.entries.to_string(),
                        units::bytes(m.heap_bytes as f64),
                        units::bytes(m.bytes_per_entry),
                        // Rows written before `method` existed were all measured the
                        // section-wide way.
                        m.method.clone().unwrap_or_else(|| s.memory_method.clone()),
                    ]
                })
                .collect(),
        );
    }
}

fn ci(s: &Summary) -> String {
    format!(
        "{} [{}, {}]",
        units::ns(s.median_ns),
        units::ns(s.median_ci95_ns[0]),
        units::ns(s.median_ci95_ns[1])
    )
}

/// `(scheme, backend)` pairs of the rows for `op`, in order of first appearance.
fn keys(v: &ValidateResults, op: Operation) -> Vec<(SchemeId, Option<CryptoBackend>)> {
    let mut out: Vec<(SchemeId, Option<CryptoBackend>)> = Vec::new();
    for r in v.rows.iter().filter(|r| r.operation == op) {
        let k = (r.scheme, r.backend);
        if !out.contains(&k) {
            out.push(k);
        }
    }
    out
}

/// One figure of a validate row in ns, `None` when the row lacks it.
type Figure = fn(&ValidateRow) -> Option<f64>;

/// `figure` of the row for (scheme, op, set, backend) as a duration; "—" when the row or
/// its figure is absent.
fn figure_of(
    v: &ValidateResults,
    scheme: SchemeId,
    op: Operation,
    set: ClaimSet,
    b: Option<CryptoBackend>,
    figure: Figure,
) -> String {
    v.find(scheme, op, set, b)
        .and_then(figure)
        .map_or_else(|| "—".to_owned(), units::ns)
}

fn median_of(
    v: &ValidateResults,
    scheme: SchemeId,
    op: Operation,
    set: ClaimSet,
    b: Option<CryptoBackend>,
) -> String {
    figure_of(v, scheme, op, set, b, |r| {
        Some(r.measurement.wall.median_ns)
    })
}

/// The session stores side by side when one of them is a server (its rows carry
/// `server_cpu_ns_per_op`): wall time, this process's CPU and the server's CPU per
/// validate, with a fixed deadline and with sliding expiry (typical claims). Nothing when
/// no row has a server figure.
fn central_store(doc: &mut Document, v: &ValidateResults) {
    if !v.rows.iter().any(|r| r.server_cpu_ns_per_op.is_some()) {
        return;
    }
    let mut stores: Vec<(SchemeId, Option<CryptoBackend>)> = Vec::new();
    for k in keys(v, Operation::Validate)
        .into_iter()
        .chain(keys(v, Operation::ValidateSliding))
    {
        if k.0.is_session() && !stores.contains(&k) {
            stores.push(k);
        }
    }
    if stores.is_empty() {
        return;
    }
    doc.heading(3, "Central store: embedded vs Redis");
    let mut intro = String::from(
        "The session stores side by side, per validate, typical claims. Wall time is what a \
         request waits: for a Redis store it includes the network round trip. Client CPU is this \
         process's thread CPU time; server CPU is the Redis server's own CPU per operation (`INFO \
         cpu` over a counted run, less its idle CPU), \"—\" for an embedded store, whose work is \
         all client CPU.",
    );
    if stores
        .iter()
        .any(|(scheme, _)| scheme.store() == Some(StoreKind::RedisCluster))
    {
        intro.push_str(
            " For a Redis Cluster the server CPU is summed over its primaries, and each lookup \
             goes straight to the primary that owns the session's hash slot.",
        );
    }
    doc.para(intro);
    let t = ClaimSet::Typical;
    let figures: [(&str, Figure); 3] = [
        ("wall median", |r| Some(r.measurement.wall.median_ns)),
        ("client CPU median", |r| Some(r.measurement.cpu.median_ns)),
        ("server CPU per op", |r| r.server_cpu_ns_per_op),
    ];
    let mut rows = Vec::new();
    for (name, op) in [
        ("validate", Operation::Validate),
        ("validate, sliding expiry", Operation::ValidateSliding),
    ] {
        for (label, figure) in figures {
            let mut row = vec![format!("{name}: {label}")];
            row.extend(
                stores
                    .iter()
                    .map(|&(scheme, b)| figure_of(v, scheme, op, t, b, figure)),
            );
            rows.push(row);
        }
    }
    let mut head = vec![""];
    let names: Vec<String> = stores
        .iter()
        .map(|(scheme, _)| scheme.to_string())
        .collect();
    head.extend(names.iter().map(String::as_str));
    doc.table(&head, rows);
}

fn validate(doc: &mut Document, run: &Run, charts: &[Rendered]) {
    doc.heading(2, "Validate: the cost of one request");
    let Some(v) = &run.validate else {
        doc.para(format!("{NOT_MEASURED}: no `validate.json`."));
        return;
    };
    doc.para(format!(
        "Wall time per operation from batched timings (median of the batches, its 95% confidence interval \
         in brackets), with {} live sessions in each store. Two clock reads cost {} here. Sessions are \
         validated with a fixed idle deadline unless the row says sliding expiry.",
        v.live_sessions,
        units::ns(v.timer_pair_ns)
    ));
    let failed: Vec<String> = v
        .rows
        .iter()
        .filter(|r| r.errors > 0)
        .map(|r| {
            format!(
                "{} {} ({} claims): {} of about {} operations failed",
                seed::with_backend(r),
                r.operation.name(),
                r.claims.name(),
                r.errors,
                r.measurement.ops
            )
        })
        .collect();
    if !failed.is_empty() {
        doc.para(
            "**Operations failed while measuring** (refused, fail closed: e.g. the store was \
             unreachable). These rows timed refusals as well as lookups; the tables show them \
             as measured, and the verdicts leave them out:",
        );
        doc.bullets(failed);
    }
    chart(doc, charts, "validate_cost");
    let t = ClaimSet::Typical;
    doc.heading(3, "Per scheme, typical claims");
    doc.table(
        &[
            "Scheme",
            "Backend",
            "validate median [95% CI]",
            "validate p99",
            "validate CPU median",
            "validate, sliding expiry",
            "issue",
            "reject unknown",
            "reject revoked",
        ],
        keys(v, Operation::Validate)
            .iter()
            .filter_map(|(scheme, b)| {
                let (scheme, b) = (*scheme, *b);
                let r = v.find(scheme, Operation::Validate, t, b)?;
                Some(vec![
                    scheme.to_string(),
                    b.map_or_else(|| "—".to_owned(), |b| b.to_string()),
                    ci(&r.measurement.wall),
                    units::ns(r.measurement.wall.p99_ns),
                    units::ns(r.measurement.cpu.median_ns),
                    median_of(v, scheme, Operation::ValidateSliding, t, b),
                    median_of(v, scheme, Operation::Issue, t, b),
                    median_of(v, scheme, Operation::RejectUnknown, t, b),
                    median_of(v, scheme, Operation::RejectRevoked, t, b),
                ])
            })
            .collect(),
    );
    central_store(doc, v);
    doc.heading(3, "Validate median by claim set");
    doc.table(
        &["Scheme", "Backend", "minimal", "typical", "large"],
        keys(v, Operation::Validate)
            .iter()
            .map(|(scheme, b)| {
                let mut row = vec![
                    scheme.to_string(),
                    b.map_or_else(|| "—".into(), |b| b.to_string()),
                ];
                row.extend(
                    ClaimSet::ALL
                        .iter()
                        .map(|set| median_of(v, *scheme, Operation::Validate, *set, *b)),
                );
                row
            })
            .collect(),
    );
    let breakdown = keys(v, Operation::JwtSignatureCheck);
    if !breakdown.is_empty() {
        doc.heading(
            3,
            "Where a JWT validation spends its time (typical claims, medians)",
        );
        chart(doc, charts, "jwt_breakdown");
        doc.table(
            &[
                "Scheme",
                "Backend",
                "header decode",
                "claims decode + parse",
                "signature check",
                "sum of the parts",
                "whole validate",
            ],
            breakdown
                .iter()
                .map(|(scheme, b)| {
                    let (scheme, b) = (*scheme, *b);
                    let parts = [
                        Operation::JwtHeaderDecode,
                        Operation::JwtClaimsDecode,
                        Operation::JwtSignatureCheck,
                    ];
                    let sum: Option<f64> = parts
                        .iter()
                        .map(|op| {
                            v.find(scheme, *op, t, b)
                                .map(|r| r.measurement.wall.median_ns)
                        })
                        .sum();
                    let mut row = vec![
                        scheme.to_string(),
                        b.map_or_else(|| "—".to_owned(), |b| b.to_string()),
                    ];
                    row.extend(parts.iter().map(|op| median_of(v, scheme, *op, t, b)));
                    row.push(sum.map_or_else(|| "—".to_owned(), units::ns));
                    row.push(median_of(v, scheme, Operation::Validate, t, b));
                    row
                })
                .collect(),
        );
    }
    let references: Vec<&ValidateRow> = v
        .rows
        .iter()
        .filter(|r| {
            matches!(
                r.operation,
                Operation::RefMapGet | Operation::RefJwtDecode | Operation::RefHmacSha256
            )
        })
        .collect();
    if !references.is_empty() {
        doc.heading(3, "Reference floors measured in the same run");
        doc.table(
            &["Reference", "Beside", "Backend", "median [95% CI]", "p99"],
            references
                .iter()
                .map(|r| {
                    vec![
                        match r.operation {
                            Operation::RefMapGet => "bare `DashMap::get` of the same key",
                            Operation::RefJwtDecode => "bare `jsonwebtoken::decode`",
                            _ => "bare HMAC-SHA256 of the signing input",
                        }
                        .to_owned(),
                        r.scheme.to_string(),
                        r.backend.map_or_else(|| "—".into(), |b| b.to_string()),
                        ci(&r.measurement.wall),
                        units::ns(r.measurement.wall.p99_ns),
                    ]
                })
                .collect(),
        );
    }
    doc.heading(3, "Budget checks");
    if v.budget_checks.is_empty() {
        doc.para("No budget was checked in this run (their reference rows were not measured).");
    } else {
        doc.para("Ratios from the issue tracker's budgets, as measured in this run; a missed budget is shown, not hidden.");
        doc.table(
            &["Check", "Measured ratio", "95% CI", "Limit", "Result"],
            v.budget_checks
                .iter()
                .map(|c| {
                    vec![
                        c.name.clone(),
                        format!("{:.3}", c.ratio),
                        format!("[{:.3}, {:.3}]", c.ratio_ci95[0], c.ratio_ci95[1]),
                        format!("≤ {}", c.limit),
                        if c.pass { "pass" } else { "**missed**" }.to_owned(),
                    ]
                })
                .collect(),
        );
    }
    criterion(doc, run, v);
}

fn criterion(doc: &mut Document, run: &Run, v: &ValidateResults) {
    doc.heading(3, "Criterion's estimates beside the CLI's");
    let c = &run.criterion;
    let Some(root) = &c.root else {
        doc.para("Criterion estimates were not looked for when this report was made.");
        return;
    };
    let groups = [
        ("validate", Operation::Validate),
        ("issue", Operation::Issue),
    ];
    let mut rows = Vec::new();
    for r in v.rows.iter().filter(|r| {
        r.backend.is_none()
            || r.backend.map(CryptoBackend::name) == Some(run.meta.crypto_backend.as_str())
    }) {
        let Some((group, _)) = groups.iter().find(|(_, op)| *op == r.operation) else {
            continue;
        };
        if let Some(e) = c.get(group, &r.scheme.to_string(), r.claims.name()) {
            let cli = r.measurement.wall.median_ns;
            rows.push(vec![
                format!("`{}`", e.id()),
                units::ns(cli),
                units::ns(e.median_ns),
                units::ns(e.mean_ns),
                units::ratio(e.median_ns / cli),
            ]);
        }
    }
    if rows.is_empty() {
        doc.para(format!(
            "No criterion estimate under `{}` matches a row of this run (run `cargo bench` to make them).",
            root.display()
        ));
    } else {
        doc.para(format!(
            "From `{}` (written by `cargo bench` at its own time, not part of this run; never used in a \
             verdict). Criterion's point estimates of the median and the mean time per iteration, beside the \
             CLI's median (its main crypto backend, `{}`).",
            root.display(),
            run.meta.crypto_backend
        ));
        doc.table(
            &[
                "Benchmark",
                "CLI median",
                "criterion median",
                "criterion mean",
                "criterion median ÷ CLI",
            ],
            rows,
        );
    }
    doc.bullets(
        c.skipped
            .iter()
            .map(|(p, why)| format!("ignored `{}`: {why}", p.display()))
            .collect(),
    );
}

fn revoke(doc: &mut Document, run: &Run, charts: &[Rendered]) {
    doc.heading(2, "Revoke: how long a revoked token lives on");
    let Some(r) = &run.revoke else {
        doc.para(format!("{NOT_MEASURED}: no `revoke.json`."));
        return;
    };
    doc.para(format!(
        "{} validator nodes validate the same token; at t0 one revokes it; the latency is the time until \
         the last node rejects it. {} trials per strategy. Per-node session cache lifetime T = {}, denylist \
         polling period P = {}, JWT lifetime {}; the JWT strategies sign with {}. `jwt-expiry-only` cannot \
         revoke: its latency is the token's remaining lifetime, measured on a virtual clock. The cost per \
         request is one `validate` of a valid token on one node, and the added cost is against the family's \
         baseline (`session-central`, `jwt-expiry-only`).",
        r.validators,
        r.trials,
        units::ns(r.cache_ttl_ms * 1e6),
        units::ns(r.poll_interval_ms * 1e6),
        units::ns(r.jwt_lifetime_s * 1e9),
        r.jwt_alg
    ));
    chart(doc, charts, "revoke_latency");
    doc.table(
        &[
            "Strategy",
            "Clock",
            "Window",
            "Trials ok",
            "Failed",
            "p50",
            "p99",
            "max",
            "validate cost",
            "added per request",
        ],
        r.strategies
            .iter()
            .map(|s| {
                let ok = s.latency.samples > 0;
                let lat = |x: f64| {
                    if ok { units::ns(x) } else { "—".to_owned() }
                };
                vec![
                    s.strategy.to_string(),
                    s.clock.to_string(),
                    s.window_ms
                        .map_or_else(|| "none".to_owned(), |w| units::ns(w * 1e6)),
                    s.latency.samples.to_string(),
                    s.errors.to_string(),
                    lat(s.latency.median_ns),
                    lat(s.latency.p99_ns),
                    lat(s.latency.max_ns),
                    units::ns(s.validate_cost.wall.median_ns),
                    if BASELINES.contains(&s.strategy) {
                        "baseline".to_owned()
                    } else {
                        units::ns_delta(s.added_cost_ns)
                    },
                ]
            })
            .collect(),
    );
}

fn scale(doc: &mut Document, run: &Run, charts: &[Rendered]) {
    doc.heading(2, "Scale: throughput and latency under load");
    let Some(s) = &run.scale else {
        doc.para(format!("{NOT_MEASURED}: no `scale.json`."));
        return;
    };
    doc.para(format!(
        "Threads validate random tokens of a working set for {} per point on {} logical cores; sessions \
         use {} expiry. Latencies are means over short batches.",
        units::ns(s.duration_per_point_ms * 1e6),
        s.cores,
        if s.session_sliding {
            "sliding"
        } else {
            "fixed-deadline"
        }
    ));
    chart(doc, charts, "scale_throughput");
    if let Some((lo, hi, lines)) = seed::scalability::scaling(s) {
        doc.table(
            &[
                "Scheme",
                "Backend",
                "Live sessions",
                &format!("ops/s at {}", threads(lo)),
                &format!("ops/s at {}", threads(hi)),
                "S (ratio)",
            ],
            lines
                .iter()
                .map(|l| {
                    vec![
                        l.scheme.to_string(),
                        l.backend.map_or_else(|| "—".into(), |b| b.to_string()),
                        l.sessions.map_or_else(|| "—".into(), |n| n.to_string()),
                        units::count(l.low_ops),
                        units::count(l.high_ops),
                        units::ratio(l.ratio()),
                    ]
                })
                .collect(),
        );
    }
    chart(doc, charts, "scale_percentiles");
    doc.table(
        &[
            "Scheme",
            "Backend",
            "Live sessions",
            "Threads",
            "ops/s",
            "p50",
            "p99",
            "p99.9",
            "Batch",
            "Errors",
        ],
        s.points
            .iter()
            .map(|p| {
                vec![
                    p.scheme.to_string(),
                    p.backend.map_or_else(|| "—".into(), |b| b.to_string()),
                    p.sessions.map_or_else(|| "—".into(), |n| n.to_string()),
                    p.threads.to_string(),
                    units::count(p.ops_per_sec),
                    units::ns(p.latency.median_ns),
                    units::ns(p.latency.p99_ns),
                    units::ns(p.latency.p999_ns),
                    p.batch_size.to_string(),
                    p.errors.to_string(),
                ]
            })
            .collect(),
    );
}

fn security(doc: &mut Document) {
    doc.heading(2, "Security considerations");
    doc.para(
        "The seed article's security points, each with the mitigation tokenbench implements and the test \
         that shows it (run by `cargo test`; session tests run on every embedded store, e.g. \
         `memory::…`, `rwlock::…`; conformance tests on every scheme, e.g. `jwt_hs256::…`). These are \
         properties of the code, not figures of this run.",
    );
    doc.bullets(vec![
        "**Session hijacking**: the session cookie is `Secure` (sent over HTTPS only) and `HttpOnly`, with \
         128 random bits in the ID: `tests/it/sessions.rs` `set_cookie_is_httponly_secure_samesite_hostonly`. \
         A bearer JWT must equally travel over HTTPS only; stolen, it stays valid until `exp` unless a \
         denylist is used (see Revoke)."
            .into(),
        "**Session fixation**: the ID is regenerated at login and the old ID is dead at once: \
         `tests/it/sessions.rs` `fixation_attack_fails_after_login_rotation` and \
         `rotate_kills_the_old_id_and_keeps_the_claims`."
            .into(),
        "**XSS**: an `HttpOnly` cookie cannot be read by script: \
         `set_cookie_is_httponly_secure_samesite_hostonly`. A JWT sent in an `Authorization` header must be \
         readable by script, so XSS can steal it; and its claims are readable by anyone holding it: \
         `tests/it/jwt.rs` `the_payload_is_readable_by_anyone_holding_the_token`."
            .into(),
        "**CSRF**: cookie-carried sessions get a CSRF token bound to the session and `SameSite=Lax`: \
         `tests/it/sessions.rs` `csrf_token_is_bound_to_its_session` and the cookie test above. A JWT in an \
         `Authorization` header is not sent automatically, so CSRF does not apply to it."
            .into(),
        "**Token forgery (JWT)**: `alg: none` in any casing and HS256 signed with the public key \
         (algorithm confusion) are refused: `tests/common/suite.rs` `rejects_alg_none_in_any_casing`, \
         `rejects_hs256_signed_with_the_public_key`. The header is parsed once, strictly, and refused \
         before any claim is read (repeated members, `crit`, `b64: false`): \
         `header_problems_are_reported_before_signature_and_claims`, \
         `crit_in_the_header_is_refused_in_every_form`; `nbf`, a future `iat` and lifetimes longer than \
         issued are refused: `nbf_ahead_of_the_clock_is_not_yet_valid_and_nbf_now_is_accepted`, \
         `lifetime_longer_than_the_issuer_gives_is_refused`."
            .into(),
        "**Second spellings**: an ES256 signature's high-S twin and a non-canonical base64url character are \
         refused, and a per-node cache is keyed by the credential (JWT `jti`, session ID), so revoking evicts \
         every spelling: `tests/common/suite.rs` `a_second_spelling_of_a_valid_token_is_refused`, \
         `revoking_through_a_node_cache_evicts_the_credential`; `tests/it/jwt.rs` \
         `a_node_cache_keyed_by_identity_evicts_a_malleable_twin_on_revoke`."
            .into(),
        "**Cookie tossing**: the session cookie is named with the `__Host-` prefix (browsers then refuse it \
         from a sibling subdomain, or without `Secure` and `Path=/`), and a `Cookie:` header carrying it \
         twice is refused: `tests/it/sessions.rs` `cookie_tossing_a_second_session_cookie_is_refused`."
            .into(),
        "**Expiry at the boundary**: accepted just before the deadline, refused at and after it, for every \
         scheme: `tests/common/suite.rs` `expiry_boundary_accepts_just_before_and_rejects_at_and_after`; \
         a JWT whose `exp` equals now is expired at zero leeway: `tests/it/jwt.rs` \
         `exp_equal_to_now_is_expired_at_zero_leeway`."
            .into(),
    ]);
}

/// A command-line argument quoted for a POSIX shell when it needs to be.
fn shell_quote(arg: &str) -> String {
    let safe = !arg.is_empty()
        && arg
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c));
    if safe {
        arg.to_owned()
    } else {
        format!("'{}'", arg.replace('\'', "'\\''"))
    }
}

fn reproduce(doc: &mut Document, run: &Run) {
    doc.heading(2, "Reproduce");
    let m = &run.meta;
    doc.para(format!(
        "The run, exactly as it was started (tokenbench {}, {}, {} profile{}):",
        m.tokenbench_version,
        m.rustc,
        m.profile,
        m.git_commit
            .as_deref()
            .map_or_else(String::new, |c| format!(", commit `{c}`"))
    ));
    doc.code(
        m.command_line
            .iter()
            // Redacted when written; again here, for runs of older versions.
            .map(|a| shell_quote(&crate::store::redact_url(a)))
            .collect::<Vec<_>>()
            .join(" "),
    );
    let folder = run.dir.root().file_name().map_or_else(
        || "<run folder>".into(),
        |n| n.to_string_lossy().into_owned(),
    );
    doc.para("This report, again, from the run's files only:");
    doc.code(format!(
        "tokenbench report path/to/{}",
        shell_quote(&folder)
    ));
}
