//! One identity for a scheme, as data: what to build ([`SchemeSpec`], with store addresses)
//! and what results call it ([`SchemeId`], no addresses). Every process builds its live
//! scheme from a spec (the run, the child process for the other crypto backend, the HTTP
//! server, a validator node), and the report, verdicts, palette, benches and tests read a
//! scheme's family, store and algorithm from its identity, never from a name prefix.
//!
//! ```
//! use tokenbench::scheme::spec::{Family, SchemeId, SchemeSpec, StoreSpec};
//! use tokenbench::scheme::JwtAlg;
//!
//! let spec: SchemeSpec = SchemeSpec::Session(StoreSpec::Memory);
//! assert_eq!(spec.id().to_string(), "session-memory");
//! let id: SchemeId = "jwt-ES256".parse().unwrap();
//! assert_eq!((id.family(), id.alg()), (Family::Jwt, Some(JwtAlg::ES256)));
//! let hybrid: SchemeId = "hybrid-HS256-redis".parse().unwrap();
//! assert_eq!(hybrid.family(), Family::Hybrid);
//! assert_eq!(hybrid.to_string(), "hybrid-HS256-redis");
//! ```

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::jwt::JwtKeys;
use super::paseto::PasetoKeys;
use super::{
    HybridConfig, HybridScheme, JwtAlg, JwtConfig, JwtScheme, PasetoPurpose, PasetoScheme,
    RevocationStrategy, SchemeError, SessionConfig, SessionScheme, TokenScheme,
};
use crate::clock::Clock;
use crate::store::site::SiteName;
use crate::store::{
    CLUSTER_SCHEME, MemoryStore, PostgresProbe, PostgresStore, RedisProbe, RedisStore, RwLockStore,
    ServerProbe, SessionStore, StoreError, is_cluster_url, is_postgres_url, redact_url,
};

/// The token families.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Family {
    /// Opaque session tokens: the claims live in a server-side store.
    Session,
    /// Signed JWTs: the claims travel in the token.
    Jwt,
    /// PASETO v4 (public and local): the claims travel in the token.
    Paseto,
    /// A short-lived access JWT and an opaque refresh token kept in a store, rotated on
    /// use ([`HybridScheme`]).
    Hybrid,
}

impl Family {
    /// Every family, sessions first (report order).
    pub const ALL: [Family; 4] = [Family::Session, Family::Jwt, Family::Paseto, Family::Hybrid];

    /// `session`, `jwt`, `paseto` or `hybrid`.
    pub fn name(self) -> &'static str {
        match self {
            Family::Session => "session",
            Family::Jwt => "jwt",
            Family::Paseto => "paseto",
            Family::Hybrid => "hybrid",
        }
    }
}

/// What a token family does, as the report's rules, the verdicts, the workloads and the
/// HTTP server ask it: never "is this a JWT?", always "does it carry its claims?", "does it
/// need a store lookup?"... A new format states its answers here once (its
/// [`SchemeId::capabilities`] arm) and every rule that asks them judges it correctly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Capabilities {
    /// The claims travel inside the token, so validating reads no server-side state (a
    /// self-contained token: JWT, PASETO). False for an opaque reference (a session ID).
    pub carries_claims: bool,
    /// Anyone holding the token can read its claims without a key (a signed JWT; not an
    /// encrypted token, not a session ID).
    pub claims_readable: bool,
    /// Every validate looks the token up in a server-side store: a network round trip
    /// when the store is remote.
    pub store_lookup: bool,
    /// Revoking deletes the server-side state the token names, so the next lookup refuses
    /// it; otherwise the token lives until its own expiry unless a denylist is consulted.
    pub revocable_by_delete: bool,
    /// The token states its own expiry (a signed `exp`), which no server can move.
    pub expiry_in_token: bool,
    /// A verifier needs only a public key (an asymmetric signature): verify-only nodes
    /// can hold no secret.
    pub public_key_verifiable: bool,
    /// Its crypto is `jsonwebtoken`'s process-wide provider, so its figures are measured
    /// once per crypto backend (aws-lc-rs and RustCrypto).
    pub per_crypto_backend: bool,
    /// A second, opaque token kept in a store renews this one (a refresh token, rotated on
    /// use): the token itself is short-lived, and revoking its family stops the renewal,
    /// so a revoked login ends within one token lifetime without a denylist.
    #[serde(default)]
    pub refresh_token: bool,
}

impl Capabilities {
    /// An opaque reference to a record in a server-side store.
    pub const STORE_REFERENCE: Capabilities = Capabilities {
        carries_claims: false,
        claims_readable: false,
        store_lookup: true,
        revocable_by_delete: true,
        expiry_in_token: false,
        public_key_verifiable: false,
        per_crypto_backend: false,
        refresh_token: false,
    };
}

impl fmt::Display for Family {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.name())
    }
}

impl FromStr for Family {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "session" | "sessions" => Ok(Family::Session),
            "jwt" | "jwts" => Ok(Family::Jwt),
            "paseto" | "pasetos" => Ok(Family::Paseto),
            "hybrid" | "hybrids" => Ok(Family::Hybrid),
            _ => Err(format!(
                "unknown scheme family '{s}' (expected session, jwt, paseto or hybrid)"
            )),
        }
    }
}

/// Which kind of store holds sessions: the part of a [`StoreSpec`] results may name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum StoreKind {
    /// DashMap, the embedded default.
    Memory,
    /// One `RwLock<HashMap>`, the baseline.
    RwLock,
    /// One Redis server.
    Redis,
    /// A Redis Cluster.
    RedisCluster,
    /// A PostgreSQL server.
    Postgres,
}

impl StoreKind {
    /// Every kind, in report order.
    pub const ALL: [StoreKind; 5] = [
        StoreKind::Memory,
        StoreKind::RwLock,
        StoreKind::Redis,
        StoreKind::RedisCluster,
        StoreKind::Postgres,
    ];

    /// `memory`, `rwlock`, `redis`, `redis-cluster`, `postgres`.
    pub fn name(self) -> &'static str {
        match self {
            StoreKind::Memory => "memory",
            StoreKind::RwLock => "rwlock",
            StoreKind::Redis => "redis",
            StoreKind::RedisCluster => "redis-cluster",
            StoreKind::Postgres => "postgres",
        }
    }

    /// True for a store outside this process (a network round trip per lookup).
    pub fn is_remote(self) -> bool {
        matches!(
            self,
            StoreKind::Redis | StoreKind::RedisCluster | StoreKind::Postgres
        )
    }

    /// True when a server of this kind can also hold the JWT denylists (`jti` lists, in
    /// memory and on Redis: `denylist`), so the workloads run the denylist rows and
    /// strategies on it.
    pub fn holds_denylists(self) -> bool {
        matches!(self, StoreKind::Redis | StoreKind::RedisCluster)
    }
}

/// Where session records are kept, with the address of a server store.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum StoreSpec {
    /// DashMap, the embedded default.
    Memory,
    /// One `RwLock<HashMap>`, the baseline.
    RwLock,
    /// A real Redis server at this URL (`redis://HOST:PORT[/DB]`), or a Redis Cluster
    /// (`redis+cluster://HOST:PORT[,HOST:PORT...]`).
    Redis(String),
    /// A PostgreSQL server at this URL (`postgres://[USER[:PASSWORD]@]HOST[:PORT]/DB`).
    Postgres(String),
}

impl StoreSpec {
    /// The spec as `--store` spells it (`memory`, `rwlock`, the full URL, password
    /// included: for handing to a child process, never for printing: see
    /// [`redacted`](Self::redacted)).
    pub fn spelling(&self) -> String {
        match self {
            StoreSpec::Memory => "memory".to_owned(),
            StoreSpec::RwLock => "rwlock".to_owned(),
            StoreSpec::Redis(url) | StoreSpec::Postgres(url) => url.clone(),
        }
    }

    /// The spelling as it may be printed or written ([`redact_url`]): no password.
    pub fn redacted(&self) -> String {
        redact_url(&self.spelling())
    }

    /// The same spec with its password redacted, for files that record settings
    /// (`meta.json`).
    pub fn without_password(&self) -> StoreSpec {
        match self {
            StoreSpec::Memory => StoreSpec::Memory,
            StoreSpec::RwLock => StoreSpec::RwLock,
            StoreSpec::Redis(url) => StoreSpec::Redis(redact_url(url)),
            StoreSpec::Postgres(url) => StoreSpec::Postgres(redact_url(url)),
        }
    }

    /// The kind, without the address.
    pub fn kind(&self) -> StoreKind {
        match self {
            StoreSpec::Memory => StoreKind::Memory,
            StoreSpec::RwLock => StoreKind::RwLock,
            StoreSpec::Redis(url) if is_cluster_url(url) => StoreKind::RedisCluster,
            StoreSpec::Redis(_) => StoreKind::Redis,
            StoreSpec::Postgres(_) => StoreKind::Postgres,
        }
    }

    /// Name used in scheme names and on the command line.
    pub fn name(&self) -> &'static str {
        self.kind().name()
    }

    /// True for stores outside the process.
    pub fn is_remote(&self) -> bool {
        self.kind().is_remote()
    }

    /// The server's URL, password included, for a networked store: for connecting,
    /// never for printing (see [`redacted`](Self::redacted)).
    pub fn url(&self) -> Option<&str> {
        match self {
            StoreSpec::Redis(url) | StoreSpec::Postgres(url) => Some(url),
            StoreSpec::Memory | StoreSpec::RwLock => None,
        }
    }

    /// The `host:port` of a single server store (`None` for an in-process store and for a
    /// Redis Cluster, whose clients follow the cluster's own node addresses).
    pub fn server_address(&self) -> Option<String> {
        let (url, default_port) = match self {
            StoreSpec::Redis(url) if self.kind() == StoreKind::Redis => (url, 6379),
            StoreSpec::Postgres(url) => (url, 5432),
            _ => return None,
        };
        let parsed = url::Url::parse(url).ok()?;
        Some(format!(
            "{}:{}",
            parsed.host_str()?,
            parsed.port().unwrap_or(default_port)
        ))
    }

    /// The same store reached at `address` instead (a proxy in front of it): its URL with
    /// the host and port replaced, user, password and database kept; `None` where
    /// [`server_address`](Self::server_address) is.
    pub fn via(&self, address: std::net::SocketAddr) -> Option<StoreSpec> {
        self.server_address()?;
        let url = self.url()?;
        let mut parsed = url::Url::parse(url).ok()?;
        parsed.set_ip_host(address.ip()).ok()?;
        parsed.set_port(Some(address.port())).ok()?;
        Some(match self {
            StoreSpec::Redis(_) => StoreSpec::Redis(parsed.to_string()),
            _ => StoreSpec::Postgres(parsed.to_string()),
        })
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

    /// `memory`, `rwlock`, `redis://HOST:PORT[/DB]`, `redis+cluster://HOST:PORT[,...]` or
    /// `postgres://[USER[:PASSWORD]@]HOST[:PORT]/DB` (also `postgresql://`). (The command
    /// line also takes `redis` alone, for the URL in `TOKENBENCH_REDIS_URL`: reading the
    /// environment is the binary's business, not the library's.)
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let lower = s.to_ascii_lowercase();
        match lower.as_str() {
            "memory" | "dashmap" => Ok(StoreSpec::Memory),
            "rwlock" => Ok(StoreSpec::RwLock),
            "redis" => Err(format!(
                "--store redis needs a URL: give redis://HOST:PORT or set {}",
                crate::store::REDIS_URL_ENV
            )),
            _ if lower.starts_with("redis://") || lower.starts_with("rediss://") => {
                if s.len() <= "redis://".len() {
                    return Err(format!(
                        "'{}' has no host (expected redis://HOST:PORT[/DB])",
                        redact_url(s)
                    ));
                }
                Ok(StoreSpec::Redis(s.to_owned()))
            }
            _ if is_cluster_url(&lower) => {
                if s.len() <= CLUSTER_SCHEME.len() {
                    return Err(format!(
                        "'{}' has no node (expected {CLUSTER_SCHEME}HOST:PORT[,HOST:PORT...])",
                        redact_url(s)
                    ));
                }
                Ok(StoreSpec::Redis(s.to_owned()))
            }
            "postgres" | "postgresql" => Err(
                "--store postgres needs a URL: postgres://[USER[:PASSWORD]@]HOST[:PORT]/DB".into(),
            ),
            _ if is_postgres_url(s) => {
                // Checked now, so a bad URL is a usage error before anything runs.
                PostgresProbe::new(s).map_err(|e| e.to_string())?;
                Ok(StoreSpec::Postgres(s.to_owned()))
            }
            _ => Err(format!(
                "unknown store '{}' (expected memory, rwlock, redis, redis://HOST:PORT[/DB], \
                 {CLUSTER_SCHEME}HOST:PORT[,HOST:PORT...] or \
                 postgres://[USER[:PASSWORD]@]HOST[:PORT]/DB)",
                redact_url(s)
            )),
        }
    }
}

/// One scheme to build: a session scheme on a store, or a JWT algorithm.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SchemeSpec {
    /// Opaque session tokens in this store.
    Session(StoreSpec),
    /// JWTs signed with this algorithm.
    Jwt(JwtAlg),
    /// PASETO v4 tokens of this purpose.
    Paseto(PasetoPurpose),
    /// Access JWTs of this algorithm, refresh families in this store.
    Hybrid(JwtAlg, StoreSpec),
}

impl SchemeSpec {
    /// What results call this scheme.
    pub fn id(&self) -> SchemeId {
        match self {
            SchemeSpec::Session(s) => SchemeId::Session(s.kind()),
            SchemeSpec::Jwt(a) => SchemeId::Jwt(*a),
            SchemeSpec::Paseto(p) => SchemeId::Paseto(*p),
            SchemeSpec::Hybrid(a, s) => SchemeId::Hybrid(*a, s.kind()),
        }
    }

    /// Name used in results, equal to the built scheme's `TokenScheme::name`.
    pub fn name(&self) -> String {
        self.id().to_string()
    }

    /// The family.
    pub fn family(&self) -> Family {
        self.id().family()
    }

    /// What tokens of this scheme do (see [`Capabilities`]).
    pub fn capabilities(&self) -> Capabilities {
        self.id().capabilities()
    }

    /// The store of a session scheme: the one every validate reads. `None` for a hybrid,
    /// whose validate reads none (its refresh families' store is
    /// [`refresh_store`](Self::refresh_store)).
    pub fn store(&self) -> Option<&StoreSpec> {
        match self {
            SchemeSpec::Session(s) => Some(s),
            SchemeSpec::Jwt(_) | SchemeSpec::Paseto(_) | SchemeSpec::Hybrid(..) => None,
        }
    }

    /// The store of a hybrid's refresh families (reached once per refresh, not per request).
    pub fn refresh_store(&self) -> Option<&StoreSpec> {
        match self {
            SchemeSpec::Hybrid(_, s) => Some(s),
            _ => None,
        }
    }

    /// The store the scheme writes anything to: a session's, or a hybrid's refresh
    /// families'; `None` for a self-contained token.
    pub fn any_store(&self) -> Option<&StoreSpec> {
        self.store().or(self.refresh_store())
    }

    /// The algorithm of a JWT scheme, or of a hybrid's access tokens.
    pub fn alg(&self) -> Option<JwtAlg> {
        self.id().alg()
    }

    /// The scheme whose keys this one's tokens are signed with: itself, or for a hybrid
    /// the JWT of its algorithm.
    pub fn keyed(&self) -> SchemeSpec {
        match self {
            SchemeSpec::Hybrid(a, _) => SchemeSpec::Jwt(*a),
            other => other.clone(),
        }
    }
}

impl fmt::Display for SchemeSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.id().fmt(f)
    }
}

/// What results call a scheme: its family and store kind or algorithm, never an address.
/// Written as the scheme's name (`session-memory`, `session-redis-cluster`, `jwt-ES256`),
/// the only place where names and identities are converted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SchemeId {
    /// A session scheme on a store of this kind.
    Session(StoreKind),
    /// A JWT scheme with this algorithm.
    Jwt(JwtAlg),
    /// A PASETO v4 scheme of this purpose.
    Paseto(PasetoPurpose),
    /// A hybrid: access JWTs of this algorithm, refresh families in a store of this kind.
    Hybrid(JwtAlg, StoreKind),
}

impl SchemeId {
    /// The family.
    pub fn family(self) -> Family {
        match self {
            SchemeId::Session(_) => Family::Session,
            SchemeId::Jwt(_) => Family::Jwt,
            SchemeId::Paseto(_) => Family::Paseto,
            SchemeId::Hybrid(..) => Family::Hybrid,
        }
    }

    /// What tokens of this scheme do (see [`Capabilities`]).
    pub fn capabilities(self) -> Capabilities {
        match self {
            SchemeId::Session(_) => Capabilities::STORE_REFERENCE,
            SchemeId::Jwt(alg) => Capabilities {
                carries_claims: true,
                claims_readable: true,
                store_lookup: false,
                revocable_by_delete: false,
                expiry_in_token: true,
                public_key_verifiable: alg != JwtAlg::HS256,
                per_crypto_backend: true,
                refresh_token: false,
            },
            SchemeId::Paseto(purpose) => Capabilities {
                carries_claims: true,
                claims_readable: purpose == PasetoPurpose::Public,
                store_lookup: false,
                revocable_by_delete: false,
                expiry_in_token: true,
                public_key_verifiable: purpose == PasetoPurpose::Public,
                per_crypto_backend: false,
                refresh_token: false,
            },
            // What travels on every request is the access JWT: validated like one, no store
            // lookup; the refresh token reaches the store once per access lifetime.
            SchemeId::Hybrid(alg, _) => Capabilities {
                refresh_token: true,
                ..SchemeId::Jwt(alg).capabilities()
            },
        }
    }

    /// The store kind of a session scheme (`None` for a hybrid: see
    /// [`refresh_store`](Self::refresh_store)).
    pub fn store(self) -> Option<StoreKind> {
        match self {
            SchemeId::Session(s) => Some(s),
            SchemeId::Jwt(_) | SchemeId::Paseto(_) | SchemeId::Hybrid(..) => None,
        }
    }

    /// The store kind the scheme writes anything to: a session's, or a hybrid's refresh
    /// families'; `None` for a self-contained token.
    pub fn any_store(self) -> Option<StoreKind> {
        self.store().or(self.refresh_store())
    }

    /// The store kind of a hybrid's refresh families.
    pub fn refresh_store(self) -> Option<StoreKind> {
        match self {
            SchemeId::Hybrid(_, s) => Some(s),
            _ => None,
        }
    }

    /// The algorithm of a JWT scheme, or of a hybrid's access tokens.
    pub fn alg(self) -> Option<JwtAlg> {
        match self {
            SchemeId::Jwt(a) | SchemeId::Hybrid(a, _) => Some(a),
            SchemeId::Session(_) | SchemeId::Paseto(_) => None,
        }
    }

    /// The purpose of a PASETO scheme.
    pub fn paseto(self) -> Option<PasetoPurpose> {
        match self {
            SchemeId::Paseto(p) => Some(p),
            SchemeId::Session(_) | SchemeId::Jwt(_) | SchemeId::Hybrid(..) => None,
        }
    }

    /// Report order: sessions (by store kind) first, then JWTs in [`JwtAlg::ALL`] order,
    /// then PASETO in [`PasetoPurpose::ALL`] order, then hybrids (by algorithm, then store).
    pub fn order(self) -> usize {
        match self {
            SchemeId::Session(s) => s as usize,
            SchemeId::Jwt(a) => 10 + a as usize,
            SchemeId::Paseto(p) => 20 + p as usize,
            SchemeId::Hybrid(a, s) => 30 + 10 * a as usize + s as usize,
        }
    }
}

impl fmt::Display for SchemeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `pad`, so that `{:<28}` aligns a table as for a string.
        f.pad(&match self {
            SchemeId::Session(s) => format!("session-{}", s.name()),
            SchemeId::Jwt(a) => format!("jwt-{a}"),
            SchemeId::Paseto(p) => format!("paseto-v4-{p}"),
            SchemeId::Hybrid(a, s) => format!("hybrid-{a}-{}", s.name()),
        })
    }
}

impl FromStr for SchemeId {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if let Some(store) = s.strip_prefix("session-") {
            return StoreKind::ALL
                .into_iter()
                .find(|k| k.name() == store)
                .map(SchemeId::Session)
                .ok_or_else(|| format!("unknown session store {store:?} in scheme {s:?}"));
        }
        if let Some(alg) = s.strip_prefix("jwt-") {
            return JwtAlg::ALL
                .into_iter()
                .find(|a| a.name() == alg)
                .map(SchemeId::Jwt)
                .ok_or_else(|| format!("unknown JWT algorithm {alg:?} in scheme {s:?}"));
        }
        if let Some(purpose) = s.strip_prefix("paseto-v4-") {
            return PasetoPurpose::ALL
                .into_iter()
                .find(|p| p.name() == purpose)
                .map(SchemeId::Paseto)
                .ok_or_else(|| format!("unknown PASETO purpose {purpose:?} in scheme {s:?}"));
        }
        if let Some(rest) = s.strip_prefix("hybrid-") {
            let (alg, store) = rest
                .split_once('-')
                .ok_or_else(|| format!("scheme {s:?}: expected hybrid-<alg>-<store>"))?;
            let alg = JwtAlg::ALL
                .into_iter()
                .find(|a| a.name() == alg)
                .ok_or_else(|| format!("unknown JWT algorithm {alg:?} in scheme {s:?}"))?;
            return StoreKind::ALL
                .into_iter()
                .find(|k| k.name() == store)
                .map(|k| SchemeId::Hybrid(alg, k))
                .ok_or_else(|| format!("unknown refresh store {store:?} in scheme {s:?}"));
        }
        Err(format!(
            "unknown scheme {s:?} (expected session-<store>, jwt-<alg>, paseto-v4-<purpose> \
             or hybrid-<alg>-<store>)"
        ))
    }
}

impl Serialize for SchemeId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for SchemeId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = String::deserialize(d)?;
        name.parse().map_err(serde::de::Error::custom)
    }
}

/// Compares with a scheme name (`id == "jwt-HS256"`), through the one conversion above.
impl PartialEq<&str> for SchemeId {
    fn eq(&self, name: &&str) -> bool {
        name.parse::<SchemeId>().is_ok_and(|id| id == *self)
    }
}

impl PartialEq<SchemeId> for &str {
    fn eq(&self, id: &SchemeId) -> bool {
        id == self
    }
}

/// Everything besides the spec that a built scheme needs.
#[derive(Debug, Clone)]
pub struct BuildOptions {
    /// Session issue and expiry policy.
    pub session: SessionConfig,
    /// JWT issuer, audience and lifetime policy.
    pub jwt: JwtConfig,
    /// JWT revocation (ignored by session schemes, which revoke by deletion; a hybrid's
    /// access tokens use it).
    pub revocation: RevocationStrategy,
    /// The hybrid's access lifetime and reuse grace (ignored by the other families).
    pub hybrid: HybridConfig,
}

impl BuildOptions {
    /// Default session and JWT configurations, JWTs with a JWT lifetime of `jwt_lifetime`
    /// and no revocation.
    pub fn with_jwt_lifetime(jwt_lifetime: Duration) -> Self {
        Self {
            session: SessionConfig::default(),
            jwt: JwtConfig {
                lifetime: jwt_lifetime,
                ..JwtConfig::default()
            },
            revocation: RevocationStrategy::None,
            hybrid: HybridConfig::default(),
        }
    }
}

impl Default for BuildOptions {
    fn default() -> Self {
        Self::with_jwt_lifetime(JwtConfig::default().lifetime)
    }
}

/// What to do with a freshly built store of whichever type a [`StoreSpec`] names: the one
/// place that turns a store spec into a live store ([`StoreSpec::build_with`]) hands it to
/// a visitor, so the store keeps its concrete type (no dynamic dispatch on the measured
/// path) and every builder (the schemes here, the HTTP server) shares the same arms.
pub trait StoreVisitor {
    /// What the visitor makes of the store.
    type Output;
    /// Receives the built store.
    fn visit<S: SessionStore>(self, store: S) -> Self::Output;
}

impl StoreSpec {
    /// Builds the store (a networked store connects now) and hands it to `visitor`.
    pub fn build_with<V: StoreVisitor>(&self, visitor: V) -> Result<V::Output, StoreError> {
        Ok(match self {
            StoreSpec::Memory => visitor.visit(MemoryStore::new()),
            StoreSpec::RwLock => visitor.visit(RwLockStore::new()),
            StoreSpec::Redis(url) => visitor.visit(RedisStore::connect(url)?),
            StoreSpec::Postgres(url) => visitor.visit(PostgresStore::connect(url)?),
        })
    }

    /// Builds the store of site `site` (the namespace every node of the site shares:
    /// [`SiteName::session_prefix`] on Redis, [`SiteName::postgres_table`] on PostgreSQL;
    /// never deleted when the store drops) and hands it to `visitor`. A store in one
    /// process cannot be shared: an error saying so.
    pub fn build_site_with<V: StoreVisitor>(
        &self,
        site: &SiteName,
        visitor: V,
    ) -> Result<V::Output, StoreError> {
        Ok(match self {
            StoreSpec::Redis(url) => visitor.visit(
                RedisStore::connect_with_prefix(url, &site.session_prefix())?
                    .with_cleanup_on_drop(false),
            ),
            StoreSpec::Postgres(url) => visitor.visit(
                PostgresStore::connect_with_table(url, &site.postgres_table())?
                    .with_cleanup_on_drop(false),
            ),
            StoreSpec::Memory | StoreSpec::RwLock => {
                return Err(StoreError::Refused(format!(
                    "site {site}: the nodes of a site share their records through a \
                     networked store, and {} lives in one process: give --store redis://... \
                     or postgres://...",
                    self.name()
                )));
            }
        })
    }

    /// The server of a networked store, as the workloads see it (ping, its CPU and memory,
    /// its printable address, outages: [`ServerProbe`]); `None` for a store in this
    /// process. Connects nothing yet: only a malformed URL is an error now.
    pub fn probe(&self) -> Result<Option<Arc<dyn ServerProbe>>, StoreError> {
        Ok(match self {
            StoreSpec::Memory | StoreSpec::RwLock => None,
            StoreSpec::Redis(url) => Some(Arc::new(RedisProbe::new(url)?)),
            StoreSpec::Postgres(url) => Some(Arc::new(PostgresProbe::new(url)?)),
        })
    }
}

/// Builds a session scheme around whichever store it is given.
struct SessionBuilder {
    config: SessionConfig,
    clock: Arc<dyn Clock>,
}

impl StoreVisitor for SessionBuilder {
    type Output = Arc<dyn TokenScheme>;
    fn visit<S: SessionStore>(self, store: S) -> Self::Output {
        Arc::new(SessionScheme::new(store, self.config, self.clock))
    }
}

/// Builds a hybrid scheme around whichever store it is given.
struct HybridBuilder {
    access: JwtScheme,
    config: HybridConfig,
    clock: Arc<dyn Clock>,
}

impl StoreVisitor for HybridBuilder {
    type Output = Arc<dyn TokenScheme>;
    fn visit<S: SessionStore>(self, store: S) -> Self::Output {
        Arc::new(HybridScheme::with_access(
            self.access,
            store,
            self.config,
            self.clock,
        ))
    }
}

impl SchemeSpec {
    /// Builds the live scheme: a fresh store (a Redis store connects now) or fresh keys.
    pub fn build(
        &self,
        options: BuildOptions,
        clock: Arc<dyn Clock>,
    ) -> Result<Arc<dyn TokenScheme>, SchemeError> {
        let BuildOptions {
            session,
            jwt,
            revocation,
            hybrid,
        } = options;
        Ok(match self {
            SchemeSpec::Session(store) => store.build_with(SessionBuilder {
                config: session,
                clock,
            })?,
            SchemeSpec::Jwt(alg) => Arc::new(JwtScheme::new(*alg, jwt, revocation, clock)?),
            SchemeSpec::Paseto(purpose) => {
                Arc::new(PasetoScheme::new(*purpose, jwt, revocation, clock)?)
            }
            SchemeSpec::Hybrid(alg, store) => {
                let access =
                    JwtScheme::new(*alg, hybrid.access_config(jwt), revocation, clock.clone())?;
                store.build_with(HybridBuilder {
                    access,
                    config: hybrid,
                    clock,
                })?
            }
        })
    }

    /// Builds a hybrid on access keys shared with other processes (the nodes of one
    /// site): `keys` must be the keys of its algorithm; its refresh families in a store of
    /// its own, or in `site`'s namespace (every node of the site rotates the same families:
    /// [`StoreSpec::build_site_with`]); `None` for any other scheme.
    pub fn build_hybrid_with_keys(
        &self,
        keys: &Arc<JwtKeys>,
        options: BuildOptions,
        clock: Arc<dyn Clock>,
        site: Option<&SiteName>,
    ) -> Result<Option<Arc<dyn TokenScheme>>, SchemeError> {
        let SchemeSpec::Hybrid(_, store) = self else {
            return Ok(None);
        };
        let access = JwtScheme::with_keys(
            keys.clone(),
            options.hybrid.access_config(options.jwt),
            options.revocation,
            clock.clone(),
        );
        let builder = HybridBuilder {
            access,
            config: options.hybrid,
            clock,
        };
        Ok(Some(match site {
            None => store.build_with(builder)?,
            Some(site) => store.build_site_with(site, builder)?,
        }))
    }
}

/// The key material of a self-contained scheme (a JWT algorithm's keys, a PASETO purpose's
/// keys), generated once and shared by every scheme built from it: the issuer and its
/// verifiers, a scheme with a denylist beside one without, several validator nodes. Its
/// text forms (`generate_private_text`, `from_private_text`, `public_text`,
/// `from_public_text`) are what [`super::keyfile`] keeps in a site's key directory, so
/// processes share it too; verify-only keys hold a public key alone.
#[derive(Debug, Clone)]
pub enum SchemeKeys {
    /// A JWT algorithm's keys.
    Jwt(Arc<JwtKeys>),
    /// A PASETO purpose's keys.
    Paseto(Arc<PasetoKeys>),
}

impl SchemeKeys {
    /// Fresh keys for `spec`; `None` for a scheme that keeps its state in a store.
    pub fn generate(spec: &SchemeSpec) -> Result<Option<SchemeKeys>, SchemeError> {
        Ok(match spec {
            SchemeSpec::Session(_) => None,
            SchemeSpec::Hybrid(..) => return Self::generate(&spec.keyed()),
            SchemeSpec::Jwt(alg) => Some(SchemeKeys::Jwt(Arc::new(JwtKeys::generate(*alg)?))),
            SchemeSpec::Paseto(purpose) => Some(SchemeKeys::Paseto(Arc::new(
                PasetoKeys::generate(*purpose)?,
            ))),
        })
    }

    /// A fresh private key for `spec` in its serialized form (see
    /// [`from_private_text`](Self::from_private_text)); `None` for a scheme that keeps its
    /// state in a store. Secret: for a key file of mode 0600 ([`super::keyfile`]) only.
    pub fn generate_private_text(spec: &SchemeSpec) -> Result<Option<String>, SchemeError> {
        Ok(match spec {
            SchemeSpec::Session(_) => None,
            SchemeSpec::Hybrid(..) => return Self::generate_private_text(&spec.keyed()),
            SchemeSpec::Jwt(alg) => {
                Some(URL_SAFE_NO_PAD.encode(JwtKeys::generate_private_der(*alg)?))
            }
            SchemeSpec::Paseto(purpose) => Some(PasetoKeys::generate_private_paserk(*purpose)?),
        })
    }

    /// The keys of `spec` from a private key's text: a JWT's as base64url (the HS256
    /// secret, or a PKCS#8 document), a PASETO's as a PASERK (`k4.secret.…`,
    /// `k4.local.…`). A key of another algorithm, or text that is no key, is refused
    /// (errors never show the text).
    pub fn from_private_text(spec: &SchemeSpec, text: &str) -> Result<SchemeKeys, SchemeError> {
        Ok(match spec {
            SchemeSpec::Session(_) => return Err(no_keys(spec)),
            SchemeSpec::Hybrid(..) => return Self::from_private_text(&spec.keyed(), text),
            SchemeSpec::Jwt(alg) => {
                let der = URL_SAFE_NO_PAD
                    .decode(text.trim())
                    .map_err(|_| SchemeError::Key(format!("{spec} private key: not base64url")))?;
                SchemeKeys::Jwt(Arc::new(JwtKeys::from_private_der(*alg, &der)?))
            }
            SchemeSpec::Paseto(purpose) => SchemeKeys::Paseto(Arc::new(
                PasetoKeys::from_private_paserk(*purpose, text.trim())?,
            )),
        })
    }

    /// Verify-only keys of `spec` from its public key's text ([`public_text`](Self::public_text)):
    /// a JWT's public key bytes as base64url, a PASETO's `k4.public.…` PASERK. A scheme
    /// verified with a secret (HS256, `v4.local`) has none: refused.
    pub fn from_public_text(spec: &SchemeSpec, text: &str) -> Result<SchemeKeys, SchemeError> {
        if !spec.capabilities().public_key_verifiable {
            return Err(SchemeError::Key(format!(
                "{spec} is verified with a secret key: there is no public key to verify with"
            )));
        }
        Ok(match spec {
            SchemeSpec::Session(_) => return Err(no_keys(spec)),
            SchemeSpec::Hybrid(..) => return Self::from_public_text(&spec.keyed(), text),
            SchemeSpec::Jwt(alg) => {
                let bytes = URL_SAFE_NO_PAD
                    .decode(text.trim())
                    .map_err(|_| SchemeError::Key(format!("{spec} public key: not base64url")))?;
                SchemeKeys::Jwt(Arc::new(JwtKeys::from_public_key(*alg, &bytes)?))
            }
            SchemeSpec::Paseto(_) => {
                SchemeKeys::Paseto(Arc::new(PasetoKeys::from_public_paserk(text.trim())?))
            }
        })
    }

    /// The public key's text (see [`from_public_text`](Self::from_public_text)); `None`
    /// for a scheme verified with a secret (HS256, `v4.local`).
    pub fn public_text(&self) -> Option<String> {
        match self {
            SchemeKeys::Jwt(keys) => keys.public_key_bytes().map(|b| URL_SAFE_NO_PAD.encode(b)),
            SchemeKeys::Paseto(keys) => keys.public_paserk(),
        }
    }

    /// True when these keys can issue tokens; false for verify-only keys (a public key
    /// alone).
    pub fn can_issue(&self) -> bool {
        match self {
            SchemeKeys::Jwt(keys) => keys.can_sign(),
            SchemeKeys::Paseto(keys) => keys.can_issue(),
        }
    }

    /// A scheme on these keys, with this claims policy and revocation strategy.
    pub fn build(
        &self,
        config: JwtConfig,
        revocation: RevocationStrategy,
        clock: Arc<dyn Clock>,
    ) -> Arc<dyn TokenScheme> {
        match self {
            SchemeKeys::Jwt(keys) => Arc::new(JwtScheme::with_keys(
                keys.clone(),
                config,
                revocation,
                clock,
            )),
            SchemeKeys::Paseto(keys) => Arc::new(PasetoScheme::with_keys(
                keys.clone(),
                config,
                revocation,
                clock,
            )),
        }
    }
}

/// The refusal of key material for a scheme that has none.
fn no_keys(spec: &SchemeSpec) -> SchemeError {
    SchemeError::Key(format!("{spec} keeps its state in a store: it has no keys"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identities_round_trip_through_their_names() {
        for id in StoreKind::ALL
            .into_iter()
            .map(SchemeId::Session)
            .chain(JwtAlg::ALL.into_iter().map(SchemeId::Jwt))
            .chain(PasetoPurpose::ALL.into_iter().map(SchemeId::Paseto))
            .chain(JwtAlg::ALL.into_iter().flat_map(|a| {
                StoreKind::ALL
                    .into_iter()
                    .map(move |s| SchemeId::Hybrid(a, s))
            }))
        {
            let name = id.to_string();
            assert_eq!(name.parse::<SchemeId>(), Ok(id));
            assert_eq!(serde_json::to_string(&id).unwrap(), format!("\"{name}\""));
        }
        for bad in [
            "session-",
            "session-mem",
            "jwt-hs256",
            "paseto-v4-Public",
            "paseto-v3-public",
            "paseto-v4-",
            "jwt-none",
            "cookie-x",
            "hybrid-HS256",
            "hybrid-hs256-memory",
            "hybrid-HS256-mem",
            "hybrid--memory",
            "hybrid-HS256-memory-x",
            "",
        ] {
            assert!(bad.parse::<SchemeId>().is_err(), "{bad}");
        }
        assert!(serde_json::from_str::<SchemeId>("\"jwt-XX\"").is_err());
    }

    #[test]
    fn a_store_spelling_parses_back_to_the_same_spec() {
        for spec in [
            StoreSpec::Memory,
            StoreSpec::RwLock,
            StoreSpec::Redis("redis://:secret@127.0.0.1:6379/2".into()),
            StoreSpec::Redis("redis+cluster://10.0.0.1:7000,10.0.0.2:7000".into()),
            StoreSpec::Postgres("postgres://alice:secret@127.0.0.1:5432/test".into()),
            StoreSpec::Postgres("postgresql://127.0.0.1/test".into()),
        ] {
            assert_eq!(spec.spelling().parse::<StoreSpec>(), Ok(spec.clone()));
            assert!(!spec.redacted().contains("secret"), "{}", spec.redacted());
            assert!(!format!("{:?}", spec.without_password()).contains("secret"));
            assert_eq!(spec.without_password().kind(), spec.kind());
        }
    }

    #[test]
    fn postgres_stores_parse_with_a_clear_error_and_no_password() {
        let spec: StoreSpec = "postgres://127.0.0.1:5432/test".parse().unwrap();
        assert_eq!(spec.kind(), StoreKind::Postgres);
        assert!(spec.is_remote() && !spec.kind().holds_denylists());
        assert_eq!(
            SchemeSpec::Session(spec).name(),
            "session-postgres",
            "the scheme's name"
        );
        let list = StoreSpec::parse_list("memory,postgresql://u:pw@h/db,redis://h").unwrap();
        assert_eq!(list.len(), 3);
        for bad in ["postgres", "postgres://u:hunter2@h:port/db"] {
            let err = bad.parse::<StoreSpec>().unwrap_err();
            assert!(err.contains("postgres://"), "{err}");
            assert!(!err.contains("hunter2"), "{err}");
        }
    }

    #[test]
    fn families_are_told_apart_by_what_their_tokens_do() {
        let session = SchemeId::Session(StoreKind::Redis).capabilities();
        assert!(session.store_lookup && session.revocable_by_delete);
        assert!(!session.carries_claims && !session.claims_readable && !session.expiry_in_token);
        for alg in JwtAlg::ALL {
            let jwt = SchemeId::Jwt(alg).capabilities();
            assert!(jwt.carries_claims && jwt.claims_readable && jwt.expiry_in_token);
            assert!(!jwt.store_lookup && !jwt.revocable_by_delete);
            assert!(jwt.per_crypto_backend);
            // Only the MAC needs the secret to verify.
            assert_eq!(jwt.public_key_verifiable, alg != JwtAlg::HS256, "{alg}");
        }
        let public = SchemeId::Paseto(PasetoPurpose::Public).capabilities();
        let local = SchemeId::Paseto(PasetoPurpose::Local).capabilities();
        for paseto in [public, local] {
            assert!(paseto.carries_claims && paseto.expiry_in_token && !paseto.store_lookup);
            // pasetors brings its own crypto: nothing to measure twice.
            assert!(!paseto.per_crypto_backend);
        }
        // A hybrid's request-path token is its access JWT; the refresh token is what it adds.
        for alg in JwtAlg::ALL {
            let hybrid = SchemeId::Hybrid(alg, StoreKind::Redis).capabilities();
            assert_eq!(
                hybrid,
                Capabilities {
                    refresh_token: true,
                    ..SchemeId::Jwt(alg).capabilities()
                }
            );
            assert!(!hybrid.store_lookup && hybrid.expiry_in_token);
        }
        assert!(!session.refresh_token);
        // v4.local encrypts: the holder sees nothing, and verifying needs the secret.
        assert!(public.claims_readable && public.public_key_verifiable);
        assert!(!local.claims_readable && !local.public_key_verifiable);
    }

    #[test]
    fn a_store_can_be_reached_through_another_address() {
        let proxy: std::net::SocketAddr = "127.0.0.1:40001".parse().unwrap();
        let redis = StoreSpec::Redis("redis://:pw@127.0.0.1:6379/2".into());
        assert_eq!(redis.server_address().as_deref(), Some("127.0.0.1:6379"));
        assert_eq!(
            redis.via(proxy),
            Some(StoreSpec::Redis("redis://:pw@127.0.0.1:40001/2".into()))
        );
        let pg = StoreSpec::Postgres("postgres://alice@127.0.0.1/test".into());
        assert_eq!(pg.server_address().as_deref(), Some("127.0.0.1:5432"));
        assert_eq!(
            pg.via(proxy),
            Some(StoreSpec::Postgres(
                "postgres://alice@127.0.0.1:40001/test".into()
            ))
        );
        let cluster = StoreSpec::Redis("redis+cluster://a:7000,b:7001".into());
        assert_eq!((cluster.server_address(), cluster.via(proxy)), (None, None));
        assert_eq!(StoreSpec::Memory.via(proxy), None);
    }

    #[test]
    fn specs_name_their_identity() {
        let cluster = SchemeSpec::Session(StoreSpec::Redis("redis+cluster://a:1".into()));
        assert_eq!(cluster.name(), "session-redis-cluster");
        assert_eq!(cluster.id().store(), Some(StoreKind::RedisCluster));
        assert_eq!(
            cluster.store().and_then(StoreSpec::url),
            Some("redis+cluster://a:1")
        );
        assert_eq!(SchemeSpec::Jwt(JwtAlg::EdDSA).family(), Family::Jwt);
        let hybrid = SchemeSpec::Hybrid(
            JwtAlg::ES256,
            StoreSpec::Postgres("postgres://u:pw@h/db".into()),
        );
        assert_eq!(hybrid.name(), "hybrid-ES256-postgres");
        assert_eq!(
            (hybrid.alg(), hybrid.id().refresh_store(), hybrid.store()),
            (Some(JwtAlg::ES256), Some(StoreKind::Postgres), None)
        );
        assert_eq!(hybrid.keyed(), SchemeSpec::Jwt(JwtAlg::ES256));
        let json = serde_json::to_string(&hybrid).unwrap();
        assert_eq!(serde_json::from_str::<SchemeSpec>(&json).unwrap(), hybrid);
        assert_eq!("hybrids".parse::<Family>(), Ok(Family::Hybrid));
        assert!(
            SchemeId::Session(StoreKind::Memory).order() < SchemeId::Jwt(JwtAlg::HS256).order()
        );
    }
}
