//! Row 2, CPU usage: the CPU a validate costs for a token that carries its claims against a
//! session validate (typical claims), store by store: an embedded store does all its work
//! in the validating thread, a networked one adds the server's CPU per lookup. Each pair is
//! judged on its own, so "confirmed for an embedded store; contradicted for HS256 against
//! session-redis" is a computed outcome.

use super::{
    Judgement, Row, SELF_CONTAINED, SESSION_MEMORY, Verdict, clean, failed_rows, straddles,
    validate_row, with_backend,
};
use crate::claims::ClaimSet;
use crate::crypto::CryptoBackend;
use crate::measure::rounds::Spread;
use crate::report::Run;
use crate::results::schema::http::{HttpResults, NodeRow};
use crate::results::schema::validate::{Operation, ValidateResults, ValidateRow};
use crate::scheme::spec::SchemeId;
use crate::units;

/// Row 2: a token that carries its claims must cost at least this many times a session
/// validate to count as clearly more expensive.
pub const FACTOR: f64 = 2.0;

/// Row 2 of the table.
pub const ROW: Row = Row {
    number: 2,
    name: "CPU usage",
    claim: "A JWT costs a signature check and a decode on every request; a session costs a store lookup, so JWTs use more CPU.",
    rule,
    cell,
    judge: |run| {
        judge_with_http(
            run.get::<ValidateResults>(),
            super::main_backend(run),
            run.get::<HttpResults>(),
        )
    },
};

/// The rule, in words, with the thresholds [`judge`] uses.
pub fn rule() -> String {
    format!(
        "CPU per request = this process's thread CPU (median of the round medians) plus, for a \
         networked store such as `session-redis`, the store server's CPU per operation. For each \
         session store and each {SELF_CONTAINED} scheme (one whose token carries its claims, as \
         a JWT does) and backend (typical claims): r = its CPU ÷ session CPU; the pair is \
         confirmed if r ≥ {FACTOR}, contradicted if r ≤ 1, nuanced otherwise, and borderline \
         when the per-round spread of r reaches {FACTOR} or 1. The row is confirmed if every \
         pair is and, for each scheme measured on two crypto backends, the backend gap (slower ÷ \
         faster) is smaller than that scheme's r on the faster one against the embedded store; \
         contradicted if every pair is; nuanced otherwise, naming the outcome per store. With \
         sites of several nodes in `http.json`, a networked verdict per added round trip (RTT) \
         to the store: for each session site and {SELF_CONTAINED} site of the same nodes, \
         transport and protocol at that RTT, q = session max rate ÷ {SELF_CONTAINED} max rate \
         (whole requests meeting the p99 objective, the store's distance included): confirmed \
         if q ≥ {FACTOR}, contradicted if q ≤ 1, nuanced otherwise (latency at the common rate \
         and CPU per request, nodes + store, printed beside); a site whose generator could not be \
         ruled out is left out. The row is then the in-process verdict if every RTT's agrees \
         with it, nuanced otherwise"
    )
}

/// The networked verdict at one added round trip.
#[derive(Debug, Clone, PartialEq)]
pub struct RttVerdict {
    /// The round trip, ms.
    pub rtt_ms: f64,
    /// The verdict at it.
    pub verdict: Verdict,
    /// What decided it.
    pub because: String,
}

/// `session-redis 1 node 4.00 k req/s (p50 1.00 ms, p99 4.00 ms, 90.0 µs + 20.0 µs store CPU)`.
fn site_text(n: &NodeRow) -> String {
    let lat = &n.common.step.latency;
    let cpu = match (n.common.cpu_per_request_ns(), n.store_cpu_per_request_ns()) {
        (Some(c), Some(s)) => format!(", {} + {} store CPU", units::ns(c), units::ns(s)),
        (Some(c), None) => format!(", {} CPU", units::ns(c)),
        _ => String::new(),
    };
    format!(
        "{} {} req/s (p50 {}, p99 {}{cpu})",
        n.scheme,
        n.max_rate.map_or_else(|| "none".into(), units::count),
        units::ns(lat.median_ns),
        units::ns(lat.p99_ns)
    )
}

/// The sites a verdict may read: their generator ruled out and a max rate found.
pub fn judged_sites(h: &HttpResults) -> impl Iterator<Item = &NodeRow> {
    h.nodes
        .iter()
        .filter(|n| n.generator_ruled_out() && n.max_rate.is_some_and(|m| m > 0.0))
}

/// The distinct added round trips of `sites`, ascending.
pub fn rtts<'a>(sites: impl Iterator<Item = &'a NodeRow>) -> Vec<f64> {
    let mut out: Vec<f64> = Vec::new();
    for n in sites {
        if !out.contains(&n.rtt_ms) {
            out.push(n.rtt_ms);
        }
    }
    out.sort_by(f64::total_cmp);
    out
}

/// Row 2 over the network, one verdict per RTT with a session and a self-contained site
/// to compare; empty without such sites.
pub fn per_rtt(h: &HttpResults) -> Vec<RttVerdict> {
    let sites: Vec<&NodeRow> = judged_sites(h).collect();
    let mut out = Vec::new();
    for rtt in rtts(sites.iter().copied()) {
        let at: Vec<&NodeRow> = sites.iter().copied().filter(|n| n.rtt_ms == rtt).collect();
        let mut pairs: Vec<(String, Verdict)> = Vec::new();
        for s in at.iter().filter(|n| n.scheme.capabilities().store_lookup) {
            for j in at.iter().filter(|j| {
                j.scheme.capabilities().carries_claims
                    && (j.nodes, j.transport, j.protocol) == (s.nodes, s.transport, s.protocol)
            }) {
                let (Some(a), Some(b)) = (s.max_rate, j.max_rate) else {
                    continue;
                };
                let q = a / b;
                let v = pair_verdict(q);
                pairs.push((
                    format!(
                        "{} node{}: {} vs {}: q {} {}",
                        s.nodes,
                        if s.nodes == 1 { "" } else { "s" },
                        site_text(s),
                        site_text(j),
                        units::ratio(q),
                        v.label()
                    ),
                    v,
                ));
            }
        }
        if pairs.is_empty() {
            continue;
        }
        let verdict = if pairs.iter().all(|p| p.1 == pairs[0].1) {
            pairs[0].1
        } else {
            Verdict::Nuanced
        };
        out.push(RttVerdict {
            rtt_ms: rtt,
            verdict,
            because: pairs
                .into_iter()
                .map(|p| p.0)
                .collect::<Vec<_>>()
                .join("; "),
        });
    }
    out
}

/// Sites left out of the verdicts because their generator could not be ruled out, named.
pub fn cannot_tell(h: &HttpResults) -> Option<String> {
    let names: Vec<String> = h
        .nodes
        .iter()
        .filter(|n| !n.generator_ruled_out())
        .map(NodeRow::label)
        .collect();
    (!names.is_empty()).then(|| format!("left out (generator, cannot tell): {}", names.join(", ")))
}

/// The verdict, from `validate.json` in process and, when `http.json` has sites, per RTT
/// over the network; without sites exactly [`judge_on`]'s.
pub fn judge_with_http(
    validate: Option<&ValidateResults>,
    main: Option<CryptoBackend>,
    http: Option<&HttpResults>,
) -> Judgement {
    let base = judge_on(validate, main);
    let Some(h) = http else {
        return base;
    };
    let net = per_rtt(h);
    if net.is_empty() {
        return base;
    }
    let mut verdicts: Vec<Verdict> = net.iter().map(|n| n.verdict).collect();
    if base.verdict != Verdict::NotMeasured {
        verdicts.push(base.verdict);
    }
    let verdict = if verdicts.iter().all(|v| *v == verdicts[0]) {
        verdicts[0]
    } else {
        Verdict::Nuanced
    };
    let per_rtt: Vec<String> = net
        .iter()
        .map(|n| {
            format!(
                "RTT {}: {} ({})",
                units::window_ms(n.rtt_ms),
                n.verdict.label(),
                n.because
            )
        })
        .collect();
    let mut because = format!(
        "in process: {}: {}. Over the network, q = session ÷ {SELF_CONTAINED} max rate per site: {}",
        base.verdict.label(),
        base.because,
        per_rtt.join("; ")
    );
    if let Some(c) = cannot_tell(h) {
        because.push_str(&format!("; {c}"));
    }
    Judgement {
        verdict,
        because,
        borderline: base.borderline,
    }
}

/// CPU per request of a row: client thread CPU plus the server's CPU when it has one.
pub fn cpu_per_request(r: &ValidateRow) -> f64 {
    r.measurement.cpu_median() + r.server_cpu_ns_per_op.unwrap_or(0.0)
}

/// The per-round spread of `cpu_per_request(a) / cpu_per_request(b)`, for two rows measured
/// in the same rounds (the server's CPU, one figure per row, is added to every round).
pub fn cpu_ratio_spread(a: &ValidateRow, b: &ValidateRow) -> Option<Spread> {
    let (ra, rb) = (
        a.measurement.rounds.as_ref()?,
        b.measurement.rounds.as_ref()?,
    );
    if ra.cpu_ns.len() != rb.cpu_ns.len() || ra.cpu_ns.is_empty() {
        return None;
    }
    let (sa, sb) = (
        a.server_cpu_ns_per_op.unwrap_or(0.0),
        b.server_cpu_ns_per_op.unwrap_or(0.0),
    );
    let per_round: Vec<f64> = ra
        .cpu_ns
        .iter()
        .zip(&rb.cpu_ns)
        .filter(|(_, y)| **y + sb > 0.0)
        .map(|(x, y)| (x + sa) / (y + sb))
        .collect();
    let s = Spread::of(&per_round)?;
    Some(Spread {
        median: cpu_per_request(a) / cpu_per_request(b),
        ..s
    })
}

/// Validate CPU per request and issue median; the networked stores' CPU split; validate on
/// the other crypto backend.
pub fn cell(run: &Run, scheme: SchemeId) -> Option<String> {
    let sites = run.get::<HttpResults>().and_then(|h| site_cell(h, scheme));
    let Some(row) = validate_row(run, scheme, Operation::Validate) else {
        return sites;
    };
    let mut out = format!(
        "validate {} CPU ({} wall)",
        units::ns(cpu_per_request(row)),
        units::ns(row.measurement.median())
    );
    if let Some(i) = validate_row(run, scheme, Operation::Issue) {
        out.push_str(&format!(", issue {}", units::ns(i.measurement.median())));
    }
    if let Some(v) = run.get::<ValidateResults>() {
        if scheme.capabilities().store_lookup {
            for other in session_stores(v).into_iter().filter(|r| r.scheme != scheme) {
                out.push_str(&format!("; {}", store_cpu(other)));
            }
        }
        for other in v.rows.iter().filter(|r| {
            r.scheme == scheme
                && typical_validate(r)
                && r.backend.is_some()
                && r.backend != row.backend
        }) {
            out.push_str(&format!(
                "; {}: validate {} CPU",
                other.backend.map_or("?", |b| b.name()),
                units::ns(cpu_per_request(other))
            ));
        }
    }
    if let Some(sites) = sites {
        out.push_str(&format!("; {sites}"));
    }
    Some(out)
}

/// `sites of 1 node: RTT 0ms 4.00 k req/s p99 2.00 ms, RTT 2ms …` for the fewest nodes the
/// scheme's judged sites ran with.
fn site_cell(h: &HttpResults, scheme: SchemeId) -> Option<String> {
    let mine: Vec<&NodeRow> = judged_sites(h).filter(|n| n.scheme == scheme).collect();
    let fewest = mine.iter().map(|n| n.nodes).min()?;
    let parts: Vec<String> = mine
        .iter()
        .filter(|n| n.nodes == fewest)
        .map(|n| {
            format!(
                "RTT {} {} req/s p99 {}",
                n.rtt(),
                n.max_rate.map_or_else(|| "none".into(), units::count),
                units::ns(n.common.step.latency.p99_ns)
            )
        })
        .collect();
    Some(format!(
        "site of {fewest} node{}: {}",
        if fewest == 1 { "" } else { "s" },
        parts.join(", ")
    ))
}

/// `session-redis 30.0 µs CPU (12.0 µs client + 18.0 µs server)`, or the CPU alone for an
/// embedded store.
fn store_cpu(r: &ValidateRow) -> String {
    match r.server_cpu_ns_per_op {
        Some(server) => format!(
            "{} {} CPU ({} client + {} server)",
            r.scheme,
            units::ns(cpu_per_request(r)),
            units::ns(r.measurement.cpu_median()),
            units::ns(server)
        ),
        None => format!("{} {} CPU", r.scheme, units::ns(cpu_per_request(r))),
    }
}

/// A validate of typical claims, the operation the CPU row compares.
fn typical_validate(r: &ValidateRow) -> bool {
    r.operation == Operation::Validate && r.claims == ClaimSet::Typical
}

/// Whether a session row's store is networked: it has a server CPU figure, or its store
/// kind lives outside the process.
pub fn networked(r: &ValidateRow) -> bool {
    r.server_cpu_ns_per_op.is_some() || r.scheme.store().is_some_and(|k| k.is_remote())
}

/// Every session store's validate row (typical claims, no failed operations), the embedded
/// session-memory first.
pub fn session_stores(v: &ValidateResults) -> Vec<&ValidateRow> {
    let mut out: Vec<&ValidateRow> = v
        .rows
        .iter()
        .filter(|r| typical_validate(r) && r.scheme.capabilities().store_lookup && clean(r))
        .collect();
    out.sort_by_key(|r| (r.scheme != SESSION_MEMORY, networked(r)));
    out
}

/// The validate rows of tokens that carry their claims, the row judges.
pub fn self_contained(v: &ValidateResults) -> impl Iterator<Item = &ValidateRow> {
    v.rows
        .iter()
        .filter(|r| typical_validate(r) && r.scheme.capabilities().carries_claims && clean(r))
}

/// The verdict of one (session store, self-contained scheme) pair for ratio `r`.
fn pair_verdict(r: f64) -> Verdict {
    if r >= FACTOR {
        Verdict::Confirmed
    } else if r <= 1.0 {
        Verdict::Contradicted
    } else {
        Verdict::Nuanced
    }
}

/// The verdict, from `validate.json`, with every row's spread taken as paired.
pub fn judge(validate: Option<&ValidateResults>) -> Judgement {
    judge_on(validate, None)
}

/// Whether two rows were measured in the same rounds: the same process, so a row of the
/// main crypto backend, or of none (or any, when `main` is unknown). The other backend's
/// rows come from a child process whose rounds ran at another time.
fn paired(j: &ValidateRow, main: Option<CryptoBackend>) -> bool {
    main.is_none() || j.backend.is_none() || j.backend == main
}

/// The verdict, from `validate.json`; `main` is the run's main crypto backend, whose rows
/// share their rounds with the session rows.
pub fn judge_on(validate: Option<&ValidateResults>, main: Option<CryptoBackend>) -> Judgement {
    let Some(v) = validate else {
        return Judgement::missing("validate.json is not in this run");
    };
    let stores = session_stores(v);
    if stores.is_empty() {
        return Judgement::missing(format!(
            "validate.json has no session validate row (typical claims) without failed operations{}",
            failed_rows(v, typical_validate)
        ));
    }
    let carrying: Vec<&ValidateRow> = self_contained(v).collect();
    if carrying.is_empty() {
        return Judgement::missing(format!(
            "validate.json has no {SELF_CONTAINED} validate row (typical claims) without failed \
             operations{}",
            failed_rows(v, typical_validate)
        ));
    }
    let mut all: Vec<Verdict> = Vec::new();
    let mut per_store: Vec<String> = Vec::new();
    let mut headline: Vec<String> = Vec::new();
    let mut borderline: Vec<String> = Vec::new();
    for store in &stores {
        let b = cpu_per_request(store);
        let mut pairs: Vec<(String, f64, Verdict)> = Vec::new();
        for j in &carrying {
            let r = cpu_per_request(j) / b;
            let verdict = pair_verdict(r);
            if paired(j, main)
                && let Some(s) = cpu_ratio_spread(j, store)
                && (straddles(s.lo, s.hi, FACTOR) || straddles(s.lo, s.hi, 1.0))
            {
                borderline.push(format!(
                    "{} ÷ {} CPU {} (rounds {}–{}) against the thresholds ×{FACTOR} and ×1",
                    with_backend(j),
                    store.scheme,
                    units::ratio(r),
                    units::ratio(s.lo),
                    units::ratio(s.hi)
                ));
            }
            pairs.push((with_backend(j), r, verdict));
            all.push(verdict);
        }
        let kind = if networked(store) {
            "networked"
        } else {
            "embedded"
        };
        per_store.push(format!(
            "against {kind} {}: {}",
            store_cpu(store),
            pairs
                .iter()
                .map(|(n, r, _)| format!("{n} {}", units::ratio(*r)))
                .collect::<Vec<_>>()
                .join(", ")
        ));
        // The outcome for this store, in words.
        let store_name = format!("`{}`", store.scheme);
        if pairs.iter().all(|p| p.2 == pairs[0].2) {
            headline.push(format!("{} for {kind} {store_name}", pairs[0].2.label()));
        } else {
            for verdict in [Verdict::Confirmed, Verdict::Nuanced, Verdict::Contradicted] {
                let names: Vec<&str> = pairs
                    .iter()
                    .filter(|p| p.2 == verdict)
                    .map(|p| p.0.as_str())
                    .collect();
                if !names.is_empty() {
                    headline.push(format!(
                        "{} for {} against {kind} {store_name}",
                        verdict.label(),
                        names.join(", ")
                    ));
                }
            }
        }
    }
    // Per algorithm on two backends, against the embedded baseline: does the library
    // matter more than the scheme?
    let base = cpu_per_request(stores[0]);
    let mut backend_notes = Vec::new();
    let mut library_dominates = false;
    let mut schemes: Vec<SchemeId> = Vec::new();
    for r in &carrying {
        if !schemes.contains(&r.scheme) {
            schemes.push(r.scheme);
        }
    }
    for scheme in schemes {
        let rows: Vec<&&ValidateRow> = carrying.iter().filter(|r| r.scheme == scheme).collect();
        if rows.len() < 2 {
            continue;
        }
        let fast = rows
            .iter()
            .map(|r| cpu_per_request(r))
            .fold(f64::INFINITY, f64::min);
        let slow = rows.iter().map(|r| cpu_per_request(r)).fold(0.0, f64::max);
        let gap = slow / fast;
        let r_fast = fast / base;
        if gap > r_fast {
            library_dominates = true;
        }
        backend_notes.push(format!(
            "{scheme} backend gap {} {} its r {}",
            units::ratio(gap),
            if gap > r_fast { ">" } else { "<" },
            units::ratio(r_fast)
        ));
    }
    let verdict = if all.iter().all(|v| *v == Verdict::Contradicted) {
        Verdict::Contradicted
    } else if all.iter().all(|v| *v == Verdict::Confirmed) && !library_dominates {
        Verdict::Confirmed
    } else {
        Verdict::Nuanced
    };
    let mut because = format!(
        "{}. r = {SELF_CONTAINED} CPU ÷ session CPU per request, {}",
        headline.join("; "),
        per_store.join("; ")
    );
    if !backend_notes.is_empty() {
        because.push_str(&format!("; {}", backend_notes.join(", ")));
    }
    because.push_str(&failed_rows(v, typical_validate));
    Judgement::new(verdict, because).borderline(borderline)
}
