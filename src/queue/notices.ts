/**
 * Which notices an attempt calls for (pure): a failure report for the
 * recipients that failed for good, a delay report for those deferred past
 * SMTP_DELAY_WARNING_HOURS that have had none, and a "relayed" report for
 * those delivered to a next hop without DSN that asked for NOTIFY=SUCCESS.
 * Each only for recipients whose NOTIFY asks for it (domain/dsn.ts), and
 * never for a message from the null sender. We never deliver locally, so
 * there is no "delivered" report: a next hop with DSN reports instead.
 */
import type { DsnRecipient } from '../bounce/dsn.js';
import { hasSender } from '../bounce/dsn.js';
import { recipientDsn, wantsNotice, type NoticeKind } from '../domain/dsn.js';
import type { DeliveryJob } from '../domain/job.js';
import type { Plan } from './outcomes.js';

export interface NoticeConfig {
  /** SMTP_BOUNCES: failure reports on. */
  readonly bounces: boolean;
  /** SMTP_DELAY_WARNING_HOURS in ms; 0: no delay reports. */
  readonly delayWarningMs: number;
}

/** What the attempt learnt beyond the outcomes. */
export interface AttemptFacts {
  /** The name of the host dialled last, for Remote-MTA; absent when none was. */
  readonly remoteMta?: string;
  /** The answering host offers DSN: it reports on delivered recipients itself. */
  readonly dsn?: boolean;
}

export type Notices = Readonly<Record<NoticeKind, readonly DsnRecipient[]>>;

/** Whether `response` is a server's reply (so it came from the remote MTA), not our own verdict. */
function fromServer(response: string): boolean {
  return /^\d{3}\b/.test(response.trim());
}

export function planNotices(
  job: DeliveryJob,
  plan: Plan,
  now: number,
  cfg: NoticeConfig,
  facts: AttemptFacts,
): Notices {
  const { envelope } = job.record;
  const none: Notices = { failed: [], delayed: [], relayed: [] };
  if (!hasSender(envelope.sender)) return none;
  const remote = facts.remoteMta;
  const entry = (recipient: string, response: string, expired = false): DsnRecipient => {
    const { orcpt } = recipientDsn(envelope.dsn, recipient);
    return {
      recipient,
      response,
      lastAttemptAt: now,
      ...(expired ? { expired } : {}),
      ...(orcpt !== undefined ? { orcpt } : {}),
      ...(remote !== undefined && fromServer(response) ? { remoteMta: remote } : {}),
    };
  };
  const wants = (recipient: string, kind: NoticeKind): boolean => wantsNotice(envelope.dsn, recipient, kind);
  const failed = cfg.bounces
    ? plan.bounced.filter((b) => wants(b.recipient, 'failed')).map((b) => entry(b.recipient, b.response, b.expired))
    : [];
  const relayed =
    facts.dsn === true
      ? []
      : plan.updates
          .filter((u) => u.status === 'delivered' && wants(u.recipient, 'relayed'))
          .map((u) => entry(u.recipient, u.lastResponse ?? ''));
  const late = cfg.delayWarningMs > 0 && now - envelope.receivedAt >= cfg.delayWarningMs;
  const noticed = new Set(job.recipients.filter((r) => r.delayNoticeAt !== undefined).map((r) => r.recipient));
  const delayed = late
    ? plan.updates
        .filter((u) => u.status === 'deferred' && !noticed.has(u.recipient) && wants(u.recipient, 'delayed'))
        .map((u) => entry(u.recipient, u.lastResponse ?? ''))
    : [];
  return { failed, delayed, relayed };
}
