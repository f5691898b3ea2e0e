import { NEVER, Subject, map, takeWhile } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import type { DeliveryOutcome } from '../../src/domain/delivery.js';
import type { DeliveryJob } from '../../src/domain/job.js';
import { planUpdates } from '../../src/queue/outcomes.js';
import type { PlanConfig } from '../../src/queue/outcomes.js';
import { wakeUps } from '../../src/queue/wake-ups.js';

function scheduler(): TestScheduler {
  return new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
}

/**
 * A recipient whose every attempt is deferred, scheduled by the real pieces:
 * `planUpdates` (backoff policy, lifetime) persists `nextAttemptAt`, and
 * `wakeUps` turns the spool's next due time into a timer. Emits the status
 * written after each attempt ('d' deferred, 'b' bounced) at the attempt time.
 */
function deferForever(ts: TestScheduler, cfg: PlanConfig, random: () => number) {
  const due$ = new Subject<number | undefined>();
  let attempts = 0;
  return wakeUps({ wake$: NEVER, due$, tickMs: 1e12, now: () => ts.now() }).pipe(
    map(() => {
      const recipients = [
        { recipient: 'r@example.test', status: 'deferred' as const, attempts, nextAttemptAt: 0, updatedAt: 0 },
      ];
      const record = {
        id: 'm',
        envelope: { sender: '', recipients: ['r@example.test'], clientAddress: '', heloName: '', receivedAt: 0 },
        size: 0,
        recipients,
      };
      const job: DeliveryJob = { record, domain: 'example.test', recipients };
      const outcome: DeliveryOutcome = { kind: 'deferred', response: '451 4.3.0 later' };
      const [update] = planUpdates(job, new Map([['r@example.test', outcome]]), ts.now(), cfg, random).updates;
      attempts = update?.attempts ?? attempts;
      if (update?.status === 'deferred') due$.next(update.nextAttemptAt);
      return update?.status === 'deferred' ? 'd' : 'b';
    }),
    takeWhile((s) => s === 'd', true),
  );
}

describe('backoff schedule (virtual time)', () => {
  it('doubles from the base and stays at the cap', () => {
    const ts = scheduler();
    ts.run(({ expectObservable }) => {
      const out$ = deferForever(ts, { baseSeconds: 1, maxSeconds: 4, lifetimeMs: 12_000 }, () => 0);
      // attempts at 0, 1 s, 3 s, 7 s, 11 s (capped at 4 s); at 15 s it is past the 12 s lifetime: bounced
      expectObservable(out$).toBe('d 999ms d 1999ms d 3999ms d 3999ms d 3999ms (b|)');
    });
  });

  it('adds up to +25 % jitter from the injected random source', () => {
    const ts = scheduler();
    ts.run(({ expectObservable }) => {
      const out$ = deferForever(ts, { baseSeconds: 1, maxSeconds: 4, lifetimeMs: 4_000 }, () => 0.999);
      // 1 s → 1250 ms, 2 s → 2500 ms (×1.24975, rounded); at 3750 ms still alive, next at 3750 + 4999 = 8749 ms:
      // expired
      expectObservable(out$).toBe('d 1249ms d 2499ms d 4998ms (b|)');
    });
  });
});
