//! Opaque session tokens: a random ID in a cookie, the claims in a server-side store.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use cookie::{Cookie, SameSite};
use rand::Rng;
use subtle::ConstantTimeEq;

use super::{DEFAULT_MAX_TOKEN_BYTES, Principal, Rejection, SchemeError, TokenScheme};
use crate::claims::Claims;
use crate::clock::Clock;
use crate::store::{SessionRecord, SessionStore};

/// Fewest random bytes a session ID may have (128 bits, OWASP's floor).
pub const MIN_ID_BYTES: usize = 16;

/// Most random bytes a session ID may have (512 bits).
pub const MAX_ID_BYTES: usize = 64;

/// Bytes of randomness in a CSRF token.
const CSRF_BYTES: usize = 32;

/// How sessions are issued and expired.
#[derive(Debug, Clone)]
pub struct SessionConfig {
    /// Random bytes per session ID, clamped to [`MIN_ID_BYTES`]..=[`MAX_ID_BYTES`].
    pub id_bytes: usize,
    /// A session unused for this long is dead.
    pub idle_timeout: Duration,
    /// A session is dead this long after login, however much it is used.
    pub absolute_timeout: Duration,
    /// When true, every successful `validate` pushes the idle deadline forward (a store
    /// write per request). When false, the idle deadline is fixed at issue or rotation.
    pub sliding: bool,
    /// Cookie name carrying the session ID.
    pub cookie_name: String,
    /// `SameSite` attribute of the session cookie.
    pub same_site: SameSite,
    /// Longest `Cookie:` header value accepted, in bytes.
    pub max_header_bytes: usize,
}

impl Default for SessionConfig {
    fn default() -> Self {
        Self {
            id_bytes: MIN_ID_BYTES,
            idle_timeout: Duration::from_secs(30 * 60),
            absolute_timeout: Duration::from_secs(8 * 60 * 60),
            sliding: true,
            cookie_name: "sid".to_owned(),
            same_site: SameSite::Lax,
            max_header_bytes: DEFAULT_MAX_TOKEN_BYTES,
        }
    }
}

/// Opaque session tokens over any [`SessionStore`].
pub struct SessionScheme<S: SessionStore> {
    store: S,
    config: SessionConfig,
    clock: Arc<dyn Clock>,
}

impl<S: SessionStore> SessionScheme<S> {
    /// A scheme storing sessions in `store`.
    pub fn new(store: S, mut config: SessionConfig, clock: Arc<dyn Clock>) -> Self {
        config.id_bytes = config.id_bytes.clamp(MIN_ID_BYTES, MAX_ID_BYTES);
        Self {
            store,
            config,
            clock,
        }
    }

    /// The store behind this scheme.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// The configuration in force.
    pub fn config(&self) -> &SessionConfig {
        &self.config
    }

    /// Length in characters of every session token this scheme issues.
    pub fn token_len(&self) -> usize {
        base64::encoded_len(self.config.id_bytes, false).unwrap_or(usize::MAX)
    }

    /// A fresh session ID: `id_bytes` from the thread-local CSPRNG (ChaCha, OS-seeded),
    /// base64url without padding.
    fn new_id(&self) -> String {
        random_b64(self.config.id_bytes)
    }

    fn now_ms(&self) -> u64 {
        millis(self.clock.now())
    }

    /// Replaces session `old` with a new ID carrying the same claims, as done at login and
    /// on privilege change (defeats session fixation). The old ID is dead on return; the
    /// idle deadline restarts and the CSRF token is renewed.
    pub fn rotate(&self, old: &str) -> Result<String, SchemeError> {
        self.check_id(old).map_err(SchemeError::NotRevocable)?;
        let new = self.new_id();
        let now = self.now_ms();
        let idle = millis(self.config.idle_timeout);
        let csrf: Arc<str> = random_b64(CSRF_BYTES).into();
        let moved = self.store.rename(old, &new, &|r: &mut SessionRecord| {
            r.last_seen_ms = now;
            r.idle_deadline_ms = now.saturating_add(idle).min(r.absolute_deadline_ms);
            r.csrf_token = csrf.clone();
        })?;
        if moved {
            Ok(new)
        } else {
            Err(SchemeError::NotRevocable(Rejection::UnknownSession))
        }
    }

    /// The CSRF token bound to session `id` (synchronizer-token pattern: render it in
    /// forms, expect it back in a header or field on state-changing requests).
    pub fn csrf_token(&self, id: &str) -> Result<String, Rejection> {
        self.check_id(id)?;
        let record = self.store.get(id)?.ok_or(Rejection::UnknownSession)?;
        Ok(record.csrf_token.to_string())
    }

    /// True when `presented` is the CSRF token of a live session `id`, compared in
    /// constant time. Any failure (unknown session, store down) is `false`.
    pub fn verify_csrf(&self, id: &str, presented: &str) -> bool {
        match self.validate_record(id) {
            Ok(record) => record
                .csrf_token
                .as_bytes()
                .ct_eq(presented.as_bytes())
                .into(),
            Err(_) => false,
        }
    }

    /// The `Set-Cookie` header value that hands `token` to a browser: `HttpOnly` (no script
    /// access, limits XSS theft), `Secure` (HTTPS only, limits hijacking), `SameSite`
    /// (limits CSRF), `Path=/`, no `Domain` (host-only), and a `Max-Age` equal to the
    /// absolute timeout.
    pub fn set_cookie(&self, token: &str) -> String {
        set_cookie(
            &self.config.cookie_name,
            token,
            self.config.same_site,
            self.config.absolute_timeout,
        )
    }

    /// The `Set-Cookie` value that makes a browser discard the session cookie (logout).
    pub fn clear_cookie(&self) -> String {
        let mut c = Cookie::build((self.config.cookie_name.as_str(), ""))
            .http_only(true)
            .secure(true)
            .same_site(self.config.same_site)
            .path("/")
            .build();
        c.make_removal();
        c.to_string()
    }

    /// Finds this scheme's session ID in a `Cookie:` request header value that may carry
    /// several cookies (`a=1; sid=...; b=2`). Oversized headers are refused.
    pub fn token_from_cookie_header<'h>(&self, header: &'h str) -> Result<&'h str, Rejection> {
        if header.len() > self.config.max_header_bytes {
            return Err(Rejection::Oversized {
                len: header.len(),
                max: self.config.max_header_bytes,
            });
        }
        Cookie::split_parse(header)
            .filter_map(Result::ok)
            .find(|c| c.name() == self.config.cookie_name)
            .and_then(|c| c.value_raw())
            .ok_or_else(|| Rejection::Malformed("no session cookie in header".into()))
    }

    /// Syntax check done before any store access: exact length and alphabet of an ID
    /// this scheme could have issued (base64url, no padding).
    fn check_id(&self, id: &str) -> Result<(), Rejection> {
        if id.is_empty() {
            return Err(Rejection::Empty);
        }
        if id.len() > DEFAULT_MAX_TOKEN_BYTES {
            return Err(Rejection::Oversized {
                len: id.len(),
                max: DEFAULT_MAX_TOKEN_BYTES,
            });
        }
        if id.len() != self.token_len() {
            return Err(Rejection::Malformed(format!(
                "session ID has {} characters, expected {}",
                id.len(),
                self.token_len()
            )));
        }
        // Canonical decoding rejects padding, the standard alphabet and non-zero trailing
        // bits; decoding into a stack buffer keeps the hot path free of allocation.
        let mut buf = [0u8; MAX_ID_BYTES];
        match URL_SAFE_NO_PAD.decode_slice(id, &mut buf) {
            Ok(n) if n == self.config.id_bytes => Ok(()),
            _ => Err(Rejection::Malformed("session ID is not base64url".into())),
        }
    }

    /// Looks `id` up and enforces both deadlines; touches it when sliding.
    fn validate_record(&self, id: &str) -> Result<SessionRecord, Rejection> {
        self.check_id(id)?;
        let mut record = self.store.get(id)?.ok_or(Rejection::UnknownSession)?;
        let now = self.now_ms();
        if now >= record.absolute_deadline_ms {
            let _ = self.store.delete(id);
            return Err(Rejection::Expired);
        }
        if now >= record.idle_deadline_ms {
            let _ = self.store.delete(id);
            return Err(Rejection::IdleExpired);
        }
        if self.config.sliding {
            let idle = now
                .saturating_add(millis(self.config.idle_timeout))
                .min(record.absolute_deadline_ms);
            if !self.store.touch(id, now, idle)? {
                // Deleted between our read and our write: revoked concurrently.
                return Err(Rejection::UnknownSession);
            }
            record.last_seen_ms = now;
            record.idle_deadline_ms = idle;
        }
        Ok(record)
    }
}

impl<S: SessionStore> TokenScheme for SessionScheme<S> {
    fn name(&self) -> String {
        format!("session-{}", self.store.name())
    }

    fn issue(&self, claims: &Claims) -> Result<String, SchemeError> {
        let id = self.new_id();
        let now = self.now_ms();
        let absolute = now.saturating_add(millis(self.config.absolute_timeout));
        let record = SessionRecord {
            claims: Arc::new(claims.clone()),
            created_ms: now,
            last_seen_ms: now,
            idle_deadline_ms: now
                .saturating_add(millis(self.config.idle_timeout))
                .min(absolute),
            absolute_deadline_ms: absolute,
            csrf_token: random_b64(CSRF_BYTES).into(),
        };
        self.store.put(&id, &record)?;
        Ok(id)
    }

    fn validate(&self, token: &str) -> Result<Principal, Rejection> {
        let record = self.validate_record(token)?;
        Ok(Principal {
            expires_at_secs: record.idle_deadline_ms.min(record.absolute_deadline_ms) / 1000,
            claims: record.claims,
        })
    }

    fn revoke(&self, token: &str) -> Result<(), SchemeError> {
        self.check_id(token).map_err(SchemeError::NotRevocable)?;
        self.store.delete(token)?;
        Ok(())
    }
}

/// A hardened `Set-Cookie` header value carrying `token` in cookie `name`: `HttpOnly`,
/// `Secure`, `SameSite`, `Path=/`, no `Domain`, `Max-Age` = `max_age`. Used for sessions,
/// and by the size workload for JWTs carried in a cookie, so both are rendered alike.
pub fn set_cookie(name: &str, token: &str, same_site: SameSite, max_age: Duration) -> String {
    Cookie::build((name, token))
        .http_only(true)
        .secure(true)
        .same_site(same_site)
        .path("/")
        .max_age(cookie::time::Duration::seconds(
            i64::try_from(max_age.as_secs()).unwrap_or(i64::MAX),
        ))
        .build()
        .to_string()
}

/// `n` bytes from the thread-local CSPRNG, base64url without padding.
pub(crate) fn random_b64(n: usize) -> String {
    let mut bytes = vec![0u8; n];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}
