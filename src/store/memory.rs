//! The embedded default store: a sharded concurrent hash map.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use dashmap::DashMap;

use super::family::FamilyState;
use super::{FamilyOp, FamilyOutcome, SessionRecord, SessionStore, SessionView, StoreResult};

/// Session records in a [`DashMap`]: lookups on different shards never contend. Refresh
/// families (the hybrid scheme's, touched once per access lifetime per user, not per
/// request) sit in a map of their own behind one mutex.
#[derive(Debug, Default)]
pub struct MemoryStore {
    map: DashMap<String, SessionRecord>,
    families: Mutex<HashMap<String, FamilyState>>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }
}

impl SessionStore for MemoryStore {
    fn name(&self) -> &'static str {
        "memory"
    }

    fn is_local(&self) -> bool {
        true
    }

    fn get(&self, id: &str) -> StoreResult<Option<SessionRecord>> {
        Ok(self.map.get(id).map(|r| r.value().clone()))
    }

    fn view(&self, id: &str) -> StoreResult<Option<SessionView>> {
        Ok(self.map.get(id).map(|r| r.value().view()))
    }

    fn view_and_touch(
        &self,
        id: &str,
        now_ms: u64,
        idle_deadline_ms: u64,
    ) -> StoreResult<Option<SessionView>> {
        Ok(self.map.get_mut(id).map(|mut r| {
            let view = r.view();
            if view.is_live(now_ms) {
                r.last_seen_ms = now_ms;
                r.idle_deadline_ms = idle_deadline_ms.min(r.absolute_deadline_ms);
            }
            view
        }))
    }

    fn put(&self, id: &str, record: &SessionRecord) -> StoreResult<()> {
        self.map.insert(id.to_owned(), record.clone());
        Ok(())
    }

    fn touch(&self, id: &str, last_seen_ms: u64, idle_deadline_ms: u64) -> StoreResult<bool> {
        Ok(match self.map.get_mut(id) {
            Some(mut r) => {
                r.last_seen_ms = last_seen_ms;
                r.idle_deadline_ms = idle_deadline_ms;
                true
            }
            None => false,
        })
    }

    fn delete(&self, id: &str) -> StoreResult<bool> {
        Ok(self.map.remove(id).is_some())
    }

    fn rename(
        &self,
        old: &str,
        new: &str,
        update: &dyn Fn(&mut SessionRecord),
    ) -> StoreResult<bool> {
        // Removing first makes the old ID dead before the new one is usable.
        Ok(match self.map.remove(old) {
            Some((_, mut record)) => {
                update(&mut record);
                self.map.insert(new.to_owned(), record);
                true
            }
            None => false,
        })
    }

    fn refresh_family(&self, family: &str, op: FamilyOp<'_>) -> StoreResult<FamilyOutcome> {
        // Every mutation is one map operation: a poisoned lock holds no half-written family.
        let mut families = self.families.lock().unwrap_or_else(PoisonError::into_inner);
        Ok(FamilyState::apply(&mut families, family, op))
    }

    fn len(&self) -> StoreResult<usize> {
        Ok(self.map.len())
    }
}
