//! The real central store: session records in Redis.
//!
//! Every record is one Redis string holding the [`SessionRecord`] as JSON, under the key
//! `<prefix><session id>`, with a Redis TTL at the record's absolute deadline (`SET ... PXAT`),
//! so Redis itself drops sessions that can no longer be valid. The prefix is random per
//! instance unless chosen, and [`RedisStore::cleanup`] (also run on drop) deletes every key
//! under it with `SCAN` + `DEL`.
//!
//! # Connections
//!
//! The `redis` crate's sync [`Connection`] is `&mut`-only, so the store keeps a small pool of
//! connections, each behind its own mutex. A call takes the first free slot starting from a
//! round-robin position (`try_lock`), and only waits when every slot is busy. Slots are filled
//! lazily; a connection that fails with anything but a clean server reply (I/O error, timeout,
//! protocol error) is dropped, and the next call on that slot dials again, so the store
//! recovers by itself once Redis is back. Idempotent calls (`get`, `put`, `touch`, `len`,
//! `cleanup`'s scan, `INFO`) that fail on a connection reused from the pool (typically:
//! Redis restarted since it was last used) are retried once on a fresh connection; `delete`
//! and `rename` are never retried, so their answer is never that of a second application.
//!
//! A multiplexed connection would need the crate's `aio` feature and an async runtime, which
//! this crate does not enable. The pool was chosen over a single mutexed connection by
//! measurement: `get` of a typical session record per (threads, pool size), now the criterion
//! bench `benches/redis_pool.rs` (`TOKENBENCH_REDIS_URL=redis://127.0.0.1:6379/ cargo bench
//! --bench redis_pool`; group `redis_pool_get`, ids `pool-<size>/<threads>t`). The figures
//! below come from the test that bench replaced (ops/s; median of 3 runs, each the median of
//! 7 interleaved rounds of 4 000 calls), Redis 7.0.15 on loopback, on a 2-CPU VM that was
//! also compiling (load average 5 to 8), so differences under about 20 % are noise:
//!
//! | threads | 1 connection | pool of 4 | pool of 8 | pool of 16 |
//! |--------:|-------------:|----------:|----------:|-----------:|
//! |       1 |       21 100 |    22 600 |    18 900 |     18 900 |
//! |       2 |       18 600 |    24 100 |    22 600 |     22 700 |
//! |       4 |       19 000 |    26 600 |    27 800 |     27 000 |
//! |       8 |       15 400 |    19 300 |    22 900 |     22 500 |
//! |      16 |       15 400 |    21 600 |    21 000 |     26 000 |
//!
//! One connection serializes every round trip and loses ground as threads are added; a pool
//! gains 25 to 70 % from 2 threads on, and 16 threads do best when each can hold its own
//! connection. Hence the default pool size, [`RedisStore::default_pool_size`]: two per CPU.
//!
//! # Atomicity
//!
//! - `touch` is one Lua script: it rewrites `last_seen_ms` and `idle_deadline_ms` inside the
//!   stored JSON (`SET ... KEEPTTL`) only if the key exists, so it never resurrects a session
//!   deleted concurrently, and never loses a concurrent rewrite of other fields.
//! - `rename` runs the caller's Rust closure, so it is optimistic: `GET old`, apply the update
//!   in Rust, then one Lua script that moves the record only if `old` still holds exactly the
//!   value that was read (`SET new ... PXAT`, `DEL old`), and if `old` is gone it reports
//!   `false`. A concurrent touch is merged by the script (the update applied to the touched
//!   record), so a session used by every request cannot starve its own rotation; any other
//!   concurrent write makes it apply the update again to the new value, with jittered
//!   backoff, for up to [`RENAME_PATIENCE`].
//!
//! # Redis Cluster
//!
//! A `redis+cluster://[auth@]host:port[,host:port...]` URL (seed nodes; the rest are
//! discovered) makes every pooled connection a cluster connection of the crate's `cluster`
//! feature: each command goes to the primary owning its key's hash slot, following `MOVED`
//! redirections. What changes:
//!
//! - `rename` cannot be one script (the two keys hash to different slots: `CROSSSLOT`); it is
//!   `GETDEL old` then `SET new` (see `rename_across_slots`).
//! - `SCAN` sees one node: `cleanup`, `len` and the denylist's `fetch_all` scan every primary
//!   (from `CLUSTER SLOTS`). Multi-key `DEL` and `MGET` are split per slot by the crate.
//! - `INFO` answers per primary; [`RedisStore::server_info`] returns them one after the
//!   other, and the workloads sum the fields they read.
//! - `SUBSCRIBE` uses a plain connection to the first seed node: a cluster forwards every
//!   `PUBLISH` to every node.

use std::collections::HashSet;
use std::fmt;
use std::hash::{BuildHasher, RandomState};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, TryLockError};
use std::time::Duration;

use rand::{Rng, RngExt};
use redis::cluster::{ClusterClient, ClusterClientBuilder, ClusterConnection};
use redis::cluster_routing::{RoutingInfo, SingleNodeRoutingInfo};
use redis::io::tcp::TcpSettings;
use redis::{
    Client, Cmd, Connection, ConnectionAddr, ConnectionInfo, ConnectionLike, FromRedisValue,
    IntoConnectionInfo, RedisResult, Value,
};

use super::{SessionRecord, SessionStore, StoreError, StoreResult};

/// How many keys one `SCAN` step asks for (a hint to Redis, not a limit).
const SCAN_COUNT: usize = 1000;

/// How long `rename` keeps retrying its compare-and-set under concurrent writes (other than
/// touches, which merge) before it reports the store unavailable. Retries back off with
/// jitter, so two writers racing on one session do not keep colliding.
const RENAME_PATIENCE: Duration = Duration::from_secs(2);

/// First and largest pause between two `rename` attempts (doubling, each one jittered).
const RENAME_BACKOFF: (Duration, Duration) = (Duration::from_micros(50), Duration::from_millis(20));

/// Error code a script raises when the stored value is not a session record.
const CORRUPT_CODE: &str = "TOKENBENCH_CORRUPT";

/// KEYS[1] = session key; ARGV[1] = last_seen_ms; ARGV[2] = idle_deadline_ms.
/// Returns 0 when the key does not exist (never creates it), 1 after the update.
/// Claims only hold strings, so the two top-level numeric fields are the only places where
/// `"last_seen_ms":<digits>` and `"idle_deadline_ms":<digits>` can occur in serde_json's
/// output (a quote inside a string is escaped as `\"`); anything else is reported corrupt.
const TOUCH_LUA: &str = r#"
local v = redis.call('GET', KEYS[1])
if not v then return 0 end
local n1, n2
v, n1 = string.gsub(v, '"last_seen_ms":%d+', '"last_seen_ms":' .. ARGV[1])
v, n2 = string.gsub(v, '"idle_deadline_ms":%d+', '"idle_deadline_ms":' .. ARGV[2])
if n1 ~= 1 or n2 ~= 1 then
  return redis.error_reply('TOKENBENCH_CORRUPT session record without a unique last_seen_ms/idle_deadline_ms')
end
redis.call('SET', KEYS[1], v, 'KEEPTTL')
return 1
"#;

/// KEYS[1] = old key; KEYS[2] = new key; ARGV[1] = the value read from old;
/// ARGV[2] = the updated value; ARGV[3] = PXAT of the new key.
/// Returns `{1, nil}` when moved, `{0, nil}` when old is gone, and `{-1, current}` when old
/// changed since it was read (so the retry needs no second `GET`).
///
/// A change made only by `touch` (the two fields of `TOUCH_LUA`) is not a conflict: the move
/// goes ahead with a three-way merge, so the result is what applying the update to the
/// touched record gives. A touch field the update set keeps the update's value; one it left
/// alone takes the touched value. Without this, a session touched by every request could
/// starve its own rotation.
const RENAME_LUA: &str = r#"
local LAST = '"last_seen_ms":'
local IDLE = '"idle_deadline_ms":'
local function touched(s)
  return string.match(s, LAST .. '(%d+)'), string.match(s, IDLE .. '(%d+)')
end
local function untouched(s)
  s = string.gsub(s, LAST .. '%d+', LAST .. '0')
  s = string.gsub(s, IDLE .. '%d+', IDLE .. '0')
  return s
end
local v = redis.call('GET', KEYS[1])
if not v then return {0, false} end
local out = ARGV[2]
if v ~= ARGV[1] then
  if untouched(v) ~= untouched(ARGV[1]) then return {-1, v} end
  local read_last, read_idle = touched(ARGV[1])
  local now_last, now_idle = touched(v)
  local out_last, out_idle = touched(out)
  if out_last == read_last then out = string.gsub(out, LAST .. '%d+', LAST .. now_last) end
  if out_idle == read_idle then out = string.gsub(out, IDLE .. '%d+', IDLE .. now_idle) end
end
redis.call('SET', KEYS[2], out, 'PXAT', ARGV[3])
if KEYS[1] ~= KEYS[2] then redis.call('DEL', KEYS[1]) end
return {1, false}
"#;

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
    rename_script: redis::Script,
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
            rename_script: redis::Script::new(RENAME_LUA),
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
        format!("{}{id}", self.prefix)
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

    /// `host:port` of every primary of the cluster (`CLUSTER SLOTS`); a single server has
    /// no such command.
    fn primaries(&self) -> StoreResult<Vec<(String, u16)>> {
        let corrupt = |what: &str| StoreError::Corrupt(format!("CLUSTER SLOTS: {what}"));
        let ranges: Vec<Vec<Value>> = self.query_idempotent(redis::cmd("CLUSTER").arg("SLOTS"))?;
        let mut nodes = Vec::new();
        for range in ranges {
            let Some(Value::Array(primary)) = range.get(2) else {
                return Err(corrupt("a slot range without a primary"));
            };
            let (Some(host), Some(port)) = (primary.first(), primary.get(1)) else {
                return Err(corrupt("a primary without host and port"));
            };
            let node = (
                String::from_redis_value_ref(host).map_err(|e| corrupt(&e.to_string()))?,
                u16::from_redis_value_ref(port).map_err(|e| corrupt(&e.to_string()))?,
            );
            if !nodes.contains(&node) {
                nodes.push(node);
            }
        }
        if nodes.is_empty() {
            return Err(corrupt("no slot is served"));
        }
        Ok(nodes)
    }

    /// Calls `each` with every batch of keys under the prefix (`SCAN MATCH <prefix>*`).
    /// A key may appear twice if Redis rehashes during the scan.
    pub(crate) fn scan_keys(
        &self,
        mut each: impl FnMut(&[String]) -> StoreResult<()>,
    ) -> StoreResult<()> {
        let pattern = format!("{}*", glob_escape(&self.prefix));
        // A cluster's keyspace is the union of its primaries': SCAN each one.
        let nodes: Vec<Option<(String, u16)>> = if self.is_cluster() {
            self.primaries()?.into_iter().map(Some).collect()
        } else {
            vec![None]
        };
        for node in nodes {
            let mut cursor: u64 = 0;
            loop {
                let mut scan = redis::cmd("SCAN");
                scan.arg(cursor)
                    .arg("MATCH")
                    .arg(&pattern)
                    .arg("COUNT")
                    .arg(SCAN_COUNT);
                let (next, keys): (u64, Vec<String>) =
                    self.pool.with_conn(true, |c| match (c, &node) {
                        (Conn::Cluster(c), Some((host, port))) => {
                            let at = SingleNodeRoutingInfo::ByAddress {
                                host: host.clone(),
                                port: *port,
                            };
                            let reply = c.route_command(&scan, RoutingInfo::SingleNode(at))?;
                            Ok(FromRedisValue::from_redis_value(reply)?)
                        }
                        (c, _) => scan.query(c),
                    })?;
                if !keys.is_empty() {
                    each(&keys)?;
                }
                if next == 0 {
                    break;
                }
                cursor = next;
            }
        }
        Ok(())
    }
}

impl RedisStore {
    /// `rename` on a cluster, where the two keys hash to different slots, so no script or
    /// transaction can hold both (`CROSSSLOT`). `GETDEL old` takes the latest record and
    /// kills the old ID in one step (a concurrent touch either lands before it or finds
    /// nothing); then `SET new`. Between the two the session exists under neither ID: the
    /// old one is already refused and the new one is not handed out yet. If the `SET`
    /// fails the session is gone and the caller gets the error (fail closed: log in again).
    fn rename_across_slots(
        &self,
        old: &str,
        old_key: &str,
        new_key: &str,
        update: &dyn Fn(&mut SessionRecord),
    ) -> StoreResult<bool> {
        let taken: Option<String> = self.query(redis::cmd("GETDEL").arg(old_key))?;
        let Some(json) = taken else {
            return Ok(false);
        };
        let mut record = decode(old, &json)?;
        update(&mut record);
        self.query::<()>(
            redis::cmd("SET")
                .arg(new_key)
                .arg(encode(&record)?)
                .arg("PXAT")
                .arg(pxat(record.absolute_deadline_ms)),
        )?;
        Ok(true)
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
        let raw: Option<String> = self.query_idempotent(redis::cmd("GET").arg(self.key(id)))?;
        raw.map(|json| decode(id, &json)).transpose()
    }

    fn put(&self, id: &str, record: &SessionRecord) -> StoreResult<()> {
        let json = encode(record)?;
        // Setting the same value and deadline twice is harmless: retry on a stale connection.
        self.query_idempotent::<()>(
            redis::cmd("SET")
                .arg(self.key(id))
                .arg(json)
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
                .arg(last_seen_ms)
                .arg(idle_deadline_ms)
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
        let Some(mut read): Option<String> =
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
            let updated = encode(&record)?;
            let (moved, current): (i64, Option<String>) = self.pool.with_conn(false, |c| {
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

/// URL scheme of a Redis Cluster: `redis+cluster://[user:password@]host:port[,host:port...]`.
pub const CLUSTER_SCHEME: &str = "redis+cluster://";

/// True when `url` names a Redis Cluster rather than one server.
pub fn is_cluster_url(url: &str) -> bool {
    url.get(..CLUSTER_SCHEME.len())
        .is_some_and(|s| s.eq_ignore_ascii_case(CLUSTER_SCHEME))
}

/// Where a store's connections go.
enum Target {
    /// One server.
    Server(Client),
    /// A Redis Cluster, and one of its nodes for what is not routed by key (`SUBSCRIBE`).
    Cluster(Box<ClusterClient>, Client),
}

/// One pooled connection: to a server, or to a whole cluster (each command routed by the
/// hash slot of its key; multi-key `DEL` and `MGET` split per slot by the crate).
enum Conn {
    Server(Connection),
    Cluster(Box<ClusterConnection>),
}

impl ConnectionLike for Conn {
    fn req_packed_command(&mut self, cmd: &[u8]) -> RedisResult<Value> {
        match self {
            Conn::Server(c) => c.req_packed_command(cmd),
            Conn::Cluster(c) => c.req_packed_command(cmd),
        }
    }

    fn req_packed_commands(
        &mut self,
        cmd: &[u8],
        offset: usize,
        count: usize,
    ) -> RedisResult<Vec<Value>> {
        match self {
            Conn::Server(c) => c.req_packed_commands(cmd, offset, count),
            Conn::Cluster(c) => c.req_packed_commands(cmd, offset, count),
        }
    }

    fn req_command(&mut self, cmd: &Cmd) -> RedisResult<Value> {
        match self {
            Conn::Server(c) => c.req_command(cmd),
            Conn::Cluster(c) => c.req_command(cmd),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Conn::Server(c) => c.get_db(),
            Conn::Cluster(c) => c.get_db(),
        }
    }

    fn supports_pipelining(&self) -> bool {
        match self {
            Conn::Server(c) => c.supports_pipelining(),
            Conn::Cluster(c) => c.supports_pipelining(),
        }
    }

    fn check_connection(&mut self) -> bool {
        match self {
            Conn::Server(c) => c.check_connection(),
            Conn::Cluster(c) => c.check_connection(),
        }
    }

    fn is_open(&self) -> bool {
        match self {
            Conn::Server(c) => c.is_open(),
            Conn::Cluster(c) => c.is_open(),
        }
    }
}

/// A fixed set of lazily opened connections, each behind its own mutex.
struct Pool {
    target: Target,
    display_url: String,
    slots: Box<[Mutex<Option<Conn>>]>,
    next: AtomicUsize,
}

impl Pool {
    /// Parses `url` and, when `eager`, opens the first connection, so that a dead server is
    /// reported by the constructor rather than by the first request.
    fn open(url: &str, size: usize, eager: bool) -> StoreResult<Self> {
        let invalid = |e: &dyn fmt::Display| {
            StoreError::Unavailable(format!("invalid Redis URL {:?}: {e}", redact_url(url)))
        };
        let (target, display_url) = if is_cluster_url(url) {
            let nodes = cluster_nodes(url).map_err(|e| invalid(&e))?;
            let display = display_cluster_url(&nodes);
            let client = ClusterClientBuilder::new(nodes.clone())
                .connection_timeout(RedisStore::CONNECT_TIMEOUT)
                .response_timeout(RedisStore::IO_TIMEOUT)
                .tcp_settings(TcpSettings::default().set_nodelay(true))
                // Fail closed quickly: a dead node is an error, not a minute of retries.
                .retries(2)
                .build()
                .map_err(|e| invalid(&e))?;
            let first = Client::open(nodes[0].clone()).map_err(|e| invalid(&e))?;
            (Target::Cluster(Box::new(client), first), display)
        } else {
            let info: ConnectionInfo = url.into_connection_info().map_err(|e| invalid(&e))?;
            let display = display_url(&info);
            // Requests are small and latency-bound: no Nagle delay.
            let info = info.set_tcp_settings(TcpSettings::default().set_nodelay(true));
            let client = Client::open(info).map_err(|e| invalid(&e))?;
            (Target::Server(client), display)
        };
        let mut pool = Self {
            target,
            display_url,
            slots: Box::new([]),
            next: AtomicUsize::new(0),
        };
        pool.resize(size.max(1));
        if eager {
            let first = pool.dial()?;
            *lock(&pool.slots[0]) = Some(first);
        }
        Ok(pool)
    }

    /// Keeps the open connections that still fit and leaves new slots empty.
    fn resize(&mut self, size: usize) {
        let mut slots: Vec<Mutex<Option<Conn>>> = std::mem::take(&mut self.slots)
            .into_vec()
            .into_iter()
            .take(size)
            .collect();
        slots.resize_with(size, || Mutex::new(None));
        self.slots = slots.into_boxed_slice();
    }

    /// Opens a new pooled connection with the store's timeouts.
    fn dial(&self) -> StoreResult<Conn> {
        match &self.target {
            Target::Server(client) => self.dial_server(client).map(Conn::Server),
            Target::Cluster(cluster, _) => cluster
                .get_connection()
                .map(|c| Conn::Cluster(Box::new(c)))
                .map_err(|e| self.unavailable("cannot connect", &e)),
        }
    }

    /// A plain connection to the server, or to the cluster's first node (for `SUBSCRIBE`:
    /// a cluster forwards every `PUBLISH` to every node).
    fn dial_one(&self) -> StoreResult<Connection> {
        match &self.target {
            Target::Server(client) | Target::Cluster(_, client) => self.dial_server(client),
        }
    }

    fn dial_server(&self, client: &Client) -> StoreResult<Connection> {
        let conn = client
            .get_connection_with_timeout(RedisStore::CONNECT_TIMEOUT)
            .map_err(|e| self.unavailable("cannot connect", &e))?;
        conn.set_read_timeout(Some(RedisStore::IO_TIMEOUT))
            .and_then(|()| conn.set_write_timeout(Some(RedisStore::IO_TIMEOUT)))
            .map_err(|e| self.unavailable("cannot set timeouts", &e))?;
        Ok(conn)
    }

    fn is_cluster(&self) -> bool {
        matches!(self.target, Target::Cluster(..))
    }

    /// A free slot if there is one (round-robin start), else waits for the start slot.
    fn pick(&self) -> MutexGuard<'_, Option<Conn>> {
        let n = self.slots.len();
        let start = self.next.fetch_add(1, Ordering::Relaxed) % n;
        for i in 0..n {
            match self.slots[(start + i) % n].try_lock() {
                Ok(guard) => return guard,
                Err(TryLockError::Poisoned(p)) => {
                    let mut guard = p.into_inner();
                    *guard = None;
                    return guard;
                }
                Err(TryLockError::WouldBlock) => {}
            }
        }
        lock(&self.slots[start])
    }

    /// Runs `f` on a pooled connection, dialing one if the slot is empty. A connection that
    /// fails with anything but a server error reply is dropped. When `retry` is set and the
    /// failing connection had been reused, `f` runs once more on a fresh connection.
    fn with_conn<T>(
        &self,
        retry: bool,
        mut f: impl FnMut(&mut Conn) -> redis::RedisResult<T>,
    ) -> StoreResult<T> {
        let mut slot = self.pick();
        let reused = slot.is_some();
        let conn = match slot.as_mut() {
            Some(conn) => conn,
            None => slot.insert(self.dial()?),
        };
        let err = match f(conn) {
            Ok(v) => return Ok(v),
            Err(e) if is_reply_error(&e) => return Err(self.map_err(&e)),
            Err(e) => e,
        };
        *slot = None;
        if !(retry && reused) {
            return Err(self.map_err(&err));
        }
        let conn = slot.insert(self.dial()?);
        f(conn).map_err(|e| {
            let mapped = self.map_err(&e);
            if !is_reply_error(&e) {
                *slot = None;
            }
            mapped
        })
    }

    fn map_err(&self, e: &redis::RedisError) -> StoreError {
        if e.code() == Some(CORRUPT_CODE) || e.code() == Some("WRONGTYPE") {
            StoreError::Corrupt(format!("redis {}: {e}", self.display_url))
        } else {
            self.unavailable("request failed", e)
        }
    }

    fn unavailable(&self, what: &str, e: &redis::RedisError) -> StoreError {
        StoreError::Unavailable(format!("redis {}: {what}: {e}", self.display_url))
    }
}

/// Locks `m`, taking over a mutex poisoned by a panicking holder: the connection in it is
/// dropped, since the panic may have left a reply unread.
fn lock(m: &Mutex<Option<Conn>>) -> MutexGuard<'_, Option<Conn>> {
    m.lock().unwrap_or_else(|p| {
        let mut guard = p.into_inner();
        *guard = None;
        guard
    })
}

/// True when the server answered with an error reply: the connection is still in sync.
fn is_reply_error(e: &redis::RedisError) -> bool {
    matches!(
        e.kind(),
        redis::ErrorKind::Server(_) | redis::ErrorKind::Extension
    )
}

/// `text` with the password of every URL in it replaced by `***`: the one redaction
/// applied wherever a URL given by the user (on the command line, in
/// `TOKENBENCH_REDIS_URL`) can be printed or written (errors, logs, `meta.json`, reports).
///
/// `text` is one URL or one command-line argument: a comma-separated list of URLs
/// (`memory,redis://:pw@a,redis+cluster://u:pw@b:1,c:2`) or `--store=URL` is fine. A URL
/// runs until the next `scheme://`, and its user information until its last `@`, so a
/// password holding `@`, `/` or `?` (raw or percent-encoded) is hidden whole. The user
/// name stays (`user:***@`); a lone user information (`redis://secret@host`), often meant
/// as a password, is hidden too (`***@`), and so are `pass=` / `password=` query values
/// (`redis+unix:///run/redis.sock?pass=...`). Not meant for free prose, where a URL ends
/// at a space: redact the URL before putting it in a sentence.
///
/// ```
/// use tokenbench::store::redact_url;
/// assert_eq!(redact_url("redis://alice:s3cr3t@h:6390/1"), "redis://alice:***@h:6390/1");
/// assert_eq!(redact_url("memory,redis://:pw@a:1"), "memory,redis://:***@a:1");
/// assert_eq!(redact_url("--quick"), "--quick");
/// ```
pub fn redact_url(text: &str) -> String {
    let starts = url_starts(text);
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    for (k, &(_, authority)) in starts.iter().enumerate() {
        let end = starts.get(k + 1).map_or(text.len(), |&(next, _)| next);
        out.push_str(&text[copied..authority]);
        let rest = &text[authority..end];
        let rest = match rest.rfind('@') {
            Some(at) => {
                let shown = match rest[..at].split_once(':') {
                    Some((user, _)) => shown_userinfo(Some(user).filter(|u| !u.is_empty()), true),
                    None if at == 0 => "@".to_owned(),
                    None => shown_userinfo(Some(&rest[..at]), false),
                };
                out.push_str(&shown);
                &rest[at + 1..]
            }
            None => rest,
        };
        out.push_str(&redact_query(rest));
        copied = end;
    }
    out.push_str(&text[copied..]);
    out
}

/// `(start of the scheme, start of the authority)` of every `scheme://` in `text`.
fn url_starts(text: &str) -> Vec<(usize, usize)> {
    let is_scheme = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.');
    text.match_indices("://")
        .map(|(i, _)| {
            let scheme = text[..i]
                .bytes()
                .rev()
                .take_while(|&b| is_scheme(b))
                .count();
            (i - scheme, i + 3)
        })
        .collect()
}

/// `pass=` and `password=` query values of one URL's host-and-after part, as `***`.
fn redact_query(rest: &str) -> String {
    let Some((before, query)) = rest.split_once('?') else {
        return rest.to_owned();
    };
    let pairs: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((key, _))
                if key.eq_ignore_ascii_case("pass") || key.eq_ignore_ascii_case("password") =>
            {
                format!("{key}=***")
            }
            _ => pair.to_owned(),
        })
        .collect();
    format!("{before}?{}", pairs.join("&"))
}

/// The user information shown for a URL, with its `@`: `user:***@`, `:***@`, or `***@`
/// for a user name without a password (`redis://secret@host` is often meant as one).
fn shown_userinfo(user: Option<&str>, password: bool) -> String {
    match (user, password) {
        (Some(user), true) => format!("{user}:***@"),
        (None, true) => ":***@".to_owned(),
        (Some(_), false) => "***@".to_owned(),
        (None, false) => String::new(),
    }
}

/// `redis://[user:***@]host:port/db`, never the password (user information as
/// [`redact_url`] shows it).
fn display_url(info: &ConnectionInfo) -> String {
    let settings = info.redis_settings();
    let auth = shown_userinfo(settings.username(), settings.password().is_some());
    match info.addr() {
        ConnectionAddr::Tcp(..) => format!("redis://{auth}{}/{}", info.addr(), settings.db()),
        ConnectionAddr::TcpTls { .. } => {
            format!("rediss://{auth}{}/{}", info.addr(), settings.db())
        }
        ConnectionAddr::Unix(_) => {
            format!("redis+unix://{auth}{}?db={}", info.addr(), settings.db())
        }
        other => format!("{other} (db {})", settings.db()),
    }
}

/// The nodes of a `redis+cluster://[auth@]host[:port][,host[:port]...][/0]` URL, each with
/// the URL's credentials. A cluster has only database 0.
fn cluster_nodes(url: &str) -> Result<Vec<ConnectionInfo>, String> {
    let rest = &url[CLUSTER_SCHEME.len()..];
    let (rest, db) = match rest.split_once('/') {
        Some((hosts, db)) => (hosts, db),
        None => (rest, ""),
    };
    if !(db.is_empty() || db == "0") {
        return Err(format!("a Redis Cluster has only database 0, not {db:?}"));
    }
    let (auth, hosts) = match rest.rsplit_once('@') {
        Some((auth, hosts)) => (format!("{auth}@"), hosts),
        None => (String::new(), rest),
    };
    let nodes = hosts
        .split(',')
        .map(|host| {
            if host.trim().is_empty() {
                return Err("empty host in the node list (expected host:port,host:port)".into());
            }
            format!("redis://{auth}{}/", host.trim())
                .into_connection_info()
                .map_err(|e| format!("node {host:?}: {e}"))
        })
        .collect::<Result<Vec<_>, String>>()?;
    Ok(nodes)
}

/// `redis+cluster://[user:***@]host:port,host:port...`, never the password.
fn display_cluster_url(nodes: &[ConnectionInfo]) -> String {
    let first = nodes.first().map(display_url).unwrap_or_default();
    let auth = first
        .split_once("://")
        .and_then(|(_, rest)| rest.rsplit_once('@'))
        .map_or(String::new(), |(auth, _)| format!("{auth}@"));
    let hosts: Vec<String> = nodes.iter().map(|n| n.addr().to_string()).collect();
    format!("{CLUSTER_SCHEME}{auth}{}", hosts.join(","))
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

/// A deadline as a `PXAT` argument: Redis refuses 0 and anything beyond `i64::MAX`.
/// Deadlines already past make Redis drop the record at once, as the trait allows.
fn pxat(deadline_ms: u64) -> u64 {
    deadline_ms.clamp(1, i64::MAX as u64)
}

fn encode(record: &SessionRecord) -> StoreResult<String> {
    serde_json::to_string(record)
        .map_err(|e| StoreError::Corrupt(format!("cannot serialize session record: {e}")))
}

fn decode(id: &str, json: &str) -> StoreResult<SessionRecord> {
    serde_json::from_str(json)
        .map_err(|e| StoreError::Corrupt(format!("session {id:?} holds invalid JSON: {e}")))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::claims::ClaimSet;

    fn record(set: ClaimSet) -> SessionRecord {
        SessionRecord {
            claims: Arc::new(set.claims("last_seen_ms\":1,\"idle_deadline_ms\":2")),
            created_ms: 1,
            last_seen_ms: u64::MAX,
            idle_deadline_ms: 1_700_000_000_000,
            absolute_deadline_ms: 4,
            csrf_token: "\"last_seen_ms\":3".into(),
        }
    }

    #[test]
    fn touch_script_fields_occur_exactly_once_as_numbers() {
        // The touch script relies on this shape of serde_json's output.
        for set in ClaimSet::ALL {
            let json = encode(&record(set)).expect("serializable");
            for field in ["\"last_seen_ms\":", "\"idle_deadline_ms\":"] {
                let numeric = json
                    .match_indices(field)
                    .filter(|(i, _)| {
                        json[i + field.len()..].starts_with(|c: char| c.is_ascii_digit())
                    })
                    .count();
                assert_eq!(numeric, 1, "{field} in {json}");
            }
        }
    }

    #[test]
    fn glob_metacharacters_are_escaped() {
        assert_eq!(glob_escape("a*b?[c]\\"), "a\\*b\\?\\[c\\]\\\\");
        assert_eq!(glob_escape("tokenbench:0af3:"), "tokenbench:0af3:");
    }

    #[test]
    fn random_prefixes_differ() {
        let (a, b) = (random_prefix(), random_prefix());
        assert_ne!(a, b);
        assert!(a.starts_with("tokenbench:") && a.ends_with(':') && a.len() == 28);
    }

    #[test]
    fn pxat_stays_in_the_range_redis_accepts() {
        assert_eq!(pxat(0), 1);
        assert_eq!(pxat(u64::MAX), i64::MAX as u64);
        assert_eq!(pxat(1_700_000_000_000), 1_700_000_000_000);
    }

    #[test]
    fn cluster_urls_name_every_node_with_the_credentials() {
        assert!(is_cluster_url("redis+cluster://a:1"));
        assert!(is_cluster_url("REDIS+CLUSTER://a:1"));
        assert!(!is_cluster_url("redis://a:1"));
        let url = "redis+cluster://bob:pw@10.0.0.1:7000,10.0.0.2:7001, 10.0.0.3/";
        let nodes = cluster_nodes(url).expect("valid cluster URL");
        let shown: Vec<String> = nodes.iter().map(display_url).collect();
        assert_eq!(
            shown,
            [
                "redis://bob:***@10.0.0.1:7000/0",
                "redis://bob:***@10.0.0.2:7001/0",
                "redis://bob:***@10.0.0.3:6379/0"
            ]
        );
        assert!(
            nodes
                .iter()
                .all(|n| n.redis_settings().password() == Some("pw"))
        );
        assert_eq!(
            display_cluster_url(&nodes),
            "redis+cluster://bob:***@10.0.0.1:7000,10.0.0.2:7001,10.0.0.3:6379"
        );
        assert!(cluster_nodes("redis+cluster://a:1/0").is_ok());
        let err = cluster_nodes("redis+cluster://a:1/2").unwrap_err();
        assert!(err.contains("only database 0"), "{err}");
        let err = cluster_nodes("redis+cluster://a:1,,b:2").unwrap_err();
        assert!(err.contains("empty host"), "{err}");
        assert!(cluster_nodes("redis+cluster://a:notaport").is_err());
    }

    #[test]
    fn invalid_urls_are_reported_without_their_password() {
        for url in [
            "redis+cluster://bob:hunter2@a:1/5",
            "redis://bob:hunter2@h:notaport/",
        ] {
            let err = RedisStore::connect_lazy(url).unwrap_err().to_string();
            assert!(err.contains("invalid Redis URL"), "{err}");
            assert!(!err.contains("hunter2"), "{err}");
        }
    }

    #[test]
    fn redact_url_hides_every_password_and_keeps_the_rest() {
        let cases = [
            // Password only, user and password, user name alone (often meant as one).
            (
                "redis://:hunter2@127.0.0.1:6379/0",
                "redis://:***@127.0.0.1:6379/0",
            ),
            ("redis://bob:hunter2@h/1", "redis://bob:***@h/1"),
            ("redis://hunter2@h", "redis://***@h"),
            ("redis://alice:@h", "redis://alice:***@h"),
            ("redis://@h:1", "redis://@h:1"),
            // No authentication: unchanged.
            ("redis://127.0.0.1:6379", "redis://127.0.0.1:6379"),
            ("redis+cluster://a:1,b:2", "redis+cluster://a:1,b:2"),
            ("--quick", "--quick"),
            ("", ""),
            // Percent-encoded, or with raw `@`, `:`, `/`, `?` in the password.
            ("redis://u:%23%40%3C%3E%24@e.com/2", "redis://u:***@e.com/2"),
            (
                "redis://alice:p@ss@w@rd@host:6390",
                "redis://alice:***@host:6390",
            ),
            ("redis://alice:a:b/c?d@host", "redis://alice:***@host"),
            ("rediss://u:pw@h:6380/0", "rediss://u:***@h:6380/0"),
            // Cluster URLs with several hosts.
            (
                "redis+cluster://bob:pw@10.0.0.1:7000,10.0.0.2:7001/0",
                "redis+cluster://bob:***@10.0.0.1:7000,10.0.0.2:7001/0",
            ),
            (
                "REDIS+CLUSTER://:pw@a:1,b:2",
                "REDIS+CLUSTER://:***@a:1,b:2",
            ),
            // Several URLs in one argument, and `--flag=URL`.
            (
                "memory,redis://:pw1@a:1,redis+cluster://u:pw2@b:1,c:2,rwlock",
                "memory,redis://:***@a:1,redis+cluster://u:***@b:1,c:2,rwlock",
            ),
            ("--store=redis://u:pw@h", "--store=redis://u:***@h"),
            // Query-string passwords (redis+unix).
            (
                "redis+unix:///run/redis.sock?db=1&pass=pw&user=u",
                "redis+unix:///run/redis.sock?db=1&pass=***&user=u",
            ),
        ];
        for (url, shown) in cases {
            assert_eq!(redact_url(url), shown, "{url}");
            // Redacting twice changes nothing more.
            assert_eq!(redact_url(shown), shown, "{shown}");
        }
    }

    #[test]
    fn urls_are_shown_without_password() {
        let info = "redis://alice:s3cret@localhost:6380/2"
            .into_connection_info()
            .expect("valid URL");
        assert_eq!(display_url(&info), "redis://alice:***@localhost:6380/2");
        let info = "redis://127.0.0.1/"
            .into_connection_info()
            .expect("valid URL");
        assert_eq!(display_url(&info), "redis://127.0.0.1:6379/0");
        // A user name alone: redis-rs reads a user, the user may have meant a password.
        let info = "redis://hunter2@h:1/"
            .into_connection_info()
            .expect("valid URL");
        assert_eq!(display_url(&info), "redis://***@h:1/0");
        let info = "redis://:p%40ss@h:1/"
            .into_connection_info()
            .expect("valid URL");
        assert_eq!(info.redis_settings().password(), Some("p@ss"));
        assert_eq!(display_url(&info), "redis://:***@h:1/0");
    }
}
