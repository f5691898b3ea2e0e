import { defer, finalize } from 'rxjs';
import type { Observable } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import type { DeliveryJob } from '../../src/domain/job.js';
import { deliverJobs } from '../../src/queue/deliver-jobs.js';

function scheduler(): TestScheduler {
  return new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
}

const job = (id: string, domain: string): { job: DeliveryJob } => ({
  job: { id, domain, recipients: [{ id, recipient: `r@${domain || 'relay.test'}`, domain, attempts: 0, receivedAt: 0 }] },
});

function tracker() {
  const perDomain = new Map<string, number>();
  const peak = { total: 0, perDomain: 0 };
  let total = 0;
  const wrap = <R>(domain: string, inner: () => Observable<R>): Observable<R> =>
    defer(() => {
      total += 1;
      perDomain.set(domain, (perDomain.get(domain) ?? 0) + 1);
      peak.total = Math.max(peak.total, total);
      peak.perDomain = Math.max(peak.perDomain, ...perDomain.values());
      return inner().pipe(
        finalize(() => {
          total -= 1;
          perDomain.set(domain, (perDomain.get(domain) ?? 1) - 1);
        }),
      );
    });
  return { wrap, peak };
}

describe('deliverJobs: the concurrency caps', () => {
  it('never runs more than SMTP_QUEUE_WORKERS at once nor SMTP_DOMAIN_CONCURRENCY per domain', () => {
    const t = tracker();
    scheduler().run(({ cold, expectObservable }) => {
      const jobs = cold('(abcdefg|)', {
        a: job('1', 'a.test'),
        b: job('2', 'a.test'),
        c: job('3', 'a.test'),
        d: job('4', 'b.test'),
        e: job('5', 'b.test'),
        f: job('6', 'c.test'),
        g: job('7', 'a.test'),
      });
      const attempt = (item: { job: DeliveryJob }) => t.wrap(item.job.domain, () => cold('10ms (x|)', { x: item.job.id }));
      // workers 3, per domain 2: t=0 → 1,2 (a) and 4 (b); 3 waits for a's slot even though a worker frees at 10
      // t=10 → 3 (a), 5 (b), 6 (c); t=20 → 7 (a)
      expectObservable(jobs.pipe(deliverJobs(attempt, { workers: 3, perDomain: 2 }))).toBe('10ms (124) 5ms (356) 5ms (7|)', {
        1: '1', 2: '2', 3: '3', 4: '4', 5: '5', 6: '6', 7: '7',
      });
    });
    expect(t.peak).toEqual({ total: 3, perDomain: 2 });
  });

  it('a saturated domain does not hold up other domains', () => {
    const t = tracker();
    scheduler().run(({ cold, hot, expectObservable }) => {
      const jobs = hot('abcd|', { a: job('1', 'slow.test'), b: job('2', 'slow.test'), c: job('3', 'slow.test'), d: job('4', 'fast.test') });
      const attempt = (item: { job: DeliveryJob }) =>
        t.wrap(item.job.domain, () => cold(item.job.domain === 'slow.test' ? '100ms (x|)' : '1ms (x|)', { x: item.job.id }));
      expectObservable(jobs.pipe(deliverJobs(attempt, { workers: 10, perDomain: 1 }))).toBe('----4 95ms 1 99ms 2 99ms (3|)', {
        1: '1', 2: '2', 3: '3', 4: '4',
      });
    });
  });
});
