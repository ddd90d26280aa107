//! Every way a request can fail, and its status. Client mistakes are 4xx; the only 5xx
//! answers are 503 (a store that cannot be reached: fail closed; or load shed) and 500
//! for a bug. Bodies are a short JSON reason, never a token, key or password.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::scheme::{Rejection, SchemeError};

/// The refusal of a login whose CSRF check failed.
pub(crate) const FORBIDDEN_LOGIN: ApiError =
    ApiError::Forbidden("login CSRF check failed: GET /login first");

/// Marks a response refused because the store or denylist was unreachable (counted by
/// the metrics layer).
#[derive(Debug, Clone, Copy)]
pub(crate) struct StoreDown;

/// Why a request is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    /// 400: a malformed request (duplicated cookie or header, bad encoding).
    #[error("bad request: {0}")]
    BadRequest(&'static str),
    /// 401: no credential, or one that does not validate. `bearer` adds
    /// `WWW-Authenticate: Bearer` (RFC 6750).
    #[error("unauthorized: {reason}")]
    Unauthorized {
        /// Whether the transport is bearer (adds `WWW-Authenticate`).
        bearer: bool,
        /// Short reason (`missing`, `expired`, `revoked`, `invalid`...).
        reason: &'static str,
    },
    /// 403: a CSRF check failed.
    #[error("forbidden: {0}")]
    Forbidden(&'static str),
    /// 404: a route the scheme served has no use for (`POST /token/refresh` without
    /// refresh tokens).
    #[error("not found")]
    NotFound,
    /// 431: the request headers are larger than the server accepts.
    #[error("request headers too large")]
    HeadersTooLarge,
    /// 503: the store or denylist needed to decide could not be reached (fail closed).
    #[error("store unavailable")]
    Unavailable,
    /// 500: a bug (a panicked worker); never caused by client input.
    #[error("internal error: {0}")]
    Internal(&'static str),
}

impl ApiError {
    /// The error for a token `validate` refused.
    pub fn rejected(r: &Rejection, bearer: bool) -> ApiError {
        let reason = match r {
            Rejection::DuplicateCookie(_) => {
                return ApiError::BadRequest("the credential cookie appears more than once");
            }
            Rejection::StoreUnavailable(_) => return ApiError::Unavailable,
            Rejection::Empty => "missing",
            Rejection::Expired => "expired",
            Rejection::IdleExpired => "idle timeout",
            Rejection::Revoked => "revoked",
            Rejection::UnknownSession => "unknown session",
            Rejection::Oversized { .. } => "oversized token",
            _ => "invalid token",
        };
        ApiError::Unauthorized { bearer, reason }
    }

    /// The error for a scheme that could not issue or revoke.
    pub fn scheme(e: SchemeError) -> ApiError {
        match e {
            SchemeError::Store(_) => ApiError::Unavailable,
            SchemeError::NotRevocable(r) => ApiError::rejected(&r, false),
            SchemeError::InvalidClaims(_) => ApiError::BadRequest("these claims cannot be issued"),
            _ => ApiError::Internal("the scheme failed"),
        }
    }

    /// The status of this error.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized { .. } => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound => StatusCode::NOT_FOUND,
            ApiError::HeadersTooLarge => StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            ApiError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl From<Rejection> for ApiError {
    fn from(r: Rejection) -> Self {
        ApiError::rejected(&r, false)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let reason = match &self {
            ApiError::Unauthorized { reason, .. } => (*reason).to_owned(),
            other => other.to_string(),
        };
        let mut resp = (self.status(), Json(json!({ "error": reason }))).into_response();
        let h = resp.headers_mut();
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        match &self {
            ApiError::Unauthorized {
                bearer: true,
                reason,
            } => {
                let v = if *reason == "missing" {
                    "Bearer realm=\"tokenbench\"".to_owned()
                } else {
                    format!(
                        "Bearer realm=\"tokenbench\", error=\"invalid_token\", error_description=\"{reason}\""
                    )
                };
                if let Ok(v) = HeaderValue::from_str(&v) {
                    h.insert(header::WWW_AUTHENTICATE, v);
                }
            }
            ApiError::Unavailable => {
                h.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
                resp.extensions_mut().insert(StoreDown);
            }
            _ => {}
        }
        resp
    }
}
