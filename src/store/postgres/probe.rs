//! The PostgreSQL server as the workloads see it ([`ServerProbe`]): ping, memory (the
//! database's size), and CPU, read where it can be read:
//!
//! 1. the server on this machine (a loopback or Unix-socket address whose backend is a
//!    process here, checked by finding the probe's own client port in its backend's
//!    command line): the CPU of its processes from `/proc/<pid>/schedstat` (nanoseconds;
//!    `/proc/<pid>/stat` in clock ticks where the kernel has no schedstat), summed over the
//!    backends of this process's stores (`application_name`, [`application_name`]) and
//!    the server's own background processes (WAL writer, checkpointer, autovacuum...);
//! 2. otherwise `pg_stat_statements`, when the server has it loaded: execution and
//!    planning time of every statement, an upper bound of their CPU (it counts waits, and
//!    misses protocol and commit work);
//! 3. otherwise unknown.
//!
//! The process CPU comes first: it is CPU, and it counts what a request costs the server
//! beyond the executor (parsing the protocol, the commit), which is most of the cost of the
//! short statements a session store sends.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use postgres::{Client, Config, NoTls};

use super::pool::{describe, is_outage};
use super::url;
use crate::store::{ServerProbe, StoreError, StoreResult};

/// The largest working set the scale workload issues into PostgreSQL.
pub const MAX_WORKING_SET: usize = 20_000;

/// `application_name` of every store connection of this process (`tokenbench/<pid>`), so
/// the probe can tell this process's backends from other clients'.
pub(crate) fn application_name() -> String {
    format!("tokenbench/{}", std::process::id())
}

/// Where the server's CPU is read (decided on the first read).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CpuSource {
    /// `/proc` of the server's processes on this machine.
    Proc,
    /// `pg_stat_statements` time.
    Statements,
    /// Neither.
    Unknown,
}

/// The running total of the server processes' CPU, from per-process readings.
#[derive(Debug, Default)]
struct CpuTotal {
    /// Last reading per backend pid, in seconds.
    last: HashMap<i32, f64>,
    /// Sum of every growth seen, in seconds (a process seen for the first time adds all
    /// its CPU: it started after the previous reading, for a client or the server).
    total: f64,
}

/// The PostgreSQL server of a `postgres://` store.
pub struct PostgresProbe {
    config: Config,
    address: String,
    local: bool,
    /// The probe's own connection, opened on first use and dropped when it fails.
    conn: Mutex<Option<Client>>,
    source: Mutex<Option<CpuSource>>,
    cpu: Mutex<CpuTotal>,
}

impl PostgresProbe {
    /// The server at `url`; connects nothing yet.
    pub fn new(url: &str) -> StoreResult<Self> {
        let mut config = url::parse(url, super::PostgresStore::CONNECT_TIMEOUT)?;
        config.application_name(&format!("tokenbench-probe/{}", std::process::id()));
        Ok(Self {
            address: url::display(&config),
            local: url::is_local(&config),
            config,
            conn: Mutex::new(None),
            source: Mutex::new(None),
            cpu: Mutex::new(CpuTotal::default()),
        })
    }

    /// Runs `f` on the probe's connection (opened if needed; dropped when a call fails, so
    /// the next one dials again).
    fn with_client<T>(
        &self,
        f: impl FnOnce(&mut Client) -> Result<T, postgres::Error>,
    ) -> StoreResult<T> {
        let mut slot = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        let client = match slot.as_mut() {
            Some(c) => c,
            None => slot.insert(self.config.connect(NoTls).map_err(|e| self.error(&e))?),
        };
        f(client).map_err(|e| {
            *slot = None;
            self.error(&e)
        })
    }

    fn error(&self, e: &postgres::Error) -> StoreError {
        let text = format!("postgres {}: {}", self.address, describe(e));
        if is_outage(e) {
            StoreError::Unavailable(text)
        } else {
            StoreError::Refused(text)
        }
    }

    /// Where CPU can be read from here, found out once.
    fn source(&self) -> StoreResult<CpuSource> {
        let mut source = self.source.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(s) = *source {
            return Ok(s);
        }
        let found = if self.local && self.backend_is_here()? {
            CpuSource::Proc
        } else if self.statements_secs().is_ok() {
            CpuSource::Statements
        } else {
            CpuSource::Unknown
        };
        *source = Some(found);
        Ok(found)
    }

    /// True when the probe's own backend is a process of this machine: its command line
    /// (`postgres: user db 127.0.0.1(port) ...`) holds the probe's client port, or says
    /// `[local]` for a Unix socket.
    fn backend_is_here(&self) -> StoreResult<bool> {
        let (pid, port) = self.with_client(|c| {
            let row = c.query_one("SELECT pg_backend_pid(), inet_client_port()", &[])?;
            Ok((row.get::<_, i32>(0), row.get::<_, Option<i32>>(1)))
        })?;
        let Ok(cmdline) = std::fs::read(format!("/proc/{pid}/cmdline")) else {
            return Ok(false);
        };
        let cmdline = String::from_utf8_lossy(&cmdline);
        let mark = port.map_or_else(|| "[local]".to_owned(), |p| format!("({p})"));
        Ok(cmdline.starts_with("postgres") && cmdline.contains(&mark))
    }

    /// Execution and planning time of every statement so far (`pg_stat_statements`), s.
    fn statements_secs(&self) -> StoreResult<f64> {
        self.with_client(|c| {
            let row = c.query_one(
                "SELECT coalesce(sum(total_exec_time + total_plan_time), 0)::float8 \
                 FROM pg_stat_statements",
                &[],
            )?;
            Ok(row.get::<_, f64>(0) / 1e3)
        })
    }

    /// CPU of this process's backends and the server's background processes, s.
    fn process_secs(&self) -> StoreResult<f64> {
        let pids: Vec<i32> = self.with_client(|c| {
            let rows = c.query(
                "SELECT pid FROM pg_stat_activity \
                 WHERE application_name = $1 OR backend_type <> 'client backend'",
                &[&application_name()],
            )?;
            Ok(rows.iter().map(|r| r.get::<_, i32>(0)).collect())
        })?;
        let mut cpu = self.cpu.lock().unwrap_or_else(|p| p.into_inner());
        let mut now = HashMap::with_capacity(pids.len());
        for pid in pids {
            // A backend that ended since the query has nothing left to read.
            if let Some(secs) = process_cpu_secs(pid) {
                now.insert(pid, secs);
            }
        }
        let mut grown = 0.0;
        for (pid, secs) in &now {
            grown += match cpu.last.get(pid) {
                Some(before) => (secs - before).max(0.0),
                None => *secs,
            };
        }
        cpu.total += grown;
        cpu.last = now;
        Ok(cpu.total)
    }
}

/// CPU time process `pid` has used, in seconds: `/proc/<pid>/schedstat` (time on a CPU,
/// ns), or `/proc/<pid>/stat` (user + system, clock ticks) without schedstat.
fn process_cpu_secs(pid: i32) -> Option<f64> {
    if let Ok(text) = std::fs::read_to_string(format!("/proc/{pid}/schedstat"))
        && let Some(ns) = parse_schedstat(&text)
    {
        return Some(ns as f64 / 1e9);
    }
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // SAFETY: sysconf has no preconditions; it only reads a constant of the system.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    let ticks = if ticks > 0 { ticks as f64 } else { 100.0 };
    parse_stat_ticks(&text).map(|t| t as f64 / ticks)
}

/// The first field of `/proc/<pid>/schedstat`: nanoseconds spent on a CPU.
fn parse_schedstat(text: &str) -> Option<u64> {
    text.split_whitespace().next()?.parse().ok()
}

/// `utime + stime` of `/proc/<pid>/stat`, in clock ticks (fields 14 and 15, counted after
/// the command name, which may hold spaces and parentheses).
fn parse_stat_ticks(text: &str) -> Option<u64> {
    let after = &text[text.rfind(')')? + 1..];
    let fields: Vec<&str> = after.split_whitespace().collect();
    // `after` starts at field 3 (state): utime is field 14, stime 15.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(utime + stime)
}

impl std::fmt::Debug for PostgresProbe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresProbe")
            .field("address", &self.address)
            .finish_non_exhaustive()
    }
}

impl ServerProbe for PostgresProbe {
    fn server(&self) -> &'static str {
        "PostgreSQL"
    }

    fn address(&self) -> &str {
        &self.address
    }

    fn ping(&self, timeout: Duration) -> StoreResult<()> {
        let mut config = self.config.clone();
        config.connect_timeout(timeout);
        let mut client = config.connect(NoTls).map_err(|e| self.error(&e))?;
        // A server in recovery or shutting down refuses the connection or this query.
        client
            .simple_query("SELECT 1")
            .map(|_| ())
            .map_err(|e| self.error(&e))
    }

    fn cpu_secs(&self) -> StoreResult<Option<f64>> {
        match self.source()? {
            CpuSource::Proc => self.process_secs().map(Some),
            CpuSource::Statements => self.statements_secs().map(Some),
            CpuSource::Unknown => Ok(None),
        }
    }

    /// `SELECT 1` on the probe's connection (the first one dials, untimed).
    fn round_trips(&self, n: usize) -> StoreResult<Vec<Duration>> {
        self.with_client(|c| {
            c.simple_query("SELECT 1")?;
            let mut out = Vec::with_capacity(n);
            for _ in 0..n {
                let t0 = std::time::Instant::now();
                c.simple_query("SELECT 1")?;
                out.push(t0.elapsed());
            }
            Ok(out)
        })
    }

    fn memory_bytes(&self) -> StoreResult<Option<u64>> {
        self.with_client(|c| {
            let row = c.query_one("SELECT pg_database_size(current_database())", &[])?;
            Ok(u64::try_from(row.get::<_, i64>(0)).ok())
        })
    }

    /// Fewer than Redis's: each insert is a commit that waits for its WAL flush.
    fn max_working_set(&self) -> usize {
        MAX_WORKING_SET
    }

    fn memory_method(&self) -> &'static str {
        "postgres pg_database_size growth over inserting N sessions, divided by N: heap, \
         index and free-space pages of the session table (on disk, cached in shared buffers \
         as used), and whatever other clients wrote to the database meanwhile"
    }

    fn record_bytes_method(&self) -> &'static str {
        "postgres pg_column_size of the session rows (tuple header, ID, binary record and \
         deadline columns), averaged; without the index entries and page overhead"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proc_files_are_read_by_field() {
        assert_eq!(parse_schedstat("123456789 2000 31\n"), Some(123_456_789));
        assert_eq!(parse_schedstat(""), None);
        // A command name with spaces and a parenthesis does not shift the fields.
        let stat = "4242 (postgres: a (b) c) S 1 4242 4242 0 -1 4194560 100 0 0 0 \
                    250 75 0 0 20 0 1 0 100 0 0";
        assert_eq!(parse_stat_ticks(stat), Some(325));
        assert_eq!(parse_stat_ticks("garbage"), None);
    }

    #[test]
    fn this_process_can_be_read() {
        let me = i32::try_from(std::process::id()).unwrap();
        let a = process_cpu_secs(me).expect("our own /proc entry");
        let mut x = 0u64;
        for i in 0..2_000_000u64 {
            x = x.wrapping_add(i * i);
        }
        std::hint::black_box(x);
        let b = process_cpu_secs(me).unwrap();
        assert!(b >= a, "{a} then {b}");
    }
}
