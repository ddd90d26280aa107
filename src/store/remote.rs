//! What a networked session store offers the workloads besides its [`SessionStore`] calls:
//! its server, as a [`ServerProbe`]. The workloads wait out an outage, read the server's CPU
//! and memory and name the server through it, whichever store it is (Redis, Redis Cluster,
//! PostgreSQL); [`StoreSpec::probe`](crate::scheme::spec::StoreSpec::probe) is the one place
//! that makes one from a store spec.
//!
//! [`SessionStore`]: super::SessionStore

use std::fmt;
use std::time::Duration;

use super::{StoreError, StoreResult};

/// The server behind a networked session store.
///
/// A probe connects on its own (never through a store's pool), lazily: making one only
/// checks the address. Figures are the server's own, for every client: a workload reads
/// one before and after a counted run of its own operations and subtracts what the server
/// does while it sends nothing.
///
/// ```no_run
/// use std::time::Duration;
/// use tokenbench::scheme::spec::StoreSpec;
///
/// let spec: StoreSpec = "postgres://127.0.0.1:5432/test".parse().unwrap();
/// let probe = spec.probe()?.expect("a networked store");
/// probe.ping(Duration::from_millis(500))?;
/// println!("{} at {}: {:?} s of CPU", probe.server(), probe.address(), probe.cpu_secs()?);
/// # Ok::<(), tokenbench::store::StoreError>(())
/// ```
pub trait ServerProbe: Send + Sync + fmt::Debug {
    /// What the server is, for messages: `Redis`, `Redis Cluster`, `PostgreSQL`.
    fn server(&self) -> &'static str;

    /// The server's address as it may be printed or written: never a password.
    fn address(&self) -> &str;

    /// `Ok` when the server answers now, on a fresh connection, within `timeout`; a server
    /// still starting (Redis loading its data, PostgreSQL in recovery) has not answered.
    fn ping(&self, timeout: Duration) -> StoreResult<()>;

    /// CPU time the server has used so far, in seconds, never decreasing: a workload's CPU
    /// per operation is its growth over a counted run, less the idle rate, divided by the
    /// count. `Ok(None)` when it cannot be known from here (then the figure is unknown,
    /// never zero).
    fn cpu_secs(&self) -> StoreResult<Option<f64>>;

    /// Operations the server has executed so far, for every client, never decreasing
    /// (Redis: commands processed), read live; `Ok(None)` when the server cannot say so
    /// at once (PostgreSQL's statistics reach `pg_stat_database` up to ten seconds late).
    fn ops(&self) -> StoreResult<Option<u64>> {
        Ok(None)
    }

    /// `n` round trips to the server on one open connection (Redis `PING`, PostgreSQL
    /// `SELECT 1`), each timed: what a network between client and server adds shows in
    /// them (the latency proxy is checked this way). Empty when the store cannot say.
    fn round_trips(&self, n: usize) -> StoreResult<Vec<Duration>> {
        let _ = n;
        Ok(Vec::new())
    }

    /// Bytes the server holds for its data now (Redis: its allocator's `used_memory`;
    /// PostgreSQL: the database's size), whose growth over N inserts, divided by N, is a
    /// per-session figure; `Ok(None)` when it cannot be known.
    fn memory_bytes(&self) -> StoreResult<Option<u64>>;

    /// How [`memory_bytes`](Self::memory_bytes) is read, for the size workload's `method`.
    fn memory_method(&self) -> &'static str;

    /// How a store's [`record_bytes`](super::SessionStore::record_bytes) is read, for the
    /// size workload's `method`.
    fn record_bytes_method(&self) -> &'static str;

    /// The largest working set a workload issues into this store (the scale workload cuts
    /// larger ones to it): each session is a round trip to create, and server memory.
    fn max_working_set(&self) -> usize {
        100_000
    }

    /// True when `e` means the server could not be reached or could not serve (an outage
    /// worth waiting out), false for any other failure (waiting will not help).
    fn is_outage(&self, e: &StoreError) -> bool {
        matches!(e, StoreError::Unavailable(_))
    }
}
