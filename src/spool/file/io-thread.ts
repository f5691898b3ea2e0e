import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { fromFailure, type IoRequest, type IoResponse } from './io/protocol.js';

type Unnumbered<T> = T extends unknown ? Omit<T, 'id'> : never;
export type IoCall = Unnumbered<IoRequest>;

/**
 * The worker's program: `io/worker.js` beside this module. Run from the
 * TypeScript sources (the test runner), there is no such file: the compiled
 * one under `dist/` is started instead (`npm test` builds it first).
 */
function workerFile(): URL {
  const beside = new URL('./io/worker.js', import.meta.url);
  if (existsSync(fileURLToPath(beside))) return beside;
  const compiled = new URL(beside.href.replace('/src/spool/file/', '/dist/src/spool/file/'));
  if (existsSync(fileURLToPath(compiled))) return compiled;
  throw new Error(`the spool I/O worker is not built (${fileURLToPath(compiled)}): run npm run build`);
}

interface Waiter {
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: Error) => void;
}

/**
 * The event-loop side of the spool's I/O thread: requests made during one
 * turn of the loop travel as one message (their frames moved, not copied), and
 * each answer settles its promise. The thread keeps the process alive only
 * while something waits on it. If it dies, every waiting request fails and
 * the next one starts a new thread (which the caller re-opens).
 */
export class IoThread {
  private worker: Worker | undefined;
  private readonly waiting = new Map<number, Waiter>();
  private outbox: IoRequest[] = [];
  private transfer: ArrayBuffer[] = [];
  private scheduled = false;
  private nextId = 1;
  private closing = false;
  private started = 0;

  constructor(
    private readonly walDir: string,
    /**
     * `commit` threads write the log and the due journal; `background` ones state files, syncfs, spare segments and
     * journal snapshots; `read` ones read files for delivery.
     */
    private readonly role: 'commit' | 'background' | 'read',
  ) {}

  /** How many threads have been started (a new one must be opened again). */
  get generation(): number {
    return this.started;
  }

  get alive(): boolean {
    return this.worker !== undefined;
  }

  request(call: IoCall, transfer?: ArrayBuffer): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.outbox.push({ ...call, id });
      if (transfer) this.transfer.push(transfer);
      if (this.waiting.size === 1) this.thread().ref();
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.send());
      }
    });
  }

  private send(): void {
    this.scheduled = false;
    const requests = this.outbox;
    const transfer = this.transfer;
    this.outbox = [];
    this.transfer = [];
    if (requests.length > 0) this.thread().postMessage(requests, transfer);
  }

  private thread(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(workerFile(), {
      name: `spool-${this.role}`,
      workerData: { walDir: this.walDir },
      resourceLimits: WORKER_LIMITS,
    });
    this.started += 1;
    worker.on('message', (responses: IoResponse[]) => this.settle(responses));
    worker.on('error', (error) => this.stopped(worker, error));
    worker.on('exit', (code) => this.stopped(worker, new Error(`spool I/O thread exited with code ${code}`)));
    worker.unref();
    this.worker = worker;
    return worker;
  }

  private settle(responses: readonly IoResponse[]): void {
    for (const r of responses) {
      const waiter = this.waiting.get(r.id);
      if (!waiter) continue;
      this.waiting.delete(r.id);
      if (r.ok) waiter.resolve(r.value);
      else waiter.reject(fromFailure(r.error));
    }
    if (this.waiting.size === 0 && !this.closing) this.worker?.unref();
  }

  private stopped(worker: Worker, error: Error): void {
    if (this.worker !== worker) return;
    this.worker = undefined;
    // everything waiting fails, including requests not sent yet: none may run on a later thread
    this.outbox = [];
    this.transfer = [];
    const waiting = [...this.waiting.values()];
    this.waiting.clear();
    for (const w of waiting) w.reject(error);
  }

  /** Stops the thread at once (a thread that must not be waited for): waiting requests fail. */
  async terminate(): Promise<void> {
    await this.worker?.terminate();
  }

  /** Ends the thread after everything sent so far; resolves once it has exited. */
  async close(): Promise<void> {
    const worker = this.worker;
    if (!worker) return;
    this.closing = true; // keeps the process up until the thread has exited
    worker.ref();
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    await this.request({ kind: 'close' }).catch(() => undefined);
    await exited;
  }
}

/**
 * The thread's own JavaScript is a small loop: bodies and frames are outside
 * its heap. A small young generation keeps its share of the daemon's memory
 * down (each thread is a V8 isolate).
 */
const WORKER_LIMITS = { maxYoungGenerationSizeMb: 2, maxOldGenerationSizeMb: 48 };
