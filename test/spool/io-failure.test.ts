/**
 * A file-system error crossing from an I/O thread to the event loop
 * (`toFailure` / `fromFailure` in src/spool/file/io/protocol.ts): its
 * message, code, syscall and path arrive as they left, and nothing else
 * is made up on the way.
 */
import { openSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fromFailure, toFailure } from '../../src/spool/file/io/protocol.js';

function thrownBy(work: () => unknown): unknown {
  try {
    work();
  } catch (error) {
    return error;
  }
  throw new Error('nothing was thrown');
}

describe('errors between threads', () => {
  it('carries a file-system error’s message, code, syscall and path', () => {
    const original = thrownBy(() => openSync('/nonexistent/spool/segment.wal', 'r')) as NodeJS.ErrnoException;
    const failure = toFailure(original);
    expect(failure).toEqual({
      message: original.message,
      code: 'ENOENT',
      syscall: 'open',
      path: '/nonexistent/spool/segment.wal',
    });
    const again = fromFailure(structuredClone(failure)) as NodeJS.ErrnoException;
    expect(again).toBeInstanceOf(Error);
    expect(again.message).toBe(original.message);
    expect({ code: again.code, syscall: again.syscall, path: again.path }).toEqual({
      code: 'ENOENT',
      syscall: 'open',
      path: '/nonexistent/spool/segment.wal',
    });
  });

  it('carries a plain error or a thrown value as a message only', () => {
    expect(toFailure(new Error('short write'))).toEqual({ message: 'short write' });
    expect(toFailure('a string')).toEqual({ message: 'a string' });
    expect(toFailure(Object.assign(new Error('odd'), { code: 5, syscall: null, path: 7 }))).toEqual({ message: 'odd' });
    const plain = fromFailure({ message: 'short write' }) as NodeJS.ErrnoException;
    expect(plain.message).toBe('short write');
    expect('code' in plain || 'syscall' in plain || 'path' in plain).toBe(false);
  });
});
