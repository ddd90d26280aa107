//! "Bottom line": the first section of the report and of the terminal summary, a few
//! sentences computed from the figures that decide between the schemes on this machine:
//! cost per request against each session store, revocation, bytes, HTTP, the verdicts.

use crate::claims::ClaimSet;
use crate::measure::rounds::Spread;
use crate::report::Run;
use crate::report::checks::{Check, Severity};
use crate::report::document::Document;
use crate::report::verdicts::{self, Verdict, bandwidth, cpu};
use crate::results::schema::http::{HttpProtocol, HttpResults, HttpRow, Transport};
use crate::results::schema::revoke::RevokeResults;
use crate::results::schema::size::SizeResults;
use crate::results::schema::validate::{ValidateResults, ValidateRow};
use crate::results::schema::wire::WireRow;
use crate::units;

/// The section's title, exactly.
pub const TITLE: &str = "Bottom line";

/// `43.8×`, from [`units::ratio`]'s `×43.8`.
fn times(r: f64) -> String {
    let s = units::ratio(r);
    match s.strip_prefix('×') {
        Some(n) => format!("{n}×"),
        None => s,
    }
}

/// `43.8× (41.0–46.0×)`, or the ratio alone without a spread.
fn times_spread(r: f64, s: Option<Spread>) -> String {
    match s {
        Some(s) => format!(
            "{} ({}–{})",
            times(r),
            times(s.lo).trim_end_matches('×'),
            times(s.hi)
        ),
        None => times(r),
    }
}

/// Cost per request: one sentence per session store, each scheme whose token carries its
/// claims (on the main backend, when measured per backend) against it.
fn costs(run: &Run) -> Vec<String> {
    let Some(v) = run.get::<ValidateResults>() else {
        return vec!["Cost per request: not measured in this run (no `validate.json`).".into()];
    };
    let main = verdicts::main_backend(run);
    let carrying: Vec<&ValidateRow> = cpu::self_contained(v)
        .filter(|r| main.is_none() || r.backend.is_none() || r.backend == main)
        .collect();
    let stores = cpu::session_stores(v);
    if stores.is_empty() || carrying.is_empty() {
        return vec![format!(
            "Cost per request: this run lacks a session or a {} validate row.",
            verdicts::SELF_CONTAINED
        )];
    }
    stores
        .iter()
        .map(|store| {
            let c = cpu::cpu_per_request(store);
            let what = match store.server_cpu_ns_per_op {
                Some(server) => format!(
                    "networked: {} CPU per request, {} in this process + {} in the store server; {} \
                     wall with the round trip",
                    units::ns(c),
                    units::ns(store.measurement.cpu_median()),
                    units::ns(server),
                    units::ns(store.measurement.median())
                ),
                None => format!("embedded: {} CPU per request", units::ns(c)),
            };
            let each: Vec<String> = carrying
                .iter()
                .map(|j| {
                    let r = cpu::cpu_per_request(j) / c;
                    format!(
                        "`{}` costs {}",
                        j.scheme,
                        times_spread(r, cpu::cpu_ratio_spread(j, store))
                    )
                })
                .collect();
            format!(
                "Against `{}` ({what}), per request in CPU time (typical claims, {} backend): {}.",
                store.scheme,
                main.map_or_else(|| "any".to_owned(), |b| b.to_string()),
                each.join(", ")
            )
        })
        .collect()
}

/// Revocation latency per strategy.
fn revocation(run: &Run) -> Option<String> {
    let r = run.get::<RevokeResults>()?;
    let parts: Vec<String> = r
        .strategies
        .iter()
        .filter(|s| s.latency.samples > 0)
        .map(|s| {
            let how = if s.strategy.is_expiry_only() {
                format!("median {} (until `exp`)", units::ns(s.latency.median_ns))
            } else {
                format!("p99 {}", units::ns(s.latency.p99_ns))
            };
            let added = verdicts::revocation::added_text(s);
            if added == "baseline" {
                format!("`{}` {how}", s.strategy)
            } else {
                format!("`{}` {how}, per request {added}", s.strategy)
            }
        })
        .collect();
    (!parts.is_empty()).then(|| {
        format!(
            "A revoked token is still accepted by the last of {} nodes for: {}.",
            r.validators,
            parts.join("; ")
        )
    })
}

/// Bytes per request from `size.json`: the `Cookie:` header, and the bearer header beside it.
fn bytes(run: &Run) -> Option<String> {
    let s = run.get::<SizeResults>()?;
    let rows: Vec<_> = s
        .rows
        .iter()
        .filter(|r| r.claims == ClaimSet::Typical)
        .collect();
    let session = rows.iter().find(|r| r.scheme.capabilities().store_lookup);
    let mut parts: Vec<String> = Vec::new();
    if let Some(sr) = session {
        parts.push(format!(
            "a session {} B (`Authorization:` {} B)",
            sr.cookie_header_bytes, sr.authorization_header_bytes
        ));
    }
    for r in rows
        .iter()
        .filter(|r| r.scheme.capabilities().carries_claims)
    {
        let more = session.map_or_else(String::new, |sr| {
            format!(
                ", {}",
                times(r.cookie_header_bytes as f64 / sr.cookie_header_bytes as f64)
            )
        });
        parts.push(format!(
            "`{}` {} B{more} (`Authorization:` {} B)",
            r.scheme, r.cookie_header_bytes, r.authorization_header_bytes
        ));
    }
    (!parts.is_empty()).then(|| {
        format!(
            "Bytes per request for the token, `Cookie:` header (typical claims): {}.",
            parts.join("; ")
        )
    })
}

/// Sentences about the HTTP workload, from `http.json` when the run has it: on one
/// transport and protocol (cookie over HTTP/1.1 when measured, as the article's flow has
/// it), the token's share of the server's CPU per request and each scheme's highest rate
/// meeting the p99 objective; then the bytes a client sends per request with cookies, per
/// protocol (HTTP/2 compresses headers).
fn http(run: &Run) -> Vec<String> {
    let Some(h) = run.get::<HttpResults>().filter(|h| !h.rows.is_empty()) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let first = &h.rows[0];
    let (transport, protocol) = h
        .rows
        .iter()
        .find(|r| r.transport == Transport::Cookie && r.protocol == HttpProtocol::Http1)
        .map_or((first.transport, first.protocol), |r| {
            (r.transport, r.protocol)
        });
    let on: Vec<&HttpRow> = h
        .rows
        .iter()
        .filter(|r| r.transport == transport && r.protocol == protocol)
        .collect();
    // A row whose generator could not be ruled out says nothing of its server.
    let cannot: Vec<String> = on
        .iter()
        .filter(|r| !r.generator_ruled_out())
        .map(|r| r.scheme.to_string())
        .collect();
    let on: Vec<&HttpRow> = on.into_iter().filter(|r| r.generator_ruled_out()).collect();
    let shares: Vec<String> = on
        .iter()
        .filter_map(|r| {
            let d = &r.common.server;
            r.token_share().map(|share| {
                format!(
                    "{} for {} ({} of {})",
                    units::percent(share),
                    r.scheme,
                    units::ns(d.token_cpu_per_request_ns),
                    units::ns(d.cpu_per_request_ns)
                )
            })
        })
        .collect();
    if !shares.is_empty() {
        out.push(format!(
            "Over HTTP ({transport}, {}, every scheme at {} req/s), the token's share of the \
             server's CPU per request: {}.",
            protocol.name(),
            units::count(h.common_rate),
            shares.join(", ")
        ));
    }
    let rates: Vec<String> = on
        .iter()
        .map(|r| {
            format!(
                "{} {}",
                r.scheme,
                r.max_rate.map_or_else(
                    || "none".to_owned(),
                    |m| format!("{} req/s", units::count(m))
                )
            )
        })
        .collect();
    let objective = h.search_params().map_or_else(String::new, |p| {
        format!(" (p99 ≤ {})", units::ns(p.p99_objective.as_nanos() as f64))
    });
    let cannot = if cannot.is_empty() {
        String::new()
    } else {
        format!("cannot tell (the generator lagged): {}", cannot.join(", "))
    };
    out.push(format!(
        "Highest rate meeting the objective{objective}, one server process ({transport}, {}): {}.",
        protocol.name(),
        match (rates.is_empty(), cannot.is_empty()) {
            (false, false) => format!("{}; {cannot}", rates.join(", ")),
            (false, true) => rates.join(", "),
            (true, _) => format!("no row the server's own; {cannot}"),
        }
    ));
    let mut protocols: Vec<HttpProtocol> = Vec::new();
    for r in &h.rows {
        if r.transport == Transport::Cookie && !protocols.contains(&r.protocol) {
            protocols.push(r.protocol);
        }
    }
    let sent: Vec<String> = protocols
        .iter()
        .filter_map(|&p| {
            let per: Vec<String> = h
                .rows
                .iter()
                .filter(|r| r.transport == Transport::Cookie && r.protocol == p)
                .filter(|r| r.generator_ruled_out())
                .map(|r| {
                    format!(
                        "{} {}",
                        r.scheme,
                        units::bytes(r.common.step.bytes_sent_per_request.round())
                    )
                })
                .collect();
            (!per.is_empty()).then(|| format!("{}: {}", p.name(), per.join(", ")))
        })
        .collect();
    if !sent.is_empty() {
        out.push(format!(
            "Bytes our load generator's client (hyper, which never puts `cookie` or \
             `authorization` in HPACK's table) sends per request on the socket with cookies, the \
             whole flow averaged: {}.",
            sent.join("; ")
        ));
    }
    out
}

/// Sentences about the header bytes each HTTP/2 client sends (the wire rows of
/// `browser.json`), for the claim set the verdict uses: per client and header, first →
/// repeated request, the self-contained tokens against the sessions; then for which
/// client and header a repeated token costs more than a session, and (`with_http`, the run
/// has `http.json`) that the HTTP workload's figures are our hyper client's.
pub fn wire(rows: &[WireRow], with_http: bool) -> Vec<String> {
    let comparisons = bandwidth::wire_comparisons(rows);
    if comparisons.is_empty() {
        return Vec::new();
    }
    let set = crate::plot::wire::chart_claims(rows).unwrap_or(bandwidth::WIRE_CLAIMS);
    let mut out = vec![format!(
        "Header bytes per request over HTTP/2 as each client sends them, one connection, {} \
         claims, first → repeated request: {}.",
        set.name(),
        comparisons
            .iter()
            .map(bandwidth::WireComparison::text)
            .collect::<Vec<_>>()
            .join("; ")
    )];
    let cheap: Vec<String> = comparisons
        .iter()
        .filter(|c| c.repeated_as_cheap())
        .map(|c| format!("{} {}", c.client, c.header))
        .collect();
    let dear: Vec<String> = comparisons
        .iter()
        .filter(|c| !c.repeated_as_cheap())
        .map(|c| format!("{} {}", c.client, c.header))
        .collect();
    let mut which = if with_http {
        "The HTTP workload's figures above are our load generator's client's (hyper); a \
         repeated"
            .to_owned()
    } else {
        "A repeated".to_owned()
    };
    if !dear.is_empty() {
        which.push_str(&format!(
            " {} token costs more than a session's for {}",
            verdicts::SELF_CONTAINED,
            dear.join(", ")
        ));
    }
    if !cheap.is_empty() {
        which.push_str(&format!(
            "{} no more than a session's for {} (sent as an HPACK index)",
            if dear.is_empty() {
                format!(" {} token costs", verdicts::SELF_CONTAINED)
            } else {
                ", and".to_owned()
            },
            cheap.join(", ")
        ));
    }
    which.push('.');
    out.push(which);
    out
}

/// Sentences about the sites of several nodes: per RTT, session against self-contained
/// max rate and latency; the store's headroom; revocation end to end.
fn sites(run: &Run) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(h) = run.get::<HttpResults>() {
        for rtt in cpu::rtts(cpu::judged_sites(h)) {
            let at: Vec<String> = cpu::judged_sites(h)
                .filter(|n| n.rtt_ms == rtt)
                .map(|n| {
                    format!(
                        "{} ({} node{}) {} req/s, {} per server core, p99 {}",
                        n.scheme,
                        n.nodes,
                        if n.nodes == 1 { "" } else { "s" },
                        n.max_rate.map_or_else(|| "none".into(), units::count),
                        n.max_rate_per_server_core()
                            .map_or_else(|| "n/a".into(), units::count),
                        units::ns(n.common.step.latency.p99_ns)
                    )
                })
                .collect();
            out.push(format!(
                "Sites of nodes with the store {} away (added round trip), highest rate \
                 meeting the objective: {}.",
                units::window_ms(rtt),
                at.join("; ")
            ));
        }
        let mut stores: Vec<String> = Vec::new();
        let mut done: Vec<String> = Vec::new();
        for n in cpu::judged_sites(h) {
            let scheme = n.scheme.to_string();
            if done.contains(&scheme) {
                continue;
            }
            done.push(scheme);
            let loads: Vec<_> = cpu::judged_sites(h)
                .filter(|m| m.scheme == n.scheme)
                .filter_map(|m| m.store_load.as_ref())
                .filter(|s| s.ops_per_request > 0.0)
                .collect();
            let (Some(lo), Some(hi)) = (
                loads
                    .iter()
                    .min_by(|a, b| a.headroom_rate.total_cmp(&b.headroom_rate)),
                loads
                    .iter()
                    .max_by(|a, b| a.headroom_rate.total_cmp(&b.headroom_rate)),
            ) else {
                continue;
            };
            let rate = if lo.headroom_rate == hi.headroom_rate {
                units::count(lo.headroom_rate)
            } else {
                format!(
                    "{}–{}",
                    units::count(lo.headroom_rate),
                    units::count(hi.headroom_rate)
                )
            };
            stores.push(format!(
                "{} fills one store core at {rate} req/s over its {} site{} (1 s ÷ (CPU per \
                 operation × operations per request), {} × {:.2} at the lowest), so 1 M req/s \
                 needs {:.1} store cores",
                n.scheme,
                loads.len(),
                if loads.len() == 1 { "" } else { "s" },
                units::ns(lo.cpu_per_op_ns),
                lo.ops_per_request,
                lo.shards_for(1e6)
            ));
        }
        if !stores.is_empty() {
            out.push(format!(
                "The central store's headroom: {}; a token checked without the store needs \
                 none.",
                stores.join("; ")
            ));
        }
        if let Some(c) = cpu::cannot_tell(h) {
            out.push(format!("Sites {c}."));
        }
    }
    if let Some(r) = run.get::<RevokeResults>() {
        let e2e: Vec<String> = r
            .end_to_end
            .iter()
            .filter(|e| e.latency.samples > 0)
            .map(|e| {
                format!(
                    "`{}` ({} node{}, RTT {}) p99 {}",
                    e.strategy,
                    e.nodes,
                    if e.nodes == 1 { "" } else { "s" },
                    units::window_ms(e.rtt_ms),
                    units::ns(e.latency.p99_ns)
                )
            })
            .collect();
        if !e2e.is_empty() {
            out.push(format!(
                "End to end over HTTP, from the logout response until every node answers 401: {}.",
                e2e.join("; ")
            ));
        }
    }
    out
}

/// The verdict tally of the article's table and the self-checks' count.
fn verdicts(run: &Run, checks: &[Check]) -> String {
    let rows = verdicts::rows(run);
    let count = |v: Verdict| rows.iter().filter(|r| r.judgement.verdict == v).count();
    let borderline = rows
        .iter()
        .filter(|r| r.judgement.borderline.is_some())
        .count();
    let warnings = checks
        .iter()
        .filter(|c| c.severity == Severity::Warning)
        .count();
    let notes = checks.len() - warnings;
    let tally: Vec<String> = [
        Verdict::Confirmed,
        Verdict::Nuanced,
        Verdict::Contradicted,
        Verdict::NotMeasured,
    ]
    .into_iter()
    .filter(|v| count(*v) > 0)
    .map(|v| format!("{} {}", count(v), v.label()))
    .collect();
    format!(
        "The seed article's {} claims: {}{}. Self-checks: {}.",
        rows.len(),
        tally.join(", "),
        if borderline > 0 {
            format!(" ({borderline} borderline)")
        } else {
            String::new()
        },
        if checks.is_empty() {
            "nothing to report".to_owned()
        } else {
            format!(
                "{warnings} warning{}, {notes} note{}, listed below",
                if warnings == 1 { "" } else { "s" },
                if notes == 1 { "" } else { "s" }
            )
        }
    )
}

/// The bottom line's sentences, in order.
pub fn sentences(run: &Run, checks: &[Check]) -> Vec<String> {
    let mut out = vec![format!(
        "Measured on {} logical cores ({}){}.",
        run.meta.cores,
        run.meta.cpu_model,
        if run.meta.quick {
            ", a `--quick` run: orders of magnitude, not fine differences"
        } else {
            ""
        }
    )];
    out.extend(costs(run));
    out.extend(revocation(run));
    out.extend(bytes(run));
    out.extend(http(run));
    let with_http = run.get::<HttpResults>().is_some();
    out.extend(
        bandwidth::wire_rows(run)
            .map(|w| wire(w, with_http))
            .unwrap_or_default(),
    );
    out.extend(sites(run));
    out.push(verdicts(run, checks));
    out
}

/// The section: the sentences, then the self-checks.
pub(super) fn section(doc: &mut Document, run: &Run, checks: &[Check]) {
    doc.heading(2, TITLE);
    doc.bullets(sentences(run, checks));
    if !checks.is_empty() {
        doc.heading(3, "Self-checks");
        doc.bullets(checks.iter().map(Check::line).collect());
    }
}
