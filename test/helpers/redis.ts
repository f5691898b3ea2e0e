/**
 * Redis for tests: the server on REDIS_URL (default redis://127.0.0.1:6379),
 * a fresh key prefix per test file or fixture, and clean-up of its keys.
 *
 *   const unavailable = await redisUnavailable();   // undefined, or why not
 *   if (unavailable) console.warn(`skipping Redis tests: ${unavailable}`);
 *   describe.skipIf(unavailable !== undefined)('…', () => { … });
 *
 * `startTcpProxy` puts a cuttable hop between a client and Redis, to play an
 * outage and its end.
 */
import { randomBytes } from 'node:crypto';
import { createConnection, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { Redis } from 'ioredis';

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

function connect(url = REDIS_URL): Redis {
  const redis = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    connectTimeout: 2_000,
    retryStrategy: () => null,
  });
  redis.on('error', () => undefined);
  return redis;
}

/** Why Redis cannot be used for tests, or undefined when it answers PING. */
export async function redisUnavailable(url = REDIS_URL): Promise<string | undefined> {
  const redis = connect(url);
  let lastError: unknown;
  redis.on('error', (error: unknown) => void (lastError = error));
  try {
    await redis.connect();
    await redis.ping();
    return undefined;
  } catch (error) {
    const cause = lastError ?? error;
    return `no Redis answers at ${url} (${cause instanceof Error ? cause.message : String(cause)}); set REDIS_URL to run them`;
  } finally {
    redis.disconnect();
  }
}

/** A prefix no other test (or daemon) uses: `gp-test-<name>-<random>:`. */
export function uniquePrefix(name: string): string {
  return `gp-test-${name}-${randomBytes(6).toString('hex')}:`;
}

/** Keys under `prefix`, sorted. */
export async function keysUnder(prefix: string, url = REDIS_URL): Promise<string[]> {
  const redis = connect(url);
  try {
    await redis.connect();
    const found: string[] = [];
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      found.push(...keys);
    } while (cursor !== '0');
    return found.sort();
  } finally {
    redis.disconnect();
  }
}

/** Deletes every key under `prefix`. */
export async function deleteKeys(prefix: string, url = REDIS_URL): Promise<void> {
  const keys = await keysUnder(prefix, url);
  if (keys.length === 0) return;
  const redis = connect(url);
  try {
    await redis.connect();
    for (let i = 0; i < keys.length; i += 500) await redis.del(...keys.slice(i, i + 500));
  } finally {
    redis.disconnect();
  }
}

/** Runs `work` with a plain connection (inspecting keys, TTLs). */
export async function withRedis<T>(work: (redis: Redis) => Promise<T>, url = REDIS_URL): Promise<T> {
  const redis = connect(url);
  try {
    await redis.connect();
    return await work(redis);
  } finally {
    redis.disconnect();
  }
}

export interface TcpProxy {
  /** `redis://127.0.0.1:<proxy port>` */
  readonly url: string;
  /** Drops every connection and refuses new ones: Redis "goes away". */
  cut(): Promise<void>;
  /** Listens again on the same port. */
  resume(): Promise<void>;
  close(): Promise<void>;
}

/** A TCP hop to the Redis of REDIS_URL that a test can cut and resume. */
export async function startTcpProxy(url = REDIS_URL): Promise<TcpProxy> {
  const target = new URL(url);
  const sockets = new Set<Socket>();
  const makeServer = (): Server =>
    createServer((client) => {
      const upstream = createConnection({ host: target.hostname, port: Number(target.port || 6379) });
      for (const s of [client, upstream]) {
        sockets.add(s);
        s.on('error', () => undefined);
        s.on('close', () => {
          sockets.delete(s);
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream);
      upstream.pipe(client);
    });
  const listen = (server: Server, port: number): Promise<number> =>
    new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
    });
  let server: Server | undefined = makeServer();
  const port = await listen(server, 0);
  const stop = async (): Promise<void> => {
    const running = server;
    server = undefined;
    for (const s of sockets) s.destroy();
    if (running) await new Promise<void>((resolve) => running.close(() => resolve()));
  };
  return {
    url: `redis://127.0.0.1:${port}`,
    cut: stop,
    resume: async () => {
      if (server) return;
      server = makeServer();
      await listen(server, port);
    },
    close: stop,
  };
}
