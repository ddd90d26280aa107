//! Workload 6, browser: a real headless Chromium on the Superb Site (issue 18).
//!
//! Servers run in this process ([`lab`]): HTTPS with HTTP/2, one certificate for four host
//! names Chromium maps to loopback (`site.test` and `api.test`, two sites;
//! `www.site.test` and `api.site.test`, two origins of one site), CORS allowing the two
//! page origins, and the request log that says which credential each request carried.
//! Chromium is driven over WebDriver ([`driver`]); each experiment starts a fresh profile.
//!
//! - [`flow`]: the seven steps per credential kind (session cookie, JWT cookie, JWT bearer
//!   kept in memory or in `localStorage`), and what a script injected in the page can read.
//! - [`cross`]: which credentials Chromium sends from a page to an API on another origin,
//!   for `fetch`, top-level navigation and a form POST, under `SameSite` None, Lax and
//!   Strict, with third-party cookies allowed and blocked, and with `Partitioned`.
//! - [`preflight`]: CORS preflights per call and the time they add, with and without
//!   `Access-Control-Max-Age`.
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

use std::time::{Duration, Instant};

pub use crate::results::schema::browser::BrowserResults;
use driver::{Driver, DriverError};
use lab::{Lab, ServerSpec};

use super::{Progress, Settings, Workload, WorkloadError, WorkloadResult};
use crate::http::Transport;
use crate::results::schema::ResultFile;
use crate::scheme::spec::Family;

/// The browser workload.
pub struct Browser;

/// Flags of `tokenbench browser`.
#[derive(Debug, Clone, clap::Args)]
pub struct BrowserArgs {
    /// Sequential cross-origin calls per preflight row (default 20; quick: 8).
    #[arg(long, value_parser = clap::value_parser!(u64).range(2..=500))]
    pub preflight_calls: Option<u64>,
}

/// Parameters of the browser workload.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct BrowserParams {
    /// Sequential cross-origin calls per preflight row.
    pub preflight_calls: usize,
    /// `Access-Control-Max-Age` values tried, seconds (`None`: header absent).
    pub max_ages: Vec<Option<u64>>,
}

impl BrowserParams {
    /// The defaults of a quick or a full run.
    pub fn defaults(quick: bool) -> BrowserParams {
        BrowserParams {
            preflight_calls: if quick { 8 } else { 20 },
            max_ages: vec![Some(0), None, Some(600)],
        }
    }
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
        p
    }

    fn run(
        settings: &Settings,
        p: &BrowserParams,
        progress: &dyn Progress,
    ) -> WorkloadResult<BrowserResults> {
        run(&settings.families, p, progress)
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
    p: &BrowserParams,
    progress: &dyn Progress,
) -> WorkloadResult<BrowserResults> {
    let (browser, chromedriver) = match driver::find() {
        Ok(found) => found,
        Err(e) if !required() => {
            progress.note(&format!("browser workload skipped: {e}"));
            return Ok(BrowserResults::not_measured(e.to_string()));
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
    ]
    .into_iter()
    .filter(|(spec, _)| families.contains(&spec.scheme.family()))
    .collect();
    let total = flows.len() + cross::EXPERIMENTS + 1;
    progress.start("browser", total as u64);
    for (spec, storage) in &flows {
        progress.step(&format!("login flow: {} {storage}", spec.scheme));
        let (row, reads) = flow::run(&driver, &mut lab, spec, storage)?;
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
    progress.finish();
    lab.shutdown();
    drop(driver);
    results.duration_s = started.elapsed().as_secs_f64();
    results.schema_version = <BrowserResults as ResultFile>::VERSION;
    Ok(results)
}

/// How long a page may take to settle after a navigation the driver did not wait for.
pub(crate) const SETTLE: Duration = Duration::from_millis(100);
