//! Interleaved rounds: figures that are compared with each other are measured together,
//! round-robin, so that a shared machine's drift (a busy sibling core, frequency steps,
//! another tenant) hits every one of them alike (paired benchmarking, as tango-bench does).
//!
//! Each operation is calibrated once (warm-up, batch size). Then in each of R rounds every
//! operation runs for `measure / R`, the starting operation rotating from round to round.
//! A measurement keeps every batch (its percentiles and histogram, as [`super::measure`]
//! gives them) and the median of each round ([`Rounds`]). The figure to compare is the
//! **median of the round medians**, and its run-to-run spread is the smallest and largest
//! round median: what a rerun would give, where a confidence interval of batches only
//! describes one stretch of time.
//!
//! Ratios and differences of two operations come from their rounds too: `a / b` is the
//! ratio of their medians, and its spread the smallest and largest per-round ratio. Medians
//! are monotone, so the ratio of the medians always lies within that spread (if every
//! `a_r >= lo * b_r`, then `median(a) >= lo * median(b)`), and likewise for differences:
//! a budget never disagrees with the table it summarises.

use std::hint::black_box;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::stats::Summary;
use super::{Budget, Measurement, samples_histogram, thread_cpu_time, timer_pair_ns};

/// Rounds of a quick run.
pub const QUICK_ROUNDS: usize = 5;
/// Rounds of a full run.
pub const FULL_ROUNDS: usize = 9;

/// Fewest batches an operation runs in one round.
const MIN_BATCHES: usize = 3;

/// A figure measured in rounds: the median of the round medians, and the smallest and
/// largest round median.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Spread {
    /// Median of the per-round figures.
    pub median: f64,
    /// Smallest per-round figure.
    pub lo: f64,
    /// Largest per-round figure.
    pub hi: f64,
}

impl Spread {
    /// The spread of `values` (per-round figures); `None` when there are none.
    pub fn of(values: &[f64]) -> Option<Spread> {
        let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
        if v.is_empty() {
            return None;
        }
        v.sort_by(f64::total_cmp);
        let n = v.len();
        let median = if n % 2 == 1 {
            v[n / 2]
        } else {
            (v[n / 2 - 1] + v[n / 2]) / 2.0
        };
        Some(Spread {
            median,
            lo: v[0],
            hi: v[n - 1],
        })
    }

    /// `hi / lo`: how far apart the rounds were (1 when they agree); infinite when `lo`
    /// is not positive.
    pub fn width(&self) -> f64 {
        if self.lo > 0.0 {
            self.hi / self.lo
        } else {
            f64::INFINITY
        }
    }

    /// Whether `x` lies within the spread.
    pub fn contains(&self, x: f64) -> bool {
        self.lo <= x && x <= self.hi
    }

    /// The spread of `a / b` for two figures measured in the same rounds: the ratio of
    /// their medians, between the smallest and the largest per-round ratio.
    pub fn ratio(a: &Rounds, b: &Rounds) -> Option<Spread> {
        let per_round: Vec<f64> = a
            .wall_ns
            .iter()
            .zip(&b.wall_ns)
            .filter(|(_, y)| **y > 0.0)
            .map(|(x, y)| x / y)
            .collect();
        let (ma, mb) = (a.wall()?.median, b.wall()?.median);
        let s = Spread::of(&per_round)?;
        (mb > 0.0).then_some(Spread {
            median: ma / mb,
            ..s
        })
    }

    /// The spread of `a - b` for two figures measured in the same rounds: the difference
    /// of their medians, between the smallest and the largest per-round difference.
    pub fn difference(a: &Rounds, b: &Rounds) -> Option<Spread> {
        let per_round: Vec<f64> = a
            .wall_ns
            .iter()
            .zip(&b.wall_ns)
            .map(|(x, y)| x - y)
            .collect();
        let (ma, mb) = (a.wall()?.median, b.wall()?.median);
        let s = Spread::of(&per_round)?;
        Some(Spread {
            median: ma - mb,
            ..s
        })
    }
}

/// The per-round figures of one operation measured in interleaved rounds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Rounds {
    /// Median wall time per operation of each round, ns, in round order.
    pub wall_ns: Vec<f64>,
    /// Median thread CPU time per operation of each round, ns.
    pub cpu_ns: Vec<f64>,
}

impl Rounds {
    /// The wall-time figure: median of the round medians, and their range.
    pub fn wall(&self) -> Option<Spread> {
        Spread::of(&self.wall_ns)
    }

    /// The CPU-time figure: median of the round medians, and their range.
    pub fn cpu(&self) -> Option<Spread> {
        Spread::of(&self.cpu_ns)
    }
}

/// One operation to measure: one call does one operation (its result, if any, is the
/// caller's to `black_box`).
pub type Op<'a> = Box<dyn FnMut() + 'a>;

/// What calibration learned of one operation.
struct Calibrated {
    batch_size: u64,
}

fn calibrate(budget: Budget, op: &mut dyn FnMut()) -> Calibrated {
    let start = Instant::now();
    let mut ops = 0u64;
    while start.elapsed() < budget.warmup || ops < 8 {
        for _ in 0..8 {
            op();
        }
        ops += 8;
    }
    let est_ns = (start.elapsed().as_nanos() as f64 / ops as f64).max(0.1);
    Calibrated {
        batch_size: ((budget.batch.as_nanos() as f64 / est_ns).ceil() as u64).max(1),
    }
}

/// Per-batch samples of one operation, all rounds together and per round.
#[derive(Default)]
struct Samples {
    wall: Vec<f64>,
    cpu: Vec<f64>,
    rounds: Rounds,
    ops: u64,
}

/// Measures `ops` in `rounds` interleaved rounds within `budget` per operation (warm-up
/// once, then `budget.measure` split over the rounds). Returns one measurement per
/// operation, in order, each with its [`Rounds`].
pub fn interleaved(budget: Budget, rounds: usize, ops: &mut [Op<'_>]) -> Vec<Measurement> {
    let rounds = rounds.max(1);
    let n = ops.len();
    let calibrated: Vec<Calibrated> = ops
        .iter_mut()
        .map(|op| calibrate(budget, black_box(op.as_mut())))
        .collect();
    let slice = budget.measure / u32::try_from(rounds).unwrap_or(u32::MAX);
    let mut samples: Vec<Samples> = (0..n).map(|_| Samples::default()).collect();
    for round in 0..rounds {
        for k in 0..n {
            // Rotate the start so no operation is always first (or last) in a round.
            let i = (k + round * n.div_ceil(rounds).max(1)) % n;
            let (wall, cpu) = slice_of(black_box(ops[i].as_mut()), calibrated[i].batch_size, slice);
            let s = &mut samples[i];
            s.ops += calibrated[i].batch_size * wall.len() as u64;
            s.rounds.wall_ns.push(median(&wall));
            s.rounds.cpu_ns.push(median(&cpu));
            s.wall.extend(wall);
            s.cpu.extend(cpu);
        }
    }
    let timer = timer_pair_ns();
    samples
        .into_iter()
        .zip(calibrated)
        .map(|(s, c)| {
            let wall = Summary::from_samples(&s.wall).unwrap_or(Summary::EMPTY);
            let batch_ns = wall.median_ns * c.batch_size as f64;
            Measurement {
                batch_size: c.batch_size,
                ops: s.ops,
                cpu: Summary::from_samples(&s.cpu).unwrap_or(Summary::EMPTY),
                timer_overhead_share: if batch_ns > 0.0 {
                    timer / batch_ns
                } else {
                    0.0
                },
                wall_histogram: samples_histogram(&s.wall),
                wall,
                rounds: Some(s.rounds),
            }
        })
        .collect()
}

/// One round's slice of one operation: a short warm-up, then batches for `slice` (at
/// least [`MIN_BATCHES`]); wall and CPU ns per operation of each batch.
fn slice_of(op: &mut dyn FnMut(), batch: u64, slice: Duration) -> (Vec<f64>, Vec<f64>) {
    for _ in 0..batch.min(64) {
        op();
    }
    let (mut wall, mut cpu) = (Vec::new(), Vec::new());
    let start = Instant::now();
    while start.elapsed() < slice || wall.len() < MIN_BATCHES {
        let c0 = thread_cpu_time();
        let t0 = Instant::now();
        for _ in 0..batch {
            op();
        }
        let t1 = Instant::now();
        let c1 = thread_cpu_time();
        wall.push((t1 - t0).as_nanos() as f64 / batch as f64);
        cpu.push((c1 - c0).as_nanos() as f64 / batch as f64);
    }
    (wall, cpu)
}

fn median(v: &[f64]) -> f64 {
    Spread::of(v).map_or(f64::NAN, |s| s.median)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn budget() -> Budget {
        Budget {
            warmup: Duration::from_millis(2),
            measure: Duration::from_millis(30),
            batch: Duration::from_micros(50),
        }
    }

    #[test]
    fn every_operation_gets_every_round() {
        let mut calls = [0u64; 3];
        let (a, rest) = calls.split_at_mut(1);
        let (b, c) = rest.split_at_mut(1);
        let mut ops: Vec<Op<'_>> = vec![
            Box::new(|| a[0] += 1),
            Box::new(|| b[0] += 1),
            Box::new(|| c[0] += black_box(1)),
        ];
        let ms = interleaved(budget(), 5, &mut ops);
        drop(ops);
        assert_eq!(ms.len(), 3);
        for (m, calls) in ms.iter().zip(calls) {
            let r = m.rounds.as_ref().unwrap();
            assert_eq!((r.wall_ns.len(), r.cpu_ns.len()), (5, 5));
            assert!(m.ops >= 5 * MIN_BATCHES as u64 * m.batch_size);
            // Every timed call ran (plus calibration and the warm-ups).
            assert!(calls >= m.ops, "{calls} < {}", m.ops);
            let s = r.wall().unwrap();
            assert!(s.lo <= s.median && s.median <= s.hi);
        }
    }

    #[test]
    fn ratios_and_differences_lie_within_their_spread() {
        let a = Rounds {
            wall_ns: vec![10.0, 30.0, 20.0, 12.0, 50.0],
            cpu_ns: vec![],
        };
        let b = Rounds {
            wall_ns: vec![5.0, 10.0, 10.0, 4.0, 20.0],
            cpu_ns: vec![],
        };
        let r = Spread::ratio(&a, &b).unwrap();
        assert_eq!(r.median, 20.0 / 10.0);
        assert_eq!((r.lo, r.hi), (2.0, 3.0));
        assert!(r.contains(r.median));
        let d = Spread::difference(&a, &b).unwrap();
        assert_eq!(d.median, 10.0);
        assert_eq!((d.lo, d.hi), (5.0, 30.0));
        assert!(d.contains(d.median));
        assert_eq!(Spread::of(&[]), None);
        assert_eq!(Spread::of(&[1.0, 3.0]).unwrap().median, 2.0);
    }
}
