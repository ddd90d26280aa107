//! "Revoke": how long a revoked token lives on per strategy, and what each strategy adds
//! per request against its family's baseline.

use std::fmt::Write as _;

use super::chart;
use crate::plot::{self, Figure, Rendered};
use crate::report::checks::{Check, WIDE_SPREAD};
use crate::report::document::Document;
use crate::report::verdicts;
use crate::report::{Run, WorkloadReport};
use crate::results::schema::revoke::{AddedCost, RevokeResults};
use crate::units;

impl WorkloadReport for RevokeResults {
    const HEADING: &'static str = "Revoke: how long a revoked token lives on";
    /// Revocation, and expiry (the lifetime a token carries).
    const ROWS: &'static [usize] = &[5, 6];
    const TOUCHED: &'static str = "the revocation latencies and added costs (row 5)";

    fn figures(&self) -> Vec<Figure> {
        plot::revoke::latency(self).into_iter().collect()
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
    }

    /// Added costs recorded as 0 because their spread reaches zero.
    fn checks(&self, _run: &Run) -> Vec<Check> {
        self.strategies
            .iter()
            .filter_map(|s| match s.added() {
                AddedCost::Unmeasurable { within } => Some(Check::note(format!(
                    "revoke {}: no measurable cost per request (within ±{} of {}), recorded as 0",
                    s.strategy,
                    units::ns(within),
                    s.strategy.baseline()
                ))),
                _ => None,
            })
            .collect()
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

/// The revoke workload's chart and table.
fn section(r: &RevokeResults, charts: &[Rendered], doc: &mut Document) {
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
}
