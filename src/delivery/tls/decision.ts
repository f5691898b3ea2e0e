/**
 * From what a host did to a TLS decision (pure): a finished transaction's
 * TLS facts, or the error that ended the try. A failure the policy refuses
 * on becomes a deferral (4.7.x, never a bounce: the next attempt may find
 * the host fixed, and the queue lifetime bounces it in the end) whose text
 * says which policy wanted what.
 */
import type { TlsDecision, TlsResult } from '../../domain/tls.js';
import type { Classification } from '../classify.js';
import type { TlsInfo } from '../smtp/wire.js';
import { mxAllowed, type TlsRequirement } from './requirement.js';

/** Where the try went: its label (`name[address]:port`) and MX name. */
export interface TriedHost {
  readonly label: string;
  readonly name: string;
}

/** A session's outcome: verified, encrypted or in clear; `mx-mismatch` first under MTA-STS testing. */
export function decisionOfSession(req: TlsRequirement, host: TriedHost, tls: TlsInfo | undefined): TlsDecision {
  const base = { policy: req.policy, refused: false, host: host.label };
  if (!mxAllowed(host.name, req)) return { ...base, result: 'mx-mismatch', detail: mxDetail(req, host.name) };
  if (!tls) return { ...base, result: 'cleartext' };
  if (tls.authorized) return { ...base, result: 'verified', detail: tls.protocol };
  const reason = tls.authorizationError === undefined ? {} : { reason: tls.authorizationError };
  return {
    ...base,
    result: 'encrypted',
    detail: `${tls.protocol}, ${tls.authorizationError ?? 'not verified'}`,
    ...reason,
  };
}

/** The fields of the outbound client's error this module reads (smtp/errors.ts). */
interface ClientErrorLike {
  readonly code?: unknown;
  readonly command?: unknown;
  readonly message?: unknown;
  readonly cause?: unknown;
}

/** Node's certificate-check error codes: the rest of TLS's failures are handshake failures. */
const CERTIFICATE = /CERT|SIGNATURE|ISSUER|SELF_SIGNED|ALTNAME|UNABLE_TO_GET|HOSTNAME|CHAIN/i;

/** A TLS failure: what it was, in words, and the TLS error's code when there is one. */
export interface TlsFailure {
  readonly result: TlsResult;
  readonly detail: string;
  readonly reason?: string;
}

/** The TLS failure an error of the outbound client stands for; undefined when it is not one (refused, timeout …). */
export function tlsFailureOf(error: unknown): TlsFailure | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const e = error as ClientErrorLike;
  const message = typeof e.message === 'string' ? e.message : '';
  // smtp/requiretls.ts, before MAIL FROM: the session may not carry a REQUIRETLS message
  if (e.code === 'EREQUIRETLS' || (e.code === 'ETLS' && e.command === 'MAIL FROM'))
    return { result: 'requiretls-unmet', detail: message };
  if (e.command === 'STARTTLS' && e.code === 'EREPLY') return { result: 'starttls-failed', detail: message };
  if (e.code !== 'ETLS') return undefined;
  // session.ts: a required STARTTLS that is not offered is the only ETLS without an underlying socket error
  if (e.cause === undefined && e.command === 'STARTTLS') return { result: 'starttls-missing', detail: message };
  const cause = e.cause as { code?: unknown } | undefined;
  const code = typeof cause?.code === 'string' ? cause.code : '';
  const reason = code === '' ? {} : { reason: code };
  return CERTIFICATE.test(code) || CERTIFICATE.test(message)
    ? { result: 'certificate-invalid', detail: message, ...reason }
    : { result: 'starttls-failed', detail: message, ...reason };
}

/** `TLS required for example.com by SMTP_TLS_POLICY (verify)` */
export function requiredBy(req: TlsRequirement): string {
  const by = req.source === 'MTA-STS' ? 'its MTA-STS policy' : `${req.source} (${req.policy})`;
  return `TLS required for ${req.domain} by ${by}`;
}

function mxDetail(req: TlsRequirement, name: string): string {
  return `${name} is not an MX host of the MTA-STS policy of ${req.domain} (mx: ${(req.mx ?? []).join(', ')})`;
}

/** A host the MTA-STS policy does not list, refused (enforce) before it is dialled. */
export function mxRefusal(req: TlsRequirement, name: string): TlsDecision {
  return { policy: req.policy, result: 'mx-mismatch', refused: true, host: name, detail: mxDetail(req, name) };
}

/** 4.7.5 reply text for a destination none of whose MX hosts the policy lists. */
export function noMatchingMx(req: TlsRequirement, names: readonly string[]): string {
  return (
    `4.7.5 ${requiredBy(req)}: no MX host of ${req.domain} (${names.join(', ')}) ` +
    `matches the policy (mx: ${(req.mx ?? []).join(', ')})`
  );
}

const WHY: Readonly<Record<string, string>> = {
  'starttls-missing': '4.7.4 %s: the server does not offer STARTTLS',
  'starttls-failed': '4.7.5 %s: STARTTLS failed: ',
  'certificate-invalid': '4.7.5 %s: the certificate did not verify: ',
};

/**
 * A TLS failure of a try under `req`: the decision, and (when the policy
 * requires TLS) the deferral that replaces the client's classification.
 */
export function failureDecision(
  req: TlsRequirement,
  host: TriedHost,
  failure: TlsFailure,
): { readonly decision: TlsDecision; readonly classification?: Classification } {
  const decision: TlsDecision = {
    policy: req.policy,
    result: failure.result,
    // only a policy that requires TLS refuses the host; under `may` it failed on its own
    refused: req.requireTls,
    host: host.label,
    detail: failure.detail,
    ...(failure.reason === undefined ? {} : { reason: failure.reason }),
  };
  // a REQUIRETLS refusal keeps its own reply (4.7.5, or 5.7.30 when the host does not offer it)
  if (!req.requireTls || failure.result === 'requiretls-unmet') return { decision };
  const template = WHY[failure.result] ?? '4.7.5 %s: ';
  const text = template.replace('%s', requiredBy(req));
  const response = failure.result === 'starttls-missing' ? text : `${text}${failure.detail}`;
  return { decision, classification: { kind: 'deferred', scope: 'host', response } };
}
