//! "Revoke": how long a revoked token lives on per strategy, and what each strategy adds
//! per request against its family's baseline.

use super::{chart, workload};
use crate::plot::Rendered;
use crate::report::Run;
use crate::report::document::Document;
use crate::report::verdicts;
use crate::results::schema::revoke::Strategy;
use crate::units;

/// The revoke strategies the others' added cost is measured against.
const BASELINES: [Strategy; 2] = [Strategy::SessionCentral, Strategy::JwtExpiryOnly];

/// The revoke workload's chart and table, or a line saying it was not measured.
pub(super) fn section(doc: &mut Document, run: &Run, charts: &[Rendered]) {
    let Some(r) = workload(
        doc,
        "Revoke: how long a revoked token lives on",
        &run.revoke,
    ) else {
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
                    units::ns(s.validate_cost.median()),
                    if BASELINES.contains(&s.strategy) {
                        "baseline".to_owned()
                    } else {
                        verdicts::revocation::added_text(s)
                    },
                ]
            })
            .collect(),
    );
}
