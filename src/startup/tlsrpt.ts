/**
 * TLS-RPT (RFC 8460) as the composition root starts it, when
 * SMTP_TLSRPT_ORGANIZATION and SMTP_TLSRPT_CONTACT are set in MX mode: the
 * day files under SMTP_QUEUE_PATH/tlsrpt, the counting of every outbound
 * TLS decision of the audit stream, and a timer that sends the reports of
 * days that are over. With the Redis backend the day files are per node:
 * each daemon reports the sessions it made itself.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { concat, defer, from } from 'rxjs';
import type { AuditBus } from '../audit/bus.js';
import type { Config, TlsRptConfig } from '../config/types.js';
import type { AuditEvent } from '../domain/audit.js';
import type { StsPolicy } from '../delivery/tls/sts-policy.js';
import type { DnsResolver } from '../dns/resolver.js';
import type { Logger } from '../log/logger.js';
import type { Spool } from '../spool/spool.js';
import { collectSessions } from '../tlsrpt/collect.js';
import { openDayStore } from '../tlsrpt/day-store.js';
import type { StsFailureType } from '../tlsrpt/sts-failures.js';
import { createReporter } from '../tlsrpt/reporter.js';

/** Test seams: the clock that says which day it is, and how often things happen. */
export interface TlsRptSeams {
  readonly clock?: () => number;
  /** How often due days are looked for (60 s). */
  readonly tickMs?: number;
  /** The most a day's reports wait after it ends (1 h). */
  readonly maxDelayMs?: number;
  /** The most a count waits before it is written (5 s). */
  readonly flushMs?: number;
}

export interface TlsRptDeps {
  readonly spool: Spool;
  readonly dns: DnsResolver;
  readonly audit: AuditBus;
  readonly logger: Logger;
  readonly stsPolicy: (domain: string) => StsPolicy | undefined;
  readonly stsFailure: (domain: string) => StsFailureType | undefined;
  /** Trusted CAs for `https:` report URIs (the system's plus SMTP_OUTBOUND_CA_FILE's). */
  readonly ca?: readonly string[];
  readonly seams?: TlsRptSeams;
}

const DAY_MS = 86_400_000;

export async function startTlsReports(
  config: Config,
  settings: TlsRptConfig,
  deps: TlsRptDeps,
): Promise<{ stop: () => Promise<void> }> {
  const log = deps.logger.child({ component: 'tlsrpt' });
  const seams = deps.seams ?? {};
  if (!config.dkim) {
    log.warn(
      'TLS reports by mail go out without a DKIM signature, and receivers ignore those (RFC 8460 §5.3): set SMTP_DKIM_SELECTOR',
    );
  }
  const clock = seams.clock ?? Date.now;
  // delivery is already running: decisions made while the day files load are kept, then counted first
  const early: AuditEvent[] = [];
  const buffering = deps.audit.raw$.subscribe({
    next: (e) => (e.type === 'delivery.tls' ? early.push(e) : undefined),
    error: () => undefined,
  });
  const store = await openDayStore(join(config.queuePath, 'tlsrpt'), {
    flushMs: seams.flushMs ?? 5_000,
    onError: (message) => log.warn(message),
  }).catch((error: unknown) => {
    buffering.unsubscribe();
    throw error;
  });
  // from the buffer to the live stream in one synchronous step: nothing lost, nothing counted twice
  const events$ = concat(
    defer(() => {
      buffering.unsubscribe();
      return from(early.splice(0));
    }),
    deps.audit.raw$,
  );
  const { stsPolicy, stsFailure } = deps;
  const collecting = collectSessions({ events$, store, stsPolicy, stsFailure, clock });
  const reporter = createReporter({
    store,
    send: {
      spool: deps.spool,
      resolver: deps.dns,
      hostname: config.hostname,
      ...(deps.ca ? { ca: deps.ca } : {}),
      now: Date.now,
      random: Math.random,
    },
    meta: {
      organization: settings.organization,
      contact: settings.contact,
      submitter: config.hostname,
      unique: randomBytes(6).toString('hex'),
    },
    clock,
    random: Math.random,
    maxDelayMs: seams.maxDelayMs ?? 3_600_000,
    giveUpMs: DAY_MS,
    log,
  });
  const timer = setInterval(() => void reporter.tick(), seams.tickMs ?? 60_000);
  timer.unref();
  void reporter.tick();
  return {
    stop: async () => {
      clearInterval(timer);
      collecting.unsubscribe();
      await reporter.idle();
      await store.close();
    },
  };
}
