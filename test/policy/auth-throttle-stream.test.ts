/**
 * The throttle's fold prunes expired clients at most once per window: the
 * state stays bounded without a timer, and pruning does not cost a pass
 * over every tracked client on every AUTH result.
 */
import { from, lastValueFrom, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { DEFAULT_THROTTLE } from '../../src/policy/auth-throttle.js';
import { throttleAuth } from '../../src/policy/auth-throttle-stream.js';

const cfg = { ...DEFAULT_THROTTLE, windowMs: 10 };

/** Clients tracked after each failed AUTH, one client per address. */
async function trackedAfter(failures: ReadonlyArray<readonly [ip: string, at: number]>): Promise<string[][]> {
  const verdicts = await lastValueFrom(
    from(failures.map(([ip, at]) => ({ ip, at, ok: false }))).pipe(throttleAuth(cfg), toArray()),
  );
  return verdicts.map((verdict) => [...verdict.state.clients.keys()]);
}

describe('throttleAuth pruning', () => {
  it('prunes at the first result, then once a whole window after the last pruning', async () => {
    const tracked = await trackedAfter([
      ['192.0.2.1', 0], // pruned here (the first result), nothing to forget
      ['192.0.2.2', 5],
      ['192.0.2.3', 12], // a window after the pruning at 0: .1 (failed at 0) is forgotten
      ['192.0.2.4', 16], // .2 expired at 15 but is kept until the next pruning
      ['192.0.2.5', 22], // exactly a window after 12: .2 and .3 are forgotten
    ]);
    expect(tracked).toEqual([
      ['192.0.2.1'],
      ['192.0.2.1', '192.0.2.2'],
      ['192.0.2.2', '192.0.2.3'],
      ['192.0.2.2', '192.0.2.3', '192.0.2.4'],
      ['192.0.2.4', '192.0.2.5'],
    ]);
  });
});
