import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../http/helpers.js';
import { runCli } from './helpers.js';

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

describe('gopherpost queue hold|release', () => {
  it('holds and releases a destination through the admin API, saying when nothing changed', async () => {
    harness = await startHarness({ console: true, auditEnabled: false });
    const adminUrl = harness.url;
    expect((await runCli(['queue', 'hold', 'Example.com'], { adminUrl })).stdout).toBe('example.com: held\n');
    expect((await runCli(['queue', 'hold', 'example.com'], { adminUrl })).stdout).toBe('example.com: already held\n');
    expect(JSON.parse(await readFile(join(harness.dir, 'holds.json'), 'utf8'))).toEqual({ held: ['example.com'] });
    const json = await runCli(['queue', '--json', 'release', 'example.com'], { adminUrl });
    expect(JSON.parse(json.stdout)).toEqual({ domain: 'example.com', held: false, changed: true });
    expect((await runCli(['queue', 'release', 'example.com'], { adminUrl })).stdout).toBe(
      'example.com: already not held\n',
    );
    const bad = await runCli(['queue', 'hold', 'not a domain'], { adminUrl });
    expect(String(bad.error)).toContain('expected a destination domain');
  });
});
