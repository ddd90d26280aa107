//! The seven rows of the seed article's comparison table, rebuilt: for each, the claim in
//! our words, the measured figures per scheme (the main session store and every JWT
//! algorithm), the rule and the computed verdict.

use super::Run;
use super::verdict::{self, Judgement, SESSION_MEMORY};
use crate::claims::ClaimSet;
use crate::crypto::CryptoBackend;
use crate::results::schema::revoke::Strategy;
use crate::results::schema::size::Entry;
use crate::results::schema::validate::{Operation, ValidateRow};
use crate::scheme::spec::SchemeId;
use crate::units;

/// One row of the table.
#[derive(Debug, Clone, PartialEq)]
pub struct SeedRow {
    /// 1..=7.
    pub number: usize,
    /// Row name, as in the article.
    pub name: &'static str,
    /// The article's claim, in our words.
    pub claim: &'static str,
    /// Figures per column of [`columns`], `not measured` where the run has none.
    pub cells: Vec<String>,
    /// The rule deciding the verdict.
    pub rule: String,
    /// The verdict and what decided it.
    pub judgement: Judgement,
}

/// Row names and the article's claims, in our words.
pub const CLAIMS: [(&str, &str); 7] = [
    (
        "Bandwidth usage",
        "A JWT is larger on the wire: it carries the claims and a signature, where a session token is a short reference.",
    ),
    (
        "CPU usage",
        "A JWT costs a signature check and a decode on every request; a session costs a store lookup, so JWTs use more CPU.",
    ),
    (
        "Scalability",
        "JWTs suit stateless, distributed systems; sessions need a central store, which holds scaling back.",
    ),
    (
        "Data privacy",
        "Anyone holding a JWT can read its payload; session data stays on the server.",
    ),
    (
        "Revocation",
        "A JWT is hard to revoke before it expires; a session is revoked by deleting it.",
    ),
    (
        "Expiry",
        "A JWT carries its own expiry (`exp`); a session's expiry is kept and enforced server-side.",
    ),
    (
        "Cross-domain",
        "A JWT sent in a header crosses origins easily; cookies hit same-origin rules and need CORS.",
    ),
];

const NOT_MEASURED: &str = "not measured";

/// The scheme columns: the main session store (session-memory when measured) and every
/// JWT algorithm, in the order of [`JwtAlg::ALL`].
pub fn columns(run: &Run) -> Vec<SchemeId> {
    let mut all: Vec<SchemeId> = Vec::new();
    let mut push = |n: SchemeId| {
        if !all.contains(&n) {
            all.push(n);
        }
    };
    if let Some(s) = &run.size {
        s.rows.iter().for_each(|r| push(r.scheme));
    }
    if let Some(v) = &run.validate {
        v.rows
            .iter()
            .filter(|r| r.operation == Operation::Validate)
            .for_each(|r| push(r.scheme));
    }
    if let Some(s) = &run.scale {
        s.points.iter().for_each(|p| push(p.scheme));
    }
    let session = all
        .iter()
        .find(|n| **n == SESSION_MEMORY)
        .or_else(|| all.iter().find(|n| n.is_session()))
        .copied();
    let mut jwts: Vec<SchemeId> = all.iter().filter(|n| n.is_jwt()).copied().collect();
    jwts.sort_by_key(|n| n.order());
    session.into_iter().chain(jwts).collect()
}

/// The JWT backend figures are quoted for: the run's main backend.
fn main_backend(run: &Run) -> Option<CryptoBackend> {
    run.meta.crypto_backend.parse().ok()
}

/// The validate-workload row of `scheme` for `op`, typical claims, on the main backend
/// (any backend when the main one was not measured).
fn validate_row(run: &Run, scheme: SchemeId, op: Operation) -> Option<&ValidateRow> {
    let v = run.validate.as_ref()?;
    let candidates = || {
        v.rows.iter().filter(move |r| {
            r.scheme == scheme && r.operation == op && r.claims == ClaimSet::Typical
        })
    };
    candidates()
        .find(|r| r.backend.is_none() || r.backend == main_backend(run))
        .or_else(|| candidates().next())
}

fn per_claim_set(
    run: &Run,
    scheme: SchemeId,
    f: fn(&crate::results::schema::size::SizeRow) -> usize,
) -> Option<String> {
    let s = run.size.as_ref()?;
    let v: Vec<String> = ClaimSet::ALL
        .iter()
        .filter_map(|set| {
            s.rows
                .iter()
                .find(|r| r.scheme == scheme && r.claims == *set)
                .map(|r| f(r).to_string())
        })
        .collect();
    (!v.is_empty()).then(|| format!("{} B", v.join(" / ")))
}

fn bandwidth_cell(run: &Run, scheme: SchemeId) -> Option<String> {
    per_claim_set(run, scheme, |r| r.cookie_header_bytes).map(|v| format!("`Cookie:` {v}"))
}

fn cpu_cell(run: &Run, scheme: SchemeId) -> Option<String> {
    let row = validate_row(run, scheme, Operation::Validate)?;
    let mut out = format!("validate {}", units::ns(row.measurement.wall.median_ns));
    if let Some(i) = validate_row(run, scheme, Operation::Issue) {
        out.push_str(&format!(
            ", issue {}",
            units::ns(i.measurement.wall.median_ns)
        ));
    }
    if let Some(v) = &run.validate {
        for other in v.rows.iter().filter(|r| {
            r.scheme == scheme
                && r.operation == Operation::Validate
                && r.claims == ClaimSet::Typical
                && r.backend.is_some()
                && r.backend != row.backend
        }) {
            out.push_str(&format!(
                "; {}: validate {}",
                other.backend.map_or("?", |b| b.name()),
                units::ns(other.measurement.wall.median_ns)
            ));
        }
    }
    Some(out)
}

fn scalability_cell(run: &Run, scheme: SchemeId) -> Option<String> {
    let mut parts = Vec::new();
    if let Some((_, _, lines)) = run.scale.as_ref().and_then(verdict::scaling) {
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
        .size
        .as_ref()
        .and_then(|s| s.memory.iter().find(|m| m.scheme == scheme.to_string()))
    {
        let per = if m.entry == Entry::Session {
            "session"
        } else {
            "issued token"
        };
        parts.push(format!(
            "{} per {per}",
            units::bytes(m.bytes_per_entry.round())
        ));
    }
    (!parts.is_empty()).then(|| parts.join("; "))
}

fn privacy_cell(run: &Run, scheme: SchemeId) -> Option<String> {
    let s = run.size.as_ref()?;
    let r = s
        .rows
        .iter()
        .find(|r| r.scheme == scheme && r.claims == ClaimSet::Typical)
        .or_else(|| s.rows.iter().find(|r| r.scheme == scheme))?;
    Some(if r.readable_payload_bytes == 0 {
        format!("nothing readable; {} random bits", r.random_bits)
    } else {
        format!(
            "{} readable ({} claims)",
            units::bytes(r.readable_payload_bytes as f64),
            r.readable_claims.len()
        )
    })
}

fn revocation_cell(run: &Run, scheme: SchemeId) -> Option<String> {
    let r = run.revoke.as_ref()?;
    let p99 = |strategy: Strategy| {
        r.strategy(strategy)
            .filter(|s| s.latency.samples > 0)
            .map(|s| units::ns(s.latency.p99_ns))
    };
    if scheme.is_session() {
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
    if scheme != SchemeId::Jwt(r.jwt_alg) {
        return Some(format!("strategies run on {} only", r.jwt_alg));
    }
    let mut parts = Vec::new();
    if let Some(e) = r
        .strategy(Strategy::JwtExpiryOnly)
        .filter(|s| s.latency.samples > 0)
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
        .filter(|s| s.strategy.is_denylist() && s.latency.samples > 0)
    {
        parts.push(format!(
            "{} p99 {}, {}/request",
            s.strategy.name().trim_start_matches("jwt-"),
            units::ns(s.latency.p99_ns),
            units::ns_delta(s.added_cost_ns)
        ));
    }
    (!parts.is_empty()).then(|| parts.join("; "))
}

fn expiry_cell(run: &Run, scheme: SchemeId) -> Option<String> {
    if scheme.is_session() {
        let fixed = validate_row(run, scheme, Operation::Validate)?;
        let sliding = validate_row(run, scheme, Operation::ValidateSliding)?;
        let (f, s) = (
            fixed.measurement.wall.median_ns,
            sliding.measurement.wall.median_ns,
        );
        return Some(format!(
            "sliding expiry {}/request ({})",
            units::ns_delta(s - f),
            units::percent((s - f) / f)
        ));
    }
    run.revoke.as_ref().map(|r| {
        format!(
            "`exp` in the token, {} lifetime; no sliding",
            units::ns(r.jwt_lifetime_s * 1e9)
        )
    })
}

fn cross_domain_cell(run: &Run, scheme: SchemeId) -> Option<String> {
    let s = run.size.as_ref()?;
    let bearer = per_claim_set(run, scheme, |r| r.authorization_header_bytes)?;
    let rows: Vec<_> = s.rows.iter().filter(|r| r.scheme == scheme).collect();
    let fits = rows.iter().filter(|r| r.fits_cookie_limit).count();
    Some(format!(
        "`Authorization:` {bearer}; cookie within {} B: {}",
        s.cookie_limit_bytes,
        if fits == rows.len() {
            "all claim sets".to_owned()
        } else {
            format!("{fits} of {} claim sets", rows.len())
        }
    ))
}

/// The seven rows, with cells for [`columns`].
pub fn rows(run: &Run) -> Vec<SeedRow> {
    let cols = columns(run);
    let cell_fns: [fn(&Run, SchemeId) -> Option<String>; 7] = [
        bandwidth_cell,
        cpu_cell,
        scalability_cell,
        privacy_cell,
        revocation_cell,
        expiry_cell,
        cross_domain_cell,
    ];
    let judgements = [
        verdict::bandwidth(run.size.as_ref()),
        verdict::cpu(run.validate.as_ref()),
        verdict::scalability(run.scale.as_ref(), run.size.as_ref()),
        verdict::privacy(run.size.as_ref()),
        verdict::revocation(run.revoke.as_ref()),
        verdict::expiry(run.validate.as_ref()),
        verdict::cross_domain(run.size.as_ref()),
    ];
    CLAIMS
        .iter()
        .zip(cell_fns)
        .zip(judgements)
        .enumerate()
        .map(|(i, ((&(name, claim), cell), judgement))| SeedRow {
            number: i + 1,
            name,
            claim,
            cells: cols
                .iter()
                .map(|c| cell(run, *c).unwrap_or_else(|| NOT_MEASURED.to_owned()))
                .collect(),
            rule: verdict::rule(i + 1),
            judgement,
        })
        .collect()
}
