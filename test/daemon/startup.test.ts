import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  dkimFailure,
  listenFailure,
  spoolFailure,
  StartupError,
  STARTUP_EXIT,
  startupFailure,
  tlsFailure,
} from '../../src/startup/failure.js';
import { CLI } from '../helpers/child-daemon.js';
import { freePort } from '../helpers/ports.js';

const dirs: string[] = [];
const servers: Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) server.close();
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'gp-startup-'));
  dirs.push(dir);
  return dir;
}

/** A port something else holds for the test's duration. */
async function takenPort(): Promise<number> {
  const server = createServer();
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

interface Run {
  readonly code: number | null;
  readonly output: string;
  /** The `could not start` log line. */
  readonly fatal: { err?: string; variables?: string[]; exitCode?: number } | undefined;
}

/** Runs `gopherpost serve` (the built binary) until it exits on its own. */
function serveUntilExit(env: Record<string, string>): Promise<Run> {
  const child = spawn(process.execPath, [CLI, 'serve'], {
    env: {
      PATH: process.env.PATH ?? '',
      SMTP_PORT: '0',
      SMTP_BIND: '127.0.0.1',
      SMTP_HOSTNAME: 'mx.local.test',
      SMTP_HEALTH_ADDR: '127.0.0.1:0',
      SMTP_TLS_DISABLE: 'true',
      SMTP_DELIVERY_MODE: 'hold',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => void (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => void (output += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000); // a daemon that started by mistake
  return new Promise((resolve) => {
    child.once('close', (code) => {
      clearTimeout(timer);
      const line = output.split('\n').find((l) => l.includes('"msg":"could not start"'));
      resolve({ code, output, fatal: line ? (JSON.parse(line) as Run['fatal']) : undefined });
    });
  });
}

describe('start-up failures exit with a sysexits code naming the variable (§7)', () => {
  it('Redis unreachable at start: SMTP_REDIS_URL, 69', async () => {
    const port = await freePort();
    const run = await serveUntilExit({
      SMTP_QUEUE_BACKEND: 'redis',
      SMTP_REDIS_URL: `redis://127.0.0.1:${port}`,
      SMTP_QUEUE_PATH: await tempDir(),
    });
    expect(run.code, run.output).toBe(69);
    expect(run.fatal?.variables).toEqual(['SMTP_REDIS_URL']);
    expect(run.fatal?.err).toMatch(new RegExp(`Redis is unreachable at redis://127.0.0.1:${port}.*SMTP_REDIS_URL`));
  });

  it('a spool directory that cannot be created: SMTP_QUEUE_PATH, 73', async () => {
    const file = join(await tempDir(), 'not-a-directory');
    await writeFile(file, 'x');
    const run = await serveUntilExit({ SMTP_QUEUE_PATH: join(file, 'spool') });
    expect(run.code, run.output).toBe(73);
    expect(run.fatal?.variables).toEqual(['SMTP_QUEUE_PATH']);
    expect(run.fatal?.err).toMatch(/^SMTP_QUEUE_PATH=".*not-a-directory\/spool": cannot create or write .*ENOTDIR/);
  });

  it('a spool directory on a file system that makes no names (/proc): SMTP_QUEUE_PATH, 73, no hang', async () => {
    const run = await serveUntilExit({ SMTP_QUEUE_PATH: '/proc/gopherpost-test/spool' });
    expect(run.code, run.output).toBe(73);
    expect(run.fatal?.variables).toEqual(['SMTP_QUEUE_PATH']);
  });

  it('malformed held destinations in the spool directory: SMTP_QUEUE_PATH, 65', async () => {
    const spool = await tempDir();
    await writeFile(join(spool, 'holds.json'), '{"held": [');
    const run = await serveUntilExit({ SMTP_QUEUE_PATH: spool });
    expect(run.code, run.output).toBe(65);
    expect(run.fatal?.variables).toEqual(['SMTP_QUEUE_PATH']);
    expect(run.fatal?.err).toContain(`the held destinations in ${join(spool, 'holds.json')} are malformed`);
  });

  it('the SMTP port in use: SMTP_PORT, 69', async () => {
    const port = await takenPort();
    const run = await serveUntilExit({ SMTP_PORT: String(port), SMTP_QUEUE_PATH: await tempDir() });
    expect(run.code, run.output).toBe(69);
    expect(run.fatal?.variables).toContain('SMTP_PORT');
    expect(run.fatal?.err).toMatch(
      new RegExp(`^SMTP cannot listen on 127.0.0.1:${port}: the address is already in use`),
    );
  });

  it('the HTTP port in use: SMTP_HEALTH_ADDR, 69 (no longer a daemon running without its probes)', async () => {
    const port = await takenPort();
    const run = await serveUntilExit({ SMTP_HEALTH_ADDR: `127.0.0.1:${port}`, SMTP_QUEUE_PATH: await tempDir() });
    expect(run.code, run.output).toBe(69);
    expect(run.fatal?.variables).toContain('SMTP_HEALTH_ADDR');
    expect(run.fatal?.err).toMatch(
      new RegExp(`^HTTP cannot listen on 127.0.0.1:${port}: the address is already in use`),
    );
    expect(run.output).not.toContain('GopherPost listening');
  });

  it('a bad value: the variable, 78 (configuration)', async () => {
    const run = await serveUntilExit({ SMTP_HEALTH_ADDR: 'nowhere:99999', SMTP_QUEUE_PATH: await tempDir() });
    expect(run.code, run.output).toBe(78);
    expect(run.output).toContain('SMTP_HEALTH_ADDR="nowhere:99999"');
  });

  it('an error no stage expected: 70 (EX_SOFTWARE) with its message, never a bare 1', () => {
    const failure = startupFailure(new TypeError('boom'));
    expect(failure).toBeInstanceOf(StartupError);
    expect(failure.exitCode).toBe(STARTUP_EXIT.software);
    expect(failure.message).toBe('unexpected error: boom');
    const mapped = new StartupError('named', ['SMTP_PORT'], STARTUP_EXIT.unavailable);
    expect(startupFailure(mapped)).toBe(mapped);
  });
});

/** An error as Node's fs and net calls make them: a message, a code, maybe a path. */
function errno(code: string, path?: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: failed${path ? ` '${path}'` : ''}`), { code, syscall: 'x', path });
}

describe('the mapping of what a stage threw (the codes no child process here can provoke)', () => {
  const smtp = { what: 'SMTP', address: '0.0.0.0:25', variables: ['SMTP_PORT', 'SMTP_BIND'] };

  it.each([
    ['EADDRINUSE', STARTUP_EXIT.unavailable, /already in use; .* SMTP_PORT \/ SMTP_BIND$/],
    ['EACCES', STARTUP_EXIT.noPermission, /permission denied; .*CAP_NET_BIND_SERVICE/],
    ['EADDRNOTAVAIL', STARTUP_EXIT.config, /^SMTP cannot listen on 0.0.0.0:25: EADDRNOTAVAIL.*check SMTP_PORT/],
  ])('listen %s: exit %i', (code, exitCode, message) => {
    const failure = listenFailure(errno(code), smtp);
    expect(failure.exitCode).toBe(exitCode);
    expect(failure.message).toMatch(message);
    expect(failure.variables).toEqual(['SMTP_PORT', 'SMTP_BIND']);
  });

  it('spool: cannot create 73, other failures 74, Redis refused credentials 78', () => {
    const file = { queueBackend: 'file', queuePath: '/var/spool/gp' } as const;
    const cause = new Error('spool storage failed', { cause: errno('EROFS', '/var/spool/gp') });
    expect(spoolFailure(cause, file).exitCode).toBe(STARTUP_EXIT.cantCreate);
    expect(spoolFailure(errno('EIO'), file).exitCode).toBe(STARTUP_EXIT.ioError);
    expect(spoolFailure(errno('EIO'), file).variables).toEqual(['SMTP_QUEUE_PATH']);
    const redis = { queueBackend: 'redis', queuePath: '/x' } as const;
    const wrongPass = spoolFailure(new Error('Redis is unreachable at redis://h:6379/: WRONGPASS invalid'), redis);
    expect([wrongPass.exitCode, wrongPass.variables]).toEqual([STARTUP_EXIT.config, ['SMTP_REDIS_URL']]);
  });

  it('TLS: unreadable files 78 naming the file; the ephemeral certificate not made 70; DKIM 78', () => {
    const files = { tlsCertPath: '/etc/c.pem', tlsKeyPath: '/etc/k.pem' };
    expect(tlsFailure(errno('ENOENT', '/etc/k.pem'), files)).toMatchObject({
      exitCode: STARTUP_EXIT.config,
      variables: ['SMTP_TLS_KEY'],
    });
    expect(tlsFailure(errno('EACCES', '/etc/c.pem'), files).variables).toContain('SMTP_TLS_CERT');
    const ephemeral = tlsFailure(new Error('could not generate'), { tlsCertPath: undefined, tlsKeyPath: undefined });
    expect(ephemeral.exitCode).toBe(STARTUP_EXIT.software);
    expect(ephemeral.message).toMatch(/set SMTP_TLS_CERT and SMTP_TLS_KEY .*SMTP_TLS_DISABLE=true$/);
    expect(dkimFailure(new Error('bad key')).exitCode).toBe(STARTUP_EXIT.config);
  });
});

/** Connects to `port`, retrying at once on ECONNREFUSED, and resolves with the socket when the 220 banner arrives. */
function bannerAsSoonAsPossible(port: number, deadline: number): Promise<{ socket: Socket; banner: string }> {
  return new Promise((resolve, reject) => {
    const attempt = (): void => {
      const socket = connect(port, '127.0.0.1');
      socket.once('error', (error: NodeJS.ErrnoException) => {
        if (error.code === 'ECONNREFUSED' && Date.now() < deadline) setImmediate(attempt);
        else reject(error);
      });
      socket.once('data', (data: Buffer) => resolve({ socket, banner: data.toString() }));
    };
    attempt();
  });
}

describe('start-up order (§6)', () => {
  it('HTTP answers /healthz and /readyz the moment SMTP gives its banner', async () => {
    const [smtpPort, httpPort] = [await freePort(), await freePort()];
    const child = spawn(process.execPath, [CLI, 'serve'], {
      env: {
        PATH: process.env.PATH ?? '',
        SMTP_PORT: String(smtpPort),
        SMTP_BIND: '127.0.0.1',
        SMTP_HOSTNAME: 'mx.local.test',
        SMTP_HEALTH_ADDR: `127.0.0.1:${httpPort}`,
        SMTP_DELIVERY_MODE: 'hold',
        SMTP_QUEUE_PATH: await tempDir(),
      },
      stdio: 'ignore',
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      const { socket, banner } = await bannerAsSoonAsPossible(smtpPort, Date.now() + 20_000);
      const [health, ready] = await Promise.all(
        ['/healthz', '/readyz'].map((path) => fetch(`http://127.0.0.1:${httpPort}${path}`)),
      );
      socket.destroy();
      expect(banner).toMatch(/^220 mx.local.test /);
      expect(health?.status).toBe(200);
      expect(await health?.text()).toBe('OK\n');
      // ready, or (for the instant between the listener binding and the daemon noting it) still starting
      expect([
        { status: 200, body: { status: 'ready' } },
        { status: 503, body: { status: 'not ready', reason: 'starting' } },
      ]).toContainEqual({ status: ready?.status, body: await ready?.json() });
    } finally {
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    }
  });
});
