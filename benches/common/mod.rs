//! Setup shared by the criterion benches: the schemes under test, pre-issued tokens, the
//! criterion configuration and the checks that make sure a bench measures what it claims.
//!
//! Included from each bench with `#[path = "common/mod.rs"] mod common;`. Not every bench
//! uses every helper, hence the `dead_code` allowance.
#![allow(dead_code)]

use std::sync::{Arc, Barrier, OnceLock};
use std::time::{Duration, Instant};

use criterion::Criterion;
use tokenbench::claims::{ClaimSet, Claims};
use tokenbench::clock::{Clock, SystemClock};
use tokenbench::scheme::jwt::JwtKeys;
use tokenbench::scheme::spec::{BuildOptions, Family, SchemeId, SchemeSpec};
use tokenbench::scheme::{
    JwtAlg, JwtConfig, JwtScheme, Principal, Rejection, RevocationStrategy, SessionConfig,
    SessionScheme, TokenScheme,
};
use tokenbench::store::{MemoryStore, RwLockStore};
use tokenbench::workload::Settings;

/// Sessions held by a session store while it is benchmarked (besides the token under test),
/// so lookups hit a map of realistic size rather than a one-entry map.
pub const BACKGROUND_SESSIONS: usize = 10_000;

/// Criterion settings for every bench: modest, so that a full `cargo bench` on a shared
/// two-core machine stays within about ten minutes. Command-line flags still override them.
///
/// HTML plots are off by default: rendering them costs more than measuring (about 4 s per
/// benchmark with the plotters backend). Estimates are still written under
/// `target/criterion/`; add `-- --plotting-backend plotters` to get the HTML report.
pub fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3))
        .sample_size(30)
        .without_plots()
}

/// The real clock, as the CLI uses it: reading it is part of every validate.
pub fn clock() -> Arc<dyn Clock> {
    Arc::new(SystemClock)
}

/// One key pair per algorithm for the whole bench process (RSA generation is slow).
pub fn keys(alg: JwtAlg) -> Arc<JwtKeys> {
    static KEYS: OnceLock<Vec<Arc<JwtKeys>>> = OnceLock::new();
    let all = KEYS.get_or_init(|| {
        JwtAlg::ALL
            .into_iter()
            .map(|a| Arc::new(JwtKeys::generate(a).expect("JWT key generation")))
            .collect()
    });
    let i = JwtAlg::ALL
        .iter()
        .position(|a| *a == alg)
        .expect("JwtAlg::ALL lists every algorithm");
    Arc::clone(&all[i])
}

/// A JWT scheme with the default configuration and the shared keys of `alg`.
pub fn jwt(alg: JwtAlg, revocation: RevocationStrategy) -> JwtScheme {
    JwtScheme::with_keys(keys(alg), JwtConfig::default(), revocation, clock())
}

/// A session scheme on the embedded DashMap store.
pub fn session_memory(config: SessionConfig) -> SessionScheme<MemoryStore> {
    SessionScheme::new(MemoryStore::new(), config, clock())
}

/// A session scheme on the single-lock baseline store.
pub fn session_rwlock(config: SessionConfig) -> SessionScheme<RwLockStore> {
    SessionScheme::new(RwLockStore::new(), config, clock())
}

/// A scheme under test, with the identity results give it (`session-memory`, `jwt-RS256`,
/// ...): its family decides the benches whose setup differs between them.
pub struct Subject {
    pub name: String,
    pub id: SchemeId,
    /// What it was built from.
    pub spec: SchemeSpec,
    pub scheme: Arc<dyn TokenScheme>,
}

impl Subject {
    fn new(spec: SchemeSpec, scheme: Arc<dyn TokenScheme>) -> Self {
        Self {
            name: spec.name(),
            id: spec.id(),
            spec,
            scheme,
        }
    }

    /// The family of the scheme.
    pub fn family(&self) -> Family {
        self.id.family()
    }
}

/// The session configuration the CLI measures with: defaults, but a fixed idle deadline
/// (no sliding), so a validate is a lookup only. Sliding expiry is measured on its own in
/// `revocation_check_cost`.
pub fn fixed_sessions() -> SessionConfig {
    SessionConfig {
        sliding: false,
        ..SessionConfig::default()
    }
}

/// Every scheme the CLI measures by default (`Options::schemes` of a full run: sessions on
/// the embedded stores, then JWT with every algorithm), the sessions with
/// [`fixed_sessions`] and `background` sessions each, the JWTs with `revocation()` and the
/// process's shared keys.
pub fn subjects(background: usize, revocation: impl Fn() -> RevocationStrategy) -> Vec<Subject> {
    Settings::defaults(false)
        .schemes()
        .into_iter()
        .map(|spec| {
            let scheme: Arc<dyn TokenScheme> = match (spec.alg(), spec.store()) {
                // JWTs share the process's keys: RSA key generation is slow.
                (Some(alg), _) => Arc::new(jwt(alg, revocation())),
                (None, Some(_)) => {
                    let options = BuildOptions {
                        session: fixed_sessions(),
                        ..BuildOptions::default()
                    };
                    let scheme = spec.build(options, clock()).expect("an embedded store");
                    issue_many(scheme.as_ref(), ClaimSet::Typical, background);
                    scheme
                }
                (None, None) => {
                    let options = BuildOptions {
                        revocation: revocation(),
                        ..BuildOptions::default()
                    };
                    spec.build(options, clock()).expect("key generation")
                }
            };
            Subject::new(spec, scheme)
        })
        .collect()
}

/// The claims of `set` for a fixed bench user.
pub fn claims(set: ClaimSet) -> Claims {
    set.claims("bench-user-0001")
}

/// The user id of the `i`-th token of [`issue_many`].
pub fn user(i: usize) -> String {
    format!("bench-user-{i:07}")
}

/// Issues `n` tokens carrying `set`'s claims for users `user(0)`, `user(1)`, ..., checking
/// each issue succeeds.
pub fn issue_many(scheme: &dyn TokenScheme, set: ClaimSet, n: usize) -> Vec<String> {
    (0..n)
        .map(|i| {
            scheme
                .issue(&set.claims(&user(i)))
                .unwrap_or_else(|e| panic!("{}: issue failed: {e}", scheme.name()))
        })
        .collect()
}

/// True when `p` carries exactly `claims` (works whether the principal owns or shares them).
pub fn same_claims(p: &Principal, claims: &Claims) -> bool {
    p.claims.user_id == claims.user_id
        && p.claims.roles == claims.roles
        && p.claims.profile == claims.profile
}

/// Panics unless `token` validates to `claims`: run before timing a hit path.
pub fn assert_valid(scheme: &dyn TokenScheme, token: &str, claims: &Claims) {
    match scheme.validate(token) {
        Ok(p) => assert!(
            same_claims(&p, claims),
            "{}: validate returned other claims",
            scheme.name()
        ),
        Err(e) => panic!("{}: a valid token was rejected: {e}", scheme.name()),
    }
}

/// Panics unless `token` is rejected with exactly `expected`: run before timing a reject path.
pub fn assert_rejected(scheme: &dyn TokenScheme, token: &str, expected: &Rejection) {
    match scheme.validate(token) {
        Ok(_) => panic!("{}: a bad token was accepted", scheme.name()),
        Err(e) => assert_eq!(
            &e,
            expected,
            "{}: rejected for the wrong reason",
            scheme.name()
        ),
    }
}

/// A session ID of the right length and alphabet that `scheme` never issued: one issued by
/// a throwaway scheme of the same configuration.
pub fn unknown_session_id() -> String {
    session_memory(fixed_sessions())
        .issue(&claims(ClaimSet::Minimal))
        .expect("issue on a fresh memory store")
}

/// `token` with the first character of its signature segment changed: still well-formed
/// base64url of the right length, but the signature no longer verifies.
pub fn tamper_signature(token: &str) -> String {
    let sig_start = token.rfind('.').expect("a JWT has three segments") + 1;
    let mut bytes = token.as_bytes().to_vec();
    bytes[sig_start] = if bytes[sig_start] == b'A' { b'B' } else { b'A' };
    String::from_utf8(bytes).expect("base64url is ASCII")
}

/// `token` with its middle character changed (inside the payload of a JWT or a PASETO).
pub fn tamper_middle(token: &str) -> String {
    let mut bytes = token.as_bytes().to_vec();
    let i = bytes.len() / 2;
    bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
    String::from_utf8(bytes).expect("tokens are ASCII")
}

/// Runs `iters` operations split as evenly as possible over `threads` threads released
/// together. Each thread builds its operation with `per_thread(thread index)` (so it can keep
/// its own state) and calls it once per operation; the operation returns false on a failure.
/// Returns the wall time from the first thread's start to the last thread's end; panics
/// with `failed` if any operation failed.
pub fn concurrent<F: FnMut() -> bool>(
    threads: usize,
    iters: u64,
    per_thread: impl Fn(usize) -> F + Sync,
    failed: &str,
) -> Duration {
    let barrier = Barrier::new(threads);
    let spans: Vec<(Instant, Instant, u64)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let (barrier, per_thread) = (&barrier, &per_thread);
                let share = iters / threads as u64 + u64::from((t as u64) < iters % threads as u64);
                s.spawn(move || {
                    let mut op = per_thread(t);
                    let mut failures = 0u64;
                    barrier.wait();
                    let start = Instant::now();
                    for _ in 0..share {
                        if !op() {
                            failures += 1;
                        }
                    }
                    (start, Instant::now(), failures)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("benchmark thread panicked"))
            .collect()
    });
    let failures: u64 = spans.iter().map(|s| s.2).sum();
    assert_eq!(failures, 0, "{failed}");
    let first = spans
        .iter()
        .map(|s| s.0)
        .min()
        .expect("at least one thread");
    let last = spans
        .iter()
        .map(|s| s.1)
        .max()
        .expect("at least one thread");
    last.duration_since(first)
}
