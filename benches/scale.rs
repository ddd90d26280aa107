//! Workload `scale`: validate throughput when 1, 2 or 4 threads share one scheme.
//!
//! Session schemes hold a working set of 1 000 or 100 000 pre-issued sessions (fixed idle
//! deadline, as in the CLI's scale workload: lookups only); JWT schemes validate a pool of
//! 1 000 pre-issued tokens. The token list is shuffled once, untimed, so consecutive
//! validations touch unrelated records; each thread walks it from its own offset.
//!
//! Timing (`iter_custom`): the threads are spawned, meet at a barrier, then each validates
//! its share of `iters` tokens; the measured time runs from the first thread's start to the
//! last thread's end, so spawning is not billed. Throughput is one element per iteration,
//! so criterion reports `iters / wall time`: aggregate validations per second.
//! Every validation result is checked after the timing; a single failure aborts the bench.

#[path = "common/mod.rs"]
mod common;

use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use rand::seq::SliceRandom;
use tokenbench::claims::ClaimSet;
use tokenbench::scheme::{JwtAlg, RevocationStrategy, TokenScheme};

const THREADS: [usize; 3] = [1, 2, 4];
const SESSION_WORKING_SETS: [usize; 2] = [1_000, 100_000];
const JWT_TOKENS: usize = 1_000;

/// Validates `iters` tokens of `tokens` from `threads` threads, each starting at its own
/// offset and cycling; returns the wall time from the first thread's start to the last
/// thread's end.
fn concurrent_validate(
    scheme: &dyn TokenScheme,
    tokens: &[String],
    threads: usize,
    iters: u64,
) -> Duration {
    common::concurrent(
        threads,
        iters,
        |t| {
            let mut i = t * tokens.len() / threads;
            move || {
                let ok = black_box(scheme.validate(black_box(tokens[i].as_str()))).is_ok();
                i += 1;
                if i == tokens.len() {
                    i = 0;
                }
                ok
            }
        },
        &format!("{}: valid tokens were rejected", scheme.name()),
    )
}

fn bench_threads(
    group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    scheme: &dyn TokenScheme,
    tokens: &[String],
) {
    // Every token must be valid before anything is timed.
    let claims = common::claims(ClaimSet::Typical);
    for token in tokens {
        let p = scheme
            .validate(token)
            .expect("a pre-issued token was rejected");
        assert_eq!(p.claims.roles, claims.roles);
    }
    for threads in THREADS {
        let id = BenchmarkId::new(scheme.name(), format!("{threads}t-{}", tokens.len()));
        group.bench_function(id, |b| {
            b.iter_custom(|iters| concurrent_validate(scheme, tokens, threads, iters));
        });
    }
}

/// `tokens` in random order: issue order would also be allocation order, which flatters
/// the cache.
fn shuffled(mut tokens: Vec<String>) -> Vec<String> {
    tokens.shuffle(&mut rand::rng());
    tokens
}

fn scale(c: &mut Criterion) {
    let mut group = c.benchmark_group("concurrent_validate");
    group.throughput(Throughput::Elements(1));

    for sessions in SESSION_WORKING_SETS {
        // Built one at a time and dropped after use: 100 000 sessions take real memory.
        let memory = common::session_memory(common::fixed_sessions());
        let tokens = shuffled(common::issue_many(&memory, ClaimSet::Typical, sessions));
        bench_threads(&mut group, &memory, &tokens);
        drop(memory);
        let rwlock = common::session_rwlock(common::fixed_sessions());
        let tokens = shuffled(common::issue_many(&rwlock, ClaimSet::Typical, sessions));
        bench_threads(&mut group, &rwlock, &tokens);
    }

    for alg in JwtAlg::ALL {
        let scheme = common::jwt(alg, RevocationStrategy::None);
        let tokens = shuffled(common::issue_many(&scheme, ClaimSet::Typical, JWT_TOKENS));
        bench_threads(&mut group, &scheme, &tokens);
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = common::config();
    targets = scale
}
criterion_main!(benches);
