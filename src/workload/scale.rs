//! Workload 4, scale: throughput and latency of `validate` as threads and working sets grow.
//!
//! For each scheme, thread count and working set (live sessions; JWTs are stateless, so
//! they draw from a fixed pool of valid tokens), every thread validates uniformly random
//! tokens of the set for a fixed time. Throughput is total operations over wall time;
//! latency percentiles come from short batches (the batch mean, so that timer reads stay
//! a small share of cheap operations; the batch size is recorded).
//!
//! Every line (scheme and working set) is set up first; then each thread count runs over
//! all lines in turn, so that a shared machine's drift hits every line alike (the
//! interleaving of [`crate::measure::rounds`], applied to scale points).
//!
//! A networked store (`session-redis`, `session-postgres`) runs the same points: every
//! validator thread shares one store and its connection pool (the deployment under test),
//! and each lookup is a round trip. Working sets above the store's own cap
//! ([`ServerProbe::max_working_set`]) are cut to it (each session is a round trip to
//! create, and some hundreds of bytes on the server); the point records the size used. A
//! lookup refused because the server is unreachable counts in the point's `errors` (fail
//! closed); after such a point the workload waits for the server to answer again, and ends
//! with an error naming it if it does not (see [`super::outage`]).
//!
//! [`ServerProbe::max_working_set`]: crate::store::ServerProbe::max_working_set

pub use crate::results::schema::scale::{ScalePoint, ScaleResults};
use std::sync::Arc;
use std::sync::Barrier;
use std::time::{Duration, Instant};

use rand::RngExt;

use super::outage::Remote;
use super::{
    Progress, SchemeSpec, Settings, Workload, WorkloadError, WorkloadResult, build, cores,
};
use crate::claims::ClaimSet;
use crate::clock::CoarseClock;
use crate::measure::stats::{Summary, encode_histogram, histogram};
use crate::measure::{Budget, measure};
use crate::results::schema::ResultFile;
use crate::scheme::spec::SchemeId;
use crate::scheme::{RevocationStrategy, SessionConfig, TokenScheme};

/// Valid JWTs each point draws from (a JWT validator holds no per-token state); a tenth
/// of this in quick runs.
pub const JWT_POOL: usize = 1_000;

/// Target duration of one latency batch.
const BATCH_TARGET: Duration = Duration::from_micros(2);

/// Runs the scale workload.
/// The scale workload.
pub struct Scale;

/// Flags of `tokenbench scale`.
#[derive(Debug, Clone, clap::Args)]
pub struct ScaleArgs {
    /// Thread counts (default 1..2 x cores; quick: 1, cores and 2 x cores).
    #[arg(long, value_delimiter = ',', value_parser = clap::value_parser!(u64).range(1..=1024))]
    pub threads: Option<Vec<u64>>,
    /// Live-session working sets (default 1000,100000,1000000; quick: 1000,100000).
    #[arg(long, value_delimiter = ',', value_parser = clap::value_parser!(u64).range(1..=10_000_000))]
    pub sessions: Option<Vec<u64>>,
}

/// Parameters of the scale workload.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ScaleParams {
    /// Thread counts.
    pub threads: Vec<usize>,
    /// Live-session working sets.
    pub sessions: Vec<usize>,
    /// Time per point.
    pub scale_duration: Duration,
}

impl ScaleParams {
    /// The defaults of a quick or a full run on this machine.
    pub fn defaults(quick: bool) -> Self {
        let cores = cores();
        Self {
            threads: if quick {
                // 1, the cores (the most a machine can show scaling at) and twice that
                // (run-queue wait: oversubscribed).
                let mut t = vec![1, cores, 2 * cores];
                t.dedup();
                t
            } else {
                (1..=2 * cores).collect()
            },
            sessions: if quick {
                vec![1_000, 100_000]
            } else {
                vec![1_000, 100_000, 1_000_000]
            },
            // Quick: three thread counts in the time two took at 250 ms each.
            scale_duration: if quick {
                Duration::from_millis(170)
            } else {
                Duration::from_secs(1)
            },
        }
    }
}

/// The first occurrence of each value, in order.
fn dedup(v: &[u64]) -> Vec<usize> {
    let mut out: Vec<usize> = Vec::with_capacity(v.len());
    for &x in v {
        let x = x as usize;
        if !out.contains(&x) {
            out.push(x);
        }
    }
    out
}

impl Workload for Scale {
    const ABOUT: &'static str = "Throughput and latency as threads and working sets grow";
    const PER_BACKEND: bool = true;
    type Args = ScaleArgs;
    type Params = ScaleParams;
    type Results = ScaleResults;

    fn params(a: &ScaleArgs, quick: bool) -> ScaleParams {
        let mut p = ScaleParams::defaults(quick);
        if let Some(t) = &a.threads {
            p.threads = dedup(t);
        }
        if let Some(n) = &a.sessions {
            p.sessions = dedup(n);
        }
        p
    }

    fn run(
        settings: &Settings,
        p: &ScaleParams,
        progress: &dyn Progress,
    ) -> WorkloadResult<ScaleResults> {
        run(settings, p, progress)
    }
}

/// Runs the scale workload.
pub fn run(
    settings: &Settings,
    p: &ScaleParams,
    progress: &dyn Progress,
) -> WorkloadResult<ScaleResults> {
    let schemes = settings.schemes();
    let per_scheme = |s: &SchemeSpec| {
        if s.capabilities().store_lookup {
            p.sessions.len()
        } else {
            1
        }
    };
    let total: usize = schemes
        .iter()
        .map(|s| per_scheme(s) * p.threads.len())
        .sum();
    progress.start("scale", total as u64);
    let clock = Arc::new(CoarseClock);
    let config = SessionConfig {
        sliding: false,
        ..SessionConfig::default()
    };
    let backend = settings.backend;
    // Every line first (scheme, working set, its tokens), then each thread count over all
    // lines in turn, so that a shared machine's drift hits the lines alike.
    struct Line {
        spec: SchemeSpec,
        remote: Remote,
        scheme: Arc<dyn TokenScheme>,
        sessions: Option<usize>,
        tokens: Arc<Vec<String>>,
        batch: u64,
    }
    let mut lines: Vec<Line> = Vec::new();
    for spec in &schemes {
        let remote = Remote::for_spec(spec)?;
        let cap = remote.probe().map_or(usize::MAX, |p| p.max_working_set());
        let sets = working_sets(spec, p, cap);
        // Steps of working sets merged by the remote cap still count for the progress bar.
        let skipped = per_scheme(spec).saturating_sub(sets.len()) * p.threads.len();
        for _ in 0..skipped {
            progress.step(&format!("{spec}: working set cut to {cap}"));
        }
        for sessions in sets {
            let scheme = remote.retry(&format!("scale {spec}: connecting"), || {
                build(
                    spec,
                    settings,
                    config.clone(),
                    RevocationStrategy::None,
                    clock.clone(),
                )
            })?;
            let mut rng = settings.rng(4);
            let pool = sessions.unwrap_or(if settings.quick {
                JWT_POOL / 10
            } else {
                JWT_POOL
            });
            let tokens =
                Arc::new(remote.issue_many(scheme.as_ref(), pool, ClaimSet::Typical, &mut rng)?);
            let batch = batch_size(scheme.as_ref(), &tokens[0]);
            lines.push(Line {
                spec: spec.clone(),
                remote: remote.clone(),
                scheme,
                sessions,
                tokens,
                batch,
            });
        }
    }
    let mut measured: Vec<(usize, usize, ScalePoint)> = Vec::new();
    for (ti, &threads) in p.threads.iter().enumerate() {
        for (li, line) in lines.iter().enumerate() {
            let spec = &line.spec;
            progress.step(&format!(
                "{spec} {threads} threads {}",
                line.sessions.map_or("pool".into(), |n| n.to_string())
            ));
            let mut pt = point(
                spec.id(),
                line.scheme.clone(),
                line.tokens.clone(),
                threads,
                line.batch,
                settings,
                p.scale_duration,
            )?;
            pt.sessions = line.sessions;
            pt.backend = spec.capabilities().per_crypto_backend.then_some(backend);
            if pt.errors > 0 {
                line.remote.ensure_back(
                    &format!("scale {spec} at {threads} threads"),
                    &format!("{} of {} validations failed", pt.errors, pt.ops),
                )?;
            }
            measured.push((li, ti, pt));
        }
    }
    // Report order: line by line, threads ascending within each.
    measured.sort_by_key(|(li, ti, _)| (*li, *ti));
    let points: Vec<ScalePoint> = measured.into_iter().map(|(_, _, pt)| pt).collect();
    progress.finish();
    Ok(ScaleResults {
        schema_version: <ScaleResults as ResultFile>::VERSION,
        cores: std::thread::available_parallelism().map_or(1, usize::from),
        duration_per_point_ms: p.scale_duration.as_secs_f64() * 1e3,
        session_sliding: config.sliding,
        points,
    })
}

/// The working sets of `spec`: none for JWTs (a pool), `p.sessions` for sessions, cut
/// to `cap` (without repeats).
fn working_sets(spec: &SchemeSpec, p: &ScaleParams, cap: usize) -> Vec<Option<usize>> {
    if !spec.capabilities().store_lookup {
        return vec![None];
    }
    let mut sets: Vec<Option<usize>> = Vec::new();
    for &n in &p.sessions {
        let n = Some(n.min(cap));
        if !sets.contains(&n) {
            sets.push(n);
        }
    }
    sets
}

/// One point of `scheme` at `threads` threads over `tokens`, for `p.scale_duration`:
/// what [`run`] measures at each thread count, for callers that build their own scheme
/// (tests wrap one to watch every answer).
pub fn run_point(
    id: SchemeId,
    scheme: Arc<dyn TokenScheme>,
    tokens: Arc<Vec<String>>,
    threads: usize,
    settings: &Settings,
    duration: Duration,
) -> WorkloadResult<ScalePoint> {
    let first = tokens
        .first()
        .ok_or_else(|| WorkloadError::Other("no tokens to validate".into()))?;
    let batch = batch_size(scheme.as_ref(), first);
    point(
        id,
        scheme,
        tokens,
        threads.max(1),
        batch,
        settings,
        duration,
    )
}

/// Operations per latency batch so that one batch lasts about [`BATCH_TARGET`].
fn batch_size(scheme: &dyn TokenScheme, token: &str) -> u64 {
    let probe = Budget {
        warmup: Duration::from_millis(5),
        measure: Duration::from_millis(20),
        batch: Duration::from_micros(50),
    };
    let est = measure(probe, || scheme.validate(token))
        .wall
        .median_ns
        .max(1.0);
    ((BATCH_TARGET.as_nanos() as f64 / est).ceil() as u64).clamp(1, 1024)
}

fn point(
    id: SchemeId,
    scheme: Arc<dyn TokenScheme>,
    tokens: Arc<Vec<String>>,
    threads: usize,
    batch: u64,
    settings: &Settings,
    duration: Duration,
) -> WorkloadResult<ScalePoint> {
    let barrier = Barrier::new(threads + 1);
    let (workers, wall) = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let (scheme, tokens, barrier) = (&scheme, &tokens, &barrier);
                let mut rng = settings.rng(100 + t as u64);
                s.spawn(move || {
                    let mut hist = histogram(60_000_000_000);
                    let (mut ops, mut errors) = (0u64, 0u64);
                    barrier.wait();
                    let end = Instant::now() + duration;
                    while Instant::now() < end {
                        let t0 = Instant::now();
                        for _ in 0..batch {
                            let tok = &tokens[rng.random_range(0..tokens.len())];
                            if scheme.validate(tok).is_err() {
                                errors += 1;
                            }
                        }
                        let per_op = t0.elapsed().as_nanos() as u64 / batch;
                        let _ = hist.record(per_op.max(1));
                        ops += batch;
                    }
                    (ops, errors, hist)
                })
            })
            .collect();
        barrier.wait();
        let start = Instant::now();
        let out: Vec<_> = handles.into_iter().filter_map(|h| h.join().ok()).collect();
        (out, start.elapsed())
    });
    if workers.len() != threads {
        return Err(WorkloadError::Other(format!(
            "{} of {threads} validator threads panicked",
            threads - workers.len()
        )));
    }
    let mut merged = histogram(60_000_000_000);
    let (mut ops, mut errors) = (0, 0);
    for (o, e, h) in &workers {
        ops += o;
        errors += e;
        let _ = merged.add(h);
    }
    let duration_s = wall.as_secs_f64();
    Ok(ScalePoint {
        scheme: id,
        backend: None,
        threads,
        sessions: None,
        token_pool: tokens.len(),
        ops,
        duration_s,
        ops_per_sec: ops as f64 / duration_s,
        latency: Summary::from_histogram(&merged, 1.0)
            .ok_or_else(|| WorkloadError::Other("no latency recorded".into()))?,
        latency_histogram: encode_histogram(&merged),
        batch_size: batch,
        errors,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scheme::spec::StoreSpec;
    use crate::scheme::{JwtAlg, PasetoPurpose};
    use crate::workload::NoProgress;

    #[test]
    fn tiny_scale_run_has_every_point_without_errors() {
        let mut settings = Settings::defaults(true);
        let p = ScaleParams {
            threads: vec![1, 2],
            sessions: vec![50, 200],
            scale_duration: Duration::from_millis(20),
        };
        settings.algs = vec![JwtAlg::HS256];
        settings.pasetos = vec![PasetoPurpose::Local];
        settings.stores = vec![StoreSpec::Memory, StoreSpec::RwLock];
        let r = run(&settings, &p, &NoProgress).unwrap();
        // 2 stores x 2 working sets x 2 thread counts + (1 JWT + 1 PASETO + 2 hybrids, HS256
        // on each store) x 2 thread counts.
        assert_eq!(r.points.len(), 16);
        for p in &r.points {
            assert_eq!(p.errors, 0, "{p:?}");
            assert!(p.ops > 0 && p.ops_per_sec > 0.0);
            assert!(
                !crate::measure::stats::decode_histogram(&p.latency_histogram)
                    .unwrap()
                    .is_empty()
            );
        }
        for token in ["jwt-HS256", "paseto-v4-local"] {
            assert!(
                r.points
                    .iter()
                    .any(|p| p.scheme == token && p.sessions.is_none()),
                "{token}"
            );
        }
        let back: ScaleResults = serde_json::from_str(&serde_json::to_string(&r).unwrap()).unwrap();
        assert!(back == r);
    }
}
