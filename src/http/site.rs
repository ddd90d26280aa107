//! One site, many nodes: `tokenbench serve --site NAME --key-dir DIR`. Nodes started with
//! the same name, store and key directory are one site (HTTP.md, "One site, many nodes"):
//!
//! - their records live under a namespace derived from the name ([`SiteName`]), so a login
//!   or logout on one node is seen by every node, and no node deletes them when it stops;
//!   [`remove`] is the cleanup the creator of a site calls at the end;
//! - their key material (the token keys and the CSRF key) lives in the key directory
//!   ([`KeyDir`]: files of mode 0600, created by the first node, loaded by the others);
//! - a verify-only node holds the public key alone, from the directory or from the
//!   issuer's JWKS (`--jwks-url`, [`fetch_jwks`]), and logs nobody in;
//! - the issuer's public key is served at `GET /.well-known/jwks.json` ([`jwks_document`]).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use axum::http::Uri;
use serde_json::{Value, json};

use super::HttpError;
use super::config::ServerConfig;
use super::csrf::CsrfKey;
use crate::scheme::keyfile::KeyDir;
use crate::scheme::spec::{SchemeKeys, SchemeSpec, StoreSpec};
use crate::store::site::{self as store_site, SiteName};

/// Largest JWKS document read from `--jwks-url`.
const MAX_JWKS_BYTES: usize = 64 * 1024;

/// Time allowed to fetch the JWKS (connect, request, whole answer).
const JWKS_TIMEOUT: Duration = Duration::from_secs(5);

/// The site a node belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiteConfig {
    /// The site's name: its store namespace.
    pub name: SiteName,
    /// The site's key directory.
    pub key_dir: PathBuf,
    /// Verify only: hold the public key alone and log nobody in (asymmetric schemes).
    pub verify_only: bool,
    /// Where a verify-only node fetches the public key (the issuer's JWKS), instead of
    /// the key directory's `<scheme>.pub`.
    pub jwks_url: Option<JwksUrl>,
}

/// A `--jwks-url`: plain HTTP to a loopback address (a key fetched over plain HTTP from
/// another host could be swapped on the way; copy `<scheme>.pub` into the key directory
/// there instead).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JwksUrl {
    /// Where to connect.
    pub addr: SocketAddr,
    /// `Host` header value.
    pub authority: String,
    /// Path and query.
    pub path: String,
}

impl std::str::FromStr for JwksUrl {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = |why: &str| format!("--jwks-url {s:?}: {why}");
        let uri: Uri = s.parse().map_err(|_| bad("not a URL"))?;
        match uri.scheme_str() {
            Some("http") => {}
            Some(_) => {
                return Err(bad(
                    "only http:// to a loopback address (the issuer's own certificate is \
                     self-signed); on another host, copy <scheme>.pub into --key-dir",
                ));
            }
            None => return Err(bad("expected http://HOST:PORT/.well-known/jwks.json")),
        }
        let authority = uri.authority().ok_or_else(|| bad("no host"))?;
        let host = authority
            .host()
            .trim_start_matches('[')
            .trim_end_matches(']');
        let ip: IpAddr = if host.eq_ignore_ascii_case("localhost") {
            IpAddr::V4(Ipv4Addr::LOCALHOST)
        } else {
            host.parse()
                .map_err(|_| bad("the host must be a loopback address or localhost"))?
        };
        if !ip.is_loopback() {
            return Err(bad(
                "not a loopback address: a public key fetched over plain HTTP from another \
                 host could be replaced on the way; copy <scheme>.pub into --key-dir instead",
            ));
        }
        let path = uri
            .path_and_query()
            .map_or("/".to_owned(), |p| p.as_str().to_owned());
        Ok(JwksUrl {
            addr: SocketAddr::new(ip, authority.port_u16().unwrap_or(80)),
            authority: authority.as_str().to_owned(),
            path,
        })
    }
}

/// Deletes the records of site `name` on `store` (Redis or Redis Cluster: every key under
/// `tokenbench:site:NAME:`; PostgreSQL: the table `tokenbench_site_NAME`), nothing else;
/// returns how many records went (Redis keys, PostgreSQL rows). A store in a server
/// process (memory, rwlock) holds nothing once its nodes stop: 0. The key directory is
/// left alone (its creator owns it).
pub fn remove(store: &StoreSpec, name: &str) -> Result<u64, HttpError> {
    let name: SiteName = name.parse().map_err(HttpError::Config)?;
    Ok(match store {
        StoreSpec::Redis(url) => store_site::remove_redis(url, &name)?,
        StoreSpec::Postgres(url) => store_site::remove_postgres(url, &name)?,
        StoreSpec::Memory | StoreSpec::RwLock => 0,
    })
}

/// The key material a node serves with: the CSRF key and the scheme's keys (`None` for a
/// scheme that keeps its state in a store).
pub(crate) struct NodeKeys {
    pub(crate) csrf: CsrfKey,
    pub(crate) scheme: Option<SchemeKeys>,
}

/// The keys of the node `config` describes: without a site, fresh ones; with one, the
/// site's, from its key directory (created by the first node) or, verify-only, the public
/// key alone (from the directory or the issuer's JWKS).
pub(crate) fn node_keys(config: &ServerConfig) -> Result<NodeKeys, HttpError> {
    let spec = &config.scheme;
    let Some(site) = &config.site else {
        return Ok(NodeKeys {
            csrf: CsrfKey::generate(),
            scheme: SchemeKeys::generate(spec)?,
        });
    };
    let dir = KeyDir::open(&site.key_dir)?;
    let csrf = CsrfKey::from_secret(&dir.secret("csrf")?);
    let scheme = if !site.verify_only {
        dir.issuer_keys(spec)?
    } else if let Some(url) = &site.jwks_url {
        Some(keys_from_jwks(spec, &fetch_jwks(url)?)?)
    } else {
        Some(dir.verifier_keys(spec)?)
    };
    Ok(NodeKeys { csrf, scheme })
}

/// What `GET /.well-known/jwks.json` serves for `keys`: a JWT's public key as a JWK set
/// (`{"keys": [JWK]}`), a `v4.public` PASETO's as `{"paseto": "v4.public", "paserk":
/// "k4.public.…", "kid": "k4.pid.…"}`; `None` for keys verified with a secret (HS256,
/// `v4.local`), which have nothing public.
pub fn jwks_document(keys: &SchemeKeys) -> Option<Value> {
    match keys {
        SchemeKeys::Jwt(k) => crate::inspect::public_jwk(k).map(|jwk| json!({ "keys": [jwk] })),
        SchemeKeys::Paseto(k) => k
            .public_paserk()
            .map(|paserk| json!({ "paseto": "v4.public", "paserk": paserk, "kid": k.key_id() })),
    }
}

/// Verify-only keys of `spec` from a document of [`jwks_document`]'s form: the first key
/// of a JWK set that verifies `spec`'s algorithm (and passes the key checks), or the
/// `paserk` of a PASETO document.
pub fn keys_from_jwks(spec: &SchemeSpec, doc: &Value) -> Result<SchemeKeys, HttpError> {
    let refused = |why: String| HttpError::Config(format!("the JWKS: {why}"));
    match spec {
        SchemeSpec::Jwt(alg) => {
            let keys = doc
                .get("keys")
                .and_then(Value::as_array)
                .ok_or_else(|| refused("not a JWK set (no \"keys\" array)".into()))?;
            let mut last = format!("no key for {alg}");
            for jwk in keys {
                match crate::scheme::jwt::JwtKeys::from_public_jwk(*alg, jwk) {
                    Ok(k) => return Ok(SchemeKeys::Jwt(std::sync::Arc::new(k))),
                    Err(e) => last = e.to_string(),
                }
            }
            Err(refused(last))
        }
        SchemeSpec::Paseto(_) => {
            let paserk = doc
                .get("paserk")
                .and_then(Value::as_str)
                .ok_or_else(|| refused("no \"paserk\" string".into()))?;
            Ok(SchemeKeys::from_public_text(spec, paserk)?)
        }
        SchemeSpec::Hybrid(..) => keys_from_jwks(&spec.keyed(), doc),
        SchemeSpec::Session(_) => Err(refused(format!("{spec} has no keys"))),
    }
}

/// `GET` the JWKS at `url` (HTTP/1.1, within 5 s, at most 64 KiB, 200 only), as
/// JSON. Runs on a thread of its own, so it may be called from inside a runtime.
pub fn fetch_jwks(url: &JwksUrl) -> Result<Value, HttpError> {
    let url = url.clone();
    let shown = format!("http://{}{}", url.authority, url.path);
    let failed =
        move |why: String| HttpError::Config(format!("fetching the JWKS at {shown}: {why}"));
    let fetched = std::thread::spawn(move || -> Result<Vec<u8>, String> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        rt.block_on(async {
            tokio::time::timeout(JWKS_TIMEOUT, get(&url))
                .await
                .map_err(|_| format!("no answer within {JWKS_TIMEOUT:?}"))?
        })
    })
    .join()
    .map_err(|_| failed("the fetching thread failed".into()))?
    .map_err(&failed)?;
    serde_json::from_slice(&fetched).map_err(|e| failed(format!("not JSON: {e}")))
}

async fn get(url: &JwksUrl) -> Result<Vec<u8>, String> {
    use http_body_util::{BodyExt, Empty, Limited};
    use hyper::body::Bytes;
    let tcp = tokio::net::TcpStream::connect(url.addr)
        .await
        .map_err(|e| format!("connecting: {e}"))?;
    let (mut send, conn) =
        hyper::client::conn::http1::handshake::<_, Empty<Bytes>>(hyper_util::rt::TokioIo::new(tcp))
            .await
            .map_err(|e| e.to_string())?;
    tokio::spawn(conn);
    let req = axum::http::Request::get(url.path.as_str())
        .header(axum::http::header::HOST, url.authority.as_str())
        .body(Empty::new())
        .map_err(|e| e.to_string())?;
    let resp = send.send_request(req).await.map_err(|e| e.to_string())?;
    if resp.status() != axum::http::StatusCode::OK {
        return Err(format!("answered {}", resp.status()));
    }
    let body = Limited::new(resp.into_body(), MAX_JWKS_BYTES)
        .collect()
        .await
        .map_err(|e| format!("reading the answer: {e}"))?;
    Ok(body.to_bytes().to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scheme::{JwtAlg, PasetoPurpose};

    #[test]
    fn jwks_urls_are_plain_http_to_loopback_only() {
        let u: JwksUrl = "http://127.0.0.2:8080/.well-known/jwks.json"
            .parse()
            .unwrap();
        assert_eq!(u.addr, "127.0.0.2:8080".parse().unwrap());
        assert_eq!(u.path, "/.well-known/jwks.json");
        assert_eq!(
            "http://localhost/x".parse::<JwksUrl>().unwrap().addr.port(),
            80
        );
        assert!("http://[::1]:9/j".parse::<JwksUrl>().is_ok());
        for bad in [
            "https://127.0.0.1:1/j",
            "http://10.0.0.1/j",
            "http://example.com/j",
            "127.0.0.1:80/j",
            "nonsense",
        ] {
            assert!(bad.parse::<JwksUrl>().is_err(), "{bad}");
        }
    }

    #[test]
    fn a_jwks_document_gives_back_the_public_key_alone() {
        for spec in [
            SchemeSpec::Jwt(JwtAlg::RS256),
            SchemeSpec::Jwt(JwtAlg::ES256),
            SchemeSpec::Jwt(JwtAlg::EdDSA),
            SchemeSpec::Paseto(PasetoPurpose::Public),
        ] {
            let keys = SchemeKeys::generate(&spec).unwrap().unwrap();
            let doc = jwks_document(&keys).unwrap();
            let text = doc.to_string();
            assert!(
                !text.contains("\"d\"") && !text.contains("secret"),
                "{text}"
            );
            let back = keys_from_jwks(&spec, &doc).unwrap();
            assert!(!back.can_issue(), "{spec}");
            assert_eq!(back.public_text(), keys.public_text(), "{spec}");
        }
        for spec in [
            SchemeSpec::Jwt(JwtAlg::HS256),
            SchemeSpec::Paseto(PasetoPurpose::Local),
        ] {
            let keys = SchemeKeys::generate(&spec).unwrap().unwrap();
            assert_eq!(jwks_document(&keys), None, "{spec}");
        }
        // A JWKS of another algorithm's key verifies nothing here.
        let es = SchemeKeys::generate(&SchemeSpec::Jwt(JwtAlg::ES256))
            .unwrap()
            .unwrap();
        let doc = jwks_document(&es).unwrap();
        assert!(keys_from_jwks(&SchemeSpec::Jwt(JwtAlg::EdDSA), &doc).is_err());
        assert!(keys_from_jwks(&SchemeSpec::Jwt(JwtAlg::ES256), &json!({})).is_err());
    }

    #[test]
    fn removing_a_site_checks_its_name_first() {
        assert!(remove(&StoreSpec::Memory, "Bad:Name").is_err());
        assert_eq!(remove(&StoreSpec::RwLock, "fine").unwrap(), 0);
    }
}
