//! tokenbench: opaque session tokens against signed JWTs, measured.
//!
//! - [`scheme`]: the [`TokenScheme`](scheme::TokenScheme) trait and its two families.
//! - [`store`]: the [`SessionStore`](store::SessionStore) trait and the embedded stores.
//! - [`denylist`]: `jti` revocation lists for JWTs.
//! - [`claims`]: the claim sets shared by both families.
//! - [`clock`]: injectable time.
//! - [`crypto`]: which crypto library backs `jsonwebtoken` in this process.
//! - [`inspect`]: what anyone holding a token can read from it, and JWK verification.

pub mod alloc;
pub mod claims;
pub mod clock;
pub mod crypto;
pub mod denylist;
pub mod http;
pub mod inspect;
pub mod load;
pub mod measure;
pub mod plot;
pub mod report;
pub mod results;
pub mod run;
pub mod scheme;
pub mod store;
pub mod units;
pub mod workload;
