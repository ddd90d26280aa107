//! The revocation strategies the workload compares, as data: names, families, baselines,
//! and the refusal each must end with. The live nodes a strategy builds are in `nodes`.

use crate::scheme::Rejection;
use crate::workload::Family;

/// The six ways of revoking, in report order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Strategy {
    /// Sessions in one central store, looked up on every request.
    SessionCentral,
    /// Sessions behind a per-node cache of lifetime T.
    SessionCache,
    /// JWTs without revocation: valid until `exp`.
    JwtExpiryOnly,
    /// JWTs checked against one shared denylist on every request.
    JwtDenylistCentral,
    /// JWTs checked against per-node denylist copies kept in sync by push.
    JwtDenylistPushed,
    /// JWTs checked against per-node denylist copies refreshed by polling every P.
    JwtDenylistPolled,
    /// Sessions in Redis, looked up on every request by every node.
    SessionCentralRedis,
    /// JWTs checked against one denylist in Redis on every request.
    JwtDenylistCentralRedis,
    /// JWTs checked against per-node copies fed by Redis pub/sub.
    JwtDenylistPushedRedis,
    /// JWTs checked against per-node copies refreshed from Redis every P.
    JwtDenylistPolledRedis,
}

impl Strategy {
    /// The in-process strategies, in report order: run whatever the stores (see [`Strategy::EVERY`]).
    pub const ALL: [Strategy; 6] = [
        Strategy::SessionCentral,
        Strategy::SessionCache,
        Strategy::JwtExpiryOnly,
        Strategy::JwtDenylistCentral,
        Strategy::JwtDenylistPushed,
        Strategy::JwtDenylistPolled,
    ];

    /// The strategies whose shared state is on a Redis server, in report order; run when
    /// a Redis store is selected.
    pub const REDIS: [Strategy; 4] = [
        Strategy::SessionCentralRedis,
        Strategy::JwtDenylistCentralRedis,
        Strategy::JwtDenylistPushedRedis,
        Strategy::JwtDenylistPolledRedis,
    ];

    /// Every strategy, in-process and Redis, in report order (sessions first).
    pub const EVERY: [Strategy; 10] = [
        Strategy::SessionCentral,
        Strategy::SessionCache,
        Strategy::SessionCentralRedis,
        Strategy::JwtExpiryOnly,
        Strategy::JwtDenylistCentral,
        Strategy::JwtDenylistPushed,
        Strategy::JwtDenylistPolled,
        Strategy::JwtDenylistCentralRedis,
        Strategy::JwtDenylistPushedRedis,
        Strategy::JwtDenylistPolledRedis,
    ];

    /// True when the strategy's shared state is on a Redis server.
    pub fn is_redis(self) -> bool {
        Strategy::REDIS.contains(&self)
    }

    /// Name in results.
    pub fn name(self) -> &'static str {
        match self {
            Strategy::SessionCentral => "session-central",
            Strategy::SessionCache => "session-cache",
            Strategy::JwtExpiryOnly => "jwt-expiry-only",
            Strategy::JwtDenylistCentral => "jwt-denylist-central",
            Strategy::JwtDenylistPushed => "jwt-denylist-pushed",
            Strategy::JwtDenylistPolled => "jwt-denylist-polled",
            Strategy::SessionCentralRedis => "session-central-redis",
            Strategy::JwtDenylistCentralRedis => "jwt-denylist-central-redis",
            Strategy::JwtDenylistPushedRedis => "jwt-denylist-pushed-redis",
            Strategy::JwtDenylistPolledRedis => "jwt-denylist-polled-redis",
        }
    }

    /// Token family.
    pub fn family(self) -> Family {
        match self {
            Strategy::SessionCentral | Strategy::SessionCache | Strategy::SessionCentralRedis => {
                Family::Session
            }
            _ => Family::Jwt,
        }
    }

    /// The strategy whose per-request cost the others of its family are compared with.
    pub fn baseline(self) -> Strategy {
        match self.family() {
            Family::Session => Strategy::SessionCentral,
            Family::Jwt => Strategy::JwtExpiryOnly,
        }
    }

    /// The refusal a node must give once the revocation has reached it.
    pub(super) fn expected(self, r: &Rejection) -> bool {
        match self {
            Strategy::SessionCentral | Strategy::SessionCache | Strategy::SessionCentralRedis => {
                *r == Rejection::UnknownSession
            }
            Strategy::JwtExpiryOnly => *r == Rejection::Expired,
            _ => *r == Rejection::Revoked,
        }
    }
}
