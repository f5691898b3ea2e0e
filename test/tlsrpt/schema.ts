/**
 * RFC 8460 §4.4's JSON report structure as a zod schema, for tests: every
 * field the RFC names, with its type (RFC 3339 times, IP addresses, the
 * result types of §4.3), the required ones required, nothing else allowed.
 */
import { z } from 'zod';

const count = z.number().int().nonnegative();
const ip = z.union([z.ipv4(), z.ipv6()]);

export const RESULT_TYPES = [
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
] as const;

export const failureDetailSchema = z.strictObject({
  'result-type': z.enum(RESULT_TYPES),
  'sending-mta-ip': ip.optional(),
  'receiving-mx-hostname': z.string().min(1).optional(),
  'receiving-mx-helo': z.string().min(1).optional(),
  'receiving-ip': ip.optional(),
  'failed-session-count': count,
  'additional-information': z.url().optional(),
  'failure-reason-code': z.string().min(1).optional(),
});

export const policySchema = z.strictObject({
  policy: z.strictObject({
    'policy-type': z.enum(['tlsa', 'sts', 'no-policy-found']),
    'policy-string': z.array(z.string()).optional(),
    'policy-domain': z.string().min(1),
    'mx-host': z.array(z.string().min(1)).optional(),
  }),
  summary: z.strictObject({
    'total-successful-session-count': count,
    'total-failure-session-count': count,
  }),
  'failure-details': z.array(failureDetailSchema).optional(),
});

export const tlsReportSchema = z.strictObject({
  'organization-name': z.string().min(1),
  'date-range': z.strictObject({
    'start-datetime': z.iso.datetime(),
    'end-datetime': z.iso.datetime(),
  }),
  'contact-info': z.string().min(1),
  'report-id': z.string().min(1),
  policies: z.array(policySchema).min(1),
});

export type TlsReportJson = z.infer<typeof tlsReportSchema>;
