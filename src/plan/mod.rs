//! The capacity planner (`tokenbench plan`): what a deployment at the reader's rate,
//! sessions, node count and store distance costs per scheme, computed from a run's results
//! alone. It measures nothing: every figure it prints is an input figure of the run (named
//! with its file and row, [`Input`]) times the scenario, by a rule it prints ([`RULES`]).
//!
//! - [`inputs`]: the run's files ([`RunFiles`], [`Inputs`]) and the figures a plan reads
//!   from them, each with its source, or what is missing and from which file.
//! - [`model`]: the arithmetic per scheme ([`SchemePlan`]) and the ranked answer.
//! - [`render`]: the terminal table and the rules.
//!
//! The planner asks a scheme what it is through its identity ([`SchemeId`]): its store
//! ([`SchemeId::store`]), whether every validate looks the token up
//! ([`Capabilities::store_lookup`](crate::scheme::spec::Capabilities)), its family (for the
//! revocation strategies of `revoke.json`). A new family needs no change here: its figures
//! come from the same results rows every scheme fills (a refresh amortised per request, for
//! one, is in the http rows' CPU and store operations per request when its flow does it).
//!
//! ```
//! use tokenbench::plan::Scenario;
//! let s = Scenario::report_default();
//! assert_eq!((s.rate, s.sessions, s.nodes), (10_000.0, 1_000_000.0, 4));
//! ```

pub mod inputs;
pub mod model;
pub mod render;

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::claims::ClaimSet;
use crate::net::Transport;
use crate::results::ResultsError;
use crate::results::schema::http::HttpProtocol;
use crate::scheme::spec::SchemeId;

pub use inputs::{Input, Inputs, Missing, RunFiles};
pub use model::{Plan, Ranked, SchemePlan, plan};
pub use render::{RULES, terminal};

/// Version of the plan's JSON (`tokenbench plan --json`).
pub const PLAN_VERSION: u32 = 1;

/// Why no plan could be made: the run cannot be read, or a flag asks for figures the run
/// does not have (exit status 1: the run, not the flags, is at fault).
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    /// A file of the run could not be read or parsed (the message names it).
    #[error("{0}")]
    Read(ResultsError),
    /// The folder is not a run (no `meta.json`).
    #[error("{dir}: not a tokenbench run folder (no meta.json)")]
    NotARun {
        /// The folder given.
        dir: String,
    },
    /// The scenario needs a figure the run lacks for every scheme (a client or claim set it
    /// did not measure, or no figure at all).
    #[error("{0}")]
    Lacking(String),
}

/// Which client's bytes the bandwidth is computed for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Client {
    /// HTTP/1.1 (the load generator's hyper client on `http1.1`): every request repeats
    /// the credential's header in full.
    H1,
    /// The load generator's hyper client over HTTP/2 (`h2c` and `h2`): HPACK indexes a
    /// repeated header.
    Hyper,
    /// Chromium, from the browser workload's bytes per request (first and repeated).
    Chromium,
}

impl Client {
    /// `h1`, `hyper`, `chromium`.
    pub fn name(self) -> &'static str {
        match self {
            Client::H1 => "h1",
            Client::Hyper => "hyper",
            Client::Chromium => "chromium",
        }
    }

    /// The protocols whose http rows give this client's bytes per request (none for
    /// Chromium, whose bytes come from the browser workload).
    pub fn protocols(self) -> &'static [HttpProtocol] {
        match self {
            Client::H1 => &[HttpProtocol::Http1],
            Client::Hyper => &[HttpProtocol::H2c, HttpProtocol::H2Tls],
            Client::Chromium => &[],
        }
    }

    /// The protocol whose server CPU per request the plan uses: what this client speaks
    /// to a deployed site (HTTP/2 over TLS for a browser-like client).
    pub fn cpu_protocol(self) -> HttpProtocol {
        self.cpu_protocols()[0]
    }

    /// [`cpu_protocol`](Self::cpu_protocol), then the protocols whose figures stand in for
    /// it when the run lacks them (h2c for h2: the same HTTP/2 without TLS; a quick run
    /// measures no h2); the plan names the one it used.
    pub fn cpu_protocols(self) -> &'static [HttpProtocol] {
        match self {
            Client::H1 => &[HttpProtocol::Http1],
            Client::Hyper | Client::Chromium => &[HttpProtocol::H2Tls, HttpProtocol::H2c],
        }
    }
}

impl fmt::Display for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.name())
    }
}

impl FromStr for Client {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "h1" | "http1.1" => Ok(Client::H1),
            "hyper" => Ok(Client::Hyper),
            "chromium" => Ok(Client::Chromium),
            _ => Err(format!(
                "unknown client '{s}' (expected h1, hyper or chromium)"
            )),
        }
    }
}

/// What the store's memory is multiplied by beyond the measured bytes per session, each
/// with its value and where its default comes from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Overheads {
    /// Resident memory over the allocator's used memory (Redis `mem_fragmentation_ratio`).
    pub fragmentation: f64,
    /// Copies of the data set: 1 primary plus its replicas.
    pub replication: f64,
    /// Peak over steady memory while a fork (`BGSAVE`, AOF rewrite) copies pages on write.
    pub fork_headroom: f64,
}

impl Overheads {
    /// Default fragmentation: the top of the range an active Redis commonly shows.
    pub const FRAGMENTATION: f64 = 1.5;
    /// Default replication: one replica per primary.
    pub const REPLICATION: f64 = 2.0;
    /// Default fork headroom: the worst case of a write-heavy instance.
    pub const FORK_HEADROOM: f64 = 2.0;

    /// Where the default fragmentation comes from.
    pub const FRAGMENTATION_SOURCE: &'static str = "Redis INFO mem_fragmentation_ratio (used_memory_rss / used_memory) is 1.0-1.1 at best and 1.1-1.5 common under an active workload (Netdata's Redis guide); Redis's memory-optimization docs: provision for the peak";
    /// Where the default replication comes from.
    pub const REPLICATION_SOURCE: &'static str = "one replica per primary, the smallest Redis Cluster layout that survives a primary's loss (Redis Cluster tutorial: three primaries with one replica each); for PostgreSQL, one standby";
    /// Where the default fork headroom comes from.
    pub const FORK_HEADROOM_SOURCE: &'static str = "Redis persistence docs: while saving an RDB file or rewriting the AOF, a very write-heavy Redis may use up to 2 times the memory normally used (fork copy-on-write)";
}

impl Default for Overheads {
    fn default() -> Self {
        Overheads {
            fragmentation: Overheads::FRAGMENTATION,
            replication: Overheads::REPLICATION,
            fork_headroom: Overheads::FORK_HEADROOM,
        }
    }
}

/// The deployment to plan for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scenario {
    /// Requests per second over the whole site.
    pub rate: f64,
    /// Live sessions (logged-in users) at once.
    pub sessions: f64,
    /// Nodes of the site.
    pub nodes: usize,
    /// Round trip from a node to the store, ms.
    pub store_rtt_ms: f64,
    /// Whose bytes the bandwidth counts.
    pub client: Client,
    /// How the credential travels.
    pub transport: Transport,
    /// Revocation must reach every node within this, ms (`None`: no requirement).
    pub revocation_within_ms: Option<f64>,
    /// Claim set of the tokens.
    pub claims: ClaimSet,
    /// Memory overheads of the store.
    pub overheads: Overheads,
}

impl Scenario {
    /// The report's "At your scale" scenario: 10 k req/s, 1 M sessions, 4 nodes, the
    /// store 0.5 ms away, HTTP/1.1 bearer, typical claims, default overheads.
    pub fn report_default() -> Scenario {
        Scenario {
            rate: 10_000.0,
            sessions: 1_000_000.0,
            nodes: 4,
            store_rtt_ms: 0.5,
            client: Client::H1,
            transport: Transport::Bearer,
            revocation_within_ms: None,
            claims: ClaimSet::Typical,
            overheads: Overheads::default(),
        }
    }

    /// The store round trip as a duration.
    pub fn store_rtt(&self) -> Duration {
        Duration::from_secs_f64(self.store_rtt_ms / 1e3)
    }

    /// `10.0 k req/s, 1.00 M sessions, 4 nodes, store 0.5 ms away, h1 bearer, typical
    /// claims`.
    pub fn describe(&self) -> String {
        let within = self
            .revocation_within_ms
            .map(|w| format!(", revocation within {}", crate::units::ns(w * 1e6)))
            .unwrap_or_default();
        format!(
            "{} req/s, {} sessions, {} node{}, store {} away, {} {} {}, {} claims{within}",
            crate::units::count(self.rate),
            crate::units::count(self.sessions),
            self.nodes,
            if self.nodes == 1 { "" } else { "s" },
            crate::units::ns(self.store_rtt_ms * 1e6),
            self.client,
            self.transport,
            self.client.cpu_protocol().name(),
            self.claims.name(),
        )
    }
}

/// Reads the scheme names of a plan back (JSON uses [`SchemeId`]'s own spelling).
pub fn scheme_names(plan: &Plan) -> Vec<SchemeId> {
    plan.schemes.iter().map(|s| s.scheme).collect()
}
