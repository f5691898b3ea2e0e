import { Subject } from 'rxjs';
import { describe, expect, it } from 'vitest';
import type { AuditEvent } from '../../src/domain/audit.js';
import { startStatsSeries } from '../../src/console/stats.js';
import { trackLastErrors } from '../../src/console/last-errors.js';
import { eventually } from '../helpers/eventually.js';

const outcome = (recipient: string, result: 'delivered' | 'deferred' | 'bounced'): AuditEvent => ({
  type: 'delivery.outcome',
  id: '01hzx3k9v2q7m4d8c6b1',
  recipient,
  outcome: result,
  response: `${result} reply`,
  attempts: 1,
  durationMs: 1,
  receivedAt: 0,
});

describe('the console feeds', () => {
  it('sample received and delivered/deferred/bounced counts per period with the depth, keeping the last N', async () => {
    const events$ = new Subject<AuditEvent>();
    let depth = 7;
    const series = startStatsSeries({
      events$,
      depth: () => Promise.resolve(depth),
      clock: Date.now,
      everyMs: 20,
      keep: 3,
    });
    try {
      events$.next({
        type: 'message.stored',
        session: 's',
        id: '01hzx3k9v2q7m4d8c6b1',
        sender: '',
        recipients: 1,
        size: 1,
      });
      events$.next(outcome('a@x.test', 'delivered'));
      events$.next(outcome('b@x.test', 'deferred'));
      events$.next(outcome('c@x.test', 'deferred'));
      events$.next(outcome('d@x.test', 'bounced'));
      await eventually(() => series.snapshot().length >= 1);
      expect(series.snapshot()[0]).toMatchObject({ received: 1, delivered: 1, deferred: 2, bounced: 1, depth: 7 });
      depth = 3;
      await eventually(() => series.snapshot().length === 3 && series.snapshot()[2]?.depth === 3);
      await eventually(() => series.snapshot()[0]?.depth === 3); // the oldest samples went
      expect(series.snapshot()).toHaveLength(3);
      expect(series.snapshot()[2]).toMatchObject({ received: 0, delivered: 0, deferred: 0, bounced: 0 });
    } finally {
      series.stop();
    }
  });

  it('keep the last deferral or bounce per domain, at most `capacity` domains', () => {
    const events$ = new Subject<AuditEvent>();
    const errors = trackLastErrors({ events$, clock: () => 5, capacity: 2 });
    events$.next(outcome('a@One.test', 'deferred'));
    events$.next(outcome('b@one.test', 'delivered'));
    expect(errors.get('one.test')).toEqual({
      time: 5,
      recipient: 'a@One.test',
      outcome: 'deferred',
      response: 'deferred reply',
    });
    events$.next(outcome('a@two.test', 'bounced'));
    events$.next(outcome('a@three.test', 'deferred'));
    expect(errors.get('one.test')).toBeUndefined();
    expect(errors.get('two.test')?.outcome).toBe('bounced');
    expect(errors.get('three.test')?.outcome).toBe('deferred');
    errors.stop();
  });
});
