//! The CORS policy and the cookie attributes through the router (`oneshot`, no sockets):
//! an allowlisted origin is echoed with credentials and `Vary: Origin`, never `*`; any
//! other origin gets no CORS header and its preflight a 403; preflights answer with the
//! methods, headers and `Max-Age` configured; without an allowlist nothing changes;
//! `--samesite`/`--partitioned` reach every `Set-Cookie`; the request log keeps names.

use super::*;
use cookie::SameSite;
use tokenbench::http::cors::{CookiePolicy, CorsPolicy};

const SITE: &str = "https://site.test:8443";
const EVIL: &str = "https://evil.test:8443";

fn cors_app(transport: Transport, max_age: Option<u64>) -> Arc<App> {
    let mut c = config(SchemeSpec::Jwt(JwtAlg::HS256), transport, Revocation::None);
    c.cors = CorsPolicy {
        origins: vec![SITE.to_owned()],
        max_age: max_age.map(Duration::from_secs),
    };
    c.request_log = true;
    App::new(c).expect("build the app")
}

fn preflight(origin: &str, headers: &str) -> Request<Body> {
    Request::builder()
        .method(Method::OPTIONS)
        .uri("/me")
        .header(header::ORIGIN, origin)
        .header(header::ACCESS_CONTROL_REQUEST_METHOD, "GET")
        .header(header::ACCESS_CONTROL_REQUEST_HEADERS, headers)
        .body(Body::empty())
        .unwrap()
}

fn get_from(origin: &str, path: &str) -> Request<Body> {
    Request::builder()
        .uri(path)
        .header(header::ORIGIN, origin)
        .body(Body::empty())
        .unwrap()
}

fn h(r: &Reply, name: header::HeaderName) -> Option<&str> {
    r.headers.get(name).map(|v| v.to_str().unwrap())
}

#[tokio::test]
async fn an_allowed_origin_is_echoed_with_credentials_never_a_wildcard() {
    let app = cors_app(Transport::Bearer, None);
    let r = send(&app, get_from(SITE, "/health")).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(h(&r, header::ACCESS_CONTROL_ALLOW_ORIGIN), Some(SITE));
    assert_eq!(
        h(&r, header::ACCESS_CONTROL_ALLOW_CREDENTIALS),
        Some("true")
    );
    assert_eq!(h(&r, header::VARY), Some("Origin"));
    // An unauthenticated answer is CORS-readable too (the page sees the 401).
    let r = send(&app, get_from(SITE, "/me")).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(h(&r, header::ACCESS_CONTROL_ALLOW_ORIGIN), Some(SITE));
    assert_eq!(
        r.headers
            .get_all(header::ACCESS_CONTROL_ALLOW_ORIGIN)
            .iter()
            .count(),
        1
    );
}

#[tokio::test]
async fn a_disallowed_origin_gets_no_cors_header_and_its_preflight_a_403() {
    let app = cors_app(Transport::Bearer, Some(600));
    let r = send(&app, get_from(EVIL, "/health")).await;
    assert_eq!(r.status, StatusCode::OK, "the request itself is served");
    assert_eq!(h(&r, header::ACCESS_CONTROL_ALLOW_ORIGIN), None);
    assert_eq!(h(&r, header::ACCESS_CONTROL_ALLOW_CREDENTIALS), None);
    assert_eq!(h(&r, header::VARY), Some("Origin"));
    let r = send(&app, preflight(EVIL, "authorization")).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(h(&r, header::ACCESS_CONTROL_ALLOW_ORIGIN), None);
    assert_eq!(h(&r, header::ACCESS_CONTROL_MAX_AGE), None);
    // A prefix or a different port of an allowed origin is another origin.
    for near in [
        "https://site.test",
        "https://site.test:8443.evil.test",
        "http://site.test:8443",
    ] {
        let r = send(&app, preflight(near, "authorization")).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{near}");
    }
    let m = app.metrics_snapshot();
    assert_eq!((m.options_requests, m.preflights_refused), (4, 4));
}

#[tokio::test]
async fn preflights_answer_methods_headers_and_max_age_only_when_configured() {
    let app = cors_app(Transport::Bearer, Some(600));
    let r = send(&app, preflight(SITE, "authorization")).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(h(&r, header::ACCESS_CONTROL_ALLOW_ORIGIN), Some(SITE));
    assert_eq!(
        h(&r, header::ACCESS_CONTROL_ALLOW_CREDENTIALS),
        Some("true")
    );
    assert_eq!(h(&r, header::ACCESS_CONTROL_MAX_AGE), Some("600"));
    let headers = h(&r, header::ACCESS_CONTROL_ALLOW_HEADERS).unwrap();
    assert!(headers.contains("authorization") && headers.contains("x-csrf-token"));
    assert!(
        h(&r, header::ACCESS_CONTROL_ALLOW_METHODS)
            .unwrap()
            .contains("POST")
    );
    let no_age = cors_app(Transport::Bearer, None);
    let r = send(&no_age, preflight(SITE, "authorization")).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(h(&r, header::ACCESS_CONTROL_MAX_AGE), None);
    assert_eq!(app.metrics_snapshot().options_requests, 1);
    // The log saw the preflight, with no credential.
    let log = app.requests_since(0).unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].method, "OPTIONS");
    assert!(!log[0].authorization && !log[0].credential_cookie);
}

#[tokio::test]
async fn without_an_allowlist_nothing_changes() {
    let app = app(
        SchemeSpec::Jwt(JwtAlg::HS256),
        Transport::Bearer,
        Revocation::None,
    );
    let r = send(&app, preflight(SITE, "authorization")).await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(h(&r, header::ACCESS_CONTROL_ALLOW_ORIGIN), None);
    let r = send(&app, get_from(SITE, "/health")).await;
    assert_eq!(
        (
            h(&r, header::ACCESS_CONTROL_ALLOW_ORIGIN),
            h(&r, header::VARY)
        ),
        (None, None)
    );
    assert_eq!(app.metrics_snapshot().options_requests, 1);
    assert!(app.requests_since(0).is_none(), "no log unless asked");
    let r = send(
        &app,
        Request::builder()
            .uri("/requests")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn samesite_and_partitioned_reach_every_cookie_and_the_log_keeps_names() {
    for (same_site, partitioned, spec) in [
        (SameSite::None, true, SchemeSpec::Session(StoreSpec::Memory)),
        (SameSite::Strict, false, SchemeSpec::Jwt(JwtAlg::HS256)),
    ] {
        let mut c = config(spec.clone(), Transport::Cookie, Revocation::None);
        c.cookies = CookiePolicy {
            same_site,
            partitioned,
        };
        c.request_log = true;
        let app = App::new(c).unwrap();
        let mut b = Browser::default();
        let csrf = b.login_page_csrf(&app).await;
        let r = b.login(&app, "user-0", "password-0", &csrf).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        let me = b.get(&app, "/me").await;
        assert_eq!(me.status, StatusCode::OK);
        let csrf = me.json()["csrf"].as_str().unwrap().to_owned();
        let out = b.post(&app, "/logout", &[("x-csrf-token", &csrf)]).await;
        let cookies: Vec<String> = r
            .set_cookies()
            .into_iter()
            .chain(out.set_cookies())
            .collect();
        assert!(!cookies.is_empty());
        for s in cookies {
            let c = cookie::Cookie::parse(s.clone()).unwrap();
            assert_eq!(c.same_site(), Some(same_site), "{s}");
            assert_eq!(c.partitioned().unwrap_or(false), partitioned, "{s}");
            assert_eq!(c.secure(), Some(true), "{s}");
        }
        let log = app.requests_since(0).unwrap();
        let me_entry = log.iter().find(|e| e.path == "/me").unwrap();
        assert!(me_entry.credential_cookie, "{me_entry:?}");
        assert!(!serde_json::to_string(&log).unwrap().contains(&csrf));
        let r = send(
            &app,
            Request::builder()
                .uri("/requests?after=1")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.json().as_array().unwrap().len(), log.len() - 1);
    }
}
