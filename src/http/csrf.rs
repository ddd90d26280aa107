//! CSRF tokens for a self-contained credential carried in a cookie, where no server-side
//! record can hold a synchronizer token: **signed double-submit** (OWASP's "signed
//! double-submit cookie"), with a key random per server process that never leaves it, or
//! the key of the server's site (`--site`, shared by its nodes through the key directory,
//! so a form fetched from one node is accepted by another).
//!
//! - Login (no credential yet): `GET /login` sets `__Host-csrf=<nonce>.<mac>`, `mac =
//!   HMAC-SHA256(key, "login\0" || nonce)`, and renders the same value in the form;
//!   `POST /login` needs form = cookie (constant time) **and** a valid MAC, so an attacker
//!   can neither invent a pair nor (`__Host-` prefix) plant one from a sibling subdomain.
//! - After login: `HMAC-SHA256(key, "jwt\0" || id)` with `id` the credential's identity
//!   (a JWT's `jti`): bound to that one token, stateless, dead with it.

use aws_lc_rs::hmac;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::Rng;
use subtle::ConstantTimeEq;

/// Name of the login CSRF cookie (a self-contained credential, cookie transport).
pub const LOGIN_CSRF_COOKIE: &str = "__Host-csrf";

/// The server's CSRF signing key.
pub struct CsrfKey {
    key: hmac::Key,
}

impl std::fmt::Debug for CsrfKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CsrfKey(redacted)")
    }
}

impl Default for CsrfKey {
    fn default() -> Self {
        Self::generate()
    }
}

impl CsrfKey {
    /// A fresh random 256-bit key.
    pub fn generate() -> CsrfKey {
        let mut k = [0u8; 32];
        rand::rng().fill_bytes(&mut k);
        CsrfKey {
            key: hmac::Key::new(hmac::HMAC_SHA256, &k),
        }
    }

    /// The key of `secret` (a site's shared CSRF secret, from its key directory).
    pub fn from_secret(secret: &[u8; 32]) -> CsrfKey {
        CsrfKey {
            key: hmac::Key::new(hmac::HMAC_SHA256, secret),
        }
    }

    fn mac(&self, domain: &[u8], value: &[u8]) -> hmac::Tag {
        let mut ctx = hmac::Context::with_key(&self.key);
        ctx.update(domain);
        ctx.update(value);
        ctx.sign()
    }

    /// A new login token `<nonce>.<mac>` (cookie value and form field alike).
    pub fn login_token(&self) -> String {
        let mut nonce = [0u8; 16];
        rand::rng().fill_bytes(&mut nonce);
        let nonce = URL_SAFE_NO_PAD.encode(nonce);
        let mac = URL_SAFE_NO_PAD.encode(self.mac(b"login\0", nonce.as_bytes()));
        format!("{nonce}.{mac}")
    }

    /// True when the form field equals the cookie and the cookie carries a valid MAC.
    pub fn verify_login(&self, cookie: &str, form: &str) -> bool {
        let same: bool = cookie.as_bytes().ct_eq(form.as_bytes()).into();
        let Some((nonce, mac)) = cookie.split_once('.') else {
            return false;
        };
        let Ok(mac) = URL_SAFE_NO_PAD.decode(mac) else {
            return false;
        };
        let mut msg = b"login\0".to_vec();
        msg.extend_from_slice(nonce.as_bytes());
        let valid = hmac::verify(&self.key, &msg, &mac).is_ok();
        same & valid
    }

    /// The CSRF token bound to the credential whose identity is `id` (a JWT's `jti`).
    pub fn for_credential(&self, id: &str) -> String {
        URL_SAFE_NO_PAD.encode(self.mac(b"jwt\0", id.as_bytes()))
    }

    /// True when `presented` is the CSRF token of credential `id` (constant-time).
    pub fn verify_credential(&self, id: &str, presented: &str) -> bool {
        self.for_credential(id)
            .as_bytes()
            .ct_eq(presented.as_bytes())
            .into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn login_tokens_need_the_pair_and_the_key() {
        let k = CsrfKey::generate();
        let t = k.login_token();
        assert!(k.verify_login(&t, &t));
        assert!(!k.verify_login(&t, "other"));
        assert!(!CsrfKey::generate().verify_login(&t, &t));
        let forged = format!("{}.AAAA", t.split_once('.').unwrap().0);
        assert!(!k.verify_login(&forged, &forged));
        assert!(!k.verify_login("", ""));
        assert!(k.verify_credential("j1", &k.for_credential("j1")));
        assert!(!k.verify_credential("j2", &k.for_credential("j1")));
        assert!(!format!("{k:?}").contains("Key {"));
        // Two nodes of one site hold the same secret: a token of one verifies on the other.
        let (a, b) = (
            CsrfKey::from_secret(&[7; 32]),
            CsrfKey::from_secret(&[7; 32]),
        );
        let t = a.login_token();
        assert!(b.verify_login(&t, &t));
        assert!(b.verify_credential("j1", &a.for_credential("j1")));
        assert!(!CsrfKey::from_secret(&[8; 32]).verify_login(&t, &t));
    }
}
