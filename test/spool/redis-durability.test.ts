/**
 * What the Redis spool reads of a server's persistence and eviction settings
 * and tells the operator at start-up (src/spool/redis/durability.ts), against
 * real redis-server processes this test starts, one per setting: AOF with
 * `appendfsync always`, no persistence, CONFIG renamed away (as managed Redis
 * does, so INFO is asked instead), INFO renamed too, an `allkeys-*` eviction
 * policy. Skipped, with the reason in its name, where redis-server is missing.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { openRedisSpool } from '../../src/spool/redis-spool.js';
import {
  evictionNotice,
  persistenceNotice,
  readEvictionPolicy,
  readPersistence,
} from '../../src/spool/redis/durability.js';
import { safeUrl } from '../../src/spool/redis/connection.js';
import { eventually } from '../helpers/eventually.js';
import { freePort } from '../helpers/ports.js';
import { capturingLogger } from '../helpers/log-lines.js';

const hasRedisServer = spawnSync('redis-server', ['--version']).status === 0;

interface PrivateRedis {
  readonly url: string;
  readonly client: Redis;
}

const started: { server: ChildProcess; dir: string; client: Redis }[] = [];
afterAll(async () => {
  for (const s of started.splice(0)) {
    s.client.disconnect();
    s.server.kill('SIGKILL');
    await rm(s.dir, { recursive: true, force: true });
  }
});

/** A redis-server of its own on a free port, with `args` on its command line. */
async function privateRedis(...args: string[]): Promise<PrivateRedis> {
  const port = await freePort();
  const dir = await mkdtemp(join(tmpdir(), 'gp-redis-'));
  const server = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--dir', dir, ...args],
    {
      stdio: 'ignore',
    },
  );
  const url = `redis://127.0.0.1:${port}`;
  const password = args[args.indexOf('--requirepass') + 1];
  // no ready check: it asks INFO, which some of these servers do not answer
  const client = new Redis(url, {
    lazyConnect: true,
    enableReadyCheck: false,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    ...(args.includes('--requirepass') && password !== undefined ? { password } : {}),
  });
  client.on('error', () => undefined);
  started.push({ server, dir, client });
  await eventually(
    () =>
      client.connect().then(
        () => true,
        () => false,
      ),
    5_000,
    () => `redis-server ${args.join(' ')} to answer`,
  );
  return { url, client };
}

describe.skipIf(!hasRedisServer)('Redis persistence as read from real servers (needs redis-server)', () => {
  it('reads AOF with its fsync setting through CONFIG', async () => {
    const { client } = await privateRedis('--appendonly', 'yes', '--appendfsync', 'always');
    expect(await readPersistence(client)).toEqual({ kind: 'aof', fsync: 'always' });
    expect(await readEvictionPolicy(client)).toBe('noeviction');
  });

  it('reads no persistence through CONFIG', async () => {
    const { client } = await privateRedis('--appendonly', 'no');
    expect(await readPersistence(client)).toEqual({ kind: 'none' });
  });

  it('asks INFO where CONFIG is renamed away, and knows no eviction policy then', async () => {
    const aof = await privateRedis('--appendonly', 'yes', '--rename-command', 'CONFIG', '');
    expect(await readPersistence(aof.client)).toEqual({ kind: 'aof', fsync: undefined });
    expect(await readEvictionPolicy(aof.client)).toBeUndefined();
    const none = await privateRedis('--appendonly', 'no', '--rename-command', 'CONFIG', '');
    expect(await readPersistence(none.client)).toEqual({ kind: 'none' });
  });

  it('says why it cannot tell when CONFIG and INFO are both renamed away', async () => {
    const { client } = await privateRedis('--rename-command', 'CONFIG', '', '--rename-command', 'INFO', '');
    const persistence = await readPersistence(client);
    expect(persistence).toMatchObject({ kind: 'unknown', reason: expect.stringMatching(/unknown command/i) });
  });

  it('logs the settings’ meaning at start-up, with the masked address, and warns of an allkeys eviction policy', async () => {
    const { url } = await privateRedis(
      '--appendonly',
      'no',
      '--maxmemory-policy',
      'allkeys-lru',
      '--requirepass',
      's3cret',
    );
    const withPassword = url.replace('redis://', 'redis://:s3cret@');
    const log = capturingLogger();
    const spool = await openRedisSpool({ url: withPassword, prefix: 'gp-test-durability:', logger: log.logger });
    await spool.close();
    const fields = { component: 'spool', backend: 'redis', redis: safeUrl(withPassword) };
    expect(fields.redis).toBe(`${url.replace('redis://', 'redis://:****@')}`);
    expect(log.lines.filter((l) => l.component === 'spool' && l.redis !== undefined)).toEqual([
      {
        ...fields,
        level: 'warn',
        msg: persistenceNotice({ kind: 'none' }).message,
        time: expect.anything(),
        pid: process.pid,
      },
      {
        ...fields,
        level: 'warn',
        msg: evictionNotice('allkeys-lru')?.message,
        time: expect.anything(),
        pid: process.pid,
      },
    ]);
  });

  it('logs durable settings as information, not as a warning', async () => {
    const { url } = await privateRedis('--appendonly', 'yes', '--appendfsync', 'always');
    const log = capturingLogger();
    const spool = await openRedisSpool({ url, prefix: 'gp-test-durability:', logger: log.logger });
    await spool.close();
    expect(log.lines.filter((l) => l.redis !== undefined).map((l) => [l.level, l.msg])).toEqual([
      ['info', 'Redis persists every write before replying (appendonly yes, appendfsync always)'],
    ]);
  });
});

describe('what the operator is told', () => {
  it('has one notice per persistence setting, warning where a 250 can be lost', () => {
    expect(persistenceNotice({ kind: 'aof', fsync: 'always' })).toEqual({
      level: 'info',
      message: 'Redis persists every write before replying (appendonly yes, appendfsync always)',
    });
    expect(persistenceNotice({ kind: 'aof', fsync: 'everysec' })).toEqual({
      level: 'info',
      message:
        'Redis fsyncs once a second (appendfsync everysec): up to 1 s of acknowledged mail can be lost if the Redis host crashes',
    });
    expect(persistenceNotice({ kind: 'aof', fsync: 'no' })).toEqual({
      level: 'warn',
      message: 'Redis leaves fsync to the OS (appendfsync no): acknowledged mail can be lost if the Redis host crashes',
    });
    expect(persistenceNotice({ kind: 'aof', fsync: undefined })).toEqual({
      level: 'info',
      message: 'Redis uses the append-only file (appendonly yes)',
    });
    expect(persistenceNotice({ kind: 'none' })).toEqual({
      level: 'warn',
      message:
        'Redis does not persist writes (appendonly no): mail acknowledged with 250 is lost if Redis restarts; set appendonly yes and appendfsync always',
    });
    expect(persistenceNotice({ kind: 'unknown', reason: 'ERR no' })).toEqual({
      level: 'warn',
      message: 'could not read the Redis persistence settings (ERR no); make sure appendonly is yes',
    });
  });

  it('warns only of eviction policies that may take queued mail', () => {
    expect(evictionNotice(undefined)).toBeUndefined();
    expect(evictionNotice('noeviction')).toBeUndefined();
    expect(evictionNotice('volatile-lru')).toBeUndefined();
    expect(evictionNotice('allkeys-random')).toEqual({
      level: 'warn',
      message:
        'Redis may evict any key under memory pressure (maxmemory-policy allkeys-random): queued mail can vanish; use noeviction',
    });
  });

  it('masks a password in a logged URL, and never logs an unparsable one', () => {
    expect(safeUrl('redis://user:pw@h.test:6380/2')).toBe('redis://user:****@h.test:6380/2');
    expect(safeUrl('redis://h.test:6379')).toBe('redis://h.test:6379');
    expect(safeUrl('not a url')).toBe('redis://(unparsable URL)');
  });
});
