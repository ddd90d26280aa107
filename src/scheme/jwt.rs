//! Signed JWTs on the `jsonwebtoken` crate: the claims travel in the token.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::Rng;
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
        f.write_str(self.name())
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

/// A signing key and its verification key, generated at run time and never persisted.
pub struct JwtKeys {
    alg: JwtAlg,
    encoding: EncodingKey,
    decoding: DecodingKey,
    /// Public key bytes (PKCS#1 DER for RSA, SEC1 point for EC, raw for Ed25519); `None` for HMAC.
    public_der: Option<Vec<u8>>,
}

impl fmt::Debug for JwtKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwtKeys")
            .field("alg", &self.alg)
            .finish_non_exhaustive()
    }
}

impl JwtKeys {
    /// Fresh keys for `alg` from the operating system's CSPRNG.
    pub fn generate(alg: JwtAlg) -> Result<Self, SchemeError> {
        use aws_lc_rs::signature::{
            ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair, KeyPair,
        };
        let err = |what: &str| SchemeError::Signing(format!("{alg} key generation failed: {what}"));
        Ok(match alg {
            JwtAlg::HS256 => {
                let mut secret = [0u8; 32];
                rand::rng().fill_bytes(&mut secret);
                JwtKeys {
                    alg,
                    encoding: EncodingKey::from_secret(&secret),
                    decoding: DecodingKey::from_secret(&secret),
                    public_der: None,
                }
            }
            JwtAlg::RS256 => {
                use aws_lc_rs::encoding::AsDer;
                use rsa::pkcs1::{EncodeRsaPrivateKey, EncodeRsaPublicKey};
                use rsa::pkcs8::DecodePrivateKey;
                use rsa::traits::PublicKeyParts;
                let pair = aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048)
                    .map_err(|_| err("RSA generate"))?;
                let pkcs8 = pair.as_der().map_err(|_| err("RSA PKCS#8"))?;
                let private = rsa::RsaPrivateKey::from_pkcs8_der(pkcs8.as_ref())
                    .map_err(|e| err(&e.to_string()))?;
                let pkcs1 = private.to_pkcs1_der().map_err(|e| err(&e.to_string()))?;
                let public = private.to_public_key();
                JwtKeys {
                    alg,
                    encoding: EncodingKey::from_rsa_der(pkcs1.as_bytes()),
                    decoding: DecodingKey::from_rsa_raw_components(
                        &public.n().to_bytes_be(),
                        &public.e().to_bytes_be(),
                    ),
                    public_der: Some(
                        public
                            .to_pkcs1_der()
                            .map_err(|e| err(&e.to_string()))?
                            .into_vec(),
                    ),
                }
            }
            JwtAlg::ES256 => {
                let rng = aws_lc_rs::rand::SystemRandom::new();
                let doc = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
                    .map_err(|_| err("P-256 generate"))?;
                let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, doc.as_ref())
                    .map_err(|_| err("P-256 parse"))?;
                let point = pair.public_key().as_ref().to_vec();
                JwtKeys {
                    alg,
                    encoding: EncodingKey::from_ec_der(doc.as_ref()),
                    decoding: DecodingKey::from_ec_der(&point),
                    public_der: Some(point),
                }
            }
            JwtAlg::EdDSA => {
                let rng = aws_lc_rs::rand::SystemRandom::new();
                let doc =
                    Ed25519KeyPair::generate_pkcs8v1(&rng).map_err(|_| err("Ed25519 generate"))?;
                let pair =
                    Ed25519KeyPair::from_pkcs8(doc.as_ref()).map_err(|_| err("Ed25519 parse"))?;
                let public = pair.public_key().as_ref().to_vec();
                JwtKeys {
                    alg,
                    encoding: EncodingKey::from_ed_der(doc.as_ref()),
                    decoding: DecodingKey::from_ed_der(&public),
                    public_der: Some(public),
                }
            }
        })
    }

    /// The algorithm these keys are for.
    pub fn alg(&self) -> JwtAlg {
        self.alg
    }

    /// The verification key.
    pub fn decoding_key(&self) -> &DecodingKey {
        &self.decoding
    }

    /// The signing key.
    pub fn encoding_key(&self) -> &EncodingKey {
        &self.encoding
    }

    /// Public key bytes for asymmetric algorithms; `None` for HS256.
    pub fn public_key_bytes(&self) -> Option<&[u8]> {
        self.public_der.as_deref()
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
    /// `aud` put in and required.
    pub audience: String,
    /// Time from issue to `exp`.
    pub lifetime: Duration,
    /// Seconds of clock skew tolerated after `exp`; 0 by default.
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
            leeway_secs: 0,
            max_token_bytes: DEFAULT_MAX_TOKEN_BYTES,
        }
    }
}

/// The JWT payload: registered claims plus the application [`Claims`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WireClaims {
    /// Issuer.
    pub iss: String,
    /// Audience.
    pub aud: String,
    /// Subject: the user id.
    pub sub: String,
    /// Issued at (Unix seconds).
    pub iat: u64,
    /// Expiry (Unix seconds); the token is invalid at and after this second.
    pub exp: u64,
    /// Unique token id, 128 random bits.
    pub jti: String,
    /// Roles and permissions.
    pub roles: Vec<String>,
    /// Profile entries.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub profile: BTreeMap<String, String>,
}

/// Signed JWTs with one algorithm, one key pair and one revocation strategy.
pub struct JwtScheme {
    keys: Arc<JwtKeys>,
    config: JwtConfig,
    validation: Validation,
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
            validation: validation_for(keys.alg, &config),
            keys,
            config,
            revocation,
            clock,
        }
    }

    /// The algorithm this scheme signs with and is the only one it accepts.
    pub fn alg(&self) -> JwtAlg {
        self.keys.alg
    }

    /// The keys of this scheme.
    pub fn keys(&self) -> &Arc<JwtKeys> {
        &self.keys
    }

    /// The configuration in force.
    pub fn config(&self) -> &JwtConfig {
        &self.config
    }

    /// The `jsonwebtoken` validation this scheme applies (expiry is checked separately,
    /// against the injected clock).
    pub fn validation(&self) -> &Validation {
        &self.validation
    }

    /// The revocation strategy.
    pub fn revocation(&self) -> &RevocationStrategy {
        &self.revocation
    }

    /// Verifies signature, algorithm, issuer and audience; not expiry or revocation.
    fn verify(&self, token: &str) -> Result<WireClaims, Rejection> {
        if token.is_empty() {
            return Err(Rejection::Empty);
        }
        if token.len() > self.config.max_token_bytes {
            return Err(Rejection::Oversized {
                len: token.len(),
                max: self.config.max_token_bytes,
            });
        }
        jsonwebtoken::decode::<WireClaims>(token, &self.keys.decoding, &self.validation)
            .map(|d| d.claims)
            .map_err(|e| match e.into_kind() {
                // The crate parses the header, checks the algorithm, verifies the signature,
                // then parses the claims. A JSON error therefore means: an unreadable header,
                // a header naming an algorithm the crate does not know (`none`, `None`...),
                // or, with a good header, claims of an authentic token that lack a field.
                ErrorKind::Json(e) => match header_alg(token) {
                    Some(alg) if alg != self.keys.alg.name() => Rejection::AlgorithmNotAllowed(alg),
                    Some(_) => Rejection::InvalidClaims(format!("claims: {e}")),
                    None => Rejection::Malformed(format!("header: {e}")),
                },
                kind => rejection_from(kind),
            })
    }
}

/// The crate's validation for one algorithm: `iss`, `aud`, `sub` and `exp` required.
/// The crate compares `exp` with the system clock and accepts `exp == now`; tokenbench
/// turns that off and enforces `now < exp + leeway` on its own clock instead.
fn validation_for(alg: JwtAlg, config: &JwtConfig) -> Validation {
    let mut v = Validation::new(alg.algorithm());
    v.set_issuer(&[&config.issuer]);
    v.set_audience(&[&config.audience]);
    v.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    v.validate_exp = false;
    v.validate_nbf = false;
    v.leeway = 0;
    v
}

fn rejection_from(kind: ErrorKind) -> Rejection {
    match kind {
        ErrorKind::InvalidSignature => Rejection::BadSignature,
        ErrorKind::InvalidAlgorithm
        | ErrorKind::InvalidAlgorithmName
        | ErrorKind::MissingAlgorithm => Rejection::AlgorithmNotAllowed(format!("{kind:?}")),
        ErrorKind::InvalidIssuer
        | ErrorKind::InvalidAudience
        | ErrorKind::InvalidSubject
        | ErrorKind::MissingRequiredClaim(_)
        | ErrorKind::InvalidClaimFormat(_) => Rejection::InvalidClaims(format!("{kind:?}")),
        ErrorKind::ExpiredSignature => Rejection::Expired,
        ErrorKind::Base64(e) => Rejection::Malformed(format!("base64: {e}")),
        ErrorKind::Utf8(e) => Rejection::Malformed(format!("UTF-8: {e}")),
        // A key of the wrong family for the token's algorithm is the confusion case.
        ErrorKind::InvalidKeyFormat
        | ErrorKind::InvalidRsaKey(_)
        | ErrorKind::InvalidEcdsaKey
        | ErrorKind::InvalidEddsaKey => Rejection::AlgorithmNotAllowed(format!("{kind:?}")),
        other => Rejection::Malformed(format!("{other:?}")),
    }
}

impl TokenScheme for JwtScheme {
    fn name(&self) -> String {
        format!("jwt-{}", self.keys.alg)
    }

    fn issue(&self, claims: &Claims) -> Result<String, SchemeError> {
        let now = self.clock.now_secs();
        let wire = WireClaims {
            iss: self.config.issuer.clone(),
            aud: self.config.audience.clone(),
            sub: claims.user_id.clone(),
            iat: now,
            exp: now.saturating_add(self.config.lifetime.as_secs()),
            jti: super::session::random_b64(16),
            roles: claims.roles.clone(),
            profile: claims.profile.clone(),
        };
        jsonwebtoken::encode(
            &Header::new(self.keys.alg.algorithm()),
            &wire,
            &self.keys.encoding,
        )
        .map_err(|e| SchemeError::Signing(e.to_string()))
    }

    fn validate(&self, token: &str) -> Result<Principal, Rejection> {
        let wire = self.verify(token)?;
        let now = self.clock.now_secs();
        // RFC 7519 4.1.4: the token must not be accepted "on or after" exp.
        if now >= wire.exp.saturating_add(self.config.leeway_secs) {
            return Err(Rejection::Expired);
        }
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
        // Only authentic tokens go on the list, so forged input cannot grow it.
        let wire = self.verify(token).map_err(SchemeError::NotRevocable)?;
        d.insert(&wire.jti, wire.exp.saturating_add(self.config.leeway_secs))?;
        Ok(())
    }
}

/// The `alg` named in a token's header, if the header is readable JSON. Error path only.
fn header_alg(token: &str) -> Option<String> {
    let header = token.split('.').next()?;
    let bytes = URL_SAFE_NO_PAD.decode(header).ok()?;
    let value: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    value.get("alg")?.as_str().map(str::to_owned)
}

/// Reads the header and claims of any JWT without verifying it: what anyone holding the
/// token can see. Returns `None` when `token` is not three base64url JSON segments.
pub fn peek(token: &str) -> Option<(serde_json::Value, serde_json::Value)> {
    let mut parts = token.split('.');
    let (h, p, _s) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let decode = |s: &str| {
        URL_SAFE_NO_PAD
            .decode(s)
            .ok()
            .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
    };
    Some((decode(h)?, decode(p)?))
}
