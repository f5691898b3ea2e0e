import { describe, expect, it } from 'vitest';
import { decideConnection } from '../../src/policy/connections.js';

const limits = { max: 1000, perIp: 20 };

describe('decideConnection', () => {
  it.each([
    [{ total: 0, forIp: 0 }, 'accept'],
    [{ total: 999, forIp: 19 }, 'accept'],
    [{ total: 1000, forIp: 0 }, 'server'],
    [{ total: 1000, forIp: 20 }, 'server'],
    [{ total: 500, forIp: 20 }, 'address'],
    [{ total: 500, forIp: 21 }, 'address'],
  ] as const)('%j -> %s', (active, expected) => {
    expect(checkDecision(decideConnection(active, limits))).toBe(expected);
  });

  it('rejects with 421 4.7.0 and closes', () => {
    expect(decideConnection({ total: 1000, forIp: 1 }, limits)).toEqual({
      kind: 'reject',
      code: 421,
      enhanced: '4.7.0',
      text: 'Too many connections to this server, try again later',
      close: true,
    });
    expect(decideConnection({ total: 1, forIp: 20 }, limits)).toEqual({
      kind: 'reject',
      code: 421,
      enhanced: '4.7.0',
      text: 'Too many connections from your address, try again later',
      close: true,
    });
  });
});

function checkDecision(decision: ReturnType<typeof decideConnection>): string {
  if (decision.kind === 'accept') return 'accept';
  return decision.text.includes('server') ? 'server' : 'address';
}
