//! The records of one site (`tokenbench serve --site NAME`), shared by all its nodes: a
//! namespace derived from the site's name, never a random one, so every node started with
//! the same name and store reads and writes the same records. Nodes never delete them;
//! whoever created the site removes them at the end ([`remove_redis`],
//! [`remove_postgres`]), exactly those and nothing else.
//!
//! | store | namespace of site `NAME` |
//! |---|---|
//! | Redis, Redis Cluster | keys `tokenbench:site:NAME:session:<id>` (sessions), `tokenbench:site:NAME:session:rf:<family>` (a hybrid's refresh families), `tokenbench:site:NAME:denylist:<jti>` (the denylist, and its pub/sub channel `tokenbench:site:NAME:denylist:revoked`) |
//! | PostgreSQL | table `tokenbench_site_NAME` (sessions, and a hybrid's families as rows `rf:<family>`) |

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::{PostgresStore, RedisStore, StoreResult};

/// Longest site name.
pub const MAX_SITE_NAME: usize = 32;

/// A site's name: 1 to [`MAX_SITE_NAME`] characters of `[a-z0-9_-]`, starting with a letter
/// or digit, so that every namespace derived from it is a plain key prefix or table name
/// and no name's namespace contains another's.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct SiteName(String);

impl SiteName {
    /// The name as given.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Every Redis key of the site starts with this: `tokenbench:site:NAME:`.
    pub fn redis_prefix(&self) -> String {
        format!("tokenbench:site:{}:", self.0)
    }

    /// The prefix of the site's session keys in Redis.
    pub fn session_prefix(&self) -> String {
        format!("{}session:", self.redis_prefix())
    }

    /// The prefix of the site's denylist entries in Redis (its pub/sub channel is this
    /// prefix followed by `revoked`).
    pub fn denylist_prefix(&self) -> String {
        format!("{}denylist:", self.redis_prefix())
    }

    /// The site's PostgreSQL table: `tokenbench_site_NAME`.
    pub fn postgres_table(&self) -> String {
        format!("tokenbench_site_{}", self.0)
    }
}

impl FromStr for SiteName {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let ok = !s.is_empty()
            && s.len() <= MAX_SITE_NAME
            && s.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
        if ok {
            Ok(SiteName(s.to_owned()))
        } else {
            Err(format!(
                "site name {s:?}: expected 1 to {MAX_SITE_NAME} characters of [a-z0-9_-], \
                 starting with a letter or digit"
            ))
        }
    }
}

impl TryFrom<String> for SiteName {
    type Error = String;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<SiteName> for String {
    fn from(n: SiteName) -> String {
        n.0
    }
}

impl fmt::Display for SiteName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(&self.0)
    }
}

/// Deletes every key of site `name` on the Redis server (or Redis Cluster) at `url`
/// (`SCAN` + `DEL` of `tokenbench:site:NAME:*`, on every primary of a cluster); returns
/// how many were deleted.
pub fn remove_redis(url: &str, name: &SiteName) -> StoreResult<u64> {
    let store =
        RedisStore::connect_with_prefix(url, &name.redis_prefix())?.with_cleanup_on_drop(false);
    Ok(store.cleanup()? as u64)
}

/// Drops site `name`'s table on the PostgreSQL server at `url`, if there is one; returns
/// how many rows it held.
pub fn remove_postgres(url: &str, name: &SiteName) -> StoreResult<u64> {
    PostgresStore::drop_table(url, &name.postgres_table())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_short_plain_and_give_disjoint_namespaces() {
        let a: SiteName = "node-run_1".parse().unwrap();
        assert_eq!(a.redis_prefix(), "tokenbench:site:node-run_1:");
        assert_eq!(a.session_prefix(), "tokenbench:site:node-run_1:session:");
        assert_eq!(a.denylist_prefix(), "tokenbench:site:node-run_1:denylist:");
        assert_eq!(a.postgres_table(), "tokenbench_site_node-run_1");
        for bad in [
            "",
            "A",
            "a:b",
            "a*",
            "-a",
            "_a",
            "a b",
            "é",
            &"a".repeat(33),
        ] {
            assert!(bad.parse::<SiteName>().is_err(), "{bad:?}");
        }
        // No name's Redis keys fall under another's pattern (names never contain ':').
        let b: SiteName = "node".parse().unwrap();
        assert!(!a.redis_prefix().starts_with(&b.redis_prefix()));
        assert_eq!(serde_json::to_string(&b).unwrap(), "\"node\"");
        assert!(serde_json::from_str::<SiteName>("\"a:b\"").is_err());
    }
}
