/**
 * The Redis spool's wake-up subscription across reconnects
 * (`subscribeTo` in src/spool/redis/connection.ts), over a TCP hop to the
 * Redis on REDIS_URL that the test cuts: a connection that closes again just
 * as it came back (or the spool closing then) leaves no unhandled rejection,
 * which would stop the daemon.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createClient, createSubscriber, subscribeTo } from '../../src/spool/redis/connection.js';
import { eventually } from '../helpers/eventually.js';
import { redisUnavailable, startTcpProxy } from '../helpers/redis.js';

const unavailable = await redisUnavailable();
if (unavailable) console.warn(`skipping the Redis resubscription test: ${unavailable}`);

const rejections: unknown[] = [];
const onRejection = (reason: unknown): void => void rejections.push(reason);
afterEach(() => {
  process.off('unhandledRejection', onRejection);
});

describe.skipIf(unavailable !== undefined)('Redis wake-up subscription (needs Redis)', () => {
  it('leaves no unhandled rejection when the connection closes as it comes back', async () => {
    process.on('unhandledRejection', onRejection);
    const proxy = await startTcpProxy();
    const redis = createClient({ url: proxy.url, commandTimeoutMs: 2_000, connectTimeoutMs: 2_000 });
    redis.on('error', () => undefined);
    const subscriber = createSubscriber(redis);
    subscriber.on('error', () => undefined);
    try {
      await redis.connect();
      await subscriber.connect();
      await subscribeTo(subscriber, 'gp-test-resubscribe');
      await proxy.cut();
      await eventually(
        () => subscriber.status !== 'ready',
        5_000,
        () => 'the subscriber to lose its connection',
      );
      // closed at the moment it is ready again, before a resubscription could be answered
      subscriber.prependListener('ready', () => subscriber.disconnect());
      await proxy.resume();
      await eventually(
        () => subscriber.status === 'end',
        5_000,
        () => 'the subscriber to end',
      );
      // unhandled rejections are reported once the current turn is over: let two turns pass
      for (let turn = 0; turn < 2; turn++) await new Promise((resolve) => setImmediate(resolve));
      expect(rejections).toEqual([]);
    } finally {
      redis.disconnect();
      subscriber.disconnect();
      await proxy.close();
    }
  });
});
