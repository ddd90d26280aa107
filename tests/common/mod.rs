//! Shared fixtures for the conformance suites (schemes in [`suite`], stores in [`store`]):
//! one [`Subject`] per scheme under test,
//! helpers that forge the attack tokens, a private `redis-server` ([`PrivateServer`]) for
//! the tests that kill and restart one, and, in [`skip`], what a Redis test does without
//! Redis (skipped locally with a notice, failed on CI).
//!
//! Included from each test crate that needs it with `mod common;`. Not every crate uses
//! every helper, hence the `dead_code` allowance.
#![allow(dead_code)]

pub mod skip;
#[macro_use]
pub mod store;
#[macro_use]
pub mod suite;

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use tokenbench::claims::ClaimSet;
use tokenbench::clock::{Clock, ManualClock};
use tokenbench::denylist::MemoryDenylist;
use tokenbench::measure::Budget;
use tokenbench::scheme::jwt::JwtKeys;
use tokenbench::scheme::spec::{Family as WorkloadFamily, StoreSpec};
use tokenbench::scheme::{
    HybridConfig, HybridScheme, JwtAlg, JwtConfig, JwtScheme, PasetoPurpose, PasetoScheme,
    RevocationStrategy, SessionConfig, SessionScheme, TokenScheme,
};
use tokenbench::store::{SessionRecord, SessionStore};
use tokenbench::workload::Settings;
use tokenbench::workload::revoke::RevokeParams;
use tokenbench::workload::scale::ScaleParams;
use tokenbench::workload::size::SizeParams;
use tokenbench::workload::validate::ValidateParams;

pub use tokenbench::scheme::spec::SchemeId;

/// A scheme under test with the clock that drives it.
pub struct Subject {
    pub scheme: Arc<dyn TokenScheme>,
    pub clock: Arc<ManualClock>,
    /// The scheme's identity: family, store kind or algorithm (the right reason differs).
    pub id: SchemeId,
    /// Time from issue until an unused token dies (JWT lifetime, session idle timeout).
    pub lifetime: Duration,
    /// A second scheme of the same kind with its own keys or store.
    pub twin: Arc<dyn TokenScheme>,
    /// Public key bytes of an asymmetric JWT scheme.
    pub public_key: Option<Vec<u8>>,
    /// The JWT scheme's own keys, to sign forged headers and claims as its issuer would.
    pub keys: Option<Arc<JwtKeys>>,
    /// The PASETO scheme itself, to seal forged payloads as its issuer would.
    pub paseto: Option<Arc<PasetoScheme>>,
}

pub fn session_config() -> SessionConfig {
    SessionConfig {
        idle_timeout: Duration::from_secs(30 * 60),
        absolute_timeout: Duration::from_secs(8 * 3600),
        ..SessionConfig::default()
    }
}

pub fn session_subject<S: SessionStore>(make_store: impl Fn() -> S) -> Subject {
    let clock = Arc::new(ManualClock::starting_now());
    let config = session_config();
    let scheme = Arc::new(SessionScheme::new(
        make_store(),
        config.clone(),
        clock.clone(),
    ));
    Subject {
        id: id(&scheme.name()),
        scheme,
        twin: Arc::new(SessionScheme::new(
            make_store(),
            config.clone(),
            clock.clone(),
        )),
        clock,
        lifetime: config.idle_timeout,
        public_key: None,
        keys: None,
        paseto: None,
    }
}

pub fn jwt_subject(alg: JwtAlg) -> Subject {
    let clock = Arc::new(ManualClock::starting_now());
    let config = JwtConfig::default();
    let denylist = || RevocationStrategy::CentralDenylist(Arc::new(MemoryDenylist::new()));
    let keys = Arc::new(JwtKeys::generate(alg).unwrap());
    let scheme = JwtScheme::with_keys(keys.clone(), config.clone(), denylist(), clock.clone());
    let twin = JwtScheme::new(alg, config.clone(), denylist(), clock.clone()).unwrap();
    Subject {
        keys: Some(keys),
        public_key: scheme.keys().public_key_bytes().map(<[u8]>::to_vec),
        scheme: Arc::new(scheme),
        twin: Arc::new(twin),
        clock,
        id: SchemeId::Jwt(alg),
        lifetime: config.lifetime,
        paseto: None,
    }
}

/// The hybrid with access tokens of `alg` (a denylist, so `revoke` of an access token
/// works as the suite expects) and refresh families in `make_store()`: the suite judges
/// its access tokens, what `issue` mints and `validate` reads.
pub fn hybrid_subject<S: SessionStore>(alg: JwtAlg, make_store: impl Fn() -> S) -> Subject {
    let clock = Arc::new(ManualClock::starting_now());
    // The suite's forged claims live 10 minutes (`valid_wire_claims`): an access lifetime
    // of a JWT's default 15 minutes accepts them, where the hybrid's default 5 would
    // refuse them all as too long-lived.
    let hybrid = HybridConfig {
        access_lifetime: JwtConfig::default().lifetime,
        ..HybridConfig::default()
    };
    let config = JwtConfig {
        lifetime: hybrid.access_lifetime,
        ..JwtConfig::default()
    };
    let denylist = || RevocationStrategy::CentralDenylist(Arc::new(MemoryDenylist::new()));
    let keys = Arc::new(JwtKeys::generate(alg).unwrap());
    let access = JwtScheme::with_keys(keys.clone(), config.clone(), denylist(), clock.clone());
    let public_key = access.keys().public_key_bytes().map(<[u8]>::to_vec);
    let scheme = HybridScheme::with_access(access, make_store(), hybrid, clock.clone());
    let twin = HybridScheme::new(
        alg,
        make_store(),
        hybrid,
        JwtConfig::default(),
        denylist(),
        clock.clone(),
    )
    .unwrap();
    Subject {
        id: id(&scheme.name()),
        keys: Some(keys),
        public_key,
        scheme: Arc::new(scheme),
        twin: Arc::new(twin),
        clock,
        lifetime: hybrid.access_lifetime,
        paseto: None,
    }
}

pub fn paseto_subject(purpose: PasetoPurpose) -> Subject {
    let clock = Arc::new(ManualClock::starting_now());
    let config = JwtConfig::default();
    let denylist = || RevocationStrategy::CentralDenylist(Arc::new(MemoryDenylist::new()));
    let scheme =
        Arc::new(PasetoScheme::new(purpose, config.clone(), denylist(), clock.clone()).unwrap());
    let twin = PasetoScheme::new(purpose, config.clone(), denylist(), clock.clone()).unwrap();
    Subject {
        public_key: scheme.keys().public_key().map(|k| k.as_bytes().to_vec()),
        keys: None,
        paseto: Some(scheme.clone()),
        scheme,
        twin: Arc::new(twin),
        clock,
        id: SchemeId::Paseto(purpose),
        lifetime: config.lifetime,
    }
}

impl Subject {
    /// A JWT to attack: the subject's own token when it issues JWTs, else one from a
    /// foreign HS256 issuer with the default issuer and audience.
    pub fn jwt_to_attack(&self) -> String {
        match self.id {
            SchemeId::Jwt(_) | SchemeId::Hybrid(..) => self.scheme.issue(&typical()).unwrap(),
            SchemeId::Session(_) | SchemeId::Paseto(_) => {
                let claims = valid_wire_claims(self.clock.now().as_secs());
                sign(
                    Algorithm::HS256,
                    &claims,
                    &EncodingKey::from_secret(b"foreign"),
                )
            }
        }
    }

    /// True for a scheme whose token is an opaque reference to a store record.
    pub fn is_session(&self) -> bool {
        self.id.capabilities().store_lookup
    }

    /// True for a scheme whose tokens are JWS compact serialisations (JWTs): the JWT-shaped
    /// attacks of the suite reach its header, signature and claims policies. Every other
    /// scheme refuses them as malformed, before any lookup or cryptography.
    pub fn speaks_jws(&self) -> bool {
        matches!(self.id, SchemeId::Jwt(_) | SchemeId::Hybrid(..))
    }

    /// A JWT with exactly this header and claims JSON text, signed with the subject's own
    /// key (so only the header and claims policies can refuse it); for a session subject,
    /// signed by a foreign HS256 issuer.
    pub fn forge(&self, header_json: &str, claims_json: &str) -> String {
        let message = format!(
            "{}.{}",
            b64(header_json.as_bytes()),
            b64(claims_json.as_bytes())
        );
        let signature = match &self.keys {
            Some(keys) => keys.sign(message.as_bytes()).unwrap(),
            None => {
                tokenbench::crypto::active();
                jsonwebtoken::crypto::sign(
                    message.as_bytes(),
                    &EncodingKey::from_secret(b"foreign"),
                    Algorithm::HS256,
                )
                .unwrap()
            }
        };
        format!("{message}.{signature}")
    }

    /// [`forge`](Self::forge) with the subject's own header (`{"typ":"JWT","alg":...}`).
    pub fn forge_claims(&self, claims: &Value) -> String {
        self.forge(&self.own_header(), &claims.to_string())
    }

    /// The header the subject's tokens carry (HS256 for a session subject).
    pub fn own_header(&self) -> String {
        let alg = match self.id {
            SchemeId::Jwt(alg) | SchemeId::Hybrid(alg, _) => alg.name(),
            SchemeId::Session(_) | SchemeId::Paseto(_) => "HS256",
        };
        json!({"typ": "JWT", "alg": alg}).to_string()
    }
}

/// The identity of a scheme name, for results lookups in tests.
pub fn id(name: &str) -> tokenbench::scheme::spec::SchemeId {
    name.parse().expect("a scheme name")
}

pub fn typical() -> tokenbench::claims::Claims {
    tokenbench::claims::ClaimSet::Typical.claims("user-42")
}

/// Claims that pass every check but the signature: right iss, aud, sub, exp in the future.
pub fn valid_wire_claims(now: u64) -> Value {
    let c = JwtConfig::default();
    json!({
        "iss": c.issuer, "aud": c.audience, "sub": "user-42", "iat": now,
        "exp": now + 600, "jti": "forged-jti", "roles": ["admin"],
    })
}

pub fn sign(alg: Algorithm, claims: &Value, key: &EncodingKey) -> String {
    tokenbench::crypto::active();
    jsonwebtoken::encode(&Header::new(alg), claims, key).unwrap()
}

pub fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

pub fn segments(token: &str) -> Vec<String> {
    token.split('.').map(str::to_owned).collect()
}

/// Decodes a JWT segment as JSON.
pub fn segment_json(segment: &str) -> Value {
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(segment).unwrap()).unwrap()
}

/// Replaces the character at `i` by another character of the base64url alphabet.
pub fn flip_char(s: &str, i: usize) -> String {
    let mut bytes = s.as_bytes().to_vec();
    bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
    String::from_utf8(bytes).unwrap()
}

/// Re-encodes a base64url segment with the standard alphabet and padding.
pub fn to_standard_padded(segment: &str) -> String {
    STANDARD.encode(URL_SAFE_NO_PAD.decode(segment).unwrap())
}

/// An `alg` header with no signature, in the given casing of "none".
pub fn alg_none_token(casing: &str, now: u64) -> String {
    let header = b64(json!({"alg": casing, "typ": "JWT"}).to_string().as_bytes());
    let payload = b64(valid_wire_claims(now).to_string().as_bytes());
    format!("{header}.{payload}.")
}

// ---------------------------------------------------------------------------------------
// Redis fixtures shared by the store and workload tests.

/// Wall-clock milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    u64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock after 1970")
            .as_millis(),
    )
    .expect("milliseconds fit in u64")
}

/// A record that Redis keeps for an hour (a deadline in the past would be dropped at once).
pub fn record(user: &str) -> SessionRecord {
    let now = now_ms();
    SessionRecord {
        claims: Arc::new(ClaimSet::Typical.claims(user)),
        created_ms: now,
        last_seen_ms: now,
        idle_deadline_ms: now + 60_000,
        absolute_deadline_ms: now + 3_600_000,
        csrf_token: "c".into(),
    }
}

/// Workload options with small budgets over the embedded store and the Redis store at `url`
/// (sessions only, HS256 when JWTs are added): the figures are not the point, the shape of
/// the results is.
pub fn tiny_options(url: &str) -> Tiny {
    let mut settings = Settings::defaults(true);
    settings.stores = vec![StoreSpec::Memory, StoreSpec::Redis(url.to_owned())];
    settings.families = vec![WorkloadFamily::Session];
    settings.budget = Budget {
        warmup: Duration::from_millis(2),
        measure: Duration::from_millis(20),
        batch: Duration::from_micros(50),
    };
    settings.algs = vec![JwtAlg::HS256];
    Tiny {
        settings,
        size: SizeParams {
            memory_sessions: 200,
        },
        validate: ValidateParams {
            live_sessions: 50,
            rounds: 3,
        },
        revoke: RevokeParams {
            validators: 2,
            trials: 3,
            cache_ttl: Duration::from_millis(50),
            poll_interval: Duration::from_millis(50),
        },
        scale: ScaleParams {
            threads: vec![1, 2],
            sessions: vec![50],
            scale_duration: Duration::from_millis(50),
        },
    }
}

/// Settings and each workload's parameters for a run of seconds.
pub struct Tiny {
    pub settings: Settings,
    pub size: SizeParams,
    pub validate: ValidateParams,
    pub revoke: RevokeParams,
    pub scale: ScaleParams,
}

impl Tiny {
    /// The defaults of a quick run, to adjust.
    pub fn quick() -> Tiny {
        Tiny {
            settings: Settings::defaults(true),
            size: SizeParams::defaults(true),
            validate: ValidateParams::defaults(true),
            revoke: RevokeParams::defaults(true),
            scale: ScaleParams::defaults(true),
        }
    }
}

// ---------------------------------------------------------------------------------------
// A private `redis-server`, killed (and sometimes restarted).

/// A local port nothing listens on right now (bound, then released).
pub fn spare_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral port");
    listener.local_addr().expect("local address").port()
}

/// What a [`PrivateServer`] keeps on disk, and so what a restart on the same directory
/// brings back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Persistence {
    /// Nothing: a restarted server starts empty.
    None,
    /// An append-only file, fsync on every write: a restarted server has every key back.
    AppendOnly,
}

/// A throw-away `redis-server` child on its own port and directory, killed on drop.
pub struct PrivateServer {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
    /// `requirepass` of the server, part of its [`url`](Self::url).
    password: Option<String>,
}

/// Whether `program --version` runs.
fn on_path(program: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

impl PrivateServer {
    /// Whether `redis-server` is on `PATH`.
    pub fn available() -> bool {
        on_path("redis-server")
    }

    /// A fresh server on a spare port and directory; `None` when `redis-server` is not on
    /// `PATH` (see [`skip`]: the test is skipped, or failed on CI).
    pub fn start_or_skip(persistence: Persistence) -> Option<Self> {
        Self::ready_or_skip().then(|| {
            Self::start(
                spare_port(),
                tempfile::tempdir().expect("tempdir"),
                persistence,
            )
        })
    }

    /// [`start_or_skip`](Self::start_or_skip) for a server that requires `password`
    /// (`requirepass`); its [`url`](Self::url) carries it.
    pub fn start_with_password_or_skip(password: &str) -> Option<Self> {
        Self::ready_or_skip().then(|| {
            Self::start_with(
                spare_port(),
                tempfile::tempdir().expect("tempdir"),
                &["--appendonly", "no", "--requirepass", password],
                Some(password),
            )
        })
    }

    fn ready_or_skip() -> bool {
        let ready = Self::available();
        if !ready {
            skip::skip_or_fail("redis-server is not on PATH", skip::on_ci());
        }
        ready
    }

    /// Starts `redis-server` on `port` with its files in `dir`, and waits (up to 10 s) until
    /// it answers `PING`. Restart a killed server with the port and directory that
    /// [`kill`](Self::kill) returns, and the same `persistence`.
    pub fn start(port: u16, dir: tempfile::TempDir, persistence: Persistence) -> Self {
        let appendonly: &[&str] = match persistence {
            Persistence::None => &["--appendonly", "no"],
            Persistence::AppendOnly => &["--appendonly", "yes", "--appendfsync", "always"],
        };
        Self::start_with(port, dir, appendonly, None)
    }

    /// [`start`](Self::start) with these extra `redis-server` arguments, and the
    /// `requirepass` they set, if any.
    fn start_with(
        port: u16,
        dir: tempfile::TempDir,
        extra: &[&str],
        password: Option<&str>,
    ) -> Self {
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", ""])
            .args(extra)
            .args(["--daemonize", "no"])
            .arg("--dir")
            .arg(dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn redis-server");
        let server = Self {
            child,
            port,
            dir,
            password: password.map(str::to_owned),
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while !server.answers() {
            assert!(
                Instant::now() < deadline,
                "redis-server on port {port} did not come up"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        server
    }

    /// `redis://[:password@]127.0.0.1:<port>/`.
    pub fn url(&self) -> String {
        let auth = self
            .password
            .as_ref()
            .map_or_else(String::new, |p| format!(":{p}@"));
        format!("redis://{auth}127.0.0.1:{}/", self.port)
    }

    /// Whether the server answers `PING` now.
    pub fn answers(&self) -> bool {
        redis::Client::open(self.url())
            .and_then(|c| c.get_connection_with_timeout(Duration::from_millis(200)))
            .and_then(|mut c| redis::cmd("PING").query::<String>(&mut c))
            .is_ok()
    }

    /// Keys in database 0 (0 when the server does not answer).
    pub fn keys(&self) -> u64 {
        redis::Client::open(self.url())
            .and_then(|c| c.get_connection_with_timeout(Duration::from_millis(200)))
            .and_then(|mut c| redis::cmd("DBSIZE").query(&mut c))
            .unwrap_or(0)
    }

    /// SIGKILL, and wait until the process is gone: no goodbye to clients. Returns the port
    /// and the directory, for a restart.
    pub fn kill(mut self) -> (u16, tempfile::TempDir) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        // Move the directory out; Drop below only reaps the (already dead) child.
        let dir = std::mem::replace(&mut self.dir, tempfile::tempdir().expect("tempdir"));
        (self.port, dir)
    }
}

/// A throw-away Redis Cluster of private servers (primaries only, no replicas), killed on
/// drop. Needs `redis-server` and `redis-cli` (for `--cluster create`).
pub struct PrivateCluster {
    nodes: Vec<PrivateServer>,
}

impl PrivateCluster {
    /// Whether `redis-server` and `redis-cli` are on `PATH`.
    pub fn available() -> bool {
        PrivateServer::available() && on_path("redis-cli")
    }

    /// A fresh cluster of `n` nodes; `None` when `redis-server` or `redis-cli` is not on
    /// `PATH` (see [`skip`]: the test is skipped, or failed on CI).
    pub fn start_or_skip(n: usize) -> Option<Self> {
        if Self::available() {
            Some(Self::start(n))
        } else {
            skip::skip_or_fail("redis-server or redis-cli is not on PATH", skip::on_ci());
            None
        }
    }

    /// A three-node cluster shared by the tests that run at the same time (each keeps its
    /// own key prefix): started by the first, killed when the last one drops it. `None` as
    /// for [`start_or_skip`](Self::start_or_skip).
    pub fn shared_or_skip() -> Option<Arc<Self>> {
        static CURRENT: std::sync::Mutex<std::sync::Weak<PrivateCluster>> =
            std::sync::Mutex::new(std::sync::Weak::new());
        let mut current = CURRENT
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(cluster) = current.upgrade() {
            return Some(cluster);
        }
        let cluster = Arc::new(Self::start_or_skip(3)?);
        *current = Arc::downgrade(&cluster);
        Some(cluster)
    }

    /// Starts `n` (at least 3) cluster-enabled servers, assigns them the 16384 slots and
    /// waits (up to 20 s) until every node reports `cluster_state:ok`.
    pub fn start(n: usize) -> Self {
        assert!(n >= 3, "redis-cli --cluster create needs 3 primaries");
        let nodes: Vec<PrivateServer> = (0..n)
            .map(|_| {
                PrivateServer::start_with(
                    cluster_port(),
                    tempfile::tempdir().expect("tempdir"),
                    &[
                        "--appendonly",
                        "no",
                        "--cluster-enabled",
                        "yes",
                        "--cluster-config-file",
                        "nodes.conf",
                        "--cluster-node-timeout",
                        "5000",
                    ],
                    None,
                )
            })
            .collect();
        let status = Command::new("redis-cli")
            .args(["--cluster", "create"])
            .args(nodes.iter().map(|s| format!("127.0.0.1:{}", s.port)))
            .args(["--cluster-replicas", "0", "--cluster-yes"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("run redis-cli --cluster create");
        assert!(status.success(), "redis-cli --cluster create failed");
        let cluster = Self { nodes };
        let deadline = Instant::now() + Duration::from_secs(20);
        while !cluster.is_ok() {
            assert!(Instant::now() < deadline, "the cluster did not become ok");
            std::thread::sleep(Duration::from_millis(50));
        }
        cluster
    }

    fn is_ok(&self) -> bool {
        self.nodes.iter().all(|s| {
            redis::Client::open(s.url())
                .and_then(|c| c.get_connection_with_timeout(Duration::from_millis(200)))
                .and_then(|mut c| redis::cmd("CLUSTER").arg("INFO").query::<String>(&mut c))
                .is_ok_and(|info| info.contains("cluster_state:ok"))
        })
    }

    /// `redis+cluster://127.0.0.1:<port>,...` naming every node.
    pub fn url(&self) -> String {
        let nodes: Vec<String> = self
            .nodes
            .iter()
            .map(|s| format!("127.0.0.1:{}", s.port))
            .collect();
        format!("redis+cluster://{}", nodes.join(","))
    }

    /// The plain `redis://` URL of each node.
    pub fn node_urls(&self) -> Vec<String> {
        self.nodes.iter().map(PrivateServer::url).collect()
    }

    /// SIGKILLs node `i` (its slots stay assigned to it, so they fail until it is back).
    pub fn kill_node(&mut self, i: usize) {
        let _ = self.nodes.remove(i).kill();
    }

    /// Keys held by each node.
    pub fn keys_per_node(&self) -> Vec<u64> {
        self.nodes.iter().map(PrivateServer::keys).collect()
    }
}

/// A spare port whose cluster bus port (+10 000) is spare too.
fn cluster_port() -> u16 {
    loop {
        let port = spare_port();
        if port <= u16::MAX - 10_000 && TcpListener::bind(("127.0.0.1", port + 10_000)).is_ok() {
            return port;
        }
    }
}

impl Drop for PrivateServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
