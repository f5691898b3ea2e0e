/**
 * The spool's I/O thread: a worker started from this file (io-thread.ts
 * starts it). On this kind of machine every asynchronous file operation
 * costs the event loop a thread-pool round trip, and a small message needs
 * about six; here the same work runs as plain synchronous calls, and the
 * event loop pays one message each way per batch.
 *
 * Three threads run this program, each asked for its own kinds of work:
 * `commit` writes the log (group commit: every request that arrived while
 * the previous batch was written and synced is taken at once, with one write
 * and one fdatasync), places small bodies and appends the due journal;
 * `background` writes checkpoint state files (a slice at a time between
 * other requests), runs syncfs, writes journal snapshots and looks after the
 * spare segments; `read` reads state files and small bodies for delivery.
 *
 * This file only starts the loop (worker-loop.ts) on the thread's port.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { IoRequest } from './protocol.js';
import { IoWorker } from './worker-loop.js';

if (!parentPort) throw new Error('the spool I/O worker must run in a worker thread');
const port = parentPort;
const worker = new IoWorker(port, (workerData as { walDir: string }).walDir);
port.on('message', (requests: IoRequest[]) => worker.pump(requests));
