//! Row 6, expiry: where the deadline lives, and what keeping it server-side costs when it
//! slides (each session store's sliding-expiry validate against its own fixed-deadline one).

use super::{Judgement, Row, Verdict, clean, failed_rows, join, median, straddles, validate_row};
use crate::claims::ClaimSet;
use crate::crypto::CryptoBackend;
use crate::measure::rounds::Spread;
use crate::report::Run;
use crate::results::schema::revoke::RevokeResults;
use crate::results::schema::validate::{Operation, ValidateResults, ValidateRow};
use crate::scheme::spec::SchemeId;
use crate::units;

/// Row 6: sliding expiry counts as cheap when it adds at most this share to the same
/// store's fixed-deadline validate.
pub const SLIDING_SHARE: f64 = 0.5;

/// Row 6 of the table.
pub const ROW: Row = Row {
    number: 6,
    name: "Expiry",
    claim: "A JWT carries its own expiry (`exp`); a session's expiry is kept and enforced server-side.",
    rule,
    cell,
    judge: |run| judge(run.get::<ValidateResults>()),
};

/// The rule, in words, with the thresholds [`judge`] uses.
pub fn rule() -> String {
    format!(
        "Δ = validate with sliding expiry − validate with a fixed deadline, per session store \
         (typical claims): the store write sliding expiry adds to the lookup it rides on. \
         Confirmed if Δ ≤ {} of the same store's fixed-deadline validate for every store measured \
         both ways; nuanced otherwise, naming the stores over it. Never contradicted: the run \
         prices server-side expiry but cannot show that expiry is not kept server-side (a store \
         without both rows is named and not judged). Enforcement at the deadline is shown by tests, not by \
         this run: `expiry_boundary_accepts_just_before_and_rejects_at_and_after` (every scheme), \
         `exp_equal_to_now_is_expired_at_zero_leeway` (JWT)",
        units::percent(SLIDING_SHARE)
    )
}

/// What sliding expiry adds per request (sessions), or the lifetime of a token that states
/// its own expiry.
pub fn cell(run: &Run, scheme: SchemeId) -> Option<String> {
    if scheme.capabilities().store_lookup {
        let fixed = validate_row(run, scheme, Operation::Validate)?;
        let sliding = validate_row(run, scheme, Operation::ValidateSliding)?;
        let f = fixed.measurement.median();
        let (text, delta) = added(fixed, sliding);
        return Some(if delta > 0.0 {
            format!(
                "sliding expiry {text}/request ({})",
                units::percent(delta / f)
            )
        } else {
            format!("sliding expiry: {text}")
        });
    }
    if !scheme.capabilities().expiry_in_token {
        return None;
    }
    run.get::<RevokeResults>().map(|r| {
        // A hybrid's access token lives its own (shorter) lifetime, renewed by a refresh.
        match r.hybrid.iter().find(|h| h.scheme == scheme) {
            Some(h) => format!(
                "`exp` in the access token, {} lifetime, renewed by a rotating refresh token",
                units::ns(h.access_lifetime_s * 1e9)
            ),
            None => format!(
                "`exp` in the token, {} lifetime; no sliding",
                units::ns(r.jwt_lifetime_s * 1e9)
            ),
        }
    })
}

/// What sliding expiry adds to the fixed-deadline validate, in words (never a negative
/// figure), and the difference counted (0 when not measurable).
fn added(fixed: &ValidateRow, sliding: &ValidateRow) -> (String, f64) {
    let delta = median(sliding) - median(fixed);
    let spread = match (&sliding.measurement.rounds, &fixed.measurement.rounds) {
        (Some(a), Some(b)) => Spread::difference(a, b),
        _ => None,
    };
    match spread {
        Some(d) if straddles(d.lo, d.hi, 0.0) => (
            format!(
                "no measurable cost (within ±{})",
                units::ns(d.lo.abs().max(d.hi.abs()))
            ),
            0.0,
        ),
        _ if delta <= 0.0 => (
            format!(
                "no measurable cost (measured {} below the fixed deadline: noise, a store write cannot speed a lookup)",
                units::ns(-delta)
            ),
            0.0,
        ),
        _ => (format!("+{}", units::ns(delta)), delta),
    }
}

/// A session validate of typical claims, with or without sliding expiry (row 6's pair).
fn sliding_pair(r: &ValidateRow) -> bool {
    matches!(
        r.operation,
        Operation::Validate | Operation::ValidateSliding
    ) && r.claims == ClaimSet::Typical
        && r.scheme.capabilities().store_lookup
}

/// Row 6, expiry.
///
/// The article's row is about where expiry lives: a JWT carries `exp`, a session's
/// deadline is kept and enforced by the server. What a run measures of it is the price of
/// keeping the deadline server-side when it slides: a store write per request. Each session
/// store's sliding-expiry validate is judged against that store's own fixed-deadline
/// validate, the lookup the write rides on, so a network store is weighed against its own
/// round trip and not against an in-process signature check. Enforcement at the deadline is
/// shown by tests (named in [`rule`]), not by a run.
///
/// This row can only be confirmed or nuanced (or not measured): no figure of a run
/// contradicts it. A costly sliding write is the price of server-side expiry, not evidence
/// against it; whether a session validate, sliding or not, costs more than a JWT validate is
/// row 2's question; a store measured without its sliding row is a missing figure, named in
/// the reason; a sliding validate cheaper than the fixed one is noise, named as such.
pub fn judge(validate: Option<&ValidateResults>) -> Judgement {
    let Some(v) = validate else {
        return Judgement::missing("validate.json is not in this run");
    };
    // Every session store with either row, in order of first appearance.
    let mut stores: Vec<(SchemeId, Option<CryptoBackend>)> = Vec::new();
    for r in v.rows.iter().filter(|r| sliding_pair(r)) {
        let key = (r.scheme, r.backend);
        if !stores.contains(&key) {
            stores.push(key);
        }
    }
    let mut parts = Vec::new();
    let (mut over, mut unmeasured, mut borderline) = (Vec::new(), Vec::new(), Vec::new());
    for (scheme, backend) in stores {
        let find = |op| {
            v.find(scheme, op, ClaimSet::Typical, backend)
                .filter(|r| clean(r))
        };
        let (Some(fixed), Some(sliding)) =
            (find(Operation::Validate), find(Operation::ValidateSliding))
        else {
            unmeasured.push(scheme.to_string());
            continue;
        };
        let (text, delta) = added(fixed, sliding);
        let share = delta / median(fixed);
        // A share that is not a number (a zero fixed cost) is not cheap either.
        if share.is_nan() || share > SLIDING_SHARE {
            over.push(format!("{scheme} {}", units::percent(share)));
        }
        if let (Some(a), Some(b)) = (&sliding.measurement.rounds, &fixed.measurement.rounds)
            && let Some(r) = Spread::ratio(a, b)
            && straddles(r.lo - 1.0, r.hi - 1.0, SLIDING_SHARE)
        {
            // A round where sliding measured below the fixed deadline is noise: said so,
            // never printed as a negative share.
            let low = if r.lo < 1.0 {
                "below zero".to_owned()
            } else {
                units::percent(r.lo - 1.0)
            };
            borderline.push(format!(
                "{scheme} sliding share {} (per-round shares from {low} to {}) against the \
                 threshold {}",
                units::percent(share),
                units::percent(r.hi - 1.0),
                units::percent(SLIDING_SHARE)
            ));
        }
        parts.push(format!(
            "{scheme} {text} ({}: {} → {})",
            units::percent(share),
            units::ns(median(fixed)),
            units::ns(median(sliding))
        ));
    }
    if parts.is_empty() {
        return Judgement::missing(format!(
            "validate.json has no session validate with and without sliding expiry{}",
            failed_rows(v, sliding_pair)
        ));
    }
    let verdict = if over.is_empty() {
        Verdict::Confirmed
    } else {
        Verdict::Nuanced
    };
    let mut because = format!(
        "sliding expiry per request, against the same store's fixed-deadline validate: {}",
        join(&parts)
    );
    if !over.is_empty() {
        because.push_str(&format!(
            "; over {} of the lookup: {}",
            units::percent(SLIDING_SHARE),
            over.join(", ")
        ));
    }
    if !unmeasured.is_empty() {
        because.push_str(&format!(
            "; not measured both ways, so not judged: {}",
            unmeasured.join(", ")
        ));
    }
    because.push_str(&failed_rows(v, sliding_pair));
    Judgement::new(verdict, because).borderline(borderline)
}
