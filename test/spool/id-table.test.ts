/**
 * The due index's id table (src/spool/file/id-table.ts), checked against a
 * Map through long random sequences of inserts and removals: every id is
 * found at its slot until removed, and never after, across growth and runs
 * of probes that wrap past the end of the table.
 */
import { describe, expect, it } from 'vitest';
import { IdTable } from '../../src/spool/file/id-table.js';
import { seeded } from '../helpers/random.js';

describe('id table', () => {
  it.each([1, 2, 3])('agrees with a Map through inserts and removals (seed %i)', (seed) => {
    const next = seeded(seed);
    const keys: { time: number; random: number }[] = [];
    const table = new IdTable((slot) => keys[slot] ?? { time: -1, random: -1 });
    const live = new Map<string, number>();
    for (let step = 0; step < 6_000; step++) {
      if (live.size < 400 || next() < 0.5) {
        // many ids in one millisecond, as a burst of mail makes them
        const key = { time: 1_765_000_000_000 + Math.floor(next() * 4), random: Math.floor(next() * 2 ** 40) };
        const slot = keys.length;
        keys.push(key);
        table.insert(slot, key.time, key.random);
        live.set(`${key.time}:${key.random}`, slot);
      } else {
        const entries = [...live.entries()];
        const [name, slot] = entries[Math.floor(next() * entries.length)] ?? ['', -1];
        const key = keys[slot];
        if (!key) throw new Error('no key');
        table.remove(key.time, key.random);
        live.delete(name);
        expect(table.find(key.time, key.random)).toBe(-1);
      }
      if (step % 500 === 0) {
        for (const [name, slot] of live) {
          const [time, rnd] = name.split(':').map(Number);
          expect(table.find(time ?? 0, rnd ?? 0)).toBe(slot);
        }
      }
    }
    expect(table.size).toBe(live.size);
    for (const [name, slot] of live) {
      const [time, rnd] = name.split(':').map(Number);
      expect(table.find(time ?? 0, rnd ?? 0)).toBe(slot);
    }
  });

  it('ignores the removal of an id it does not hold', () => {
    const keys = [{ time: 1, random: 2 }];
    const table = new IdTable((slot) => keys[slot] ?? { time: -1, random: -1 });
    table.insert(0, 1, 2);
    table.remove(3, 4);
    expect(table.size).toBe(1);
    expect(table.find(1, 2)).toBe(0);
  });
});
