/**
 * The delivery-status fields (RFC 3464 §2.2, §2.3) and the helpers behind
 * them: the status a reply maps to, and a reply made one safe line.
 */
import { describe, expect, it } from 'vitest';
import { deliveryStatus, dsnStatus, oneLine } from '../../src/bounce/status-fields.js';

describe('dsnStatus', () => {
  it.each([
    ['550 5.10.1 bad address', false, 'failed', '5.10.1'],
    ['  550 5.1.1 leading blanks', false, 'failed', '5.1.1'],
    ['550 mailbox 5.1.1 unknown', false, 'failed', '5.0.0'], // a code later in the text is not the reply's
    ['451 4.4.1 later', true, 'delayed', '4.4.1'], // only a failure is "expired"
    ['451 4.4.1 later', true, 'failed', '5.4.7'],
  ] as const)('%j (expired %s) in a %s report → %s', (response, expired, kind, status) => {
    expect(dsnStatus(response, expired, kind)).toBe(status);
  });
});

describe('oneLine', () => {
  it('joins lines with one space per line break run and trims the ends', () => {
    expect(oneLine('  first\r\n\r\nsecond\nthird  ')).toBe('first second third');
  });

  it('cuts a runaway reply at 900 characters', () => {
    expect(oneLine('x'.repeat(2000))).toBe('x'.repeat(900));
  });
});

describe('deliveryStatus', () => {
  const at = Date.UTC(2025, 0, 2, 3, 0, 0);
  const recipient = { recipient: 'bob@example.test', response: '451 4.4.1 later', lastAttemptAt: at };

  it('leaves out what the envelope and the attempt did not give', () => {
    expect(
      deliveryStatus({ kind: 'failed', hostname: 'mta.test', queueId: 'q1', arrivalDate: at, recipients: [recipient] }),
    ).toBe(
      [
        'Reporting-MTA: dns; mta.test',
        'X-GopherPost-Queue-ID: q1',
        'Arrival-Date: Thu, 02 Jan 2025 03:00:00 +0000',
        '',
        'Final-Recipient: rfc822; bob@example.test',
        'Action: failed',
        'Status: 5.4.1',
        'Diagnostic-Code: smtp; 451 4.4.1 later',
        'Last-Attempt-Date: Thu, 02 Jan 2025 03:00:00 +0000',
        '',
      ].join('\r\n'),
    );
  });

  it('gives Remote-MTA and, in a delay report only, Will-Retry-Until', () => {
    const input = {
      hostname: 'mta.test',
      queueId: 'q1',
      arrivalDate: at,
      willRetryUntil: at + 3_600_000,
      recipients: [{ ...recipient, remoteMta: 'mx.example.test' }],
    };
    expect(deliveryStatus({ ...input, kind: 'delayed' })).toBe(
      [
        'Reporting-MTA: dns; mta.test',
        'X-GopherPost-Queue-ID: q1',
        'Arrival-Date: Thu, 02 Jan 2025 03:00:00 +0000',
        '',
        'Final-Recipient: rfc822; bob@example.test',
        'Action: delayed',
        'Status: 4.4.1',
        'Remote-MTA: dns; mx.example.test',
        'Diagnostic-Code: smtp; 451 4.4.1 later',
        'Last-Attempt-Date: Thu, 02 Jan 2025 03:00:00 +0000',
        'Will-Retry-Until: Thu, 02 Jan 2025 04:00:00 +0000',
        '',
      ].join('\r\n'),
    );
    expect(deliveryStatus({ ...input, kind: 'failed' })).not.toContain('Will-Retry-Until');
  });
});
