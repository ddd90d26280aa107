//! The request header bytes as they arrive, counted exactly: a tap on a connection's
//! plaintext byte stream (above TLS, or the socket itself for h2c and HTTP/1.1) that
//! finds where each request's header section begins and ends, without decoding it.
//!
//! - **HTTP/2** (after the 24-byte connection preface): only the 9-byte frame headers are
//!   parsed (length, type, flags, stream id), plus the first payload byte of a `PADDED`
//!   HEADERS frame (its pad length). Each request's header section is one HEADERS frame
//!   and the CONTINUATION frames up to `END_HEADERS`: [`HeaderBlock`] gives its HPACK block
//!   (the compressed header fields alone), the frames' payloads (the block plus the
//!   padding and priority fields, the `length=` nghttp prints) and the frames whole (each
//!   payload plus its 9-byte frame header). HPACK is never decoded: the sizes are what
//!   the client's encoder made, the dynamic table included. A HEADERS frame on a stream
//!   that already had one (trailers) is not a request head and is not reported.
//! - **HTTP/1.1**: each request head, from the request line to the blank line that ends
//!   the headers (CRLFCRLF included), parsed with `httparse`; its body (`Content-Length`)
//!   is skipped. A chunked body ends the tap for that connection (nothing of ours sends
//!   one; the connection is served as usual, its later heads are not reported).
//!
//! Which protocol a connection speaks is read from its first bytes (the HTTP/2 preface or
//! not), so one tap serves h2c, `h2` by ALPN and HTTP/1.1 alike. A stream that breaks the
//! framing ends the tap, never the connection: the server's own HTTP stack judges it.
//!
//! The same parser taps what a client **writes** ([`TapStream::writes`]), so a test can
//! hold the server's count against what the client sent. The JSON the server serves
//! (`GET /debug/header-bytes`) is [`HeaderBytesReport`].

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use serde::{Deserialize, Serialize};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// The HTTP/2 client connection preface (RFC 9113 §3.4).
pub const H2_PREFACE: &[u8; 24] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// Bytes of an HTTP/2 frame header.
pub const FRAME_HEADER_BYTES: u64 = 9;

/// Largest HTTP/1.1 request head the tap buffers (beyond it the tap stops; the server's
/// own limit, `--max-header-bytes`, is at most 1 MiB).
pub const MAX_H1_HEAD_BYTES: usize = 1024 * 1024 + 4096;

/// Version of the `GET /debug/header-bytes` JSON.
pub const HEADER_BYTES_SCHEMA_VERSION: u32 = 1;

const HEADERS: u8 = 0x1;
const CONTINUATION: u8 = 0x9;
const END_HEADERS: u8 = 0x4;
const PADDED: u8 = 0x8;
const PRIORITY: u8 = 0x20;

/// The protocol a connection spoke.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum WireProtocol {
    /// HTTP/2 (h2c or `h2` over TLS).
    #[serde(rename = "h2")]
    H2,
    /// HTTP/1.1.
    #[serde(rename = "http/1.1")]
    Http1,
}

impl WireProtocol {
    /// `h2` or `http/1.1`.
    pub fn name(self) -> &'static str {
        match self {
            WireProtocol::H2 => "h2",
            WireProtocol::Http1 => "http/1.1",
        }
    }
}

/// One request's header section as it crossed the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderBlock {
    /// The protocol.
    pub protocol: WireProtocol,
    /// HTTP/2: the stream. HTTP/1.1: none.
    pub stream_id: Option<u32>,
    /// HTTP/1.1: the method of the request line (HTTP/2: `None`, the tap decodes nothing).
    pub method: Option<String>,
    /// HTTP/1.1: the path of the request target, query left out (HTTP/2: `None`).
    pub path: Option<String>,
    /// HTTP/2: the HPACK block (HEADERS and CONTINUATION fragments, without the padding
    /// and priority fields). HTTP/1.1: the request head, request line to CRLFCRLF.
    pub header_block_bytes: u64,
    /// HTTP/2: the frames' payloads (the block plus padding and priority fields: the
    /// `length=` of nghttp's log, summed). HTTP/1.1: the head.
    pub frame_payload_bytes: u64,
    /// HTTP/2: the frames whole, each payload plus its 9-byte frame header.
    /// HTTP/1.1: the head.
    pub frame_bytes: u64,
    /// HTTP/2: HEADERS plus CONTINUATION frames. HTTP/1.1: 0.
    pub frames: u32,
}

/// Where a tap puts what it found.
pub trait BlockSink: Send + Sync + 'static {
    /// A request's header section ended.
    fn block(&self, block: HeaderBlock);
    /// The connection's protocol is known (called once, before any block).
    fn protocol(&self, protocol: WireProtocol) {
        let _ = protocol;
    }
}

/// A request head being read on an HTTP/2 connection.
#[derive(Debug, Clone, Copy)]
struct OpenBlock {
    stream_id: u32,
    block: u64,
    payload: u64,
    frames: u32,
    /// A HEADERS frame on a stream that already had one: trailers, not reported.
    trailers: bool,
}

/// The frame whose payload is being read.
#[derive(Debug, Clone, Copy)]
struct Frame {
    kind: u8,
    flags: u8,
    length: u32,
    /// Payload bytes not yet read.
    remaining: u32,
}

#[derive(Debug)]
enum Mode {
    /// Reading the first bytes: the HTTP/2 preface, or not.
    Start(Vec<u8>),
    H2 {
        header: Vec<u8>,
        frame: Option<Frame>,
        open: Option<OpenBlock>,
        /// The highest stream whose request head was seen (client streams only grow).
        last_stream: u32,
    },
    H1 {
        head: Vec<u8>,
        /// Body bytes still to skip.
        body: u64,
    },
    /// The framing broke (or a chunked body came): nothing more is reported.
    Stopped,
}

/// The parser: feed it a connection's bytes in order, in pieces of any size.
#[derive(Debug)]
pub struct HeaderTap<K> {
    mode: Mode,
    sink: Arc<K>,
}

impl<K: BlockSink> HeaderTap<K> {
    /// A tap at the start of a connection, reporting to `sink`.
    pub fn new(sink: Arc<K>) -> HeaderTap<K> {
        HeaderTap {
            mode: Mode::Start(Vec::with_capacity(H2_PREFACE.len())),
            sink,
        }
    }

    /// True once the tap has stopped (broken framing or a chunked body).
    pub fn stopped(&self) -> bool {
        matches!(self.mode, Mode::Stopped)
    }

    /// The next bytes of the connection.
    pub fn feed(&mut self, mut bytes: &[u8]) {
        while !bytes.is_empty() {
            let used = match &mut self.mode {
                Mode::Stopped => return,
                Mode::Start(seen) => {
                    let want = H2_PREFACE.len() - seen.len();
                    let take = want.min(bytes.len());
                    seen.extend_from_slice(&bytes[..take]);
                    if !H2_PREFACE.starts_with(seen) {
                        // Not HTTP/2: everything seen so far is the first HTTP/1.1 head.
                        let head = std::mem::take(seen);
                        self.sink.protocol(WireProtocol::Http1);
                        self.mode = Mode::H1 {
                            head: Vec::new(),
                            body: 0,
                        };
                        self.feed_h1(&head);
                    } else if seen.len() == H2_PREFACE.len() {
                        self.sink.protocol(WireProtocol::H2);
                        self.mode = Mode::H2 {
                            header: Vec::with_capacity(9),
                            frame: None,
                            open: None,
                            last_stream: 0,
                        };
                    }
                    take
                }
                Mode::H2 { .. } => self.feed_h2(bytes),
                Mode::H1 { .. } => {
                    self.feed_h1(bytes);
                    bytes.len()
                }
            };
            bytes = &bytes[used..];
        }
    }

    /// Consumes HTTP/2 bytes up to the end of the current frame header or payload;
    /// returns how many it used.
    fn feed_h2(&mut self, bytes: &[u8]) -> usize {
        let Mode::H2 {
            header,
            frame,
            open,
            last_stream,
        } = &mut self.mode
        else {
            return bytes.len();
        };
        let Some(f) = frame else {
            let take = (9 - header.len()).min(bytes.len());
            header.extend_from_slice(&bytes[..take]);
            if header.len() < 9 {
                return take;
            }
            let h = std::mem::take(header);
            let length = u32::from_be_bytes([0, h[0], h[1], h[2]]);
            let (kind, flags) = (h[3], h[4]);
            let stream_id = u32::from_be_bytes([h[5], h[6], h[7], h[8]]) & 0x7fff_ffff;
            let f = Frame {
                kind,
                flags,
                length,
                remaining: length,
            };
            // A header block may be interrupted by nothing but its own CONTINUATION.
            let broken = match (kind, &open) {
                (CONTINUATION, Some(o)) => o.stream_id != stream_id,
                (CONTINUATION, None) => true,
                (_, Some(_)) => true,
                (HEADERS, None) => stream_id == 0,
                _ => false,
            };
            if broken {
                self.mode = Mode::Stopped;
                return take;
            }
            match kind {
                HEADERS => {
                    let trailers = stream_id <= *last_stream;
                    if !trailers {
                        *last_stream = stream_id;
                    }
                    let mut fixed = if flags & PRIORITY != 0 { 5 } else { 0 };
                    if flags & PADDED != 0 {
                        fixed += 1; // the pad length byte; the padding once it is read
                    }
                    *open = Some(OpenBlock {
                        stream_id,
                        block: u64::from(length).saturating_sub(fixed),
                        payload: 0,
                        frames: 0,
                        trailers,
                    });
                }
                CONTINUATION => {
                    if let Some(o) = open.as_mut() {
                        o.block += u64::from(length);
                    }
                }
                _ => {}
            }
            *frame = Some(f);
            if length == 0 {
                self.end_frame();
            }
            return take;
        };
        let take = (f.remaining as usize).min(bytes.len());
        if f.kind == HEADERS && f.flags & PADDED != 0 && f.remaining == f.length && take > 0 {
            let pad = u64::from(bytes[0]);
            if let Some(o) = open.as_mut() {
                o.block = o.block.saturating_sub(pad);
            }
        }
        f.remaining -= take as u32;
        if f.remaining == 0 {
            self.end_frame();
        }
        take
    }

    /// The current frame's payload is read: count it, and report a header block that
    /// ended with it.
    fn end_frame(&mut self) {
        let Mode::H2 { frame, open, .. } = &mut self.mode else {
            return;
        };
        let Some(f) = frame.take() else {
            return;
        };
        if !matches!(f.kind, HEADERS | CONTINUATION) {
            return;
        }
        let Some(o) = open.as_mut() else {
            return;
        };
        o.payload += u64::from(f.length);
        o.frames += 1;
        if f.flags & END_HEADERS == 0 {
            return;
        }
        let done = *o;
        *open = None;
        if done.trailers {
            return;
        }
        self.sink.block(HeaderBlock {
            protocol: WireProtocol::H2,
            stream_id: Some(done.stream_id),
            method: None,
            path: None,
            header_block_bytes: done.block,
            frame_payload_bytes: done.payload,
            frame_bytes: done.payload + FRAME_HEADER_BYTES * u64::from(done.frames),
            frames: done.frames,
        });
    }

    /// HTTP/1.1 bytes: skip a body, gather a head, report it when complete.
    fn feed_h1(&mut self, mut bytes: &[u8]) {
        loop {
            let Mode::H1 { head, body } = &mut self.mode else {
                return;
            };
            if *body > 0 {
                let skip = (*body).min(bytes.len() as u64) as usize;
                *body -= skip as u64;
                bytes = &bytes[skip..];
            }
            if bytes.is_empty() {
                return;
            }
            let before = head.len();
            head.extend_from_slice(bytes);
            let mut fields = [httparse::EMPTY_HEADER; 128];
            let mut req = httparse::Request::new(&mut fields);
            let n = match req.parse(head) {
                Ok(httparse::Status::Complete(n)) => n,
                Ok(httparse::Status::Partial) if head.len() <= MAX_H1_HEAD_BYTES => return,
                _ => {
                    self.mode = Mode::Stopped;
                    return;
                }
            };
            let mut length = 0u64;
            let mut chunked = false;
            for h in req.headers.iter() {
                if h.name.eq_ignore_ascii_case("transfer-encoding") {
                    chunked = true;
                } else if h.name.eq_ignore_ascii_case("content-length") {
                    let Some(v) = std::str::from_utf8(h.value)
                        .ok()
                        .and_then(|v| v.trim().parse::<u64>().ok())
                    else {
                        self.mode = Mode::Stopped;
                        return;
                    };
                    length = v;
                }
            }
            let method = req.method.map(str::to_owned);
            let path = req
                .path
                .map(|p| p.split(['?', '#']).next().unwrap_or("").to_owned());
            self.sink.block(HeaderBlock {
                protocol: WireProtocol::Http1,
                stream_id: None,
                method,
                path,
                header_block_bytes: n as u64,
                frame_payload_bytes: n as u64,
                frame_bytes: n as u64,
                frames: 0,
            });
            if chunked {
                self.mode = Mode::Stopped;
                return;
            }
            // What followed the head in this read: its body, then the next request.
            let used = n.saturating_sub(before);
            bytes = &bytes[used.min(bytes.len())..];
            head.clear();
            *body = length;
        }
    }
}

/// A stream whose reads (a server's view) or writes (a client's) go through a
/// [`HeaderTap`] on their way.
#[derive(Debug)]
pub struct TapStream<S, K> {
    inner: S,
    reads: Option<HeaderTap<K>>,
    writes: Option<HeaderTap<K>>,
}

impl<S, K: BlockSink> TapStream<S, K> {
    /// Taps what is read from `inner` (the requests a server receives).
    pub fn reads(inner: S, sink: Arc<K>) -> Self {
        TapStream {
            inner,
            reads: Some(HeaderTap::new(sink)),
            writes: None,
        }
    }

    /// Taps what is written to `inner` (the requests a client sends).
    pub fn writes(inner: S, sink: Arc<K>) -> Self {
        TapStream {
            inner,
            reads: None,
            writes: Some(HeaderTap::new(sink)),
        }
    }

    /// The wrapped stream.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }
}

impl<S: AsyncRead + Unpin, K: BlockSink> AsyncRead for TapStream<S, K> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let r = Pin::new(&mut self.inner).poll_read(cx, buf);
        if let Some(tap) = self.reads.as_mut() {
            tap.feed(&buf.filled()[before..]);
        }
        r
    }
}

impl<S: AsyncWrite + Unpin, K: BlockSink> AsyncWrite for TapStream<S, K> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let r = Pin::new(&mut self.inner).poll_write(cx, buf);
        if let (Poll::Ready(Ok(n)), Some(tap)) = (&r, self.writes.as_mut()) {
            tap.feed(&buf[..(*n).min(buf.len())]);
        }
        r
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let r = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if let (Poll::Ready(Ok(n)), Some(tap)) = (&r, self.writes.as_mut()) {
            let mut left = *n;
            for b in bufs {
                let take = left.min(b.len());
                tap.feed(&b[..take]);
                left -= take;
                if left == 0 {
                    break;
                }
            }
        }
        r
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// The JSON of `GET /debug/header-bytes`: every request head the server received since it
/// started, connection by connection, in arrival order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeaderBytesReport {
    /// [`HEADER_BYTES_SCHEMA_VERSION`].
    pub schema_version: u32,
    /// The request heads.
    pub entries: Vec<HeaderBytesEntry>,
    /// Connections, heads and requests not recorded because the recorder was full (its
    /// memory is bounded); a connection that lost any has `method` and `path` unknown.
    pub dropped: u64,
}

/// One request head in `GET /debug/header-bytes`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeaderBytesEntry {
    /// The connection, numbered from 1 in the order the server accepted them (counting
    /// those the recorder had no room for).
    pub connection: u64,
    /// `h2` or `http/1.1`.
    pub protocol: WireProtocol,
    /// HTTP/2: the stream id. HTTP/1.1: `null`.
    pub stream_id: Option<u32>,
    /// The request's place on its connection, from 0.
    pub index: u32,
    /// The method; `null` when it cannot be told exactly (HTTP/2: a stream the server's
    /// HTTP stack refused before handling it, so heads and handled requests no longer
    /// pair one to one on that connection).
    pub method: Option<String>,
    /// The path, without the query; `null` as `method`.
    pub path: Option<String>,
    /// HTTP/2: the HPACK block. HTTP/1.1: the request head (request line to CRLFCRLF).
    pub header_block_bytes: u64,
    /// HTTP/2: the HEADERS and CONTINUATION payloads (block, padding, priority fields).
    pub frame_payload_bytes: u64,
    /// HTTP/2: the payloads plus 9 bytes of frame header per frame.
    pub frame_bytes: u64,
    /// HTTP/2: HEADERS plus CONTINUATION frames; HTTP/1.1: 0.
    pub frames: u32,
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[derive(Default)]
    struct Blocks(Mutex<Vec<HeaderBlock>>, Mutex<Option<WireProtocol>>);

    impl BlockSink for Blocks {
        fn block(&self, b: HeaderBlock) {
            self.0.lock().unwrap().push(b);
        }
        fn protocol(&self, p: WireProtocol) {
            *self.1.lock().unwrap() = Some(p);
        }
    }

    fn frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
        let len = (payload.len() as u32).to_be_bytes();
        let mut v = vec![len[1], len[2], len[3], kind, flags];
        v.extend_from_slice(&stream.to_be_bytes());
        v.extend_from_slice(payload);
        v
    }

    /// Feeds `bytes` whole and one byte at a time: both must give the same blocks.
    fn tap(bytes: &[u8]) -> (Vec<HeaderBlock>, Option<WireProtocol>, bool) {
        let whole = Arc::new(Blocks::default());
        let mut t = HeaderTap::new(whole.clone());
        t.feed(bytes);
        let bytewise = Arc::new(Blocks::default());
        let mut u = HeaderTap::new(bytewise.clone());
        for b in bytes {
            u.feed(std::slice::from_ref(b));
        }
        let blocks = whole.0.lock().unwrap().clone();
        assert_eq!(blocks, *bytewise.0.lock().unwrap());
        assert_eq!(t.stopped(), u.stopped());
        let p = *whole.1.lock().unwrap();
        (blocks, p, t.stopped())
    }

    #[test]
    fn h2_heads_are_counted_frame_by_frame_with_padding_priority_and_continuation() {
        let mut c = H2_PREFACE.to_vec();
        c.extend(frame(0x4, 0, 0, &[0, 3, 0, 0, 0, 100])); // SETTINGS
        c.extend(frame(HEADERS, END_HEADERS | 0x1, 1, &[0x82; 20]));
        // Padded (pad length 3) and with priority: block = 30 - 1 - 3 - 5 = 21.
        let mut p = vec![3u8, 0, 0, 0, 1, 16];
        p.extend([0x82; 21]);
        p.extend([0; 3]);
        c.extend(frame(HEADERS, PADDED | PRIORITY, 3, &p));
        c.extend(frame(CONTINUATION, 0, 3, &[0x84; 7]));
        c.extend(frame(CONTINUATION, END_HEADERS, 3, &[0x84; 2]));
        c.extend(frame(0x0, 0x1, 3, &[1, 2, 3, 4])); // DATA
        c.extend(frame(HEADERS, END_HEADERS | 0x1, 3, &[0x85; 4])); // trailers
        c.extend(frame(0x8, 0, 0, &[0, 0, 1, 0])); // WINDOW_UPDATE
        c.extend(frame(HEADERS, END_HEADERS, 5, &[]));
        let (blocks, protocol, stopped) = tap(&c);
        assert_eq!(protocol, Some(WireProtocol::H2));
        assert!(!stopped);
        let got: Vec<_> = blocks
            .iter()
            .map(|b| {
                (
                    b.stream_id,
                    b.header_block_bytes,
                    b.frame_payload_bytes,
                    b.frame_bytes,
                    b.frames,
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                (Some(1), 20, 20, 29, 1),
                (Some(3), 21 + 7 + 2, 30 + 7 + 2, 39 + 27, 3),
                (Some(5), 0, 0, 9, 1),
            ]
        );
    }

    #[test]
    fn broken_h2_framing_stops_the_tap() {
        let mut c = H2_PREFACE.to_vec();
        c.extend(frame(HEADERS, 0, 1, &[0x82; 3]));
        c.extend(frame(0x0, 0, 1, &[1])); // DATA inside a header block
        c.extend(frame(HEADERS, END_HEADERS, 3, &[0x82; 3]));
        let (blocks, _, stopped) = tap(&c);
        assert!(stopped && blocks.is_empty(), "{blocks:?}");
        let mut c = H2_PREFACE.to_vec();
        c.extend(frame(CONTINUATION, END_HEADERS, 1, &[0x82; 3]));
        assert!(tap(&c).2);
    }

    #[test]
    fn h1_heads_are_counted_and_bodies_skipped() {
        let first = "POST /login?next=/me HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n";
        let second = "GET /me HTTP/1.1\r\nHost: a\r\nCookie: x=1\r\n\r\n";
        let c = format!("{first}ab\r\n\r{second}");
        let (blocks, protocol, stopped) = tap(c.as_bytes());
        assert_eq!(protocol, Some(WireProtocol::Http1));
        assert!(!stopped);
        let got: Vec<_> = blocks
            .iter()
            .map(|b| {
                (
                    b.method.as_deref(),
                    b.path.as_deref(),
                    b.header_block_bytes,
                    b.stream_id,
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                (Some("POST"), Some("/login"), first.len() as u64, None),
                (Some("GET"), Some("/me"), second.len() as u64, None),
            ]
        );
        let chunked = "POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\n\r\n";
        let (blocks, _, stopped) = tap(chunked.as_bytes());
        assert!(stopped && blocks.len() == 1);
        let (blocks, _, stopped) = tap(b"GET / HTTP/1.1\r\nBad Header\r\n\r\n");
        assert!(stopped && blocks.is_empty());
    }

    #[tokio::test]
    async fn a_client_side_tap_sees_what_is_written() {
        use tokio::io::AsyncWriteExt;
        let (a, _b) = tokio::io::duplex(4096);
        let sink = Arc::new(Blocks::default());
        let mut s = TapStream::writes(a, sink.clone());
        let mut c = H2_PREFACE.to_vec();
        c.extend(frame(HEADERS, END_HEADERS, 1, &[0x82; 11]));
        s.write_all(&c).await.unwrap();
        let blocks = sink.0.lock().unwrap().clone();
        assert_eq!(blocks.len(), 1);
        assert_eq!(blocks[0].frame_bytes, 20);
    }
}
