//! The hybrid most sites deploy: a short-lived access JWT and an opaque refresh token kept
//! server-side, rotated on every use (RFC 9700 §4.14.2).
//!
//! - **Access token**: a JWT of the scheme's algorithm from the embedded [`JwtScheme`],
//!   lifetime [`HybridConfig::access_lifetime`] (5 min by default). It is what travels on
//!   every request, and [`TokenScheme::validate`] checks only it: no store lookup, exactly
//!   the JWT's contract. [`TokenScheme::issue`] mints an access token alone (no family);
//!   [`RefreshScheme::login`] mints the pair.
//! - **Refresh token**: `<family>.<secret>`, two 128-bit values of the thread-local CSPRNG
//!   (as session IDs are made), base64url: 45 characters. The family is the login; the
//!   store keeps one entry per family ([`SessionStore::refresh_family`]): the login's
//!   claims, the current secret, the one it replaced and when. It travels only to the
//!   refresh endpoint.
//! - **Refresh** ([`RefreshScheme::refresh`]): in one atomic store step, the presented
//!   secret is checked and rotated (the old token dies), then a new access JWT is signed.
//!   A token presented after it was rotated revokes the whole family (reuse detection),
//!   unless it comes back within [`HybridConfig::reuse_grace`] of its rotation (a client
//!   that lost the response): then the answer is the **same successor** refresh token
//!   (still the family's live one, nothing rotates) with a freshly signed access token.
//!   A grace retry after the successor was itself rotated is a reuse. Two nodes refreshing
//!   one token at once: one rotates, the other gets the grace answer or trips detection;
//!   never two live successors.
//! - **Family id in the access token**: the access JWT carries the family as OIDC's `sid`
//!   claim (22 base64url characters, 128 bits; about 41 more bytes per token, on every
//!   request), so a logout that sees only the access token ([`RefreshScheme::logout_access`],
//!   what `POST /logout` does) revokes the family the *verified* token names.
//! - **Logout / revocation** ([`RefreshScheme::logout`], or [`TokenScheme::revoke`] with the
//!   refresh token): deletes the family, so no refresh succeeds again. The access token
//!   stays valid until its `exp` unless the JWT revocation strategy is a denylist
//!   ([`RevocationStrategy`]): then `logout` also denylists the access token it is given,
//!   and `revoke` of an access token denylists it. [`HybridScheme::revocation_window`] says which.
//!
//! ```
//! use std::sync::Arc;
//! use tokenbench::claims::ClaimSet;
//! use tokenbench::clock::SystemClock;
//! use tokenbench::scheme::{HybridConfig, HybridScheme, JwtAlg, RefreshScheme, TokenScheme};
//! use tokenbench::scheme::{JwtConfig, RevocationStrategy};
//! use tokenbench::store::MemoryStore;
//!
//! let scheme = HybridScheme::new(JwtAlg::HS256, MemoryStore::new(), HybridConfig::default(),
//!     JwtConfig::default(), RevocationStrategy::None, Arc::new(SystemClock)).unwrap();
//! let claims = ClaimSet::Typical.claims("user-1");
//! let pair = scheme.login(&claims).unwrap();
//! assert_eq!(*scheme.validate(&pair.access).unwrap().claims, claims);
//! let next = scheme.refresh(&pair.refresh).unwrap().into_pair();
//! assert!(scheme.refresh(&pair.refresh).is_err(), "rotated: the old token is dead");
//! assert!(scheme.refresh(&next.refresh).is_err(), "and the reuse killed the family");
//! ```

use std::borrow::Cow;
use std::sync::Arc;
use std::time::Duration;

use super::session::random_b64;
use super::{
    JwtAlg, JwtConfig, JwtScheme, Principal, Rejection, RevocationStrategy, SchemeError,
    TokenScheme,
};
use crate::claims::Claims;
use crate::clock::Clock;
use crate::store::{FamilyOp, FamilyOutcome, SessionRecord, SessionStore};

/// Random bytes in a family ID and in a refresh secret (128 bits each).
pub const REFRESH_PART_BYTES: usize = 16;

/// Characters of a refresh token: two base64url parts of [`REFRESH_PART_BYTES`] and a dot.
pub const REFRESH_TOKEN_LEN: usize = 2 * 22 + 1;

/// Bytes of the CSRF token bound to a family (for the refresh endpoint's cookie transport).
const CSRF_BYTES: usize = 32;

/// Lifetimes of the hybrid's two tokens and its reuse grace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct HybridConfig {
    /// The access JWT's `exp - iat` (`--access-lifetime`); 5 minutes by default.
    pub access_lifetime: Duration,
    /// How long a family lives from login, however often it is refreshed (the refresh
    /// token's absolute lifetime); 8 hours by default, the sessions' absolute timeout.
    pub refresh_lifetime: Duration,
    /// How long after a rotation the replaced token may come back and get the same
    /// successor instead of tripping reuse detection (`--reuse-grace`); 0 by default.
    pub reuse_grace: Duration,
}

impl HybridConfig {
    /// The access-token configuration of a hybrid: `jwt`'s issuer and audience, this
    /// access lifetime, no other cap on it.
    pub fn access_config(&self, jwt: JwtConfig) -> JwtConfig {
        JwtConfig {
            lifetime: self.access_lifetime,
            max_lifetime: None,
            ..jwt
        }
    }
}

impl Default for HybridConfig {
    fn default() -> Self {
        Self {
            access_lifetime: Duration::from_secs(5 * 60),
            refresh_lifetime: Duration::from_secs(8 * 3600),
            reuse_grace: Duration::ZERO,
        }
    }
}

/// An access token and the refresh token that renews it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenPair {
    /// The access JWT: sent on every request.
    pub access: String,
    /// The opaque refresh token: sent only to refresh (and to log out).
    pub refresh: String,
}

/// A successful refresh.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refreshed {
    /// The presented token was current: it is dead, and `refresh` is its successor.
    Rotated(TokenPair),
    /// The presented token had been rotated within the grace interval: `refresh` is the
    /// successor it was rotated to (the same string as that rotation answered), with a new
    /// access token.
    Grace(TokenPair),
}

impl Refreshed {
    /// The tokens, whichever way they came.
    pub fn into_pair(self) -> TokenPair {
        match self {
            Refreshed::Rotated(p) | Refreshed::Grace(p) => p,
        }
    }
}

/// What a scheme with refresh tokens adds to [`TokenScheme`]. A trait of its own (reached
/// from any scheme through [`TokenScheme::refreshing`]) rather than default methods on
/// `TokenScheme` answering "unsupported": a scheme either has the whole flow (login, refresh,
/// logout) or none of it, the type says which, and the seven schemes without it need no
/// stub.
pub trait RefreshScheme: TokenScheme {
    /// A login: starts a family and returns its first pair.
    fn login(&self, claims: &Claims) -> Result<TokenPair, SchemeError>;

    /// Rotates `refresh_token` and signs a new access token (see the module docs). Refusals:
    /// [`Rejection::Revoked`] when the token had been rotated (the family is now revoked),
    /// [`Rejection::UnknownSession`] for a token of no live family, [`Rejection::Malformed`]
    /// or [`Rejection::Oversized`] for something that is no refresh token, and
    /// [`Rejection::StoreUnavailable`] (fail closed).
    fn refresh(&self, refresh_token: &str) -> Result<Refreshed, Rejection>;

    /// Logout: revokes the family of `refresh_token`, and, when a denylist is configured,
    /// the access token `access` too. A token of no live family is
    /// [`SchemeError::NotRevocable`].
    fn logout(&self, refresh_token: &str, access: Option<&str>) -> Result<(), SchemeError>;

    /// Logout with the access token alone (what `POST /logout` receives: the refresh
    /// cookie never reaches it): revokes the family the access token's `sid` claim names,
    /// read only once the token is verified (fail closed: a forged, expired or revoked
    /// token, or one without `sid`, is [`SchemeError::NotRevocable`] and revokes nothing),
    /// and denylists the access token when a denylist is configured. A family already gone
    /// (logged out, expired, or revoked by reuse detection) is no error: it is dead.
    fn logout_access(&self, access: &str) -> Result<(), SchemeError>;
}

/// The hybrid scheme over a store of refresh families.
pub struct HybridScheme<S: SessionStore> {
    access: JwtScheme,
    store: S,
    config: HybridConfig,
    clock: Arc<dyn Clock>,
}

impl<S: SessionStore> HybridScheme<S> {
    /// A scheme with fresh keys for `alg`; `jwt` gives the issuer and audience (its
    /// lifetime is replaced by [`HybridConfig::access_lifetime`]).
    pub fn new(
        alg: JwtAlg,
        store: S,
        config: HybridConfig,
        jwt: JwtConfig,
        revocation: RevocationStrategy,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, SchemeError> {
        let jwt = JwtConfig {
            lifetime: config.access_lifetime,
            max_lifetime: None,
            ..jwt
        };
        Ok(Self::with_access(
            JwtScheme::new(alg, jwt, revocation, clock.clone())?,
            store,
            config,
            clock,
        ))
    }

    /// A scheme around an access-token scheme built elsewhere (shared keys: several nodes
    /// of one site).
    pub fn with_access(
        access: JwtScheme,
        store: S,
        config: HybridConfig,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            access,
            store,
            config,
            clock,
        }
    }

    /// The access-token scheme.
    pub fn access(&self) -> &JwtScheme {
        &self.access
    }

    /// The store of the refresh families.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// The lifetimes and grace in force.
    pub fn config(&self) -> &HybridConfig {
        &self.config
    }

    /// How long a revoked login can still use its access token: the access lifetime
    /// without a denylist (`None`: the denylist's own latency applies).
    pub fn revocation_window(&self) -> Option<Duration> {
        match self.access.revocation() {
            RevocationStrategy::None => Some(self.config.access_lifetime),
            RevocationStrategy::CentralDenylist(_) => None,
        }
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.clock.now().as_millis()).unwrap_or(u64::MAX)
    }
}

/// The family ID and secret of a refresh token, or why it is none. The length is checked
/// before anything else; both parts must be exactly 22 base64url characters.
pub fn parse_refresh(token: &str) -> Result<(&str, &str), Rejection> {
    if token.is_empty() {
        return Err(Rejection::Empty);
    }
    if token.len() != REFRESH_TOKEN_LEN {
        return Err(if token.len() > super::DEFAULT_MAX_TOKEN_BYTES {
            Rejection::Oversized {
                len: token.len(),
                max: super::DEFAULT_MAX_TOKEN_BYTES,
            }
        } else {
            Rejection::Malformed(format!(
                "a refresh token has {REFRESH_TOKEN_LEN} characters, not {}",
                token.len()
            ))
        });
    }
    let b64 = |s: &str| {
        s.len() == 22
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    };
    match token.split_once('.') {
        Some((family, secret)) if b64(family) && b64(secret) => Ok((family, secret)),
        _ => Err(Rejection::Malformed(
            "a refresh token is two base64url parts joined by a dot".into(),
        )),
    }
}

impl<S: SessionStore> TokenScheme for HybridScheme<S> {
    fn name(&self) -> String {
        format!("hybrid-{}-{}", self.access.alg(), self.store.name())
    }

    /// An access token alone, as a refresh signs it: no family is started (that is
    /// [`RefreshScheme::login`]).
    fn issue(&self, claims: &Claims) -> Result<String, SchemeError> {
        self.access.issue(claims)
    }

    fn validate(&self, token: &str) -> Result<Principal, Rejection> {
        self.access.validate(token)
    }

    /// A refresh token revokes its family; an access token goes to the JWT's revocation
    /// (a denylist, or [`SchemeError::RevocationUnsupported`]).
    fn revoke(&self, token: &str) -> Result<(), SchemeError> {
        if parse_refresh(token).is_ok() {
            self.logout(token, None)
        } else {
            self.access.revoke(token)
        }
    }

    fn credential_id<'t>(&self, token: &'t str) -> Option<Cow<'t, str>> {
        self.access.credential_id(token)
    }

    fn refreshing(&self) -> Option<&dyn RefreshScheme> {
        Some(self)
    }
}

impl<S: SessionStore> RefreshScheme for HybridScheme<S> {
    fn login(&self, claims: &Claims) -> Result<TokenPair, SchemeError> {
        claims.check().map_err(SchemeError::InvalidClaims)?;
        let now = self.now_ms();
        let absolute = now.saturating_add(
            u64::try_from(self.config.refresh_lifetime.as_millis()).unwrap_or(u64::MAX),
        );
        let record = SessionRecord {
            claims: Arc::new(claims.clone()),
            created_ms: now,
            last_seen_ms: now,
            idle_deadline_ms: absolute,
            absolute_deadline_ms: absolute,
            csrf_token: random_b64(CSRF_BYTES).into(),
        };
        let (family, secret) = (
            random_b64(REFRESH_PART_BYTES),
            random_b64(REFRESH_PART_BYTES),
        );
        let access = self.access.issue_with_sid(claims, Some(&family))?;
        self.store.refresh_family(
            &family,
            FamilyOp::Start {
                record: &record,
                secret: &secret,
            },
        )?;
        Ok(TokenPair {
            access,
            refresh: format!("{family}.{secret}"),
        })
    }

    fn refresh(&self, refresh_token: &str) -> Result<Refreshed, Rejection> {
        let (family, secret) = parse_refresh(refresh_token)?;
        let successor = random_b64(REFRESH_PART_BYTES);
        let now = self.now_ms();
        let op = FamilyOp::Rotate {
            secret,
            successor: &successor,
            now_ms: now,
            grace_ms: u64::try_from(self.config.reuse_grace.as_millis()).unwrap_or(u64::MAX),
        };
        let (record, next, grace) = match self.store.refresh_family(family, op)? {
            FamilyOutcome::Rotated(record) => (record, successor, false),
            FamilyOutcome::Grace { record, current } => (record, current, true),
            FamilyOutcome::Reused => return Err(Rejection::Revoked),
            FamilyOutcome::Unknown | FamilyOutcome::Started | FamilyOutcome::Revoked(_) => {
                return Err(Rejection::UnknownSession);
            }
        };
        // A store that keeps a family past its deadline (by the server's clock) is
        // overruled by this scheme's clock.
        if now >= record.absolute_deadline_ms {
            return Err(Rejection::Expired);
        }
        let access = self
            .access
            .issue_with_sid(&record.claims, Some(family))
            .map_err(|e| {
                Rejection::StoreUnavailable(format!("cannot sign the access token: {e}"))
            })?;
        let pair = TokenPair {
            access,
            refresh: format!("{family}.{next}"),
        };
        Ok(if grace {
            Refreshed::Grace(pair)
        } else {
            Refreshed::Rotated(pair)
        })
    }

    fn logout(&self, refresh_token: &str, access: Option<&str>) -> Result<(), SchemeError> {
        let (family, _) = parse_refresh(refresh_token).map_err(SchemeError::NotRevocable)?;
        if let (Some(access), RevocationStrategy::CentralDenylist(_)) =
            (access, self.access.revocation())
        {
            self.access.revoke(access)?;
        }
        match self.store.refresh_family(family, FamilyOp::Revoke)? {
            FamilyOutcome::Revoked(true) => Ok(()),
            _ => Err(SchemeError::NotRevocable(Rejection::UnknownSession)),
        }
    }

    fn logout_access(&self, access: &str) -> Result<(), SchemeError> {
        let family = self
            .access
            .verified_sid(access)
            .map_err(SchemeError::NotRevocable)?
            .ok_or_else(|| {
                SchemeError::NotRevocable(Rejection::Malformed(
                    "an access token without a \"sid\" claim names no family".into(),
                ))
            })?;
        if let RevocationStrategy::CentralDenylist(_) = self.access.revocation() {
            self.access.revoke(access)?;
        }
        self.store.refresh_family(&family, FamilyOp::Revoke)?;
        Ok(())
    }
}
