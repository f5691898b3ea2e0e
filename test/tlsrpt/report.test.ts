/** The day's counts (tally.ts) and the JSON report built from them (RFC 8460 §4.4), checked against the schema. */
import { describe, expect, it } from 'vitest';
import { buildReport, reportFileName } from '../../src/tlsrpt/report.js';
import { addSession, dayFromJson, dayToJson, emptyDay, utcDay, type PolicyRef } from '../../src/tlsrpt/tally.js';
import { tlsReportSchema } from './schema.js';

const sts: PolicyRef = {
  type: 'sts',
  strings: ['version: STSv1', 'mode: enforce', 'mx: *.mail.example.com', 'max_age: 86400'],
  mxHosts: ['*.mail.example.com'],
};
const none: PolicyRef = { type: 'no-policy-found', strings: [], mxHosts: [] };
const meta = {
  organization: 'Example Mail',
  contact: 'mailto:tls@example.org',
  submitter: 'mx.example.org',
  unique: 'ab12',
};
const expired = {
  resultType: 'certificate-expired',
  receivingMx: 'a.mail.example.com',
  receivingIp: '192.0.2.1',
  reasonCode: 'CERT_HAS_EXPIRED',
} as const;

function sampleDay() {
  const day = emptyDay('2026-12-06');
  addSession(day, 'Example.COM.', sts, { ok: true });
  addSession(day, 'example.com', sts, { ok: true });
  addSession(day, 'example.com', sts, { ok: false, failure: expired });
  addSession(day, 'example.com', sts, { ok: false, failure: expired });
  addSession(day, 'example.com', none, {
    ok: false,
    failure: { resultType: 'starttls-not-supported', receivingMx: 'b.mail.example.com' },
  });
  addSession(day, 'other.test', none, { ok: true });
  return day;
}

describe('the day tally', () => {
  it('counts per domain (case and trailing dot aside), per policy and per failure', () => {
    const day = sampleDay();
    expect(Object.keys(day.domains)).toEqual(['example.com', 'other.test']);
    expect(day.domains['example.com']?.policies).toEqual([
      { policy: sts, successes: 2, failures: [{ ...expired, count: 2 }] },
      {
        policy: none,
        successes: 0,
        failures: [{ resultType: 'starttls-not-supported', receivingMx: 'b.mail.example.com', count: 1 }],
      },
    ]);
  });

  it('reads back what it writes, and nothing else', () => {
    const day = sampleDay();
    expect(dayFromJson(dayToJson(day))).toEqual(day);
    expect(dayFromJson('{"version":1,"day":"x","domains":{}}')).toBeUndefined();
    expect(dayFromJson('not json')).toBeUndefined();
  });

  it('names UTC days', () => {
    expect(utcDay(Date.parse('2026-12-06T23:59:59.999Z'))).toBe('2026-12-06');
    expect(utcDay(Date.parse('2026-12-07T00:00:00Z'))).toBe('2026-12-07');
  });
});

describe('buildReport', () => {
  it('makes a report that RFC 8460 §4.4 describes', () => {
    const entry = sampleDay().domains['example.com'];
    if (!entry) throw new Error('no entry');
    const report = tlsReportSchema.parse(buildReport('2026-12-06', 'example.com', entry, meta));
    expect(report).toEqual({
      'organization-name': 'Example Mail',
      'date-range': { 'start-datetime': '2026-12-06T00:00:00Z', 'end-datetime': '2026-12-06T23:59:59Z' },
      'contact-info': 'mailto:tls@example.org',
      'report-id': '2026-12-06T00:00:00Z_example.com_ab12@mx.example.org',
      policies: [
        {
          policy: {
            'policy-type': 'sts',
            'policy-string': sts.strings,
            'policy-domain': 'example.com',
            'mx-host': ['*.mail.example.com'],
          },
          summary: { 'total-successful-session-count': 2, 'total-failure-session-count': 2 },
          'failure-details': [
            {
              'result-type': 'certificate-expired',
              'receiving-mx-hostname': 'a.mail.example.com',
              'receiving-ip': '192.0.2.1',
              'failed-session-count': 2,
              'failure-reason-code': 'CERT_HAS_EXPIRED',
            },
          ],
        },
        {
          policy: { 'policy-type': 'no-policy-found', 'policy-domain': 'example.com' },
          summary: { 'total-successful-session-count': 0, 'total-failure-session-count': 1 },
          'failure-details': [
            {
              'result-type': 'starttls-not-supported',
              'receiving-mx-hostname': 'b.mail.example.com',
              'failed-session-count': 1,
            },
          ],
        },
      ],
    });
  });

  it('leaves failure-details out when every session succeeded', () => {
    const entry = sampleDay().domains['other.test'];
    if (!entry) throw new Error('no entry');
    const report = tlsReportSchema.parse(buildReport('2026-12-06', 'other.test', entry, meta));
    expect(report.policies[0]).not.toHaveProperty('failure-details');
  });

  it('names the file per RFC 8460 §5.1', () => {
    expect(reportFileName('2026-12-06', 'example.com', meta)).toBe(
      'mx.example.org!example.com!1796515200!1796601599!ab12.json.gz',
    );
  });
});
