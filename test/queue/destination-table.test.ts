/**
 * The dispatcher's table of destinations stays bounded (destination-table.ts):
 * past 10,000 known destinations an idle one is dropped as it finishes, and a
 * new one first sweeps out those with nothing running, waiting or to enforce;
 * the next sweep waits until the table has doubled.
 */
import { describe, expect, it } from 'vitest';
import { DestinationTable } from '../../src/queue/destination-table.js';

const limits = { initial: 2, max: 10, deadMs: 1_000 };
const KEPT = 10_000;
const now = (): number => 1_000;

function filled(count: number, from = 0): DestinationTable<string> {
  const table = new DestinationTable<string>(limits);
  for (let i = from; i < from + count; i += 1) table.obtain(`d${i}`, now);
  return table;
}

describe('DestinationTable', () => {
  it('gives the same destination for a key until it is dropped', () => {
    const table = new DestinationTable<string>(limits);
    const d = table.obtain('a', now);
    expect(table.obtain('a', now)).toBe(d);
    expect(table.get('a')).toBe(d);
    expect(table.get('b')).toBeUndefined();
  });

  it('sweeps out inactive destinations when a new one comes past 10,000, keeping what still matters', () => {
    const table = filled(KEPT);
    const waiting = table.obtain('d1', now);
    waiting.push('job');
    const running = table.obtain('d2', now);
    running.state = { ...running.state, running: 1 };
    const dead = table.obtain('d3', now);
    dead.state = { ...dead.state, deadUntil: 5_000 };
    const slotAhead = table.obtain('d4', now);
    slotAhead.state = { ...slotAhead.state, nextStartAt: 2_000 };
    const slotNow = table.obtain('d5', now);
    slotNow.state = { ...slotNow.state, nextStartAt: 1_000 }; // its slot has come: nothing to enforce
    const narrowed = table.obtain('d6', now);
    narrowed.state = { ...narrowed.state, window: 1, failures: 2 }; // learnt again if it comes back
    expect(table.get('d0')).toBeDefined(); // 10,000 known: no sweep yet
    table.obtain('new', now);
    expect(['d0', 'd1', 'd2', 'd3', 'd4', 'd5', 'd6', 'd9999', 'new'].map((k) => table.get(k) !== undefined)).toEqual([
      false,
      true,
      true,
      true,
      true,
      false,
      false,
      false,
      true,
    ]);
  });

  it('waits for the table to double before the next sweep', () => {
    const table = filled(KEPT);
    for (let i = 0; i < 6_000; i += 1) table.obtain(`d${i}`, now).push('job'); // busy: kept by the sweep
    table.obtain('first-new', now); // sweeps out the 4,000 idle ones: 6,001 left, the next sweep at 12,000
    expect(table.get('d6000')).toBeUndefined();
    for (let i = 0; i < 5_999; i += 1) table.obtain(`e${i}`, now); // 12,000 known
    expect([table.get('e0') !== undefined, table.get('first-new') !== undefined]).toEqual([true, true]);
    table.obtain('f', now); // a sweep first: the idle ones go
    expect([table.get('e0'), table.get('first-new')]).toEqual([undefined, undefined]);
    expect([table.get('d0') !== undefined, table.get('f') !== undefined]).toEqual([true, true]);
  });

  it('drops an idle destination as it finishes only while more than 10,000 are known', () => {
    const table = new DestinationTable<string>(limits);
    for (let i = 0; i < KEPT; i += 1) table.obtain(`busy${i}`, now).push('job');
    const extra = table.obtain('extra', now); // 10,001 (the sweep found nothing to forget)
    const busy0 = table.obtain('busy0', now);
    expect(table.dropIfIdle(busy0, 1_000)).toBe(false); // a job waits
    busy0.take();
    busy0.state = { ...busy0.state, failures: 1 };
    expect(table.dropIfIdle(busy0, 1_000)).toBe(false); // not idle: its failures are worth keeping
    busy0.state = { ...busy0.state, failures: 0 };
    expect(table.dropIfIdle(busy0, 1_000)).toBe(true);
    expect(table.get('busy0')).toBeUndefined();
    expect(table.dropIfIdle(extra, 1_000)).toBe(false); // exactly 10,000 known now
    expect(table.get('extra')).toBe(extra);
  });
});
