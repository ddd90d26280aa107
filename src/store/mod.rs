//! Where session records live: the [`SessionStore`] trait and its implementations.
//!
//! - [`MemoryStore`]: a sharded concurrent map (DashMap), the embedded default.
//! - [`RwLockStore`]: one `RwLock<HashMap>`, kept as the baseline that shows why sharding matters.
//! - [`RedisStore`]: a Redis server or a Redis Cluster.
//! - [`PostgresStore`]: a table in PostgreSQL.
//!
//! The networked stores share the binary record (`record`), and each has a
//! [`ServerProbe`] (`remote`) through which the workloads see its server; [`redact_url`]
//! (`url`) is the one redaction of any store's address; [`site`] names the records that
//! the nodes of one site share, and removes them. [`family`] holds the refresh-token
//! families of the hybrid scheme ([`SessionStore::refresh_family`]).

pub mod family;
mod memory;
mod postgres;
pub(crate) mod record;
mod redis;
mod remote;
mod rwlock;
pub mod site;
pub(crate) mod url;

pub use family::{FamilyOp, FamilyOutcome};
pub use memory::MemoryStore;
pub use postgres::{
    DEFAULT_USER as POSTGRES_DEFAULT_USER, POSTGRES_URL_ENV, PostgresProbe, PostgresStore,
    SWEEP_EVERY, is_postgres_url, postgres_url_from_env,
};
pub use redis::{
    CLUSTER_SCHEME, REDIS_URL_ENV, RedisProbe, RedisStore, is_cluster_url, redis_url_from_env,
};
pub use remote::ServerProbe;
pub use rwlock::RwLockStore;
pub use url::redact_url;

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::claims::Claims;

/// Why a store operation failed. Callers that validate tokens must fail closed on any of these.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// The store could not be reached or did not answer in time.
    #[error("session store unavailable: {0}")]
    Unavailable(String),
    /// The store answered with data that is not a session record.
    #[error("corrupt session record: {0}")]
    Corrupt(String),
    /// The store's server answered but refused the operation for a reason other than an
    /// outage (a statement error, a missing table): waiting for it will not help.
    #[error("session store refused the operation: {0}")]
    Refused(String),
}

/// Result of a store operation.
pub type StoreResult<T> = Result<T, StoreError>;

/// A session as kept on the server. Times are milliseconds since the Unix epoch.
///
/// Cloning is cheap (two reference-count increments), so in-process stores can hand out
/// copies without allocating on the lookup path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionRecord {
    /// What the session knows about its user (the same claims a JWT would carry).
    pub claims: Arc<Claims>,
    /// When the session was created (login).
    pub created_ms: u64,
    /// When the session was last used (updated on validate when sliding expiry is on).
    pub last_seen_ms: u64,
    /// The session dies at this time unless used again (idle timeout).
    pub idle_deadline_ms: u64,
    /// The session dies at this time whatever happens (absolute timeout).
    pub absolute_deadline_ms: u64,
    /// Synchronizer CSRF token bound to this session (base64url, 256 bits).
    pub csrf_token: Arc<str>,
}

impl SessionRecord {
    /// What validation reads of this record.
    pub fn view(&self) -> SessionView {
        SessionView {
            claims: self.claims.clone(),
            idle_deadline_ms: self.idle_deadline_ms,
            absolute_deadline_ms: self.absolute_deadline_ms,
        }
    }
}

/// The part of a [`SessionRecord`] that `validate` needs: the claims and both deadlines.
/// Reading only this skips copying the rest (one reference-count round trip fewer per
/// request for the in-process stores).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionView {
    /// The session's claims.
    pub claims: Arc<Claims>,
    /// See [`SessionRecord::idle_deadline_ms`].
    pub idle_deadline_ms: u64,
    /// See [`SessionRecord::absolute_deadline_ms`].
    pub absolute_deadline_ms: u64,
}

impl SessionView {
    /// True when `now_ms` is before both deadlines.
    pub fn is_live(&self, now_ms: u64) -> bool {
        now_ms < self.idle_deadline_ms && now_ms < self.absolute_deadline_ms
    }
}

/// A server-side map from session ID to [`SessionRecord`].
///
/// Stores hold data only; expiry policy lives in [`SessionScheme`](crate::scheme::SessionScheme).
/// A store may drop records after their absolute deadline (Redis does, with a TTL;
/// PostgreSQL's queries never return them).
///
/// ```
/// use tokenbench::store::{MemoryStore, SessionStore};
/// let store = MemoryStore::new();
/// assert_eq!(store.get("no-such-id").unwrap(), None);
/// ```
pub trait SessionStore: Send + Sync + 'static {
    /// Short name used in results (`memory`, `rwlock`, `redis`, `redis-cluster`, `postgres`).
    fn name(&self) -> &'static str;

    /// True when a lookup is an access to this process's memory, cheap and harmless for
    /// any key; false (the default) for a store behind a network, where every lookup is a
    /// round trip.
    fn is_local(&self) -> bool {
        false
    }

    /// The record for `id`, if any.
    fn get(&self, id: &str) -> StoreResult<Option<SessionRecord>>;

    /// What validation reads of the record for `id`, if any. The default reads the whole
    /// record; in-process stores copy only the view.
    fn view(&self, id: &str) -> StoreResult<Option<SessionView>> {
        Ok(self.get(id)?.as_ref().map(SessionRecord::view))
    }

    /// Sliding expiry's lookup, in one step where the store can: what validation reads of
    /// the record for `id` as it was read, after touching it if that view is live at
    /// `now_ms` (both deadlines after it): `last_seen_ms` becomes `now_ms` and
    /// `idle_deadline_ms` becomes `idle_deadline_ms` or the absolute deadline, whichever
    /// comes first. A record that is not live is returned untouched, for the caller to
    /// refuse. The default is [`view`](Self::view) then [`touch`](Self::touch): a record
    /// deleted between the two reads as `None`. Redis does it in one round trip (a Lua
    /// script), PostgreSQL in one statement, the in-process stores under one lock.
    fn view_and_touch(
        &self,
        id: &str,
        now_ms: u64,
        idle_deadline_ms: u64,
    ) -> StoreResult<Option<SessionView>> {
        let Some(view) = self.view(id)? else {
            return Ok(None);
        };
        if !view.is_live(now_ms) {
            return Ok(Some(view));
        }
        let idle = idle_deadline_ms.min(view.absolute_deadline_ms);
        Ok(self.touch(id, now_ms, idle)?.then_some(view))
    }

    /// Inserts or replaces the record for `id`.
    fn put(&self, id: &str, record: &SessionRecord) -> StoreResult<()>;

    /// Records use of `id`: sets `last_seen_ms` and `idle_deadline_ms`.
    /// Returns false when there is no such session.
    fn touch(&self, id: &str, last_seen_ms: u64, idle_deadline_ms: u64) -> StoreResult<bool>;

    /// Removes `id`. Returns whether it existed.
    fn delete(&self, id: &str) -> StoreResult<bool>;

    /// Atomically moves the record from `old` to `new` after applying `update`:
    /// once this returns, `old` no longer exists. Returns false when `old` did not exist.
    fn rename(
        &self,
        old: &str,
        new: &str,
        update: &dyn Fn(&mut SessionRecord),
    ) -> StoreResult<bool>;

    /// Applies `op` to the refresh-token family `family` (the hybrid scheme's logins) in
    /// one atomic step: start it, rotate one of its refresh tokens with reuse detection
    /// (RFC 9700 §4.14.2), or revoke it. Families live beside the session records, under
    /// IDs of their own (they never collide with a session ID), and the rules are the same
    /// on every store ([`family`]). Two nodes presenting the same secret at once: exactly
    /// one rotates it; the other gets [`FamilyOutcome::Grace`] within the grace interval,
    /// else [`FamilyOutcome::Reused`] (and the family dies), never a second successor.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use tokenbench::claims::ClaimSet;
    /// use tokenbench::store::{FamilyOp, FamilyOutcome, MemoryStore, SessionRecord, SessionStore};
    ///
    /// let store = MemoryStore::new();
    /// let record = SessionRecord {
    ///     claims: Arc::new(ClaimSet::Typical.claims("user-1")),
    ///     created_ms: 0,
    ///     last_seen_ms: 0,
    ///     idle_deadline_ms: u64::MAX,
    ///     absolute_deadline_ms: u64::MAX,
    ///     csrf_token: "csrf".into(),
    /// };
    /// store.refresh_family("fam", FamilyOp::Start { record: &record, secret: "s1" })?;
    /// let rotate = |secret| FamilyOp::Rotate { secret, successor: "s2", now_ms: 1, grace_ms: 0 };
    /// assert_eq!(store.refresh_family("fam", rotate("s1"))?, FamilyOutcome::Rotated(record));
    /// // "s1" again, after its rotation: reuse, and the whole family is revoked.
    /// assert_eq!(store.refresh_family("fam", rotate("s1"))?, FamilyOutcome::Reused);
    /// assert_eq!(store.refresh_family("fam", rotate("s2"))?, FamilyOutcome::Unknown);
    /// # Ok::<(), tokenbench::store::StoreError>(())
    /// ```
    fn refresh_family(&self, family: &str, op: FamilyOp<'_>) -> StoreResult<FamilyOutcome>;

    /// Number of records held (for memory accounting and tests).
    fn len(&self) -> StoreResult<usize>;

    /// Bytes the store's server attributes to the record of `id` (Redis `MEMORY USAGE`, a
    /// PostgreSQL row's size), or `None` when there is no such record or the store cannot
    /// say (the default: an in-process store's heap is measured by the counting allocator).
    fn record_bytes(&self, _id: &str) -> StoreResult<Option<u64>> {
        Ok(None)
    }

    /// True when the store holds no records.
    fn is_empty(&self) -> StoreResult<bool> {
        Ok(self.len()? == 0)
    }
}
