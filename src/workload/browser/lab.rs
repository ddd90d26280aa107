//! The servers the browser talks to: Superb Site servers in this process (each on its own
//! loopback port, HTTPS with HTTP/2, a certificate for the lab's host names), started on a
//! runtime of their own so the driver's blocking calls never sit on it, and read back
//! through their request logs and counters.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use cookie::SameSite;

use super::{WorkloadError, WorkloadResult};
use crate::http::cors::{CookiePolicy, CorsPolicy};
use crate::http::request_log::LoggedRequest;
use crate::http::serve::{RunningServer, start_with};
use crate::http::users::PasswordParams;
use crate::http::{App, Revocation, ServerConfig, Transport};
use crate::net::tls::{NamedCertificate, self_signed_for, server_config_with};
use crate::scheme::JwtAlg;
use crate::scheme::spec::{SchemeSpec, StoreSpec};

/// The page's host in cross-site rows.
pub const SITE: &str = "site.test";
/// The API's host in cross-site rows: another site.
pub const API: &str = "api.test";
/// The page's host in same-site rows.
pub const WWW_SITE: &str = "www.site.test";
/// The API's host in same-site rows: the same site (`site.test`), another origin.
pub const API_SITE: &str = "api.site.test";
/// Every host Chromium maps to loopback.
pub const HOSTS: [&str; 4] = [SITE, API, WWW_SITE, API_SITE];

/// Demo accounts per server (the workload logs in as `user-0`).
const USERS: usize = 2;
/// Cheap password hashes: the workload measures what the browser does, not argon2id.
const PASSWORD: PasswordParams = PasswordParams {
    memory_kib: 256,
    iterations: 1,
    parallelism: 1,
};

/// What a lab server serves.
#[derive(Debug, Clone)]
pub struct ServerSpec {
    /// The scheme.
    pub scheme: SchemeSpec,
    /// Cookie or bearer.
    pub transport: Transport,
    /// `SameSite` of its cookies.
    pub same_site: SameSite,
    /// `Partitioned` on its cookies.
    pub partitioned: bool,
    /// `Access-Control-Max-Age` of its preflights.
    pub max_age: Option<Duration>,
    /// Records each request's header bytes (`--record-header-bytes`).
    pub record_header_bytes: bool,
}

impl ServerSpec {
    /// A session (memory store) served over cookies, `SameSite=Lax`.
    pub fn session() -> ServerSpec {
        ServerSpec {
            scheme: SchemeSpec::Session(StoreSpec::Memory),
            transport: Transport::Cookie,
            same_site: SameSite::Lax,
            partitioned: false,
            max_age: None,
            record_header_bytes: false,
        }
    }

    /// An HS256 JWT over `transport`, no revocation (the article's default).
    pub fn jwt(transport: Transport) -> ServerSpec {
        ServerSpec {
            scheme: SchemeSpec::Jwt(JwtAlg::HS256),
            transport,
            ..ServerSpec::session()
        }
    }
}

/// The lab: a runtime, the certificate, and the servers started so far.
pub struct Lab {
    runtime: tokio::runtime::Runtime,
    cert: NamedCertificate,
    servers: Vec<RunningServer>,
}

/// One running server and its app (for its log and counters).
#[derive(Clone)]
pub struct Server {
    /// Its state.
    pub app: Arc<App>,
    /// Its port (every lab host name reaches it).
    pub port: u16,
}

impl Server {
    /// `https://HOST:PORT`.
    pub fn origin(&self, host: &str) -> String {
        format!("https://{host}:{}", self.port)
    }

    /// Requests logged after `after`.
    pub fn log_since(&self, after: u64) -> Vec<LoggedRequest> {
        self.app.requests_since(after).unwrap_or_default()
    }

    /// The last sequence number logged.
    pub fn mark(&self) -> u64 {
        self.app.last_request_seq()
    }

    /// The name of its credential cookie.
    pub fn cookie_name(&self) -> String {
        self.app.cookie_name().to_owned()
    }
}

impl Lab {
    /// A runtime and a certificate for [`HOSTS`].
    pub fn new() -> WorkloadResult<Lab> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(|e| WorkloadError::Other(format!("a runtime: {e}")))?;
        let cert = self_signed_for(&HOSTS)
            .map_err(|e| WorkloadError::Other(format!("certificate: {e}")))?;
        Ok(Lab {
            runtime,
            cert,
            servers: Vec::new(),
        })
    }

    /// The base64 SHA-256 of the servers' key, for Chromium's SPKI allowlist.
    pub fn spki(&self) -> &str {
        &self.cert.spki_sha256_b64
    }

    /// Starts a server as `spec` says, allowing the lab's two page origins by CORS.
    pub fn serve(&mut self, spec: &ServerSpec) -> WorkloadResult<Server> {
        let fail = |what: &str, e: String| WorkloadError::Other(format!("{what}: {e}"));
        // Bind first to learn the port the CORS allowlist names.
        let probe = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| fail("a free port", e.to_string()))?;
        let port = probe.port();
        let mut c = ServerConfig::new(spec.scheme.clone(), spec.transport);
        c.users = USERS;
        c.password = PASSWORD;
        c.revocation = Revocation::None;
        c.request_log = true;
        c.record_header_bytes = spec.record_header_bytes;
        c.cookies = CookiePolicy {
            same_site: spec.same_site,
            partitioned: spec.partitioned,
        };
        c.cors = CorsPolicy {
            origins: [SITE, WWW_SITE]
                .iter()
                .map(|h| format!("https://{h}:{port}"))
                .collect(),
            max_age: spec.max_age,
        };
        let app = App::new(c).map_err(|e| fail("server", e.to_string()))?;
        let tls = server_config_with(self.cert.cert.clone(), self.cert.key.clone_key())
            .map_err(|e| fail("TLS", e.to_string()))?;
        let listen = SocketAddr::from(([127, 0, 0, 1], port));
        let running = self
            .runtime
            .block_on(start_with(app.clone(), listen, Some(tls)))
            .map_err(|e| fail("listening", e.to_string()))?;
        self.servers.push(running);
        Ok(Server { app, port })
    }

    /// Stops every server.
    pub fn shutdown(mut self) {
        let servers = std::mem::take(&mut self.servers);
        self.runtime.block_on(async {
            for s in servers {
                s.shutdown().await;
            }
        });
    }
}
