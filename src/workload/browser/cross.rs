//! Which credentials Chromium sends from a page to an API on another origin. For each
//! `SameSite` value (and `None` with `Partitioned`), with third-party cookies allowed and
//! blocked (a profile for each setting, each `SameSite` value in a lane of host names of
//! its own, so no cookie, partition or connection is shared): log in on the API's own origin (top level, a first-party
//! cookie), open a page on the other origin, and from it make a credentialed `fetch`, a
//! form POST and a top-level GET navigation to the API. The server's request log says
//! whether each arrived with the cookie. Done for a cross-site pair (`site.test` to
//! `api.test`) and a same-site one (`www.site.test` to `api.site.test`). For
//! `SameSite=None` also: the login itself done by cross-origin `fetch` from the page (the
//! cookie set in a third-party context, which blocking third-party cookies stops unless
//! the cookie is `Partitioned`), then a credentialed `fetch`.

use std::time::{Duration, Instant};

use cookie::SameSite;
use serde_json::json;

use super::driver::{DriverError, Session};
use super::lab::{Lab, Server, ServerSpec};
use super::{Driver, Progress, SETTLE, WorkloadResult, browser_error};
use crate::http::cors::same_site_name;
use crate::results::schema::browser::CredentialRow;

/// Steps this module reports (one per SameSite value and cookie setting).
pub const EXPERIMENTS: usize = 8;

/// `fetch(url, {credentials: 'include'})`: its status (0 when the answer is not readable).
const FETCH_INCLUDE: &str = "fetch(arguments[0], {credentials: 'include'})
  .then(r => done({status: r.status})).catch(e => done({status: 0, error: String(e)}));";

/// A form on the page posting to `arguments[0]`, submitted.
const FORM_POST: &str = "const f = document.createElement('form');
f.method = 'POST'; f.action = arguments[0];
const i = document.createElement('input'); i.name = 'note'; i.value = 'x'; f.appendChild(i);
document.documentElement.appendChild(f); f.submit(); return true;";

/// A link on the page to `arguments[0]`, for the driver to click.
const LINK: &str = "const a = document.createElement('a');
a.href = arguments[0]; a.id = 'go'; a.textContent = 'go';
document.documentElement.appendChild(a); return true;";

/// The login done by `fetch` from the page: the form (its CSRF value read through CORS),
/// then the POST, both with credentials.
const FETCH_LOGIN: &str = r#"
const api = arguments[0];
fetch(api + '/login', {credentials: 'include'}).then(r => r.text()).then(html => {
  const m = html.match(/name="csrf" value="([^"]*)"/);
  const body = new URLSearchParams({username: 'user-0', password: 'password-0', csrf: m ? m[1] : ''});
  return fetch(api + '/login', {method: 'POST', body, credentials: 'include'});
}).then(r => done({status: r.status})).catch(e => done({status: 0, error: String(e)}));"#;

/// The credential rows of every `SameSite` value and cookie setting; returns the four
/// origins used (site, api, same-site page, same-site api) of the last server.
pub fn run(
    driver: &Driver,
    lab: &mut Lab,
    progress: &dyn Progress,
    out: &mut Vec<CredentialRow>,
) -> WorkloadResult<[String; 4]> {
    let mut origins: [String; 4] = Default::default();
    for block in [false, true] {
        // One profile per cookie setting; each SameSite value in a lane of its own.
        let session = driver.session(&lab.launch(block)).map_err(browser_error)?;
        for (lane, (same_site, partitioned)) in [
            (SameSite::None, false),
            (SameSite::Lax, false),
            (SameSite::Strict, false),
            (SameSite::None, true),
        ]
        .into_iter()
        .enumerate()
        {
            let spec = ServerSpec {
                same_site,
                partitioned,
                lane,
                ..ServerSpec::session()
            };
            progress.step(&format!(
                "SameSite={}{} third-party cookies {}",
                same_site_name(same_site),
                if partitioned { "; Partitioned" } else { "" },
                if block { "blocked" } else { "allowed" }
            ));
            let server = lab.serve(&spec)?;
            if lane == 0 {
                origins = server.names.all().map(|h| server.origin(h));
            }
            let row = |relation: &str, kind: &str, sent: Arrival| CredentialRow {
                samesite: same_site_name(same_site).to_owned(),
                partitioned,
                third_party_cookies: if block { "blocked" } else { "allowed" }.to_owned(),
                relation: relation.to_owned(),
                request_kind: kind.to_owned(),
                credential_sent: sent.is_some_and(|s| s.0),
                status: sent.map_or(0, |s| s.1),
            };
            let n = &server.names;
            for (relation, page, api) in [
                ("cross-site", n.site.as_str(), n.api.as_str()),
                ("same-site", n.www.as_str(), n.api_site.as_str()),
            ] {
                let kinds = requests(&session, &server, page, api).map_err(browser_error)?;
                for (kind, sent) in kinds {
                    out.push(row(relation, kind, sent));
                }
            }
            if same_site == SameSite::None {
                let sent = fetch_login(&session, &server).map_err(browser_error)?;
                out.push(row("cross-site", "fetch_after_fetch_login", sent));
            }
        }
    }
    Ok(origins)
}

/// What the server logged of a request: whether it carried the credential cookie, and
/// the status answered; `None` when it never arrived.
type Arrival = Option<(bool, u16)>;

/// Which request of the log is the one sent from the page: by its `Origin` (fetch, form
/// POST), or by its `Sec-Fetch-Site` (a GET navigation sends no `Origin`).
enum From<'a> {
    Origin(&'a str),
    FetchSite(&'a str),
}

/// The first logged request to `host` (with port) for `method path` sent from the page
/// (`from`) after `mark`, waiting up to 5 s for it: whether it carried the credential
/// cookie, and its status.
fn arrived(
    server: &Server,
    mark: u64,
    api: &str,
    method: &str,
    path: &str,
    from: From<'_>,
) -> Option<(bool, u16)> {
    let host = format!("{api}:{}", server.port);
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let found = server.log_since(mark).into_iter().find(|e| {
            e.host == host
                && e.method == method
                && e.path == path
                && match &from {
                    From::Origin(o) => e.origin.as_deref() == Some(*o),
                    From::FetchSite(s) => e.fetch_site.as_deref() == Some(*s),
                }
        });
        if let Some(e) = found {
            return Some((e.credential_cookie, e.status));
        }
        if Instant::now() > deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Logs in on `api` (top level), then from a page on `page`: fetch, form POST, link.
fn requests(
    s: &Session<'_>,
    server: &Server,
    page: &str,
    api: &str,
) -> Result<Vec<(&'static str, Arrival)>, DriverError> {
    let api_origin = server.origin(api);
    let page_origin = server.origin(page);
    let page_url = format!("{page_origin}/health");
    let relation = if registrable(page) == registrable(api) {
        "same-site"
    } else {
        "cross-site"
    };
    form_login(s, &api_origin)?;
    let mut out = Vec::new();
    s.goto(&page_url)?;
    let mark = server.mark();
    s.run_async(FETCH_INCLUDE, json!([format!("{api_origin}/me")]))?;
    let from = || From::Origin(&page_origin);
    out.push(("fetch", arrived(server, mark, api, "GET", "/me", from())));
    let mark = server.mark();
    s.run(FORM_POST, json!([format!("{api_origin}/api/notes")]))?;
    out.push((
        "form_post",
        arrived(server, mark, api, "POST", "/api/notes", from()),
    ));
    std::thread::sleep(SETTLE);
    s.goto(&page_url)?;
    let mark = server.mark();
    s.run(LINK, json!([format!("{api_origin}/me")]))?;
    s.click("#go")?;
    let nav = arrived(server, mark, api, "GET", "/me", From::FetchSite(relation));
    out.push(("navigation", nav));
    Ok(out)
}

/// The registrable domain of a lab host (`www.site.test` → `site.test`).
/// Logs `user-0` in through the login form of `origin`, as a person would: fill in, submit,
/// land on `/me`.
pub(super) fn form_login(s: &Session<'_>, origin: &str) -> Result<(), DriverError> {
    s.goto(&format!("{origin}/login"))?;
    s.run(
        "const f = document.querySelector('form'); f.username.value = 'user-0'; \
         f.password.value = 'password-0'; return true;",
        json!([]),
    )?;
    s.click("button[type=submit]")?;
    if !s.wait_for_path("/me")? {
        return Err(DriverError::Driver(format!(
            "the login on {origin} did not lead to /me"
        )));
    }
    Ok(())
}

fn registrable(host: &str) -> String {
    let parts: Vec<&str> = host.rsplitn(3, '.').collect();
    match parts.as_slice() {
        [tld, name, ..] => format!("{name}.{tld}"),
        _ => host.to_owned(),
    }
}

/// With no cookie on the API, the login done by `fetch` from the cross-site page, then a
/// credentialed `fetch`: did the cookie set in that third-party context come back?
fn fetch_login(s: &Session<'_>, server: &Server) -> Result<Option<(bool, u16)>, DriverError> {
    let api_origin = server.origin(&server.names.api);
    s.goto(&format!("{api_origin}/health"))?;
    s.delete_cookies()?;
    s.goto(&format!("{}/health", server.origin(&server.names.site)))?;
    s.run_async(FETCH_LOGIN, json!([api_origin]))?;
    let mark = server.mark();
    s.run_async(FETCH_INCLUDE, json!([format!("{api_origin}/me")]))?;
    let page = server.origin(&server.names.site);
    Ok(arrived(
        server,
        mark,
        &server.names.api,
        "GET",
        "/me",
        From::Origin(&page),
    ))
}
