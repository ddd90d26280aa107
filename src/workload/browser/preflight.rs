//! CORS preflights per call and the time they add. A page on `site.test` makes sequential
//! calls to `GET /me` on `api.test`: with `Authorization: Bearer` (not a simple request:
//! Chromium must ask first) and with a cookie (`credentials: 'include'`, a simple
//! request), for each `Access-Control-Max-Age` the server sends (0, absent, 600 s). The
//! page times each call (`performance.now()`, from `fetch` to the body read); the
//! server's log says which calls an `OPTIONS` preceded. One profile for every row: each
//! row has its own server, so its own port, origin and preflight cache entries.

use std::time::Duration;

use cookie::SameSite;
use serde_json::{Value, json};

use super::driver::{DriverError, Session};
use super::lab::{Lab, Server, ServerSpec};
use super::{BrowserParams, Driver, WorkloadResult, browser_error};
use crate::http::Transport;
use crate::results::schema::browser::PreflightRow;

/// The bearer login by `fetch` from the page (a form POST: a simple request), the token
/// kept by the page.
const LOGIN: &str =
    "const body = new URLSearchParams({username: 'user-0', password: 'password-0', csrf: ''});
fetch(arguments[0] + '/login', {method: 'POST', body})
  .then(r => r.json()).then(j => { window.token = j.access_token; done(true); })
  .catch(e => done(String(e)));";

/// `arguments[1]` sequential calls to `arguments[0]`, bearer (`arguments[2]`) or cookie:
/// each call's duration (ms) and status.
const CALLS: &str = r#"
const [url, n, bearer] = [arguments[0], arguments[1], arguments[2]];
const opts = bearer ? {headers: {Authorization: 'Bearer ' + window.token}} : {credentials: 'include'};
const out = [];
(async () => {
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    let status = 0;
    try { const r = await fetch(url, opts); await r.text(); status = r.status; } catch (e) {}
    out.push({ms: performance.now() - t0, status});
  }
  done(out);
})();"#;

/// Every preflight row: per transport (bearer only with `bearer`, a JWT run) and
/// `Access-Control-Max-Age` of `p`.
pub fn run(
    driver: &Driver,
    lab: &mut Lab,
    p: &BrowserParams,
    bearer: bool,
) -> WorkloadResult<Vec<PreflightRow>> {
    let launch = lab.launch(false);
    let session = driver.session(&launch).map_err(browser_error)?;
    let mut rows = Vec::new();
    let transports = if bearer {
        vec![Transport::Bearer, Transport::Cookie]
    } else {
        vec![Transport::Cookie]
    };
    for transport in transports {
        for max_age in &p.max_ages {
            let spec = ServerSpec {
                max_age: max_age.map(Duration::from_secs),
                same_site: SameSite::None,
                ..match transport {
                    Transport::Bearer => ServerSpec::jwt(Transport::Bearer),
                    Transport::Cookie => ServerSpec::session(),
                }
            };
            let server = lab.serve(&spec)?;
            let row = calls(&session, &server, transport, *max_age, p.preflight_calls)
                .map_err(browser_error)?;
            rows.push(row);
        }
    }
    Ok(rows)
}

fn calls(
    s: &Session<'_>,
    server: &Server,
    transport: Transport,
    max_age: Option<u64>,
    n: usize,
) -> Result<PreflightRow, DriverError> {
    let api = server.origin(&server.names.api);
    let bearer = transport == Transport::Bearer;
    if bearer {
        s.goto(&format!("{}/health", server.origin(&server.names.site)))?;
        s.run_async(LOGIN, json!([api]))?;
    } else {
        super::cross::form_login(s, &api)?;
        s.goto(&format!("{}/health", server.origin(&server.names.site)))?;
    }
    let mark = server.mark();
    let got = s.run_async(CALLS, json!([format!("{api}/me"), n, bearer]))?;
    let got: Vec<Value> = got.as_array().cloned().unwrap_or_default();
    // Which GET an OPTIONS preceded, in the log's arrival order.
    let host = format!("{}:{}", server.names.api, server.port);
    let mut preflighted = Vec::new();
    let mut pending = false;
    for e in server
        .log_since(mark)
        .iter()
        .filter(|e| e.host == host && e.path == "/me")
    {
        match e.method.as_str() {
            "OPTIONS" => pending = true,
            "GET" => {
                preflighted.push(pending);
                pending = false;
            }
            _ => {}
        }
    }
    let call_ms: Vec<f64> = got
        .iter()
        .map(|c| c["ms"].as_f64().unwrap_or(0.0))
        .collect();
    preflighted.resize(call_ms.len(), false);
    Ok(PreflightRow {
        transport: transport.name().to_owned(),
        max_age: max_age.map_or_else(|| "absent".to_owned(), |a| a.to_string()),
        ok_calls: got
            .iter()
            .filter(|c| c["status"].as_u64().unwrap_or(0) != 0)
            .count() as u32,
        call_ms,
        preflighted,
    })
}
