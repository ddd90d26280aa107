//! What the server counts about itself ([`Metrics`]), served as the JSON of `GET /metrics`
//! ([`MetricsSnapshot`]): process CPU and memory, requests by status class, requests
//! shed, bytes on the sockets (counted below TLS), and the CPU spent inside the token
//! scheme and in password hashing.
//!
//! Every call into the scheme is counted and one in [`SAMPLE_EVERY`] is timed with the
//! thread's CPU clock, whose own cost is removed from each sample ([`CpuCounter::run`]):
//! timing every call would cost more than a session lookup. HTTP.md gives the method's
//! resolution.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use crate::measure::thread_cpu_time;
use crate::net::ByteCounter;
use crate::net::metrics::{CpuCount, METRICS_SCHEMA_VERSION, MetricsSnapshot};
use crate::net::placement::{self, peak_rss_bytes};
use crate::net::usage::{process_usage, rss_bytes};

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

/// The live counters of a server.
#[derive(Debug, Default)]
pub struct Metrics {
    /// Requests answered (not counting `/metrics` and `/debug/header-bytes`).
    pub requests: AtomicU64,
    /// `/metrics` (and `/debug/header-bytes`) requests answered.
    pub metrics_requests: AtomicU64,
    /// Answers by status class: 1xx..5xx at indexes 0..4.
    pub status_classes: [AtomicU64; 5],
    /// Requests refused with 503 because `max_inflight` were in flight.
    pub shed: AtomicU64,
    /// Requests answered 503 because the store or denylist could not be reached.
    pub store_unavailable: AtomicU64,
    /// Requests past their deadline (408).
    pub timeouts: AtomicU64,
    /// `OPTIONS` requests received.
    pub options_requests: AtomicU64,
    /// CORS preflights refused (403).
    pub preflights_refused: AtomicU64,
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

    /// The figures now (`live_sessions` is left out: the server's store, not these
    /// counters, knows it; `GET /metrics` adds it).
    pub fn snapshot(&self) -> MetricsSnapshot {
        let usage = process_usage();
        MetricsSnapshot {
            schema_version: METRICS_SCHEMA_VERSION,
            process_cpu_ns: usage.user_ns + usage.system_ns,
            user_cpu_ns: usage.user_ns,
            system_cpu_ns: usage.system_ns,
            rss_bytes: rss_bytes(),
            max_rss_bytes: usage.max_rss_bytes,
            peak_rss_bytes: peak_rss_bytes(std::process::id()).unwrap_or(0),
            vm_rss_bytes: placement::rss_bytes(std::process::id()).unwrap_or(0),
            live_sessions: None,
            requests: self.requests.load(Relaxed),
            metrics_requests: self.metrics_requests.load(Relaxed),
            status_classes: std::array::from_fn(|i| self.status_classes[i].load(Relaxed)),
            shed: self.shed.load(Relaxed),
            store_unavailable: self.store_unavailable.load(Relaxed),
            timeouts: self.timeouts.load(Relaxed),
            options_requests: self.options_requests.load(Relaxed),
            preflights_refused: self.preflights_refused.load(Relaxed),
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

impl ByteCounter for Metrics {
    fn read(&self, n: usize) {
        self.bytes_in.fetch_add(n as u64, Relaxed);
    }
    fn wrote(&self, n: usize) {
        self.bytes_out.fetch_add(n as u64, Relaxed);
    }
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
    fn counters_sample_one_call_in_n_and_count_every_one() {
        let m = Metrics::new();
        for _ in 0..16 {
            m.token_other
                .run(0, 8, || std::hint::black_box((0..1000u64).sum::<u64>()));
        }
        m.requests.fetch_add(4, Relaxed);
        m.read(400);
        m.count_status(503);
        let s = m.snapshot();
        assert_eq!(s.schema_version, METRICS_SCHEMA_VERSION);
        assert_eq!(s.token_other.calls, 16);
        assert_eq!(s.token_other.sampled, 2);
        assert_eq!(s.status_classes[4], 1);
        assert_eq!((s.requests, s.bytes_in), (4, 400));
        assert!(s.process_cpu_ns > 0);
        // This test process's own peak, at least what it holds now.
        assert!(
            s.peak_rss_bytes > 0 && s.peak_rss_bytes >= s.vm_rss_bytes / 2,
            "{s:?}"
        );
        assert_eq!(s.live_sessions, None);
    }
}
