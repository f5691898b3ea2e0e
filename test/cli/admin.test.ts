import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CliError, EXIT, adminUrlFor } from '../../src/cli/admin/index.js';
import type { MessageRecord } from '../../src/domain/envelope.js';
import { startHarness, storeMessage, type Harness } from '../http/helpers.js';
import { isHelpExit, runCli } from './helpers.js';

let harness: Harness;
let message: MessageRecord;
const BODY = 'Subject: cli\r\n\r\nfrom the CLI test\r\n';

async function start(adminToken?: string): Promise<void> {
  harness = await startHarness(
    adminToken === undefined ? { auditEnabled: false } : { auditEnabled: false, adminToken },
  );
  toClose = harness;
  message = await storeMessage(harness.spool, BODY);
  await harness.spool.update(message.id, [
    {
      recipient: 'Bob@example.test',
      status: 'deferred',
      attempts: 1,
      nextAttemptAt: Date.UTC(2030, 0, 1),
      lastResponse: '451 4.2.0 mailbox busy',
    },
  ]);
}

let toClose: Harness | undefined;
afterEach(async () => {
  await toClose?.close();
  toClose = undefined;
});

describe('queue and messages commands against a running daemon', () => {
  beforeEach(() => start());

  it('queue ls (and bare `queue`) lists waiting recipients as a table', async () => {
    for (const args of [['queue', 'ls'], ['queue']]) {
      const { stdout, error } = await runCli(args, { adminUrl: harness.url });
      expect(error).toBeUndefined();
      const lines = stdout.trimEnd().split('\n');
      expect(lines[0]).toMatch(/^ID\s+RECIPIENT\s+STATUS\s+ATTEMPTS\s+NEXT ATTEMPT\s+LAST RESPONSE$/);
      expect(lines[1]).toMatch(
        new RegExp(
          `^${message.id}\\s+Bob@example.test\\s+deferred\\s+1\\s+2030-01-01T00:00:00.000Z\\s+451 4.2.0 mailbox busy$`,
        ),
      );
      expect(lines[2]).toMatch(new RegExp(`^${message.id}\\s+carol@example.test\\s+queued\\s+0`));
      expect(lines.at(-1)).toBe('2 recipients waiting in all');
    }
  });

  it('queue ls --json prints the API response', async () => {
    const { stdout } = await runCli(['queue', '--json', 'ls'], { adminUrl: harness.url });
    expect(JSON.parse(stdout)).toMatchObject({ count: 2 });
  });

  it('queue flush, retry ID and rm ID act on the spool', async () => {
    expect((await runCli(['queue', 'flush'], { adminUrl: harness.url })).stdout).toBe(
      '1 recipient scheduled for immediate retry\n',
    );
    const retry = await runCli(['queue', 'retry', message.id], { adminUrl: harness.url });
    expect(retry.stdout).toMatch(new RegExp(`^${message.id}: \\d recipients? scheduled`));
    expect((await runCli(['queue', 'rm', message.id], { adminUrl: harness.url })).stdout).toBe(
      `${message.id}: removed\n`,
    );
    expect(await harness.spool.get(message.id)).toBeUndefined();
    expect((await runCli(['queue'], { adminUrl: harness.url })).stdout).toBe('queue is empty\n');
  });

  it('unknown and malformed ids fail with the API error and an exit code', async () => {
    const unknown = await runCli(['queue', 'rm', '0'.repeat(20)], { adminUrl: harness.url });
    expect(unknown.error).toBeInstanceOf(CliError);
    expect((unknown.error as CliError).message).toMatch(/404: no such message/);
    expect((unknown.error as CliError).exitCode).toBe(EXIT.failure);
    const bad = await runCli(['queue', 'retry', '../../etc'], { adminUrl: harness.url });
    expect((bad.error as CliError).message).toMatch(/400: invalid message id/);
  });

  it('messages ls, show ID and show ID --raw', async () => {
    const list = await runCli(['messages'], { adminUrl: harness.url });
    expect(list.stdout).toMatch(
      new RegExp(
        `^ID\\s+RECEIVED\\s+FROM\\s+SIZE\\s+RECIPIENTS\\n${message.id}\\s+2026-01-02T03:04:05.000Z\\s+<alice@example.test>\\s+${message.size}\\s+1 deferred, 1 queued\\n$`,
      ),
    );

    const show = await runCli(['messages', 'show', message.id], { adminUrl: harness.url });
    expect(show.stdout).toContain(`id:        ${message.id}`);
    expect(show.stdout).toContain('from:      <alice@example.test>');
    expect(show.stdout).toMatch(/Bob@example.test\s+deferred\s+1\s+2030-01-01T00:00:00.000Z\s+451 4.2.0 mailbox busy/);

    const raw = await runCli(['messages', 'show', message.id, '--raw'], { adminUrl: harness.url });
    expect(raw.error).toBeUndefined();
    expect(raw.bytes.toString('utf8').endsWith(BODY)).toBe(true);
  });

  it('messages ls counts recipients per outcome (a bounce is not "done"); --json is the API response', async () => {
    const finished = await storeMessage(harness.spool, BODY, { recipients: ['x@example.test', 'y@example.test'] });
    await harness.spool.update(finished.id, [
      { recipient: 'x@example.test', status: 'bounced', attempts: 1, nextAttemptAt: 0, lastResponse: '550 5.1.1 no' },
      { recipient: 'y@example.test', status: 'delivered', attempts: 1, nextAttemptAt: 0, lastResponse: '250 ok' },
    ]);
    const bounced = await storeMessage(harness.spool, BODY, { recipients: ['z@example.test'] });
    await harness.spool.update(bounced.id, [
      { recipient: 'z@example.test', status: 'bounced', attempts: 1, nextAttemptAt: 0, lastResponse: '550 5.1.1 no' },
    ]);
    const { stdout, error } = await runCli(['messages', 'ls'], { adminUrl: harness.url });
    expect(error).toBeUndefined();
    const row = (id: string): string => stdout.split('\n').find((line) => line.startsWith(id)) ?? '';
    expect(row(message.id)).toMatch(/\s1 deferred, 1 queued$/);
    expect(row(finished.id)).toMatch(/\s1 delivered, 1 bounced$/);
    expect(row(bounced.id)).toMatch(/\s1 bounced$/);
    expect(stdout).not.toContain('done');
    const json = await runCli(['messages', 'ls', '--json'], { adminUrl: harness.url });
    const api = await (await fetch(`${harness.url}/api/messages`)).json();
    expect(JSON.parse(json.stdout)).toEqual(api);
  });

  it('--url overrides the address from the environment', async () => {
    const { error, stdout } = await runCli(['queue', '--url', harness.url, 'ls'], { adminUrl: 'http://127.0.0.1:1' });
    expect(error).toBeUndefined();
    expect(stdout).toMatch(/2 recipients waiting/);
  });
});

describe('paging and the queue shape', () => {
  const MINUTE = 60_000;
  let stored: MessageRecord[];

  /** Five waiting messages, oldest first (minutes old, recipients): 8 recipients, 2 domains. */
  beforeEach(async () => {
    harness = await startHarness({ auditEnabled: false });
    toClose = harness;
    const now = Date.now();
    stored = [];
    for (const [minutes, recipients] of [
      [200, ['x@one.test']],
      [30, ['a@one.test', 'b@one.test', 'c@two.test']],
      [12, ['d@two.test']],
      [3, ['e@one.test']],
      [1, ['f@one.test', 'g@two.test']],
    ] as const) {
      stored.push(
        await storeMessage(harness.spool, BODY, { recipients: [...recipients], receivedAt: now - minutes * MINUTE }),
      );
    }
  });

  /** The recipient column of table rows (lines starting with a message id). */
  const recipientsOf = (stdout: string): string[] =>
    stdout.split('\n').flatMap((line) => (/^[0-9a-v]{20}\s/.test(line) ? [line.split(/\s+/)[1] ?? ''] : []));

  it('queue ls --limit prints one page, the depth of the whole queue, and how to get the next page', async () => {
    const first = await runCli(['queue', 'ls', '--limit', '2'], { adminUrl: harness.url });
    expect(first.error).toBeUndefined();
    expect(recipientsOf(first.stdout)).toEqual(['x@one.test', 'a@one.test', 'b@one.test', 'c@two.test']);
    const lines = first.stdout.trimEnd().split('\n');
    expect(lines.at(-2)).toBe('8 recipients waiting in all');
    const hint = /^more: gopherpost queue ls --limit 2 --after (\S+) {2}\(or --all for every page\)$/.exec(
      lines.at(-1) ?? '',
    );
    expect(hint, lines.at(-1)).not.toBeNull();

    const second = await runCli(['queue', 'ls', '--limit', '2', '--after', hint?.[1] ?? ''], { adminUrl: harness.url });
    expect(recipientsOf(second.stdout)).toEqual(['d@two.test', 'e@one.test']);
    expect(second.stdout).toMatch(/^ID\s+RECIPIENT/);
    expect(second.stdout).toContain('more: gopherpost queue ls --limit 2 --after ');
  });

  it('queue ls --all follows every page: one header, every recipient, no hint', async () => {
    const { stdout, error } = await runCli(['queue', 'ls', '--all', '--limit', '2'], { adminUrl: harness.url });
    expect(error).toBeUndefined();
    expect(recipientsOf(stdout)).toEqual([
      'x@one.test',
      'a@one.test',
      'b@one.test',
      'c@two.test',
      'd@two.test',
      'e@one.test',
      'f@one.test',
      'g@two.test',
    ]);
    expect(stdout.match(/^ID\s+RECIPIENT/gm)).toHaveLength(1);
    expect(stdout.trimEnd().split('\n').at(-1)).toBe('8 recipients waiting in all');
    expect(stdout).not.toContain('more:');
  });

  it('queue ls --all --json prints each page as one JSON line, as it comes', async () => {
    const { stdout } = await runCli(['queue', 'ls', '--all', '--limit', '2', '--json'], { adminUrl: harness.url });
    const pages = stdout
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as { count: number; depth: number; next?: string });
    expect(pages.map((p) => [p.count, p.depth, p.next === undefined])).toEqual([
      [4, 8, false],
      [2, 8, false],
      [2, 8, true],
    ]);
  });

  it('messages ls --limit pages through all messages; --all lists them all', async () => {
    const first = await runCli(['messages', 'ls', '--limit', '2'], { adminUrl: harness.url });
    expect(first.error).toBeUndefined();
    const ids = (stdout: string): string[] =>
      stdout.split('\n').flatMap((line) => /^([0-9a-v]{20})\s/.exec(line)?.[1] ?? []);
    expect(ids(first.stdout)).toEqual(stored.slice(0, 2).map((m) => m.id));
    const after = /--after (\S+)/.exec(first.stdout)?.[1] ?? '';
    const second = await runCli(['messages', '--limit', '2', '--after', after], { adminUrl: harness.url });
    expect(ids(second.stdout)).toEqual(stored.slice(2, 4).map((m) => m.id));

    const all = await runCli(['messages', 'ls', '--limit', '2', '--all'], { adminUrl: harness.url });
    expect(ids(all.stdout)).toEqual(stored.map((m) => m.id));
    expect(all.stdout).not.toContain('more:');
  });

  it('queue shape prints a qshape table: domains, T, then recipients by age in minutes', async () => {
    const { stdout, error } = await runCli(['queue', 'shape'], { adminUrl: harness.url });
    expect(error).toBeUndefined();
    expect(stdout).toBe(
      [
        'DOMAIN    T  5  10  20  40  80  160  320  640  1280  1280+',
        'TOTAL     8  3   0   1   3   0    0    1    0     0      0',
        'one.test  5  2   0   0   2   0    0    1    0     0      0',
        'two.test  3  1   0   1   1   0    0    0    0     0      0',
        '',
      ].join('\n'),
    );
  });

  it('queue shape --top N keeps the largest domains and says so; --json prints the API response', async () => {
    const top = await runCli(['queue', 'shape', '--top', '1'], { adminUrl: harness.url });
    expect(top.stdout.split('\n').map((line) => line.split(/\s+/)[0])).toEqual([
      'DOMAIN',
      'TOTAL',
      'one.test',
      '(the',
      '',
    ]);
    expect(top.stdout).toContain('(the 1 of 2 domains with the most recipients waiting)');
    const json = await runCli(['queue', '--json', 'shape', '--top', '1'], { adminUrl: harness.url });
    expect(JSON.parse(json.stdout)).toMatchObject({
      buckets: [5, 10, 20, 40, 80, 160, 320, 640, 1280],
      total: { total: 8 },
      domains: 2,
      rows: [{ domain: 'one.test', total: 5 }],
    });
  });

  it('bad --limit, --top and --after values fail with a usage error or the API error', async () => {
    for (const args of [
      ['queue', 'ls', '--limit', '0'],
      ['queue', 'ls', '--limit', 'abc'],
      ['messages', 'ls', '--limit', '1001'],
      ['queue', 'shape', '--top', 'x'],
    ]) {
      const { error } = await runCli(args, { adminUrl: harness.url });
      expect(error, args.join(' ')).toBeInstanceOf(CliError);
      expect((error as CliError).exitCode).toBe(EXIT.usage);
      expect((error as CliError).message).toMatch(/^--(limit|top) ".*": expected an integer from 1 to 1000$/);
    }
    const { error } = await runCli(['queue', 'ls', '--after', 'not-a-cursor'], { adminUrl: harness.url });
    expect((error as CliError).exitCode).toBe(EXIT.failure);
    expect((error as CliError).message).toMatch(/400: after="not-a-cursor": expected the "next" cursor/);
  });
});

describe('with an admin token', () => {
  beforeEach(() => start('tok-123'));

  it('uses the token from the environment, and explains a 401', async () => {
    const ok = await runCli(['queue'], { adminUrl: harness.url, token: 'tok-123' });
    expect(ok.error).toBeUndefined();
    const denied = await runCli(['queue'], { adminUrl: harness.url });
    expect(denied.error).toBeInstanceOf(CliError);
    expect((denied.error as CliError).exitCode).toBe(EXIT.noPermission);
    expect((denied.error as CliError).message).toMatch(/401: a valid bearer token is required \(set SMTP_ADMIN_TOKEN/);
    const flag = await runCli(['queue', '--token', 'tok-123'], { adminUrl: harness.url });
    expect(flag.error).toBeUndefined();
  });
});

describe('without a daemon', () => {
  it('an unreachable daemon is exit code 69 with the address in the message', async () => {
    harness = await startHarness();
    toClose = harness;
    const url = harness.url;
    await harness.server.close(0);
    const { error } = await runCli(['queue'], { adminUrl: url });
    expect(error).toBeInstanceOf(CliError);
    expect((error as CliError).exitCode).toBe(EXIT.unavailable);
    expect((error as CliError).message).toContain(`cannot reach the daemon at ${url}`);
  });

  it('prints helpful --help for each command', async () => {
    for (const [args, expected] of [
      [
        ['queue', '--help'],
        /Usage: gopherpost queue \[options\] \[command\][\s\S]*ls[\s\S]*shape[\s\S]*flush[\s\S]*retry <id>[\s\S]*rm\|delete <id>[\s\S]*SMTP_ADMIN_TOKEN/,
      ],
      [['queue', 'retry', '--help'], /Usage: gopherpost queue retry \[options\] <id>/],
      [['queue', 'ls', '--help'], /--limit <n>[\s\S]*--after <cursor>[\s\S]*--all/],
      [['queue', 'shape', '--help'], /qshape[\s\S]*--top <n>/],
      [['messages', 'ls', '--help'], /--limit <n>[\s\S]*--after <cursor>[\s\S]*--all/],
      [['messages', '--help'], /show <id>[\s\S]*--raw|ls[\s\S]*show/],
      [
        ['send', '--help'],
        /--server <host:port>[\s\S]*--to <address>[\s\S]*--starttls[\s\S]*--no-tls[\s\S]*--auth <user:password>[\s\S]*--insecure/,
      ],
    ] as const) {
      const { stdout, error } = await runCli(args);
      expect(isHelpExit(error), args.join(' ')).toBe(true);
      expect(stdout).toMatch(expected);
    }
  });
});

describe('adminUrlFor', () => {
  it.each([
    [undefined, undefined, 'http://127.0.0.1:8080'],
    [':8080', undefined, 'http://127.0.0.1:8080'],
    [':8080', '9090', 'http://127.0.0.1:9090'],
    ['0.0.0.0:81', undefined, 'http://127.0.0.1:81'],
    ['[::]:81', undefined, 'http://[::1]:81'],
    ['[::1]:81', undefined, 'http://[::1]:81'],
    ['10.1.2.3:8080', '', 'http://10.1.2.3:8080'],
    ['admin.example.test:8443', undefined, 'http://admin.example.test:8443'],
  ])('SMTP_HEALTH_ADDR=%s SMTP_HEALTH_PORT=%s → %s', (addr, port, expected) => {
    expect(adminUrlFor(addr, port)).toBe(expected);
  });

  it('rejects bad values with a usage error naming the variable', () => {
    expect(() => adminUrlFor('nope', undefined)).toThrow(/SMTP_HEALTH_ADDR/);
    expect(() => adminUrlFor(':8080', '99999')).toThrow(/SMTP_HEALTH_PORT/);
  });
});

describe('lazy admin URL', () => {
  it('is resolved only when an admin command runs', async () => {
    let calls = 0;
    const env = { adminUrl: () => (calls++, adminUrlFor('bad value', undefined)) };
    const help = await runCli(['queue', '--help'], env);
    expect(isHelpExit(help.error)).toBe(true);
    expect(calls).toBe(0);
    const run = await runCli(['queue'], env);
    expect(calls).toBe(1);
    expect((run.error as CliError).exitCode).toBe(EXIT.usage);
    expect((run.error as CliError).message).toMatch(/SMTP_HEALTH_ADDR="bad value"/);
  });
});
