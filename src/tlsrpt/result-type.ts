/**
 * A host's outbound TLS decision as TLS-RPT (RFC 8460 §4.3) counts it
 * (pure): a successful session, or a failed one with its result type and
 * the receiving host's name and address when the decision names them.
 */
import type { TlsDecision, TlsPolicyName } from '../domain/tls.js';

/** RFC 8460 §4.3: negotiation failures (§4.3.1) and policy failures (§4.3.2). */
export type ResultType =
  | 'starttls-not-supported'
  | 'certificate-host-mismatch'
  | 'certificate-expired'
  | 'certificate-not-trusted'
  | 'validation-failure'
  | 'tlsa-invalid'
  | 'dnssec-invalid'
  | 'dane-required'
  | 'sts-policy-fetch-error'
  | 'sts-policy-invalid'
  | 'sts-webpki-invalid';

export interface SessionFailure {
  readonly resultType: ResultType;
  readonly receivingMx?: string;
  readonly receivingIp?: string;
  /** The TLS error's code (`CERT_HAS_EXPIRED`) or our own result when the type says too little (`mx-mismatch`). */
  readonly reasonCode?: string;
}

export type SessionOutcome = { readonly ok: true } | { readonly ok: false; readonly failure: SessionFailure };

/** RFC 8460 §4.3 `policy-type`: an MTA-STS policy, or none published (a local SMTP_TLS_POLICY entry counts as none). */
export function policyTypeOf(policy: TlsPolicyName): 'sts' | 'no-policy-found' {
  return policy === 'mta-sts-enforce' || policy === 'mta-sts-testing' ? 'sts' : 'no-policy-found';
}

/** `mx.example.com[192.0.2.1]:25`, `[192.0.2.1]:25` or a bare MX name: the name and the address. */
export function hostParts(label: string): { readonly name?: string; readonly ip?: string } {
  const match = /^([^[\s]*)\[([^\]]+)\](?::\d+)?$/.exec(label);
  if (!match) return label === '' ? {} : { name: label };
  const [, name = '', ip = ''] = match;
  return { ...(name === '' ? {} : { name }), ...(ip === '' ? {} : { ip }) };
}

/** The certificate failure a TLS error code (or, without one, its message) stands for. */
export function certificateResult(reason: string | undefined, detail: string | undefined): ResultType {
  const text = reason ?? detail ?? '';
  if (/EXPIRED|has expired/i.test(text)) return 'certificate-expired';
  if (/ALTNAME|HOSTNAME|HOST_MISMATCH|does not match/i.test(text)) return 'certificate-host-mismatch';
  if (
    /SELF_SIGNED|self[- ]signed|UNABLE_TO_VERIFY|unable to verify|UNABLE_TO_GET_ISSUER|UNTRUSTED|REJECTED/i.test(text)
  )
    return 'certificate-not-trusted';
  return 'validation-failure';
}

/** Whether the policy asks for a certificate that verifies (an `encrypted` session fails it). */
function wantsVerified(policy: TlsPolicyName): boolean {
  return policy === 'verify' || policy === 'mta-sts-enforce' || policy === 'mta-sts-testing';
}

function failureType(decision: TlsDecision): ResultType {
  switch (decision.result) {
    case 'cleartext':
    case 'starttls-missing':
      return 'starttls-not-supported';
    case 'encrypted':
    case 'certificate-invalid':
      return certificateResult(decision.reason, decision.detail);
    case 'dane-failed':
      // no TLSA record matched (§4.3.1 tlsa-invalid), or the validated look-up failed (dnssec-invalid)
      return /look-up|lookup|SERVFAIL|timed out|timeout/i.test(decision.detail ?? '')
        ? 'dnssec-invalid'
        : 'tlsa-invalid';
    default:
      // starttls-failed, mx-mismatch and whatever later results say: RFC 8460's catch-all
      return 'validation-failure';
  }
}

/** How a decision counts: TLS as the policy wanted it is a success; anything else fails with a type. */
export function outcomeOf(decision: TlsDecision): SessionOutcome {
  if (decision.result === 'verified' || decision.result === 'dane-verified') return { ok: true };
  if (decision.result === 'encrypted' && !wantsVerified(decision.policy)) return { ok: true };
  const resultType = failureType(decision);
  const { name, ip } = hostParts(decision.host);
  const code = decision.reason ?? (resultType === 'validation-failure' ? decision.result : undefined);
  return {
    ok: false,
    failure: {
      resultType,
      ...(name === undefined ? {} : { receivingMx: name }),
      ...(ip === undefined ? {} : { receivingIp: ip }),
      ...(code === undefined ? {} : { reasonCode: code }),
    },
  };
}
