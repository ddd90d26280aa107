//! The Redis server (or cluster) as the workloads see it ([`ServerProbe`]): `PING` on a
//! fresh connection, and the server's own figures from `INFO cpu` and `INFO memory`,
//! summed over the primaries of a cluster.

use std::time::Duration;

use super::RedisStore;
use super::url::is_cluster_url;
use crate::store::{ServerProbe, StoreError, StoreResult, redact_url};

/// The Redis server of a `redis://` (or `redis+cluster://`) store.
pub struct RedisProbe {
    url: String,
    cluster: bool,
    /// A store used for `INFO` only (one connection, dialed on first use): it writes
    /// nothing, so it cleans nothing up.
    info: RedisStore,
}

impl RedisProbe {
    /// The server at `url`; connects nothing yet (a malformed URL is an error now).
    pub fn new(url: &str) -> StoreResult<Self> {
        let info = RedisStore::connect_lazy(url)?
            .with_pool_size(1)
            .with_cleanup_on_drop(false);
        Ok(Self {
            url: url.to_owned(),
            cluster: is_cluster_url(url),
            info,
        })
    }

    /// The text of `INFO <section>`; on a cluster, every primary's reply in turn.
    fn info(&self, section: &str) -> StoreResult<String> {
        self.info.server_info(section)
    }
}

impl std::fmt::Debug for RedisProbe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisProbe")
            .field("address", &self.address())
            .finish_non_exhaustive()
    }
}

impl ServerProbe for RedisProbe {
    fn server(&self) -> &'static str {
        if self.cluster {
            "Redis Cluster"
        } else {
            "Redis"
        }
    }

    fn address(&self) -> &str {
        self.info.url()
    }

    fn ping(&self, timeout: Duration) -> StoreResult<()> {
        let down = |e: &dyn std::fmt::Display| {
            StoreError::Unavailable(format!("redis {}: {e}", self.info.url()))
        };
        if self.cluster {
            // Every primary must answer (PING goes to all of them), within the store's
            // connect timeout.
            let store = RedisStore::connect(&self.url)?
                .with_pool_size(1)
                .with_cleanup_on_drop(false);
            return store
                .query_idempotent::<String>(&redis::cmd("PING"))
                .map(|_| ());
        }
        let client = redis::Client::open(self.url.as_str())
            .map_err(|e| down(&redact_url(&e.to_string())))?;
        let mut conn = client
            .get_connection_with_timeout(timeout)
            .map_err(|e| down(&e))?;
        conn.set_read_timeout(Some(timeout)).map_err(|e| down(&e))?;
        // A server still loading its data set answers PING with an error: not back yet.
        redis::cmd("PING")
            .query::<String>(&mut conn)
            .map(|_| ())
            .map_err(|e| down(&e))
    }

    /// `used_cpu_sys + used_cpu_user` of `INFO cpu`: every thread of the server, for every
    /// client; on a cluster, summed over the primaries.
    fn cpu_secs(&self) -> StoreResult<Option<f64>> {
        let text = self.info("cpu")?;
        let field = |name: &str| -> StoreResult<f64> {
            info_sum(&text, name)
                .ok_or_else(|| StoreError::Corrupt(format!("INFO cpu has no numeric {name}")))
        };
        Ok(Some(field("used_cpu_sys")? + field("used_cpu_user")?))
    }

    /// `total_commands_processed` of `INFO stats`; on a cluster, summed over the primaries.
    fn ops(&self) -> StoreResult<Option<u64>> {
        let text = self.info("stats")?;
        info_sum(&text, "total_commands_processed")
            .map(Some)
            .ok_or_else(|| {
                StoreError::Corrupt("INFO stats has no numeric total_commands_processed".into())
            })
    }

    /// `PING` on the probe's connection (the first one dials, untimed).
    fn round_trips(&self, n: usize) -> StoreResult<Vec<Duration>> {
        self.info.query_idempotent::<String>(&redis::cmd("PING"))?;
        (0..n)
            .map(|_| {
                let t0 = std::time::Instant::now();
                self.info.query_idempotent::<String>(&redis::cmd("PING"))?;
                Ok(t0.elapsed())
            })
            .collect()
    }

    /// `used_memory` of `INFO memory`; on a cluster, summed over the primaries.
    fn memory_bytes(&self) -> StoreResult<Option<u64>> {
        let text = self.info("memory")?;
        info_sum(&text, "used_memory")
            .map(Some)
            .ok_or_else(|| StoreError::Corrupt("INFO memory has no numeric used_memory".into()))
    }

    fn memory_method(&self) -> &'static str {
        "redis INFO used_memory delta over inserting N sessions, divided by N: includes the \
         expiry-table entry and hash-table growth, and whatever other clients did meanwhile"
    }

    fn record_bytes_method(&self) -> &'static str {
        "redis MEMORY USAGE of the session keys, averaged: key, binary record and per-key \
         overhead"
    }
}

/// The value of `field` in the text of an `INFO` reply (the first, on a cluster).
#[cfg(test)]
fn info_field<'a>(info: &'a str, field: &str) -> Option<&'a str> {
    info_fields(info, field).next()
}

/// Every value of `field` in `INFO` text: one per server (a cluster's text holds each
/// primary's reply).
fn info_fields<'a>(info: &'a str, field: &str) -> impl Iterator<Item = &'a str> {
    info.lines().filter_map(move |line| {
        line.strip_prefix(field)
            .and_then(|rest| rest.strip_prefix(':'))
            .map(str::trim)
    })
}

/// The sum of the numeric `field` over every server in `INFO` text; `None` when a value
/// is not a number or the field is absent.
fn info_sum<T: std::str::FromStr + std::iter::Sum>(info: &str, field: &str) -> Option<T> {
    let values: Option<Vec<T>> = info_fields(info, field).map(|v| v.parse().ok()).collect();
    values
        .filter(|v| !v.is_empty())
        .map(|v| v.into_iter().sum())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn info_fields_are_read_by_exact_name() {
        let text =
            "# CPU\r\nused_cpu_sys:1.500000\r\nused_cpu_sys_children:9.0\r\nused_cpu_user:0.25\r\n";
        assert_eq!(info_field(text, "used_cpu_sys"), Some("1.500000"));
        assert_eq!(info_field(text, "used_cpu_user"), Some("0.25"));
        assert_eq!(info_field(text, "used_cpu"), None);
        let text = "used_memory:1000\r\nused_memory_human:1000B\r\n";
        assert_eq!(info_field(text, "used_memory"), Some("1000"));
    }

    #[test]
    fn info_sums_a_field_over_every_server_of_a_cluster() {
        let one = "# Memory\r\nused_memory:1000\r\nused_memory_peak:5\r\n";
        assert_eq!(info_sum::<u64>(one, "used_memory"), Some(1000));
        let three = format!("{one}\n{one}\nused_memory:24\r\n");
        assert_eq!(info_sum::<u64>(&three, "used_memory"), Some(2024));
        let cpu = "used_cpu_sys:1.5\r\nused_cpu_sys:0.25\r\n";
        assert_eq!(info_sum::<f64>(cpu, "used_cpu_sys"), Some(1.75));
        // Absent, or not a number on one server: no figure rather than a partial one.
        assert_eq!(info_sum::<u64>(one, "used_cpu_sys"), None);
        assert_eq!(
            info_sum::<u64>("used_memory:1\r\nused_memory:x\r\n", "used_memory"),
            None
        );
    }

    #[test]
    fn a_probe_names_its_server_without_the_password() {
        let probe = RedisProbe::new("redis://alice:s3cr3tpw@127.0.0.1:1/").unwrap();
        assert_eq!(probe.address(), "redis://alice:***@127.0.0.1:1/0");
        assert_eq!(probe.server(), "Redis");
        let err = probe.ping(Duration::from_millis(200)).unwrap_err();
        assert!(probe.is_outage(&err), "{err}");
        assert!(!err.to_string().contains("s3cr3tpw"), "{err}");
        assert!(!format!("{probe:?}").contains("s3cr3tpw"));
    }
}
