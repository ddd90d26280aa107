//! What Chromium's HTTP/2 encoder sends per request (issue 18, item 4, the Chromium
//! column): a page makes N sequential same-origin `fetch('/me')` on one h2 TLS
//! connection, each carrying the same credential, in a `Cookie` (put in the browser's jar
//! through the driver, `HttpOnly`) or in `Authorization: Bearer` (set by the page's
//! script), per token kind and claim set. The server's header-byte recorder
//! (`serve --record-header-bytes`) counts each request's HEADERS and CONTINUATION frames
//! as they arrived; the rows are built with the wire module's types.
//!
//! The page is loaded before the cookie is put in the jar, so the first `/me` is the first
//! request on the connection that carries it: "first" sees an empty HPACK table for it,
//! "repeated" whatever Chromium's encoder chose to index. Each sequence has a server of
//! its own (a port, so a connection of its own), in one profile.

use std::collections::BTreeMap;

use serde_json::json;

use super::driver::{DriverError, Session};
use super::lab::{Lab, Server, ServerSpec};
use super::wire::{PATH, WireCase, rows_from_recorded};
use super::{Driver, WorkloadResult, browser_error};
use crate::claims::{ClaimSet, Claims};
use crate::http::Transport;
use crate::results::schema::wire::{WireClient, WireHeader, WireRow};
use crate::scheme::spec::SchemeSpec;

/// `arguments[0]` sequential same-origin `GET /me?n=i`, with `Authorization: Bearer
/// arguments[1]` when given: their statuses.
const CALLS: &str = r#"
const [n, token] = [arguments[0], arguments[1]];
const opts = token ? {headers: {Authorization: 'Bearer ' + token}} : {};
const out = [];
(async () => {
  for (let i = 0; i < n; i++) {
    try { const r = await fetch('/me?n=' + i, opts); await r.text(); out.push(r.status); }
    catch (e) { out.push(0); }
  }
  done(out);
})();"#;

/// `requests` requests per scheme of `schemes`, claim set of `claim_sets` and header, in
/// one profile: each sequence on a server (so a port, so a connection, so an HPACK table)
/// of its own, the cookie removed from the jar after its sequence. Rows in the wire
/// module's types, client `chromium`.
pub fn run(
    driver: &Driver,
    lab: &mut Lab,
    schemes: &[SchemeSpec],
    claim_sets: &[ClaimSet],
    requests: usize,
) -> WorkloadResult<Vec<WireRow>> {
    let launch = lab.launch(false);
    let session = driver.session(&launch).map_err(browser_error)?;
    let mut out = Vec::new();
    for scheme in schemes {
        for &set in claim_sets {
            for header in WireHeader::ALL {
                let transport = match header {
                    WireHeader::Cookie => Transport::Cookie,
                    WireHeader::Authorization => Transport::Bearer,
                };
                let spec = ServerSpec {
                    scheme: scheme.clone(),
                    transport,
                    record_header_bytes: true,
                    ..ServerSpec::session()
                };
                let server = lab.serve(&spec)?;
                let rows =
                    sequence(&session, &server, set, header, requests).map_err(browser_error)?;
                out.extend(rows);
            }
        }
    }
    Ok(out)
}

fn sequence(
    s: &Session<'_>,
    server: &Server,
    set: ClaimSet,
    header: WireHeader,
    n: usize,
) -> Result<Vec<WireRow>, DriverError> {
    let claims: Claims = set.claims("user-0");
    let token = server
        .app
        .issue(&claims)
        .map_err(|e| DriverError::Driver(format!("issuing a credential: {e}")))?;
    let origin = server.origin(&server.names.site);
    s.goto(&format!("{origin}/health"))?;
    let bearer = match header {
        WireHeader::Cookie => {
            s.add_cookie(json!({
                "name": server.cookie_name(), "value": token, "path": "/",
                "secure": true, "httpOnly": true, "sameSite": "Lax",
            }))?;
            None
        }
        WireHeader::Authorization => Some(token.clone()),
    };
    let statuses = s.run_async(CALLS, json!([n, bearer]))?;
    if header == WireHeader::Cookie {
        s.delete_cookies()?;
    }
    let ok = statuses
        .as_array()
        .is_some_and(|a| a.len() == n && a.iter().all(|v| v.as_u64() == Some(200)));
    if !ok {
        return Err(DriverError::Driver(format!(
            "{origin}: Chromium's GET /me sequence answered {statuses}"
        )));
    }
    let entries = server
        .app
        .header_recorder()
        .map(|r| r.report().entries)
        .unwrap_or_default();
    let case = WireCase {
        client: WireClient::Chromium,
        header,
        token: server.app.config().scheme.id(),
        claims: set,
        token_bytes: token.len() as u64,
    };
    Ok(rows_from_recorded(&case, &entries, PATH, &BTreeMap::new()))
}
