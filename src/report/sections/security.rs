//! "Security considerations": the seed article's security points, each with the mitigation
//! tokenbench implements and the test that shows it ([`CITED_TESTS`]).

use crate::report::Run;
use crate::report::document::Document;
use crate::results::schema::browser::BrowserResults;

/// The tests the security section cites, with the file that holds each: `tests/it/report.rs`
/// checks that every one exists.
pub const CITED_TESTS: [(&str, &str); 16] = [
    (
        "tests/it/sessions.rs",
        "set_cookie_is_httponly_secure_samesite_hostonly",
    ),
    (
        "tests/it/sessions.rs",
        "rotate_kills_the_old_id_and_keeps_the_claims",
    ),
    (
        "tests/it/sessions.rs",
        "fixation_attack_fails_after_login_rotation",
    ),
    ("tests/it/sessions.rs", "csrf_token_is_bound_to_its_session"),
    ("tests/common/suite.rs", "rejects_alg_none_in_any_casing"),
    (
        "tests/common/suite.rs",
        "rejects_hs256_signed_with_the_public_key",
    ),
    (
        "tests/common/suite.rs",
        "expiry_boundary_accepts_just_before_and_rejects_at_and_after",
    ),
    (
        "tests/it/jwt.rs",
        "exp_equal_to_now_is_expired_at_zero_leeway",
    ),
    (
        "tests/it/jwt.rs",
        "the_payload_is_readable_by_anyone_holding_the_token",
    ),
    (
        "tests/common/suite.rs",
        "header_problems_are_reported_before_signature_and_claims",
    ),
    (
        "tests/common/suite.rs",
        "crit_in_the_header_is_refused_in_every_form",
    ),
    (
        "tests/common/suite.rs",
        "nbf_ahead_of_the_clock_is_not_yet_valid_and_nbf_now_is_accepted",
    ),
    (
        "tests/common/suite.rs",
        "lifetime_longer_than_the_issuer_gives_is_refused",
    ),
    (
        "tests/common/suite.rs",
        "a_second_spelling_of_a_valid_token_is_refused",
    ),
    (
        "tests/it/jwt.rs",
        "a_node_cache_keyed_by_identity_evicts_a_malleable_twin_on_revoke",
    ),
    (
        "tests/it/sessions.rs",
        "cookie_tossing_a_second_session_cookie_is_refused",
    ),
];

/// What a real browser showed about XSS in this run (`browser.json`), or `None` without
/// its rows. Rule: "observed" lists, per place a credential was kept, whether a script
/// injected in the page obtained it.
fn xss_observed(run: &Run) -> Option<String> {
    let b = run
        .get::<BrowserResults>()
        .filter(|b| b.not_measured.is_none() && !b.readability.is_empty())?;
    let seen: Vec<String> = b
        .readability
        .iter()
        .map(|r| {
            format!(
                "{} in {}: {}",
                r.scheme,
                r.storage,
                if r.script_can_read {
                    "read"
                } else {
                    "not read"
                }
            )
        })
        .collect();
    Some(format!(
        " **Observed in this run** ({}, a script injected in the page; see Browser): {}.",
        b.browser.split(" built").next().unwrap_or(&b.browser),
        seen.join("; ")
    ))
}

/// The security points, each naming its tests.
pub(super) fn section(doc: &mut Document, run: &Run) {
    let observed = xss_observed(run).unwrap_or_default();
    doc.heading(2, "Security considerations");
    doc.para(
        "The seed article's security points, each with the mitigation tokenbench implements and the test \
         that shows it (run by `cargo test`; session tests run on every embedded store, e.g. \
         `memory::…`, `rwlock::…`; conformance tests on every scheme, e.g. `jwt_hs256::…`). These are \
         properties of the code, not figures of this run.",
    );
    doc.bullets(vec![
        "**Session hijacking**: the session cookie is `Secure` (sent over HTTPS only) and `HttpOnly`, with \
         128 random bits in the ID: `tests/it/sessions.rs` `set_cookie_is_httponly_secure_samesite_hostonly`. \
         A bearer JWT must equally travel over HTTPS only; stolen, it stays valid until `exp` unless a \
         denylist is used (see Revoke)."
            .into(),
        "**Session fixation**: the ID is regenerated at login and the old ID is dead at once: \
         `tests/it/sessions.rs` `fixation_attack_fails_after_login_rotation` and \
         `rotate_kills_the_old_id_and_keeps_the_claims`."
            .into(),
        format!(
            "**XSS**: an `HttpOnly` cookie cannot be read by script: \
             `set_cookie_is_httponly_secure_samesite_hostonly`. A JWT sent in an `Authorization` header must be \
             readable by script, so XSS can steal it; and its claims are readable by anyone holding it: \
             `tests/it/jwt.rs` `the_payload_is_readable_by_anyone_holding_the_token`.{observed}"
        ),
        "**CSRF**: cookie-carried sessions get a CSRF token bound to the session and `SameSite=Lax`: \
         `tests/it/sessions.rs` `csrf_token_is_bound_to_its_session` and the cookie test above. A JWT in an \
         `Authorization` header is not sent automatically, so CSRF does not apply to it."
            .into(),
        "**Token forgery (JWT)**: `alg: none` in any casing and HS256 signed with the public key \
         (algorithm confusion) are refused: `tests/common/suite.rs` `rejects_alg_none_in_any_casing`, \
         `rejects_hs256_signed_with_the_public_key`. The header is parsed once, strictly, and refused \
         before any claim is read (repeated members, `crit`, `b64: false`): \
         `header_problems_are_reported_before_signature_and_claims`, \
         `crit_in_the_header_is_refused_in_every_form`; `nbf`, a future `iat` and lifetimes longer than \
         issued are refused: `nbf_ahead_of_the_clock_is_not_yet_valid_and_nbf_now_is_accepted`, \
         `lifetime_longer_than_the_issuer_gives_is_refused`."
            .into(),
        "**Second spellings**: an ES256 signature's high-S twin and a non-canonical base64url character are \
         refused, and a per-node cache is keyed by the credential (JWT `jti`, session ID), so revoking evicts \
         every spelling: `tests/common/suite.rs` `a_second_spelling_of_a_valid_token_is_refused`, \
         `revoking_through_a_node_cache_evicts_the_credential`; `tests/it/jwt.rs` \
         `a_node_cache_keyed_by_identity_evicts_a_malleable_twin_on_revoke`."
            .into(),
        "**Cookie tossing**: the session cookie is named with the `__Host-` prefix (browsers then refuse it \
         from a sibling subdomain, or without `Secure` and `Path=/`), and a `Cookie:` header carrying it \
         twice is refused: `tests/it/sessions.rs` `cookie_tossing_a_second_session_cookie_is_refused`."
            .into(),
        "**Expiry at the boundary**: accepted just before the deadline, refused at and after it, for every \
         scheme: `tests/common/suite.rs` `expiry_boundary_accepts_just_before_and_rejects_at_and_after`; \
         a JWT whose `exp` equals now is expired at zero leeway: `tests/it/jwt.rs` \
         `exp_equal_to_now_is_expired_at_zero_leeway`."
            .into(),
    ]);
}
