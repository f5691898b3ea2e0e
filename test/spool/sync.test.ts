import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fsyncFile, syncFilesystem } from '../../src/spool/file/io/sync.js';

describe('checkpoint sync (§4)', () => {
  it('without syncfs, fsyncs the given files, every folder under the root and the root (skipping what is gone)', async () => {
    const root = await mkdtemp(join(tmpdir(), 'gp-fsync-'));
    try {
      await mkdir(join(root, '2026-11-24'));
      await mkdir(join(root, '2026-11-25'));
      await writeFile(join(root, '2026-11-25', 'a.eml'), 'x');
      const synced: string[] = [];
      await syncFilesystem(root, [join(root, '2026-11-25', 'a.eml'), join(root, '2026-11-25', 'gone.eml')], {
        syncfs: () => Promise.resolve(false), // `sync --file-system` missing
        fsync: async (path) => {
          await fsyncFile(path); // really, so a missing path fails as it would
          synced.push(path.slice(root.length) || '/');
        },
      });
      expect(synced).toEqual(['/2026-11-25/a.eml', '/2026-11-24', '/2026-11-25', '/']);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  it('with syncfs, does nothing else', async () => {
    const synced: string[] = [];
    await syncFilesystem('/nonexistent', ['/nonexistent/a'], {
      syncfs: () => Promise.resolve(true),
      fsync: (p) => Promise.resolve(void synced.push(p)),
    });
    expect(synced).toEqual([]);
  });
});
