//! A precise async timer for send times. tokio's timer wheel has a resolution of one
//! millisecond, so a request due 0.2 ms from now would leave up to a millisecond late,
//! and open-loop latency (counted from the due time) would carry that error. The pacer is
//! one thread holding a heap of (due time, waker): it sleeps with `park_timeout` (a futex
//! wait on an hrtimer, timer slack lowered to 1 µs) until the earliest is due, then wakes
//! every due task. A woken task then runs on its runtime's worker; the whole delay is
//! what the step reports as lag.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::thread::{JoinHandle, Thread};
use std::time::{Duration, Instant};

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

struct Shared {
    heap: Mutex<BinaryHeap<Reverse<Entry>>>,
    seq: AtomicU64,
    stop: AtomicBool,
}

/// The timer thread; stopped when dropped.
pub struct Pacer {
    shared: Arc<Shared>,
    thread: Thread,
    handle: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for Pacer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Pacer")
    }
}

impl Pacer {
    /// Starts the timer thread, pinned to `cores` (not pinned when empty).
    pub fn start(cores: &[usize]) -> Result<Pacer, LoadError> {
        let shared = Arc::new(Shared {
            heap: Mutex::new(BinaryHeap::new()),
            seq: AtomicU64::new(0),
            stop: AtomicBool::new(false),
        });
        let s = shared.clone();
        let cores = cores.to_vec();
        let handle = std::thread::Builder::new()
            .name("tokenbench-pacer".into())
            .spawn(move || {
                if !cores.is_empty() {
                    let _ = crate::net::placement::pin(0, &cores);
                }
                run(&s);
            })
            .map_err(|e| LoadError::Runtime(format!("starting the pacer thread: {e}")))?;
        Ok(Pacer {
            shared,
            thread: handle.thread().clone(),
            handle: Some(handle),
        })
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
        let seq = self.shared.seq.fetch_add(1, Ordering::Relaxed);
        let earliest = {
            let mut heap = self.shared.heap.lock().unwrap_or_else(|p| p.into_inner());
            let earliest = heap.peek().is_none_or(|Reverse(e)| at < e.at);
            heap.push(Reverse(Entry { at, seq, waker }));
            earliest
        };
        if earliest {
            self.thread.unpark();
        }
    }
}

impl Drop for Pacer {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Relaxed);
        self.thread.unpark();
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

fn run(shared: &Shared) {
    #[cfg(target_os = "linux")]
    // SAFETY: PR_SET_TIMERSLACK only changes this thread's timer slack (to 1 µs).
    unsafe {
        libc::prctl(libc::PR_SET_TIMERSLACK, 1000 as libc::c_ulong, 0, 0, 0);
    }
    let mut due: Vec<Waker> = Vec::new();
    while !shared.stop.load(Ordering::Relaxed) {
        let next = {
            let mut heap = shared.heap.lock().unwrap_or_else(|p| p.into_inner());
            let now = Instant::now();
            while heap.peek().is_some_and(|Reverse(e)| e.at <= now) {
                if let Some(Reverse(e)) = heap.pop() {
                    due.push(e.waker);
                }
            }
            heap.peek().map(|Reverse(e)| e.at)
        };
        for w in due.drain(..) {
            w.wake();
        }
        match next {
            Some(at) => std::thread::park_timeout(at.saturating_duration_since(Instant::now())),
            None => std::thread::park_timeout(Duration::from_millis(100)),
        }
    }
    // Wake whatever is left so no task waits forever.
    let mut heap = shared.heap.lock().unwrap_or_else(|p| p.into_inner());
    for Reverse(e) in heap.drain() {
        e.waker.wake();
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

    #[test]
    fn wakes_at_the_due_time_not_before() {
        let pacer = Pacer::start(&[]).unwrap();
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
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
}
