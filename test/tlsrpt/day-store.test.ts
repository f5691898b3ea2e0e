/** The TLS-RPT day files (SMTP_QUEUE_PATH/tlsrpt/<day>.json): written atomically, read back after a restart. */
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDayStore } from '../../src/tlsrpt/day-store.js';
import { addSession } from '../../src/tlsrpt/tally.js';
import { eventually } from '../helpers/eventually.js';

const none = { type: 'no-policy-found', strings: [], mxHosts: [] } as const;
let dir: string;

beforeEach(async () => {
  dir = join(await mkdtemp(join(tmpdir(), 'gp-tlsrpt-')), 'tlsrpt');
});
afterEach(async () => {
  await rm(join(dir, '..'), { recursive: true, force: true });
});

describe('the day store', () => {
  it('keeps the counts across a restart', async () => {
    const store = await openDayStore(dir, { flushMs: 60_000 });
    addSession(store.day('2026-12-06'), 'example.com', none, { ok: true });
    addSession(store.day('2026-12-07'), 'example.com', none, { ok: true });
    store.changed('2026-12-06');
    store.changed('2026-12-07');
    await store.close();
    expect((await readdir(dir)).sort()).toEqual(['2026-12-06.json', '2026-12-07.json']);
    expect((await stat(join(dir, '2026-12-06.json'))).mode & 0o777).toBe(0o600);

    const again = await openDayStore(dir, { flushMs: 60_000 });
    expect(again.days().map((d) => d.day)).toEqual(['2026-12-06', '2026-12-07']);
    expect(again.day('2026-12-06').domains['example.com']?.policies[0]?.successes).toBe(1);
    await again.close();
  });

  it('writes a change within flushMs without being asked', async () => {
    const store = await openDayStore(dir, { flushMs: 20 });
    addSession(store.day('2026-12-06'), 'example.com', none, { ok: true });
    store.changed('2026-12-06');
    await eventually(async () => (await readFile(join(dir, '2026-12-06.json'), 'utf8').catch(() => '')) !== '');
    expect(await readdir(dir)).toEqual(['2026-12-06.json']); // no temporary file left
    await store.close();
  });

  it('forgets a removed day, on disk too', async () => {
    const store = await openDayStore(dir, { flushMs: 60_000 });
    addSession(store.day('2026-12-06'), 'example.com', none, { ok: true });
    store.changed('2026-12-06');
    await store.flush();
    await store.remove('2026-12-06');
    expect(store.days()).toEqual([]);
    expect(await readdir(dir)).toEqual([]);
    await store.close();
  });

  it('skips a file that is not a day file, saying so', async () => {
    const first = await openDayStore(dir, { flushMs: 60_000 });
    await first.close();
    await writeFile(join(dir, '2026-12-05.json'), '{"half":');
    const errors: string[] = [];
    const store = await openDayStore(dir, { flushMs: 60_000, onError: (m) => errors.push(m) });
    expect(store.days()).toEqual([]);
    expect(errors).toEqual([expect.stringContaining('2026-12-05.json is not a TLS-RPT day file')]);
    await store.close();
  });
});
