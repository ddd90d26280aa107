//! Row 1, bandwidth usage: the `Cookie:` header each scheme sends per claim set, tokens
//! that carry their claims against sessions; with `http.json`, the bytes per request on the
//! socket, transport by transport and protocol by protocol.

use super::{Judgement, Row, SELF_CONTAINED, Verdict, join, per_claim_set};
use crate::claims::ClaimSet;
use crate::report::Run;
use crate::results::schema::http::{HttpResults, HttpRow, Transport};
use crate::results::schema::size::SizeResults;
use crate::scheme::spec::SchemeId;
use crate::units;

/// Row 1 of the table.
pub const ROW: Row = Row {
    number: 1,
    name: "Bandwidth usage",
    claim: "A JWT is larger on the wire: it carries the claims and a signature, where a session token is a short reference.",
    rule,
    cell,
    judge: |run| judge_with_http(run.get::<SizeResults>(), run.get::<HttpResults>()),
};

/// The rule, in words.
pub fn rule() -> String {
    format!(
        "confirmed if, for every claim set, the `Cookie:` header of every {SELF_CONTAINED} token \
         (one that carries its claims, as a JWT does) is larger than every session's; \
         contradicted if, for every claim set, none is; nuanced otherwise. With `http.json`: per \
         transport and protocol, the bytes the client sends per request on the socket (the whole \
         flow, HTTP/2 header compression included) are compared the same way, and a confirmed \
         verdict becomes nuanced if on any of them some {SELF_CONTAINED} token sends no more than \
         some session (rows whose generator could not be ruled out are left out)"
    )
}

/// `Cookie:` header bytes per claim set; with `http.json`, bytes per request on the socket
/// per protocol (cookie transport, else bearer).
pub fn cell(run: &Run, scheme: SchemeId) -> Option<String> {
    let header =
        per_claim_set(run, scheme, |r| r.cookie_header_bytes).map(|v| format!("`Cookie:` {v}"));
    let socket = run
        .get::<HttpResults>()
        .and_then(|h| socket_cell(h, scheme));
    match (header, socket) {
        (Some(a), Some(b)) => Some(format!("{a}; {b}")),
        (a, b) => a.or(b),
    }
}

/// Rows whose bytes count: the common-rate step answered requests, and the generator was
/// ruled out (a row that cannot tell is left out of every verdict).
fn measured(r: &HttpRow) -> bool {
    r.generator_ruled_out() && r.common.step.ok > 0 && r.common.step.bytes_sent_per_request > 0.0
}

/// `socket, cookie: http1.1 114 / 285 B, h2c 54 / 145 B per request (in / out)`.
fn socket_cell(h: &HttpResults, scheme: SchemeId) -> Option<String> {
    let of = |t: Transport| -> Vec<&HttpRow> {
        h.rows
            .iter()
            .filter(|r| r.scheme == scheme && r.transport == t && measured(r))
            .collect()
    };
    let (transport, rows) = Transport::ALL
        .into_iter()
        .map(|t| (t, of(t)))
        .find(|(_, rows)| !rows.is_empty())?;
    let parts: Vec<String> = rows
        .iter()
        .map(|r| {
            format!(
                "{} {} / {}",
                r.protocol.name(),
                r.common.step.bytes_sent_per_request.round(),
                units::bytes(r.common.step.bytes_received_per_request.round())
            )
        })
        .collect();
    Some(format!(
        "socket, {transport}: {} per request (in / out)",
        parts.join(", ")
    ))
}

/// The verdict, from `size.json` alone.
pub fn judge(size: Option<&SizeResults>) -> Judgement {
    judge_with_http(size, None)
}

/// The verdict, from `size.json` and, when the run has it, `http.json`: without `http.json`
/// exactly [`judge`]'s.
pub fn judge_with_http(size: Option<&SizeResults>, http: Option<&HttpResults>) -> Judgement {
    let header = judge_header(size);
    let Some(h) = http else {
        return header;
    };
    let Some((all_larger, because)) = socket_bytes(h) else {
        return header;
    };
    let verdict = if header.verdict == Verdict::Confirmed && !all_larger {
        Verdict::Nuanced
    } else {
        header.verdict
    };
    Judgement::new(verdict, format!("{}; {because}", header.because))
}

/// Per transport and protocol, bytes sent per request by tokens that carry their claims
/// against sessions: whether every such token sent more than every session everywhere, and
/// the figures; `None` when no transport and protocol has both.
fn socket_bytes(h: &HttpResults) -> Option<(bool, String)> {
    let mut keys: Vec<(Transport, &'static str)> = Vec::new();
    for r in h.rows.iter().filter(|r| measured(r)) {
        let k = (r.transport, r.protocol.name());
        if !keys.contains(&k) {
            keys.push(k);
        }
    }
    let (mut all_larger, mut parts) = (true, Vec::new());
    for (t, p) in keys {
        let of = |carrying: bool| -> Vec<f64> {
            h.rows
                .iter()
                .filter(|r| measured(r) && r.transport == t && r.protocol.name() == p)
                .filter(|r| {
                    if carrying {
                        r.scheme.capabilities().carries_claims
                    } else {
                        r.scheme.capabilities().store_lookup
                    }
                })
                .map(|r| r.common.step.bytes_sent_per_request.round())
                .collect()
        };
        let (carrying, sessions) = (of(true), of(false));
        if carrying.is_empty() || sessions.is_empty() {
            continue;
        }
        let j_min = carrying.iter().copied().fold(f64::INFINITY, f64::min);
        let j_max = carrying.iter().copied().fold(0.0, f64::max);
        let s_max = sessions.iter().copied().fold(0.0, f64::max);
        all_larger &= j_min > s_max;
        parts.push(format!(
            "{t} {p}: {SELF_CONTAINED} {}–{} vs session {}",
            units::bytes(j_min),
            units::bytes(j_max),
            units::bytes(s_max)
        ));
    }
    (!parts.is_empty()).then(|| {
        (
            all_larger,
            format!("bytes sent per request on the socket, {}", join(&parts)),
        )
    })
}

/// The verdict of the `Cookie:` header bytes, from `size.json`.
fn judge_header(size: Option<&SizeResults>) -> Judgement {
    let Some(s) = size else {
        return Judgement::missing("size.json is not in this run");
    };
    let (mut compared, mut all_larger, mut none_larger) = (0, true, true);
    let mut parts = Vec::new();
    for set in ClaimSet::ALL {
        let of = |carrying: bool| {
            s.rows
                .iter()
                .filter(move |r| {
                    r.claims == set && r.scheme.capabilities().carries_claims == carrying
                })
                .filter(move |r| carrying || r.scheme.capabilities().store_lookup)
                .map(|r| r.cookie_header_bytes)
        };
        let (Some(j_min), Some(j_max)) = (of(true).min(), of(true).max()) else {
            continue;
        };
        let (Some(s_min), Some(s_max)) = (of(false).min(), of(false).max()) else {
            continue;
        };
        compared += 1;
        all_larger &= j_min > s_max;
        none_larger &= j_max <= s_min;
        parts.push(format!(
            "{}: {SELF_CONTAINED} {}–{} vs session {} ({} to {})",
            set.name(),
            units::bytes(j_min as f64),
            units::bytes(j_max as f64),
            units::bytes(s_max as f64),
            units::ratio(j_min as f64 / s_max.max(1) as f64),
            units::ratio(j_max as f64 / s_max.max(1) as f64),
        ));
    }
    if compared == 0 {
        return Judgement::missing(format!(
            "size.json lacks sessions or {SELF_CONTAINED} tokens for a common claim set"
        ));
    }
    let verdict = if all_larger {
        Verdict::Confirmed
    } else if none_larger {
        Verdict::Contradicted
    } else {
        Verdict::Nuanced
    };
    Judgement::new(verdict, format!("`Cookie:` header bytes, {}", join(&parts)))
}
