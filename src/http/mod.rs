//! The "Superb Site": an HTTP server that runs the article's login flow over any
//! [`TokenScheme`](crate::scheme::TokenScheme), for `tokenbench serve` and the `http` workload.
//!
//! - [`config`]: what to serve ([`ServerConfig`]: scheme, transport, limits), built from the
//!   command line or by hand (tests, the workload).
//! - [`app`]: the shared state ([`App`]) and the [`router`] with every route and layer; the
//!   one place where blocking scheme calls are adapted to async ([`App::blocking`]).
//! - `routes`, `credential`, `error`: the handlers, reading credentials from requests,
//!   and the mapping of every failure to a status (client mistakes are always 4xx).
//! - [`users`]: the demo accounts, argon2id hashes (demo only: the passwords are public).
//! - [`csrf`]: signed double-submit CSRF tokens for JWTs carried in a cookie.
//! - [`metrics`]: what the server counts about itself (`GET /metrics`): process CPU, bytes
//!   on the socket, requests, CPU spent in the token scheme.
//! - [`tls`]: the certificate generated at start-up and the rustls configurations.
//! - [`serve`]: listener, accept loop, byte-counting streams, HTTP/1.1 + h2c (+ TLS/ALPN).
//! - [`child`]: a `tokenbench serve` child process, as the workload and tests start it.
//! - [`args`], [`cli`]: the `serve` subcommand.
//!
//! # Routes (a contract that tools outside this repository use)
//!
//! | route | answer |
//! |---|---|
//! | `GET /health` | 200 |
//! | `GET /login` | 200 HTML form with a hidden `csrf` input (cookie transport: sets the pre-login cookie) |
//! | `POST /login` | form `username`, `password`, `csrf`; cookie: 303 to `/me` with a new credential cookie; bearer: 200 JSON `access_token`; 401 on bad credentials; 403 on a login-CSRF failure |
//! | `GET /me` | 200 JSON `sub`, `roles`, `expires_at` and, for cookies, `csrf`; 401 otherwise |
//! | `POST /api/notes` | 201; cookie transport needs `X-CSRF-Token` (403 without) |
//! | `POST /logout` | 204 (cookie: a clearing `Set-Cookie`); header `X-Token-Revocation` says whether the credential is dead (`revoked`) or lives until `exp` (`expiry-only`) |
//! | `GET /metrics` | 200 JSON [`MetricsSnapshot`](metrics::MetricsSnapshot) (not counted as a request) |

pub mod app;
pub mod args;
pub mod child;
pub mod config;
mod credential;
pub mod csrf;
mod error;
pub mod metrics;
mod routes;
pub mod serve;
pub mod tls;
pub mod users;

pub use app::{App, router};
pub use config::{Limits, Revocation, ServerConfig, Transport};
pub use error::ApiError;

/// Why the server could not be built or started.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    /// The scheme, its store or its denylist could not be built.
    #[error(transparent)]
    Workload(#[from] crate::workload::WorkloadError),
    /// A configuration that makes no sense (named in the message).
    #[error("invalid server configuration: {0}")]
    Config(String),
    /// The certificate or the TLS configuration could not be made.
    #[error("TLS: {0}")]
    Tls(String),
    /// Hashing the demo passwords failed.
    #[error("demo accounts: {0}")]
    Users(String),
    /// Binding, accepting or another socket operation failed.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// The underlying error.
        source: std::io::Error,
    },
}

impl HttpError {
    /// An I/O error with what was being done.
    pub fn io(what: impl Into<String>, source: std::io::Error) -> HttpError {
        HttpError::Io {
            what: what.into(),
            source,
        }
    }
}
