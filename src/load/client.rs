//! Client connections on hyper: HTTP/1.1 (keep-alive), h2c by prior knowledge, and either
//! over TLS (ALPN `http/1.1` or `h2`). Every socket is wrapped in a byte counter, so the
//! generator knows the bytes each direction carried.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::{HeaderMap, Request, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls::pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

use super::{LoadConfig, LoadError, Protocol};
use crate::net::tls::{ALPN_H2, ALPN_HTTP11, insecure_client_config};
use crate::net::{ByteCounter, CountingStream};

/// Bytes the generator's sockets carried.
#[derive(Debug, Default)]
pub struct ByteCount {
    /// Bytes sent to the server.
    pub sent: AtomicU64,
    /// Bytes received from the server.
    pub received: AtomicU64,
}

impl ByteCounter for ByteCount {
    fn read(&self, n: usize) {
        self.received.fetch_add(n as u64, Relaxed);
    }
    fn wrote(&self, n: usize) {
        self.sent.fetch_add(n as u64, Relaxed);
    }
}

/// One connection's request handle.
#[derive(Debug)]
pub enum Sender {
    /// HTTP/1.1: one request at a time.
    H1(hyper::client::conn::http1::SendRequest<Full<Bytes>>),
    /// HTTP/2: shared by several virtual users.
    H2(hyper::client::conn::http2::SendRequest<Full<Bytes>>),
}

/// What came back.
#[derive(Debug)]
pub struct Answer {
    /// Status.
    pub status: StatusCode,
    /// Headers.
    pub headers: HeaderMap,
    /// The whole body.
    pub body: Bytes,
}

impl Sender {
    /// Another handle on the same HTTP/2 connection (`None` for HTTP/1.1, which carries
    /// one request at a time).
    pub fn share(&self) -> Option<Sender> {
        match self {
            Sender::H1(_) => None,
            Sender::H2(s) => Some(Sender::H2(s.clone())),
        }
    }

    /// True once the connection is closed.
    pub fn is_closed(&self) -> bool {
        match self {
            Sender::H1(s) => s.is_closed(),
            Sender::H2(s) => s.is_closed(),
        }
    }

    /// True for an HTTP/2 connection (requests need an absolute URI).
    pub fn is_h2(&self) -> bool {
        matches!(self, Sender::H2(_))
    }

    /// Sends `req` and reads the whole answer.
    pub async fn send(&mut self, req: Request<Full<Bytes>>) -> Result<Answer, hyper::Error> {
        let resp = match self {
            Sender::H1(s) => {
                s.ready().await?;
                s.send_request(req).await?
            }
            Sender::H2(s) => {
                s.ready().await?;
                s.send_request(req).await?
            }
        };
        let (parts, body) = resp.into_parts();
        let body = body.collect().await?.to_bytes();
        Ok(Answer {
            status: parts.status,
            headers: parts.headers,
            body,
        })
    }
}

/// Opens a connection to the target as `cfg` says, counting bytes into `bytes`.
pub async fn connect(cfg: &LoadConfig, bytes: Arc<ByteCount>) -> Result<Sender, LoadError> {
    let err = |what: &str, e: &dyn std::fmt::Display| {
        LoadError::Connect(format!("{what} {}: {e}", cfg.target.url))
    };
    let tcp = TcpStream::connect(cfg.target.addr)
        .await
        .map_err(|e| err("connecting to", &e))?;
    let _ = tcp.set_nodelay(true);
    let io = CountingStream::new(tcp, bytes);
    if !cfg.target.tls {
        return handshake(io, cfg.protocol)
            .await
            .map_err(|e| err("handshake with", &e));
    }
    if !cfg.insecure {
        return Err(LoadError::Config(format!(
            "{} uses TLS with a self-signed certificate: pass --insecure to accept it (loopback only)",
            cfg.target.url
        )));
    }
    let alpn: &[&[u8]] = match cfg.protocol {
        Protocol::Http1 => &[ALPN_HTTP11],
        Protocol::H2 => &[ALPN_H2],
    };
    let config = insecure_client_config(alpn).map_err(|e| err("TLS setup for", &e))?;
    let name = ServerName::try_from("localhost").map_err(|e| err("server name for", &e))?;
    let tls = tokio_rustls::TlsConnector::from(config)
        .connect(name, io)
        .await
        .map_err(|e| err("TLS handshake with", &e))?;
    let negotiated = tls.get_ref().1.alpn_protocol().map(<[u8]>::to_vec);
    let want = match cfg.protocol {
        Protocol::Http1 => ALPN_HTTP11,
        Protocol::H2 => ALPN_H2,
    };
    if negotiated.as_deref() != Some(want) {
        return Err(LoadError::Connect(format!(
            "{} did not agree to ALPN {}",
            cfg.target.url,
            String::from_utf8_lossy(want)
        )));
    }
    handshake(tls, cfg.protocol)
        .await
        .map_err(|e| err("handshake with", &e))
}

async fn handshake<I>(io: I, protocol: Protocol) -> Result<Sender, hyper::Error>
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let io = TokioIo::new(io);
    match protocol {
        Protocol::Http1 => {
            let (send, conn) = hyper::client::conn::http1::handshake(io).await?;
            tokio::spawn(async move {
                let _ = conn.await;
            });
            Ok(Sender::H1(send))
        }
        Protocol::H2 => {
            let (send, conn) = hyper::client::conn::http2::Builder::new(TokioExecutor::new())
                .handshake(io)
                .await?;
            tokio::spawn(async move {
                let _ = conn.await;
            });
            Ok(Sender::H2(send))
        }
    }
}

/// `GET path` on a fresh HTTP/1.1 connection to `cfg`'s target, parsed as JSON (the
/// server's `/metrics`).
pub async fn get_json<T: serde::de::DeserializeOwned>(
    cfg: &LoadConfig,
    path: &str,
) -> Result<T, LoadError> {
    let mut one = cfg.clone();
    one.protocol = Protocol::Http1;
    let mut s = connect(&one, Arc::new(ByteCount::default())).await?;
    let req = Request::builder()
        .uri(path)
        .header(hyper::header::HOST, cfg.target.authority.as_str())
        .body(Full::new(Bytes::new()))
        .map_err(|e| LoadError::Connect(e.to_string()))?;
    let a = s
        .send(req)
        .await
        .map_err(|e| LoadError::Connect(format!("GET {path}: {e}")))?;
    if a.status != StatusCode::OK {
        return Err(LoadError::Connect(format!(
            "GET {path} answered {}",
            a.status
        )));
    }
    serde_json::from_slice(&a.body).map_err(|e| LoadError::Connect(format!("GET {path}: {e}")))
}
