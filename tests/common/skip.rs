//! What a Redis test does when it cannot have Redis: skip locally, fail on CI.
//!
//! Every test (and bench) that needs the shared server (`TOKENBENCH_REDIS_URL`) or a
//! private `redis-server` / `redis-cli` asks here ([`shared_redis_url`], [`shared_store`],
//! [`connect`], and
//! `PrivateServer::start_or_skip` / `PrivateCluster::start_or_skip` in `common`):
//!
//! - with `CI` set to anything non-empty, a missing Redis fails the test: on CI every
//!   Redis test must run, never pass as skipped;
//! - otherwise the test returns early (passes), and the test binary says once which tests
//!   it skipped and how to run them. The notice is written to stderr with `writeln!`,
//!   which libtest does not capture (it captures only `print!` / `eprint!`), so plain
//!   `cargo test` shows it without `--nocapture`.
//!
//! Standalone (no other `common` module), so that `benches/redis_pool.rs` includes it
//! with `#[path]`.

use std::ffi::OsStr;
use std::io::Write;
use std::sync::Mutex;

use tokenbench::store::{REDIS_URL_ENV, RedisStore, redact_url, redis_url_from_env};

/// The command line that runs the Redis tests, for the notices.
pub const HOW_TO_RUN: &str = "TOKENBENCH_REDIS_URL=redis://127.0.0.1:6379/ cargo test";

/// True when a `CI` variable with this value asks for every test to run.
pub fn is_ci(value: Option<&OsStr>) -> bool {
    value.is_some_and(|v| !v.is_empty())
}

/// True when this process runs on CI (`CI` set and non-empty).
pub fn on_ci() -> bool {
    is_ci(std::env::var_os("CI").as_deref())
}

/// The test cannot have `missing`: on CI (`ci`), fails it (panics); otherwise returns,
/// after saying once per test binary and reason that such tests are skipped.
pub fn skip_or_fail(missing: &str, ci: bool) {
    assert!(
        !ci,
        "{missing}, and CI is set: on CI a Redis test must run, not pass as skipped \
         ({HOW_TO_RUN}; .ci/run starts Redis)"
    );
    if first_time(missing) {
        // The crate's name: which test binary skips.
        let binary = module_path!().split("::").next().unwrap_or("tests");
        let _ = writeln!(
            std::io::stderr(),
            "note: {binary}: skipping the tests that need Redis ({missing}); run them with \
             `{HOW_TO_RUN}` (redis-server and redis-cli on PATH). With CI set they fail \
             instead."
        );
    }
}

/// True the first time this test binary asks about `missing`.
pub fn first_time(missing: &str) -> bool {
    static SAID: Mutex<Vec<String>> = Mutex::new(Vec::new());
    let mut said = SAID.lock().unwrap_or_else(|p| p.into_inner());
    let first = !said.iter().any(|m| m == missing);
    if first {
        said.push(missing.to_owned());
    }
    first
}

/// The shared server's URL from `TOKENBENCH_REDIS_URL`; `None` (skip) when it is not set,
/// a failed test on CI.
pub fn shared_redis_url() -> Option<String> {
    let url = redis_url_from_env();
    if url.is_none() {
        skip_or_fail(&format!("{REDIS_URL_ENV} is not set"), on_ci());
    }
    url
}

/// A store on the shared server at `url`, under `prefix` (a fresh random one when `None`);
/// panics (fails the test) when the server cannot be reached: it was configured.
pub fn connect(url: &str, prefix: Option<&str>) -> RedisStore {
    match prefix {
        Some(prefix) => RedisStore::connect_with_prefix(url, prefix),
        None => RedisStore::connect(url),
    }
    .unwrap_or_else(|e| panic!("{}", unreachable(url, &e)))
}

/// A store with a fresh key prefix on the shared server; `None` (skip, a failed test on
/// CI) when `TOKENBENCH_REDIS_URL` is not set. (Unused by the bench, which includes this
/// file alone and picks its own prefix.)
#[allow(dead_code)]
pub fn shared_store() -> Option<RedisStore> {
    shared_redis_url().map(|url| connect(&url, None))
}

/// `panic!` message for a shared server that is configured but does not answer: the URL
/// without its password.
pub fn unreachable(url: &str, error: &dyn std::fmt::Display) -> String {
    format!(
        "{REDIS_URL_ENV}={} is set but Redis is unreachable: {error}",
        redact_url(url)
    )
}
