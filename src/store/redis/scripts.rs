//! The Lua scripts that make `touch`, sliding lookups and `rename` atomic on one Redis
//! server. They read the binary record (`record`) by fixed offsets only: Lua strings are
//! 1-based, so byte `i` of the record is `string.byte(v, i + 1)`; the version is byte 0, the
//! four big-endian times bytes 1..33 (`last_seen_ms` at 9, `idle_deadline_ms` at 17,
//! `absolute_deadline_ms` at 25).

/// Error code a script raises when the stored value is not a session record.
pub(super) const CORRUPT_CODE: &str = "TOKENBENCH_CORRUPT";

/// KEYS[1] = session key; ARGV[1] = `last_seen_ms` then `idle_deadline_ms`, 16 bytes as
/// stored. Returns 0 when the key does not exist (never creates it), 1 after the update;
/// a value that is not a version-1 record is reported corrupt. `SETRANGE` keeps the TTL.
pub(super) const TOUCH_LUA: &str = r#"
local v = redis.call('GET', KEYS[1])
if not v then return 0 end
if #v < 33 or string.byte(v, 1) ~= 1 then
  return redis.error_reply('TOKENBENCH_CORRUPT not a version-1 session record')
end
redis.call('SETRANGE', KEYS[1], 9, ARGV[1])
return 1
"#;

/// Sliding expiry in one round trip: KEYS[1] = session key; ARGV[1] = now (ms, decimal);
/// ARGV[2] = now as 8 stored bytes; ARGV[3] = the idle deadline asked for, 8 stored bytes;
/// ARGV[4] = the same deadline in decimal.
///
/// Returns the record as read (nil when there is none). When that record is live at now
/// (now before both deadlines), it is touched first: `last_seen_ms` = now, and
/// `idle_deadline_ms` = the deadline asked for, or the absolute deadline when that comes
/// sooner. A record that is not live, or not a version-1 record, is returned untouched for
/// the client to refuse. Lua numbers are doubles: times are exact up to 2^53 ms (year
/// 287 396), and comparisons stay monotonic beyond.
pub(super) const VIEW_TOUCH_LUA: &str = r#"
local v = redis.call('GET', KEYS[1])
if not v then return false end
if #v < 33 or string.byte(v, 1) ~= 1 then return v end
local function at(i)
  local n = 0
  for k = i + 1, i + 8 do n = n * 256 + string.byte(v, k) end
  return n
end
local now = tonumber(ARGV[1])
local absolute = at(25)
if now >= at(17) or now >= absolute then return v end
local idle = ARGV[3]
if tonumber(ARGV[4]) > absolute then idle = string.sub(v, 26, 33) end
redis.call('SETRANGE', KEYS[1], 9, ARGV[2] .. idle)
return v
"#;

/// KEYS[1] = old key; KEYS[2] = new key; ARGV[1] = the value read from old;
/// ARGV[2] = the updated value; ARGV[3] = PXAT of the new key.
/// Returns `{1, nil}` when moved, `{0, nil}` when old is gone, and `{-1, current}` when old
/// changed since it was read (so the retry needs no second `GET`).
///
/// A change made only by `touch` (bytes 9..25, the two fields of `TOUCH_LUA`) is not a
/// conflict: the move goes ahead with a three-way merge, so the result is what applying the
/// update to the touched record gives. A touch field the update set keeps the update's
/// value; one it left alone takes the touched value. Without this, a session touched by
/// every request could starve its own rotation. A current value that is not a version-1
/// record is returned as a conflict, and the client refuses it as corrupt.
pub(super) const RENAME_LUA: &str = r#"
local v = redis.call('GET', KEYS[1])
if not v then return {0, false} end
local read, out = ARGV[1], ARGV[2]
if v ~= read then
  local function rest(s) return string.sub(s, 1, 9) .. string.sub(s, 26) end
  if #v < 33 or string.byte(v, 1) ~= 1 or rest(v) ~= rest(read) then return {-1, v} end
  local last, idle = string.sub(out, 10, 17), string.sub(out, 18, 25)
  if last == string.sub(read, 10, 17) then last = string.sub(v, 10, 17) end
  if idle == string.sub(read, 18, 25) then idle = string.sub(v, 18, 25) end
  out = string.sub(out, 1, 9) .. last .. idle .. string.sub(out, 26)
end
redis.call('SET', KEYS[2], out, 'PXAT', ARGV[3])
if KEYS[1] ~= KEYS[2] then redis.call('DEL', KEYS[1]) end
return {1, false}
"#;

/// Starts a refresh family: KEYS[1] = family key; ARGV[1] = the binary record; ARGV[2] =
/// the first secret; ARGV[3] = PXAT (the record's absolute deadline). One hash per family
/// (`rec`, `cur`, and after a rotation `prev` and `at`), replacing any there.
pub(super) const FAMILY_START_LUA: &str = r#"
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'rec', ARGV[1], 'cur', ARGV[2])
redis.call('PEXPIREAT', KEYS[1], ARGV[3])
return 1
"#;

/// Rotates a refresh token with reuse detection (`store::family`'s table), in one step:
/// KEYS[1] = family key; ARGV[1] = the secret presented; ARGV[2] = its successor;
/// ARGV[3] = now (ms); ARGV[4] = the grace interval (ms; 0: none, whatever the times).
/// Returns `{code, record, current}`:
/// 0 no family (absent or past its `PXAT`), 1 rotated (with the record), 2 within the grace
/// (with the record and the current secret), 3 reused (the family is deleted).
pub(super) const FAMILY_ROTATE_LUA: &str = r#"
local f = redis.call('HMGET', KEYS[1], 'rec', 'cur', 'prev', 'at')
local rec, cur, prev, at = f[1], f[2], f[3], f[4]
if not rec or not cur then return {0, false, false} end
if ARGV[1] == cur then
  redis.call('HSET', KEYS[1], 'cur', ARGV[2], 'prev', cur, 'at', ARGV[3])
  return {1, rec, false}
end
local grace = tonumber(ARGV[4])
if prev and at and ARGV[1] == prev and grace > 0 and tonumber(ARGV[3]) < tonumber(at) + grace then
  return {2, rec, cur}
end
redis.call('DEL', KEYS[1])
return {3, false, false}
"#;
