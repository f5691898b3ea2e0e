/**
 * Small bodies in the file spool travel inside their log record
 * (src/spool/file/changes.ts): what the log holds for them, that the shared
 * memory budget is given back once each is committed, and the error a body
 * that could not be written after its record was logged gets.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openFileSpool, type FileSpool } from '../../src/spool/file-spool.js';
import { segmentSeq, spoolPaths } from '../../src/spool/file/paths.js';
import { decodeSegment } from '../../src/spool/file/wal-record.js';
import { SpoolError } from '../../src/spool/spool.js';
import { envelope } from './contract.js';

const at = Date.UTC(2026, 11, 7, 7, 0, 0);
let dir: string;
let spool: FileSpool;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gp-inline-'));
  spool = await openFileSpool({
    path: dir,
    now: () => at,
    checkpointMs: 3_600_000,
    inlineLimit: 64,
    inlineBudget: 100,
  });
});
afterEach(async () => {
  await spool.close().catch(() => undefined);
  await rm(dir, { recursive: true, force: true });
});

/** Every message record in the log: its id and whether its body travelled inside it. */
function loggedMessages(): { id: string; inline: boolean; body: number }[] {
  const wal = join(dir, 'wal');
  const out: { id: string; inline: boolean; body: number }[] = [];
  for (const name of readdirSync(wal).sort()) {
    const seq = segmentSeq(name);
    if (seq === undefined) continue;
    for (const { entry, body } of decodeSegment(readFileSync(join(wal, name)), seq).records)
      if (entry.t === 'msg') out.push({ id: entry.record.id, inline: entry.inline, body: body.length });
  }
  return out;
}

describe('inline bodies in the log', () => {
  it('logs each small body inside its record, the budget given back after every commit', async () => {
    const ids: string[] = [];
    // 60 bytes each against a budget of 100: only one at a time fits, so each must be given back
    for (let i = 0; i < 3; i++) {
      const r = await spool.store(
        envelope({ recipients: [`r${i}@x.test`] }, at),
        Readable.from([Buffer.alloc(60, 'a')]),
      );
      ids.push(r.id);
    }
    expect(loggedMessages()).toEqual(ids.map((id) => ({ id, inline: true, body: 60 })));
  });

  it('logs a body over the limit without it, placed from its own file', async () => {
    const r = await spool.store(envelope({ recipients: ['r@x.test'] }, at), Readable.from([Buffer.alloc(65, 'b')]));
    expect(loggedMessages()).toEqual([{ id: r.id, inline: false, body: 0 }]);
    expect(readFileSync(spoolPaths(dir).bodyFile(r.id, at, 'r@x.test')).length).toBe(65);
  });

  it('names the storage failure when a logged small body cannot be written, and keeps nothing', async () => {
    await writeFile(spoolPaths(dir).dateDir(at), 'a file where the date folder goes');
    const error = await spool
      .store(envelope({ recipients: ['r@x.test'] }, at), Readable.from([Buffer.alloc(60, 'c')]))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SpoolError);
    expect((error as Error).message).toMatch(/^spool storage failed: \S/);
    expect(await spool.depth()).toBe(0);
    // the budget was given back for the refused body too
    const next = await spool.store(
      envelope({ recipients: ['s@x.test'] }, at + 86_400_000),
      Readable.from([Buffer.alloc(60)]),
    );
    expect(loggedMessages().find((m) => m.id === next.id)?.inline).toBe(true);
  });
});
