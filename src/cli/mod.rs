//! The command line of the `tokenbench` binary (anyhow lives here, not in the library):
//! arguments, the subcommands, exit statuses.
//!
//! - `run` and one subcommand per registered workload ([`tokenbench::workload::REGISTRY`]):
//!   the common flags ([`CommonArgs`]) plus the flags each workload declares, built with
//!   clap's builder from the registry, so that each subcommand lists only its own.
//! - [`commands`]: `report`, `issue`, `inspect`.
//! - [`plan`]: `plan`, the capacity planner.
//! - [`serve`], [`load`]: the HTTP server and the load generator ([`tokenbench::http`],
//!   [`tokenbench::load`]).
//! - [`output`]: standard output that ends quietly on a closed pipe, `say!` for stderr.
//! - [`progress`]: the progress bar.

#[macro_use]
mod output;
mod commands;
mod load;
mod plan;
mod progress;
mod proxy;
mod serve;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{ArgMatches, Args, CommandFactory, FromArgMatches, Parser, Subcommand};

use output::Output;
use tokenbench::claims::ClaimSet;
use tokenbench::crypto::{self, CryptoBackend};
use tokenbench::run::{self, Plan, Step};
use tokenbench::scheme::spec::{Family, StoreSpec};
use tokenbench::scheme::{JwtAlg, PasetoPurpose};
use tokenbench::store::redact_url;
use tokenbench::workload::{REGISTRY, Registered, Settings, registered};

const EXAMPLES: &str = "\
Examples:
  tokenbench run --quick                       every workload, every scheme, small budgets
  tokenbench run --label laptop                the full run, results/<timestamp>-laptop/
  tokenbench validate --schemes jwt --algs HS256,EdDSA
  tokenbench scale --threads 1,2,4 --sessions 1000,1000000
  tokenbench revoke --validators 8 --trials 50 --cache-ttl 500ms
  tokenbench issue --scheme jwt --alg ES256 --count 3
  tokenbench inspect eyJhbGciOi... --jwk key.json
  tokenbench plan results/latest --rate 50k --sessions 2M --nodes 8 --store-rtt 0.5ms";

/// tokenbench: opaque session tokens or signed JWTs, measured.
#[derive(Debug, Parser)]
#[command(name = "tokenbench", version, about, after_help = EXAMPLES)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Cmd,
}

/// The subcommands besides `run` and the workloads' (which come from the registry).
// Parsed once at start-up: the variants' sizes cost nothing worth a box.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum Cmd {
    /// Rebuild charts, report.md and report.html from a run folder (no measuring).
    Report(commands::ReportArgs),
    /// Print fresh tokens, one per line, for external tools.
    Issue(commands::IssueArgs),
    /// Say what a token reveals; verify a JWT with a JWK.
    Inspect(commands::InspectArgs),
    /// Serve the Superb Site (login flow over a scheme) on HTTP/1.1, h2c or HTTPS.
    Serve(Box<tokenbench::http::args::ServeArgs>),
    /// Open-loop load against a local `serve`: fixed rates, p99, the highest passing rate.
    Load(tokenbench::load::args::LoadArgs),
    /// Add network distance in front of a store: a TCP proxy delaying each chunk.
    Proxy(proxy::ProxyArgs),
    /// Plan a deployment (rate, sessions, nodes, store distance) from a run's figures.
    Plan(plan::PlanArgs),
    /// Internal: the child process of a run on the other crypto backend (job on stdin).
    #[command(name = "__child", hide = true)]
    Child,
}

/// Flags every measuring subcommand takes.
#[derive(Debug, Clone, Args)]
pub struct CommonArgs {
    /// Small budgets: quick, noisier figures (`run --quick` takes about 80 s on 2 cores,
    /// the browser workload included).
    #[arg(long)]
    pub quick: bool,
    /// Folder that receives one sub-folder per run.
    #[arg(long, default_value = "results")]
    pub out: PathBuf,
    /// Appended to the run folder's name.
    #[arg(long)]
    pub label: Option<String>,
    /// Token families: session, jwt, paseto, hybrid (an access JWT with a rotating refresh
    /// token: HS256, one per store); all by default.
    #[arg(long, value_delimiter = ',', value_parser = parse_family)]
    pub schemes: Option<Vec<Family>>,
    /// The hybrid's access-token lifetime (exp - iat).
    #[arg(long, default_value = "5m", value_parser = tokenbench::units::parse_lifetime)]
    pub access_lifetime: std::time::Duration,
    /// The hybrid's reuse grace: how long after a rotation the replaced refresh token is
    /// answered with the same successor instead of revoking its family (0: never).
    #[arg(long, default_value = "0", value_parser = parse_grace)]
    pub reuse_grace: std::time::Duration,
    /// Requests per second per user: a hybrid's user refreshes once per access lifetime,
    /// so once every (access lifetime × this) requests, in the revoke workload's amortised
    /// refresh and the http workload's flow.
    #[arg(long, default_value = "0.1", value_parser = parse_rate_per_user)]
    pub requests_per_user: f64,
    /// Session stores: memory (default), rwlock, redis://HOST:PORT[/DB], redis (URL from
    /// TOKENBENCH_REDIS_URL), a Redis Cluster, redis+cluster://HOST:PORT[,HOST:PORT...], or
    /// PostgreSQL, postgres://USER:PASSWORD@HOST:PORT/DB (user, password and port optional;
    /// user postgres when none).
    /// Repeat or separate with commas to compare.
    #[arg(long, alias = "store", value_parser = Redacted(parse_stores))]
    pub stores: Option<Vec<StoreList>>,
    /// JWT algorithms: HS256, RS256, ES256, EdDSA.
    #[arg(long, value_delimiter = ',', value_parser = parse_alg)]
    pub algs: Option<Vec<JwtAlg>>,
    /// PASETO v4 purposes: public (Ed25519), local (XChaCha20 + BLAKE2b).
    #[arg(long, value_delimiter = ',', value_parser = parse_purpose)]
    pub pasetos: Option<Vec<PasetoPurpose>>,
    /// Seed of the workload inputs.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// jsonwebtoken crypto backend of this process: aws-lc-rs or rust-crypto.
    #[arg(long, value_parser = parse_backend, default_value = "aws-lc-rs")]
    pub crypto: CryptoBackend,
    /// Do not also measure JWTs on the other crypto backend (in a child process).
    #[arg(long)]
    pub single_backend: bool,
}

impl CommonArgs {
    /// The settings from the defaults and the flags given.
    pub fn settings(&self) -> Settings {
        let mut s = Settings::defaults(self.quick);
        if let Some(f) = &self.schemes {
            s.families = dedup(f.clone());
        }
        if let Some(lists) = &self.stores {
            s.stores = dedup(lists.iter().flat_map(|l| l.0.clone()).collect());
        }
        if let Some(a) = &self.algs {
            s.algs = dedup(a.clone());
        }
        if let Some(p) = &self.pasetos {
            s.pasetos = dedup(p.clone());
        }
        s.access_lifetime = self.access_lifetime;
        s.reuse_grace = self.reuse_grace;
        s.requests_per_user = self.requests_per_user;
        s.seed = self.seed;
        s.backend = self.crypto;
        s
    }
}

/// A positive, finite rate per user.
fn parse_rate_per_user(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(r) if r.is_finite() && r > 0.0 && r <= 1e6 => Ok(r),
        _ => Err(format!(
            "'{s}' is not a rate per user (a number above 0, e.g. 0.1)"
        )),
    }
}

/// A reuse grace: `0`, or a duration of [`tokenbench::units::parse_duration`] (at most an hour).
pub(crate) fn parse_grace(s: &str) -> Result<std::time::Duration, String> {
    match s.trim() {
        "0" | "0s" | "0ms" => Ok(std::time::Duration::ZERO),
        other => tokenbench::units::parse_duration(other),
    }
}

fn dedup<T: PartialEq>(v: Vec<T>) -> Vec<T> {
    let mut out: Vec<T> = Vec::with_capacity(v.len());
    for x in v {
        if !out.contains(&x) {
            out.push(x);
        }
    }
    out
}

pub(crate) fn parse_family(s: &str) -> Result<Family, String> {
    s.parse()
}

/// The stores of one `--stores` value (see [`StoreSpec::parse_list`]).
#[derive(Debug, Clone)]
pub struct StoreList(pub Vec<StoreSpec>);

pub(crate) fn parse_store(s: &str) -> Result<StoreSpec, String> {
    with_env_url(s).parse()
}

fn parse_stores(s: &str) -> Result<StoreList, String> {
    let items: Vec<String> = s.split(',').map(with_env_url).collect();
    StoreSpec::parse_list(&items.join(",")).map(StoreList)
}

/// `redis` alone stands for the URL in `TOKENBENCH_REDIS_URL`, when it is set: the
/// environment is read here, at the binary's edge, never by the library.
fn with_env_url(item: &str) -> String {
    match tokenbench::store::redis_url_from_env() {
        Some(url) if item.trim().eq_ignore_ascii_case("redis") => url,
        _ => item.to_owned(),
    }
}

/// A value parser for arguments that may hold a URL with a password (`--stores`): its
/// error shows the value through [`redact_url`], where clap's own would echo it verbatim.
#[derive(Clone)]
pub(crate) struct Redacted<T>(pub(crate) fn(&str) -> Result<T, String>);

impl<T: Clone + Send + Sync + 'static> clap::builder::TypedValueParser for Redacted<T> {
    type Value = T;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<T, clap::Error> {
        let text = value.to_string_lossy();
        (self.0)(&text).map_err(|reason| {
            let arg = arg.map_or_else(|| "...".to_owned(), ToString::to_string);
            clap::Error::raw(
                clap::error::ErrorKind::ValueValidation,
                format!(
                    "invalid value '{}' for '{arg}': {reason}\n\n\
                     For more information, try '--help'.\n",
                    redact_url(&text)
                ),
            )
            .with_cmd(cmd)
        })
    }
}

pub(crate) fn parse_alg(s: &str) -> Result<JwtAlg, String> {
    s.parse()
}
pub(crate) fn parse_purpose(s: &str) -> Result<PasetoPurpose, String> {
    s.parse()
}
pub(crate) fn parse_claims(s: &str) -> Result<ClaimSet, String> {
    s.parse()
}
fn parse_backend(s: &str) -> Result<CryptoBackend, String> {
    s.parse()
}

/// `tokenbench <workload>`: the common flags and that workload's own.
fn workload_command(w: &dyn Registered) -> clap::Command {
    let cmd = CommonArgs::augment_args(clap::Command::new(w.name()));
    // `about` last: a derived `augment_args` sets its struct's doc comment as the about.
    w.augment_args(cmd.next_help_heading(w.name()))
        .about(w.about())
}

/// `tokenbench run`: the common flags and every workload's, each under its heading.
fn run_command() -> clap::Command {
    let mut cmd = CommonArgs::augment_args(clap::Command::new("run"));
    for w in REGISTRY {
        cmd = w.augment_args(cmd.next_help_heading(w.name()));
    }
    cmd.about("Run every workload and write a results folder")
        .after_help(EXAMPLES)
}

/// The whole command tree: the derived subcommands, `run` and the workloads'.
pub fn command() -> clap::Command {
    let mut cmd = Cli::command().subcommand(run_command());
    for w in REGISTRY {
        cmd = cmd.subcommand(workload_command(*w));
    }
    cmd
}

/// A measuring subcommand, parsed: the plan it runs.
fn plan(workloads: &[&'static dyn Registered], matches: &ArgMatches) -> Result<Plan, clap::Error> {
    let common = CommonArgs::from_arg_matches(matches)?;
    let settings = common.settings();
    let steps = workloads
        .iter()
        .map(|w| {
            Ok(Step {
                workload: *w,
                params: w.params(matches, common.quick)?,
            })
        })
        .collect::<Result<Vec<_>, clap::Error>>()?;
    Ok(Plan {
        settings,
        steps,
        out: common.out,
        label: common.label,
        command_line: std::env::args().collect(),
        other_backend: !common.single_backend,
    })
}

/// Parses the command line and runs it. The exit status: 0 success, 1 failure (or an
/// invalid signature for `inspect`), 2 bad usage (from clap).
pub fn main() -> anyhow::Result<ExitCode> {
    let matches = command().get_matches();
    let (name, sub) = matches
        .subcommand()
        .map(|(n, m)| (n.to_owned(), m.clone()))
        .unwrap_or_default();
    let workloads: Vec<&'static dyn Registered> = match name.as_str() {
        "run" => REGISTRY.to_vec(),
        other => registered(other).into_iter().collect(),
    };
    if !workloads.is_empty() {
        let plan = plan(&workloads, &sub).unwrap_or_else(|e| e.exit());
        return measure(&plan);
    }
    match Cmd::from_arg_matches(&matches).unwrap_or_else(|e| e.exit()) {
        Cmd::Report(a) => commands::report(&a),
        Cmd::Issue(a) => commands::issue(&a),
        Cmd::Inspect(a) => commands::inspect(&a),
        Cmd::Serve(a) => serve::serve(&a),
        Cmd::Load(a) => load::load(&a),
        Cmd::Proxy(a) => proxy::proxy(&a),
        Cmd::Plan(a) => plan::plan(&a),
        Cmd::Child => {
            let out = std::io::stdout();
            run::child::serve(std::io::stdin().lock(), out.lock()).context("child process")?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Runs `plan` and prints its summary and where its files are.
fn measure(plan: &Plan) -> anyhow::Result<ExitCode> {
    crypto::install(plan.settings.backend).context("choosing the crypto backend")?;
    let finished = run::execute(plan, &progress::Bar::new())?;
    let mut out = Output::stdout();
    out.print(&finished.summary)?;
    out.line(format!("results: {}", finished.dir.root().display()))?;
    match &finished.report {
        Ok(paths) => {
            if let Some(html) = run::html_report(paths) {
                out.line(format!("report:  {}", html.display()))?;
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            say!("tokenbench: error: the report could not be built: {e}");
            say!(
                "tokenbench: the measurements are saved; retry with: tokenbench report {}",
                finished.dir.root().display()
            );
            Ok(ExitCode::FAILURE)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<(String, ArgMatches), clap::Error> {
        let m = command().try_get_matches_from(args)?;
        let (n, s) = m.subcommand().expect("a subcommand");
        Ok((n.to_owned(), s.clone()))
    }

    #[test]
    fn the_command_tree_is_consistent() {
        // clap checks ids, flags and headings of the whole tree (a flag two workloads
        // declared would make `run` ambiguous).
        command().debug_assert();
    }

    #[test]
    fn flags_override_defaults_and_go_to_their_workload() {
        let (_, m) = parse(&[
            "tokenbench",
            "run",
            "--quick",
            "--schemes",
            "jwt",
            "--algs",
            "es256,HS256,ES256",
            "--threads",
            "3",
            "--trials",
            "5",
        ])
        .unwrap();
        let plan = plan(REGISTRY, &m).unwrap();
        assert_eq!(plan.settings.algs, vec![JwtAlg::ES256, JwtAlg::HS256]);
        assert_eq!(plan.settings.schemes().len(), 2);
        let params = |name: &str| {
            plan.steps
                .iter()
                .find(|s| s.workload.name() == name)
                .unwrap()
                .params
                .clone()
        };
        assert_eq!(params("scale")["threads"], serde_json::json!([3]));
        assert_eq!(params("revoke")["trials"], 5);
        assert!(parse(&["tokenbench", "run", "--threads", "0"]).is_err());
        assert!(parse(&["tokenbench", "run", "--algs", "none"]).is_err());
    }

    #[test]
    fn each_subcommand_takes_only_its_own_flags() {
        assert!(parse(&["tokenbench", "size", "--validators", "2"]).is_err());
        assert!(parse(&["tokenbench", "size", "--cache-ttl", "1s"]).is_err());
        assert!(parse(&["tokenbench", "validate", "--threads", "2"]).is_err());
        assert!(parse(&["tokenbench", "revoke", "--validators", "2"]).is_ok());
        assert!(parse(&["tokenbench", "scale", "--threads", "2"]).is_ok());
    }

    #[test]
    fn a_cluster_url_keeps_its_node_list_among_other_stores() {
        let (_, m) = parse(&[
            "tokenbench",
            "run",
            "--stores",
            "memory,redis+cluster://a:7000,b:7001,rwlock",
            "--store",
            "redis://h:6379/",
        ])
        .unwrap();
        assert_eq!(
            plan(REGISTRY, &m).unwrap().settings.stores,
            vec![
                StoreSpec::Memory,
                StoreSpec::Redis("redis+cluster://a:7000,b:7001".into()),
                StoreSpec::RwLock,
                StoreSpec::Redis("redis://h:6379/".into()),
            ]
        );
        // A host:port item only continues a cluster's node list.
        for bad in [
            "memory,a:7000",
            "redis+cluster://",
            "redis+cluster://a:1,,b:2",
            "mem",
        ] {
            assert!(
                parse(&["tokenbench", "run", "--stores", bad]).is_err(),
                "{bad}"
            );
        }
    }
}
