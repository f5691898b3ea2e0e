import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { createAuditBus } from '../../src/audit/bus.js';
import type { AuditEvent, AuditRecord } from '../../src/domain/audit.js';

const start = (session: string): AuditEvent => ({ type: 'session.start', session, client: '127.0.0.1' });

function scheduler(): TestScheduler {
  return new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
}

/** A record as the bus stamps it at virtual time `frame`. */
function rec(event: AuditEvent, seq: number, frame: number): AuditRecord {
  return { ...event, seq, time: new Date(frame).toISOString() };
}

const a = start('a');
const b = start('b');
const c = start('c');
const d = start('d');

describe('audit bus fan-out (marbles)', () => {
  it('is hot: a late subscriber sees only what is published after it subscribed', () => {
    const ts = scheduler();
    ts.run(({ hot, expectObservable }) => {
      const bus = createAuditBus({ enabled: true, replay: 10, clock: () => new Date(ts.now()) });
      hot('-a-b-c-d', { a, b, c, d }).subscribe((e) => bus.publish(e));
      expectObservable(bus.events$).toBe('-a-b-c-d', {
        a: rec(a, 1, 1),
        b: rec(b, 2, 3),
        c: rec(c, 3, 5),
        d: rec(d, 4, 7),
      });
      expectObservable(bus.events$, '----^---').toBe('-----c-d', { c: rec(c, 3, 5), d: rec(d, 4, 7) });
    });
  });

  it('since$ replays the records after Last-Event-ID that are still in the window, then goes live', () => {
    const ts = scheduler();
    ts.run(({ hot, expectObservable }) => {
      const bus = createAuditBus({ enabled: true, replay: 2, clock: () => new Date(ts.now()) });
      hot('-a-b-c-----d', { a, b, c, d }).subscribe((e) => bus.publish(e));
      const values = { b: rec(b, 2, 3), c: rec(c, 3, 5), d: rec(d, 4, 11) };
      // Last-Event-ID 1: b and c are replayed at subscription (a fell out of the 2-record window).
      expectObservable(bus.since$(1), '-------^----').toBe('-------(bc)d', values);
      // Last-Event-ID 2: only c. The window does not reach back to 0: a is lost.
      expectObservable(bus.since$(2), '-------^----').toBe('-------c---d', values);
      expectObservable(bus.since$(0), '-------^----').toBe('-------(bc)d', values);
      // No Last-Event-ID: live only.
      expectObservable(bus.since$(undefined), '-------^----').toBe('-----------d', values);
      // An id from a previous run of the daemon (ahead of ours): the whole window.
      expectObservable(bus.since$(99), '-------^----').toBe('-------(bc)d', values);
    });
  });

  it('on/off toggle: events$ is gated (with a config record at each change), raw$ never is', () => {
    const ts = scheduler();
    ts.run(({ hot, expectObservable }) => {
      const bus = createAuditBus({ enabled: false, replay: 10, clock: () => new Date(ts.now()) });
      hot('-a--b--c--d', { a, b, c, d }).subscribe((e) => bus.publish(e));
      hot('--1---0--1', { 0: false, 1: true }).subscribe((on) => bus.setEnabled(on));
      const on: AuditEvent = { type: 'config', key: 'audit', value: 'on' };
      const off: AuditEvent = { type: 'config', key: 'audit', value: 'off' };
      expectObservable(bus.events$).toBe('--x-b-y--wd', {
        x: rec(on, 1, 2),
        b: rec(b, 2, 4),
        y: rec(off, 3, 6), // published while still on, so subscribers see why it goes quiet
        w: rec(on, 4, 9),
        d: rec(d, 5, 10),
      });
      // Metrics count everything, switch or not (raw events carry no seq/time).
      expectObservable(bus.raw$).toBe('-ax-b-yc-wd', { a, b, c, d, x: on, y: off, w: on });
      expectObservable(bus.enabled$).toBe('f-t---f--t', { f: false, t: true });
    });
  });
});
