import { PassThrough } from 'node:stream';
import { BehaviorSubject, EMPTY, filter, finalize, interval, map, merge, type Observable } from 'rxjs';
import { dropOldest } from '../audit/bounded.js';
import type { AuditRecord } from '../domain/audit.js';

export interface AuditStreamOptions {
  readonly records$: Observable<AuditRecord>;
  readonly format: (record: AuditRecord) => string;
  /** Written first, so headers and this line reach the client at once. */
  readonly preamble: string;
  /** Written every `everyMs` while the client keeps up; dropped, not queued, while it doesn't. */
  readonly heartbeat?: { readonly everyMs: number; readonly text: string };
  /** Records buffered for a client whose socket is full; older ones are dropped. */
  readonly capacity: number;
  readonly onDrop: (count: number) => void;
  readonly onOpen: () => void;
  readonly onClose: () => void;
}

/**
 * A response body that carries audit records to one HTTP client. Backpressure
 * is read from `write()`'s return value and `'drain'`; while the client is
 * behind, records wait in a bounded ring (`dropOldest`), so a client that
 * never reads costs at most `capacity` records and never slows the publisher.
 * Closing the response (client gone, server shutdown) unsubscribes.
 */
export function createAuditStream(options: AuditStreamOptions): PassThrough {
  const out = new PassThrough();
  const ready$ = new BehaviorSubject(true);
  // Records published in the same turn of the event loop go out as one write:
  // one socket write per batch, not per record, is what keeps a busy audit
  // stream (or a client that stopped reading) cheap for the SMTP side.
  let pending: string[] = [];
  let scheduled = false;
  const flush = (): void => {
    scheduled = false;
    const chunk = pending.join('');
    pending = [];
    if (chunk === '' || out.destroyed || out.writableEnded) return;
    if (!out.write(chunk)) ready$.next(false);
  };
  const write = (chunk: string): void => {
    pending.push(chunk);
    if (!scheduled) {
      scheduled = true;
      setImmediate(flush);
    }
  };
  out.on('drain', () => ready$.next(true));

  pending.push(options.preamble);
  flush(); // headers and the preamble reach the client at once
  options.onOpen();

  const records$ = options.records$.pipe(dropOldest(options.capacity, options.onDrop, ready$), map(options.format));
  const beats$ = options.heartbeat
    ? interval(options.heartbeat.everyMs).pipe(
        filter(() => ready$.value),
        map(() => options.heartbeat?.text ?? ''),
      )
    : EMPTY;
  const subscription = merge(records$, beats$)
    .pipe(finalize(options.onClose))
    .subscribe({
      next: write,
      error: (err: unknown) => out.destroy(err instanceof Error ? err : new Error(String(err))),
      complete: () => {
        flush();
        out.end();
      },
    });

  out.once('close', () => subscription.unsubscribe());
  return out;
}
