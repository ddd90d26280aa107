//! Single requests to the nodes of a site, one connection per node, outside any load:
//! log in, `GET /me`, log out: what the end-to-end revocation trials and the fault
//! checks ask each node.

use std::sync::Arc;
use std::time::Duration;

use http_body_util::Full;
use hyper::body::Bytes;
use hyper::header::{self, HeaderValue};
use hyper::{Method, Request, StatusCode};

use crate::load::client::{ByteCount, Sender, connect};
use crate::load::{LoadConfig, Protocol, Target};
use crate::net::Transport;

/// How long one probe request may take before it counts as unanswered.
const TIMEOUT: Duration = Duration::from_secs(3);

/// What a probe request got: a status, or no answer (connection refused, reset, timeout).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reply {
    /// The node answered.
    Status(StatusCode),
    /// The node could not be reached or did not answer in time.
    Unreachable,
}

/// One HTTP/1.1 connection per node of a site, bearer transport.
#[derive(Debug)]
pub struct Nodes {
    cfgs: Vec<LoadConfig>,
    senders: Vec<Option<Sender>>,
    bytes: Arc<ByteCount>,
}

impl Nodes {
    /// Probes for the nodes at `urls` (loopback `http://` URLs).
    pub fn new(urls: &[String]) -> Result<Nodes, String> {
        let cfgs = urls
            .iter()
            .map(|u| {
                Target::parse(u)
                    .map(|t| LoadConfig::new(t, Protocol::Http1, Transport::Bearer))
                    .map_err(|e| e.to_string())
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Nodes {
            senders: cfgs.iter().map(|_| None).collect(),
            cfgs,
            bytes: Arc::new(ByteCount::default()),
        })
    }

    /// Nodes probed.
    pub fn len(&self) -> usize {
        self.cfgs.len()
    }

    /// True with no node.
    pub fn is_empty(&self) -> bool {
        self.cfgs.is_empty()
    }

    /// `POST /login` as demo account `user` on node `k`: the bearer token.
    pub async fn login(&mut self, k: usize, user: usize) -> Result<String, String> {
        let form = format!("username=user-{user}&password=password-{user}");
        let (status, body) = self
            .send(k, Method::POST, "/login", Some(form), None)
            .await
            .ok_or("login: no answer")?;
        if status != StatusCode::OK {
            return Err(format!("login answered {}", status.as_u16()));
        }
        let v: serde_json::Value =
            serde_json::from_slice(&body).map_err(|_| "login answer is not JSON".to_owned())?;
        v["access_token"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| "no access_token in the login answer".to_owned())
    }

    /// `GET /me` with `token` on node `k`.
    pub async fn me(&mut self, k: usize, token: &str) -> Reply {
        match self.send(k, Method::GET, "/me", None, Some(token)).await {
            Some((s, _)) => Reply::Status(s),
            None => Reply::Unreachable,
        }
    }

    /// `POST /logout` with `token` on node `k`.
    pub async fn logout(&mut self, k: usize, token: &str) -> Reply {
        match self
            .send(k, Method::POST, "/logout", None, Some(token))
            .await
        {
            Some((s, _)) => Reply::Status(s),
            None => Reply::Unreachable,
        }
    }

    async fn send(
        &mut self,
        k: usize,
        method: Method,
        path: &str,
        form: Option<String>,
        token: Option<&str>,
    ) -> Option<(StatusCode, Bytes)> {
        let cfg = self.cfgs.get(k)?;
        if self.senders[k].as_ref().is_none_or(Sender::is_closed) {
            let s = tokio::time::timeout(TIMEOUT, connect(cfg, self.bytes.clone()))
                .await
                .ok()?
                .ok()?;
            self.senders[k] = Some(s);
        }
        let mut b = Request::builder()
            .method(method)
            .uri(path)
            .header(header::HOST, cfg.target.authority.as_str());
        if form.is_some() {
            b = b.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        }
        if let Some(t) = token {
            let v = HeaderValue::from_str(&format!("Bearer {t}")).ok()?;
            b = b.header(header::AUTHORIZATION, v);
        }
        let req = b
            .body(Full::new(Bytes::from(form.unwrap_or_default())))
            .ok()?;
        let sender = self.senders[k].as_mut()?;
        match tokio::time::timeout(TIMEOUT, sender.send(req)).await {
            Ok(Ok(a)) => Some((a.status, a.body)),
            _ => {
                self.senders[k] = None;
                None
            }
        }
    }
}
