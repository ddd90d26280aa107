//! A credential that carries its claims (a JWT, or any token built by `SchemeSpec::build`
//! that gives a `credential_id`). There is no record to hold a CSRF token, so CSRF is
//! signed double-submit ([`CsrfKey`]): the login form's token is a signed cookie pair, and
//! after login the token is a MAC of the credential's identity, bound to it and dead with
//! it. Logout and login revoke through the scheme's denylist when the server has one.

use std::sync::Arc;
use std::time::Duration;

use cookie::SameSite;

use super::{Calls, SiteCredential, clearing_cookie};
use crate::http::csrf::{CsrfKey, LOGIN_CSRF_COOKIE};
use crate::http::error::{ApiError, FORBIDDEN_LOGIN};
use crate::scheme::TokenScheme;
use crate::scheme::session::set_cookie;

/// How long the login CSRF cookie lives.
const LOGIN_CSRF_MAX_AGE: Duration = Duration::from_secs(3600);

/// Any self-contained scheme, as the site serves it.
pub(crate) struct SelfContainedCredential {
    scheme: Arc<dyn TokenScheme>,
    cookie_name: String,
    lifetime: Duration,
    cookie_lifetime: Duration,
    key: Arc<CsrfKey>,
    denylisted: bool,
}

impl SelfContainedCredential {
    /// `scheme`'s tokens in cookie `cookie_name`, living `lifetime`, their CSRF tokens
    /// signed with `key`; `denylisted` when the scheme revokes through a denylist.
    pub(crate) fn new(
        scheme: Arc<dyn TokenScheme>,
        cookie_name: String,
        lifetime: Duration,
        key: Arc<CsrfKey>,
        denylisted: bool,
    ) -> Self {
        SelfContainedCredential {
            scheme,
            cookie_name,
            lifetime,
            cookie_lifetime: lifetime,
            key,
            denylisted,
        }
    }

    /// The same credential, its cookie kept `max_age` (a hybrid's access cookie lives as
    /// long as its refresh family, so that `POST /token/refresh` finds the access token its
    /// CSRF token is bound to; the JWT inside expires on its own `exp`).
    pub(crate) fn with_cookie_lifetime(mut self, max_age: Duration) -> Self {
        self.cookie_lifetime = max_age;
        self
    }
}

impl SiteCredential for SelfContainedCredential {
    fn scheme(&self) -> &dyn TokenScheme {
        &*self.scheme
    }

    fn cookie_name(&self) -> &str {
        &self.cookie_name
    }

    fn set_cookie(&self, token: &str) -> String {
        set_cookie(
            &self.cookie_name,
            token,
            SameSite::Lax,
            self.cookie_lifetime,
        )
    }

    fn clear_cookie(&self) -> String {
        clearing_cookie(&self.cookie_name)
    }

    fn expires_in(&self) -> Duration {
        self.lifetime
    }

    /// A token without an identity has no CSRF token: 401, fail closed.
    fn csrf_token(&self, calls: &Calls<'_>, token: &str) -> Result<String, ApiError> {
        let id = calls.credential_id(token).ok_or(ApiError::Unauthorized {
            bearer: false,
            reason: "invalid token",
        })?;
        Ok(self.key.for_credential(&id))
    }

    fn check_csrf(&self, calls: &Calls<'_>, token: &str, presented: &str) -> bool {
        calls
            .credential_id(token)
            .is_some_and(|id| self.key.verify_credential(&id, presented))
    }

    fn login_page_cookie(&self) -> Option<&str> {
        None
    }

    /// A fresh signed pair: the form's value, and the same in a `__Host-csrf` cookie.
    fn login_form(
        &self,
        _calls: &Calls<'_>,
        _presented: Option<String>,
    ) -> Result<(String, Vec<String>), ApiError> {
        let t = self.key.login_token();
        let c = set_cookie(LOGIN_CSRF_COOKIE, &t, SameSite::Lax, LOGIN_CSRF_MAX_AGE);
        Ok((t, vec![c]))
    }

    fn login_csrf_cookie(&self) -> &str {
        LOGIN_CSRF_COOKIE
    }

    fn check_login_csrf(
        &self,
        _calls: &Calls<'_>,
        cookie: &str,
        form: &str,
    ) -> Result<(), ApiError> {
        if self.key.verify_login(cookie, form) {
            Ok(())
        } else {
            Err(FORBIDDEN_LOGIN)
        }
    }

    /// Best effort: a presented token is denylisted when the server has a denylist (an
    /// invalid one needs no revoking); without one it lives until its expiry, and the
    /// cookie is replaced all the same.
    fn end_at_login(&self, calls: &Calls<'_>, presented: &str) -> Result<(), ApiError> {
        if self.denylisted {
            let _ = calls.revoke(presented);
        }
        Ok(())
    }

    /// The credential cookie, and the login CSRF cookie cleared.
    fn login_cookies(&self, token: &str) -> Vec<String> {
        vec![self.set_cookie(token), clearing_cookie(LOGIN_CSRF_COOKIE)]
    }
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;
    use std::collections::HashSet;
    use std::sync::Mutex;

    use super::*;
    use crate::claims::{ClaimSet, Claims};
    use crate::http::metrics::Metrics;
    use crate::scheme::{Principal, Rejection, SchemeError};

    /// A self-contained format that is no JWT: `toy.<id>.<user>`, revoked by a set of ids.
    #[derive(Default)]
    struct Toy {
        revoked: Mutex<HashSet<String>>,
    }

    impl TokenScheme for Toy {
        fn name(&self) -> String {
            "toy".into()
        }
        fn issue(&self, claims: &Claims) -> Result<String, SchemeError> {
            Ok(format!("toy.{}.{}", claims.user_id.len(), claims.user_id))
        }
        fn validate(&self, token: &str) -> Result<Principal, Rejection> {
            let id = self.credential_id(token).ok_or(Rejection::Empty)?;
            if self.revoked.lock().unwrap().contains(id.as_ref()) {
                return Err(Rejection::Revoked);
            }
            let user = token.rsplit('.').next().unwrap_or_default();
            Ok(Principal {
                claims: Arc::new(ClaimSet::Minimal.claims(user)),
                expires_at_secs: 0,
            })
        }
        fn revoke(&self, token: &str) -> Result<(), SchemeError> {
            let id = self
                .credential_id(token)
                .ok_or(SchemeError::RevocationUnsupported)?;
            self.revoked.lock().unwrap().insert(id.into_owned());
            Ok(())
        }
        fn credential_id<'t>(&self, token: &'t str) -> Option<Cow<'t, str>> {
            let mut parts = token.split('.');
            (parts.next() == Some("toy")).then_some(())?;
            parts.next().map(Cow::Borrowed)
        }
    }

    #[test]
    fn any_scheme_with_a_credential_id_is_served_without_knowing_its_family() {
        let toy = Arc::new(Toy::default());
        let c = SelfContainedCredential::new(
            toy.clone(),
            "__Host-toy".into(),
            Duration::from_secs(60),
            Arc::new(CsrfKey::generate()),
            true,
        );
        let metrics = Metrics::new();
        let calls = Calls::new(c.scheme(), &metrics);
        let (a, b) = ("toy.1.alice", "toy.2.bob");
        let csrf = c.csrf_token(&calls, a).unwrap();
        assert!(c.check_csrf(&calls, a, &csrf));
        assert!(!c.check_csrf(&calls, b, &csrf), "bound to one credential");
        assert!(
            c.csrf_token(&calls, "garbage").is_err(),
            "no identity: fail closed"
        );
        assert!(!c.check_csrf(&calls, "garbage", &csrf));
        assert!(c.set_cookie(a).starts_with("__Host-toy=toy.1.alice;"));
        assert!(c.clear_cookie().contains("Max-Age=0"));
        let (form, cookies) = c.login_form(&calls, None).unwrap();
        assert!(cookies[0].starts_with(&format!("{LOGIN_CSRF_COOKIE}={form};")));
        assert!(c.check_login_csrf(&calls, &form, &form).is_ok());
        assert_eq!(c.check_login_csrf(&calls, &form, "x"), Err(FORBIDDEN_LOGIN));
        c.end_at_login(&calls, a).unwrap();
        assert!(
            toy.revoked.lock().unwrap().contains("1"),
            "denylisted at login"
        );
        assert!(
            metrics.snapshot().token_other.calls >= 4,
            "every scheme call counted"
        );
    }
}
