//! The server's CPU per operation, for a session store that is a Redis server: the growth
//! of the server's `used_cpu_sys + used_cpu_user` (`INFO cpu`) over a counted run of the
//! operation, less what the server used over the same time while this process sent nothing
//! (its cron, other clients), divided by the count.

use std::time::{Duration, Instant};

use crate::store::RedisStore;
use crate::workload::outage::{Remote, info_store, server_cpu_secs};
use crate::workload::{Settings, WorkloadResult};

/// Fewest operations counted for one server-CPU figure.
const MIN_SERVER_OPS: u64 = 1_000;

/// The server's CPU per operation, for a scheme whose store is a Redis server.
pub(super) struct ServerCpu {
    info: RedisStore,
    /// Server CPU seconds per wall second while this process sends nothing.
    idle_per_sec: f64,
}

impl ServerCpu {
    /// `None` for an in-process scheme. Measures the server's background CPU first.
    pub(super) fn new(remote: &Remote, opts: &Settings) -> WorkloadResult<Option<ServerCpu>> {
        let Some(url) = remote.url() else {
            return Ok(None);
        };
        let info = remote.retry("validate: connecting to read INFO", || Ok(info_store(url)?))?;
        let span = opts.budget.measure.max(Duration::from_millis(200));
        let idle_per_sec = remote.retry("validate: reading INFO cpu", || {
            let c0 = server_cpu_secs(&info)?;
            let t0 = Instant::now();
            std::thread::sleep(span);
            let c1 = server_cpu_secs(&info)?;
            Ok(((c1 - c0) / t0.elapsed().as_secs_f64()).max(0.0))
        })?;
        Ok(Some(ServerCpu { info, idle_per_sec }))
    }

    /// Runs `op` for the measuring budget (at least [`MIN_SERVER_OPS`] times, unless that
    /// takes four budgets) between two `INFO cpu` reads; ns of server CPU per call.
    pub(super) fn per_op(&self, opts: &Settings, op: &mut dyn FnMut()) -> Option<f64> {
        let span = opts.budget.measure;
        let c0 = server_cpu_secs(&self.info).ok()?;
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
        let c1 = server_cpu_secs(&self.info).ok()?;
        let busy = (c1 - c0 - self.idle_per_sec * wall).max(0.0);
        Some(busy / n as f64 * 1e9)
    }
}
