//! A `tokenbench serve` child process: started with `--listen 127.0.0.1:0`, its address
//! read from its first stdout line, stopped with SIGTERM (then killed) when dropped. A
//! child isolates the server's CPU accounting from the load generator's.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use super::HttpError;
use super::config::{Revocation, Transport};
use crate::scheme::spec::SchemeSpec;

/// How long a child may take to print its first line (it hashes the demo passwords first).
pub const START_TIMEOUT: Duration = Duration::from_secs(60);

/// A running `tokenbench serve` child.
#[derive(Debug)]
pub struct ChildServer {
    child: Child,
    url: String,
    addr: SocketAddr,
}

/// The `serve` flags for a scheme, transport and account count (listening on any free
/// loopback port). The scheme goes as its serialized spec, so any family is served the
/// same way; `--revocation` only where the scheme needs a denylist for it. (A node of a
/// site adds `--site NAME --key-dir DIR` and what else it needs: HTTP.md.)
pub fn serve_args(
    scheme: &SchemeSpec,
    transport: Transport,
    revocation: Revocation,
    users: usize,
    tls: bool,
) -> Vec<String> {
    // A spec is enums and strings: serializing it cannot fail.
    let spec = serde_json::to_string(scheme).expect("a scheme spec serializes");
    let mut a: Vec<String> = vec!["serve".into(), "--spec".into(), spec];
    if revocation.needs_denylist(scheme.capabilities()) {
        a.extend(["--revocation".into(), revocation.name().into()]);
    }
    a.extend([
        "--transport".into(),
        transport.name().into(),
        "--users".into(),
        users.to_string(),
        "--listen".into(),
        "127.0.0.1:0".into(),
    ]);
    if tls {
        a.push("--tls".into());
    }
    a
}

impl ChildServer {
    /// Starts `exe` with `args` (which must make it serve) and waits for its first line.
    pub fn spawn(exe: &Path, args: &[String]) -> Result<ChildServer, HttpError> {
        ChildServer::spawn_on(exe, args, None)
    }

    /// [`spawn`](Self::spawn), every thread of the child on `cores` (when given): the mask
    /// is set before `exec`, so the threads the server starts inherit it. The child is
    /// also told to die with this process (`PR_SET_PDEATHSIG`), so a run that is killed
    /// leaves no server behind.
    pub fn spawn_on(
        exe: &Path,
        args: &[String],
        cores: Option<&[usize]>,
    ) -> Result<ChildServer, HttpError> {
        let mut command = Command::new(exe);
        command
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        crate::net::placement::bind_child(&mut command, cores);
        let mut child = command
            .spawn()
            .map_err(|e| HttpError::io(format!("starting {}", exe.display()), e))?;
        let Some(stdout) = child.stdout.take() else {
            let _ = child.kill();
            return Err(HttpError::Config("the child has no stdout".into()));
        };
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            let _ = tx.send(lines.next());
            // Keep draining so the child never blocks on a full pipe.
            for _ in lines {}
        });
        let first = match rx.recv_timeout(START_TIMEOUT) {
            Ok(Some(Ok(line))) => line,
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(HttpError::Config(format!(
                    "the server child ({} {}) did not print its address",
                    exe.display(),
                    args.join(" ")
                )));
            }
        };
        let url = first
            .strip_prefix("listening on ")
            .map(str::to_owned)
            .ok_or_else(|| HttpError::Config(format!("unexpected first line {first:?}")))?;
        let addr = url
            .split_once("://")
            .and_then(|(_, a)| a.parse().ok())
            .ok_or_else(|| HttpError::Config(format!("no address in {first:?}")))?;
        Ok(ChildServer { child, url, addr })
    }

    /// `http://ADDR` or `https://ADDR`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The address the child listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The child's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// True while the child runs.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// SIGKILL, at once (a node that crashes): no clean exit.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM, up to 3 s for a clean exit (a store of its own deletes its records; a
    /// site's are kept), then SIGKILL.
    pub fn stop(&mut self) {
        if !self.is_running() {
            return;
        }
        if let Ok(pid) = libc::pid_t::try_from(self.child.id()) {
            // SAFETY: kill has no memory preconditions; pid is our own child's.
            unsafe {
                libc::kill(pid, libc::SIGTERM);
            }
        }
        let deadline = Instant::now() + Duration::from_secs(3);
        while Instant::now() < deadline {
            if !self.is_running() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for ChildServer {
    fn drop(&mut self) {
        self.stop();
    }
}
