import { execFile } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { runCli } from '../../src/cli/program.js';
import { loadConfig } from '../../src/config/load.js';
import { parseDkimRecord } from '../../src/dkim/keys.js';
import { CLI } from '../helpers/child-daemon.js';
import { startDnsServer } from '../helpers/dns-server.js';
import type { RunningDnsServer } from '../helpers/dns-server.js';

const run = promisify(execFile);

interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

async function cli(args: string[], env: Record<string, string> = {}, cwd?: string): Promise<CliResult> {
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, ...args], {
      env: { PATH: process.env.PATH ?? '', ...env },
      ...(cwd ? { cwd } : {}),
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/**
 * The real `gopherpost` program in-process (src/cli/program.ts, exit codes
 * included) with stdout/stderr captured: child processes cost seconds each.
 * Only for runs that end in an action (commander's own usage errors exit).
 */
async function inProcess(args: string[], env: Record<string, string> = {}, cwd = dir): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const capture =
    (append: (text: string) => void) =>
    (chunk: string | Uint8Array): boolean => {
      append(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString());
      return true;
    };
  const out = vi.spyOn(process.stdout, 'write').mockImplementation(capture((t) => void (stdout += t)));
  const err = vi.spyOn(process.stderr, 'write').mockImplementation(capture((t) => void (stderr += t)));
  try {
    const code = await runCli(new Command(), ['node', 'gopherpost', ...args], { ...env }, cwd);
    return { code, stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}

/** The record name and the joined value of keygen's zone-file output. */
function recordOf(stdout: string): { name: string; value: string; strings: string[] } {
  const zone = stdout
    .split('\n')
    .filter((line) => !line.startsWith(';'))
    .join('\n');
  const name = /^(\S+)\. IN TXT \(/m.exec(zone)?.[1] ?? '';
  const strings = [...zone.matchAll(/"([^"]*)"/g)].map((m) => m[1] ?? '');
  return { name, value: strings.join(''), strings };
}

let dir: string;
let dns: RunningDnsServer;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gp-dkim-cli-'));
  dns = await startDnsServer({ 'broken._domainkey.example.test': { servfail: true } });
});
afterAll(async () => {
  await dns.close();
  await rm(dir, { recursive: true, force: true });
});

function checkEnv(keyPath: string, selector: string): Record<string, string> {
  return {
    SMTP_DNS_SERVERS: `127.0.0.1:${dns.port}`,
    SMTP_DKIM_SELECTOR: selector,
    SMTP_DKIM_KEY_PATH: keyPath,
    SMTP_DKIM_DOMAIN: 'example.test',
  };
}

describe('gopherpost dkim keygen / check (§5)', () => {
  it.each([
    ['rsa', 'the built CLI', [], 'k=rsa', cli],
    ['ed25519', 'in-process', ['--type', 'ed25519'], 'k=ed25519', inProcess],
  ])('%s: keygen writes a 0600 key, its record published makes check pass (%s)', async (type, _how, flags, k, run) => {
    const out = join(dir, `${type}.pem`);
    const selector = `s-${type}`;
    const generated = await run([
      'dkim',
      'keygen',
      '--selector',
      selector,
      '--domain',
      'Example.TEST',
      '--out',
      out,
      ...flags,
    ]);
    expect(generated.code, generated.stderr).toBe(0);
    expect((await stat(out)).mode & 0o777).toBe(0o600);
    const record = recordOf(generated.stdout);
    expect(record.name).toBe(`${selector}._domainkey.example.test`);
    expect(record.value).toMatch(new RegExp(`^v=DKIM1; ${k}; p=[A-Za-z0-9+/=]+$`));
    for (const s of record.strings) expect(s.length).toBeLessThanOrEqual(255);
    expect(parseDkimRecord(record.value)?.publicKey).not.toBe('');
    // the key file is what the daemon loads
    expect(
      loadConfig({ SMTP_DKIM_SELECTOR: selector, SMTP_DKIM_KEY_PATH: out }, { hostname: 'mx.local.test' }).dkim
        ?.privateKeyPem,
    ).toBe(await readFile(out, 'utf8'));

    const before = await run(['dkim', 'check'], checkEnv(out, selector));
    expect(before.code).toBe(1);
    expect(before.stderr).toContain(`missing: no DKIM key record at ${selector}._domainkey.example.test`);

    dns.zone[record.name] = { TXT: [record.value] };
    const after = await run(['dkim', 'check'], checkEnv(out, selector));
    expect(after.code, after.stderr).toBe(0);
    expect(after.stdout).toContain(`match: ${selector}._domainkey.example.test publishes the ${type} key of ${out}`);
  });

  it('an RSA record is 2048 bits by default and split into 255-character strings', async () => {
    const out = join(dir, 'split.pem');
    const r = await inProcess(['dkim', 'keygen', '--selector', 'split', '--domain', 'example.test', '--out', out]);
    const record = recordOf(r.stdout);
    expect(record.strings.length).toBeGreaterThan(1);
    expect(record.strings[0]).toHaveLength(255);
    expect(r.stdout).toContain('2048 bits');
  });

  it('refuses to overwrite a key file without --force, and replaces it (0600) with it', async () => {
    const out = join(dir, 'existing.pem');
    await writeFile(out, 'precious', { mode: 0o644 });
    const refused = await inProcess(['dkim', 'keygen', '--selector', 's1', '--domain', 'example.test', '--out', out]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('exists; pass --force');
    expect(await readFile(out, 'utf8')).toBe('precious');
    const forced = await inProcess([
      'dkim',
      'keygen',
      '--selector',
      's1',
      '--domain',
      'example.test',
      '--out',
      out,
      '--force',
      '--type',
      'ed25519',
    ]);
    expect(forced.code, forced.stderr).toBe(0);
    expect(await readFile(out, 'utf8')).toContain('BEGIN PRIVATE KEY');
    expect((await stat(out)).mode & 0o777).toBe(0o600);
  });

  it('writes <selector>._domainkey.<domain>.pem in the working directory by default', async () => {
    const r = await inProcess(
      ['dkim', 'keygen', '--selector', 'def', '--domain', 'example.test', '--type', 'ed25519'],
      {},
      dir,
    );
    expect(r.code, r.stderr).toBe(0);
    expect((await stat(join(dir, 'def._domainkey.example.test.pem'))).mode & 0o777).toBe(0o600);
  });

  it.each([
    [['--selector', 'bad_selector', '--domain', 'example.test'], '--selector "bad_selector"'],
    [
      ['--selector', 's', '--domain', 'example.test', '--type', 'ed25519', '--bits', '2048'],
      '--bits applies to RSA keys only',
    ],
    [['--selector', 's', '--domain', 'example.test', '--bits', '512'], '--bits "512"'],
  ])('keygen %j is a usage error (64)', async (args, message) => {
    const r = await inProcess(['dkim', 'keygen', ...args, '--out', join(dir, 'never.pem')]);
    expect(r.code).toBe(64);
    expect(r.stderr).toContain(message);
  });

  it('check: a different key is a mismatch (1), a SERVFAIL is unavailable (69), no key is a usage error (64)', async () => {
    const out = join(dir, 'mine.pem');
    const mine = await inProcess([
      'dkim',
      'keygen',
      '--selector',
      'mine',
      '--domain',
      'example.test',
      '--out',
      out,
      '--type',
      'ed25519',
    ]);
    const record = recordOf(mine.stdout);
    dns.zone[record.name] = { TXT: ['v=spf1 -all', record.value] }; // other TXT records at the name are ignored
    const other = join(dir, 'other.pem');
    await writeFile(
      other,
      generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    );

    expect((await inProcess(['dkim', 'check'], checkEnv(out, 'mine'))).code).toBe(0);
    const mismatch = await inProcess(['dkim', 'check', '--key', other], checkEnv(out, 'mine'));
    expect(mismatch.code).toBe(1);
    expect(mismatch.stderr).toContain(`mismatch: mine._domainkey.example.test publishes a different key than ${other}`);

    const broken = await inProcess(['dkim', 'check', '--selector', 'broken'], checkEnv(out, 'mine'));
    expect(broken.code).toBe(69);
    expect(broken.stderr).toContain('ESERVFAIL');

    dns.zone['revoked._domainkey.example.test'] = { TXT: ['v=DKIM1; k=rsa; p='] };
    const revoked = await inProcess(['dkim', 'check', '--selector', 'revoked'], checkEnv(out, 'mine'));
    expect(revoked.code).toBe(1);
    expect(revoked.stderr).toContain('revoked');

    const none = await inProcess(['dkim', 'check', '--selector', 'mine', '--domain', 'example.test'], {
      SMTP_DNS_SERVERS: `127.0.0.1:${dns.port}`,
    });
    expect(none.code).toBe(64);
    expect(none.stderr).toContain('no DKIM key configured');
  });

  it('help lists the dkim commands', async () => {
    expect((await cli(['--help'])).stdout).toContain('dkim');
    const help = await cli(['dkim', '--help']);
    expect(help.stdout).toContain('keygen');
    expect(help.stdout).toContain('check');
  });
});

describe('a bad DKIM key stops start-up with exit 78 naming the variable (§5)', () => {
  it.each([
    ['garbage inline', { SMTP_DKIM_PRIVATE_KEY: 'not a key' }, 'SMTP_DKIM_PRIVATE_KEY'],
    ['a missing file', { SMTP_DKIM_KEY_PATH: '/nonexistent/dkim.pem' }, 'SMTP_DKIM_KEY_PATH'],
    [
      'a 512-bit RSA key',
      {
        SMTP_DKIM_PRIVATE_KEY: generateKeyPairSync('rsa', { modulusLength: 512 })
          .privateKey.export({ type: 'pkcs8', format: 'pem' })
          .toString(),
      },
      'SMTP_DKIM_PRIVATE_KEY',
    ],
  ])('%s', async (_what, env, variable) => {
    const serve = await inProcess(['serve'], {
      SMTP_DKIM_SELECTOR: 's1',
      SMTP_PORT: '0',
      SMTP_HEALTH_DISABLE: 'true',
      ...env,
    });
    expect(serve.code).toBe(78);
    expect(serve.stderr).toContain(variable);
    const check = await inProcess(['dkim', 'check', '--domain', 'example.test'], { SMTP_DKIM_SELECTOR: 's1', ...env });
    expect(check.code).toBe(78);
  });

  it('the built CLI too', async () => {
    const serve = await cli(['serve'], {
      SMTP_DKIM_SELECTOR: 's1',
      SMTP_DKIM_PRIVATE_KEY: 'not a key',
      SMTP_PORT: '0',
      SMTP_HEALTH_DISABLE: 'true',
    });
    expect(serve.code).toBe(78);
    expect(serve.stderr).toContain('SMTP_DKIM_PRIVATE_KEY');
  });
});
