//! The flow through the router, one `http_flow!` module per scheme, and fixation.

use super::*;

/// The cookie flow: login page, login (303, new ID), /me, CSRF on notes and logout,
/// logout replay.
async fn cookie_flow(spec: SchemeSpec, revocation: Revocation) {
    let app = app(spec.clone(), Transport::Cookie, revocation);
    let name = &credential_cookie(&spec);
    let mut b = Browser::default();
    let csrf = b.login_page_csrf(&app).await;
    let pre = b.clone();
    let r = b.login(&app, "user-1", "password-1", &csrf).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.headers[header::LOCATION], "/me");
    let cred = b.cookie(name).expect("a credential cookie after login");
    if is_session(&spec) {
        let pre_id = pre.cookie(name).expect("a pre-login session cookie");
        assert_ne!(pre_id, cred, "login must issue a new session ID");
        let mut replay = pre.clone();
        assert_eq!(
            replay.get(&app, "/me").await.status,
            StatusCode::UNAUTHORIZED
        );
    } else {
        assert!(
            b.cookie("__Host-csrf").is_none(),
            "the login CSRF cookie is cleared"
        );
    }
    let me = b.get(&app, "/me").await;
    assert_eq!(me.status, StatusCode::OK);
    let v = me.json();
    assert_eq!(v["sub"], "user-1");
    let token = v["csrf"].as_str().expect("csrf in /me").to_owned();
    assert_eq!(
        b.post(&app, "/api/notes", &[]).await.status,
        StatusCode::FORBIDDEN
    );
    let wrong = [("x-csrf-token", "not-the-token")];
    assert_eq!(
        b.post(&app, "/api/notes", &wrong).await.status,
        StatusCode::FORBIDDEN
    );
    let right = [("x-csrf-token", token.as_str())];
    let note = b.post(&app, "/api/notes", &right).await;
    assert_eq!(note.status, StatusCode::CREATED);
    assert_eq!(note.json()["owner"], "user-1");
    assert_eq!(
        b.post(&app, "/logout", &[]).await.status,
        StatusCode::FORBIDDEN
    );
    let out = b.post(&app, "/logout", &right).await;
    assert_eq!(out.status, StatusCode::NO_CONTENT);
    let cleared = out.set_cookies();
    assert!(
        cleared
            .iter()
            .any(|c| c.starts_with(&format!("{name}=;")) && c.contains("Max-Age=0")),
        "{cleared:?}"
    );
    assert!(b.cookie(name).is_none());
    // Logout replay: the old credential.
    let mut replay = Browser::default();
    replay.set(name, &cred);
    let again = replay.get(&app, "/me").await;
    let revoked = is_session(&spec) || revocation == Revocation::Denylist;
    if revoked {
        assert_eq!(out.headers["x-token-revocation"], "revoked");
        assert_eq!(again.status, StatusCode::UNAUTHORIZED);
    } else {
        assert_eq!(out.headers["x-token-revocation"], "expiry-only");
        assert!(out.headers.contains_key("x-token-expires"));
        assert_eq!(
            again.status,
            StatusCode::OK,
            "without a denylist a JWT lives until exp"
        );
    }
}

/// The bearer flow: JSON token, /me, notes without CSRF, logout, replay.
async fn bearer_flow(spec: SchemeSpec, revocation: Revocation) {
    let app = app(spec.clone(), Transport::Bearer, revocation);
    let mut b = Browser::default();
    let _ = b.login_page_csrf(&app).await;
    let r = b.login(&app, "user-2", "password-2", "").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.set_cookies().is_empty());
    let v = r.json();
    assert_eq!(v["token_type"], "Bearer");
    assert!(v["expires_in"].as_u64().unwrap() > 0);
    let token = v["access_token"].as_str().unwrap().to_owned();
    let auth = format!("Bearer {token}");
    let h = [("authorization", auth.as_str())];
    let none = b.get(&app, "/me").await;
    assert_eq!(none.status, StatusCode::UNAUTHORIZED);
    assert!(
        none.headers[header::WWW_AUTHENTICATE]
            .to_str()
            .unwrap()
            .starts_with("Bearer")
    );
    let me = b.go(&app, Method::GET, "/me", &h, "").await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.json()["sub"], "user-2");
    assert!(me.json().get("csrf").is_none());
    assert_eq!(
        b.post(&app, "/api/notes", &h).await.status,
        StatusCode::CREATED
    );
    let garbage = [("authorization", "Bearer not.a.token")];
    let g = b.go(&app, Method::GET, "/me", &garbage, "").await;
    assert_eq!(g.status, StatusCode::UNAUTHORIZED);
    assert!(
        g.headers[header::WWW_AUTHENTICATE]
            .to_str()
            .unwrap()
            .contains("invalid_token")
    );
    assert_eq!(
        b.post(&app, "/logout", &h).await.status,
        StatusCode::NO_CONTENT
    );
    let again = b.go(&app, Method::GET, "/me", &h, "").await;
    if is_session(&spec) || revocation == Revocation::Denylist {
        assert_eq!(again.status, StatusCode::UNAUTHORIZED);
    } else {
        assert_eq!(again.status, StatusCode::OK);
    }
}

/// Login CSRF: without the pre-login cookie, with a wrong or missing token: 403 and no
/// credential.
async fn login_csrf_refused(spec: SchemeSpec) {
    let app = app(spec.clone(), Transport::Cookie, Revocation::None);
    let name = &credential_cookie(&spec);
    let mut cold = Browser::default();
    let r = cold.login(&app, "user-1", "password-1", "anything").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(cold.cookie(name).is_none());
    let mut b = Browser::default();
    let csrf = b.login_page_csrf(&app).await;
    let before = b.cookie(name);
    for bad in ["", "wrong", &csrf[..csrf.len() - 1]] {
        let r = b.login(&app, "user-1", "password-1", bad).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "csrf {bad:?}");
        assert_eq!(
            b.cookie(name),
            before,
            "no credential after a refused login"
        );
    }
    let ct = [("content-type", "application/x-www-form-urlencoded")];
    let r = b
        .go(
            &app,
            Method::POST,
            "/login",
            &ct,
            "username=user-1&password=password-1",
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

/// Wrong passwords and unknown users: 401, no credential.
async fn bad_credentials(spec: SchemeSpec) {
    for transport in Transport::ALL {
        let app = app(spec.clone(), transport, Revocation::None);
        for (user, password) in [
            ("user-1", "password-2"),
            ("user-7", "password-7"),
            ("admin", ""),
        ] {
            let mut b = Browser::default();
            let csrf = b.login_page_csrf(&app).await;
            let before = b.cookie(&credential_cookie(&spec));
            let r = b.login(&app, user, password, &csrf).await;
            assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{transport} {user}");
            assert!(r.json().get("access_token").is_none());
            assert_eq!(b.cookie(&credential_cookie(&spec)), before);
        }
    }
}

/// Client mistakes are 4xx: duplicated and malformed cookies, oversized headers, bad
/// forms, wrong authorization schemes.
async fn client_mistakes(spec: SchemeSpec) {
    let bearer = app(spec.clone(), Transport::Bearer, Revocation::None);
    let app = app(spec.clone(), Transport::Cookie, Revocation::None);
    let name = &credential_cookie(&spec);
    let mut b = Browser::default();
    let status = |r: Reply| r.status;
    let dup = format!("{name}=AAAAAAAAAAAAAAAAAAAAAA; {name}=BBBBBBBBBBBBBBBBBBBBBB");
    let r = b
        .go(&app, Method::GET, "/me", &[("cookie", &dup)], "")
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    for bad in [
        "%%%",
        "",
        "a.b.c",
        "AAAAAAAAAAAAAAAAAAAAAA",
        "eyJhbGciOiJub25lIn0.e30.",
    ] {
        let c = format!("{name}={bad}");
        let r = b.go(&app, Method::GET, "/me", &[("cookie", &c)], "").await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{bad:?}");
    }
    let big = "x".repeat(20 * 1024);
    assert_eq!(
        status(
            b.go(&app, Method::GET, "/me", &[("x-padding", &big)], "")
                .await
        ),
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE
    );
    let big_cookie = format!("{name}={}", "A".repeat(10 * 1024));
    assert_eq!(
        status(
            b.go(&app, Method::GET, "/me", &[("cookie", &big_cookie)], "")
                .await
        ),
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE
    );
    let json = [("content-type", "application/json")];
    let r = b.go(&app, Method::POST, "/login", &json, "{}").await;
    assert!(r.status.is_client_error(), "{}", r.status);
    let form = [("content-type", "application/x-www-form-urlencoded")];
    let r = b
        .go(&app, Method::POST, "/login", &form, "username=only")
        .await;
    assert!(r.status.is_client_error(), "{}", r.status);
    let huge = "a".repeat(64 * 1024);
    let r = b.go(&app, Method::POST, "/login", &form, &huge).await;
    assert!(r.status.is_client_error(), "{}", r.status);
    assert_eq!(status(b.get(&app, "/nowhere").await), StatusCode::NOT_FOUND);
    assert_eq!(status(b.get(&app, "/health").await), StatusCode::OK);
    let mut c = Browser::default();
    for (h, want) in [
        ("Basic dXNlcjpwYXNz", StatusCode::UNAUTHORIZED),
        ("Bearer", StatusCode::UNAUTHORIZED),
        ("Bearer  ", StatusCode::UNAUTHORIZED),
    ] {
        let r = c
            .go(&bearer, Method::GET, "/me", &[("authorization", h)], "")
            .await;
        assert_eq!(r.status, want, "{h:?}");
    }
    let req = Request::builder()
        .uri("/me")
        .header("authorization", "Bearer a")
        .header("authorization", "Bearer b")
        .body(Body::empty())
        .unwrap();
    assert_eq!(send(&bearer, req).await.status, StatusCode::BAD_REQUEST);
}

macro_rules! http_flow {
    ($name:ident, $spec:expr) => {
        mod $name {
            use super::*;

            #[tokio::test]
            async fn cookie_flow_rotates_checks_csrf_and_kills_at_logout() {
                cookie_flow($spec, Revocation::None).await;
            }

            #[tokio::test]
            async fn cookie_flow_with_a_denylist() {
                cookie_flow($spec, Revocation::Denylist).await;
            }

            #[tokio::test]
            async fn bearer_flow() {
                super::bearer_flow($spec, Revocation::None).await;
            }

            #[tokio::test]
            async fn bearer_flow_with_a_denylist() {
                super::bearer_flow($spec, Revocation::Denylist).await;
            }

            #[tokio::test]
            async fn login_without_csrf_is_refused() {
                login_csrf_refused($spec).await;
            }

            #[tokio::test]
            async fn bad_credentials_get_401_and_no_credential() {
                bad_credentials($spec).await;
            }

            #[tokio::test]
            async fn client_mistakes_are_4xx() {
                client_mistakes($spec).await;
            }
        }
    };
}

http_flow!(session_memory, SchemeSpec::Session(StoreSpec::Memory));
http_flow!(session_rwlock, SchemeSpec::Session(StoreSpec::RwLock));
http_flow!(jwt_hs256, SchemeSpec::Jwt(JwtAlg::HS256));
http_flow!(jwt_rs256, SchemeSpec::Jwt(JwtAlg::RS256));
http_flow!(jwt_es256, SchemeSpec::Jwt(JwtAlg::ES256));
http_flow!(jwt_eddsa, SchemeSpec::Jwt(JwtAlg::EdDSA));
http_flow!(paseto_v4_public, SchemeSpec::Paseto(PasetoPurpose::Public));
http_flow!(paseto_v4_local, SchemeSpec::Paseto(PasetoPurpose::Local));
http_flow!(
    hybrid_hs256_memory,
    SchemeSpec::Hybrid(JwtAlg::HS256, StoreSpec::Memory)
);

/// `POST /token/refresh` with cookies: the refresh cookie is scoped and strict, CSRF is
/// required, a refresh rotates both cookies, a replay of the old refresh token is a 401
/// that kills the family.
#[tokio::test]
async fn hybrid_cookie_refresh_rotates_checks_csrf_and_a_replay_kills_the_family() {
    let app = app(
        SchemeSpec::Hybrid(JwtAlg::HS256, StoreSpec::Memory),
        Transport::Cookie,
        Revocation::None,
    );
    let mut b = Browser::default();
    let csrf = b.login_page_csrf(&app).await;
    let r = b.login(&app, "user-1", "password-1", &csrf).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let first = b
        .cookie("__Secure-refresh")
        .expect("a refresh cookie at login");
    let access = b
        .cookie("__Host-hybrid")
        .expect("an access cookie at login");
    let token = b.get(&app, "/me").await.json()["csrf"]
        .as_str()
        .unwrap()
        .to_owned();
    // CSRF: no header, a wrong one.
    for headers in [vec![], vec![("x-csrf-token", "nope")]] {
        let r = b.post(&app, "/token/refresh", &headers).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
    }
    let r = b
        .post(&app, "/token/refresh", &[("x-csrf-token", token.as_str())])
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let second = b.cookie("__Secure-refresh").unwrap();
    assert_ne!(second, first, "rotated");
    assert_ne!(
        b.cookie("__Host-hybrid").unwrap(),
        access,
        "a new access token"
    );
    let new_csrf = r.json()["csrf"].as_str().unwrap().to_owned();
    assert_eq!(b.get(&app, "/me").await.status, StatusCode::OK);
    // The old refresh token again (with the new access cookie and its CSRF token): 401.
    let mut replay = b.clone();
    replay.set("__Secure-refresh", &first);
    let r = replay
        .post(
            &app,
            "/token/refresh",
            &[("x-csrf-token", new_csrf.as_str())],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    // ... and the reuse revoked the family: the live token is dead too.
    let r = b
        .post(
            &app,
            "/token/refresh",
            &[("x-csrf-token", new_csrf.as_str())],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    // No refresh cookie at all: 401.
    let mut none = Browser::default();
    none.set("__Host-hybrid", &access);
    let r = none
        .post(&app, "/token/refresh", &[("x-csrf-token", token.as_str())])
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
}

/// `POST /token/refresh` with bearer tokens: the JSON body, a new pair, 401 on a replay
/// (and the family dies), 400 on a body that is no refresh request, 404 for a scheme
/// without refresh tokens.
#[tokio::test]
async fn hybrid_bearer_refresh_rotates_and_refuses_replays_and_nonsense() {
    let app = app(
        SchemeSpec::Hybrid(JwtAlg::ES256, StoreSpec::RwLock),
        Transport::Bearer,
        Revocation::None,
    );
    let mut c = Browser::default();
    let form = "username=user-1&password=password-1";
    let ct = [("content-type", "application/x-www-form-urlencoded")];
    let login = c.go(&app, Method::POST, "/login", &ct, form).await;
    assert_eq!(login.status, StatusCode::OK);
    let v = login.json();
    let first = v["refresh_token"]
        .as_str()
        .expect("a refresh token")
        .to_owned();
    assert_eq!(v["expires_in"], 300, "the access lifetime");
    let json = [("content-type", "application/json")];
    let body = |t: &str| serde_json::json!({ "refresh_token": t }).to_string();
    let r = c
        .go(&app, Method::POST, "/token/refresh", &json, &body(&first))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let next = r.json();
    let second = next["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(second, first);
    let bearer = format!("Bearer {}", next["access_token"].as_str().unwrap());
    let me = c
        .go(
            &app,
            Method::GET,
            "/me",
            &[("authorization", bearer.as_str())],
            "",
        )
        .await;
    assert_eq!(me.status, StatusCode::OK);
    let r = c
        .go(&app, Method::POST, "/token/refresh", &json, &body(&first))
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let r = c
        .go(&app, Method::POST, "/token/refresh", &json, &body(&second))
        .await;
    assert_eq!(
        r.status,
        StatusCode::UNAUTHORIZED,
        "the family died with the reuse"
    );
    for bad in ["", "{}", "not json", "{\"refresh_token\": 5}", "[]"] {
        let r = c.go(&app, Method::POST, "/token/refresh", &json, bad).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{bad}");
    }
    for nonsense in ["", "x", &"a".repeat(5000)] {
        let r = c
            .go(&app, Method::POST, "/token/refresh", &json, &body(nonsense))
            .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{nonsense:.20}");
    }
    let jwt = super::app(
        SchemeSpec::Jwt(JwtAlg::HS256),
        Transport::Bearer,
        Revocation::None,
    );
    let r = c
        .go(&jwt, Method::POST, "/token/refresh", &json, &body(&second))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn fixation_pre_login_and_attacker_chosen_ids_are_dead_after_login() {
    let app = app(
        SchemeSpec::Session(StoreSpec::Memory),
        Transport::Cookie,
        Revocation::None,
    );
    // The attacker fetches a pre-login session and plants it in the victim's browser.
    let mut attacker = Browser::default();
    let _ = attacker.login_page_csrf(&app).await;
    let planted = attacker.cookie("__Host-sid").unwrap();
    let mut victim = Browser::default();
    victim.set("__Host-sid", &planted);
    let csrf = victim.login_page_csrf(&app).await;
    assert_eq!(
        victim
            .login(&app, "user-0", "password-0", &csrf)
            .await
            .status,
        StatusCode::SEE_OTHER
    );
    let fresh = victim.cookie("__Host-sid").unwrap();
    assert_ne!(fresh, planted);
    assert_eq!(
        attacker.get(&app, "/me").await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(victim.get(&app, "/me").await.status, StatusCode::OK);
    // An ID the attacker made up (well-formed, never issued) is replaced at /login.
    let mut victim2 = Browser::default();
    victim2.set("__Host-sid", "AAAAAAAAAAAAAAAAAAAAAA");
    let csrf = victim2.login_page_csrf(&app).await;
    assert_ne!(
        victim2.cookie("__Host-sid").unwrap(),
        "AAAAAAAAAAAAAAAAAAAAAA"
    );
    assert_eq!(
        victim2
            .login(&app, "user-1", "password-1", &csrf)
            .await
            .status,
        StatusCode::SEE_OTHER
    );
    let mut chosen = Browser::default();
    chosen.set("__Host-sid", "AAAAAAAAAAAAAAAAAAAAAA");
    assert_eq!(
        chosen.get(&app, "/me").await.status,
        StatusCode::UNAUTHORIZED
    );
    // Logging in again over a live session: the old session ID dies too.
    let old = victim.cookie("__Host-sid").unwrap();
    let csrf = victim.login_page_csrf(&app).await;
    assert_eq!(
        victim
            .login(&app, "user-0", "password-0", &csrf)
            .await
            .status,
        StatusCode::SEE_OTHER
    );
    let mut stale = Browser::default();
    stale.set("__Host-sid", &old);
    assert_eq!(
        stale.get(&app, "/me").await.status,
        StatusCode::UNAUTHORIZED
    );
    // A pre-login form can be used once.
    let mut twice = Browser::default();
    let csrf = twice.login_page_csrf(&app).await;
    let copy = twice.clone();
    assert_eq!(
        twice
            .login(&app, "user-2", "password-2", &csrf)
            .await
            .status,
        StatusCode::SEE_OTHER
    );
    let mut copy = copy;
    assert_eq!(
        copy.login(&app, "user-2", "password-2", &csrf).await.status,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn idle_timeout_is_enforced_by_the_server() {
    let mut c = config(
        SchemeSpec::Session(StoreSpec::Memory),
        Transport::Bearer,
        Revocation::None,
    );
    c.session.idle_timeout = Duration::from_millis(300);
    let app = App::new(c).unwrap();
    let mut b = Browser::default();
    let r = b.login(&app, "user-0", "password-0", "").await;
    let auth = format!("Bearer {}", r.json()["access_token"].as_str().unwrap());
    let h = [("authorization", auth.as_str())];
    assert_eq!(
        b.go(&app, Method::GET, "/me", &h, "").await.status,
        StatusCode::OK
    );
    tokio::time::sleep(Duration::from_millis(450)).await;
    assert_eq!(
        b.go(&app, Method::GET, "/me", &h, "").await.status,
        StatusCode::UNAUTHORIZED
    );
}
