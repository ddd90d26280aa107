//! A stream that counts the bytes read from and written to it. The server wraps every
//! accepted socket and the generator every connection in one, below TLS, so both count
//! the bytes on the wire.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// Where counted bytes go.
pub trait ByteCounter: Send + Sync + 'static {
    /// `n` bytes were read.
    fn read(&self, n: usize);
    /// `n` bytes were written.
    fn wrote(&self, n: usize);
}

/// A stream that counts the bytes read from and written to it.
#[derive(Debug)]
pub struct CountingStream<S, C> {
    inner: S,
    counter: Arc<C>,
}

impl<S, C> CountingStream<S, C> {
    /// Wraps `inner`, counting into `counter`.
    pub fn new(inner: S, counter: Arc<C>) -> Self {
        CountingStream { inner, counter }
    }
}

impl<S: AsyncRead + Unpin, C: ByteCounter> AsyncRead for CountingStream<S, C> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let r = Pin::new(&mut self.inner).poll_read(cx, buf);
        let n = buf.filled().len().saturating_sub(before);
        if n > 0 {
            self.counter.read(n);
        }
        r
    }
}

impl<S: AsyncWrite + Unpin, C: ByteCounter> AsyncWrite for CountingStream<S, C> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let r = Pin::new(&mut self.inner).poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = &r {
            self.counter.wrote(*n);
        }
        r
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let r = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if let Poll::Ready(Ok(n)) = &r {
            self.counter.wrote(*n);
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[derive(Default)]
    struct Count(AtomicUsize, AtomicUsize);

    impl ByteCounter for Count {
        fn read(&self, n: usize) {
            self.0.fetch_add(n, Relaxed);
        }
        fn wrote(&self, n: usize) {
            self.1.fetch_add(n, Relaxed);
        }
    }

    #[tokio::test]
    async fn counts_both_directions() {
        let (a, mut b) = tokio::io::duplex(64);
        let count = Arc::new(Count::default());
        let mut s = CountingStream::new(a, count.clone());
        s.write_all(b"hello").await.unwrap();
        b.write_all(b"abc").await.unwrap();
        let mut buf = [0u8; 3];
        s.read_exact(&mut buf).await.unwrap();
        assert_eq!((count.0.load(Relaxed), count.1.load(Relaxed)), (3, 5));
    }
}
