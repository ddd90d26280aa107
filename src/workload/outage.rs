//! The networked store under test, as the workloads see it: its server's [`ServerProbe`].
//!
//! Every workload runs a networked store (Redis, Redis Cluster, PostgreSQL) beside the
//! embedded ones when `--store URL` names one. Its server is outside the process, so it can
//! fail: this module holds what the workloads share to fail closed and recover, whichever
//! store it is.
//!
//! - Measurement loops never retry: a lookup that fails is refused by the scheme
//!   ([`Rejection::StoreUnavailable`]) and counted in the results' `errors`.
//! - Setup steps (building a scheme, issuing the working set) that fail because the server
//!   is unreachable wait for it ([`Remote::retry`]): the pooled store dials again by itself
//!   once the server answers. After [`RECOVERY_WAIT`] without an answer the workload ends
//!   with an error that names the server, instead of hanging.
//! - Server-side figures come from the server itself, through the probe: its CPU
//!   ([`ServerProbe::cpu_secs`]) and memory ([`ServerProbe::memory_bytes`]).

use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::rngs::StdRng;

use super::{Settings, WorkloadError, WorkloadResult, claims};
use crate::claims::{ClaimSet, Claims};
use crate::scheme::spec::{SchemeSpec, StoreKind, StoreSpec};
use crate::scheme::{Rejection, SchemeError, TokenScheme};
use crate::store::{ServerProbe, StoreError};

/// How long a workload waits for an unreachable server to answer again before giving up.
pub const RECOVERY_WAIT: Duration = Duration::from_secs(10);

/// Setup attempts on an unreachable server (each after waiting for it) before giving up.
const SETUP_ATTEMPTS: usize = 3;

/// Pause between two reachability probes while waiting.
const PROBE_EVERY: Duration = Duration::from_millis(100);

/// Time one reachability probe may take (connect, then a ping).
const PROBE_TIMEOUT: Duration = Duration::from_millis(500);

/// Threads issuing a working set into a remote store (each issue is one round trip).
const ISSUE_THREADS: usize = 8;

/// The first store selected in `settings` whose kind `wanted` accepts (e.g. the first that
/// holds denylists, [`StoreKind::holds_denylists`]).
pub fn first_store(settings: &Settings, wanted: impl Fn(StoreKind) -> bool) -> Option<&StoreSpec> {
    settings.stores.iter().find(|s| wanted(s.kind()))
}

/// The failure inside `e`, if it is a store's.
fn store_error(e: &WorkloadError) -> Option<&StoreError> {
    match e {
        WorkloadError::Store(e) | WorkloadError::Scheme(SchemeError::Store(e)) => Some(e),
        _ => None,
    }
}

/// True when `e` means the store could not be reached (as opposed to a wrong answer).
pub fn is_unavailable(e: &WorkloadError) -> bool {
    matches!(store_error(e), Some(StoreError::Unavailable(_)))
        || matches!(
            e,
            WorkloadError::Scheme(SchemeError::NotRevocable(Rejection::StoreUnavailable(_)))
        )
}

/// The server behind a scheme (or nothing, for in-process schemes, where every method is a
/// no-op).
#[derive(Debug, Clone)]
pub struct Remote {
    probe: Option<Arc<dyn ServerProbe>>,
    wait: Duration,
}

impl Remote {
    /// Nothing remote: steps run once, errors pass through.
    pub fn none() -> Remote {
        Remote {
            probe: None,
            wait: RECOVERY_WAIT,
        }
    }

    /// The server of `spec`'s store, if remote (an error only for a malformed URL).
    pub fn for_spec(spec: &SchemeSpec) -> WorkloadResult<Remote> {
        match spec.store() {
            Some(store) => Remote::for_store(store),
            None => Ok(Remote::none()),
        }
    }

    /// The server of `store`, if remote.
    pub fn for_store(store: &StoreSpec) -> WorkloadResult<Remote> {
        Ok(Remote {
            probe: store.probe()?,
            wait: RECOVERY_WAIT,
        })
    }

    /// True for a remote store.
    pub fn is_remote(&self) -> bool {
        self.probe.is_some()
    }

    /// The server, if remote.
    pub fn probe(&self) -> Option<&Arc<dyn ServerProbe>> {
        self.probe.as_ref()
    }

    /// Whether the server answers now, on a fresh connection (true when not remote).
    pub fn reachable(&self) -> bool {
        self.probe
            .as_ref()
            .is_none_or(|p| p.ping(PROBE_TIMEOUT).is_ok())
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
        let Some(probe) = &self.probe else {
            return Ok(());
        };
        if self.await_back() {
            return Ok(());
        }
        Err(WorkloadError::StoreGone {
            server: probe.server(),
            url: probe.address().to_owned(),
            waited: self.wait,
            during: during.to_owned(),
            why: why.to_owned(),
        })
    }

    /// True when `e` is an outage of this server, worth waiting out.
    fn is_outage(&self, e: &WorkloadError) -> bool {
        match (&self.probe, store_error(e)) {
            (Some(probe), Some(store)) => probe.is_outage(store),
            (Some(_), None) => is_unavailable(e),
            (None, _) => false,
        }
    }

    /// Runs setup step `f`; when it fails because the server is unreachable, waits for it
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
                Err(e) if self.is_outage(&e) => {
                    attempts += 1;
                    if attempts >= SETUP_ATTEMPTS {
                        let probe = self.probe.as_ref();
                        return Err(WorkloadError::StoreFlapping {
                            server: probe.map_or("the store", |p| p.server()),
                            url: probe.map_or_else(|| "?".to_owned(), |p| p.address().to_owned()),
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
    /// Retried as a whole when the server is unreachable (see [`retry`](Self::retry)).
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
            let tokens = issue_parallel(&inputs, &|c| Ok(scheme.issue(c)?))?;
            if let Some(t) = tokens.first() {
                check_valid(scheme, t)?;
            }
            Ok(tokens)
        })
    }

    /// What the server keeps per login, `n` times: a session issued, or for a scheme with
    /// refresh tokens (the hybrid) a login, which starts a refresh family in its store (the
    /// refresh tokens are returned). From several threads on a networked store, retried as
    /// a whole like [`issue_many`](Self::issue_many).
    pub fn login_many(
        &self,
        scheme: &dyn TokenScheme,
        n: usize,
        set: ClaimSet,
        rng: &mut StdRng,
    ) -> WorkloadResult<Vec<String>> {
        let Some(r) = scheme.refreshing() else {
            return self.issue_many(scheme, n, set, rng);
        };
        let inputs: Vec<Claims> = (0..n).map(|_| claims(set, rng)).collect();
        self.retry("logging the working set in", || {
            issue_parallel(&inputs, &|c| Ok(r.login(c)?.refresh))
        })
    }
}

/// Issues one token per input with `issue` from up to [`ISSUE_THREADS`] threads, in input
/// order.
fn issue_parallel(
    inputs: &[Claims],
    issue: &(dyn Fn(&Claims) -> WorkloadResult<String> + Sync),
) -> WorkloadResult<Vec<String>> {
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
                        .map(issue)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_server_that_stays_down_is_named_without_its_password() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a spare port")
            .port();
        for (url, shown) in [
            (
                format!("redis://alice:s3cr3tpw@127.0.0.1:{port}/"),
                "Redis at redis://alice:***@127.0.0.1:",
            ),
            (
                format!("postgres://alice:s3cr3tpw@127.0.0.1:{port}/db"),
                "PostgreSQL at postgres://alice:***@127.0.0.1:",
            ),
        ] {
            let store: StoreSpec = url.parse().unwrap();
            let remote = Remote {
                wait: Duration::ZERO,
                ..Remote::for_store(&store).unwrap()
            };
            assert!(!remote.reachable());
            let err = remote.ensure_back("testing", "refused").unwrap_err();
            let text = err.to_string();
            assert!(text.starts_with(shown), "{text}");
            let err = remote
                .retry::<()>("setup", || {
                    Err(StoreError::Unavailable("down".into()).into())
                })
                .unwrap_err();
            let text = err.to_string();
            assert!(!text.contains("s3cr3tpw"), "{text}");
            assert!(text.contains("alice:***@127.0.0.1:"), "{text}");
        }
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
        assert!(!is_unavailable(&WorkloadError::Store(StoreError::Refused(
            "x".into()
        ))));
        let mut calls = 0;
        let r: WorkloadResult<()> = Remote::none().retry("x", || {
            calls += 1;
            Err(WorkloadError::Store(StoreError::Unavailable("x".into())))
        });
        assert!(r.is_err());
        assert_eq!(calls, 1, "nothing remote: no retry");
        // A refusal of a remote server is not waited out either.
        let remote = Remote::for_store(&"postgres://127.0.0.1:1/x".parse().unwrap()).unwrap();
        let mut calls = 0;
        let r: WorkloadResult<()> = remote.retry("x", || {
            calls += 1;
            Err(WorkloadError::Store(StoreError::Refused("x".into())))
        });
        assert!(r.is_err());
        assert_eq!(calls, 1, "refused: no retry");
    }

    #[test]
    fn the_first_store_of_a_kind_is_found() {
        let mut settings = Settings::defaults(true);
        settings.stores =
            StoreSpec::parse_list("memory,postgres://h/db,redis://a,redis://b").unwrap();
        let denylists = first_store(&settings, StoreKind::holds_denylists);
        assert_eq!(denylists.and_then(StoreSpec::url), Some("redis://a"));
        let pg = first_store(&settings, |k| k == StoreKind::Postgres);
        assert_eq!(pg.map(StoreSpec::kind), Some(StoreKind::Postgres));
        settings.stores = vec![StoreSpec::Memory];
        assert!(first_store(&settings, StoreKind::is_remote).is_none());
    }
}
