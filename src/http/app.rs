//! The server's shared state ([`App`]), built from a [`ServerConfig`], and the [`router`]:
//! every route plus the protective layers (header size, load shedding, deadlines, counting).
//!
//! [`TokenScheme`](crate::scheme::TokenScheme) is synchronous and a Redis store blocks on
//! the network, so handlers call the scheme only through one function, `App::blocking`:
//! on tokio's blocking pool when a call can block on I/O or is long (argon2id), inline on
//! the worker when the scheme only touches process memory (saving a thread hand-off).

use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use axum::Router;
use axum::error_handling::HandleErrorLayer;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use tower::ServiceBuilder;
use tower::limit::GlobalConcurrencyLimitLayer;
use tower::load_shed::LoadShedLayer;
use tower::timeout::TimeoutLayer;

use super::HttpError;
use super::config::{LogoutOutcome, ServerConfig, Transport};
use super::credential::{self, Calls, Purge, SiteCredential};
use super::csrf::CsrfKey;
use super::error::ApiError;
use super::metrics::Metrics;
use super::recorder::{self, HeaderRecorder};
use super::request_log::{LoggedRequest, RequestLog};
use super::users::{self, Users};
use super::{cors, routes, site};
use crate::claims::{ClaimSet, Claims};
use crate::clock::{Clock, SystemClock};
use crate::net::metrics::MetricsSnapshot;
use crate::scheme::{Principal, Rejection};

/// Everything the handlers share.
pub struct App {
    pub(crate) config: ServerConfig,
    /// The scheme served and its credential handling, whatever the family.
    pub(crate) credential: Box<dyn SiteCredential>,
    /// What logout does to a credential, decided once from the scheme's capabilities.
    pub(crate) logout: LogoutOutcome,
    pub(crate) users: Users,
    /// The server's CSRF key (the bearer login form's token; self-contained credentials):
    /// random, or the site's.
    pub(crate) csrf: Arc<CsrfKey>,
    pub(crate) metrics: Arc<Metrics>,
    pub(crate) notes: AtomicU64,
    /// Drops expired entries of a denylist kept in this process (every 30 s).
    purge: Option<Purge>,
    /// The body of `GET /.well-known/jwks.json`; `None` (404) without a public key.
    pub(crate) jwks: Option<serde_json::Value>,
    /// What `GET /floor` answers with, fixed at start-up.
    pub(crate) floor: Floor,
    /// A verify-only node: it logs nobody in.
    pub(crate) verify_only: bool,
    /// Which credential each request carried (`--request-log`).
    pub(crate) request_log: Option<RequestLog>,
    /// Scheme calls may run on the worker (no I/O, microseconds).
    inline: bool,
    /// Revoking does I/O even where validating does not (see `credential::Built`).
    revoke_io: bool,
    /// The header bytes of every request (`--record-header-bytes`), else `None`.
    pub(crate) recorder: Option<Arc<HeaderRecorder>>,
}

/// The fixed answer of `GET /floor`: the shape and size of `GET /me`'s, from claims made
/// once, so the route measures the stack without the token.
#[derive(Debug, Clone)]
pub(crate) struct Floor {
    pub(crate) claims: Arc<Claims>,
    pub(crate) expires_at_secs: u64,
    /// A CSRF value as long as a real one (43 base64url characters), cookie transport only.
    pub(crate) csrf: Option<Arc<str>>,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App")
            .field("scheme", &self.scheme_name())
            .field("transport", &self.config.transport)
            .field("verify_only", &self.verify_only)
            .finish_non_exhaustive()
    }
}

impl App {
    /// Builds the scheme and hashes the demo passwords. Without a site: fresh keys and a
    /// store namespace of its own. With one (`config.site`): the site's keys from its key
    /// directory (created there by the first node; a verify-only node loads the public key
    /// alone) and the site's store namespace.
    pub fn new(config: ServerConfig) -> Result<Arc<App>, HttpError> {
        crate::crypto::active();
        let verify_only = config.site.as_ref().is_some_and(|s| s.verify_only);
        if verify_only && !config.scheme.capabilities().public_key_verifiable {
            return Err(HttpError::Config(format!(
                "--verify-only: {} is verified with a secret key (or a store lookup), so a \
                 verifier would hold the secret that issues tokens; only a public-key scheme \
                 (RS256, ES256, EdDSA, paseto-v4-public) has verify-only nodes",
                config.scheme
            )));
        }
        let keys = site::node_keys(&config)?;
        let jwks = keys.scheme.as_ref().and_then(site::jwks_document);
        let csrf = Arc::new(keys.csrf);
        let built = credential::build(
            &config,
            csrf.clone(),
            keys.scheme.as_ref(),
            Arc::new(SystemClock),
        )?;
        let logout = LogoutOutcome::of(config.scheme.capabilities(), config.revocation);
        let users = Users::generate(config.users, config.password)?;
        let floor = Floor {
            claims: Arc::new(ClaimSet::Typical.claims(&users::username(0))),
            expires_at_secs: SystemClock
                .now_secs()
                .saturating_add(config.jwt.lifetime.as_secs()),
            csrf: (config.transport == Transport::Cookie)
                .then(|| Arc::from(crate::scheme::session::random_b64(32))),
        };
        let request_log = config.request_log.then(RequestLog::default);
        let recorder = config
            .record_header_bytes
            .then(|| Arc::new(HeaderRecorder::new()));
        Ok(Arc::new(App {
            config,
            credential: built.credential,
            logout,
            users,
            csrf,
            metrics: Arc::new(Metrics::new()),
            notes: AtomicU64::new(0),
            purge: built.purge,
            jwks,
            floor,
            verify_only,
            request_log,
            inline: built.inline,
            revoke_io: built.revoke_io,
            recorder,
        }))
    }

    /// The scheme's name (`session-memory`, `jwt-ES256`...).
    pub fn scheme_name(&self) -> String {
        self.credential.scheme().name()
    }

    /// Issues a credential for `claims` as `POST /login` does after the password check
    /// (counted in the metrics): for a workload that needs a live credential of a chosen
    /// claim set in a client it drives (a cookie put in a browser's jar).
    pub fn issue(&self, claims: &Claims) -> Result<String, crate::scheme::SchemeError> {
        self.calls().issue(claims)
    }

    /// The name of the credential cookie (cookie transport).
    pub fn cookie_name(&self) -> &str {
        self.credential.cookie_name()
    }

    /// The configuration served.
    pub fn config(&self) -> &ServerConfig {
        &self.config
    }

    /// The server's counters.
    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.metrics
    }

    /// What `POST /logout` does to a credential.
    pub fn logout(&self) -> LogoutOutcome {
        self.logout
    }

    /// The requests logged after sequence number `after` (`--request-log`; `None` without).
    pub fn requests_since(&self, after: u64) -> Option<Vec<LoggedRequest>> {
        self.request_log.as_ref().map(|l| l.since(after))
    }

    /// The sequence number of the last request logged (0 without `--request-log`).
    pub fn last_request_seq(&self) -> u64 {
        self.request_log.as_ref().map_or(0, RequestLog::last_seq)
    }

    /// Drops expired entries of a denylist kept in this process, if there is one.
    pub fn purge_denylist(&self) {
        if let Some(purge) = &self.purge {
            purge(SystemClock.now_secs());
        }
    }

    /// The header-bytes recorder, when `--record-header-bytes` is on.
    pub fn header_recorder(&self) -> Option<&Arc<HeaderRecorder>> {
        self.recorder.as_ref()
    }

    /// Whether this node only verifies (holds a public key alone, logs nobody in).
    pub fn verify_only(&self) -> bool {
        self.verify_only
    }

    /// The figures of `GET /metrics`: the counters, and the sessions the store holds when
    /// it can count them cheaply.
    pub fn metrics_snapshot(&self) -> MetricsSnapshot {
        let mut s = self.metrics.snapshot();
        s.live_sessions = self.credential.live_sessions();
        s
    }

    /// Whether revoking needs the blocking pool (see `credential::Built::revoke_io`).
    pub(crate) fn revoke_io(&self) -> bool {
        self.revoke_io
    }

    /// Whether the transport is bearer.
    pub(crate) fn bearer(&self) -> bool {
        self.config.transport == Transport::Bearer
    }

    /// **The** blocking adapter: runs `f` (which calls the scheme or verifies a password)
    /// inline when it cannot block, on the blocking pool otherwise (see the module docs).
    /// `heavy` marks work that is long whatever the scheme (argon2id).
    pub(crate) async fn blocking<T, F>(self: &Arc<Self>, heavy: bool, f: F) -> Result<T, ApiError>
    where
        F: FnOnce(&App) -> T + Send + 'static,
        T: Send + 'static,
    {
        if self.inline && !heavy {
            return Ok(f(self));
        }
        let app = Arc::clone(self);
        tokio::task::spawn_blocking(move || f(&app))
            .await
            .map_err(|_| ApiError::Internal("a worker thread failed"))
    }

    /// The counted calls into the scheme.
    pub(crate) fn calls(&self) -> Calls<'_> {
        Calls::new(self.credential.scheme(), &self.metrics)
    }

    /// `validate`, counted and sampled for CPU.
    pub(crate) fn validate(&self, token: &str) -> Result<Principal, Rejection> {
        self.calls().validate(token)
    }

    /// Password check, timed on every call; the account index on success.
    pub(crate) fn check_password(&self, name: &str, password: &str) -> Option<usize> {
        let m = &self.metrics;
        m.password
            .run(m.overhead_ns(), 1, || self.users.verify(name, password))
    }
}

/// The router: every route of the contract, `/metrics`, and the layers. Drive it with
/// `tower::ServiceExt::oneshot` in tests, or serve it with [`super::serve::start`].
pub fn router(app: Arc<App>) -> Router {
    let limits = app.config.limits.clone();
    Router::new()
        .route("/health", get(routes::health))
        .route("/login", get(routes::login_page).post(routes::login))
        .route("/me", get(routes::me))
        .route("/floor", get(routes::floor))
        .route("/.well-known/jwks.json", get(routes::jwks))
        .route("/api/notes", post(routes::create_note))
        .route("/logout", post(routes::logout))
        .route("/token/refresh", post(routes::refresh))
        .route("/metrics", get(routes::metrics))
        .route("/requests", get(routes::requests))
        .route(recorder::ROUTE, get(routes::recorded_header_bytes))
        .fallback(routes::not_found)
        .layer(DefaultBodyLimit::max(limits.max_body_bytes))
        .layer(
            ServiceBuilder::new()
                .layer(HandleErrorLayer::new(routes::overloaded))
                .layer(LoadShedLayer::new())
                .layer(GlobalConcurrencyLimitLayer::new(limits.max_inflight))
                .layer(TimeoutLayer::new(limits.request_timeout)),
        )
        .layer(axum::middleware::from_fn_with_state(
            app.clone(),
            cors::layer,
        ))
        .layer(axum::middleware::from_fn_with_state(
            app.clone(),
            routes::guard,
        ))
        .with_state(app)
}
