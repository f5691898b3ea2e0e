import type { Observable, Subscription } from 'rxjs';
import type { AuditRecord } from '../domain/audit.js';
import type { Logger } from './logger.js';

/**
 * Writes each audit record as an `info` log line (`msg: "audit"`, the record
 * under `audit`). Subscribe it to the bus's gated `events$`, so the log follows
 * the run-time switch just like the streams do.
 */
export function logAudit(logger: Logger, events$: Observable<AuditRecord>): Subscription {
  const child = logger.child({ component: 'audit' });
  return events$.subscribe({
    next: (record) => child.info({ audit: record }, 'audit'),
    error: (err: unknown) => child.error({ err }, 'audit stream failed'),
  });
}
