//! The baseline store: one reader-writer lock around a `HashMap`.
//!
//! Kept to show, in the scale workload, what a single lock costs under concurrency.

use std::collections::HashMap;
use std::sync::{PoisonError, RwLock};

use super::family::FamilyState;
use super::{FamilyOp, FamilyOutcome, SessionRecord, SessionStore, SessionView, StoreResult};

/// Session records in a `RwLock<HashMap>`; refresh families (the hybrid scheme's) in a
/// second one.
#[derive(Debug, Default)]
pub struct RwLockStore {
    map: RwLock<HashMap<String, SessionRecord>>,
    families: RwLock<HashMap<String, FamilyState>>,
}

impl RwLockStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }
}

// A panic while holding the lock cannot leave a half-written record (every mutation is a
// single map operation), so a poisoned lock is safe to keep using.
impl SessionStore for RwLockStore {
    fn name(&self) -> &'static str {
        "rwlock"
    }

    fn is_local(&self) -> bool {
        true
    }

    fn get(&self, id: &str) -> StoreResult<Option<SessionRecord>> {
        let map = self.map.read().unwrap_or_else(PoisonError::into_inner);
        Ok(map.get(id).cloned())
    }

    fn view(&self, id: &str) -> StoreResult<Option<SessionView>> {
        let map = self.map.read().unwrap_or_else(PoisonError::into_inner);
        Ok(map.get(id).map(SessionRecord::view))
    }

    fn view_and_touch(
        &self,
        id: &str,
        now_ms: u64,
        idle_deadline_ms: u64,
    ) -> StoreResult<Option<SessionView>> {
        let mut map = self.map.write().unwrap_or_else(PoisonError::into_inner);
        Ok(map.get_mut(id).map(|r| {
            let view = r.view();
            if view.is_live(now_ms) {
                r.last_seen_ms = now_ms;
                r.idle_deadline_ms = idle_deadline_ms.min(r.absolute_deadline_ms);
            }
            view
        }))
    }

    fn put(&self, id: &str, record: &SessionRecord) -> StoreResult<()> {
        let mut map = self.map.write().unwrap_or_else(PoisonError::into_inner);
        map.insert(id.to_owned(), record.clone());
        Ok(())
    }

    fn touch(&self, id: &str, last_seen_ms: u64, idle_deadline_ms: u64) -> StoreResult<bool> {
        let mut map = self.map.write().unwrap_or_else(PoisonError::into_inner);
        Ok(match map.get_mut(id) {
            Some(r) => {
                r.last_seen_ms = last_seen_ms;
                r.idle_deadline_ms = idle_deadline_ms;
                true
            }
            None => false,
        })
    }

    fn delete(&self, id: &str) -> StoreResult<bool> {
        let mut map = self.map.write().unwrap_or_else(PoisonError::into_inner);
        Ok(map.remove(id).is_some())
    }

    fn rename(
        &self,
        old: &str,
        new: &str,
        update: &dyn Fn(&mut SessionRecord),
    ) -> StoreResult<bool> {
        let mut map = self.map.write().unwrap_or_else(PoisonError::into_inner);
        Ok(match map.remove(old) {
            Some(mut record) => {
                update(&mut record);
                map.insert(new.to_owned(), record);
                true
            }
            None => false,
        })
    }

    fn refresh_family(&self, family: &str, op: FamilyOp<'_>) -> StoreResult<FamilyOutcome> {
        let mut families = self
            .families
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        Ok(FamilyState::apply(&mut families, family, op))
    }

    fn len(&self) -> StoreResult<usize> {
        Ok(self
            .map
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .len())
    }
}
