/**
 * The console's graphs: throughput and queue size over the last hour, from
 * the daemon's own figures.
 *
 * In: every audit event (`raw$`, whatever the audit switch says), a probe of
 * the queue depth, a sampling period. Out: `snapshot()`, the samples oldest
 * first, each with the messages received and the recipients delivered,
 * deferred and bounced during its period and the depth at its end. At most
 * `keep` samples are kept (default an hour of 5-second samples).
 */
import { interval, type Observable } from 'rxjs';
import type { AuditEvent } from '../domain/audit.js';

export interface StatsSample {
  /** End of the period, ms since the epoch. */
  readonly time: number;
  readonly received: number;
  readonly delivered: number;
  readonly deferred: number;
  readonly bounced: number;
  /** Recipients waiting at the end of the period. */
  readonly depth: number;
}

export interface StatsSeries {
  readonly everyMs: number;
  snapshot(): readonly StatsSample[];
  stop(): void;
}

type Counts = { received: number; delivered: number; deferred: number; bounced: number };

const zero = (): Counts => ({ received: 0, delivered: 0, deferred: 0, bounced: 0 });

/** Adds one event to the period's counts (pure on its inputs; mutates `counts`). */
export function countEvent(counts: Counts, event: AuditEvent): void {
  if (event.type === 'message.stored') counts.received += 1;
  else if (event.type === 'delivery.outcome') counts[event.outcome] += 1;
}

export function startStatsSeries(options: {
  readonly events$: Observable<AuditEvent>;
  readonly depth: () => Promise<number>;
  readonly clock: () => number;
  readonly everyMs?: number;
  readonly keep?: number;
}): StatsSeries {
  const everyMs = options.everyMs ?? 5_000;
  const keep = options.keep ?? Math.ceil(3_600_000 / everyMs);
  const samples: StatsSample[] = [];
  let counts = zero();
  let lastDepth = 0;
  const events = options.events$.subscribe({ next: (event) => countEvent(counts, event), error: () => undefined });
  const ticks = interval(everyMs).subscribe({
    error: () => undefined,
    next: () => {
      const period = counts;
      counts = zero();
      const time = options.clock();
      void options
        .depth()
        .catch(() => lastDepth) // storage trouble: the graph keeps the last figure
        .then((depth) => {
          lastDepth = depth;
          samples.push({ time, ...period, depth });
          if (samples.length > keep) samples.splice(0, samples.length - keep);
        });
    },
  });
  return {
    everyMs,
    snapshot: () => [...samples],
    stop: () => {
      events.unsubscribe();
      ticks.unsubscribe();
    },
  };
}
