//! The server's CPU per operation, for a session store behind a network: the growth of the
//! server's own CPU time ([`ServerProbe::cpu_secs`]: Redis's `INFO cpu`, PostgreSQL's
//! backend processes) over a counted run of the operation, less what the server used over
//! the same time while this process sent nothing (its background work, other clients),
//! divided by the count. Unknown (`None`) when the server's CPU cannot be read from here.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::store::ServerProbe;
use crate::workload::outage::Remote;
use crate::workload::{Settings, WorkloadResult};

/// Fewest operations counted for one server-CPU figure.
const MIN_SERVER_OPS: u64 = 1_000;

/// The server's CPU per operation, for a scheme whose store is a server.
pub(super) struct ServerCpu {
    probe: Arc<dyn ServerProbe>,
    /// Server CPU seconds per wall second while this process sends nothing.
    idle_per_sec: f64,
}

impl ServerCpu {
    /// `None` for an in-process scheme, and for a server whose CPU cannot be read.
    /// Measures the server's background CPU first.
    pub(super) fn new(remote: &Remote, settings: &Settings) -> WorkloadResult<Option<ServerCpu>> {
        let Some(probe) = remote.probe() else {
            return Ok(None);
        };
        let span = settings.budget.measure.max(Duration::from_millis(200));
        let idle_per_sec = remote.retry("validate: reading the server's CPU", || {
            let Some(c0) = probe.cpu_secs()? else {
                return Ok(None);
            };
            let t0 = Instant::now();
            std::thread::sleep(span);
            let Some(c1) = probe.cpu_secs()? else {
                return Ok(None);
            };
            Ok(Some(((c1 - c0) / t0.elapsed().as_secs_f64()).max(0.0)))
        })?;
        Ok(idle_per_sec.map(|idle_per_sec| ServerCpu {
            probe: probe.clone(),
            idle_per_sec,
        }))
    }

    /// Runs `op` for a third of the measuring budget, at least [`MIN_SERVER_OPS`] times
    /// (unless that takes four such spans), between two reads of the server's CPU; ns of
    /// server CPU per call. A third is still thousands of round trips on a local store
    /// (half a second in a full run), far above the counters' resolution.
    pub(super) fn per_op(&self, settings: &Settings, op: &mut dyn FnMut()) -> Option<f64> {
        let span = (settings.budget.measure / 3).max(Duration::from_millis(50));
        let c0 = self.probe.cpu_secs().ok()??;
        let t0 = Instant::now();
        let mut n = 0u64;
        loop {
            let elapsed = t0.elapsed();
            if elapsed >= span && (n >= MIN_SERVER_OPS || elapsed >= span * 4) {
                break;
            }
            op();
            n += 1;
        }
        let wall = t0.elapsed().as_secs_f64();
        let c1 = self.probe.cpu_secs().ok()??;
        let busy = (c1 - c0 - self.idle_per_sec * wall).max(0.0);
        Some(busy / n as f64 * 1e9)
    }
}
