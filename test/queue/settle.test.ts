/**
 * Settling a job that was not run (settle.ts), on a real file spool: one
 * skipped as busy records nothing and comes back at its time; one skipped
 * because its destination is dead is deferred with the reason.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AuditEvent } from '../../src/domain/audit.js';
import type { DeliveryJob } from '../../src/domain/job.js';
import { planConfig } from '../../src/queue/outcomes.js';
import { settleJob, type SettleDeps } from '../../src/queue/settle.js';
import { storeMessage, tempFileSpool, type TempSpool } from '../helpers/spool.js';
import { testConfig } from './harness.js';

let temp: TempSpool;
let events: AuditEvent[];
let deps: SettleDeps;
const NOW = Date.UTC(2026, 0, 5, 12, 0, 0);

beforeEach(async () => {
  temp = await tempFileSpool('gp-settle-');
  events = [];
  const config = testConfig();
  deps = {
    spool: temp.spool,
    config,
    plan: planConfig(config),
    clock: () => NOW,
    random: () => 0.5,
    emit: (e) => void events.push(e),
  };
});

afterEach(() => temp.close());

async function claimedJob(): Promise<DeliveryJob> {
  await storeMessage(temp.spool, ['bob@x.test'], 'Subject: x\r\n\r\nx\r\n', { receivedAt: NOW - 1_000 });
  const [claimed] = await temp.spool.claim(NOW, 1);
  if (!claimed) throw new Error('nothing claimed');
  return { record: claimed.record, domain: 'x.test', recipients: claimed.due };
}

describe('settleJob for a job that was not run', () => {
  it('busy: records nothing, and the message comes back at the time the dispatcher gave', async () => {
    const job = await claimedJob();
    expect(await settleJob(deps, { kind: 'skipped', job, why: { kind: 'busy', until: NOW + 7_000 } })).toEqual({
      notBefore: NOW + 7_000,
    });
    expect(events).toEqual([]);
    expect((await temp.spool.get(job.record.id))?.recipients[0]).toMatchObject({ status: 'queued', attempts: 0 });
  });

  it('dead: defers every recipient with the reason, and says so', async () => {
    const job = await claimedJob();
    const why = { kind: 'dead', until: NOW + 60_000, reason: 'connect ECONNREFUSED' } as const;
    expect(await settleJob(deps, { kind: 'skipped', job, why })).toEqual({});
    const response = '4.4.1 delivery temporarily suspended: connect ECONNREFUSED';
    expect((await temp.spool.get(job.record.id))?.recipients[0]).toMatchObject({
      status: 'deferred',
      lastResponse: response,
    });
    expect(events).toMatchObject([
      { type: 'delivery.outcome', recipient: 'bob@x.test', outcome: 'deferred', response },
    ]);
  });
});
