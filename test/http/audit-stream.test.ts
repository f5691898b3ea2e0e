import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { setImmediate as tick } from 'node:timers/promises';
import { Subject } from 'rxjs';
import { describe, expect, it } from 'vitest';
import type { AuditRecord } from '../../src/domain/audit.js';
import { createAuditStream, type AuditStreamOptions } from '../../src/http/audit-stream.js';
import { sendQueueProbe } from '../../src/net/send-queue.js';
import { eventually } from '../helpers/eventually.js';

const record = (seq: number, reason = ''): AuditRecord => ({
  type: 'rejected',
  session: 's',
  client: '127.0.0.1',
  stage: 'rcpt',
  code: 550,
  reason,
  seq,
  time: new Date(0).toISOString(),
});

function streamOptions(records: Subject<AuditRecord>, flushMs: number): AuditStreamOptions {
  return {
    records$: records,
    format: (r) => `${r.seq} ${'reason' in r ? r.reason : ''}\n`,
    preamble: 'hello\n',
    capacity: 16,
    onDrop: () => undefined,
    onOpen: () => undefined,
    onClose: () => undefined,
    flushMs,
  };
}

function open(flushMs: number): { records: Subject<AuditRecord>; chunks: string[]; close: () => void } {
  const records = new Subject<AuditRecord>();
  const chunks: string[] = [];
  const out = createAuditStream(streamOptions(records, flushMs));
  out.on('data', (chunk: Buffer) => chunks.push(chunk.toString()));
  return { records, chunks, close: () => out.destroy() };
}

/** An audit stream written to a real loopback TCP client that is paused (never reads until resumed). */
async function tcpSubscriber(withBacklog: boolean): Promise<{
  records: Subject<AuditRecord>;
  socket: Socket;
  client: Socket;
  dropped: () => number;
  settled: () => boolean;
  close: () => Promise<void>;
}> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const accepted = new Promise<Socket>((resolve) => server.once('connection', resolve));
  const client = connect({ port, host: '127.0.0.1' });
  client.pause();
  const socket = await accepted;
  const records = new Subject<AuditRecord>();
  let dropped = 0;
  const options = streamOptions(records, 1);
  let formatted = options.preamble.length;
  let piped = 0;
  const out = createAuditStream({
    ...options,
    format: (r) => {
      const line = options.format(r);
      formatted += line.length;
      return line;
    },
    onDrop: (n) => (dropped += n),
    ...(withBacklog ? { backlog: sendQueueProbe(socket) } : {}),
  });
  out.on('data', (chunk: Buffer) => (piped += chunk.length));
  out.pipe(socket);
  return {
    records,
    socket,
    client,
    dropped: () => dropped,
    // every record the stream took out of its ring has reached the socket, or the socket is full (the client
    // never reads: it stays full, and nothing more is written to it)
    settled: () => formatted === piped || socket.writableNeedDrain,
    close: async () => {
      out.destroy();
      client.destroy();
      socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/**
 * Publishes records `from`..`to` of about 1 KB each, pausing now and then as a busy daemon would (the pauses
 * pace the publisher, so the connection probe gets answered while records flow); then waits until the stream
 * has written every record it took.
 */
async function offer(
  c: { records: Subject<AuditRecord>; settled: () => boolean },
  from: number,
  to: number,
): Promise<void> {
  const body = 'x'.repeat(1000);
  for (let seq = from; seq <= to; seq++) {
    c.records.next(record(seq, body));
    // a steady 6 MB/s: fast enough to outrun a client, slow enough that a probe answering late on a
    // busy machine lets through a few hundred KiB more, not megabytes
    if (seq % 64 === 0) await new Promise((resolve) => setTimeout(resolve, 10));
  }
  await eventually(c.settled, 5_000, () => 'the stream to write every record it took');
}

describe('audit stream batching (§6)', () => {
  it('sends the preamble at once, then records from many event-loop turns as one write', async () => {
    const s = open(40);
    try {
      await tick();
      expect(s.chunks).toEqual(['hello\n']);
      for (let i = 1; i <= 5; i++) {
        s.records.next(record(i));
        await tick();
      }
      expect(s.chunks).toHaveLength(1); // still waiting for the batch window
      await eventually(
        () => s.chunks.length > 1,
        2_000,
        () => 'the batch to be written',
      );
      expect(s.chunks).toEqual(['hello\n', '1 \n2 \n3 \n4 \n5 \n']);
    } finally {
      s.close();
    }
  });

  it('writes a batch at once when it reaches 64 KiB, without waiting for the window', async () => {
    const s = open(60_000);
    try {
      const big = 'x'.repeat(16 * 1024);
      for (let i = 1; i <= 4; i++) s.records.next(record(i, big));
      await tick();
      expect(s.chunks).toHaveLength(2);
      expect(s.chunks[1]?.split('\n').filter(Boolean)).toHaveLength(4);
    } finally {
      s.close();
    }
  });

  it('writes what is pending when the source completes', async () => {
    const s = open(60_000);
    s.records.next(record(1));
    s.records.complete();
    await tick();
    expect(s.chunks.join('')).toBe('hello\n1 \n');
  });
});

describe('a client that stops reading (§6)', () => {
  it('over a real TCP connection, stops writing to a client that never reads after about half a megabyte, not the ~4 MB the kernel would take', async () => {
    const run = async (withBacklog: boolean): Promise<{ written: number; dropped: number }> => {
      const c = await tcpSubscriber(withBacklog);
      try {
        await offer(c, 1, 8000); // 8 MB offered in all
        return { written: c.socket.bytesWritten, dropped: c.dropped() };
      } finally {
        await c.close();
      }
    };
    const without = await run(false);
    const withProbe = await run(true);
    expect(without.written).toBeGreaterThan(2 * 1024 * 1024); // what the kernel takes from a client that never reads
    // about half a megabyte on a quiet machine; on a busy one the probe answers later, so the bound is relative
    expect(withProbe.written).toBeLessThan(without.written / 2);
    expect(withProbe.dropped).toBeGreaterThan(without.dropped);
  });

  it('goes back to writing once the client reads again', async () => {
    const c = await tcpSubscriber(true);
    try {
      await offer(c, 1, 3000);
      const stalledAt = c.socket.bytesWritten;
      c.records.next(record(3001, 'while-behind'));
      // the thing under test is that nothing happens: a quiet spell longer than the probe's 250 ms recheck
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(c.socket.bytesWritten).toBe(stalledAt); // behind: nothing more is written
      let received = '';
      c.client.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
      c.client.resume();
      // the newest records waited in the ring while the client was behind, and come once it has caught up
      await expect.poll(() => received.includes('3001 while-behind'), { timeout: 5_000, interval: 50 }).toBe(true);
      c.records.next(record(3002, 'caught-up'));
      await expect.poll(() => received.includes('3002 caught-up'), { timeout: 5_000, interval: 50 }).toBe(true);
    } finally {
      await c.close();
    }
  });
});
