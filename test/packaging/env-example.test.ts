import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from './helpers.js';

// .env.example must list every variable SPEC.md §2 names. The SPEC lives
// outside the repository (in the shared folder); GOPHERPOST_SPEC may point
// elsewhere. Without it, or without .env.example, the tests say why they skip.

const specPath = process.env.GOPHERPOST_SPEC ?? '/work/shared/SPEC.md';
const examplePath = join(repoRoot, '.env.example');
const hasSpec = existsSync(specPath);
const hasExample = existsSync(examplePath);
const missing = [hasSpec ? '' : `no SPEC at ${specPath}`, hasExample ? '' : 'no .env.example yet'].filter(Boolean);
const reason = missing.length > 0 ? ` (skipped: ${missing.join(', ')})` : '';
if (reason) console.warn(`packaging: .env.example check${reason}`);

/** Every variable named in the first column of the tables in SPEC §2. */
export function specVariables(spec: string): string[] {
  const start = spec.search(/^## 2\./m);
  const rest = spec.slice(start);
  const end = rest.slice(1).search(/^## \d+\./m);
  const section = end < 0 ? rest : rest.slice(0, end + 1);
  const names = new Set<string>();
  for (const line of section.split('\n')) {
    const cells = line.split('|');
    const first = cells[1];
    if (!line.startsWith('|') || first === undefined || /^\s*-+\s*$/.test(first)) continue;
    for (const name of first.match(/\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b/g) ?? []) names.add(name);
  }
  return [...names].sort();
}

/** Variables set or shown commented out (`# NAME=value`) in an env file. */
function exampleVariables(text: string): Set<string> {
  return new Set([...text.matchAll(/^[ \t]*#?[ \t]*([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1] ?? ''));
}

describe('.env.example', () => {
  it.skipIf(!hasSpec || !hasExample)(`lists every variable of SPEC §2${reason}`, () => {
    const wanted = specVariables(readFileSync(specPath, 'utf8'));
    expect(wanted.length).toBeGreaterThan(30); // the parser found the tables
    expect(wanted).toEqual(expect.arrayContaining(['SMTP_PORT', 'SMTP_TLS_KEY', 'SMTP_DKIM_DOMAIN', 'LOG_LEVEL']));
    const listed = exampleVariables(readFileSync(examplePath, 'utf8'));
    expect(wanted.filter((v) => !listed.has(v))).toEqual([]);
  });

  it.skipIf(!hasSpec)(`install.sh and the Dockerfile only set variables of SPEC §2${hasSpec ? '' : ` (skipped: no SPEC at ${specPath})`}`, () => {
    const known = new Set(specVariables(readFileSync(specPath, 'utf8')));
    const install = readFileSync(join(repoRoot, 'install.sh'), 'utf8');
    const written = [...install.matchAll(/printf '([A-Z][A-Z0-9_]*)=/g)].map((m) => m[1] ?? '');
    expect(written.length).toBeGreaterThan(5);
    const dockerfile = readFileSync(join(repoRoot, 'Dockerfile'), 'utf8');
    const env = [...dockerfile.matchAll(/\b(SMTP_[A-Z0-9_]+)=/g)].map((m) => m[1] ?? '');
    expect([...written, ...env].filter((v) => !known.has(v))).toEqual([]);
  });
});
