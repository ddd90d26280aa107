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
use super::credential::{self, Calls, SiteCredential};
use super::csrf::CsrfKey;
use super::error::ApiError;
use super::metrics::Metrics;
use super::routes;
use super::users::Users;
use crate::clock::{Clock, SystemClock};
use crate::denylist::MemoryDenylist;
use crate::scheme::{Principal, Rejection};

/// Everything the handlers share.
pub struct App {
    pub(crate) config: ServerConfig,
    /// The scheme served and its credential handling, whatever the family.
    pub(crate) credential: Box<dyn SiteCredential>,
    /// What logout does to a credential, decided once from the scheme's capabilities.
    pub(crate) logout: LogoutOutcome,
    pub(crate) users: Users,
    /// The server's CSRF key (the bearer login form's token; self-contained credentials).
    pub(crate) csrf: Arc<CsrfKey>,
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
        let csrf = Arc::new(CsrfKey::generate());
        let built = credential::build(&config, csrf.clone(), Arc::new(SystemClock))?;
        let logout = LogoutOutcome::of(config.scheme.capabilities(), config.revocation);
        let users = Users::generate(config.users, config.password)?;
        Ok(Arc::new(App {
            config,
            credential: built.credential,
            logout,
            users,
            csrf,
            metrics: Arc::new(Metrics::new()),
            notes: AtomicU64::new(0),
            denylist: built.denylist,
            inline: built.inline,
        }))
    }

    /// The scheme's name (`session-memory`, `jwt-ES256`...).
    pub fn scheme_name(&self) -> String {
        self.credential.scheme().name()
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
