/**
 * The scripts that change a message's state or remove it: update, retry,
 * remove and retention. Each keeps the indexes (`due`, `waiting`) and the
 * counters (`depth`, `shape`) in step with the record in the same atomic
 * step. Destination domains come from the caller (lower-cased as
 * `domainOf` does it, which Lua's ASCII-only `string.lower` would not match).
 */
import { LUA_COMMON, LuaScript } from './lua.js';

/**
 * KEYS: msg, body, due, waiting, owners, depth, shape
 * ARGV: id, retentionMs, history limit, then per recipient 10 values:
 *       recipient, domain, status, attempts, nextAttemptAt, updatedAt, has-last-response (0|1), last response,
 *       history note ('' for none), delay notice time ('' for none)
 *
 * Applies the updates (unknown recipients ignored) and counts recipients that
 * start or stop waiting. A claim is not ended; an unclaimed message's `due`
 * score follows its earliest waiting next attempt. A finished message (and
 * its body) gets an expiry of the retention period. A note joins the
 * recipient's history (`h:<recipient>`, one JSON note per line), whose oldest
 * lines go beyond the limit. Returns { HGETALL of the
 * hash, 1 if the message went back into \`due\` (else 0) }.
 */
export const updateScript = new LuaScript(`${LUA_COMMON}
local msg, body, due, waitingKey, owners, depth, shape = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7]
local id, retention, limit = ARGV[1], ARGV[2], tonumber(ARGV[3])
if redis.call('EXISTS', msg) == 0 then return redis.error_reply('ERR unknown message ' .. id) end
local receivedAt = redis.call('HGET', msg, 't')
local function noted(history, note)
  local text = history and (history .. '\\n' .. note) or note
  local _, lines = string.gsub(text, '\\n', '')
  for _ = 1, lines + 1 - limit do text = string.sub(text, string.find(text, '\\n', 1, true) + 1) end
  return text
end
for i = 4, #ARGV, 10 do
  local r, domain, status = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  local old = redis.call('HGET', msg, 's:' .. r)
  if old then
    redis.call('HSET', msg, 's:' .. r, status, 'a:' .. r, ARGV[i + 3], 'n:' .. r, ARGV[i + 4], 'u:' .. r, ARGV[i + 5])
    if ARGV[i + 6] == '1' then redis.call('HSET', msg, 'l:' .. r, ARGV[i + 7]) end
    if ARGV[i + 8] ~= '' then redis.call('HSET', msg, 'h:' .. r, noted(redis.call('HGET', msg, 'h:' .. r), ARGV[i + 8])) end
    if ARGV[i + 9] ~= '' then redis.call('HSET', msg, 'w:' .. r, ARGV[i + 9]) end
    if waiting(old) ~= waiting(status) then
      local by = waiting(status) and 1 or -1
      redis.call('INCRBY', depth, by)
      bump(shape, shapeField(domain, receivedAt), by)
    end
  end
end
local fields = redis.call('HGETALL', msg)
local count, best = waitingOf(toMap(fields))
local requeued = 0
if count > 0 then
  redis.call('ZADD', waitingKey, receivedAt, id)
  if not redis.call('HGET', owners, id) then
    redis.call('ZADD', due, num(best), id)
    requeued = 1
  end
  redis.call('PERSIST', msg)
  redis.call('PERSIST', body)
else
  redis.call('ZREM', waitingKey, id)
  redis.call('ZREM', due, id)
  redis.call('PEXPIRE', msg, retention)
  redis.call('PEXPIRE', body, retention)
end
return { fields, requeued }
`);

/**
 * KEYS: msg, due, owners   ARGV: id, now
 * Makes one unclaimed message's waiting recipients due at `now` (a claimed
 * one is being attempted: left alone). Returns how many recipients moved.
 */
export const retryOneScript = new LuaScript(`${LUA_COMMON}
local msg, due, owners = KEYS[1], KEYS[2], KEYS[3]
local id, now = ARGV[1], ARGV[2]
if redis.call('HGET', owners, id) then return 0 end
local map = toMap(redis.call('HGETALL', msg))
local changed = dueNow(msg, map, now)
if waitingOf(map) > 0 then redis.call('ZADD', due, now, id) end
return changed
`);

/**
 * KEYS: due   ARGV: now, msgPrefix, batch, pass ('due' | 'later'), offset
 * One batch of retry-all. The 'due' pass walks messages already due (score
 * <= now, from `offset`), whose other recipients may wait for later; the
 * 'later' pass takes the next `batch` messages with a future score and moves
 * them to `now`, so the next batch starts past them. Claimed messages are not
 * in `due` and stay as they are. Returns { messages looked at, recipients moved }.
 */
export const retryBatchScript = new LuaScript(`${LUA_COMMON}
local due, now, msgPrefix, batch, pass = KEYS[1], ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4]
local ids
if pass == 'due' then
  ids = redis.call('ZRANGEBYSCORE', due, '-inf', now, 'LIMIT', tonumber(ARGV[5]), batch)
else
  ids = redis.call('ZRANGEBYSCORE', due, '(' .. now, '+inf', 'LIMIT', 0, batch)
end
local changed = 0
for _, id in ipairs(ids) do
  local key = msgPrefix .. id
  local map = toMap(redis.call('HGETALL', key))
  if waitingOf(map) == 0 then
    redis.call('ZREM', due, id)
  else
    changed = changed + dueNow(key, map, now)
    if pass ~= 'due' then redis.call('ZADD', due, now, id) end
  end
end
return { #ids, changed }
`);

/**
 * KEYS: msg, body, messages, due, waiting, claims, owners, depth, shape
 * ARGV: id, heldPrefix, then per recipient: recipient, domain
 * Removes a message, its body, its claim and every index entry, and takes
 * its waiting recipients off the counters. Returns 1 if it existed.
 */
export const removeScript = new LuaScript(`${LUA_COMMON}
local msg, body, messages, due, waitingKey, claims, owners, depth, shape = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7], KEYS[8], KEYS[9]
local id, heldPrefix = ARGV[1], ARGV[2]
local existed = redis.call('EXISTS', msg)
if existed == 1 then
  local receivedAt = redis.call('HGET', msg, 't')
  for i = 3, #ARGV, 2 do
    if waiting(redis.call('HGET', msg, 's:' .. ARGV[i])) then
      redis.call('DECRBY', depth, 1)
      bump(shape, shapeField(ARGV[i + 1], receivedAt), -1)
    end
  end
end
redis.call('DEL', msg, body)
redis.call('ZREM', messages, id)
redis.call('ZREM', due, id)
redis.call('ZREM', waitingKey, id)
unclaim(claims, owners, heldPrefix, id)
return existed
`);

/**
 * KEYS: messages, due, waiting, claims, owners
 * ARGV: before, limit, msgPrefix, bodyPrefix, heldPrefix, id…
 * Retention over one page of `messages`: removes, up to `limit`, the listed
 * messages whose recipients are all finished and whose last update (latest
 * `u:<r>`, or receivedAt) is before `before`. Ids whose hash already expired
 * are dropped from `messages` and not counted. Finished messages are on no
 * counter, so none changes. Returns { removed, ids looked at }.
 */
export const expireScript = new LuaScript(`${LUA_COMMON}
local messages, due, waitingKey, claims, owners = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local before, limit = tonumber(ARGV[1]), tonumber(ARGV[2])
local msgPrefix, bodyPrefix, heldPrefix = ARGV[3], ARGV[4], ARGV[5]
local removed, looked = 0, 0
for i = 6, #ARGV do
  if removed >= limit then break end
  looked = looked + 1
  local id = ARGV[i]
  local map = toMap(redis.call('HGETALL', msgPrefix .. id))
  local gone = map['t'] == nil
  local expired = false
  if not gone and waitingOf(map) == 0 then
    local last = tonumber(map['t']) or 0
    for f, v in pairs(map) do
      if string.sub(f, 1, 2) == 'u:' then last = math.max(last, tonumber(v) or 0) end
    end
    expired = last < before
  end
  if gone or expired then
    redis.call('DEL', msgPrefix .. id, bodyPrefix .. id)
    redis.call('ZREM', messages, id)
    redis.call('ZREM', due, id)
    redis.call('ZREM', waitingKey, id)
    unclaim(claims, owners, heldPrefix, id)
    if expired then removed = removed + 1 end
  end
end
return { removed, looked }
`);
