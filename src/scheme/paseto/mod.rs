//! PASETO v4 on the `pasetors` crate: the third token family, self-contained like a JWT
//! but with one fixed algorithm per purpose, so there is no `alg` to confuse.
//!
//! - `v4.public`: Ed25519 signatures; the claims are readable by anyone holding the token.
//! - `v4.local`: XChaCha20 + BLAKE2b-MAC authenticated encryption; the claims are not
//!   readable without the key.
//!
//! A token is `v4.<purpose>.<payload>.<footer>`. The footer carries the key's PASERK id
//! (`{"kid":"k4.pid…"}` or `k4.lid…`) and must equal this verifier's; an implicit
//! assertion (bound to the audience, never in the token) must match too. `validate` reads
//! a token in this order and reports the first problem found: size, version and purpose,
//! encoding, footer, signature or tag, claims ([`claims`], then the same policy as a JWT's
//! on the injected clock), the denylist.

pub mod claims;

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use pasetors::keys::{AsymmetricKeyPair, AsymmetricPublicKey, Generate, SymmetricKey};
use pasetors::paserk::{FormatAsPaserk, Id};
use pasetors::token::UntrustedToken;
use pasetors::version4::{LocalToken, PublicToken, V4};
use pasetors::{Local, Public};
use serde::{Deserialize, Serialize};

use super::jwt::{Audience, JwtConfig, RevocationStrategy};
use super::{Principal, Rejection, SchemeError, TokenScheme};
use crate::claims::Claims;
use crate::clock::Clock;
pub use claims::PasetoClaims;

/// The two purposes of PASETO v4.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PasetoPurpose {
    /// `v4.public`: signed with Ed25519, claims readable.
    Public,
    /// `v4.local`: encrypted and authenticated with a shared 256-bit key, claims hidden.
    Local,
}

impl PasetoPurpose {
    /// Both purposes, in report order.
    pub const ALL: [PasetoPurpose; 2] = [PasetoPurpose::Public, PasetoPurpose::Local];

    /// `public` or `local`.
    pub fn name(self) -> &'static str {
        match self {
            PasetoPurpose::Public => "public",
            PasetoPurpose::Local => "local",
        }
    }

    /// The token prefix: `v4.public.` or `v4.local.`.
    pub fn header(self) -> &'static str {
        match self {
            PasetoPurpose::Public => PublicToken::HEADER,
            PasetoPurpose::Local => LocalToken::HEADER,
        }
    }
}

impl fmt::Display for PasetoPurpose {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.name())
    }
}

impl FromStr for PasetoPurpose {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        PasetoPurpose::ALL
            .into_iter()
            .find(|p| p.name().eq_ignore_ascii_case(s) || p.header().trim_end_matches('.') == s)
            .ok_or_else(|| format!("unknown PASETO purpose '{s}' (expected public or local)"))
    }
}

/// The key material of one PASETO issuer: an Ed25519 pair or a symmetric key, and the
/// footer naming it; or, for a verify-only node, an Ed25519 public key alone.
///
/// Serialized as PASERK strings (`k4.secret.…`, `k4.local.…`, `k4.public.…`), the form
/// `scheme::keyfile` keeps in a site's key directory.
pub enum PasetoKeys {
    /// `v4.public`.
    Public(AsymmetricKeyPair<V4>),
    /// `v4.local`.
    Local(SymmetricKey<V4>),
    /// `v4.public`, verify-only: the public key alone (verifies, never signs).
    Verifier(AsymmetricPublicKey<V4>),
}

impl fmt::Debug for PasetoKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never the key bytes.
        write!(f, "PasetoKeys({})", self.purpose())
    }
}

impl PasetoKeys {
    /// Fresh keys for `purpose`, from the operating system's CSPRNG.
    pub fn generate(purpose: PasetoPurpose) -> Result<PasetoKeys, SchemeError> {
        let failed =
            |e: pasetors::errors::Error| SchemeError::Signing(format!("PASETO keys: {e:?}"));
        Ok(match purpose {
            PasetoPurpose::Public => {
                PasetoKeys::Public(AsymmetricKeyPair::<V4>::generate().map_err(failed)?)
            }
            PasetoPurpose::Local => {
                PasetoKeys::Local(SymmetricKey::<V4>::generate().map_err(failed)?)
            }
        })
    }

    /// A fresh private key for `purpose` as a PASERK string (`k4.secret.…` or
    /// `k4.local.…`), what [`from_private_paserk`](Self::from_private_paserk) reads.
    /// Secret: it is for a key file of mode 0600 and nothing else.
    pub fn generate_private_paserk(purpose: PasetoPurpose) -> Result<String, SchemeError> {
        let keys = Self::generate(purpose)?;
        let mut out = String::new();
        let written = match &keys {
            PasetoKeys::Public(pair) => pair.secret.fmt(&mut out),
            PasetoKeys::Local(key) => key.fmt(&mut out),
            PasetoKeys::Verifier(_) => Err(fmt::Error),
        };
        written.map_err(|_| SchemeError::Key("PASERK encoding failed".into()))?;
        Ok(out)
    }

    /// Keys for `purpose` from a private PASERK string (`k4.secret.…` for public,
    /// `k4.local.…` for local); the public key of a `v4.public` pair is derived from it.
    /// Anything else is refused, without showing the text.
    pub fn from_private_paserk(
        purpose: PasetoPurpose,
        text: &str,
    ) -> Result<PasetoKeys, SchemeError> {
        let err = |what: &str| SchemeError::Key(format!("PASETO v4.{purpose} private key: {what}"));
        Ok(match purpose {
            PasetoPurpose::Public => {
                // pasetors panics on an all-zero Ed25519 seed: refuse it first.
                let raw = text
                    .strip_prefix("k4.secret.")
                    .and_then(|b| URL_SAFE_NO_PAD.decode(b).ok())
                    .filter(|raw| raw.len() == 64)
                    .ok_or_else(|| err("not a k4.secret PASERK"))?;
                if raw[..32].iter().all(|b| *b == 0) {
                    return Err(err("an all-zero seed"));
                }
                let secret =
                    pasetors::keys::AsymmetricSecretKey::<V4>::try_from(text).map_err(|_| {
                        err("not a valid k4.secret PASERK (seed and public key disagree?)")
                    })?;
                let public = AsymmetricPublicKey::<V4>::try_from(&secret)
                    .map_err(|_| err("cannot derive its public key"))?;
                PasetoKeys::Public(AsymmetricKeyPair { public, secret })
            }
            PasetoPurpose::Local => PasetoKeys::Local(
                SymmetricKey::<V4>::try_from(text).map_err(|_| err("not a k4.local PASERK"))?,
            ),
        })
    }

    /// Verify-only keys from a public PASERK string (`k4.public.…`): an Ed25519 point of
    /// large order, canonically encoded.
    pub fn from_public_paserk(text: &str) -> Result<PasetoKeys, SchemeError> {
        let err = |what: &str| SchemeError::Key(format!("PASETO v4.public public key: {what}"));
        let public =
            AsymmetricPublicKey::<V4>::try_from(text).map_err(|_| err("not a k4.public PASERK"))?;
        super::jwt::check_ed25519_public(public.as_bytes()).map_err(|e| err(&e))?;
        Ok(PasetoKeys::Verifier(public))
    }

    /// The public key as a PASERK string (`k4.public.…`); `None` for `v4.local`, whose
    /// key is secret.
    pub fn public_paserk(&self) -> Option<String> {
        let mut out = String::new();
        self.public_key()?.fmt(&mut out).ok()?;
        Some(out)
    }

    /// True when these keys can issue tokens (false for verify-only keys).
    pub fn can_issue(&self) -> bool {
        !matches!(self, PasetoKeys::Verifier(_))
    }

    /// The purpose these keys serve.
    pub fn purpose(&self) -> PasetoPurpose {
        match self {
            PasetoKeys::Public(_) | PasetoKeys::Verifier(_) => PasetoPurpose::Public,
            PasetoKeys::Local(_) => PasetoPurpose::Local,
        }
    }

    /// The verifying public key of a `v4.public` issuer or verifier.
    pub fn public_key(&self) -> Option<&AsymmetricPublicKey<V4>> {
        match self {
            PasetoKeys::Public(pair) => Some(&pair.public),
            PasetoKeys::Verifier(public) => Some(public),
            PasetoKeys::Local(_) => None,
        }
    }

    /// The PASERK id of the key a verifier uses (`k4.pid.…` for the public key, `k4.lid.…`
    /// for the symmetric key): public information, what the footer's `kid` names.
    pub fn key_id(&self) -> String {
        let id = match self {
            PasetoKeys::Public(pair) => Id::from(&pair.public),
            PasetoKeys::Verifier(public) => Id::from(public),
            PasetoKeys::Local(key) => Id::from(key),
        };
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = id.fmt(&mut out);
        out
    }

    /// The footer every token of these keys carries.
    pub fn footer(&self) -> Vec<u8> {
        serde_json::json!({ "kid": self.key_id() })
            .to_string()
            .into_bytes()
    }
}

/// PASETO v4 tokens of one purpose, one key and one revocation strategy; the claims policy
/// is a JWT's ([`JwtConfig`]: issuer, audience, lifetime, leeway, size cap).
pub struct PasetoScheme {
    keys: Arc<PasetoKeys>,
    footer: Vec<u8>,
    implicit: Vec<u8>,
    config: JwtConfig,
    revocation: RevocationStrategy,
    clock: Arc<dyn Clock>,
}

impl PasetoScheme {
    /// A scheme with freshly generated keys for `purpose`.
    pub fn new(
        purpose: PasetoPurpose,
        config: JwtConfig,
        revocation: RevocationStrategy,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, SchemeError> {
        Ok(Self::with_keys(
            Arc::new(PasetoKeys::generate(purpose)?),
            config,
            revocation,
            clock,
        ))
    }

    /// A scheme sharing `keys` with others (several validator nodes of one issuer).
    pub fn with_keys(
        keys: Arc<PasetoKeys>,
        config: JwtConfig,
        revocation: RevocationStrategy,
        clock: Arc<dyn Clock>,
    ) -> Self {
        let implicit = implicit_assertion(&config.audience);
        Self {
            footer: keys.footer(),
            keys,
            implicit,
            config,
            revocation,
            clock,
        }
    }

    /// The purpose of this scheme's tokens.
    pub fn purpose(&self) -> PasetoPurpose {
        self.keys.purpose()
    }

    /// The keys of this scheme.
    pub fn keys(&self) -> &Arc<PasetoKeys> {
        &self.keys
    }

    /// The configuration in force.
    pub fn config(&self) -> &JwtConfig {
        &self.config
    }

    /// The payload of an authentic token (signature or tag verified, footer and implicit
    /// assertion matched), not yet judged by the claims policy.
    fn authentic(&self, token: &str) -> Result<Vec<u8>, Rejection> {
        if token.is_empty() {
            return Err(Rejection::Empty);
        }
        if token.len() > self.config.max_token_bytes {
            return Err(Rejection::Oversized {
                len: token.len(),
                max: self.config.max_token_bytes,
            });
        }
        let purpose = self.purpose();
        if !token.starts_with(purpose.header()) {
            return Err(match protocol_of(token) {
                // Another version or purpose (`v2.public`, a `v4.local` token shown to a
                // `v4.public` verifier): named and refused before any decoding, as a JWT
                // verifier refuses another `alg`.
                Some(named) => Rejection::AlgorithmNotAllowed(named.to_owned()),
                None => Rejection::Malformed(format!("not a {}… token", purpose.header())),
            });
        }
        self.check_footer(token)?;
        let footer = Some(self.footer.as_slice());
        let implicit = Some(self.implicit.as_slice());
        let trusted = match &*self.keys {
            PasetoKeys::Public(pair) => {
                let untrusted = UntrustedToken::<Public, V4>::try_from(token).map_err(malformed)?;
                PublicToken::verify(&pair.public, &untrusted, footer, implicit)
            }
            PasetoKeys::Verifier(public) => {
                let untrusted = UntrustedToken::<Public, V4>::try_from(token).map_err(malformed)?;
                PublicToken::verify(public, &untrusted, footer, implicit)
            }
            PasetoKeys::Local(key) => {
                let untrusted = UntrustedToken::<Local, V4>::try_from(token).map_err(malformed)?;
                LocalToken::decrypt(key, &untrusted, footer, implicit)
            }
        }
        .map_err(|e| match e {
            pasetors::errors::Error::TokenValidation => Rejection::BadSignature,
            pasetors::errors::Error::PayloadInvalidUtf8 => {
                Rejection::InvalidClaims("the payload is not UTF-8".into())
            }
            other => Rejection::Malformed(format!("PASETO: {other:?}")),
        })?;
        Ok(trusted.payload().as_bytes().to_vec())
    }

    /// Refuses a token whose footer is not exactly this verifier's (missing, another key's
    /// id, altered), before any cryptography: the footer is public and authenticated, so a
    /// changed footer could never verify, and saying so is more useful than "bad signature".
    fn check_footer(&self, token: &str) -> Result<(), Rejection> {
        let mut parts = token.split('.');
        let footer = match (parts.nth(3), parts.next()) {
            (Some(f), None) => URL_SAFE_NO_PAD
                .decode(f)
                .map_err(|e| Rejection::Malformed(format!("footer: base64: {e}")))?,
            (None, _) => return Err(Rejection::InvalidHeader("no footer (key id)".into())),
            (Some(_), Some(_)) => {
                return Err(Rejection::Malformed(format!(
                    "a PASETO has 3 or 4 dot-separated segments, this has {}",
                    token.split('.').count()
                )));
            }
        };
        if footer != self.footer {
            return Err(Rejection::InvalidHeader(
                "the footer is not this verifier's (another key id, or altered)".into(),
            ));
        }
        Ok(())
    }

    /// The implicit assertion every token of this scheme is bound to (authenticated, never
    /// sent).
    pub fn implicit_assertion(&self) -> &[u8] {
        &self.implicit
    }

    /// Signs or encrypts `payload` (JSON) exactly as [`issue`](TokenScheme::issue) does,
    /// with this scheme's key, footer and implicit assertion, whatever the payload says:
    /// for tests and tools that need tokens this issuer would never issue (expired,
    /// not yet valid, another audience), to check that `validate` refuses them.
    pub fn seal(&self, payload: &[u8]) -> Result<String, SchemeError> {
        let footer = Some(self.footer.as_slice());
        let implicit = Some(self.implicit.as_slice());
        match &*self.keys {
            PasetoKeys::Public(pair) => PublicToken::sign(&pair.secret, payload, footer, implicit),
            PasetoKeys::Local(key) => LocalToken::encrypt(key, payload, footer, implicit),
            PasetoKeys::Verifier(_) => return Err(super::jwt::keys_verify_only()),
        }
        .map_err(|e| SchemeError::Signing(format!("PASETO: {e:?}")))
    }

    /// [`authentic`](Self::authentic), then the claims policy at the clock's time.
    fn verify(&self, token: &str) -> Result<(PasetoClaims, u64), Rejection> {
        let payload = self.authentic(token)?;
        let claims = claims::parse(&payload)?;
        let now = self.clock.now_secs();
        let wire = claims.clone().into_wire();
        crate::scheme::jwt::claims::check(&wire, &self.config, now)?;
        Ok((claims, now))
    }
}

/// The `version.purpose` a PASETO-shaped token names (`v4.local`, `v2.public`), if any:
/// `v` and digits, a dot, a lowercase word, a dot.
fn protocol_of(token: &str) -> Option<&str> {
    let mut parts = token.splitn(3, '.');
    let (version, purpose, _) = (parts.next()?, parts.next()?, parts.next()?);
    let digits = version.strip_prefix('v')?;
    let ok = !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && !purpose.is_empty()
        && purpose.bytes().all(|b| b.is_ascii_lowercase());
    ok.then(|| &token[..version.len() + 1 + purpose.len()])
}

/// The implicit assertion of a scheme for `audience`: authenticated, never sent, so a
/// token minted for another audience (another site sharing the key) fails verification.
fn implicit_assertion(audience: &str) -> Vec<u8> {
    format!("tokenbench:aud={audience}").into_bytes()
}

fn malformed(e: pasetors::errors::Error) -> Rejection {
    Rejection::Malformed(format!("PASETO: {e:?}"))
}

impl TokenScheme for PasetoScheme {
    fn name(&self) -> String {
        super::spec::SchemeId::Paseto(self.purpose()).to_string()
    }

    fn issue(&self, claims: &Claims) -> Result<String, SchemeError> {
        claims.check().map_err(SchemeError::InvalidClaims)?;
        let now = self.clock.now_secs();
        let payload = PasetoClaims {
            iss: self.config.issuer.clone(),
            aud: Audience::One(self.config.audience.clone()),
            sub: claims.user_id.clone(),
            iat: Some(now),
            exp: now.saturating_add(self.config.lifetime.as_secs()),
            nbf: None,
            jti: super::session::random_b64(16),
            roles: claims.roles.clone(),
            profile: claims.profile.clone(),
        };
        let message =
            serde_json::to_vec(&payload).map_err(|e| SchemeError::Signing(e.to_string()))?;
        self.seal(&message)
    }

    fn validate(&self, token: &str) -> Result<Principal, Rejection> {
        let (claims, now) = self.verify(token)?;
        if let RevocationStrategy::CentralDenylist(d) = &self.revocation
            && d.contains(&claims.jti, now)?
        {
            return Err(Rejection::Revoked);
        }
        Ok(Principal {
            expires_at_secs: claims.exp,
            claims: Arc::new(Claims {
                user_id: claims.sub,
                roles: claims.roles,
                profile: claims.profile,
            }),
        })
    }

    fn revoke(&self, token: &str) -> Result<(), SchemeError> {
        let RevocationStrategy::CentralDenylist(d) = &self.revocation else {
            return Err(SchemeError::RevocationUnsupported);
        };
        // Only authentic tokens go on the list, so forged input cannot grow it.
        let (claims, _) = self.verify(token).map_err(SchemeError::NotRevocable)?;
        d.insert(
            &claims.jti,
            claims.exp.saturating_add(self.config.leeway_secs),
        )?;
        Ok(())
    }

    /// The `jti`: read from a `v4.public` payload without verifying it; a `v4.local`
    /// payload is only readable by decrypting it, which authenticates it too.
    fn credential_id<'t>(&self, token: &'t str) -> Option<Cow<'t, str>> {
        let payload = match self.purpose() {
            PasetoPurpose::Public => peek_public(token)?,
            PasetoPurpose::Local => self.authentic(token).ok()?,
        };
        #[derive(Deserialize)]
        struct JtiOnly {
            jti: String,
        }
        serde_json::from_slice::<JtiOnly>(&payload)
            .ok()
            .map(|c| Cow::Owned(c.jti))
    }
}

/// The payload bytes of a `v4.public` token, read without verifying it (what anyone holding
/// it can see); `None` for anything else, `v4.local` included (its payload is encrypted).
fn peek_public(token: &str) -> Option<Vec<u8>> {
    let body = token.strip_prefix(PublicToken::HEADER)?;
    let message = URL_SAFE_NO_PAD.decode(body.split('.').next()?).ok()?;
    // The last 64 bytes are the Ed25519 signature.
    let len = message.len().checked_sub(64).filter(|n| *n > 0)?;
    Some(message[..len].to_vec())
}

/// What anyone holding a PASETO can read without a key: the claims of a `v4.public` token
/// as JSON, and the footer of either purpose. `None` when `token` is not a v4 PASETO.
pub fn peek(token: &str) -> Option<PasetoPeek> {
    let purpose = PasetoPurpose::ALL
        .into_iter()
        .find(|p| token.starts_with(p.header()))?;
    let mut parts = token.split('.').skip(2);
    let body = URL_SAFE_NO_PAD.decode(parts.next()?).ok()?;
    let footer = match parts.next() {
        Some(f) => Some(URL_SAFE_NO_PAD.decode(f).ok()?),
        None => None,
    };
    if parts.next().is_some() {
        return None;
    }
    let claims = match purpose {
        PasetoPurpose::Public => {
            let len = body.len().checked_sub(64)?;
            serde_json::from_slice(&body[..len]).ok()
        }
        PasetoPurpose::Local => None,
    };
    Some(PasetoPeek {
        purpose,
        claims,
        footer: footer.map(|f| String::from_utf8_lossy(&f).into_owned()),
        body_bytes: body.len(),
    })
}

/// What [`peek`] sees of a PASETO.
#[derive(Debug, Clone, PartialEq)]
pub struct PasetoPeek {
    /// Public or local.
    pub purpose: PasetoPurpose,
    /// The claims, readable only in a `v4.public` token.
    pub claims: Option<serde_json::Value>,
    /// The footer, readable in both (tokenbench puts the key id there).
    pub footer: Option<String>,
    /// Bytes of the decoded body: payload and signature, or nonce, ciphertext and tag.
    pub body_bytes: usize,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::claims::ClaimSet;
    use crate::clock::ManualClock;

    fn scheme(purpose: PasetoPurpose) -> PasetoScheme {
        PasetoScheme::new(
            purpose,
            JwtConfig::default(),
            RevocationStrategy::None,
            Arc::new(ManualClock::new(std::time::Duration::from_secs(
                1_800_000_000,
            ))),
        )
        .unwrap()
    }

    #[test]
    fn tokens_carry_a_key_id_footer_and_only_public_ones_show_their_claims() {
        for purpose in PasetoPurpose::ALL {
            let s = scheme(purpose);
            let token = s.issue(&ClaimSet::Typical.claims("user-1")).unwrap();
            assert!(token.starts_with(purpose.header()), "{token}");
            let seen = peek(&token).unwrap();
            assert_eq!(seen.purpose, purpose);
            let footer = seen.footer.unwrap();
            assert!(footer.contains(&s.keys().key_id()), "{footer}");
            match purpose {
                PasetoPurpose::Public => {
                    let claims = seen.claims.unwrap();
                    assert_eq!(claims["sub"], "user-1");
                    assert!(claims["exp"].is_string(), "{claims}");
                }
                PasetoPurpose::Local => {
                    assert_eq!(seen.claims, None);
                    assert!(!token.contains("dXNlci0x"), "the user id is not in clear");
                }
            }
            assert_eq!(s.validate(&token).unwrap().claims.user_id, "user-1");
            assert!(s.credential_id(&token).is_some_and(|j| j.len() == 22));
        }
    }

    #[test]
    fn debug_output_never_shows_key_bytes() {
        let keys = PasetoKeys::generate(PasetoPurpose::Local).unwrap();
        assert_eq!(format!("{keys:?}"), "PasetoKeys(local)");
    }
}
