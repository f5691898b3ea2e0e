import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot, run, which } from './helpers.js';

const unitPath = join(repoRoot, 'packaging/systemd/gopherpost.service');
const analyze = which('systemd-analyze');
if (!analyze) console.warn('packaging: systemd-analyze not found, `systemd-analyze verify` is skipped');

/** `Key=value` lines of one section, comments dropped; keys may repeat. */
function directives(text: string, section: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  let current = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) {
      current = header[1] ?? '';
      continue;
    }
    const eq = line.indexOf('=');
    if (current === section && eq > 0) out.push([line.slice(0, eq), line.slice(eq + 1)]);
  }
  return out;
}

describe('packaging/systemd/gopherpost.service', () => {
  it('runs the daemon as its own user with the hardening the issue asks for', async () => {
    const service = new Map(directives(await readFile(unitPath, 'utf8'), 'Service'));
    expect(Object.fromEntries(service)).toMatchObject({
      User: 'gopherpost',
      Group: 'gopherpost',
      ExecStart: '/usr/bin/node /opt/gopherpost/dist/src/cli/main.js serve',
      ExecReload: '/bin/kill -HUP $MAINPID',
      EnvironmentFile: '/etc/gopherpost/gopherpost.env',
      WorkingDirectory: '/var/lib/gopherpost',
      ProtectSystem: 'strict',
      ReadWritePaths: '/var/lib/gopherpost',
      ProtectHome: 'yes',
      PrivateTmp: 'yes',
      PrivateDevices: 'yes',
      NoNewPrivileges: 'yes',
      CapabilityBoundingSet: 'CAP_NET_BIND_SERVICE',
      AmbientCapabilities: 'CAP_NET_BIND_SERVICE',
      LockPersonality: 'yes',
      MemoryDenyWriteExecute: 'no', // V8's JIT
      SystemCallFilter: '@system-service',
      Restart: 'on-failure',
      KillSignal: 'SIGTERM',
      UMask: '0077',
    });
    const families = (service.get('RestrictAddressFamilies') ?? '').split(/\s+/);
    expect(families).toEqual(expect.arrayContaining(['AF_INET', 'AF_INET6', 'AF_UNIX']));
    expect(Number(service.get('TimeoutStopSec'))).toBeGreaterThanOrEqual(60);
    // start-up failures a restart cannot fix end the loop (configuration, a malformed spool file, no permission)
    expect((service.get('RestartPreventExitStatus') ?? '').split(/\s+/).sort()).toEqual(['65', '77', '78']);
    expect(Number(service.get('LimitNOFILE'))).toBeGreaterThanOrEqual(4096);
  });

  const reason = analyze ? '' : ' (skipped: systemd-analyze is not installed)';
  it.skipIf(!analyze)(`passes systemd-analyze verify${reason}`, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gp-unit-'));
    try {
      const copy = join(dir, 'gopherpost.service');
      // verify checks that ExecStart's program exists; install.sh rewrites the
      // node path the same way when node is not /usr/bin/node.
      if (existsSync('/usr/bin/node')) await copyFile(unitPath, copy);
      else await writeFile(copy, (await readFile(unitPath, 'utf8')).replace('/usr/bin/node ', `${process.execPath} `));
      const r = run(analyze ?? 'systemd-analyze', ['verify', copy]);
      // verify exits 0 even for unknown keys or bad values; it only warns. Any
      // line about our file is a problem.
      expect(r.stderr.split('\n').filter((l) => l.includes('gopherpost.service'))).toEqual([]);
      expect(r.status).toBe(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
