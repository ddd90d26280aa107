//! The "Superb Site": an HTTP server that runs the article's login flow over any
//! [`TokenScheme`](crate::scheme::TokenScheme), for `tokenbench serve` and the `http` workload.
//! Design, security choices and figures: HTTP.md.
//!
//! - [`config`]: what to serve ([`ServerConfig`]), and what logout does ([`LogoutOutcome`]).
//! - [`app`]: the shared state ([`App`]), the [`router`], and the one blocking adapter.
//! - `credential`: the credential of the scheme served, one trait object chosen by the
//!   scheme's capabilities (a record in a store, or a self-contained token).
//! - `routes`, `extract`, `error`: the handlers, reading credentials from requests, and the
//!   status of every failure (client mistakes are always 4xx).
//! - [`users`]: the demo accounts (argon2id; demo only: the passwords are public).
//! - [`csrf`]: signed double-submit CSRF tokens for self-contained credentials.
//! - [`metrics`]: what the server counts about itself (`GET /metrics`).
//! - [`cors`]: the cross-origin policy (`--cors-origin`, `--cors-max-age`) and the cookie
//!   attributes (`--samesite`, `--partitioned`).
//! - [`request_log`]: which credential each request carried (`--request-log`,
//!   `GET /requests`).
//! - [`recorder`]: the header bytes each request arrived with (`--record-header-bytes`,
//!   `GET /debug/header-bytes`).
//! - [`serve`]: listener, accept loop, HTTP/1.1 + h2c (+ TLS/ALPN).
//! - [`child`]: a `tokenbench serve` child process, as the workload and tests start it.
//! - [`args`]: the flags of `tokenbench serve`.
//! - [`site`]: one site, many nodes (`--site NAME --key-dir DIR`): shared records and keys,
//!   verify-only nodes, the JWKS, and [`site::remove`], the cleanup of a site.
//!
//! Sockets, TLS and process CPU are shared with the load generator through [`crate::net`].
//!
//! # Routes (a contract that tools outside this repository use)
//!
//! | route | answer |
//! |---|---|
//! | `GET /health` | 200 |
//! | `GET /login` | 200 HTML form with a hidden `csrf` input (cookie transport: sets the pre-login cookie) |
//! | `POST /login` | form `username`, `password`, `csrf`; cookie: 303 to `/me` with a new credential cookie; bearer: 200 JSON `access_token`; 401 on bad credentials; 403 on a login-CSRF failure |
//! | `GET /me` | 200 JSON `sub`, `roles`, `expires_at` and, for cookies, `csrf`; 401 otherwise |
//! | `GET /floor` | 200, the body of `GET /me` from fixed claims, no credential: the stack's floor (same layers and blocking path, no token work) |
//! | `POST /api/notes` | 201; cookie transport needs `X-CSRF-Token` (403 without) |
//! | `POST /logout` | 204 (cookie: a clearing `Set-Cookie`); header `X-Token-Revocation` says whether the credential is dead (`revoked`) or lives until its expiry (`expiry-only`, with `X-Token-Expires`) |
//! | `POST /token/refresh` | the hybrid only (404 otherwise): bearer, JSON `{"refresh_token"}` → 200 JSON `access_token`, `refresh_token`; cookie, the `__Secure-refresh` cookie (`Path=/token/refresh`) and `X-CSRF-Token` bound to the access cookie (403 without) → 200 JSON `csrf` and both cookies renewed; 401 for an unknown, expired or reused refresh token (a reuse revokes its family); 400 for a bearer body that is no such JSON |
//! | `GET /metrics` | 200 JSON [`MetricsSnapshot`](crate::net::metrics::MetricsSnapshot) (not counted as a request) |
//! | `GET /requests?after=SEQ` | 200 JSON list of [`LoggedRequest`](request_log::LoggedRequest) (which credential each request carried, names only) with `--request-log`; 404 without (not counted as a request) |
//! | `OPTIONS *` (CORS preflight) | with `--cors-origin`: 204 and the CORS headers for an allowlisted `Origin`, 403 for any other; without: as before (405) |
//! | `GET /debug/header-bytes` | with `--record-header-bytes`: 200 JSON [`HeaderBytesReport`](crate::net::header_tap::HeaderBytesReport), the header bytes of every request so far, per connection in order (not counted as a request); 404 without the flag |
//! | `GET /.well-known/jwks.json` | 200 the public key ([`site::jwks_document`]): a JWK set for a JWT, a PASERK document for `v4.public`; 404 for schemes without a public key |
//!
//! A verify-only node (`--verify-only`) answers `GET /login` and `POST /login` with 403.
//!
//! With `--cors-origin`, every answer to an allowlisted `Origin` echoes it in
//! `Access-Control-Allow-Origin` with `Access-Control-Allow-Credentials: true` (never `*`),
//! and every answer carries `Vary: Origin` ([`cors`]).

pub mod app;
pub mod args;
pub mod child;
pub mod config;
pub mod cors;
mod credential;
pub mod csrf;
mod error;
mod extract;
pub mod metrics;
pub mod recorder;
pub mod request_log;
mod routes;
pub mod serve;
pub mod site;
pub mod users;

pub use app::{App, router};
pub use config::{Limits, LogoutOutcome, Revocation, ServerConfig, Transport};
pub use error::ApiError;
pub use site::SiteConfig;

use crate::net::tls::TlsError;
use crate::scheme::SchemeError;
use crate::scheme::keyfile::KeyFileError;
use crate::store::StoreError;

/// Why the server could not be built or started.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    /// The scheme could not be built.
    #[error(transparent)]
    Scheme(#[from] SchemeError),
    /// Its store or denylist could not be reached.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The site's key directory or a key file was refused (never used) or unreadable.
    #[error(transparent)]
    KeyFile(#[from] KeyFileError),
    /// A configuration that makes no sense (named in the message).
    #[error("invalid server configuration: {0}")]
    Config(String),
    /// The certificate or the TLS configuration could not be made.
    #[error(transparent)]
    Tls(#[from] TlsError),
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
