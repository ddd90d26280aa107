//! The hybrid's column of the article's table: where an access JWT with a rotating refresh
//! token changes the answer (CPU, scalability, privacy, revocation), its own verdict,
//! computed from the run's hybrid rows (`revoke.json`, `hybrid`) by its own rule, printed
//! with the thresholds below. Rows the hybrid does not change get none, and a run without a
//! hybrid gets no column.

use super::{Judgement, TableRow, Verdict};
use crate::report::Run;
use crate::results::schema::revoke::{HybridResult, RevokeResults};
use crate::scheme::spec::SchemeId;
use crate::units;

/// Row 2: the refresh, amortised per request, at most this share of the access validate
/// leaves the hybrid the JWT's CPU answer.
pub const REFRESH_SHARE_MAX: f64 = 0.10;

/// Row 3: at most this many store operations per request keep the store off the request
/// path (a session does one per request).
pub const STORE_OPS_MAX: f64 = 0.1;

/// Row 5: an access lifetime at most this long bounds revocation (seconds): the revoked
/// login's access token dies within it.
pub const WINDOW_MAX_S: f64 = 300.0;

/// The hybrid's verdict on one row.
#[derive(Debug, Clone, PartialEq)]
pub struct HybridVerdict {
    /// The row's number (1..=7).
    pub row: usize,
    /// The hybrid judged.
    pub scheme: SchemeId,
    /// Its verdict and what decided it.
    pub judgement: Judgement,
    /// The rule, with its thresholds.
    pub rule: String,
}

/// The hybrid whose figures the column reads: the first on a networked store (where its
/// refresh costs a round trip), else the first measured.
fn subject(r: &RevokeResults) -> Option<&HybridResult> {
    r.hybrid
        .iter()
        .find(|h| h.scheme.refresh_store().is_some_and(|k| k.is_remote()))
        .or_else(|| r.hybrid.first())
}

/// The hybrid's verdicts, one per row it changes; none when the run measured no hybrid.
/// `rows` is the table as the run filled it in (row 2 inherits the JWT's verdict).
pub fn verdicts(run: &Run, rows: &[TableRow]) -> Vec<HybridVerdict> {
    let Some(h) = run.get::<RevokeResults>().and_then(subject) else {
        return Vec::new();
    };
    let v = |row: usize, judgement: Judgement, rule: String| HybridVerdict {
        row,
        scheme: h.scheme,
        judgement,
        rule,
    };
    let validate = h.validate.median();
    let share = if validate > 0.0 {
        h.refresh_ns_per_request / validate
    } else {
        f64::INFINITY
    };
    let cpu_row = rows
        .iter()
        .find(|r| r.number == 2)
        .map(|r| r.judgement.verdict);
    let cpu = match cpu_row {
        Some(jwt) if share <= REFRESH_SHARE_MAX && jwt != Verdict::NotMeasured => Judgement::new(
            jwt,
            format!(
                "as the JWT's: the refresh ({} each, once per {} at {}/s per user) adds {} per \
                 request, {:.1}% of the access validate ({})",
                units::ns(h.refresh.median()),
                units::ns(h.access_lifetime_s * 1e9),
                h.requests_per_user_per_s,
                units::ns(h.refresh_ns_per_request),
                share * 100.0,
                units::ns(validate)
            ),
        ),
        Some(_) | None => Judgement::new(
            Verdict::Nuanced,
            format!(
                "the refresh adds {} per request, {:.1}% of the access validate ({}): more \
                 than the JWT's answer allows for",
                units::ns(h.refresh_ns_per_request),
                share * 100.0,
                units::ns(validate)
            ),
        ),
    };
    let scalability = if h.store_ops_per_request <= STORE_OPS_MAX {
        Judgement::new(
            Verdict::Nuanced,
            format!(
                "the hybrid keeps a central store, but reaches it {:.4} times per request (one \
                 refresh per access lifetime) where a session reaches it once: the store is off \
                 the request path",
                h.store_ops_per_request
            ),
        )
    } else {
        Judgement::new(
            Verdict::Confirmed,
            format!(
                "the hybrid reaches its store {:.4} times per request: close to a session's once",
                h.store_ops_per_request
            ),
        )
    };
    let privacy = Judgement::new(
        Verdict::Confirmed,
        format!(
            "the access token that travels on every request is a JWT ({} B): its holder reads \
             its payload; the refresh token ({} B) is opaque",
            h.access_token_bytes, h.refresh_token_bytes
        ),
    );
    let all_refused =
        h.family_revocation_trials > 0 && h.family_revocation_refused == h.family_revocation_trials;
    let revocation = match (all_refused, h.revocation_window_s <= WINDOW_MAX_S) {
        (true, true) => Judgement::new(
            Verdict::Nuanced,
            format!(
                "the login is revoked by deleting its family (a refresh on another node refused \
                 in {} of {} trials), and its access token ({}) lives at most {} after",
                h.family_revocation_refused,
                h.family_revocation_trials,
                h.access_revocation,
                units::ns(h.revocation_window_s * 1e9)
            ),
        ),
        (true, false) => Judgement::new(
            Verdict::Confirmed,
            format!(
                "the family dies at once, but its access token ({}) lives {} after: longer \
                 than {}",
                h.access_revocation,
                units::ns(h.revocation_window_s * 1e9),
                units::ns(WINDOW_MAX_S * 1e9)
            ),
        ),
        (false, _) => Judgement::new(
            Verdict::Confirmed,
            format!(
                "a refresh after logout succeeded in {} of {} trials",
                h.family_revocation_trials - h.family_revocation_refused,
                h.family_revocation_trials
            ),
        ),
    };
    vec![
        v(
            2,
            cpu,
            format!(
                "the JWT's verdict when the refresh amortised per request is at most {:.0}% of \
                 the access validate (both measured in the same rounds), else nuanced",
                REFRESH_SHARE_MAX * 100.0
            ),
        ),
        v(
            3,
            scalability,
            format!(
                "nuanced when the hybrid's store operations per request are at most {STORE_OPS_MAX} \
                 (a store, but off the request path), else confirmed"
            ),
        ),
        v(
            4,
            privacy,
            "confirmed: the access token is a JWT, readable by its holder".into(),
        ),
        v(
            5,
            revocation,
            format!(
                "nuanced when every refresh after a logout is refused and the access lifetime is \
                 at most {} (revocation bounded by it), else confirmed",
                units::ns(WINDOW_MAX_S * 1e9)
            ),
        ),
    ]
}
