//! `tokenbench plan`: the capacity planner on a run folder ([`tokenbench::plan`]): a table,
//! or the plan as JSON.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use super::commands::run_folder;
use super::output::Output;
use super::progress::Bar;
use super::{Redacted, parse_claims, parse_store};
use tokenbench::claims::ClaimSet;
use tokenbench::net::Transport;
use tokenbench::plan::{Client, Overheads, RunFiles, Scenario};
use tokenbench::run::check::{CheckConfig, check};
use tokenbench::scheme::spec::StoreSpec;
use tokenbench::units;

/// Options of `plan`.
#[derive(Debug, Args)]
pub struct PlanArgs {
    /// The run folder whose figures the plan uses, or a results folder (its latest run).
    #[arg(default_value = "results/latest")]
    pub dir: PathBuf,
    /// Requests per second over the whole site: 3000, 50k, 1.5M.
    #[arg(long, value_parser = units::parse_count, allow_hyphen_values = true)]
    pub rate: f64,
    /// Live sessions (logged-in users) at once: 100k, 2M.
    #[arg(long, value_parser = units::parse_count, allow_hyphen_values = true)]
    pub sessions: f64,
    /// Nodes of the site.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub nodes: u32,
    /// Round trip from a node to the store: 0, 0.5ms, 2ms (at most 1s).
    #[arg(long, value_parser = units::parse_rtt)]
    pub store_rtt: std::time::Duration,
    /// Whose bytes the bandwidth counts: h1 (HTTP/1.1), hyper (HTTP/2: h2c and h2), or
    /// chromium (the browser workload's first and repeated requests; needs browser.json).
    #[arg(long, value_parser = parse_client, default_value = "h1")]
    pub client: Client,
    /// How the credential travels: bearer (the node runs' transport) or cookie.
    #[arg(long, value_parser = parse_transport, default_value = "bearer")]
    pub transport: Transport,
    /// Revocation must reach every node within this (1s, 250ms, 15m).
    #[arg(long, value_parser = units::parse_lifetime)]
    pub revocation_within: Option<std::time::Duration>,
    /// Claim set of the tokens: minimal, typical, large.
    #[arg(long, value_parser = parse_claims, default_value = "typical")]
    pub claims: ClaimSet,
    /// Redis resident memory over used memory (mem_fragmentation_ratio).
    #[arg(long, value_parser = parse_factor, default_value_t = Overheads::FRAGMENTATION)]
    pub fragmentation: f64,
    /// Copies of the store's data: a primary and its replicas.
    #[arg(long, value_parser = parse_factor, default_value_t = Overheads::REPLICATION)]
    pub replication: f64,
    /// Redis peak over steady memory while a fork (BGSAVE, AOF rewrite) copies on write.
    #[arg(long, value_parser = parse_factor, default_value_t = Overheads::FORK_HEADROOM)]
    pub fork_headroom: f64,
    /// Print the plan (or the check) as JSON instead of the table.
    #[arg(long)]
    pub json: bool,
    /// Check the plan against a run of the deployment on this machine: fill the store with
    /// the sessions (own key prefix, deleted after), run the nodes over it behind a proxy at
    /// the round trip, load them at the rate, compare each figure; exit 1 if one differs
    /// by more than 25%.
    #[arg(long)]
    pub check: bool,
    /// The check's Redis: redis://HOST:PORT (or redis, for TOKENBENCH_REDIS_URL).
    #[arg(long, value_parser = Redacted(parse_store), requires = "check")]
    pub store: Option<StoreSpec>,
    /// The check's measured window per step.
    #[arg(long, value_parser = units::parse_duration, default_value = "3s", requires = "check")]
    pub check_window: std::time::Duration,
    /// The check's steps (the median is compared).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=20), requires = "check")]
    pub check_repeats: u32,
}

fn parse_client(s: &str) -> Result<Client, String> {
    s.parse()
}

fn parse_transport(s: &str) -> Result<Transport, String> {
    s.parse()
}

/// A memory overhead factor: a number of at least 1.
fn parse_factor(s: &str) -> Result<f64, String> {
    let v: f64 = s
        .trim()
        .parse()
        .map_err(|_| format!("'{s}' is not a number"))?;
    if !(v.is_finite() && v >= 1.0) {
        return Err(format!("'{s}' must be a factor of at least 1"));
    }
    Ok(v)
}

impl PlanArgs {
    /// The scenario the flags describe.
    pub fn scenario(&self) -> Scenario {
        Scenario {
            rate: self.rate,
            sessions: self.sessions,
            nodes: self.nodes as usize,
            store_rtt_ms: self.store_rtt.as_secs_f64() * 1e3,
            client: self.client,
            transport: self.transport,
            revocation_within_ms: self.revocation_within.map(|d| d.as_secs_f64() * 1e3),
            claims: self.claims,
            overheads: Overheads {
                fragmentation: self.fragmentation,
                replication: self.replication,
                fork_headroom: self.fork_headroom,
            },
        }
    }
}

pub(crate) fn plan(a: &PlanArgs) -> anyhow::Result<ExitCode> {
    let dir = run_folder(&a.dir)?;
    if dir.is_incomplete() {
        say!(
            "tokenbench: warning: {} is marked INCOMPLETE (the run did not finish)",
            a.dir.display()
        );
    }
    if a.check {
        return plan_check(a, dir);
    }
    let files = RunFiles::load(&dir)?;
    let plan = tokenbench::plan::plan(&files.inputs(), &a.scenario())?;
    let text = if a.json {
        format!("{}\n", serde_json::to_string_pretty(&plan)?)
    } else {
        tokenbench::plan::terminal(&plan)
    };
    Output::stdout().print(&text)?;
    Ok(ExitCode::SUCCESS)
}

/// `plan --check`: the plan against a site run at its scale (see
/// [`tokenbench::run::check`]).
fn plan_check(a: &PlanArgs, run: tokenbench::results::RunDir) -> anyhow::Result<ExitCode> {
    let store = match (&a.store, tokenbench::store::redis_url_from_env()) {
        (Some(s), _) => s.clone(),
        (None, Some(url)) => parse_store(&url).map_err(anyhow::Error::msg)?,
        (None, None) => {
            anyhow::bail!("--check needs --store redis://HOST:PORT (or TOKENBENCH_REDIS_URL set)")
        }
    };
    let cfg = CheckConfig {
        exe: std::env::current_exe()?,
        run,
        scenario: a.scenario(),
        store,
        window: a.check_window,
        repeats: a.check_repeats as usize,
    };
    let report = check(&cfg, &Bar::new())?;
    let mut out = Output::stdout();
    if a.json {
        out.print(&format!("{}\n", serde_json::to_string_pretty(&report)?))?;
    } else {
        out.line(format!(
            "Plan check: {} predicted from run {} against a site of {} nodes at {} req/s ({}); \
             round trip the proxy adds, measured idle {} and under load {} (the plan is given the latter)",
            report.scheme,
            report.run,
            report.scenario.nodes,
            units::count(report.scenario.rate),
            report.scenario.describe(),
            report
                .measured_rtt_ms
                .map_or_else(|| "none".to_owned(), |r| units::ns(r * 1e6)),
            report
                .loaded_rtt_ms
                .map_or_else(|| "none".to_owned(), |r| units::ns(r * 1e6)),
        ))?;
        out.print(&report.table())?;
        for n in &report.notes {
            out.line(format!("note: {n}"))?;
        }
        out.line(if report.passed() {
            "every figure within 25% of its prediction"
        } else {
            "FAILED: a figure differs from its prediction by more than 25%"
        })?;
    }
    Ok(if report.passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
