//! The command line: argument parsing and the `run` pipeline (workloads, results, summary).
//! `main` only calls [`main`] and turns its result into an exit status.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::claims::ClaimSet;
use crate::clock::{Clock, SystemClock};
use crate::crypto::{self, CryptoBackend};
use crate::results::{Artifact, Meta, RunDir, WorkloadKind, rfc3339, utc_timestamp};
use crate::scheme::{JwtAlg, RevocationStrategy, SessionConfig};
use crate::workload::{
    self, Family, NoProgress, Options, Progress, SchemeSpec, StoreSpec, SummaryRow, revoke, scale,
    size, validate,
};

const EXAMPLES: &str = "\
Examples:
  tokenbench run --quick                       every workload, every scheme, small budgets
  tokenbench run --label laptop                the full run, results/<timestamp>-laptop/
  tokenbench validate --schemes jwt --algs HS256,EdDSA
  tokenbench scale --threads 1,2,4 --sessions 1000,1000000
  tokenbench revoke --validators 8 --trials 50 --cache-ttl 500ms
  tokenbench issue --scheme jwt --alg ES256 --count 3
  tokenbench inspect eyJhbGciOi... --jwk key.json";

/// tokenbench: opaque session tokens or signed JWTs, measured.
#[derive(Debug, Parser)]
#[command(name = "tokenbench", version, about, after_help = EXAMPLES)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Cmd,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Cmd {
    /// Run all four workloads and write a results folder.
    #[command(after_help = EXAMPLES)]
    Run(RunArgs),
    /// Token, header and server-side bytes.
    Size(RunArgs),
    /// Per-request cost of validate and issue.
    Validate(RunArgs),
    /// Time until every validator rejects a revoked token.
    Revoke(RunArgs),
    /// Throughput and latency as threads and working sets grow.
    Scale(RunArgs),
    /// Rebuild charts, report.md and report.html from a run folder (no measuring).
    Report(ReportArgs),
    /// Print fresh tokens, one per line, for external tools.
    Issue(IssueArgs),
    /// Say what a token reveals; verify a JWT with a JWK.
    Inspect(InspectArgs),
    /// Serve the Superb Site (login flow over a scheme) on HTTP/1.1, h2c or HTTPS.
    Serve(crate::http::args::ServeArgs),
    /// Open-loop load against a local `serve`: fixed rates, p99, the highest passing rate.
    Load(crate::load::args::LoadArgs),
}

/// Options shared by `run` and the workload subcommands.
#[derive(Debug, Clone, Args)]
pub struct RunArgs {
    /// Small budgets: the whole run in about a minute.
    #[arg(long)]
    pub quick: bool,
    /// Folder that receives one sub-folder per run.
    #[arg(long, default_value = "results")]
    pub out: PathBuf,
    /// Appended to the run folder's name.
    #[arg(long)]
    pub label: Option<String>,
    /// Token families: session, jwt.
    #[arg(long, value_delimiter = ',', value_parser = parse_family)]
    pub schemes: Option<Vec<Family>>,
    /// Session stores: memory (default), rwlock, redis://HOST:PORT[/DB], redis (URL from
    /// TOKENBENCH_REDIS_URL), or a Redis Cluster, redis+cluster://HOST:PORT[,HOST:PORT...].
    /// Repeat or separate with commas to compare.
    #[arg(long, alias = "store", value_parser = parse_stores)]
    pub stores: Option<Vec<StoreList>>,
    /// JWT algorithms: HS256, RS256, ES256, EdDSA.
    #[arg(long, value_delimiter = ',', value_parser = parse_alg)]
    pub algs: Option<Vec<JwtAlg>>,
    /// Thread counts for scale (default 1..2 x cores; quick: 1 and 2 x cores).
    #[arg(long, value_delimiter = ',', value_parser = clap::value_parser!(u64).range(1..=1024))]
    pub threads: Option<Vec<u64>>,
    /// Live-session working sets for scale (default 1000,100000,1000000; quick: 1000,100000).
    #[arg(long, value_delimiter = ',', value_parser = clap::value_parser!(u64).range(1..=10_000_000))]
    pub sessions: Option<Vec<u64>>,
    /// Seed of the workload inputs.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Validator nodes in revoke.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=64))]
    pub validators: Option<u64>,
    /// Revocation trials per strategy (default 200; quick: 20).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub trials: Option<u64>,
    /// Per-node session cache lifetime in revoke, e.g. 1s, 250ms (default 1s; quick: 250ms).
    #[arg(long, value_parser = parse_duration)]
    pub cache_ttl: Option<Duration>,
    /// Denylist polling period in revoke (default 1s; quick: 250ms).
    #[arg(long, value_parser = parse_duration)]
    pub poll_interval: Option<Duration>,
    /// jsonwebtoken crypto backend of this process: aws-lc-rs or rust-crypto.
    #[arg(long, value_parser = parse_backend, default_value = "aws-lc-rs")]
    pub crypto: CryptoBackend,
    /// Do not also measure JWTs on the other crypto backend (in a child process).
    #[arg(long)]
    pub single_backend: bool,
    /// Internal: run one workload and write its JSON to this file, nothing else.
    #[arg(long, hide = true)]
    pub emit: Option<PathBuf>,
}

/// Options of `report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The run folder.
    #[arg(default_value = "results/latest")]
    pub dir: PathBuf,
}

/// Options of `issue`.
#[derive(Debug, Args)]
pub struct IssueArgs {
    /// session or jwt.
    #[arg(long, value_parser = parse_family)]
    pub scheme: Family,
    /// JWT algorithm.
    #[arg(long, value_parser = parse_alg, default_value = "HS256")]
    pub alg: JwtAlg,
    /// Claim set: minimal, typical, large.
    #[arg(long, value_parser = parse_claims, default_value = "typical")]
    pub claims: ClaimSet,
    /// How many tokens.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=10_000_000))]
    pub count: u64,
    /// Internal (scripts/redis-crosscheck.sh): issue sessions into this Redis store and keep
    /// them there after exiting, under the key prefix given by --redis-prefix.
    #[arg(long, hide = true, value_parser = parse_store, requires = "redis_prefix")]
    pub store: Option<StoreSpec>,
    /// Internal: key prefix of --store; the caller deletes the keys when done.
    #[arg(long, hide = true, requires = "store")]
    pub redis_prefix: Option<String>,
}

/// Options of `inspect`.
#[derive(Debug, Args)]
pub struct InspectArgs {
    /// The token (JWT or opaque).
    pub token: String,
    /// A JWK (JSON file) to verify the signature with.
    #[arg(long)]
    pub jwk: Option<PathBuf>,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

fn parse_family(s: &str) -> Result<Family, String> {
    s.parse()
}
/// The stores of one `--stores` value (see [`StoreSpec::parse_list`]).
#[derive(Debug, Clone)]
pub struct StoreList(pub Vec<StoreSpec>);

fn parse_store(s: &str) -> Result<StoreSpec, String> {
    s.parse()
}

fn parse_stores(s: &str) -> Result<StoreList, String> {
    StoreSpec::parse_list(s).map(StoreList)
}
fn parse_alg(s: &str) -> Result<JwtAlg, String> {
    s.parse()
}
fn parse_claims(s: &str) -> Result<ClaimSet, String> {
    s.parse()
}
fn parse_backend(s: &str) -> Result<CryptoBackend, String> {
    s.parse()
}

/// Parses `250ms`, `1s`, `1.5s`, `2m`.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let split = s.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let v: f64 = num
        .parse()
        .map_err(|_| format!("'{s}' is not a duration (examples: 250ms, 1s, 2m)"))?;
    let secs = match unit {
        "ms" => v / 1e3,
        "s" | "" => v,
        "m" => v * 60.0,
        _ => return Err(format!("unknown unit '{unit}' in '{s}' (use ms, s or m)")),
    };
    if !(secs.is_finite() && secs > 0.0 && secs <= 3600.0) {
        return Err(format!(
            "'{s}' is out of range (more than 0, at most 1 hour)"
        ));
    }
    Ok(Duration::from_secs_f64(secs))
}

impl RunArgs {
    /// Workload options from the defaults and the flags given.
    pub fn options(&self) -> Options {
        let mut o = Options::defaults(self.quick);
        if let Some(f) = &self.schemes {
            o.families = dedup(f.clone());
        }
        if let Some(lists) = &self.stores {
            o.stores = dedup(lists.iter().flat_map(|l| l.0.clone()).collect());
        }
        if let Some(a) = &self.algs {
            o.algs = dedup(a.clone());
        }
        if let Some(t) = &self.threads {
            o.threads = dedup(t.iter().map(|&x| x as usize).collect());
        }
        if let Some(s) = &self.sessions {
            o.sessions = dedup(s.iter().map(|&x| x as usize).collect());
        }
        o.seed = self.seed;
        if let Some(v) = self.validators {
            o.validators = v as usize;
        }
        if let Some(t) = self.trials {
            o.trials = t as usize;
        }
        if let Some(d) = self.cache_ttl {
            o.cache_ttl = d;
        }
        if let Some(d) = self.poll_interval {
            o.poll_interval = d;
        }
        o.backend = self.crypto;
        o
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

/// Parses the command line and runs it. The exit status: 0 success, 1 failure (or an
/// invalid signature for `inspect`), 2 bad usage (from clap).
pub fn main() -> anyhow::Result<ExitCode> {
    let cli = Cli::parse();
    match cli.command {
        Cmd::Run(a) => run(&a, &WorkloadKind::ALL),
        Cmd::Size(a) => run(&a, &[WorkloadKind::Size]),
        Cmd::Validate(a) => run(&a, &[WorkloadKind::Validate]),
        Cmd::Revoke(a) => run(&a, &[WorkloadKind::Revoke]),
        Cmd::Scale(a) => run(&a, &[WorkloadKind::Scale]),
        Cmd::Report(a) => report(&a),
        Cmd::Issue(a) => issue(&a),
        Cmd::Inspect(a) => inspect(&a),
        Cmd::Serve(a) => crate::http::cli::serve(&a),
        Cmd::Load(a) => crate::load::cli::load(&a),
    }
}

/// One workload's results, whichever it is.
enum Outcome {
    Size(size::SizeResults),
    Validate(validate::ValidateResults),
    Revoke(revoke::RevokeResults),
    Scale(scale::ScaleResults),
}

impl Outcome {
    /// Operations or trials that failed (e.g. Redis unreachable), one line each.
    fn error_notes(&self) -> Vec<String> {
        match self {
            Outcome::Size(_) => Vec::new(),
            Outcome::Validate(r) => r.error_notes(),
            Outcome::Revoke(r) => r.error_notes(),
            Outcome::Scale(r) => r.error_notes(),
        }
    }

    fn summary_rows(&self) -> Vec<SummaryRow> {
        match self {
            Outcome::Size(r) => r.summary_rows(),
            Outcome::Validate(r) => r.summary_rows(),
            Outcome::Revoke(r) => r.summary_rows(),
            Outcome::Scale(r) => r.summary_rows(),
        }
    }

    fn write(&self, dir: &RunDir, kind: WorkloadKind) -> anyhow::Result<PathBuf> {
        let a = Artifact::Workload(kind);
        Ok(match self {
            Outcome::Size(r) => dir.write_json(&a, r)?,
            Outcome::Validate(r) => dir.write_json(&a, r)?,
            Outcome::Revoke(r) => dir.write_json(&a, r)?,
            Outcome::Scale(r) => dir.write_json(&a, r)?,
        })
    }
}

fn run_workload(
    kind: WorkloadKind,
    opts: &Options,
    progress: &dyn Progress,
) -> anyhow::Result<Outcome> {
    Ok(match kind {
        WorkloadKind::Size => Outcome::Size(size::run(opts, progress)?),
        WorkloadKind::Validate => Outcome::Validate(validate::run(opts, progress)?),
        WorkloadKind::Revoke => Outcome::Revoke(revoke::run(opts, progress)?),
        WorkloadKind::Scale => Outcome::Scale(scale::run(opts, progress)?),
    })
}

fn run(args: &RunArgs, kinds: &[WorkloadKind]) -> anyhow::Result<ExitCode> {
    crypto::install(args.crypto).context("choosing the crypto backend")?;
    let opts = args.options();
    if opts.schemes().is_empty() {
        bail!("no scheme selected: --schemes, --stores and --algs leave nothing to run");
    }
    // An unreachable store is an error now, not after minutes of measuring.
    for store in opts.stores.iter().filter(|s| s.is_remote()) {
        if let StoreSpec::Redis(url) = store {
            crate::store::RedisStore::connect(url).with_context(|| format!("--store {url}"))?;
        }
    }
    if let Some(path) = &args.emit {
        // Child mode: one workload, its JSON to `path`, nothing else.
        let [kind] = kinds else {
            bail!("--emit takes exactly one workload")
        };
        let outcome = run_workload(*kind, &opts, &NoProgress)?;
        let json = match &outcome {
            Outcome::Validate(r) => serde_json::to_vec(r)?,
            Outcome::Scale(r) => serde_json::to_vec(r)?,
            Outcome::Size(r) => serde_json::to_vec(r)?,
            Outcome::Revoke(r) => serde_json::to_vec(r)?,
        };
        crate::results::write_atomic(path, &json)?;
        return Ok(ExitCode::SUCCESS);
    }

    let started = SystemClock.now_secs();
    let dir = RunDir::create(&args.out, &utc_timestamp(started), args.label.as_deref())
        .with_context(|| format!("creating a run folder under {}", args.out.display()))?;
    let mut meta = Meta::collect(
        std::env::args().collect(),
        rfc3339(started),
        opts.quick,
        opts.seed,
    );
    dir.write_json(&Artifact::Meta, &meta)?;
    eprintln!("tokenbench: writing {}", dir.root().display());
    if cfg!(debug_assertions) {
        eprintln!(
            "tokenbench: warning: debug build, figures are not representative (use --release)"
        );
    }
    let t0 = Instant::now();
    let mut rows = Vec::new();
    let mut outcomes = Vec::new();
    for &kind in kinds {
        let progress = Bar::new();
        let mut outcome = run_workload(kind, &opts, &progress)?;
        if !args.single_backend && opts.families.contains(&Family::Jwt) {
            merge_other_backend(kind, args, &mut outcome)?;
        }
        let path = outcome.write(&dir, kind)?;
        eprintln!(
            "tokenbench: {} done ({:.0?} so far): {}",
            kind.name(),
            t0.elapsed(),
            path.display()
        );
        rows.extend(outcome.summary_rows());
        outcomes.push(outcome);
    }
    dir.write_bytes(
        &Artifact::SummaryCsv,
        workload::summary_csv(&rows).as_bytes(),
    )?;
    meta.finished_utc = Some(rfc3339(SystemClock.now_secs()));
    dir.write_json(&Artifact::Meta, &meta)?;
    print!("{}", summary_table(&outcomes));
    // The measurements are complete and on disk whatever happens to the report, which can
    // be rebuilt from them with `tokenbench report DIR`.
    let report = crate::report::write_report(&dir);
    dir.finish()?;
    println!("results: {}", dir.root().display());
    match report {
        Ok(paths) => {
            if let Some(html) = paths
                .iter()
                .find(|p| p.extension().is_some_and(|e| e == "html"))
            {
                println!("report:  {}", html.display());
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("tokenbench: error: the report could not be built: {e}");
            eprintln!(
                "tokenbench: the measurements are saved; retry with: tokenbench report {}",
                dir.root().display()
            );
            Ok(ExitCode::FAILURE)
        }
    }
}

fn report(a: &ReportArgs) -> anyhow::Result<ExitCode> {
    let dir =
        RunDir::open(&a.dir).with_context(|| format!("opening run folder {}", a.dir.display()))?;
    if dir.is_incomplete() {
        eprintln!(
            "tokenbench: warning: {} is marked INCOMPLETE (the run did not finish)",
            a.dir.display()
        );
    }
    let paths = crate::report::write_report(&dir)?;
    for p in paths {
        println!("{}", p.display());
    }
    Ok(ExitCode::SUCCESS)
}

/// Runs the JWT part of `kind` again in a child process on the other crypto backend and
/// adds its rows (validate and scale only: the provider is process-wide).
fn merge_other_backend(
    kind: WorkloadKind,
    args: &RunArgs,
    outcome: &mut Outcome,
) -> anyhow::Result<()> {
    if !matches!(kind, WorkloadKind::Validate | WorkloadKind::Scale) {
        return Ok(());
    }
    let other = match args.crypto {
        CryptoBackend::AwsLc => CryptoBackend::RustCrypto,
        CryptoBackend::RustCrypto => CryptoBackend::AwsLc,
    };
    let tmp = tempfile::NamedTempFile::new().context("temporary file for the child's results")?;
    let exe = std::env::current_exe().context("locating this executable")?;
    let mut cmd = Command::new(exe);
    cmd.arg(kind.name())
        .args(child_args(args, other, tmp.path()));
    eprintln!(
        "tokenbench: {} JWT rows on {other} (child process)",
        kind.name()
    );
    let status = cmd.status().context("starting the child process")?;
    if !status.success() {
        bail!(
            "the {other} child process for {} failed ({status})",
            kind.name()
        );
    }
    let bytes = std::fs::read(tmp.path())?;
    match outcome {
        Outcome::Validate(r) => {
            r.merge(serde_json::from_slice(&bytes).context("child validate results")?)
        }
        Outcome::Scale(r) => {
            r.merge(serde_json::from_slice(&bytes).context("child scale results")?)
        }
        _ => {}
    }
    Ok(())
}

fn child_args(args: &RunArgs, backend: CryptoBackend, emit: &Path) -> Vec<String> {
    let join = |v: Vec<String>| v.join(",");
    let mut out = vec![
        "--schemes".into(),
        "jwt".into(),
        "--crypto".into(),
        backend.name().into(),
    ];
    out.extend([
        "--emit".into(),
        emit.display().to_string(),
        "--seed".into(),
        args.seed.to_string(),
    ]);
    if args.quick {
        out.push("--quick".into());
    }
    if let Some(a) = &args.algs {
        out.extend([
            "--algs".into(),
            join(a.iter().map(|x| x.name().to_owned()).collect()),
        ]);
    }
    if let Some(t) = &args.threads {
        out.extend([
            "--threads".into(),
            join(t.iter().map(u64::to_string).collect()),
        ]);
    }
    out
}

/// The table printed at the end of a run.
fn summary_table(outcomes: &[Outcome]) -> String {
    let mut s = String::new();
    for o in outcomes {
        match o {
            Outcome::Size(r) => {
                s.push_str("\nsize (typical claims)          token B   Cookie: B   Bearer: B   server B/session\n");
                for row in r.rows.iter().filter(|x| x.claims == ClaimSet::Typical) {
                    let mem = r
                        .memory
                        .iter()
                        .find(|m| m.scheme == row.scheme)
                        .map_or("-".to_owned(), |m| format!("{:.0}", m.bytes_per_entry));
                    s.push_str(&format!(
                        "  {:<28} {:>8} {:>11} {:>11} {:>18}\n",
                        row.scheme,
                        row.token_bytes,
                        row.cookie_header_bytes,
                        row.authorization_header_bytes,
                        mem
                    ));
                }
            }
            Outcome::Validate(r) => {
                s.push_str("\nvalidate (typical claims)      backend       validate ns   issue ns   p99 ns\n");
                for row in r.rows.iter().filter(|x| {
                    x.claims == ClaimSet::Typical && x.operation == validate::Operation::Validate
                }) {
                    let backend = row.backend.as_deref();
                    let issue = r
                        .find(
                            &row.scheme,
                            validate::Operation::Issue,
                            ClaimSet::Typical,
                            backend,
                        )
                        .map_or(f64::NAN, |x| x.measurement.wall.median_ns);
                    s.push_str(&format!(
                        "  {:<28} {:<13} {:>11.0} {:>10.0} {:>8.0}\n",
                        row.scheme,
                        backend.unwrap_or("-"),
                        row.measurement.wall.median_ns,
                        issue,
                        row.measurement.wall.p99_ns
                    ));
                }
                for b in &r.budget_checks {
                    s.push_str(&format!(
                        "  budget: {} = {:.2} (limit {:.2}) {}\n",
                        b.name,
                        b.ratio,
                        b.limit,
                        if b.pass { "ok" } else { "MISSED" }
                    ));
                }
            }
            Outcome::Revoke(r) => {
                s.push_str("\nrevoke                         p50          p99          max          +ns/request\n");
                for st in &r.strategies {
                    s.push_str(&format!(
                        "  {:<28} {:>12} {:>12} {:>12} {:>10.0}\n",
                        st.strategy,
                        human_ns(st.latency.median_ns),
                        human_ns(st.latency.p99_ns),
                        human_ns(st.latency.max_ns),
                        st.added_cost_ns
                    ));
                }
            }
            Outcome::Scale(r) => {
                s.push_str("\nscale (best ops/s)             backend       threads  sessions        ops/s\n");
                let mut best: Vec<&scale::ScalePoint> = Vec::new();
                for p in &r.points {
                    match best.iter_mut().find(|b| {
                        b.scheme == p.scheme && b.backend == p.backend && b.sessions == p.sessions
                    }) {
                        Some(b) if b.ops_per_sec >= p.ops_per_sec => {}
                        Some(b) => *b = p,
                        None => best.push(p),
                    }
                }
                for p in best {
                    s.push_str(&format!(
                        "  {:<28} {:<13} {:>7} {:>9} {:>12.0}\n",
                        p.scheme,
                        p.backend.as_deref().unwrap_or("-"),
                        p.threads,
                        p.sessions.map_or("-".into(), |n| n.to_string()),
                        p.ops_per_sec
                    ));
                }
            }
        }
    }
    let notes: Vec<String> = outcomes.iter().flat_map(Outcome::error_notes).collect();
    if !notes.is_empty() {
        s.push_str("\nfailures (counted in the results; tokens were refused, never accepted):\n");
        for n in notes {
            s.push_str(&format!("  {n}\n"));
        }
    }
    s
}

/// `1.2 us`, `340 ms`, `15.0 min`.
pub fn human_ns(ns: f64) -> String {
    match ns {
        x if x < 1e3 => format!("{x:.0} ns"),
        x if x < 1e6 => format!("{:.1} us", x / 1e3),
        x if x < 1e9 => format!("{:.1} ms", x / 1e6),
        x if x < 120e9 => format!("{:.2} s", x / 1e9),
        x => format!("{:.1} min", x / 60e9),
    }
}

fn issue(a: &IssueArgs) -> anyhow::Result<ExitCode> {
    use std::io::Write;
    crypto::active();
    let opts = Options::defaults(true);
    let spec = match a.scheme {
        Family::Session => SchemeSpec::Session(StoreSpec::Memory),
        Family::Jwt => SchemeSpec::Jwt(a.alg),
    };
    let scheme = match (&a.store, &a.redis_prefix) {
        (None, None) => workload::build(
            &spec,
            &opts,
            SessionConfig::default(),
            RevocationStrategy::None,
            Arc::new(SystemClock),
        )?,
        (Some(StoreSpec::Redis(url)), Some(prefix)) if a.scheme == Family::Session => {
            // Kept after exit for external tools (redis-benchmark); the caller deletes them.
            let store = crate::store::RedisStore::connect_with_prefix(url, prefix)
                .with_context(|| format!("--store {url}"))?
                .with_cleanup_on_drop(false);
            Arc::new(crate::scheme::SessionScheme::new(
                store,
                SessionConfig::default(),
                Arc::new(SystemClock),
            ))
        }
        _ => bail!(
            "--store and --redis-prefix go together, with --scheme session and a redis:// store"
        ),
    };
    let mut rng = opts.rng(7);
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    for _ in 0..a.count {
        let token = scheme.issue(&workload::claims(a.claims, &mut rng))?;
        if writeln!(out, "{token}").is_err() {
            // Reader went away (e.g. `| head`): stop quietly.
            return Ok(ExitCode::SUCCESS);
        }
    }
    out.flush().ok();
    Ok(ExitCode::SUCCESS)
}

fn inspect(a: &InspectArgs) -> anyhow::Result<ExitCode> {
    crypto::active();
    let jwk = match &a.jwk {
        Some(p) => {
            Some(std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?)
        }
        None => None,
    };
    let result = crate::inspect::inspect(&a.token, jwk.as_deref(), SystemClock.now_secs())?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&result)?);
    } else {
        print!("{}", result.render());
    }
    Ok(ExitCode::from(
        u8::try_from(result.exit_code()).unwrap_or(1),
    ))
}

/// A progress bar per workload on a terminal; one line per phase otherwise.
struct Bar {
    bar: ProgressBar,
    terminal: bool,
}

impl Bar {
    fn new() -> Bar {
        let terminal = std::io::stderr().is_terminal();
        let bar = if terminal {
            ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr())
        } else {
            ProgressBar::hidden()
        };
        bar.set_style(
            ProgressStyle::with_template(
                "{prefix:>9} [{bar:30}] {pos}/{len} {elapsed:>4} {wide_msg}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
        Bar { bar, terminal }
    }
}

impl Progress for Bar {
    fn start(&self, phase: &str, total: u64) {
        self.bar.set_prefix(phase.to_owned());
        self.bar.set_length(total);
        if !self.terminal {
            eprintln!("tokenbench: {phase}: {total} steps");
        }
    }

    fn step(&self, what: &str) {
        self.bar.set_message(what.to_owned());
        self.bar.inc(1);
    }

    fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_and_refuse_nonsense() {
        assert_eq!(parse_duration("250ms").unwrap(), Duration::from_millis(250));
        assert_eq!(parse_duration("1.5s").unwrap(), Duration::from_millis(1500));
        assert_eq!(parse_duration("2m").unwrap(), Duration::from_secs(120));
        for bad in ["", "ms", "0s", "-1s", "1h", "nan s", "1e9s"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn flags_override_defaults() {
        let cli = Cli::try_parse_from([
            "tokenbench",
            "run",
            "--quick",
            "--schemes",
            "jwt",
            "--algs",
            "es256,HS256,ES256",
            "--threads",
            "3",
        ])
        .unwrap();
        let Cmd::Run(a) = cli.command else {
            panic!("not run")
        };
        let o = a.options();
        assert_eq!(o.algs, vec![JwtAlg::ES256, JwtAlg::HS256]);
        assert_eq!(o.threads, vec![3]);
        assert_eq!(o.schemes().len(), 2);
        assert!(Cli::try_parse_from(["tokenbench", "run", "--threads", "0"]).is_err());
        assert!(Cli::try_parse_from(["tokenbench", "run", "--algs", "none"]).is_err());
    }

    #[test]
    fn a_cluster_url_keeps_its_node_list_among_other_stores() {
        let cli = Cli::try_parse_from([
            "tokenbench",
            "run",
            "--stores",
            "memory,redis+cluster://a:7000,b:7001,rwlock",
            "--store",
            "redis://h:6379/",
        ])
        .unwrap();
        let Cmd::Run(a) = cli.command else {
            panic!("not run")
        };
        assert_eq!(
            a.options().stores,
            vec![
                StoreSpec::Memory,
                StoreSpec::Redis("redis+cluster://a:7000,b:7001".into()),
                StoreSpec::RwLock,
                StoreSpec::Redis("redis://h:6379/".into()),
            ]
        );
        assert_eq!(
            StoreSpec::Redis("redis+cluster://a:7000".into()).name(),
            "redis-cluster"
        );
        // A host:port item only continues a cluster's node list.
        for bad in [
            "memory,a:7000",
            "redis+cluster://",
            "redis+cluster://a:1,,b:2",
            "mem",
        ] {
            assert!(
                Cli::try_parse_from(["tokenbench", "run", "--stores", bad]).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn human_units() {
        assert_eq!(human_ns(12.0), "12 ns");
        assert_eq!(human_ns(1_500.0), "1.5 us");
        assert_eq!(human_ns(900e9), "15.0 min");
    }
}
