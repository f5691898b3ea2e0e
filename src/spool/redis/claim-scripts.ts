/**
 * The scripts that hand messages out and take them back: heartbeat, claim,
 * release, and when the next claim could succeed. Keys named in KEYS are the
 * fixed indexes; `msg:<id>` and `held:<node>` keys are built from prefixes
 * passed in ARGV (one Redis, not Cluster). Node liveness uses the Redis clock
 * (`TIME`), so daemons' clocks need not agree on it; due times use the
 * caller's `now`, like the file spool.
 */
import { LUA_COMMON, LuaScript } from './lua.js';

/**
 * KEYS: nodes   ARGV: node, nodeTtlMs
 * The liveness heartbeat: the node's claims stay its own while this runs.
 */
export const heartbeatScript = new LuaScript(`${LUA_COMMON}
redis.call('ZADD', KEYS[1], num(redisNow() + tonumber(ARGV[2])), ARGV[1])
return 1
`);

/**
 * KEYS: due, claims, owners, nodes
 * ARGV: now, limit, node, heldPrefix, msgPrefix, nodeTtlMs
 *
 * Heartbeats the caller and hands the claims of dead nodes back to `due`.
 * Then takes up to `limit` messages due at `now`, earliest first (ties: the
 * lower id, i.e. the older message: ids start with their time). A `due` entry
 * that no longer fits its record (nothing waits, or its recipients are not due
 * yet) is corrected on the way and does not count. The cost follows the
 * dead node's claims and the messages taken, not the queue.
 *
 * Returns { { id, HGETALL of msg:<id> }, … } in claim order.
 */
export const claimScript = new LuaScript(`${LUA_COMMON}
local due, claims, owners, nodes = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local now, limit, node = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3]
local heldPrefix, msgPrefix, ttl = ARGV[4], ARGV[5], tonumber(ARGV[6])
local rnow = redisNow()
redis.call('ZADD', nodes, num(rnow + ttl), node)
for _, dead in ipairs(redis.call('ZRANGEBYSCORE', nodes, '-inf', '(' .. num(rnow))) do
  for _, id in ipairs(redis.call('SMEMBERS', heldPrefix .. dead)) do
    if redis.call('HGET', owners, id) == dead then
      redis.call('HDEL', owners, id)
      redis.call('SREM', claims, id)
      requeue(due, msgPrefix .. id, id, nil)
    end
  end
  redis.call('DEL', heldPrefix .. dead)
  redis.call('ZREM', nodes, dead)
end
local out = {}
while #out < limit do
  local ids = redis.call('ZRANGEBYSCORE', due, '-inf', ARGV[1], 'LIMIT', 0, limit - #out)
  if #ids == 0 then break end
  for _, id in ipairs(ids) do
    -- out of 'due' first: whatever happens below, the next round goes past it
    redis.call('ZREM', due, id)
    if not redis.call('HGET', owners, id) then
      local flat = redis.call('HGETALL', msgPrefix .. id)
      local count, best = waitingOf(toMap(flat))
      if count > 0 and best <= now then
        redis.call('SADD', claims, id)
        redis.call('HSET', owners, id, node)
        redis.call('SADD', heldPrefix .. node, id)
        out[#out + 1] = { id, flat }
      elseif count > 0 then
        redis.call('ZADD', due, num(best), id)
      end
    end
  end
end
return out
`);

/**
 * KEYS: due, claims, owners   ARGV: id, node, heldPrefix, msgPrefix, notBefore ('' for none)
 * Ends the claim if this node holds it (another node's claim, or none, is
 * left alone); a message that still waits goes back to `due`. Returns 1 if it
 * released, 0 if not.
 */
export const releaseScript = new LuaScript(`${LUA_COMMON}
local due, claims, owners = KEYS[1], KEYS[2], KEYS[3]
local id, node, heldPrefix, msgPrefix = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
if redis.call('HGET', owners, id) ~= node then return 0 end
unclaim(claims, owners, heldPrefix, id)
requeue(due, msgPrefix .. id, id, tonumber(ARGV[5]))
return 1
`);

/**
 * KEYS: due, nodes   ARGV: now, node, heldPrefix
 * The earliest time a claim may take something: the first `due` score, or
 * the heartbeat expiry of another node that holds claims (converted to the
 * caller's clock), after which they are handed back. O(nodes). Returns a
 * number as text, or nil.
 */
export const nextDueScript = new LuaScript(`${LUA_COMMON}
local best = nil
local function consider(at) if at and (not best or at < best) then best = at end end
local d = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
consider(tonumber(d[2]))
local rnow = redisNow()
local nodes = redis.call('ZRANGE', KEYS[2], 0, -1, 'WITHSCORES')
for i = 1, #nodes, 2 do
  if nodes[i] ~= ARGV[2] and redis.call('SCARD', ARGV[3] .. nodes[i]) > 0 then
    consider(tonumber(ARGV[1]) + tonumber(nodes[i + 1]) - rnow)
  end
end
if best then return num(best) end
return false
`);
