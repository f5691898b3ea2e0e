import { Command } from 'commander';
import type { FlushResult, QueueList, RemoveResult, RetryResult } from '../../http/api-types.js';
import { addConnectionOptions, connect, type AdminEnv } from './connection.js';
import { formatTable, type CliIo } from './output.js';

function printJson(io: CliIo, value: unknown): void {
  io.out(JSON.stringify(value, null, 2) + '\n');
}

/** `gopherpost queue [ls|flush|retry ID|rm ID]` through a running daemon's admin API. */
export function queueCommand(env: AdminEnv, io: CliIo): Command {
  const queue = addConnectionOptions(
    new Command('queue').description('inspect and act on the delivery queue of a running daemon'),
    env,
  ).addHelpText(
    'after',
    '\nTalks to the admin API of a running daemon (SMTP_HEALTH_ADDR, SMTP_ADMIN_TOKEN).\n' +
      'Examples:\n  gopherpost queue ls\n  gopherpost queue retry 01hzx3k9v2q7m4d8c6b1\n  gopherpost queue flush',
  );

  queue
    .command('ls', { isDefault: true })
    .description('list recipients waiting for delivery (queued or deferred)')
    .action(async (_options: unknown, command: Command) => {
      const { client, json } = connect(command, env);
      const list = await client.json<QueueList>('GET', '/api/queue');
      if (json) return printJson(io, list);
      if (list.count === 0) return io.out('queue is empty\n');
      io.out(
        formatTable(
          ['ID', 'RECIPIENT', 'STATUS', 'ATTEMPTS', 'NEXT ATTEMPT', 'LAST RESPONSE'],
          list.recipients.map((e) => [e.id, e.recipient, e.status, String(e.attempts), e.nextAttemptAt, e.lastResponse ?? '']),
        ),
      );
      io.out(`${list.count} recipient${list.count === 1 ? '' : 's'} waiting\n`);
    });

  queue
    .command('flush')
    .description('make every deferred recipient due now')
    .action(async (_options: unknown, command: Command) => {
      const { client, json } = connect(command, env);
      const result = await client.json<FlushResult>('POST', '/api/queue/flush');
      if (json) return printJson(io, result);
      io.out(`${result.retried} recipient${result.retried === 1 ? '' : 's'} scheduled for immediate retry\n`);
    });

  queue
    .command('retry')
    .argument('<id>', 'message id (from `queue ls`)')
    .description("retry one message's waiting recipients now")
    .action(async (id: string, _options: unknown, command: Command) => {
      const { client, json } = connect(command, env);
      const result = await client.json<RetryResult>('POST', `/api/queue/${encodeURIComponent(id)}/retry`);
      if (json) return printJson(io, result);
      io.out(`${result.id}: ${result.retried} recipient${result.retried === 1 ? '' : 's'} scheduled for immediate retry\n`);
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

  return queue;
}
