//! The Lua scripts that make `touch` and `rename` atomic on one Redis server.

/// Error code a script raises when the stored value is not a session record.
pub(super) const CORRUPT_CODE: &str = "TOKENBENCH_CORRUPT";

/// KEYS[1] = session key; ARGV[1] = last_seen_ms; ARGV[2] = idle_deadline_ms.
/// Returns 0 when the key does not exist (never creates it), 1 after the update.
/// Claims only hold strings, so the two top-level numeric fields are the only places where
/// `"last_seen_ms":<digits>` and `"idle_deadline_ms":<digits>` can occur in serde_json's
/// output (a quote inside a string is escaped as `\"`); anything else is reported corrupt.
pub(super) const TOUCH_LUA: &str = r#"
local v = redis.call('GET', KEYS[1])
if not v then return 0 end
local n1, n2
v, n1 = string.gsub(v, '"last_seen_ms":%d+', '"last_seen_ms":' .. ARGV[1])
v, n2 = string.gsub(v, '"idle_deadline_ms":%d+', '"idle_deadline_ms":' .. ARGV[2])
if n1 ~= 1 or n2 ~= 1 then
  return redis.error_reply('TOKENBENCH_CORRUPT session record without a unique last_seen_ms/idle_deadline_ms')
end
redis.call('SET', KEYS[1], v, 'KEEPTTL')
return 1
"#;

/// KEYS[1] = old key; KEYS[2] = new key; ARGV[1] = the value read from old;
/// ARGV[2] = the updated value; ARGV[3] = PXAT of the new key.
/// Returns `{1, nil}` when moved, `{0, nil}` when old is gone, and `{-1, current}` when old
/// changed since it was read (so the retry needs no second `GET`).
///
/// A change made only by `touch` (the two fields of `TOUCH_LUA`) is not a conflict: the move
/// goes ahead with a three-way merge, so the result is what applying the update to the
/// touched record gives. A touch field the update set keeps the update's value; one it left
/// alone takes the touched value. Without this, a session touched by every request could
/// starve its own rotation.
pub(super) const RENAME_LUA: &str = r#"
local LAST = '"last_seen_ms":'
local IDLE = '"idle_deadline_ms":'
local function touched(s)
  return string.match(s, LAST .. '(%d+)'), string.match(s, IDLE .. '(%d+)')
end
local function untouched(s)
  s = string.gsub(s, LAST .. '%d+', LAST .. '0')
  s = string.gsub(s, IDLE .. '%d+', IDLE .. '0')
  return s
end
local v = redis.call('GET', KEYS[1])
if not v then return {0, false} end
local out = ARGV[2]
if v ~= ARGV[1] then
  if untouched(v) ~= untouched(ARGV[1]) then return {-1, v} end
  local read_last, read_idle = touched(ARGV[1])
  local now_last, now_idle = touched(v)
  local out_last, out_idle = touched(out)
  if out_last == read_last then out = string.gsub(out, LAST .. '%d+', LAST .. now_last) end
  if out_idle == read_idle then out = string.gsub(out, IDLE .. '%d+', IDLE .. now_idle) end
end
redis.call('SET', KEYS[2], out, 'PXAT', ARGV[3])
if KEYS[1] ~= KEYS[2] then redis.call('DEL', KEYS[1]) end
return {1, false}
"#;

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::super::record::encode;
    use crate::claims::ClaimSet;
    use crate::store::SessionRecord;

    fn record(set: ClaimSet) -> SessionRecord {
        SessionRecord {
            claims: Arc::new(set.claims("last_seen_ms\":1,\"idle_deadline_ms\":2")),
            created_ms: 1,
            last_seen_ms: u64::MAX,
            idle_deadline_ms: 1_700_000_000_000,
            absolute_deadline_ms: 4,
            csrf_token: "\"last_seen_ms\":3".into(),
        }
    }

    #[test]
    fn touch_script_fields_occur_exactly_once_as_numbers() {
        // The touch script relies on this shape of serde_json's output.
        for set in ClaimSet::ALL {
            let json = encode(&record(set)).expect("serializable");
            for field in ["\"last_seen_ms\":", "\"idle_deadline_ms\":"] {
                let numeric = json
                    .match_indices(field)
                    .filter(|(i, _)| {
                        json[i + field.len()..].starts_with(|c: char| c.is_ascii_digit())
                    })
                    .count();
                assert_eq!(numeric, 1, "{field} in {json}");
            }
        }
    }
}
