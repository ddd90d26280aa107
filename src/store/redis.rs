//! The real central store: session records in Redis.

/// Session records in Redis (work in progress: see issue 5).
#[derive(Debug)]
pub struct RedisStore;
