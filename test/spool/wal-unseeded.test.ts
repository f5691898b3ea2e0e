/**
 * A log segment written before frames were sealed with the segment's number
 * (seed 0), left by a crash and replayed by this version: every record is
 * replayed, also past the first MiB the replay reads at a time.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import type { MessageRecord } from '../../src/domain/envelope.js';
import { openFileSpool } from '../../src/spool/file-spool.js';
import { encodeRecord, sealFrame } from '../../src/spool/file/wal-record.js';
import { newMessageId } from '../../src/spool/id.js';
import { initialRecord } from '../../src/spool/records.js';
import { readAll } from './contract.js';

const at = Date.UTC(2026, 11, 7, 8, 0, 0);
let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gp-unseeded-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

it('replays every record of an unseeded segment longer than a MiB', async () => {
  const records: MessageRecord[] = [];
  const frames: Buffer[] = [];
  for (let i = 0; i < 24; i++) {
    const body = Buffer.alloc(100 * 1024, String.fromCharCode(97 + i));
    const envelope = {
      sender: 's@x.test',
      recipients: [`r${i}@y.test`],
      clientAddress: '127.0.0.1',
      heloName: 'x',
      receivedAt: at,
    };
    const record = initialRecord(newMessageId(at), envelope, body.length, at);
    records.push(record);
    frames.push(sealFrame(encodeRecord({ t: 'msg', record, inline: true }, [body]).frame, 0));
  }
  const segment = Buffer.concat(frames);
  expect(segment.length).toBeGreaterThan(2 * 1024 * 1024);
  await mkdir(join(dir, 'wal'), { recursive: true });
  await writeFile(join(dir, 'wal', '000000000001.wal'), segment);
  const spool = await openFileSpool({ path: dir, now: () => at });
  try {
    expect(await spool.depth()).toBe(24);
    const last = records[23];
    if (!last) throw new Error('no last record');
    const body = await readAll(await spool.openBody(last));
    expect(body.equals(Buffer.alloc(100 * 1024, 'x'))).toBe(true);
  } finally {
    await spool.close();
  }
});
