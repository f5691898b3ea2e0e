/**
 * How storage failures reach callers: every spool backend turns what its
 * file system or Redis threw into a `SpoolError` whose message the inbound
 * side may log and the client sees only as a 451.
 */
import { SpoolError } from './spool.js';

export function messageOf(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) return error.errors.map(messageOf).join('; ');
  return error instanceof Error ? error.message || error.name : String(error);
}

export function storageError(error: unknown): SpoolError {
  if (error instanceof SpoolError) return error;
  return new SpoolError(`spool storage failed: ${messageOf(error)}`, { cause: error });
}

/** An error thrown by a file-system call (it names a syscall), as opposed to a bug or a refused message. */
export function isFsError(error: unknown): boolean {
  return (
    error instanceof Error &&
    typeof (error as NodeJS.ErrnoException).code === 'string' &&
    (error as NodeJS.ErrnoException).syscall !== undefined
  );
}
