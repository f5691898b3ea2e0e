/**
 * A notice as the queue stores it (bounce.ts), on a real file spool: from
 * `<>` to the sender, the whole message returned only for a failure whose
 * sender asked RET=FULL and that did not ask REQUIRETLS, ENVID carried over,
 * and a notice without the original when the body cannot be read.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { NoticeKind } from '../../src/domain/dsn.js';
import type { Envelope, MessageRecord } from '../../src/domain/envelope.js';
import { storeNotice, type BounceContext } from '../../src/queue/bounce.js';
import type { Spool } from '../../src/spool/spool.js';
import { bodyBytes, storeMessage, tempFileSpool, type TempSpool } from '../helpers/spool.js';

let temp: TempSpool;
let spool: Spool;

beforeEach(async () => {
  temp = await tempFileSpool('gp-notice-');
  spool = temp.spool;
});

afterEach(() => temp.close());

const original = 'Subject: the original\r\n\r\nthe original body\r\n';

function stored(extra: Partial<Envelope> = {}): Promise<MessageRecord> {
  return storeMessage(spool, ['bob@example.test'], original, { receivedAt: Date.UTC(2025, 0, 2, 3, 0, 0), ...extra });
}

async function noticeText(record: MessageRecord, kind: NoticeKind): Promise<{ envelope: Envelope; text: string }> {
  const ctx: BounceContext = { spool, hostname: 'mta.sender.test', lifetimeHours: 120, random: () => 0.5 };
  const recipients = [{ recipient: 'bob@example.test', response: '550 5.1.1 no', lastAttemptAt: 0 }];
  const notice = await storeNotice(ctx, record, kind, recipients, Date.UTC(2025, 0, 2, 8, 0, 0));
  return { envelope: notice.envelope, text: (await bodyBytes(spool, notice.id)).toString('latin1') };
}

describe('storeNotice', () => {
  it('returns the whole message for a failure with RET=FULL', async () => {
    const { envelope, text } = await noticeText(await stored({ dsn: { ret: 'FULL', recipients: {} } }), 'failed');
    expect([envelope.sender, envelope.recipients]).toEqual(['', ['alice@sender.test']]);
    expect(text).toContain('Content-Type: message/rfc822\r\nContent-Transfer-Encoding: 8bit\r\n\r\n' + original);
  });

  it('returns the headers only for a delay report, RET=FULL or not', async () => {
    const { text } = await noticeText(await stored({ dsn: { ret: 'FULL', recipients: {} } }), 'delayed');
    expect(text).toContain('Content-Type: text/rfc822-headers');
    expect(text).not.toContain('the original body');
  });

  it('returns the headers only for a failure without RET=FULL, or one that asked REQUIRETLS', async () => {
    const cases: Partial<Envelope>[] = [
      {},
      { dsn: { ret: 'HDRS', recipients: {} } },
      { dsn: { ret: 'FULL', recipients: {} }, requireTls: true },
    ];
    for (const extra of cases) {
      const { text } = await noticeText(await stored(extra), 'failed');
      expect(text).toContain(
        'Content-Type: text/rfc822-headers\r\nContent-Transfer-Encoding: 7bit\r\n\r\nSubject: the original\r\n',
      );
      expect(text).not.toContain('the original body');
    }
  });

  it('carries ENVID over, and says nothing of one the sender did not give', async () => {
    const withEnvid = await noticeText(await stored({ dsn: { envid: 'ENV-42', recipients: {} } }), 'failed');
    expect(withEnvid.text).toContain('\r\nOriginal-Envelope-Id: ENV-42\r\n');
    const without = await noticeText(await stored(), 'failed');
    expect(without.text).not.toContain('Original-Envelope-Id');
  });

  it('still goes out, without the original, when the body cannot be read', async () => {
    const record = await stored({ dsn: { ret: 'FULL', recipients: {} } });
    const real = spool;
    // the real spool, its body reads failing as on a disk error
    spool = new Proxy(real, {
      get(target, property, receiver) {
        if (property === 'openBody')
          return () => Promise.reject(Object.assign(new Error('EIO: i/o error'), { code: 'EIO' }));
        const value: unknown = Reflect.get(target, property, receiver);
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
    const ctx: BounceContext = { spool, hostname: 'mta.sender.test', lifetimeHours: 120, random: () => 0.5 };
    const recipients = [{ recipient: 'bob@example.test', response: '550 5.1.1 no', lastAttemptAt: 0 }];
    const notice = await storeNotice(ctx, record, 'failed', recipients, Date.UTC(2025, 0, 2, 8, 0, 0));
    spool = real;
    const text = (await bodyBytes(spool, notice.id)).toString('latin1');
    expect(text).toContain('Content-Type: text/rfc822-headers\r\nContent-Transfer-Encoding: 7bit\r\n\r\n\r\n--');
    expect(text).toContain('Final-Recipient: rfc822; bob@example.test');
  });

  it('gives two notices of one message at one moment their own Message-ID and MIME boundary', async () => {
    const record = await stored();
    const draws = [0.25, 0.75];
    const ctx: BounceContext = {
      spool,
      hostname: 'mta.sender.test',
      lifetimeHours: 120,
      random: () => draws.shift() ?? 0,
    };
    const recipients = [{ recipient: 'bob@example.test', response: '550 5.1.1 no', lastAttemptAt: 0 }];
    const at = Date.UTC(2025, 0, 2, 8, 0, 0);
    const ids: string[] = [];
    const boundaries: string[] = [];
    for (const kind of ['failed', 'relayed'] as const) {
      const notice = await storeNotice(ctx, record, kind, recipients, at);
      const text = (await bodyBytes(spool, notice.id)).toString('latin1');
      ids.push(/^Message-ID: <([^@>]+)@mta\.sender\.test>\r$/m.exec(text)?.[1] ?? '');
      boundaries.push(/boundary="([^"]+)"/.exec(text)?.[1] ?? '');
    }
    expect(ids.every((id) => id.length > 0) && boundaries.every((b) => b.length > 0)).toBe(true);
    expect(new Set(ids).size).toBe(2);
    expect(new Set(boundaries).size).toBe(2);
  });
});
