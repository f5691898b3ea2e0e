import { afterEach, describe, expect, it } from 'vitest';
import { openStream, parsePrometheus, request, startHarness, type Harness } from './helpers.js';

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

describe('GET /healthz', () => {
  it('answers OK when audit logging is off', async () => {
    harness = await startHarness({ auditEnabled: false });
    const res = await request(`${harness.url}/healthz`);
    expect(res.status).toBe(200);
    expect(res.text).toBe('OK\n');
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
  });

  it('with audit logging on, streams OK and then one line per audit record as it happens', async () => {
    harness = await startHarness({ auditEnabled: true });
    const stream = await openStream(`${harness.url}/healthz`);
    try {
      await stream.until((text) => text === 'OK\n');
      harness.audit.publish({ type: 'session.start', session: 'abc', client: '127.0.0.1' });
      harness.audit.publish({
        type: 'rejected',
        session: 'abc',
        client: '127.0.0.1',
        stage: 'rcpt',
        code: 550,
        reason: 'no such user',
      });
      await stream.until((text) => text.split('\n').length >= 4);
      const lines = stream.text().split('\n');
      expect(lines[0]).toBe('OK');
      expect(lines[1]).toMatch(/^\[AUDIT\] \d{4}-\d\d-\d\dT[\d:.]+Z session\.start session=abc client=127\.0\.0\.1$/);
      expect(lines[2]).toMatch(/rejected session=abc client=127\.0\.0\.1 stage=rcpt code=550 reason="no such user"$/);
      expect(await harness.metrics.auditSubscribers.get()).toMatchObject({ values: [{ value: 1 }] });
    } finally {
      stream.close();
    }
    await waitFor(async () => (await harness!.metrics.auditSubscribers.get()).values[0]?.value === 0);
  });
});

describe('GET /readyz', () => {
  it('is 200 {"status":"ready"} when ready and 503 with the reason when not', async () => {
    harness = await startHarness();
    const ready = await request(`${harness.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(ready.json()).toEqual({ status: 'ready' });

    harness.setReadiness({ ok: false, reason: 'SMTP listener not bound' });
    const notReady = await request(`${harness.url}/readyz`);
    expect(notReady.status).toBe(503);
    expect(notReady.headers['content-type']).toMatch(/^application\/json/);
    expect(notReady.json()).toEqual({ status: 'not ready', reason: 'SMTP listener not bound' });
  });
});

describe('GET /metrics', () => {
  it('is valid Prometheus text with the SPEC §6 metrics and Node defaults', async () => {
    harness = await startHarness();
    const res = await request(`${harness.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    const exposition = parsePrometheus(res.text);
    expect(Object.fromEntries(exposition.types)).toMatchObject({
      gopherpost_sessions_active: 'gauge',
      gopherpost_connections_accepted_total: 'counter',
      gopherpost_connections_rejected_total: 'counter',
      gopherpost_messages_received_total: 'counter',
      gopherpost_received_bytes_total: 'counter',
      gopherpost_queue_depth: 'gauge',
      gopherpost_deliveries_total: 'counter',
      gopherpost_delivery_duration_seconds: 'histogram',
      gopherpost_auth_failures_total: 'counter',
      gopherpost_audit_subscribers: 'gauge',
      gopherpost_audit_events_dropped_total: 'counter',
      process_cpu_user_seconds_total: 'counter',
      nodejs_heap_size_used_bytes: 'gauge',
    });
  });

  it('counters move with audit events, even while audit logging is off', async () => {
    harness = await startHarness({ auditEnabled: false });
    const before = parsePrometheus((await request(`${harness.url}/metrics`)).text);
    expect(before.value('gopherpost_messages_received_total')).toBe(0);

    harness.audit.publish({ type: 'session.start', session: 's1', client: '127.0.0.1' });
    harness.audit.publish({ type: 'message.stored', session: 's1', id: 'm1', sender: 'a@b', recipients: 1, size: 512 });
    harness.audit.publish({
      type: 'delivery.outcome',
      id: 'm1',
      recipient: 'c@d',
      outcome: 'bounced',
      response: '550 no',
      attempts: 1,
      durationMs: 42,
      receivedAt: Date.now() - 5_000,
    });
    harness.audit.publish({
      type: 'rejected',
      session: 's2',
      client: '10.0.0.9',
      stage: 'connect',
      code: 554,
      reason: 'Access denied',
    });

    const after = parsePrometheus((await request(`${harness.url}/metrics`)).text);
    expect(after.value('gopherpost_messages_received_total')).toBe(1);
    expect(after.value('gopherpost_received_bytes_total')).toBe(512);
    expect(after.value('gopherpost_sessions_active')).toBe(1);
    expect(after.value('gopherpost_connections_accepted_total')).toBe(1);
    expect(after.value('gopherpost_connections_rejected_total', { reason: 'access_denied' })).toBe(1);
    expect(after.value('gopherpost_deliveries_total', { result: 'bounced' })).toBe(1);
    expect(after.value('gopherpost_delivery_duration_seconds_count', { outcome: 'bounced' })).toBe(1);
    expect(after.value('gopherpost_delivery_duration_seconds_bucket', { outcome: 'bounced', le: '0.05' })).toBe(1);
    expect(after.value('gopherpost_delivery_duration_seconds_count', { outcome: 'delivered' })).toBe(0);
    expect(after.value('gopherpost_queue_time_seconds_bucket', { outcome: 'bounced', le: '1' })).toBe(0);
    expect(after.value('gopherpost_queue_time_seconds_bucket', { outcome: 'bounced', le: '15' })).toBe(1);
    expect(after.value('gopherpost_deferred_recipients_total', { destination: 'other' })).toBe(0);
  });

  it('reads the queue depth at scrape time', async () => {
    harness = await startHarness();
    const { storeMessage } = await import('./helpers.js');
    await storeMessage(harness.spool, 'Subject: q\r\n\r\nbody\r\n');
    const exposition = parsePrometheus((await request(`${harness.url}/metrics`)).text);
    expect(exposition.value('gopherpost_queue_depth')).toBe(2);
  });

  it('reads the age of the oldest waiting recipient and whether the spool is writable at scrape time', async () => {
    harness = await startHarness();
    const empty = parsePrometheus((await request(`${harness.url}/metrics`)).text);
    expect(empty.value('gopherpost_queue_oldest_age_seconds')).toBe(0);
    expect(empty.value('gopherpost_spool_writable')).toBe(1);
    const { storeMessage } = await import('./helpers.js');
    const receivedAt = Date.now() - 90_000;
    await storeMessage(harness.spool, 'Subject: old\r\n\r\nbody\r\n', { receivedAt });
    await storeMessage(harness.spool, 'Subject: new\r\n\r\nbody\r\n', { receivedAt: Date.now() });
    const waiting = parsePrometheus((await request(`${harness.url}/metrics`)).text);
    expect(waiting.types.get('gopherpost_queue_oldest_age_seconds')).toBe('gauge');
    expect(waiting.value('gopherpost_queue_oldest_age_seconds')).toBeGreaterThanOrEqual(90);
    expect(waiting.value('gopherpost_queue_oldest_age_seconds')).toBeLessThan(120);
  });
});

describe('errors', () => {
  it('answers unknown routes and wrong methods with a JSON error', async () => {
    harness = await startHarness();
    const missing = await request(`${harness.url}/nope`);
    expect(missing.status).toBe(404);
    expect(missing.json()).toEqual({ error: 'not found' });
    const wrongMethod = await request(`${harness.url}/readyz`, { method: 'POST' });
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.allow).toMatch(/GET/);
    expect(wrongMethod.json()).toEqual({ error: 'method not allowed' });
  });
});

async function waitFor(check: () => Promise<boolean>, timeoutMs = 3000): Promise<void> {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > timeoutMs) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
