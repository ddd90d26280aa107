//! What a Redis Cluster changes for a [`RedisStore`]: the keyspace is the union of the
//! primaries' (so scans visit each one), and `rename` crosses hash slots.

use redis::cluster_routing::{RoutingInfo, SingleNodeRoutingInfo};
use redis::{FromRedisValue, Value};

use super::pool::Conn;
use super::{RedisStore, SCAN_COUNT, glob_escape, pxat};
use crate::store::record::{decode, encode};
use crate::store::{SessionRecord, StoreError, StoreResult};

impl RedisStore {
    /// `host:port` of every primary of the cluster (`CLUSTER SLOTS`); a single server has
    /// no such command.
    fn primaries(&self) -> StoreResult<Vec<(String, u16)>> {
        let corrupt = |what: &str| StoreError::Corrupt(format!("CLUSTER SLOTS: {what}"));
        let ranges: Vec<Vec<Value>> = self.query_idempotent(redis::cmd("CLUSTER").arg("SLOTS"))?;
        let mut nodes = Vec::new();
        for range in ranges {
            let Some(Value::Array(primary)) = range.get(2) else {
                return Err(corrupt("a slot range without a primary"));
            };
            let (Some(host), Some(port)) = (primary.first(), primary.get(1)) else {
                return Err(corrupt("a primary without host and port"));
            };
            let node = (
                String::from_redis_value_ref(host).map_err(|e| corrupt(&e.to_string()))?,
                u16::from_redis_value_ref(port).map_err(|e| corrupt(&e.to_string()))?,
            );
            if !nodes.contains(&node) {
                nodes.push(node);
            }
        }
        if nodes.is_empty() {
            return Err(corrupt("no slot is served"));
        }
        Ok(nodes)
    }

    /// Calls `each` with every batch of keys under the prefix (`SCAN MATCH <prefix>*`).
    /// A key may appear twice if Redis rehashes during the scan.
    pub(crate) fn scan_keys(
        &self,
        mut each: impl FnMut(&[String]) -> StoreResult<()>,
    ) -> StoreResult<()> {
        let pattern = format!("{}*", glob_escape(&self.prefix));
        // A cluster's keyspace is the union of its primaries': SCAN each one.
        let nodes: Vec<Option<(String, u16)>> = if self.is_cluster() {
            self.primaries()?.into_iter().map(Some).collect()
        } else {
            vec![None]
        };
        for node in nodes {
            let mut cursor: u64 = 0;
            loop {
                let mut scan = redis::cmd("SCAN");
                scan.arg(cursor)
                    .arg("MATCH")
                    .arg(&pattern)
                    .arg("COUNT")
                    .arg(SCAN_COUNT);
                let (next, keys): (u64, Vec<String>) =
                    self.pool.with_conn(true, |c| match (c, &node) {
                        (Conn::Cluster(c), Some((host, port))) => {
                            let at = SingleNodeRoutingInfo::ByAddress {
                                host: host.clone(),
                                port: *port,
                            };
                            let reply = c.route_command(&scan, RoutingInfo::SingleNode(at))?;
                            Ok(FromRedisValue::from_redis_value(reply)?)
                        }
                        (c, _) => scan.query(c),
                    })?;
                if !keys.is_empty() {
                    each(&keys)?;
                }
                if next == 0 {
                    break;
                }
                cursor = next;
            }
        }
        Ok(())
    }

    /// `rename` on a cluster, where the two keys hash to different slots, so no script or
    /// transaction can hold both (`CROSSSLOT`). `GETDEL old` takes the latest record and
    /// kills the old ID in one step (a concurrent touch either lands before it or finds
    /// nothing); then `SET new`. Between the two the session exists under neither ID: the
    /// old one is already refused and the new one is not handed out yet. If the `SET`
    /// fails the session is gone and the caller gets the error (fail closed: log in again).
    pub(super) fn rename_across_slots(
        &self,
        old: &str,
        old_key: &str,
        new_key: &str,
        update: &dyn Fn(&mut SessionRecord),
    ) -> StoreResult<bool> {
        let taken: Option<Vec<u8>> = self.query(redis::cmd("GETDEL").arg(old_key))?;
        let Some(bytes) = taken else {
            return Ok(false);
        };
        let mut record = decode(old, &bytes)?;
        update(&mut record);
        self.query::<()>(
            redis::cmd("SET")
                .arg(new_key)
                .arg(encode(&record))
                .arg("PXAT")
                .arg(pxat(record.absolute_deadline_ms)),
        )?;
        Ok(true)
    }
}
