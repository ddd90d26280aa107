//! The seven steps in the browser, per kind of credential: the login form is submitted
//! (a click on its button), the credential is stored (the cookie jar as the driver sees
//! it, or the page's storage), a later request carries it (the server's log), logout
//! clears it, and the old credential replayed after logout is refused or not. On the way,
//! a script injected into the page tries to read the credential (XSS).

use serde_json::{Value, json};

use super::driver::{DriverError, Session};
use super::lab::{LANES, Lab, Server, ServerSpec};
use super::{Driver, Progress, WorkloadResult, browser_error};
use crate::http::Transport;
use crate::results::schema::browser::{FlowRow, ReadRow};

/// Fills the login form (account `user-0`).
const FILL: &str = "const f = document.querySelector('form');
f.username.value = 'user-0'; f.password.value = 'password-0'; return true;";

/// Turns the bearer login form into a single-page app's login: the submission goes by
/// `fetch`, the token is kept in `localStorage` (`arguments[0] == 'localstorage'`) or in
/// a closure (memory), and `window.app` gets the app's own calls.
const SPA_LOGIN: &str = r#"
const storage = arguments[0];
const f = document.querySelector('form');
f.addEventListener('submit', ev => {
  ev.preventDefault();
  fetch(f.action, {method: 'POST', body: new URLSearchParams(new FormData(f))})
    .then(r => { window.loginStatus = r.status; return r.json(); })
    .then(j => {
      let token = j.access_token;
      if (storage === 'localstorage') { localStorage.setItem('access_token', token); token = null; }
      const current = () => token !== null ? token : localStorage.getItem('access_token');
      const old = current();
      const auth = t => ({headers: {Authorization: 'Bearer ' + t}});
      window.app = {
        stored: () => current() !== null,
        me: () => fetch('/me', auth(current())),
        logout: () => fetch('/logout', {method: 'POST', ...auth(current())}).then(r => {
          token = null; localStorage.removeItem('access_token'); return r;
        }),
        // After logout: the old token sent again, as a copy taken before would be.
        replay: () => fetch('/me', auth(old)),
      };
      window.loginDone = true;
    })
    .catch(e => { window.loginError = String(e); window.loginDone = true; });
});
return true;"#;

/// Waits (in the page) until `window.loginDone`.
const WAIT_LOGIN: &str = "const t0 = Date.now();
(function poll() {
  if (window.loginDone) return done({status: window.loginStatus || 0, error: window.loginError || null});
  if (Date.now() - t0 > 10000) return done({status: 0, error: 'login timed out'});
  setTimeout(poll, 20);
})();";

/// An injected script's attempt on every place a page keeps data: cookies, both storages,
/// and the window's own properties; a JWT-shaped string found is tried on `/me`.
const PROBE_READ: &str = r#"
const jwt = /^[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}$/;
const found = [];
document.cookie.split(';').forEach(c => { const v = c.split('=').slice(1).join('='); if (v) found.push(v.trim()); });
for (const s of [localStorage, sessionStorage]) for (let i = 0; i < s.length; i++) found.push(s.getItem(s.key(i)));
for (const k of Object.keys(window)) { try { const v = window[k]; if (typeof v === 'string') found.push(v); } catch (e) {} }
const token = found.find(v => v && jwt.test(v));
if (!token) return done({read: false, cookie: document.cookie});
fetch('/me', {headers: {Authorization: 'Bearer ' + token}})
  .then(r => done({read: r.status === 200, token, cookie: document.cookie}));"#;

/// An injected script that wraps `fetch` and catches the `Authorization` header of the
/// page's next call (`window.app.me()`), then tries it on `/me`.
const PROBE_HOOK: &str = r#"
let caught = null;
const real = window.fetch;
window.fetch = (url, opts) => {
  const h = opts && opts.headers;
  if (h && h.Authorization) caught = h.Authorization;
  return real(url, opts);
};
window.app.me().then(() => {
  window.fetch = real;
  if (!caught) return done({read: false});
  real('/me', {headers: {Authorization: caught}}).then(r => done({read: r.status === 200}));
});"#;

/// `fetch(path)` from the page: its status and JSON body (`null` if none).
const FETCH: &str = "fetch(arguments[0], arguments[1] || {})
  .then(r => r.text().then(t => { let j = null; try { j = JSON.parse(t); } catch (e) {}
    done({status: r.status, json: j, revocation: r.headers.get('x-token-revocation')}); }))
  .catch(e => done({status: 0, error: String(e)}));";

/// `window.app.<call>()`: its status and `X-Token-Revocation`.
const APP_CALL: &str = "window.app[arguments[0]]()
  .then(r => done({status: r.status, revocation: r.headers.get('x-token-revocation')}))
  .catch(e => done({status: 0, error: String(e)}));";

fn status(v: &Value) -> u16 {
    v["status"]
        .as_u64()
        .and_then(|s| u16::try_from(s).ok())
        .unwrap_or(0)
}

/// A flow row and its readability rows per `(spec, storage)` of `flows` (storage
/// `cookie-httponly`, `memory` or `localstorage`), in one profile, each flow in a lane of
/// host names of its own (its cookies and storage apart from the others').
pub fn run(
    driver: &Driver,
    lab: &mut Lab,
    flows: &[(ServerSpec, &str)],
    progress: &dyn Progress,
) -> WorkloadResult<Vec<(FlowRow, Vec<ReadRow>)>> {
    let session = driver.session(&lab.launch(false)).map_err(browser_error)?;
    let mut out = Vec::new();
    for (lane, (spec, storage)) in flows.iter().enumerate() {
        progress.step(&format!("login flow: {} {storage}", spec.scheme));
        let spec = ServerSpec {
            lane: lane % LANES,
            ..spec.clone()
        };
        let server = lab.serve(&spec)?;
        let row = match spec.transport {
            Transport::Cookie => cookie_flow(&session, &server, storage),
            Transport::Bearer => bearer_flow(&session, &server, storage),
        };
        out.push(row.map_err(browser_error)?);
    }
    Ok(out)
}

fn scheme_name(server: &Server) -> String {
    server.app.scheme_name()
}

fn cookie_flow(
    s: &Session<'_>,
    server: &Server,
    storage: &str,
) -> Result<(FlowRow, Vec<ReadRow>), DriverError> {
    let origin = server.origin(&server.names.site);
    let name = server.cookie_name();
    let jar_value = |s: &Session<'_>| -> Result<Option<String>, DriverError> {
        Ok(s.cookies()?
            .iter()
            .find(|c| c["name"] == json!(name))
            .and_then(|c| c["value"].as_str().map(str::to_owned)))
    };
    s.goto(&format!("{origin}/login"))?;
    let mark = server.mark();
    s.run(FILL, json!([]))?;
    s.click("button[type=submit]")?;
    if !s.wait_for_path("/me")? {
        return Err(DriverError::Driver(format!(
            "the login on {origin} did not lead to /me"
        )));
    }
    let login_status = server
        .log_since(mark)
        .iter()
        .find(|e| e.method == "POST" && e.path == "/login")
        .map_or(0, |e| e.status);
    let old = jar_value(s)?;
    let mark = server.mark();
    let me = s.run_async(FETCH, json!(["/me"]))?;
    let me_log = server.log_since(mark);
    let me_logged = me_log.iter().find(|e| e.path == "/me");
    let carried = me_logged.is_some_and(|e| e.credential_cookie);
    let cookies_on_me = me_logged
        .map(|e| e.cookie_names.clone())
        .unwrap_or_default();
    let probe = s.run_async(PROBE_READ, json!([]))?;
    let cookie_seen = probe["cookie"].as_str().unwrap_or("");
    let read = probe["read"] == json!(true) || cookie_seen.contains(&format!("{name}="));
    let csrf = me["json"]["csrf"].as_str().unwrap_or("").to_owned();
    let out = s.run_async(
        FETCH,
        json!(["/logout", {"method": "POST", "headers": {"X-CSRF-Token": csrf}}]),
    )?;
    let cleared = jar_value(s)?.is_none();
    let replay_status = match &old {
        Some(v) => {
            s.add_cookie(json!({
                "name": name, "value": v, "path": "/", "secure": true, "httpOnly": true,
            }))?;
            status(&s.run_async(FETCH, json!(["/me"]))?)
        }
        None => 0,
    };
    let scheme = scheme_name(server);
    let row = FlowRow {
        scheme: scheme.clone(),
        transport: "cookie".into(),
        storage: storage.into(),
        login_status,
        stored: old.is_some(),
        later_request_status: status(&me),
        cookies_on_later_request: cookies_on_me,
        later_request_carried_credential: carried,
        logout_status: status(&out),
        logout_outcome: out["revocation"].as_str().unwrap_or("").to_owned(),
        cleared_after_logout: cleared,
        replay_status,
        old_credential_refused: replay_status == 401,
    };
    let read = ReadRow {
        scheme,
        storage: storage.into(),
        script_can_read: read,
        probe: "document.cookie, localStorage, sessionStorage, window properties".into(),
    };
    Ok((row, vec![read]))
}

fn bearer_flow(
    s: &Session<'_>,
    server: &Server,
    storage: &str,
) -> Result<(FlowRow, Vec<ReadRow>), DriverError> {
    let origin = server.origin(&server.names.site);
    s.goto(&format!("{origin}/login"))?;
    s.run(SPA_LOGIN, json!([storage]))?;
    s.run(FILL, json!([]))?;
    s.click("button[type=submit]")?;
    let login = s.run_async(WAIT_LOGIN, json!([]))?;
    let stored = s.run("return !!(window.app && window.app.stored());", json!([]))? == json!(true);
    let mark = server.mark();
    let me = s.run_async(APP_CALL, json!(["me"]))?;
    let carried = server
        .log_since(mark)
        .iter()
        .any(|e| e.path == "/me" && e.authorization);
    let scheme = scheme_name(server);
    let probe = s.run_async(PROBE_READ, json!([]))?;
    let mut reads = vec![ReadRow {
        scheme: scheme.clone(),
        storage: storage.into(),
        script_can_read: probe["read"] == json!(true),
        probe: "document.cookie, localStorage, sessionStorage, window properties".into(),
    }];
    if storage == "memory" {
        let hook = s.run_async(PROBE_HOOK, json!([]))?;
        reads.push(ReadRow {
            scheme: scheme.clone(),
            storage: "memory-fetch-hook".into(),
            script_can_read: hook["read"] == json!(true),
            probe: "window.fetch wrapped before the page's next call".into(),
        });
    }
    let out = s.run_async(APP_CALL, json!(["logout"]))?;
    let cleared = s.run("return !window.app.stored();", json!([]))? == json!(true);
    let replay = s.run_async(APP_CALL, json!(["replay"]))?;
    let row = FlowRow {
        scheme,
        transport: "bearer".into(),
        storage: storage.into(),
        login_status: status(&login),
        stored,
        later_request_status: status(&me),
        cookies_on_later_request: Vec::new(),
        later_request_carried_credential: carried,
        logout_status: status(&out),
        logout_outcome: out["revocation"].as_str().unwrap_or("").to_owned(),
        cleared_after_logout: cleared,
        replay_status: status(&replay),
        old_credential_refused: status(&replay) == 401,
    };
    Ok((row, reads))
}
