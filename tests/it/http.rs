//! The HTTP layer: the Superb Site's flow for every scheme and transport through the
//! router (tower `oneshot`, no sockets) in a conformance style (one `http_flow!` module per
//! scheme), fixation, CSRF refusals, logout replay, cookie attributes on every
//! `Set-Cookie`, the 431 and malformed-cookie paths; one real-socket smoke test per
//! protocol; the load generator against a local server and its refusal of other hosts;
//! the `serve` child process; the http workload's quick shape; overload and a Redis that
//! dies (with a private `redis-server`, skipped without one); one site of many nodes
//! (`site`: the stack floor, the JWKS, verify-only nodes, real `serve --site` processes);
//! `serve --record-header-bytes` on real sockets (`header_bytes`).

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

use tokenbench::http::users::PasswordParams;
use tokenbench::http::{App, Revocation, ServerConfig, Transport, router};
use tokenbench::load::vu::form_csrf;
use tokenbench::load::{Generator, LoadConfig, LoadError, Mix, Protocol, Target};
use tokenbench::scheme::spec::{SchemeSpec, StoreSpec};
use tokenbench::scheme::{JwtAlg, PasetoPurpose};

const CHEAP: PasswordParams = PasswordParams {
    memory_kib: 64,
    iterations: 1,
    parallelism: 1,
};

fn config(spec: SchemeSpec, transport: Transport, revocation: Revocation) -> ServerConfig {
    let mut c = ServerConfig::new(spec, transport);
    c.users = 3;
    c.password = CHEAP;
    c.revocation = revocation;
    c
}

fn app(spec: SchemeSpec, transport: Transport, revocation: Revocation) -> Arc<App> {
    App::new(config(spec, transport, revocation)).expect("build the app")
}

/// A scheme whose token names a record in a store (a session): deleted at logout, its
/// login form bound to a pre-login session.
fn is_session(spec: &SchemeSpec) -> bool {
    spec.capabilities().store_lookup
}

/// The credential cookie's name for a scheme: `__Host-sid` for a session, `__Host-<family>`
/// (`__Host-jwt`) for a self-contained token.
fn credential_cookie(spec: &SchemeSpec) -> String {
    if is_session(spec) {
        "__Host-sid".to_owned()
    } else {
        format!("__Host-{}", spec.family().name())
    }
}

struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("a JSON body")
    }
    fn set_cookies(&self) -> Vec<String> {
        self.headers
            .get_all(header::SET_COOKIE)
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .collect()
    }
}

/// Every `Set-Cookie` must be hardened: `__Host-` name, HttpOnly, Secure, SameSite,
/// Path=/, no Domain; the one exception, a hybrid's refresh token, is `__Secure-refresh`,
/// `SameSite=Strict` and scoped to `Path=/token/refresh`.
#[track_caller]
fn assert_hardened(set_cookie: &str) {
    let c = cookie::Cookie::parse(set_cookie.to_owned()).expect("a parsable Set-Cookie");
    if c.name() == "__Secure-refresh" {
        assert_eq!(c.path(), Some("/token/refresh"), "{set_cookie}");
        assert_eq!(
            c.same_site(),
            Some(cookie::SameSite::Strict),
            "{set_cookie}"
        );
    } else {
        assert!(c.name().starts_with("__Host-"), "{set_cookie}");
        assert!(c.same_site().is_some(), "{set_cookie}");
        assert_eq!(c.path(), Some("/"), "{set_cookie}");
    }
    assert_eq!(c.http_only(), Some(true), "{set_cookie}");
    assert_eq!(c.secure(), Some(true), "{set_cookie}");
    assert_eq!(c.domain(), None, "{set_cookie}");
}

async fn send(app: &Arc<App>, req: Request<Body>) -> Reply {
    let resp = router(app.clone()).oneshot(req).await.expect("infallible");
    let status = resp.status();
    let headers = resp.headers().clone();
    let body = resp
        .into_body()
        .collect()
        .await
        .unwrap()
        .to_bytes()
        .to_vec();
    assert!(
        !status.is_server_error() || status == StatusCode::SERVICE_UNAVAILABLE,
        "{status}"
    );
    let r = Reply {
        status,
        headers,
        body,
    };
    for c in r.set_cookies() {
        assert_hardened(&c);
    }
    r
}

/// A browser (or API client): a cookie jar and extra headers.
#[derive(Default, Clone)]
struct Browser {
    jar: Vec<(String, String)>,
}

impl Browser {
    fn cookie(&self, name: &str) -> Option<String> {
        self.jar
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
    }

    fn set(&mut self, name: &str, value: &str) {
        self.jar.retain(|(n, _)| n != name);
        self.jar.push((name.to_owned(), value.to_owned()));
    }

    fn request(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> Request<Body> {
        let mut b = Request::builder().method(method).uri(path);
        if !self.jar.is_empty() {
            let v: Vec<String> = self.jar.iter().map(|(n, v)| format!("{n}={v}")).collect();
            b = b.header(header::COOKIE, v.join("; "));
        }
        for (n, v) in headers {
            b = b.header(*n, *v);
        }
        b.body(Body::from(body.to_owned())).unwrap()
    }

    async fn go(
        &mut self,
        app: &Arc<App>,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> Reply {
        let r = send(app, self.request(method, path, headers, body)).await;
        for c in r.set_cookies() {
            let c = cookie::Cookie::parse(c).unwrap();
            self.jar.retain(|(n, _)| n != c.name());
            if !c.value().is_empty() {
                self.jar.push((c.name().to_owned(), c.value().to_owned()));
            }
        }
        r
    }

    async fn get(&mut self, app: &Arc<App>, path: &str) -> Reply {
        self.go(app, Method::GET, path, &[], "").await
    }

    async fn login(&mut self, app: &Arc<App>, user: &str, password: &str, csrf: &str) -> Reply {
        let form = format!("username={user}&password={password}&csrf={csrf}");
        let ct = [("content-type", "application/x-www-form-urlencoded")];
        self.go(app, Method::POST, "/login", &ct, &form).await
    }

    async fn login_page_csrf(&mut self, app: &Arc<App>) -> String {
        let r = self.get(app, "/login").await;
        assert_eq!(r.status, StatusCode::OK);
        let html = String::from_utf8(r.body.clone()).unwrap();
        assert!(html.contains("Demo only"), "{html}");
        form_csrf(&r.body).expect("a hidden csrf input")
    }

    async fn post(&mut self, app: &Arc<App>, path: &str, headers: &[(&str, &str)]) -> Reply {
        self.go(app, Method::POST, path, headers, "{}").await
    }
}

#[path = "http/cors.rs"]
mod cors;
#[path = "http/flow.rs"]
mod flow;
#[path = "http/generator.rs"]
mod generator;
#[path = "http/header_bytes.rs"]
mod header_bytes;
#[path = "http/nodes.rs"]
mod nodes;
#[path = "http/schema.rs"]
mod schema;
#[path = "http/site.rs"]
mod site;
#[path = "http/sockets.rs"]
mod sockets;
