import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { firstValueFrom, take, toArray } from 'rxjs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Envelope, MessageRecord, RecipientStatus } from '../../src/domain/envelope.js';
import { retention$ } from '../../src/queue/retention.js';
import { isExpired } from '../../src/spool/file/expiry.js';
import { openFileSpool, type FileSpool } from '../../src/spool/file-spool.js';

const HOUR = 60 * 60 * 1000;
const DAY = 24 * HOUR;

function record(
  id: string,
  statuses: readonly RecipientStatus[],
  updatedAt: readonly number[],
  receivedAt = 0,
): MessageRecord {
  return {
    id,
    envelope: {
      sender: '',
      recipients: statuses.map((_, i) => `r${i}@x.test`),
      clientAddress: '::1',
      heloName: 'h',
      receivedAt,
    },
    size: 1,
    recipients: statuses.map((status, i) => ({
      recipient: `r${i}@x.test`,
      status,
      attempts: 1,
      nextAttemptAt: 0,
      updatedAt: updatedAt[i] ?? 0,
    })),
  };
}

describe("isExpired (the file spool's rule)", () => {
  const now = 100 * DAY;
  const before = now - 7 * DAY;
  it.each<[string, MessageRecord, boolean]>([
    ['delivered 8 days ago', record('a', ['delivered'], [now - 8 * DAY]), true],
    ['bounced 30 days ago', record('a', ['bounced'], [now - 30 * DAY]), true],
    ['delivered and bounced, both old', record('a', ['delivered', 'bounced'], [now - 9 * DAY, now - 8 * DAY]), true],
    ['delivered 6 days ago', record('a', ['delivered'], [now - 6 * DAY]), false],
    ['exactly 7 days ago is not older than 7 days', record('a', ['delivered'], [now - 7 * DAY]), false],
    ['one old, the last update recent', record('a', ['delivered', 'bounced'], [now - 30 * DAY, now - 1 * DAY]), false],
    ['deferred, very old', record('a', ['deferred'], [now - 90 * DAY]), false],
    ['queued, very old', record('a', ['queued'], [now - 90 * DAY]), false],
    [
      'delivered and deferred, both old',
      record('a', ['delivered', 'deferred'], [now - 90 * DAY, now - 90 * DAY]),
      false,
    ],
    ['no recipients at all (never expected; kept)', record('a', [], [], 0), false],
  ])('%s -> %s', (_name, rec, expired) => {
    expect(isExpired(rec, before)).toBe(expired);
  });
});

describe('retention$ against the file spool', () => {
  let dir: string;
  let clock: number;
  let spool: FileSpool;

  const jan = (day: number, hour = 12): number => Date.UTC(2026, 0, day, hour);

  function envelope(recipients: readonly string[], receivedAt: number): Envelope {
    return { sender: 'alice@local.test', recipients, clientAddress: '127.0.0.1', heloName: 'client.test', receivedAt };
  }

  /** Stores a message on `day` and moves its recipients to `statuses` on `finishedDay`. */
  async function message(day: number, statuses: readonly RecipientStatus[], finishedDay = day): Promise<MessageRecord> {
    clock = jan(day);
    const rcpts = statuses.map((_, i) => `user${i}@example.test`);
    const stored = await spool.store(
      envelope(rcpts, clock),
      Readable.from([Buffer.from('Subject: t\r\n\r\nbody\r\n')]),
    );
    clock = jan(finishedDay, 13);
    return spool.update(
      stored.id,
      statuses.map((status, i) => ({
        recipient: rcpts[i] ?? '',
        status,
        attempts: status === 'queued' ? 0 : 1,
        nextAttemptAt: status === 'deferred' ? clock + HOUR : clock,
        lastResponse: status === 'bounced' ? '550 5.1.1 no such user' : '250 ok',
      })),
    );
  }

  async function files(): Promise<string[]> {
    const out: string[] = [];
    for (const d of (await readdir(dir)).filter((n) => /^\d{4}-\d{2}-\d{2}$/.test(n)).sort()) {
      for (const f of (await readdir(join(dir, d))).sort()) out.push(`${d}/${f}`);
    }
    return out;
  }

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gp-retention-'));
    clock = jan(1);
    spool = await openFileSpool({ path: dir, now: () => clock });
  });

  afterEach(async () => {
    await spool.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('removes only finished messages past retention, their files and emptied date folders', async () => {
    const oldDone = await message(1, ['delivered', 'bounced']);
    const oldMixed = await message(1, ['delivered', 'deferred']);
    const oldQueued = await message(2, ['queued']);
    const aloneOnItsDay = await message(3, ['bounced']);
    const recentDone = await message(5, ['delivered']);
    const finishedLate = await message(1, ['delivered'], 8);

    const now = jan(11);
    const sweeps = await firstValueFrom(
      retention$({ spool, retentionDays: 7, clock: () => now, intervalMs: 5 }).pipe(take(2), toArray()),
    );

    expect(sweeps).toEqual([
      { kind: 'swept', removed: 2 },
      { kind: 'swept', removed: 0 },
    ]);
    const kept = [oldMixed.id, oldQueued.id, recentDone.id, finishedLate.id].sort();
    expect((await spool.list({ limit: 100 })).items.map((r) => r.id).sort()).toEqual(kept);
    expect(await spool.get(oldDone.id)).toBeUndefined();
    expect(await spool.get(aloneOnItsDay.id)).toBeUndefined();

    await spool.checkpoint(); // state files are written at checkpoints
    const onDisk = await files();
    expect(onDisk.filter((f) => f.includes(oldDone.id) || f.includes(aloneOnItsDay.id))).toEqual([]);
    for (const id of kept) expect(onDisk.some((f) => f.endsWith(`/${id}.json`))).toBe(true);
    const dateDirs = (await readdir(dir)).filter((n) => /^\d{4}-\d{2}-\d{2}$/.test(n)).sort();
    expect(dateDirs).toEqual(['2026-01-01', '2026-01-02', '2026-01-05']);

    // The removals are durable: a restarted spool does not bring them back.
    await spool.checkpoint();
    await spool.close();
    spool = await openFileSpool({ path: dir, now: () => clock });
    expect((await spool.list({ limit: 100 })).items.map((r) => r.id).sort()).toEqual(kept);
  });

  it('leaves everything alone when nothing is old enough', async () => {
    await message(1, ['delivered']);
    await message(1, ['bounced']);
    const before = await files();

    const sweep = await firstValueFrom(retention$({ spool, retentionDays: 30, clock: () => jan(20), intervalMs: 5 }));

    expect(sweep).toEqual({ kind: 'swept', removed: 0 });
    expect(await files()).toEqual(before);
  });
});
