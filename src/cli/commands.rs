//! The subcommands that measure nothing: `report` (rebuild a report from a run folder),
//! `issue` (print tokens for external tools), `inspect` (what a token reveals).

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, bail};
use clap::Args;

use super::output::Output;
use super::{Redacted, parse_alg, parse_claims, parse_family, parse_purpose, parse_store};
use tokenbench::claims::ClaimSet;
use tokenbench::clock::{Clock, SystemClock};
use tokenbench::crypto;
use tokenbench::results::RunDir;
use tokenbench::scheme::spec::{BuildOptions, Family, SchemeSpec, StoreSpec};
use tokenbench::scheme::{JwtAlg, PasetoPurpose, SessionConfig};
use tokenbench::store::redact_url;
use tokenbench::workload::{Settings, claims};

/// Options of `report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The run folder, or a results folder (as --out names; its latest run).
    #[arg(default_value = "results/latest")]
    pub dir: PathBuf,
}

/// Options of `issue`.
#[derive(Debug, Args)]
pub struct IssueArgs {
    /// session, jwt or paseto.
    #[arg(long, value_parser = parse_family)]
    pub scheme: Family,
    /// JWT algorithm.
    #[arg(long, value_parser = parse_alg, default_value = "HS256")]
    pub alg: JwtAlg,
    /// PASETO v4 purpose: public or local.
    #[arg(long, value_parser = parse_purpose, default_value = "public")]
    pub purpose: PasetoPurpose,
    /// Claim set: minimal, typical, large.
    #[arg(long, value_parser = parse_claims, default_value = "typical")]
    pub claims: ClaimSet,
    /// How many tokens.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=10_000_000))]
    pub count: u64,
    /// Internal (scripts/redis-crosscheck.sh): issue sessions into this Redis store and keep
    /// them there after exiting, under the key prefix given by --redis-prefix.
    #[arg(long, hide = true, value_parser = Redacted(parse_store), requires = "redis_prefix")]
    pub store: Option<StoreSpec>,
    /// Internal: key prefix of --store; the caller deletes the keys when done.
    #[arg(long, hide = true, requires = "store")]
    pub redis_prefix: Option<String>,
}

/// Options of `inspect`.
#[derive(Debug, Args)]
pub struct InspectArgs {
    /// The token (JWT or opaque), or - to read it from standard input. It may begin with
    /// '-' (1 session ID in 64 does) and with "Bearer " (an Authorization header's value).
    #[arg(allow_hyphen_values = true)]
    pub token: String,
    /// A JWK (JSON file) to verify the signature with.
    #[arg(long)]
    pub jwk: Option<PathBuf>,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

pub(crate) fn report(a: &ReportArgs) -> anyhow::Result<ExitCode> {
    let dir = run_folder(&a.dir)?;
    if dir.is_incomplete() {
        say!(
            "tokenbench: warning: {} is marked INCOMPLETE (the run did not finish)",
            a.dir.display()
        );
    }
    let paths = tokenbench::report::write_report(&dir)?;
    let mut out = Output::stdout();
    for p in paths {
        out.line(p.display())?;
    }
    Ok(ExitCode::SUCCESS)
}

/// The run folder `report` works on: `dir` itself, or, when `dir` is a results root (a
/// folder of run folders, as `--out` names), its `latest` run, said on stderr. A results
/// root without `latest` is an error naming the runs it holds.
pub(crate) fn run_folder(dir: &Path) -> anyhow::Result<RunDir> {
    const SHOWN: usize = 10;
    let run = RunDir::open(dir)?;
    if run.has_meta() {
        return Ok(run);
    }
    let latest = dir.join("latest");
    if let Ok(run) = RunDir::open(&latest)
        && run.has_meta()
    {
        let target = std::fs::read_link(&latest)
            .map(|t| format!(" -> {}", t.display()))
            .unwrap_or_default();
        say!(
            "tokenbench: {} holds run folders; reporting on its latest run, {}{target}",
            dir.display(),
            latest.display()
        );
        return Ok(run);
    }
    let runs = RunDir::runs_in(dir);
    let Some(last) = runs.last() else {
        // Not a results root either: the report names the missing meta.json.
        return Ok(run);
    };
    // Run folders are named by their start time: the last ones are the newest.
    let mut names = runs[runs.len().saturating_sub(SHOWN)..].join(", ");
    if runs.len() > SHOWN {
        names = format!("{names} and {} older", runs.len() - SHOWN);
    }
    bail!(
        "{} holds run folders, not a run, and no latest: {names}; name one, e.g. \
         tokenbench report {}",
        dir.display(),
        dir.join(last).display()
    )
}

pub(crate) fn issue(a: &IssueArgs) -> anyhow::Result<ExitCode> {
    crypto::active();
    let settings = Settings::defaults(true);
    let spec = match a.scheme {
        Family::Session => SchemeSpec::Session(StoreSpec::Memory),
        Family::Jwt => SchemeSpec::Jwt(a.alg),
        Family::Paseto => SchemeSpec::Paseto(a.purpose),
        // `issue` mints the access token alone (no refresh family): its JWT.
        Family::Hybrid => SchemeSpec::Hybrid(a.alg, StoreSpec::Memory),
    };
    let scheme = match (&a.store, &a.redis_prefix) {
        (None, None) => spec.build(
            BuildOptions::with_jwt_lifetime(settings.jwt_lifetime),
            Arc::new(SystemClock),
        )?,
        (Some(StoreSpec::Redis(url)), Some(prefix)) if a.scheme == Family::Session => {
            // Kept after exit for external tools (redis-benchmark); the caller deletes them.
            let store = tokenbench::store::RedisStore::connect_with_prefix(url, prefix)
                .with_context(|| format!("--store {}", redact_url(url)))?
                .with_cleanup_on_drop(false);
            Arc::new(tokenbench::scheme::SessionScheme::new(
                store,
                SessionConfig::default(),
                Arc::new(SystemClock),
            ))
        }
        _ => bail!(
            "--store and --redis-prefix go together, with --scheme session and a redis:// store"
        ),
    };
    let mut rng = settings.rng(7);
    let mut out = Output::new(std::io::BufWriter::new(std::io::stdout().lock()));
    for _ in 0..a.count {
        let token = scheme.issue(&claims(a.claims, &mut rng))?;
        out.buffered(&format!("{token}\n"))?;
        if out.is_closed() {
            // The reader has what it wanted (`| head`): no point issuing the rest.
            break;
        }
    }
    out.print("")?;
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn inspect(a: &InspectArgs) -> anyhow::Result<ExitCode> {
    crypto::active();
    let jwk = match &a.jwk {
        Some(p) => {
            Some(std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?)
        }
        None => None,
    };
    let token = match a.token.as_str() {
        "-" => token_from(std::io::stdin().lock())?,
        token => token.to_owned(),
    };
    let result = tokenbench::inspect::inspect(&token, jwk.as_deref(), SystemClock.now_secs())?;
    let text = if a.json {
        format!("{}\n", serde_json::to_string_pretty(&result)?)
    } else {
        result.render()
    };
    Output::stdout().print(&text)?;
    Ok(ExitCode::from(
        u8::try_from(result.exit_code()).unwrap_or(1),
    ))
}

/// The token given on standard input (`inspect -`), without surrounding whitespace (the
/// newline of `echo` is not worth a note). At most [`MAX_STDIN_TOKEN`] bytes of UTF-8.
fn token_from(input: impl std::io::Read) -> anyhow::Result<String> {
    use std::io::Read as _;
    let mut bytes = Vec::new();
    input
        .take(MAX_STDIN_TOKEN + 1)
        .read_to_end(&mut bytes)
        .context("reading the token from standard input")?;
    if bytes.len() as u64 > MAX_STDIN_TOKEN {
        bail!("standard input holds more than {MAX_STDIN_TOKEN} bytes: not a token");
    }
    let text = String::from_utf8(bytes).context("standard input is not UTF-8 text")?;
    let token = text.trim();
    if token.is_empty() {
        bail!("no token on standard input");
    }
    Ok(token.to_owned())
}

/// Largest token `inspect -` reads (1 MiB; a JWT over 8 KiB already fails most servers).
const MAX_STDIN_TOKEN: u64 = 1 << 20;
