/**
 * The mail log: one `info` line (`component: "mail"`) per message received,
 * per recipient's attempt and per message removed from the queue, so an
 * operator can answer "where is my mail?" with the log alone (Postfix's
 * `to=<…>, relay=…, delay=…, delays=…, dsn=…, status=…` line, as JSON).
 *
 * In: the audit bus's always-on `raw$` (so the log does not depend on
 * SMTP_DEBUG). Out: log lines; every line carries `queueId`. Field names are
 * listed in docs/operations.md ("Following a message").
 */
import type { Observable, Subscription } from 'rxjs';
import type { AuditEvent } from '../domain/audit.js';
import type { Logger } from './logger.js';

type Stored = Extract<AuditEvent, { type: 'message.stored' }>;
type Outcome = Extract<AuditEvent, { type: 'delivery.outcome' }>;
type TlsEvent = Extract<AuditEvent, { type: 'delivery.tls' }>;

/** The `received` line's fields. */
export function receivedFields(e: Stored): Record<string, unknown> {
  return {
    queueId: e.id,
    from: e.sender,
    size: e.size,
    nrcpt: e.recipients,
    ...(e.to ? { to: e.to } : {}),
    ...(e.client === undefined ? {} : { client: e.client }),
    tls: e.tls ?? 'no',
    ...(e.user === undefined ? {} : { user: e.user }),
    ...(e.receiptMs === undefined ? {} : { receiptMs: e.receiptMs }),
    session: e.session,
  };
}

/** An outcome line's fields and its `msg` (`sent`, `deferred`, `bounced`, `expired`). */
export function outcomeLine(e: Outcome): { msg: string; fields: Record<string, unknown> } {
  const status = e.fate ?? (e.outcome === 'delivered' ? 'sent' : e.outcome);
  return {
    msg: status,
    fields: {
      queueId: e.id,
      to: e.recipient,
      relay: e.relay ?? 'none',
      delayMs: e.delayMs ?? e.durationMs,
      ...(e.delays ? { delays: e.delays } : {}),
      ...(e.dsn === undefined ? {} : { dsn: e.dsn }),
      status,
      reply: e.response,
      attempts: e.attempts,
      ...(e.tls ? { tlsPolicy: e.tls.policy, tls: e.tls.result } : {}),
    },
  };
}

/**
 * A TLS decision worth its own line: a host refused by the policy (`tls
 * refused`), or one MTA-STS in testing mode would have refused (`tls policy
 * failure (testing)`); undefined for the rest, which the outcome line shows.
 */
export function tlsLine(e: TlsEvent): { msg: string; fields: Record<string, unknown> } | undefined {
  const testingFailure = e.policy === 'mta-sts-testing' && e.result !== 'verified';
  if (!e.refused && !testingFailure) return undefined;
  return {
    msg: e.refused ? 'tls refused' : 'tls policy failure (testing)',
    fields: {
      queueId: e.id,
      domain: e.domain,
      host: e.host,
      tlsPolicy: e.policy,
      tls: e.result,
      ...(e.detail === undefined ? {} : { detail: e.detail }),
    },
  };
}

/** Writes the mail log from `raw$` until unsubscribed. */
export function logMail(logger: Logger, raw$: Observable<AuditEvent>): Subscription {
  const log = logger.child({ component: 'mail' });
  return raw$.subscribe({
    next: (event) => {
      if (!log.isLevelEnabled('info')) return;
      if (event.type === 'message.stored') log.info(receivedFields(event), 'received');
      else if (event.type === 'delivery.outcome') {
        const { msg, fields } = outcomeLine(event);
        log.info(fields, msg);
      } else if (event.type === 'delivery.tls') {
        const line = tlsLine(event);
        if (line) log.info(line.fields, line.msg);
      } else if (event.type === 'message.removed') log.info({ queueId: event.id, reason: event.reason }, 'removed');
    },
    error: (err: unknown) => log.error({ err }, 'mail log stream failed'),
  });
}
