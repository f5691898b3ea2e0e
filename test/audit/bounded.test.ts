import { BehaviorSubject, Subject } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { dropOldest } from '../../src/audit/bounded.js';
import { createRing } from '../../src/audit/ring.js';

describe('createRing', () => {
  it('overwrites the oldest entry when full', () => {
    const ring = createRing<number>(3);
    expect([1, 2, 3, 4, 5].map((n) => ring.push(n))).toEqual([false, false, false, true, true]);
    expect(ring.toArray()).toEqual([3, 4, 5]);
    expect(ring.shift()).toBe(3);
    ring.push(6);
    expect(ring.toArray()).toEqual([4, 5, 6]);
    ring.clear();
    expect(ring.size).toBe(0);
    expect(ring.shift()).toBeUndefined();
  });
});

describe('dropOldest with a synchronous writer', () => {
  /** A consumer like a socket: `write` fills a buffer of `room` items and reports not-ready when full. */
  function socketLike(room: number) {
    const ready$ = new BehaviorSubject(true);
    const written: number[] = [];
    let buffered = 0;
    return {
      ready$,
      written,
      write(n: number) {
        written.push(n);
        buffered += 1;
        if (buffered >= room) ready$.next(false);
      },
      drain() {
        buffered = 0;
        ready$.next(true);
      },
    };
  }

  it('stops draining the moment write() reports the consumer full, and resumes on drain', () => {
    const source = new Subject<number>();
    const socket = socketLike(2);
    const drops: number[] = [];
    source.pipe(dropOldest(3, (n) => drops.push(n), socket.ready$)).subscribe((n) => socket.write(n));

    for (let i = 1; i <= 10; i++) source.next(i);
    // 1 and 2 fill the socket; 3..10 go to a ring of 3: 8, 9, 10 survive.
    expect(socket.written).toEqual([1, 2]);
    expect(drops.reduce((a, b) => a + b, 0)).toBe(5);

    socket.drain(); // room for two: 8, 9 — then full again
    expect(socket.written).toEqual([1, 2, 8, 9]);
    socket.drain();
    expect(socket.written).toEqual([1, 2, 8, 9, 10]);
    source.next(11);
    expect(socket.written).toEqual([1, 2, 8, 9, 10, 11]);
  });

  it('never makes the publisher wait, and memory stays at capacity', () => {
    const source = new Subject<number>();
    const ready$ = new BehaviorSubject(false); // a client that never reads
    let dropped = 0;
    const got: number[] = [];
    source.pipe(dropOldest(100, (n) => (dropped += n), ready$)).subscribe((n) => got.push(n));
    for (let i = 0; i < 100_000; i++) source.next(i);
    expect(got).toEqual([]);
    expect(dropped).toBe(99_900);
    ready$.next(true);
    expect(got).toHaveLength(100);
    expect(got[0]).toBe(99_900);
  });

  it('keeps order when the consumer publishes again from inside next()', () => {
    const source = new Subject<number>();
    const ready$ = new BehaviorSubject(false);
    const got: number[] = [];
    source.pipe(dropOldest(10, () => undefined, ready$)).subscribe((n) => {
      got.push(n);
      if (n === 1) source.next(3);
    });
    source.next(1);
    source.next(2);
    ready$.next(true);
    expect(got).toEqual([1, 2, 3]);
  });
});
