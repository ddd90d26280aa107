//! The Redis server under test, as the workloads see it.
//!
//! Every workload runs `session-redis` beside the embedded stores when `--store redis://...`
//! is given. Redis is outside the process, so it can fail: this module holds what the four
//! workloads share to fail closed and recover.
//!
//! - Measurement loops never retry: a lookup that fails is refused by the scheme
//!   ([`Rejection::StoreUnavailable`]) and counted in the results' `errors`.
//! - Setup steps (building a scheme, issuing the working set) that fail because Redis is
//!   unreachable wait for it ([`Remote::retry`]): the pooled store dials again by itself once
//!   the server answers. After [`RECOVERY_WAIT`] without an answer the workload ends with an
//!   error that names the server, instead of hanging.
//! - Server-side figures come from the server itself: `INFO cpu` ([`server_cpu_secs`]) and
//!   `INFO memory` ([`used_memory`]).

use std::time::{Duration, Instant};

use rand::rngs::StdRng;

use super::{Settings, WorkloadError, WorkloadResult, claims};
use crate::claims::{ClaimSet, Claims};
use crate::scheme::spec::{SchemeSpec, StoreSpec};
use crate::scheme::{Rejection, SchemeError, TokenScheme};
use crate::store::{RedisStore, StoreError, StoreResult, is_cluster_url, redact_url};

/// How long a workload waits for an unreachable Redis to answer again before giving up.
pub const RECOVERY_WAIT: Duration = Duration::from_secs(10);

/// Setup attempts on an unreachable Redis (each after waiting for it) before giving up.
const SETUP_ATTEMPTS: usize = 3;

/// Pause between two reachability probes while waiting.
const PROBE_EVERY: Duration = Duration::from_millis(100);

/// Time one reachability probe may take (connect, then `PING`).
const PROBE_TIMEOUT: Duration = Duration::from_millis(500);

/// Threads issuing a working set into a remote store (each issue is one round trip).
const ISSUE_THREADS: usize = 8;

/// The URL of the Redis store `spec` uses, if it uses one.
pub fn redis_url(spec: &SchemeSpec) -> Option<&str> {
    match spec {
        SchemeSpec::Session(StoreSpec::Redis(url)) => Some(url),
        _ => None,
    }
}

/// The first Redis store selected in `opts`, if any.
pub fn selected_redis(opts: &Settings) -> Option<&str> {
    opts.stores.iter().find_map(|s| match s {
        StoreSpec::Redis(url) => Some(url.as_str()),
        _ => None,
    })
}

/// True when `e` means the store could not be reached (as opposed to a wrong answer).
pub fn is_unavailable(e: &WorkloadError) -> bool {
    matches!(
        e,
        WorkloadError::Store(StoreError::Unavailable(_))
            | WorkloadError::Scheme(SchemeError::Store(StoreError::Unavailable(_)))
            | WorkloadError::Scheme(SchemeError::NotRevocable(Rejection::StoreUnavailable(_)))
    )
}

/// The Redis server behind a scheme (or nothing, for in-process schemes, where every method
/// is a no-op).
#[derive(Debug, Clone)]
pub struct Remote {
    url: Option<String>,
    wait: Duration,
}

impl Remote {
    /// Nothing remote: steps run once, errors pass through.
    pub fn none() -> Remote {
        Remote {
            url: None,
            wait: RECOVERY_WAIT,
        }
    }

    /// The server of `spec`'s store, if remote.
    pub fn for_spec(spec: &SchemeSpec) -> Remote {
        Remote {
            url: redis_url(spec).map(str::to_owned),
            wait: RECOVERY_WAIT,
        }
    }

    /// The server at `url`.
    pub fn for_url(url: &str) -> Remote {
        Remote {
            url: Some(url.to_owned()),
            wait: RECOVERY_WAIT,
        }
    }

    /// True for a remote store.
    pub fn is_remote(&self) -> bool {
        self.url.is_some()
    }

    /// The server's URL, if remote.
    pub fn url(&self) -> Option<&str> {
        self.url.as_deref()
    }

    /// Whether the server answers `PING` now, on a fresh connection (true when not remote).
    pub fn reachable(&self) -> bool {
        let Some(url) = &self.url else { return true };
        if is_cluster_url(url) {
            // Every primary must answer (PING goes to all of them), within the store's
            // connect timeout.
            return info_store(url)
                .and_then(|s| s.query_idempotent::<String>(&redis::cmd("PING")))
                .is_ok();
        }
        let Ok(client) = redis::Client::open(url.as_str()) else {
            return false;
        };
        let Ok(mut conn) = client.get_connection_with_timeout(PROBE_TIMEOUT) else {
            return false;
        };
        if conn.set_read_timeout(Some(PROBE_TIMEOUT)).is_err() {
            return false;
        }
        // A server still loading its data set answers PING with an error: not back yet.
        redis::cmd("PING").query::<String>(&mut conn).is_ok()
    }

    /// Waits until the server answers, at most [`RECOVERY_WAIT`]; true when it does.
    pub fn await_back(&self) -> bool {
        let deadline = Instant::now() + self.wait;
        loop {
            if self.reachable() {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(PROBE_EVERY);
        }
    }

    /// Returns once the server answers again, or an error naming it after [`RECOVERY_WAIT`]
    /// (`during`: what the workload was doing; `why`: the failure that made it look).
    pub fn ensure_back(&self, during: &str, why: &str) -> WorkloadResult<()> {
        let Some(url) = &self.url else { return Ok(()) };
        if self.await_back() {
            return Ok(());
        }
        Err(WorkloadError::StoreGone {
            url: redact_url(url),
            waited: self.wait,
            during: during.to_owned(),
            why: why.to_owned(),
        })
    }

    /// Runs setup step `f`; when it fails because Redis is unreachable, waits for the server
    /// and runs it again (up to 3 times), so a restart in the middle of a run costs a retry,
    /// not the run.
    pub fn retry<T>(
        &self,
        during: &str,
        mut f: impl FnMut() -> WorkloadResult<T>,
    ) -> WorkloadResult<T> {
        let mut attempts = 0;
        loop {
            match f() {
                Err(e) if self.is_remote() && is_unavailable(&e) => {
                    attempts += 1;
                    if attempts >= SETUP_ATTEMPTS {
                        return Err(WorkloadError::StoreFlapping {
                            url: self
                                .url
                                .as_deref()
                                .map_or_else(|| "?".to_owned(), redact_url),
                            during: during.to_owned(),
                            attempts,
                            why: e.to_string(),
                        });
                    }
                    self.ensure_back(during, &e.to_string())?;
                }
                other => return other,
            }
        }
    }

    /// Issues `n` tokens of claim set `set` (users drawn from `rng`, in order) and checks the
    /// first validates. Remote stores are filled from several threads, since each issue is
    /// a round trip; the inputs are the same as [`super::issue_many`]'s for the same `rng`.
    /// Retried as a whole when Redis is unreachable (see [`retry`](Self::retry)).
    pub fn issue_many(
        &self,
        scheme: &dyn TokenScheme,
        n: usize,
        set: ClaimSet,
        rng: &mut StdRng,
    ) -> WorkloadResult<Vec<String>> {
        if !self.is_remote() {
            return super::issue_many(scheme, n, set, rng);
        }
        let inputs: Vec<Claims> = (0..n).map(|_| claims(set, rng)).collect();
        self.retry("issuing the working set", || {
            let tokens = issue_parallel(scheme, &inputs)?;
            if let Some(t) = tokens.first() {
                check_valid(scheme, t)?;
            }
            Ok(tokens)
        })
    }
}

/// Issues one token per input from up to [`ISSUE_THREADS`] threads, in input order.
fn issue_parallel(scheme: &dyn TokenScheme, inputs: &[Claims]) -> WorkloadResult<Vec<String>> {
    if inputs.is_empty() {
        return Ok(Vec::new());
    }
    let chunk = inputs.len().div_ceil(ISSUE_THREADS.min(inputs.len()));
    let parts: Vec<WorkloadResult<Vec<String>>> = std::thread::scope(|s| {
        let handles: Vec<_> = inputs
            .chunks(chunk)
            .map(|part| {
                s.spawn(move || {
                    part.iter()
                        .map(|c| scheme.issue(c).map_err(WorkloadError::from))
                        .collect::<WorkloadResult<Vec<String>>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join().unwrap_or_else(|_| {
                    Err(WorkloadError::Other("an issuing thread panicked".into()))
                })
            })
            .collect()
    });
    let mut out = Vec::with_capacity(inputs.len());
    for part in parts {
        out.extend(part?);
    }
    Ok(out)
}

/// Like [`super::expect_valid`], but an unreachable store is reported as such (so that
/// [`Remote::retry`] can wait for it) rather than as a broken scheme.
pub fn check_valid(scheme: &dyn TokenScheme, token: &str) -> WorkloadResult<()> {
    match scheme.validate(token) {
        Ok(_) => Ok(()),
        Err(Rejection::StoreUnavailable(why)) => {
            Err(WorkloadError::Store(StoreError::Unavailable(why)))
        }
        Err(r) => Err(WorkloadError::Broken {
            scheme: scheme.name(),
            what: format!("a freshly issued token was refused: {r}"),
        }),
    }
}

/// A connection to the server for `INFO` only: it writes nothing, so it cleans nothing up.
pub fn info_store(url: &str) -> StoreResult<RedisStore> {
    Ok(RedisStore::connect(url)?
        .with_pool_size(1)
        .with_cleanup_on_drop(false))
}

/// The value of `field` in the text of an `INFO` reply (the first, on a cluster).
pub fn info_field<'a>(info: &'a str, field: &str) -> Option<&'a str> {
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

/// CPU time the server process has used so far (`used_cpu_sys + used_cpu_user` of
/// `INFO cpu`), in seconds: every thread of the server, for every client; on a cluster,
/// summed over the primaries.
pub fn server_cpu_secs(info: &RedisStore) -> StoreResult<f64> {
    let text = info.server_info("cpu")?;
    let field = |name: &str| -> StoreResult<f64> {
        info_sum(&text, name)
            .ok_or_else(|| StoreError::Corrupt(format!("INFO cpu has no numeric {name}")))
    };
    Ok(field("used_cpu_sys")? + field("used_cpu_user")?)
}

/// Bytes the server's allocator holds (`used_memory` of `INFO memory`); on a cluster,
/// summed over the primaries.
pub fn used_memory(info: &RedisStore) -> StoreResult<u64> {
    let text = info.server_info("memory")?;
    info_sum(&text, "used_memory")
        .ok_or_else(|| StoreError::Corrupt("INFO memory has no numeric used_memory".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_server_that_stays_down_is_named_without_its_password() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a spare port")
            .port();
        let remote = Remote {
            url: Some(format!("redis://alice:s3cr3tpw@127.0.0.1:{port}/")),
            wait: Duration::ZERO,
        };
        let err = remote.ensure_back("testing", "refused").unwrap_err();
        let text = err.to_string();
        assert!(
            text.starts_with("Redis at redis://alice:***@127.0.0.1:"),
            "{text}"
        );
        let err = remote
            .retry::<()>("setup", || {
                Err(StoreError::Unavailable("down".into()).into())
            })
            .unwrap_err();
        let text = err.to_string();
        assert!(!text.contains("s3cr3tpw"), "{text}");
        assert!(text.contains("alice:***@127.0.0.1:"), "{text}");
    }

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
    fn only_unreachable_stores_are_retried() {
        let down = WorkloadError::Store(StoreError::Unavailable("x".into()));
        assert!(is_unavailable(&down));
        assert!(is_unavailable(&WorkloadError::Scheme(SchemeError::Store(
            StoreError::Unavailable("x".into())
        ))));
        assert!(!is_unavailable(&WorkloadError::Store(StoreError::Corrupt(
            "x".into()
        ))));
        let mut calls = 0;
        let r: WorkloadResult<()> = Remote::none().retry("x", || {
            calls += 1;
            Err(WorkloadError::Store(StoreError::Unavailable("x".into())))
        });
        assert!(r.is_err());
        assert_eq!(calls, 1, "nothing remote: no retry");
    }
}
