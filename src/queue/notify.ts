/**
 * Stores the notices an attempt calls for (notices.ts), before the
 * recipients' new state is written: a crash in between sends a notice twice
 * rather than never. Returns the plan as it must be written:
 * - a failure report the spool could not store leaves its recipients
 *   deferred, so the report is tried again with them;
 * - a stored delay report marks its recipients (`delayNoticeAt`), so each
 *   gets one; one not stored is tried again at the next attempt;
 * - a relayed report the spool could not store is lost: its recipients were
 *   delivered either way.
 */
import type { Config } from '../config/types.js';
import type { DsnRecipient } from '../bounce/dsn.js';
import type { NoticeKind } from '../domain/dsn.js';
import type { DeliveryJob } from '../domain/job.js';
import type { Spool } from '../spool/spool.js';
import { storeNotice, type BounceContext } from './bounce.js';
import { planNotices, type AttemptFacts } from './notices.js';
import { deferBounces, type Plan, type PlanConfig } from './outcomes.js';

export interface NotifyDeps {
  readonly spool: Spool;
  readonly config: Pick<Config, 'hostname' | 'queueLifetimeHours' | 'bounces' | 'delayWarningHours'>;
  readonly plan: PlanConfig;
  readonly random: () => number;
}

const HOUR = 3_600_000;

async function stored(
  ctx: BounceContext,
  job: DeliveryJob,
  kind: NoticeKind,
  recipients: readonly DsnRecipient[],
  now: number,
): Promise<boolean> {
  try {
    await storeNotice(ctx, job.record, kind, recipients, now);
    return true;
  } catch {
    return false;
  }
}

export async function storeNotices(
  deps: NotifyDeps,
  job: DeliveryJob,
  plan: Plan,
  now: number,
  facts: AttemptFacts,
): Promise<Plan> {
  const { config, random } = deps;
  const cfg = { bounces: config.bounces, delayWarningMs: config.delayWarningHours * HOUR };
  const notices = planNotices(job, plan, now, cfg, facts);
  const ctx: BounceContext = {
    spool: deps.spool,
    hostname: config.hostname,
    lifetimeHours: config.queueLifetimeHours,
    random,
  };
  let out = plan;
  if (notices.failed.length > 0 && !(await stored(ctx, job, 'failed', notices.failed, now))) {
    out = deferBounces(out, now, deps.plan, random, new Set(notices.failed.map((r) => r.recipient)));
  }
  if (notices.delayed.length > 0 && (await stored(ctx, job, 'delayed', notices.delayed, now))) {
    const marked = new Set(notices.delayed.map((r) => r.recipient));
    out = { ...out, updates: out.updates.map((u) => (marked.has(u.recipient) ? { ...u, delayNoticeAt: now } : u)) };
  }
  if (notices.relayed.length > 0) await stored(ctx, job, 'relayed', notices.relayed, now);
  return out;
}
