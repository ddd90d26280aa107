//! The store contract (`common::store`) on every [`SessionStore`]: the two embedded stores,
//! Redis (the shared server, `TOKENBENCH_REDIS_URL`), a Redis Cluster (private, three
//! nodes, shared by the tests running at the same time) and PostgreSQL (the shared server,
//! `TOKENBENCH_POSTGRES_URL`, a table per test). Test names say which, e.g.
//! `store_redis_cluster::rename_moves_and_updates_atomically`. The server tests skip, or
//! fail on CI, as `common::skip` says.

use crate::common::PrivateCluster;
use crate::common::skip;
use crate::common::store::StoreUnderTest;
use tokenbench::store::{MemoryStore, RedisStore, RwLockStore};

store_contract!(
    store_memory,
    StoreUnderTest::new("memory", MemoryStore::new())
);
store_contract!(
    store_rwlock,
    StoreUnderTest::new("rwlock", RwLockStore::new())
);
store_contract!(
    optional store_redis,
    skip::shared_store().map(|s| StoreUnderTest::new("redis", s))
);
store_contract!(optional store_redis_cluster, redis_cluster());
store_contract!(
    optional store_postgres,
    skip::shared_postgres_store().map(|s| StoreUnderTest::new("postgres", s))
);

/// A store with its own prefix on the shared private cluster, kept up as long as it.
fn redis_cluster() -> Option<StoreUnderTest> {
    let cluster = PrivateCluster::shared_or_skip()?;
    let store = RedisStore::connect(&cluster.url()).expect("connect to the private cluster");
    assert!(store.is_cluster());
    Some(StoreUnderTest::on("redis-cluster", store, cluster))
}
