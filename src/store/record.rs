//! How a [`SessionRecord`] is written where a networked store keeps it (a Redis string, a
//! PostgreSQL `bytea`): one compact binary layout, version 1.
//!
//! ```text
//! offset  size  field
//!      0     1  version (1)
//!      1     8  created_ms            u64, big-endian
//!      9     8  last_seen_ms          u64, big-endian   } what a touch rewrites in place
//!     17     8  idle_deadline_ms      u64, big-endian   } ([`TOUCH_AT`], 16 bytes)
//!     25     8  absolute_deadline_ms  u64, big-endian
//!     33     …  csrf_token, user_id: each a length (LEB128) then UTF-8 bytes;
//!               roles: a count (LEB128), then each role as above;
//!               profile: a count, then each key and value as above, in key order.
//! ```
//!
//! The four times sit at fixed offsets, so a server rewrites `last_seen_ms` and
//! `idle_deadline_ms` without parsing anything (Redis's Lua scripts with `SETRANGE`,
//! PostgreSQL with `overlay(... placing int8send(...))`); big-endian keeps the byte order
//! that of the numbers. Sizes against the JSON record it replaced are in the README.
//!
//! Decoding is fail closed: anything that is not exactly a version-1 record (a JSON record
//! written by an older tokenbench, a truncated value, a length running past the end, bytes
//! left over, invalid UTF-8) is [`StoreError::Corrupt`] with the reason, never a panic; a
//! corrupt record is a refused credential.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::claims::Claims;
use crate::store::{SessionRecord, SessionView, StoreError, StoreResult};

/// First byte of a version-1 record. JSON records (the format before) start with `{`.
pub(crate) const VERSION: u8 = 1;

/// Bytes before the variable part: the version and the four times.
pub(crate) const HEADER: usize = 33;

/// The record as stored.
pub(crate) fn encode(record: &SessionRecord) -> Vec<u8> {
    let c = &record.claims;
    let strings = record.csrf_token.len()
        + c.user_id.len()
        + c.roles.iter().map(String::len).sum::<usize>()
        + c.profile
            .iter()
            .map(|(k, v)| k.len() + v.len())
            .sum::<usize>();
    let mut out =
        Vec::with_capacity(HEADER + strings + 4 * (3 + c.roles.len() + 2 * c.profile.len()));
    out.push(VERSION);
    for t in [
        record.created_ms,
        record.last_seen_ms,
        record.idle_deadline_ms,
        record.absolute_deadline_ms,
    ] {
        out.extend_from_slice(&t.to_be_bytes());
    }
    put_str(&mut out, &record.csrf_token);
    put_str(&mut out, &c.user_id);
    put_len(&mut out, c.roles.len());
    for role in &c.roles {
        put_str(&mut out, role);
    }
    put_len(&mut out, c.profile.len());
    for (k, v) in &c.profile {
        put_str(&mut out, k);
        put_str(&mut out, v);
    }
    out
}

/// Offset of `last_seen_ms`, followed by `idle_deadline_ms`: the 16 bytes a touch rewrites.
pub(crate) const TOUCH_AT: usize = 9;

/// `last_seen_ms` then `idle_deadline_ms` as stored: the 16 bytes a touch writes at
/// [`TOUCH_AT`].
pub(crate) fn touch_bytes(last_seen_ms: u64, idle_deadline_ms: u64) -> [u8; 16] {
    let mut out = [0; 16];
    out[..8].copy_from_slice(&last_seen_ms.to_be_bytes());
    out[8..].copy_from_slice(&idle_deadline_ms.to_be_bytes());
    out
}

/// The record stored for session `id`, or why `bytes` is not one.
pub(crate) fn decode(id: &str, bytes: &[u8]) -> StoreResult<SessionRecord> {
    let mut r = Reader::new(id, bytes)?;
    let (created_ms, last_seen_ms, idle_deadline_ms, absolute_deadline_ms) = r.times();
    let csrf_token: Arc<str> = r.str()?.into();
    let claims = r.claims()?;
    r.end()?;
    Ok(SessionRecord {
        claims: Arc::new(claims),
        created_ms,
        last_seen_ms,
        idle_deadline_ms,
        absolute_deadline_ms,
        csrf_token,
    })
}

/// What `validate` reads of the record stored for `id` (the CSRF token is checked, not
/// copied).
pub(crate) fn decode_view(id: &str, bytes: &[u8]) -> StoreResult<SessionView> {
    let mut r = Reader::new(id, bytes)?;
    let (_, _, idle_deadline_ms, absolute_deadline_ms) = r.times();
    r.str()?;
    let claims = r.claims()?;
    r.end()?;
    Ok(SessionView {
        claims: Arc::new(claims),
        idle_deadline_ms,
        absolute_deadline_ms,
    })
}

fn put_len(out: &mut Vec<u8>, mut n: usize) {
    while n >= 0x80 {
        out.push((n as u8 & 0x7f) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    put_len(out, s.len());
    out.extend_from_slice(s.as_bytes());
}

/// A cursor over a stored record; every read checks the bounds.
struct Reader<'a> {
    id: &'a str,
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    /// Checks the version and that the fixed header is there.
    fn new(id: &'a str, bytes: &'a [u8]) -> StoreResult<Self> {
        let r = Self {
            id,
            bytes,
            at: HEADER,
        };
        match bytes.first() {
            Some(&VERSION) if bytes.len() >= HEADER => Ok(r),
            Some(&VERSION) => Err(r.corrupt(&format!(
                "{} bytes, shorter than the {HEADER}-byte header",
                bytes.len()
            ))),
            Some(b'{') => Err(r.corrupt("a JSON record of an older tokenbench (log in again)")),
            Some(v) => Err(r.corrupt(&format!("unknown record version {v}"))),
            None => Err(r.corrupt("an empty value")),
        }
    }

    fn corrupt(&self, why: &str) -> StoreError {
        StoreError::Corrupt(format!(
            "session {:?} holds no valid record: {why}",
            self.id
        ))
    }

    /// The four times of the header.
    fn times(&self) -> (u64, u64, u64, u64) {
        let at = |i: usize| {
            let mut b = [0; 8];
            b.copy_from_slice(&self.bytes[1 + 8 * i..9 + 8 * i]);
            u64::from_be_bytes(b)
        };
        (at(0), at(1), at(2), at(3))
    }

    fn len(&mut self) -> StoreResult<usize> {
        let mut n: usize = 0;
        for shift in (0..usize::BITS).step_by(7) {
            let Some(&b) = self.bytes.get(self.at) else {
                return Err(self.corrupt("a length runs past the end"));
            };
            self.at += 1;
            n |= usize::from(b & 0x7f).checked_shl(shift).unwrap_or(0);
            if b & 0x80 == 0 {
                return if n <= self.bytes.len() {
                    Ok(n)
                } else {
                    Err(self.corrupt("a length beyond the record"))
                };
            }
        }
        Err(self.corrupt("a length of more than 64 bits"))
    }

    fn str(&mut self) -> StoreResult<&'a str> {
        let n = self.len()?;
        let Some(raw) = self.bytes.get(self.at..self.at + n) else {
            return Err(self.corrupt("a string runs past the end"));
        };
        self.at += n;
        std::str::from_utf8(raw).map_err(|e| self.corrupt(&format!("a string is not UTF-8: {e}")))
    }

    fn claims(&mut self) -> StoreResult<Claims> {
        let user_id = self.str()?.to_owned();
        let roles = (0..self.len()?)
            .map(|_| self.str().map(str::to_owned))
            .collect::<StoreResult<Vec<_>>>()?;
        let mut profile = BTreeMap::new();
        for _ in 0..self.len()? {
            let (k, v) = (self.str()?, self.str()?);
            if profile.insert(k.to_owned(), v.to_owned()).is_some() {
                return Err(self.corrupt(&format!("profile key {k:?} twice")));
            }
        }
        Ok(Claims {
            user_id,
            roles,
            profile,
        })
    }

    fn end(&self) -> StoreResult<()> {
        if self.at == self.bytes.len() {
            Ok(())
        } else {
            Err(self.corrupt(&format!(
                "{} bytes after the record",
                self.bytes.len() - self.at
            )))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::claims::ClaimSet;

    fn record(set: ClaimSet) -> SessionRecord {
        SessionRecord {
            claims: Arc::new(set.claims("ünï \"user\"")),
            created_ms: 1,
            last_seen_ms: u64::MAX,
            idle_deadline_ms: 1_700_000_000_000,
            absolute_deadline_ms: 4,
            csrf_token: "tok\u{0}en".into(),
        }
    }

    #[test]
    fn every_claim_set_round_trips() {
        for set in ClaimSet::ALL {
            let r = record(set);
            let bytes = encode(&r);
            assert_eq!(decode("id", &bytes).unwrap(), r, "{set}");
            assert_eq!(decode_view("id", &bytes).unwrap(), r.view(), "{set}");
        }
        // A string of 200 bytes needs a two-byte length.
        let mut r = record(ClaimSet::Minimal);
        r.csrf_token = "x".repeat(200).into();
        assert_eq!(decode("id", &encode(&r)).unwrap(), r);
    }

    #[test]
    fn the_times_sit_where_the_scripts_read_them() {
        // `SETRANGE key 9` in the Redis scripts, `overlay(... from 10)` (1-based) in the
        // PostgreSQL statements: last_seen_ms, then idle_deadline_ms.
        const LAST_SEEN_AT: usize = TOUCH_AT;
        assert_eq!(TOUCH_AT, 9);
        let r = record(ClaimSet::Typical);
        let bytes = encode(&r);
        assert_eq!(bytes[0], VERSION);
        assert_eq!(
            bytes[LAST_SEEN_AT..LAST_SEEN_AT + 16],
            touch_bytes(r.last_seen_ms, r.idle_deadline_ms)
        );
        assert_eq!(bytes[25..HEADER], r.absolute_deadline_ms.to_be_bytes());
    }

    #[test]
    fn typical_record_is_smaller_than_its_json() {
        let r = record(ClaimSet::Typical);
        let json = serde_json::to_vec(&r).unwrap().len();
        let binary = encode(&r).len();
        assert!(
            binary * 10 < json * 7,
            "{binary} bytes against {json} of JSON"
        );
    }

    #[test]
    fn anything_but_a_whole_record_is_corrupt_never_a_panic() {
        let good = encode(&record(ClaimSet::Large));
        let json = serde_json::to_vec(&record(ClaimSet::Typical)).unwrap();
        let err = decode("s", &json).unwrap_err().to_string();
        assert!(err.contains("JSON record of an older tokenbench"), "{err}");
        // Every truncation, every extra byte, every single-byte change of the variable part.
        for n in 0..good.len() {
            assert!(
                matches!(decode("s", &good[..n]), Err(StoreError::Corrupt(_))),
                "{n} bytes"
            );
            assert!(decode_view("s", &good[..n]).is_err(), "{n} bytes");
        }
        let mut long = good.clone();
        long.push(0);
        let err = decode("s", &long).unwrap_err().to_string();
        assert!(err.contains("1 bytes after the record"), "{err}");
        for i in 0..good.len() {
            for b in [0x00, 0x7f, 0x80, 0xff] {
                let mut bad = good.clone();
                bad[i] = b;
                // Either still a record (a changed time or letter) or refused.
                let _ = decode("s", &bad);
            }
        }
        let mut v2 = good.clone();
        v2[0] = 2;
        assert!(
            decode("s", &v2)
                .unwrap_err()
                .to_string()
                .contains("version 2")
        );
        assert!(decode("s", b"").unwrap_err().to_string().contains("empty"));
        let mut utf8 = vec![VERSION];
        utf8.extend_from_slice(&[0; 32]);
        utf8.extend_from_slice(&[1, 0xff]);
        let mut dup = vec![VERSION];
        dup.extend_from_slice(&[0; 32]);
        dup.extend_from_slice(&[0, 1, b'u', 0, 2, 1, b'k', 0, 1, b'k', 0]);
        for (bad, why) in [(&utf8, "not UTF-8"), (&dup, "profile key \"k\" twice")] {
            let err = decode("s", bad).unwrap_err().to_string();
            assert!(err.contains(why), "{err}");
        }
        let mut huge = vec![VERSION];
        huge.extend_from_slice(&[0; 32]);
        huge.extend_from_slice(&[0xff; 11]);
        assert!(decode("s", &huge).is_err());
    }
}
