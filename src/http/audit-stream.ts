/**
 * A response body that carries audit records to one HTTP client (`/audit`,
 * `/healthz` in audit mode).
 *
 * In: the records (`records$`), how to format them, an optional heartbeat,
 * and a probe of how far behind the client's connection is. Out: a
 * `PassThrough` to hand to koa as the body; `onDrop` for records dropped
 * while the client was behind; `onOpen`/`onClose` around its life.
 *
 * Backpressure is read from `write()`'s return value and `'drain'`; while
 * the client is behind, records wait in a bounded ring (`dropOldest`), so a
 * client that never reads costs at most `capacity` records and never slows
 * the publisher. The kernel takes about 4 MB for a client that has stopped
 * reading before `write()` says so; with `backlog` (stall-watch.ts), such a
 * client is noticed after about half a megabyte instead, and every record
 * formatted and written to it before then is work taken from SMTP. Closing
 * the response (client gone, server shutdown) unsubscribes.
 */
import { PassThrough } from 'node:stream';
import {
  BehaviorSubject,
  EMPTY,
  filter,
  finalize,
  interval,
  map,
  merge,
  type Observable,
  type Subscription,
} from 'rxjs';
import { dropOldest } from '../audit/bounded.js';
import type { AuditRecord } from '../domain/audit.js';
import { StallWatch } from './stall-watch.js';

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
   * Bytes written that the client has not taken in yet (net/send-queue.ts),
   * asked as stall-watch.ts says: a client too far behind is treated as full.
   */
  readonly backlog?: () => Promise<number | undefined>;
}

const FLUSH_BYTES = 64 * 1024;

export function createAuditStream(options: AuditStreamOptions): PassThrough {
  return new AuditStream(options).out;
}

/** One client's stream: the batch waiting to be written, and whether the client can take more. */
class AuditStream {
  readonly out = new PassThrough();
  /** ready = Node's buffer has room and the client is not far behind in the kernel. */
  private readonly ready$ = new BehaviorSubject(true);
  private full = false;
  private readonly watch: StallWatch;
  // Records go out in batches: at most one write per `flushMs` (or per 64 KiB).
  // Every socket write to a loopback or LAN client costs the kernel a segment
  // and an acknowledgement, charged to whatever the daemon does next; a write
  // per event-loop turn cost a busy SMTP side 5–10 % (measured), a write per
  // 50 ms costs it nothing measurable, and a human tailing the stream sees
  // no difference.
  private readonly flushMs: number;
  private pending: string[] = [];
  private pendingBytes = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly subscription: Subscription;

  constructor(private readonly options: AuditStreamOptions) {
    this.flushMs = options.flushMs ?? 50;
    this.watch = new StallWatch(
      options.backlog,
      () => this.out.destroyed,
      () => this.update(),
    );
    this.out.on('drain', () => {
      this.full = false;
      this.update();
    });
    this.pending.push(options.preamble);
    this.flush(); // headers and the preamble reach the client at once
    options.onOpen();
    this.subscription = this.subscribe();
    this.out.once('close', () => {
      if (this.timer) clearTimeout(this.timer);
      this.watch.stop();
      this.subscription.unsubscribe();
    });
  }

  /** Records (held in the ring while the client is not ready) and heartbeats, into batches. */
  private subscribe(): Subscription {
    const { options } = this;
    const records$ = options.records$.pipe(
      dropOldest(options.capacity, options.onDrop, this.ready$),
      map(options.format),
    );
    const beats$ = options.heartbeat
      ? interval(options.heartbeat.everyMs).pipe(
          filter(() => this.ready$.value),
          map(() => options.heartbeat?.text ?? ''),
        )
      : EMPTY;
    return merge(records$, beats$)
      .pipe(finalize(options.onClose))
      .subscribe({
        next: (chunk) => this.write(chunk),
        error: (err: unknown) => this.out.destroy(err instanceof Error ? err : new Error(String(err))),
        complete: () => {
          this.flush();
          this.out.end();
        },
      });
  }

  private update(): void {
    const ready = !this.full && !this.watch.behind;
    if (ready !== this.ready$.value) this.ready$.next(ready);
  }

  /** Adds `chunk` to the batch; the batch goes at 64 KiB or when its window ends. */
  private write(chunk: string): void {
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    if (this.pendingBytes >= FLUSH_BYTES) this.flush();
    else this.timer ??= setTimeout(this.flush, this.flushMs);
  }

  private readonly flush = (): void => {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const chunk = this.pending.join('');
    this.pending = [];
    this.pendingBytes = 0;
    if (chunk === '' || this.out.destroyed || this.out.writableEnded) return;
    if (!this.out.write(chunk)) {
      this.full = true;
      this.update();
    }
    this.watch.wrote(chunk.length);
  };
}
