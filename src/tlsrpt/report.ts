/**
 * The aggregate report of one policy domain for one UTC day (RFC 8460
 * §4.4): organization, contact, date range, report id, and per policy the
 * summary counts and failure details. Pure; gzip and sending happen
 * elsewhere (send.ts).
 */
import { dayEnd, dayStart, type DomainTally, type PolicyTally } from './tally.js';

export interface ReportMeta {
  /** SMTP_TLSRPT_ORGANIZATION. */
  readonly organization: string;
  /** SMTP_TLSRPT_CONTACT. */
  readonly contact: string;
  /** The reporting host (SMTP_HOSTNAME): the submitter and part of the report id. */
  readonly submitter: string;
  /** Makes the report id unique across daemons that share a host name. */
  readonly unique: string;
}

export interface FailureDetailJson {
  readonly 'result-type': string;
  readonly 'receiving-mx-hostname'?: string;
  readonly 'receiving-ip'?: string;
  readonly 'failed-session-count': number;
  readonly 'failure-reason-code'?: string;
}

export interface PolicyJson {
  readonly policy: {
    readonly 'policy-type': 'sts' | 'tlsa' | 'no-policy-found';
    readonly 'policy-string'?: readonly string[];
    readonly 'policy-domain': string;
    readonly 'mx-host'?: readonly string[];
  };
  readonly summary: {
    readonly 'total-successful-session-count': number;
    readonly 'total-failure-session-count': number;
  };
  readonly 'failure-details'?: readonly FailureDetailJson[];
}

export interface TlsReport {
  readonly 'organization-name': string;
  readonly 'date-range': { readonly 'start-datetime': string; readonly 'end-datetime': string };
  readonly 'contact-info': string;
  readonly 'report-id': string;
  readonly policies: readonly PolicyJson[];
}

/** `2026-12-06T00:00:00Z`: RFC 3339 without fractions. */
function stamp(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function policyJson(domain: string, p: PolicyTally): PolicyJson {
  const failed = p.failures.reduce((n, f) => n + f.count, 0);
  const details = p.failures.map((f): FailureDetailJson => ({
    'result-type': f.resultType,
    ...(f.receivingMx === undefined ? {} : { 'receiving-mx-hostname': f.receivingMx }),
    ...(f.receivingIp === undefined ? {} : { 'receiving-ip': f.receivingIp }),
    'failed-session-count': f.count,
    ...(f.reasonCode === undefined ? {} : { 'failure-reason-code': f.reasonCode }),
  }));
  const { strings, mxHosts } = p.policy;
  return {
    policy: {
      'policy-type': p.policy.type,
      ...(strings.length > 0 ? { 'policy-string': strings } : {}),
      'policy-domain': domain,
      ...(mxHosts.length > 0 ? { 'mx-host': mxHosts } : {}),
    },
    summary: { 'total-successful-session-count': p.successes, 'total-failure-session-count': failed },
    ...(details.length > 0 ? { 'failure-details': details } : {}),
  };
}

/** The report id: day, domain, submitter and a unique part. */
export function reportId(day: string, domain: string, meta: ReportMeta): string {
  return `${day}T00:00:00Z_${domain}_${meta.unique}@${meta.submitter}`;
}

export function buildReport(day: string, domain: string, entry: DomainTally, meta: ReportMeta): TlsReport {
  return {
    'organization-name': meta.organization,
    'date-range': { 'start-datetime': stamp(dayStart(day)), 'end-datetime': stamp(dayEnd(day) - 1000) },
    'contact-info': meta.contact,
    'report-id': reportId(day, domain, meta),
    policies: entry.policies.map((p) => policyJson(domain, p)),
  };
}

/**
 * RFC 8460 §5.1: `submitter!policy-domain!begin!end[!unique].json.gz`, the
 * times in seconds since the epoch.
 */
export function reportFileName(day: string, domain: string, meta: ReportMeta): string {
  const begin = Math.floor(dayStart(day) / 1000);
  const end = Math.floor(dayEnd(day) / 1000) - 1;
  return `${meta.submitter}!${domain}!${begin}!${end}!${meta.unique}.json.gz`;
}
