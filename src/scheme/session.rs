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
use crate::store::{SessionRecord, SessionStore, SessionView};

/// Fewest random bytes a session ID may have (128 bits, OWASP's floor).
pub const MIN_ID_BYTES: usize = 16;

/// Most random bytes a session ID may have (512 bits).
pub const MAX_ID_BYTES: usize = 64;

/// The session cookie's default name (see [`SessionConfig::cookie_name`]).
pub const DEFAULT_COOKIE_NAME: &str = "__Host-sid";

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
    /// Cookie name carrying the session ID. By default [`DEFAULT_COOKIE_NAME`], with the
    /// `__Host-` prefix: browsers then accept the cookie only with `Secure`, `Path=/` and
    /// no `Domain`, so a sibling subdomain cannot plant one (cookie tossing).
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
            cookie_name: DEFAULT_COOKIE_NAME.to_owned(),
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
    /// Characters in every ID this scheme issues (derived from `config.id_bytes`).
    token_len: usize,
}

impl<S: SessionStore> SessionScheme<S> {
    /// A scheme storing sessions in `store`.
    pub fn new(store: S, mut config: SessionConfig, clock: Arc<dyn Clock>) -> Self {
        config.id_bytes = config.id_bytes.clamp(MIN_ID_BYTES, MAX_ID_BYTES);
        Self {
            // id_bytes <= MAX_ID_BYTES, so the length cannot overflow.
            token_len: base64::encoded_len(config.id_bytes, false).unwrap_or(usize::MAX),
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
        self.token_len
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
        self.check_syntax(old).map_err(SchemeError::NotRevocable)?;
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
        self.check_syntax(id)?;
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
    /// several cookies (`a=1; __Host-sid=...; b=2`). Oversized headers are refused, and so
    /// is a header carrying the session cookie twice ([`Rejection::DuplicateCookie`]: the
    /// precondition of cookie tossing, where a sibling site plants a second cookie of the
    /// same name and the server picks the wrong one).
    pub fn token_from_cookie_header<'h>(&self, header: &'h str) -> Result<&'h str, Rejection> {
        token_from_cookie_header(
            header,
            &self.config.cookie_name,
            self.config.max_header_bytes,
        )
    }

    /// Syntax check of an ID this scheme could have issued: exact length and alphabet
    /// (base64url, no padding). Done before any store access, except the alphabet part
    /// for in-process stores, where it runs only when the lookup misses (see `lookup`).
    pub fn check_syntax(&self, id: &str) -> Result<(), Rejection> {
        self.check_length(id)?;
        if is_canonical_b64url(id.as_bytes(), self.config.id_bytes) {
            Ok(())
        } else {
            Err(Rejection::Malformed(
                "session ID is not canonical base64url".into(),
            ))
        }
    }

    /// The length part of [`check_syntax`](Self::check_syntax): not empty, not oversized,
    /// exactly as long as the IDs this scheme issues.
    fn check_length(&self, id: &str) -> Result<(), Rejection> {
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
        Ok(())
    }

    /// The record view for `id`, or why it is refused: [`Rejection::UnknownSession`] for a
    /// well-formed ID the store does not hold, the syntax error for a malformed one.
    ///
    /// For a store behind a network the whole syntax check comes first, so garbage never
    /// costs a round trip. For an in-process store only the length is checked first: a
    /// map lookup of any string of that length is cheap and harmless, and a hit can only be
    /// an ID this scheme issued (so canonical), so the alphabet is checked on a miss only.
    /// Either way the same input gets the same rejection.
    ///
    /// With sliding expiry the lookup also touches the record if it is live at `now`
    /// ([`SessionStore::view_and_touch`]: one round trip on Redis, not a read then a write).
    fn lookup(&self, id: &str, now: u64) -> Result<SessionView, Rejection> {
        let read = |id: &str| {
            if self.config.sliding {
                let idle = now.saturating_add(millis(self.config.idle_timeout));
                self.store.view_and_touch(id, now, idle)
            } else {
                self.store.view(id)
            }
        };
        if !self.store.is_local() {
            self.check_syntax(id)?;
            return read(id)?.ok_or(Rejection::UnknownSession);
        }
        self.check_length(id)?;
        match read(id)? {
            Some(view) => Ok(view),
            None => {
                self.check_syntax(id)?;
                Err(Rejection::UnknownSession)
            }
        }
    }

    /// Looks `id` up and enforces both deadlines; touches it when sliding.
    fn validate_record(&self, id: &str) -> Result<SessionRecord, Rejection> {
        self.check_syntax(id)?;
        let mut record = self.store.get(id)?.ok_or(Rejection::UnknownSession)?;
        let (now, idle) =
            self.enforce_deadlines(id, record.idle_deadline_ms, record.absolute_deadline_ms)?;
        if self.config.sliding {
            record.last_seen_ms = now;
        }
        record.idle_deadline_ms = idle;
        Ok(record)
    }

    /// Refuses (and deletes) session `id` if either deadline has passed at `now`.
    fn refuse_expired(
        &self,
        id: &str,
        now: u64,
        idle_deadline_ms: u64,
        absolute_deadline_ms: u64,
    ) -> Result<(), Rejection> {
        if now >= absolute_deadline_ms {
            let _ = self.store.delete(id);
            return Err(Rejection::Expired);
        }
        if now >= idle_deadline_ms {
            let _ = self.store.delete(id);
            return Err(Rejection::IdleExpired);
        }
        Ok(())
    }

    /// Refuses (and deletes) session `id` if either deadline has passed; otherwise, when
    /// sliding, pushes its idle deadline forward in the store. Returns the time used and
    /// the idle deadline now in force.
    fn enforce_deadlines(
        &self,
        id: &str,
        idle_deadline_ms: u64,
        absolute_deadline_ms: u64,
    ) -> Result<(u64, u64), Rejection> {
        let now = self.now_ms();
        self.refuse_expired(id, now, idle_deadline_ms, absolute_deadline_ms)?;
        if !self.config.sliding {
            return Ok((now, idle_deadline_ms));
        }
        let idle = now
            .saturating_add(millis(self.config.idle_timeout))
            .min(absolute_deadline_ms);
        if !self.store.touch(id, now, idle)? {
            // Deleted between our read and our write: revoked concurrently.
            return Err(Rejection::UnknownSession);
        }
        Ok((now, idle))
    }
}

impl<S: SessionStore> TokenScheme for SessionScheme<S> {
    fn name(&self) -> String {
        format!("session-{}", self.store.name())
    }

    fn issue(&self, claims: &Claims) -> Result<String, SchemeError> {
        claims.check().map_err(SchemeError::InvalidClaims)?;
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
        // Only the claims and deadlines: the hot path copies nothing else. With sliding
        // expiry the lookup has already touched a live record (see `lookup`).
        let now = self.now_ms();
        let view = self.lookup(token, now)?;
        self.refuse_expired(token, now, view.idle_deadline_ms, view.absolute_deadline_ms)?;
        let idle = if self.config.sliding {
            now.saturating_add(millis(self.config.idle_timeout))
                .min(view.absolute_deadline_ms)
        } else {
            view.idle_deadline_ms
        };
        Ok(Principal {
            expires_at_secs: idle.min(view.absolute_deadline_ms) / 1000,
            claims: view.claims,
        })
    }

    fn revoke(&self, token: &str) -> Result<(), SchemeError> {
        self.check_syntax(token)
            .map_err(SchemeError::NotRevocable)?;
        self.store.delete(token)?;
        Ok(())
    }
}

/// The value of cookie `name` in a `Cookie:` request header value, refusing a header over
/// `max_bytes`, one without the cookie, and one carrying it more than once. Shared by every
/// reader of a credential cookie (sessions, and JWTs carried in a cookie).
pub fn token_from_cookie_header<'h>(
    header: &'h str,
    name: &str,
    max_bytes: usize,
) -> Result<&'h str, Rejection> {
    if header.len() > max_bytes {
        return Err(Rejection::Oversized {
            len: header.len(),
            max: max_bytes,
        });
    }
    let mut found: Option<Option<&'h str>> = None;
    for cookie in Cookie::split_parse(header).filter_map(Result::ok) {
        if cookie.name() != name {
            continue;
        }
        if found.is_some() {
            return Err(Rejection::DuplicateCookie(name.to_owned()));
        }
        found = Some(cookie.value_raw());
    }
    found
        .flatten()
        .ok_or_else(|| Rejection::Malformed("no session cookie in header".into()))
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

/// True when `s` is exactly the unpadded base64url encoding of `n` bytes, as the base64
/// crate would produce it: URL-safe alphabet only (no `+`, `/` or `=`), and the unused low
/// bits of the last character zero. A check, not a decode: the lookup path never needs
/// the bytes, and this is a few nanoseconds where a decode is tens.
pub(crate) fn is_canonical_b64url(s: &[u8], n: usize) -> bool {
    let Some(len) = base64::encoded_len(n, false) else {
        return false;
    };
    let Some(&last) = s.last() else {
        return n == 0;
    };
    // Branch-free over the bytes: OR together the INVALID marker bit of each.
    if s.len() != len
        || s.iter().fold(0u8, |acc, &c| acc | B64URL[usize::from(c)]) & INVALID_BIT != 0
    {
        return false;
    }
    // n % 3 == 1: the last character carries 2 bits of data; == 2: 4 bits; == 0: all 6.
    let v = B64URL[usize::from(last)];
    match n % 3 {
        1 => v & 0x0F == 0,
        2 => v & 0x03 == 0,
        _ => true,
    }
}

const INVALID: u8 = 0xFF;
/// Set in [`INVALID`], clear in every alphabet value (0..=63).
const INVALID_BIT: u8 = 0x80;

/// Value of each byte in the base64url alphabet, [`INVALID`] for bytes outside it.
static B64URL: [u8; 256] = {
    let mut t = [INVALID; 256];
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut i = 0;
    while i < 64 {
        t[alphabet[i] as usize] = i as u8;
        i += 1;
    }
    t
};

/// `n` bytes from the thread-local CSPRNG, base64url without padding.
pub(crate) fn random_b64(n: usize) -> String {
    let mut bytes = vec![0u8; n];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::RngExt;

    #[test]
    fn canonical_check_agrees_with_the_base64_crate() {
        let mut rng = rand::rng();
        let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_+/=";
        for n in [16usize, 17, 18, 32] {
            let len = base64::encoded_len(n, false).unwrap();
            for i in 0..20_000 {
                let s: Vec<u8> = if i % 2 == 0 {
                    // Mostly valid: real encodings with one character replaced.
                    let mut bytes = vec![0u8; n];
                    rng.fill_bytes(&mut bytes);
                    let mut s = URL_SAFE_NO_PAD.encode(&bytes).into_bytes();
                    let at = rng.random_range(0..s.len());
                    s[at] = alphabet[rng.random_range(0..alphabet.len())];
                    s
                } else {
                    (0..len)
                        .map(|_| alphabet[rng.random_range(0..alphabet.len())])
                        .collect()
                };
                let mut buf = [0u8; 64];
                let reference =
                    matches!(URL_SAFE_NO_PAD.decode_slice(&s, &mut buf), Ok(m) if m == n);
                assert_eq!(
                    is_canonical_b64url(&s, n),
                    reference,
                    "{:?}",
                    String::from_utf8_lossy(&s)
                );
            }
        }
        assert!(!is_canonical_b64url(b"", 16));
    }
}
