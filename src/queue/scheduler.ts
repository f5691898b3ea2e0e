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
import { Subject, catchError, finalize, from, map, mergeMap, of, switchMap, takeUntil, timer } from 'rxjs';
import type { Observable, SchedulerLike } from 'rxjs';
import type { Config } from '../config/types.js';
import type { AuditEvent } from '../domain/audit.js';
import type { ClaimedMessage } from '../domain/delivery.js';
import type { DeliveryJob } from '../domain/job.js';
import type { DnsResolver } from '../dns/resolver.js';
import type { DkimSigner } from '../dkim/signer.js';
import { MxCache } from '../delivery/mx.js';
import { relayTarget, type SmtpTarget, type Transport } from '../delivery/transport.js';
import type { TlsPlanner } from '../delivery/tls/planner.js';
import type { Spool } from '../spool/spool.js';
import { attemptJob, feedbackOf, type AttemptDeps, type JobResult } from './attempt-job.js';
import { Claimer } from './claimer.js';
import { dispatch } from './dispatch.js';
import { HOLD_RECHECK_MS, postponeHeld, splitHeld } from './held.js';
import type { DispatchOptions } from './dispatch-options.js';
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
  readonly tls?: TlsPlanner; // outbound TLS per destination (SMTP_TLS_POLICY, MTA-STS); opportunistic without
  readonly clock: () => number;
  readonly random: () => number;
  /**
   * `delivery.attempt` per host dialled, `delivery.tls` per host's TLS decision, `delivery.outcome` per recipient
   * recorded, `destination.dead` (audit bus, metrics).
   */
  readonly onEvent?: (event: AuditEvent) => void;
  /** Destinations on hold (console/holds.ts): their jobs go back to the queue unattempted (held.ts). */
  readonly isHeld?: (domain: string) => boolean;
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
  if (deps.config.deliveryMode === 'hold') return HOLD; // store only: delivery is never subscribed
  return new Scheduler(deps);
}

/** The pipeline above, its window of claimed messages and the claims it gives back. */
class Scheduler implements SchedulerHandle {
  private readonly o: SchedulerOptions;
  private readonly relay: SmtpTarget | undefined;
  private readonly recheckFloorMs: number;
  private readonly window: MessageWindow;
  private readonly stop$ = new Subject<void>();
  private readonly claimer: Claimer;
  private readonly mxCache: MxCache;
  private readonly rated: ReadonlySet<string>;
  /** Claims being given back to the spool; `stop` waits for them. */
  private readonly releases = new Set<Promise<void>>();
  private readonly done: Promise<void>;

  constructor(private readonly deps: SchedulerDeps) {
    const { spool, config, clock } = deps;
    this.o = deps.options ?? {};
    this.relay = config.deliveryMode === 'relay' ? relayOf(config) : undefined;
    this.recheckFloorMs = this.o.recheckFloorMs ?? 1_000;
    this.window = new MessageWindow({
      messages: this.o.windowMessages ?? 10_000,
      recipients: this.o.windowRecipients ?? 50_000,
    });
    this.claimer = new Claimer({
      spool,
      room: () => this.window.room(),
      clock,
      batch: this.o.claimBatch ?? 256,
      safetyTickMs: this.o.safetyTickMs ?? 30_000,
      recheckFloorMs: this.recheckFloorMs,
      stop$: this.stop$,
    });
    this.mxCache = new MxCache(clock);
    this.rated = new Set(config.destinationRates.keys());
    // stopping: claims end and queues drain; after the bound, what still runs is aborted; then every claim left goes
    // back
    const abort$ = this.stop$.pipe(switchMap(() => timer(this.o.stopTimeoutMs ?? 10_000)));
    this.done = new Promise<void>((resolve) => {
      this.pipeline()
        .pipe(
          takeUntil(abort$),
          finalize(() => {
            for (const id of this.window.drain()) this.release(id);
            resolve(Promise.all([...this.releases]).then(() => undefined));
          }),
        )
        .subscribe({ error: () => undefined });
    });
  }

  /** Stops claiming; lets in-flight attempts finish (bounded), releases every other claim. */
  stop(): Promise<void> {
    if (!this.stop$.closed) {
      this.stop$.next();
      this.stop$.complete();
    }
    return this.done;
  }

  readonly inFlight = (): number => this.window.recipients;

  private pipeline(): Observable<unknown> {
    const { clock, config } = this.deps;
    const settleDeps: SettleDeps = {
      spool: this.deps.spool,
      config,
      plan: planConfig(config),
      clock,
      random: this.deps.random,
      emit: this.emit,
    };
    const warmer = new RouteWarmer(this.mxCache, this.deps.resolver, this.deps.random, clock);
    return this.claimer.claimed$.pipe(
      mergeMap((batch) => from(batch.flatMap((claimed) => this.admit(claimed)))),
      // the domain's MX hosts known first, so domains sharing them share a queue
      mergeMap((job) => {
        const warming = warmer.warm(job, this.relay !== undefined, this.rated);
        return warming ? from(warming).pipe(map(() => job)) : of(job);
      }),
      dispatch<DeliveryJob, JobResult>(this.dispatchOptions()),
      mergeMap((r) =>
        from(settleJob(settleDeps, r)).pipe(
          // spool trouble while recording: hold the message back a moment, its recipients as they were
          catchError(() => of({ notBefore: clock() + this.recheckFloorMs })),
          map((s) => this.settled(r.job, s.notBefore)),
        ),
      ),
    );
  }

  private dispatchOptions(): DispatchOptions<DeliveryJob, JobResult> {
    const { config } = this.deps;
    const o = this.o;
    const attemptDeps = this.attemptDeps();
    return {
      key: (job) => destinationKey(job, this.relay !== undefined, this.mxCache, this.rated),
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
      stop$: this.stop$,
      shed$: this.claimer.backlog$,
      dropped: (job) => this.settled(job),
      onDead: (destination, until, reason) =>
        this.emit({ type: 'destination.dead', destination, until: new Date(until).toISOString(), reason }),
      ...(o.scheduler ? { scheduler: o.scheduler } : {}),
    };
  }

  private attemptDeps(): AttemptDeps {
    const { deps, o, relay } = this;
    return {
      spool: deps.spool,
      transport: deps.transport,
      resolver: deps.resolver,
      mxCache: this.mxCache,
      ...(deps.signer ? { signer: deps.signer } : {}),
      ...(relay ? { relay } : {}),
      port: deps.config.outboundPort,
      maxTargets: o.maxTargets ?? 5,
      retryBaseMs: o.quickRetryBaseMs ?? 250,
      retryMaxMs: o.quickRetryMaxMs ?? 2_000,
      clock: deps.clock,
      random: deps.random,
      onDial: (job, target) =>
        this.emit({
          type: 'delivery.attempt',
          id: job.record.id,
          recipients: job.recipients.map((r) => r.recipient),
          host: target.label,
        }),
      ...(deps.tls ? { tls: deps.tls } : {}),
      onTls: (job, decision) => this.emit({ type: 'delivery.tls', id: job.record.id, domain: job.domain, ...decision }),
    };
  }

  /** A claimed message enters the window as its jobs, one per destination group. */
  private admit(claimed: ClaimedMessage): DeliveryJob[] {
    const { config } = this.deps;
    const groupOf = this.relay
      ? (domain: string) => (this.rated.has(domain) ? domain : '')
      : (domain: string) => domain;
    const jobs = splitIntoJobs(claimed, {
      groupOf,
      recipientLimit: config.destinationRecipientLimit,
    } satisfies SplitOptions);
    this.window.admit(claimed.record.id, jobs.length, claimed.due.length);
    if (!this.deps.isHeld) return jobs;
    const { run, held } = splitHeld(jobs, this.deps.isHeld);
    const until = this.deps.clock() + HOLD_RECHECK_MS;
    for (const job of held) {
      postponeHeld(this.deps.spool, job, until).then(
        () => this.settled(job),
        () => this.settled(job, until), // not written: the claim's release holds it back instead
      );
    }
    return run;
  }

  /** One job of a message settled; the message leaves the window with its last one. */
  private settled(job: DeliveryJob, notBefore?: number): void {
    const done = this.window.settle(job.record.id, notBefore);
    if (done) this.release(job.record.id, done.notBefore);
  }

  private release(id: string, notBefore?: number): void {
    const done = this.deps.spool.release(id, notBefore).catch(() => undefined);
    this.releases.add(done);
    void done.then(() => this.releases.delete(done));
    this.claimer.released();
  }

  private readonly emit = (event: AuditEvent): void => {
    try {
      this.deps.onEvent?.(event);
    } catch {
      // a listener's bug must not stop delivery
    }
  };
}

function relayOf(config: Config): SmtpTarget {
  if (!config.relay) throw new Error('SMTP_DELIVERY_MODE=relay needs SMTP_RELAY_URL');
  return relayTarget(config.relay);
}
