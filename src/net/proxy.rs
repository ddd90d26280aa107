//! A user-space latency proxy: the network distance `tc qdisc … netem` would add, on a
//! kernel that has no netem. It forwards TCP between clients and one upstream (a Redis or
//! PostgreSQL server) and delays every chunk by half the round trip in each direction,
//! **counted from the chunk's arrival**, as Toxiproxy's latency toxic does since its PR #47:
//! chunks that arrive back to back leave back to back, so a pipelined connection sees one
//! round trip added, not one per chunk (a proxy that sleeps per chunk in sequence would
//! accumulate them).
//!
//! Each direction of a connection is two threads: a reader that stamps each chunk with its
//! due time, and a writer that sleeps until then (with the thread's timer slack at 1 ns, so
//! a sleep ends within tens of microseconds of its due time rather than 50 µs late) and
//! writes it. [`LatencyProxy::cut`] severs every connection and refuses new ones until
//! [`LatencyProxy::restore`]: a store that went away, as the workloads' fault trials need.

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::Ordering::{Relaxed, SeqCst};
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// Largest chunk read at once.
const CHUNK: usize = 64 * 1024;

/// Chunks in flight per direction before the reader waits (back-pressure: a slow writer
/// slows its reader instead of buffering without bound).
const IN_FLIGHT: usize = 1024;

/// How long connecting to the upstream may take before the client is refused.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// What a proxy counts about itself.
#[derive(Debug, Default)]
pub struct ProxyStats {
    /// Client connections forwarded to the upstream.
    pub connections: AtomicU64,
    /// Client connections closed at once (cut, or the upstream unreachable).
    pub refused: AtomicU64,
    /// Bytes forwarded from clients to the upstream.
    pub bytes_up: AtomicU64,
    /// Bytes forwarded from the upstream to clients.
    pub bytes_down: AtomicU64,
}

struct Shared {
    upstream: SocketAddr,
    one_way: Duration,
    cut: AtomicBool,
    stop: AtomicBool,
    /// Both sockets of every open connection, by id, to sever them on cut or stop.
    open: Mutex<HashMap<u64, (TcpStream, TcpStream)>>,
    next_id: AtomicU64,
    stats: ProxyStats,
}

impl Shared {
    fn sever_all(&self) {
        let open = std::mem::take(&mut *self.open.lock().unwrap_or_else(|p| p.into_inner()));
        for (a, b) in open.into_values() {
            let _ = a.shutdown(Shutdown::Both);
            let _ = b.shutdown(Shutdown::Both);
        }
    }
}

/// A running latency proxy. Dropping it stops it (every connection severed).
pub struct LatencyProxy {
    addr: SocketAddr,
    shared: Arc<Shared>,
    accept: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for LatencyProxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LatencyProxy")
            .field("addr", &self.addr)
            .field("upstream", &self.shared.upstream)
            .field("rtt", &self.rtt())
            .finish_non_exhaustive()
    }
}

impl LatencyProxy {
    /// Listens on `listen` (port 0: any free port) and forwards to `upstream`, adding
    /// `rtt` to every round trip (half each way).
    pub fn start(listen: SocketAddr, upstream: SocketAddr, rtt: Duration) -> io::Result<Self> {
        let listener = TcpListener::bind(listen)?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            upstream,
            one_way: rtt / 2,
            cut: AtomicBool::new(false),
            stop: AtomicBool::new(false),
            open: Mutex::new(HashMap::new()),
            next_id: AtomicU64::new(0),
            stats: ProxyStats::default(),
        });
        let s = shared.clone();
        let accept = thread::Builder::new()
            .name("proxy-accept".into())
            .spawn(move || accept_loop(&listener, &s))?;
        Ok(LatencyProxy {
            addr,
            shared,
            accept: Some(accept),
        })
    }

    /// The address clients connect to.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The upstream it forwards to.
    pub fn upstream(&self) -> SocketAddr {
        self.shared.upstream
    }

    /// The round trip it adds.
    pub fn rtt(&self) -> Duration {
        self.shared.one_way * 2
    }

    /// Its counters.
    pub fn stats(&self) -> &ProxyStats {
        &self.shared.stats
    }

    /// Severs every connection and refuses new ones until [`restore`](Self::restore): the
    /// store is unreachable, as after a network partition.
    pub fn cut(&self) {
        self.shared.cut.store(true, SeqCst);
        self.shared.sever_all();
    }

    /// Accepts and forwards connections again after a [`cut`](Self::cut).
    pub fn restore(&self) {
        self.shared.cut.store(false, SeqCst);
    }

    /// True while cut.
    pub fn is_cut(&self) -> bool {
        self.shared.cut.load(SeqCst)
    }
}

impl Drop for LatencyProxy {
    fn drop(&mut self) {
        self.shared.stop.store(true, SeqCst);
        // Wake the accept loop with a connection of our own.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_millis(200));
        if let Some(t) = self.accept.take() {
            let _ = t.join();
        }
        self.shared.sever_all();
    }
}

fn accept_loop(listener: &TcpListener, shared: &Arc<Shared>) {
    for client in listener.incoming() {
        if shared.stop.load(SeqCst) {
            return;
        }
        let Ok(client) = client else { continue };
        if shared.cut.load(SeqCst) {
            shared.stats.refused.fetch_add(1, Relaxed);
            let _ = client.shutdown(Shutdown::Both);
            continue;
        }
        let Ok(upstream) = TcpStream::connect_timeout(&shared.upstream, CONNECT_TIMEOUT) else {
            shared.stats.refused.fetch_add(1, Relaxed);
            let _ = client.shutdown(Shutdown::Both);
            continue;
        };
        if forward(client, upstream, shared).is_err() {
            shared.stats.refused.fetch_add(1, Relaxed);
        }
    }
}

/// Starts both directions of one connection.
fn forward(client: TcpStream, upstream: TcpStream, shared: &Arc<Shared>) -> io::Result<()> {
    // Chunks are small and latency is the point: no Nagle delay on either side.
    client.set_nodelay(true)?;
    upstream.set_nodelay(true)?;
    let id = shared.next_id.fetch_add(1, Relaxed);
    shared
        .open
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(id, (client.try_clone()?, upstream.try_clone()?));
    shared.stats.connections.fetch_add(1, Relaxed);
    // The last direction to end forgets the connection.
    let live = Arc::new(AtomicU8::new(2));
    let done = {
        let (s, live) = (shared.clone(), live.clone());
        move || {
            if live.fetch_sub(1, SeqCst) == 1 {
                s.open.lock().unwrap_or_else(|p| p.into_inner()).remove(&id);
            }
        }
    };
    pump(
        client.try_clone()?,
        upstream.try_clone()?,
        shared,
        true,
        done.clone(),
    )?;
    pump(upstream, client, shared, false, done)?;
    Ok(())
}

/// One direction: a reader stamping chunks with their due time, a writer sending each at
/// its due time.
fn pump(
    mut from: TcpStream,
    mut to: TcpStream,
    shared: &Arc<Shared>,
    up: bool,
    done: impl FnOnce() + Send + 'static,
) -> io::Result<()> {
    let (tx, rx) = mpsc::sync_channel::<(Instant, Vec<u8>)>(IN_FLIGHT);
    let one_way = shared.one_way;
    let s = shared.clone();
    thread::Builder::new()
        .name("proxy-read".into())
        .spawn(move || {
            let mut buf = vec![0u8; CHUNK];
            let stamped = enable_rx_timestamps(&from);
            loop {
                let (n, arrived) = if stamped {
                    match read_stamped(&from, &mut buf) {
                        Ok((0, _)) | Err(_) => break,
                        Ok(x) => x,
                    }
                } else {
                    match from.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => (n, Instant::now()),
                    }
                };
                let counter = if up {
                    &s.stats.bytes_up
                } else {
                    &s.stats.bytes_down
                };
                counter.fetch_add(n as u64, Relaxed);
                if tx.send((arrived + one_way, buf[..n].to_vec())).is_err() {
                    break;
                }
            }
            // Dropping the sender tells the writer the stream ended.
        })?;
    thread::Builder::new()
        .name("proxy-write".into())
        .spawn(move || {
            fine_timer_slack();
            let mut failed = false;
            while let Ok((due, chunk)) = rx.recv() {
                sleep_until(due);
                if to.write_all(&chunk).is_err() {
                    failed = true;
                    break;
                }
            }
            // The reader saw the end (or an error): pass the half-close on; after a failed
            // write, close both ways.
            let _ = to.shutdown(if failed {
                Shutdown::Both
            } else {
                Shutdown::Write
            });
            done();
        })?;
    Ok(())
}

/// The last stretch of a wait spent spinning instead of sleeping: a woken thread can be
/// tens of microseconds late, a spinning one is not.
const SPIN: Duration = Duration::from_micros(40);

/// Sleeps until `due` (which may already be past), the last [`SPIN`] of it spinning.
fn sleep_until(due: Instant) {
    let now = Instant::now();
    if due > now + SPIN {
        thread::sleep(due - now - SPIN);
    }
    while Instant::now() < due {
        std::hint::spin_loop();
    }
}

/// Asks the kernel to stamp each received segment with its arrival time
/// (`SO_TIMESTAMPNS`); false where it cannot (then arrival is when the reader woke).
fn enable_rx_timestamps(s: &TcpStream) -> bool {
    use std::os::fd::AsRawFd;
    let on: libc::c_int = 1;
    // SAFETY: setsockopt reads one c_int from a valid pointer of the given length.
    unsafe {
        libc::setsockopt(
            s.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_TIMESTAMPNS,
            (&on as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        ) == 0
    }
}

/// Reads into `buf` with `recvmsg`; the bytes read and when the kernel received them (the
/// reader's own wake-up latency is not counted in the delay), or now when the kernel gave
/// no stamp.
fn read_stamped(s: &TcpStream, buf: &mut [u8]) -> io::Result<(usize, Instant)> {
    use std::os::fd::AsRawFd;
    let mut iov = libc::iovec {
        iov_base: buf.as_mut_ptr().cast(),
        iov_len: buf.len(),
    };
    // Room for one SCM_TIMESTAMPNS (a timespec) and its header, aligned.
    let mut control = [0u64; 8];
    // SAFETY: a zeroed msghdr is valid; every pointer set below outlives the call, with
    // the lengths of the buffers it points to.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.as_mut_ptr().cast();
    msg.msg_controllen = std::mem::size_of_val(&control) as _;
    let n = loop {
        // SAFETY: msg describes valid buffers (above).
        let n = unsafe { libc::recvmsg(s.as_raw_fd(), &mut msg, 0) };
        if n >= 0 {
            break n as usize;
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    };
    let now = Instant::now();
    // SAFETY: the CMSG macros walk the control buffer the kernel filled, within
    // msg_controllen; the timespec is read unaligned.
    let stamp = unsafe {
        let mut c = libc::CMSG_FIRSTHDR(&msg);
        let mut found = None;
        while !c.is_null() {
            if (*c).cmsg_level == libc::SOL_SOCKET && (*c).cmsg_type == libc::SCM_TIMESTAMPNS {
                found = Some(std::ptr::read_unaligned(
                    libc::CMSG_DATA(c).cast::<libc::timespec>(),
                ));
            }
            c = libc::CMSG_NXTHDR(&msg, c);
        }
        found
    };
    let arrived = stamp
        .and_then(|ts| {
            // The stamp is on the real-time clock: its age, taken from Instant::now().
            let real = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .ok()?;
            let then = Duration::new(
                u64::try_from(ts.tv_sec).ok()?,
                u32::try_from(ts.tv_nsec).ok()?,
            );
            // A stamp from the future (a clock step) or far past is not trusted.
            let age = real
                .checked_sub(then)
                .filter(|a| *a < Duration::from_secs(1))?;
            now.checked_sub(age)
        })
        .unwrap_or(now);
    Ok((n, arrived))
}

/// Asks the kernel to end this thread's sleeps on time (timer slack 1 ns instead of the
/// default 50 µs), so that a 250 µs delay is not a 300 µs one.
fn fine_timer_slack() {
    // SAFETY: PR_SET_TIMERSLACK takes one integer argument and changes only the calling
    // thread's timer slack; it reads and writes no memory of ours.
    unsafe {
        libc::prctl(libc::PR_SET_TIMERSLACK, 1 as libc::c_ulong, 0, 0, 0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An upstream that echoes every byte back.
    fn echo_server() -> SocketAddr {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        thread::spawn(move || {
            for s in l.incoming().flatten() {
                thread::spawn(move || {
                    let mut r = s.try_clone().unwrap();
                    let mut w = s;
                    let _ = io::copy(&mut r, &mut w);
                });
            }
        });
        addr
    }

    fn round_trip(s: &mut TcpStream, msg: &[u8]) -> Duration {
        let t0 = Instant::now();
        s.write_all(msg).unwrap();
        let mut got = vec![0u8; msg.len()];
        s.read_exact(&mut got).unwrap();
        assert_eq!(got, msg);
        t0.elapsed()
    }

    #[test]
    fn every_round_trip_gets_the_configured_delay() {
        let rtt = Duration::from_millis(20);
        let proxy =
            LatencyProxy::start("127.0.0.1:0".parse().unwrap(), echo_server(), rtt).unwrap();
        let mut s = TcpStream::connect(proxy.addr()).unwrap();
        s.set_nodelay(true).unwrap();
        for _ in 0..5 {
            let took = round_trip(&mut s, b"PING\r\n");
            // Never early; the upper bound is generous for a loaded test machine.
            assert!(took >= rtt, "{took:?}");
            assert!(took < rtt * 5, "{took:?}");
        }
        assert_eq!(proxy.stats().connections.load(Relaxed), 1);
        assert_eq!(proxy.stats().bytes_up.load(Relaxed), 30);
    }

    #[test]
    fn pipelined_chunks_do_not_accumulate_delay() {
        // Ten writes 2 ms apart through a 40 ms round trip: each echo is due 40 ms after
        // its own write, so the last arrives about 18 + 40 ms after the first write, not
        // 10 x 40 ms (a proxy sleeping per chunk in sequence would take 400 ms).
        let rtt = Duration::from_millis(40);
        let proxy =
            LatencyProxy::start("127.0.0.1:0".parse().unwrap(), echo_server(), rtt).unwrap();
        let s = TcpStream::connect(proxy.addr()).unwrap();
        s.set_nodelay(true).unwrap();
        let mut w = s.try_clone().unwrap();
        let t0 = Instant::now();
        let writer = thread::spawn(move || {
            for i in 0..10u8 {
                w.write_all(&[b'0' + i]).unwrap();
                thread::sleep(Duration::from_millis(2));
            }
        });
        let mut r = s;
        let mut got = [0u8; 10];
        r.read_exact(&mut got).unwrap();
        let took = t0.elapsed();
        writer.join().unwrap();
        assert_eq!(&got, b"0123456789");
        assert!(took >= rtt, "{took:?}");
        assert!(took < rtt * 4, "delay accumulated: {took:?}");
    }

    #[test]
    fn a_cut_severs_connections_and_refuses_new_ones_until_restored() {
        let proxy = LatencyProxy::start(
            "127.0.0.1:0".parse().unwrap(),
            echo_server(),
            Duration::ZERO,
        )
        .unwrap();
        let mut s = TcpStream::connect(proxy.addr()).unwrap();
        round_trip(&mut s, b"x");
        proxy.cut();
        assert!(proxy.is_cut());
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let _ = s.write_all(b"y");
        let mut buf = [0u8; 1];
        // Severed: end of stream or an error, never the echo.
        assert!(matches!(s.read(&mut buf), Ok(0) | Err(_)));
        let mut fresh = TcpStream::connect(proxy.addr()).unwrap();
        fresh
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let _ = fresh.write_all(b"z");
        assert!(matches!(fresh.read(&mut buf), Ok(0) | Err(_)));
        assert!(proxy.stats().refused.load(Relaxed) >= 1);
        proxy.restore();
        let mut again = TcpStream::connect(proxy.addr()).unwrap();
        round_trip(&mut again, b"back");
    }

    #[test]
    fn closed_connections_are_forgotten() {
        let proxy = LatencyProxy::start(
            "127.0.0.1:0".parse().unwrap(),
            echo_server(),
            Duration::ZERO,
        )
        .unwrap();
        for _ in 0..3 {
            let mut s = TcpStream::connect(proxy.addr()).unwrap();
            round_trip(&mut s, b"x");
        }
        let open = || proxy.shared.open.lock().unwrap().len();
        let t0 = Instant::now();
        while open() > 0 && t0.elapsed() < Duration::from_secs(5) {
            thread::sleep(Duration::from_millis(5));
        }
        assert_eq!(open(), 0);
    }

    #[test]
    fn an_unreachable_upstream_closes_the_client() {
        // A port nobody listens on: bind one, note it, close it.
        let dead = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        let proxy =
            LatencyProxy::start("127.0.0.1:0".parse().unwrap(), dead, Duration::ZERO).unwrap();
        let mut s = TcpStream::connect(proxy.addr()).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut buf = [0u8; 1];
        assert!(matches!(s.read(&mut buf), Ok(0) | Err(_)));
    }
}
