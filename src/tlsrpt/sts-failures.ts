/**
 * The domains whose MTA-STS policy could not be had just now, with no
 * cached policy to fall back on (RFC 8460 §4.3.2.2): their sessions are
 * reported as `sts` failures of the fetch (`sts-policy-fetch-error`), of
 * the policy (`sts-policy-invalid`) or of the policy host's certificate
 * (`sts-webpki-invalid`) rather than as sessions without a policy. Fed by
 * the MTA-STS source's look-up reports; an entry lasts `ttlMs` after the
 * last failure (look-ups are repeated while mail flows), at most `max`.
 */
import type { StsReport } from '../delivery/tls/sts-source.js';
import type { ResultType } from './result-type.js';

export type StsFailureType = Extract<
  ResultType,
  'sts-policy-fetch-error' | 'sts-policy-invalid' | 'sts-webpki-invalid'
>;

export interface StsFailures {
  note(report: StsReport): void;
  /** The failure of `domain`'s last look-up, when it failed recently and left no policy. */
  failureOf(domain: string): StsFailureType | undefined;
}

/** Which failure a look-up's reason (sts-source.ts, sts-fetch.ts) stands for. */
export function stsFailureType(why: string): StsFailureType {
  if (/ is invalid: /.test(why)) return 'sts-policy-invalid';
  if (/^_mta-sts\.\S+ TXT: /.test(why))
    return /\bE[A-Z]{3,}\b/.test(why) ? 'sts-policy-fetch-error' : 'sts-policy-invalid';
  if (/certificate|altnames|self[- ]signed|unable to verify|CERT_/i.test(why)) return 'sts-webpki-invalid';
  return 'sts-policy-fetch-error';
}

export function createStsFailures(options: {
  readonly clock: () => number;
  readonly ttlMs?: number;
  readonly max?: number;
}): StsFailures {
  const ttlMs = options.ttlMs ?? 600_000;
  const max = options.max ?? 10_000;
  const failed = new Map<string, { readonly type: StsFailureType; readonly at: number }>();
  return {
    note: (report) => {
      failed.delete(report.domain);
      if (report.kind !== 'failed' || report.kept) return;
      failed.set(report.domain, { type: stsFailureType(report.why), at: options.clock() });
      if (failed.size > max) failed.delete(failed.keys().next().value ?? '');
    },
    failureOf: (domain) => {
      const entry = failed.get(domain);
      if (!entry) return undefined;
      if (options.clock() - entry.at <= ttlMs) return entry.type;
      failed.delete(domain);
      return undefined;
    },
  };
}
