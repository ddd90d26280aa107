//! JWT-only behaviour: expiry leeway, revocation strategies, claim checks, what the payload
//! reveals.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use jsonwebtoken::{Algorithm, EncodingKey};
use serde_json::json;
use tokenbench::claims::ClaimSet;
use tokenbench::clock::{Clock, ManualClock};
use tokenbench::denylist::{Denylist, MemoryDenylist};
use tokenbench::scheme::jwt::peek;
use tokenbench::scheme::{
    JwtAlg, JwtConfig, JwtScheme, Rejection, RevocationStrategy, SchemeError, TokenScheme,
};
use tokenbench::store::{StoreError, StoreResult};

fn scheme(
    alg: JwtAlg,
    config: JwtConfig,
    revocation: RevocationStrategy,
) -> (JwtScheme, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::starting_now());
    (
        JwtScheme::new(alg, config, revocation, clock.clone()).unwrap(),
        clock,
    )
}

#[test]
fn exp_equal_to_now_is_expired_at_zero_leeway() {
    let (s, clock) = scheme(
        JwtAlg::HS256,
        JwtConfig::default(),
        RevocationStrategy::None,
    );
    let token = s.issue(&typical()).unwrap();
    let exp = peek(&token).unwrap().1["exp"].as_u64().unwrap();
    assert_eq!(exp, clock.now_secs() + 15 * 60);
    clock.set(Duration::from_secs(exp - 1));
    assert!(s.validate(&token).is_ok());
    clock.set(Duration::from_secs(exp));
    assert_eq!(s.validate(&token).unwrap_err(), Rejection::Expired);
}

#[test]
fn leeway_extends_acceptance_by_exactly_its_seconds() {
    let config = JwtConfig {
        leeway_secs: 30,
        ..JwtConfig::default()
    };
    let (s, clock) = scheme(JwtAlg::ES256, config, RevocationStrategy::None);
    let token = s.issue(&typical()).unwrap();
    let exp = peek(&token).unwrap().1["exp"].as_u64().unwrap();
    clock.set(Duration::from_secs(exp + 29));
    assert!(s.validate(&token).is_ok());
    clock.set(Duration::from_secs(exp + 30));
    assert_eq!(s.validate(&token).unwrap_err(), Rejection::Expired);
}

#[test]
fn without_a_denylist_revoke_is_refused_and_the_token_lives_until_exp() {
    let (s, clock) = scheme(
        JwtAlg::EdDSA,
        JwtConfig::default(),
        RevocationStrategy::None,
    );
    let token = s.issue(&typical()).unwrap();
    assert_eq!(
        s.revoke(&token).unwrap_err(),
        SchemeError::RevocationUnsupported
    );
    clock.advance(Duration::from_secs(15 * 60 - 1));
    assert!(
        s.validate(&token).is_ok(),
        "still valid one second before exp"
    );
}

#[test]
fn denylist_entries_expire_with_the_token() {
    let denylist = Arc::new(MemoryDenylist::new());
    let (s, clock) = scheme(
        JwtAlg::HS256,
        JwtConfig::default(),
        RevocationStrategy::CentralDenylist(denylist.clone()),
    );
    let token = s.issue(&typical()).unwrap();
    s.revoke(&token).unwrap();
    assert_eq!(denylist.len(), 1);
    clock.advance(Duration::from_secs(15 * 60));
    assert_eq!(denylist.purge_expired(clock.now_secs()), 1);
    assert_eq!(s.validate(&token).unwrap_err(), Rejection::Expired);
}

/// A denylist whose backing service is down.
struct Unreachable;

impl Denylist for Unreachable {
    fn name(&self) -> &'static str {
        "unreachable"
    }
    fn insert(&self, _: &str, _: u64) -> StoreResult<()> {
        Err(StoreError::Unavailable("connection refused".into()))
    }
    fn contains(&self, _: &str, _: u64) -> StoreResult<bool> {
        Err(StoreError::Unavailable("connection refused".into()))
    }
    fn len(&self) -> usize {
        0
    }
}

#[test]
fn an_unreachable_denylist_fails_closed() {
    let (s, _) = scheme(
        JwtAlg::HS256,
        JwtConfig::default(),
        RevocationStrategy::CentralDenylist(Arc::new(Unreachable)),
    );
    let token = s.issue(&typical()).unwrap();
    assert!(matches!(
        s.validate(&token),
        Err(Rejection::StoreUnavailable(_))
    ));
    assert!(matches!(s.revoke(&token), Err(SchemeError::Store(_))));
}

#[test]
fn wrong_issuer_audience_or_missing_claims_are_rejected() {
    let (s, clock) = scheme(
        JwtAlg::HS256,
        JwtConfig::default(),
        RevocationStrategy::None,
    );
    let now = clock.now_secs();
    // Sign with the scheme's own key so only the claims are wrong.
    let key = s.keys().encoding_key();
    let mut claims = valid_wire_claims(now);
    claims["iss"] = json!("https://evil.example");
    assert!(matches!(
        s.validate(&sign(Algorithm::HS256, &claims, key)),
        Err(Rejection::InvalidClaims(_))
    ));
    let mut claims = valid_wire_claims(now);
    claims["aud"] = json!("another-api");
    assert!(matches!(
        s.validate(&sign(Algorithm::HS256, &claims, key)),
        Err(Rejection::InvalidClaims(_))
    ));
    for missing in ["exp", "iss", "aud", "sub"] {
        let mut claims = valid_wire_claims(now);
        claims.as_object_mut().unwrap().remove(missing);
        let got = s.validate(&sign(Algorithm::HS256, &claims, key));
        assert!(
            matches!(got, Err(Rejection::InvalidClaims(_))),
            "{missing}: {got:?}"
        );
    }
    // And the same claims, correct, are accepted: the forgery helper is sound.
    assert!(
        s.validate(&sign(Algorithm::HS256, &valid_wire_claims(now), key))
            .is_ok()
    );
}

#[test]
fn the_payload_is_readable_by_anyone_holding_the_token() {
    let (s, _) = scheme(
        JwtAlg::RS256,
        JwtConfig::default(),
        RevocationStrategy::None,
    );
    let claims = ClaimSet::Typical.claims("user-42");
    let token = s.issue(&claims).unwrap();
    let (header, payload) = peek(&token).unwrap();
    assert_eq!(header["alg"], "RS256");
    assert_eq!(payload["sub"], "user-42");
    assert_eq!(payload["profile"]["email"], "ada@example.com");
    assert_eq!(payload["jti"].as_str().unwrap().len(), 22);
}

#[test]
fn keys_are_fresh_per_scheme() {
    let a = JwtScheme::new(
        JwtAlg::HS256,
        JwtConfig::default(),
        RevocationStrategy::None,
        Arc::new(ManualClock::starting_now()),
    )
    .unwrap();
    let b = JwtScheme::new(
        JwtAlg::HS256,
        JwtConfig::default(),
        RevocationStrategy::None,
        Arc::new(ManualClock::starting_now()),
    )
    .unwrap();
    let token = a.issue(&typical()).unwrap();
    assert_eq!(b.validate(&token).unwrap_err(), Rejection::BadSignature);
    let _ = EncodingKey::from_secret(b"unused");
}
