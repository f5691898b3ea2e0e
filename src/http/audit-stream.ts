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
  /** Records wait up to this long to share one write (default 50 ms; 64 KiB goes at once). */
  readonly flushMs?: number;
  /**
   * Bytes written that the client has not taken in yet (`socketBacklog`),
   * looked at every 256 KiB written: a client more than 512 KiB behind is
   * treated as full until it is under 256 KiB again, looked at every 250 ms.
   */
  readonly backlog?: () => Promise<number | undefined>;
}

const FLUSH_BYTES = 64 * 1024;
const PROBE_EVERY_BYTES = 256 * 1024;
const BEHIND_BYTES = 512 * 1024;
const CAUGHT_UP_BYTES = 256 * 1024;
const RECHECK_MS = 250;

/**
 * A response body that carries audit records to one HTTP client. Backpressure
 * is read from `write()`'s return value and `'drain'`; while the client is
 * behind, records wait in a bounded ring (`dropOldest`), so a client that
 * never reads costs at most `capacity` records and never slows the publisher.
 * The kernel takes about 4 MB for a client that has stopped reading before
 * `write()` says so; with `backlog`, such a client is noticed after about
 * half a megabyte instead, and every record formatted and written to it
 * before then is work taken from SMTP.
 * Closing the response (client gone, server shutdown) unsubscribes.
 */
export function createAuditStream(options: AuditStreamOptions): PassThrough {
  const out = new PassThrough();
  const ready$ = new BehaviorSubject(true);
  // Records go out in batches: at most one write per `flushMs` (or per 64 KiB).
  // Every socket write to a loopback or LAN client costs the kernel a segment
  // and an acknowledgement, charged to whatever the daemon does next; a write
  // per event-loop turn cost a busy SMTP side 5–10 % (measured), a write per
  // 50 ms costs it nothing measurable, and a human tailing the stream sees
  // no difference.
  const flushMs = options.flushMs ?? 50;
  // ready = Node's buffer has room and the client is not far behind in the kernel
  let full = false;
  let behind = false;
  const update = (): void => {
    const ready = !full && !behind;
    if (ready !== ready$.value) ready$.next(ready);
  };
  let written = 0;
  let probedAt = 0;
  let probing = false;
  let recheck: NodeJS.Timeout | undefined;
  const probe = (): void => {
    const backlog = options.backlog;
    if (!backlog || probing || out.destroyed) return;
    probing = true;
    void backlog().then((bytes) => {
      probing = false;
      if (out.destroyed) return;
      behind = bytes !== undefined && bytes > (behind ? CAUGHT_UP_BYTES : BEHIND_BYTES);
      update();
      if (behind) recheck = setTimeout(probe, RECHECK_MS);
    });
  };
  let pending: string[] = [];
  let pendingBytes = 0;
  let timer: NodeJS.Timeout | undefined;
  const flush = (): void => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    const chunk = pending.join('');
    pending = [];
    pendingBytes = 0;
    if (chunk === '' || out.destroyed || out.writableEnded) return;
    if (!out.write(chunk)) {
      full = true;
      update();
    }
    written += chunk.length;
    if (written - probedAt >= PROBE_EVERY_BYTES) {
      probedAt = written;
      probe();
    }
  };
  const write = (chunk: string): void => {
    pending.push(chunk);
    pendingBytes += chunk.length;
    if (pendingBytes >= FLUSH_BYTES) flush();
    else timer ??= setTimeout(flush, flushMs);
  };
  out.on('drain', () => {
    full = false;
    update();
  });

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

  out.once('close', () => {
    if (timer) clearTimeout(timer);
    if (recheck) clearTimeout(recheck);
    subscription.unsubscribe();
  });
  return out;
}
