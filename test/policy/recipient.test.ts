import { describe, expect, it } from 'vitest';
import { accept } from '../../src/domain/reply.js';
import { checkRecipient } from '../../src/policy/recipient.js';

const fresh = { accepted: 0, maxRecipients: 100 };

describe('checkRecipient', () => {
  it.each([
    ['bob@example.test', fresh, 'accept'],
    ['Bob.Smith@Example.TEST', fresh, 'accept'],
    ['postmaster', fresh, 'accept'],
    ['PostMaster', fresh, 'accept'],
    ['bob', fresh, '501 5.1.3'],
    ['', fresh, '501 5.1.3'],
    ['bob@example..test', fresh, '501 5.1.3'],
    ['../bob@example.test', fresh, '501 5.1.3'],
    ['bob@example.test/../../x', fresh, '501 5.1.3'],
    ['bob\u0000@example.test', fresh, '501 5.1.3'],
    [`${'b'.repeat(250)}@x.test`, fresh, '501 5.1.3'],
    ['bob@example.test', { accepted: 99, maxRecipients: 100 }, 'accept'],
    ['bob@example.test', { accepted: 100, maxRecipients: 100 }, '452 4.5.3'],
    ['bob@example.test', { accepted: 250, maxRecipients: 100 }, '452 4.5.3'],
    ['bob@example.test', { accepted: 0, maxRecipients: 0 }, '452 4.5.3'],
    ['bad', { accepted: 100, maxRecipients: 100 }, '501 5.1.3'],
  ] as const)('%j %j -> %s', (rcpt, ctx, expected) => {
    const decision = checkRecipient(rcpt, ctx);
    if (expected === 'accept') return expect(decision).toEqual(accept);
    const [code, enhanced] = expected.split(' ');
    expect(decision).toMatchObject({ kind: 'reject', code: Number(code), enhanced });
  });

  it('says why', () => {
    expect(checkRecipient('bob', fresh)).toEqual({
      kind: 'reject',
      code: 501,
      enhanced: '5.1.3',
      text: 'Bad recipient address: address syntax error',
    });
    expect(checkRecipient('x@y.test', { accepted: 1, maxRecipients: 1 })).toEqual({
      kind: 'reject',
      code: 452,
      enhanced: '4.5.3',
      text: 'Too many recipients',
    });
  });
});
