//! A site of K validator nodes for the node runs: `tokenbench serve --site NAME --key-dir
//! DIR` children, each on its own loopback address (127.0.0.2, 127.0.0.3…) and cores,
//! sharing one store; and [`ChildProxy`], a `tokenbench proxy` child that puts a round trip
//! between the nodes and that store. Dropping either stops its processes; a [`Site`] also
//! removes its records from the store and its key directory.

use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::time::Duration;

use crate::http::child::{ChildServer, START_TIMEOUT, serve_args};
use crate::http::{Revocation, site};
use crate::net::Transport;
use crate::scheme::spec::{SchemeSpec, StoreSpec};

use super::other;
use crate::workload::WorkloadResult;

/// What a site serves and how its nodes revoke.
#[derive(Debug, Clone)]
pub struct SiteSpec {
    /// The scheme every node serves.
    pub scheme: SchemeSpec,
    /// How nodes expect the credential.
    pub transport: Transport,
    /// What logout does to a self-contained token.
    pub revocation: Revocation,
    /// The shared store of a scheme without one of its own (a JWT site's denylist).
    pub store: Option<StoreSpec>,
    /// `--poll-interval` (polled denylist).
    pub poll_interval: Option<Duration>,
    /// `--session-cache` (a per-node cache of session lookups).
    pub session_cache: Option<Duration>,
    /// Demo accounts.
    pub users: usize,
    /// Worker threads per node.
    pub threads: usize,
    /// `--access-lifetime` (a hybrid's access tokens; `None`: the server's default).
    pub access_lifetime: Option<Duration>,
}

impl SiteSpec {
    /// A site of nodes expecting bearer tokens, `users` demo accounts, `threads` workers
    /// each, no poll interval or session cache (set them on the result where wanted).
    pub fn bearer(
        scheme: SchemeSpec,
        revocation: Revocation,
        store: Option<StoreSpec>,
        users: usize,
        threads: usize,
    ) -> SiteSpec {
        SiteSpec {
            scheme,
            transport: Transport::Bearer,
            revocation,
            store,
            poll_interval: None,
            session_cache: None,
            users,
            threads,
            access_lifetime: None,
        }
    }
}

/// A running site: its nodes, in order.
#[derive(Debug)]
pub struct Site {
    /// The nodes; node 0 created the keys.
    pub nodes: Vec<ChildServer>,
    name: String,
    store: Option<StoreSpec>,
    key_dir: tempfile::TempDir,
    refreshes: bool,
}

static SITES: AtomicU64 = AtomicU64::new(0);

impl Site {
    /// Starts `cores.len()` nodes of a new site serving `spec` (its scheme's store is the
    /// shared one, already pointed through a proxy where there is one), node `i` on
    /// 127.0.0.`i+2` and `cores[i]`. Node 0 starts first and writes the keys; the others
    /// load them.
    pub fn start(exe: &Path, spec: &SiteSpec, cores: &[Vec<usize>]) -> WorkloadResult<Site> {
        let name = format!(
            "tb{}n{}",
            std::process::id(),
            SITES.fetch_add(1, Ordering::Relaxed)
        );
        let key_dir = tempfile::Builder::new()
            .prefix("tokenbench-site-")
            .tempdir()
            .map_err(other)?;
        // Key material: only this user may read the directory (serve refuses it otherwise).
        std::fs::set_permissions(
            key_dir.path(),
            std::os::unix::fs::PermissionsExt::from_mode(0o700),
        )
        .map_err(other)?;
        let mut site = Site {
            nodes: Vec::with_capacity(cores.len()),
            name,
            store: spec.scheme.any_store().or(spec.store.as_ref()).cloned(),
            key_dir,
            refreshes: spec.scheme.capabilities().refresh_token,
        };
        for (i, node_cores) in cores.iter().enumerate() {
            let mut args = serve_args(
                &spec.scheme,
                spec.transport,
                spec.revocation,
                spec.users,
                false,
            );
            let listen = args.iter().position(|a| a == "127.0.0.1:0");
            if let Some(at) = listen {
                args[at] = format!("127.0.0.{}:0", i + 2);
            }
            // A denylist strategy is asked for explicitly even where serve_args would
            // leave it out (a session's cache is not a denylist).
            if spec.revocation != Revocation::None && !args.iter().any(|a| a == "--revocation") {
                args.extend(["--revocation".into(), spec.revocation.name().into()]);
            }
            args.extend([
                "--site".into(),
                site.name.clone(),
                "--key-dir".into(),
                site.key_dir.path().display().to_string(),
                "--threads".into(),
                spec.threads.max(1).to_string(),
            ]);
            if let Some(url) = spec.store.as_ref().and_then(StoreSpec::url) {
                args.extend(["--store".into(), url.to_owned()]);
            }
            if let Some(p) = spec.poll_interval {
                args.extend(["--poll-interval".into(), format!("{}ms", p.as_millis())]);
            }
            if let (Some(a), true) = (
                spec.access_lifetime,
                spec.scheme.capabilities().refresh_token,
            ) {
                args.extend(["--access-lifetime".into(), format!("{}ms", a.as_millis())]);
            }
            if let Some(c) = spec.session_cache {
                args.extend(["--session-cache".into(), format!("{}ms", c.as_millis())]);
            }
            let cores = (!node_cores.is_empty()).then_some(node_cores.as_slice());
            site.nodes
                .push(ChildServer::spawn_on(exe, &args, cores).map_err(other)?);
        }
        Ok(site)
    }

    /// Whether the site's scheme has refresh tokens (its users refresh: the hybrid).
    pub fn refreshes(&self) -> bool {
        self.refreshes
    }

    /// The nodes' URLs, in order.
    pub fn urls(&self) -> Vec<String> {
        self.nodes.iter().map(|n| n.url().to_owned()).collect()
    }

    /// The site's name (its store namespace).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Stops every node and removes the site's records; the key directory goes with
    /// `self`.
    pub fn stop(mut self) -> WorkloadResult<u64> {
        self.halt();
        self.remove()
    }

    fn halt(&mut self) {
        for n in &mut self.nodes {
            n.stop();
        }
    }

    fn remove(&mut self) -> WorkloadResult<u64> {
        match self.store.take() {
            Some(store) => site::remove(&store, &self.name).map_err(other),
            None => Ok(0),
        }
    }
}

impl Drop for Site {
    fn drop(&mut self) {
        self.halt();
        // Best effort on an error path: a store that cannot be reached keeps the records,
        // under a namespace no other site uses.
        let _ = self.remove();
    }
}

/// A `tokenbench proxy` child between the nodes and the store: delays each chunk by half
/// the round trip each way. Its stdin takes `cut` and `restore`; it exits when stdin
/// closes (this process gone) or on SIGTERM.
#[derive(Debug)]
pub struct ChildProxy {
    child: Child,
    stdin: Option<ChildStdin>,
    addr: SocketAddr,
    rtt: Duration,
}

impl ChildProxy {
    /// Starts a proxy to `upstream` adding `rtt`, on `cores` when given.
    pub fn start(
        exe: &Path,
        upstream: &str,
        rtt: Duration,
        cores: Option<&[usize]>,
    ) -> WorkloadResult<ChildProxy> {
        let mut command = Command::new(exe);
        command
            .args([
                "proxy",
                "--upstream",
                upstream,
                "--rtt",
                &format!("{}ms", rtt.as_secs_f64() * 1e3),
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        crate::net::placement::bind_child(&mut command, cores);
        let mut child = command.spawn().map_err(other)?;
        let stdin = child.stdin.take();
        let Some(stdout) = child.stdout.take() else {
            let _ = child.kill();
            let _ = child.wait();
            return Err(other("the proxy child has no stdout"));
        };
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            let _ = tx.send(lines.next());
            for _ in lines {}
        });
        let line = match rx.recv_timeout(START_TIMEOUT) {
            Ok(Some(Ok(line))) => line,
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(other(format!("the proxy to {upstream} did not start")));
            }
        };
        let addr = line
            .strip_prefix("listening on ")
            .and_then(|r| r.split_whitespace().next())
            .and_then(|a| a.parse().ok())
            .ok_or_else(|| other(format!("the proxy printed {line:?}")))?;
        Ok(ChildProxy {
            child,
            stdin,
            addr,
            rtt,
        })
    }

    /// Where the nodes connect.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The round trip it adds.
    pub fn rtt(&self) -> Duration {
        self.rtt
    }

    /// Refuses new connections and drops the open ones (the store is unreachable).
    pub fn cut(&mut self) -> WorkloadResult<()> {
        self.command("cut")
    }

    /// Forwards again.
    pub fn restore(&mut self) -> WorkloadResult<()> {
        self.command("restore")
    }

    fn command(&mut self, c: &str) -> WorkloadResult<()> {
        let stdin = self
            .stdin
            .as_mut()
            .ok_or_else(|| other("the proxy's stdin is closed"))?;
        writeln!(stdin, "{c}")
            .and_then(|()| stdin.flush())
            .map_err(other)?;
        // The proxy reads its stdin on its own thread: give it a moment to act.
        std::thread::sleep(Duration::from_millis(50));
        Ok(())
    }
}

impl Drop for ChildProxy {
    fn drop(&mut self) {
        // Closing stdin makes the proxy exit; kill it should it not.
        self.stdin.take();
        for _ in 0..50 {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
