//! The handlers of the Superb Site's routes (the table in [`super`]) and the layers'
//! answers (header guard and counting, load shedding, deadlines). They branch on the
//! transport, never on the token family: the credential ([`SiteCredential`]) does what
//! differs. Every scheme call goes through [`App::blocking`].
//!
//! [`SiteCredential`]: super::credential::SiteCredential

use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;

use axum::Form;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;
use tower::BoxError;

use super::app::App;
use super::config::{LogoutOutcome, Transport};
use super::credential::is_pre_login;
use super::error::{ApiError, FORBIDDEN_LOGIN, StoreDown};
use super::extract::{self, header_bytes};
use super::request_log::Seen;
use crate::scheme::Principal;

type AppState = State<Arc<App>>;

/// Marks a response shed by the concurrency limit.
#[derive(Debug, Clone, Copy)]
struct Shed;

/// Marks a response past its deadline.
#[derive(Debug, Clone, Copy)]
struct TimedOut;

/// Outermost layer: refuses oversized headers (431), then counts the answer.
pub(crate) async fn guard(State(app): AppState, req: Request, next: Next) -> Response {
    let is_metrics = matches!(
        req.uri().path(),
        "/metrics" | "/requests" | super::recorder::ROUTE
    );
    let seen = app
        .request_log
        .as_ref()
        .filter(|_| !is_metrics)
        .map(|_| Seen::of(req.method().as_str(), req.uri(), req.headers()));
    let mut resp = if header_bytes(req.headers()) > app.config.limits.max_header_bytes {
        ApiError::HeadersTooLarge.into_response()
    } else {
        next.run(req).await
    };
    resp.headers_mut().insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    let m = &app.metrics;
    if is_metrics {
        m.metrics_requests.fetch_add(1, Relaxed);
        return resp;
    }
    m.requests.fetch_add(1, Relaxed);
    m.count_status(resp.status().as_u16());
    if let (Some(log), Some(seen)) = (&app.request_log, seen) {
        log.push(seen, app.credential.cookie_name(), resp.status().as_u16());
    }
    if resp.extensions().get::<Shed>().is_some() {
        m.shed.fetch_add(1, Relaxed);
    }
    if resp.extensions().get::<StoreDown>().is_some() {
        m.store_unavailable.fetch_add(1, Relaxed);
    }
    if resp.extensions().get::<TimedOut>().is_some() {
        m.timeouts.fetch_add(1, Relaxed);
    }
    resp
}

/// The answer of the shedding and deadline layers.
pub(crate) async fn overloaded(err: BoxError) -> Response {
    if err.is::<tower::load_shed::error::Overloaded>() {
        let mut r = (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::RETRY_AFTER, "1")],
            Json(json!({"error": "overloaded, retry later"})),
        )
            .into_response();
        r.extensions_mut().insert(Shed);
        r
    } else if err.is::<tower::timeout::error::Elapsed>() {
        let mut r = (
            StatusCode::REQUEST_TIMEOUT,
            Json(json!({"error": "request not completed in time"})),
        )
            .into_response();
        r.extensions_mut().insert(TimedOut);
        r
    } else {
        ApiError::Internal("unexpected middleware error").into_response()
    }
}

/// `GET /health`.
pub(crate) async fn health() -> StatusCode {
    StatusCode::OK
}

/// Any other path.
pub(crate) async fn not_found() -> Response {
    (StatusCode::NOT_FOUND, Json(json!({"error": "not found"}))).into_response()
}

/// The query of `GET /requests`.
#[derive(Debug, Deserialize)]
pub(crate) struct After {
    #[serde(default)]
    after: u64,
}

/// `GET /requests?after=SEQ`: the requests logged after `SEQ` (`--request-log`; 404
/// without it).
pub(crate) async fn requests(
    State(app): AppState,
    axum::extract::Query(q): axum::extract::Query<After>,
) -> Response {
    match &app.request_log {
        Some(log) => Json(log.since(q.after)).into_response(),
        None => not_found().await,
    }
}

/// `GET /metrics`: the server's own figures.
pub(crate) async fn metrics(State(app): AppState) -> Response {
    Json(app.metrics_snapshot()).into_response()
}

/// `GET /debug/header-bytes`: the header bytes of every request so far
/// (`--record-header-bytes`); 404 without the flag.
pub(crate) async fn recorded_header_bytes(State(app): AppState) -> Response {
    match app.header_recorder() {
        Some(r) => Json(r.report()).into_response(),
        None => (
            StatusCode::NOT_FOUND,
            Json(json!({"error": "not recording header bytes (start serve with --record-header-bytes)"})),
        )
            .into_response(),
    }
}

/// `GET /.well-known/jwks.json`: the public key that verifies this site's tokens (a JWK
/// set, or a PASERK document for `v4.public`); 404 for a scheme with no public key.
pub(crate) async fn jwks(State(app): AppState) -> Response {
    match &app.jwks {
        Some(doc) => (
            [(header::CACHE_CONTROL, "public, max-age=300")],
            Json(doc.clone()),
        )
            .into_response(),
        None => (
            StatusCode::NOT_FOUND,
            Json(json!({"error": "this scheme has no public key (HMAC, v4.local or sessions)"})),
        )
            .into_response(),
    }
}

/// The refusal of a login on a verify-only node.
const VERIFY_ONLY: ApiError = ApiError::Forbidden(
    "this node only verifies tokens (--verify-only): log in on an issuing node",
);

/// `resp` with `cookies` set (with the site's `SameSite` and `Partitioned`,
/// [`CookiePolicy::apply`](super::cors::CookiePolicy::apply)) and `Cache-Control: no-store`.
fn with_cookies(app: &App, mut resp: Response, cookies: &[String]) -> Result<Response, ApiError> {
    for c in cookies {
        let c = app.config.cookies.apply(c);
        let v = HeaderValue::from_str(&c).map_err(|_| ApiError::Internal("cookie encoding"))?;
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(resp)
}

fn login_html(csrf: &str, transport: Transport) -> String {
    // The CSRF value is base64url and '.', nothing to escape; escape anyway.
    let csrf: String = csrf
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        .collect();
    let note = match transport {
        Transport::Cookie => "",
        Transport::Bearer => {
            "<p>Bearer transport: the token is returned as JSON; the csrf field is not checked (no ambient credential).</p>"
        }
    };
    format!(
        "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>Superb Site: log in</title></head><body>\n\
         <h1>Superb Site</h1>\n<p><strong>Demo only:</strong> accounts <code>user-&lt;i&gt;</code> with password \
         <code>password-&lt;i&gt;</code> are public test accounts (argon2id hashes, cheap parameters).</p>\n{note}\n\
         <form method=\"post\" action=\"/login\">\n\
         <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\n\
         <label>User <input name=\"username\" autocomplete=\"username\"></label>\n\
         <label>Password <input name=\"password\" type=\"password\" autocomplete=\"current-password\"></label>\n\
         <button type=\"submit\">Log in</button>\n</form>\n</body></html>\n"
    )
}

/// `GET /login`: the form, its CSRF token bound as the credential says (a pre-login
/// session, or a signed `__Host-csrf` cookie); bearer: a token that is not checked.
pub(crate) async fn login_page(
    State(app): AppState,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    if app.verify_only {
        return Err(VERIFY_ONLY);
    }
    let (csrf, cookies) = match app.config.transport {
        Transport::Bearer => (app.csrf.login_token(), Vec::new()),
        Transport::Cookie => {
            let presented = match app.credential.login_page_cookie() {
                Some(name) => extract::cookie(&headers, name, max_cookie_bytes(&app))?,
                None => None,
            };
            app.blocking(false, move |a| {
                a.credential.login_form(&a.calls(), presented)
            })
            .await??
        }
    };
    with_cookies(
        &app,
        Html(login_html(&csrf, app.config.transport)).into_response(),
        &cookies,
    )
}

/// Largest `Cookie` header the credential readers accept.
fn max_cookie_bytes(app: &App) -> usize {
    app.config.session.max_header_bytes
}

/// The login form.
#[derive(Debug, Deserialize)]
pub(crate) struct LoginForm {
    username: String,
    password: String,
    #[serde(default)]
    csrf: String,
}

/// `POST /login`: CSRF check (cookie transport), password check, then a **new** credential.
pub(crate) async fn login(
    State(app): AppState,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Result<Response, ApiError> {
    if app.verify_only {
        return Err(VERIFY_ONLY);
    }
    let max = max_cookie_bytes(&app);
    let bearer = app.bearer();
    // 1. Login CSRF (cookie transport): before the costly password check.
    let presented = match app.config.transport {
        Transport::Bearer => None,
        Transport::Cookie => {
            let cookie = extract::cookie(&headers, app.credential.login_csrf_cookie(), max)?
                .ok_or(FORBIDDEN_LOGIN)?;
            let csrf = form.csrf.clone();
            app.blocking(false, move |a| {
                a.credential.check_login_csrf(&a.calls(), &cookie, &csrf)
            })
            .await??;
            extract::cookie(&headers, app.credential.cookie_name(), max)?
        }
    };
    // 2. Password (argon2id; an unknown user costs the same).
    let (name, password) = (form.username, form.password);
    let account = app
        .blocking(true, move |a| a.check_password(&name, &password))
        .await?;
    let Some(i) = account else {
        return Err(ApiError::Unauthorized {
            bearer,
            reason: "bad credentials",
        });
    };
    // 3. A new credential; whatever the client brought is dead first.
    let claims = app.config.login_claims.claims(&super::users::username(i));
    let revoking = presented.is_some() && app.revoke_io();
    // A hybrid's login starts a family in its store: a round trip when the store is remote.
    let starts_family = app.revoke_io() && app.credential.scheme().refreshing().is_some();
    let (token, refresh, cookies) = app
        .blocking(revoking || starts_family, move |a| -> Result<_, ApiError> {
            let calls = a.calls();
            if let Some(old) = &presented {
                a.credential.end_at_login(&calls, old)?;
            }
            // A scheme with refresh tokens (the hybrid) starts a family: a pair.
            let (token, refresh) = match calls.login_pair(&claims) {
                Some(pair) => {
                    let pair = pair.map_err(ApiError::scheme)?;
                    (pair.access, Some(pair.refresh))
                }
                None => (calls.issue(&claims).map_err(ApiError::scheme)?, None),
            };
            let mut cookies = a.credential.login_cookies(&token);
            cookies.extend(refresh.as_deref().map(|r| refresh_cookie(a, r)));
            Ok((token, refresh, cookies))
        })
        .await??;
    if bearer {
        let mut body = json!({
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": app.credential.expires_in().as_secs(),
        });
        if let Some(r) = refresh {
            body["refresh_token"] = json!(r);
        }
        return with_cookies(&app, Json(body).into_response(), &[]);
    }
    let resp = (StatusCode::SEE_OTHER, [(header::LOCATION, "/me")]).into_response();
    with_cookies(&app, resp, &cookies)
}

/// The cookie carrying a hybrid's refresh token (cookie transport): `__Secure-` (a
/// `__Host-` cookie must have `Path=/`), sent only to `POST /token/refresh`.
pub(crate) const REFRESH_COOKIE: &str = "__Secure-refresh";

/// The path the refresh cookie is scoped to: no other request carries it.
pub(crate) const REFRESH_PATH: &str = "/token/refresh";

/// The hardened `Set-Cookie` of a refresh token: `HttpOnly`, `Secure`, `SameSite=Strict`,
/// `Path=/token/refresh`, `Max-Age` the family's lifetime.
fn refresh_cookie(app: &App, token: &str) -> String {
    cookie::Cookie::build((REFRESH_COOKIE, token))
        .http_only(true)
        .secure(true)
        .same_site(cookie::SameSite::Strict)
        .path(REFRESH_PATH)
        .max_age(cookie::time::Duration::seconds(
            i64::try_from(app.config.hybrid.refresh_lifetime.as_secs()).unwrap_or(i64::MAX),
        ))
        .build()
        .to_string()
}

/// The body of a bearer `POST /token/refresh`.
#[derive(Debug, Deserialize)]
struct RefreshBody {
    refresh_token: String,
}

/// `POST /token/refresh` (a scheme with refresh tokens, the hybrid; 404 otherwise): the
/// refresh token, from the JSON body `{"refresh_token": ...}` (bearer) or the
/// `__Secure-refresh` cookie (cookie transport, with `X-CSRF-Token` bound to the access
/// cookie presented beside it: 403 without), is rotated and a new access token signed.
/// 200 with the new pair (bearer: JSON `access_token`, `refresh_token`; cookies: both
/// cookies, and JSON `csrf` for the new access token). 401 for a refresh token that is
/// unknown, expired or reused (a reuse revokes its whole family); 400 for a body that is
/// no JSON object with a `refresh_token` string.
pub(crate) async fn refresh(
    State(app): AppState,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    if app.credential.scheme().refreshing().is_none() {
        return Err(ApiError::NotFound);
    }
    let bearer = app.bearer();
    let unauthorized = |reason| ApiError::Unauthorized { bearer, reason };
    let (token, access) = match app.config.transport {
        Transport::Bearer => {
            let parsed: RefreshBody = serde_json::from_slice(&body).map_err(|_| {
                ApiError::BadRequest("expected a JSON body {\"refresh_token\": ...}")
            })?;
            (parsed.refresh_token, None)
        }
        Transport::Cookie => {
            let max = max_cookie_bytes(&app);
            let token =
                extract::cookie(&headers, REFRESH_COOKIE, max)?.ok_or(unauthorized("missing"))?;
            let access = extract::cookie(&headers, app.credential.cookie_name(), max)?.ok_or(
                ApiError::Forbidden("CSRF: no access cookie to bind X-CSRF-Token to"),
            )?;
            let csrf = extract::csrf_header(&headers)?
                .ok_or(ApiError::Forbidden("CSRF: X-CSRF-Token missing"))?;
            (token, Some((access, csrf)))
        }
    };
    let (pair, csrf) = app
        .blocking(true, move |a| -> Result<_, ApiError> {
            let calls = a.calls();
            if let Some((access, csrf)) = &access
                && !a.credential.check_csrf(&calls, access, csrf)
            {
                return Err(ApiError::Forbidden("CSRF: X-CSRF-Token does not match"));
            }
            let refreshed = calls
                .refresh(&token)
                .ok_or(ApiError::NotFound)?
                .map_err(|r| ApiError::rejected(&r, a.bearer()))?;
            let pair = refreshed.into_pair();
            let csrf = match a.config.transport {
                Transport::Cookie => Some(a.credential.csrf_token(&calls, &pair.access)?),
                Transport::Bearer => None,
            };
            Ok((pair, csrf))
        })
        .await??;
    let expires_in = app.credential.expires_in().as_secs();
    if bearer {
        let body = Json(json!({
            "access_token": pair.access,
            "refresh_token": pair.refresh,
            "token_type": "Bearer",
            "expires_in": expires_in,
        }));
        return with_cookies(&app, body.into_response(), &[]);
    }
    let cookies = [
        app.credential.set_cookie(&pair.access),
        refresh_cookie(&app, &pair.refresh),
    ];
    let body = Json(json!({ "csrf": csrf, "expires_in": expires_in }));
    with_cookies(&app, body.into_response(), &cookies)
}

/// The presented credential of an authenticated route, as the transport carries it.
fn presented(app: &App, headers: &HeaderMap) -> Result<String, ApiError> {
    let missing = ApiError::Unauthorized {
        bearer: app.bearer(),
        reason: "missing",
    };
    let found = match app.config.transport {
        Transport::Bearer => extract::bearer(headers)?,
        Transport::Cookie => {
            extract::cookie(headers, app.credential.cookie_name(), max_cookie_bytes(app))?
        }
    };
    found.ok_or(missing)
}

/// Validates `token`; a pre-login session authenticates nobody.
fn authenticate(app: &App, token: &str) -> Result<Principal, ApiError> {
    let p = app
        .validate(token)
        .map_err(|r| ApiError::rejected(&r, app.bearer()))?;
    if is_pre_login(&p.claims) {
        return Err(ApiError::Unauthorized {
            bearer: app.bearer(),
            reason: "not logged in",
        });
    }
    Ok(p)
}

/// Checks `X-CSRF-Token` against `token`'s CSRF token (cookie transport only).
fn check_csrf(app: &App, token: &str, header: Option<&str>) -> Result<(), ApiError> {
    if app.bearer() {
        return Ok(());
    }
    let refused = ApiError::Forbidden("missing or wrong X-CSRF-Token");
    let presented = header.ok_or(refused.clone())?;
    if app.credential.check_csrf(&app.calls(), token, presented) {
        Ok(())
    } else {
        Err(refused)
    }
}

/// `GET /me`.
pub(crate) async fn me(State(app): AppState, headers: HeaderMap) -> Result<Response, ApiError> {
    let token = presented(&app, &headers)?;
    let (p, csrf) = app
        .blocking(false, move |a| -> Result<_, ApiError> {
            let p = authenticate(a, &token)?;
            let csrf = if a.bearer() {
                None
            } else {
                Some(a.credential.csrf_token(&a.calls(), &token)?)
            };
            Ok((p, csrf))
        })
        .await??;
    let mut body = json!({
        "sub": p.claims.user_id,
        "roles": p.claims.roles,
        "expires_at": p.expires_at_secs,
    });
    if let Some(c) = csrf {
        body["csrf"] = json!(c);
    }
    with_cookies(&app, Json(body).into_response(), &[])
}

/// `GET /floor`: the stack's floor. Everything `GET /me` does but the credential: the
/// same layers (guard, counting, shedding, deadline), the same trip through
/// [`App::blocking`] and the same JSON body, built from claims fixed at start-up; no call
/// into the scheme, so its CPU per request is the stack's alone.
pub(crate) async fn floor(State(app): AppState) -> Result<Response, ApiError> {
    let floor = app.blocking(false, |a| a.floor.clone()).await?;
    let mut body = json!({
        "sub": floor.claims.user_id,
        "roles": floor.claims.roles,
        "expires_at": floor.expires_at_secs,
    });
    if let Some(c) = floor.csrf {
        body["csrf"] = json!(c);
    }
    with_cookies(&app, Json(body).into_response(), &[])
}

/// `POST /api/notes`: a state-changing request (the body is read and dropped).
pub(crate) async fn create_note(
    State(app): AppState,
    headers: HeaderMap,
    _body: Bytes,
) -> Result<Response, ApiError> {
    let token = presented(&app, &headers)?;
    let csrf = extract::csrf_header(&headers)?;
    let p = app
        .blocking(false, move |a| -> Result<_, ApiError> {
            let p = authenticate(a, &token)?;
            check_csrf(a, &token, csrf.as_deref())?;
            Ok(p)
        })
        .await??;
    let id = app.notes.fetch_add(1, Relaxed) + 1;
    let body = Json(json!({"id": id, "owner": p.claims.user_id}));
    with_cookies(&app, (StatusCode::CREATED, body).into_response(), &[])
}

/// `POST /logout`: the credential dies (its record deleted, or denylisted) or, for a
/// self-contained token without a denylist, lives until its expiry; `X-Token-Revocation`
/// says which ([`App::logout`]).
pub(crate) async fn logout(State(app): AppState, headers: HeaderMap) -> Result<Response, ApiError> {
    let token = presented(&app, &headers)?;
    let csrf = extract::csrf_header(&headers)?;
    let exp = app
        .blocking(app.revoke_io(), move |a| -> Result<_, ApiError> {
            let p = authenticate(a, &token)?;
            check_csrf(a, &token, csrf.as_deref())?;
            if a.logout == LogoutOutcome::Revoked {
                a.calls().revoke(&token).map_err(ApiError::scheme)?;
            }
            Ok(p.expires_at_secs)
        })
        .await??;
    let mut resp = StatusCode::NO_CONTENT.into_response();
    let h = resp.headers_mut();
    h.insert(
        "x-token-revocation",
        HeaderValue::from_static(app.logout.name()),
    );
    if app.logout == LogoutOutcome::ExpiryOnly {
        h.insert("x-token-expires", HeaderValue::from(exp));
    }
    let cookies = match app.config.transport {
        Transport::Bearer => Vec::new(),
        Transport::Cookie => vec![app.credential.clear_cookie()],
    };
    with_cookies(&app, resp, &cookies)
}
