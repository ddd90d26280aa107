//! What a server serves: the scheme (as data, [`SchemeSpec`]), how the credential travels
//! ([`Transport`]), how a JWT is revoked at logout ([`Revocation`]), and the protective
//! [`Limits`]. [`ServerConfig`] is built from `tokenbench serve`'s flags or by hand.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::users::PasswordParams;
use crate::scheme::{JwtAlg, JwtConfig, SessionConfig};
use crate::workload::{SchemeSpec, StoreSpec};

/// How the credential travels between browser (or client) and server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Transport {
    /// A hardened `__Host-` cookie (HttpOnly, Secure, SameSite, Path=/); state-changing
    /// requests must echo a CSRF token in `X-CSRF-Token`.
    Cookie,
    /// `Authorization: Bearer <token>` (RFC 6750); no ambient credential, so no CSRF token.
    Bearer,
}

impl Transport {
    /// Both transports, cookie first.
    pub const ALL: [Transport; 2] = [Transport::Cookie, Transport::Bearer];

    /// Name on the command line and in results.
    pub fn name(self) -> &'static str {
        match self {
            Transport::Cookie => "cookie",
            Transport::Bearer => "bearer",
        }
    }
}

impl fmt::Display for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Transport {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "cookie" | "cookies" => Ok(Transport::Cookie),
            "bearer" | "header" => Ok(Transport::Bearer),
            _ => Err(format!(
                "unknown transport '{s}' (expected cookie or bearer)"
            )),
        }
    }
}

/// What `POST /logout` does to a JWT.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Revocation {
    /// Nothing: the token stays valid until its `exp` (logout only clears the cookie).
    None,
    /// Its `jti` goes on a central denylist checked by every request: in process memory
    /// ([`MemoryDenylist`](crate::denylist::MemoryDenylist)), or in Redis
    /// ([`RedisDenylist`](crate::denylist::RedisDenylist)) when a `redis://` store is given.
    Denylist,
}

impl FromStr for Revocation {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "none" | "expiry" | "expiry-only" => Ok(Revocation::None),
            "denylist" | "deny" => Ok(Revocation::Denylist),
            _ => Err(format!(
                "unknown revocation '{s}' (expected none or denylist)"
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
    /// The scheme, as data: a session scheme on a store, or a JWT algorithm.
    pub scheme: SchemeSpec,
    /// Cookie or bearer.
    pub transport: Transport,
    /// JWT revocation at logout (ignored for sessions, which are always deleted).
    pub revocation: Revocation,
    /// Where a JWT denylist lives when [`Revocation::Denylist`]: `None` in memory, or a
    /// `redis://` URL.
    pub denylist_redis: Option<String>,
    /// Demo accounts `user-<i>` / `password-<i>` for i below this.
    pub users: usize,
    /// Session timeouts and cookie settings.
    pub session: SessionConfig,
    /// JWT issuer, audience and lifetime.
    pub jwt: JwtConfig,
    /// Protective limits.
    pub limits: Limits,
    /// argon2id cost of the demo password hashes.
    pub password: PasswordParams,
}

impl ServerConfig {
    /// A configuration with default timeouts and limits.
    pub fn new(scheme: SchemeSpec, transport: Transport) -> ServerConfig {
        ServerConfig {
            scheme,
            transport,
            revocation: Revocation::None,
            denylist_redis: None,
            users: 100,
            session: SessionConfig::default(),
            jwt: JwtConfig::default(),
            limits: Limits::default(),
            password: PasswordParams::default(),
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

    /// What logout does to the credential: `revoked` (session deleted, `jti` denylisted)
    /// or `expiry-only` (a JWT without a denylist lives until `exp`).
    pub fn logout_semantics(&self) -> &'static str {
        match (&self.scheme, self.revocation) {
            (SchemeSpec::Session(_), _)
            | (SchemeSpec::Jwt(_) | SchemeSpec::Paseto(_), Revocation::Denylist) => "revoked",
            (SchemeSpec::Jwt(_) | SchemeSpec::Paseto(_), Revocation::None) => "expiry-only",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_and_refuse_nonsense() {
        assert_eq!("Cookie".parse::<Transport>(), Ok(Transport::Cookie));
        assert_eq!("bearer".parse::<Transport>(), Ok(Transport::Bearer));
        assert!("smoke".parse::<Transport>().is_err());
        assert_eq!("denylist".parse::<Revocation>(), Ok(Revocation::Denylist));
        assert!("sometimes".parse::<Revocation>().is_err());
    }
}
