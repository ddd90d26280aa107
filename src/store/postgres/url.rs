//! PostgreSQL URLs: parsing into a connection configuration with tokenbench's defaults (the
//! user `postgres` when the URL names none), the display form of an address (never the
//! password), and the environment variable the tests and benches read.

use std::time::Duration;

use postgres::Config;
use postgres::config::Host;

use crate::store::{StoreError, StoreResult, redact_url};

/// Environment variable naming the PostgreSQL server of the tests
/// (`postgres://postgres@127.0.0.1:5432/test`); read by the tests and benches, never by
/// the library itself.
pub const POSTGRES_URL_ENV: &str = "TOKENBENCH_POSTGRES_URL";

/// The user a URL without one connects as: the superuser role every installation creates
/// (and the default of the official container image). libpq would take the operating
/// system's user name, which is rarely a role on a benchmark machine (`root` here).
pub const DEFAULT_USER: &str = "postgres";

/// The URL schemes of a PostgreSQL server.
pub const SCHEMES: [&str; 2] = ["postgres://", "postgresql://"];

/// The PostgreSQL URL in [`POSTGRES_URL_ENV`], trimmed; `None` when it is unset or blank.
pub fn postgres_url_from_env() -> Option<String> {
    std::env::var(POSTGRES_URL_ENV)
        .ok()
        .map(|url| url.trim().to_owned())
        .filter(|url| !url.is_empty())
}

/// True when `url` names a PostgreSQL server (`postgres://` or `postgresql://`, any case).
pub fn is_postgres_url(url: &str) -> bool {
    SCHEMES.iter().any(|scheme| {
        url.get(..scheme.len())
            .is_some_and(|s| s.eq_ignore_ascii_case(scheme))
    })
}

/// The connection configuration of `url` (`postgres://[user[:password]@]host[:port]/db`,
/// libpq's query parameters allowed), with [`DEFAULT_USER`] when it names no user and the
/// given timeouts. The error names the URL without its password.
pub(crate) fn parse(url: &str, connect_timeout: Duration) -> StoreResult<Config> {
    let Some(scheme) = SCHEMES.iter().find(|s| {
        url.get(..s.len())
            .is_some_and(|prefix| prefix.eq_ignore_ascii_case(s))
    }) else {
        return Err(invalid(
            url,
            &"expected postgres://[user[:password]@]host[:port]/db",
        ));
    };
    // The client's parser knows the schemes in lower case only.
    let lower = format!("{scheme}{}", &url[scheme.len()..]);
    let mut config: Config = lower.parse().map_err(|e| invalid(url, &e))?;
    if config.get_hosts().is_empty() {
        return Err(invalid(url, &"no host"));
    }
    if config.get_user().is_none() {
        config.user(DEFAULT_USER);
    }
    config.connect_timeout(connect_timeout);
    // A peer that stops acknowledging (a dead host, a pulled cable) fails a call within
    // the timeout instead of leaving it hanging on the kernel's retransmissions.
    config.tcp_user_timeout(connect_timeout.max(Duration::from_secs(1)) * 2);
    Ok(config)
}

fn invalid(url: &str, why: &dyn std::fmt::Display) -> StoreError {
    StoreError::Unavailable(format!(
        "invalid PostgreSQL URL {:?}: {why}",
        redact_url(url)
    ))
}

/// `postgres://user[:***]@host:port[,host:port...]/db`: the address as it may be printed.
pub(crate) fn display(config: &Config) -> String {
    let user = config.get_user().unwrap_or(DEFAULT_USER);
    let auth = if config.get_password().is_some() {
        format!("{user}:***@")
    } else {
        format!("{user}@")
    };
    let ports = config.get_ports();
    let hosts: Vec<String> = config
        .get_hosts()
        .iter()
        .enumerate()
        .map(|(i, host)| {
            let port = ports.get(i).or(ports.first()).copied().unwrap_or(5432);
            match host {
                Host::Tcp(name) if name.contains(':') => format!("[{name}]:{port}"),
                Host::Tcp(name) => format!("{name}:{port}"),
                Host::Unix(path) => format!("{}:{port}", path.display()),
            }
        })
        .collect();
    let db = config.get_dbname().unwrap_or(user);
    format!("postgres://{auth}{}/{db}", hosts.join(","))
}

/// True when every host of `config` is on this machine (a loopback address, `localhost`
/// or a Unix socket): only then can the server's processes be this machine's.
pub(crate) fn is_local(config: &Config) -> bool {
    config.get_hosts().iter().all(|host| match host {
        Host::Unix(_) => true,
        Host::Tcp(name) => {
            name.eq_ignore_ascii_case("localhost")
                || name
                    .trim_matches(|c| c == '[' || c == ']')
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback())
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: Duration = Duration::from_secs(1);

    #[test]
    fn urls_parse_with_the_default_user_and_show_no_password() {
        let config = parse("postgres://127.0.0.1:5432/test", T).unwrap();
        assert_eq!(config.get_user(), Some(DEFAULT_USER));
        assert_eq!(display(&config), "postgres://postgres@127.0.0.1:5432/test");
        assert!(is_local(&config));
        let config = parse("postgresql://alice:s3cr3t@db.example:6543/app", T).unwrap();
        assert_eq!(config.get_password(), Some(&b"s3cr3t"[..]));
        assert_eq!(display(&config), "postgres://alice:***@db.example:6543/app");
        assert!(!is_local(&config));
        let config = parse("POSTGRES://bob@[::1]/x?password=pw", T).unwrap();
        assert_eq!(display(&config), "postgres://bob:***@[::1]:5432/x");
        assert!(is_local(&config));
        let config = parse("postgres://localhost", T).unwrap();
        assert_eq!(
            display(&config),
            "postgres://postgres@localhost:5432/postgres"
        );
    }

    #[test]
    fn bad_urls_are_refused_without_their_password() {
        for url in [
            "postgres://alice:hunter2@h:notaport/db",
            "redis://alice:hunter2@h/",
            "postgres://alice:hunter2@h/db?nosuchoption=1",
        ] {
            let err = parse(url, T).unwrap_err().to_string();
            assert!(err.contains("invalid PostgreSQL URL"), "{err}");
            assert!(!err.contains("hunter2"), "{err}");
        }
        assert!(is_postgres_url("postgresql://h/db") && is_postgres_url("Postgres://h"));
        assert!(!is_postgres_url("postgre://h") && !is_postgres_url("redis://h"));
    }
}
