/**
 * A UTC day's TLS-RPT counts (RFC 8460 §4): per policy domain, per policy
 * applied, successful sessions and failed ones by result type and host.
 * The model is plain data (what the day file holds, day-store.ts); adding a
 * session changes it in place. Pure: no clock, no I/O.
 */
import { z } from 'zod';
import type { SessionFailure, SessionOutcome } from './result-type.js';

export interface PolicyRef {
  readonly type: 'sts' | 'tlsa' | 'no-policy-found';
  /** The policy's text lines (MTA-STS) or TLSA records; empty for `no-policy-found`. */
  readonly strings: readonly string[];
  /** The policy's MX patterns (MTA-STS). */
  readonly mxHosts: readonly string[];
}

export interface FailureCount extends SessionFailure {
  count: number;
}

export interface PolicyTally {
  readonly policy: PolicyRef;
  successes: number;
  failures: FailureCount[];
}

export interface DomainTally {
  policies: PolicyTally[];
  /** The rua URIs this day's report has already gone to (a report is sent once per URI). */
  sent: string[];
}

export interface DayTally {
  /** `YYYY-MM-DD`, UTC. */
  readonly day: string;
  readonly domains: Record<string, DomainTally>;
}

const DAY_MS = 86_400_000;

/** The UTC day of `ms`: `2026-12-06`. */
export function utcDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** The first ms of `day` (UTC). */
export function dayStart(day: string): number {
  return Date.parse(`${day}T00:00:00Z`);
}

/** The first ms after `day`. */
export function dayEnd(day: string): number {
  return dayStart(day) + DAY_MS;
}

export function emptyDay(day: string): DayTally {
  return { day, domains: {} };
}

function samePolicy(a: PolicyRef, b: PolicyRef): boolean {
  return (
    a.type === b.type && a.strings.join('\n') === b.strings.join('\n') && a.mxHosts.join('\n') === b.mxHosts.join('\n')
  );
}

function sameFailure(a: SessionFailure, b: SessionFailure): boolean {
  return (
    a.resultType === b.resultType &&
    a.receivingMx === b.receivingMx &&
    a.receivingIp === b.receivingIp &&
    a.reasonCode === b.reasonCode
  );
}

/** Counts one session of `domain` under `policy` into `tally`. */
export function addSession(tally: DayTally, domain: string, policy: PolicyRef, outcome: SessionOutcome): void {
  const name = domain.toLowerCase().replace(/\.$/, '');
  const entry = (tally.domains[name] ??= { policies: [], sent: [] });
  let counts = entry.policies.find((p) => samePolicy(p.policy, policy));
  if (!counts) {
    counts = { policy, successes: 0, failures: [] };
    entry.policies.push(counts);
  }
  if (outcome.ok) {
    counts.successes += 1;
    return;
  }
  const known = counts.failures.find((f) => sameFailure(f, outcome.failure));
  if (known) known.count += 1;
  else counts.failures.push({ ...outcome.failure, count: 1 });
}

/** Total sessions counted for a domain. */
export function sessionsOf(entry: DomainTally): number {
  return entry.policies.reduce((n, p) => n + p.successes + p.failures.reduce((m, f) => m + f.count, 0), 0);
}

const resultTypes = z.enum([
  'starttls-not-supported',
  'certificate-host-mismatch',
  'certificate-expired',
  'certificate-not-trusted',
  'validation-failure',
  'tlsa-invalid',
  'dnssec-invalid',
  'dane-required',
  'sts-policy-fetch-error',
  'sts-policy-invalid',
  'sts-webpki-invalid',
]);
const count = z.number().int().nonnegative();
const fileSchema = z.object({
  version: z.literal(1),
  day: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
  domains: z.record(
    z.string(),
    z.object({
      sent: z.array(z.string()),
      policies: z.array(
        z.object({
          policy: z.object({
            type: z.enum(['sts', 'tlsa', 'no-policy-found']),
            strings: z.array(z.string()),
            mxHosts: z.array(z.string()),
          }),
          successes: count,
          failures: z.array(
            z.object({
              resultType: resultTypes,
              receivingMx: z.string().optional(),
              receivingIp: z.string().optional(),
              reasonCode: z.string().optional(),
              count,
            }),
          ),
        }),
      ),
    }),
  ),
});

/** The day file's text. */
export function dayToJson(tally: DayTally): string {
  return `${JSON.stringify({ version: 1, ...tally })}\n`;
}

/** A day file's text read back; undefined when it is not one. */
export function dayFromJson(text: string): DayTally | undefined {
  try {
    const parsed = fileSchema.safeParse(JSON.parse(text));
    if (!parsed.success) return undefined;
    const { day, domains } = parsed.data;
    const out: DayTally = { day, domains: {} };
    for (const [domain, entry] of Object.entries(domains)) {
      out.domains[domain] = {
        sent: entry.sent,
        policies: entry.policies.map((p) => ({
          policy: p.policy,
          successes: p.successes,
          failures: p.failures.map((f) => ({
            resultType: f.resultType,
            count: f.count,
            ...(f.receivingMx === undefined ? {} : { receivingMx: f.receivingMx }),
            ...(f.receivingIp === undefined ? {} : { receivingIp: f.receivingIp }),
            ...(f.reasonCode === undefined ? {} : { reasonCode: f.reasonCode }),
          })),
        })),
      };
    }
    return out;
  } catch {
    return undefined;
  }
}
