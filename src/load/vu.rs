//! A virtual user: the requests of the Superb Site's flow, one at a time, with the state a
//! browser or API client keeps (cookie jar, bearer token, CSRF token).

use http_body_util::Full;
use hyper::body::Bytes;
use hyper::header::{self, HeaderValue};
use hyper::{Method, Request, StatusCode, Uri};
use serde::{Deserialize, Serialize};

use super::client::Answer;
use super::{LoadConfig, Mix};
use crate::net::Transport;

/// The kind of a request in the mix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// `GET /login`.
    LoginPage,
    /// `POST /login`.
    Login,
    /// `GET /me`.
    Me,
    /// `POST /api/notes`.
    Note,
    /// `POST /logout`.
    Logout,
    /// `GET /floor`.
    Floor,
    /// `POST /token/refresh` (a scheme with refresh tokens, once every
    /// [`LoadConfig::refresh_every`] requests).
    Refresh,
}

impl Kind {
    /// The status a correct server answers.
    pub fn expected(self, transport: Transport) -> StatusCode {
        match (self, transport) {
            (Kind::LoginPage, _) | (Kind::Me, _) | (Kind::Floor, _) | (Kind::Refresh, _) => {
                StatusCode::OK
            }
            (Kind::Login, Transport::Cookie) => StatusCode::SEE_OTHER,
            (Kind::Login, Transport::Bearer) => StatusCode::OK,
            (Kind::Note, _) => StatusCode::CREATED,
            (Kind::Logout, _) => StatusCode::NO_CONTENT,
        }
    }
}

/// One virtual user's state.
#[derive(Debug, Clone)]
pub struct Vu {
    user: usize,
    next_user: usize,
    stride: usize,
    jar: Vec<(String, String)>,
    /// The `Cookie` header of `jar`, built when the jar changes (not per request).
    cookie_header: Option<HeaderValue>,
    /// `Authorization: Bearer ...`, built once per login.
    bearer: Option<HeaderValue>,
    csrf: Option<HeaderValue>,
    form_csrf: Option<String>,
    /// The request URIs and `Host`, built on the first request.
    /// Request URIs and `Host` per server (a site's nodes), built once each.
    paths: Vec<Paths>,
    next: Kind,
    reads: u32,
    writes: u32,
    /// The refresh token: the bearer login's `refresh_token`, or the `__Secure-refresh`
    /// cookie (kept out of the jar: the server scopes it to `Path=/token/refresh`).
    refresh: Option<String>,
    /// Authenticated requests since the login or the last refresh.
    since_refresh: u32,
    /// The request the refresh interrupted.
    after_refresh: Kind,
}

impl Vu {
    /// Virtual user `lane` of `lanes`; it logs in as accounts `lane`, `lane + lanes`, ...
    pub fn new(lane: usize, lanes: usize) -> Vu {
        Vu {
            user: lane,
            next_user: lane,
            stride: lanes.max(1),
            jar: Vec::new(),
            cookie_header: None,
            bearer: None,
            csrf: None,
            form_csrf: None,
            paths: Vec::new(),
            next: Kind::LoginPage,
            reads: 0,
            writes: 0,
            refresh: None,
            since_refresh: 0,
            after_refresh: Kind::Me,
        }
    }

    /// Spreads users over the flow: user `lane` of `lanes` begins its first session with
    /// a share of its writes already done, so later logins (milliseconds of argon2id each)
    /// arrive spread out instead of all virtual users logging in at the same instant.
    pub fn stagger(&mut self, cfg: &LoadConfig, lane: usize, lanes: usize) {
        if let Mix::Flow {
            writes_per_session, ..
        } = cfg.mix
        {
            let w = u64::from(writes_per_session);
            self.writes = u32::try_from(lane as u64 * w / lanes.max(1) as u64).unwrap_or(0);
        }
    }

    /// Starts over as the next account (after a logout or an error); with the login-only
    /// mix, straight at `POST /login`.
    pub fn restart_for(&mut self, cfg: &LoadConfig) {
        self.restart(cfg.accounts);
        match cfg.mix {
            Mix::LoginOnly => self.next = Kind::Login,
            Mix::Floor => self.next = Kind::Floor,
            _ => {}
        }
    }

    /// Starts over as the next account (after a logout or an error).
    pub fn restart(&mut self, accounts: usize) {
        self.user = self.next_user % accounts.max(1);
        self.next_user = self.next_user.wrapping_add(self.stride);
        self.jar.clear();
        self.cookie_header = None;
        self.bearer = None;
        self.csrf = None;
        self.form_csrf = None;
        self.next = Kind::LoginPage;
        self.reads = 0;
        self.writes = 0;
        self.refresh = None;
        self.since_refresh = 0;
    }

    /// The kind of the next request.
    pub fn next_kind(&self) -> Kind {
        self.next
    }

    /// The next request; `absolute` for HTTP/2 (scheme and authority in the URI). Built
    /// from values prepared once (URIs, `Host`) or once per login (credential, CSRF
    /// token): no formatting or header validation per request.
    pub fn request(&mut self, cfg: &LoadConfig, absolute: bool) -> Request<Full<Bytes>> {
        let (method, body): (Method, Bytes) = match self.next {
            Kind::LoginPage | Kind::Me => (Method::GET, Bytes::new()),
            Kind::Login => {
                let form = format!(
                    "username=user-{u}&password=password-{u}&csrf={c}",
                    u = self.user,
                    c = self.form_csrf.as_deref().unwrap_or("")
                );
                (Method::POST, Bytes::from(form))
            }
            Kind::Note => (Method::POST, Bytes::from_static(b"{\"text\":\"hello\"}")),
            Kind::Logout => (Method::POST, Bytes::new()),
            Kind::Floor => (Method::GET, Bytes::new()),
            Kind::Refresh => match cfg.transport {
                Transport::Bearer => (
                    Method::POST,
                    Bytes::from(
                        serde_json::json!({ "refresh_token": self.refresh.as_deref().unwrap_or("") })
                            .to_string(),
                    ),
                ),
                Transport::Cookie => (Method::POST, Bytes::new()),
            },
        };
        let at = match self
            .paths
            .iter()
            .position(|p| p.authority == cfg.target.authority)
        {
            Some(i) => i,
            None => {
                self.paths.push(Paths::new(cfg));
                self.paths.len() - 1
            }
        };
        let paths = &self.paths[at];
        let mut req = Request::new(Full::new(body));
        *req.method_mut() = method;
        *req.uri_mut() = paths.uri(self.next, absolute).clone();
        let h = req.headers_mut();
        if !absolute && let Some(host) = &paths.host {
            h.insert(header::HOST, host.clone());
        }
        match self.next {
            Kind::Login => {
                h.insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/x-www-form-urlencoded"),
                );
            }
            Kind::Note => {
                h.insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                );
            }
            Kind::Refresh if cfg.transport == Transport::Bearer => {
                h.insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                );
            }
            _ => {}
        }
        let refresh_cookie = match (self.next, cfg.transport, &self.refresh) {
            (Kind::Refresh, Transport::Cookie, Some(r)) => Some(r.as_str()),
            _ => None,
        };
        match (&self.cookie_header, refresh_cookie) {
            (Some(c), Some(r)) => {
                let both = format!("{}; {REFRESH_COOKIE}={r}", c.to_str().unwrap_or(""));
                if let Ok(v) = HeaderValue::try_from(both) {
                    h.insert(header::COOKIE, v);
                }
            }
            (Some(c), None) => {
                h.insert(header::COOKIE, c.clone());
            }
            (None, Some(r)) => {
                if let Ok(v) = HeaderValue::try_from(format!("{REFRESH_COOKIE}={r}")) {
                    h.insert(header::COOKIE, v);
                }
            }
            (None, None) => {}
        }
        if let Some(t) = &self.bearer {
            h.insert(header::AUTHORIZATION, t.clone());
        }
        if matches!(self.next, Kind::Note | Kind::Logout | Kind::Refresh)
            && let Some(c) = &self.csrf
        {
            h.insert(CSRF_HEADER, c.clone());
        }
        req
    }

    /// Takes the answer to the request of kind `kind`; `Err` names what was wrong, and the
    /// user then starts over.
    pub fn answer(&mut self, cfg: &LoadConfig, kind: Kind, a: &Answer) -> Result<(), String> {
        if a.status != kind.expected(cfg.transport) {
            return Err(format!("{kind:?} answered {}", a.status.as_u16()));
        }
        self.take_cookies(a.headers.get_all(header::SET_COOKIE).iter());
        match kind {
            Kind::LoginPage => {
                self.form_csrf = Some(form_csrf(&a.body).ok_or("no csrf input in the login form")?);
                self.next = Kind::Login;
            }
            Kind::Login => {
                if cfg.transport == Transport::Bearer {
                    let v: serde_json::Value = serde_json::from_slice(&a.body)
                        .map_err(|_| "login answer is not JSON".to_owned())?;
                    let t = v["access_token"].as_str().ok_or("no access_token")?;
                    self.bearer = Some(
                        HeaderValue::try_from(format!("Bearer {t}"))
                            .map_err(|_| "access_token is not a header value".to_owned())?,
                    );
                    if let Some(r) = v["refresh_token"].as_str() {
                        self.refresh = Some(r.to_owned());
                    }
                }
                self.since_refresh = 0;
                if cfg.mix == Mix::LoginOnly {
                    self.restart_for(cfg);
                    return Ok(());
                }
                self.next = Kind::Me;
            }
            Kind::Me => {
                if cfg.transport == Transport::Cookie && self.csrf.is_none() {
                    let v: serde_json::Value = serde_json::from_slice(&a.body)
                        .map_err(|_| "/me answer is not JSON".to_owned())?;
                    let c = v["csrf"].as_str().ok_or("no csrf in /me")?;
                    self.csrf = Some(
                        HeaderValue::from_str(c)
                            .map_err(|_| "csrf is not a header value".to_owned())?,
                    );
                }
                self.reads += 1;
                self.next = match cfg.mix {
                    Mix::MeOnly | Mix::LoginOnly | Mix::Floor => Kind::Me,
                    Mix::Flow {
                        reads_per_write, ..
                    } if self.reads >= reads_per_write.max(1) => Kind::Note,
                    Mix::Flow { .. } => Kind::Me,
                };
                self.maybe_refresh(cfg);
            }
            Kind::Note => {
                self.reads = 0;
                self.writes += 1;
                self.next = match cfg.mix {
                    Mix::Flow {
                        writes_per_session, ..
                    } if self.writes >= writes_per_session => Kind::Logout,
                    _ => Kind::Me,
                };
                self.maybe_refresh(cfg);
            }
            Kind::Logout => self.restart(cfg.accounts),
            Kind::Floor => {}
            Kind::Refresh => {
                let v: serde_json::Value = serde_json::from_slice(&a.body)
                    .map_err(|_| "refresh answer is not JSON".to_owned())?;
                match cfg.transport {
                    Transport::Bearer => {
                        let t = v["access_token"].as_str().ok_or("no access_token")?;
                        self.bearer = Some(
                            HeaderValue::try_from(format!("Bearer {t}"))
                                .map_err(|_| "access_token is not a header value".to_owned())?,
                        );
                        let r = v["refresh_token"].as_str().ok_or("no refresh_token")?;
                        self.refresh = Some(r.to_owned());
                    }
                    Transport::Cookie => {
                        // The new access token has a new CSRF token.
                        let c = v["csrf"].as_str().ok_or("no csrf in the refresh answer")?;
                        self.csrf = Some(
                            HeaderValue::from_str(c)
                                .map_err(|_| "csrf is not a header value".to_owned())?,
                        );
                    }
                }
                self.since_refresh = 0;
                self.next = self.after_refresh;
            }
        }
        Ok(())
    }

    /// Counts an authenticated request; every [`LoadConfig::refresh_every`] of them, the
    /// next request is a refresh (the planned one follows it). A user without a refresh
    /// token (another scheme) never refreshes; nor does one about to log out.
    fn maybe_refresh(&mut self, cfg: &LoadConfig) {
        self.since_refresh += 1;
        let Some(n) = cfg.refresh_every else { return };
        if self.refresh.is_some() && self.next != Kind::Logout && self.since_refresh >= n.max(1) {
            self.after_refresh = self.next;
            self.next = Kind::Refresh;
        }
    }

    fn take_cookies<'a>(&mut self, values: impl Iterator<Item = &'a HeaderValue>) {
        let mut changed = false;
        for v in values {
            changed = true;
            let Ok(s) = v.to_str() else { continue };
            let Ok(c) = cookie::Cookie::parse(s.to_owned()) else {
                continue;
            };
            if c.name() == REFRESH_COOKIE {
                self.refresh = Some(c.value().to_owned()).filter(|v| !v.is_empty());
                continue;
            }
            self.jar.retain(|(n, _)| n != c.name());
            let removal = c.value().is_empty() || c.max_age().is_some_and(|m| m.is_zero());
            if !removal {
                self.jar.push((c.name().to_owned(), c.value().to_owned()));
            }
        }
        if changed {
            let joined: Vec<String> = self.jar.iter().map(|(n, v)| format!("{n}={v}")).collect();
            // A cookie the server set is a valid header value; should one not be, the
            // requests go without it and their errors are counted.
            self.cookie_header = if joined.is_empty() {
                None
            } else {
                HeaderValue::try_from(joined.join("; ")).ok()
            };
        }
    }
}

/// The cookie of a hybrid's refresh token (`http::routes::REFRESH_COOKIE`; the load
/// generator is a client and imports nothing of the server).
const REFRESH_COOKIE: &str = "__Secure-refresh";

/// The CSRF header of `POST /api/notes`, `POST /logout` and `POST /token/refresh`.
const CSRF_HEADER: header::HeaderName = header::HeaderName::from_static("x-csrf-token");

/// The request URIs of one target, relative (HTTP/1.1) and absolute (HTTP/2), and its
/// `Host` header.
#[derive(Debug, Clone)]
struct Paths {
    authority: String,
    relative: [Uri; 7],
    absolute: [Uri; 7],
    host: Option<HeaderValue>,
}

impl Paths {
    const ALL: [&'static str; 7] = [
        "/login",
        "/login",
        "/me",
        "/api/notes",
        "/logout",
        "/floor",
        "/token/refresh",
    ];

    fn new(cfg: &LoadConfig) -> Paths {
        let uri = |s: String| s.parse::<Uri>().unwrap_or_default();
        Paths {
            authority: cfg.target.authority.clone(),
            relative: Self::ALL.map(Uri::from_static),
            absolute: Self::ALL.map(|p| uri(format!("{}{p}", cfg.target.url))),
            host: HeaderValue::from_str(&cfg.target.authority).ok(),
        }
    }

    fn uri(&self, kind: Kind, absolute: bool) -> &Uri {
        let i = match kind {
            Kind::LoginPage => 0,
            Kind::Login => 1,
            Kind::Me => 2,
            Kind::Note => 3,
            Kind::Logout => 4,
            Kind::Floor => 5,
            Kind::Refresh => 6,
        };
        if absolute {
            &self.absolute[i]
        } else {
            &self.relative[i]
        }
    }
}

/// The value of the hidden `csrf` input of the login form.
pub fn form_csrf(body: &[u8]) -> Option<String> {
    let s = std::str::from_utf8(body).ok()?;
    let at = s.find("name=\"csrf\"")?;
    let rest = &s[at..];
    let v = rest.find("value=\"")? + "value=\"".len();
    let end = rest[v..].find('"')?;
    Some(rest[v..v + end].to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_form_csrf() {
        let html = b"<form><input type=\"hidden\" name=\"csrf\" value=\"ab.c-d_\"></form>";
        assert_eq!(form_csrf(html).as_deref(), Some("ab.c-d_"));
        assert_eq!(form_csrf(b"<form></form>"), None);
    }
}
