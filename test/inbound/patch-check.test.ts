import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  assertSmtpServer,
  checkSmtpServer,
  fingerprintOf,
  installedSmtpServerVersion,
  PINNED_SMTP_SERVER,
  SmtpServerMismatch,
  type LibraryClassName,
  type SmtpServerLibrary,
} from '../../src/inbound/patch-check.js';
import { INSTALLED_SMTP_SERVER, PATCHES } from '../../src/inbound/patches.js';
import { CLI } from '../helpers/child-daemon.js';

// Nothing in this file applies the patches: the check reads smtp-server as installed.

/** The installed library with one prototype member replaced (or removed, with `undefined`). */
function tampered(on: LibraryClassName, method: string, replacement: unknown): SmtpServerLibrary {
  const prototype: object = Object.create(INSTALLED_SMTP_SERVER[on].prototype, {
    [method]: { value: replacement },
  }) as object;
  return { ...INSTALLED_SMTP_SERVER, [on]: { prototype } };
}

describe('smtp-server is the version the patches were written for (§3)', () => {
  it('is pinned exactly in package.json, and that version is installed', async () => {
    const manifest = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as {
      dependencies: Record<string, string>;
    };
    expect(manifest.dependencies['smtp-server']).toBe(PINNED_SMTP_SERVER);
    expect(installedSmtpServerVersion()).toBe(PINNED_SMTP_SERVER);
  });

  it('has every method each patch relies on, with the expected shape, markers and fingerprints', () => {
    // An upgrade that changes any of them fails here (and stops the daemon at start-up).
    expect(checkSmtpServer(INSTALLED_SMTP_SERVER, PATCHES)).toEqual([]);
    expect(() => assertSmtpServer(INSTALLED_SMTP_SERVER, PATCHES)).not.toThrow();
  });

  it('checks every method a patch replaces, and fingerprints the ones replaced whole', () => {
    const expected = PATCHES.flatMap((patch) => patch.expects.map((e) => `${e.on}.${e.method}`));
    const replaced = [
      'SMTPConnection.init',
      'SMTPConnection.send',
      'SMTPConnection.handler_QUIT',
      'SMTPServer._handleProxy',
      'SMTPStream._feedDataStream',
    ];
    for (const method of replaced) expect(expected).toContain(method);
    const fingerprinted = PATCHES.flatMap((patch) =>
      patch.expects.filter((e) => e.fingerprint !== undefined).map((e) => `${e.on}.${e.method}`),
    );
    expect(fingerprinted.sort()).toEqual([
      'SMTPConnection.handler_QUIT',
      'SMTPConnection.init',
      'SMTPStream._feedDataStream',
    ]);
  });
});

describe('the start-up check reports a library that changed (§3)', () => {
  it.each([
    [
      'a missing method',
      tampered('SMTPConnection', 'handler_QUIT', undefined),
      'SMTPConnection.prototype.handler_QUIT is missing (found undefined) (patch: QUIT closes at once)',
    ],
    [
      'a different parameter count',
      tampered('SMTPConnection', 'send', function send(code: number) {
        return code;
      }),
      'SMTPConnection.prototype.send takes 1 parameters, expected 3',
    ],
    [
      'a marker that is gone',
      tampered(
        'SMTPConnection',
        '_getEnhancedStatusCode',
        function _getEnhancedStatusCode(code: number, context: unknown) {
          return context ? String(code) : '';
        },
      ),
      'SMTPConnection.prototype._getEnhancedStatusCode no longer contains `context === false`',
    ],
    [
      'a method replaced whole whose source changed',
      tampered('SMTPStream', '_feedDataStream', function _feedDataStream(chunk: Buffer, done: () => void) {
        done();
        return chunk;
      }),
      'SMTPStream.prototype._feedDataStream has changed (source fingerprint',
    ],
    [
      'a class whose source lost a field a patch reads',
      tampered('SMTPServer', 'constructor', class SMTPServer {}),
      'class SMTPServer no longer contains `this.logger = `',
    ],
  ])('%s', (_case, library, problem) => {
    const problems = checkSmtpServer(library, PATCHES);
    expect(problems.some((p) => p.startsWith(problem))).toBe(true);
    expect(() => assertSmtpServer(library, PATCHES)).toThrow(SmtpServerMismatch);
    expect(() => assertSmtpServer(library, PATCHES)).toThrow(`pinned: smtp-server@${PINNED_SMTP_SERVER}`);
  });

  it('fingerprints by source text', () => {
    expect(fingerprintOf(INSTALLED_SMTP_SERVER.SMTPConnection.prototype.constructor)).toMatch(/^[0-9a-f]{16}$/);
    expect(fingerprintOf(() => 1)).not.toBe(fingerprintOf(() => 2));
  });

  it('stops the daemon at start-up, before the spool opens, naming the method and the pinned version (exit 70, EX_SOFTWARE)', async () => {
    const spoolDir = await mkdtemp(join(tmpdir(), 'gp-patch-check-'));
    try {
      const upgrade = fileURLToPath(new URL('fixtures/upgraded-smtp-server.mjs', import.meta.url));
      const child = spawn(process.execPath, ['--import', upgrade, CLI, 'serve'], {
        env: {
          PATH: process.env.PATH ?? '',
          SMTP_PORT: '0',
          SMTP_BIND: '127.0.0.1',
          SMTP_HOSTNAME: 'mx.local.test',
          SMTP_HEALTH_DISABLE: 'true',
          SMTP_QUEUE_PATH: spoolDir,
          LOG_LEVEL: 'info',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
      const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
      expect(code).toBe(70); // a broken installation: EX_SOFTWARE
      expect(output).toContain('could not start');
      expect(output).toContain('SMTPConnection.prototype.handler_QUIT takes 3 parameters, expected 2');
      expect(output).toContain(`smtp-server@${PINNED_SMTP_SERVER}`);
      expect(output).not.toContain('GopherPost listening');
      expect(output).not.toMatch(/uncaught|TypeError/i);
      expect(await readdir(spoolDir)).toEqual([]); // the spool was never opened
    } finally {
      await rm(spoolDir, { recursive: true, force: true });
    }
  }, 20_000);
});
