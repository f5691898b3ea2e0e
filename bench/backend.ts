import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { countEml } from './daemon-process.js';

/** Where a benchmark run keeps its queue: the file spool, or a Redis under a throw-away prefix. */
export interface BenchBackend {
  readonly name: 'file' | 'redis';
  /** Environment for the daemon. */
  env(spool: string): Record<string, string>;
  /** Messages stored so far. */
  stored(spool: string): Promise<number>;
  /** Removes what the run left (Redis keys; the caller removes spool folders). */
  cleanup(): Promise<void>;
}

export const fileBackend: BenchBackend = {
  name: 'file',
  env: () => ({}),
  stored: (spool) => countEml(spool),
  cleanup: () => Promise.resolve(),
};

export function redisBackend(url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'): BenchBackend {
  const prefix = `gp-bench-${randomBytes(4).toString('hex')}:`;
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  return {
    name: 'redis',
    env: () => ({ SMTP_QUEUE_BACKEND: 'redis', SMTP_REDIS_URL: url, SMTP_REDIS_PREFIX: prefix }),
    stored: async () => {
      if (redis.status === 'wait') await redis.connect();
      return redis.zcard(`${prefix}messages`);
    },
    cleanup: async () => {
      if (redis.status === 'wait') await redis.connect();
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
        if (keys.length > 0) await redis.del(...keys);
        cursor = next;
      } while (cursor !== '0');
      redis.disconnect();
    },
  };
}
