//! The arithmetic: per scheme, the run's figures ([`Inputs`]) times the scenario, by the
//! rules of [`super::RULES`], and the ranked answer. Nothing here reads a file or a clock.

use serde::{Deserialize, Serialize};

use super::inputs::{Input, Inputs, Missing};
use super::{Client, Overheads, PLAN_VERSION, PlanError, Scenario};
use crate::scheme::spec::{SchemeId, StoreKind};
use crate::units;

/// The plan of a whole scenario: `tokenbench plan --json` writes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    /// [`PLAN_VERSION`].
    pub schema_version: u32,
    /// The run folder the figures come from.
    pub run: String,
    /// The scenario planned for.
    pub scenario: Scenario,
    /// Each memory overhead: its value, whether it is the default, and the default's source.
    pub overheads: Vec<OverheadUsed>,
    /// The rules every figure is computed by, as printed.
    pub rules: Vec<String>,
    /// One plan per scheme of the run, in report order.
    pub schemes: Vec<SchemePlan>,
    /// The ranked answer: planned schemes first (best first), then those that cannot be
    /// planned.
    pub ranking: Vec<Ranked>,
}

/// A memory overhead as the plan applied it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OverheadUsed {
    /// `fragmentation`, `replication`, `fork-headroom` (the flag's name).
    pub name: String,
    /// The factor applied.
    pub value: f64,
    /// The default factor.
    pub default: f64,
    /// Where the default comes from.
    pub source: String,
}

/// One scheme at the scenario's scale.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SchemePlan {
    /// The scheme.
    pub scheme: SchemeId,
    /// Its store's kind, for a scheme that keeps state in one.
    pub store: Option<String>,
    /// Node CPU: the token's work, the whole request, the stack floor.
    pub node: Option<NodePlan>,
    /// The central store's CPU (a networked store).
    pub store_cpu: Option<StorePlan>,
    /// The sessions' memory (in the store, or in the nodes for an embedded store).
    pub memory: Option<MemoryPlan>,
    /// Bytes on the wire per protocol of the client.
    pub bandwidth: Vec<BandwidthPlan>,
    /// Latency the credential adds to a request.
    pub latency: Option<LatencyPlan>,
    /// Every revocation strategy of the scheme's family the run measured.
    pub revocation: Vec<RevocationPlan>,
    /// Whether some strategy meets `--revocation-within` (`None`: no requirement, or no
    /// revocation figures).
    pub meets_revocation: Option<bool>,
    /// Node cores for the whole request plus store cores.
    pub total_cores: Option<f64>,
    /// Figures the run lacks for this scheme: what could not be planned.
    pub missing: Vec<Missing>,
    /// What the reader must know about this scheme's figures.
    pub notes: Vec<String>,
    /// Every figure of the run this plan used, with its file and row.
    pub inputs: Vec<Input>,
}

impl SchemePlan {
    /// Whether every figure of the plan was found.
    pub fn complete(&self) -> bool {
        self.missing.is_empty()
    }

    /// `cannot plan: <figure> missing from <file>; …`, empty when complete.
    pub fn cannot_plan(&self) -> String {
        if self.missing.is_empty() {
            return String::new();
        }
        let what: Vec<String> = self.missing.iter().map(ToString::to_string).collect();
        format!("cannot plan: {}", what.join("; "))
    }

    /// The fastest revocation strategy measured.
    pub fn best_revocation(&self) -> Option<&RevocationPlan> {
        self.revocation
            .iter()
            .min_by(|a, b| a.window_ns.total_cmp(&b.window_ns))
    }

    /// Whether the sessions of this scheme can be shared by the scenario's nodes (false for
    /// a store inside each node when there are several).
    pub fn shared_by_nodes(&self, nodes: usize) -> bool {
        nodes <= 1 || self.memory.as_ref().is_none_or(|m| m.place != Place::Nodes)
    }
}

/// Node CPU at the scenario's rate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NodePlan {
    /// Server CPU per request, ns (input).
    pub cpu_per_request_ns: f64,
    /// The token's part of it, ns (input).
    pub token_cpu_per_request_ns: f64,
    /// The stack floor per request, ns (input), when measured.
    pub floor_cpu_per_request_ns: Option<f64>,
    /// The rate per node those figures were measured at, req/s (input).
    pub measured_rate_per_node: f64,
    /// Cores for the token's work over the site: rate × token CPU per request.
    pub token_cores: f64,
    /// Cores for whole requests over the site: rate × CPU per request.
    pub request_cores: f64,
    /// Cores the stack floor alone takes at the rate.
    pub floor_cores: Option<f64>,
    /// `request_cores` per node.
    pub request_cores_per_node: f64,
    /// The scenario's rate per node, req/s.
    pub rate_per_node: f64,
}

/// The central store's CPU at the scenario's rate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StorePlan {
    /// The store's kind.
    pub kind: String,
    /// Store operations per request (input).
    pub ops_per_request: f64,
    /// Store CPU per operation, ns (input).
    pub cpu_per_op_ns: f64,
    /// The store's CPU per validate from `validate.json`, ns, shown beside (one client,
    /// one lookup at a time), when measured.
    pub cpu_per_validate_ns: Option<f64>,
    /// Operations per second: rate × operations per request.
    pub ops_per_sec: f64,
    /// Store cores: operations per second × CPU per operation.
    pub cores: f64,
    /// Redis Cluster primaries (one core each: a Redis primary runs commands on one
    /// thread), for a Redis store.
    pub primaries: Option<u64>,
    /// How the store scales, in words.
    pub capacity: String,
}

/// Where sessions live.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Place {
    /// A networked store.
    Store,
    /// Inside each node's heap (an embedded store).
    Nodes,
}

/// The sessions' memory.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MemoryPlan {
    /// Where it lives.
    pub place: Place,
    /// Bytes per session (input).
    pub bytes_per_session: f64,
    /// Sessions × bytes per session.
    pub data_bytes: f64,
    /// What one copy needs: data × fragmentation × fork headroom (those that apply).
    pub per_copy_bytes: f64,
    /// Every copy: per copy × replication (where it applies).
    pub total_bytes: f64,
    /// The overheads applied, by flag name.
    pub applied: Vec<String>,
}

/// Bytes on the wire for one protocol of the client.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BandwidthPlan {
    /// The client.
    pub client: Client,
    /// `http1.1`, `h2c`, `h2`, or Chromium's `h2 first` / `h2 repeated`.
    pub protocol: String,
    /// Bytes the client sends per request (input), the whole request.
    pub request_bytes: Option<f64>,
    /// The credential's bytes per request (input).
    pub credential_bytes: Option<f64>,
    /// rate × request bytes × 8, bit/s.
    pub request_bits_per_s: Option<f64>,
    /// rate × credential bytes × 8, bit/s.
    pub credential_bits_per_s: Option<f64>,
}

/// Latency the credential adds to a request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LatencyPlan {
    /// Store round trips per request: 1 for a scheme whose validate looks the token up.
    pub round_trips: f64,
    /// The scenario's store round trip, ms.
    pub rtt_ms: f64,
    /// The token's CPU per request, ns (input).
    pub cpu_ns: f64,
    /// What the credential adds with the store at no distance, ns: the sites' p50 of the
    /// flow less that of the floor at RTT 0 (input) when measured, else the token's CPU.
    pub base_ns: f64,
    /// round trips × RTT + the base, ns.
    pub added_ns: f64,
}

/// One revocation strategy at the scenario.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RevocationPlan {
    /// The strategy.
    pub strategy: String,
    /// How long a revoked token is still accepted, ns (input).
    pub window_ns: f64,
    /// What it adds to each validate, ns (input).
    pub added_cost_ns: f64,
    /// Whether it meets `--revocation-within` (`None`: no requirement).
    pub meets: Option<bool>,
}

/// A scheme's place in the answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ranked {
    /// 1 for the best; `None` for a scheme that is not ranked (cannot be planned, or does
    /// not meet the scenario).
    pub rank: Option<usize>,
    /// The scheme.
    pub scheme: SchemeId,
    /// Why it stands where it does.
    pub reason: String,
}

/// The plan of `scenario` from the run's figures. An error only when the scenario asks for
/// something the run has nowhere (a client it did not measure, or no scheme at all).
pub fn plan(inputs: &Inputs<'_>, scenario: &Scenario) -> Result<Plan, PlanError> {
    check_scenario(scenario)?;
    if scenario.client == Client::Chromium && inputs.browser_rows.is_empty() {
        return Err(PlanError::Lacking(format!(
            "--client chromium needs Chromium's bytes per request (summary.csv rows \
             `browser,…,bytes_per_request` with client=chromium), which the browser workload \
             writes with browser.json; run {} has {}",
            inputs.run,
            if inputs.has_browser {
                "a browser.json but no such rows"
            } else {
                "no browser.json"
            }
        )));
    }
    let ids = inputs.schemes();
    if ids.is_empty() {
        return Err(PlanError::Lacking(format!(
            "run {} has no scheme to plan: no http.json or size.json rows",
            inputs.run
        )));
    }
    let mut schemes: Vec<SchemePlan> = ids
        .iter()
        .map(|&id| scheme_plan(inputs, scenario, id))
        .collect();
    flag_cheaper_supersets(&mut schemes);
    if schemes.iter().all(|s| s.node.is_none()) {
        let what: Vec<String> = schemes
            .iter()
            .flat_map(|s| s.missing.iter().map(ToString::to_string))
            .take(3)
            .collect();
        return Err(PlanError::Lacking(format!(
            "run {} has no figure to plan any scheme with: {}",
            inputs.run,
            what.join("; ")
        )));
    }
    let ranking = rank(&schemes, scenario);
    let o = &scenario.overheads;
    let overheads = vec![
        OverheadUsed {
            name: "fragmentation".into(),
            value: o.fragmentation,
            default: Overheads::FRAGMENTATION,
            source: Overheads::FRAGMENTATION_SOURCE.into(),
        },
        OverheadUsed {
            name: "replication".into(),
            value: o.replication,
            default: Overheads::REPLICATION,
            source: Overheads::REPLICATION_SOURCE.into(),
        },
        OverheadUsed {
            name: "fork-headroom".into(),
            value: o.fork_headroom,
            default: Overheads::FORK_HEADROOM,
            source: Overheads::FORK_HEADROOM_SOURCE.into(),
        },
    ];
    Ok(Plan {
        schema_version: PLAN_VERSION,
        run: inputs.run.clone(),
        scenario: scenario.clone(),
        overheads,
        rules: super::RULES.iter().map(|r| (*r).to_owned()).collect(),
        schemes,
        ranking,
    })
}

impl SchemePlan {
    /// A plan of `id` (its state in `store`) with no figure yet.
    fn empty(id: SchemeId, store: Option<StoreKind>) -> SchemePlan {
        SchemePlan {
            scheme: id,
            store: store.map(|k| k.name().to_owned()),
            node: None,
            store_cpu: None,
            memory: None,
            bandwidth: Vec::new(),
            latency: None,
            revocation: Vec::new(),
            meets_revocation: None,
            total_cores: None,
            missing: Vec::new(),
            notes: Vec::new(),
            inputs: Vec::new(),
        }
    }
}

/// A scheme with refresh tokens validates its access token as the JWT of its algorithm does
/// and refreshes besides: a node CPU per request below that JWT's is the run's noise (two
/// rows at one rate differing by more than the work between them), never a saving. Such a
/// plan gets a note saying so, so its rank above the JWT is not read as one.
fn flag_cheaper_supersets(schemes: &mut [SchemePlan]) {
    let cpu = |schemes: &[SchemePlan], id: SchemeId| {
        schemes
            .iter()
            .find(|p| p.scheme == id)
            .and_then(|p| p.node.as_ref())
            .map(|n| n.cpu_per_request_ns)
    };
    let notes: Vec<(usize, String)> = schemes
        .iter()
        .enumerate()
        .filter(|(_, p)| p.scheme.capabilities().refresh_token)
        .filter_map(|(i, p)| {
            let jwt = SchemeId::Jwt(p.scheme.alg()?);
            let (mine, theirs) = (p.node.as_ref()?.cpu_per_request_ns, cpu(schemes, jwt)?);
            (mine < theirs).then(|| {
                (
                    i,
                    format!(
                        "its node CPU per request ({}) is below {jwt}'s ({}), though it does the same validate plus a refresh: the difference is the run's noise, so a rank above {jwt} is a tie",
                        units::ns(mine),
                        units::ns(theirs)
                    ),
                )
            })
        })
        .collect();
    for (i, note) in notes {
        schemes[i].notes.push(note);
    }
}

/// A scenario that makes no sense (a rate, count or factor that is not a positive finite
/// number): the command line refuses these first; the library refuses them too.
fn check_scenario(s: &Scenario) -> Result<(), PlanError> {
    let positive = |x: f64| x.is_finite() && x > 0.0;
    let bad = if !positive(s.rate) {
        Some("the rate must be more than 0 req/s")
    } else if !positive(s.sessions) {
        Some("the sessions must be more than 0")
    } else if s.nodes == 0 {
        Some("the nodes must be at least 1")
    } else if !(s.store_rtt_ms.is_finite() && s.store_rtt_ms >= 0.0) {
        Some("the store round trip must be 0 or more")
    } else if [
        s.overheads.fragmentation,
        s.overheads.replication,
        s.overheads.fork_headroom,
    ]
    .iter()
    .any(|&f| !(f.is_finite() && f >= 1.0))
    {
        Some("every memory overhead factor must be at least 1")
    } else {
        None
    };
    match bad {
        Some(m) => Err(PlanError::Lacking(m.to_owned())),
        None => Ok(()),
    }
}

/// How a store kind's memory grows beyond its measured bytes per session: (fragmentation,
/// fork headroom, replication) apply or not. A Redis measures `used_memory`, below its
/// resident memory, and forks to persist; PostgreSQL's growth already counts its pages; an
/// embedded store's figure is the allocator's usable size, in each node.
fn overheads_apply(kind: StoreKind) -> (bool, bool, bool) {
    match kind {
        StoreKind::Redis | StoreKind::RedisCluster => (true, true, true),
        StoreKind::Postgres => (false, false, true),
        StoreKind::Memory | StoreKind::RwLock => (false, false, false),
    }
}

fn scheme_plan(inputs: &Inputs<'_>, s: &Scenario, id: SchemeId) -> SchemePlan {
    let caps = id.capabilities();
    // The store the scheme keeps state in: a session's, or a hybrid's refresh families'.
    let store_kind = id.any_store();
    let mut p = SchemePlan::empty(id, store_kind);
    let rate_per_node = s.rate / s.nodes as f64;
    // The client's protocol, or the one standing in for it (named in the inputs).
    let mut cpu = Err(Missing {
        figure: String::new(),
        file: String::new(),
    });
    let mut protocol = s.client.cpu_protocol();
    for &p in s.client.cpu_protocols() {
        let found = inputs.node_cpu(id, s.transport, p, s.store_rtt_ms);
        let first = cpu.as_ref().is_err_and(|m: &Missing| m.figure.is_empty());
        if found.is_ok() || first {
            protocol = p;
            cpu = found;
        }
        if cpu.is_ok() {
            break;
        }
    }
    match cpu {
        Ok(c) => {
            p.inputs.extend(c.inputs.iter().cloned());
            if protocol != s.client.cpu_protocol() {
                p.notes.push(format!(
                    "the run has no {} row: the server's CPU of {} stands in (without TLS's share)",
                    s.client.cpu_protocol().name(),
                    protocol.name()
                ));
            }
            if rate_per_node > c.rate_per_node * 1.5 {
                p.notes.push(format!(
                    "CPU per request measured at {} req/s per node, below the scenario's {}: \
                     fixed per-second costs spread over more requests there, so the node \
                     cores are an upper bound",
                    units::count(c.rate_per_node),
                    units::count(rate_per_node)
                ));
            }
            p.node = Some(NodePlan {
                cpu_per_request_ns: c.cpu_per_request_ns,
                token_cpu_per_request_ns: c.token_cpu_per_request_ns,
                floor_cpu_per_request_ns: c.floor_cpu_per_request_ns,
                measured_rate_per_node: c.rate_per_node,
                token_cores: s.rate * c.token_cpu_per_request_ns / 1e9,
                request_cores: s.rate * c.cpu_per_request_ns / 1e9,
                floor_cores: c.floor_cpu_per_request_ns.map(|f| s.rate * f / 1e9),
                request_cores_per_node: rate_per_node * c.cpu_per_request_ns / 1e9,
                rate_per_node,
            });
            let remote = id.store().is_some_and(StoreKind::is_remote);
            let round_trips = if caps.store_lookup && remote {
                1.0
            } else {
                0.0
            };
            let zero = inputs.zero_distance_added(id, s.transport, protocol);
            let base_ns = match &zero {
                Some(z) if z.value >= c.token_cpu_per_request_ns => {
                    p.inputs.push(z.clone());
                    z.value
                }
                Some(z) => {
                    p.inputs.push(z.clone());
                    p.notes.push(format!(
                        "the sites' p50 difference at no store distance ({}) is below the token's CPU per request: within their noise; the token's CPU used",
                        units::ns(z.value)
                    ));
                    c.token_cpu_per_request_ns
                }
                None => c.token_cpu_per_request_ns,
            };
            p.latency = Some(LatencyPlan {
                round_trips,
                rtt_ms: s.store_rtt_ms,
                cpu_ns: c.token_cpu_per_request_ns,
                base_ns,
                added_ns: round_trips * s.store_rtt_ms * 1e6 + base_ns,
            });
        }
        Err(m) => p.missing.push(m),
    }
    if let Some(kind) = store_kind {
        let (frag, fork, repl) = overheads_apply(kind);
        let o = &s.overheads;
        if kind.is_remote() {
            match inputs.store_work(id, s.store_rtt_ms, s.rate) {
                Ok(w) => {
                    p.inputs.extend(w.inputs.iter().cloned());
                    let per_validate = inputs.store_cpu_per_validate(id, s.claims);
                    if let Some(v) = &per_validate {
                        p.inputs.push(v.clone());
                    }
                    let ops_per_sec = s.rate * w.ops_per_request;
                    let cores = ops_per_sec * w.cpu_per_op_ns / 1e9;
                    let redis = matches!(kind, StoreKind::Redis | StoreKind::RedisCluster);
                    let primaries = redis.then(|| (cores.ceil() as u64).max(1));
                    let capacity = match primaries {
                        Some(n) => format!(
                            "{n} Redis primar{} at one core each ({} cores of commands)",
                            if n == 1 { "y" } else { "ies" },
                            sig(cores)
                        ),
                        None => format!(
                            "one {} server with {} cores of backend CPU for the sessions (it scales up, not out)",
                            kind.name(),
                            sig(cores)
                        ),
                    };
                    p.store_cpu = Some(StorePlan {
                        kind: kind.name().to_owned(),
                        ops_per_request: w.ops_per_request,
                        cpu_per_op_ns: w.cpu_per_op_ns,
                        cpu_per_validate_ns: per_validate.map(|v| v.value),
                        ops_per_sec,
                        cores,
                        primaries,
                        capacity,
                    });
                }
                Err(m) => p.missing.push(m),
            }
        } else if s.nodes > 1 {
            p.notes.push(format!(
                "its {} store lives inside each node: {} nodes share no session (a site needs a \
                 shared store; sticky routing splits the sessions between nodes)",
                kind.name(),
                s.nodes
            ));
        }
        match inputs.bytes_per_session(id, s.claims) {
            Ok(b) => {
                let data = b.value * s.sessions;
                let mut applied = Vec::new();
                let mut per_copy = data;
                if frag {
                    per_copy *= o.fragmentation;
                    applied.push(format!("fragmentation ×{}", o.fragmentation));
                }
                if fork {
                    per_copy *= o.fork_headroom;
                    applied.push(format!("fork-headroom ×{}", o.fork_headroom));
                }
                let total = if repl {
                    applied.push(format!("replication ×{}", o.replication));
                    per_copy * o.replication
                } else {
                    per_copy
                };
                p.inputs.push(b.clone());
                p.memory = Some(MemoryPlan {
                    place: if kind.is_remote() {
                        Place::Store
                    } else {
                        Place::Nodes
                    },
                    bytes_per_session: b.value,
                    data_bytes: data,
                    per_copy_bytes: per_copy,
                    total_bytes: total,
                    applied,
                });
            }
            Err(m) => p.missing.push(m),
        }
    }
    match inputs.wire_bytes(id, s.client, s.transport, s.claims) {
        Ok(w) => {
            for b in w {
                p.inputs.extend(b.inputs.iter().cloned());
                p.bandwidth.push(BandwidthPlan {
                    client: s.client,
                    protocol: b.protocol,
                    request_bytes: b.request_bytes,
                    credential_bytes: b.credential_bytes,
                    request_bits_per_s: b.request_bytes.map(|x| x * s.rate * 8.0),
                    credential_bits_per_s: b.credential_bytes.map(|x| x * s.rate * 8.0),
                });
            }
        }
        Err(m) => p.missing.push(m),
    }
    match inputs.revocations(id, id.store()) {
        Ok(r) => {
            let within_ns = s.revocation_within_ms.map(|w| w * 1e6);
            for x in r {
                p.inputs.push(x.input.clone());
                p.revocation.push(RevocationPlan {
                    strategy: x.strategy,
                    window_ns: x.window_ns,
                    added_cost_ns: x.added_cost_ns,
                    meets: within_ns.map(|w| x.window_ns <= w),
                });
            }
            p.meets_revocation =
                within_ns.map(|_| p.revocation.iter().any(|r| r.meets == Some(true)));
        }
        // Needed only when the scenario asks for a revocation window.
        Err(m) if s.revocation_within_ms.is_some() => p.missing.push(m),
        Err(_) => {}
    }
    if let Some(n) = &p.node {
        let store = p.store_cpu.as_ref().map_or(0.0, |c| c.cores);
        let store_needed = store_kind.is_some_and(StoreKind::is_remote);
        if p.store_cpu.is_some() || !store_needed {
            p.total_cores = Some(n.request_cores + store);
        }
    }
    p
}

/// Three significant figures, for counts of cores.
pub(crate) fn sig(x: f64) -> String {
    if x >= 100.0 {
        format!("{x:.0}")
    } else if x >= 10.0 {
        format!("{x:.1}")
    } else {
        format!("{x:.2}")
    }
}

/// The ranked answer (rule in [`super::RULES`]): complete plans that share their sessions
/// across the nodes and meet the revocation requirement, by total cores; then the complete
/// plans that do not fit the scenario; then those that cannot be planned.
fn rank(schemes: &[SchemePlan], s: &Scenario) -> Vec<Ranked> {
    let fits = |p: &SchemePlan| p.shared_by_nodes(s.nodes) && p.meets_revocation != Some(false);
    let mut eligible: Vec<&SchemePlan> = schemes
        .iter()
        .filter(|p| p.complete() && p.total_cores.is_some() && fits(p))
        .collect();
    eligible.sort_by(|a, b| {
        a.total_cores
            .unwrap_or(f64::INFINITY)
            .total_cmp(&b.total_cores.unwrap_or(f64::INFINITY))
    });
    let best = eligible
        .first()
        .and_then(|p| p.total_cores.map(|c| (p.scheme, c)));
    let mut out: Vec<Ranked> = eligible
        .iter()
        .enumerate()
        .map(|(i, p)| Ranked {
            rank: Some(i + 1),
            scheme: p.scheme,
            reason: reason(p, best, i == 0),
        })
        .collect();
    for p in schemes
        .iter()
        .filter(|p| p.complete() && !eligible.iter().any(|e| e.scheme == p.scheme))
    {
        let reason = if !p.shared_by_nodes(s.nodes) {
            format!(
                "not ranked: its {} store is inside each node, so {} nodes share no session",
                p.store.as_deref().unwrap_or("embedded"),
                s.nodes
            )
        } else if p.meets_revocation == Some(false) {
            let best = p
                .best_revocation()
                .map(|r| format!("{} at {}", r.strategy, units::ns(r.window_ns)))
                .unwrap_or_else(|| "none measured".into());
            format!(
                "not ranked: no strategy revokes within {} (fastest: {best})",
                units::ns(s.revocation_within_ms.unwrap_or_default() * 1e6)
            )
        } else {
            "not ranked: no total of cores".to_owned()
        };
        out.push(Ranked {
            rank: None,
            scheme: p.scheme,
            reason,
        });
    }
    for p in schemes.iter().filter(|p| !p.complete()) {
        out.push(Ranked {
            rank: None,
            scheme: p.scheme,
            reason: p.cannot_plan(),
        });
    }
    out
}

fn reason(p: &SchemePlan, best: Option<(SchemeId, f64)>, first: bool) -> String {
    let total = p.total_cores.unwrap_or_default();
    let node = p.node.as_ref().map_or(0.0, |n| n.request_cores);
    let store = p.store_cpu.as_ref().map_or(0.0, |c| c.cores);
    let mut r = if first {
        format!("fewest cores: {}", sig(total))
    } else {
        match best {
            Some((b, c)) if c > 0.0 => format!(
                "{} cores, {} those of {b}",
                sig(total),
                units::ratio(total / c)
            ),
            _ => format!("{} cores", sig(total)),
        }
    };
    r.push_str(&format!(
        " ({} on nodes + {} on the store)",
        sig(node),
        sig(store)
    ));
    if let Some(m) = &p.memory {
        r.push_str(&format!(", {} of session memory", gib(m.total_bytes)));
    }
    if let Some(l) = &p.latency {
        r.push_str(&format!(", adds {} per request", units::ns(l.added_ns)));
    }
    if let Some(b) = p.best_revocation() {
        r.push_str(&format!(
            ", revokes in {} ({})",
            units::ns(b.window_ns),
            b.strategy
        ));
    }
    r
}

/// Bytes in GiB (MiB below one), three significant figures.
pub fn gib(bytes: f64) -> String {
    let g = bytes / (1u64 << 30) as f64;
    if g >= 1.0 {
        format!("{} GiB", sig(g))
    } else {
        format!("{} MiB", sig(bytes / (1u64 << 20) as f64))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scheme::JwtAlg;

    fn planned(id: SchemeId, cpu_ns: f64) -> SchemePlan {
        SchemePlan {
            node: Some(NodePlan {
                cpu_per_request_ns: cpu_ns,
                token_cpu_per_request_ns: cpu_ns / 10.0,
                floor_cpu_per_request_ns: None,
                measured_rate_per_node: 1000.0,
                token_cores: 0.0,
                request_cores: 0.0,
                floor_cores: None,
                request_cores_per_node: 0.0,
                rate_per_node: 1000.0,
            }),
            ..SchemePlan::empty(id, None)
        }
    }

    #[test]
    fn a_hybrid_cheaper_than_its_own_jwt_is_flagged_as_noise() {
        let hybrid = SchemeId::Hybrid(JwtAlg::HS256, StoreKind::Redis);
        let mut plans = vec![
            planned(SchemeId::Jwt(JwtAlg::HS256), 110_000.0),
            planned(hybrid, 83_000.0),
            planned(
                SchemeId::Hybrid(JwtAlg::HS256, StoreKind::Memory),
                120_000.0,
            ),
        ];
        flag_cheaper_supersets(&mut plans);
        assert!(plans[0].notes.is_empty(), "the JWT itself");
        assert_eq!(plans[1].notes.len(), 1);
        assert!(
            plans[1].notes[0].contains("jwt-HS256") && plans[1].notes[0].contains("a tie"),
            "{:?}",
            plans[1].notes
        );
        assert!(plans[2].notes.is_empty(), "above its JWT: nothing to flag");
    }
}
