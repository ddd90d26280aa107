//! How the site handles the credential of whatever scheme it serves: one trait object,
//! [`SiteCredential`], that the routes drive without knowing the token family. [`build`]
//! picks the implementation once, from the scheme's capabilities:
//!
//! - [`stored::StoredCredential`] for a token that names a record in a store (a session):
//!   the synchronizer CSRF token lives in the record, login deletes the presented record.
//! - [`self_contained::SelfContainedCredential`] for any token that carries its claims
//!   (built from its `SchemeKeys`): signed double-submit CSRF bound to the token's
//!   `credential_id`, revocation by denylist (central, pushed or polled) when the server
//!   has one.
//!
//! Credentials call their scheme and store only through [`Calls`], so `/metrics` counts
//! the CPU of every such call as the token's.

mod self_contained;
mod stored;

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use cookie::{Cookie, SameSite};

use self_contained::SelfContainedCredential;

use super::HttpError;
use super::config::{Revocation, ServerConfig};
use super::csrf::CsrfKey;
use super::error::ApiError;
use super::metrics::{Metrics, SAMPLE_EVERY};
use crate::claims::Claims;
use crate::clock::Clock;
use crate::denylist::{MemoryDenylist, PolledDenylist, RedisDenylist, RedisPushedDenylist};
use crate::scheme::spec::{BuildOptions, SchemeKeys};
use crate::scheme::{
    Principal, Refreshed, Rejection, RevocationStrategy, SchemeError, TokenPair, TokenScheme,
};

/// Role marking a pre-login session (created by `GET /login` to hold the login CSRF
/// token); such a session authenticates nobody.
pub const PRE_LOGIN_ROLE: &str = "tokenbench:pre-login";

/// What the routes need of the credential of the scheme served, whatever its family.
/// Methods that take [`Calls`] may call the scheme or its store; the others do not.
pub(crate) trait SiteCredential: Send + Sync {
    /// The scheme that issues, validates and revokes the credential.
    fn scheme(&self) -> &dyn TokenScheme;

    /// Name of the cookie carrying the credential (cookie transport).
    fn cookie_name(&self) -> &str;

    /// The `Set-Cookie` value carrying `token`, hardened, `Max-Age` its lifetime.
    fn set_cookie(&self, token: &str) -> String;

    /// The `Set-Cookie` value that clears the credential cookie (logout).
    fn clear_cookie(&self) -> String;

    /// `expires_in` of a bearer login: how long a fresh credential lives if unused.
    fn expires_in(&self) -> Duration;

    /// The CSRF token bound to `token`, a credential just authenticated.
    fn csrf_token(&self, calls: &Calls<'_>, token: &str) -> Result<String, ApiError>;

    /// True when `presented` is the CSRF token bound to `token` (constant time).
    fn check_csrf(&self, calls: &Calls<'_>, token: &str, presented: &str) -> bool;

    /// The cookie whose live login binding `GET /login` reuses, if it reuses one.
    fn login_page_cookie(&self) -> Option<&str>;

    /// `GET /login` with cookies: the form's CSRF token and the cookies binding it;
    /// `presented` is the value of [`login_page_cookie`](Self::login_page_cookie).
    fn login_form(
        &self,
        calls: &Calls<'_>,
        presented: Option<String>,
    ) -> Result<(String, Vec<String>), ApiError>;

    /// The cookie `POST /login` expects the form's CSRF token to be bound to.
    fn login_csrf_cookie(&self) -> &str;

    /// `POST /login` with cookies: the form's `csrf` against the login cookie, before the
    /// password is checked (403 when it does not match).
    fn check_login_csrf(&self, calls: &Calls<'_>, cookie: &str, form: &str)
    -> Result<(), ApiError>;

    /// Ends the credential a client presents at login, before a new one exists (fixation).
    fn end_at_login(&self, calls: &Calls<'_>, presented: &str) -> Result<(), ApiError>;

    /// The `Set-Cookie` values of a successful login that issued `token`.
    fn login_cookies(&self, token: &str) -> Vec<String>;

    /// Sessions the store holds, when it can count them cheaply (a store in this
    /// process); `None` otherwise, and for tokens the server does not keep.
    fn live_sessions(&self) -> Option<u64> {
        None
    }
}

/// The server's calls into its token scheme, each counted in [`Metrics`] (`validate`
/// apart, every other call as the token's other CPU) and one in [`SAMPLE_EVERY`] timed.
pub(crate) struct Calls<'a> {
    scheme: &'a dyn TokenScheme,
    metrics: &'a Metrics,
}

impl<'a> Calls<'a> {
    /// Calls into `scheme`, counted in `metrics`.
    pub(crate) fn new(scheme: &'a dyn TokenScheme, metrics: &'a Metrics) -> Self {
        Calls { scheme, metrics }
    }

    /// `validate`.
    pub(crate) fn validate(&self, token: &str) -> Result<Principal, Rejection> {
        let m = self.metrics;
        m.validate.run(m.overhead_ns(), SAMPLE_EVERY, || {
            self.scheme.validate(token)
        })
    }

    /// Any other call into the scheme or its store.
    pub(crate) fn other<T>(&self, f: impl FnOnce() -> T) -> T {
        let m = self.metrics;
        m.token_other.run(m.overhead_ns(), SAMPLE_EVERY, f)
    }

    /// `issue`.
    pub(crate) fn issue(&self, claims: &Claims) -> Result<String, SchemeError> {
        self.other(|| self.scheme.issue(claims))
    }

    /// A login of a scheme with refresh tokens: the pair; `None` for any other scheme.
    pub(crate) fn login_pair(&self, claims: &Claims) -> Option<Result<TokenPair, SchemeError>> {
        let flow = self.scheme.refreshing()?;
        Some(self.other(|| flow.login(claims)))
    }

    /// A refresh; `None` for a scheme without refresh tokens.
    pub(crate) fn refresh(&self, refresh_token: &str) -> Option<Result<Refreshed, Rejection>> {
        let flow = self.scheme.refreshing()?;
        Some(self.other(|| flow.refresh(refresh_token)))
    }

    /// A logout of a scheme with refresh tokens by its access token (the family it names
    /// dies); `None` for any other scheme.
    pub(crate) fn logout_access(&self, access: &str) -> Option<Result<(), SchemeError>> {
        let flow = self.scheme.refreshing()?;
        Some(self.other(|| flow.logout_access(access)))
    }

    /// `revoke`.
    pub(crate) fn revoke(&self, token: &str) -> Result<(), SchemeError> {
        self.other(|| self.scheme.revoke(token))
    }

    /// `credential_id`: the identity `token` names, unverified.
    pub(crate) fn credential_id<'t>(&self, token: &'t str) -> Option<Cow<'t, str>> {
        self.other(|| self.scheme.credential_id(token))
    }
}

/// The live credential handling, and what the server keeps beside it.
pub(crate) struct Built {
    /// The credential the routes drive.
    pub(crate) credential: Box<dyn SiteCredential>,
    /// Drops expired entries of a denylist kept in this process (called every 30 s).
    pub(crate) purge: Option<Purge>,
    /// No call can block on I/O: the routes may call the scheme on the worker.
    pub(crate) inline: bool,
    /// Revoking does I/O even where validating does not (a denylist copied per node from
    /// Redis): logout and login run their scheme calls on the blocking pool.
    pub(crate) revoke_io: bool,
}

/// Drops the expired entries of a denylist kept in this process, at the given Unix second.
pub(crate) type Purge = Box<dyn Fn(u64) + Send + Sync>;

/// Builds the scheme of `config` and its credential handling, chosen here and only here
/// by capability: a token looked up in a store is a [`stored::StoredCredential`] (on the
/// site's namespace when the node belongs to a site, behind a per-node cache when asked);
/// one that carries its claims is a [`SelfContainedCredential`] on `keys`, with the
/// denylist [`Revocation`] names when
/// [`Revocation::needs_denylist`].
pub(crate) fn build(
    config: &ServerConfig,
    csrf: Arc<CsrfKey>,
    keys: Option<&SchemeKeys>,
    clock: Arc<dyn Clock>,
) -> Result<Built, HttpError> {
    let spec = &config.scheme;
    let caps = spec.capabilities();
    let site = config.site.as_ref().map(|s| &s.name);
    if caps.store_lookup {
        let store = spec.store().ok_or_else(|| {
            HttpError::Config(format!("{spec} looks its tokens up but names no store"))
        })?;
        return Ok(Built {
            credential: stored::build(
                store,
                config.session.clone(),
                clock,
                site,
                config.session_cache,
            )?,
            purge: None,
            inline: !store.is_remote(),
            revoke_io: false,
        });
    }
    if !caps.carries_claims {
        return Err(HttpError::Config(format!(
            "{spec} neither carries its claims nor names a store: nothing to serve"
        )));
    }
    let keys = keys.ok_or_else(|| HttpError::Config(format!("{spec}: no keys to serve with")))?;
    let central = |url: &str| -> Result<RedisDenylist, HttpError> {
        Ok(match site {
            Some(name) => RedisDenylist::connect_with_prefix(url, &name.denylist_prefix())?
                .with_cleanup_on_drop(false),
            None => RedisDenylist::connect(url)?,
        })
    };
    let needs_redis = |r: Revocation| {
        HttpError::Config(format!(
            "--revocation {} keeps a denylist copy per node fed from Redis: give a \
             --store redis://...",
            r.name()
        ))
    };
    let (revocation, purge, inline, revoke_io): (RevocationStrategy, Option<Purge>, bool, bool) =
        if !config.revocation.needs_denylist(caps) {
            (RevocationStrategy::None, None, true, false)
        } else {
            match (config.revocation, config.denylist_redis.as_deref()) {
                (Revocation::Denylist, Some(url)) => (
                    RevocationStrategy::CentralDenylist(Arc::new(central(url)?)),
                    None,
                    false,
                    false,
                ),
                (Revocation::Denylist, None) => {
                    let d = Arc::new(MemoryDenylist::new());
                    let purged = d.clone();
                    (
                        RevocationStrategy::CentralDenylist(d),
                        Some(Box::new(move |now| {
                            purged.purge_expired(now);
                        })),
                        true,
                        false,
                    )
                }
                (Revocation::Pushed, Some(url)) => {
                    let d = Arc::new(RedisPushedDenylist::subscribe(central(url)?)?);
                    let purged = d.clone();
                    (
                        RevocationStrategy::CentralDenylist(d),
                        Some(Box::new(move |now| {
                            purged.purge_expired(now);
                        })),
                        true,
                        true,
                    )
                }
                (Revocation::Polled, Some(url)) => {
                    let d = PolledDenylist::new(Arc::new(central(url)?), config.poll_interval)
                        .map_err(|e| HttpError::io("starting the denylist poller", e))?;
                    (
                        RevocationStrategy::CentralDenylist(Arc::new(d)),
                        None,
                        true,
                        true,
                    )
                }
                (r @ (Revocation::Pushed | Revocation::Polled), None) => {
                    return Err(needs_redis(r));
                }
                (Revocation::None, _) => (RevocationStrategy::None, None, true, false),
            }
        };
    let denylisted = !matches!(revocation, RevocationStrategy::None);
    if let (Some(refresh_store), SchemeKeys::Jwt(jwt_keys)) = (spec.refresh_store(), keys) {
        // The hybrid: access JWTs on the keys, refresh families in a store of this node.
        let options = BuildOptions {
            session: config.session.clone(),
            jwt: config.jwt.clone(),
            revocation,
            hybrid: config.hybrid,
        };
        let scheme = spec
            .build_hybrid_with_keys(jwt_keys, options, clock, site)?
            .ok_or_else(|| HttpError::Config(format!("{spec} is no hybrid")))?;
        return Ok(Built {
            credential: Box::new(
                SelfContainedCredential::new(
                    scheme,
                    format!("__Host-{}", spec.family().name()),
                    config.hybrid.access_lifetime,
                    csrf,
                    denylisted,
                )
                .with_cookie_lifetime(config.hybrid.refresh_lifetime),
            ),
            purge,
            // Validate reads no store: inline as a JWT's; login (a family started) and
            // logout reach a networked refresh store on the blocking pool.
            inline,
            revoke_io: revoke_io || refresh_store.is_remote(),
        });
    }
    let scheme = keys.build(config.jwt.clone(), revocation, clock);
    Ok(Built {
        credential: Box::new(SelfContainedCredential::new(
            scheme,
            format!("__Host-{}", spec.family().name()),
            config.jwt.lifetime,
            csrf,
            denylisted,
        )),
        purge,
        inline,
        revoke_io,
    })
}

/// The claims of a pre-login session.
fn pre_login_claims() -> Claims {
    Claims {
        user_id: "anonymous".into(),
        roles: vec![PRE_LOGIN_ROLE.into()],
        profile: BTreeMap::new(),
    }
}

/// True for the claims of a pre-login session, which authenticate nobody.
pub(crate) fn is_pre_login(claims: &Claims) -> bool {
    claims.roles.iter().any(|r| r == PRE_LOGIN_ROLE)
}

/// A hardened `Set-Cookie` value that makes the browser drop cookie `name`.
fn clearing_cookie(name: &str) -> String {
    let mut c = Cookie::build((name, ""))
        .http_only(true)
        .secure(true)
        .same_site(SameSite::Lax)
        .path("/")
        .build();
    c.make_removal();
    c.to_string()
}
