//! The four workloads, run over every selected scheme on identical inputs.
//!
//! - [`size`]: token, header and server-side bytes.
//! - [`validate`]: per-request cost of validate and issue, with reference rows.
//! - [`revoke`]: time until every validator node rejects a revoked token.
//! - [`scale`]: throughput and latency as threads and working sets grow.
//!
//! Each module has one `run(&Options, &Progress) -> Result<XxxResults>` and a result struct
//! that is the on-disk schema.

pub mod remote;
pub mod revoke;
pub mod scale;
pub mod size;
pub mod validate;

use std::sync::Arc;
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use serde::{Deserialize, Serialize};

use crate::claims::{ClaimSet, Claims};
use crate::clock::Clock;
use crate::crypto::CryptoBackend;
use crate::measure::Budget;
pub use crate::results::schema::SummaryRow;
pub use crate::results::schema::summary::summary_csv;
use crate::scheme::spec::BuildOptions;
pub use crate::scheme::spec::{Family, SchemeSpec, StoreSpec};
use crate::scheme::{
    JwtAlg, JwtConfig, RevocationStrategy, SchemeError, SessionConfig, TokenScheme,
};

/// Errors that stop a workload.
#[derive(Debug, thiserror::Error)]
pub enum WorkloadError {
    /// A scheme could not be built or failed where it must not.
    #[error(transparent)]
    Scheme(#[from] SchemeError),
    /// A session store failed.
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    /// A token that must validate was refused (the measurement would be meaningless).
    #[error("{scheme}: {what}")]
    Broken {
        /// Scheme concerned.
        scheme: String,
        /// What went wrong.
        what: String,
    },
    /// Anything else, with context.
    #[error("{0}")]
    Other(String),
}

/// Result of a workload.
pub type WorkloadResult<T> = Result<T, WorkloadError>;

/// Everything a workload needs to know, shared by all four.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Options {
    /// Smaller budgets and fewer points.
    pub quick: bool,
    /// Token families to run.
    pub families: Vec<Family>,
    /// Session stores to run.
    pub stores: Vec<StoreSpec>,
    /// JWT algorithms to run.
    pub algs: Vec<JwtAlg>,
    /// Thread counts for the scale workload.
    pub threads: Vec<usize>,
    /// Live-session working sets for the scale workload.
    pub sessions: Vec<usize>,
    /// Seed of every workload input (user ids, lookup order, revocation times).
    pub seed: u64,
    /// Validator nodes in the revoke workload.
    pub validators: usize,
    /// Revocation trials per strategy.
    pub trials: usize,
    /// Per-node session cache lifetime in the revoke workload.
    pub cache_ttl: Duration,
    /// Denylist polling period in the revoke workload.
    pub poll_interval: Duration,
    /// JWT lifetime (`exp - iat`).
    pub jwt_lifetime: Duration,
    /// Sessions live in the store while validate is measured.
    pub live_sessions: usize,
    /// Entries inserted to measure server-side bytes per session.
    pub memory_sessions: usize,
    /// Time budget per measured operation.
    pub budget: Budget,
    /// Time per point of the scale workload.
    pub scale_duration: Duration,
    /// jsonwebtoken crypto backend of this process.
    pub backend: CryptoBackend,
}

impl Options {
    /// Defaults for a quick or a full run on this machine.
    pub fn defaults(quick: bool) -> Options {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        Options {
            quick,
            families: vec![Family::Session, Family::Jwt],
            stores: vec![StoreSpec::Memory, StoreSpec::RwLock],
            algs: JwtAlg::ALL.to_vec(),
            threads: if quick {
                let mut t = vec![1, 2 * cores];
                t.dedup();
                t
            } else {
                (1..=2 * cores).collect()
            },
            sessions: if quick {
                vec![1_000, 100_000]
            } else {
                vec![1_000, 100_000, 1_000_000]
            },
            seed: 42,
            validators: 4,
            trials: if quick { 20 } else { 200 },
            // Quick runs shorten the real-time windows so 20 trials fit the 60 s budget;
            // the windows are recorded in the results and the report scales by them.
            cache_ttl: if quick {
                Duration::from_millis(250)
            } else {
                Duration::from_secs(1)
            },
            poll_interval: if quick {
                Duration::from_millis(250)
            } else {
                Duration::from_secs(1)
            },
            jwt_lifetime: Duration::from_secs(15 * 60),
            live_sessions: if quick { 1_000 } else { 10_000 },
            memory_sessions: if quick { 10_000 } else { 100_000 },
            budget: if quick { Budget::QUICK } else { Budget::FULL },
            scale_duration: if quick {
                Duration::from_millis(250)
            } else {
                Duration::from_secs(1)
            },
            backend: CryptoBackend::AwsLc,
        }
    }

    /// The schemes selected, sessions first, in report order.
    pub fn schemes(&self) -> Vec<SchemeSpec> {
        let mut out = Vec::new();
        if self.families.contains(&Family::Session) {
            out.extend(self.stores.iter().cloned().map(SchemeSpec::Session));
        }
        if self.families.contains(&Family::Jwt) {
            out.extend(self.algs.iter().copied().map(SchemeSpec::Jwt));
        }
        out
    }

    /// A deterministic random source for workload inputs, distinct per `stream`.
    pub fn rng(&self, stream: u64) -> StdRng {
        StdRng::seed_from_u64(self.seed ^ stream.wrapping_mul(0x9E37_79B9_7F4A_7C15))
    }

    /// The JWT configuration every workload uses.
    pub fn jwt_config(&self) -> JwtConfig {
        JwtConfig {
            lifetime: self.jwt_lifetime,
            ..JwtConfig::default()
        }
    }
}

/// A user id drawn from `rng`.
pub fn user_id(rng: &mut StdRng) -> String {
    format!("user-{:08}", rng.random::<u32>())
}

/// Claims of preset `set` for a user drawn from `rng`.
pub fn claims(set: ClaimSet, rng: &mut StdRng) -> Claims {
    set.claims(&user_id(rng))
}

/// Builds the scheme `spec` (fresh store, fresh keys) with the workloads' JWT lifetime.
pub fn build(
    spec: &SchemeSpec,
    opts: &Options,
    session: SessionConfig,
    revocation: RevocationStrategy,
    clock: Arc<dyn Clock>,
) -> WorkloadResult<Arc<dyn TokenScheme>> {
    Ok(spec.build(
        BuildOptions {
            session,
            jwt: opts.jwt_config(),
            revocation,
        },
        clock,
    )?)
}

/// Issues `n` tokens of claim set `set` (users from `rng`) and checks one of them validates.
pub fn issue_many(
    scheme: &dyn TokenScheme,
    n: usize,
    set: ClaimSet,
    rng: &mut StdRng,
) -> WorkloadResult<Vec<String>> {
    let tokens = (0..n)
        .map(|_| scheme.issue(&claims(set, rng)))
        .collect::<Result<Vec<_>, _>>()?;
    if let Some(t) = tokens.first() {
        expect_valid(scheme, t)?;
    }
    Ok(tokens)
}

/// Fails the workload when `token` does not validate.
pub fn expect_valid(scheme: &dyn TokenScheme, token: &str) -> WorkloadResult<()> {
    scheme
        .validate(token)
        .map(|_| ())
        .map_err(|r| WorkloadError::Broken {
            scheme: scheme.name(),
            what: format!("a freshly issued token was refused: {r}"),
        })
}

/// Fails the workload when `token` validates.
pub fn expect_rejected(scheme: &dyn TokenScheme, token: &str) -> WorkloadResult<()> {
    match scheme.validate(token) {
        Ok(_) => Err(WorkloadError::Broken {
            scheme: scheme.name(),
            what: "a token that must be refused was accepted".into(),
        }),
        Err(_) => Ok(()),
    }
}

/// Progress reporting, decoupled from the terminal so workloads stay testable.
pub trait Progress: Sync {
    /// A new phase with `total` steps.
    fn start(&self, phase: &str, total: u64);
    /// One step done, with a short description of what comes next.
    fn step(&self, what: &str);
    /// The phase is over.
    fn finish(&self);
}

/// Progress that shows nothing (tests, child processes).
#[derive(Debug, Default, Clone, Copy)]
pub struct NoProgress;

impl Progress for NoProgress {
    fn start(&self, _: &str, _: u64) {}
    fn step(&self, _: &str) {}
    fn finish(&self) {}
}
