/**
 * The human-readable part of each kind of report, pinned line for line: it
 * is what a sender reads first, so a changed or lost line is a visible
 * change to the product, not a detail.
 */
import { describe, expect, it } from 'vitest';
import { SUBJECTS, humanText } from '../../src/bounce/human-text.js';

const recipients = [
  { recipient: 'bob@example.test', response: '550 5.1.1 no such user', lastAttemptAt: 0 },
  { recipient: 'carol@example.test', response: '451 4.4.1 try\r\nlater', lastAttemptAt: 0, expired: true },
];

describe('humanText', () => {
  it('says a failure, who failed and why, an expired recipient with the queue lifetime', () => {
    expect(humanText({ kind: 'failed', hostname: 'mta.sender.test', recipients, lifetimeHours: 120 })).toBe(
      [
        'This is the mail system at host mta.sender.test.',
        '',
        "I'm sorry to have to inform you that your message could not",
        'be delivered to one or more recipients. It is attached below.',
        '',
        'For further assistance, please send mail to postmaster.',
        '',
        'If you do so, please include this problem report. You can',
        'delete your own text from the attached returned message.',
        '',
        '                   The mail system',
        '',
        '<bob@example.test>: 550 5.1.1 no such user',
        '',
        '<carol@example.test>: delivery time expired (message older than 120 hours); last response: 451 4.4.1 try later',
        '',
      ].join('\r\n'),
    );
  });

  it('says "?" hours for an expired recipient when the lifetime is not known', () => {
    expect(humanText({ kind: 'failed', hostname: 'h.test', recipients: recipients.slice(1) })).toContain(
      '<carol@example.test>: delivery time expired (message older than ? hours); last response: 451 4.4.1 try later\r\n',
    );
  });

  it('warns of a delay with how long the message waited and how long it is retried', () => {
    expect(
      humanText({
        kind: 'delayed',
        hostname: 'mta.sender.test',
        recipients: recipients.slice(0, 1),
        lifetimeHours: 120,
        waitedHours: 4,
      }),
    ).toBe(
      [
        'This is the mail system at host mta.sender.test.',
        '',
        '####################################################################',
        '# THIS IS A WARNING ONLY.  YOU DO NOT NEED TO RESEND YOUR MESSAGE. #',
        '####################################################################',
        '',
        'Your message could not be delivered for 4 hours.',
        'It will be retried until it is 120 hours old.',
        '',
        '                   The mail system',
        '',
        '<bob@example.test>: 550 5.1.1 no such user',
        '',
      ].join('\r\n'),
    );
  });

  it('does not call an expired recipient expired in a delay warning', () => {
    const text = humanText({ kind: 'delayed', hostname: 'h.test', recipients: recipients.slice(1) });
    expect(text).toContain(
      'Your message could not be delivered for ? hours.\r\nIt will be retried until it is ? hours old.',
    );
    expect(text).toContain('<carol@example.test>: 451 4.4.1 try later\r\n');
  });

  it('tells of a relay to a next hop without DSN', () => {
    expect(humanText({ kind: 'relayed', hostname: 'mta.sender.test', recipients: [] })).toBe(
      [
        'This is the mail system at host mta.sender.test.',
        '',
        'Your message was relayed to the destination(s) listed below,',
        'whose mail system does not report on delivery (no DSN). You',
        'will not hear from them again unless delivery fails later.',
        '',
        '                   The mail system',
        '',
      ].join('\r\n'),
    );
  });

  it('has a Subject per kind', () => {
    expect(SUBJECTS).toEqual({
      failed: 'Undelivered Mail Returned to Sender',
      delayed: 'Delayed Mail (still being retried)',
      relayed: 'Successful Mail Delivery Report',
    });
  });
});
