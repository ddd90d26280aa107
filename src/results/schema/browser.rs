//! `browser.json`: what a real Chromium did on the Superb Site (issue 18). The login flow
//! in the browser per credential kind ([`FlowRow`]), whether page script can read the
//! credential ([`ReadRow`]), which credentials Chromium sent across origins under each
//! `SameSite` value ([`CredentialRow`]), and the CORS preflights per call with the time
//! they add ([`PreflightRow`]), and the header bytes per request of each HTTP/2 client
//! ([`WireRow`], the wire helper's type). Every figure is an observation: the server's request log
//! says which credential arrived, the server counts `OPTIONS`, the page times its calls.
//!
//! When Chromium is not installed the file says so ([`BrowserResults::not_measured`]) and
//! holds no rows; the report then says the browser rows were not measured.

use serde::{Deserialize, Serialize};

use super::wire::{RequestOrder, WireProtocol, WireRow, cells};
use super::{ResultFile, SummaryRow};

/// Everything the browser workload observed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BrowserResults {
    /// [`ResultFile::VERSION`] of the file.
    #[serde(default)]
    pub schema_version: u32,
    /// Why nothing was measured (`chromium not found: ...`); `None` when measured.
    pub not_measured: Option<String>,
    /// The browser's version line (`Chromium 156.0.8078.114 ...`).
    pub browser: String,
    /// How third-party cookies were blocked in the "blocked" rows (the profile
    /// preferences given to Chromium).
    pub third_party_cookie_control: String,
    /// The page's origin in cross-site rows (`https://site.test:PORT`).
    pub site_origin: String,
    /// The API's origin in cross-site rows (`https://api.test:PORT`): another site.
    pub api_origin: String,
    /// The page's origin in same-site rows (`https://www.site.test:PORT`).
    pub same_site_page_origin: String,
    /// The API's origin in same-site rows (`https://api.site.test:PORT`): another origin
    /// of the same site.
    pub same_site_api_origin: String,
    /// The login flow, one row per credential kind.
    pub flows: Vec<FlowRow>,
    /// Whether script on the page can read the credential, per credential kind and storage.
    pub readability: Vec<ReadRow>,
    /// Which credentials Chromium sent, per `SameSite`, request kind and cookie setting.
    pub credentials: Vec<CredentialRow>,
    /// CORS preflights per call, per transport and `Access-Control-Max-Age`.
    pub preflights: Vec<PreflightRow>,
    /// The header bytes per request of each HTTP client (Chromium, hyper, nghttp2), first
    /// and repeated on one connection, as the server's recorder counted them.
    #[serde(default)]
    pub wire: Vec<WireRow>,
    /// Wall time of the whole workload, seconds.
    pub duration_s: f64,
}

/// The seven steps of the article's login flow, driven in the browser for one kind of
/// credential: login form submitted, credential stored, later requests carry it, logout
/// clears it, the old credential replayed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FlowRow {
    /// Scheme served (`session-memory`, `jwt-HS256`).
    pub scheme: String,
    /// `cookie` or `bearer`.
    pub transport: String,
    /// Where the browser keeps the credential: `cookie-httponly`, `memory` (a variable of
    /// the page's script) or `localstorage`.
    pub storage: String,
    /// Status of the login form's submission (303 for cookies, 200 for bearer JSON).
    pub login_status: u16,
    /// Whether the credential was stored after login (the cookie in the browser's jar, as
    /// the driver sees it; the token in the page's storage).
    pub stored: bool,
    /// Status of a later `GET /me` from the page.
    pub later_request_status: u16,
    /// Names of the cookies the later request (`GET /me`) carried, as the server logged
    /// them: which of a scheme's tokens travels on every request (a hybrid's access cookie,
    /// not its refresh cookie, which is scoped to `/token/refresh`). Empty for a bearer
    /// flow and in files written before it was recorded.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cookies_on_later_request: Vec<String>,
    /// Whether that request carried the credential (the server's request log).
    pub later_request_carried_credential: bool,
    /// Status of `POST /logout`.
    pub logout_status: u16,
    /// The server's `X-Token-Revocation` (`revoked` or `expiry-only`).
    pub logout_outcome: String,
    /// Whether the browser no longer holds the credential after logout (cookie cleared,
    /// token dropped by the page).
    pub cleared_after_logout: bool,
    /// Status of `GET /me` with the old credential replayed from the page after logout
    /// (a cookie put back through the driver, a token sent by script).
    pub replay_status: u16,
    /// Whether the replayed credential was refused (401).
    pub old_credential_refused: bool,
}

/// Whether a script running on the page (an injected one, as in XSS) can read the
/// credential.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReadRow {
    /// Scheme served.
    pub scheme: String,
    /// `cookie-httponly`, `localstorage`, `memory`, or `memory-fetch-hook` (a script that
    /// wraps `window.fetch` before the page's next call).
    pub storage: String,
    /// Whether the injected script obtained the credential.
    pub script_can_read: bool,
    /// What the script tried (`document.cookie`, `localStorage`, ...).
    pub probe: String,
}

/// Whether Chromium sent the cookie credential on one kind of request from a page on
/// one origin to an API on another.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CredentialRow {
    /// `SameSite` of the credential cookie: `none`, `lax` or `strict`.
    pub samesite: String,
    /// Whether the cookie carried `Partitioned`.
    pub partitioned: bool,
    /// `allowed` or `blocked` (third-party cookies).
    pub third_party_cookies: String,
    /// `cross-site` (site.test to api.test) or `same-site` (www.site.test to
    /// api.site.test).
    pub relation: String,
    /// `fetch` (`credentials: 'include'`), `navigation` (top-level GET link), `form_post`
    /// (a form on the page posting to the API), or `fetch_after_fetch_login` (the login
    /// itself done by cross-origin fetch, i.e. the cookie set in a third-party context).
    pub request_kind: String,
    /// Whether the request arrived with the credential cookie (the server's log).
    pub credential_sent: bool,
    /// Status the server answered.
    pub status: u16,
}

impl CredentialRow {
    /// The `SameSite` column of summary rows and tables: `none+partitioned` for a
    /// partitioned `None` cookie.
    pub fn samesite_label(&self) -> String {
        if self.partitioned {
            format!("{}+partitioned", self.samesite)
        } else {
            self.samesite.clone()
        }
    }

    /// The request kind with its relation (`cross_site_fetch`, `same_site_navigation`).
    pub fn kind_label(&self) -> String {
        format!("{}_{}", self.relation.replace('-', "_"), self.request_kind)
    }
}

/// Sequential cross-origin calls from a page to the API, with the preflights Chromium
/// sent for them and each call's duration as the page measured it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PreflightRow {
    /// `bearer` (`GET /me` with `Authorization`: not a simple request) or `cookie`
    /// (`GET /me` with `credentials: 'include'`: a simple request).
    pub transport: String,
    /// `Access-Control-Max-Age` sent: `absent` (Chromium then caches 5 s), or seconds.
    pub max_age: String,
    /// Each call's duration from `fetch` to the body read, ms (`performance.now()`).
    pub call_ms: Vec<f64>,
    /// For each call, whether a preflight (`OPTIONS`) preceded it (the server's log).
    pub preflighted: Vec<bool>,
    /// Calls whose answer the page could read (CORS allowed it; any status).
    pub ok_calls: u32,
}

impl PreflightRow {
    /// Calls made.
    pub fn calls(&self) -> usize {
        self.call_ms.len()
    }

    /// Preflights sent.
    pub fn preflights(&self) -> usize {
        self.preflighted.iter().filter(|p| **p).count()
    }

    /// Preflights per call (0 without calls).
    pub fn preflights_per_call(&self) -> f64 {
        if self.calls() == 0 {
            0.0
        } else {
            self.preflights() as f64 / self.calls() as f64
        }
    }

    /// Durations of the calls with (`true`) or without a preflight, ms.
    pub fn durations(&self, preflighted: bool) -> Vec<f64> {
        self.call_ms
            .iter()
            .zip(&self.preflighted)
            .filter(|(_, p)| **p == preflighted)
            .map(|(ms, _)| *ms)
            .collect()
    }
}

/// Median, lower and upper quartile of `v` (`None` when empty).
pub fn quartiles(v: &[f64]) -> Option<[f64; 3]> {
    if v.is_empty() {
        return None;
    }
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    let at = |q: f64| {
        let pos = q * (s.len() - 1) as f64;
        let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
        s[lo] + (s[hi] - s[lo]) * (pos - lo as f64)
    };
    Some([at(0.5), at(0.25), at(0.75)])
}

impl BrowserResults {
    /// The file of a run where the browser could not be driven, saying why.
    pub fn not_measured(why: impl Into<String>) -> BrowserResults {
        BrowserResults {
            schema_version: <BrowserResults as ResultFile>::VERSION,
            not_measured: Some(why.into()),
            browser: String::new(),
            third_party_cookie_control: String::new(),
            site_origin: String::new(),
            api_origin: String::new(),
            same_site_page_origin: String::new(),
            same_site_api_origin: String::new(),
            flows: Vec::new(),
            readability: Vec::new(),
            credentials: Vec::new(),
            preflights: Vec::new(),
            wire: Vec::new(),
            duration_s: 0.0,
        }
    }

    /// The added latency of a preflight: median duration of the calls preceded by one
    /// minus that of the calls not, over every bearer row, with the two medians (ms);
    /// `None` unless both kinds of call were made.
    pub fn preflight_cost_ms(&self) -> Option<(f64, f64, f64)> {
        let rows = self.preflights.iter().filter(|r| r.transport == "bearer");
        let (mut with, mut without) = (Vec::new(), Vec::new());
        for r in rows {
            with.extend(r.durations(true));
            without.extend(r.durations(false));
        }
        let w = quartiles(&with)?[0];
        let wo = quartiles(&without)?[0];
        Some((w - wo, w, wo))
    }

    /// The credential row of `samesite`, `relation`, `kind` with third-party cookies
    /// `third_party` (`allowed`/`blocked`), unpartitioned.
    pub fn credential(
        &self,
        samesite: &str,
        relation: &str,
        kind: &str,
        third_party: &str,
    ) -> Option<&CredentialRow> {
        self.credentials.iter().find(|c| {
            c.samesite == samesite
                && !c.partitioned
                && c.relation == relation
                && c.request_kind == kind
                && c.third_party_cookies == third_party
        })
    }
}

impl ResultFile for BrowserResults {
    const FILE: &'static str = "browser";
    const VERSION: u32 = 1;

    fn summary_rows(&self) -> Vec<SummaryRow> {
        let flag = |b: bool| f64::from(u8::from(b));
        let mut out = Vec::new();
        for p in &self.preflights {
            out.push(SummaryRow::new(
                "browser",
                "cors",
                None,
                &format!("transport={},max_age={}", p.transport, p.max_age),
                "preflights_per_call",
                p.preflights_per_call(),
                "ratio",
            ));
        }
        for p in &self.preflights {
            for (preflighted, name) in [(true, "yes"), (false, "no")] {
                let Some([median, p25, p75]) = quartiles(&p.durations(preflighted)) else {
                    continue;
                };
                for (stat, v) in [("median", median), ("p25", p25), ("p75", p75)] {
                    out.push(SummaryRow::new(
                        "browser",
                        "cors",
                        None,
                        &format!(
                            "transport={},max_age={},preflighted={name},stat={stat}",
                            p.transport, p.max_age
                        ),
                        "call_latency",
                        v,
                        "ms",
                    ));
                }
            }
        }
        for c in &self.credentials {
            out.push(SummaryRow::new(
                "browser",
                "session-memory",
                None,
                &format!(
                    "samesite={},request_kind={},third_party_cookies={}",
                    c.samesite_label(),
                    c.kind_label(),
                    c.third_party_cookies
                ),
                "credential_sent",
                flag(c.credential_sent),
                "flag",
            ));
        }
        for c in cells(&self.wire) {
            let client = match c.protocol {
                WireProtocol::H2 => c.client.name().to_owned(),
                WireProtocol::Http1 => format!("{}-http1.1", c.client.name()),
            };
            for order in [RequestOrder::First, RequestOrder::Repeated] {
                out.push(SummaryRow::new(
                    "browser",
                    c.token,
                    None,
                    &format!(
                        "client={client},header={},token={},claims={},first_or_repeated={}",
                        c.header,
                        c.token,
                        c.claims.name(),
                        order.name()
                    ),
                    "bytes_per_request",
                    c.bytes(order) as f64,
                    "bytes",
                ));
            }
        }
        for r in &self.readability {
            out.push(SummaryRow::new(
                "browser",
                &r.scheme,
                None,
                &format!("scheme={},storage={}", r.scheme, r.storage),
                "script_can_read_credential",
                flag(r.script_can_read),
                "flag",
            ));
        }
        out
    }

    fn error_notes(&self) -> Vec<String> {
        let mut out = Vec::new();
        for p in &self.preflights {
            if (p.ok_calls as usize) < p.calls() {
                out.push(format!(
                    "browser: {} of {} cross-origin {} calls (max_age {}) failed",
                    p.calls() - p.ok_calls as usize,
                    p.calls(),
                    p.transport,
                    p.max_age
                ));
            }
        }
        out
    }
}
