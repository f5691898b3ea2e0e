/**
 * One destination's FIFO and pace (destination-queue.ts): jobs come out in
 * order whatever the queue lets go of as it goes, and the pace is trusted
 * only after enough finished attempts.
 */
import { describe, expect, it } from 'vitest';
import { DestinationQueue } from '../../src/queue/destination-queue.js';

const limits = { initial: 2, max: 10, deadMs: 1_000 };

describe('DestinationQueue', () => {
  it('gives jobs back first in, first out, and counts those waiting', () => {
    const q = new DestinationQueue<number>('d.test', limits);
    for (let i = 0; i < 10; i += 1) q.push(i);
    const taken: number[] = [];
    for (let i = 0; i < 4; i += 1) taken.push(q.take());
    expect(taken).toEqual([0, 1, 2, 3]);
    expect(q.waiting).toBe(6);
    for (let i = 10; i < 13; i += 1) q.push(i);
    while (q.waiting > 0) taken.push(q.take());
    expect(taken).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    q.push(13);
    expect([q.waiting, q.take(), q.waiting]).toEqual([1, 13, 0]);
  });

  it('takes out all waiting jobs, or those beyond the first few', () => {
    const q = new DestinationQueue<string>('d.test', limits);
    for (const job of ['a', 'b', 'c', 'd', 'e']) q.push(job);
    expect(q.take()).toBe('a');
    expect(q.takeBeyond(2)).toEqual(['d', 'e']);
    expect(q.waiting).toBe(2);
    expect(q.takeAll()).toEqual(['b', 'c']);
    expect(q.waiting).toBe(0);
    q.push('f');
    expect(q.take()).toBe('f');
  });

  it('trusts its measured pace after 20 finished attempts, and a rate limit before', () => {
    const q = new DestinationQueue<string>('d.test', limits);
    expect(q.perJob(0)).toBe(0);
    expect(q.perJob(250)).toBe(250);
    for (let i = 1; i <= 19; i += 1) q.finished(i * 100, (i - 1) * 100);
    expect(q.perJob(0)).toBe(0); // 19 finished: not yet trusted
    q.finished(2_000, 1_900);
    expect(q.perJob(0)).toBeCloseTo(100, 6); // one every 100 ms
    expect(q.perJob(500)).toBe(500); // a slower rate limit wins
  });

  it('does not count an idle spell as slowness', () => {
    const q = new DestinationQueue<string>('d.test', limits);
    for (let i = 1; i <= 20; i += 1) q.finished(i * 100, (i - 1) * 100);
    // a job that started long after the last one finished took 100 ms: the pace stays 100 ms
    q.finished(60_100, 60_000);
    expect(q.perJob(0)).toBeCloseTo(100, 6);
    // a slow attempt moves the average by a tenth of its excess
    q.finished(61_100, 60_100);
    expect(q.perJob(0)).toBeCloseTo(190, 6);
  });
});
