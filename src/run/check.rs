//! `tokenbench plan --check`: a plan checked against a run of the deployment it plans.
//! The prediction comes from a run's results alone ([`crate::plan`]); the measurement is a
//! site this machine can run: the store filled with the scenario's sessions (a key prefix
//! of its own, deleted afterwards), then `nodes` `serve` processes over the store behind
//! a latency proxy at the scenario's round trip, loaded at the scenario's rate
//! ([`nodes::fixed_rate`]). Each figure is compared: server CPU per request, store
//! operations per second, store CPU, store memory for the sessions, bytes per request,
//! the p50 latency the credential adds.
//!
//! The plan is given the round trip the proxy adds while the site loads it, as measured
//! (pings through it less pings straight to the store, in pairs, during the flow's steps:
//! the proxy's threads wait for busy cores, so its round trip under load exceeds its idle
//! one), never anything else the check measured.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use rand::SeedableRng;
use rand::rngs::StdRng;
use serde::{Deserialize, Serialize};

use crate::claims::ClaimSet;
use crate::clock::SystemClock;
use crate::plan::{self, Client, PlanError, RunFiles, Scenario, SchemePlan};
use crate::results::RunDir;
use crate::scheme::spec::{SchemeId, SchemeSpec, StoreSpec};
use crate::scheme::{SessionConfig, SessionScheme, TokenScheme};
use crate::store::RedisStore;
use crate::workload::http::nodes::{self, FixedRate, FixedSite, SiteParams};
use crate::workload::{Progress, WorkloadError, claims};

/// The largest relative difference a figure may show: |measured − predicted| ÷ predicted.
pub const TOLERANCE: f64 = 0.25;

/// What to check.
#[derive(Debug, Clone)]
pub struct CheckConfig {
    /// The `tokenbench` executable the nodes and the proxy run.
    pub exe: PathBuf,
    /// The run whose figures predict.
    pub run: RunDir,
    /// The deployment (its client must be `h1`, its transport bearer: what a site serves).
    pub scenario: Scenario,
    /// The Redis the sessions live in.
    pub store: StoreSpec,
    /// Measured window of each step.
    pub window: Duration,
    /// Steps of the flow (each with its floor step); the median is compared.
    pub repeats: usize,
}

/// Why the check could not be made (not: a figure that missed).
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    /// The plan could not be made.
    #[error(transparent)]
    Plan(#[from] PlanError),
    /// The site or the store failed.
    #[error(transparent)]
    Workload(#[from] WorkloadError),
    /// The scenario or the run cannot be checked.
    #[error("{0}")]
    Cannot(String),
}

/// One figure, predicted and measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckRow {
    /// What is compared.
    pub figure: String,
    /// The plan's figure.
    pub predicted: f64,
    /// The site's.
    pub measured: f64,
    /// Their unit (`ns`, `ops/s`, `cores`, `B`).
    pub unit: String,
    /// measured ÷ predicted.
    pub ratio: f64,
    /// Within [`TOLERANCE`].
    pub ok: bool,
    /// The spread of the measured figure over the repeats (min, max).
    pub spread: (f64, f64),
}

/// The check's outcome.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckReport {
    /// The run the prediction came from.
    pub run: String,
    /// The scenario, with the round trip the proxy adds as measured.
    pub scenario: Scenario,
    /// The scheme checked.
    pub scheme: SchemeId,
    /// The round trip the proxy adds, measured idle, ms.
    pub measured_rtt_ms: Option<f64>,
    /// The round trip the proxy adds while the site loads it, ms: what the plan is given.
    pub loaded_rtt_ms: Option<f64>,
    /// Each figure.
    pub rows: Vec<CheckRow>,
    /// What the reader should know (invalid steps…).
    pub notes: Vec<String>,
}

impl CheckReport {
    /// Whether every figure is within the tolerance.
    pub fn passed(&self) -> bool {
        !self.rows.is_empty() && self.rows.iter().all(|r| r.ok)
    }

    /// The table (Markdown, as the README quotes it).
    pub fn table(&self) -> String {
        let mut out = String::from(
            "| figure | predicted | measured (min–max) | ratio | ok |\n|---|---|---|---|---|\n",
        );
        for r in &self.rows {
            out.push_str(&format!(
                "| {} | {} | {} ({}–{}) | {:.2} | {} |\n",
                r.figure,
                fmt(r.predicted, &r.unit),
                fmt(r.measured, &r.unit),
                fmt(r.spread.0, &r.unit),
                fmt(r.spread.1, &r.unit),
                r.ratio,
                if r.ok { "yes" } else { "NO" }
            ));
        }
        out
    }
}

fn fmt(v: f64, unit: &str) -> String {
    match unit {
        "ns" => crate::units::ns(v),
        "B" => crate::units::bytes((v * 10.0).round() / 10.0),
        "ops/s" => format!("{} ops/s", crate::units::count(v)),
        "MiB" => format!("{v:.1} MiB"),
        _ => format!("{v:.3} {unit}"),
    }
}

/// Runs the check (see the module docs).
pub fn check(cfg: &CheckConfig, progress: &dyn Progress) -> Result<CheckReport, CheckError> {
    let s = &cfg.scenario;
    if s.client != Client::H1 {
        return Err(CheckError::Cannot(
            "the check loads its site over HTTP/1.1: use --client h1".into(),
        ));
    }
    let Some(url) = cfg
        .store
        .url()
        .filter(|_| cfg.store.server_address().is_some())
    else {
        return Err(CheckError::Cannot(
            "the check needs one Redis server: --store redis://HOST:PORT".into(),
        ));
    };
    if !matches!(cfg.store, StoreSpec::Redis(_)) {
        return Err(CheckError::Cannot(
            "the check fills a Redis store: --store redis://HOST:PORT".into(),
        ));
    }
    let files = RunFiles::load(&cfg.run)?;
    let spec = SchemeSpec::Session(cfg.store.clone());
    let id = spec.id();
    // Refuse early, before filling anything, when the run cannot predict.
    let early = plan::plan(&files.inputs(), s)?;
    let early = scheme_of(&early.schemes, id)?;
    if !early.complete() {
        return Err(CheckError::Cannot(format!(
            "{id} in run {}: {}",
            files.run,
            early.cannot_plan()
        )));
    }
    let sessions = s.sessions.round() as usize;

    progress.start("plan check", 0);
    progress.step(&format!(
        "filling {url_r} with {sessions} sessions",
        url_r = cfg.store.redacted()
    ));
    let probe = cfg
        .store
        .probe()
        .map_err(WorkloadError::from)?
        .ok_or_else(|| CheckError::Cannot("the store has no server to read".into()))?;
    let store = RedisStore::connect(url).map_err(WorkloadError::from)?;
    let filled = SessionScheme::new(store, SessionConfig::default(), Arc::new(SystemClock));
    let before = probe.memory_bytes().map_err(WorkloadError::from)?;
    fill(&filled, sessions)?;
    let after = probe.memory_bytes().map_err(WorkloadError::from)?;
    let memory = match (before, after) {
        (Some(b), Some(a)) => Some(a as f64 - b as f64),
        _ => None,
    };

    progress.step(&format!(
        "{id} on {} nodes at {} req/s, store {} away",
        s.nodes,
        crate::units::count(s.rate),
        crate::units::ns(s.store_rtt_ms * 1e6)
    ));
    let p = SiteParams {
        common_window: cfg.window,
        ..SiteParams::quick()
    };
    let site = nodes::fixed_rate(
        &cfg.exe,
        &p,
        &FixedSite {
            spec: spec.clone(),
            store: cfg.store.clone(),
            nodes: s.nodes,
            rtt: s.store_rtt(),
            rate: s.rate,
            repeats: cfg.repeats,
        },
    );
    progress.step("deleting the filled sessions");
    // Dropping the scheme drops its store, which deletes every key under its prefix.
    drop(filled);
    let site = site?;
    progress.finish();

    let mut scenario = s.clone();
    if let Some(rtt) = site.loaded_rtt_ms.or(site.measured_rtt_ms) {
        scenario.store_rtt_ms = rtt;
    }
    let predicted = plan::plan(&files.inputs(), &scenario)?;
    let predicted = scheme_of(&predicted.schemes, id)?;
    let rows = compare(predicted, &site, memory, sessions, &scenario)?;
    let mut notes = Vec::new();
    for (i, (me, floor, _)) in site.repeats.iter().enumerate() {
        for (what, st) in [("flow", &me.step), ("floor", &floor.step)] {
            if !st.valid {
                notes.push(format!(
                    "repeat {}: the {what} step is invalid ({})",
                    i + 1,
                    st.invalid_reason
                        .as_deref()
                        .unwrap_or("the generator lagged")
                ));
            }
            if st.errors > 0 {
                notes.push(format!(
                    "repeat {}: {} of {} {what} requests failed",
                    i + 1,
                    st.errors,
                    st.requests
                ));
            }
        }
    }
    if site.placement.is_oversubscribed() {
        notes.push(
            "the generator, the nodes, the proxy and the store share this machine's cores".into(),
        );
    }
    Ok(CheckReport {
        run: files.run,
        scenario,
        scheme: id,
        measured_rtt_ms: site.measured_rtt_ms,
        loaded_rtt_ms: site.loaded_rtt_ms,
        rows,
        notes,
    })
}

fn scheme_of(schemes: &[SchemePlan], id: SchemeId) -> Result<&SchemePlan, CheckError> {
    schemes
        .iter()
        .find(|p| p.scheme == id)
        .ok_or_else(|| CheckError::Cannot(format!("the run has no figures of {id}")))
}

/// Issues `n` sessions of typical claims into `scheme`, on four threads.
fn fill(scheme: &SessionScheme<RedisStore>, n: usize) -> Result<(), CheckError> {
    const THREADS: usize = 4;
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..THREADS)
            .map(|t| {
                let count = n / THREADS + usize::from(t < n % THREADS);
                scope.spawn(move || -> Result<(), WorkloadError> {
                    let mut rng = StdRng::seed_from_u64(0x9e37 + t as u64);
                    for _ in 0..count {
                        scheme.issue(&claims(ClaimSet::Typical, &mut rng))?;
                    }
                    Ok(())
                })
            })
            .collect();
        for h in handles {
            h.join()
                .map_err(|_| CheckError::Cannot("a thread filling the store panicked".into()))??;
        }
        Ok(())
    })
}

fn median(mut v: Vec<f64>) -> Option<(f64, (f64, f64))> {
    v.retain(|x| x.is_finite());
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let m = if v.len() % 2 == 1 {
        v[v.len() / 2]
    } else {
        (v[v.len() / 2 - 1] + v[v.len() / 2]) / 2.0
    };
    Some((m, (v[0], v[v.len() - 1])))
}

fn row(figure: &str, predicted: f64, measured: (f64, (f64, f64)), unit: &str) -> CheckRow {
    let ratio = if predicted != 0.0 {
        measured.0 / predicted
    } else {
        f64::INFINITY
    };
    CheckRow {
        figure: figure.to_owned(),
        predicted,
        measured: measured.0,
        unit: unit.to_owned(),
        ratio,
        ok: ratio.is_finite() && (ratio - 1.0).abs() <= TOLERANCE,
        spread: measured.1,
    }
}

fn compare(
    p: &SchemePlan,
    site: &FixedRate,
    memory: Option<f64>,
    sessions: usize,
    s: &Scenario,
) -> Result<Vec<CheckRow>, CheckError> {
    let lacking = |what: &str| CheckError::Cannot(format!("the site measured no {what}"));
    let node = p.node.as_ref().ok_or_else(|| lacking("plan: node CPU"))?;
    let store = p
        .store_cpu
        .as_ref()
        .ok_or_else(|| lacking("plan: store CPU"))?;
    let mem = p.memory.as_ref().ok_or_else(|| lacking("plan: memory"))?;
    let bytes = p
        .bandwidth
        .iter()
        .find_map(|b| b.request_bytes)
        .ok_or_else(|| lacking("plan: bytes per request"))?;
    let latency = p.latency.as_ref().ok_or_else(|| lacking("plan: latency"))?;
    let r = &site.repeats;
    let m = |v: Vec<f64>, what: &str| median(v).ok_or_else(|| lacking(what));
    let cpu = m(
        r.iter()
            .filter_map(|(me, _, _)| me.cpu_per_request_ns())
            .collect(),
        "server CPU per request",
    )?;
    let ops = m(
        r.iter()
            .filter_map(|(_, _, l)| l.as_ref().map(|l| l.ops_per_sec))
            .collect(),
        "store operations",
    )?;
    let store_cores = m(
        r.iter()
            .filter_map(|(_, _, l)| l.as_ref().map(|l| l.ops_per_sec * l.cpu_per_op_ns / 1e9))
            .collect(),
        "store CPU",
    )?;
    let sent = m(
        r.iter()
            .map(|(me, _, _)| me.step.bytes_sent_per_request)
            .collect(),
        "bytes per request",
    )?;
    let added = m(
        r.iter()
            .map(|(me, floor, _)| me.step.latency.median_ns - floor.step.latency.median_ns)
            .collect(),
        "p50 latency",
    )?;
    let memory = memory.ok_or_else(|| lacking("store memory (INFO used_memory)"))?;
    let mib = (1u64 << 20) as f64;
    Ok(vec![
        row(
            "server CPU per request (nodes)",
            node.cpu_per_request_ns,
            cpu,
            "ns",
        ),
        row("store operations/s", store.ops_per_sec, ops, "ops/s"),
        row("store CPU (cores)", store.cores, store_cores, "cores"),
        row(
            &format!(
                "store memory for {} sessions",
                crate::units::count(sessions as f64)
            ),
            mem.data_bytes / mib,
            (memory / mib, (memory / mib, memory / mib)),
            "MiB",
        ),
        row("bytes per request (client → server)", bytes, sent, "B"),
        row(
            &format!(
                "p50 latency added (flow − floor, RTT {})",
                crate::units::ns(s.store_rtt_ms * 1e6)
            ),
            latency.added_ns,
            added,
            "ns",
        ),
    ])
}
