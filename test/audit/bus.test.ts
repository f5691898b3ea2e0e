import { describe, expect, it } from 'vitest';
import { createAuditBus } from '../../src/audit/bus.js';
import type { AuditEvent, AuditRecord } from '../../src/domain/audit.js';

const event = (n: number): AuditEvent => ({ type: 'command', session: 's', command: `NOOP ${n}`, reply: 250 });

describe('createAuditBus', () => {
  it('numbers records from 1 and stamps them with the clock', () => {
    const bus = createAuditBus({ enabled: true, replay: 5, clock: () => new Date(0) });
    const seen: AuditRecord[] = [];
    bus.events$.subscribe((r) => seen.push(r));
    bus.publish(event(1));
    bus.publish(event(2));
    expect(seen.map((r) => [r.seq, r.time])).toEqual([
      [1, '1970-01-01T00:00:00.000Z'],
      [2, '1970-01-01T00:00:00.000Z'],
    ]);
  });

  it('while disabled, publish builds no record: no clock call, no sequence number, nothing kept', () => {
    let clockCalls = 0;
    const bus = createAuditBus({ enabled: false, replay: 5, clock: () => (clockCalls++, new Date(0)) });
    const raw: AuditEvent[] = [];
    bus.raw$.subscribe((e) => raw.push(e));
    for (let i = 0; i < 100; i++) bus.publish(event(i));
    expect(clockCalls).toBe(0);
    expect(bus.replaySince(0)).toEqual([]);
    expect(raw).toHaveLength(100);
    bus.setEnabled(true);
    expect(bus.replaySince(0).map((r) => [r.seq, r.type])).toEqual([[1, 'config']]);
  });

  it('keeps a bounded replay window', () => {
    const bus = createAuditBus({ enabled: true, replay: 3 });
    for (let i = 1; i <= 10; i++) bus.publish(event(i));
    expect(bus.replaySince(0).map((r) => r.seq)).toEqual([8, 9, 10]);
    expect(bus.replaySince(9).map((r) => r.seq)).toEqual([10]);
    expect(bus.replaySince(10)).toEqual([]);
    expect(bus.replaySince(500).map((r) => r.seq)).toEqual([8, 9, 10]);
  });

  it('replay 0 keeps nothing', () => {
    const bus = createAuditBus({ enabled: true, replay: 0 });
    bus.publish(event(1));
    expect(bus.replaySince(0)).toEqual([]);
  });

  it('setEnabled to the current value publishes nothing', () => {
    const bus = createAuditBus({ enabled: true, replay: 5 });
    bus.setEnabled(true);
    expect(bus.replaySince(0)).toEqual([]);
    expect(bus.isEnabled()).toBe(true);
  });

  it('close completes the streams and ignores later publishes', () => {
    const bus = createAuditBus({ enabled: true, replay: 5 });
    let completed = 0;
    bus.events$.subscribe({ complete: () => completed++ });
    bus.raw$.subscribe({ complete: () => completed++ });
    bus.close();
    bus.publish(event(1));
    expect(completed).toBe(2);
    expect(bus.replaySince(0)).toEqual([]);
  });
});
