/**
 * The delivery instruments that answer "how late is my mail": time from
 * receipt to each recipient's outcome and the attempt's duration, both by
 * outcome, and deferred recipients per destination (the top few domains by
 * recent count, the rest as `other`).
 *
 * In: `delivery.outcome` audit events (their `receivedAt` and `durationMs`).
 * Out: Prometheus instruments in the given registries, and the function that
 * moves them for one event.
 */
import { Counter, Histogram, type Registry } from 'prom-client';
import type { AuditEvent } from '../domain/audit.js';
import { domainOf } from '../domain/envelope.js';
import { createDestinationRanking } from './top-destinations.js';

type OutcomeEvent = Extract<AuditEvent, { type: 'delivery.outcome' }>;
export type DeliveryResult = OutcomeEvent['outcome'];
export const DELIVERY_RESULTS: readonly DeliveryResult[] = ['delivered', 'deferred', 'bounced'];

/** Attempt duration buckets, seconds: a local sink answers in ms, a slow MX in minutes. */
const DELIVERY_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];
/** Time-in-queue buckets, seconds: from a second to the default five-day queue lifetime and past it. */
const QUEUE_TIME_BUCKETS = [
  1,
  5,
  15,
  60,
  300,
  900,
  1800,
  3600,
  3 * 3600,
  6 * 3600,
  12 * 3600,
  86_400,
  2 * 86_400,
  432_000,
];

export interface DeliveryMetricsOptions {
  /** Destination domains with a `destination` label of their own; the rest count as `other`. */
  readonly topDestinations: number;
  readonly now: () => number;
}

export interface DeliveryInstruments {
  readonly deliveries: Counter<'result'>;
  readonly deliveryDuration: Histogram<'outcome'>;
  readonly queueTime: Histogram<'outcome'>;
  readonly deferredRecipients: Counter<'destination'>;
}

export function deliveryInstruments(
  registers: Registry[],
  options: DeliveryMetricsOptions,
): DeliveryInstruments & { readonly record: (event: OutcomeEvent) => void } {
  const ranking = createDestinationRanking({ size: options.topDestinations, now: options.now });
  const instruments: DeliveryInstruments = {
    deliveries: new Counter({
      name: 'gopherpost_deliveries_total',
      help: 'Delivery attempt outcomes per recipient, by result.',
      labelNames: ['result'] as const,
      registers,
    }),
    deliveryDuration: new Histogram({
      name: 'gopherpost_delivery_duration_seconds',
      help: 'Time of the delivery attempt that ended in this outcome, seconds, by outcome.',
      labelNames: ['outcome'] as const,
      buckets: DELIVERY_BUCKETS,
      registers,
    }),
    queueTime: new Histogram({
      name: 'gopherpost_queue_time_seconds',
      help: 'Time from receipt to a recipient outcome, seconds, by outcome (for deferred: the wait so far).',
      labelNames: ['outcome'] as const,
      buckets: QUEUE_TIME_BUCKETS,
      registers,
    }),
    deferredRecipients: new Counter({
      name: 'gopherpost_deferred_recipients_total',
      help: `Recipients deferred, by destination domain: the ${options.topDestinations} with most of late, the rest as "other".`,
      labelNames: ['destination'] as const,
      registers,
      collect() {
        const { gained, lost } = ranking.rerank();
        for (const destination of lost) this.remove({ destination });
        for (const destination of gained) this.inc({ destination }, 0);
      },
    }),
  };
  // Start at zero so the series exist before the first event.
  for (const outcome of DELIVERY_RESULTS) {
    instruments.deliveries.inc({ result: outcome }, 0);
    instruments.deliveryDuration.zero({ outcome });
    instruments.queueTime.zero({ outcome });
  }
  instruments.deferredRecipients.inc({ destination: 'other' }, 0);
  return {
    ...instruments,
    record: (event) => {
      const outcome = event.outcome;
      instruments.deliveries.inc({ result: outcome });
      instruments.deliveryDuration.observe({ outcome }, Math.max(0, event.durationMs) / 1000);
      instruments.queueTime.observe({ outcome }, Math.max(0, options.now() - event.receivedAt) / 1000);
      if (outcome === 'deferred')
        instruments.deferredRecipients.inc({ destination: ranking.count(domainOf(event.recipient)) });
    },
  };
}
