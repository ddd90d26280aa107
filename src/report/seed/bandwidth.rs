//! Row 1, bandwidth usage: the `Cookie:` header each scheme sends per claim set, JWT
//! against session, claim set by claim set.

use super::{Judgement, Row, Verdict, join, per_claim_set};
use crate::claims::ClaimSet;
use crate::report::Run;
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
    judge: |run| judge(run.size.as_ref()),
};

/// The rule, in words.
pub fn rule() -> String {
    "confirmed if, for every claim set, every JWT's `Cookie:` header is larger than every \
     session's; contradicted if, for every claim set, no JWT's is; nuanced otherwise"
        .into()
}

/// `Cookie:` header bytes per claim set.
pub fn cell(run: &Run, scheme: SchemeId) -> Option<String> {
    per_claim_set(run, scheme, |r| r.cookie_header_bytes).map(|v| format!("`Cookie:` {v}"))
}

/// The verdict, from `size.json`.
pub fn judge(size: Option<&SizeResults>) -> Judgement {
    let Some(s) = size else {
        return Judgement::missing("size.json is not in this run");
    };
    let (mut compared, mut all_larger, mut none_larger) = (0, true, true);
    let mut parts = Vec::new();
    for set in ClaimSet::ALL {
        let of = |jwt: bool| {
            s.rows
                .iter()
                .filter(move |r| r.claims == set && r.scheme.is_jwt() == jwt)
                .filter(move |r| jwt || r.scheme.is_session())
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
            "{}: JWT {}–{} vs session {} ({} to {})",
            set.name(),
            units::bytes(j_min as f64),
            units::bytes(j_max as f64),
            units::bytes(s_max as f64),
            units::ratio(j_min as f64 / s_max.max(1) as f64),
            units::ratio(j_max as f64 / s_max.max(1) as f64),
        ));
    }
    if compared == 0 {
        return Judgement::missing("size.json lacks sessions or JWTs for a common claim set");
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
