//! `revoke.json`: revocation latency per strategy (every trial's latency kept) and the
//! per-request cost each strategy adds.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::{ResultFile, SummaryRow};
use crate::measure::Measurement;
use crate::measure::stats::Summary;
use crate::scheme::spec::{Family, SchemeId, StoreKind};
use crate::scheme::{JwtAlg, PasetoPurpose};
use crate::units;

/// Results of the revoke workload: the on-disk schema of `revoke.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RevokeResults {
    /// [`ResultFile::VERSION`] of the file (0: written before per-file versions).
    #[serde(default)]
    pub schema_version: u32,
    /// Validator nodes (threads) per strategy.
    pub validators: usize,
    /// Trials requested per strategy.
    pub trials: usize,
    /// Per-node cache lifetime T of `session-cache`, in milliseconds.
    pub cache_ttl_ms: f64,
    /// Polling period P of `jwt-denylist-polled` (and `jwt-denylist-polled-redis`), in milliseconds.
    pub poll_interval_ms: f64,
    /// JWT lifetime (`exp - iat`), in seconds.
    pub jwt_lifetime_s: f64,
    /// Signature algorithm of every JWT strategy.
    pub jwt_alg: JwtAlg,
    /// Purpose of every PASETO strategy (absent in files written before PASETO).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paseto_purpose: Option<PasetoPurpose>,
    /// One entry per strategy run, sessions first.
    pub strategies: Vec<StrategyResult>,
    /// Revocation measured end to end over HTTP on sites of several `serve` processes (the
    /// http workload's node runs; absent when none ran).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub end_to_end: Vec<EndToEndResult>,
    /// The hybrid schemes' refresh flow: its cost, amortised per request, its revocation
    /// window and the refresh race per grace interval (absent when no hybrid ran).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hybrid: Vec<HybridResult>,
}

/// One hybrid scheme's refresh flow, measured in the revoke workload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HybridResult {
    /// The hybrid (`hybrid-<alg>-<store>`).
    pub scheme: SchemeId,
    /// Access-token lifetime (`exp - iat`), in seconds.
    pub access_lifetime_s: f64,
    /// What revokes an access token: `expiry-only` (it lives to its `exp` after a logout),
    /// or a denylist's name.
    pub access_revocation: String,
    /// How long a logged-out login's access token is still accepted at worst, in seconds:
    /// the access lifetime for `expiry-only`.
    pub revocation_window_s: f64,
    /// Bytes of the access token (typical claims): what travels on every request.
    pub access_token_bytes: usize,
    /// Bytes of the refresh token: what travels to the refresh endpoint only.
    pub refresh_token_bytes: usize,
    /// One access-token validate (the per-request path), measured in the same interleaved
    /// rounds as `refresh`.
    pub validate: Measurement,
    /// One refresh: the atomic rotation in the store (one round trip to a networked store)
    /// and the signing of a new access token.
    pub refresh: Measurement,
    /// Requests per second per user assumed to amortise the refresh (a parameter, not a
    /// measurement).
    pub requests_per_user_per_s: f64,
    /// Refreshes per request: one per access lifetime, `1 / (access_lifetime_s ×
    /// requests_per_user_per_s)`.
    pub refreshes_per_request: f64,
    /// Store operations per request: one per refresh (the rotation), none per validate.
    pub store_ops_per_request: f64,
    /// The refresh's wall time amortised per request: `refresh × refreshes_per_request`,
    /// in nanoseconds.
    pub refresh_ns_per_request: f64,
    /// Trials in which a logout on one node was followed by a refresh of the same family
    /// on another node (a second scheme over the same store): every one must be refused.
    pub family_revocation_trials: usize,
    /// How many of those refreshes were refused (the family was dead at once).
    pub family_revocation_refused: usize,
    /// Family revocation latency across nodes: from the start of the logout on one node to
    /// the other node's refusal of the family's refresh token, over the refused trials
    /// (absent in files written before it was measured).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub family_revocation_latency: Option<Summary>,
    /// Operations that failed while measuring (store unreachable).
    pub errors: u64,
    /// The refresh race, one row per grace interval and retry delay.
    pub race: Vec<RaceRow>,
}

impl HybridResult {
    /// What one request costs the hybrid's server in wall time: the access validate plus
    /// the refresh amortised per request, in nanoseconds.
    pub fn per_request_ns(&self) -> f64 {
        self.validate.median() + self.refresh_ns_per_request
    }
}

/// How often a legitimate retry trips reuse detection: a login, a refresh whose answer
/// the client loses, and its retry of the same refresh token `retry_after_ms` later (0: at
/// the same moment, from a second thread, as two nodes would).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RaceRow {
    /// The reuse grace in force, in milliseconds.
    pub grace_ms: f64,
    /// Delay of the retry after the lost refresh, in milliseconds (0: concurrent).
    pub retry_after_ms: f64,
    /// Trials run.
    pub trials: usize,
    /// Trials where the retry tripped reuse detection (the login's family was revoked).
    pub tripped: usize,
    /// Trials where the retry got the same successor as the lost answer (the grace).
    pub same_successor: usize,
    /// Trials where two live successors resulted (must be 0).
    pub two_successors: usize,
}

impl RevokeResults {
    /// A file holding no in-process strategy: what `revoke.json` is when only the http
    /// workload's end-to-end trials were measured.
    pub fn empty(jwt_lifetime_s: f64) -> RevokeResults {
        RevokeResults {
            schema_version: <RevokeResults as ResultFile>::VERSION,
            validators: 0,
            trials: 0,
            cache_ttl_ms: 0.0,
            poll_interval_ms: 0.0,
            jwt_lifetime_s,
            jwt_alg: JwtAlg::HS256,
            paseto_purpose: None,
            strategies: Vec::new(),
            hybrid: Vec::new(),
            end_to_end: Vec::new(),
        }
    }
}

/// Time from a logout answered by one node until every node of the site answers 401 for
/// that credential, probed over HTTP, for one strategy, site size and store distance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EndToEndResult {
    /// How the site revokes: `session-central`, `session-cache`, `jwt-denylist-central`,
    /// `jwt-denylist-pushed`, `jwt-denylist-polled`.
    pub strategy: String,
    /// The scheme the site serves.
    pub scheme: SchemeId,
    /// Nodes of the site.
    pub nodes: usize,
    /// Round trip the latency proxy added between the nodes and the store, ms.
    pub rtt_ms: f64,
    /// The shared store's kind (`redis`, `postgres`…).
    pub store: Option<String>,
    /// The strategy's staleness window (per-node cache lifetime, polling period), ms.
    pub window_ms: Option<f64>,
    /// Trials run.
    pub trials: usize,
    /// Trials that did not converge within their bound (or could not start).
    pub failed: usize,
    /// Summary of the latencies, ns.
    pub latency: Summary,
    /// Every successful trial's latency, ns.
    pub latencies_ns: Vec<f64>,
    /// The same strategy in process (threads, no HTTP), p99 ns, when `revoke` ran it.
    pub in_process_p99_ns: Option<f64>,
}

/// Revocation latency and per-request cost of one strategy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StrategyResult {
    /// The strategy (written as its name, e.g. `session-cache` or `jwt-denylist-pushed`).
    pub strategy: Strategy,
    /// Token family.
    pub family: Family,
    /// Clock the latencies are measured on.
    pub clock: TrialClock,
    /// The strategy's staleness window in milliseconds (cache lifetime T, polling period P,
    /// or the JWT lifetime), or `None` when it has none.
    pub window_ms: Option<f64>,
    /// Summary of the revocation latencies, in nanoseconds.
    pub latency: Summary,
    /// Raw revocation latencies in nanoseconds, one per successful trial, in trial order.
    pub latencies_ns: Vec<f64>,
    /// Cost of one `validate` of a valid token under this strategy, on one thread, measured
    /// in the same interleaved rounds as every other strategy (`validate_cost.rounds`; files
    /// of version 1: the best of short rounds).
    pub validate_cost: Measurement,
    /// Median wall time of `validate_cost` minus that of the family baseline
    /// (`session-central` or `jwt-expiry-only`), in nanoseconds; 0 for the baselines, and 0
    /// when the per-round differences reach zero (no measurable cost: see the spread).
    /// Negative only for a saving: below zero in every round.
    pub added_cost_ns: f64,
    /// Smallest per-round difference to the baseline, ns (absent in version 1 files and for
    /// the baselines).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub added_cost_lo_ns: Option<f64>,
    /// Largest per-round difference to the baseline, ns.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub added_cost_hi_ns: Option<f64>,
    /// Trials that failed (did not converge in time, rejected too early or for the wrong
    /// reason, or could not start).
    pub errors: u64,
}

/// What a strategy adds to every request, as the report states it: never a negative figure.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum AddedCost {
    /// A family baseline: nothing to add.
    Baseline,
    /// A cost above zero in every round (or, without rounds, a positive difference).
    Costs {
        /// Median added ns.
        ns: f64,
        /// Per-round range, when measured in rounds.
        spread: Option<(f64, f64)>,
    },
    /// The per-round differences reach zero (or, without rounds, the difference is
    /// negative, which a check added to `validate` cannot be): no measurable cost.
    Unmeasurable {
        /// The largest distance from zero of the per-round differences, ns.
        within: f64,
    },
    /// Cheaper than the baseline in every round.
    Saves {
        /// Median ns saved (positive).
        ns: f64,
    },
}

impl StrategyResult {
    /// What this strategy adds to every request, judged from its spread.
    pub fn added(&self) -> AddedCost {
        if self.strategy.baseline() == self.strategy {
            return AddedCost::Baseline;
        }
        match (self.added_cost_lo_ns, self.added_cost_hi_ns) {
            (Some(lo), Some(hi)) if lo <= 0.0 && hi >= 0.0 => AddedCost::Unmeasurable {
                within: lo.abs().max(hi.abs()),
            },
            (Some(_), Some(hi)) if hi < 0.0 => AddedCost::Saves {
                ns: -self.added_cost_ns,
            },
            (Some(lo), Some(hi)) => AddedCost::Costs {
                ns: self.added_cost_ns,
                spread: Some((lo, hi)),
            },
            _ if self.added_cost_ns < 0.0 => AddedCost::Unmeasurable {
                within: -self.added_cost_ns,
            },
            _ => AddedCost::Costs {
                ns: self.added_cost_ns,
                spread: None,
            },
        }
    }

    /// The added cost counted against a budget: 0 when unmeasurable or a saving.
    pub fn added_ns(&self) -> f64 {
        match self.added() {
            AddedCost::Costs { ns, .. } => ns,
            _ => 0.0,
        }
    }
}

impl RevokeResults {
    /// The result of strategy `name`, if it was run.
    pub fn strategy(&self, strategy: Strategy) -> Option<&StrategyResult> {
        self.strategies.iter().find(|s| s.strategy == strategy)
    }
}

impl ResultFile for RevokeResults {
    const FILE: &'static str = "revoke";
    /// 2: every strategy's cost in the same interleaved rounds, the added cost with its
    /// per-round spread (`added_cost_lo_ns`, `added_cost_hi_ns`).
    /// 3: PASETO strategies (`paseto-expiry-only`, `paseto-denylist-central`) and the
    /// purpose they ran on (`paseto_purpose`).
    /// 4: revocation end to end over HTTP on sites of several nodes (`end_to_end`).
    /// 5: the hybrid's refresh flow and race (`hybrid`).
    const VERSION: u32 = 5;

    /// One line per strategy with failed trials (e.g. Redis unreachable during a trial), for
    /// the end of a run; empty when none failed.
    fn error_notes(&self) -> Vec<String> {
        self.strategies
            .iter()
            .filter(|s| s.errors > 0)
            .map(|s| {
                format!(
                    "revoke {}: {} of {} trials failed",
                    s.strategy, s.errors, self.trials
                )
            })
            .chain(self.hybrid.iter().filter(|h| h.errors > 0).map(|h| {
                format!(
                    "revoke {}: {} refresh operations failed",
                    h.scheme, h.errors
                )
            }))
            .collect()
    }
    /// Headline figures for `summary.csv`, per strategy: latency p50 / p99 / max and the
    /// staleness window in milliseconds; the cost of one validate and the added
    /// per-request cost in nanoseconds. The added cost is the one the report states
    /// ([`StrategyResult::added`]): 0 for a baseline and when its per-round spread reaches
    /// zero, negative only for a saving in every round; its `_lo`, `_hi` are the raw
    /// per-round differences.
    fn summary_rows(&self) -> Vec<SummaryRow> {
        let mut rows = Vec::new();
        for s in &self.strategies {
            let param = match s.window_ms {
                Some(w) => format!("clock={} window={}", s.clock, units::window_ms(w)),
                None => format!("clock={}", s.clock),
            };
            let row = |metric: &str, value: f64, unit: &str| {
                SummaryRow::new("revoke", s.strategy, None, &param, metric, value, unit)
            };
            rows.push(row("latency_p50", s.latency.median_ns / 1e6, "ms"));
            rows.push(row("latency_p99", s.latency.p99_ns / 1e6, "ms"));
            rows.push(row("latency_max", s.latency.max_ns / 1e6, "ms"));
            if let Some(w) = s.window_ms {
                rows.push(row("window", w, "ms"));
            }
            rows.push(row("validate_cost_median", s.validate_cost.median(), "ns"));
            let added = match s.added() {
                AddedCost::Costs { ns, .. } => ns,
                AddedCost::Saves { ns } => -ns,
                AddedCost::Baseline | AddedCost::Unmeasurable { .. } => 0.0,
            };
            rows.push(row("added_cost", added, "ns"));
            if let (Some(lo), Some(hi)) = (s.added_cost_lo_ns, s.added_cost_hi_ns) {
                rows.push(row("added_cost_lo", lo, "ns"));
                rows.push(row("added_cost_hi", hi, "ns"));
            }
        }
        for h in &self.hybrid {
            let param = format!(
                "access_lifetime={}s,requests_per_user={}/s",
                h.access_lifetime_s, h.requests_per_user_per_s
            );
            let row = |metric: &str, value: f64, unit: &str| {
                SummaryRow::new("revoke", h.scheme, None, &param, metric, value, unit)
            };
            rows.push(row("access_validate_median", h.validate.median(), "ns"));
            rows.push(row("refresh_median", h.refresh.median(), "ns"));
            rows.push(row("refresh_per_request", h.refresh_ns_per_request, "ns"));
            rows.push(row("store_ops_per_request", h.store_ops_per_request, "ops"));
            rows.push(row("window", h.revocation_window_s * 1e3, "ms"));
            rows.push(row("access_token", h.access_token_bytes as f64, "bytes"));
            rows.push(row("refresh_token", h.refresh_token_bytes as f64, "bytes"));
            if let Some(l) = &h.family_revocation_latency {
                rows.push(row("family_revocation_p50", l.median_ns / 1e6, "ms"));
                rows.push(row("family_revocation_p99", l.p99_ns / 1e6, "ms"));
            }
            for r in &h.race {
                let param = format!(
                    "grace={},retry_after={}",
                    units::window_ms(r.grace_ms),
                    units::window_ms(r.retry_after_ms)
                );
                let share = if r.trials == 0 {
                    0.0
                } else {
                    r.tripped as f64 / r.trials as f64
                };
                rows.push(SummaryRow::new(
                    "revoke",
                    h.scheme,
                    None,
                    &param,
                    "retry_trips_reuse",
                    share,
                    "fraction",
                ));
            }
        }
        for e in &self.end_to_end {
            let param = format!(
                "strategy={},nodes={},rtt={}",
                e.strategy,
                e.nodes,
                units::window_ms(e.rtt_ms)
            );
            let row = |metric: &str, value: f64, unit: &str| {
                SummaryRow::new("revoke", e.scheme, None, &param, metric, value, unit)
            };
            if e.latency.samples > 0 {
                rows.push(row("revocation_p50", e.latency.median_ns / 1e6, "ms"));
                rows.push(row("revocation_p99", e.latency.p99_ns / 1e6, "ms"));
                rows.push(row("revocation_max", e.latency.max_ns / 1e6, "ms"));
            }
            rows.push(row("revocation_failed_trials", e.failed as f64, "trials"));
            if let Some(p) = e.in_process_p99_ns {
                rows.push(row("revocation_in_process_p99", p / 1e6, "ms"));
            }
            if let Some(w) = e.window_ms {
                rows.push(row("revocation_window", w, "ms"));
            }
        }
        rows
    }
}

/// The ways of revoking, in report order: six in process, and those whose shared state is
/// on a networked store's server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Strategy {
    /// Sessions in one central store, looked up on every request.
    SessionCentral,
    /// Sessions behind a per-node cache of lifetime T.
    SessionCache,
    /// JWTs without revocation: valid until `exp`.
    JwtExpiryOnly,
    /// JWTs checked against one shared denylist on every request.
    JwtDenylistCentral,
    /// JWTs checked against per-node denylist copies kept in sync by push.
    JwtDenylistPushed,
    /// JWTs checked against per-node denylist copies refreshed by polling every P.
    JwtDenylistPolled,
    /// Sessions in Redis, looked up on every request by every node.
    SessionCentralRedis,
    /// JWTs checked against one denylist in Redis on every request.
    JwtDenylistCentralRedis,
    /// JWTs checked against per-node copies fed by Redis pub/sub.
    JwtDenylistPushedRedis,
    /// JWTs checked against per-node copies refreshed from Redis every P.
    JwtDenylistPolledRedis,
    /// Sessions in PostgreSQL, looked up on every request by every node.
    SessionCentralPostgres,
    /// PASETOs without revocation: valid until `exp`.
    PasetoExpiryOnly,
    /// PASETOs checked against one shared denylist on every request.
    PasetoDenylistCentral,
}

impl Strategy {
    /// The in-process strategies, in report order: run whatever the stores (see [`Strategy::EVERY`]).
    pub const ALL: [Strategy; 8] = [
        Strategy::SessionCentral,
        Strategy::SessionCache,
        Strategy::JwtExpiryOnly,
        Strategy::JwtDenylistCentral,
        Strategy::JwtDenylistPushed,
        Strategy::JwtDenylistPolled,
        Strategy::PasetoExpiryOnly,
        Strategy::PasetoDenylistCentral,
    ];

    /// The strategies whose shared state is on a Redis server, in report order; run when
    /// a Redis store is selected.
    pub const REDIS: [Strategy; 4] = [
        Strategy::SessionCentralRedis,
        Strategy::JwtDenylistCentralRedis,
        Strategy::JwtDenylistPushedRedis,
        Strategy::JwtDenylistPolledRedis,
    ];

    /// Every strategy, in-process and on a server, in report order (sessions first).
    pub const EVERY: [Strategy; 13] = [
        Strategy::SessionCentral,
        Strategy::SessionCache,
        Strategy::SessionCentralRedis,
        Strategy::SessionCentralPostgres,
        Strategy::JwtExpiryOnly,
        Strategy::JwtDenylistCentral,
        Strategy::JwtDenylistPushed,
        Strategy::JwtDenylistPolled,
        Strategy::JwtDenylistCentralRedis,
        Strategy::JwtDenylistPushedRedis,
        Strategy::JwtDenylistPolledRedis,
        Strategy::PasetoExpiryOnly,
        Strategy::PasetoDenylistCentral,
    ];

    /// True for a self-contained token's strategies that revoke through a denylist (every
    /// one but expiry-only).
    pub fn is_denylist(self) -> bool {
        self.family() != Family::Session && !self.is_expiry_only()
    }

    /// True for the strategies of tokens that cannot be revoked: valid until `exp`.
    pub fn is_expiry_only(self) -> bool {
        matches!(self, Strategy::JwtExpiryOnly | Strategy::PasetoExpiryOnly)
    }

    /// True when the strategy's shared state is on a Redis server.
    pub fn is_redis(self) -> bool {
        Strategy::REDIS.contains(&self)
    }

    /// Whether a selected store of kind `kind` can hold this strategy's shared state; a
    /// strategy on a server runs when the first selected store that can is given. False
    /// for every kind for the in-process strategies.
    pub fn runs_on(self, kind: StoreKind) -> bool {
        match self {
            _ if self.is_redis() => matches!(kind, StoreKind::Redis | StoreKind::RedisCluster),
            Strategy::SessionCentralPostgres => kind == StoreKind::Postgres,
            _ => false,
        }
    }

    /// True when the strategy's shared state is on a networked store's server.
    pub fn is_remote(self) -> bool {
        StoreKind::ALL.into_iter().any(|k| self.runs_on(k))
    }

    /// Name in results.
    pub fn name(self) -> &'static str {
        match self {
            Strategy::SessionCentral => "session-central",
            Strategy::SessionCache => "session-cache",
            Strategy::JwtExpiryOnly => "jwt-expiry-only",
            Strategy::JwtDenylistCentral => "jwt-denylist-central",
            Strategy::JwtDenylistPushed => "jwt-denylist-pushed",
            Strategy::JwtDenylistPolled => "jwt-denylist-polled",
            Strategy::SessionCentralRedis => "session-central-redis",
            Strategy::JwtDenylistCentralRedis => "jwt-denylist-central-redis",
            Strategy::JwtDenylistPushedRedis => "jwt-denylist-pushed-redis",
            Strategy::JwtDenylistPolledRedis => "jwt-denylist-polled-redis",
            Strategy::SessionCentralPostgres => "session-central-postgres",
            Strategy::PasetoExpiryOnly => "paseto-expiry-only",
            Strategy::PasetoDenylistCentral => "paseto-denylist-central",
        }
    }

    /// Token family.
    pub fn family(self) -> Family {
        match self {
            Strategy::SessionCentral
            | Strategy::SessionCache
            | Strategy::SessionCentralRedis
            | Strategy::SessionCentralPostgres => Family::Session,
            Strategy::PasetoExpiryOnly | Strategy::PasetoDenylistCentral => Family::Paseto,
            _ => Family::Jwt,
        }
    }

    /// The strategy whose per-request cost the others of its family are compared with.
    pub fn baseline(self) -> Strategy {
        match self.family() {
            Family::Session => Strategy::SessionCentral,
            // A hybrid's access tokens are JWTs: no strategy names the hybrid itself.
            Family::Jwt | Family::Hybrid => Strategy::JwtExpiryOnly,
            Family::Paseto => Strategy::PasetoExpiryOnly,
        }
    }
}

impl Serialize for Strategy {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl<'de> Deserialize<'de> for Strategy {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = String::deserialize(d)?;
        Strategy::EVERY
            .into_iter()
            .find(|s| s.name() == name)
            .ok_or_else(|| {
                serde::de::Error::custom(format!("unknown revocation strategy {name:?}"))
            })
    }
}

/// The clock a strategy's latencies are measured on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TrialClock {
    /// Real time.
    Wall,
    /// Simulated time (`jwt-expiry-only`: the lifetime is stepped through in virtual seconds).
    Virtual,
}

impl TrialClock {
    /// `wall` or `virtual`.
    pub fn name(self) -> &'static str {
        match self {
            TrialClock::Wall => "wall",
            TrialClock::Virtual => "virtual",
        }
    }
}

impl std::fmt::Display for Strategy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.name())
    }
}

impl std::fmt::Display for TrialClock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.name())
    }
}
