//! How a [`SessionRecord`] is written in a Redis string.

use crate::store::{SessionRecord, StoreError, StoreResult};

/// A deadline as a `PXAT` argument: Redis refuses 0 and anything beyond `i64::MAX`.
/// Deadlines already past make Redis drop the record at once, as the trait allows.
pub(super) fn pxat(deadline_ms: u64) -> u64 {
    deadline_ms.clamp(1, i64::MAX as u64)
}

pub(super) fn encode(record: &SessionRecord) -> StoreResult<String> {
    serde_json::to_string(record)
        .map_err(|e| StoreError::Corrupt(format!("cannot serialize session record: {e}")))
}

pub(super) fn decode(id: &str, json: &str) -> StoreResult<SessionRecord> {
    serde_json::from_str(json)
        .map_err(|e| StoreError::Corrupt(format!("session {id:?} holds invalid JSON: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pxat_stays_in_the_range_redis_accepts() {
        assert_eq!(pxat(0), 1);
        assert_eq!(pxat(u64::MAX), i64::MAX as u64);
        assert_eq!(pxat(1_700_000_000_000), 1_700_000_000_000);
    }
}
