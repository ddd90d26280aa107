//! Session records in Redis: one string per session, `<prefix><session id>`, holding the
//! binary record (`store::record`) with a TTL at its absolute deadline (`SET ... PXAT`),
//! so Redis drops sessions that can no longer be valid. The prefix is random per instance
//! unless chosen; [`RedisStore::cleanup`] (also run on drop) deletes every key under it.
//!
//! - `pool`: connections, each behind its own mutex; a thread keeps the one it used last, a
//!   broken one is dialed again, idempotent calls retry once on a fresh one (the pool size
//!   was chosen by measurement: `benches/redis_pool.rs`, figures in the README);
//! - `scripts`: Lua scripts that make `touch`, the sliding lookup (one round trip) and
//!   `rename` atomic (optimistic: a concurrent touch merges, any other write retries);
//! - refresh families (the hybrid scheme's, `store::family`): one hash per family,
//!   `<prefix>rf:<family>`, started and rotated by a Lua script each; one key, so a family
//!   needs no hash tag to sit in one slot of a Redis Cluster;
//! - `cluster`: a `redis+cluster://` URL spreads keys over a Redis Cluster (scans visit
//!   every primary; `rename` is `GETDEL` then `SET`, as no script spans two slots);
//! - `url`: display and cluster URLs; `probe`: the server as the workloads see it.

mod cluster;
mod pool;
mod probe;
mod scripts;
mod url;

pub use probe::RedisProbe;
pub use url::{CLUSTER_SCHEME, REDIS_URL_ENV, is_cluster_url, redis_url_from_env};

use std::collections::HashSet;
use std::fmt;
use std::hash::{BuildHasher, RandomState};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use rand::{Rng, RngExt};
use redis::{Connection, ConnectionLike, FromRedisValue, Value};

use self::pool::Pool;
use self::scripts::{FAMILY_ROTATE_LUA, FAMILY_START_LUA, RENAME_LUA, TOUCH_LUA, VIEW_TOUCH_LUA};
use super::record::{decode, decode_view, encode, touch_bytes};
use super::{
    FamilyOp, FamilyOutcome, SessionRecord, SessionStore, SessionView, StoreError, StoreResult,
};

/// How many keys one `SCAN` step asks for (a hint to Redis, not a limit).
const SCAN_COUNT: usize = 1000;

/// How long `rename` keeps retrying its compare-and-set under concurrent writes (other than
/// touches, which merge) before it reports the store unavailable. Retries back off with
/// jitter, so two writers racing on one session do not keep colliding.
const RENAME_PATIENCE: Duration = Duration::from_secs(2);

/// First and largest pause between two `rename` attempts (doubling, each one jittered).
const RENAME_BACKOFF: (Duration, Duration) = (Duration::from_micros(50), Duration::from_millis(20));

/// A deadline as a `PXAT` argument: Redis refuses 0 and anything beyond `i64::MAX`.
/// Deadlines already past make Redis drop the record at once, as the trait allows.
pub(super) fn pxat(deadline_ms: u64) -> u64 {
    deadline_ms.clamp(1, i64::MAX as u64)
}

/// Session records in Redis, shared by any number of threads through `&self`.
///
/// ```no_run
/// use tokenbench::store::{RedisStore, SessionStore};
/// let store = RedisStore::connect("redis://127.0.0.1:6379/")?;
/// assert_eq!(store.get("no-such-id")?, None);
/// store.cleanup()?;
/// # Ok::<(), tokenbench::store::StoreError>(())
/// ```
pub struct RedisStore {
    pool: Pool,
    prefix: String,
    url: String,
    cleanup_on_drop: AtomicBool,
    touch_script: redis::Script,
    view_touch_script: redis::Script,
    rename_script: redis::Script,
    family_start_script: redis::Script,
    family_rotate_script: redis::Script,
}

impl RedisStore {
    /// Time allowed to open a connection (TCP connect plus handshake).
    pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);

    /// Time allowed for one command's write and for its reply; past it the call fails with
    /// [`StoreError::Unavailable`] and the connection is replaced.
    pub const IO_TIMEOUT: Duration = Duration::from_secs(2);

    /// Connections a store may open unless [`with_pool_size`](Self::with_pool_size) says
    /// otherwise: two per CPU (the most threads the scale workload runs), at least 8, so
    /// that no thread waits behind another thread's round trip. Slots are filled on demand,
    /// so unused ones cost nothing.
    pub fn default_pool_size() -> usize {
        std::thread::available_parallelism()
            .map_or(1, usize::from)
            .saturating_mul(2)
            .max(8)
    }

    /// Connects to the Redis server at `url` (`redis://[user:password@]host[:port][/db]`)
    /// with a fresh random key prefix `tokenbench:<random>:`.
    ///
    /// Fails with [`StoreError::Unavailable`] when the URL is malformed or nothing answers
    /// within [`CONNECT_TIMEOUT`](Self::CONNECT_TIMEOUT).
    pub fn connect(url: &str) -> StoreResult<Self> {
        Self::connect_with_prefix(url, &random_prefix())
    }

    /// Connects like [`connect`](Self::connect), with keys under `prefix` (used verbatim:
    /// end it with a separator such as `:`). Stores sharing a prefix share their records;
    /// turn [`with_cleanup_on_drop`](Self::with_cleanup_on_drop) off on all but one of them.
    pub fn connect_with_prefix(url: &str, prefix: &str) -> StoreResult<Self> {
        Self::build(url, prefix, true)
    }

    /// Like [`connect`](Self::connect), but only checks the URL: the first connection is
    /// dialed by the first call. A validator can thus start while Redis is down; until
    /// Redis answers, every call fails with [`StoreError::Unavailable`] (fail closed).
    pub fn connect_lazy(url: &str) -> StoreResult<Self> {
        Self::build(url, &random_prefix(), false)
    }

    fn build(url: &str, prefix: &str, eager: bool) -> StoreResult<Self> {
        if prefix.is_empty() {
            return Err(StoreError::Unavailable(
                "refusing an empty Redis key prefix: cleanup would delete the whole database"
                    .into(),
            ));
        }
        let pool = Pool::open(url, Self::default_pool_size(), eager)?;
        Ok(Self {
            url: pool.display_url.clone(),
            pool,
            prefix: prefix.to_owned(),
            cleanup_on_drop: AtomicBool::new(true),
            touch_script: redis::Script::new(TOUCH_LUA),
            view_touch_script: redis::Script::new(VIEW_TOUCH_LUA),
            rename_script: redis::Script::new(RENAME_LUA),
            family_start_script: redis::Script::new(FAMILY_START_LUA),
            family_rotate_script: redis::Script::new(FAMILY_ROTATE_LUA),
        })
    }

    /// The same store with room for `size` connections (at least 1; they are opened on
    /// demand). One connection serializes every call of every thread.
    pub fn with_pool_size(mut self, size: usize) -> Self {
        self.pool.resize(size.max(1));
        self
    }

    /// Whether dropping this store deletes every key under its prefix (on by default).
    pub fn with_cleanup_on_drop(self, cleanup: bool) -> Self {
        self.set_cleanup_on_drop(cleanup);
        self
    }

    /// Whether dropping this store deletes every key under its prefix.
    pub(crate) fn set_cleanup_on_drop(&self, cleanup: bool) {
        self.cleanup_on_drop.store(cleanup, Ordering::Relaxed);
    }

    /// The server's URL, without any password.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The prefix of every key this store writes.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// How many connections this store may hold.
    pub fn pool_size(&self) -> usize {
        self.pool.slots.len()
    }

    /// The Redis key holding session `id`.
    pub fn key(&self, id: &str) -> String {
        let mut key = String::with_capacity(self.prefix.len() + id.len());
        key.push_str(&self.prefix);
        key.push_str(id);
        key
    }

    /// The stored bytes of session `id` (`GET`), the lookup of every request. The command
    /// is packed here in one buffer, key included, where `redis::cmd("GET").arg(key)` makes
    /// a key, a command and its packed copy; the bulk reply is moved out, not copied.
    fn get_bytes(&self, id: &str) -> StoreResult<Option<Vec<u8>>> {
        let key_len = (self.prefix.len() + id.len()).to_string();
        let mut packed = Vec::with_capacity(24 + self.prefix.len() + id.len());
        for part in [b"*2\r\n$3\r\nGET\r\n$", key_len.as_bytes(), b"\r\n"] {
            packed.extend_from_slice(part);
        }
        for part in [self.prefix.as_bytes(), id.as_bytes(), b"\r\n"] {
            packed.extend_from_slice(part);
        }
        let reply = self
            .pool
            .with_conn(true, |c| c.req_packed_command(&packed)?.extract_error())?;
        match reply {
            Value::Nil => Ok(None),
            Value::BulkString(bytes) => Ok(Some(bytes)),
            other => Err(StoreError::Corrupt(format!(
                "redis {}: GET of session {id:?} answered {other:?}",
                self.url
            ))),
        }
    }

    /// Deletes every key under this store's prefix (`SCAN` + `DEL`, never `KEYS`); returns
    /// how many were deleted.
    pub fn cleanup(&self) -> StoreResult<usize> {
        let mut deleted = 0;
        self.scan_keys(|keys| {
            let n: usize = self.query(redis::cmd("DEL").arg(keys))?;
            deleted += n;
            Ok(())
        })?;
        Ok(deleted)
    }

    /// The text of `INFO <section>` (`memory`, `stats`, `server`, ...). On a cluster, the
    /// replies of every primary one after the other, so a field occurs once per primary.
    pub fn server_info(&self, section: &str) -> StoreResult<String> {
        let reply: Value = self.query_idempotent(redis::cmd("INFO").arg(section))?;
        let corrupt = |e: redis::ParsingError| StoreError::Corrupt(format!("INFO {section}: {e}"));
        match reply {
            Value::Map(per_node) => {
                let mut text = String::new();
                for (_, info) in per_node {
                    text.push_str(&String::from_redis_value(info).map_err(corrupt)?);
                    text.push('\n');
                }
                Ok(text)
            }
            other => String::from_redis_value(other).map_err(corrupt),
        }
    }

    /// Bytes Redis attributes to session `id` (`MEMORY USAGE`: key, value and overhead), or
    /// `None` when there is no such session.
    pub fn memory_usage(&self, id: &str) -> StoreResult<Option<u64>> {
        self.query_idempotent(redis::cmd("MEMORY").arg("USAGE").arg(self.key(id)))
    }

    /// Runs `cmd` on a pooled connection (never retried).
    pub(crate) fn query<T: FromRedisValue>(&self, cmd: &redis::Cmd) -> StoreResult<T> {
        self.pool.with_conn(false, |c| cmd.query(c))
    }

    /// Runs `cmd`, which must be idempotent (a read, or a write that may safely be applied
    /// twice), on a pooled connection, retried once on a fresh connection when a reused one
    /// turns out to be broken.
    pub(crate) fn query_idempotent<T: FromRedisValue>(&self, cmd: &redis::Cmd) -> StoreResult<T> {
        self.pool.with_conn(true, |c| cmd.query(c))
    }

    /// A connection of its own (for `SUBSCRIBE`), with the store's timeouts.
    pub(crate) fn dedicated_connection(&self) -> StoreResult<Connection> {
        self.pool.dial_one()
    }

    /// True when this store spreads its keys over a Redis Cluster.
    pub fn is_cluster(&self) -> bool {
        self.pool.is_cluster()
    }
}

impl fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisStore")
            .field("url", &self.url)
            .field("prefix", &self.prefix)
            .field("pool_size", &self.pool.slots.len())
            .finish_non_exhaustive()
    }
}

impl Drop for RedisStore {
    fn drop(&mut self) {
        if self.cleanup_on_drop.load(Ordering::Relaxed) {
            // Best effort: a store whose server is gone leaves its keys to their TTLs.
            let _ = self.cleanup();
        }
    }
}

impl SessionStore for RedisStore {
    fn name(&self) -> &'static str {
        if self.is_cluster() {
            "redis-cluster"
        } else {
            "redis"
        }
    }

    fn get(&self, id: &str) -> StoreResult<Option<SessionRecord>> {
        self.get_bytes(id)?
            .map(|bytes| decode(id, &bytes))
            .transpose()
    }

    fn view(&self, id: &str) -> StoreResult<Option<SessionView>> {
        self.get_bytes(id)?
            .map(|bytes| decode_view(id, &bytes))
            .transpose()
    }

    fn view_and_touch(
        &self,
        id: &str,
        now_ms: u64,
        idle_deadline_ms: u64,
    ) -> StoreResult<Option<SessionView>> {
        let key = self.key(id);
        // Idempotent (a second run writes the same two values), so retried on a stale
        // connection.
        let read: Option<Vec<u8>> = self.pool.with_conn(true, |c| {
            self.view_touch_script
                .key(&key)
                .arg(now_ms)
                .arg(&now_ms.to_be_bytes()[..])
                .arg(&idle_deadline_ms.to_be_bytes()[..])
                .arg(idle_deadline_ms)
                .invoke(c)
        })?;
        read.map(|bytes| decode_view(id, &bytes)).transpose()
    }

    fn put(&self, id: &str, record: &SessionRecord) -> StoreResult<()> {
        // Setting the same value and deadline twice is harmless: retry on a stale connection.
        self.query_idempotent::<()>(
            redis::cmd("SET")
                .arg(self.key(id))
                .arg(encode(record))
                .arg("PXAT")
                .arg(pxat(record.absolute_deadline_ms)),
        )
    }

    fn touch(&self, id: &str, last_seen_ms: u64, idle_deadline_ms: u64) -> StoreResult<bool> {
        let key = self.key(id);
        // Idempotent (the same two values written again), so retried on a stale connection.
        let done: i64 = self.pool.with_conn(true, |c| {
            self.touch_script
                .key(&key)
                .arg(&touch_bytes(last_seen_ms, idle_deadline_ms)[..])
                .invoke(c)
        })?;
        Ok(done == 1)
    }

    fn delete(&self, id: &str) -> StoreResult<bool> {
        let n: u64 = self.query(redis::cmd("DEL").arg(self.key(id)))?;
        Ok(n > 0)
    }

    fn rename(
        &self,
        old: &str,
        new: &str,
        update: &dyn Fn(&mut SessionRecord),
    ) -> StoreResult<bool> {
        let (old_key, new_key) = (self.key(old), self.key(new));
        if self.is_cluster() {
            return self.rename_across_slots(old, &old_key, &new_key, update);
        }
        let Some(mut read): Option<Vec<u8>> =
            self.query_idempotent(redis::cmd("GET").arg(&old_key))?
        else {
            return Ok(false);
        };
        let started = std::time::Instant::now();
        let mut pause = RENAME_BACKOFF.0;
        let mut attempts = 0u32;
        loop {
            attempts += 1;
            let mut record = decode(old, &read)?;
            update(&mut record);
            let updated = encode(&record);
            let (moved, current): (i64, Option<Vec<u8>>) = self.pool.with_conn(false, |c| {
                self.rename_script
                    .key(&old_key)
                    .key(&new_key)
                    .arg(&read)
                    .arg(&updated)
                    .arg(pxat(record.absolute_deadline_ms))
                    .invoke(c)
            })?;
            match (moved, current) {
                (1, _) => return Ok(true),
                (0, _) => return Ok(false),
                // The record changed between our read and the move: start from the new value.
                (-1, Some(current)) if started.elapsed() < RENAME_PATIENCE => read = current,
                (-1, Some(_)) => {
                    return Err(StoreError::Unavailable(format!(
                        "rename of a session kept losing to concurrent updates \
                         ({attempts} attempts in {:.1?})",
                        started.elapsed()
                    )));
                }
                (code, _) => {
                    return Err(StoreError::Unavailable(format!(
                        "rename script returned an unexpected code {code}"
                    )));
                }
            }
            std::thread::sleep(pause.mul_f64(rand::rng().random_range(0.5..1.0)));
            pause = (pause * 2).min(RENAME_BACKOFF.1);
        }
    }

    fn refresh_family(&self, family: &str, op: FamilyOp<'_>) -> StoreResult<FamilyOutcome> {
        let key = self.key(&crate::store::family::record_id(family));
        match op {
            FamilyOp::Start { record, secret } => {
                let bytes = encode(record);
                // Writes the same family again: idempotent, retried on a stale connection.
                self.pool.with_conn(true, |c| {
                    self.family_start_script
                        .key(&key)
                        .arg(&bytes)
                        .arg(secret)
                        .arg(pxat(record.absolute_deadline_ms))
                        .invoke::<i64>(c)
                })?;
                Ok(FamilyOutcome::Started)
            }
            FamilyOp::Revoke => {
                let n: u64 = self.query(redis::cmd("DEL").arg(&key))?;
                Ok(FamilyOutcome::Revoked(n > 0))
            }
            FamilyOp::Rotate {
                secret,
                successor,
                now_ms,
                grace_ms,
            } => {
                // Never retried: a rotation that ran and lost its reply must not run twice
                // (the second would see its own secret as reused).
                let (code, rec, current): (i64, Option<Vec<u8>>, Option<String>) =
                    self.pool.with_conn(false, |c| {
                        self.family_rotate_script
                            .key(&key)
                            .arg(secret)
                            .arg(successor)
                            .arg(now_ms)
                            .arg(grace_ms)
                            .invoke(c)
                    })?;
                let record = || {
                    rec.as_deref()
                        .map(|bytes| decode(family, bytes))
                        .transpose()?
                        .ok_or_else(|| {
                            StoreError::Corrupt(format!("family {family:?} has no record"))
                        })
                };
                Ok(match (code, current) {
                    (0, _) => FamilyOutcome::Unknown,
                    (1, _) => FamilyOutcome::Rotated(record()?),
                    (2, Some(current)) => FamilyOutcome::Grace {
                        record: record()?,
                        current,
                    },
                    (3, _) => FamilyOutcome::Reused,
                    (code, _) => {
                        return Err(StoreError::Unavailable(format!(
                            "family rotation script returned an unexpected code {code}"
                        )));
                    }
                })
            }
        }
    }

    fn record_bytes(&self, id: &str) -> StoreResult<Option<u64>> {
        self.memory_usage(id)
    }

    fn len(&self) -> StoreResult<usize> {
        // SCAN may return a key twice; count distinct keys by a 64-bit hash so that a
        // million-session store needs 8 MB, not a copy of every key.
        let hasher = RandomState::new();
        let mut seen = HashSet::new();
        self.scan_keys(|keys| {
            seen.extend(keys.iter().map(|k| hasher.hash_one(k)));
            Ok(())
        })?;
        Ok(seen.len())
    }
}

/// `tokenbench:<16 hex digits>:`.
fn random_prefix() -> String {
    let mut bytes = [0u8; 8];
    rand::rng().fill_bytes(&mut bytes);
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("tokenbench:{hex}:")
}

/// Escapes Redis glob metacharacters so `SCAN MATCH` treats the prefix literally.
fn glob_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 4);
    for c in s.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\' | '^' | '-') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob_metacharacters_are_escaped() {
        assert_eq!(glob_escape("a*b?[c]\\"), "a\\*b\\?\\[c\\]\\\\");
        assert_eq!(glob_escape("tokenbench:0af3:"), "tokenbench:0af3:");
    }

    #[test]
    fn pxat_stays_in_the_range_redis_accepts() {
        assert_eq!(pxat(0), 1);
        assert_eq!(pxat(u64::MAX), i64::MAX as u64);
        assert_eq!(pxat(1_700_000_000_000), 1_700_000_000_000);
    }

    #[test]
    fn random_prefixes_differ() {
        let (a, b) = (random_prefix(), random_prefix());
        assert_ne!(a, b);
        assert!(a.starts_with("tokenbench:") && a.ends_with(':') && a.len() == 28);
    }
}
