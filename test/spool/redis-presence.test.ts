/**
 * One daemon as a node of the Redis spool (src/spool/redis/node-presence.ts),
 * over real connections to the Redis on REDIS_URL, through a TCP hop the test
 * cuts to play an outage: wake-ups between nodes and not back to the sender,
 * one log line when the connection goes and one when it is back (with a
 * wake-up), nothing after stop, heartbeats only while running.
 */
import type { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { createClient, createSubscriber, subscribeTo } from '../../src/spool/redis/connection.js';
import { redisKeys } from '../../src/spool/redis/keys.js';
import { NodePresence } from '../../src/spool/redis/node-presence.js';
import { eventually } from '../helpers/eventually.js';
import { capturingLogger } from '../helpers/log-lines.js';
import {
  REDIS_URL,
  deleteKeys,
  redisUnavailable,
  startTcpProxy,
  uniquePrefix,
  withRedis,
  type TcpProxy,
} from '../helpers/redis.js';

const unavailable = await redisUnavailable();
if (unavailable) console.warn(`skipping Redis presence tests: ${unavailable}`);

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

/** A node on `url` (its own command and subscriber connections), counting its wake-ups and reconnect attempts. */
async function node(url: string, prefix: string, logger = capturingLogger()) {
  const keys = redisKeys(prefix);
  const redis: Redis = createClient({ url, commandTimeoutMs: 2_000, connectTimeoutMs: 2_000 });
  redis.on('error', () => undefined);
  let reconnects = 0;
  redis.on('reconnecting', () => void (reconnects += 1));
  await redis.connect();
  const subscriber = createSubscriber(redis);
  subscriber.on('error', () => undefined);
  await subscriber.connect();
  await subscribeTo(subscriber, keys.wake);
  const presence = new NodePresence(redis, subscriber, keys, 60_000, url, logger.logger);
  let wakes = 0;
  let completed = false;
  presence.wake$.subscribe({ next: () => void (wakes += 1), complete: () => void (completed = true) });
  cleanup.push(async () => {
    presence.stop();
    redis.disconnect();
    subscriber.disconnect();
    presence.end();
    await deleteKeys(prefix);
  });
  return {
    presence,
    redis,
    subscriber,
    keys,
    lines: logger.lines,
    wakes: () => wakes,
    completed: () => completed,
    reconnects: () => reconnects,
  };
}

describe.skipIf(unavailable !== undefined)('a node of the Redis spool (needs Redis)', () => {
  it('wakes the other nodes, and itself once, not again through its own message', async () => {
    const prefix = uniquePrefix('presence');
    const a = await node(REDIS_URL, prefix);
    const b = await node(REDIS_URL, prefix);
    let probed = false;
    a.subscriber.on('message', (_channel: string, from: string) => void (probed ||= from === 'probe'));
    a.presence.wake();
    expect(a.wakes()).toBe(1);
    await eventually(
      () => b.wakes() === 1,
      3_000,
      () => 'the other node to wake',
    );
    // published after a's own message was: once the probe is in, a has read its own message too
    await withRedis((r) => r.publish(a.keys.wake, 'probe'));
    await eventually(
      () => probed,
      3_000,
      () => 'the probe to reach a',
    );
    expect(a.wakes()).toBe(2); // its own wake-up and the probe's, not its own message
  });

  it('logs a lost connection once and its return once, with the address, and wakes on the return', async () => {
    const proxy: TcpProxy = await startTcpProxy();
    cleanup.push(() => proxy.close());
    const prefix = uniquePrefix('presence');
    const n = await node(proxy.url, prefix);
    const other = await node(REDIS_URL, prefix);
    await proxy.cut();
    // several failed reconnects, each a 'close': still one line
    await eventually(
      () => n.reconnects() >= 3,
      10_000,
      () => 'three reconnect attempts',
    );
    expect(n.lines.map((l) => [l.level, l.msg, l.redis])).toEqual([
      ['warn', 'Redis connection lost; reconnecting', `${proxy.url}`],
    ]);
    expect(n.wakes()).toBe(0);
    await proxy.resume();
    await eventually(
      () => n.lines.length === 2,
      10_000,
      () => 'the restored line',
    );
    expect(n.lines[1]).toMatchObject({ level: 'info', msg: 'Redis connection restored', redis: proxy.url });
    expect(n.wakes()).toBe(1);
    // the heartbeat went out again on the return
    await eventually(
      () => withRedis((r) => r.zscore(n.keys.nodes, n.presence.node)).then((s) => s !== null),
      3_000,
      () => 'the heartbeat after the return',
    );
    // subscribed again: the other node's wake-ups reach it
    await eventually(
      () => {
        other.presence.wake();
        return n.wakes() >= 2;
      },
      5_000,
      () => 'a wake-up from the other node after the return',
    );
  });

  it('logs nothing and heartbeats nothing once stopped, and completes its wake-ups at the end', async () => {
    const proxy: TcpProxy = await startTcpProxy();
    cleanup.push(() => proxy.close());
    const n = await node(proxy.url, uniquePrefix('presence'));
    await n.presence.heartbeat();
    expect(await withRedis((r) => r.zscore(n.keys.nodes, n.presence.node))).not.toBeNull();
    await withRedis((r) => r.zrem(n.keys.nodes, n.presence.node));
    n.presence.stop();
    expect(n.presence.closed).toBe(true);
    await n.presence.heartbeat();
    expect(await withRedis((r) => r.zscore(n.keys.nodes, n.presence.node))).toBeNull();
    await proxy.cut();
    await eventually(
      () => n.reconnects() >= 2,
      10_000,
      () => 'two reconnect attempts',
    );
    await proxy.resume();
    await eventually(
      () => n.redis.status === 'ready',
      10_000,
      () => 'the connection to be back',
    );
    expect(n.lines).toEqual([]);
    expect(n.wakes()).toBe(0);
    expect(n.completed()).toBe(false);
    n.presence.end();
    expect(n.completed()).toBe(true);
  });
});
