/**
 * From per-recipient attempt outcomes to durable state (pure): delivered,
 * deferred with the next attempt time from the backoff policy, or bounced
 * (a 5xx, or a deferral past SMTP_QUEUE_LIFETIME_HOURS).
 */
import type { DeliveryOutcome } from '../domain/delivery.js';
import type { DeliveryJob } from '../domain/job.js';
import { nextAttemptAt } from '../policy/backoff.js';
import type { BackoffConfig } from '../policy/backoff.js';
import type { RecipientUpdate } from '../spool/spool.js';

export interface BouncedRecipient {
  readonly recipient: string;
  readonly response: string;
  readonly expired: boolean;
}

export interface Plan {
  readonly updates: readonly RecipientUpdate[];
  /** Recipients that failed for good and go into the DSN. */
  readonly bounced: readonly BouncedRecipient[];
}

export interface PlanConfig extends BackoffConfig {
  readonly lifetimeMs: number;
}

export function planConfig(config: {
  retryBaseSeconds: number;
  retryMaxSeconds: number;
  queueLifetimeHours: number;
}): PlanConfig {
  return {
    baseSeconds: config.retryBaseSeconds,
    maxSeconds: config.retryMaxSeconds,
    lifetimeMs: config.queueLifetimeHours * 3_600_000,
  };
}

/** A deferred recipient is past its lifetime when it arrived `lifetimeMs` ago or more. */
export function isExpired(receivedAt: number, now: number, lifetimeMs: number): boolean {
  return now - receivedAt >= lifetimeMs;
}

const MISSING: DeliveryOutcome = { kind: 'deferred', response: '4.0.0 no outcome recorded for this recipient' };

export function planUpdates(
  job: DeliveryJob,
  outcomes: ReadonlyMap<string, DeliveryOutcome>,
  now: number,
  cfg: PlanConfig,
  random: () => number,
): Plan {
  const updates: RecipientUpdate[] = [];
  const bounced: BouncedRecipient[] = [];
  const { receivedAt } = job.record.envelope;
  for (const r of job.recipients) {
    const outcome = outcomes.get(r.recipient) ?? MISSING;
    const attempts = r.attempts + 1;
    const base = { recipient: r.recipient, attempts, lastResponse: outcome.response };
    if (outcome.kind === 'delivered') {
      updates.push({ ...base, status: 'delivered', nextAttemptAt: now });
    } else if (outcome.kind === 'failed') {
      updates.push({ ...base, status: 'bounced', nextAttemptAt: now });
      bounced.push({ recipient: r.recipient, response: outcome.response, expired: false });
    } else if (isExpired(receivedAt, now, cfg.lifetimeMs)) {
      updates.push({ ...base, status: 'bounced', nextAttemptAt: now });
      bounced.push({ recipient: r.recipient, response: outcome.response, expired: true });
    } else {
      updates.push({ ...base, status: 'deferred', nextAttemptAt: nextAttemptAt(now, attempts, cfg, random) });
    }
  }
  return { updates, bounced };
}

/**
 * When the DSN cannot be stored, bounced recipients (all, or those in `only`) stay deferred so the bounce is
 * retried.
 */
export function deferBounces(
  plan: Plan,
  now: number,
  cfg: PlanConfig,
  random: () => number,
  only?: ReadonlySet<string>,
): Plan {
  const bouncing = only ?? new Set(plan.bounced.map((b) => b.recipient));
  return {
    bounced: plan.bounced.filter((b) => !bouncing.has(b.recipient)),
    updates: plan.updates.map((u) =>
      bouncing.has(u.recipient)
        ? { ...u, status: 'deferred', nextAttemptAt: nextAttemptAt(now, u.attempts, cfg, random) }
        : u,
    ),
  };
}
