//! `tokenbench::inspect`: what a token reveals, expiry reported (never enforced), and
//! signature verification with a JWK, against tokens from another JOSE implementation
//! (jwt-simple, pure Rust: its own HMAC, RSA, P-256 and Ed25519 code) and from tokenbench's
//! own `JwtScheme`. Every key is generated at test run time; no key material is committed.

use std::sync::{Arc, OnceLock};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use jwt_simple::prelude::{
    Claims as JsClaims, Duration as JsDuration, ECDSAP256KeyPairLike, ECDSAP256PublicKeyLike,
    ES256KeyPair, Ed25519KeyPair, EdDSAKeyPairLike, HS256Key, JWTClaims, MACLike, RS256KeyPair,
    RSAKeyPairLike, UnixTimeStamp,
};
use proptest::prelude::*;
use serde_json::{Value, json};
use tokenbench::claims::ClaimSet;
use tokenbench::clock::{Clock, SystemClock};
use tokenbench::inspect::{
    Expiry, InspectError, Inspection, SCHEMA_VERSION, TokenView, Verdict, inspect, public_jwk,
};
use tokenbench::scheme::{
    JwtAlg, JwtConfig, JwtScheme, RevocationStrategy, SessionConfig, SessionScheme, TokenScheme,
};
use tokenbench::store::MemoryStore;

fn now() -> u64 {
    SystemClock.now_secs()
}

/// `jsonwebtoken::encode`, after fixing the process-wide crypto provider as tokenbench
/// requires (jsonwebtoken would otherwise lock in a provider that panics).
fn encode(
    header: &Header,
    claims: &Value,
    key: &EncodingKey,
) -> jsonwebtoken::errors::Result<String> {
    tokenbench::crypto::active();
    jsonwebtoken::encode(header, claims, key)
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A token signed by jwt-simple, and the JWK for it built by hand from the public key
/// components jwt-simple exports.
struct Foreign {
    alg: &'static str,
    token: String,
    jwk: String,
}

/// The jwt-simple RSA key: 2048-bit generation is the slow part, so do it once.
fn rsa_pair() -> &'static RS256KeyPair {
    static PAIR: OnceLock<RS256KeyPair> = OnceLock::new();
    PAIR.get_or_init(|| RS256KeyPair::generate(2048).expect("jwt-simple RSA key generation"))
}

fn foreign_claims() -> JWTClaims<Value> {
    JsClaims::with_custom_claims(
        json!({"roles": ["reader", "writer"], "email": "ada@example.test"}),
        JsDuration::from_secs(900),
    )
    .with_issuer("https://other-issuer.test")
    .with_subject("user-42")
    .with_audience("some-other-api")
}

fn foreign(alg: &str) -> Foreign {
    foreign_with(alg, foreign_claims())
}

fn foreign_with(alg: &str, claims: JWTClaims<Value>) -> Foreign {
    match alg {
        "HS256" => {
            let key = HS256Key::generate();
            Foreign {
                alg: "HS256",
                token: key.authenticate(claims).unwrap(),
                jwk: json!({"kty": "oct", "k": b64(&key.to_bytes())}).to_string(),
            }
        }
        "RS256" => {
            let pair = rsa_pair();
            let c = pair.public_key().to_components();
            Foreign {
                alg: "RS256",
                token: pair.sign(claims).unwrap(),
                jwk: json!({"kty": "RSA", "n": b64(&c.n), "e": b64(&c.e)}).to_string(),
            }
        }
        "ES256" => {
            let pair = ES256KeyPair::generate();
            let point = pair.public_key().public_key().to_bytes_uncompressed();
            assert_eq!(point.len(), 65);
            assert_eq!(point[0], 0x04);
            Foreign {
                alg: "ES256",
                token: pair.sign(claims).unwrap(),
                jwk: json!({
                    "kty": "EC", "crv": "P-256",
                    "x": b64(&point[1..33]), "y": b64(&point[33..65]),
                })
                .to_string(),
            }
        }
        "EdDSA" => {
            let pair = Ed25519KeyPair::generate();
            Foreign {
                alg: "EdDSA",
                token: pair.sign(claims).unwrap(),
                jwk:
                    json!({"kty": "OKP", "crv": "Ed25519", "x": b64(&pair.public_key().to_bytes())})
                        .to_string(),
            }
        }
        other => panic!("no foreign signer for {other}"),
    }
}

/// The token with its claims changed (signature left alone).
fn tamper_payload(token: &str) -> String {
    let parts: Vec<&str> = token.split('.').collect();
    let mut claims: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
    claims["sub"] = json!("admin");
    format!(
        "{}.{}.{}",
        parts[0],
        b64(claims.to_string().as_bytes()),
        parts[2]
    )
}

/// The token with one signature bit flipped (still canonical base64url).
fn tamper_signature(token: &str) -> String {
    let (message, sig) = token.rsplit_once('.').unwrap();
    let mut bytes = URL_SAFE_NO_PAD.decode(sig).unwrap();
    bytes[0] ^= 0x01;
    format!("{message}.{}", b64(&bytes))
}

fn verdict(i: &Inspection) -> &Verdict {
    &i.signature.as_ref().expect("a JWK was given").verdict
}

fn assert_valid(token: &str, jwk: &str, alg: &str) -> Inspection {
    let i = inspect(token, Some(jwk), now()).unwrap();
    assert_eq!(verdict(&i), &Verdict::Valid, "{}", i.render());
    assert_eq!(i.signature.as_ref().unwrap().allowed_alg, alg);
    assert_eq!(i.exit_code(), 0);
    assert!(i.render().contains("signature: valid"), "{}", i.render());
    i
}

fn assert_invalid(token: &str, jwk: &str) -> String {
    let i = inspect(token, Some(jwk), now()).unwrap();
    let Verdict::Invalid(reason) = verdict(&i) else {
        panic!("expected invalid:\n{}", i.render());
    };
    assert_eq!(i.exit_code(), 1);
    assert!(i.render().contains("signature: invalid"), "{}", i.render());
    reason.clone()
}

/// Valid as signed; invalid with the payload or signature tampered, or with another key.
fn check_foreign(alg: &str) {
    let f = foreign(alg);
    let i = assert_valid(&f.token, &f.jwk, f.alg);
    let TokenView::Jwt(jwt) = &i.token else {
        panic!("not read as a JWT")
    };
    assert_eq!(jwt.header_alg.as_deref(), Some(alg));
    assert_eq!(jwt.claims["sub"], "user-42");
    assert_eq!(jwt.claims["email"], "ada@example.test");
    assert!(matches!(jwt.expiry, Expiry::ExpiresIn { secs, .. } if (850..=900).contains(&secs)));

    let reason = assert_invalid(&tamper_payload(&f.token), &f.jwk);
    assert!(reason.contains("does not match"), "{reason}");
    let reason = assert_invalid(&tamper_signature(&f.token), &f.jwk);
    assert!(reason.contains("does not match"), "{reason}");
    let other = foreign(alg);
    if alg != "RS256" {
        // (The RSA pair is shared, so "another key" only applies to the others.)
        assert_invalid(&f.token, &other.jwk);
    }
}

#[test]
fn jwt_simple_hs256_valid_then_tampered_invalid() {
    check_foreign("HS256");
}

#[test]
fn jwt_simple_rs256_valid_then_tampered_invalid() {
    check_foreign("RS256");
}

#[test]
fn jwt_simple_es256_valid_then_tampered_invalid() {
    check_foreign("ES256");
}

#[test]
fn jwt_simple_eddsa_valid_then_tampered_invalid() {
    check_foreign("EdDSA");
}

#[test]
fn jwks_exported_by_jwt_simple_itself_verify() {
    let claims = foreign_claims;
    let rsa = rsa_pair();
    let es = ES256KeyPair::generate();
    let ed = Ed25519KeyPair::generate();
    for (token, jwk, alg) in [
        (
            rsa.sign(claims()).unwrap(),
            rsa.public_key().to_jwk(),
            "RS256",
        ),
        (
            es.sign(claims()).unwrap(),
            es.public_key().to_jwk(),
            "ES256",
        ),
        (
            ed.sign(claims()).unwrap(),
            ed.public_key().to_jwk(),
            "EdDSA",
        ),
    ] {
        assert_valid(&token, &jwk, alg);
        assert_invalid(&tamper_payload(&token), &jwk);
    }
}

fn own_scheme(alg: JwtAlg) -> JwtScheme {
    JwtScheme::new(
        alg,
        JwtConfig::default(),
        RevocationStrategy::None,
        Arc::new(SystemClock),
    )
    .unwrap()
}

#[test]
fn own_jwt_scheme_rs256_es256_eddsa_verify_with_public_jwk() {
    for alg in [JwtAlg::RS256, JwtAlg::ES256, JwtAlg::EdDSA] {
        let scheme = own_scheme(alg);
        let jwk = public_jwk(scheme.keys()).expect("asymmetric keys have a public JWK");
        assert_eq!(jwk["alg"], alg.name());
        assert!(
            jwk.get("d").is_none(),
            "public JWK must not leak the private key"
        );
        let jwk = jwk.to_string();
        let token = scheme.issue(&ClaimSet::Typical.claims("user-1")).unwrap();

        let i = assert_valid(&token, &jwk, alg.name());
        let TokenView::Jwt(view) = &i.token else {
            panic!("not read as a JWT")
        };
        assert_eq!(view.claims["sub"], "user-1");
        assert_eq!(view.claims["aud"], "tokenbench-api");
        assert!(
            matches!(view.expiry, Expiry::ExpiresIn { secs, .. } if (15 * 60 - 60..=15 * 60).contains(&secs))
        );

        assert_invalid(&tamper_payload(&token), &jwk);
        assert_invalid(&tamper_signature(&token), &jwk);
        let other = public_jwk(own_scheme(alg).keys()).unwrap().to_string();
        assert_invalid(&token, &other);
        // And the scheme itself agrees that the tampered tokens are bad.
        assert!(scheme.validate(&tamper_payload(&token)).is_err());
    }
}

#[test]
fn own_public_jwk_matches_the_raw_key_bytes() {
    let scheme = own_scheme(JwtAlg::ES256);
    let point = scheme.keys().public_key_bytes().unwrap();
    let jwk = public_jwk(scheme.keys()).unwrap();
    assert_eq!(jwk["kty"], "EC");
    assert_eq!(jwk["crv"], "P-256");
    assert_eq!(jwk["x"], b64(&point[1..33]));
    assert_eq!(jwk["y"], b64(&point[33..65]));

    let scheme = own_scheme(JwtAlg::EdDSA);
    let jwk = public_jwk(scheme.keys()).unwrap();
    assert_eq!(jwk["x"], b64(scheme.keys().public_key_bytes().unwrap()));
}

#[test]
fn own_hs256_has_no_public_jwk_and_its_signing_path_verifies_with_oct_jwk() {
    // JwtScheme's HS256 secret is not exposed (and a shared secret is not a public key).
    assert!(public_jwk(own_scheme(JwtAlg::HS256).keys()).is_none());
    // Its signing path is jsonwebtoken::encode with Header::new(HS256): same call here,
    // with a secret generated now.
    let secret = HS256Key::generate().to_bytes();
    let token = encode(
        &Header::new(Algorithm::HS256),
        &json!({"sub": "user-1", "exp": now() + 60}),
        &EncodingKey::from_secret(&secret),
    )
    .unwrap();
    let jwk = json!({"kty": "oct", "k": b64(&secret), "alg": "HS256"}).to_string();
    let i = assert_valid(&token, &jwk, "HS256");
    assert!(i.notes.iter().any(|n| n.contains("shared secret")));
    assert_invalid(&tamper_payload(&token), &jwk);
    assert_invalid(&tamper_signature(&token), &jwk);
}

#[test]
fn without_a_jwk_anyone_reads_header_and_claims_and_exit_code_is_zero() {
    let f = foreign("ES256");
    let i = inspect(&f.token, None, now()).unwrap();
    assert!(i.signature.is_none());
    assert_eq!(i.exit_code(), 0);
    let text = i.render();
    assert!(text.contains("\"email\": \"ada@example.test\""), "{text}");
    assert!(text.contains("\"alg\": \"ES256\""), "{text}");
    assert!(text.contains("expires in"), "{text}");
    assert!(text.contains("signature: not checked"), "{text}");
}

#[test]
fn expiry_is_reported_never_enforced() {
    let mut claims = foreign_claims();
    let t = now();
    claims.expires_at = Some(UnixTimeStamp::from_secs(t - 100));
    // Not yet valid, and for an audience this verifier never heard of: still "valid".
    claims.invalid_before = Some(UnixTimeStamp::from_secs(t + 3600));
    for alg in ["HS256", "ES256", "EdDSA"] {
        let f = foreign_with(alg, claims.clone());
        // At the time the claims were made for, not a second later.
        let i = inspect(&f.token, Some(&f.jwk), t).unwrap();
        assert_eq!(verdict(&i), &Verdict::Valid, "{}", i.render());
        let TokenView::Jwt(view) = &i.token else {
            panic!()
        };
        assert_eq!(
            view.expiry,
            Expiry::Expired {
                exp: (t - 100) as i64,
                secs_ago: 100
            }
        );
        assert!(i.render().contains("expired 100 s ago"));
    }
}

#[test]
fn exp_boundaries_and_missing_exp() {
    let secret = b"a secret made for this test only, 32+ bytes long";
    let sign = |claims: Value| {
        encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(secret),
        )
        .unwrap()
    };
    let expiry_of = |token: &str, at: u64| match inspect(token, None, at).unwrap().token {
        TokenView::Jwt(v) => v.expiry,
        other => panic!("JWT read as {other:?}"),
    };
    let token = sign(json!({"exp": 1_000}));
    assert_eq!(
        expiry_of(&token, 999),
        Expiry::ExpiresIn {
            exp: 1_000,
            secs: 1
        }
    );
    assert_eq!(
        expiry_of(&token, 1_000),
        Expiry::Expired {
            exp: 1_000,
            secs_ago: 0
        }
    );
    assert_eq!(expiry_of(&sign(json!({"sub": "x"})), 5), Expiry::NoExp);
    assert_eq!(
        expiry_of(&sign(json!({"exp": 1_000.75})), 1_000),
        Expiry::Expired {
            exp: 1_000,
            secs_ago: 0
        }
    );
    assert!(matches!(
        expiry_of(&sign(json!({"exp": "tomorrow"})), 5),
        Expiry::Unreadable { .. }
    ));
    let i = inspect(&sign(json!({})), None, 5).unwrap();
    assert!(i.render().contains("no exp claim"));
}

#[test]
fn iat_nbf_and_exp_are_shown_as_utc_dates_beside_the_numbers() {
    let sign = |claims: Value| {
        encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(b"a secret made for this test only, 32+ bytes long"),
        )
        .unwrap()
    };
    let exp: i64 = 1_796_114_836; // 2026-12-01T08:47:16Z
    let token = sign(json!({"iat": exp - 900, "nbf": exp as f64 - 900.5, "exp": exp}));
    let i = inspect(&token, None, exp as u64 - 600).unwrap();
    let text = i.render();
    for line in [
        "issued at: iat 1796113936 = 2026-12-01T08:32:16Z\n",
        "not before: nbf 1796113935.5 = 2026-12-01T08:32:15Z\n",
        "expiry: expires in 600 s (exp 1796114836 = 2026-12-01T08:47:16Z); reported",
    ] {
        assert!(text.contains(line), "{line:?} in\n{text}");
    }
    let v = serde_json::to_value(&i).unwrap();
    assert_eq!(
        v["token"]["dates_utc"],
        json!({
            "iat": "2026-12-01T08:32:16Z",
            "nbf": "2026-12-01T08:32:15Z",
            "exp": "2026-12-01T08:47:16Z",
        })
    );
    // The fields that were there before are unchanged (no schema version bump).
    assert_eq!(v["schema_version"], 1);
    assert_eq!(
        v["token"]["expiry"],
        json!({"status": "expires_in", "exp": exp, "secs": 600})
    );

    // Absent, not a NumericDate, or not a date we can write: no date, and the text says so.
    let token = sign(json!({"iat": "yesterday", "exp": -5}));
    let i = inspect(&token, None, 0).unwrap();
    let text = i.render();
    assert!(
        text.contains("issued at: iat \"yesterday\", not a NumericDate\n"),
        "{text}"
    );
    assert!(!text.contains("not before"), "{text}");
    assert!(
        text.contains("expired 5 s ago (exp -5, not a date in the years 1970 to 9999)"),
        "{text}"
    );
    let v = serde_json::to_value(&i).unwrap();
    assert_eq!(
        v["token"]["dates_utc"],
        json!({"iat": null, "nbf": null, "exp": null})
    );
    let TokenView::Jwt(view) = inspect(&sign(json!({"exp": 253_402_300_800_i64})), None, 0)
        .unwrap()
        .token
    else {
        panic!("not a JWT")
    };
    assert_eq!(view.dates_utc.exp, None, "year 10000");
}

/// `token` with its signature's decoded bytes changed by `f`.
fn with_signature(token: &str, f: impl Fn(&mut Vec<u8>)) -> String {
    let (message, sig) = token.rsplit_once('.').unwrap();
    let mut bytes = URL_SAFE_NO_PAD.decode(sig).unwrap();
    f(&mut bytes);
    format!("{message}.{}", b64(&bytes))
}

fn length_notes(i: &Inspection) -> Vec<&String> {
    i.notes
        .iter()
        .filter(|n| n.starts_with("the signature is"))
        .collect()
}

#[test]
fn a_signature_of_the_wrong_length_for_its_alg_is_noted() {
    for (alg, bytes) in [("HS256", 32), ("ES256", 64), ("EdDSA", 64), ("RS256", 256)] {
        let f = foreign(alg);
        // The right length: no note, with or without the key.
        assert!(length_notes(&inspect(&f.token, None, now()).unwrap()).is_empty());
        assert!(length_notes(&assert_valid(&f.token, &f.jwk, alg)).is_empty());
        for got in [bytes - 1, bytes + 1] {
            // One byte cut off, or one added.
            let token = with_signature(&f.token, |s| s.resize(got, 0));
            let expected = format!("the signature is {got} bytes, but {alg} signatures");
            // RSA signatures are as long as the modulus: known only with the key.
            let without_key = inspect(&token, None, now()).unwrap();
            assert_eq!(
                length_notes(&without_key).len(),
                usize::from(alg != "RS256"),
                "{alg}: {:?}",
                without_key.notes
            );
            let with_key = inspect(&token, Some(&f.jwk), now()).unwrap();
            let notes = length_notes(&with_key);
            assert!(
                notes.len() == 1 && notes[0].starts_with(&expected),
                "{alg}: {:?}",
                with_key.notes
            );
            assert!(notes[0].contains(&format!(" are {bytes}:")), "{notes:?}");
            assert!(matches!(verdict(&with_key), Verdict::Invalid(_)));
            assert!(with_key.render().contains("note: the signature is"));
        }
    }
    // An ES256 signature in DER (as OpenSSL writes it) instead of r || s.
    let f = foreign("ES256");
    let token = with_signature(&f.token, |s| {
        let (r, sig_s) = s.split_at(32);
        let mut der = vec![0x30, 68, 0x02, 32];
        der.extend_from_slice(r);
        der.extend([0x02, 32]);
        der.extend_from_slice(sig_s);
        *s = der;
    });
    let i = inspect(&token, None, now()).unwrap();
    assert_eq!(
        length_notes(&i),
        [
            &"the signature is 70 bytes, but ES256 signatures are 64: truncated, padded or in \
           another encoding (DER?), it cannot verify"
                .to_owned()
        ]
    );
}

#[test]
fn the_key_decides_the_algorithm_not_the_token() {
    // Algorithm confusion: an HS256 token whose "secret" is the RSA public modulus.
    let f = foreign("RS256");
    let jwk: Value = serde_json::from_str(&f.jwk).unwrap();
    let n = URL_SAFE_NO_PAD.decode(jwk["n"].as_str().unwrap()).unwrap();
    let forged = encode(
        &Header::new(Algorithm::HS256),
        &json!({"sub": "admin"}),
        &EncodingKey::from_secret(&n),
    )
    .unwrap();
    let reason = assert_invalid(&forged, &f.jwk);
    assert!(reason.contains("allows only RS256"), "{reason}");

    // alg: none, in any casing, with the signature stripped.
    let body = f.token.split('.').nth(1).unwrap();
    for none in ["none", "None", "NONE"] {
        let header = b64(json!({"alg": none, "typ": "JWT"}).to_string().as_bytes());
        let reason = assert_invalid(&format!("{header}.{body}."), &f.jwk);
        assert!(reason.contains("allows only RS256"), "{reason}");
    }

    // The JWK's "alg" member wins over kty defaults: an RS256 token against a key that
    // says PS256 is refused.
    let mut ps = jwk.clone();
    ps["alg"] = json!("PS256");
    let reason = assert_invalid(&f.token, &ps.to_string());
    assert!(reason.contains("allows only PS256"), "{reason}");

    // An EdDSA key cannot be talked into verifying an ES256 token.
    let es = foreign("ES256");
    let ed = foreign("EdDSA");
    assert_invalid(&es.token, &ed.jwk);
}

#[test]
fn critical_header_extensions_are_refused() {
    let secret = HS256Key::generate().to_bytes();
    let mut header = Header::new(Algorithm::HS256);
    header.crit = Some(vec!["exp-never".into()]);
    let token = encode(
        &header,
        &json!({"sub": "x"}),
        &EncodingKey::from_secret(&secret),
    )
    .unwrap();
    let jwk = json!({"kty": "oct", "k": b64(&secret)}).to_string();
    let reason = assert_invalid(&token, &jwk);
    assert!(reason.contains("critical"), "{reason}");
}

#[test]
fn session_token_is_opaque_with_128_bits() {
    let scheme = SessionScheme::new(
        MemoryStore::new(),
        SessionConfig::default(),
        Arc::new(SystemClock),
    );
    let token = scheme.issue(&ClaimSet::Typical.claims("user-1")).unwrap();
    let i = inspect(&token, None, now()).unwrap();
    assert_eq!(i.chars, 22);
    assert_eq!(i.exit_code(), 0);
    let TokenView::Opaque(o) = &i.token else {
        panic!("session token read as a JWT")
    };
    assert!(o.base64url);
    assert!(!o.readable_data);
    let d = o.decoded.as_ref().unwrap();
    assert_eq!(d.bytes, 16);
    assert_eq!(d.max_random_bits, 128);
    assert!(o.char_entropy_bits_per_char > 0.0);
    let text = i.render();
    assert!(text.contains("token: opaque (22 characters)"), "{text}");
    assert!(text.contains("at most 128 bits"), "{text}");
    assert!(text.contains("readable data: none"), "{text}");

    // A JWK cannot vouch for an opaque token.
    let f = foreign("HS256");
    let reason = assert_invalid(&token, &f.jwk);
    assert!(reason.contains("no signature"), "{reason}");
}

#[test]
fn opaque_shapes_hex_base64_and_garbage() {
    let hex = "0123456789abcdef0123456789abcdef";
    let TokenView::Opaque(o) = inspect(hex, None, 0).unwrap().token else {
        panic!()
    };
    let d = o.decoded.unwrap();
    assert_eq!(
        (d.encoding.as_str(), d.bytes, d.max_random_bits),
        ("hex", 16, 128)
    );

    let TokenView::Opaque(o) = inspect("++++AQ==", None, 0).unwrap().token else {
        panic!()
    };
    assert!(!o.base64url);
    assert_eq!(o.decoded.unwrap().encoding, "base64");

    for garbage in ["not a token at all!", "a.b", "\u{1F600}", "....", "x.y.z.w"] {
        let i = inspect(garbage, None, 0).unwrap();
        let TokenView::Opaque(o) = &i.token else {
            panic!("{garbage:?} read as a JWT")
        };
        assert!(!o.base64url || garbage.is_empty());
        assert_eq!(i.chars, garbage.chars().count());
    }
    assert_eq!(inspect("", None, 0), Err(InspectError::Empty));
    assert_eq!(inspect(" \n\t", None, 0), Err(InspectError::Empty));
    let i = inspect("  abc  ", None, 0).unwrap();
    assert_eq!(i.chars, 3);
    assert!(i.notes.iter().any(|n| n.contains("whitespace")));
}

#[test]
fn a_leading_bearer_is_removed_and_noted_in_any_casing() {
    let f = foreign("ES256");
    for header in ["Bearer ", "bearer ", "BEARER\t", "BeArEr   "] {
        let i = assert_valid(&format!("{header}{}", f.token), &f.jwk, "ES256");
        assert_eq!(i.chars, f.token.len(), "{header:?}");
        assert!(
            i.notes.iter().any(|n| n.contains("\"Bearer \"")),
            "{header:?}: {:?}",
            i.notes
        );
        assert!(i.render().contains("note: a leading \"Bearer \""));
    }
    let id = "-K8nCll1Ka8Db8m5i-oJhQ";
    let i = inspect(&format!("the Bearer {id}"), None, 0).unwrap();
    assert!(
        !i.notes.iter().any(|n| n.contains("Bearer")),
        "only a leading scheme is removed"
    );
    let i = inspect(&format!(" Bearer {id} "), None, 0).unwrap();
    assert_eq!(i.chars, 22);
    assert_eq!(i.notes.len(), 2, "{:?}", i.notes);
    // Not the scheme: no space after it, or nothing else.
    for token in ["Bearertoken", "Bearer"] {
        let i = inspect(token, None, 0).unwrap();
        assert_eq!(i.chars, token.len());
        assert!(i.notes.is_empty(), "{token}: {:?}", i.notes);
    }
    assert_eq!(inspect("Bearer  \t", None, 0).unwrap().chars, 6);
    assert_eq!(inspect("Bearer \t x", None, 0).unwrap().chars, 1);
}

#[test]
fn malformed_three_segment_tokens_are_clear_errors() {
    let good_header = b64(br#"{"alg":"HS256"}"#);
    let good_claims = b64(br#"{"sub":"x"}"#);
    let cases = [
        ("!!!.@@@.###".to_owned(), "header segment is not base64url"),
        (
            format!("{}.{good_claims}.sig", b64(b"not json")),
            "header is not JSON",
        ),
        (
            format!("{good_header}.%%%.sig"),
            "claims segment is not base64url",
        ),
        (
            format!("{good_header}.{}.sig", b64(b"{oops")),
            "claims are not JSON",
        ),
        (format!("{}.{good_claims}.", b64(b"[1,2]")), "not an object"),
        ("..".to_owned(), "header"),
    ];
    for (token, expected) in cases {
        match inspect(&token, None, 0) {
            Err(InspectError::MalformedJwt(m)) => assert!(m.contains(expected), "{token}: {m}"),
            other => panic!("{token}: {other:?}"),
        }
    }
    // A bad signature segment is readable but reported, and invalid with a key.
    let f = foreign("HS256");
    let (message, _) = f.token.rsplit_once('.').unwrap();
    let token = format!("{message}.***");
    let i = inspect(&token, None, now()).unwrap();
    assert!(i.notes.iter().any(|n| n.contains("not base64url")));
    let reason = assert_invalid(&token, &f.jwk);
    assert!(reason.contains("base64"), "{reason}");
}

#[test]
fn bad_or_unsupported_jwks_are_errors_not_panics() {
    let token = foreign("HS256").token;
    let k = b64(&[7u8; 32]);
    let p256 = foreign("ES256");
    let p256: Value = serde_json::from_str(&p256.jwk).unwrap();
    let invalid = [
        ("{not json".to_owned(), "not valid JSON"),
        ("[1,2]".to_owned(), "not a JSON object"),
        (json!({"keys": []}).to_string(), "JWK Set"),
        (json!({"k": k}).to_string(), "kty"),
        (json!({"kty": 5}).to_string(), "must be a string"),
        (json!({"kty": "oct"}).to_string(), "missing \"k\""),
        (json!({"kty": "oct", "k": ""}).to_string(), "empty"),
        (
            json!({"kty": "oct", "k": "a+b/"}).to_string(),
            "not base64url",
        ),
        (
            json!({"kty": "oct", "k": k, "alg": "RS256"}).to_string(),
            "does not fit",
        ),
        (
            json!({"kty": "oct", "k": k, "use": "enc"}).to_string(),
            "encryption",
        ),
        (
            json!({"kty": "EC", "x": p256["x"], "y": p256["y"]}).to_string(),
            "crv",
        ),
        (
            json!({"kty": "EC", "crv": "P-256", "x": p256["x"], "y": p256["x"]}).to_string(),
            "not a point",
        ),
        (
            json!({"kty": "EC", "crv": "P-256", "x": b64(&[1; 31]), "y": p256["y"]}).to_string(),
            "32 bytes",
        ),
        (
            json!({"kty": "EC", "crv": "P-256", "x": p256["x"], "y": p256["y"], "alg": "ES384"})
                .to_string(),
            "does not fit",
        ),
        (
            json!({"kty": "OKP", "crv": "Ed25519", "x": b64(&[1; 31])}).to_string(),
            "32 bytes",
        ),
        (
            json!({"kty": "RSA", "n": b64(&[0xff; 256])}).to_string(),
            "missing \"e\"",
        ),
    ];
    for (jwk, expected) in invalid {
        match inspect(&token, Some(&jwk), 0) {
            Err(e @ InspectError::InvalidJwk(_)) => {
                assert!(e.to_string().contains(expected), "{jwk}: {e}")
            }
            other => panic!("{jwk}: {other:?}"),
        }
    }
    let unsupported = [
        (json!({"kty": "foo"}).to_string(), "kty"),
        (
            json!({"kty": "EC", "crv": "P-521", "x": k, "y": k}).to_string(),
            "P-521",
        ),
        (
            json!({"kty": "OKP", "crv": "X25519", "x": k}).to_string(),
            "X25519",
        ),
        (
            json!({"kty": "oct", "k": k, "alg": "none"}).to_string(),
            "none",
        ),
        (
            json!({"kty": "RSA", "n": b64(&[0xff; 128]), "e": "AQAB"}).to_string(),
            "1024 bits",
        ),
    ];
    for (jwk, expected) in unsupported {
        match inspect(&token, Some(&jwk), 0) {
            Err(e @ InspectError::UnsupportedJwk(_)) => {
                assert!(e.to_string().contains(expected), "{jwk}: {e}")
            }
            other => panic!("{jwk}: {other:?}"),
        }
    }
}

/// 32 bytes from 64 hex digits.
fn hex32(hex: &str) -> [u8; 32] {
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap();
    }
    out
}

fn ed25519_jwk(x: &[u8]) -> String {
    json!({"kty": "OKP", "crv": "Ed25519", "x": b64(x)}).to_string()
}

/// The reason `inspect` refuses the Ed25519 JWK with public key `x`.
fn ed25519_refusal(x: &[u8]) -> String {
    match inspect(&foreign("EdDSA").token, Some(&ed25519_jwk(x)), now()) {
        Err(e @ InspectError::InvalidJwk(_)) => e.to_string(),
        other => panic!("{}: {other:?}", b64(x)),
    }
}

#[test]
fn small_order_ed25519_keys_that_let_any_forgery_verify_are_refused() {
    // Under the identity as public key, R = identity and S = 0 verify for any message.
    let identity = hex32("0100000000000000000000000000000000000000000000000000000000000000");
    let mut forged_signature = identity.to_vec();
    forged_signature.extend([0u8; 32]);
    let forgery = format!(
        "{}.{}.{}",
        b64(br#"{"alg":"EdDSA","typ":"JWT"}"#),
        b64(br#"{"sub":"admin","roles":["admin"]}"#),
        b64(&forged_signature)
    );
    tokenbench::crypto::active();
    let mut validation = jsonwebtoken::Validation::new(Algorithm::EdDSA);
    validation.required_spec_claims.clear();
    validation.validate_exp = false;
    let key = jsonwebtoken::DecodingKey::from_ed_components(&b64(&identity)).unwrap();
    assert!(
        jsonwebtoken::decode::<Value>(&forgery, &key, &validation).is_ok(),
        "the crypto backend accepts the forgery under this key: the JWK check is what stops it"
    );

    // The 8 points of small order (RFC 8032 curve, canonical encodings), then other
    // encodings of them: x = -0, y = p + 1 (= 1), y = p (= 0).
    let small_order = [
        "0100000000000000000000000000000000000000000000000000000000000000",
        "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
        "0000000000000000000000000000000000000000000000000000000000000000",
        "0000000000000000000000000000000000000000000000000000000000000080",
        "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
        "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",
        "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
        "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85",
        "0100000000000000000000000000000000000000000000000000000000000080",
        "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
        "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
        "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    ];
    for hex in small_order {
        let reason = ed25519_refusal(&hex32(hex));
        assert!(reason.contains("small order"), "{hex}: {reason}");
    }
    let jwk = ed25519_jwk(&identity);
    assert!(matches!(
        inspect(&forgery, Some(&jwk), now()),
        Err(InspectError::InvalidJwk(_))
    ));
}

#[test]
fn non_canonical_and_off_curve_ed25519_keys_are_refused() {
    use curve25519_dalek::edwards::CompressedEdwardsY;
    // y = p + k (p = 2^255 - 19) names the same point as y = k: a second encoding.
    let mut non_canonical = 0;
    let mut off_curve = 0;
    for k in 2u8..19 {
        let mut y = [0xffu8; 32];
        y[0] = 0xed + k;
        y[31] = 0x7f;
        let mut canonical = [0u8; 32];
        canonical[0] = k;
        let reason = ed25519_refusal(&y);
        if CompressedEdwardsY(canonical).decompress().is_some() {
            assert!(reason.contains("canonical"), "y = p + {k}: {reason}");
            non_canonical += 1;
        } else {
            assert!(reason.contains("not a point"), "y = p + {k}: {reason}");
            off_curve += 1;
        }
    }
    assert!(
        non_canonical > 0 && off_curve > 0,
        "{non_canonical} {off_curve}"
    );
    // An honest key still verifies (see jwt_simple_eddsa_valid_then_tampered_invalid).
    let f = foreign("EdDSA");
    assert_valid(&f.token, &f.jwk, "EdDSA");
}

#[test]
fn private_jwk_is_used_for_its_public_part_with_a_warning() {
    let pair = ES256KeyPair::generate();
    let token = pair.sign(foreign_claims()).unwrap();
    let private_jwk = pair.to_jwk();
    assert!(private_jwk.contains("\"d\""));
    let i = assert_valid(&token, &private_jwk, "ES256");
    assert!(
        i.notes.iter().any(|n| n.contains("private key")),
        "{:?}",
        i.notes
    );
}

#[test]
fn kid_mismatch_is_noted_but_the_signature_decides() {
    let pair = ES256KeyPair::generate().with_key_id("signing-key");
    let token = pair.sign(foreign_claims()).unwrap();
    let mut jwk: Value = serde_json::from_str(&pair.public_key().to_jwk()).unwrap();
    jwk["kid"] = json!("some-other-kid");
    let i = assert_valid(&token, &jwk.to_string(), "ES256");
    assert!(
        i.notes.iter().any(|n| n.contains("\"signing-key\"")),
        "{:?}",
        i.notes
    );
    jwk["kid"] = json!("signing-key");
    let i = assert_valid(&token, &jwk.to_string(), "ES256");
    assert!(!i.notes.iter().any(|n| n.contains("kid")), "{:?}", i.notes);
}

#[test]
fn serialises_for_json_output() {
    let f = foreign("EdDSA");
    let jwk: Value = serde_json::from_str(&f.jwk).unwrap();
    let mut with_kid = jwk.clone();
    with_kid["kid"] = json!("key-1");
    let i = inspect(&f.token, Some(&with_kid.to_string()), now()).unwrap();
    let v = serde_json::to_value(&i).unwrap();
    assert_eq!(v["schema_version"], SCHEMA_VERSION);
    assert_eq!(v["token"]["kind"], "jwt");
    assert_eq!(v["token"]["claims"]["sub"], "user-42");
    assert_eq!(v["token"]["expiry"]["status"], "expires_in");
    assert_eq!(v["signature"]["allowed_alg"], "EdDSA");
    assert_eq!(v["signature"]["kid"], "key-1");
    assert_eq!(v["signature"]["verdict"]["status"], "valid");
    assert!(i.render().contains("kid \"key-1\""));

    let bad = inspect(&tamper_payload(&f.token), Some(&f.jwk), now()).unwrap();
    let v = serde_json::to_value(&bad).unwrap();
    assert_eq!(v["signature"]["verdict"]["status"], "invalid");
    assert!(v["signature"]["verdict"]["reason"].is_string());

    let opaque = serde_json::to_value(inspect("c2Vzc2lvbg", None, 0).unwrap()).unwrap();
    assert_eq!(opaque["token"]["kind"], "opaque");
    assert_eq!(opaque["token"]["readable_data"], false);
    assert!(opaque["signature"].is_null());
}

fn exercise(token: &str, jwk: Option<&str>) {
    match inspect(token, jwk, 1_700_000_000) {
        Ok(i) => {
            let _ = i.render();
            let _ = serde_json::to_string(&i).unwrap();
            let code = i.exit_code();
            assert!(code == 0 || code == 1);
            if jwk.is_none() {
                assert_eq!(code, 0);
            }
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
}

/// One of `names`, or any string.
fn named_or_any(names: &'static [&'static str]) -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(names).prop_map(str::to_owned),
        any::<String>(),
    ]
}

fn sample_jwks() -> &'static [String] {
    static JWKS: OnceLock<Vec<String>> = OnceLock::new();
    JWKS.get_or_init(|| {
        ["HS256", "ES256", "EdDSA", "RS256"]
            .into_iter()
            .map(|a| foreign(a).jwk)
            .collect()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn never_panics_on_arbitrary_strings(s in any::<String>(), key in 0usize..5) {
        exercise(&s, sample_jwks().get(key).map(String::as_str));
    }

    #[test]
    fn never_panics_on_jwt_shaped_strings(
        h in "[A-Za-z0-9_+/=-]{0,60}",
        p in "[A-Za-z0-9_+/=-]{0,60}",
        s in "[A-Za-z0-9_+/=-]{0,90}",
        key in 0usize..5,
    ) {
        exercise(&format!("{h}.{p}.{s}"), sample_jwks().get(key).map(String::as_str));
    }

    #[test]
    fn never_panics_on_arbitrary_json_segments(
        header in any::<String>(),
        claims in any::<String>(),
        alg in named_or_any(&["HS256", "RS256", "ES256", "EdDSA", "none"]),
        sig in proptest::collection::vec(any::<u8>(), 0..80),
        key in 0usize..5,
    ) {
        let h = b64(json!({"alg": alg, "x": header}).to_string().as_bytes());
        let c = b64(json!({"exp": claims, "sub": claims}).to_string().as_bytes());
        exercise(&format!("{h}.{c}.{}", b64(&sig)), sample_jwks().get(key).map(String::as_str));
    }

    #[test]
    fn never_panics_on_arbitrary_jwks(
        jwk in any::<String>(),
        kty in named_or_any(&["oct", "RSA", "EC", "OKP"]),
        crv in named_or_any(&["P-256", "P-384", "Ed25519"]),
        x in "[A-Za-z0-9_-]{0,90}",
        y in "[A-Za-z0-9_-]{0,90}",
        alg in named_or_any(&["HS256", "ES256", "EdDSA", "PS512"]),
    ) {
        let token = &foreign_token();
        exercise(token, Some(&jwk));
        let shaped = json!({"kty": kty, "crv": crv, "x": x, "y": y, "n": x, "e": y, "k": x, "alg": alg});
        exercise(token, Some(&shaped.to_string()));
    }
}

fn foreign_token() -> String {
    static TOKEN: OnceLock<String> = OnceLock::new();
    TOKEN.get_or_init(|| foreign("ES256").token).clone()
}

#[test]
fn inspect_and_validate_share_one_header_policy() {
    // Issue 9: `inspect --jwk` refused `crit` while `validate` accepted it. Both now apply
    // `JoseHeader::parse_checked`; every header `validate` refuses, inspect refuses too.
    let pair = ES256KeyPair::generate();
    let jwk = pair.public_key().to_jwk();
    let token = pair.sign(foreign_claims()).unwrap();
    let (_, rest) = token.split_once('.').unwrap();
    for header in [
        r#"{"alg":"ES256","crit":[]}"#,
        r#"{"alg":"ES256","crit":["b64"],"b64":false}"#,
        r#"{"alg":"ES256","alg":"ES256"}"#,
        r#"{"alg":"ES256","cty":"JWT"}"#,
    ] {
        let forged = format!("{}.{rest}", b64(header.as_bytes()));
        let reason = assert_invalid(&forged, &jwk);
        assert!(reason.contains("header refused"), "{header}: {reason}");
        assert!(
            tokenbench::scheme::jwt::JoseHeader::parse_checked(
                forged.split('.').next().unwrap(),
                "ES256"
            )
            .is_err()
        );
    }
}

#[test]
fn a_high_s_es256_signature_is_valid_but_noted() {
    // Decision: inspect reports a high-S signature as valid ECDSA (it is), with a note that
    // tokenbench's JwtScheme refuses that spelling.
    let pair = ES256KeyPair::generate();
    let jwk = pair.public_key().to_jwk();
    let token = pair.sign(foreign_claims()).unwrap();
    let (message, sig) = token.rsplit_once('.').unwrap();
    let raw = URL_SAFE_NO_PAD.decode(sig).unwrap();
    let high = if tokenbench::scheme::jwt::is_high_s(&raw) {
        token.clone()
    } else {
        let parsed = p256::ecdsa::Signature::from_slice(&raw).unwrap();
        let (r, s) = parsed.split_scalars();
        let twin = p256::ecdsa::Signature::from_scalars(r.to_bytes(), (-*s).to_bytes()).unwrap();
        format!("{message}.{}", b64(&twin.to_bytes()))
    };
    let i = assert_valid(&high, &jwk, "ES256");
    assert!(
        i.notes.iter().any(|n| n.contains("high S")),
        "{:?}",
        i.notes
    );
}

#[test]
fn a_public_paseto_shows_its_claims_and_expiry_and_a_local_one_only_its_footer() {
    use tokenbench::scheme::{PasetoPurpose, PasetoScheme};
    for purpose in PasetoPurpose::ALL {
        let scheme = PasetoScheme::new(
            purpose,
            JwtConfig::default(),
            RevocationStrategy::None,
            Arc::new(SystemClock),
        )
        .unwrap();
        let token = scheme.issue(&ClaimSet::Typical.claims("user-9")).unwrap();
        let report = inspect(&token, None, now()).unwrap();
        let TokenView::Paseto(view) = &report.token else {
            panic!("{purpose}: {:?}", report.token);
        };
        assert_eq!(view.protocol, format!("v4.{purpose}"));
        let footer = view.footer.as_deref().expect("a key id footer");
        assert!(footer.contains(&scheme.keys().key_id()), "{footer}");
        let text = report.render();
        match purpose {
            PasetoPurpose::Public => {
                assert_eq!(view.claims.as_ref().unwrap()["sub"], "user-9");
                assert!(view.claims_bytes > 100);
                assert!(
                    matches!(view.expiry, Some(Expiry::ExpiresIn { secs, .. }) if secs > 800),
                    "{:?}",
                    view.expiry
                );
                assert!(text.contains("readable by anyone"), "{text}");
            }
            PasetoPurpose::Local => {
                assert_eq!(view.claims, None);
                assert_eq!(view.claims_bytes, 0);
                assert_eq!(view.expiry, None);
                assert!(!text.contains("user-9"), "{text}");
                assert!(text.contains("nothing readable without the key"), "{text}");
            }
        }
        // A JWK cannot verify a PASETO: said so, and the exit status is 1.
        let jwk = public_jwk(
            JwtScheme::new(
                JwtAlg::EdDSA,
                JwtConfig::default(),
                RevocationStrategy::None,
                Arc::new(SystemClock),
            )
            .unwrap()
            .keys(),
        )
        .unwrap()
        .to_string();
        let checked = inspect(&token, Some(&jwk), now()).unwrap();
        assert!(matches!(verdict(&checked), Verdict::Invalid(_)));
        assert_eq!(checked.exit_code(), 1);
    }
}
