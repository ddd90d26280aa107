//! Row 3, scalability: the scaling ratio S (ops/s at the most threads ÷ at the fewest) per
//! line of the scale workload, and the server memory each family keeps per session; and,
//! when the run has `http.json`, each scheme's HTTP max rate at the p99 objective, shown as
//! evidence beside the verdict.

use super::{Judgement, Row, SELF_CONTAINED, Verdict, main_backend};
use crate::report::Run;
use crate::results::schema::http::{HttpResults, HttpRow, NodeRow, Transport};
use crate::results::schema::scale::{ScaleResults, Scaling};
use crate::results::schema::size::{Entry, SizeResults};
use crate::scheme::spec::SchemeId;
use crate::units;

/// Row 3: one family scales worse when its best scaling ratio is below this share of the
/// other family's worst.
pub const MARGIN: f64 = 0.8;

/// Row 3 of the table.
pub const ROW: Row = Row {
    number: 3,
    name: "Scalability",
    claim: "JWTs suit stateless, distributed systems; sessions need a central store, which holds scaling back.",
    rule,
    cell,
    judge: |run| {
        judge_with_http(
            run.get::<ScaleResults>(),
            run.get::<SizeResults>(),
            run.get::<HttpResults>(),
        )
    },
};

/// The rule, in words, with the thresholds [`judge`] uses.
pub fn rule() -> String {
    format!(
        "S = ops/s at the most threads up to the machine's C cores ÷ ops/s at the fewest, per \
         scheme, backend and working set: a machine with C cores can show scaling up to C \
         threads, and threads beyond C measure run-queue wait (queueing), so they enter S only \
         when no thread count between the fewest and C was measured, and the reason says so. \
         Confirmed if every session S < {MARGIN} × the lowest {SELF_CONTAINED} S (a token that \
         carries its claims, as a JWT does) and, when server memory was measured, sessions keep \
         bytes per session while {SELF_CONTAINED} tokens keep none per token; contradicted if \
         every {SELF_CONTAINED} S < {MARGIN} × the lowest session S, or if the server keeps as \
         many bytes per {SELF_CONTAINED} token issued as per session; nuanced otherwise. With `http.json`, each scheme's HTTP max rate \
         at the p99 objective is printed as evidence of one server's capacity and does not enter \
         the verdict (one process on one machine shows the cost per request, not how a central \
         store scales out). With sites of several nodes in `http.json` (a site whose generator \
         could not be ruled out left out), the central store: each session site needs rate × \
         store CPU per operation × operations per request of central store CPU, so its store \
         fills one core at the headroom rate 1 s ÷ (CPU per operation × operations per \
         request); the store part is confirmed if every session site has store work per \
         request and every {SELF_CONTAINED} site none, contradicted if some {SELF_CONTAINED} site \
         needs at least the store work per request of the lightest session site, nuanced \
         otherwise. Requests/s as nodes grow, G = max rate at the most nodes ÷ at the fewest \
         (same scheme, transport, protocol, RTT), enters only where no layout was \
         oversubscribed (nodes sharing cores add no capacity): confirmed if every session G < \
         {MARGIN} × the lowest {SELF_CONTAINED} G, contradicted the other way round, nuanced \
         otherwise. The row is the verdict of the parts measured when they agree, nuanced \
         otherwise"
    )
}

/// The networked parts of row 3 from the sites of `http.json`: the store part's verdict
/// and words, and the node-growth part's when it may enter; `None` without sites that
/// name a store reading.
pub fn networked(h: &HttpResults) -> Option<(Vec<Verdict>, String)> {
    let sites: Vec<&NodeRow> = super::cpu::judged_sites(h).collect();
    let sessions: Vec<&NodeRow> = sites
        .iter()
        .copied()
        .filter(|n| n.scheme.capabilities().store_lookup)
        .collect();
    let carrying: Vec<&NodeRow> = sites
        .iter()
        .copied()
        .filter(|n| n.scheme.capabilities().carries_claims)
        .collect();
    let ops = |n: &NodeRow| n.store_load.as_ref().map_or(0.0, |s| s.ops_per_request);
    if sessions.is_empty() || !sessions.iter().any(|n| n.store_load.is_some()) {
        return None;
    }
    let mut verdicts = Vec::new();
    let mut words = Vec::new();
    // The store part.
    let read: Vec<&NodeRow> = sessions
        .iter()
        .copied()
        .filter(|n| n.store_load.is_some())
        .collect();
    let lightest = read.iter().map(|n| ops(n)).fold(f64::INFINITY, f64::min);
    let all_need = read.len() == sessions.len() && lightest > 0.0;
    let carrying_max = carrying.iter().map(|n| ops(n)).fold(0.0, f64::max);
    let store_verdict = if !carrying.is_empty() && carrying_max >= lightest {
        Verdict::Contradicted
    } else if all_need && !carrying.is_empty() && carrying_max == 0.0 {
        Verdict::Confirmed
    } else {
        Verdict::Nuanced
    };
    verdicts.push(store_verdict);
    let mut headrooms: Vec<String> = Vec::new();
    for n in &read {
        if headrooms
            .iter()
            .any(|h| h.starts_with(&format!("{} ", n.scheme)))
        {
            continue;
        }
        let rates: Vec<f64> = read
            .iter()
            .filter(|m| m.scheme == n.scheme)
            .filter_map(|m| m.store_load.as_ref().map(|s| s.headroom_rate))
            .collect();
        let per: Vec<f64> = read
            .iter()
            .filter(|m| m.scheme == n.scheme)
            .filter_map(|m| m.store_cpu_per_request_ns())
            .collect();
        let (r_lo, r_hi) = range(&rates);
        let (c_lo, c_hi) = range(&per);
        let span = |lo: f64, hi: f64, f: fn(f64) -> String| {
            if lo == hi {
                f(lo)
            } else {
                format!("{}–{}", f(lo), f(hi))
            }
        };
        headrooms.push(format!(
            "{} store CPU {} per request, headroom {} req/s per store core ({} site{})",
            n.scheme,
            span(c_lo, c_hi, units::ns),
            span(r_lo, r_hi, units::count),
            rates.len(),
            if rates.len() == 1 { "" } else { "s" }
        ));
    }
    words.push(format!(
        "central store ({}): sessions {}; {SELF_CONTAINED} sites {}",
        store_verdict.label(),
        headrooms.join(", "),
        if carrying.is_empty() {
            "not run".to_owned()
        } else if carrying_max == 0.0 {
            "need no store work".to_owned()
        } else {
            format!("up to {carrying_max:.2} store ops/request")
        }
    ));
    // Requests/s as nodes grow.
    let mut growth: Vec<(bool, f64, String, bool)> = Vec::new();
    for n in &sites {
        let same = |m: &&&NodeRow| {
            (m.scheme, m.transport, m.protocol, m.rtt_ms)
                == (n.scheme, n.transport, n.protocol, n.rtt_ms)
        };
        let group: Vec<&&NodeRow> = sites.iter().filter(same).collect();
        let fewest = group.iter().min_by_key(|m| m.nodes).copied();
        let most = group.iter().max_by_key(|m| m.nodes).copied();
        let (Some(lo), Some(hi)) = (fewest, most) else {
            continue;
        };
        if lo.nodes == hi.nodes || !std::ptr::eq(*n, *hi) {
            continue;
        }
        let (Some(a), Some(b)) = (lo.max_rate, hi.max_rate) else {
            continue;
        };
        let shared = group.iter().any(|m| m.shares_cores());
        growth.push((
            n.scheme.capabilities().carries_claims,
            b / a,
            format!(
                "{} RTT {} {}→{} nodes G {}{}",
                n.scheme,
                n.rtt(),
                lo.nodes,
                hi.nodes,
                units::ratio(b / a),
                if shared { " (oversubscribed)" } else { "" }
            ),
            shared,
        ));
    }
    if !growth.is_empty() {
        let enters = growth.iter().all(|g| !g.3);
        let of =
            |c: bool| -> Vec<f64> { growth.iter().filter(|g| g.0 == c).map(|g| g.1).collect() };
        let (gs, gj) = (of(false), of(true));
        let mut text = format!(
            "requests/s as nodes grow: {}",
            growth
                .iter()
                .map(|g| g.2.clone())
                .collect::<Vec<_>>()
                .join(", ")
        );
        if enters && !gs.is_empty() && !gj.is_empty() {
            let (s_lo, s_hi) = range(&gs);
            let (j_lo, j_hi) = range(&gj);
            let v = if s_hi < MARGIN * j_lo {
                Verdict::Confirmed
            } else if j_hi < MARGIN * s_lo {
                Verdict::Contradicted
            } else {
                Verdict::Nuanced
            };
            verdicts.push(v);
            text.push_str(&format!(" ({})", v.label()));
        } else {
            text.push_str(
                " (evidence only: nodes shared cores, or one family lacks a second node count)",
            );
        }
        words.push(text);
    }
    if let Some(c) = super::cpu::cannot_tell(h) {
        words.push(c);
    }
    Some((verdicts, words.join("; ")))
}

/// S per working set, and server bytes per session or issued token.
pub fn cell(run: &Run, scheme: SchemeId) -> Option<String> {
    let mut parts = Vec::new();
    if let Some((_, _, lines)) = run.get::<ScaleResults>().and_then(ScaleResults::scaling) {
        let mine: Vec<_> = lines
            .iter()
            .filter(|l| {
                l.scheme == scheme && (l.backend.is_none() || l.backend == main_backend(run))
            })
            .collect();
        let mine = if mine.is_empty() {
            lines
                .iter()
                .filter(|l| l.scheme == scheme)
                .take(1)
                .collect()
        } else {
            mine
        };
        let s: Vec<String> = mine
            .iter()
            .map(|l| match l.sessions {
                Some(n) => format!(
                    "{} ({})",
                    units::ratio(l.ratio()),
                    units::count_tick(n as f64)
                ),
                None => units::ratio(l.ratio()),
            })
            .collect();
        if !s.is_empty() {
            parts.push(format!("S {}", s.join(", ")));
        }
    }
    if let Some(m) = run
        .get::<SizeResults>()
        .and_then(|s| s.memory.iter().find(|m| m.scheme == scheme.to_string()))
    {
        let per = match m.entry {
            Entry::Session => "session",
            Entry::RefreshFamily => "refresh family",
            Entry::IssuedJwt | Entry::DenylistEntry => "issued token",
        };
        parts.push(format!(
            "{} per {per}",
            units::bytes(m.bytes_per_entry.round())
        ));
    }
    if let Some(h) = run.get::<HttpResults>().and_then(|h| http_cell(h, scheme)) {
        parts.push(h);
    }
    if let Some(h) = run.get::<HttpResults>().and_then(|h| store_cell(h, scheme)) {
        parts.push(h);
    }
    (!parts.is_empty()).then(|| parts.join("; "))
}

/// `HTTP max http1.1 6.0 k / 8.0 k, h2c 7.0 k / 8.0 k req/s (cookie / bearer)`: the max rate
/// per protocol, one figure per transport measured.
fn http_cell(h: &HttpResults, scheme: SchemeId) -> Option<String> {
    let mine: Vec<&HttpRow> = h
        .rows
        .iter()
        .filter(|r| r.scheme == scheme && r.generator_ruled_out())
        .collect();
    let transports: Vec<Transport> = Transport::ALL
        .into_iter()
        .filter(|t| mine.iter().any(|r| r.transport == *t))
        .collect();
    let mut protocols: Vec<&'static str> = Vec::new();
    for r in &mine {
        if !protocols.contains(&r.protocol.name()) {
            protocols.push(r.protocol.name());
        }
    }
    if protocols.is_empty() {
        return None;
    }
    let parts: Vec<String> = protocols
        .iter()
        .map(|p| {
            let rates: Vec<String> = transports
                .iter()
                .map(|t| {
                    mine.iter()
                        .find(|r| r.protocol.name() == *p && r.transport == *t)
                        .and_then(|r| r.max_rate)
                        .map_or_else(|| "none".to_owned(), units::count)
                })
                .collect();
            format!("{p} {}", rates.join(" / "))
        })
        .collect();
    let names: Vec<&str> = transports.iter().map(|t| t.name()).collect();
    Some(format!(
        "HTTP max {} req/s ({})",
        parts.join(", "),
        names.join(" / ")
    ))
}

/// `store headroom 50.0 k req/s (RTT 0ms, 1 node)`, or `no store work` for a scheme whose
/// sites did none; the sites' max rate by node count.
fn store_cell(h: &HttpResults, scheme: SchemeId) -> Option<String> {
    let mine: Vec<&NodeRow> = super::cpu::judged_sites(h)
        .filter(|n| n.scheme == scheme)
        .collect();
    let first = mine.first()?;
    let mut parts = Vec::new();
    match mine
        .iter()
        .find_map(|n| n.store_load.as_ref().map(|s| (n, s)))
    {
        Some((n, s)) if s.ops_per_request > 0.0 => parts.push(format!(
            "store headroom {} req/s per store core (RTT {}, {} node{})",
            units::count(s.headroom_rate),
            n.rtt(),
            n.nodes,
            if n.nodes == 1 { "" } else { "s" }
        )),
        _ => parts.push("no store work per request".to_owned()),
    }
    let rates: Vec<String> = mine
        .iter()
        .filter(|n| n.rtt_ms == first.rtt_ms && n.protocol == first.protocol)
        .filter(|n| n.transport == first.transport)
        .map(|n| {
            format!(
                "{} node{} {}",
                n.nodes,
                if n.nodes == 1 { "" } else { "s" },
                n.max_rate.map_or_else(|| "none".into(), units::count)
            )
        })
        .collect();
    parts.push(format!(
        "sites at RTT {}: {} req/s",
        first.rtt(),
        rates.join(", ")
    ));
    Some(parts.join("; "))
}

/// The highest and lowest HTTP max rate of each family, as evidence: `None` without rows
/// that found one.
fn http_evidence(h: &HttpResults) -> Option<String> {
    let of = |carrying: bool| -> Vec<f64> {
        h.rows
            .iter()
            .filter(|r| r.generator_ruled_out())
            .filter(|r| {
                if carrying {
                    r.scheme.capabilities().carries_claims
                } else {
                    r.scheme.capabilities().store_lookup
                }
            })
            .filter_map(|r| r.max_rate)
            .collect()
    };
    let (sessions, carrying) = (of(false), of(true));
    if sessions.is_empty() && carrying.is_empty() {
        return None;
    }
    let span = |v: &[f64]| {
        if v.is_empty() {
            "none found".to_owned()
        } else {
            let (lo, hi) = range(v);
            format!("{}–{} req/s", units::count(lo), units::count(hi))
        }
    };
    let objective = h
        .search_params()
        .map(|p| format!(" (p99 ≤ {})", units::ns(p.p99_objective.as_nanos() as f64)))
        .unwrap_or_default();
    Some(format!(
        "HTTP max rate{objective}, one server process on {} cores, evidence only: sessions {}, \
         {SELF_CONTAINED} {}",
        h.cores,
        span(&sessions),
        span(&carrying)
    ))
}

fn range(values: &[f64]) -> (f64, f64) {
    values
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| {
            (a.min(x), b.max(x))
        })
}

/// The verdict, from `scale.json` and the memory rows of `size.json`, with the HTTP max
/// rates of `http.json` added to what is printed (never to the verdict); without
/// `http.json` exactly [`judge`]'s.
pub fn judge_with_http(
    scale: Option<&ScaleResults>,
    size: Option<&SizeResults>,
    http: Option<&HttpResults>,
) -> Judgement {
    let j = judge(scale, size);
    let j = match http.and_then(http_evidence) {
        Some(e) => Judgement::new(j.verdict, format!("{}; {e}", j.because)),
        None => j,
    };
    let Some((mut verdicts, words)) = http.and_then(networked) else {
        return j;
    };
    if j.verdict != Verdict::NotMeasured {
        verdicts.push(j.verdict);
    }
    let verdict = if verdicts.iter().all(|v| *v == verdicts[0]) {
        verdicts[0]
    } else {
        Verdict::Nuanced
    };
    Judgement::new(
        verdict,
        if j.verdict == Verdict::NotMeasured {
            format!("{words}; in process: {}", j.because)
        } else {
            format!("{}; over the network: {words}", j.because)
        },
    )
}

/// The verdict, from `scale.json` and the memory rows of `size.json`.
pub fn judge(scale: Option<&ScaleResults>, size: Option<&SizeResults>) -> Judgement {
    let Some(s) = scale else {
        return Judgement::missing("scale.json is not in this run");
    };
    let Some((lo, hi, lines)) = s.scaling() else {
        return Judgement::missing("scale.json has a single thread count: no scaling to compare");
    };
    let ratios = |carrying: bool| -> Vec<f64> {
        lines
            .iter()
            .filter(|l| {
                if carrying {
                    l.scheme.capabilities().carries_claims
                } else {
                    l.scheme.capabilities().store_lookup
                }
            })
            .map(Scaling::ratio)
            .collect()
    };
    let (sessions, carrying) = (ratios(false), ratios(true));
    if sessions.is_empty() || carrying.is_empty() {
        return Judgement::missing(format!(
            "scale.json lacks sessions or {SELF_CONTAINED} tokens at both thread counts"
        ));
    }
    let (s_min, s_max) = range(&sessions);
    let (j_min, j_max) = range(&carrying);
    let mut because = format!(
        "S from {lo} to {hi} threads on {} cores: sessions {}–{}, {SELF_CONTAINED} {}–{}",
        s.cores,
        units::ratio(s_min),
        units::ratio(s_max),
        units::ratio(j_min),
        units::ratio(j_max)
    );
    let top = s.points.iter().map(|p| p.threads).max().unwrap_or(hi);
    if hi > s.cores {
        because.push_str(&format!(
            "; no thread count between {lo} and the {} cores was measured, so S includes \
             run-queue wait at {hi} threads",
            s.cores
        ));
    } else if top > s.cores {
        because.push_str(&format!(
            "; points above {} threads (up to {top}) measure run-queue wait on {} cores, not \
             scaling, and are left out of S",
            s.cores, s.cores
        ));
    }
    // Server state, from the size workload's memory rows when measured.
    let memory = size.map(|z| z.memory.as_slice()).unwrap_or_default();
    let per = |entry: Entry| -> Vec<f64> {
        memory
            .iter()
            .filter(|m| m.entry == entry)
            .map(|m| m.bytes_per_entry)
            .collect()
    };
    let (per_session, per_jwt) = (per(Entry::Session), per(Entry::IssuedJwt));
    let state = if per_session.is_empty() || per_jwt.is_empty() {
        because.push_str("; server memory per session not measured");
        None
    } else {
        let (ps_min, ps_max) = range(&per_session);
        let (_, pj_max) = range(&per_jwt);
        because.push_str(&format!(
            "; server heap {}–{} per session, {} per {SELF_CONTAINED} token issued",
            units::bytes(ps_min.round()),
            units::bytes(ps_max.round()),
            units::bytes(pj_max.round())
        ));
        Some((ps_min, pj_max))
    };
    let state_holds = state.is_none_or(|(ps_min, pj_max)| ps_min > 0.0 && pj_max < ps_min);
    let state_fails = state.is_some_and(|(ps_min, pj_max)| pj_max >= ps_min);
    let verdict = if state_fails || j_max < MARGIN * s_min {
        Verdict::Contradicted
    } else if s_max < MARGIN * j_min && state_holds {
        Verdict::Confirmed
    } else {
        Verdict::Nuanced
    };
    Judgement::new(verdict, because)
}
