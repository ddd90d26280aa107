//! Workload `revoke`: what revocation costs, on every request and at the moment of revoking.
//!
//! - `revocation_check_cost`: validate of a valid JWT with no revocation (`expiry-only`)
//!   against an in-memory `jti` denylist holding 0 and 10 000 revoked entries; and validate
//!   of a session with sliding expiry on (a store write per request) and off.
//! - `revoke`: the cost of `revoke` itself for every scheme that can revoke: sessions
//!   (a store delete) and JWTs with an in-memory denylist (verify, then insert the `jti`).
//!   Each timed revoke is of a token that is live at that moment: sessions are issued
//!   fresh outside the timing; JWTs come from a pool of pre-issued tokens (signing RS256 per
//!   iteration would make the bench take minutes), and the denylist is emptied, untimed,
//!   before each pass over the pool, so every timed revoke inserts a new `jti`.

#[path = "common/mod.rs"]
mod common;

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use tokenbench::claims::ClaimSet;
use tokenbench::clock::{Clock, SystemClock};
use tokenbench::denylist::{Denylist, MemoryDenylist};
use tokenbench::scheme::{
    JwtAlg, JwtConfig, Rejection, RevocationStrategy, SessionConfig, TokenScheme,
};

/// Revoked `jti`s held by the full denylist.
const DENYLIST_ENTRIES: usize = 10_000;
/// Fresh sessions issued (untimed) per timed chunk of revokes.
const SESSION_CHUNK: u64 = 4096;
/// Pre-issued JWTs per algorithm; also the JWT chunk size.
const JWT_POOL: usize = 256;

fn revocation_check_cost(c: &mut Criterion) {
    let claims = common::claims(ClaimSet::Typical);
    let mut group = c.benchmark_group("revocation_check_cost");
    group.throughput(Throughput::Elements(1));

    for alg in JwtAlg::ALL {
        let variants: [(String, RevocationStrategy, usize); 3] = [
            ("expiry-only".into(), RevocationStrategy::None, 0),
            (
                "denylist-memory-0".into(),
                RevocationStrategy::CentralDenylist(Arc::new(MemoryDenylist::new())),
                0,
            ),
            (
                format!("denylist-memory-{DENYLIST_ENTRIES}"),
                RevocationStrategy::CentralDenylist(Arc::new(MemoryDenylist::new())),
                DENYLIST_ENTRIES,
            ),
        ];
        for (param, revocation, entries) in variants {
            if let RevocationStrategy::CentralDenylist(d) = &revocation {
                fill_denylist(d.as_ref(), entries);
                assert_eq!(d.len(), entries);
            }
            let scheme = common::jwt(alg, revocation);
            let token = scheme.issue(&claims).expect("issue");
            common::assert_valid(&scheme, &token, &claims);
            group.bench_function(BenchmarkId::new(scheme.name(), param), |b| {
                b.iter(|| scheme.validate(black_box(token.as_str())));
                common::assert_valid(&scheme, &token, &claims);
            });
        }
    }

    for sliding in [true, false] {
        let config = SessionConfig {
            sliding,
            ..SessionConfig::default()
        };
        let schemes: [Box<dyn TokenScheme>; 2] = [
            Box::new(common::session_memory(config.clone())),
            Box::new(common::session_rwlock(config)),
        ];
        let param = if sliding { "sliding-on" } else { "sliding-off" };
        for scheme in &schemes {
            let scheme = scheme.as_ref();
            common::issue_many(scheme, ClaimSet::Typical, common::BACKGROUND_SESSIONS);
            let token = scheme.issue(&claims).expect("issue");
            common::assert_valid(scheme, &token, &claims);
            group.bench_function(BenchmarkId::new(scheme.name(), param), |b| {
                b.iter(|| scheme.validate(black_box(token.as_str())));
                common::assert_valid(scheme, &token, &claims);
            });
        }
    }
    group.finish();
}

/// Puts `n` distinct 22-character `jti`s, live for the default JWT lifetime, on `denylist`:
/// the state left by revoking `n` tokens, without signing them first.
fn fill_denylist(denylist: &dyn Denylist, n: usize) {
    let expires = SystemClock.now_secs() + JwtConfig::default().lifetime.as_secs();
    for i in 0..n {
        denylist
            .insert(&format!("revoked-jti-{i:010}"), expires)
            .expect("denylist insert");
    }
    if n > 0 {
        assert!(
            denylist
                .contains("revoked-jti-0000000000", SystemClock.now_secs())
                .expect("denylist lookup")
        );
    }
}

/// Times `revoke` over chunks of live tokens: `prepare(n)` returns `n` tokens (untimed),
/// the revokes are timed, their results checked (untimed).
fn time_revokes(
    scheme: &dyn TokenScheme,
    iters: u64,
    chunk: u64,
    mut prepare: impl FnMut(usize) -> Vec<String>,
) -> Duration {
    let mut timed = Duration::ZERO;
    let mut results = Vec::with_capacity(iters.min(chunk) as usize);
    let mut left = iters;
    while left > 0 {
        let n = left.min(chunk);
        let tokens = prepare(n as usize);
        let start = Instant::now();
        for token in &tokens {
            results.push(scheme.revoke(black_box(token.as_str())));
        }
        timed += start.elapsed();
        for r in results.drain(..) {
            r.expect("revoke failed during the bench");
        }
        left -= n;
    }
    timed
}

fn revoke(c: &mut Criterion) {
    let claims = common::claims(ClaimSet::Typical);
    let mut group = c.benchmark_group("revoke");
    group.throughput(Throughput::Elements(1));

    let sessions: [Box<dyn TokenScheme>; 2] = [
        Box::new(common::session_memory(common::fixed_sessions())),
        Box::new(common::session_rwlock(common::fixed_sessions())),
    ];
    for scheme in &sessions {
        let scheme = scheme.as_ref();
        common::issue_many(scheme, ClaimSet::Typical, common::BACKGROUND_SESSIONS);
        // Revoking must really kill the session.
        let token = scheme.issue(&claims).expect("issue");
        common::assert_valid(scheme, &token, &claims);
        scheme.revoke(&token).expect("revoke");
        common::assert_rejected(scheme, &token, &Rejection::UnknownSession);

        group.bench_function(BenchmarkId::new(scheme.name(), "store-delete"), |b| {
            b.iter_custom(|iters| {
                time_revokes(scheme, iters, SESSION_CHUNK, |n| {
                    (0..n)
                        .map(|_| scheme.issue(&claims).expect("issue"))
                        .collect()
                })
            });
        });
    }

    for alg in JwtAlg::ALL {
        let denylist = Arc::new(MemoryDenylist::new());
        let scheme = common::jwt(alg, RevocationStrategy::CentralDenylist(denylist.clone()));
        let pool = common::issue_many(&scheme, ClaimSet::Typical, JWT_POOL);
        // Revoking must really make the token fail; then start from an empty denylist.
        scheme.revoke(&pool[0]).expect("revoke");
        common::assert_rejected(&scheme, &pool[0], &Rejection::Revoked);
        denylist.purge_expired(u64::MAX);
        common::assert_valid(
            &scheme,
            &pool[0],
            &ClaimSet::Typical.claims(&common::user(0)),
        );

        let param = scheme.revocation().name();
        group.bench_function(BenchmarkId::new(scheme.name(), param), |b| {
            b.iter_custom(|iters| {
                time_revokes(&scheme, iters, JWT_POOL as u64, |n| {
                    // Forget earlier revokes (untimed) so each token is revoked afresh.
                    denylist.purge_expired(u64::MAX);
                    pool[..n].to_vec()
                })
            });
            assert!(denylist.len() <= JWT_POOL);
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = common::config();
    targets = revocation_check_cost, revoke
}
criterion_main!(benches);
