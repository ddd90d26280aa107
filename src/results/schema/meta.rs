//! `meta.json`: what machine, toolchain and command produced a run.

use std::collections::BTreeMap;
use std::process::Command;

use serde::{Deserialize, Serialize};

use crate::store::redact_url;

/// Machine and provenance of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Meta {
    /// On-disk format version ([`crate::results::SCHEMA_VERSION`]).
    pub schema_version: u32,
    /// tokenbench's version.
    pub tokenbench_version: String,
    /// The command line, as typed.
    pub command_line: Vec<String>,
    /// Start of the run (RFC 3339, UTC).
    pub started_utc: String,
    /// End of the run (RFC 3339, UTC); `None` while running.
    pub finished_utc: Option<String>,
    /// Whether this was a `--quick` run.
    pub quick: bool,
    /// Seed of the workload inputs.
    pub seed: u64,
    /// CPU model name.
    pub cpu_model: String,
    /// Logical cores available to the process.
    pub cores: usize,
    /// Operating system and architecture.
    pub os: String,
    /// Kernel release, when known.
    pub kernel: Option<String>,
    /// The compiler that built this binary.
    pub rustc: String,
    /// Build profile (`release` or `debug`): debug figures are not comparable.
    pub profile: String,
    /// Versions of the crates whose code is measured.
    pub crate_versions: Vec<CrateVersion>,
    /// Git commit of the source tree, when run from a checkout.
    pub git_commit: Option<String>,
    /// jsonwebtoken crypto backend of the main process.
    pub crypto_backend: String,
    /// The settings every workload shared (schemes, seed, budget...), store URLs redacted;
    /// absent in files written before schema version 3.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settings: Option<serde_json::Value>,
    /// Each workload's resolved parameters, by workload name (absent before version 3).
    /// The machine's load while each workload ran, in run order (absent before version 4,
    /// and where `/proc/loadavg` cannot be read).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub load: Vec<WorkloadLoad>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub params: BTreeMap<String, serde_json::Value>,
}

/// A dependency and its version.
/// The load of the machine while one workload ran, from `/proc/loadavg`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkloadLoad {
    /// The workload.
    pub workload: String,
    /// 1-minute load average when it started.
    pub load1_start: f64,
    /// 1-minute load average when it ended.
    pub load1_end: f64,
    /// Highest 1-minute load average read while it ran.
    pub load1_max: f64,
    /// Mean number of runnable tasks over the readings (this run's own busy threads included).
    pub runnable_mean: f64,
    /// Readings taken.
    pub samples: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CrateVersion {
    /// Crate name.
    pub name: String,
    /// Version from Cargo.lock.
    pub version: String,
}

/// Crates whose versions matter for the figures.
const MEASURED_CRATES: [&str; 9] = [
    "jsonwebtoken",
    "aws-lc-rs",
    "rsa",
    "p256",
    "ed25519-dalek",
    "dashmap",
    "redis",
    "serde_json",
    "hdrhistogram",
];

impl Meta {
    /// Collects metadata about this machine and process.
    pub fn collect(command_line: Vec<String>, started_utc: String, quick: bool, seed: u64) -> Meta {
        Meta {
            schema_version: crate::results::SCHEMA_VERSION,
            tokenbench_version: env!("CARGO_PKG_VERSION").to_owned(),
            command_line: command_line.iter().map(|a| redact_url(a)).collect(),
            started_utc,
            finished_utc: None,
            quick,
            seed,
            cpu_model: cpu_model(),
            cores: std::thread::available_parallelism().map_or(1, usize::from),
            os: format!("{} {}", std::env::consts::OS, std::env::consts::ARCH),
            kernel: std::fs::read_to_string("/proc/sys/kernel/osrelease")
                .ok()
                .map(|s| s.trim().to_owned()),
            rustc: env!("TOKENBENCH_RUSTC").to_owned(),
            profile: if cfg!(debug_assertions) {
                "debug"
            } else {
                "release"
            }
            .to_owned(),
            crate_versions: crate_versions(include_str!("../../../Cargo.lock")),
            git_commit: git_commit(),
            crypto_backend: crate::crypto::active().name().to_owned(),
            settings: None,
            params: BTreeMap::new(),
            load: Vec::new(),
        }
    }
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown".to_owned())
}

fn git_commit() -> Option<String> {
    let out = Command::new("git")
        .args(["rev-parse", "HEAD"])
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let commit = String::from_utf8(out.stdout).ok()?.trim().to_owned();
    let dirty = Command::new("git")
        .args(["status", "--porcelain", "--untracked-files=no"])
        .output()
        .map(|o| !o.stdout.is_empty())
        .unwrap_or(false);
    Some(if dirty {
        format!("{commit}-dirty")
    } else {
        commit
    })
}

/// Versions of [`MEASURED_CRATES`] from the text of Cargo.lock.
fn crate_versions(lock: &str) -> Vec<CrateVersion> {
    let mut out = Vec::new();
    let mut name: Option<&str> = None;
    for line in lock.lines() {
        if let Some(n) = line.strip_prefix("name = ") {
            name = Some(n.trim_matches('"'));
        } else if let (Some(v), Some(n)) = (line.strip_prefix("version = "), name.take())
            && MEASURED_CRATES.contains(&n)
        {
            out.push(CrateVersion {
                name: n.to_owned(),
                version: v.trim_matches('"').to_owned(),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crate_versions_come_from_the_lock_file() {
        let v = crate_versions(include_str!("../../../Cargo.lock"));
        assert!(
            v.iter()
                .any(|c| c.name == "jsonwebtoken" && c.version.starts_with("11.")),
            "{v:?}"
        );
        assert!(v.iter().any(|c| c.name == "dashmap"));
    }

    #[test]
    fn passwords_in_urls_never_reach_results() {
        let m = Meta::collect(
            vec![
                "tokenbench".into(),
                "--store".into(),
                "redis://:pw1@h".into(),
                "--stores=memory,redis+cluster://bob:pw2@a:1,b:2".into(),
            ],
            "x".into(),
            true,
            1,
        );
        let line = m.command_line.concat();
        assert!(!line.contains("pw1") && !line.contains("pw2"), "{line}");
        assert_eq!(m.command_line[2], "redis://:***@h");
        assert_eq!(
            m.command_line[3],
            "--stores=memory,redis+cluster://bob:***@a:1,b:2"
        );
    }

    #[test]
    fn collect_fills_machine_fields() {
        let m = Meta::collect(vec!["tokenbench".into()], "x".into(), true, 7);
        assert!(m.cores >= 1);
        assert!(m.rustc.starts_with("rustc "), "{}", m.rustc);
        assert_eq!(m.schema_version, crate::results::SCHEMA_VERSION);
    }
}
