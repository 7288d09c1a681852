"""The Lua scripts of the Redis backends: each a step that must be atomic on Redis.

The cluster backend (server/hub/redis_cluster.py) runs the same scripts with `SPUBLISH` for
`PUBLISH` (RedisBackend._register_scripts).
"""

from __future__ import annotations

# Every room script gets KEYS[1] = the room prefix "{ns}:room:{code}:". The hash tag {code} puts
# all of a room's keys in one cluster slot, which is what lets a script reach the table keys it
# only learns from the room's `tables` set.
_REFRESH = """
local function refresh(p, ttl)
  for _, k in ipairs({'doc', 'ver', 'seq', 'presence', 'tables'}) do
    redis.call('PEXPIRE', p .. k, ttl)
  end
  for _, t in ipairs(redis.call('SMEMBERS', p .. 'tables')) do
    redis.call('PEXPIRE', p .. 't:' .. t, ttl)
  end
end
"""

# redis-py sends a command again when its reply timed out (a stall, not only a restart), and the
# first copy may still run once the bytes flow. So every write script treats "already done by an
# identical call" as done: the repeat returns what the first copy did, never "taken" or
# "duplicate" for a write of its own.

# A reused code must not inherit tables that outlived the previous room's document.
_CREATE = """
local p = KEYS[1]
if redis.call('EXISTS', p .. 'doc') == 1 then
  if redis.call('GET', p .. 'doc') == ARGV[1] and redis.call('GET', p .. 'ver') == '1' then
    return 1
  end
  return 0
end
for _, t in ipairs(redis.call('SMEMBERS', p .. 'tables')) do redis.call('DEL', p .. 't:' .. t) end
redis.call('DEL', p .. 'tables', p .. 'seq', p .. 'presence')
redis.call('SET', p .. 'doc', ARGV[1], 'PX', ARGV[2])
redis.call('SET', p .. 'ver', 1, 'PX', ARGV[2])
return 1
"""

# Backend.save_room and save_and_publish: ARGV = version, doc, ttl, then the channel, the table
# that must be empty and the message to publish once saved ('' for no channel: publish nothing),
# then (table, key, value) records. 0: not saved; 1: saved (or already saved by an identical
# call); 2: saved and published.
_SAVE = (
    _REFRESH
    + """
local p = KEYS[1]
local v = redis.call('GET', p .. 'ver')
if v and tonumber(v) == tonumber(ARGV[1]) + 1 and redis.call('GET', p .. 'doc') == ARGV[2] then
  return 1
end
if not v or tonumber(v) ~= tonumber(ARGV[1]) or redis.call('EXISTS', p .. 'doc') == 0 then
  return 0
end
redis.call('SET', p .. 'doc', ARGV[2])
redis.call('INCR', p .. 'ver')
for i = 7, #ARGV, 3 do
  redis.call('HSET', p .. 't:' .. ARGV[i], ARGV[i + 1], ARGV[i + 2])
  redis.call('SADD', p .. 'tables', ARGV[i])
end
refresh(p, ARGV[3])
if ARGV[4] ~= '' and redis.call('HLEN', p .. 't:' .. ARGV[5]) == 0 then
  redis.call('PUBLISH', ARGV[4], ARGV[6])
  return 2
end
return 1
"""
)

_TOUCH = (
    _REFRESH
    + """
local p = KEYS[1]
if redis.call('EXISTS', p .. 'doc') == 0 then return 0 end
refresh(p, ARGV[1])
return 1
"""
)

_BUMP = """
local p = KEYS[1]
if redis.call('EXISTS', p .. 'doc') == 0 then return 0 end
local n = redis.call('INCR', p .. 'seq')
redis.call('PEXPIRE', p .. 'seq', ARGV[1])
return n
"""

# A change (Backend.changed): the counter bumped and the change message published in one round
# trip. ARGV: ttl, channel, urgent ('1' or ''), table ('' for none, else '=' .. table). The
# message is the msgpack map the hub's change_message makes (cmsgpack is Redis's own Lua lib).
_CHANGED = """
local p = KEYS[1]
if redis.call('EXISTS', p .. 'doc') == 0 then return 0 end
local n = redis.call('INCR', p .. 'seq')
redis.call('PEXPIRE', p .. 'seq', ARGV[1])
local m = {seq = n}
if ARGV[3] == '1' then m['urgent'] = true end
if ARGV[4] ~= '' then m['table'] = string.sub(ARGV[4], 2) end
redis.call('PUBLISH', ARGV[2], cmsgpack.pack(m))
return n
"""

# Writes to a room that no longer exists are dropped (as in the memory backend), so a late
# answer cannot resurrect half a room after it expired.
_WRITE = """
local p = KEYS[1]
if redis.call('EXISTS', p .. 'doc') == 0 then return -1 end
local t = p .. 't:' .. ARGV[2]
if ARGV[1] == 'del' then return redis.call('HDEL', t, ARGV[3]) end
local r
if ARGV[1] == 'setnx' then
  r = redis.call('HSETNX', t, ARGV[3], ARGV[4])
  if r == 0 and redis.call('HGET', t, ARGV[3]) == ARGV[4] then r = 1 end
else
  r = redis.call('HSET', t, ARGV[3], ARGV[4])
end
redis.call('PEXPIRE', t, ARGV[5])
redis.call('SADD', p .. 'tables', ARGV[2])
redis.call('PEXPIRE', p .. 'tables', ARGV[5])
return r
"""

# A closing gate (Backend.replace_and_read): the record set, the value it replaced and the whole
# table of inputs it closed, in one step. ARGV: table, key, value, table to read ('' for none),
# ttl. Reply: {replaced or false, {field, value, ...}}. A repeat of the call (a client retry after
# a stall) finds its own record and returns that as the replaced one: the hub then has no older
# gate to put back if the command is refused after all, and the round stays closed.
_REPLACE_AND_READ = """
local p = KEYS[1]
if redis.call('EXISTS', p .. 'doc') == 0 then return {false, {}} end
local t = p .. 't:' .. ARGV[1]
local replaced = redis.call('HGET', t, ARGV[2])
redis.call('HSET', t, ARGV[2], ARGV[3])
redis.call('PEXPIRE', t, ARGV[5])
redis.call('SADD', p .. 'tables', ARGV[1])
redis.call('PEXPIRE', p .. 'tables', ARGV[5])
local rows = {}
if ARGV[4] ~= '' then rows = redis.call('HGETALL', p .. 't:' .. ARGV[4]) end
return {replaced, rows}
"""

# Many inputs of one room through one gate. ARGV: gate, ttl, then (table, key, value, overwrite)
# per input; one status per input.
_PUT_IF_OPEN = """
local p = KEYS[1]
local open = redis.call('HGET', p .. 't:meta', 'open') == ARGV[1]
  and redis.call('EXISTS', p .. 'doc') == 1
local out, tables = {}, {}
for i = 3, #ARGV, 4 do
  local t = p .. 't:' .. ARGV[i]
  local r
  if redis.call('HGET', t, ARGV[i + 1]) == ARGV[i + 2] then
    r = 'ok'
  elseif not open then
    r = 'closed'
  elseif ARGV[i + 3] == '1' then
    redis.call('HSET', t, ARGV[i + 1], ARGV[i + 2])
    r = 'ok'
  elseif redis.call('HSETNX', t, ARGV[i + 1], ARGV[i + 2]) == 0 then
    r = 'duplicate'
  else
    r = 'ok'
  end
  if r == 'ok' and open then tables[ARGV[i]] = true end
  out[#out + 1] = r
end
for name in pairs(tables) do
  redis.call('PEXPIRE', p .. 't:' .. name, ARGV[2])
  redis.call('SADD', p .. 'tables', name)
end
if next(tables) then redis.call('PEXPIRE', p .. 'tables', ARGV[2]) end
return out
"""

# A new player (Backend.enrol). ARGV: ttl, limit, token digest, id tag, the tables of names,
# tokens, players and devices, the socket (conn), this worker's id, the device digest, the
# channel and the message to announce the player on (both "" for none), then (name key, name)
# pairs in order of preference. Reply: {outcome, player, name, seq}.
_ENROL = """
local p = KEYS[1]
local ttl = ARGV[1]
local names, tokens, players = p .. 't:' .. ARGV[5], p .. 't:' .. ARGV[6], p .. 't:' .. ARGV[7]
if redis.call('EXISTS', p .. 'doc') == 0 then return {'gone', '', '', 0} end
local known = redis.call('HGET', tokens, ARGV[3])
if known then
  return {'ok', known, redis.call('HGET', players, known) or '',
          tonumber(redis.call('GET', p .. 'seq') or '0')}
end
if redis.call('HLEN', players) >= tonumber(ARGV[2]) then return {'full', '', '', 0} end
local n = redis.call('INCR', p .. 'seq')
redis.call('PEXPIRE', p .. 'seq', ttl)
local player = string.format('p%07d%s', n, ARGV[4])
for i = 14, #ARGV, 2 do
  if redis.call('HSETNX', names, ARGV[i], player) == 1 then
    redis.call('HSET', tokens, ARGV[3], player)
    redis.call('HSET', players, player, ARGV[i + 1])
    local written = {5, 6, 7}
    if ARGV[11] ~= '' then
      redis.call('HSET', p .. 't:' .. ARGV[8], player, ARGV[11])
      written[4] = 8
    end
    for _, j in ipairs(written) do
      redis.call('PEXPIRE', p .. 't:' .. ARGV[j], ttl)
      redis.call('SADD', p .. 'tables', ARGV[j])
    end
    redis.call('PEXPIRE', p .. 'tables', ttl)
    if ARGV[9] ~= '' then
      redis.call('HSET', p .. 'presence', player .. '|' .. ARGV[9], ARGV[10])
      redis.call('PEXPIRE', p .. 'presence', ttl)
    end
    if ARGV[12] ~= '' then redis.call('PUBLISH', ARGV[12], ARGV[13]) end
    return {'ok', player, ARGV[i + 1], n}
  end
end
return {'names_taken', '', '', n}
"""

# Many resumes of one room in one round trip: the document, and per token digest its player
# and that player's name (false, false for an unknown token).
_FOLLOW = """
local p = KEYS[1]
local out = {redis.call('GET', p .. 'doc'), redis.call('GET', p .. 'ver')}
local t, via = p .. 't:' .. ARGV[1], p .. 't:' .. ARGV[2]
for i = 3, #ARGV do
  local v = redis.call('HGET', t, ARGV[i])
  if v then
    out[#out + 1] = v
    out[#out + 1] = redis.call('HGET', via, v) or ''
  else
    out[#out + 1] = false
    out[#out + 1] = false
  end
end
return out
"""

# Many arrivals in one room in one round trip: presence fields, records set and deleted, the
# room touched. ARGV: ttl, worker id, #online, #put, then the presence fields, (table, key, value)
# triples and (table, key) pairs. A room that is gone gets nothing.
_ARRIVE = (
    _REFRESH
    + """
local p = KEYS[1]
if redis.call('EXISTS', p .. 'doc') == 0 then return 0 end
local n_online, n_put = tonumber(ARGV[3]), tonumber(ARGV[4])
local i = 5
for _ = 1, n_online do
  redis.call('HSET', p .. 'presence', ARGV[i], ARGV[2])
  i = i + 1
end
for _ = 1, n_put do
  redis.call('HSET', p .. 't:' .. ARGV[i], ARGV[i + 1], ARGV[i + 2])
  redis.call('SADD', p .. 'tables', ARGV[i])
  i = i + 3
end
while i <= #ARGV do
  redis.call('HDEL', p .. 't:' .. ARGV[i], ARGV[i + 1])
  i = i + 2
end
refresh(p, ARGV[1])
return 1
"""
)

# A deadline computed from version ARGV[3] of the room's document (KEYS[1] the due set, KEYS[2]
# the room's newest version scheduled from, in the due set's slot): ignored when a newer one was
# scheduled already; at ARGV[2] = 0 the room leaves the due set.
_SCHEDULE = """
local newest = tonumber(redis.call('GET', KEYS[2]) or '-1')
if tonumber(ARGV[3]) < newest then return 0 end
redis.call('SET', KEYS[2], ARGV[3], 'PX', ARGV[4])
if tonumber(ARGV[2]) == 0 then
  redis.call('ZREM', KEYS[1], ARGV[1])
else
  redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
end
return 1
"""

# Claiming re-arms the entry at now + lease in the same atomic step, so two workers never both
# get it, and a claimer that dies leaves it due again once the lease runs out.
# Returns {claimed codes, the earliest score left in the set (false: empty)}.
_CLAIM = """
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[3])
for _, code in ipairs(due) do redis.call('ZADD', KEYS[1], ARGV[2], code) end
local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return {due, first[2] or false}
"""


# name -> source, registered once per client (RedisBackend._register_scripts).
SCRIPTS = {
    "create": _CREATE,
    "save": _SAVE,
    "touch": _TOUCH,
    "bump": _BUMP,
    "changed": _CHANGED,
    "write": _WRITE,
    "replace_and_read": _REPLACE_AND_READ,
    "put_if_open": _PUT_IF_OPEN,
    "enrol": _ENROL,
    "claim": _CLAIM,
    "schedule": _SCHEDULE,
    "follow": _FOLLOW,
    "arrive": _ARRIVE,
}
