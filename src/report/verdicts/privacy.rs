//! Row 4, data privacy: what an outsider holding the token can read without a key, judged
//! by whether its claims are meant to be readable (`claims_readable`), and the random bits
//! of a session ID.

use super::{Judgement, Row, SELF_CONTAINED, Verdict};
use crate::claims::ClaimSet;
use crate::report::Run;
use crate::results::schema::size::{SizeResults, SizeRow};
use crate::scheme::spec::{Capabilities, SchemeId};
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
    format!(
        "by what each token does: a token whose claims anyone holding it can read \
         (`claims_readable`, a signed JWT), a {SELF_CONTAINED} token that carries its claims \
         encrypted, a session token. Confirmed if every token with readable claims exposes \
         claims bytes without a key, every token with encrypted claims exposes none, and every \
         session token exposes none and carries ≥ {MIN_BITS} random bits; contradicted if no \
         token with readable claims exposes any or a session token does; nuanced otherwise"
    )
}

/// Row 4: the fewest random bits a session ID may carry.
pub const MIN_BITS: usize = 128;

/// Readable bytes and claims, claims carried encrypted, or a session ID's random bits.
pub fn cell(run: &Run, scheme: SchemeId) -> Option<String> {
    let s = run.get::<SizeResults>()?;
    let r = s
        .rows
        .iter()
        .find(|r| r.scheme == scheme && r.claims == ClaimSet::Typical)
        .or_else(|| s.rows.iter().find(|r| r.scheme == scheme))?;
    let caps = scheme.capabilities();
    Some(
        match (
            caps.carries_claims && !caps.claims_readable,
            r.readable_payload_bytes,
        ) {
            (true, 0) => "claims carried encrypted: nothing readable".to_owned(),
            (true, n) => format!(
                "{} readable although its claims are encrypted ({} claims)",
                units::bytes(n as f64),
                r.readable_claims.len()
            ),
            (false, 0) => format!("nothing readable; {} random bits", r.random_bits),
            (false, n) => format!(
                "{} readable ({} claims)",
                units::bytes(n as f64),
                r.readable_claims.len()
            ),
        },
    )
}

/// The verdict, from `size.json`.
pub fn judge(size: Option<&SizeResults>) -> Judgement {
    judge_by(size, SchemeId::capabilities)
}

/// The verdict, from `size.json`, each scheme judged by the capabilities `capabilities`
/// gives it (a test gives a scheme those of another family).
pub fn judge_by(
    size: Option<&SizeResults>,
    capabilities: fn(SchemeId) -> Capabilities,
) -> Judgement {
    let Some(s) = size else {
        return Judgement::missing("size.json is not in this run");
    };
    let of = |r: &&SizeRow| capabilities(r.scheme);
    let carrying: Vec<&SizeRow> = s.rows.iter().filter(|r| of(r).carries_claims).collect();
    let sessions: Vec<&SizeRow> = s.rows.iter().filter(|r| of(r).store_lookup).collect();
    if carrying.is_empty() || sessions.is_empty() {
        return Judgement::missing(format!(
            "size.json lacks sessions or {SELF_CONTAINED} tokens"
        ));
    }
    let (readable, sealed): (Vec<&SizeRow>, Vec<&SizeRow>) =
        carrying.into_iter().partition(|r| of(r).claims_readable);
    if readable.is_empty() {
        return Judgement::missing("size.json has no token whose claims are readable");
    }
    let exposes = |r: &&SizeRow| r.readable_payload_bytes > 0;
    let all_readable = readable.iter().all(exposes);
    let none_readable = !readable.iter().any(exposes);
    let leaking: Vec<String> = sealed
        .iter()
        .filter(|r| exposes(r))
        .map(|r| format!("{} {}", r.scheme, r.claims.name()))
        .collect();
    let session_opaque = !sessions.iter().any(exposes);
    let min_bits = sessions.iter().map(|r| r.random_bits).min().unwrap_or(0);
    let bytes: Vec<usize> = readable.iter().map(|r| r.readable_payload_bytes).collect();
    let mut names: Vec<&str> = readable
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
    let verdict = if none_readable || !session_opaque {
        Verdict::Contradicted
    } else if all_readable && leaking.is_empty() && min_bits >= MIN_BITS {
        Verdict::Confirmed
    } else {
        Verdict::Nuanced
    };
    let mut because = format!(
        "tokens with readable claims: {}–{} of claims readable without a key ({}); session tokens: \
         {} readable, {} random bits \
         (fewest)",
        units::bytes(*bytes.iter().min().unwrap_or(&0) as f64),
        units::bytes(*bytes.iter().max().unwrap_or(&0) as f64),
        if names.is_empty() {
            "none".to_owned()
        } else {
            names.join(", ")
        },
        units::bytes(session_max as f64),
        min_bits
    );
    let mut encrypted: Vec<String> = Vec::new();
    for r in &sealed {
        let name = r.scheme.to_string();
        if !encrypted.contains(&name) {
            encrypted.push(name);
        }
    }
    if !encrypted.is_empty() {
        because.push_str(&format!(
            "; claims carried encrypted ({}): {}",
            encrypted.join(", "),
            if leaking.is_empty() {
                "nothing readable".to_owned()
            } else {
                format!("readable all the same in {}", leaking.join(", "))
            }
        ));
    }
    Judgement::new(verdict, because)
}
