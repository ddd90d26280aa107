//! Which credential each request carried (`serve --request-log`, read back with
//! `GET /requests`): the ground truth of what a browser sends. A bounded ring of the last
//! [`CAPACITY`] requests, each with its method, host, path, `Origin`, the **names** of the
//! cookies it carried, whether the site's credential cookie was among them, whether it
//! had an `Authorization` header, and the status answered. Never a value: no cookie,
//! token or password is kept. Off by default (a lock per request would disturb the http
//! workload's figures).

use std::collections::VecDeque;
use std::sync::Mutex;

use axum::http::{HeaderMap, header};
use serde::{Deserialize, Serialize};

/// Requests kept (the oldest are dropped first).
pub const CAPACITY: usize = 4096;

/// One request, as `GET /requests` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoggedRequest {
    /// Sequence number from 1, in arrival order (a reader keeps the last it saw).
    pub seq: u64,
    /// `GET`, `POST`, `OPTIONS`...
    pub method: String,
    /// Host the request named (`:authority` or `Host`), port included.
    pub host: String,
    /// Path, without the query.
    pub path: String,
    /// The `Origin` header, when present.
    pub origin: Option<String>,
    /// `Sec-Fetch-Site` (`same-origin`, `same-site`, `cross-site`, `none`), when present.
    pub fetch_site: Option<String>,
    /// Names of the cookies carried, in order.
    pub cookie_names: Vec<String>,
    /// Whether the site's credential cookie was among them.
    pub credential_cookie: bool,
    /// Whether an `Authorization` header was present.
    pub authorization: bool,
    /// Status answered.
    pub status: u16,
}

/// The ring of logged requests.
#[derive(Debug, Default)]
pub struct RequestLog {
    inner: Mutex<Ring>,
}

#[derive(Debug, Default)]
struct Ring {
    next_seq: u64,
    entries: VecDeque<LoggedRequest>,
}

/// What the guard reads from a request before it is answered.
#[derive(Debug, Clone)]
pub(crate) struct Seen {
    method: String,
    host: String,
    path: String,
    origin: Option<String>,
    fetch_site: Option<String>,
    cookie_names: Vec<String>,
    authorization: bool,
}

impl Seen {
    /// What request `method uri` with `headers` carried (names only).
    pub(crate) fn of(method: &str, uri: &axum::http::Uri, headers: &HeaderMap) -> Seen {
        let text = |name: header::HeaderName| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let host = uri
            .authority()
            .map(|a| a.as_str().to_owned())
            .or_else(|| text(header::HOST))
            .unwrap_or_default();
        let cookie_names = headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|kv| kv.split('=').next())
            .map(|n| n.trim().to_owned())
            .filter(|n| !n.is_empty())
            .collect();
        Seen {
            method: method.to_owned(),
            host,
            path: uri.path().to_owned(),
            origin: text(header::ORIGIN),
            fetch_site: text(header::HeaderName::from_static("sec-fetch-site")),
            cookie_names,
            authorization: headers.contains_key(header::AUTHORIZATION),
        }
    }
}

impl RequestLog {
    /// Logs `seen`, answered `status`; `credential_cookie` is the site's cookie name.
    pub(crate) fn push(&self, seen: Seen, credential_cookie: &str, status: u16) {
        let mut ring = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        ring.next_seq += 1;
        let entry = LoggedRequest {
            seq: ring.next_seq,
            credential_cookie: seen.cookie_names.iter().any(|n| n == credential_cookie),
            method: seen.method,
            host: seen.host,
            path: seen.path,
            origin: seen.origin,
            fetch_site: seen.fetch_site,
            cookie_names: seen.cookie_names,
            authorization: seen.authorization,
            status,
        };
        if ring.entries.len() == CAPACITY {
            ring.entries.pop_front();
        }
        ring.entries.push_back(entry);
    }

    /// Requests logged after sequence number `after` (0: all kept), oldest first.
    pub fn since(&self, after: u64) -> Vec<LoggedRequest> {
        let ring = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        ring.entries
            .iter()
            .filter(|e| e.seq > after)
            .cloned()
            .collect()
    }

    /// The sequence number of the last request logged (0: none yet).
    pub fn last_seq(&self) -> u64 {
        self.inner
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .next_seq
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logs_names_never_values_and_stays_bounded() {
        let log = RequestLog::default();
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            "__Host-sid=SECRET; theme=dark".parse().unwrap(),
        );
        h.insert(header::ORIGIN, "https://site.test:1".parse().unwrap());
        let uri: axum::http::Uri = "https://api.test:1/me?x=1".parse().unwrap();
        log.push(Seen::of("GET", &uri, &h), "__Host-sid", 200);
        let got = log.since(0);
        assert_eq!(got.len(), 1);
        let e = &got[0];
        assert_eq!(
            (e.seq, e.host.as_str(), e.path.as_str()),
            (1, "api.test:1", "/me")
        );
        assert_eq!(e.cookie_names, ["__Host-sid", "theme"]);
        assert!(e.credential_cookie && !e.authorization);
        assert!(!serde_json::to_string(e).unwrap().contains("SECRET"));
        for _ in 0..CAPACITY {
            log.push(Seen::of("GET", &uri, &HeaderMap::new()), "__Host-sid", 401);
        }
        assert_eq!(log.since(0).len(), CAPACITY);
        assert_eq!(log.last_seq(), CAPACITY as u64 + 1);
        assert!(log.since(log.last_seq()).is_empty());
    }
}
