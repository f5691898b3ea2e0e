/**
 * The enhanced status code an attempt note keeps for a reply (RFC 3463
 * `class.subject.detail`): found as a word of its own, anywhere in the
 * reply, else the outcome's generic code.
 */
import { describe, expect, it } from 'vitest';
import { dsnOf } from '../../src/queue/attempt-notes.js';

describe('dsnOf', () => {
  it.each([
    ['550 5.1.1 no such user', 'bounced', '5.1.1'],
    ['4.4.1 connect ECONNREFUSED', 'deferred', '4.4.1'],
    ['451 4.7.500 odd but well formed', 'deferred', '4.7.500'],
    ['452 4.12.3 two-digit subject', 'deferred', '4.12.3'],
    ['550 5.1.1, then more', 'bounced', '5.1.1'],
    ['550 (5.7.1) blocked', 'bounced', '5.0.0'], // after "(": not a word start
    ['550 see x5.1.1 here', 'bounced', '5.0.0'], // glued to a word
    ['550 version 5.1.1a', 'bounced', '5.0.0'], // followed by a letter
    ['550 mailbox 5.1.1: gone', 'bounced', '5.1.1'],
    ['421 closing (code 4.3.2)', 'deferred', '4.3.2'], // before ")"
    ['550 3.1.1 not a class', 'bounced', '5.0.0'],
    ['550 5.1234.1 too long', 'bounced', '5.0.0'],
    ['550 5.1.1234 too long', 'bounced', '5.0.0'],
    ['550 5.x.1', 'bounced', '5.0.0'],
    ['250 ok', 'sent', '2.0.0'],
    ['451 later', 'deferred', '4.0.0'],
    ['timed out', 'expired', '4.0.0'],
  ] as const)('%j (%s) -> %s', (reply, fate, dsn) => {
    expect(dsnOf(reply, fate)).toBe(dsn);
  });
});
