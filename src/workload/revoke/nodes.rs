//! The live validator nodes of a wall-clock strategy: one scheme per node, built from the
//! strategy, sharing what the strategy shares (a store, a denylist, a key prefix on Redis,
//! a table in PostgreSQL).

use std::sync::Arc;
use std::time::Duration;

use rand::rngs::StdRng;

use super::{NODE_POOL, RevokeParams, Strategy, broken, uniform};
use crate::clock::{Clock, SystemClock};
use crate::denylist::{
    MemoryDenylist, PolledDenylist, PushedDenylist, RedisDenylist, RedisPushedDenylist,
};
use crate::scheme::spec::SchemeKeys;
use crate::scheme::{CachedScheme, RevocationStrategy, SessionConfig, SessionScheme, TokenScheme};
use crate::store::{MemoryStore, PostgresStore, RedisStore, SessionStore};
use crate::workload::{Settings, StoreSpec, WorkloadResult};

/// The validator nodes of one wall-clock strategy.
pub(super) struct Nodes {
    /// One scheme per node; node 0 also issues and revokes.
    pub(super) nodes: Vec<Arc<dyn TokenScheme>>,
    /// The staleness window, if the strategy has one.
    pub(super) window: Option<Duration>,
    /// Node i starts validating a trial's token after a delay uniform in [0, stagger).
    pub(super) stagger: Option<Duration>,
    /// Once warm, sleep uniform in [0, phase) before revoking.
    pub(super) phase: Option<Duration>,
}

impl Nodes {
    /// The `k` nodes of `strategy`; `server` is the store a strategy on a server uses.
    pub(super) fn build(
        strategy: Strategy,
        settings: &Settings,
        p: &RevokeParams,
        keys: Option<&SchemeKeys>,
        server: Option<&StoreSpec>,
        k: usize,
        rng: &mut StdRng,
    ) -> WorkloadResult<Nodes> {
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let session = || -> Arc<dyn TokenScheme> {
            Arc::new(SessionScheme::new(
                MemoryStore::new(),
                SessionConfig::default(),
                clock.clone(),
            ))
        };
        // A node of a self-contained token's strategy: the issuer's keys, this revocation.
        let jwt = |revocation: RevocationStrategy| -> WorkloadResult<Arc<dyn TokenScheme>> {
            let keys = keys.ok_or_else(|| broken(strategy, "no issuer keys"))?;
            Ok(keys.build(settings.jwt_config(), revocation, clock.clone()))
        };
        let spawn_err = |e: std::io::Error| broken(strategy, format!("cannot start thread: {e}"));
        let plain = |nodes| Nodes {
            nodes,
            window: None,
            stagger: None,
            phase: None,
        };
        Ok(match strategy {
            Strategy::SessionCentral => plain(vec![session(); k]),
            Strategy::SessionCache => {
                let central = session();
                let ttl = p.cache_ttl;
                Nodes {
                    nodes: (0..k)
                        .map(|_| {
                            Arc::new(CachedScheme::new(central.clone(), ttl, clock.clone()))
                                as Arc<dyn TokenScheme>
                        })
                        .collect(),
                    window: Some(ttl),
                    stagger: Some(ttl),
                    phase: None,
                }
            }
            Strategy::JwtDenylistCentral | Strategy::PasetoDenylistCentral => {
                let node = jwt(RevocationStrategy::CentralDenylist(Arc::new(
                    MemoryDenylist::new(),
                )))?;
                plain(vec![node; k])
            }
            Strategy::JwtDenylistPushed => plain(
                PushedDenylist::cluster(k)
                    .map_err(spawn_err)?
                    .into_iter()
                    .map(|d| jwt(RevocationStrategy::CentralDenylist(Arc::new(d))))
                    .collect::<WorkloadResult<_>>()?,
            ),
            Strategy::JwtDenylistPolled => {
                let central = Arc::new(MemoryDenylist::new());
                let p = p.poll_interval;
                let mut nodes = Vec::with_capacity(k);
                for _ in 0..k {
                    let first = uniform(rng, p);
                    let d =
                        PolledDenylist::with_phase(central.clone(), p, first).map_err(spawn_err)?;
                    nodes.push(jwt(RevocationStrategy::CentralDenylist(Arc::new(d)))?);
                }
                Nodes {
                    nodes,
                    window: Some(p),
                    stagger: None,
                    phase: Some(p),
                }
            }
            Strategy::JwtExpiryOnly | Strategy::PasetoExpiryOnly => {
                return Err(broken(
                    strategy,
                    "runs on the virtual clock, not as a cluster",
                ));
            }
            Strategy::SessionCentralPostgres => {
                let url = server
                    .and_then(StoreSpec::url)
                    .ok_or_else(|| broken(strategy, "no PostgreSQL store selected"))?;
                let first = PostgresStore::connect(url)?.with_pool_size(NODE_POOL);
                let table = first.table().to_owned();
                let mut stores = vec![first];
                for _ in 1..k {
                    stores.push(
                        PostgresStore::connect_with_table(url, &table)?
                            .with_pool_size(NODE_POOL)
                            .with_cleanup_on_drop(false),
                    );
                }
                plain(session_nodes(stores))
            }
            Strategy::SessionCentralRedis
            | Strategy::JwtDenylistCentralRedis
            | Strategy::JwtDenylistPushedRedis
            | Strategy::JwtDenylistPolledRedis => {
                let url = server
                    .and_then(StoreSpec::url)
                    .ok_or_else(|| broken(strategy, "no Redis store selected"))?;
                return redis_nodes(strategy, p, url, k, &jwt, rng);
            }
        })
    }
}

/// One session node per store (on the system clock); the stores share their records.
fn session_nodes<S: SessionStore>(stores: Vec<S>) -> Vec<Arc<dyn TokenScheme>> {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    stores
        .into_iter()
        .map(|store| {
            Arc::new(SessionScheme::new(
                store,
                SessionConfig::default(),
                clock.clone(),
            )) as Arc<dyn TokenScheme>
        })
        .collect()
}

/// The nodes of a Redis strategy: node 0 owns the key prefix (and deletes it when dropped),
/// the others connect to the same prefix with pools of their own.
fn redis_nodes(
    strategy: Strategy,
    p: &RevokeParams,
    url: &str,
    k: usize,
    jwt: &dyn Fn(RevocationStrategy) -> WorkloadResult<Arc<dyn TokenScheme>>,
    rng: &mut StdRng,
) -> WorkloadResult<Nodes> {
    let plain = |nodes| Nodes {
        nodes,
        window: None,
        stagger: None,
        phase: None,
    };
    // Denylists for k nodes sharing one prefix; the first cleans it up.
    let denylists = || -> WorkloadResult<Vec<RedisDenylist>> {
        let first = RedisDenylist::connect(url)?;
        let prefix = first.prefix().to_owned();
        let mut out = vec![first];
        for _ in 1..k {
            out.push(RedisDenylist::connect_with_prefix(url, &prefix)?.with_cleanup_on_drop(false));
        }
        Ok(out)
    };
    Ok(match strategy {
        Strategy::SessionCentralRedis => {
            let first = RedisStore::connect(url)?.with_pool_size(NODE_POOL);
            let prefix = first.prefix().to_owned();
            let mut stores = vec![first];
            for _ in 1..k {
                stores.push(
                    RedisStore::connect_with_prefix(url, &prefix)?
                        .with_pool_size(NODE_POOL)
                        .with_cleanup_on_drop(false),
                );
            }
            plain(session_nodes(stores))
        }
        Strategy::JwtDenylistCentralRedis => plain(
            denylists()?
                .into_iter()
                .map(|d| jwt(RevocationStrategy::CentralDenylist(Arc::new(d))))
                .collect::<WorkloadResult<_>>()?,
        ),
        Strategy::JwtDenylistPushedRedis => {
            let mut nodes = Vec::with_capacity(k);
            for central in denylists()? {
                let node = RedisPushedDenylist::subscribe(central)?;
                nodes.push(jwt(RevocationStrategy::CentralDenylist(Arc::new(node)))?);
            }
            plain(nodes)
        }
        Strategy::JwtDenylistPolledRedis => {
            let p = p.poll_interval;
            let mut nodes = Vec::with_capacity(k);
            for central in denylists()? {
                let first = uniform(rng, p);
                let node = PolledDenylist::with_phase(Arc::new(central), p, first)
                    .map_err(|e| broken(strategy, format!("cannot start poller: {e}")))?;
                // The first copy must be there before any trial.
                node.refresh()?;
                nodes.push(jwt(RevocationStrategy::CentralDenylist(Arc::new(node)))?);
            }
            Nodes {
                nodes,
                window: Some(p),
                stagger: None,
                phase: Some(p),
            }
        }
        _ => return Err(broken(strategy, "not a Redis strategy")),
    })
}
