import { describe, expect, it } from 'vitest';
import { Subject } from 'rxjs';
import type { AuditEvent } from '../../src/domain/audit.js';
import { createMetrics, observeAudit } from '../../src/metrics/registry.js';
import { createReasonLabeler } from '../../src/metrics/reason-label.js';

async function value(
  metrics: ReturnType<typeof createMetrics>,
  name: string,
  labels: Record<string, string> = {},
): Promise<number> {
  const base = name.replace(/_(count|sum)$/, '');
  const metric = await (metrics.registry.getSingleMetric(name) ?? metrics.registry.getSingleMetric(base))?.get();
  const sample = metric?.values.find(
    (v) =>
      ((v as { metricName?: string }).metricName ?? name) === name &&
      Object.entries(labels).every(([k, l]) => (v.labels as Record<string, unknown>)[k] === l),
  );
  return sample?.value ?? Number.NaN;
}

describe('metrics driven by audit events', () => {
  it('counts sessions, rejections, messages, deliveries and auth failures', async () => {
    const metrics = createMetrics({ defaultMetrics: false, queueDepth: () => 7 });
    const events = new Subject<AuditEvent>();
    observeAudit(metrics, events);
    const publish = (e: AuditEvent): void => events.next(e);

    publish({ type: 'session.start', session: 's1', client: '127.0.0.1' });
    publish({ type: 'session.start', session: 's2', client: '127.0.0.1' });
    publish({ type: 'session.close', session: 's1', client: '127.0.0.1' });
    publish({ type: 'session.close', session: 'never-started', client: '10.0.0.1' });
    publish({
      type: 'rejected',
      session: 's3',
      client: '10.0.0.1',
      stage: 'connect',
      code: 554,
      reason: 'Not in allow list',
    });
    publish({ type: 'rejected', session: 's2', client: '127.0.0.1', stage: 'auth', code: 535, reason: 'bad password' });
    publish({ type: 'message.stored', session: 's2', id: 'x', sender: 'a@b', recipients: 2, size: 1234 });
    publish({
      type: 'delivery.outcome',
      id: 'x',
      recipient: 'c@d',
      outcome: 'deferred',
      response: '451',
      attempts: 1,
      durationMs: 300,
      receivedAt: Date.now() - 60_000,
    });
    publish({
      type: 'delivery.outcome',
      id: 'x',
      recipient: 'c@d',
      outcome: 'delivered',
      response: '250',
      attempts: 2,
      durationMs: 1500,
      receivedAt: Date.now() - 60_000,
    });

    expect(await value(metrics, 'gopherpost_sessions_active')).toBe(1);
    expect(await value(metrics, 'gopherpost_connections_accepted_total')).toBe(2);
    expect(await value(metrics, 'gopherpost_connections_rejected_total', { reason: 'not_in_allow_list' })).toBe(1);
    expect(await value(metrics, 'gopherpost_auth_failures_total')).toBe(1);
    expect(await value(metrics, 'gopherpost_messages_received_total')).toBe(1);
    expect(await value(metrics, 'gopherpost_received_bytes_total')).toBe(1234);
    expect(await value(metrics, 'gopherpost_deliveries_total', { result: 'delivered' })).toBe(1);
    expect(await value(metrics, 'gopherpost_deliveries_total', { result: 'deferred' })).toBe(1);
    expect(await value(metrics, 'gopherpost_deliveries_total', { result: 'bounced' })).toBe(0);
    expect(await value(metrics, 'gopherpost_delivery_duration_seconds_count', { outcome: 'delivered' })).toBe(1);
    expect(await value(metrics, 'gopherpost_delivery_duration_seconds_count', { outcome: 'deferred' })).toBe(1);
    expect(await value(metrics, 'gopherpost_delivery_duration_seconds_sum', { outcome: 'delivered' })).toBe(1.5);
    expect(await value(metrics, 'gopherpost_queue_depth')).toBe(7);
  });

  it('a failing queue-depth source keeps the last value and does not break the scrape', async () => {
    let fail = false;
    const metrics = createMetrics({
      defaultMetrics: false,
      queueDepth: () => (fail ? Promise.reject(new Error('x')) : 3),
    });
    expect(await value(metrics, 'gopherpost_queue_depth')).toBe(3);
    fail = true;
    expect(await metrics.render()).toContain('gopherpost_queue_depth 3');
  });
});

describe('createReasonLabeler', () => {
  it('folds free text into a bounded label set', () => {
    const label = createReasonLabeler(2);
    expect(label('Too many connections from 10.1.2.3')).toBe('too_many_connections_from');
    expect(label('Too many connections from 10.9.9.9')).toBe('too_many_connections_from');
    expect(label('')).toBe('unknown');
    expect(label('something else')).toBe('other');
  });
});

describe('how late is the mail', () => {
  const T0 = Date.UTC(2026, 11, 6, 12, 0, 0);
  const outcome = (
    recipient: string,
    result: 'delivered' | 'deferred' | 'bounced',
    receivedAt: number,
    durationMs = 100,
  ): AuditEvent => ({
    type: 'delivery.outcome',
    id: 'x',
    recipient,
    outcome: result,
    response: '',
    attempts: 1,
    durationMs,
    receivedAt,
  });

  it('observes the time in the queue and the attempt duration by outcome', async () => {
    const metrics = createMetrics({ defaultMetrics: false, now: () => T0 });
    metrics.record(outcome('a@one.test', 'delivered', T0 - 30_000, 200));
    metrics.record(outcome('b@one.test', 'deferred', T0 - 2 * 3600_000));
    metrics.record(outcome('c@two.test', 'bounced', T0 - 500, 4000));
    const text = await metrics.render();
    expect(text).toContain('gopherpost_queue_time_seconds_bucket{le="15",outcome="delivered"} 0');
    expect(text).toContain('gopherpost_queue_time_seconds_bucket{le="60",outcome="delivered"} 1');
    expect(text).toContain('gopherpost_queue_time_seconds_sum{outcome="deferred"} 7200');
    expect(text).toContain('gopherpost_queue_time_seconds_bucket{le="1",outcome="bounced"} 1');
    expect(text).toContain('gopherpost_delivery_duration_seconds_sum{outcome="bounced"} 4');
    expect(text).toContain('gopherpost_delivery_duration_seconds_count{outcome="delivered"} 1');
  });

  it('counts deferred recipients under their destination, the top N of late, the rest as other', async () => {
    const metrics = createMetrics({ defaultMetrics: false, now: () => T0, topDestinations: 2 });
    metrics.record(outcome('a@one.test', 'deferred', T0));
    metrics.record(outcome('a2@one.test', 'deferred', T0));
    metrics.record(outcome('b@Two.test', 'deferred', T0));
    metrics.record(outcome('c@three.test', 'deferred', T0));
    metrics.record(outcome('d@one.test', 'delivered', T0));
    expect(await value(metrics, 'gopherpost_deferred_recipients_total', { destination: 'one.test' })).toBe(2);
    expect(await value(metrics, 'gopherpost_deferred_recipients_total', { destination: 'two.test' })).toBe(1);
    expect(await value(metrics, 'gopherpost_deferred_recipients_total', { destination: 'other' })).toBe(1);
    for (let i = 0; i < 4; i++) metrics.record(outcome(`r${i}@three.test`, 'deferred', T0));
    // the scrape hands three.test a label (5 against two.test's 1): its series starts at 0, two.test's goes
    const text = await metrics.render();
    expect(text).toContain('gopherpost_deferred_recipients_total{destination="three.test"} 0');
    expect(text).toContain('gopherpost_deferred_recipients_total{destination="other"} 5');
    expect(text).not.toContain('destination="two.test"');
    metrics.record(outcome('z@three.test', 'deferred', T0));
    expect(await value(metrics, 'gopherpost_deferred_recipients_total', { destination: 'three.test' })).toBe(1);
  });

  it('reads the oldest waiting age, and the spool as not writable when its check fails or hangs', async () => {
    let oldest: number | undefined = T0 - 90_000;
    let check: () => Promise<void> = () => Promise.resolve();
    const metrics = createMetrics({
      defaultMetrics: false,
      now: () => T0,
      oldestWaitingAt: () => oldest,
      spoolCheck: () => check(),
      spoolCheckTimeoutMs: 50,
    });
    expect(await value(metrics, 'gopherpost_queue_oldest_age_seconds')).toBe(90);
    expect(await value(metrics, 'gopherpost_spool_writable')).toBe(1);
    oldest = undefined;
    check = () => Promise.reject(new Error('EROFS: read-only file system'));
    expect(await value(metrics, 'gopherpost_queue_oldest_age_seconds')).toBe(0);
    expect(await value(metrics, 'gopherpost_spool_writable')).toBe(0);
    check = () => Promise.resolve();
    expect(await value(metrics, 'gopherpost_spool_writable')).toBe(1);
    check = () => new Promise<void>(() => undefined);
    expect(await value(metrics, 'gopherpost_spool_writable')).toBe(0);
  });
});
