/**
 * The daemon's Prometheus metrics in a private registry: the instruments by
 * area, and the audit events that move them.
 */
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { Observable, Subscription } from 'rxjs';
import type { AuditEvent } from '../domain/audit.js';
import { deliveryInstruments, type DeliveryInstruments } from './delivery-metrics.js';
import { createReasonLabeler } from './reason-label.js';
import { spoolInstruments, type SpoolGaugeSources } from './spool-gauges.js';
import { tlsInstruments } from './tls-metrics.js';

export const METRIC_PREFIX = 'gopherpost_';

export type { DeliveryResult } from './delivery-metrics.js';

export interface MetricsOptions extends SpoolGaugeSources {
  /** Recipients waiting for delivery, read at scrape time. Errors leave the last value. */
  readonly queueDepth?: () => number | Promise<number>;
  /** Node.js process metrics (event loop lag, heap, GC...). Default true. */
  readonly defaultMetrics?: boolean;
  /** Destination domains with a label of their own on `gopherpost_deferred_recipients_total`. Default 10. */
  readonly topDestinations?: number;
  /** The clock for ages and times in the queue. Default `Date.now`. */
  readonly now?: () => number;
}

export interface Metrics extends DeliveryInstruments {
  /** A private registry (never prom-client's global one), so tests and daemons don't collide. */
  readonly registry: Registry;
  readonly sessionsActive: Gauge;
  readonly connectionsAccepted: Counter;
  readonly connectionsRejected: Counter<'reason'>;
  readonly messagesReceived: Counter;
  readonly bytesReceived: Counter;
  readonly queueDepth: Gauge;
  /** Seconds since the oldest waiting recipient was received (0 when none waits). */
  readonly queueOldestAge: Gauge;
  /** 1 when the spool takes writes, 0 when its check fails. */
  readonly spoolWritable: Gauge;
  readonly authFailures: Counter;
  readonly auditSubscribers: Gauge;
  readonly auditEventsDropped: Counter;
  readonly destinationsDead: Counter;
  /** Outbound TLS decisions per host tried, by policy and result. */
  readonly tlsDecisions: Counter<'policy' | 'result'>;
  /** Updates the counters an audit event stands for. */
  record(event: AuditEvent): void;
  /** Prometheus text exposition, and its content type. */
  render(): Promise<string>;
  readonly contentType: string;
}

export function createMetrics(options: MetricsOptions = {}): Metrics {
  const registry = new Registry();
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry });
  const registers = [registry];
  const now = options.now ?? Date.now;
  const { record: recordOutcome, ...delivery } = deliveryInstruments(registers, {
    topDestinations: options.topDestinations ?? 10,
    now,
  });
  const { recordTls, ...tls } = tlsInstruments(registers);
  const instruments = {
    ...tls,
    ...inboundInstruments(registers),
    ...queueInstruments(registers, options.queueDepth),
    ...spoolInstruments(registers, options, now),
    ...delivery,
    ...auditInstruments(registers),
  };
  return {
    registry,
    ...instruments,
    record: auditRecorder(instruments, { outcome: recordOutcome, tls: recordTls }),
    render: () => registry.metrics(),
    contentType: registry.contentType,
  };
}

type Registers = Registry[];
const name = (suffix: string): string => METRIC_PREFIX + suffix;

function inboundInstruments(registers: Registers) {
  return {
    sessionsActive: new Gauge({ name: name('sessions_active'), help: 'SMTP sessions currently open.', registers }),
    connectionsAccepted: new Counter({
      name: name('connections_accepted_total'),
      help: 'SMTP connections accepted (past access control).',
      registers,
    }),
    connectionsRejected: new Counter({
      name: name('connections_rejected_total'),
      help: 'SMTP connections refused before the banner, by reason.',
      labelNames: ['reason'] as const,
      registers,
    }),
    messagesReceived: new Counter({
      name: name('messages_received_total'),
      help: 'Messages accepted and durably stored.',
      registers,
    }),
    bytesReceived: new Counter({
      name: name('received_bytes_total'),
      help: 'Bytes of accepted messages (as stored, trace headers included).',
      registers,
    }),
    authFailures: new Counter({ name: name('auth_failures_total'), help: 'Failed SMTP AUTH attempts.', registers }),
  };
}

function queueInstruments(registers: Registers, queueDepthSource: MetricsOptions['queueDepth']) {
  return {
    queueDepth: new Gauge({
      name: name('queue_depth'),
      help: 'Recipients queued or deferred, waiting for delivery.',
      registers,
      async collect() {
        if (!queueDepthSource) return;
        try {
          this.set(await queueDepthSource());
        } catch {
          // Keep the last value: a slow or failing spool must not break a scrape.
        }
      },
    }),
    destinationsDead: new Counter({
      name: name('destinations_dead_total'),
      help: 'Times a destination was marked dead (every host failed a cohort of attempts in a row); its mail waited.',
      registers,
    }),
  };
}

function auditInstruments(registers: Registers) {
  return {
    auditSubscribers: new Gauge({
      name: name('audit_subscribers'),
      help: 'Clients streaming the audit log (/audit and /healthz).',
      registers,
    }),
    auditEventsDropped: new Counter({
      name: name('audit_events_dropped_total'),
      help: 'Audit records dropped because a subscriber did not keep up.',
      registers,
    }),
  };
}

type Instruments = Omit<Metrics, 'registry' | 'record' | 'render' | 'contentType'>;

/** The counters an audit event stands for; sessions are counted once each, and only those seen starting are ended. */
function auditRecorder(
  m: Instruments,
  recorders: {
    readonly outcome: (event: Extract<AuditEvent, { type: 'delivery.outcome' }>) => void;
    readonly tls: (event: Extract<AuditEvent, { type: 'delivery.tls' }>) => void;
  },
): (event: AuditEvent) => void {
  const reasonLabel = createReasonLabeler();
  const openSessions = new Set<string>();
  return (event) => {
    switch (event.type) {
      case 'session.start':
        if (openSessions.has(event.session)) return;
        openSessions.add(event.session);
        m.connectionsAccepted.inc();
        m.sessionsActive.inc();
        return;
      case 'session.close':
        // Only sessions we saw start: the gauge never goes negative.
        if (openSessions.delete(event.session)) m.sessionsActive.dec();
        return;
      case 'rejected':
        if (event.stage === 'connect') m.connectionsRejected.inc({ reason: reasonLabel(event.reason) });
        else if (event.stage === 'auth') m.authFailures.inc();
        return;
      case 'message.stored':
        m.messagesReceived.inc();
        m.bytesReceived.inc(event.size);
        return;
      case 'delivery.outcome':
        recorders.outcome(event);
        return;
      case 'delivery.tls':
        recorders.tls(event);
        return;
      case 'destination.dead':
        m.destinationsDead.inc();
        return;
      case 'command':
      case 'delivery.attempt':
      case 'message.authenticated':
      case 'message.removed':
      case 'config':
        return;
      default:
        // A new AuditEvent variant must be decided on here.
        event satisfies never;
    }
  };
}

/** Drives `metrics` from an event stream (the bus's always-on `raw$`). */
export function observeAudit(metrics: Metrics, events$: Observable<AuditEvent>): Subscription {
  return events$.subscribe({
    next: (event) => metrics.record(event),
    // The bus never errors; should a source do so, metrics simply stop moving.
    error: () => undefined,
  });
}
