//! The four workloads, run over every selected scheme on identical inputs.
//!
//! - [`size`]: token, header and server-side bytes.
//! - [`validate`]: per-request cost of validate and issue, with reference rows.
//! - [`revoke`]: time until every validator node rejects a revoked token.
//! - [`scale`]: throughput and latency as threads and working sets grow.
//!
//! Each module has one `run(&Options, &Progress) -> Result<XxxResults>` and a result struct
//! that is the on-disk schema.

pub mod http;
pub mod remote;
pub mod revoke;
pub mod scale;
pub mod size;
pub mod validate;

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use serde::{Deserialize, Serialize};

use crate::claims::{ClaimSet, Claims};
use crate::clock::Clock;
use crate::crypto::CryptoBackend;
use crate::measure::Budget;
use crate::scheme::{
    JwtAlg, JwtConfig, JwtScheme, RevocationStrategy, SchemeError, SessionConfig, SessionScheme,
    TokenScheme,
};
use crate::store::{CLUSTER_SCHEME, MemoryStore, RedisStore, RwLockStore, is_cluster_url};

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

/// Environment variable naming the Redis server when `--store redis` gives no URL.
pub const REDIS_URL_ENV: &str = "TOKENBENCH_REDIS_URL";

/// The Redis URL in [`REDIS_URL_ENV`], trimmed; `None` when it is unset or blank.
pub fn redis_url_from_env() -> Option<String> {
    std::env::var(REDIS_URL_ENV)
        .ok()
        .map(|url| url.trim().to_owned())
        .filter(|url| !url.is_empty())
}

/// Where session records are kept.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum StoreSpec {
    /// DashMap, the embedded default.
    Memory,
    /// One `RwLock<HashMap>`, the baseline.
    RwLock,
    /// A real Redis server at this URL (`redis://HOST:PORT[/DB]`), or a Redis Cluster
    /// (`redis+cluster://HOST:PORT[,HOST:PORT...]`).
    Redis(String),
}

impl StoreSpec {
    /// Name used in scheme names and on the command line.
    pub fn name(&self) -> &'static str {
        match self {
            StoreSpec::Memory => "memory",
            StoreSpec::RwLock => "rwlock",
            StoreSpec::Redis(url) if is_cluster_url(url) => "redis-cluster",
            StoreSpec::Redis(_) => "redis",
        }
    }

    /// True for stores outside the process.
    pub fn is_remote(&self) -> bool {
        matches!(self, StoreSpec::Redis(_))
    }

    /// A comma-separated list of stores, where a cluster URL's own node list continues
    /// with `host:port` items: `memory,redis+cluster://a:7000,b:7001,rwlock` is three stores.
    pub fn parse_list(s: &str) -> Result<Vec<StoreSpec>, String> {
        let mut stores: Vec<StoreSpec> = Vec::new();
        for item in s.split(',') {
            let item = item.trim();
            match (item.parse::<StoreSpec>(), stores.last_mut()) {
                (Ok(store), _) => stores.push(store),
                (Err(_), Some(StoreSpec::Redis(url)))
                    if is_cluster_url(url) && !item.is_empty() && !item.contains("://") =>
                {
                    url.push(',');
                    url.push_str(item);
                }
                (Err(e), _) => return Err(e),
            }
        }
        Ok(stores)
    }
}

impl FromStr for StoreSpec {
    type Err = String;

    /// `memory`, `rwlock`, `redis://HOST:PORT[/DB]`, or `redis` (URL from
    /// `TOKENBENCH_REDIS_URL`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let lower = s.to_ascii_lowercase();
        match lower.as_str() {
            "memory" | "dashmap" => Ok(StoreSpec::Memory),
            "rwlock" => Ok(StoreSpec::RwLock),
            "redis" => redis_url_from_env().map(StoreSpec::Redis).ok_or_else(|| {
                format!("--store redis needs a URL: give redis://HOST:PORT or set {REDIS_URL_ENV}")
            }),
            _ if lower.starts_with("redis://") || lower.starts_with("rediss://") => {
                if s.len() <= "redis://".len() {
                    return Err(format!(
                        "'{s}' has no host (expected redis://HOST:PORT[/DB])"
                    ));
                }
                Ok(StoreSpec::Redis(s.to_owned()))
            }
            _ if is_cluster_url(&lower) => {
                if s.len() <= CLUSTER_SCHEME.len() {
                    return Err(format!(
                        "'{s}' has no node (expected {CLUSTER_SCHEME}HOST:PORT[,HOST:PORT...])"
                    ));
                }
                Ok(StoreSpec::Redis(s.to_owned()))
            }
            _ => Err(format!(
                "unknown store '{s}' (expected memory, rwlock, redis, redis://HOST:PORT[/DB] or \
                 {CLUSTER_SCHEME}HOST:PORT[,HOST:PORT...])"
            )),
        }
    }
}

/// One scheme to run: a session scheme on a store, or a JWT algorithm.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SchemeSpec {
    /// Opaque session tokens in this store.
    Session(StoreSpec),
    /// JWTs signed with this algorithm.
    Jwt(JwtAlg),
}

impl SchemeSpec {
    /// Name used in results, equal to the built scheme's `TokenScheme::name`.
    pub fn name(&self) -> String {
        match self {
            SchemeSpec::Session(s) => format!("session-{}", s.name()),
            SchemeSpec::Jwt(a) => format!("jwt-{a}"),
        }
    }

    /// True for JWT schemes.
    pub fn is_jwt(&self) -> bool {
        matches!(self, SchemeSpec::Jwt(_))
    }
}

impl fmt::Display for SchemeSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

/// Token families selectable on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Family {
    /// Opaque session tokens.
    Session,
    /// Signed JWTs.
    Jwt,
}

impl FromStr for Family {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "session" | "sessions" => Ok(Family::Session),
            "jwt" | "jwts" => Ok(Family::Jwt),
            _ => Err(format!(
                "unknown scheme family '{s}' (expected session or jwt)"
            )),
        }
    }
}

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

/// Builds the scheme `spec` (fresh store, fresh keys).
pub fn build(
    spec: &SchemeSpec,
    opts: &Options,
    session: SessionConfig,
    revocation: RevocationStrategy,
    clock: Arc<dyn Clock>,
) -> WorkloadResult<Arc<dyn TokenScheme>> {
    Ok(match spec {
        SchemeSpec::Session(StoreSpec::Memory) => {
            Arc::new(SessionScheme::new(MemoryStore::new(), session, clock))
        }
        SchemeSpec::Session(StoreSpec::RwLock) => {
            Arc::new(SessionScheme::new(RwLockStore::new(), session, clock))
        }
        SchemeSpec::Session(StoreSpec::Redis(url)) => Arc::new(SessionScheme::new(
            RedisStore::connect(url)?,
            session,
            clock,
        )),
        SchemeSpec::Jwt(alg) => {
            Arc::new(JwtScheme::new(*alg, opts.jwt_config(), revocation, clock)?)
        }
    })
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

/// One line of `summary.csv`: the headline figures of every workload, flattened.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SummaryRow {
    /// Workload name.
    pub workload: String,
    /// Scheme name (or strategy, or reference).
    pub scheme: String,
    /// Crypto backend for JWT rows, empty otherwise.
    pub backend: String,
    /// What is varied (claim set, thread count, working set...).
    pub param: String,
    /// The quantity measured.
    pub metric: String,
    /// Its value.
    pub value: f64,
    /// Its unit.
    pub unit: String,
}

impl SummaryRow {
    /// A row.
    pub fn new(
        workload: &str,
        scheme: &str,
        backend: &str,
        param: &str,
        metric: &str,
        value: f64,
        unit: &str,
    ) -> SummaryRow {
        SummaryRow {
            workload: workload.into(),
            scheme: scheme.into(),
            backend: backend.into(),
            param: param.into(),
            metric: metric.into(),
            value,
            unit: unit.into(),
        }
    }
}

/// Renders rows as CSV (RFC 4180 quoting).
pub fn summary_csv(rows: &[SummaryRow]) -> String {
    let q = |s: &str| {
        if s.contains([',', '"', '\n']) {
            format!("\"{}\"", s.replace('"', "\"\""))
        } else {
            s.to_owned()
        }
    };
    let mut out = String::from("workload,scheme,backend,param,metric,value,unit\n");
    for r in rows {
        out.push_str(&format!(
            "{},{},{},{},{},{},{}\n",
            q(&r.workload),
            q(&r.scheme),
            q(&r.backend),
            q(&r.param),
            q(&r.metric),
            r.value,
            q(&r.unit)
        ));
    }
    out
}
