/**
 * What happens to a job once the dispatcher is done with it: an attempt's
 * outcomes are written to the spool (the DSN stored first when recipients
 * failed for good); a job skipped because its destination is dead is
 * deferred like a failed attempt, without dialling; one skipped because its
 * destination is busy leaves its recipients as they are and asks for its
 * message to be held back until then. Resolves with that hold-back, if any.
 * Each recipient's attempt joins its history in the same spool write
 * (attempt-notes.ts), and is published as `delivery.outcome` (the mail
 * log's line); a message whose last recipient finished as `message.removed`.
 */
import type { Config } from '../config/types.js';
import type { AuditEvent } from '../domain/audit.js';
import type { DeliveryOutcome } from '../domain/delivery.js';
import { isFinished } from '../domain/envelope.js';
import type { DeliveryJob } from '../domain/job.js';
import type { TlsDecision } from '../domain/tls.js';
import type { Spool } from '../spool/spool.js';
import type { JobResult } from './attempt-job.js';
import { attemptFacts, type AttemptTiming } from './attempt-notes.js';
import { storeNotices } from './notify.js';
import { planUpdates, type PlanConfig } from './outcomes.js';

export interface SettleDeps {
  readonly spool: Spool;
  readonly config: Pick<Config, 'hostname' | 'queueLifetimeHours' | 'bounces' | 'delayWarningHours'>;
  readonly plan: PlanConfig;
  readonly clock: () => number;
  readonly random: () => number;
  readonly emit: (event: AuditEvent) => void;
}

export async function settleJob(deps: SettleDeps, r: JobResult): Promise<{ readonly notBefore?: number }> {
  if (r.kind === 'skipped') {
    if (r.why.kind === 'busy') return { notBefore: r.why.until };
    const suspended: DeliveryOutcome = {
      kind: 'deferred',
      response: `4.4.1 delivery temporarily suspended: ${r.why.reason}`,
    };
    const now = deps.clock();
    const outcomes = new Map(r.job.recipients.map((x) => [x.recipient, suspended]));
    await record(deps, r.job, outcomes, { startedAt: now, endedAt: now });
    return {};
  }
  const { relay, remoteMta, transmitMs, tls } = r.result;
  const timing = {
    startedAt: r.startedAt,
    endedAt: r.endedAt ?? deps.clock(),
    relay,
    remoteMta,
    transmitMs,
  };
  await record(
    deps,
    r.job,
    r.result.outcomes,
    timing,
    r.result.dsn === true,
    tls && { policy: tls.policy, result: tls.result },
  );
  return {};
}

async function record(
  deps: SettleDeps,
  job: DeliveryJob,
  outcomes: ReadonlyMap<string, DeliveryOutcome>,
  timing: AttemptTiming,
  dsn = false,
  tls?: Pick<TlsDecision, 'policy' | 'result'>,
): Promise<void> {
  const { spool } = deps;
  const now = deps.clock();
  const planned = planUpdates(job, outcomes, now, deps.plan, deps.random);
  // notices first, then state: a crash in between sends a notice twice rather than never
  const facts = { dsn, remoteMta: timing.remoteMta };
  const p = await storeNotices(deps, job, planned, now, facts);
  const expired = new Set(p.bounced.filter((b) => b.expired).map((b) => b.recipient));
  const notes = attemptFacts(job, p.updates, expired, timing);
  const after = await spool.update(
    job.record.id,
    p.updates.map((u, i) => {
      const fact = notes[i];
      return fact ? { ...u, note: fact.note } : u;
    }),
  );
  p.updates.forEach((u, i) => {
    const fact = notes[i];
    deps.emit({
      type: 'delivery.outcome',
      id: job.record.id,
      recipient: u.recipient,
      outcome: u.status === 'delivered' ? 'delivered' : u.status === 'bounced' ? 'bounced' : 'deferred',
      response: u.lastResponse ?? '',
      attempts: u.attempts,
      durationMs: now - timing.startedAt,
      receivedAt: job.record.envelope.receivedAt,
      ...(fact ? { fate: fact.fate, dsn: fact.dsn, delayMs: fact.delayMs, delays: fact.delays } : {}),
      relay: timing.relay, // undefined when no host was dialled: left out of the JSON
      tls,
    });
  });
  const finishedNow = p.updates.some((u) => isFinished(u.status));
  if (finishedNow && after.recipients.every((x) => isFinished(x.status))) {
    deps.emit({ type: 'message.removed', id: job.record.id, reason: 'finished' });
  }
}
