/**
 * The envelope address syntax check on its own: RFC 5321 paths, the
 * quoted local part, domain literals, and the refusals beyond the RFC that
 * keep an address from ever escaping a path.
 */
import { describe, expect, it } from 'vitest';
import { addressProblem, describeProblem, MAX_ADDRESS_OCTETS } from '../../src/policy/address.js';

describe('addressProblem', () => {
  it.each([
    ['alice@example.test', undefined],
    ['"alice smith"@example.test', undefined],
    ['"alice"x@example.test', 'syntax'], // the quotes must enclose the whole local part
    ['x"alice"@example.test', 'syntax'],
    ['"al"ice"@example.test', 'syntax'],
    ['a.b@example.test', undefined],
    ['.ab@example.test', 'syntax'],
    ['jos\u00e9@b\u00fccher.test', undefined], // SMTPUTF8
    ['alice@[192.0.2.1]', undefined],
    ['alice@[IPv6:2001:db8::1]', undefined],
    ['alice@[2001:db8::1]', 'syntax'],
    ['alice@[IPv6:192.0.2.1]', 'syntax'],
    ['alice@-example.test', 'syntax'],
    ['alice@example-.test', 'syntax'],
    ['alice@a-b.test', undefined],
    [`alice@${'a'.repeat(63)}.test`, undefined],
    [`alice@${'a'.repeat(64)}.test`, 'syntax'],
    [`${'a'.repeat(64)}@example.test`, undefined],
    [`${'a'.repeat(65)}@example.test`, 'syntax'],
    ['@example.test', 'syntax'],
    ['alice', 'syntax'],
    ['alice@', 'syntax'],
    ['alice/x@example.test', 'path'],
    ['alice\\x@example.test', 'path'],
    ['a..b@example.test', 'path'],
    ['alice\u0000@example.test', 'control'],
    ['alice\u2028@example.test', 'control'],
    ['alice\u007f@example.test', 'control'],
  ] as const)('%j -> %s', (address, problem) => {
    expect(addressProblem(address)).toBe(problem);
  });

  it('counts the length in octets, not characters', () => {
    const local = '\u00e9'.repeat(32); // 64 octets
    expect(addressProblem(`${local}@example.test`)).toBeUndefined();
    expect(addressProblem(`${local}\u00e9@example.test`)).toBe('syntax');
    const labels = (last: number): string =>
      ['a', 'b', 'c'].map((c) => c.repeat(63)).join('.') + '.' + 'd'.repeat(last);
    expect(Buffer.byteLength(`x@${labels(60)}`)).toBe(MAX_ADDRESS_OCTETS);
    expect(addressProblem(`x@${labels(60)}`)).toBeUndefined();
    expect(addressProblem(`x@${labels(61)}`)).toBe('too-long');
    expect(addressProblem(`\u00e9@${labels(60)}`)).toBe('too-long'); // one character, two octets
  });

  it('accepts the listed bare names, in any case', () => {
    expect(addressProblem('Postmaster', ['postmaster'])).toBeUndefined();
    expect(addressProblem('POSTMASTER', ['postmaster'])).toBeUndefined();
    expect(addressProblem('abuse', ['postmaster'])).toBe('syntax');
  });

  it.each([
    ['too-long', 'address too long'],
    ['control', 'control characters in address'],
    ['path', 'illegal characters in address'],
    ['syntax', 'address syntax error'],
  ] as const)('describes %s as %j', (problem, text) => {
    expect(describeProblem(problem)).toBe(text);
  });
});
