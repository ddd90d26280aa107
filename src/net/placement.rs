//! Where processes run: the cores a load generator, its servers and the store get
//! (`sched_setaffinity`), and what a process's own memory peak was (`VmHWM`).
//!
//! A [`Placement`] splits this machine's cores between the generator and the server nodes
//! so that neither measures the other's work. With too few cores for a layout it still
//! places everything, and says so: [`Placement::oversubscribed`] names what shares a core,
//! so a figure measured that way is never mistaken for one that was not.

use std::fmt;
use std::io;

use serde::{Deserialize, Serialize};

/// The cores this process may run on (its affinity mask), in ascending order.
pub fn allowed_cores() -> io::Result<Vec<usize>> {
    // SAFETY: a zeroed cpu_set_t is a valid empty set; sched_getaffinity writes at most
    // `size_of::<cpu_set_t>()` bytes into it.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        if libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set) != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok((0..libc::CPU_SETSIZE as usize)
            .filter(|&c| libc::CPU_ISSET(c, &set))
            .collect())
    }
}

/// Pins process (or thread) `pid` (0: the caller) to `cores`.
pub fn pin(pid: u32, cores: &[usize]) -> io::Result<()> {
    if cores.is_empty() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "no core to pin to",
        ));
    }
    // SAFETY: as above; CPU_SET only writes inside the set for indices below CPU_SETSIZE,
    // which the filter guarantees.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        for &c in cores.iter().filter(|&&c| c < libc::CPU_SETSIZE as usize) {
            libc::CPU_SET(c, &mut set);
        }
        let pid = libc::pid_t::try_from(pid)
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "pid out of range"))?;
        if libc::sched_setaffinity(pid, std::mem::size_of::<libc::cpu_set_t>(), &set) != 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

/// The peak resident memory of process `pid` in bytes: `VmHWM` of `/proc/<pid>/status`,
/// which a process starts afresh at `exec` (unlike `ru_maxrss`, which a child inherits
/// from the process that spawned it). `None` where there is no such process or field.
pub fn peak_rss_bytes(pid: u32) -> Option<u64> {
    status_kib(pid, "VmHWM:").map(|k| k * 1024)
}

/// Makes the child `command` will start die with this process (`PR_SET_PDEATHSIG`,
/// SIGTERM), so a run that is killed leaves nothing behind, and run every thread on
/// `cores` when given (set before `exec`, so the threads it starts inherit the mask).
pub fn bind_child(command: &mut std::process::Command, cores: Option<&[usize]>) {
    use std::os::unix::process::CommandExt;
    let cores: Vec<usize> = cores.map(<[usize]>::to_vec).unwrap_or_default();
    // SAFETY: between fork and exec the closure makes two system calls that touch only
    // the child's own state (the mask is built on the child's stack): async-signal safe,
    // as pre_exec requires.
    unsafe {
        command.pre_exec(move || {
            if libc::prctl(
                libc::PR_SET_PDEATHSIG,
                libc::SIGTERM as libc::c_ulong,
                0,
                0,
                0,
            ) != 0
            {
                return Err(io::Error::last_os_error());
            }
            if !cores.is_empty() {
                let mut set: libc::cpu_set_t = std::mem::zeroed();
                for &c in cores.iter().filter(|&&c| c < libc::CPU_SETSIZE as usize) {
                    libc::CPU_SET(c, &mut set);
                }
                if libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) != 0 {
                    return Err(io::Error::last_os_error());
                }
            }
            Ok(())
        });
    }
}

/// The resident memory of process `pid` now, in bytes (`VmRSS`).
pub fn rss_bytes(pid: u32) -> Option<u64> {
    status_kib(pid, "VmRSS:").map(|k| k * 1024)
}

fn status_kib(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().strip_suffix("kB"))
        .and_then(|v| v.trim().parse().ok())
}

/// Which cores the load generator and each server node get.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Placement {
    /// Cores available to the run.
    pub cores: Vec<usize>,
    /// Cores of the load generator.
    pub generator: Vec<usize>,
    /// Cores of each server node, in node order.
    pub nodes: Vec<Vec<usize>>,
    /// What shares a core with what, in words; empty when nothing does.
    pub oversubscribed: Vec<String>,
}

impl Placement {
    /// Places a generator and `nodes` servers on `cores`: the generator gets the first
    /// `generator_cores`, each node `node_cores` of the rest, in turn. Where the cores run
    /// out, nodes share the remaining ones (or the generator's, with a single core), and
    /// [`oversubscribed`](Self::oversubscribed) says which.
    pub fn plan(cores: &[usize], generator_cores: usize, nodes: usize, node_cores: usize) -> Self {
        let mut oversubscribed = Vec::new();
        let g = generator_cores.clamp(1, cores.len().saturating_sub(1).max(1));
        let generator: Vec<usize> = cores.iter().copied().take(g).collect();
        let rest: Vec<usize> = if cores.len() > g {
            cores[g..].to_vec()
        } else {
            oversubscribed.push(format!(
                "the generator and the servers share {} core(s)",
                cores.len()
            ));
            cores.to_vec()
        };
        let want = nodes * node_cores.max(1);
        if want > rest.len() && !rest.is_empty() && cores.len() > g {
            oversubscribed.push(format!(
                "{nodes} server node(s) of {} core(s) each share {} core(s)",
                node_cores.max(1),
                rest.len()
            ));
        }
        let nodes = (0..nodes)
            .map(|i| {
                (0..node_cores.max(1))
                    .map(|j| rest[(i * node_cores.max(1) + j) % rest.len().max(1)])
                    .collect()
            })
            .collect();
        Placement {
            cores: cores.to_vec(),
            generator,
            nodes,
            oversubscribed,
        }
    }

    /// True when some process shares a core with another of the run.
    pub fn is_oversubscribed(&self) -> bool {
        !self.oversubscribed.is_empty()
    }

    /// Server cores in all (distinct), the denominator of a rate per server core.
    pub fn server_cores(&self) -> usize {
        let mut all: Vec<usize> = self.nodes.iter().flatten().copied().collect();
        all.sort_unstable();
        all.dedup();
        all.len()
    }
}

impl fmt::Display for Placement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "generator on {:?}", self.generator)?;
        for (i, n) in self.nodes.iter().enumerate() {
            write!(f, ", node {i} on {n:?}")?;
        }
        if self.is_oversubscribed() {
            write!(f, " (oversubscribed: {})", self.oversubscribed.join("; "))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_cores_give_the_generator_one_and_the_server_the_other() {
        let p = Placement::plan(&[0, 1], 1, 1, 1);
        assert_eq!(p.generator, vec![0]);
        assert_eq!(p.nodes, vec![vec![1]]);
        assert!(!p.is_oversubscribed(), "{p}");
        assert_eq!(p.server_cores(), 1);
    }

    #[test]
    fn more_nodes_than_cores_share_them_and_say_so() {
        let p = Placement::plan(&[0, 1], 1, 4, 1);
        assert_eq!(p.nodes, vec![vec![1]; 4]);
        assert!(p.is_oversubscribed());
        assert!(p.oversubscribed[0].contains("4 server node(s)"), "{p}");
        assert_eq!(p.server_cores(), 1);
        let wide = Placement::plan(&[0, 1, 2, 3, 4], 1, 2, 2);
        assert_eq!(wide.nodes, vec![vec![1, 2], vec![3, 4]]);
        assert!(!wide.is_oversubscribed());
        let one = Placement::plan(&[0], 1, 1, 1);
        assert_eq!(
            (one.generator.clone(), one.nodes.clone()),
            (vec![0], vec![vec![0]])
        );
        assert!(one.is_oversubscribed());
    }

    #[test]
    fn a_pinned_thread_runs_only_where_it_was_pinned() {
        let cores = allowed_cores().unwrap();
        assert!(!cores.is_empty());
        let last = *cores.last().unwrap();
        // Pin a thread of our own (never the test harness's), then read its mask back.
        std::thread::spawn(move || {
            pin(0, &[last]).unwrap();
            assert_eq!(allowed_cores().unwrap(), vec![last]);
        })
        .join()
        .unwrap();
        assert!(pin(0, &[]).is_err());
    }

    #[test]
    fn a_small_process_reports_a_small_peak_of_its_own() {
        // A fresh `sleep` process: its peak is its own few MiB, not this test process's.
        let mut child = std::process::Command::new("sleep")
            .arg("5")
            .spawn()
            .unwrap();
        let mut peak = None;
        for _ in 0..100 {
            peak = peak_rss_bytes(child.id());
            if peak.is_some_and(|p| p > 0) {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        let _ = child.kill();
        let _ = child.wait();
        let peak = peak.expect("VmHWM of a live process");
        assert!(peak > 0 && peak < 64 << 20, "{peak}");
        assert_eq!(peak_rss_bytes(u32::MAX), None);
        assert!(rss_bytes(std::process::id()).is_some_and(|r| r > 0));
    }
}
