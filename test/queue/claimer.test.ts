/**
 * The claim loop (claimer.ts) over a real file spool, in real time with
 * short floors: batches that start small and double, spool trouble retried
 * after the floor (not in a hot loop), a full window woken by a release, and
 * the backlog signal at most once per interval.
 */
import { ReplaySubject, Subject, filter, firstValueFrom, take, toArray } from 'rxjs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ClaimedMessage } from '../../src/domain/delivery.js';
import { Claimer, type ClaimerOptions } from '../../src/queue/claimer.js';
import type { Spool } from '../../src/spool/spool.js';
import { storeMessage, tempFileSpool, type TempSpool } from '../helpers/spool.js';

let temp: TempSpool;
let spool: Spool;
const stop$ = new Subject<void>();

beforeEach(async () => {
  temp = await tempFileSpool('gp-claimer-');
  spool = temp.spool;
});

afterEach(async () => {
  stop$.next();
  await temp.close();
});

async function storeMany(count: number): Promise<void> {
  for (let i = 0; i < count; i += 1) {
    await storeMessage(spool, [`r${i}@d.test`], 'Subject: x\r\n\r\nx\r\n');
  }
}

function claimer(overrides: Partial<ClaimerOptions> = {}): Claimer {
  return new Claimer({
    spool,
    room: () => 1_000,
    clock: Date.now,
    batch: 20,
    safetyTickMs: 60_000, // never within a test: every claim here is woken by something else
    recheckFloorMs: 100,
    stop$,
    ...overrides,
  });
}

const nonEmpty = filter((batch: readonly ClaimedMessage[]) => batch.length > 0);

describe('Claimer', () => {
  it('claims 16 first, then doubles up to the batch while claims come back full', async () => {
    await storeMany(40);
    const sizes = await firstValueFrom(claimer().claimed$.pipe(nonEmpty, take(3), toArray()));
    expect(sizes.map((batch) => batch.length)).toEqual([16, 20, 4]);
  });

  it('looks again after the floor when the spool fails, not at once', async () => {
    await storeMany(1);
    let failures = 0;
    const claims: number[] = [];
    const flaky: ClaimerOptions['spool'] = {
      wake$: spool.wake$,
      nextDueAt: () => spool.nextDueAt(),
      claim: (now, limit) => {
        claims.push(Date.now());
        if (failures++ === 0) return Promise.reject(new Error('EIO: i/o error'));
        return spool.claim(now, limit);
      },
    };
    const [batch] = await firstValueFrom(claimer({ spool: flaky }).claimed$.pipe(nonEmpty, take(1), toArray()));
    expect(batch?.map((claimed) => claimed.due[0]?.recipient)).toEqual(['r0@d.test']);
    expect(claims).toHaveLength(2);
    expect((claims[1] ?? 0) - (claims[0] ?? 0)).toBeGreaterThanOrEqual(95); // the floor, give or take a timer tick
  });

  it('claims again when a message leaves a full window', async () => {
    await storeMany(1);
    let room = 0;
    const c = claimer({ room: () => room });
    const seen = new ReplaySubject<readonly ClaimedMessage[]>(10);
    c.claimed$.subscribe(seen);
    // the window is full: the first claim finds no room and waits for a release (the safety tick is a minute off)
    expect(await firstValueFrom(seen)).toEqual([]);
    room = 10;
    c.released();
    const claimed = await firstValueFrom(seen.pipe(nonEmpty));
    expect(claimed.map((m) => m.due[0]?.recipient)).toEqual(['r0@d.test']);
  });

  it('signals a backlog when the window is full and mail is due, at most once per interval', async () => {
    await storeMany(1);
    const c = claimer({ room: () => 0, backlogEveryMs: 150, safetyTickMs: 10 });
    const signals: number[] = [];
    c.claimed$.subscribe();
    await firstValueFrom(
      c.backlog$.pipe(
        filter(() => signals.push(Date.now()) >= 3),
        take(1),
      ),
    );
    // every 10 ms tick finds the window full; only one look per 150 ms may signal
    expect(signals[1]! - signals[0]!).toBeGreaterThanOrEqual(100);
    expect(signals[2]! - signals[1]!).toBeGreaterThanOrEqual(100);
  });

  it('does not signal a backlog when nothing outside the window is due', async () => {
    await storeMany(1);
    expect(await spool.claim(Date.now(), 10)).toHaveLength(1); // the only message is held by another claim
    let signals = 0;
    const c = claimer({ room: () => 0, backlogEveryMs: 0, safetyTickMs: 10 });
    c.backlog$.subscribe(() => (signals += 1));
    const seen = new ReplaySubject<readonly ClaimedMessage[]>(10);
    c.claimed$.subscribe(seen);
    expect(await firstValueFrom(seen.pipe(take(5), toArray()))).toEqual([[], [], [], [], []]);
    expect(signals).toBe(0);
  });
});
