//! What a test of a networked store does when it cannot have its server: skip locally,
//! fail on CI.
//!
//! Every test (and bench) that needs the shared Redis (`TOKENBENCH_REDIS_URL`) or a
//! private `redis-server` / `redis-cli` asks here ([`shared_redis_url`], [`shared_store`],
//! [`connect`], and
//! `PrivateServer::start_or_skip` / `PrivateCluster::start_or_skip` in `common`); every
//! test that needs PostgreSQL (`TOKENBENCH_POSTGRES_URL`) asks [`shared_postgres_url`] or
//! [`shared_postgres_store`]:
//!
//! - with `CI` set to anything non-empty, a missing server fails the test: on CI every
//!   Redis and PostgreSQL test must run, never pass as skipped;
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

use tokenbench::store::{
    POSTGRES_URL_ENV, PostgresStore, REDIS_URL_ENV, RedisStore, postgres_url_from_env, redact_url,
    redis_url_from_env,
};

/// The command line that runs the Redis tests, for the notices.
pub const HOW_TO_RUN: &str = "TOKENBENCH_REDIS_URL=redis://127.0.0.1:6379/ cargo test";

/// The command line that runs the PostgreSQL tests, for the notices.
pub const POSTGRES_HOW_TO_RUN: &str =
    "TOKENBENCH_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test cargo test";

/// True when a `CI` variable with this value asks for every test to run.
pub fn is_ci(value: Option<&OsStr>) -> bool {
    value.is_some_and(|v| !v.is_empty())
}

/// True when this process runs on CI (`CI` set and non-empty).
pub fn on_ci() -> bool {
    is_ci(std::env::var_os("CI").as_deref())
}

/// The test cannot have `missing` (Redis): on CI (`ci`), fails it (panics); otherwise
/// returns, after saying once per test binary and reason that such tests are skipped.
pub fn skip_or_fail(missing: &str, ci: bool) {
    skip_or_fail_for(
        "Redis",
        HOW_TO_RUN,
        " (redis-server and redis-cli on PATH)",
        missing,
        ci,
    );
}

/// [`skip_or_fail`] for a PostgreSQL test.
pub fn skip_or_fail_postgres(missing: &str, ci: bool) {
    skip_or_fail_for("PostgreSQL", POSTGRES_HOW_TO_RUN, "", missing, ci);
}

/// A test of `server` cannot have `missing`: fails on CI, else says once that it skips
/// and how to run it (`how`, then `needs`).
fn skip_or_fail_for(server: &str, how: &str, needs: &str, missing: &str, ci: bool) {
    assert!(
        !ci,
        "{missing}, and CI is set: on CI a {server} test must run, not pass as skipped \
         ({how}; .ci/run starts {server})"
    );
    if first_time(missing) {
        // The crate's name: which test binary skips.
        let binary = module_path!().split("::").next().unwrap_or("tests");
        let _ = writeln!(
            std::io::stderr(),
            "note: {binary}: skipping the tests that need {server} ({missing}); run them with \
             `{how}`{needs}. With CI set they fail instead."
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

/// The shared PostgreSQL server's URL from `TOKENBENCH_POSTGRES_URL`; `None` (skip) when
/// it is not set, a failed test on CI.
#[allow(dead_code)]
pub fn shared_postgres_url() -> Option<String> {
    let url = postgres_url_from_env();
    if url.is_none() {
        skip_or_fail_postgres(&format!("{POSTGRES_URL_ENV} is not set"), on_ci());
    }
    url
}

/// A store with a fresh table on the shared PostgreSQL server; `None` (skip, a failed
/// test on CI) when `TOKENBENCH_POSTGRES_URL` is not set; panics when it is set but the
/// server cannot be reached.
#[allow(dead_code)]
pub fn shared_postgres_store() -> Option<PostgresStore> {
    shared_postgres_url().map(|url| connect_postgres(&url))
}

/// A store with a fresh table on the PostgreSQL server at `url` (configured: a failure
/// fails the test, the URL shown without its password).
#[allow(dead_code)]
pub fn connect_postgres(url: &str) -> PostgresStore {
    PostgresStore::connect(url).unwrap_or_else(|e| panic!("{}", unreachable_postgres(url, &e)))
}

/// `panic!` message for a PostgreSQL server that is configured but does not answer: the
/// URL without its password.
#[allow(dead_code)]
pub fn unreachable_postgres(url: &str, error: &dyn std::fmt::Display) -> String {
    format!(
        "{POSTGRES_URL_ENV}={} is set but PostgreSQL is unreachable: {error}",
        redact_url(url)
    )
}
