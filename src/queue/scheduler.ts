/**
 * The queue manager (Postfix's qmgr as one RxJS pipeline):
 *
 *   wake-ups (start, spool.wake$, freed capacity, timer to nextDueAt, tick)
 *     → claim due recipients into a bounded active window (one claim at a time)
 *     → group into jobs: one per (message, destination domain)
 *     → mergeMapPerKey(domain, attempt, SMTP_QUEUE_WORKERS, SMTP_DOMAIN_CONCURRENCY)
 *     → attempt: MX/relay, hosts in order with quick retries
 *     → outcome per recipient written to the spool (DSN stored first when one is due)
 *
 * Deferrals live only in the spool (`nextAttemptAt`), so a restart rebuilds
 * the schedule from disk. Errors never end the stream: attempt failures are
 * outcomes, and a spool failure while recording leaves the claim to expire
 * (its lease is the back-off) rather than risk a hot loop of re-deliveries.
 */
import { Readable } from 'node:stream';
import { EMPTY, Observable, Subject, catchError, concatMap, defer, finalize, from, ignoreElements, merge, mergeMap, of, switchMap, take, takeUntil } from 'rxjs';
import type { Subscription } from 'rxjs';
import type { Config } from '../config/types.js';
import type { AuditEvent } from '../domain/audit.js';
import type { DeliveryOutcome } from '../domain/delivery.js';
import type { MessageRecord } from '../domain/envelope.js';
import type { DeliveryJob } from '../domain/job.js';
import type { DnsResolver } from '../dns/resolver.js';
import type { DkimSigner } from '../dkim/signer.js';
import { attemptDelivery } from '../delivery/attempt.js';
import type { DialTarget } from '../delivery/attempt.js';
import { MxCache, resolveDestination } from '../delivery/mx.js';
import { relayTarget } from '../delivery/transport.js';
import type { SendResult, SmtpTarget, Transport } from '../delivery/transport.js';
import { shouldBounce } from '../bounce/dsn.js';
import type { Spool } from '../spool/spool.js';
import { storeBounce } from './bounce.js';
import { exhaustMapTrailing } from './exhaust-map-trailing.js';
import { deliverJobs } from './deliver-jobs.js';
import { groupIntoJobs } from './jobs.js';
import { deferBounces, planConfig, planUpdates } from './outcomes.js';
import { wakeUps } from './wake-ups.js';

export interface SchedulerOptions {
  /** Claim lease: longer than any attempt can take. Default 15 min. */
  readonly leaseMs?: number;
  /** Most recipients claimed and not yet recorded. Default max(100, 16 × workers). */
  readonly windowSize?: number;
  /** Safety tick. Default 30 s. */
  readonly safetyTickMs?: number;
  /** Least wait before re-checking when the spool says "due now" but nothing was claimed. Default 1 s. */
  readonly recheckFloorMs?: number;
  /** Quick in-attempt retry (next host, redial): first wait and cap. Defaults 250 ms, 2 s. */
  readonly quickRetryBaseMs?: number;
  readonly quickRetryMaxMs?: number;
  /** Addresses tried per attempt. Default 5. */
  readonly maxTargets?: number;
  /** How long `stop` lets in-flight attempts finish before aborting them. Default 10 s. */
  readonly stopTimeoutMs?: number;
}

export interface SchedulerDeps {
  readonly spool: Spool;
  readonly config: Config;
  readonly resolver: DnsResolver;
  readonly transport: Transport;
  /** DKIM signing at delivery (SPEC §5); messages leave unsigned without it. */
  readonly signer?: DkimSigner;
  readonly clock: () => number;
  readonly random: () => number;
  /** `delivery.attempt` per host dialled, `delivery.outcome` per recipient recorded (audit bus, metrics). */
  readonly onEvent?: (event: AuditEvent) => void;
  /** First emission stops the scheduler like `stop()`. */
  readonly shutdown$?: Observable<unknown>;
  readonly options?: SchedulerOptions;
}

export interface SchedulerHandle {
  /** Stops claiming; lets in-flight attempts finish (bounded), releases every other claim. */
  stop(): Promise<void>;
  /** Recipients claimed and not yet recorded. */
  readonly inFlight: () => number;
}

interface JobState {
  readonly job: DeliveryJob;
  started: boolean;
  /** Claims resolved: recorded in the spool, released, or left to their lease. */
  settled: boolean;
}

const HOLD: SchedulerHandle = { stop: () => Promise.resolve(), inFlight: () => 0 };

export function startScheduler(deps: SchedulerDeps): SchedulerHandle {
  const { spool, config, clock, random } = deps;
  if (config.deliveryMode === 'hold') return HOLD; // store only: delivery is never subscribed
  const relay: SmtpTarget | undefined = config.deliveryMode === 'relay' ? relayOf(config) : undefined;
  const o = deps.options ?? {};
  const leaseMs = o.leaseMs ?? 15 * 60_000;
  const windowSize = o.windowSize ?? Math.max(100, 16 * config.queueWorkers);
  const recheckFloorMs = o.recheckFloorMs ?? 1_000;
  const plan = planConfig(config);
  const mxCache = new MxCache(clock);
  const emit = (event: AuditEvent): void => {
    try {
      deps.onEvent?.(event);
    } catch {
      // a listener's bug must not stop delivery
    }
  };

  const stopping$ = new Subject<void>();
  const capacity$ = new Subject<void>();
  const due$ = new Subject<number | undefined>();
  const open = new Set<JobState>();
  const releases = new Set<Promise<void>>();
  let stopping = false;
  let inFlight = 0;
  let saturated = false;

  const track = (p: Promise<unknown>): void => {
    const settled = p.then(
      () => undefined,
      () => undefined,
    );
    releases.add(settled);
    void settled.then(() => releases.delete(settled));
  };
  const recipientsOf = (job: DeliveryJob): string[] => job.recipients.map((r) => r.recipient);
  const release = (state: JobState): void => {
    if (state.settled) return;
    state.settled = true;
    track(spool.release(state.job.id, recipientsOf(state.job)));
  };
  const finish = (state: JobState): void => {
    if (!open.delete(state)) return;
    inFlight -= state.job.recipients.length;
    if (saturated) {
      saturated = false;
      capacity$.next();
    }
  };

  async function claim(): Promise<JobState[]> {
    const limit = windowSize - inFlight;
    if (stopping) return [];
    if (limit <= 0) {
      saturated = true;
      return [];
    }
    const due = await spool.claimDue(clock(), limit, leaseMs);
    const states = groupIntoJobs(due, relay === undefined).map((job) => ({ job, started: false, settled: false }));
    for (const s of states) open.add(s);
    inFlight += due.length;
    if (stopping) {
      for (const s of states) {
        release(s);
        finish(s);
      }
      return [];
    }
    saturated = due.length >= limit;
    if (!saturated) {
      // Freed capacity wakes us when saturated; otherwise the next due time does.
      const now = clock();
      const next = await spool.nextDueAt().catch(() => now + recheckFloorMs);
      // "Due now" right after claiming nothing (a claim held elsewhere): look again after a floor, never spin.
      due$.next(next === undefined ? undefined : due.length === 0 && next <= now ? now + recheckFloorMs : next);
    }
    return states;
  }

  function send(state: JobState, sender: string, target: DialTarget): Observable<SendResult> {
    return new Observable<SendResult>((subscriber) => {
      const abort = new AbortController();
      const openBody = (): Promise<AsyncIterable<Buffer>> => spool.openBody(state.job.id);
      (deps.signer ? deps.signer.signedBody(openBody, sender) : openBody())
        .then((body) =>
          deps.transport.sendEnvelope({
            ...target,
            from: sender,
            to: recipientsOf(state.job),
            body: Readable.from(body, { objectMode: false }),
            signal: abort.signal,
          }),
        )
        .then(
          (result) => {
            subscriber.next(result);
            subscriber.complete();
          },
          (err: unknown) => subscriber.error(err),
        );
      return () => abort.abort();
    });
  }

  async function record(state: JobState, rec: MessageRecord, outcomes: ReadonlyMap<string, DeliveryOutcome>, startedAt: number): Promise<void> {
    const now = clock();
    let p = planUpdates(state.job, outcomes, now, plan, random);
    if (p.bounced.length > 0 && shouldBounce(rec.envelope.sender, config.bounces)) {
      try {
        // DSN first, then state: a crash in between bounces twice rather than never.
        await storeBounce({ spool, hostname: config.hostname, lifetimeHours: config.queueLifetimeHours, random }, rec, p.bounced, now);
      } catch {
        p = deferBounces(p, now, plan, random);
      }
    }
    await spool.update(state.job.id, p.updates);
    state.settled = true;
    for (const u of p.updates) {
      emit({
        type: 'delivery.outcome',
        id: state.job.id,
        recipient: u.recipient,
        outcome: u.status === 'delivered' ? 'delivered' : u.status === 'bounced' ? 'bounced' : 'deferred',
        response: u.lastResponse ?? '',
        attempts: u.attempts,
        durationMs: now - startedAt,
      });
    }
  }

  function runJob(state: JobState): Observable<never> {
    const { job } = state;
    return defer(() => {
      if (state.settled) return EMPTY; // released at stop before it started
      state.started = true;
      if (stopping) {
        release(state);
        return EMPTY;
      }
      const startedAt = clock();
      return from(spool.get(job.id)).pipe(
        switchMap((rec) => {
          if (!rec) {
            state.settled = true; // removed meanwhile: nothing to do
            return EMPTY;
          }
          return attemptDelivery(job.domain, recipientsOf(job), {
            resolve: (domain) => resolveDestination(domain, deps.resolver, random, mxCache),
            send: (target) => send(state, rec.envelope.sender, target),
            ...(relay ? { relay } : {}),
            port: config.outboundPort,
            maxTargets: o.maxTargets ?? 5,
            retryBaseMs: o.quickRetryBaseMs ?? 250,
            retryMaxMs: o.quickRetryMaxMs ?? 2_000,
            random,
            onDial: (target) => emit({ type: 'delivery.attempt', id: job.id, recipients: recipientsOf(job), host: target.label }),
          }).pipe(concatMap((outcomes) => from(record(state, rec, outcomes, startedAt))));
        }),
        catchError(() => {
          // Spool trouble: keep the claim; its lease expiry retries the job later.
          state.settled = true;
          return EMPTY;
        }),
      );
    }).pipe(
      ignoreElements(),
      finalize(() => {
        release(state); // no-op unless aborted mid-attempt
        finish(state);
      }),
    );
  }

  // Stopping ends the wake-ups only: claimed jobs still run (or are released).
  const wakes$ = wakeUps({
    wake$: merge(spool.wake$, capacity$),
    due$,
    tickMs: o.safetyTickMs ?? 30_000,
    now: clock,
  }).pipe(takeUntil(stopping$));
  const pipeline$ = wakes$.pipe(
    exhaustMapTrailing(() =>
      defer(() => from(claim())).pipe(
        catchError(() => {
          due$.next(clock() + recheckFloorMs); // spool trouble: look again soon
          return of([] as JobState[]);
        }),
      ),
    ),
    mergeMap((states) => from(states)),
    deliverJobs(runJob, { workers: config.queueWorkers, perDomain: config.domainConcurrency }),
  );

  let subscription: Subscription | undefined;
  const done = new Promise<void>((resolve) => {
    subscription = pipeline$.subscribe({ complete: resolve, error: () => resolve() });
  });

  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopped ??= (async () => {
      stopping = true;
      stopping$.next();
      for (const s of open) {
        if (!s.started) {
          release(s);
          finish(s);
        }
      }
      let timer: NodeJS.Timeout | undefined;
      const timedOut = await Promise.race([
        done.then(() => false),
        new Promise<boolean>((resolve) => {
          timer = setTimeout(() => resolve(true), o.stopTimeoutMs ?? 10_000);
        }),
      ]);
      clearTimeout(timer);
      if (timedOut) subscription?.unsubscribe(); // aborts attempts; finalize releases their claims
      for (const s of [...open]) {
        release(s);
        finish(s);
      }
      await Promise.all([...releases]);
    })());

  const shutdownSubscription = deps.shutdown$?.pipe(take(1)).subscribe({ next: () => void stop(), error: () => void stop() });
  void done.then(() => shutdownSubscription?.unsubscribe());

  return { stop, inFlight: () => inFlight };
}

function relayOf(config: Config): SmtpTarget {
  if (!config.relay) throw new Error('SMTP_DELIVERY_MODE=relay needs SMTP_RELAY_URL');
  return relayTarget(config.relay);
}
