//! Session-only behaviour, run on every embedded store: expiry (idle, absolute, sliding),
//! ID regeneration (fixation), CSRF tokens, cookies. The store contract itself is
//! `common::store`, run on every store in `stores`.
//!
//! Security considerations from the seed article, and the tests that show the mitigation:
//! - hijacking: `set_cookie_is_httponly_secure_samesite_hostonly` (Secure: HTTPS only)
//! - fixation: `rotate_kills_the_old_id_and_keeps_the_claims`
//! - XSS: `set_cookie_is_httponly_secure_samesite_hostonly` (HttpOnly: no script access)
//! - CSRF: `csrf_token_is_bound_to_its_session` and SameSite in the cookie test
//! - cookie tossing: `cookie_tossing_a_second_session_cookie_is_refused` (`__Host-` prefix,
//!   a duplicated session cookie refused)

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use crate::common::*;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use tokenbench::claims::ClaimSet;
use tokenbench::clock::{Clock, ManualClock};
use tokenbench::scheme::{Rejection, SchemeError, SessionConfig, SessionScheme, TokenScheme};
use tokenbench::store::{MemoryStore, RwLockStore, SessionStore};

macro_rules! session_behaviour {
    ($name:ident, $store:expr) => {
        mod $name {
            use super::*;

            fn scheme(
                config: SessionConfig,
            ) -> (SessionScheme<impl SessionStore>, Arc<ManualClock>) {
                let clock = Arc::new(ManualClock::starting_now());
                (SessionScheme::new($store, config, clock.clone()), clock)
            }

            fn default_scheme() -> (SessionScheme<impl SessionStore>, Arc<ManualClock>) {
                scheme(session_config())
            }

            #[test]
            fn ids_are_128_bit_base64url_and_unique() {
                let (s, _) = default_scheme();
                let mut seen = HashSet::new();
                let mut ones = 0u64;
                for _ in 0..5000 {
                    let id = s.issue(&typical()).unwrap();
                    assert_eq!(id.len(), 22);
                    let raw = URL_SAFE_NO_PAD.decode(&id).unwrap();
                    assert_eq!(raw.len(), 16);
                    ones += raw.iter().map(|b| u64::from(b.count_ones())).sum::<u64>();
                    assert!(seen.insert(id));
                }
                // 640,000 bits: a fair source lands within 0.5% of half (about 8 sigma).
                let total = 5000.0 * 128.0;
                let share = ones as f64 / total;
                assert!((share - 0.5).abs() < 0.005, "share of one bits {share}");
            }

            #[test]
            fn id_bytes_below_128_bits_are_raised_to_128() {
                let (s, _) = scheme(SessionConfig {
                    id_bytes: 4,
                    ..session_config()
                });
                assert_eq!(s.issue(&typical()).unwrap().len(), 22);
            }

            #[test]
            fn idle_timeout_kills_an_unused_session() {
                let (s, clock) = default_scheme();
                let id = s.issue(&typical()).unwrap();
                clock.advance(Duration::from_secs(30 * 60));
                assert_eq!(s.validate(&id).unwrap_err(), Rejection::IdleExpired);
                // And it stays dead (the record was dropped).
                clock.set(Duration::ZERO);
                assert_eq!(s.validate(&id).unwrap_err(), Rejection::UnknownSession);
            }

            #[test]
            fn sliding_expiry_keeps_a_used_session_alive_until_the_absolute_deadline() {
                let (s, clock) = default_scheme();
                let start = clock.now();
                let id = s.issue(&typical()).unwrap();
                let absolute = start + Duration::from_secs(8 * 3600);
                // Use it every 20 minutes: idle never elapses.
                while clock.now() + Duration::from_secs(20 * 60) < absolute {
                    clock.advance(Duration::from_secs(20 * 60));
                    assert!(s.validate(&id).is_ok(), "at {:?}", clock.now() - start);
                }
                clock.set(absolute - Duration::from_millis(1));
                assert!(s.validate(&id).is_ok());
                clock.set(absolute);
                assert_eq!(s.validate(&id).unwrap_err(), Rejection::Expired);
            }

            #[test]
            fn without_sliding_the_idle_deadline_does_not_move() {
                let (s, clock) = scheme(SessionConfig {
                    sliding: false,
                    ..session_config()
                });
                let id = s.issue(&typical()).unwrap();
                clock.advance(Duration::from_secs(20 * 60));
                assert!(s.validate(&id).is_ok());
                clock.advance(Duration::from_secs(10 * 60));
                assert_eq!(s.validate(&id).unwrap_err(), Rejection::IdleExpired);
            }

            #[test]
            fn rotate_kills_the_old_id_and_keeps_the_claims() {
                let (s, _) = default_scheme();
                let claims = ClaimSet::Large.claims("u-9");
                let old = s.issue(&claims).unwrap();
                let old_csrf = s.csrf_token(&old).unwrap();
                let new = s.rotate(&old).unwrap();
                assert_ne!(old, new);
                assert_eq!(s.validate(&old).unwrap_err(), Rejection::UnknownSession);
                assert_eq!(*s.validate(&new).unwrap().claims, claims);
                assert_ne!(s.csrf_token(&new).unwrap(), old_csrf, "CSRF token renewed");
                // A rotated-away ID cannot be rotated again (or revived).
                assert!(matches!(
                    s.rotate(&old),
                    Err(SchemeError::NotRevocable(Rejection::UnknownSession))
                ));
                assert_eq!(s.store().len().unwrap(), 1);
            }

            #[test]
            fn rotate_restarts_idle_but_not_absolute_deadline() {
                let (s, clock) = default_scheme();
                let start = clock.now();
                let old = s.issue(&typical()).unwrap();
                clock.advance(Duration::from_secs(25 * 60));
                let new = s.rotate(&old).unwrap();
                clock.advance(Duration::from_secs(25 * 60));
                assert!(s.validate(&new).is_ok(), "idle restarted at rotation");
                clock.set(start + Duration::from_secs(8 * 3600));
                assert_eq!(s.validate(&new).unwrap_err(), Rejection::Expired);
            }

            #[test]
            fn csrf_token_is_bound_to_its_session() {
                let (s, _) = default_scheme();
                let a = s.issue(&typical()).unwrap();
                let b = s.issue(&typical()).unwrap();
                let ta = s.csrf_token(&a).unwrap();
                assert_eq!(URL_SAFE_NO_PAD.decode(&ta).unwrap().len(), 32);
                assert!(s.verify_csrf(&a, &ta));
                assert!(!s.verify_csrf(&b, &ta), "another session's token");
                assert!(!s.verify_csrf(&a, ""));
                assert!(!s.verify_csrf(&a, &ta[..ta.len() - 1]));
                s.revoke(&a).unwrap();
                assert!(!s.verify_csrf(&a, &ta), "dead session");
            }

            #[test]
            fn set_cookie_is_httponly_secure_samesite_hostonly() {
                let (s, _) = default_scheme();
                let id = s.issue(&typical()).unwrap();
                let header = s.set_cookie(&id);
                // The __Host- prefix: browsers insist on Secure, Path=/ and no Domain.
                assert!(header.starts_with(&format!("__Host-sid={id};")), "{header}");
                for attr in [
                    "HttpOnly",
                    "Secure",
                    "SameSite=Lax",
                    "Path=/",
                    "Max-Age=28800",
                ] {
                    assert!(
                        header.split("; ").any(|a| a == attr),
                        "{attr} missing in {header}"
                    );
                }
                assert!(!header.contains("Domain"), "{header}");
                let strict = SessionScheme::new(
                    MemoryStore::new(),
                    SessionConfig {
                        same_site: cookie::SameSite::Strict,
                        ..session_config()
                    },
                    Arc::new(ManualClock::starting_now()),
                );
                assert!(strict.set_cookie(&id).contains("SameSite=Strict"));
                let clear = s.clear_cookie();
                assert!(
                    clear.starts_with("__Host-sid=;")
                        && clear.contains("Max-Age=0")
                        && clear.contains("HttpOnly"),
                    "{clear}"
                );
            }

            #[test]
            fn cookie_tossing_a_second_session_cookie_is_refused() {
                let (s, _) = default_scheme();
                let victim = s.issue(&typical()).unwrap();
                let attacker = s.issue(&ClaimSet::Minimal.claims("mallory")).unwrap();
                for header in [
                    format!("__Host-sid={attacker}; __Host-sid={victim}"),
                    format!("__Host-sid={victim}; theme=dark; __Host-sid={attacker}"),
                    format!("__Host-sid={victim};__Host-sid={victim}"),
                ] {
                    assert_eq!(
                        s.token_from_cookie_header(&header),
                        Err(Rejection::DuplicateCookie("__Host-sid".into())),
                        "{header}"
                    );
                }
                // A cookie of another name (an unprefixed `sid` planted by a sibling
                // subdomain) is not the session cookie at all.
                let header = format!("sid={attacker}; __Host-sid={victim}");
                assert_eq!(s.token_from_cookie_header(&header), Ok(victim.as_str()));
                assert!(matches!(
                    s.token_from_cookie_header(&format!("sid={attacker}")),
                    Err(Rejection::Malformed(_))
                ));
            }

            #[test]
            fn the_session_cookie_name_is_configurable() {
                let clock = Arc::new(ManualClock::starting_now());
                let s = SessionScheme::new(
                    MemoryStore::new(),
                    SessionConfig {
                        cookie_name: "app_session".into(),
                        ..session_config()
                    },
                    clock,
                );
                let id = s.issue(&typical()).unwrap();
                assert!(s.set_cookie(&id).starts_with(&format!("app_session={id};")));
                let header = format!("app_session={id}; __Host-sid=x");
                assert_eq!(s.token_from_cookie_header(&header), Ok(id.as_str()));
            }

            #[test]
            fn session_id_is_read_from_a_cookie_header_with_several_cookies() {
                let (s, _) = default_scheme();
                let id = s.issue(&typical()).unwrap();
                let header = format!("theme=dark; __Host-sid={id}; _ga=GA1.2.3");
                let found = s.token_from_cookie_header(&header).unwrap();
                assert_eq!(found, id);
                assert!(s.validate(found).is_ok());
                assert!(matches!(
                    s.token_from_cookie_header("theme=dark; other=1"),
                    Err(Rejection::Malformed(_))
                ));
                assert!(matches!(
                    s.token_from_cookie_header(""),
                    Err(Rejection::Malformed(_))
                ));
                let huge = format!("a={}; __Host-sid={id}", "x".repeat(9000));
                assert!(matches!(
                    s.token_from_cookie_header(&huge),
                    Err(Rejection::Oversized { .. })
                ));
            }
        }
    };
}

session_behaviour!(memory, MemoryStore::new());
session_behaviour!(rwlock, RwLockStore::new());

#[test]
fn fixation_attack_fails_after_login_rotation() {
    // The attacker plants a session ID in the victim's browser before login; the server
    // rotates at login, so the planted ID never becomes an authenticated session.
    let clock = Arc::new(ManualClock::starting_now());
    let s = SessionScheme::new(MemoryStore::new(), session_config(), clock);
    let planted = s.issue(&ClaimSet::Minimal.claims("anonymous")).unwrap();
    let after_login = s.rotate(&planted).unwrap();
    assert_eq!(s.validate(&planted).unwrap_err(), Rejection::UnknownSession);
    assert!(s.validate(&after_login).is_ok());
}
