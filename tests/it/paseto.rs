//! PASETO v4's own attack list, beside the generic conformance suite both purposes pass
//! (`conformance.rs`): version and purpose confusion, a `v4.local` token made with a
//! `v4.public` verifier's public key as its secret, footer tampering, an implicit assertion
//! that does not match, the registered date claims, and oversized or truncated input.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use pasetors::keys::SymmetricKey;
use pasetors::version4::{LocalToken, V4};
use serde_json::{Value, json};
use tokenbench::clock::{Clock, ManualClock};
use tokenbench::scheme::paseto::{PasetoKeys, peek};
use tokenbench::scheme::{
    JwtConfig, PasetoPurpose, PasetoScheme, Rejection, RevocationStrategy, TokenScheme,
};

use crate::common::suite::assert_rejected;
use crate::common::{paseto_subject, typical};

fn variant(r: &Rejection) -> std::mem::Discriminant<Rejection> {
    std::mem::discriminant(r)
}

/// Asserts `scheme` refuses `token` with `want` (by variant).
#[track_caller]
fn refused(scheme: &dyn TokenScheme, token: &str, want: &Rejection) {
    match scheme.validate(token) {
        Ok(p) => panic!("{} accepted {token:?} as {p:?}", scheme.name()),
        Err(got) => assert_eq!(variant(&got), variant(want), "{got:?} for {token:?}"),
    }
}

/// Payload claims that pass the policy at `now`, dates as RFC 3339.
fn claims_at(now: u64) -> Value {
    let c = JwtConfig::default();
    json!({
        "iss": c.issuer, "aud": c.audience, "sub": "user-42",
        "iat": date(now), "exp": date(now + 600), "jti": "forged-jti", "roles": ["admin"],
    })
}

fn date(secs: u64) -> String {
    tokenbench::units::rfc3339(secs).unwrap()
}

fn scheme(purpose: PasetoPurpose, clock: Arc<ManualClock>) -> PasetoScheme {
    PasetoScheme::new(
        purpose,
        JwtConfig::default(),
        RevocationStrategy::None,
        clock,
    )
    .unwrap()
}

/// `token` with its `v4.<purpose>.` header replaced by `header`.
fn with_header(token: &str, header: &str) -> String {
    let rest = token.splitn(3, '.').nth(2).unwrap();
    format!("{header}{rest}")
}

fn segments(token: &str) -> Vec<&str> {
    token.split('.').collect()
}

#[test]
fn another_version_or_purpose_is_named_and_refused() {
    let clock = Arc::new(ManualClock::starting_now());
    let public = scheme(PasetoPurpose::Public, clock.clone());
    let local = scheme(PasetoPurpose::Local, clock);
    let p = public.issue(&typical()).unwrap();
    let l = local.issue(&typical()).unwrap();
    for (verifier, foreign, named) in [(&public, &l, "v4.local"), (&local, &p, "v4.public")] {
        match verifier.validate(foreign) {
            Err(Rejection::AlgorithmNotAllowed(n)) => assert_eq!(n, named),
            got => panic!("{}: {got:?}", verifier.name()),
        }
    }
    for header in ["v2.public.", "v3.public.", "v1.local.", "v4.secret."] {
        for (verifier, token) in [(&public, &p), (&local, &l)] {
            refused(
                verifier,
                &with_header(token, header),
                &Rejection::AlgorithmNotAllowed(String::new()),
            );
        }
    }
    // Relabelled as the other purpose, a token still names its own key in its footer; with
    // the verifier's footer put in as well, it reaches the signature or tag check and fails
    // it: the purpose is bound into what is authenticated.
    for (verifier, token, header) in [(&local, &p, "v4.local."), (&public, &l, "v4.public.")] {
        let relabelled = with_header(token, header);
        refused(
            verifier,
            &relabelled,
            &Rejection::InvalidHeader(String::new()),
        );
        let own_footer = URL_SAFE_NO_PAD.encode(verifier.keys().footer());
        let head = segments(&relabelled)[..3].join(".");
        refused(
            verifier,
            &format!("{head}.{own_footer}"),
            &Rejection::BadSignature,
        );
    }
    // Anything that is not PASETO-shaped is malformed, not "another algorithm".
    for junk in [
        "V4.public.x.y",
        "v.public.x.y",
        "v4..x.y",
        "v4.Public.x.y",
        "eyJh.eyJz.sig",
    ] {
        refused(&public, junk, &Rejection::Malformed(String::new()));
    }
}

#[test]
fn a_local_token_keyed_with_the_public_key_is_refused_by_both_purposes() {
    // The PASETO form of algorithm confusion: an attacker knows the v4.public verifier's
    // public key (32 bytes, the size of a v4.local key) and encrypts a v4.local token
    // with it, the verifier's footer and its implicit assertion.
    let clock = Arc::new(ManualClock::starting_now());
    let public = scheme(PasetoPurpose::Public, clock.clone());
    let local = scheme(PasetoPurpose::Local, clock.clone());
    let pk = public.keys().public_key().unwrap().as_bytes().to_vec();
    let as_secret = SymmetricKey::<V4>::from(&pk).unwrap();
    let payload = claims_at(clock.now_secs()).to_string();
    for verifier in [&public, &local] {
        let footer = verifier.keys().footer();
        let forged = LocalToken::encrypt(
            &as_secret,
            payload.as_bytes(),
            Some(&footer),
            Some(verifier.implicit_assertion()),
        )
        .unwrap();
        let want = match verifier.purpose() {
            PasetoPurpose::Public => Rejection::AlgorithmNotAllowed(String::new()),
            PasetoPurpose::Local => Rejection::BadSignature,
        };
        refused(verifier, &forged, &want);
    }
}

#[test]
fn a_tampered_missing_or_foreign_footer_is_refused() {
    for purpose in PasetoPurpose::ALL {
        let s = paseto_subject(purpose);
        let token = s.scheme.issue(&typical()).unwrap();
        let parts = segments(&token);
        let (head, footer) = (parts[..3].join("."), parts[3]);
        let decoded = URL_SAFE_NO_PAD.decode(footer).unwrap();
        let mut kid: Value = serde_json::from_slice(&decoded).unwrap();
        // No footer at all.
        assert_rejected(&s, &head, &Rejection::InvalidHeader(String::new()));
        // Another key's id (the twin's), a changed id, an extra member, whitespace.
        let twin_token = s.twin.issue(&typical()).unwrap();
        let twin_footer = segments(&twin_token)[3];
        kid["kid"] = json!(kid["kid"].as_str().unwrap().replace("k4.", "k3."));
        for other in [
            twin_footer.to_owned(),
            URL_SAFE_NO_PAD.encode(kid.to_string()),
            URL_SAFE_NO_PAD.encode(format!(
                "{}, \"admin\": true}}",
                String::from_utf8_lossy(&decoded).trim_end_matches('}')
            )),
            URL_SAFE_NO_PAD.encode(format!(" {}", String::from_utf8_lossy(&decoded))),
        ] {
            assert_rejected(
                &s,
                &format!("{head}.{other}"),
                &Rejection::InvalidHeader(String::new()),
            );
        }
        // Not base64url, and a fifth segment.
        assert_rejected(
            &s,
            &format!("{head}.{footer}!"),
            &Rejection::Malformed(String::new()),
        );
        assert_rejected(
            &s,
            &format!("{token}.x"),
            &Rejection::Malformed(String::new()),
        );
        // The footer is authenticated: the twin's token with our footer still fails.
        let twin_head = segments(&twin_token)[..3].join(".");
        assert_rejected(
            &s,
            &format!("{twin_head}.{footer}"),
            &Rejection::BadSignature,
        );
        assert!(s.scheme.validate(&token).is_ok());
    }
}

#[test]
fn a_token_bound_to_another_implicit_assertion_is_refused() {
    // Same key, same footer, another audience: the implicit assertion (never sent) differs,
    // so the signature or tag does not verify, whatever the claims say.
    for purpose in PasetoPurpose::ALL {
        let clock = Arc::new(ManualClock::starting_now());
        let ours = scheme(purpose, clock.clone());
        let keys: Arc<PasetoKeys> = ours.keys().clone();
        let elsewhere = PasetoScheme::with_keys(
            keys,
            JwtConfig {
                audience: "another-api".into(),
                ..JwtConfig::default()
            },
            RevocationStrategy::None,
            clock.clone(),
        );
        assert_ne!(elsewhere.implicit_assertion(), ours.implicit_assertion());
        let mut payload = claims_at(clock.now_secs());
        let token = elsewhere.seal(payload.to_string().as_bytes()).unwrap();
        refused(&ours, &token, &Rejection::BadSignature);
        // Sealed with our implicit assertion, the same claims pass.
        assert!(
            ours.validate(&ours.seal(payload.to_string().as_bytes()).unwrap())
                .is_ok()
        );
        // And the audience claim is still checked on its own.
        payload["aud"] = json!("another-api");
        let token = ours.seal(payload.to_string().as_bytes()).unwrap();
        refused(&ours, &token, &Rejection::InvalidClaims(String::new()));
    }
}

#[test]
fn registered_date_claims_are_enforced_on_the_clock() {
    for purpose in PasetoPurpose::ALL {
        let clock = Arc::new(ManualClock::starting_now());
        let s = scheme(purpose, clock.clone());
        let now = clock.now_secs();
        let life = JwtConfig::default().lifetime.as_secs();
        let seal = |edit: &dyn Fn(&mut Value)| {
            let mut c = claims_at(now);
            edit(&mut c);
            s.seal(c.to_string().as_bytes()).unwrap()
        };
        assert!(s.validate(&seal(&|_| {})).is_ok());
        // exp: refused at and after it.
        refused(
            &s,
            &seal(&|c| c["exp"] = json!(date(now))),
            &Rejection::Expired,
        );
        refused(
            &s,
            &seal(&|c| c["exp"] = json!(date(now - 1))),
            &Rejection::Expired,
        );
        // nbf: accepted from it on, refused before.
        assert!(s.validate(&seal(&|c| c["nbf"] = json!(date(now)))).is_ok());
        let not_yet = Rejection::NotYetValid(String::new());
        refused(&s, &seal(&|c| c["nbf"] = json!(date(now + 1))), &not_yet);
        // iat: not in the future.
        refused(&s, &seal(&|c| c["iat"] = json!(date(now + 60))), &not_yet);
        // A lifetime longer than the issuer gives.
        let too_long = Rejection::LifetimeTooLong {
            lifetime_secs: 0,
            max_secs: 0,
        };
        refused(
            &s,
            &seal(&|c| c["exp"] = json!(date(now + life + 1))),
            &too_long,
        );
        refused(
            &s,
            &seal(&|c| c["exp"] = json!("9999-12-31T23:59:59Z")),
            &too_long,
        );
        // Dates must be RFC 3339 strings with an offset; exp is required.
        let invalid = Rejection::InvalidClaims(String::new());
        for bad in [
            json!(now + 60),
            json!("tomorrow"),
            json!("2030-01-01T00:00:00"),
            json!(null),
        ] {
            refused(&s, &seal(&|c| c["exp"] = bad.clone()), &invalid);
            refused(&s, &seal(&|c| c["nbf"] = bad.clone()), &invalid);
        }
        refused(
            &s,
            &seal(&|c| drop(c.as_object_mut().unwrap().remove("exp"))),
            &invalid,
        );
        // Issuer, empty identifiers.
        refused(
            &s,
            &seal(&|c| c["iss"] = json!("https://evil.test")),
            &invalid,
        );
        refused(&s, &seal(&|c| c["jti"] = json!("")), &invalid);
        // A payload that is not JSON claims, or not UTF-8.
        refused(&s, &s.seal(b"[1,2,3]").unwrap(), &invalid);
        refused(&s, &s.seal(&[0xff, 0xfe, 0x7b]).unwrap(), &invalid);
        // The clock moves: a valid token expires exactly at its exp.
        let token = s.issue(&typical()).unwrap();
        clock.advance(Duration::from_secs(life) - Duration::from_millis(1));
        assert!(s.validate(&token).is_ok());
        clock.advance(Duration::from_millis(1));
        refused(&s, &token, &Rejection::Expired);
    }
}

#[test]
fn oversized_or_truncated_input_is_refused_before_any_cryptography() {
    for purpose in PasetoPurpose::ALL {
        let s = paseto_subject(purpose);
        let token = s.scheme.issue(&typical()).unwrap();
        let cap = JwtConfig::default().max_token_bytes;
        let fat = format!("{}{}", purpose.header(), "A".repeat(cap));
        assert_rejected(&s, &fat, &Rejection::Oversized { len: 0, max: 0 });
        // A body too short to hold a signature or a nonce and tag, and an empty body.
        let parts = segments(&token);
        let short = format!("{}{}.{}", purpose.header(), &parts[2][..20], parts[3]);
        assert_rejected(&s, &short, &Rejection::Malformed(String::new()));
        let empty = format!("{}.{}", purpose.header().trim_end_matches('.'), parts[3]);
        assert!(s.scheme.validate(&empty).is_err());
        assert_rejected(
            &s,
            purpose.header(),
            &Rejection::InvalidHeader(String::new()),
        );
    }
}

#[test]
fn only_a_public_token_shows_its_claims_to_the_holder() {
    for purpose in PasetoPurpose::ALL {
        let s = paseto_subject(purpose);
        let claims = typical();
        let token = s.scheme.issue(&claims).unwrap();
        let seen = peek(&token).expect("a v4 PASETO");
        match purpose {
            PasetoPurpose::Public => {
                let c = seen.claims.expect("v4.public claims are readable");
                assert_eq!(c["sub"], json!(claims.user_id));
                assert_eq!(c["roles"], json!(claims.roles));
            }
            PasetoPurpose::Local => {
                assert_eq!(seen.claims, None);
                // Neither the user id nor any role appears, in clear or base64url.
                for secret in std::iter::once(&claims.user_id).chain(&claims.roles) {
                    assert!(!token.contains(secret.as_str()));
                    assert!(!token.contains(&URL_SAFE_NO_PAD.encode(secret)));
                }
            }
        }
        // The footer (the key id) is public in both.
        assert!(seen.footer.unwrap().contains("\"kid\":\"k4."));
    }
}
