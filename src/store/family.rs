//! Refresh-token families, as a store keeps them for the hybrid scheme
//! ([`HybridScheme`](crate::scheme::HybridScheme)): one entry per login, holding the
//! login's [`SessionRecord`], the secret of its one live refresh token, the secret it
//! replaced and when. [`SessionStore::refresh_family`](super::SessionStore::refresh_family)
//! applies one [`FamilyOp`] to one family in one atomic step on every store:
//!
//! - the in-process stores under the lock of the family's entry (`FamilyState::apply`,
//!   shared by both);
//! - Redis: one hash per family, one Lua script (one key, so on a Redis Cluster the whole
//!   family sits in one slot without a hash tag);
//! - PostgreSQL: one row per family, one transaction (`SELECT ... FOR UPDATE`, then the
//!   `UPDATE` or `DELETE`).
//!
//! The rules, the same on every store (RFC 9700 §4.14.2, "refresh token rotation"):
//!
//! | presented secret                                    | outcome                    |
//! |-----------------------------------------------------|----------------------------|
//! | no live family of that ID (never, revoked, expired) | [`FamilyOutcome::Unknown`] |
//! | the current one                                     | rotated: the successor becomes current, the presented one is kept as `previous` with the time; [`FamilyOutcome::Rotated`] |
//! | `previous`, less than `grace_ms` after its rotation | nothing changes; the current successor is returned: [`FamilyOutcome::Grace`] |
//! | anything else (an older one, `previous` after the grace) | the family is deleted: [`FamilyOutcome::Reused`] |
//!
//! "Anything else" includes a secret that was never issued: the family ID appears only
//! inside the family's own refresh tokens (never in an access token, a log or a result),
//! so whoever names a live family holds or held one of its tokens, and a wrong secret is
//! treated as the replay of an old one (fail closed: the family dies).

use std::collections::HashMap;

use subtle::ConstantTimeEq;

use super::SessionRecord;

/// The record ID of family `family` beside the sessions of a store (`rf:<family>`: a
/// Redis key under the store's prefix, a PostgreSQL row's ID). Session IDs are base64url,
/// so no session ID contains the `:`.
pub fn record_id(family: &str) -> String {
    format!("rf:{family}")
}

/// One operation on a refresh-token family (see
/// [`SessionStore::refresh_family`](super::SessionStore::refresh_family)).
#[derive(Debug, Clone, Copy)]
pub enum FamilyOp<'a> {
    /// Creates the family (a login): its record, and the secret of its first refresh
    /// token. A family of that ID already there is replaced.
    Start {
        /// The login's claims and deadlines; the family dies at its absolute deadline.
        record: &'a SessionRecord,
        /// The secret of the first refresh token.
        secret: &'a str,
    },
    /// A refresh: `secret` is presented, and rotated to `successor` if it is current
    /// (see the module's table).
    Rotate {
        /// The secret of the refresh token presented.
        secret: &'a str,
        /// The secret of the token that replaces it, made by the caller beforehand.
        successor: &'a str,
        /// Now, milliseconds since the Unix epoch.
        now_ms: u64,
        /// How long after a rotation the token it replaced may be presented again and
        /// answered with the same successor; 0 turns the grace off.
        grace_ms: u64,
    },
    /// Deletes the family (logout, or revocation): every refresh token of it dies.
    Revoke,
}

/// What a [`FamilyOp`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FamilyOutcome {
    /// [`FamilyOp::Start`]: the family exists.
    Started,
    /// The presented secret was current: its successor is now, and the presented one is dead.
    Rotated(SessionRecord),
    /// The presented secret was rotated less than the grace interval ago: nothing changed,
    /// and `current` is the secret of the successor it was rotated to (still live).
    Grace {
        /// The family's record.
        record: SessionRecord,
        /// The current secret: the successor of the one presented.
        current: String,
    },
    /// The presented secret is not current (an old token replayed, or a guess): the whole
    /// family has been deleted.
    Reused,
    /// No live family of that ID (never made, revoked, expired).
    Unknown,
    /// [`FamilyOp::Revoke`]: whether a live family was deleted.
    Revoked(bool),
}

/// A family as the in-process stores keep it (the networked stores keep the same fields
/// in a hash or a row).
#[derive(Debug, Clone)]
pub(crate) struct FamilyState {
    record: SessionRecord,
    current: String,
    previous: Option<(String, u64)>,
}

impl FamilyState {
    /// Applies `op` to the family of `id` in `map`, under whatever lock guards the map.
    pub(crate) fn apply(
        map: &mut HashMap<String, FamilyState>,
        id: &str,
        op: FamilyOp<'_>,
    ) -> FamilyOutcome {
        match op {
            FamilyOp::Start { record, secret } => {
                map.insert(
                    id.to_owned(),
                    FamilyState {
                        record: record.clone(),
                        current: secret.to_owned(),
                        previous: None,
                    },
                );
                FamilyOutcome::Started
            }
            FamilyOp::Revoke => FamilyOutcome::Revoked(map.remove(id).is_some()),
            FamilyOp::Rotate {
                secret,
                successor,
                now_ms,
                grace_ms,
            } => {
                let Some(state) = map.get_mut(id) else {
                    return FamilyOutcome::Unknown;
                };
                let outcome = state.rotate(secret, successor, now_ms, grace_ms);
                if matches!(outcome, FamilyOutcome::Reused | FamilyOutcome::Unknown) {
                    map.remove(id);
                }
                outcome
            }
        }
    }

    /// The rotation rules of the module's table on this one family; the caller deletes
    /// the family on `Reused` or `Unknown` (expired).
    fn rotate(
        &mut self,
        secret: &str,
        successor: &str,
        now_ms: u64,
        grace_ms: u64,
    ) -> FamilyOutcome {
        if now_ms >= self.record.absolute_deadline_ms {
            return FamilyOutcome::Unknown;
        }
        if secrets_equal(secret, &self.current) {
            let old = std::mem::replace(&mut self.current, successor.to_owned());
            self.previous = Some((old, now_ms));
            return FamilyOutcome::Rotated(self.record.clone());
        }
        match &self.previous {
            Some((previous, at))
                if secrets_equal(secret, previous) && in_grace(now_ms, *at, grace_ms) =>
            {
                FamilyOutcome::Grace {
                    record: self.record.clone(),
                    current: self.current.clone(),
                }
            }
            _ => FamilyOutcome::Reused,
        }
    }
}

/// True when a token rotated at `rotated_ms` and presented again at `now_ms` is within the
/// grace: never when the grace is 0 (a second presentation stamped before the rotation, by
/// another node's earlier clock read, is a reuse too), else before `rotated_ms + grace_ms`.
pub(crate) fn in_grace(now_ms: u64, rotated_ms: u64, grace_ms: u64) -> bool {
    grace_ms > 0 && now_ms < rotated_ms.saturating_add(grace_ms)
}

/// Secrets compared in constant time (for equal lengths).
pub(crate) fn secrets_equal(a: &str, b: &str) -> bool {
    a.as_bytes().ct_eq(b.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::claims::ClaimSet;

    fn record(deadline: u64) -> SessionRecord {
        SessionRecord {
            claims: Arc::new(ClaimSet::Typical.claims("u")),
            created_ms: 0,
            last_seen_ms: 0,
            idle_deadline_ms: deadline,
            absolute_deadline_ms: deadline,
            csrf_token: "c".into(),
        }
    }

    fn rotate(map: &mut HashMap<String, FamilyState>, s: &str, n: &str, now: u64) -> FamilyOutcome {
        let op = FamilyOp::Rotate {
            secret: s,
            successor: n,
            now_ms: now,
            grace_ms: 100,
        };
        FamilyState::apply(map, "f", op)
    }

    #[test]
    fn the_table_of_the_module_holds() {
        let mut map = HashMap::new();
        let r = record(10_000);
        let start = FamilyOp::Start {
            record: &r,
            secret: "a",
        };
        assert_eq!(
            FamilyState::apply(&mut map, "f", start),
            FamilyOutcome::Started
        );
        assert_eq!(
            rotate(&mut map, "a", "b", 1000),
            FamilyOutcome::Rotated(r.clone())
        );
        // The retry within the grace gets the same successor, and changes nothing.
        let grace = FamilyOutcome::Grace {
            record: r.clone(),
            current: "b".into(),
        };
        assert_eq!(rotate(&mut map, "a", "x", 1099), grace);
        assert_eq!(
            rotate(&mut map, "b", "c", 1099),
            FamilyOutcome::Rotated(r.clone())
        );
        // "a" is two rotations old: reuse, and the family is gone.
        assert_eq!(rotate(&mut map, "a", "y", 1100), FamilyOutcome::Reused);
        assert_eq!(rotate(&mut map, "c", "d", 1101), FamilyOutcome::Unknown);
        // After the grace, the previous secret is a reuse too; past the deadline, nothing lives.
        FamilyState::apply(&mut map, "f", start);
        rotate(&mut map, "a", "b", 1000);
        assert_eq!(rotate(&mut map, "a", "z", 1100), FamilyOutcome::Reused);
        FamilyState::apply(&mut map, "f", start);
        assert_eq!(rotate(&mut map, "a", "b", 10_000), FamilyOutcome::Unknown);
        assert!(map.is_empty());
        assert_eq!(
            FamilyState::apply(&mut map, "f", FamilyOp::Revoke),
            FamilyOutcome::Revoked(false)
        );
    }
}
