import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { MessageView } from '../../src/http/api-types.js';
import { httpPortOf, startChildDaemon } from '../helpers/child-daemon.js';
import { eventually } from '../helpers/eventually.js';
import { RawSmtp } from '../helpers/smtp-client.js';

/** What a client sent and was told 250 for. */
interface Acked {
  readonly recipients: readonly string[];
  /** The message as sent (after dot-unstuffing, which these bodies never need). */
  readonly data: string;
}

const BIG = 200 * 1024; // over the 128 KiB a message may wait in memory: stored through tmp/ and a rename

/** Message `n` of worker `w`: every 4th over 128 KiB, every 3rd to three recipients. */
function messageOf(w: number, n: number): { marker: string; recipients: string[]; data: string } {
  const marker = `w${w}-m${n}`;
  const recipients = n % 3 === 0 ? [1, 2, 3].map((k) => `${marker}-r${k}@example.test`) : [`${marker}@example.test`];
  const line = `${marker} the quick brown fox jumps over the lazy dog\r\n`;
  const size = n % 4 === 0 ? BIG : 4096;
  const body = line.repeat(Math.ceil(size / line.length));
  const data = `Message-ID: <${marker}@crash.test>\r\nSubject: ${marker}\r\n\r\n${body}`;
  return { marker, recipients, data };
}

/** Sends in a loop until the connection dies; records every message the daemon answered 250. */
async function sendUntilKilled(port: number, worker: number, acked: Map<string, Acked>): Promise<void> {
  let n = 0;
  try {
    const client = await RawSmtp.open(port);
    if ((await client.read(5000))?.code !== 220) return;
    await client.command('EHLO crash.test', 5000);
    for (;;) {
      const { recipients, data } = messageOf(worker, n++);
      await client.command('MAIL FROM:<a@mx.local.test>', 5000);
      for (const r of recipients) await client.command(`RCPT TO:<${r}>`, 5000);
      await client.command('DATA', 5000);
      const reply = await client.command(`${data}.`, 5000);
      const id = /queued as ([0-9a-z]{20})/.exec(reply.text)?.[1];
      if (reply.code === 250 && id !== undefined) acked.set(id, { recipients, data });
    }
  } catch {
    return; // the daemon is gone
  }
}

/** Per message id, how many recipient files (`<id>_<hash>.eml`) the spool holds. */
async function emlCounts(root: string): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const dir of (await readdir(root)).filter((d) => /^\d{4}-\d{2}-\d{2}$/.test(d))) {
    for (const name of await readdir(join(root, dir))) {
      const id = /^([0-9a-z]{20})_[0-9a-f]{16}\.eml$/.exec(name)?.[1];
      if (id !== undefined) counts.set(id, (counts.get(id) ?? 0) + 1);
    }
  }
  return counts;
}

describe('SIGKILL under load, then the real daemon restarted (§4)', () => {
  it('keeps every acknowledged message byte for byte, big ones and ones with several recipients among them', async () => {
    const spoolDir = await mkdtemp(join(tmpdir(), 'gp-crash-restart-'));
    const env = { SMTP_QUEUE_PATH: spoolDir, SMTP_DELIVERY_MODE: 'hold', LOG_LEVEL: 'info' };
    try {
      const first = await startChildDaemon(env);
      const acked = new Map<string, Acked>();
      const workers = Array.from({ length: 6 }, (_, w) => sendUntilKilled(first.port, w, acked));
      const kinds = (): { big: number; multi: number } => {
        const all = [...acked.values()];
        return {
          big: all.filter((m) => m.data.length > BIG).length,
          multi: all.filter((m) => m.recipients.length > 1).length,
        };
      };
      // kill mid-traffic once enough of every kind was acknowledged
      await eventually(
        () => acked.size >= 60 && kinds().big >= 10 && kinds().multi >= 10,
        30_000,
        () =>
          `60 messages acknowledged, 10 big and 10 with several recipients (${acked.size}, ${JSON.stringify(kinds())})`,
      );
      first.child.kill('SIGKILL');
      expect(await first.exited).toBe('SIGKILL');
      await Promise.all(workers);

      const second = await startChildDaemon({ ...env, SMTP_HEALTH_DISABLE: 'false', SMTP_HEALTH_ADDR: '127.0.0.1:0' });
      try {
        const api = `http://127.0.0.1:${httpPortOf(second)}/api/messages`;
        const files = await emlCounts(spoolDir);
        for (const [id, sent] of acked) {
          const view = (await (await fetch(`${api}/${id}`)).json()) as MessageView;
          expect(view.recipients.map((r) => r.recipient)).toEqual(sent.recipients);
          expect(files.get(id), `recipient files of ${id}`).toBe(sent.recipients.length);
          const raw = Buffer.from(await (await fetch(`${api}/${id}/raw`)).arrayBuffer());
          // the daemon prepends its Received: line; every byte the client sent follows, unchanged
          expect(raw.subarray(0, 9).toString()).toBe('Received:');
          expect(raw.subarray(raw.length - Buffer.byteLength(sent.data)).equals(Buffer.from(sent.data))).toBe(true);
          expect(view.size).toBe(raw.length);
        }
        expect(await readdir(join(spoolDir, 'tmp'))).toEqual([]);
      } finally {
        second.child.kill('SIGTERM');
        await second.exited;
      }
    } finally {
      await rm(spoolDir, { recursive: true, force: true });
    }
  }, 90_000);
});
