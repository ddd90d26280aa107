//! Redis URLs: the one redaction applied wherever a URL can be printed ([`redact_url`]),
//! the display form of a parsed URL, cluster URLs (`redis+cluster://`), and the environment
//! variable that names the server when `--store redis` gives none.

use redis::{ConnectionAddr, ConnectionInfo, IntoConnectionInfo};

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

/// `text` with the password of every URL in it replaced by `***`: the one redaction
/// applied wherever a URL given by the user (on the command line, in
/// `TOKENBENCH_REDIS_URL`) can be printed or written (errors, logs, `meta.json`, reports).
///
/// `text` is one URL or one command-line argument: a comma-separated list of URLs
/// (`memory,redis://:pw@a,redis+cluster://u:pw@b:1,c:2`) or `--store=URL` is fine. A URL
/// runs until the next `scheme://`, and its user information until its last `@`, so a
/// password holding `@`, `/` or `?` (raw or percent-encoded) is hidden whole. The user
/// name stays (`user:***@`); a lone user information (`redis://secret@host`), often meant
/// as a password, is hidden too (`***@`), and so are `pass=` / `password=` query values
/// (`redis+unix:///run/redis.sock?pass=...`). Not meant for free prose, where a URL ends
/// at a space: redact the URL before putting it in a sentence.
///
/// ```
/// use tokenbench::store::redact_url;
/// assert_eq!(redact_url("redis://alice:s3cr3t@h:6390/1"), "redis://alice:***@h:6390/1");
/// assert_eq!(redact_url("memory,redis://:pw@a:1"), "memory,redis://:***@a:1");
/// assert_eq!(redact_url("--quick"), "--quick");
/// ```
pub fn redact_url(text: &str) -> String {
    let starts = url_starts(text);
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    for (k, &(_, authority)) in starts.iter().enumerate() {
        let end = starts.get(k + 1).map_or(text.len(), |&(next, _)| next);
        out.push_str(&text[copied..authority]);
        let rest = &text[authority..end];
        let rest = match rest.rfind('@') {
            Some(at) => {
                let shown = match rest[..at].split_once(':') {
                    Some((user, _)) => shown_userinfo(Some(user).filter(|u| !u.is_empty()), true),
                    None if at == 0 => "@".to_owned(),
                    None => shown_userinfo(Some(&rest[..at]), false),
                };
                out.push_str(&shown);
                &rest[at + 1..]
            }
            None => rest,
        };
        out.push_str(&redact_query(rest));
        copied = end;
    }
    out.push_str(&text[copied..]);
    out
}

/// `(start of the scheme, start of the authority)` of every `scheme://` in `text`.
fn url_starts(text: &str) -> Vec<(usize, usize)> {
    let is_scheme = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.');
    text.match_indices("://")
        .map(|(i, _)| {
            let scheme = text[..i]
                .bytes()
                .rev()
                .take_while(|&b| is_scheme(b))
                .count();
            (i - scheme, i + 3)
        })
        .collect()
}

/// `pass=` and `password=` query values of one URL's host-and-after part, as `***`.
fn redact_query(rest: &str) -> String {
    let Some((before, query)) = rest.split_once('?') else {
        return rest.to_owned();
    };
    let pairs: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((key, _))
                if key.eq_ignore_ascii_case("pass") || key.eq_ignore_ascii_case("password") =>
            {
                format!("{key}=***")
            }
            _ => pair.to_owned(),
        })
        .collect();
    format!("{before}?{}", pairs.join("&"))
}

/// The user information shown for a URL, with its `@`: `user:***@`, `:***@`, or `***@`
/// for a user name without a password (`redis://secret@host` is often meant as one).
pub(super) fn shown_userinfo(user: Option<&str>, password: bool) -> String {
    match (user, password) {
        (Some(user), true) => format!("{user}:***@"),
        (None, true) => ":***@".to_owned(),
        (Some(_), false) => "***@".to_owned(),
        (None, false) => String::new(),
    }
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
    fn redact_url_hides_every_password_and_keeps_the_rest() {
        let cases = [
            // Password only, user and password, user name alone (often meant as one).
            (
                "redis://:hunter2@127.0.0.1:6379/0",
                "redis://:***@127.0.0.1:6379/0",
            ),
            ("redis://bob:hunter2@h/1", "redis://bob:***@h/1"),
            ("redis://hunter2@h", "redis://***@h"),
            ("redis://alice:@h", "redis://alice:***@h"),
            ("redis://@h:1", "redis://@h:1"),
            // No authentication: unchanged.
            ("redis://127.0.0.1:6379", "redis://127.0.0.1:6379"),
            ("redis+cluster://a:1,b:2", "redis+cluster://a:1,b:2"),
            ("--quick", "--quick"),
            ("", ""),
            // Percent-encoded, or with raw `@`, `:`, `/`, `?` in the password.
            ("redis://u:%23%40%3C%3E%24@e.com/2", "redis://u:***@e.com/2"),
            (
                "redis://alice:p@ss@w@rd@host:6390",
                "redis://alice:***@host:6390",
            ),
            ("redis://alice:a:b/c?d@host", "redis://alice:***@host"),
            ("rediss://u:pw@h:6380/0", "rediss://u:***@h:6380/0"),
            // Cluster URLs with several hosts.
            (
                "redis+cluster://bob:pw@10.0.0.1:7000,10.0.0.2:7001/0",
                "redis+cluster://bob:***@10.0.0.1:7000,10.0.0.2:7001/0",
            ),
            (
                "REDIS+CLUSTER://:pw@a:1,b:2",
                "REDIS+CLUSTER://:***@a:1,b:2",
            ),
            // Several URLs in one argument, and `--flag=URL`.
            (
                "memory,redis://:pw1@a:1,redis+cluster://u:pw2@b:1,c:2,rwlock",
                "memory,redis://:***@a:1,redis+cluster://u:***@b:1,c:2,rwlock",
            ),
            ("--store=redis://u:pw@h", "--store=redis://u:***@h"),
            // Query-string passwords (redis+unix).
            (
                "redis+unix:///run/redis.sock?db=1&pass=pw&user=u",
                "redis+unix:///run/redis.sock?db=1&pass=***&user=u",
            ),
        ];
        for (url, shown) in cases {
            assert_eq!(redact_url(url), shown, "{url}");
            // Redacting twice changes nothing more.
            assert_eq!(redact_url(shown), shown, "{shown}");
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
