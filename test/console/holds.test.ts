import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openHolds, parseHoldDomain } from '../../src/console/holds.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gp-holds-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('held destinations', () => {
  it('survive a reopen, and a release is durable too', async () => {
    const path = join(dir, 'sub', 'holds.json');
    const holds = await openHolds(path);
    expect(holds.isHeld('example.test')).toBe(false);
    expect(await holds.hold('example.test')).toBe(true);
    expect(await holds.hold('b.test')).toBe(true);
    expect(await holds.hold('example.test')).toBe(false);
    const again = await openHolds(path);
    expect(again.list()).toEqual(['b.test', 'example.test']);
    expect(again.isHeld('example.test')).toBe(true);
    expect(await again.release('example.test')).toBe(true);
    expect(await again.release('example.test')).toBe(false);
    expect((await openHolds(path)).list()).toEqual(['b.test']);
    expect(await readFile(path, 'utf8')).toBe('{"held":["b.test"]}\n');
  });

  it('a malformed file stops the start and names the file', async () => {
    const path = join(dir, 'holds.json');
    await writeFile(path, '{"held":["not a domain"]}');
    await expect(openHolds(path)).rejects.toThrow(`${path}: expected {"held": ["domain", …]}`);
  });

  it('accepts host names only, lower-cased, without the final dot', () => {
    expect(parseHoldDomain(' Example.COM. ')).toBe('example.com');
    expect(parseHoldDomain('xn--bcher-kva.example')).toBe('xn--bcher-kva.example');
    for (const bad of ['', 'a b', '-a.test', 'a..test', 'a/b', `${'a'.repeat(64)}.test`]) {
      expect(parseHoldDomain(bad), bad).toBeUndefined();
    }
  });
});
