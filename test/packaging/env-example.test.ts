import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { VARIABLES } from '../../src/config/variables.js';
import { repoRoot } from './helpers.js';

// .env.example must list every variable the daemon reads (src/config/variables.ts,
// which follows SPEC §2), and install.sh and the Dockerfile may set only those.

/** Variables set or shown commented out (`# NAME=value`) in an env file. */
function exampleVariables(text: string): Set<string> {
  return new Set([...text.matchAll(/^[ \t]*#?[ \t]*([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1] ?? ''));
}

describe('.env.example', () => {
  it('lists every variable the daemon reads, and none it does not', () => {
    const listed = exampleVariables(readFileSync(join(repoRoot, '.env.example'), 'utf8'));
    expect(VARIABLES.filter((v) => !listed.has(v))).toEqual([]);
    const known = new Set<string>(VARIABLES);
    expect([...listed].filter((v) => v.startsWith('SMTP_') && !known.has(v))).toEqual([]);
  });

  it('install.sh and the Dockerfile only set variables the daemon reads', () => {
    const known = new Set<string>(VARIABLES);
    const install = readFileSync(join(repoRoot, 'install.sh'), 'utf8');
    const written = [...install.matchAll(/printf '([A-Z][A-Z0-9_]*)=/g)].map((m) => m[1] ?? '');
    expect(written.length).toBeGreaterThan(5);
    const dockerfile = readFileSync(join(repoRoot, 'Dockerfile'), 'utf8');
    const env = [...dockerfile.matchAll(/\b(SMTP_[A-Z0-9_]+)=/g)].map((m) => m[1] ?? '');
    expect([...written, ...env].filter((v) => !known.has(v))).toEqual([]);
  });
});
