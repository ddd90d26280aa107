//! A denylist replicated by polling: a central list is the source of truth, and each node
//! keeps a local copy that a poller thread replaces with a fresh full copy every P.
//!
//! The central list is any [`PollSource`]: an in-process [`MemoryDenylist`] (validators
//! sharing a process) or a [`RedisDenylist`] (separate servers).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::sync::{Arc, RwLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::{Denylist, MemoryDenylist, RedisDenylist};
use crate::store::{StoreError, StoreResult};

/// A central denylist that nodes can copy whole.
pub trait PollSource: Denylist {
    /// Name of a polled copy of this source in results (`polled`, `polled-redis`).
    const POLLED_NAME: &'static str;

    /// Every entry now on the list, as `(jti, exp)`.
    fn copy_all(&self) -> StoreResult<HashMap<String, u64>>;

    /// Where the list lives, for error messages.
    fn describe(&self) -> String;
}

impl PollSource for MemoryDenylist {
    const POLLED_NAME: &'static str = "polled";

    fn copy_all(&self) -> StoreResult<HashMap<String, u64>> {
        // `entries` is private to the parent module, which this module, as its child, may read.
        Ok(self
            .entries
            .iter()
            .map(|e| (e.key().clone(), *e.value()))
            .collect())
    }

    fn describe(&self) -> String {
        "in-process denylist".into()
    }
}

impl PollSource for RedisDenylist {
    const POLLED_NAME: &'static str = "polled-redis";

    fn copy_all(&self) -> StoreResult<HashMap<String, u64>> {
        Ok(self.fetch_all()?.into_iter().collect())
    }

    fn describe(&self) -> String {
        format!("redis {}", self.url())
    }
}

/// Age past which a copy is refused even if no poll failed (a wedged poller), beyond two
/// periods.
const POLL_STALL: Duration = Duration::from_secs(5);

/// The local copy, when it was last refreshed, and whether the last attempt failed.
#[derive(Debug)]
struct Copy {
    entries: RwLock<HashMap<String, u64>>,
    polls: AtomicU64,
    /// Nanoseconds after `born` of the last successful refresh.
    refreshed_ns: AtomicU64,
    born: Instant,
    failing: AtomicBool,
}

impl Copy {
    fn new() -> Self {
        Self {
            entries: RwLock::new(HashMap::new()),
            polls: AtomicU64::new(0),
            refreshed_ns: AtomicU64::new(0),
            born: Instant::now(),
            failing: AtomicBool::new(false),
        }
    }

    /// Replaces the local copy with every entry now on `central`; on failure keeps the old
    /// copy and marks it failing (lookups then refuse).
    fn refresh<S: PollSource>(&self, central: &S) -> StoreResult<()> {
        // Fetched outside the lock so readers wait only for the swap.
        let fresh = match central.copy_all() {
            Ok(fresh) => fresh,
            Err(e) => {
                self.failing.store(true, Ordering::SeqCst);
                return Err(e);
            }
        };
        // A poisoned lock only means a reader panicked; the map itself is intact.
        *self.entries.write().unwrap_or_else(|e| e.into_inner()) = fresh;
        let age = u64::try_from(self.born.elapsed().as_nanos()).unwrap_or(u64::MAX);
        self.refreshed_ns.store(age, Ordering::SeqCst);
        self.failing.store(false, Ordering::SeqCst);
        self.polls.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }

    /// Time since the last successful refresh.
    fn age(&self) -> Duration {
        self.born.elapsed().saturating_sub(Duration::from_nanos(
            self.refreshed_ns.load(Ordering::SeqCst),
        ))
    }
}

/// One node's polled copy of a central denylist `S`.
///
/// `insert` goes to the central list only; `contains` reads only the local copy, which a
/// poller thread refreshes every `interval`, so a revocation becomes visible on a node at
/// its next poll: up to `interval` later, on the revoking node too. Lookups fail closed
/// while the last poll failed (the central list unreachable) and once the copy is older
/// than 2 × `interval` + 5 s (a stalled poller). The poller ends when the node is dropped.
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
/// node.refresh().unwrap();
/// assert!(node.contains("jti-1", 0).unwrap());
/// ```
pub struct PolledDenylist<S: PollSource = MemoryDenylist> {
    central: Arc<S>,
    copy: Arc<Copy>,
    interval: Duration,
    /// Dropping it wakes the poller, which then ends.
    stop: Option<Sender<()>>,
    poller: Option<JoinHandle<()>>,
}

impl<S: PollSource> PolledDenylist<S> {
    /// A node copying `central` now and then every `interval`.
    pub fn new(central: Arc<S>, interval: Duration) -> std::io::Result<Self> {
        Self::with_phase(central, interval, interval)
    }

    /// A node copying `central` now, then after `first_poll_in`, then every `interval`
    /// after that: nodes started together get independent phases, as in a real fleet.
    /// If the first copy fails, the node refuses lookups until a poll succeeds; call
    /// [`refresh`](Self::refresh) to find out at once.
    pub fn with_phase(
        central: Arc<S>,
        interval: Duration,
        first_poll_in: Duration,
    ) -> std::io::Result<Self> {
        let copy = Arc::new(Copy::new());
        // A failure is recorded in the copy, which then refuses lookups.
        let _ = copy.refresh(central.as_ref());
        let (stop, stopped) = mpsc::channel::<()>();
        let poller = {
            let (copy, central) = (copy.clone(), central.clone());
            // A zero interval would spin; one microsecond is as fast as is useful.
            let interval = interval.max(Duration::from_micros(1));
            std::thread::Builder::new()
                .name(format!("denylist-{}", S::POLLED_NAME))
                .spawn(move || {
                    // A fixed schedule (not sleep-after-work) so the phase does not drift.
                    let mut next = Instant::now() + first_poll_in;
                    loop {
                        let wait = next.saturating_duration_since(Instant::now());
                        match stopped.recv_timeout(wait) {
                            Err(RecvTimeoutError::Timeout) => {
                                // A failed poll keeps the old copy and is marked in it.
                                let _ = copy.refresh(central.as_ref());
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
    pub fn refresh(&self) -> StoreResult<()> {
        self.copy.refresh(self.central.as_ref())
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
    pub fn central(&self) -> &Arc<S> {
        &self.central
    }
}

impl<S: PollSource> Denylist for PolledDenylist<S> {
    fn name(&self) -> &'static str {
        S::POLLED_NAME
    }

    fn insert(&self, jti: &str, expires_at_secs: u64) -> StoreResult<()> {
        self.central.insert(jti, expires_at_secs)
    }

    fn contains(&self, jti: &str, now_secs: u64) -> StoreResult<bool> {
        let age = self.copy.age();
        if self.copy.failing.load(Ordering::SeqCst) || age > self.interval * 2 + POLL_STALL {
            return Err(StoreError::Unavailable(format!(
                "{}: denylist copy not refreshed for {age:?} (polling every {:?})",
                self.central.describe(),
                self.interval
            )));
        }
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

impl<S: PollSource> Drop for PolledDenylist<S> {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(handle) = self.poller.take() {
            // A panicked poller has nothing left to clean up.
            let _ = handle.join();
        }
    }
}

impl<S: PollSource> std::fmt::Debug for PolledDenylist<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PolledDenylist")
            .field("source", &self.central.describe())
            .field("interval", &self.interval)
            .field("polls", &self.polls())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A central list that can be switched off.
    struct Flaky {
        up: AtomicBool,
        list: MemoryDenylist,
    }

    impl Denylist for Flaky {
        fn name(&self) -> &'static str {
            "flaky"
        }

        fn insert(&self, jti: &str, expires_at_secs: u64) -> StoreResult<()> {
            self.list.insert(jti, expires_at_secs)
        }

        fn contains(&self, jti: &str, now_secs: u64) -> StoreResult<bool> {
            self.list.contains(jti, now_secs)
        }

        fn len(&self) -> usize {
            self.list.len()
        }
    }

    impl PollSource for Flaky {
        const POLLED_NAME: &'static str = "polled-flaky";

        fn copy_all(&self) -> StoreResult<HashMap<String, u64>> {
            if self.up.load(Ordering::SeqCst) {
                self.list.copy_all()
            } else {
                Err(StoreError::Unavailable("switched off".into()))
            }
        }

        fn describe(&self) -> String {
            "flaky".into()
        }
    }

    #[test]
    fn a_failed_poll_makes_lookups_refuse_until_one_succeeds() {
        let central = Arc::new(Flaky {
            up: AtomicBool::new(false),
            list: MemoryDenylist::new(),
        });
        let hour = Duration::from_secs(3600);
        // The copy made at construction failed: nothing is known, so nothing is accepted.
        let node = PolledDenylist::with_phase(central.clone(), hour, hour).unwrap();
        assert_eq!(node.polls(), 0);
        assert!(matches!(
            node.contains("jti", 0),
            Err(StoreError::Unavailable(_))
        ));

        central.up.store(true, Ordering::SeqCst);
        node.insert("jti", u64::MAX).unwrap();
        node.refresh().unwrap();
        assert_eq!(node.contains("jti", 0), Ok(true));
        assert_eq!(node.contains("other", 0), Ok(false));

        // A later failure keeps the old copy but refuses to answer from it.
        central.up.store(false, Ordering::SeqCst);
        assert!(node.refresh().is_err());
        assert!(node.contains("other", 0).is_err());
        assert_eq!((node.len(), node.name()), (1, "polled-flaky"));
    }
}
