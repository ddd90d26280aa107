//! A precise async timer for send times. tokio's timer wheel has a resolution of one
//! millisecond, so a request due 0.2 ms from now would leave up to a millisecond late, and
//! open-loop latency (counted from the due time) would carry that error.
//!
//! The pacer keeps a heap of (due time, waker) and one Linux `timerfd` (an hrtimer with no
//! slack) armed for the earliest entry. The fd sits in the generator runtime's own epoll
//! set ([`AsyncFd`]), so a due time wakes the worker that already waits there for the
//! server's answers: one driver task reads the fd, wakes every due waker on that worker and
//! arms the fd for the next entry. No timer thread, so no futex wake and context switch
//! per request (that design cost the generator more CPU per request than the server
//! spent answering). Registering an entry re-arms the fd only when the entry is the new
//! earliest, which on a steady schedule it rarely is. What a woken task waits beyond its
//! due time (a busy worker, a late wake-up) is what the step reports as lag.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::future::Future;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use tokio::io::unix::AsyncFd;
use tokio::runtime::Handle;
use tokio::task::JoinHandle;

use super::LoadError;

struct Entry {
    at: Instant,
    seq: u64,
    waker: Waker,
}

impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}
impl Eq for Entry {}
impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Entry {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.at, self.seq).cmp(&(other.at, other.seq))
    }
}

#[derive(Default)]
struct State {
    heap: BinaryHeap<Reverse<Entry>>,
    seq: u64,
    /// The due time the timer is armed for (`None`: disarmed or already fired).
    armed: Option<Instant>,
}

struct Shared {
    state: Mutex<State>,
    timer: OwnedFd,
    stop: AtomicBool,
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The shared timer fd as the reactor sees it.
struct TimerFd(Arc<Shared>);

impl AsRawFd for TimerFd {
    fn as_raw_fd(&self) -> RawFd {
        self.0.timer.as_raw_fd()
    }
}

/// The timer and its driver task on one runtime; stopped when dropped.
pub struct Pacer {
    shared: Arc<Shared>,
    driver: JoinHandle<()>,
}

impl std::fmt::Debug for Pacer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Pacer")
    }
}

impl Pacer {
    /// Starts the pacer's driver task on `runtime` (which must have its IO driver enabled).
    pub fn start(runtime: &Handle) -> Result<Pacer, LoadError> {
        let err = |e: io::Error| LoadError::Runtime(format!("starting the pacer: {e}"));
        // SAFETY: timerfd_create takes no pointers; a non-negative result is a new fd that
        // nothing else owns.
        let fd = unsafe {
            libc::timerfd_create(
                libc::CLOCK_MONOTONIC,
                libc::TFD_NONBLOCK | libc::TFD_CLOEXEC,
            )
        };
        if fd < 0 {
            return Err(err(io::Error::last_os_error()));
        }
        // SAFETY: `fd` is open and owned by nobody else (see above).
        let timer = unsafe { OwnedFd::from_raw_fd(fd) };
        let shared = Arc::new(Shared {
            state: Mutex::new(State::default()),
            timer,
            stop: AtomicBool::new(false),
        });
        let afd = {
            let _in = runtime.enter();
            // SAFETY: the fd belongs to `Shared`, which the registered `TimerFd` keeps
            // alive, so it stays open (and is not replaced) while the AsyncFd lives.
            unsafe {
                AsyncFd::register_with_interest(
                    TimerFd(shared.clone()),
                    tokio::io::Interest::READABLE,
                )
            }
            .map_err(|e| err(e.into_parts().1))?
        };
        let driver = runtime.spawn(drive(shared.clone(), afd));
        Ok(Pacer { shared, driver })
    }

    /// A future ready at `at` (at once if `at` has passed).
    pub fn sleep_until(&self, at: Instant) -> PacedSleep<'_> {
        PacedSleep {
            pacer: self,
            at,
            registered: false,
        }
    }

    fn register(&self, at: Instant, waker: Waker) {
        let mut st = self.shared.lock();
        let seq = st.seq;
        st.seq += 1;
        st.heap.push(Reverse(Entry { at, seq, waker }));
        if st.armed.is_none_or(|armed| at < armed) {
            arm(&self.shared.timer, at);
            st.armed = Some(at);
        }
    }
}

impl Drop for Pacer {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Relaxed);
        self.driver.abort();
        // Wake whatever is left so no task waits forever.
        let left = std::mem::take(&mut self.shared.lock().heap);
        for Reverse(e) in left {
            e.waker.wake();
        }
    }
}

/// Arms `timer` to fire once at `at` (relative to now, so never before `at`; at least 1 ns,
/// since a zero time disarms).
fn arm(timer: &OwnedFd, at: Instant) {
    let d = at
        .saturating_duration_since(Instant::now())
        .max(Duration::from_nanos(1));
    let spec = libc::itimerspec {
        it_interval: libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        },
        it_value: libc::timespec {
            tv_sec: libc::time_t::try_from(d.as_secs()).unwrap_or(libc::time_t::MAX),
            tv_nsec: libc::c_long::from(d.subsec_nanos()),
        },
    };
    // SAFETY: `timer` is an open timerfd; `spec` is a valid itimerspec for the call's
    // duration; a null old value is allowed. It cannot fail for a valid fd and spec.
    unsafe {
        libc::timerfd_settime(timer.as_raw_fd(), 0, &spec, std::ptr::null_mut());
    }
}

/// Reads (and so resets) the timer's expiration count.
fn read_expirations(timer: &OwnedFd) -> io::Result<u64> {
    let mut n = 0u64;
    // SAFETY: reads at most 8 bytes into `n`, which is 8 bytes long.
    let r = unsafe {
        libc::read(
            timer.as_raw_fd(),
            std::ptr::from_mut(&mut n).cast::<libc::c_void>(),
            8,
        )
    };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(n)
}

async fn drive(shared: Arc<Shared>, afd: AsyncFd<TimerFd>) {
    let mut due: Vec<Waker> = Vec::new();
    loop {
        let Ok(mut guard) = afd.readable().await else {
            return;
        };
        match guard.try_io(|t| read_expirations(&t.get_ref().0.timer)) {
            // Fired: its readiness is used up (a later expiry sets it again).
            Ok(_) => guard.clear_ready(),
            // Not ready after all: try_io cleared the readiness; wait again.
            Err(_) => continue,
        }
        {
            let mut st = shared.lock();
            st.armed = None;
            let now = Instant::now();
            while st.heap.peek().is_some_and(|Reverse(e)| e.at <= now) {
                if let Some(Reverse(e)) = st.heap.pop() {
                    due.push(e.waker);
                }
            }
            if let Some(next) = st.heap.peek().map(|Reverse(e)| e.at) {
                arm(&shared.timer, next);
                st.armed = Some(next);
            }
        }
        for w in due.drain(..) {
            w.wake();
        }
    }
}

/// See [`Pacer::sleep_until`].
pub struct PacedSleep<'p> {
    pacer: &'p Pacer,
    at: Instant,
    registered: bool,
}

impl Future for PacedSleep<'_> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if Instant::now() >= self.at
            || (self.registered && self.pacer.shared.stop.load(Ordering::Relaxed))
        {
            return Poll::Ready(());
        }
        // Polled again before due (a spurious wake-up): register again, harmlessly.
        self.registered = true;
        self.pacer.register(self.at, cx.waker().clone());
        Poll::Pending
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    }

    #[test]
    fn wakes_at_the_due_time_not_before() {
        let rt = runtime();
        let pacer = Pacer::start(rt.handle()).unwrap();
        rt.block_on(async {
            for us in [300u64, 50, 1200] {
                let at = Instant::now() + Duration::from_micros(us);
                pacer.sleep_until(at).await;
                let now = Instant::now();
                assert!(now >= at);
                // Precise to well under tokio's millisecond tick (generous for a shared
                // machine; a quiet one is within tens of microseconds).
                assert!(now - at < Duration::from_millis(5), "{:?} late", now - at);
            }
            // Already due: ready at once.
            pacer.sleep_until(Instant::now()).await;
        });
    }

    #[test]
    fn many_sleepers_wake_in_order_each_at_its_time() {
        let rt = runtime();
        let pacer = Arc::new(Pacer::start(rt.handle()).unwrap());
        let t0 = Instant::now() + Duration::from_millis(1);
        // Registered out of order, so later registrations are often the new earliest.
        let offsets: Vec<u64> = (0..64u64).map(|i| (i * 37) % 64 * 50).collect();
        let woke = rt.block_on(async {
            let mut set = tokio::task::JoinSet::new();
            for &us in &offsets {
                let pacer = pacer.clone();
                let at = t0 + Duration::from_micros(us);
                set.spawn(async move {
                    pacer.sleep_until(at).await;
                    (at, Instant::now())
                });
            }
            let mut woke = Vec::new();
            while let Some(r) = set.join_next().await {
                woke.push(r.unwrap());
            }
            woke
        });
        assert_eq!(woke.len(), offsets.len());
        for (at, now) in woke {
            assert!(now >= at, "woke {:?} early", at - now);
        }
    }
}
