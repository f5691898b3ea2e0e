/** Which notices an attempt calls for (pure), as a table of NOTIFY values, outcomes and ages. */
import { describe, expect, it } from 'vitest';
import type { DeliveryOutcome } from '../../src/domain/delivery.js';
import type { EnvelopeDsn } from '../../src/domain/dsn.js';
import type { MessageRecord, RecipientState } from '../../src/domain/envelope.js';
import type { DeliveryJob } from '../../src/domain/job.js';
import { planNotices, type NoticeConfig } from '../../src/queue/notices.js';
import { deferBounces, planConfig, planUpdates } from '../../src/queue/outcomes.js';

const HOUR = 3_600_000;
const plan = planConfig({ retryBaseSeconds: 60, retryMaxSeconds: 3840, queueLifetimeHours: 120 });
const cfg: NoticeConfig = { bounces: true, delayWarningMs: 4 * HOUR };

const state = (recipient: string, delayNoticeAt?: number): RecipientState => ({
  recipient,
  status: 'deferred',
  attempts: 1,
  nextAttemptAt: 0,
  updatedAt: 0,
  ...(delayNoticeAt === undefined ? {} : { delayNoticeAt }),
});

function jobOf(recipients: readonly RecipientState[], dsn?: EnvelopeDsn, sender = 'a@s.test'): DeliveryJob {
  const record: MessageRecord = {
    id: 'm1',
    envelope: {
      sender,
      recipients: recipients.map((r) => r.recipient),
      clientAddress: '127.0.0.1',
      heloName: 'c',
      receivedAt: 0,
      ...(dsn ? { dsn } : {}),
    },
    size: 1,
    recipients,
  };
  return { record, domain: 'x.test', recipients };
}

const outcome = (kind: DeliveryOutcome['kind'], response: string): DeliveryOutcome => ({ kind, response });

function notices(job: DeliveryJob, outcomes: Record<string, DeliveryOutcome>, now: number, c = cfg, dsn = false) {
  const p = planUpdates(job, new Map(Object.entries(outcomes)), now, plan, () => 0);
  const n = planNotices(job, p, now, c, { remoteMta: 'mx.x.test', dsn });
  return {
    failed: n.failed.map((r) => r.recipient),
    delayed: n.delayed.map((r) => r.recipient),
    relayed: n.relayed.map((r) => r.recipient),
    all: n,
  };
}

const dsn: EnvelopeDsn = {
  envid: 'E1',
  recipients: {
    'never@x.test': { notify: ['NEVER'] },
    'success@x.test': { notify: ['SUCCESS'], orcpt: 'rfc822;old@x.test' },
    'delay@x.test': { notify: ['DELAY'] },
    'failure@x.test': { notify: ['FAILURE'] },
  },
};
const everyone = ['never@x.test', 'success@x.test', 'delay@x.test', 'failure@x.test', 'plain@x.test'];

describe('planNotices', () => {
  it('failure reports go to recipients that asked for FAILURE or gave no NOTIFY', () => {
    const all = Object.fromEntries(everyone.map((r) => [r, outcome('failed', '550 5.1.1 no')]));
    expect(
      notices(
        jobOf(
          everyone.map((r) => state(r)),
          dsn,
        ),
        all,
        HOUR,
      ).failed,
    ).toEqual(['failure@x.test', 'plain@x.test']);
  });

  it('delay reports once the message is older than the warning, to DELAY or no-NOTIFY recipients without one', () => {
    const job = jobOf([...everyone.map((r) => state(r)), state('warned@x.test', 2 * HOUR)], dsn);
    const all = Object.fromEntries(
      [...everyone, 'warned@x.test'].map((r) => [r, outcome('deferred', '451 4.2.2 full')]),
    );
    expect(notices(job, all, 4 * HOUR - 1).delayed).toEqual([]);
    expect(notices(job, all, 4 * HOUR).delayed).toEqual(['delay@x.test', 'plain@x.test']);
    expect(notices(job, all, 4 * HOUR, { ...cfg, delayWarningMs: 0 }).delayed).toEqual([]);
  });

  it('delay reports count the age from arrival, and go only to recipients still deferred', () => {
    const late = (receivedAt: number, now: number, outcomes: Record<string, DeliveryOutcome>) => {
      const job = jobOf(
        everyone.map((r) => state(r)),
        dsn,
      );
      const record = { ...job.record, envelope: { ...job.record.envelope, receivedAt } };
      const p = planUpdates({ ...job, record }, new Map(Object.entries(outcomes)), now, plan, () => 0);
      return planNotices({ ...job, record }, p, now, cfg, { remoteMta: 'mx.x.test', dsn: false }).delayed.map(
        (r) => r.recipient,
      );
    };
    const deferred = Object.fromEntries(everyone.map((r) => [r, outcome('deferred', '451 4.2.2 full')]));
    expect(late(10 * HOUR, 12 * HOUR, deferred)).toEqual([]); // two hours old
    expect(late(10 * HOUR, 14 * HOUR, deferred)).toEqual(['delay@x.test', 'plain@x.test']);
    const delivered = { ...deferred, 'delay@x.test': outcome('delivered', '250 ok') };
    expect(late(0, 5 * HOUR, delivered)).toEqual(['plain@x.test']);
  });

  it('relayed reports only to delivered recipients', () => {
    const job = jobOf(
      everyone.map((r) => state(r)),
      dsn,
    );
    const all = Object.fromEntries(everyone.map((r) => [r, outcome('deferred', '451 4.2.2 full')]));
    expect(notices(job, all, HOUR).relayed).toEqual([]);
  });

  it('relayed reports only to SUCCESS recipients, and only when the next hop does not offer DSN', () => {
    const all = Object.fromEntries(everyone.map((r) => [r, outcome('delivered', '250 2.0.0 ok')]));
    const job = jobOf(
      everyone.map((r) => state(r)),
      dsn,
    );
    const n = notices(job, all, HOUR);
    expect([n.failed, n.delayed, n.relayed]).toEqual([[], [], ['success@x.test']]);
    expect(n.all.relayed[0]).toEqual({
      recipient: 'success@x.test',
      response: '250 2.0.0 ok',
      lastAttemptAt: HOUR,
      orcpt: 'rfc822;old@x.test',
      remoteMta: 'mx.x.test',
    });
    expect(notices(job, all, HOUR, cfg, true).relayed).toEqual([]);
  });

  it('a message from the null sender gets no notice of any kind; SMTP_BOUNCES=false stops failure reports only', () => {
    const job = jobOf([state('plain@x.test'), state('success@x.test')], dsn, '');
    const mixed = { 'plain@x.test': outcome('failed', '550 no'), 'success@x.test': outcome('delivered', '250 ok') };
    const none = notices(job, mixed, 5 * HOUR);
    expect([none.failed, none.delayed, none.relayed]).toEqual([[], [], []]);
    const quiet = notices(jobOf([state('plain@x.test'), state('success@x.test')], dsn), mixed, HOUR, {
      ...cfg,
      bounces: false,
    });
    expect([quiet.failed, quiet.relayed]).toEqual([[], ['success@x.test']]);
  });

  it('gives Remote-MTA only for replies from the server, not for our own verdicts', () => {
    const job = jobOf([state('a@x.test'), state('b@x.test'), state('c@x.test'), state('d@x.test')]);
    const n = notices(
      job,
      {
        'a@x.test': outcome('failed', '550 5.1.1 no'),
        'b@x.test': outcome('failed', '5.1.10 null MX'),
        // a verdict of ours that holds digits later on is still ours
        'c@x.test': outcome('failed', '5.4.4 no answer from 192.0.2.1 after 300 s'),
        // a reply kept with the white space around it is still the server's
        'd@x.test': outcome('failed', ' 554 5.7.1 refused\r\n'),
      },
      HOUR,
    );
    expect(n.all.failed.map((r) => r.remoteMta)).toEqual(['mx.x.test', undefined, undefined, 'mx.x.test']);
  });

  it('has no remote MTA when no host was dialled', () => {
    const job = jobOf([state('a@x.test')]);
    const p = planUpdates(job, new Map([['a@x.test', outcome('failed', '550 5.1.1 no')]]), HOUR, plan, () => 0);
    expect(planNotices(job, p, HOUR, cfg, {}).failed.map((r) => r.remoteMta)).toEqual([undefined]);
  });
});

describe('deferBounces for some recipients', () => {
  it('defers only the named bounced recipients and keeps the others bounced', () => {
    const job = jobOf([state('a@x.test'), state('b@x.test')]);
    const outcomes = new Map([
      ['a@x.test', outcome('failed', '550 a')],
      ['b@x.test', outcome('failed', '550 b')],
    ]);
    const p = deferBounces(
      planUpdates(job, outcomes, HOUR, plan, () => 0),
      HOUR,
      plan,
      () => 0,
      new Set(['a@x.test']),
    );
    expect(p.updates.map((u) => [u.recipient, u.status])).toEqual([
      ['a@x.test', 'deferred'],
      ['b@x.test', 'bounced'],
    ]);
    expect(p.bounced.map((b) => b.recipient)).toEqual(['b@x.test']);
  });
});
