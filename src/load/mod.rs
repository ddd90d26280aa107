//! The open-loop load generator behind `tokenbench load` and the `http` workload: every
//! request has an intended send time on a fixed schedule and its latency counts from that
//! time, so a slow answer is charged to the latency as a real user would feel it (no
//! coordinated omission). It shares sockets, TLS and CPU accounting with the server
//! through [`crate::net`], never by importing the server it measures.
//!
//! - [`target`]: the URL, refused unless it is a loopback address.
//! - [`pacer`]: a timer thread precise to tens of microseconds (tokio's ticks in ms).
//! - [`client`]: HTTP/1.1, h2c and HTTP/2 over TLS connections on hyper, byte-counted.
//! - [`vu`]: the virtual user's script through the Superb Site's flow.
//! - [`step`]: one fixed-rate step ([`Generator::run_step`]); a step whose pacer lagged
//!   beyond [`LoadConfig::max_lag`] is marked invalid (its latencies may be the
//!   generator's).
//! - [`search`]: the highest rate meeting a p99 objective.
//! - [`args`]: the flags of `tokenbench load`.
//!
//! What a step and a search measured are results types ([`StepResult`], [`SearchStep`],
//! [`Limit`], [`SearchParams`] in [`crate::results::schema::http`]), re-exported here.

pub mod args;
pub mod client;
pub mod pacer;
pub mod search;
pub mod step;
pub mod target;
pub mod vu;

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Serialize};

pub use search::{Limit, SearchParams, SearchResult, SearchStep};
pub use step::{Generator, StepResult};
pub use target::Target;

use crate::net::Transport;

/// Why a load could not run.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The target is not a loopback address: load is only ever sent to this machine.
    #[error(
        "refusing to load {0}: only loopback targets (127.0.0.0/8, ::1, localhost) are allowed"
    )]
    NotLoopback(String),
    /// The target URL is not usable.
    #[error("bad target URL '{0}': {1}")]
    BadTarget(String, String),
    /// An option that makes no sense.
    #[error("{0}")]
    Config(String),
    /// Connecting or talking to the target failed before any measurement.
    #[error("{0}")]
    Connect(String),
    /// The runtime or a thread could not be started.
    #[error("{0}")]
    Runtime(String),
}

/// HTTP version spoken to the target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Protocol {
    /// HTTP/1.1 with keep-alive, one connection per virtual user.
    #[serde(rename = "http1.1")]
    Http1,
    /// HTTP/2: prior knowledge (h2c) on `http://`, ALPN `h2` on `https://`; virtual users
    /// share [`LoadConfig::connections`] connections.
    #[serde(rename = "h2")]
    H2,
}

impl Protocol {
    /// Name on the command line and in results.
    pub fn name(self) -> &'static str {
        match self {
            Protocol::Http1 => "http1.1",
            Protocol::H2 => "h2",
        }
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Protocol {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "http1" | "http1.1" | "h1" | "http/1.1" => Ok(Protocol::Http1),
            "h2" | "http2" | "h2c" | "http/2" => Ok(Protocol::H2),
            _ => Err(format!("unknown protocol '{s}' (expected http1.1 or h2)")),
        }
    }
}

/// What each virtual user does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mix {
    /// Log in, then `writes_per_session` rounds of `reads_per_write` `GET /me` and one
    /// `POST /api/notes`, then log out; then the next user.
    Flow {
        /// Authenticated reads per write (at least 1: the first read learns the CSRF token).
        reads_per_write: u32,
        /// Writes between login and logout.
        writes_per_session: u32,
    },
    /// Log in once, then only `GET /me` (the cross-check with other tools).
    MeOnly,
    /// Only `POST /login` (bearer transport: no CSRF token needed), again and again: a
    /// route whose cost is the argon2id check, milliseconds per request.
    LoginOnly,
    /// Only `GET /floor`, no login: the stack's floor, everything `GET /me` does but the
    /// credential.
    Floor,
}

impl Default for Mix {
    fn default() -> Self {
        Mix::Flow {
            reads_per_write: 4,
            writes_per_session: 20,
        }
    }
}

/// How to load a target.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LoadConfig {
    /// The server (the first node of a site).
    pub target: Target,
    /// Every node of one site, the first being [`target`](Self::target); empty for one
    /// server. Each virtual user sends its next request to the next node in turn, as a
    /// round-robin balancer without sticky sessions would.
    #[serde(default)]
    pub nodes: Vec<Target>,
    /// HTTP version.
    pub protocol: Protocol,
    /// Accept any TLS certificate (the server's generated one; loopback only).
    pub insecure: bool,
    /// How the server expects the credential.
    pub transport: Transport,
    /// Demo accounts on the server (`serve --users`); virtual users log in as them in turn.
    pub accounts: usize,
    /// Concurrent virtual users (HTTP/1.1: one keep-alive connection each).
    pub vus: usize,
    /// HTTP/2 connections the virtual users share.
    pub connections: usize,
    /// The request mix.
    pub mix: Mix,
    /// A request not answered within this time counts as an error.
    pub request_timeout: Duration,
    /// Largest acceptable p99 lag of the pacer; beyond it a step is invalid.
    pub max_lag: Duration,
    /// Worker threads of the generator.
    pub threads: usize,
    /// Cores the generator's threads are pinned to (`sched_setaffinity`); empty: not
    /// pinned.
    #[serde(default)]
    pub cores: Vec<usize>,
    /// For a scheme with refresh tokens (the hybrid): each virtual user sends
    /// `POST /token/refresh` once every N of its requests (N = access lifetime × requests
    /// per user per second, so a short run refreshes as often, per request, as a real
    /// client would once per access lifetime); `None`: never (every other scheme).
    #[serde(default)]
    pub refresh_every: Option<u32>,
}

/// Requests of one user between two refreshes: the access lifetime times the requests a
/// user sends per second, at least 1 (rounded to the nearest request).
pub fn refresh_every(access_lifetime: Duration, requests_per_user: f64) -> u32 {
    let n = (access_lifetime.as_secs_f64() * requests_per_user).round();
    if n.is_finite() && n >= 1.0 {
        n.min(f64::from(u32::MAX)) as u32
    } else {
        1
    }
}

impl LoadConfig {
    /// Defaults for `target`.
    pub fn new(target: Target, protocol: Protocol, transport: Transport) -> LoadConfig {
        LoadConfig {
            target,
            nodes: Vec::new(),
            protocol,
            insecure: false,
            transport,
            accounts: 100,
            vus: 32,
            connections: 4,
            mix: Mix::default(),
            request_timeout: Duration::from_secs(5),
            max_lag: Duration::from_millis(2),
            threads: 1,
            cores: Vec::new(),
            refresh_every: None,
        }
    }

    /// Defaults for the nodes of one site (`targets` not empty; the first is the target).
    pub fn site(targets: Vec<Target>, protocol: Protocol, transport: Transport) -> LoadConfig {
        let first = targets.first().cloned().unwrap_or_else(|| Target {
            url: String::new(),
            addr: std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
            authority: String::new(),
            tls: false,
        });
        let mut c = LoadConfig::new(first, protocol, transport);
        if targets.len() > 1 {
            c.nodes = targets;
        }
        c
    }

    /// The servers requests go to: the site's nodes, or the one target.
    pub fn targets(&self) -> Vec<Target> {
        if self.nodes.is_empty() {
            vec![self.target.clone()]
        } else {
            self.nodes.clone()
        }
    }

    /// This configuration aimed at node `i` of [`targets`](Self::targets) alone.
    pub fn for_node(&self, i: usize) -> LoadConfig {
        let mut c = self.clone();
        if let Some(t) = self.nodes.get(i) {
            c.target = t.clone();
        }
        c.nodes = Vec::new();
        c
    }
}
