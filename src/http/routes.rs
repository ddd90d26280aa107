//! The handlers of the Superb Site's routes (see the table in [`super`]), and the layers'
//! answers (header guard and counting, load shedding, deadlines). Every scheme call goes
//! through [`App::blocking`].

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;

use axum::Form;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};
use cookie::{Cookie, SameSite};
use serde::Deserialize;
use serde_json::json;
use tower::BoxError;

use super::app::{App, JWT_COOKIE, PRE_LOGIN_ROLE, Scheme};
use super::config::Transport;
use super::credential::{self, header_bytes};
use super::csrf::LOGIN_CSRF_COOKIE;
use super::error::{ApiError, StoreDown};
use crate::claims::{ClaimSet, Claims};
use crate::scheme::session::set_cookie;
use crate::scheme::{Principal, Rejection, SchemeError, TokenScheme};

type AppState = State<Arc<App>>;

/// Marks a response shed by the concurrency limit.
#[derive(Debug, Clone, Copy)]
struct Shed;

/// Marks a response past its deadline.
#[derive(Debug, Clone, Copy)]
struct TimedOut;

/// Outermost layer: refuses oversized headers (431), then counts the answer.
pub(crate) async fn guard(State(app): AppState, req: Request, next: Next) -> Response {
    let is_metrics = req.uri().path() == "/metrics";
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

/// `GET /metrics`: the server's own figures.
pub(crate) async fn metrics(State(app): AppState) -> Response {
    Json(app.metrics.snapshot()).into_response()
}

fn pre_login_claims() -> Claims {
    Claims {
        user_id: "anonymous".into(),
        roles: vec![PRE_LOGIN_ROLE.into()],
        profile: BTreeMap::new(),
    }
}

fn is_pre_login(claims: &Claims) -> bool {
    claims.roles.iter().any(|r| r == PRE_LOGIN_ROLE)
}

/// A hardened cookie that makes the browser drop cookie `name`.
fn clearing_cookie(name: &str) -> String {
    let mut c = Cookie::build((name, ""))
        .http_only(true)
        .secure(true)
        .same_site(SameSite::Lax)
        .path("/")
        .build();
    c.make_removal();
    c.to_string()
}

fn scheme_error(e: SchemeError) -> ApiError {
    match e {
        SchemeError::Store(_) => ApiError::Unavailable,
        SchemeError::NotRevocable(r) => ApiError::rejected(&r, false),
        SchemeError::InvalidClaims(_) => ApiError::BadRequest("these claims cannot be issued"),
        _ => ApiError::Internal("the scheme failed"),
    }
}

fn with_cookies(mut resp: Response, cookies: &[String]) -> Result<Response, ApiError> {
    for c in cookies {
        let v = HeaderValue::from_str(c).map_err(|_| ApiError::Internal("cookie encoding"))?;
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

/// `GET /login`: the form, with the login CSRF token bound to a pre-login session (session
/// scheme) or a signed `__Host-csrf` cookie (JWT); a live session the client brings is
/// reused.
pub(crate) async fn login_page(
    State(app): AppState,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let max = app.config.session.max_header_bytes;
    let (csrf, cookies) = match (&app.scheme, app.config.transport) {
        (Scheme::Session(s), Transport::Cookie) => {
            let presented = credential::cookie(&headers, &s.config().cookie_name, max)?;
            app.blocking(false, move |a| pre_login(a, presented))
                .await??
        }
        (Scheme::Jwt(_), Transport::Cookie) => {
            let t = app.csrf.login_token();
            let c = set_cookie(
                LOGIN_CSRF_COOKIE,
                &t,
                SameSite::Lax,
                std::time::Duration::from_secs(3600),
            );
            (t, vec![c])
        }
        (_, Transport::Bearer) => (app.csrf.login_token(), Vec::new()),
    };
    with_cookies(
        Html(login_html(&csrf, app.config.transport)).into_response(),
        &cookies,
    )
}

/// The CSRF token of the presented pre-login session, or of a new one (with its cookie).
fn pre_login(app: &App, presented: Option<String>) -> Result<(String, Vec<String>), ApiError> {
    let Scheme::Session(s) = &app.scheme else {
        return Err(ApiError::Internal("not a session scheme"));
    };
    // A live session the client brings (pre-login, or already logged in) holds the form's
    // CSRF token: no second session, and `POST /login` then deletes exactly the ID the
    // browser holds, whichever it is.
    if let Some(id) = presented {
        match app.validate(&id) {
            Ok(_) => {
                let csrf = app
                    .token_op(|_| s.csrf_token(&id))
                    .map_err(ApiError::from)?;
                return Ok((csrf, Vec::new()));
            }
            Err(Rejection::StoreUnavailable(_)) => return Err(ApiError::Unavailable),
            _ => {}
        }
    }
    let id = app.issue(&pre_login_claims()).map_err(scheme_error)?;
    let csrf = app
        .token_op(|_| s.csrf_token(&id))
        .map_err(ApiError::from)?;
    Ok((csrf, vec![s.set_cookie(&id)]))
}

/// The login form.
#[derive(Debug, Deserialize)]
pub(crate) struct LoginForm {
    username: String,
    password: String,
    #[serde(default)]
    csrf: String,
}

const FORBIDDEN_LOGIN: ApiError = ApiError::Forbidden("login CSRF check failed: GET /login first");

/// `POST /login`: CSRF check (cookie transport), password check, then a **new** credential.
pub(crate) async fn login(
    State(app): AppState,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Result<Response, ApiError> {
    let max = app.config.session.max_header_bytes;
    let bearer = app.bearer();
    // 1. Login CSRF (cookie transport): before the costly password check.
    let presented = match (&app.scheme, app.config.transport) {
        (Scheme::Session(s), Transport::Cookie) => {
            let id = credential::cookie(&headers, &s.config().cookie_name, max)?
                .ok_or(FORBIDDEN_LOGIN)?;
            let csrf = form.csrf.clone();
            let id2 = id.clone();
            app.blocking(false, move |a| -> Result<(), ApiError> {
                let Scheme::Session(s) = &a.scheme else {
                    return Err(ApiError::Internal("not a session scheme"));
                };
                match a.validate(&id2) {
                    Err(Rejection::StoreUnavailable(_)) => Err(ApiError::Unavailable),
                    Err(Rejection::DuplicateCookie(_)) => {
                        Err(ApiError::BadRequest("duplicate cookie"))
                    }
                    Err(_) => Err(FORBIDDEN_LOGIN),
                    Ok(_) if a.token_op(|_| s.verify_csrf(&id2, &csrf)) => Ok(()),
                    Ok(_) => Err(FORBIDDEN_LOGIN),
                }
            })
            .await??;
            Some(id)
        }
        (Scheme::Jwt(_), Transport::Cookie) => {
            let c = credential::cookie(&headers, LOGIN_CSRF_COOKIE, max)?.ok_or(FORBIDDEN_LOGIN)?;
            if !app.csrf.verify_login(&c, &form.csrf) {
                return Err(FORBIDDEN_LOGIN);
            }
            credential::cookie(&headers, JWT_COOKIE, max)?
        }
        (_, Transport::Bearer) => None,
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
    // 3. A new credential; whatever the client brought is dead.
    let claims = ClaimSet::Typical.claims(&super::users::username(i));
    let (token, cookies) = app
        .blocking(false, move |a| issue_after_login(a, presented, &claims))
        .await??;
    if bearer {
        let expires_in = match &app.scheme {
            Scheme::Session(s) => s.config().idle_timeout.as_secs(),
            Scheme::Jwt(j) => j.config().lifetime.as_secs(),
        };
        let body = Json(json!({
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": expires_in,
        }));
        return with_cookies(body.into_response(), &[]);
    }
    let resp = (StatusCode::SEE_OTHER, [(header::LOCATION, "/me")]).into_response();
    with_cookies(resp, &cookies)
}

/// Ends the presented credential and issues a new one: for sessions the pre-login (or
/// any presented) session is deleted first, and must have existed (single use), so the
/// old ID is dead before the new one exists (fixation); a presented JWT is denylisted
/// when the server has a denylist.
fn issue_after_login(
    app: &App,
    presented: Option<String>,
    claims: &Claims,
) -> Result<(String, Vec<String>), ApiError> {
    match &app.scheme {
        Scheme::Session(s) => {
            if let Some(old) = &presented
                && !app
                    .token_op(|_| s.delete(old))
                    .map_err(|_| ApiError::Unavailable)?
            {
                return Err(FORBIDDEN_LOGIN);
            }
            let id = app.issue(claims).map_err(scheme_error)?;
            let cookie = s.set_cookie(&id);
            Ok((id, vec![cookie]))
        }
        Scheme::Jwt(j) => {
            if let Some(old) = &presented {
                // Best effort: an invalid old token needs no revoking, and without a
                // denylist it lives until `exp` (the cookie is replaced all the same).
                let _ = app.token_op(|_| j.revoke(old));
            }
            let token = app.issue(claims).map_err(scheme_error)?;
            let cookies = vec![
                set_cookie(JWT_COOKIE, &token, SameSite::Lax, j.config().lifetime),
                clearing_cookie(LOGIN_CSRF_COOKIE),
            ];
            Ok((token, cookies))
        }
    }
}

/// The presented credential of an authenticated route, as the transport carries it.
fn presented(app: &App, headers: &HeaderMap) -> Result<String, ApiError> {
    let missing = ApiError::Unauthorized {
        bearer: app.bearer(),
        reason: "missing",
    };
    let max = app.config.session.max_header_bytes;
    let found = match (&app.scheme, app.config.transport) {
        (_, Transport::Bearer) => credential::bearer(headers)?,
        (Scheme::Session(s), Transport::Cookie) => {
            credential::cookie(headers, &s.config().cookie_name, max)?
        }
        (Scheme::Jwt(_), Transport::Cookie) => credential::cookie(headers, JWT_COOKIE, max)?,
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

/// The CSRF token bound to `token` (cookie transport).
fn csrf_of(app: &App, token: &str) -> Result<String, ApiError> {
    match &app.scheme {
        Scheme::Session(s) => app
            .token_op(|_| s.csrf_token(token))
            .map_err(|r| ApiError::rejected(&r, false)),
        Scheme::Jwt(j) => {
            let jti = app
                .token_op(|_| j.credential_id(token))
                .ok_or(ApiError::Unauthorized {
                    bearer: false,
                    reason: "invalid token",
                })?;
            Ok(app.csrf.for_jti(&jti))
        }
    }
}

/// Checks `X-CSRF-Token` against `token`'s CSRF token (cookie transport only).
fn check_csrf(app: &App, token: &str, header: Option<&str>) -> Result<(), ApiError> {
    if app.bearer() {
        return Ok(());
    }
    let refused = ApiError::Forbidden("missing or wrong X-CSRF-Token");
    let presented = header.ok_or(refused.clone())?;
    let ok = match &app.scheme {
        Scheme::Session(s) => app.token_op(|_| s.verify_csrf(token, presented)),
        Scheme::Jwt(j) => app
            .token_op(|_| j.credential_id(token))
            .is_some_and(|jti| app.csrf.verify_jti(&jti, presented)),
    };
    if ok { Ok(()) } else { Err(refused) }
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
                Some(csrf_of(a, &token)?)
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
    with_cookies(Json(body).into_response(), &[])
}

/// `POST /api/notes`: a state-changing request (the body is read and dropped).
pub(crate) async fn create_note(
    State(app): AppState,
    headers: HeaderMap,
    _body: Bytes,
) -> Result<Response, ApiError> {
    let token = presented(&app, &headers)?;
    let csrf = credential::csrf_header(&headers)?;
    let p = app
        .blocking(false, move |a| -> Result<_, ApiError> {
            let p = authenticate(a, &token)?;
            check_csrf(a, &token, csrf.as_deref())?;
            Ok(p)
        })
        .await??;
    let id = app.notes.fetch_add(1, Relaxed) + 1;
    let body = Json(json!({"id": id, "owner": p.claims.user_id}));
    with_cookies((StatusCode::CREATED, body).into_response(), &[])
}

/// `POST /logout`: the credential dies (session deleted, JWT denylisted) or, for a JWT
/// without a denylist, lives until `exp`; `X-Token-Revocation` says which.
pub(crate) async fn logout(State(app): AppState, headers: HeaderMap) -> Result<Response, ApiError> {
    let token = presented(&app, &headers)?;
    let csrf = credential::csrf_header(&headers)?;
    let (revoked, exp) = app
        .blocking(false, move |a| -> Result<_, ApiError> {
            let p = authenticate(a, &token)?;
            check_csrf(a, &token, csrf.as_deref())?;
            match a.token_op(|s| match s {
                Scheme::Session(s) => s.revoke(&token),
                Scheme::Jwt(j) => j.revoke(&token),
            }) {
                Ok(()) => Ok((true, p.expires_at_secs)),
                Err(SchemeError::RevocationUnsupported) => Ok((false, p.expires_at_secs)),
                Err(e) => Err(scheme_error(e)),
            }
        })
        .await??;
    let mut resp = StatusCode::NO_CONTENT.into_response();
    let h = resp.headers_mut();
    if revoked {
        h.insert("x-token-revocation", HeaderValue::from_static("revoked"));
    } else {
        h.insert(
            "x-token-revocation",
            HeaderValue::from_static("expiry-only"),
        );
        h.insert("x-token-expires", HeaderValue::from(exp));
    }
    let cookies = match (&app.scheme, app.config.transport) {
        (_, Transport::Bearer) => Vec::new(),
        (Scheme::Session(s), Transport::Cookie) => vec![s.clear_cookie()],
        (Scheme::Jwt(_), Transport::Cookie) => vec![clearing_cookie(JWT_COOKIE)],
    };
    with_cookies(resp, &cookies)
}
