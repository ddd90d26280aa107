//! "Revoke": how long a revoked token lives on per strategy, and what each strategy adds
//! per request against its family's baseline; the hybrid's refresh flow (its cost per
//! request, its window, the refresh race per grace interval) when hybrids ran.

use std::fmt::Write as _;

use super::chart;
use crate::plot::{self, Figure, Rendered};
use crate::report::checks::{Check, WIDE_SPREAD};
use crate::report::document::Document;
use crate::report::verdicts;
use crate::report::{Run, WorkloadReport};
use crate::results::schema::revoke::{AddedCost, EndToEndResult, HybridResult, RevokeResults};
use crate::scheme::spec::SchemeId;
use crate::units;

impl WorkloadReport for RevokeResults {
    const HEADING: &'static str = "Revoke: how long a revoked token lives on";
    /// Revocation, and expiry (the lifetime a token carries).
    const ROWS: &'static [usize] = &[5, 6];
    const TOUCHED: &'static str = "the revocation latencies and added costs (row 5)";

    fn figures(&self) -> Vec<Figure> {
        plot::revoke::latency(self).into_iter().collect()
    }

    /// Only the hybrids: the strategies are not schemes.
    fn schemes(&self) -> Vec<SchemeId> {
        self.hybrid.iter().map(|h| h.scheme).collect()
    }

    fn section(&self, _run: &Run, charts: &[Rendered], doc: &mut Document) {
        section(self, charts, doc);
    }

    fn terminal(&self, _run: &Run, out: &mut String) {
        // Writing to a String cannot fail, so the fmt::Results below are ignored.
        let _ = writeln!(
            out,
            "\nrevoke                         p50          p99          max          added/request"
        );
        for st in &self.strategies {
            let _ = writeln!(
                out,
                "  {:<28} {:>12} {:>12} {:>12} {:>12}",
                st.strategy,
                units::ns(st.latency.median_ns),
                units::ns(st.latency.p99_ns),
                units::ns(st.latency.max_ns),
                verdicts::revocation::added_text(st)
            );
        }
        if !self.hybrid.is_empty() {
            let _ = writeln!(
                out,
                "\nhybrid refresh                 validate     refresh      refresh/request  window"
            );
            for h in &self.hybrid {
                let _ = writeln!(
                    out,
                    "  {:<28} {:>12} {:>12} {:>16} {:>8}",
                    h.scheme.to_string(),
                    units::ns(h.validate.median()),
                    units::ns(h.refresh.median()),
                    units::ns(h.refresh_ns_per_request),
                    units::ns(h.revocation_window_s * 1e9)
                );
            }
        }
    }

    /// Added costs recorded as 0 because their spread reaches zero; end-to-end figures that
    /// disagree with the in-process ones beyond the strategy's window.
    fn checks(&self, _run: &Run) -> Vec<Check> {
        let disagree = self.end_to_end.iter().filter_map(|e| {
            disagreement(self, e).map(|gap| {
                Check::warning(format!(
                    "revoke {} end to end ({} nodes, RTT {}): p99 {} lies {} from the in-process \
                     p99, more than the {} allowed",
                    e.strategy,
                    e.nodes,
                    units::window_ms(e.rtt_ms),
                    units::ns(e.latency.p99_ns),
                    units::ns(gap),
                    units::ns(allowed_gap_ns(e))
                ))
            })
        });
        let hybrid = self.hybrid.iter().flat_map(|h| {
            let two = h
                .race
                .iter()
                .filter(|r| r.two_successors > 0)
                .map(move |r| {
                    Check::warning(format!(
                        "{}: {} of {} refresh races (grace {}, retry after {}) left two live \
                     successors",
                        h.scheme,
                        r.two_successors,
                        r.trials,
                        units::window_ms(r.grace_ms),
                        units::window_ms(r.retry_after_ms)
                    ))
                });
            let alive = (h.family_revocation_refused < h.family_revocation_trials).then(|| {
                Check::warning(format!(
                    "{}: a refresh after logout succeeded in {} of {} trials",
                    h.scheme,
                    h.family_revocation_trials - h.family_revocation_refused,
                    h.family_revocation_trials
                ))
            });
            two.chain(alive)
        });
        let failed = self.end_to_end.iter().filter(|e| e.failed > 0).map(|e| {
            Check::warning(format!(
                "revoke {} end to end ({} nodes, RTT {}): {} of {} trials failed",
                e.strategy,
                e.nodes,
                units::window_ms(e.rtt_ms),
                e.failed,
                e.trials
            ))
        });
        let zero = self.strategies.iter().filter_map(|s| match s.added() {
            AddedCost::Unmeasurable { within } => Some(Check::note(format!(
                "revoke {}: no measurable cost per request (within ±{} of {}), recorded as 0",
                s.strategy,
                units::ns(within),
                s.strategy.baseline()
            ))),
            _ => None,
        });
        disagree.chain(failed).chain(zero).chain(hybrid).collect()
    }

    fn wide_spreads(&self, _run: &Run) -> Vec<String> {
        self.strategies
            .iter()
            .filter_map(|s| {
                let sp = s.validate_cost.spread()?;
                (sp.width() > WIDE_SPREAD).then(|| {
                    format!(
                        "revoke {} validate cost ({}–{}, ×{:.2})",
                        s.strategy,
                        units::ns(sp.lo),
                        units::ns(sp.hi),
                        sp.width()
                    )
                })
            })
            .collect()
    }
}

/// End to end and in process may differ by the strategy's window plus this much, ms: the
/// probes' HTTP requests and their polling over the nodes.
pub const E2E_SLACK_MS: f64 = 25.0;
/// ...plus this many added round trips to the store (a probe's lookup, the logout's write).
pub const E2E_SLACK_RTTS: f64 = 4.0;

/// The in-process p99 beside an end-to-end result: the one the trial recorded, else the
/// in-process strategy of the same name in this file.
pub fn in_process_p99(r: &RevokeResults, e: &EndToEndResult) -> Option<f64> {
    e.in_process_p99_ns.or_else(|| {
        r.strategies
            .iter()
            .find(|s| s.strategy.name() == e.strategy && s.latency.samples > 0)
            .map(|s| s.latency.p99_ns)
    })
}

/// How far end to end and in process may lie apart for `e`, ns.
pub fn allowed_gap_ns(e: &EndToEndResult) -> f64 {
    (e.window_ms.unwrap_or(0.0) + E2E_SLACK_MS + E2E_SLACK_RTTS * e.rtt_ms) * 1e6
}

/// `Some(gap)` when the end-to-end p99 and the in-process p99 of `e` lie further apart
/// than [`allowed_gap_ns`].
pub fn disagreement(r: &RevokeResults, e: &EndToEndResult) -> Option<f64> {
    let inside = in_process_p99(r, e)?;
    let gap = (e.latency.p99_ns - inside).abs();
    (e.latency.samples > 0 && gap > allowed_gap_ns(e)).then_some(gap)
}

/// The end-to-end trials, beside the in-process figure of the same strategy.
fn end_to_end(r: &RevokeResults, doc: &mut Document) {
    if r.end_to_end.is_empty() {
        return;
    }
    doc.heading(3, "End to end over HTTP");
    doc.para(format!(
        "On sites of several `tokenbench serve` processes sharing one store through the latency \
         proxy: the time from the logout response of one node until every node answers 401 for \
         that credential, probed over HTTP; a trial fails when it does not converge within its \
         bound. Beside it, the same strategy's p99 in process (threads, no HTTP). Rule: the two \
         disagree when their p99s lie further apart than the strategy's window (cache lifetime, \
         polling period; 0 without) + {E2E_SLACK_MS} ms of probing + {E2E_SLACK_RTTS} × the \
         added round trip."
    ));
    doc.table(
        &[
            "Strategy",
            "Scheme",
            "Nodes",
            "RTT",
            "Store",
            "Window",
            "Trials",
            "Failed",
            "p50",
            "p99",
            "max",
            "In-process p99",
        ],
        r.end_to_end
            .iter()
            .map(|e| {
                let ok = e.latency.samples > 0;
                let lat = |x: f64| {
                    if ok { units::ns(x) } else { "—".to_owned() }
                };
                vec![
                    e.strategy.clone(),
                    e.scheme.to_string(),
                    e.nodes.to_string(),
                    units::window_ms(e.rtt_ms),
                    e.store.clone().unwrap_or_else(|| "none".into()),
                    e.window_ms
                        .map_or_else(|| "none".to_owned(), |w| units::ns(w * 1e6)),
                    e.trials.to_string(),
                    e.failed.to_string(),
                    lat(e.latency.median_ns),
                    lat(e.latency.p99_ns),
                    lat(e.latency.max_ns),
                    in_process_p99(r, e).map_or_else(|| "not run".into(), units::ns),
                ]
            })
            .collect(),
    );
    for e in &r.end_to_end {
        if let Some(gap) = disagreement(r, e) {
            doc.para(format!(
                "**Warning**: {} on {} node{} at RTT {}: end to end p99 {} and in process p99 {} \
                 lie {} apart, more than the {} its window allows.",
                e.strategy,
                e.nodes,
                if e.nodes == 1 { "" } else { "s" },
                units::window_ms(e.rtt_ms),
                units::ns(e.latency.p99_ns),
                in_process_p99(r, e).map_or_else(String::new, units::ns),
                units::ns(gap),
                units::ns(allowed_gap_ns(e))
            ));
        }
    }
}

/// The revoke workload's chart and tables.
fn section(r: &RevokeResults, charts: &[Rendered], doc: &mut Document) {
    strategies(r, charts, doc);
    hybrid(&r.hybrid, doc);
}

/// The hybrid schemes' refresh flow and race, when any ran.
fn hybrid(rows: &[HybridResult], doc: &mut Document) {
    let Some(first) = rows.first() else {
        return;
    };
    doc.heading(3, "The hybrid: access JWT and rotating refresh token");
    doc.para(format!(
        "Each request carries the access JWT (validated like a JWT, no store lookup); once per \
         access lifetime ({}) the client sends the refresh token, which the store rotates in one \
         atomic step and a new access token is signed. Its cost per request is amortised at {} \
         requests per second per user (a parameter, `--requests-per-user`): {:.4} refreshes and \
         store operations per request. Validate and refresh are measured in the same \
         interleaved rounds (median, smallest–largest round). After a logout the family is dead \
         at once on every node (the next refresh reads the same store), but without a denylist \
         the access token is accepted until its `exp`: the window is the access lifetime.",
        units::ns(first.access_lifetime_s * 1e9),
        first.requests_per_user_per_s,
        first.refreshes_per_request
    ));
    let spread = |m: &crate::measure::Measurement| match m.spread() {
        Some(s) => format!(
            "{} ({}–{})",
            units::ns(s.median),
            units::ns(s.lo),
            units::ns(s.hi)
        ),
        None => units::ns(m.median()),
    };
    doc.table(
        &[
            "Scheme",
            "Access token",
            "Refresh token",
            "validate (access)",
            "refresh",
            "refresh per request",
            "store ops per request",
            "access revocation",
            "window",
            "family dead after logout",
        ],
        rows.iter()
            .map(|h| {
                vec![
                    h.scheme.to_string(),
                    format!("{} B", h.access_token_bytes),
                    format!("{} B", h.refresh_token_bytes),
                    spread(&h.validate),
                    spread(&h.refresh),
                    units::ns(h.refresh_ns_per_request),
                    format!("{:.4}", h.store_ops_per_request),
                    h.access_revocation.clone(),
                    units::ns(h.revocation_window_s * 1e9),
                    format!(
                        "{} of {}{}",
                        h.family_revocation_refused,
                        h.family_revocation_trials,
                        h.family_revocation_latency
                            .as_ref()
                            .map(|l| format!(
                                " (p50 {}, p99 {} from logout to the refusal)",
                                units::ns(l.median_ns),
                                units::ns(l.p99_ns)
                            ))
                            .unwrap_or_default()
                    ),
                ]
            })
            .collect(),
    );
    doc.para(
        "The refresh race: a login, a refresh whose answer the client loses, and its retry of \
         the same refresh token after a delay (0: at the same moment from a second thread, as two \
         nodes; longer delays on the scheme's clock). A retry within the grace gets the same \
         successor; after it, reuse detection revokes the whole family. Two live successors \
         must never appear.",
    );
    doc.table(
        &[
            "Scheme",
            "Grace",
            "Retry after",
            "Trials",
            "Tripped reuse detection",
            "Same successor",
            "Two successors",
        ],
        rows.iter()
            .flat_map(|h| {
                h.race.iter().map(move |r| {
                    vec![
                        h.scheme.to_string(),
                        units::window_ms(r.grace_ms),
                        units::window_ms(r.retry_after_ms),
                        r.trials.to_string(),
                        r.tripped.to_string(),
                        r.same_successor.to_string(),
                        r.two_successors.to_string(),
                    ]
                })
            })
            .collect(),
    );
}

/// The strategies' table and chart, and the end-to-end trials.
fn strategies(r: &RevokeResults, charts: &[Rendered], doc: &mut Document) {
    if r.strategies.is_empty() {
        doc.para(
            "No strategy was run in process in this run (`revoke.json` holds only the http \
             workload's end-to-end trials).",
        );
        end_to_end(r, doc);
        return;
    }
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
                    units::ns(s.validate_cost.median()),
                    if s.strategy.baseline() == s.strategy {
                        "baseline".to_owned()
                    } else {
                        verdicts::revocation::added_text(s)
                    },
                ]
            })
            .collect(),
    );
    end_to_end(r, doc);
}
