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
//! "repeated" whatever Chromium's encoder chose to index.

use serde_json::json;

use super::driver::{DriverError, Launch, Session};
use super::lab::{HOSTS, Lab, SITE, Server, ServerSpec};
use super::{Driver, WorkloadResult, browser_error};
use crate::claims::{ClaimSet, Claims};
use crate::http::Transport;
use crate::net::header_tap::HeaderBytesEntry;
use crate::scheme::spec::{SchemeId, SchemeSpec};

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

/// One request Chromium sent, as the recorder saw it, with what it carried.
#[derive(Debug, Clone)]
pub struct Sent {
    /// `cookie` or `bearer` transport.
    pub transport: Transport,
    /// The scheme whose credential it carried.
    pub token: SchemeId,
    /// The claim set of the credential.
    pub claims: ClaimSet,
    /// The credential's length, characters.
    pub token_bytes: u64,
    /// Its place in the sequence, from 0.
    pub index: u32,
    /// The status answered.
    pub status: u16,
    /// The recorder's entry.
    pub recorded: HeaderBytesEntry,
}

/// N requests per scheme of `schemes`, claim set of `claim_sets` and transport.
pub fn run(
    driver: &Driver,
    lab: &mut Lab,
    schemes: &[SchemeSpec],
    claim_sets: &[ClaimSet],
    n: usize,
) -> WorkloadResult<Vec<Sent>> {
    let launch = Launch {
        hosts: HOSTS.iter().map(|h| (*h).to_owned()).collect(),
        spki: lab.spki().to_owned(),
        block_third_party_cookies: false,
    };
    let mut out = Vec::new();
    for scheme in schemes {
        for transport in [Transport::Cookie, Transport::Bearer] {
            let spec = ServerSpec {
                scheme: scheme.clone(),
                transport,
                record_header_bytes: true,
                ..ServerSpec::session()
            };
            let server = lab.serve(&spec)?;
            for &set in claim_sets {
                // A fresh profile: a fresh connection, an empty HPACK table.
                let session = driver.session(&launch).map_err(browser_error)?;
                let sent = sequence(&session, &server, set, n).map_err(browser_error)?;
                out.extend(sent);
            }
        }
    }
    Ok(out)
}

fn sequence(
    s: &Session<'_>,
    server: &Server,
    set: ClaimSet,
    n: usize,
) -> Result<Vec<Sent>, DriverError> {
    let claims: Claims = set.claims("user-0");
    let token = server
        .app
        .issue(&claims)
        .map_err(|e| DriverError::Driver(format!("issuing a credential: {e}")))?;
    let transport = server.app.config().transport;
    s.goto(&format!("{}/health", server.origin(SITE)))?;
    let bearer = match transport {
        Transport::Cookie => {
            s.add_cookie(json!({
                "name": server.cookie_name(), "value": token, "path": "/",
                "secure": true, "httpOnly": true, "sameSite": "Lax",
            }))?;
            None
        }
        Transport::Bearer => Some(token.clone()),
    };
    let before = recorded_me(server).len();
    let statuses = s.run_async(CALLS, json!([n, bearer]))?;
    let statuses: Vec<u16> = statuses
        .as_array()
        .map(|a| {
            a.iter()
                .map(|v| v.as_u64().and_then(|x| u16::try_from(x).ok()).unwrap_or(0))
                .collect()
        })
        .unwrap_or_default();
    let recorded: Vec<HeaderBytesEntry> = recorded_me(server).into_iter().skip(before).collect();
    Ok(recorded
        .into_iter()
        .zip(statuses)
        .enumerate()
        .map(|(i, (recorded, status))| Sent {
            transport,
            token: server.app.config().scheme.id(),
            claims: set,
            token_bytes: token.len() as u64,
            index: i as u32,
            status,
            recorded,
        })
        .collect())
}

/// The recorder's `GET /me` entries so far, in arrival order.
fn recorded_me(server: &Server) -> Vec<HeaderBytesEntry> {
    server
        .app
        .header_recorder()
        .map(|r| r.report().entries)
        .unwrap_or_default()
        .into_iter()
        .filter(|e| e.path.as_deref() == Some("/me"))
        .collect()
}
