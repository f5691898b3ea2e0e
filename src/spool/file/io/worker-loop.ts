/**
 * The work loop of the spool's I/O thread (worker.ts starts it in the
 * thread): requests in, answers out, over one message port. It runs
 * anywhere a port does, so tests drive it in their own thread.
 *
 * In: batches of `IoRequest`s (protocol.ts). Out: one `IoResponse` per
 * request, a batch per turn.
 */
import { readFileSync } from 'node:fs';
import { receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { removeAll } from './files.js';
import { JournalAppender } from './journal-appender.js';
import { Placement } from './placement.js';
import { toFailure, type Committed, type IoRequest, type IoResponse, type Opened } from './protocol.js';
import { SegmentWriter } from './segment-writer.js';
import { SparePool } from './spare-pool.js';
import { diskSync } from './sync.js';

type Of<K extends IoRequest['kind']> = Extract<IoRequest, { kind: K }>;

/** A record waiting for the batch's write and sync. */
interface Pending {
  readonly id: number;
  readonly frame: Uint8Array;
  readonly due?: Uint8Array | undefined;
  /** A message's body, placed once its record is synced. */
  readonly body?: { readonly bodyAt: number; readonly names: readonly string[] } | undefined;
}

/** State files written between other requests, this many at a time. */
const STATE_SLICE = 32;

export class IoWorker {
  private readonly spares: SparePool;
  private readonly writer: SegmentWriter;
  private readonly journal = new JournalAppender();
  private readonly placement = new Placement(diskSync);
  private out: IoResponse[] = [];
  private batch: Pending[] = [];
  private readonly states: Of<'state'>[] = [];
  private statesAt = 0;
  private closing: number | undefined;

  constructor(
    private readonly port: MessagePort,
    walDir: string,
  ) {
    this.spares = new SparePool(walDir, diskSync);
    this.writer = new SegmentWriter(walDir, this.spares, diskSync);
  }

  /** Handles what arrived, what arrives meanwhile, then background state files while nothing else waits. */
  pump(first: IoRequest[]): void {
    let requests: IoRequest[] | undefined = first;
    while (requests) {
      const more = this.take();
      this.handle(more ? [...requests, ...more] : requests);
      this.flush();
      requests = this.take();
      while (!requests && this.statesAt < this.states.length) {
        this.writeStateSlice();
        this.flush();
        requests = this.take();
      }
    }
    if (this.closing !== undefined) this.close(this.closing);
  }

  private handle(requests: readonly IoRequest[]): void {
    for (const r of requests) this.dispatch(r);
    this.commit();
  }

  private dispatch(r: IoRequest): void {
    switch (r.kind) {
      case 'message':
        return void this.batch.push({
          id: r.id,
          frame: r.frame,
          due: r.due,
          body: { bodyAt: r.bodyAt, names: r.names },
        });
      case 'record':
        return void this.batch.push({ id: r.id, frame: r.frame, due: r.due });
      case 'open':
        return this.open(r);
      case 'rotate':
        return this.rotate(r);
      case 'journal':
        return this.useJournal(r);
      case 'state':
        return void this.states.push(r);
      case 'put':
        return this.answer(r.id, () => this.placement.putPart(r.path, r.data, r.continued === true, r.more === true));
      case 'unlink':
        return this.answer(r.id, () => removeAll(r.paths));
      case 'read':
        return this.answer(r.id, () => readOrNull(r.path));
      case 'syncfs':
        return this.answer(r.id, () => diskSync.fileSystem(r.root));
      case 'recycle':
        return this.answer(r.id, () => this.spares.recycle(r.seqs));
      case 'prepare':
        return this.answer(r.id, () => this.spares.prepare());
      case 'trim':
        return this.answer(r.id, () => this.spares.trim());
      case 'close':
        this.closing = r.id;
        return;
      default:
        return this.refuse(r);
    }
  }

  /**
   * A request of a kind this program does not know (a caller built for another protocol): answered, never left waiting.
   */
  private refuse(r: never): void {
    const { id, kind } = r as { id: number; kind: unknown };
    this.answer(id, () => {
      throw new Error(`unknown request ${String(kind)}`);
    });
  }

  /**
   * Writes and syncs the batch's records, then appends their due-journal
   * records and places their bodies. A body is placed only after its record
   * is durable: a crash in between leaves a record whose replay writes the
   * body, never a body without a record.
   */
  private commit(): void {
    const batch = this.batch;
    if (batch.length === 0) return;
    this.batch = [];
    let grew: boolean;
    try {
      ({ grew } = this.writer.commit(batch.map((p) => p.frame)));
    } catch (error) {
      // never before `open`, too: a thread started for requests its dead predecessor left behind writes nothing
      for (const p of batch) this.out.push({ id: p.id, ok: false, error: toFailure(error) });
      return;
    }
    const journaled = this.journal.append(batch.flatMap((p) => (p.due ? [p.due] : [])));
    for (const p of batch) this.out.push({ id: p.id, ok: true, value: this.committed(p, grew, journaled) });
  }

  private committed(p: Pending, grew: boolean, journaled: boolean): Committed {
    let placed: readonly string[] = [];
    let unplaced: string | undefined;
    if (p.body) {
      try {
        placed = this.placement.placeBody(p.frame.subarray(p.body.bodyAt), p.body.names);
      } catch (error) {
        unplaced = error instanceof Error ? error.message : String(error);
      }
    }
    return {
      seq: this.writer.seq,
      bytes: this.writer.size,
      placed,
      ...(unplaced === undefined ? {} : { unplaced }),
      ...(grew ? { grew } : {}),
      ...(!journaled && p.due !== undefined ? { unjournaled: true } : {}),
    };
  }

  private open(r: Of<'open'>): void {
    this.commit();
    try {
      this.writer.open(r.seq);
      this.out.push({ id: r.id, ok: true, value: this.opened(this.writer.seq - 1) });
    } catch (error) {
      this.out.push({ id: r.id, ok: false, error: toFailure(error) });
    }
  }

  /** A rotation that fails answers the current segment as the sealed one (the checkpoint tries later). */
  private rotate(r: Of<'rotate'>): void {
    this.commit();
    let sealed: number;
    try {
      sealed = this.writer.rotate();
    } catch {
      sealed = this.writer.seq;
    }
    this.out.push({ id: r.id, ok: true, value: this.opened(sealed) });
  }

  private opened(sealed: number): Opened {
    return { seq: this.writer.seq, sealed, bytes: this.writer.size };
  }

  /** What came before goes to the previous journal file. */
  private useJournal(r: Of<'journal'>): void {
    this.commit();
    this.answer(r.id, () => {
      this.journal.use(r.path);
      return r.path;
    });
  }

  private writeStateSlice(): void {
    for (let i = 0; i < STATE_SLICE && this.statesAt < this.states.length; i++) {
      const r = this.states[this.statesAt++] as Of<'state'>;
      this.answer(r.id, () => this.placement.writeState(r.path, r.json));
    }
    if (this.statesAt === this.states.length) {
      this.states.length = 0;
      this.statesAt = 0;
    }
  }

  /** Answers request `id` with what `work` returns, or with the error it throws. */
  private answer(id: number, work: () => unknown): void {
    try {
      this.out.push({ id, ok: true, value: work() ?? null });
    } catch (error) {
      this.out.push({ id, ok: false, error: toFailure(error) });
    }
  }

  private flush(): void {
    if (this.out.length === 0) return;
    this.port.postMessage(this.out);
    this.out = [];
  }

  /** Every request batch waiting on the port. */
  private take(): IoRequest[] | undefined {
    const first = receiveMessageOnPort(this.port);
    if (!first) return undefined;
    const requests = [...(first.message as IoRequest[])];
    for (let more = receiveMessageOnPort(this.port); more; more = receiveMessageOnPort(this.port)) {
      requests.push(...(more.message as IoRequest[]));
    }
    return requests;
  }

  private close(id: number): void {
    this.writer.close();
    this.journal.close();
    this.port.postMessage([{ id, ok: true, value: null } satisfies IoResponse]);
    this.port.close();
  }
}

function readOrNull(path: string): Buffer | null {
  try {
    return readFileSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}
