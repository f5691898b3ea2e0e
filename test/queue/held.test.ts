/**
 * Jobs for held destinations (held.ts) against a real file spool: a job with
 * any recipient at a held domain is held back whole, and its recipients are
 * written back unattempted, due again at the given time, their last
 * response kept.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DeliveryJob } from '../../src/domain/job.js';
import { HOLD_RECHECK_MS, postponeHeld, splitHeld } from '../../src/queue/held.js';
import { splitIntoJobs } from '../../src/queue/jobs.js';
import type { Spool } from '../../src/spool/spool.js';
import { startSink } from '../helpers/sink.js';
import { storeMessage, tempFileSpool, type TempSpool } from '../helpers/spool.js';
import { createHarness, crlf } from './harness.js';

let temp: TempSpool;
let spool: Spool;

beforeEach(async () => {
  temp = await tempFileSpool('gp-held-');
  spool = temp.spool;
});

afterEach(() => temp.close());

async function jobsFor(recipients: readonly string[]): Promise<DeliveryJob[]> {
  await storeMessage(spool, recipients, 'Subject: held\r\n\r\nbody\r\n');
  const [claimed] = await spool.claim(Date.now() + 1_000, 10);
  if (!claimed) throw new Error('nothing claimed');
  return splitIntoJobs(claimed, { groupOf: (domain) => domain, recipientLimit: 50 });
}

describe('HOLD_RECHECK_MS', () => {
  it('looks at held mail again after five minutes', () => {
    expect(HOLD_RECHECK_MS).toBe(5 * 60 * 1_000);
  });
});

describe('splitHeld', () => {
  it('holds back the jobs of held domains and runs the others, in order', async () => {
    const jobs = await jobsFor(['a@held.test', 'b@free.test', 'c@other.test']);
    const { run, held } = splitHeld(jobs, (domain) => domain === 'held.test');
    expect(run.map((job) => job.domain)).toEqual(['free.test', 'other.test']);
    expect(held.map((job) => job.domain)).toEqual(['held.test']);
    expect(splitHeld(jobs, () => false).held).toEqual([]);
  });

  it('holds a relay job (one job, all domains) when any of its recipients is held', async () => {
    const [job] = await jobsFor(['a@free.test', 'b@held.test']);
    if (!job) throw new Error('no job');
    const relay: DeliveryJob = { record: job.record, domain: '', recipients: job.record.recipients };
    const { run, held } = splitHeld([relay], (domain) => domain === 'held.test');
    expect([run, held]).toEqual([[], [relay]]);
  });
});

describe('postponeHeld', () => {
  it('writes the recipients back unattempted, due at the given time, their last response kept', async () => {
    const [job] = await jobsFor(['a@held.test', 'b@held.test']);
    if (!job) throw new Error('no job');
    const updated = await spool.update(job.record.id, [
      { recipient: 'a@held.test', status: 'deferred', attempts: 2, nextAttemptAt: 0, lastResponse: '451 4.4.1 later' },
    ]);
    await postponeHeld(spool, { ...job, record: updated, recipients: updated.recipients }, 5_000_000_000_000);
    const record = await spool.get(job.record.id);
    expect(record?.recipients.map((r) => [r.recipient, r.status, r.attempts, r.nextAttemptAt, r.lastResponse])).toEqual(
      [
        ['a@held.test', 'deferred', 2, 5_000_000_000_000, '451 4.4.1 later'],
        ['b@held.test', 'queued', 0, 5_000_000_000_000, undefined],
      ],
    );
  });
});

describe('the scheduler with a destination on hold', () => {
  it('delivers the others and writes the held recipients back, due in 5 minutes, unattempted', async () => {
    const h = await createHarness({
      'held.test': { MX: [{ exchange: 'mx.local.test', priority: 10 }] },
      'free.test': { MX: [{ exchange: 'mx.local.test', priority: 10 }] },
      'mx.local.test': { A: ['127.0.0.1'] },
    });
    const sink = await startSink();
    try {
      const stored = await h.store(
        'alice@sender.test',
        ['bob@held.test', 'carol@free.test'],
        crlf('Subject: x', '', 'x'),
      );
      const before = Date.now();
      const scheduler = h.start({ outboundPort: sink.port }, {}, undefined, (domain) => domain === 'held.test');
      await sink.waitForMessages(1);
      await h.waitFor('the message settled', () => (scheduler.inFlight() === 0 ? true : undefined));
      const record = await h.spool.get(stored.id);
      const bob = record?.recipients.find((r) => r.recipient === 'bob@held.test');
      expect([bob?.status, bob?.attempts]).toEqual(['queued', 0]);
      expect(bob?.nextAttemptAt).toBeGreaterThanOrEqual(before + HOLD_RECHECK_MS);
      expect(bob?.nextAttemptAt).toBeLessThanOrEqual(Date.now() + HOLD_RECHECK_MS);
      expect(sink.messages.map((m) => m.to)).toEqual([['carol@free.test']]);
      expect(h.events.filter((e) => e.type === 'delivery.attempt' && e.host.includes('held'))).toEqual([]);
    } finally {
      await h.close();
      await sink.close();
    }
  });
});
