import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isRoot, repoRoot, run, which } from './helpers.js';

// install.sh is run as a child process. Every run but the last uses --dry-run
// and points every location into a temporary folder, and the tests check that
// the folder (and TMPDIR, where a real run stages its build) stay empty.

const script = join(repoRoot, 'install.sh');
const user = 'gp-test-nouser'; // a user that does not exist, so creation is shown

let root: string;
let stage: string;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'gp-install-'));
  stage = await mkdtemp(join(tmpdir(), 'gp-install-tmp-'));
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
  await rm(stage, { recursive: true, force: true });
});

function locations(): string[] {
  return [
    '--prefix',
    join(root, 'opt/gopherpost'),
    '--state-dir',
    join(root, 'var/lib/gopherpost'),
    '--env-file',
    join(root, 'etc/gopherpost/gopherpost.env'),
    '--unit-dir',
    join(root, 'etc/systemd/system'),
    '--user',
    user,
    '--node',
    process.execPath,
  ];
}

function install(args: readonly string[], input = ''): ReturnType<typeof run> {
  return run('sh', [script, ...args], { input, env: { ...process.env, TMPDIR: stage } });
}

async function nothingChanged(): Promise<void> {
  expect(await readdir(root)).toEqual([]);
  expect(await readdir(stage)).toEqual([]);
  expect(run('getent', ['passwd', user]).status).not.toBe(0);
}

/** The `+ ` lines: the commands the script runs (or would run). */
function steps(stdout: string): string[] {
  return stdout.split('\n').filter((l) => l.startsWith('+ '));
}

describe('install.sh --dry-run', () => {
  it('prints every step of a non-interactive install and changes nothing', async () => {
    const r = install([
      '--dry-run',
      '--non-interactive',
      '--hostname',
      'mx.example.test',
      '--port',
      '25',
      '--allow-networks',
      '192.0.2.0/24,2001:db8::/32',
      '--delivery-mode',
      'relay',
      '--relay-url',
      'smtp://user:s3cret@relay.example.test:587',
      ...locations(),
    ]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const plan = steps(r.stdout);
    const p = (rel: string): string => join(root, rel);

    // build in a staging copy
    expect(plan).toContain(`+ (cd ${stage}/gopherpost-build.XXXXXX && npm ci --no-audit --no-fund)`);
    expect(plan).toContain(`+ (cd ${stage}/gopherpost-build.XXXXXX && npm run build)`);
    expect(plan).toContain(`+ (cd ${stage}/gopherpost-build.XXXXXX && npm prune --omit=dev --no-audit --no-fund)`);
    // user and group (busybox systems have adduser/addgroup instead)
    if (which('useradd') !== undefined || which('adduser') === undefined) {
      expect(plan).toContain(`+ groupadd --system ${user}`);
      const useradd = plan.find((l) => l.startsWith('+ useradd ')) ?? '';
      expect(useradd).toContain(`--system --gid ${user} --home-dir ${p('var/lib/gopherpost')} --no-create-home`);
      expect(useradd).toMatch(/--shell \S*(nologin|false) --comment 'GopherPost SMTP daemon' gp-test-nouser$/);
    } else {
      expect(plan).toContain(`+ addgroup -S ${user}`);
      expect(plan.some((l) => l.startsWith(`+ adduser -S -D -H -G ${user} `))).toBe(true);
    }
    // directories
    expect(plan).toContain(`+ install -d -m 0700 -o ${user} -g ${user} ${p('var/lib/gopherpost')}`);
    expect(plan).toContain(`+ install -d -m 0700 -o ${user} -g ${user} ${p('var/lib/gopherpost/spool')}`);
    expect(plan).toContain(`+ install -d -m 0750 -o root -g ${user} ${p('etc/gopherpost')}`);
    // code
    expect(plan).toContain(`+ cp -R ${stage}/gopherpost-build.XXXXXX/dist ${p('opt/gopherpost.new')}/`);
    expect(plan).toContain(`+ mv ${p('opt/gopherpost.new')} ${p('opt/gopherpost')}`);
    // unit
    const sed = plan.find((l) => l.startsWith('+ sed '));
    expect(sed).toContain(`ExecStart=${process.execPath} ${p('opt/gopherpost')}/`);
    expect(sed).toContain(`EnvironmentFile=${p('etc/gopherpost/gopherpost.env')}`);
    expect(sed).toContain(`> ${p('etc/systemd/system/gopherpost.service.tmp')}`);
    expect(plan).toContain(
      `+ mv -f ${p('etc/systemd/system/gopherpost.service.tmp')} ${p('etc/systemd/system/gopherpost.service')}`,
    );
    // env file, 0640 root:<group>, with the answers and no secret in clear
    expect(plan).toContain(`+ write ${p('etc/gopherpost/gopherpost.env.tmp')} (mode 0640, owner root:${user}):`);
    expect(plan).toContain(`+ chmod 0640 ${p('etc/gopherpost/gopherpost.env.tmp')}`);
    expect(plan).toContain(`+ chown root:${user} ${p('etc/gopherpost/gopherpost.env.tmp')}`);
    expect(plan).toContain(`+ mv -f ${p('etc/gopherpost/gopherpost.env.tmp')} ${p('etc/gopherpost/gopherpost.env')}`);
    const env = r.stdout
      .split('\n')
      .filter((l) => l.startsWith('    '))
      .map((l) => l.trim());
    expect(env).toEqual(
      expect.arrayContaining([
        'SMTP_HOSTNAME=mx.example.test',
        'SMTP_PORT=25',
        'SMTP_ALLOW_NETWORKS=192.0.2.0/24,2001:db8::/32',
        'SMTP_DELIVERY_MODE=relay',
        'SMTP_RELAY_URL=smtp://user:********@relay.example.test:587',
        `SMTP_QUEUE_PATH=${p('var/lib/gopherpost/spool')}`,
        "SMTP_ADMIN_TOKEN='********'",
      ]),
    );
    expect(r.stdout).not.toContain('s3cret');
    // the steps come in a sensible order
    const order = ['+ (cd', '+ install -d -m 0700', '+ cp -R', '+ sed ', '+ write '];
    const at = order.map((prefix) => plan.findIndex((l) => l.startsWith(prefix)));
    expect(at.every((i) => i >= 0)).toBe(true);
    expect([...at].sort((a, b) => a - b)).toEqual(at);

    await nothingChanged();
  });

  it('reads prompt answers (empty keeps the default) and changes nothing', async () => {
    const answers = ['mail.example.test', '2526', '', 'hold', '127.0.0.1:9090', 'tok3n'].join('\n') + '\n';
    const r = install(['--dry-run', ...locations()], answers);
    expect(r.status).toBe(0);
    expect(r.stderr).toContain('Mail host name (SMTP_HOSTNAME)');
    expect(r.stderr).toContain('SMTP port (SMTP_PORT) [25]');
    const env = r.stdout.split('\n').map((l) => l.trim());
    expect(env).toContain('SMTP_HOSTNAME=mail.example.test');
    expect(env).toContain('SMTP_PORT=2526');
    expect(env).toContain('SMTP_ALLOW_NETWORKS=127.0.0.0/8,::1');
    expect(env).toContain('SMTP_DELIVERY_MODE=hold');
    expect(env).toContain('SMTP_HEALTH_ADDR=127.0.0.1:9090');
    expect(r.stdout).not.toContain('tok3n');
    await nothingChanged();
  });

  it.each<[string, string[], RegExp]>([
    ['a port out of range', ['--port', '70000'], /--port must be a number from 1 to 65535/],
    ['an unknown delivery mode', ['--delivery-mode', 'carrier-pigeon'], /--delivery-mode must be mx, relay or hold/],
    ['relay without a URL', ['--delivery-mode', 'relay'], /needs --relay-url/],
    [
      'a relay URL of another scheme',
      ['--delivery-mode', 'relay', '--relay-url', 'http://x'],
      /smtp:\/\/ or smtps:\/\//,
    ],
    ['a relative prefix', ['--prefix', 'opt/gp'], /--prefix must be an absolute path/],
    ['a prefix with a space', ['--prefix', '/tmp/a b'], /--prefix may contain only/],
    ['an unknown option', ['--frobnicate'], /unknown option: --frobnicate/],
    ['an unknown log level', ['--log-level', 'loud'], /--log-level must be/],
    [
      'a quote the env file cannot hold',
      ['--delivery-mode', 'relay', '--relay-url', "smtp://u:it's@h"],
      /SMTP_RELAY_URL may not contain a single quote/,
    ],
    ['a user name with a space', ['--user', 'mail user'], /--user must be a lower-case user name/],
  ])('stops on %s before doing anything', async (_name, args, message) => {
    const r = install(['--dry-run', '--non-interactive', ...locations(), ...args]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(message);
    expect(steps(r.stdout)).toEqual([]);
    await nothingChanged();
  });

  it('--help describes the flags', () => {
    const r = install(['--help']);
    expect(r.status).toBe(0);
    for (const flag of [
      '--dry-run',
      '--non-interactive',
      '--hostname',
      '--port',
      '--allow-networks',
      '--delivery-mode',
      '--relay-url',
      '--prefix',
      '--env-file',
    ]) {
      expect(r.stdout).toContain(flag);
    }
  });
});

describe('install.sh without root', () => {
  // As root the script is run as `nobody` (spawn's uid option); otherwise as is.
  const asUser = isRoot ? { uid: 65534, gid: 65534 } : {};

  it('refuses a real install', () => {
    const r = run('sh', [script, '--non-interactive'], { ...asUser, cwd: '/' });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/must run as root .*use --dry-run/);
    expect(r.stdout).toBe('');
  });

  it('allows --dry-run', () => {
    const r = run('sh', [script, '--dry-run', '--non-interactive', '--user', user], { ...asUser, cwd: '/' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('dry run complete: nothing was changed');
  });
});

/** A fake, pre-built checkout under `root/name` and the install.sh arguments that install it into `root/name/dest`. */
async function tempRootInstall(name: string): Promise<{ dest: string; args: string[] }> {
  // A pre-built fake checkout, so no npm runs; `--user root` exists already,
  // so no account is created; --no-start, so systemctl is not touched.
  const src = join(root, name, 'src');
  await mkdir(join(src, 'dist/src/cli'), { recursive: true });
  await mkdir(join(src, 'node_modules/dep'), { recursive: true });
  await mkdir(join(src, 'packaging/systemd'), { recursive: true });
  await writeFile(join(src, 'package.json'), '{"name":"gopherpost"}\n');
  await writeFile(join(src, 'package-lock.json'), '{}\n');
  await writeFile(join(src, 'dist/src/cli/main.js'), 'console.log("hi")\n');
  await mkdir(join(src, 'docs'), { recursive: true });
  await writeFile(join(src, 'README.md'), 'see [docs](docs/operations.md)\n');
  await writeFile(join(src, 'docs/operations.md'), '# Operations\n');
  await writeFile(
    join(src, 'packaging/systemd/gopherpost.service'),
    await readFile(join(repoRoot, 'packaging/systemd/gopherpost.service')),
  );
  const dest = join(root, name, 'dest');
  const args = [
    '--non-interactive',
    '--skip-build',
    '--no-start',
    '--source',
    src,
    '--user',
    'root',
    '--node',
    process.execPath,
    '--hostname',
    'mx.example.test',
    '--admin-token',
    'abc123',
    '--prefix',
    join(dest, 'opt/gopherpost'),
    '--state-dir',
    join(dest, 'var/lib/gopherpost'),
    '--env-file',
    join(dest, 'etc/gopherpost/gopherpost.env'),
    '--unit-dir',
    join(dest, 'etc/systemd/system'),
  ];
  return { dest, args };
}

describe('install.sh real run into a temporary root', () => {
  const reason = isRoot ? '' : ' (skipped: needs root for install -o/-g and chown)';
  it.skipIf(!isRoot)(
    `installs code, unit and a 0640 env file, and keeps the env file on a re-run${reason}`,
    async () => {
      const { dest, args } = await tempRootInstall('run');
      const first = install(args);
      expect(first.stderr).toBe('');
      expect(first.status).toBe(0);

      const envFile = join(dest, 'etc/gopherpost/gopherpost.env');
      expect((await stat(envFile)).mode & 0o777).toBe(0o640);
      expect((await stat(join(dest, 'etc/gopherpost'))).mode & 0o777).toBe(0o750);
      expect((await stat(join(dest, 'var/lib/gopherpost/spool'))).mode & 0o777).toBe(0o700);
      const env = await readFile(envFile, 'utf8');
      expect(env).toContain('SMTP_HOSTNAME=mx.example.test\n');
      expect(env).toContain('SMTP_ADMIN_TOKEN=abc123\n');
      expect(env).toContain(`SMTP_QUEUE_PATH=${join(dest, 'var/lib/gopherpost/spool')}\n`);
      expect(await readFile(join(dest, 'opt/gopherpost/dist/src/cli/main.js'), 'utf8')).toContain('hi');
      // the README's links into docs/ work where it is installed
      expect(await readFile(join(dest, 'opt/gopherpost/docs/operations.md'), 'utf8')).toBe('# Operations\n');
      const unit = await readFile(join(dest, 'etc/systemd/system/gopherpost.service'), 'utf8');
      expect(unit).toContain(
        `ExecStart=${process.execPath} ${join(dest, 'opt/gopherpost')}/dist/src/cli/main.js serve\n`,
      );
      expect(unit).toContain(`EnvironmentFile=${envFile}\n`);
      expect(unit).toContain(`ReadWritePaths=${join(dest, 'var/lib/gopherpost')}\n`);
      expect(unit).toContain(`WorkingDirectory=${join(dest, 'var/lib/gopherpost')}\n`);
      expect(unit).not.toMatch(/^StateDirectory=/m);
      expect(unit).toMatch(/^User=root$/m);

      // Second run: an upgrade. The code is replaced, the settings are kept.
      await writeFile(envFile, 'SMTP_HOSTNAME=edited.example.test\n');
      const second = install(args);
      expect(second.status).toBe(0);
      expect(second.stdout).toContain('exists, keeping it');
      expect(await readFile(envFile, 'utf8')).toBe('SMTP_HOSTNAME=edited.example.test\n');
      expect(await readdir(join(dest, 'opt'))).toEqual(['gopherpost']);
    },
  );

  const analyze = which('systemd-analyze');
  const verifyReason = !isRoot
    ? ' (skipped: needs root for install -o/-g and chown)'
    : analyze === undefined
      ? ' (skipped: systemd-analyze is not installed)'
      : '';
  it.skipIf(!isRoot || analyze === undefined)(
    `installs a unit that passes systemd-analyze verify${verifyReason}`,
    async () => {
      const { dest, args } = await tempRootInstall('verify');
      const installed = install(args);
      expect(installed.status).toBe(0);
      const verify = run(analyze ?? 'systemd-analyze', ['verify', join(dest, 'etc/systemd/system/gopherpost.service')]);
      expect(verify.stderr.split('\n').filter((l) => l.includes('gopherpost.service'))).toEqual([]);
    },
  );
});
