/**
 * Stores one delivery status notification (a failure, a delay or a relayed
 * notice) for some recipients of a message, from the null sender, through
 * the same spool, so it is delivered, deferred and retried like any other
 * mail. A failure notice of a RET=FULL message carries the whole message,
 * streamed from the spool into the notice; every other one its headers.
 * A REQUIRETLS message's notice never carries its body, whatever RET says:
 * the notice goes from the null sender, which REQUIRETLS does not cover
 * (RFC 8689 §4.2.1), so it may travel over an unauthenticated path.
 */
import { buildDsn, readHeaderBlock, type DsnRecipient, type Returned } from '../bounce/dsn.js';
import type { NoticeKind } from '../domain/dsn.js';
import type { MessageRecord } from '../domain/envelope.js';
import type { Spool } from '../spool/spool.js';

export interface BounceContext {
  readonly spool: Spool;
  readonly hostname: string;
  readonly lifetimeHours: number;
  readonly random: () => number;
}

const NO_HEADERS: Returned = { kind: 'headers', headers: Buffer.alloc(0) };

/** What of the original goes into the notice; an unreadable body leaves the notice without it. */
async function original(spool: Spool, record: MessageRecord, kind: NoticeKind): Promise<Returned> {
  try {
    const body = await spool.openBody(record);
    const full = kind === 'failed' && record.envelope.dsn?.ret === 'FULL' && record.envelope.requireTls !== true;
    if (full) return { kind: 'full', message: body };
    return { kind: 'headers', headers: await readHeaderBlock(body) };
  } catch {
    return NO_HEADERS; // body unreadable: the notice still goes out, without the original
  }
}

/** Resolves with the stored notice's record; rejects when the spool cannot store it. */
export async function storeNotice(
  ctx: BounceContext,
  record: MessageRecord,
  kind: NoticeKind,
  recipients: readonly DsnRecipient[],
  now: number,
): Promise<MessageRecord> {
  const token = `${record.id}.${now.toString(36)}.${Math.floor(ctx.random() * 2 ** 32).toString(36)}`;
  const { envid } = record.envelope.dsn ?? {};
  const dsn = buildDsn({
    kind,
    hostname: ctx.hostname,
    queueId: record.id,
    sender: record.envelope.sender,
    arrivalDate: record.envelope.receivedAt,
    now,
    recipients,
    original: await original(ctx.spool, record, kind),
    token,
    lifetimeHours: ctx.lifetimeHours,
    ...(envid === undefined ? {} : { envid }),
  });
  return ctx.spool.store(dsn.envelope, dsn.body);
}
