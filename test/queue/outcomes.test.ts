import { describe, expect, it } from 'vitest';
import type { DeliveryOutcome } from '../../src/domain/delivery.js';
import type { MessageRecord, RecipientState } from '../../src/domain/envelope.js';
import type { DeliveryJob } from '../../src/domain/job.js';
import { deferBounces, isExpired, planConfig, planUpdates } from '../../src/queue/outcomes.js';

const state = (recipient: string, attempts = 0): RecipientState => ({
  recipient,
  status: attempts === 0 ? 'queued' : 'deferred',
  attempts,
  nextAttemptAt: 0,
  updatedAt: 0,
});

function jobOf(recipients: readonly RecipientState[], receivedAt = 0): DeliveryJob {
  const record: MessageRecord = {
    id: 'm1',
    envelope: {
      sender: 'a@s.test',
      recipients: recipients.map((r) => r.recipient),
      clientAddress: '127.0.0.1',
      heloName: 'c',
      receivedAt,
    },
    size: 1,
    recipients,
  };
  return { record, domain: 'x.test', recipients };
}

describe('planUpdates', () => {
  const cfg = planConfig({ retryBaseSeconds: 60, retryMaxSeconds: 3840, queueLifetimeHours: 120 });
  const now = 10 * 3_600_000;
  const job = jobOf([state('ok@x.test', 0), state('later@x.test', 2), state('gone@x.test', 0)]);
  const outcomes = new Map<string, DeliveryOutcome>([
    ['ok@x.test', { kind: 'delivered', response: '250 ok' }],
    ['later@x.test', { kind: 'deferred', response: '451 later' }],
    ['gone@x.test', { kind: 'failed', response: '550 gone' }],
  ]);

  it('records delivered, deferred with backoff, and bounced', () => {
    const plan = planUpdates(job, outcomes, now, cfg, () => 0);
    expect(plan.updates).toEqual([
      { recipient: 'ok@x.test', status: 'delivered', attempts: 1, nextAttemptAt: now, lastResponse: '250 ok' },
      // third failed attempt: 60 s × 2² = 240 s
      {
        recipient: 'later@x.test',
        status: 'deferred',
        attempts: 3,
        nextAttemptAt: now + 240_000,
        lastResponse: '451 later',
      },
      { recipient: 'gone@x.test', status: 'bounced', attempts: 1, nextAttemptAt: now, lastResponse: '550 gone' },
    ]);
    expect(plan.bounced).toEqual([{ recipient: 'gone@x.test', response: '550 gone', expired: false }]);
  });

  it('bounces a deferral past the lifetime', () => {
    const old = jobOf([state('later@x.test', 5)], now - 121 * 3_600_000);
    const plan = planUpdates(old, outcomes, now, cfg, () => 0);
    expect(plan.updates[0]).toMatchObject({ status: 'bounced', attempts: 6 });
    expect(plan.bounced).toEqual([{ recipient: 'later@x.test', response: '451 later', expired: true }]);
    expect(isExpired(0, 120 * 3_600_000, cfg.lifetimeMs)).toBe(true);
    expect(isExpired(1, 120 * 3_600_000, cfg.lifetimeMs)).toBe(false);
  });

  it('keeps bounced recipients deferred when the DSN could not be stored', () => {
    const plan = deferBounces(
      planUpdates(job, outcomes, now, cfg, () => 0),
      now,
      cfg,
      () => 0,
    );
    expect(plan.bounced).toEqual([]);
    expect(plan.updates[2]).toMatchObject({
      recipient: 'gone@x.test',
      status: 'deferred',
      nextAttemptAt: now + 60_000,
    });
  });

  it('defers recipients the attempt said nothing about', () => {
    const plan = planUpdates(job, new Map(), now, cfg, () => 0);
    expect(plan.updates.map((u) => u.status)).toEqual(['deferred', 'deferred', 'deferred']);
    expect(new Set(plan.updates.map((u) => u.lastResponse))).toEqual(
      new Set(['4.0.0 no outcome recorded for this recipient']),
    );
  });
});
