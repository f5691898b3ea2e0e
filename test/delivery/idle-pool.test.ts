/**
 * The parking lot under the connection pool (src/delivery/idle-pool.ts):
 * the most recent connection first, at most maxIdlePerKey per key, idle
 * connections disposed when their time runs out, and no key kept once it
 * holds nothing (memory follows what is parked, not every destination ever
 * mailed).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { IdlePool } from '../../src/delivery/idle-pool.js';
import { eventually } from '../helpers/eventually.js';

const pools: IdlePool<string>[] = [];
afterEach(() => {
  for (const p of pools.splice(0)) p.clear();
});

function lot(idleTimeoutMs = 60_000, maxIdlePerKey = 2): { pool: IdlePool<string>; disposed: string[] } {
  const disposed: string[] = [];
  const pool = new IdlePool<string>({ idleTimeoutMs, maxIdlePerKey }, (c) => disposed.push(c));
  pools.push(pool);
  return { pool, disposed };
}

describe('IdlePool', () => {
  it('gives back the most recently parked connection of a key, and lets an emptied key go', () => {
    const { pool, disposed } = lot();
    pool.put('a', 'a1');
    pool.put('a', 'a2');
    pool.put('b', 'b1');
    expect([pool.size, pool.keys]).toEqual([3, 2]);
    expect(pool.take('a')).toBe('a2');
    expect(pool.take('a')).toBe('a1');
    expect(pool.keys).toBe(1);
    expect(pool.take('a')).toBeUndefined();
    expect(pool.take('nothing')).toBeUndefined();
    expect(pool.keys).toBe(1);
    expect(disposed).toEqual([]);
  });

  it('disposes a connection past maxIdlePerKey at once', () => {
    const { pool, disposed } = lot(60_000, 1);
    pool.put('a', 'a1');
    pool.put('a', 'a2');
    expect(disposed).toEqual(['a2']);
    expect(pool.size).toBe(1);
  });

  it('forgets a connection that died while parked, its key with it when it was the last', () => {
    const { pool, disposed } = lot();
    pool.put('a', 'a1');
    pool.put('a', 'a2');
    pool.forget('a1');
    expect([pool.size, pool.keys]).toEqual([1, 1]);
    pool.forget('a2');
    pool.forget('never parked');
    expect([pool.size, pool.keys]).toEqual([0, 0]);
    expect(disposed).toEqual([]);
  });

  it('disposes a connection whose idle time ran out, and not one taken before', async () => {
    const { pool, disposed } = lot(20);
    pool.put('b', 'b1'); // its timer is set first, so it would fire first
    pool.put('a', 'a1');
    expect(pool.take('b')).toBe('b1');
    await eventually(() => disposed.length > 0);
    expect(disposed).toEqual(['a1']);
    expect([pool.size, pool.keys]).toEqual([0, 0]);
  });

  it('disposes everything parked on clear', () => {
    const { pool, disposed } = lot();
    pool.put('a', 'a1');
    pool.put('b', 'b1');
    pool.clear();
    expect(disposed.sort()).toEqual(['a1', 'b1']);
    expect([pool.size, pool.keys]).toEqual([0, 0]);
  });
});
