//! Row 1, bandwidth usage: the `Cookie:` header each scheme sends per claim set, tokens
//! that carry their claims against sessions; with `http.json`, the bytes per request on the
//! socket, transport by transport and protocol by protocol (our load generator's hyper
//! client); with the wire rows of `browser.json` ([`WireRow`]), the header bytes per
//! request **per HTTP/2 client**, first request and repeated: HPACK lets a client send a
//! repeated header as an index, and whether it does for `cookie` and `authorization` is
//! the client's choice.

use super::{Judgement, Row, SELF_CONTAINED, Verdict, join, per_claim_set};
use crate::claims::ClaimSet;
use crate::report::Run;
use crate::results::schema::browser::BrowserResults;
use crate::results::schema::http::{HttpResults, HttpRow, Transport};
use crate::results::schema::size::SizeResults;
use crate::results::schema::wire::{RequestOrder, WireCell, WireHeader, WireProtocol, WireRow};
use crate::scheme::spec::SchemeId;
use crate::units;

/// Row 1 of the table.
pub const ROW: Row = Row {
    number: 1,
    name: "Bandwidth usage",
    claim: "A JWT is larger on the wire: it carries the claims and a signature, where a session token is a short reference.",
    rule,
    cell,
    judge: |run| {
        judge_with_wire(
            run.get::<SizeResults>(),
            run.get::<HttpResults>(),
            wire_rows(run),
        )
    },
};

/// The wire rows of the run (`browser.json`'s), when it has any (the bottom line reads
/// them through this one function too).
pub fn wire_rows(run: &Run) -> Option<&[WireRow]> {
    run.get::<BrowserResults>()
        .map(|b| b.wire.as_slice())
        .filter(|w| !w.is_empty())
}

/// The rule, in words.
pub fn rule() -> String {
    format!(
        "confirmed if, for every claim set, the `Cookie:` header of every {SELF_CONTAINED} token \
         (one that carries its claims, as a JWT does) is larger than every session's; \
         contradicted if, for every claim set, none is; nuanced otherwise. With `http.json`: per \
         transport and protocol, the bytes the client sends per request on the socket (the whole \
         flow, HTTP/2 header compression included) are compared the same way, and a confirmed \
         verdict becomes nuanced if on any of them some {SELF_CONTAINED} token sends no more than \
         some session (rows whose generator could not be ruled out are left out). With the wire \
         rows of `browser.json` (the header bytes the server received per `GET /me` on one HTTP/2 \
         connection, per client and header, {WIRE_CLAIMS} claims, or the one set measured): a \
         confirmed verdict becomes nuanced if for any client and header the repeated request of \
         some {SELF_CONTAINED} token is no larger than some session's (the client sent the token \
         as an HPACK index); the first and repeated figures are printed per client either way. \
         Without `size.json` and `http.json` the wire rows alone decide: confirmed if for every \
         client and header every {SELF_CONTAINED} token's first request is larger than every \
         session's and no repeated one is as cheap, contradicted if none is larger, nuanced \
         otherwise"
    )
}

/// The claim set the wire figures of the verdict and the bottom line are for, when measured.
pub const WIRE_CLAIMS: ClaimSet = ClaimSet::Typical;

/// The HTTP/2 wire cells the verdict reads: [`WIRE_CLAIMS`] when the rows have it, else
/// the one claim set the chart shows.
pub fn wire_cells(rows: &[WireRow]) -> Vec<WireCell> {
    crate::plot::wire::charted(rows)
}

/// Per client and header over HTTP/2: the first and the repeated bytes of every
/// {SELF_CONTAINED} token against every session's.
#[derive(Debug, Clone, PartialEq)]
pub struct WireComparison {
    /// The client.
    pub client: crate::results::schema::wire::WireClient,
    /// The header.
    pub header: WireHeader,
    /// Self-contained tokens, first request: lowest and highest.
    pub carrying_first: (u64, u64),
    /// Self-contained tokens, repeated requests ([`WireCell::bytes`]): lowest and highest.
    pub carrying_repeated: (u64, u64),
    /// Sessions, first request: lowest and highest.
    pub session_first: (u64, u64),
    /// Sessions, repeated requests: lowest and highest.
    pub session_repeated: (u64, u64),
}

impl WireComparison {
    /// True when some self-contained token's repeated request is no larger than some
    /// session's: the rule's nuance.
    pub fn repeated_as_cheap(&self) -> bool {
        self.carrying_repeated.0 <= self.session_repeated.1
    }

    /// `nghttp2 cookie: self-contained 429–612 B → 27–28 B, session 90 B → 27 B`.
    pub fn text(&self) -> String {
        let r = |(lo, hi): (u64, u64)| {
            if lo == hi {
                units::bytes(lo as f64)
            } else {
                format!("{lo}–{}", units::bytes(hi as f64))
            }
        };
        format!(
            "{} {}: {SELF_CONTAINED} {} → {}, session {} → {}",
            self.client,
            self.header,
            r(self.carrying_first),
            r(self.carrying_repeated),
            r(self.session_first),
            r(self.session_repeated)
        )
    }
}

/// The comparisons of the HTTP/2 wire rows, client by client, cookie before
/// authorization; a client and header without both kinds of token is left out.
pub fn wire_comparisons(rows: &[WireRow]) -> Vec<WireComparison> {
    let cells: Vec<WireCell> = wire_cells(rows)
        .into_iter()
        .filter(|c| c.protocol == WireProtocol::H2)
        .collect();
    let mut keys: Vec<_> = cells.iter().map(|c| (c.client, c.header)).collect();
    keys.dedup();
    keys.into_iter()
        .filter_map(|(client, header)| {
            let of = |carrying: bool, order: RequestOrder| -> Option<(u64, u64)> {
                let v: Vec<u64> = cells
                    .iter()
                    .filter(|c| c.client == client && c.header == header)
                    .filter(|c| {
                        let caps = c.token.capabilities();
                        if carrying {
                            caps.carries_claims
                        } else {
                            caps.store_lookup
                        }
                    })
                    .map(|c| c.bytes(order))
                    .collect();
                Some((*v.iter().min()?, *v.iter().max()?))
            };
            Some(WireComparison {
                client,
                header,
                carrying_first: of(true, RequestOrder::First)?,
                carrying_repeated: of(true, RequestOrder::Repeated)?,
                session_first: of(false, RequestOrder::First)?,
                session_repeated: of(false, RequestOrder::Repeated)?,
            })
        })
        .collect()
}

/// The verdict from `size.json`, `http.json` and the wire rows, each when the run has it:
/// without wire rows exactly [`judge_with_http`]'s.
pub fn judge_with_wire(
    size: Option<&SizeResults>,
    http: Option<&HttpResults>,
    wire: Option<&[WireRow]>,
) -> Judgement {
    let base = judge_with_http(size, http);
    let Some(rows) = wire else {
        return base;
    };
    let comparisons = wire_comparisons(rows);
    if comparisons.is_empty() {
        return base;
    }
    let set = crate::plot::wire::chart_claims(rows).unwrap_or(WIRE_CLAIMS);
    let because = format!(
        "header bytes per request over HTTP/2, first → repeated on one connection ({} claims): {}",
        set.name(),
        join(
            &comparisons
                .iter()
                .map(WireComparison::text)
                .collect::<Vec<_>>()
        )
    );
    let cheap: Vec<String> = comparisons
        .iter()
        .filter(|c| c.repeated_as_cheap())
        .map(|c| format!("{} {}", c.client, c.header))
        .collect();
    if base.verdict == Verdict::NotMeasured {
        // The wire rows alone decide.
        let all_larger = comparisons
            .iter()
            .all(|c| c.carrying_first.0 > c.session_first.1);
        let none_larger = comparisons
            .iter()
            .all(|c| c.carrying_first.1 <= c.session_first.0);
        let verdict = if all_larger && cheap.is_empty() {
            Verdict::Confirmed
        } else if none_larger {
            Verdict::Contradicted
        } else {
            Verdict::Nuanced
        };
        return Judgement::new(verdict, because);
    }
    let verdict = if base.verdict == Verdict::Confirmed && !cheap.is_empty() {
        Verdict::Nuanced
    } else {
        base.verdict
    };
    let tail = if cheap.is_empty() {
        String::new()
    } else {
        format!(
            " (a repeated {SELF_CONTAINED} token costs no more than a session for: {})",
            cheap.join(", ")
        )
    };
    Judgement::new(verdict, format!("{}; {because}{tail}", base.because))
}

/// `Cookie:` header bytes per claim set; with `http.json`, bytes per request on the socket
/// per protocol (cookie transport, else bearer).
pub fn cell(run: &Run, scheme: SchemeId) -> Option<String> {
    let header =
        per_claim_set(run, scheme, |r| r.cookie_header_bytes).map(|v| format!("`Cookie:` {v}"));
    let socket = run
        .get::<HttpResults>()
        .and_then(|h| socket_cell(h, scheme));
    let wire = wire_rows(run).and_then(|w| wire_cell(w, scheme));
    let parts: Vec<String> = [header, socket, wire].into_iter().flatten().collect();
    (!parts.is_empty()).then(|| parts.join("; "))
}

/// `h2 cookie, first → repeated: hyper 480 → 470 B, nghttp2 429 → 27 B` for one scheme
/// (cookie when measured, else authorization).
pub fn wire_cell(rows: &[WireRow], scheme: SchemeId) -> Option<String> {
    let cells: Vec<WireCell> = wire_cells(rows)
        .into_iter()
        .filter(|c| c.token == scheme)
        .collect();
    let header = WireHeader::ALL
        .into_iter()
        .find(|h| cells.iter().any(|c| c.header == *h))?;
    let parts: Vec<String> = cells
        .iter()
        .filter(|c| c.header == header)
        .map(|c| {
            format!(
                "{} {} → {}",
                c.client,
                c.bytes(RequestOrder::First),
                units::bytes(c.bytes(RequestOrder::Repeated) as f64)
            )
        })
        .collect();
    Some(format!(
        "h2 {header}, first → repeated: {}",
        parts.join(", ")
    ))
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
