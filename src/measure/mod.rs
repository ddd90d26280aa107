//! The timing engine shared by the workloads: warm-up, batching so that timer overhead is
//! negligible, wall and thread-CPU time per operation.
//!
//! - [`stats`]: percentiles, the median's confidence interval, HdrHistograms.
//! - [`rounds`]: interleaved rounds, for figures that are compared with each other, and
//!   the run-to-run spread of each.

use std::hint::black_box;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

pub mod rounds;
pub mod stats;

use rounds::{Rounds, Spread};
use stats::Summary;

/// How long to warm up and measure one operation.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Budget {
    /// Time spent running the operation before measuring.
    pub warmup: Duration,
    /// Time spent measuring.
    pub measure: Duration,
    /// Target duration of one timed batch; long enough that the two clock reads around it
    /// are a negligible share of it.
    pub batch: Duration,
}

impl Budget {
    /// Budget of `--quick` runs.
    pub const QUICK: Budget = Budget {
        warmup: Duration::from_millis(20),
        measure: Duration::from_millis(80),
        batch: Duration::from_micros(100),
    };
    /// Budget of full runs.
    pub const FULL: Budget = Budget {
        warmup: Duration::from_millis(200),
        measure: Duration::from_millis(1500),
        batch: Duration::from_micros(200),
    };
}

/// Per-operation cost of one measured operation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Measurement {
    /// Operations per timed batch.
    pub batch_size: u64,
    /// Operations timed in total.
    pub ops: u64,
    /// Wall time per operation, one sample per batch.
    pub wall: Summary,
    /// Thread CPU time per operation, one sample per batch.
    pub cpu: Summary,
    /// Every wall-time sample (one per batch), as an HdrHistogram (V2 + deflate, base64;
    /// see [`crate::measure::stats::decode_histogram`]) of picoseconds per operation, 3 significant
    /// figures. Empty in files written before schema version 2.
    #[serde(default)]
    pub wall_histogram: String,
    /// Cost of one `Instant::now()` pair, as a share of the median batch time.
    pub timer_overhead_share: f64,
    /// The per-round medians when measured in interleaved rounds ([`rounds`]); absent for
    /// a measurement of one stretch of time (and in older files).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rounds: Option<Rounds>,
}

impl Measurement {
    /// The wall time per operation to compare and report: the median of the round medians
    /// when measured in rounds, else the median batch.
    pub fn median(&self) -> f64 {
        self.spread().map_or(self.wall.median_ns, |s| s.median)
    }

    /// The run-to-run spread of [`median`](Self::median): smallest and largest round median.
    pub fn spread(&self) -> Option<Spread> {
        self.rounds.as_ref().and_then(Rounds::wall)
    }

    /// The thread CPU time per operation to compare: median of the round medians when
    /// measured in rounds, else the median batch.
    pub fn cpu_median(&self) -> f64 {
        self.cpu_spread().map_or(self.cpu.median_ns, |s| s.median)
    }

    /// The run-to-run spread of [`cpu_median`](Self::cpu_median).
    pub fn cpu_spread(&self) -> Option<Spread> {
        self.rounds.as_ref().and_then(Rounds::cpu)
    }
}

/// Thread CPU time consumed so far by the calling thread.
pub fn thread_cpu_time() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec and CLOCK_THREAD_CPUTIME_ID is supported
    // on every Linux and macOS this tool targets; on failure ts stays zero.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    if rc != 0 {
        return Duration::ZERO;
    }
    Duration::new(
        ts.tv_sec.max(0) as u64,
        ts.tv_nsec.clamp(0, 999_999_999) as u32,
    )
}

/// Cost of reading the monotonic clock twice, in nanoseconds (median of many tries).
pub fn timer_pair_ns() -> f64 {
    let mut v: Vec<f64> = (0..2001)
        .map(|_| {
            let a = Instant::now();
            let b = Instant::now();
            (b - a).as_nanos() as f64
        })
        .collect();
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Measures `op`, which must do one operation per call. `op` is called through an opaque
/// function pointer and its result passed through `black_box`, so the work can be neither
/// optimised away nor hoisted out of the batch loop (a loop-invariant key would otherwise
/// let the compiler hash it once per batch instead of once per call).
pub fn measure<T>(budget: Budget, mut op: impl FnMut() -> T) -> Measurement {
    let op: &mut dyn FnMut() -> T = black_box(&mut op);
    // Warm-up, which also estimates the cost per operation.
    let start = Instant::now();
    let mut warm_ops = 0u64;
    while start.elapsed() < budget.warmup || warm_ops < 8 {
        for _ in 0..8 {
            black_box(op());
        }
        warm_ops += 8;
    }
    let est_ns = (start.elapsed().as_nanos() as f64 / warm_ops as f64).max(0.1);
    let batch_size = ((budget.batch.as_nanos() as f64 / est_ns).ceil() as u64).max(1);

    let mut wall = Vec::new();
    let mut cpu = Vec::new();
    let mut ops = 0u64;
    let measure_start = Instant::now();
    while measure_start.elapsed() < budget.measure || wall.len() < 10 {
        let c0 = thread_cpu_time();
        let t0 = Instant::now();
        for _ in 0..batch_size {
            black_box(op());
        }
        let t1 = Instant::now();
        let c1 = thread_cpu_time();
        wall.push((t1 - t0).as_nanos() as f64 / batch_size as f64);
        cpu.push((c1 - c0).as_nanos() as f64 / batch_size as f64);
        ops += batch_size;
    }
    let wall_summary = Summary::from_samples(&wall).unwrap_or(Summary::EMPTY);
    let batch_ns = wall_summary.median_ns * batch_size as f64;
    Measurement {
        batch_size,
        ops,
        cpu: Summary::from_samples(&cpu).unwrap_or(Summary::EMPTY),
        timer_overhead_share: if batch_ns > 0.0 {
            timer_pair_ns() / batch_ns
        } else {
            0.0
        },
        wall: wall_summary,
        wall_histogram: samples_histogram(&wall),
        rounds: None,
    }
}

/// Picoseconds in a nanosecond: the unit of [`Measurement::wall_histogram`].
pub const HISTOGRAM_UNITS_PER_NS: f64 = 1000.0;

/// The samples (ns per operation) as a serialized histogram of picoseconds.
fn samples_histogram(samples_ns: &[f64]) -> String {
    // Up to an hour per operation: far beyond any batch.
    let mut h = crate::measure::stats::histogram(3_600_000_000_000_000);
    for &ns in samples_ns {
        let _ = h.record(((ns * HISTOGRAM_UNITS_PER_NS).round() as u64).max(1));
    }
    crate::measure::stats::encode_histogram(&h)
}

/// The cost of `a` relative to `b`, measured interleaved: rounds alternate a batch of `a`
/// and a batch of `b` (order swapped every round), so both see the same machine state, and
/// the ratio is the median of per-round ratios. On a shared, noisy machine this is far
/// steadier than dividing two separately measured medians.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ratio {
    /// Median of the per-round ratios `a / b`.
    pub median: f64,
    /// 95% confidence interval of that median (order statistics).
    pub ci95: [f64; 2],
    /// Rounds measured.
    pub rounds: u64,
}

/// Measures `a / b` interleaved (see [`Ratio`]).
pub fn interleaved_ratio<TA, TB>(
    budget: Budget,
    mut a: impl FnMut() -> TA,
    mut b: impl FnMut() -> TB,
) -> Ratio {
    let size_a = measure(calibration(budget), &mut a).batch_size;
    let size_b = measure(calibration(budget), &mut b).batch_size;
    let time = |n: u64, f: &mut dyn FnMut()| {
        let t0 = Instant::now();
        for _ in 0..n {
            f();
        }
        t0.elapsed().as_nanos() as f64 / n as f64
    };
    let mut ratios = Vec::new();
    let start = Instant::now();
    while start.elapsed() < budget.measure || ratios.len() < 20 {
        let (ta, tb) = if ratios.len() % 2 == 0 {
            let ta = time(size_a, &mut || drop(black_box(a())));
            (ta, time(size_b, &mut || drop(black_box(b()))))
        } else {
            let tb = time(size_b, &mut || drop(black_box(b())));
            (time(size_a, &mut || drop(black_box(a()))), tb)
        };
        if tb > 0.0 {
            ratios.push(ta / tb);
        }
    }
    let s = Summary::from_samples(&ratios).unwrap_or(Summary::EMPTY);
    Ratio {
        median: s.median_ns,
        ci95: s.median_ci95_ns,
        rounds: s.samples,
    }
}

/// A short warm-up-and-size pass.
fn calibration(budget: Budget) -> Budget {
    Budget {
        warmup: budget.warmup,
        measure: Duration::from_millis(5),
        batch: budget.batch,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_cheap_operations_and_keeps_every_sample() {
        let budget = Budget {
            warmup: Duration::from_millis(5),
            measure: Duration::from_millis(20),
            batch: Duration::from_micros(50),
        };
        let cheap = measure(budget, || black_box(1u64) + 1);
        let dear = measure(budget, || {
            (0..black_box(2000u64)).map(black_box).sum::<u64>()
        });
        // Which operation is dearer is a benchmark's question (timing assertions do not
        // belong in unit tests); here: batches of whole operations, every sample kept.
        for m in [&cheap, &dear] {
            assert!(m.batch_size >= 1 && m.wall.samples >= 10, "{m:?}");
            assert_eq!(m.ops, m.batch_size * m.wall.samples, "{m:?}");
            assert!(m.wall.median_ns.is_finite() && m.wall.median_ns > 0.0);
        }
        let h = crate::measure::stats::decode_histogram(&cheap.wall_histogram).unwrap();
        assert_eq!(h.len(), cheap.wall.samples);
        let median_ns = h.value_at_quantile(0.5) as f64 / HISTOGRAM_UNITS_PER_NS;
        // The same samples: the histogram's median within its 3 significant figures.
        assert!(
            (median_ns / cheap.wall.median_ns - 1.0).abs() < 0.01,
            "{median_ns}"
        );
    }

    #[test]
    fn interleaved_ratio_is_a_median_of_rounds_inside_its_interval() {
        let budget = Budget {
            warmup: Duration::from_millis(2),
            measure: Duration::from_millis(20),
            batch: Duration::from_micros(50),
        };
        let r = interleaved_ratio(
            budget,
            || (0..black_box(4000u64)).map(black_box).sum::<u64>(),
            || (0..black_box(100u64)).map(black_box).sum::<u64>(),
        );
        assert!(r.rounds >= 20);
        assert!(r.median.is_finite() && r.median > 0.0, "{r:?}");
        assert!(r.ci95[0] <= r.median && r.median <= r.ci95[1]);
    }

    #[test]
    fn thread_cpu_time_advances_with_work() {
        let a = thread_cpu_time();
        let mut x = 0u64;
        while thread_cpu_time() - a < Duration::from_millis(2) {
            x = x.wrapping_add(black_box(1));
        }
        assert!(thread_cpu_time() > a && x > 0);
    }
}
