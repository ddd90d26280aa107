//! A per-node validation cache in front of any [`TokenScheme`]: the "session with a cache of
//! T seconds" deployment, where each server remembers recent lookups instead of asking the
//! central store on every request, and a revocation waits up to T to reach it.

use std::borrow::Cow;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use dashmap::DashMap;
use subtle::ConstantTimeEq;

use super::{Principal, Rejection, SchemeError, TokenScheme};
use crate::claims::Claims;
use crate::clock::Clock;

/// One cached answer: the exact token string the inner scheme accepted, who it belongs to,
/// and when the inner scheme said so.
#[derive(Debug, Clone)]
struct CacheEntry {
    /// Only this string is served from the entry: a cache hit never vouches for a string
    /// the inner scheme did not see (its identity is read without verification).
    token: String,
    principal: Principal,
    /// Taken just before the inner lookup, so an entry never outlives `ttl` counted from
    /// the moment the inner scheme could last have seen the token valid.
    fetched: Instant,
}

/// `inner` behind a cache local to one node: a token validated within the last `ttl`
/// (real time, [`Instant`]) is accepted from the cache without asking `inner`.
///
/// - Only successes are cached; a refusal is always `inner`'s current answer.
/// - Entries are keyed by the credential's identity ([`TokenScheme::credential_id`]: the
///   session ID, a JWT's `jti`), one per credential, and serve only the exact string
///   `inner` accepted. So two spellings of one credential (an ECDSA signature and its
///   malleable twin) share one entry, and revoking either evicts it.
/// - A cached entry is never served past the token's own expiry (read on `clock`).
/// - `revoke` goes to `inner` and evicts the entry on this node only: every other node
///   keeps accepting the token until its own entry is older than `ttl`.
/// - Cache hits do not reach `inner`, so a sliding session's idle deadline is pushed
///   forward only on misses.
/// - The cache is unbounded (one entry per distinct valid credential seen): fine for a
///   benchmark, a production cache would cap it.
///
/// ```
/// use std::sync::Arc;
/// use std::time::Duration;
/// use tokenbench::claims::ClaimSet;
/// use tokenbench::clock::SystemClock;
/// use tokenbench::scheme::{CachedScheme, SessionConfig, SessionScheme, TokenScheme};
/// use tokenbench::store::MemoryStore;
///
/// let clock = Arc::new(SystemClock);
/// let central = Arc::new(SessionScheme::new(MemoryStore::new(), SessionConfig::default(), clock.clone()));
/// let node_a = CachedScheme::new(central.clone(), Duration::from_secs(60), clock.clone());
/// let node_b = CachedScheme::new(central.clone(), Duration::from_secs(60), clock);
/// let token = node_a.issue(&ClaimSet::Typical.claims("user-1")).unwrap();
/// assert!(node_a.validate(&token).is_ok() && node_b.validate(&token).is_ok());
/// node_a.revoke(&token).unwrap();
/// assert!(node_a.validate(&token).is_err()); // evicted here...
/// assert!(node_b.validate(&token).is_ok()); // ...but still cached on the other node
/// ```
pub struct CachedScheme<S: TokenScheme + ?Sized> {
    inner: Arc<S>,
    ttl: Duration,
    clock: Arc<dyn Clock>,
    entries: DashMap<String, CacheEntry>,
    /// Bumped by every `revoke`, so a lookup racing a revoke on this node does not
    /// re-cache the token it revoked.
    revocations: AtomicU64,
}

impl<S: TokenScheme + ?Sized> CachedScheme<S> {
    /// A cache of lifetime `ttl` in front of `inner` (shared with other nodes); `clock` is
    /// the clock `inner` reads, used to stop serving a cached token at its expiry.
    pub fn new(inner: Arc<S>, ttl: Duration, clock: Arc<dyn Clock>) -> Self {
        Self {
            inner,
            ttl,
            clock,
            entries: DashMap::new(),
            revocations: AtomicU64::new(0),
        }
    }

    /// The scheme behind the cache.
    pub fn inner(&self) -> &Arc<S> {
        &self.inner
    }

    /// How long a successful lookup is reused.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// Number of cached entries, stale ones included.
    pub fn cached(&self) -> usize {
        self.entries.len()
    }

    /// The cached principal for `token` (of identity `id`), if fresh and cached for this
    /// very string. The map guard is dropped on return.
    fn hit(&self, id: &str, token: &str) -> Option<Principal> {
        let entry = self.entries.get(id)?;
        (bool::from(entry.token.as_bytes().ct_eq(token.as_bytes()))
            && entry.fetched.elapsed() < self.ttl
            && self.clock.now_secs() < entry.principal.expires_at_secs)
            .then(|| entry.principal.clone())
    }
}

impl<S: TokenScheme + ?Sized> TokenScheme for CachedScheme<S> {
    fn name(&self) -> String {
        format!("{}-cache", self.inner.name())
    }

    fn issue(&self, claims: &Claims) -> Result<String, SchemeError> {
        self.inner.issue(claims)
    }

    fn validate(&self, token: &str) -> Result<Principal, Rejection> {
        let Some(id) = self.inner.credential_id(token) else {
            return self.inner.validate(token);
        };
        if let Some(principal) = self.hit(&id, token) {
            return Ok(principal);
        }
        let epoch = self.revocations.load(Ordering::SeqCst);
        let fetched = Instant::now();
        match self.inner.validate(token) {
            Ok(principal) => {
                self.entries.insert(
                    id.clone().into_owned(),
                    CacheEntry {
                        token: token.to_owned(),
                        principal: principal.clone(),
                        fetched,
                    },
                );
                // A revoke on this node since our lookup began may have evicted before we
                // inserted: drop what we just cached (the next request asks `inner`).
                if self.revocations.load(Ordering::SeqCst) != epoch {
                    self.entries.remove(id.as_ref());
                }
                Ok(principal)
            }
            Err(rejection) => {
                // Whatever was cached for this credential is no longer vouched for.
                self.entries.remove(id.as_ref());
                Err(rejection)
            }
        }
    }

    fn revoke(&self, token: &str) -> Result<(), SchemeError> {
        let result = self.inner.revoke(token);
        // Evict even when `inner` failed: forgetting a cached answer is always safe.
        self.revocations.fetch_add(1, Ordering::SeqCst);
        if let Some(id) = self.inner.credential_id(token) {
            self.entries.remove(id.as_ref());
        }
        result
    }

    fn credential_id<'t>(&self, token: &'t str) -> Option<Cow<'t, str>> {
        self.inner.credential_id(token)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::claims::ClaimSet;
    use crate::clock::SystemClock;
    use crate::scheme::{SessionConfig, SessionScheme};
    use crate::store::MemoryStore;

    #[test]
    fn revocation_races_do_not_recache() {
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let inner = Arc::new(SessionScheme::new(
            MemoryStore::new(),
            SessionConfig::default(),
            clock.clone(),
        ));
        let node = CachedScheme::new(inner, Duration::from_secs(3600), clock);
        let token = node.issue(&ClaimSet::Minimal.claims("u")).unwrap();
        node.validate(&token).unwrap();
        assert_eq!(node.cached(), 1);
        node.revoke(&token).unwrap();
        assert_eq!(node.cached(), 0);
        assert_eq!(node.validate(&token), Err(Rejection::UnknownSession));
        assert_eq!(node.cached(), 0);
    }
}
