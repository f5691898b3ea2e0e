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
    });
    publish({
      type: 'delivery.outcome',
      id: 'x',
      recipient: 'c@d',
      outcome: 'delivered',
      response: '250',
      attempts: 2,
      durationMs: 1500,
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
    expect(await value(metrics, 'gopherpost_delivery_duration_seconds_count')).toBe(2);
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
