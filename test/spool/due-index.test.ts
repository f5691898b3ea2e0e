import { describe, expect, it } from 'vitest';
import { DueIndex, type DueEntry } from '../../src/spool/file/due-index.js';
import { decodeJournal, encodeJournalRecord, type JournalRecord } from '../../src/spool/file/due-journal.js';
import { joinId, splitId } from '../../src/spool/file/message-ids.js';
import { newMessageId } from '../../src/spool/id.js';
import { seeded } from '../helpers/random.js';

const T0 = Date.UTC(2026, 11, 6, 12, 0, 0);
const idAt = (ms: number, n: number): string => joinId(ms, n);
const entry = (id: string, due: number, domains: [string, number][] = [['example.test', 1]], last = due): DueEntry => ({
  id,
  due,
  last,
  domains,
});

describe('message ids as numbers', () => {
  it('splits an id into its time and random halves and joins it back', () => {
    const id = newMessageId(T0);
    const { time, random } = splitId(id);
    expect(time).toBe(T0);
    expect(joinId(time, random)).toBe(id);
    expect(Number.isNaN(splitId('not an id at all!!!!').time)).toBe(true);
  });
});

describe('DueIndex', () => {
  it('pops what is due, earliest first and the older message first on a tie, and nothing before its time', () => {
    const index = new DueIndex();
    index.set(entry(idAt(T0 + 2, 1), T0 + 500));
    index.set(entry(idAt(T0 + 1, 1), T0 + 100));
    index.set(entry(idAt(T0 + 3, 1), T0 + 100));
    index.set(entry(idAt(T0 + 0, 1), T0 + 900));
    expect(index.nextDue()).toBe(T0 + 100);
    expect(index.popDue(T0 + 99, 10)).toEqual([]);
    expect(index.popDue(T0 + 500, 10).map((p) => p.id)).toEqual([idAt(T0 + 1, 1), idAt(T0 + 3, 1), idAt(T0 + 2, 1)]);
    expect(index.nextDue()).toBe(T0 + 900);
    expect(index.size).toBe(4); // claimed ones are still counted
  });

  it('keeps a claim through changes, and releases it at its next attempt or not before a given time', () => {
    const index = new DueIndex();
    const id = idAt(T0, 7);
    index.set(entry(id, T0, [['a.test', 2]]));
    expect(index.popDue(T0, 1).map((p) => p.id)).toEqual([id]);
    index.set(entry(id, T0 + 60_000, [['a.test', 1]])); // one recipient delivered, one deferred
    expect(index.isClaimed(id)).toBe(true);
    expect(index.nextDue()).toBeUndefined();
    expect(index.depth).toBe(1);
    index.release(id, T0 + 90_000);
    expect(index.nextDue()).toBe(T0 + 90_000);
    expect(index.popDue(T0 + 89_999, 1)).toEqual([]);
    expect(index.popDue(T0 + 90_000, 1).map((p) => p.id)).toEqual([id]);
    index.release(id);
    expect(index.nextDue()).toBe(T0 + 90_000);
  });

  it('drops a message with no waiting recipients, claimed or not', () => {
    const index = new DueIndex();
    const a = idAt(T0, 1);
    const b = idAt(T0, 2);
    index.set(entry(a, T0));
    index.set(entry(b, T0));
    index.popDue(T0, 1);
    index.set(entry(a, T0, []));
    index.drop(b);
    expect(index.size).toBe(0);
    expect(index.depth).toBe(0);
    expect(index.popDue(T0, 10)).toEqual([]);
    index.release(a); // a no-op once dropped
    expect(index.nextDue()).toBeUndefined();
  });

  it('ignores a drop, release or force of an id it does not hold, and the next messages are claimed as usual', () => {
    const index = new DueIndex();
    const gone = idAt(T0, 9); // a finished message removed or expired: never in the index
    index.drop(gone);
    index.release(gone);
    expect(index.force(T0, gone)).toEqual({ moved: 0, partly: [] });
    const a = idAt(T0, 1);
    const b = idAt(T0 + 1, 2);
    index.set(entry(a, T0));
    index.set(entry(b, T0));
    expect([index.size, index.depth]).toEqual([2, 2]);
    expect(index.popDue(T0, 10).map((p) => p.id)).toEqual([a, b]);
  });

  it('claims a message stored after a drop and a retry of all, in the slot the drop freed', () => {
    const index = new DueIndex();
    const a = idAt(T0, 1);
    const b = idAt(T0, 2);
    index.set(entry(a, T0 + 60_000));
    index.set(entry(b, T0 + 60_000));
    index.drop(b);
    index.force(T0); // every message due now: the heap is put in order again
    const c = idAt(T0 + 1, 3); // takes b's slot
    index.set(entry(c, T0));
    expect(
      index
        .popDue(T0, 10)
        .map((p) => p.id)
        .sort(),
    ).toEqual([a, c].sort());
  });

  it('forces one or all unclaimed messages due now, once, and tells the claim to take every waiting recipient', () => {
    const index = new DueIndex();
    const a = idAt(T0, 1);
    const b = idAt(T0, 2);
    const c = idAt(T0, 3);
    const d = idAt(T0, 4);
    index.set(entry(a, T0 + 3_600_000, [['x.test', 2]]));
    index.set(entry(b, T0 + 7_200_000, [['y.test', 1]]));
    index.set(entry(c, T0 - 1));
    index.set(entry(d, T0 - 1, [['z.test', 2]], T0 + 60_000)); // one recipient due, one later
    index.popDue(T0, 1); // c is being delivered
    expect(index.force(T0, c)).toEqual({ moved: 0, partly: [] });
    expect(index.force(T0, b)).toEqual({ moved: 1, partly: [] });
    expect(index.force(T0, b)).toEqual({ moved: 0, partly: [] });
    expect(index.force(T0)).toEqual({ moved: 2, partly: [d] });
    expect(index.force(T0)).toEqual({ moved: 0, partly: [] });
    expect(index.popDue(T0, 10)).toEqual([
      { id: d, forced: true },
      { id: a, forced: true },
      { id: b, forced: true },
    ]);
  });

  it('shapes waiting recipients by domain and minute of arrival, and pages ids oldest first', () => {
    const index = new DueIndex();
    index.set(
      entry(idAt(T0 + 61_000, 1), T0, [
        ['one.test', 2],
        ['two.test', 1],
      ]),
    );
    index.set(entry(idAt(T0 + 1_000, 1), T0, [['one.test', 1]]));
    index.set(entry(idAt(T0 + 2_000, 1), T0, [['one.test', 4]]));
    const cells = index.shape().sort((x, y) => x.domain.localeCompare(y.domain) || x.minute - y.minute);
    expect(cells).toEqual([
      { domain: 'one.test', minute: T0, recipients: 5 },
      { domain: 'one.test', minute: T0 + 60_000, recipients: 2 },
      { domain: 'two.test', minute: T0 + 60_000, recipients: 1 },
    ]);
    expect(index.page(undefined, 2)).toEqual([idAt(T0 + 1_000, 1), idAt(T0 + 2_000, 1)]);
    expect(index.page(idAt(T0 + 2_000, 1), 2)).toEqual([idAt(T0 + 61_000, 1)]);
  });

  it('agrees with a plain model (due order, depth, oldest arrival) through 20,000 random operations across growth and deletions', () => {
    const random = seeded(42);
    const index = new DueIndex();
    const model = new Map<string, { due: number; waiting: number; claimed: boolean }>();
    const ids: string[] = [];
    let now = T0;
    for (let step = 0; step < 20_000; step++) {
      const r = random();
      now += Math.floor(random() * 10);
      if (r < 0.45 || ids.length === 0) {
        const id = idAt(T0 + Math.floor(random() * 1e6), Math.floor(random() * 2 ** 50));
        const waiting = 1 + Math.floor(random() * 3);
        const due = now + Math.floor(random() * 2_000) - 500;
        if (model.has(id)) continue;
        ids.push(id);
        index.set(entry(id, due, [['d.test', waiting]]));
        model.set(id, { due, waiting, claimed: false });
      } else if (r < 0.6) {
        const id = ids.splice(Math.floor(random() * ids.length), 1)[0] ?? '';
        index.drop(id);
        model.delete(id);
      } else if (r < 0.85) {
        const limit = 1 + Math.floor(random() * 5);
        const expected = [...model]
          .filter(([, m]) => !m.claimed && m.due <= now)
          .sort(
            ([ia, a], [ib, b]) =>
              a.due - b.due || splitId(ia).time - splitId(ib).time || splitId(ia).random - splitId(ib).random,
          )
          .slice(0, limit)
          .map(([id]) => id);
        expect(index.popDue(now, limit).map((p) => p.id)).toEqual(expected);
        for (const id of expected) (model.get(id) as { claimed: boolean }).claimed = true;
      } else {
        const claimed = [...model].filter(([, m]) => m.claimed);
        const pick = claimed[Math.floor(random() * claimed.length)];
        if (!pick) continue;
        const notBefore = now + Math.floor(random() * 1_000);
        index.release(pick[0], notBefore);
        pick[1].claimed = false;
        pick[1].due = Math.max(pick[1].due, notBefore);
      }
      if (step % 1000 === 0) {
        expect(index.size).toBe(model.size);
        expect(index.depth).toBe([...model.values()].reduce((sum, m) => sum + m.waiting, 0));
        for (const id of ids.slice(0, 50)) expect(index.has(id)).toBe(true);
        const times = [...model.keys()].map((id) => splitId(id).time);
        expect(index.oldest()).toBe(times.length > 0 ? Math.min(...times) : undefined);
      }
    }
    const unclaimed = [...model.values()].filter((m) => !m.claimed).map((m) => m.due);
    expect(index.nextDue()).toBe(unclaimed.length > 0 ? Math.min(...unclaimed) : undefined);
    expect([...index.entries()].length).toBe(model.size);
    for (const id of [...model.keys()]) index.drop(id);
    expect(index.oldest()).toBeUndefined();
  });
});

describe('due journal records', () => {
  it('round-trips set and drop records, and stops at a torn or corrupt tail', () => {
    const records: JournalRecord[] = [
      {
        kind: 'set',
        entry: entry(
          idAt(T0, 1),
          T0 + 5,
          [
            ['one.test', 3],
            ['zwei.example', 1],
          ],
          T0 + 90_000,
        ),
      },
      { kind: 'drop', id: idAt(T0, 2) },
      { kind: 'set', entry: entry(idAt(T0, 3), T0, [['ünïcode.test', 1]]) },
    ];
    const data = Buffer.concat(records.map(encodeJournalRecord));
    expect(decodeJournal(data)).toEqual({ records, validBytes: data.length });
    const torn = data.subarray(0, data.length - 3);
    expect(decodeJournal(torn).records).toEqual(records.slice(0, 2));
    const corrupt = Buffer.from(data);
    corrupt.writeUInt8((corrupt.at(-1) ?? 0) ^ 0xff, corrupt.length - 1);
    expect(decodeJournal(corrupt).records).toEqual(records.slice(0, 2));
  });
});
