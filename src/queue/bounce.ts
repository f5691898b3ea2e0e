/**
 * Stores one DSN for the recipients of a message that failed for good, from
 * the null sender, through the same spool (so it is delivered, deferred and
 * retried like any other mail).
 */
import { Readable } from 'node:stream';
import { buildDsn, readHeaderBlock } from '../bounce/dsn.js';
import type { MessageRecord } from '../domain/envelope.js';
import type { Spool } from '../spool/spool.js';
import type { BouncedRecipient } from './outcomes.js';

export interface BounceContext {
  readonly spool: Spool;
  readonly hostname: string;
  readonly lifetimeHours: number;
  readonly random: () => number;
}

async function originalHeaders(spool: Spool, record: MessageRecord): Promise<Buffer> {
  try {
    return await readHeaderBlock(await spool.openBody(record));
  } catch {
    return Buffer.alloc(0); // body unreadable: the DSN still goes out, without headers
  }
}

function once(body: Buffer): AsyncIterable<Buffer> {
  return Readable.from([body], { objectMode: false }) as AsyncIterable<Buffer>;
}

/** Resolves with the stored bounce's record; rejects when the spool cannot store it. */
export async function storeBounce(
  ctx: BounceContext,
  record: MessageRecord,
  bounced: readonly BouncedRecipient[],
  now: number,
): Promise<MessageRecord> {
  const token = `${record.id}.${now.toString(36)}.${Math.floor(ctx.random() * 2 ** 32).toString(36)}`;
  const dsn = buildDsn({
    hostname: ctx.hostname,
    queueId: record.id,
    sender: record.envelope.sender,
    arrivalDate: record.envelope.receivedAt,
    now,
    recipients: bounced.map((b) => ({ ...b, lastAttemptAt: now })),
    originalHeaders: await originalHeaders(ctx.spool, record),
    token,
    lifetimeHours: ctx.lifetimeHours,
  });
  return ctx.spool.store(dsn.envelope, once(dsn.body));
}
