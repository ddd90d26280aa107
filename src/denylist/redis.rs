//! `jti` denylists on Redis: central (checked on every validate), and the building blocks
//! for pushed (pub/sub) and polled per-node copies.
//!
//! - Central: [`RedisDenylist`] implements [`Denylist`]; every entry is the key
//!   `<prefix><jti>` holding the token's `exp` (Unix seconds), with a Redis TTL at that same
//!   second (`SET ... EXAT`), so Redis forgets an entry once its token is dead anyway.
//!   Any Redis error is returned, so [`JwtScheme`](crate::scheme::JwtScheme) fails closed.
//! - Pushed: [`RedisDenylist::publish`] sends `(jti, exp)` on the instance's pub/sub channel
//!   and [`RedisDenylist::subscribe`] feeds every message into a node's local
//!   [`MemoryDenylist`] from a background thread.
//! - Polled: [`RedisDenylist::fetch_all`] / [`RedisDenylist::snapshot`] read every current
//!   entry, for a copy refreshed every P seconds.
//!
//! Connections, timeouts, key prefix and cleanup are those of
//! [`RedisStore`](crate::store::RedisStore), which this type uses underneath.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

use super::{Denylist, MemoryDenylist};
use crate::store::{RedisStore, SessionStore, StoreError, StoreResult};

/// How often a subscriber thread wakes up to check whether it was stopped, and how long it
/// waits before dialing again after losing its connection.
const SUBSCRIBER_POLL: Duration = Duration::from_millis(100);

/// Revoked `jti`s in Redis, shared by every validator that connects to the same prefix.
///
/// ```no_run
/// use std::sync::Arc;
/// use tokenbench::denylist::{Denylist, MemoryDenylist, RedisDenylist};
/// let central = RedisDenylist::connect("redis://127.0.0.1:6379/")?;
/// let local = Arc::new(MemoryDenylist::new());
/// let subscription = central.subscribe(local.clone())?;
/// central.insert("jti-1", 4_102_444_800)?;
/// central.publish("jti-1", 4_102_444_800)?;
/// assert!(central.contains("jti-1", 0)?);
/// // Shortly after, `local.contains("jti-1", 0)` is true too.
/// drop(subscription);
/// # Ok::<(), tokenbench::store::StoreError>(())
/// ```
#[derive(Debug)]
pub struct RedisDenylist {
    store: Arc<RedisStore>,
    channel: String,
}

impl RedisDenylist {
    /// Connects to the Redis server at `url` with a fresh random key prefix
    /// (`tokenbench:<random>:`). Fails with [`StoreError::Unavailable`] on a malformed URL
    /// or when nothing answers within [`RedisStore::CONNECT_TIMEOUT`].
    pub fn connect(url: &str) -> StoreResult<Self> {
        Ok(Self::from_store(RedisStore::connect(url)?))
    }

    /// Like [`connect`](Self::connect), but only checks the URL and dials on first use
    /// (see [`RedisStore::connect_lazy`]); until Redis answers, lookups fail closed.
    pub fn connect_lazy(url: &str) -> StoreResult<Self> {
        Ok(Self::from_store(RedisStore::connect_lazy(url)?))
    }

    /// Connects with entries under `prefix`; denylists sharing a prefix share entries and
    /// the pub/sub channel.
    pub fn connect_with_prefix(url: &str, prefix: &str) -> StoreResult<Self> {
        Ok(Self::from_store(RedisStore::connect_with_prefix(
            url, prefix,
        )?))
    }

    /// A denylist using `store`'s connections and key prefix. Keep that prefix for the
    /// denylist alone: [`len`](Denylist::len) and [`fetch_all`](Self::fetch_all) read every
    /// key under it.
    pub fn from_store(store: RedisStore) -> Self {
        let channel = format!("{}revoked", store.prefix());
        Self {
            store: Arc::new(store),
            channel,
        }
    }

    /// Whether dropping this denylist (and every `Subscription` made from it) deletes its
    /// entries (on by default).
    pub fn with_cleanup_on_drop(self, cleanup: bool) -> Self {
        self.store.set_cleanup_on_drop(cleanup);
        self
    }

    /// The server's URL, without any password.
    pub fn url(&self) -> &str {
        self.store.url()
    }

    /// The prefix of every key this denylist writes.
    pub fn prefix(&self) -> &str {
        self.store.prefix()
    }

    /// The pub/sub channel of [`publish`](Self::publish) and [`subscribe`](Self::subscribe).
    pub fn channel(&self) -> &str {
        &self.channel
    }

    /// Deletes every entry (every key under the prefix); returns how many were deleted.
    pub fn cleanup(&self) -> StoreResult<usize> {
        self.store.cleanup()
    }

    /// Number of entries, or why Redis could not say ([`Denylist::len`] reports 0 then).
    pub fn try_len(&self) -> StoreResult<usize> {
        self.store.len()
    }

    /// Announces a revocation to every current subscriber; returns how many received it.
    /// This does not store the entry: call [`insert`](Denylist::insert) as well so that
    /// polled copies, later subscribers and reconnecting subscribers see it.
    pub fn publish(&self, jti: &str, expires_at_secs: u64) -> StoreResult<usize> {
        self.store.query(
            redis::cmd("PUBLISH")
                .arg(&self.channel)
                .arg(format!("{expires_at_secs} {jti}")),
        )
    }

    /// Every entry currently held, as `(jti, exp)`, in no particular order
    /// (`SCAN` then `MGET` per batch).
    pub fn fetch_all(&self) -> StoreResult<Vec<(String, u64)>> {
        fetch_all(&self.store)
    }

    /// A local copy of every current entry (one [`fetch_all`](Self::fetch_all)).
    pub fn snapshot(&self) -> StoreResult<MemoryDenylist> {
        let copy = MemoryDenylist::new();
        for (jti, exp) in self.fetch_all()? {
            copy.insert(&jti, exp)?;
        }
        Ok(copy)
    }

    /// Keeps `local` up to date with every [`publish`](Self::publish) from now on; see
    /// [`subscribe_with`](Self::subscribe_with).
    pub fn subscribe(&self, local: Arc<MemoryDenylist>) -> StoreResult<Subscription> {
        self.subscribe_with(move |jti, exp| {
            // A MemoryDenylist insert cannot fail.
            let _ = local.insert(jti, exp);
        })
    }

    /// Calls `on_revoked(jti, exp)` from a background thread for every revocation
    /// published on this denylist's channel. The channel is subscribed when this returns,
    /// so no later publication is missed. If the connection drops, the thread dials again
    /// every 100 ms; once subscribed again it replays [`fetch_all`](Self::fetch_all) through
    /// `on_revoked` to cover what was published meanwhile. Dropping the `Subscription`
    /// stops the thread.
    pub fn subscribe_with(
        &self,
        on_revoked: impl Fn(&str, u64) + Send + 'static,
    ) -> StoreResult<Subscription> {
        let conn = self.store.dedicated_connection()?;
        let shared = Arc::new(SubscriptionState::default());
        let (ready_tx, ready_rx) = mpsc::channel();
        let worker = Subscriber {
            store: self.store.clone(),
            channel: self.channel.clone(),
            state: shared.clone(),
            on_revoked: Box::new(on_revoked),
        };
        let thread = std::thread::Builder::new()
            .name("redis-denylist-subscriber".into())
            .spawn(move || worker.run(conn, ready_tx))
            .map_err(|e| StoreError::Unavailable(format!("cannot spawn subscriber: {e}")))?;
        let subscription = Subscription {
            state: shared,
            thread: Some(thread),
        };
        match ready_rx.recv() {
            Ok(Ok(())) => Ok(subscription),
            Ok(Err(e)) => Err(e),
            Err(_) => Err(StoreError::Unavailable(
                "subscriber thread ended before subscribing".into(),
            )),
        }
    }
}

impl Denylist for RedisDenylist {
    fn name(&self) -> &'static str {
        "redis"
    }

    fn insert(&self, jti: &str, expires_at_secs: u64) -> StoreResult<()> {
        // EXAT refuses 0; an `exp` already past makes Redis drop the entry at once, which
        // is what it would do a moment later anyway. Idempotent, so retried on a stale
        // connection.
        self.store.query_idempotent(
            redis::cmd("SET")
                .arg(self.store.key(jti))
                .arg(expires_at_secs)
                .arg("EXAT")
                .arg(expires_at_secs.clamp(1, i64::MAX as u64 / 1000)),
        )
    }

    fn contains(&self, jti: &str, now_secs: u64) -> StoreResult<bool> {
        // One GET rather than EXISTS, at the same cost: the stored `exp` lets `now_secs`
        // (possibly a virtual clock) decide, exactly as for `MemoryDenylist`; Redis's own
        // TTL only frees the memory.
        let value: Option<String> = self
            .store
            .query_idempotent(redis::cmd("GET").arg(self.store.key(jti)))?;
        match value {
            Some(v) => Ok(parse_exp(jti, &v)? > now_secs),
            None => Ok(false),
        }
    }

    /// Entries held; 0 when Redis cannot be reached (use
    /// [`try_len`](RedisDenylist::try_len) to see the error).
    fn len(&self) -> usize {
        self.store.len().unwrap_or(0)
    }
}

/// Every `(jti, exp)` under `store`'s prefix, sorted, without duplicates.
fn fetch_all(store: &RedisStore) -> StoreResult<Vec<(String, u64)>> {
    let prefix = store.prefix();
    let mut entries = Vec::new();
    store.scan_keys(|keys| {
        let values: Vec<Option<String>> = store.query_idempotent(redis::cmd("MGET").arg(keys))?;
        for (key, value) in keys.iter().zip(values) {
            // A key that expired between SCAN and MGET is simply gone.
            let Some(value) = value else { continue };
            let jti = key.strip_prefix(prefix).unwrap_or(key);
            entries.push((jti.to_owned(), parse_exp(jti, &value)?));
        }
        Ok(())
    })?;
    // SCAN may return a key twice.
    entries.sort_unstable();
    entries.dedup();
    Ok(entries)
}

fn parse_exp(jti: &str, value: &str) -> StoreResult<u64> {
    value.parse().map_err(|_| {
        StoreError::Corrupt(format!(
            "denylist entry {jti:?} holds {value:?}, not an exp"
        ))
    })
}

/// A running subscriber thread (see [`RedisDenylist::subscribe_with`]); dropping it stops
/// the thread, within 100 ms while connected (a reconnect attempt may take up to
/// [`RedisStore::CONNECT_TIMEOUT`]).
#[derive(Debug)]
pub struct Subscription {
    state: Arc<SubscriptionState>,
    thread: Option<JoinHandle<()>>,
}

impl Subscription {
    /// Revocations delivered from pub/sub messages so far (replays after a reconnect excluded).
    pub fn received(&self) -> u64 {
        self.state.received.load(Ordering::SeqCst)
    }

    /// Whether the thread is subscribed right now (false while Redis is unreachable).
    pub fn is_connected(&self) -> bool {
        self.state.connected.load(Ordering::SeqCst)
    }

    /// Times the thread had to subscribe again after losing its connection.
    pub fn reconnects(&self) -> u64 {
        self.state.reconnects.load(Ordering::SeqCst)
    }

    /// Stops the thread and waits for it to end.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        self.state.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.shutdown();
    }
}

#[derive(Debug, Default)]
struct SubscriptionState {
    stop: AtomicBool,
    connected: AtomicBool,
    received: AtomicU64,
    reconnects: AtomicU64,
}

/// What a subscriber does with each revoked `(jti, exp)`.
type RevocationCallback = Box<dyn Fn(&str, u64) + Send>;

/// What the subscriber thread owns.
struct Subscriber {
    store: Arc<RedisStore>,
    channel: String,
    state: Arc<SubscriptionState>,
    on_revoked: RevocationCallback,
}

impl Subscriber {
    fn stopped(&self) -> bool {
        self.state.stop.load(Ordering::SeqCst)
    }

    /// Subscribes on `first` and reports the outcome on `ready`, then delivers messages,
    /// dialing again whenever the connection fails, until stopped.
    fn run(self, first: redis::Connection, ready: mpsc::Sender<StoreResult<()>>) {
        let mut ready = Some(ready);
        let mut next = Some(first);
        while !self.stopped() {
            let mut conn = match next.take() {
                Some(conn) => conn,
                None => match self.store.dedicated_connection() {
                    Ok(conn) => conn,
                    Err(_) => {
                        std::thread::sleep(SUBSCRIBER_POLL);
                        continue;
                    }
                },
            };
            let mut pubsub = conn.as_pubsub();
            let subscribed = pubsub
                .subscribe(&self.channel)
                .and_then(|()| pubsub.set_read_timeout(Some(SUBSCRIBER_POLL)));
            if let Err(e) = subscribed {
                let err = StoreError::Unavailable(format!(
                    "redis {}: cannot subscribe to {}: {e}",
                    self.store.url(),
                    self.channel
                ));
                if let Some(ready) = ready.take() {
                    let _ = ready.send(Err(err));
                    return;
                }
                std::thread::sleep(SUBSCRIBER_POLL);
                continue;
            }
            self.state.connected.store(true, Ordering::SeqCst);
            match ready.take() {
                Some(ready) => {
                    let _ = ready.send(Ok(()));
                }
                None => {
                    self.state.reconnects.fetch_add(1, Ordering::SeqCst);
                    self.replay();
                }
            }
            while !self.stopped() {
                match pubsub.get_message() {
                    Ok(msg) => {
                        let payload = String::from_utf8_lossy(msg.get_payload_bytes());
                        if let Some((exp, jti)) = payload.split_once(' ')
                            && let Ok(exp) = exp.parse()
                        {
                            (self.on_revoked)(jti, exp);
                            self.state.received.fetch_add(1, Ordering::SeqCst);
                        }
                    }
                    Err(e) if e.is_timeout() => {}
                    Err(_) => break,
                }
            }
            self.state.connected.store(false, Ordering::SeqCst);
        }
    }

    /// After a reconnect: delivers every stored entry, covering messages missed while
    /// disconnected (entries that were published but never inserted are lost).
    fn replay(&self) {
        if let Ok(entries) = fetch_all(&self.store) {
            for (jti, exp) in entries {
                (self.on_revoked)(&jti, exp);
            }
        }
    }
}
