//! Summaries of measured samples: percentiles from HDR histograms, a distribution-free
//! confidence interval for the median, and histograms serialized into results so that a
//! report can be rebuilt without measuring again.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hdrhistogram::Histogram;
use hdrhistogram::serialization::{Deserializer, Serializer, V2DeflateSerializer};
use serde::{Deserialize, Serialize};

/// Percentiles of one quantity, in nanoseconds (fractional: per-op figures of batched
/// timings are often a few nanoseconds).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Number of samples (batches or trials) summarised.
    pub samples: u64,
    /// Smallest sample.
    pub min_ns: f64,
    /// Median (the 50th percentile).
    pub median_ns: f64,
    /// 90th percentile.
    pub p90_ns: f64,
    /// 99th percentile.
    pub p99_ns: f64,
    /// 99.9th percentile.
    pub p999_ns: f64,
    /// Largest sample.
    pub max_ns: f64,
    /// Arithmetic mean.
    pub mean_ns: f64,
    /// 95% confidence interval of the median, from order statistics (distribution-free).
    pub median_ci95_ns: [f64; 2],
}

impl Summary {
    /// A summary of no samples (all zeros), for a measurement that produced none.
    pub const EMPTY: Summary = Summary {
        samples: 0,
        min_ns: 0.0,
        median_ns: 0.0,
        p90_ns: 0.0,
        p99_ns: 0.0,
        p999_ns: 0.0,
        max_ns: 0.0,
        mean_ns: 0.0,
        median_ci95_ns: [0.0, 0.0],
    };

    /// Summarises raw samples given in nanoseconds. `None` for an empty slice.
    pub fn from_samples(samples_ns: &[f64]) -> Option<Summary> {
        if samples_ns.is_empty() {
            return None;
        }
        let mut v: Vec<f64> = samples_ns
            .iter()
            .copied()
            .filter(|x| x.is_finite())
            .collect();
        if v.is_empty() {
            return None;
        }
        v.sort_by(f64::total_cmp);
        let n = v.len();
        let q = |p: f64| -> f64 {
            // Nearest-rank percentile.
            let rank = ((p / 100.0) * n as f64).ceil().max(1.0) as usize;
            v[rank.min(n) - 1]
        };
        // Ranks n/2 -+ 1.96 sqrt(n)/2 bound the median with ~95% confidence.
        let half_width = 1.96 * (n as f64).sqrt() / 2.0;
        let lo = ((n as f64 / 2.0) - half_width).floor().max(0.0) as usize;
        let hi = (((n as f64 / 2.0) + half_width).ceil() as usize).min(n - 1);
        Some(Summary {
            samples: n as u64,
            min_ns: v[0],
            median_ns: q(50.0),
            p90_ns: q(90.0),
            p99_ns: q(99.0),
            p999_ns: q(99.9),
            max_ns: v[n - 1],
            mean_ns: v.iter().sum::<f64>() / n as f64,
            median_ci95_ns: [v[lo], v[hi]],
        })
    }

    /// Summarises a histogram whose values are in `unit_ns` nanoseconds each.
    pub fn from_histogram(h: &Histogram<u64>, unit_ns: f64) -> Option<Summary> {
        if h.is_empty() {
            return None;
        }
        let at = |p: f64| h.value_at_percentile(p) as f64 * unit_ns;
        let n = h.len();
        // Median CI from the histogram's ranks.
        let half = 1.96 * (n as f64).sqrt() / 2.0;
        let lo_q = ((n as f64 / 2.0 - half) / n as f64).clamp(0.0, 1.0);
        let hi_q = ((n as f64 / 2.0 + half) / n as f64).clamp(0.0, 1.0);
        Some(Summary {
            samples: n,
            min_ns: h.min() as f64 * unit_ns,
            median_ns: at(50.0),
            p90_ns: at(90.0),
            p99_ns: at(99.0),
            p999_ns: at(99.9),
            max_ns: h.max() as f64 * unit_ns,
            mean_ns: h.mean() * unit_ns,
            median_ci95_ns: [
                h.value_at_quantile(lo_q) as f64 * unit_ns,
                h.value_at_quantile(hi_q) as f64 * unit_ns,
            ],
        })
    }
}

/// A new histogram tracking values up to `max` with 3 significant figures.
pub fn histogram(max: u64) -> Histogram<u64> {
    // Bounds are constants chosen by callers (>= 2) and 3 significant figures are in range,
    // so creation cannot fail; fall back to an auto-resizing histogram all the same.
    Histogram::new_with_bounds(1, max.max(2), 3)
        .or_else(|_| Histogram::new(3))
        .unwrap_or_else(|_| unreachable!("3 significant figures is always valid"))
}

/// Serializes a histogram (HdrHistogram V2 + deflate, base64), the portable format other
/// HdrHistogram implementations read.
pub fn encode_histogram(h: &Histogram<u64>) -> String {
    let mut bytes = Vec::new();
    match V2DeflateSerializer::new().serialize(h, &mut bytes) {
        Ok(_) => STANDARD.encode(bytes),
        Err(_) => String::new(),
    }
}

/// Reads a histogram written by [`encode_histogram`].
pub fn decode_histogram(s: &str) -> Result<Histogram<u64>, String> {
    let bytes = STANDARD
        .decode(s)
        .map_err(|e| format!("histogram base64: {e}"))?;
    Deserializer::new()
        .deserialize(&mut bytes.as_slice())
        .map_err(|e| format!("histogram data: {e:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_of_one_to_a_hundred() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        let s = Summary::from_samples(&v).unwrap();
        assert_eq!(
            (s.min_ns, s.median_ns, s.p90_ns, s.p99_ns, s.max_ns),
            (1.0, 50.0, 90.0, 99.0, 100.0)
        );
        assert!((s.mean_ns - 50.5).abs() < 1e-9);
        assert!(s.median_ci95_ns[0] < 50.0 && s.median_ci95_ns[1] > 50.0);
        assert!(Summary::from_samples(&[]).is_none());
    }

    #[test]
    fn histograms_round_trip_through_text() {
        let mut h = histogram(1_000_000);
        for v in [5u64, 10, 10, 2000, 999_999] {
            h.record(v).unwrap();
        }
        let back = decode_histogram(&encode_histogram(&h)).unwrap();
        assert_eq!(back.len(), 5);
        assert_eq!(back.value_at_percentile(50.0), h.value_at_percentile(50.0));
        assert!(decode_histogram("not base64!").is_err());
        let s = Summary::from_histogram(&h, 1.0).unwrap();
        assert_eq!(s.median_ns, 10.0);
    }
}
