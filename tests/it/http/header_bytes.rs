//! `serve --record-header-bytes` on real sockets: requests sent by hyper on one HTTP/2
//! connection (h2c and `h2` over TLS) are recorded with the stream ids, methods, paths and
//! byte counts the client's own tap saw it write; an HTTP/1.1 head is counted exactly;
//! the read-back route counts as no request, and answers 404 without the flag.

use std::sync::Mutex;

use http_body_util::Full;
use hyper::body::Bytes;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokenbench::net::header_tap::{
    BlockSink, HeaderBlock, HeaderBytesReport, TapStream, WireProtocol,
};
use tokenbench::net::tls::{ALPN_H2, insecure_client_config};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

use super::*;

/// What the client's tap saw it write.
#[derive(Default)]
struct Sent(Mutex<Vec<HeaderBlock>>);

impl BlockSink for Sent {
    fn block(&self, b: HeaderBlock) {
        self.0.lock().unwrap().push(b);
    }
}

async fn h2<I>(io: I) -> hyper::client::conn::http2::SendRequest<Full<Bytes>>
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (send, conn) = hyper::client::conn::http2::Builder::new(TokioExecutor::new())
        .handshake(TokioIo::new(io))
        .await
        .unwrap();
    tokio::spawn(conn);
    send
}

/// Opens one HTTP/2 connection (TLS with ALPN h2 when `tls`) whose writes are tapped.
async fn connect(
    addr: std::net::SocketAddr,
    tls: bool,
    sent: Arc<Sent>,
) -> hyper::client::conn::http2::SendRequest<Full<Bytes>> {
    let tcp = TcpStream::connect(addr).await.unwrap();
    if !tls {
        return h2(TapStream::writes(tcp, sent)).await;
    }
    let config = insecure_client_config(&[ALPN_H2]).unwrap();
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    let stream = tokio_rustls::TlsConnector::from(config)
        .connect(name, tcp)
        .await
        .unwrap();
    assert_eq!(stream.get_ref().1.alpn_protocol(), Some(ALPN_H2));
    h2(TapStream::writes(stream, sent)).await
}

async fn get(
    send: &mut hyper::client::conn::http2::SendRequest<Full<Bytes>>,
    uri: &str,
    token: &str,
) -> StatusCode {
    let req = hyper::Request::get(uri)
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Full::new(Bytes::new()))
        .unwrap();
    send.ready().await.unwrap();
    let resp = send.send_request(req).await.unwrap();
    let status = resp.status();
    resp.into_body().collect().await.unwrap();
    status
}

/// One HTTP/1.1 exchange on a raw socket: the head written byte for byte, the answer read
/// to its end.
fn h1(addr: std::net::SocketAddr, head: &str) -> String {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(head.as_bytes()).unwrap();
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

/// `GET /debug/header-bytes` on a connection of its own (HTTP/2, over TLS when `tls`).
async fn recorded(addr: std::net::SocketAddr, tls: bool) -> HeaderBytesReport {
    let mut send = connect(addr, tls, Arc::new(Sent::default())).await;
    let scheme = if tls { "https" } else { "http" };
    let req = hyper::Request::get(format!("{scheme}://{addr}/debug/header-bytes"))
        .body(Full::new(Bytes::new()))
        .unwrap();
    send.ready().await.unwrap();
    let resp = send.send_request(req).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    serde_json::from_slice(&body).unwrap()
}

fn three_requests_on_one_connection(tls: bool) {
    let mut c = config(
        SchemeSpec::Jwt(JwtAlg::HS256),
        Transport::Bearer,
        Revocation::None,
    );
    c.record_header_bytes = true;
    let app = App::new(c).unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let server = rt
        .block_on(tokenbench::http::serve::start(
            app.clone(),
            "127.0.0.1:0".parse().unwrap(),
            tls,
        ))
        .unwrap();
    let addr = server.local_addr();
    // A real token, from the same app through its router (no socket, not recorded).
    let login = rt.block_on(send(
        &app,
        Request::post("/login")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from("username=user-0&password=password-0"))
            .unwrap(),
    ));
    let token = login.json()["access_token"].as_str().unwrap().to_owned();
    if !tls {
        // An HTTP/1.1 head, counted exactly (request line to CRLFCRLF).
        let head =
            format!("GET /health?probe=1 HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
        assert!(h1(addr, &head).starts_with("HTTP/1.1 200"));
        let rep = rt.block_on(recorded(addr, tls));
        let e = &rep.entries[0];
        assert_eq!((e.protocol, e.stream_id), (WireProtocol::Http1, None));
        assert_eq!(
            (e.method.as_deref(), e.path.as_deref()),
            (Some("GET"), Some("/health"))
        );
        assert_eq!(e.header_block_bytes, head.len() as u64);
    }
    let sent = Arc::new(Sent::default());
    let scheme = if tls { "https" } else { "http" };
    let uri = format!("{scheme}://{addr}/me");
    let statuses = rt.block_on(async {
        let mut send = connect(addr, tls, sent.clone()).await;
        let mut out = Vec::new();
        for _ in 0..3 {
            out.push(get(&mut send, &uri, &token).await);
        }
        out
    });
    assert_eq!(statuses, [StatusCode::OK; 3]);
    let requests_before = app.metrics().snapshot().requests;
    let rep = rt.block_on(recorded(addr, tls));
    assert_eq!(rep.schema_version, 1);
    assert_eq!(rep.dropped, 0);
    let me = rep
        .entries
        .iter()
        .find(|e| e.path.as_deref() == Some("/me"))
        .expect("the requests are listed");
    let on_h2: Vec<_> = rep
        .entries
        .iter()
        .filter(|e| e.connection == me.connection)
        .collect();
    assert!(on_h2.iter().all(|e| e.protocol == WireProtocol::H2));
    let sent = sent.0.lock().unwrap().clone();
    assert_eq!(on_h2.len(), 3, "{rep:?}");
    assert_eq!(sent.len(), 3, "the client wrote three request heads");
    let connection = on_h2[0].connection;
    for (i, (e, s)) in on_h2.iter().zip(&sent).enumerate() {
        assert_eq!(e.connection, connection, "one connection");
        assert_eq!(e.index as usize, i);
        assert_eq!(e.stream_id, s.stream_id);
        assert_eq!(e.stream_id, Some(1 + 2 * i as u32));
        assert_eq!(
            (e.method.as_deref(), e.path.as_deref()),
            (Some("GET"), Some("/me"))
        );
        assert_eq!(
            (
                e.header_block_bytes,
                e.frame_payload_bytes,
                e.frame_bytes,
                e.frames
            ),
            (
                s.header_block_bytes,
                s.frame_payload_bytes,
                s.frame_bytes,
                s.frames
            ),
            "the server received what the client wrote"
        );
        assert_eq!(
            e.frame_bytes,
            e.frame_payload_bytes + 9 * u64::from(e.frames)
        );
    }
    // hyper never indexes `authorization`: every request carries the token again
    // (Huffman-coded at best: over 5 bits per base64url character).
    for e in &on_h2 {
        assert!(
            e.header_block_bytes as usize > token.len() * 5 / 8,
            "{} B for a {}-character token",
            e.header_block_bytes,
            token.len()
        );
    }
    // Reading the list is not a request; the reading is listed on its own connection.
    let reads = |r: &HeaderBytesReport| {
        r.entries
            .iter()
            .filter(|e| e.path.as_deref() == Some("/debug/header-bytes"))
            .count()
    };
    let again = rt.block_on(recorded(addr, tls));
    assert_eq!(reads(&again), reads(&rep) + 1, "{again:?}");
    assert_eq!(app.metrics().snapshot().requests, requests_before);
    rt.block_on(server.shutdown());
}

#[test]
fn three_h2c_requests_on_one_connection_are_recorded_as_the_client_sent_them() {
    three_requests_on_one_connection(false);
}

#[test]
fn three_h2_requests_over_tls_are_recorded_as_the_client_sent_them() {
    three_requests_on_one_connection(true);
}

#[tokio::test]
async fn without_the_flag_the_route_is_not_found() {
    let a = app(
        SchemeSpec::Session(StoreSpec::Memory),
        Transport::Cookie,
        Revocation::None,
    );
    assert!(a.header_recorder().is_none());
    let r = send(
        &a,
        Request::get("/debug/header-bytes")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(a.metrics().snapshot().requests, 0);
}
