//! The connection pool of a [`RedisStore`](super::RedisStore): lazily opened connections
//! to one server or to a whole cluster, each behind its own mutex.
//!
//! A call takes the first free slot starting from the one its thread used last (`try_lock`;
//! a new thread starts at a round-robin position), and only waits when every slot is busy:
//! one thread keeps one connection. Slots are filled lazily; a connection that fails with
//! anything but a clean server reply is dropped and dialed again by the next call on its
//! slot. Idempotent calls that fail on a reused connection (Redis restarted since) are
//! retried once on a fresh one; `delete` and `rename` never are. The `redis` crate's sync
//! connection is `&mut`-only; a multiplexed one would need its async runtime.

use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, TryLockError};

use redis::cluster::{ClusterClient, ClusterClientBuilder, ClusterConnection};
use redis::io::tcp::TcpSettings;
use redis::{
    Client, Cmd, Connection, ConnectionInfo, ConnectionLike, IntoConnectionInfo, RedisResult, Value,
};

use super::RedisStore;
use super::scripts::CORRUPT_CODE;
use super::url::{cluster_nodes, display_cluster_url, display_url, is_cluster_url};
use crate::store::{StoreError, StoreResult, redact_url};

/// Where a store's connections go.
enum Target {
    /// One server.
    Server(Client),
    /// A Redis Cluster, and one of its nodes for what is not routed by key (`SUBSCRIBE`).
    Cluster(Box<ClusterClient>, Client),
}

/// One pooled connection: to a server, or to a whole cluster (each command routed by the
/// hash slot of its key; multi-key `DEL` and `MGET` split per slot by the crate).
pub(super) enum Conn {
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
pub(super) struct Pool {
    target: Target,
    pub(super) display_url: String,
    pub(super) slots: Box<[Mutex<Option<Conn>>]>,
    next: AtomicUsize,
}

impl Pool {
    /// Parses `url` and, when `eager`, opens the first connection, so that a dead server is
    /// reported by the constructor rather than by the first request.
    pub(super) fn open(url: &str, size: usize, eager: bool) -> StoreResult<Self> {
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
    pub(super) fn resize(&mut self, size: usize) {
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
    pub(super) fn dial_one(&self) -> StoreResult<Connection> {
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

    pub(super) fn is_cluster(&self) -> bool {
        matches!(self.target, Target::Cluster(..))
    }

    /// A free slot if there is one, else waits for the start slot. The search starts at the
    /// slot this thread used last (a new thread starts at the next round-robin slot), so a
    /// thread keeps one connection while it finds it free: one thread uses one connection,
    /// T threads about T, and nobody rotates through every slot. (Rotating, one thread made
    /// each call on another socket, dialing and warming them all.)
    fn pick(&self) -> MutexGuard<'_, Option<Conn>> {
        thread_local! {
            /// The slot this thread took last (from any pool: only a hint, taken modulo n).
            static LAST: std::cell::Cell<usize> = const { std::cell::Cell::new(usize::MAX) };
        }
        let n = self.slots.len();
        let start = match LAST.get() {
            usize::MAX => self.next.fetch_add(1, Ordering::Relaxed),
            last => last,
        } % n;
        for i in 0..n {
            let k = (start + i) % n;
            let guard = match self.slots[k].try_lock() {
                Ok(guard) => guard,
                Err(TryLockError::Poisoned(p)) => {
                    let mut guard = p.into_inner();
                    *guard = None;
                    guard
                }
                Err(TryLockError::WouldBlock) => continue,
            };
            LAST.set(k);
            return guard;
        }
        lock(&self.slots[start])
    }

    /// Runs `f` on a pooled connection, dialing one if the slot is empty. A connection that
    /// fails with anything but a server error reply is dropped. When `retry` is set and the
    /// failing connection had been reused, `f` runs once more on a fresh connection.
    pub(super) fn with_conn<T>(
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
