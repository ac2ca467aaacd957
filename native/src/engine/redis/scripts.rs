//! The Lua scripts that make each engine operation one atomic step in Redis, and the keys they
//! touch. A room's keys share one hash tag (`{room}`), so a Redis Cluster would keep them on one
//! shard.
//!
//! | key | type | what |
//! |---|---|---|
//! | `P:{room}:epoch` | string | the room's numbering; created by the first join or publish |
//! | `P:{room}:seq` | string | the last seq given (INCR) |
//! | `P:{room}:history` | stream | stored messages, entry id `seq-0`, field `m` = the message's JSON |
//! | `P:{room}:members` | hash | session → member JSON, every node's members |
//! | `P:{room}:expiry` | sorted set | session → when its entry expires (ms, Redis's clock) |
//! | `P:{room}:id:HASH:ID` | string | `seq:bodyhash` of a publish with an id (de-duplication) |
//! | `P:rooms` | sorted set | every room's name (score 0: sorted by name), for the room list; a name whose epoch expired is dropped when listed |
//! | `P:{room}` | channel | `m\n{seq}\n{json}` messages, `p\n{node}\n{join|leave}\n{member}` presence |
//!
//! epoch and seq expire together, `meta_ttl` after the last publish, join or refresh: then the
//! room starts again under a new epoch (as an idle room the memory engine forgot). history
//! and de-duplication keys expire with the history's age; presence with the presence TTL.

use redis::Script;

/// Removes members whose entries expired (Redis's clock) and announces them (`node` `-`).
const EXPIRE_MEMBERS: &str = r"
local function expire_members(members, expiry, now, channel)
  local dead = redis.call('ZRANGEBYSCORE', expiry, '-inf', now)
  for _, session in ipairs(dead) do
    local member = redis.call('HGET', members, session)
    redis.call('HDEL', members, session)
    if member then redis.call('PUBLISH', channel, 'p\n-\nleave\n' .. member) end
  end
  if #dead > 0 then redis.call('ZREMRANGEBYSCORE', expiry, '-inf', now) end
end
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
-- A room with no epoch starts a new numbering: from seq 1, with no history.
local function epoch_of(epoch_key, seq_key, history_key, candidate, meta_ttl)
  local epoch = redis.call('GET', epoch_key)
  if not epoch then
    epoch = candidate
    redis.call('SET', epoch_key, epoch, 'PX', meta_ttl)
    redis.call('DEL', seq_key, history_key)
  end
  return epoch
end
";

/// PUBLISH. KEYS: seq, epoch, history, id, rooms. ARGV: epoch candidate, message JSON (seq 0), body
/// hash ('' without an id), history length, history TTL ms, meta TTL ms, channel, room.
/// Returns {seq, duplicate, reused, epoch}.
const PUBLISH: &str = r"
local epoch = epoch_of(KEYS[2], KEYS[1], KEYS[3], ARGV[1], ARGV[6])
redis.call('ZADD', KEYS[5], 0, ARGV[8])
if ARGV[3] ~= '' then
  local seen = redis.call('GET', KEYS[4])
  if seen then
    local at = string.find(seen, ':', 1, true)
    local reused = 0
    if string.sub(seen, at + 1) ~= ARGV[3] then reused = 1 end
    return {tonumber(string.sub(seen, 1, at - 1)), 1, reused, epoch}
  end
end
local seq = redis.call('INCR', KEYS[1])
redis.call('PEXPIRE', KEYS[1], ARGV[6])
redis.call('PEXPIRE', KEYS[2], ARGV[6])
if tonumber(ARGV[4]) > 0 then
  redis.call('XADD', KEYS[3], 'MAXLEN', ARGV[4], seq .. '-0', 'm', ARGV[2])
  redis.call('PEXPIRE', KEYS[3], ARGV[5])
  if ARGV[3] ~= '' then redis.call('SET', KEYS[4], seq .. ':' .. ARGV[3], 'PX', ARGV[5]) end
end
redis.call('PUBLISH', ARGV[7], 'm\n' .. seq .. '\n' .. ARGV[2])
return {seq, 0, 0, epoch}
";

/// JOIN. KEYS: epoch, seq, history, members, expiry, rooms. ARGV: epoch candidate, session,
/// member JSON, presence TTL ms, load ('1': return the history), meta TTL ms, channel, node,
/// list limit, room.
/// Returns {epoch, seq, members (JSON), history ('seq\njson')}.
const JOIN: &str = r"
local epoch = epoch_of(KEYS[1], KEYS[2], KEYS[3], ARGV[1], ARGV[6])
redis.call('ZADD', KEYS[6], 0, ARGV[10])
redis.call('PEXPIRE', KEYS[1], ARGV[6])
redis.call('PEXPIRE', KEYS[2], ARGV[6])
local seq = tonumber(redis.call('GET', KEYS[2]) or '0')
local now = now_ms()
expire_members(KEYS[4], KEYS[5], now, ARGV[7])
local added = redis.call('HSET', KEYS[4], ARGV[2], ARGV[3])
redis.call('ZADD', KEYS[5], now + tonumber(ARGV[4]), ARGV[2])
redis.call('PEXPIRE', KEYS[4], ARGV[4])
redis.call('PEXPIRE', KEYS[5], ARGV[4])
if added == 1 then redis.call('PUBLISH', ARGV[7], 'p\n' .. ARGV[8] .. '\njoin\n' .. ARGV[3]) end
local limit = tonumber(ARGV[9])
local members = {}
if redis.call('HLEN', KEYS[4]) <= limit then
  members = redis.call('HVALS', KEYS[4])
else
  local cursor = '0'
  repeat
    local page = redis.call('HSCAN', KEYS[4], cursor, 'COUNT', limit)
    cursor = page[1]
    for i = 2, #page[2], 2 do
      if #members < limit then members[#members + 1] = page[2][i] end
    end
  until cursor == '0' or #members >= limit
end
local history = {}
if ARGV[5] == '1' then
  for _, entry in ipairs(redis.call('XRANGE', KEYS[3], '-', '+')) do
    local id = entry[1]
    history[#history + 1] = string.sub(id, 1, string.find(id, '-', 1, true) - 1) .. '\n' .. entry[2][2]
  end
end
return {epoch, seq, members, history}
";

/// LEAVE. KEYS: members, expiry. ARGV: session, channel, node. Returns 1 if it was a member.
const LEAVE: &str = r"
local member = redis.call('HGET', KEYS[1], ARGV[1])
if not member then return 0 end
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('PUBLISH', ARGV[2], 'p\n' .. ARGV[3] .. '\nleave\n' .. member)
return 1
";

/// REFRESH (a node's members of one room, every third of the presence TTL). KEYS: members,
/// expiry, epoch, seq. ARGV: presence TTL ms, meta TTL ms, channel, then session and member
/// JSON pairs. Entries are written again, so members come back after Redis lost them.
const REFRESH: &str = r"
local now = now_ms()
local ttl = tonumber(ARGV[1])
for i = 4, #ARGV, 2 do
  redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
  redis.call('ZADD', KEYS[2], now + ttl, ARGV[i])
end
redis.call('PEXPIRE', KEYS[1], ttl)
redis.call('PEXPIRE', KEYS[2], ttl)
redis.call('PEXPIRE', KEYS[3], ARGV[2])
redis.call('PEXPIRE', KEYS[4], ARGV[2])
expire_members(KEYS[1], KEYS[2], now, ARGV[3])
return 0
";

/// HISTORY. KEYS: epoch, seq, history. ARGV: since, limit, the reader's epoch ('' if none).
/// Returns {epoch ('' if the room has none), seq, reset, messages ('seq\njson')}: `reset` when
/// `since` counts in another numbering (another epoch, or above the seq), and then the
/// messages start at the room's start.
const HISTORY: &str = r"
local epoch = redis.call('GET', KEYS[1])
local since = tonumber(ARGV[1])
if not epoch then
  local reset = 0
  if ARGV[3] ~= '' or since > 0 then reset = 1 end
  return {'', 0, reset, {}}
end
local seq = tonumber(redis.call('GET', KEYS[2]) or '0')
local reset = 0
if (ARGV[3] ~= '' and ARGV[3] ~= epoch) or since > seq then
  reset = 1
  since = 0
end
local messages = {}
for _, entry in ipairs(redis.call('XRANGE', KEYS[3], since + 1, '+', 'COUNT', ARGV[2])) do
  local id = entry[1]
  messages[#messages + 1] = string.sub(id, 1, string.find(id, '-', 1, true) - 1) .. '\n' .. entry[2][2]
end
return {epoch, seq, reset, messages}
";

/// The engine's scripts, loaded once (invoked by SHA; sent again if Redis forgot them).
pub(super) struct Scripts {
    pub(super) publish: Script,
    pub(super) join: Script,
    pub(super) leave: Script,
    pub(super) refresh: Script,
    pub(super) history: Script,
}

impl Scripts {
    pub(super) fn new() -> Self {
        let with_helpers = |body: &str| Script::new(&format!("{EXPIRE_MEMBERS}{body}"));
        Scripts {
            publish: with_helpers(PUBLISH),
            join: with_helpers(JOIN),
            leave: Script::new(LEAVE),
            refresh: with_helpers(REFRESH),
            history: Script::new(HISTORY),
        }
    }
}

/// A room's keys and channel under `prefix`.
#[derive(Clone, Debug)]
pub(super) struct Keys {
    pub(super) epoch: String,
    pub(super) seq: String,
    pub(super) history: String,
    pub(super) members: String,
    pub(super) expiry: String,
    pub(super) channel: String,
    /// Every room's name (not the room's own: one key for the deployment).
    pub(super) rooms: String,
}

impl Keys {
    pub(super) fn new(prefix: &str, room: &str) -> Self {
        let base = format!("{prefix}:{{{room}}}");
        Keys {
            epoch: format!("{base}:epoch"),
            seq: format!("{base}:seq"),
            history: format!("{base}:history"),
            members: format!("{base}:members"),
            expiry: format!("{base}:expiry"),
            channel: base,
            rooms: format!("{prefix}:rooms"),
        }
    }

    /// The de-duplication key of publish `id` from the client whose key hashes to `client`.
    pub(super) fn id(&self, client: &str, id: u64) -> String {
        format!("{}:id:{client}:{id}", self.channel)
    }
}
