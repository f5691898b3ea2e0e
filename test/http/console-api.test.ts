import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { DestinationList, HoldResult, StatsView } from '../../src/http/api-types.js';
import { request, startHarness, storeMessage, type Harness } from './helpers.js';

const TOKEN = 'console-test-token-0123456789';
let harness: Harness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

async function start(options: { adminToken?: string; console?: boolean } = {}): Promise<Harness> {
  harness = await startHarness({ console: true, ...options });
  return harness;
}

describe('/ui (§6)', () => {
  it('serves the page, its stylesheet and script from the package with a strict CSP', async () => {
    const h = await start();
    const page = await request(`${h.url}/ui`);
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.headers['content-security-policy']).toBe(
      "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    );
    expect(page.headers['x-content-type-options']).toBe('nosniff');
    expect(page.text).toContain('<script type="module" src="/ui/console.js"></script>');
    expect(page.text).not.toMatch(/https?:\/\//); // nothing from elsewhere
    const script = await request(`${h.url}/ui/console.js`);
    expect(script.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(script.text).toContain("fetch('/audit'");
    expect(script.text).toContain("block.split('\\n')"); // String.raw kept the escapes as written
    const css = await request(`${h.url}/ui/console.css`);
    expect(css.headers['content-type']).toBe('text/css; charset=utf-8');
  });

  it('without a token answers loopback clients only, and refuses a foreign Host (DNS rebinding)', async () => {
    const h = await start();
    const rebound = await request(`${h.url}/ui`, { headers: { Host: 'evil.example:80' } });
    expect(rebound.status).toBe(403);
  });

  it('with a token serves the page to anyone (it holds no data) while its API asks for the token', async () => {
    const h = await start({ adminToken: TOKEN });
    expect((await request(`${h.url}/ui`)).status).toBe(200);
    expect((await request(`${h.url}/api/destinations`)).status).toBe(401);
    expect((await request(`${h.url}/api/stats`)).status).toBe(401);
    const ok = await request(`${h.url}/api/destinations`, { headers: { Authorization: `Bearer ${TOKEN}` } });
    expect(ok.status).toBe(200);
  });

  it('is absent (404) from an app given no console feeds', async () => {
    const h = await start({ console: false });
    expect((await request(`${h.url}/ui`)).status).toBe(404);
    expect((await request(`${h.url}/api/destinations`)).status).toBe(404);
  });
});

describe('/api/destinations and holds (§6)', () => {
  it('counts waiting recipients per domain with the oldest age and the last error', async () => {
    const h = await start();
    const message = await storeMessage(h.spool, 'Subject: x\r\n\r\nx\r\n');
    await storeMessage(h.spool, 'Subject: y\r\n\r\ny\r\n', { recipients: ['dan@other.test'], receivedAt: Date.now() });
    h.audit.publish({
      type: 'delivery.outcome',
      id: message.id,
      recipient: 'Bob@Example.test',
      outcome: 'deferred',
      response: '451 4.7.1 try later',
      attempts: 1,
      durationMs: 12,
      receivedAt: Date.now(),
    });
    const list = (await request(`${h.url}/api/destinations`)).json<DestinationList>();
    expect(list.domains).toBe(2);
    const [first, second] = list.destinations;
    expect(first).toMatchObject({ domain: 'example.test', waiting: 2, held: false });
    expect(first?.lastError).toMatchObject({ recipient: 'Bob@Example.test', outcome: 'deferred' });
    expect(first?.lastError?.response).toBe('451 4.7.1 try later');
    const receivedAgo = Math.floor((Date.now() - Date.UTC(2026, 0, 2, 3, 4)) / 1000);
    expect(first?.oldestAgeSeconds).toBeGreaterThanOrEqual(receivedAgo - 5);
    expect(second).toEqual({
      domain: 'other.test',
      waiting: 1,
      oldestAgeSeconds: second?.oldestAgeSeconds,
      held: false,
      lastError: null,
    });
    expect(second?.oldestAgeSeconds).toBeLessThan(120);
    const top = (await request(`${h.url}/api/destinations?top=1`)).json<DestinationList>();
    expect(top.destinations.map((d) => d.domain)).toEqual(['example.test']);
    expect((await request(`${h.url}/api/destinations?top=0`)).status).toBe(400);
  });

  it('holds a destination durably, lists it even with nothing waiting, and a release makes its mail due', async () => {
    const h = await start();
    const message = await storeMessage(h.spool, 'Subject: x\r\n\r\nx\r\n');
    await h.spool.update(message.id, [
      { recipient: 'Bob@example.test', status: 'deferred', attempts: 1, nextAttemptAt: Date.UTC(2030, 0, 1) },
      { recipient: 'carol@example.test', status: 'deferred', attempts: 1, nextAttemptAt: Date.UTC(2030, 0, 1) },
    ]);
    expect(await h.spool.claim(Date.now(), 10)).toEqual([]);
    const put = (path: string) => request(`${h.url}${path}`, { method: 'PUT' });
    expect((await put('/api/destinations/Example.TEST./hold')).json<HoldResult>()).toEqual({
      domain: 'example.test',
      held: true,
      changed: true,
    });
    expect((await put('/api/destinations/example.test/hold')).json<HoldResult>().changed).toBe(false);
    expect((await put('/api/destinations/idle.test/hold')).status).toBe(200);
    expect(JSON.parse(await readFile(join(h.dir, 'holds.json'), 'utf8'))).toEqual({
      held: ['example.test', 'idle.test'],
    });
    const list = (await request(`${h.url}/api/destinations?top=1`)).json<DestinationList>();
    expect(list.destinations.map((d) => [d.domain, d.waiting, d.held])).toEqual([
      ['example.test', 2, true],
      ['idle.test', 0, true],
    ]);

    const bad = await put('/api/destinations/not%20a%20domain/hold');
    expect(bad.status).toBe(400);
    expect(bad.text).toContain('expected a destination domain');

    const released = await request(`${h.url}/api/destinations/example.test/hold`, { method: 'DELETE' });
    expect(released.json<HoldResult>()).toEqual({ domain: 'example.test', held: false, changed: true });
    const claimed = await h.spool.claim(Date.now(), 10);
    expect(claimed.map((c) => [c.record.id, c.due.length])).toEqual([[message.id, 2]]);
    expect(JSON.parse(await readFile(join(h.dir, 'holds.json'), 'utf8'))).toEqual({ held: ['idle.test'] });
  });

  it('/api/stats answers the sampling period and the samples so far', async () => {
    const h = await start();
    expect((await request(`${h.url}/api/stats`)).json<StatsView>()).toEqual({ everySeconds: 5, samples: [] });
  });
});
