/**
 * One attempt under a TLS requirement (requirement.ts): the MX hosts the
 * policy allows, each target dialled with the TLS it must have, and every
 * host's TLS decision reported. A required TLS that fails (no STARTTLS, a
 * refused or failed handshake, a certificate that does not verify) fails
 * that host with a 4.7.x deferral: the next host is tried, and when none is
 * left the attempt defers. Mail never goes in clear where TLS is required.
 * Under `dane`, hosts with TLSA records are authenticated by them (dane-plan.ts).
 */
import { catchError, tap, type Observable } from 'rxjs';
import type { TlsDecision } from '../../domain/tls.js';
import type { DialTarget } from '../attempt.js';
import type { Destination } from '../mx.js';
import { TransportError, type SendResult } from '../transport.js';
import {
  decisionOfSession,
  failureDecision,
  mxRefusal,
  noMatchingMx,
  tlsFailureOf,
  type TriedHost,
} from './decision.js';
import { daneHosts, danePlan } from './dane-plan.js';
import { mxAllowed, type TlsRequirement } from './requirement.js';

export class TlsGuard {
  /** The last decision of the attempt (the host that answered, or the last that failed). */
  private lastDecision: TlsDecision | undefined;

  constructor(
    readonly requirement: TlsRequirement,
    private readonly onDecision: (decision: TlsDecision) => void = () => undefined,
  ) {}

  get last(): TlsDecision | undefined {
    return this.lastDecision;
  }

  /** MTA-STS enforce: only the MX hosts the policy lists; none of them is a 4.7.5 deferral. */
  hosts(destination: Destination): Destination {
    const req = this.requirement;
    if (req.policy === 'dane') return daneHosts(req, destination, (decision) => this.decide(decision));
    if (destination.kind !== 'hosts' || req.policy !== 'mta-sts-enforce') return destination;
    const allowed = destination.hosts.filter((host) => mxAllowed(host.name, req));
    for (const host of destination.hosts) if (!allowed.includes(host)) this.decide(mxRefusal(req, host.name));
    if (allowed.length > 0) return { ...destination, hosts: allowed };
    return {
      kind: 'deferred',
      domain: destination.domain,
      response: noMatchingMx(
        req,
        destination.hosts.map((h) => h.name),
      ),
    };
  }

  /** Sends to `target` with the TLS the requirement asks for, reporting the decision. */
  send(target: DialTarget, send: (target: DialTarget) => Observable<SendResult>): Observable<SendResult> {
    const host: TriedHost = { label: target.label, name: target.servername ?? target.host };
    const dane = danePlan(this.requirement, host.name);
    const req = dane.requirement;
    const dialled: DialTarget = {
      ...target,
      ...(req.requireTls ? { requireTls: true } : {}),
      ...(req.verify === undefined ? {} : { tlsVerify: req.verify }),
      ...(dane.tlsa ? { tlsa: dane.tlsa } : {}),
    };
    return send(dialled).pipe(
      tap((result) => this.decide(dane.report(decisionOfSession(req, host, result.tls)))),
      catchError((error: unknown) => {
        const failure = tlsFailureOf(error instanceof TransportError ? error.cause : error);
        if (!failure) throw error;
        const { decision, classification } = failureDecision(req, host, failure);
        this.decide(dane.report(decision));
        if (classification && error instanceof TransportError) {
          throw new TransportError(classification, error.target, error.cause);
        }
        throw error;
      }),
    );
  }

  /** Reports a decision made outside a try (REQUIRETLS refusing the destination before any dial). */
  report(decision: TlsDecision): void {
    this.decide(decision);
  }

  private decide(decision: TlsDecision): void {
    this.lastDecision = decision;
    try {
      this.onDecision(decision);
    } catch {
      // a listener's bug must not change the delivery
    }
  }
}
