/**
 * Running Lua scripts on Redis (EVALSHA, loaded on first use) and the Lua
 * helpers every spool script shares. Each script runs atomically, so another
 * daemon never sees a claim, an update or a release half done.
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

/**
 * Shared Lua helpers, prepended to every script. Records are read with
 * HGETALL: one message's fields, so the cost follows the message's recipient
 * count, never the queue's size.
 */
export const LUA_COMMON = `
local function num(x) return string.format('%.0f', x) end
local function redisNow()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function waiting(status) return status == 'queued' or status == 'deferred' end
local function toMap(flat)
  local m = {}
  for j = 1, #flat, 2 do m[flat[j]] = flat[j + 1] end
  return m
end
-- the waiting recipients' count and earliest next attempt (nil when none waits)
local function waitingOf(map)
  local count, best = 0, nil
  for f, v in pairs(map) do
    if string.sub(f, 1, 2) == 's:' and waiting(v) then
      count = count + 1
      local n = tonumber(map['n:' .. string.sub(f, 3)]) or tonumber(map['t']) or 0
      if not best or n < best then best = n end
    end
  end
  return count, best
end
-- the '<domain>|<minute>' field of the shape hash (see keys.ts shapeField)
local function shapeField(domain, receivedAt)
  return domain .. '|' .. num(math.floor(tonumber(receivedAt) / 60000) * 60000)
end
local function bump(shape, f, by)
  if redis.call('HINCRBY', shape, f, by) <= 0 then redis.call('HDEL', shape, f) end
end
-- a waiting, unclaimed message goes back to 'due' at its earliest next
-- attempt, or at notBefore if that is later
local function requeue(due, key, id, notBefore)
  local count, best = waitingOf(toMap(redis.call('HGETALL', key)))
  if count == 0 then
    redis.call('ZREM', due, id)
    return
  end
  if notBefore and notBefore > best then best = notBefore end
  redis.call('ZADD', due, num(best), id)
end
-- retry now: the waiting recipients of one record with a later next attempt get now; returns how many
local function dueNow(key, map, now)
  local changed = 0
  for f, v in pairs(map) do
    if string.sub(f, 1, 2) == 's:' and waiting(v) then
      local r = string.sub(f, 3)
      if (tonumber(map['n:' .. r]) or 0) > tonumber(now) then
        redis.call('HSET', key, 'n:' .. r, now, 'u:' .. r, now)
        changed = changed + 1
      end
    end
  end
  return changed
end
-- a claim ends, whoever holds it
local function unclaim(claims, owners, heldPrefix, id)
  local owner = redis.call('HGET', owners, id)
  if owner then
    redis.call('HDEL', owners, id)
    redis.call('SREM', heldPrefix .. owner, id)
  end
  redis.call('SREM', claims, id)
end
`;
