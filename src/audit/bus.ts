import { BehaviorSubject, Subject, concat, defer, distinctUntilChanged, from, type Observable } from 'rxjs';
import type { AuditEvent, AuditRecord } from '../domain/audit.js';
import { createRing } from './ring.js';

export interface AuditBusOptions {
  /** Audit logging on at start (SMTP_DEBUG). */
  readonly enabled: boolean;
  /** How many recent records are kept for `Last-Event-ID` replay (0: none). */
  readonly replay: number;
  /** Time source for the records' `time` field. */
  readonly clock?: () => Date;
}

/**
 * The daemon's audit bus. Its subjects stay private: producers call
 * `publish()`, consumers subscribe to one of two streams.
 *
 * - `events$`: the operator-facing audit log (SSE, `/healthz`, log lines).
 *   Gated by the run-time switch; each record carries a `seq` and `time`.
 *   While the switch is off `publish()` builds no record at all.
 * - `raw$`: every published event, whatever the switch says, unstamped. This is
 *   the always-on tap that drives Prometheus metrics, which must count even
 *   when nobody is tailing the audit log.
 */
export interface AuditBus {
  publish(event: AuditEvent): void;
  readonly events$: Observable<AuditRecord>;
  readonly raw$: Observable<AuditEvent>;
  /** Current switch state; replays the current value to each subscriber. */
  readonly enabled$: Observable<boolean>;
  isEnabled(): boolean;
  /** Toggles audit logging; a change publishes a `config` record (key `audit`). */
  setEnabled(enabled: boolean): void;
  /**
   * Records after `lastSeq` that are still in the replay window, oldest first.
   * A `lastSeq` ahead of the newest record means the client saw an earlier run
   * of the daemon (sequence numbers restart), so the whole window is returned.
   */
  replaySince(lastSeq: number): AuditRecord[];
  /** `replaySince(lastSeq)` followed by live records, with no gap in between. */
  since$(lastSeq: number | undefined): Observable<AuditRecord>;
  /** Completes both streams; later publishes are ignored. */
  close(): void;
}

export const AUDIT_CONFIG_KEY = 'audit';

export function createAuditBus(options: AuditBusOptions): AuditBus {
  const clock = options.clock ?? (() => new Date());
  const records = new Subject<AuditRecord>();
  const raw = new Subject<AuditEvent>();
  const enabled = new BehaviorSubject<boolean>(options.enabled);
  const ring = createRing<AuditRecord>(Math.max(0, Math.floor(options.replay)));
  let seq = 0;
  let closed = false;

  function stamp(event: AuditEvent): void {
    seq += 1;
    const record: AuditRecord = { ...event, seq, time: clock().toISOString() };
    ring.push(record);
    records.next(record);
  }

  function publish(event: AuditEvent): void {
    if (closed) return;
    raw.next(event);
    if (enabled.value) stamp(event);
  }

  function setEnabled(next: boolean): void {
    if (closed || next === enabled.value) return;
    const change: AuditEvent = { type: 'config', key: AUDIT_CONFIG_KEY, value: next ? 'on' : 'off' };
    if (next) {
      enabled.next(true);
      publish(change);
    } else {
      // Published while still on, so subscribers see why the stream goes quiet.
      publish(change);
      enabled.next(false);
    }
  }

  function replaySince(lastSeq: number): AuditRecord[] {
    const kept = ring.toArray();
    if (lastSeq > seq) return kept;
    return kept.filter((record) => record.seq > lastSeq);
  }

  return {
    publish,
    events$: records.asObservable(),
    raw$: raw.asObservable(),
    enabled$: enabled.pipe(distinctUntilChanged()),
    isEnabled: () => enabled.value,
    setEnabled,
    replaySince,
    // Replay and subscription happen in the same synchronous turn, so no record
    // published in between can be missed or duplicated.
    since$: (lastSeq) => defer(() => concat(from(lastSeq === undefined ? [] : replaySince(lastSeq)), records)),
    close: () => {
      if (closed) return;
      closed = true;
      records.complete();
      raw.complete();
      enabled.complete();
    },
  };
}
