import { describe, expect, it } from 'vitest';
import type { DeliveryOutcome, DueRecipient } from '../../src/domain/delivery.js';
import { groupIntoJobs, jobKey } from '../../src/queue/jobs.js';
import { deferBounces, isExpired, planConfig, planUpdates } from '../../src/queue/outcomes.js';

const due = (id: string, recipient: string, attempts = 0, receivedAt = 0): DueRecipient => ({
  id,
  recipient,
  domain: recipient.slice(recipient.lastIndexOf('@') + 1).toLowerCase(),
  attempts,
  receivedAt,
});

describe('groupIntoJobs', () => {
  const claimed = [due('m1', 'a@x.test'), due('m1', 'b@y.test'), due('m2', 'c@x.test'), due('m1', 'd@X.test')];

  it('makes one job per (message, domain) in mx mode', () => {
    expect(groupIntoJobs(claimed, true).map((j) => [j.id, j.domain, j.recipients.map((r) => r.recipient)])).toEqual([
      ['m1', 'x.test', ['a@x.test', 'd@X.test']],
      ['m1', 'y.test', ['b@y.test']],
      ['m2', 'x.test', ['c@x.test']],
    ]);
  });

  it('makes one job per message in relay mode, keyed apart from domains', () => {
    const jobs = groupIntoJobs(claimed, false);
    expect(jobs.map((j) => [j.id, j.recipients.length])).toEqual([
      ['m1', 3],
      ['m2', 1],
    ]);
    expect(jobs.map(jobKey)).toEqual(['relay:m1', 'relay:m2']);
  });
});

describe('planUpdates', () => {
  const cfg = planConfig({ retryBaseSeconds: 60, retryMaxSeconds: 3840, queueLifetimeHours: 120 });
  const now = 10 * 3_600_000;
  const job = { id: 'm1', domain: 'x.test', recipients: [due('m1', 'ok@x.test', 0), due('m1', 'later@x.test', 2), due('m1', 'gone@x.test', 0)] };
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
      { recipient: 'later@x.test', status: 'deferred', attempts: 3, nextAttemptAt: now + 240_000, lastResponse: '451 later' },
      { recipient: 'gone@x.test', status: 'bounced', attempts: 1, nextAttemptAt: now, lastResponse: '550 gone' },
    ]);
    expect(plan.bounced).toEqual([{ recipient: 'gone@x.test', response: '550 gone', expired: false }]);
  });

  it('bounces a deferral past the lifetime', () => {
    const old = { ...job, recipients: [due('m1', 'later@x.test', 5, now - 121 * 3_600_000)] };
    const plan = planUpdates(old, outcomes, now, cfg, () => 0);
    expect(plan.updates[0]).toMatchObject({ status: 'bounced', attempts: 6 });
    expect(plan.bounced).toEqual([{ recipient: 'later@x.test', response: '451 later', expired: true }]);
    expect(isExpired(0, 120 * 3_600_000, cfg.lifetimeMs)).toBe(true);
    expect(isExpired(1, 120 * 3_600_000, cfg.lifetimeMs)).toBe(false);
  });

  it('keeps bounced recipients deferred when the DSN could not be stored', () => {
    const plan = deferBounces(planUpdates(job, outcomes, now, cfg, () => 0), now, cfg, () => 0);
    expect(plan.bounced).toEqual([]);
    expect(plan.updates[2]).toMatchObject({ recipient: 'gone@x.test', status: 'deferred', nextAttemptAt: now + 60_000 });
  });

  it('defers recipients the attempt said nothing about', () => {
    const plan = planUpdates(job, new Map(), now, cfg, () => 0);
    expect(plan.updates.map((u) => u.status)).toEqual(['deferred', 'deferred', 'deferred']);
  });
});
