//! The contract every [`SessionStore`] must keep, as a macro: one module of tests per store,
//! named after it (`store_memory::rename_moves_and_updates_atomically`), in the style of the
//! scheme conformance suite (`common::suite`).
//!
//! What is checked: get / view / put / touch / delete / rename / len and their answers for
//! a missing ID; `touch` changes nothing else and never creates; `view_and_touch` (sliding
//! expiry in one step) touches only a live record and returns it as read; rename is
//! atomic (the old ID is dead once it returns, also under concurrent touches) and renaming
//! onto itself only applies the update; concurrent writers and readers agree; touches
//! racing deletes never resurrect a session; refresh families rotate, detect reuse,
//! honour the grace and revoke, and concurrent refreshes of one token (as from two nodes)
//! make exactly one successor.
//!
//! What a store does beyond the contract stays with its own tests: Redis TTLs, corrupt
//! records, outages and restarts (`it::redis`), keys on every cluster node
//! (`it::redis_cluster`).
#![allow(unused_imports)]

pub use std::sync::Arc;
pub use std::sync::atomic::{AtomicBool, Ordering};

pub use tokenbench::store::{FamilyOp, FamilyOutcome, SessionRecord, SessionStore, SessionView};

pub use super::{now_ms, record};

/// A store under test, and whatever must outlive it (a private server or cluster).
pub struct StoreUnderTest {
    /// The store (dropped first: a Redis store cleans up its keys on drop).
    pub store: Arc<dyn SessionStore>,
    /// What the store's `name()` must be.
    pub name: &'static str,
    /// Kept alive until the store is gone (declared after `store`, so dropped after it).
    _keep: Option<Box<dyn std::any::Any>>,
}

impl StoreUnderTest {
    /// `store`, which needs nothing else alive.
    pub fn new(name: &'static str, store: impl SessionStore) -> Self {
        Self {
            store: Arc::new(store),
            name,
            _keep: None,
        }
    }

    /// `store`, on a server (or cluster) `keep` that must stay up as long as it.
    pub fn on(name: &'static str, store: impl SessionStore, keep: impl std::any::Any) -> Self {
        Self {
            store: Arc::new(store),
            name,
            _keep: Some(Box::new(keep)),
        }
    }
}

/// The view `validate` reads of `r`.
pub fn view_of(r: &SessionRecord) -> SessionView {
    r.view()
}

/// `store_contract!(name, subject)` runs the contract on `subject` (a [`StoreUnderTest`],
/// built afresh for every test).
///
/// `store_contract!(optional name, subject)` takes an `Option<StoreUnderTest>` instead:
/// `None` (Redis not configured, `redis-server` not on `PATH`) makes every test of the
/// module return at once, after `common::skip` has said why (or failed it on CI).
#[macro_export]
macro_rules! store_contract {
    (optional $name:ident, $make:expr) => {
        $crate::store_contract!(@guarded $name, $make);
    };
    ($name:ident, $make:expr) => {
        $crate::store_contract!(@guarded $name, Some($make));
    };
    (@guarded $name:ident, $make:expr) => {
        mod $name {
            use super::*;
            use $crate::common::store::*;

            fn subject() -> Option<StoreUnderTest> {
                $make
            }

            #[test]
            fn get_put_touch_delete() {
                let Some(s) = subject() else { return };
                let store = &s.store;
                assert_eq!(store.name(), s.name);
                assert_eq!(store.get("x").unwrap(), None);
                assert_eq!(store.view("x").unwrap(), None);
                assert!(store.is_empty().unwrap());
                let a = record("a");
                store.put("x", &a).unwrap();
                assert_eq!(store.get("x").unwrap(), Some(a.clone()));
                assert_eq!(store.view("x").unwrap(), Some(view_of(&a)));
                assert!(store.touch("x", 20, 30).unwrap());
                let r = store.get("x").unwrap().unwrap();
                assert_eq!((r.last_seen_ms, r.idle_deadline_ms), (20, 30));
                assert_eq!(
                    SessionRecord {
                        last_seen_ms: a.last_seen_ms,
                        idle_deadline_ms: a.idle_deadline_ms,
                        ..r
                    },
                    a,
                    "touch changes nothing else"
                );
                assert!(!store.touch("nope", 1, 1).unwrap(), "touch never creates");
                assert_eq!(store.get("nope").unwrap(), None);
                store.put("x", &record("b")).unwrap();
                assert_eq!(store.get("x").unwrap().unwrap().claims.user_id, "b");
                assert_eq!(store.len().unwrap(), 1);
                assert!(!store.is_empty().unwrap());
                assert!(store.delete("x").unwrap());
                assert!(!store.delete("x").unwrap());
                assert_eq!(store.get("x").unwrap(), None);
                assert!(store.is_empty().unwrap());
            }

            #[test]
            fn every_claim_set_and_odd_strings_survive_the_store() {
                let Some(s) = subject() else { return };
                let store = &s.store;
                for (i, set) in tokenbench::claims::ClaimSet::ALL.into_iter().enumerate() {
                    let mut r = record("u");
                    r.claims = Arc::new(set.claims("ünïcode \"quoted\" \\ {json}"));
                    r.csrf_token = "\"last_seen_ms\":3,\u{0}".into();
                    r.created_ms = u64::MAX - i as u64;
                    let id = format!("set-{i}");
                    store.put(&id, &r).unwrap();
                    assert_eq!(store.get(&id).unwrap(), Some(r), "{set}");
                }
                assert_eq!(store.len().unwrap(), 3);
            }

            #[test]
            fn view_and_touch_slides_a_live_record_in_one_step() {
                let Some(s) = subject() else { return };
                let store = &s.store;
                let now = now_ms();
                let a = record("a");
                assert_eq!(store.view_and_touch("x", now, now + 1).unwrap(), None);
                assert_eq!(store.get("x").unwrap(), None, "never creates");
                store.put("x", &a).unwrap();
                // Live: returned as read, then touched, the idle deadline capped at the
                // absolute one.
                let seen = store.view_and_touch("x", now + 5, now + 7).unwrap();
                assert_eq!(seen, Some(view_of(&a)));
                let r = store.get("x").unwrap().unwrap();
                assert_eq!((r.last_seen_ms, r.idle_deadline_ms), (now + 5, now + 7));
                let far = a.absolute_deadline_ms + 1_000;
                store.view_and_touch("x", now + 6, far).unwrap().unwrap();
                let r = store.get("x").unwrap().unwrap();
                assert_eq!(
                    (r.last_seen_ms, r.idle_deadline_ms),
                    (now + 6, a.absolute_deadline_ms),
                    "the idle deadline never passes the absolute one"
                );
                assert_eq!(SessionRecord { last_seen_ms: a.last_seen_ms, idle_deadline_ms: a.idle_deadline_ms, ..r }, a);
                // Idle-expired at `now` (the boundary included): returned, not touched.
                let idle = r.idle_deadline_ms;
                let seen = store.view_and_touch("x", idle, idle + 50).unwrap().unwrap();
                assert_eq!(seen.idle_deadline_ms, idle);
                let after = store.get("x").unwrap().unwrap();
                assert_eq!((after.last_seen_ms, after.idle_deadline_ms), (now + 6, idle));
            }

            #[test]
            fn rename_moves_and_updates_atomically() {
                let Some(s) = subject() else { return };
                let store = &s.store;
                store.put("old", &record("a")).unwrap();
                assert!(
                    store
                        .rename("old", "new", &|r: &mut SessionRecord| r.csrf_token = "d".into())
                        .unwrap()
                );
                assert_eq!(store.get("old").unwrap(), None);
                let moved = store.get("new").unwrap().unwrap();
                assert_eq!(moved.csrf_token.as_ref(), "d");
                assert_eq!(moved.claims.user_id, "a");
                assert!(
                    !store
                        .rename("old", "newer", &|_: &mut SessionRecord| {})
                        .unwrap(),
                    "a dead ID cannot be renamed"
                );
                assert_eq!(store.get("newer").unwrap(), None);
                assert_eq!(store.len().unwrap(), 1);
                // Renaming onto itself only applies the update.
                assert!(
                    store
                        .rename("new", "new", &|r: &mut SessionRecord| r.csrf_token = "e".into())
                        .unwrap()
                );
                assert_eq!(store.get("new").unwrap().unwrap().csrf_token.as_ref(), "e");
                assert_eq!(store.len().unwrap(), 1);
            }

            #[test]
            fn concurrent_writers_and_readers_agree() {
                let Some(s) = subject() else { return };
                std::thread::scope(|scope| {
                    for t in 0..4 {
                        let store = s.store.clone();
                        scope.spawn(move || {
                            for i in 0..300 {
                                let id = format!("{t}-{i}");
                                store.put(&id, &record(&id)).unwrap();
                                assert_eq!(store.get(&id).unwrap().unwrap().claims.user_id, id);
                                if i % 2 == 0 {
                                    assert!(store.delete(&id).unwrap());
                                }
                            }
                        });
                    }
                });
                assert_eq!(s.store.len().unwrap(), 4 * 150);
            }

            #[test]
            fn touch_does_not_resurrect_a_deleted_session() {
                let Some(s) = subject() else { return };
                let store = &s.store;
                store.put("gone", &record("a")).unwrap();
                assert!(store.delete("gone").unwrap());
                assert!(!store.touch("gone", 1, 2).unwrap());
                assert_eq!(store.view_and_touch("gone", 1, 2).unwrap(), None);
                assert_eq!(store.get("gone").unwrap(), None);
                assert!(store.is_empty().unwrap());

                // Touches racing with deletes: once both are done, every session is gone.
                let ids: Vec<String> = (0..200).map(|i| format!("race-{i}")).collect();
                for id in &ids {
                    store.put(id, &record(id)).unwrap();
                }
                let now = now_ms();
                std::thread::scope(|scope| {
                    for k in 0..3 {
                        let (store, ids) = (store.clone(), &ids);
                        scope.spawn(move || {
                            for id in ids {
                                if k == 0 {
                                    store.touch(id, 5, 6).unwrap();
                                } else {
                                    store.view_and_touch(id, now, now + 1_000).unwrap();
                                }
                            }
                        });
                    }
                    let (store, ids) = (store.clone(), &ids);
                    scope.spawn(move || {
                        for id in ids {
                            assert!(store.delete(id).unwrap());
                        }
                    });
                });
                assert_eq!(store.len().unwrap(), 0);
            }

            #[test]
            fn rename_under_concurrent_touches_keeps_the_old_id_dead() {
                let Some(s) = subject() else { return };
                let store = &s.store;
                for round in 0..30 {
                    let old = format!("old-{round}");
                    let new = format!("new-{round}");
                    store.put(&old, &record("r")).unwrap();
                    let renamed = AtomicBool::new(false);
                    std::thread::scope(|scope| {
                        scope.spawn(|| {
                            // Touches until the rename is back (at least 20 times): each one
                            // updates the live record or sees it gone; none revives it or
                            // starves the rename.
                            let mut i = 0;
                            while i < 20 || !renamed.load(Ordering::Acquire) {
                                let _ = store.touch(&old, i, i + 1).unwrap();
                                i += 1;
                            }
                        });
                        let moved = store
                            .rename(&old, &new, &|r: &mut SessionRecord| r.csrf_token = "n".into())
                            .unwrap();
                        renamed.store(true, Ordering::Release);
                        assert!(moved, "round {round}");
                    });
                    assert_eq!(store.get(&old).unwrap(), None, "round {round}");
                    assert_eq!(store.get(&new).unwrap().unwrap().csrf_token.as_ref(), "n");
                }
                assert_eq!(store.len().unwrap(), 30);
            }

            #[test]
            fn refresh_families_rotate_and_a_reuse_revokes_the_family() {
                let Some(s) = subject() else { return };
                let store = &s.store;
                let now = now_ms();
                let r = record("fam");
                let start = FamilyOp::Start { record: &r, secret: "s1" };
                let rotate = |secret, successor, at: u64, grace_ms| FamilyOp::Rotate {
                    secret,
                    successor,
                    now_ms: at,
                    grace_ms,
                };
                assert_eq!(store.refresh_family("f1", start).unwrap(), FamilyOutcome::Started);
                assert_eq!(
                    store.refresh_family("f1", rotate("s1", "s2", now, 1000)).unwrap(),
                    FamilyOutcome::Rotated(r.clone())
                );
                // The retry of a client that lost the answer, within the grace: the same
                // successor, and nothing rotates.
                assert_eq!(
                    store.refresh_family("f1", rotate("s1", "sX", now + 999, 1000)).unwrap(),
                    FamilyOutcome::Grace { record: r.clone(), current: "s2".into() }
                );
                assert_eq!(
                    store.refresh_family("f1", rotate("s2", "s3", now + 999, 1000)).unwrap(),
                    FamilyOutcome::Rotated(r.clone())
                );
                // s1 is two rotations old: reuse, and every token of the family dies.
                assert_eq!(
                    store.refresh_family("f1", rotate("s1", "sY", now + 999, 1000)).unwrap(),
                    FamilyOutcome::Reused
                );
                assert_eq!(
                    store.refresh_family("f1", rotate("s3", "s4", now + 999, 1000)).unwrap(),
                    FamilyOutcome::Unknown
                );
                // After the grace the replaced token is a reuse too.
                store.refresh_family("f2", start).unwrap();
                store.refresh_family("f2", rotate("s1", "s2", now, 1000)).unwrap();
                assert_eq!(
                    store.refresh_family("f2", rotate("s1", "sZ", now + 1000, 1000)).unwrap(),
                    FamilyOutcome::Reused
                );
                // Without a grace, a second presentation is a reuse even when stamped before
                // the rotation (another node's clock read a moment earlier).
                store.refresh_family("f5", start).unwrap();
                store.refresh_family("f5", rotate("s1", "s2", now, 0)).unwrap();
                assert_eq!(
                    store.refresh_family("f5", rotate("s1", "sW", now - 5, 0)).unwrap(),
                    FamilyOutcome::Reused
                );
                // A guess at a live family's secret is treated as a reuse (fail closed).
                store.refresh_family("f3", start).unwrap();
                assert_eq!(
                    store.refresh_family("f3", rotate("guess", "s2", now, 1000)).unwrap(),
                    FamilyOutcome::Reused
                );
                assert_eq!(
                    store.refresh_family("f3", rotate("s1", "s2", now, 1000)).unwrap(),
                    FamilyOutcome::Unknown
                );
                // Logout: the family dies, once.
                store.refresh_family("f4", start).unwrap();
                assert_eq!(
                    store.refresh_family("f4", FamilyOp::Revoke).unwrap(),
                    FamilyOutcome::Revoked(true)
                );
                assert_eq!(
                    store.refresh_family("f4", FamilyOp::Revoke).unwrap(),
                    FamilyOutcome::Revoked(false)
                );
                assert_eq!(
                    store.refresh_family("f4", rotate("s1", "s2", now, 1000)).unwrap(),
                    FamilyOutcome::Unknown
                );
                assert_eq!(
                    store.refresh_family("never", rotate("s1", "s2", now, 1000)).unwrap(),
                    FamilyOutcome::Unknown
                );
                // Families are not sessions.
                assert_eq!(store.get("f1").unwrap(), None);
            }

            #[test]
            fn concurrent_refreshes_of_one_token_make_one_successor() {
                let Some(s) = subject() else { return };
                const RACERS: usize = 6;
                for (round, grace_ms) in [0u64, 60_000].into_iter().enumerate() {
                    for attempt in 0..5 {
                        let family = format!("race-{round}-{attempt}");
                        let r = record("racer");
                        let start = FamilyOp::Start { record: &r, secret: "s0" };
                        s.store.refresh_family(&family, start).unwrap();
                        let barrier = std::sync::Barrier::new(RACERS);
                        let outcomes: Vec<(String, FamilyOutcome)> = std::thread::scope(|scope| {
                            let handles: Vec<_> = (0..RACERS)
                                .map(|i| {
                                    let (store, barrier, family) = (&s.store, &barrier, &family);
                                    scope.spawn(move || {
                                        let successor = format!("next-{i}");
                                        barrier.wait();
                                        let op = FamilyOp::Rotate {
                                            secret: "s0",
                                            successor: &successor,
                                            now_ms: now_ms(),
                                            grace_ms,
                                        };
                                        let got = store.refresh_family(family, op).unwrap();
                                        (successor, got)
                                    })
                                })
                                .collect();
                            handles.into_iter().map(|h| h.join().unwrap()).collect()
                        });
                        let winners: Vec<&String> = outcomes
                            .iter()
                            .filter(|(_, o)| matches!(o, FamilyOutcome::Rotated(_)))
                            .map(|(successor, _)| successor)
                            .collect();
                        assert_eq!(winners.len(), 1, "{family}: {outcomes:?}");
                        let winner = winners[0].as_str();
                        let next = FamilyOp::Rotate {
                            secret: winner,
                            successor: "after",
                            now_ms: now_ms(),
                            grace_ms,
                        };
                        if grace_ms == 0 {
                            // Every loser is a reuse (or finds the family already revoked
                            // by another loser), and the winner's successor died with it.
                            for (_, o) in &outcomes {
                                assert!(
                                    matches!(
                                        o,
                                        FamilyOutcome::Rotated(_)
                                            | FamilyOutcome::Reused
                                            | FamilyOutcome::Unknown
                                    ),
                                    "{family}: {o:?}"
                                );
                            }
                            assert!(outcomes.iter().any(|(_, o)| *o == FamilyOutcome::Reused));
                            assert_eq!(
                                s.store.refresh_family(&family, next).unwrap(),
                                FamilyOutcome::Unknown
                            );
                        } else {
                            // Within the grace every loser gets the winner's successor.
                            for (_, o) in &outcomes {
                                match o {
                                    FamilyOutcome::Rotated(_) => {}
                                    FamilyOutcome::Grace { current, .. } => {
                                        assert_eq!(current, winner, "{family}")
                                    }
                                    other => panic!("{family}: {other:?}"),
                                }
                            }
                            assert!(matches!(
                                s.store.refresh_family(&family, next).unwrap(),
                                FamilyOutcome::Rotated(_)
                            ));
                        }
                    }
                }
            }
        }
    };
}
