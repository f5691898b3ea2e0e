import { setImmediate as tick } from 'node:timers/promises';
import { Subject } from 'rxjs';
import { describe, expect, it } from 'vitest';
import type { AuditRecord } from '../../src/domain/audit.js';
import { createAuditStream } from '../../src/http/audit-stream.js';

const record = (seq: number, reason = ''): AuditRecord => ({ type: 'rejected', session: 's', client: '127.0.0.1', stage: 'rcpt', code: 550, reason, seq, time: new Date(0).toISOString() });

function open(flushMs: number): { records: Subject<AuditRecord>; chunks: string[]; close: () => void } {
  const records = new Subject<AuditRecord>();
  const chunks: string[] = [];
  const out = createAuditStream({
    records$: records,
    format: (r) => `${r.seq} ${'reason' in r ? r.reason : ''}\n`,
    preamble: 'hello\n',
    capacity: 16,
    onDrop: () => undefined,
    onOpen: () => undefined,
    onClose: () => undefined,
    flushMs,
  });
  out.on('data', (chunk: Buffer) => chunks.push(chunk.toString()));
  return { records, chunks, close: () => out.destroy() };
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
      await new Promise((resolve) => setTimeout(resolve, 80));
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
