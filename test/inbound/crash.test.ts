import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openFileSpool } from '../../src/spool/file-spool.js';
import { startChildDaemon } from '../helpers/child-daemon.js';
import { eventually } from '../helpers/eventually.js';
import { RawSmtp } from '../helpers/smtp-client.js';
import { allMessages, bodyBytes } from '../helpers/spool.js';

/** Sends messages in a loop until the connection dies; returns id → marker of every 250. */
async function sendUntilKilled(port: number, worker: number, acked: Map<string, string>): Promise<void> {
  let n = 0;
  for (;;) {
    let client: RawSmtp;
    try {
      client = await RawSmtp.open(port);
      if ((await client.read(2000))?.code !== 220) return;
      await client.command('EHLO crash.test', 2000);
      for (;;) {
        const marker = `w${worker}-m${n++}`;
        await client.command('MAIL FROM:<a@mx.local.test>', 2000);
        await client.command(`RCPT TO:<${marker}@example.test>`, 2000);
        await client.command('DATA', 2000);
        const reply = await client.command(`Subject: ${marker}\r\n\r\n${`${marker} `.repeat(400)}\r\n.`, 2000);
        const id = /queued as ([0-9a-z]{20})/.exec(reply.text)?.[1];
        if (reply.code === 250 && id) acked.set(id, marker);
      }
    } catch {
      return; // the daemon is gone
    }
  }
}

async function emlFiles(root: string): Promise<string[]> {
  const out: string[] = [];
  for (const dir of (await readdir(root)).filter((d) => /^\d{4}-\d{2}-\d{2}$/.test(d))) {
    for (const name of await readdir(join(root, dir))) if (name.endsWith('.eml')) out.push(join(root, dir, name));
  }
  return out;
}

describe('crash safety (§3, §4)', () => {
  it('keeps every 250-acknowledged message across SIGKILL mid-traffic, and no partial file is a message', async () => {
    const spoolDir = await mkdtemp(join(tmpdir(), 'gp-crash-'));
    try {
      const daemon = await startChildDaemon({
        SMTP_QUEUE_PATH: spoolDir,
        SMTP_DELIVERY_MODE: 'hold',
        LOG_LEVEL: 'info',
      });
      const acked = new Map<string, string>();
      const workers = Array.from({ length: 8 }, (_, w) => sendUntilKilled(daemon.port, w, acked));
      // kill it mid-traffic, once it has acknowledged a fair number of messages
      await eventually(
        () => acked.size >= 200,
        20_000,
        () => `200 acknowledged messages (${acked.size} so far)`,
      );
      daemon.child.kill('SIGKILL');
      expect(await daemon.exited).toBe('SIGKILL');
      await Promise.all(workers);
      expect(acked.size).toBeGreaterThan(50);

      // right after the kill: every acknowledged message is already in place
      const before = await emlFiles(spoolDir);
      for (const id of acked.keys()) expect(before.some((f) => f.includes(`/${id}_`))).toBe(true);

      // restart: the log is replayed; everything acknowledged is there, whole
      const spool = await openFileSpool({ path: spoolDir });
      try {
        const records = new Map((await allMessages(spool)).map((r) => [r.id, r]));
        for (const [id, marker] of acked) {
          const record = records.get(id);
          expect(record?.envelope.recipients).toEqual([`${marker}@example.test`]);
          const chunks: Buffer[] = [];
          chunks.push(await bodyBytes(spool, id));
          const body = Buffer.concat(chunks).toString();
          expect(body.length).toBe(record?.size);
          expect(body).toContain(`Subject: ${marker}\r\n`);
          expect(body.endsWith(`${`${marker} `.repeat(400)}\r\n`)).toBe(true);
        }
        // no .eml without a complete message behind it
        for (const file of await emlFiles(spoolDir)) {
          const id = /\/([0-9a-z]{20})_[0-9a-f]{16}\.eml$/.exec(file)?.[1] ?? '';
          const record = records.get(id);
          expect(record, `${file} is not a stored message`).toBeDefined();
          expect((await stat(file)).size).toBe(record?.size);
        }
        expect(await readdir(join(spoolDir, 'tmp'))).toEqual([]);
        const state = JSON.parse(
          await readFile(join(spoolDir, new Date().toISOString().slice(0, 10), `${[...acked.keys()][0]}.json`), 'utf8'),
        ) as { id: string };
        expect(state.id).toBe([...acked.keys()][0]);
      } finally {
        await spool.close();
      }
    } finally {
      await rm(spoolDir, { recursive: true, force: true });
    }
  }, 60_000);
});
