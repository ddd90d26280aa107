//! Revocation lists for JWTs: a set of revoked `jti` values, each kept until the token
//! it names would have expired anyway.
//!
//! - [`MemoryDenylist`]: one in-process list (central when the validators share a process).
//! - [`PushedDenylist`]: a copy per node, revocations pushed over channels.
//! - [`PolledDenylist`]: a copy per node, refreshed from a central list every P.
//! - [`RedisDenylist`]: the central list in Redis (and its pub/sub channel);
//!   [`RedisPushedDenylist`]: a node's copy fed by that channel.

mod polled;
mod pushed;
mod redis;
mod redis_pushed;

pub use polled::{PollSource, PolledDenylist};
pub use pushed::PushedDenylist;
pub use redis::{RedisDenylist, Subscription};
pub use redis_pushed::RedisPushedDenylist;

use dashmap::DashMap;

use crate::store::StoreResult;

/// A set of revoked JWT IDs. Lookups that fail must make the caller reject the token.
pub trait Denylist: Send + Sync + 'static {
    /// Short name used in results (`memory`, `redis`, ...).
    fn name(&self) -> &'static str;

    /// Adds `jti`, to be forgotten once `expires_at_secs` has passed.
    fn insert(&self, jti: &str, expires_at_secs: u64) -> StoreResult<()>;

    /// Whether `jti` is revoked at time `now_secs`.
    fn contains(&self, jti: &str, now_secs: u64) -> StoreResult<bool>;

    /// Number of entries held, expired ones included until purged.
    fn len(&self) -> usize;

    /// True when the denylist holds no entries.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// An in-process denylist on a [`DashMap`]; the central denylist when validators share a process.
#[derive(Debug, Default)]
pub struct MemoryDenylist {
    entries: DashMap<String, u64>,
}

impl MemoryDenylist {
    /// An empty denylist.
    pub fn new() -> Self {
        Self::default()
    }

    /// Drops entries whose token has expired by `now_secs`; returns how many were dropped.
    pub fn purge_expired(&self, now_secs: u64) -> usize {
        let before = self.entries.len();
        self.entries.retain(|_, exp| *exp > now_secs);
        before - self.entries.len()
    }
}

impl Denylist for MemoryDenylist {
    fn name(&self) -> &'static str {
        "memory"
    }

    fn insert(&self, jti: &str, expires_at_secs: u64) -> StoreResult<()> {
        self.entries.insert(jti.to_owned(), expires_at_secs);
        Ok(())
    }

    fn contains(&self, jti: &str, now_secs: u64) -> StoreResult<bool> {
        // An entry past its token's expiry no longer matters: the token is rejected as
        // expired before the denylist is consulted.
        Ok(self.entries.get(jti).is_some_and(|exp| *exp > now_secs))
    }

    fn len(&self) -> usize {
        self.entries.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_expire_with_their_token() {
        let d = MemoryDenylist::new();
        d.insert("a", 100).unwrap();
        d.insert("b", 200).unwrap();
        assert!(d.contains("a", 99).unwrap());
        assert!(!d.contains("a", 100).unwrap());
        assert!(!d.contains("zzz", 0).unwrap());
        assert_eq!(d.purge_expired(150), 1);
        assert_eq!(d.len(), 1);
        assert!(d.contains("b", 150).unwrap());
    }
}
