//! What the server counts about itself, served as JSON by `GET /metrics`: process CPU time
//! (getrusage), resident memory, requests by status class, requests shed, bytes read and
//! written on the sockets (counted below TLS, so they are the bytes on the wire), and the
//! CPU time spent inside the token scheme and in password hashing.
//!
//! A reader takes a [`MetricsSnapshot`] before and after an interval and divides the
//! differences by the requests served ([`MetricsSnapshot::delta`]).
//!
//! # Token CPU
//!
//! Every call into the scheme (validate, issue, revoke, CSRF lookups) is counted; one call
//! in [`SAMPLE_EVERY`] is timed with the thread's CPU clock (`CLOCK_THREAD_CPUTIME_ID`, a
//! system call of several hundred nanoseconds here: timing every call would add more than
//! a session lookup costs). The estimate is the sampled CPU times calls over samples, less
//! the cost of the clock read itself, measured in place on every sample (see
//! [`CpuCounter::run`]). Cheap calls (a session lookup, ~0.1-1 µs) are near the
//! resolution of this method; signature checks (tens of µs) are well above it.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::measure::thread_cpu_time;

/// Version of the `/metrics` JSON.
pub const METRICS_SCHEMA_VERSION: u32 = 1;

/// One call in this many into the scheme is timed.
pub const SAMPLE_EVERY: u64 = 8;

/// Sampled CPU accounting of one kind of call.
#[derive(Debug, Default)]
pub struct CpuCounter {
    calls: AtomicU64,
    sampled: AtomicU64,
    sampled_cpu_ns: AtomicU64,
}

impl CpuCounter {
    /// Runs `f`, counting it and timing it if it is a sampled call. A sample reads the
    /// clock three times: the first interval is the cost of one clock read in this very
    /// context (cache and branch state as the request left them), removed from the second,
    /// which holds `f` and one clock read. `min_overhead_ns` (the calibrated cost of a
    /// warm read) is the least that is removed.
    pub fn run<T>(&self, min_overhead_ns: u64, every: u64, f: impl FnOnce() -> T) -> T {
        let n = self.calls.fetch_add(1, Relaxed);
        if !n.is_multiple_of(every.max(1)) {
            return f();
        }
        let c0 = thread_cpu_time();
        let c1 = thread_cpu_time();
        let out = f();
        let c2 = thread_cpu_time();
        let read = u64::try_from(c1.saturating_sub(c0).as_nanos()).unwrap_or(u64::MAX);
        let ns = u64::try_from(c2.saturating_sub(c1).as_nanos()).unwrap_or(u64::MAX);
        self.sampled.fetch_add(1, Relaxed);
        self.sampled_cpu_ns
            .fetch_add(ns.saturating_sub(read.max(min_overhead_ns)), Relaxed);
        out
    }

    fn snapshot(&self) -> CpuCount {
        CpuCount {
            calls: self.calls.load(Relaxed),
            sampled: self.sampled.load(Relaxed),
            sampled_cpu_ns: self.sampled_cpu_ns.load(Relaxed),
        }
    }
}

/// A [`CpuCounter`]'s figures at one instant.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct CpuCount {
    /// Calls made.
    pub calls: u64,
    /// Calls timed.
    pub sampled: u64,
    /// CPU time of the timed calls, ns (the clock's own cost removed).
    pub sampled_cpu_ns: u64,
}

impl CpuCount {
    /// Estimated CPU of all calls, ns: the sampled mean times the calls.
    pub fn estimated_cpu_ns(&self) -> f64 {
        if self.sampled == 0 {
            0.0
        } else {
            self.sampled_cpu_ns as f64 / self.sampled as f64 * self.calls as f64
        }
    }

    /// Difference `self - earlier`.
    pub fn since(&self, earlier: &CpuCount) -> CpuCount {
        CpuCount {
            calls: self.calls.saturating_sub(earlier.calls),
            sampled: self.sampled.saturating_sub(earlier.sampled),
            sampled_cpu_ns: self.sampled_cpu_ns.saturating_sub(earlier.sampled_cpu_ns),
        }
    }
}

/// The live counters of a server.
#[derive(Debug, Default)]
pub struct Metrics {
    /// Requests answered (not counting `/metrics`).
    pub requests: AtomicU64,
    /// `/metrics` requests answered.
    pub metrics_requests: AtomicU64,
    /// Answers by status class: 1xx..5xx at indexes 0..4.
    pub status_classes: [AtomicU64; 5],
    /// Requests refused with 503 because `max_inflight` were in flight.
    pub shed: AtomicU64,
    /// Requests answered 503 because the store or denylist could not be reached.
    pub store_unavailable: AtomicU64,
    /// Requests past their deadline (408).
    pub timeouts: AtomicU64,
    /// Bytes read from client sockets (below TLS).
    pub bytes_in: AtomicU64,
    /// Bytes written to client sockets (below TLS).
    pub bytes_out: AtomicU64,
    /// Connections accepted.
    pub connections_accepted: AtomicU64,
    /// Connections open now.
    pub connections_open: AtomicU64,
    /// Calls into the token scheme other than `validate` (issue, revoke, CSRF lookups,
    /// deleting a pre-login session).
    pub token_other: CpuCounter,
    /// `validate` calls.
    pub validate: CpuCounter,
    /// Password verifications (argon2id), every one timed.
    pub password: CpuCounter,
    /// Calibrated cost of one warm thread-CPU clock read, ns (the least removed from a
    /// sample).
    pub clock_overhead_ns: AtomicU64,
}

impl Metrics {
    /// Fresh counters, with the clock overhead calibrated.
    pub fn new() -> Metrics {
        let m = Metrics::default();
        m.clock_overhead_ns.store(calibrate_clock(), Relaxed);
        m
    }

    /// Calibrated cost of one warm clock read, ns.
    pub fn overhead_ns(&self) -> u64 {
        self.clock_overhead_ns.load(Relaxed)
    }

    /// Counts one answered request with `status`.
    pub fn count_status(&self, status: u16) {
        if let Some(c) = usize::from(status / 100)
            .checked_sub(1)
            .and_then(|i| self.status_classes.get(i))
        {
            c.fetch_add(1, Relaxed);
        }
    }

    /// The figures now.
    pub fn snapshot(&self) -> MetricsSnapshot {
        let usage = process_usage();
        MetricsSnapshot {
            schema_version: METRICS_SCHEMA_VERSION,
            process_cpu_ns: usage.user_ns + usage.system_ns,
            user_cpu_ns: usage.user_ns,
            system_cpu_ns: usage.system_ns,
            rss_bytes: rss_bytes(),
            max_rss_bytes: usage.max_rss_bytes,
            requests: self.requests.load(Relaxed),
            metrics_requests: self.metrics_requests.load(Relaxed),
            status_classes: std::array::from_fn(|i| self.status_classes[i].load(Relaxed)),
            shed: self.shed.load(Relaxed),
            store_unavailable: self.store_unavailable.load(Relaxed),
            timeouts: self.timeouts.load(Relaxed),
            bytes_in: self.bytes_in.load(Relaxed),
            bytes_out: self.bytes_out.load(Relaxed),
            connections_accepted: self.connections_accepted.load(Relaxed),
            connections_open: self.connections_open.load(Relaxed),
            token_other: self.token_other.snapshot(),
            validate: self.validate.snapshot(),
            password: self.password.snapshot(),
            clock_overhead_ns: self.overhead_ns(),
        }
    }
}

/// The server's figures at one instant: the body of `GET /metrics`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricsSnapshot {
    /// [`METRICS_SCHEMA_VERSION`].
    pub schema_version: u32,
    /// User + system CPU time of the whole server process so far, ns.
    pub process_cpu_ns: u64,
    /// User CPU time, ns.
    pub user_cpu_ns: u64,
    /// System (kernel) CPU time, ns.
    pub system_cpu_ns: u64,
    /// Resident memory now, bytes (0 where unknown).
    pub rss_bytes: u64,
    /// Peak resident memory, bytes.
    pub max_rss_bytes: u64,
    /// Requests answered, `/metrics` excluded.
    pub requests: u64,
    /// `/metrics` requests answered.
    pub metrics_requests: u64,
    /// Answers by status class, 1xx..5xx.
    pub status_classes: [u64; 5],
    /// Requests shed (503, too many in flight).
    pub shed: u64,
    /// Requests refused with 503 because the store could not be reached (fail closed).
    pub store_unavailable: u64,
    /// Requests past their deadline (408).
    pub timeouts: u64,
    /// Bytes read from client sockets.
    pub bytes_in: u64,
    /// Bytes written to client sockets.
    pub bytes_out: u64,
    /// Connections accepted.
    pub connections_accepted: u64,
    /// Connections open.
    pub connections_open: u64,
    /// Calls into the token scheme other than `validate`.
    pub token_other: CpuCount,
    /// `validate` calls.
    pub validate: CpuCount,
    /// Password verifications.
    pub password: CpuCount,
    /// Calibrated cost of one warm thread-CPU clock read, ns.
    pub clock_overhead_ns: u64,
}

/// Per-request figures over an interval between two snapshots.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricsDelta {
    /// Requests answered in the interval.
    pub requests: u64,
    /// Server process CPU in the interval, ns.
    pub process_cpu_ns: u64,
    /// Process CPU per request, ns.
    pub cpu_per_request_ns: f64,
    /// CPU inside the token scheme per request (every call: validate, issue, revoke,
    /// CSRF lookups), ns.
    pub token_cpu_per_request_ns: f64,
    /// CPU inside `validate` per request, ns.
    pub validate_cpu_per_request_ns: f64,
    /// CPU verifying passwords per request, ns.
    pub password_cpu_per_request_ns: f64,
    /// The rest of the stack (HTTP, TLS, routing, kernel): process CPU less token and
    /// password CPU, per request, ns; never below zero.
    pub rest_cpu_per_request_ns: f64,
    /// Bytes read per request.
    pub bytes_in_per_request: f64,
    /// Bytes written per request.
    pub bytes_out_per_request: f64,
    /// Requests shed (503) in the interval.
    pub shed: u64,
    /// Requests refused because the store was unreachable.
    pub store_unavailable: u64,
    /// 5xx answers in the interval (shed and unavailable included).
    pub server_errors: u64,
}

impl MetricsSnapshot {
    /// Per-request figures between `earlier` and `self`.
    pub fn delta(&self, earlier: &MetricsSnapshot) -> MetricsDelta {
        let requests = self.requests.saturating_sub(earlier.requests);
        let per = |x: f64| {
            if requests == 0 {
                0.0
            } else {
                x / requests as f64
            }
        };
        let cpu = self.process_cpu_ns.saturating_sub(earlier.process_cpu_ns);
        let validate = self.validate.since(&earlier.validate).estimated_cpu_ns();
        let token = validate
            + self
                .token_other
                .since(&earlier.token_other)
                .estimated_cpu_ns();
        let password = self.password.since(&earlier.password).estimated_cpu_ns();
        MetricsDelta {
            requests,
            process_cpu_ns: cpu,
            cpu_per_request_ns: per(cpu as f64),
            token_cpu_per_request_ns: per(token),
            validate_cpu_per_request_ns: per(validate),
            password_cpu_per_request_ns: per(password),
            rest_cpu_per_request_ns: per((cpu as f64 - token - password).max(0.0)),
            bytes_in_per_request: per(self.bytes_in.saturating_sub(earlier.bytes_in) as f64),
            bytes_out_per_request: per(self.bytes_out.saturating_sub(earlier.bytes_out) as f64),
            shed: self.shed.saturating_sub(earlier.shed),
            store_unavailable: self
                .store_unavailable
                .saturating_sub(earlier.store_unavailable),
            server_errors: self.status_classes[4].saturating_sub(earlier.status_classes[4]),
        }
    }
}

/// CPU times and peak memory of this process.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ProcessUsage {
    /// User CPU, ns.
    pub user_ns: u64,
    /// System CPU, ns.
    pub system_ns: u64,
    /// Peak resident memory, bytes.
    pub max_rss_bytes: u64,
}

impl ProcessUsage {
    /// User + system CPU, ns.
    pub fn cpu_ns(&self) -> u64 {
        self.user_ns + self.system_ns
    }
}

/// getrusage(RUSAGE_SELF): every thread of this process, the dead ones included.
pub fn process_usage() -> ProcessUsage {
    // SAFETY: an all-zero rusage is a valid value of this plain C struct.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `ru` is a valid, writable rusage; RUSAGE_SELF is always supported. On
    // failure it stays zero.
    if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) } != 0 {
        return ProcessUsage::default();
    }
    let ns = |tv: libc::timeval| {
        (tv.tv_sec.max(0) as u64) * 1_000_000_000 + (tv.tv_usec.max(0) as u64) * 1_000
    };
    ProcessUsage {
        user_ns: ns(ru.ru_utime),
        system_ns: ns(ru.ru_stime),
        // ru_maxrss is in KiB on Linux.
        max_rss_bytes: (ru.ru_maxrss.max(0) as u64) * 1024,
    }
}

/// Resident memory now (`/proc/self/statm`), bytes; 0 where unavailable.
pub fn rss_bytes() -> u64 {
    let Ok(s) = std::fs::read_to_string("/proc/self/statm") else {
        return 0;
    };
    let pages: u64 = s
        .split_whitespace()
        .nth(1)
        .and_then(|x| x.parse().ok())
        .unwrap_or(0);
    // SAFETY: sysconf has no preconditions.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    pages * u64::try_from(page).unwrap_or(4096)
}

/// Median cost of timing an empty closure with the thread CPU clock, ns.
fn calibrate_clock() -> u64 {
    let mut v: Vec<Duration> = (0..501)
        .map(|_| {
            let a = thread_cpu_time();
            thread_cpu_time().saturating_sub(a)
        })
        .collect();
    v.sort();
    u64::try_from(v[v.len() / 2].as_nanos()).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_sample_and_deltas_divide_by_requests() {
        let m = Metrics::new();
        let before = m.snapshot();
        for _ in 0..16 {
            m.token_other
                .run(0, 8, || std::hint::black_box((0..1000u64).sum::<u64>()));
        }
        m.requests.fetch_add(4, Relaxed);
        m.bytes_in.fetch_add(400, Relaxed);
        m.count_status(503);
        let after = m.snapshot();
        assert_eq!(after.token_other.calls, 16);
        assert_eq!(after.token_other.sampled, 2);
        assert_eq!(after.status_classes[4], 1);
        let d = after.delta(&before);
        assert_eq!(d.requests, 4);
        assert_eq!(d.bytes_in_per_request, 100.0);
        assert!(d.rest_cpu_per_request_ns >= 0.0);
        assert!(process_usage().cpu_ns() > 0);
    }
}
