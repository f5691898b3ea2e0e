/**
 * One delivery attempt for one job, as an Observable: find where the mail
 * goes (MX look-up, or the relay), then try the targets in order. A host
 * that gives no verdict (refused, timeout, TLS failure, 421) hands over to
 * the next one through `retry` with quick jittered waits: the short kind of
 * waiting. The long kind (deferral) is the caller's: it writes
 * `nextAttemptAt` to the spool.
 *
 * Emits exactly one `AttemptResult` and completes; never errors.
 */
import { catchError, defer, from, map, of, retry, switchMap } from 'rxjs';
import type { Observable, SchedulerLike } from 'rxjs';
import { isIP } from 'node:net';
import type { DeliveryOutcome } from '../domain/delivery.js';
import type { TlsDecision } from '../domain/tls.js';
import { quickRetryDelayMs } from '../policy/backoff.js';
import { retryWithDelay } from '../rx/retry-with-delay.js';
import { classifyError } from './classify.js';
import type { Destination, MxHost } from './mx.js';
import { TransportError } from './transport.js';
import type { SendResult, SmtpTarget } from './transport.js';

/**
 * What one attempt came to: an outcome per recipient, and whether the
 * destination's hosts answered at all (`unreachable`: every try failed at the
 * connection level, so the destination's concurrency should back off).
 */
export interface AttemptResult {
  readonly outcomes: ReadonlyMap<string, DeliveryOutcome>;
  /** A server answered the transaction (whatever it said). */
  readonly answered?: true;
  /** No host gave a verdict: why the last one did not. */
  readonly unreachable?: string;
  /** The last target dialled (its label), for the mail log; absent when none was. */
  readonly relay?: string;
  /** The host name of that target (its TLS name, else its host), for a DSN's Remote-MTA. */
  readonly remoteMta?: string;
  /** How long the transaction with the answering host took, ms. */
  readonly transmitMs?: number;
  /** The answering host offers DSN: it reports on the recipients from here on (no "relayed" notice from us). */
  readonly dsn?: true;
  /** The outbound TLS decision of the last host tried (MX mode). */
  readonly tls?: TlsDecision;
}

/** A concrete place to dial, with a label for logs and audit events. */
export interface DialTarget extends SmtpTarget {
  readonly label: string;
}

export interface AttemptOptions {
  /** Looks up the destination (MX mode), failures as values. */
  readonly resolve: (domain: string) => Promise<Destination>;
  /** Sends the job's message to one target (opens the body itself, so each try gets a fresh stream). */
  readonly send: (target: DialTarget) => Observable<SendResult>;
  /** Relay mode: the one target; MX mode when undefined. */
  readonly relay?: SmtpTarget;
  /** SMTP_OUTBOUND_PORT. */
  readonly port: number;
  /** Most addresses tried in one attempt (Postfix: smtp_mx_address_limit = 5). */
  readonly maxTargets: number;
  readonly retryBaseMs: number;
  readonly retryMaxMs: number;
  readonly random: () => number;
  readonly scheduler?: SchedulerLike;
  /** Called when a target is dialled (audit `delivery.attempt`). */
  readonly onDial?: (target: DialTarget) => void;
}

function hostLabel(name: string, address: string, port: number): string {
  return name === address ? `[${address}]:${port}` : `${name}[${address}]:${port}`;
}

/** Hosts × addresses in order, at most `limit`. */
export function dialTargets(hosts: readonly MxHost[], port: number, limit: number): DialTarget[] {
  const targets: DialTarget[] = [];
  for (const host of hosts) {
    for (const address of host.addresses) {
      if (targets.length >= limit) return targets;
      const servername = isIP(host.name) === 0 ? host.name : undefined;
      targets.push({
        host: address,
        port,
        label: hostLabel(host.name, address, port),
        ...(servername ? { servername } : {}),
      });
    }
  }
  return targets;
}

function allOf(recipients: readonly string[], outcome: DeliveryOutcome): AttemptResult {
  return { outcomes: new Map(recipients.map((r) => [r, outcome])) };
}

/** The last target dialled, as the result names it. */
function dialledAs(target: DialTarget): Pick<AttemptResult, 'relay' | 'remoteMta'> {
  return { relay: target.label, remoteMta: target.servername ?? target.host };
}

function toResult(result: SendResult, dialled: DialTarget): AttemptResult {
  const outcomes = new Map(result.recipients.map((r) => [r.recipient, r.outcome]));
  return {
    outcomes,
    answered: true,
    ...dialledAs(dialled),
    ...(result.transmitMs === undefined ? {} : { transmitMs: result.transmitMs }),
    ...(result.dsn === true ? { dsn: true as const } : {}),
  };
}

/**
 * Tries `targets` in order (cycling when there are fewer targets than
 * tries, so a single host gets one redial after a dropped connection).
 * When every try failed at host level: `failed` only if every host said
 * 5xx, otherwise `deferred` with the last host's response.
 */
export function tryTargets(
  targets: readonly DialTarget[],
  recipients: readonly string[],
  options: AttemptOptions,
): Observable<AttemptResult> {
  if (targets.length === 0) {
    return of(allOf(recipients, { kind: 'deferred', response: '4.4.4 no host to deliver to' }));
  }
  return defer(() => {
    const failures: TransportError[] = [];
    let next = 0;
    const first = targets[0];
    if (!first) throw new Error('no target');
    let dialled: DialTarget = first;
    return defer(() => {
      const target = targets[next % targets.length] ?? first;
      next += 1;
      dialled = target;
      options.onDial?.(target);
      return options.send(target);
    }).pipe(
      catchError((err: unknown) => {
        if (err instanceof TransportError) failures.push(err);
        throw err;
      }),
      retry(
        retryWithDelay({
          count: Math.max(targets.length - 1, 1),
          delayMs: (n) => quickRetryDelayMs(n, options.retryBaseMs, options.retryMaxMs, options.random),
          ...(options.scheduler ? { scheduler: options.scheduler } : {}),
          isRetryable: (err) => err instanceof TransportError && err.classification.scope === 'host',
        }),
      ),
      map((result) => toResult(result, dialled)),
      catchError((err: unknown) => {
        if (!(err instanceof TransportError)) {
          return of({
            ...allOf(recipients, { kind: 'deferred', response: classifyError(err).response }),
            ...dialledAs(dialled),
          });
        }
        const c = err.classification;
        const allPermanent = failures.every((f) => f.classification.kind === 'failed');
        const kind = c.scope === 'host' ? (allPermanent ? 'failed' : 'deferred') : c.kind;
        const response = `${c.response} (${err.target})`;
        const result = { ...allOf(recipients, { kind, response }), ...dialledAs(dialled) };
        // no host gave a verdict (refused, dropped, timed out, 421): the destination is in trouble
        return of(c.scope === 'host' && kind === 'deferred' ? { ...result, unreachable: response } : result);
      }),
    );
  });
}

/** The whole attempt for one job's recipients to `domain`. */
export function attemptDelivery(
  domain: string,
  recipients: readonly string[],
  options: AttemptOptions,
): Observable<AttemptResult> {
  if (options.relay) {
    const relay = options.relay;
    const target: DialTarget = { ...relay, label: `${relay.secure ? 'smtps' : 'smtp'}://${relay.host}:${relay.port}` };
    return tryTargets([target], recipients, options);
  }
  return defer(() => from(options.resolve(domain))).pipe(
    switchMap((destination) =>
      destination.kind === 'hosts'
        ? tryTargets(dialTargets(destination.hosts, options.port, options.maxTargets), recipients, options)
        : of(allOf(recipients, { kind: destination.kind, response: destination.response })),
    ),
    catchError((err: unknown) => of(allOf(recipients, { kind: 'deferred', response: classifyError(err).response }))),
  );
}
