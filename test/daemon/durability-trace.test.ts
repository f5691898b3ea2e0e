/**
 * The 250 promise seen from outside the process: the real daemon under strace(1). Every `250 … queued as <id>`
 * written to a client must come after an fdatasync of the log segment that holds `<id>`'s record, begun after that
 * record was written and returned before the reply was. And with every fdatasync failing (strace's fault injection,
 * as a dying disk answers EIO), the daemon answers 451 and nothing of those messages comes back after a crash.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startChildDaemon, type ChildDaemon } from '../helpers/child-daemon.js';
import { RawSmtp } from '../helpers/smtp-client.js';
import { attachStrace, readTrace, straceUnavailable, type Syscall } from '../helpers/strace.js';

const unavailable = straceUnavailable();
const named = (title: string): string => (unavailable ? `${title} (SKIPPED: ${unavailable})` : title);

const BIG = 200 * 1024; // over the 128 KiB a body may wait in memory: written to tmp/ and synced there first

/** Sends one message on a fresh connection; answers the DATA reply (code and text). */
async function send(port: number, marker: string, size = 2048): Promise<{ code: number; text: string }> {
  const client = await RawSmtp.open(port);
  try {
    await client.read(5000);
    await client.command('EHLO trace.test', 5000);
    await client.command('MAIL FROM:<a@mx.local.test>', 5000);
    await client.command(`RCPT TO:<${marker}@example.test>`, 5000);
    await client.command('DATA', 5000);
    const line = `${marker} the quick brown fox jumps over the lazy dog\r\n`;
    const body = line.repeat(Math.ceil(size / line.length));
    const reply = await client.command(
      `Message-ID: <${marker}@trace.test>\r\nSubject: ${marker}\r\n\r\n${body}.`,
      5000,
    );
    return { code: reply.code, text: reply.text };
  } finally {
    client.close();
  }
}

/** Message ids of the spool's recipient files (`<id>_<hash>.eml`), and what tmp/ holds. */
async function spoolContents(root: string): Promise<{ ids: Set<string>; tmp: string[] }> {
  const ids = new Set<string>();
  for (const dir of (await readdir(root)).filter((d) => /^\d{4}-\d{2}-\d{2}$/.test(d)))
    for (const name of await readdir(join(root, dir))) {
      const id = /^([0-9a-z]{20})_[0-9a-f]{16}\.eml$/.exec(name)?.[1];
      if (id !== undefined) ids.add(id);
    }
  return { ids, tmp: await readdir(join(root, 'tmp')).catch(() => []) };
}

/** Why the reply for `id` (entered at `reply.start`) is not covered by a sync of its record; undefined when it is. */
function uncovered(calls: readonly Syscall[], id: string, reply: Syscall): string | undefined {
  const written = calls.filter((c) => /^pwrite/.test(c.name) && /\.wal>/.test(c.args) && c.args.includes(id));
  if (written.length === 0) return `${id}: no log write holds its record`;
  const segment = /^\d+<([^>]+\.wal)>/.exec(written[0]?.args ?? '')?.[1] ?? '';
  const synced = calls.some(
    (c) =>
      /^f(data)?sync$/.test(c.name) &&
      c.args.includes(`<${segment}>`) &&
      c.result === '0' &&
      written.some((w) => w.end <= c.start) &&
      c.end <= reply.start,
  );
  return synced ? undefined : `${id}: the 250 was written before a sync of ${segment} covered its record`;
}

describe.skipIf(unavailable !== undefined)('the 250 promise under strace (§3, §4)', () => {
  let spoolDir: string;
  let daemon: ChildDaemon | undefined;
  beforeEach(async () => {
    spoolDir = await mkdtemp(join(tmpdir(), 'gp-trace-'));
  });
  afterEach(async () => {
    daemon?.child.kill('SIGKILL');
    await daemon?.exited;
    daemon = undefined;
    await rm(spoolDir, { recursive: true, force: true });
  });

  const env = (): Record<string, string> => ({ SMTP_QUEUE_PATH: spoolDir, SMTP_DELIVERY_MODE: 'hold' });

  it(named('writes each 250 only after the fdatasync of the log segment holding its record'), async () => {
    daemon = await startChildDaemon(env());
    const trace = join(spoolDir, '..', `${spoolDir.split('/').pop() ?? 'trace'}.strace`);
    const tracer = await attachStrace(daemon.child.pid ?? 0, trace, [
      '-e',
      'trace=pwrite64,pwritev,pwritev2,write,writev,sendto,sendmsg,fdatasync,fsync',
    ]);
    const port = daemon.port;
    const replies = await Promise.all(
      Array.from({ length: 24 }, (_, n) => send(port, `m${n}`, n % 8 === 0 ? BIG : 2048)),
    );
    await tracer.detach();
    const calls = await readTrace(trace);
    await rm(trace, { force: true });

    const ids = replies.map((r) => /queued as ([0-9a-z]{20})/.exec(r.text)?.[1]);
    expect(replies.map((r) => r.code)).toEqual(replies.map(() => 250));
    const problems = ids.map((id) => {
      const reply = calls.find((c) => /^(write|writev|sendto|sendmsg)$/.test(c.name) && c.args.includes(`as ${id}`));
      return reply && id ? uncovered(calls, id, reply) : `${id}: no 250 for it in the trace`;
    });
    expect(problems.filter((p) => p !== undefined)).toEqual([]);
  });

  it(named('answers 451 when fdatasync fails, and a crash afterwards brings none of those messages back'), async () => {
    daemon = await startChildDaemon(env());
    const trace = join(spoolDir, '..', `${spoolDir.split('/').pop() ?? 'trace'}.strace`);
    const failing = await attachStrace(daemon.child.pid ?? 0, trace, [
      '-e',
      'trace=fdatasync',
      '-e',
      'inject=fdatasync:error=EIO',
    ]);
    const small = await send(daemon.port, 'refused-small');
    const big = await send(daemon.port, 'refused-big', BIG);
    await failing.detach();
    const fails = (await readTrace(trace)).filter((c) => c.result.includes('EIO'));
    await rm(trace, { force: true });
    expect(fails.length).toBeGreaterThanOrEqual(2); // the log's sync for the small one, the tmp body's for the big one
    expect([small.code, big.code]).toEqual([451, 451]);
    expect(small.text).toMatch(/^4\.3\.0 /);

    const after = await send(daemon.port, 'after'); // the log went on in a new segment
    expect(after.code).toBe(250);
    const afterId = /queued as ([0-9a-z]{20})/.exec(after.text)?.[1];

    daemon.child.kill('SIGKILL'); // a crash: the page cache still holds whatever the failed syncs left
    await daemon.exited;
    daemon = await startChildDaemon(env()); // listening means the log has been replayed
    const { ids, tmp } = await spoolContents(spoolDir);
    expect([...ids]).toEqual([afterId]);
    expect(tmp).toEqual([]);
  });
});
