/**
 * A local SMTP sink that counts what it receives, for the soak: Postfix's
 * `smtp-sink` (C, its own process, counting with `-c`) when it is installed,
 * since a Node sink inside the bench process competes with the load
 * generator for the same cores; otherwise the repository's Node sink
 * (test/helpers/sink.ts). BENCH_NODE_SINK=1 forces the Node sink.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { access, constants } from 'node:fs/promises';
import { connect } from 'node:net';
import { patchSmtpServer } from '../src/inbound/patches.js';
import { startSink } from '../test/helpers/sink.js';
import { freePort } from '../test/helpers/ports.js';
import { sleep } from './sample.js';

export const SMTP_SINK = '/usr/sbin/smtp-sink';

export interface CountingSink {
  /** What is listening: `smtp-sink` or `node sink`. */
  readonly kind: string;
  readonly port: number;
  /** Transactions completed so far (end of DATA answered). */
  delivered(): number;
  /** SMTP sessions so far (smtp-sink: sessions ended, its readiness probe included; Node: connections accepted). */
  sessions(): number;
  /** The sink's own process (smtp-sink), for its CPU time; undefined for the in-process sink. */
  readonly pid: number | undefined;
  close(): Promise<void>;
}

export async function startCountingSink(): Promise<CountingSink> {
  const installed = await access(SMTP_SINK, constants.X_OK).then(
    () => true,
    () => false,
  );
  if (installed && process.env.BENCH_NODE_SINK !== '1') return startSmtpSink();
  return startNodeSink();
}

/** smtp-sink's `-c` writes `sess=N quit=N mesg=N` and a carriage return at every change. */
async function startSmtpSink(): Promise<CountingSink> {
  const port = await freePort();
  const asRoot = process.getuid?.() === 0;
  // -m: connections served at once (the daemon may open many); backlog 1024
  const child = spawn(
    SMTP_SINK,
    [...(asRoot ? ['-u', 'nobody'] : []), '-c', '-m', '4096', `127.0.0.1:${port}`, '1024'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let mesg = 0;
  let sess = 0;
  let carry = '';
  let errors = '';
  child.stdout?.on('data', (d: Buffer) => {
    const text = carry + d.toString('latin1');
    const end = text.lastIndexOf('\r');
    if (end < 0) {
      carry = text.slice(-200);
      return;
    }
    carry = text.slice(end + 1);
    const last = /sess=(\d+) quit=\d+ mesg=(\d+)$/.exec(text.slice(0, end));
    if (last) {
      sess = Number(last[1]);
      mesg = Number(last[2]);
    }
  });
  child.stderr?.on('data', (d: Buffer) => {
    errors = (errors + d.toString()).slice(-2000);
  });
  await waitForListener(port, child, () => errors);
  return {
    kind: 'smtp-sink',
    port,
    delivered: () => mesg,
    sessions: () => sess,
    pid: child.pid,
    close: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

async function waitForListener(port: number, child: ChildProcess, errors: () => string): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`smtp-sink exited ${child.exitCode}: ${errors()}`);
    const up = await new Promise<boolean>((resolve) => {
      const socket = connect({ port, host: '127.0.0.1' }, () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (up) return;
    if (Date.now() > deadline) throw new Error(`smtp-sink did not listen on ${port}: ${errors()}`);
    await sleep(50);
  }
}

async function startNodeSink(): Promise<CountingSink> {
  patchSmtpServer(); // greets at once, as smtp-sink does
  const sink = await startSink({ keepBodies: false });
  return {
    kind: 'node sink (test/helpers/sink.ts, in the bench process)',
    port: sink.port,
    delivered: () => sink.transactions(),
    sessions: () => sink.connections(),
    pid: undefined,
    close: () => sink.close(),
  };
}
