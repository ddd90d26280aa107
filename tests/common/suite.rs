//! The conformance suite every [`TokenScheme`] must pass, as a macro: one module of tests
//! per scheme, named after it.
#![allow(unused_imports)]

use proptest as _;
pub use std::time::Duration;

pub use jsonwebtoken::{Algorithm, EncodingKey};
pub use tokenbench::claims::ClaimSet;
pub use tokenbench::clock::Clock;
pub use tokenbench::scheme::{JwtAlg, Rejection, SchemeError};
pub use tokenbench::store::MemoryStore;

pub use super::*;

/// Asserts `token` is refused with exactly `expected` (compared by variant).
#[track_caller]
pub fn assert_rejected(s: &Subject, token: &str, expected: &Rejection) {
    match s.scheme.validate(token) {
        Ok(p) => panic!(
            "{} accepted a bad token {token:?} as {p:?}",
            s.scheme.name()
        ),
        Err(got) => assert_eq!(
            std::mem::discriminant(&got),
            std::mem::discriminant(expected),
            "{}: expected {expected:?}, got {got:?} for {token:?}",
            s.scheme.name()
        ),
    }
}

pub fn malformed() -> Rejection {
    Rejection::Malformed(String::new())
}

pub fn not_allowed() -> Rejection {
    Rejection::AlgorithmNotAllowed(String::new())
}

/// `scheme_conformance!(name, backend, subject)` runs the suite on `subject` (a [`Subject`]).
///
/// `scheme_conformance!(optional name, backend, subject)` takes an `Option<Subject>` instead,
/// evaluated in every test: `None` (e.g. an external server that is not configured) makes
/// every test of the module return at once, so the caller decides and reports the skip.
#[macro_export]
macro_rules! scheme_conformance {
    (optional $name:ident, $backend:expr, $make:expr) => {
        $crate::scheme_conformance!(@guarded $name, $backend, $make);
    };
    ($name:ident, $backend:expr, $make:expr) => {
        $crate::scheme_conformance!(@guarded $name, $backend, Some($make));
    };
    (@guarded $name:ident, $backend:expr, $make:expr) => {
        mod $name {
            use super::*;
            use proptest::prelude::*;

            fn subject() -> Option<Subject> {
                // JWT schemes of this module run on this crypto backend (process-wide).
                tokenbench::crypto::install($backend).expect("one backend per test binary");
                $make
            }

            /// One subject shared by the property tests (key generation is costly).
            static SHARED: std::sync::LazyLock<Option<Subject>> = std::sync::LazyLock::new(subject);

            #[test]
            fn round_trip_returns_the_same_claims_for_every_claim_set() {
                let Some(s) = subject() else { return };
                for set in ClaimSet::ALL {
                    let claims = set.claims("user-7");
                    let token = s.scheme.issue(&claims).unwrap();
                    let p = s.scheme.validate(&token).unwrap();
                    assert_eq!(*p.claims, claims, "{set}");
                    assert!(p.expires_at_secs > s.clock.now_secs());
                }
            }

            #[test]
            fn every_issue_gives_a_distinct_token() {
                let Some(s) = subject() else { return };
                let a = s.scheme.issue(&typical()).unwrap();
                let b = s.scheme.issue(&typical()).unwrap();
                assert_ne!(a, b);
            }

            #[test]
            fn rejects_tampered_payload() {
                let Some(s) = subject() else { return };
                if s.is_session() {
                    let token = s.scheme.issue(&typical()).unwrap();
                    assert_rejected(&s, &flip_char(&token, 5), &Rejection::UnknownSession);
                }
                let parts = segments(&s.jwt_to_attack());
                let mut claims = segment_json(&parts[1]);
                claims["roles"] = serde_json::json!(["admin"]);
                let forged = format!("{}.{}.{}", parts[0], b64(claims.to_string().as_bytes()), parts[2]);
                let want = if s.is_session() { malformed() } else { Rejection::BadSignature };
                assert_rejected(&s, &forged, &want);
            }

            #[test]
            fn rejects_tampered_signature() {
                let Some(s) = subject() else { return };
                let parts = segments(&s.jwt_to_attack());
                let forged = format!("{}.{}.{}", parts[0], parts[1], flip_char(&parts[2], 3));
                let want = if s.is_session() { malformed() } else { Rejection::BadSignature };
                assert_rejected(&s, &forged, &want);
            }

            #[test]
            fn rejects_stripped_signature() {
                let Some(s) = subject() else { return };
                let parts = segments(&s.jwt_to_attack());
                let forged = format!("{}.{}.", parts[0], parts[1]);
                let want = if s.is_session() { malformed() } else { Rejection::BadSignature };
                assert_rejected(&s, &forged, &want);
            }

            #[test]
            fn rejects_a_token_from_another_key_or_store() {
                let Some(s) = subject() else { return };
                let token = s.twin.issue(&typical()).unwrap();
                assert!(s.twin.validate(&token).is_ok());
                let want = if s.is_session() { Rejection::UnknownSession } else { Rejection::BadSignature };
                assert_rejected(&s, &token, &want);
            }

            #[test]
            fn rejects_tokens_of_every_other_scheme_and_algorithm() {
                let Some(s) = subject() else { return };
                let mine = s.scheme.name();
                let others: Vec<Subject> = JwtAlg::ALL
                    .into_iter()
                    .map(jwt_subject)
                    .chain(std::iter::once(session_subject(MemoryStore::new)))
                    .filter(|o| o.scheme.name() != mine && o.family != s.family)
                    .collect();
                assert!(others.len() >= 3);
                for other in others {
                    let token = other.scheme.issue(&typical()).unwrap();
                    let want = match (s.family, other.family) {
                        (Family::Session, _) => malformed(),
                        (Family::Jwt(_), Family::Session) => malformed(),
                        (Family::Jwt(_), Family::Jwt(_)) => not_allowed(),
                    };
                    assert_rejected(&s, &token, &want);
                }
            }

            #[test]
            fn rejects_alg_none_in_any_casing() {
                let Some(s) = subject() else { return };
                for casing in ["none", "None", "NONE", "nOnE"] {
                    let token = alg_none_token(casing, s.clock.now_secs());
                    let want = if s.is_session() { malformed() } else { not_allowed() };
                    assert_rejected(&s, &token, &want);
                }
            }

            #[test]
            fn rejects_hs256_signed_with_the_public_key() {
                // Algorithm confusion: an attacker HMACs with the (public) verification key.
                let Some(s) = subject() else { return };
                let key = s.public_key.clone().unwrap_or_else(|| b"attacker-secret".to_vec());
                let claims = valid_wire_claims(s.clock.now_secs());
                let token = sign(Algorithm::HS256, &claims, &EncodingKey::from_secret(&key));
                let want = match s.family {
                    Family::Session => malformed(),
                    Family::Jwt(JwtAlg::HS256) => Rejection::BadSignature,
                    Family::Jwt(_) => not_allowed(),
                };
                assert_rejected(&s, &token, &want);
            }

            #[test]
            fn rejects_malformed_base64_in_each_segment() {
                // The signature covers the payload's text, so a garbled payload fails the
                // signature check (which runs before the payload is decoded).
                let Some(s) = subject() else { return };
                let p = segments(&s.jwt_to_attack());
                let garble = |seg: &str| format!("{}!!", &seg[..seg.len() - 2]);
                let (payload_reason, other) = if s.is_session() {
                    (malformed(), malformed())
                } else {
                    (Rejection::BadSignature, malformed())
                };
                assert_rejected(&s, &format!("{}.{}.{}", garble(&p[0]), p[1], p[2]), &other);
                assert_rejected(&s, &format!("{}.{}.{}", p[0], garble(&p[1]), p[2]), &payload_reason);
                assert_rejected(&s, &format!("{}.{}.{}", p[0], p[1], garble(&p[2])), &other);
                let own = s.scheme.issue(&typical()).unwrap();
                let bad_own = format!("{}*{}", &own[..4], &own[5..]);
                assert_rejected(&s, &bad_own, &malformed());
            }

            #[test]
            fn rejects_padded_or_standard_alphabet_base64() {
                let Some(s) = subject() else { return };
                // Issue until the token's last segment holds a character that differs
                // between the two alphabets.
                let own = (0..200)
                    .map(|_| s.scheme.issue(&typical()).unwrap())
                    .find(|t| {
                        let last = t.rsplit('.').next().unwrap_or_default();
                        last.contains('-') || last.contains('_')
                    })
                    .expect("a base64url token with '-' or '_' within 200 issues");
                assert_rejected(&s, &format!("{own}=="), &malformed());
                if s.is_session() {
                    assert_rejected(&s, &own.replace('-', "+").replace('_', "/"), &malformed());
                    return;
                }
                let p = segments(&own);
                let std_sig = p[2].replace('-', "+").replace('_', "/");
                assert_rejected(&s, &format!("{}.{}.{std_sig}", p[0], p[1]), &malformed());
                // A payload whose base64 length is not a multiple of 4, so padding shows.
                let unpadded = ["user-1", "user-12", "user-123"]
                    .iter()
                    .map(|u| s.scheme.issue(&ClaimSet::Typical.claims(u)).unwrap())
                    .find(|t| segments(t)[1].len() % 4 != 0)
                    .expect("one of three consecutive lengths needs padding");
                let q = segments(&unpadded);
                let padded_payload = format!("{}.{}.{}", q[0], to_standard_padded(&q[1]), q[2]);
                assert_ne!(padded_payload, unpadded);
                assert_rejected(&s, &padded_payload, &Rejection::BadSignature);
            }

            #[test]
            fn rejects_non_json_header() {
                let Some(s) = subject() else { return };
                let parts = segments(&s.jwt_to_attack());
                let token = format!("{}.{}.{}", b64(b"not json"), parts[1], parts[2]);
                assert_rejected(&s, &token, &malformed());
            }

            #[test]
            fn rejects_two_or_four_segments() {
                let Some(s) = subject() else { return };
                let parts = segments(&s.jwt_to_attack());
                assert_rejected(&s, &format!("{}.{}", parts[0], parts[1]), &malformed());
                assert_rejected(&s, &format!("{}.{}.{}.{}", parts[0], parts[1], parts[2], parts[2]), &malformed());
            }

            #[test]
            fn rejects_oversized_tokens_before_parsing() {
                let Some(s) = subject() else { return };
                let junk = "A".repeat(8 * 1024 + 1);
                assert_rejected(&s, &junk, &Rejection::Oversized { len: 0, max: 0 });
                // A correctly signed token is still refused once over the cap.
                let mut fat = typical();
                fat.profile.insert("bio".into(), "x".repeat(9000));
                let token = s.scheme.issue(&fat).unwrap();
                if !s.is_session() {
                    assert!(token.len() > 8 * 1024);
                    assert_rejected(&s, &token, &Rejection::Oversized { len: 0, max: 0 });
                } else {
                    assert_eq!(*s.scheme.validate(&token).unwrap().claims, fat);
                }
            }

            #[test]
            fn rejects_the_empty_string() {
                let Some(s) = subject() else { return };
                assert_rejected(&s, "", &Rejection::Empty);
            }

            #[test]
            fn rejects_an_unknown_session_id() {
                let Some(s) = subject() else { return };
                let id = b(&rand_bytes());
                let want = if s.is_session() { Rejection::UnknownSession } else { malformed() };
                assert_rejected(&s, &id, &want);
            }

            #[test]
            fn expiry_boundary_accepts_just_before_and_rejects_at_and_after() {
                let Some(s) = subject() else { return };
                let start = s.clock.now();
                let before = s.scheme.issue(&typical()).unwrap();
                let at = s.scheme.issue(&typical()).unwrap();
                let after = s.scheme.issue(&typical()).unwrap();
                s.clock.set(start + s.lifetime - Duration::from_millis(1));
                assert!(s.scheme.validate(&before).is_ok(), "just before expiry");
                s.clock.set(start + s.lifetime);
                let want = if s.is_session() { Rejection::IdleExpired } else { Rejection::Expired };
                assert_rejected(&s, &at, &want);
                s.clock.set(start + s.lifetime + Duration::from_secs(1));
                assert_rejected(&s, &after, &want);
            }

            #[test]
            fn rejects_a_revoked_token_and_keeps_others() {
                let Some(s) = subject() else { return };
                let keep = s.scheme.issue(&typical()).unwrap();
                let gone = s.scheme.issue(&typical()).unwrap();
                s.scheme.revoke(&gone).unwrap();
                let want = if s.is_session() { Rejection::UnknownSession } else { Rejection::Revoked };
                assert_rejected(&s, &gone, &want);
                assert!(s.scheme.validate(&keep).is_ok());
            }

            #[test]
            fn revoke_refuses_forged_tokens() {
                let Some(s) = subject() else { return };
                let err = s.scheme.revoke("not-a-token").unwrap_err();
                assert!(matches!(err, SchemeError::NotRevocable(_)), "{err:?}");
            }

            proptest! {
                #![proptest_config(ProptestConfig::with_cases(256))]

                #[test]
                fn arbitrary_strings_are_never_accepted(input in ".{0,300}") {
                    let Some(s) = &*SHARED else { return Ok(()) };
                    prop_assert!(s.scheme.validate(&input).is_err());
                }

                #[test]
                fn arbitrary_jwt_shaped_strings_are_never_accepted(
                    input in "[A-Za-z0-9_-]{0,60}\\.[A-Za-z0-9_-]{0,200}\\.[A-Za-z0-9_-]{0,90}"
                ) {
                    let Some(s) = &*SHARED else { return Ok(()) };
                    prop_assert!(s.scheme.validate(&input).is_err());
                }

                #[test]
                fn arbitrary_session_shaped_strings_are_never_accepted(input in "[A-Za-z0-9_-]{22}") {
                    let Some(s) = &*SHARED else { return Ok(()) };
                    prop_assert!(s.scheme.validate(&input).is_err());
                }
            }
        }
    };
}

pub fn rand_bytes() -> [u8; 16] {
    let mut b = [0u8; 16];
    for (i, x) in b.iter_mut().enumerate() {
        *x = (i as u8).wrapping_mul(37).wrapping_add(11);
    }
    b
}

pub fn b(bytes: &[u8]) -> String {
    b64(bytes)
}
