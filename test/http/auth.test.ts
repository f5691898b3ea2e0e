import { randomBytes } from 'node:crypto';
import { createServer, connect, type AddressInfo } from 'node:net';
import { networkInterfaces } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { bearerToken, isAdminPath, isLoopback, isLoopbackHost, tokensMatch } from '../../src/http/auth.js';
import { openStream, request, startHarness, type Harness } from './helpers.js';

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

describe('isLoopback', () => {
  it.each([
    ['127.0.0.1', true],
    ['127.255.255.254', true],
    ['::1', true],
    ['::ffff:127.0.0.1', true],
    ['::ffff:7f00:1', true],
    ['0:0:0:0:0:0:0:1', true],
    ['::1%lo', true],
    ['128.0.0.1', false],
    ['10.0.0.1', false],
    ['192.168.1.10', false],
    ['::ffff:10.0.0.1', false],
    ['::', false],
    ['0.0.0.0', false],
    ['fe80::1', false],
    ['2001:db8::1', false],
    ['localhost', false],
    ['', false],
    [undefined, false],
  ])('%s → %s', (ip, expected) => {
    expect(isLoopback(ip)).toBe(expected);
  });
});

describe('isLoopbackHost', () => {
  it.each([
    ['localhost:8080', true],
    ['LOCALHOST', true],
    ['app.localhost:8080', true],
    ['127.0.0.1:8080', true],
    ['[::1]:8080', true],
    ['evil.example:8080', false],
    ['127.0.0.1.nip.io', false],
    ['', false],
  ])('%s → %s', (host, expected) => {
    expect(isLoopbackHost(host)).toBe(expected);
  });
});

describe('token helpers', () => {
  it('parses bearer tokens and compares them', () => {
    expect(bearerToken('Bearer abc')).toBe('abc');
    expect(bearerToken('bearer   abc ')).toBe('abc');
    expect(bearerToken('Basic abc')).toBeUndefined();
    expect(bearerToken('Bearer a b')).toBeUndefined();
    expect(bearerToken(undefined)).toBeUndefined();
    expect(tokensMatch('s3cret', 's3cret')).toBe(true);
    expect(tokensMatch('s3cre', 's3cret')).toBe(false);
    expect(tokensMatch('', 's3cret')).toBe(false);
  });

  it('treats every spelling of the admin paths as admin', () => {
    for (const path of ['/audit', '/audit/', '/AUDIT', '/api', '/api/queue', '/API/Queue', '//api/queue']) {
      expect(isAdminPath(path), path).toBe(true);
    }
    for (const path of ['/healthz', '/metrics', '/readyz']) expect(isAdminPath(path), path).toBe(false);
  });
});

const ADMIN_ROUTES: readonly [string, string][] = [
  ['GET', '/audit'],
  ['GET', '/api/audit'],
  ['PUT', '/api/audit'],
  ['GET', '/api/queue'],
  ['GET', '/api/queue?limit=1'],
  ['GET', '/api/queue/shape'],
  ['POST', '/api/queue/flush'],
  ['POST', `/api/queue/${'0'.repeat(20)}/retry`],
  ['DELETE', `/api/queue/${'0'.repeat(20)}`],
  ['GET', '/api/messages'],
  ['GET', '/api/messages?limit=1'],
  ['GET', `/api/messages/${'0'.repeat(20)}`],
  ['GET', `/api/messages/${'0'.repeat(20)}/raw`],
  ['GET', '/api/unknown'],
  ['GET', '/API/queue'],
  ['GET', '/api/queue/'],
];

describe('with SMTP_ADMIN_TOKEN set', () => {
  it('every admin route answers 401 JSON without the token or with a wrong one', async () => {
    harness = await startHarness({ adminToken: 's3cret-token' });
    for (const [method, path] of ADMIN_ROUTES) {
      const headerSets: Record<string, string>[] = [
        {},
        { authorization: 'Bearer wrong' },
        { authorization: 'Basic czNjcmV0LXRva2Vu' },
      ];
      for (const headers of headerSets) {
        const body = method === 'PUT' ? '{"enabled":false}' : undefined;
        const res = await request(`${harness.url}${path}`, { method, headers, ...(body ? { body } : {}) });
        expect(res.status, `${method} ${path}`).toBe(401);
        expect(res.headers['www-authenticate']).toBe('Bearer');
        expect(res.json()).toEqual({ error: 'a valid bearer token is required' });
      }
    }
    expect(harness.audit.isEnabled()).toBe(true);
  });

  it('accepts the right token (loopback or not), and leaves probes open', async () => {
    harness = await startHarness({ adminToken: 's3cret-token' });
    const auth = { authorization: 'Bearer s3cret-token' };
    expect((await request(`${harness.url}/api/queue`, { headers: auth })).status).toBe(200);
    expect(
      (await request(`${harness.url}/api/audit`, { headers: { ...auth, host: 'mail.example.test' } })).status,
    ).toBe(200);
    const stream = await openStream(`${harness.url}/audit`, auth);
    expect(stream.response.statusCode).toBe(200);
    stream.close();
    for (const path of ['/healthz', '/readyz', '/metrics']) {
      expect((await request(`${harness.url}${path}`, { method: 'HEAD' })).status, path).toBe(200);
    }
  });
});

const external = await reachableExternalAddress();

describe('without SMTP_ADMIN_TOKEN', () => {
  it('loopback clients are served', async () => {
    harness = await startHarness();
    expect((await request(`${harness.url}/api/queue`)).status).toBe(200);
    expect((await request(`${harness.url}/api/audit`, { headers: { host: 'localhost:1' } })).status).toBe(200);
  });

  it('a non-loopback Host or a cross-site Origin is refused (DNS rebinding, CSRF)', async () => {
    harness = await startHarness();
    const rebinding = await request(`${harness.url}/api/queue`, { headers: { host: 'attacker.example:8080' } });
    expect(rebinding.status).toBe(403);
    expect(rebinding.json<{ error: string }>().error).toMatch(/cross-site/);
    const csrf = await request(`${harness.url}/api/queue/flush`, {
      method: 'POST',
      headers: { origin: 'https://evil.example' },
    });
    expect(csrf.status).toBe(403);
    const sameOrigin = await request(`${harness.url}/api/queue/flush`, {
      method: 'POST',
      headers: { origin: harness.url },
    });
    expect(sameOrigin.status).toBe(200);
  });

  it.skipIf(external === undefined)(
    `a client connecting over a non-loopback address (${external ?? 'none on this host'}) gets 403 JSON`,
    async () => {
      harness = await startHarness({ host: '0.0.0.0' });
      const url = `http://${external}:${harness.port}`;
      for (const [method, path] of ADMIN_ROUTES) {
        const res = await request(`${url}${path}`, { method });
        expect(res.status, `${method} ${path}`).toBe(403);
        expect(res.json<{ error: string }>().error).toMatch(/loopback/);
      }
      expect((await request(`${url}/readyz`)).status).toBe(200);
    },
  );
});

/**
 * A non-loopback IPv4 address of this host that a local TCP connection really
 * reaches: a probe server answers a random token, which must come back (some
 * sandboxes accept connections to the external address and never deliver them).
 */
async function reachableExternalAddress(): Promise<string | undefined> {
  const candidates = Object.values(networkInterfaces())
    .flat()
    .filter((i) => i !== undefined && !i.internal && i.family === 'IPv4')
    .map((i) => i?.address ?? '');
  const token = randomBytes(8).toString('hex');
  const server = createServer((socket) => socket.end(token));
  await new Promise<void>((resolve) => server.listen(0, '0.0.0.0', resolve));
  const { port } = server.address() as AddressInfo;
  try {
    for (const address of candidates) {
      const ok = await new Promise<boolean>((resolve) => {
        const socket = connect({ host: address, port });
        let received = '';
        const timer = setTimeout(() => (socket.destroy(), resolve(false)), 500);
        socket.setEncoding('utf8');
        socket.on('data', (chunk: string) => (received += chunk));
        socket.once('end', () => (clearTimeout(timer), resolve(received === token)));
        socket.once('error', () => (clearTimeout(timer), resolve(false)));
      });
      if (ok) return address;
    }
    return undefined;
  } finally {
    server.close();
  }
}
