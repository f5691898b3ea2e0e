import { cp, mkdtemp, readdir, rename, rm, stat, symlink, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log/logger.js';
import { openFileSpool } from '../../src/spool/file-spool.js';
import { recipientHash } from '../../src/spool/file/paths.js';
import { eventually } from '../helpers/eventually.js';
import { SpoolError } from '../../src/spool/spool.js';
import { envelope, readAll, spoolContract } from './contract.js';

async function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'gp-spool-'));
}

spoolContract('file', async () => {
  const dir = await tempDir();
  let clock = Date.UTC(2026, 10, 24, 12, 0, 0);
  let spool = await openFileSpool({ path: dir, now: () => clock });
  return {
    get spool() {
      return spool;
    },
    advance: (ms) => void (clock += ms),
    now: () => clock,
    restart: async () => {
      await spool.close();
      spool = await openFileSpool({ path: dir, now: () => clock });
    },
    close: async () => {
      await spool.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});

async function listTree(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await listTree(full)).map((p) => `${entry.name}/${p}`));
    else out.push(entry.name);
  }
  return out.sort();
}

describe('file spool layout', () => {
  it('stores one body with a 0600 name per recipient under the UTC date, no address in names', async () => {
    const dir = await tempDir();
    const at = Date.UTC(2026, 10, 24, 23, 59, 0);
    const spool = await openFileSpool({ path: dir, now: () => at });
    try {
      const record = await spool.store(envelope({}, at), Readable.from([Buffer.from('Subject: x\r\n\r\nhello\r\n')]));
      await spool.checkpoint(); // state files are written at checkpoints
      const files = (await readdir(join(dir, '2026-11-24'))).sort();
      expect(files).toEqual(
        [
          `${record.id}.json`,
          `${record.id}_${recipientHash('Bob@example.test')}.eml`,
          `${record.id}_${recipientHash('carol@example.test')}.eml`,
        ].sort(),
      );
      expect(files.join(' ')).not.toMatch(/bob|carol|example/i);
      const a = await stat(join(dir, '2026-11-24', files[1] ?? ''));
      const b = await stat(join(dir, '2026-11-24', files[2] ?? ''));
      expect(a.mode & 0o777).toBe(0o600);
      expect(a.ino).toBe(b.ino); // one body on disk
      expect(a.nlink).toBe(2);
    } finally {
      await spool.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('streams large bodies through a temporary file and stores them whole', async () => {
    const dir = await tempDir();
    const spool = await openFileSpool({ path: dir, inlineLimit: 1024 });
    try {
      const chunk = Buffer.alloc(64 * 1024, 'a');
      const record = await spool.store(
        envelope({ receivedAt: Date.now() }),
        Readable.from(Array.from({ length: 40 }, () => chunk)),
      );
      expect(record.size).toBe(40 * 64 * 1024);
      expect((await readAll(await spool.openBody(record))).length).toBe(record.size);
      expect(await readdir(join(dir, 'tmp'))).toEqual([]);
      // and it is due at once, as a small one is
      expect((await spool.claim(Date.now() + 1_000, 10)).map((m) => m.record.id)).toEqual([record.id]);
    } finally {
      await spool.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('answers a write-ahead log failure (disk full) with SpoolError, keeps nothing, then recovers', async () => {
    const dir = await tempDir();
    const spool = await openFileSpool({ path: dir, checkpointMs: 3_600_000 });
    try {
      // the next log segment is /dev/full: every write to it fails with ENOSPC
      const [segment] = await readdir(join(dir, 'wal'));
      const next = String(Number(segment?.slice(0, 12)) + 1).padStart(12, '0');
      await symlink('/dev/full', join(dir, 'wal', `${next}.wal`));
      const kept = await spool.store(envelope({ receivedAt: Date.now() }), Readable.from([Buffer.from('kept\r\n')]));
      await spool.checkpoint(); // rotates onto /dev/full
      const filesBefore = await listTree(dir);
      await expect(
        spool.store(envelope({ receivedAt: Date.now() }), Readable.from([Buffer.from('x\r\n')])),
      ).rejects.toBeInstanceOf(SpoolError);
      expect((await spool.list({ limit: 100 })).items.map((r) => r.id)).toEqual([kept.id]);
      expect((await listTree(dir)).filter((f) => !f.startsWith('wal/'))).toEqual(
        filesBefore.filter((f) => !f.startsWith('wal/')),
      );
      // the log moved to a fresh segment: the next message is stored
      const record = await spool.store(envelope({ receivedAt: Date.now() }), Readable.from([Buffer.from('y\r\n')]));
      expect((await readAll(await spool.openBody(record))).toString()).toBe('y\r\n');
    } finally {
      await spool.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('logs a failing periodic checkpoint once, keeps every change in the log, and logs when checkpoints work again', async () => {
    const dir = await tempDir();
    const at = Date.UTC(2026, 10, 24, 10, 0, 0);
    const lines: { level: string; msg: string; err?: string }[] = [];
    const logger = createLogger('info', {
      write: (line: string) => void lines.push(JSON.parse(line) as (typeof lines)[number]),
    });
    const spool = await openFileSpool({ path: dir, now: () => at, checkpointMs: 40, logger });
    const day = join(dir, '2026-11-24');
    try {
      const record = await spool.store(envelope({}, at), Readable.from([Buffer.from('x\r\n')]));
      await spool.checkpoint();
      expect(await spool.claim(at, 10)).toHaveLength(1); // a claimed record is held in memory: its update needs no read
      // the date folder becomes a file: the state file of the next change cannot be written
      await rename(day, `${day}.aside`);
      await writeFile(day, 'not a folder');
      await spool.update(record.id, [
        {
          recipient: 'Bob@example.test',
          status: 'deferred',
          attempts: 1,
          lastResponse: '451 later',
          nextAttemptAt: at + 60_000,
        },
      ]);
      await eventually(
        () => lines.some((l) => l.level === 'warn'),
        5_000,
        () => 'the warning',
      );
      // the thing under test is that nothing more is logged while several more checkpoints fail
      await new Promise((resolve) => setTimeout(resolve, 200));
      const warnings = lines.filter((l) => l.level === 'warn');
      expect(warnings).toHaveLength(1);
      expect(warnings[0]?.msg).toMatch(/checkpoint failed/);
      expect(warnings[0]?.err).toMatch(/ENOTDIR|EEXIST/);
      expect(await readdir(join(dir, 'wal'))).not.toEqual([]); // the change is still in the log
      await rm(day);
      await rename(`${day}.aside`, day);
      await eventually(
        () => lines.some((l) => l.level === 'info' && /succeed again/.test(l.msg)),
        5_000,
        () => 'the recovery line',
      );
      const state = JSON.parse(await readFile(join(day, `${record.id}.json`), 'utf8')) as {
        recipients: { status: string }[];
      };
      expect(state.recipients.map((r) => r.status)).toEqual(['deferred', 'queued']);
    } finally {
      await spool.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('answers an unplaceable message with SpoolError, leaving no partial files', async () => {
    const dir = await tempDir();
    const at = Date.UTC(2026, 10, 24, 10, 0, 0);
    const spool = await openFileSpool({ path: dir, now: () => at });
    try {
      // a file where the date folder should be: placing the message fails after commit
      await (await import('node:fs/promises')).writeFile(join(dir, '2026-11-24'), 'not a folder');
      await expect(spool.store(envelope({}, at), Readable.from([Buffer.from('x\r\n')]))).rejects.toBeInstanceOf(
        SpoolError,
      );
      expect((await spool.list({ limit: 100 })).items).toEqual([]);
      expect(await readdir(join(dir, 'tmp'))).toEqual([]);
      await spool.close();
      // and the log does not bring it back at the next start
      await rm(join(dir, '2026-11-24'));
      const again = await openFileSpool({ path: dir, now: () => at });
      expect((await again.list({ limit: 100 })).items).toEqual([]);
      await again.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('rebuilds from the write-ahead log when the placed files were lost', async () => {
    const dir = await tempDir();
    const at = Date.UTC(2026, 10, 24, 10, 0, 0);
    const spool = await openFileSpool({ path: dir, now: () => at, checkpointMs: 3_600_000 });
    const record = await spool.store(envelope({}, at), Readable.from([Buffer.from('Subject: keep\r\n\r\nme\r\n')]));
    await spool.update(record.id, [
      { recipient: 'Bob@example.test', status: 'delivered', attempts: 1, nextAttemptAt: at },
    ]);
    // simulate a crash before the checkpoint: files never reached the disk
    await rm(join(dir, '2026-11-24'), { recursive: true });
    const reopened = await openFileSpool({ path: dir, now: () => at });
    try {
      const restored = await reopened.get(record.id);
      expect(restored?.recipients.map((r) => r.status)).toEqual(['delivered', 'queued']);
      expect((await readAll(await reopened.openBody(record))).toString()).toBe('Subject: keep\r\n\r\nme\r\n');
      expect(await readdir(join(dir, 'wal'))).toHaveLength(1); // replayed segments dropped, a fresh one open
    } finally {
      await reopened.close();
      await spool.close().catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('keeps working when its folders are wiped while it runs (an operator or a test harness clearing the spool)', async () => {
    const dir = await tempDir();
    const spool = await openFileSpool({ path: dir, checkpointMs: 3_600_000 });
    try {
      await spool.store(envelope({ receivedAt: Date.now() }), Readable.from([Buffer.from('before\r\n')]));
      for (const name of await readdir(dir)) await rm(join(dir, name), { recursive: true, force: true });
      // the scenario: the spool runs on, past the log's next look for spare segments, with its folders gone
      await new Promise((resolve) => setTimeout(resolve, 250));
      const record = await spool.store(envelope({ receivedAt: Date.now() }), Readable.from([Buffer.from('after\r\n')]));
      expect((await readAll(await spool.openBody(record))).toString()).toBe('after\r\n');
      // the acknowledgement went to a write-ahead log segment that still has a name
      const segments = await readdir(join(dir, 'wal'));
      expect(segments).toHaveLength(1);
      expect((await stat(join(dir, 'wal', segments[0] ?? ''))).size).toBeGreaterThan(0);
    } finally {
      await spool.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('never leaves a body without a record: small bodies are placed only after their record is synced', async () => {
    const dir = await tempDir();
    const at = Date.UTC(2026, 10, 24, 10, 0, 0);
    const spool = await openFileSpool({ path: dir, now: () => at, checkpointMs: 3_600_000 });
    try {
      const record = await spool.store(envelope({}, at), Readable.from([Buffer.from('first\r\n')]));
      // as a crash right after the log write would leave it: the record, but no body files
      for (const name of await readdir(join(dir, '2026-11-24'))) await rm(join(dir, '2026-11-24', name));
      const copy = `${dir}-copy`;
      await cp(dir, copy, { recursive: true });
      const reopened = await openFileSpool({ path: copy, now: () => at });
      try {
        expect((await reopened.list({ limit: 10 })).items.map((r) => r.id)).toEqual([record.id]);
        expect((await readAll(await reopened.openBody(record))).toString()).toBe('first\r\n');
      } finally {
        await reopened.close();
        await rm(copy, { recursive: true, force: true });
      }
    } finally {
      await spool.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('finds its waiting messages after a restart from the due journal, without reading finished ones', async () => {
    const dir = await tempDir();
    let clock = Date.UTC(2026, 10, 24, 10, 0, 0);
    const spool = await openFileSpool({ path: dir, now: () => clock });
    const waiting = await spool.store(
      envelope({ recipients: ['w@one.test', 'x@two.test'] }, clock),
      Readable.from([Buffer.from('w\r\n')]),
    );
    const done = await spool.store(
      envelope({ recipients: ['d@one.test'] }, clock),
      Readable.from([Buffer.from('d\r\n')]),
    );
    await spool.claim(clock, 10);
    await spool.update(waiting.id, [
      {
        recipient: 'w@one.test',
        status: 'deferred',
        attempts: 1,
        nextAttemptAt: clock + 60_000,
        lastResponse: '451 later',
      },
    ]);
    await spool.update(done.id, [
      { recipient: 'd@one.test', status: 'delivered', attempts: 1, nextAttemptAt: clock, lastResponse: '250 ok' },
    ]);
    await spool.close();
    // a finished message's state file is never read at start-up: make it unreadable to prove it
    await (await import('node:fs/promises')).writeFile(join(dir, '2026-11-24', `${done.id}.json`), '{ not json');
    const reopened = await openFileSpool({ path: dir, now: () => clock });
    try {
      expect(await reopened.depth()).toBe(2);
      expect(await reopened.nextDueAt()).toBe(clock); // x@two.test is still due
      const [m] = await reopened.claim(clock, 10);
      expect(m?.due.map((r) => r.recipient)).toEqual(['x@two.test']);
      await reopened.update(waiting.id, [
        { recipient: 'x@two.test', status: 'delivered', attempts: 1, nextAttemptAt: clock, lastResponse: '250 ok' },
      ]);
      await reopened.release(waiting.id);
      expect(await reopened.nextDueAt()).toBe(clock + 60_000);
      clock += 60_000;
      const [again] = await reopened.claim(clock, 10);
      expect(again?.due.map((r) => [r.recipient, r.attempts])).toEqual([['w@one.test', 1]]);
    } finally {
      await reopened.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('rebuilds the due index from the log after a crash before any checkpoint', async () => {
    const dir = await tempDir();
    const at = Date.UTC(2026, 10, 24, 10, 0, 0);
    const spool = await openFileSpool({ path: dir, now: () => at, checkpointMs: 3_600_000 });
    try {
      const a = await spool.store(envelope({ recipients: ['a@one.test'] }, at), Readable.from([Buffer.from('a\r\n')]));
      const b = await spool.store(envelope({ recipients: ['b@one.test'] }, at), Readable.from([Buffer.from('b\r\n')]));
      await spool.claim(at, 10);
      await spool.update(b.id, [
        { recipient: 'b@one.test', status: 'bounced', attempts: 1, nextAttemptAt: at, lastResponse: '550 no' },
      ]);
      // as the disk holds it right now, the due journal's appends included (they are not synced on their own)
      const copy = `${dir}-copy`;
      await cp(dir, copy, { recursive: true });
      await rm(join(copy, 'due'), { recursive: true, force: true });
      await (await import('node:fs/promises')).mkdir(join(copy, 'due'));
      const reopened = await openFileSpool({ path: copy, now: () => at });
      try {
        expect(await reopened.depth()).toBe(1);
        expect((await reopened.claim(at, 10)).map((m) => m.record.id)).toEqual([a.id]);
      } finally {
        await reopened.close();
        await rm(copy, { recursive: true, force: true });
      }
    } finally {
      await spool.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('rebuilds the due index from the state files when the journal is gone (a spool from an older version)', async () => {
    const dir = await tempDir();
    const at = Date.UTC(2026, 10, 24, 10, 0, 0);
    const spool = await openFileSpool({ path: dir, now: () => at });
    const a = await spool.store(
      envelope({ recipients: ['a@one.test', 'b@two.test'] }, at),
      Readable.from([Buffer.from('a\r\n')]),
    );
    const b = await spool.store(envelope({ recipients: ['c@one.test'] }, at), Readable.from([Buffer.from('b\r\n')]));
    await spool.claim(at, 10);
    await spool.update(b.id, [
      { recipient: 'c@one.test', status: 'delivered', attempts: 1, nextAttemptAt: at, lastResponse: '250 ok' },
    ]);
    await spool.close();
    await rm(join(dir, 'due'), { recursive: true });
    // files the daemon keeps beside the date folders are no messages
    await writeFile(join(dir, 'holds.json'), '{}');
    await writeFile(join(dir, 'mta-sts.json'), '{}');
    const orphan = join(dir, '2026-11-24', 'abcdefghij0123456789_0123456789abcdef.eml');
    await (await import('node:fs/promises')).writeFile(orphan, 'half a mess'); // what an older version could leave after a crash
    const reopened = await openFileSpool({ path: dir, now: () => at });
    try {
      expect(await reopened.depth()).toBe(2);
      expect((await reopened.claim(at, 10)).map((m) => m.record.id)).toEqual([a.id]);
      await expect(stat(orphan)).rejects.toThrow(/ENOENT/);
      expect((await readdir(join(dir, 'due'))).some((n) => n.startsWith('base-'))).toBe(true);
    } finally {
      await reopened.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('compacts the due journal to the size of the queue, and the result reads back the same', async () => {
    const dir = await tempDir();
    const at = Date.UTC(2026, 10, 24, 10, 0, 0);
    const spool = await openFileSpool({ path: dir, now: () => at, checkpointMs: 3_600_000 });
    const kept: string[] = [];
    try {
      for (let i = 0; i < 20; i++) {
        const r = await spool.store(
          envelope({ recipients: [`r${i}@d${i % 3}.test`] }, at + i),
          Readable.from([Buffer.from(`${i}\r\n`)]),
        );
        if (i % 4 === 0) kept.push(r.id);
        else {
          await spool.claim(at + 100, 100);
          await spool.update(r.id, [
            {
              recipient: `r${i}@d${i % 3}.test`,
              status: 'delivered',
              attempts: 1,
              nextAttemptAt: at,
              lastResponse: '250 ok',
            },
          ]);
        }
      }
      for (const id of kept) await spool.release(id);
      await spool.compactJournal();
      const names = (await readdir(join(dir, 'due'))).sort();
      expect(names.filter((n) => n.startsWith('base-'))).toHaveLength(1);
      expect(names.filter((n) => /^\d{12}\.due$/.test(n))).toHaveLength(1);
    } finally {
      await spool.close();
    }
    const reopened = await openFileSpool({ path: dir, now: () => at });
    try {
      expect(await reopened.depth()).toBe(kept.length);
      expect((await reopened.claim(at + 100, 100)).map((m) => m.record.id).sort()).toEqual([...kept].sort());
    } finally {
      await reopened.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('checkpoints: syncs placed files and keeps the sealed log segment as a spare', async () => {
    const dir = await tempDir();
    const spool = await openFileSpool({ path: dir, checkpointMs: 3_600_000 });
    try {
      await spool.store(envelope({ receivedAt: Date.now() }), Readable.from([Buffer.from('x\r\n')]));
      const before = await readdir(join(dir, 'wal'));
      await spool.checkpoint();
      const after = (await readdir(join(dir, 'wal'))).sort();
      expect(after).toHaveLength(2);
      const [segment, spare] = after;
      expect(segment).toMatch(/^\d{12}\.wal$/);
      expect(segment).not.toBe(before[0]);
      expect(spare).toBe(`spare-${before[0]}`);
      expect((await readFile(join(dir, 'wal', segment ?? ''))).length).toBe(0);
    } finally {
      await spool.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('keeps a message whose commit is answered together with a checkpoint that seals its segment', async () => {
    // The checkpoint must not recycle a segment before the commits in it were tracked:
    // otherwise neither a state file nor a log record would remain after a crash.
    const dir = await tempDir();
    const spool = await openFileSpool({ path: dir, checkpointMs: 3_600_000 });
    const body = async function* (): AsyncGenerator<Buffer> {
      yield Buffer.from('Subject: race\r\n\r\nbody\r\n');
    };
    const acknowledged: string[] = [];
    try {
      for (let delay = 0; delay < 8; delay++) {
        // a segment holding only a removal (nothing tracked for it), then a store racing a checkpoint
        const warm = await spool.store(envelope({ receivedAt: Date.now() }), body());
        await spool.checkpoint();
        await spool.remove(warm.id);
        const storing = spool.store(envelope({ receivedAt: Date.now() }), body());
        for (let i = 0; i < delay; i++) await Promise.resolve();
        const checkpoint = spool.checkpoint();
        acknowledged.push((await storing).id);
        await checkpoint;
        // the files as a crash would leave them right now (the log segments included)
        const copy = `${dir}-copy-${delay}`;
        await cp(dir, copy, { recursive: true });
        const reopened = await openFileSpool({ path: copy, checkpointMs: 3_600_000 });
        try {
          expect((await reopened.list({ limit: 100 })).items.map((r) => r.id).sort()).toEqual([...acknowledged].sort());
        } finally {
          await reopened.close();
          await rm(copy, { recursive: true, force: true });
        }
      }
    } finally {
      await spool.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('reuses spare segments, and never replays what a reused segment held before', async () => {
    const dir = await tempDir();
    const at = Date.UTC(2026, 10, 24, 10, 0, 0);
    const spool = await openFileSpool({ path: dir, now: () => at, checkpointMs: 3_600_000 });
    const body = (): Readable => Readable.from([Buffer.from('Subject: same size\r\n\r\nbody\r\n')]);
    const first = (await readdir(join(dir, 'wal')))[0] ?? '';
    const firstInode = (await stat(join(dir, 'wal', first))).ino;
    // five messages in the first segment, removed in the second
    const stored = [];
    for (let i = 0; i < 5; i++) stored.push(await spool.store(envelope({}, at), body()));
    await spool.checkpoint();
    for (const record of stored) await spool.remove(record.id);
    await spool.checkpoint();
    // The largest spare is taken at each rotation, so the first file comes back as a
    // segment, still holding its five records. (A commit that would grow a fresh file
    // may move the log on to a spare between two checkpoints, at most once per 200 ms:
    // rotate again until the first file is the segment just begun.)
    const current = async (): Promise<string> =>
      (await readdir(join(dir, 'wal'))).find((n) => /^\d{12}\.wal$/.test(n)) ?? '';
    for (let i = 0; i < 5 && (await stat(join(dir, 'wal', await current()))).ino !== firstInode; i++) {
      const filler = await spool.store(envelope({}, at), body());
      await spool.remove(filler.id);
      await spool.checkpoint();
    }
    expect((await stat(join(dir, 'wal', await current()))).ino).toBe(firstInode);
    // one message of the same size overwrites exactly the first old record; then a crash
    const kept = await spool.store(envelope({}, at), body());
    const reopened = await openFileSpool({ path: dir, now: () => at });
    try {
      expect((await reopened.list({ limit: 100 })).items.map((r) => r.id)).toEqual([kept.id]);
      expect((await readAll(await reopened.openBody(kept))).toString()).toBe('Subject: same size\r\n\r\nbody\r\n');
    } finally {
      await reopened.close();
      await spool.close().catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('file spool paging, waking and its health probe', () => {
  it('pages waiting messages with a next marker only while more follow, and wakes the queue only for work', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gp-spool-page-'));
    const spool = await openFileSpool({ path: dir });
    try {
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) {
        const record = await spool.store(
          envelope({ recipients: [`w${i}@example.test`] }, Date.now()),
          Readable.from([Buffer.from(`${i}\r\n`)]),
        );
        ids.push(record.id);
      }
      ids.sort(); // pages follow id order; two stores in one millisecond may draw ids in either order
      const first = await spool.list({ limit: 2, waiting: true });
      expect(first.items.map((r) => r.id)).toEqual(ids.slice(0, 2));
      expect(first.next).toBe(ids[1]);
      const rest = await spool.list({ limit: 2, waiting: true, after: ids[1] });
      expect(rest.items.map((r) => r.id)).toEqual(ids.slice(2));
      expect(rest.next).toBeUndefined();
      expect((await spool.list({ limit: 3, waiting: true })).next).toBeUndefined();
      expect((await spool.list({ limit: 3 })).next).toBeUndefined();

      let wakes = 0;
      const subscription = spool.wake$.subscribe(() => (wakes += 1));
      expect(await spool.retryNow()).toBe(0); // all due already: nothing moved, no wake
      expect(wakes).toBe(0);
      subscription.unsubscribe();
    } finally {
      await spool.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('checks it can write its temporary folder, leaving no probe behind, and fails when it cannot', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gp-spool-check-'));
    const spool = await openFileSpool({ path: dir });
    try {
      await spool.check();
      expect((await readdir(join(dir, 'tmp'))).filter((n) => n.startsWith('.probe-'))).toEqual([]);
      await rm(join(dir, 'tmp'), { recursive: true });
      await writeFile(join(dir, 'tmp'), 'a file where the folder was');
      await expect(spool.check()).rejects.toMatchObject({ code: 'ENOTDIR' });
      await rm(join(dir, 'tmp'));
    } finally {
      await spool.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
