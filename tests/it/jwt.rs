//! JWT-only behaviour: expiry leeway, revocation strategies, claim checks, what the payload
//! reveals.

use std::sync::Arc;
use std::time::Duration;

use crate::common::*;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey};
use serde_json::json;
use tokenbench::claims::ClaimSet;
use tokenbench::clock::{Clock, ManualClock};
use tokenbench::denylist::{Denylist, MemoryDenylist};
use tokenbench::scheme::jwt::peek;
use tokenbench::scheme::{
    CachedScheme, JwtAlg, JwtConfig, JwtScheme, Rejection, RevocationStrategy, SchemeError,
    TokenScheme,
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
    let key = s.keys().encoding_key().expect("generated keys sign");
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

#[test]
fn es256_tokens_are_issued_low_s_and_their_high_s_twin_is_refused() {
    // Decision (issue 9): JwtScheme refuses high-S ES256 signatures and issues only low-S
    // ones, so an ES256 token has one accepted spelling, as on the other algorithms.
    let (s, _) = scheme(
        JwtAlg::ES256,
        JwtConfig::default(),
        RevocationStrategy::None,
    );
    for _ in 0..64 {
        let token = s.issue(&typical()).unwrap();
        let (message, sig) = token.rsplit_once('.').unwrap();
        let raw = URL_SAFE_NO_PAD.decode(sig).unwrap();
        let parsed = p256::ecdsa::Signature::from_slice(&raw).unwrap();
        assert!(parsed.normalize_s().is_none(), "issued a high-S signature");
        let twin = format!(
            "{message}.{}",
            URL_SAFE_NO_PAD.encode(crate::common::suite::high_s_twin(&raw))
        );
        assert!(
            matches!(s.validate(&twin), Err(Rejection::Malformed(ref why)) if why.contains("high S")),
            "{:?}",
            s.validate(&twin)
        );
    }
}

/// A verifier without the low-S rule (as jsonwebtoken alone is): it accepts the high-S twin
/// of an ES256 token as the same token. The cache must still evict both spellings.
struct AcceptsTwins(JwtScheme);

impl AcceptsTwins {
    fn low_s(token: &str) -> String {
        let Some((message, sig)) = token.rsplit_once('.') else {
            return token.to_owned();
        };
        let Ok(raw) = URL_SAFE_NO_PAD.decode(sig) else {
            return token.to_owned();
        };
        match p256::ecdsa::Signature::from_slice(&raw)
            .ok()
            .and_then(|s| s.normalize_s())
        {
            Some(low) => format!("{message}.{}", URL_SAFE_NO_PAD.encode(low.to_bytes())),
            None => token.to_owned(),
        }
    }
}

impl TokenScheme for AcceptsTwins {
    fn name(&self) -> String {
        self.0.name()
    }
    fn issue(&self, claims: &tokenbench::claims::Claims) -> Result<String, SchemeError> {
        self.0.issue(claims)
    }
    fn validate(&self, token: &str) -> Result<tokenbench::scheme::Principal, Rejection> {
        self.0.validate(&Self::low_s(token))
    }
    fn revoke(&self, token: &str) -> Result<(), SchemeError> {
        self.0.revoke(&Self::low_s(token))
    }
    fn credential_id<'t>(&self, token: &'t str) -> Option<std::borrow::Cow<'t, str>> {
        self.0.credential_id(token)
    }
}

#[test]
fn a_node_cache_keyed_by_identity_evicts_a_malleable_twin_on_revoke() {
    let (inner, clock) = scheme(
        JwtAlg::ES256,
        JwtConfig::default(),
        RevocationStrategy::CentralDenylist(Arc::new(MemoryDenylist::new())),
    );
    let lenient = Arc::new(AcceptsTwins(inner));
    let node = CachedScheme::new(lenient.clone(), Duration::from_secs(3600), clock);
    let token = node.issue(&typical()).unwrap();
    let (message, sig) = token.rsplit_once('.').unwrap();
    let twin = format!(
        "{message}.{}",
        URL_SAFE_NO_PAD.encode(crate::common::suite::high_s_twin(
            &URL_SAFE_NO_PAD.decode(sig).unwrap()
        ))
    );
    // Both spellings are accepted by this verifier, and cached on this node as one entry.
    assert!(node.validate(&token).is_ok());
    assert!(node.validate(&twin).is_ok());
    assert_eq!(node.cached(), 1, "one entry per credential");
    // Revoking one spelling on this node evicts the credential: neither is served again.
    node.revoke(&token).unwrap();
    assert_eq!(node.cached(), 0);
    assert_eq!(node.validate(&twin), Err(Rejection::Revoked));
    assert_eq!(node.validate(&token), Err(Rejection::Revoked));
}

#[test]
fn a_cache_hit_serves_only_the_string_the_inner_scheme_accepted() {
    // The identity is read without verification: a forgery naming a cached jti must go to
    // the inner scheme (and be refused), never be served from the entry.
    let (inner, clock) = scheme(
        JwtAlg::HS256,
        JwtConfig::default(),
        RevocationStrategy::None,
    );
    let inner = Arc::new(inner);
    let node = CachedScheme::new(inner.clone(), Duration::from_secs(3600), clock);
    let token = node.issue(&typical()).unwrap();
    assert!(node.validate(&token).is_ok());
    let mut claims = peek(&token).unwrap().1;
    claims["roles"] = json!(["admin"]);
    let parts: Vec<&str> = token.split('.').collect();
    let forged = format!(
        "{}.{}.{}",
        parts[0],
        URL_SAFE_NO_PAD.encode(claims.to_string()),
        parts[2]
    );
    assert_eq!(node.credential_id(&forged), node.credential_id(&token));
    assert_eq!(node.validate(&forged), Err(Rejection::BadSignature));
}
