import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// docs/pipeline.md: a marble test tests what runs. Every operator in src/rx/
// has its marble test here and is imported by the daemon's code outside src/rx/.

const src = fileURLToPath(new URL('../src', import.meta.url));

async function sources(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries
    .filter((e) => e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.d.ts'))
    .map((e) => join(e.parentPath, e.name));
}

describe('src/rx/', () => {
  it('holds only operators that the daemon uses and that have a marble test', async () => {
    const operators = (await readdir(join(src, 'rx')))
      .filter((name) => name.endsWith('.ts'))
      .map((name) => name.slice(0, -3));
    const users = (await sources(src)).filter((file) => !relative(src, file).startsWith('rx'));
    const texts = await Promise.all(users.map((file) => readFile(file, 'utf8')));
    const marbles = await readdir(fileURLToPath(new URL('.', import.meta.url)));
    expect(operators.length).toBeGreaterThan(0);
    for (const operator of operators) {
      expect({ operator, usedBy: texts.some((text) => text.includes(`/rx/${operator}.js'`)) }).toEqual({
        operator,
        usedBy: true,
      });
      expect(marbles).toContain(`${operator}.test.ts`);
    }
  });
});
