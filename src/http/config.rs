//! What a server serves: the scheme (as data, [`SchemeSpec`]), how the credential travels
//! ([`Transport`]), what logout does to a self-contained token ([`Revocation`], and the
//! one decision of the outcome, [`LogoutOutcome::of`]), the site it belongs to
//! ([`SiteConfig`]), a per-node session cache, and the protective [`Limits`].
//! [`ServerConfig`] is built from `tokenbench serve`'s flags or by hand.

use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::cors::{CookiePolicy, CorsPolicy};
use super::site::SiteConfig;
use super::users::PasswordParams;
use crate::claims::ClaimSet;
pub use crate::net::Transport;
use crate::scheme::spec::{Capabilities, SchemeSpec, StoreSpec};
use crate::scheme::{HybridConfig, JwtAlg, JwtConfig, SessionConfig};

/// What `POST /logout` does to a self-contained token (one that carries its claims); a
/// token revocable by deleting its record (a session) is deleted whatever this says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Revocation {
    /// Nothing: the token stays valid until its own expiry (logout only clears the cookie).
    None,
    /// Its identity (a JWT's `jti`) goes on a central denylist looked up by every request:
    /// in process memory ([`MemoryDenylist`](crate::denylist::MemoryDenylist)), or in Redis
    /// ([`RedisDenylist`](crate::denylist::RedisDenylist)) when a `redis://` store is given.
    Denylist,
    /// A copy of the denylist in each node's memory, fed by Redis pub/sub
    /// ([`RedisPushedDenylist`](crate::denylist::RedisPushedDenylist)): lookups stay in
    /// the process. Needs a `redis://` store.
    Pushed,
    /// A copy of the denylist in each node's memory, copied whole from Redis every
    /// `--poll-interval` ([`PolledDenylist`](crate::denylist::PolledDenylist) over a
    /// [`RedisDenylist`](crate::denylist::RedisDenylist)). Needs a `redis://` store.
    Polled,
}

impl Revocation {
    /// Every strategy, in the order `--revocation` lists them.
    pub const ALL: [Revocation; 4] = [
        Revocation::None,
        Revocation::Denylist,
        Revocation::Pushed,
        Revocation::Polled,
    ];

    /// `none`, `denylist`, `pushed` or `polled`: the `--revocation` spelling.
    pub fn name(self) -> &'static str {
        match self {
            Revocation::None => "none",
            Revocation::Denylist => "denylist",
            Revocation::Pushed => "pushed",
            Revocation::Polled => "polled",
        }
    }

    /// Whether a server of a scheme with `caps` needs a denylist: only a token that no
    /// delete can revoke, and only when asked.
    pub fn needs_denylist(self, caps: Capabilities) -> bool {
        self != Revocation::None && !caps.revocable_by_delete
    }

    /// Whether the strategy keeps a copy per node fed from Redis (pushed, polled), so it
    /// cannot run without a `redis://` store.
    pub fn needs_redis(self) -> bool {
        matches!(self, Revocation::Pushed | Revocation::Polled)
    }
}

/// What `POST /logout` did to the credential, as `X-Token-Revocation` and `http.json` say.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LogoutOutcome {
    /// Dead at once: its record deleted, or its identity denylisted.
    Revoked,
    /// Valid until its own expiry: a self-contained token without a denylist.
    ExpiryOnly,
}

impl LogoutOutcome {
    /// **The** decision, for the server's answer and the workload's results alike: a token
    /// revocable by delete is revoked; a self-contained one only with a denylist.
    pub fn of(caps: Capabilities, revocation: Revocation) -> LogoutOutcome {
        if caps.revocable_by_delete || revocation.needs_denylist(caps) {
            LogoutOutcome::Revoked
        } else {
            LogoutOutcome::ExpiryOnly
        }
    }

    /// `revoked` or `expiry-only`.
    pub fn name(self) -> &'static str {
        match self {
            LogoutOutcome::Revoked => "revoked",
            LogoutOutcome::ExpiryOnly => "expiry-only",
        }
    }
}

impl FromStr for Revocation {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "none" | "expiry" | "expiry-only" => Ok(Revocation::None),
            "denylist" | "deny" | "central" => Ok(Revocation::Denylist),
            "pushed" | "push" => Ok(Revocation::Pushed),
            "polled" | "poll" => Ok(Revocation::Polled),
            _ => Err(format!(
                "unknown revocation '{s}' (expected none, denylist, pushed or polled)"
            )),
        }
    }
}

/// Protective limits: nothing a client sends can make the server use unbounded memory or
/// hold a connection forever.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Limits {
    /// Largest total size of the request headers (names, values and separators); larger
    /// requests get 431.
    pub max_header_bytes: usize,
    /// Largest request body (the login form, a note); larger ones get 413.
    pub max_body_bytes: usize,
    /// Requests handled at once across all connections; beyond it requests are shed with
    /// 503 and `Retry-After` (load shedding, so queues and memory stay bounded).
    pub max_inflight: usize,
    /// Connections open at once; beyond it new connections wait in the kernel's backlog.
    pub max_connections: usize,
    /// HTTP/2 streams per connection.
    pub max_h2_streams: u32,
    /// A client must send a request's headers within this time (HTTP/1.1), else the
    /// connection is closed: stalled and slow-loris clients time out.
    pub header_read_timeout: Duration,
    /// Whole-request deadline; past it the answer is 408.
    pub request_timeout: Duration,
    /// TLS handshakes must finish within this time.
    pub tls_handshake_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_header_bytes: 16 * 1024,
            max_body_bytes: 16 * 1024,
            max_inflight: 1024,
            max_connections: 4096,
            max_h2_streams: 256,
            header_read_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(10),
            tls_handshake_timeout: Duration::from_secs(5),
        }
    }
}

/// Everything a server needs to know.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// The scheme, as data; the server builds it and picks its credential handling from
    /// the scheme's capabilities.
    pub scheme: SchemeSpec,
    /// Cookie or bearer.
    pub transport: Transport,
    /// What logout does to a self-contained token (ignored for a scheme revocable by
    /// delete, which is always deleted).
    pub revocation: Revocation,
    /// Where the denylist lives when one is needed: `None` in memory, or a `redis://` URL
    /// (required by [`Revocation::Pushed`] and [`Revocation::Polled`]).
    pub denylist_redis: Option<String>,
    /// How often a [`Revocation::Polled`] node copies the denylist.
    pub poll_interval: Duration,
    /// A per-node cache of this lifetime in front of a session store
    /// ([`CachedScheme`](crate::scheme::CachedScheme)); `None`: every request asks the store.
    pub session_cache: Option<Duration>,
    /// The site this node belongs to (shared records and keys); `None`: a site of its own
    /// (random store namespace, fresh keys, its records deleted when it stops).
    pub site: Option<SiteConfig>,
    /// Demo accounts `user-<i>` / `password-<i>` for i below this.
    pub users: usize,
    /// Session timeouts and cookie settings.
    pub session: SessionConfig,
    /// Issuer, audience and lifetime of self-contained tokens.
    pub jwt: JwtConfig,
    /// The hybrid's access lifetime, refresh lifetime and reuse grace (ignored by the other
    /// families).
    pub hybrid: HybridConfig,
    /// Protective limits.
    pub limits: Limits,
    /// argon2id cost of the demo password hashes.
    pub password: PasswordParams,
    /// Cross-origin policy (default: no origin allowed, no CORS header sent).
    pub cors: CorsPolicy,
    /// `SameSite` and `Partitioned` of every cookie set (default: `Lax`, not partitioned).
    pub cookies: CookiePolicy,
    /// Keeps which credential each request carried, for `GET /requests` (default off).
    pub request_log: bool,
    /// Record the header bytes each request arrives with (`--record-header-bytes`), read
    /// back with `GET /debug/header-bytes` ([`super::recorder`]); off: nothing recorded,
    /// the route answers 404.
    pub record_header_bytes: bool,
    /// The claim set a login issues (`--claims`; typical by default).
    pub login_claims: ClaimSet,
}

impl ServerConfig {
    /// A configuration with default timeouts and limits.
    pub fn new(scheme: SchemeSpec, transport: Transport) -> ServerConfig {
        ServerConfig {
            scheme,
            transport,
            revocation: Revocation::None,
            denylist_redis: None,
            poll_interval: Duration::from_secs(1),
            session_cache: None,
            site: None,
            users: 100,
            session: SessionConfig::default(),
            jwt: JwtConfig::default(),
            hybrid: HybridConfig::default(),
            limits: Limits::default(),
            password: PasswordParams::default(),
            cors: CorsPolicy::default(),
            cookies: CookiePolicy::default(),
            request_log: false,
            record_header_bytes: false,
            login_claims: ClaimSet::Typical,
        }
    }

    /// A session scheme on `store`.
    pub fn session(store: StoreSpec, transport: Transport) -> ServerConfig {
        ServerConfig::new(SchemeSpec::Session(store), transport)
    }

    /// A JWT scheme signing with `alg`.
    pub fn jwt(alg: JwtAlg, transport: Transport) -> ServerConfig {
        ServerConfig::new(SchemeSpec::Jwt(alg), transport)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scheme::spec::{SchemeId, StoreKind};

    #[test]
    fn names_parse_and_refuse_nonsense() {
        for r in Revocation::ALL {
            assert_eq!(r.name().parse::<Revocation>(), Ok(r));
            let json = serde_json::to_string(&r).unwrap();
            assert_eq!(json, format!("\"{}\"", r.name()));
        }
        assert!("sometimes".parse::<Revocation>().is_err());
        assert!(Revocation::Pushed.needs_redis() && Revocation::Polled.needs_redis());
        assert!(!Revocation::Denylist.needs_redis());
    }

    #[test]
    fn logout_revokes_by_delete_or_with_a_denylist_only() {
        let session = SchemeId::Session(StoreKind::Memory).capabilities();
        let jwt = SchemeId::Jwt(JwtAlg::ES256).capabilities();
        for r in Revocation::ALL {
            assert_eq!(LogoutOutcome::of(session, r), LogoutOutcome::Revoked);
            assert!(
                !r.needs_denylist(session),
                "a session is deleted, never denylisted"
            );
        }
        assert_eq!(
            LogoutOutcome::of(jwt, Revocation::None).name(),
            "expiry-only"
        );
        assert_eq!(
            LogoutOutcome::of(jwt, Revocation::Denylist).name(),
            "revoked"
        );
        for r in [Revocation::Denylist, Revocation::Pushed, Revocation::Polled] {
            assert!(r.needs_denylist(jwt));
            assert_eq!(LogoutOutcome::of(jwt, r), LogoutOutcome::Revoked);
        }
    }
}
