//! The hybrid schemes' refresh flow, measured beside the revocation strategies: the cost of
//! one refresh and of one access validate (interleaved rounds), the refresh amortised per
//! request at a stated request rate per user, the revocation window (the access lifetime
//! without a denylist), family revocation across two nodes, and the refresh race: how
//! often a legitimate retry trips reuse detection at each grace interval.
//!
//! A race trial is a login, a refresh whose answer the client loses, and the client's
//! retry of the same refresh token after a delay: 0 means at the same moment, from a
//! second thread (two nodes), on the real clock; the longer delays advance the scheme's
//! clock by the delay instead of sleeping (the store applies the grace to the times it is
//! given). Each trial runs on the store itself, so a store that rotated twice or lost a
//! family would show here.

use std::sync::{Arc, Barrier};
use std::time::Duration;

use super::RevokeParams;
use crate::claims::ClaimSet;
use crate::clock::{Clock, ManualClock, SystemClock};
use crate::measure::rounds::{self, Op};
use crate::measure::stats::Summary;
use crate::results::schema::revoke::{HybridResult, RaceRow};
use crate::scheme::spec::{Family, SchemeSpec};
use crate::scheme::{
    RefreshScheme, Refreshed, Rejection, RevocationStrategy, SessionConfig, TokenPair, TokenScheme,
};
use crate::workload::outage::Remote;
use crate::workload::{Progress, Settings, WorkloadError, WorkloadResult, build, claims};

/// The random stream of the hybrid's inputs (beside the strategies' own).
const HYBRID_STREAM: u64 = 0x200;

/// Grace intervals of the race table, in milliseconds.
pub const RACE_GRACES_MS: [u64; 4] = [0, 100, 1_000, 5_000];

/// Retry delays of the race table, in milliseconds (0: concurrent, from a second node).
pub const RACE_RETRIES_MS: [u64; 4] = [0, 50, 500, 2_000];

/// Runs the hybrid part of the revoke workload for every hybrid in `settings`.
pub fn run(
    settings: &Settings,
    p: &RevokeParams,
    progress: &dyn Progress,
) -> WorkloadResult<Vec<HybridResult>> {
    let hybrids: Vec<SchemeSpec> = settings
        .schemes()
        .into_iter()
        .filter(|s| s.family() == Family::Hybrid)
        .collect();
    if hybrids.is_empty() {
        return Ok(Vec::new());
    }
    progress.start("revoke: hybrid", hybrids.len() as u64);
    let mut out = Vec::with_capacity(hybrids.len());
    for spec in &hybrids {
        let remote = match spec.refresh_store() {
            Some(store) => Remote::for_store(store)?,
            None => Remote::none(),
        };
        out.push(remote.retry(&format!("revoke {spec}: refresh"), || {
            one(spec, settings, p)
        })?);
        progress.step(&spec.to_string());
    }
    progress.finish();
    Ok(out)
}

/// A hybrid built for `settings`, with `grace` and `clock`.
fn hybrid(
    spec: &SchemeSpec,
    settings: &Settings,
    grace: Duration,
    clock: Arc<dyn Clock>,
) -> WorkloadResult<Arc<dyn TokenScheme>> {
    let mut s = settings.clone();
    s.reuse_grace = grace;
    build(
        spec,
        &s,
        SessionConfig::default(),
        RevocationStrategy::None,
        clock,
    )
}

fn flow(scheme: &dyn TokenScheme) -> WorkloadResult<&dyn RefreshScheme> {
    scheme.refreshing().ok_or_else(|| WorkloadError::Broken {
        scheme: scheme.name(),
        what: "a hybrid without a refresh flow".into(),
    })
}

fn one(spec: &SchemeSpec, settings: &Settings, p: &RevokeParams) -> WorkloadResult<HybridResult> {
    let mut rng = settings.rng(super::RNG_STREAM + HYBRID_STREAM);
    let scheme = hybrid(spec, settings, settings.reuse_grace, Arc::new(SystemClock))?;
    let refresher = flow(scheme.as_ref())?;
    let user = claims(ClaimSet::Typical, &mut rng);
    let first = refresher.login(&user)?;
    let access = first.access.clone();
    let mut current = first.refresh.clone();
    let mut errors = 0u64;
    let measured = {
        let mut ops: Vec<Op<'_>> = vec![
            Box::new(|| {
                let _ = std::hint::black_box(scheme.validate(&access));
            }),
            Box::new(|| match refresher.refresh(&current) {
                Ok(r) => current = r.into_pair().refresh,
                Err(_) => {
                    // A failed refresh (store unreachable) is counted; a fresh login goes on.
                    errors += 1;
                    if let Ok(pair) = refresher.login(&user) {
                        current = pair.refresh;
                    }
                }
            }),
        ];
        let rounds = if settings.quick {
            rounds::QUICK_ROUNDS
        } else {
            rounds::FULL_ROUNDS
        };
        rounds::interleaved(settings.budget, rounds, &mut ops)
    };
    let [validate, refresh] = <[_; 2]>::try_from(measured).map_err(|_| WorkloadError::Broken {
        scheme: spec.to_string(),
        what: "interleaved rounds lost an operation".into(),
    })?;
    if scheme.validate(&access).is_err() {
        errors += 1;
    }

    let lifetime = settings.access_lifetime.as_secs_f64();
    let rate = settings.requests_per_user;
    let refreshes_per_request = if lifetime * rate > 0.0 {
        1.0 / (lifetime * rate)
    } else {
        0.0
    };

    // Logout on one node, refresh on another over the same store.
    let second = hybrid(spec, settings, settings.reuse_grace, Arc::new(SystemClock))?;
    let (mut trials, mut refused) = (0, 0);
    // From the start of the logout to the other node's refusal of the family's refresh
    // token (the logout's store round trip, then the refresh's), per refused trial.
    let mut latencies_ns: Vec<f64> = Vec::with_capacity(p.trials);
    let other = if spec.refresh_store().is_some_and(|s| s.is_remote()) {
        flow(second.as_ref())?
    } else {
        // An in-process store is one node's: the second node is the same scheme.
        refresher
    };
    for _ in 0..p.trials {
        let pair = refresher.login(&user)?;
        let start = std::time::Instant::now();
        refresher.logout(&pair.refresh, Some(&pair.access))?;
        trials += 1;
        if other.refresh(&pair.refresh).is_err() {
            latencies_ns.push(start.elapsed().as_nanos() as f64);
            refused += 1;
        }
    }

    let mut race = Vec::new();
    for grace_ms in RACE_GRACES_MS {
        let clock = Arc::new(ManualClock::starting_now());
        let racer = hybrid(
            spec,
            settings,
            Duration::from_millis(grace_ms),
            clock.clone(),
        )?;
        let racer = flow(racer.as_ref())?;
        for retry_after_ms in RACE_RETRIES_MS {
            race.push(race_row(
                racer,
                &clock,
                &user,
                grace_ms,
                retry_after_ms,
                p.trials,
            )?);
        }
    }

    Ok(HybridResult {
        scheme: spec.id(),
        access_lifetime_s: lifetime,
        access_revocation: RevocationStrategy::None.name(),
        revocation_window_s: lifetime,
        access_token_bytes: first.access.len(),
        refresh_token_bytes: first.refresh.len(),
        refresh_ns_per_request: refresh.median() * refreshes_per_request,
        validate,
        refresh,
        requests_per_user_per_s: rate,
        refreshes_per_request,
        store_ops_per_request: refreshes_per_request,
        family_revocation_trials: trials,
        family_revocation_refused: refused,
        family_revocation_latency: Summary::from_samples(&latencies_ns),
        errors,
        race,
    })
}

/// `trials` race trials at one grace and retry delay (see the module docs).
fn race_row(
    racer: &dyn RefreshScheme,
    clock: &ManualClock,
    user: &crate::claims::Claims,
    grace_ms: u64,
    retry_after_ms: u64,
    trials: usize,
) -> WorkloadResult<RaceRow> {
    let mut row = RaceRow {
        grace_ms: grace_ms as f64,
        retry_after_ms: retry_after_ms as f64,
        trials,
        tripped: 0,
        same_successor: 0,
        two_successors: 0,
    };
    for _ in 0..trials {
        let pair = racer.login(user)?;
        let (lost, retry) = if retry_after_ms == 0 {
            let barrier = Barrier::new(2);
            let both: Vec<Result<Refreshed, Rejection>> = std::thread::scope(|scope| {
                let handles: Vec<_> = (0..2)
                    .map(|_| {
                        let (barrier, token) = (&barrier, &pair.refresh);
                        scope.spawn(move || {
                            barrier.wait();
                            racer.refresh(token)
                        })
                    })
                    .collect();
                handles
                    .into_iter()
                    .map(|h| {
                        h.join()
                            .unwrap_or_else(|_| Err(Rejection::StoreUnavailable("panic".into())))
                    })
                    .collect()
            });
            let mut both = both.into_iter();
            match (both.next(), both.next()) {
                (Some(a), Some(b)) => (a, b),
                _ => continue,
            }
        } else {
            let lost = racer.refresh(&pair.refresh);
            clock.advance(Duration::from_millis(retry_after_ms));
            (lost, racer.refresh(&pair.refresh))
        };
        classify(&mut row, lost, retry, racer)?;
    }
    Ok(row)
}

/// Counts one trial: tripped when either answer is a detected reuse; the same successor
/// when both carry one refresh token; two successors when both rotated to different live
/// tokens (which must never happen).
fn classify(
    row: &mut RaceRow,
    a: Result<Refreshed, Rejection>,
    b: Result<Refreshed, Rejection>,
    racer: &dyn RefreshScheme,
) -> WorkloadResult<()> {
    // A store that failed is an outage for `Remote::retry` to wait out, not a figure.
    for r in [&a, &b] {
        if let Err(Rejection::StoreUnavailable(why)) = r {
            return Err(crate::store::StoreError::Unavailable(why.clone()).into());
        }
    }
    match (a, b) {
        (Ok(x), Ok(y)) => {
            let (x, y): (TokenPair, TokenPair) = (x.into_pair(), y.into_pair());
            if x.refresh == y.refresh {
                row.same_successor += 1;
            } else if racer.refresh(&x.refresh).is_ok() && racer.refresh(&y.refresh).is_ok() {
                row.two_successors += 1;
            }
        }
        (Err(Rejection::Revoked), _) | (_, Err(Rejection::Revoked)) => row.tripped += 1,
        _ => {}
    }
    Ok(())
}
