//! One site, many nodes (`serve --site NAME --key-dir DIR`): the stack floor and the JWKS
//! through the router; then the one-site contract with real `tokenbench serve` processes
//! on Redis and PostgreSQL (skipped without them, failed on CI): logins and logouts seen
//! by every node, shared keys in private files, verify-only nodes, records kept when a
//! node stops and removed by `site::remove`.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;
use std::time::Instant;

use http_body_util::Full;
use hyper::body::Bytes;

use super::*;
use tokenbench::http::SiteConfig;
use tokenbench::http::child::ChildServer;
use tokenbench::http::site;
use tokenbench::load::client::{Answer, ByteCount, connect};
use tokenbench::net::metrics::MetricsSnapshot;
use tokenbench::store::site::SiteName;
use tokenbench::store::{PostgresStore, RedisStore, SessionStore};

fn exe() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_tokenbench"))
}

/// A site name no other test or run uses.
fn fresh_name(tag: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!("t-{tag}-{}-{nanos:x}", std::process::id())
}

/// Removes a site's records (and a canary site's) when dropped, so a test that fails
/// midway leaves nothing behind either.
struct Cleanup(StoreSpec, Vec<String>);

impl Drop for Cleanup {
    fn drop(&mut self) {
        for name in &self.1 {
            let _ = site::remove(&self.0, name);
        }
    }
}

/// A private key directory (mode 0700) inside a temporary directory.
fn key_dir(tmp: &tempfile::TempDir) -> std::path::PathBuf {
    let dir = tmp.path().join("keys");
    std::fs::create_dir(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();
    dir
}

fn site_config(spec: SchemeSpec, transport: Transport, name: &str, dir: &Path) -> ServerConfig {
    let mut c = config(spec, transport, Revocation::None);
    c.site = Some(SiteConfig {
        name: name.parse().unwrap(),
        key_dir: dir.to_path_buf(),
        verify_only: false,
        jwks_url: None,
    });
    c
}

// ---------------------------------------------------------------------------------------
// Through the router.

#[tokio::test]
async fn the_floor_answers_like_me_without_any_token_work() {
    for (spec, transport) in [
        (SchemeSpec::Session(StoreSpec::Memory), Transport::Cookie),
        (SchemeSpec::Jwt(JwtAlg::ES256), Transport::Bearer),
        (SchemeSpec::Paseto(PasetoPurpose::Public), Transport::Cookie),
    ] {
        let app = app(spec.clone(), transport, Revocation::None);
        let mut b = Browser::default();
        let before = app.metrics().snapshot();
        let floor = b.get(&app, "/floor").await;
        assert_eq!(floor.status, StatusCode::OK, "{spec}");
        let after = app.metrics().snapshot();
        assert_eq!(after.requests, before.requests + 1, "counted as a request");
        assert_eq!(after.status_classes[1], before.status_classes[1] + 1);
        assert_eq!(
            (after.validate.calls, after.token_other.calls),
            (before.validate.calls, before.token_other.calls),
            "{spec}: the floor calls nothing of the scheme"
        );
        assert_eq!(floor.headers[header::CACHE_CONTROL], "no-store");
        // The body of GET /me, key for key.
        let csrf = b.login_page_csrf(&app).await;
        let login = b.login(&app, "user-1", "password-1", &csrf).await;
        let me = match transport {
            Transport::Cookie => b.get(&app, "/me").await,
            Transport::Bearer => {
                let token = login.json()["access_token"].as_str().unwrap().to_owned();
                let auth = format!("Bearer {token}");
                b.go(&app, Method::GET, "/me", &[("authorization", &auth)], "")
                    .await
            }
        };
        assert_eq!(me.status, StatusCode::OK, "{spec}");
        let keys = |v: Value| -> Vec<String> {
            let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
            k.sort();
            k
        };
        assert_eq!(keys(floor.json()), keys(me.json()), "{spec}");
        let f = floor.json();
        assert_eq!(f["roles"], me.json()["roles"]);
        if transport == Transport::Cookie {
            assert_eq!(
                f["csrf"].as_str().unwrap().len(),
                me.json()["csrf"].as_str().unwrap().len()
            );
        }
    }
}

#[tokio::test]
async fn the_jwks_route_serves_the_public_key_and_verifies_a_token() {
    let es = app(
        SchemeSpec::Jwt(JwtAlg::ES256),
        Transport::Bearer,
        Revocation::None,
    );
    let mut b = Browser::default();
    let jwks = b.get(&es, "/.well-known/jwks.json").await;
    assert_eq!(jwks.status, StatusCode::OK);
    let doc = jwks.json();
    let jwk = &doc["keys"][0];
    assert_eq!(
        (jwk["kty"].as_str(), jwk["alg"].as_str()),
        (Some("EC"), Some("ES256"))
    );
    assert!(jwk.get("d").is_none(), "never the private key: {doc}");
    let login = b.login(&es, "user-1", "password-1", "").await;
    let token = login.json()["access_token"].as_str().unwrap().to_owned();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let seen = tokenbench::inspect::inspect(&token, Some(&jwk.to_string()), now).unwrap();
    assert_eq!(seen.exit_code(), 0, "{}", seen.render());
    // Another server's key does not verify it.
    let other = app(
        SchemeSpec::Jwt(JwtAlg::ES256),
        Transport::Bearer,
        Revocation::None,
    );
    let other_doc = b.get(&other, "/.well-known/jwks.json").await.json();
    let seen =
        tokenbench::inspect::inspect(&token, Some(&other_doc["keys"][0].to_string()), now).unwrap();
    assert_eq!(seen.exit_code(), 1);

    let paseto = app(
        SchemeSpec::Paseto(PasetoPurpose::Public),
        Transport::Bearer,
        Revocation::None,
    );
    let doc = b.get(&paseto, "/.well-known/jwks.json").await.json();
    assert!(
        doc["paserk"].as_str().unwrap().starts_with("k4.public."),
        "{doc}"
    );
    assert!(doc["kid"].as_str().unwrap().starts_with("k4.pid."), "{doc}");
    for spec in [
        SchemeSpec::Jwt(JwtAlg::HS256),
        SchemeSpec::Paseto(PasetoPurpose::Local),
        SchemeSpec::Session(StoreSpec::Memory),
    ] {
        let app = app(spec.clone(), Transport::Bearer, Revocation::None);
        let r = b.get(&app, "/.well-known/jwks.json").await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{spec}");
        assert!(!String::from_utf8_lossy(&r.body).contains("k4."), "{spec}");
    }
}

#[tokio::test]
async fn a_verify_only_node_verifies_revokes_and_logs_nobody_in() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = key_dir(&tmp);
    for spec in [
        SchemeSpec::Jwt(JwtAlg::EdDSA),
        SchemeSpec::Paseto(PasetoPurpose::Public),
    ] {
        for transport in Transport::ALL {
            let issuer = App::new(site_config(spec.clone(), transport, "r1", &dir)).unwrap();
            let mut vc = site_config(spec.clone(), transport, "r1", &dir);
            vc.site.as_mut().unwrap().verify_only = true;
            let verifier = App::new(vc).unwrap();
            assert!(verifier.verify_only() && !issuer.verify_only());
            let mut b = Browser::default();
            let csrf = b.login_page_csrf(&issuer).await;
            let login = b.login(&issuer, "user-1", "password-1", &csrf).await;
            let auth = match transport {
                Transport::Bearer => {
                    format!("Bearer {}", login.json()["access_token"].as_str().unwrap())
                }
                Transport::Cookie => String::new(),
            };
            let headers: Vec<(&str, &str)> = match transport {
                Transport::Bearer => vec![("authorization", auth.as_str())],
                Transport::Cookie => vec![],
            };
            let me = b.go(&verifier, Method::GET, "/me", &headers, "").await;
            assert_eq!(me.status, StatusCode::OK, "{spec} {transport:?}");
            // The cookie transport's CSRF token (the site's key) is accepted there too.
            if transport == Transport::Cookie {
                let t = me.json()["csrf"].as_str().unwrap().to_owned();
                let note = b
                    .post(&verifier, "/api/notes", &[("x-csrf-token", &t)])
                    .await;
                assert_eq!(note.status, StatusCode::CREATED);
            }
            // No login there: a 4xx, never a 5xx.
            let mut stranger = Browser::default();
            let page = stranger.get(&verifier, "/login").await;
            assert_eq!(page.status, StatusCode::FORBIDDEN);
            assert!(String::from_utf8_lossy(&page.body).contains("verify"));
            let refused = stranger.login(&verifier, "user-1", "password-1", "x").await;
            assert_eq!(
                refused.status,
                StatusCode::FORBIDDEN,
                "{spec} {transport:?}"
            );
            // Both serve the same public key.
            assert_eq!(
                b.get(&verifier, "/.well-known/jwks.json").await.body,
                b.get(&issuer, "/.well-known/jwks.json").await.body
            );
        }
    }
    // A scheme verified with a secret has no verify-only node.
    for spec in [
        SchemeSpec::Jwt(JwtAlg::HS256),
        SchemeSpec::Paseto(PasetoPurpose::Local),
    ] {
        let mut c = site_config(spec.clone(), Transport::Bearer, "r1", &dir);
        c.site.as_mut().unwrap().verify_only = true;
        let e = App::new(c).unwrap_err().to_string();
        assert!(e.contains("--verify-only"), "{spec}: {e}");
    }
}

#[tokio::test]
async fn nodes_of_one_site_share_keys_and_csrf_and_refuse_readable_key_files() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = key_dir(&tmp);
    let spec = SchemeSpec::Jwt(JwtAlg::RS256);
    let a = App::new(site_config(spec.clone(), Transport::Cookie, "k1", &dir)).unwrap();
    let b = App::new(site_config(spec.clone(), Transport::Cookie, "k1", &dir)).unwrap();
    // A form fetched from A is accepted by B; the token from B works on A.
    let mut user = Browser::default();
    let csrf = user.login_page_csrf(&a).await;
    assert_eq!(
        user.login(&b, "user-1", "password-1", &csrf).await.status,
        StatusCode::SEE_OTHER
    );
    let me = user.get(&a, "/me").await;
    assert_eq!(me.status, StatusCode::OK);
    let t = me.json()["csrf"].as_str().unwrap().to_owned();
    assert_eq!(
        user.post(&b, "/api/notes", &[("x-csrf-token", &t)])
            .await
            .status,
        StatusCode::CREATED
    );
    // A site without the key directory's keys (another directory) refuses it.
    let tmp2 = tempfile::tempdir().unwrap();
    let other = App::new(site_config(
        spec.clone(),
        Transport::Cookie,
        "k1",
        &key_dir(&tmp2),
    ))
    .unwrap();
    assert_eq!(
        user.get(&other, "/me").await.status,
        StatusCode::UNAUTHORIZED
    );
    // Every file is 0600; one that is not is refused, never used.
    let mut files = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{}", path.display());
        files += 1;
    }
    assert_eq!(files, 3, "jwt-RS256.key, jwt-RS256.pub, csrf.secret");
    let key = dir.join("jwt-RS256.key");
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let e = App::new(site_config(spec, Transport::Cookie, "k1", &dir))
        .unwrap_err()
        .to_string();
    assert!(e.contains("jwt-RS256.key") && e.contains("0644"), "{e}");
    assert!(!e.contains(&std::fs::read_to_string(&key).unwrap()[20..60]));
}

// ---------------------------------------------------------------------------------------
// Real processes.

/// A node: `tokenbench serve` with `args` after the common ones, 2 demo accounts.
fn node(args: &[&str]) -> ChildServer {
    let mut all: Vec<String> = ["serve", "--users", "2"].map(String::from).to_vec();
    if !args.contains(&"--listen") {
        all.extend(["--listen".into(), "127.0.0.1:0".into()]);
    }
    all.extend(args.iter().map(|s| (*s).to_owned()));
    ChildServer::spawn(exe(), &all).unwrap()
}

/// A user agent for a node over a socket: a cookie jar, and a bearer token if it has one.
#[derive(Default, Clone)]
struct Agent {
    jar: Vec<(String, String)>,
    bearer: Option<String>,
}

impl Agent {
    async fn send(
        &mut self,
        node: &ChildServer,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> Answer {
        let target = Target::parse(node.url()).unwrap();
        let cfg = LoadConfig::new(target.clone(), Protocol::Http1, Transport::Cookie);
        let mut s = connect(&cfg, Arc::new(ByteCount::default())).await.unwrap();
        let mut req = Request::builder()
            .method(method)
            .uri(path)
            .header(header::HOST, target.authority.as_str());
        if !self.jar.is_empty() {
            let v: Vec<String> = self.jar.iter().map(|(n, v)| format!("{n}={v}")).collect();
            req = req.header(header::COOKIE, v.join("; "));
        }
        if let Some(t) = &self.bearer {
            req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
        for (n, v) in headers {
            req = req.header(*n, *v);
        }
        let a = s
            .send(req.body(Full::new(Bytes::from(body.to_owned()))).unwrap())
            .await
            .unwrap();
        assert!(
            !a.status.is_server_error() || a.status == StatusCode::SERVICE_UNAVAILABLE,
            "{path}: {}",
            a.status
        );
        for c in a.headers.get_all(header::SET_COOKIE) {
            let c = cookie::Cookie::parse(c.to_str().unwrap().to_owned()).unwrap();
            self.jar.retain(|(n, _)| n != c.name());
            if !c.value().is_empty() {
                self.jar.push((c.name().to_owned(), c.value().to_owned()));
            }
        }
        a
    }

    async fn get(&mut self, node: &ChildServer, path: &str) -> Answer {
        self.send(node, Method::GET, path, &[], "").await
    }

    /// `GET /login` on `page`, then `POST /login` on `on`: the status of the login.
    async fn login(&mut self, page: &ChildServer, on: &ChildServer, user: usize) -> StatusCode {
        let form = self.get(page, "/login").await;
        assert_eq!(form.status, StatusCode::OK);
        let csrf = form_csrf(&form.body).unwrap();
        let body = format!("username=user-{user}&password=password-{user}&csrf={csrf}");
        let ct = [("content-type", "application/x-www-form-urlencoded")];
        let a = self.send(on, Method::POST, "/login", &ct, &body).await;
        if a.status == StatusCode::OK {
            let v: Value = serde_json::from_slice(&a.body).unwrap();
            self.bearer = v["access_token"].as_str().map(str::to_owned);
        }
        a.status
    }

    /// The CSRF token `/me` on `node` gives (cookie transport).
    async fn csrf(&mut self, node: &ChildServer) -> String {
        let me = self.get(node, "/me").await;
        assert_eq!(me.status, StatusCode::OK);
        let v: Value = serde_json::from_slice(&me.body).unwrap();
        v["csrf"].as_str().unwrap_or_default().to_owned()
    }

    async fn logout(&mut self, node: &ChildServer) -> Answer {
        let csrf = if self.bearer.is_some() {
            String::new()
        } else {
            self.csrf(node).await
        };
        self.send(
            node,
            Method::POST,
            "/logout",
            &[("x-csrf-token", &csrf)],
            "",
        )
        .await
    }
}

/// Asks `/me` on `node` until it answers 401; the time it took, or `None` past `limit`.
async fn refused_within(
    agent: &mut Agent,
    node: &ChildServer,
    limit: Duration,
) -> Option<Duration> {
    let start = Instant::now();
    while start.elapsed() < limit {
        if agent.get(node, "/me").await.status == StatusCode::UNAUTHORIZED {
            return Some(start.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    None
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// Rows of site `name`'s PostgreSQL table now.
fn site_rows(url: &str, name: &SiteName) -> usize {
    PostgresStore::connect_with_table(url, &name.postgres_table())
        .unwrap()
        .with_cleanup_on_drop(false)
        .len()
        .unwrap()
}

/// Keys of site `name` in Redis now.
fn site_keys(url: &str, name: &SiteName) -> usize {
    RedisStore::connect_with_prefix(url, &name.redis_prefix())
        .unwrap()
        .with_cleanup_on_drop(false)
        .len()
        .unwrap()
}

/// The session contract on `store`, cookie transport, nodes A and B of one site: a login
/// on A is honoured on B, a logout on B refused on A at once; stopping both leaves the
/// records; `site::remove` removes them and nothing else.
fn sessions_are_one_site(store: &str, name: &str, count: impl Fn(&SiteName) -> usize) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = key_dir(&tmp);
    let dir_s = dir.to_str().unwrap();
    let common = ["--store", store, "--site", name, "--key-dir", dir_s];
    let mut a = node(&common);
    let mut b = node(&common);
    let rt = runtime();
    rt.block_on(async {
        let mut user = Agent::default();
        // The form from A, the login on B (the pre-login session is in the shared store).
        assert_eq!(user.login(&a, &b, 1).await, StatusCode::SEE_OTHER);
        assert_eq!(
            user.get(&a, "/me").await.status,
            StatusCode::OK,
            "login on B, /me on A"
        );
        assert_eq!(user.get(&b, "/me").await.status, StatusCode::OK);
        let mut other = Agent::default();
        assert_eq!(other.login(&b, &a, 0).await, StatusCode::SEE_OTHER);
        assert_eq!(
            other.get(&b, "/me").await.status,
            StatusCode::OK,
            "login on A, /me on B"
        );
        // The CSRF token from A's /me is accepted by B (it is the record's).
        let t = user.csrf(&a).await;
        let note = user
            .send(
                &b,
                Method::POST,
                "/api/notes",
                &[("x-csrf-token", &t)],
                "{}",
            )
            .await;
        assert_eq!(note.status, StatusCode::CREATED);
        let mut stolen = user.clone();
        assert_eq!(user.logout(&b).await.status, StatusCode::NO_CONTENT);
        assert_eq!(
            stolen.get(&a, "/me").await.status,
            StatusCode::UNAUTHORIZED,
            "a logout on B is honoured on A at once"
        );
    });
    let site: SiteName = name.parse().unwrap();
    a.stop();
    b.stop();
    assert!(
        count(&site) > 0,
        "a node that stops deletes nothing of the site"
    );
}

/// A session record for canaries.
fn canary_record() -> tokenbench::store::SessionRecord {
    tokenbench::store::SessionRecord {
        claims: Arc::new(tokenbench::claims::ClaimSet::Minimal.claims("c")),
        created_ms: 0,
        last_seen_ms: 0,
        idle_deadline_ms: 4_102_444_800_000,
        absolute_deadline_ms: 4_102_444_800_000,
        csrf_token: Arc::from("x"),
    }
}

#[test]
fn two_session_nodes_on_redis_are_one_site() {
    let Some(url) = crate::common::skip::shared_redis_url() else {
        return;
    };
    let name = fresh_name("sr");
    let site: SiteName = name.parse().unwrap();
    // A canary of another site whose name extends this one's.
    let canary_name: SiteName = format!("{name}x").parse().unwrap();
    let _cleanup = Cleanup(
        StoreSpec::Redis(url.clone()),
        vec![name.clone(), canary_name.to_string()],
    );
    RedisStore::connect_with_prefix(&url, &canary_name.session_prefix())
        .unwrap()
        .with_cleanup_on_drop(false)
        .put("canary", &canary_record())
        .unwrap();
    sessions_are_one_site(&url, &name, |s| site_keys(&url, s));
    let removed = site::remove(&StoreSpec::Redis(url.clone()), &name).unwrap();
    assert!(removed > 0);
    assert_eq!(
        site_keys(&url, &site),
        0,
        "site::remove removes the site's keys"
    );
    assert_eq!(site_keys(&url, &canary_name), 1, "and nothing else");
    let canary = StoreSpec::Redis(url.clone());
    assert_eq!(site::remove(&canary, canary_name.as_str()).unwrap(), 1);
}

#[test]
fn two_session_nodes_on_postgres_are_one_site() {
    let Some(url) = crate::common::skip::shared_postgres_url() else {
        return;
    };
    let name = fresh_name("sp");
    let canary_name: SiteName = format!("{name}x").parse().unwrap();
    let _cleanup = Cleanup(
        StoreSpec::Postgres(url.clone()),
        vec![name.clone(), canary_name.to_string()],
    );
    PostgresStore::connect_with_table(&url, &canary_name.postgres_table())
        .unwrap()
        .with_cleanup_on_drop(false)
        .put("canary", &canary_record())
        .unwrap();
    let rows = |s: &SiteName| site_rows(&url, s);
    sessions_are_one_site(&url, &name, rows);
    let store = StoreSpec::Postgres(url.clone());
    assert!(
        site::remove(&store, &name).unwrap() > 0,
        "the table held the sessions"
    );
    assert_eq!(site::remove(&store, &name).unwrap(), 0, "and is gone");
    assert_eq!(rows(&canary_name), 1, "the other site's table is untouched");
    assert_eq!(site::remove(&store, canary_name.as_str()).unwrap(), 1);
}

/// The hybrid on `store`, bearer transport, nodes A and B of one site: A's access token
/// verifies on B; a refresh token issued by A rotates on B; the replaced token replayed on
/// A is reuse (401) and kills the family on every node (the successor B gave is refused
/// on A); a logout on B ends a second login's family for A; the families stay when the
/// nodes stop.
fn hybrid_is_one_site(store: &str, name: &str, count: impl Fn(&SiteName) -> usize) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = key_dir(&tmp);
    let args = [
        "--scheme",
        "hybrid",
        "--alg",
        "HS256",
        "--transport",
        "bearer",
        "--store",
        store,
        "--site",
        name,
        "--key-dir",
        dir.to_str().unwrap(),
    ];
    let (mut a, mut b) = (node(&args), node(&args));
    runtime().block_on(async {
        let json = [("content-type", "application/json")];
        let refresh = |t: &str| serde_json::json!({ "refresh_token": t }).to_string();
        let pair = |a: &Answer| -> (String, String) {
            let v: Value = serde_json::from_slice(&a.body).unwrap();
            (
                v["access_token"].as_str().unwrap().to_owned(),
                v["refresh_token"].as_str().unwrap().to_owned(),
            )
        };
        let mut user = Agent::default();
        assert_eq!(user.login(&a, &a, 1).await, StatusCode::OK);
        assert_eq!(
            user.get(&b, "/me").await.status,
            StatusCode::OK,
            "A's access token on B"
        );
        // The login's refresh token (the login answer is not kept by Agent: log in again
        // through the JSON the node gives).
        let mut c = Agent::default();
        let form = c.get(&a, "/login").await;
        let csrf = form_csrf(&form.body).unwrap();
        let body = format!("username=user-0&password=password-0&csrf={csrf}");
        let ct = [("content-type", "application/x-www-form-urlencoded")];
        let login = c.send(&a, Method::POST, "/login", &ct, &body).await;
        assert_eq!(login.status, StatusCode::OK);
        let (_, first) = pair(&login);
        let rotated = c
            .send(&b, Method::POST, "/token/refresh", &json, &refresh(&first))
            .await;
        assert_eq!(
            rotated.status,
            StatusCode::OK,
            "A's refresh token rotates on B"
        );
        let (access, second) = pair(&rotated);
        assert_ne!(second, first);
        c.bearer = Some(access);
        assert_eq!(
            c.get(&a, "/me").await.status,
            StatusCode::OK,
            "B's access token on A"
        );
        let replay = c
            .send(&a, Method::POST, "/token/refresh", &json, &refresh(&first))
            .await;
        assert_eq!(replay.status, StatusCode::UNAUTHORIZED, "reuse, seen by A");
        let after = c
            .send(&b, Method::POST, "/token/refresh", &json, &refresh(&second))
            .await;
        assert_eq!(
            after.status,
            StatusCode::UNAUTHORIZED,
            "the reuse on A killed the family B rotated"
        );
        // A logout on B ends the family of a login on A.
        let mut d = Agent::default();
        let form = d.get(&a, "/login").await;
        let csrf = form_csrf(&form.body).unwrap();
        let body = format!("username=user-1&password=password-1&csrf={csrf}");
        let login = d.send(&a, Method::POST, "/login", &ct, &body).await;
        let (access, refresh_token) = pair(&login);
        d.bearer = Some(access);
        assert_eq!(d.logout(&b).await.status, StatusCode::NO_CONTENT);
        let r = d
            .send(
                &a,
                Method::POST,
                "/token/refresh",
                &json,
                &refresh(&refresh_token),
            )
            .await;
        assert_eq!(
            r.status,
            StatusCode::UNAUTHORIZED,
            "logged out on B, refused on A"
        );
    });
    let site: SiteName = name.parse().unwrap();
    a.stop();
    b.stop();
    assert!(
        count(&site) > 0,
        "a node that stops deletes no family of the site"
    );
}

#[test]
fn two_hybrid_nodes_on_redis_share_refresh_families() {
    let Some(url) = crate::common::skip::shared_redis_url() else {
        return;
    };
    let name = fresh_name("hr");
    let store = StoreSpec::Redis(url.clone());
    let _cleanup = Cleanup(store.clone(), vec![name.clone()]);
    let site: SiteName = name.parse().unwrap();
    hybrid_is_one_site(&url, &name, |s| site_keys(&url, s));
    assert!(site::remove(&store, &name).unwrap() > 0);
    assert_eq!(
        site_keys(&url, &site),
        0,
        "site::remove removes the families"
    );
}

#[test]
fn two_hybrid_nodes_on_postgres_share_refresh_families() {
    let Some(url) = crate::common::skip::shared_postgres_url() else {
        return;
    };
    let name = fresh_name("hp");
    let store = StoreSpec::Postgres(url.clone());
    let _cleanup = Cleanup(store.clone(), vec![name.clone()]);
    hybrid_is_one_site(&url, &name, |s| site_rows(&url, s));
    assert!(site::remove(&store, &name).unwrap() > 0);
}

/// A self-contained scheme on Redis with `revocation`: a token issued by A verifies on B;
/// logged out on A, it is refused by B within `limit`.
fn tokens_are_one_site(scheme: &[&str], revocation: &str, limit: Duration) {
    let Some(url) = crate::common::skip::shared_redis_url() else {
        return;
    };
    let name = fresh_name("j");
    let site: SiteName = name.parse().unwrap();
    let _cleanup = Cleanup(StoreSpec::Redis(url.clone()), vec![name.clone()]);
    let tmp = tempfile::tempdir().unwrap();
    let dir = key_dir(&tmp);
    let mut args: Vec<&str> = scheme.to_vec();
    args.extend([
        "--store",
        &url,
        "--site",
        &name,
        "--key-dir",
        dir.to_str().unwrap(),
        "--revocation",
        revocation,
        "--poll-interval",
        "200ms",
    ]);
    let bearer = [args.as_slice(), &["--transport", "bearer"]].concat();
    let (mut a, mut b) = (node(&bearer), node(&bearer));
    let cookie = [args.as_slice(), &["--transport", "cookie"]].concat();
    let (mut c, mut d) = (node(&cookie), node(&cookie));
    runtime().block_on(async {
        let mut user = Agent::default();
        assert_eq!(user.login(&a, &a, 1).await, StatusCode::OK);
        assert_eq!(
            user.get(&b, "/me").await.status,
            StatusCode::OK,
            "A's token on B"
        );
        let mut stolen = user.clone();
        let out = user.logout(&a).await;
        assert_eq!(out.status, StatusCode::NO_CONTENT);
        assert_eq!(out.headers["x-token-revocation"], "revoked");
        let took = refused_within(&mut stolen, &b, limit).await;
        assert!(
            took.is_some(),
            "{scheme:?} {revocation}: still accepted by B after {limit:?}"
        );
        eprintln!("{scheme:?} --revocation {revocation}: refused by B after {took:?}");
        // Cookies: the form from C, the login on D, the CSRF token from C's /me on D.
        let mut browser = Agent::default();
        assert_eq!(browser.login(&c, &d, 0).await, StatusCode::SEE_OTHER);
        let t = browser.csrf(&c).await;
        let note = browser
            .send(
                &d,
                Method::POST,
                "/api/notes",
                &[("x-csrf-token", &t)],
                "{}",
            )
            .await;
        assert_eq!(note.status, StatusCode::CREATED);
    });
    for n in [&mut a, &mut b, &mut c, &mut d] {
        n.stop();
    }
    assert!(
        site_keys(&url, &site) > 0,
        "the denylist entry outlives the nodes"
    );
    assert!(site::remove(&StoreSpec::Redis(url.clone()), &name).unwrap() > 0);
    assert_eq!(site_keys(&url, &site), 0);
}

#[test]
fn a_jwt_logged_out_on_one_node_is_refused_by_the_other_within_a_second() {
    tokens_are_one_site(
        &["--scheme", "jwt", "--alg", "ES256"],
        "denylist",
        Duration::from_secs(1),
    );
}

#[test]
fn a_paseto_logged_out_on_one_node_is_refused_by_the_other_within_a_second() {
    tokens_are_one_site(
        &["--scheme", "paseto", "--purpose", "public"],
        "denylist",
        Duration::from_secs(1),
    );
}

#[test]
fn pushed_and_polled_denylists_reach_the_other_node() {
    let hs = ["--scheme", "jwt", "--alg", "HS256"];
    tokens_are_one_site(&hs, "pushed", Duration::from_secs(1));
    // A poll every 200 ms (set above): within two periods and the round trips.
    tokens_are_one_site(&hs, "polled", Duration::from_secs(1));
}

#[test]
fn verify_only_nodes_verify_with_the_public_key_alone_and_log_nobody_in() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = key_dir(&tmp);
    let dir_s = dir.to_str().unwrap();
    let name = fresh_name("v");
    let site = [
        "--scheme",
        "jwt",
        "--alg",
        "ES256",
        "--transport",
        "bearer",
        "--site",
        &name,
        "--key-dir",
        dir_s,
    ];
    // Before any issuer ran, a verifier has no public key: a clear error, exit status 1.
    let early = Command::new(exe())
        .args(["serve", "--listen", "127.0.0.1:0"])
        .args(site)
        .arg("--verify-only")
        .output()
        .unwrap();
    assert_eq!(early.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&early.stderr).contains("jwt-ES256.pub"),
        "{early:?}"
    );
    let issuer = node(&site);
    let from_dir = node(&[&site[..], &["--verify-only"]].concat());
    let jwks_url = format!("{}/.well-known/jwks.json", issuer.url());
    let from_jwks = node(&[&site[..], &["--verify-only", "--jwks-url", &jwks_url]].concat());
    // The key files: private, and the private key is only the issuer's business.
    for f in ["jwt-ES256.key", "jwt-ES256.pub", "csrf.secret"] {
        let mode = std::fs::metadata(dir.join(f)).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{f}");
    }
    runtime().block_on(async {
        let mut user = Agent::default();
        assert_eq!(user.login(&issuer, &issuer, 1).await, StatusCode::OK);
        for verifier in [&from_dir, &from_jwks] {
            assert_eq!(user.get(verifier, "/me").await.status, StatusCode::OK);
            let mut stranger = Agent::default();
            let page = stranger.get(verifier, "/login").await;
            assert_eq!(page.status, StatusCode::FORBIDDEN);
            let form = "username=user-1&password=password-1&csrf=x";
            let ct = [("content-type", "application/x-www-form-urlencoded")];
            let login = stranger
                .send(verifier, Method::POST, "/login", &ct, form)
                .await;
            assert_eq!(login.status, StatusCode::FORBIDDEN);
            let m: MetricsSnapshot =
                serde_json::from_slice(&stranger.get(verifier, "/metrics").await.body).unwrap();
            assert_eq!(m.status_classes[4], 0, "never a 5xx");
        }
        // The JWKS verifies the token with an outside reader: `inspect --jwk`.
        let jwks = user.get(&issuer, "/.well-known/jwks.json").await;
        let doc: Value = serde_json::from_slice(&jwks.body).unwrap();
        let jwk = tmp.path().join("issuer.jwk");
        std::fs::write(&jwk, doc["keys"][0].to_string()).unwrap();
        let token = user.bearer.clone().unwrap();
        let out = Command::new(exe())
            .args(["inspect", &token, "--jwk", jwk.to_str().unwrap()])
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stdout)
        );
    });
    // A symmetric scheme has no verify-only node: refused at start.
    let hs = Command::new(exe())
        .args([
            "serve",
            "--scheme",
            "jwt",
            "--alg",
            "HS256",
            "--site",
            &name,
            "--key-dir",
            dir_s,
            "--verify-only",
        ])
        .output()
        .unwrap();
    assert_ne!(hs.status.code(), Some(0));
    assert!(
        String::from_utf8_lossy(&hs.stderr).contains("--verify-only"),
        "{hs:?}"
    );
}

#[test]
fn a_readable_key_file_is_refused_at_start() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = key_dir(&tmp);
    let dir_s = dir.to_str().unwrap();
    let name = fresh_name("m");
    let site = [
        "--scheme",
        "paseto",
        "--purpose",
        "local",
        "--site",
        &name,
        "--key-dir",
        dir_s,
    ];
    let mut first = node(&site);
    first.stop();
    let key = dir.join("paseto-v4-local.key");
    assert_eq!(
        std::fs::metadata(&key).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let secret = std::fs::read_to_string(&key).unwrap();
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = Command::new(exe())
        .args(["serve", "--listen", "127.0.0.1:0"])
        .args(site)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(stdout.is_empty(), "it never listened: {stdout}");
    assert!(
        stderr.contains("paseto-v4-local.key") && stderr.contains("0644"),
        "{stderr}"
    );
    let paserk = secret
        .split('"')
        .find(|p| p.starts_with("k4.local."))
        .unwrap();
    assert!(!stderr.contains(paserk), "no key material in errors");
    // A readable directory too.
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    let out = Command::new(exe())
        .args(["serve", "--listen", "127.0.0.1:0"])
        .args(site)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("chmod 700"));
}

#[test]
fn a_node_reports_its_own_small_peak_and_its_live_sessions() {
    let n = node(&["--listen", "127.0.0.2:0"]);
    assert!(n.url().starts_with("http://127.0.0.2:"), "{}", n.url());
    runtime().block_on(async {
        let mut user = Agent::default();
        assert_eq!(user.login(&n, &n, 1).await, StatusCode::SEE_OTHER);
        let m: MetricsSnapshot =
            serde_json::from_slice(&user.get(&n, "/metrics").await.body).unwrap();
        assert_eq!(m.live_sessions, Some(1));
        assert!(
            m.vm_rss_bytes > 0 && m.peak_rss_bytes >= m.vm_rss_bytes / 2,
            "{m:?}"
        );
        assert!(
            m.peak_rss_bytes < 100 << 20,
            "a small server's own peak: {m:?}"
        );
        eprintln!(
            "serve --users 2: own peak (VmHWM) {} KiB, VmRSS {} KiB, ru_maxrss {} KiB",
            m.peak_rss_bytes >> 10,
            m.vm_rss_bytes >> 10,
            m.max_rss_bytes >> 10
        );
        assert_eq!(user.get(&n, "/floor").await.status, StatusCode::OK);
    });
}

#[test]
fn a_per_node_session_cache_hides_a_remote_logout_for_its_lifetime_only() {
    let Some(url) = crate::common::skip::shared_redis_url() else {
        return;
    };
    let name = fresh_name("c");
    let _cleanup = Cleanup(StoreSpec::Redis(url.clone()), vec![name.clone()]);
    let tmp = tempfile::tempdir().unwrap();
    let dir = key_dir(&tmp);
    let args = [
        "--store",
        &url,
        "--site",
        &name,
        "--key-dir",
        dir.to_str().unwrap(),
        "--transport",
        "bearer",
        "--session-cache",
        "3s",
    ];
    let (a, b) = (node(&args), node(&args));
    runtime().block_on(async {
        let mut user = Agent::default();
        assert_eq!(user.login(&a, &a, 1).await, StatusCode::OK);
        let mut stolen = user.clone();
        let cached_at = Instant::now();
        assert_eq!(
            stolen.get(&b, "/me").await.status,
            StatusCode::OK,
            "now cached on B"
        );
        assert_eq!(user.logout(&a).await.status, StatusCode::NO_CONTENT);
        assert_eq!(
            stolen.get(&a, "/me").await.status,
            StatusCode::UNAUTHORIZED,
            "evicted on A"
        );
        let on_b = stolen.get(&b, "/me").await.status;
        if cached_at.elapsed() < Duration::from_secs(3) {
            assert_eq!(
                on_b,
                StatusCode::OK,
                "B answers from its cache within its lifetime"
            );
        }
        let took = refused_within(&mut stolen, &b, Duration::from_secs(6)).await;
        assert!(
            took.is_some(),
            "B asks the store again once its entry is older than 3 s"
        );
    });
    drop((a, b));
    site::remove(&StoreSpec::Redis(url), &name).unwrap();
}
