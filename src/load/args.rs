//! The options of `tokenbench load`.

use std::time::Duration;

use clap::Args;

use super::search::SearchParams;
use super::{LoadConfig, LoadError, Mix, Protocol, Target};
use crate::net::Transport;
use crate::units::parse_duration;

/// Options of `tokenbench load`.
#[derive(Debug, Clone, Args)]
pub struct LoadArgs {
    /// The server's root URL (loopback only).
    #[arg(long, help = "The server, http[s]://HOST:PORT (loopback only)")]
    pub target: String,
    /// HTTP version: http1.1 or h2 (h2c on http://, ALPN h2 on https://).
    #[arg(long, default_value = "http1.1", value_parser = parse_protocol)]
    pub protocol: Protocol,
    /// Accept the server's self-signed certificate (https:// on loopback).
    #[arg(long)]
    pub insecure: bool,
    /// How the server expects the credential: cookie or bearer.
    #[arg(long, default_value = "cookie", value_parser = parse_transport)]
    pub transport: Transport,
    /// Demo accounts on the server (its --users).
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub accounts: u64,
    /// Concurrent virtual users (HTTP/1.1: one keep-alive connection each).
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u64).range(1..=4096))]
    pub vus: u64,
    /// HTTP/2 connections shared by the virtual users.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u64).range(1..=1024))]
    pub connections: u64,
    /// Request mix: flow (log in, reads and writes, log out), me (log in once, then GET
    /// /me), login (POST /login only; bearer transport) or floor (GET /floor, no credential).
    #[arg(long, default_value = "flow", value_parser = ["flow", "me", "login", "floor"])]
    pub mix: String,
    /// Authenticated reads (GET /me) per write (POST /api/notes).
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub reads_per_write: u32,
    /// Writes between login and logout.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub writes_per_session: u32,
    /// A fixed offered rate (requests/s): one step, no search.
    #[arg(long)]
    pub rate: Option<f64>,
    /// Measured window of each step.
    #[arg(long, default_value = "2s", value_parser = parse_duration)]
    pub duration: Duration,
    /// Unmeasured warm-up before each window.
    #[arg(long, default_value = "500ms", value_parser = parse_duration)]
    pub warmup: Duration,
    /// p99 objective of the search.
    #[arg(long, default_value = "10ms", value_parser = parse_duration)]
    pub p99: Duration,
    /// First rate of the search.
    #[arg(long, default_value_t = 500.0)]
    pub start_rate: f64,
    /// Highest rate the search may offer.
    #[arg(long, default_value_t = 100_000.0)]
    pub max_rate: f64,
    /// Bisection steps after the first failing rate.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(0..=10))]
    pub bisect: u32,
    /// Largest share of failed requests in a passing step.
    #[arg(long, default_value_t = 0.001)]
    pub max_error_rate: f64,
    /// Largest p99 pacer lag before a step is invalid.
    #[arg(long, default_value = "2ms", value_parser = parse_duration)]
    pub max_lag: Duration,
    /// A request unanswered this long is an error.
    #[arg(long, default_value = "5s", value_parser = parse_duration)]
    pub request_timeout: Duration,
    /// Worker threads of the generator.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=64))]
    pub threads: u64,
    /// Pin the generator's threads to these cores (comma-separated, ranges allowed: 0 or
    /// 0,2-3); by default they are not pinned.
    #[arg(long, value_parser = parse_cores)]
    pub cores: Option<Cores>,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

fn parse_protocol(s: &str) -> Result<Protocol, String> {
    s.parse()
}
fn parse_transport(s: &str) -> Result<Transport, String> {
    s.parse()
}

/// A list of core numbers (`--cores`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cores(pub Vec<usize>);

/// Parses `0`, `0,2` or `0-3,6` into core numbers (sorted, without repeats).
pub fn parse_cores(s: &str) -> Result<Cores, String> {
    let bad = || format!("bad core list '{s}' (expected e.g. 0 or 0,2-3)");
    let mut cores = Vec::new();
    for part in s.split(',') {
        let part = part.trim();
        let (a, b) = part.split_once('-').unwrap_or((part, part));
        let a: usize = a.trim().parse().map_err(|_| bad())?;
        let b: usize = b.trim().parse().map_err(|_| bad())?;
        if a > b || b >= 1024 {
            return Err(bad());
        }
        cores.extend(a..=b);
    }
    cores.sort_unstable();
    cores.dedup();
    Ok(Cores(cores))
}

impl LoadArgs {
    /// The generator configuration, or why the flags make no sense (a non-loopback target
    /// among them).
    pub fn config(&self) -> Result<LoadConfig, LoadError> {
        let target = Target::parse(&self.target)?;
        let mut c = LoadConfig::new(target, self.protocol, self.transport);
        c.insecure = self.insecure;
        c.accounts = self.accounts as usize;
        c.vus = self.vus as usize;
        c.connections = self.connections as usize;
        c.mix = match self.mix.as_str() {
            "me" => Mix::MeOnly,
            "login" => Mix::LoginOnly,
            "floor" => Mix::Floor,
            _ => Mix::Flow {
                reads_per_write: self.reads_per_write,
                writes_per_session: self.writes_per_session,
            },
        };
        c.request_timeout = self.request_timeout;
        c.max_lag = self.max_lag;
        c.threads = self.threads as usize;
        c.cores = self.cores.clone().map(|c| c.0).unwrap_or_default();
        Ok(c)
    }

    /// The search parameters.
    pub fn search(&self) -> Result<SearchParams, LoadError> {
        let rate_ok = |r: f64| (1.0..=1e7).contains(&r);
        if !rate_ok(self.start_rate)
            || !rate_ok(self.max_rate)
            || self.rate.is_some_and(|r| !rate_ok(r))
        {
            return Err(LoadError::Config(
                "rates must be between 1 and 10,000,000 requests/s".into(),
            ));
        }
        if !(0.0..=1.0).contains(&self.max_error_rate) {
            return Err(LoadError::Config(
                "--max-error-rate is a share between 0 and 1".into(),
            ));
        }
        Ok(SearchParams {
            start_rate: self.start_rate,
            max_rate: self.max_rate,
            bisect_steps: self.bisect,
            p99_objective: self.p99,
            max_error_rate: self.max_error_rate,
            warmup: self.warmup,
            window: self.duration,
            ..SearchParams::default()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn core_lists() {
        assert_eq!(parse_cores("0").unwrap().0, vec![0]);
        assert_eq!(parse_cores("3,0-1, 1").unwrap().0, vec![0, 1, 3]);
        for bad in ["", "a", "2-1", "0,", "-1", "99999"] {
            assert!(parse_cores(bad).is_err(), "{bad}");
        }
    }
}
