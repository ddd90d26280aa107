//! This process's CPU time and memory, as the server reports them in `/metrics` and the
//! generator reports its own cost per step (so a step limited by the generator shows it).

/// CPU times and peak memory of this process.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ProcessUsage {
    /// User CPU, ns.
    pub user_ns: u64,
    /// System CPU, ns.
    pub system_ns: u64,
    /// Peak resident memory, bytes.
    pub max_rss_bytes: u64,
}

impl ProcessUsage {
    /// User + system CPU, ns.
    pub fn cpu_ns(&self) -> u64 {
        self.user_ns + self.system_ns
    }
}

/// getrusage(RUSAGE_SELF): every thread of this process, the dead ones included.
pub fn process_usage() -> ProcessUsage {
    // SAFETY: an all-zero rusage is a valid value of this plain C struct.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `ru` is a valid, writable rusage; RUSAGE_SELF is always supported. On
    // failure it stays zero.
    if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) } != 0 {
        return ProcessUsage::default();
    }
    let ns = |tv: libc::timeval| {
        (tv.tv_sec.max(0) as u64) * 1_000_000_000 + (tv.tv_usec.max(0) as u64) * 1_000
    };
    ProcessUsage {
        user_ns: ns(ru.ru_utime),
        system_ns: ns(ru.ru_stime),
        // ru_maxrss is in KiB on Linux.
        max_rss_bytes: (ru.ru_maxrss.max(0) as u64) * 1024,
    }
}

/// Resident memory now (`/proc/self/statm`), bytes; 0 where unavailable.
pub fn rss_bytes() -> u64 {
    let Ok(s) = std::fs::read_to_string("/proc/self/statm") else {
        return 0;
    };
    let pages: u64 = s
        .split_whitespace()
        .nth(1)
        .and_then(|x| x.parse().ok())
        .unwrap_or(0);
    // SAFETY: sysconf has no preconditions.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    pages * u64::try_from(page).unwrap_or(4096)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_has_used_cpu_and_memory() {
        let busy: u64 = (0..200_000u64).map(std::hint::black_box).sum();
        assert!(busy > 0);
        let u = process_usage();
        assert!(u.cpu_ns() > 0 && u.max_rss_bytes > 0, "{u:?}");
        assert!(rss_bytes() > 0);
    }
}
