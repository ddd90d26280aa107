//! The servers the browser talks to: Superb Site servers in this process (each on its own
//! loopback port, HTTPS with HTTP/2, a certificate for the lab's host names), started on a
//! runtime of their own so the driver's blocking calls never sit on it, and read back
//! through their request logs and counters.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use cookie::SameSite;

use super::driver::Launch;
use super::{WorkloadError, WorkloadResult};
use crate::http::cors::{CookiePolicy, CorsPolicy};
use crate::http::request_log::LoggedRequest;
use crate::http::serve::{RunningServer, start_with};
use crate::http::users::PasswordParams;
use crate::http::{App, Revocation, ServerConfig, Transport};
use crate::net::tls::{NamedCertificate, self_signed_for, server_config_with};
use crate::scheme::JwtAlg;
use crate::scheme::spec::{SchemeSpec, StoreSpec};

/// Lanes of host names, one per login flow (five): experiments in one browser profile
/// keep their cookies, storage and connections apart by using a lane each (lane 0 is
/// `site.test`, `api.test`, `www.site.test`, `api.site.test`; lane k adds k to the
/// registrable names).
pub const LANES: usize = 5;

/// The four host names of a lane.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Names {
    /// The page's host in cross-site rows (`site.test`).
    pub site: String,
    /// The API's host in cross-site rows: another site (`api.test`).
    pub api: String,
    /// The page's host in same-site rows (`www.site.test`).
    pub www: String,
    /// The API's host in same-site rows: the same site as `www`, another origin
    /// (`api.site.test`).
    pub api_site: String,
}

impl Names {
    /// The names of lane `k`.
    pub fn lane(k: usize) -> Names {
        let n = if k == 0 { String::new() } else { k.to_string() };
        Names {
            site: format!("site{n}.test"),
            api: format!("api{n}.test"),
            www: format!("www.site{n}.test"),
            api_site: format!("api.site{n}.test"),
        }
    }

    /// The four names, page and API of each pair.
    pub fn all(&self) -> [&str; 4] {
        [&self.site, &self.api, &self.www, &self.api_site]
    }
}

/// Every host Chromium maps to loopback (every lane's).
pub fn hosts() -> Vec<String> {
    (0..LANES)
        .flat_map(|k| Names::lane(k).all().map(str::to_owned))
        .collect()
}

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
    /// The lane of host names its pages and API use ([`Names::lane`]).
    pub lane: usize,
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
            lane: 0,
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

    /// The hybrid (HS256 access cookie, its refresh families in process) over cookies: the
    /// access token travels as `__Host-hybrid`, the refresh token as `__Secure-refresh`
    /// scoped to `Path=/token/refresh`.
    pub fn hybrid() -> ServerSpec {
        ServerSpec {
            scheme: SchemeSpec::Hybrid(JwtAlg::HS256, StoreSpec::Memory),
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
    /// The host names of its lane.
    pub names: Names,
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
    /// A runtime and a certificate for every lane's [`hosts`].
    pub fn new() -> WorkloadResult<Lab> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(|e| WorkloadError::Other(format!("a runtime: {e}")))?;
        let hosts = hosts();
        let names: Vec<&str> = hosts.iter().map(String::as_str).collect();
        let cert = self_signed_for(&names)
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

    /// How a profile for this lab starts: every lane's host mapped to loopback, this
    /// lab's key trusted, third-party cookies blocked when `block`.
    pub fn launch(&self, block: bool) -> Launch {
        Launch {
            hosts: hosts(),
            spki: self.spki().to_owned(),
            block_third_party_cookies: block,
        }
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
        let names = Names::lane(spec.lane);
        c.cors = CorsPolicy {
            origins: [&names.site, &names.www]
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
        Ok(Server { app, port, names })
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
