//! A denylist replicated by polling: a central list is the source of truth, and each node
//! keeps a local copy that a poller thread replaces with a fresh full copy every P.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::sync::{Arc, RwLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::{Denylist, MemoryDenylist};
use crate::store::StoreResult;

/// The local copy and how many times it has been refreshed.
#[derive(Debug, Default)]
struct Copy {
    entries: RwLock<HashMap<String, u64>>,
    polls: AtomicU64,
}

impl Copy {
    /// Replaces the local copy with every entry currently on `central`.
    fn refresh(&self, central: &MemoryDenylist) {
        // Built outside the lock so readers wait only for the swap. `entries` is private to
        // the parent module, which this module, as its child, may read.
        let fresh: HashMap<String, u64> = central
            .entries
            .iter()
            .map(|e| (e.key().clone(), *e.value()))
            .collect();
        // A poisoned lock only means a reader panicked; the map itself is intact.
        *self.entries.write().unwrap_or_else(|e| e.into_inner()) = fresh;
        self.polls.fetch_add(1, Ordering::SeqCst);
    }
}

/// One node's polled copy of a central denylist.
///
/// `insert` goes to the central list only; `contains` reads only the local copy, which a
/// poller thread refreshes every `interval`, so a revocation becomes visible on a node at
/// its next poll: up to `interval` later, on the revoking node too. The poller ends when
/// the node is dropped.
///
/// ```
/// use std::sync::Arc;
/// use std::time::Duration;
/// use tokenbench::denylist::{Denylist, MemoryDenylist, PolledDenylist};
/// let central = Arc::new(MemoryDenylist::new());
/// let node = PolledDenylist::new(central.clone(), Duration::from_secs(3600)).unwrap();
/// node.insert("jti-1", u64::MAX).unwrap();
/// assert!(central.contains("jti-1", 0).unwrap());
/// assert!(!node.contains("jti-1", 0).unwrap()); // not until the next poll
/// node.refresh();
/// assert!(node.contains("jti-1", 0).unwrap());
/// ```
pub struct PolledDenylist {
    central: Arc<MemoryDenylist>,
    copy: Arc<Copy>,
    interval: Duration,
    /// Dropping it wakes the poller, which then ends.
    stop: Option<Sender<()>>,
    poller: Option<JoinHandle<()>>,
}

impl PolledDenylist {
    /// A node copying `central` now and then every `interval`.
    pub fn new(central: Arc<MemoryDenylist>, interval: Duration) -> std::io::Result<Self> {
        Self::with_phase(central, interval, interval)
    }

    /// A node copying `central` now, then after `first_poll_in`, then every `interval`
    /// after that: nodes started together get independent phases, as in a real fleet.
    pub fn with_phase(
        central: Arc<MemoryDenylist>,
        interval: Duration,
        first_poll_in: Duration,
    ) -> std::io::Result<Self> {
        let copy = Arc::new(Copy::default());
        copy.refresh(&central);
        let (stop, stopped) = mpsc::channel::<()>();
        let poller = {
            let (copy, central) = (copy.clone(), central.clone());
            // A zero interval would spin; one microsecond is as fast as is useful.
            let interval = interval.max(Duration::from_micros(1));
            std::thread::Builder::new()
                .name("denylist-poll".into())
                .spawn(move || {
                    // A fixed schedule (not sleep-after-work) so the phase does not drift.
                    let mut next = Instant::now() + first_poll_in;
                    loop {
                        let wait = next.saturating_duration_since(Instant::now());
                        match stopped.recv_timeout(wait) {
                            Err(RecvTimeoutError::Timeout) => {
                                copy.refresh(&central);
                                next += interval;
                                // After a stall, skip missed polls rather than bursting.
                                let now = Instant::now();
                                while next <= now {
                                    next += interval;
                                }
                            }
                            Ok(()) | Err(RecvTimeoutError::Disconnected) => return,
                        }
                    }
                })?
        };
        Ok(Self {
            central,
            copy,
            interval,
            stop: Some(stop),
            poller: Some(poller),
        })
    }

    /// Copies the central list now, outside the schedule.
    pub fn refresh(&self) {
        self.copy.refresh(&self.central);
    }

    /// Times the local copy has been refreshed (the copy made at construction included).
    pub fn polls(&self) -> u64 {
        self.copy.polls.load(Ordering::SeqCst)
    }

    /// The polling period.
    pub fn interval(&self) -> Duration {
        self.interval
    }

    /// The central list this node copies.
    pub fn central(&self) -> &Arc<MemoryDenylist> {
        &self.central
    }
}

impl Denylist for PolledDenylist {
    fn name(&self) -> &'static str {
        "polled"
    }

    fn insert(&self, jti: &str, expires_at_secs: u64) -> StoreResult<()> {
        self.central.insert(jti, expires_at_secs)
    }

    fn contains(&self, jti: &str, now_secs: u64) -> StoreResult<bool> {
        let entries = self.copy.entries.read().unwrap_or_else(|e| e.into_inner());
        Ok(entries.get(jti).is_some_and(|exp| *exp > now_secs))
    }

    fn len(&self) -> usize {
        self.copy
            .entries
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .len()
    }
}

impl Drop for PolledDenylist {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(handle) = self.poller.take() {
            // A panicked poller has nothing left to clean up.
            let _ = handle.join();
        }
    }
}

impl std::fmt::Debug for PolledDenylist {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PolledDenylist")
            .field("interval", &self.interval)
            .field("polls", &self.polls())
            .finish_non_exhaustive()
    }
}
