//! Redis URLs: the display form of a parsed URL, cluster URLs (`redis+cluster://`), and the
//! environment variable that names the server when `--store redis` gives none. Redaction of
//! any URL is [`crate::store::redact_url`].

use redis::{ConnectionAddr, ConnectionInfo, IntoConnectionInfo};

use crate::store::url::shown_userinfo;

/// Environment variable naming the Redis server when `--store redis` gives no URL (read by
/// the binary, the tests and the benches; never by the library itself).
pub const REDIS_URL_ENV: &str = "TOKENBENCH_REDIS_URL";

/// The Redis URL in [`REDIS_URL_ENV`], trimmed; `None` when it is unset or blank.
pub fn redis_url_from_env() -> Option<String> {
    std::env::var(REDIS_URL_ENV)
        .ok()
        .map(|url| url.trim().to_owned())
        .filter(|url| !url.is_empty())
}

/// URL scheme of a Redis Cluster: `redis+cluster://[user:password@]host:port[,host:port...]`.
pub const CLUSTER_SCHEME: &str = "redis+cluster://";

/// True when `url` names a Redis Cluster rather than one server.
pub fn is_cluster_url(url: &str) -> bool {
    url.get(..CLUSTER_SCHEME.len())
        .is_some_and(|s| s.eq_ignore_ascii_case(CLUSTER_SCHEME))
}

/// `redis://[user:***@]host:port/db`, never the password (user information as
/// [`redact_url`] shows it).
pub(super) fn display_url(info: &ConnectionInfo) -> String {
    let settings = info.redis_settings();
    let auth = shown_userinfo(settings.username(), settings.password().is_some());
    match info.addr() {
        ConnectionAddr::Tcp(..) => format!("redis://{auth}{}/{}", info.addr(), settings.db()),
        ConnectionAddr::TcpTls { .. } => {
            format!("rediss://{auth}{}/{}", info.addr(), settings.db())
        }
        ConnectionAddr::Unix(_) => {
            format!("redis+unix://{auth}{}?db={}", info.addr(), settings.db())
        }
        other => format!("{other} (db {})", settings.db()),
    }
}

/// The nodes of a `redis+cluster://[auth@]host[:port][,host[:port]...][/0]` URL, each with
/// the URL's credentials. A cluster has only database 0.
pub(super) fn cluster_nodes(url: &str) -> Result<Vec<ConnectionInfo>, String> {
    let rest = &url[CLUSTER_SCHEME.len()..];
    let (rest, db) = match rest.split_once('/') {
        Some((hosts, db)) => (hosts, db),
        None => (rest, ""),
    };
    if !(db.is_empty() || db == "0") {
        return Err(format!("a Redis Cluster has only database 0, not {db:?}"));
    }
    let (auth, hosts) = match rest.rsplit_once('@') {
        Some((auth, hosts)) => (format!("{auth}@"), hosts),
        None => (String::new(), rest),
    };
    let nodes = hosts
        .split(',')
        .map(|host| {
            if host.trim().is_empty() {
                return Err("empty host in the node list (expected host:port,host:port)".into());
            }
            format!("redis://{auth}{}/", host.trim())
                .into_connection_info()
                .map_err(|e| format!("node {host:?}: {e}"))
        })
        .collect::<Result<Vec<_>, String>>()?;
    Ok(nodes)
}

/// `redis+cluster://[user:***@]host:port,host:port...`, never the password.
pub(super) fn display_cluster_url(nodes: &[ConnectionInfo]) -> String {
    let first = nodes.first().map(display_url).unwrap_or_default();
    let auth = first
        .split_once("://")
        .and_then(|(_, rest)| rest.rsplit_once('@'))
        .map_or(String::new(), |(auth, _)| format!("{auth}@"));
    let hosts: Vec<String> = nodes.iter().map(|n| n.addr().to_string()).collect();
    format!("{CLUSTER_SCHEME}{auth}{}", hosts.join(","))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::RedisStore;

    #[test]
    fn cluster_urls_name_every_node_with_the_credentials() {
        assert!(is_cluster_url("redis+cluster://a:1"));
        assert!(is_cluster_url("REDIS+CLUSTER://a:1"));
        assert!(!is_cluster_url("redis://a:1"));
        let url = "redis+cluster://bob:pw@10.0.0.1:7000,10.0.0.2:7001, 10.0.0.3/";
        let nodes = cluster_nodes(url).expect("valid cluster URL");
        let shown: Vec<String> = nodes.iter().map(display_url).collect();
        assert_eq!(
            shown,
            [
                "redis://bob:***@10.0.0.1:7000/0",
                "redis://bob:***@10.0.0.2:7001/0",
                "redis://bob:***@10.0.0.3:6379/0"
            ]
        );
        assert!(
            nodes
                .iter()
                .all(|n| n.redis_settings().password() == Some("pw"))
        );
        assert_eq!(
            display_cluster_url(&nodes),
            "redis+cluster://bob:***@10.0.0.1:7000,10.0.0.2:7001,10.0.0.3:6379"
        );
        assert!(cluster_nodes("redis+cluster://a:1/0").is_ok());
        let err = cluster_nodes("redis+cluster://a:1/2").unwrap_err();
        assert!(err.contains("only database 0"), "{err}");
        let err = cluster_nodes("redis+cluster://a:1,,b:2").unwrap_err();
        assert!(err.contains("empty host"), "{err}");
        assert!(cluster_nodes("redis+cluster://a:notaport").is_err());
    }

    #[test]
    fn invalid_urls_are_reported_without_their_password() {
        for url in [
            "redis+cluster://bob:hunter2@a:1/5",
            "redis://bob:hunter2@h:notaport/",
        ] {
            let err = RedisStore::connect_lazy(url).unwrap_err().to_string();
            assert!(err.contains("invalid Redis URL"), "{err}");
            assert!(!err.contains("hunter2"), "{err}");
        }
    }

    #[test]
    fn urls_are_shown_without_password() {
        let info = "redis://alice:s3cret@localhost:6380/2"
            .into_connection_info()
            .expect("valid URL");
        assert_eq!(display_url(&info), "redis://alice:***@localhost:6380/2");
        let info = "redis://127.0.0.1/"
            .into_connection_info()
            .expect("valid URL");
        assert_eq!(display_url(&info), "redis://127.0.0.1:6379/0");
        // A user name alone: redis-rs reads a user, the user may have meant a password.
        let info = "redis://hunter2@h:1/"
            .into_connection_info()
            .expect("valid URL");
        assert_eq!(display_url(&info), "redis://***@h:1/0");
        let info = "redis://:p%40ss@h:1/"
            .into_connection_info()
            .expect("valid URL");
        assert_eq!(info.redis_settings().password(), Some("p@ss"));
        assert_eq!(display_url(&info), "redis://:***@h:1/0");
    }
}
