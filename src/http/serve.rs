//! Serving the router on a socket: the accept loop (bounded connections), every accepted
//! stream counted below TLS ([`CountingStream`]), optional TLS with ALPN, and hyper-util's
//! auto builder, which speaks HTTP/1.1 and HTTP/2 on one port (h2c by prior knowledge
//! without TLS, `h2` by ALPN with it).
//!
//! Slow clients: HTTP/1.1 headers must arrive within
//! [`Limits::header_read_timeout`](super::Limits::header_read_timeout), TLS handshakes within
//! their own timeout, HTTP/2 connections are pinged and dropped when silent, and every
//! request has a deadline (the router's timeout layer).
//!
//! With `--record-header-bytes` each connection's plaintext stream (above TLS) also goes
//! through a [`TapStream`] and its service through a [`Recorded`] wrapper
//! ([`super::recorder`]); without it neither exists.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinHandle;

use super::HttpError;
use super::app::{App, router};
use super::metrics::Metrics;
use super::recorder::{HeaderRecorder, Recorded};
use crate::net::CountingStream;
use crate::net::header_tap::TapStream;

/// A server running on the current tokio runtime.
#[derive(Debug)]
pub struct RunningServer {
    addr: SocketAddr,
    tls: bool,
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl RunningServer {
    /// The address actually bound.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://ADDR` or `https://ADDR`.
    pub fn url(&self) -> String {
        format!(
            "{}://{}",
            if self.tls { "https" } else { "http" },
            self.addr
        )
    }

    /// Stops accepting connections (open ones finish their current exchanges).
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

/// Binds `listen` and serves `app` on it, with TLS (HTTP/2 by ALPN) when `tls`.
pub async fn start(
    app: Arc<App>,
    listen: SocketAddr,
    tls: bool,
) -> Result<RunningServer, HttpError> {
    let tls = if tls {
        Some(crate::net::tls::server_config()?)
    } else {
        None
    };
    start_with(app, listen, tls).await
}

/// [`start`], with TLS by `tls` when given (a certificate the caller made, e.g. for the
/// host names a browser maps to loopback: [`crate::net::tls::self_signed_for`]).
pub async fn start_with(
    app: Arc<App>,
    listen: SocketAddr,
    tls: Option<Arc<rustls::ServerConfig>>,
) -> Result<RunningServer, HttpError> {
    let acceptor = tls.clone().map(tokio_rustls::TlsAcceptor::from);
    let tls = tls.is_some();
    let listener = TcpListener::bind(listen)
        .await
        .map_err(|e| HttpError::io(format!("binding {listen}"), e))?;
    let addr = listener
        .local_addr()
        .map_err(|e| HttpError::io("reading the bound address", e))?;
    let (stop, stopped) = watch::channel(false);
    let task = tokio::spawn(accept_loop(listener, app, acceptor, stopped));
    Ok(RunningServer {
        addr,
        tls,
        stop,
        task,
    })
}

/// One connection fewer when dropped.
struct Open(Arc<Metrics>);

impl Drop for Open {
    fn drop(&mut self) {
        self.0.connections_open.fetch_sub(1, Relaxed);
    }
}

async fn accept_loop(
    listener: TcpListener,
    app: Arc<App>,
    acceptor: Option<tokio_rustls::TlsAcceptor>,
    mut stop: watch::Receiver<bool>,
) {
    let limits = app.config().limits.clone();
    let metrics = app.metrics().clone();
    let recorder = app.header_recorder().cloned();
    let service = TowerToHyperService::new(router(app.clone()));
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .max_buf_size((limits.max_header_bytes + 1024).max(8192))
        .keep_alive(true);
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_concurrent_streams(limits.max_h2_streams)
        .max_header_list_size(u32::try_from(limits.max_header_bytes + 1024).unwrap_or(u32::MAX))
        .keep_alive_interval(Some(Duration::from_secs(30)))
        .keep_alive_timeout(Duration::from_secs(10));
    let builder = Arc::new(builder);
    let connections = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let purge = app.clone();
    let purger = tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(30));
        loop {
            tick.tick().await;
            purge.purge_denylist();
        }
    });
    loop {
        let permit = tokio::select! {
            p = connections.clone().acquire_owned() => match p { Ok(p) => p, Err(_) => break },
            _ = stop.changed() => break,
        };
        let stream = tokio::select! {
            r = listener.accept() => match r {
                Ok((s, _)) => s,
                Err(_) => {
                    // Out of descriptors or a connection reset before accept: pause, go on.
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            },
            _ = stop.changed() => break,
        };
        let _ = stream.set_nodelay(true);
        metrics.connections_accepted.fetch_add(1, Relaxed);
        metrics.connections_open.fetch_add(1, Relaxed);
        let open = Open(metrics.clone());
        let (builder, service, acceptor) = (builder.clone(), service.clone(), acceptor.clone());
        let (counter, handshake) = (metrics.clone(), limits.tls_handshake_timeout);
        let recorder = recorder.clone();
        tokio::spawn(async move {
            let _permit = permit;
            let _open = open;
            let conn = Conn {
                builder: &builder,
                service,
                recorder,
            };
            serve_connection(stream, counter, acceptor, handshake, conn).await;
        });
    }
    purger.abort();
}

/// What serves one connection: the builder, the service, the recorder if recording.
struct Conn<'a, S> {
    builder: &'a auto::Builder<TokioExecutor>,
    service: TowerToHyperService<S>,
    recorder: Option<Arc<HeaderRecorder>>,
}

impl<S> Conn<'_, S>
where
    S: tower::Service<
            axum::http::Request<hyper::body::Incoming>,
            Response = axum::response::Response,
            Error = std::convert::Infallible,
        > + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
{
    /// Serves the connection on `io` (the socket, or TLS over it) to its end; with a
    /// recorder, through the tap and the recording service.
    async fn serve<I>(self, io: I)
    where
        I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    {
        // Connection errors (a client that went away, a bad preface) end the connection only.
        match self.recorder {
            None => {
                let _ = self
                    .builder
                    .serve_connection(TokioIo::new(io), self.service)
                    .await;
            }
            Some(recorder) => {
                let log = recorder.connection();
                let io = TapStream::reads(io, log.clone());
                let service = Recorded::new(self.service, log);
                let _ = self
                    .builder
                    .serve_connection(TokioIo::new(io), service)
                    .await;
            }
        }
    }
}

async fn serve_connection<S>(
    stream: TcpStream,
    counter: Arc<Metrics>,
    acceptor: Option<tokio_rustls::TlsAcceptor>,
    handshake_timeout: Duration,
    conn: Conn<'_, S>,
) where
    S: tower::Service<
            axum::http::Request<hyper::body::Incoming>,
            Response = axum::response::Response,
            Error = std::convert::Infallible,
        > + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
{
    let counted = CountingStream::new(stream, counter);
    match acceptor {
        None => conn.serve(counted).await,
        Some(acceptor) => {
            let Ok(Ok(tls)) =
                tokio::time::timeout(handshake_timeout, acceptor.accept(counted)).await
            else {
                return;
            };
            conn.serve(tls).await;
        }
    }
}
