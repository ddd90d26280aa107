//! `jti` denylists on Redis: central (checked on every validate), and the building blocks
//! for pushed (pub/sub) and polled per-node copies.

/// A denylist kept in Redis (work in progress: see issue 5).
#[derive(Debug)]
pub struct RedisDenylist;
