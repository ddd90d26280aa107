//! A global allocator that can count live heap bytes, used by the size workload to measure
//! server-side memory per session (what the allocator really handed out, not `size_of`).
//!
//! Counting is off by default and costs one relaxed load per allocation when off, so the
//! timing workloads are unaffected. The binary installs it with `#[global_allocator]`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};

/// The counting allocator (wraps the system allocator).
#[derive(Debug, Default)]
pub struct CountingAllocator;

static COUNTING: AtomicBool = AtomicBool::new(false);
static INSTALLED: AtomicBool = AtomicBool::new(false);
static LIVE_BYTES: AtomicI64 = AtomicI64::new(0);
static ALLOCATIONS: AtomicI64 = AtomicI64::new(0);

/// Bytes the allocator really reserves for `ptr` (glibc's usable size, which includes
/// rounding up to its size classes); the requested size elsewhere.
#[inline]
fn usable(ptr: *mut u8, layout: Layout) -> i64 {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: `ptr` was returned by the system allocator and is still live.
        let n = unsafe { libc::malloc_usable_size(ptr.cast()) };
        if n > 0 {
            return n as i64;
        }
    }
    let _ = ptr;
    layout.size() as i64
}

// SAFETY: every method forwards to `System` with the same arguments; the counters are
// side effects only.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded unchanged.
        let p = unsafe { System.alloc(layout) };
        if !INSTALLED.load(Ordering::Relaxed) {
            INSTALLED.store(true, Ordering::Relaxed);
        }
        if !p.is_null() && COUNTING.load(Ordering::Relaxed) {
            LIVE_BYTES.fetch_add(usable(p, layout), Ordering::Relaxed);
            ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if COUNTING.load(Ordering::Relaxed) {
            LIVE_BYTES.fetch_sub(usable(ptr, layout), Ordering::Relaxed);
            ALLOCATIONS.fetch_sub(1, Ordering::Relaxed);
        }
        // SAFETY: forwarded unchanged.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let counting = COUNTING.load(Ordering::Relaxed);
        let before = if counting { usable(ptr, layout) } else { 0 };
        // SAFETY: forwarded unchanged.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if counting && !p.is_null() {
            // `layout`'s alignment with the new size describes the new block.
            let new_layout = Layout::from_size_align(new_size, layout.align()).unwrap_or(layout);
            LIVE_BYTES.fetch_add(usable(p, new_layout) - before, Ordering::Relaxed);
        }
        p
    }
}

/// Live bytes and allocation count while counting; see [`count`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeapDelta {
    /// Net bytes still allocated at the end that were allocated during the closure.
    pub bytes: i64,
    /// Net number of allocations still live.
    pub allocations: i64,
}

/// True when the counting allocator is this process's global allocator.
pub fn installed() -> bool {
    drop(std::hint::black_box(Box::new(0u8)));
    INSTALLED.load(Ordering::Relaxed)
}

/// Runs `f` with counting on and returns its result and the heap growth it left behind.
/// `None` for the delta when the counting allocator is not installed. Meant for
/// single-threaded phases: allocations of other threads during `f` are counted too.
pub fn count<T>(f: impl FnOnce() -> T) -> (T, Option<HeapDelta>) {
    if !installed() {
        return (f(), None);
    }
    let b0 = LIVE_BYTES.load(Ordering::SeqCst);
    let a0 = ALLOCATIONS.load(Ordering::SeqCst);
    COUNTING.store(true, Ordering::SeqCst);
    let out = f();
    COUNTING.store(false, Ordering::SeqCst);
    let delta = HeapDelta {
        bytes: LIVE_BYTES.load(Ordering::SeqCst) - b0,
        allocations: ALLOCATIONS.load(Ordering::SeqCst) - a0,
    };
    (out, Some(delta))
}
