//! The server's shared state ([`App`]), built from a [`ServerConfig`], and the [`router`]:
//! every route plus the protective layers (header size, load shedding, deadlines, counting).
//!
//! # The blocking adapter
//!
//! [`TokenScheme`] is synchronous and a Redis store blocks on the network, so every scheme
//! call from a handler goes through one function, [`App::blocking`]. It runs the call on
//! tokio's blocking pool (`spawn_blocking`) when the scheme can block on I/O (a Redis store
//! or denylist) or the work is long (argon2id password checks, milliseconds); schemes that
//! only touch process memory (microseconds of CPU, no I/O) run inline on the worker, which
//! saves a thread hand-off per request. Handlers never call a scheme any other way.

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
use super::config::{Revocation, ServerConfig, Transport};
use super::csrf::CsrfKey;
use super::error::ApiError;
use super::metrics::{Metrics, SAMPLE_EVERY};
use super::routes;
use super::users::Users;
use crate::claims::Claims;
use crate::clock::{Clock, SystemClock};
use crate::denylist::{MemoryDenylist, RedisDenylist};
use crate::scheme::spec::StoreVisitor;
use crate::scheme::{
    JwtScheme, Principal, Rejection, RevocationStrategy, SchemeError, SessionConfig, SessionScheme,
    TokenScheme,
};
use crate::store::{SessionStore, StoreError};
use crate::workload::{SchemeSpec, WorkloadError};

/// Name of the cookie carrying a JWT (cookie transport).
pub const JWT_COOKIE: &str = "__Host-jwt";

/// Role marking a pre-login session (created by `GET /login` to hold the login CSRF
/// token); such a session authenticates nobody.
pub const PRE_LOGIN_ROLE: &str = "tokenbench:pre-login";

/// What the session routes need of a [`SessionScheme`], whatever its store.
pub(crate) trait SessionOps: TokenScheme {
    fn csrf_token(&self, id: &str) -> Result<String, Rejection>;
    fn verify_csrf(&self, id: &str, presented: &str) -> bool;
    fn set_cookie(&self, id: &str) -> String;
    fn clear_cookie(&self) -> String;
    fn config(&self) -> &SessionConfig;
    /// Deletes session `id`; true when it existed (single use of a pre-login session).
    fn delete(&self, id: &str) -> Result<bool, StoreError>;
}

impl<S: SessionStore> SessionOps for SessionScheme<S> {
    fn csrf_token(&self, id: &str) -> Result<String, Rejection> {
        SessionScheme::csrf_token(self, id)
    }
    fn verify_csrf(&self, id: &str, presented: &str) -> bool {
        SessionScheme::verify_csrf(self, id, presented)
    }
    fn set_cookie(&self, id: &str) -> String {
        SessionScheme::set_cookie(self, id)
    }
    fn clear_cookie(&self) -> String {
        SessionScheme::clear_cookie(self)
    }
    fn config(&self) -> &SessionConfig {
        SessionScheme::config(self)
    }
    fn delete(&self, id: &str) -> Result<bool, StoreError> {
        if self.check_syntax(id).is_err() {
            return Ok(false);
        }
        self.store().delete(id)
    }
}

/// The live scheme.
pub(crate) enum Scheme {
    Session(Box<dyn SessionOps>),
    Jwt(JwtScheme),
}

/// Builds the HTTP server's session scheme around whichever store the spec names.
struct SessionOpsBuilder {
    session: SessionConfig,
    clock: Arc<dyn Clock>,
}

impl StoreVisitor for SessionOpsBuilder {
    type Output = Box<dyn SessionOps>;
    fn visit<S: SessionStore>(self, store: S) -> Self::Output {
        Box::new(SessionScheme::new(store, self.session, self.clock))
    }
}

/// Everything the handlers share.
pub struct App {
    pub(crate) config: ServerConfig,
    pub(crate) scheme: Scheme,
    pub(crate) users: Users,
    pub(crate) csrf: CsrfKey,
    pub(crate) metrics: Arc<Metrics>,
    pub(crate) notes: AtomicU64,
    /// The in-memory denylist, purged of expired entries by the server.
    pub(crate) denylist: Option<Arc<MemoryDenylist>>,
    /// Scheme calls may run on the worker (no I/O, microseconds).
    inline: bool,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App")
            .field("scheme", &self.scheme_name())
            .field("transport", &self.config.transport)
            .finish_non_exhaustive()
    }
}

impl App {
    /// Builds the scheme (fresh keys, fresh store) and hashes the demo passwords.
    pub fn new(config: ServerConfig) -> Result<Arc<App>, HttpError> {
        crate::crypto::active();
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let session = config.session.clone();
        let mut denylist = None;
        let (scheme, inline) = match &config.scheme {
            SchemeSpec::Session(store) => (
                Scheme::Session(
                    store
                        .build_with(SessionOpsBuilder { session, clock })
                        .map_err(WorkloadError::from)?,
                ),
                !store.is_remote(),
            ),
            SchemeSpec::Jwt(alg) => {
                let (revocation, inline) = match (config.revocation, &config.denylist_redis) {
                    (Revocation::None, _) => (RevocationStrategy::None, true),
                    (Revocation::Denylist, None) => {
                        let d = Arc::new(MemoryDenylist::new());
                        denylist = Some(d.clone());
                        (RevocationStrategy::CentralDenylist(d), true)
                    }
                    (Revocation::Denylist, Some(url)) => {
                        let d = RedisDenylist::connect(url).map_err(WorkloadError::from)?;
                        (RevocationStrategy::CentralDenylist(Arc::new(d)), false)
                    }
                };
                let jwt = JwtScheme::new(*alg, config.jwt.clone(), revocation, clock)
                    .map_err(WorkloadError::from)?;
                (Scheme::Jwt(jwt), inline)
            }
            SchemeSpec::Paseto(_) => {
                return Err(HttpError::Config(
                    "PASETO is not served yet (it comes with the server's credential trait)".into(),
                ));
            }
        };
        let users = Users::generate(config.users, config.password)?;
        Ok(Arc::new(App {
            config,
            scheme,
            users,
            csrf: CsrfKey::generate(),
            metrics: Arc::new(Metrics::new()),
            notes: AtomicU64::new(0),
            denylist,
            inline,
        }))
    }

    /// The scheme's name (`session-memory`, `jwt-ES256`...).
    pub fn scheme_name(&self) -> String {
        match &self.scheme {
            Scheme::Session(s) => s.name(),
            Scheme::Jwt(j) => j.name(),
        }
    }

    /// The configuration served.
    pub fn config(&self) -> &ServerConfig {
        &self.config
    }

    /// The server's counters.
    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.metrics
    }

    /// Drops expired entries of the in-memory denylist, if there is one.
    pub fn purge_denylist(&self) {
        if let Some(d) = &self.denylist {
            d.purge_expired(SystemClock.now_secs());
        }
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

    /// `validate`, counted and sampled for CPU.
    pub(crate) fn validate(&self, token: &str) -> Result<Principal, Rejection> {
        let m = &self.metrics;
        m.validate
            .run(m.overhead_ns(), SAMPLE_EVERY, || match &self.scheme {
                Scheme::Session(s) => s.validate(token),
                Scheme::Jwt(j) => j.validate(token),
            })
    }

    /// Any other scheme call, counted and sampled for CPU.
    pub(crate) fn token_op<T>(&self, f: impl FnOnce(&Scheme) -> T) -> T {
        let m = &self.metrics;
        m.token_other
            .run(m.overhead_ns(), SAMPLE_EVERY, || f(&self.scheme))
    }

    /// `issue`, counted.
    pub(crate) fn issue(&self, claims: &Claims) -> Result<String, SchemeError> {
        self.token_op(|s| match s {
            Scheme::Session(s) => s.issue(claims),
            Scheme::Jwt(j) => j.issue(claims),
        })
    }

    /// Password check, timed on every call; the account index on success.
    pub(crate) fn check_password(&self, name: &str, password: &str) -> Option<usize> {
        let m = &self.metrics;
        m.password
            .run(m.overhead_ns(), 1, || self.users.verify(name, password))
    }
}

/// The router: every route of the contract, `/metrics`, and the layers. Drive it with
/// `tower::ServiceExt::oneshot` in tests, or serve it with [`super::serve`].
pub fn router(app: Arc<App>) -> Router {
    let limits = app.config.limits.clone();
    Router::new()
        .route("/health", get(routes::health))
        .route("/login", get(routes::login_page).post(routes::login))
        .route("/me", get(routes::me))
        .route("/api/notes", post(routes::create_note))
        .route("/logout", post(routes::logout))
        .route("/metrics", get(routes::metrics))
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
            routes::guard,
        ))
        .with_state(app)
}
