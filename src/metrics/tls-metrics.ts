/**
 * The outbound TLS instrument: every host's TLS decision counted by the
 * policy that governed it and what came of it, so an operator sees how much
 * mail goes verified, encrypted or in clear, and what a policy refused.
 *
 * In: `delivery.tls` audit events. Out: a counter in the given registries.
 */
import { Counter, type Registry } from 'prom-client';
import type { AuditEvent } from '../domain/audit.js';

type TlsEvent = Extract<AuditEvent, { type: 'delivery.tls' }>;

export function tlsInstruments(registers: Registry[]): {
  readonly tlsDecisions: Counter<'policy' | 'result'>;
  readonly recordTls: (event: TlsEvent) => void;
} {
  const tlsDecisions = new Counter({
    name: 'gopherpost_tls_policy_decisions_total',
    help:
      'Outbound TLS decisions per host tried, by policy (may, encrypt, verify, dane, mta-sts-enforce, ' +
      'mta-sts-testing) and result (verified, encrypted, cleartext, starttls-missing, starttls-failed, ' +
      'certificate-invalid, mx-mismatch, dane-verified, dane-failed).',
    labelNames: ['policy', 'result'] as const,
    registers,
  });
  return { tlsDecisions, recordTls: (event) => tlsDecisions.inc({ policy: event.policy, result: event.result }) };
}
