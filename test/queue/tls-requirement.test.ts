/**
 * `TLS-Required: No` (RFC 8689 §4.2.2) against a destination's policy
 * (tls-requirement.ts), with a real planner and a real file spool: the
 * header sets an enforcing policy aside unless the message asked REQUIRETLS,
 * and the message is read only when there is a policy to set aside.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { TlsLevel } from '../../src/config/types.js';
import { createTlsPlanner, type TlsPlanner } from '../../src/delivery/tls/planner.js';
import type { Envelope } from '../../src/domain/envelope.js';
import type { DeliveryJob } from '../../src/domain/job.js';
import { requirementOf } from '../../src/queue/tls-requirement.js';
import type { Spool } from '../../src/spool/spool.js';
import { storeMessage, tempFileSpool, type TempSpool } from '../helpers/spool.js';

let temp: TempSpool;
let spool: Spool;
let reads: number;

beforeEach(async () => {
  temp = await tempFileSpool('gp-tlsreq-');
  spool = temp.spool;
  reads = 0;
});

afterEach(() => temp.close());

const table = new Map<string, TlsLevel>([
  ['enc.test', 'encrypt'],
  ['ver.test', 'verify'],
  ['may.test', 'may'],
]);
const planner = createTlsPlanner(table);

/** The spool as the queue sees it, counting body reads; `broken` makes them fail as on a disk error. */
function counted(broken = false): Pick<Spool, 'openBody'> {
  return {
    openBody: (record) => {
      reads += 1;
      return broken ? Promise.reject(new Error('EIO: i/o error')) : spool.openBody(record);
    },
  };
}

async function jobTo(domain: string, headers: string, extra: Partial<Envelope> = {}): Promise<DeliveryJob> {
  const record = await storeMessage(spool, [`b@${domain}`], `${headers}Subject: x\r\n\r\nbody\r\n`, extra);
  return { record, domain, recipients: record.recipients };
}

const setAside = (domain: string) => ({
  policy: 'tls-required-no',
  domain,
  source: 'default',
  requireTls: false,
  verify: false,
});

describe('requirementOf', () => {
  it.each(['enc.test', 'ver.test'])(
    'sets the policy of %s aside for a message with TLS-Required: No',
    async (domain) => {
      expect(await requirementOf(planner, counted(), await jobTo(domain, 'TLS-Required: No\r\n'))).toEqual(
        setAside(domain),
      );
      expect(reads).toBe(1);
    },
  );

  it('keeps the policy without the header, or when the message asked REQUIRETLS', async () => {
    const policy = await planner.requirement('enc.test');
    expect(await requirementOf(planner, counted(), await jobTo('enc.test', ''))).toEqual(policy);
    expect(reads).toBe(1);
    const tagged = await jobTo('enc.test', 'TLS-Required: No\r\n', { requireTls: true });
    expect(await requirementOf(planner, counted(), tagged)).toEqual(policy);
    expect(reads).toBe(1); // the tag wins without reading the message
  });

  it('does not read the message when there is nothing to set aside', async () => {
    const policy = await planner.requirement('may.test');
    expect(await requirementOf(planner, counted(), await jobTo('may.test', 'TLS-Required: No\r\n'))).toEqual(policy);
    expect(await requirementOf(planner, counted(), await jobTo('other.test', 'TLS-Required: No\r\n'))).toEqual(
      await planner.requirement('other.test'),
    );
    expect(reads).toBe(0);
  });

  it('sets aside a certificate check alone too', async () => {
    const verifyOnly: TlsPlanner = {
      requirement: (domain) =>
        Promise.resolve({ policy: 'verify', domain, source: 'SMTP_TLS_POLICY', requireTls: false, verify: true }),
    };
    const job = await jobTo('v.test', 'TLS-Required: No\r\n');
    expect(await requirementOf(verifyOnly, counted(), job)).toEqual(setAside('v.test'));
  });

  it('keeps the policy when the message cannot be read', async () => {
    const job = await jobTo('enc.test', 'TLS-Required: No\r\n');
    expect(await requirementOf(planner, counted(true), job)).toEqual(await planner.requirement('enc.test'));
    expect(reads).toBe(1);
  });
});
