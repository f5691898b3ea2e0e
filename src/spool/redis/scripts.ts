/**
 * The Redis spool's Lua scripts: each runs atomically, so a claim, an update
 * or a release is never seen half done by another daemon. Keys named in KEYS
 * are the fixed indexes; `msg:<id>` and `held:<node>` keys are built from the
 * prefixes passed in ARGV (one Redis, not Cluster). Node liveness uses the
 * Redis clock (`TIME`), so daemons' clocks need not agree on it; due times and
 * leases use the caller's `now`, like the file spool.
 */
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';

/** A script sent by SHA (EVALSHA), loaded with EVAL the first time Redis lacks it. */
export class LuaScript {
  private readonly sha: string;

  constructor(private readonly source: string) {
    this.sha = createHash('sha1').update(source).digest('hex');
  }

  async run(redis: Redis, keys: readonly string[], args: readonly (string | number)[]): Promise<unknown> {
    try {
      return await redis.evalsha(this.sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      return redis.eval(this.source, keys.length, ...keys, ...args);
    }
  }
}

const COMMON = `
local function split(m)
  local bar = string.find(m, '|', 1, true)
  return string.sub(m, 1, bar - 1), string.sub(m, bar + 1)
end
local function num(x) return string.format('%.0f', x) end
local function redisNow()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function waiting(status) return status == 'queued' or status == 'deferred' end
-- a waiting recipient goes back to 'due' at its next attempt time
local function requeue(due, msgPrefix, m)
  local id, r = split(m)
  local f = redis.call('HMGET', msgPrefix .. id, 's:' .. r, 'n:' .. r)
  if waiting(f[1]) then redis.call('ZADD', due, f[2], m) end
end
`;

/**
 * KEYS: due, claims, owners, nodes
 * ARGV: now, limit, lease expiry, node, heldPrefix, msgPrefix, nodeTtlMs
 * Heartbeats the caller, hands the claims of dead nodes back, then claims
 * recipients whose lease ran out and recipients due at `now`, in that order.
 * Returns [member, attempts, receivedAt, …].
 */
export const claimScript = new LuaScript(`${COMMON}
local due, claims, owners, nodes = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local now, limit, expiry, node = ARGV[1], tonumber(ARGV[2]), ARGV[3], ARGV[4]
local heldPrefix, msgPrefix, ttl = ARGV[5], ARGV[6], tonumber(ARGV[7])
local rnow = redisNow()
redis.call('ZADD', nodes, num(rnow + ttl), node)
for _, dead in ipairs(redis.call('ZRANGEBYSCORE', nodes, '-inf', '(' .. num(rnow))) do
  for _, m in ipairs(redis.call('SMEMBERS', heldPrefix .. dead)) do
    if redis.call('HGET', owners, m) == dead then
      redis.call('HDEL', owners, m)
      redis.call('ZREM', claims, m)
      requeue(due, msgPrefix, m)
    end
  end
  redis.call('DEL', heldPrefix .. dead)
  redis.call('ZREM', nodes, dead)
end
local out, count = {}, 0
local function take(m)
  local id, r = split(m)
  local f = redis.call('HMGET', msgPrefix .. id, 't', 's:' .. r, 'a:' .. r)
  local previous = redis.call('HGET', owners, m)
  if previous then redis.call('SREM', heldPrefix .. previous, m) end
  redis.call('ZREM', due, m)
  if not f[1] or not waiting(f[2]) then
    redis.call('ZREM', claims, m)
    redis.call('HDEL', owners, m)
    return
  end
  redis.call('ZADD', claims, expiry, m)
  redis.call('HSET', owners, m, node)
  redis.call('SADD', heldPrefix .. node, m)
  count = count + 1
  out[#out + 1] = m
  out[#out + 1] = f[3] or '0'
  out[#out + 1] = f[1]
end
for _, m in ipairs(redis.call('ZRANGEBYSCORE', claims, '-inf', now, 'LIMIT', 0, limit)) do take(m) end
if count < limit then
  for _, m in ipairs(redis.call('ZRANGEBYSCORE', due, '-inf', now, 'LIMIT', 0, limit - count)) do take(m) end
end
return out
`);

/**
 * KEYS: nodes   ARGV: node, nodeTtlMs
 * The liveness heartbeat: the node's claims stay its own while this runs.
 */
export const heartbeatScript = new LuaScript(`${COMMON}
redis.call('ZADD', KEYS[1], num(redisNow() + tonumber(ARGV[2])), ARGV[1])
return 1
`);

/**
 * KEYS: due, claims, owners   ARGV: node, heldPrefix, msgPrefix, member…
 * Gives back the listed claims this node still holds (another node's are left
 * alone). Returns how many.
 */
export const releaseScript = new LuaScript(`${COMMON}
local due, claims, owners = KEYS[1], KEYS[2], KEYS[3]
local node, held, msgPrefix = ARGV[1], ARGV[2] .. ARGV[1], ARGV[3]
local n = 0
for i = 4, #ARGV do
  local m = ARGV[i]
  if redis.call('HGET', owners, m) == node then
    redis.call('HDEL', owners, m)
    redis.call('SREM', held, m)
    redis.call('ZREM', claims, m)
    requeue(due, msgPrefix, m)
    n = n + 1
  end
end
return n
`);

/**
 * KEYS: msg, body, due, claims, owners
 * ARGV: id, heldPrefix, retentionMs, then per recipient 7 values:
 *       recipient, status, attempts, nextAttemptAt, updatedAt, has-last-response (0|1), last response
 * Applies the updates (unknown recipients ignored), ends their claims,
 * indexes waiting ones at their next attempt, and gives a finished message
 * (and its body) an expiry of the retention period. Returns the hash (HGETALL).
 */
export const updateScript = new LuaScript(`${COMMON}
local msg, body, due, claims, owners = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local id, heldPrefix, retention = ARGV[1], ARGV[2], ARGV[3]
if redis.call('EXISTS', msg) == 0 then return redis.error_reply('ERR unknown message ' .. id) end
for i = 4, #ARGV, 7 do
  local r, status, next = ARGV[i], ARGV[i + 1], ARGV[i + 3]
  if redis.call('HEXISTS', msg, 's:' .. r) == 1 then
    redis.call('HSET', msg, 's:' .. r, status, 'a:' .. r, ARGV[i + 2], 'n:' .. r, next, 'u:' .. r, ARGV[i + 4])
    if ARGV[i + 5] == '1' then redis.call('HSET', msg, 'l:' .. r, ARGV[i + 6]) end
    local m = id .. '|' .. r
    local owner = redis.call('HGET', owners, m)
    if owner then
      redis.call('HDEL', owners, m)
      redis.call('SREM', heldPrefix .. owner, m)
    end
    redis.call('ZREM', claims, m)
    if waiting(status) then redis.call('ZADD', due, next, m) else redis.call('ZREM', due, m) end
  end
end
local fields = redis.call('HGETALL', msg)
local open = false
for j = 1, #fields, 2 do
  if string.sub(fields[j], 1, 2) == 's:' and waiting(fields[j + 1]) then open = true end
end
if open then
  redis.call('PERSIST', msg)
  redis.call('PERSIST', body)
else
  redis.call('PEXPIRE', msg, retention)
  redis.call('PEXPIRE', body, retention)
end
return fields
`);

/**
 * KEYS: due   ARGV: now, msgPrefix, batch, member… (none: the next `batch`
 * recipients in 'due' with a future time). Makes waiting recipients with a
 * future next attempt due at `now`. Returns { scanned, changed }.
 */
export const retryScript = new LuaScript(`${COMMON}
local due, now, msgPrefix, batch = KEYS[1], ARGV[1], ARGV[2], tonumber(ARGV[3])
local list = {}
if #ARGV > 3 then
  for i = 4, #ARGV do list[#list + 1] = ARGV[i] end
else
  list = redis.call('ZRANGEBYSCORE', due, '(' .. now, '+inf', 'LIMIT', 0, batch)
end
local changed = 0
for _, m in ipairs(list) do
  local id, r = split(m)
  local key = msgPrefix .. id
  local f = redis.call('HMGET', key, 's:' .. r, 'n:' .. r)
  if not waiting(f[1]) then
    if #ARGV == 3 then redis.call('ZREM', due, m) end
  elseif tonumber(f[2]) > tonumber(now) then
    redis.call('HSET', key, 'n:' .. r, now, 'u:' .. r, now)
    if redis.call('ZSCORE', due, m) then redis.call('ZADD', due, now, m) end
    changed = changed + 1
  elseif #ARGV == 3 then
    redis.call('ZADD', due, f[2], m)
  end
end
return { #list, changed }
`);

/**
 * KEYS: due, claims, nodes   ARGV: now, node, heldPrefix
 * The earliest time anything may become claimable: a due time, a lease
 * expiry, or the heartbeat expiry of another node that holds claims (converted
 * to the caller's clock). Returns a number as text, or nil.
 */
export const nextDueScript = new LuaScript(`${COMMON}
local best = nil
local function consider(at) if at and (not best or at < best) then best = at end end
local d = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
consider(tonumber(d[2]))
local c = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
consider(tonumber(c[2]))
local rnow = redisNow()
local nodes = redis.call('ZRANGE', KEYS[3], 0, -1, 'WITHSCORES')
for i = 1, #nodes, 2 do
  if nodes[i] ~= ARGV[2] and redis.call('SCARD', ARGV[3] .. nodes[i]) > 0 then
    consider(tonumber(ARGV[1]) + tonumber(nodes[i + 1]) - rnow)
  end
end
if best then return num(best) end
return false
`);

/**
 * KEYS: msg, body, messages, due, claims, owners   ARGV: id, heldPrefix, member…
 * Removes a message, its body and every index entry. Returns 1 if it existed.
 */
export const removeScript = new LuaScript(`${COMMON}
local existed = redis.call('EXISTS', KEYS[1])
redis.call('DEL', KEYS[1], KEYS[2])
redis.call('ZREM', KEYS[3], ARGV[1])
for i = 3, #ARGV do
  local m = ARGV[i]
  redis.call('ZREM', KEYS[4], m)
  redis.call('ZREM', KEYS[5], m)
  local owner = redis.call('HGET', KEYS[6], m)
  if owner then
    redis.call('HDEL', KEYS[6], m)
    redis.call('SREM', ARGV[2] .. owner, m)
  end
end
return existed
`);
