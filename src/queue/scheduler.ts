/**
 * The queue manager (Postfix's qmgr as one RxJS pipeline):
 *
 *   Claimer          wake-ups → claim whole due messages into the active window
 *   splitIntoJobs    one job per (message, destination domain), at most
 *                    SMTP_DESTINATION_RECIPIENT_LIMIT recipients each
 *   dispatch         a queue per destination (domains sharing MX hosts share
 *                    one): adaptive concurrency up to SMTP_DOMAIN_CONCURRENCY,
 *                    dead destinations, rate limits, SMTP_QUEUE_WORKERS in all
 *     run            attemptJob: MX or relay, hosts in order with quick retries,
 *                    connections reused while the destination has work
 *     skip           dead: deferred without dialling; busy: held back
 *   settleJob        outcomes to the spool (the DSN first when one is due)
 *   MessageWindow    a message is released once every job of it has settled
 *
 * Deferrals live only in the spool (`nextAttemptAt`), so a restart rebuilds
 * the schedule from disk. Errors never end the stream: attempt failures are
 * outcomes, and a spool failure while recording holds the message back for a
 * moment rather than risk a hot loop of re-deliveries.
 */
import { Subject, catchError, from, map, mergeMap, of } from 'rxjs';
import type { Observable, SchedulerLike, Subscription } from 'rxjs';
import type { Config } from '../config/types.js';
import type { AuditEvent } from '../domain/audit.js';
import type { ClaimedMessage } from '../domain/delivery.js';
import type { DeliveryJob } from '../domain/job.js';
import type { DnsResolver } from '../dns/resolver.js';
import type { DkimSigner } from '../dkim/signer.js';
import { MxCache } from '../delivery/mx.js';
import { relayTarget } from '../delivery/transport.js';
import type { Transport } from '../delivery/transport.js';
import type { Spool } from '../spool/spool.js';
import { attemptJob, feedbackOf, type AttemptDeps, type JobResult } from './attempt-job.js';
import { Claimer } from './claimer.js';
import { dispatch } from './dispatch.js';
import { splitIntoJobs, type SplitOptions } from './jobs.js';
import { planConfig } from './outcomes.js';
import { RouteWarmer, destinationKey, ratedDomainOf } from './route.js';
import { settleJob, type SettleDeps } from './settle.js';
import { MessageWindow } from './window.js';

export interface SchedulerOptions {
  /** Most messages claimed and not yet released. Default 10,000. */
  readonly windowMessages?: number;
  /** Most recipients claimed and not yet released. Default 50,000. */
  readonly windowRecipients?: number;
  /** Most messages per claim. Default 256. */
  readonly claimBatch?: number;
  /** Safety tick. Default 30 s. */
  readonly safetyTickMs?: number;
  /** Least wait before re-checking when the spool says "due now" but nothing was claimed, or failed. Default 1 s. */
  readonly recheckFloorMs?: number;
  /** Quick in-attempt retry (next host, redial): first wait and cap. Defaults 250 ms, 2 s. */
  readonly quickRetryBaseMs?: number;
  readonly quickRetryMaxMs?: number;
  /** Addresses tried per attempt. Default 5. */
  readonly maxTargets?: number;
  /** A destination's concurrency window at first (and after a restart). Default 5. */
  readonly initialConcurrency?: number;
  /** How long a destination whose hosts all failed stays dead. Default SMTP_RETRY_BASE_SECONDS. */
  readonly deadMs?: number;
  /** A destination holds at most this much waiting work (at its recent pace); more is held back. Default 60 s. */
  readonly maxWaitMs?: number;
  /** How long `stop` lets in-flight attempts finish before aborting them. Default 10 s. */
  readonly stopTimeoutMs?: number;
  /** Timers of the dispatcher (virtual time in tests). */
  readonly scheduler?: SchedulerLike;
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
  /** `delivery.attempt` per host dialled, `delivery.outcome` per recipient recorded, `destination.dead` (audit bus, metrics). */
  readonly onEvent?: (event: AuditEvent) => void;
  readonly options?: SchedulerOptions;
}

export interface SchedulerHandle {
  /** Stops claiming; lets in-flight attempts finish (bounded), releases every other claim. */
  stop(): Promise<void>;
  /** Recipients claimed and not yet released. */
  readonly inFlight: () => number;
}

const HOLD: SchedulerHandle = { stop: () => Promise.resolve(), inFlight: () => 0 };

export function startScheduler(deps: SchedulerDeps): SchedulerHandle {
  const { spool, config, clock } = deps;
  if (config.deliveryMode === 'hold') return HOLD; // store only: delivery is never subscribed
  const o = deps.options ?? {};
  const relay = config.deliveryMode === 'relay' ? relayOf(config) : undefined;
  const recheckFloorMs = o.recheckFloorMs ?? 1_000;
  const emit = (event: AuditEvent): void => {
    try {
      deps.onEvent?.(event);
    } catch {
      // a listener's bug must not stop delivery
    }
  };
  const window = new MessageWindow({ messages: o.windowMessages ?? 10_000, recipients: o.windowRecipients ?? 50_000 });
  const stop$ = new Subject<void>();
  const claimer = new Claimer({
    spool,
    room: () => window.room(),
    clock,
    batch: o.claimBatch ?? 256,
    safetyTickMs: o.safetyTickMs ?? 30_000,
    recheckFloorMs,
    stop$,
  });
  const mxCache = new MxCache(clock);
  const warmer = new RouteWarmer(mxCache, deps.resolver, deps.random, clock);
  const rated = new Set(config.destinationRates.keys());
  const split: SplitOptions = {
    groupOf: relay ? (domain) => (rated.has(domain) ? domain : '') : (domain) => domain,
    recipientLimit: config.destinationRecipientLimit,
  };
  const attemptDeps: AttemptDeps = {
    spool,
    transport: deps.transport,
    resolver: deps.resolver,
    mxCache,
    ...(deps.signer ? { signer: deps.signer } : {}),
    ...(relay ? { relay } : {}),
    port: config.outboundPort,
    maxTargets: o.maxTargets ?? 5,
    retryBaseMs: o.quickRetryBaseMs ?? 250,
    retryMaxMs: o.quickRetryMaxMs ?? 2_000,
    clock,
    random: deps.random,
    onDial: (job, target) => emit({ type: 'delivery.attempt', id: job.record.id, recipients: job.recipients.map((r) => r.recipient), host: target.label }),
  };
  const settleDeps: SettleDeps = { spool, config, plan: planConfig(config), clock, random: deps.random, emit };

  const releases = new Set<Promise<void>>();
  const release = (id: string, notBefore?: number): void => {
    const done = spool.release(id, notBefore).catch(() => undefined);
    releases.add(done);
    void done.then(() => releases.delete(done));
    claimer.released();
  };
  /** One job of a message settled; the message leaves the window with its last one. */
  const settled = (job: DeliveryJob, notBefore?: number): void => {
    const done = window.settle(job.record.id, notBefore);
    if (done) release(job.record.id, done.notBefore);
  };
  const admit = (claimed: ClaimedMessage): DeliveryJob[] => {
    const jobs = splitIntoJobs(claimed, split);
    window.admit(claimed.record.id, jobs.length, claimed.due.length);
    return jobs;
  };

  const pipeline$: Observable<unknown> = claimer.claimed$.pipe(
    mergeMap((batch) => from(batch.flatMap(admit))),
    // the domain's MX hosts known first, so domains sharing them share a queue
    mergeMap((job) => {
      const warming = warmer.warm(job, relay !== undefined, rated);
      return warming ? from(warming).pipe(map(() => job)) : of(job);
    }),
    dispatch<DeliveryJob, JobResult>({
      key: (job) => destinationKey(job, relay !== undefined, mxCache, rated),
      run: (job) => attemptJob(attemptDeps, job),
      skip: (job, why) => of<JobResult>({ kind: 'skipped', job, why }),
      feedback: feedbackOf,
      limits: {
        initial: o.initialConcurrency ?? 5,
        max: config.domainConcurrency,
        deadMs: o.deadMs ?? config.retryBaseSeconds * 1000,
        total: config.queueWorkers,
        maxWaitMs: o.maxWaitMs ?? 60_000,
        rateOf: (key) => {
          const domain = ratedDomainOf(key);
          return domain === undefined ? undefined : config.destinationRates.get(domain);
        },
      },
      stop$,
      shed$: claimer.backlog$,
      dropped: (job) => settled(job),
      onDead: (destination, until, reason) => emit({ type: 'destination.dead', destination, until: new Date(until).toISOString(), reason }),
      ...(o.scheduler ? { scheduler: o.scheduler } : {}),
    }),
    mergeMap((r) =>
      from(settleJob(settleDeps, r)).pipe(
        // spool trouble while recording: hold the message back a moment, its recipients as they were
        catchError(() => of({ notBefore: clock() + recheckFloorMs })),
        map((s) => settled(r.job, s.notBefore)),
      ),
    ),
  );

  let subscription: Subscription | undefined;
  const done = new Promise<void>((resolve) => {
    subscription = pipeline$.subscribe({ complete: resolve, error: () => resolve() });
  });

  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopped ??= (async () => {
      stop$.next();
      stop$.complete();
      let timer: NodeJS.Timeout | undefined;
      const timedOut = await Promise.race([
        done.then(() => false),
        new Promise<boolean>((resolve) => {
          timer = setTimeout(() => resolve(true), o.stopTimeoutMs ?? 10_000);
        }),
      ]);
      clearTimeout(timer);
      if (timedOut) subscription?.unsubscribe(); // aborts attempts; their messages are released below
      for (const id of window.drain()) release(id);
      await Promise.all([...releases]);
    })());

  return { stop, inFlight: () => window.recipients };
}

function relayOf(config: Config) {
  if (!config.relay) throw new Error('SMTP_DELIVERY_MODE=relay needs SMTP_RELAY_URL');
  return relayTarget(config.relay);
}
