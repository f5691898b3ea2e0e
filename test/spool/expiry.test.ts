/**
 * Retention in the file spool (src/spool/file/expiry.ts) over real date
 * folders: which messages are read at all, which are removed, and how the
 * limit and the batches of reads end a pass.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { MessageId, MessageRecord, RecipientState } from '../../src/domain/envelope.js';
import { expireFinished, isExpired, lastUpdateOf, type ExpiryDeps } from '../../src/spool/file/expiry.js';
import { joinId } from '../../src/spool/file/message-ids.js';
import { dateDirOf } from '../../src/spool/file/paths.js';

const DAY = 86_400_000;
const cutoff = Date.UTC(2026, 11, 7, 12, 0, 0);
let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'gp-expiry-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

let serial = 0;
function recipient(status: RecipientState['status'], updatedAt: number): RecipientState {
  return { recipient: `r${serial}@x.test`, status, attempts: 1, nextAttemptAt: updatedAt, updatedAt };
}

function record(receivedAt: number, recipients: RecipientState[]): MessageRecord {
  serial += 1;
  const id = joinId(receivedAt, serial);
  return {
    id,
    envelope: {
      sender: 's@x.test',
      recipients: recipients.map((r) => r.recipient),
      clientAddress: '127.0.0.1',
      heloName: 'x',
      receivedAt,
    },
    size: 1,
    recipients,
  };
}

/** Writes each record's state file in its date folder; deps that load from memory and record what they were asked. */
async function world(records: MessageRecord[], extra: Partial<ExpiryDeps> = {}) {
  const byId = new Map(records.map((r) => [r.id, r]));
  const loaded: MessageId[] = [];
  const removed: MessageId[] = [];
  for (const r of records) {
    const dir = join(root, dateDirOf(r.envelope.receivedAt));
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, `${r.id}.json`), '{}');
  }
  const deps: ExpiryDeps = {
    root,
    waiting: () => false,
    load: (id) => {
      loaded.push(id);
      return Promise.resolve(byId.get(id));
    },
    remove: (id) => {
      removed.push(id);
      return Promise.resolve(true);
    },
    unwritten: [],
    ...extra,
  };
  return { deps, loaded, removed };
}

describe('expiry of finished messages', () => {
  it('knows a message’s last update and when it is expired', () => {
    const r = record(cutoff - 10 * DAY, [
      recipient('delivered', cutoff - 5 * DAY),
      recipient('bounced', cutoff - 2 * DAY),
    ]);
    expect(lastUpdateOf(r)).toBe(cutoff - 2 * DAY);
    expect(lastUpdateOf({ ...r, recipients: [] })).toBe(cutoff - 10 * DAY);
    expect(isExpired(r, cutoff - 2 * DAY + 1)).toBe(true);
    expect(isExpired(r, cutoff - 2 * DAY)).toBe(false); // updated at the cutoff itself: kept
    expect(isExpired({ ...r, recipients: [] }, cutoff)).toBe(false);
    expect(isExpired({ ...r, recipients: [...r.recipients, recipient('deferred', 0)] }, cutoff)).toBe(false);
  });

  it('removes finished messages of earlier days and of the cutoff’s own day, and reads none from after the cutoff', async () => {
    const old = record(cutoff - 3 * DAY, [recipient('delivered', cutoff - 3 * DAY)]);
    const sameDay = record(cutoff - 60_000, [recipient('bounced', cutoff - 60_000)]);
    const after = record(cutoff + 1, [recipient('delivered', cutoff + 1)]);
    const nextDay = record(cutoff + DAY, [recipient('delivered', cutoff + DAY)]);
    const { deps, loaded, removed } = await world([old, sameDay, after, nextDay]);
    expect(await expireFinished(deps, cutoff, 10)).toEqual({ removed: 2, more: false });
    expect(removed.sort()).toEqual([old.id, sameDay.id].sort());
    expect(loaded.sort()).toEqual([old.id, sameDay.id].sort());
  });

  it('skips waiting messages unread, keeps ones updated since, and counts only what was removed', async () => {
    const waiting = record(cutoff - DAY, [recipient('delivered', cutoff - DAY)]);
    const fresh = record(cutoff - DAY, [recipient('delivered', cutoff + 5)]);
    const raced = record(cutoff - DAY, [recipient('delivered', cutoff - DAY)]);
    const unreadable = record(cutoff - DAY, [recipient('delivered', cutoff - DAY)]);
    const { deps, loaded, removed } = await world([waiting, fresh, raced, unreadable], {
      waiting: (id) => id === waiting.id,
    });
    const { load, remove } = deps;
    const result = await expireFinished(
      {
        ...deps,
        load: (id) => (id === unreadable.id ? Promise.reject(new Error('EIO')) : load(id)),
        // removed by someone else meanwhile: not counted
        remove: (id) => remove(id).then(() => id !== raced.id),
      },
      cutoff,
      10,
    );
    expect(result).toEqual({ removed: 0, more: false });
    expect(loaded).not.toContain(waiting.id);
    expect(removed).toEqual([raced.id]); // the only one expired and readable
  });

  it('checks messages whose state file is not written yet first', async () => {
    const unwritten = record(cutoff - DAY, [recipient('delivered', cutoff - DAY)]);
    const onDisk = record(cutoff - DAY, [recipient('delivered', cutoff - DAY)]);
    const { deps, removed } = await world([onDisk]);
    const load = deps.load;
    const result = await expireFinished(
      {
        ...deps,
        unwritten: [unwritten.id],
        load: (id) => (id === unwritten.id ? Promise.resolve(unwritten) : load(id)),
      },
      cutoff,
      1,
    );
    expect(result).toEqual({ removed: 1, more: true });
    expect(removed).toEqual([unwritten.id]);
  });

  it('stops at the limit, within a batch and across batches of 64 reads, and says more may follow', async () => {
    const many = Array.from({ length: 150 }, () => record(cutoff - DAY, [recipient('delivered', cutoff - DAY)]));
    const { deps, loaded, removed } = await world(many);
    expect(await expireFinished(deps, cutoff, 3)).toEqual({ removed: 3, more: true });
    expect(removed).toHaveLength(3);
    expect(loaded).toHaveLength(64); // one batch read, no more
    loaded.length = 0;
    removed.length = 0;
    expect(await expireFinished(deps, cutoff, 100)).toEqual({ removed: 100, more: true });
    expect(loaded).toHaveLength(128);
    removed.length = 0;
    expect(await expireFinished(deps, cutoff, 150)).toEqual({ removed: 150, more: true });
    removed.length = 0;
    expect(await expireFinished(deps, cutoff, 151)).toEqual({ removed: 150, more: false });
  });

  it('finds nothing in a spool without folders', async () => {
    const deps: ExpiryDeps = {
      root: join(root, 'missing'),
      waiting: () => false,
      load: () => Promise.resolve(undefined),
      remove: () => Promise.resolve(true),
      unwritten: [],
    };
    expect(await expireFinished(deps, cutoff, 10)).toEqual({ removed: 0, more: false });
  });
});
