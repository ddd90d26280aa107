//! The one redaction of store addresses: whatever names a store server (a `--store` value,
//! a URL from the environment, an address in an error) goes through [`redact_url`] before
//! it is printed or written, whichever store the URL is for.

/// `text` with the password of every URL in it replaced by `***`: the one redaction
/// applied wherever a store URL given by the user (on the command line, in
/// `TOKENBENCH_REDIS_URL` or `TOKENBENCH_POSTGRES_URL`) can be printed or written (errors,
/// logs, `meta.json`, reports, the command line's echo), whichever store it names.
///
/// `text` is one URL or one command-line argument: a comma-separated list of URLs
/// (`memory,redis://:pw@a,redis+cluster://u:pw@b:1,c:2`) or `--store=URL` is fine. A URL
/// runs until the next `scheme://`, and its user information until its last `@`, so a
/// password holding `@`, `/` or `?` (raw or percent-encoded) is hidden whole. The user
/// name stays (`user:***@`); a lone user information of a Redis URL (`redis://secret@host`),
/// often meant as a password, is hidden too (`***@`), where a PostgreSQL URL's
/// (`postgres://alice@host/db`) is a user name and stays; `pass=` / `password=` query
/// values are hidden (`redis+unix:///run/redis.sock?pass=...`, `postgres://h/db?password=...`). Not meant for free prose, where a URL ends
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
    for (k, &(scheme, authority)) in starts.iter().enumerate() {
        let end = starts.get(k + 1).map_or(text.len(), |&(next, _)| next);
        out.push_str(&text[copied..authority]);
        let rest = &text[authority..end];
        let rest = match rest.rfind('@') {
            Some(at) => {
                let shown = match rest[..at].split_once(':') {
                    Some((user, _)) => shown_userinfo(Some(user).filter(|u| !u.is_empty()), true),
                    None if at == 0 => "@".to_owned(),
                    None if names_a_user(&text[scheme..authority]) => rest[..=at].to_owned(),
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

/// True for a URL scheme (`postgres://`, `postgresql://`) whose lone user information is a
/// user name, never a password.
fn names_a_user(scheme: &str) -> bool {
    let scheme = scheme.trim_end_matches("://").to_ascii_lowercase();
    scheme == "postgres" || scheme == "postgresql"
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
pub(crate) fn shown_userinfo(user: Option<&str>, password: bool) -> String {
    match (user, password) {
        (Some(user), true) => format!("{user}:***@"),
        (None, true) => ":***@".to_owned(),
        (Some(_), false) => "***@".to_owned(),
        (None, false) => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
            // PostgreSQL, with and without a user; a query-string password.
            (
                "postgres://alice:s3cr3t@127.0.0.1:5432/test",
                "postgres://alice:***@127.0.0.1:5432/test",
            ),
            ("postgresql://:pw@h/db", "postgresql://:***@h/db"),
            ("postgres://alice@h/db", "postgres://alice@h/db"),
            ("POSTGRESQL://bob@h:5433/db", "POSTGRESQL://bob@h:5433/db"),
            (
                "postgres://h/db?user=u&password=pw&sslmode=disable",
                "postgres://h/db?user=u&password=***&sslmode=disable",
            ),
            (
                "memory,postgres://u:pw1@a/db,redis://:pw2@b",
                "memory,postgres://u:***@a/db,redis://:***@b",
            ),
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
}
