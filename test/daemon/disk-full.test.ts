/**
 * A full disk over SMTP, with a real ENOSPC: the daemon's spool lives on a small tmpfs that the test fills. A
 * message that must reach the disk is answered 451 with an enhanced code, nothing of it stays in the spool, and
 * once space is freed the next message is accepted. Mounting needs root; elsewhere the test is skipped, saying so.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, open, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startTestDaemon } from '../helpers/daemon.js';
import { ehlo, sendRaw } from '../helpers/smtp-client.js';
import { allMessages } from '../helpers/spool.js';

/** Mounts a 64 MiB tmpfs (room for the log's preallocated segments) on a fresh directory; else why it could not. */
async function mountTmpfs(): Promise<{ readonly dir: string } | { readonly reason: string }> {
  if (process.getuid?.() !== 0) return { reason: 'not root' };
  const dir = await mkdtemp(join(tmpdir(), 'gp-full-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64m', 'tmpfs', dir], { stdio: 'pipe' });
    return { dir };
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    return { reason: `mount -t tmpfs failed: ${String(error).split('\n')[0] ?? ''}` };
  }
}

const mount = await mountTmpfs();
const mounted = 'dir' in mount ? mount.dir : undefined;

afterAll(async () => {
  if (mounted === undefined) return;
  execFileSync('umount', [mounted], { stdio: 'pipe' });
  await rm(mounted, { recursive: true, force: true });
});

/** Writes zeros to `path` until the file system says ENOSPC; returns the bytes written. */
async function fill(path: string): Promise<number> {
  const file = await open(path, 'w');
  const chunk = Buffer.alloc(16 * 1024);
  let written = 0;
  try {
    for (;;) written += (await file.write(chunk)).bytesWritten;
  } catch (error) {
    expect((error as NodeJS.ErrnoException).code).toBe('ENOSPC');
  } finally {
    await file.close();
  }
  return written;
}

const title =
  mounted === undefined
    ? `answers 451 on a full disk (SKIPPED: ${'reason' in mount ? mount.reason : ''}, a real ENOSPC needs a tmpfs)`
    : 'answers 451 with an enhanced code on a full disk (real ENOSPC), keeps nothing, and accepts once space is freed';

describe('disk full over SMTP (§3, §4)', () => {
  it.skipIf(mounted === undefined)(
    title,
    async () => {
      const queuePath = join(mounted ?? '', 'spool');
      const d = await startTestDaemon({ SMTP_QUEUE_PATH: queuePath });
      const filler = join(mounted ?? '', 'filler');
      try {
        expect(await fill(filler)).toBeGreaterThan(0);
        // bigger than what fits in a log record: its body must be written to a file
        const line = `${'x'.repeat(998)}\r\n`;
        const big = `Subject: full\r\n\r\n${line.repeat(300)}`;
        const client = await ehlo(d.port);
        expect((await client.command('MAIL FROM:<a@mx.local.test>')).code).toBe(250);
        expect((await client.command('RCPT TO:<b@example.test>')).code).toBe(250);
        expect((await client.command('DATA')).code).toBe(354);
        const reply = await client.command(`${big}.`, 15_000);
        expect(reply.code).toBe(451);
        expect(reply.text).toMatch(/^4\.\d{1,3}\.\d{1,3} /);
        expect(reply.text).not.toMatch(/ENOSPC|at .*\.js/);
        expect(await allMessages(d.daemon.spool)).toEqual([]);
        expect(await readdir(join(queuePath, 'tmp'))).toEqual([]);
        expect((await client.command('NOOP')).code).toBe(250);
        client.close();

        await rm(filler);
        const id = await sendRaw(d.port, 'a@mx.local.test', ['b@example.test'], big);
        expect((await allMessages(d.daemon.spool)).map((m) => m.id)).toEqual([id]);
      } finally {
        await rm(filler, { force: true });
        await d.stop();
      }
    },
    30_000,
  );
});
