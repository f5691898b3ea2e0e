/**
 * The dispatcher on virtual time. Jobs are letters; each job's attempt is a
 * cold observable that emits the job's letter when it ends (so an output `a`
 * is "a's attempt ended", and the attempt's subscription shows when it ran).
 * A job that is not run comes out as `{ id, why }` (dead or busy).
 */
import { Observable, Subject, filter, from, map, of, timer } from 'rxjs';
import type { ObservableInput, SchedulerAction, SchedulerLike, Subscription } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { dispatch, type DispatchOptions, type Skip } from '../../src/queue/dispatch.js';
import type { Feedback } from '../../src/queue/destination-state.js';

type Outcome = 'answered' | 'failed' | 'none';

interface Spec {
  readonly dest: string;
  /** How long the attempt takes (default 10 ms). */
  readonly ms?: number;
  /** What the attempt tells about its destination (default answered). */
  readonly outcome?: Outcome;
  /** The attempt's own marble instead of `<ms>ms (r|)`. */
  readonly attempt?: string;
  /** The attempt ends at once, synchronously (`of`). */
  readonly sync?: boolean;
  /** `run` throws instead of returning an attempt. */
  readonly throws?: boolean;
}

type Skipped = { readonly id: string; readonly why: Skip };
type Result = string | Skipped;

const REASON = 'connect ECONNREFUSED';
const dead = (id: string, until: number, reason = REASON): Skipped => ({ id, why: { kind: 'dead', until, reason } });
const busy = (id: string, until: number): Skipped => ({ id, why: { kind: 'busy', until } });
const isSkipped = (r: Result): r is Skipped => typeof r !== 'string';

const feedbackFor = (outcome: Outcome): Feedback =>
  outcome === 'failed' ? { kind: 'failed', reason: REASON } : { kind: outcome };

type Limits = DispatchOptions<string, Result>['limits'];
const LIMITS: Limits = { initial: 2, max: 10, deadMs: 100, total: 10, maxWaitMs: 60_000 };

interface Setup {
  readonly limits?: Partial<Limits>;
  readonly stop$?: Observable<unknown>;
  readonly shed$?: Observable<unknown>;
  /** How long a skip takes to come out (default: at once). */
  readonly skipMs?: number;
}

/** `n` jobs named by the letters from `first`, all with `spec`. */
function many(first: string, n: number, spec: Spec): Record<string, Spec> {
  const start = first.charCodeAt(0);
  return Object.fromEntries(Array.from({ length: n }, (_, i) => [String.fromCharCode(start + i), spec]));
}

/** What `TestScheduler.run` hands its callback. */
type RunHelpers = Parameters<Parameters<TestScheduler['run']>[0]>[0];

function scheduler(): TestScheduler {
  return new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
}

/**
 * A dispatcher over the jobs in `specs`, its timers on `ts`; `subs(id)` are
 * the subscriptions of a job's cold attempt (for `expectSubscriptions`),
 * `deaths` what `onDead` was told, `dropped` the jobs dropped at stop, `runs`
 * the jobs run in order.
 */
function dispatcher(ts: TestScheduler, { cold }: RunHelpers, specs: Record<string, Spec>, setup: Setup = {}) {
  const attempts = Object.fromEntries(
    Object.entries(specs).map(([id, s]) => [id, cold(s.attempt ?? `${s.ms ?? 10}ms (r|)`, { r: id })]),
  );
  const deaths: [string, number, string][] = [];
  const dropped: string[] = [];
  const runs: string[] = [];
  const specOf = (id: string): Spec => {
    const s = specs[id];
    if (!s) throw new Error(`no job ${id}`);
    return s;
  };
  const run = (id: string): ObservableInput<Result> => {
    const s = specOf(id);
    runs.push(id);
    if (s.throws) throw new Error(`run ${id} threw`);
    return s.sync ? of(id) : (attempts[id] as Observable<string>);
  };
  const op = dispatch<string, Result>({
    key: (id) => specOf(id).dest,
    run,
    skip: (id, why) =>
      setup.skipMs === undefined ? of({ id, why }) : timer(setup.skipMs).pipe(map(() => ({ id, why }))),
    feedback: (r) => (isSkipped(r) ? { kind: 'none' } : feedbackFor(specOf(r).outcome ?? 'answered')),
    limits: { ...LIMITS, ...setup.limits },
    ...(setup.stop$ ? { stop$: setup.stop$ } : {}),
    ...(setup.shed$ ? { shed$: setup.shed$ } : {}),
    dropped: (id) => dropped.push(id),
    onDead: (key, until, reason) => deaths.push([key, until, reason]),
    scheduler: ts,
  });
  /** When the attempt of job `id` was subscribed and unsubscribed. */
  const subs = (id: string) => attempts[id]?.subscriptions ?? [];
  return { op, subs, deaths, dropped, runs };
}

describe('dispatch: concurrency windows', () => {
  it('runs at most the initial window of one destination at once; another destination is not blocked behind it', () => {
    const ts = scheduler();
    ts.run((helpers) => {
      const { cold, expectObservable, expectSubscriptions } = helpers;
      const d = dispatcher(ts, helpers, { a: { dest: 'x' }, b: { dest: 'x' }, c: { dest: 'x' }, d: { dest: 'y' } });
      // a, b, c for x and d for y arrive at once; x's window is 2:
      // a, b and d run at 0 and end at 10; c starts at 10 when a frees x's window, and ends at 20
      expectObservable(cold('(abcd|)').pipe(d.op)).toBe('10ms (abd) 5ms (c|)');
      expectSubscriptions(d.subs('a')).toBe('^ 9ms !');
      expectSubscriptions(d.subs('b')).toBe('^ 9ms !');
      expectSubscriptions(d.subs('c')).toBe('10ms ^ 9ms !');
      expectSubscriptions(d.subs('d')).toBe('^ 9ms !');
    });
  });

  it('caps attempts across destinations at `total`', () => {
    const ts = scheduler();
    ts.run((helpers) => {
      const { cold, expectObservable, expectSubscriptions } = helpers;
      const d = dispatcher(
        ts,
        helpers,
        { a: { dest: 'x' }, b: { dest: 'y' }, c: { dest: 'z' } },
        { limits: { total: 2 } },
      );
      // three destinations with room, two workers: c waits for a worker and runs from 10 to 20
      expectObservable(cold('(abc|)').pipe(d.op)).toBe('10ms (ab) 6ms (c|)');
      expectSubscriptions(d.subs('c')).toBe('10ms ^ 9ms !');
    });
  });

  it('widens the window by 1/window per answered attempt: the 2nd concurrent attempt after one answer, the 3rd after three more', () => {
    const ts = scheduler();
    ts.run((helpers) => {
      const { cold, expectObservable, expectSubscriptions } = helpers;
      const d = dispatcher(ts, helpers, many('a', 7, { dest: 'x' }), { limits: { initial: 1 } });
      // window 1: a alone (0–10); a answered → window 2: b, c together (10–20);
      // b, c answered → 2.5, 2.9: still two, d, e (20–30); d answered at 30 → 3.24: with e still running, f and g
      // start (three at once)
      expectObservable(cold('(abcdefg|)').pipe(d.op)).toBe('10ms a 9ms (bc) 6ms (de) 6ms (fg|)');
      expectSubscriptions(d.subs('a')).toBe('^ 9ms !');
      expectSubscriptions(d.subs('b')).toBe('10ms ^ 9ms !');
      expectSubscriptions(d.subs('c')).toBe('10ms ^ 9ms !');
      expectSubscriptions(d.subs('d')).toBe('20ms ^ 9ms !');
      expectSubscriptions(d.subs('e')).toBe('20ms ^ 9ms !');
      expectSubscriptions(d.subs('f')).toBe('30ms ^ 9ms !');
      expectSubscriptions(d.subs('g')).toBe('30ms ^ 9ms !');
    });
  });

  it('the third concurrent attempt starts while two still run, once the window passed 3', () => {
    const ts = scheduler();
    ts.run((helpers) => {
      const { cold, expectObservable, expectSubscriptions } = helpers;
      const d = dispatcher(
        ts,
        helpers,
        { ...many('a', 3, { dest: 'x' }), d: { dest: 'x', ms: 15 }, ...many('e', 3, { dest: 'x', ms: 100 }) },
        { limits: { initial: 2 } },
      );
      // window 2: a, b (0–10) answered → 2.5, 2.9: c (10–20) and d (10–25); c answered at 20 → 3.24:
      // with d still running, e and f start (three at once); d answered at 25 → 3.55: g takes its place
      expectObservable(cold('(abcdefg|)').pipe(d.op)).toBe('10ms (ab) 6ms c 4ms d 94ms (ef) 1ms (g|)');
      expectSubscriptions(d.subs('d')).toBe('10ms ^ 14ms !');
      expectSubscriptions(d.subs('e')).toBe('20ms ^ 99ms !');
      expectSubscriptions(d.subs('f')).toBe('20ms ^ 99ms !');
      expectSubscriptions(d.subs('g')).toBe('25ms ^ 99ms !');
    });
  });

  it('narrows the window by 1/window per failed attempt', () => {
    const ts = scheduler();
    ts.run((helpers) => {
      const { cold, expectObservable, expectSubscriptions } = helpers;
      const d = dispatcher(
        ts,
        helpers,
        {
          a: { dest: 'x', outcome: 'failed' },
          b: { dest: 'x', ms: 20, outcome: 'none' },
          c: { dest: 'x', ms: 20, outcome: 'none' },
          d: { dest: 'x', outcome: 'none' },
          e: { dest: 'x', outcome: 'none' },
          f: { dest: 'x', outcome: 'none' },
        },
        { limits: { initial: 3 } },
      );
      // window 3: a, b, c start at 0. a fails at 10 → window 2.67: with b, c running nothing starts
      // (before the failure d would have). From then on two at a time: d, e at 20, f at 30
      expectObservable(cold('(abcdef|)').pipe(d.op)).toBe('10ms a 9ms (bc) 6ms (de) 6ms (f|)');
      expectSubscriptions(d.subs('d')).toBe('20ms ^ 9ms !');
      expectSubscriptions(d.subs('e')).toBe('20ms ^ 9ms !');
      expectSubscriptions(d.subs('f')).toBe('30ms ^ 9ms !');
    });
  });
});

describe('dispatch: dead destinations', () => {
  it('a failed cohort makes the destination dead: waiting and new jobs are skipped until deadMs, then one probe, which grows again on success', () => {
    const ts = scheduler();
    let deaths: [string, number, string][] = [];
    ts.run((helpers) => {
      const { cold, expectObservable, expectSubscriptions } = helpers;
      const d = dispatcher(ts, helpers, {
        a: { dest: 'x', outcome: 'failed' },
        b: { dest: 'x', outcome: 'failed' },
        c: { dest: 'x' },
        d: { dest: 'x' },
        e: { dest: 'x' },
        f: { dest: 'x' },
        g: { dest: 'x' },
        h: { dest: 'x' },
        y: { dest: 'y' },
      });
      deaths = d.deaths;
      // source: a–d at 0; e at 50 (dead); y (another destination) at 60; f at 120 (after deadMs), g, h at 125
      const source = cold('(abcd) 44ms e 9ms y 59ms f 4ms (gh|)');
      // window 2: a and b fail at 10 (a cohort) → dead until 110: c and d are skipped at 10, e at once at 50;
      // y is not affected; f at 120 is a probe (alone, window 1); answered at 130 → window 2: g and h together
      expectObservable(source.pipe(d.op)).toBe('10ms (abcd) 34ms e 19ms y 59ms f 9ms (gh|)', {
        a: 'a',
        b: 'b',
        c: dead('c', 110),
        d: dead('d', 110),
        e: dead('e', 110),
        y: 'y',
        f: 'f',
        g: 'g',
        h: 'h',
      });
      expectSubscriptions(d.subs('c')).toBe([]);
      expectSubscriptions(d.subs('f')).toBe('120ms ^ 9ms !');
      expectSubscriptions(d.subs('g')).toBe('130ms ^ 9ms !');
      expectSubscriptions(d.subs('h')).toBe('130ms ^ 9ms !');
    });
    expect(deaths).toEqual([['x', 110, REASON]]);
  });

  it('a probe that fails makes it dead again (onDead told for each death)', () => {
    const ts = scheduler();
    let deaths: [string, number, string][] = [];
    ts.run((helpers) => {
      const { cold, expectObservable } = helpers;
      const d = dispatcher(ts, helpers, {
        a: { dest: 'x', outcome: 'failed' },
        b: { dest: 'x', outcome: 'failed' },
        p: { dest: 'x', outcome: 'failed' },
        q: { dest: 'x' },
      });
      deaths = d.deaths;
      // dead 10–110; the probe p at 110 fails at 120 → dead 120–220; q queued behind the probe is skipped then
      const source = cold('(ab) 106ms (pq|)');
      expectObservable(source.pipe(d.op)).toBe('10ms (ab) 106ms (pq|)', { a: 'a', b: 'b', p: 'p', q: dead('q', 220) });
    });
    expect(deaths).toEqual([
      ['x', 110, REASON],
      ['x', 220, REASON],
    ]);
  });

  it('attempts still running when it dies finish; their failures neither extend the dead period nor tell onDead again', () => {
    const ts = scheduler();
    let deaths: [string, number, string][] = [];
    ts.run((helpers) => {
      const { cold, expectObservable } = helpers;
      const d = dispatcher(
        ts,
        helpers,
        {
          a: { dest: 'x', outcome: 'failed' },
          b: { dest: 'x', ms: 50, outcome: 'failed' },
          c: { dest: 'x', ms: 100, outcome: 'failed' },
          d: { dest: 'x', outcome: 'failed' },
          e: { dest: 'x' },
        },
        { limits: { initial: 3 } },
      );
      deaths = d.deaths;
      // window 3: a, b, c start at 0. a fails at 10 (window 2.67), b at 50 (2.29) and d, started then, at 60:
      // three in a row → dead until 160. c, still running, fails at 100: still dead until 160; e at 120 is skipped
      const source = cold('(abcd) 114ms e 49ms |');
      expectObservable(source.pipe(d.op)).toBe('10ms a 39ms b 9ms d 39ms c 19ms e 49ms |', {
        a: 'a',
        b: 'b',
        c: 'c',
        d: 'd',
        e: dead('e', 160),
      });
    });
    expect(deaths).toEqual([['x', 160, REASON]]);
  });
});

describe('dispatch: rate limits', () => {
  it('spaces starts by the rate (2 per 1000 ms: 0, 500, 1000, 1500 ms), the timer alone waking the dispatcher', () => {
    const ts = scheduler();
    ts.run((helpers) => {
      const { cold, expectObservable, expectSubscriptions } = helpers;
      // attempts take 2 s, so between the starts nothing else happens: only the dispatcher's timer can start b, c, d
      const d = dispatcher(
        ts,
        helpers,
        { ...many('a', 4, { dest: 'rated', ms: 2_000 }), y: { dest: 'y', ms: 2_000 } },
        {
          limits: { initial: 5, rateOf: (key) => (key === 'rated' ? { count: 2, perMs: 1_000 } : undefined) },
        },
      );
      // y (not rated) starts at once with a
      expectObservable(cold('(abcdy|)').pipe(d.op)).toBe('2000ms (ay) 496ms b 499ms c 499ms (d|)');
      expectSubscriptions(d.subs('a')).toBe('^ 1999ms !');
      expectSubscriptions(d.subs('b')).toBe('500ms ^ 1999ms !');
      expectSubscriptions(d.subs('c')).toBe('1000ms ^ 1999ms !');
      expectSubscriptions(d.subs('d')).toBe('1500ms ^ 1999ms !');
      expectSubscriptions(d.subs('y')).toBe('^ 1999ms !');
    });
  });

  it('a job arriving after an idle spell starts at once; the next one waits its interval from then', () => {
    const ts = scheduler();
    ts.run((helpers) => {
      const { cold, expectObservable, expectSubscriptions } = helpers;
      const d = dispatcher(ts, helpers, many('a', 3, { dest: 'rated' }), {
        limits: { rateOf: () => ({ count: 1, perMs: 100 }) },
      });
      // a at 0; b, c arrive at 1000: b at once, c 100 ms later
      expectObservable(cold('a 999ms (bc|)').pipe(d.op)).toBe('10ms a 999ms b 99ms (c|)');
      expectSubscriptions(d.subs('b')).toBe('1000ms ^ 9ms !');
      expectSubscriptions(d.subs('c')).toBe('1100ms ^ 9ms !');
    });
  });
});

describe('dispatch: fairness', () => {
  it('destinations with queued jobs take turns as capacity frees', () => {
    const ts = scheduler();
    ts.run((helpers) => {
      const { cold, expectObservable } = helpers;
      const d = dispatcher(
        ts,
        helpers,
        { z: { dest: 'z' }, ...many('a', 3, { dest: 'x' }), ...many('d', 3, { dest: 'y' }) },
        { limits: { total: 1 } },
      );
      // one worker, taken by z until 10; then x (a, b, c) and y (d, e, f) alternate: a d b e c f
      expectObservable(cold('(zabcdef|)').pipe(d.op)).toBe('10ms z 9ms a 9ms d 9ms b 9ms e 9ms c 9ms (f|)');
    });
  });

  it('a destination held back by its window does not hold the others', () => {
    const ts = scheduler();
    ts.run((helpers) => {
      const { cold, expectObservable } = helpers;
      const d = dispatcher(
        ts,
        helpers,
        { ...many('a', 4, { dest: 'x', ms: 30 }), ...many('e', 2, { dest: 'y' }) },
        { limits: { total: 3, initial: 1, max: 1 } },
      );
      // x runs one at a time (window 1, max 1); y's e, f use the other workers meanwhile
      expectObservable(cold('(abcdef|)').pipe(d.op)).toBe('10ms e 9ms f 9ms a 29ms b 29ms c 29ms (d|)');
    });
  });
});

describe('dispatch: shedding', () => {
  // x: 26 jobs a–z, one at a time, 1 s each: after 20 finished attempts its pace (1 s per job) is known
  const slow = (): Record<string, Spec> => many('a', 26, { dest: 'x', ms: 1_000 });

  it('sheds what a slow destination cannot do in maxWaitMs, keeping about half of that, with spread times', () => {
    const ts = scheduler();
    ts.run((helpers) => {
      const { cold, hot, expectObservable } = helpers;
      const d = dispatcher(ts, helpers, slow(), {
        limits: { initial: 1, max: 1, maxWaitMs: 4_000 },
        shed$: hot('20500ms s'),
      });
      // at 20.5 s: u runs, v–z (5 jobs, 5 s of work) wait: more than 4 s. x keeps 2 s of work (v, w);
      // x, y, z are busy, back at 20.5 s + 2, 3, 4 s
      const out$ = cold('(abcdefghijklmnopqrstuvwxyz|)').pipe(d.op);
      expectObservable(out$.pipe(filter(isSkipped))).toBe('20500ms (xyz) 2495ms |', {
        x: busy('x', 22_500),
        y: busy('y', 23_500),
        z: busy('z', 24_500),
      });
    });
  });

  it('the jobs kept still run; every job is run or skipped exactly once', () => {
    const ts = scheduler();
    const results: Result[] = [];
    ts.run((helpers) => {
      const { cold, hot } = helpers;
      const d = dispatcher(ts, helpers, slow(), {
        limits: { initial: 1, max: 1, maxWaitMs: 4_000 },
        shed$: hot('20500ms s'),
      });
      cold('(abcdefghijklmnopqrstuvwxyz|)')
        .pipe(d.op)
        .subscribe((r) => results.push(r));
    });
    const ran = results.filter((r): r is string => typeof r === 'string');
    expect(ran).toEqual([...'abcdefghijklmnopqrstuvw']);
    expect(results.filter(isSkipped).map((s) => s.id)).toEqual(['x', 'y', 'z']);
  });

  it('sheds nothing from a fast destination, nor from one not yet measured', () => {
    const ts = scheduler();
    ts.run((helpers) => {
      const { cold, hot, expectObservable } = helpers;
      // at 20 s, next to the slow x (a–z), arrive A–Z for \`fast\` (20 ms each) and 0–9 for \`new\` (1 s each);
      // at 20.41 s fast has 20 attempts measured and 5 jobs (100 ms) waiting, new none measured and 9 waiting:
      // only x sheds; fast is done at 20.52 s, new at 30 s
      const d = dispatcher(
        ts,
        helpers,
        { ...slow(), ...many('A', 26, { dest: 'fast', ms: 20 }), ...many('0', 10, { dest: 'new', ms: 1_000 }) },
        { limits: { initial: 1, max: 1, maxWaitMs: 4_000 }, shed$: hot('20410ms s') },
      );
      const source = cold('(abcdefghijklmnopqrstuvwxyz) 19972ms (ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789|)');
      expectObservable(source.pipe(d.op, filter(isSkipped))).toBe('20410ms (xyz) 9585ms |', {
        x: busy('x', 22_410),
        y: busy('y', 23_410),
        z: busy('z', 24_410),
      });
    });
  });

  it('sheds nothing while the waiting work is exactly maxWaitMs', () => {
    const ts = scheduler();
    const results: Result[] = [];
    ts.run((helpers) => {
      const { cold, hot } = helpers;
      // at 20.5 s: u runs, v–z wait: 5 jobs of 1 s, exactly the 5 s allowed
      const d = dispatcher(ts, helpers, slow(), {
        limits: { initial: 1, max: 1, maxWaitMs: 5_000 },
        shed$: hot('20500ms s'),
      });
      cold('(abcdefghijklmnopqrstuvwxyz|)')
        .pipe(d.op)
        .subscribe((r) => results.push(r));
    });
    expect(results).toEqual([...'abcdefghijklmnopqrstuvwxyz']);
  });

  it('sheds nothing from a destination measured fewer than 20 times', () => {
    const ts = scheduler();
    ts.run((helpers) => {
      const { cold, hot, expectObservable } = helpers;
      // at 19.5 s x has finished 19 attempts (a–s): its 6 waiting jobs stay, all done at 26 s
      const d = dispatcher(ts, helpers, slow(), {
        limits: { initial: 1, max: 1, maxWaitMs: 4_000 },
        shed$: hot('19500ms s'),
      });
      expectObservable(cold('(abcdefghijklmnopqrstuvwxyz|)').pipe(d.op, filter(isSkipped))).toBe('26000ms |');
    });
  });

  it('a rated destination is shed by its rate before any measurement', () => {
    const ts = scheduler();
    ts.run((helpers) => {
      const { cold, hot, expectObservable } = helpers;
      // 1 per second; 10 jobs at 0: a starts, b–j wait (9 s of work) > 4 s at 100 ms: keep 2 (b, c), shed d–j
      const d = dispatcher(ts, helpers, many('a', 10, { dest: 'rated' }), {
        limits: { maxWaitMs: 4_000, rateOf: () => ({ count: 1, perMs: 1_000 }) },
        shed$: hot('100ms s'),
      });
      expectObservable(cold('(abcdefghij|)').pipe(d.op, filter(isSkipped))).toBe('100ms (defghij) 1901ms |', {
        d: busy('d', 2_100),
        e: busy('e', 3_100),
        f: busy('f', 4_100),
        g: busy('g', 5_100),
        h: busy('h', 6_100),
        i: busy('i', 7_100),
        j: busy('j', 8_100),
      });
    });
  });

  it('a destination measured while its traffic was sparse is not taken for a slow one', () => {
    const ts = scheduler();
    ts.run((helpers) => {
      const { cold, hot, expectObservable } = helpers;
      // a–u arrive one a second and take 10 ms each (21 measured, idle in between); at 21 s a burst of 10 (v–E):
      // asked to shed at 21.005 s, its 9 waiting jobs are 90 ms of work, not 9 s: nothing is shed, all done at 21.1 s
      const d = dispatcher(
        ts,
        helpers,
        { ...many('a', 26, { dest: 'x' }), ...many('A', 5, { dest: 'x' }) },
        {
          limits: { initial: 1, max: 1, maxWaitMs: 4_000 },
          shed$: hot('21005ms s'),
        },
      );
      const source = cold(`${[...'abcdefghijklmnopqrstu'].join(' 999ms ')} 999ms (vwxyzABCDE|)`);
      expectObservable(source.pipe(d.op, filter(isSkipped))).toBe('21100ms |');
    });
  });
});

describe('dispatch: stop$ and completion', () => {
  it('stop$: jobs not started are dropped, running ones finish, the output completes; nothing new starts', () => {
    const ts = scheduler();
    let dropped: string[] = [];
    ts.run((helpers) => {
      const { hot, expectObservable, expectSubscriptions } = helpers;
      const d = dispatcher(
        ts,
        helpers,
        { ...many('a', 4, { dest: 'x', ms: 20 }), e: { dest: 'y' } },
        { stop$: hot('5ms s') },
      );
      dropped = d.dropped;
      // a, b run 0–20 (window 2); c, d wait; stop at 5 drops c, d; e arriving at 10 is dropped too;
      // the output completes at 20 when a and b are done, and lets go of the source then
      const source = hot('(abcd) 4ms - 4ms e');
      expectObservable(source.pipe(d.op)).toBe('20ms (ab|)');
      expectSubscriptions(source.subscriptions).toBe('^ 19ms !');
      expectSubscriptions(d.subs('c')).toBe([]);
      expectSubscriptions(d.subs('e')).toBe([]);
    });
    expect(dropped).toEqual(['c', 'd', 'e']);
  });

  it('stop$ with nothing running completes at once', () => {
    const ts = scheduler();
    ts.run((helpers) => {
      const { hot, expectObservable } = helpers;
      const d = dispatcher(ts, helpers, { a: { dest: 'x' } }, { stop$: hot('50ms s') });
      expectObservable(hot('a').pipe(d.op)).toBe('10ms a 39ms |');
    });
  });

  it('a stop$ that errors stops the dispatcher as its value would', () => {
    const ts = scheduler();
    let dropped: string[] = [];
    ts.run((helpers) => {
      const { hot, expectObservable } = helpers;
      const d = dispatcher(ts, helpers, many('a', 3, { dest: 'x', ms: 20 }), { stop$: hot('5ms #') });
      dropped = d.dropped;
      // a, b run 0–20 (window 2); c waits and is dropped at 5; the output completes when a and b are done
      expectObservable(hot('(abc)').pipe(d.op)).toBe('20ms (ab|)');
    });
    expect(dropped).toEqual(['c']);
  });

  it('completes only after the skips still coming out', () => {
    const ts = scheduler();
    ts.run((helpers) => {
      const { cold, expectObservable } = helpers;
      const d = dispatcher(
        ts,
        helpers,
        { a: { dest: 'x', outcome: 'failed' }, b: { dest: 'x', outcome: 'failed' }, c: { dest: 'x' } },
        { skipMs: 5 },
      );
      // a and b fail at 10: x is dead, c is skipped; its skip takes 5 ms, and the output waits for it
      expectObservable(cold('(abc|)').pipe(d.op)).toBe('10ms (ab) 1ms (c|)', {
        a: 'a',
        b: 'b',
        c: dead('c', 110),
      });
    });
  });

  it('completes when the source has completed and nothing runs or waits', () => {
    const ts = scheduler();
    ts.run((helpers) => {
      const { cold, expectObservable } = helpers;
      const d = dispatcher(ts, helpers, { a: { dest: 'x', ms: 30 } });
      expectObservable(cold('|').pipe(d.op)).toBe('|');
      expectObservable(cold('a 4ms |').pipe(d.op)).toBe('30ms (a|)');
      // while open it does not complete, even with nothing to do
      expectObservable(cold('a').pipe(d.op), '^ 100ms !').toBe('30ms a');
    });
  });

  it('completes only once a rate-limited job left waiting at the source’s end has run', () => {
    const ts = scheduler();
    ts.run((helpers) => {
      const { cold, expectObservable } = helpers;
      const d = dispatcher(ts, helpers, many('a', 2, { dest: 'rated' }), {
        limits: { rateOf: () => ({ count: 1, perMs: 1_000 }) },
      });
      expectObservable(cold('(ab|)').pipe(d.op)).toBe('10ms a 999ms (b|)');
    });
  });
});

describe('dispatch: timers', () => {
  /** `ts`, counting the actions scheduled on it that are still open (neither cancelled nor let go of after running). */
  function counting(ts: TestScheduler): { readonly scheduler: SchedulerLike; readonly open: () => number } {
    const live = new Set<Subscription>();
    const scheduler: SchedulerLike = {
      now: () => ts.now(),
      schedule<T>(work: (this: SchedulerAction<T>, state?: T) => void, delay?: number, state?: T): Subscription {
        const action = ts.schedule(work, delay, state);
        live.add(action);
        action.add(() => live.delete(action));
        return action;
      },
    };
    return { scheduler, open: () => live.size };
  }

  it('no timer outlives the output: one armed for a rate slot is cancelled when the output completes at stop', () => {
    const ts = scheduler();
    const { scheduler: timers, open } = counting(ts);
    let openAtEnd = -1;
    ts.run(({ cold, hot, expectObservable }) => {
      const attempts: Record<string, Observable<string>> = { a: cold('10ms (a|)'), b: cold('10ms (b|)') };
      const out$ = cold('(ab)').pipe(
        dispatch<string, string>({
          key: () => 'rated',
          run: (id) => attempts[id] ?? of(id),
          skip: (id) => of(id),
          feedback: () => ({ kind: 'answered' }),
          limits: { ...LIMITS, rateOf: () => ({ count: 1, perMs: 1_000 }) },
          stop$: hot('5ms s'),
          scheduler: timers,
        }),
      );
      // a runs 0–10; b waits for its slot at 1 s (a timer); stop at 5 drops b; the output completes at 10
      expectObservable(out$).toBe('10ms (a|)');
      ts.schedule(() => (openAtEnd = open()), 20);
    });
    expect(openAtEnd).toBe(0);
  });

  it('timers that fired are let go of while the output runs on', () => {
    const ts = scheduler();
    const { scheduler: timers, open } = counting(ts);
    let openWhileRunning = -1;
    ts.run(({ cold, expectObservable }) => {
      const out$ = cold('(abc)').pipe(
        dispatch<string, string>({
          key: () => 'rated',
          run: (id) => cold('10ms (r|)', { r: id }),
          skip: (id) => of(id),
          feedback: () => ({ kind: 'answered' }),
          limits: { ...LIMITS, rateOf: () => ({ count: 1, perMs: 100 }) },
          scheduler: timers,
        }),
      );
      // starts at 0, 100, 200 (the last two woken by timers); still open (the source never completes)
      expectObservable(out$, '^ 300ms !').toBe('10ms a 99ms b 99ms c');
      ts.schedule(() => (openWhileRunning = open()), 250);
    });
    expect(openWhileRunning).toBe(0);
  });
});

describe('dispatch: errors', () => {
  it('an error from an attempt ends the output and unsubscribes the other attempts', () => {
    const ts = scheduler();
    ts.run((helpers) => {
      const { cold, expectObservable, expectSubscriptions } = helpers;
      const d = dispatcher(
        ts,
        helpers,
        { a: { dest: 'x', ms: 30 }, b: { dest: 'y', attempt: '5ms #' }, c: { dest: 'x' } },
        { limits: { initial: 1 } },
      );
      expectObservable(cold('(abc)').pipe(d.op)).toBe('5ms #');
      expectSubscriptions(d.subs('a')).toBe('^ 4ms !');
      expectSubscriptions(d.subs('c')).toBe([]);
    });
  });

  it('an error thrown by run ends the output', () => {
    const ts = scheduler();
    ts.run((helpers) => {
      const { cold, expectObservable, expectSubscriptions } = helpers;
      const d = dispatcher(ts, helpers, { a: { dest: 'x', ms: 30 }, b: { dest: 'y', throws: true } });
      expectObservable(cold('a 4ms b').pipe(d.op)).toBe('5ms #', undefined, new Error('run b threw'));
      expectSubscriptions(d.subs('a')).toBe('^ 4ms !');
    });
  });

  it('an error from the source ends the output', () => {
    const ts = scheduler();
    ts.run((helpers) => {
      const { cold, expectObservable, expectSubscriptions } = helpers;
      const d = dispatcher(ts, helpers, { a: { dest: 'x', ms: 30 } });
      expectObservable(cold('a 4ms #').pipe(d.op)).toBe('5ms #');
      expectSubscriptions(d.subs('a')).toBe('^ 4ms !');
    });
  });
});

describe('dispatch: attempts that end at once', () => {
  it('runs every job once when attempts complete synchronously', () => {
    const ts = scheduler();
    let runs: string[] = [];
    ts.run((helpers) => {
      const { cold, expectObservable } = helpers;
      // z holds the only worker until 10; then the jobs of x and y, whose attempts end synchronously, run back to back
      // in turns (a, c, b, d) and each exactly once
      const d = dispatcher(
        ts,
        helpers,
        {
          z: { dest: 'z' },
          a: { dest: 'x', sync: true },
          b: { dest: 'x', sync: true },
          c: { dest: 'y', sync: true },
          d: { dest: 'x', sync: true },
        },
        { limits: { total: 1 } },
      );
      runs = d.runs;
      expectObservable(cold('(zabcd|)').pipe(d.op)).toBe('10ms (zacbd|)');
    });
    expect([...runs].sort()).toEqual(['a', 'b', 'c', 'd', 'z']);
  });

  it('a source that feeds back synchronously keeps working', () => {
    const ts = scheduler();
    ts.run((helpers) => {
      const { expectObservable } = helpers;
      const source = new Subject<string>();
      const d = dispatcher(ts, helpers, {
        a: { dest: 'x', sync: true },
        b: { dest: 'x', sync: true },
        c: { dest: 'x', sync: true },
      });
      const next: Record<string, string | undefined> = { a: 'b', b: 'c' };
      const out$ = new Observable<Result>((subscriber) => {
        const sub = source.pipe(d.op).subscribe({
          next: (r) => {
            subscriber.next(r);
            const following = typeof r === 'string' ? next[r] : undefined;
            if (following) source.next(following);
            else source.complete();
          },
          complete: () => subscriber.complete(),
        });
        source.next('a');
        return sub;
      });
      expectObservable(out$).toBe('(abc|)');
    });
  });

  it('runs ten thousand waiting attempts that end at once in a loop, not one inside another', () => {
    // the first attempt holds the only worker until the gate opens; by then the others all wait
    const gate = new Subject<string>();
    const jobs = Array.from({ length: 10_000 }, (_, i) => `j${i}`);
    const out: string[] = [];
    let completed = false;
    from(['first', ...jobs])
      .pipe(
        dispatch<string, string>({
          key: () => 'x',
          run: (id) => (id === 'first' ? gate : of(id)),
          skip: (id) => of(id),
          feedback: () => ({ kind: 'answered' }),
          limits: { ...LIMITS, total: 1 },
        }),
      )
      .subscribe({ next: (r) => out.push(r), complete: () => (completed = true) });
    expect(out).toEqual([]);
    gate.next('first');
    gate.complete();
    expect(out).toEqual(['first', ...jobs]);
    expect(completed).toBe(true);
  });
});
