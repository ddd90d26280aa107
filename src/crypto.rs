//! Which cryptography library performs JWT signing and verification.
//!
//! `jsonwebtoken` delegates to a process-wide `CryptoProvider`. Both providers are compiled
//! in; the first call to [`install`] (or [`active`], which installs the default) fixes the
//! choice for the life of the process. To compare backends, run a second process.

use std::fmt;
use std::str::FromStr;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

/// A `jsonwebtoken` crypto provider.
/// Written in results as its [`name`](CryptoBackend::name).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum CryptoBackend {
    /// aws-lc-rs (AWS-LC, C and assembly). The default.
    #[serde(rename = "aws-lc-rs", alias = "aws-lc")]
    AwsLc,
    /// The RustCrypto crates (pure Rust).
    #[serde(rename = "rust-crypto")]
    RustCrypto,
}

impl CryptoBackend {
    /// Both backends, default first.
    pub const ALL: [CryptoBackend; 2] = [CryptoBackend::AwsLc, CryptoBackend::RustCrypto];

    /// Name used on the command line and in results.
    pub fn name(self) -> &'static str {
        match self {
            CryptoBackend::AwsLc => "aws-lc-rs",
            CryptoBackend::RustCrypto => "rust-crypto",
        }
    }

    pub(crate) fn provider(self) -> &'static jsonwebtoken::crypto::CryptoProvider {
        match self {
            CryptoBackend::AwsLc => &jsonwebtoken::crypto::aws_lc::DEFAULT_PROVIDER,
            CryptoBackend::RustCrypto => &jsonwebtoken::crypto::rust_crypto::DEFAULT_PROVIDER,
        }
    }
}

impl fmt::Display for CryptoBackend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.name())
    }
}

impl FromStr for CryptoBackend {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "aws-lc-rs" | "aws-lc" | "awslc" => Ok(CryptoBackend::AwsLc),
            "rust-crypto" | "rustcrypto" | "rust_crypto" => Ok(CryptoBackend::RustCrypto),
            _ => Err(format!(
                "unknown crypto backend '{s}' (expected aws-lc-rs or rust-crypto)"
            )),
        }
    }
}

/// The backend was already fixed to another choice in this process.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "crypto backend already set to {active} for this process; {requested} needs a separate process"
)]
pub struct BackendAlreadySet {
    /// The backend in force.
    pub active: CryptoBackend,
    /// The backend that was asked for.
    pub requested: CryptoBackend,
}

static ACTIVE: OnceLock<CryptoBackend> = OnceLock::new();

/// Makes `backend` this process's JWT crypto provider. Idempotent for the same backend.
pub fn install(backend: CryptoBackend) -> Result<(), BackendAlreadySet> {
    let active = *ACTIVE.get_or_init(|| {
        // Only this module installs providers, and only inside this initialiser, so the
        // provider cannot already be set to something else.
        let _ = backend.provider().install_default();
        backend
    });
    if active == backend {
        Ok(())
    } else {
        Err(BackendAlreadySet {
            active,
            requested: backend,
        })
    }
}

/// The backend in force, installing the default (aws-lc-rs) if none was chosen yet.
pub fn active() -> CryptoBackend {
    *ACTIVE.get_or_init(|| {
        let _ = CryptoBackend::AwsLc.provider().install_default();
        CryptoBackend::AwsLc
    })
}
