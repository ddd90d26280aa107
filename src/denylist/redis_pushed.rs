//! A denylist copy per node, kept in sync through Redis pub/sub.

use std::sync::Arc;

use super::redis::Subscription;
use super::{Denylist, MemoryDenylist, RedisDenylist};
use crate::store::{StoreError, StoreResult};

/// One node's copy of a denylist pushed through Redis pub/sub: a revocation is stored in
/// Redis (for late and reconnecting subscribers), applied locally and published; every
/// node's subscription applies it to that node's copy. Lookups read the local copy only,
/// and fail closed while the subscription is down (the copy may be missing revocations).
pub struct RedisPushedDenylist {
    /// The node's subscription (stopped when dropped).
    subscription: Subscription,
    central: RedisDenylist,
    local: Arc<MemoryDenylist>,
}

impl RedisPushedDenylist {
    /// A node's copy fed by `central`'s channel, starting from an empty local copy.
    pub fn subscribe(central: RedisDenylist) -> StoreResult<Self> {
        let local = Arc::new(MemoryDenylist::new());
        let subscription = central.subscribe(local.clone())?;
        Ok(Self {
            subscription,
            central,
            local,
        })
    }
}

impl RedisPushedDenylist {
    /// Drops entries of the local copy whose token has expired by `now_secs` (Redis
    /// forgets them by itself); returns how many were dropped. A long-running node calls
    /// it now and then, so its copy stays as small as the list of live revocations.
    pub fn purge_expired(&self, now_secs: u64) -> usize {
        self.local.purge_expired(now_secs)
    }
}

impl Denylist for RedisPushedDenylist {
    fn name(&self) -> &'static str {
        "pushed-redis"
    }

    fn insert(&self, jti: &str, expires_at_secs: u64) -> StoreResult<()> {
        self.central.insert(jti, expires_at_secs)?;
        self.local.insert(jti, expires_at_secs)?;
        self.central.publish(jti, expires_at_secs)?;
        Ok(())
    }

    fn contains(&self, jti: &str, now_secs: u64) -> StoreResult<bool> {
        if !self.subscription.is_connected() {
            return Err(StoreError::Unavailable(format!(
                "redis {}: not subscribed to {}, the local denylist copy may be stale",
                self.central.url(),
                self.central.channel()
            )));
        }
        self.local.contains(jti, now_secs)
    }

    fn len(&self) -> usize {
        self.local.len()
    }
}

impl std::fmt::Debug for RedisPushedDenylist {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisPushedDenylist")
            .field("channel", &self.central.channel())
            .field("entries", &self.local.len())
            .finish_non_exhaustive()
    }
}
