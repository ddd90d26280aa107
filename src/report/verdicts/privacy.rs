//! Row 4, data privacy: what an outsider holding the token can read without a key, and the
//! random bits of a session ID.

use super::{Judgement, Row, Verdict, families};
use crate::claims::ClaimSet;
use crate::report::Run;
use crate::results::schema::size::SizeResults;
use crate::scheme::spec::SchemeId;
use crate::units;

/// Row 4 of the table.
pub const ROW: Row = Row {
    number: 4,
    name: "Data privacy",
    claim: "Anyone holding a JWT can read its payload; session data stays on the server.",
    rule,
    cell,
    judge: |run| judge(run.get::<SizeResults>()),
};

/// The rule, in words.
pub fn rule() -> String {
    "confirmed if every JWT exposes claims bytes to anyone holding it and every session token \
     exposes none and carries ≥ 128 random bits; contradicted if no JWT exposes claims or a \
     session token does; nuanced otherwise"
        .into()
}

/// Readable bytes and claims, or a session ID's random bits.
pub fn cell(run: &Run, scheme: SchemeId) -> Option<String> {
    let s = run.get::<SizeResults>()?;
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

/// The verdict, from `size.json`.
pub fn judge(size: Option<&SizeResults>) -> Judgement {
    let (_, jwts, sessions) = match families(size) {
        Ok(f) => f,
        Err(missing) => return missing,
    };
    let jwt_all = jwts.iter().all(|r| r.readable_payload_bytes > 0);
    let jwt_none = jwts.iter().all(|r| r.readable_payload_bytes == 0);
    let session_opaque = sessions.iter().all(|r| r.readable_payload_bytes == 0);
    let min_bits = sessions.iter().map(|r| r.random_bits).min().unwrap_or(0);
    let readable: Vec<usize> = jwts.iter().map(|r| r.readable_payload_bytes).collect();
    let mut names: Vec<&str> = jwts
        .iter()
        .flat_map(|r| r.readable_claims.iter().map(String::as_str))
        .collect();
    names.sort_unstable();
    names.dedup();
    let session_max = sessions
        .iter()
        .map(|r| r.readable_payload_bytes)
        .max()
        .unwrap_or(0);
    let verdict = if jwt_none || !session_opaque {
        Verdict::Contradicted
    } else if jwt_all && min_bits >= 128 {
        Verdict::Confirmed
    } else {
        Verdict::Nuanced
    };
    Judgement::new(
        verdict,
        format!(
            "JWT: {}–{} of claims readable without a key ({}); session tokens: {} readable, {} random bits \
             (fewest)",
            units::bytes(*readable.iter().min().unwrap_or(&0) as f64),
            units::bytes(*readable.iter().max().unwrap_or(&0) as f64),
            if names.is_empty() {
                "none".to_owned()
            } else {
                names.join(", ")
            },
            units::bytes(session_max as f64),
            min_bits
        ),
    )
}
