//! A credential that names a record in a store (a session ID). Its CSRF token is the
//! synchronizer token kept in the record; the login form's token is bound to a pre-login
//! session, which login deletes (it must still exist: a form works once) before issuing
//! the new ID, so no ID a client brought outlives the login (fixation). A per-node cache
//! (`--session-cache`) answers validations from this node's memory for its lifetime;
//! the CSRF token is still read from the record (cookie transport).

use std::sync::Arc;
use std::time::Duration;

use super::{Calls, SiteCredential, pre_login_claims};
use crate::clock::Clock;
use crate::http::HttpError;
use crate::http::error::{ApiError, FORBIDDEN_LOGIN};
use crate::scheme::spec::{StoreSpec, StoreVisitor};
use crate::scheme::{CachedScheme, Rejection, SessionConfig, SessionScheme, TokenScheme};
use crate::store::site::SiteName;
use crate::store::{SessionStore, StoreError};

/// A session scheme over any store, as the site serves it, with a per-node cache in
/// front of it when asked.
pub(crate) struct StoredCredential<S: SessionStore> {
    scheme: Arc<SessionScheme<S>>,
    /// The per-node cache validations go through (`--session-cache`); revocations on this
    /// node evict from it, other nodes' entries live out their lifetime.
    cache: Option<CachedScheme<SessionScheme<S>>>,
}

/// Builds a [`StoredCredential`] around whichever store the spec names.
struct Builder {
    session: SessionConfig,
    clock: Arc<dyn Clock>,
    cache: Option<Duration>,
}

impl StoreVisitor for Builder {
    type Output = Box<dyn SiteCredential>;
    fn visit<S: SessionStore>(self, store: S) -> Self::Output {
        let scheme = Arc::new(SessionScheme::new(store, self.session, self.clock.clone()));
        let cache = self
            .cache
            .map(|ttl| CachedScheme::new(scheme.clone(), ttl, self.clock));
        Box::new(StoredCredential { scheme, cache })
    }
}

/// Sessions in `store` (a remote store connects now), as a [`StoredCredential`]: in a
/// namespace of its own (deleted when the server stops), or in `site`'s (kept: a node
/// never deletes the site's records), behind a per-node cache of lifetime `cache`.
pub(crate) fn build(
    store: &StoreSpec,
    session: SessionConfig,
    clock: Arc<dyn Clock>,
    site: Option<&SiteName>,
    cache: Option<Duration>,
) -> Result<Box<dyn SiteCredential>, HttpError> {
    let builder = Builder {
        session,
        clock,
        cache,
    };
    Ok(match site {
        None => store.build_with(builder)?,
        Some(site) => store.build_site_with(site, builder)?,
    })
}

impl<S: SessionStore> StoredCredential<S> {
    /// Deletes session `id`; true when it existed. This node's cache forgets it too.
    fn delete(&self, id: &str) -> Result<bool, StoreError> {
        if self.scheme.check_syntax(id).is_err() {
            return Ok(false);
        }
        let existed = self.scheme.store().delete(id)?;
        if let Some(cache) = &self.cache {
            // Evicts this node's entry (its second delete finds nothing, harmlessly).
            let _ = cache.revoke(id);
        }
        Ok(existed)
    }
}

impl<S: SessionStore> SiteCredential for StoredCredential<S> {
    fn scheme(&self) -> &dyn TokenScheme {
        match &self.cache {
            Some(cache) => cache,
            None => &*self.scheme,
        }
    }

    fn cookie_name(&self) -> &str {
        &self.scheme.config().cookie_name
    }

    fn set_cookie(&self, token: &str) -> String {
        self.scheme.set_cookie(token)
    }

    fn clear_cookie(&self) -> String {
        self.scheme.clear_cookie()
    }

    fn expires_in(&self) -> Duration {
        self.scheme.config().idle_timeout
    }

    fn csrf_token(&self, calls: &Calls<'_>, token: &str) -> Result<String, ApiError> {
        calls
            .other(|| self.scheme.csrf_token(token))
            .map_err(|r| ApiError::rejected(&r, false))
    }

    fn check_csrf(&self, calls: &Calls<'_>, token: &str, presented: &str) -> bool {
        calls.other(|| self.scheme.verify_csrf(token, presented))
    }

    fn login_page_cookie(&self) -> Option<&str> {
        Some(self.cookie_name())
    }

    /// A live session the client brings (pre-login, or already logged in) holds the form's
    /// CSRF token: no second session, and `POST /login` then deletes exactly the ID the
    /// browser holds. Otherwise a new pre-login session, with its cookie.
    fn login_form(
        &self,
        calls: &Calls<'_>,
        presented: Option<String>,
    ) -> Result<(String, Vec<String>), ApiError> {
        if let Some(id) = presented {
            match calls.validate(&id) {
                Ok(_) => {
                    let csrf = self.csrf_token(calls, &id)?;
                    return Ok((csrf, Vec::new()));
                }
                Err(Rejection::StoreUnavailable(_)) => return Err(ApiError::Unavailable),
                Err(_) => {}
            }
        }
        let id = calls.issue(&pre_login_claims()).map_err(ApiError::scheme)?;
        let csrf = self.csrf_token(calls, &id)?;
        Ok((csrf, vec![self.scheme.set_cookie(&id)]))
    }

    fn login_csrf_cookie(&self) -> &str {
        self.cookie_name()
    }

    fn check_login_csrf(
        &self,
        calls: &Calls<'_>,
        cookie: &str,
        form: &str,
    ) -> Result<(), ApiError> {
        match calls.validate(cookie) {
            Err(Rejection::StoreUnavailable(_)) => Err(ApiError::Unavailable),
            Err(Rejection::DuplicateCookie(_)) => Err(ApiError::BadRequest("duplicate cookie")),
            Err(_) => Err(FORBIDDEN_LOGIN),
            Ok(_) if self.check_csrf(calls, cookie, form) => Ok(()),
            Ok(_) => Err(FORBIDDEN_LOGIN),
        }
    }

    /// Deletes the presented session, which must still exist (single use).
    fn end_at_login(&self, calls: &Calls<'_>, presented: &str) -> Result<(), ApiError> {
        let existed = calls
            .other(|| self.delete(presented))
            .map_err(|_| ApiError::Unavailable)?;
        if existed {
            Ok(())
        } else {
            Err(FORBIDDEN_LOGIN)
        }
    }

    fn login_cookies(&self, token: &str) -> Vec<String> {
        vec![self.scheme.set_cookie(token)]
    }

    fn live_sessions(&self) -> Option<u64> {
        let store = self.scheme.store();
        if !store.is_local() {
            return None;
        }
        store.len().ok().map(|n| n as u64)
    }
}
