//! "Validate": the cost of one request per scheme and operation, the central store
//! (embedded against Redis, with the server's CPU), the claim sets, the JWT breakdown, the
//! reference floors, the budget checks, and criterion's estimates beside the CLI's.

use std::fmt::Write as _;

use super::chart;
use crate::claims::ClaimSet;
use crate::crypto::CryptoBackend;
use crate::measure::Measurement;
use crate::measure::stats::Summary;
use crate::plot::{self, Figure, Rendered};
use crate::report::checks::{Check, WIDE_SPREAD};
use crate::report::document::Document;
use crate::report::verdicts;
use crate::report::{Run, WorkloadReport};
use crate::results::schema::validate::{BREAKDOWN, Operation, ValidateResults, ValidateRow};
use crate::scheme::spec::{SchemeId, StoreKind};
use crate::units;

impl WorkloadReport for ValidateResults {
    const HEADING: &'static str = "Validate: the cost of one request";
    /// CPU usage, and expiry (what sliding it costs).
    const ROWS: &'static [usize] = &[2, 6];
    const TOUCHED: &'static str =
        "the validate medians, the budgets and rows 2 (CPU) and 6 (Expiry)";

    fn schemes(&self) -> Vec<SchemeId> {
        keys(self, Operation::Validate)
            .into_iter()
            .map(|k| k.0)
            .collect()
    }

    fn figures(&self) -> Vec<Figure> {
        [
            plot::validate::cost(self),
            plot::validate::jwt_breakdown(self),
        ]
        .into_iter()
        .flatten()
        .collect()
    }

    fn section(&self, run: &Run, charts: &[Rendered], doc: &mut Document) {
        section(self, run, charts, doc);
    }

    fn terminal(&self, _run: &Run, out: &mut String) {
        // Writing to a String cannot fail, so the fmt::Results below are ignored.
        let _ = writeln!(
            out,
            "\nvalidate (typical claims)      backend       validate     issue        p99"
        );
        for row in self
            .rows
            .iter()
            .filter(|x| x.claims == ClaimSet::Typical && x.operation == Operation::Validate)
        {
            let issue = self
                .find(row.scheme, Operation::Issue, ClaimSet::Typical, row.backend)
                .map_or(f64::NAN, |x| x.measurement.median());
            let _ = writeln!(
                out,
                "  {:<28} {:<13} {:>10} {:>10} {:>10}",
                row.scheme,
                row.backend.map_or("-", |b| b.name()),
                units::ns(row.measurement.median()),
                units::ns(issue),
                units::ns(row.measurement.wall.p99_ns)
            );
        }
        for b in &self.budget_checks {
            let spread = match (b.ratio_lo, b.ratio_hi) {
                (Some(lo), Some(hi)) => format!(" (rounds {lo:.2}–{hi:.2})"),
                _ => String::new(),
            };
            let _ = writeln!(
                out,
                "  budget: {} = {:.2}{spread} (limit {:.2}) {}",
                b.name,
                b.ratio,
                b.limit,
                if b.pass { "ok" } else { "MISSED" }
            );
        }
    }

    /// Parts of a JWT breakdown above their whole.
    fn checks(&self, _run: &Run) -> Vec<Check> {
        let mut out = Vec::new();
        for (scheme, b) in keys(self, Operation::JwtSignatureCheck) {
            breakdown_checks(self, scheme, b, &mut out);
        }
        out
    }

    /// Budgets whose ratio lies within its spread of the limit.
    fn borderline(&self, _run: &Run) -> Vec<Check> {
        self.budget_checks
            .iter()
            .filter_map(|b| match (b.ratio_lo, b.ratio_hi) {
                (Some(lo), Some(hi)) if verdicts::straddles(lo, hi, b.limit) => {
                    Some(Check::warning(format!(
                        "budget {} is borderline: {:.3} (rounds {lo:.3}–{hi:.3}) against the limit {}",
                        b.name, b.ratio, b.limit
                    )))
                }
                _ => None,
            })
            .collect()
    }

    fn wide_spreads(&self, _run: &Run) -> Vec<String> {
        self.rows
            .iter()
            .filter_map(|r| {
                let s = r.measurement.spread()?;
                (s.width() > WIDE_SPREAD).then(|| {
                    format!(
                        "validate {} {} {} ({}–{}, ×{:.2})",
                        verdicts::with_backend(r),
                        r.operation.name(),
                        r.claims.name(),
                        units::ns(s.lo),
                        units::ns(s.hi),
                        s.width()
                    )
                })
            })
            .collect()
    }
}

/// The self-checks of the breakdown of (scheme, backend): a part above its whole, or the
/// parts' sum above it.
fn breakdown_checks(
    v: &ValidateResults,
    scheme: SchemeId,
    backend: Option<CryptoBackend>,
    out: &mut Vec<Check>,
) {
    let (Some(bd), Some(whole)) = (
        v.breakdown(scheme, backend),
        v.find(scheme, Operation::Validate, ClaimSet::Typical, backend),
    ) else {
        return;
    };
    let name = verdicts::with_backend(whole);
    for (op, part) in &bd.parts {
        if part.median <= bd.whole {
            continue;
        }
        let text = format!(
            "breakdown of {name}: the part {} ({}, paired with its whole per round) is above \
             its whole validate ({})",
            op.name(),
            units::ns(part.median),
            units::ns(bd.whole)
        );
        // Above the whole in every round is a contradiction; in most rounds but not all,
        // the two lie within each other's run-to-run spread.
        match part.share {
            Some(s) if s.lo <= 1.0 => out.push(Check::note(format!(
                "{text}, within the run-to-run spread: per-round shares of the whole from \
                 {} to {}",
                units::percent(s.lo),
                units::percent(s.hi)
            ))),
            _ => out.push(Check::warning(format!(
                "{text} in every round; the parts were measured in the same rounds as the \
                 whole, so the part does work the whole skips"
            ))),
        }
    }
    if let Some(sum) = bd.sum()
        && sum > bd.whole
        && bd.parts.iter().all(|p| p.1.median <= bd.whole)
    {
        // Above the whole in every round: a contradiction. In some rounds only: within
        // the run-to-run spread, said as a note.
        let text = format!(
            "breakdown of {name}: its parts sum to {}, above its whole validate ({})",
            units::ns(sum),
            units::ns(bd.whole)
        );
        match &bd.sum_above_per_round {
            Some(r) if !r.iter().all(|x| *x) => out.push(Check::note(format!(
                "{text}, within the run-to-run spread: the parts sum to no more than the \
                 whole in {} of {} rounds",
                r.iter().filter(|x| !**x).count(),
                r.len()
            ))),
            _ => out.push(Check::warning(text)),
        }
    }
}

/// The median to compare with its run-to-run spread in brackets (smallest and largest round
/// median), or, for a file written before rounds, the median batch with its 95% confidence
/// interval.
fn ci(m: &Measurement) -> String {
    match m.spread() {
        Some(s) => format!(
            "{} [{}–{}]",
            units::ns(s.median),
            units::ns(s.lo),
            units::ns(s.hi)
        ),
        None => {
            let s: &Summary = &m.wall;
            format!(
                "{} [CI {}, {}]",
                units::ns(s.median_ns),
                units::ns(s.median_ci95_ns[0]),
                units::ns(s.median_ci95_ns[1])
            )
        }
    }
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
type RowFigure = fn(&ValidateRow) -> Option<f64>;

/// `figure` of the row for (scheme, op, set, backend) as a duration; "—" when the row or
/// its figure is absent.
fn figure_of(
    v: &ValidateResults,
    scheme: SchemeId,
    op: Operation,
    set: ClaimSet,
    b: Option<CryptoBackend>,
    figure: RowFigure,
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
    figure_of(v, scheme, op, set, b, |r| Some(r.measurement.median()))
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
        if k.0.capabilities().store_lookup && !stores.contains(&k) {
            stores.push(k);
        }
    }
    if stores.is_empty() {
        return;
    }
    let postgres = stores
        .iter()
        .any(|(scheme, _)| scheme.store() == Some(StoreKind::Postgres));
    doc.heading(
        3,
        if postgres {
            "Central store: embedded vs networked"
        } else {
            "Central store: embedded vs Redis"
        },
    );
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
    if postgres {
        intro.push_str(
            " For PostgreSQL the server CPU is that of its processes: the backends serving \
             this benchmark and the server's background processes (`/proc` of a server on this \
             machine; `pg_stat_statements` time elsewhere), over a counted run less its idle \
             CPU; \"—\" when it cannot be read from here.",
        );
    }
    doc.para(intro);
    let t = ClaimSet::Typical;
    let figures: [(&str, RowFigure); 3] = [
        ("wall median", |r| Some(r.measurement.median())),
        ("client CPU median", |r| Some(r.measurement.cpu_median())),
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

/// The validate workload's charts, tables and subsections.
fn section(v: &ValidateResults, run: &Run, charts: &[Rendered], doc: &mut Document) {
    let rounds = v
        .rows
        .iter()
        .find_map(|r| r.measurement.rounds.as_ref())
        .map(|r| r.wall_ns.len());
    doc.para(format!(
        "Wall time per operation from batched timings, with {} live sessions in each store. {} Two \
         clock reads cost {} here. Sessions are validated with a fixed idle deadline unless the row \
         says sliding expiry.",
        v.live_sessions,
        match rounds {
            Some(n) => format!(
                "Every row was measured in the same {n} interleaved rounds (round-robin over all \
                 rows, so a shared machine's drift hits every row alike): a median is the median \
                 of the round medians, and the brackets give the smallest and largest round \
                 median, the spread a rerun would show. Ratios of two rows (the budgets) come \
                 from the same rounds."
            ),
            None => "These rows were measured before interleaved rounds: a median is the median \
                     batch, the brackets its 95% confidence interval (`CI`), which describes one \
                     stretch of time, not what a rerun would give."
                .to_owned(),
        },
        units::ns(v.timer_pair_ns)
    ));
    let failed: Vec<String> = v
        .rows
        .iter()
        .filter(|r| r.errors > 0)
        .map(|r| {
            format!(
                "{} {} ({} claims): {} of about {} operations failed",
                verdicts::with_backend(r),
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
            "validate median [spread]",
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
                    ci(&r.measurement),
                    units::ns(r.measurement.wall.p99_ns),
                    units::ns(r.measurement.cpu_median()),
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
        doc.para(
            "Each part is paired with its whole: the median of its per-round share of the whole \
             validate (both measured in the same rounds), times the whole's median, so a round that \
             disturbed the part but not the whole (or the reverse) cannot put a part above its \
             whole. The self-checks say when a part or the sum is above the whole all the same.",
        );
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
                    let bd = v.breakdown(scheme, b);
                    let mut row = vec![
                        scheme.to_string(),
                        b.map_or_else(|| "—".to_owned(), |b| b.to_string()),
                    ];
                    row.extend(BREAKDOWN.iter().map(|op| {
                        bd.as_ref()
                            .and_then(|bd| bd.part(*op))
                            .map_or_else(|| "—".to_owned(), |p| units::ns(p.median))
                    }));
                    let sum = bd.as_ref().and_then(|bd| bd.sum());
                    let whole = bd.as_ref().map(|bd| bd.whole);
                    row.push(match (sum, whole) {
                        (Some(sum), Some(whole)) if sum > whole => {
                            let every_round = bd
                                .as_ref()
                                .and_then(|bd| bd.sum_above_per_round.as_ref())
                                .is_none_or(|r| r.iter().all(|x| *x));
                            if every_round {
                                format!("{} **above the whole**", units::ns(sum))
                            } else {
                                format!("{} (above the whole within the spread)", units::ns(sum))
                            }
                        }
                        (sum, _) => sum.map_or_else(|| "—".to_owned(), units::ns),
                    });
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
            &["Reference", "Beside", "Backend", "median [spread]", "p99"],
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
                        ci(&r.measurement),
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
        doc.para(
            "Ratios from the issue tracker's budgets, as measured in this run; a missed budget is \
             shown, not hidden. Each is the ratio of two medians of the tables above, measured in \
             the same rounds; its spread is the smallest and largest per-round ratio, and the ratio \
             of the table medians always lies within it. A limit inside the spread is borderline.",
        );
        doc.table(
            &["Check", "Measured ratio", "Spread", "Limit", "Result"],
            v.budget_checks
                .iter()
                .map(|c| {
                    let (spread, borderline) = match (c.ratio_lo, c.ratio_hi) {
                        (Some(lo), Some(hi)) => (
                            format!("{lo:.3}–{hi:.3}"),
                            verdicts::straddles(lo, hi, c.limit),
                        ),
                        _ => (
                            format!("CI [{:.3}, {:.3}]", c.ratio_ci95[0], c.ratio_ci95[1]),
                            false,
                        ),
                    };
                    let result = if c.pass { "pass" } else { "**missed**" };
                    vec![
                        c.name.clone(),
                        format!("{:.3}", c.ratio),
                        spread,
                        format!("≤ {}", c.limit),
                        if borderline {
                            format!("{result} (borderline)")
                        } else {
                            result.to_owned()
                        },
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
            let cli = r.measurement.median();
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
