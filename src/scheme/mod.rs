//! The pairing at the heart of tokenbench: one [`TokenScheme`] trait, three families.
//!
//! - [`SessionScheme`]: an opaque random ID; the claims live in a [`SessionStore`](crate::store::SessionStore).
//! - [`JwtScheme`]: the claims travel inside a signed JWT; the server keeps only keys
//!   (and, optionally, a `jti` denylist).
//! - [`PasetoScheme`]: PASETO v4, self-contained like a JWT: `v4.public` (signed, claims
//!   readable) or `v4.local` (encrypted, claims hidden).
//! - [`HybridScheme`]: a short-lived access JWT plus an opaque refresh token, rotated on
//!   use with reuse detection, kept in a store ([`RefreshScheme`] adds login, refresh and
//!   logout).
//!
//! Every workload takes `&dyn TokenScheme` and knows nothing about which family it drives;
//! where it must tell families apart it asks [`spec::Capabilities`].

pub mod cached;
pub mod hybrid;
pub mod jwt;
pub mod keyfile;
pub mod paseto;
pub mod session;
pub mod spec;

pub use cached::CachedScheme;
pub use hybrid::{HybridConfig, HybridScheme, RefreshScheme, Refreshed, TokenPair};
pub use jwt::{JwtAlg, JwtConfig, JwtScheme, RevocationStrategy};
pub use paseto::{PasetoPurpose, PasetoScheme};
pub use session::{SessionConfig, SessionScheme};

use std::borrow::Cow;
use std::sync::Arc;

use crate::claims::Claims;
use crate::store::StoreError;

/// The claims anyone holding `token` can read without a key, as JSON: a JWT's payload, a
/// `v4.public` PASETO's; `None` for a token that shows none (a session ID, a `v4.local`
/// PASETO, anything unreadable).
pub fn readable_claims(token: &str) -> Option<serde_json::Value> {
    jwt::peek(token)
        .map(|(_, claims)| claims)
        .or_else(|| paseto::peek(token).and_then(|p| p.claims))
}

/// Upper bound on any token a scheme will look at, in bytes, unless configured otherwise.
pub const DEFAULT_MAX_TOKEN_BYTES: usize = 8 * 1024;

/// Who a valid token belongs to, as the server learns it from `validate`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The user's claims (shared with the session record, so a lookup does not copy them).
    pub claims: Arc<Claims>,
    /// Unix seconds at which this token stops being accepted (JWT `exp`, or the session's
    /// earlier of idle and absolute deadline).
    pub expires_at_secs: u64,
}

/// Why `validate` refused a token. Every refusal is one of these; none is a panic.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    /// The empty string.
    #[error("empty token")]
    Empty,
    /// Longer than the scheme's cap; rejected before any parsing.
    #[error("token of {len} bytes exceeds the {max}-byte cap")]
    Oversized {
        /// Length of the offered token in bytes.
        len: usize,
        /// The cap in force.
        max: usize,
    },
    /// Not in this scheme's syntax (wrong alphabet, padding, segment count, JSON...).
    #[error("malformed token: {0}")]
    Malformed(String),
    /// The token's algorithm is not the one this verifier allows (includes `alg: none`
    /// and algorithm confusion); the string is the algorithm the token names.
    #[error("algorithm not allowed: {0}")]
    AlgorithmNotAllowed(String),
    /// A readable JOSE header against the header policy: a repeated member, no `alg`,
    /// `crit` in any form, `b64` other than true, a nested JWT (see
    /// [`jwt::header`]).
    #[error("invalid header: {0}")]
    InvalidHeader(String),
    /// The signature does not verify with this verifier's key.
    #[error("bad signature")]
    BadSignature,
    /// A required claim is missing or has the wrong issuer/audience/format.
    #[error("invalid claims: {0}")]
    InvalidClaims(String),
    /// Past its expiry (`exp` for a JWT, the absolute deadline for a session).
    #[error("expired")]
    Expired,
    /// Not valid yet: a JWT whose `nbf` is ahead of the clock, or whose `iat` is in the
    /// future, beyond the leeway.
    #[error("not yet valid: {0}")]
    NotYetValid(String),
    /// A JWT claiming a longer life (`exp - iat`) than this verifier's issuer gives.
    #[error("lifetime of {lifetime_secs} s exceeds the {max_secs} s maximum")]
    LifetimeTooLong {
        /// `exp - iat` (or `exp - now` when `iat` is absent), seconds.
        lifetime_secs: u64,
        /// The maximum in force, seconds.
        max_secs: u64,
    },
    /// A session not used within its idle timeout.
    #[error("idle timeout elapsed")]
    IdleExpired,
    /// The token was revoked (JWT `jti` on the denylist).
    #[error("revoked")]
    Revoked,
    /// No such session (never issued, revoked by deletion, or rotated away).
    #[error("unknown session")]
    UnknownSession,
    /// A `Cookie:` header carrying the session cookie more than once (`sid=a; sid=b`):
    /// which one the server reads is what cookie tossing exploits, so neither is used.
    #[error("the session cookie {0:?} appears more than once in the Cookie header")]
    DuplicateCookie(String),
    /// The store or denylist needed to decide could not be reached: fail closed.
    #[error("cannot verify, store unavailable: {0}")]
    StoreUnavailable(String),
}

impl From<StoreError> for Rejection {
    fn from(e: StoreError) -> Self {
        Rejection::StoreUnavailable(e.to_string())
    }
}

/// Why `issue` or `revoke` failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SchemeError {
    /// The backing store or denylist failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Signing or encoding the token failed.
    #[error("cannot sign token: {0}")]
    Signing(String),
    /// The claims cannot be issued (an empty user id, a control character in it).
    #[error("cannot issue these claims: {0}")]
    InvalidClaims(String),
    /// This scheme cannot revoke individual tokens (JWT without a denylist): the token
    /// stays valid until it expires.
    #[error("this scheme cannot revoke tokens before they expire")]
    RevocationUnsupported,
    /// The token to revoke is not a valid token of this scheme.
    #[error("cannot revoke: {0}")]
    NotRevocable(Rejection),
    /// Key material that cannot be made, read or used (never shows the key itself).
    #[error("key material: {0}")]
    Key(String),
}

/// A way of turning claims into a bearer token and back.
///
/// Implementations are `Send + Sync` so validator threads can share one instance.
///
/// ```
/// use std::sync::Arc;
/// use tokenbench::claims::ClaimSet;
/// use tokenbench::clock::SystemClock;
/// use tokenbench::scheme::{SessionConfig, SessionScheme, TokenScheme};
/// use tokenbench::store::MemoryStore;
///
/// let scheme = SessionScheme::new(MemoryStore::new(), SessionConfig::default(), Arc::new(SystemClock));
/// let claims = ClaimSet::Typical.claims("user-1");
/// let token = scheme.issue(&claims).unwrap();
/// assert_eq!(*scheme.validate(&token).unwrap().claims, claims);
/// scheme.revoke(&token).unwrap();
/// assert!(scheme.validate(&token).is_err());
/// ```
pub trait TokenScheme: Send + Sync {
    /// Name used in results, e.g. `session-memory` or `jwt-HS256`.
    fn name(&self) -> String;

    /// Issues a fresh token carrying `claims`.
    fn issue(&self, claims: &Claims) -> Result<String, SchemeError>;

    /// Checks `token` and returns its principal, or why it is refused.
    fn validate(&self, token: &str) -> Result<Principal, Rejection>;

    /// Makes `token` invalid before its expiry.
    fn revoke(&self, token: &str) -> Result<(), SchemeError>;

    /// The identity of the credential `token` names, read **without** verifying it: the
    /// session ID, or a JWT's `jti`. Two strings naming one credential (an ECDSA signature
    /// and its malleable twin) have one identity, so a cache keyed by it evicts both on
    /// revocation. Never a reason to accept a token; `None` when `token` names none. By
    /// default the token string itself (right for schemes with one spelling per token).
    fn credential_id<'t>(&self, token: &'t str) -> Option<Cow<'t, str>> {
        (!token.is_empty()).then_some(Cow::Borrowed(token))
    }

    /// The refresh-token flow (login, refresh, logout) of a scheme that has one (the
    /// hybrid); `None` (the default) for a scheme whose one token is all there is.
    fn refreshing(&self) -> Option<&dyn RefreshScheme> {
        None
    }
}
