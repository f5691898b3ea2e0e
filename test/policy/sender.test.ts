import { describe, expect, it } from 'vitest';
import { accept } from '../../src/domain/reply.js';
import { checkSender } from '../../src/policy/sender.js';

const local = { requireLocalDomain: true, hostname: 'mx.example.test', authenticated: false };
const authed = { ...local, authenticated: true };
const open = { ...local, requireLocalDomain: false };

describe('checkSender', () => {
  it.each([
    ['', local, 'accept'],
    ['', authed, 'accept'],
    ['alice@mx.example.test', local, 'accept'],
    ['Alice@MX.Example.TEST', local, 'accept'],
    ['alice@mx.example.test', { ...local, hostname: 'MX.example.test.' }, 'accept'],
    ['"alice smith"@mx.example.test', local, 'accept'],
    ['ünïcödé@mx.example.test', local, 'accept'],
    ['bob+tag@[192.0.2.1]', open, 'accept'],
    ['bob@[IPv6:2001:db8::1]', open, 'accept'],
    ['bob@localhost', { ...local, hostname: 'localhost' }, 'accept'],
    // domain policy
    ['alice@other.test', local, 553],
    ['alice@sub.mx.example.test', local, 553],
    ['alice@other.test', authed, 'accept'],
    ['alice@other.test', open, 'accept'],
    // syntax, control characters, path tricks, length
    ['alice', open, 501],
    ['@other.test', open, 501],
    ['alice@', open, 501],
    ['alice@@other.test', open, 501],
    ['alice@other..test', open, 501],
    ['al..ice@other.test', open, 501],
    ['.alice@other.test', open, 501],
    ['alice.@other.test', open, 501],
    ['../../etc/passwd@other.test', open, 501],
    ['alice@../../etc', open, 501],
    ['alice/x@other.test', open, 501],
    ['alice@other.test/x', open, 501],
    ['al\\ice@other.test', open, 501],
    ['"a/b"@other.test', open, 501],
    ['"a..b"@other.test', open, 501],
    ['alice\u0000@other.test', open, 501],
    ['alice\u007f@other.test', open, 501],
    ['ali\u0085ce@other.test', open, 501],
    ['alice\u2028@other.test', open, 501],
    ['alice@other.test\t', open, 501],
    ['alice@other.test\r\nRCPT TO:<x@y>', open, 501],
    ['ali ce@other.test', open, 501],
    ['alice@-bad.test', open, 501],
    ['alice@bad-.test', open, 501],
    ['alice@under_score.test', open, 501],
    ['alice@[300.1.1.1]', open, 501],
    ['<alice@other.test>', open, 501],
    [`${'a'.repeat(64)}@other.test`, open, 'accept'],
    [`${'a'.repeat(65)}@other.test`, open, 501],
    [`a@${'b'.repeat(63)}.test`, open, 'accept'],
    [`a@${'b'.repeat(64)}.test`, open, 501],
    [`a@${'b.'.repeat(125)}cd`, open, 'accept'], // 254 octets
    [`a@${'b.'.repeat(125)}cde`, open, 501], // 255 octets
  ] as const)('%j -> %s', (sender, ctx, expected) => {
    const decision = checkSender(sender, ctx);
    if (expected === 'accept') expect(decision).toEqual(accept);
    else expect(decision).toMatchObject({ kind: 'reject', code: expected });
  });

  it('uses 501 5.1.7 for syntax and 553 5.7.1 for a foreign domain', () => {
    expect(checkSender('x@y@', local)).toEqual({
      kind: 'reject',
      code: 501,
      enhanced: '5.1.7',
      text: 'Bad sender address: address syntax error',
    });
    expect(checkSender('x@other.test', local)).toEqual({
      kind: 'reject',
      code: 553,
      enhanced: '5.7.1',
      text: 'Sender address rejected: not a local domain, authenticate first',
    });
    expect(checkSender('x@other.test', local)).not.toHaveProperty('close');
  });
});
