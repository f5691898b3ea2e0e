import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { CLI, startChildDaemon } from '../helpers/child-daemon.js';
import { startSink } from '../helpers/sink.js';

const run = promisify(execFile);

async function cli(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, ...args], {
      env: { PATH: process.env.PATH ?? '', ...env },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('gopherpost CLI as a child process (§7)', () => {
  it('config check prints the effective configuration with secrets masked', async () => {
    const r = await cli(['config', 'check'], {
      SMTP_AUTH_USERS: 'alice:topsecret',
      SMTP_ADMIN_TOKEN: 'abcdefghijklmnopqrstuvwxyz',
    });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^SMTP_PORT=2525$/m);
    expect(r.stdout).toContain('alice:****');
    expect(r.stdout).not.toContain('topsecret');
    expect(r.stdout).not.toContain('abcdefghijklmnopqrstuvwxyz');
  });

  it('a bad value exits 78 naming the variable, the value and what is expected', async () => {
    const r = await cli(['config', 'check'], { SMTP_PORT: 'abc' });
    expect(r.code).toBe(78);
    expect(r.stderr).toContain('SMTP_PORT="abc"');
    expect(r.stderr).toMatch(/expected an integer port/);
    const serve = await cli(['serve'], { SMTP_DELIVERY_MODE: 'carrier-pigeon' });
    expect(serve.code).toBe(78);
    expect(serve.stderr).toContain('SMTP_DELIVERY_MODE="carrier-pigeon"');
  });

  it('has help for every command', async () => {
    const r = await cli(['--help']);
    for (const command of ['serve', 'config', 'queue', 'messages', 'send', 'tail']) expect(r.stdout).toContain(command);
  });

  it('send delivers a test message, and queue/messages read a running daemon', async () => {
    const spool = await mkdtemp(join(tmpdir(), 'gp-cli-'));
    const daemon = await startChildDaemon({
      SMTP_QUEUE_PATH: spool,
      SMTP_DELIVERY_MODE: 'hold',
      SMTP_HEALTH_ADDR: '127.0.0.1:0',
      SMTP_HEALTH_DISABLE: 'false',
      SMTP_REQUIRE_LOCAL_DOMAIN: 'false',
    });
    try {
      const httpPort = /"http":(\d+)[^\n]*"msg":"GopherPost listening"/.exec(daemon.output())?.[1];
      expect(httpPort).toBeDefined();
      const sent = await cli([
        'send',
        '--server',
        `127.0.0.1:${daemon.port}`,
        '--from',
        'a@sender.test',
        '--to',
        'b@example.test',
        '--subject',
        'cli',
        '--body',
        'hello',
        '--insecure',
      ]);
      expect(sent.code, sent.stderr).toBe(0);
      const env = { SMTP_HEALTH_ADDR: `127.0.0.1:${httpPort}` };
      const queue = await cli(['queue', 'ls'], env);
      expect(queue.code, queue.stderr).toBe(0);
      expect(queue.stdout).toContain('b@example.test');
      const messages = await cli(['messages', 'ls', '--json'], env);
      expect(messages.code, messages.stderr).toBe(0);
      const id = /[0-9a-z]{20}/.exec(messages.stdout)?.[0] ?? '';
      const shown = await cli(['messages', 'show', id], env);
      expect(shown.stdout).toContain('b@example.test');
    } finally {
      daemon.child.kill('SIGTERM');
      expect(await daemon.exited).toBe(0);
      await rm(spool, { recursive: true, force: true });
    }
  });

  it('send reaches a plain sink', async () => {
    const sink = await startSink();
    try {
      const r = await cli([
        'send',
        '--server',
        `127.0.0.1:${sink.port}`,
        '--from',
        'a@x.test',
        '--to',
        'b@y.test',
        '--no-tls',
      ]);
      expect(r.code, r.stderr).toBe(0);
      expect(sink.messages.length).toBe(1);
    } finally {
      await sink.close();
    }
  });
});
