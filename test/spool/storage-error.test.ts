/**
 * How storage failures reach callers (src/spool/storage-error.ts): one
 * SpoolError with the underlying error as its cause and every part of an
 * AggregateError (ioredis and `Promise.any` give those) in its message; what
 * counts as a file-system error (it names a syscall).
 */
import { describe, expect, it } from 'vitest';
import { isFsError, messageOf, storageError } from '../../src/spool/storage-error.js';
import { SpoolError } from '../../src/spool/spool.js';

const fsError = (code: unknown, syscall?: string): Error =>
  Object.assign(new Error(`${String(code)}: failed`), { code, ...(syscall === undefined ? {} : { syscall }) });

describe('messageOf', () => {
  it('joins the parts of an AggregateError, and names an error without a message', () => {
    expect(
      messageOf(new AggregateError([new Error('ECONNREFUSED a'), new Error('ECONNREFUSED b')], 'all failed')),
    ).toBe('ECONNREFUSED a; ECONNREFUSED b');
    expect(messageOf(new AggregateError([], 'nothing inside'))).toBe('nothing inside');
    expect(messageOf(new TypeError(''))).toBe('TypeError');
    expect(messageOf('text')).toBe('text');
  });
});

describe('storageError', () => {
  it('wraps what storage threw, keeping it as the cause; a SpoolError passes as it is', () => {
    const cause = fsError('EIO', 'write');
    const wrapped = storageError(cause);
    expect(wrapped).toBeInstanceOf(SpoolError);
    expect(wrapped.message).toBe('spool storage failed: EIO: failed');
    expect(wrapped.cause).toBe(cause);
    const own = new SpoolError('spool is closed');
    expect(storageError(own)).toBe(own);
  });
});

describe('isFsError', () => {
  it('is an Error with a string code and a syscall, nothing else', () => {
    expect(isFsError(fsError('ENOSPC', 'write'))).toBe(true);
    expect(isFsError(fsError('ENOSPC'))).toBe(false);
    expect(isFsError(fsError(28, 'write'))).toBe(false);
    expect(isFsError({ code: 'ENOSPC', syscall: 'write', message: 'not an Error' })).toBe(false);
    expect(isFsError(new Error('a bug'))).toBe(false);
  });
});
