/** Counting sessions from the audit stream: the policy each was under, as RFC 8460 §4.4 names it. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Subject } from 'rxjs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AuditEvent } from '../../src/domain/audit.js';
import { collectSessions } from '../../src/tlsrpt/collect.js';
import { openDayStore, type DayStore } from '../../src/tlsrpt/day-store.js';

const NOW = Date.UTC(2026, 11, 6, 12);
const TLSA = ['3 1 1 ' + 'ab'.repeat(32)];
let dir: string;
let store: DayStore;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gp-collect-'));
  store = await openDayStore(join(dir, 'tlsrpt'), { flushMs: 60_000 });
});
afterEach(async () => {
  await store.close();
  await rm(dir, { recursive: true, force: true });
});

function collect(): Subject<AuditEvent> {
  const events$ = new Subject<AuditEvent>();
  collectSessions({ events$, store, stsPolicy: () => undefined, clock: () => NOW });
  return events$;
}

describe('collectSessions', () => {
  it('counts a DANE host under a tlsa policy with its records, success and failure alike', () => {
    const events$ = collect();
    const host = 'mx.example.com[192.0.2.1]:25';
    const base = { type: 'delivery.tls', id: '01k95duvpme94cqsdp9f', domain: 'example.com', policy: 'dane' } as const;
    events$.next({ ...base, result: 'dane-verified', refused: false, host, tlsa: TLSA });
    events$.next({ ...base, result: 'dane-failed', refused: true, host, tlsa: TLSA, detail: 'matches no TLSA record' });
    const [policy] = store.day('2026-12-06').domains['example.com']?.policies ?? [];
    expect(policy?.policy).toEqual({ type: 'tlsa', strings: TLSA, mxHosts: [] });
    expect(policy?.successes).toBe(1);
    expect(policy?.failures.map((f) => f.resultType)).toEqual(['tlsa-invalid']);
  });

  it('does not count a REQUIRETLS refusal: the sender asked for more, the domain did not fail', () => {
    const events$ = collect();
    events$.next({
      type: 'delivery.tls',
      id: '01k95duvpme94cqsdp9f',
      domain: 'example.com',
      policy: 'may',
      result: 'requiretls-unmet',
      refused: true,
      host: 'example.com',
    });
    expect(store.day('2026-12-06').domains['example.com']).toBeUndefined();
  });
});
