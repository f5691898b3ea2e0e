/**
 * What Redis' persistence settings make of the spool's acknowledgement (a
 * 250 to the client), and the start-up notices that tell the operator.
 *
 * `store` resolves once Redis acknowledged every write. What that is worth
 * depends on the Redis server:
 *
 *   - `appendonly yes` + `appendfsync always`: Redis fsyncs the append-only
 *     file before it replies, so a 250 means the message is on disk, as with
 *     the file spool. Use this when "250 means durable" must hold.
 *   - `appendonly yes` + `appendfsync everysec` (Redis' default once AOF is
 *     on): fsync once a second; a crash of the Redis host (power, kernel) can
 *     lose the last second of acknowledged mail. A crash of the Redis process
 *     alone loses nothing. Much faster; often acceptable.
 *   - `appendonly no` (RDB snapshots only, or nothing): everything since the
 *     last snapshot is lost when Redis restarts. Not durable; the daemon logs
 *     a warning at start-up.
 *   - Replicas protect against losing the Redis host, but replication is
 *     asynchronous: a failover can drop writes the old primary acknowledged.
 *     Run replicas with AOF as well, and (outside this daemon) `WAIT` or
 *     `min-replicas-to-write` narrow that window.
 *   - `maxmemory-policy noeviction` (the default): bodies live in Redis
 *     memory, and an `allkeys-*` policy would evict queued mail (warned).
 *   - One Redis (or a Sentinel-managed primary), not Redis Cluster: the scripts
 *     touch keys of several messages at once.
 *
 * At start-up the daemon reads `CONFIG GET appendonly`/`appendfsync` (or
 * `INFO persistence` where CONFIG is disabled) and logs what the settings mean.
 */
import type { Redis } from 'ioredis';

/** What Redis says about persisting writes, as far as it lets us ask. */
export type Persistence =
  | { readonly kind: 'aof'; readonly fsync: string | undefined }
  | { readonly kind: 'none' }
  | { readonly kind: 'unknown'; readonly reason: string };

/** One log line for the operator about the durability a 250 reply carries. */
export interface PersistenceNotice {
  readonly level: 'warn' | 'info';
  readonly message: string;
}

async function configGet(redis: Redis, name: string): Promise<string | undefined> {
  const reply = await redis.config('GET', name);
  if (!Array.isArray(reply)) return undefined;
  const value: unknown = reply[1];
  return typeof value === 'string' ? value : undefined;
}

/**
 * `CONFIG GET appendonly`/`appendfsync`; when CONFIG is disabled (managed
 * Redis, renamed command), `INFO persistence`'s `aof_enabled`.
 */
export async function readPersistence(redis: Redis): Promise<Persistence> {
  try {
    const appendonly = await configGet(redis, 'appendonly');
    if (appendonly !== undefined) {
      return appendonly === 'yes' ? { kind: 'aof', fsync: await configGet(redis, 'appendfsync') } : { kind: 'none' };
    }
  } catch {
    // CONFIG may be disabled: ask INFO instead
  }
  try {
    const info = await redis.info('persistence');
    const match = /^aof_enabled:(\d)/m.exec(info);
    if (match) return match[1] === '1' ? { kind: 'aof', fsync: undefined } : { kind: 'none' };
    return { kind: 'unknown', reason: 'INFO persistence has no aof_enabled' };
  } catch (error) {
    return { kind: 'unknown', reason: error instanceof Error ? error.message : String(error) };
  }
}

/**
 * `maxmemory-policy`: an `allkeys-*` policy lets Redis evict queued mail under
 * memory pressure. Undefined when CONFIG is disabled.
 */
export async function readEvictionPolicy(redis: Redis): Promise<string | undefined> {
  try {
    return await configGet(redis, 'maxmemory-policy');
  } catch {
    return undefined;
  }
}

/** What to tell the operator about eviction (pure); undefined when nothing queued can be evicted. */
export function evictionNotice(policy: string | undefined): PersistenceNotice | undefined {
  if (policy === undefined || !policy.startsWith('allkeys')) return undefined;
  return {
    level: 'warn',
    message: `Redis may evict any key under memory pressure (maxmemory-policy ${policy}): queued mail can vanish; use noeviction`,
  };
}

/** What to tell the operator (pure). */
export function persistenceNotice(p: Persistence): PersistenceNotice {
  switch (p.kind) {
    case 'none':
      return {
        level: 'warn',
        message:
          'Redis does not persist writes (appendonly no): mail acknowledged with 250 is lost if Redis restarts; set appendonly yes and appendfsync always',
      };
    case 'unknown':
      return {
        level: 'warn',
        message: `could not read the Redis persistence settings (${p.reason}); make sure appendonly is yes`,
      };
    case 'aof':
      if (p.fsync === 'always')
        return {
          level: 'info',
          message: 'Redis persists every write before replying (appendonly yes, appendfsync always)',
        };
      if (p.fsync === 'everysec') {
        return {
          level: 'info',
          message:
            'Redis fsyncs once a second (appendfsync everysec): up to 1 s of acknowledged mail can be lost if the Redis host crashes',
        };
      }
      if (p.fsync === 'no') {
        return {
          level: 'warn',
          message:
            'Redis leaves fsync to the OS (appendfsync no): acknowledged mail can be lost if the Redis host crashes',
        };
      }
      return { level: 'info', message: 'Redis uses the append-only file (appendonly yes)' };
  }
}
