//! HTTP/2 header bytes as clients really send them (issue 18, item 4). For each token kind,
//! claim set and header (`Cookie` or `Authorization: Bearer`), a `tokenbench serve --tls
//! --record-header-bytes --claims SET` child logs a demo account in, then each client sends
//! N sequential `GET /me?n=<i>` (i = 0..N, distinct because nghttp fetches a URI once)
//! with the same credential header on **one** connection, and the server's recorder
//! ([`crate::http::recorder`]) says what arrived, request by request:
//!
//! - **hyper**: our load generator's client ([`crate::load::client`]), h2 over TLS (ALPN),
//!   and HTTP/1.1 over TLS for reference. hyper (h2) never puts `cookie` or
//!   `authorization` in the HPACK dynamic table, so it resends the token every time.
//! - **nghttp2**: `nghttp -nv` from Debian's `nghttp2-client`, whose own log
//!   (`send HEADERS frame <length=…, stream_id=…>` and CONTINUATION lines) gives its count
//!   of the same frames' payloads, set beside the server's in
//!   [`WireRow::client_reported_bytes`]. Without `nghttp` on `PATH` its rows are absent;
//!   [`missing_clients`] says how to install it.
//! - **Chromium**: driven by the browser workload, which turns what the same recorder
//!   listed into rows with [`rows_from_recorded`].
//!
//! The credential travels on nghttp's command line (`-H`): a demo account's, on a
//! loopback server that stops right after; it is never printed nor written to results.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use http_body_util::Full;
use hyper::body::Bytes;
use hyper::header::{self, HeaderValue};
use hyper::{Method, Request, StatusCode};

use crate::claims::ClaimSet;
use crate::http::child::{ChildServer, serve_args};
use crate::http::config::Revocation;
use crate::load::client::{Answer, ByteCount, Sender, connect, get_json};
use crate::load::vu::form_csrf;
use crate::load::{LoadConfig, Protocol, Target};
use crate::net::Transport;
use crate::net::header_tap::{HeaderBytesEntry, HeaderBytesReport, WireProtocol};
use crate::results::schema::wire::{RequestOrder, WireClient, WireHeader, WireRow};
use crate::scheme::spec::{SchemeId, SchemeSpec};
use crate::workload::WorkloadError;

/// Requests per sequence unless asked otherwise: the first and two repeated.
pub const DEFAULT_REQUESTS: usize = 3;

/// The fewest requests a sequence may have (a first and at least two repeated).
pub const MIN_REQUESTS: usize = 3;

/// The most requests a sequence may have (bounded request loops).
pub const MAX_REQUESTS: usize = 100;

/// The route every sequence requests (each with its own `?n=<i>`).
pub const PATH: &str = "/me";

/// How the recorder's read-back is requested.
const RECORDED: &str = "/debug/header-bytes";

/// How long one nghttp run may take before it is killed.
const NGHTTP_TIMEOUT: Duration = Duration::from_secs(30);

/// How to install nghttp2's client, for the note when it is missing.
pub const NGHTTP_INSTALL: &str =
    "apt-get install nghttp2-client (Debian; scripts/install-browser.sh installs it on CI)";

/// What a sequence of requests is: the client, the header, the token, the claims.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WireCase {
    /// Who sends.
    pub client: WireClient,
    /// Which header carries the credential.
    pub header: WireHeader,
    /// The scheme of the credential.
    pub token: SchemeId,
    /// Its claim set.
    pub claims: ClaimSet,
    /// The credential's length, characters.
    pub token_bytes: u64,
}

/// The `serve` flags of a recording server: `scheme` over `transport` with TLS (HTTP/2 by
/// ALPN), one demo account (`user-0` / `password-0`), logins issuing `claims`, and
/// `--record-header-bytes`. The browser workload starts its Chromium servers with these
/// (plus what else it needs), so every client meets the same server.
pub fn recording_serve_args(
    scheme: &SchemeSpec,
    transport: Transport,
    claims: ClaimSet,
) -> Vec<String> {
    let mut args = serve_args(scheme, transport, Revocation::None, 1, true);
    args.extend([
        "--record-header-bytes".to_owned(),
        "--claims".to_owned(),
        claims.name().to_owned(),
    ]);
    args
}

/// What the recording server at `url` (`https://127.0.0.1:PORT`, loopback) has recorded
/// so far (`GET /debug/header-bytes` on a connection of its own, HTTP/1.1).
pub fn read_recorded(url: &str) -> Result<HeaderBytesReport, WorkloadError> {
    let fail = |e: &dyn std::fmt::Display| WorkloadError::Other(format!("wire: {RECORDED}: {e}"));
    let target = Target::parse(url).map_err(|e| fail(&e))?;
    let mut cfg = LoadConfig::new(target, Protocol::Http1, Transport::Bearer);
    cfg.insecure = true;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| fail(&e))?;
    rt.block_on(get_json(&cfg, RECORDED)).map_err(|e| fail(&e))
}

/// `nghttp` on `PATH`, if there is one.
pub fn nghttp() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join("nghttp"))
        .find(|p| p.is_file())
}

/// One line per client whose rows a run will lack, with how to install it (empty when
/// every outside client is present).
pub fn missing_clients() -> Vec<String> {
    if nghttp().is_some() {
        Vec::new()
    } else {
        vec![format!(
            "nghttp2: `nghttp` is not on PATH, so its rows (and its own byte counts beside the \
             server's) are absent; install it with {NGHTTP_INSTALL}"
        )]
    }
}

/// The rows of one client's requests to `path` (query left out), from what the recorder
/// listed: per connection, in order, the first request of the connection to that path is
/// `first`, the later ones `repeated` (the caller makes sure no earlier request on the
/// connection carried the same credential header). `reported` holds the client's own
/// count of each stream's HEADERS and CONTINUATION payloads, where it gives one (keyed by
/// stream id: pass the entries of that client's one connection). Entries
/// whose path is unknown (the recorder could not pair them) make no row.
pub fn rows_from_recorded(
    case: &WireCase,
    entries: &[HeaderBytesEntry],
    path: &str,
    reported: &BTreeMap<u32, u64>,
) -> Vec<WireRow> {
    let mut per_connection: BTreeMap<u64, Vec<&HeaderBytesEntry>> = BTreeMap::new();
    for e in entries.iter().filter(|e| e.path.as_deref() == Some(path)) {
        per_connection.entry(e.connection).or_default().push(e);
    }
    let mut rows = Vec::new();
    for list in per_connection.values_mut() {
        list.sort_by_key(|e| e.index);
        for (i, e) in list.iter().enumerate() {
            rows.push(WireRow {
                client: case.client,
                protocol: e.protocol,
                header: case.header,
                token: case.token,
                claims: case.claims,
                request_index: u32::try_from(i).unwrap_or(u32::MAX),
                first_or_repeated: if i == 0 {
                    RequestOrder::First
                } else {
                    RequestOrder::Repeated
                },
                server_header_block_bytes: e.header_block_bytes,
                server_frame_payload_bytes: e.frame_payload_bytes,
                server_frame_bytes: e.frame_bytes,
                client_reported_bytes: e.stream_id.and_then(|s| reported.get(&s).copied()),
                token_bytes: case.token_bytes,
            });
        }
    }
    rows
}

/// nghttp's own count from its `-v` log: per stream, the `length=` of every `send HEADERS`
/// and `send CONTINUATION` frame, summed; and how many answers had `:status: 200`.
pub fn parse_nghttp_log(log: &str) -> (BTreeMap<u32, u64>, usize) {
    let mut sent: BTreeMap<u32, u64> = BTreeMap::new();
    let mut ok = 0;
    for line in log.lines() {
        let sends = ["send HEADERS frame <", "send CONTINUATION frame <"]
            .iter()
            .any(|m| line.contains(m));
        if sends {
            let field = |name: &str| -> Option<u64> {
                let at = line.find(name)? + name.len();
                let digits: String = line[at..]
                    .chars()
                    .take_while(char::is_ascii_digit)
                    .collect();
                digits.parse().ok()
            };
            if let (Some(len), Some(Ok(stream))) =
                (field("length="), field("stream_id=").map(u32::try_from))
            {
                *sent.entry(stream).or_default() += len;
            }
        } else if line.contains("recv (stream_id=") && line.trim_end().ends_with(":status: 200") {
            ok += 1;
        }
    }
    (sent, ok)
}

fn broken(token: SchemeId, what: impl Into<String>) -> WorkloadError {
    WorkloadError::Broken {
        scheme: token.to_string(),
        what: what.into(),
    }
}

/// Measures every scheme x claim set x header with each client present: `requests`
/// sequential `GET /me` on one connection per client (hyper h2, hyper HTTP/1.1 for
/// reference, nghttp2 when installed), one `serve` child (`exe`) per scheme, claim set
/// and header. Rows in that order.
pub fn measure(
    exe: &Path,
    schemes: &[SchemeSpec],
    claims: &[ClaimSet],
    requests: usize,
) -> Result<Vec<WireRow>, WorkloadError> {
    if !(MIN_REQUESTS..=MAX_REQUESTS).contains(&requests) {
        return Err(WorkloadError::Params {
            workload: "browser",
            why: format!(
                "{requests} requests per sequence: give {MIN_REQUESTS} to {MAX_REQUESTS} (a first \
                 request and repeated ones)"
            ),
        });
    }
    let nghttp = nghttp();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| WorkloadError::Other(format!("wire: starting a runtime: {e}")))?;
    let mut rows = Vec::new();
    for spec in schemes {
        for &set in claims {
            for header in WireHeader::ALL {
                let transport = match header {
                    WireHeader::Cookie => Transport::Cookie,
                    WireHeader::Authorization => Transport::Bearer,
                };
                let args = recording_serve_args(spec, transport, set);
                let child = ChildServer::spawn(exe, &args)
                    .map_err(|e| WorkloadError::Other(format!("wire: {e}")))?;
                let out = rt.block_on(one_server(
                    child.url(),
                    spec.id(),
                    set,
                    header,
                    requests,
                    nghttp.as_deref(),
                ));
                drop(child);
                rows.extend(out?);
            }
        }
    }
    Ok(rows)
}

/// The credential header's name and value, and the credential's length.
struct Credential {
    name: &'static str,
    value: String,
    token_bytes: u64,
}

async fn one_server(
    url: &str,
    token: SchemeId,
    claims: ClaimSet,
    header: WireHeader,
    requests: usize,
    nghttp: Option<&Path>,
) -> Result<Vec<WireRow>, WorkloadError> {
    let fail = |what: String| broken(token, what);
    let target = Target::parse(url).map_err(|e| fail(e.to_string()))?;
    let cfg = |protocol: Protocol| {
        let mut c = LoadConfig::new(target.clone(), protocol, Transport::Bearer);
        c.insecure = true;
        c
    };
    let credential = log_in(&cfg(Protocol::Http1), header)
        .await
        .map_err(|e| fail(format!("logging in: {e}")))?;
    let case = |client: WireClient| WireCase {
        client,
        header,
        token,
        claims,
        token_bytes: credential.token_bytes,
    };
    let mut seen = BTreeSet::new();
    let mut rows = Vec::new();
    for (protocol, wire) in [
        (Protocol::H2, WireProtocol::H2),
        (Protocol::Http1, WireProtocol::Http1),
    ] {
        let c = cfg(protocol);
        let mut s = connect(&c, Arc::new(ByteCount::default()))
            .await
            .map_err(|e| fail(e.to_string()))?;
        for i in 0..requests {
            let a = send(
                &mut s,
                &c,
                Method::GET,
                &format!("{PATH}?n={i}"),
                &credential,
            )
            .await
            .map_err(|e| fail(format!("hyper GET {PATH}: {e}")))?;
            if a.status != StatusCode::OK {
                return Err(fail(format!("hyper GET {PATH} answered {}", a.status)));
            }
        }
        let got = new_sequence(&c, &mut seen, wire, requests)
            .await
            .map_err(|e| fail(format!("hyper ({}): {e}", wire.name())))?;
        rows.extend(rows_from_recorded(
            &case(WireClient::Hyper),
            &got,
            PATH,
            &BTreeMap::new(),
        ));
    }
    if let Some(nghttp) = nghttp {
        let (reported, ok) = run_nghttp(nghttp, url, &credential, requests)
            .map_err(|e| fail(format!("nghttp: {e}")))?;
        if ok != requests {
            return Err(fail(format!("nghttp: {ok} of {requests} answers were 200")));
        }
        let got = new_sequence(&cfg(Protocol::Http1), &mut seen, WireProtocol::H2, requests)
            .await
            .map_err(|e| fail(format!("nghttp: {e}")))?;
        rows.extend(rows_from_recorded(
            &case(WireClient::Nghttp2),
            &got,
            PATH,
            &reported,
        ));
    }
    Ok(rows)
}

/// The entries of the one connection, not seen before, that carried the sequence: exactly
/// `requests` heads to [`PATH`] over `protocol`.
async fn new_sequence(
    cfg: &LoadConfig,
    seen: &mut BTreeSet<u64>,
    protocol: WireProtocol,
    requests: usize,
) -> Result<Vec<HeaderBytesEntry>, String> {
    let report: HeaderBytesReport = get_json(cfg, RECORDED).await.map_err(|e| e.to_string())?;
    if report.dropped > 0 {
        return Err(format!("the recorder dropped {} entries", report.dropped));
    }
    let fresh: BTreeSet<u64> = report
        .entries
        .iter()
        .filter(|e| !seen.contains(&e.connection) && e.protocol == protocol)
        .filter(|e| e.path.as_deref() == Some(PATH))
        .map(|e| e.connection)
        .collect();
    let [connection] = fresh.iter().copied().collect::<Vec<_>>()[..] else {
        return Err(format!(
            "expected one new {} connection to {PATH}, the server recorded {}",
            protocol.name(),
            fresh.len()
        ));
    };
    seen.insert(connection);
    let on: Vec<HeaderBytesEntry> = report
        .entries
        .into_iter()
        .filter(|e| e.connection == connection)
        .collect();
    let to_path = on
        .iter()
        .filter(|e| e.path.as_deref() == Some(PATH))
        .count();
    if to_path != requests || on.len() != requests {
        return Err(format!(
            "connection {connection}: {} heads, {to_path} of them to {PATH} (sent {requests}, \
             nothing else): unpaired or lost requests",
            on.len()
        ));
    }
    Ok(on)
}

/// Logs demo account 0 in as the transport of `header` wants; the credential's header.
async fn log_in(cfg: &LoadConfig, header: WireHeader) -> Result<Credential, String> {
    let mut s = connect(cfg, Arc::new(ByteCount::default()))
        .await
        .map_err(|e| e.to_string())?;
    let account = "username=user-0&password=password-0";
    match header {
        WireHeader::Authorization => {
            let a = post_form(&mut s, cfg, account, None).await?;
            if a.status != StatusCode::OK {
                return Err(format!("POST /login answered {}", a.status));
            }
            let v: serde_json::Value =
                serde_json::from_slice(&a.body).map_err(|_| "the login answer is not JSON")?;
            let token = v["access_token"]
                .as_str()
                .ok_or("no access_token in the login answer")?;
            Ok(Credential {
                name: "authorization",
                value: format!("Bearer {token}"),
                token_bytes: token.len() as u64,
            })
        }
        WireHeader::Cookie => {
            let page = send_raw(&mut s, cfg, Method::GET, "/login", Vec::new(), None).await?;
            let csrf = form_csrf(&page.body).ok_or("no csrf field in the login form")?;
            let jar: Vec<String> = set_cookies(&page)
                .map(|(n, v)| format!("{n}={v}"))
                .collect();
            let form = format!("{account}&csrf={csrf}");
            let a = post_form(&mut s, cfg, &form, Some(jar.join("; "))).await?;
            if a.status != StatusCode::SEE_OTHER {
                return Err(format!("POST /login answered {}", a.status));
            }
            // The credential: the cookie the login set (a clearing cookie has no value).
            let (name, value) = set_cookies(&a)
                .next()
                .ok_or("the login set no credential cookie")?;
            Ok(Credential {
                name: "cookie",
                token_bytes: value.len() as u64,
                value: format!("{name}={value}"),
            })
        }
    }
}

/// The `name`, `value` of every `Set-Cookie` with a value, in order.
fn set_cookies(a: &Answer) -> impl Iterator<Item = (String, String)> + '_ {
    a.headers
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| {
            let pair = v.split(';').next()?;
            let (n, v) = pair.split_once('=')?;
            (!v.trim().is_empty()).then(|| (n.trim().to_owned(), v.trim().to_owned()))
        })
}

async fn post_form(
    s: &mut Sender,
    cfg: &LoadConfig,
    form: &str,
    cookie: Option<String>,
) -> Result<Answer, String> {
    let mut headers = vec![(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/x-www-form-urlencoded"),
    )];
    if let Some(c) = cookie.filter(|c| !c.is_empty()) {
        headers.push((
            header::COOKIE,
            HeaderValue::from_str(&c).map_err(|e| e.to_string())?,
        ));
    }
    send_raw(
        s,
        cfg,
        Method::POST,
        "/login",
        headers,
        Some(form.to_owned()),
    )
    .await
}

async fn send(
    s: &mut Sender,
    cfg: &LoadConfig,
    method: Method,
    path: &str,
    credential: &Credential,
) -> Result<Answer, String> {
    let value = HeaderValue::from_str(&credential.value).map_err(|e| e.to_string())?;
    let name = header::HeaderName::from_static(credential.name);
    send_raw(s, cfg, method, path, vec![(name, value)], None).await
}

async fn send_raw(
    s: &mut Sender,
    cfg: &LoadConfig,
    method: Method,
    path: &str,
    headers: Vec<(header::HeaderName, HeaderValue)>,
    body: Option<String>,
) -> Result<Answer, String> {
    let uri = if s.is_h2() {
        format!("{}{path}", cfg.target.url.trim_end_matches('/'))
    } else {
        path.to_owned()
    };
    let mut b = Request::builder().method(method).uri(uri);
    if !s.is_h2() {
        b = b.header(header::HOST, cfg.target.authority.as_str());
    }
    for (n, v) in headers {
        b = b.header(n, v);
    }
    let req = b
        .body(Full::new(Bytes::from(body.unwrap_or_default())))
        .map_err(|e| e.to_string())?;
    tokio::time::timeout(Duration::from_secs(10), s.send(req))
        .await
        .map_err(|_| format!("{path}: no answer in 10 s"))?
        .map_err(|e| format!("{path}: {e}"))
}

/// Runs `nghttp -nv` for the sequence on one connection: its own count per stream and
/// how many answers were 200. Its log holds the credential: it stays in memory.
fn run_nghttp(
    exe: &Path,
    url: &str,
    credential: &Credential,
    requests: usize,
) -> Result<(BTreeMap<u32, u64>, usize), String> {
    let base = url.trim_end_matches('/');
    let mut cmd = Command::new(exe);
    cmd.arg("-nv")
        .arg("--timeout=10")
        .arg("-H")
        .arg(format!("{}: {}", credential.name, credential.value));
    for i in 0..requests {
        cmd.arg(format!("{base}{PATH}?n={i}"));
    }
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("starting {}: {e}", exe.display()))?;
    let mut stdout = child.stdout.take().ok_or("no stdout")?;
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stdout.read_to_string(&mut s);
        s
    });
    let deadline = Instant::now() + NGHTTP_TIMEOUT;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(10)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("no end within {NGHTTP_TIMEOUT:?}"));
            }
        }
    };
    let log = reader.join().map_err(|_| "reading its output failed")?;
    if !status.success() {
        let mut err = String::new();
        if let Some(mut e) = child.stderr.take() {
            let _ = e.read_to_string(&mut err);
        }
        let first = err
            .lines()
            .next()
            .unwrap_or("")
            .chars()
            .take(200)
            .collect::<String>();
        return Err(format!("exited with {status}: {first}"));
    }
    Ok(parse_nghttp_log(&log))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scheme::JwtAlg;

    #[test]
    fn nghttp_logs_give_payload_lengths_per_stream_and_the_answers() {
        let log = "\
[  0.027] send HEADERS frame <length=416, flags=0x25, stream_id=13>
          ; END_STREAM | END_HEADERS | PRIORITY
          cookie: __Host-jwt=abc
[  0.027] send HEADERS frame <length=18, flags=0x21, stream_id=15>
[  0.027] send HEADERS frame <length=19, flags=0x20, stream_id=17>
[  0.027] send CONTINUATION frame <length=7, flags=0x04, stream_id=17>
[  0.030] recv (stream_id=13) :status: 200
[  0.030] recv (stream_id=15) :status: 200
[  0.030] recv (stream_id=17) :status: 401
[  0.031] send PRIORITY frame <length=5, flags=0x00, stream_id=3>
";
        let (sent, ok) = parse_nghttp_log(log);
        assert_eq!(sent, BTreeMap::from([(13, 416), (15, 18), (17, 26)]));
        assert_eq!(ok, 2);
    }

    #[test]
    fn recorded_entries_become_rows_per_connection_first_then_repeated() {
        let e = |connection, index, stream: u32, path: Option<&str>, bytes| HeaderBytesEntry {
            connection,
            protocol: WireProtocol::H2,
            stream_id: Some(stream),
            index,
            method: path.map(|_| "GET".to_owned()),
            path: path.map(str::to_owned),
            header_block_bytes: bytes - 5,
            frame_payload_bytes: bytes,
            frame_bytes: bytes + 9,
            frames: 1,
        };
        let entries = [
            e(1, 0, 1, Some("/login"), 100),
            e(1, 1, 3, Some("/me"), 420),
            e(1, 2, 5, Some("/me"), 18),
            e(2, 0, 1, Some("/me"), 421),
            e(3, 0, 1, None, 50),
        ];
        let case = WireCase {
            client: WireClient::Chromium,
            header: WireHeader::Cookie,
            token: SchemeId::Jwt(JwtAlg::HS256),
            claims: ClaimSet::Typical,
            token_bytes: 457,
        };
        let rows = rows_from_recorded(&case, &entries, "/me", &BTreeMap::from([(3, 420)]));
        let got: Vec<_> = rows
            .iter()
            .map(|r| {
                (
                    r.request_index,
                    r.first_or_repeated,
                    r.server_frame_bytes,
                    r.client_reported_bytes,
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                (0, RequestOrder::First, 429, Some(420)),
                (1, RequestOrder::Repeated, 27, None),
                (0, RequestOrder::First, 430, None),
            ]
        );
        assert!(
            rows.iter()
                .all(|r| r.client == WireClient::Chromium && r.token_bytes == 457)
        );
    }
}
