import { spawn } from 'node:child_process';
import nodemailer from 'nodemailer';
import { afterEach, describe, expect, it } from 'vitest';
import { CliError, EXIT } from '../../src/cli/admin/index.js';
import { SseParser } from '../../src/cli/admin/sse.js';
import { formatTailLine, type StopSignal } from '../../src/cli/admin/tail.js';
import { CLI } from '../helpers/child-daemon.js';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { eventually } from '../helpers/eventually.js';
import { startTcpProxy, type TcpProxy } from '../helpers/redis.js';
import { runCli, type RunResult } from './helpers.js';

let daemon: TestDaemon | undefined;
let proxy: TcpProxy | undefined;
afterEach(async () => {
  await proxy?.close();
  proxy = undefined;
  await daemon?.stop();
  daemon = undefined;
});

async function startDaemon(env: Record<string, string> = {}): Promise<{ d: TestDaemon; url: string }> {
  const d = await startTestDaemon({
    SMTP_HEALTH_DISABLE: 'false',
    SMTP_HEALTH_ADDR: '127.0.0.1:0',
    SMTP_DEBUG: 'true',
    SMTP_REQUIRE_LOCAL_DOMAIN: 'false',
    ...env,
  });
  daemon = d;
  return { d, url: `http://127.0.0.1:${d.daemon.http?.port ?? 0}` };
}

/** Sends one message to the daemon; resolves with its queue id. */
async function send(d: TestDaemon, subject: string): Promise<string> {
  const info = await nodemailer
    .createTransport({ host: '127.0.0.1', port: d.port, secure: false, tls: { rejectUnauthorized: false } })
    .sendMail({
      envelope: { from: 'a@sender.test', to: ['b@example.test'] },
      raw: `Subject: ${subject}\r\n\r\nhi\r\n`,
    });
  return info.response.slice(-20);
}

interface RunningTail {
  readonly out: () => string;
  readonly err: () => string;
  stop(): Promise<RunResult>;
}

/** `gopherpost tail …` in-process, until `stop()` (the SIGINT of the command line). */
function tail(args: readonly string[], url: string, token?: string): RunningTail {
  const controller = new AbortController();
  const stopSignal: StopSignal = () => ({ signal: controller.signal, release: () => undefined });
  let out = '';
  let err = '';
  const done = runCli(['tail', ...args], token === undefined ? { adminUrl: url } : { adminUrl: url, token }, {
    stopSignal,
    onOut: (text) => void (out += text),
    onErr: (text) => void (err += text),
  });
  return {
    out: () => out,
    err: () => err,
    stop: () => {
      controller.abort();
      return done;
    },
  };
}

const LINE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z [a-z.]+( [a-zA-Z]+=("(?:[^"\\]|\\.)*"|[^\s"]+))*$/;

describe('the SSE parser', () => {
  it('joins lines split across chunks, CRLF split in the middle, several data lines; reports comments and retry', () => {
    const parser = new SseParser();
    const items = [
      ...parser.push('retry: 3000\n: opening\n\nid: 7\nevent: conf'),
      ...parser.push('ig\ndata: {"a":\r'),
      ...parser.push('\ndata: 1}\n'),
      ...parser.push('\n'),
      ...parser.push(': heartbeat\n\ndata: x\n\n'),
    ];
    expect(items).toEqual([
      { kind: 'retry', ms: 3000 },
      { kind: 'comment', text: 'opening' },
      { kind: 'event', id: '7', event: 'config', data: '{"a":\n1}' },
      { kind: 'comment', text: 'heartbeat' },
      { kind: 'event', id: '7', event: 'message', data: 'x' },
    ]);
  });

  it('formats a record as time, type and its fields, quoting values with spaces', () => {
    expect(
      formatTailLine({
        seq: 3,
        time: '2026-12-06T10:00:00.000Z',
        type: 'delivery.outcome',
        id: 'abc',
        recipient: 'b@example.test',
        outcome: 'bounced',
        response: '550 5.1.1 no such user',
        attempts: 1,
      }),
    ).toBe(
      '2026-12-06T10:00:00.000Z delivery.outcome id=abc recipient=b@example.test outcome=bounced ' +
        'response="550 5.1.1 no such user" attempts=1\n',
    );
  });

  it('joins a list with commas and spells out an object field by field', () => {
    expect(
      formatTailLine({
        time: '2026-12-06T10:00:00.000Z',
        type: 'message.stored',
        to: ['b@example.test', 'c@example.test'],
        delays: { queue: 1, transmit: 2 },
      }),
    ).toBe(
      '2026-12-06T10:00:00.000Z message.stored to=b@example.test,c@example.test delays.queue=1 delays.transmit=2\n',
    );
  });
});

describe('gopherpost tail against a running daemon (§7)', () => {
  it('prints one readable line per audit event as it happens', async () => {
    const { d, url } = await startDaemon();
    const t = tail([], url);
    // the stream is open once the daemon counts the subscriber; send only then
    await eventually(async () => /gopherpost_audit_subscribers 1/.test(await (await fetch(`${url}/metrics`)).text()));
    const id = await send(d, 'tail');
    await eventually(
      () => t.out().includes(`message.stored`),
      5_000,
      () => `message.stored in:\n${t.out()}`,
    );
    const result = await t.stop();
    expect(result.error).toBeUndefined();
    const lines = result.stdout.trimEnd().split('\n');
    for (const line of lines) expect(line).toMatch(LINE);
    expect(lines.some((l) => / session\.start session=\S+ client=127\.0\.0\.1$/.test(l))).toBe(true);
    expect(result.stdout).toMatch(
      new RegExp(` message\\.stored session=\\S+ id=${id} sender=a@sender.test recipients=1 `),
    );
    expect(result.stderr).toBe('');
  });

  it('--json prints each event as one JSON line', async () => {
    const { d, url } = await startDaemon();
    const t = tail(['--json'], url);
    await eventually(async () => /gopherpost_audit_subscribers 1/.test(await (await fetch(`${url}/metrics`)).text()));
    const id = await send(d, 'json');
    await eventually(() => t.out().includes(id), 5_000);
    const result = await t.stop();
    const events = result.stdout
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as { seq: number; type: string; id?: string });
    expect(events.find((e) => e.type === 'message.stored')).toMatchObject({ id, sender: 'a@sender.test' });
    expect(events.every((e) => typeof e.seq === 'number')).toBe(true);
  });

  it('says when audit logging is off and how to switch it on, then shows events once it is on', async () => {
    const { url } = await startDaemon({ SMTP_DEBUG: 'false' });
    const t = tail([], url);
    await eventually(() => t.err().includes('audit logging is off'), 5_000);
    expect(t.err()).toContain(`-d '{"enabled":true}' ${url}/api/audit`);
    expect(t.err()).toContain('SMTP_DEBUG=true');
    const put = await fetch(`${url}/api/audit`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: '{"enabled":true}',
    });
    expect(put.status).toBe(200);
    await eventually(() => / config key=audit value=on$/m.test(t.out()), 5_000);
    const result = await t.stop();
    expect(result.error).toBeUndefined();
  });

  it('reconnects after a dropped connection with Last-Event-ID: what happened meanwhile shows once', async () => {
    const { d, url } = await startDaemon();
    proxy = await startTcpProxy(url);
    const via = `http://127.0.0.1:${new URL(proxy.url).port}`;
    const t = tail(['--json'], via);
    await eventually(async () => /gopherpost_audit_subscribers 1/.test(await (await fetch(`${url}/metrics`)).text()));
    const first = await send(d, 'before');
    await eventually(() => t.out().includes(first), 5_000);
    await proxy.cut();
    await eventually(() => t.err().includes('reconnecting'), 5_000);
    const second = await send(d, 'while away');
    await proxy.resume();
    await eventually(
      () => t.out().includes(second),
      10_000,
      () => `${second} in:\n${t.out()}\n${t.err()}`,
    );
    const result = await t.stop();
    const stored = result.stdout
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as { seq: number; type: string; id?: string })
      .filter((e) => e.type === 'message.stored')
      .map((e) => e.id);
    expect(stored).toEqual([first, second]);
    expect(result.stderr).toMatch(/reconnected, resuming after event \d+/);
  });

  it('a refused token exits 77; a daemon that is not there exits 69', async () => {
    const { url } = await startDaemon({ SMTP_ADMIN_TOKEN: 'secret-token-1234567890' });
    const refused = await runCli(['tail'], { adminUrl: url, token: 'wrong' });
    expect(refused.error).toBeInstanceOf(CliError);
    expect((refused.error as CliError).exitCode).toBe(EXIT.noPermission);
    expect((refused.error as CliError).message).toMatch(/401.*SMTP_ADMIN_TOKEN/);
    const absent = await runCli(['tail'], { adminUrl: 'http://127.0.0.1:1' });
    expect((absent.error as CliError).exitCode).toBe(EXIT.unavailable);
  });

  it('the command line exits 0 on SIGINT', async () => {
    const { d, url } = await startDaemon();
    const child = spawn(process.execPath, [CLI, 'tail'], {
      env: { PATH: process.env.PATH ?? '', SMTP_HEALTH_ADDR: new URL(url).host },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (data: Buffer) => void (out += data.toString()));
    child.stderr.on('data', (data: Buffer) => void (err += data.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    await eventually(async () => /gopherpost_audit_subscribers 1/.test(await (await fetch(`${url}/metrics`)).text()));
    await send(d, 'sigint');
    await eventually(() => out.includes('message.stored'), 5_000);
    const stoppedAt = Date.now();
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(Date.now() - stoppedAt).toBeLessThan(1_500); // not the 2 s safety exit of main.ts
    expect(err).toBe('');
  });
});
