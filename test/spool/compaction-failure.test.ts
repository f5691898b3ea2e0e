/**
 * A due-journal compaction whose snapshot cannot be written
 * (src/spool/file/due-files.ts), on a real file spool: the snapshot's name
 * is taken by a folder. The compaction fails and the journal files it would
 * have replaced are kept; the next compaction, once the name is free,
 * replaces them all with one snapshot and one file, and a restart finds
 * every waiting message in those.
 */
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { openFileSpool } from '../../src/spool/file-spool.js';
import { envelope } from './contract.js';

describe('a due-journal compaction that cannot write its snapshot', () => {
  it('fails, keeps the journal it would have replaced, and the next one succeeds', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gp-compact-'));
    const at = Date.UTC(2026, 10, 24, 10, 0, 0);
    const journal = join(dir, 'due');
    let spool = await openFileSpool({ path: dir, now: () => at, checkpointMs: 3_600_000 });
    try {
      const waiting: string[] = [];
      for (let i = 0; i < 5; i++) {
        const r = await spool.store(
          envelope({ recipients: [`r${i}@d.test`] }, at),
          Readable.from([Buffer.from('x\r\n')]),
        );
        if (i % 2 === 0) waiting.push(r.id);
        else {
          await spool.claim(at, 100);
          await spool.update(r.id, [
            { recipient: `r${i}@d.test`, status: 'delivered', attempts: 1, nextAttemptAt: at, lastResponse: '250 ok' },
          ]);
        }
      }
      for (const id of waiting) await spool.release(id);
      const before = (await readdir(journal)).sort();
      const current = before.find((n) => /^\d{12}\.due$/.test(n)) ?? '';
      const next = String(Number(current.slice(0, 12)) + 1).padStart(12, '0');
      await mkdir(join(journal, `base-${next}.due`)); // the snapshot's name is taken
      await expect(spool.compactJournal()).rejects.toThrow();
      const after = await readdir(journal);
      expect(before.every((n) => after.includes(n))).toBe(true);
      // the name is free again: the next compaction replaces every journal file, the kept ones included
      await rm(join(journal, `base-${next}.due`), { recursive: true });
      await spool.compactJournal();
      // (the failed attempt's temporary file stays until the next start clears it)
      const compacted = (await readdir(journal)).filter((n) => !n.endsWith('.tmp'));
      expect(compacted.filter((n) => /^base-\d{12}\.due$/.test(n))).toHaveLength(1);
      expect(compacted.filter((n) => /^\d{12}\.due$/.test(n))).toHaveLength(1);
      expect(compacted).toHaveLength(2);
      // and a restart finds every waiting message in them
      await spool.close();
      spool = await openFileSpool({ path: dir, now: () => at, checkpointMs: 3_600_000 });
      expect((await readdir(journal)).filter((n) => n.endsWith('.tmp'))).toEqual([]);
      expect(await spool.depth()).toBe(waiting.length);
      expect((await spool.claim(at, 100)).map((m) => m.record.id).sort()).toEqual([...waiting].sort());
    } finally {
      await spool.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
