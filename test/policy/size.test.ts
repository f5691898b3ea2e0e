import { describe, expect, it } from 'vitest';
import { accept } from '../../src/domain/reply.js';
import { checkDeclaredSize } from '../../src/policy/size.js';

const max = 10_485_760;

describe('checkDeclaredSize', () => {
  it.each([
    [undefined, 'accept'],
    [0, 'accept'],
    [1, 'accept'],
    [max, 'accept'],
    [max + 1, '552 5.3.4'],
    [Number.MAX_SAFE_INTEGER, '552 5.3.4'],
    [-1, '501 5.5.4'],
    [1.5, '501 5.5.4'],
    [Number.NaN, '501 5.5.4'],
    [Number.POSITIVE_INFINITY, '501 5.5.4'],
  ] as const)('%s -> %s', (declared, expected) => {
    const decision = checkDeclaredSize(declared, max);
    if (expected === 'accept') return expect(decision).toEqual(accept);
    const [code, enhanced] = expected.split(' ');
    const text = code === '552' ? 'Message size exceeds fixed maximum message size' : 'Invalid SIZE parameter';
    expect(decision).toEqual({ kind: 'reject', code: Number(code), enhanced, text });
  });
});
