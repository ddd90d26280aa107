//! The live validator nodes of a wall-clock strategy: one scheme per node, built from the
//! strategy, sharing what the strategy shares (a store, a denylist, a key prefix on Redis).

use std::sync::Arc;
use std::time::Duration;

use rand::rngs::StdRng;

use super::{REDIS_NODE_POOL, RevokeParams, Strategy, broken, uniform};
use crate::clock::{Clock, SystemClock};
use crate::denylist::{
    MemoryDenylist, PolledDenylist, PushedDenylist, RedisDenylist, RedisPushedDenylist,
};
use crate::scheme::jwt::JwtKeys;
use crate::scheme::{
    CachedScheme, JwtScheme, RevocationStrategy, SessionConfig, SessionScheme, TokenScheme,
};
use crate::store::{MemoryStore, RedisStore};
use crate::workload::{Settings, WorkloadResult};

/// The validator nodes of one wall-clock strategy.
pub(super) struct Cluster {
    /// One scheme per node; node 0 also issues and revokes.
    pub(super) nodes: Vec<Arc<dyn TokenScheme>>,
    /// The staleness window, if the strategy has one.
    pub(super) window: Option<Duration>,
    /// Node i starts validating a trial's token after a delay uniform in [0, stagger).
    pub(super) stagger: Option<Duration>,
    /// Once warm, sleep uniform in [0, phase) before revoking.
    pub(super) phase: Option<Duration>,
}

impl Cluster {
    pub(super) fn build(
        strategy: Strategy,
        opts: &Settings,
        p: &RevokeParams,
        keys: Option<&Arc<JwtKeys>>,
        redis: Option<&str>,
        k: usize,
        rng: &mut StdRng,
    ) -> WorkloadResult<Cluster> {
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let session = || -> Arc<dyn TokenScheme> {
            Arc::new(SessionScheme::new(
                MemoryStore::new(),
                SessionConfig::default(),
                clock.clone(),
            ))
        };
        let jwt = |revocation: RevocationStrategy| -> WorkloadResult<Arc<dyn TokenScheme>> {
            let keys = keys.ok_or_else(|| broken(strategy, "no JWT keys"))?;
            Ok(Arc::new(JwtScheme::with_keys(
                keys.clone(),
                opts.jwt_config(),
                revocation,
                clock.clone(),
            )))
        };
        let spawn_err = |e: std::io::Error| broken(strategy, format!("cannot start thread: {e}"));
        let plain = |nodes| Cluster {
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
                Cluster {
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
            Strategy::JwtDenylistCentral => {
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
                Cluster {
                    nodes,
                    window: Some(p),
                    stagger: None,
                    phase: Some(p),
                }
            }
            Strategy::JwtExpiryOnly => {
                return Err(broken(
                    strategy,
                    "runs on the virtual clock, not as a cluster",
                ));
            }
            Strategy::SessionCentralRedis
            | Strategy::JwtDenylistCentralRedis
            | Strategy::JwtDenylistPushedRedis
            | Strategy::JwtDenylistPolledRedis => {
                let url = redis.ok_or_else(|| broken(strategy, "no Redis store selected"))?;
                return redis_cluster(strategy, p, url, k, &jwt, rng);
            }
        })
    }
}

/// The nodes of a Redis strategy: node 0 owns the key prefix (and deletes it when dropped),
/// the others connect to the same prefix with pools of their own.
fn redis_cluster(
    strategy: Strategy,
    p: &RevokeParams,
    url: &str,
    k: usize,
    jwt: &dyn Fn(RevocationStrategy) -> WorkloadResult<Arc<dyn TokenScheme>>,
    rng: &mut StdRng,
) -> WorkloadResult<Cluster> {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let plain = |nodes| Cluster {
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
            let first = RedisStore::connect(url)?.with_pool_size(REDIS_NODE_POOL);
            let prefix = first.prefix().to_owned();
            let mut stores = vec![first];
            for _ in 1..k {
                stores.push(
                    RedisStore::connect_with_prefix(url, &prefix)?
                        .with_pool_size(REDIS_NODE_POOL)
                        .with_cleanup_on_drop(false),
                );
            }
            plain(
                stores
                    .into_iter()
                    .map(|store| {
                        Arc::new(SessionScheme::new(
                            store,
                            SessionConfig::default(),
                            clock.clone(),
                        )) as Arc<dyn TokenScheme>
                    })
                    .collect(),
            )
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
            Cluster {
                nodes,
                window: Some(p),
                stagger: None,
                phase: Some(p),
            }
        }
        _ => return Err(broken(strategy, "not a Redis strategy")),
    })
}
