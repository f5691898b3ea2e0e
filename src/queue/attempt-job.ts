/**
 * One job's delivery attempt as an Observable of its result: where the mail
 * goes (MX or relay), the body opened from the spool with every line ending
 * made CRLF (a message kept with SMTP_BARE_NEWLINE=keep, or stored before
 * that rule, included), DKIM-signed when configured (the signature covers
 * exactly those bytes; again for each further transaction the host needs)
 * and sent to each target in turn (delivery/attempt.ts).
 * Never errors; unsubscribing aborts the transaction (shutdown).
 */
import { Observable, defer, from, map, of, switchMap } from 'rxjs';
import type { DeliveryOutcome } from '../domain/delivery.js';
import type { DeliveryJob } from '../domain/job.js';
import type { DkimSigner } from '../dkim/signer.js';
import type { DnsResolver } from '../dns/resolver.js';
import { attemptDelivery, type AttemptResult, type DialTarget } from '../delivery/attempt.js';
import { resolveDestination, type Destination, type MxCache } from '../delivery/mx.js';
import { TlsGuard } from '../delivery/tls/guard.js';
import type { TlsPlanner } from '../delivery/tls/planner.js';
import { requireTlsCheck, type RequireTlsCheck } from '../delivery/tls/requiretls.js';
import type { TlsDecision } from '../domain/tls.js';
import { normalizeLineEndings } from '../mail/line-endings.js';
import type { SendResult, SmtpTarget, Transport } from '../delivery/transport.js';
import type { Spool } from '../spool/spool.js';
import type { Skip } from './dispatch-options.js';
import type { Feedback } from './destination-state.js';
import { requireTlsPlan } from './requiretls-plan.js';
import { requirementOf } from './tls-requirement.js';

/** What became of a job in the dispatcher: attempted (with the outcome per recipient), or not run. */
export type JobResult =
  | {
      readonly kind: 'attempted';
      readonly job: DeliveryJob;
      readonly startedAt: number;
      /** When the attempt's result came (same clock as `startedAt`). */
      readonly endedAt?: number;
      readonly result: AttemptResult;
    }
  | { readonly kind: 'skipped'; readonly job: DeliveryJob; readonly why: Skip };

export interface AttemptDeps {
  readonly spool: Pick<Spool, 'openBody'>;
  readonly transport: Transport;
  readonly resolver: DnsResolver;
  readonly mxCache: MxCache;
  readonly signer?: DkimSigner;
  /** Relay mode: the smarthost; MX mode when undefined. */
  readonly relay?: SmtpTarget;
  readonly port: number;
  readonly maxTargets: number;
  readonly retryBaseMs: number;
  readonly retryMaxMs: number;
  readonly clock: () => number;
  readonly random: () => number;
  readonly onDial?: (job: DeliveryJob, target: DialTarget) => void;
  /** MX mode: each destination's outbound TLS requirement (SMTP_TLS_POLICY, MTA-STS). */
  readonly tls?: TlsPlanner;
  /** Each host's TLS decision (audit `delivery.tls`). */
  readonly onTls?: (job: DeliveryJob, decision: TlsDecision) => void;
}

const recipientsOf = (job: DeliveryJob): string[] => job.recipients.map((r) => r.recipient);

export function attemptJob(deps: AttemptDeps, job: DeliveryJob): Observable<JobResult> {
  return defer(() => {
    const startedAt = deps.clock();
    return from(guardOf(deps, job)).pipe(
      switchMap((guard) => attempt(deps, job, guard)),
      map((result): JobResult => ({ kind: 'attempted', job, startedAt, endedAt: deps.clock(), result })),
    );
  });
}

/** The TLS guard of the job's destination (MX mode with a planner), undefined otherwise. */
async function guardOf(deps: AttemptDeps, job: DeliveryJob): Promise<TlsGuard | undefined> {
  // RFC 8460 §5.3: a TLS report goes out despite TLS failures, and its sessions are not reported
  if (!deps.tls || deps.relay || job.record.envelope.origin === 'tls-report') return undefined;
  const requirement = await requirementOf(deps.tls, deps.spool, job);
  return new TlsGuard(requirement, (decision) => deps.onTls?.(job, decision));
}

function attempt(deps: AttemptDeps, job: DeliveryJob, guard: TlsGuard | undefined): Observable<AttemptResult> {
  const resolve = (domain: string): Promise<Destination> =>
    resolveDestination(domain, deps.resolver, deps.random, deps.mxCache);
  // REQUIRETLS (RFC 8689): an authenticated next hop or nothing dialled; the relay over verified TLS
  const plan = requireTlsPlan(job.record.envelope, guard?.requirement, deps.relay);
  if (plan.kind === 'refused') return refused(job, guard, plan.outcome);
  const check = plan.kind === 'required' ? (t: DialTarget) => requireTlsCheck(guard?.requirement, t) : undefined;
  const relay = plan.kind === 'required' ? plan.relay : deps.relay;
  return attemptDelivery(job.domain, recipientsOf(job), {
    resolve: guard ? (domain) => resolve(domain).then((d) => guard.hosts(d)) : resolve,
    send: guard
      ? (target) => guard.send(target, (t) => send(deps, job, t, check?.(t)))
      : (target) => send(deps, job, anyTls(deps, job, target), check?.(target)),
    ...(relay ? { relay } : {}),
    port: deps.port,
    maxTargets: deps.maxTargets,
    retryBaseMs: deps.retryBaseMs,
    retryMaxMs: deps.retryMaxMs,
    random: deps.random,
    onDial: (target) => deps.onDial?.(job, target),
  }).pipe(map((result) => (guard?.last ? { ...result, tls: guard.last } : result)));
}

/** REQUIRETLS refused the destination before any dial: every recipient's outcome, reported as a TLS decision. */
function refused(job: DeliveryJob, guard: TlsGuard | undefined, outcome: DeliveryOutcome): Observable<AttemptResult> {
  const outcomes = new Map(recipientsOf(job).map((r) => [r, outcome]));
  if (!guard) return of({ outcomes });
  const tls: TlsDecision = {
    policy: guard.requirement.policy,
    result: 'requiretls-unmet',
    refused: true,
    host: job.domain,
    detail: outcome.response,
  };
  guard.report(tls);
  return of({ outcomes, tls });
}

/** A TLS report's MX host: STARTTLS when offered, any certificate (RFC 8460 §5.3); others as they are. */
function anyTls(deps: AttemptDeps, job: DeliveryJob, target: DialTarget): DialTarget {
  return job.record.envelope.origin === 'tls-report' && !deps.relay ? { ...target, tlsVerify: false } : target;
}

/** The body, opened afresh for each try, sent in one transaction to `target`. */
function send(
  deps: AttemptDeps,
  job: DeliveryJob,
  target: DialTarget,
  requiretls: RequireTlsCheck | undefined,
): Observable<SendResult> {
  return new Observable<SendResult>((subscriber) => {
    const abort = new AbortController();
    let settled = false;
    const { record } = job;
    // what is signed is what is sent: a lone CR or LF never leaves this server (SPEC §3)
    const openBody = async (): Promise<AsyncIterable<Buffer>> =>
      normalizeLineEndings(await deps.spool.openBody(record));
    // a further transaction on the host (its LIMITS, a 452 4.5.3) reads the message again, signed again
    const reopenBody = (): Promise<AsyncIterable<Buffer>> =>
      deps.signer ? deps.signer.signedBody(openBody, record.envelope.sender) : openBody();
    reopenBody()
      .then((body) =>
        deps.transport.sendEnvelope({
          ...target,
          from: record.envelope.sender,
          to: recipientsOf(job),
          body,
          reopenBody,
          size: record.size,
          ...(record.envelope.dsn ? { dsn: record.envelope.dsn } : {}),
          ...(requiretls ? { requiretls } : {}),
          signal: abort.signal,
        }),
      )
      .then(
        (result) => {
          settled = true;
          subscriber.next(result);
          subscriber.complete();
        },
        (err: unknown) => {
          settled = true;
          subscriber.error(err);
        },
      );
    // only an attempt still running is aborted (an abort makes an AbortError with a stack: not for every message)
    return () => {
      if (!settled) abort.abort();
    };
  });
}

/** What a job's result tells about its destination (the dispatcher's feedback). */
export function feedbackOf(r: JobResult): Feedback {
  if (r.kind === 'skipped') return { kind: 'none' };
  if (r.result.unreachable !== undefined) return { kind: 'failed', reason: r.result.unreachable };
  return r.result.answered ? { kind: 'answered' } : { kind: 'none' };
}
