//! The workloads, run over every selected scheme on identical inputs, and their registry.
//!
//! - [`size`]: token, header and server-side bytes.
//! - [`validate`]: per-request cost of validate and issue, with reference rows.
//! - [`revoke`]: time until every validator node rejects a revoked token.
//! - [`scale`]: throughput and latency as threads and working sets grow.
//! - [`http`]: the article's login flow served over HTTP/1.1 and HTTP/2, under load.
//! - [`browser`]: a real Chromium on the site (the login flow, script-readable tokens,
//!   SameSite, CORS preflights) and the header bytes each HTTP/2 client really sends.
//! - [`outage`]: what the workloads share to fail closed and recover when a store's server
//!   goes away.
//!
//! A workload is one file that implements [`Workload`]: its own flags ([`Workload::Args`]),
//! its resolved parameters ([`Workload::Params`], recorded in `meta.json`), and a `run`
//! that returns its results file (a [`ResultFile`] of [`crate::results::schema`]). It takes
//! part in `tokenbench run`, gets its own subcommand and writes `<name>.json` and its
//! `summary.csv` rows once it has a line in [`REGISTRY`]. Settings every workload shares
//! (schemes, seed, budgets, crypto backend) are [`Settings`].

pub mod browser;
pub mod http;
pub mod outage;
pub mod revoke;
pub mod scale;
pub mod size;
pub mod validate;

use std::any::Any;
use std::fmt::Debug;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::claims::{ClaimSet, Claims};
use crate::clock::Clock;
use crate::crypto::CryptoBackend;
use crate::measure::Budget;
pub use crate::results::schema::SummaryRow;
pub use crate::results::schema::summary::summary_csv;
use crate::results::schema::{Contribution, ResultFile};
use crate::scheme::spec::{BuildOptions, Family, SchemeSpec, StoreSpec};
use crate::scheme::{
    HybridConfig, JwtAlg, JwtConfig, PasetoPurpose, RevocationStrategy, SchemeError, SessionConfig,
    TokenScheme,
};

/// Every workload, in run order: adding one is its file plus one line here.
pub static REGISTRY: &[&dyn Registered] = &[
    &Entry::<size::Size>::NEW,
    &Entry::<validate::Validate>::NEW,
    &Entry::<revoke::Revoke>::NEW,
    &Entry::<scale::Scale>::NEW,
    &Entry::<http::Http>::NEW,
    &Entry::<browser::Browser>::NEW,
];

/// The registered workload called `name`.
pub fn registered(name: &str) -> Option<&'static dyn Registered> {
    REGISTRY.iter().copied().find(|w| w.name() == name)
}

/// One workload: its flags, its parameters, its run, its results file.
pub trait Workload: Send + Sync + 'static {
    /// One line for `--help`.
    const ABOUT: &'static str;
    /// Whether its JWT figures are measured again on the other crypto backend, in a child
    /// process (the provider is process-wide).
    const PER_BACKEND: bool = false;
    /// Its own command-line flags, beside the common ones; unset flags take the quick or
    /// full defaults.
    type Args: clap::Args + clap::FromArgMatches + Clone + Debug;
    /// Its parameters, resolved: recorded in `meta.json`, sent to a child process.
    type Params: Serialize + DeserializeOwned + Clone + Debug + Send + Sync;
    /// Its results file; its [`ResultFile::FILE`] is the workload's name.
    type Results: ResultFile;

    /// The parameters from the flags and the defaults of a quick (or full) run.
    fn params(args: &Self::Args, quick: bool) -> Self::Params;

    /// Measures, over the schemes of `settings`.
    fn run(
        settings: &Settings,
        params: &Self::Params,
        progress: &dyn Progress,
    ) -> WorkloadResult<Self::Results>;
}

/// A workload seen through [`REGISTRY`], whatever its types (see [`Workload`]).
pub trait Registered: Sync {
    /// Its name: subcommand, results file stem, `workload` column of `summary.csv`.
    fn name(&self) -> &'static str;
    /// One line for `--help`.
    fn about(&self) -> &'static str;
    /// See [`Workload::PER_BACKEND`].
    fn per_backend(&self) -> bool;
    /// Adds the workload's flags to `cmd`.
    fn augment_args(&self, cmd: clap::Command) -> clap::Command;
    /// The resolved parameters, from the flags in `matches`.
    fn params(
        &self,
        matches: &clap::ArgMatches,
        quick: bool,
    ) -> Result<serde_json::Value, clap::Error>;
    /// The parameters of a quick (or full) run with no flag given.
    fn default_params(&self, quick: bool) -> serde_json::Value;
    /// Runs the workload with `params` (as [`params`](Self::params) gives them).
    fn run(
        &self,
        settings: &Settings,
        params: &serde_json::Value,
        progress: &dyn Progress,
    ) -> WorkloadResult<Box<dyn Outcome>>;
    /// Results of this workload read back from their JSON (a child process's).
    fn outcome_from_json(&self, json: &[u8]) -> Result<Box<dyn Outcome>, serde_json::Error>;
}

/// A workload's results, whatever their type: what the runner writes and summarises.
pub trait Outcome: Send {
    /// The results file's bytes.
    fn to_json(&self) -> Result<Vec<u8>, serde_json::Error>;
    /// See [`ResultFile::summary_rows`].
    fn summary_rows(&self) -> Vec<SummaryRow>;
    /// See [`ResultFile::error_notes`].
    fn error_notes(&self) -> Vec<String>;
    /// Adds another process's results of the same workload (the other crypto backend);
    /// results of another type are refused.
    fn merge(&mut self, other: Box<dyn Outcome>) -> Result<(), &'static str>;
    /// For [`merge`](Self::merge).
    fn into_any(self: Box<Self>) -> Box<dyn Any>;
    /// See [`ResultFile::contributions`].
    fn contributions(&self) -> Vec<Contribution>;
}

impl<T: ResultFile> Outcome for T {
    fn to_json(&self) -> Result<Vec<u8>, serde_json::Error> {
        serde_json::to_vec_pretty(self)
    }
    fn summary_rows(&self) -> Vec<SummaryRow> {
        ResultFile::summary_rows(self)
    }
    fn error_notes(&self) -> Vec<String> {
        ResultFile::error_notes(self)
    }
    fn merge(&mut self, other: Box<dyn Outcome>) -> Result<(), &'static str> {
        let other = other
            .into_any()
            .downcast::<T>()
            .map_err(|_| "results of another workload")?;
        <T as ResultFile>::merge(self, *other);
        Ok(())
    }
    fn into_any(self: Box<Self>) -> Box<dyn Any> {
        self
    }
    fn contributions(&self) -> Vec<Contribution> {
        ResultFile::contributions(self)
    }
}

/// The [`Registered`] face of a [`Workload`] (see [`REGISTRY`]).
pub struct Entry<W>(PhantomData<fn() -> W>);

impl<W> Entry<W> {
    /// The entry of `W`.
    pub const NEW: Self = Entry(PhantomData);
}

impl<W: Workload> Registered for Entry<W> {
    fn name(&self) -> &'static str {
        <W::Results as ResultFile>::FILE
    }
    fn about(&self) -> &'static str {
        W::ABOUT
    }
    fn per_backend(&self) -> bool {
        W::PER_BACKEND
    }
    fn augment_args(&self, cmd: clap::Command) -> clap::Command {
        <W::Args as clap::Args>::augment_args(cmd)
    }
    fn params(
        &self,
        matches: &clap::ArgMatches,
        quick: bool,
    ) -> Result<serde_json::Value, clap::Error> {
        let args = <W::Args as clap::FromArgMatches>::from_arg_matches(matches)?;
        serde_json::to_value(W::params(&args, quick))
            .map_err(|e| clap::Error::raw(clap::error::ErrorKind::InvalidValue, e))
    }
    fn default_params(&self, quick: bool) -> serde_json::Value {
        let bare = <W::Args as clap::Args>::augment_args(clap::Command::new("defaults"));
        // Every flag of a workload is optional, so parsing none at all cannot fail; should
        // it, the workload's run refuses the null parameters with a clear error.
        bare.try_get_matches_from(["defaults"])
            .ok()
            .and_then(|m| self.params(&m, quick).ok())
            .unwrap_or(serde_json::Value::Null)
    }
    fn run(
        &self,
        settings: &Settings,
        params: &serde_json::Value,
        progress: &dyn Progress,
    ) -> WorkloadResult<Box<dyn Outcome>> {
        let params: W::Params =
            serde_json::from_value(params.clone()).map_err(|e| WorkloadError::Params {
                workload: self.name(),
                why: e.to_string(),
            })?;
        Ok(Box::new(W::run(settings, &params, progress)?))
    }
    fn outcome_from_json(&self, json: &[u8]) -> Result<Box<dyn Outcome>, serde_json::Error> {
        Ok(Box::new(serde_json::from_slice::<W::Results>(json)?))
    }
}

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
    /// The store's server stayed unreachable past the recovery wait: every request
    /// meanwhile was refused (fail closed).
    #[error(
        "{server} at {url} did not answer for {waited:?} during {during}; every request \
         meanwhile was refused (fail closed). Last failure: {why}. Is the server running?"
    )]
    StoreGone {
        /// What the server is (`Redis`, `PostgreSQL`).
        server: &'static str,
        /// The server, its password redacted.
        url: String,
        /// How long the workload waited for it.
        waited: Duration,
        /// What the workload was doing.
        during: String,
        /// The failure that made it look.
        why: String,
    },
    /// A setup step against a store's server kept failing although the server answered in
    /// between.
    #[error("{during}: {server} at {url} kept failing after {attempts} attempts: {why}")]
    StoreFlapping {
        /// What the server is (`Redis`, `PostgreSQL`).
        server: &'static str,
        /// The server, its password redacted.
        url: String,
        /// The setup step.
        during: String,
        /// Attempts made.
        attempts: usize,
        /// The last failure.
        why: String,
    },
    /// Parameters that do not fit the workload (a child process fed the wrong job).
    #[error("{workload}: invalid parameters: {why}")]
    Params {
        /// The workload.
        workload: &'static str,
        /// What is wrong with them.
        why: String,
    },
    /// An invariant of the workload's own setup broke (a thread panicked, a reference
    /// lost its key): a bug, with context.
    #[error("{0}")]
    Other(String),
}

/// Result of a workload.
pub type WorkloadResult<T> = Result<T, WorkloadError>;

/// What every workload shares: the schemes, the seed, the measuring budget, the crypto
/// backend of this process. Each workload's own parameters are its [`Workload::Params`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Settings {
    /// Smaller budgets and fewer points.
    pub quick: bool,
    /// Token families to run.
    pub families: Vec<Family>,
    /// Session stores to run.
    pub stores: Vec<StoreSpec>,
    /// JWT algorithms to run.
    pub algs: Vec<JwtAlg>,
    /// PASETO v4 purposes to run (absent in settings recorded before PASETO: both).
    #[serde(default = "all_pasetos")]
    pub pasetos: Vec<PasetoPurpose>,
    /// Access-token algorithms of the hybrids to run, each on every store of
    /// [`stores`](Self::stores) (absent in settings recorded before the hybrid: HS256).
    #[serde(default = "default_hybrid_algs")]
    pub hybrid_algs: Vec<JwtAlg>,
    /// The hybrid's access-token lifetime (`--access-lifetime`).
    #[serde(default = "default_access_lifetime")]
    pub access_lifetime: Duration,
    /// The hybrid's reuse grace (`--reuse-grace`): how long after a rotation the replaced
    /// refresh token still gets the same successor.
    #[serde(default)]
    pub reuse_grace: Duration,
    /// Requests per second per user (`--requests-per-user`): how often a hybrid's user
    /// refreshes per request (one refresh per access lifetime), in the revoke workload's
    /// amortised refresh and the http workload's flow alike.
    #[serde(default = "default_requests_per_user")]
    pub requests_per_user: f64,
    /// Seed of every workload input (user ids, lookup order, revocation times).
    pub seed: u64,
    /// JWT lifetime (`exp - iat`).
    pub jwt_lifetime: Duration,
    /// Time budget per measured operation.
    pub budget: Budget,
    /// jsonwebtoken crypto backend of this process.
    pub backend: CryptoBackend,
}

impl Settings {
    /// Defaults for a quick or a full run on this machine.
    pub fn defaults(quick: bool) -> Settings {
        Settings {
            quick,
            // Every family: the hybrid as HS256 on each store (`hybrid_algs`).
            families: Family::ALL.to_vec(),
            stores: vec![StoreSpec::Memory, StoreSpec::RwLock],
            algs: JwtAlg::ALL.to_vec(),
            pasetos: all_pasetos(),
            hybrid_algs: default_hybrid_algs(),
            access_lifetime: default_access_lifetime(),
            reuse_grace: Duration::ZERO,
            requests_per_user: DEFAULT_REQUESTS_PER_USER,
            seed: 42,
            jwt_lifetime: Duration::from_secs(15 * 60),
            budget: if quick { Budget::QUICK } else { Budget::FULL },
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
        if self.families.contains(&Family::Paseto) {
            out.extend(self.pasetos.iter().copied().map(SchemeSpec::Paseto));
        }
        if self.families.contains(&Family::Hybrid) {
            for alg in &self.hybrid_algs {
                out.extend(
                    self.stores
                        .iter()
                        .map(|store| SchemeSpec::Hybrid(*alg, store.clone())),
                );
            }
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

    /// The hybrid configuration every workload uses.
    pub fn hybrid_config(&self) -> HybridConfig {
        HybridConfig {
            access_lifetime: self.access_lifetime,
            reuse_grace: self.reuse_grace,
            ..HybridConfig::default()
        }
    }
}

fn all_pasetos() -> Vec<PasetoPurpose> {
    PasetoPurpose::ALL.to_vec()
}

fn default_hybrid_algs() -> Vec<JwtAlg> {
    vec![JwtAlg::HS256]
}

/// Requests per second per user unless `--requests-per-user` says otherwise: one request
/// every 10 s, an active user of a single-page application.
pub const DEFAULT_REQUESTS_PER_USER: f64 = 0.1;

fn default_requests_per_user() -> f64 {
    DEFAULT_REQUESTS_PER_USER
}

fn default_access_lifetime() -> Duration {
    HybridConfig::default().access_lifetime
}

/// Logical cores of this machine (at least 1).
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
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
    settings: &Settings,
    session: SessionConfig,
    revocation: RevocationStrategy,
    clock: Arc<dyn Clock>,
) -> WorkloadResult<Arc<dyn TokenScheme>> {
    Ok(spec.build(
        BuildOptions {
            session,
            jwt: settings.jwt_config(),
            revocation,
            hybrid: settings.hybrid_config(),
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
    /// A line worth telling whoever watches (the terminal shows it; tests ignore it).
    fn note(&self, _line: &str) {}
}

/// Progress that shows nothing (tests, child processes).
#[derive(Debug, Default, Clone, Copy)]
pub struct NoProgress;

impl Progress for NoProgress {
    fn start(&self, _: &str, _: u64) {}
    fn step(&self, _: &str) {}
    fn finish(&self) {}
}
