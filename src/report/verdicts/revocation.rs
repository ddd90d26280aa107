//! Row 5, revocation: how long a revoked token is still accepted per strategy (session
//! central store and per-node cache, JWT expiry only and denylists), and what each
//! denylist adds per request.

use super::{Judgement, Row, Verdict};
use crate::report::Run;
use crate::results::schema::revoke::{
    AddedCost, EndToEndResult, RevokeResults, Strategy, StrategyResult,
};
use crate::scheme::spec::{Family, SchemeId};
use crate::units;

/// Row 5: expiry-only must keep a token alive at least this many times longer (median)
/// than the central session store's p99 for "hard to revoke" to hold.
pub const EXPIRY_FACTOR: f64 = 1000.0;
/// Row 5: a denylist counts as fast when its p99 is within this factor of the central
/// session store's p99...
pub const DENYLIST_FACTOR: f64 = 10.0;
/// ...and it adds at most this share to the JWT validate cost.
pub const DENYLIST_ADDED_SHARE: f64 = 0.25;

/// Row 5 of the table.
pub const ROW: Row = Row {
    number: 5,
    name: "Revocation",
    claim: "A JWT is hard to revoke before it expires; a session is revoked by deleting it.",
    rule,
    cell,
    judge: |run| judge(run.get::<RevokeResults>()),
};

/// The rule, in words, with the thresholds [`judge`] uses.
pub fn rule() -> String {
    format!(
        "confirmed if `jwt-expiry-only` keeps a revoked token accepted (median) ≥ {EXPIRY_FACTOR} × \
         the p99 latency of `session-central` and no JWT denylist strategy is fast (p99 ≤ \
         {DENYLIST_FACTOR} × session-central's, no failed trial, adding ≤ {} to the JWT validate \
         cost); nuanced if one is; contradicted if expiry-only is not that much slower. With \
         end-to-end trials over HTTP in `revoke.json`, a JWT denylist is fast when, at every \
         site size and RTT it ran, its end-to-end p99 ≤ {DENYLIST_FACTOR} × that of \
         `session-central` on the same site size and RTT with no failed trial (and, when run in \
         process, it adds ≤ {} to the JWT validate cost): the end-to-end figures decide, the \
         in-process ones are printed beside",
        units::percent(DENYLIST_ADDED_SHARE),
        units::percent(DENYLIST_ADDED_SHARE)
    )
}

/// The end-to-end `session-central` trial on the site of `e` (same nodes and RTT).
fn e2e_baseline<'a>(r: &'a RevokeResults, e: &EndToEndResult) -> Option<&'a EndToEndResult> {
    r.end_to_end.iter().find(|b| {
        b.strategy == Strategy::SessionCentral.name()
            && b.nodes == e.nodes
            && b.rtt_ms == e.rtt_ms
            && b.latency.samples > 0
    })
}

/// Whether an end-to-end trial set names a JWT denylist strategy.
fn is_jwt_denylist(e: &EndToEndResult) -> bool {
    e.strategy.starts_with("jwt-denylist")
}

/// The JWT denylists' end-to-end figures against `session-central` on the same site: for
/// each, whether it was fast at every site it ran, and the words.
fn e2e_denylists(r: &RevokeResults) -> Vec<(String, bool, Vec<String>)> {
    let mut out: Vec<(String, bool, Vec<String>)> = Vec::new();
    for e in r.end_to_end.iter().filter(|e| is_jwt_denylist(e)) {
        let base = e2e_baseline(r, e);
        let fast = e.failed == 0
            && e.latency.samples > 0
            && base.is_some_and(|b| e.latency.p99_ns <= DENYLIST_FACTOR * b.latency.p99_ns);
        let text = format!(
            "{} node{} RTT {}: p99 {}{}{}",
            e.nodes,
            if e.nodes == 1 { "" } else { "s" },
            units::window_ms(e.rtt_ms),
            if e.latency.samples > 0 {
                units::ns(e.latency.p99_ns)
            } else {
                "—".to_owned()
            },
            match base {
                Some(b) if e.latency.samples > 0 => format!(
                    " ({} session-central's {})",
                    units::ratio(e.latency.p99_ns / b.latency.p99_ns),
                    units::ns(b.latency.p99_ns)
                ),
                _ => " (no session-central on that site)".to_owned(),
            },
            if e.failed > 0 {
                format!(", {} of {} trials failed", e.failed, e.trials)
            } else {
                String::new()
            }
        );
        match out.iter_mut().find(|o| o.0 == e.strategy) {
            Some(o) => {
                o.1 &= fast;
                o.2.push(text);
            }
            None => out.push((e.strategy.clone(), fast, vec![text])),
        }
    }
    out
}

/// What `s` adds to every request, in words: never a negative figure ("saves" for a
/// saving, "no measurable cost (within ±x)" when its per-round spread reaches zero).
pub fn added_text(s: &StrategyResult) -> String {
    match s.added() {
        AddedCost::Baseline => "baseline".to_owned(),
        AddedCost::Costs {
            ns,
            spread: Some((lo, hi)),
        } => format!("+{} ({}–{})", units::ns(ns), units::ns(lo), units::ns(hi)),
        AddedCost::Costs { ns, spread: None } => format!("+{}", units::ns(ns)),
        AddedCost::Unmeasurable { within } => {
            format!("no measurable cost (within ±{})", units::ns(within))
        }
        AddedCost::Saves { ns } => format!("saves {}", units::ns(ns)),
    }
}

/// Revocation latency p99 of the strategies that delete server-side state (for a scheme
/// revocable by delete), or of the JWT strategies, and a denylist's added cost.
pub fn cell(run: &Run, scheme: SchemeId) -> Option<String> {
    let r = run.get::<RevokeResults>()?;
    let inside = cell_in_process(r, scheme);
    let e2e: Vec<String> = r
        .end_to_end
        .iter()
        .filter(|e| e.scheme == scheme && e.latency.samples > 0)
        .map(|e| {
            format!(
                "{} {} node{} RTT {} p99 {}",
                e.strategy,
                e.nodes,
                if e.nodes == 1 { "" } else { "s" },
                units::window_ms(e.rtt_ms),
                units::ns(e.latency.p99_ns)
            )
        })
        .collect();
    let e2e = (!e2e.is_empty()).then(|| format!("end to end: {}", e2e.join(", ")));
    match (inside, e2e) {
        (Some(a), Some(b)) => Some(format!("{a}; {b}")),
        (a, b) => a.or(b),
    }
}

/// The in-process part of [`cell`].
fn cell_in_process(r: &RevokeResults, scheme: SchemeId) -> Option<String> {
    let p99 = |strategy: Strategy| {
        r.strategy(strategy)
            .filter(|s| s.latency.samples > 0)
            .map(|s| units::ns(s.latency.p99_ns))
    };
    if scheme.capabilities().revocable_by_delete {
        let mut parts = Vec::new();
        if let Some(c) = p99(Strategy::SessionCentral) {
            parts.push(format!("central store p99 {c}"));
        }
        if let Some(c) = p99(Strategy::SessionCache) {
            parts.push(format!(
                "per-node cache p99 {c} (T {})",
                units::ns(r.cache_ttl_ms * 1e6)
            ));
        }
        return (!parts.is_empty()).then(|| parts.join("; "));
    }
    // A hybrid: its family dies at logout, its access token lives to its `exp`.
    if let Some(h) = r.hybrid.iter().find(|h| h.scheme == scheme) {
        return Some(format!(
            "logout deletes the family (refresh refused on another node in {} of {} trials); \
             the access token ({}) lives up to {}",
            h.family_revocation_refused,
            h.family_revocation_trials,
            h.access_revocation,
            units::ns(h.revocation_window_s * 1e9)
        ));
    }
    // The self-contained family's strategies ran on one scheme of it.
    let ran_on = match scheme.family() {
        Family::Paseto => r.paseto_purpose.map(SchemeId::Paseto),
        _ => Some(SchemeId::Jwt(r.jwt_alg)),
    };
    match ran_on {
        Some(on) if on != scheme => return Some(format!("strategies run on `{on}` only")),
        None => return Some("not measured".to_owned()),
        Some(_) => {}
    }
    let mine = |s: &&StrategyResult| s.family == scheme.family() && s.latency.samples > 0;
    let mut parts = Vec::new();
    if let Some(e) = r
        .strategies
        .iter()
        .filter(mine)
        .find(|s| s.strategy.is_expiry_only())
    {
        parts.push(format!(
            "no revocation: median {} ({} lifetime)",
            units::ns(e.latency.median_ns),
            units::ns(r.jwt_lifetime_s * 1e9)
        ));
    }
    for s in r
        .strategies
        .iter()
        .filter(mine)
        .filter(|s| s.strategy.is_denylist())
    {
        parts.push(format!(
            "{} p99 {}, per request {}",
            s.strategy
                .name()
                .trim_start_matches(&format!("{}-", scheme.family().name())),
            units::ns(s.latency.p99_ns),
            added_text(s)
        ));
    }
    (!parts.is_empty()).then(|| parts.join("; "))
}

/// The verdict, from `revoke.json`.
pub fn judge(revoke: Option<&RevokeResults>) -> Judgement {
    let Some(r) = revoke else {
        return Judgement::missing("revoke.json is not in this run");
    };
    let ran = |s: Strategy| r.strategy(s).filter(|s| s.latency.samples > 0);
    let (Some(central), Some(expiry)) =
        (ran(Strategy::SessionCentral), ran(Strategy::JwtExpiryOnly))
    else {
        return Judgement::missing(
            "revoke.json lacks a successful session-central or jwt-expiry-only strategy",
        );
    };
    let c99 = central.latency.p99_ns;
    let hard = expiry.latency.median_ns >= EXPIRY_FACTOR * c99;
    let jwt_cost = expiry.validate_cost.median();
    let mut fast = Vec::new();
    let mut notes = Vec::new();
    let mut borderline = Vec::new();
    // The article's claim is about JWTs: its JWT strategies decide (PASETO's are shown in
    // their own columns).
    let e2e = e2e_denylists(r);
    for s in r
        .strategies
        .iter()
        .filter(|s| s.strategy.is_denylist() && s.family == Family::Jwt)
    {
        if s.latency.samples == 0 {
            notes.push(format!("{}: no trial succeeded", s.strategy));
            continue;
        }
        let share = s.added_ns() / jwt_cost;
        if let (Some(lo), Some(hi)) = (s.added_cost_lo_ns, s.added_cost_hi_ns)
            && super::straddles(lo / jwt_cost, hi / jwt_cost, DENYLIST_ADDED_SHARE)
        {
            borderline.push(format!(
                "{} adds {} of the JWT validate (rounds {}–{}) against the threshold {}",
                s.strategy,
                units::percent(share),
                units::percent((lo / jwt_cost).max(0.0)),
                units::percent(hi / jwt_cost),
                units::percent(DENYLIST_ADDED_SHARE)
            ));
        }
        let is_fast = s.errors == 0
            && s.latency.p99_ns <= DENYLIST_FACTOR * c99
            && share <= DENYLIST_ADDED_SHARE;
        notes.push(format!(
            "{} p99 {} ({} session-central), per request {} ({}){}",
            s.strategy,
            units::ns(s.latency.p99_ns),
            units::ratio(s.latency.p99_ns / c99),
            added_text(s),
            units::percent(share),
            if s.errors > 0 {
                format!(", {} failed trials", s.errors)
            } else {
                String::new()
            }
        ));
        if is_fast && e2e.is_empty() {
            fast.push(s.strategy.name().to_owned());
        }
    }
    // End to end, when measured, decides which denylists are fast.
    let mut e2e_notes = Vec::new();
    for (name, e2e_fast, texts) in &e2e {
        let cheap = r
            .strategies
            .iter()
            .find(|s| s.strategy.name() == name)
            .is_none_or(|s| s.added_ns() / jwt_cost <= DENYLIST_ADDED_SHARE);
        if *e2e_fast && cheap {
            fast.push(name.clone());
        }
        e2e_notes.push(format!("{name} {}", texts.join(", ")));
    }
    let verdict = if !hard {
        Verdict::Contradicted
    } else if fast.is_empty() {
        Verdict::Confirmed
    } else {
        Verdict::Nuanced
    };
    let mut because = format!(
        "jwt-expiry-only median {} (lifetime {}, {} clock) vs session-central p99 {} ({})",
        units::ns(expiry.latency.median_ns),
        units::ns(r.jwt_lifetime_s * 1e9),
        expiry.clock,
        units::ns(c99),
        units::ratio(expiry.latency.median_ns / c99)
    );
    if !notes.is_empty() {
        because.push_str(&format!("; {}", notes.join("; ")));
    }
    if !e2e_notes.is_empty() {
        let central: Vec<String> = r
            .end_to_end
            .iter()
            .filter(|e| e.strategy == Strategy::SessionCentral.name() && e.latency.samples > 0)
            .map(|e| {
                format!(
                    "{} node{} RTT {} p99 {}",
                    e.nodes,
                    if e.nodes == 1 { "" } else { "s" },
                    units::window_ms(e.rtt_ms),
                    units::ns(e.latency.p99_ns)
                )
            })
            .collect();
        because.push_str(&format!(
            "; end to end over HTTP: session-central {}; {}",
            if central.is_empty() {
                "not run".to_owned()
            } else {
                central.join(", ")
            },
            e2e_notes.join("; ")
        ));
    }
    if !fast.is_empty() {
        because.push_str(&format!(
            "; fast denylists: {} (a shared lookup per request again)",
            fast.join(", ")
        ));
    }
    Judgement::new(verdict, because).borderline(borderline)
}
