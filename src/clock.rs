//! Time as the schemes and stores see it.
//!
//! Every expiry decision reads a [`Clock`], so tests (and the revocation workload's
//! "expiry only" window) move time forward without sleeping.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Wall-clock time since the Unix epoch, as schemes and stores need it.
pub trait Clock: Send + Sync + 'static {
    /// Time elapsed since 1970-01-01T00:00:00Z.
    fn now(&self) -> Duration;

    /// Whole seconds since the epoch (the unit of JWT `exp`/`iat`).
    fn now_secs(&self) -> u64 {
        self.now().as_secs()
    }
}

/// The real system clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Duration {
        // A system clock set before 1970 is treated as the epoch itself: every token
        // then looks freshly issued rather than the process panicking.
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or(Duration::ZERO)
    }
}

/// The system's coarse real-time clock (Linux `CLOCK_REALTIME_COARSE`: a few nanoseconds
/// to read, resolution of one scheduler tick, typically 1-4 ms). Ample for session and JWT
/// expiry, which count in milliseconds and seconds; the workloads use it so that a clock
/// read is not a large share of a map lookup. Falls back to [`SystemClock`] elsewhere.
#[derive(Debug, Default, Clone, Copy)]
pub struct CoarseClock;

impl Clock for CoarseClock {
    #[cfg(target_os = "linux")]
    fn now(&self) -> Duration {
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `ts` is a valid, writable timespec; CLOCK_REALTIME_COARSE exists on every
        // Linux since 2.6.32. On failure fall back to the precise clock.
        if unsafe { libc::clock_gettime(libc::CLOCK_REALTIME_COARSE, &mut ts) } != 0
            || ts.tv_sec < 0
        {
            return SystemClock.now();
        }
        Duration::new(ts.tv_sec as u64, ts.tv_nsec.clamp(0, 999_999_999) as u32)
    }

    #[cfg(not(target_os = "linux"))]
    fn now(&self) -> Duration {
        SystemClock.now()
    }
}

/// A clock that only moves when told to; shared between threads.
#[derive(Debug)]
pub struct ManualClock {
    nanos: AtomicU64,
}

impl ManualClock {
    /// A clock frozen at `start` after the epoch.
    pub fn new(start: Duration) -> Self {
        Self {
            nanos: AtomicU64::new(duration_to_nanos(start)),
        }
    }

    /// A clock frozen at the current system time, rounded down to a whole second so that
    /// second-granular boundaries (JWT `exp`) fall exactly on `advance` steps.
    pub fn starting_now() -> Self {
        Self::new(Duration::from_secs(SystemClock.now_secs()))
    }

    /// Moves the clock forward by `by`.
    pub fn advance(&self, by: Duration) {
        self.nanos
            .fetch_add(duration_to_nanos(by), Ordering::SeqCst);
    }

    /// Sets the clock to `to` after the epoch.
    pub fn set(&self, to: Duration) {
        self.nanos.store(duration_to_nanos(to), Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Duration {
        Duration::from_nanos(self.nanos.load(Ordering::SeqCst))
    }
}

fn duration_to_nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_moves_only_when_told() {
        let c = ManualClock::new(Duration::from_secs(100));
        assert_eq!(c.now_secs(), 100);
        c.advance(Duration::from_millis(1500));
        assert_eq!(c.now(), Duration::from_millis(101_500));
        c.set(Duration::from_secs(7));
        assert_eq!(c.now_secs(), 7);
    }

    #[test]
    fn system_clock_is_after_2020() {
        assert!(SystemClock.now_secs() > 1_577_836_800);
    }

    #[test]
    fn coarse_clock_agrees_with_the_system_clock_to_a_tick() {
        let a = SystemClock.now();
        let c = CoarseClock.now();
        let b = SystemClock.now();
        // Coarse time lags by at most a tick (allow 100 ms on a loaded machine).
        assert!(c <= b + Duration::from_millis(1));
        assert!(c + Duration::from_millis(100) >= a, "{a:?} {c:?}");
    }
}
