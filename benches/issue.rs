//! Workload `issue`: the cost of `scheme.issue(&claims)` for every scheme and claim set.
//!
//! Sessions are issued into a store already holding `BACKGROUND_SESSIONS` sessions. Issued
//! tokens are collected during a timed chunk and revoked (sessions) or dropped (JWTs)
//! outside the timing, so the store stays at a steady size however many iterations
//! criterion asks for, and freeing the token is not billed to `issue`.

#[path = "common/mod.rs"]
mod common;

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use tokenbench::claims::ClaimSet;
use tokenbench::scheme::RevocationStrategy;

use tokenbench::scheme::spec::Family;

/// Tokens issued per timed chunk before the untimed clean-up.
const CHUNK: u64 = 4096;

fn issue(c: &mut Criterion) {
    let subjects = common::subjects(common::BACKGROUND_SESSIONS, || RevocationStrategy::None);
    let mut group = c.benchmark_group("issue");
    group.throughput(Throughput::Elements(1));
    for subject in &subjects {
        let scheme = subject.scheme.as_ref();
        for set in ClaimSet::ALL {
            let claims = common::claims(set);
            // The operation must really work: an issued token validates to its claims.
            let token = scheme.issue(&claims).expect("issue");
            common::assert_valid(scheme, &token, &claims);
            if subject.family() == Family::Session {
                scheme.revoke(&token).expect("revoke");
            }

            group.bench_function(BenchmarkId::new(&subject.name, set.name()), |b| {
                b.iter_custom(|iters| {
                    let mut timed = Duration::ZERO;
                    let mut issued = Vec::with_capacity(iters.min(CHUNK) as usize);
                    let mut left = iters;
                    while left > 0 {
                        let n = left.min(CHUNK);
                        let start = Instant::now();
                        for _ in 0..n {
                            issued.push(scheme.issue(black_box(&claims)));
                        }
                        timed += start.elapsed();
                        for result in issued.drain(..) {
                            let token = result.expect("issue failed during the bench");
                            if subject.family() == Family::Session {
                                scheme.revoke(&token).expect("revoke");
                            }
                        }
                        left -= n;
                    }
                    timed
                });
            });
        }
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = common::config();
    targets = issue
}
criterion_main!(benches);
