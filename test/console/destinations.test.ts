import { describe, expect, it } from 'vitest';
import { destinationRows } from '../../src/console/destinations.js';

const NOW = Date.UTC(2026, 0, 1, 12, 0, 0);
const MIN = 60_000;

describe('destinationRows', () => {
  it('sums cells per domain, ages the oldest minute, sorts by waiting, keeps held ones past the top', () => {
    const list = destinationRows({
      cells: [
        { domain: 'a.test', minute: NOW - 10 * MIN, recipients: 2 },
        { domain: 'a.test', minute: NOW - 3 * MIN, recipients: 1 },
        { domain: 'b.test', minute: NOW - MIN, recipients: 5 },
        { domain: 'c.test', minute: NOW, recipients: 1 },
        { domain: 'empty.test', minute: NOW, recipients: 0 },
      ],
      held: ['c.test', 'idle.test'],
      lastError: (domain) =>
        domain === 'b.test'
          ? { time: NOW - 1000, recipient: 'x@b.test', outcome: 'deferred', response: '451 later' }
          : undefined,
      now: NOW,
      top: 2,
    });
    expect(list.domains).toBe(4);
    expect(list.destinations).toEqual([
      {
        domain: 'b.test',
        waiting: 5,
        oldestAgeSeconds: 60,
        held: false,
        lastError: {
          time: '2026-01-01T11:59:59.000Z',
          recipient: 'x@b.test',
          outcome: 'deferred',
          response: '451 later',
        },
      },
      { domain: 'a.test', waiting: 3, oldestAgeSeconds: 600, held: false, lastError: null },
      { domain: 'c.test', waiting: 1, oldestAgeSeconds: 0, held: true, lastError: null },
      { domain: 'idle.test', waiting: 0, oldestAgeSeconds: null, held: true, lastError: null },
    ]);
  });
});
