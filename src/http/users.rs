//! The demo accounts: `user-<i>` with password `password-<i>` for i below N, **demo only**
//! (the passwords are public by construction), stored as argon2id PHC strings with their
//! own salts and hashed at start-up on every core. [`PasswordParams::default`] is cheaper
//! than OWASP's recommendation so the demo starts fast (figures: HTTP.md).
//!
//! [`Users::verify`] costs the same for an unknown user as for a wrong password (a dummy
//! hash of the same cost, compared in constant time), and reuses one argon2 working buffer
//! per thread: allocated per login, it spread the server's memory over every malloc arena.

thread_local! {
    /// argon2id working memory of this thread, reused across verifications.
    static BLOCKS: RefCell<Vec<Block>> = const { RefCell::new(Vec::new()) };
}

use std::cell::RefCell;

use argon2::password_hash::{PasswordHash, PasswordHasher, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use rand::Rng;
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;

use super::HttpError;

/// argon2id cost parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasswordParams {
    /// Memory, KiB.
    pub memory_kib: u32,
    /// Passes over memory.
    pub iterations: u32,
    /// Lanes.
    pub parallelism: u32,
}

impl Default for PasswordParams {
    fn default() -> Self {
        PasswordParams {
            memory_kib: 4096,
            iterations: 1,
            parallelism: 1,
        }
    }
}

impl PasswordParams {
    fn hasher(&self) -> Result<Argon2<'static>, HttpError> {
        let params = Params::new(self.memory_kib, self.iterations, self.parallelism, None)
            .map_err(|e| HttpError::Users(format!("argon2 parameters: {e}")))?;
        Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
    }
}

/// The demo accounts' password hashes.
pub struct Users {
    hashes: Vec<String>,
    dummy: String,
    hasher: Argon2<'static>,
}

impl std::fmt::Debug for Users {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print hashes.
        f.debug_struct("Users")
            .field("count", &self.hashes.len())
            .finish()
    }
}

/// The demo user name of account `i`.
pub fn username(i: usize) -> String {
    format!("user-{i}")
}

/// The demo password of account `i` (public: demo only).
pub fn password(i: usize) -> String {
    format!("password-{i}")
}

impl Users {
    /// Hashes the passwords of `n` demo accounts, spread over the available cores.
    pub fn generate(n: usize, params: PasswordParams) -> Result<Users, HttpError> {
        let hasher = params.hasher()?;
        let threads = std::thread::available_parallelism()
            .map_or(1, usize::from)
            .clamp(1, n.max(1));
        let chunk = n.div_ceil(threads).max(1);
        let mut hashes = Vec::with_capacity(n);
        let parts: Vec<Result<Vec<String>, HttpError>> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..n)
                .step_by(chunk)
                .map(|start| {
                    let hasher = &hasher;
                    s.spawn(move || {
                        (start..(start + chunk).min(n))
                            .map(|i| hash(hasher, &password(i)))
                            .collect::<Result<Vec<_>, _>>()
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join().unwrap_or_else(|_| {
                        Err(HttpError::Users("a hashing thread panicked".into()))
                    })
                })
                .collect()
        });
        for p in parts {
            hashes.extend(p?);
        }
        let dummy = hash(&hasher, "not-a-password-of-any-account")?;
        Ok(Users {
            hashes,
            dummy,
            hasher,
        })
    }

    /// Number of accounts.
    pub fn len(&self) -> usize {
        self.hashes.len()
    }

    /// True when there are no accounts.
    pub fn is_empty(&self) -> bool {
        self.hashes.is_empty()
    }

    /// The account index when `password` is the password of `name`. Always runs one
    /// argon2id verification, against a dummy hash for unknown names, so an unknown user
    /// costs the same time as a wrong password.
    pub fn verify(&self, name: &str, password: &str) -> Option<usize> {
        let index = name
            .strip_prefix("user-")
            .filter(|d| !d.is_empty() && d.len() < 10 && d.bytes().all(|b| b.is_ascii_digit()))
            .filter(|d| !(d.len() > 1 && d.starts_with('0')))
            .and_then(|d| d.parse::<usize>().ok())
            .filter(|&i| i < self.hashes.len());
        let stored = index.map_or(self.dummy.as_str(), |i| self.hashes[i].as_str());
        let ok = self.matches(stored, password);
        index.filter(|_| ok)
    }
}

impl Users {
    /// True when `password` hashes to the PHC string `stored` (its salt, these params).
    fn matches(&self, stored: &str, password: &str) -> bool {
        let Ok(h) = PasswordHash::new(stored) else {
            return false;
        };
        let (Some(salt), Some(expected)) = (h.salt, h.hash) else {
            return false;
        };
        let mut salt_buf = [0u8; 64];
        let Ok(salt) = salt.decode_b64(&mut salt_buf) else {
            return false;
        };
        let mut out = vec![0u8; expected.len()];
        let n = self.hasher.params().block_count();
        let computed = BLOCKS.with(|b| {
            let mut blocks = b.borrow_mut();
            if blocks.len() != n {
                blocks.clear();
                blocks.resize(n, Block::default());
            }
            self.hasher
                .hash_password_into_with_memory(
                    password.as_bytes(),
                    salt,
                    &mut out,
                    &mut blocks[..],
                )
                .is_ok()
        });
        computed && bool::from(out.ct_eq(expected.as_bytes()))
    }
}

fn hash(hasher: &Argon2<'static>, password: &str) -> Result<String, HttpError> {
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt).map_err(|e| HttpError::Users(e.to_string()))?;
    hasher
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| HttpError::Users(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accounts_verify_and_strangers_do_not() {
        let cheap = PasswordParams {
            memory_kib: 64,
            iterations: 1,
            parallelism: 1,
        };
        let u = Users::generate(3, cheap).unwrap();
        assert_eq!(u.len(), 3);
        assert!(u.hashes.iter().all(|h| h.starts_with("$argon2id$")));
        assert_eq!(u.verify("user-2", "password-2"), Some(2));
        assert_eq!(u.verify("user-2", "password-1"), None);
        for name in [
            "user-3",
            "user-02",
            "user-",
            "admin",
            "user-99999999999",
            "",
        ] {
            assert_eq!(u.verify(name, "password-3"), None, "{name}");
        }
        assert!(!format!("{u:?}").contains("argon2"));
    }
}
