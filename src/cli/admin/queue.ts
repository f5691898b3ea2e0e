import { Command } from 'commander';
import type {
  FlushResult,
  HoldResult,
  QueueList,
  QueueShapeView,
  RemoveResult,
  RetryResult,
} from '../../http/api-types.js';
import { addConnectionOptions, connect, type AdminEnv } from './connection.js';
import { plural, printJson, type CliIo } from './output.js';
import {
  addPagingOptions,
  nextPageHint,
  pageQuery,
  parseCount,
  parsePaging,
  printPages,
  type PagingFlags,
} from './paging.js';
import { formatShape } from './shape.js';

const QUEUE_HEADER = ['ID', 'RECIPIENT', 'STATUS', 'ATTEMPTS', 'NEXT ATTEMPT', 'LAST RESPONSE'];

/** `gopherpost queue [ls|shape|flush|retry ID|rm ID|hold DOMAIN|release DOMAIN]` through a daemon's admin API. */
export function queueCommand(env: AdminEnv, io: CliIo): Command {
  const queue = addConnectionOptions(
    new Command('queue').description('inspect and act on the delivery queue of a running daemon'),
    env,
  ).addHelpText(
    'after',
    '\nTalks to the admin API of a running daemon (SMTP_HEALTH_ADDR, SMTP_ADMIN_TOKEN).\n' +
      'Examples:\n  gopherpost queue ls --limit 50\n  gopherpost queue ls --all\n  gopherpost queue shape --top 10\n' +
      '  gopherpost queue retry 01hzx3k9v2q7m4d8c6b1\n  gopherpost queue flush\n' +
      '  gopherpost queue hold example.com\n  gopherpost queue release example.com',
  );
  addListCommand(queue, env, io);
  addShapeCommand(queue, env, io);
  addActionCommands(queue, env, io);
  addHoldCommands(queue, env, io);
  return queue;
}

/** `queue ls`: waiting recipients, a page of messages at a time. */
function addListCommand(queue: Command, env: AdminEnv, io: CliIo): void {
  addPagingOptions(
    queue
      .command('ls', { isDefault: true })
      .description(
        'list recipients waiting for delivery (queued or deferred), a page of messages at a time, oldest first',
      ),
    'messages',
  ).action(async (flags: PagingFlags, command: Command) => {
    const { client, json } = connect(command, env);
    const paging = parsePaging(flags);
    const { last, listed } = await printPages(
      io,
      { paging, json, header: QUEUE_HEADER },
      (after) => client.json<QueueList>('GET', `/api/queue${pageQuery(paging.limit, after)}`),
      (page) =>
        page.recipients.map((e) => [
          e.id,
          e.recipient,
          e.status,
          String(e.attempts),
          e.nextAttemptAt,
          e.lastResponse ?? '',
        ]),
    );
    if (json) return;
    if (last.depth === 0 && listed === 0) return io.out('queue is empty\n');
    if (listed === 0) io.out('no recipients on this page\n');
    io.out(`${plural(last.depth, 'recipient')} waiting in all\n`);
    if (last.next !== undefined && !paging.all) io.out(nextPageHint('queue ls', paging, last.next));
  });
}

/** `queue shape`: waiting recipients per destination by age. */
function addShapeCommand(queue: Command, env: AdminEnv, io: CliIo): void {
  queue
    .command('shape')
    .description('waiting recipients per destination domain by age in minutes, like Postfix qshape')
    .option('--top <n>', 'only the N domains with the most recipients waiting (the TOTAL row still counts all)')
    .action(async (options: { top?: string }, command: Command) => {
      const { client, json } = connect(command, env);
      const top = parseCount('--top', options.top);
      const shape = await client.json<QueueShapeView>(
        'GET',
        `/api/queue/shape${top === undefined ? '' : `?top=${top}`}`,
      );
      if (json) return printJson(io, shape);
      io.out(formatShape(shape));
    });
}

/** `queue flush`, `queue retry ID`, `queue rm ID`. */
function addActionCommands(queue: Command, env: AdminEnv, io: CliIo): void {
  queue
    .command('flush')
    .description('make every deferred recipient due now')
    .action(async (_options: unknown, command: Command) => {
      const { client, json } = connect(command, env);
      const result = await client.json<FlushResult>('POST', '/api/queue/flush');
      if (json) return printJson(io, result);
      io.out(`${plural(result.retried, 'recipient')} scheduled for immediate retry\n`);
    });

  queue
    .command('retry')
    .argument('<id>', 'message id (from `queue ls`)')
    .description("retry one message's waiting recipients now")
    .action(async (id: string, _options: unknown, command: Command) => {
      const { client, json } = connect(command, env);
      const result = await client.json<RetryResult>('POST', `/api/queue/${encodeURIComponent(id)}/retry`);
      if (json) return printJson(io, result);
      io.out(`${result.id}: ${plural(result.retried, 'recipient')} scheduled for immediate retry\n`);
    });

  queue
    .command('rm')
    .alias('delete')
    .argument('<id>', 'message id (from `queue ls`)')
    .description('delete a message and all its recipients from the spool (no bounce is sent)')
    .action(async (id: string, _options: unknown, command: Command) => {
      const { client, json } = connect(command, env);
      const result = await client.json<RemoveResult>('DELETE', `/api/queue/${encodeURIComponent(id)}`);
      if (json) return printJson(io, result);
      io.out(`${result.id}: removed\n`);
    });
}

/** `queue hold DOMAIN`, `queue release DOMAIN`: a destination's mail waits, or goes again. */
function addHoldCommands(queue: Command, env: AdminEnv, io: CliIo): void {
  for (const [name, method, description] of [
    ['hold', 'PUT', 'hold the mail to a destination domain in the queue until released (survives restarts)'],
    ['release', 'DELETE', 'release a held destination: its waiting mail is retried now'],
  ] as const) {
    queue
      .command(name)
      .argument('<domain>', 'destination domain (e.g. example.com)')
      .description(description)
      .action(async (domain: string, _options: unknown, command: Command) => {
        const { client, json } = connect(command, env);
        const path = `/api/destinations/${encodeURIComponent(domain)}/hold`;
        const result = await client.json<HoldResult>(method, path);
        if (json) return printJson(io, result);
        const state = result.held ? 'held' : 'released';
        io.out(`${result.domain}: ${result.changed ? state : `already ${state === 'held' ? 'held' : 'not held'}`}\n`);
      });
  }
}
