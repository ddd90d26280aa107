//! The Redis store's connection pool: session `get` throughput per (threads, pool size), the
//! measurement behind [`RedisStore::default_pool_size`] (see the module docs of
//! `src/store/redis.rs`).
//!
//! Needs a Redis server: `TOKENBENCH_REDIS_URL=redis://127.0.0.1:6379/ cargo bench --bench
//! redis_pool`. Without the variable it says it skipped and exits successfully, or fails
//! when `CI` is set (`tests/common/skip.rs`, shared with the Redis tests); with it set, an
//! unreachable server fails the bench.
//!
//! One typical session record lives under the bench's own key prefix
//! (`tokenbench:bench-redis-pool:<random>:`), written by one store; one store per pool size
//! reads it through that prefix. The prefix's keys are deleted at the end (and by the
//! writing store's drop if the bench panics); nothing else on the server is touched.
//!
//! Timing (`iter_custom`), as in `scale.rs`: the threads are spawned, meet at a barrier, then
//! each `get`s the record its share of `iters` times; the measured time runs from the first
//! thread's start to the last thread's end, so spawning is not billed. Throughput is one
//! element per iteration, so criterion reports aggregate `get`s per second. Every `get` must
//! find the record (checked after the timing); a single miss or error aborts the bench.
//!
//! Criterion measures one (threads, pool size) after the other, so load from elsewhere on the
//! machine can favour one pool size over another; the pool sizes of one thread count run
//! back to back to keep that small. Compare pool sizes within one run.

#[path = "common/mod.rs"]
mod common;
#[path = "../tests/common/skip.rs"]
mod skip;

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use tokenbench::claims::ClaimSet;
use tokenbench::store::{RedisStore, SessionRecord, SessionStore};

const THREADS: [usize; 5] = [1, 2, 4, 8, 16];
const POOL_SIZES: [usize; 4] = [1, 4, 8, 16];
/// The session every `get` reads.
const SESSION_ID: &str = "hot";

fn connect(url: &str, prefix: &str) -> RedisStore {
    skip::connect(url, Some(prefix))
}

fn now_ms() -> u64 {
    let since_epoch = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970");
    u64::try_from(since_epoch.as_millis()).expect("milliseconds fit in u64")
}

/// A typical session record that Redis keeps for an hour, longer than any run.
fn record() -> SessionRecord {
    let now = now_ms();
    SessionRecord {
        claims: Arc::new(common::claims(ClaimSet::Typical)),
        created_ms: now,
        last_seen_ms: now,
        idle_deadline_ms: now + 3_600_000,
        absolute_deadline_ms: now + 3_600_000,
        csrf_token: "bench-csrf".into(),
    }
}

/// `get`s the session `iters` times from `threads` threads; returns the wall time from the
/// first thread's start to the last thread's end.
fn concurrent_get(store: &RedisStore, threads: usize, iters: u64) -> Duration {
    common::concurrent(
        threads,
        iters,
        |_| || matches!(black_box(store.get(black_box(SESSION_ID))), Ok(Some(_))),
        "gets of a stored session missed or failed",
    )
}

fn pool_get(c: &mut Criterion) {
    let Some(url) = skip::shared_redis_url() else {
        return;
    };
    let prefix = format!(
        "tokenbench:bench-redis-pool:{:016x}:",
        rand::random::<u64>()
    );
    // The writer owns the prefix: its cleanup (and its drop) deletes the bench's keys.
    let writer = connect(&url, &prefix);
    let session = record();
    writer.put(SESSION_ID, &session).expect("put the session");
    let readers: Vec<RedisStore> = POOL_SIZES
        .iter()
        .map(|&size| {
            let store = connect(&url, &prefix)
                .with_cleanup_on_drop(false)
                .with_pool_size(size);
            assert_eq!(store.pool_size(), size);
            let got = store.get(SESSION_ID).expect("get the session");
            assert_eq!(got.as_ref(), Some(&session), "reads what was written");
            store
        })
        .collect();

    let mut group = c.benchmark_group("redis_pool_get");
    group.throughput(Throughput::Elements(1));
    for threads in THREADS {
        for store in &readers {
            let id = BenchmarkId::new(format!("pool-{}", store.pool_size()), format!("{threads}t"));
            group.bench_function(id, |b| {
                b.iter_custom(|iters| concurrent_get(store, threads, iters));
            });
        }
    }
    group.finish();

    drop(readers);
    let deleted = writer.cleanup().expect("delete the bench's keys");
    assert_eq!(deleted, 1, "the session was the bench's only key");
}

criterion_group! {
    name = benches;
    config = common::config();
    targets = pool_get
}
criterion_main!(benches);
