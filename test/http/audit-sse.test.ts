import { setImmediate as tick } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import type { AuditEvent, AuditRecord } from '../../src/domain/audit.js';
import { openStream, parsePrometheus, request, startHarness, type Harness } from './helpers.js';
import { eventually } from '../helpers/eventually.js';

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

const command = (n: number): AuditEvent => ({ type: 'command', session: 's1', command: `NOOP ${n}`, reply: 250 });

async function subscribers(h: Harness): Promise<number> {
  return (await h.metrics.auditSubscribers.get()).values[0]?.value ?? Number.NaN;
}

describe('GET /audit (Server-Sent Events)', () => {
  it('streams one JSON event per record with id: and event: lines', async () => {
    harness = await startHarness();
    const stream = await openStream(`${harness.url}/audit`, { accept: 'text/event-stream' });
    try {
      expect(stream.response.statusCode).toBe(200);
      expect(stream.response.headers['content-type']).toBe('text/event-stream; charset=utf-8');
      expect(stream.response.headers['cache-control']).toMatch(/no-cache/);
      await stream.until((text) => text.includes('\n\n'));
      expect(stream.comments()[0]).toMatch(/audit stream, audit logging on/);

      harness.audit.publish({ type: 'session.start', session: 's1', client: '127.0.0.1' });
      harness.audit.publish(command(1));
      const events = await stream.waitForEvents(2);
      expect(events.map((e) => [e.id, e.event])).toEqual([
        ['1', 'session.start'],
        ['2', 'command'],
      ]);
      const record = JSON.parse(events[1]?.data ?? '') as AuditRecord;
      expect(record).toMatchObject({ seq: 2, type: 'command', command: 'NOOP 1', reply: 250 });
      expect(new Date(record.time).toISOString()).toBe(record.time);
      expect(await subscribers(harness)).toBe(1);
    } finally {
      stream.close();
    }
    await eventually(async () => (await subscribers(harness!)) === 0);
  });

  it('replays what the client missed when it reconnects with Last-Event-ID', async () => {
    harness = await startHarness({ replay: 3 });
    const first = await openStream(`${harness.url}/audit`);
    for (let i = 1; i <= 2; i++) harness.audit.publish(command(i));
    const seen = await first.waitForEvents(2);
    first.close();
    const lastId = seen.at(-1)?.id ?? '';
    expect(lastId).toBe('2');

    for (let i = 3; i <= 5; i++) harness.audit.publish(command(i)); // published while disconnected

    const second = await openStream(`${harness.url}/audit`, { 'last-event-id': lastId });
    try {
      const replayed = await second.waitForEvents(3);
      expect(replayed.map((e) => e.id)).toEqual(['3', '4', '5']);
      harness.audit.publish(command(6));
      expect((await second.waitForEvents(4)).map((e) => e.id)).toEqual(['3', '4', '5', '6']);
    } finally {
      second.close();
    }

    // The replay window holds 3 records: reconnecting from id 1 gets 4, 5, 6 (2 and 3 are gone).
    const third = await openStream(`${harness.url}/audit?lastEventId=1`);
    try {
      expect((await third.waitForEvents(3)).map((e) => e.id)).toEqual(['4', '5', '6']);
    } finally {
      third.close();
    }
  });

  it('sends heartbeat comments', async () => {
    harness = await startHarness({ heartbeatMs: 50 });
    const stream = await openStream(`${harness.url}/audit`);
    try {
      await stream.until(() => stream.comments().filter((c) => c === 'heartbeat').length >= 2);
    } finally {
      stream.close();
    }
  });

  it('stops sending events after PUT /api/audit {"enabled":false}, and resumes when switched on', async () => {
    harness = await startHarness();
    const stream = await openStream(`${harness.url}/audit`);
    try {
      harness.audit.publish(command(1));
      await stream.waitForEvents(1);

      // curl -X PUT -d '{"enabled":false}' sends a form content type: the body is JSON anyway.
      const off = await request(`${harness.url}/api/audit`, {
        method: 'PUT',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: '{"enabled":false}',
      });
      expect(off.status).toBe(200);
      expect(off.json()).toEqual({ enabled: false });
      expect((await request(`${harness.url}/api/audit`)).json()).toEqual({ enabled: false });

      const events = await stream.waitForEvents(2);
      expect(JSON.parse(events[1]?.data ?? '')).toMatchObject({ type: 'config', key: 'audit', value: 'off' });

      harness.audit.publish(command(2)); // not streamed
      await new Promise((resolve) => setTimeout(resolve, 100)); // the thing under test is that nothing is streamed
      expect(stream.events()).toHaveLength(2);

      await request(`${harness.url}/api/audit`, { method: 'PUT', body: '{"enabled":true}' });
      harness.audit.publish(command(3));
      const after = await stream.waitForEvents(4);
      expect(
        after
          .slice(2)
          .map((e) => JSON.parse(e.data) as AuditRecord)
          .map((r) => r.type),
      ).toEqual(['config', 'command']);
    } finally {
      stream.close();
    }
  });

  it('rejects a malformed switch body with 400', async () => {
    harness = await startHarness();
    for (const body of ['', 'nope', '{"enabled":"yes"}', '{"enabled":true,"extra":1}']) {
      const res = await request(`${harness.url}/api/audit`, { method: 'PUT', body });
      expect(res.status, body).toBe(400);
      expect(res.json<{ error: string }>().error).toBeTypeOf('string');
    }
    const huge = await request(`${harness.url}/api/audit`, {
      method: 'PUT',
      body: `{"enabled":true,"x":"${'a'.repeat(20_000)}"}`,
    });
    expect(huge.status).toBe(413);
  });

  it('a client that never reads loses its oldest events (counted) and does not slow the publisher', async () => {
    harness = await startHarness({ subscriberBuffer: 8 });
    const stream = await openStream(`${harness.url}/audit`);
    await stream.until((text) => text.includes('\n\n'));
    stream.response.pause(); // stop reading: the socket buffers fill up

    const reason = 'x'.repeat(16 * 1024);
    let slowest = 0;
    for (let batch = 0; batch < 200; batch++) {
      const started = process.hrtime.bigint();
      for (let i = 0; i < 20; i++) {
        harness.audit.publish({
          type: 'rejected',
          session: 's',
          client: '127.0.0.1',
          stage: 'rcpt',
          code: 550,
          reason,
        });
      }
      slowest = Math.max(slowest, Number(process.hrtime.bigint() - started) / 1e6);
      await tick(); // let the socket flush what it can
    }
    const metrics = parsePrometheus((await request(`${harness.url}/metrics`)).text);
    const dropped = metrics.value('gopherpost_audit_events_dropped_total') ?? 0;
    expect(dropped).toBeGreaterThan(0);
    // 4000 events of 16 KiB (64 MiB) were published; far less than that is held anywhere.
    expect(process.memoryUsage().rss).toBeLessThan(1024 * 1024 * 1024);
    expect(slowest).toBeLessThan(1000); // a generous bound: a blocked publisher would hang, not be slow

    // When the client reads again it gets the newest records, in order.
    stream.response.resume();
    harness.audit.publish(command(99));
    await stream.untilTail((tail) => tail.includes('NOOP 99'), 10_000);
    const ids = stream.events().map((e) => Number(e.id));
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(ids.at(-1)).toBe(4001);
    stream.close();
  });
});
