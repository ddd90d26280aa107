//! The conformance suite every [`TokenScheme`] must pass, as a macro: one module of tests
//! per scheme, named after it.
#![allow(unused_imports)]

use proptest as _;
pub use std::time::Duration;

pub use base64::Engine as _;
pub use base64::engine::general_purpose::URL_SAFE_NO_PAD;
pub use jsonwebtoken::{Algorithm, EncodingKey};
pub use serde_json::{Value, json};
pub use tokenbench::claims::ClaimSet;
pub use tokenbench::clock::Clock;
pub use tokenbench::scheme::JwtConfig;
pub use tokenbench::scheme::{JwtAlg, PasetoPurpose, Rejection, SchemeError, TokenScheme};
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

pub fn invalid_header() -> Rejection {
    Rejection::InvalidHeader(String::new())
}

pub fn invalid_claims() -> Rejection {
    Rejection::InvalidClaims(String::new())
}

pub fn not_yet_valid() -> Rejection {
    Rejection::NotYetValid(String::new())
}

/// Other spellings of `token` that name the same credential: the high-S twin of an ES256
/// signature, the `S + L` twin of an Ed25519 one, and, for every scheme, a non-canonical
/// base64url last character (unused low bits set).
pub fn twins(s: &Subject, token: &str) -> Vec<String> {
    let mut out = vec![non_canonical_last_char(token)];
    if let SchemeId::Jwt(alg) | SchemeId::Hybrid(alg, _) = s.id {
        let (message, sig) = token.rsplit_once('.').unwrap();
        let raw = URL_SAFE_NO_PAD.decode(sig).unwrap();
        let twin = match alg {
            JwtAlg::ES256 => Some(high_s_twin(&raw)),
            JwtAlg::EdDSA => Some(ed25519_s_plus_l(&raw)),
            _ => None,
        };
        if let Some(t) = twin {
            out.push(format!("{message}.{}", URL_SAFE_NO_PAD.encode(t)));
        }
    }
    out
}

/// The ES256 signature `(r, n - s)`: it verifies exactly like `(r, s)`.
pub fn high_s_twin(raw: &[u8]) -> Vec<u8> {
    let sig = p256::ecdsa::Signature::from_slice(raw).unwrap();
    let (r, s) = sig.split_scalars();
    let twin = p256::ecdsa::Signature::from_scalars(r.to_bytes(), (-*s).to_bytes()).unwrap();
    assert!(
        twin.normalize_s().is_some(),
        "the twin of a low-S signature is high-S"
    );
    twin.to_bytes().to_vec()
}

/// The Ed25519 signature `R || (S + L)` (little-endian): the same point equation, a
/// non-canonical scalar.
pub fn ed25519_s_plus_l(raw: &[u8]) -> Vec<u8> {
    const L: [u8; 32] = [
        0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde,
        0x14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
    ];
    let mut out = raw.to_vec();
    let mut carry = 0u16;
    for i in 0..32 {
        let v = u16::from(out[32 + i]) + u16::from(L[i]) + carry;
        out[32 + i] = v as u8;
        carry = v >> 8;
    }
    assert_eq!(carry, 0, "S < L < 2^253, so S + L fits in 32 bytes");
    out
}

/// `token` with its last base64url character's unused low bits set: decodes to the same
/// bytes under a lenient decoder, refused by a canonical one.
pub fn non_canonical_last_char(token: &str) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let last_segment = token.rsplit('.').next().unwrap();
    let unused_bits = match last_segment.len() % 4 {
        2 => 4,
        3 => 2,
        _ => 0,
    };
    let mut bytes = token.as_bytes().to_vec();
    let last = bytes.last_mut().unwrap();
    let value = ALPHABET.iter().position(|c| c == last).unwrap();
    let twin = if unused_bits > 0 {
        value | 1
    } else {
        value ^ 1
    };
    *last = ALPHABET[twin];
    String::from_utf8(bytes).unwrap()
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
                let want = if !s.speaks_jws() { malformed() } else { Rejection::BadSignature };
                assert_rejected(&s, &forged, &want);
            }

            #[test]
            fn rejects_tampered_signature() {
                let Some(s) = subject() else { return };
                let parts = segments(&s.jwt_to_attack());
                let forged = format!("{}.{}.{}", parts[0], parts[1], flip_char(&parts[2], 3));
                let want = if !s.speaks_jws() { malformed() } else { Rejection::BadSignature };
                assert_rejected(&s, &forged, &want);
            }

            #[test]
            fn rejects_stripped_signature() {
                let Some(s) = subject() else { return };
                let parts = segments(&s.jwt_to_attack());
                let forged = format!("{}.{}.", parts[0], parts[1]);
                let want = if !s.speaks_jws() { malformed() } else { Rejection::BadSignature };
                assert_rejected(&s, &forged, &want);
            }

            #[test]
            fn rejects_a_token_from_another_key_or_store() {
                let Some(s) = subject() else { return };
                let token = s.twin.issue(&typical()).unwrap();
                assert!(s.twin.validate(&token).is_ok());
                let want = match s.id {
                    SchemeId::Session(_) => Rejection::UnknownSession,
                    SchemeId::Jwt(_) | SchemeId::Hybrid(..) => Rejection::BadSignature,
                    // Its footer names another key: refused before any cryptography.
                    SchemeId::Paseto(_) => invalid_header(),
                };
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
                    .chain(PasetoPurpose::ALL.into_iter().map(paseto_subject))
                    .filter(|o| o.scheme.name() != mine && o.id != s.id && !(o.id.capabilities().store_lookup && s.id.capabilities().store_lookup))
                    .collect();
                assert!(others.len() >= 3);
                for other in others {
                    let token = other.scheme.issue(&typical()).unwrap();
                    let want = match (s.id, other.id) {
                        (SchemeId::Session(_), _) => malformed(),
                        (SchemeId::Jwt(_), SchemeId::Session(_) | SchemeId::Paseto(_)) => malformed(),
                        (SchemeId::Jwt(_), SchemeId::Jwt(_)) => not_allowed(),
                        // A hybrid's access token is a JWT: of its own algorithm, another
                        // key's signature; of another, an algorithm it does not allow.
                        (SchemeId::Hybrid(mine, _), SchemeId::Jwt(theirs)) if mine == theirs => {
                            Rejection::BadSignature
                        }
                        (SchemeId::Hybrid(..), SchemeId::Jwt(_)) => not_allowed(),
                        (SchemeId::Hybrid(..) | SchemeId::Jwt(_), _) => malformed(),
                        // Version and purpose confusion: another PASETO purpose is named
                        // and refused; anything else is not a PASETO at all.
                        (SchemeId::Paseto(_), SchemeId::Paseto(_)) => not_allowed(),
                        (SchemeId::Paseto(_), _) => malformed(),
                    };
                    assert_rejected(&s, &token, &want);
                }
            }

            #[test]
            fn rejects_alg_none_in_any_casing() {
                let Some(s) = subject() else { return };
                for casing in ["none", "None", "NONE", "nOnE"] {
                    let token = alg_none_token(casing, s.clock.now_secs());
                    let want = if !s.speaks_jws() { malformed() } else { not_allowed() };
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
                let want = match s.id {
                    SchemeId::Session(_) | SchemeId::Paseto(_) => malformed(),
                    SchemeId::Jwt(JwtAlg::HS256) | SchemeId::Hybrid(JwtAlg::HS256, _) => {
                        Rejection::BadSignature
                    }
                    SchemeId::Jwt(_) | SchemeId::Hybrid(..) => not_allowed(),
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
                let (payload_reason, other) = if !s.speaks_jws() {
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
                        // A PASETO's last segment is its footer, the same in every token.
                        let last = if s.speaks_jws() || s.is_session() {
                            t.rsplit('.').next().unwrap_or_default()
                        } else {
                            t.as_str()
                        };
                        last.contains('-') || last.contains('_')
                    })
                    .expect("a base64url token with '-' or '_' within 200 issues");
                assert_rejected(&s, &format!("{own}=="), &malformed());
                if !s.speaks_jws() {
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
                if s.id.capabilities().carries_claims {
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


            // --- RFC 7519 / 7515 classes of the attack battery (issue 9) ---------------

            #[test]
            fn nbf_ahead_of_the_clock_is_not_yet_valid_and_nbf_now_is_accepted() {
                let Some(s) = subject() else { return };
                let now = s.clock.now_secs();
                let with_nbf = |nbf: Value| {
                    let mut c = valid_wire_claims(now);
                    c["nbf"] = nbf;
                    s.forge_claims(&c)
                };
                if !s.speaks_jws() {
                    assert_rejected(&s, &with_nbf(json!(now + 3600)), &malformed());
                    return;
                }
                assert!(s.scheme.validate(&with_nbf(json!(now))).is_ok(), "nbf == now");
                assert!(s.scheme.validate(&with_nbf(json!(now - 60))).is_ok(), "nbf past");
                for ahead in [1, 3600, 10 * 365 * 86_400] {
                    assert_rejected(&s, &with_nbf(json!(now + ahead)), &not_yet_valid());
                }
                for bad in [json!("soon"), json!(null), json!(now as f64 + 0.5), json!(-1), json!([now])] {
                    assert_rejected(&s, &with_nbf(bad), &invalid_claims());
                }
            }

            #[test]
            fn crit_in_the_header_is_refused_in_every_form() {
                let Some(s) = subject() else { return };
                let claims = valid_wire_claims(s.clock.now_secs()).to_string();
                let alg = segment_json(&segments(&s.jwt_to_attack())[0])["alg"].clone();
                for extra in [
                    r#""crit":["urn:example:unknown"],"urn:example:unknown":1"#,
                    r#""crit":[]"#,
                    r#""b64":false,"crit":["b64"]"#,
                    r#""crit":["exp"],"exp":1"#,
                ] {
                    let header = format!(r#"{{"alg":{alg},"typ":"JWT",{extra}}}"#);
                    let want = if !s.speaks_jws() { malformed() } else { invalid_header() };
                    assert_rejected(&s, &s.forge(&header, &claims), &want);
                }
            }

            #[test]
            fn header_problems_are_reported_before_signature_and_claims() {
                let Some(s) = subject() else { return };
                let now = s.clock.now_secs();
                let alg = segment_json(&segments(&s.jwt_to_attack())[0])["alg"].clone();
                // Keyless forgeries: a junk signature and garbage claims. The header is what
                // is wrong, so the header is what is reported.
                let junk = |header: &str| {
                    format!("{}.{}.{}", b64(header.as_bytes()), b64(b"not claims"), b64(b"junk"))
                };
                let (dup, missing) = if !s.speaks_jws() {
                    (malformed(), malformed())
                } else {
                    (invalid_header(), invalid_header())
                };
                for header in [
                    format!(r#"{{"alg":{alg},"alg":"none"}}"#),
                    format!(r#"{{"alg":"none","alg":{alg}}}"#),
                    format!(r#"{{"alg":{alg},"typ":"JWT","typ":"JWT"}}"#),
                ] {
                    assert_rejected(&s, &junk(&header), &dup);
                    // Correctly signed, a duplicate member is still refused.
                    assert_rejected(&s, &s.forge(&header, &valid_wire_claims(now).to_string()), &dup);
                }
                assert_rejected(&s, &junk(r#"{"typ":"JWT"}"#), &missing);
                // A wrong algorithm is named in the rejection, whatever follows it.
                for other in ["none", "HS512", "RS384", "PS256"] {
                    match s.scheme.validate(&junk(&format!(r#"{{"alg":"{other}"}}"#))) {
                        Err(Rejection::AlgorithmNotAllowed(named)) => assert_eq!(named, other),
                        Err(Rejection::Malformed(_)) if !s.speaks_jws() => {}
                        got => panic!("{}: alg {other}: {got:?}", s.scheme.name()),
                    }
                }
            }

            #[test]
            fn iat_in_the_future_is_refused_beyond_the_leeway() {
                let Some(s) = subject() else { return };
                let now = s.clock.now_secs();
                let with_iat = |iat: u64| {
                    let mut c = valid_wire_claims(now);
                    c["iat"] = json!(iat);
                    s.forge_claims(&c)
                };
                if !s.speaks_jws() {
                    assert_rejected(&s, &with_iat(now + 60), &malformed());
                    return;
                }
                assert!(s.scheme.validate(&with_iat(now)).is_ok());
                assert_rejected(&s, &with_iat(now + 1), &not_yet_valid());
                assert_rejected(&s, &with_iat(now + 86_400), &not_yet_valid());
            }

            #[test]
            fn lifetime_longer_than_the_issuer_gives_is_refused() {
                let Some(s) = subject() else { return };
                let now = s.clock.now_secs();
                let life = s.lifetime.as_secs();
                let token = |iat: Option<u64>, exp: u64| {
                    let mut c = valid_wire_claims(now);
                    match iat {
                        Some(iat) => c["iat"] = json!(iat),
                        None => drop(c.as_object_mut().unwrap().remove("iat")),
                    }
                    c["exp"] = json!(exp);
                    s.forge_claims(&c)
                };
                if !s.speaks_jws() {
                    assert_rejected(&s, &token(Some(now), u64::MAX), &malformed());
                    return;
                }
                assert!(s.scheme.validate(&token(Some(now), now + life)).is_ok(), "exactly the lifetime");
                assert!(s.scheme.validate(&token(None, now + life)).is_ok(), "no iat, exactly the lifetime");
                let too_long = Rejection::LifetimeTooLong { lifetime_secs: 0, max_secs: 0 };
                for (iat, exp) in [
                    (Some(now), now + life + 1),
                    (Some(now), now + 100 * 365 * 86_400),
                    (Some(now), u64::MAX),
                    (None, now + life + 1),
                    (None, u64::MAX),
                    (Some(0), now + 60),
                ] {
                    assert_rejected(&s, &token(iat, exp), &too_long);
                }
            }

            #[test]
            fn empty_or_control_character_identifiers_are_refused() {
                let Some(s) = subject() else { return };
                for bad in ["", "user\u{0}admin", "line\nbreak"] {
                    let err = s.scheme.issue(&ClaimSet::Minimal.claims(bad)).unwrap_err();
                    assert!(matches!(err, SchemeError::InvalidClaims(_)), "issue {bad:?}: {err:?}");
                }
                let now = s.clock.now_secs();
                for (claim, bad) in [("sub", ""), ("jti", ""), ("sub", "a\u{0}b"), ("jti", "x\u{7}"), ("jti", "tab\there")] {
                    let mut c = valid_wire_claims(now);
                    c[claim] = json!(bad);
                    let want = if !s.speaks_jws() { malformed() } else { invalid_claims() };
                    assert_rejected(&s, &s.forge_claims(&c), &want);
                }
            }

            #[test]
            fn aud_array_containing_ours_is_accepted_and_others_refused() {
                let Some(s) = subject() else { return };
                let now = s.clock.now_secs();
                let ours = JwtConfig::default().audience;
                let with_aud = |aud: Value| {
                    let mut c = valid_wire_claims(now);
                    c["aud"] = aud;
                    s.forge_claims(&c)
                };
                if !s.speaks_jws() {
                    assert_rejected(&s, &with_aud(json!([ours])), &malformed());
                    return;
                }
                assert!(s.scheme.validate(&with_aud(json!([ours.clone()]))).is_ok());
                assert!(s.scheme.validate(&with_aud(json!(["other-api", ours.clone()]))).is_ok());
                for bad in [json!(["other-api"]), json!([]), json!([ours.to_uppercase()]), json!([[ours.clone()]]), json!(7)] {
                    assert_rejected(&s, &with_aud(bad), &invalid_claims());
                }
            }

            #[test]
            fn a_second_spelling_of_a_valid_token_is_refused() {
                // Malleability: a twin string that is the same credential must not validate,
                // and has the same identity (so caches key and evict it with the original).
                let Some(s) = subject() else { return };
                let token = s.scheme.issue(&typical()).unwrap();
                for twin in twins(&s, &token) {
                    assert_ne!(twin, token);
                    assert!(s.scheme.validate(&twin).is_err(), "{}: twin accepted", s.scheme.name());
                    if matches!(s.id, SchemeId::Jwt(_) | SchemeId::Hybrid(..)) {
                        assert_eq!(s.scheme.credential_id(&twin), s.scheme.credential_id(&token));
                    }
                }
                assert!(s.scheme.validate(&token).is_ok());
            }

            #[test]
            fn revoking_through_a_node_cache_evicts_the_credential() {
                let Some(s) = subject() else { return };
                let node = tokenbench::scheme::CachedScheme::new(
                    s.scheme.clone(),
                    Duration::from_secs(3600),
                    s.clock.clone(),
                );
                let token = node.issue(&typical()).unwrap();
                let keep = node.issue(&typical()).unwrap();
                assert!(node.validate(&token).is_ok() && node.validate(&keep).is_ok());
                assert_eq!(node.cached(), 2);
                node.revoke(&token).unwrap();
                assert_eq!(node.cached(), 1, "the revoked credential's entry is gone");
                assert!(node.validate(&token).is_err());
                assert!(node.validate(&keep).is_ok());
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
