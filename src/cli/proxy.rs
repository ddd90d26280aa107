//! `tokenbench proxy`: a latency proxy in front of a store, as its own process (so the
//! same command puts distance between hosts). The first stdout line says where it listens;
//! then each line on stdin is a command (`cut`, `restore`, `stats`); it stops at the end
//! of stdin (its parent is gone) or on SIGINT/SIGTERM.

use std::io::{BufRead, Write};
use std::net::{SocketAddr, ToSocketAddrs};
use std::process::ExitCode;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use anyhow::Context;
use clap::Args;
use tokenbench::net::proxy::LatencyProxy;
use tokenbench::units::parse_rtt;

/// Options of `proxy`.
#[derive(Debug, Args)]
pub struct ProxyArgs {
    /// Address to listen on (port 0: any free port; the first stdout line says which).
    #[arg(long, default_value = "127.0.0.1:0")]
    pub listen: SocketAddr,
    /// The server to forward to, HOST:PORT (e.g. a Redis or PostgreSQL server).
    #[arg(long)]
    pub upstream: String,
    /// Round trip added to every exchange, half each way (e.g. 0.5ms, 2ms).
    #[arg(long, value_parser = parse_rtt)]
    pub rtt: Duration,
}

/// Runs the proxy until stdin ends or a signal arrives.
pub fn proxy(a: &ProxyArgs) -> anyhow::Result<ExitCode> {
    let upstream = a
        .upstream
        .to_socket_addrs()
        .with_context(|| format!("--upstream {}", a.upstream))?
        .next()
        .with_context(|| format!("--upstream {}: no address", a.upstream))?;
    let proxy = LatencyProxy::start(a.listen, upstream, a.rtt)
        .with_context(|| format!("listening on {}", a.listen))?;
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "listening on {} (upstream {upstream}, rtt {:?})",
        proxy.addr(),
        proxy.rtt()
    )?;
    out.flush()?;
    let stdin = std::io::stdin();
    for line in stdin.lock().lines() {
        let Ok(line) = line else { break };
        match line.trim() {
            "cut" => proxy.cut(),
            "restore" => proxy.restore(),
            "stats" => {
                let s = proxy.stats();
                writeln!(
                    out,
                    "connections {} refused {} bytes_up {} bytes_down {}",
                    s.connections.load(Relaxed),
                    s.refused.load(Relaxed),
                    s.bytes_up.load(Relaxed),
                    s.bytes_down.load(Relaxed)
                )?;
                out.flush()?;
            }
            "" => {}
            other => eprintln!("tokenbench proxy: unknown command {other:?} (cut, restore, stats)"),
        }
    }
    Ok(ExitCode::SUCCESS)
}
