//! Signed JWTs on the `jsonwebtoken` crate: the claims travel in the token.
//!
//! - [`header`]: the JOSE header policy, shared with `tokenbench inspect --jwk`.
//! - [`claims`]: the payload ([`WireClaims`]) and the claims policy.
//! - `keys`: key generation and (de)serialization, signing and verification (low-S ES256).
//!
//! `validate` reads a token in this order, and reports the first problem found:
//! size, three segments, header (parsed once, strictly; [`header`]), signature (with the
//! one allowed algorithm; `keys`), claims ([`claims`]), then the denylist. A header
//! problem is therefore always reported as one, before any claim is read.

pub mod claims;
pub mod header;
mod keys;

pub use claims::{Audience, WireClaims};
pub use header::{HeaderError, JoseHeader};
pub use keys::{JwtKeys, MIN_RSA_BITS, is_high_s};
pub(crate) use keys::{check_ed25519_public, verify_only as keys_verify_only};

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, Header, Validation};
use serde::{Deserialize, Serialize};

use super::{DEFAULT_MAX_TOKEN_BYTES, Principal, Rejection, SchemeError, TokenScheme};
use crate::claims::Claims;
use crate::clock::Clock;
use crate::denylist::Denylist;

/// The signature algorithms tokenbench compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum JwtAlg {
    /// HMAC-SHA256 with a random 256-bit shared secret.
    HS256,
    /// RSASSA-PKCS1-v1_5 with SHA-256, 2048-bit key.
    RS256,
    /// ECDSA on P-256 with SHA-256.
    ES256,
    /// Ed25519.
    EdDSA,
}

impl JwtAlg {
    /// All algorithms, in report order.
    pub const ALL: [JwtAlg; 4] = [JwtAlg::HS256, JwtAlg::RS256, JwtAlg::ES256, JwtAlg::EdDSA];

    /// The JOSE `alg` name.
    pub fn name(self) -> &'static str {
        match self {
            JwtAlg::HS256 => "HS256",
            JwtAlg::RS256 => "RS256",
            JwtAlg::ES256 => "ES256",
            JwtAlg::EdDSA => "EdDSA",
        }
    }

    /// The `jsonwebtoken` algorithm.
    pub fn algorithm(self) -> Algorithm {
        match self {
            JwtAlg::HS256 => Algorithm::HS256,
            JwtAlg::RS256 => Algorithm::RS256,
            JwtAlg::ES256 => Algorithm::ES256,
            JwtAlg::EdDSA => Algorithm::EdDSA,
        }
    }
}

impl fmt::Display for JwtAlg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.name())
    }
}

impl FromStr for JwtAlg {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        JwtAlg::ALL
            .into_iter()
            .find(|a| a.name().eq_ignore_ascii_case(s))
            .ok_or_else(|| {
                format!("unknown JWT algorithm '{s}' (expected HS256, RS256, ES256 or EdDSA)")
            })
    }
}

/// How a JWT scheme handles revocation.
#[derive(Clone)]
pub enum RevocationStrategy {
    /// Tokens cannot be revoked; they die at `exp`.
    None,
    /// Every validate checks the `jti` against a denylist; revoke adds it.
    CentralDenylist(Arc<dyn Denylist>),
}

impl RevocationStrategy {
    /// Name used in results.
    pub fn name(&self) -> String {
        match self {
            RevocationStrategy::None => "expiry-only".into(),
            RevocationStrategy::CentralDenylist(d) => format!("denylist-{}", d.name()),
        }
    }
}

impl fmt::Debug for RevocationStrategy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

/// Issuer, audience and lifetime policy of a JWT scheme.
#[derive(Debug, Clone)]
pub struct JwtConfig {
    /// `iss` put in and required.
    pub issuer: String,
    /// `aud` put in and required (or one of an array, RFC 7519 4.1.3).
    pub audience: String,
    /// Time from issue to `exp`.
    pub lifetime: Duration,
    /// The longest `exp - iat` accepted; `None` (the default) means [`lifetime`](Self::lifetime),
    /// the lifetime this scheme issues: a longer-lived token is not one it made.
    pub max_lifetime: Option<Duration>,
    /// Seconds of clock skew tolerated after `exp`, before `nbf` and after `iat`; 0 by default.
    pub leeway_secs: u64,
    /// Tokens longer than this are rejected before any parsing.
    pub max_token_bytes: usize,
}

impl Default for JwtConfig {
    fn default() -> Self {
        Self {
            issuer: "https://auth.tokenbench.test".into(),
            audience: "tokenbench-api".into(),
            lifetime: Duration::from_secs(15 * 60),
            max_lifetime: None,
            leeway_secs: 0,
            max_token_bytes: DEFAULT_MAX_TOKEN_BYTES,
        }
    }
}

impl JwtConfig {
    /// The longest lifetime accepted (see [`max_lifetime`](Self::max_lifetime)).
    pub fn max_lifetime(&self) -> Duration {
        self.max_lifetime.unwrap_or(self.lifetime)
    }
}

/// Signed JWTs with one algorithm, one key pair and one revocation strategy.
pub struct JwtScheme {
    keys: Arc<JwtKeys>,
    config: JwtConfig,
    revocation: RevocationStrategy,
    clock: Arc<dyn Clock>,
}

impl JwtScheme {
    /// A scheme with freshly generated keys for `alg`.
    pub fn new(
        alg: JwtAlg,
        config: JwtConfig,
        revocation: RevocationStrategy,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, SchemeError> {
        Ok(Self::with_keys(
            Arc::new(JwtKeys::generate(alg)?),
            config,
            revocation,
            clock,
        ))
    }

    /// A scheme sharing `keys` with others (several validator nodes of one issuer).
    pub fn with_keys(
        keys: Arc<JwtKeys>,
        config: JwtConfig,
        revocation: RevocationStrategy,
        clock: Arc<dyn Clock>,
    ) -> Self {
        crate::crypto::active();
        Self {
            keys,
            config,
            revocation,
            clock,
        }
    }

    /// The algorithm this scheme signs with and is the only one it accepts.
    pub fn alg(&self) -> JwtAlg {
        self.keys.alg()
    }

    /// The keys of this scheme.
    pub fn keys(&self) -> &Arc<JwtKeys> {
        &self.keys
    }

    /// The configuration in force.
    pub fn config(&self) -> &JwtConfig {
        &self.config
    }

    /// The `jsonwebtoken` validation equivalent to this scheme's signature, issuer and
    /// audience checks, for the bare-`decode` reference rows of the validate workload (the
    /// scheme itself verifies through [`header`], `keys` and [`claims`]).
    pub fn validation(&self) -> Validation {
        let mut v = Validation::new(self.alg().algorithm());
        v.set_issuer(&[&self.config.issuer]);
        v.set_audience(&[&self.config.audience]);
        v.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        v.validate_exp = false;
        v.validate_nbf = false;
        v.leeway = 0;
        v
    }

    /// The revocation strategy.
    pub fn revocation(&self) -> &RevocationStrategy {
        &self.revocation
    }

    /// Verifies size, shape, header and signature, and parses the claims; applies no
    /// claim policy. The header is refused before anything else is looked at.
    fn authentic(&self, token: &str) -> Result<WireClaims, Rejection> {
        if token.is_empty() {
            return Err(Rejection::Empty);
        }
        if token.len() > self.config.max_token_bytes {
            return Err(Rejection::Oversized {
                len: token.len(),
                max: self.config.max_token_bytes,
            });
        }
        let (header, payload, signature) = split(token)?;
        JoseHeader::parse_checked(header, self.alg().name())?;
        let message = &token[..header.len() + 1 + payload.len()];
        keys::verify(message.as_bytes(), signature, &self.keys)?;
        let json = URL_SAFE_NO_PAD
            .decode(payload)
            .map_err(|e| Rejection::Malformed(format!("claims: base64: {e}")))?;
        claims::parse(&json)
    }

    /// Stage 1 of `validate`, alone: the strict header parse and the header policy.
    /// With [`stage_signature`](Self::stage_signature) and [`stage_claims`](Self::stage_claims)
    /// it is what the validate workload's breakdown measures, so that the parts are the
    /// steps `validate` really takes (their sum is `validate` less the denylist lookup and
    /// building the principal).
    pub fn stage_header(&self, token: &str) -> Result<(), Rejection> {
        let (header, _, _) = split(token)?;
        JoseHeader::parse_checked(header, self.alg().name())?;
        Ok(())
    }

    /// Stage 2 of `validate`, alone: the signature over `header.payload` (see
    /// [`stage_header`](Self::stage_header)).
    pub fn stage_signature(&self, token: &str) -> Result<(), Rejection> {
        let (header, payload, signature) = split(token)?;
        let message = &token[..header.len() + 1 + payload.len()];
        keys::verify(message.as_bytes(), signature, &self.keys)
    }

    /// Stage 3 of `validate`, alone: decode and parse the claims and apply the claims
    /// policy at the clock's time (see [`stage_header`](Self::stage_header)).
    pub fn stage_claims(&self, token: &str) -> Result<(), Rejection> {
        let (_, payload, _) = split(token)?;
        let json = URL_SAFE_NO_PAD
            .decode(payload)
            .map_err(|e| Rejection::Malformed(format!("claims: base64: {e}")))?;
        claims::check(&claims::parse(&json)?, &self.config, self.clock.now_secs())
    }

    /// [`authentic`](Self::authentic), then the claims policy at the clock's time.
    fn verify(&self, token: &str) -> Result<(WireClaims, u64), Rejection> {
        let wire = self.authentic(token)?;
        let now = self.clock.now_secs();
        claims::check(&wire, &self.config, now)?;
        Ok((wire, now))
    }
}

/// The three segments of a compact JWS, or why `token` is not one.
fn split(token: &str) -> Result<(&str, &str, &str), Rejection> {
    let mut parts = token.split('.');
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(h), Some(p), Some(s), None) => Ok((h, p, s)),
        _ => Err(Rejection::Malformed(format!(
            "a JWT has 3 dot-separated segments, this has {}",
            token.split('.').count()
        ))),
    }
}

impl JwtScheme {
    /// [`TokenScheme::issue`], with the `sid` claim (a session or refresh-family id) when
    /// `sid` is given: the hybrid's access tokens name their family.
    pub fn issue_with_sid(
        &self,
        claims: &Claims,
        sid: Option<&str>,
    ) -> Result<String, SchemeError> {
        claims.check().map_err(SchemeError::InvalidClaims)?;
        let now = self.clock.now_secs();
        let wire = WireClaims {
            iss: self.config.issuer.clone(),
            aud: Audience::One(self.config.audience.clone()),
            sub: claims.user_id.clone(),
            iat: Some(now),
            exp: now.saturating_add(self.config.lifetime.as_secs()),
            nbf: None,
            jti: super::session::random_b64(16),
            sid: sid.map(str::to_owned),
            roles: claims.roles.clone(),
            profile: claims.profile.clone(),
        };
        let key = self.keys.encoding_key().ok_or_else(keys::verify_only)?;
        let token = jsonwebtoken::encode(&Header::new(self.alg().algorithm()), &wire, key)
            .map_err(|e| SchemeError::Signing(e.to_string()))?;
        keys::canonical(token, self.alg())
    }

    /// The `sid` claim of `token` once it is verified (signature, claims policy and, with a
    /// denylist, not revoked): never read from an unverified token.
    pub fn verified_sid(&self, token: &str) -> Result<Option<String>, Rejection> {
        let (wire, now) = self.verify(token)?;
        if let RevocationStrategy::CentralDenylist(d) = &self.revocation
            && d.contains(&wire.jti, now)?
        {
            return Err(Rejection::Revoked);
        }
        Ok(wire.sid)
    }
}

impl TokenScheme for JwtScheme {
    fn name(&self) -> String {
        super::spec::SchemeId::Jwt(self.alg()).to_string()
    }

    fn issue(&self, claims: &Claims) -> Result<String, SchemeError> {
        self.issue_with_sid(claims, None)
    }

    fn validate(&self, token: &str) -> Result<Principal, Rejection> {
        let (wire, now) = self.verify(token)?;
        if let RevocationStrategy::CentralDenylist(d) = &self.revocation
            && d.contains(&wire.jti, now)?
        {
            return Err(Rejection::Revoked);
        }
        Ok(Principal {
            expires_at_secs: wire.exp,
            claims: Arc::new(Claims {
                user_id: wire.sub,
                roles: wire.roles,
                profile: wire.profile,
            }),
        })
    }

    fn revoke(&self, token: &str) -> Result<(), SchemeError> {
        let RevocationStrategy::CentralDenylist(d) = &self.revocation else {
            return Err(SchemeError::RevocationUnsupported);
        };
        // Only authentic tokens go on the list, so forged input cannot grow it; the
        // lifetime policy bounds how long an entry is kept.
        let (wire, _) = self.verify(token).map_err(SchemeError::NotRevocable)?;
        d.insert(&wire.jti, wire.exp.saturating_add(self.config.leeway_secs))?;
        Ok(())
    }

    fn credential_id<'t>(&self, token: &'t str) -> Option<Cow<'t, str>> {
        let (_, payload, _) = split(token).ok()?;
        let json = URL_SAFE_NO_PAD.decode(payload).ok()?;
        claims::jti_of(&json).map(Cow::Owned)
    }
}

/// Reads the header and claims of any JWT without verifying it: what anyone holding the
/// token can see. Returns `None` when `token` is not three base64url JSON segments.
pub fn peek(token: &str) -> Option<(serde_json::Value, serde_json::Value)> {
    let (h, p, _) = split(token).ok()?;
    let decode = |s: &str| {
        URL_SAFE_NO_PAD
            .decode(s)
            .ok()
            .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
    };
    Some((decode(h)?, decode(p)?))
}
