/**
 * The I/O threads' whole-file writes (src/spool/file/io/files.ts) hold no
 * descriptor once they return: a spool writes a file per message, and a
 * leak would run the process out of descriptors.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { writeFile } from '../../src/spool/file/io/files.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gp-io-files-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const openDescriptors = (): number => readdirSync('/proc/self/fd').length;

it.skipIf(process.platform !== 'linux')('closes every file it writes, text or bytes (needs /proc)', () => {
  const before = openDescriptors();
  for (let i = 0; i < 20; i++) {
    writeFile(join(dir, `t${i}`), `text ${i}`, 'w');
    writeFile(join(dir, `b${i}`), Buffer.from(`bytes ${i}`), 'wx');
  }
  expect(openDescriptors()).toBe(before);
  expect(readFileSync(join(dir, 't7'), 'utf8')).toBe('text 7');
  expect(readFileSync(join(dir, 'b7'), 'utf8')).toBe('bytes 7');
  // a refused write ('wx' on an existing name) holds nothing either
  expect(() => writeFile(join(dir, 'b7'), Buffer.from('again'), 'wx')).toThrow(/EEXIST/);
  expect(openDescriptors()).toBe(before);
});
