//! Row 7, cross-domain: whether each token fits an `Authorization: Bearer` header and a
//! cookie, the two transports across origins.

use super::{Judgement, Row, SELF_CONTAINED, Verdict, families, per_claim_set};
use crate::report::Run;
use crate::results::schema::size::{SizeResults, SizeRow};
use crate::scheme::spec::SchemeId;
use crate::units;

/// Row 7 of the table.
pub const ROW: Row = Row {
    number: 7,
    name: "Cross-domain",
    claim: "A JWT sent in a header crosses origins easily; cookies hit same-origin rules and need CORS.",
    rule,
    cell,
    judge: |run| judge(run.get::<SizeResults>()),
};

/// The rule, in words.
pub fn rule() -> String {
    format!(
        "contradicted if the `Authorization: Bearer` header of a {SELF_CONTAINED} token (one that \
         carries its claims, as a JWT does) exceeds the header limit; confirmed if every \
         {SELF_CONTAINED} header fits and no session token fits the same limits (only a \
         {SELF_CONTAINED} token could use the header); nuanced if both kinds of token fit both \
         transports (crossing origins is then a choice of transport, not of token) or a \
         {SELF_CONTAINED} token fits the header but not the cookie limit"
    )
}

/// `Authorization:` header bytes per claim set, and the claim sets whose cookie fits.
pub fn cell(run: &Run, scheme: SchemeId) -> Option<String> {
    let s = run.get::<SizeResults>()?;
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

/// The verdict, from `size.json`.
pub fn judge(size: Option<&SizeResults>) -> Judgement {
    let (s, carrying, sessions) = match families(size) {
        Ok(f) => f,
        Err(missing) => return missing,
    };
    let limit = s.header_limit_bytes;
    let over: Vec<String> = carrying
        .iter()
        .filter(|r| r.authorization_header_bytes > limit)
        .map(|r| format!("{} {}", r.scheme, r.claims.name()))
        .collect();
    let cookie_too_big = carrying.iter().any(|r| !r.fits_cookie_limit);
    let session_fits = sessions
        .iter()
        .all(|r| r.authorization_header_bytes <= limit && r.fits_cookie_limit);
    let max_by =
        |rows: &[&SizeRow], f: fn(&SizeRow) -> usize| rows.iter().map(|r| f(r)).max().unwrap_or(0);
    let verdict = if !over.is_empty() {
        Verdict::Contradicted
    } else if !session_fits && !cookie_too_big {
        Verdict::Confirmed
    } else {
        Verdict::Nuanced
    };
    let mut because = format!(
        "largest {SELF_CONTAINED} `Authorization:` header {} of {} ({}), largest \
         {SELF_CONTAINED} `Set-Cookie:` {}; session `Authorization:` {}, `Set-Cookie:` {}; cookie \
         limit {}",
        units::bytes(max_by(&carrying, |r| r.authorization_header_bytes) as f64),
        units::bytes(limit as f64),
        units::percent(max_by(&carrying, |r| r.authorization_header_bytes) as f64 / limit as f64),
        units::bytes(max_by(&carrying, |r| r.set_cookie_header_bytes) as f64),
        units::bytes(max_by(&sessions, |r| r.authorization_header_bytes) as f64),
        units::bytes(max_by(&sessions, |r| r.set_cookie_header_bytes) as f64),
        units::bytes(s.cookie_limit_bytes as f64),
    );
    if !over.is_empty() {
        because.push_str(&format!("; over the header limit: {}", over.join(", ")));
    }
    if cookie_too_big {
        because.push_str(&format!(
            "; some {SELF_CONTAINED} tokens' cookies exceed the cookie limit (header transport only)"
        ));
    }
    if session_fits && over.is_empty() {
        because.push_str("; both tokens fit both transports");
    }
    Judgement::new(verdict, because)
}
