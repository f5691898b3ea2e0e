/**
 * The file spool when its due journal cannot be written (a full disk, here
 * the journal's name linked to /dev/full, whose writes fail with ENOSPC):
 * mail is still accepted (the write-ahead log holds it), and the next
 * checkpoint rewrites the journal from memory before the log segments go,
 * so a restart still finds every waiting message.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openFileSpool } from '../../src/spool/file-spool.js';
import { envelope } from './contract.js';

const at = Date.UTC(2026, 11, 7, 6, 0, 0);
let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gp-journal-full-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe.skipIf(!existsSync('/dev/full'))('a due journal that cannot be written (needs /dev/full)', () => {
  it('accepts mail, rewrites the journal at the next checkpoint, and a restart finds every message', async () => {
    const spool = await openFileSpool({ path: dir, now: () => at, checkpointMs: 3_600_000 });
    // the journal a compaction moves on to next (one past the file appended to now) is the full device
    const numbers = (await readdir(join(dir, 'due'))).map((n) => Number(/(\d{12})\.due$/.exec(n)?.[1] ?? -1));
    const full = `${String(Math.max(...numbers) + 1).padStart(12, '0')}.due`;
    await symlink('/dev/full', join(dir, 'due', full));
    await spool.compactJournal();
    const stored = [];
    for (let i = 0; i < 3; i++)
      stored.push(await spool.store(envelope({ recipients: [`r${i}@x.test`] }, at), Readable.from([Buffer.from('x')])));
    await spool.checkpoint();
    const names = await readdir(join(dir, 'due'));
    expect(names).not.toContain(full); // the broken journal was replaced
    expect(names.some((n) => n.startsWith('base-'))).toBe(true);
    await spool.close();
    const reopened = await openFileSpool({ path: dir, now: () => at });
    try {
      expect(await reopened.depth()).toBe(3);
      expect((await reopened.claim(at, 10)).map((m) => m.record.id).sort()).toEqual(stored.map((r) => r.id).sort());
    } finally {
      await reopened.close();
    }
  });
});
