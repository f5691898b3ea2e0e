/**
 * The claim loop (claimer.ts) over a real file spool, in real time with
 * short floors: batches that start small and double, spool trouble retried
 * after the floor (not in a hot loop), a full window woken by a release (and
 * only a full one), mail due soon claimed at its time, a short claim followed
 * at once, and the backlog signal at most once per interval.
 */
import { ReplaySubject, Subject, filter, firstValueFrom, take, timeout, toArray } from 'rxjs';
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

/** The real spool with each claim's wall-clock time noted; `hold` makes claims find nothing (another node took it). */
function noted(options: { hold?: boolean; nextDueFails?: boolean } = {}): {
  spool: ClaimerOptions['spool'];
  claims: number[];
  claim$: Subject<number>;
} {
  const claims: number[] = [];
  const claim$ = new Subject<number>();
  return {
    claims,
    claim$,
    spool: {
      wake$: spool.wake$,
      nextDueAt: () => (options.nextDueFails ? Promise.reject(new Error('EIO: i/o error')) : spool.nextDueAt()),
      claim: (now, limit) => {
        claims.push(Date.now());
        claim$.next(claims.length);
        return options.hold ? Promise.resolve([]) : spool.claim(now, limit);
      },
    },
  };
}

/** Fails a wait that would otherwise last until the test's own timeout. */
const within = <T>(ms: number) => timeout<T, T>({ first: ms });

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

  it.each([
    [
      'nothing outside the window is due',
      async () => {
        await storeMany(1);
        expect(await spool.claim(Date.now(), 10)).toHaveLength(1); // the only message is held by another claim
      },
    ],
    ['nothing at all is due', async () => undefined],
    [
      'the next mail is due only later',
      async () => {
        await storeMessage(spool, ['later@d.test'], 'Subject: x\r\n\r\nx\r\n', { receivedAt: Date.now() + 3_600_000 });
      },
    ],
  ])('does not signal a backlog when %s', async (_when, setUp) => {
    await setUp();
    let signals = 0;
    const c = claimer({ room: () => 0, backlogEveryMs: 0, safetyTickMs: 10 });
    c.backlog$.subscribe(() => (signals += 1));
    const seen = new ReplaySubject<readonly ClaimedMessage[]>(10);
    c.claimed$.subscribe(seen);
    expect(await firstValueFrom(seen.pipe(take(5), toArray()))).toEqual([[], [], [], [], []]);
    expect(signals).toBe(0);
  });

  it('doubles the batch only as far as the batch limit', async () => {
    await storeMany(90);
    const sizes = await firstValueFrom(claimer({ batch: 40 }).claimed$.pipe(nonEmpty, take(4), toArray()));
    expect(sizes.map((batch) => batch.length)).toEqual([16, 32, 40, 2]);
  });

  it('claims on a release only when the last claim found the window full, and once per full window', async () => {
    const n = noted();
    let room = 1_000;
    const c = claimer({ spool: n.spool, room: () => room });
    const seen = new ReplaySubject<readonly ClaimedMessage[]>(10);
    c.claimed$.subscribe(seen);
    expect(await firstValueFrom(seen)).toEqual([]); // the first claim: nothing stored yet
    // a claim starts synchronously on a wake, so its count can be read at once
    c.released();
    expect(n.claims).toHaveLength(1); // the window was not full: nothing to wake
    room = 0;
    await storeMany(1); // the spool's wake: a look that finds no room, and asks the spool nothing
    expect(await firstValueFrom(seen.pipe(take(2), toArray(), within(3_000)))).toEqual([[], []]);
    room = 10;
    c.released();
    expect(n.claims).toHaveLength(2); // full: the release claims
    expect((await firstValueFrom(seen.pipe(nonEmpty))).map((m) => m.due[0]?.recipient)).toEqual(['r0@d.test']);
    c.released();
    expect(n.claims).toHaveLength(2); // that claim found room: a second release wakes nothing
  });

  it('looks again after the floor when the spool cannot say what is due next', async () => {
    const n = noted({ nextDueFails: true });
    const two = firstValueFrom(n.claim$.pipe(take(2), toArray(), within(3_000)));
    claimer({ spool: n.spool }).claimed$.subscribe();
    await two;
    expect((n.claims[1] ?? 0) - (n.claims[0] ?? 0)).toBeGreaterThanOrEqual(95);
  });

  it('does not spin when mail is due now but every claim comes back empty', async () => {
    await storeMany(1);
    const due = (await spool.nextDueAt()) ?? 0;
    const n = noted({ hold: true });
    // the clock stands at the due time exactly: "due now", and nothing to claim
    const three = firstValueFrom(n.claim$.pipe(take(3), toArray(), within(3_000)));
    claimer({ spool: n.spool, clock: () => due }).claimed$.subscribe();
    await three;
    expect((n.claims[1] ?? 0) - (n.claims[0] ?? 0)).toBeGreaterThanOrEqual(95);
    expect((n.claims[2] ?? 0) - (n.claims[1] ?? 0)).toBeGreaterThanOrEqual(95);
  });

  it('looks again at once when a claim came back short but more is due now', async () => {
    await storeMany(2);
    // a spool that hands out one message per claim (as when another node took part of the batch); the floor is 10 s
    const oneAtATime: ClaimerOptions['spool'] = {
      wake$: spool.wake$,
      nextDueAt: () => spool.nextDueAt(),
      claim: (now) => spool.claim(now, 1),
    };
    const c = claimer({ spool: oneAtATime, recheckFloorMs: 10_000 });
    const batches = await firstValueFrom(c.claimed$.pipe(nonEmpty, take(2), toArray(), within(5_000)));
    // both are due at the same time: either may come first
    expect(batches.map((batch) => batch.length)).toEqual([1, 1]);
    expect(batches.flatMap((batch) => batch.map((m) => m.due[0]?.recipient)).sort()).toEqual([
      'r0@d.test',
      'r1@d.test',
    ]);
  });

  it('claims mail due soon at its time, not after the floor', async () => {
    await storeMessage(spool, ['soon@d.test'], 'Subject: x\r\n\r\nx\r\n', { receivedAt: Date.now() });
    const due = (await spool.nextDueAt()) ?? 0;
    // the claimer's clock runs so far behind that the message is due a second after its first claim; the floor is 10 s
    const behind = Date.now() - due + 1_000;
    const c = claimer({ clock: () => Date.now() - behind, recheckFloorMs: 10_000 });
    const [batch] = await firstValueFrom(c.claimed$.pipe(nonEmpty, take(1), toArray(), within(5_000)));
    expect(batch?.map((m) => m.due[0]?.recipient)).toEqual(['soon@d.test']);
  });

  it('signals a backlog for mail due at this very moment, and again once the interval has passed exactly', async () => {
    await storeMany(1);
    let now = (await spool.nextDueAt()) ?? 0;
    const c = claimer({ room: () => 0, backlogEveryMs: 1_000, safetyTickMs: 10, clock: () => now });
    const signals = new ReplaySubject<number>(10);
    c.backlog$.subscribe(() => signals.next(now));
    c.claimed$.subscribe();
    expect(await firstValueFrom(signals.pipe(within(3_000)))).toBe(now);
    now += 1_000;
    expect(await firstValueFrom(signals.pipe(take(2), toArray(), within(3_000)))).toEqual([now - 1_000, now]);
  });
});
