//! The site's cross-origin policy ([`CorsPolicy`], `serve --cors-origin ORIGIN
//! [--cors-max-age SECS]`) and its layer, and the site's cookie attributes
//! ([`CookiePolicy`], `serve --samesite none|lax|strict [--partitioned]`).
//!
//! CORS, explicit and closed by default:
//! - No `--cors-origin`: no CORS header is ever sent (today's behaviour); a browser page
//!   on another origin can send requests but never read an answer.
//! - An allowlisted origin (exact match of `scheme://host[:port]`) gets its own origin
//!   echoed in `Access-Control-Allow-Origin` with `Access-Control-Allow-Credentials: true`;
//!   `*` is never sent (a wildcard with credentials is what browsers refuse and what a
//!   careless server gets wrong), and `Vary: Origin` tells caches the answer depends on it.
//! - Any other origin gets no CORS header, and its preflight (`OPTIONS` with
//!   `Access-Control-Request-Method`) a 403.
//! - A preflight from an allowlisted origin gets 204 with the methods and request headers
//!   the site's routes use and, with `--cors-max-age`, `Access-Control-Max-Age` (how long
//!   the browser may reuse it).
//!
//! Every `OPTIONS` request is counted in `GET /metrics` (`options_requests`), and so are
//! refused preflights (`preflights_refused`).

use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use cookie::{Cookie, SameSite};
use serde::{Deserialize, Serialize};

use super::app::App;

/// Methods a preflight allows: those of the site's routes.
const ALLOW_METHODS: &str = "GET, POST";
/// Request headers a preflight allows: the bearer token, the CSRF header, a form or JSON body.
const ALLOW_HEADERS: &str = "authorization, content-type, x-csrf-token";
/// Response headers a page may read beyond the CORS-safelisted ones.
const EXPOSE_HEADERS: &str = "x-token-revocation, x-token-expires";
/// Longest `--cors-max-age` (Chromium caps it at 2 h; a day is the spec's example bound).
pub const MAX_AGE_LIMIT: Duration = Duration::from_secs(86_400);

/// Which origins may read the site's answers with credentials, and how long a preflight
/// may be cached. The default allows none.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CorsPolicy {
    /// Allowlisted origins, each `scheme://host[:port]` in its serialized form (lowercase,
    /// no default port, no path).
    pub origins: Vec<String>,
    /// `Access-Control-Max-Age` of an allowed preflight; `None`: the header is not sent
    /// (Chromium then caches a preflight 5 s).
    pub max_age: Option<Duration>,
}

impl CorsPolicy {
    /// Whether `origin` (an `Origin` header's value) is allowlisted: an exact match.
    pub fn allows(&self, origin: &str) -> bool {
        self.origins.iter().any(|o| o == origin)
    }

    /// Whether any origin is allowlisted (the layer only then answers preflights).
    pub fn enabled(&self) -> bool {
        !self.origins.is_empty()
    }
}

/// Parses an origin for `--cors-origin`: `http(s)://host[:port]`, nothing else (no path,
/// no `*`, no `null`), returned in the form browsers send in `Origin`.
pub fn parse_origin(s: &str) -> Result<String, String> {
    let refuse = |why: &str| {
        Err(format!(
            "--cors-origin '{s}': {why} (expected https://HOST[:PORT], as the browser sends it in Origin)"
        ))
    };
    if s == "*" || s.eq_ignore_ascii_case("null") {
        return refuse("a wildcard or the null origin is never allowlisted with credentials");
    }
    let url = match url::Url::parse(s) {
        Ok(u) => u,
        Err(e) => return refuse(&e.to_string()),
    };
    if !matches!(url.scheme(), "http" | "https") {
        return refuse("only http and https origins");
    }
    let origin = url.origin().ascii_serialization();
    if origin != s.trim_end_matches('/').to_ascii_lowercase() || s.matches('/').count() > 2 {
        return refuse("an origin has no path, query, user or default port");
    }
    Ok(origin)
}

/// The attributes every cookie the site sets carries beyond the hardened defaults
/// (`HttpOnly`, `Secure`, `Path=/`, no `Domain`): its `SameSite` and `Partitioned`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CookiePolicy {
    /// `SameSite` of every cookie (default `Lax`). `None` requires `Secure`, which every
    /// cookie of the site carries.
    #[serde(with = "same_site_name")]
    pub same_site: SameSite,
    /// Adds `Partitioned` (CHIPS): in a third-party context the browser keeps the cookie
    /// in a jar keyed by the top-level site.
    pub partitioned: bool,
}

impl Default for CookiePolicy {
    fn default() -> Self {
        CookiePolicy {
            same_site: SameSite::Lax,
            partitioned: false,
        }
    }
}

impl CookiePolicy {
    /// `Set-Cookie` value `set_cookie` with this policy's attributes; unchanged under the
    /// default policy (the schemes render `SameSite=Lax` themselves). A value that does
    /// not parse is returned as it is (the schemes render every cookie, none is foreign).
    pub fn apply(&self, set_cookie: &str) -> String {
        if *self == CookiePolicy::default() {
            return set_cookie.to_owned();
        }
        match Cookie::parse(set_cookie) {
            Ok(mut c) => {
                c.set_same_site(self.same_site);
                c.set_secure(true);
                c.set_partitioned(self.partitioned.then_some(true));
                c.to_string()
            }
            Err(_) => set_cookie.to_owned(),
        }
    }
}

/// `none`, `lax` or `strict`, for `--samesite`.
pub fn parse_same_site(s: &str) -> Result<SameSite, String> {
    match s.to_ascii_lowercase().as_str() {
        "none" => Ok(SameSite::None),
        "lax" => Ok(SameSite::Lax),
        "strict" => Ok(SameSite::Strict),
        _ => Err(format!(
            "unknown SameSite '{s}' (expected none, lax or strict)"
        )),
    }
}

/// The `--samesite` spelling of `s`.
pub fn same_site_name(s: SameSite) -> &'static str {
    match s {
        SameSite::None => "none",
        SameSite::Lax => "lax",
        SameSite::Strict => "strict",
    }
}

mod same_site_name {
    use cookie::SameSite;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(s: &SameSite, ser: S) -> Result<S::Ok, S::Error> {
        ser.serialize_str(super::same_site_name(*s))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(de: D) -> Result<SameSite, D::Error> {
        let s = String::deserialize(de)?;
        super::parse_same_site(&s).map_err(serde::de::Error::custom)
    }
}

/// The CORS layer (see the module docs). Without an allowlist it only counts `OPTIONS`.
pub(crate) async fn layer(State(app): State<Arc<App>>, req: Request, next: Next) -> Response {
    let policy = &app.config.cors;
    let is_options = req.method() == Method::OPTIONS;
    if is_options {
        app.metrics.options_requests.fetch_add(1, Relaxed);
    }
    if !policy.enabled() {
        return next.run(req).await;
    }
    let origin = req
        .headers()
        .get(header::ORIGIN)
        .and_then(|o| o.to_str().ok())
        .map(str::to_owned);
    let preflight = is_options
        && req
            .headers()
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
    let allowed = origin.as_deref().filter(|o| policy.allows(o));
    let mut resp = match (preflight, allowed) {
        (true, Some(_)) => {
            let mut r = StatusCode::NO_CONTENT.into_response();
            let h = r.headers_mut();
            h.insert(
                header::ACCESS_CONTROL_ALLOW_METHODS,
                HeaderValue::from_static(ALLOW_METHODS),
            );
            h.insert(
                header::ACCESS_CONTROL_ALLOW_HEADERS,
                HeaderValue::from_static(ALLOW_HEADERS),
            );
            if let Some(age) = policy.max_age {
                h.insert(
                    header::ACCESS_CONTROL_MAX_AGE,
                    HeaderValue::from(age.as_secs()),
                );
            }
            r
        }
        (true, None) => {
            app.metrics.preflights_refused.fetch_add(1, Relaxed);
            (StatusCode::FORBIDDEN, "origin not allowed\n").into_response()
        }
        (false, _) => next.run(req).await,
    };
    let h = resp.headers_mut();
    h.append(header::VARY, HeaderValue::from_static("Origin"));
    if let Some(o) = allowed.and_then(|o| HeaderValue::from_str(o).ok()) {
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, o);
        h.insert(
            header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
            HeaderValue::from_static("true"),
        );
        if !preflight {
            h.insert(
                header::ACCESS_CONTROL_EXPOSE_HEADERS,
                HeaderValue::from_static(EXPOSE_HEADERS),
            );
        }
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_parse_exactly_and_wildcards_are_refused() {
        assert_eq!(
            parse_origin("https://site.test:8443").unwrap(),
            "https://site.test:8443"
        );
        assert_eq!(
            parse_origin("https://site.test").unwrap(),
            "https://site.test"
        );
        for bad in [
            "*",
            "null",
            "https://site.test/app",
            "ftp://site.test",
            "site.test",
            "https://u@site.test",
            "https://site.test:443",
        ] {
            assert!(parse_origin(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn cookie_policy_rewrites_samesite_and_partitioned_only_when_asked() {
        let lax = "__Host-sid=abc; HttpOnly; SameSite=Lax; Secure; Path=/; Max-Age=60";
        assert_eq!(CookiePolicy::default().apply(lax), lax);
        let none = CookiePolicy {
            same_site: SameSite::None,
            partitioned: true,
        }
        .apply(lax);
        assert!(none.contains("SameSite=None"), "{none}");
        assert!(
            none.contains("Partitioned") && none.contains("Secure"),
            "{none}"
        );
        assert!(
            none.contains("HttpOnly") && none.contains("Max-Age=60"),
            "{none}"
        );
        let strict = CookiePolicy {
            same_site: SameSite::Strict,
            partitioned: false,
        }
        .apply(lax);
        assert!(strict.contains("SameSite=Strict") && !strict.contains("Partitioned"));
        for s in ["none", "lax", "strict"] {
            assert_eq!(same_site_name(parse_same_site(s).unwrap()), s);
        }
        assert!(parse_same_site("sometimes").is_err());
    }
}
