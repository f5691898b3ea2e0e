/**
 * What one attempt came to for each recipient, as the mail log and the
 * message's history tell it (pure): the fate (`sent`, `deferred`, `bounced`,
 * `expired`), the host dialled, the enhanced status code, and where the
 * delay went.
 *
 * In: the job, the planned updates and which bounces expired, and the
 * attempt's timing (one clock for all of it). Out: a `Fact` per update,
 * whose `note` joins the recipient's history in the same spool write.
 */
import type { DelayParts } from '../domain/audit.js';
import type { AttemptFate, AttemptNote } from '../domain/envelope.js';
import type { DeliveryJob } from '../domain/job.js';
import type { RecipientUpdate } from '../spool/spool.js';

/** When an attempt ran and whom it talked to. */
export interface AttemptTiming {
  readonly startedAt: number;
  readonly endedAt: number;
  /** The host dialled (label), absent when none was. */
  readonly relay?: string;
  /** Its host name, for a DSN's Remote-MTA. */
  readonly remoteMta?: string;
  readonly transmitMs?: number;
}

export interface Fact {
  readonly fate: AttemptFate;
  readonly dsn: string;
  readonly delayMs: number;
  readonly delays: DelayParts;
  readonly note: AttemptNote;
}

const ENHANCED = /(?:^|\s)([245]\.\d{1,3}\.\d{1,3})(?=\s|$|[,;:)])/;
const DEFAULT_DSN: Readonly<Record<AttemptFate, string>> = {
  sent: '2.0.0',
  deferred: '4.0.0',
  bounced: '5.0.0',
  expired: '4.0.0',
};

/** The enhanced status code in a reply (`550 5.1.1 …`, `4.4.1 …`), else the fate's generic one. */
export function dsnOf(reply: string, fate: AttemptFate): string {
  return ENHANCED.exec(reply)?.[1] ?? DEFAULT_DSN[fate];
}

function fateOf(u: RecipientUpdate, expired: ReadonlySet<string>): AttemptFate {
  if (u.status === 'delivered') return 'sent';
  if (u.status === 'bounced') return expired.has(u.recipient) ? 'expired' : 'bounced';
  return 'deferred';
}

/** Where the delay of a recipient finished at `timing.endedAt` went; the parts add up to the total. */
export function delayParts(job: DeliveryJob, timing: AttemptTiming): { delayMs: number; delays: DelayParts } {
  const arrived = job.record.envelope.receivedAt;
  const queued = Math.max(arrived, job.record.queuedAt ?? arrived);
  const started = Math.max(queued, timing.startedAt);
  const ended = Math.max(started, timing.endedAt);
  const transmitMs = Math.min(Math.max(0, timing.transmitMs ?? 0), ended - started);
  return {
    delayMs: ended - arrived,
    delays: {
      beforeQueueMs: queued - arrived,
      queueMs: started - queued,
      connectMs: ended - started - transmitMs,
      transmitMs,
    },
  };
}

/** A fact per update, in the updates' order. */
export function attemptFacts(
  job: DeliveryJob,
  updates: readonly RecipientUpdate[],
  expired: ReadonlySet<string>,
  timing: AttemptTiming,
): Fact[] {
  const { delayMs, delays } = delayParts(job, timing);
  return updates.map((u) => {
    const fate = fateOf(u, expired);
    const reply = u.lastResponse ?? '';
    const note: AttemptNote = {
      t: timing.endedAt,
      f: fate,
      ...(timing.relay ? { h: timing.relay } : {}),
      r: reply,
      d: delayMs,
    };
    return { fate, dsn: dsnOf(reply, fate), delayMs, delays, note };
  });
}
