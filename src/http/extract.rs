//! Reading credentials out of request headers, with no store access: a cookie (every
//! `Cookie` field joined, as HTTP/2 may split them), the bearer token, the CSRF header.
//! Duplicates are refused (400) rather than guessed between.

use axum::http::{HeaderMap, header};

use super::error::ApiError;
use crate::scheme::Rejection;
use crate::scheme::session::token_from_cookie_header;

/// Request header carrying the CSRF token on state-changing requests.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// Total size of the request headers as HTTP/1.1 would send them (`name: value\r\n`).
pub fn header_bytes(headers: &HeaderMap) -> usize {
    headers
        .iter()
        .map(|(n, v)| n.as_str().len() + v.len() + 4)
        .sum()
}

/// The value of cookie `name`, or `None` when the request carries none. A cookie present
/// twice is a 400 (cookie tossing); a `Cookie` header over `max_bytes` is a 431.
pub fn cookie(
    headers: &HeaderMap,
    name: &str,
    max_bytes: usize,
) -> Result<Option<String>, ApiError> {
    let mut joined = String::new();
    for v in headers.get_all(header::COOKIE) {
        let v = v
            .to_str()
            .map_err(|_| ApiError::BadRequest("a Cookie header is not visible ASCII"))?;
        if !joined.is_empty() {
            joined.push_str("; ");
        }
        joined.push_str(v);
    }
    if joined.is_empty() {
        return Ok(None);
    }
    match token_from_cookie_header(&joined, name, max_bytes) {
        Ok(v) => Ok(Some(v.to_owned())),
        Err(Rejection::Oversized { .. }) => Err(ApiError::HeadersTooLarge),
        Err(Rejection::DuplicateCookie(_)) => Err(ApiError::BadRequest(
            "the credential cookie appears more than once",
        )),
        // The only other refusal is "no such cookie".
        Err(_) => Ok(None),
    }
}

/// The token of an `Authorization: Bearer` header; `None` without the header, 401 for
/// another scheme or an empty token, 400 for two headers.
pub fn bearer(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let mut all = headers.get_all(header::AUTHORIZATION).iter();
    let Some(v) = all.next() else {
        return Ok(None);
    };
    if all.next().is_some() {
        return Err(ApiError::BadRequest("more than one Authorization header"));
    }
    let v = v
        .to_str()
        .map_err(|_| ApiError::BadRequest("the Authorization header is not visible ASCII"))?;
    let invalid = ApiError::Unauthorized {
        bearer: true,
        reason: "invalid token",
    };
    let (scheme, token) = v.trim().split_once(' ').ok_or(invalid.clone())?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(ApiError::Unauthorized {
            bearer: true,
            reason: "not a bearer credential",
        });
    }
    let token = token.trim();
    if token.is_empty() {
        return Err(invalid);
    }
    Ok(Some(token.to_owned()))
}

/// The `X-CSRF-Token` header; `None` without it, 400 when sent twice.
pub fn csrf_header(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let mut all = headers.get_all(CSRF_HEADER).iter();
    let Some(v) = all.next() else {
        return Ok(None);
    };
    if all.next().is_some() {
        return Err(ApiError::BadRequest("more than one X-CSRF-Token header"));
    }
    Ok(v.to_str().ok().map(str::to_owned))
}
