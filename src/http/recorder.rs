//! `tokenbench serve --record-header-bytes`: the header bytes each request arrived with,
//! per connection and in order, read back with `GET /debug/header-bytes`
//! ([`HeaderBytesReport`]). Off by default, and then nothing of it runs: no tap, no
//! wrapper, the route answers 404.
//!
//! Two records per connection meet here:
//! - the **tap** ([`crate::net::header_tap`]) on the plaintext byte stream, which sees
//!   each request head's bytes (and its HTTP/2 stream id) but decodes nothing;
//! - the **service wrapper** ([`Recorded`]), which sees each request's method and path
//!   when hyper hands it over, synchronously, in the order hyper accepted the streams.
//!
//! **Pairing them is exact** for HTTP/2 because hyper's server calls the service for each
//! accepted stream inline, in accept order, and h2 accepts streams in the order their
//! request heads arrived, which for a client's streams is also stream-id order (they only
//! grow). So the k-th head of a connection is the k-th request handled, as long as every
//! head was handed over. A head that h2 refused before handing it over (too large, a
//! malformed pseudo-header, too many concurrent streams) breaks the one-to-one: a
//! connection whose head and request counts differ (or lost entries to the memory bound)
//! reports its heads with `method` and `path` unknown (`null`) rather than guess. A
//! request still in flight when the list is read can show the same, until it is handed
//! over. HTTP/1.1 heads carry their own request line, so they need no pairing.
//! (Decoding HPACK instead would need a second decoder mirroring the connection's dynamic
//! table; recording sizes and pairing by order needs none.)
//!
//! Memory is bounded: at most [`MAX_RECORDS`] connections, heads and requests in all; past
//! it they are counted in `dropped`, never stored.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex, PoisonError};

use hyper::body::Incoming;
use hyper::service::Service;

use crate::net::header_tap::{
    BlockSink, HEADER_BYTES_SCHEMA_VERSION, HeaderBlock, HeaderBytesEntry, HeaderBytesReport,
    WireProtocol,
};

/// The most connections, heads and requests a server records (about 100 bytes each).
pub const MAX_RECORDS: u64 = 200_000;

/// The path of the read-back route.
pub const ROUTE: &str = "/debug/header-bytes";

/// Every connection's records, in accept order.
#[derive(Debug, Default)]
pub struct HeaderRecorder {
    connections: Mutex<Vec<Arc<ConnectionLog>>>,
    /// Connections accepted (their ids), listed or not.
    accepted: AtomicU64,
    budget: Arc<Budget>,
}

#[derive(Debug, Default)]
struct Budget {
    used: AtomicU64,
    dropped: AtomicU64,
}

impl Budget {
    /// Takes one record's place; false (and counted as dropped) when the bound is reached.
    fn take(&self) -> bool {
        if self.used.fetch_add(1, Relaxed) < MAX_RECORDS {
            true
        } else {
            self.dropped.fetch_add(1, Relaxed);
            false
        }
    }
}

/// One connection's records.
#[derive(Debug)]
pub struct ConnectionLog {
    id: u64,
    budget: Arc<Budget>,
    inner: Mutex<Log>,
}

#[derive(Debug, Default)]
struct Log {
    protocol: Option<WireProtocol>,
    heads: Vec<HeaderBlock>,
    /// Method and path of each request hyper handed over, in order.
    requests: Vec<(String, String)>,
    lost: bool,
}

impl ConnectionLog {
    fn with<T>(&self, f: impl FnOnce(&mut Log) -> T) -> T {
        f(&mut self.inner.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// A request was handed to the service.
    fn request(&self, method: &str, path: &str) {
        let kept = self.budget.take();
        self.with(|l| {
            if kept {
                l.requests.push((method.to_owned(), path.to_owned()));
            } else {
                l.lost = true;
            }
        });
    }
}

impl BlockSink for ConnectionLog {
    fn block(&self, block: HeaderBlock) {
        let kept = self.budget.take();
        self.with(|l| {
            if kept {
                l.heads.push(block);
            } else {
                l.lost = true;
            }
        });
    }

    fn protocol(&self, protocol: WireProtocol) {
        self.with(|l| l.protocol = Some(protocol));
    }
}

impl HeaderRecorder {
    /// An empty recorder.
    pub fn new() -> HeaderRecorder {
        HeaderRecorder::default()
    }

    /// The records of a connection just accepted. A connection takes a record's place
    /// too: past the bound it is served as usual, its records counted as dropped.
    pub fn connection(&self) -> Arc<ConnectionLog> {
        let listed = self.budget.take();
        let log = Arc::new(ConnectionLog {
            id: self.accepted.fetch_add(1, Relaxed) + 1,
            budget: self.budget.clone(),
            inner: Mutex::new(Log {
                lost: !listed,
                ..Log::default()
            }),
        });
        if listed {
            self.connections
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(log.clone());
        }
        log
    }

    /// Everything recorded so far (the JSON of `GET /debug/header-bytes`).
    pub fn report(&self) -> HeaderBytesReport {
        let all: Vec<Arc<ConnectionLog>> = self
            .connections
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let mut entries = Vec::new();
        for c in &all {
            c.with(|l| {
                let paired = !l.lost && l.requests.len() == l.heads.len();
                for (i, h) in l.heads.iter().enumerate() {
                    let (method, path) = match h.protocol {
                        WireProtocol::Http1 => (h.method.clone(), h.path.clone()),
                        WireProtocol::H2 if paired => {
                            let (m, p) = &l.requests[i];
                            (Some(m.clone()), Some(p.clone()))
                        }
                        WireProtocol::H2 => (None, None),
                    };
                    entries.push(HeaderBytesEntry {
                        connection: c.id,
                        protocol: h.protocol,
                        stream_id: h.stream_id,
                        index: u32::try_from(i).unwrap_or(u32::MAX),
                        method,
                        path,
                        header_block_bytes: h.header_block_bytes,
                        frame_payload_bytes: h.frame_payload_bytes,
                        frame_bytes: h.frame_bytes,
                        frames: h.frames,
                    });
                }
            });
        }
        HeaderBytesReport {
            schema_version: HEADER_BYTES_SCHEMA_VERSION,
            entries,
            dropped: self.budget.dropped.load(Relaxed),
        }
    }
}

/// A connection's service, recording each request's method and path as hyper hands it
/// over (synchronously, in accept order: see the module docs).
#[derive(Debug, Clone)]
pub struct Recorded<S> {
    inner: S,
    log: Arc<ConnectionLog>,
}

impl<S> Recorded<S> {
    /// Wraps the service of the connection `log` records.
    pub fn new(inner: S, log: Arc<ConnectionLog>) -> Recorded<S> {
        Recorded { inner, log }
    }
}

impl<S> Service<axum::http::Request<Incoming>> for Recorded<S>
where
    S: Service<axum::http::Request<Incoming>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn call(&self, req: axum::http::Request<Incoming>) -> Self::Future {
        self.log.request(req.method().as_str(), req.uri().path());
        self.inner.call(req)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(protocol: WireProtocol, stream: Option<u32>, bytes: u64) -> HeaderBlock {
        HeaderBlock {
            protocol,
            stream_id: stream,
            method: (protocol == WireProtocol::Http1).then(|| "GET".to_owned()),
            path: (protocol == WireProtocol::Http1).then(|| "/h1".to_owned()),
            header_block_bytes: bytes,
            frame_payload_bytes: bytes,
            frame_bytes: bytes + 9,
            frames: 1,
        }
    }

    #[test]
    fn heads_pair_with_requests_only_when_their_counts_agree() {
        let r = HeaderRecorder::new();
        let a = r.connection();
        a.protocol(WireProtocol::H2);
        a.block(head(WireProtocol::H2, Some(1), 40));
        a.request("GET", "/me");
        a.block(head(WireProtocol::H2, Some(3), 5));
        a.request("POST", "/logout");
        let b = r.connection();
        b.block(head(WireProtocol::H2, Some(1), 40));
        b.block(head(WireProtocol::H2, Some(3), 41)); // refused before the service
        b.request("GET", "/me");
        let c = r.connection();
        c.block(head(WireProtocol::Http1, None, 60));
        let rep = r.report();
        let got: Vec<_> = rep
            .entries
            .iter()
            .map(|e| {
                (
                    e.connection,
                    e.index,
                    e.path.as_deref(),
                    e.header_block_bytes,
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                (1, 0, Some("/me"), 40),
                (1, 1, Some("/logout"), 5),
                (2, 0, None, 40),
                (2, 1, None, 41),
                (3, 0, Some("/h1"), 60),
            ]
        );
        assert_eq!(rep.entries[1].method.as_deref(), Some("POST"));
        assert_eq!(rep.dropped, 0);
    }

    #[test]
    fn the_memory_bound_drops_and_unpairs() {
        let r = HeaderRecorder::new();
        r.budget.used.store(MAX_RECORDS - 2, Relaxed);
        let a = r.connection();
        a.block(head(WireProtocol::H2, Some(1), 40));
        a.request("GET", "/me");
        let b = r.connection();
        b.block(head(WireProtocol::H2, Some(1), 40));
        let rep = r.report();
        assert_eq!(rep.dropped, 3, "a's request, b, b's head");
        assert_eq!(rep.entries.len(), 1);
        assert_eq!(
            (rep.entries[0].connection, rep.entries[0].path.as_deref()),
            (1, None)
        );
        assert_eq!(r.connection().id, 3, "ids count every connection");
    }
}
