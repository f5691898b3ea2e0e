import { describe, expect, it } from 'vitest';
import { domainOf, isFinished } from '../../src/domain/envelope.js';

describe('domainOf', () => {
  it.each([
    ['Bob@Example.TEST', 'example.test'],
    ['"a@b"@c.test', 'c.test'],
    ['', ''],
    ['postmaster', ''],
  ])('%s -> %s', (address, domain) => {
    expect(domainOf(address)).toBe(domain);
  });
});

describe('isFinished', () => {
  it('is true only for delivered and bounced', () => {
    expect(['queued', 'deferred', 'delivered', 'bounced'].map((s) => isFinished(s as never))).toEqual([
      false,
      false,
      true,
      true,
    ]);
  });
});
