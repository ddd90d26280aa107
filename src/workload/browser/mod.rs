//! Workload 6, browser: a real headless Chromium on the Superb Site (issue 18).
//!
//! Servers run in this process ([`lab`]): HTTPS with HTTP/2, one certificate for the host
//! names Chromium maps to loopback (`site.test` and `api.test`, two sites;
//! `www.site.test` and `api.site.test`, two origins of one site; and the same with a
//! digit, lanes), CORS allowing the two page origins, and the request log that says which
//! credential each request carried.
//! Chromium is driven over WebDriver ([`driver`]), in five profiles (the login flows, two
//! for the SameSite rows, the preflights, the header bytes), experiments within a profile
//! kept apart by lanes of host names of their own ([`lab::Names`]).
//!
//! - [`flow`]: the seven steps per credential kind (session cookie, JWT cookie, JWT bearer
//!   kept in memory or in `localStorage`), and what a script injected in the page can read.
//! - [`cross`]: which credentials Chromium sends from a page to an API on another origin,
//!   for `fetch`, top-level navigation and a form POST, under `SameSite` None, Lax and
//!   Strict, with third-party cookies allowed and blocked, and with `Partitioned`.
//! - [`preflight`]: CORS preflights per call and the time they add, with and without
//!   `Access-Control-Max-Age`.
//! - [`h2bytes`]: Chromium's HTTP/2 header bytes per request, first and repeated, and
//!   [`wire`]: the same for hyper and nghttp2 (the wire helper's clients), all counted by
//!   the server's header-byte recorder.
//!
//! Without Chromium (`/usr/bin/chromium`, `/usr/bin/chromedriver`) the workload records
//! "not measured" and says how to install it (`scripts/install-browser.sh`); with CI set,
//! a run that cannot find it fails instead.

pub mod cross;
pub mod driver;
pub mod flow;
pub mod h2bytes;
pub mod lab;
pub mod preflight;
pub mod wire;

use std::path::PathBuf;
use std::time::{Duration, Instant};

pub use crate::results::schema::browser::BrowserResults;
use driver::{Driver, DriverError};
use lab::{Lab, ServerSpec};

use super::{Progress, Settings, Workload, WorkloadError, WorkloadResult};
use crate::claims::ClaimSet;
use crate::http::Transport;
use crate::results::schema::ResultFile;
use crate::results::schema::wire::WireRow;
use crate::scheme::JwtAlg;
use crate::scheme::spec::{Family, SchemeSpec, StoreSpec};

/// The browser workload.
pub struct Browser;

/// Flags of `tokenbench browser`.
#[derive(Debug, Clone, clap::Args)]
pub struct BrowserArgs {
    /// Sequential cross-origin calls per preflight row (default 20; quick: 8).
    #[arg(long, value_parser = clap::value_parser!(u64).range(2..=500))]
    pub preflight_calls: Option<u64>,
    /// Requests per wire sequence on one connection (default 5; quick: 3).
    #[arg(long, value_parser = clap::value_parser!(u64).range(3..=100))]
    pub wire_requests: Option<u64>,
}

/// Parameters of the browser workload.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct BrowserParams {
    /// Sequential cross-origin calls per preflight row.
    pub preflight_calls: usize,
    /// `Access-Control-Max-Age` values tried, seconds (`None`: header absent).
    pub max_ages: Vec<Option<u64>>,
    /// Requests per wire sequence (a first and repeated ones).
    #[serde(default = "default_wire_requests")]
    pub wire_requests: usize,
    /// Claim sets of the wire sequences.
    #[serde(default = "default_wire_claims")]
    pub wire_claims: Vec<ClaimSet>,
    /// The `tokenbench` executable the wire module starts as `serve` (default: this one).
    #[serde(default)]
    pub server_exe: Option<PathBuf>,
}

fn default_wire_requests() -> usize {
    3
}

fn default_wire_claims() -> Vec<ClaimSet> {
    vec![ClaimSet::Typical]
}

impl BrowserParams {
    /// The defaults of a quick or a full run.
    pub fn defaults(quick: bool) -> BrowserParams {
        BrowserParams {
            preflight_calls: if quick { 8 } else { 20 },
            max_ages: vec![Some(0), None, Some(600)],
            wire_requests: if quick { 3 } else { 5 },
            wire_claims: if quick {
                vec![ClaimSet::Typical]
            } else {
                ClaimSet::ALL.to_vec()
            },
            server_exe: None,
        }
    }
}

/// The schemes of the wire sequences: a session (memory store) and the JWT algorithms of
/// the run, HS256 and RS256 at least when JWTs run (ES256 and EdDSA in a full run).
pub fn wire_schemes(families: &[Family], algs: &[JwtAlg], quick: bool) -> Vec<SchemeSpec> {
    let mut out = Vec::new();
    if families.contains(&Family::Session) {
        out.push(SchemeSpec::Session(StoreSpec::Memory));
    }
    if families.contains(&Family::Jwt) {
        for alg in JwtAlg::ALL {
            let floor = matches!(alg, JwtAlg::HS256 | JwtAlg::RS256);
            if floor || (!quick && algs.contains(&alg)) {
                out.push(SchemeSpec::Jwt(alg));
            }
        }
    }
    out
}

impl Workload for Browser {
    const ABOUT: &'static str = "A real Chromium on the site: login flow, script-readable tokens, SameSite, CORS preflights";
    type Args = BrowserArgs;
    type Params = BrowserParams;
    type Results = BrowserResults;

    fn params(a: &BrowserArgs, quick: bool) -> BrowserParams {
        let mut p = BrowserParams::defaults(quick);
        if let Some(n) = a.preflight_calls {
            p.preflight_calls = n as usize;
        }
        if let Some(n) = a.wire_requests {
            p.wire_requests = n as usize;
        }
        p
    }

    fn run(
        settings: &Settings,
        p: &BrowserParams,
        progress: &dyn Progress,
    ) -> WorkloadResult<BrowserResults> {
        let schemes = wire_schemes(&settings.families, &settings.algs, settings.quick);
        run(&settings.families, &schemes, p, progress)
    }
}

/// A driver failure, as a workload error.
pub(crate) fn browser_error(e: DriverError) -> WorkloadError {
    WorkloadError::Other(e.to_string())
}

/// Whether a missing Chromium must fail the run (CI) rather than be recorded.
fn required() -> bool {
    std::env::var_os("CI").is_some_and(|v| !v.is_empty() && v != "0")
}

/// Runs the browser workload for the token `families` selected (the login flows and the
/// bearer preflights of the families run; the `SameSite` rows, a property of cookies,
/// always on a session cookie); without Chromium, records why (or fails under CI).
pub fn run(
    families: &[Family],
    wire_schemes: &[SchemeSpec],
    p: &BrowserParams,
    progress: &dyn Progress,
) -> WorkloadResult<BrowserResults> {
    let exe = match &p.server_exe {
        Some(e) => e.clone(),
        None => std::env::current_exe()
            .map_err(|e| WorkloadError::Other(format!("this executable: {e}")))?,
    };
    let measure_wire = |progress: &dyn Progress| -> WorkloadResult<Vec<WireRow>> {
        if wire_schemes.is_empty() {
            return Ok(Vec::new());
        }
        for line in wire::missing_clients() {
            progress.note(&line);
        }
        progress.step("header bytes per request: hyper, nghttp2");
        wire::measure(&exe, wire_schemes, &p.wire_claims, p.wire_requests)
    };
    let (browser, chromedriver) = match driver::find() {
        Ok(found) => found,
        Err(e) if !required() => {
            progress.note(&format!("browser workload: Chromium's rows skipped: {e}"));
            let mut r = BrowserResults::not_measured(e.to_string());
            r.wire = measure_wire(progress)?;
            return Ok(r);
        }
        Err(e) => return Err(browser_error(e)),
    };
    let started = Instant::now();
    let driver = Driver::start(&browser, &chromedriver).map_err(browser_error)?;
    let mut lab = Lab::new()?;
    let mut results = BrowserResults::not_measured("");
    results.not_measured = None;
    results.browser = driver::browser_version(&browser);
    results.third_party_cookie_control = driver::Launch {
        block_third_party_cookies: true,
        ..Default::default()
    }
    .prefs()
    .to_string();
    let jwt = families.contains(&Family::Jwt);
    let flows: Vec<(ServerSpec, &str)> = [
        (ServerSpec::session(), "cookie-httponly"),
        (ServerSpec::jwt(Transport::Cookie), "cookie-httponly"),
        (ServerSpec::jwt(Transport::Bearer), "memory"),
        (ServerSpec::jwt(Transport::Bearer), "localstorage"),
        (ServerSpec::hybrid(), "cookie-httponly"),
    ]
    .into_iter()
    .filter(|(spec, _)| families.contains(&spec.scheme.family()))
    .collect();
    let total = flows.len() + cross::EXPERIMENTS + 3;
    progress.start("browser", total as u64);
    for (row, reads) in flow::run(&driver, &mut lab, &flows, progress)? {
        results.flows.push(row);
        results.readability.extend(reads);
    }
    let origins = cross::run(&driver, &mut lab, progress, &mut results.credentials)?;
    results.site_origin = origins[0].clone();
    results.api_origin = origins[1].clone();
    results.same_site_page_origin = origins[2].clone();
    results.same_site_api_origin = origins[3].clone();
    progress.step("CORS preflights");
    results.preflights = preflight::run(&driver, &mut lab, p, jwt)?;
    progress.step("header bytes per request: Chromium");
    let chromium = h2bytes::run(
        &driver,
        &mut lab,
        wire_schemes,
        &p.wire_claims,
        p.wire_requests,
    )?;
    results.wire = measure_wire(progress)?;
    results.wire.extend(chromium);
    progress.finish();
    lab.shutdown();
    drop(driver);
    results.duration_s = started.elapsed().as_secs_f64();
    results.schema_version = <BrowserResults as ResultFile>::VERSION;
    Ok(results)
}

/// How long a page may take to settle after a navigation the driver did not wait for.
pub(crate) const SETTLE: Duration = Duration::from_millis(100);
